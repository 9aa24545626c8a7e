/* SPDX-License-Identifier: GPL-2.0-only */
/* Walking the TDP MMU's tables for kvmsim show tree (dump.h); no kernel counterpart. */
#include "mmu/dump.h"

#include "mmu/mmu-internal.h"

static void visit_table(struct kvm *kvm, const struct kvm_mmu_page *sp, KvmDumpKind kind,
			int depth, const KvmDumpOps *ops, gpointer data);

/* The entries of table pt at level, recursing into present children. */
static void
visit_entries(struct kvm *kvm, u64 *pt, int level, gfn_t base, KvmDumpKind kind, int depth,
	      const KvmDumpOps *ops, gpointer data)
{
	for (int i = 0; i < SPTE_ENT_PER_PAGE; i++) {
		u64 spte = kvm_tdp_mmu_read_spte(pt + i, level);
		KvmDumpEntry e = { i, level, base + (u64)i * KVM_PAGES_PER_HPAGE(level), spte,
				   depth };

		if (spte == SHADOW_NONPRESENT_VALUE)
			continue;
		ops->entry(&e, data);
		if (!is_shadow_present_pte(spte) || is_last_spte(spte, level))
			continue;
		u64 *child = sim_ptpool_va(kvm->pt_pool, spte & SPTE_BASE_ADDR_MASK);
		struct kvm_mmu_page *csp = child ? sptep_to_sp(kvm, child) : NULL;

		if (csp)
			visit_table(kvm, csp, kind, depth + 1, ops, data);
	}
}

/* One table, then its entries and, depth first, its children. */
static void
visit_table(struct kvm *kvm, const struct kvm_mmu_page *sp, KvmDumpKind kind, int depth,
	    const KvmDumpOps *ops, gpointer data)
{
	KvmDumpTable t = { kind, sp->spt_pa, sp->level, sp->gfn, sp->invalid, sp->root_count,
			   depth };

	ops->table(&t, data);
	visit_entries(kvm, sp->spt, sp->level, sp->gfn, kind, depth, ops, data);
}

/* Roots in list order, then tables being torn down, then those waiting for RCU. */
void
kvm_tdp_mmu_dump(struct kvm *kvm, const KvmDumpOps *ops, gpointer data)
{
	const struct kvm_mmu_page *sp;

	for (guint i = 0; i < kvm->tdp_mmu_roots->len; i++)
		visit_table(kvm, g_ptr_array_index(kvm->tdp_mmu_roots, i), KVM_DUMP_ROOT, 0, ops,
			    data);
	for (guint i = 0; i < kvm->tdp_mmu_removing->len; i++)
		visit_table(kvm, g_ptr_array_index(kvm->tdp_mmu_removing, i), KVM_DUMP_REMOVING, 0,
			    ops, data);
	for (guint i = 0; (sp = kvm_tdp_mmu_rcu_pending(kvm, i)); i++)
		visit_table(kvm, sp, KVM_DUMP_RCU, 0, ops, data);
}
