/* SPDX-License-Identifier: GPL-2.0-only */
/* The "notifier" actor: seeded host mm events on guest memory. */
#include "sim/core/host-events.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct SimHostEvents {
	SimMm *mm;
	SimSched *sched;
	GRand *rng;
	GArray *plan;          /* SimHostEventKind, in the order they will happen */
	GArray *done;          /* SimHostEvent, as they happened */
	GArray *targets;       /* SimHostEventTarget */
	guint64 *counts;       /* per target: pages pick_page() may pick there (its scratch) */
	gboolean droppable;    /* some target is */
	guint64 mean_interval;
	SimWaitFn guest_done;
	gpointer guest_data;
	const SimHostGmemOps *gmem;
	gpointer gmem_data;
	const SimHostDirtyLogOps *dirty_log;
	gpointer dirty_log_data;
};

static const char *const kind_names[SIM_HOST_NR_KINDS] = {
	"migrate", "dontneed", "age", "punch", "convert", "dirtylog",
};

const char *
sim_host_event_name(SimHostEventKind kind)
{
	return kind_names[kind];
}

gboolean
sim_host_event_is_gmem(SimHostEventKind kind)
{
	return kind == SIM_HOST_PUNCH || kind == SIM_HOST_CONVERT;
}

/* Parse the --host-events specification, with one precise message per mistake. */
gboolean
sim_host_events_parse(const char *spec, SimHostEventCounts *out, GError **error)
{
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);
	gboolean seen[SIM_HOST_NR_KINDS] = { FALSE };

	memset(out, 0, sizeof(*out));
	for (guint i = 0; items[i]; i++) {
		const char *eq = strchr(items[i], '=');
		guint k;

		if (!eq || eq == items[i]) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--host-events: '%s' is not KIND=COUNT", items[i]);
			return FALSE;
		}
		for (k = 0; k < SIM_HOST_NR_KINDS; k++)
			if (strlen(kind_names[k]) == (gsize)(eq - items[i]) &&
			    strncmp(items[i], kind_names[k], (gsize)(eq - items[i])) == 0)
				break;
		if (k == SIM_HOST_NR_KINDS) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--host-events: unknown kind '%.*s' (known: migrate, dontneed, "
				    "age, punch, convert, dirtylog)",
				    (int)(eq - items[i]), items[i]);
			return FALSE;
		}
		guint64 count;

		if (!g_ascii_string_to_unsigned(eq + 1, 10, 0, 1000000, &count, NULL)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--host-events: count '%s' of %s is not a number from 0 to 1000000",
				    eq + 1, kind_names[k]);
			return FALSE;
		}
		if (seen[k]) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--host-events: %s is given twice", kind_names[k]);
			return FALSE;
		}
		seen[k] = TRUE;
		out->count[k] = (guint)count;
	}
	return TRUE;
}

guint
sim_host_events_total(const SimHostEventCounts *counts)
{
	guint n = 0;

	for (guint k = 0; k < SIM_HOST_NR_KINDS; k++)
		n += counts->count[k];
	return n;
}

/* The plan of events in a seeded order, with an RNG stream of its own. */
SimHostEvents *
sim_host_events_new(SimMm *mm, guint64 seed, const SimHostEventCounts *counts,
		    const SimHostEventTarget *targets, guint nr_targets, guint64 mean_interval,
		    SimWaitFn guest_done, gpointer data)
{
	SimHostEvents *ev = g_new0(SimHostEvents, 1);
	/* a stream of its own, so adding host events never shifts the scheduler's choices */
	guint32 key[3] = { (guint32)seed, (guint32)(seed >> 32), 0x686f7374 /* "host" */ };

	ev->mm = mm;
	ev->rng = g_rand_new_with_seed_array(key, 3);
	ev->targets = g_array_new(FALSE, FALSE, sizeof(SimHostEventTarget));
	g_array_append_vals(ev->targets, targets, nr_targets);
	ev->counts = g_new0(guint64, MAX(nr_targets, 1));
	for (guint i = 0; i < nr_targets; i++)
		ev->droppable |= targets[i].droppable;
	ev->mean_interval = MAX(mean_interval, 1);
	ev->guest_done = guest_done;
	ev->guest_data = data;
	ev->plan = g_array_new(FALSE, FALSE, sizeof(SimHostEventKind));
	g_array_set_size(ev->plan, sim_host_events_total(counts));
	for (guint k = 0, n = 0; k < SIM_HOST_NR_KINDS; k++)
		for (guint i = 0; i < counts->count[k]; i++)
			g_array_index(ev->plan, SimHostEventKind, n++) = k;
	/* room for every planned event: retried migrations may add a few more */
	ev->done = g_array_sized_new(FALSE, FALSE, sizeof(SimHostEvent), ev->plan->len);
	/* Fisher-Yates: the kinds interleave in a seeded order */
	for (guint i = ev->plan->len; i > 1; i--) {
		guint j = (guint)g_rand_int_range(ev->rng, 0, (gint32)i);
		SimHostEventKind t = g_array_index(ev->plan, SimHostEventKind, i - 1);

		g_array_index(ev->plan, SimHostEventKind, i - 1) =
			g_array_index(ev->plan, SimHostEventKind, j);
		g_array_index(ev->plan, SimHostEventKind, j) = t;
	}
	return ev;
}

void
sim_host_events_set_gmem(SimHostEvents *ev, const SimHostGmemOps *ops, gpointer gmem_data)
{
	ev->gmem = ops;
	ev->gmem_data = gmem_data;
}

void
sim_host_events_set_dirty_log(SimHostEvents *ev, const SimHostDirtyLogOps *ops, gpointer data)
{
	ev->dirty_log = ops;
	ev->dirty_log_data = data;
}

void
sim_host_events_free(SimHostEvents *ev)
{
	if (!ev)
		return;
	g_rand_free(ev->rng);
	g_array_free(ev->plan, TRUE);
	g_array_free(ev->done, TRUE);
	g_array_free(ev->targets, TRUE);
	g_free(ev->counts);
	g_free(ev);
}

/*
 * A page picked uniformly among the pages that hold a frame of their own in the targets (only the
 * droppable ones if only_droppable), in O(targets), each target's count asked of the mm once;
 * 0 if there is none.
 */
static guint64
pick_page(SimHostEvents *ev, gboolean only_droppable)
{
	guint64 total = 0;

	for (guint i = 0; i < ev->targets->len; i++) {
		const SimHostEventTarget *t = &g_array_index(ev->targets, SimHostEventTarget, i);

		ev->counts[i] = t->droppable || !only_droppable ?
					sim_mm_nr_resident(ev->mm, t->hva) : 0;
		total += ev->counts[i];
	}
	if (!total)
		return 0;
	guint64 pick = ((guint64)g_rand_int(ev->rng) << 32 | g_rand_int(ev->rng)) % total;

	for (guint i = 0;; i++) {
		const SimHostEventTarget *t = &g_array_index(ev->targets, SimHostEventTarget, i);

		if (pick < ev->counts[i])
			return sim_mm_resident_page(ev->mm, t->hva, pick);
		pick -= ev->counts[i];
	}
}

/* Whether the host page at hva has a frame a migration could move (not the zero page). */
static gboolean
migratable(SimHostEvents *ev, guint64 hva)
{
	SimPfn pfn = sim_mm_lookup(ev->mm, hva);

	return pfn != SIM_PFN_NONE && pfn != SIM_ZERO_PFN;
}

/* Has the guest ended (or the run failed)? Events after that would race nothing. */
static gboolean
guest_done(SimHostEvents *ev)
{
	return sim_sched_failed(ev->sched) || (ev->guest_done && ev->guest_done(ev->guest_data));
}

/* Carry out one event on the mm (shared by the generator and trace replay). */
int
sim_host_event_perform(SimMm *mm, const SimHostEvent *event)
{
	switch (event->kind) {
	case SIM_HOST_MIGRATE:
		return sim_mm_migrate_page(mm, event->hva);
	case SIM_HOST_DONTNEED:
		return sim_mm_dontneed(mm, event->hva, event->size);
	case SIM_HOST_AGE:
		return sim_mm_age(mm, event->hva, event->size, NULL);
	case SIM_HOST_PUNCH:
	case SIM_HOST_CONVERT: /* the VMM's: perform_event() */
	case SIM_HOST_DIRTYLOG:
	case SIM_HOST_NR_KINDS:
		break;
	}
	g_assert_not_reached();
}

/* Perform e through the mm, or the VMM for the guest_memfd kinds; no page: nothing to do (a
 * dirtylog gets here only once the guest has ended: nothing to do either). */
static void
perform_event(SimHostEvents *ev, const SimHostEvent *e)
{
	if (e->kind == SIM_HOST_DIRTYLOG)
		return;
	if (!sim_host_event_is_gmem(e->kind))
		sim_host_event_perform(ev->mm, e);
	else if (e->hva)
		ev->gmem->perform(ev->gmem_data, e);
}

/* Sleep until at, then perform e on a page chosen at that moment, and remember it. */
static void
sleep_and_perform(SimHostEvents *ev, SimHostEvent *e)
{
	sim_sleep_until(ev->sched, e->at);
	/* the guest ended while the actor slept: the wake-up stays in the record (a replay
	 * sleeps as long) with no page to act on */
	if (guest_done(ev))
		e->hva = 0;
	else if (e->kind == SIM_HOST_DIRTYLOG) {
		e->hva = 1;
		ev->dirty_log->perform(ev->dirty_log_data, e);
		g_array_append_val(ev->done, *e);
		sim_sched_progress(ev->sched);
		return;
	} else if (sim_host_event_is_gmem(e->kind))
		e->hva = ev->gmem->pick(ev->gmem_data, e->kind, ev->rng, &e->to_private);
	else
		e->hva = pick_page(ev, e->kind == SIM_HOST_DONTNEED);
	g_array_append_val(ev->done, *e);
	perform_event(ev, e);
	sim_sched_progress(ev->sched);
}

/*
 * Every planned event after a seeded delay, until the guest ends. A migration planned before the
 * guest wrote any memory is tried again a while later (each try is recorded, so a replay sleeps
 * as often).
 */
static void
host_events_actor(SimActor *actor, gpointer data)
{
	SimHostEvents *ev = data;

	for (guint i = 0; i < ev->plan->len && !guest_done(ev); i++) {
		SimHostEvent e = { g_array_index(ev->plan, SimHostEventKind, i), 0, SIM_PAGE_SIZE, 0,
				   FALSE, 0 };
		guint64 delay = (guint64)g_rand_double_range(ev->rng, 0, 2.0 * ev->mean_interval);

		if ((e.kind == SIM_HOST_DONTNEED && !ev->droppable) ||
		    (sim_host_event_is_gmem(e.kind) && !ev->gmem) ||
		    (e.kind == SIM_HOST_DIRTYLOG && !ev->dirty_log))
			continue;
		e.at = sim_sched_now(ev->sched) + delay + 1;
		sleep_and_perform(ev, &e);
		for (guint tries = 0; e.kind == SIM_HOST_MIGRATE && tries < 64 &&
				      !migratable(ev, e.hva) && !guest_done(ev); tries++) {
			e.at = sim_sched_now(ev->sched) + ev->mean_interval;
			sleep_and_perform(ev, &e);
		}
	}
}

const SimHostEvent *
sim_host_events_done(const SimHostEvents *ev, guint *out_n)
{
	*out_n = ev->done->len;
	return (const SimHostEvent *)ev->done->data;
}

SimActor *
sim_host_events_start(SimHostEvents *ev, SimSched *sched)
{
	ev->sched = sched;
	return sim_actor_new(sched, "notifier", host_events_actor, ev);
}
