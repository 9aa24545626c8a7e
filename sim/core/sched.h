/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Actors and the deterministic scheduler that everything in kvmsim runs on.
 *
 * An actor is one thread of control of the modeled system (a vCPU, the primary MMU acting on the
 * VMM's memory, ...). Actors are coroutines with their own stacks; exactly one runs at a time. An
 * actor gives the scheduler a chance to switch only at a named yield point (sim_yield()) or when
 * it blocks (sim_wait()). Which actor runs next is decided by a policy from the seed and the
 * model state only, so a run is a pure function of its inputs.
 *
 * The logical clock ("step") advances by one at every yield point. The schedule actually taken is
 * recorded as a list of steps "actor A ran until it reached yield point P for the N-th time", which
 * the steps policy replays exactly.
 */
#ifndef KVMSIM_SIM_CORE_SCHED_H
#define KVMSIM_SIM_CORE_SCHED_H

#include <glib.h>

typedef struct SimSched SimSched;
typedef struct SimActor SimActor;
typedef struct SimLog SimLog;

typedef void (*SimActorFn)(SimActor *actor, gpointer data);
/* A wait condition: TRUE once the waiting actor may go on. Must not have side effects. */
typedef gboolean (*SimWaitFn)(gpointer data);

typedef enum {
	SIM_POLICY_RANDOM,      /* at every yield point, a seeded uniform choice among runnable actors */
	SIM_POLICY_ROUND_ROBIN, /* at every yield point, the next runnable actor in creation order */
	SIM_POLICY_STEPS,       /* an explicit list of steps, then the fallback policy */
} SimPolicy;

/*
 * One step of an explicit schedule: actor runs until it reaches yield point until count times.
 * Besides the yield points (sim/core/points.h) three pseudo-points end a step: the actor blocks
 * (a contended lock, a wait), goes to sleep, or returns.
 */
#define SIM_POINT_BLOCK "block"
#define SIM_POINT_SLEEP "sleep"
#define SIM_POINT_EXIT "exit"
typedef struct {
	gchar *actor;
	gchar *until;
	guint count;
} SimStep;

#define SIM_SCHED_ERROR (sim_sched_error_quark())
GQuark sim_sched_error_quark(void);
typedef enum {
	SIM_SCHED_ERROR_DEADLOCK,  /* every live actor waits */
	SIM_SCHED_ERROR_SCHEDULE,  /* an explicit step names an actor that cannot run */
	SIM_SCHED_ERROR_WATCHDOG,  /* a step's actor passed the watchdog's yield points without
				    * reaching its point while others could have run */
	SIM_SCHED_ERROR_LIVELOCK,  /* no actor made progress in the watchdog's yield points */
} SimSchedError;

/* Yield points a run may pass without progress before the watchdog ends it: a step that never
 * reaches its point, or a livelock. A recorded step passes a few; a fault retries in a few. */
#define SIM_SCHED_DEFAULT_WATCHDOG (1u << 16)

SimSched *sim_sched_new(guint64 seed);
void sim_sched_free(SimSched *sched);
/*
 * An external chooser (sim/explore's strategies): where the policy would pick among two or more
 * runnable actors, and no explicit step is in force, fn picks instead. Choices with one runnable
 * actor are not offered. Without a chooser (the default) nothing changes.
 */
typedef struct {
	const guint *runnable;  /* creation indices of the runnable actors, ascending; n > 1 */
	guint n;
	gint current;           /* creation index of the running actor; -1 before the first */
	gboolean preempt;       /* the current actor could go on: picking another preempts it */
	guint64 arrivals;       /* yield points and pseudo-points the current actor reached */
	const char *point;      /* the point it is at (NULL before the first) */
} SimChoice;
/* Returns a position in choice->runnable. */
typedef guint (*SimChooseFn)(SimSched *sched, const SimChoice *choice, gpointer data);
void sim_sched_set_chooser(SimSched *sched, SimChooseFn fn, gpointer data);
/* Called at every yield point, after the clock advanced and before the pick: where invariants
 * are checked at every step (a failure found there stops the run at this point). */
typedef void (*SimStepHook)(SimSched *sched, const char *point, gpointer data);
void sim_sched_set_step_hook(SimSched *sched, SimStepHook fn, gpointer data);
/* Actors so far, and the name of the one created index-th. */
guint sim_sched_nr_actors(const SimSched *sched);
const char *sim_sched_actor_name(const SimSched *sched, guint index);
/* Creation index of the running actor; -1 outside every actor. */
gint sim_sched_current_index(const SimSched *sched);

/* The run's seed, for other seeded streams (a vCPU's rdrand). */
guint64 sim_sched_seed(const SimSched *sched);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimSched, sim_sched_free)

/* The policy's name in traces and on the command line: random, round-robin or steps. */
const char *sim_policy_name(SimPolicy policy);
/* The policy called name; FALSE if there is none. */
gboolean sim_policy_lookup(const char *name, SimPolicy *out);

void sim_sched_set_log(SimSched *sched, SimLog *log);
void sim_sched_set_policy(SimSched *sched, SimPolicy policy);
/* Follow steps first (copied), then continue with policy then. */
void sim_sched_set_steps(SimSched *sched, const SimStep *steps, guint n_steps, SimPolicy then);
/* Yield points without progress before the run stops (0: never); SIM_SCHED_DEFAULT_WATCHDOG
 * unless set. */
void sim_sched_set_watchdog(SimSched *sched, guint64 yields);
guint64 sim_sched_watchdog(const SimSched *sched);
/* The running actor made progress (the guest retired instructions, an event was performed): the
 * livelock watchdog starts counting again. */
void sim_sched_progress(SimSched *sched);
/* Record the schedule actually taken (off by default: it grows with the run). */
void sim_sched_set_recording(SimSched *sched, gboolean on);
/*
 * Call fn every every-th step of the schedule (step every, 2 * every, ...), just as that step
 * begins: when recording, once the step before it is recorded; when following steps, once the
 * step before it is complete. Both happen at the same point of a run and of its replay (before
 * the switch is logged), so what the log holds then can be compared between the two.
 */
typedef void (*SimMarkFn)(SimSched *sched, guint step, gpointer data);
void sim_sched_set_marks(SimSched *sched, guint every, SimMarkFn fn, gpointer data);

/* A new actor; it first runs when the scheduler picks it. Actors are never freed before the
 * scheduler. */
SimActor *sim_actor_new(SimSched *sched, const char *name, SimActorFn fn, gpointer data);

/* An interrupt handler (an NMI actor, asi/nmi.h) runs on the CPU actor runs on: until the handler
 * returns, actor cannot run (holds nest). */
void sim_actor_hold(SimActor *actor);
void sim_actor_release(SimActor *actor);
const char *sim_actor_name(const SimActor *actor);
const char *sim_actor_last_point(const SimActor *actor);
gboolean sim_actor_live(const SimActor *actor);
/* The actor called name (the live one if a name came back), or NULL. */
SimActor *sim_sched_find_actor(const SimSched *sched, const char *name);

/* Run the actors until every one has returned. FALSE on deadlock or a schedule that cannot be
 * followed. Called once, from outside any actor. */
gboolean sim_sched_run(SimSched *sched, GError **error);

/* A yield point: the current actor reached point (a static string); the policy may switch. */
void sim_yield(SimSched *sched, const char *point);
/* Block the current actor until cond(data) holds; what names the wait for deadlock reports. */
void sim_wait(SimSched *sched, const char *what, SimWaitFn cond, gpointer data);
/*
 * The same for a wait where the kernel task sleeps (it calls schedule(): a wait queue, a sleeping
 * lock, a completion), where sim_wait() is one that spins (a spinlock, a qrwlock). Each call site
 * names the kernel function that sleeps there.
 */
void sim_wait_sleeping(SimSched *sched, const char *what, SimWaitFn cond, gpointer data);
/*
 * Called on the actor of a sim_wait_sleeping() (the running one) only when it really blocks:
 * wake FALSE before it blocks (schedule() switches away from its task), TRUE when it runs again
 * (switched back). The hook may yield. None by default: the waits are plain sim_wait()s.
 */
typedef void (*SimSleepHook)(SimSched *sched, const char *what, gboolean wake, gpointer data);
void sim_sched_set_sleep_hook(SimSched *sched, SimSleepHook fn, gpointer data);
/* Block the current actor until the logical clock reaches step (or nobody else can run). */
void sim_sleep_until(SimSched *sched, guint64 step);

/* Mark the run failed (an invariant was violated); the first reason is kept. The run stops at
 * the next yield point: sim_sched_run() returns with the remaining actors abandoned. */
void sim_sched_fail(SimSched *sched, const char *reason);
gboolean sim_sched_failed(const SimSched *sched);
const char *sim_sched_failure(const SimSched *sched);

guint64 sim_sched_now(const SimSched *sched);
/* Who holds a lock taken now: the running actor, or a token for set-up code outside actors. */
gconstpointer sim_sched_self(const SimSched *sched);
/* Name of the running actor, or "main" outside every actor. */
const char *sim_sched_current_name(const SimSched *sched);
SimLog *sim_sched_log(const SimSched *sched);
/* Number of context switches so far. */
guint64 sim_sched_switches(const SimSched *sched);
/* Actors the policy looked at to make its choices so far: the scheduler's own work, which
 * grows with the actors that wait or sleep, not with the number that could run. */
guint64 sim_sched_examined(const SimSched *sched);
/* A check for tests: every pick also asks the lock waiters whose condition it takes as known
 * until their lock changes (parked: false; sure: true) and aborts if one is wrong, i.e. a lock
 * changed without waking its waiters. */
void sim_sched_set_verify_parked(SimSched *sched, gboolean on);

/* In steps mode, the index of the step in force (after an error: the step that failed). */
guint sim_sched_step_index(const SimSched *sched);
/* The recorded schedule (valid until the scheduler is freed). */
const SimStep *sim_sched_recorded(const SimSched *sched, guint *out_n);

#endif
