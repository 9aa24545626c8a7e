/* SPDX-License-Identifier: GPL-2.0-only */
/* The TDP MMU: map, link, zap and age SPTEs (models arch/x86/kvm/mmu/tdp_mmu.c). */
#include "mmu/mmu-internal.h"

#include <errno.h>

/* Past the last gfn of a 4-level (48-bit) guest-physical address space. */
#define TDP_MAX_GFN (1ull << (48 - PAGE_SHIFT))

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

/* A page table removed from the tree, freed once no walker can still be inside it. */
typedef struct {
	struct kvm_mmu_page *sp;
	guint64 cut;
} RcuFreed;

/* Free every removed table whose grace period is over (in the order they were removed). */
static void
rcu_reclaim(struct kvm *kvm)
{
	guint kept = 0;

	for (guint i = 0; i < kvm->rcu_freed->len; i++) {
		RcuFreed *f = &g_array_index(kvm->rcu_freed, RcuFreed, i);

		if (sim_srcu_grace_period_over(&kvm->rcu, f->cut))
			tdp_mmu_free_sp(kvm, f->sp);
		else
			g_array_index(kvm->rcu_freed, RcuFreed, kept++) = *f;
	}
	g_array_set_size(kvm->rcu_freed, kept);
}

/* Models call_rcu(&sp->rcu_head, tdp_mmu_free_sp_rcu_callback). */
static void
call_rcu_free_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	RcuFreed f = { sp, sim_srcu_cut(&kvm->rcu) };

	g_array_append_val(kvm->rcu_freed, f);
	rcu_reclaim(kvm);
}

/* rcu_read_lock() around a walk of the tables (the TDP MMU's RCU-protected page tables). */
void
kvm_rcu_read_lock(struct kvm *kvm, guint64 *ticket)
{
	*ticket = sim_srcu_read_lock(&kvm->rcu);
}

void
kvm_rcu_read_unlock(struct kvm *kvm, guint64 ticket)
{
	sim_srcu_read_unlock(&kvm->rcu, ticket);
	rcu_reclaim(kvm);
}

/* Models kvm_tdp_mmu_alloc_root(): share a valid root, or make a new one. */
struct kvm_mmu_page *
kvm_tdp_mmu_alloc_root(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);

	if (root) {
		root->root_count++;
		return root;
	}
	root = tdp_mmu_alloc_sp(vcpu);
	root->level = PT64_ROOT_4LEVEL;
	root->gfn = 0;
	root->root_count = 1;
	g_ptr_array_add(kvm->tdp_mmu_roots, root);
	sim_log_emit(kvm->log, "sim_root", "new root at 0x%" G_GINT64_MODIFIER "x", root->spt_pa);
	return root;
}

/* The root vCPUs load now: the first valid one, if any. */
struct kvm_mmu_page *
kvm_tdp_mmu_valid_root(struct kvm *kvm)
{
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if (!root->invalid)
			return root;
	}
	return NULL;
}

/* Models kvm_tdp_mmu_put_root(): the last reference to an invalid root frees it. */
void
kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	if (--root->root_count || !root->invalid)
		return;
	g_ptr_array_remove(kvm->tdp_mmu_roots, root);
	call_rcu_free_sp(kvm, root);
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
	/* lockless walkers (the fast path) may still be inside: they see the frozen children now */
	if (shared)
		sim_yield(kvm->sched, "zap.pt_frozen");
	call_rcu_free_sp(kvm, sp);
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

/* Models the kvm_mmu_set_spte tracepoint (arch/x86/kvm/mmu/mmutrace.h). */
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
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++)
		flush = tdp_mmu_zap_leafs(kvm, g_ptr_array_index(kvm->tdp_mmu_roots, i),
					  range->start, range->end, flush);
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
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	struct tdp_iter iter;
	gboolean young = FALSE;
	guint64 rcu;

	if (!root)
		return FALSE;
	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte(iter, kvm, root, range->start, range->end) {
		if (!is_shadow_present_pte(iter.old_spte) || !is_last_spte(iter.old_spte, iter.level) ||
		    !is_accessed_spte(iter.old_spte))
			continue;
		young = TRUE;
		if (test_only)
			break;
		kvm_tdp_mmu_age_spte(kvm, &iter);
	}
	kvm_rcu_read_unlock(kvm, rcu);
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

/* The leaf SPTE for gfn in the valid root, for dumps and expectations. */
u64
kvm_tdp_mmu_leaf_spte(struct kvm *kvm, gfn_t gfn, int *out_level)
{
	struct tdp_iter iter;

	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);

	if (out_level)
		*out_level = PG_LEVEL_NONE;
	if (!root)
		return SHADOW_NONPRESENT_VALUE;
	for_each_tdp_pte(iter, kvm, root, gfn, gfn + 1) {
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level)) {
			if (out_level)
				*out_level = iter.level;
			return iter.old_spte;
		}
	}
	return SHADOW_NONPRESENT_VALUE;
}

/* How many present leaves the valid root has. */
guint64
kvm_tdp_mmu_count_present(struct kvm *kvm)
{
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);
	struct tdp_iter iter;
	guint64 n = 0;

	if (!root)
		return 0;
	for_each_tdp_pte(iter, kvm, root, 0, TDP_MAX_GFN)
		if (is_shadow_present_pte(iter.old_spte) && is_last_spte(iter.old_spte, iter.level))
			n++;
	return n;
}

/*
 * Models __tdp_mmu_zap_root() with shared=true (mmu_lock held for read, the only way this model
 * zaps a whole root): zap every present SPTE at zap_level (1 GiB, then the root level) in one
 * root; each zap of a table tears its subtree down (handle_removed_pt()).
 */
static void
__tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root, int zap_level)
{
	struct tdp_iter iter;

	for_each_tdp_pte_min_level(iter, kvm, root, zap_level, 0, TDP_MAX_GFN) {
		if (!is_shadow_present_pte(iter.old_spte) || iter.level > zap_level)
			continue;
		/* a lost compare-exchange refreshed old_spte: try again on the fresh value */
		while (is_shadow_present_pte(iter.old_spte) &&
		       tdp_mmu_set_spte_atomic(kvm, &iter, SHADOW_NONPRESENT_VALUE))
			;
	}
}

/* Models tdp_mmu_zap_root(). */
static void
tdp_mmu_zap_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	guint64 rcu;

	kvm_rcu_read_lock(kvm, &rcu);
	__tdp_mmu_zap_root(kvm, root, PG_LEVEL_1G);
	__tdp_mmu_zap_root(kvm, root, root->level);
	kvm_rcu_read_unlock(kvm, rcu);
}

/*
 * Models kvm_tdp_mmu_invalidate_roots() (mmu_lock held for write): every valid root becomes
 * invalid and scheduled for zapping; the zapper gets a reference of its own to each. Faults on
 * an invalid root are stale (is_page_fault_stale()); vCPUs load a new root before entry.
 */
void
kvm_tdp_mmu_invalidate_roots(struct kvm *kvm)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if (root->invalid)
			continue;
		root->invalid = TRUE;
		root->tdp_mmu_scheduled_root_to_zap = TRUE;
		root->root_count++;
	}
}

/*
 * Models kvm_tdp_mmu_zap_invalidated_roots(): zap the roots invalidated above with mmu_lock held
 * for read, concurrently with faults on the new root, and drop the zapper's references. No TLB
 * flush is needed: a vCPU flushes when it loads its new root.
 */
void
kvm_tdp_mmu_zap_invalidated_roots(struct kvm *kvm)
{
	g_autoptr(GPtrArray) roots = NULL;

	sim_read_lock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_lock");
	/* listed under the lock: a vCPU may free an old root while the zapper waits for it */
	roots = g_ptr_array_copy(kvm->tdp_mmu_roots, NULL, NULL);
	for (guint i = 0; i < roots->len; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(roots, i);

		if (!root->tdp_mmu_scheduled_root_to_zap)
			continue;
		root->tdp_mmu_scheduled_root_to_zap = FALSE;
		tdp_mmu_zap_root(kvm, root);
		kvm_tdp_mmu_put_root(kvm, root);
	}
	sim_read_unlock(kvm->sched, &kvm->mmu_lock, "zap_roots.mmu_unlock");
}

/* Models kvm_mmu_init_tdp_mmu(). */
void
kvm_mmu_init_tdp_mmu(struct kvm *kvm)
{
	kvm->tdp_mmu_roots = g_ptr_array_new();
	kvm->rcu.name = "rcu";
	kvm->rcu_freed = g_array_new(FALSE, FALSE, sizeof(RcuFreed));
}

/* A table and everything below it goes back to the pool, with nothing to model: no lock, no
 * events (the VM is gone; an abandoned run may even have left mmu_lock held). */
static void
tdp_mmu_free_tree(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = sp->spt[i];

		if (is_shadow_present_pte(spte) && !is_last_spte(spte, sp->level))
			tdp_mmu_free_tree(kvm, sptep_to_sp(kvm, sim_ptpool_va(kvm->pt_pool,
								     spte & SPTE_BASE_ADDR_MASK)));
	}
	tdp_mmu_free_sp(kvm, sp);
}

/* Models kvm_mmu_uninit_tdp_mmu() at VM destruction. */
void
kvm_mmu_uninit_tdp_mmu(struct kvm *kvm)
{
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++)
		tdp_mmu_free_tree(kvm, g_ptr_array_index(kvm->tdp_mmu_roots, i));
	for (guint i = 0; i < kvm->rcu_freed->len; i++)
		tdp_mmu_free_sp(kvm, g_array_index(kvm->rcu_freed, RcuFreed, i).sp);
	g_array_free(kvm->rcu_freed, TRUE);
	g_ptr_array_free(kvm->tdp_mmu_roots, TRUE);
	sim_srcu_clear(&kvm->rcu);
}
