/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TDP MMU: roots, table pages and their RCU-deferred freeing, SPTE changes and their
 * bookkeeping, and the fault-map path (models arch/x86/kvm/mmu/tdp_mmu.c). Zapping is in
 * tdp_mmu_zap.c, aging and lockless walks in tdp_mmu_walk.c.
 *
 * Kernel functions named below were read in ColinIanKing/linux-next, tdp_mmu.c at 1c60d04a,
 * unless a comment says otherwise. Dated to the 6.18 cycle by its content: it exports with
 * EXPORT_SYMBOL_FOR_KVM_INTERNAL (the kvm@vger patch adding it is dated 18 Sep 2025) and still
 * has kvm_tdp_mmu_gpa_is_mapped(), which a series posted on 16 Oct 2025 for the next cycle removes.
 */
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

/* Models kvm_mmu_topup_memory_cache() (virt/kvm/kvm_main.c, ColinIanKing/linux-next at 03b9d314)
 * with the shadow-page cache's init value, SHADOW_NONPRESENT_VALUE (kvm_mmu_create(), mmu.c). */
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
	/* a table freed without an RCU grace period (VM destruction, a leaked tree) */
	if (sp->possible_nx_huge_page)
		g_ptr_array_remove(kvm->possible_nx_huge_pages, sp);
	sim_ptpool_release(kvm->pt_pool, sp->spt_pa);
	g_free(sp);
}

/* An SP that lost its link race goes back to the vCPU's cache, all non-present again (a lost
 * split had filled it). */
static void
tdp_mmu_return_sp(struct kvm_vcpu *vcpu, struct kvm_mmu_page *sp)
{
	struct kvm_mmu_memory_cache *mc = &vcpu->mmu_shadow_page_cache;

	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++)
		sp->spt[i] = SHADOW_NONPRESENT_VALUE;

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

	if (kvm->rcu_freed->len == 0)
		return; /* the common case on the fault path: nothing waits for a grace period */
	for (guint i = 0; i < kvm->rcu_freed->len; i++) {
		RcuFreed *f = &g_array_index(kvm->rcu_freed, RcuFreed, i);

		if (sim_srcu_grace_period_over(&kvm->rcu, f->cut)) {
			kvm_check_freed_table(kvm, f->sp);
			kvm_nx_check_freed_sp(kvm, f->sp);
			tdp_mmu_free_sp(kvm, f->sp);
		}
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

/* Models tdp_mmu_init_sp(): every new TDP page, root or child, is traced as created. */
static void
tdp_mmu_init_sp(struct kvm *kvm, struct kvm_mmu_page *sp, u64 *sptep, gfn_t gfn, int level)
{
	sp->level = level;
	sp->gfn = gfn;
	sp->ptep = sptep;
	trace_kvm_mmu_get_page(kvm, sp, TRUE);
}

/*
 * Models kvm_tdp_mmu_alloc_root() (v6.18, mmu_lock held for read): take a reference to the valid
 * root, or make one. A new root starts with two references, the vCPU's and the TDP MMU's own,
 * which it keeps until the root is invalidated. The kernel rechecks under tdp_mmu_pages_lock
 * before adding; here nothing can run between the check and the add.
 */
struct kvm_mmu_page *
kvm_tdp_mmu_alloc_root(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root = kvm_tdp_mmu_valid_root(kvm);

	g_assert(sim_rwlock_held(&kvm->mmu_lock));
	if (root) {
		root->root_count++;
		return root;
	}
	root = tdp_mmu_alloc_sp(vcpu);
	root->root_count = 2;
	tdp_mmu_init_sp(kvm, root, NULL, 0, PT64_ROOT_4LEVEL);
	g_ptr_array_add(kvm->tdp_mmu_roots, root);
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

static void tdp_mmu_free_tree(struct kvm *kvm, struct kvm_mmu_page *sp);

/*
 * A root about to be freed must be empty: kvm_tdp_mmu_zap_invalidated_roots() zapped it, and the
 * kernel frees only the root page, so anything linked since would leak (kvmsim's check, as
 * kmemleak would see it). On a violation the tables are given back to the pool.
 */
static void
tdp_mmu_check_freed_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = kvm_tdp_mmu_read_spte(&root->spt[i], root->level);

		if (!is_shadow_present_pte(spte))
			continue;
		kvm_invariant_failed(kvm, "freed_root_not_empty",
				     "an invalid root is freed while its entry %d still links a "
				     "table (installed after the zap of invalidated roots passed "
				     "it)", i);
		tdp_mmu_free_tree(kvm, sptep_to_sp(kvm, sim_ptpool_va(kvm->pt_pool,
							      spte & SPTE_BASE_ADDR_MASK)));
		root->spt[i] = spte_to_hw(SHADOW_NONPRESENT_VALUE, root->level);
	}
}

/* Models kvm_tdp_mmu_put_root(): the last reference, only ever to an invalid root, frees it. */
void
kvm_tdp_mmu_put_root(struct kvm *kvm, struct kvm_mmu_page *root)
{
	g_assert(root->root_count > 0);
	if (--root->root_count)
		return;
	g_assert(root->invalid);
	tdp_mmu_check_freed_root(kvm, root);
	g_ptr_array_remove(kvm->tdp_mmu_roots, root);
	call_rcu_free_sp(kvm, root);
}

/*
 * Models tdp_mmu_next_root(): the root after prev (or the first), valid only if asked, with a
 * reference taken on it; then prev's reference is dropped. Holding references is what lets the
 * loop body drop mmu_lock: a root cannot be freed while the walk is in it.
 */
struct kvm_mmu_page *
tdp_mmu_next_root(struct kvm *kvm, struct kvm_mmu_page *prev, gboolean only_valid)
{
	struct kvm_mmu_page *next = NULL;
	guint i = 0;

	if (prev) {
		gboolean found = g_ptr_array_find(kvm->tdp_mmu_roots, prev, &i);

		g_assert(found);
		i++;
	}
	for (; i < kvm->tdp_mmu_roots->len && !next; i++) {
		struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if ((!only_valid || !root->invalid) && root->root_count > 0) {
			root->root_count++; /* kvm_tdp_mmu_get_root() */
			next = root;
		}
	}
	if (prev)
		kvm_tdp_mmu_put_root(kvm, prev);
	return next;
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
	trace_kvm_tdp_mmu_spte_changed(kvm, 0, gfn, level, old_spte, new_spte);
	if (was_leaf && is_leaf && old_pfn != new_pfn) {
		kvm_invariant_failed(kvm, "spte_pfn_changed",
				     "gfn 0x%" G_GINT64_MODIFIER "x: present leaf changed pfn 0x%"
				     G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER
				     "x without a zap (missing MMU notifier)", gfn, old_pfn, new_pfn);
		return;
	}
	/* a huge leaf maps every GPA page of its range: the CPU walks it without exits */
	for (u64 i = 0; is_leaf && i < KVM_PAGES_PER_HPAGE(level); i++)
		sim_hostmem_make_resident(kvm->hm, (gfn + i) << PAGE_SHIFT, new_pfn + i);
	if (is_leaf && !was_leaf && level > PG_LEVEL_4K)
		sim_count(kvm->counters, level == PG_LEVEL_2M ? SIM_CTR_TDP_MMU_LEAVES_2M :
							      SIM_CTR_TDP_MMU_LEAVES_1G);
	/* a leaf replaced by a table of the same translations (a split) is not a zap */
	if (was_leaf && !is_present) {
		sim_count(kvm->counters, SIM_CTR_ZAPS);
		if (level > PG_LEVEL_4K)
			sim_count(kvm->counters, SIM_CTR_TDP_MMU_HUGE_ZAPPED);
		for (u64 i = 0; i < KVM_PAGES_PER_HPAGE(level); i++)
			kvm_record_stale_translation(kvm, gfn + i, old_pfn + i);
	}
	if (was_present && !was_leaf && (!is_present || is_leaf))
		handle_removed_pt(kvm, sim_ptpool_va(kvm->pt_pool, old_spte & SPTE_BASE_ADDR_MASK),
				  shared);
}

/* Models tdp_mmu_unlink_sp(): a page table leaving the tree is no possible NX huge page (its
 * flag cleared under tdp_mmu_pages_lock, which is what 21a36ac6b6c7's re-check reads; no tree
 * read for this function, its behaviour as that fix's commit text describes it). */
static void
tdp_mmu_unlink_sp(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	if (!sp->nx_huge_page_disallowed)
		return;
	sim_spin_lock(kvm->sched, &kvm->tdp_mmu_pages_lock, "zap.pages_lock");
	sp->nx_huge_page_disallowed = FALSE;
	untrack_possible_nx_huge_page(kvm, sp);
	sim_spin_unlock(kvm->sched, &kvm->tdp_mmu_pages_lock, "zap.pages_unlock");
}

/*
 * Models handle_removed_pt(): freeze the entries of an unlinked table, then free it after RCU.
 * Shared (read lock), every entry is exchanged with FROZEN_SPTE, present or not, since a lockless
 * writer could still install one; exclusive, only present entries are, and each change is
 * handled as the kernel does, so each freeze is logged.
 */
static void
handle_removed_pt(struct kvm *kvm, u64 *pt, gboolean shared)
{
	struct kvm_mmu_page *sp = sptep_to_sp(kvm, pt);

	g_ptr_array_add(kvm->tdp_mmu_removing, sp);
	trace_kvm_mmu_prepare_zap_page(kvm, sp);
	tdp_mmu_unlink_sp(kvm, sp);
	kvm_record_stale_table(kvm, sp);
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 *sptep = pt + i;
		gfn_t gfn = sp->gfn + (u64)i * KVM_PAGES_PER_HPAGE(sp->level);
		u64 old_spte = kvm_tdp_mmu_read_spte(sptep, sp->level);

		if (!shared && !is_shadow_present_pte(old_spte))
			continue; /* and write lock: nobody can make it present */
		if (shared) {
			/* the kernel spins while another thread holds it frozen; nothing here
			 * keeps an SPTE frozen across a yield point */
			old_spte = kvm_tdp_mmu_write_spte_atomic(sptep, FROZEN_SPTE, sp->level);
			g_assert(!is_frozen_spte(old_spte));
		} else
			old_spte = tdp_mmu_write_spte_locked(kvm, sptep, old_spte, FROZEN_SPTE,
							     sp->level, gfn);
		handle_changed_spte(kvm, gfn, old_spte, FROZEN_SPTE, sp->level, shared);
	}
	/* lockless walkers (the fast path) may still be inside: they see the frozen children now */
	if (shared)
		sim_yield(kvm->sched, "zap.pt_frozen");
	g_ptr_array_remove_fast(kvm->tdp_mmu_removing, sp);
	call_rcu_free_sp(kvm, sp);
}

/* What another writer did to an SPTE between its read (expected) and a compare-exchange that
 * found found there instead. */
static const char *
spte_cmpxchg_lost_reason(u64 expected, u64 found, int level)
{
	if (is_frozen_spte(found))
		return "frozen: a zap under the read lock is removing it";
	if (!is_shadow_present_pte(found))
		return is_mmio_spte(found) && !is_mmio_spte(expected) ?
			       "another install: an MMIO SPTE" : "a zap";
	if (!is_shadow_present_pte(expected))
		return is_last_spte(found, level) ? "another install: a leaf" :
						    "another install: a table";
	if (is_last_spte(expected, level) && is_last_spte(found, level) &&
	    spte_to_pfn(expected) == spte_to_pfn(found))
		return "the same translation with other bits (aging or a fast page fault)";
	if (is_last_spte(expected, level) && !is_last_spte(found, level))
		return "another writer split the huge page";
	return "a zap, then another install";
}

/* A compare-exchange of an SPTE lost: what the SPTE held instead, and who could have put it
 * there (path names the kvmsim path that lost). */
void
trace_spte_cmpxchg_lost(struct kvm *kvm, const char *path, gfn_t gfn, int level, u64 expected,
			u64 found, u64 wanted)
{
	sim_log_emit(kvm->log, "sim_spte_cmpxchg_lost",
		     "%s gfn 0x%" G_GINT64_MODIFIER "x level %d expected 0x%" G_GINT64_MODIFIER
		     "x found 0x%" G_GINT64_MODIFIER "x wanted 0x%" G_GINT64_MODIFIER "x: %s",
		     path, gfn, level, expected, found, wanted,
		     spte_cmpxchg_lost_reason(expected, found, level));
}

/* Models __tdp_mmu_set_spte_atomic(): compare-exchange; on failure old_spte is refreshed. */
int
__tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	const u64 expected = iter->old_spte;

	/* the WARN_ON_ONCE() of __tdp_mmu_set_spte_atomic(): only the task that froze an SPTE may
	 * write it (before f5d16bb9be68 a fault could get here with a frozen SPTE) */
	if (is_frozen_spte(iter->old_spte)) {
		kvm_invariant_failed(kvm, "frozen_spte_written",
				     "gfn 0x%" G_GINT64_MODIFIER "x level %d: a compare-exchange "
				     "over FROZEN_SPTE, which another task owns", iter->gfn,
				     iter->level);
		return -EBUSY;
	}
	if (!tdp_mmu_try_cmpxchg_spte(iter->sptep, &iter->old_spte, new_spte, iter->level)) {
		sim_count(kvm->counters, SIM_CTR_PROBE_SPTE_CMPXCHG_LOST);
		trace_spte_cmpxchg_lost(kvm, "tdp_mmu", iter->gfn, iter->level, expected,
					iter->old_spte, new_spte);
		return -EBUSY;
	}
	return 0;
}

/* Models tdp_mmu_set_spte_atomic(): mmu_lock held for read. */
int
tdp_mmu_set_spte_atomic(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	g_assert(sim_rwlock_held(&kvm->mmu_lock));
	int ret = __tdp_mmu_set_spte_atomic(kvm, iter, new_spte);

	if (ret)
		return ret;
	handle_changed_spte(kvm, iter->gfn, iter->old_spte, new_spte, iter->level, TRUE);
	return 0;
}

/*
 * kvm_tdp_mmu_write_spte() with the VM at hand: under the write lock, the store that replaces
 * old_spte (what the walk read). Invariant spte_volatile_bit_lost: a plain store may only
 * replace what the walk read; if a lockless writer (the fast path, the CPU) set W or Dirty
 * since, the bookkeeping of the change never sees it (an exchange returns what it replaced, so
 * it never trips this). pre-ba3a6120a4e7 always stores plainly.
 */
u64
tdp_mmu_write_spte_locked(struct kvm *kvm, u64 *sptep, u64 old_spte, u64 new_spte, int level,
			  gfn_t gfn)
{
	const u64 volatile_bits = PT_WRITABLE_MASK | shadow_dirty_mask;
	u64 cur = kvm_tdp_mmu_read_spte(sptep, level);
	u64 was = old_spte;

	if (kvm_mutated(kvm, SIM_MUT_PRE_BA3A6120A4E7))
		__kvm_tdp_mmu_write_spte(sptep, new_spte, level);
	else
		was = kvm_tdp_mmu_write_spte(sptep, old_spte, new_spte, level);
	if (is_shadow_present_pte(cur) && (cur & ~was & volatile_bits))
		kvm_invariant_failed(kvm, "spte_volatile_bit_lost",
				     "gfn 0x%" G_GINT64_MODIFIER "x: a store under mmu_lock replaced 0x%"
				     G_GINT64_MODIFIER "x, not the 0x%" G_GINT64_MODIFIER "x it read: "
				     "the W or Dirty bit a lockless writer set since is lost", gfn, cur,
				     old_spte);
	return was;
}

/* With dirty logging on, the window the kernel has between the walk's read of a leaf with
 * volatile bits and the store under the write lock: lockless writers (the fast path, the CPU)
 * may run in it. Elsewhere kvmsim keeps the two together, as before (default runs unchanged). */
void
tdp_mmu_volatile_window(struct kvm *kvm, u64 old_spte, int level)
{
	if (kvm->nr_dirty_log_slots && kvm_tdp_mmu_spte_need_atomic_write(old_spte, level))
		sim_yield(kvm->sched, "tdp_mmu.set_spte_volatile");
}

/* Models tdp_mmu_iter_set_spte() / tdp_mmu_set_spte(): mmu_lock held for write. */
void
tdp_mmu_iter_set_spte(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	g_assert(sim_rwlock_write_held(&kvm->mmu_lock));
	g_assert(!is_frozen_spte(iter->old_spte) && !is_frozen_spte(new_spte));
	tdp_mmu_volatile_window(kvm, iter->old_spte, iter->level);
	iter->old_spte = tdp_mmu_write_spte_locked(kvm, iter->sptep, iter->old_spte, new_spte,
						   iter->level, iter->gfn);
	handle_changed_spte(kvm, iter->gfn, iter->old_spte, new_spte, iter->level, FALSE);
}

/* The mutation install_plain_store: a plain store under the read lock, and bookkeeping from the
 * value read before, whatever another writer put there since. */
static void
tdp_mmu_set_spte_plain(struct kvm *kvm, struct tdp_iter *iter, u64 new_spte)
{
	kvm_tdp_mmu_write_spte(iter->sptep, iter->old_spte, new_spte, iter->level);
	handle_changed_spte(kvm, iter->gfn, iter->old_spte, new_spte, iter->level, TRUE);
}

/* Models tdp_mmu_link_sp(): hook a new table into the tree. */
static int
tdp_mmu_link_sp(struct kvm *kvm, struct tdp_iter *iter, struct kvm_mmu_page *sp, gboolean shared)
{
	u64 spte = make_nonleaf_spte_ad(sp->spt_pa, !kvm->ept_ad);

	if (shared)
		return tdp_mmu_set_spte_atomic(kvm, iter, spte);
	tdp_mmu_iter_set_spte(kvm, iter, spte);
	return 0;
}

/* Models tdp_mmu_init_child_sp(). */
static void
tdp_mmu_init_child_sp(struct kvm *kvm, struct kvm_mmu_page *child, struct tdp_iter *iter)
{
	tdp_mmu_init_sp(kvm, child, iter->sptep, iter->gfn, iter->level - 1);
}

/*
 * Models tdp_mmu_split_huge_page(): fill the new table with the huge SPTE's translations, one
 * level down, then link it in place of the huge SPTE. No TLB flush: a vCPU may use either the
 * huge or the small translations meanwhile, and they agree. The children are written before the
 * table is reachable, so they are neither atomic nor traced as changes.
 */
static int
tdp_mmu_split_huge_page(struct kvm *kvm, struct tdp_iter *iter, struct kvm_mmu_page *sp,
			gboolean shared)
{
	const u64 huge_spte = iter->old_spte;
	const int level = iter->level;

	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 child = make_small_spte(huge_spte, level - 1, i, kvm->nx_huge_pages);

		sp->spt[i] = spte_to_hw(child, level - 1);
	}
	int ret = tdp_mmu_link_sp(kvm, iter, sp, shared);

	if (!ret)
		sim_count(kvm->counters, SIM_CTR_TDP_MMU_HUGE_SPLIT);
	trace_kvm_mmu_split_huge_page(kvm, iter->gfn, huge_spte, level, ret);
	return ret;
}

/*
 * A table was replaced by a huge leaf: models kvm_flush_remote_tlbs_gfn() (mmu.c) over the range
 * the table mapped, a whole flush on VMX without Hyper-V's ranged flush. last_entry_start: start
 * at the table's last entry instead, as handle_removed_tdp_mmu_page() did before 574c3c55e969
 * (its flush used the loop's gfn after the loop, not the table's base).
 */
static void
kvm_flush_remote_tlbs_gfn(struct kvm *kvm, gfn_t gfn, int level, gboolean last_entry_start)
{
	gfn_t start = gfn & ~(KVM_PAGES_PER_HPAGE(level) - 1);

	if (last_entry_start)
		start += (SPTE_ENT_PER_PAGE - 1) * KVM_PAGES_PER_HPAGE(level - 1);
	kvm_flush_remote_tlbs_range(kvm, start, KVM_PAGES_PER_HPAGE(level));
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
		new_spte = make_mmio_spte(iter->gfn, ACC_ALL, kvm->memslots->generation);
	else
		wrprot = make_spte_ad(iter->level, ACC_ALL, fault->pfn, fault->prefetch,
				      fault->map_writable, !kvm->ept_ad, kvm->nx_huge_pages,
				      &new_spte);
	/* make_spte(): a writable leaf of a dirty-logged slot marks its gfn before it goes in */
	if (fault->slot && fault->slot->dirty && is_writable_pte(new_spte))
		mark_page_dirty_in_slot(kvm, fault->slot, fault->gfn);

	/* another vCPU may install or a lockless path may change the SPTE right here */
	sim_yield(kvm->sched, "fault.spte_install");
	if (new_spte == iter->old_spte)
		ret = RET_PF_SPURIOUS;
	else if (kvm_mutated(kvm, SIM_MUT_INSTALL_PLAIN_STORE))
		tdp_mmu_set_spte_plain(kvm, iter, new_spte);
	else if (tdp_mmu_set_spte_atomic(kvm, iter, new_spte))
		return RET_PF_RETRY;
	else if (is_shadow_present_pte(iter->old_spte) && !is_last_spte(iter->old_spte, iter->level))
		kvm_flush_remote_tlbs_gfn(kvm, iter->gfn, iter->level,
					  kvm_mutated(kvm, SIM_MUT_PRE_574C3C55E969));
	if (wrprot && fault->write)
		ret = RET_PF_WRITE_PROTECTED;
	if (is_mmio_spte(new_spte)) {
		trace_mark_mmio_spte(kvm, sptep_pa(kvm, iter->sptep), iter->gfn, new_spte);
		ret = RET_PF_EMULATE;
	} else if (sim_log_on(kvm->log)) {
		/* v6.18 traces the SPTE even when the fault found it already installed (its
		 * arguments are computed only for a log) */
		trace_kvm_mmu_set_spte(kvm, iter->level, iter->gfn,
				       kvm_tdp_mmu_read_spte(iter->sptep, iter->level),
				       sptep_pa(kvm, iter->sptep));
	}
	return ret;
}

/* Models kvm_tdp_mmu_map(): walk to the goal level inside RCU, linking tables as needed;
 * mmu_lock held for read. */
int
kvm_tdp_mmu_map(struct kvm_vcpu *vcpu, struct kvm_page_fault *fault)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_mmu_page *root = vcpu->root;
	struct tdp_iter iter;
	int ret = RET_PF_RETRY;
	guint64 rcu;

	kvm_mmu_hugepage_adjust(vcpu, fault);
	trace_kvm_mmu_spte_requested(kvm, fault);

	kvm_rcu_read_lock(kvm, &rcu);
	for_each_tdp_pte(iter, kvm, root, fault->gfn, fault->gfn + 1) {
		/* with the NX recovery worker, tables of the valid root go under the read lock */
		if (kvm->nx_huge_pages)
			iter.step_down_sched = kvm->sched;
		if (fault->nx_huge_page_workaround_enabled)
			disallowed_hugepage_adjust(kvm, fault, iter.old_spte, iter.level);
		/* before f5d16bb9be68 the goal level was tested first (its diff, on the kvm list) */
		if (iter.level == fault->goal_level && kvm_mutated(kvm, SIM_MUT_PRE_F5D16BB9BE68)) {
			ret = tdp_mmu_map_handle_target_level(vcpu, fault, &iter);
			break;
		}
		if (is_frozen_spte(iter.old_spte)) {
			sim_count(kvm->counters, SIM_CTR_PROBE_FROZEN_SPTE_SEEN);
			break;
		}
		if (iter.level == fault->goal_level) {
			ret = tdp_mmu_map_handle_target_level(vcpu, fault, &iter);
			break;
		}
		if (is_shadow_present_pte(iter.old_spte) && !is_large_pte(iter.old_spte))
			continue;

		/* non-present, or a huge leaf above the goal that must be split */
		struct kvm_mmu_page *sp = tdp_mmu_alloc_sp(vcpu);
		int r;

		tdp_mmu_init_child_sp(kvm, sp, &iter);
		/* set before the table is reachable, for disallowed_hugepage_adjust() */
		sp->nx_huge_page_disallowed = fault->huge_page_disallowed;
		if (is_shadow_present_pte(iter.old_spte))
			r = tdp_mmu_split_huge_page(kvm, &iter, sp, TRUE);
		else
			r = tdp_mmu_link_sp(kvm, &iter, sp, TRUE);
		if (r) {
			/* the kernel frees it; kvmsim gives the page back to the cache */
			tdp_mmu_return_sp(vcpu, sp);
			break;
		}
		if (fault->huge_page_disallowed && fault->req_level >= iter.level) {
			/* a task that zapped the table meanwhile cleared the flag
			 * (tdp_mmu_unlink_sp()): re-checked under the lock, 21a36ac6b6c7 */
			sim_spin_lock(kvm->sched, &kvm->tdp_mmu_pages_lock, "fault.pages_lock");
			if (sp->nx_huge_page_disallowed ||
			    kvm_mutated(kvm, SIM_MUT_PRE_21A36AC6B6C7))
				track_possible_nx_huge_page(kvm, sp);
			sim_spin_unlock(kvm->sched, &kvm->tdp_mmu_pages_lock, "fault.pages_unlock");
		}
	}
	kvm_rcu_read_unlock(kvm, rcu);
	return ret;
}

/* Models kvm_mmu_init_tdp_mmu(). */
void
kvm_mmu_init_tdp_mmu(struct kvm *kvm)
{
	kvm->tdp_mmu_roots = g_ptr_array_new();
	kvm->rcu.name = "rcu";
	kvm->rcu_freed = g_array_new(FALSE, FALSE, sizeof(RcuFreed));
	kvm->tdp_mmu_removing = g_ptr_array_new();
}

/* A table and everything below it goes back to the pool, with nothing to model: no lock, no
 * events (the VM is gone; an abandoned run may even have left mmu_lock held). */
static void
tdp_mmu_free_tree(struct kvm *kvm, struct kvm_mmu_page *sp)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = kvm_tdp_mmu_read_spte(&sp->spt[i], sp->level);

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
	/* unlinked by a zapper that was abandoned before it handed them to RCU, with the children
	 * it had not frozen yet (those it had are here or above) */
	for (guint i = 0; i < kvm->tdp_mmu_removing->len; i++)
		tdp_mmu_free_tree(kvm, g_ptr_array_index(kvm->tdp_mmu_removing, i));
	g_ptr_array_free(kvm->tdp_mmu_removing, TRUE);
	g_ptr_array_free(kvm->tdp_mmu_roots, TRUE);
	sim_srcu_clear(&kvm->rcu);
}

/* Dumps (mmu/dump.c): the i-th table waiting for its RCU grace period, NULL past the last. */
struct kvm_mmu_page *
kvm_tdp_mmu_rcu_pending(const struct kvm *kvm, guint i)
{
	return i < kvm->rcu_freed->len ? g_array_index(kvm->rcu_freed, RcuFreed, i).sp : NULL;
}
