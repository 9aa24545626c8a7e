/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Text captures: `trace-cmd report` output ("comm-pid [cpu] secs.usecs: event: body", the event
 * name padded) and tracefs's raw `trace` ("comm-pid [cpu] flags secs.usecs: event: body", with
 * an optional tgid column), as they arrive in bug reports: quoted with "> ", soft-wrapped by a
 * mail client (a line that is not an event continues the one before), shortened with elision
 * markers ("...", "....", "--", "[...]", "[snip]"), with headers ("# tracer: nop", "cpus=4",
 * "CPU 3 is empty", lost-events notes) and other events in between.
 */
#include "sim/trace/import-internal.h"

#include <string.h>

/* Free an ImportRecord (GDestroyNotify). */
void
import_record_free(gpointer p)
{
	ImportRecord *r = p;

	g_free(r->comm);
	g_free(r->system);
	g_free(r->event);
	g_free(r->body);
	g_free(r);
}

/* Lines that carry nothing: headers of report and of tracefs's trace file. */
static gboolean
is_header(const char *line)
{
	return line[0] == '#' || g_str_has_prefix(line, "cpus=") ||
	       g_str_has_prefix(line, "version =") ||
	       (g_str_has_prefix(line, "CPU") &&
		(strstr(line, " is empty") || strstr(line, " EVENTS]") ||
		 strstr(line, " buffer started")));
}

/* Whether a line is an elision marker: "...", "....", "--", "[...]", "[snip]", "<snip>", an
 * ellipsis. */
static gboolean
is_elision(const char *line)
{
	static const char *const markers[] = {"[...]", "[snip]", "<snip>", "\u2026"};

	if (strspn(line, ".") >= 3 && !line[strspn(line, ".")])
		return TRUE;
	if (strspn(line, "-") >= 2 && !line[strspn(line, "-")])
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(markers); i++)
		if (!strcmp(line, markers[i]))
			return TRUE;
	return FALSE;
}

/* Every event line of a text capture, wrapped lines joined, as ImportRecords. */
GPtrArray *
import_read_text(const char *path, ImportReport *report, GError **error)
{
	g_autofree gchar *text = NULL;
	gsize len;
	g_autoptr(GError) local = NULL;

	if (!g_file_get_contents(path, &text, &len, &local)) {
		g_set_error(error, G_FILE_ERROR, local->code, "%s: %s", path, local->message);
		return NULL;
	}
	if (!g_utf8_validate(text, (gssize)len, NULL)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s:1: not text (and no trace.dat)", path);
		return NULL;
	}
	/* comm may hold spaces and dashes ("CPU 0/KVM", "qemu-system-x86"): the last "-PID" before
	 * the cpu column ends it */
	g_autoptr(GRegex) record_re = g_regex_new(
		"^\\s*(.+)-(\\d+)\\s+(?:\\(\\s*[\\d-]+\\)\\s+)?\\[(\\d+)\\]\\s+(?:[\\w.]{4,5}\\s+)?"
		"(\\d+)\\.(\\d+):\\s+(\\w+):\\s*(.*)$",
		0, 0, NULL);
	g_autoptr(GRegex) quote_re = g_regex_new("^(>\\s?)+", 0, 0, NULL);
	GPtrArray *records = g_ptr_array_new_with_free_func(import_record_free);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	ImportRecord *last = NULL;

	for (guint i = 0; lines[i]; i++) {
		g_autofree gchar *unquoted =
			g_regex_replace_literal(quote_re, lines[i], -1, 0, "", 0, NULL);
		gchar *line = g_strstrip(unquoted);
		g_autoptr(GMatchInfo) m = NULL;

		if (!*line || is_header(line)) {
			continue;
		}
		if (is_elision(line)) {
			report->elisions++;
			last = NULL; /* nothing continues across an elision */
			continue;
		}
		if (!g_regex_match(record_re, line, 0, &m)) {
			if (last) {
				/* a soft wrap: the mail client broke the line at a space */
				const char *sep = *g_strchomp(last->body) ? " " : "";
				gchar *joined = g_strconcat(last->body, sep, line, NULL);

				g_free(last->body);
				last->body = joined;
				report->joined++;
			} else {
				ImportNote note = {i + 1, g_strdup("-"),
						   g_strdup("not a trace line (skipped)"), NULL};

				g_array_append_val(report->notes, note);
			}
			continue;
		}
		ImportRecord *r = g_new0(ImportRecord, 1);
		g_autofree gchar *pid = g_match_info_fetch(m, 2);
		g_autofree gchar *cpu = g_match_info_fetch(m, 3);
		g_autofree gchar *secs = g_match_info_fetch(m, 4);
		g_autofree gchar *frac = g_match_info_fetch(m, 5);
		guint64 scale = 1;

		if (strlen(frac) > 9)
			frac[9] = '\0';
		for (gsize d = strlen(frac); d < 9; d++)
			scale *= 10;
		r->line = i + 1;
		r->comm = g_strstrip(g_match_info_fetch(m, 1));
		r->pid = (gint)g_ascii_strtoll(pid, NULL, 10);
		r->cpu = (guint)g_ascii_strtoull(cpu, NULL, 10);
		r->ts_ns = g_ascii_strtoull(secs, NULL, 10) * 1000000000ull +
			   g_ascii_strtoull(frac, NULL, 10) * scale;
		r->event = g_match_info_fetch(m, 6);
		r->body = g_match_info_fetch(m, 7);
		g_ptr_array_add(records, r);
		last = r;
	}
	return records;
}
