/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The MMU invariants an explorer checks at every step (sim/core/invariants.c names them). They are
 * kvmsim's own checks, not kernel code: each walks the model's state and, where it is wrong, fails
 * the run through kvm_invariant_failed() as the checks on the model's own paths do.
 */
#include "mmu/mmu-internal.h"

#include <stdlib.h>
#include <string.h>

/* The memslot of the active generation holding gfn, or NULL. */
static const struct kvm_memory_slot *
audit_gfn_to_memslot(const struct kvm *kvm, gfn_t gfn)
{
	const struct kvm_memslots *slots = kvm->memslots;

	for (int i = 0; i < slots->used_slots; i++) {
		const struct kvm_memory_slot *slot = slots->slots[i];

		if (gfn >= slot->base_gfn && gfn < slot->base_gfn + slot->npages)
			return slot;
	}
	return NULL;
}

/*
 * A present leaf at gfn maps pfn (npages of them): none may be freed or in quarantine, and each
 * must be the frame the primary MMU maps at the page's hva now. Under the mmu_invalidate protocol
 * the primary changes a page only between invalidate_range_start, which zapped the SPTE, and
 * invalidate_range_end; a fault cannot install from a lookup that raced with it. So at every
 * yield point a present leaf of a gfn in a memslot names the primary's current frame (unless the
 * memslot has a guest_memfd, whose file provides the pfns).
 */
static gboolean
audit_leaf(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn, u64 npages, gboolean check_primary)
{
	for (u64 i = 0; i < npages; i++) {
		kvm_pfn_t p = pfn + i;

		if (p != SIM_ZERO_PFN && !sim_frame_allocated(kvm->hm, p)) {
			kvm_invariant_failed(kvm, "freed_frame_mapped_by_spte",
					     "gfn 0x%" G_GINT64_MODIFIER "x maps pfn 0x%"
					     G_GINT64_MODIFIER "x, which was freed", gfn + i, p);
			return FALSE;
		}
		if (!check_primary)
			continue;
		const struct kvm_memory_slot *slot = audit_gfn_to_memslot(kvm, gfn + i);

		/* a deleted slot's leaves are zapped after the new slots are out; a guest_memfd
		 * slot's pfns come from its file, not from the primary MMU */
		if (!slot || (slot->flags & KVM_MEM_GUEST_MEMFD))
			continue;
		hva_t hva = gfn_to_hva_memslot(slot, gfn + i);
		SimPfn primary = sim_mm_lookup(kvm->mm, hva);

		if (primary != p) {
			g_autofree gchar *what = primary == SIM_PFN_NONE ? g_strdup("nothing") :
				g_strdup_printf("pfn 0x%" G_GINT64_MODIFIER "x", primary);

			kvm_invariant_failed(kvm, "spte_matches_primary",
					     "gfn 0x%" G_GINT64_MODIFIER "x maps pfn 0x%"
					     G_GINT64_MODIFIER "x but the primary MMU maps hva 0x%"
					     G_GINT64_MODIFIER "x to %s (installed from a stale lookup, "
					     "or not invalidated)", gfn + i, p, hva, what);
			return FALSE;
		}
	}
	return TRUE;
}

/* Every present leaf under one table (of a root, valid or invalid): a walk of the present
 * entries only, through the SPTE accessor (the table memory holds the hardware encoding). */
static gboolean
audit_table(struct kvm *kvm, const u64 *pt, int level, gfn_t base, gboolean valid_root)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = kvm_tdp_mmu_read_spte(&pt[i], level);
		gfn_t gfn = base + ((gfn_t)i << ((level - 1) * SPTE_LEVEL_BITS));

		if (!is_shadow_present_pte(spte))
			continue;
		if (is_last_spte(spte, level)) {
			if (!audit_leaf(kvm, gfn, spte_to_pfn(spte), KVM_PAGES_PER_HPAGE(level),
					valid_root))
				return FALSE;
		} else if (!audit_table(kvm, sim_ptpool_va(kvm->pt_pool,
							     spte & SPTE_BASE_ADDR_MASK),
					level - 1, gfn, valid_root)) {
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * What the walks below depend on: SPTE writes, frames allocated and freed (the primary MMU maps
 * another frame only through one of these), the memslots. While it stays the same, a walk finds
 * what the last one found.
 */
static guint64
audit_epoch(const struct kvm *kvm)
{
	return tdp_mmu_spte_writes + kvm->counters->v[SIM_CTR_FRAMES_ALLOCATED] +
	       kvm->counters->v[SIM_CTR_FRAMES_FREED] + kvm->memslots->generation;
}

/* The roots a full walk audits (root_count > 0), each as its address with bit 0 set if valid,
 * in walk order; FALSE if there are more than the marks hold. */
static gboolean
audit_roots(const struct kvm *kvm, guintptr *roots, guint *nr)
{
	*nr = 0;
	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
		const struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

		if (root->root_count <= 0)
			continue;
		if (*nr == G_N_ELEMENTS(kvm->audit.roots))
			return FALSE;
		roots[(*nr)++] = (guintptr)root | !root->invalid;
	}
	return TRUE;
}

/*
 * Whether only the SPTEs written since the last walk need a look: that walk passed with no
 * invalidation open; since then no frame was freed, no invalidation began (the primary MMU changes
 * or drops a page it maps only between an invalidate_range_start() and its end, and KVM's notifier
 * counts the begin of each that covers a memslot), the memslots and the audited roots are the
 * same, and the SPTE log still holds every write. A leaf that passed can then fail only if its
 * SPTE, or one above it, was written: a frame allocated meanwhile maps a page nothing mapped.
 */
static gboolean
audit_incremental_ok(const struct kvm *kvm, const guintptr *roots, guint nr)
{
	const struct kvm_audit_mark *m = &kvm->audit;

	return m->walked && tdp_mmu_spte_writes - m->spte_writes <= TDP_MMU_SPTE_LOG &&
	       m->freed == kvm->counters->v[SIM_CTR_FRAMES_FREED] &&
	       m->invalidations == kvm->counters->v[SIM_CTR_INVALIDATIONS] &&
	       m->generation == kvm->memslots->generation && m->nr_roots == nr &&
	       memcmp(m->roots, roots, nr * sizeof(*roots)) == 0;
}

/* A logged SPTE write that an audited root reaches: where a full walk would meet it. */
typedef struct {
	guint root;     /* index in the audited roots */
	gfn_t gfn;
	int level;
	u64 *sptep;
} AuditSite;

/* Where the logged write to sptep is, if an audited root still reaches its table: every table
 * on the way up is linked from the entry above it. */
static gboolean
audit_locate(const struct kvm *kvm, u64 *sptep, const guintptr *roots, guint nr,
	     AuditSite *site)
{
	guint64 pa, size;
	const guint8 *region = sim_ptpool_region(kvm->pt_pool, &pa, &size);

	if ((const guint8 *)sptep < region || (const guint8 *)sptep >= region + size)
		return FALSE; /* another VM's table */
	const struct kvm_mmu_page *sp = sptep_to_sp(kvm, sptep);

	if (!sp)
		return FALSE;
	site->sptep = sptep;
	site->level = sp->level;
	site->gfn = sp->gfn + ((gfn_t)(sptep - sp->spt) << ((sp->level - 1) * SPTE_LEVEL_BITS));
	while (sp->ptep) {
		const struct kvm_mmu_page *parent = sptep_to_sp(kvm, sp->ptep);

		if (!parent)
			return FALSE;
		u64 spte = kvm_tdp_mmu_read_spte(sp->ptep, parent->level);

		if (!is_shadow_present_pte(spte) || is_last_spte(spte, parent->level) ||
		    (spte & SPTE_BASE_ADDR_MASK) != sp->spt_pa)
			return FALSE;
		sp = parent;
	}
	for (guint i = 0; i < nr; i++) {
		if ((roots[i] & ~(guintptr)1) == (guintptr)sp) {
			site->root = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* Full-walk order: roots in order, then gfns ascending, a table before the entries under it. */
static int
audit_site_cmp(const void *a, const void *b)
{
	const AuditSite *x = a, *y = b;

	if (x->root != y->root)
		return x->root < y->root ? -1 : 1;
	if (x->gfn != y->gfn)
		return x->gfn < y->gfn ? -1 : 1;
	return (x->level < y->level) - (x->level > y->level);
}

/* The SPTEs written since the last walk, in the order a full walk would meet them, so that the
 * first failure reported is the one a full walk would report. */
static gboolean
audit_written(struct kvm *kvm, const guintptr *roots, guint nr)
{
	AuditSite sites[TDP_MMU_SPTE_LOG];
	guint n = 0;

	for (u64 w = kvm->audit.spte_writes; w != tdp_mmu_spte_writes; w++)
		if (audit_locate(kvm, tdp_mmu_spte_log[w % TDP_MMU_SPTE_LOG], roots, nr, &sites[n]))
			n++;
	qsort(sites, n, sizeof(*sites), audit_site_cmp);
	for (guint i = 0; i < n; i++) {
		const AuditSite *site = &sites[i];
		gboolean valid = roots[site->root] & 1;
		u64 spte = kvm_tdp_mmu_read_spte(site->sptep, site->level);

		if (!is_shadow_present_pte(spte))
			continue;
		if (is_last_spte(spte, site->level)) {
			if (!audit_leaf(kvm, site->gfn, spte_to_pfn(spte),
					KVM_PAGES_PER_HPAGE(site->level), valid))
				return FALSE;
		} else if (!audit_table(kvm,
					sim_ptpool_va(kvm->pt_pool, spte & SPTE_BASE_ADDR_MASK),
					site->level - 1, site->gfn, valid)) {
			return FALSE;
		}
	}
	return TRUE;
}

/*
 * kvmsim's audit of the MMU at one step: no SPTE of any root maps a freed or quarantined frame;
 * every present leaf of the valid root maps what the primary MMU maps; no vCPU without a pending
 * flush holds a zapped translation to a freed frame; in_progress is not negative. FALSE (and the
 * run failed) at the first violation. With epoch, the walks are skipped while nothing they
 * depend on changed since the audit that set *epoch; when only SPTEs changed (and frames were
 * allocated), only those are walked (audit_incremental_ok()): a step then costs what it wrote,
 * not the size of the tables.
 */
gboolean
kvm_mmu_audit(struct kvm *kvm, guint64 *epoch)
{
	guintptr roots[G_N_ELEMENTS(kvm->audit.roots)];
	guint nr;

	if (kvm->mmu_invalidate_in_progress < 0) {
		kvm_invariant_failed(kvm, "invalidate_unbalanced", "in_progress is %ld",
				     kvm->mmu_invalidate_in_progress);
		return FALSE;
	}
	if (epoch) {
		guint64 now = audit_epoch(kvm);

		if (*epoch == now)
			return TRUE;
		*epoch = now;
	}
	gboolean few_roots = audit_roots(kvm, roots, &nr);

	if (few_roots && audit_incremental_ok(kvm, roots, nr)) {
		if (!audit_written(kvm, roots, nr))
			return FALSE;
	} else {
		for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++) {
			struct kvm_mmu_page *root = g_ptr_array_index(kvm->tdp_mmu_roots, i);

			if (root->root_count > 0 && !audit_table(kvm, root->spt, root->level, 0,
								   !root->invalid))
				return FALSE;
		}
	}
	kvm->audit = (struct kvm_audit_mark){
		.walked = few_roots && kvm->mmu_invalidate_in_progress == 0,
		.spte_writes = tdp_mmu_spte_writes,
		.freed = kvm->counters->v[SIM_CTR_FRAMES_FREED],
		.invalidations = kvm->counters->v[SIM_CTR_INVALIDATIONS],
		.generation = kvm->memslots->generation,
		.nr_roots = nr,
	};
	memcpy(kvm->audit.roots, roots, nr * sizeof(*roots));
	struct kvm_unflushed_tlb_iter iter;

	for_each_unflushed_tlb_entry(iter, kvm) {
		const struct kvm_stale_tlb_entry *e = iter.entry;

		if (e->pfn != SIM_ZERO_PFN && !sim_frame_allocated(kvm->hm, e->pfn)) {
			kvm_invariant_failed(kvm, "freed_frame_still_mapped",
					     "vcpu%d may still map gfn 0x%" G_GINT64_MODIFIER
					     "x to pfn 0x%" G_GINT64_MODIFIER "x, which was "
					     "freed (no TLB flush since the zap)",
					     iter.vcpu->vcpu_id, e->gfn, e->pfn);
			return FALSE;
		}
	}
	return TRUE;
}
