/* SPDX-License-Identifier: GPL-2.0-only */
/* The TDP MMU: map, link, zap and age SPTEs (models arch/x86/kvm/mmu/tdp_mmu.c). */
#include "mmu/mmu-internal.h"

#include <errno.h>

struct kvm_mmu_page *
sptep_to_sp(const struct kvm *kvm, u64 *sptep)
{
	return sim_ptpool_owner(kvm->pt_pool, sim_ptpool_pa(kvm->pt_pool, sptep));
}

/* Host-physical address of an SPTE, as tracepoints print sptep. */
u64
sptep_pa(const struct kvm *kvm, u64 *sptep)
{
	return sim_ptpool_pa(kvm->pt_pool, sptep) + ((guintptr)sptep & (PAGE_SIZE - 1));
}

/* Models kvm_mmu_topup_memory_cache() with the shadow-page cache's init value. */
int
mmu_topup_memory_caches(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->mmu_shadow_page_cache;

	if (mc->nobjs >= PT64_ROOT_4LEVEL + 1)
		return 0;
	while (mc->nobjs < KVM_ARCH_NR_OBJS_PER_MEMORY_CACHE) {
		u64 pa;
		u64 *page = sim_ptpool_alloc(vcpu->kvm->pt_pool, &pa);

		if (!page)
			return mc->nobjs >= PT64_ROOT_4LEVEL + 1 ? 0 : -ENOMEM;
		for (int i = 0; i < SPTE_ENT_PER_PAGE; i++)
			page[i] = SHADOW_NONPRESENT_VALUE;
		mc->pa[mc->nobjs++] = pa;
	}
	return 0;
}

void
kvm_mmu_free_memory_cache(struct kvm *kvm, struct kvm_mmu_memory_cache *mc)
{
	while (mc->nobjs)
		sim_ptpool_release(kvm->pt_pool, mc->pa[--mc->nobjs]);
}

/* Models tdp_mmu_alloc_sp(): a table page from the vCPU's cache, never allocated under lock. */
static struct kvm_mmu_page *
tdp_mmu_alloc_sp(struct kvm_vcpu *vcpu)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->mmu_shadow_page_cache;
	struct kvm_mmu_page *sp = g_new0(struct kvm_mmu_page, 1);

	g_assert(mc->nobjs > 0);
	sp->spt_pa = mc->pa[--mc->nobjs];
	sp->spt = sim_ptpool_va(vcpu->kvm->pt_pool, sp->spt_pa);
	sim_ptpool_set_owner(vcpu->kvm->pt_pool, sp->spt_pa, sp);
	return sp;
}

/* Models tdp_mmu_free_sp(); the table page goes back to the pool. */
static void
tdp_mmu_free_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	sim_ptpool_release(kvm->pt_pool, sp->spt_pa);
	g_free(sp);
}

/* An SP that lost its link race goes back to the vCPU's cache, still all non-present. */
static void
tdp_mmu_return_sp(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->mmu_shadow_page_cache;

	sim_ptpool_set_owner(vcpu->kvm->pt_pool, sp->spt_pa, NULL);
	mc->pa[mc->nobjs++] = sp->spt_pa;
	g_free(sp);
}

/* Models kvm_tdp_mmu_alloc_root() (one direct root, shared by every vCPU). */
struct kvm_mmu_page *
kvm_tdp_mmu_alloc_root(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (kvm->tdp_root) {
		kvm->tdp_root->root_count++;
		return kvm->tdp_root;
	}
	struct kvm_mmu_page *root = tdp_mmu_alloc_sp(vcpu);

	root->level = PT64_ROOT_4LEVEL;
	root->gfn = 0;
	root->root_count = 1;
	kvm->tdp_root = root;
	return root;
}

static void handle_removed_pt(struct kvm *kvm, u64 *pt, gboolean shared);

/*
 * Models handle_changed_spte(): bookkeeping for one SPTE change, with the hardware side effects
 * kvmsim attaches to it: a new leaf makes its frame resident in the GPA page, and a leaf that
 * went away is remembered as a translation vCPU TLBs may still hold until they flush.
 */
static void
handle_changed_spte(struct kvm *kvm, gfn_t gfn, u64 old_spte, u64 new_spte, int level,
		    gboolean shared)
{
	gboolean was_present = is_shadow_present_pte(old_spte);
	gboolean is_present = is_shadow_present_pte(new_spte);
	gboolean was_leaf = was_present && is_last_spte(old_spte, level);
	gboolean is_leaf = is_present && is_last_spte(new_spte, level);
	kvm_pfn_t old_pfn = spte_to_pfn(old_spte);
	kvm_pfn_t new_pfn = spte_to_pfn(new_spte);

	if (old_spte == new_spte)
		return;
	sim_log_emit(kvm->log, "kvm_tdp_mmu_spte_changed",
		     "as id 0 gfn %" G_GINT64_MODIFIER "x level %d old_spte %" G_GINT64_MODIFIER
		     "x new_spte %" G_GINT64_MODIFIER "x", gfn, level, old_spte, new_spte);
	if (was_leaf && is_leaf && old_pfn != new_pfn) {
		kvm_invariant_failed(kvm, "spte_pfn_changed",
				     "gfn 0x%" G_GINT64_MODIFIER "x: present leaf changed pfn 0x%"
				     G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER
				     "x without a zap (missing MMU notifier)", gfn, old_pfn, new_pfn);
		return;
	}
	if (is_leaf && level == PG_LEVEL_4K)
		sim_hostmem_make_resident(kvm->hm, gfn << PAGE_SHIFT, new_pfn);
	if (was_leaf && !is_leaf) {
		sim_count(kvm->counters, SIM_CTR_ZAPS);
		kvm_record_stale_translation(kvm, gfn, old_pfn);
	}
	if (was_present && !was_leaf && (!is_present || is_leaf))
		handle_removed_pt(kvm, sim_ptpool_va(kvm->pt_pool, old_spte & SPTE_BASE_ADDR_MASK),
				  shared);
}

/* Models handle_removed_pt(): freeze every entry of an unlinked table, then free it. */
static void
handle_removed_pt(struct kvm *kvm, u64 *pt, gboolean shared)
{
	struct kvm_mmu_page *sp = sptep_to_sp(kvm, pt);

	sim_log_emit(kvm->log, "kvm_mmu_prepare_zap_page",
		     "sp gfn %" G_GINT64_MODIFIER "x l%d", sp->gfn, sp->level);
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 *sptep = pt + i;
		gfn_t gfn = sp->gfn + (u64)i * KVM_PAGES_PER_HPAGE(sp->level);
		u64 old_spte = *sptep;

		if (!shared && !is_shadow_present_pte(old_spte))
			continue;
		*sptep = FROZEN_SPTE;
		handle_changed_spte(kvm, gfn, old_spte, FROZEN_SPTE, sp->level, shared);
	}
	/* the kernel frees it after an RCU grace period; no walker can still be inside here */
	tdp_mmu_free_sp(kvm, sp);
}

/* Models __tdp_mmu_set_spte_atomic(): compare-exchange; on failure old_spte is refreshed. */
static int
__tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	g_assert(!is_frozen_spte(iter->old_spte));
	if (*iter->sptep != iter->old_spte) {
		iter->old_spte = *iter->sptep;
		sim_count(kvm->counters, SIM_CTR_PROBE_SPTE_CMPXCHG_LOST);
		return -EBUSY;
	}
	*iter->sptep = new_spte;
	return 0;
}

/* Models tdp_mmu_set_spte_atomic(): mmu_lock held for read. */
static int
tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	g_assert(sim_rwlock_held(&kvm->mmu_lock));
	int ret = __tdp_mmu_set_spte_atomic(kvm, iter, new_spte);

	if (ret)
		return ret;
	handle_changed_spte(kvm, iter->gfn, iter->old_spte, new_spte, iter->level, TRUE);
	return 0;
}

/* Models tdp_mmu_iter_set_spte() / tdp_mmu_set_spte(): mmu_lock held for write. */
static void
tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	g_assert(!is_frozen_spte(iter->old_spte) && !is_frozen_spte(new_spte));
	/* kvm_tdp_mmu_write_spte(): an exchange, as the fast path may change the SPTE locklessly */
	u64 old_spte = *iter->sptep;

	*iter->sptep = new_spte;
	iter->old_spte = old_spte;
	handle_changed_spte(kvm, iter->gfn, old_spte, new_spte, iter->level, FALSE);
}

/* Models tdp_mmu_link_sp(): hook a new table into the tree. */
static int
tdp_mmu_link_sp(struct kvm *kvm, struct tdp_iter *iter, struct kvm_mmu_page *sp, gboolean shared)
{
	u64 spte = make_nonleaf_spte(sp->spt_pa);

	if (shared)
		return tdp_mmu_set_spte_atomic(kvm, iter, spte);
	tdp_mmu_iter_set_spte(kvm, iter, spte);
	return 0;
}

/* Models tdp_mmu_init_child_sp(). */
static void
tdp_mmu_init_child_sp(struct kvm_mmu_page *child, struct tdp_iter *iter)
{
	child->level = iter->level - 1;
	child->gfn = iter->gfn;
	child->ptep = iter->sptep;
}

static void
trace_kvm_mmu_set_spte(struct kvm *kvm, int level, gfn_t gfn, u64 *sptep)
{
	u64 spte = *sptep;

	sim_log_emit(kvm->log, "kvm_mmu_set_spte",
		     "gfn %" G_GINT64_MODIFIER "x spte %" G_GINT64_MODIFIER "x (r%c%c%c) level %d at %"
		     G_GINT64_MODIFIER "x", gfn, spte, is_writable_pte(spte) ? 'w' : '-',
		     is_executable_pte(spte) ? 'x' : '-', spte & shadow_user_mask ? 'u' : '-', level,
		     sptep_pa(kvm, sptep));
}

/* Models tdp_mmu_map_handle_target_level(): install the leaf with a compare-exchange. */
static int
tdp_mmu_map_handle_target_level(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault,
				struct tdp_iter *iter)
{
	struct kvm *kvm = vcpu->kvm;
	u64 new_spte;
	int ret = RET_PF_FIXED;
	gboolean wrprot = FALSE;

	if (is_shadow_present_pte(iter->old_spte) &&
	    (fault->prefetch || is_access_allowed(fault, iter->old_spte)) &&
	    is_last_spte(iter->old_spte, iter->level)) {
		sim_count(kvm->counters, SIM_CTR_PROBE_FAULT_SPURIOUS_PRESENT);
		return RET_PF_SPURIOUS;
	}
	if (!fault->slot)
		new_spte = make_mmio_spte(iter->gfn, ACC_ALL, kvm->memslots_generation);
	else
		wrprot = make_spte(iter->level, ACC_ALL, fault->pfn, fault->prefetch,
				   fault->map_writable, &new_spte);

	/* another vCPU may install or a lockless path may change the SPTE right here */
	sim_yield(kvm->sched, "fault.spte_install");
	if (new_spte == iter->old_spte)
		ret = RET_PF_SPURIOUS;
	else if (tdp_mmu_set_spte_atomic(kvm, iter, new_spte))
		return RET_PF_RETRY;
	if (wrprot && fault->write)
		ret = RET_PF_WRITE_PROTECTED;
	if (is_mmio_spte(new_spte)) {
		sim_log_emit(kvm->log, "mark_mmio_spte",
			     "sptep:%" G_GINT64_MODIFIER "x gfn %" G_GINT64_MODIFIER
			     "x access %x gen %" G_GINT64_MODIFIER "x", sptep_pa(kvm, iter->sptep),
			     iter->gfn, ACC_ALL, get_mmio_spte_generation(new_spte));
		ret = RET_PF_EMULATE;
	} else if (ret != RET_PF_SPURIOUS) {
		trace_kvm_mmu_set_spte(kvm, iter->level, iter->gfn, iter->sptep);
	}
	return ret;
}

/* Models kvm_tdp_mmu_map(): walk to the goal level, linking tables as needed; mmu_lock read. */
int
kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root = vcpu->root;
	struct tdp_iter iter;

	/* kvm_mmu_hugepage_adjust(): 4 KiB leaves only for anonymous memory here */
	fault->req_level = fault->goal_level = PG_LEVEL_4K;
	sim_log_emit(kvm->log, "kvm_mmu_spte_requested",
		     "gfn %" G_GINT64_MODIFIER "x pfn %" G_GINT64_MODIFIER "x level %d", fault->gfn,
		     fault->slot ? fault->pfn : 0, fault->goal_level);

	for_each_tdp_pte(iter, kvm, root, fault->gfn, fault->gfn + 1) {
		if (is_frozen_spte(iter.old_spte)) {
			sim_count(kvm->counters, SIM_CTR_PROBE_FROZEN_SPTE_SEEN);
			return RET_PF_RETRY;
		}
		if (iter.level == fault->goal_level)
			return tdp_mmu_map_handle_target_level(vcpu, fault, &iter);
		if (is_shadow_present_pte(iter.old_spte) && !is_large_pte(iter.old_spte))
			continue;

		struct kvm_mmu_page *sp = tdp_mmu_alloc_sp(vcpu);

		tdp_mmu_init_child_sp(sp, &iter);
		if (tdp_mmu_link_sp(kvm, &iter, sp, TRUE)) {
			tdp_mmu_return_sp(vcpu, sp);
			return RET_PF_RETRY;
		}
	}
	return RET_PF_RETRY; /* the walk ended above the goal level */
}

/*
 * Models tdp_mmu_zap_leafs(): clear every present leaf in [start, end) of root; mmu_lock held
 * for write. Tables stay. Returns whether a TLB flush is needed.
 */
static gboolean
tdp_mmu_zap_leafs(struct kvm *kvm, struct kvm_mmu_page *root, gfn_t start, gfn_t end,
		  gboolean flush)
{
	struct tdp_iter iter;

	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	sim_yield(kvm->sched, "zap.begin");
	for_each_tdp_pte_min_level(iter, kvm, root, PG_LEVEL_4K, start, end) {
		if (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(iter.old_spte, iter.level))
			continue;
		tdp_mmu_iter_set_spte(kvm, &iter, SHADOW_NONPRESENT_VALUE);
		if (!root->invalid)
			flush = TRUE;
		sim_yield(kvm->sched, "zap.spte_cleared");
	}
	return flush;
}

/* Models kvm_tdp_mmu_unmap_gfn_range(): zap the range in every root. */
gboolean
kvm_tdp_mmu_unmap_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range, gboolean flush)
{
	if (kvm->tdp_root)
		flush = tdp_mmu_zap_leafs(kvm, kvm->tdp_root, range->start, range->end, flush);
	return flush;
}

/* Models kvm_tdp_mmu_age_spte() (v6.15+, lockless): access-track an A/D-disabled SPTE. */
static void
kvm_tdp_mmu_age_spte(struct kvm *kvm, struct tdp_iter *iter)
{
	u64 new_spte = mark_spte_for_access_track(iter->old_spte);

	/* a lost race is fine: the SPTE was most likely just used */
	if (__tdp_mmu_set_spte_atomic(kvm, iter, new_spte))
		return;
	sim_log_emit(kvm->log, "kvm_tdp_mmu_spte_changed",
		     "as id 0 gfn %" G_GINT64_MODIFIER "x level %d old_spte %" G_GINT64_MODIFIER
		     "x new_spte %" G_GINT64_MODIFIER "x", iter->gfn, iter->level, iter->old_spte,
		     new_spte);
}

/* Models __kvm_tdp_mmu_age_gfn_range(): age or test every accessed leaf in the range. */
static gboolean
tdp_mmu_age_range(struct kvm *kvm, struct kvm_gfn_range *range, gboolean test_only)
{
	struct tdp_iter iter;
	gboolean young = FALSE;

	if (!kvm->tdp_root)
		return FALSE;
	for_each_tdp_pte(iter, kvm, kvm->tdp_root, range->start, range->end) {
		if (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(iter.old_spte, iter.level) ||
		    !is_accessed_spte(iter.old_spte))
			continue;
		if (test_only)
			return TRUE;
		young = TRUE;
		kvm_tdp_mmu_age_spte(kvm, &iter);
	}
	return young;
}

gboolean
kvm_tdp_mmu_age_gfn_range(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return tdp_mmu_age_range(kvm, range, FALSE);
}

gboolean
kvm_tdp_mmu_test_age_gfn(struct kvm *kvm, struct kvm_gfn_range *range)
{
	return tdp_mmu_age_range(kvm, range, TRUE);
}

/* Models kvm_tdp_mmu_fast_pf_get_last_sptep(): the last SPTE on the walk to gfn, lockless. */
u64 *
kvm_tdp_mmu_fast_pf_get_last_sptep(struct kvm_vcpu *vcpu, gfn_t gfn, u64 *spte)
{
	struct tdp_iter iter;
	u64 *sptep = NULL;

	for_each_tdp_pte(iter, vcpu->kvm, vcpu->root, gfn, gfn + 1) {
		sptep = iter.sptep;
		*spte = iter.old_spte;
	}
	return sptep;
}

/* Models kvm_tdp_mmu_get_walk() reduced to the last level reached. */
u64
kvm_tdp_mmu_read_spte(struct kvm_vcpu *vcpu, gpa_t gpa, int *out_level)
{
	struct tdp_iter iter;
	u64 spte = SHADOW_NONPRESENT_VALUE;
	int level = PT64_ROOT_4LEVEL;
	gfn_t gfn = gpa >> PAGE_SHIFT;

	if (!vcpu->root)
		goto out;
	for_each_tdp_pte(iter, vcpu->kvm, vcpu->root, gfn, gfn + 1) {
		spte = iter.old_spte;
		level = iter.level;
	}
out:
	if (out_level)
		*out_level = level;
	return spte;
}

u64
kvm_tdp_mmu_leaf_spte(struct kvm *kvm, gfn_t gfn, int *out_level)
{
	struct tdp_iter iter;

	if (out_level)
		*out_level = PG_LEVEL_NONE;
	if (!kvm->tdp_root)
		return SHADOW_NONPRESENT_VALUE;
	for_each_tdp_pte(iter, kvm, kvm->tdp_root, gfn, gfn + 1) {
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level)) {
			if (out_level)
				*out_level = iter.level;
			return iter.old_spte;
		}
	}
	return SHADOW_NONPRESENT_VALUE;
}

guint64
kvm_tdp_mmu_count_present(struct kvm *kvm)
{
	struct tdp_iter iter;
	guint64 n = 0;

	if (!kvm->tdp_root)
		return 0;
	for_each_tdp_pte(iter, kvm, kvm->tdp_root, 0, G_MAXUINT64 >> PAGE_SHIFT)
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level))
			n++;
	return n;
}

/* Models kvm_tdp_mmu_zap_all() at VM destruction: every table goes, then the root. */
void
kvm_tdp_mmu_zap_all(struct kvm *kvm)
{
	struct kvm_mmu_page *root = kvm->tdp_root;

	if (!root)
		return;
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 old_spte = root->spt[i];

		if (!is_shadow_present_pte(old_spte))
			continue;
		root->spt[i] = SHADOW_NONPRESENT_VALUE;
		if (!is_last_spte(old_spte, root->level))
			handle_removed_pt(kvm,
					  sim_ptpool_va(kvm->pt_pool, old_spte & SPTE_BASE_ADDR_MASK),
					  FALSE);
	}
	tdp_mmu_free_sp(kvm, root);
	kvm->tdp_root = NULL;
}
