/* SPDX-License-Identifier: GPL-2.0-only */
/* Actors as ucontext coroutines, yield points, explicit steps, the watchdogs and recording;
 * the scheduler object and its settings are sched-setup.c's. */
#include "sim/core/sched-internal.h"

#include <string.h>
#include <sys/mman.h>

#include "sim/core/log.h"

G_DEFINE_QUARK(kvmsim-sched-error-quark, sim_sched_error)

/* Tell the observer, if any, about a lock operation of the running actor. */
void
sim_sched_observe_lock(SimSched *sched, const char *lock, gboolean write, SimLockOp op)
{
	if (G_UNLIKELY(sched->observer && sched->observer->lock))
		sched->observer->lock(sched->observer_data, sched->now,
				      sim_sched_current_name(sched), lock, write, op);
}

static void actor_trampoline(unsigned int lo, unsigned int hi);

/* A coroutine on its own stack; it starts when first picked. */
SimActor *
sim_actor_new(SimSched *sched, const char *name, SimActorFn fn, gpointer data)
{
	SimActor *actor = g_new0(SimActor, 1);

	actor->sched = sched;
	actor->name = g_strdup(name);
	actor->index = sched->actors->len;
	actor->fn = fn;
	actor->data = data;
	actor->state = ACTOR_NEW;
	if (!sim_fiber_stack_alloc(&actor->stack, SIM_ACTOR_STACK_SIZE))
		g_error("kvmsim: cannot reserve an actor stack");
	getcontext(&actor->ctx);
	actor->ctx.uc_stack.ss_sp = actor->stack.base;
	actor->ctx.uc_stack.ss_size = actor->stack.size;
	actor->ctx.uc_link = NULL;
	guintptr p = (guintptr)actor;
	makecontext(&actor->ctx, (void (*)(void))actor_trampoline, 2, (unsigned int)p,
		    (unsigned int)(p >> 32));
	g_ptr_array_add(sched->actors, actor);
	sched->live++;
	if (sched->actors->len > sched->words * 64) {
		guint old = sched->words;

		sched->words++;
		sched->ready = g_renew(guint64, sched->ready, sched->words);
		sched->blocked = g_renew(guint64, sched->blocked, sched->words);
		sched->parked = g_renew(guint64, sched->parked, sched->words);
		sched->sure = g_renew(guint64, sched->sure, sched->words);
		sched->candidates = g_renew(guint64, sched->candidates, sched->words);
		sched->ready_list = g_renew(SimActor *, sched->ready_list, sched->words * 64);
		sched->ready[old] = sched->blocked[old] = 0;
		sched->parked[old] = sched->sure[old] = 0;
	}
	sched_update_sets(sched, actor);
	return actor;
}

/* An interrupt handler starts (hold) or returns (release) on the CPU actor runs on. */
void
sim_actor_hold(SimActor *actor)
{
	actor->held++;
	if (actor->verdict == WAIT_TRUE)
		sched_set_verdict(actor->sched, actor, WAIT_ASK); /* it cannot run while held */
	sched_update_sets(actor->sched, actor);
}

/* The handler returned: one hold less. */
void
sim_actor_release(SimActor *actor)
{
	g_return_if_fail(actor->held > 0);
	actor->held--;
	sched_update_sets(actor->sched, actor);
}

/* The actor's name, as schedules and the log write it. */
const char *
sim_actor_name(const SimActor *actor)
{
	return actor->name;
}

/* Whether the actor has not returned yet. */
gboolean
sim_actor_live(const SimActor *actor)
{
	return actor->state != ACTOR_FINISHED;
}

/* Where the actor last yielded (NULL: not yet). */
const char *
sim_actor_last_point(const SimActor *actor)
{
	return actor->last_point;
}

static SimActor *find_actor(const SimSched *sched, const char *name);

/* find_actor() for other modules. */
SimActor *
sim_sched_find_actor(const SimSched *sched, const char *name)
{
	return find_actor(sched, name);
}

/* The actor called name, or NULL. A name can come back once its actor has returned (the vCPUs
 * of a VM booted again): the one that has not finished is meant. */
static SimActor *
find_actor(const SimSched *sched, const char *name)
{
	SimActor *found = NULL;

	for (guint i = 0; i < sched->actors->len; i++) {
		SimActor *actor = g_ptr_array_index(sched->actors, i);

		if (strcmp(actor->name, name) != 0)
			continue;
		if (actor->state != ACTOR_FINISHED)
			return actor;
		found = found ? found : actor;
	}
	return found;
}

/* Stop the run with a schedule or deadlock error; the caller switches to main. */
static void
set_error(SimSched *sched, SimSchedError code, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
set_error(SimSched *sched, SimSchedError code, const char *fmt, ...)
{
	va_list ap;

	if (sched->error)
		return;
	va_start(ap, fmt);
	gchar *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	sched->error = g_error_new_literal(SIM_SCHED_ERROR, code, msg);
	g_free(msg);
	update_slow_yield(sched);
}

static gboolean wake_sleepers(SimSched *sched);

/* The actor an explicit step asks for, or NULL with an error set. */
static SimActor *
step_actor(SimSched *sched)
{
	const SimStep *step = &g_array_index(sched->steps, SimStep, sched->step_index);
	SimActor *actor = find_actor(sched, step->actor);

	if (!actor) {
		set_error(sched, SIM_SCHED_ERROR_SCHEDULE, "schedule step %u names unknown actor '%s'",
			  sched->step_index + 1, step->actor);
		return NULL;
	}
	/* as under any policy, time jumps to the earliest sleeper when nobody can run */
	if (!sched_actor_runnable(sched, actor) && !sched_pick_by_policy(sched, SIM_POLICY_ROUND_ROBIN))
		wake_sleepers(sched);
	if (!sched_actor_runnable(sched, actor)) {
		set_error(sched, SIM_SCHED_ERROR_SCHEDULE,
			  "schedule step %u: %s cannot run (%s) and never reaches %s",
			  sched->step_index + 1, step->actor,
			  actor->state == ACTOR_FINISHED ? "finished" :
			  actor->held ? "an interrupt handler runs on its CPU" :
			  actor->wait_what ? actor->wait_what : "sleeping", step->until);
		return NULL;
	}
	return actor;
}

static gboolean
steps_left(const SimSched *sched)
{
	return sched->policy == SIM_POLICY_STEPS && sched->step_index < sched->steps->len;
}

/* Advance the clock to the earliest sleeper when nobody can run but someone sleeps (a wake-up is
 * progress: the clock moved for it). */
static gboolean
wake_sleepers(SimSched *sched)
{
	guint n_waking;
	guint64 earliest = sched_earliest_wake(sched, &n_waking);

	if (n_waking == 0)
		return FALSE;
	sched->now = earliest;
	sched->last_progress = earliest;
	return TRUE;
}

/* What a live actor is doing, for error messages: "NAME waits for X", "NAME sleeps until step
 * N", "NAME at POINT". */
static void
describe_actor(GString *out, const SimSched *sched, const SimActor *actor)
{
	g_string_append_printf(out, "%s%s ", out->len ? ", " : "", actor->name);
	if (actor->held)
		g_string_append(out, "is interrupted ");
	if (actor->wait_fn)
		g_string_append_printf(out, "waits for %s", actor->wait_what);
	else if (actor->wake_step > sched->now)
		g_string_append_printf(out, "sleeps until step %" G_GUINT64_FORMAT, actor->wake_step);
	else
		g_string_append_printf(out, "at %s", actor->last_point ? actor->last_point : "start");
}

/* Who runs next when the current actor cannot go on (blocked, finished) or at the start. */
static SimActor *
pick_other(SimSched *sched)
{
	if (steps_left(sched))
		return step_actor(sched);
	SimPolicy policy = sched->policy == SIM_POLICY_STEPS ? sched->after_steps : sched->policy;
	SimActor *next = sched_pick(sched, policy);

	if (!next && wake_sleepers(sched))
		next = sched_pick(sched, policy);
	if (!next) {
		GString *who = g_string_new(NULL);

		for (guint i = 0; i < sched->actors->len; i++) {
			SimActor *actor = g_ptr_array_index(sched->actors, i);

			if (actor->state != ACTOR_FINISHED)
				describe_actor(who, sched, actor);
		}
		if (who->len)
			set_error(sched, SIM_SCHED_ERROR_DEADLOCK, "deadlock: %s", who->str);
		g_string_free(who, TRUE);
	}
	return next;
}

/* Step number step is about to begin (recorded or followed): a mark if it is due. */
static void
mark_step(SimSched *sched, guint step)
{
	if (sched->mark_fn && step % sched->mark_every == 0)
		sched->mark_fn(sched, step, sched->mark_data);
}

/* Record the step that just ended: its actor ran until its last point, count times. */
static void
record_switch(SimSched *sched)
{
	if (!sched->recording || !sched->current || !sched->last_point)
		return;
	guint count = 0;

	for (guint i = 0; i < sched->slice_points->len; i++) {
		PointCount *pc = &g_array_index(sched->slice_points, PointCount, i);

		if (strcmp(pc->point, sched->last_point) == 0)
			count = pc->count;
	}
	SimStep step = { g_strdup(sched->current->name), g_strdup(sched->last_point), count };

	g_array_append_val(sched->recorded, step);
	mark_step(sched, sched->recorded->len);
}

/* Continue next where it stopped (main if NULL), or start it. */
static G_NORETURN void
jump_to(SimSched *sched, SimActor *next)
{
	if (!next)
		__builtin_longjmp(sched->main_resume, 1);
	if (next->state != ACTOR_NEW)
		__builtin_longjmp(next->resume, 1);
	next->state = ACTOR_STARTED;
	setcontext(&next->ctx);
	g_error("kvmsim: cannot start actor %s", next->name);
}

/*
 * The switch itself, shared by switch_to() and sim_yield()'s fast path (which has no bookkeeping
 * to do first): log it, count it, make next current, save where this context stopped and continue
 * next (main if NULL) where it stopped, or start it.
 *
 * It saves with __builtin_setjmp() and jumps to where the next context did: swapcontext() makes a
 * sigprocmask system call at every switch, and glibc's siglongjmp() walks the pthread cleanup
 * handlers, which at one switch per yield point costs more than the model's work (no signal mask
 * or cleanup handler changes across a switch). Only an actor's first entry goes through its
 * ucontext. Out of line and apart from the bookkeeping: the values live across the setjmp() are
 * then few, and the callers keep theirs in registers.
 */
static G_GNUC_NO_INLINE void
switch_context(SimSched *sched, SimActor *prev, SimActor *next, const char *point)
{
	if (next && prev)
		sim_log_emit(sched->log, "sim_switch", "%s -> %s at %s", prev->name, next->name,
			     point ? point : "-");
	sched->switches++;
	sched->current = next;

	void **from = prev ? prev->resume : sched->main_resume;
	SimFiber *from_fiber = prev ? &prev->stack.fiber : &sched->main_fiber;
	gboolean dying = prev && prev->state == ACTOR_FINISHED;

	sim_fiber_start_switch(from_fiber, next ? &next->stack.fiber : &sched->main_fiber, dying);
	if (dying)
		jump_to(sched, next);
	if (__builtin_setjmp(from) == 0) {
		if (G_LIKELY(next && next->state != ACTOR_NEW))
			__builtin_longjmp(next->resume, 1); /* jump_to()'s common case, inline */
		jump_to(sched, next);
	}
	sim_fiber_finish_switch(from_fiber);
}

/* Transfer control from the current context (an actor or main) to next, or to main if NULL:
 * the step that ends is recorded, the next one starts with no arrivals. */
static void
switch_to(SimSched *sched, SimActor *next, const char *point)
{
	SimActor *prev = sched->current;

	if (prev && prev->state != ACTOR_FINISHED)
		record_switch(sched);
	if (sched->slice_points->len)
		g_array_set_size(sched->slice_points, 0);
	sched->last_point = NULL;
	switch_context(sched, prev, next, point);
}

/* Run the actor's function, then end its step (exit) and hand over for good. */
static void
actor_trampoline(unsigned int lo, unsigned int hi)
{
	SimActor *actor = (SimActor *)(((guintptr)hi << 32) | lo);
	SimSched *sched = actor->sched;

	sim_fiber_finish_switch(&actor->stack.fiber);
	actor->fn(actor, actor->data);
	actor->arrivals++; /* the pseudo-point exit: a choice made now is not its last yield's */
	actor->state = ACTOR_FINISHED;
	sched_update_sets(sched, actor);
	sched->live--;
	sched->last_progress = sched->now;
	if (sched->recording) {
		SimStep step = { g_strdup(actor->name), g_strdup(SIM_POINT_EXIT), 1 };

		g_array_append_val(sched->recorded, step);
		mark_step(sched, sched->recorded->len);
	}
	if (steps_left(sched)) {
		const SimStep *step = &g_array_index(sched->steps, SimStep, sched->step_index);

		if (strcmp(step->actor, actor->name) == 0 && strcmp(step->until, SIM_POINT_EXIT) == 0) {
			sched->step_index++;
			sched->step_arrivals = 0;
			sched->step_stall = 0;
			sched->step_suspect = 0;
			mark_step(sched, sched->step_index);
		} else if (strcmp(step->actor, actor->name) == 0) {
			set_error(sched, SIM_SCHED_ERROR_SCHEDULE,
				  "schedule step %u: %s finished before reaching %s",
				  sched->step_index + 1, actor->name, step->until);
		}
	}
	SimActor *next = sched->error || sched->failure ? NULL : pick_other(sched);

	switch_to(sched, next, "exit");
	g_assert_not_reached();
}

/* Start the first actor and return once every actor has finished (or the run broke). */
gboolean
sim_sched_run(SimSched *sched, GError **error)
{
	g_return_val_if_fail(sched->current == NULL, FALSE);
	sim_fiber_init_main(&sched->main_fiber);
	SimActor *first = pick_other(sched);

	if (first)
		switch_to(sched, first, NULL);
	if (!sched->error && !sched->failure && steps_left(sched))
		set_error(sched, SIM_SCHED_ERROR_SCHEDULE,
			  "schedule step %u (%s until %s) was never reached: every actor finished",
			  sched->step_index + 1,
			  g_array_index(sched->steps, SimStep, sched->step_index).actor,
			  g_array_index(sched->steps, SimStep, sched->step_index).until);
	if (sched->error) {
		g_propagate_error(error, g_error_copy(sched->error));
		return FALSE;
	}
	return TRUE;
}

/* Count an arrival at point in the step being recorded (count_arrival() without a recording
 * only notes the point: inline, no call at each yield). */
static G_GNUC_NO_INLINE void
count_recorded_arrival(SimSched *sched, const char *point)
{
	for (guint i = 0; i < sched->slice_points->len; i++) {
		PointCount *pc = &g_array_index(sched->slice_points, PointCount, i);

		if (pc->point == point || strcmp(pc->point, point) == 0) {
			pc->count++;
			return;
		}
	}
	PointCount pc = { point, 1 };
	g_array_append_val(sched->slice_points, pc);
}

/* Note an arrival at point for the step being recorded. */
static inline void
count_arrival(SimSched *sched, const char *point)
{
	sched->last_point = point;
	if (sched->recording)
		count_recorded_arrival(sched, point);
}

/* In steps mode: has the current step just been completed by this arrival? */
static gboolean
step_completed(SimSched *sched, const char *point)
{
	const SimStep *step = &g_array_index(sched->steps, SimStep, sched->step_index);

	if (strcmp(step->actor, sched->current->name) != 0 || strcmp(step->until, point) != 0)
		return FALSE;
	if (++sched->step_arrivals < step->count)
		return FALSE;
	sched->step_index++;
	sched->step_arrivals = 0;
	sched->step_stall = 0;
	sched->step_suspect = 0;
	mark_step(sched, sched->step_index);
	return TRUE;
}

/* The other live actors that could run now, "a, b"; empty if none. */
static GString *
others_runnable(const SimSched *sched)
{
	GString *who = g_string_new(NULL);

	for (guint i = 0; i < sched->actors->len; i++) {
		SimActor *actor = g_ptr_array_index(sched->actors, i);

		if (actor != sched->current && sched_actor_runnable(sched, actor))
			g_string_append_printf(who, "%s%s", who->len ? ", " : "", actor->name);
	}
	return who;
}

#define WATCHDOG_SAMPLE 1024u

/*
 * The step watchdog, at a yield of the step's actor that did not reach the step's point. Every
 * WATCHDOG_SAMPLE such yields it looks whether another actor could run: a recorded step never
 * keeps one waiting for long (the policy would have switched), so a step that does so for the
 * watchdog's yields can never reach its point. An actor alone is bounded by its own budgets.
 */
static void
step_watchdog(SimSched *sched)
{
	if (!sched->watchdog || ++sched->step_stall % WATCHDOG_SAMPLE)
		return;
	g_autoptr(GString) who = others_runnable(sched);

	sched->step_suspect = who->len ? sched->step_suspect + 1 : 0;
	if ((guint64)sched->step_suspect * WATCHDOG_SAMPLE < sched->watchdog)
		return;
	const SimStep *step = &g_array_index(sched->steps, SimStep, sched->step_index);

	set_error(sched, SIM_SCHED_ERROR_WATCHDOG,
		  "schedule step %u (%s until %s): %s passed %" G_GUINT64_FORMAT " yield points "
		  "without reaching %s while %s could run (watchdog: --watchdog raises it)",
		  sched->step_index + 1, step->actor, step->until, step->actor, sched->step_stall,
		  step->until, who->str);
}

/* The livelock watchdog: no actor made progress for the watchdog's yield points. TRUE if it
 * fired. */
static gboolean
livelock_watchdog(SimSched *sched)
{
	if (!sched->watchdog || sched->now - sched->last_progress < sched->watchdog)
		return FALSE;
	g_autoptr(GString) who = g_string_new(NULL);

	for (guint i = 0; i < sched->actors->len; i++) {
		SimActor *actor = g_ptr_array_index(sched->actors, i);

		if (actor->state != ACTOR_FINISHED)
			describe_actor(who, sched, actor);
	}
	set_error(sched, SIM_SCHED_ERROR_LIVELOCK,
		  "livelock: no progress (no guest instruction retired, no event performed) in the "
		  "%" G_GUINT64_FORMAT " yield points since step %" G_GUINT64_FORMAT ": %s "
		  "(watchdog: --watchdog raises it)", sched->watchdog, sched->last_progress,
		  who->str);
	return TRUE;
}

/* A yield point in general, after the clock and the arrival: observers and step hooks, recorded
 * or explicit steps, a chooser, a run that is ending. */
static void
yield_slow(SimSched *sched, SimActor *cur, const char *point)
{
	if (G_UNLIKELY(sched->observer && sched->observer->yield))
		sched->observer->yield(sched->observer_data, sched->now, cur->name, point);
	if (sched->step_hook)
		sched->step_hook(sched, point, sched->step_data);
	livelock_watchdog(sched);
	/* alone (no other actor alive, nothing recorded or followed): nobody to switch to */
	if (sched->live == 1 && !sched->recording && sched->policy != SIM_POLICY_STEPS &&
	    !sched->failure && !sched->error) {
		sched->last_point = point;
		return;
	}
	count_arrival(sched, point);
	/* an invariant failed or the schedule broke: unwind to the caller, abandoning the actors */
	if (sched->error || sched->failure)
		switch_to(sched, NULL, point);

	SimActor *next;
	if (steps_left(sched)) {
		guint arrivals = sched->step_arrivals;

		if (!step_completed(sched, point)) {
			if (sched->step_arrivals != arrivals) {
				sched->step_stall = 0;
				sched->step_suspect = 0;
				return;
			}
			step_watchdog(sched);
			if (sched->error)
				switch_to(sched, NULL, point);
			return;
		}
		if (!steps_left(sched) && sched->after_steps != SIM_POLICY_STEPS)
			next = sched_pick(sched, sched->after_steps);
		else
			next = step_actor(sched);
	} else {
		SimPolicy policy = sched->policy == SIM_POLICY_STEPS ? sched->after_steps :
								       sched->policy;
		next = sched_pick(sched, policy);
	}
	if (!next && !sched->error)
		next = pick_other(sched);
	if (sched->error)
		switch_to(sched, NULL, point);
	else if (next != cur)
		switch_to(sched, next, point);
}

/* The end of a yield once the policy picked next: nobody (the current actor cannot go on either:
 * another one, or the clock jumps to a sleeper), an error that stops the run, or another actor. */
static void
yield_to(SimSched *sched, SimActor *cur, SimActor *next, const char *point)
{
	if (!next && sched->live == 1)
		return; /* alone: nobody to switch to */
	if (!next)
		next = pick_other(sched);
	if (sched->error)
		switch_to(sched, NULL, point);
	else if (next != cur)
		switch_context(sched, cur, next, point); /* no recording: no step to end */
}

/*
 * sim_yield() from fast_until on: yield_slow() if a setting asks for it, else the tests the fast
 * path skips (the livelock watchdog; a sleeper that may be due or a policy other than random,
 * which sched_pick() handles), and the limit again once the pick has made due sleepers sure.
 */
static G_GNUC_NO_INLINE void
yield_at_limit(SimSched *sched, SimActor *cur, const char *point)
{
	if (sched->slow_yield) {
		yield_slow(sched, cur, point);
		return;
	}
	if (G_UNLIKELY(livelock_watchdog(sched)))
		switch_to(sched, NULL, point);
	if (sched->live == 1 || sched->now < sched->alone_until) {
		sched_update_fast_until(sched);
		return; /* alone, or the only one that can run: nobody to switch to */
	}
	SimActor *next = sched_pick(sched, sched->policy);

	sched_update_fast_until(sched);
	yield_to(sched, cur, next, point);
}

/*
 * A yield point: advance the clock, then let the policy (or the step list) pick. Before
 * fast_until nothing makes it general (yield_at_limit()): a yield is the clock and the random
 * policy's pick, the same steps in the same order, with one compare for what is not set.
 */
void
sim_yield(SimSched *sched, const char *point)
{
	SimActor *cur = sched->current;

	if (!cur)
		return; /* set-up code outside every actor */
	cur->last_point = point;
	cur->arrivals++;
	if (G_UNLIKELY(++sched->now >= sched->fast_until)) {
		yield_at_limit(sched, cur, point);
		return;
	}
	if (sched->now < sched->alone_until)
		return; /* the only one that can run: nobody to switch to */

	SimActor *next = sched_pick_fast(sched);

	if (G_UNLIKELY(!next))
		yield_to(sched, cur, next, point);
	else if (next != cur) /* the fast pick sets no error, and nothing is recorded */
		switch_context(sched, cur, next, point);
}

/*
 * The current actor is about to stop running without a yield point: it blocks or sleeps. That is
 * an arrival at a pseudo-point ("block", "sleep") so that a recorded schedule switches exactly
 * here on replay. In steps mode the step in force must end here, or the schedule is broken.
 */
static void
pseudo_arrival(SimSched *sched, const char *point, const char *why)
{
	sched->current->arrivals++;
	count_arrival(sched, point);
	if (!steps_left(sched) || step_completed(sched, point))
		return;
	const SimStep *step = &g_array_index(sched->steps, SimStep, sched->step_index);

	if (strcmp(step->actor, sched->current->name) == 0)
		set_error(sched, SIM_SCHED_ERROR_SCHEDULE,
			  "schedule step %u: %s %s (%s) before reaching %s", sched->step_index + 1,
			  sched->current->name, strcmp(point, SIM_POINT_SLEEP) ? "blocked" : "slept",
			  why, step->until);
}

/* Block until cond holds; a blocked step ends at the pseudo-point block. A waiter on a channel
 * parks at once: cond was just found false (sched_wait_on()). */
static void
wait_blocked(SimSched *sched, SimActor *cur, const char *what, SimWaitFn cond, gpointer data,
	     gconstpointer channel)
{
	pseudo_arrival(sched, SIM_POINT_BLOCK, what);
	while (!cond(data)) {
		cur->wait_fn = cond;
		cur->wait_data = data;
		cur->wait_what = what;
		cur->wait_channel = channel;
		sched_set_verdict(sched, cur, channel ? WAIT_FALSE : WAIT_ASK);
		sched_update_sets(sched, cur);
		SimActor *next = sched->error ? NULL : pick_other(sched);

		switch_to(sched, next, what);
	}
	cur->wait_fn = NULL;
	cur->wait_data = NULL;
	cur->wait_what = NULL;
	sched_set_verdict(sched, cur, WAIT_ASK);
	cur->wait_channel = NULL;
	sched_update_sets(sched, cur);
}

/* sim_wait() on a lock's channel (sched-internal.h); NULL: a plain sim_wait(). */
void
sched_wait_on(SimSched *sched, const char *what, SimWaitFn cond, gpointer data,
	      gconstpointer channel)
{
	SimActor *cur = sched->current;

	if (!cur) {
		/* set-up code runs alone: nobody could ever make cond true */
		if (!cond(data))
			g_error("kvmsim: set-up code would block on %s", what);
		return;
	}
	if (cond(data))
		return; /* no wait: wait_fn is already NULL, the sets unchanged */
	wait_blocked(sched, cur, what, cond, data, channel);
}

/* Block until cond holds, as a spin (sched.h). */
void
sim_wait(SimSched *sched, const char *what, SimWaitFn cond, gpointer data)
{
	sched_wait_on(sched, what, cond, data, NULL);
}

/*
 * sim_wait() of a task that sleeps: each time it would block, the sleep hook runs first (its
 * schedule() switching away; it may yield, and cond may come true meanwhile) and again once it
 * runs (the switch back; it may yield too, so cond is checked again after it). Without a hook,
 * exactly sim_wait().
 */
void
sim_wait_sleeping(SimSched *sched, const char *what, SimWaitFn cond, gpointer data)
{
	SimActor *cur = sched->current;

	if (!cur || !sched->sleep_hook) {
		sim_wait(sched, what, cond, data);
		return;
	}
	while (!cond(data)) {
		sched->sleep_hook(sched, what, FALSE, sched->sleep_data);
		if (!cond(data))
			wait_blocked(sched, cur, what, cond, data, NULL);
		sched->sleep_hook(sched, what, TRUE, sched->sleep_data);
	}
}

/* The hook around the blocks of sim_wait_sleeping(). */
void
sim_sched_set_sleep_hook(SimSched *sched, SimSleepHook fn, gpointer data)
{
	sched->sleep_hook = fn;
	sched->sleep_data = data;
}

/* Sleep until a step; alone, the clock simply jumps there. */
void
sim_sleep_until(SimSched *sched, guint64 step)
{
	SimActor *cur = sched->current;

	g_return_if_fail(cur != NULL);
	if (step <= sched->now)
		return;
	cur->wake_step = step;
	sched_update_sets(sched, cur);
	/* nobody else can run and nobody else wakes with it: the clock jumps and this actor goes
	 * on without a switch, so the step in force (recorded or explicit) simply continues */
	guint n_waking;

	if (!sched_pick_by_policy(sched, SIM_POLICY_ROUND_ROBIN) &&
	    sched_earliest_wake(sched, &n_waking) == step && n_waking == 1) {
		count_arrival(sched, SIM_POINT_SLEEP);
		if (steps_left(sched))
			step_completed(sched, SIM_POINT_SLEEP);
		sched->now = step;
		sched->last_progress = step;
		cur->wake_step = 0;
		sched_set_verdict(sched, cur, WAIT_ASK);
		sched_update_sets(sched, cur);
		return;
	}
	pseudo_arrival(sched, SIM_POINT_SLEEP, "sleeping");
	while (sched->now < cur->wake_step) {
		SimActor *next = sched->error ? NULL : pick_other(sched);

		if (sched->error)
			switch_to(sched, NULL, SIM_POINT_SLEEP);
		else if (next == cur)
			break; /* nobody else could run: the clock jumped to our wake-up */
		else
			switch_to(sched, next, SIM_POINT_SLEEP);
	}
	cur->wake_step = 0;
	sched_set_verdict(sched, cur, WAIT_ASK);
	sched_update_sets(sched, cur);
}

void
sim_sched_fail(SimSched *sched, const char *reason)
{
	if (!sched->failure)
		sched->failure = g_strdup(reason);
	update_slow_yield(sched);
}