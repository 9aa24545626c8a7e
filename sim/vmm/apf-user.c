/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The async page fault post-copy mechanisms (mmu/async_pf.h), rows of the mechanism table
 * (sim/vmm/postcopy-mech.c), and the VMM's side of async PF user:
 *
 *   async-pf               userfaultfd + mainline async PF: a vCPU fault whose GUP would sleep in
 *                          userfaultfd sets up a kernel work item that sleeps there instead; the
 *                          guest gets 'page not present' and runs another task
 *   async-pf-user          KVM Userfault + async PF user (RFC v1): the exit carries a token, the
 *                          VMM hands the fetch to the I/O actor and re-runs the vCPU at once;
 *                          once the page is placed (its bit cleared), KVM_ASYNC_PF_USER_READY.
 *                          An exit for a page already there (the bitmap-clear race) is resolved
 *                          at once on the vCPU thread: READY right away
 *   async-pf-user-sync     the same kernel, a VMM that resolves every fault synchronously on the
 *                          vCPU thread (fetch, wait, READY): Sean Christopherson's objection, a
 *                          useless 'not present' #PF then 'page ready' for each
 *   async-pf-user-v2       the later iteration (KVM_APF_OP_*): nothing is injected until the VMM
 *                          says KVM_APF_OP_ACCEPT (handed off); a fault it resolves itself is
 *                          KVM_APF_OP_SYNC_COMPLETE, which injects nothing
 *   async-pf-user-v2-sync  v2 with the synchronous VMM: no useless injections
 *
 * The guest must run the async PF runtime (workloads/runtime/apf.h): the VMM runs NAME+apf
 * instead of NAME and sets KVMSIM_BOOT_ASYNC_PF.
 */
#include "sim/vmm/postcopy.h"

#include "mmu/async_pf.h"
#include "sim/core/log.h"

/* A token handed off to the I/O actor, waiting for its page. */
typedef struct {
	int vcpu_id;
	guint32 token;
	guint64 gpa;
} ApfUserPending;

typedef struct {
	GArray *pending; /* ApfUserPending, in hand-off order */
} ApfUser;

/* The VMM state of async PF user goes with the page source. */
static void
apf_user_free(gpointer data)
{
	ApfUser *u = data;

	g_array_free(u->pending, TRUE);
	g_free(u);
}

/* KVM_ASYNC_PF_USER_READY (or KVM_APF_OP_READY) for token; logged. */
static void
apf_user_ready(SimPostcopy *pc, int vcpu_id, guint32 token, guint64 gpa)
{
	struct kvm *kvm = sim_postcopy_kvm(pc);
	int r = kvm_vcpu_ioctl_async_pf_user_ready(kvm->vcpus[vcpu_id], token);

	sim_log_emit(kvm->log, "sim_async_pf_user_ready", "vcpu %d token %#x gpa 0x%"
		     G_GINT64_MODIFIER "x%s", vcpu_id, token, gpa, r ? " (-ENOENT)" : "");
}

/* The I/O actor placed gpa: READY for every token handed off for it. */
static void
apf_user_placed(SimPostcopy *pc, guint64 gpa, gpointer data)
{
	ApfUser *u = data;
	guint64 page = gpa & ~(SIM_PAGE_SIZE - 1);

	for (guint i = 0; i < u->pending->len;) {
		ApfUserPending *p = &g_array_index(u->pending, ApfUserPending, i);

		if (p->gpa != page) {
			i++;
			continue;
		}
		ApfUserPending done = *p;

		g_array_remove_index(u->pending, i);
		apf_user_ready(pc, done.vcpu_id, done.token, done.gpa);
	}
}

/* The mechanism set-up: the pending tokens, and READY from the placed hook. */
static void
apf_user_setup(SimPostcopy *pc)
{
	ApfUser *u = g_new0(ApfUser, 1);

	u->pending = g_array_new(FALSE, FALSE, sizeof(ApfUserPending));
	sim_postcopy_set_mech_data(pc, u, apf_user_free);
	sim_postcopy_set_placed_hook(pc, apf_user_placed, u);
}

/*
 * The VMM's handling of a userfault exit, on the vCPU thread. sync: resolve every fault here
 * (fetch and wait); v2: say so with KVM_APF_OP_SYNC_COMPLETE / KVM_APF_OP_ACCEPT.
 */
static gboolean
apf_user_fault(SimPostcopy *pc, int vcpu_id, const struct kvm_run *run, gboolean sync,
	       gboolean v2)
{
	struct kvm_vcpu *vcpu = sim_postcopy_kvm(pc)->vcpus[vcpu_id];
	guint64 gpa = run->memory_fault.gpa;
	guint32 token = run->memory_fault.async_pf_user_token;
	gboolean already = sim_postcopy_ready(pc, gpa);

	if (!(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_USERFAULT))
		return FALSE;
	if (sim_postcopy_exit_seen(pc, vcpu_id, run, already) &&
	    !(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_ASYNC_PF_USER))
		return TRUE;
	if (!(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_ASYNC_PF_USER)) {
		/* KVM could not set async PF up: a plain userfault, waited for here */
		sim_postcopy_request(pc, gpa, NULL);
		sim_postcopy_wait(pc, gpa);
		return TRUE;
	}
	if (already || sync) {
		if (!already) {
			sim_postcopy_request(pc, gpa, NULL);
			sim_postcopy_wait(pc, gpa);
		}
		if (v2) {
			kvm_vcpu_ioctl_async_pf_sync_complete(vcpu, token);
			sim_log_emit(sim_postcopy_kvm(pc)->log, "sim_async_pf_user_sync_complete",
				     "vcpu %d token %#x", vcpu_id, token);
		} else {
			apf_user_ready(pc, vcpu_id, token, gpa & ~(SIM_PAGE_SIZE - 1));
		}
		return TRUE;
	}
	if (v2)
		kvm_vcpu_ioctl_async_pf_accept(vcpu, token);
	ApfUserPending p = { vcpu_id, token, gpa & ~(SIM_PAGE_SIZE - 1) };

	g_array_append_val(((ApfUser *)sim_postcopy_mech_data(pc))->pending, p);
	sim_postcopy_request(pc, gpa, NULL);
	return TRUE;
}

static gboolean
apf_user_v1(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	return apf_user_fault(pc, vcpu_id, run, FALSE, FALSE);
}

static gboolean
apf_user_v1_sync(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	return apf_user_fault(pc, vcpu_id, run, TRUE, FALSE);
}

static gboolean
apf_user_v2(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	return apf_user_fault(pc, vcpu_id, run, FALSE, TRUE);
}

static gboolean
apf_user_v2_sync(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	return apf_user_fault(pc, vcpu_id, run, TRUE, TRUE);
}

static const SimPostcopyMech apf_mechs[] = {
	{ "async-pf",
	  "userfaultfd + async PF: a kernel worker sleeps in userfaultfd, the guest runs another "
	  "task (merged)",
	  KVM_POSTCOPY_UAPI_NONE, 0, FALSE, NULL, KVM_APF_MODE_KERNEL, NULL },
	{ "async-pf-user",
	  "KVM Userfault + async PF user: the exit has a token, the VMM fetches on its I/O "
	  "thread, KVM_ASYNC_PF_USER_READY (RFC, proposed)",
	  KVM_POSTCOPY_UAPI_USERFAULT, KVM_MEM_USERFAULT, TRUE, apf_user_v1, KVM_APF_MODE_USER,
	  apf_user_setup },
	{ "async-pf-user-sync",
	  "async PF user with a VMM that resolves each fault on the vCPU thread: useless "
	  "'not present' + 'page ready' pairs (RFC, proposed)",
	  KVM_POSTCOPY_UAPI_USERFAULT, KVM_MEM_USERFAULT, TRUE, apf_user_v1_sync,
	  KVM_APF_MODE_USER, apf_user_setup },
	{ "async-pf-user-v2",
	  "async PF user, later iteration: KVM_APF_OP_ACCEPT / SYNC_COMPLETE / READY (proposed)",
	  KVM_POSTCOPY_UAPI_USERFAULT, KVM_MEM_USERFAULT, TRUE, apf_user_v2,
	  KVM_APF_MODE_USER_V2, apf_user_setup },
	{ "async-pf-user-v2-sync",
	  "async PF user v2 with the synchronous VMM: SYNC_COMPLETE injects nothing (proposed)",
	  KVM_POSTCOPY_UAPI_USERFAULT, KVM_MEM_USERFAULT, TRUE, apf_user_v2_sync,
	  KVM_APF_MODE_USER_V2, apf_user_setup },
};

/* The rows postcopy-mech.c appends to its table. */
const SimPostcopyMech *
sim_apf_mechs(guint *out_n)
{
	*out_n = G_N_ELEMENTS(apf_mechs);
	return apf_mechs;
}
