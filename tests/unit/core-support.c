/* SPDX-License-Identifier: GPL-2.0-only */
/* What the sim/core suites share: scripted actors, a capturing log, and a Check main. */
#include "tests/unit/core-support.h"

#include <string.h>

/* The messages of the test_ev events in a captured log, space separated: "a@p1 b@p1 ...". */
gchar *
log_events(const char *log_text)
{
	static const char tag[] = " test_ev: ";
	g_auto(GStrv) lines = g_strsplit(log_text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (guint i = 0; lines[i]; i++) {
		const char *ev = strstr(lines[i], tag);

		if (ev)
			g_string_append_printf(out, "%s%s", out->len ? " " : "", ev + strlen(tag));
	}
	return g_string_free(out, FALSE);
}

void
emit(SimSched *sched, const char *what)
{
	sim_log_emit(sim_sched_log(sched), "test_ev", "%s@%s", sim_sched_current_name(sched), what);
}

void
script_actor(SimActor *actor, gpointer data)
{
	const Script *script = data;

	for (guint i = 0; script->points[i]; i++) {
		emit(script->sched, script->points[i]);
		sim_yield(script->sched, script->points[i]);
	}
	emit(script->sched, "end");
}

const char *const three_points[] = { "p1", "p2", "p3", NULL };

/* A scheduler with a capturing log. */
SimSched *
sched_with_log(guint64 seed, SimLog **out_log)
{
	SimSched *sched = sim_sched_new(seed);

	*out_log = sim_log_new(sched);
	sim_log_capture(*out_log);
	return sched;
}

void
run_or_abort(SimSched *sched)
{
	g_autoptr(GError) error = NULL;

	if (!sim_sched_run(sched, &error))
		ck_abort_msg("the run failed: %s", error->message);
}

/* Run actors a, b and c, each yielding at p1, p2, p3; the captured log. */
gchar *
run_three(guint64 seed, SimPolicy policy, gboolean record, SimSched **out_sched)
{
	SimLog *log;
	SimSched *sched = sched_with_log(seed, &log);
	Script script = { sched, three_points };

	sim_sched_set_policy(sched, policy);
	sim_sched_set_recording(sched, record);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	sim_actor_new(sched, "c", script_actor, &script);
	run_or_abort(sched);
	gchar *text = g_strdup(sim_log_text(log));

	sim_log_free(log);
	sim_sched_set_log(sched, NULL);
	if (out_sched)
		*out_sched = sched;
	else
		sim_sched_free(sched);
	return text;
}


gboolean
all_bytes(const guint8 *buf, gsize len, guint8 byte)
{
	for (gsize i = 0; i < len; i++)
		if (buf[i] != byte)
			return FALSE;
	return TRUE;
}

gboolean
frame_is_filled_with(SimHostMem *hm, SimPfn pfn, guint8 byte)
{
	guint8 page[SIM_PAGE_SIZE];

	sim_frame_read(hm, pfn, 0, page, sizeof(page));
	return all_bytes(page, sizeof(page), byte);
}
