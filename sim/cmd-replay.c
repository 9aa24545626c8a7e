/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim replay TRACE...: run each trace and check every expectation it makes. */
#include <stdio.h>

#include "sim/cmd.h"
#include "sim/core/log.h"
#include "sim/core/outfile.h"
#include "sim/report/tracedat.h"
#include "sim/explore/explore.h"
#include "sim/report/timeline.h"
#include "sim/trace/replay.h"

/* A trace with a workload runs a whole machine; one without, the MMU alone. */
static const char *
kind_of(const Trace *trace)
{
	return trace->workload ? "full-system" : "exit-level";
}

/* What --log-format and --trace-dat ask of the replay's log. */
typedef struct {
	SimLogFormat format;
	SimTraceDat *trace_dat;
} ReplayLogSetup;

static void
setup_log(SimLog *log, gpointer data)
{
	const ReplayLogSetup *setup = data;

	sim_log_set_format(log, setup->format);
	if (setup->trace_dat)
		sim_tracedat_attach(setup->trace_dat, log);
}

/* kvmsim replay --token TOKEN TRACE: the trace's machine and events under the token's schedule
 * (kvmsim explore printed it), checked as explore checks; its expectations are not. */
static int
replay_token(const Trace *trace, const char *token)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) devs = explore_token_decode(token, &error);
	ExploreTarget target = { .trace = trace };
	ExploreRun run;

	if (!devs)
		return kvmsim_usage_error("--token: %s", error->message);
	printf("%s: %s trace%s%s, %u vCPU%s, the schedule of token %s\n", trace->path,
	       kind_of(trace), trace->workload ? " of " : "", trace->workload ? trace->workload : "",
	       trace->nr_vcpus, trace->nr_vcpus == 1 ? "" : "s", token);
	if (!explore_run_schedule(&target, (const ExploreChoice *)devs->data, devs->len, FALSE,
				  FALSE, &run, &error)) {
		printf("  FAIL  %s\n", error->message);
		printf("replay: 0 passed, 1 failed\n");
		return KVMSIM_EXIT_FAIL;
	}
	int status = run.failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
	guint unapplied = explore_token_unapplied(devs, &run);

	if (unapplied)
		printf("  note  %u of the token's %u deviations did not apply: it was made on another "
		       "target, or the model changed since\n", unapplied, devs->len);

	if (run.failed)
		printf("  FAIL  invariant %s at step %" G_GUINT64_FORMAT ", actor %s: %s\n",
		       run.invariant, run.step, run.actor ? run.actor : "-", run.detail);
	else
		printf("  PASS  every invariant held (%" G_GUINT64_FORMAT " steps)\n", run.steps);
	printf("replay: %u passed, %u failed\n", !run.failed, run.failed);
	explore_run_clear(&run);
	return status;
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
	g_auto(GStrv) files = NULL;
	g_auto(GStrv) mutate = NULL;
	g_autofree gchar *log_path = NULL;
	g_autofree gchar *log_format = NULL;
	g_autofree gchar *trace_dat_path = NULL;
	g_autofree gchar *token = NULL;
	SimMutations mutations;
	g_autofree gchar *timeline_path = NULL;
	gint64 watchdog = G_MININT64; /* not given */
	const GOptionEntry entries[] = {
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &watchdog,
		  "Yield points without progress before a step or a livelock fails (default: the "
		  "trace's, else 65536)", "N" },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
		  "Write the event log of the replay to FILE (one TRACE only)", "FILE" },
		{ "log-format", 0, 0, G_OPTION_ARG_STRING, &log_format,
		  "Layout of --log: kvmsim (default) or ftrace (trace-cmd report's prefix)",
		  "kvmsim|ftrace" },
		{ "trace-dat", 0, 0, G_OPTION_ARG_FILENAME, &trace_dat_path,
		  "Write the replay as a trace-cmd trace.dat to FILE (one TRACE only)", "FILE" },
		{ "token", 0, 0, G_OPTION_ARG_STRING, &token,
		  "Replay TRACE under the schedule of a replay token from kvmsim explore "
		  "(one TRACE)", "TOKEN" },
		{ "mutate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &mutate,
		  "Plant this protocol bug too, besides the trace's <mutations> (see kvmsim list "
		  "--mutations; repeatable)", "NAME" },
		{ "timeline", 0, 0, G_OPTION_ARG_FILENAME, &timeline_path,
		  "Write the replay as Chrome trace-event JSON to FILE (one TRACE only)", "FILE" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "TRACE..." },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE... - replay traces");
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func((GDestroyNotify)trace_free);
	guint passed = 0, failed = 0;
	ReplayLogSetup setup = { SIM_LOG_KVMSIM, NULL };
	g_autoptr(SimTraceDat) trace_dat = NULL;

	g_option_context_set_summary(ctx, "Replays each TRACE (traces/*.xml, or one written by kvmsim "
					  "run --record),\nprints PASS or FAIL for every expectation, and "
					  "exits 0 only if all hold.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return kvmsim_usage_error("%s", error->message);
	if (!kvmsim_parse_mutations(mutate, &mutations, &error))
		return kvmsim_usage_error("%s", error->message);
	if (log_format && !sim_log_format_lookup(log_format, &setup.format))
		return kvmsim_usage_error("--log-format %s: must be kvmsim or ftrace", log_format);
	if (trace_dat_path && (!files || !files[0] || files[1]))
		return kvmsim_usage_error("--trace-dat takes exactly one TRACE");
	if (watchdog < 1 && watchdog != G_MININT64)
		return kvmsim_usage_error("--watchdog must be positive");
	if (timeline_path && (!files || !files[0] || files[1]))
		return kvmsim_usage_error("--timeline takes exactly one TRACE");
	if (!files || !files[0] || ((log_path || token) && files[1]) || (log_path && token))
		return kvmsim_usage_error(log_path && token ? "--log and --token do not go together" :
					  token ? "--token takes exactly one TRACE" :
					  log_path ? "--log takes exactly one TRACE" :
						     "replay needs at least one TRACE");
	/* outputs are checked as run checks them, before anything runs: a usage error, not a FAIL */
	const char *const out_options[] = { "--log", "--trace-dat", "--timeline" };
	const char *const out_paths[] = { log_path, trace_dat_path, timeline_path };

	if (!sim_outfile_check_set(out_options, out_paths, G_N_ELEMENTS(out_paths), &error))
		return kvmsim_usage_error("%s", error->message);
	if (trace_dat_path)
		setup.trace_dat = trace_dat = sim_tracedat_new();
	/* every trace is read and checked before any runs */
	for (guint i = 0; files[i]; i++) {
		Trace *trace = trace_load(files[i], &error);

		if (!trace)
			return kvmsim_usage_error("%s", error->message);
		if (watchdog > 0)
			trace->watchdog = (guint64)watchdog;
		trace->log_hook = setup_log;
		trace->log_hook_data = &setup;
		trace->mutations |= mutations;
		g_ptr_array_add(traces, trace);
	}
	if (token)
		return replay_token(g_ptr_array_index(traces, 0), token);
	for (guint i = 0; i < traces->len; i++) {
		const Trace *trace = g_ptr_array_index(traces, i);
		TraceReplayReport report;

		g_autofree gchar *mutated = sim_mutations_format(trace->mutations);

		printf("%s: %s trace%s%s, %u vCPU%s%s%s\n", trace->path, kind_of(trace),
		       trace->workload ? " of " : "", trace->workload ? trace->workload : "",
		       trace->nr_vcpus, trace->nr_vcpus == 1 ? "" : "s",
		       trace->mutations ? ", mutations " : "", mutated);
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
	if (trace_dat && !sim_tracedat_write(trace_dat, trace_dat_path, &error)) {
		fprintf(stderr, "kvmsim: error: --trace-dat %s\n", error->message);
		failed++;
	}
	printf("replay: %u passed, %u failed\n", passed, failed);
	return failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
}
