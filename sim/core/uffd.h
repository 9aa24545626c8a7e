/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * userfaultfd in MISSING mode on the VMM's anonymous memory. handle_userfault(),
 * find_userfault_in() and the release path were read in ColinIanKing/linux-next fs/userfaultfd.c
 * at 0891c7dd (6.18-era: uffd_flags_t, map_changing_lock); userfaultfd_copy() (no wake when
 * mfill_atomic_copy() fails) in the index's 6.x copies of the same file. mm/userfaultfd.c was
 * read in ColinIanKing/linux-next at 62c66da5 (6.8 or later: map_changing_lock):
 * mfill_atomic_install_pte() fails with -EEXIST on a PTE that is not none (a uffd-wp marker
 * aside), under the PTL.
 *
 *   a fault on a none PTE of a registered range -> handle_userfault(): the faulting thread queues
 *   itself on fault_pending_wqh (under that wait queue's spinlock), re-checks the PTE
 *   (userfaultfd_must_wait()), drops mmap_lock and sleeps; its GUP retries (VM_FAULT_RETRY)
 *   once woken. The reader (read(2) of the fd, userfaultfd_ctx_read()) takes the oldest pending
 *   message under the same lock and moves the waiter to fault_wqh. UFFDIO_COPY
 *   (mfill_atomic_pte_copy()) fills a new frame, installs it under the PTL only if the PTE is
 *   still none (-EEXIST otherwise) and wakes every waiter on the range (wake_userfault(), the
 *   lock again). UFFDIO_WAKE wakes without copying.
 *
 * The wait queue's spinlock is what every faulting vCPU, the reader and every waker take: a
 * yield point inside each critical section lets another CPU arrive while it is held, and an
 * acquire that finds it held is counted (uffd.wq_lock_blocked) - the contention the exit-based
 * designs were proposed to remove. Not modelled: events (fork, remap, remove), WP and MINOR
 * modes, hugetlb and shmem, mmap_changing (no event features are enabled).
 */
#ifndef KVMSIM_SIM_CORE_UFFD_H
#define KVMSIM_SIM_CORE_UFFD_H

#include <glib.h>

#include "sim/core/mm.h"

typedef struct SimUffd SimUffd;

/* struct uffd_msg of a UFFD_EVENT_PAGEFAULT, reduced: the page and whether it was a write. */
typedef struct {
	guint64 address;
	gboolean write;
} SimUffdMsg;

/* userfaultfd(2) on mm (one context per mm here). */
SimUffd *sim_uffd_new(SimMm *mm);
void sim_uffd_free(SimUffd *uffd);
/* UFFDIO_REGISTER with UFFDIO_REGISTER_MODE_MISSING of [start, start + len): page aligned, inside
 * one mapping. 0 or -EINVAL. */
int sim_uffd_register(SimUffd *uffd, guint64 start, guint64 len);
/* Whether hva lies in a registered range (userfaultfd_missing(vma)). */
gboolean sim_uffd_registered(const SimUffd *uffd, guint64 hva);
/* Whether read(2) would return a message now (the poll(2) of the reader). */
gboolean sim_uffd_pending(const SimUffd *uffd);
/* read(2) with O_NONBLOCK: the oldest pending fault, its waiter moved to fault_wqh. FALSE
 * (-EAGAIN) when none is pending. Takes the wait queue's lock. */
gboolean sim_uffd_read(SimUffd *uffd, SimUffdMsg *out);
/* UFFDIO_COPY of one page of src to dst (page aligned): 0, -EEXIST (the PTE is not none: nothing
 * changed, nobody woken), -ENOENT (dst not registered), -ENOMEM. Wakes the range unless
 * dontwake (UFFDIO_COPY_MODE_DONTWAKE). May block (mmap_lock, the PTL). */
int sim_uffd_copy(SimUffd *uffd, guint64 dst, const void *src, gboolean dontwake);
/* UFFDIO_WAKE of [start, start + len). */
void sim_uffd_wake(SimUffd *uffd, guint64 start, guint64 len);
/* Threads asleep in handle_userfault() now (both queues). */
guint sim_uffd_nr_waiters(const SimUffd *uffd);

/*
 * For the mm's GUP: handle_userfault() for a fault on the none PTE at hva of a registered range,
 * entered with mmap_lock held for read and returning with it dropped (VM_FAULT_RETRY). nowait
 * (FAULT_FLAG_RETRY_NOWAIT: the async-PF GUP) returns at once without queueing. Returns 0: the
 * caller retakes mmap_lock and retries.
 */
int sim_uffd_handle_userfault(SimUffd *uffd, guint64 hva, gboolean write, gboolean nowait);

#endif
