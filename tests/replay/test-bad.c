/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loading and saving traces. Every file in tests/replay/bad must fail to load with exactly the
 * error its first comment states ("<!-- expect: LINE: message -->", the path goes in front), of the
 * kind its name starts with (syntax-, schema-, semantic-); a new file there is a new test. Then:
 * trace_save() and trace_load() round-trip, and a save that fails leaves nothing behind.
 */
#include "tests/check-run.h"
#include <glib/gstdio.h>
#include <string.h>

#include "sim/trace/trace.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"

static const char *bad_dir;
static GPtrArray *bad_files; /* names in bad_dir, sorted */

/* ---------------------------------------------------------------------------------------------
 * Traces that must not load
 */

/* "LINE: message" from the file's expect comment, or NULL. */
static gchar *
expected_error(const char *text)
{
	static const char open[] = "<!-- expect: ";
	const char *start = strstr(text, open);
	const char *end = start ? strstr(start, " -->") : NULL;

	if (!end)
		return NULL;
	start += strlen(open);
	return g_strndup(start, (gsize)(end - start));
}

/* The error code a file's name promises; -1 for a name that promises none. */
static int
expected_code(const char *name)
{
	if (g_str_has_prefix(name, "syntax-"))
		return TRACE_ERROR_SYNTAX;
	if (g_str_has_prefix(name, "schema-"))
		return TRACE_ERROR_SCHEMA;
	if (g_str_has_prefix(name, "semantic-"))
		return TRACE_ERROR_SEMANTIC;
	return -1;
}

START_TEST(bad_trace_fails_with_exactly_the_error_its_comment_states)
{
	const char *name = g_ptr_array_index(bad_files, _i);
	g_autofree gchar *path = g_build_filename(bad_dir, name, NULL);
	g_autofree gchar *text = NULL;
	g_autofree gchar *expect = NULL;
	g_autofree gchar *want = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) trace = NULL;

	ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "%s: cannot read it", path);
	expect = expected_error(text);
	ck_assert_msg(expect, "%s: no <!-- expect: LINE: message --> comment", path);
	ck_assert_msg(expected_code(name) >= 0,
		      "%s: the name must start with syntax-, schema- or semantic-", path);
	want = g_strdup_printf("%s:%s", path, expect);
	trace = trace_load(path, &error);
	ck_assert_msg(!trace, "%s loaded, but must fail with\n  %s", path, want);
	ck_assert_str_eq(error->message, want);
	ck_assert_msg(error->domain == TRACE_ERROR && (int)error->code == expected_code(name),
		      "%s: error code %d, but the name promises %d", path, error->code,
		      expected_code(name));
}
END_TEST

START_TEST(loading_a_missing_file_is_an_io_error_naming_it)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) trace = trace_load("no-such-trace.xml", &error);

	ck_assert_ptr_null(trace);
	ck_assert_int_eq(error->code, TRACE_ERROR_IO);
	ck_assert_str_eq(error->message, "no-such-trace.xml: No such file or directory");
}
END_TEST

START_TEST(attribute_tokens_are_read_without_their_surrounding_spaces)
{
	static const char text[] =
		"<?xml version=\"1.0\"?>\n<kvmsim-trace format=\"1\">\n"
		"  <header kvmsim=\"0.1.0\" seed=\"7\"><mutations/></header>\n"
		"  <vm vcpus=\"1\"><memslot id=\"0\" gpa=\"0x0\" size=\"1M\" "
		"hva=\"0x7f0000000000\"/></vm>\n"
		"  <events><io actor=\"vcpu0\" direction=\"out\" port=\"0xe9\" size=\" 4 \" "
		"value=\"1\"/></events>\n"
		"  <schedule policy=\"round-robin\"/>\n"
		"  <expect><event match=\" kvm_pio \" present=\"true\"/><guest result=\" none \"/>"
		"</expect>\n</kvmsim-trace>\n";
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "spaces.xml", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) trace = NULL;

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	trace = trace_load(path, &error);
	ck_assert_msg(trace, "%s", error ? error->message : "");
	ck_assert_uint_eq(g_array_index(trace->events, TraceEvent, 0).io_size, 4);
	/* a match is text, not a token: its spaces are part of what must appear */
	ck_assert_str_eq(g_array_index(trace->expects, TraceExpect, 0).match, " kvm_pio ");
	ck_assert_str_eq(g_array_index(trace->expects, TraceExpect, 1).result, "none");
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Round trips
 */

/* Append an event (host events default to one page, as trace_load() does). */
static TraceEvent *
add_event(Trace *t, TraceEventKind kind, const char *actor)
{
	gboolean host = kind >= TRACE_EV_MIGRATE && kind <= TRACE_EV_INVALIDATE_END;
	TraceEvent e = { .kind = kind, .actor = g_strdup(actor), .size = host ? 4096 : 0 };

	g_array_append_val(t->events, e);
	return &g_array_index(t->events, TraceEvent, t->events->len - 1);
}

/* Append a step. */
static void
add_step(Trace *t, const char *actor, const char *until, guint count)
{
	TraceStep s = { { g_strdup(actor), g_strdup(until), count }, 0 };

	g_array_append_val(t->steps, s);
}

/* Append an expectation. */
static void
add_expect(Trace *t, TraceExpect x)
{
	g_array_append_val(t->expects, x);
}

/* Two vCPUs, two memslots, every kind of event, steps, and every kind of expectation (in the
 * schema's order, which is the order trace_load() gives). */
static Trace *
exit_level_trace(void)
{
	Trace *t = trace_new();
	TraceMemslot slots[] = {
		{ 0, 0x0, 0x100000, 0x7f0000000000, 0, 0, 0 },
		{ 1, 0x100000, 0x200000, 0x7f0000100000, 1, 0, 0 },
	};
	g_autofree gchar *hash = g_strnfill(64, 'a');
	TraceEvent *e;

	t->comment = g_strdup("\n  Two vCPUs race on one gfn & the notifier invalidates it.\n");
	t->kvmsim_version = g_strdup("0.1.0 \"<test>\"");
	t->seed = 42;
	t->nr_vcpus = 2;
	t->quantum = 100;
	t->max_insns = 1000000;
	g_array_append_vals(t->memslots, slots, G_N_ELEMENTS(slots));
	e = add_event(t, TRACE_EV_EPT_VIOLATION, "vcpu0");
	e->gpa = 0x1234;
	e->access = TRACE_ACCESS_WRITE;
	e = add_event(t, TRACE_EV_EPT_VIOLATION, "vcpu1");
	e->gpa = 0x1000;
	e->access = TRACE_ACCESS_FETCH;
	e->at = 5;
	e = add_event(t, TRACE_EV_IO, "vcpu0");
	e->in = TRUE;
	e->port = 0x3f8;
	e->io_size = 1;
	e = add_event(t, TRACE_EV_IO, "vcpu1");
	e->port = 0xcf8;
	e->io_size = 4;
	e->value = 0x80000000;
	e = add_event(t, TRACE_EV_HYPERCALL, "vcpu1");
	e->nr = 11;
	e->args[0] = 1;
	e->args[2] = G_MAXUINT64;
	add_event(t, TRACE_EV_HLT, "vcpu1")->at = 7; /* its last exit: a halted vCPU takes none */
	e = add_event(t, TRACE_EV_MIGRATE, "notifier");
	e->hva = 0x7f0000001000;
	e->at = 3;
	for (TraceEventKind k = TRACE_EV_DONTNEED; k <= TRACE_EV_INVALIDATE_END; k++) {
		e = add_event(t, k, "notifier");
		e->hva = 0x7f0000002000;
		e->size = 0x2000;
	}
	e = add_event(t, TRACE_EV_MEMSLOT, "vmm");
	e->id = 2;
	e->gpa = 0x400000;
	e->size = 0x1000;
	e->hva = 0x7f0000400000;
	e->flags = 2;
	add_event(t, TRACE_EV_MEMSLOT_DELETE, "vmm")->id = 2;
	t->policy = SIM_POLICY_STEPS;
	t->then = SIM_POLICY_RANDOM;
	add_step(t, "vcpu0", "fault.mmu_lock", 1);
	add_step(t, "notifier", "invalidate.mmu_unlock", 2);
	add_step(t, "vcpu1", "exit", 1);
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_SPTE, .gfn = 1, .present = TRUE,
				     .writable = 1, .level = 1, .frame_hva = 0x7f0000001000,
				     .frame_nth = 2, .count = -1 });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_SPTE, .gfn = 0x100, .present = FALSE,
				     .writable = -1, .count = -1 });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_SPTE, .gfn = 2, .present = TRUE,
				     .writable = 0, .frame_zero = TRUE, .count = -1 });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_COUNTER, .writable = -1, .count = -1,
				     .counter = g_strdup("faults.fixed"), .value = 2 });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_EVENT, .writable = -1,
				     .match = g_strdup("kvm_exit: \"x\" & <y>\tz"), .count = 3 });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_EVENT, .writable = -1, .count = -1,
				     .match = g_strdup("zap"), .want_present = FALSE });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_GUEST, .writable = -1, .count = -1,
				     .result = g_strdup("none") });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_INVARIANTS, .writable = -1, .count = -1,
				     .hold = TRUE });
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_LOG_HASH, .writable = -1, .count = -1,
				     .hash = g_strconcat("sha256:", hash, NULL) });
	return t;
}

/* A long schedule as a recording writes it: packed, with a mark per chunk and a sum per step. */
static Trace *
packed_trace(void)
{
	Trace *t = exit_level_trace();
	static const char *const points[] = { "fault.mmu_lock", "vcpu.enter", "block" };
	guint n = 2 * TRACE_MARK_EVERY + 100;

	g_array_set_size(t->steps, 0);
	for (guint i = 0; i < n; i++)
		add_step(t, i % 2 ? "vcpu1" : "vcpu0", points[i % 3], i % 5 ? 1 : 2);
	t->packed = TRUE;
	t->step_sums = g_malloc(n + 1);
	for (guint i = 0; i < n; i++)
		t->step_sums[i] = "0123456789abcdef"[(i * 7) % 16];
	t->step_sums[n] = '\0';
	for (guint i = 0; i < 3; i++) {
		TraceMark m = { i * TRACE_MARK_EVERY, i > 0, 1000 * i, 3000 * i, "", 0 };

		if (i)
			g_strlcpy(m.log, i == 1 ? "0123456789abcdef" : "fedcba9876543210", sizeof(m.log));
		g_array_append_val(t->marks, m);
	}
	return t;
}

/* A workload with parameters, a recorded host event that found no page, a random schedule. */
static Trace *
full_system_trace(void)
{
	Trace *t = trace_new();
	TraceEvent *e;

	t->kvmsim_version = g_strdup("0.1.0");
	t->seed = 7;
	t->nr_vcpus = 4;
	t->mem = 16 << 20;
	t->workload = g_strdup("stress");
	t->params[0] = 3;
	t->params[5] = G_MAXUINT64;
	t->boot_flags = KVMSIM_BOOT_ZERO_OK;
	e = add_event(t, TRACE_EV_DONTNEED, "notifier");
	e->at = 120;
	t->policy = SIM_POLICY_RANDOM;
	add_expect(t, (TraceExpect){ .kind = TRACE_EXPECT_GUEST, .writable = -1, .count = -1,
				     .result = g_strdup("pass") });
	return t;
}

/* Every field of an event. */
static void
assert_events_equal(const TraceEvent *a, const TraceEvent *b, guint i)
{
	ck_assert_msg(a->kind == b->kind, "event %u: kind", i);
	ck_assert_str_eq(a->actor, b->actor);
	ck_assert_msg(a->at == b->at && a->gpa == b->gpa && a->access == b->access &&
			      a->hva == b->hva && a->size == b->size && a->id == b->id &&
			      a->flags == b->flags,
		      "event %u (%s): at, gpa, access, hva, size, id or flags differ", i,
		      trace_event_kind_name(a->kind));
	ck_assert_msg(a->in == b->in && a->port == b->port && a->io_size == b->io_size &&
			      a->value == b->value && a->nr == b->nr &&
			      memcmp(a->args, b->args, sizeof(a->args)) == 0,
		      "event %u (%s): io or hypercall fields differ", i,
		      trace_event_kind_name(a->kind));
}

/* Every field of an expectation. */
static void
assert_expects_equal(const TraceExpect *a, const TraceExpect *b, guint i)
{
	ck_assert_msg(a->kind == b->kind, "expectation %u: kind", i);
	ck_assert_msg(a->gfn == b->gfn && a->present == b->present && a->writable == b->writable &&
			      a->level == b->level && a->frame_hva == b->frame_hva &&
			      a->frame_nth == b->frame_nth && a->frame_zero == b->frame_zero,
		      "expectation %u: spte fields differ", i);
	ck_assert_msg(a->value == b->value && a->count == b->count &&
			      a->want_present == b->want_present && a->hold == b->hold,
		      "expectation %u: value, count or want_present differ", i);
	ck_assert_pstr_eq(a->counter, b->counter);
	ck_assert_pstr_eq(a->match, b->match);
	ck_assert_pstr_eq(a->result, b->result);
	ck_assert_pstr_eq(a->hash, b->hash);
}

/* Equal in everything but the path and the line numbers a loaded trace remembers. */
static void
assert_traces_equal(const Trace *a, const Trace *b)
{
	ck_assert_pstr_eq(a->comment, b->comment);
	ck_assert_pstr_eq(a->kvmsim_version, b->kvmsim_version);
	ck_assert_msg(a->seed == b->seed && a->nr_vcpus == b->nr_vcpus && a->mem == b->mem &&
			      a->quantum == b->quantum && a->max_insns == b->max_insns,
		      "seed, vcpus, mem, quantum or max-insns differ");
	ck_assert_uint_eq(a->memslots->len, b->memslots->len);
	for (guint i = 0; i < a->memslots->len; i++) {
		const TraceMemslot *x = &g_array_index(a->memslots, TraceMemslot, i);
		const TraceMemslot *y = &g_array_index(b->memslots, TraceMemslot, i);

		ck_assert_msg(x->id == y->id && x->gpa == y->gpa && x->size == y->size &&
				      x->hva == y->hva && x->flags == y->flags,
			      "memslot %u differs", i);
	}
	ck_assert_pstr_eq(a->workload, b->workload);
	ck_assert_mem_eq(a->params, b->params, sizeof(a->params));
	ck_assert_uint_eq(a->boot_flags, b->boot_flags);
	ck_assert_uint_eq(a->events->len, b->events->len);
	for (guint i = 0; i < a->events->len; i++)
		assert_events_equal(&g_array_index(a->events, TraceEvent, i),
				    &g_array_index(b->events, TraceEvent, i), i);
	ck_assert_int_eq(a->policy, b->policy);
	ck_assert_int_eq(a->then, b->then);
	ck_assert_uint_eq(a->steps->len, b->steps->len);
	for (guint i = 0; i < a->steps->len; i++) {
		const SimStep *x = &g_array_index(a->steps, TraceStep, i).step;
		const SimStep *y = &g_array_index(b->steps, TraceStep, i).step;

		ck_assert_str_eq(x->actor, y->actor);
		ck_assert_str_eq(x->until, y->until);
		ck_assert_uint_eq(x->count, y->count);
	}
	ck_assert_int_eq(a->packed, b->packed);
	ck_assert_pstr_eq(a->step_sums, b->step_sums);
	ck_assert_uint_eq(a->marks->len, b->marks->len);
	for (guint i = 0; i < a->marks->len; i++) {
		const TraceMark *x = &g_array_index(a->marks, TraceMark, i);
		const TraceMark *y = &g_array_index(b->marks, TraceMark, i);

		ck_assert_msg(x->step == y->step && x->known == y->known && x->clock == y->clock &&
				      x->lines == y->lines && strcmp(x->log, y->log) == 0,
			      "mark %u differs", i);
	}
	ck_assert_uint_eq(a->expects->len, b->expects->len);
	for (guint i = 0; i < a->expects->len; i++)
		assert_expects_equal(&g_array_index(a->expects, TraceExpect, i),
				     &g_array_index(b->expects, TraceExpect, i), i);
}

/* Save, load, compare; then save what was loaded and check the file comes out the same. */
static void
assert_round_trip(Trace *(*make)(void))
{
	g_autoptr(Trace) trace = make();
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *first = g_build_filename(dir, "first.xml", NULL);
	g_autofree gchar *second = g_build_filename(dir, "second.xml", NULL);
	g_autofree gchar *first_text = NULL;
	g_autofree gchar *second_text = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) loaded = NULL;

	ck_assert_msg(trace_save(trace, first, &error), "%s", error ? error->message : "");
	loaded = trace_load(first, &error);
	ck_assert_msg(loaded, "%s", error ? error->message : "");
	assert_traces_equal(trace, loaded);
	ck_assert_msg(trace_save(loaded, second, &error), "%s", error ? error->message : "");
	ck_assert(g_file_get_contents(first, &first_text, NULL, NULL));
	ck_assert(g_file_get_contents(second, &second_text, NULL, NULL));
	ck_assert_str_eq(first_text, second_text);
	g_unlink(first);
	g_unlink(second);
	g_rmdir(dir);
}

START_TEST(exit_level_trace_with_every_element_round_trips)
{
	assert_round_trip(exit_level_trace);
}
END_TEST

START_TEST(packed_schedule_with_marks_and_sums_round_trips)
{
	assert_round_trip(packed_trace);
}
END_TEST

START_TEST(full_system_trace_round_trips)
{
	assert_round_trip(full_system_trace);
}
END_TEST

START_TEST(loaded_trace_remembers_the_line_of_each_element)
{
	g_autoptr(Trace) trace = exit_level_trace();
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "t.xml", NULL);
	g_autoptr(Trace) loaded = NULL;

	ck_assert(trace_save(trace, path, NULL));
	loaded = trace_load(path, NULL);
	ck_assert_ptr_nonnull(loaded);
	ck_assert_str_eq(loaded->path, path);
	/* the comment takes lines 2-4, then kvmsim-trace, header, mutations, /header, vm */
	ck_assert_uint_eq(loaded->memslots_line, 9);
	ck_assert_uint_eq(g_array_index(loaded->memslots, TraceMemslot, 1).line, 11);
	ck_assert_uint_eq(g_array_index(loaded->events, TraceEvent, 0).line, 14);
	ck_assert_uint_eq(g_array_index(loaded->steps, TraceStep, 0).line, 30);
	ck_assert_uint_eq(g_array_index(loaded->expects, TraceExpect, 0).line, 35);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(comment_dashes_are_spaced_so_the_file_stays_xml)
{
	g_autoptr(Trace) trace = full_system_trace();
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "t.xml", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(Trace) loaded = NULL;

	trace->comment = g_strdup(" kvmsim run stress --seed 7 -");
	ck_assert(trace_save(trace, path, NULL));
	loaded = trace_load(path, &error);
	ck_assert_msg(loaded, "%s", error ? error->message : "");
	ck_assert_str_eq(loaded->comment, " kvmsim run stress - -seed 7 - ");
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* Save trace under a temporary directory and load it back; the error (if any) in *error. */
static Trace *
save_and_load(const Trace *trace, GError **error)
{
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "t.xml", NULL);
	Trace *loaded;

	ck_assert(trace_save(trace, path, NULL));
	loaded = trace_load(path, error);
	g_unlink(path);
	g_rmdir(dir);
	return loaded;
}

START_TEST(every_workload_name_kvmsim_can_record_loads_back)
{
	gsize n;
	const KvmsimWorkload *all = kvmsim_workload_all(&n);

	for (gsize i = 0; i < n; i++) {
		g_autoptr(Trace) trace = full_system_trace();
		g_autoptr(Trace) loaded = NULL;
		g_autoptr(GError) error = NULL;

		g_free(trace->workload);
		trace->workload = g_strdup(all[i].name);
		loaded = save_and_load(trace, &error);
		ck_assert_msg(loaded, "%s", error ? error->message : "");
		ck_assert_str_eq(loaded->workload, all[i].name);
	}
}
END_TEST

/* A workload's name may hold '-', '.' and '+' (embed-images.py builds in any such name): the
 * schema takes it, so only the check that the workload exists can turn it down. */
START_TEST(workload_name_with_dashes_dots_and_plus_passes_the_schema)
{
	static const char *const names[] = { "dirty-log", "sha256.v2", "c++", "2mb-pages", "A_b" };

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autoptr(Trace) trace = full_system_trace();
		g_autoptr(Trace) loaded = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree gchar *want = g_strdup_printf("<workload> name=\"%s\" is not a workload",
							 names[i]);

		g_free(trace->workload);
		trace->workload = g_strdup(names[i]);
		loaded = save_and_load(trace, &error);
		ck_assert_ptr_null(loaded);
		ck_assert_msg(error->code == TRACE_ERROR_SEMANTIC && strstr(error->message, want),
			      "%s", error->message);
	}
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Failed saves
 */

START_TEST(save_into_a_missing_directory_fails_and_creates_nothing)
{
	g_autoptr(Trace) trace = full_system_trace();
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *missing = g_build_filename(dir, "missing", NULL);
	g_autofree gchar *path = g_build_filename(missing, "t.xml", NULL);
	g_autoptr(GError) error = NULL;

	ck_assert(!trace_save(trace, path, &error));
	ck_assert_int_eq(error->code, TRACE_ERROR_IO);
	ck_assert_msg(g_str_has_prefix(error->message, path), "%s", error->message);
	ck_assert(!g_file_test(missing, G_FILE_TEST_EXISTS));
	ck_assert_int_eq(g_rmdir(dir), 0); /* still empty */
}
END_TEST

START_TEST(save_that_cannot_rename_into_place_leaves_no_temporary_file)
{
	g_autoptr(Trace) trace = full_system_trace();
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-trace-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "t.xml", NULL);
	g_autofree gchar *inside = g_build_filename(path, "keep", NULL);
	g_autoptr(GError) error = NULL;
	GDir *listing;
	guint entries = 0;

	/* a non-empty directory where the trace should go: the rename over it fails */
	ck_assert_int_eq(g_mkdir(path, 0700), 0);
	ck_assert(g_file_set_contents(inside, "", 0, NULL));
	ck_assert(!trace_save(trace, path, &error));
	ck_assert_int_eq(error->code, TRACE_ERROR_IO);
	listing = g_dir_open(dir, 0, NULL);
	while (g_dir_read_name(listing))
		entries++;
	g_dir_close(listing);
	ck_assert_uint_eq(entries, 1);
	g_unlink(inside);
	g_rmdir(path);
	g_rmdir(dir);
}
END_TEST

/* The bad files (one case each), round trips, failed saves. */
static Suite *
trace_suite(void)
{
	Suite *s = suite_create("trace");
	TCase *tc = tcase_create("bad");

	tcase_add_loop_test(tc, bad_trace_fails_with_exactly_the_error_its_comment_states, 0,
			    (int)bad_files->len);
	tcase_add_test(tc, loading_a_missing_file_is_an_io_error_naming_it);
	tcase_add_test(tc, attribute_tokens_are_read_without_their_surrounding_spaces);
	suite_add_tcase(s, tc);

	tc = tcase_create("round-trip");
	tcase_add_test(tc, exit_level_trace_with_every_element_round_trips);
	tcase_add_test(tc, full_system_trace_round_trips);
	tcase_add_test(tc, packed_schedule_with_marks_and_sums_round_trips);
	tcase_add_test(tc, loaded_trace_remembers_the_line_of_each_element);
	tcase_add_test(tc, comment_dashes_are_spaced_so_the_file_stays_xml);
	tcase_add_test(tc, every_workload_name_kvmsim_can_record_loads_back);
	tcase_add_test(tc, workload_name_with_dashes_dots_and_plus_passes_the_schema);
	suite_add_tcase(s, tc);

	tc = tcase_create("save");
	tcase_add_test(tc, save_into_a_missing_directory_fails_and_creates_nothing);
	tcase_add_test(tc, save_that_cannot_rename_into_place_leaves_no_temporary_file);
	suite_add_tcase(s, tc);
	return s;
}

/* For g_ptr_array_sort() of names. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* usage: test-bad DIR (the directory of bad traces) */
int
main(int argc, char **argv)
{
	g_autoptr(GError) error = NULL;
	GDir *dir;
	const char *name;

	if (argc != 2) {
		g_printerr("usage: %s DIR\n", argv[0]);
		return 99;
	}
	bad_dir = argv[1];
	dir = g_dir_open(bad_dir, 0, &error);
	if (!dir) {
		g_printerr("%s\n", error->message);
		return 99;
	}
	bad_files = g_ptr_array_new_with_free_func(g_free);
	while ((name = g_dir_read_name(dir)))
		if (g_str_has_suffix(name, ".xml"))
			g_ptr_array_add(bad_files, g_strdup(name));
	g_dir_close(dir);
	g_ptr_array_sort(bad_files, compare_names);

	int status = check_run_suite(trace_suite());

	g_ptr_array_unref(bad_files);
	return status;
}
