/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The checks that take several elements of a trace to see: memslots that overlap or alias, memslot
 * events that do not fit the slots that exist at that point, exits and host events outside every
 * memslot, and invalidate_start/invalidate_end pairs. Only the vmm changes memslots and only the
 * notifier invalidates, so document order is the order that matters for both.
 */
#include "sim/trace/trace-internal.h"

#include <stdarg.h>

#define RANGE "[0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x)"

/* A semantic error at line of the trace; FALSE, for the caller to return. */
gboolean
trace_semantic_fail(const Trace *trace, guint line, GError **error, const char *format, ...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	trace_set_error(error, TRACE_ERROR_SEMANTIC, trace->path, line, "%s", what);
	return FALSE;
}

/* Do [a, a + a_size) and [b, b + b_size) share an address? */
static gboolean
overlap(guint64 a, guint64 a_size, guint64 b, guint64 b_size)
{
	return a < b + b_size && b < a + a_size;
}

/* A memslot created or moved at line may share neither guest-physical nor host addresses with
 * another live one (KVM rejects the first; the model's hva-to-gfn lookups assume the second). */
static gboolean
check_fits(const Trace *trace, const GArray *live, const TraceMemslot *ms, guint line,
	   GError **error)
{
	for (guint i = 0; i < live->len; i++) {
		const TraceMemslot *o = &g_array_index(live, TraceMemslot, i);

		if (o->id == ms->id)
			continue;
		if (overlap(ms->gpa, ms->size, o->gpa, o->size))
			return trace_semantic_fail(trace, line, error,
						   "memslot %u " RANGE " overlaps memslot %u " RANGE, ms->id,
						   ms->gpa, ms->gpa + ms->size, o->id, o->gpa, o->gpa + o->size);
		if (overlap(ms->hva, ms->size, o->hva, o->size))
			return trace_semantic_fail(trace, line, error,
						   "memslot %u host range " RANGE
						   " aliases memslot %u host range " RANGE,
						   ms->id, ms->hva, ms->hva + ms->size, o->id, o->hva,
						   o->hva + o->size);
	}
	return TRUE;
}

/* The index of memslot id in slots, or -1. */
static gint
find_slot(const GArray *slots, guint32 id)
{
	for (guint i = 0; i < slots->len; i++)
		if (g_array_index(slots, TraceMemslot, i).id == id)
			return (gint)i;
	return -1;
}

/* The memslots of <vm>: unique ids, no overlaps. */
static gboolean
check_vm_memslots(const Trace *trace, GError **error)
{
	g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(TraceMemslot));

	for (guint i = 0; i < trace->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(trace->memslots, TraceMemslot, i);
		gint twin = find_slot(live, ms->id);

		if (twin >= 0)
			return trace_semantic_fail(trace, ms->line, error,
						   "memslot id %u is used twice (first on line %u)", ms->id,
						   g_array_index(live, TraceMemslot, twin).line);
		if (!check_fits(trace, live, ms, ms->line, error))
			return FALSE;
		g_array_append_val(live, *ms);
	}
	return TRUE;
}

/* The memslot a memslot event creates or moves to. */
static TraceMemslot
slot_of(const TraceEvent *e)
{
	return (TraceMemslot){ e->id, e->gpa, e->size, e->hva, e->flags, e->line, 0 };
}

/* Every memslot the trace ever has: those of <vm> and those its memslot events create. */
static GArray *
every_memslot(const Trace *trace)
{
	GArray *ever = g_array_new(FALSE, FALSE, sizeof(TraceMemslot));

	g_array_append_vals(ever, trace->memslots->data, trace->memslots->len);
	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);
		TraceMemslot ms = slot_of(e);

		if (e->kind == TRACE_EV_MEMSLOT)
			g_array_append_val(ever, ms);
	}
	return ever;
}

/* A memslot event against the slots that exist when the vmm performs it. */
static gboolean
check_memslot_event(const Trace *trace, GArray *live, const TraceEvent *e, GError **error)
{
	gint i = find_slot(live, e->id);
	TraceMemslot ms = slot_of(e);

	if (e->kind == TRACE_EV_MEMSLOT_DELETE) {
		if (i < 0)
			return trace_semantic_fail(trace, e->line, error,
						   "<memslot_delete> memslot %u does not exist at this point",
						   e->id);
		g_array_remove_index(live, (guint)i);
		return TRUE;
	}
	if (!check_fits(trace, live, &ms, e->line, error))
		return FALSE;
	if (i >= 0)
		g_array_index(live, TraceMemslot, i) = ms;
	else
		g_array_append_val(live, ms);
	return TRUE;
}

/* An exit's gpa must be in some memslot, at some point of the trace. */
static gboolean
check_exit_gpa(const Trace *trace, const GArray *ever, const TraceEvent *e, GError **error)
{
	if (e->kind != TRACE_EV_EPT_VIOLATION && e->kind != TRACE_EV_GUEST_WRITE)
		return TRUE;
	for (guint i = 0; i < ever->len; i++) {
		const TraceMemslot *ms = &g_array_index(ever, TraceMemslot, i);

		if (overlap(e->gpa, 1, ms->gpa, ms->size))
			return TRUE;
	}
	return trace_semantic_fail(trace, e->line, error,
				   "<%s> gpa 0x%" G_GINT64_MODIFIER "x is outside every memslot",
				   trace_event_kind_name(e->kind), e->gpa);
}

/* A host event must touch some memslot's host range. hva 0 names no page: a recorded event that
 * found nothing to act on, kept for its sleep. A full-system trace that lists no memslots leaves
 * the layout to kvmsim, so there is nothing to check against. */
static gboolean
check_host_range(const Trace *trace, const GArray *ever, const TraceEvent *e, GError **error)
{
	if (e->hva == 0 || (trace->workload && ever->len == 0))
		return TRUE;
	for (guint i = 0; i < ever->len; i++) {
		const TraceMemslot *ms = &g_array_index(ever, TraceMemslot, i);

		if (overlap(e->hva, e->size, ms->hva, ms->size))
			return TRUE;
	}
	return trace_semantic_fail(trace, e->line, error,
				   "<%s> host range " RANGE " is outside every memslot's host range",
				   trace_event_kind_name(e->kind), e->hva, e->hva + e->size);
}

/* invalidate_end closes the latest open invalidate_start of the same range (both are the
 * notifier's: the reader allows no other actor). */
static gboolean
check_invalidate_end(const Trace *trace, GPtrArray *open, const TraceEvent *e, GError **error)
{
	for (guint i = open->len; i-- > 0;) {
		const TraceEvent *start = g_ptr_array_index(open, i);

		if (start->hva == e->hva && start->size == e->size) {
			g_ptr_array_remove_index(open, i);
			return TRUE;
		}
	}
	return trace_semantic_fail(trace, e->line, error, "<invalidate_end> " RANGE " has no earlier "
				   "<invalidate_start> of that range", e->hva, e->hva + e->size);
}

/* The events in document order, with the memslots as the vmm changes them. */
static gboolean
check_events(const Trace *trace, GError **error)
{
	g_autoptr(GArray) ever = every_memslot(trace);
	g_autoptr(GArray) live = g_array_new(FALSE, FALSE, sizeof(TraceMemslot));
	g_autoptr(GPtrArray) open = g_ptr_array_new();

	g_array_append_vals(live, trace->memslots->data, trace->memslots->len);
	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);

		if (trace_event_is_memslot(e->kind)) {
			if (!check_memslot_event(trace, live, e, error))
				return FALSE;
		} else if (!trace_event_is_host(e->kind)) {
			if (!check_exit_gpa(trace, ever, e, error))
				return FALSE;
		} else if (!check_host_range(trace, ever, e, error)) {
			return FALSE;
		} else if (e->kind == TRACE_EV_INVALIDATE_START) {
			g_ptr_array_add(open, (gpointer)e);
		} else if (e->kind == TRACE_EV_INVALIDATE_END &&
			   !check_invalidate_end(trace, open, e, error)) {
			return FALSE;
		}
	}
	if (open->len) {
		const TraceEvent *start = g_ptr_array_index(open, 0);

		return trace_semantic_fail(trace, start->line, error,
					   "<invalidate_start> " RANGE " is never ended "
					   "(no later <invalidate_end> of that range)",
					   start->hva, start->hva + start->size);
	}
	return TRUE;
}

/* Everything that takes more than one element to see. */
gboolean
trace_check(const Trace *trace, GError **error)
{
	return check_vm_memslots(trace, error) && check_events(trace, error) &&
	       trace_check_bounds(trace, error);
}
