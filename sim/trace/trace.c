/* SPDX-License-Identifier: GPL-2.0-only */
/* The in-memory trace: allocation, names, actors, errors. */
#include "sim/trace/trace-internal.h"

#include <stdarg.h>
#include <string.h>

G_DEFINE_QUARK(kvmsim-trace-error-quark, trace_error)

const char *const trace_access_names[3] = {
	[TRACE_ACCESS_READ] = "read",
	[TRACE_ACCESS_WRITE] = "write",
	[TRACE_ACCESS_FETCH] = "fetch",
};

static const char *const kind_names[TRACE_EV_COUNT] = {
	[TRACE_EV_EPT_VIOLATION] = "ept_violation",
	[TRACE_EV_HLT] = "hlt",
	[TRACE_EV_IO] = "io",
	[TRACE_EV_HYPERCALL] = "hypercall",
	[TRACE_EV_MIGRATE] = "migrate",
	[TRACE_EV_DONTNEED] = "dontneed",
	[TRACE_EV_AGE] = "age",
	[TRACE_EV_MUNMAP] = "munmap",
	[TRACE_EV_INVALIDATE_START] = "invalidate_start",
	[TRACE_EV_INVALIDATE_END] = "invalidate_end",
	[TRACE_EV_MEMSLOT] = "memslot",
	[TRACE_EV_MEMSLOT_DELETE] = "memslot_delete",
	[TRACE_EV_PUNCH_HOLE] = "punch_hole",
	[TRACE_EV_CONVERT] = "convert",
	[TRACE_EV_SET_ATTRIBUTES] = "set_memory_attributes",
	[TRACE_EV_GMEM_CLOSE] = "close_guest_memfd",
	[TRACE_EV_MAP_GPA_RANGE] = "map_gpa_range",
	[TRACE_EV_PIN] = "pin",
	[TRACE_EV_NMI] = "nmi",
	[TRACE_EV_NX_RECOVER] = "nx_recover",
	[TRACE_EV_GUEST_WRITE] = "guest_write",
	[TRACE_EV_DIRTY_LOG] = "dirty_log",
};

const char *const trace_nmi_touch_names[5] = {
	"none", "kernel", "user", "page-cache", "guest-ram",
};
const char *const trace_vm_type_names[2] = { "default", "sw-protected" };
const char *const trace_gmem_conversion_names[2] = { "legacy", "in-place" };
const char *const trace_gmem_hugepage_names[3] = { "none", "2M", "1G" };
const char *const trace_convert_names[2] = { "shared", "private" };

/* Free what a TraceEvent owns. */
static void
clear_event(gpointer data)
{
	TraceEvent *e = data;

	g_free(e->actor);
}

/* Free what a TraceStep owns. */
void
trace_step_clear(gpointer data)
{
	TraceStep *s = data;

	g_free(s->step.actor);
	g_free(s->step.until);
}

/* Free what a TraceExpect owns. */
static void
clear_expect(gpointer data)
{
	TraceExpect *x = data;

	g_free(x->counter);
	g_free(x->match);
	g_free(x->result);
	g_free(x->hash);
}

/* An empty trace: no vCPUs, no memslots, round-robin scheduling, nothing expected. */
Trace *
trace_new(void)
{
	Trace *trace = g_new0(Trace, 1);

	trace->memslots = g_array_new(FALSE, TRUE, sizeof(TraceMemslot));
	trace->events = g_array_new(FALSE, TRUE, sizeof(TraceEvent));
	g_array_set_clear_func(trace->events, clear_event);
	asi_sim_config_init(&trace->asi);
	trace->policy = SIM_POLICY_ROUND_ROBIN;
	trace->then = SIM_POLICY_ROUND_ROBIN;
	trace->steps = g_array_new(FALSE, TRUE, sizeof(TraceStep));
	g_array_set_clear_func(trace->steps, trace_step_clear);
	trace->marks = g_array_new(FALSE, TRUE, sizeof(TraceMark));
	trace->expects = g_array_new(FALSE, TRUE, sizeof(TraceExpect));
	g_array_set_clear_func(trace->expects, clear_expect);
	return trace;
}

/* Free the trace and everything it owns; NULL is allowed. */
void
trace_free(Trace *trace)
{
	if (!trace)
		return;
	g_free(trace->path);
	g_free(trace->comment);
	g_free(trace->kvmsim_version);
	g_array_free(trace->memslots, TRUE);
	g_free(trace->workload);
	g_free(trace->guest);
	g_free(trace->image_sha256);
	g_free(trace->arg);
	g_free(trace->postcopy);
	g_array_free(trace->events, TRUE);
	g_array_free(trace->steps, TRUE);
	g_array_free(trace->marks, TRUE);
	g_free(trace->step_sums);
	g_array_free(trace->expects, TRUE);
	g_free(trace);
}

/* The op attribute of <dirty_log>, by SimVmmDirtyOp. */
const char *const trace_dirty_log_op_names[4] = { "get", "clear", "manual-protect", "enable" };

/* The element name of an event kind. */
const char *
trace_event_kind_name(TraceEventKind kind)
{
	g_return_val_if_fail((guint)kind < TRACE_EV_COUNT, "?");
	return kind_names[kind];
}

/* ept_violation, hlt, io, hypercall, map_gpa_range. */
gboolean
trace_event_is_exit(TraceEventKind kind)
{
	return kind <= TRACE_EV_HYPERCALL || kind == TRACE_EV_MAP_GPA_RANGE ||
	       kind == TRACE_EV_GUEST_WRITE;
}

/* migrate, dontneed, age, munmap, invalidate_start, invalidate_end. */
gboolean
trace_event_is_host(TraceEventKind kind)
{
	return kind >= TRACE_EV_MIGRATE && kind <= TRACE_EV_INVALIDATE_END;
}

/* punch_hole, convert, set_memory_attributes, close_guest_memfd, pin: private memory, by the
 * VMM. */
gboolean
trace_event_is_gmem(TraceEventKind kind)
{
	return kind == TRACE_EV_PUNCH_HOLE || kind == TRACE_EV_CONVERT ||
	       kind == TRACE_EV_SET_ATTRIBUTES || kind == TRACE_EV_GMEM_CLOSE ||
	       kind == TRACE_EV_PIN;
}

/* memslot, memslot_delete. */
gboolean
trace_event_is_memslot(TraceEventKind kind)
{
	return kind == TRACE_EV_MEMSLOT || kind == TRACE_EV_MEMSLOT_DELETE;
}

/* One host CPU per vCPU, one for the notifier, one for the vmm. */
guint
trace_nr_host_cpus(const Trace *trace)
{
	return trace->nr_vcpus + 2;
}

/* kworkerN (async PF's workers, mmu/async_pf.c), N without leading zeros, below 256. */
static gboolean
trace_kworker_valid(const char *actor)
{
	guint64 n;

	return g_ascii_isdigit(actor[7]) && (actor[7] != '0' || !actor[8]) &&
	       g_ascii_string_to_unsigned(actor + 7, 10, 0, 255, &n, NULL);
}

/* vcpuN with N < nr_vcpus written without leading zeros, notifier, vmm, nmiN with N a host
 * CPU, and post-copy's actors when the trace has post-copy. */
gboolean
trace_actor_valid(const Trace *trace, const char *actor)
{
	guint64 n;

	if (strcmp(actor, "notifier") == 0 || strcmp(actor, "vmm") == 0 ||
	    strcmp(actor, "nx_recovery") == 0)
		return TRUE;
	if (g_str_has_prefix(actor, "nmi") && g_ascii_isdigit(actor[3]) &&
	    (actor[3] != '0' || !actor[4]))
		return g_ascii_string_to_unsigned(actor + 3, 10, 0, G_MAXUINT, &n, NULL) &&
		       n < trace_nr_host_cpus(trace);
	/* post-copy's actors (sim/vmm/postcopy.h): the VMM's I/O thread and userfaultfd reader */
	if (trace->postcopy && (strcmp(actor, "vmm_io") == 0 || strcmp(actor, "uffd") == 0))
		return TRUE;
	if (trace->postcopy && g_str_has_prefix(actor, "kworker") && trace_kworker_valid(actor))
		return TRUE;
	if (!g_str_has_prefix(actor, "vcpu") || !g_ascii_isdigit(actor[4]) ||
	    (actor[4] == '0' && actor[5]))
		return FALSE;
	return g_ascii_string_to_unsigned(actor + 4, 10, 0, G_MAXUINT, &n, NULL) &&
	       n < trace->nr_vcpus;
}

/* Set a "PATH:LINE: what" error. */
void
trace_set_error(GError **error, TraceError code, const char *path, long line, const char *format,
		...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	/* one line, whatever an attribute quoted in it holds: control characters escaped */
	GString *one_line = g_string_new(NULL);

	for (const char *p = what; *p; p++) {
		if (*p == '\n')
			g_string_append(one_line, "\\n");
		else if (*p == '\r')
			g_string_append(one_line, "\\r");
		else if (*p == '\t')
			g_string_append(one_line, "\\t");
		else if ((guchar)*p < 0x20 || *p == 0x7f)
			g_string_append_printf(one_line, "\\x%02x", (guchar)*p);
		else
			g_string_append_c(one_line, *p);
	}
	g_set_error(error, TRACE_ERROR, code, "%s:%ld: %s", path, line, one_line->str);
	g_string_free(one_line, TRUE);
}

/* Start looking for the candidate nearest to word. */
void
trace_nearest_init(TraceNearest *near, const char *word)
{
	near->word = word;
	near->best = NULL;
	/* a typo is at most two edits, and at most one for every three letters */
	near->distance = MIN(3, (guint)strlen(word) / 3 + 1);
}

/* Edit distance counting insertions, deletions, substitutions and swaps of neighbours as one
 * each (optimal string alignment). */
static guint
edit_distance(const char *a, const char *b)
{
	gsize m = strlen(a), n = strlen(b);
	g_autofree guint *d = g_new(guint, (m + 1) * (n + 1));

#define D(i, j) d[(i) * (n + 1) + (j)]
	for (gsize i = 0; i <= m; i++)
		D(i, 0) = (guint)i;
	for (gsize j = 0; j <= n; j++)
		D(0, j) = (guint)j;
	for (gsize i = 1; i <= m; i++) {
		for (gsize j = 1; j <= n; j++) {
			D(i, j) = MIN(MIN(D(i - 1, j) + 1, D(i, j - 1) + 1),
				      D(i - 1, j - 1) + (a[i - 1] != b[j - 1]));
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				D(i, j) = MIN(D(i, j), D(i - 2, j - 2) + 1);
		}
	}
	return D(m, n);
#undef D
}

/* Keep candidate if it is nearer than the best so far. */
void
trace_nearest_add(TraceNearest *near, const char *candidate)
{
	guint d = edit_distance(near->word, candidate);

	if (d < near->distance) {
		near->best = candidate;
		near->distance = d;
	}
}
