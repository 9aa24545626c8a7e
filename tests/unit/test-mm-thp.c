/* SPDX-License-Identifier: GPL-2.0-only */
/* The host mm's transparent huge pages under migration while MADV_DONTNEED drops part or all of
 * them: the schedules put the zap between the migration's unmap and its remap. */
#include "tests/check-run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/unit/harness.h"

#define MEM (4u << 20)
#define THP ((guint64)2 << 20) /* the THP at gpa 2 MiB */

/* A VM whose guest RAM is madvise(MADV_HUGEPAGE)d, with a THP written at gpa THP; its head. */
static TestVm *
thp_vm(SimPfn *head)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	ck_assert_int_eq(sim_mm_madvise_hugepage(vm->host->mm, vm->hva, MEM), 0);
	ck_assert_int_eq(test_vm_fault(vm, 0, THP + 0x5000, TRUE), RET_PF_FIXED);
	*head = sim_mm_lookup(vm->host->mm, vm->hva + THP);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + THP), 2);
	return vm;
}

/* Notifier ranges as heard: "s:START-END " and "e:START-END ", offsets from base. */
typedef struct {
	guint64 base;
	GString *calls;
} Ranges;

static void
ranges_add(Ranges *r, char what, guint64 start, guint64 end)
{
	g_string_append_printf(r->calls, "%c:%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x ", what,
			       start - r->base, end - r->base);
}

static void
ranges_start(gpointer data, guint64 start, guint64 end)
{
	ranges_add(data, 's', start, end);
}

static void
ranges_end(gpointer data, guint64 start, guint64 end)
{
	ranges_add(data, 'e', start, end);
}

static gboolean
ranges_young(gpointer data, guint64 start, guint64 end)
{
	return FALSE;
}

static gboolean
ranges_test_young(gpointer data, guint64 hva)
{
	return FALSE;
}

static const SimMmuNotifierOps ranges_ops = { ranges_start, ranges_end, ranges_young,
					      ranges_test_young };

/* An actor that runs madvise(MADV_DONTNEED) over [gpa, gpa + len) of the VM's memory. */
typedef struct {
	TestVm *vm;
	gpa_t gpa;
	guint64 len;
	int result;
} Dontneed;

static void
dontneed_actor(SimActor *actor, gpointer data)
{
	Dontneed *d = data;

	d->result = sim_mm_dontneed(d->vm->host->mm, d->vm->hva + d->gpa, d->len);
}

/* Migrate the THP (as actor "mig") and drop dn's range (as "dn") after the migration ran up to
 * point. */
static int
migrate_with_dontneed_at(TestVm *vm, Dontneed *dn, const char *point)
{
	TestHost mig = { vm, TEST_HOST_MIGRATE, THP + 0x5000, 1 };
	g_autofree gchar *steps = g_strdup_printf("mig:%s,dn:exit,mig:exit", point);

	sim_actor_new(vm->host->sched, "mig", test_host_actor, &mig);
	sim_actor_new(vm->host->sched, "dn", dontneed_actor, dn);
	test_vm_run_steps(vm, steps);
	ck_assert_int_eq(dn->result, 0);
	ck_assert(!sim_sched_failed(vm->host->sched));
	return mig.result;
}

/* Whether no frame of the 512 from head is allocated. */
static gboolean
folio_freed(TestVm *vm, SimPfn head)
{
	for (guint64 i = 0; i < 512; i++)
		if (sim_frame_allocated(vm->host->hm, head + i))
			return FALSE;
	return TRUE;
}

START_TEST(a_dontneed_of_part_of_a_thp_under_migration_splits_its_migration_entry)
{
	SimPfn head, zero_check;
	TestVm *vm = thp_vm(&head);
	Ranges rec = { vm->hva, g_string_new(NULL) };
	Dontneed dn = { vm, THP + 0x6000, SIM_PAGE_SIZE, 1 };
	const guint8 kept[4] = { 1, 2, 3, 4 }, dropped[4] = { 5, 6, 7, 8 };
	guint8 back[4];
	gboolean writable;

	sim_frame_write(vm->host->hm, head + 5, 0, kept, sizeof(kept));
	sim_frame_write(vm->host->hm, head + 6, 0, dropped, sizeof(dropped));
	sim_mm_register_notifier(vm->host->mm, &ranges_ops, &rec);
	ck_assert_int_eq(migrate_with_dontneed_at(vm, &dn, "migrate.copy"), 0);
	SimPfn new_head = sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x5000) - 5;

	ck_assert_uint_ne(new_head, head);
	ck_assert_uint_eq(new_head % 512, 0);
	sim_frame_read(vm->host->hm, new_head + 5, 0, back, sizeof(back));
	ck_assert_mem_eq(back, kept, sizeof(kept));
	/* the dropped page stays dropped; the rest is mapped 4 KiB at a time */
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x6000), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x7000), new_head + 7);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + THP + 0x7000), 1);
	ck_assert(!sim_frame_allocated(vm->host->hm, new_head + 6));
	ck_assert(folio_freed(vm, head));
	ck_assert_uint_eq(sim_mm_nr_resident(vm->host->mm, vm->hva), 511);
	/* the dontneed's split of the PMD migration entry has its own 2 MiB notifier */
	ck_assert_str_eq(rec.calls->str, "s:200000-400000 e:200000-400000 s:206000-207000 "
					 "s:200000-400000 e:200000-400000 e:206000-207000 ");
	g_autofree gchar *split = g_strdup_printf("sim_mm_split_huge_pmd: hva 0x%" G_GINT64_MODIFIER
						  "x pfn 0x%" G_GINT64_MODIFIER "x\n",
						  vm->hva + THP, head);

	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log), split));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PMD], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PAGE], 0);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_MIGRATION], 1);
	/* read again, the dropped page is the zero page */
	ck_assert_int_eq(sim_mm_hva_to_pfn(vm->host->mm, vm->hva + THP + 0x6000, FALSE, &zero_check,
					   &writable),
			 0);
	ck_assert_uint_eq(zero_check, SIM_ZERO_PFN);
	sim_frame_put(vm->host->hm, zero_check);
	g_string_free(rec.calls, TRUE);
	test_vm_free(vm);
}
END_TEST

START_TEST(a_busy_thp_migration_restores_only_what_a_dontneed_left)
{
	SimPfn head;
	TestVm *vm = thp_vm(&head);
	Dontneed dn = { vm, THP + 0x6000, SIM_PAGE_SIZE, 1 };

	sim_frame_get(vm->host->hm, head + 9); /* a pin makes the folio busy */
	ck_assert_int_eq(migrate_with_dontneed_at(vm, &dn, "migrate.remap"), -EAGAIN);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_PROBE_MIGRATE_BUSY], 1);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x6000), SIM_PFN_NONE);
	ck_assert(!sim_frame_allocated(vm->host->hm, head + 6));
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x7000), head + 7);
	ck_assert_int_eq(sim_mm_host_mapping_level(vm->host->mm, vm->hva + THP + 0x7000), 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PMD], 1);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PAGE], 0);
	sim_frame_put(vm->host->hm, head + 9);
	test_vm_free(vm);
}
END_TEST

START_TEST(a_dontneed_of_a_whole_thp_under_migration_leaves_nothing_to_restore)
{
	SimPfn head, new_head = SIM_PFN_NONE;
	TestVm *vm = thp_vm(&head);
	Dontneed dn = { vm, THP, 2ull << 20, 1 };
	int level;

	ck_assert_int_eq(migrate_with_dontneed_at(vm, &dn, "migrate.copy"), 0);
	const char *moved = strstr(sim_log_text(vm->host->log), " thp\n");

	ck_assert_ptr_nonnull(moved);
	while (moved[-1] != ' ')
		moved--;
	ck_assert_int_eq(sscanf(moved, "0x%" G_GINT64_MODIFIER "x", &new_head), 1);
	ck_assert_uint_eq(sim_mm_lookup(vm->host->mm, vm->hva + THP + 0x6000), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_mm_nr_resident(vm->host->mm, vm->hva), 0);
	ck_assert(folio_freed(vm, head));
	ck_assert(folio_freed(vm, new_head));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_THP_SPLIT_PMD], 0);
	/* the PMD is none again: the next fault maps a new THP */
	ck_assert_int_eq(test_vm_fault(vm, 0, THP + 0x6000, TRUE), RET_PF_FIXED);
	kvm_tdp_mmu_leaf_spte(vm->kvm, (THP + 0x6000) >> PAGE_SHIFT, &level);
	ck_assert_int_eq(level, PG_LEVEL_2M);
	test_vm_free(vm);
}
END_TEST

static Suite *
mm_thp_suite(void)
{
	Suite *s = suite_create("mm-thp");
	TCase *tc = tcase_create("migration-and-zap");

	tcase_add_test(tc, a_dontneed_of_part_of_a_thp_under_migration_splits_its_migration_entry);
	tcase_add_test(tc, a_busy_thp_migration_restores_only_what_a_dontneed_left);
	tcase_add_test(tc, a_dontneed_of_a_whole_thp_under_migration_leaves_nothing_to_restore);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(mm_thp_suite());
}
