/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Marks: what the event log held as every TRACE_MARK_EVERY-th step of the schedule began. A
 * recording keeps them in its <steps> chunks; a replay takes its own at the same steps and
 * compares, so that when the log hashes differ it can say where the two logs first part without
 * anyone running anything again: after the last mark that agrees, and by the first that does not.
 * The replay keeps the text it logged since the last agreeing mark (never more than one chunk's
 * worth, unless the whole log is captured anyway) to show its first line there.
 */
#include "sim/trace/trace-internal.h"

#include <stdio.h>
#include <string.h>

#include "sim/core/log.h"
#include "sim/trace/replay.h"

#define DIGEST_PREFIX "sha256:"
#define STEP_LINES_SHOWN 4

/* The mark of the step about to begin: the clock, and the count and hash of the lines so far. */
static TraceMark
mark_now(SimSched *sched, guint step)
{
	SimLog *log = sim_sched_log(sched);
	g_autofree gchar *digest = log ? sim_log_digest(log) : NULL;
	TraceMark m = { step, digest != NULL, sim_sched_now(sched), digest ? sim_log_lines(log) : 0,
			"", 0 };

	if (digest)
		g_strlcpy(m.log, digest + strlen(DIGEST_PREFIX), sizeof(m.log));
	return m;
}

struct TraceRecording {
	GArray *marks;   /* TraceMark: step 0 (none), TRACE_MARK_EVERY, ... */
	GString *sums;   /* a hex digit per step ended */
};

/* SimMarkFn of a recording, at every step: its sum, and at every chunk its mark. */
static void
record_mark(SimSched *sched, guint step, gpointer data)
{
	TraceRecording *rec = data;
	TraceMark m = mark_now(sched, step);

	g_string_append_c(rec->sums, m.known ? m.log[0] : '0');
	if (step % TRACE_MARK_EVERY == 0)
		g_array_append_val(rec->marks, m);
}

/* Start recording the marks and sums of the run on sched. */
TraceRecording *
trace_recording_start(SimSched *sched)
{
	TraceRecording *rec = g_new0(TraceRecording, 1);
	TraceMark start = { 0 };

	rec->marks = g_array_new(FALSE, TRUE, sizeof(TraceMark));
	rec->sums = g_string_new(NULL);
	g_array_append_val(rec->marks, start);
	sim_sched_set_marks(sched, 1, record_mark, rec);
	return rec;
}

/* Give trace the marks and sums of its steps (the trace's schedule is the recorded one). */
void
trace_recording_apply(const TraceRecording *rec, Trace *trace)
{
	guint n = trace->steps->len;

	/* a mark as the run ended begins no chunk */
	for (guint i = 0; i < rec->marks->len; i++)
		if (g_array_index(rec->marks, TraceMark, i).step < MAX(n, 1))
			g_array_append_val(trace->marks, g_array_index(rec->marks, TraceMark, i));
	if (rec->sums->len == n)
		trace->step_sums = g_strdup(rec->sums->str);
}

void
trace_recording_free(TraceRecording *rec)
{
	if (!rec)
		return;
	g_array_free(rec->marks, TRUE);
	g_string_free(rec->sums, TRUE);
	g_free(rec);
}

struct TraceDivergence {
	const Trace *trace;
	SimLog *log;
	gboolean keep_text;        /* the whole log is captured: never drop it */
	guint next;                /* the next trace mark to compare */
	const TraceMark *agreed;   /* the last mark both logs agree on; NULL: none yet */
	gsize agreed_at;           /* the captured text's length there */
	guint64 agreed_lines;
	const TraceMark *parted;   /* the first mark they disagree on; NULL: none */
	TraceMark replayed;        /* the replay's mark there */
	gchar *first_line;         /* the replay's first line after agreed */
	gsize step_at;             /* the captured text's length as the last step ended */
	guint64 step_clock;
	gint64 parted_step;        /* the first step whose sum differs; -1: none */
	guint64 parted_clock;      /* the clock as it began */
	gchar *parted_text;        /* what the replay logged in it */
};

/* The first line of the text captured since agreed (without its newline), or NULL. */
static gchar *
first_line_since_agreed(TraceDivergence *d)
{
	const char *text = sim_log_text(d->log) + d->agreed_at;

	if (!*text)
		return NULL;
	return g_strndup(text, strcspn(text, "\n"));
}

/* The step that just ended (step - 1): does its sum match the recording's? */
static void
compare_sum(TraceDivergence *d, guint step, const TraceMark *got)
{
	const char *sums = d->trace->step_sums;
	gsize at = d->step_at;
	guint64 clock = d->step_clock;

	d->step_at = sim_log_text_len(d->log);
	d->step_clock = got->clock;
	if (!sums || d->parted_step >= 0 || step == 0 || step > d->trace->steps->len ||
	    (got->known && got->log[0] == sums[step - 1]))
		return;
	d->parted_step = step - 1;
	d->parted_clock = clock;
	d->parted_text = g_strndup(sim_log_text(d->log) + at, d->step_at - at);
}

/* SimMarkFn of a replay, at every step: compare its sum, and at a chunk the mark, with the
 * recording's. */
static void
compare_mark(SimSched *sched, guint step, gpointer data)
{
	TraceDivergence *d = data;
	const GArray *marks = d->trace->marks;
	const TraceMark *want = NULL;
	TraceMark got = mark_now(sched, step);

	compare_sum(d, step, &got);

	while (d->next < marks->len && g_array_index(marks, TraceMark, d->next).step < step)
		d->next++;
	if (d->next < marks->len && g_array_index(marks, TraceMark, d->next).step == step)
		want = &g_array_index(marks, TraceMark, d->next);
	if (!want || !want->known)
		return;
	if (d->parted) {
		/* nothing more to find in this chunk's text: keep only the next one's */
		if (!d->keep_text)
			sim_log_capture_drop(d->log);
		d->step_at = sim_log_text_len(d->log);
		return;
	}
	if (got.known && got.lines == want->lines && strcmp(got.log, want->log) == 0) {
		d->agreed = want;
		d->agreed_lines = got.lines;
		if (!d->keep_text)
			sim_log_capture_drop(d->log);
		d->agreed_at = d->step_at = sim_log_text_len(d->log);
		return;
	}
	d->parted = want;
	d->replayed = got;
	d->first_line = first_line_since_agreed(d);
	if (!d->keep_text)
		sim_log_capture_drop(d->log);
	d->step_at = sim_log_text_len(d->log);
}

/* Watch a replay of trace on sched for the first mark its log disagrees on; NULL if the trace has
 * no marks to compare. keep_text: the log is captured whole for other expectations. */
TraceDivergence *
trace_divergence_watch(const Trace *trace, SimSched *sched, SimLog *log, gboolean keep_text)
{
	TraceDivergence *d;
	guint every = 0;

	for (guint i = 0; i < trace->marks->len && !every; i++)
		every = (guint)g_array_index(trace->marks, TraceMark, i).step;
	if (!every && !trace->step_sums)
		return NULL;
	d = g_new0(TraceDivergence, 1);
	d->trace = trace;
	d->log = log;
	d->keep_text = keep_text;
	d->parted_step = -1;
	sim_log_capture(log);
	sim_sched_set_marks(sched, trace->step_sums ? 1 : every, compare_mark, d);
	return d;
}

/* Where the replay's log first parted from the recorded one, as far as the marks tell. */
void
trace_divergence_print(TraceDivergence *d, FILE *out)
{
	const TraceMark *a = d->agreed;

	if (!d->parted) {
		g_free(d->first_line);
		d->first_line = first_line_since_agreed(d);
	}
	if (a)
		fprintf(out, "        the logs agree up to schedule step %" G_GUINT64_FORMAT
			" (clock %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " lines; %s:%u) and",
			a->step, a->clock, a->lines, d->trace->path, a->line);
	else
		fprintf(out, "        from the start of the run");
	if (d->parted)
		fprintf(out, "%s differ by step %" G_GUINT64_FORMAT " (%s:%u): the recording "
			"had logged %" G_GUINT64_FORMAT " lines by clock %" G_GUINT64_FORMAT
			", the replay %" G_GUINT64_FORMAT " by clock %" G_GUINT64_FORMAT "\n",
			a ? "" : " the logs", d->parted->step, d->trace->path, d->parted->line,
			d->parted->lines,
			d->parted->clock, d->replayed.lines, d->replayed.clock);
	else if (a)
		fprintf(out, " differ after it, past the last mark\n");
	else
		fprintf(out, " the logs differ before any mark\n");
	if (d->parted_step < 0) {
		/* no sums to go finer: the replay's first line after the last agreement */
		if (d->first_line)
			fprintf(out, "        the replay's line %" G_GUINT64_FORMAT " there: %s\n",
				(a ? d->agreed_lines : 0) + 1, g_strchug(d->first_line));
		return;
	}
	g_auto(GStrv) lines = g_strsplit(d->parted_text, "\n", STEP_LINES_SHOWN + 1);
	const TraceStep *s = &g_array_index(d->trace->steps, TraceStep, d->parted_step);

	fprintf(out, "        first differing step: %" G_GINT64_FORMAT " (%s until %s; %s:%u), "
		"from clock %" G_GUINT64_FORMAT "; the replay logged in it:\n",
		d->parted_step + 1, s->step.actor, s->step.until, d->trace->path, s->line,
		d->parted_clock);
	for (guint i = 0; lines[i] && *lines[i]; i++)
		fprintf(out, "          %s\n",
			i < STEP_LINES_SHOWN ? g_strchug(lines[i]) : "...");
	if (!*d->parted_text)
		fprintf(out, "          (nothing)\n");
}

/*
 * A replay that stopped before its run's end: its log is cut short there, not different, unless
 * a mark or a step's sum had already disagreed (then that is said as for a log hash). Where it
 * stopped, whether the recording went on, and how far the sums or marks vouch for the log.
 */
void
trace_divergence_print_stopped(TraceDivergence *d, SimSched *sched, FILE *out)
{
	guint idx = sim_sched_step_index(sched), n = d->trace->steps->len;
	const TraceMark *a = d->agreed;

	if (d->parted || d->parted_step >= 0) {
		trace_divergence_print(d, out);
		return;
	}
	fprintf(out, "        the replay stopped at clock %" G_GUINT64_FORMAT " with %" G_GUINT64_FORMAT
		" lines logged, ", sim_sched_now(sched), sim_log_lines(d->log));
	if (idx < n) {
		const TraceStep *s = &g_array_index(d->trace->steps, TraceStep, idx);

		fprintf(out, "in schedule step %u of %u (%s until %s; %s:%u)%s\n", idx + 1, n,
			s->step.actor, s->step.until, d->trace->path, s->line,
			idx + 1 < n ? ", where the recording went on" : "");
	} else {
		fprintf(out, "after the %u steps of the recorded schedule\n", n);
	}
	if (d->trace->step_sums && MIN(idx, n) > 0)
		fprintf(out, "        its log agrees with the recording's through step %u (the sums of "
			"its steps)\n", MIN(idx, n));
	else if (a)
		fprintf(out, "        its log agrees with the recording's up to schedule step %"
			G_GUINT64_FORMAT " (clock %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
			" lines; %s:%u), the last mark it reached\n", a->step, a->clock, a->lines,
			d->trace->path, a->line);
	else
		fprintf(out, "        it reached no mark or step's end to compare its log at\n");
}

void
trace_divergence_free(TraceDivergence *d)
{
	if (!d)
		return;
	g_free(d->first_line);
	g_free(d->parted_text);
	g_free(d);
}
