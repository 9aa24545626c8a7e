/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cross-modifying code between engines. Each vCPU has its own engine, with its own translation
 * blocks, over the same host memory; a guest store drops only the storing engine's blocks (2.0.1's
 * notdirty_write() in qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at 024cb28f, calls
 * tb_invalidate_phys_page_fast() with the engine's own struct uc_struct and RAM address). Without
 * more, a vCPU would keep running code another vCPU rewrote, which x86 forbids: the executing CPU
 * sees the new bytes by its next serializing event at the latest. hw drops them at the store,
 * which is simplest and deterministic (engines run one at a time); an engine stopped inside a
 * block it loses (a vCPU in a port-I/O exit) leaves that block when it resumes (vcpu-exit.c).
 *
 * libunicorn calls tb_invalidate_phys_page_fast_x86_64 through its PLT (every store that takes
 * the slow path, i.e. to a page with TLB_NOTDIRTY set: every RAM page without the store fast
 * path, and every page some engine ran code from with it, hw-notdirty.c), so the definition
 * below, in the executable, takes its place (as hw.c's gettimeofday() does): it drops the stored
 * bytes' blocks and decodes on every other engine that ever ran code from the page, then calls
 * libunicorn's own, which may not return (a store into the block running longjmps out). Its
 * signature is translate-all.c's at 024cb28f: (uc, pages, ram_addr, len, retaddr), len the
 * store's size (16 for cmpxchg16b) or the size probe_access() was asked for.
 *
 * If the definition does not take the place of libunicorn's (not in the executable's dynamic
 * symbol table, or no next definition to forward to), nothing would see those stores, nor drop
 * the storing engine's own decodes of a block it rewrote: no engine is made then
 * (hw_new_unchecked() fails loudly) rather than run or charge stale code.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#define _GNU_SOURCE /* RTLD_NEXT, RTLD_DEFAULT */

#include <dlfcn.h>

#include "sim/cpu/hw-internal.h"

#define HW_PAGE_FAST "tb_invalidate_phys_page_fast_x86_64"

typedef void (*HwPageFast)(gpointer uc, gpointer pages, HwRamAddr start, int len,
			   guintptr retaddr);

void tb_invalidate_phys_page_fast_x86_64(gpointer uc, gpointer pages, HwRamAddr start, int len,
					 guintptr retaddr);

guint64 hw_slow_stores;         /* stores seen, for tests */
static HwPageFast hw_page_fast; /* libunicorn's own */
gboolean hw_xmod_on;            /* this file's definition is the one libunicorn calls */

/* The engine of the last store seen, tried first, and its code_rams as they were then: most
 * stores never reach a page any engine ran code from, and cost a bit test. hw_last_uc is the uc
 * of that store, hw_last_store NULL if it is no engine's (bench's own engines): its stores then
 * skip the search. */
static SimHw *hw_last_store;
static gpointer hw_last_uc;
static const guint64 *hw_last_code_rams;
static guint64 hw_last_code_ram_pages;

/* Forgets the cached engine (it was freed, or its code_rams moved). */
static void
hw_last_store_reset(void)
{
	hw_last_store = NULL;
	hw_last_uc = NULL;
	hw_last_code_rams = NULL;
	hw_last_code_ram_pages = 0;
}

/* Finds libunicorn's definition and checks that libunicorn calls this one; once. */
gboolean
hw_xmod_locate(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		*(gpointer *)&hw_page_fast = dlsym(RTLD_NEXT, HW_PAGE_FAST);
		hw_xmod_on = hw_page_fast && hw_code_locate() &&
			     dlsym(RTLD_DEFAULT, HW_PAGE_FAST) ==
				     (gpointer)tb_invalidate_phys_page_fast_x86_64;
		g_once_init_leave(&done, 1);
	}
	return hw_xmod_on;
}

/* Flags the engine's RAM page holding host, if the engine maps it. */
static void
hw_ram_mark(SimHw *hw, const guint8 *host)
{
	const HwMap *map = hw_map_find(hw, HW_MAP_HOST, (guintptr)host, 1);
	guint64 page;

	if (!map || map->ram == HW_RAM_ADDR_INVALID)
		return;
	page = (map->ram + (guint64)(host - map->host)) / HW_PAGE_SIZE;
	if (page < hw->code_ram_pages)
		hw->code_rams[page / 64] |= G_GUINT64_CONSTANT(1) << (page % 64);
}

/* The bitmap covers the new map's RAM addresses, with its pages that are code already. */
void
hw_xmod_mapped(SimHw *hw, const HwMap *map)
{
	guint64 pages = (map->ram + map->size) / HW_PAGE_SIZE;
	gsize words = (pages + 64 - 1) / 64;
	gsize had = (hw->code_ram_pages + 64 - 1) / 64;
	GHashTableIter iter;
	gpointer key;

	if (map->ram == HW_RAM_ADDR_INVALID)
		return;
	hw_last_store_reset();
	if (words > had) {
		hw->code_rams = g_renew(guint64, hw->code_rams, words);
		memset(hw->code_rams + had, 0, (words - had) * sizeof(guint64));
	}
	hw->code_ram_pages = MAX(hw->code_ram_pages, words * 64);
	g_hash_table_iter_init(&iter, hw_code_hosts);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const guint8 *host = (const guint8 *)(GPOINTER_TO_SIZE(key) * HW_PAGE_SIZE);

		if ((guintptr)(host - map->host) < map->size)
			hw_ram_mark(hw, host);
	}
}

/* A host page joined hw_code_hosts: every engine that maps it flags its RAM page. */
void
hw_xmod_code_host(const guint8 *host)
{
	for (guint i = 0; i < hw_engines->len; i++)
		hw_ram_mark(g_ptr_array_index(hw_engines, i), host);
}

/* The host address of the engine's RAM address ram, or NULL. */
static guint8 *
hw_ram_host(SimHw *hw, HwRamAddr ram)
{
	const HwMap *map = hw_map_find(hw, HW_MAP_RAM, ram, 1);

	return map ? map->host + (ram - map->ram) : NULL;
}

/* The gpa at which the engine maps host, or HW_NO_ADDR. */
static guint64
hw_host_gpa(SimHw *hw, const guint8 *host)
{
	const HwMap *map = hw_map_find(hw, HW_MAP_HOST, (guintptr)host, 1);

	return map ? map->gpa + (guint64)(host - map->host) : HW_NO_ADDR;
}

/* Whether the cached engine's RAM page is in hw_code_hosts. */
static inline gboolean
hw_last_code_ram(HwRamAddr start)
{
	guint64 page = start / HW_PAGE_SIZE;

	return page < hw_last_code_ram_pages &&
	       (hw_last_code_rams[page / 64] & (G_GUINT64_CONSTANT(1) << (page % 64)));
}

/* The engine uc stores len bytes at its RAM address start: every engine that ran code from the
 * page loses the blocks and decodes of those bytes (the storing one only its decodes: its blocks
 * are libunicorn's to drop, next). */
static void
hw_xmod_store(gpointer uc, HwRamAddr start, int len)
{
	SimHw *hw = hw_last_store;
	guint8 *host;

	if (!hw || hw->uc != uc) {
		hw = NULL;
		for (guint i = 0; hw_engines && i < hw_engines->len && !hw; i++)
			if (((SimHw *)g_ptr_array_index(hw_engines, i))->uc == uc)
				hw = g_ptr_array_index(hw_engines, i);
		hw_last_store = hw;
		hw_last_uc = uc;
		hw_last_code_rams = hw ? hw->code_rams : NULL;
		hw_last_code_ram_pages = hw ? hw->code_ram_pages : 0;
		if (!hw)
			return;
	}
	if (!hw_last_code_ram(start))
		return;
	host = hw_ram_host(hw, start);
	if (!host)
		return;
	for (guint i = 0; i < hw_engines->len; i++) {
		SimHw *engine = g_ptr_array_index(hw_engines, i);
		guint64 gpa = hw_host_gpa(engine, host);

		if (gpa == HW_NO_ADDR ||
		    !g_hash_table_contains(engine->code_pages, GSIZE_TO_POINTER(gpa / HW_PAGE_SIZE)))
			continue;
		if (engine == hw)
			hw_decode_forget(engine, gpa, (guint64)len);
		else
			sim_hw_content_changed(engine, gpa, (guint64)len);
	}
}

/* A store to a page some engine ran code from, by an engine other than the last, or the first. */
G_GNUC_NO_INLINE static void
hw_xmod_store_slow(gpointer uc, gpointer pages, HwRamAddr start, int len, guintptr retaddr)
{
	if (!hw_page_fast && !hw_xmod_locate() && !hw_page_fast)
		g_error("no " HW_PAGE_FAST " after kvmsim's");
	hw_xmod_store(uc, start, len);
	hw_page_fast(uc, pages, start, len, retaddr);
}

/* What libunicorn calls for a store that takes the slow path (see the top of the file); the
 * common case, a store by the last engine to a page without code, is a bit test. */
void
tb_invalidate_phys_page_fast_x86_64(gpointer uc, gpointer pages, HwRamAddr start, int len,
				    guintptr retaddr)
{
	hw_slow_stores++;
	if (G_LIKELY(uc == hw_last_uc && !hw_last_code_ram(start)))
		hw_page_fast(uc, pages, start, len, retaddr);
	else
		hw_xmod_store_slow(uc, pages, start, len, retaddr);
}

/* An engine freed: the next store looks its engine up again. */
void
hw_xmod_forget(SimHw *hw)
{
	if (hw_last_store == hw)
		hw_last_store_reset();
}

/* An engine created: a uc cached as no engine's may be its. */
void
hw_xmod_added(void)
{
	hw_last_store_reset();
}
