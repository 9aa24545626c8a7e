/* SPDX-License-Identifier: GPL-2.0-only */
/* One run of a target under a chooser: the machine, the invariants at every step, the verdict. */
#include "sim/explore/explore-internal.h"

#include <string.h>

#include "sim/core/invariants.h"
#include "sim/core/log.h"
#include "sim/core/points.h"
#include "sim/trace/replay.h"

G_DEFINE_QUARK(kvmsim-explore-error-quark, explore_error)

#define START_POINT (EXPLORE_MAX_POINTS - 1) /* an actor that has not run yet */

/* The state of one run that the scheduler's hooks share. */
typedef struct {
	const ExploreTarget *target;
	ExplorePickFn pick;
	gpointer pick_data;
	SimSched *sched;
	SimMachine *machine;
	ExploreRun *out;
	guint nr_actors;
	guint streak;              /* choices in a row the running actor went on, others waiting */
} RunState;

/*
 * Fairness (as CHESS schedules fairly, Musuvathi and Qadeer, PLDI'08): an actor that went on at
 * this many choices in a row while others could run is switched out, to the next runnable actor
 * in creation order. Without it a strategy that favours one actor (the default pick, PCT's
 * priorities) starves the others whenever that actor waits for them by spinning: a vCPU retrying
 * a fault while an invalidation is in progress, a guest at a barrier. The switch is a choice like
 * any other: it is recorded, and a replay makes it again.
 */
#define FAIR_STREAK 256

/* The registry index of a point (a static string from the model), or START_POINT. */
static guint
point_index(const char *point)
{
	static GHashTable *index;
	guint n;
	const SimPoint *points = sim_points(&n);

	if (!point)
		return START_POINT;
	if (!index) {
		index = g_hash_table_new(g_str_hash, g_str_equal);
		for (guint i = 0; i < n && i < START_POINT; i++)
			g_hash_table_insert(index, (gpointer)points[i].name, GUINT_TO_POINTER(i + 1));
	}
	guint i = GPOINTER_TO_UINT(g_hash_table_lookup(index, point));

	return i ? i - 1 : START_POINT;
}

/* The scheduler's chooser: default pick, the strategy's pick, the record of both. */
static guint
run_choose(SimSched *sched, const SimChoice *c, gpointer data)
{
	RunState *st = data;
	ExploreRun *out = st->out;
	guint def = 0;

	if (c->preempt)
		for (guint i = 0; i < c->n; i++)
			if (c->runnable[i] == (guint)c->current)
				def = i;
	guint pos = st->pick(st->pick_data, c, def, out->choices->len);

	st->streak = c->preempt && c->runnable[pos] == (guint)c->current ? st->streak + 1 : 0;
	if (st->streak > FAIR_STREAK) {
		pos = (def + 1) % c->n;
		st->streak = 0;
	}
	ExploreChoice ch = {
		.cur = c->current < 0 ? EXPLORE_NO_ACTOR : (guint)c->current,
		.arrivals = c->arrivals,
		.pick = c->runnable[pos],
	};

	g_array_append_val(out->choices, ch);
	/* FNV-1a over the choice */
	guint64 words[3] = { ch.cur, ch.arrivals, ch.pick };

	for (guint i = 0; i < 3; i++) {
		out->hash ^= words[i];
		out->hash *= 0x100000001b3ull;
	}
	if (pos != def) {
		g_array_append_val(out->deviations, ch);
		out->preemptions += c->preempt;
	}
	if (ch.pick != ch.cur && ch.pick < st->nr_actors) {
		guint a = c->current < 0 ? START_POINT : point_index(c->point);
		guint b = point_index(sim_machine_last_point(st->machine, ch.pick));
		guint bit = a * EXPLORE_MAX_POINTS + b;

		out->pairs[bit / 64] |= 1ull << (bit % 64);
	}
	return pos;
}

/* The verdict of a finished run into out: the invariant, the step, the actors. */
static void
run_verdict(RunState *st, gboolean ran, const GError *err)
{
	ExploreRun *out = st->out;
	SimSched *sched = st->sched;
	SimVmm *vmm = sim_machine_vmm(st->machine);
	char name[64];

	out->steps = sim_sched_now(sched);
	if (!ran) {
		gboolean deadlock = g_error_matches(err, SIM_SCHED_ERROR, SIM_SCHED_ERROR_DEADLOCK);

		out->failed = TRUE;
		out->invariant = g_strdup(deadlock ? "deadlock" : "livelock");
		out->detail = g_strdup(err->message);
	} else if (sim_sched_failed(sched)) {
		const char *reason = sim_sched_failure(sched);

		out->failed = TRUE;
		out->invariant = g_strdup(sim_invariant_of_reason(reason, name, sizeof(name)) ?
						  name : "unnamed");
		out->detail = g_strdup(reason);
	} else if (!sim_vmm_config(vmm)->exit_level &&
		   sim_vmm_guest_result(vmm) != SIM_GUEST_PASS) {
		out->failed = TRUE;
		out->invariant = g_strdup("guest_verdict");
		out->detail = g_strdup_printf("the guest's result is %s%s%s",
					      sim_guest_result_name(sim_vmm_guest_result(vmm)),
					      sim_vmm_error(vmm) ? ": " : "",
					      sim_vmm_error(vmm) ? sim_vmm_error(vmm) : "");
	}
	out->step = out->steps;
	GString *who = g_string_new(NULL);

	for (guint i = 0; i < st->nr_actors; i++)
		g_string_append_printf(who, "%s%s at %s", i ? ", " : "",
				       sim_sched_actor_name(sched, i),
				       sim_machine_last_point(st->machine, i) ?
				       sim_machine_last_point(st->machine, i) : "start");
	out->actors = g_string_free(who, FALSE);
	if (out->failed && sim_machine_last_actor(st->machine) >= 0)
		out->actor = g_strdup(sim_sched_actor_name(sched,
							   sim_machine_last_actor(st->machine)));
	const SimCounters *ctr = sim_vmm_counters(vmm);
	guint probe = 0;

	for (guint i = 0; i < SIM_CTR_COUNT; i++) {
		if (!g_str_has_prefix(sim_counter_name(i), "probes."))
			continue;
		if (ctr->v[i])
			out->probes |= 1ull << probe;
		probe++;
	}
}

/* Run the target once, picks made by pick (explore-internal.h). */
gboolean
explore_run_with(const ExploreTarget *target, ExplorePickFn pick, gpointer pick_data,
		 gboolean record, gboolean log, ExploreRun *out, GError **error)
{
	const Trace *trace = target->trace;
	g_autoptr(SimSched) sched = sim_sched_new(trace->seed);
	g_autoptr(SimLog) slog = log ? sim_log_new(sched) : NULL;
	RunState st = { .target = target, .pick = pick, .pick_data = pick_data, .sched = sched,
			.out = out };

	memset(out, 0, sizeof(*out));
	out->choices = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));
	out->deviations = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));
	out->actor_names = g_ptr_array_new_with_free_func(g_free);
	out->hash = 0xcbf29ce484222325ull;
	if (slog)
		sim_log_capture(slog);
	sim_sched_set_watchdog(sched, trace->watchdog ? trace->watchdog :
					  SIM_SCHED_DEFAULT_WATCHDOG);
	sim_sched_set_policy(sched, SIM_POLICY_ROUND_ROBIN);
	sim_sched_set_recording(sched, record);
	st.machine = trace_machine_new(trace, sched, error);
	if (!st.machine)
		return FALSE;
	if (target->hook && !target->hook(st.machine, target->hook_data, error)) {
		sim_machine_free(st.machine);
		return FALSE;
	}
	st.nr_actors = sim_sched_nr_actors(sched);
	for (guint i = 0; i < st.nr_actors; i++)
		g_ptr_array_add(out->actor_names, g_strdup(sim_sched_actor_name(sched, i)));
	out->nr_actors = st.nr_actors;
	sim_sched_set_chooser(sched, run_choose, &st);
	sim_machine_check_every_step(st.machine, target->actor_budget);
	g_autoptr(GError) err = NULL;
	gboolean ran = sim_machine_run(st.machine, &err);

	run_verdict(&st, ran, err);
	if (record) {
		guint n;
		const SimStep *steps = sim_sched_recorded(sched, &n);

		out->steps_taken = g_ptr_array_new_with_free_func(g_free);
		for (guint i = 0; i < n; i++)
			g_ptr_array_add(out->steps_taken, g_memdup2(&steps[i], sizeof(SimStep)));
		/* the strings stay the scheduler's: copy them */
		for (guint i = 0; i < n; i++) {
			SimStep *s = g_ptr_array_index(out->steps_taken, i);

			s->actor = g_strdup(s->actor);
			s->until = g_strdup(s->until);
		}
	}
	if (slog) {
		sim_log_finish(slog, NULL);
		out->log = g_strdup(sim_log_text(slog));
	}
	sim_machine_free(st.machine);
	return TRUE;
}

/* Free the steps recorded (their strings too). */
static void
free_steps(GPtrArray *steps)
{
	if (!steps)
		return;
	for (guint i = 0; i < steps->len; i++) {
		SimStep *s = g_ptr_array_index(steps, i);

		g_free(s->actor);
		g_free(s->until);
	}
	g_ptr_array_free(steps, TRUE);
}

void
explore_run_clear(ExploreRun *run)
{
	g_free(run->invariant);
	g_free(run->detail);
	g_free(run->actor);
	g_free(run->actors);
	if (run->actor_names)
		g_ptr_array_free(run->actor_names, TRUE);
	if (run->choices)
		g_array_free(run->choices, TRUE);
	if (run->deviations)
		g_array_free(run->deviations, TRUE);
	free_steps(run->steps_taken);
	g_free(run->log);
	memset(run, 0, sizeof(*run));
}

/* Replaying deviations: the one for this choice if its actor can run, else the default. */
static guint
pick_deviations(gpointer data, const SimChoice *c, guint def, guint index)
{
	const GArray *devs = data;
	guint cur = c->current < 0 ? EXPLORE_NO_ACTOR : (guint)c->current;

	for (guint i = 0; i < devs->len; i++) {
		const ExploreChoice *d = &g_array_index(devs, ExploreChoice, i);

		if (d->cur != cur || d->arrivals != c->arrivals)
			continue;
		for (guint j = 0; j < c->n; j++)
			if (c->runnable[j] == d->pick)
				return j;
		return def;
	}
	return def;
}

gboolean
explore_run_schedule(const ExploreTarget *target, const ExploreChoice *devs, guint n,
		     gboolean record, gboolean log, ExploreRun *out, GError **error)
{
	g_autoptr(GArray) list = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));

	g_array_append_vals(list, devs, n);
	return explore_run_with(target, pick_deviations, list, record, log, out, error);
}
