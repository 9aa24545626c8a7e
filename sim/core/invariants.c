/* SPDX-License-Identifier: GPL-2.0-only */
/* The invariant registry. Keep sorted; tests/explore checks it against the sources. */
#include "sim/core/invariants.h"

#include <string.h>

static const SimInvariant invariants[] = {
	{ "apf_token_waits_forever",
	  "async PF: every token whose 'page not present' #PF the guest took is still held by KVM "
	  "(queued or done) until its 'page ready' is injected: no guest task waits forever on one",
	  "every step (post-copy runs, explore, exit-level replay)" },
	{ "asi_cr3_stable",
	  "ASI §8.11: no read-modify-write of CR3 (a local TLB flush) inside a critical section",
	  "native_flush_tlb_local (--asi on)" },
	{ "asi_critical_section_sensitive",
	  "ASI §8.3: the critical section (target set, no interrupt) never touches memory its domain "
	  "does not map (warn_if_bad_asi_pf; a #PF loop is one)",
	  "every #PF the accessor takes (--asi on)" },
	{ "asi_enter_relax_pairing",
	  "ASI §8.5: asi_enter only relaxed, not nested, preemption off; asi_relax and asi_exit not "
	  "inside an interrupt or the critical section; asi_map/unmap, switch_mm and context_switch in "
	  "their contexts (the kernel's WARNs)",
	  "each ASI call (--asi on)" },
	{ "asi_exit_flushes_control",
	  "ASI §8.8: right after asi_exit no control taint is set and KERNEL_DATA is",
	  "every asi_exit (--asi on)" },
	{ "asi_intr_return_restores",
	  "ASI §8.6: the outermost return from an interrupt into a tense region finds curr_asi == "
	  "target",
	  "asi_intr_exit (--asi on)" },
	{ "asi_lifecycle",
	  "ASI §8.14: a class exists before its domains, a domain is destroyed only when no CPU is in "
	  "it and not below zero references; every frame is tracked once and freed once",
	  "set-up, asi_destroy, frame allocation and free (--asi on)" },
	{ "asi_order",
	  "ASI §8.7: curr_asi names the domain before asi_enter writes its CR3, and is cleared only "
	  "after asi_exit writes the unrestricted CR3",
	  "every ASI CR3 write (--asi on)" },
	{ "asi_pcid_distinct",
	  "ASI §8.13: the restricted and unrestricted PCIDs of an mm differ and fit below the PTI bit",
	  "domain set-up (--asi on)" },
	{ "asi_restricted_sound",
	  "ASI §8.4: no sensitive frame is mapped in a restricted PGD, and every restricted PTE equals "
	  "the unrestricted one",
	  "end of run (--asi on)" },
	{ "asi_steady_state_nop",
	  "ASI §8.12: between two VM entries on a CPU with no asi_exit in between, no CR3 write and no "
	  "ASI flush",
	  "every VM entry (--asi on)" },
	{ "asi_taint_rules",
	  "ASI §8.9: the taint relations of the branch's KUnit test (data taints of the kernel or "
	  "another mm never with user or guest control taints, ...)",
	  "every taint change (--asi on)" },
	{ "asi_unrestricted_at_switch",
	  "ASI §8.10: unrestricted when context_switch() switches tasks and at exit_to_user_mode after "
	  "KVM_RUN",
	  "context switches, returns to the VMM (--asi on)" },
	{ "asi_vmenter_restricted",
	  "ASI §8.1: VM entry only in the restricted space: curr_asi is the VM's domain, CR3 its PGD "
	  "and ASI PCID, and HOST_CR3 equals CR3",
	  "every VM entry (--asi on)" },
	{ "asi_vmenter_untainted",
	  "ASI §8.2: no taint the KVM class flushes (protect_data, prevent_control) is left at VM entry",
	  "every VM entry (--asi on)" },
	{ "converted_page_still_mapped",
	  "inside a conversion's window, after its zap, no SPTE of any root maps the range and no "
	  "vCPU that enters without flushing may still hold a translation of it",
	  "KVM_SET_MEMORY_ATTRIBUTES, guest_memfd conversions" },
	{ "deadlock", "some actor can still run: not every live actor waits",
	  "scheduler, whenever it picks" },
	{ "dirty_log_missed_write",
	  "every guest write reaches the dirty log: once dirty logging is on, a store to a gfn of "
	  "the slot finds its dirty bit set, or a harvest under way that reports the gfn",
	  "every exit-level <guest_write> to a dirty-logged slot" },
	{ "entry_with_flush_due",
	  "no vCPU runs guest code with KVM_REQ_TLB_FLUSH or KVM_REQ_MMU_FREE_OBSOLETE_ROOTS "
	  "pending: the freed-frame and freed-table checks trust it to flush first",
	  "every VM entry" },
	{ "freed_frame_mapped_by_spte",
	  "no SPTE (a leaf of any root, valid or invalid) maps a freed or quarantined frame",
	  "when a frame is freed; every step (explore, exit-level replay)" },
	{ "freed_frame_still_mapped",
	  "no vCPU without a pending flush can still hold a TLB translation to a freed frame",
	  "when a frame is freed; every step (explore, exit-level replay)" },
	{ "freed_sp_on_nx_list",
	  "a page table freed by RCU is not on possible_nx_huge_pages, where the NX recovery "
	  "worker would take it", "when an RCU grace period frees a table" },
	{ "freed_table_still_cached",
	  "a page table unlinked from the valid root is freed only once every vCPU flushed (or has "
	  "a flush pending): the hardware walker may cache it until then",
	  "when an RCU grace period frees a table" },
	{ "freed_root_not_empty",
	  "an invalid root is empty when its last reference goes: nothing was installed into it "
	  "after the zap of invalidated roots (its tables would leak; kmemleak would see them)",
	  "the last put of a root" },
	{ "frozen_spte_written",
	  "only the task that froze an SPTE writes it (the WARN of __tdp_mmu_set_spte_atomic())",
	  "every SPTE compare-exchange of the TDP MMU" },
	{ "guest_verdict", "a full-system guest reports that it passed", "end of run (explore)" },
	{ "invalidate_seq_monotonic", "mmu_invalidate_seq never goes backwards",
	  "every step (explore, exit-level replay)" },
	{ "invalidate_unbalanced", "mmu_invalidate_in_progress is never negative",
	  "invalidate_end; every step (explore, exit-level replay)" },
	{ "invalidate_without_range",
	  "an invalidation window has a range: what it zaps was added to it (the kernel WARNs in "
	  "kvm_mmu_invalidate_end() and mmu_invalidate_retry_gfn())",
	  "invalidate_end, the stale check" },
	{ "livelock",
	  "every actor progresses: none passes its step budget, and progress happens within the "
	  "watchdog's yield points", "scheduler watchdog; every step (explore, exit-level replay)" },
	{ "mmu_lock_held_for_write",
	  "write-lock-only MMU work (shadow-page reclaim, make_mmu_pages_available()) never runs "
	  "with mmu_lock held for read (lockdep_assert_held_write)",
	  "make_mmu_pages_available()" },
	{ "postcopy_fetched_twice",
	  "post-copy: no remote page is fetched a second time unless the model names why (a "
	  "request with a reason)", "every fetch of the VMM's I/O actor" },
	{ "postcopy_mapped_before_content",
	  "post-copy: no page of the remote range is mapped, in the VMM's page table or by a present "
	  "SPTE, before its content arrived", "every step, on a rolling window of 8 pages" },
	{ "private_spte_not_gmem",
	  "a leaf installed for a private fault (or a shared one on a gmem-only slot) maps the "
	  "folio at the gfn's index of the slot's bound, active guest_memfd",
	  "every private or gmem-only fault's install" },
	{ "punched_page_still_mapped",
	  "inside a hole punch's window, after its zap, no SPTE of any root maps the range and no "
	  "vCPU that enters without flushing may still hold a translation of it",
	  "fallocate(PUNCH_HOLE) of a guest_memfd" },
	{ "spte_matches_primary",
	  "a present leaf of the valid root maps the frame the primary MMU maps at its hva (what "
	  "it mapped at install time, or the SPTE was invalidated since)",
	  "every step (explore, exit-level replay)" },
	{ "spte_pfn_changed", "a present leaf never changes pfn without being zapped first",
	  "every SPTE change" },
	{ "spte_type_mismatch",
	  "a fault's SPTE has the access type of the gfn's attribute (or of its guest_memfd page): "
	  "no shared SPTE maps a private page, no private SPTE a shared one",
	  "every fault's install on a VM with private memory" },
	{ "spte_volatile_bit_lost",
	  "a store to an SPTE under the write mmu_lock replaces the value the walk read: no W or "
	  "Dirty bit a lockless writer (fast page fault, CPU) set since is overwritten unseen",
	  "every store to a leaf under the write lock" },
	{ "write_after_free", "nobody writes a frame while it sits freed in quarantine",
	  "when a quarantined frame is checked or reused" },
	{ "zero_page_written", "the shared zero page is never written", "when it is checked" },
};

const SimInvariant *
sim_invariants(guint *out_n)
{
	*out_n = G_N_ELEMENTS(invariants);
	return invariants;
}

const SimInvariant *
sim_invariant_lookup(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(invariants); i++)
		if (strcmp(invariants[i].name, name) == 0)
			return &invariants[i];
	return NULL;
}

gboolean
sim_invariant_of_reason(const char *reason, char *out, gsize len)
{
	static const char prefix[] = "invariant ";
	const char *end;

	if (!reason || !g_str_has_prefix(reason, prefix))
		return FALSE;
	reason += strlen(prefix);
	end = strstr(reason, " violated");
	if (!end || (gsize)(end - reason) >= len)
		return FALSE;
	memcpy(out, reason, end - reason);
	out[end - reason] = '\0';
	return TRUE;
}
