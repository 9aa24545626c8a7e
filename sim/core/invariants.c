/* SPDX-License-Identifier: GPL-2.0-only */
/* The invariant registry. Keep sorted; tests/explore checks it against the sources. */
#include "sim/core/invariants.h"

#include <string.h>

static const SimInvariant invariants[] = {
	{ "apf_token_waits_forever",
	  "async PF: every token whose 'page not present' #PF the guest took is still held by KVM "
	  "(queued or done) until its 'page ready' is injected: no guest task waits forever on one",
	  "every step (post-copy runs, explore, exit-level replay)" },
	{ "converted_page_still_mapped",
	  "inside a conversion's window, after its zap, no SPTE of any root maps the range and no "
	  "vCPU that enters without flushing may still hold a translation of it",
	  "KVM_SET_MEMORY_ATTRIBUTES, guest_memfd conversions" },
	{ "deadlock", "some actor can still run: not every live actor waits",
	  "scheduler, whenever it picks" },
	{ "freed_frame_mapped_by_spte",
	  "no SPTE (a leaf of any root, valid or invalid) maps a freed or quarantined frame",
	  "when a frame is freed; every step (explore, exit-level replay)" },
	{ "freed_frame_still_mapped",
	  "no vCPU without a pending flush can still hold a TLB translation to a freed frame",
	  "when a frame is freed; every step (explore, exit-level replay)" },
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
