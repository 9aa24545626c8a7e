/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scheduler object around the run: creating and freeing it, its settings (policy, explicit
 * steps, watchdog, recording, marks, chooser, hooks, observer) and the read-only queries other
 * modules make of it. The run itself (actors, yield points, waits) is sched.c.
 */
#include "sim/core/sched-internal.h"

/* Whether sim_yield() must take its general path: someone watches or checks every step, the
 * schedule is recorded or followed, a chooser picks, or the run is ending; and whether a pick
 * must (a chooser, the verdicts' check). Recomputed wherever one of these changes. */
void
update_slow_yield(SimSched *sched)
{
	sched->slow_yield = (sched->observer && sched->observer->yield) || sched->step_hook ||
			    sched->recording || sched->policy == SIM_POLICY_STEPS ||
			    sched->choose_fn || sched->error || sched->failure;
	sched->pick_general = sched->choose_fn || sched->verify_parked;
	sched->alone_until = 0;
	sched_update_fast_until(sched);
}

/*
 * Until which step sim_yield() may skip every test but the clock's (and pick by sched_pick_fast()):
 * from now on (0) while a setting asks for the general path or for a pick other than the random
 * policy's; else until the livelock watchdog could first fire (progress only moves that later) or
 * a sleeper wakes (one that starts sleeping lowers it: sched_count_sleeper()). Being early only
 * costs a yield that tests each condition and calls this again.
 */
void
sched_update_fast_until(SimSched *sched)
{
	guint64 until = G_MAXUINT64;

	if (sched->slow_yield || sched->pick_general || sched->policy != SIM_POLICY_RANDOM) {
		until = 0;
	} else {
		if (sched->watchdog && sched->watchdog < G_MAXUINT64 - sched->last_progress)
			until = sched->last_progress + sched->watchdog;
		if (sched->nr_sleepers)
			until = MIN(until, sched_first_wake(sched));
	}
	sched->fast_until = until;
}

static void
clear_step(gpointer p)
{
	SimStep *step = p;

	g_free(step->actor);
	g_free(step->until);
}

/* A scheduler whose random choices come from its own MT19937 stream. */
SimSched *
sim_sched_new(guint64 seed)
{
	SimSched *sched = g_new0(SimSched, 1);

	sched->actors = g_ptr_array_new();
	sched->seed = seed;
	/* MT19937: the same 32-bit key sequence gives the same stream everywhere. */
	guint32 key[2] = { (guint32)seed, (guint32)(seed >> 32) };
	sim_rng_seed_array(&sched->rng, key, 2);
	sched->policy = SIM_POLICY_RANDOM;
	sched->watchdog = SIM_SCHED_DEFAULT_WATCHDOG;
	sched->steps = g_array_new(FALSE, TRUE, sizeof(SimStep));
	g_array_set_clear_func(sched->steps, clear_step);
	sched->recorded = g_array_new(FALSE, TRUE, sizeof(SimStep));
	g_array_set_clear_func(sched->recorded, clear_step);
	sched->slice_points = g_array_new(FALSE, TRUE, sizeof(PointCount));
	return sched;
}

guint64
sim_sched_seed(const SimSched *sched)
{
	return sched->seed;
}

/* Free the actors (and their stacks, even if abandoned) and the schedules. */
void
sim_sched_free(SimSched *sched)
{
	if (!sched)
		return;
	for (guint i = 0; i < sched->actors->len; i++) {
		SimActor *actor = g_ptr_array_index(sched->actors, i);

		sim_fiber_stack_free(&actor->stack);
		g_free(actor->name);
		g_free(actor);
	}
	g_ptr_array_free(sched->actors, TRUE);
	g_free(sched->ready);
	g_free(sched->blocked);
	g_free(sched->parked);
	g_free(sched->sure);
	g_free(sched->candidates);
	g_free(sched->ready_list);
	g_free(sched->choice_list);
	g_array_free(sched->steps, TRUE);
	g_array_free(sched->recorded, TRUE);
	g_array_free(sched->slice_points, TRUE);
	g_clear_error(&sched->error);
	g_free(sched->failure);
	g_free(sched);
}

static const char *const policy_names[] = {
	[SIM_POLICY_RANDOM] = "random",
	[SIM_POLICY_ROUND_ROBIN] = "round-robin",
	[SIM_POLICY_STEPS] = "steps",
};

const char *
sim_policy_name(SimPolicy policy)
{
	g_return_val_if_fail(policy < G_N_ELEMENTS(policy_names), NULL);
	return policy_names[policy];
}

gboolean
sim_policy_lookup(const char *name, SimPolicy *out)
{
	for (guint i = 0; i < G_N_ELEMENTS(policy_names); i++) {
		if (g_strcmp0(policy_names[i], name) == 0) {
			*out = (SimPolicy)i;
			return TRUE;
		}
	}
	return FALSE;
}

void
sim_sched_set_log(SimSched *sched, SimLog *log)
{
	sched->log = log;
}

void
sim_sched_set_policy(SimSched *sched, SimPolicy policy)
{
	sched->policy = policy;
	update_slow_yield(sched);
}

/* Follow these steps (a count of 0 means 1), then the policy then. */
void
sim_sched_set_steps(SimSched *sched, const SimStep *steps, guint n_steps, SimPolicy then)
{
	g_array_set_size(sched->steps, 0);
	for (guint i = 0; i < n_steps; i++) {
		SimStep copy = { g_strdup(steps[i].actor), g_strdup(steps[i].until),
				 MAX(steps[i].count, 1) };

		g_array_append_val(sched->steps, copy);
	}
	sched->step_index = 0;
	sched->step_arrivals = 0;
	sched->policy = SIM_POLICY_STEPS;
	sched->after_steps = then == SIM_POLICY_STEPS ? SIM_POLICY_ROUND_ROBIN : then;
	update_slow_yield(sched);
}

void
sim_sched_set_watchdog(SimSched *sched, guint64 yields)
{
	sched->watchdog = yields;
	sched_update_fast_until(sched);
}

guint64
sim_sched_watchdog(const SimSched *sched)
{
	return sched->watchdog;
}

void
sim_sched_progress(SimSched *sched)
{
	sched->last_progress = sched->now;
}

/* Record the schedule from the next switch on, or stop. Without a recording no slice is counted
 * (sim_yield()'s fast path switches without switch_to()'s bookkeeping). */
void
sim_sched_set_recording(SimSched *sched, gboolean on)
{
	sched->recording = on;
	g_array_set_size(sched->slice_points, 0);
	sched->last_point = NULL;
	update_slow_yield(sched);
}

void
sim_sched_set_marks(SimSched *sched, guint every, SimMarkFn fn, gpointer data)
{
	g_return_if_fail(every > 0);
	sched->mark_every = every;
	sched->mark_fn = fn;
	sched->mark_data = data;
}

void
sim_sched_set_chooser(SimSched *sched, SimChooseFn fn, gpointer data)
{
	sched->choose_fn = fn;
	sched->choose_data = data;
	update_slow_yield(sched);
}

void
sim_sched_set_verify_parked(SimSched *sched, gboolean on)
{
	sched->verify_parked = on;
	update_slow_yield(sched);
}

void
sim_sched_set_step_hook(SimSched *sched, SimStepHook fn, gpointer data)
{
	sched->step_hook = fn;
	sched->step_data = data;
	update_slow_yield(sched);
}

guint
sim_sched_nr_actors(const SimSched *sched)
{
	return sched->actors->len;
}

const char *
sim_sched_actor_name(const SimSched *sched, guint index)
{
	g_return_val_if_fail(index < sched->actors->len, NULL);
	return ((const SimActor *)g_ptr_array_index(sched->actors, index))->name;
}

gint
sim_sched_current_index(const SimSched *sched)
{
	return sched->current ? (gint)sched->current->index : -1;
}

void
sim_sched_set_observer(SimSched *sched, const SimObserver *obs, gpointer data)
{
	sched->observer = obs;
	sched->observer_data = data;
	update_slow_yield(sched);
}


gboolean
sim_sched_failed(const SimSched *sched)
{
	return sched->failure != NULL;
}

const char *
sim_sched_failure(const SimSched *sched)
{
	return sched->failure;
}

guint64
sim_sched_now(const SimSched *sched)
{
	return sched->now;
}

const char *
sim_sched_current_name(const SimSched *sched)
{
	return sched->current ? sched->current->name : "main";
}

gconstpointer
sim_sched_self(const SimSched *sched)
{
	return sched_self(sched);
}

SimLog *
sim_sched_log(const SimSched *sched)
{
	return sched->log;
}

guint64
sim_sched_switches(const SimSched *sched)
{
	return sched->switches;
}

guint64
sim_sched_examined(const SimSched *sched)
{
	return sched->examined;
}

guint
sim_sched_step_index(const SimSched *sched)
{
	return sched->step_index;
}

const SimStep *
sim_sched_recorded(const SimSched *sched, guint *out_n)
{
	*out_n = sched->recorded->len;
	return (const SimStep *)sched->recorded->data;
}
