/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The post-copy page source: remote pages, the I/O actor that fetches and places them, the
 * userfaultfd reader, and the invariants. The flow follows QEMU's postcopy (migration/
 * postcopy-ram.c: postcopy_ram_fault_thread() reads the uffd and requests pages from the source,
 * the listen thread places what arrives with UFFDIO_COPY), as its documentation describes it;
 * the kernel side is sim/core/uffd.c and mmu/userfault.c.
 */
#include "sim/vmm/postcopy.h"

#include <errno.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"
#include "sim/core/uffd.h"

/* Where a page of the remote range is. */
enum {
	PC_REMOTE = 0, /* only at the source */
	PC_QUEUED,     /* requested, waiting for the I/O actor */
	PC_FETCHING,   /* on the wire */
	PC_ARRIVED,    /* its content is in the VMM's buffer, being placed */
	PC_PLACED,     /* arrived and placed (UFFDIO_COPY): its content is here */
};

struct SimPostcopy {
	const SimPostcopyMech *mech;
	SimSched *sched;
	SimMm *mm;
	struct kvm *kvm;
	SimCounters *counters;
	SimUffd *uffd;
	guint64 seed;
	guint64 hva, gpa, npages;
	guint64 fetch_steps;
	guint8 *state;              /* PC_* per page */
	guint32 *fetches;           /* per page: fetches so far */
	const char **why;           /* per page: the reason its next fetch may be a second one */
	unsigned long *bitmap;      /* KVM Userfault bitmap (mech->bitmap), one bit a page */
	GQueue requests;            /* pages (index + 1) for the I/O actor, oldest at the tail */
	guint vmm_waiters;          /* VMM threads blocked in sim_postcopy_wait() */
	guint64 cursor;             /* next page the per-step check looks at */
	SimWaitFn ended;
	gpointer ended_data;
	SimPostcopyPlacedFn placed_fn;
	gpointer placed_data;
	SimPostcopyStats stats;
	gpointer mech_data;         /* the mechanism's own state (setup) */
	GDestroyNotify mech_data_destroy;
};

/* Pages checked per step by sim_postcopy_check(). */
#define PC_CHECK_PER_STEP 8

/* The page source of a remote range: everything remote, the range registered. */
SimPostcopy *
sim_postcopy_new(const SimPostcopyMech *mech, guint64 fetch_steps, guint64 seed,
		 SimSched *sched, SimMm *mm, struct kvm *kvm, SimCounters *counters, guint64 hva,
		 guint64 gpa, guint64 size, GError **error)
{
	SimPostcopy *pc = g_new0(SimPostcopy, 1);

	pc->mech = mech;
	pc->sched = sched;
	pc->mm = mm;
	pc->kvm = kvm;
	pc->counters = counters;
	pc->seed = seed;
	pc->hva = hva;
	pc->gpa = gpa;
	pc->npages = size / SIM_PAGE_SIZE;
	pc->fetch_steps = fetch_steps ? fetch_steps : SIM_POSTCOPY_DEFAULT_FETCH_STEPS;
	pc->state = g_new0(guint8, pc->npages);
	pc->fetches = g_new0(guint32, pc->npages);
	pc->why = g_new0(const char *, pc->npages);
	pc->uffd = sim_uffd_new(mm);
	if (sim_uffd_register(pc->uffd, hva, size) < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "UFFDIO_REGISTER of 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
			    "x: not one whole mapping", hva, size);
		sim_postcopy_free(pc);
		return NULL;
	}
	if (mech->bitmap) {
		guint64 longs = (pc->npages + 63) / 64;

		pc->bitmap = g_new(unsigned long, longs);
		memset(pc->bitmap, 0xff, longs * sizeof(unsigned long));
	}
	kvm->postcopy_uapi = mech->kvm_uapi;
	kvm->apf_mode = mech->apf_mode;
	if (mech->setup)
		mech->setup(pc);
	return pc;
}

/* The VM the source serves. */
struct kvm *
sim_postcopy_kvm(const SimPostcopy *pc)
{
	return pc->kvm;
}

/* A mechanism's own state (its setup), or NULL. */
gpointer
sim_postcopy_mech_data(const SimPostcopy *pc)
{
	return pc->mech_data;
}

/* Keep a mechanism's state; destroy frees it with the source. */
void
sim_postcopy_set_mech_data(SimPostcopy *pc, gpointer data, GDestroyNotify destroy)
{
	pc->mech_data = data;
	pc->mech_data_destroy = destroy;
}

/* Free the source and its userfaultfd context. */
void
sim_postcopy_free(SimPostcopy *pc)
{
	if (!pc)
		return;
	if (pc->mech_data_destroy)
		pc->mech_data_destroy(pc->mech_data);
	sim_uffd_free(pc->uffd);
	g_queue_clear(&pc->requests);
	g_free(pc->state);
	g_free(pc->fetches);
	g_free(pc->why);
	g_free(pc->bitmap);
	g_free(pc);
}

/* The memslot flags the mechanism asks KVM for. */
guint32
sim_postcopy_slot_flags(const SimPostcopy *pc)
{
	return pc->mech->slot_flags;
}

/* The KVM Userfault bitmap (NULL without one). */
unsigned long *
sim_postcopy_bitmap(const SimPostcopy *pc)
{
	return pc->bitmap;
}

/* The mechanism this source runs under. */
const SimPostcopyMech *
sim_postcopy_mech(const SimPostcopy *pc)
{
	return pc->mech;
}

/* Whether gpa lies in the remote range. */
gboolean
sim_postcopy_covers(const SimPostcopy *pc, guint64 gpa)
{
	return gpa >= pc->gpa && (gpa - pc->gpa) / SIM_PAGE_SIZE < pc->npages;
}

/* The index of gpa's page in the range. */
static guint64
page_of(const SimPostcopy *pc, guint64 gpa)
{
	return (gpa - pc->gpa) / SIM_PAGE_SIZE;
}

/* The source's content of a page: a seeded image (splitmix64 of seed and address). */
static void
source_page(const SimPostcopy *pc, guint64 page, guint64 *out)
{
	for (guint q = 0; q < SIM_PAGE_SIZE / 8; q++) {
		guint64 z = pc->seed * 0x9e3779b97f4a7c15ull + pc->gpa + page * SIM_PAGE_SIZE + q * 8;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		out[q] = z ^ (z >> 31);
	}
}

/* The page's KVM Userfault bit, read with acquire (FALSE without a bitmap). */
static gboolean
bit_set(const SimPostcopy *pc, guint64 page)
{
	return pc->bitmap &&
	       (__atomic_load_n(&pc->bitmap[page / 64], __ATOMIC_ACQUIRE) >> (page % 64)) & 1;
}

/* Queue a fetch for the I/O actor, once per page unless a reason is given. */
void
sim_postcopy_request(SimPostcopy *pc, guint64 gpa, const char *why)
{
	if (!sim_postcopy_covers(pc, gpa))
		return;
	guint64 page = page_of(pc, gpa);

	if (pc->state[page] == PC_QUEUED || pc->state[page] == PC_FETCHING ||
	    pc->state[page] == PC_ARRIVED)
		return;
	if (pc->state[page] == PC_PLACED && !why)
		return;
	pc->why[page] = why;
	pc->state[page] = PC_QUEUED;
	g_queue_push_head(&pc->requests, GSIZE_TO_POINTER(page + 1));
	sim_log_emit(sim_sched_log(pc->sched), "sim_postcopy_request",
		     "gpa 0x%" G_GINT64_MODIFIER "x by %s%s%s", pc->gpa + page * SIM_PAGE_SIZE,
		     sim_sched_current_name(pc->sched), why ? " again: " : "", why ? why : "");
}

/* Placed, and (KVM Userfault) its bit cleared: a vCPU run now finds it. */
gboolean
sim_postcopy_ready(const SimPostcopy *pc, guint64 gpa)
{
	guint64 page = page_of(pc, gpa);

	return sim_postcopy_covers(pc, gpa) && pc->state[page] == PC_PLACED && !bit_set(pc, page);
}

typedef struct {
	SimPostcopy *pc;
	guint64 gpa;
} PageWait;

/* The condition of a VMM thread waiting for a page. */
static gboolean
page_ready(gpointer data)
{
	PageWait *w = data;

	return sim_postcopy_ready(w->pc, w->gpa);
}

/* Block a VMM thread until the page is ready; a block counts one wake-up. */
void
sim_postcopy_wait(SimPostcopy *pc, guint64 gpa)
{
	PageWait w = { pc, gpa };

	if (page_ready(&w))
		return;
	pc->vmm_waiters++;
	/* a VMM thread waits on a futex (futex_wait() → schedule()) */
	sim_wait_sleeping(pc->sched, "postcopy page", page_ready, &w);
	pc->vmm_waiters--;
	pc->stats.wakeups++;
}

/* Who is told of each placement (async PF user's "page ready"). */
void
sim_postcopy_set_placed_hook(SimPostcopy *pc, SimPostcopyPlacedFn fn, gpointer data)
{
	pc->placed_fn = fn;
	pc->placed_data = data;
}

/* Whether the VMM's page table maps the page now. */
gboolean
sim_postcopy_host_mapped(const SimPostcopy *pc, guint64 gpa)
{
	return sim_mm_lookup(pc->mm, pc->hva + page_of(pc, gpa) * SIM_PAGE_SIZE) != SIM_PFN_NONE;
}

/* The page arrived once and the host dropped it since (MADV_DONTNEED): what it holds now is
 * zeros, as for any dropped anonymous page; the VMM places a zero page (UFFDIO_COPY of zeros,
 * what UFFDIO_ZEROPAGE does with a fresh frame) and wakes whoever faulted on it. */
void
sim_postcopy_refill(SimPostcopy *pc, guint64 gpa)
{
	static const guint64 zeros[SIM_PAGE_SIZE / 8];
	guint64 hva = pc->hva + page_of(pc, gpa) * SIM_PAGE_SIZE;

	if (sim_postcopy_host_mapped(pc, gpa))
		return;
	sim_log_emit(sim_sched_log(pc->sched), "sim_postcopy_refill",
		     "gpa 0x%" G_GINT64_MODIFIER "x: arrived before, dropped by the host since",
		     pc->gpa + page_of(pc, gpa) * SIM_PAGE_SIZE);
	if (sim_uffd_copy(pc->uffd, hva, zeros, FALSE) == -EEXIST) {
		sim_uffd_wake(pc->uffd, hva, SIM_PAGE_SIZE);
		return;
	}
	pc->stats.refills++;
	sim_count(pc->counters, SIM_CTR_POSTCOPY_REFILLS);
}

/* Count and log an exit the VMM handles, and whether it is spurious. */
gboolean
sim_postcopy_exit_seen(SimPostcopy *pc, int vcpu_id, const struct kvm_run *run,
		       gboolean already_there)
{
	SimLog *log = sim_sched_log(pc->sched);

	pc->stats.exits++;
	sim_count(pc->counters, SIM_CTR_POSTCOPY_EXITS);
	sim_log_emit(log, "sim_vmm_postcopy_exit",
		     "vcpu %d gpa 0x%" G_GINT64_MODIFIER "x flags 0x%" G_GINT64_MODIFIER "x %s",
		     vcpu_id, run->memory_fault.gpa, run->memory_fault.flags, pc->mech->name);
	if (!already_there)
		return FALSE;
	pc->stats.spurious++;
	sim_count(pc->counters, SIM_CTR_POSTCOPY_SPURIOUS_EXITS);
	sim_log_emit(log, "sim_postcopy_spurious_exit",
		     "vcpu %d gpa 0x%" G_GINT64_MODIFIER "x %s: the page is already there", vcpu_id,
		     run->memory_fault.gpa, pc->mech->name);
	return TRUE;
}

/* The VMM's vCPU thread on a memory-fault exit in the range. */
gboolean
sim_postcopy_memory_fault(SimPostcopy *pc, int vcpu_id, int error, const struct kvm_run *run)
{
	if (!pc->mech->memory_fault || error != -EFAULT ||
	    !sim_postcopy_covers(pc, run->memory_fault.gpa))
		return FALSE;
	/* back in userspace: the VMM's vCPU thread is about to look at the exit */
	sim_yield(pc->sched, "postcopy.vmm_exit");
	return pc->mech->memory_fault(pc, vcpu_id, error, run);
}

/* Whether the I/O and reader actors are done: the guest ended and nobody waits for a page. */
static gboolean
all_done(const SimPostcopy *pc)
{
	return pc->ended(pc->ended_data) && !pc->requests.length && !pc->vmm_waiters &&
	       !sim_uffd_nr_waiters(pc->uffd);
}

/* The I/O actor's condition: a request, or nothing left to do. */
static gboolean
io_has_work(gpointer data)
{
	SimPostcopy *pc = data;

	return pc->requests.length || all_done(pc);
}

/* Fail the run: an invariant of this file broke. */
static void
postcopy_fail(SimPostcopy *pc, const char *invariant, guint64 page, const char *detail)
{
	g_autofree gchar *reason = g_strdup_printf(
		"invariant %s violated: gpa 0x%" G_GINT64_MODIFIER "x %s", invariant,
		pc->gpa + page * SIM_PAGE_SIZE, detail);

	sim_log_emit(sim_sched_log(pc->sched), "sim_invariant",
		     "%s: gpa 0x%" G_GINT64_MODIFIER "x %s", invariant,
		     pc->gpa + page * SIM_PAGE_SIZE, detail);
	sim_sched_fail(pc->sched, reason);
}

/* Fetch one page (fetch_steps steps on the wire), place it, and (userfault) clear its bit. */
static void
io_fetch(SimPostcopy *pc, guint64 page)
{
	SimSched *sched = pc->sched;
	guint64 gpa = pc->gpa + page * SIM_PAGE_SIZE;
	guint64 buf[SIM_PAGE_SIZE / 8];

	pc->state[page] = PC_FETCHING;
	if (pc->fetches[page] && !pc->why[page])
		postcopy_fail(pc, "postcopy_fetched_twice", page, "fetched again with no reason");
	pc->fetches[page]++;
	pc->stats.fetched++;
	sim_count(pc->counters, SIM_CTR_POSTCOPY_FETCHED);
	sim_log_emit(sim_sched_log(sched), "sim_postcopy_fetch", "gpa 0x%" G_GINT64_MODIFIER
		     "x steps %" G_GUINT64_FORMAT, gpa, pc->fetch_steps);
	sim_sleep_until(sched, sim_sched_now(sched) + pc->fetch_steps);
	source_page(pc, page, buf);
	pc->state[page] = PC_ARRIVED;
	int r = sim_uffd_copy(pc->uffd, pc->hva + page * SIM_PAGE_SIZE, buf, FALSE);

	if (r == -EEXIST)
		sim_uffd_wake(pc->uffd, pc->hva + page * SIM_PAGE_SIZE, SIM_PAGE_SIZE);
	pc->state[page] = PC_PLACED;
	pc->why[page] = NULL;
	sim_log_emit(sim_sched_log(sched), "sim_postcopy_placed", "gpa 0x%" G_GINT64_MODIFIER "x%s",
		     gpa, r == -EEXIST ? " (EEXIST)" : "");
	if (pc->bitmap) {
		/* "page ready": the bit is cleared with a store-release after the fill */
		sim_yield(sched, "postcopy.bitmap_clear");
		__atomic_fetch_and(&pc->bitmap[page / 64], ~(1ul << (page % 64)), __ATOMIC_RELEASE);
		sim_log_emit(sim_sched_log(sched), "sim_userfault_bit_clear",
			     "gpa 0x%" G_GINT64_MODIFIER "x", gpa);
	}
	if (pc->placed_fn)
		pc->placed_fn(pc, gpa, pc->placed_data);
}

/* The VMM's I/O actor: fetch what is asked, oldest request first. */
static void
io_actor(SimActor *actor, gpointer data)
{
	SimPostcopy *pc = data;

	for (;;) {
		/* QEMU's thread waits on a futex: futex_wait() → schedule() */
		sim_wait_sleeping(pc->sched, "postcopy request", io_has_work, pc);
		if (!pc->requests.length)
			return;
		io_fetch(pc, GPOINTER_TO_SIZE(g_queue_pop_tail(&pc->requests)) - 1);
	}
}

/* The reader's condition: a message, or nothing left to do. */
static gboolean
reader_has_work(gpointer data)
{
	SimPostcopy *pc = data;

	return sim_uffd_pending(pc->uffd) || all_done(pc);
}

typedef struct {
	SimPostcopy *pc;
	guint64 page;
} PlacedWait;

/* The reader's condition while a placement of the page is under way. */
static gboolean
page_placed(gpointer data)
{
	PlacedWait *w = data;

	return w->pc->state[w->page] == PC_PLACED;
}

/* The VMM's userfaultfd reader: every fault message becomes a request (or a wake or a refill
 * when the page is already here: the fault raced with its placement, or the host dropped it). */
static void
reader_actor(SimActor *actor, gpointer data)
{
	SimPostcopy *pc = data;
	SimUffdMsg msg;

	for (;;) {
		/* poll(): do_poll() → poll_schedule_timeout() sleeps */
		sim_wait_sleeping(pc->sched, "uffd poll", reader_has_work, pc);
		if (!sim_uffd_read(pc->uffd, &msg)) {
			if (all_done(pc))
				return;
			continue;
		}
		guint64 gpa = pc->gpa + (msg.address - pc->hva);
		PlacedWait w = { pc, page_of(pc, gpa) };

		/* the copy is under way: whether it already woke this fault's thread (which then
		 * found the page dropped and faulted again) is known only once it is done */
		if (pc->state[w.page] == PC_ARRIVED)
			sim_wait(pc->sched, "postcopy placement", page_placed, &w);
		if (pc->state[w.page] != PC_PLACED)
			sim_postcopy_request(pc, gpa, NULL);
		else if (sim_postcopy_host_mapped(pc, gpa))
			sim_uffd_wake(pc->uffd, msg.address, SIM_PAGE_SIZE);
		else
			sim_postcopy_refill(pc, gpa);
	}
}

/* Create the VMM's I/O actor and userfaultfd reader. */
void
sim_postcopy_start(SimPostcopy *pc, SimSched *sched, SimWaitFn ended, gpointer data)
{
	pc->ended = ended;
	pc->ended_data = data;
	pc->kvm->apf_ended = ended; /* async PF's kworkers end with the guest too */
	pc->kvm->apf_ended_data = data;
	sim_actor_new(sched, "vmm_io", io_actor, pc);
	sim_actor_new(sched, "uffd", reader_actor, pc);
}

/* No page is mapped (host PTE or SPTE) before its content arrived. */
static gboolean
check_page(SimPostcopy *pc, guint64 page)
{
	if (pc->state[page] >= PC_ARRIVED)
		return TRUE;
	if (sim_mm_lookup(pc->mm, pc->hva + page * SIM_PAGE_SIZE) != SIM_PFN_NONE) {
		postcopy_fail(pc, "postcopy_mapped_before_content", page,
			      "is mapped in the VMM's page table before its content arrived");
		return FALSE;
	}
	if (is_shadow_present_pte(kvm_tdp_mmu_leaf_spte(pc->kvm, (pc->gpa >> PAGE_SHIFT) + page,
							NULL))) {
		postcopy_fail(pc, "postcopy_mapped_before_content", page,
			      "has a present SPTE before its content arrived");
		return FALSE;
	}
	return TRUE;
}

/* The per-step check of postcopy_mapped_before_content on a few pages. */
gboolean
sim_postcopy_check(SimPostcopy *pc)
{
	for (guint i = 0; i < PC_CHECK_PER_STEP && i < pc->npages; i++) {
		if (!check_page(pc, pc->cursor))
			return FALSE;
		pc->cursor = (pc->cursor + 1) % pc->npages;
	}
	return TRUE;
}

/* The run's post-copy figures (wake-ups include uffd's). */
void
sim_postcopy_stats(const SimPostcopy *pc, SimPostcopyStats *out)
{
	*out = pc->stats;
	out->wakeups += pc->counters->v[SIM_CTR_UFFD_WAKEUPS];
	out->lock_blocked = pc->counters->v[SIM_CTR_UFFD_WQ_LOCK_BLOCKED];
	out->useless_apf = pc->counters->v[SIM_CTR_POSTCOPY_USELESS_APF];
}

/* The guest reported its result at step. */
void
sim_postcopy_finished(SimPostcopy *pc, guint64 step)
{
	if (!pc->stats.finished_at)
		pc->stats.finished_at = step;
}
