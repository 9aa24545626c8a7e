/* SPDX-License-Identifier: GPL-2.0-only */
/* Locks that block actors on the scheduler instead of spinning. The qrwlock's trees are given in
 * lock.h; kernel/locking/mutex.c was read in ColinIanKing/linux-next at 03b9d314 (6.18 cycle) and
 * kernel/rcu/srcutree.c at 05edc007 (6.15 or later: srcu_ctrp); kernel/locking/rwsem.c in
 * LinxISA/linux at b6dd432d (an architecture port: its rwsem.c adds a CONFIG_LINX test around one
 * WARN; the newest copy found in the index). Which waits sleep (schedule(): ASI's context switch)
 * and which spin is said at each wait.
 * A queued rwlock's waiters wait on the lock's channel (sched_wait_on()): the scheduler asks them
 * again only after a sched_wake(), which follows every change of what their conditions read
 * (the reader count, the writer, wait_lock's holder) that can make one of them true or false.
 * Only the scheduler's bookkeeping changes: who may run at each pick is the same. */
#include "sim/core/lock.h"

#include "sim/core/log.h"
#include "sim/core/observe.h"
#include "sim/core/sched-internal.h"

/* sim_sched_observe_lock() only when a report watches the run: the lock fast paths stay inline. */
static inline void
observe_lock(SimSched *sched, const char *lock, gboolean write, SimLockOp op)
{
	if (G_UNLIKELY(sched->observer))
		sim_sched_observe_lock(sched, lock, write, op);
}

/* A CPU spinning for a queued spinlock. */
typedef struct {
	SimSpinlock *lock;
	GList link;
} SpinWaiter;

/* Is this spinner first in line with the lock free? */
static gboolean
spin_my_turn(gpointer data)
{
	const SpinWaiter *w = data;

	return w->lock->owner == NULL && w->lock->spinners.head == &w->link;
}

/* Models queued_spin_lock() and queued_spin_lock_slowpath() (qspinlock.c at 0200fbdd): spins in
 * line (never schedules) unless the lock is free with nobody in line; whether it spun. */
static gboolean
spin_acquire(SimSched *sched, SimSpinlock *lock)
{
	gboolean contended = lock->owner || lock->spinners.length;

	g_assert(lock->owner != sched_self(sched));
	if (G_UNLIKELY(contended)) {
		SpinWaiter w = { lock, { .data = &w } };

		g_queue_push_tail_link(&lock->spinners, &w.link);
		sched_wait_on(sched, lock->name, spin_my_turn, &w, lock);
		/* no wake: the next in line heads it, but the lock is held again at once */
		g_queue_unlink(&lock->spinners, &w.link);
	}
	lock->owner = sched_self(sched);
	return contended;
}

void
sim_spin_lock(SimSched *sched, SimSpinlock *lock, const char *point)
{
	sim_yield(sched, point);
	spin_acquire(sched, lock);
}

/* sim_spin_lock() that says whether the acquire found the lock held or queued (it spun). */
gboolean
sim_spin_lock_blocked(SimSched *sched, SimSpinlock *lock, const char *point)
{
	sim_yield(sched, point);
	return spin_acquire(sched, lock);
}

/* A sleeper on a mutex's wait_list (struct mutex_waiter). */
typedef struct {
	GList link;
	gconstpointer who; /* sim_sched_self() of the sleeper */
	gboolean woken;    /* an unlock woke it (wake_q_add()): it runs again */
} MutexWaiter;

static gboolean
mutex_woken(gpointer data)
{
	return ((MutexWaiter *)data)->woken;
}

/*
 * Models mutex_lock() → __mutex_lock_common() (mutex.c read in ColinIanKing/linux-next at
 * 03b9d314), simplified to who may own it next: a free mutex is taken at once, wait_list or not
 * (the fast path, __mutex_trylock(), and an optimistic spinner, whose spinning is arriving
 * later); a held one sleeps at the tail of wait_list until an unlock wakes it, then takes it if
 * handed or free, else, first in wait_list, sets HANDOFF (__mutex_trylock_or_handoff()) and
 * sleeps again (a first waiter's spin before that sleep ends the same way: handed the mutex).
 */
void
sim_mutex_lock(SimSched *sched, SimMutex *lock, const char *point)
{
	gconstpointer self = sched_self(sched);
	MutexWaiter w = { .who = self, .woken = FALSE };

	sim_yield(sched, point);
	g_assert(lock->owner != self);
	if (G_LIKELY(!lock->owner)) {
		lock->owner = self;
		return;
	}
	w.link = (GList){ .data = &w };
	g_queue_push_tail_link(&lock->wait_list, &w.link);
	for (;;) {
		/* sleeps: schedule_preempt_disabled() */
		sim_wait_sleeping(sched, lock->name, mutex_woken, &w);
		w.woken = FALSE;
		if (lock->owner == self)
			break; /* handed off (MUTEX_FLAG_PICKUP) */
		if (!lock->owner) {
			lock->owner = self;
			break;
		}
		g_assert(lock->wait_list.head == &w.link && !lock->handoff);
		lock->handoff = TRUE;
	}
	g_queue_unlink(&lock->wait_list, &w.link);
}

/* Models mutex_unlock() → __mutex_unlock_slowpath() (mutex.c at 03b9d314): release, or with
 * HANDOFF give the mutex to the first sleeper (__mutex_handoff()); wake that sleeper. */
void
sim_mutex_unlock(SimSched *sched, SimMutex *lock, const char *point)
{
	GList *first = lock->wait_list.head;

	g_assert(lock->owner == sched_self(sched));
	g_assert(first || !lock->handoff);
	lock->owner = NULL;
	if (first) {
		MutexWaiter *w = first->data;

		w->woken = TRUE;
		if (lock->handoff)
			lock->owner = w->who;
	}
	lock->handoff = FALSE;
	sim_yield(sched, point);
}

gboolean
sim_mutex_held(const SimMutex *lock)
{
	return lock->owner != NULL;
}

/* Models queued_spin_unlock(): the first spinner in line may take it. */
void
sim_spin_unlock(SimSched *sched, SimSpinlock *lock, const char *point)
{
	g_assert(lock->owner == sched_self(sched));
	lock->owner = NULL;
	sched_wake(sched, lock);
	sim_yield(sched, point);
}

gboolean
sim_spin_held(const SimSpinlock *lock)
{
	return lock->owner != NULL;
}

/* A waiter for a queued rwlock's wait_lock. */
typedef struct {
	SimRwlock *lock;
	GList link;
	gconstpointer who;  /* sim_sched_self() of the waiter */
	gboolean write;
} QrwWaiter;

/* The name of the actor sim_sched_self() returned as self. */
static const char *
self_name(const SimSched *sched, gconstpointer self)
{
	return self == (gconstpointer)sched ? "main" : ((const SimActor *)self)->name;
}

/* The running actor now holds lock for read (remembered for the log's lock lines). */
static void
qrw_reader_in(SimSched *sched, const SimRwlock *lock)
{
	SimActor *a = sched->current;

	if (a && a->nr_read_held < G_N_ELEMENTS(a->read_held))
		a->read_held[a->nr_read_held++] = lock;
}

/* The running actor dropped its read hold of lock. */
static void
qrw_reader_out(SimSched *sched, const SimRwlock *lock)
{
	SimActor *a = sched->current;

	for (guint i = a ? a->nr_read_held : 0; i-- > 0;) {
		if (a->read_held[i] == lock) {
			a->read_held[i] = a->read_held[--a->nr_read_held];
			return;
		}
	}
}

/*
 * The running actor blocks on a queued rwlock: log who holds it in which mode and who waits, in
 * the order they will get it (the holder of wait_lock first: it is let in as soon as what it
 * waits for leaves; then wait_lock's queue). why says what this actor waits for.
 */
static void
qrw_trace_wait(SimSched *sched, const SimRwlock *lock, gboolean write, const char *why)
{
	SimLog *log = sim_sched_log(sched);
	/* a reader holding wait_lock has counted itself in, but waits */
	guint readers = lock->readers - (lock->wait_owner && !lock->writer_waiting && lock->readers);
	guint named = 0;

	if (!sim_log_on(log))
		return;
	GString *held = g_string_new(NULL), *waiting = g_string_new(NULL);

	if (lock->writer)
		g_string_append_printf(held, "%s (write)", self_name(sched, lock->writer));
	for (guint i = 0; i < sched->actors->len; i++) {
		const SimActor *a = g_ptr_array_index(sched->actors, i);

		for (guint j = 0; j < a->nr_read_held; j++) {
			if (a->read_held[j] == lock) {
				g_string_append_printf(held, "%s%s (read)", held->len ? ", " : "",
						       a->name);
				named++;
			}
		}
	}
	if (readers > named)
		g_string_append_printf(held, "%s%u more reader%s", held->len ? ", " : "",
				       readers - named, readers - named == 1 ? "" : "s");
	if (lock->wait_owner)
		g_string_append_printf(waiting, "%s (%s)", self_name(sched, lock->wait_owner),
				       lock->writer_waiting ? "write, announced: no new reader gets in" :
							      "read, waiting for the writer");
	for (const GList *l = lock->wait_queue.head; l; l = l->next) {
		const QrwWaiter *w = l->data;

		g_string_append_printf(waiting, "%s%s (%s, queued on wait_lock)",
				       waiting->len ? ", " : "", self_name(sched, w->who),
				       w->write ? "write" : "read");
	}
	sim_log_emitf(log, "sim_lock_wait", "%s for %s %s: held by %s; waiters in order: %s",
		      lock->name, write ? "write" : "read", why, held->len ? held->str : "nobody",
		      waiting->str);
	g_string_free(held, TRUE);
	g_string_free(waiting, TRUE);
}

/* Is this waiter at the head of the queue with wait_lock free? (a FIFO qspinlock) */
static gboolean
qrw_my_turn(gpointer data)
{
	QrwWaiter *w = data;

	return w->lock->wait_queue.head == &w->link && w->lock->wait_owner == NULL;
}

/* arch_spin_lock(&lock->wait_lock): queue, and take it in turn. */
static void
qrw_wait_lock(SimSched *sched, SimRwlock *lock, QrwWaiter *w, gboolean write)
{
	w->lock = lock;
	w->link = (GList){ .data = w };
	w->who = sched_self(sched);
	w->write = write;
	g_queue_push_tail_link(&lock->wait_queue, &w->link);
	if (!qrw_my_turn(w))
		qrw_trace_wait(sched, lock, write, "queues on wait_lock");
	sched_wait_on(sched, lock->name, qrw_my_turn, w, lock); /* spins: arch_spin_lock() */
	/* no wake: the next waiter heads the queue, but wait_lock is taken again at once */
	g_queue_unlink(&lock->wait_queue, &w->link);
	lock->wait_owner = sched_self(sched);
}

static gboolean
qrw_no_writer(gpointer data)
{
	return ((SimRwlock *)data)->writer == NULL;
}

static gboolean
qrw_readers_gone(gpointer data)
{
	const SimRwlock *lock = data;

	return lock->readers == 0 && lock->writer == NULL;
}

/* Models queued_read_lock() and queued_read_lock_slowpath() for a process-context reader. */
void
sim_read_lock(SimSched *sched, SimRwlock *lock, const char *point)
{
	QrwWaiter w;

	sim_yield(sched, point);
	observe_lock(sched, lock->name, FALSE, SIM_LOCK_ATTEMPT);
	if (!lock->writer && !lock->writer_waiting) {
		lock->readers++;
		qrw_reader_in(sched, lock);
		observe_lock(sched, lock->name, FALSE, SIM_LOCK_ACQUIRED);
		return;
	}
	qrw_wait_lock(sched, lock, &w, FALSE);
	lock->readers++;
	if (lock->writer)
		qrw_trace_wait(sched, lock, FALSE, "waits for the writer to leave");
	/* spins: atomic_cond_read_acquire() in queued_read_lock_slowpath() */
	sched_wait_on(sched, lock->name, qrw_no_writer, lock, lock);
	lock->wait_owner = NULL;
	sched_wake(sched, lock);
	qrw_reader_in(sched, lock);
	observe_lock(sched, lock->name, FALSE, SIM_LOCK_ACQUIRED);
}

/* Models queued_read_unlock(). */
void
sim_read_unlock(SimSched *sched, SimRwlock *lock, const char *point)
{
	g_assert(lock->readers > 0);
	lock->readers--;
	sched_wake(sched, lock);
	qrw_reader_out(sched, lock);
	observe_lock(sched, lock->name, FALSE, SIM_LOCK_RELEASED);
	sim_yield(sched, point);
}

/* Models queued_write_lock() and queued_write_lock_slowpath(). */
void
sim_write_lock(SimSched *sched, SimRwlock *lock, const char *point)
{
	gconstpointer self = sched_self(sched);
	QrwWaiter w;

	sim_yield(sched, point);
	g_assert(lock->writer != self);
	observe_lock(sched, lock->name, TRUE, SIM_LOCK_ATTEMPT);
	if (!lock->readers && !lock->writer && !lock->writer_waiting) {
		lock->writer = self;
		observe_lock(sched, lock->name, TRUE, SIM_LOCK_ACQUIRED);
		return;
	}
	qrw_wait_lock(sched, lock, &w, TRUE);
	if (lock->readers || lock->writer) {
		lock->writer_waiting = TRUE;
		qrw_trace_wait(sched, lock, TRUE, lock->writer ? "waits for the writer to leave" :
								"waits for the readers to leave");
		/* spins: atomic_cond_read_relaxed() in queued_write_lock_slowpath() */
		sched_wait_on(sched, lock->name, qrw_readers_gone, lock, lock);
		lock->writer_waiting = FALSE;
	}
	lock->writer = self;
	lock->wait_owner = NULL;
	sched_wake(sched, lock);
	observe_lock(sched, lock->name, TRUE, SIM_LOCK_ACQUIRED);
}

/* Models queued_write_unlock(): no hand-off, whoever runs first gets the lock. */
void
sim_write_unlock(SimSched *sched, SimRwlock *lock, const char *point)
{
	g_assert(lock->writer == sched_self(sched));
	lock->writer = NULL;
	sched_wake(sched, lock);
	observe_lock(sched, lock->name, TRUE, SIM_LOCK_RELEASED);
	sim_yield(sched, point);
}

gboolean
sim_rwlock_held(const SimRwlock *lock)
{
	return lock->writer != NULL || lock->readers > 0;
}

gboolean
sim_rwlock_write_held(const SimRwlock *lock)
{
	return lock->writer != NULL;
}

gboolean
sim_rwlock_is_contended(const SimRwlock *lock)
{
	return lock->wait_owner != NULL || lock->wait_queue.length > 0;
}

/* A sleeper on an rwsem's wait_list (struct rwsem_waiter). */
typedef struct {
	GList link;
	gboolean write;
	gboolean woken; /* a reader: granted the lock (waiter.task cleared); a writer: woken */
} RwsemWaiter;

static gboolean
rwsem_woken(gpointer data)
{
	return ((RwsemWaiter *)data)->woken;
}

/* Models rwsem_mark_wake(sem, RWSEM_WAKE_ANY) on a free rwsem (rwsem.c at b6dd432d): wake the
 * first sleeper if it is a writer, else grant the lock to every sleeping reader (their count is
 * added here; MAX_READERS_WAKEUP is beyond the model's actors). */
static void
rwsem_mark_wake(SimRwsem *sem)
{
	RwsemWaiter *first = sem->wait_list.head->data;

	if (first->write) {
		first->woken = TRUE;
		return;
	}
	for (GList *l = sem->wait_list.head, *next; l; l = next) {
		RwsemWaiter *w = l->data;

		next = l->next;
		if (!w->write) {
			g_queue_unlink(&sem->wait_list, l);
			sem->readers++;
			w->woken = TRUE;
		}
	}
}

/* Queue at the tail of wait_list (rwsem_add_waiter()). */
static void
rwsem_queue(SimRwsem *sem, RwsemWaiter *w)
{
	w->link = (GList){ .data = w };
	g_queue_push_tail_link(&sem->wait_list, &w->link);
}

/* Sleep until woken: schedule_preempt_disabled() in rwsem_down_read_slowpath(), schedule() in
 * rwsem_down_write_slowpath(). */
static void
rwsem_sleep(SimSched *sched, SimRwsem *sem, RwsemWaiter *w)
{
	sim_wait_sleeping(sched, sem->name, rwsem_woken, w);
	w->woken = FALSE;
}

/*
 * Models down_read() (rwsem.c at b6dd432d): rwsem_read_trylock(), then rwsem_down_read_slowpath()'s
 * steal of a free rwsem, else a sleep until rwsem_mark_wake() grants it. Its
 * rwsem_mark_wake(RWSEM_WAKE_READ_OWNED) after a steal and rwsem_cond_wake_waiter() after queueing
 * find nothing to do here: with no yield between the checks, no reader sleeps unless a writer
 * holds the lock or sleeps ahead of it.
 */
void
sim_down_read(SimSched *sched, SimRwsem *sem, const char *point)
{
	RwsemWaiter w = { .write = FALSE, .woken = FALSE };

	sim_yield(sched, point);
	if (G_LIKELY(!sem->writer && (!sem->wait_list.length || !sem->readers))) {
		sem->readers++;
		return;
	}
	rwsem_queue(sem, &w);
	rwsem_sleep(sched, sem, &w); /* granted: counted in and dequeued by the waker */
	g_assert(sem->readers > 0 && !sem->writer);
}

/* Models up_read(): the last reader out with sleepers calls rwsem_wake(). */
void
sim_up_read(SimSched *sched, SimRwsem *sem, const char *point)
{
	g_assert(sem->readers > 0);
	if (--sem->readers == 0 && sem->wait_list.length)
		rwsem_mark_wake(sem);
	sim_yield(sched, point);
}

/* Models down_write() (rwsem.c at b6dd432d): rwsem_write_trylock() or the optimistic spin's
 * rwsem_try_write_lock_unqueued() takes a free rwsem (spinning is arriving later); else
 * rwsem_down_write_slowpath() sleeps, and retries rwsem_try_write_lock() each time woken. */
void
sim_down_write(SimSched *sched, SimRwsem *sem, const char *point)
{
	gconstpointer self = sched_self(sched);
	RwsemWaiter w = { .write = TRUE, .woken = FALSE };

	sim_yield(sched, point);
	g_assert(sem->writer != self);
	if (G_UNLIKELY(sem->writer || sem->readers)) {
		rwsem_queue(sem, &w);
		do
			rwsem_sleep(sched, sem, &w);
		while (sem->writer || sem->readers);
		g_queue_unlink(&sem->wait_list, &w.link);
	}
	sem->writer = self;
}

/* Models up_write(): with sleepers, rwsem_wake(). */
void
sim_up_write(SimSched *sched, SimRwsem *sem, const char *point)
{
	g_assert(sem->writer == sched_self(sched));
	sem->writer = NULL;
	if (sem->wait_list.length)
		rwsem_mark_wake(sem);
	sim_yield(sched, point);
}

/* sim_srcu_read_lock() with no free slot: twice as many slots, the new ones on the free list. */
void
sim_srcu_grow(SimSrcu *srcu)
{
	guint old = srcu->max_active;

	srcu->max_active = MAX(8, old * 2);
	g_assert(srcu->max_active <= 1u << SIM_SRCU_SLOT_BITS);
	srcu->active = g_renew(guint64, srcu->active, srcu->max_active);
	for (guint i = old; i < srcu->max_active; i++)
		srcu->active[i] = SIM_SRCU_FREE_SLOT | (i + 1 < srcu->max_active ? i + 2 : 0);
	srcu->free_slot = old + 1;
}

void
sim_srcu_clear(SimSrcu *srcu)
{
	g_clear_pointer(&srcu->active, g_free);
	srcu->nr_active = 0;
	srcu->max_active = 0;
	srcu->free_slot = 0;
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
	for (guint i = 0; i < srcu->max_active && srcu->nr_active; i++)
		if (!(srcu->active[i] & SIM_SRCU_FREE_SLOT) && srcu->active[i] <= cut)
			return FALSE;
	return TRUE;
}

static gboolean
srcu_drained(gpointer data)
{
	SrcuDrain *drain = data;

	return sim_srcu_grace_period_over(drain->srcu, drain->cut);
}

/* Models synchronize_srcu(): wait until every reader that entered before this call has left,
 * asleep (__synchronize_srcu() → wait_for_completion(), srcutree.c at 05edc007; the expedited
 * choice and the two-index flip, which can also wait for some later readers, are not modelled). */
void
sim_synchronize_srcu(SimSched *sched, SimSrcu *srcu, const char *point)
{
	sim_yield(sched, point);
	SrcuDrain drain = { srcu, srcu->next_ticket };

	sim_wait_sleeping(sched, srcu->name, srcu_drained, &drain);
}
