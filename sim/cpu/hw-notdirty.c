/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The store fast path for pages without code (Unicorn 2.0.1 issue #1970: every guest store takes
 * the softmmu slow path and looks up the page's translation blocks). The invariant: no TLB entry
 * of any engine without TLB_NOTDIRTY maps a host page that any engine holds (or will create,
 * while the entry lives) a translation block from, so every store to code takes the slow path,
 * where libunicorn drops the storing engine's blocks and hw-xmod.c the other engines'. Every fill
 * is settled as it is made (tlb_set_page_with_attrs_x86_64() below). What it relies on, each
 * with its test:
 *  - a block's hook runs before any of its guest code and before any store made after its
 *    translation: 2.0.1's translator_loop() emits the UC_HOOK_BLOCK call ahead of gen_tb_start(),
 *    helper_uc_tracecode() skips it only once a stop is requested (then cpu_exec() translates
 *    nothing more) or for a block of size 0 (one whose first instruction cannot be decoded: it
 *    runs no guest code) (translator.c read in unicorn-engine/unicorn at 22a153ca, whose
 *    hooked_regions_check() 2.0.1's library has; helper_uc_tracecode() in uc.c at fbf34af8, a
 *    later tree: both skips are in every version found; test-hw checks the behaviour);
 *  - QEMU keys blocks by guest pc and the RAM address of the host page mapped there (hw-code.c),
 *    and kvmsim maps one fixed host buffer per gpa page (a new frame's bytes are copied in), so
 *    the code set is sticky, per engine by gpa and VM-wide by host page: a page that gets a new
 *    frame keeps the flag; an engine's pages leave the VM-wide set with the last engine that
 *    maps them (hw_code_hosts_forget());
 *  - libunicorn fills TLB entries only through tlb_set_page_with_attrs_x86_64 (its PLT: two
 *    calls in 2.0.1's libunicorn.so.2, from x86_cpu_tlb_fill() and tlb_set_page());
 *  - not the alias refusal: a host page mapped at two gpas would break 2.0.1's own invalidation
 *    too (blocks are keyed by RAM block offset), fast path or not; sim_hw_map() refuses such an
 *    alias, and kvmsim never asks for one (engines map hostmem's RAM windows, never memslots);
 *  - tlb_set_dirty() only clears entries that are exactly page | TLB_NOTDIRTY.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#define _GNU_SOURCE /* RTLD_DEFAULT */

#include <dlfcn.h>

#include "sim/cpu/hw-internal.h"

/*
 * QEMU's tlb_set_dirty() (qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at 024cb28f):
 * clears TLB_NOTDIRTY from the page's write entry in every mmu_idx and the victim TLB, when it is
 * exactly the page with that one flag. notdirty_write() never calls it in 2.0.1, where
 * cpu_physical_memory_is_clean() is always true (cpu_physical_memory_get_dirty() returns false
 * in qemu/include/exec/ram_addr.h of 2.0.1's tree, the 2.0.1.post1 tag read for
 * shared/reference/unicorn-2.0.1.md): every store to RAM takes the slow path and
 * looks up the page's translation blocks (page_collection_lock(), tb_invalidate_phys_page_fast()).
 */
static void (*hw_tlb_set_dirty)(gpointer cpu, guint64 vaddr);

/*
 * QEMU's tlb_reset_dirty() (qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at
 * 024cb28f): sets TLB_NOTDIRTY again on every write entry, in every mmu_idx and the victim TLB,
 * whose host page lies in [start, start + length), and keeps the entries. This is what
 * upstream's tlb_protect_code() reaches through cpu_physical_memory_test_and_clear_dirty();
 * keyed by host address, it also reaches any other guest address that maps the same host page.
 */
static void (*hw_tlb_reset_dirty)(gpointer cpu, guint64 start, guint64 length);

/*
 * Every live engine of the process (engines run one at a time, on one thread), and the host pages
 * (address / 4096) any of them ever ran a block from: the code set is VM-wide (the union over
 * engines; by host page, as the engines of one VM share guest RAM), because a store through one
 * engine must reach every engine's blocks (hw-xmod.c). Emptied with the last engine.
 */
GPtrArray *hw_engines;
GHashTable *hw_code_hosts;

static gboolean hw_tlb_set_page_locate(void);
/* The engine of each QEMU CPU a fill was settled on, by a hash of the CPU's address, tried first:
 * vCPUs switch inside their runs (in hooks), so the engine of the last fill is often not this
 * one's, and searching the engines for each fill cost ~230 Ir a fault at 64 vCPUs. A slot two CPUs
 * share costs a search. */
#define HW_FILL_CACHE_SIZE 1024
static SimHw *hw_fill_cache[HW_FILL_CACHE_SIZE];
/* The CPU of the last fill no engine owns (bench's own engines): its fills skip the search. */
static gpointer hw_fill_miss;

/* cpu's slot in hw_fill_cache. */
static inline SimHw **
hw_fill_slot(gpointer cpu)
{
	/* Fibonacci hashing: the top 10 bits of the address times 2^64 / phi */
	return &hw_fill_cache[((guint64)(guintptr)cpu * 0x9e3779b97f4a7c15ull) >> 54];
}

/* Looks up the two QEMU functions the fast path calls; without both it stays off. So does it
 * with KVMSIM_STORE_FAST_PATH=0 in the environment (read once, for tests of the slow path). */
void
hw_notdirty_locate(void)
{
	if (g_strcmp0(g_getenv("KVMSIM_STORE_FAST_PATH"), "0") == 0)
		return;
	*(gpointer *)&hw_tlb_set_dirty = dlsym(RTLD_DEFAULT, "tlb_set_dirty_x86_64");
	*(gpointer *)&hw_tlb_reset_dirty = dlsym(RTLD_DEFAULT, "tlb_reset_dirty_x86_64");
	if (!hw_tlb_reset_dirty || !hw_tlb_set_page_locate())
		hw_tlb_set_dirty = NULL; /* no way to protect a page again, or to settle one */
}

/* Whether stores to pages without code skip the slow path (for tests). */
gboolean
sim_hw_store_fast_path(SimHw *hw)
{
	return hw->store_fast && hw->cpu && hw_tlb_set_dirty;
}

void
hw_engine_add(SimHw *hw)
{
	if (!hw_engines) {
		hw_engines = g_ptr_array_new();
		hw_code_hosts = g_hash_table_new(g_direct_hash, g_direct_equal);
	}
	g_ptr_array_add(hw_engines, hw);
	hw_fill_miss = NULL; /* a CPU cached as no engine's may be this one's */
	hw_xmod_added();
}

/* Whether any engine maps the host page holding host. */
static gboolean
hw_host_mapped(const guint8 *host)
{
	for (guint i = 0; i < hw_engines->len; i++)
		if (hw_map_find(g_ptr_array_index(hw_engines, i), HW_MAP_HOST, (guintptr)host, 1))
			return TRUE;
	return FALSE;
}

/* The engine's code pages leave hw_code_hosts unless another engine maps them (which keeps them
 * sticky for its VM): host memory a later machine gets at the same address is data to it. */
static void
hw_code_hosts_forget(SimHw *hw)
{
	GHashTableIter iter;
	gpointer pfn;

	g_hash_table_iter_init(&iter, hw->code_pages);
	while (g_hash_table_iter_next(&iter, &pfn, NULL)) {
		guint8 *host = hw_host_page(hw, GPOINTER_TO_SIZE(pfn));

		if (host && !hw_host_mapped(host))
			g_hash_table_remove(hw_code_hosts,
					    GSIZE_TO_POINTER((guintptr)host / HW_PAGE_SIZE));
	}
}

void
hw_engine_remove(SimHw *hw)
{
	g_ptr_array_remove(hw_engines, hw);
	hw_code_hosts_forget(hw);
	hw_xmod_forget(hw);
	if (hw->cpu && *hw_fill_slot(hw->cpu) == hw)
		*hw_fill_slot(hw->cpu) = NULL; /* an engine is cached only in its CPU's slot */
	if (hw_engines->len == 0) {
		g_clear_pointer(&hw_engines, g_ptr_array_unref);
		g_clear_pointer(&hw_code_hosts, g_hash_table_unref);
	}
}

/* Whether some engine ran a block from the host page holding host. */
gboolean
hw_code_host(const guint8 *host)
{
	return g_hash_table_contains(hw_code_hosts, GSIZE_TO_POINTER((guintptr)host / HW_PAGE_SIZE));
}

/* The host page Unicorn maps at the guest page pfn, or NULL. */
guint8 *
hw_host_page(SimHw *hw, guint64 pfn)
{
	guint64 gpa = pfn * HW_PAGE_SIZE;
	const HwMap *map = hw_map_find(hw, HW_MAP_GPA, gpa, 1);

	return map ? map->host + (gpa - map->gpa) : NULL;
}

/*
 * Store fast path for pages without code. 2.0.1's tlb_protect_code() is a no-op
 * (cpu_physical_memory_test_and_clear_dirty() in qemu/exec.c returns at once, same tree), so
 * self-modifying code is caught only because every writable RAM entry is filled with
 * TLB_NOTDIRTY. hw keeps that guarantee, on every engine, for every page a block ever ran from
 * on any engine (hw->code_pages per engine and hw_code_hosts for all, sticky, filled as blocks
 * are decoded in the block hook, before the block's first store; a block of size 0 runs
 * nothing); an entry for any other page may lose the flag. A page becoming code gets the flag
 * back on every engine's entries (tlb_reset_dirty(), by host page), which stay cached: only a TLB
 * flush may drop a translation (DESIGN.md §3). Stores that keep taking the slow path are then
 * seen by hw-xmod.c, whichever engine made them.
 */
void
hw_note_code(SimHw *hw, guint64 addr, guint32 size)
{
	/* size covers the block's last instruction, to its last byte */
	guint64 last = (addr + MAX(size, 1) - 1) / HW_PAGE_SIZE;

	for (guint64 pfn = addr / HW_PAGE_SIZE; pfn <= last; pfn++) {
		guint8 *host;

		if (!g_hash_table_add(hw->code_pages, GSIZE_TO_POINTER(pfn)))
			continue;
		if (hw->code_hook)
			hw->code_hook(hw->code_hook_data, pfn * HW_PAGE_SIZE);
		host = hw_host_page(hw, pfn);
		if (!host || !g_hash_table_add(hw_code_hosts,
					       GSIZE_TO_POINTER((guintptr)host / HW_PAGE_SIZE)))
			continue;
		hw_xmod_code_host(host);
		for (guint i = 0; i < hw_engines->len && hw_tlb_set_dirty; i++) {
			SimHw *engine = g_ptr_array_index(hw_engines, i);

			if (engine->cpu)
				hw_tlb_reset_dirty(engine->cpu, (guintptr)host, HW_PAGE_SIZE);
		}
	}
}

/*
 * QEMU's tlb_set_page_with_attrs() (qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at
 * 024cb28f: cpu, vaddr, paddr, MemTxAttrs (4 bytes, passed as an integer), prot, mmu_idx, size)
 * fills one TLB entry; every writable RAM entry gets TLB_NOTDIRTY. libunicorn calls it through
 * its PLT from x86_cpu_tlb_fill(), so the definition below, in the executable, takes its place
 * (as hw.c's gettimeofday() does) and settles every fill: after libunicorn's own, a writable
 * entry of an engine with the fast path loses TLB_NOTDIRTY unless some engine ran a block from
 * its page. A fill that is not called through here (the definition not in the executable's
 * dynamic symbol table) leaves the flag on: the fast path is then off (hw_notdirty_locate()).
 */
typedef void (*HwTlbSetPage)(gpointer cpu, guint64 vaddr, guint64 paddr, guint32 attrs, int prot,
			     int mmu_idx, guint64 size);
#define HW_TLB_SET_PAGE "tlb_set_page_with_attrs_x86_64"
#define HW_QEMU_PAGE_WRITE 0x2 /* PAGE_WRITE */

void tlb_set_page_with_attrs_x86_64(gpointer cpu, guint64 vaddr, guint64 paddr, guint32 attrs,
				    int prot, int mmu_idx, guint64 size);

static HwTlbSetPage hw_tlb_set_page; /* libunicorn's own */

/* Whether libunicorn's fills come here, with libunicorn's own found to forward to. */
static gboolean
hw_tlb_set_page_locate(void)
{
	if (!hw_tlb_set_page)
		*(gpointer *)&hw_tlb_set_page = dlsym(RTLD_NEXT, HW_TLB_SET_PAGE);
	return hw_tlb_set_page &&
	       dlsym(RTLD_DEFAULT, HW_TLB_SET_PAGE) == (gpointer)tlb_set_page_with_attrs_x86_64;
}

/* A writable entry for vaddr was filled on cpu: it may skip the slow path (see above). */
static void
hw_settle(gpointer cpu, guint64 vaddr)
{
	SimHw **slot = hw_fill_slot(cpu), *hw = *slot;
	guint8 *host;

	if (!hw || hw->cpu != cpu) {
		if (cpu == hw_fill_miss)
			return;
		hw = NULL;
		for (guint i = 0; hw_engines && i < hw_engines->len && !hw; i++)
			if (((SimHw *)g_ptr_array_index(hw_engines, i))->cpu == cpu)
				hw = g_ptr_array_index(hw_engines, i);
		if (!hw) {
			hw_fill_miss = cpu;
			return;
		}
		*slot = hw;
	}
	if (!hw->store_fast || vaddr >= SIM_HW_TABLE_GPA)
		return;
	/* 2.0.1 maps the linear address as the physical one: vaddr is the gpa */
	host = hw_host_page(hw, vaddr / HW_PAGE_SIZE);
	if (host && !hw_code_host(host))
		hw_tlb_set_dirty(cpu, vaddr & HW_PAGE_MASK);
}

void
tlb_set_page_with_attrs_x86_64(gpointer cpu, guint64 vaddr, guint64 paddr, guint32 attrs,
			       int prot, int mmu_idx, guint64 size)
{
	if (G_UNLIKELY(!hw_tlb_set_page) && !hw_tlb_set_page_locate() && !hw_tlb_set_page)
		g_error("no " HW_TLB_SET_PAGE " after kvmsim's");
	hw_tlb_set_page(cpu, vaddr, paddr, attrs, prot, mmu_idx, size);
	if ((prot & HW_QEMU_PAGE_WRITE) && hw_tlb_set_dirty)
		hw_settle(cpu, vaddr);
}

/* Turns the fast path on for the engine: the caller's block hook calls sim_hw_block() for every
 * block (hw.h). */
void
sim_hw_store_fast_path_enable(SimHw *hw)
{
	hw->store_fast = TRUE;
}
