/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From a capture's records to an exit-level trace. The kernel events read, by the formats of
 * arch/x86/kvm/trace.h, mmu/mmutrace.h and include/trace/events/kvm.h (as a v6.18 kernel's
 * tracefs shows them, and the older kvm_page_fault formats read in torvalds/linux history):
 *
 * - kvm_exit opens an exit of the vCPU (VMX names as in VMX_EXIT_REASONS, SVM names as in
 *   SVM_EXIT_REASONS; the kernel's layout or trace-cmd's kvm plugin's "reason X rip R info A B");
 *   kvm_page_fault, kvm_pio and kvm_hypercall that follow fill it in;
 * - kvm_unmap_hva_range is an MMU-notifier invalidation (start and end);
 * - kvm_tdp_mmu_spte_changed, kvm_mmu_set_spte and fast_page_fault give each gfn's leaf SPTE
 *   (EPT encoding: MMU-present bit 11, writable bit 1, pfn bits 12-51, large bit 7);
 * - kvmsim's own sim_memslot gives the memslots of a kvmsim capture.
 *
 * Everything else kvm does is a note "not modelled" with its line (import.h).
 */
#include "sim/trace/import-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Free what a report holds (the notes, the invalidated ranges). */
void
import_report_clear(ImportReport *report)
{
	if (!report->notes)
		return;
	for (guint i = 0; i < report->notes->len; i++) {
		ImportNote *n = &g_array_index(report->notes, ImportNote, i);

		g_free(n->event);
		g_free(n->reason);
		g_free(n->detail);
	}
	g_array_unref(report->notes);
	report->notes = NULL;
	g_clear_pointer(&report->invalidated, g_ptr_array_unref);
}

/* Parse --memslot GPA,SIZE,HVA: page-aligned, SIZE and HVA not 0, below 2^48. */
gboolean
import_memslot_parse(const char *text, ImportMemslot *out, GError **error)
{
	g_auto(GStrv) f = g_strsplit(text, ",", -1);
	guint64 v[3];

	if (g_strv_length(f) != 3)
		goto bad;
	for (guint i = 0; i < 3; i++) {
		char *end;
		guint64 mult = 1;
		gchar *s = g_strstrip(f[i]);

		if (!g_ascii_isdigit(s[0]))
			goto bad;
		v[i] = g_ascii_strtoull(s, &end, 0);
		if (i == 1 && *end && !end[1] && strchr("KMG", *end)) {
			mult = *end == 'K' ? 1ull << 10 : *end == 'M' ? 1ull << 20 : 1ull << 30;
			end++;
		}
		if (*end || (mult > 1 && v[i] > G_MAXUINT64 / mult))
			goto bad;
		v[i] *= mult;
	}
	if (!v[1] || (v[0] | v[1] | v[2]) & 0xfff || !v[2] || v[0] + v[1] < v[0] ||
	    v[0] + v[1] > 1ull << 48 || v[2] + v[1] < v[2]) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--memslot %s: GPA, SIZE and HVA must be page aligned, SIZE and HVA "
			    "not 0, and the slot below 2^48",
			    text);
		return FALSE;
	}
	out->gpa = v[0];
	out->size = v[1];
	out->hva = v[2];
	return TRUE;
bad:
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "--memslot %s: must be GPA,SIZE,HVA (e.g. 0x0,1G,0x7f0000000000)", text);
	return FALSE;
}

/* A line kvmsim does not model. */
void
import_note(Importer *im, const ImportRecord *r, const char *fmt, ...)
{
	va_list ap;
	ImportNote n = {r->line, g_strdup(r->event), NULL, NULL};

	va_start(ap, fmt);
	n.reason = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	/* "REASON|DETAIL": the reason is what notes are counted by, the detail is this line's */
	gchar *bar = strchr(n.reason, '|');

	if (bar) {
		*bar = '\0';
		n.detail = g_strdup(bar + 1);
	}
	g_array_append_val(im->rep->notes, n);
}

/* Orders notes by line. */
static gint
compare_notes(gconstpointer a, gconstpointer b)
{
	guint x = ((const ImportNote *)a)->line, y = ((const ImportNote *)b)->line;

	return x < y ? -1 : x > y;
}

/* Notes in capture order (those of the second pass come late); stable, so a line's own notes
 * keep theirs. */
void
import_sort_notes(ImportReport *report)
{
	g_array_sort(report->notes, compare_notes);
}

/* Whether an event name is one of the kvm or kvmmmu tracepoints (text has no system). */
static gboolean
is_kvm_event(const ImportRecord *r)
{
	static const char *const kvmmmu[] = {"fast_page_fault", "mark_mmio_spte",
					     "handle_mmio_page_fault", "check_mmio_spte"};

	if (r->system)
		return !strcmp(r->system, "kvm") || !strcmp(r->system, "kvmmmu") ||
		       !strcmp(r->system, "kvmsim");
	if (g_str_has_prefix(r->event, "kvm_") || g_str_has_prefix(r->event, "sim_"))
		return TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(kvmmmu); i++)
		if (!strcmp(r->event, kvmmmu[i]))
			return TRUE;
	return FALSE;
}

/* The "vcpu N" a kernel-format body starts with, or -1. */
static gint
body_vcpu(const ImportRecord *r)
{
	unsigned int v;

	if ((!strcmp(r->event, "kvm_exit") || !strcmp(r->event, "kvm_page_fault") ||
	     !strcmp(r->event, "kvm_entry") || !strcmp(r->event, "fast_page_fault")) &&
	    sscanf(r->body, " vcpu %u", &v) == 1 && v < IMPORT_MAX_VCPUS)
		return (gint)v;
	return -1;
}

/* Whether the event is one a vCPU thread logs. */
static gboolean
is_vcpu_event(const char *event)
{
	static const char *const names[] = {
		"kvm_exit",	 "kvm_entry", "kvm_page_fault",	 "kvm_pio",
		"kvm_hypercall", "kvm_mmio",  "fast_page_fault",
	};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		if (!strcmp(event, names[i]))
			return TRUE;
	return FALSE;
}

/* vCPU numbers by task: those the bodies name first, then the others in order of appearance. */
static void
map_vcpus(Importer *im, GPtrArray *records)
{
	gboolean used[IMPORT_MAX_VCPUS] = {FALSE};

	for (guint i = 0; i < records->len; i++) {
		const ImportRecord *r = g_ptr_array_index(records, i);
		gint v = body_vcpu(r);

		if (v >= 0 && !g_hash_table_contains(im->pid_vcpu, GINT_TO_POINTER(r->pid))) {
			g_hash_table_insert(im->pid_vcpu, GINT_TO_POINTER(r->pid),
					    GINT_TO_POINTER(v + 1));
			used[v] = TRUE;
		}
	}
	for (guint i = 0; i < records->len; i++) {
		const ImportRecord *r = g_ptr_array_index(records, i);
		guint v = 0;

		if (!is_vcpu_event(r->event) ||
		    g_hash_table_contains(im->pid_vcpu, GINT_TO_POINTER(r->pid)))
			continue;
		while (v < IMPORT_MAX_VCPUS && used[v])
			v++;
		if (v == IMPORT_MAX_VCPUS)
			continue;
		used[v] = TRUE;
		g_hash_table_insert(im->pid_vcpu, GINT_TO_POINTER(r->pid), GINT_TO_POINTER(v + 1));
	}
	for (guint v = 0; v < IMPORT_MAX_VCPUS; v++)
		if (used[v])
			im->nr_vcpus = v + 1;
}

/* The vCPU the record's task is (map_vcpus()), or -1. */
static gint
vcpu_of(Importer *im, const ImportRecord *r)
{
	return GPOINTER_TO_INT(g_hash_table_lookup(im->pid_vcpu, GINT_TO_POINTER(r->pid))) - 1;
}

/* Remember a gfn the capture names (for memslot inference). */
static void
add_gfn(Importer *im, guint64 gfn)
{
	g_array_append_val(im->gfns, gfn);
}

/* Finish the vCPU's open exit: an event if it has what it needs, a note otherwise. */
static void
flush_exit(Importer *im, gint vcpu, const ImportRecord *at)
{
	Pending *p = &im->pending[vcpu];

	if (p->kind == EXIT_NONE)
		return;
	if (p->kind == EXIT_IO && !p->filled && p->have_info1) {
		/* no kvm_pio line: the exit qualification (VMX) or EXITINFO1 (SVM) says it */
		guint64 q = p->info1;

		p->ev.in = im->svm ? q & 1 : (q >> 3) & 1;
		p->ev.io_size = im->svm ? ((q >> 4) & 7) : (guint)(q & 7) + 1;
		p->ev.port = (guint16)(q >> 16);
		p->filled = p->ev.io_size == 1 || p->ev.io_size == 2 || p->ev.io_size == 4;
	}
	if (p->kind == EXIT_HLT)
		p->filled = TRUE;
	if (p->filled) {
		Imported imp = {p->order, p->line, p->ev};

		imp.ev.actor = g_strdup_printf("vcpu%d", vcpu);
		imp.ev.line = p->line;
		g_array_append_val(im->imported, imp);
		im->rep->exits++;
	} else {
		ImportRecord r = {.line = p->line, .event = (gchar *)"kvm_exit"};

		import_note(im, &r, "%s exit without the line that says %s (elided?): not imported",
			    p->kind == EXIT_EPT	 ? "EPT violation"
			    : p->kind == EXIT_IO ? "IO"
						 : "hypercall",
			    p->kind == EXIT_EPT	 ? "its gpa (kvm_page_fault)"
			    : p->kind == EXIT_IO ? "its port (kvm_pio)"
						 : "its number (kvm_hypercall)");
	}
	memset(p, 0, sizeof(*p));
	(void)at;
}

/* kvm_exit: open an exit of the kinds exit-level traces have, note the others. */
static void
on_kvm_exit(Importer *im, const ImportRecord *r, guint order, gint vcpu)
{
	static const struct {
		const char *name;
		ExitKind kind;
		gboolean svm;
	} reasons[] = {
		{"EPT_VIOLATION", EXIT_EPT, FALSE},
		{"HLT", EXIT_HLT, FALSE},
		{"IO_INSTRUCTION", EXIT_IO, FALSE},
		{"VMCALL", EXIT_HC, FALSE},
		{"npf", EXIT_EPT, TRUE},
		{"hlt", EXIT_HLT, TRUE},
		{"io", EXIT_IO, TRUE},
		{"hypercall", EXIT_HC, TRUE},
		{"vmmcall", EXIT_HC, TRUE},
	};
	const char *reason = strstr(r->body, "reason ");
	const char *rip = reason ? strstr(reason, " rip ") : NULL;
	Pending *p = &im->pending[vcpu];
	unsigned long long a, b;
	const char *info;

	flush_exit(im, vcpu, r);
	if (!reason || !rip) {
		import_note(im, r, "kvm_exit in no format kvmsim knows");
		return;
	}
	g_autofree gchar *name = g_strndup(reason + 7, (gsize)(rip - reason - 7));

	if (g_ascii_islower(name[0]))
		im->svm = TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(reasons); i++) {
		if (strcmp(name, reasons[i].name) != 0)
			continue;
		p->kind = reasons[i].kind;
		p->order = order;
		p->line = r->line;
		p->ev.kind = p->kind == EXIT_EPT   ? TRACE_EV_EPT_VIOLATION
			     : p->kind == EXIT_HLT ? TRACE_EV_HLT
			     : p->kind == EXIT_IO  ? TRACE_EV_IO
						   : TRACE_EV_HYPERCALL;
		if ((info = strstr(rip, " info1 0x")) && sscanf(info, " info1 0x%llx", &a) == 1) {
			p->info1 = a;
			p->have_info1 = TRUE;
		} else if ((info = strstr(rip, " info ")) &&
			   sscanf(info, " info %llx %llx", &a, &b) == 2) {
			p->info1 = a; /* trace-cmd's kvm plugin */
			p->have_info1 = TRUE;
		}
		return;
	}
	if (!strcmp(name, "EPT_MISCONFIG"))
		import_note(im, r,
			    "MMIO exit (EPT misconfig): an exit-level trace has no MMIO event");
	else
		import_note(im, r, "exit reason %s: not an exit an exit-level trace takes", name);
}

/* kvm_page_fault, any of its three formats: "address %lx error_code %x" (until v5.x),
 * "vcpu %u rip 0x%lx address 0x%lx error_code %x", "vcpu %u rip 0x%lx address 0x%016llx
 * error_code 0x%llx" (v6.x; read in torvalds/linux history). */
static void
on_page_fault(Importer *im, const ImportRecord *r, guint order, gint vcpu)
{
	static GRegex *re;
	g_autoptr(GMatchInfo) m = NULL;
	Pending *p = &im->pending[vcpu];

	if (!re)
		re = g_regex_new("^(?:vcpu \\d+ rip 0x[0-9a-f]+ )?address (?:0x)?([0-9a-f]+) "
				 "error_code (?:0x)?([0-9a-f]+)$",
				 0, 0, NULL);
	if (!g_regex_match(re, r->body, 0, &m)) {
		import_note(im, r, "kvm_page_fault in no format kvmsim knows");
		return;
	}
	g_autofree gchar *addr = g_match_info_fetch(m, 1);
	g_autofree gchar *code = g_match_info_fetch(m, 2);
	guint64 gpa = g_ascii_strtoull(addr, NULL, 16), err = g_ascii_strtoull(code, NULL, 16);

	if (p->kind != EXIT_EPT && p->kind != EXIT_NONE) {
		import_note(im, r, "page fault on a non-EPT exit (shadow paging): not modelled");
		return;
	}
	if (p->kind == EXIT_NONE) {
		/* its kvm_exit was elided or before the capture: the fault alone says enough */
		p->kind = EXIT_EPT;
		p->order = order;
		p->line = r->line;
		p->ev.kind = TRACE_EV_EPT_VIOLATION;
	}
	p->ev.gpa = gpa;
	/* VMX: the exit qualification (bit 1 write, bit 2 fetch); SVM: the NPF error code
	 * (PFERR_WRITE bit 1, PFERR_FETCH bit 4) */
	p->ev.access = err & 2			      ? TRACE_ACCESS_WRITE
		       : err & (im->svm ? 0x10 : 0x4) ? TRACE_ACCESS_FETCH
						      : TRACE_ACCESS_READ;
	p->filled = TRUE;
	add_gfn(im, gpa >> 12);
	if (!g_hash_table_contains(im->leaves, &(guint64){gpa >> 12})) {
		guint64 *key = g_new(guint64, 1);

		*key = gpa >> 12;
		if (p->ev.access != TRACE_ACCESS_WRITE)
			g_hash_table_add(im->read_first, key);
		else
			g_free(key);
	}
}

/* kvm_pio: the port, size, direction and value of the vCPU's open IO exit. */
static void
on_pio(Importer *im, const ImportRecord *r, gint vcpu)
{
	Pending *p = &im->pending[vcpu];
	char rw[8];
	unsigned int port, val;
	int size, count;

	if (p->kind != EXIT_IO)
		return; /* an emulated access, no exit of its own */
	if (sscanf(r->body, "pio_%7[a-z] at 0x%x size %d count %d val 0x%x", rw, &port, &size,
		   &count, &val) != 5 ||
	    (size != 1 && size != 2 && size != 4) || port > 0xffff) {
		import_note(im, r, "kvm_pio in no format kvmsim knows");
		return;
	}
	if (count > 1)
		import_note(im, r, "string IO: imported as one access|count %d", count);
	p->ev.in = strcmp(rw, "read") == 0;
	p->ev.port = (guint16)port;
	p->ev.io_size = (guint)size;
	p->ev.value = p->ev.in ? 0 : val;
	p->filled = TRUE;
}

/* kvm_hypercall: the number and arguments of the vCPU's open VMCALL exit. */
static void
on_hypercall(Importer *im, const ImportRecord *r, gint vcpu)
{
	Pending *p = &im->pending[vcpu];
	unsigned long long v[5];

	if (p->kind != EXIT_HC)
		return;
	if (sscanf(r->body, "nr 0x%llx a0 0x%llx a1 0x%llx a2 0x%llx a3 0x%llx", &v[0], &v[1],
		   &v[2], &v[3], &v[4]) != 5) {
		import_note(im, r, "kvm_hypercall in no format kvmsim knows");
		return;
	}
	p->ev.nr = v[0];
	for (guint i = 0; i < 4; i++)
		p->ev.args[i] = v[i + 1];
	p->filled = TRUE;
}

/* The leaf of gfn becomes spte (at level). */
static void
set_leaf(Importer *im, guint64 gfn, int level, guint64 spte)
{
	Leaf *l = g_hash_table_lookup(im->leaves, &gfn);

	if (!l) {
		guint64 *key = g_new(guint64, 1);

		*key = gfn;
		l = g_new0(Leaf, 1);
		g_hash_table_insert(im->leaves, key, l);
		/* a read or fetch fault of a page the host never populated maps the zero page */
		l->read_first = g_hash_table_contains(im->read_first, &gfn);
		l->host_unknown =
			(spte & SPTE_MMU_PRESENT) && (spte & SPTE_WRITABLE) && l->read_first;
	}
	l->present = (spte & SPTE_MMU_PRESENT) != 0;
	l->writable = (spte & SPTE_WRITABLE) != 0;
	l->level = level;
	l->pfn = SPTE_PFN(spte);
	add_gfn(im, gfn);
	if (!l->present)
		return;
	GArray *pfns = g_hash_table_lookup(im->gfn_pfns, &gfn);

	if (!pfns) {
		guint64 *key = g_new(guint64, 1);

		*key = gfn;
		pfns = g_array_new(FALSE, FALSE, sizeof(guint64));
		g_hash_table_insert(im->gfn_pfns, key, pfns);
	}
	gboolean seen = FALSE;

	for (guint i = 0; i < pfns->len && !seen; i++)
		seen = g_array_index(pfns, guint64, i) == l->pfn;
	if (!seen)
		g_array_append_val(pfns, l->pfn);
	if (!l->writable && level == 1) {
		GHashTable *gfns = g_hash_table_lookup(im->pfn_ro_gfns, &l->pfn);

		if (!gfns) {
			guint64 *key = g_new(guint64, 1);

			*key = l->pfn;
			gfns = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
			g_hash_table_insert(im->pfn_ro_gfns, key, gfns);
		}
		guint64 *g = g_new(guint64, 1);

		*g = gfn;
		g_hash_table_replace(gfns, g, NULL);
	}
}

/* A page table (level > 1, not large) removed: every leaf below it is gone. */
static void
drop_below(Importer *im, guint64 gfn, int level)
{
	guint64 span = 1ull << (9 * (level - 1));
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, im->leaves);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		guint64 g = *(guint64 *)key;

		if (g >= gfn && g < gfn + span)
			((Leaf *)value)->present = FALSE;
	}
}

/* The SPTE events: the leaf state of each gfn as the capture goes. */
static void
on_spte(Importer *im, const ImportRecord *r)
{
	unsigned long long gfn, old, new_spte, sptep;
	int as_id, level, spurious, fixed;
	char perm[8], err[128];

	if (im->svm) {
		import_note(im, r, "SPTE of an AMD NPT capture: kvmsim models EPT encodings only");
		return;
	}
	if (!strcmp(r->event, "kvm_tdp_mmu_spte_changed")) {
		if (sscanf(r->body, "as id %d gfn %llx level %d old_spte %llx new_spte %llx",
			   &as_id, &gfn, &level, &old, &new_spte) != 5 ||
		    level < 1 || level > 5) {
			import_note(im, r, "kvm_tdp_mmu_spte_changed in no format kvmsim knows");
			return;
		}
		if (as_id != 0) {
			import_note(im, r, "SPTE of address space %d (SMM): not modelled", as_id);
			return;
		}
		if (level == 1 || new_spte & SPTE_LARGE || old & SPTE_LARGE)
			set_leaf(im, gfn, level, new_spte);
		else if (old & SPTE_MMU_PRESENT && !(new_spte & SPTE_MMU_PRESENT))
			drop_below(im, gfn, level);
	} else if (!strcmp(r->event, "kvm_mmu_set_spte")) {
		if (sscanf(r->body, "gfn %llx spte %llx (%7[rwxu-]) level %d at %llx", &gfn,
			   &new_spte, perm, &level, &sptep) != 5 ||
		    level < 1 || level > 5) {
			import_note(im, r, "kvm_mmu_set_spte in no format kvmsim knows");
			return;
		}
		set_leaf(im, gfn, level, new_spte);
	} else {
		if (sscanf(r->body,
			   "vcpu %*d gva %llx error_code %127s sptep %llx old %llx new %llx "
			   "spurious %d fixed %d",
			   &gfn, err, &sptep, &old, &new_spte, &spurious, &fixed) != 7) {
			import_note(im, r, "fast_page_fault in no format kvmsim knows");
			return;
		}
		if (fixed)
			set_leaf(im, gfn >> 12, 1, new_spte);
	}
}

/* kvmsim's own "create slot N gfn G npages P hva H". */
static void
on_sim_memslot(Importer *im, const ImportRecord *r)
{
	unsigned long long gfn, npages, hva;
	char change[16];
	int id;
	TraceMemslot ms = {0};

	if (im->slots_given || sscanf(r->body, "%15s slot %d gfn 0x%llx npages 0x%llx hva 0x%llx",
				      change, &id, &gfn, &npages, &hva) != 5)
		return;
	if (strcmp(change, "create") != 0) {
		import_note(im, r, "memslot %s during the capture: not imported", change);
		return;
	}
	ms.id = (guint32)id;
	ms.gpa = gfn << 12;
	ms.size = npages << 12;
	ms.hva = hva;
	ms.line = r->line;
	g_array_append_val(im->slots, ms);
}

/* The leaves the memslots known so far map in host range [start, end): the capture does not
 * say what the host did to their pages (moved, dropped), so their frames are not expected. */
static void
mark_host_unknown(Importer *im, guint64 start, guint64 end)
{
	GHashTableIter it;
	gpointer key, value;

	g_hash_table_iter_init(&it, im->leaves);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		guint64 gpa = *(guint64 *)key << 12;

		for (guint i = 0; i < im->slots->len; i++) {
			const TraceMemslot *ms = &g_array_index(im->slots, TraceMemslot, i);
			guint64 hva = ms->hva + (gpa - ms->gpa);

			if (gpa >= ms->gpa && gpa - ms->gpa < ms->size && hva >= start && hva < end)
				((Leaf *)value)->host_unknown = TRUE;
		}
	}
}

/* One record of the capture. */
static void
on_record(Importer *im, const ImportRecord *r, guint order)
{
	static const char *const ignored[] = {
		"kvm_entry",
		"kvm_mmu_spte_requested",
		"kvm_mmu_prepare_zap_page",
		"kvm_mmu_zap_all_fast",
		"kvm_mmu_split_huge_page",
		"kvm_mmu_get_page",
	};
	gint vcpu = vcpu_of(im, r);

	if (!is_kvm_event(r)) {
		im->rep->other++;
		return;
	}
	im->rep->kvm_records++;
	if (g_str_has_prefix(r->event, "sim_")) {
		if (!strcmp(r->event, "sim_memslot"))
			on_sim_memslot(im, r);
		return;
	}
	if (is_vcpu_event(r->event) && vcpu < 0) {
		import_note(im, r, "more than %d vCPUs", IMPORT_MAX_VCPUS);
		return;
	}
	if (!strcmp(r->event, "kvm_exit")) {
		on_kvm_exit(im, r, order, vcpu);
	} else if (!strcmp(r->event, "kvm_page_fault")) {
		on_page_fault(im, r, order, vcpu);
	} else if (!strcmp(r->event, "kvm_pio")) {
		on_pio(im, r, vcpu);
	} else if (!strcmp(r->event, "kvm_hypercall")) {
		on_hypercall(im, r, vcpu);
	} else if (!strcmp(r->event, "kvm_unmap_hva_range")) {
		unsigned long long start, end;
		Imported imp = {order, r->line, {0}};

		if (sscanf(r->body, "mmu notifier unmap range: 0x%llx -- 0x%llx", &start, &end) !=
			    2 ||
		    end <= start || (start | end) & 0xfff) {
			import_note(im, r, "kvm_unmap_hva_range in no format kvmsim knows");
			return;
		}
		mark_host_unknown(im, start, end);
		imp.ev.kind = TRACE_EV_INVALIDATE_START;
		imp.ev.hva = start;
		imp.ev.size = end - start;
		imp.ev.line = r->line;
		g_array_append_val(im->unmaps, imp);
	} else if (!strcmp(r->event, "kvm_age_hva")) {
		unsigned long long start, end;
		Imported imp = {order, r->line, {0}};

		if (sscanf(r->body, "mmu notifier age hva: 0x%llx -- 0x%llx", &start, &end) != 2 ||
		    end <= start || (start | end) & 0xfff) {
			import_note(im, r, "kvm_age_hva in no format kvmsim knows");
			return;
		}
		imp.ev.kind = TRACE_EV_AGE;
		imp.ev.hva = start;
		imp.ev.size = end - start;
		imp.ev.line = r->line;
		g_array_append_val(im->unmaps, imp);
	} else if (!strcmp(r->event, "kvm_tdp_mmu_spte_changed") ||
		   !strcmp(r->event, "kvm_mmu_set_spte") || !strcmp(r->event, "fast_page_fault")) {
		on_spte(im, r);
	} else if (!strcmp(r->event, "kvm_mmu_get_page") && strstr(r->body, " direct") == NULL &&
		   strstr(r->body, "FAILED TO PARSE") == NULL) {
		import_note(im, r, "an indirect shadow page (shadow paging): not modelled");
	} else {
		for (guint i = 0; i < G_N_ELEMENTS(ignored); i++)
			if (!strcmp(r->event, ignored[i]))
				return;
		if (g_str_has_prefix(r->event, "kvm_nested") || strstr(r->event, "vmenter"))
			import_note(im, r, "nested virtualization: not modelled");
		else if (g_str_has_prefix(r->event, "kvm_smm"))
			import_note(im, r, "SMM: not modelled");
		else if (!strcmp(r->event, "kvm_test_age_hva"))
			import_note(im, r, "a test of young (no change): no trace event says it");
		else if (strstr(r->event, "mmio"))
			import_note(im, r, "MMIO: an exit-level trace has no MMIO event");
		else if (strstr(r->event, "pagetable_walk") || strstr(r->event, "paging_element") ||
			 strstr(r->event, "walker_error") || strstr(r->event, "sync_page"))
			import_note(im, r, "guest page-table walk (shadow paging): not modelled");
		else
			import_note(im, r, "%s: not modelled", r->event);
	}
}

/* Free what the importer holds (not the report). */
static void
importer_clear(Importer *im)
{
	g_hash_table_destroy(im->pid_vcpu);
	g_array_unref(im->imported);
	g_hash_table_destroy(im->leaves);
	g_hash_table_destroy(im->gfn_pfns);
	g_hash_table_destroy(im->pfn_ro_gfns);
	g_array_unref(im->gfns);
	g_hash_table_destroy(im->read_first);
	g_array_unref(im->slots);
	g_array_unref(im->unmaps);
}

/* Read the capture, import its records in order, then build the trace (import.h). */
Trace *
trace_import(const char *path, const ImportOptions *options, ImportReport *report, GError **error)
{
	g_autoptr(GPtrArray) records = NULL;
	Importer im = {0};
	Trace *trace;

	im.path = path;
	im.rep = report;
	memset(report, 0, sizeof(*report));
	report->notes = g_array_new(FALSE, TRUE, sizeof(ImportNote));
	report->invalidated = g_ptr_array_new_with_free_func(g_free);
	records = import_is_trace_dat(path) ? import_read_dat(path, report, error)
					    : import_read_text(path, report, error);
	if (!records)
		return NULL;
	report->records = records->len;
	im.pid_vcpu = g_hash_table_new(g_direct_hash, g_direct_equal);
	im.imported = g_array_new(FALSE, TRUE, sizeof(Imported));
	im.leaves = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	im.gfn_pfns = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					    (GDestroyNotify)g_array_unref);
	im.pfn_ro_gfns = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
					       (GDestroyNotify)g_hash_table_destroy);
	im.gfns = g_array_new(FALSE, FALSE, sizeof(guint64));
	im.read_first = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	im.slots = g_array_new(FALSE, TRUE, sizeof(TraceMemslot));
	im.unmaps = g_array_new(FALSE, TRUE, sizeof(Imported));
	for (guint i = 0; options && options->memslots && i < options->memslots->len; i++) {
		const ImportMemslot *m = &g_array_index(options->memslots, ImportMemslot, i);
		TraceMemslot ms = { .id = i, .gpa = m->gpa, .size = m->size, .hva = m->hva };

		g_array_append_val(im.slots, ms);
		im.slots_given = TRUE;
	}
	map_vcpus(&im, records);
	for (guint i = 0; i < records->len; i++)
		on_record(&im, g_ptr_array_index(records, i), i);
	for (guint v = 0; v < IMPORT_MAX_VCPUS; v++)
		flush_exit(&im, (gint)v, NULL);
	guint last_line =
		records->len
			? ((const ImportRecord *)g_ptr_array_index(records, records->len - 1))->line
			: 1;

	if (!report->kvm_records) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s:%u: no kvm or kvmmmu event in the capture (%u events read)", path,
			    last_line, report->records);
		importer_clear(&im);
		return NULL;
	}
	if (!im.slots_given && !im.slots->len && !import_infer_memslots(&im, error)) {
		importer_clear(&im);
		return NULL;
	}
	import_place_unmaps(&im);
	GArray *events = import_final_events(&im);

	import_sort_notes(report);

	if (!events->len) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s:%u: no exit or invalidation kvmsim can import (%u kvm events, %u "
			    "not modelled)",
			    path, last_line, report->kvm_records, report->notes->len);
		g_array_unref(events);
		importer_clear(&im);
		return NULL;
	}
	g_autofree gchar *base = g_path_get_basename(path);

	trace = trace_new();
	trace->path = g_strdup(path);
	trace->kvmsim_version = g_strdup(KVMSIM_VERSION);
	trace->seed = 1;
	trace->nr_vcpus = MAX(im.nr_vcpus, 1);
	for (guint i = 0; i < im.slots->len; i++)
		g_array_append_val(trace->memslots, g_array_index(im.slots, TraceMemslot, i));
	g_array_append_vals(trace->events, events->data, events->len);
	import_make_schedule(trace, trace->events);
	import_make_expectations(&im, trace);
	trace->comment = g_strdup_printf(
		"\n  Imported by kvmsim import from %s (%s): %u events, %u kvm; %u exits and %u "
		"notifier\n  invalidations in the capture's order, %u SPTE states as expectations; "
		"%u lines not modelled.\n",
		base, report->trace_dat ? "a trace.dat" : "text", report->records,
		report->kvm_records, report->exits, report->invalidations, report->sptes,
		report->notes->len);
	g_array_unref(events);
	importer_clear(&im);
	return trace;
}
