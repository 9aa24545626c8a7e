/* SPDX-License-Identifier: GPL-2.0-only */
/* A pre-order walk over a TDP page table (models arch/x86/kvm/mmu/tdp_iter.c). */
#include "mmu/mmu-internal.h"

static int
spte_index(gfn_t gfn, int level)
{
	return (int)((gfn >> ((level - 1) * SPTE_LEVEL_BITS)) & (SPTE_ENT_PER_PAGE - 1));
}

static gfn_t
round_gfn_for_level(gfn_t gfn, int level)
{
	return gfn & ~(KVM_PAGES_PER_HPAGE(level) - 1);
}

static void
tdp_iter_refresh_sptep(struct tdp_iter *iter)
{
	iter->sptep = iter->pt_path[iter->level - 1] + spte_index(iter->gfn, iter->level);
	iter->old_spte = *iter->sptep;
}

/* The child table an SPTE points at, or NULL for a non-present or leaf SPTE. */
static u64 *
spte_to_child_pt(const SimPtPool *pool, u64 spte, int level)
{
	if (!is_shadow_present_pte(spte) || is_last_spte(spte, level))
		return NULL;
	return sim_ptpool_va(pool, spte & SPTE_BASE_ADDR_MASK);
}

/* Models tdp_iter_start(). */
void
tdp_iter_start(struct tdp_iter *iter, const SimPtPool *pool, struct kvm_mmu_page *root,
	       int min_level, gfn_t next_last_level_gfn)
{
	iter->pool = pool;
	iter->next_last_level_gfn = next_last_level_gfn;
	iter->root_level = root->level;
	iter->min_level = min_level;
	iter->pt_path[iter->root_level - 1] = root->spt;
	iter->level = iter->root_level;
	iter->gfn = round_gfn_for_level(next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	iter->valid = TRUE;
}

/* Models tdp_iter_restart(). */
void
tdp_iter_restart(struct tdp_iter *iter)
{
	iter->level = iter->root_level;
	iter->gfn = round_gfn_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	iter->valid = TRUE;
}

/* Models try_step_down(): re-read the SPTE, since it may have changed under the walk. */
static gboolean
try_step_down(struct tdp_iter *iter)
{
	if (iter->level == iter->min_level)
		return FALSE;
	iter->old_spte = *iter->sptep;
	u64 *child = spte_to_child_pt(iter->pool, iter->old_spte, iter->level);

	if (!child)
		return FALSE;
	iter->level--;
	iter->pt_path[iter->level - 1] = child;
	iter->gfn = round_gfn_for_level(iter->next_last_level_gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return TRUE;
}

/* Models try_step_side(). */
static gboolean
try_step_side(struct tdp_iter *iter)
{
	if (spte_index(iter->gfn, iter->level) == SPTE_ENT_PER_PAGE - 1)
		return FALSE;
	iter->gfn += KVM_PAGES_PER_HPAGE(iter->level);
	iter->next_last_level_gfn = iter->gfn;
	iter->sptep++;
	iter->old_spte = *iter->sptep;
	return TRUE;
}

/* Models try_step_up(). */
static gboolean
try_step_up(struct tdp_iter *iter)
{
	if (iter->level == iter->root_level)
		return FALSE;
	iter->level++;
	iter->gfn = round_gfn_for_level(iter->gfn, iter->level);
	tdp_iter_refresh_sptep(iter);
	return TRUE;
}

/* Models tdp_iter_next(): down if possible, else sideways, else up and sideways. */
void
tdp_iter_next(struct tdp_iter *iter)
{
	if (try_step_down(iter))
		return;
	do {
		if (try_step_side(iter))
			return;
	} while (try_step_up(iter));
	iter->valid = FALSE;
}
