/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The post-copy mechanisms: one row each, with the VMM's handling of the memory-fault exits a
 * mechanism makes on the vCPU thread. Other mechanisms (async PF) append rows here.
 */
#include "sim/vmm/postcopy.h"

#include <string.h>

#include "mmu/mmu.h"

/*
 * Exit-on-missing (v7): the exit says only that the host mapping is absent. The VMM asks for
 * the page and waits on this vCPU thread, then runs it again (the page is placed with
 * UFFDIO_COPY by the I/O actor; MADV_POPULATE_WRITE would fault into userfaultfd itself). A page
 * that is mapped by the time the VMM looks is spurious; one that arrived and was dropped by the
 * host since is refilled.
 */
static gboolean
exit_on_missing_fault(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	guint64 gpa = run->memory_fault.gpa;

	if (sim_postcopy_exit_seen(pc, vcpu_id, run, sim_postcopy_host_mapped(pc, gpa)))
		return TRUE;
	if (sim_postcopy_ready(pc, gpa)) {
		sim_postcopy_refill(pc, gpa);
		return TRUE;
	}
	sim_postcopy_request(pc, gpa, NULL);
	sim_postcopy_wait(pc, gpa);
	return TRUE;
}

/*
 * KVM Userfault (v3): an exit with KVM_MEMORY_EXIT_FLAG_USERFAULT for a page whose bit is clear
 * already is the bitmap-clear race (the vCPU read the bit before the I/O actor cleared it):
 * spurious, run again. Otherwise ask for the page and wait until its bit is clear.
 */
static gboolean
userfault_fault(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	guint64 gpa = run->memory_fault.gpa;

	if (!(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_USERFAULT))
		return FALSE;
	if (sim_postcopy_exit_seen(pc, vcpu_id, run, sim_postcopy_ready(pc, gpa)))
		return TRUE;
	sim_postcopy_request(pc, gpa, NULL);
	sim_postcopy_wait(pc, gpa);
	return TRUE;
}

static const SimPostcopyMech mechs[] = {
	{ "uffd", "userfaultfd MISSING: vCPU faults sleep on the uffd wait queue (merged)",
	  KVM_POSTCOPY_UAPI_NONE, 0, FALSE, NULL, 0, NULL },
	{ "exit-on-missing",
	  "KVM_MEM_EXIT_ON_MISSING: GUP-fast only, KVM_EXIT_MEMORY_FAULT on a miss (v7, proposed)",
	  KVM_POSTCOPY_UAPI_EXIT_ON_MISSING, KVM_MEM_EXIT_ON_MISSING, FALSE,
	  exit_on_missing_fault, 0, NULL },
	{ "userfault",
	  "KVM_MEM_USERFAULT: a set bit in the slot's bitmap exits (v3, proposed)",
	  KVM_POSTCOPY_UAPI_USERFAULT, KVM_MEM_USERFAULT, TRUE, userfault_fault, 0, NULL },
};

/* This table, then the async PF rows (sim/vmm/apf-user.c), in one array built once. */
const SimPostcopyMech *
sim_postcopy_mechs(guint *out_n)
{
	static SimPostcopyMech all[G_N_ELEMENTS(mechs) + 8];
	static guint n;

	if (!n) {
		guint n_apf;
		const SimPostcopyMech *apf = sim_apf_mechs(&n_apf);

		g_assert(n_apf <= 8);
		memcpy(all, mechs, sizeof(mechs));
		memcpy(all + G_N_ELEMENTS(mechs), apf, n_apf * sizeof(*apf));
		n = G_N_ELEMENTS(mechs) + n_apf;
	}
	*out_n = n;
	return all;
}

/* The row called name, or NULL. */
const SimPostcopyMech *
sim_postcopy_mech_lookup(const char *name)
{
	guint n;
	const SimPostcopyMech *all = sim_postcopy_mechs(&n);

	for (guint i = 0; name && i < n; i++)
		if (strcmp(all[i].name, name) == 0)
			return &all[i];
	return NULL;
}
