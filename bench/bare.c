/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bare: what Unicorn 2.0.1 costs before kvmsim adds anything, for bench/run to put beside kvmsim's
 * own numbers. Prints one `key value unit` line per measurement (medians over --reps runs):
 *
 *   image_*          a guest image (flat binary, workloads/abi.h layout, one vCPU) run with all
 *                    memory mapped up front: paging off, then paging on over a fully populated
 *                    identity SPTE tree; its instruction count from a UC_HOOK_BLOCK run
 *   fault_*          the minimal demand-fault handler: N not-present pages touched once each, the
 *                    #PF hook makes the PTE present, acks and returns (or stops the run, which is
 *                    then restarted at RIP, as a run loop handling exits would)
 *   hw_*             the sim/cpu/hw primitives on the exit path
 *
 * With paging on, every engine takes kvmsim's store fast path (sim/cpu/hw-notdirty.c, enabled by
 * sim_hw_store_fast_path_enable() as sim/cpu/vcpu.c does): each TLB fill of a page no block ran
 * from loses TLB_NOTDIRTY, so its stores skip Unicorn 2.0.1's every-store slow path (upstream
 * #1970). Its contract (hw.h) is a block hook passing every block to sim_hw_block(), which marks
 * the pages code runs from: image_paging_on_block_counted keeps it; image_paging_on and the fault
 * loop have no block hook (it is the cost item 22 measures) and are sound only because bare's
 * images and loop never store to a page they run code from (a store there would skip the
 * invalidation: the guest's own check of its results would fail). --slow-stores leaves every
 * store on the slow path: the comparison as it stood before kvmsim had the fast path.
 *
 * Wall time comes from CLOCK_MONOTONIC, here only: kvmsim itself never reads a clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "sim/cpu/hw.h"
#include "workloads/abi.h"

#define PAGE KVMSIM_PAGE_SIZE
#define STACK_TOP KVMSIM_BOOT_SIZE /* bare maps boot and RAM only: the stack tops the boot memory */
#define NONLEAF 0x27ull /* KVM's EPT encodings: R|W|X (+ bit 5) */
#define LEAF_RW 0x77ull /* R|W|X, write-back, ignore PAT */
#define ADDR_MASK 0x000ffffffffff000ull
#define FAULT_CODE_GPA 0x100000ull /* the fault loop's code; its data from KVMSIM_RAM_GPA */
#define FAULT_PARAMS_GPA (FAULT_CODE_GPA + 0x800) /* what the loop reads: ram_gpa at +0x10 */
#define FAULT_LOOP_LEN 24
#define FAULT_STORE_OFF 15 /* the loop's store */

static gint64 opt_ram_size = 64ll << 20;
static gint opt_reps = 3;
static gint opt_faults = 16384;
static gint64 opt_param;
static gint64 opt_seed;
static gchar *opt_only;
static gboolean opt_slow_stores;

static const GOptionEntry options[] = {
	{ "ram-size", 0, 0, G_OPTION_ARG_INT64, &opt_ram_size, "Data region size in bytes", "N" },
	{ "reps", 0, 0, G_OPTION_ARG_INT, &opt_reps, "Runs per measurement (median)", "N" },
	{ "faults", 0, 0, G_OPTION_ARG_INT, &opt_faults, "Pages the fault loop touches", "N" },
	{ "param", 0, 0, G_OPTION_ARG_INT64, &opt_param, "params[0] of the boot parameters", "N" },
	{ "seed", 0, 0, G_OPTION_ARG_INT64, &opt_seed, "seed of the boot parameters", "N" },
	{ "only", 0, 0, G_OPTION_ARG_STRING, &opt_only,
	  "Run one configuration, once, for callgrind: image-off, image-on, image-counted, "
	  "fault-present, fault-retry or fault-restart", "NAME" },
	{ "slow-stores", 0, 0, G_OPTION_ARG_NONE, &opt_slow_stores,
	  "Keep every store on Unicorn 2.0.1's slow path (no store fast path)", NULL },
	{ NULL },
};

#define BARE_ERROR (bare_error_quark())
static G_DEFINE_QUARK(bare-error-quark, bare_error)

/* Wall time for the measurements (bench code only). */
static guint64
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (guint64)ts.tv_sec * 1000000000ull + (guint64)ts.tv_nsec;
}

/* qsort() order for the medians. */
static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Prints the median of samples as one `key value unit` line. */
static void
report(const char *key, double *samples, guint n, const char *unit)
{
	qsort(samples, n, sizeof(*samples), compare_doubles);
	printf("%s %.1f %s\n", key, samples[n / 2], unit);
}

/* A one-vCPU guest with all of its memory mapped at once, on a plain engine or a SimHw. */
typedef struct {
	SimHw *hw;        /* NULL with paging off */
	uc_engine *uc;
	guint8 *boot;     /* [0, KVMSIM_BOOT_SIZE) */
	guint8 *ram;      /* [KVMSIM_RAM_GPA, + ram_size) */
	guint8 *tables;   /* the identity SPTE tree, paging on only */
	gsize tables_size;
	gboolean exited;
	guint32 exit_status;
	gboolean in_vmcall;
	guint64 insns;
	GString *console;
} Guest;

/* Port IO: 0xe9 is the console, 0xf4 ends the run. */
static void
guest_on_out(uc_engine *uc, guint32 port, int size, guint32 value, void *opaque)
{
	Guest *g = opaque;

	if (port == KVMSIM_PORT_CONSOLE) {
		g_string_append_c(g->console, (char)value);
	} else if (port == KVMSIM_PORT_EXIT) {
		g->exited = TRUE;
		g->exit_status = value;
		uc_emu_stop(uc);
	}
}

/* vmcall raises #UD: stop with RIP at it (the run loop skips it), anything else is an error. */
static bool
guest_on_invalid(uc_engine *uc, void *opaque)
{
	static const guint8 vmcall[] = { 0x0f, 0x01, 0xc1 };
	Guest *g = opaque;
	guint8 bytes[3];
	guint64 rip;

	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	g->in_vmcall = uc_mem_read(uc, rip, bytes, sizeof(bytes)) == UC_ERR_OK &&
		       memcmp(bytes, vmcall, sizeof(vmcall)) == 0;
	return g->in_vmcall;
}

/* Counts guest instructions a block at a time, as kvmsim's quantum does. */
static void
guest_on_block(uc_engine *uc, guint64 addr, guint32 size, void *opaque)
{
	Guest *g = opaque;

	g->insns += sim_hw_block_insns(g->hw, addr, size);
}

/* An identity tree of 4 KiB writable leaves over [start, end) in g->tables. */
static void
guest_map_identity(Guest *g, guint64 *next_table, guint64 start, guint64 end)
{
	for (guint64 gpa = start; gpa < end; gpa += PAGE) {
		guint64 table = SIM_HW_TABLE_GPA;

		for (int level = 4; level > 1; level--) {
			guint64 *e = (guint64 *)(g->tables + (table - SIM_HW_TABLE_GPA)) +
				     ((gpa >> (12 + 9 * (level - 1))) & 511);

			if (!*e) {
				*e = (SIM_HW_TABLE_GPA + *next_table) | NONLEAF;
				*next_table += PAGE;
			}
			table = *e & ADDR_MASK;
		}
		((guint64 *)(g->tables + (table - SIM_HW_TABLE_GPA)))[(gpa >> 12) & 511] =
			gpa | LEAF_RW;
	}
}

/* Fails with what was being done if a Unicorn call failed. */
static gboolean
guest_check(uc_err err, const char *what, GError **error)
{
	if (err == UC_ERR_OK)
		return TRUE;
	g_set_error(error, BARE_ERROR, 0, "%s: %s", what, uc_strerror(err));
	return FALSE;
}

static void guest_free(Guest *g);

/* Loads image into a fresh guest; paging on runs it over a fully populated identity tree. */
static Guest *
guest_new(GBytes *image, gboolean paging, gboolean count, GError **error)
{
	Guest *g = g_new0(Guest, 1);
	struct kvmsim_boot_params params = {
		.magic = KVMSIM_BOOT_MAGIC,
		.nr_vcpus = 1,
		.ram_gpa = KVMSIM_RAM_GPA,
		.ram_size = (guint64)opt_ram_size,
		.seed = (guint64)opt_seed,
		.params = { (guint64)opt_param },
	};
	guint64 next_table = PAGE, rdi = 0, rsi = KVMSIM_BOOT_PARAMS_GPA, rsp = STACK_TOP;
	uc_hook hook;
	gsize size;
	const guint8 *bytes = g_bytes_get_data(image, &size);

	g->console = g_string_new(NULL);
	g->boot = g_aligned_alloc0(1, KVMSIM_BOOT_SIZE, PAGE);
	g->ram = g_aligned_alloc0(1, opt_ram_size, PAGE);
	memcpy(g->boot + KVMSIM_BOOT_PARAMS_GPA, &params, sizeof(params));
	memcpy(g->boot + KVMSIM_IMAGE_GPA, bytes, size);
	if (paging) {
		g->hw = sim_hw_new(error);
		if (!g->hw)
			goto fail;
		g->uc = sim_hw_uc(g->hw);
		if (!opt_slow_stores)
			sim_hw_store_fast_path_enable(g->hw);
		/* One PT per 2 MiB, plus the PML4, PDPT and PDs. */
		g->tables_size = ((KVMSIM_BOOT_SIZE + opt_ram_size) / (2u << 20) + 8) * PAGE;
		g->tables = g_aligned_alloc0(1, g->tables_size, PAGE);
		guest_map_identity(g, &next_table, 0, KVMSIM_BOOT_SIZE);
		guest_map_identity(g, &next_table, KVMSIM_RAM_GPA, KVMSIM_RAM_GPA + opt_ram_size);
		if (!sim_hw_map(g->hw, SIM_HW_TABLE_GPA, g->tables_size, g->tables, error))
			goto fail;
		sim_hw_load_root(g->hw, SIM_HW_TABLE_GPA);
	} else if (!guest_check(uc_open(UC_ARCH_X86, UC_MODE_64, &g->uc), "uc_open", error) ||
		   !guest_check(uc_ctl_exits_enable(g->uc), "enabling exits", error)) {
		goto fail;
	}
	if (g->hw) {
		/* through hw, which knows its maps' host pages (the store fast path needs them) */
		if (!sim_hw_map(g->hw, 0, KVMSIM_BOOT_SIZE, g->boot, error) ||
		    !sim_hw_map(g->hw, KVMSIM_RAM_GPA, opt_ram_size, g->ram, error))
			goto fail;
	} else if (!guest_check(uc_mem_map_ptr(g->uc, 0, KVMSIM_BOOT_SIZE, UC_PROT_ALL, g->boot),
				"mapping the boot slot", error) ||
		   !guest_check(uc_mem_map_ptr(g->uc, KVMSIM_RAM_GPA, opt_ram_size, UC_PROT_ALL,
					      g->ram), "mapping the data region", error)) {
		goto fail;
	}
	uc_reg_write(g->uc, UC_X86_REG_RDI, &rdi);
	uc_reg_write(g->uc, UC_X86_REG_RSI, &rsi);
	uc_reg_write(g->uc, UC_X86_REG_RSP, &rsp);
	uc_hook_add(g->uc, &hook, UC_HOOK_INSN, guest_on_out, g, 1, 0, UC_X86_INS_OUT);
	uc_hook_add(g->uc, &hook, UC_HOOK_INSN_INVALID, guest_on_invalid, g, 1, 0);
	if (count)
		uc_hook_add(g->uc, &hook, UC_HOOK_BLOCK, guest_on_block, g, 0,
			    SIM_HW_TABLE_GPA - 1);
	return g;
fail:
	guest_free(g);
	return NULL;
}

/* Closes the engine before freeing the memory it maps. */
static void
guest_free(Guest *g)
{
	if (g->hw)
		sim_hw_free(g->hw);
	else if (g->uc)
		uc_close(g->uc);
	g_aligned_free(g->boot);
	g_aligned_free(g->ram);
	g_aligned_free(g->tables);
	g_string_free(g->console, TRUE);
	g_free(g);
}

/* Runs the guest to its exit port write, skipping vmcalls (KVM_ENOSYS, 0 for sched_yield). */
static gboolean
guest_run(Guest *g, GError **error)
{
	guint64 rip = KVMSIM_IMAGE_GPA, rax;
	uc_err err;

	for (;;) {
		g->in_vmcall = FALSE;
		err = uc_emu_start(g->uc, rip, 0, 0, 0);
		uc_reg_read(g->uc, UC_X86_REG_RIP, &rip);
		if (g->exited)
			return TRUE;
		if (!g->in_vmcall) {
			g_set_error(error, BARE_ERROR, 0,
				    "the guest stopped at %#" G_GINT64_MODIFIER "x without exiting "
				    "(%s)", rip, uc_strerror(err));
			return FALSE;
		}
		uc_reg_read(g->uc, UC_X86_REG_RAX, &rax);
		rax = rax == KVM_HC_SCHED_YIELD ? 0 : (guint64)-KVM_ENOSYS;
		uc_reg_write(g->uc, UC_X86_REG_RAX, &rax);
		rip += 3;
	}
}

/* Times one run of the image; the console output of the first run goes to stderr. */
static gboolean
image_run(GBytes *image, gboolean paging, gboolean count, double *ns, guint64 *insns,
	  GError **error)
{
	static gboolean console_shown;
	Guest *g = guest_new(image, paging, count, error);
	guint64 start;
	gboolean ok;

	if (!g)
		return FALSE;
	start = now_ns();
	ok = guest_run(g, error);
	*ns = (double)(now_ns() - start);
	*insns = g->insns;
	if (ok && !console_shown) {
		fprintf(stderr, "%s", g->console->str);
		console_shown = TRUE;
	}
	if (ok && g->exit_status != 0) {
		g_set_error(error, BARE_ERROR, 0, "the guest exited with status %u",
			    g->exit_status);
		ok = FALSE;
	}
	guest_free(g);
	return ok;
}

/* With --only, whether name is the configuration to run (without it, every one runs). */
static gboolean
only(const char *name)
{
	return !opt_only || g_strcmp0(opt_only, name) == 0;
}

/* (a) the image with paging off, paging on, and paging on with a block-hook instruction count. */
static gboolean
bench_image(const char *path, GError **error)
{
	g_autoptr(GMappedFile) file = g_mapped_file_new(path, FALSE, error);
	g_autoptr(GBytes) image = NULL;
	g_autofree double *off = g_new0(double, opt_reps), *on = g_new0(double, opt_reps);
	g_autofree double *counted = g_new0(double, opt_reps);
	guint64 insns = 0, unused;

	if (!file)
		return FALSE;
	image = g_mapped_file_get_bytes(file);
	if (g_bytes_get_size(image) > KVMSIM_IMAGE_MAX) {
		g_set_error(error, BARE_ERROR, 0, "%s: larger than %llu bytes",
			    path, KVMSIM_IMAGE_MAX);
		return FALSE;
	}
	for (gint i = 0; i < opt_reps; i++)
		if ((only("image-off") && !image_run(image, FALSE, FALSE, &off[i], &unused, error)) ||
		    (only("image-on") && !image_run(image, TRUE, FALSE, &on[i], &unused, error)) ||
		    (only("image-counted") &&
		     !image_run(image, TRUE, TRUE, &counted[i], &insns, error)))
			return FALSE;
	report("image_paging_off", off, opt_reps, "ns");
	report("image_paging_on", on, opt_reps, "ns");
	report("image_paging_on_block_counted", counted, opt_reps, "ns");
	printf("image_insns %" G_GUINT64_FORMAT " insns\n", insns);
	return TRUE;
}

/* The demand-fault loop: a SimHw with faults pages at KVMSIM_RAM_GPA, none of them present. */
typedef struct {
	SimHw *hw;
	guint8 *ram, *tables;
	gsize ram_size, tables_size;
	guint64 *pts;          /* the PTs covering the data pages, contiguous */
	gboolean stop;         /* stop the run on a fault instead of retrying in the hook */
	guint64 pending;       /* the GPA of the fault the hook stopped on, or 0 */
	guint64 nr_faults;
} FaultLoop;

/* The minimal #PF handler: ack, make the page present and writable, retry (or stop). The
 * retried store fills the page's TLB entry, which the store fast path settles as kvmsim's are. */
static void
fault_on_intr(uc_engine *uc, guint32 intno, void *opaque)
{
	FaultLoop *f = opaque;
	guint64 cr2;

	sim_hw_pf_ack(f->hw);
	uc_reg_read(uc, UC_X86_REG_CR2, &cr2);
	f->nr_faults++;
	if (f->stop) {
		f->pending = cr2;
		uc_emu_stop(uc);
		return;
	}
	f->pts[(cr2 - KVMSIM_RAM_GPA) / PAGE] = (cr2 & ADDR_MASK) | LEAF_RW;
}

/* The fault loop's engine: its code page present, its data pages not, the hook installed. */
static gboolean
fault_loop_init(FaultLoop *f, GError **error)
{
	/* the faults workload's loop as gcc compiles it, so that the store faults where its does
	 * (the 5th instruction of its block: the #PF restores the CPU state up to it):
	 * 1: mov rdx, rcx; add rcx, 1; shl rdx, 12; add rdx, [rdi + 0x10]; mov [rdx], rdx;
	 *    cmp rcx, rax; jne 1b; hlt */
	static const guint8 loop[FAULT_LOOP_LEN] = {
		0x48, 0x89, 0xca, 0x48, 0x83, 0xc1, 0x01, 0x48, 0xc1, 0xe2, 0x0c, 0x48,
		0x03, 0x57, 0x10, 0x48, 0x89, 0x12, 0x48, 0x39, 0xc1, 0x75, 0xe9, 0xf4 };
	const guint64 ram_gpa = KVMSIM_RAM_GPA;
	guint64 nr_pts = (opt_faults + 511) / 512, *pml4, *pdpt, *pd, *pt_code;
	uc_hook hook;

	memset(f, 0, sizeof(*f));
	f->hw = sim_hw_new(error);
	if (!f->hw)
		return FALSE;
	if (!opt_slow_stores)
		sim_hw_store_fast_path_enable(f->hw);
	f->ram_size = KVMSIM_RAM_GPA + (gsize)opt_faults * PAGE;
	/* anonymous memory, as kvmsim's guest RAM: zero pages the kernel fills on first touch */
	f->ram = mmap(NULL, f->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (f->ram == MAP_FAILED) {
		f->ram = NULL;
		g_set_error(error, BARE_ERROR, 0, "cannot map %zu bytes of guest RAM", f->ram_size);
		return FALSE;
	}
	/* PML4, PDPT, PD, the PT of the code, then the data PTs. */
	f->tables_size = (4 + nr_pts) * PAGE;
	f->tables = g_aligned_alloc0(1, f->tables_size, PAGE);
	pml4 = (guint64 *)f->tables;
	pdpt = pml4 + 512;
	pd = pdpt + 512;
	pt_code = pd + 512;
	f->pts = pt_code + 512;
	pml4[0] = (SIM_HW_TABLE_GPA + PAGE) | NONLEAF;
	pdpt[0] = (SIM_HW_TABLE_GPA + 2 * PAGE) | NONLEAF;
	pd[0] = (SIM_HW_TABLE_GPA + 3 * PAGE) | NONLEAF;
	pt_code[FAULT_CODE_GPA / PAGE] = FAULT_CODE_GPA | LEAF_RW;
	for (guint64 i = 0; i < nr_pts; i++)
		pd[KVMSIM_RAM_GPA / (2u << 20) + i] = (SIM_HW_TABLE_GPA + (4 + i) * PAGE) | NONLEAF;
	memcpy(f->ram + FAULT_CODE_GPA, loop, sizeof(loop));
	memcpy(f->ram + FAULT_PARAMS_GPA + 0x10, &ram_gpa, sizeof(ram_gpa));
	if (!sim_hw_map(f->hw, 0, f->ram_size, f->ram, error) ||
	    !sim_hw_map(f->hw, SIM_HW_TABLE_GPA, f->tables_size, f->tables, error))
		return FALSE;
	sim_hw_load_root(f->hw, SIM_HW_TABLE_GPA);
	uc_hook_add(sim_hw_uc(f->hw), &hook, UC_HOOK_INTR, fault_on_intr, f, 1, 0);
	return TRUE;
}

/* Closes the engine before freeing the memory it maps. */
static void
fault_loop_fini(FaultLoop *f)
{
	sim_hw_free(f->hw);
	if (f->ram)
		munmap(f->ram, f->ram_size);
	g_aligned_free(f->tables);
}

/* One pass over all pages: present says whether the PTEs start present. Returns ns per page. */
static double
fault_loop_pass(FaultLoop *f, gboolean present, gboolean stop, GError **error)
{
	uc_engine *uc = sim_hw_uc(f->hw);
	guint64 rax = (guint64)opt_faults, rcx = 0, rdi = FAULT_PARAMS_GPA, rip = FAULT_CODE_GPA;
	guint64 start;
	uc_err err;

	for (gint i = 0; i < opt_faults; i++)
		f->pts[i] = present ? (KVMSIM_RAM_GPA + (guint64)i * PAGE) | LEAF_RW : 0;
	/* like kvmsim's first touches, a fault pass writes fresh memory the kernel must populate */
	if (!present)
		madvise(f->ram + KVMSIM_RAM_GPA, (gsize)opt_faults * PAGE, MADV_DONTNEED);
	sim_hw_flush_tlb(f->hw, SIM_HW_TABLE_GPA);
	f->stop = stop;
	f->nr_faults = 0;
	uc_reg_write(uc, UC_X86_REG_RAX, &rax);
	uc_reg_write(uc, UC_X86_REG_RCX, &rcx);
	uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
	start = now_ns();
	for (;;) {
		f->pending = 0;
		err = sim_hw_run(f->hw, rip);
		uc_reg_read(uc, UC_X86_REG_RIP, &rip);
		if (!f->pending)
			break;
		f->pts[(f->pending - KVMSIM_RAM_GPA) / PAGE] = (f->pending & ADDR_MASK) | LEAF_RW;
	}
	if (err != UC_ERR_OK || f->nr_faults != (present ? 0 : (guint64)opt_faults)) {
		g_set_error(error, BARE_ERROR, 0,
			    "fault loop: %s, %" G_GUINT64_FORMAT " faults", uc_strerror(err),
			    f->nr_faults);
		return -1;
	}
	return (double)(now_ns() - start) / opt_faults;
}

/* (b) ns per first touch: all present, fault retried in the hook, fault stopped and restarted. */
static gboolean
bench_faults(GError **error)
{
	g_autofree double *present = g_new0(double, opt_reps), *retry = g_new0(double, opt_reps);
	g_autofree double *restart = g_new0(double, opt_reps);
	FaultLoop f;
	gboolean ok = fault_loop_init(&f, error);

	for (gint i = 0; ok && i < opt_reps; i++)
		ok = (!only("fault-present") ||
		      (present[i] = fault_loop_pass(&f, TRUE, FALSE, error)) >= 0) &&
		     (!only("fault-retry") ||
		      (retry[i] = fault_loop_pass(&f, FALSE, FALSE, error)) >= 0) &&
		     (!only("fault-restart") ||
		      (restart[i] = fault_loop_pass(&f, FALSE, TRUE, error)) >= 0);
	if (ok)
		printf("store_fast_path %d bool\n", sim_hw_store_fast_path(f.hw));
	if (ok) {
		report("fault_loop_present", present, opt_reps, "ns/page");
		report("fault_retry_in_hook", retry, opt_reps, "ns/fault");
		report("fault_stop_restart", restart, opt_reps, "ns/fault");
	}
	fault_loop_fini(&f);
	return ok;
}

/* Times n evaluations of the statement what; ns per evaluation. */
#define TIME_NS(n, what)                                                                           \
	({                                                                                         \
		guint64 start_ = now_ns();                                                         \
		for (guint i_ = 0; i_ < (n); i_++)                                                 \
			what;                                                                      \
		(double)(now_ns() - start_) / (n);                                                 \
	})

/* sim_hw_access_kind() on a RIP whose cached decode was just dropped. */
static SimHwAccessKind
access_kind_after_change(FaultLoop *f, guint64 rip, guint64 gpa)
{
	sim_hw_content_changed(f->hw, rip, 1);
	return sim_hw_access_kind(f->hw, rip, gpa, 0);
}

/* (c) the hw primitives on the exit path, on the fault loop's engine. */
static gboolean
bench_hw(GError **error)
{
	enum { CALLS = 20000, DECODE_CALLS = 2000 };
	g_autofree double *flush = g_new(double, opt_reps), *ack = g_new(double, opt_reps);
	g_autofree double *kind = g_new(double, opt_reps), *kind_miss = g_new(double, opt_reps);
	g_autofree double *blocks = g_new(double, opt_reps);
	g_autofree double *changed = g_new(double, opt_reps);
	g_autofree double *flush_full = g_new(double, opt_reps);
	g_autofree double *page = g_new(double, opt_reps), *page_full = g_new(double, opt_reps);
	volatile guint64 sink = 0;
	guint64 rip = FAULT_CODE_GPA + FAULT_STORE_OFF, gpa = KVMSIM_RAM_GPA;
	FaultLoop f;
	gboolean ok = fault_loop_init(&f, error);

	for (gint r = 0; ok && r < opt_reps; r++) {
		/* The first flush after the TLB was filled with --faults pages costs the most. */
		ok = fault_loop_pass(&f, TRUE, FALSE, error) >= 0;
		if (!ok)
			break;
		flush_full[r] = TIME_NS(1, sim_hw_flush_tlb(f.hw, SIM_HW_TABLE_GPA));
		flush[r] = TIME_NS(CALLS, sim_hw_flush_tlb(f.hw, SIM_HW_TABLE_GPA));
		ok = fault_loop_pass(&f, TRUE, FALSE, error) >= 0;
		if (!ok)
			break;
		page_full[r] = TIME_NS(1, sim_hw_flush_tlb_range(f.hw, gpa, PAGE));
		page[r] = TIME_NS(CALLS, sim_hw_flush_tlb_range(f.hw, gpa, PAGE));
		ack[r] = TIME_NS(CALLS, sink += sim_hw_pf_ack(f.hw));
		/* The loop's store, as for an RMW: error code 0 needs the decode. */
		sink += sim_hw_access_kind(f.hw, rip, gpa, 0);
		kind[r] = TIME_NS(CALLS, sink += sim_hw_access_kind(f.hw, rip, gpa, 0));
		changed[r] = TIME_NS(DECODE_CALLS, sim_hw_content_changed(f.hw, rip, 1));
		/* A decode: a miss after each content_changed, less the cost of that call. */
		kind_miss[r] = TIME_NS(DECODE_CALLS,
				       sink += access_kind_after_change(&f, rip, gpa));
		kind_miss[r] -= changed[r];
		sink += sim_hw_block_insns(f.hw, FAULT_CODE_GPA, FAULT_LOOP_LEN);
		blocks[r] = TIME_NS(CALLS, sink += sim_hw_block_insns(f.hw, FAULT_CODE_GPA,
								     FAULT_LOOP_LEN));
	}
	if (ok) {
		report("hw_flush_tlb_full", flush_full, opt_reps, "ns");
		report("hw_flush_tlb", flush, opt_reps, "ns");
		report("hw_flush_tlb_range_page_full", page_full, opt_reps, "ns");
		report("hw_flush_tlb_range_page", page, opt_reps, "ns");
		report("hw_pf_ack", ack, opt_reps, "ns");
		report("hw_access_kind_hit", kind, opt_reps, "ns");
		report("hw_access_kind_decode", kind_miss, opt_reps, "ns");
		report("hw_block_insns_hit", blocks, opt_reps, "ns");
		report("hw_code_changed_page", changed, opt_reps, "ns");
	}
	fault_loop_fini(&f);
	return ok;
}

/* (a) if an image is given, then (b) and (c). */
int
main(int argc, char **argv)
{
	g_autoptr(GOptionContext) context = g_option_context_new("[IMAGE]");
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(context,
				     "Bare Unicorn baselines: an IMAGE run with paging off and on, "
				     "the minimal demand-fault handler, the hw primitives.");
	g_option_context_add_main_entries(context, options, NULL);
	if (!g_option_context_parse(context, &argc, &argv, &error) || argc > 2 ||
	    opt_reps < 1 || opt_faults < 1 || opt_faults > 500 * 512 ||
	    opt_ram_size < (gint64)PAGE || opt_ram_size % PAGE) {
		fprintf(stderr, "bare: %s\n",
			error ? error->message : "bad arguments (see --help)");
		return 2;
	}
	if (opt_only) {
		/* one configuration, one run: a callgrind count, not a timing */
		opt_reps = 1;
		if ((argc == 2 && g_str_has_prefix(opt_only, "image-") &&
		     !bench_image(argv[1], &error)) ||
		    (g_str_has_prefix(opt_only, "fault-") && !bench_faults(&error))) {
			fprintf(stderr, "bare: %s\n", error->message);
			return 1;
		}
		return 0;
	}
	if ((argc == 2 && !bench_image(argv[1], &error)) || !bench_faults(&error) ||
	    !bench_hw(&error)) {
		fprintf(stderr, "bare: %s\n", error->message);
		return 1;
	}
	return 0;
}
