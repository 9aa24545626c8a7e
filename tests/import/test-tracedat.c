/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmsim's trace.dat writer (sim/report/tracedat*.c): its event formats against the running
 * kernel's tracefs (a 6.18 host with tracefs mounted; elsewhere a printed skip), and a file
 * written by `kvmsim run --trace-dat` read back with libtracecmd: every log line is a record, on
 * the actor's CPU, in the log's order, and every kvm/kvmmmu record prints (libtraceevent, the
 * file's own print fmt) the body kvmsim logged.
 *
 * usage: test-tracedat PATH/TO/kvmsim
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <trace-cmd.h>

#include "sim/report/tracedat.h"
#include "tests/check-run.h"
#include "tests/spawn-kvmsim.h"

static const char *kvmsim;

/* The "{ N, "NAME" }" pairs of a print fmt, and the text with them taken out. */
static gchar *
strip_symbols(const char *fmt, GPtrArray *pairs)
{
	g_autoptr(GRegex) re = g_regex_new(", \\{ (-?[0-9a-fx +]+), \"([^\"]*)\" \\}", 0, 0, NULL);
	g_autoptr(GMatchInfo) m = NULL;

	g_regex_match(re, fmt, 0, &m);
	while (g_match_info_matches(m)) {
		g_ptr_array_add(pairs, g_match_info_fetch(m, 0));
		g_match_info_next(m, NULL);
	}
	return g_regex_replace_literal(re, fmt, -1, 0, "", 0, NULL);
}

/* The part of a format file after "format:" (fields and print fmt). */
static const char *
after_format(const char *text)
{
	const char *p = strstr(text, "format:\n");

	return p ? p : text;
}

START_TEST(formats_are_the_running_v6_18_kernels)
{
	const char *tracefs = "/sys/kernel/tracing";
	g_autofree gchar *probe =
		g_build_filename(tracefs, "events", "kvm", "kvm_exit", "format", NULL);
	const char *const *events = sim_tracedat_kernel_events();
	struct utsname uts;
	guint compared = 0;

	if (uname(&uts) != 0 || !g_str_has_prefix(uts.release, "6.18") ||
	    !g_file_test(probe, G_FILE_TEST_EXISTS)) {
		printf("# skipped: no 6.18 kernel with tracefs at %s (release %s); mount tracefs "
		       "there on a 6.18 host to compare kvmsim's trace.dat formats with the "
		       "kernel's\n",
		       tracefs, uts.release);
		fflush(stdout);
		return;
	}
	for (guint i = 0; events[i]; i++) {
		const char *system = NULL;
		g_autofree gchar *ours = sim_tracedat_format_text(events[i], 0, &system);
		g_autofree gchar *path =
			g_build_filename(tracefs, "events", system, events[i], "format", NULL);
		g_autofree gchar *kernel = NULL;

		if (!g_file_get_contents(path, &kernel, NULL, NULL)) {
			/* kvm_vm_set_mem_attributes needs KVM_GENERIC_MEMORY_ATTRIBUTES */
			printf("# %s: not in this kernel's tracefs\n", events[i]);
			continue;
		}
		g_autoptr(GPtrArray) our_pairs = g_ptr_array_new_with_free_func(g_free);
		g_autoptr(GPtrArray) kernel_pairs = g_ptr_array_new_with_free_func(g_free);
		g_autofree gchar *our_rest = strip_symbols(after_format(ours), our_pairs);
		g_autofree gchar *kernel_rest = strip_symbols(after_format(kernel), kernel_pairs);

		ck_assert_msg(strcmp(our_rest, kernel_rest) == 0,
			      "%s: kvmsim writes\n%s\nthe kernel has\n%s", events[i], our_rest,
			      kernel_rest);
		/* a symbol table may be a part of the kernel's (kvm_exit's reasons), in its order
		 */
		for (guint j = 0, k = 0; j < our_pairs->len; j++, k++) {
			while (k < kernel_pairs->len &&
			       strcmp(our_pairs->pdata[j], kernel_pairs->pdata[k]) != 0)
				k++;
			ck_assert_msg(k < kernel_pairs->len, "%s: %s is not the kernel's",
				      events[i], (const char *)our_pairs->pdata[j]);
		}
		compared++;
	}
	ck_assert_uint_ge(compared, 20);
}
END_TEST

typedef struct {
	struct tep_handle *tep;
	GPtrArray *lines; /* "cpu comm event: body" per record */
	struct trace_seq seq;
} ReadBack;

static int
read_one(struct tracecmd_input *handle, struct tep_record *record, int cpu, void *data)
{
	ReadBack *rb = data;
	struct tep_event *ev = tep_find_event_by_record(rb->tep, record);
	int pid = tep_data_pid(rb->tep, record);

	trace_seq_reset(&rb->seq);
	tep_print_event(rb->tep, &rb->seq, record, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&rb->seq);
	g_ptr_array_add(rb->lines,
			g_strdup_printf("%d %s %s/%s: %s", cpu,
					tep_data_comm_from_pid(rb->tep, pid), ev ? ev->system : "?",
					ev ? ev->name : "?", rb->seq.buffer));
	return 0;
}

/* %p: the kernel hashes the pointer (kvmsim's log: 16 hex digits), libtraceevent prints 0x. */
static gchar *
without_pointers(const char *line)
{
	g_autoptr(GRegex) re = g_regex_new("sptep([ :])(0x)?0*([0-9a-f]+)", 0, 0, NULL);

	return g_regex_replace(re, line, -1, 0, "sptep\\1\\3", 0, NULL);
}

/* kvmsim run with run_args (at most 10) and --trace-dat: every record libtracecmd reads back
 * prints as the log line; returns how many kvm/kvmmmu records compared, and how many of them
 * are of event (NULL: none) in *of_event. */
static guint
reads_back(const char *const *run_args, const char *event_wanted, guint *of_event)
{
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-tracedat-XXXXXX", &error);
	g_autofree gchar *dat = g_build_filename(dir, "t.dat", NULL);
	g_autofree gchar *log = g_build_filename(dir, "t.log", NULL);
	g_autofree gchar *dat_opt = g_strdup_printf("--trace-dat=%s", dat);
	const char *args[12] = { NULL };
	guint nargs = 0;

	while (run_args[nargs] && nargs < 10) {
		args[nargs] = run_args[nargs];
		nargs++;
	}
	args[nargs] = dat_opt;

	g_autofree gchar *text = spawn_kvmsim_log(kvmsim, args, log);
	ReadBack rb = {0};
	struct tracecmd_input *handle;
	guint kvm = 0;

	*of_event = 0;

	handle = tracecmd_open(dat, TRACECMD_FL_LOAD_NO_PLUGINS);
	ck_assert_msg(handle != NULL, "libtracecmd cannot open kvmsim's trace.dat");
	rb.tep = tracecmd_get_tep(handle);
	rb.lines = g_ptr_array_new_with_free_func(g_free);
	trace_seq_init(&rb.seq);
	tracecmd_iterate_events(handle, NULL, 0, read_one, &rb);
	trace_seq_destroy(&rb.seq);
	tracecmd_close(handle);

	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GHashTable) cpus = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	ck_assert_uint_eq(rb.lines->len, g_strv_length(lines) - 1);
	for (guint i = 0; i < rb.lines->len; i++) {
		/* "STEP ACTOR event: body" against "CPU COMM system/event: body" */
		g_auto(GStrv) l = g_strsplit_set(g_strchug(lines[i]), " ", 3);
		g_auto(GStrv) r = g_strsplit(rb.lines->pdata[i], " ", 3);
		const char *ours = g_strchug(l[2]);
		const char *slash = strchr(r[2], '/');
		g_autofree gchar *event = g_strndup(ours, (gsize)(strchr(ours, ':') - ours));

		ck_assert_str_eq(r[1], l[1]);
		if (!g_hash_table_contains(cpus, l[1]))
			g_hash_table_insert(cpus, g_strdup(l[1]), GUINT_TO_POINTER(atoi(r[0]) + 1));
		ck_assert_int_eq(GPOINTER_TO_INT(g_hash_table_lookup(cpus, l[1])) - 1, atoi(r[0]));
		ck_assert_msg(g_str_has_prefix(slash + 1, event), "record %u is %s, the log has %s",
			      i, r[2], event);
		if (g_str_has_prefix(r[2], "kvmsim/")) {
			ck_assert_str_eq(slash + 1, ours);
			continue;
		}
		if (strstr(r[2], "kvm_mmu_get_page") || strstr(r[2], "kvm_mmu_prepare_zap_page"))
			continue; /* a GNU statement expression: beyond libtraceevent */
		if (strcmp(event, "kvm_inj_exception") == 0) {
			/* the kernel's print fmt has a __print_symbolic() with no symbols (the error
			 * code), which libtraceevent does not parse: it prints the raw fields */
			gboolean again = g_str_has_suffix(ours, " [reinjected]");
			g_autofree gchar *raw = g_strdup_printf(
				"kvm_inj_exception: [FAILED TO PARSE] exception=14 has_error=1 "
				"error_code=0 reinjected=%d", again);

			ck_assert(g_str_has_prefix(ours, "kvm_inj_exception: #PF (0x0)"));
			ck_assert_str_eq(slash + 1, raw);
			kvm++;
			*of_event += event_wanted && strcmp(event, event_wanted) == 0;
			continue;
		}
		g_autofree gchar *a = without_pointers(slash + 1);
		g_autofree gchar *b = without_pointers(ours);

		ck_assert_str_eq(a, b);
		kvm++;
		*of_event += event_wanted && strcmp(event, event_wanted) == 0;
	}
	g_ptr_array_unref(rb.lines);
	g_unlink(dat);
	g_unlink(log);
	g_rmdir(dir);
	return kvm;
}

START_TEST(a_run_reads_back_with_libtracecmd)
{
	const char *args[] = { "run", "touch", "--vcpus", "2", "--mem", "256K", "--host-events",
			       "migrate=4,age=4", NULL };
	guint none;

	ck_assert_uint_gt(reads_back(args, NULL, &none), 500);
}
END_TEST

/* Injected events: kvm_inj_exception, kvm_inj_virq and the kvm_entry lines that carry them. */
START_TEST(an_async_pf_run_reads_back_with_libtracecmd)
{
	const char *args[] = { "run", "apftasks", "--postcopy=async-pf", "--vcpus", "1", "--mem",
			       "64K", NULL };
	guint exceptions, irqs;

	ck_assert_uint_gt(reads_back(args, "kvm_inj_exception", &exceptions), 500);
	ck_assert_uint_eq(exceptions, 16);
	reads_back(args, "kvm_inj_virq", &irqs);
	ck_assert_uint_eq(irqs, 17);
}
END_TEST

typedef struct {
	GArray *ts;
	GPtrArray *bodies;
	struct tep_handle *tep;
	struct trace_seq seq;
} Stamps;

static int
read_stamp(struct tracecmd_input *handle, struct tep_record *record, int cpu, void *data)
{
	Stamps *st = data;
	guint64 ts = record->ts;

	g_array_append_val(st->ts, ts);
	trace_seq_reset(&st->seq);
	tep_print_event(st->tep, &st->seq, record, "%d %s", TEP_PRINT_CPU, TEP_PRINT_INFO);
	trace_seq_terminate(&st->seq);
	g_ptr_array_add(st->bodies, g_strdup(st->seq.buffer));
	return 0;
}

START_TEST(time_extends_and_page_boundaries_read_back)
{
	/* steps far apart (deltas past the 27 bits of an entry header: time extends), several
	 * lines a step, and bodies long enough to fill many 4 KiB pages */
	g_autoptr(SimTraceDat) td = sim_tracedat_new();
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-tracedat-XXXXXX", &error);
	g_autofree gchar *dat = g_build_filename(dir, "t.dat", NULL);
	Stamps st = {g_array_new(FALSE, FALSE, sizeof(guint64)),
		     g_ptr_array_new_with_free_func(g_free),
		     NULL,
		     {0}};
	struct tracecmd_input *handle;
	guint n = 0;

	for (guint64 step = 0; step < 3000; step++) {
		guint64 at = step * step * 997; /* up to about 9e9 steps: 2.5 hours of clock */

		for (guint k = 0; k < 1 + step % 3; k++, n++) {
			g_autofree gchar *body =
				g_strdup_printf("line %u %0*u", n, (int)(step % 200), 0u);

			sim_tracedat_tap(td, at, step % 2 ? "vcpu1" : "vcpu0", (guint)(step % 2),
					 "sim_test", body);
		}
	}
	ck_assert(sim_tracedat_write(td, dat, &error));
	handle = tracecmd_open(dat, TRACECMD_FL_LOAD_NO_PLUGINS);
	ck_assert(handle != NULL);
	st.tep = tracecmd_get_tep(handle);
	trace_seq_init(&st.seq);
	tracecmd_iterate_events(handle, NULL, 0, read_stamp, &st);
	trace_seq_destroy(&st.seq);
	tracecmd_close(handle);
	ck_assert_uint_eq(st.ts->len, n);
	n = 0;
	for (guint64 step = 0; step < 3000; step++) {
		guint64 at = step * step * 997;

		for (guint k = 0; k < 1 + step % 3; k++, n++) {
			g_autofree gchar *body = g_strdup_printf(
				"%u line %u %0*u", (guint)(step % 2), n, (int)(step % 200), 0u);

			ck_assert_uint_eq(g_array_index(st.ts, guint64, n), at * 1000 + k);
			ck_assert_str_eq(g_ptr_array_index(st.bodies, n), body);
		}
	}
	g_array_unref(st.ts);
	g_ptr_array_unref(st.bodies);
	g_unlink(dat);
	g_rmdir(dir);
}
END_TEST

START_TEST(a_line_off_the_kernels_format_is_an_error)
{
	g_autoptr(SimTraceDat) td = sim_tracedat_new();
	g_autoptr(GError) error = NULL;

	sim_tracedat_tap(td, 1, "vcpu0", 0, "kvm_page_fault", "vcpu 0 rip 0x1 address 0x2");
	ck_assert(!sim_tracedat_write(td, "/dev/null", &error));
	ck_assert_msg(strstr(error->message, "kvm_page_fault") != NULL, "%s", error->message);
}
END_TEST

static Suite *
tracedat_suite(void)
{
	Suite *s = suite_create("tracedat");
	TCase *tc = tcase_create("tracedat");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, formats_are_the_running_v6_18_kernels);
	tcase_add_test(tc, a_run_reads_back_with_libtracecmd);
	tcase_add_test(tc, an_async_pf_run_reads_back_with_libtracecmd);
	tcase_add_test(tc, time_extends_and_page_boundaries_read_back);
	tcase_add_test(tc, a_line_off_the_kernels_format_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	g_assert(argc == 2);
	kvmsim = argv[1];
	return check_run_suite(tracedat_suite());
}
