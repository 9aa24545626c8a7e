/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The scheduler's random stream: MT19937 (Matsumoto and Nishimura, 1998) seeded from a key array,
 * drawn into a range by rejection, so that it gives exactly the numbers glib's GRand gives for the
 * same key (g_rand_new_with_seed_array(), then g_rand_int_range() as glib >= 2.2 defines it).
 * Recorded traces and the logs of existing runs depend on that stream. Kept inline: at 64 vCPUs a
 * fault makes about ten random picks, and GRand's two calls per pick (plus its G_RANDOM_VERSION
 * look-up) cost more than the pick itself. tests/unit/test-sched checks it against GRand.
 */
#ifndef KVMSIM_SIM_CORE_SCHED_RNG_H
#define KVMSIM_SIM_CORE_SCHED_RNG_H

#include <glib.h>

#define SIM_RNG_N 624
#define SIM_RNG_M 397

typedef struct {
	guint32 mt[SIM_RNG_N];
	guint32 out[SIM_RNG_N]; /* mt tempered, at each twist (vectorized there) */
	guint mti; /* next word of mt to temper; SIM_RNG_N: regenerate first */
	guint32 range, range_max; /* the last n of sim_rng_below() and its largest word kept */
} SimRng;

/* The generator's state from a single word (the reference init_genrand()). */
static inline void
sim_rng_seed(SimRng *r, guint32 seed)
{
	r->mt[0] = seed;
	for (guint i = 1; i < SIM_RNG_N; i++)
		r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + i;
	r->mti = SIM_RNG_N;
	r->range = 0;
}

/* The generator's state from a key array (the reference init_by_array()). */
static inline void
sim_rng_seed_array(SimRng *r, const guint32 *key, guint len)
{
	guint i = 1, j = 0;

	sim_rng_seed(r, 19650218u);
	for (guint k = MAX(SIM_RNG_N, len); k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) +
			   key[j] + j;
		if (++i >= SIM_RNG_N) {
			r->mt[0] = r->mt[SIM_RNG_N - 1];
			i = 1;
		}
		if (++j >= len)
			j = 0;
	}
	for (guint k = SIM_RNG_N - 1; k; k--) {
		r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - i;
		if (++i >= SIM_RNG_N) {
			r->mt[0] = r->mt[SIM_RNG_N - 1];
			i = 1;
		}
	}
	r->mt[0] = 0x80000000u; /* the most significant bit: a non-zero initial state */
}

/* The next SIM_RNG_N words of state (the twist), out of line: once per 624 draws. */
void sim_rng_twist(SimRng *r);

/* A uniform 32-bit word. */
static inline guint32
sim_rng_next(SimRng *r)
{
	if (G_UNLIKELY(r->mti >= SIM_RNG_N))
		sim_rng_twist(r);
	return r->out[r->mti++];
}

/* The largest word sim_rng_below() keeps for n: one less than the largest multiple of n that is
 * at most 2^32. */
static inline guint32
sim_rng_range_max(guint32 n)
{
	if (n > 0x80000000u)
		return n - 1;
	/* 2^32 mod n, from 2^31 mod n without 64-bit arithmetic */
	guint32 leftover = (0x80000000u % n) * 2;

	if (leftover >= n)
		leftover -= n;
	return 0xffffffffu - leftover;
}

/* sim_rng_below() from its first word on (sched-pick.c): the bound set again, a twist, the words
 * drawn again. Out of line, so that the picks' common draw keeps few registers. */
guint32 sim_rng_below_slow(SimRng *r, guint32 n);

/* A uniform integer in [0, n), n >= 1: words above the last whole multiple of n below 2^32 are
 * drawn again, then reduced modulo n. The bound is kept for the next draw in the same range.
 * Inline, the common draw: the same range, a tempered word left, and that word kept. */
static inline guint32
sim_rng_below(SimRng *r, guint32 n)
{
	if (G_LIKELY(n == r->range && r->mti < SIM_RNG_N && r->out[r->mti] <= r->range_max))
		return r->out[r->mti++] % n;
	return sim_rng_below_slow(r, n);
}

#endif
