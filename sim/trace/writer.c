/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Writing a trace: the schema's element order, two-space indentation, addresses, sizes and flags in
 * 0x-hex, ids and counts in decimal, optional attributes only where they differ from their default,
 * and the comment before the root element. The file appears whole or not at all (outfile.h).
 * Loading what this writes gives back an equal Trace, except that expectations come back grouped
 * by kind in the schema's order, a step schedule without steps comes back as its then policy, and
 * a comment with "--" in it comes back with "- -".
 */
#include "sim/trace/trace-internal.h"

#include <stdio.h>
#include <string.h>

#include "sim/core/hostmem.h"
#include "sim/core/outfile.h"
#include "workloads/abi.h"


/* Text as attribute content: markup escaped, and whitespace that attribute normalization would
 * turn into spaces written as character references. */
static void
put_escaped(FILE *fp, const char *text)
{
	for (const char *p = text; *p; p++) {
		switch (*p) {
		case '&':
			fputs("&amp;", fp);
			break;
		case '<':
			fputs("&lt;", fp);
			break;
		case '>':
			fputs("&gt;", fp);
			break;
		case '"':
			fputs("&quot;", fp);
			break;
		case '\t':
			fputs("&#9;", fp);
			break;
		case '\n':
			fputs("&#10;", fp);
			break;
		case '\r':
			fputs("&#13;", fp);
			break;
		default:
			fputc(*p, fp);
		}
	}
}

/* name="value", escaped. */
static void
put_str(FILE *fp, const char *name, const char *value)
{
	fprintf(fp, " %s=\"", name);
	put_escaped(fp, value ? value : "");
	fputc('"', fp);
}

/* name="0x..." for addresses, sizes and flags. */
static void
put_hex(FILE *fp, const char *name, guint64 value)
{
	fprintf(fp, " %s=\"0x%" G_GINT64_MODIFIER "x\"", name, value);
}

/* name="..." in decimal for ids and counts. */
static void
put_dec(FILE *fp, const char *name, guint64 value)
{
	fprintf(fp, " %s=\"%" G_GUINT64_FORMAT "\"", name, value);
}

/* name="true" or name="false". */
static void
put_bool(FILE *fp, const char *name, gboolean value)
{
	put_str(fp, name, value ? "true" : "false");
}

/* The attributes of a memslot, in <vm> or as an event. */
static void
put_memslot(FILE *fp, guint32 id, guint64 gpa, guint64 size, guint64 hva, guint32 flags)
{
	put_dec(fp, "id", id);
	put_hex(fp, "gpa", gpa);
	put_hex(fp, "size", size);
	put_hex(fp, "hva", hva);
	if (flags)
		put_hex(fp, "flags", flags);
}

/* The machine and its initial memslots. */
static void
write_vm(FILE *fp, const Trace *t)
{
	fputs("  <vm", fp);
	put_dec(fp, "vcpus", t->nr_vcpus);
	if (t->vm_type)
		put_str(fp, "type", trace_vm_type_names[t->vm_type]);
	if (t->gmem_conversion)
		put_str(fp, "gmem-conversion", trace_gmem_conversion_names[t->gmem_conversion]);
	if (t->gmem_hugepage)
		put_str(fp, "gmem-hugepage", trace_gmem_hugepage_names[t->gmem_hugepage]);
	if (t->mem)
		put_hex(fp, "mem", t->mem);
	if (t->quantum)
		put_dec(fp, "quantum", t->quantum);
	if (t->max_insns)
		put_dec(fp, "max-insns", t->max_insns);
	if (t->thp)
		put_dec(fp, "thp", 1);
	if (t->nx_huge_pages)
		put_dec(fp, "nx-huge-pages", 1);
	if (t->hv_tlb_flush)
		put_dec(fp, "hv-tlb-flush", 1);
	if (t->ept_ad)
		put_dec(fp, "ept-ad", 1);
	if (!t->memslots->len && !t->gmem_size && !t->asi.on && !t->postcopy) {
		fputs("/>\n", fp);
		return;
	}
	fputs(">\n", fp);
	if (t->asi.on) {
		g_autofree gchar *costs = asi_costs_format(&t->asi.costs);

		fputs("    <asi", fp);
		put_str(fp, "api", asi_api_name(t->asi.api));
		put_str(fp, "l1tf", t->asi.l1tf ? "true" : "false");
		put_str(fp, "ibpb", t->asi.ibpb ? "true" : "false");
		if (t->asi.vmexit_ibpb)
			put_str(fp, "vmexit-ibpb", "true");
		if (t->asi.userspace)
			put_str(fp, "userspace", "true");
		put_str(fp, "cost", costs);
		fputs("/>\n", fp);
	}
	if (t->gmem_size) {
		fputs("    <guest_memfd", fp);
		put_hex(fp, "size", t->gmem_size);
		if (t->gmem_flags)
			put_hex(fp, "flags", t->gmem_flags);
		fputs("/>\n", fp);
	}
	if (t->postcopy) {
		fputs("    <postcopy", fp);
		put_str(fp, "mech", t->postcopy);
		if (t->postcopy_fetch_steps)
			put_dec(fp, "fetch_steps", t->postcopy_fetch_steps);
		fputs("/>\n", fp);
	}
	for (guint i = 0; i < t->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(t->memslots, TraceMemslot, i);

		fputs("    <memslot", fp);
		put_memslot(fp, ms->id, ms->gpa, ms->size, ms->hva, ms->flags);
		if (ms->gmem_offset)
			put_hex(fp, "gmem-offset", ms->gmem_offset);
		fputs("/>\n", fp);
	}
	fputs("  </vm>\n", fp);
}

/* The workload of a full-system trace, with its non-zero parameters. */
static void
write_workload(FILE *fp, const Trace *t)
{
	gboolean any = FALSE;

	if (!t->workload)
		return;
	fputs("  <workload", fp);
	put_str(fp, "name", t->workload);
	if (t->guest)
		put_str(fp, "guest", t->guest);
	if (t->image_sha256)
		put_str(fp, "image-sha256", t->image_sha256);
	if (t->arg)
		put_str(fp, "arg", t->arg);
	if (t->boot_flags)
		put_hex(fp, "flags", t->boot_flags);
	for (guint i = 0; i < G_N_ELEMENTS(t->params); i++) {
		if (!t->params[i])
			continue;
		fputs(any ? "    <param" : ">\n    <param", fp);
		put_dec(fp, "index", i);
		put_dec(fp, "value", t->params[i]);
		fputs("/>\n", fp);
		any = TRUE;
	}
	fputs(any ? "  </workload>\n" : "/>\n", fp);
}

/* One event: its actor, its sleep, and the attributes of its kind. */
static void
write_event(FILE *fp, const TraceEvent *e)
{
	fprintf(fp, "    <%s", trace_event_kind_name(e->kind));
	put_str(fp, "actor", e->actor);
	if (e->at)
		put_dec(fp, "at", e->at);
	switch (e->kind) {
	case TRACE_EV_EPT_VIOLATION:
		put_hex(fp, "gpa", e->gpa);
		put_str(fp, "access", trace_access_names[e->access]);
		break;
	case TRACE_EV_GUEST_WRITE:
		put_hex(fp, "gpa", e->gpa);
		break;
	case TRACE_EV_DIRTY_LOG:
		put_dec(fp, "slot", e->id);
		put_str(fp, "op", trace_dirty_log_op_names[e->nr]);
		break;
	case TRACE_EV_HLT:
		break;
	case TRACE_EV_IO:
		put_str(fp, "direction", e->in ? "in" : "out");
		put_hex(fp, "port", e->port);
		put_dec(fp, "size", e->io_size);
		if (e->value)
			put_hex(fp, "value", e->value);
		break;
	case TRACE_EV_MAP_GPA_RANGE:
		put_hex(fp, "gpa", e->args[0]);
		put_hex(fp, "pages", e->args[1]);
		put_str(fp, "to", trace_convert_names[e->to_private]);
		if (e->args[2] != (e->to_private ? KVM_MAP_GPA_RANGE_ENCRYPTED : 0))
			put_hex(fp, "attrs", e->args[2]);
		break;
	case TRACE_EV_HYPERCALL:
		put_dec(fp, "nr", e->nr);
		for (guint i = 0; i < G_N_ELEMENTS(e->args); i++) {
			char name[] = { 'a', (char)('0' + i), '\0' };

			if (e->args[i])
				put_hex(fp, name, e->args[i]);
		}
		break;
	case TRACE_EV_MIGRATE:
		put_hex(fp, "hva", e->hva);
		break;
	case TRACE_EV_MEMSLOT:
		put_memslot(fp, e->id, e->gpa, e->size, e->hva, e->flags);
		break;
	case TRACE_EV_MEMSLOT_DELETE:
		put_dec(fp, "id", e->id);
		break;
	case TRACE_EV_PUNCH_HOLE:
	case TRACE_EV_CONVERT:
	case TRACE_EV_SET_ATTRIBUTES:
	case TRACE_EV_PIN:
		put_hex(fp, "gpa", e->gpa);
		if (e->size != SIM_PAGE_SIZE)
			put_hex(fp, "size", e->size);
		if (e->kind == TRACE_EV_CONVERT || e->kind == TRACE_EV_SET_ATTRIBUTES)
			put_str(fp, "to", trace_convert_names[e->to_private]);
		break;
	case TRACE_EV_GMEM_CLOSE:
	case TRACE_EV_NX_RECOVER:
		break;
	case TRACE_EV_NMI:
		put_str(fp, "touch", trace_nmi_touch_names[e->touch]);
		break;
	default:
		put_hex(fp, "hva", e->hva);
		put_hex(fp, "size", e->size);
	}
	fputs("/>\n", fp);
}

/* The events, in order. */
static void
write_events(FILE *fp, const Trace *t)
{
	if (!t->events->len) {
		fputs("  <events/>\n", fp);
		return;
	}
	fputs("  <events>\n", fp);
	for (guint i = 0; i < t->events->len; i++)
		write_event(fp, &g_array_index(t->events, TraceEvent, i));
	fputs("  </events>\n", fp);
}

/* A step as a key of the move table: the same actor, point and count are the same move. */
static gchar *
move_key(const SimStep *s)
{
	return g_strdup_printf("%s %s %u", s->actor, s->until, s->count);
}

/* One <step> or <move>: actor, point, count where it is not 1. */
static void
write_step(FILE *fp, const char *element, const SimStep *s)
{
	fprintf(fp, "    <%s", element);
	put_str(fp, "actor", s->actor);
	put_str(fp, "until", s->until);
	if (s->count != 1)
		put_dec(fp, "count", s->count);
	fputs("/>\n", fp);
}

/* The opening tag of the <steps> chunk of steps [step, end), with its mark and sums if known. */
static void
write_chunk_start(FILE *fp, const Trace *t, guint step, guint end, const TraceMark *mark)
{
	fputs("    <steps", fp);
	put_dec(fp, "step", step);
	if (mark && mark->known) {
		put_dec(fp, "clock", mark->clock);
		put_dec(fp, "lines", mark->lines);
		put_str(fp, "log", mark->log);
	}
	if (t->step_sums && strlen(t->step_sums) == t->steps->len)
		fprintf(fp, " sums=\"%.*s\"", (int)(end - step), t->step_sums + step);
	fputs(">", fp);
}

/* Where the chunk that starts at step ends: at the next mark, or TRACE_MARK_EVERY on. */
static guint
chunk_end(const Trace *t, guint step, guint next_mark)
{
	for (guint i = next_mark; i < t->marks->len; i++)
		if (g_array_index(t->marks, TraceMark, i).step > step)
			return (guint)MIN(g_array_index(t->marks, TraceMark, i).step, t->steps->len);
	if (t->marks->len)
		return t->steps->len;
	return MIN(step + TRACE_MARK_EVERY, t->steps->len);
}

/* A packed schedule: each distinct (actor, until, count) once as a <move>, in order of first use,
 * then the steps as move numbers in <steps> chunks, one per mark (or every TRACE_MARK_EVERY
 * steps if there are no marks), twenty numbers a line. */
static void
write_packed_steps(FILE *fp, const Trace *t)
{
	g_autoptr(GHashTable) moves = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree guint *token = g_new(guint, t->steps->len);
	guint mark = 0, on_line = 0;

	for (guint i = 0; i < t->steps->len; i++) {
		const SimStep *s = &g_array_index(t->steps, TraceStep, i).step;
		gchar *key = move_key(s);
		gpointer found;

		if (g_hash_table_lookup_extended(moves, key, NULL, &found)) {
			g_free(key);
			token[i] = GPOINTER_TO_UINT(found);
			continue;
		}
		token[i] = g_hash_table_size(moves);
		g_hash_table_insert(moves, key, GUINT_TO_POINTER(token[i]));
		write_step(fp, "move", s);
	}
	for (guint i = 0; i < t->steps->len; i++) {
		const TraceMark *m = mark < t->marks->len ?
					     &g_array_index(t->marks, TraceMark, mark) : NULL;
		gboolean at_mark = m && m->step == i;

		if (i == 0 || at_mark || (!t->marks->len && i % TRACE_MARK_EVERY == 0)) {
			if (i)
				fputs("\n    </steps>\n", fp);
			write_chunk_start(fp, t, i, chunk_end(t, i, mark), at_mark ? m : NULL);
			mark += at_mark;
			on_line = 0;
		}
		fputs(on_line % 20 ? " " : "\n      ", fp);
		fprintf(fp, "%u", token[i]);
		on_line++;
	}
	fputs("\n    </steps>\n", fp);
}

/* The policy, and the steps if there are any. */
static void
write_schedule(FILE *fp, const Trace *t)
{
	fputs("  <schedule", fp);
	if (t->policy != SIM_POLICY_STEPS || !t->steps->len) {
		put_str(fp, "policy",
			sim_policy_name(t->policy == SIM_POLICY_STEPS ? t->then : t->policy));
		if (t->watchdog)
			put_dec(fp, "watchdog", t->watchdog);
		fputs("/>\n", fp);
		return;
	}
	put_str(fp, "policy", sim_policy_name(SIM_POLICY_STEPS));
	put_str(fp, "then", sim_policy_name(t->then));
	if (t->watchdog)
		put_dec(fp, "watchdog", t->watchdog);
	fputs(">\n", fp);
	if (t->packed)
		write_packed_steps(fp, t);
	else
		for (guint i = 0; i < t->steps->len; i++)
			write_step(fp, "step", &g_array_index(t->steps, TraceStep, i).step);
	fputs("  </schedule>\n", fp);
}

/* One expectation, with the optional attributes it checks. */
static void
write_expect(FILE *fp, const TraceExpect *x)
{
	switch (x->kind) {
	case TRACE_EXPECT_SPTE:
		fputs("    <spte", fp);
		put_hex(fp, "gfn", x->gfn);
		put_bool(fp, "present", x->present);
		if (x->writable >= 0)
			put_bool(fp, "writable", x->writable);
		if (x->level)
			put_dec(fp, "level", (guint64)x->level);
		if (x->frame_hva)
			fprintf(fp, " frame=\"0x%" G_GINT64_MODIFIER "x#%u\"", x->frame_hva,
				x->frame_nth);
		if (x->frame_zero)
			fputs(" frame=\"zero\"", fp);
		break;
	case TRACE_EXPECT_ATTRIBUTE:
		fputs("    <attribute", fp);
		put_hex(fp, "gfn", x->gfn);
		put_bool(fp, "private", x->is_private);
		break;
	case TRACE_EXPECT_SHAREABILITY:
		fputs("    <shareability", fp);
		put_hex(fp, "offset", x->offset);
		put_bool(fp, "private", x->is_private);
		break;
	case TRACE_EXPECT_MEMORY_FAULT:
		fputs("    <memory_fault", fp);
		put_hex(fp, "gfn", x->gfn);
		put_bool(fp, "private", x->is_private);
		put_dec(fp, "count", (guint64)x->count);
		break;
	case TRACE_EXPECT_COUNTER:
		fputs("    <counter", fp);
		put_str(fp, "name", x->counter);
		put_dec(fp, "value", x->value);
		break;
	case TRACE_EXPECT_EVENT:
		fputs("    <event", fp);
		put_str(fp, "match", x->match);
		if (x->count >= 0)
			put_dec(fp, "count", (guint64)x->count);
		else
			put_bool(fp, "present", x->want_present);
		break;
	case TRACE_EXPECT_GUEST:
		fputs("    <guest", fp);
		put_str(fp, "result", x->result);
		break;
	case TRACE_EXPECT_INVARIANTS:
		fputs("    <invariants", fp);
		put_bool(fp, "hold", x->hold);
		break;
	case TRACE_EXPECT_LOG_HASH:
		fputs("    <log_hash", fp);
		put_str(fp, "value", x->hash);
		break;
	}
	fputs("/>\n", fp);
}

/* The comment before the root element. An XML comment cannot hold "--" or end in "-", so a space
 * goes between such dashes: "kvmsim run --seed 1" is written "kvmsim run - -seed 1". */
static void
write_comment(FILE *fp, const char *comment)
{
	fputs("<!--", fp);
	for (const char *p = comment; *p; p++) {
		if (*p == '-' && p > comment && p[-1] == '-')
			fputc(' ', fp);
		fputc(*p, fp);
	}
	fputs(g_str_has_suffix(comment, "-") ? " -->\n" : "-->\n", fp);
}

/* Expectations grouped by kind: the schema wants spte, counter, event, guest, invariants,
 * log_hash. */
static void
write_expects(FILE *fp, const Trace *t)
{
	if (!t->expects->len) {
		fputs("  <expect/>\n", fp);
		return;
	}
	fputs("  <expect>\n", fp);
	for (guint kind = TRACE_EXPECT_SPTE; kind <= TRACE_EXPECT_LOG_HASH; kind++) {
		for (guint i = 0; i < t->expects->len; i++) {
			const TraceExpect *x = &g_array_index(t->expects, TraceExpect, i);

			if (x->kind == kind)
				write_expect(fp, x);
		}
	}
	fputs("  </expect>\n", fp);
}

/* <mutations>, with a <mutation> for each of set in catalogue order. */
static void
write_mutations(FILE *fp, SimMutations set)
{
	if (!set) {
		fputs("    <mutations/>\n", fp);
		return;
	}
	fputs("    <mutations>\n", fp);
	for (guint m = 0; m < SIM_MUT_COUNT; m++)
		if (set & SIM_MUTATION_BIT(m))
			fprintf(fp, "      <mutation name=\"%s\"/>\n", sim_mutation_info(m)->name);
	fputs("    </mutations>\n", fp);
}

/* Write the trace to a temporary file, then rename it to path. */
gboolean
trace_save(const Trace *trace, const char *path, GError **error)
{
	SimOutFile out = { 0 };
	GError *local = NULL;

	if (!sim_outfile_open(&out, path, &local))
		goto io_error;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out.fp);
	if (trace->comment)
		write_comment(out.fp, trace->comment);
	fprintf(out.fp, "<kvmsim-trace format=\"%d\">\n", TRACE_FORMAT_VERSION);
	fputs("  <header", out.fp);
	put_str(out.fp, "kvmsim", trace->kvmsim_version);
	put_dec(out.fp, "seed", trace->seed);
	fputs(">\n", out.fp);
	write_mutations(out.fp, trace->mutations);
	fputs("  </header>\n", out.fp);
	write_vm(out.fp, trace);
	write_workload(out.fp, trace);
	write_events(out.fp, trace);
	write_schedule(out.fp, trace);
	write_expects(out.fp, trace);
	fputs("</kvmsim-trace>\n", out.fp);
	if (sim_outfile_commit(&out, &local))
		return TRUE;
io_error:
	g_set_error_literal(error, TRACE_ERROR, TRACE_ERROR_IO, local->message);
	g_error_free(local);
	return FALSE;
}
