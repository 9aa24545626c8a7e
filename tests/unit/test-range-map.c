/* SPDX-License-Identifier: GPL-2.0-only */
/* The run map behind memory attributes and gmem shareability. */
#include "tests/check-run.h"

#include "mmu/range_map.h"

typedef struct {
	GString *out;
} Dump;

static void
dump_run(u64 start, u64 end, u64 value, gpointer data)
{
	g_string_append_printf(((Dump *)data)->out, "[%" G_GINT64_MODIFIER "u,%" G_GINT64_MODIFIER
			       "u)=%" G_GINT64_MODIFIER "u ", start, end, value);
}

static gchar *
dump(KvmRangeMap *map, u64 start, u64 end)
{
	Dump d = { g_string_new(NULL) };

	kvm_range_map_foreach(map, start, end, dump_run, &d);
	return g_string_free(d.out, FALSE);
}

START_TEST(set_splits_overlapped_runs_and_merges_equal_neighbours)
{
	KvmRangeMap *map = kvm_range_map_new(0);
	gchar *s;

	kvm_range_map_set(map, 10, 20, 8);
	kvm_range_map_set(map, 14, 16, 0);
	s = dump(map, 0, 30);
	ck_assert_str_eq(s, "[0,10)=0 [10,14)=8 [14,16)=0 [16,20)=8 [20,30)=0 ");
	g_free(s);
	kvm_range_map_set(map, 14, 16, 8);
	s = dump(map, 12, 25);
	ck_assert_str_eq(s, "[12,20)=8 [20,25)=0 ");
	g_free(s);
	kvm_range_map_set(map, 20, 22, 8); /* touches the run: one run again */
	kvm_range_map_set(map, 5, 11, 3);
	s = dump(map, 0, 30);
	ck_assert_str_eq(s, "[0,5)=0 [5,11)=3 [11,22)=8 [22,30)=0 ");
	g_free(s);
	ck_assert_uint_eq(kvm_range_map_get(map, 4), 0);
	ck_assert_uint_eq(kvm_range_map_get(map, 10), 3);
	ck_assert_uint_eq(kvm_range_map_get(map, 21), 8);
	kvm_range_map_set(map, 0, G_MAXUINT64, 0);
	s = dump(map, 0, 30);
	ck_assert_str_eq(s, "[0,30)=0 ");
	g_free(s);
	kvm_range_map_free(map);
}
END_TEST

START_TEST(find_not_returns_the_first_index_with_another_value)
{
	KvmRangeMap *map = kvm_range_map_new(8);

	ck_assert_uint_eq(kvm_range_map_find_not(map, 0, 100, 8), 100);
	ck_assert_uint_eq(kvm_range_map_find_not(map, 0, 100, 0), 0);
	kvm_range_map_set(map, 40, 50, 0);
	ck_assert_uint_eq(kvm_range_map_find_not(map, 0, 100, 8), 40);
	ck_assert_uint_eq(kvm_range_map_find_not(map, 45, 100, 0), 50);
	ck_assert_uint_eq(kvm_range_map_find_not(map, 41, 49, 0), 49);
	ck_assert_uint_eq(kvm_range_map_find_not(map, 50, 60, 8), 60);
	kvm_range_map_free(map);
}
END_TEST

START_TEST(count_not_adds_up_the_indices_with_another_value)
{
	KvmRangeMap *map = kvm_range_map_new(0);

	ck_assert_uint_eq(kvm_range_map_count_not(map, 0, 100, 0), 0);
	ck_assert_uint_eq(kvm_range_map_count_not(map, 0, 100, 8), 100);
	kvm_range_map_set(map, 10, 20, 8);
	kvm_range_map_set(map, 30, 35, 3);
	/* 15..20 is 8; 20..30 and 35..40 hold the default; 30..35 is 3 */
	ck_assert_uint_eq(kvm_range_map_count_not(map, 15, 40, 8), 20);
	ck_assert_uint_eq(kvm_range_map_count_not(map, 15, 40, 0), 10);
	ck_assert_uint_eq(kvm_range_map_count_not(map, 12, 18, 8), 0);
	kvm_range_map_free(map);
}
END_TEST

static Suite *
range_map_suite(void)
{
	Suite *s = suite_create("range-map");
	TCase *tc = tcase_create("runs");

	tcase_add_test(tc, set_splits_overlapped_runs_and_merges_equal_neighbours);
	tcase_add_test(tc, find_not_returns_the_first_index_with_another_value);
	tcase_add_test(tc, count_not_adds_up_the_indices_with_another_value);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(range_map_suite());
}
