/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Protocol mutations: bugs planted in the model on purpose, each a runtime switch, so that a
 * search (or a hand-written trace) can be shown to find it. A machine carries the set it runs
 * with as a bitmask (struct kvm's mutations, SimMm's); each planted bug is one cheap test of that
 * mask at the place it perverts, and with an empty set the model runs exactly as it does
 * without this file. `kvmsim list --mutations` prints the catalogue below.
 *
 * A mutation is "expected safe" when no interleaving kvmsim can produce makes it observable: its
 * description says why. Every other one must be killed by a target (tests/mutations/).
 */
#ifndef KVMSIM_SIM_CORE_MUTATIONS_H
#define KVMSIM_SIM_CORE_MUTATIONS_H

#include <glib.h>

typedef enum {
	SIM_MUT_NO_STALE_CHECK,
	SIM_MUT_SEQ_SNAPSHOT_AFTER_PFN,
	SIM_MUT_STALE_IGNORES_IN_PROGRESS,
	SIM_MUT_SEQ_BUMP_AT_BEGIN,
	SIM_MUT_STALE_CHECK_UNLOCKED,
	SIM_MUT_SEQ_BUMP_ORDER_SWAPPED,
	SIM_MUT_NO_RANGE_ADD,
	SIM_MUT_FLUSH_AFTER_UNLOCK,
	SIM_MUT_NO_REMOTE_FLUSH,
	SIM_MUT_FREE_BEFORE_END,
	SIM_MUT_INSTALL_PLAIN_STORE,
	SIM_MUT_PRE_D62007EDF01F,
	SIM_MUT_PRE_A835429CDA91,
	SIM_MUT_NO_UNSAFE_PRECHECK,
	SIM_MUT_ASI_CRITICAL_AFTER_ENTER,
	/* historical fixes (docs/historical-races.md), named pre-<commit> */
	SIM_MUT_PRE_A955CAD84CDA,
	SIM_MUT_PRE_47B0C2E4C220,
	SIM_MUT_PRE_F5D16BB9BE68,
	SIM_MUT_PRE_BD29677952FA,
	SIM_MUT_PRE_574C3C55E969,
	SIM_MUT_PRE_21A36AC6B6C7,
	SIM_MUT_PRE_BA3A6120A4E7,      /* historical (issue 13): docs/historical-races.md */
	SIM_MUT_PRE_B64D740EA7DD,
	SIM_MUT_PRE_B25AB9CAE30F,
	SIM_MUT_PRE_69C7916DF569,
	SIM_MUT_PRE_ATTR_END_UNLOCKED,
	SIM_MUT_NO_REQUEST_IPI,
	SIM_MUT_COUNT,
} SimMutation;

/* A set of mutations, bit m for SimMutation m; 0 is the faithful model. */
typedef guint32 SimMutations;
G_STATIC_ASSERT(SIM_MUT_COUNT <= 32);

#define SIM_MUTATION_BIT(m) ((SimMutations)1 << (m))

typedef struct {
	const char *name;      /* what --mutate and <mutation name=…/> say */
	const char *bug;       /* the bug it plants, one line */
	gboolean safe;         /* expected to survive every target */
	const char *why_safe;  /* for a safe one: why no interleaving can show it; else NULL */
} SimMutationInfo;

/* The catalogue, indexed by SimMutation. */
const SimMutationInfo *sim_mutation_info(SimMutation m);
/* The mutation called name; FALSE if there is none. */
gboolean sim_mutation_lookup(const char *name, SimMutation *out);

/* Is m planted in set? The one test every hook makes: a load, a mask and a branch the compiler
 * is told is almost never taken. */
static inline gboolean
sim_mutated(SimMutations set, SimMutation m)
{
	return G_UNLIKELY(set & SIM_MUTATION_BIT(m));
}

/* "a,b" for a set, in catalogue order (g_free it); "" for the empty set. */
gchar *sim_mutations_format(SimMutations set);

#endif
