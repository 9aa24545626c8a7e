/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host pages for second-level page tables. They live in one region of host memory at a fixed
 * host-physical address, which the CPU emulator maps at that same address so its page walker reads
 * the very tables the MMU model writes (DESIGN.md §3). Addresses are stable and deterministic.
 */
#ifndef KVMSIM_SIM_CORE_PTPOOL_H
#define KVMSIM_SIM_CORE_PTPOOL_H

#include <glib.h>

#include "sim/core/hostmem.h"

/* Host-physical base of the table region (below the emulator's physical-address limit). */
#define SIM_PT_BASE 0x1000000000ull

typedef struct SimPtPool SimPtPool;

/* The public head of SimPtPool: lets sim_ptpool_va(), which the table walks call at every level,
 * be inline. */
typedef struct {
	guint nr_pages;
	guint8 *region;
} SimPtPoolHead;

SimPtPool *sim_ptpool_new(guint nr_pages, GError **error);
void sim_ptpool_free(SimPtPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimPtPool, sim_ptpool_free)

/* A table page (content undefined), its physical address in *out_pa; NULL when exhausted. */
guint64 *sim_ptpool_alloc(SimPtPool *pool, guint64 *out_pa);
void sim_ptpool_release(SimPtPool *pool, guint64 pa);
/* Host pointer of the table at physical address pa, or NULL if pa is not a table page. */
static inline guint64 *
sim_ptpool_va(const SimPtPool *pool, guint64 pa)
{
	const SimPtPoolHead *head = (const SimPtPoolHead *)pool;

	if (pa < SIM_PT_BASE || (pa - SIM_PT_BASE) / SIM_PAGE_SIZE >= head->nr_pages)
		return NULL;
	return (guint64 *)(head->region + ((pa - SIM_PT_BASE) & ~(guint64)(SIM_PAGE_SIZE - 1)));
}
guint64 sim_ptpool_pa(const SimPtPool *pool, const void *va);
/* Per-page owner pointer (struct kvm_mmu_page for the MMU). */
void sim_ptpool_set_owner(SimPtPool *pool, guint64 pa, gpointer owner);
gpointer sim_ptpool_owner(const SimPtPool *pool, guint64 pa);
guint sim_ptpool_in_use(const SimPtPool *pool);
/* The whole region, for mapping into the emulator. */
guint8 *sim_ptpool_region(const SimPtPool *pool, guint64 *out_pa, guint64 *out_size);

#endif
