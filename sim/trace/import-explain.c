/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `kvmsim import --explain`: replay the imported trace and hold its event log against the
 * capture, event by event. Each kvm/kvmmmu line of the capture is "same" if the replay logged
 * the same event with the same meaning (its key below: what the model decides, without the
 * host's frame numbers, table addresses and guest RIPs, which a replay cannot share with a
 * capture), "different" if not, "not modelled" if the import reported it; what the replay
 * logged beyond the capture is "only in kvmsim". Lines are matched as multisets per key: the
 * capture's order is the schedule's, and what differs is what happened, not when.
 */
#include "sim/trace/import-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/log.h"
#include "sim/trace/replay.h"

#define PFN_BITS 0x000ffffffffff000ull

/* The VMX name of an SVM exit reason kvmsim takes, so AMD captures compare with the replay. */
static const char *
vmx_reason(const char *name)
{
	static const char *const map[][2] = {
		{"npf", "EPT_VIOLATION"}, {"hlt", "HLT"},
		{"io", "IO_INSTRUCTION"}, {"hypercall", "VMCALL"},
		{"vmmcall", "VMCALL"},	  {"interrupt", "EXTERNAL_INTERRUPT"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(map); i++)
		if (!strcmp(name, map[i][0]))
			return map[i][1];
	return name;
}

/* What a line means to the model, as a string; NULL for events not compared. */
static gchar *
explain_key(const char *event, const char *body, gboolean svm)
{
	unsigned long long a, b, c, d;
	int x, y, z;
	char s[128];

	if (!strcmp(event, "kvm_exit")) {
		const char *r = strstr(body, "reason ");
		const char *rip = r ? strstr(r, " rip ") : NULL;

		if (!rip)
			return NULL;
		g_autofree gchar *name = g_strndup(r + 7, (gsize)(rip - r - 7));

		return g_strdup_printf("%s: %s", event, vmx_reason(name));
	}
	if (!strcmp(event, "kvm_page_fault")) {
		const char *addr = strstr(body, "address ");

		if (!addr || sscanf(addr, "address %llx error_code %llx", &a, &b) != 2)
			return NULL;
		return g_strdup_printf("%s: %llx %s", event, a,
				       b & 2			? "write"
				       : b & (svm ? 0x10 : 0x4) ? "fetch"
								: "read");
	}
	if (!strcmp(event, "kvm_pio") || !strcmp(event, "kvm_hypercall") ||
	    !strcmp(event, "kvm_unmap_hva_range") || !strcmp(event, "kvm_age_hva")) {
		/* kvm_pio ends in a space a pasted capture loses */
		g_autofree gchar *text = g_strstrip(g_strdup(body));

		return g_strdup_printf("%s: %s", event, text);
	}
	if (!strcmp(event, "kvm_tdp_mmu_spte_changed") &&
	    sscanf(body, "as id %d gfn %llx level %d old_spte %llx new_spte %llx", &x, &a, &y, &b,
		   &c) == 5)
		return g_strdup_printf("%s: %d %llx %d %llx %llx", event, x, a, y, b & ~PFN_BITS,
				       c & ~PFN_BITS);
	if (!strcmp(event, "kvm_mmu_set_spte") &&
	    sscanf(body, "gfn %llx spte %llx (%*[rwxu-]) level %d", &a, &b, &y) == 3)
		return g_strdup_printf("%s: %llx %d %llx", event, a, y, b & ~PFN_BITS);
	if (!strcmp(event, "kvm_mmu_spte_requested") &&
	    sscanf(body, "gfn %llx pfn %llx level %d", &a, &b, &y) == 3)
		return g_strdup_printf("%s: %llx %d", event, a, y);
	if (!strcmp(event, "fast_page_fault") &&
	    sscanf(body,
		   "vcpu %*d gva %llx error_code %127s sptep %llx old %llx new %llx spurious %d "
		   "fixed %d",
		   &a, s, &d, &b, &c, &y, &z) == 7)
		return g_strdup_printf("%s: %llx %s %llx %llx %d %d", event, a, s, b & ~PFN_BITS,
				       c & ~PFN_BITS, y, z);
	return NULL;
}

/* The replay's log, as keys. */
typedef struct {
	GHashTable *counts; /* key -> number of replay lines with it */
} ReplayKeys;

/* The replay's log tap: count each line's key. */
static void
explain_tap(gpointer data, guint64 step, const char *actor, guint actor_nr, const char *event,
	    const char *body)
{
	ReplayKeys *rk = data;
	gchar *key = explain_key(event, body, FALSE);

	if (!key)
		return;
	g_hash_table_replace(
		rk->counts, key,
		GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(rk->counts, key)) + 1));
}

/* Trace.log_hook of the replay: tap its log. */
static void
explain_hook(SimLog *log, gpointer data)
{
	sim_log_set_tap(log, explain_tap, data);
}

/* Per event: same, different, not modelled, only in kvmsim. */
typedef struct {
	gchar *event;
	guint n[4];
} Tally;

/* The tally of event, made on first use (in order of first use: deterministic). */
static Tally *
tally_of(GPtrArray *tallies, const char *event)
{
	for (guint i = 0; i < tallies->len; i++) {
		Tally *t = g_ptr_array_index(tallies, i);

		if (!strcmp(t->event, event))
			return t;
	}
	Tally *t = g_new0(Tally, 1);

	t->event = g_strdup(event);
	g_ptr_array_add(tallies, t);
	return t;
}

/* Free a tally. */
static void
tally_free(gpointer p)
{
	Tally *t = p;

	g_free(t->event);
	g_free(t);
}

/* Orders C strings (for qsort of a key array). */
static int
compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Replay the import and compare its log with the capture line by line (import.h). */
gboolean
import_explain(const char *capture, const ImportReport *rep, Trace *trace, FILE *expectations,
	       FILE *out, TraceReplayReport *rr, guint *different, GError **error)
{
	ImportReport scratch = {0};
	g_autoptr(GPtrArray) records = NULL;
	g_autoptr(GHashTable) noted = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_autoptr(GPtrArray) tallies = g_ptr_array_new_with_free_func(tally_free);
	ReplayKeys rk = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
	gboolean svm = FALSE, ran;

	scratch.notes = g_array_new(FALSE, TRUE, sizeof(ImportNote));
	records = import_is_trace_dat(capture) ? import_read_dat(capture, &scratch, error)
					       : import_read_text(capture, &scratch, error);
	import_report_clear(&scratch);
	if (!records) {
		g_hash_table_destroy(rk.counts);
		return FALSE;
	}
	for (guint i = 0; i < rep->notes->len; i++)
		g_hash_table_add(noted,
				 GUINT_TO_POINTER(g_array_index(rep->notes, ImportNote, i).line));
	trace->log_hook = explain_hook;
	trace->log_hook_data = &rk;
	ran = trace_replay(trace, NULL, expectations, rr, error);
	trace->log_hook = NULL;
	if (!ran) {
		g_hash_table_destroy(rk.counts);
		return FALSE;
	}
	*different = 0;
	for (guint i = 0; i < records->len; i++) {
		const ImportRecord *r = g_ptr_array_index(records, i);
		const char *reason = strstr(r->body, "reason ");

		if (!strcmp(r->event, "kvm_exit") && reason && g_ascii_islower(reason[7]))
			svm = TRUE;
		if (g_hash_table_contains(noted, GUINT_TO_POINTER(r->line))) {
			tally_of(tallies, r->event)->n[2]++;
			continue;
		}
		g_autofree gchar *key = explain_key(r->event, r->body, svm);

		if (!key)
			continue;
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(rk.counts, key));

		if (n) {
			g_hash_table_replace(rk.counts, g_strdup(key), GUINT_TO_POINTER(n - 1));
			tally_of(tallies, r->event)->n[0]++;
			continue;
		}
		tally_of(tallies, r->event)->n[1]++;
		(*different)++;
		fprintf(out, "%s:%u: %s: different: %s\n", capture, r->line, r->event, r->body);
	}
	/* what the replay logged beyond the capture, in key order (not the table's) */
	guint n_keys = 0;
	g_autofree gpointer *keys = g_hash_table_get_keys_as_array(rk.counts, &n_keys);

	qsort(keys, n_keys, sizeof(gpointer), compare_strings);
	for (guint i = 0; i < n_keys; i++) {
		const char *colon = strchr(keys[i], ':');
		g_autofree gchar *event =
			g_strndup(keys[i], (gsize)(colon - (const char *)keys[i]));

		tally_of(tallies, event)->n[3] +=
			GPOINTER_TO_UINT(g_hash_table_lookup(rk.counts, keys[i]));
	}
	fprintf(out, "  %-26s %6s %10s %13s %15s\n", "event", "same", "different", "not modelled",
		"only in kvmsim");
	for (guint i = 0; i < tallies->len; i++) {
		const Tally *t = g_ptr_array_index(tallies, i);

		fprintf(out, "  %-26s %6u %10u %13u %15u\n", t->event, t->n[0], t->n[1], t->n[2],
			t->n[3]);
	}
	g_hash_table_destroy(rk.counts);
	return TRUE;
}
