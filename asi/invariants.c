/* SPDX-License-Identifier: GPL-2.0-only */
/* The invariants of reference/asi.md §8 as checks: TRUE when held, else reported by name. */
#include "asi/asi-internal.h"

/* Report name unless ok; returns ok. */
static gboolean
held(AsiHost *host, gboolean ok, const char *name)
{
	if (!ok)
		asi_report(host, name);
	return ok;
}

/* §8.1: VM-enter only in the VM's domain, its PGD and ASI PCID, with HOST_CR3 equal to CR3. */
gboolean
asi_check_vmenter_restricted(AsiCpu *cpu, struct asi *kvm_asi, guint64 host_cr3)
{
	guint64 want = build_cr3(kvm_asi->pgd, asi_pcid(kvm_asi, cpu->loaded_mm->asid));

	return held(cpu->host, cpu->curr_asi == kvm_asi && cpu->cr3 == want && host_cr3 == cpu->cr3,
		    "asi_vmenter_unrestricted");
}

/* §8.2: no taint the KVM policy flushes is left at VM-enter. */
gboolean
asi_check_vmenter_taints(AsiCpu *cpu, struct asi *kvm_asi)
{
	struct asi_taint_policy *p = cpu->host->policies[kvm_asi->class_id];

	return held(cpu->host, !(cpu->taints & (p->protect_data | p->prevent_control)),
		    "asi_vmenter_tainted");
}

/* §8.4: every present leaf in the domain maps a nonsensitive frame (user pages in a class that
 * maps user addresses excepted) and equals the unrestricted leaf for the same address. */
static gboolean
sound_level(AsiHost *host, struct asi *asi, guint64 table, int level, guint64 base)
{
	const guint shift[5] = { 0, 12, 21, 30, 39 };
	guint64 *page = asi_pt_va(host, table);
	gboolean ok = TRUE;

	for (guint i = 0; i < PTRS_PER_PGD; i++) {
		guint64 va = base | ((guint64)i << shift[level]);

		if (!(page[i] & _PAGE_PRESENT))
			continue;
		if (level == 4 && i >= KERNEL_PGD_BOUNDARY)
			va |= 0xffff000000000000ull;
		if (level == 4 && i < KERNEL_PGD_BOUNDARY && asi_maps_user_addr(asi->class_id))
			continue; /* the mm's own user tables, shared (asi_clone_user_pgtbl) */
		if (level > 1 && !(page[i] & _PAGE_PSE)) {
			ok &= sound_level(host, asi, page[i] & PTE_PFN_MASK, level - 1, va);
			continue;
		}
		ok &= !asi_page_sensitive(host, page[i] & PTE_PFN_MASK);
		ok &= asi_pt_walk(host, asi->mm->pgd, va, NULL, NULL) == page[i];
	}
	return ok;
}

/* §8.4 over the whole domain. */
gboolean
asi_check_restricted_sound(AsiHost *host, struct asi *asi)
{
	return held(host, sound_level(host, asi, asi->pgd, 4, 0), "asi_restricted_unsound");
}

/* §8.6: back in a tense process context (depth 0), the target is the current domain. */
gboolean
asi_check_intr_return(AsiCpu *cpu)
{
	AsiTask *task = cpu->current;

	return held(cpu->host, !task->target || task->intr_nest_depth != 0 ||
				       cpu->curr_asi == task->target,
		    "asi_intr_return_not_restored");
}

/* §8.8: right after asi_exit no control taint is left and KERNEL_DATA is set. */
gboolean
asi_check_after_exit(AsiCpu *cpu)
{
	return held(cpu->host,
		    !(cpu->taints & ASI_TAINTS_CONTROL_MASK) && (cpu->taints & ASI_TAINT_KERNEL_DATA),
		    "asi_exit_left_control_taint");
}

/* §8.9: the taint relations test_asi_tainting (branch asi_test.c) asserts. */
gboolean
asi_check_taint_rules(AsiHost *host, asi_taints_t t)
{
	gboolean ok = TRUE;

	if (t & (ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA))
		ok &= !(t & (ASI_TAINT_USER_CONTROL | ASI_TAINT_GUEST_CONTROL));
	if (t & ASI_TAINT_KERNEL_DATA)
		ok &= !(t & ASI_TAINT_OTHER_MM_CONTROL);
	if (t & ASI_TAINT_USER_DATA) {
		ok &= !(t & ASI_TAINT_OTHER_MM_CONTROL);
		if (!asi_maps_user_addr(ASI_CLASS_KVM))
			ok &= !(t & ASI_TAINT_GUEST_CONTROL);
	}
	return held(host, ok, "asi_taint_rules");
}

/* §8.10: unrestricted where the kernel cannot yet be restricted (context switch, return to user
 * mode from KVM_RUN); the userspace class's own domain is allowed at user return. */
gboolean
asi_check_unrestricted(AsiCpu *cpu, const char *where)
{
	gboolean ok = cpu->curr_asi == NULL;

	if (!ok && g_str_equal(where, "exit_to_user_mode") && cpu->current->mm)
		ok = cpu->curr_asi == &cpu->current->mm->asi[ASI_CLASS_USERSPACE];
	return held(cpu->host, ok, "asi_restricted_at_switch_or_user_return");
}

/* §8.12: with no asi_exit since before, no CR3 write and no ASI flush either. */
gboolean
asi_check_steady_nop(AsiHost *host, const AsiStats *before)
{
	const AsiStats *now = &host->stats;
	guint64 exits = 0;

	for (guint r = 0; r < NR_ASI_EXIT_REASONS; r++)
		exits += now->exits[r] - before->exits[r];
	if (exits)
		return TRUE;
	return held(host,
		    now->cr3_writes == before->cr3_writes && now->ibpb == before->ibpb &&
			    now->rsb == before->rsb && now->l1d == before->l1d,
		    "asi_steady_state_not_nop");
}

/* §8.13: the mm's unrestricted and restricted PCIDs differ and fit in the bits below PTI's. */
gboolean
asi_check_pcids(AsiHost *host, struct asi_mm *mm)
{
	guint16 kern = kern_pcid(mm->asid);
	gboolean ok = kern < (1u << X86_CR3_ASI_PCID_BITS_SHIFT);

	for (guint c = 0; c < ASI_MAX_NUM_CLASSES; c++) {
		struct asi probe = { .class_id = (enum asi_class_id)c };
		guint16 pcid = asi_pcid(&probe, mm->asid);

		ok &= pcid != kern && pcid < (1u << 11);
		for (guint d = 0; d < c; d++) {
			struct asi other = { .class_id = (enum asi_class_id)d };

			ok &= pcid != asi_pcid(&other, mm->asid);
		}
	}
	return held(host, ok, "asi_pcid_clash");
}
