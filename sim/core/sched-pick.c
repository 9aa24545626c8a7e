/* SPDX-License-Identifier: GPL-2.0-only */
/* The runnable set, kept incrementally as bitmaps, and the policies' pick among it. */
#include "sim/core/sched-internal.h"

/* One word of the twist: mt[i] from mt[i], mt[next] and mt[far]. */
static inline guint32
rng_twist_word(guint32 cur, guint32 next, guint32 far)
{
	guint32 y = (cur & 0x80000000u) | (next & 0x7fffffffu);

	return far ^ (y >> 1) ^ (-(y & 1) & 0x9908b0dfu); /* MATRIX_A if y is odd, branch-free */
}

/* The reference generator's twist: the next SIM_RNG_N words of state from the current ones
 * (in three runs so that no index wraps inside a loop; the first two read only words at least a
 * vector ahead or behind, so they are vectorized: at 64 vCPUs a twist every ~60 faults). */
__attribute__((optimize("tree-vectorize"))) void
sim_rng_twist(SimRng *r)
{
	guint32 *mt = r->mt;
	guint i = 0;

	for (; i < SIM_RNG_N - SIM_RNG_M; i++)
		mt[i] = rng_twist_word(mt[i], mt[i + 1], mt[i + SIM_RNG_M]);
	for (; i < SIM_RNG_N - 1; i++)
		mt[i] = rng_twist_word(mt[i], mt[i + 1], mt[i + SIM_RNG_M - SIM_RNG_N]);
	mt[i] = rng_twist_word(mt[i], mt[0], mt[SIM_RNG_M - 1]);
	for (i = 0; i < SIM_RNG_N; i++) {
		guint32 y = mt[i];

		y ^= y >> 11;
		y ^= (y << 7) & 0x9d2c5680u;
		y ^= (y << 15) & 0xefc60000u;
		r->out[i] = y ^ (y >> 18);
	}
	r->mti = 0;
}

/* sim_rng_below() in full: the bound for n, then words until one is kept. */
guint32
sim_rng_below_slow(SimRng *r, guint32 n)
{
	guint32 word;

	if (n != r->range) {
		r->range = n;
		r->range_max = sim_rng_range_max(n);
	}
	do
		word = sim_rng_next(r);
	while (G_UNLIKELY(word > r->range_max));
	return word % n;
}

/* Count the actor among the sleepers until step until (0: not a sleeper), keeping first_wake. */
static void
sched_count_sleeper(SimSched *sched, SimActor *actor, guint64 until)
{
	if (actor->slept_until == until)
		return;
	if (actor->slept_until) {
		sched->nr_sleepers--;
		if (actor->slept_until == sched->first_wake)
			sched->first_wake_stale = TRUE;
	}
	if (until) {
		sched->fast_until = MIN(sched->fast_until, until); /* a yield then wakes it */
		if (sched->nr_sleepers++ == 0) {
			sched->first_wake = until;
			sched->first_wake_stale = FALSE;
		} else if (!sched->first_wake_stale && until < sched->first_wake) {
			sched->first_wake = until;
		}
	}
	actor->slept_until = until;
}

/* Put the actor's bit in ready or blocked (or neither, once it finished) after its state, wait
 * or sleep changed. */
void
sched_update_sets(SimSched *sched, SimActor *actor)
{
	guint w = actor->index / 64;
	guint64 bit = 1ull << (actor->index % 64);
	gboolean live = actor->state != ACTOR_FINISHED;
	gboolean waits = actor->wait_fn || actor->wake_step || actor->held;
	guint64 ready = (live && !waits) ? sched->ready[w] | bit : sched->ready[w] & ~bit;
	guint64 blocked = (live && waits) ? sched->blocked[w] | bit : sched->blocked[w] & ~bit;
	gboolean sleeps = live && actor->wake_step && !actor->wait_fn && !actor->held &&
			  actor->verdict != WAIT_TRUE; /* a sure sleeper is not counted */

	sched->alone_until = 0;

	sched->ready_stale |= ready != sched->ready[w];
	if ((blocked ^ sched->blocked[w]) & bit) {
		if (blocked & bit)
			sched->nr_blocked++;
		else
			sched->nr_blocked--;
	}
	sched->ready[w] = ready;
	sched->blocked[w] = blocked;
	sched_count_sleeper(sched, actor, sleeps ? actor->wake_step : 0);
}

/* What the waiter's condition is known to be (sched_wait_on()), until its channel's next wake,
 * or that a sleeper's step came (until it runs): its bit in parked or sure, or in neither. A
 * sure sleeper is no longer counted among the sleepers. */
void
sched_set_verdict(SimSched *sched, SimActor *actor, WaitVerdict verdict)
{
	guint w = actor->index / 64;
	guint64 bit = 1ull << (actor->index % 64);

	g_assert(actor->wait_channel || actor->wake_step || verdict == WAIT_ASK);
	if (actor->verdict == verdict)
		return;
	sched->alone_until = 0;
	sched->ready_stale |= actor->verdict == WAIT_TRUE || verdict == WAIT_TRUE;
	sched->nr_known -= actor->verdict != WAIT_ASK;
	sched->nr_known += verdict != WAIT_ASK;
	sched->parked[w] &= ~bit;
	sched->sure[w] &= ~bit;
	if (verdict == WAIT_FALSE)
		sched->parked[w] |= bit;
	else if (verdict == WAIT_TRUE)
		sched->sure[w] |= bit;
	actor->verdict = verdict;
	if (actor->wake_step)
		sched_update_sets(sched, actor);
}

/* The sleepers' earliest wake step again, by a scan of the blocked set. */
guint64
sched_first_wake_slow(SimSched *sched)
{
	guint64 first = G_MAXUINT64;

	for (guint w = 0; w < sched->words; w++) {
		for (guint64 bits = sched->blocked[w]; bits; bits &= bits - 1) {
			const SimActor *actor = g_ptr_array_index(sched->actors,
								  w * 64 + (guint)__builtin_ctzll(bits));

			if (actor->slept_until && actor->slept_until < first)
				first = actor->slept_until;
		}
	}
	sched->first_wake = first;
	sched->first_wake_stale = FALSE;
	return first;
}

/* Can the actor run now: live, not sleeping past the clock, its wait condition true? */
gboolean
sched_actor_runnable(const SimSched *sched, const SimActor *actor)
{
	if (actor->state == ACTOR_FINISHED || actor->held)
		return FALSE;
	if (actor->wake_step > sched->now)
		return FALSE;
	return !actor->wait_fn || actor->wait_fn(actor->wait_data);
}

/* Set bits of a word (SWAR: the build targets baseline x86-64, which has no popcnt). */
static inline guint
popcount64(guint64 x)
{
	x = x - ((x >> 1) & 0x5555555555555555ull);
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (guint)((x * 0x0101010101010101ull) >> 56);
}

/* The index of the nth set bit (from 0) of bits[0..words): whole words, then bytes while eight
 * or more set bits are still to pass, then bits. */
static guint
nth_set_bit(const guint64 *bits, guint words, guint nth)
{
	for (guint w = 0; w < words; w++) {
		guint64 word = bits[w];
		guint in_word = popcount64(word), shift = 0;

		if (nth >= in_word) {
			nth -= in_word;
			continue;
		}
		for (; nth >= 8; shift += 8) /* a byte holds at most 8 set bits: pass it whole */
			nth -= popcount64((word >> shift) & 0xff);
		word >>= shift;
		while (nth--)
			word &= word - 1;
		return w * 64 + shift + (guint)__builtin_ctzll(word);
	}
	g_assert_not_reached();
}

/* The ready list again from the ready and sure sets, after one of them changed (out of line:
 * the picks' shortcut keeps few registers). */
static G_GNUC_NO_INLINE void
sched_rebuild_ready_list(SimSched *sched)
{
	guint n = 0;

	for (guint w = 0; w < sched->words; w++)
		for (guint64 bits = sched->ready[w] | sched->sure[w]; bits; bits &= bits - 1)
			sched->ready_list[n++] = g_ptr_array_index(sched->actors,
								   w * 64 + (guint)__builtin_ctzll(bits));
	sched->ready_len = n;
	sched->examined += n;
	sched->ready_stale = FALSE;
}

/* Ask the waiter on a channel whether it could go on, and keep the answer until the channel's
 * next wake (a held waiter that could is asked again at each pick: it runs once released). */
static gboolean
ask_waiter(SimSched *sched, SimActor *actor)
{
	gboolean runs = actor->wait_fn(actor->wait_data);

	sched_set_verdict(sched, actor, !runs ? WAIT_FALSE : actor->held ? WAIT_ASK : WAIT_TRUE);
	return runs && !actor->held;
}

/* sched_wake() with someone's verdict known: the waiters on channel are asked again now, the
 * lock's change being complete, so that the next pick need not ask anyone. */
void
sched_wake_slow(SimSched *sched, gconstpointer channel)
{
	for (guint w = 0; w < sched->words; w++) {
		for (guint64 bits = sched->parked[w] | sched->sure[w]; bits; bits &= bits - 1) {
			SimActor *actor = g_ptr_array_index(sched->actors,
							    w * 64 + (guint)__builtin_ctzll(bits));

			if (actor->wait_channel == channel) {
				ask_waiter(sched, actor);
				sched->examined++;
			}
		}
	}
}

/* sim_sched_set_verify_parked(): every verdict must be what the condition says now. */
static void
verify_verdicts(const SimSched *sched)
{
	for (guint w = 0; w < sched->words; w++) {
		for (guint64 bits = sched->parked[w] | sched->sure[w]; bits; bits &= bits - 1) {
			guint i = w * 64 + (guint)__builtin_ctzll(bits);
			const SimActor *actor = g_ptr_array_index(sched->actors, i);
			gboolean now = actor->wait_fn ? actor->wait_fn(actor->wait_data)
						      : actor->wake_step <= sched->now;
			gboolean sure = actor->verdict == WAIT_TRUE;

			if (now != sure || (sure && actor->held))
				g_error("kvmsim: %s waits for %s, known to %s, but %s: a change of "
					"the lock without a wake", actor->name,
					actor->wait_what ? actor->wait_what : "its step",
					sure ? "run" : "wait", sure ? "it cannot" : "it could run");
		}
	}
}

/* Can the blocked actor, without a verdict, run now? A waiter on a channel keeps what its
 * condition says until the channel's next wake: parked if false, sure if true. A sleeper whose
 * step came is sure until it runs (the clock only goes on) or is held. */
static gboolean
blocked_runnable(SimSched *sched, SimActor *actor)
{
	if (actor->wait_channel)
		return ask_waiter(sched, actor);
	gboolean runs = sched_actor_runnable(sched, actor);

	if (runs && !actor->wait_fn)
		sched_set_verdict(sched, actor, WAIT_TRUE);
	return runs;
}

/*
 * The runnable actors into sched->candidates, in creation order; how many there are. They are the
 * ready set plus the blocked actors whose wait condition holds (or whose wake-up step came), the
 * sure ones without asking, the parked ones left out (sched_wait_on()): the n-th of them is the
 * same actor a scan of every actor would list n-th, so the seeded choice is unchanged.
 */
static guint
collect_candidates(SimSched *sched)
{
	guint n = 0;

	if (G_UNLIKELY(sched->verify_parked))
		verify_verdicts(sched);
	for (guint w = 0; w < sched->words; w++) {
		guint64 blocked = sched->blocked[w] & ~sched->parked[w] & ~sched->sure[w];

		sched->candidates[w] = sched->ready[w] | sched->sure[w];
		for (; blocked; blocked &= blocked - 1) {
			guint i = w * 64 + (guint)__builtin_ctzll(blocked);

			if (blocked_runnable(sched, g_ptr_array_index(sched->actors, i)))
				sched->candidates[w] |= 1ull << (i % 64);
			sched->examined++;
		}
		sched->examined++;
		n += popcount64(sched->candidates[w]);
	}
	return n;
}

/* Seeded or round-robin choice among runnable actors; NULL if none can run now. */
SimActor *
sched_pick_by_policy(SimSched *sched, SimPolicy policy)
{
	guint64 *cand = sched->candidates;
	guint n = collect_candidates(sched);

	if (n == 0)
		return NULL;
	guint nth = 0;

	if (n > 1 && policy == SIM_POLICY_RANDOM) {
		nth = sim_rng_below(&sched->rng, n);
	} else if (n > 1 && sched->current) {
		/* round robin: the first runnable actor after the current one, else the first */
		guint after = sched->current->index + 1;

		for (guint w = after / 64; w < sched->words; w++) {
			guint64 word = cand[w];

			if (w == after / 64)
				word &= after % 64 ? ~0ull << (after % 64) : ~0ull;
			if (word)
				return g_ptr_array_index(sched->actors,
							 w * 64 + (guint)__builtin_ctzll(word));
		}
	}
	return g_ptr_array_index(sched->actors, nth_set_bit(cand, sched->words, nth));
}

/* The step at which the first sleeper that could then run wakes, and how many sleepers wake
 * then (0: nobody sleeps; a sleep may last until any step, G_MAXUINT64 included). */
guint64
sched_earliest_wake(const SimSched *sched, guint *n_waking)
{
	guint64 earliest = G_MAXUINT64;
	guint n = 0;

	/* only blocked actors sleep: the ready ones have wake_step 0 */
	for (guint w = 0; w < sched->words; w++) {
		for (guint64 bits = sched->blocked[w]; bits; bits &= bits - 1) {
			SimActor *actor = g_ptr_array_index(sched->actors,
							    w * 64 + (guint)__builtin_ctzll(bits));

			if (actor->state == ACTOR_FINISHED || actor->held ||
			    actor->wake_step <= sched->now ||
			    (actor->wait_fn && !actor->wait_fn(actor->wait_data)))
				continue;
			if (n == 0 || actor->wake_step < earliest) {
				earliest = actor->wake_step;
				n = 0;
			}
			n += actor->wake_step == earliest;
		}
	}
	if (n_waking)
		*n_waking = n;
	return earliest;
}

/*
 * At a real choice, when sched_pick()'s shortcut cannot decide: the external chooser's pick among
 * two or more runnable actors if one is set, else the policy's. What the chooser is told (the
 * current actor, whether it could go on, how many points it reached) is what it needs to count
 * preemptions and to name the choice. Out of line: the shortcut keeps few registers.
 */
static G_GNUC_NO_INLINE SimActor *
sched_pick_general(SimSched *sched, SimPolicy policy)
{
	if (!sched->choose_fn)
		return sched_pick_by_policy(sched, policy);
	guint n = collect_candidates(sched), k = 0;

	if (n == 0)
		return NULL;
	sched->choice_list = g_renew(guint, sched->choice_list, sched->words * 64);
	for (guint w = 0; w < sched->words; w++)
		for (guint64 bits = sched->candidates[w]; bits; bits &= bits - 1)
			sched->choice_list[k++] = w * 64 + (guint)__builtin_ctzll(bits);
	if (n == 1)
		return g_ptr_array_index(sched->actors, sched->choice_list[0]);
	SimActor *cur = sched->current;
	SimChoice choice = {
		.runnable = sched->choice_list,
		.n = n,
		.current = cur ? (gint)cur->index : -1,
		.preempt = cur && sched_actor_runnable(sched, cur),
		.arrivals = cur ? cur->arrivals : 0,
		.point = cur ? cur->last_point : NULL,
	};
	guint pos = sched->choose_fn(sched, &choice, sched->choose_data);

	g_return_val_if_fail(pos < n, NULL);
	return g_ptr_array_index(sched->actors, sched->choice_list[pos]);
}

/* Whether no blocked actor needs asking: each one is parked or sure (sched_wait_on()) or only
 * sleeps, none of those until now or earlier. Then the runnable actors are the ready set and the
 * sure waiters. */
static inline gboolean
sched_blocked_all_known(SimSched *sched)
{
	if (sched->nr_blocked != sched->nr_sleepers + sched->nr_known)
		return FALSE;
	return sched->nr_sleepers == 0 || sched->now < sched_first_wake(sched);
}

/* The random policy while no blocked actor needs asking: the runnable actors are the ready
 * list (the ready and the sure ones). */
static inline SimActor *
sched_pick_ready_at_random(SimSched *sched)
{
	if (sched->ready_stale)
		sched_rebuild_ready_list(sched);
	sched->examined++;
	if (sched->ready_len == 0)
		return NULL;
	if (sched->ready_len == 1) {
		SimActor *only = sched->ready_list[0];

		/* forced until a sleeper is due or the sets change (they reset alone_until) */
		if (only == sched->current)
			sched->alone_until = sched->nr_sleepers ? sched_first_wake(sched)
							       : G_MAXUINT64;
		return only;
	}
	guint nth = sim_rng_below(&sched->rng, sched->ready_len); /* then the list: not kept */

	return sched->ready_list[nth];
}

/* At a real choice (not a probe): the chooser's pick if one is set, else the policy's; the
 * common case (random, nobody to ask, no chooser) first, at every yield point (out of line: once
 * in sim_yield(), it cost the callers' fast paths their registers). */
SimActor *
sched_pick(SimSched *sched, SimPolicy policy)
{
	if (!sched->pick_general && policy == SIM_POLICY_RANDOM &&
	    (sched->nr_blocked == 0 || sched_blocked_all_known(sched)))
		return sched_pick_ready_at_random(sched);
	return sched_pick_general(sched, policy);
}

/* sched_pick() from sim_yield() before fast_until: the policy is random, there is no chooser and
 * no sleeper is due, so that whether a blocked actor needs asking is one compare. */
SimActor *
sched_pick_fast(SimSched *sched)
{
	if (G_LIKELY(sched->nr_blocked == sched->nr_sleepers + sched->nr_known))
		return sched_pick_ready_at_random(sched);
	return sched_pick_general(sched, SIM_POLICY_RANDOM);
}
