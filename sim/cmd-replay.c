/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim replay TRACE...: run each trace and check every expectation it makes. */
#include <stdio.h>

#include "sim/cmd.h"
#include "sim/core/outfile.h"
#include "sim/report/timeline.h"
#include "sim/trace/replay.h"

/* A trace with a workload runs a whole machine; one without, the MMU alone. */
static const char *
kind_of(const Trace *trace)
{
	return trace->workload ? "full-system" : "exit-level";
}

/* A timeline of the replay, made once its machine is built. */
typedef struct {
	const char *title;
	SimTimeline *timeline;
} ReplayTimeline;

/* The machine is built: start watching. */
static void
timeline_start(SimSched *sched, SimLog *log, SimVmm *vmm, gpointer data)
{
	ReplayTimeline *rt = data;

	(void)vmm;
	rt->timeline = sim_timeline_new(sched, log, rt->title);
}

/* The run is over: stop watching before the scheduler goes. */
static void
timeline_finish(SimSched *sched, SimVmm *vmm, gboolean ran, gpointer data)
{
	ReplayTimeline *rt = data;

	(void)sched, (void)vmm, (void)ran;
	sim_timeline_detach(rt->timeline);
}

/* Load every trace first (a bad one is a usage error), then replay each and count. */
int
kvmsim_cmd_replay(int argc, char **argv)
{
	gchar **files = NULL;
	gchar *log_path = NULL;
	g_autofree gchar *timeline_path = NULL;
	gint64 watchdog = SIM_SCHED_DEFAULT_WATCHDOG;
	const GOptionEntry entries[] = {
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &watchdog,
		  "Yield points without progress before a step or a livelock fails (default 65536)",
		  "N" },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
		  "Write the event log of the replay to FILE (one TRACE only)", "FILE" },
		{ "timeline", 0, 0, G_OPTION_ARG_FILENAME, &timeline_path,
		  "Write the replay as Chrome trace-event JSON to FILE (one TRACE only)", "FILE" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE..." },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE... - replay traces");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func((GDestroyNotify)trace_free);
	guint passed = 0, failed = 0;

	g_option_context_set_summary(ctx, "Replays each TRACE (traces/*.xml, or one written by kvmsim "
					  "run --record),\nprints PASS or FAIL for every expectation, and "
					  "exits 0 only if all hold.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return kvmsim_usage_error("%s", error->message);
	if (watchdog < 1 || (timeline_path && (!files || !files[0] || files[1]))) {
		g_strfreev(files);
		g_free(log_path);
		return kvmsim_usage_error(watchdog < 1 ? "--watchdog must be positive" :
							 "--timeline takes exactly one TRACE");
	}
	if (timeline_path && (!sim_outfile_check(timeline_path, &error) ||
			      (log_path && sim_outfile_same(log_path, timeline_path)))) {
		int usage = error ? kvmsim_usage_error("--timeline %s", error->message) :
				    kvmsim_usage_error("--log %s and --timeline %s name the same "
						       "file", log_path, timeline_path);

		g_strfreev(files);
		g_free(log_path);
		return usage;
	}
	if (!files || !files[0] || (log_path && files[1])) {
		g_strfreev(files);
		g_free(log_path);
		return kvmsim_usage_error(log_path ? "--log takes exactly one TRACE" :
						     "replay needs at least one TRACE");
	}
	/* the log's path is checked before anything runs: a bad one is a usage error, not a FAIL */
	if (log_path && !sim_outfile_check(log_path, &error)) {
		g_strfreev(files);
		g_free(log_path);
		return kvmsim_usage_error("--log %s", error->message);
	}
	/* every trace is read and checked before any runs */
	for (guint i = 0; files[i]; i++) {
		Trace *trace = trace_load(files[i], &error);

		if (!trace) {
			g_strfreev(files);
			g_free(log_path);
			return kvmsim_usage_error("%s", error->message);
		}
		trace->watchdog = (guint64)watchdog;
		g_ptr_array_add(traces, trace);
	}
	g_strfreev(files);
	for (guint i = 0; i < traces->len; i++) {
		const Trace *trace = g_ptr_array_index(traces, i);
		TraceReplayReport report;

		printf("%s: %s trace%s%s, %u vCPU%s\n", trace->path, kind_of(trace),
		       trace->workload ? " of " : "", trace->workload ? trace->workload : "",
		       trace->nr_vcpus, trace->nr_vcpus == 1 ? "" : "s");
		ReplayTimeline rt = { trace->path, NULL };
		const TraceReplayHooks hooks = { timeline_start, timeline_finish, &rt };
		gboolean ok = trace_replay_hooked(trace, log_path, stdout, &report,
						  timeline_path ? &hooks : NULL, &error);

		if (rt.timeline) {
			g_autoptr(GError) werr = NULL;

			if (!sim_timeline_write(rt.timeline, timeline_path, &werr)) {
				fprintf(stderr, "kvmsim: error: --timeline %s\n", werr->message);
				ok = FALSE;
			}
			sim_timeline_free(rt.timeline);
		}
		if (!ok) {
			printf("  FAIL  %s\n", error ? error->message : "--timeline not written");
			g_clear_error(&error);
			failed++;
			continue;
		}
		printf("  %u passed, %u failed\n", report.passed, report.failed);
		if (report.failed)
			failed++;
		else
			passed++;
	}
	g_free(log_path);
	printf("replay: %u passed, %u failed\n", passed, failed);
	return failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
}
