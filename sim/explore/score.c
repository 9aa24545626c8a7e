/* SPDX-License-Identifier: GPL-2.0-only */
/* The mutation score: every protocol mutation against every target, first kill wins. */
#include "sim/explore/score.h"

#include <stdlib.h>
#include <string.h>

#include "sim/core/invariants.h"
#include "sim/trace/replay.h"

/* The target's own schedule under its mutations: killed if an expectation fails or an
 * invariant stops the run (a schedule the mutated run merely cannot follow is no kill). */
static void
score_steps(Trace *target, ExploreScoreRow *row)
{
	g_autoptr(GError) local = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *sink = open_memstream(&text, &len);
	TraceReplayReport report;
	gboolean ran = trace_replay(target, NULL, sink, &report, &local);
	char name[64];

	fclose(sink);
	free(text);
	row->runs++;
	if (ran && report.failed) {
		row->invariant = g_strdup("expectation");
	} else if (!ran && local && strstr(local->message, "invariant ") &&
		   sim_invariant_of_reason(strstr(local->message, "invariant "), name,
					   sizeof(name))) {
		row->invariant = g_strdup(name);
	} else {
		return;
	}
	row->killed = TRUE;
	row->schedules = 1;
	row->shrunk_deviations = 0;
	row->shrunk_steps = target->steps->len;
}

/* One search of one target; FALSE if the target cannot be run. */
static gboolean
score_search(Trace *target, const ExploreOptions *opts, guint64 actor_budget,
	     ExploreScoreRow *row, GError **error)
{
	ExploreTarget t = { .trace = target, .actor_budget = actor_budget };
	ExploreResult r;

	if (!explore_search(&t, opts, &r, error)) {
		explore_result_clear(&r);
		return FALSE;
	}
	row->runs += r.schedules;
	if (r.failed) {
		row->killed = TRUE;
		row->schedules = r.failing_schedule;
		row->shrunk_deviations = r.shrunk.deviations->len;
		row->shrunk_steps = r.shrunk.steps_taken ? r.shrunk.steps_taken->len : 0;
		row->invariant = g_strdup(r.shrunk.failed ? r.shrunk.invariant : r.found.invariant);
	}
	explore_result_clear(&r);
	return TRUE;
}

gboolean
explore_mutation_score(Trace *const *targets, guint n, const ExploreScoreStrategy *strategies,
		       guint n_strategies, guint64 actor_budget, GArray *rows, GError **error)
{
	for (guint m = 0; m < SIM_MUT_COUNT; m++) {
		ExploreScoreRow row = { .mutation = m };

		for (guint s = 0; s < n_strategies && !row.killed; s++) {
			for (guint i = 0; i < n && !row.killed; i++) {
				SimMutations own = targets[i]->mutations;
				gboolean ok = TRUE;

				targets[i]->mutations = own | SIM_MUTATION_BIT(m);
				if (strategies[s].steps)
					score_steps(targets[i], &row);
				else
					ok = score_search(targets[i], &strategies[s].search,
							  actor_budget, &row, error);
				targets[i]->mutations = own;
				if (!ok) {
					g_free(row.invariant);
					return FALSE;
				}
				row.target = i;
				row.strategy = s;
			}
		}
		g_array_append_val(rows, row);
	}
	return TRUE;
}

void
explore_score_rows_clear(GArray *rows)
{
	for (guint i = 0; i < rows->len; i++)
		g_free(g_array_index(rows, ExploreScoreRow, i).invariant);
	g_array_set_size(rows, 0);
}

/* "dfs (preemption bound 2, budget 1000 schedules)", "pct (depth 2, seed 1, ...)", "steps". */
static gchar *
strategy_text(const ExploreScoreStrategy *s)
{
	const ExploreOptions *o = &s->search;
	g_autofree gchar *budget = o->budget ?
		g_strdup_printf(", budget %" G_GUINT64_FORMAT " schedules", o->budget) :
		g_strdup(o->strategy == EXPLORE_DFS ? ", until exhausted" : "");

	if (s->steps)
		return g_strdup("steps (the target's own schedule and expectations)");
	if (o->strategy == EXPLORE_DFS)
		return g_strdup_printf("dfs (preemption bound %u%s)", o->preemption_bound, budget);
	if (o->strategy == EXPLORE_PCT)
		return g_strdup_printf("pct (depth %u, seed %" G_GUINT64_FORMAT "%s)", o->depth,
				       o->seed, budget);
	return g_strdup_printf("random (seed %" G_GUINT64_FORMAT "%s)", o->seed, budget);
}

static const char *
strategy_short(const ExploreScoreStrategy *s)
{
	return s->steps ? "steps" : explore_strategy_name(s->search.strategy);
}

gboolean
explore_score_print(FILE *out, Trace *const *targets, guint n,
		    const ExploreScoreStrategy *strategies, guint n_strategies, const GArray *rows)
{
	guint unsafe = 0, killed = 0, safe = 0, survived = 0;
	guint64 runs = 0;

	fprintf(out, "mutation score: %u mutations, %u target%s\n", rows->len, n,
		n == 1 ? "" : "s");
	for (guint i = 0; i < n; i++)
		fprintf(out, "  target %u: %s\n", i + 1, targets[i]->path);
	for (guint s = 0; s < n_strategies; s++) {
		g_autofree gchar *text = strategy_text(&strategies[s]);

		fprintf(out, "  strategy %u: %s\n", s + 1, text);
	}
	fprintf(out, "%-26s %-8s %-9s %-6s %-9s %-10s %-14s %s\n", "mutation", "expected",
		"verdict", "target", "strategy", "schedules", "shrunk", "broke");
	for (guint i = 0; i < rows->len; i++) {
		const ExploreScoreRow *r = &g_array_index(rows, ExploreScoreRow, i);
		const SimMutationInfo *info = sim_mutation_info(r->mutation);
		gboolean good = info->safe ? !r->killed : r->killed;

		runs += r->runs;
		if (info->safe) {
			safe++;
			survived += !r->killed;
		} else {
			unsafe++;
			killed += r->killed;
		}
		const char *verdict = r->killed ? (good ? "killed" : "KILLED!") :
						  (good ? "survived" : "SURVIVED!");

		fprintf(out, "%-26s %-8s %-9s", info->name, info->safe ? "safe" : "unsafe", verdict);
		if (!r->killed) {
			fprintf(out, " %-6s %-9s %-10s %-14s %s\n", "-", "-", "-", "-", "-");
			continue;
		}
		g_autofree gchar *shrunk = g_strdup_printf("%u dev, %u steps", r->shrunk_deviations,
							   r->shrunk_steps);

		fprintf(out, " %-6u %-9s %-10" G_GUINT64_FORMAT " %-14s %s\n", r->target + 1,
			strategy_short(&strategies[r->strategy]), r->schedules, shrunk,
			r->invariant);
	}
	fprintf(out, "score: %u/%u unsafe mutations killed, %u/%u safe ones survived; %"
		G_GUINT64_FORMAT " schedules run\n", killed, unsafe, survived, safe, runs);
	return killed == unsafe && survived == safe;
}
