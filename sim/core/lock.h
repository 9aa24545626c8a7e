/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kernel locks modeled on the scheduler. Every acquire and release is a yield point whose name the
 * caller gives ("fault.mmu_lock", "invalidate.mmu_unlock"), so a schedule can stop an actor just
 * before it takes a lock or just after it dropped one. A contended acquire blocks the actor — it
 * never spins on the real CPU. A failed attempt leaves no trace in the lock (no waiter queue, no
 * writer preference), so a recorded schedule replays exactly.
 */
#ifndef KVMSIM_SIM_CORE_LOCK_H
#define KVMSIM_SIM_CORE_LOCK_H

#include <glib.h>

#include "sim/core/sched.h"

/* spinlock_t and struct mutex: one owner at a time. */
typedef struct {
	const char *name;
	gconstpointer owner; /* sim_sched_self() of the holder, NULL when free */
} SimSpinlock, SimMutex;

/* rwlock_t / rw_semaphore: many readers or one writer. */
typedef struct {
	const char *name;
	guint readers;
	gconstpointer writer; /* sim_sched_self() of the writer, NULL when none */
} SimRwlock;

/* srcu_struct: readers never block; synchronize waits for every reader that entered before
 * it (each reader holds a ticket; overlapping synchronizers each wait for their own cut). */
typedef struct {
	const char *name;
	guint64 next_ticket;
	GArray *active;      /* guint64 tickets of readers inside */
} SimSrcu;

void sim_spin_lock(SimSched *sched, SimSpinlock *lock, const char *point);
void sim_spin_unlock(SimSched *sched, SimSpinlock *lock, const char *point);
#define sim_mutex_lock sim_spin_lock
#define sim_mutex_unlock sim_spin_unlock

void sim_read_lock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_read_unlock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_write_lock(SimSched *sched, SimRwlock *lock, const char *point);
void sim_write_unlock(SimSched *sched, SimRwlock *lock, const char *point);

/* lockdep-style checks for modeled code. */
gboolean sim_rwlock_held(const SimRwlock *lock);
gboolean sim_rwlock_write_held(const SimRwlock *lock);
gboolean sim_spin_held(const SimSpinlock *lock);
/* rwlock_is_contended(): does another actor wait for the lock? */
gboolean sim_rwlock_is_contended(const SimRwlock *lock);

/* srcu_read_lock()/unlock(); the returned ticket is passed back to unlock. */
guint64 sim_srcu_read_lock(SimSrcu *srcu);
void sim_srcu_read_unlock(SimSrcu *srcu, guint64 ticket);
void sim_srcu_clear(SimSrcu *srcu);
void sim_synchronize_srcu(SimSched *sched, SimSrcu *srcu, const char *point);
/* call_rcu() bookkeeping: a cut taken now, and whether every reader inside at that cut has
 * left (the grace period is over). */
guint64 sim_srcu_cut(const SimSrcu *srcu);
gboolean sim_srcu_grace_period_over(const SimSrcu *srcu, guint64 cut);

#endif
