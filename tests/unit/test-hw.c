/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sim/cpu/hw: Unicorn 2.0.1 as a vCPU whose EPT is walked by the engine. Each test runs a few
 * hand-assembled guest instructions on a real paging setup: guest RAM at [0, 4 MiB), a bump-
 * allocated SPTE tree in a table region at SIM_HW_TABLE_GPA, a one-page MMIO window that Unicorn
 * maps but the tree never does.
 */
#include "tests/check-run.h"
#include <stdlib.h>
#include <string.h>

#include "sim/cpu/hw-internal.h"
#include "sim/cpu/hw.h"

#define RAM_SIZE 0x400000ull
#define TABLES_SIZE 0x40000ull
#define MMIO_GPA 0xc0000000ull
#define CODE 0x100000ull
#define DATA 0x200000ull
#define PAGE 0x1000ull

/* EPT encodings as KVM writes them (R, W, X; write-back memtype; ignore PAT; bit 5 on non-leaf). */
#define NONLEAF 0x27ull
#define LEAF_RW 0x77ull
#define LEAF_RO 0x75ull
#define PS (1ull << 7)
#define ADDR_MASK 0x000ffffffffff000ull

typedef struct {
	guint32 intno;
	guint32 error_code; /* G_MAXUINT32 when the test does not ack */
	guint64 cr2;
	guint64 rip;
	SimHwAccessKind kind;
} Fault;

typedef enum {
	ON_FAULT_MAP,  /* make the page present and writable, retry */
	ON_FAULT_STOP, /* uc_emu_stop(): the run returns with RIP at the instruction */
	ON_FAULT_LOAD, /* store load_byte at load_gpa, report it (sim_hw_content_changed()), map */
} OnFault;

typedef struct {
	SimHw *hw;
	uc_engine *uc;
	guint8 *ram, *tables, *mmio;
	guint64 root, next_table;
	gboolean ack;
	OnFault on_fault;
	guint64 load_gpa;
	guint8 load_byte;
	guint nr_faults;
	Fault faults[64];
} Fixture;

static Fixture *t;

/* The entry for gpa at level (1 = PT … 4 = PML4) under root, allocating tables on the way. */
static guint64 *
entry(guint64 root, guint64 gpa, int level)
{
	guint64 table = root;
	int l;

	for (l = 4;; l--) {
		guint64 *e = (guint64 *)(t->tables + (table - SIM_HW_TABLE_GPA)) +
			     ((gpa >> (12 + 9 * (l - 1))) & 511);

		if (l == level)
			return e;
		if (!(*e & 1)) {
			*e = (SIM_HW_TABLE_GPA + t->next_table) | NONLEAF;
			t->next_table += PAGE;
		}
		table = *e & ADDR_MASK;
	}
}

/* The 4 KiB leaf for gpa in the current tree. */
static guint64 *
pte(guint64 gpa)
{
	return entry(t->root, gpa, 1);
}

/* A new empty tree in the table region. */
static guint64
new_root(void)
{
	guint64 root = SIM_HW_TABLE_GPA + t->next_table;

	t->next_table += PAGE;
	return root;
}

/* Places code at gpa and maps its page writable. */
static void
code(guint64 gpa, const guint8 *bytes, gsize len)
{
	memcpy(t->ram + gpa, bytes, len);
	*pte(gpa) = (gpa & ADDR_MASK) | LEAF_RW;
}

#define CODE_AT(gpa, ...)                                                                          \
	do {                                                                                       \
		static const guint8 bytes_[] = { __VA_ARGS__ };                                    \
		code(gpa, bytes_, sizeof(bytes_));                                                 \
	} while (0)

/* A guest register, read between runs or from a hook. */
static guint64
reg(int id)
{
	guint64 value;

	uc_reg_read(t->uc, id, &value);
	return value;
}

/* Sets a guest register. */
static void
set_reg(int id, guint64 value)
{
	uc_reg_write(t->uc, id, &value);
}

/* Gives the registers the flush stubs use (RIP, RDI, RSI, RCX, the flags) values of the
 * caller's own, which assert_stub_registers_kept() then expects back. */
static void
set_stub_registers(void)
{
	set_reg(UC_X86_REG_RIP, 0x123456);
	set_reg(UC_X86_REG_RDI, 0xd1d1);
	set_reg(UC_X86_REG_RSI, 0x5151);
	set_reg(UC_X86_REG_RCX, 0xc1c1);
	set_reg(UC_X86_REG_EFLAGS, 0x2 | 0x1 | 0x40); /* CF, ZF */
}

/* What set_stub_registers() set, and the caller's CR3, are still there. */
static void
assert_stub_registers_kept(void)
{
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), 0x123456);
	ck_assert_uint_eq(reg(UC_X86_REG_RDI), 0xd1d1);
	ck_assert_uint_eq(reg(UC_X86_REG_RSI), 0x5151);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0xc1c1);
	ck_assert_uint_eq(reg(UC_X86_REG_EFLAGS) & 0xff, 0x43);
	ck_assert_uint_eq(reg(UC_X86_REG_CR3), t->root);
}

/* The test's #PF handler: records what the caller's handler would see, then maps or stops. */
static void
on_intr(uc_engine *uc, guint32 intno, void *opaque)
{
	Fault *f;

	if (t->nr_faults == G_N_ELEMENTS(t->faults)) {
		uc_emu_stop(uc);
		return;
	}
	f = &t->faults[t->nr_faults++];
	f->intno = intno;
	f->cr2 = reg(UC_X86_REG_CR2);
	f->rip = reg(UC_X86_REG_RIP);
	f->error_code = G_MAXUINT32;
	if (t->ack) {
		f->error_code = sim_hw_pf_ack(t->hw);
		f->kind = sim_hw_access_kind(t->hw, f->rip, f->cr2, f->error_code);
	}
	if (intno != 14 || t->on_fault == ON_FAULT_STOP) {
		uc_emu_stop(uc);
		return;
	}
	if (t->on_fault == ON_FAULT_LOAD) {
		/* what the fault path does when it loads another frame into the page it maps */
		t->ram[t->load_gpa] = t->load_byte;
		sim_hw_content_changed(t->hw, t->load_gpa & ADDR_MASK, PAGE);
	}
	*pte(f->cr2) = (f->cr2 & ADDR_MASK) | LEAF_RW;
}

/* Runs from rip; the run must end without a Unicorn error. */
static void
run(guint64 rip)
{
	uc_err err = sim_hw_run(t->hw, rip);

	ck_assert_msg(err == UC_ERR_OK, "run from %#" G_GINT64_MODIFIER "x: %s", rip,
		      uc_strerror(err));
}

/* The remote TLB flush kvmsim's MMU asks for after a zap. */
static void
flush(void)
{
	sim_hw_flush_tlb(t->hw, t->root);
}

/* A fresh engine, guest RAM, table region and MMIO page per test, CR3 at an empty tree. */
static void
setup(void)
{
	GError *error = NULL;
	uc_hook hook;

	t = g_new0(Fixture, 1);
	t->hw = sim_hw_new(&error);
	ck_assert_msg(t->hw, "sim_hw_new: %s", error ? error->message : "?");
	t->uc = sim_hw_uc(t->hw);
	t->ram = g_aligned_alloc0(1, RAM_SIZE, PAGE);
	t->tables = g_aligned_alloc0(1, TABLES_SIZE, PAGE);
	t->mmio = g_aligned_alloc0(1, PAGE, PAGE);
	ck_assert(sim_hw_map(t->hw, 0, RAM_SIZE, t->ram, &error));
	ck_assert(sim_hw_map(t->hw, SIM_HW_TABLE_GPA, TABLES_SIZE, t->tables, &error));
	ck_assert(sim_hw_map(t->hw, MMIO_GPA, PAGE, t->mmio, &error));
	t->root = new_root();
	sim_hw_load_root(t->hw, t->root);
	t->ack = TRUE;
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_INTR, on_intr, NULL, 1, 0) == UC_ERR_OK);
}

/* Frees the engine before the memory it maps. */
static void
teardown(void)
{
	sim_hw_free(t->hw);
	g_aligned_free(t->ram);
	g_aligned_free(t->tables);
	g_aligned_free(t->mmio);
	g_free(t);
}

/* Fault i was reported with these values (error_code G_MAXUINT32: not checked). */
static void
assert_fault(guint i, guint32 intno, guint64 cr2, guint64 rip, guint32 error_code)
{
	ck_assert_uint_gt(t->nr_faults, i);
	ck_assert_uint_eq(t->faults[i].intno, intno);
	ck_assert_uint_eq(t->faults[i].cr2, cr2);
	ck_assert_uint_eq(t->faults[i].rip, rip);
	if (error_code != G_MAXUINT32)
		ck_assert_uint_eq(t->faults[i].error_code, error_code);
}

/* mov rax, [DATA]; mov [DATA + 0x1000], rax; mov [DATA + 0x2000], rax; hlt */
static void
three_faults(void)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00,
		0x10, 0x20, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00, 0x20, 0x20, 0x00, 0xf4);
	*pte(DATA + 0x2000) = (DATA + 0x2000) | LEAF_RO;
	run(CODE);
}

START_TEST(selftest_passes_on_this_build)
{
	GError *error = NULL;

	ck_assert_msg(sim_hw_selftest(&error), "%s", error ? error->message : "");
}
END_TEST

START_TEST(read_of_not_present_page_reports_error_code_0)
{
	three_faults();
	assert_fault(0, 14, DATA, CODE, 0);
}
END_TEST

START_TEST(write_to_not_present_page_reports_error_code_2)
{
	three_faults();
	assert_fault(1, 14, DATA + 0x1000, CODE + 8, 2);
}
END_TEST

START_TEST(write_to_read_only_page_reports_error_code_3)
{
	three_faults();
	assert_fault(2, 14, DATA + 0x2000, CODE + 16, 3);
}
END_TEST

START_TEST(second_page_fault_is_not_reported_as_double_fault)
{
	three_faults();
	ck_assert_uint_eq(t->faults[1].intno, 14);
}
END_TEST

START_TEST(third_page_fault_is_not_reported_as_triple_fault)
{
	three_faults();
	ck_assert_uint_eq(t->nr_faults, 3);
	ck_assert_uint_eq(t->faults[2].intno, 14);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 25);
}
END_TEST

START_TEST(unacked_page_fault_makes_the_next_a_double_fault)
{
	t->ack = FALSE;
	three_faults();
	ck_assert_uint_eq(t->faults[0].intno, 14);
	ck_assert_uint_eq(t->faults[1].intno, 8);
}
END_TEST

START_TEST(pf_ack_also_works_between_runs)
{
	/* mov [DATA], rax; hlt: the hook stops without acking, the run loop acks afterwards. */
	CODE_AT(CODE, 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	t->ack = FALSE;
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	ck_assert_uint_eq(sim_hw_pf_ack(t->hw), 2);
	run(CODE);
	assert_fault(1, 14, DATA, CODE, G_MAXUINT32);
}
END_TEST

START_TEST(first_fault_of_a_later_run_is_a_page_fault)
{
	/* mov rax, [DATA]; hlt: a run before it must not leave old_exception set. */
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | LEAF_RW;
	run(CODE);
	*pte(DATA) = 0;
	flush();
	t->ack = FALSE;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, G_MAXUINT32);
}
END_TEST

START_TEST(guest_code_at_address_zero_runs)
{
	/* mov eax, 7; hlt at GPA 0: no address is an exit of the run. */
	CODE_AT(0, 0xb8, 0x07, 0x00, 0x00, 0x00, 0xf4);
	run(0);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 7);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), 6);
}
END_TEST

START_TEST(zapped_pte_is_used_until_flush)
{
	guint64 marker = 0x1234567890ull;

	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	memcpy(t->ram + DATA, &marker, sizeof(marker));
	*pte(DATA) = DATA | LEAF_RW;
	run(CODE);
	*pte(DATA) = 0;
	set_reg(UC_X86_REG_RAX, 0);
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 0);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), marker);
	flush();
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
}
END_TEST

START_TEST(flush_tlb_restores_rip_and_rax)
{
	set_reg(UC_X86_REG_RIP, 0x123456);
	set_reg(UC_X86_REG_RAX, 0xfeedface);
	flush();
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), 0x123456);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0xfeedface);
	ck_assert_uint_eq(reg(UC_X86_REG_CR3), t->root);
}
END_TEST

START_TEST(flush_tlb_switches_to_the_new_root)
{
	guint64 first = t->root;

	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | LEAF_RW;
	run(CODE);
	/* A second tree that maps the code but not the data. */
	t->root = new_root();
	*pte(CODE) = CODE | LEAF_RW;
	flush();
	ck_assert_uint_eq(reg(UC_X86_REG_CR3), t->root);
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
	ck_assert_uint_ne(first, t->root);
}
END_TEST

START_TEST(flush_tlb_range_flushes_only_its_pages)
{
	/* mov rax, [DATA]; mov rax, [DATA + 0x1000]; mov rax, [DATA + 0x2000]; hlt */
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x48, 0x8b, 0x04, 0x25, 0x00,
		0x10, 0x20, 0x00, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x20, 0x00, 0xf4);
	for (guint64 i = 0; i < 3; i++)
		*pte(DATA + i * PAGE) = (DATA + i * PAGE) | LEAF_RW;
	run(CODE);
	for (guint64 i = 0; i < 3; i++)
		*pte(DATA + i * PAGE) = 0;
	/* [DATA + 0x800, DATA + 0x1801) covers the first two pages. */
	sim_hw_flush_tlb_range(t->hw, DATA + 0x800, 0x1001);
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 2);
	assert_fault(0, 14, DATA, CODE, 0);
	assert_fault(1, 14, DATA + 0x1000, CODE + 8, 0);
}
END_TEST

START_TEST(flush_tlb_range_of_many_pages_flushes_them_all)
{
	/* 1: mov rdx, [rax]; add rax, 0x1000; dec rcx; jnz 1b; hlt over 40 pages from DATA */
	CODE_AT(CODE, 0x48, 0x8b, 0x10, 0x48, 0x05, 0x00, 0x10, 0x00, 0x00, 0x48, 0xff, 0xc9, 0x75,
		0xf2, 0xf4);
	for (guint64 i = 0; i < 40; i++)
		*pte(DATA + i * PAGE) = (DATA + i * PAGE) | LEAF_RW;
	set_reg(UC_X86_REG_RAX, DATA);
	set_reg(UC_X86_REG_RCX, 40);
	run(CODE);
	for (guint64 i = 0; i < 40; i++)
		*pte(DATA + i * PAGE) = 0;
	sim_hw_flush_tlb_range(t->hw, DATA, 40 * PAGE);
	set_reg(UC_X86_REG_RAX, DATA);
	set_reg(UC_X86_REG_RCX, 40);
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 40);
}
END_TEST

START_TEST(flush_tlb_range_restores_registers_and_flags)
{
	set_stub_registers();
	sim_hw_flush_tlb_range(t->hw, DATA, 3 * PAGE);
	assert_stub_registers_kept();
}
END_TEST

/* Runs a guest that reads three pages, unmaps them, flushes the first and the third with
 * sim_hw_flush_tlb_pages(), runs it again: only those two fault. */
static void
check_flush_tlb_pages_of_two_of_three(void)
{
	/* mov rax, [DATA]; mov rax, [DATA + 0x1000]; mov rax, [DATA + 0x2000]; hlt */
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x48, 0x8b, 0x04, 0x25, 0x00,
		0x10, 0x20, 0x00, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x20, 0x20, 0x00, 0xf4);
	const guint64 pages[] = { (DATA + 2 * PAGE) / PAGE, DATA / PAGE };

	for (guint64 i = 0; i < 3; i++)
		*pte(DATA + i * PAGE) = (DATA + i * PAGE) | LEAF_RW;
	run(CODE);
	for (guint64 i = 0; i < 3; i++)
		*pte(DATA + i * PAGE) = 0;
	/* the first and the third page: the second stays cached, the others fault */
	sim_hw_flush_tlb_pages(t->hw, pages, G_N_ELEMENTS(pages));
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 2);
	assert_fault(0, 14, DATA, CODE, 0);
	assert_fault(1, 14, DATA + 0x2000, CODE + 16, 0);
}

START_TEST(flush_tlb_pages_flushes_the_listed_pages_and_no_other)
{
	/* Debian 12's libunicorn exports tlb_flush_page(): this is its path */
	ck_assert_ptr_nonnull(t->hw->cpu);
	check_flush_tlb_pages_of_two_of_three();
}
END_TEST

/* Without QEMU's tlb_flush_page() (a build that does not export it), the list stub does it. */
START_TEST(flush_tlb_pages_without_tlb_flush_page_runs_the_stub_to_the_same_effect)
{
	const guint64 pages[] = { DATA / PAGE };

	t->hw->cpu = NULL;
	check_flush_tlb_pages_of_two_of_three();
	set_stub_registers();
	sim_hw_flush_tlb_pages(t->hw, pages, G_N_ELEMENTS(pages));
	assert_stub_registers_kept();
}
END_TEST

START_TEST(flush_tlb_pages_past_sixteen_flushes_everything)
{
	/* 1: mov rdx, [rax]; add rax, 0x1000; dec rcx; jnz 1b; hlt over 20 pages from DATA */
	CODE_AT(CODE, 0x48, 0x8b, 0x10, 0x48, 0x05, 0x00, 0x10, 0x00, 0x00, 0x48, 0xff, 0xc9, 0x75,
		0xf2, 0xf4);
	guint64 pages[17];

	for (guint64 i = 0; i < 20; i++)
		*pte(DATA + i * PAGE) = (DATA + i * PAGE) | LEAF_RW;
	set_reg(UC_X86_REG_RAX, DATA);
	set_reg(UC_X86_REG_RCX, 20);
	run(CODE);
	for (guint64 i = 0; i < 20; i++)
		*pte(DATA + i * PAGE) = 0;
	for (guint64 i = 0; i < 17; i++)
		pages[i] = DATA / PAGE + i;
	/* pages 17..19 are not listed, and fault all the same */
	sim_hw_flush_tlb_pages(t->hw, pages, 17);
	set_reg(UC_X86_REG_RAX, DATA);
	set_reg(UC_X86_REG_RCX, 20);
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 20);
}
END_TEST

START_TEST(flush_tlb_pages_restores_registers_and_flags)
{
	const guint64 pages[] = { DATA / PAGE, DATA / PAGE + 1 };

	set_stub_registers();
	sim_hw_flush_tlb_pages(t->hw, pages, G_N_ELEMENTS(pages));
	assert_stub_registers_kept();
}
END_TEST

START_TEST(walker_sets_accessed_and_dirty_bits)
{
	/* mov rax, [DATA]; hlt at CODE, mov [DATA], rax; hlt at CODE + 0x10; no A/D bits set. */
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	CODE_AT(CODE + 0x10, 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | 0x3;
	for (int level = 4; level >= 2; level--)
		*entry(t->root, DATA, level) &= ~0x20ull;
	flush();
	run(CODE);
	for (int level = 4; level >= 2; level--)
		ck_assert_uint_eq(*entry(t->root, DATA, level) & 0x20, 0x20);
	ck_assert_uint_eq(*pte(DATA) & 0x60, 0x20);
	run(CODE + 0x10);
	ck_assert_uint_eq(*pte(DATA) & 0x60, 0x60);
}
END_TEST

START_TEST(walker_never_writes_entries_with_accessed_and_dirty_preset)
{
	g_autofree guint8 *before = NULL;

	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0x48, 0x89, 0x04, 0x25, 0x00,
		0x10, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | LEAF_RW;
	*pte(DATA + 0x1000) = (DATA + 0x1000) | LEAF_RW;
	before = g_memdup2(t->tables, TABLES_SIZE);
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 0);
	ck_assert(memcmp(before, t->tables, TABLES_SIZE) == 0);
}
END_TEST

START_TEST(two_mib_and_one_gib_leaves_are_walked)
{
	CODE_AT(CODE, 0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	/* A read-only 2 MiB leaf over DATA: the write faults with error code 3. */
	*entry(t->root, DATA, 2) = DATA | LEAF_RO | PS;
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 3);
	/* A writable 1 GiB leaf over [0, 1 GiB), code included: the write goes through. */
	*entry(t->root, 0, 3) = LEAF_RW | PS;
	flush();
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 1);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 9);
}
END_TEST

/* Reads DATA through a leaf whose address field has extra_bits set; returns the #PF count. */
static guint
read_with_leaf_bits(guint64 extra_bits)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | LEAF_RW | extra_bits;
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	return t->nr_faults;
}

START_TEST(leaf_address_bit_39_is_accepted)
{
	ck_assert_uint_eq(read_with_leaf_bits(1ull << 39), 0);
}
END_TEST

START_TEST(leaf_address_bit_40_is_reserved)
{
	ck_assert_uint_eq(SIM_HW_PHYS_LIMIT, 1ull << 40);
	ck_assert_uint_eq(read_with_leaf_bits(1ull << 40), 1);
	assert_fault(0, 14, DATA, CODE, 9);
}
END_TEST

START_TEST(table_address_bit_40_is_reserved)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = DATA | LEAF_RW;
	*entry(t->root, DATA, 2) |= 1ull << 40;
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 9);
}
END_TEST

START_TEST(bits_52_to_62_of_a_present_leaf_are_ignored)
{
	ck_assert_uint_eq(read_with_leaf_bits(0x7ffull << 52), 0);
}
END_TEST

START_TEST(bit_63_of_a_present_leaf_is_reserved)
{
	ck_assert_uint_eq(read_with_leaf_bits(1ull << 63), 1);
	assert_fault(0, 14, DATA, CODE, 9);
}
END_TEST

START_TEST(kvm_non_present_value_faults_as_not_present)
{
	/* KVM's SHADOW_NONPRESENT_VALUE: bit 63 alone. Bit 0 is clear, so bit 63 is not checked. */
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	*pte(DATA) = 1ull << 63;
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
}
END_TEST

START_TEST(rmw_on_not_present_page_is_classified_as_read_write)
{
	/* add qword [rbx], 5; hlt: the #PF comes from the load, with error code 0. */
	CODE_AT(CODE, 0x48, 0x83, 0x03, 0x05, 0xf4);
	set_reg(UC_X86_REG_RBX, DATA);
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_READ_WRITE);
}
END_TEST

/* The kind sim_hw_access_kind() gives a read #PF at DATA by the instruction at CODE. */
static SimHwAccessKind
kind_of(const guint8 *bytes, gsize len)
{
	code(CODE, bytes, len);
	set_reg(UC_X86_REG_RBX, DATA);
	return sim_hw_access_kind(t->hw, CODE, DATA, 0);
}

#define KIND_OF(...)                                                                               \
	({                                                                                         \
		static const guint8 bytes_[] = { __VA_ARGS__ };                                    \
		kind_of(bytes_, sizeof(bytes_));                                                   \
	})

START_TEST(locked_and_exchanging_rmw_forms_are_classified_as_read_write)
{
	ck_assert_int_eq(KIND_OF(0x48, 0x87, 0x03), SIM_HW_READ_WRITE);        /* xchg [rbx], rax */
	sim_hw_content_changed(t->hw, CODE, 16);
	ck_assert_int_eq(KIND_OF(0xf0, 0x48, 0x0f, 0xc1, 0x03), SIM_HW_READ_WRITE); /* lock xadd */
	sim_hw_content_changed(t->hw, CODE, 16);
	ck_assert_int_eq(KIND_OF(0xf0, 0x48, 0x0f, 0xb1, 0x0b), SIM_HW_READ_WRITE); /* cmpxchg */
	sim_hw_content_changed(t->hw, CODE, 16);
	ck_assert_int_eq(KIND_OF(0xff, 0x03), SIM_HW_READ_WRITE);              /* inc dword [rbx] */
	sim_hw_content_changed(t->hw, CODE, 16);
	/* the store half faulted (a read-only page): still both */
	ck_assert_int_eq(sim_hw_access_kind(t->hw, CODE, DATA, 2), SIM_HW_READ_WRITE);
}
END_TEST

START_TEST(plain_load_and_compare_are_classified_as_read)
{
	ck_assert_int_eq(KIND_OF(0x48, 0x8b, 0x03), SIM_HW_READ);  /* mov rax, [rbx] */
	sim_hw_content_changed(t->hw, CODE, 16);
	ck_assert_int_eq(KIND_OF(0x80, 0x3b, 0x01), SIM_HW_READ);  /* cmp byte [rbx], 1 */
}
END_TEST

START_TEST(write_error_code_is_classified_as_write)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x03); /* mov rax, [rbx]: the error code wins */
	ck_assert_int_eq(sim_hw_access_kind(t->hw, CODE, DATA, 2), SIM_HW_WRITE);
}
END_TEST

START_TEST(string_copy_source_fault_is_read)
{
	/* rep movsb from a not-present page to a present one. */
	CODE_AT(CODE, 0xf3, 0xa4, 0xf4);
	*pte(DATA + 0x1000) = (DATA + 0x1000) | LEAF_RW;
	set_reg(UC_X86_REG_RSI, DATA);
	set_reg(UC_X86_REG_RDI, DATA + 0x1000);
	set_reg(UC_X86_REG_RCX, 16);
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_READ);
}
END_TEST

START_TEST(string_copy_within_one_not_present_page_is_classified_as_read)
{
	/* rep movsb with source and destination on DATA: the read faults first, and hardware
	 * reports it as a read (the write is a different operand). */
	CODE_AT(CODE, 0xf3, 0xa4, 0xf4);
	set_reg(UC_X86_REG_RSI, DATA);
	set_reg(UC_X86_REG_RDI, DATA + 0x800);
	set_reg(UC_X86_REG_RCX, 16);
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_READ);
}
END_TEST

START_TEST(fetch_of_not_present_code_page_is_classified_as_fetch)
{
	/* jmp rbx to a not-present page holding hlt. */
	CODE_AT(CODE, 0xff, 0xe3);
	t->ram[CODE + 0x10000] = 0xf4;
	set_reg(UC_X86_REG_RBX, CODE + 0x10000);
	run(CODE);
	assert_fault(0, 14, CODE + 0x10000, CODE + 0x10000, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_FETCH);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 0x10001);
}
END_TEST

START_TEST(block_running_into_next_page_is_classified_as_fetch)
{
	/* Eight nops at the end of a present page, then hlt on a not-present one: the block is
	 * translated before any of it runs, so RIP is the block's start. */
	CODE_AT(CODE + 0xff8, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90);
	t->ram[CODE + 0x1000] = 0xf4;
	run(CODE + 0xff8);
	ck_assert_uint_eq(t->nr_faults, 1);
	ck_assert_uint_eq(t->faults[0].rip, CODE + 0xff8);
	ck_assert_uint_eq(t->faults[0].cr2, CODE + 0x1000);
	ck_assert_uint_eq(t->faults[0].error_code, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_FETCH);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 0x1001);
}
END_TEST

START_TEST(instruction_crossing_into_next_page_is_classified_as_fetch)
{
	/* mov rax, [DATA] (8 bytes) from 3 bytes before a not-present page, then hlt. */
	CODE_AT(CODE + 0xffd, 0x48, 0x8b, 0x04);
	memcpy(t->ram + CODE + 0x1000, (const guint8[]){ 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4 }, 6);
	*pte(DATA) = DATA | LEAF_RW;
	run(CODE + 0xffd);
	assert_fault(0, 14, CODE + 0x1000, CODE + 0xffd, 0);
	ck_assert_uint_eq(t->nr_faults, 1);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_FETCH);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 0x1006);
}
END_TEST

START_TEST(data_read_of_next_page_is_classified_as_read)
{
	/* mov rax, [rbx]; jmp rcx at the end of a page: the block ends before the next page. */
	CODE_AT(CODE + 0xff0, 0x48, 0x8b, 0x03, 0xff, 0xe1);
	CODE_AT(CODE, 0xf4);
	set_reg(UC_X86_REG_RBX, CODE + 0x1000);
	set_reg(UC_X86_REG_RCX, CODE);
	run(CODE + 0xff0);
	assert_fault(0, 14, CODE + 0x1000, CODE + 0xff0, 0);
	ck_assert_int_eq(t->faults[0].kind, SIM_HW_READ);
}
END_TEST

START_TEST(classification_is_dropped_by_content_changed)
{
	ck_assert_int_eq(KIND_OF(0x48, 0x8b, 0x03), SIM_HW_READ); /* mov rax, [rbx] */
	/* Rewritten to add dword [rbx], 1 behind the cache's back, then reported. */
	ck_assert_int_eq(KIND_OF(0x83, 0x03, 0x01), SIM_HW_READ);
	sim_hw_content_changed(t->hw, CODE, 3);
	ck_assert_int_eq(sim_hw_access_kind(t->hw, CODE, DATA, 0), SIM_HW_READ_WRITE);
}
END_TEST

START_TEST(content_changed_makes_the_guest_run_new_code)
{
	CODE_AT(CODE, 0xb8, 0x0a, 0x00, 0x00, 0x00, 0xf4); /* mov eax, 10; hlt */
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 10);
	t->ram[CODE + 1] = 11;
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 10); /* the stale translation */
	sim_hw_content_changed(t->hw, CODE + 1, 1);
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 11);
}
END_TEST

START_TEST(content_changed_reaches_a_page_the_tree_does_not_map)
{
	CODE_AT(CODE, 0xb8, 0x0a, 0x00, 0x00, 0x00, 0xf4);
	run(CODE);
	*pte(CODE) = 0;
	flush();
	t->ram[CODE + 1] = 11;
	sim_hw_content_changed(t->hw, CODE, PAGE);
	run(CODE); /* faults on the fetch, the handler maps the page */
	assert_fault(0, 14, CODE, CODE, 0);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 11);
}
END_TEST

START_TEST(content_changed_in_the_fault_hook_reaches_the_retry)
{
	CODE_AT(CODE, 0xb8, 0x0a, 0x00, 0x00, 0x00, 0xf4); /* mov eax, 10; hlt */
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 10);
	*pte(CODE) = 0;
	flush();
	t->on_fault = ON_FAULT_LOAD;
	t->load_gpa = CODE + 1;
	t->load_byte = 11;
	run(CODE); /* the fetch faults, the hook loads mov eax, 11 and maps the page */
	assert_fault(0, 14, CODE, CODE, 0);
	ck_assert_uint_eq(t->nr_faults, 1);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 11);
}
END_TEST

START_TEST(content_changed_keeps_the_tlb_and_the_registers)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4); /* mov rax, [DATA] */
	t->ram[DATA] = 5;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
	*pte(DATA) = 0; /* zapped, not flushed: the TLB still holds DATA */
	t->ram[DATA] = 6;
	set_stub_registers();
	sim_hw_content_changed(t->hw, CODE, PAGE);
	assert_stub_registers_kept();
	run(CODE);
	ck_assert_uint_eq(t->nr_faults, 1);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 6);
}
END_TEST

START_TEST(content_changed_leaves_no_stale_translation_behind)
{
	CODE_AT(CODE, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	sim_hw_content_changed(t->hw, DATA, PAGE); /* DATA is not present in the tree */
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, DATA, CODE, 0);
}
END_TEST

START_TEST(vmcall_is_recognised_and_vmmcall_is_not)
{
	CODE_AT(CODE, 0x0f, 0x01, 0xc1, 0x0f, 0x01, 0xd9);
	ck_assert(sim_hw_insn_is_vmcall(t->hw, CODE));
	ck_assert(!sim_hw_insn_is_vmcall(t->hw, CODE + 3));
	ck_assert(!sim_hw_insn_is_vmcall(t->hw, MMIO_GPA + 0x10000));
}
END_TEST

START_TEST(disasm_prints_intel_syntax)
{
	g_autofree gchar *text = NULL;
	g_autofree gchar *bare = NULL;

	CODE_AT(CODE, 0x48, 0x89, 0x18, 0xf4); /* mov [rax], rbx; hlt */
	text = sim_hw_disasm(t->hw, CODE);
	bare = sim_hw_disasm(t->hw, CODE + 3);
	ck_assert_str_eq(text, "mov qword ptr [rax], rbx");
	ck_assert_str_eq(bare, "hlt");
}
END_TEST

START_TEST(disasm_of_an_unmapped_address_is_unreadable)
{
	g_autofree gchar *text = sim_hw_disasm(t->hw, 0x80000000);

	ck_assert_str_eq(text, "(unreadable)");
}
END_TEST

static guint64 block_insns, code_insns;

/* Counts instructions a block at a time, as the vCPU quantum does. */
static void
count_block(uc_engine *uc, guint64 addr, guint32 size, void *opaque)
{
	block_insns += sim_hw_block_insns(t->hw, addr, size);
}

/* Counts instructions one at a time: the reference. */
static void
count_code(uc_engine *uc, guint64 addr, guint32 size, void *opaque)
{
	code_insns++;
}

START_TEST(block_insn_count_matches_capstone)
{
	uc_hook block, insn;

	/* mov ecx, 1000; 1: add rax, 1; xor rbx, rax; dec ecx; jnz 1b; hlt */
	CODE_AT(CODE, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x48, 0x83, 0xc0, 0x01, 0x48, 0x31, 0xc3, 0xff,
		0xc9, 0x75, 0xf5, 0xf4);
	ck_assert(uc_hook_add(t->uc, &block, UC_HOOK_BLOCK, count_block, NULL, 0,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	ck_assert(uc_hook_add(t->uc, &insn, UC_HOOK_CODE, count_code, NULL, 0,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	run(CODE);
	ck_assert_uint_eq(code_insns, 1 + 4 * 1000 + 1);
	ck_assert_uint_eq(block_insns, code_insns);
}
END_TEST

START_TEST(block_insn_count_is_dropped_by_content_changed)
{
	CODE_AT(CODE, 0x90, 0x90, 0x90, 0x90); /* four nops */
	ck_assert_uint_eq(sim_hw_block_insns(t->hw, CODE, 4), 4);
	CODE_AT(CODE, 0x0f, 0x1f, 0x40, 0x00); /* one 4-byte nop */
	ck_assert_uint_eq(sim_hw_block_insns(t->hw, CODE, 4), 4);
	sim_hw_content_changed(t->hw, CODE, 4);
	ck_assert_uint_eq(sim_hw_block_insns(t->hw, CODE, 4), 1);
}
END_TEST

START_TEST(block_index_counts_the_instructions_before_rip)
{
	/* nop; mov eax, 1; nop; hlt */
	CODE_AT(CODE, 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x90, 0xf4);
	SimHwBlock block = sim_hw_block(t->hw, CODE, 8);

	ck_assert_uint_eq(block.insns, 4);
	ck_assert_uint_eq(sim_hw_block_index(t->hw, &block, CODE), 0);
	ck_assert_uint_eq(sim_hw_block_index(t->hw, &block, CODE + 1), 1);
	ck_assert_uint_eq(sim_hw_block_index(t->hw, &block, CODE + 6), 2);
	ck_assert_uint_eq(sim_hw_block_index(t->hw, &block, CODE + 7), 3);
	ck_assert_uint_eq(sim_hw_block_index(t->hw, &block, CODE + 8), 4);
}
END_TEST

START_TEST(a_lone_store_is_a_single_step_block_and_a_lone_jump_is_not)
{
	CODE_AT(CODE, 0x88, 0x00, 0x90, 0xf4);  /* mov [rax], al; nop; hlt */
	CODE_AT(CODE + 0x10, 0xeb, 0xfe);       /* jmp . */
	ck_assert(sim_hw_block(t->hw, CODE, 2).flags & SIM_HW_BLOCK_SINGLE_STEP);
	ck_assert(!(sim_hw_block(t->hw, CODE, 4).flags & SIM_HW_BLOCK_SINGLE_STEP));
	ck_assert(!(sim_hw_block(t->hw, CODE + 0x10, 2).flags & SIM_HW_BLOCK_SINGLE_STEP));
}
END_TEST

static guint64 tsc_reads[4];
static guint nr_tsc_reads;

/* The TSC a test hands out: a distinct value per read, with both halves set. */
static guint64
read_tsc(void *opaque, guint64 rip)
{
	tsc_reads[nr_tsc_reads] = rip;
	return 0x1122334455667700ull + nr_tsc_reads++;
}

/* Decodes every block, as the vCPU's quantum does, and stops before one with a new rdtsc. */
static void
block_finds_tsc(uc_engine *uc, guint64 addr, guint32 size, void *opaque)
{
	sim_hw_block(t->hw, addr, size);
	if (sim_hw_tsc_pending(t->hw))
		uc_emu_stop(uc);
}

/* Runs from rip to the hlt, hooking each rdtsc the first time a block holds it. */
static guint
run_hooking_tsc(guint64 rip)
{
	uc_hook hook;
	guint stops = 0;

	nr_tsc_reads = 0;
	sim_hw_emulate_tsc(t->hw, read_tsc, NULL);
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_BLOCK, block_finds_tsc, NULL, 0,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	for (;;) {
		run(rip);
		if (!sim_hw_tsc_pending(t->hw))
			return stops;
		stops++;
		sim_hw_hook_tsc(t->hw);
		rip = reg(UC_X86_REG_RIP);
	}
}

START_TEST(rdtsc_reads_its_hook_and_the_block_goes_on_after_it)
{
	/* mov ecx, 3; 1: rdtsc; mov rbx, rax; mov rsi, rdx; dec ecx; jnz 1b; hlt */
	CODE_AT(CODE, 0xb9, 0x03, 0x00, 0x00, 0x00, 0x0f, 0x31, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xd6,
		0xff, 0xc9, 0x75, 0xf4, 0xf4);
	ck_assert_uint_eq(run_hooking_tsc(CODE), 1);
	ck_assert_uint_eq(nr_tsc_reads, 3);
	ck_assert_uint_eq(tsc_reads[0], CODE + 5);
	ck_assert_uint_eq(tsc_reads[2], CODE + 5);
	ck_assert_uint_eq(reg(UC_X86_REG_RBX), 0x55667702);
	ck_assert_uint_eq(reg(UC_X86_REG_RSI), 0x11223344);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 18);
}
END_TEST

START_TEST(rdtscp_also_reads_tsc_aux)
{
	uc_x86_msr aux = { .rid = 0xc0000103, .value = 7 };

	/* rdtscp; hlt */
	CODE_AT(CODE, 0x0f, 0x01, 0xf9, 0xf4);
	ck_assert(uc_reg_write(t->uc, UC_X86_REG_MSR, &aux) == UC_ERR_OK);
	run_hooking_tsc(CODE);
	ck_assert_uint_eq(nr_tsc_reads, 1);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0x55667700);
	ck_assert_uint_eq(reg(UC_X86_REG_RDX), 0x11223344);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 7);
}
END_TEST

/* What vcpu.c's block hook does for the store fast path: note the block. */
static void
fast_path_block_hook(uc_engine *uc, guint64 address, guint32 size, void *opaque)
{
	sim_hw_block(t->hw, address, size);
}

/* A write fault is mapped, as vcpu-exit.c does; the retry's fill may skip the slow path. */
static void
fast_path_intr(uc_engine *uc, guint32 intno, void *opaque)
{
	if (intno == 14 && (sim_hw_pf_ack(t->hw) & 2)) {
		guint64 cr2 = reg(UC_X86_REG_CR2);

		*pte(cr2) = (cr2 & ADDR_MASK) | LEAF_RW;
		return;
	}
	uc_emu_stop(uc);
}

/* A port-I/O exit that stops the run in the middle of its block (vcpu-exit.c's pio()). */
static void
stop_at_out(uc_engine *uc, guint32 port, int size, guint32 value, void *opaque)
{
	uc_emu_stop(uc);
}

/*
 * The fast path notes a block's pages in its block hook, so it relies on no block being
 * translated without its hook running before any later store. A stop requested mid-block (here
 * by an out, as pio() does) must not leave the next block translated but unhooked: 2.0.1's
 * cpu_exec() leaves at cpu_handle_interrupt() before tb_find(). If it did not, the store made
 * from another entry point (as an injected interrupt's handler would) would miss that block.
 */
START_TEST(a_block_translated_after_a_stop_sees_a_store_made_before_it_runs)
{
	uc_hook hook;

	sim_hw_store_fast_path_enable(t->hw);
	ck_assert(sim_hw_store_fast_path(t->hw));
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_INTR, fast_path_intr, NULL, 1, 0) == UC_ERR_OK);
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_BLOCK, fast_path_block_hook, NULL, 1,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_INSN, stop_at_out, NULL, 1, 0, UC_X86_INS_OUT) ==
		  UC_ERR_OK);
	t->ack = FALSE;
	/* mov rdi, DATA; mov rax, <mov eax, 1; hlt>; mov [rdi], rax; jmp 1f; 1: mov [rdi+64], rax;
	 * out dx, al (stops the run); jmp rdi */
	CODE_AT(CODE, 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x20, 0x00, 0x48, 0xb8, 0xb8, 0x01, 0x00, 0x00,
		0x00, 0xf4, 0x90, 0x90, 0x48, 0x89, 0x07, 0xeb, 0x00, 0x48, 0x89, 0x47, 0x40, 0xee,
		0xff, 0xe7);
	/* mov byte [rdi+1], 2; jmp rdi */
	CODE_AT(CODE + 0x100, 0xc6, 0x47, 0x01, 0x02, 0xff, 0xe7);
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), DATA);
	run(CODE + 0x100);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX) & 0xffffffff, 2);
}
END_TEST

/* Runs the store loop at CODE (mov [rdi], rcx; dec ecx; jnz; hlt) storing count times at gpa;
 * returns how many stores took the slow path. */
static guint64
slow_stores_at(guint64 gpa, guint64 count)
{
	guint64 before = hw_slow_stores;

	ck_assert(uc_reg_write(t->uc, UC_X86_REG_RDI, &gpa) == UC_ERR_OK);
	ck_assert(uc_reg_write(t->uc, UC_X86_REG_RCX, &count) == UC_ERR_OK);
	run(CODE);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0);
	return hw_slow_stores - before;
}

/*
 * The store fast path settles every TLB fill: a data page's stores skip the slow path from the
 * first fill on, and again after a flush drops the entry, without an EPT violation to settle it;
 * stores to a page a block ran from all take it (there the storing engine drops its blocks).
 */
START_TEST(every_fill_of_a_data_page_skips_the_slow_path_a_code_page_never)
{
	uc_hook hook;

	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_BLOCK, fast_path_block_hook, NULL, 1,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	CODE_AT(CODE, 0x48, 0x89, 0x0f, 0xff, 0xc9, 0x75, 0xf9, 0xf4);
	ck_assert_uint_eq(slow_stores_at(DATA, 100), 100); /* not enabled */
	sim_hw_store_fast_path_enable(t->hw);
	flush();
	ck_assert_uint_le(slow_stores_at(DATA + 8, 100), 1);
	flush();
	ck_assert_uint_le(slow_stores_at(DATA + 16, 100), 1);
	ck_assert_uint_le(slow_stores_at(DATA + PAGE, 100), 1); /* first touch: an EPT violation */
	/* under 10 (SMC_BITMAP_USE_THRESHOLD): 2.0.1's uc_close() leaks a code page's write bitmap */
	ck_assert_uint_eq(slow_stores_at(CODE + 0x800, 9), 9);
	ck_assert_uint_eq(t->ram[CODE], 0x48);
}
END_TEST

/*
 * A page that becomes code keeps its cached translation: only a flush may drop it (a zapped SPTE
 * stays usable until then, DESIGN.md §3). The store fast path re-protects the page's write
 * entries instead (tlb_reset_dirty()).
 */
START_TEST(a_page_becoming_code_keeps_its_cached_translation)
{
	guint64 marker = 0x1234567890ull;
	uc_hook hook;

	sim_hw_store_fast_path_enable(t->hw);
	ck_assert(uc_hook_add(t->uc, &hook, UC_HOOK_BLOCK, fast_path_block_hook, NULL, 1,
			      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	/* mov rbx, [DATA]; hlt */
	CODE_AT(CODE, 0x48, 0x8b, 0x1c, 0x25, 0x00, 0x00, 0x20, 0x00, 0xf4);
	/* mov rdi, DATA; jmp rdi */
	CODE_AT(CODE + 0x100, 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x20, 0x00, 0xff, 0xe7);
	/* at DATA: mov rax, [DATA + 0x80]; hlt */
	CODE_AT(DATA, 0x48, 0x8b, 0x04, 0x25, 0x80, 0x00, 0x20, 0x00, 0xf4);
	memcpy(t->ram + DATA + 0x80, &marker, sizeof(marker));
	run(CODE);
	*pte(DATA) = 0; /* zapped, not flushed */
	run(CODE + 0x100);
	ck_assert_uint_eq(t->nr_faults, 0);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), marker);
}
END_TEST

/* What the test's rdrand and rdseed read. */
static guint64
read_random(void *opaque, SimHwUdInsn insn)
{
	return insn == SIM_HW_UD_RDSEED ? 0xfedcba9876543210ull : 0x0123456789abcdefull;
}

START_TEST(rdrand_and_rdseed_are_emulated_at_their_operand_size)
{
	/* rdrand eax; rdseed cx; rdrand r9; ud2 */
	CODE_AT(CODE, 0x0f, 0xc7, 0xf0, 0x66, 0x0f, 0xc7, 0xf9, 0x49, 0x0f, 0xc7, 0xf1, 0x0f, 0x0b);
	set_reg(UC_X86_REG_RAX, G_MAXUINT64);
	set_reg(UC_X86_REG_RCX, G_MAXUINT64);
	set_reg(UC_X86_REG_EFLAGS, 0x8d4 | 0x2);
	for (guint64 rip = CODE; rip < CODE + 11;) {
		ck_assert(sim_hw_run(t->hw, rip) == UC_ERR_INSN_INVALID);
		ck_assert_uint_eq(reg(UC_X86_REG_RIP), rip);
		ck_assert_uint_ne(sim_hw_emulate_random(t->hw, read_random, NULL), SIM_HW_UD_OTHER);
		rip = reg(UC_X86_REG_RIP);
	}
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0x89abcdef);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0xffffffffffff3210ull);
	ck_assert_uint_eq(reg(UC_X86_REG_R9), 0x0123456789abcdefull);
	ck_assert_uint_eq(reg(UC_X86_REG_EFLAGS) & 0x8d5, 0x1);
	/* ud2 is none of them and is left alone */
	ck_assert(sim_hw_run(t->hw, CODE + 11) == UC_ERR_INSN_INVALID);
	ck_assert_uint_eq(sim_hw_emulate_random(t->hw, read_random, NULL), SIM_HW_UD_OTHER);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + 11);
}
END_TEST

/* The MMIO device the emulator talks to. */
typedef struct {
	guint64 value;  /* what reads return */
	guint nr_reads, nr_writes;
	guint64 gpa;    /* of the last access */
	guint size;
	guint64 written;
} Device;

/* Returns the device's value at the access size. */
static guint64
device_read(void *opaque, guint64 gpa, guint size)
{
	Device *dev = opaque;

	dev->nr_reads++;
	dev->gpa = gpa;
	dev->size = size;
	return size == 8 ? dev->value : dev->value & ((1ull << (size * 8)) - 1);
}

/* Records the write. */
static void
device_write(void *opaque, guint64 gpa, guint size, guint64 value)
{
	Device *dev = opaque;

	dev->nr_writes++;
	dev->gpa = gpa;
	dev->size = size;
	dev->written = value;
}

/* Runs insn; hlt with RBX at the MMIO window + 8, emulates the access and finishes the run. */
static gboolean
mmio(Device *dev, const guint8 *insn, gsize len, GError **error)
{
	static const guint8 hlt = 0xf4;

	code(CODE, insn, len);
	code(CODE + len, &hlt, 1);
	set_reg(UC_X86_REG_RBX, MMIO_GPA + 8);
	t->on_fault = ON_FAULT_STOP;
	run(CODE);
	assert_fault(0, 14, MMIO_GPA + 8, CODE, G_MAXUINT32);
	if (!sim_hw_emulate_mmio(t->hw, t->faults[0].cr2, device_read, device_write, dev, error))
		return FALSE;
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + len);
	run(CODE + len);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE + len + 1);
	ck_assert_uint_eq(dev->gpa, MMIO_GPA + 8);
	return TRUE;
}

#define MMIO(dev, ...)                                                                             \
	do {                                                                                       \
		static const guint8 insn_[] = { __VA_ARGS__ };                                     \
		GError *error_ = NULL;                                                             \
		ck_assert_msg(mmio(dev, insn_, sizeof(insn_), &error_), "%s", error_->message);    \
	} while (0)

START_TEST(mmio_mov_load_zero_extends_32bit_destination)
{
	Device dev = { .value = 0x1122334455667788ull };

	set_reg(UC_X86_REG_RAX, ~0ull);
	MMIO(&dev, 0x8b, 0x03); /* mov eax, [rbx] */
	ck_assert_uint_eq(dev.size, 4);
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0x55667788ull);
}
END_TEST

START_TEST(mmio_mov_load_keeps_upper_bits_of_8_and_16bit_destinations)
{
	Device dev = { .value = 0xa1b2 };

	set_reg(UC_X86_REG_RAX, 0xffffffffffffffffull);
	MMIO(&dev, 0x8a, 0x23); /* mov ah, [rbx] */
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0xffffffffffffb2ffull);
	t->nr_faults = 0;
	sim_hw_content_changed(t->hw, CODE, 16);
	MMIO(&dev, 0x66, 0x8b, 0x03); /* mov ax, [rbx] */
	ck_assert_uint_eq(reg(UC_X86_REG_RAX), 0xffffffffffffa1b2ull);
}
END_TEST

START_TEST(mmio_mov_load_of_64_bits_fills_an_extended_register)
{
	Device dev = { .value = 0x8877665544332211ull };

	MMIO(&dev, 0x4c, 0x8b, 0x0b); /* mov r9, [rbx] */
	ck_assert_uint_eq(dev.size, 8);
	ck_assert_uint_eq(reg(UC_X86_REG_R9), 0x8877665544332211ull);
}
END_TEST

START_TEST(mmio_mov_store_writes_the_register_at_its_size)
{
	Device dev = { 0 };

	set_reg(UC_X86_REG_RAX, 0x1122334455667788ull);
	MMIO(&dev, 0x66, 0x89, 0x03); /* mov [rbx], ax */
	ck_assert_uint_eq(dev.nr_writes, 1);
	ck_assert_uint_eq(dev.size, 2);
	ck_assert_uint_eq(dev.written, 0x7788);
	t->nr_faults = 0;
	sim_hw_content_changed(t->hw, CODE, 16);
	MMIO(&dev, 0x88, 0x23); /* mov [rbx], ah */
	ck_assert_uint_eq(dev.size, 1);
	ck_assert_uint_eq(dev.written, 0x77);
}
END_TEST

START_TEST(mmio_mov_store_immediate_is_truncated_to_the_operand)
{
	Device dev = { 0 };

	MMIO(&dev, 0x48, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff); /* mov qword [rbx], -2 */
	ck_assert_uint_eq(dev.size, 8);
	ck_assert_uint_eq(dev.written, 0xfffffffffffffffeull);
	t->nr_faults = 0;
	sim_hw_content_changed(t->hw, CODE, 16);
	MMIO(&dev, 0xc7, 0x03, 0xfe, 0xff, 0xff, 0xff); /* mov dword [rbx], -2 */
	ck_assert_uint_eq(dev.size, 4);
	ck_assert_uint_eq(dev.written, 0xfffffffeull);
}
END_TEST

START_TEST(mmio_movzx_and_movsx_extend_the_value)
{
	Device dev = { .value = 0x80f0 };

	set_reg(UC_X86_REG_RCX, ~0ull);
	MMIO(&dev, 0x0f, 0xb7, 0x0b); /* movzx ecx, word [rbx] */
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0x80f0);
	t->nr_faults = 0;
	sim_hw_content_changed(t->hw, CODE, 16);
	MMIO(&dev, 0x48, 0x0f, 0xbe, 0x0b); /* movsx rcx, byte [rbx] */
	ck_assert_uint_eq(dev.size, 1);
	ck_assert_uint_eq(reg(UC_X86_REG_RCX), 0xfffffffffffffff0ull);
}
END_TEST

START_TEST(mmio_by_an_unsupported_instruction_is_refused_by_name)
{
	static const guint8 add[] = { 0x83, 0x03, 0x01 }; /* add dword [rbx], 1 */
	Device dev = { 0 };
	GError *error = NULL;

	ck_assert(!mmio(&dev, add, sizeof(add), &error));
	ck_assert_int_eq(error->code, SIM_HW_ERROR_UNSUPPORTED);
	ck_assert_msg(strstr(error->message, "add dword ptr [rbx], 1"), "%s", error->message);
	ck_assert_uint_eq(reg(UC_X86_REG_RIP), CODE);
	ck_assert_uint_eq(dev.nr_reads + dev.nr_writes, 0);
	g_error_free(error);
}
END_TEST

START_TEST(map_over_the_stub_region_fails)
{
	GError *error = NULL;
	guint8 *fresh = g_aligned_alloc0(1, PAGE, PAGE); /* mapped nowhere: only the gpa clashes */

	ck_assert(!sim_hw_map(t->hw, SIM_HW_STUB_GPA, PAGE, fresh, &error));
	ck_assert_int_eq(error->code, SIM_HW_ERROR_ENGINE);
	ck_assert_msg(strstr(error->message, "Unicorn"), "%s", error->message);
	g_error_free(error);
	g_aligned_free(fresh);
}
END_TEST

/*
 * Where stores to code would go unseen by hw (libunicorn not calling hw-xmod.c's definition):
 * neither another engine's blocks nor the storing engine's own decodes of a rewritten block would
 * be dropped, so no engine is made, loudly. Here that case is pretended; another engine may then
 * share host memory with this one.
 */
START_TEST(making_an_engine_without_the_store_interposition_fails)
{
	GError *error = NULL;
	SimHw *other;

	ck_assert(hw_xmod_locate());
	hw_xmod_on = FALSE;
	other = sim_hw_new(&error);
	hw_xmod_on = TRUE;
	ck_assert(!other);
	ck_assert_msg(strstr(error->message, "stale"), "%s", error->message);
	g_clear_error(&error);
	other = sim_hw_new(&error);
	ck_assert_msg(other, "%s", error ? error->message : "?");
	ck_assert_msg(sim_hw_map(other, 0, PAGE, t->ram + PAGE, &error), "%s", error->message);
	sim_hw_free(other);
}
END_TEST

/*
 * A host page mapped at two gpas would be two pages to QEMU (2.0.1 keys translation blocks and
 * their invalidation by RAM block offset): a store through one never drops the other's blocks,
 * with or without the store fast path (which does not rely on this refusal). hw refuses such
 * an alias.
 */
START_TEST(mapping_host_memory_already_mapped_elsewhere_fails)
{
	GError *error = NULL;

	ck_assert(!sim_hw_map(t->hw, 0x1000000ull, PAGE, t->ram + DATA, &error));
	ck_assert_int_eq(error->code, SIM_HW_ERROR_ENGINE);
	g_clear_error(&error);
	ck_assert(!sim_hw_map(t->hw, 0x1000000ull, 2 * PAGE, t->ram + RAM_SIZE - PAGE, &error));
	g_clear_error(&error);
}
END_TEST

/* One test per behaviour of sim/cpu/hw. */
static Suite *
hw_suite(void)
{
	Suite *s = suite_create("hw");
	TCase *tc = tcase_create("hw");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, selftest_passes_on_this_build);
	tcase_add_test(tc, read_of_not_present_page_reports_error_code_0);
	tcase_add_test(tc, write_to_not_present_page_reports_error_code_2);
	tcase_add_test(tc, write_to_read_only_page_reports_error_code_3);
	tcase_add_test(tc, second_page_fault_is_not_reported_as_double_fault);
	tcase_add_test(tc, third_page_fault_is_not_reported_as_triple_fault);
	tcase_add_test(tc, unacked_page_fault_makes_the_next_a_double_fault);
	tcase_add_test(tc, pf_ack_also_works_between_runs);
	tcase_add_test(tc, first_fault_of_a_later_run_is_a_page_fault);
	tcase_add_test(tc, guest_code_at_address_zero_runs);
	tcase_add_test(tc, zapped_pte_is_used_until_flush);
	tcase_add_test(tc, flush_tlb_restores_rip_and_rax);
	tcase_add_test(tc, flush_tlb_switches_to_the_new_root);
	tcase_add_test(tc, flush_tlb_range_flushes_only_its_pages);
	tcase_add_test(tc, flush_tlb_range_of_many_pages_flushes_them_all);
	tcase_add_test(tc, flush_tlb_range_restores_registers_and_flags);
	tcase_add_test(tc, flush_tlb_pages_flushes_the_listed_pages_and_no_other);
	tcase_add_test(tc, flush_tlb_pages_without_tlb_flush_page_runs_the_stub_to_the_same_effect);
	tcase_add_test(tc, flush_tlb_pages_past_sixteen_flushes_everything);
	tcase_add_test(tc, flush_tlb_pages_restores_registers_and_flags);
	tcase_add_test(tc, walker_sets_accessed_and_dirty_bits);
	tcase_add_test(tc, walker_never_writes_entries_with_accessed_and_dirty_preset);
	tcase_add_test(tc, two_mib_and_one_gib_leaves_are_walked);
	tcase_add_test(tc, leaf_address_bit_39_is_accepted);
	tcase_add_test(tc, leaf_address_bit_40_is_reserved);
	tcase_add_test(tc, table_address_bit_40_is_reserved);
	tcase_add_test(tc, bits_52_to_62_of_a_present_leaf_are_ignored);
	tcase_add_test(tc, bit_63_of_a_present_leaf_is_reserved);
	tcase_add_test(tc, kvm_non_present_value_faults_as_not_present);
	tcase_add_test(tc, rmw_on_not_present_page_is_classified_as_read_write);
	tcase_add_test(tc, locked_and_exchanging_rmw_forms_are_classified_as_read_write);
	tcase_add_test(tc, plain_load_and_compare_are_classified_as_read);
	tcase_add_test(tc, write_error_code_is_classified_as_write);
	tcase_add_test(tc, string_copy_source_fault_is_read);
	tcase_add_test(tc, string_copy_within_one_not_present_page_is_classified_as_read);
	tcase_add_test(tc, fetch_of_not_present_code_page_is_classified_as_fetch);
	tcase_add_test(tc, block_running_into_next_page_is_classified_as_fetch);
	tcase_add_test(tc, instruction_crossing_into_next_page_is_classified_as_fetch);
	tcase_add_test(tc, data_read_of_next_page_is_classified_as_read);
	tcase_add_test(tc, classification_is_dropped_by_content_changed);
	tcase_add_test(tc, content_changed_makes_the_guest_run_new_code);
	tcase_add_test(tc, content_changed_reaches_a_page_the_tree_does_not_map);
	tcase_add_test(tc, content_changed_leaves_no_stale_translation_behind);
	tcase_add_test(tc, content_changed_in_the_fault_hook_reaches_the_retry);
	tcase_add_test(tc, content_changed_keeps_the_tlb_and_the_registers);
	tcase_add_test(tc, vmcall_is_recognised_and_vmmcall_is_not);
	tcase_add_test(tc, disasm_prints_intel_syntax);
	tcase_add_test(tc, disasm_of_an_unmapped_address_is_unreadable);
	tcase_add_test(tc, block_insn_count_matches_capstone);
	tcase_add_test(tc, block_insn_count_is_dropped_by_content_changed);
	tcase_add_test(tc, block_index_counts_the_instructions_before_rip);
	tcase_add_test(tc, a_lone_store_is_a_single_step_block_and_a_lone_jump_is_not);
	tcase_add_test(tc, rdtsc_reads_its_hook_and_the_block_goes_on_after_it);
	tcase_add_test(tc, rdtscp_also_reads_tsc_aux);
	tcase_add_test(tc, rdrand_and_rdseed_are_emulated_at_their_operand_size);
	tcase_add_test(tc, a_block_translated_after_a_stop_sees_a_store_made_before_it_runs);
	tcase_add_test(tc, a_page_becoming_code_keeps_its_cached_translation);
	tcase_add_test(tc, mmio_mov_load_zero_extends_32bit_destination);
	tcase_add_test(tc, mmio_mov_load_keeps_upper_bits_of_8_and_16bit_destinations);
	tcase_add_test(tc, mmio_mov_load_of_64_bits_fills_an_extended_register);
	tcase_add_test(tc, mmio_mov_store_writes_the_register_at_its_size);
	tcase_add_test(tc, mmio_mov_store_immediate_is_truncated_to_the_operand);
	tcase_add_test(tc, mmio_movzx_and_movsx_extend_the_value);
	tcase_add_test(tc, mmio_by_an_unsupported_instruction_is_refused_by_name);
	tcase_add_test(tc, map_over_the_stub_region_fails);
	tcase_add_test(tc, every_fill_of_a_data_page_skips_the_slow_path_a_code_page_never);
	tcase_add_test(tc, mapping_host_memory_already_mapped_elsewhere_fails);
	tcase_add_test(tc, making_an_engine_without_the_store_interposition_fails);
	suite_add_tcase(s, tc);
	return s;
}

/* TAP with CK_TAP_LOG_FILE_NAME=-; non-zero exit status on failure. */
int
main(void)
{
	return check_run_suite(hw_suite());
}
