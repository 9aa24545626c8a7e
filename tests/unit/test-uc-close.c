/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Closing an engine after its guest stored into a page it runs code from. From the 10th such
 * store (SMC_BITMAP_USE_THRESHOLD) Unicorn 2.0.1 keeps a bitmap of the page's code, which only an
 * invalidation or flush of the page's blocks frees; uc_close()'s tb_cleanup() frees the page
 * descriptors without it. Whether sim_hw_free() leaks it takes a leak checker: tests/meson.build
 * runs this suite under valgrind, or LeakSanitizer in a sanitized build (tests/unit/leak-check.sh).
 */
#include "tests/check-run.h"
#include <string.h>

#include "sim/cpu/hw.h"

#define RAM_SIZE 0x400000ull
#define PAGE 0x1000ull
#define CODE 0x100ff6ull /* the loop below, to the end of its page */
#define HLT 0x101000ull  /* in the next page */
#define SLOT 0x100800ull /* a byte of the loop's page, outside its block */
#define STORES 20

/* One 1 GiB leaf maps [0, 1 GiB) as is (EPT R, W, X; write-back, IPAT; A and D set: hw.h). */
#define NONLEAF 0x27ull
#define LEAF_1G 0xf7ull

/*
 * again: mov [rip + SLOT - next], cl; dec ecx; jnz again; then hlt at HLT. One block, translated
 * before the first store; the block after it starts in the next page: no block joins or leaves
 * the loop's page after its 10th store (either would free the bitmap: invalidate_page_bitmap()).
 */
static const guint8 loop[] = {
	0x88, 0x0d, 0x04, 0xf8, 0xff, 0xff, /* again: mov [rip - 0x7fc], cl (SLOT) */
	0xff, 0xc9,                         /* dec ecx */
	0x75, 0xf6,                         /* jnz again */
};

/* What vCPUs do (sim/cpu/vcpu.c): every block to sim_hw_block(), which notes its pages as code. */
static void
on_block(uc_engine *uc, guint64 addr, guint32 size, void *hw)
{
	sim_hw_block(hw, addr, size);
}

/*
 * The guest stores STORES times into its code's page, and the engine is closed: a bare engine
 * (_i 0), and one with the store fast path and its block hook, as vCPUs have (_i 1).
 */
START_TEST(engine_closes_after_stores_into_its_code_page)
{
	GError *error = NULL;
	SimHw *hw = sim_hw_new(&error);
	guint8 *ram = g_aligned_alloc0(1, RAM_SIZE, PAGE);
	guint64 *tables = g_aligned_alloc0(1, 2 * PAGE, PAGE);
	guint64 rcx;

	ck_assert_msg(hw, "sim_hw_new: %s", error ? error->message : "?");
	ck_assert(sim_hw_map(hw, 0, RAM_SIZE, ram, &error));
	ck_assert(sim_hw_map(hw, SIM_HW_TABLE_GPA, 2 * PAGE, tables, &error));
	if (_i == 1) {
		uc_hook hook;

		sim_hw_store_fast_path_enable(hw);
		ck_assert(uc_hook_add(sim_hw_uc(hw), &hook, UC_HOOK_BLOCK, on_block, hw, 0,
				      SIM_HW_TABLE_GPA - 1) == UC_ERR_OK);
	}
	tables[0] = (SIM_HW_TABLE_GPA + PAGE) | NONLEAF; /* PML4[0] -> the PDPT */
	tables[PAGE / 8] = 0 | LEAF_1G;                  /* PDPT[0]: [0, 1 GiB) */
	memcpy(ram + CODE, loop, sizeof(loop));
	ram[HLT] = 0xf4;
	sim_hw_load_root(hw, SIM_HW_TABLE_GPA);
	rcx = STORES;
	uc_reg_write(sim_hw_uc(hw), UC_X86_REG_RCX, &rcx);
	ck_assert_int_eq(sim_hw_run(hw, CODE), UC_ERR_OK);
	uc_reg_read(sim_hw_uc(hw), UC_X86_REG_RCX, &rcx);
	ck_assert_uint_eq(rcx, 0);
	ck_assert_uint_eq(ram[SLOT], 1); /* the last of the stores */
	sim_hw_free(hw);
	g_aligned_free(ram);
	g_aligned_free(tables);
}
END_TEST

static Suite *
uc_close_suite(void)
{
	Suite *s = suite_create("uc-close");
	TCase *tc = tcase_create("uc-close");

	tcase_add_loop_test(tc, engine_closes_after_stores_into_its_code_page, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

/* TAP with CK_TAP_LOG_FILE_NAME=-; non-zero exit status on failure. */
int
main(void)
{
	return check_run_suite(uc_close_suite());
}
