/* SPDX-License-Identifier: GPL-2.0-only */
/* The NMIs' --stats keys (a file of its own: tests/cli/check-points.sh reads every other
 * dotted string of asi/ as a yield point). */
#include "asi/nmi.h"

/* The --stats keys of the NMIs, in a fixed order. */
gboolean
asi_nmis_stats_nth(const AsiNmis *nmis, guint n, const char **key, guint64 *value)
{
	static const char *const keys[] = {
		"asi.nmi.handled", "asi.nmi.latched", "asi.nmi.lost",
		"asi.nmi.left_unrestricted",
	};
	const AsiNmiStats *s = asi_nmis_stats(nmis);
	const guint64 values[] = { s->handled, s->latched, s->lost, s->left_unrestricted };

	if (n >= G_N_ELEMENTS(keys))
		return FALSE;
	*key = keys[n];
	*value = values[n];
	return TRUE;
}
