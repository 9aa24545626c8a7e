/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Depth-first search of every schedule with at most K preemptions (iterative context bounding,
 * Musuvathi and Qadeer, PLDI'07), stateless: each schedule is a run from the start that follows
 * the choices of a prefix, then the default (non-preemptive) pick. A preemption is a switch away
 * from an actor that could go on; a switch at a point where the running actor blocks or returns is
 * free. No partial-order reduction: every choice among two or more runnable actors is a branch
 * (the model has no record of which yield points touch shared state, and a reduction that guessed
 * would be unsound).
 */
#include "sim/explore/explore-internal.h"

/* One choice of the last run and the picks tried at it. */
typedef struct {
	guint64 runnable;          /* bit per actor */
	gint cur;
	gboolean preempt;
	guint pick;
	guint64 tried;
	guint preemptions_before;
} Frame;

struct ExploreDfs {
	guint bound;
	GArray *frames;            /* Frame */
	guint prefix;              /* frames the next run follows */
	guint preemptions;         /* of the run in progress */
};

ExploreDfs *
explore_dfs_new(guint bound)
{
	ExploreDfs *d = g_new0(ExploreDfs, 1);

	d->bound = bound;
	d->frames = g_array_new(FALSE, FALSE, sizeof(Frame));
	return d;
}

void
explore_dfs_free(ExploreDfs *d)
{
	if (!d)
		return;
	g_array_free(d->frames, TRUE);
	g_free(d);
}

/* Follow the prefix, then the default pick, recording each new choice as a frame. */
guint
explore_dfs_pick(gpointer data, const SimChoice *c, guint def, guint index)
{
	ExploreDfs *d = data;
	guint64 mask = 0;
	guint pick, pos = def;

	if (index == 0)
		d->preemptions = 0;
	for (guint i = 0; i < c->n; i++)
		mask |= c->runnable[i] < 64 ? 1ull << c->runnable[i] : 0;
	if (index < d->prefix) {
		pick = g_array_index(d->frames, Frame, index).pick;
	} else {
		Frame f = { mask, c->current, c->preempt, c->runnable[def], 1ull << c->runnable[def],
			    d->preemptions };

		g_array_set_size(d->frames, index);
		g_array_append_val(d->frames, f);
		pick = f.pick;
	}
	for (guint i = 0; i < c->n; i++)
		if (c->runnable[i] == pick)
			pos = i;
	d->preemptions += c->preempt && c->runnable[pos] != (guint)c->current;
	return pos;
}

/* Backtrack to the deepest choice with an untried pick within the bound. */
gboolean
explore_dfs_next(ExploreDfs *d)
{
	for (guint i = d->frames->len; i-- > 0;) {
		Frame *f = &g_array_index(d->frames, Frame, i);

		for (guint a = 0; a < 64; a++) {
			guint64 bit = 1ull << a;
			guint cost;

			if (!(f->runnable & bit) || (f->tried & bit))
				continue;
			cost = f->preemptions_before + (f->preempt && (gint)a != f->cur);
			f->tried |= bit;
			if (cost > d->bound)
				continue;
			f->pick = a;
			g_array_set_size(d->frames, i + 1);
			d->prefix = i + 1;
			return TRUE;
		}
	}
	return FALSE;
}
