/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim replay TRACE...: run each trace and check every expectation it makes. */
#include <stdio.h>

#include "sim/cmd.h"
#include "sim/core/outfile.h"
#include "sim/explore/explore.h"
#include "sim/trace/replay.h"

static const char *
kind_of(const Trace *trace)
{
	return trace->workload ? "full-system" : "exit-level";
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

	if (run.failed)
		printf("  FAIL  invariant %s at step %" G_GUINT64_FORMAT ", actor %s: %s\n",
		       run.invariant, run.step, run.actor ? run.actor : "-", run.detail);
	else
		printf("  PASS  every invariant held (%" G_GUINT64_FORMAT " steps)\n", run.steps);
	printf("replay: %u passed, %u failed\n", !run.failed, run.failed);
	explore_run_clear(&run);
	return status;
}

/* Load every trace first (a bad one is a usage error), then replay each and count. */
int
kvmsim_cmd_replay(int argc, char **argv)
{
	gchar **files = NULL;
	gchar **mutate = NULL;
	gchar *log_path = NULL;
	gchar *token = NULL;
	SimMutations mutations;
	gint64 watchdog = SIM_SCHED_DEFAULT_WATCHDOG;
	const GOptionEntry entries[] = {
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &watchdog,
		  "Yield points without progress before a step or a livelock fails (default 65536)",
		  "N" },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
		  "Write the event log of the replay to FILE (one TRACE only)", "FILE" },
		{ "token", 0, 0, G_OPTION_ARG_STRING, &token,
		  "Replay TRACE under the schedule of a replay token from kvmsim explore "
		  "(one TRACE)", "TOKEN" },
		{ "mutate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &mutate,
		  "Plant this protocol bug too, besides the trace's <mutations> (see kvmsim list "
		  "--mutations; repeatable)", "NAME" },
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
	gboolean mutations_ok = kvmsim_parse_mutations(mutate, &mutations, &error);

	g_strfreev(mutate);
	if (!mutations_ok) {
		g_strfreev(files);
		g_free(log_path);
		g_free(token);
		return kvmsim_usage_error("%s", error->message);
	}
	if (watchdog < 1) {
		g_strfreev(files);
		g_free(log_path);
		g_free(token);
		return kvmsim_usage_error("--watchdog must be positive");
	}
	if (!files || !files[0] || ((log_path || token) && files[1]) || (log_path && token)) {
		g_strfreev(files);
		g_free(log_path);
		g_free(token);
		return kvmsim_usage_error(log_path && token ? "--log and --token do not go together" :
					  token ? "--token takes exactly one TRACE" :
					  log_path ? "--log takes exactly one TRACE" :
						     "replay needs at least one TRACE");
	}
	/* the log's path is checked before anything runs: a bad one is a usage error, not a FAIL */
	if (log_path && !sim_outfile_check(log_path, &error)) {
		g_strfreev(files);
		g_free(log_path);
		g_free(token);
		return kvmsim_usage_error("--log %s", error->message);
	}
	/* every trace is read and checked before any runs */
	for (guint i = 0; files[i]; i++) {
		Trace *trace = trace_load(files[i], &error);

		if (!trace) {
			g_strfreev(files);
			g_free(log_path);
			g_free(token);
			return kvmsim_usage_error("%s", error->message);
		}
		trace->watchdog = (guint64)watchdog;
		trace->mutations |= mutations;
		g_ptr_array_add(traces, trace);
	}
	g_strfreev(files);
	if (token) {
		int status = replay_token(g_ptr_array_index(traces, 0), token);

		g_free(token);
		return status;
	}
	for (guint i = 0; i < traces->len; i++) {
		const Trace *trace = g_ptr_array_index(traces, i);
		TraceReplayReport report;

		g_autofree gchar *mutated = sim_mutations_format(trace->mutations);

		printf("%s: %s trace%s%s, %u vCPU%s%s%s\n", trace->path, kind_of(trace),
		       trace->workload ? " of " : "", trace->workload ? trace->workload : "",
		       trace->nr_vcpus, trace->nr_vcpus == 1 ? "" : "s",
		       trace->mutations ? ", mutations " : "", mutated);
		if (!trace_replay(trace, log_path, stdout, &report, &error)) {
			printf("  FAIL  %s\n", error->message);
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
