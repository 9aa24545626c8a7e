/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim explore TARGET: search the target's interleavings for a broken invariant. */
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"
#include "sim/core/counters.h"
#include "sim/core/outfile.h"
#include "sim/explore/explore.h"
#include "sim/explore/report.h"
#include "sim/explore/score.h"

typedef struct {
	gchar *strategy;
	gint64 depth;
	gint64 bound;
	gint64 seed;
	gint64 budget;
	gint64 time_budget;
	gint64 jobs;
	gint64 actor_budget;
	gint64 watchdog;
	gboolean no_shrink;
	gchar *out_path;
	gchar *html_path;
	gchar *token;
	gchar **mutate;
	gboolean mutation_score;
	gint64 nmi;
	gchar *nmi_touch;
} ExploreCmdOptions;

static void
options_clear(ExploreCmdOptions *o)
{
	g_free(o->strategy);
	g_free(o->out_path);
	g_free(o->html_path);
	g_free(o->token);
	g_strfreev(o->mutate);
	g_free(o->nmi_touch);
}

/* The options as search options; a usage error message otherwise. */
static gboolean
make_options(const ExploreCmdOptions *o, ExploreOptions *opts, GError **error)
{
	memset(opts, 0, sizeof(*opts));
	if (!explore_strategy_lookup(o->strategy, &opts->strategy)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--strategy: '%s' is not random, pct or dfs", o->strategy);
		return FALSE;
	}
	const struct {
		const char *name;
		gint64 value, min, max;
		gboolean set_ok; /* meaningful for this strategy */
	} checks[] = {
		{ "--depth", o->depth, 1, 64, opts->strategy == EXPLORE_PCT },
		{ "--preemption-bound", o->bound, 0, 64, opts->strategy == EXPLORE_DFS },
		{ "--seed", o->seed, 0, G_MAXINT64, TRUE },
		{ "--budget", o->budget, 1, G_MAXINT64, TRUE },
		{ "--time-budget", o->time_budget, 1, G_MAXINT64, TRUE },
		{ "--jobs", o->jobs, 1, 64, TRUE },
		{ "--actor-budget", o->actor_budget, 1, G_MAXINT64, TRUE },
		{ "--watchdog", o->watchdog, 1, G_MAXINT64, TRUE },
	};

	for (guint i = 0; i < G_N_ELEMENTS(checks); i++) {
		if (checks[i].value == -1)
			continue;
		if (!checks[i].set_ok) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "%s does not apply to --strategy %s", checks[i].name,
				    o->strategy);
			return FALSE;
		}
		if (checks[i].value < checks[i].min || checks[i].value > checks[i].max) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "%s must be between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
				    checks[i].name, checks[i].min, checks[i].max);
			return FALSE;
		}
	}
	opts->seed = o->seed >= 0 ? (guint64)o->seed : 1;
	opts->depth = o->depth >= 0 ? (guint)o->depth : 2;
	opts->preemption_bound = o->bound >= 0 ? (guint)o->bound : 2;
	opts->budget = o->budget >= 0 ? (guint64)o->budget : 0;
	opts->time_budget = o->time_budget >= 0 ? (guint64)o->time_budget : 0;
	opts->jobs = o->jobs >= 0 ? (guint)o->jobs : 1;
	opts->shrink = !o->no_shrink;
	return TRUE;
}

/* The outcome, in a fixed order and nothing that depends on wall time or on --jobs. */
/* What the target is, for the first line. */
static const char *
target_kind(const ExploreTarget *t)
{
	return !t->trace ? "workload" : t->trace->workload ? "full-system trace" : "exit-level trace";
}

/* How to run a token again: replay takes a trace (and the mutations planted on top of its
 * own); a workload's goes through explore. */
static void
print_token(const ExploreTarget *target, const ExploreRun *s, const char *again,
	    gchar **mutate)
{
	g_autofree gchar *token = explore_token_encode(
		(const ExploreChoice *)s->deviations->data, s->deviations->len);

	printf("token: %s\n", token);
	if (!target->trace || target->amended) {
		printf("replay: kvmsim explore %s --token %s\n", again, token);
		return;
	}
	printf("replay: kvmsim replay");
	for (guint i = 0; mutate && mutate[i]; i++)
		printf(" --mutate %s", mutate[i]);
	printf(" --token %s %s\n", token, target->name);
}

static void
print_result(const ExploreTarget *target, const ExploreOptions *opts, const ExploreResult *r,
	     const char *again, gchar **mutate)
{
	printf("explore %s: %s, strategy %s", target->name, target_kind(target),
	       explore_strategy_name(opts->strategy));
	if (opts->strategy == EXPLORE_PCT)
		printf(" depth %u", opts->depth);
	if (opts->strategy == EXPLORE_DFS)
		printf(" preemption bound %u", opts->preemption_bound);
	printf(", seed %" G_GUINT64_FORMAT "\n", opts->seed);
	printf("schedules: %" G_GUINT64_FORMAT " run, %" G_GUINT64_FORMAT " distinct, %"
	       G_GUINT64_FORMAT " steps\n", r->schedules, r->distinct, r->steps);
	printf("coverage: %u yield-point pairs, %u probes:", r->pairs, r->probes);
	for (guint i = 0, probe = 0; i < SIM_CTR_COUNT; i++) {
		if (!g_str_has_prefix(sim_counter_name(i), "probes."))
			continue;
		if (r->probe_bits & (1ull << probe))
			printf(" %s", sim_counter_name(i) + strlen("probes."));
		probe++;
	}
	printf("\n");
	if (opts->strategy == EXPLORE_PCT && r->pct_k) {
		/* the bound of the paper's Theorem: 1 / (n * k^(d-1)) */
		gdouble denom = r->nr_actors;

		for (guint i = 1; i < opts->depth; i++)
			denom *= (gdouble)r->pct_k;
		printf("pct: n %u actors, k %" G_GUINT64_FORMAT " choices (the most of the first %u "
		       "schedule%s), depth %u: a schedule finds a depth-%u bug with probability >= "
		       "1/%.0f\n", r->nr_actors, r->pct_k, r->pct_calibration,
		       r->pct_calibration == 1 ? "" : "s", opts->depth, opts->depth, denom);
	}
	if (opts->strategy == EXPLORE_DFS && !r->failed)
		printf("dfs: %s\n", r->exhausted ? "exhausted: every schedule within the bound ran" :
						   "not exhausted: the budget ended the search");
	if (r->stopped_by_time)
		printf("time budget: %" G_GUINT64_FORMAT " logical steps reached\n",
		       opts->time_budget);
	if (!r->failed) {
		printf("verdict: every invariant held\n");
		return;
	}
	const ExploreRun *f = &r->found, *s = &r->shrunk;

	printf("FAIL invariant %s in schedule %" G_GUINT64_FORMAT " at step %" G_GUINT64_FORMAT
	       ", actor %s\n", f->invariant, r->failing_schedule, f->step,
	       f->actor ? f->actor : "-");
	printf("  %s\n", f->detail);
	printf("  actors: %s\n", f->actors);
	printf("shrunk: %u deviation%s (%u preemption%s) from %u, in %u runs; fails %s at step %"
	       G_GUINT64_FORMAT ", actor %s\n", s->deviations->len,
	       s->deviations->len == 1 ? "" : "s", s->preemptions, s->preemptions == 1 ? "" : "s",
	       f->deviations->len, r->shrink_runs, s->failed ? s->invariant : "nothing", s->step,
	       s->actor ? s->actor : "-");
	if (s->failed)
		printf("  %s\n", s->detail);
	printf("schedule (%u steps):\n", s->steps_taken ? s->steps_taken->len : 0);
	for (guint i = 0; s->steps_taken && i < s->steps_taken->len; i++) {
		const SimStep *st = g_ptr_array_index(s->steps_taken, i);

		printf("  %3u %-10s until %s", i + 1, st->actor, st->until);
		if (st->count > 1)
			printf(" (%u times)", st->count);
		printf("\n");
	}
	print_token(target, s, again, mutate);
}

/* Write what was asked for: the shrunk schedule as a trace, the HTML report. */
static gboolean
write_outputs(const ExploreCmdOptions *o, const ExploreTarget *target, ExploreRun *s,
	      GError **error)
{
	if (o->out_path) {
		g_autoptr(Trace) out = explore_run_to_trace(target, s);

		if (!trace_save(out, o->out_path, error))
			return FALSE;
		printf("written: %s\n", o->out_path);
	}
	if (o->html_path) {
		ExploreRun logged;

		/* the shrunk schedule once more, with its event log */
		if (!explore_run_schedule(target, (const ExploreChoice *)s->deviations->data,
					  s->deviations->len, TRUE, TRUE, &logged, error))
			return FALSE;
		gboolean ok = explore_report_html(target, &logged, o->html_path, error);

		explore_run_clear(&logged);
		if (!ok)
			return FALSE;
		printf("written: %s\n", o->html_path);
	}
	return TRUE;
}

/* --token: run the token's schedule once, print its verdict, write what was asked for. */
static int
explore_token_run(const ExploreCmdOptions *o, const ExploreTarget *target, const char *again)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) devs = explore_token_decode(o->token, &error);
	ExploreRun run;
	int status;

	if (!devs)
		return kvmsim_usage_error("--token: %s", error->message);
	if (!explore_run_schedule(target, (const ExploreChoice *)devs->data, devs->len, TRUE,
				  FALSE, &run, &error))
		return kvmsim_usage_error("%s", error->message);
	printf("explore %s: %s, the schedule of token %s\n", target->name, target_kind(target),
	       o->token);
	if (explore_token_unapplied(devs, &run))
		printf("note: %u of the token's %u deviations did not apply: it was made on another "
		       "target, or the model changed since\n", explore_token_unapplied(devs, &run),
		       devs->len);
	if (run.failed)
		printf("FAIL invariant %s at step %" G_GUINT64_FORMAT ", actor %s\n  %s\n",
		       run.invariant, run.step, run.actor ? run.actor : "-", run.detail);
	else
		printf("verdict: every invariant held (%" G_GUINT64_FORMAT " steps)\n", run.steps);
	status = run.failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
	if (!write_outputs(o, target, &run, &error)) {
		fflush(stdout);
		status = kvmsim_usage_error("%s", error->message);
	}
	explore_run_clear(&run);
	return status;
}

/* --nmi K on a trace target: K <nmi> events, the i-th on vcpu(i mod vCPUs)'s host CPU, with no
 * sleep: every strategy then chooses at which yield point each fires. */
static void
add_nmis(Trace *trace, guint count, guint touch)
{
	for (guint i = 0; i < count; i++) {
		TraceEvent e = { .kind = TRACE_EV_NMI,
				 .actor = g_strdup_printf("nmi%u", i % trace->nr_vcpus),
				 .touch = touch };

		g_array_append_val(trace->events, e);
	}
}

/*
 * The target: a trace file, or a workload with kvmsim run's options (whatever explore does not
 * take itself is run's). Loaded into *trace or *cfg (and *image); a usage error message otherwise.
 */
static gboolean
load_target(int argc, char **argv, const ExploreCmdOptions *o, ExploreTarget *target,
	    Trace **trace, SimVmmConfig *cfg, GBytes **image, GError **error)
{
	SimMutations mutations;
	guint nmis, touch;

	if (!kvmsim_parse_mutations(o->mutate, &mutations, error) ||
	    !kvmsim_parse_nmi(o->nmi, o->nmi_touch, &nmis, &touch, error))
		return FALSE;
	if (argc < 2) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "explore takes one TARGET: a trace, or a workload (see kvmsim list)");
		return FALSE;
	}
	if (g_str_has_suffix(argv[1], ".xml") || g_file_test(argv[1], G_FILE_TEST_EXISTS)) {
		if (argc > 2) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "%s: a trace target takes no %s (kvmsim run's options go with a "
				    "workload target)", argv[2], argv[2][0] == '-' ? "option" :
				    "second target");
			return FALSE;
		}
		*trace = trace_load(argv[1], error);
		if (!*trace)
			return FALSE;
		(*trace)->mutations |= mutations;
		add_nmis(*trace, nmis, touch);
		target->amended = nmis > 0;
		target->trace = *trace;
		target->name = (*trace)->path;
		return TRUE;
	}
	*cfg = (SimVmmConfig)SIM_VMM_CONFIG_INIT;
	if (!kvmsim_run_config(argc, argv, o->seed >= 0 ? (guint64)o->seed : 1, cfg, image, error))
		return FALSE;
	cfg->mutations |= mutations;
	if (nmis) {
		cfg->nr_nmis = nmis;
		cfg->nmi_touch = touch;
	}
	target->config = cfg;
	target->name = cfg->guest_path ? cfg->guest_path : cfg->workload;
	return TRUE;
}

/* --strategy for the score: a comma-separated list of searches and "steps" (default
 * "dfs,steps"), each search with the options that apply to it. */
static GArray *
score_strategies(const ExploreCmdOptions *o, GError **error)
{
	g_auto(GStrv) names = g_strsplit(o->strategy ? o->strategy : "dfs,steps", ",", -1);
	g_autoptr(GArray) list = g_array_new(FALSE, TRUE, sizeof(ExploreScoreStrategy));

	for (guint i = 0; names[i]; i++) {
		ExploreScoreStrategy s = { .steps = strcmp(names[i], "steps") == 0 };
		ExploreCmdOptions so = *o;
		ExploreStrategy kind;

		if (!s.steps) {
			so.strategy = names[i];
			if (explore_strategy_lookup(names[i], &kind)) {
				/* another strategy's option is not an error of this one */
				so.depth = kind == EXPLORE_PCT ? o->depth : -1;
				so.bound = kind == EXPLORE_DFS ? o->bound : -1;
				so.jobs = kind != EXPLORE_DFS ? o->jobs : -1;
			}
			if (!make_options(&so, &s.search, error)) {
				g_prefix_error(error,
					       "--mutation-score (random, pct, dfs or steps): ");
				return NULL;
			}
		}
		g_array_append_val(list, s);
	}
	return g_steal_pointer(&list);
}

/* kvmsim explore --mutation-score TARGET...: the table of which target and strategy kill each
 * mutation; exit 0 only if every unsafe one was killed and no safe one. */
static int
mutation_score(const ExploreCmdOptions *o, char **paths)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) strategies = score_strategies(o, &error);
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func((GDestroyNotify)trace_free);
	g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(ExploreScoreRow));
	SimMutations base;

	if (!strategies)
		return kvmsim_usage_error("%s", error->message);
	if (!kvmsim_parse_mutations(o->mutate, &base, &error))
		return kvmsim_usage_error("%s", error->message);
	if (o->out_path || o->html_path || o->token)
		return kvmsim_usage_error("--out, --html and --token are for one search, not the "
					  "score");
	for (guint i = 0; paths[i]; i++) {
		Trace *trace = trace_load(paths[i], &error);

		if (!trace)
			return kvmsim_usage_error("%s", error->message);
		if (o->watchdog > 0)
			trace->watchdog = (guint64)o->watchdog;
		trace->mutations |= base;
		g_ptr_array_add(targets, trace);
	}
	if (!targets->len)
		return kvmsim_usage_error("--mutation-score needs at least one TARGET");
	if (!explore_mutation_score((Trace *const *)targets->pdata, targets->len,
				    (const ExploreScoreStrategy *)strategies->data, strategies->len,
				    o->actor_budget > 0 ? (guint64)o->actor_budget : 0, rows,
				    &error)) {
		explore_score_rows_clear(rows);
		return kvmsim_usage_error("%s", error->message);
	}
	gboolean good = explore_score_print(stdout, (Trace *const *)targets->pdata, targets->len,
					    (const ExploreScoreStrategy *)strategies->data,
					    strategies->len, rows);

	explore_score_rows_clear(rows);
	return good ? KVMSIM_EXIT_OK : KVMSIM_EXIT_FAIL;
}

int
kvmsim_cmd_explore(int argc, char **argv)
{
	ExploreCmdOptions o = { .depth = -1, .bound = -1, .seed = -1, .budget = -1,
				.time_budget = -1, .jobs = -1, .actor_budget = -1, .watchdog = -1 };
	const GOptionEntry entries[] = {
		{ "strategy", 0, 0, G_OPTION_ARG_STRING, &o.strategy,
		  "random (default), pct or dfs", "NAME" },
		{ "depth", 0, 0, G_OPTION_ARG_INT64, &o.depth, "PCT: bug depth (default 2)", "D" },
		{ "preemption-bound", 0, 0, G_OPTION_ARG_INT64, &o.bound,
		  "DFS: preemptions per schedule at most (default 2)", "K" },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed,
		  "Seed of random and PCT, and a workload machine's (default 1)", "N" },
		{ "budget", 0, 0, G_OPTION_ARG_INT64, &o.budget,
		  "Schedules at most (random, PCT default 1000; DFS: until exhausted)", "N" },
		{ "time-budget", 0, 0, G_OPTION_ARG_INT64, &o.time_budget,
		  "Logical steps over all schedules at most", "STEPS" },
		{ "jobs", 0, 0, G_OPTION_ARG_INT64, &o.jobs,
		  "Worker processes (the output does not depend on it)", "J" },
		{ "actor-budget", 0, 0, G_OPTION_ARG_INT64, &o.actor_budget,
		  "Yield points one actor may pass before it counts as a livelock (default 2^20)",
		  "N" },
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &o.watchdog,
		  "Yield points without progress before a livelock (default 65536)", "N" },
		{ "mutate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.mutate,
		  "Plant this protocol bug (kvmsim list --mutations; repeatable)", "NAME" },
		{ "nmi", 0, 0, G_OPTION_ARG_INT64, &o.nmi,
		  "Add K NMIs: to a trace, on its vCPUs' host CPUs, fired wherever the strategy "
		  "picks; to a workload, as kvmsim run --nmi does", "K" },
		{ "nmi-touch", 0, 0, G_OPTION_ARG_STRING, &o.nmi_touch,
		  "What their handlers read: none, kernel, user (default), page-cache, guest-ram",
		  "KIND" },
		{ "no-shrink", 0, 0, G_OPTION_ARG_NONE, &o.no_shrink,
		  "Report the failing schedule as found", NULL },
		{ "token", 0, 0, G_OPTION_ARG_STRING, &o.token,
		  "Run the schedule of this replay token once instead of searching", "TOKEN" },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out_path,
		  "Write the (shrunk) failing schedule as a trace that replays the failure", "FILE" },
		{ "html", 0, 0, G_OPTION_ARG_FILENAME, &o.html_path,
		  "Write a self-contained HTML report of the failing schedule", "FILE" },
		{ "mutation-score", 0, 0, G_OPTION_ARG_NONE, &o.mutation_score,
		  "Run every protocol mutation against TARGET... (traces) and print which target "
		  "and strategy kill it (--strategy: a list, default dfs,steps)", NULL },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("TARGET [RUN-OPTION...] - search "
							     "interleavings");
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) trace = NULL;
	g_autoptr(GBytes) image = NULL;
	SimVmmConfig cfg;
	ExploreTarget target = { 0 };
	ExploreOptions opts;
	ExploreResult result;
	int status;

	g_option_context_set_summary(ctx, "Runs TARGET under many schedules and checks every "
					  "invariant (kvmsim list --invariants)\nat every step; exits 1 "
					  "if one breaks, with a shrunk schedule and a replay token.\n"
					  "TARGET is a trace (its machine and events; its schedule is "
					  "replaced by the\nsearch) or a workload followed by kvmsim "
					  "run's options (kvmsim run --help).");
	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_set_ignore_unknown_options(ctx, TRUE);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	if (o.mutation_score) {
		status = mutation_score(&o, argv + 1);
		options_clear(&o);
		return status;
	}
	if (!o.strategy)
		o.strategy = g_strdup("random");
	/* how to name this target again: the command line's target and run options (parsing
	 * run's options takes them out of argv) */
	g_autofree gchar *rest = g_strjoinv(" ", argv + 1);
	GString *name_again = g_string_new(rest);

	if (o.seed >= 0)
		g_string_append_printf(name_again, " --seed %" G_GINT64_FORMAT, o.seed);
	for (guint i = 0; o.mutate && o.mutate[i]; i++)
		g_string_append_printf(name_again, " --mutate %s", o.mutate[i]);
	if (o.nmi > 0)
		g_string_append_printf(name_again, " --nmi %" G_GINT64_FORMAT "%s%s", o.nmi,
				       o.nmi_touch ? " --nmi-touch " : "",
				       o.nmi_touch ? o.nmi_touch : "");
	g_autofree gchar *again = g_string_free(name_again, FALSE);

	if (!make_options(&o, &opts, &error) ||
	    !load_target(argc, argv, &o, &target, &trace, &cfg, &image, &error)) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	const char *paths[] = { o.out_path, o.html_path };
	const char *names[] = { "--out", "--html" };

	if (!sim_outfile_check_set(names, paths, G_N_ELEMENTS(paths), &error)) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	target.watchdog = o.watchdog > 0 ? (guint64)o.watchdog : 0;
	target.actor_budget = o.actor_budget > 0 ? (guint64)o.actor_budget : 0;
	if (o.token) {
		status = explore_token_run(&o, &target, again);
		options_clear(&o);
		return status;
	}
	if (!explore_search(&target, &opts, &result, &error)) {
		options_clear(&o);
		explore_result_clear(&result);
		return kvmsim_usage_error("%s", error->message);
	}
	print_result(&target, &opts, &result, again, o.mutate);
	status = result.failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
	if (result.failed && !write_outputs(&o, &target, &result.shrunk, &error)) {
		fflush(stdout);
		status = kvmsim_usage_error("%s", error->message);
	}
	explore_result_clear(&result);
	options_clear(&o);
	return status;
}
