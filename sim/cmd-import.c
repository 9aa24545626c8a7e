/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim import CAPTURE -o TRACE.xml: a kvm/kvmmmu capture as an exit-level trace (import.h). */
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"
#include "sim/core/outfile.h"
#include "sim/trace/import.h"
#include "sim/trace/replay.h"

/* Each line not modelled, then how many of each reason. */
static void
print_notes(const char *path, const ImportReport *rep)
{
	g_autoptr(GHashTable) counts = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) order = g_ptr_array_new();

	for (guint i = 0; i < rep->notes->len; i++) {
		const ImportNote *n = &g_array_index(rep->notes, ImportNote, i);
		guint c = GPOINTER_TO_UINT(g_hash_table_lookup(counts, n->reason));

		printf("%s:%u: %s: %s%s%s\n", path, n->line, n->event, n->reason,
		       n->detail ? ": " : "", n->detail ? n->detail : "");
		if (!c)
			g_ptr_array_add(order, n->reason);
		g_hash_table_insert(counts, n->reason, GUINT_TO_POINTER(c + 1));
	}
	for (guint i = 0; i < order->len; i++)
		printf("  not modelled %6u x %s\n",
		       GPOINTER_TO_UINT(g_hash_table_lookup(counts, order->pdata[i])),
		       (const char *)order->pdata[i]);
}

/* Replay the written trace: per event of the capture and per expectation, whether kvmsim's
 * model and the captured kernel agree (same) or not (different); what is not modelled was
 * listed above. */
static int
explain(const char *capture, const ImportReport *rep, const char *trace_path)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) trace = trace_load(trace_path, &error);
	TraceReplayReport rr;
	char *text = NULL;
	size_t len = 0;
	guint different = 0;
	FILE *out;
	gboolean ran;

	if (!trace)
		return kvmsim_usage_error("%s", error->message);
	printf("replay of %s against the capture, per event:\n", trace_path);
	out = open_memstream(&text, &len);
	ran = import_explain(capture, rep, trace, out, stdout, &rr, &different, &error);
	fclose(out);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	free(text);
	if (!ran) {
		printf("  the replay stopped: %s\n", error->message);
		return KVMSIM_EXIT_FAIL;
	}
	printf("per expectation:\n");
	for (guint i = 0; lines[i]; i++) {
		const char *l = g_strchug(lines[i]);

		if (g_str_has_prefix(l, "PASS  "))
			printf("  same       %s\n", l + 6);
		else if (g_str_has_prefix(l, "FAIL  "))
			printf("  different  %s\n", l + 6);
		else if (*l)
			printf("  %s\n", l);
	}
	printf("  %u same, %u different; %u event lines different\n", rr.passed, rr.failed,
	       different);
	return rr.failed || different ? KVMSIM_EXIT_FAIL : KVMSIM_EXIT_OK;
}

/* Check the options, import, write the trace whole (or nothing), report. */
int
kvmsim_cmd_import(int argc, char **argv)
{
	gchar *output = NULL;
	gchar **memslots = NULL, **files = NULL;
	gboolean strict = FALSE, do_explain = FALSE;
	const GOptionEntry entries[] = {
		{"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write the trace to FILE",
		 "FILE"},
		{"memslot", 0, 0, G_OPTION_ARG_STRING_ARRAY, &memslots,
		 "A memslot of the captured VM: guest-physical GPA, SIZE bytes at host address HVA "
		 "(repeatable; default: from the capture)",
		 "GPA,SIZE,HVA"},
		{"strict", 0, 0, G_OPTION_ARG_NONE, &strict,
		 "Fail (exit 2, no trace) if any kvm line is not modelled", NULL},
		{"explain", 0, 0, G_OPTION_ARG_NONE, &do_explain,
		 "Replay the trace and say per expectation whether kvmsim agrees with the capture",
		 NULL},
		{G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, "CAPTURE"},
		{NULL},
	};
	g_autoptr(GOptionContext) ctx = g_option_context_new("CAPTURE -o TRACE.xml - import a "
							     "kvm/kvmmmu capture");
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(ImportMemslot));
	g_autofree gchar *output_owned = NULL;
	g_auto(GStrv) memslots_owned = NULL, files_owned = NULL;
	ImportOptions options = {slots};
	ImportReport report = {0};
	g_autoptr(Trace) trace = NULL;
	int status;

	g_option_context_set_summary(ctx, "Reads a trace-cmd trace.dat, `trace-cmd report` text or "
					  "tracefs `trace` text of the kvm and\nkvmmmu events and "
					  "writes an exit-level kvmsim trace (docs/import.md).");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		return kvmsim_usage_error("%s", error->message);
	output_owned = output;
	memslots_owned = memslots;
	files_owned = files;
	if (!files || !files[0] || files[1])
		return kvmsim_usage_error("import takes exactly one CAPTURE");
	if (!output)
		return kvmsim_usage_error("import needs -o TRACE.xml");
	if (!strcmp(output, "-"))
		return kvmsim_usage_error(
			"-o -: the trace must be a file (it is loaded back to check "
			"it)");
	if (!sim_outfile_check(output, &error))
		return kvmsim_usage_error("-o %s", error->message);
	for (guint i = 0; memslots && memslots[i]; i++) {
		ImportMemslot m;

		if (!import_memslot_parse(memslots[i], &m, &error))
			return kvmsim_usage_error("%s", error->message);
		for (guint j = 0; j < slots->len; j++) {
			const ImportMemslot *o = &g_array_index(slots, ImportMemslot, j);

			if (m.gpa < o->gpa + o->size && o->gpa < m.gpa + m.size)
				return kvmsim_usage_error("--memslot %s: overlaps the memslot at "
							  "0x%" G_GINT64_MODIFIER "x",
							  memslots[i], o->gpa);
		}
		g_array_append_val(slots, m);
	}
	trace = trace_import(files[0], &options, &report, &error);
	if (!trace) {
		import_report_clear(&report);
		return kvmsim_usage_error("%s", error->message);
	}
	if (strict && report.notes->len) {
		const ImportNote *n = &g_array_index(report.notes, ImportNote, 0);

		status = kvmsim_usage_error("%s:%u: %s: %s%s%s (--strict; %u such lines)", files[0],
					    n->line, n->event, n->reason, n->detail ? ": " : "",
					    n->detail ? n->detail : "", report.notes->len);
		import_report_clear(&report);
		return status;
	}
	if (!trace_save(trace, output, &error)) {
		import_report_clear(&report);
		return kvmsim_usage_error("-o %s", error->message);
	}
	/* what was written must load: the schema and the reader's checks */
	g_autoptr(Trace) back = trace_load(output, &error);

	if (!back) {
		remove(output);
		import_report_clear(&report);
		fprintf(stderr, "kvmsim: error: the imported trace does not load: %s\n",
			error->message);
		return KVMSIM_EXIT_FAIL;
	}
	for (guint i = 0; i < report.invalidated->len; i++)
		printf("%s:%s\n", files[0], (const char *)report.invalidated->pdata[i]);
	print_notes(files[0], &report);
	printf("%s: %u events (%u kvm, %u others skipped, %u elisions, %u wrapped lines joined); "
	       "%u vCPU%s, %u memslot%s, %u exits, %u invalidations, %u agings, %u SPTE "
	       "expectations, %u "
	       "lines not modelled -> %s\n",
	       files[0], report.records, report.kvm_records, report.other, report.elisions,
	       report.joined, trace->nr_vcpus, trace->nr_vcpus == 1 ? "" : "s",
	       trace->memslots->len, trace->memslots->len == 1 ? "" : "s", report.exits,
	       report.invalidations, report.ages, report.sptes, report.notes->len, output);
	status = do_explain ? explain(files[0], &report, output) : KVMSIM_EXIT_OK;
	import_report_clear(&report);
	return status;
}
