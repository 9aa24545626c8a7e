/* SPDX-License-Identifier: GPL-2.0-only */
/* What the scheduler's files share: the actor and scheduler structures (sched*.c). */
#ifndef KVMSIM_SIM_CORE_SCHED_INTERNAL_H
#define KVMSIM_SIM_CORE_SCHED_INTERNAL_H

#include <ucontext.h>

#include "sim/core/fiber.h"
#include "sim/core/observe.h"
#include "sim/core/sched.h"
#include "sim/core/sched-rng.h"

#define SIM_ACTOR_STACK_SIZE (8u << 20) /* reserved, committed only as touched */

typedef enum {
	ACTOR_NEW,
	ACTOR_STARTED,
	ACTOR_FINISHED,
} ActorState;

/* What a waiter on a wait channel (sched_wait_on()) is known to find, until the channel's next
 * wake: nothing (its condition is asked at each pick), false (parked), true (sure to run). */
typedef enum {
	WAIT_ASK,
	WAIT_FALSE,
	WAIT_TRUE,
} WaitVerdict;

/* Arrivals of the running actor at one yield point since it was switched in. */
typedef struct {
	const char *point;
	guint count;
} PointCount;

struct SimActor {
	SimSched *sched;
	gchar *name;
	guint index;          /* creation order */
	SimActorFn fn;
	gpointer data;
	ActorState state;
	ucontext_t ctx;       /* where it starts: entered once, with setcontext() */
	void *resume[5];      /* where it stopped (__builtin_setjmp): later switches jump here */
	SimFiberStack stack;
	SimWaitFn wait_fn;    /* non-NULL while blocked */
	gpointer wait_data;
	const char *wait_what;
	gconstpointer wait_channel; /* the lock wait_fn reads (sched_wait_on()); NULL: none */
	WaitVerdict verdict;  /* what wait_fn returns until the channel's next wake (never
			       * WAIT_TRUE while held) */
	guint64 wake_step;    /* sleeping until the clock reaches it; 0 = not sleeping */
	const char *last_point; /* where it last yielded (for the livelock report) */
	guint64 arrivals;     /* yield points and pseudo-points reached (for a chooser) */
	gconstpointer read_held[4]; /* rwlocks it holds for read, for the log's lock lines
				     * (lock.c); a fifth nested one goes unnamed */
	guint nr_read_held;
	guint held;           /* an interrupt handler runs on its CPU (sim_actor_hold) */
	guint64 slept_until;  /* the wake_step it is counted in nr_sleepers with; 0: not counted */
};

struct SimSched {
	GPtrArray *actors;       /* SimActor *, creation order */
	guint live;              /* actors that have not returned */
	/* The runnable set kept incrementally, one bit per actor by creation index, so that a pick
	 * costs a few words and the waiters' conditions rather than a scan of every actor: */
	guint64 *ready;          /* started or new, neither waiting nor sleeping: runnable */
	guint64 *blocked;        /* waiting or sleeping: runnable only if its condition holds now */
	guint64 *parked;         /* blocked with WAIT_FALSE: cannot run, not asked until a wake */
	guint64 *sure;           /* blocked with WAIT_TRUE: can run, not asked until a wake */
	guint64 *candidates;     /* scratch for pick_by_policy() */
	guint words;             /* length of the five bitmaps */
	guint nr_blocked;        /* bits set in blocked */
	guint nr_known;          /* bits set in parked or sure */
	gboolean verify_parked;  /* every pick checks the verdicts, and aborts if one is wrong */
	gboolean pick_general;   /* a chooser or verify_parked: no shortcut in sched_pick() */
	SimActor **ready_list;   /* the actors of the ready and sure sets in order (ready_len of
				  * words * 64), while ready_stale is FALSE: with nobody to ask, the
				  * n-th runnable actor in O(1) */
	guint ready_len;
	gboolean ready_stale;
	/* Blocked actors that only sleep (no wait, no hold, not yet sure), and the earliest step
	 * one wakes at: until then none of them can run, so a pick is the ready set's, as with
	 * nobody blocked. */
	guint nr_sleepers;
	guint64 first_wake;      /* while nr_sleepers; recomputed when first_wake_stale */
	gboolean first_wake_stale;
	SimActor *current;       /* NULL in main */
	void *main_resume[5];    /* where sim_sched_run() waits for the actors */
	SimFiber main_fiber;
	guint64 seed;
	SimRng rng;              /* the random policy's stream (GRand's numbers) */
	guint64 now;             /* logical clock: yield points passed */
	guint64 switches;
	guint64 alone_until;     /* until this step the running actor is the only one that can
				  * run and nothing changed the sets: a yield need not pick */
	guint64 fast_until;      /* before this step a yield needs only the clock and the random
				  * policy's shortcut (sched_update_fast_until()) */
	guint64 examined;        /* actors looked at by pick_by_policy() */
	SimLog *log;
	SimPolicy policy;
	gboolean slow_yield;     /* sim_yield() takes its general path (update_slow_yield()) */
	/* explicit steps */
	GArray *steps;           /* SimStep */
	guint step_index;
	guint step_arrivals;     /* arrivals of the step's actor at its until point so far */
	SimPolicy after_steps;
	/* recording */
	gboolean recording;
	GArray *recorded;        /* SimStep */
	GArray *slice_points;    /* PointCount for the current slice */
	const char *last_point;  /* where the running actor last yielded, while recording */
	/* watchdog (yield points without progress) */
	guint64 watchdog;
	guint64 step_stall;      /* yields of the step's actor since it last reached its point */
	guint step_suspect;      /* consecutive samples of step_stall that found others runnable */
	guint64 last_progress;   /* clock at the last progress of any actor */
	/* marks: every mark_every-th step, mark_fn(sched, step, mark_data) */
	guint mark_every;
	SimMarkFn mark_fn;
	gpointer mark_data;
	/* an external chooser and a per-step hook (sim/explore) */
	SimChooseFn choose_fn;
	gpointer choose_data;
	guint *choice_list;      /* scratch: the runnable indices offered to choose_fn */
	SimStepHook step_hook;
	gpointer step_data;
	SimSleepHook sleep_hook; /* around each block of sim_wait_sleeping() (asi/) */
	gpointer sleep_data;
	/* a report watching the run (observe.h) */
	const SimObserver *observer;
	gpointer observer_data;
	/* outcome */
	GError *error;
	gchar *failure;
};

/* sim_sched_self(), inline for the lock fast paths: the running actor, or the scheduler itself
 * for set-up code outside every actor. */
static inline gconstpointer
sched_self(const SimSched *sched)
{
	return sched->current ? (gconstpointer)sched->current : (gconstpointer)sched;
}

/* sched-setup.c: whether sim_yield() and sched_pick() must take their general paths, after a
 * setting changed. */
void update_slow_yield(SimSched *sched);
/* The step from which sim_yield() must test more than the clock (sched-setup.c). */
void sched_update_fast_until(SimSched *sched);
/* Put the actor in the ready or blocked set (or neither) after its state, wait or sleep changed. */
void sched_update_sets(SimSched *sched, SimActor *actor);
gboolean sched_actor_runnable(const SimSched *sched, const SimActor *actor);
/* Seeded or round-robin choice among runnable actors; NULL if none can run now. */
SimActor *sched_pick_by_policy(SimSched *sched, SimPolicy policy);

/* The earliest wake step of the sleepers, from a scan when the one holding it woke. */
guint64 sched_first_wake_slow(SimSched *sched);

/* The earliest step a sleeper wakes at (while nr_sleepers), scanned again if stale. */
static inline guint64
sched_first_wake(SimSched *sched)
{
	return sched->first_wake_stale ? sched_first_wake_slow(sched) : sched->first_wake;
}

/* At a real choice (not a probe): the chooser's pick if one is set, else the policy's. */
SimActor *sched_pick(SimSched *sched, SimPolicy policy);
/* sched_pick() of the random policy before fast_until: no chooser, no sleeper due. */
SimActor *sched_pick_fast(SimSched *sched);
/* The step the first sleeper that could then run wakes at, and how many wake then. */
guint64 sched_earliest_wake(const SimSched *sched, guint *n_waking);

/*
 * Waits on a lock (lock.c): sim_wait() whose condition reads only the state of the lock at
 * channel, which lock.c changes only where it then calls sched_wake() on it. What the condition
 * was found to be holds until that wake: a waiter found false is parked (a pick does not ask it,
 * and sched_pick() keeps its ready-list shortcut), one found true is sure (a candidate without
 * being asked, until the wake or a hold). Who is runnable at each pick is unchanged; only the
 * picks' work is (sim_sched_set_verify_parked() checks it).
 */
void sched_wait_on(SimSched *sched, const char *what, SimWaitFn cond, gpointer data,
		   gconstpointer channel);
/* What the waiter's condition is known to be, until its channel's next wake. */
void sched_set_verdict(SimSched *sched, SimActor *actor, WaitVerdict verdict);
void sched_wake_slow(SimSched *sched, gconstpointer channel);

/* The lock at channel changed what its waiters' conditions read: ask them again at the next
 * pick. Nobody with a verdict (nearly always): a test. */
static inline void
sched_wake(SimSched *sched, gconstpointer channel)
{
	if (G_UNLIKELY(sched->nr_known))
		sched_wake_slow(sched, channel);
}

#endif
