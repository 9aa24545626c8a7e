/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core: the event log's own formatter and its sinks (capture, SHA-256, file). */
#include "tests/unit/core-support.h"

#include <stdarg.h>

#include "sim/core/logfmt.h"

/* What sim_logfmt() writes for fmt, as a string; NULL when it declines (-1). */
static gchar *
logfmt(gsize cap, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static gchar *
logfmt(gsize cap, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	gssize n = sim_logfmt(buf, MIN(cap, sizeof(buf)), fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : g_strndup(buf, (gsize)n);
}

/* sim_logfmt() and glibc's printf agree on fmt with these arguments. */
#define ck_assert_formats_as_printf(fmt, ...)                                                      \
	do {                                                                                       \
		g_autofree gchar *ours = logfmt(512, fmt, __VA_ARGS__);                            \
		g_autofree gchar *libc = g_strdup_printf(fmt, __VA_ARGS__);                        \
		ck_assert_msg(ours != NULL, "sim_logfmt declined \"%s\"", fmt);                   \
		ck_assert_str_eq(ours, libc);                                                      \
	} while (0)

START_TEST(every_conversion_the_log_uses_gives_printf_s_bytes)
{
	static const guint64 values[] = { 0, 1, 9, 10, 0xf, 0x10, 0x7fffffff, 0x80000000,
					  0xffffffff, 0x100000000ull, 0x8000000000000000ull,
					  G_MAXUINT64 };

	for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
		guint64 v = values[i];
		guint32 v32 = (guint32)v;

		ck_assert_formats_as_printf("%u %d %x %X %i", v32, (int)v32, v32, v32, (int)v32);
		ck_assert_formats_as_printf("%lu %ld %lx %llx %zu", (gulong)v, (glong)v, (gulong)v,
					    (unsigned long long)v, (gsize)v);
		ck_assert_formats_as_printf("%016lx|%08x|%#x|%#lx|%#016lx|%#010x", (gulong)v, v32,
					    v32, (gulong)v, (gulong)v, v32);
		ck_assert_formats_as_printf("%5d|%-5d|%05d|%-8u|%3lu", (int)v32, (int)v32, (int)v32,
					    v32, (gulong)v);
		ck_assert_formats_as_printf("%" G_GUINT64_FORMAT " %" G_GINT64_FORMAT " 0x%"
					    G_GINT64_MODIFIER "x", v, (gint64)v, v);
		ck_assert_formats_as_printf("%hu %hhu %hd", (unsigned short)v32, (unsigned char)v32,
					    (short)v32);
	}
	ck_assert_formats_as_printf("%s|%-9s|%9s|%-3s|%.*s|%.2s", "vcpu0", "vcpu1", "main",
				    "notifier", 3, "abcdef", "xyz");
	ck_assert_formats_as_printf("(r%c%c%c) 100%% %s", 'r', '-', 'x', (const char *)NULL);
	ck_assert_formats_as_printf("%s", "");
	ck_assert_formats_as_printf("no conversions%s", "");
}
END_TEST

/* Every digit count in both bases (the digits go two at a time), and a format whose text changes
 * at the same address (the compiled formats are kept by address and checked against the text). */
START_TEST(digits_of_every_length_and_a_rewritten_format_give_printf_s_bytes)
{
	char fmt[32];

	for (guint64 v = 1, x = 0x9e3779b97f4a7c15ull; v; v = v * 10 > v && v < G_MAXUINT64 / 10 ?
							      v * 10 : 0) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		ck_assert_formats_as_printf("%lu %lu %lu %lx %lX", (gulong)v, (gulong)(v - 1),
					    (gulong)(v + 1), (gulong)v, (gulong)x);
		ck_assert_formats_as_printf("%lx %lx %lu %ld", (gulong)(x >> (v % 64)),
					    (gulong)(v << 3), (gulong)x, (glong)x);
	}
	strcpy(fmt, "a %d b %s");
	ck_assert_formats_as_printf(fmt, 12, "x");
	strcpy(fmt, "%x|%s|%u");
	ck_assert_formats_as_printf(fmt, 255u, "yz", 7u);
}
END_TEST

START_TEST(formats_outside_the_subset_or_the_room_are_declined)
{
	g_autofree gchar *pointer = logfmt(512, "%p", (void *)&pointer);
	g_autofree gchar *precise = logfmt(512, "%.3d", 7);
	g_autofree gchar *floating = logfmt(512, "%f", 1.5);
	g_autofree gchar *fits = logfmt(5, "%s", "12345");
	g_autofree gchar *too_long = logfmt(5, "%s", "123456");
	g_autofree gchar *padded_too_long = logfmt(5, "%6u", 1u);

	ck_assert_ptr_null(pointer);
	ck_assert_ptr_null(precise);
	ck_assert_ptr_null(floating);
	ck_assert_str_eq(fits, "12345");
	ck_assert_ptr_null(too_long);
	ck_assert_ptr_null(padded_too_long);
}
END_TEST

/* Actor that logs n lines of every kind: short, formatted, declined by logfmt, very long. */
typedef struct {
	SimSched *sched;
	SimLog *log;
	guint n;
} Writer;

static void
writer_actor(SimActor *actor, gpointer data)
{
	Writer *w = data;
	g_autofree gchar *huge = g_strnfill(70000, 'h');

	for (guint i = 0; i < w->n; i++) {
		sim_log_emit(w->log, "test_short", "%u", i);
		sim_log_emit(w->log, "kvm_exit", "vcpu %d reason %s rip 0x%" G_GINT64_MODIFIER
			     "x info1 0x%016" G_GINT64_MODIFIER "x", i % 4, "EPT_VIOLATION",
			     (guint64)i << 12, (guint64)i * 0x181);
		sim_log_emit(w->log, "test_float", "%.1f", i / 2.0);
		if (i % 500 == 0)
			sim_log_emit(w->log, "test_huge", "%s", huge);
		sim_yield(w->sched, "tick");
	}
}

/* The lines the log wrote: in the capture, in the file, and in the digest, across chunks. */
START_TEST(capture_file_and_digest_hold_the_same_lines_across_chunks)
{
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-log-XXXXXX", NULL);
	g_autofree gchar *path = g_build_filename(dir, "events.log", NULL);
	g_autoptr(SimSched) sched = sim_sched_new(1);
	SimLog *log = sim_log_new(sched);
	Writer w = { sched, log, 3000 };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *file_text = NULL;

	sim_log_capture(log);
	sim_log_hash(log);
	ck_assert(sim_log_open_file(log, path, &error));
	sim_actor_new(sched, "writer", writer_actor, &w);
	run_or_abort(sched);
	g_autofree gchar *digest = sim_log_digest(log);

	ck_assert(sim_log_finish(log, &error));
	ck_assert(g_file_get_contents(path, &file_text, NULL, &error));
	const char *captured = sim_log_text(log);
	g_autofree gchar *expected_digest =
		g_compute_checksum_for_string(G_CHECKSUM_SHA256, captured, -1);
	g_autofree gchar *expected = g_strconcat("sha256:", expected_digest, NULL);

	ck_assert_uint_gt(strlen(captured), 4 * (64u << 10)); /* several chunks */
	ck_assert_str_eq(file_text, captured);
	ck_assert_str_eq(digest, expected);
	ck_assert_uint_eq(sim_log_lines(log), 3 * 3000 + 6);
	ck_assert_ptr_nonnull(strstr(captured, "       1 writer    kvm_exit: vcpu 1 reason "
					       "EPT_VIOLATION rip 0x1000 info1 0x0000000000000181\n"));
	ck_assert_ptr_nonnull(strstr(captured, "       1 writer    test_float: 0.5\n"));
	sim_log_free(log);
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

/* The digest mid-run covers the lines so far and leaves the running hash alone. */
START_TEST(a_digest_mid_run_covers_the_lines_so_far)
{
	SimLog *log = sim_log_new(NULL);

	sim_log_capture(log);
	sim_log_hash(log);
	sim_log_emit(log, "first", "%d", 1);
	g_autofree gchar *early = sim_log_digest(log);
	g_autofree gchar *early_expected = g_compute_checksum_for_string(
		G_CHECKSUM_SHA256, "       0 main      first: 1\n", -1);

	sim_log_emit(log, "second", "%d", 2);
	g_autofree gchar *late = sim_log_digest(log);
	g_autofree gchar *late_expected =
		g_compute_checksum_for_string(G_CHECKSUM_SHA256, sim_log_text(log), -1);

	ck_assert_str_eq(early + strlen("sha256:"), early_expected);
	ck_assert_str_eq(late + strlen("sha256:"), late_expected);
	sim_log_free(log);
}
END_TEST

/* Logs one line as a long-named actor (the head pads short names to 9, then one space). */
static void
long_named_actor(SimActor *actor, gpointer data)
{
	Writer *w = data;

	sim_log_emit(w->log, "test_short", "%u", 7);
}

/* An actor name of 16 characters or more is followed by one space, as printf's "%-9s " writes it,
 * whatever bytes the chunk held there before (a long line of 'x' written first). */
START_TEST(a_long_actor_name_is_followed_by_one_space)
{
	g_autoptr(SimSched) sched = sim_sched_new(1);
	SimLog *log = sim_log_new(sched);
	Writer w = { sched, log, 1 };
	g_autofree gchar *xs = g_strnfill(200, 'x');

	sim_log_capture(log);
	sim_log_emit(log, "test_fill", "%s", xs);
	sim_actor_new(sched, "a_rather_long_actor_name", long_named_actor, &w);
	run_or_abort(sched);
	const char *text = sim_log_text(log);
	const char *second = strchr(text, '\n') + 1;

	ck_assert_str_eq(second, "       0 a_rather_long_actor_name test_short: 7\n");
	sim_log_free(log);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, every_conversion_the_log_uses_gives_printf_s_bytes);
	tcase_add_test(tc, digits_of_every_length_and_a_rewritten_format_give_printf_s_bytes);
	tcase_add_test(tc, formats_outside_the_subset_or_the_room_are_declined);
	tcase_add_test(tc, capture_file_and_digest_hold_the_same_lines_across_chunks);
	tcase_add_test(tc, a_digest_mid_run_covers_the_lines_so_far);
	tcase_add_test(tc, a_long_actor_name_is_followed_by_one_space);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(log_suite());
}
