/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading a trace: parse it, validate it against the embedded schema (schema.c), then fill a
 * Trace element by element, checking what one element can get wrong by itself: numbers that do
 * not fit, sizes and alignment, actors, and the names of workloads, yield points and counters.
 * What takes several elements to see (overlapping memslots, unpaired invalidations) is check.c's.
 * The document is valid when this runs, so every required attribute is there and well-formed.
 * <header>, <vm> and <workload> are read in reader-vm.c.
 */
#include "sim/trace/reader-internal.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h> /* xmlStringText */
#include <stdarg.h>
#include <string.h>

#include "gmem/gmem.h"
#include "mmu/mmu.h"
#include "sim/core/counters.h"
#include "sim/core/hostmem.h"
#include "sim/core/points.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"


static const char *const direction_names[] = { "out", "in" };
static const char *const boolean_names[] = { "false", "true" };

/* The scheduling policy attribute name names; round-robin if absent. */
static SimPolicy
get_policy(xmlNode *node, const char *name)
{
	g_autofree gchar *text = reader_attr(node, name);
	SimPolicy policy = SIM_POLICY_ROUND_ROBIN;

	if (text && !sim_policy_lookup(g_strstrip(text), &policy))
		g_assert_not_reached(); /* the schema allows no other name */
	return policy;
}

/* ---------------------------------------------------------------------------------------------
 * Elements
 */

/* The kind of event an element of <events> is. */
static TraceEventKind
event_kind(xmlNode *node)
{
	for (guint k = 0; k < TRACE_EV_COUNT; k++)
		if (strcmp(trace_event_kind_name(k), NAME(node)) == 0)
			return k;
	g_assert_not_reached(); /* the schema allows no other element in <events> */
}

/* An actor this machine has: vcpuN (N < vcpus), notifier or vmm. */
static gboolean
check_actor(Reader *r, xmlNode *node, const char *actor)
{
	guint n = r->trace->nr_vcpus;

	if (trace_actor_valid(r->trace, actor))
		return TRUE;
	if (n == 1)
		return reader_fail(r, node, "unknown actor '%s' (this VM has 1 vCPU: vcpu0, notifier, "
				   "vmm, and the NMIs of its 3 host CPUs: nmi0-nmi2)", actor);
	return reader_fail(r, node,
		    "unknown actor '%s' (this VM has %u vCPUs: vcpu0-vcpu%u, notifier, vmm, and the "
		    "NMIs of its %u host CPUs: nmi0-nmi%u)", actor, n, n - 1,
		    trace_nr_host_cpus(r->trace), trace_nr_host_cpus(r->trace) - 1);
}

/* Exits are a vCPU's, host mm events the notifier's, memslot ioctls the vmm's; MADV_DONTNEED and
 * munmap are system calls the VMM makes too, so the vmm may also do those (a second invalidator
 * of the same pages, concurrent with the notifier's). */
static gboolean
check_role(Reader *r, xmlNode *node, const TraceEvent *e)
{
	gboolean vmm_syscall = (e->kind == TRACE_EV_DONTNEED || e->kind == TRACE_EV_MUNMAP) &&
			       strcmp(e->actor, "vmm") == 0;

	if (trace_event_is_exit(e->kind) && !g_str_has_prefix(e->actor, "vcpu"))
		return reader_fail(r, node, "<%s> is a vCPU exit: its actor must be a vCPU, not '%s'",
			    NAME(node), e->actor);
	if (trace_event_is_host(e->kind) && strcmp(e->actor, "notifier") != 0 && !vmm_syscall)
		return reader_fail(r, node,
			    "<%s> is a host mm event: its actor must be 'notifier', not '%s'",
			    NAME(node), e->actor);
	if (trace_event_is_gmem(e->kind) && strcmp(e->actor, "vmm") != 0 &&
	    strcmp(e->actor, "notifier") != 0)
		return reader_fail(r, node, "<%s> is the VMM's call on private memory: its actor must be "
				     "'vmm' or 'notifier', not '%s'", NAME(node), e->actor);
	if ((e->kind == TRACE_EV_NX_RECOVER) != (strcmp(e->actor, "nx_recovery") == 0))
		return reader_fail(r, node, "<%s>: the NX huge page recovery worker (actor "
				     "'nx_recovery') does <nx_recover> and nothing else",
				     NAME(node));
	if (e->kind == TRACE_EV_DIRTY_LOG && strcmp(e->actor, "vmm") != 0 &&
	    strcmp(e->actor, "notifier") != 0)
		return reader_fail(r, node, "<dirty_log> is a VMM call: its actor must be 'vmm' or "
				     "'notifier', not '%s'", e->actor);
	if (trace_event_is_memslot(e->kind) && strcmp(e->actor, "vmm") != 0)
		return reader_fail(r, node, "<%s> is a memslot ioctl: its actor must be 'vmm', not '%s'",
			    NAME(node), e->actor);
	/* (an nmiN actor with another kind of event fails one of the checks above) */
	if (e->kind == TRACE_EV_NMI && !g_str_has_prefix(e->actor, "nmi"))
		return reader_fail(r, node,
				   "<nmi> arrives on a host CPU: its actor must be nmiN, not '%s'",
				   e->actor);
	return TRUE;
}

/* A port IO exit. */
static gboolean
read_io(Reader *r, xmlNode *node, TraceEvent *e)
{
	guint64 port, size, value;

	e->in = GET_CHOICE(node, "direction", direction_names, 0) == 1;
	if (!reader_get_number(r, node, "port", 16, 0, &port) ||
	    !reader_get_number(r, node, "size", 8, 0, &size) ||
	    !reader_get_number(r, node, "value", 32, 0, &value))
		return FALSE;
	e->port = (guint16)port;
	e->io_size = (guint)size;
	e->value = (guint32)value;
	return TRUE;
}

/* A hypercall exit: its number and up to four arguments. */
static gboolean
read_hypercall(Reader *r, xmlNode *node, TraceEvent *e)
{
	if (!reader_get_number(r, node, "nr", 64, 0, &e->nr))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(e->args); i++) {
		char name[] = { 'a', (char)('0' + i), '\0' };

		if (!reader_get_number(r, node, name, 64, 0, &e->args[i]))
			return FALSE;
	}
	return TRUE;
}

/* A host mm event on [hva, hva + size); migrate has no size: one page. */
static gboolean
read_host_range(Reader *r, xmlNode *node, TraceEvent *e)
{
	return reader_get_page_address(r, node, "hva", &e->hva) &&
	       reader_get_size(r, node, "size", SIM_PAGE_SIZE, &e->size) &&
	       reader_check_range_end(r, node, "hva", e->hva, e->size);
}

/* One event, with its actor checked against its kind. */
static gboolean
read_event(Reader *r, xmlNode *node)
{
	GArray *events = r->trace->events;
	TraceEvent *e;
	guint64 id;

	g_array_set_size(events, events->len + 1);
	e = &g_array_index(events, TraceEvent, events->len - 1);
	e->kind = event_kind(node);
	e->line = (guint)trace_node_line(node);
	e->actor = reader_attr(node, "actor");
	if (r->trace->workload && trace_event_is_exit(e->kind))
		return reader_fail(r, node, "<%s> is a vCPU exit: in a full-system trace the guest makes "
				     "those itself", NAME(node));
	if (!check_actor(r, node, e->actor) || !check_role(r, node, e) ||
	    !reader_get_number(r, node, "at", 64, 0, &e->at))
		return FALSE;
	switch (e->kind) {
	case TRACE_EV_EPT_VIOLATION:
		e->access = GET_CHOICE(node, "access", trace_access_names, 0);
		return reader_get_number(r, node, "gpa", 64, 0, &e->gpa);
	case TRACE_EV_GUEST_WRITE:
		e->access = TRACE_ACCESS_WRITE;
		return reader_get_number(r, node, "gpa", 64, 0, &e->gpa);
	case TRACE_EV_DIRTY_LOG:
		e->nr = GET_CHOICE(node, "op", trace_dirty_log_op_names, 0);
		if (!reader_get_number(r, node, "slot", 64, 0, &id))
			return FALSE;
		if (id >= KVM_USER_MEM_SLOTS)
			return reader_fail_attr(r, node, "slot", "is out of range (0 to %u)",
					 KVM_USER_MEM_SLOTS - 1);
		e->id = (guint32)id;
		return TRUE;
	case TRACE_EV_HLT:
		return TRUE;
	case TRACE_EV_NMI:
		e->touch = GET_CHOICE(node, "touch", trace_nmi_touch_names, 0);
		return TRUE;
	case TRACE_EV_IO:
		return read_io(r, node, e);
	case TRACE_EV_HYPERCALL:
		return read_hypercall(r, node, e);
	case TRACE_EV_MAP_GPA_RANGE:
		return reader_read_map_gpa_range(r, node, e);
	case TRACE_EV_MEMSLOT: {
		TraceMemslot ms = { 0 };

		if (!reader_memslot(r, node, &ms))
			return FALSE;
		e->id = ms.id;
		e->gpa = ms.gpa;
		e->size = ms.size;
		e->hva = ms.hva;
		e->flags = ms.flags;
		return TRUE;
	}
	case TRACE_EV_MEMSLOT_DELETE:
		if (!reader_get_number(r, node, "id", 64, 0, &id))
			return FALSE;
		if (id >= KVM_USER_MEM_SLOTS)
			return reader_fail_attr(r, node, "id", "is out of range (0 to %u)",
					 KVM_USER_MEM_SLOTS - 1);
		e->id = (guint32)id;
		return TRUE;
	case TRACE_EV_PUNCH_HOLE:
	case TRACE_EV_CONVERT:
	case TRACE_EV_SET_ATTRIBUTES:
	case TRACE_EV_GMEM_CLOSE:
	case TRACE_EV_PIN:
		return reader_read_gmem_event(r, node, e);
	case TRACE_EV_NX_RECOVER:
		return TRUE;
	default:
		return read_host_range(r, node, e);
	}
}

/* An event the parser read without a node (TraceLightEvent), read through a node made for the
 * moment on the stack, whose attributes are the list's names and values. */
static gboolean
read_light_event(Reader *r, xmlNode *events, const TraceLightEvents *light,
		 const TraceLightEvent *le)
{
	xmlNode node = { 0 };
	xmlAttr attrs[TRACE_LIGHT_ATTRS];
	xmlNode texts[TRACE_LIGHT_ATTRS];
	GHashTable *long_lines = events->doc->_private;
	gboolean ok;

	node.type = XML_ELEMENT_NODE;
	node.name = le->name;
	node.parent = events;
	node.doc = events->doc;
	node.line = (unsigned short)MIN(le->line, 65535u);
	node.properties = le->nr_attrs ? attrs : NULL;
	for (guint i = 0; i < le->nr_attrs; i++) {
		const TraceLightAttr *la = &g_array_index(light->attrs, TraceLightAttr,
							  le->first_attr + i);

		memset(&attrs[i], 0, sizeof(attrs[i]));
		memset(&texts[i], 0, sizeof(texts[i]));
		attrs[i].type = XML_ATTRIBUTE_NODE;
		attrs[i].name = la->name;
		attrs[i].children = attrs[i].last = &texts[i];
		attrs[i].parent = &node;
		attrs[i].next = i + 1 < le->nr_attrs ? &attrs[i + 1] : NULL;
		attrs[i].prev = i ? &attrs[i - 1] : NULL;
		attrs[i].doc = events->doc;
		texts[i].type = XML_TEXT_NODE;
		texts[i].name = xmlStringText;
		texts[i].content = (xmlChar *)la->value;
		texts[i].parent = (xmlNode *)&attrs[i];
		texts[i].doc = events->doc;
	}
	if (le->line >= 65535) { /* trace_node_line() finds it in the document's table */
		if (!long_lines)
			long_lines = events->doc->_private = g_hash_table_new(NULL, NULL);
		g_hash_table_insert(long_lines, &node, GUINT_TO_POINTER(le->line));
	}
	ok = read_event(r, &node);
	if (le->line >= 65535)
		g_hash_table_remove(long_lines, &node);
	return ok;
}

/* The events without nodes that come before the element node number kept of <events>. */
static gboolean
read_light_events(Reader *r, xmlNode *events, guint *next, guint kept)
{
	const TraceLightEvents *light = events->_private;

	for (; light && *next < light->events->len; ++*next) {
		const TraceLightEvent *le = &g_array_index(light->events, TraceLightEvent, *next);

		if (le->before > kept)
			break;
		if (!read_light_event(r, events, light, le))
			return FALSE;
	}
	return TRUE;
}

/* The events, in document order: nodes, and those the parser read without nodes between them. */
static gboolean
read_events(Reader *r, xmlNode *node)
{
	guint next = 0, kept = 0;

	trace_for_each_element(child, node) {
		if (!read_light_events(r, node, &next, kept) || !read_event(r, child))
			return FALSE;
		kept++;
	}
	return read_light_events(r, node, &next, G_MAXUINT);
}

/* One step (or move): an actor, a yield point it runs to, how many times; appended to steps. */
static gboolean
read_step(Reader *r, xmlNode *node, GArray *steps)
{
	TraceStep *s;
	guint points;
	const SimPoint *all = sim_points(&points);
	TraceNearest near;
	guint64 count;

	g_array_set_size(steps, steps->len + 1);
	s = &g_array_index(steps, TraceStep, steps->len - 1);
	s->line = (guint)trace_node_line(node);
	s->step.actor = reader_attr(node, "actor");
	s->step.until = reader_attr(node, "until");
	if (!check_actor(r, node, s->step.actor))
		return FALSE;
	if (!sim_point_known(s->step.until)) {
		trace_nearest_init(&near, s->step.until);
		for (guint i = 0; i < points; i++)
			trace_nearest_add(&near, all[i].name);
		if (near.best)
			return reader_fail_attr(r, node, "until",
					 "is not a yield point (did you mean '%s'?)", near.best);
		return reader_fail_attr(r, node, "until",
				 "is not a yield point (kvmsim list --points shows them)");
	}
	if (!reader_get_number(r, node, "count", 32, 1, &count))
		return FALSE;
	if (count < 1)
		return reader_fail_attr(r, node, "count",
				 "is below 1: a step lasts until its actor reaches the point at "
				 "least once");
	s->step.count = (guint)count;
	return TRUE;
}

/* The mark a <steps> chunk opens with: all of clock, lines and log, or none. */
static gboolean
read_mark(Reader *r, xmlNode *node, TraceMark *m)
{
	g_autofree gchar *log = reader_attr(node, "log");
	guint given = (guint)!!xmlHasProp(node, BAD_CAST "clock") +
		      !!xmlHasProp(node, BAD_CAST "lines") + (log != NULL);

	m->line = (guint)xmlGetLineNo(node);
	if (!reader_get_number(r, node, "step", 64, 0, &m->step))
		return FALSE;
	if (m->step != r->trace->steps->len)
		return reader_fail_attr(r, node, "step", "but it comes after %u step%s",
				 r->trace->steps->len, r->trace->steps->len == 1 ? "" : "s");
	if (given && given < 3)
		return reader_fail(r, node, "<steps> takes clock, lines and log together (a mark) or none");
	m->known = given == 3;
	if (log)
		g_strlcpy(m->log, log, sizeof(m->log));
	return reader_get_number(r, node, "clock", 64, 0, &m->clock) &&
	       reader_get_number(r, node, "lines", 64, 0, &m->lines);
}

/* A chunk of a packed schedule: move numbers, each the step that <move> describes. The line of
 * each step is the line its number is on. */
static gboolean
read_steps(Reader *r, xmlNode *node, GArray *moves, GString *sums)
{
	g_autofree gchar *chunk_sums = reader_attr(node, "sums");
	guint first = r->trace->steps->len;
	xmlChar *content = xmlNodeGetContent(node);
	const char *p = (const char *)content;
	guint line = (guint)xmlGetLineNo(node);
	TraceMark m = { 0 };
	gboolean ok = read_mark(r, node, &m);

	while (ok && *p) {
		guint64 n = 0;
		const char *start;

		for (; g_ascii_isspace(*p); p++)
			line += *p == '\n';
		if (!*p)
			break;
		for (start = p; g_ascii_isdigit(*p) && n <= moves->len; p++)
			n = n * 10 + (guint64)(*p - '0');
		if (!g_ascii_isdigit(*start) || (*p && !g_ascii_isspace(*p) && !g_ascii_isdigit(*p)) ||
		    n >= moves->len) {
			g_autofree gchar *token = g_strndup(start, strcspn(start, " \t\r\n"));

			if (!g_ascii_isdigit(*start) || strspn(token, "0123456789") < strlen(token))
				trace_set_error(r->error, TRACE_ERROR_SEMANTIC, r->path, line,
						"<steps> holds '%s', which is not a move number", token);
			else if (moves->len)
				trace_set_error(r->error, TRACE_ERROR_SEMANTIC, r->path, line,
						"<steps> names move %s, but the moves are 0 to %u",
						token, moves->len - 1);
			else
				trace_set_error(r->error, TRACE_ERROR_SEMANTIC, r->path, line,
						"<steps> names move %s, but the schedule has no <move>",
						token);
			ok = FALSE;
			break;
		}
		for (; g_ascii_isdigit(*p); p++)
			;
		const TraceStep *move = &g_array_index(moves, TraceStep, n);
		TraceStep s = { { g_strdup(move->step.actor), g_strdup(move->step.until),
				  move->step.count }, line };

		g_array_append_val(r->trace->steps, s);
	}
	xmlFree(content);
	if (ok && chunk_sums && strspn(chunk_sums, "0123456789abcdef") < strlen(chunk_sums))
		return reader_fail_attr(r, node, "sums", "is not hex digits (0-9, a-f)");
	if (ok && chunk_sums && strlen(chunk_sums) != r->trace->steps->len - first)
		return reader_fail_attr(r, node, "sums", "has %zu digits for %u steps", strlen(chunk_sums),
				 r->trace->steps->len - first);
	if (ok && sums && chunk_sums)
		g_string_append(sums, chunk_sums);
	if (ok)
		g_array_append_val(r->trace->marks, m);
	return ok;
}

/* The policy, and for steps, the steps (as <step>s, or packed) and what follows them. */
static gboolean
read_schedule(Reader *r, xmlNode *node)
{
	Trace *t = r->trace;

	t->policy = get_policy(node, "policy");
	t->then = get_policy(node, "then");
	if (!reader_get_number(r, node, "watchdog", 63, 0, &t->watchdog))
		return FALSE;
	if (xmlHasProp(node, BAD_CAST "watchdog") && !t->watchdog)
		return reader_fail_attr(r, node, "watchdog", "is not positive: a livelock takes at "
					"least one yield point without progress");
	/* the schema keeps <schedule> flat (a choice of groups makes libxml2's validation of a long
	 * recorded schedule quadratic), so the pairing of policy and steps is checked here */
	gboolean steps = t->policy == SIM_POLICY_STEPS;
	g_autoptr(GArray) moves = g_array_new(FALSE, TRUE, sizeof(TraceStep));
	gboolean ok = TRUE;
	g_autoptr(GString) sums = g_string_new(NULL);

	g_array_set_clear_func(moves, trace_step_clear);
	if (!steps && xmlHasProp(node, BAD_CAST "then"))
		return reader_fail(r, node, "<schedule> takes then only with policy=\"steps\"");
	trace_for_each_element(child, node) {
		if (!steps)
			return reader_fail(r, child, "<%s> is only allowed inside <schedule policy=\"steps\">",
				    NAME(child));
		if (strcmp(NAME(child), "step") == 0 && (moves->len || t->marks->len))
			return reader_fail(r, child, "<step> cannot be mixed with <move> and <steps>");
		if (strcmp(NAME(child), "step") == 0)
			ok = read_step(r, child, t->steps);
		else if (strcmp(NAME(child), "move") == 0 && t->steps->len)
			return reader_fail(r, child, "<move> cannot be mixed with <step>");
		else if (strcmp(NAME(child), "move") == 0)
			ok = read_step(r, child, moves);
		else
			ok = read_steps(r, child, moves, sums);
		if (!ok)
			return FALSE;
	}
	t->packed = t->marks->len > 0;
	if (t->packed && sums->len == t->steps->len)
		t->step_sums = g_strdup(sums->str);
	if (steps && t->steps->len == 0)
		return reader_fail(r, node, "<schedule> needs at least one <step>");
	return TRUE;
}

/* frame="0xHVA#N": the N-th frame mapped at host page HVA, counted from #1; frame="zero": the
 * shared zero page. */
static gboolean
read_frame(Reader *r, xmlNode *node, TraceExpect *x)
{
	g_autofree gchar *text = reader_attr(node, "frame");
	char *nth;
	guint64 hva, n;

	if (!text)
		return TRUE;
	if (strcmp(text, "zero") == 0) {
		x->frame_zero = TRUE;
		return TRUE;
	}
	nth = strchr(text, '#');
	*nth++ = '\0';
	if (!reader_parse_number(text, &hva))
		return reader_fail_attr(r, node, "frame",
				 "names a host address that does not fit in 64 bits");
	if (!reader_parse_number(nth, &n) || n > G_MAXUINT)
		return reader_fail_attr(r, node, "frame",
				 "has a frame number that does not fit in 32 bits");
	if (hva % SIM_PAGE_SIZE)
		return reader_fail_attr(r, node, "frame",
				 "names host address %s, which is not page aligned", text);
	if (hva == 0)
		return reader_fail_attr(r, node, "frame", "names host page 0, which is never mapped");
	if (n == 0)
		return reader_fail_attr(r, node, "frame", "counts frames from #1 (the first one mapped)");
	x->frame_hva = hva;
	x->frame_nth = (guint)n;
	return TRUE;
}

/* What the leaf SPTE of a gfn must be at the end. */
static gboolean
read_spte(Reader *r, xmlNode *node, TraceExpect *x)
{
	guint64 level;

	x->present = GET_CHOICE(node, "present", boolean_names, 0);
	x->writable = xmlHasProp(node, (const xmlChar *)"writable") ?
			      (gint)GET_CHOICE(node, "writable", boolean_names, 0) :
			      -1;
	if (!reader_get_number(r, node, "gfn", 64, 0, &x->gfn) ||
	    !reader_get_number(r, node, "level", 64, 0, &level))
		return FALSE;
	if (xmlHasProp(node, (const xmlChar *)"level") && (level < 1 || level > 4))
		return reader_fail_attr(r, node, "level", "is not a page-table level (1 to 4)");
	x->level = (gint)level;
	return read_frame(r, node, x);
}

/* A counter's final value. */
static gboolean
read_counter(Reader *r, xmlNode *node, TraceExpect *x)
{
	TraceNearest near;
	SimCounter id;

	x->counter = reader_attr(node, "name");
	if (!sim_counter_lookup(x->counter, &id)) {
		trace_nearest_init(&near, x->counter);
		for (guint i = 0; i < SIM_CTR_COUNT; i++)
			trace_nearest_add(&near, sim_counter_name(i));
		if (near.best)
			return reader_fail_attr(r, node, "name", "is not a counter (did you mean '%s'?)",
					 near.best);
		return reader_fail_attr(r, node, "name",
				 "is not a counter (docs/trace-format.md lists them)");
	}
	return reader_get_number(r, node, "value", 64, 0, &x->value);
}

/* A log line that must (not) appear, or appear count times. */
static gboolean
read_expect_event(Reader *r, xmlNode *node, TraceExpect *x)
{
	guint64 count;

	x->match = reader_attr_text(node, "match");
	x->count = -1;
	if (xmlHasProp(node, (const xmlChar *)"present")) {
		x->want_present = GET_CHOICE(node, "present", boolean_names, 0);
		return TRUE;
	}
	if (!reader_get_number(r, node, "count", 31, 0, &count))
		return FALSE;
	x->count = (gint)count;
	return TRUE;
}

/* The expectations, each with its line for the report. */
static gboolean
read_expect(Reader *r, xmlNode *node)
{
	static const char *const kinds[] = {
		[TRACE_EXPECT_SPTE] = "spte",
		[TRACE_EXPECT_ATTRIBUTE] = "attribute",
		[TRACE_EXPECT_SHAREABILITY] = "shareability",
		[TRACE_EXPECT_MEMORY_FAULT] = "memory_fault",
		[TRACE_EXPECT_COUNTER] = "counter",
		[TRACE_EXPECT_EVENT] = "event",
		[TRACE_EXPECT_GUEST] = "guest",
		[TRACE_EXPECT_INVARIANTS] = "invariants",
		[TRACE_EXPECT_LOG_HASH] = "log_hash",
	};
	GArray *expects = r->trace->expects;

	trace_for_each_element(child, node) {
		TraceExpect *x;
		gboolean ok = TRUE;

		g_array_set_size(expects, expects->len + 1);
		x = &g_array_index(expects, TraceExpect, expects->len - 1);
		x->line = (guint)trace_node_line(child);
		x->writable = -1;
		x->count = -1;
		x->kind = INDEX_OF(kinds, NAME(child));
		switch (x->kind) {
		case TRACE_EXPECT_SPTE:
			ok = read_spte(r, child, x);
			break;
		case TRACE_EXPECT_ATTRIBUTE:
			ok = reader_get_number(r, child, "gfn", 64, 0, &x->gfn);
			x->is_private = GET_CHOICE(child, "private", boolean_names, 0);
			if (ok && !r->trace->vm_type)
				ok = reader_fail(r, child, "<attribute> needs a VM with private memory");
			break;
		case TRACE_EXPECT_SHAREABILITY:
			ok = reader_read_shareability(r, child, x);
			break;
		case TRACE_EXPECT_MEMORY_FAULT:
			ok = reader_read_memory_fault(r, child, x);
			break;
		case TRACE_EXPECT_COUNTER:
			ok = read_counter(r, child, x);
			break;
		case TRACE_EXPECT_EVENT:
			ok = read_expect_event(r, child, x);
			break;
		case TRACE_EXPECT_GUEST:
			x->result = reader_attr(child, "result");
			break;
		case TRACE_EXPECT_INVARIANTS:
			x->hold = GET_CHOICE(child, "hold", boolean_names, 0);
			break;
		case TRACE_EXPECT_LOG_HASH:
			x->hash = reader_attr(child, "value");
			break;
		}
		if (!ok)
			return FALSE;
	}
	return TRUE;
}

/* The comment before the root element says what the trace is for; then the root's children. */
static gboolean
read_trace(Reader *r, xmlDoc *doc)
{
	static const char *const names[] = {
		"header", "vm", "workload", "events", "schedule", "expect",
	};
	static gboolean (*const readers[])(Reader *r, xmlNode *node) = {
		reader_header, reader_vm, reader_workload, read_events, read_schedule, read_expect,
	};
	xmlNode *root = xmlDocGetRootElement(doc);

	for (xmlNode *n = doc->children; n != root; n = n->next) {
		if (n->type == XML_COMMENT_NODE) {
			r->trace->comment = g_strdup((const char *)n->content);
			break;
		}
	}
	trace_for_each_element(child, root)
		if (!readers[INDEX_OF(names, NAME(child))](r, child))
			return FALSE;
	return TRUE;
}

/* Parse, validate, read element by element, then check across elements. The document is read
 * without the white space between elements (a text node per element; neither the schema nor the
 * reader looks at them) and with most events as a list rather than nodes (TraceLightEvent); one
 * that the fast validation does not take is parsed again as written, all nodes, for the full
 * validation to explain what is wrong in it. */
Trace *
trace_load(const char *path, GError **error)
{
	g_autoptr(Trace) trace = NULL;
	TraceFastSchema *fs = trace_fast_schema_new();
	xmlDoc *doc = trace_parse_file(path, XML_PARSE_NOBLANKS, fs, error);
	gboolean ok, valid = doc && trace_fast_schema_validate(fs, doc);

	trace_fast_schema_free(fs);
	if (!doc)
		return NULL;
	if (!valid) {
		trace_free_doc(doc);
		doc = trace_parse_file(path, 0, NULL, error);
		if (!doc)
			return NULL;
		if (!trace_schema_validate(doc, path, error)) {
			trace_free_doc(doc);
			return NULL;
		}
	}
	trace = trace_new();
	trace->path = g_strdup(path);

	Reader r = { path, trace, error, NULL, { FALSE } };

	ok = read_trace(&r, doc);
	trace_free_doc(doc);
	if (!ok || !trace_check(trace, error))
		return NULL;
	return g_steal_pointer(&trace);
}
