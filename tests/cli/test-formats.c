/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every kvm and kvmmmu event kvmsim logs, checked against the kernel's format for it. The table
 * holds, per event, the printf format of its TP_printk as a running v6.18 kernel's tracefs shows
 * it (events/kvm{,mmu}/<event>/format; kvm_mmu_get_page and kvm_mmu_prepare_zap_page with
 * KVM_MMU_PAGE_PRINTK()'s inner format spelled out), what each %s and %c may print (the
 * __print_symbolic/__print_flags/?: choices), and an example line in the kernel's shape. The
 * format becomes an anchored regular expression with the kernel's vsnprintf() rules; the example
 * must match it, and so must every line of that event in the logs of a set of kvmsim runs and of
 * the replay of every trace in traces/. An event with no row, or a row no run produced, fails.
 * On a 6.18 host with tracefs mounted, each row's format must also be the running kernel's.
 *
 * usage: test-formats PATH/TO/kvmsim PATH/TO/traces
 */
#include <glib/gstdio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/utsname.h>

#include "tests/check-run.h"
#include "tests/spawn-kvmsim.h"
#include "tests/unit/harness.h"

typedef struct {
	const char *event;
	const char *format;      /* the TP_printk format string */
	const char *strings[10]; /* what each %s or %c prints, in order, as regular expressions */
	const char *example;
} EventFormat;

#define FLAGS_PF "(P|W|U|PK|SS|SGX|RSVD|F)"
#define ROLE_FORMAT "sp gen %u gfn %llx l%u %u-byte q%u%s %s%s %snxe %sad root %u %s%c"
#define ROLE_STRINGS "( direct)?", "(---|--x|w--|w-x|-u-|-ux|wu-|wux)", "( invalid)?", "!?", "!?", \
		     "(sync|unsync)", ""

static const EventFormat formats[] = {
	{ "kvm_exit",
	  "vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 0x%016llx intr_info 0x%08x "
	  "error_code 0x%08x requests 0x%016llx",
	  { "[A-Z_]+", "( )?", "(FAILED_VMENTRY)?" },
	  "vcpu 1 reason EPT_VIOLATION rip 0xffffffff8108c6e4 info1 0x0000000000000181 info2 "
	  "0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000" },
	{ "kvm_entry", "vcpu %u, rip 0x%lx intr_info 0x%08x error_code 0x%08x%s",
	  { "(\\[immediate exit\\])?" },
	  "vcpu 0, rip 0xffffffff81b5d3cf intr_info 0x00000000 error_code 0x00000000" },
	/* arch/x86/kvm/trace.h: what vmx_inject_irq() and kvm_inject_exception() queue for the
	 * entry (vmx.c, x86.c in ColinIanKing/linux-next at 046408cf); the exception is a
	 * __print_symbolic() of kvm_trace_sym_exc, its error code one with no symbols */
	{ "kvm_inj_virq", "%s 0x%x%s", { "(Soft/INTn|IRQ)", "( \\[reinjected\\])?" },
	  "IRQ 0xf3" },
	{ "kvm_inj_exception", "%s%s%s%s%s",
	  { "(#(DE|DB|BP|OF|BR|UD|NM|DF|TS|NP|SS|GP|PF|MF|AC|MC|XM|VE|CP|HV|VC|SX)|0x[0-9a-f]+)",
	    "( \\()?", "(0x[0-9a-f]+)?", "(\\))?", "( \\[reinjected\\])?" },
	  "#PF (0x0) [reinjected]" },
	{ "kvm_pio", "pio_%s at 0x%x size %d count %d val 0x%x %s",
	  { "(read|write)", "(\\(\\.\\.\\.\\))?" },
	  "pio_write at 0x3f8 size 1 count 1 val 0x41 " },
	{ "kvm_hypercall", "nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx", { NULL },
	  "nr 0xb a0 0x1 a1 0x0 a2 0x0 a3 0x0" },
	/* include/trace/events/kvm.h (v6.18): kvm_userspace_exit's reason is a symbol, or
	 * "error"/"restart" with the errno when KVM_RUN failed */
	{ "kvm_userspace_exit", "reason %s (%d)", { "(KVM_EXIT_[A-Z0-9_]+|error|restart)" },
	  "reason KVM_EXIT_HYPERCALL (3)" },
	{ "kvm_vm_set_mem_attributes", "%#016llx -- %#016llx [0x%lx]", { NULL },
	  "0x00000000000005 -- 0x00000000000006 [0x8]" },
	{ "kvm_mmio", "mmio %s len %u gpa 0x%llx val 0x%llx",
	  { "(unsatisfied-read|read|write)" }, "mmio write len 4 gpa 0xfee000b0 val 0x0" },
	/* arch/x86/kvm/trace.h: kvm_msr (read in kvm-x86/linux at aebed32e) */
	{ "kvm_msr", "msr_%s %x = 0x%llx%s", { "(read|write)", "( \\(#GP\\))?" },
	  "msr_write 4b564d07 = 0x1" },
	/* include/trace/events/kvm.h, CONFIG_KVM_ASYNC_PF (read in sean-jc/linux at 0be6b668) */
	{ "kvm_try_async_get_page", "gva = %#llx, gfn = %#llx", { NULL },
	  "gva = 0x400000, gfn = 0x400" },
	{ "kvm_async_pf_repeated_fault", "gva = %#llx, gfn = %#llx", { NULL },
	  "gva = 0x400000, gfn = 0x400" },
	{ "kvm_async_pf_not_present", "token %#llx gva %#llx", { NULL },
	  "token 0x1000 gva 0x400000" },
	{ "kvm_async_pf_ready", "token %#llx gva %#llx", { NULL }, "token 0xffffffff gva 0x0" },
	{ "kvm_async_pf_completed", "gva %#llx address %#lx", { NULL },
	  "gva 0x400000 address 0x7f0000800000" },
	{ "kvm_page_fault", "vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx", { NULL },
	  "vcpu 0 rip 0xffffffff81000f40 address 0x0000000100203000 error_code 0x182" },
	{ "kvm_unmap_hva_range", "mmu notifier unmap range: %#016lx -- %#016lx", { NULL },
	  "mmu notifier unmap range: 0x007f5e2c400000 -- 0x007f5e2c401000" },
	{ "kvm_age_hva", "mmu notifier age hva: %#016lx -- %#016lx", { NULL },
	  "mmu notifier age hva: 0x007f5e2c400000 -- 0x007f5e2c600000" },
	{ "kvm_test_age_hva", "mmu notifier test age hva: %#016lx", { NULL },
	  "mmu notifier test age hva: 0x007f5e2c400000" },
	{ "fast_page_fault",
	  "vcpu %d gva %llx error_code %s sptep %p old %#llx new %llx spurious %d fixed %d",
	  { "(" FLAGS_PF "(\\|" FLAGS_PF ")*(\\|0x[0-9a-f]+)?|0x[0-9a-f]+)?" },
	  "vcpu 0 gva 100203000 error_code W|0x100000000 sptep 000000006e9d0b8a old "
	  "0x8000000000000000 new 8000000000000000 spurious 0 fixed 0" },
	{ "kvm_tdp_mmu_spte_changed", "as id %d gfn %llx level %d old_spte %llx new_spte %llx",
	  { NULL }, "as id 0 gfn 100203 level 1 old_spte 8000000000000000 new_spte 8610000080001b77" },
	{ "kvm_mmu_spte_requested", "gfn %llx pfn %llx level %d", { NULL },
	  "gfn 100203 pfn 80001 level 1" },
	{ "kvm_mmu_set_spte", "gfn %llx spte %llx (%s%s%s%s) level %d at %llx",
	  { "[r-]", "[w-]", "[x-]", "[u-]?" },
	  "gfn 100203 spte 8610000080001b77 (rwxu) level 1 at 1065a3018" },
	{ "kvm_mmu_get_page", ROLE_FORMAT " %s", { ROLE_STRINGS, "(new|existing)" },
	  "sp gen 0 gfn 100200 l1 8-byte q0 direct wux nxe !ad root 0 sync new" },
	{ "kvm_mmu_prepare_zap_page", ROLE_FORMAT, { ROLE_STRINGS },
	  "sp gen 1 gfn 0 l4 8-byte q0 direct wux invalid nxe !ad root 0 sync" },
	{ "kvm_mmu_zap_all_fast", "kvm-mmu-valid-gen %u used_pages %x", { NULL },
	  "kvm-mmu-valid-gen 1 used_pages 5" },
	{ "mark_mmio_spte", "sptep:%p gfn %llx access %x gen %x", { NULL },
	  "sptep:00000000b3a1d6a0 gfn fee00 access 6 gen 2" },
	{ "handle_mmio_page_fault", "addr:%llx gfn %llx access %x", { NULL },
	  "addr:0 gfn fee00 access 0" },
	{ "check_mmio_spte", "spte %llx kvm_gen %x spte-gen %x valid %d", { NULL },
	  "spte 8000000fee00366 kvm_gen 2 spte-gen 2 valid 1" },
};

static const char *kvmsim;
static const char *traces_dir;

/* The regular expression a number printed with flags, width and conversion conv matches, as the
 * kernel's vsnprintf() prints it (its '#' prefixes 0x even to zero, unlike glibc's). */
static void
number_pattern(GString *re, gboolean alt, gboolean zero_pad, guint width, char conv)
{
	const char *digits = conv == 'd' ? "-?[0-9]" : conv == 'u' ? "[0-9]" : "[0-9a-f]";

	if (conv == 'p') {
		/* %p: the hashed pointer, zero-padded to 16 digits */
		g_string_append(re, "[0-9a-f]{16}");
		return;
	}
	if (alt)
		g_string_append(re, "0x");
	if (zero_pad && width > (alt ? 2u : 0u))
		g_string_append_printf(re, "%s{%u,}", digits, width - (alt ? 2 : 0));
	else
		g_string_append_printf(re, "%s+", digits);
}

/* The anchored regular expression the kernel's output for f matches. */
static gchar *
format_regex(const EventFormat *f)
{
	GString *re = g_string_new("^");
	guint nth_string = 0;

	for (const char *p = f->format; *p; p++) {
		if (*p != '%') {
			g_autofree gchar *lit = g_regex_escape_string(p, 1);

			g_string_append(re, lit);
			continue;
		}
		gboolean alt = FALSE, zero_pad = FALSE;
		guint width = 0;

		for (p++; *p == '#' || *p == '0'; p++) {
			alt |= *p == '#';
			zero_pad |= *p == '0';
		}
		for (; g_ascii_isdigit(*p); p++)
			width = width * 10 + (guint)(*p - '0');
		while (*p == 'l' || *p == 'h')
			p++;
		switch (*p) {
		case 's':
		case 'c':
			ck_assert_msg(nth_string < G_N_ELEMENTS(f->strings) && f->strings[nth_string],
				      "%s: no pattern for its string conversion #%u", f->event,
				      nth_string + 1);
			g_string_append_printf(re, "(%s)", f->strings[nth_string++]);
			break;
		case 'd':
		case 'u':
		case 'x':
		case 'p':
			number_pattern(re, alt, zero_pad, width, *p);
			break;
		default:
			ck_abort_msg("%s: conversion %%%c is not handled", f->event, *p);
		}
	}
	g_string_append_c(re, '$');
	return g_string_free(re, FALSE);
}

static const EventFormat *
format_of(const char *event)
{
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++)
		if (strcmp(formats[i].event, event) == 0)
			return &formats[i];
	return NULL;
}

START_TEST(each_kernel_example_matches_its_format)
{
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_autofree gchar *re = format_regex(&formats[i]);

		ck_assert_msg(g_regex_match_simple(re, formats[i].example, 0, 0),
			      "%s: example \"%s\" does not match %s", formats[i].event,
			      formats[i].example, re);
	}
}
END_TEST

START_TEST(a_line_off_its_format_does_not_match)
{
	/* the converter is strict where kvmsim once differed from the kernel */
	g_autofree gchar *pio = format_regex(format_of("kvm_pio"));
	g_autofree gchar *exit = format_regex(format_of("kvm_exit"));
	g_autofree gchar *unmap = format_regex(format_of("kvm_unmap_hva_range"));

	ck_assert(!g_regex_match_simple(pio, "pio_write at 0xe9 size 1 count 1 val 0x41", 0, 0));
	ck_assert(!g_regex_match_simple(exit, "vcpu 0 reason HLT rip 0x10 info1 0x0000000000000000 "
					"info2 0x0000000000000000 intr_info 0x00000000 "
					"error_code 0x00000000", 0, 0));
	/* glibc's %#016lx of zero; the kernel prints 0x00000000000000 */
	ck_assert(!g_regex_match_simple(unmap, "mmu notifier unmap range: 0000000000000000 -- "
					"0x00000000001000", 0, 0));
}
END_TEST

/* The first C string literal (with adjacent literals joined) at p, unescaped; NULL if none. */
static gchar *
c_string_at(const char *p)
{
	GString *out = g_string_new(NULL);
	gboolean any = FALSE;

	for (;;) {
		while (*p == ' ')
			p++;
		if (*p != '"')
			break;
		any = TRUE;
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			g_string_append_c(out, *p);
		}
		if (*p == '"')
			p++;
	}
	return g_string_free(out, !any);
}

/* The format a running kernel's tracefs gives for event, with an inner trace_seq_printf()
 * format (KVM_MMU_PAGE_PRINTK()) put in place of the first %s; NULL if tracefs lacks it. */
static gchar *
tracefs_format(const char *tracefs, const char *event)
{
	static const char *const systems[] = { "kvm", "kvmmmu" };

	for (guint i = 0; i < G_N_ELEMENTS(systems); i++) {
		g_autofree gchar *path = g_build_filename(tracefs, "events", systems[i], event,
							  "format", NULL);
		g_autofree gchar *text = NULL;

		if (!g_file_get_contents(path, &text, NULL, NULL))
			continue;
		const char *fmt = strstr(text, "print fmt: ");
		const char *inner = strstr(text, "trace_seq_printf(p, ");

		if (!fmt)
			return NULL;
		g_autofree gchar *outer = c_string_at(fmt + strlen("print fmt: "));
		g_autofree gchar *seq = inner ? c_string_at(inner + strlen("trace_seq_printf(p, "))
					      : NULL;
		const char *first_s = outer ? strstr(outer, "%s") : NULL;

		if (!seq || !first_s)
			return g_steal_pointer(&outer);
		return g_strdup_printf("%.*s%s%s", (int)(first_s - outer), outer, seq,
				       first_s + 2);
	}
	return NULL;
}

START_TEST(table_formats_are_the_running_v6_18_kernels)
{
	const char *tracefs = "/sys/kernel/tracing";
	g_autofree gchar *probe = g_build_filename(tracefs, "events", "kvm", "kvm_exit", "format",
						   NULL);
	struct utsname uts;

	/* only a 6.18 kernel with tracefs mounted can say; anything else is a printed skip */
	if (uname(&uts) != 0 || !g_str_has_prefix(uts.release, "6.18") ||
	    !g_file_test(probe, G_FILE_TEST_EXISTS)) {
		printf("# skipped: no 6.18 kernel with tracefs at %s (release %s); mount tracefs "
		       "there on a 6.18 host to compare the table with the kernel's formats\n",
		       tracefs, uts.release);
		fflush(stdout);
		return;
	}
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_autofree gchar *kernel = tracefs_format(tracefs, formats[i].event);

		/* kvm_vm_set_mem_attributes exists only with CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES
		 * (a kernel built for private-memory VMs) */
		if (!kernel && strcmp(formats[i].event, "kvm_vm_set_mem_attributes") == 0) {
			printf("# skipped %s: the running kernel has no such event (built without "
			       "CONFIG_KVM_GENERIC_MEMORY_ATTRIBUTES)\n", formats[i].event);
			fflush(stdout);
			continue;
		}
		ck_assert_msg(kernel != NULL, "tracefs has no format for %s", formats[i].event);
		ck_assert_msg(strcmp(kernel, formats[i].format) == 0,
			      "%s: the table says \"%s\", the running kernel \"%s\"",
			      formats[i].event, formats[i].format, kernel);
	}
}
END_TEST

typedef struct {
	GHashTable *seen; /* event -> number of lines */
	GString *errors;  /* the first few */
	guint nr_errors;
} Checked;

/* Note an error; only the first few are kept (Check's messages are short). */
G_GNUC_PRINTF(2, 3) static void
error_at(Checked *c, const char *fmt, ...)
{
	va_list ap;

	if (c->nr_errors++ >= 8)
		return;
	va_start(ap, fmt);
	g_string_append_vprintf(c->errors, fmt, ap);
	va_end(ap);
}

/* Check every kvm/kvmmmu line of a log ("STEP ACTOR event: payload") against its format. */
static void
check_log(Checked *c, const char *what, const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		g_auto(GStrv) f = g_strsplit_set(g_strchug(lines[i]), " ", 3);

		if (!f[0] || !f[1] || !f[2])
			continue;
		const char *rest = g_strchug(f[2]);
		const char *colon = strstr(rest, ": ");

		if (!colon)
			continue;
		g_autofree gchar *event = g_strndup(rest, (gsize)(colon - rest));
		const char *payload = colon + 2;

		/* asi_exit_pf is the ASI branch's tracepoint (system asi, bjackman/linux asi/6.16),
		 * not a kvm or kvmmmu event of v6.18: the ASI catalogue traces log it */
		if (g_str_has_prefix(event, "sim_") || strcmp(event, "asi_exit_pf") == 0)
			continue;
		const EventFormat *fmt = format_of(event);

		if (!fmt) {
			error_at(c, "%s: event %s has no row in the table\n", what, event);
			continue;
		}
		g_autofree gchar *re = format_regex(fmt);

		if (!g_regex_match_simple(re, payload, 0, 0))
			error_at(c, "%s: \"%s: %.200s\" does not match its format\n", what, event,
				 payload);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(c->seen, fmt->event));

		g_hash_table_insert(c->seen, (gpointer)fmt->event, GUINT_TO_POINTER(n + 1));
	}
}

/* Run kvmsim with args plus --log=FILE and check the log. */
static void
check_kvmsim(Checked *c, const char *dir, const char *const *args)
{
	g_autofree gchar *log = g_build_filename(dir, "log", NULL);
	g_autofree gchar *what = g_strjoinv(" ", (gchar **)args);
	g_autofree gchar *text = spawn_kvmsim_log(kvmsim, args, log);

	check_log(c, what, text);
	g_unlink(log);
}

START_TEST(every_kvm_event_kvmsim_logs_matches_the_kernel_format)
{
	static const char *const runs[][12] = {
		{ "run", "touch", "--vcpus", "2", "--mem", "1M", "--seed", "4", "--host-events",
		  "migrate=16,dontneed=8,age=8", NULL },
		{ "run", "mmio", "--vcpus", "1", NULL },
		{ "run", "stress", "--vcpus", "2", "--mem", "1M", "--param", "0=1", "--host-events",
		  "dontneed=8", NULL },
		/* #DE (a triple fault: no IDT) and #UD (intercepted: EXCEPTION_NMI) */
		{ "run", "crash", "--vcpus", "1", "--param", "0=0", NULL },
		{ "run", "crash", "--vcpus", "1", "--param", "0=1", NULL },
		/* async PF: kvm_inj_exception (#PF 'not present'), kvm_inj_virq ('page ready') and
		 * the kvm_entry lines that deliver them */
		{ "run", "apftasks", "--postcopy=async-pf", "--vcpus", "1", "--mem", "64K", NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-formats-XXXXXX", &error);
	Checked c = { g_hash_table_new(g_str_hash, g_str_equal), g_string_new(NULL), 0 };

	ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
	for (guint i = 0; i < G_N_ELEMENTS(runs); i++)
		check_kvmsim(&c, dir, runs[i]);

	GDir *d = g_dir_open(traces_dir, 0, &error);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	ck_assert_msg(d != NULL, "%s", error ? error->message : "");
	while ((name = g_dir_read_name(d)))
		if (g_str_has_suffix(name, ".xml"))
			g_ptr_array_add(names, g_build_filename(traces_dir, name, NULL));
	g_dir_close(d);
	ck_assert_uint_gt(names->len, 0);
	for (guint i = 0; i < names->len; i++) {
		const char *args[] = { "replay", g_ptr_array_index(names, i), NULL };

		check_kvmsim(&c, dir, args);
	}

	/* nothing in a run asks mmu_notifier_test_young(): the MMU model alone does */
	TestVm *vm = test_vm_new(1, 1, 1 << 20);

	ck_assert_int_eq(test_vm_fault(vm, 0, 0x5000, TRUE), RET_PF_FIXED);
	ck_assert(sim_mm_test_young(vm->host->mm, vm->hva + 0x5000));
	check_log(&c, "the MMU model's test_young", sim_log_text(vm->host->log));
	test_vm_free(vm);

	for (guint i = 0; i < G_N_ELEMENTS(formats); i++)
		if (!g_hash_table_contains(c.seen, formats[i].event))
			error_at(&c, "no run logged %s\n", formats[i].event);
	g_rmdir(dir);
	ck_assert_msg(c.nr_errors == 0, "%u errors, first:\n%s", c.nr_errors, c.errors->str);
	g_string_free(c.errors, TRUE);
	g_hash_table_destroy(c.seen);
}
END_TEST

/* Whether v is a value v6.18 holds in an EPT SPTE at level (A/D bits disabled): not present,
 * a non-leaf entry or a 4K leaf of RAM. Spelled out bit by bit, independent of mmu/spte.h. */
static gboolean
is_v6_18_spte(guint64 v, int level)
{
	const guint64 nonpresent = 1ull << 63;               /* SHADOW_NONPRESENT_VALUE */
	const guint64 present = (1ull << 63) | (1ull << 52) | (1ull << 11); /* #VE off, !AD, MMU */
	const guint64 addr = v & 0x000ffffffffff000ull;

	if (v == nonpresent)
		return TRUE;
	if (level > 1)
		return v == (present | addr | 0x7); /* RWX, no memtype, no A/D, no bit 5 */
	guint64 rest = v & ~(present | addr);
	guint64 rx = 0x100 | 0x70 | 0x5;        /* accessed, WB + IPAT, R and X */
	guint64 w = (1ull << 58) | (1ull << 57) | 0x200 | 0x2; /* MMU-, host-writable, dirty, W */

	return (v & present) == present && (rest == rx || rest == (rx | w));
}

START_TEST(spte_values_of_a_run_decode_as_v6_18_holds_them)
{
	const char *const args[] = { "run", "touch", "--vcpus", "1", "--mem", "1M", NULL };
	g_autoptr(GError) error = NULL;
	g_autofree gchar *dir = g_dir_make_tmp("kvmsim-spte-XXXXXX", &error);
	g_autofree gchar *log = g_build_filename(dir, "t.log", NULL);
	g_autofree gchar *text = spawn_kvmsim_log(kvmsim, args, log);
	guint changed = 0, tables = 0, get_page = 0;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i]; i++) {
		const char *l = strstr(lines[i], "kvm_tdp_mmu_spte_changed: ");
		guint64 gfn, old_spte, new_spte;
		int as_id, level;

		if (strstr(lines[i], "kvm_mmu_get_page: ") && strstr(lines[i], " new"))
			get_page++;
		if (!l)
			continue;
		ck_assert_int_eq(sscanf(l, "kvm_tdp_mmu_spte_changed: as id %d gfn %" G_GINT64_MODIFIER
					"x level %d old_spte %" G_GINT64_MODIFIER "x new_spte %"
					G_GINT64_MODIFIER "x", &as_id, &gfn, &level, &old_spte,
					&new_spte), 5);
		ck_assert_msg(is_v6_18_spte(old_spte, level) && is_v6_18_spte(new_spte, level),
			      "not a v6.18 value: %s", l);
		changed++;
		if (level > 1 && old_spte == 1ull << 63 && new_spte != 1ull << 63)
			tables++;
	}
	ck_assert_uint_gt(changed, 256);
	/* one kvm_mmu_get_page per table: the root, then each table a non-leaf entry links */
	ck_assert_uint_eq(get_page, tables + 1);
	g_unlink(log);
	g_rmdir(dir);
}
END_TEST

static Suite *
formats_suite(void)
{
	Suite *s = suite_create("formats");
	TCase *tc = tcase_create("formats");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, each_kernel_example_matches_its_format);
	tcase_add_test(tc, a_line_off_its_format_does_not_match);
	tcase_add_test(tc, table_formats_are_the_running_v6_18_kernels);
	tcase_add_test(tc, every_kvm_event_kvmsim_logs_matches_the_kernel_format);
	tcase_add_test(tc, spte_values_of_a_run_decode_as_v6_18_holds_them);
	suite_add_tcase(s, tc);
	return s;
}

int
main(int argc, char **argv)
{
	g_assert(argc == 3);
	kvmsim = argv[1];
	traces_dir = argv[2];
	return check_run_suite(formats_suite());
}
