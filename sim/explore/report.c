/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTML report of a failing schedule: one self-contained page (inline style, no script, no
 * external asset). One column (lane) per actor, one row per step of the schedule: the log lines
 * the step produced, in its actor's lane. The row where the invariant broke is highlighted.
 */
#include "sim/explore/report.h"

#include <stdio.h>
#include <string.h>

#include "sim/core/outfile.h"

static void
put_escaped(GString *out, const char *s, gssize len)
{
	for (gssize i = 0; len < 0 ? s[i] != '\0' : i < len; i++) {
		switch (s[i]) {
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		default:
			g_string_append_c(out, s[i]);
		}
	}
}

/* A log line "   STEP ACTOR     event: text": its actor's index (or -1) and where text starts. */
static gint
line_actor(const ExploreRun *run, const char *line, const char **rest)
{
	const char *p = line;
	gchar name[64];
	gsize n = 0;

	while (*p == ' ')
		p++;
	while (g_ascii_isdigit(*p))
		p++;
	while (*p == ' ')
		p++;
	while (p[n] && p[n] != ' ' && n + 1 < sizeof(name)) {
		name[n] = p[n];
		n++;
	}
	name[n] = '\0';
	*rest = p + n;
	while (**rest == ' ')
		(*rest)++;
	for (guint i = 0; i < run->actor_names->len; i++)
		if (strcmp(g_ptr_array_index(run->actor_names, i), name) == 0)
			return (gint)i;
	return -1;
}

static const char style[] =
	"body{font-family:sans-serif;margin:1.5em;color:#222}"
	"h1{font-size:1.3em}table{border-collapse:collapse;width:100%}"
	"th,td{border:1px solid #bbb;padding:4px 6px;vertical-align:top;text-align:left}"
	"th{background:#eee;position:sticky;top:0}"
	"td.n{color:#666;white-space:nowrap}"
	"pre{margin:0;font-size:12px;white-space:pre-wrap}"
	"tr.fail td{background:#fdd}tr.fail td.lane{border:2px solid #c00}"
	".inv{color:#b00;font-weight:bold}"
	".box{background:#fee;border:1px solid #c00;padding:.6em;margin:.8em 0}"
	"code{background:#f4f4f4;padding:1px 3px;word-break:break-all}";

/* One table row: the step number, its point, then the lines in the actor's lane. */
static void
put_row(GString *out, const ExploreRun *run, guint step, const char *until, gint actor,
	const GString *lines, gboolean failing)
{
	g_string_append_printf(out, "<tr%s><td class=\"n\">%u<br>",
			       failing ? " class=\"fail\" id=\"failing-step\"" : "",
			       step);
	put_escaped(out, until ? until : "", -1);
	g_string_append(out, "</td>");
	for (guint a = 0; a < run->actor_names->len; a++) {
		g_string_append(out, (gint)a == actor ? "<td class=\"lane\"><pre>" : "<td><pre>");
		if ((gint)a == actor)
			g_string_append_len(out, lines->str, lines->len);
		g_string_append(out, "</pre></td>");
	}
	g_string_append(out, "</tr>\n");
}

gboolean
explore_report_html(const ExploreTarget *target, const ExploreRun *run, const char *path,
		    GError **error)
{
	GString *out = g_string_new(NULL);
	g_autofree gchar *token = explore_token_encode(
		(const ExploreChoice *)run->deviations->data, run->deviations->len);
	g_auto(GStrv) lines = g_strsplit(run->log ? run->log : "", "\n", -1);
	g_autoptr(GString) cell = g_string_new(NULL);
	guint step = 0;
	gint actor = -1;
	gboolean ok;

	g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
			     "<title>kvmsim explore: ");
	put_escaped(out, run->failed ? run->invariant : "no failure", -1);
	g_string_append_printf(out, "</title><style>%s</style></head><body>\n<h1>kvmsim explore: ",
			       style);
	put_escaped(out, target->trace->path, -1);
	g_string_append(out, "</h1>\n<div class=\"box\">");
	if (run->failed) {
		g_string_append(out, "Invariant <span class=\"inv\">");
		put_escaped(out, run->invariant, -1);
		g_string_append_printf(out, "</span> broke at step %" G_GUINT64_FORMAT ", actor ",
				       run->step);
		put_escaped(out, run->actor ? run->actor : "-", -1);
		g_string_append(out, ".<br>");
		put_escaped(out, run->detail, -1);
	} else {
		g_string_append(out, "Every invariant held.");
	}
	g_string_append_printf(out, "<br>Replay token: <code>%s</code> (%u deviation%s from the "
			       "non-preemptive schedule)</div>\n", token, run->deviations->len,
			       run->deviations->len == 1 ? "" : "s");
	g_string_append(out, "<table><tr><th>step</th>");
	for (guint a = 0; a < run->actor_names->len; a++) {
		g_string_append(out, "<th>");
		put_escaped(out, g_ptr_array_index(run->actor_names, a), -1);
		g_string_append(out, "</th>");
	}
	g_string_append(out, "</tr>\n");
	/* set-up lines (actor main) first, in a row of their own */
	guint i = 0;

	for (; lines[i]; i++) {
		const char *rest;

		if (lines[i][0] && line_actor(run, lines[i], &rest) >= 0)
			break;
		put_escaped(cell, lines[i], -1);
		g_string_append_c(cell, '\n');
	}
	if (cell->len)
		g_string_append_printf(out, "<tr><td class=\"n\">set-up</td><td colspan=\"%u\"><pre>"
				       "%s</pre></td></tr>\n", run->actor_names->len, cell->str);
	g_string_truncate(cell, 0);
	/* then the steps: the log splits at each sim_switch line (a switch ends a step) */
	for (; lines[i]; i++) {
		const char *rest;
		gint a = line_actor(run, lines[i], &rest);
		gboolean inv = strstr(rest, "sim_invariant:") == rest;

		if (!lines[i][0])
			continue;
		if (strncmp(rest, "sim_switch:", 11) == 0) {
			if (actor >= 0 && step < (run->steps_taken ? run->steps_taken->len : 0))
				put_row(out, run, step + 1,
					((SimStep *)g_ptr_array_index(run->steps_taken, step))->until,
					actor, cell, FALSE);
			if (actor >= 0)
				step++;
			g_string_truncate(cell, 0);
			actor = -1;
			continue;
		}
		if (a >= 0)
			actor = a;
		if (inv)
			g_string_append(cell, "<span class=\"inv\">");
		/* the lane names the actor: the line keeps its step and event */
		const char *num = lines[i] + strspn(lines[i], " ");

		put_escaped(cell, num, (gssize)strspn(num, "0123456789"));
		g_string_append_c(cell, ' ');
		put_escaped(cell, rest, -1);
		g_string_append(cell, inv ? "</span>\n" : "\n");
	}
	if (actor >= 0)
		put_row(out, run, step + 1,
			run->steps_taken && step < run->steps_taken->len ?
				((SimStep *)g_ptr_array_index(run->steps_taken, step))->until : NULL,
			actor, cell, run->failed);
	g_string_append(out, "</table>\n</body></html>\n");
	SimOutFile file;

	ok = sim_outfile_open(&file, path, error);
	if (ok && fwrite(out->str, 1, out->len, file.fp) != out->len) {
		sim_outfile_abort(&file);
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: cannot write", path);
		ok = FALSE;
	} else if (ok) {
		ok = sim_outfile_commit(&file, error);
	}
	g_string_free(out, TRUE);
	return ok;
}
