/* SPDX-License-Identifier: GPL-2.0-only */
/* SPTE values as v6.18 holds them, and the hardware encoding the emulated CPU walks. */
#include "tests/check-run.h"

#include "mmu/spte.h"

START_TEST(spte_constants_match_the_kernel)
{
	ck_assert_uint_eq(SHADOW_NONPRESENT_VALUE, 0x8000000000000000ull);
	ck_assert_uint_eq(FROZEN_SPTE, 0x80000000000005a0ull);
	ck_assert_uint_eq(SPTE_MMU_PRESENT_MASK, 0x800);
	ck_assert_uint_eq(EPT_SPTE_HOST_WRITABLE, 1ull << 57);
	ck_assert_uint_eq(EPT_SPTE_MMU_WRITABLE, 1ull << 58);
	ck_assert_uint_eq(SPTE_TDP_AD_DISABLED, 1ull << 52);
	ck_assert_uint_eq(shadow_present_mask, VMX_EPT_SUPPRESS_VE_BIT | VMX_EPT_READABLE_MASK);
	ck_assert_uint_eq(shadow_mmio_value, 0x6ull); /* bit 63 only in the mask */
	ck_assert(!is_mmio_spte(SHADOW_NONPRESENT_VALUE));
	ck_assert(!is_shadow_present_pte(FROZEN_SPTE));
	ck_assert(!is_mmio_spte(FROZEN_SPTE));
	ck_assert(is_frozen_spte(FROZEN_SPTE));
}
END_TEST

START_TEST(writable_leaf_has_dirty_and_suppress_ve_as_in_v6_18)
{
	u64 spte;

	make_spte(PG_LEVEL_4K, ACC_ALL, 0x80001, FALSE, TRUE, &spte);
	/* SVE | mmu-w | host-w | A/D disabled | pfn | MMU-present | D | A | IPAT | WB | RWX */
	ck_assert_uint_eq(spte, 0x8610000080001b77ull);
	ck_assert(is_shadow_present_pte(spte) && is_last_spte(spte, PG_LEVEL_4K));
	ck_assert_uint_eq(spte_to_pfn(spte), 0x80001);
}
END_TEST

START_TEST(host_readonly_leaf_has_neither_write_nor_dirty_bits)
{
	u64 spte;

	make_spte(PG_LEVEL_4K, ACC_ALL, 0x42, FALSE, FALSE, &spte);
	ck_assert_uint_eq(spte, 0x8010000000042975ull);
	ck_assert(!is_writable_pte(spte) && !is_mmu_writable_spte(spte));
}
END_TEST

START_TEST(table_entry_has_no_bit_5)
{
	ck_assert_uint_eq(make_nonleaf_spte(0x1000026000ull), 0x8010001000026807ull);
}
END_TEST

START_TEST(access_tracked_leaf_keeps_dirty_and_saves_r_and_x)
{
	u64 spte, tracked, restored;

	make_spte(PG_LEVEL_4K, ACC_ALL, 0x80000, FALSE, TRUE, &spte);
	tracked = mark_spte_for_access_track(spte);
	/* RWX and A cleared, R and X saved in bits 54 and 56, D and the rest kept */
	ck_assert_uint_eq(tracked, 0x8750000080000a70ull);
	ck_assert(is_access_track_spte(tracked) && is_shadow_present_pte(tracked));
	ck_assert(!is_accessed_spte(tracked));
	restored = restore_acc_track_spte(tracked);
	ck_assert_uint_eq(restored, 0x8610000080000a75ull); /* W is not saved: the fast path re-grants it */
	ck_assert(is_mmu_writable_spte(restored));
}
END_TEST

START_TEST(mmio_spte_carries_gfn_and_generation_without_suppress_ve)
{
	u64 spte = make_mmio_spte(0xc0000, ACC_ALL, 0x5abcd);

	ck_assert(is_mmio_spte(spte));
	ck_assert(!is_shadow_present_pte(spte));
	/* v6.18 puts SUPPRESS_VE in the MMIO mask, not the value */
	ck_assert(!(spte & VMX_EPT_SUPPRESS_VE_BIT));
	ck_assert(!is_mmio_spte(spte | VMX_EPT_SUPPRESS_VE_BIT));
	ck_assert_uint_eq(spte & VMX_EPT_RWX_MASK, VMX_EPT_MISCONFIG_WX_VALUE);
	ck_assert_uint_eq(get_mmio_spte_gfn(spte), 0xc0000);
	ck_assert_uint_eq(get_mmio_spte_generation(spte), 0x5abcd);
	/* the generation's in-progress bit and bits past 18 do not reach the SPTE */
	ck_assert_uint_eq(get_mmio_spte_generation(make_mmio_spte(1, ACC_ALL, 0x80002ull)), 2);
}
END_TEST

START_TEST(hardware_encoding_clears_suppress_ve_and_presets_the_walkers_accessed_bit)
{
	u64 leaf, table = make_nonleaf_spte(0x1000026000ull);

	make_spte(PG_LEVEL_4K, ACC_ALL, 0x80001, FALSE, TRUE, &leaf);
	ck_assert_uint_eq(spte_to_hw(leaf, PG_LEVEL_4K), 0x0610000080001b77ull);
	ck_assert_uint_eq(spte_to_hw(table, PG_LEVEL_2M), 0x0010001000026827ull);
	/* what the walker does not see as present keeps every bit */
	ck_assert_uint_eq(spte_to_hw(SHADOW_NONPRESENT_VALUE, PG_LEVEL_4K), SHADOW_NONPRESENT_VALUE);
	ck_assert_uint_eq(spte_to_hw(FROZEN_SPTE, PG_LEVEL_2M), FROZEN_SPTE);
	ck_assert_uint_eq(spte_to_hw(mark_spte_for_access_track(leaf), PG_LEVEL_4K),
			  mark_spte_for_access_track(leaf));
}
END_TEST

/* Every kind of SPTE at every level it can sit at comes back as the same kernel value. */
START_TEST(hardware_encoding_round_trips_every_kind_of_spte)
{
	u64 leaf4k, leaf2m, ro;
	u64 values[8];
	int levels[8];
	int n = 0;

	make_spte(PG_LEVEL_4K, ACC_ALL, 0x80001, FALSE, TRUE, &leaf4k);
	make_spte(PG_LEVEL_2M, ACC_ALL, 0x80200, FALSE, TRUE, &leaf2m);
	make_spte(PG_LEVEL_4K, ACC_ALL, 0x42, FALSE, FALSE, &ro);
	values[n] = leaf4k, levels[n++] = PG_LEVEL_4K;
	values[n] = leaf2m, levels[n++] = PG_LEVEL_2M;
	values[n] = ro, levels[n++] = PG_LEVEL_4K;
	values[n] = mark_spte_for_access_track(leaf4k), levels[n++] = PG_LEVEL_4K;
	values[n] = make_nonleaf_spte(0x1000026000ull), levels[n++] = PG_LEVEL_512G;
	values[n] = make_mmio_spte(0xc0000, ACC_ALL, 0x5abcd), levels[n++] = PG_LEVEL_4K;
	values[n] = SHADOW_NONPRESENT_VALUE, levels[n++] = PG_LEVEL_1G;
	values[n] = FROZEN_SPTE, levels[n++] = PG_LEVEL_4K;
	for (int i = 0; i < n; i++) {
		u64 hw = spte_to_hw(values[i], levels[i]);

		/* a present entry never shows the walker its reserved bit 63 */
		if (hw & VMX_EPT_READABLE_MASK)
			ck_assert(!(hw & VMX_EPT_SUPPRESS_VE_BIT));
		ck_assert_uint_eq(spte_from_hw(hw, levels[i]), values[i]);
	}
}
END_TEST

/* make_spte() under the iTLB multihit mitigation: a huge leaf loses X, a 4K leaf keeps it. */
START_TEST(nx_mitigation_makes_huge_leaves_non_executable)
{
	u64 huge, small, plain;

	make_spte_ad(PG_LEVEL_2M, ACC_ALL, 0x80200, FALSE, TRUE, TRUE, TRUE, &huge);
	make_spte_ad(PG_LEVEL_4K, ACC_ALL, 0x80201, FALSE, TRUE, TRUE, TRUE, &small);
	make_spte_ad(PG_LEVEL_2M, ACC_ALL, 0x80200, FALSE, TRUE, TRUE, FALSE, &plain);
	ck_assert(!is_executable_pte(huge));
	ck_assert(is_executable_pte(small));
	ck_assert(is_executable_pte(plain));
	/* only X differs */
	ck_assert_uint_eq(huge ^ plain, shadow_x_mask);
}
END_TEST

/* make_small_spte(): a 4K child of a huge leaf the mitigation made non-executable is executable
 * again, a 2M child of a 1G leaf is not, and without the mitigation nothing is added. */
START_TEST(split_to_4k_restores_execute_under_the_nx_mitigation)
{
	u64 huge1g, huge2m;

	make_spte_ad(PG_LEVEL_2M, ACC_ALL, 0x80200, FALSE, TRUE, TRUE, TRUE, &huge2m);
	make_spte_ad(PG_LEVEL_1G, ACC_ALL, 0x80000, FALSE, TRUE, TRUE, TRUE, &huge1g);
	u64 child = make_small_spte(huge2m, PG_LEVEL_4K, 3, TRUE);

	ck_assert(is_executable_pte(child) && !is_large_pte(child));
	ck_assert_uint_eq(spte_to_pfn(child), 0x80203);
	ck_assert(!is_executable_pte(make_small_spte(huge1g, PG_LEVEL_2M, 1, TRUE)));
	ck_assert(!is_executable_pte(make_small_spte(huge2m, PG_LEVEL_4K, 3, FALSE)));
}
END_TEST

/* modify_spte_protections(): an access-tracked huge leaf splits into access-tracked children
 * whose saved bits now hold X, so the fast path restores them executable. */
START_TEST(split_of_an_access_tracked_leaf_saves_execute_in_the_tracked_bits)
{
	u64 huge, child;

	make_spte_ad(PG_LEVEL_2M, ACC_ALL, 0x80200, FALSE, TRUE, TRUE, TRUE, &huge);
	child = make_small_spte(mark_spte_for_access_track(huge), PG_LEVEL_4K, 0, TRUE);
	ck_assert(is_access_track_spte(child));
	ck_assert(!(child & VMX_EPT_EXECUTABLE_MASK));
	ck_assert(is_executable_pte(restore_acc_track_spte(child)));
}
END_TEST

static Suite *
spte_suite(void)
{
	Suite *s = suite_create("spte");
	TCase *tc = tcase_create("values");

	tcase_add_test(tc, spte_constants_match_the_kernel);
	tcase_add_test(tc, writable_leaf_has_dirty_and_suppress_ve_as_in_v6_18);
	tcase_add_test(tc, host_readonly_leaf_has_neither_write_nor_dirty_bits);
	tcase_add_test(tc, table_entry_has_no_bit_5);
	tcase_add_test(tc, access_tracked_leaf_keeps_dirty_and_saves_r_and_x);
	tcase_add_test(tc, mmio_spte_carries_gfn_and_generation_without_suppress_ve);
	suite_add_tcase(s, tc);

	tc = tcase_create("nx huge pages");
	tcase_add_test(tc, nx_mitigation_makes_huge_leaves_non_executable);
	tcase_add_test(tc, split_to_4k_restores_execute_under_the_nx_mitigation);
	tcase_add_test(tc, split_of_an_access_tracked_leaf_saves_execute_in_the_tracked_bits);
	suite_add_tcase(s, tc);

	tc = tcase_create("hardware");
	tcase_add_test(tc, hardware_encoding_clears_suppress_ve_and_presets_the_walkers_accessed_bit);
	tcase_add_test(tc, hardware_encoding_round_trips_every_kind_of_spte);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(spte_suite());
}
