/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Post-copy: guest RAM (the data region, or an exit-level machine's first memslot) starts
 * remote. The VMM holds its content (a seeded image) and fetching one page takes fetch_steps
 * logical steps on the VMM's I/O actor ("vmm_io", QEMU's postcopy listen thread), which places
 * it with UFFDIO_COPY. How a vCPU that touches a remote page gets it is the mechanism
 * (docs/postcopy.md):
 *
 *   uffd             the fault reaches GUP and sleeps on the userfaultfd wait queue; the VMM's
 *                    reader actor ("uffd", QEMU's fault thread) asks the I/O actor for the page
 *   exit-on-missing  KVM_MEM_EXIT_ON_MISSING (v7): GUP-fast only, KVM_EXIT_MEMORY_FAULT on a
 *                    miss; the vCPU thread asks for the page, waits, runs again
 *   userfault        KVM_MEM_USERFAULT (v3): a set bit exits; the I/O actor clears the bit
 *                    (store-release) after placing the page; an exit for a clear bit is spurious
 *
 * The remote range is registered with userfaultfd under every mechanism (KVM's own accesses
 * and the VMM's still fault there). The mechanism table is what other mechanisms extend
 * (sim/vmm/postcopy-mech.c): a name, the kernel series it needs, the memslot flags, and the
 * vCPU thread's handler of a KVM_EXIT_MEMORY_FAULT. Their machinery uses the page-source API:
 * sim_postcopy_request() asks for a page, sim_postcopy_ready()/sim_postcopy_wait() say or wait
 * until it is there, and sim_postcopy_set_placed_hook() is told of every page placed.
 */
#ifndef KVMSIM_SIM_VMM_POSTCOPY_H
#define KVMSIM_SIM_VMM_POSTCOPY_H

#include <glib.h>

#include "sim/core/counters.h"
#include "sim/core/mm.h"
#include "sim/core/sched.h"

struct kvm;
struct kvm_run;
typedef struct SimPostcopy SimPostcopy;

/* Logical steps one page takes to arrive unless configured. */
#define SIM_POSTCOPY_DEFAULT_FETCH_STEPS 16

/* One post-copy mechanism: a row of the table. */
typedef struct {
	const char *name;   /* --postcopy NAME, <postcopy mech="NAME"> */
	const char *what;   /* one line for kvmsim list and docs */
	int kvm_uapi;       /* enum kvm_postcopy_uapi the kernel must carry */
	guint32 slot_flags; /* memslot flags of the remote range */
	gboolean bitmap;    /* the slot has a KVM Userfault bitmap, all bits set at start */
	/* The VMM's handler (on the vCPU thread) of a KVM_EXIT_MEMORY_FAULT in the remote range;
	 * TRUE: run the vCPU again. NULL: the mechanism never exits for a remote page. */
	gboolean (*memory_fault)(SimPostcopy *pc, int vcpu_id, int error,
				 const struct kvm_run *run);
	int apf_mode;       /* KvmApfMode (mmu/async_pf.h): async PF of this mechanism, 0: none */
	/* Set-up of the mechanism's own VMM state (sim_postcopy_set_mech_data()), or NULL. */
	void (*setup)(SimPostcopy *pc);
} SimPostcopyMech;

/* The mechanisms, in the order the comparison prints them. */
const SimPostcopyMech *sim_postcopy_mechs(guint *out_n);
const SimPostcopyMech *sim_postcopy_mech_lookup(const char *name);

/* What happened, per run (also in the counters: uffd.*, postcopy.*). */
typedef struct {
	guint64 fetched;        /* pages the I/O actor fetched */
	guint64 exits;          /* KVM_EXIT_MEMORY_FAULTs of the remote range the VMM handled */
	guint64 wakeups;        /* sleepers woken by a page's arrival: uffd waiters + VMM threads */
	guint64 lock_blocked;   /* acquires of the uffd wait-queue lock that found it held */
	guint64 spurious;       /* exits for a page that was already there */
	guint64 refills;        /* pages dropped by the host after arrival, refilled with zeros */
	guint64 useless_apf;    /* 'page not present' injections whose page was there by the time
				 * the guest could act on them (counter postcopy.useless_apf, which
				 * the async-PF mechanisms raise) */
	guint64 finished_at;    /* logical step at which the guest finished (0: not yet) */
} SimPostcopyStats;

/*
 * The page source for [hva, hva + size) (gpa gpa): registers the range with a new userfaultfd
 * of mm and sets what the kernel carries (kvm->postcopy_uapi). Call before the memslot is
 * created with sim_postcopy_slot_flags() and sim_postcopy_bitmap().
 */
SimPostcopy *sim_postcopy_new(const SimPostcopyMech *mech, guint64 fetch_steps, guint64 seed,
			      SimSched *sched, SimMm *mm, struct kvm *kvm, SimCounters *counters, guint64 hva,
			      guint64 gpa, guint64 size, GError **error);
void sim_postcopy_free(SimPostcopy *pc);
guint32 sim_postcopy_slot_flags(const SimPostcopy *pc);
unsigned long *sim_postcopy_bitmap(const SimPostcopy *pc);
const SimPostcopyMech *sim_postcopy_mech(const SimPostcopy *pc);
/* Start the I/O and reader actors; they return once ended(data) holds and nobody waits. */
void sim_postcopy_start(SimPostcopy *pc, SimSched *sched, SimWaitFn ended, gpointer data);

/* The page source's API. gpa is any address of the page; outside the range: ignored/FALSE. */
gboolean sim_postcopy_covers(const SimPostcopy *pc, guint64 gpa);
/* Ask the I/O actor for the page (no-op if asked or arrived); why: a reason to fetch a page that
 * already arrived again (NULL: none, and such a request is ignored). */
void sim_postcopy_request(SimPostcopy *pc, guint64 gpa, const char *why);
/* The page arrived and (userfault) its bit is clear: a vCPU that runs now finds it. */
gboolean sim_postcopy_ready(const SimPostcopy *pc, guint64 gpa);
/* Block the running actor until sim_postcopy_ready() (counts a wake-up if it blocked). */
void sim_postcopy_wait(SimPostcopy *pc, guint64 gpa);
/* Called on the I/O actor after every page placed (and its bit cleared). */
typedef void (*SimPostcopyPlacedFn)(SimPostcopy *pc, guint64 gpa, gpointer data);
void sim_postcopy_set_placed_hook(SimPostcopy *pc, SimPostcopyPlacedFn fn, gpointer data);
/* The VM, and a mechanism's own state (freed with destroy when the source goes). */
struct kvm *sim_postcopy_kvm(const SimPostcopy *pc);
gpointer sim_postcopy_mech_data(const SimPostcopy *pc);
void sim_postcopy_set_mech_data(SimPostcopy *pc, gpointer data, GDestroyNotify destroy);
/* The async PF mechanisms' rows (sim/vmm/apf-user.c). */
const SimPostcopyMech *sim_apf_mechs(guint *out_n);
/* The vCPU thread's handling of a memory-fault exit in the range (the mechanism's handler). */
gboolean sim_postcopy_memory_fault(SimPostcopy *pc, int vcpu_id, int error,
				   const struct kvm_run *run);
/* For handlers: log and count an exit; say whether it is spurious (the page is already there),
 * logging and counting that too. */
gboolean sim_postcopy_exit_seen(SimPostcopy *pc, int vcpu_id, const struct kvm_run *run,
				gboolean already_there);
/* Is the page mapped in the VMM's address space (host PTE present)? */
gboolean sim_postcopy_host_mapped(const SimPostcopy *pc, guint64 gpa);
/* Refill a page the host dropped after it arrived (UFFDIO_COPY of zeros), if it is not mapped. */
void sim_postcopy_refill(SimPostcopy *pc, guint64 gpa);

/* The invariants, checked at every step on a few pages (docs/postcopy.md): FALSE with the run
 * failed when one breaks. */
gboolean sim_postcopy_check(SimPostcopy *pc);
void sim_postcopy_stats(const SimPostcopy *pc, SimPostcopyStats *out);
/* Note the step at which the guest finished. */
void sim_postcopy_finished(SimPostcopy *pc, guint64 step);

#endif
