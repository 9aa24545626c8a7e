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
	gchar **mutate;
	gboolean mutation_score;
	gchar **rest;
} ExploreCmdOptions;

static void
options_clear(ExploreCmdOptions *o)
{
	g_free(o->strategy);
	g_free(o->out_path);
	g_free(o->html_path);
	g_strfreev(o->mutate);
	g_strfreev(o->rest);
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
		{ "--jobs", o->jobs, 1, 64, opts->strategy != EXPLORE_DFS },
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
static void
print_result(const Trace *trace, const ExploreTarget *target, const ExploreOptions *opts,
	     const ExploreResult *r, SimMutations mutate)
{
	printf("explore %s: %s, strategy %s", trace->path,
	       trace->workload ? "full-system trace" : "exit-level trace",
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
		printf("pct: n %u actors, k %" G_GUINT64_FORMAT " choices, depth %u: a schedule finds "
		       "a depth-%u bug with probability >= 1/%.0f (k: the most choices of the first 64 schedules)\n", r->nr_actors, r->pct_k,
		       opts->depth, opts->depth, denom);
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
	g_autofree gchar *token = explore_token_encode(
		(const ExploreChoice *)s->deviations->data, s->deviations->len);

	printf("token: %s\n", token);
	/* the mutations --mutate added: the trace's own are in the file */
	printf("replay: kvmsim replay --token %s", token);
	for (guint m = 0; m < SIM_MUT_COUNT; m++)
		if (mutate & SIM_MUTATION_BIT(m))
			printf(" --mutate %s", sim_mutation_info(m)->name);
	printf(" %s\n", trace->path);
}

/* Write what was asked for: the shrunk schedule as a trace, the HTML report. */
static gboolean
write_outputs(const ExploreCmdOptions *o, const ExploreTarget *target, const ExploreResult *r,
	      GError **error)
{
	const ExploreRun *s = &r->shrunk;

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
mutation_score(ExploreCmdOptions *o, SimMutations base)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) strategies = score_strategies(o, &error);
	g_autoptr(GPtrArray) targets = g_ptr_array_new_with_free_func((GDestroyNotify)trace_free);
	g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(ExploreScoreRow));

	if (!strategies)
		return kvmsim_usage_error("%s", error->message);
	if (o->out_path || o->html_path)
		return kvmsim_usage_error("--out and --html are for one search, not the score");
	for (guint i = 0; o->rest && o->rest[i]; i++) {
		Trace *trace = trace_load(o->rest[i], &error);

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
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, "Seed of random and PCT (default 1)",
		  "N" },
		{ "budget", 0, 0, G_OPTION_ARG_INT64, &o.budget,
		  "Schedules at most (random, PCT default 1000; DFS: until exhausted)", "N" },
		{ "time-budget", 0, 0, G_OPTION_ARG_INT64, &o.time_budget,
		  "Logical steps over all schedules at most", "STEPS" },
		{ "jobs", 0, 0, G_OPTION_ARG_INT64, &o.jobs,
		  "Worker processes for random and PCT (output does not depend on it)", "J" },
		{ "actor-budget", 0, 0, G_OPTION_ARG_INT64, &o.actor_budget,
		  "Yield points one actor may pass before it counts as a livelock (default 2^20)",
		  "N" },
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &o.watchdog,
		  "Yield points without progress before a livelock (default 65536)", "N" },
		{ "no-shrink", 0, 0, G_OPTION_ARG_NONE, &o.no_shrink,
		  "Report the failing schedule as found", NULL },
		{ "out", 0, 0, G_OPTION_ARG_FILENAME, &o.out_path,
		  "Write the (shrunk) failing schedule as a trace that replays the failure", "FILE" },
		{ "html", 0, 0, G_OPTION_ARG_FILENAME, &o.html_path,
		  "Write a self-contained HTML report of the failing schedule", "FILE" },
		{ "mutation-score", 0, 0, G_OPTION_ARG_NONE, &o.mutation_score,
		  "Run every protocol mutation against TARGET... and print which target and "
		  "strategy kill it (--strategy: a list, default dfs,steps)", NULL },
		{ "mutate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o.mutate,
		  "Plant this protocol bug too, besides the target's <mutations> (see kvmsim list "
		  "--mutations; repeatable)", "NAME" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.rest, NULL, "TARGET" },
		{ NULL },
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("TARGET - search interleavings");
	g_autoptr(GError) error = NULL;
	ExploreOptions opts;
	ExploreResult result;
	int status;

	g_option_context_set_summary(ctx, "Runs TARGET (a trace: its machine and events; its schedule "
					  "is replaced by the\nsearch) under many schedules and checks "
					  "every invariant (kvmsim list --invariants)\nat every step. "
					  "Exits 1 if one breaks, with a shrunk schedule and a replay "
					  "token.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	if (o.mutation_score) {
		SimMutations base;
		int status_score;

		if (!kvmsim_parse_mutations(o.mutate, &base, &error)) {
			options_clear(&o);
			return kvmsim_usage_error("%s", error->message);
		}
		status_score = mutation_score(&o, base);
		options_clear(&o);
		return status_score;
	}
	if (!o.strategy)
		o.strategy = g_strdup("random");
	if (!make_options(&o, &opts, &error) || !o.rest || !o.rest[0] || o.rest[1]) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error ? error->message :
						   "explore takes exactly one TARGET");
	}
	const char *paths[] = { o.out_path, o.html_path };
	const char *names[] = { "--out", "--html" };

	for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
		if (paths[i] && !sim_outfile_check(paths[i], &error)) {
			options_clear(&o);
			return kvmsim_usage_error("%s %s", names[i], error->message);
		}
	}
	g_autoptr(Trace) trace = trace_load(o.rest[0], &error);

	if (!trace) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	if (o.watchdog > 0)
		trace->watchdog = (guint64)o.watchdog;
	SimMutations mutations;

	if (!kvmsim_parse_mutations(o.mutate, &mutations, &error)) {
		options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	trace->mutations |= mutations;
	ExploreTarget target = { .trace = trace,
				 .actor_budget = o.actor_budget > 0 ? (guint64)o.actor_budget : 0 };

	if (!explore_search(&target, &opts, &result, &error)) {
		options_clear(&o);
		explore_result_clear(&result);
		return kvmsim_usage_error("%s", error->message);
	}
	print_result(trace, &target, &opts, &result, mutations);
	status = result.failed ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
	if (result.failed && !write_outputs(&o, &target, &result, &error)) {
		fflush(stdout);
		status = kvmsim_usage_error("%s", error->message);
	}
	explore_result_clear(&result);
	options_clear(&o);
	return status;
}
