/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Translated code kept coherent with what the host writes into guest RAM. Unicorn 2.0.1 (QEMU's
 * TCG) drops a page's translation blocks only on a guest store through the softmmu (notdirty
 * path) or an explicit invalidation; a host-side change (a frame loaded into a GPA page, a zero
 * page mapped after MADV_DONTNEED, a UFFDIO_COPY, a freed frame poisoned, a guest_memfd folio
 * cleared) is neither, and the engine would keep running the old code. Blocks are keyed by the
 * guest pc and the RAM address (ram_addr_t) of the host page Unicorn maps there: tb_cmp(),
 * tb_gen_code() and tb_link_page() in qemu/accel/tcg/translate-all.c (read in
 * unicorn-engine/unicorn at 018385e6, a tree later than 2.0.1), get_page_addr_code_hostp() in
 * cputlb.c (qemu_ram_addr_from_host_nofail() of the TLB entry's host address; read at
 * 024cb28f). kvmsim maps one fixed host buffer per GPA page, so a page that gets another frame
 * keeps its key and its blocks; only the bytes matter.
 *
 * The public uc_ctl_remove_cache() (UC_CTL_TB_REMOVE_CACHE in uc.c, 2.0-era copies in the index)
 * goes through uc_invalidate_tb(), which translates the address with get_page_addr_code() under the
 * guest's CR3: a TLB fill (a walk that faults if the SPTE tree does not map the page, so the
 * caller would swap in an identity tree) that leaves an entry behind, so it would need a TLB
 * flush after it and could run only between runs. What uc_invalidate_tb() then calls,
 * tb_invalidate_phys_range() on the ram address qemu_ram_addr_from_host() gives for the host
 * page, touches neither the TLB nor the registers: sim_hw_content_changed() calls those two
 * directly (libunicorn exports them).
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#define _GNU_SOURCE /* RTLD_DEFAULT */

#include <dlfcn.h>

#include "sim/cpu/hw-internal.h"

/* qemu_ram_addr_from_host() (exec.c) and tb_invalidate_phys_range() (translate-all.c), both
 * taking the engine's struct uc_struct (= uc_engine) first in 2.0.1. */
static HwRamAddr (*hw_ram_addr_from_host)(uc_engine *uc, void *ptr);
static void (*hw_tb_invalidate_phys_range)(uc_engine *uc, HwRamAddr start, HwRamAddr end);

/* Looks the two functions up once; FALSE if this libunicorn does not export both. */
gboolean
hw_code_locate(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		*(gpointer *)&hw_ram_addr_from_host =
			dlsym(RTLD_DEFAULT, "qemu_ram_addr_from_host_x86_64");
		*(gpointer *)&hw_tb_invalidate_phys_range =
			dlsym(RTLD_DEFAULT, "tb_invalidate_phys_range_x86_64");
		g_once_init_leave(&done, 1);
	}
	return hw_ram_addr_from_host && hw_tb_invalidate_phys_range;
}

HwRamAddr
hw_ram_addr(SimHw *hw, void *host)
{
	return hw_code_locate() ? hw_ram_addr_from_host(hw->uc, host) : HW_RAM_ADDR_INVALID;
}

/* Drops the translation blocks and cached decodes of [gpa, gpa + size): no run, no TLB change. */
void
sim_hw_content_changed(SimHw *hw, guint64 gpa, guint64 size)
{
	guint64 start, end;

	g_return_if_fail(gpa + size <= SIM_HW_PHYS_LIMIT && hw_code_locate());
	for (start = gpa; start < gpa + size; start = end) {
		guint8 *host = hw_host_page(hw, start / HW_PAGE_SIZE);
		HwRamAddr ram;

		end = MIN((start & HW_PAGE_MASK) + HW_PAGE_SIZE, gpa + size);
		if (!host)
			continue;
		ram = hw_ram_addr_from_host(hw->uc, host + (start & ~HW_PAGE_MASK));
		if (ram != HW_RAM_ADDR_INVALID)
			hw_tb_invalidate_phys_range(hw->uc, ram, ram + (end - start));
	}
	hw_decode_forget(hw, gpa, size);
}

void
sim_hw_set_code_hook(SimHw *hw, SimHwCodeHook hook, gpointer data)
{
	hw->code_hook = hook;
	hw->code_hook_data = data;
}

void
sim_hw_set_forget_hook(SimHw *hw, SimHwForgetHook hook, gpointer data)
{
	hw->forget_hook = hook;
	hw->forget_hook_data = data;
}

/* Drops the blocks of every RAM page hw maps. */
static void
hw_code_release_all(SimHw *hw)
{
	for (guint i = 0; i < hw->maps->len; i++) {
		const HwMap *map = &g_array_index(hw->maps, HwMap, i);

		if (map->ram != HW_RAM_ADDR_INVALID)
			hw_tb_invalidate_phys_range(hw->uc, map->ram, map->ram + map->size);
	}
}

/* Drops the blocks of the stub's pages and of each run of pages in code_rams. */
static void
hw_code_release_noted(SimHw *hw)
{
	const HwMap *stub = hw_map_find(hw, HW_MAP_HOST, (guintptr)hw->stub, 1);
	guint64 first = 0, end = 0; /* the run of code pages [first, end) not dropped yet */

	if (stub && stub->ram != HW_RAM_ADDR_INVALID)
		hw_tb_invalidate_phys_range(hw->uc, stub->ram, stub->ram + stub->size);
	for (guint64 w = 0; w < hw->code_ram_pages / 64; w++) {
		for (guint64 bits = hw->code_rams[w]; bits; bits &= bits - 1) {
			guint64 page = w * 64 + (guint64)__builtin_ctzll(bits);

			if (page != end && end)
				hw_tb_invalidate_phys_range(hw->uc, first * HW_PAGE_SIZE,
							    end * HW_PAGE_SIZE);
			if (page != end)
				first = page;
			end = page + 1;
		}
	}
	if (end)
		hw_tb_invalidate_phys_range(hw->uc, first * HW_PAGE_SIZE, end * HW_PAGE_SIZE);
}

/*
 * Frees the code bitmaps uc_close() would leak, before it. On a page that holds blocks, 2.0.1
 * counts slow-path stores that miss them and from the 10th keeps a bitmap of the page's code
 * (tb_invalidate_phys_page_fast(), build_page_bitmap(), SMC_BITMAP_USE_THRESHOLD); only
 * invalidate_page_bitmap() frees it, when a block joins or leaves the page or none is left (so a
 * store to a page without blocks resets the count), and uc_close()'s tb_cleanup() frees the
 * PageDescs without it (translate-all.c read in unicorn-engine/unicorn at 018385e6, a tree later
 * than 2.0.1; 2.0.1's libunicorn.so.2, disassembled, does the same; upstream issue #2149, open).
 * tb_invalidate_phys_range() of whole pages drops their blocks, then their bitmaps, on the pages
 * blocks can be in: with the store fast path enabled, whose caller passes every block to
 * sim_hw_block(), the code_rams pages and the stub's (no hook sees its blocks; a block translated
 * as a stop was asked for and never run is not noted, nor is its page on the slow path); without,
 * every page hw maps. Not uc_ctl_flush_tlb() (UC_CTL_TB_FLUSH, tb_flush()): 2.0.1's
 * tcg_region_reset_all() clears the 1 GiB code buffer, ~2 * 10^9 instructions and 1 GiB resident
 * per engine.
 */
void
hw_code_release(SimHw *hw)
{
	if (!hw_code_locate())
		return;
	if (hw->store_fast)
		hw_code_release_noted(hw);
	else
		hw_code_release_all(hw);
}
