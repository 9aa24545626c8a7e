/* SPDX-License-Identifier: GPL-2.0-only */
/* Locks that block actors on the scheduler instead of spinning. */
#include "sim/core/lock.h"

static gboolean
spin_free(gpointer data)
{
	return ((SimSpinlock *)data)->owner == NULL;
}

void
sim_spin_lock(SimSched *sched, SimSpinlock *lock, const char *point)
{
	sim_yield(sched, point);
	g_assert(lock->owner != sim_sched_self(sched));
	sim_wait(sched, lock->name, spin_free, lock);
	lock->owner = sim_sched_self(sched);
}

void
sim_spin_unlock(SimSched *sched, SimSpinlock *lock, const char *point)
{
	g_assert(lock->owner == sim_sched_self(sched));
	lock->owner = NULL;
	sim_yield(sched, point);
}

gboolean
sim_spin_held(const SimSpinlock *lock)
{
	return lock->owner != NULL;
}

static gboolean
rw_no_writer(gpointer data)
{
	return ((SimRwlock *)data)->writer == NULL;
}

static gboolean
rw_free(gpointer data)
{
	const SimRwlock *lock = data;

	return lock->writer == NULL && lock->readers == 0;
}

void
sim_read_lock(SimSched *sched, SimRwlock *lock, const char *point)
{
	sim_yield(sched, point);
	sim_wait(sched, lock->name, rw_no_writer, lock);
	lock->readers++;
}

void
sim_read_unlock(SimSched *sched, SimRwlock *lock, const char *point)
{
	g_assert(lock->readers > 0);
	lock->readers--;
	sim_yield(sched, point);
}

void
sim_write_lock(SimSched *sched, SimRwlock *lock, const char *point)
{
	sim_yield(sched, point);
	sim_wait(sched, lock->name, rw_free, lock);
	lock->writer = sim_sched_self(sched);
}

void
sim_write_unlock(SimSched *sched, SimRwlock *lock, const char *point)
{
	g_assert(lock->writer == sim_sched_self(sched));
	lock->writer = NULL;
	sim_yield(sched, point);
}

gboolean
sim_rwlock_held(const SimRwlock *lock)
{
	return lock->writer != NULL || lock->readers > 0;
}

/* PLACEHOLDER until the queued rwlock lands: this lock keeps no waiters. */
gboolean
sim_rwlock_is_contended(const SimRwlock *lock)
{
	(void)lock;
	return FALSE;
}

gboolean
sim_rwlock_write_held(const SimRwlock *lock)
{
	return lock->writer != NULL;
}

guint64
sim_srcu_read_lock(SimSrcu *srcu)
{
	guint64 ticket = ++srcu->next_ticket;

	if (!srcu->active)
		srcu->active = g_array_new(FALSE, FALSE, sizeof(guint64));
	g_array_append_val(srcu->active, ticket);
	return ticket;
}

/* Models srcu_read_unlock(): the reader with this ticket leaves. */
void
sim_srcu_read_unlock(SimSrcu *srcu, guint64 ticket)
{
	for (guint i = 0; srcu->active && i < srcu->active->len; i++) {
		if (g_array_index(srcu->active, guint64, i) == ticket) {
			g_array_remove_index(srcu->active, i);
			return;
		}
	}
	g_assert_not_reached();
}

void
sim_srcu_clear(SimSrcu *srcu)
{
	if (srcu->active)
		g_array_free(srcu->active, TRUE);
	srcu->active = NULL;
}

typedef struct {
	SimSrcu *srcu;
	guint64 cut;
} SrcuDrain;

guint64
sim_srcu_cut(const SimSrcu *srcu)
{
	return srcu->next_ticket;
}

gboolean
sim_srcu_grace_period_over(const SimSrcu *srcu, guint64 cut)
{
	for (guint i = 0; srcu->active && i < srcu->active->len; i++)
		if (g_array_index(srcu->active, guint64, i) <= cut)
			return FALSE;
	return TRUE;
}

static gboolean
srcu_drained(gpointer data)
{
	SrcuDrain *drain = data;

	return sim_srcu_grace_period_over(drain->srcu, drain->cut);
}

/* Models synchronize_srcu(): wait until every reader that entered before this call has left. */
void
sim_synchronize_srcu(SimSched *sched, SimSrcu *srcu, const char *point)
{
	sim_yield(sched, point);
	SrcuDrain drain = { srcu, srcu->next_ticket };

	sim_wait(sched, srcu->name, srcu_drained, &drain);
}
