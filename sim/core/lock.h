/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel locks modeled on the scheduler. Every acquire and release is a yield point whose name the
 * caller gives ("fault.mmu_lock", "invalidate.mmu_unlock"), so a schedule can stop an actor just
 * before it takes a lock or just after it dropped one. A contended acquire blocks the actor — it
 * never spins on the real CPU — and a blocked acquire ends a recorded step at the pseudo-point
 * block. Who gets a lock next is decided by the lock's own rules, the kernel's, from state that
 * only the schedule changes, so a recorded schedule replays exactly.
 */
#ifndef KVMSIM_SIM_CORE_LOCK_H
#define KVMSIM_SIM_CORE_LOCK_H

#include <glib.h>

#include "sim/core/sched.h"

/*
 * spinlock_t on x86, the queued spinlock of kernel/locking/qspinlock.c read in torvalds/linux at
 * 0200fbdd (the index's copy, v4.18 or later: _Q_PENDING_LOOPS): a CPU takes it at once only if
 * it is free and nobody waits (queued_spin_lock(): the whole word is 0); else it spins in
 * arrival order (the pending bit, then the MCS queue), and a release lets only the first spinner
 * in: a new arrival sees the pending bit or the queue tail and queues behind
 * (queued_spin_lock_slowpath()). No paravirt lock stealing: the modeled kernel is the host's.
 */
typedef struct {
	const char *name;
	gconstpointer owner; /* sim_sched_self() of the holder, NULL when free */
	GQueue spinners;     /* waiters in arrival order (links on their stacks) */
} SimSpinlock;

/*
 * struct mutex, as kernel/locking/mutex.c read in ColinIanKing/linux-next at 03b9d314 orders its
 * owners: a task that finds it held sleeps at the tail of wait_list (__mutex_lock_common()); an
 * unlock wakes only the first sleeper (__mutex_unlock_slowpath()); a task arriving meanwhile may
 * take the free mutex before that sleeper runs (__mutex_trylock(), optimistic spinning); the
 * first sleeper, woken and finding it taken again, sets MUTEX_FLAG_HANDOFF
 * (__mutex_trylock_or_handoff()) and the next unlock gives the mutex to it (__mutex_handoff()).
 */
typedef struct {
	const char *name;
	gconstpointer owner; /* sim_sched_self() of the holder, or of the sleeper it was handed to
			      * (MUTEX_FLAG_PICKUP); NULL when free */
	gboolean handoff;    /* MUTEX_FLAG_HANDOFF: the next unlock hands it to the first sleeper */
	GQueue wait_list;    /* the sleepers in arrival order (links on their stacks) */
} SimMutex;

/*
 * rwlock_t on x86: the queued rwlock of kernel/locking/qrwlock.c and
 * include/asm-generic/qrwlock.h, read in torvalds/linux at 0d3001e2 and 019bc1f6 (the index's
 * stored copies, v5.15 or later: the write slowpath waits with atomic_cond_read_relaxed() and
 * try_cmpxchg; no 6.18-era copy was found in the index). A reader gets in at once unless a
 * writer holds the lock or waits for it; a writer at once only if the lock is entirely free.
 * Everyone else queues on wait_lock, a FIFO spinlock. A reader at the head of the queue counts
 * itself in, waits only for the writer holding the lock to leave, then passes the queue on; a
 * writer at the head announces itself (WAITING), so no new reader gets in, and takes the lock when
 * the readers inside have left. Readers never overtake a waiting writer, and writers are served in
 * arrival order; a writer still queued behind another waiter has not announced itself yet, so new
 * readers may still pass it. Process context only: an interrupt-context reader, which ignores
 * WAITING, is not modeled. An actor that blocks on one logs sim_lock_wait: the holders (readers
 * are remembered per actor for it), their modes and the waiters in the order they get in.
 */
typedef struct {
	const char *name;
	guint readers;           /* the reader count (_QR_BIAS units) */
	gconstpointer writer;    /* _QW_LOCKED: sim_sched_self() of the writer, NULL when none */
	gboolean writer_waiting; /* _QW_WAITING: the writer holding wait_lock waits for readers */
	gconstpointer wait_owner; /* who holds wait_lock, NULL when free */
	GQueue wait_queue;       /* waiters for wait_lock, in arrival order (links on their stacks) */
} SimRwlock;

/*
 * struct rw_semaphore (mmap_lock, a gmem inode's invalidate_lock), as kernel/locking/rwsem.c read
 * in LinxISA/linux at b6dd432d (6.16 or later: hung_task_set_blocker() for rwsem readers)
 * orders its owners: a reader gets in at once if no writer holds it and nobody waits
 * (rwsem_read_trylock()), or, with waiters, steals it only when it is free
 * (rwsem_down_read_slowpath(): no stealing while readers hold it); a writer takes it whenever it
 * is free, waiters or not (rwsem_write_trylock(), its optimistic spin). Everyone else sleeps in
 * arrival order on wait_list. A release that frees it wakes the first sleeper if a writer, which
 * then retries (rwsem_try_write_lock()), or grants it at once to every sleeping reader, writers
 * between them or not (rwsem_mark_wake()). Left out: the HANDOFF bit, set only by an RT task or
 * after RWSEM_WAIT_TIMEOUT of real time: until then the kernel allows every order this does, and
 * once set it only forbids steals.
 */
typedef struct {
	const char *name;
	guint readers;
	gconstpointer writer; /* sim_sched_self() of the writer, NULL when none */
	GQueue wait_list;     /* the sleepers in arrival order (links on their stacks) */
} SimRwsem;

/* srcu_struct: readers never block; synchronize waits for every reader that entered before
 * it (each reader holds a ticket; overlapping synchronizers each wait for their own cut). */
typedef struct {
	const char *name;
	guint64 next_ticket;
	guint64 *active;     /* per slot: the ticket of the reader inside, or a free-list link */
	guint nr_active;
	guint max_active;    /* allocated entries of active */
	guint free_slot;     /* 1 + the first free slot of active, 0 if none */
} SimSrcu;

void sim_spin_lock(SimSched *sched, SimSpinlock *lock, const char *point);
void sim_spin_unlock(SimSched *sched, SimSpinlock *lock, const char *point);
/* sim_spin_lock(), returning whether the acquire found the lock held and so blocked. */
gboolean sim_spin_lock_blocked(SimSched *sched, SimSpinlock *lock, const char *point);
/* mutex_lock() and mutex_unlock(): yield points as sim_spin_lock()'s; a contended mutex sleeps
 * (sim_wait_sleeping()) in the order SimMutex says. */
void sim_mutex_lock(SimSched *sched, SimMutex *lock, const char *point);
void sim_mutex_unlock(SimSched *sched, SimMutex *lock, const char *point);

/* read_lock(), read_unlock(), write_lock(), write_unlock() of a queued rwlock. */
void sim_read_lock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_read_unlock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_write_lock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_write_unlock(SimSched *sched, SimRwlock *lock, const char *point);

/* down_read(), up_read(), down_write(), up_write(). */
void sim_down_read(SimSched *sched, SimRwsem *sem, const char *point);
void sim_up_read(SimSched *sched, SimRwsem *sem, const char *point);
void sim_down_write(SimSched *sched, SimRwsem *sem, const char *point);
void sim_up_write(SimSched *sched, SimRwsem *sem, const char *point);

/* lockdep-style checks for modeled code. */
gboolean sim_rwlock_held(const SimRwlock *lock);
gboolean sim_rwlock_write_held(const SimRwlock *lock);
gboolean sim_spin_held(const SimSpinlock *lock);
/* mutex_is_locked(), for lockdep_assert_held() on a mutex. */
gboolean sim_mutex_held(const SimMutex *lock);
/* rwlock_is_contended() (queued_rwlock_is_contended(): arch_spin_is_locked(&wait_lock)): is
 * anyone holding or queued on wait_lock? */
gboolean sim_rwlock_is_contended(const SimRwlock *lock);

/* A free slot of SimSrcu.active holds this bit and 1 + the next free slot (0: the last). */
#define SIM_SRCU_FREE_SLOT (1ull << 63)
/* The handle a reader gets back: its ticket above SIM_SRCU_SLOT_BITS, its slot below them, so
 * that leaving is O(1) however many readers (vCPUs) are inside. */
#define SIM_SRCU_SLOT_BITS 20

void sim_srcu_grow(SimSrcu *srcu);

/* Models srcu_read_lock(): on the fault path three times per fault, so inline and no allocation
 * once warm. The returned handle is passed back to unlock. */
static inline guint64
sim_srcu_read_lock(SimSrcu *srcu)
{
	guint64 ticket = ++srcu->next_ticket;

	if (G_UNLIKELY(srcu->free_slot == 0))
		sim_srcu_grow(srcu);
	guint slot = srcu->free_slot - 1;

	srcu->free_slot = (guint)(srcu->active[slot] & ~SIM_SRCU_FREE_SLOT);
	srcu->active[slot] = ticket;
	srcu->nr_active++;
	return ticket << SIM_SRCU_SLOT_BITS | slot;
}

/* Models srcu_read_unlock(): the reader with this handle leaves; its slot becomes free. */
static inline void
sim_srcu_read_unlock(SimSrcu *srcu, guint64 handle)
{
	guint slot = (guint)(handle & ((1u << SIM_SRCU_SLOT_BITS) - 1));

	g_assert(slot < srcu->max_active && srcu->active[slot] == handle >> SIM_SRCU_SLOT_BITS);
	srcu->active[slot] = SIM_SRCU_FREE_SLOT | srcu->free_slot;
	srcu->free_slot = slot + 1;
	srcu->nr_active--;
}
void sim_srcu_clear(SimSrcu *srcu);
void sim_synchronize_srcu(SimSched *sched, SimSrcu *srcu, const char *point);
/* call_rcu() bookkeeping: a cut taken now, and whether every reader inside at that cut has
 * left (the grace period is over). */
guint64 sim_srcu_cut(const SimSrcu *srcu);
gboolean sim_srcu_grace_period_over(const SimSrcu *srcu, guint64 cut);

#endif
