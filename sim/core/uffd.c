/* SPDX-License-Identifier: GPL-2.0-only */
/* userfaultfd MISSING mode: the fault wait queues, the reader, UFFDIO_COPY and UFFDIO_WAKE. */
#include "sim/core/uffd.h"

#include <errno.h>

#include "sim/core/log.h"
#include "sim/core/mm-internal.h"

/* struct userfaultfd_wait_queue: one thread asleep in handle_userfault(), on its stack. */
typedef struct {
	guint64 address;
	gboolean write;
	gboolean woken;   /* userfaultfd_wake_function() ran: TASK_RUNNING again */
	gboolean queued;  /* on fault_pending_wqh or fault_wqh (list_empty_careful() is FALSE) */
	gboolean pending; /* on fault_pending_wqh (not read yet) */
	GList link;
} UffdWaiter;

/* struct userfaultfd_ctx, reduced to MISSING faults of one mm. */
struct SimUffd {
	SimMm *mm;
	SimSpinlock wqh_lock;  /* fault_pending_wqh.lock: also guards fault_wqh here (the kernel
				* nests fault_wqh.lock inside it on every path modelled) */
	GQueue pending;        /* fault_pending_wqh: newest at the head */
	GQueue reading;        /* fault_wqh: read by userspace, not woken yet */
};

/* Models userfaultfd(2): a context on the mm, no range registered yet. */
SimUffd *
sim_uffd_new(SimMm *mm)
{
	SimUffd *uffd = g_new0(SimUffd, 1);

	uffd->mm = mm;
	uffd->wqh_lock.name = "fault_pending_wqh_lock";
	mm->uffd = uffd;
	return uffd;
}

/* The last close of the fd (no waiter is left at teardown). */
void
sim_uffd_free(SimUffd *uffd)
{
	if (!uffd)
		return;
	if (uffd->mm->uffd == uffd)
		uffd->mm->uffd = NULL;
	g_free(uffd);
}

/* Models userfaultfd_register() for VM_UFFD_MISSING on an anonymous mapping. */
int
sim_uffd_register(SimUffd *uffd, guint64 start, guint64 len)
{
	Vma *vma = mm_vma_of(uffd->mm, start);

	if (!vma || len == 0 || (start | len) % SIM_PAGE_SIZE || start + len > vma->end)
		return -EINVAL;
	/* the kernel splits the VMA at the range's ends; a whole-VMA flag is what is used here */
	if (start != vma->start || start + len != vma->end)
		return -EINVAL;
	vma->uffd_missing = TRUE;
	return 0;
}

/* Models userfaultfd_missing(vma). */
gboolean
sim_uffd_registered(const SimUffd *uffd, guint64 hva)
{
	Vma *vma = mm_vma_of(uffd->mm, hva);

	return vma && vma->uffd_missing;
}

/* Take the wait queue's spinlock, counting an acquire that finds it held. */
static void
wq_lock(SimUffd *uffd, const char *point)
{
	SimMm *mm = uffd->mm;

	if (sim_spin_lock_blocked(mm->sched, &uffd->wqh_lock, point)) {
		sim_count(mm->counters, SIM_CTR_UFFD_WQ_LOCK_BLOCKED);
		sim_log_emit(sim_sched_log(mm->sched), "sim_uffd_wq_contended", "%s",
			     sim_sched_current_name(mm->sched));
	}
	/* the critical section takes time on this CPU: another may arrive meanwhile */
	sim_yield(mm->sched, "uffd.wq_locked");
}

/* The sleeper's condition: TASK_RUNNING again. */
static gboolean
waiter_woken(gpointer data)
{
	return ((UffdWaiter *)data)->woken;
}

/* Models userfaultfd_must_wait() for an anonymous VMA: is the PTE still none? */
static gboolean
userfaultfd_must_wait(SimUffd *uffd, guint64 hva)
{
	HostPte *pte = mm_pte_of(uffd->mm, hva);

	return pte && !(pte->flags & PTE_PRESENT) && !(pte->flags & PTE_UNMAPPED);
}

/* Models handle_userfault() (fs/userfaultfd.c) for VM_UFFD_MISSING. */
int
sim_uffd_handle_userfault(SimUffd *uffd, guint64 hva, gboolean write, gboolean nowait)
{
	SimMm *mm = uffd->mm;
	UffdWaiter w = { .address = hva & ~(guint64)(SIM_PAGE_SIZE - 1), .write = write };

	w.link.data = &w;
	sim_count(mm->counters, SIM_CTR_UFFD_FAULTS);
	if (nowait) {
		/* FAULT_FLAG_RETRY_NOWAIT: VM_FAULT_RETRY before anything is queued */
		sim_up_read(mm->sched, &mm->mmap_lock, "gup.mmap_unlock");
		return 0;
	}
	wq_lock(uffd, "uffd.fault_wq_lock");
	g_queue_push_head_link(&uffd->pending, &w.link);
	w.queued = w.pending = TRUE;
	sim_spin_unlock(mm->sched, &uffd->wqh_lock, "uffd.fault_wq_unlock");
	gboolean must_wait = userfaultfd_must_wait(uffd, w.address);

	sim_log_emit(sim_sched_log(mm->sched), "sim_uffd_fault",
		     "hva 0x%" G_GINT64_MODIFIER "x %s%s", w.address, write ? "write" : "read",
		     must_wait ? "" : " (already resolved)");
	sim_up_read(mm->sched, &mm->mmap_lock, "gup.mmap_unlock");
	/* handle_userfault()'s schedule() (read in ColinIanKing/linux-next at 0891c7dd) */
	if (must_wait)
		sim_wait_sleeping(mm->sched, "userfaultfd wait", waiter_woken, &w);
	/* the waker unlinked us (autoremove); otherwise we leave the queue ourselves, unless a
	 * waker got there while we waited for the lock (list_del() of an entry a wake already
	 * list_del_init()ed is harmless in the kernel) */
	if (w.queued) {
		wq_lock(uffd, "uffd.fault_wq_lock");
		if (w.queued)
			g_queue_unlink(w.pending ? &uffd->pending : &uffd->reading, &w.link);
		w.queued = FALSE;
		sim_spin_unlock(mm->sched, &uffd->wqh_lock, "uffd.fault_wq_unlock");
	}
	return 0;
}

/* What poll(2) on the fd says: a message is there to read. */
gboolean
sim_uffd_pending(const SimUffd *uffd)
{
	return uffd->pending.length > 0;
}

/* Threads asleep on either queue. */
guint
sim_uffd_nr_waiters(const SimUffd *uffd)
{
	return uffd->pending.length + uffd->reading.length;
}

/* Models userfaultfd_ctx_read() -> find_userfault(): the oldest pending waiter's message. */
gboolean
sim_uffd_read(SimUffd *uffd, SimUffdMsg *out)
{
	SimMm *mm = uffd->mm;
	gboolean got = FALSE;

	wq_lock(uffd, "uffd.read_wq_lock");
	GList *oldest = g_queue_pop_tail_link(&uffd->pending);

	if (oldest) {
		UffdWaiter *w = oldest->data;

		w->pending = FALSE;
		g_queue_push_head_link(&uffd->reading, oldest);
		out->address = w->address;
		out->write = w->write;
		got = TRUE;
	}
	sim_spin_unlock(mm->sched, &uffd->wqh_lock, "uffd.read_wq_unlock");
	if (got)
		sim_log_emit(sim_sched_log(mm->sched), "sim_uffd_read",
			     "hva 0x%" G_GINT64_MODIFIER "x %s", out->address,
			     out->write ? "write" : "read");
	return got;
}

/* Wake every waiter of queue whose page is in [start, end): userfaultfd_wake_function(). */
static guint
wake_queue(GQueue *queue, guint64 start, guint64 end)
{
	guint woken = 0;

	for (GList *l = queue->head; l;) {
		GList *next = l->next;
		UffdWaiter *w = l->data;

		if (w->address >= start && w->address < end) {
			g_queue_unlink(queue, l);
			w->queued = w->pending = FALSE;
			w->woken = TRUE;
			woken++;
		}
		l = next;
	}
	return woken;
}

/* Models wake_userfault() -> __wake_userfault(): skipped when both queues are empty
 * (waitqueue_active() after the barrier), else both are walked under the lock. */
void
sim_uffd_wake(SimUffd *uffd, guint64 start, guint64 len)
{
	SimMm *mm = uffd->mm;

	if (!sim_uffd_nr_waiters(uffd))
		return;
	wq_lock(uffd, "uffd.wake_wq_lock");
	guint woken = wake_queue(&uffd->pending, start, start + len) +
		      wake_queue(&uffd->reading, start, start + len);

	sim_spin_unlock(mm->sched, &uffd->wqh_lock, "uffd.wake_wq_unlock");
	sim_count_add(mm->counters, SIM_CTR_UFFD_WAKEUPS, woken);
	if (woken)
		sim_log_emit(sim_sched_log(mm->sched), "sim_uffd_wake",
			     "hva 0x%" G_GINT64_MODIFIER "x len 0x%" G_GINT64_MODIFIER "x woken %u",
			     start, len, woken);
}

/*
 * Models userfaultfd_copy() -> mfill_atomic() -> mfill_atomic_pte_copy() and
 * mfill_atomic_install_pte() for one anonymous page: the folio is filled from src before any
 * page-table lock; under the PTL the PTE must still be none. No MMU notifier fires: nothing was
 * mapped (a racing invalidation of the page either found it none or zaps the new PTE after).
 */
int
sim_uffd_copy(SimUffd *uffd, guint64 dst, const void *src, gboolean dontwake)
{
	SimMm *mm = uffd->mm;
	int r = 0;

	g_return_val_if_fail(dst % SIM_PAGE_SIZE == 0, -EINVAL);
	sim_down_read(mm->sched, &mm->mmap_lock, "uffd.copy_mmap_lock");
	Vma *vma = mm_vma_of(mm, dst);
	HostPte *pte = mm_pte_of(mm, dst);

	if (!vma || !vma->uffd_missing || (pte->flags & PTE_UNMAPPED)) {
		sim_up_read(mm->sched, &mm->mmap_lock, "uffd.copy_mmap_unlock");
		return -ENOENT;
	}
	SimPfn pfn = sim_frame_alloc(mm->hm);

	if (pfn == SIM_PFN_NONE) {
		sim_up_read(mm->sched, &mm->mmap_lock, "uffd.copy_mmap_unlock");
		return -ENOMEM;
	}
	sim_frame_write(mm->hm, pfn, 0, src, SIM_PAGE_SIZE);
	sim_spin_lock(mm->sched, &mm->ptl, "uffd.copy_ptl");
	if ((pte->flags & PTE_PRESENT) || (pte->flags & PTE_MIGRATION)) {
		r = -EEXIST;
	} else {
		guint8 *pmd = mm_pmd_of(vma, dst);

		if (pmd && *pmd == PMD_NONE)
			*pmd = PMD_TABLE; /* a PTE table now exists under it */
		mm_pte_install(mm, pte, dst, pfn);
		pte->flags = PTE_PRESENT | PTE_YOUNG | PTE_DIRTY;
	}
	sim_spin_unlock(mm->sched, &mm->ptl, "uffd.copy_ptl_unlock");
	sim_up_read(mm->sched, &mm->mmap_lock, "uffd.copy_mmap_unlock");
	sim_log_emit(sim_sched_log(mm->sched), "sim_uffd_copy",
		     "hva 0x%" G_GINT64_MODIFIER "x pfn 0x%" G_GINT64_MODIFIER "x%s", dst,
		     r ? (SimPfn)0 : pfn, r ? " EEXIST" : "");
	if (r) {
		sim_frame_free(mm->hm, pfn);
		return r;
	}
	if (!dontwake)
		sim_uffd_wake(uffd, dst, SIM_PAGE_SIZE);
	return 0;
}
