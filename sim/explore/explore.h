/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Searching the interleavings of a target (a trace's machine and events; its schedule is replaced
 * by the search) for a run that breaks an invariant (sim/core/invariants.h).
 *
 * A run is driven by a chooser (sim_sched_set_chooser()) at every choice among two or more
 * runnable actors. A choice is named by the actor that was running and how many points it had
 * reached ("vcpu0 at its 7th point"), which stays the same when other choices change. The
 * default pick goes on with the running actor if it can, else the runnable actor created first;
 * a schedule is the list of choices that differ from the default (its deviations), so a run with
 * no deviation is the non-preemptive one. Deviations are what a replay token encodes and what
 * shrinking removes.
 *
 * Strategies: random (a seeded uniform pick at every choice), PCT (Burckhardt et al., ASPLOS'10:
 * random actor priorities, depth - 1 priority change points among the choices), and DFS over every
 * schedule with at most K preemptions (a switch away from an actor that could go on).
 */
#ifndef KVMSIM_SIM_EXPLORE_EXPLORE_H
#define KVMSIM_SIM_EXPLORE_EXPLORE_H

#include "sim/trace/trace.h"
#include "sim/vmm/machine.h"

#define EXPLORE_ERROR (explore_error_quark())
GQuark explore_error_quark(void);
typedef enum {
	EXPLORE_ERROR_TARGET,    /* the target cannot be built or run */
	EXPLORE_ERROR_TOKEN,     /* a replay token that does not decode or fit the target */
	EXPLORE_ERROR_JOBS,      /* a worker process failed */
} ExploreError;

/* What is explored: a trace, or a workload's machine as `kvmsim run` builds it. */
typedef struct {
	const Trace *trace;        /* machine, events, seed, watchdog; schedule and expects unused */
	const SimVmmConfig *config; /* instead of trace: a full-system machine (its host events) */
	const char *name;          /* for messages: the trace's path or the workload */
	guint64 watchdog;          /* 0: the trace's, else the default */
	guint64 actor_budget;      /* livelock: yield points one actor may pass; 0: 1 << 20 */
	gboolean amended;          /* the trace has events the file lacks (explore --nmi): a
				    * token replays through explore, not replay */
} ExploreTarget;

/* One choice: when actor cur (creation index; EXPLORE_NO_ACTOR before the first) had reached
 * arrivals points, actor pick was run. */
#define EXPLORE_NO_ACTOR G_MAXUINT
typedef struct {
	guint cur;
	guint64 arrivals;
	guint pick;
} ExploreChoice;

/* Points of the yield-point registry (sim/core/points.h) pairs are counted over: at most. */
#define EXPLORE_MAX_POINTS 128

/* What one run did. */
typedef struct {
	gboolean failed;
	gchar *invariant;          /* registry name (sim/core/invariants.h) */
	gchar *detail;             /* the failure as the model reported it */
	guint64 step;              /* the logical clock when the run stopped */
	gchar *actor;              /* the actor running when it failed */
	gchar *actors;             /* every actor and its last point: "vcpu0 at X, vcpu1 at Y" */
	const char *guest_result;  /* full-system: the guest's result (pass, fail, none) */
	guint64 steps;             /* logical steps the run took */
	guint nr_actors;
	GPtrArray *actor_names;    /* gchar *, by creation index */
	GArray *choices;           /* ExploreChoice: every choice among two or more actors */
	GArray *deviations;        /* ExploreChoice: the choices that were not the default */
	guint preemptions;         /* deviations that switched away from a runnable actor */
	guint64 hash;              /* FNV-1a of the choices: schedules with equal hashes are equal */
	/* coverage (reference A.5, A.7): switches from a point to a point, probes that fired */
	guint64 pairs[EXPLORE_MAX_POINTS * EXPLORE_MAX_POINTS / 64];
	guint64 probes;            /* bit i: the i-th probe counter (probes.*) was non-zero */
	GPtrArray *steps_taken;    /* SimStep *, the schedule as a trace writes it (recorded) */
	Trace *recorded;           /* a config target's run as a trace (recorded) */
	gchar *log;                /* the event log text if it was asked for, else NULL */
} ExploreRun;

void explore_run_clear(ExploreRun *run);

/*
 * Run the target once under the schedule devs (n deviations; none: the non-preemptive run). A
 * deviation whose actor cannot run at its choice is ignored. With record, the run's steps are
 * recorded (for a trace) and, with log, its event log kept as text. FALSE only if the target
 * cannot be built; a broken invariant is out->failed.
 */
gboolean explore_run_schedule(const ExploreTarget *target, const ExploreChoice *devs, guint n,
			      gboolean record, gboolean log, ExploreRun *out, GError **error);

typedef enum {
	EXPLORE_RANDOM,
	EXPLORE_PCT,
	EXPLORE_DFS,
} ExploreStrategy;

const char *explore_strategy_name(ExploreStrategy s);
gboolean explore_strategy_lookup(const char *name, ExploreStrategy *out);

typedef struct {
	ExploreStrategy strategy;
	guint64 seed;
	guint depth;               /* PCT: bug depth d (>= 1) */
	guint preemption_bound;    /* DFS: K */
	guint64 budget;            /* schedules at most; 0: no limit (random and PCT: 1000) */
	guint64 time_budget;       /* logical steps over all schedules at most; 0: no limit */
	guint jobs;                /* worker processes (random, PCT); 0 or 1: none */
	gboolean shrink;           /* shrink a failing schedule (default on) */
} ExploreOptions;

#define EXPLORE_DEFAULT_BUDGET 1000

typedef struct {
	guint64 schedules;         /* run */
	guint64 distinct;          /* distinct choice sequences among them */
	guint64 steps;             /* logical steps over all of them */
	guint pairs;               /* yield-point pairs reached */
	guint probes;              /* probes reached */
	guint64 probe_bits;
	gboolean exhausted;        /* DFS: every schedule within the bound was run */
	gboolean stopped_by_time;  /* the time budget ended the search */
	guint nr_actors;           /* PCT: n */
	guint64 pct_k;             /* PCT: k, the choices of the longest run seen */
	guint pct_calibration;     /* PCT: the schedules k was learned from */
	gboolean failed;
	guint64 failing_schedule;  /* 1-based number of the failing schedule */
	ExploreRun found;          /* the failing run as found */
	ExploreRun shrunk;         /* the same failure with a minimal schedule (or found's) */
	guint shrink_runs;         /* runs the shrinking took */
} ExploreResult;

void explore_result_clear(ExploreResult *r);

/* Search; FALSE only if the target cannot be run (or a worker died). */
gboolean explore_search(const ExploreTarget *target, const ExploreOptions *opts,
			ExploreResult *result, GError **error);

/*
 * Delta debugging (Zeller's ddmin) over a failing run's deviations: the smallest set found such
 * that removing any one deviation makes the failure (the same invariant) disappear. The result is
 * run again with recording (and log) so that it can be written out. *runs counts the runs made.
 */
gboolean explore_shrink(const ExploreTarget *target, const ExploreRun *failing, gboolean log,
			ExploreRun *out, guint *runs, GError **error);

/* The printable replay token of a schedule (its deviations), and back. */
gchar *explore_token_encode(const ExploreChoice *devs, guint n);
GArray *explore_token_decode(const char *token, GError **error);
/* Deviations of a token (decoded) that the run it named did not make: not 0 when the token was
 * made on another target, or the model changed since. */
guint explore_token_unapplied(const GArray *devs, const ExploreRun *run);

/*
 * A trace that replays a recorded run: the target's machine and events (a workload's: its host
 * events as the run made them), the run's steps as its schedule, and the expectation that an
 * invariant fails (with the sim_invariant event of the invariant that did), or that they hold.
 * It takes run->recorded, if there is one.
 */
Trace *explore_run_to_trace(const ExploreTarget *target, ExploreRun *run);

#endif
