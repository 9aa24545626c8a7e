/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The start-up self-test: kvmsim's vCPUs rely on behaviour of Unicorn 2.0.1 that no API promises
 * (offsets into the context blob, how the softmmu TLB caches a walk), so every process proves it
 * once on a real paging setup before the first engine is handed out.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"

#include <stdarg.h>
#include <string.h>

#include "sim/cpu/hw-internal.h"

/* The test guest: one page of code, then three data pages, mapped by a 4-level tree. */
#define ST_RAM_GPA 0x10000ull
#define ST_RAM_SIZE 0x4000ull
#define ST_CODE ST_RAM_GPA
#define ST_CODE_RELOAD (ST_RAM_GPA + 0x40)
#define ST_DATA(i) (ST_RAM_GPA + 0x1000ull * (i))
#define ST_TABLES_SIZE (4 * HW_PAGE_SIZE)
#define ST_MARKER 0x5e1f7e57ull

/* EPT encodings as KVM writes them: non-leaf R|W|X with bit 5 set; leaves R(|W)|X, WB, IPAT. */
#define ST_NONLEAF 0x27ull
#define ST_LEAF_RW 0x77ull
#define ST_LEAF_RO 0x75ull

/* mov rax, [D1]; mov [D2], rax; mov [D3], rax; hlt */
static const guint8 st_code[] = {
	0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00,
	0x20, 0x01, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00, 0x30, 0x01, 0x00, 0xf4,
};
/* mov rax, [D1]; hlt */
static const guint8 st_code_reload[] = { 0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x01, 0x00, 0xf4 };

typedef struct {
	guint32 intno;
	guint32 error_code;
	guint64 cr2;
	guint64 rip;
} StFault;

typedef struct {
	SimHw *hw;
	guint8 *ram;
	guint64 *tables; /* PML4, PDPT, PD, PT: one page each */
	guint nr_faults;
	StFault faults[4];
} Selftest;

/* The self-test's #PF handler: records the fault, acks it, makes the page present and writable. */
static void
st_on_intr(uc_engine *uc, guint32 intno, void *opaque)
{
	Selftest *st = opaque;
	StFault *fault;

	if (st->nr_faults == G_N_ELEMENTS(st->faults)) {
		uc_emu_stop(uc);
		return;
	}
	fault = &st->faults[st->nr_faults++];
	fault->intno = intno;
	uc_reg_read(uc, UC_X86_REG_CR2, &fault->cr2);
	uc_reg_read(uc, UC_X86_REG_RIP, &fault->rip);
	fault->error_code = sim_hw_pf_ack(st->hw);
	if (intno != 14 || fault->cr2 < ST_RAM_GPA || fault->cr2 >= ST_RAM_GPA + ST_RAM_SIZE) {
		uc_emu_stop(uc);
		return;
	}
	st->tables[3 * 512 + ((fault->cr2 >> 12) & 511)] = (fault->cr2 & HW_PAGE_MASK) | ST_LEAF_RW;
}

/* Sets error to a self-test failure describing what was observed. */
static gboolean G_GNUC_PRINTF(2, 3)
st_fail(GError **error, const char *format, ...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_SELFTEST,
		    "Unicorn self-test failed: %s (kvmsim needs libunicorn 2.0.1 as Debian 12 "
		    "ships it; see sim/cpu/hw.h)", what);
	return FALSE;
}

/* Checks one recorded fault against what x86 paging must report. */
static gboolean
st_expect_fault(Selftest *st, guint i, const char *access, guint64 gpa, guint64 rip,
		guint32 error_code, GError **error)
{
	const StFault *fault = &st->faults[i];

	if (fault->cr2 != gpa || fault->rip != rip)
		return st_fail(error, "%s: CR2 %#" G_GINT64_MODIFIER "x, RIP %#" G_GINT64_MODIFIER
			       "x; expected %#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER "x",
			       access, fault->cr2, fault->rip, gpa, rip);
	if (fault->error_code != error_code)
		return st_fail(error, "%s: error code %u read from the context, expected %u",
			       access, fault->error_code, error_code);
	return TRUE;
}

/* Runs the guest from rip: every #PF must be reported as 14, the run ends at end_rip, nr_faults. */
static gboolean
st_run(Selftest *st, guint64 rip, guint64 end_rip, guint nr_faults, GError **error)
{
	uc_err err = sim_hw_run(st->hw, rip);
	guint64 stopped_at;
	guint i;

	uc_reg_read(sim_hw_uc(st->hw), UC_X86_REG_RIP, &stopped_at);
	for (i = 0; i < st->nr_faults; i++)
		if (st->faults[i].intno != 14)
			return st_fail(error, "#PF %u of the test (CR2 %#" G_GINT64_MODIFIER
				       "x) was reported as intno %u, not 14: resetting "
				       "old_exception did not work", i + 1, st->faults[i].cr2,
				       st->faults[i].intno);
	if (err != UC_ERR_OK || stopped_at != end_rip)
		return st_fail(error, "the run from %#" G_GINT64_MODIFIER "x stopped at %#"
			       G_GINT64_MODIFIER "x (%s) after %u faults", rip, stopped_at,
			       uc_strerror(err), st->nr_faults);
	if (st->nr_faults != nr_faults)
		return st_fail(error, "%u #PFs so far, expected %u", st->nr_faults, nr_faults);
	return TRUE;
}

/* The old_exception field must read -1 (no exception in flight) at this point. */
static gboolean
st_expect_no_old_exception(Selftest *st, const char *when, GError **error)
{
	gint32 old_exception = hw_ctx_read_int(st->hw, HW_CTX_OLD_EXCEPTION_FROM_END);

	if (old_exception != -1)
		return st_fail(error, "old_exception reads %d %s, expected -1 (is the context "
			       "layout different?)", old_exception, when);
	return TRUE;
}

/* Faults, acks and their error codes, then the TLB behaviour of a zap with and without a flush. */
static gboolean
st_check(Selftest *st, GError **error)
{
	uc_engine *uc = sim_hw_uc(st->hw);
	guint64 *pml4 = st->tables, *pdpt = pml4 + 512, *pd = pdpt + 512, *pt = pd + 512;
	guint64 root = SIM_HW_TABLE_GPA, value, rax = 0x5555, rip = 0x4242, cr3;
	guint64 marker = ST_MARKER;

	if (!st_expect_no_old_exception(st, "in a fresh context", error))
		return FALSE;
	pml4[0] = (root + HW_PAGE_SIZE) | ST_NONLEAF;
	pdpt[0] = (root + 2 * HW_PAGE_SIZE) | ST_NONLEAF;
	pd[0] = (root + 3 * HW_PAGE_SIZE) | ST_NONLEAF;
	pt[ST_CODE >> 12] = ST_CODE | ST_LEAF_RW;
	pt[ST_DATA(3) >> 12] = ST_DATA(3) | ST_LEAF_RO;
	memcpy(st->ram + (ST_CODE - ST_RAM_GPA), st_code, sizeof(st_code));
	memcpy(st->ram + (ST_CODE_RELOAD - ST_RAM_GPA), st_code_reload, sizeof(st_code_reload));
	memcpy(st->ram + (ST_DATA(1) - ST_RAM_GPA), &marker, sizeof(marker));
	sim_hw_load_root(st->hw, root);

	if (!st_run(st, ST_CODE, ST_CODE + sizeof(st_code), 3, error) ||
	    !st_expect_fault(st, 0, "a read of a not-present page", ST_DATA(1), ST_CODE, 0,
			     error) ||
	    !st_expect_fault(st, 1, "a write to a not-present page", ST_DATA(2), ST_CODE + 8, 2,
			     error) ||
	    !st_expect_fault(st, 2, "a write to a read-only page", ST_DATA(3), ST_CODE + 16, 3,
			     error) ||
	    !st_expect_no_old_exception(st, "after a run", error))
		return FALSE;

	/* Zap D1: the TLB still holds it, so the guest keeps reading it until the flush. */
	pt[ST_DATA(1) >> 12] = 0;
	if (!st_run(st, ST_CODE_RELOAD, ST_CODE_RELOAD + sizeof(st_code_reload), 3, error))
		return FALSE;
	uc_reg_read(uc, UC_X86_REG_RAX, &value);
	if (value != ST_MARKER)
		return st_fail(error, "a read through a zapped but cached PTE returned %#"
			       G_GINT64_MODIFIER "x", value);

	uc_reg_write(uc, UC_X86_REG_RAX, &rax);
	uc_reg_write(uc, UC_X86_REG_RIP, &rip);
	sim_hw_flush_tlb(st->hw, root);
	uc_reg_read(uc, UC_X86_REG_RAX, &value);
	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	uc_reg_read(uc, UC_X86_REG_CR3, &cr3);
	if (value != rax || rip != 0x4242 || cr3 != root)
		return st_fail(error, "after the TLB flush RAX, RIP, CR3 are %#" G_GINT64_MODIFIER
			       "x, %#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER "x", value, rip,
			       cr3);
	if (!st_expect_no_old_exception(st, "after a TLB flush", error))
		return FALSE;
	return st_run(st, ST_CODE_RELOAD, ST_CODE_RELOAD + sizeof(st_code_reload), 4, error) &&
	       st_expect_fault(st, 3, "a read of a zapped page after the flush", ST_DATA(1),
			       ST_CODE_RELOAD, 0, error);
}

/* Builds the test guest in a private engine and runs the checks. */
static gboolean
st_run_all(GError **error)
{
	Selftest st = { 0 };
	uc_hook hook;
	gboolean ok;

	if (!hw_code_locate())
		return st_fail(error, "libunicorn exports no qemu_ram_addr_from_host_x86_64 and "
			       "tb_invalidate_phys_range_x86_64 (sim_hw_content_changed())");
	st.hw = hw_new_unchecked(error);
	if (!st.hw)
		return FALSE;
	st.ram = g_aligned_alloc0(1, ST_RAM_SIZE, HW_PAGE_SIZE);
	st.tables = g_aligned_alloc0(1, ST_TABLES_SIZE, HW_PAGE_SIZE);
	ok = sim_hw_map(st.hw, ST_RAM_GPA, ST_RAM_SIZE, st.ram, error) &&
	     sim_hw_map(st.hw, SIM_HW_TABLE_GPA, ST_TABLES_SIZE, st.tables, error);
	if (ok && uc_hook_add(sim_hw_uc(st.hw), &hook, UC_HOOK_INTR, st_on_intr, &st, 1, 0) !=
			  UC_ERR_OK)
		ok = st_fail(error, "cannot add a UC_HOOK_INTR hook");
	ok = ok && st_check(&st, error);
	sim_hw_free(st.hw);
	g_aligned_free(st.ram);
	g_aligned_free(st.tables);
	return ok;
}

/* Runs the checks once per process and gives every caller the same verdict. */
gboolean
sim_hw_selftest(GError **error)
{
	static gsize done;
	static GError *failure;

	if (g_once_init_enter(&done)) {
		st_run_all(&failure);
		g_once_init_leave(&done, 1);
	}
	if (failure) {
		g_propagate_error(error, g_error_copy(failure));
		return FALSE;
	}
	return TRUE;
}
