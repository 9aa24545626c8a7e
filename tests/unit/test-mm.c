/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core: the VMM's mm and its notifiers, host-event specs, output files and the log sink. */
#include "tests/unit/core-support.h"

/* ---------------------------------------------------------------------------------------------
 * Host mm
 */

#define MM_PAGES 4

typedef struct {
	gboolean start;
	guint64 range_start, range_end;
	SimPfn mapped;          /* sim_mm_lookup() of the watched hva */
	gboolean watched_alive; /* the watched frame is still allocated */
} NotifierCall;

/* A secondary MMU that only records what it is told and what it sees when told. */
typedef struct {
	SimMm *mm;
	SimHostMem *hm;
	guint64 watch_hva;
	SimPfn watch_pfn;
	NotifierCall calls[8];
	guint n_calls;
	guint clear_young_calls;
	guint flush_after_calls;  /* n_calls at the host TLB flush (tlb_finish_mmu()), +1 */
	gboolean alive_at_flush;  /* the watched frame was still allocated then */
	guint flushes;            /* host TLB flushes, and the pages the last one covered */
	guint64 flushed_pages;
} FakeMmu;

static void
fake_record(FakeMmu *f, gboolean start, guint64 range_start, guint64 range_end)
{
	ck_assert_uint_lt(f->n_calls, G_N_ELEMENTS(f->calls));
	f->calls[f->n_calls++] = (NotifierCall){
		start, range_start, range_end, sim_mm_lookup(f->mm, f->watch_hva),
		f->watch_pfn != SIM_PFN_NONE && sim_frame_allocated(f->hm, f->watch_pfn),
	};
}

static void
fake_range_start(gpointer data, guint64 start, guint64 end)
{
	fake_record(data, TRUE, start, end);
}

static void
fake_range_end(gpointer data, guint64 start, guint64 end)
{
	fake_record(data, FALSE, start, end);
}

static gboolean
fake_clear_young(gpointer data, guint64 start, guint64 end)
{
	((FakeMmu *)data)->clear_young_calls++;
	return FALSE;
}

static gboolean
fake_test_young(gpointer data, guint64 hva)
{
	return FALSE;
}

static void
fake_frame(gpointer data, SimPfn pfn)
{
}

static void
fake_access(gpointer data, SimPfn pfn, gboolean write, const char *ip)
{
}

/* The host's flush_tlb_mm_range() (sim_hostmem_flush_tlb_mm()): when, among the notifier calls. */
static void
fake_flush_tlb_mm(gpointer data, guint64 npages)
{
	FakeMmu *f = data;

	f->flush_after_calls = f->n_calls + 1;
	f->flushes++;
	f->flushed_pages = npages;
	f->alive_at_flush = f->watch_pfn != SIM_PFN_NONE && sim_frame_allocated(f->hm, f->watch_pfn);
}

static const SimFrameAsiOps fake_frame_ops = { fake_frame, fake_frame, fake_access,
					       fake_flush_tlb_mm };

static const SimMmuNotifierOps fake_ops = {
	.invalidate_range_start = fake_range_start,
	.invalidate_range_end = fake_range_end,
	.clear_young = fake_clear_young,
	.test_young = fake_test_young,
};

typedef struct {
	SimCounters counters;
	SimSched *sched;
	SimHostMem *hm;
	SimMm *mm;
	guint64 hva; /* MM_PAGES pages, anonymous */
	FakeMmu fake;
} MmEnv;

static MmEnv *
mm_env_new(void)
{
	g_autoptr(GError) error = NULL;
	MmEnv *env = g_new0(MmEnv, 1);

	env->sched = sim_sched_new(1);
	env->hm = sim_hostmem_new(64, 4, &env->counters, &error);
	ck_assert_msg(env->hm != NULL, "%s", error ? error->message : "");
	env->mm = sim_mm_new(env->sched, env->hm, &env->counters);
	ck_assert(sim_mm_mmap_anon(env->mm, MM_PAGES * SIM_PAGE_SIZE, &env->hva, &error));
	env->fake = (FakeMmu){ .mm = env->mm, .hm = env->hm, .watch_pfn = SIM_PFN_NONE };
	sim_mm_register_notifier(env->mm, &fake_ops, &env->fake);
	sim_hostmem_set_asi(env->hm, &fake_frame_ops, &env->fake);
	return env;
}

static void
mm_env_free(MmEnv *env)
{
	sim_mm_free(env->mm);
	sim_hostmem_free(env->hm);
	sim_sched_free(env->sched);
	g_free(env);
}

/* GUP the page at hva for write and drop the pin; the pfn. */
static SimPfn
touch(MmEnv *env, guint64 hva)
{
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, hva, TRUE, &pfn, &writable), 0);
	sim_frame_put(env->hm, pfn);
	return pfn;
}

static void
watch(MmEnv *env, guint64 hva)
{
	env->fake.watch_hva = hva;
	env->fake.watch_pfn = sim_mm_lookup(env->mm, hva);
}

START_TEST(gup_outside_every_mapping_is_efault)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, 0x1000, FALSE, &pfn, &writable), -EFAULT);
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva + MM_PAGES * SIM_PAGE_SIZE, TRUE, &pfn,
					   &writable),
			 -EFAULT);
	mm_env_free(env);
}
END_TEST

START_TEST(gup_faults_in_a_zeroed_frame_and_returns_it_pinned)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable = FALSE;

	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_PFN_NONE);
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva + 8, TRUE, &pfn, &writable), 0);
	ck_assert(writable);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), pfn);
	ck_assert_uint_eq(sim_frame_refs(env->hm, pfn), 1);
	ck_assert(frame_is_filled_with(env->hm, pfn, 0));
	sim_frame_put(env->hm, pfn);
	ck_assert_uint_eq(touch(env, env->hva), pfn); /* the second GUP finds the same frame */
	mm_env_free(env);
}
END_TEST

START_TEST(migration_preserves_the_content_and_changes_the_pfn)
{
	MmEnv *env = mm_env_new();
	guint64 hva = env->hva + SIM_PAGE_SIZE;
	SimPfn old_pfn = touch(env, hva);
	guint8 buf[8];

	sim_frame_write(env->hm, old_pfn, 40, "payload", 8);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, hva), 0);
	SimPfn new_pfn = sim_mm_lookup(env->mm, hva);

	ck_assert_uint_ne(new_pfn, SIM_PFN_NONE);
	ck_assert_uint_ne(new_pfn, old_pfn);
	ck_assert(!sim_frame_allocated(env->hm, old_pfn));
	sim_frame_read(env->hm, new_pfn, 40, buf, 8);
	ck_assert_str_eq((const char *)buf, "payload");
	ck_assert_uint_eq(touch(env, hva), new_pfn);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_MIGRATE], 1);
	mm_env_free(env);
}
END_TEST

START_TEST(migration_of_a_resident_frame_copies_what_the_guest_wrote)
{
	MmEnv *env = mm_env_new();
	SimPfn old_pfn = touch(env, env->hva);
	guint8 buf[6];

	/* the content lives in the GPA page, not in the frame's storage */
	ck_assert(sim_hostmem_add_window(env->hm, WINDOW_GPA, WINDOW_SIZE, NULL));
	sim_hostmem_make_resident(env->hm, WINDOW_GPA, old_pfn);
	memcpy(sim_hostmem_gpa_ptr(env->hm, WINDOW_GPA), "guest", 6);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva), 0);
	sim_frame_read(env->hm, sim_mm_lookup(env->mm, env->hva), 0, buf, 6);
	ck_assert_str_eq((const char *)buf, "guest");
	mm_env_free(env);
}
END_TEST

START_TEST(dontneed_makes_the_next_gup_return_a_new_zeroed_frame)
{
	MmEnv *env = mm_env_new();
	SimPfn old_pfn = touch(env, env->hva);

	sim_frame_write(env->hm, old_pfn, 0, "gone", 4);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_PFN_NONE);
	ck_assert(!sim_frame_allocated(env->hm, old_pfn));
	SimPfn new_pfn = touch(env, env->hva);

	ck_assert_uint_ne(new_pfn, old_pfn);
	ck_assert(frame_is_filled_with(env->hm, new_pfn, 0));
	mm_env_free(env);
}
END_TEST

/* The resident list of the mapping, as a bit per page; each page is on it at most once. */
static guint
resident_mask(MmEnv *env)
{
	guint mask = 0;

	for (guint64 i = 0; i < sim_mm_nr_resident(env->mm, env->hva); i++) {
		guint64 hva = sim_mm_resident_page(env->mm, env->hva + 3 * SIM_PAGE_SIZE, i);
		guint bit = 1u << ((hva - env->hva) / SIM_PAGE_SIZE);

		ck_assert_uint_eq(mask & bit, 0);
		mask |= bit;
	}
	return mask;
}

/* Issue 7 item 15: host events pick from this list in O(1), so it must hold exactly the pages
 * with a frame of their own: written, migrated, not the zero page, not dropped or unmapped. */
START_TEST(resident_pages_are_exactly_those_holding_a_frame_of_their_own)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;

	ck_assert_uint_eq(resident_mask(env), 0);
	touch(env, env->hva);
	touch(env, env->hva + 2 * SIM_PAGE_SIZE);
	touch(env, env->hva + 3 * SIM_PAGE_SIZE);
	/* a read maps the zero page: nothing of its own */
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva + SIM_PAGE_SIZE, FALSE, &pfn,
					   &writable), 0);
	sim_frame_put(env->hm, pfn);
	ck_assert_uint_eq(resident_mask(env), 0xd);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva + 2 * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(resident_mask(env), 0xd);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(resident_mask(env), 0xc);
	touch(env, env->hva + SIM_PAGE_SIZE); /* breaks COW */
	ck_assert_uint_eq(resident_mask(env), 0xe);
	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva + 2 * SIM_PAGE_SIZE, 2 * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(resident_mask(env), 0x2);
	ck_assert_uint_eq(sim_mm_nr_resident(env->mm, 0x1000), 0);
	mm_env_free(env);
}
END_TEST

START_TEST(munmap_makes_gup_fail_with_efault)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = touch(env, env->hva);
	gboolean writable;

	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert(!sim_mm_mapped(env->mm, env->hva));
	ck_assert(!sim_frame_allocated(env->hm, pfn));
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva, FALSE, &pfn, &writable), -EFAULT);
	/* the rest of the mapping stays */
	ck_assert(sim_mm_mapped(env->mm, env->hva + SIM_PAGE_SIZE));
	touch(env, env->hva + SIM_PAGE_SIZE);
	mm_env_free(env);
}
END_TEST

START_TEST(age_clears_young_and_reports_it_once)
{
	MmEnv *env = mm_env_new();
	guint young = 99;

	touch(env, env->hva);
	touch(env, env->hva + 2 * SIM_PAGE_SIZE);
	ck_assert(sim_mm_test_young(env->mm, env->hva));
	ck_assert_int_eq(sim_mm_age(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 2);
	ck_assert_uint_eq(env->fake.clear_young_calls, 1);
	ck_assert(!sim_mm_test_young(env->mm, env->hva));
	ck_assert_int_eq(sim_mm_age(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 0);
	touch(env, env->hva); /* an access makes it young again */
	ck_assert(sim_mm_test_young(env->mm, env->hva));
	mm_env_free(env);
}
END_TEST

static void
assert_call(const NotifierCall *call, gboolean start, guint64 range_start, guint64 range_end)
{
	ck_assert_msg(call->start == start, "expected %s", start ? "start" : "end");
	ck_assert_uint_eq(call->range_start, range_start);
	ck_assert_uint_eq(call->range_end, range_end);
}

START_TEST(a_read_of_a_page_never_written_maps_the_zero_page_read_only)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable = TRUE;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva, FALSE, &pfn, &writable), 0);
	ck_assert_uint_eq(pfn, SIM_ZERO_PFN);
	ck_assert(!writable);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_ZERO_PFN);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_ZERO_PAGE], 1);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_FRAMES_ALLOCATED], 0);
	ck_assert_uint_eq(env->fake.n_calls, 0);
	sim_frame_put(env->hm, pfn);
	/* a second read finds it through the slow path again: GUP-fast wants a writable PTE */
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva, FALSE, &pfn, &writable), 0);
	ck_assert_uint_eq(pfn, SIM_ZERO_PFN);
	ck_assert(!writable);
	sim_frame_put(env->hm, pfn);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_ZERO_PAGE], 1);
	mm_env_free(env);
}
END_TEST

START_TEST(a_write_after_a_read_breaks_cow_under_a_notifier_of_that_page)
{
	MmEnv *env = mm_env_new();
	guint64 hva = env->hva + SIM_PAGE_SIZE;
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable = FALSE;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, hva + 8, FALSE, &pfn, &writable), 0);
	sim_frame_put(env->hm, pfn);
	watch(env, hva);
	ck_assert_uint_eq(env->fake.watch_pfn, SIM_ZERO_PFN);
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, hva + 8, TRUE, &pfn, &writable), 0);
	ck_assert(writable);
	ck_assert_uint_ne(pfn, SIM_ZERO_PFN);
	ck_assert(frame_is_filled_with(env->hm, pfn, 0));
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_COW], 1);
	/* wp_page_copy(): start while the zero page is still mapped, end once the copy is */
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, hva, hva + SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, SIM_ZERO_PFN);
	assert_call(&env->fake.calls[1], FALSE, hva, hva + SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[1].mapped, pfn);
	sim_frame_put(env->hm, pfn);
	/* a read now finds the writable copy on the fast path */
	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, hva, FALSE, &pfn, &writable), 0);
	ck_assert(writable);
	ck_assert_uint_eq(pfn, sim_mm_lookup(env->mm, hva));
	sim_frame_put(env->hm, pfn);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_HOST_COW], 1);
	mm_env_free(env);
}
END_TEST

START_TEST(the_zero_page_is_never_migrated_freed_or_aged)
{
	MmEnv *env = mm_env_new();
	SimPfn pfn = SIM_PFN_NONE;
	gboolean writable;
	guint young = 99;

	ck_assert_int_eq(sim_mm_hva_to_pfn(env->mm, env->hva, FALSE, &pfn, &writable), 0);
	sim_frame_put(env->hm, pfn);
	touch(env, env->hva + 2 * SIM_PAGE_SIZE);
	/* move_pages() says -EFAULT of the zero page, and no notifier hears of it */
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva), -EFAULT);
	ck_assert_uint_eq(env->fake.n_calls, 0);
	/* aging skips it: young only for the written page, the notifier told of the rest */
	ck_assert_int_eq(sim_mm_age(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE, &young), 0);
	ck_assert_uint_eq(young, 1);
	ck_assert_uint_eq(env->fake.clear_young_calls, 1);
	/* zapping its PTE drops no frame */
	ck_assert_int_eq(sim_mm_dontneed(env->mm, env->hva, SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->counters.v[SIM_CTR_FRAMES_FREED], 0);
	ck_assert_uint_eq(sim_mm_lookup(env->mm, env->hva), SIM_PFN_NONE);
	ck_assert(sim_frame_allocated(env->hm, SIM_ZERO_PFN));
	mm_env_free(env);
}
END_TEST

START_TEST(dontneed_notifies_start_and_end_then_flushes_the_host_tlb_then_frees)
{
	MmEnv *env = mm_env_new();
	guint64 hva = env->hva + SIM_PAGE_SIZE;

	touch(env, hva);
	watch(env, hva);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, hva, 2 * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, hva, hva + 2 * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, hva, hva + 2 * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[1].mapped, SIM_PFN_NONE);
	ck_assert(env->fake.calls[1].watched_alive); /* freed only after the end */
	/* tlb_finish_mmu(): the flush after the end, the frees after the flush; it covers the
	 * one present PTE the zap gathered, and a zap that gathers none flushes nothing */
	ck_assert_uint_eq(env->fake.flush_after_calls, 3);
	ck_assert(env->fake.alive_at_flush);
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	ck_assert_uint_eq(env->fake.flushed_pages, 1);
	ck_assert_int_eq(sim_mm_dontneed(env->mm, hva, 2 * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->fake.flushes, 1);
	mm_env_free(env);
}
END_TEST

START_TEST(munmap_notifies_start_and_end_then_flushes_the_host_tlb_then_frees)
{
	MmEnv *env = mm_env_new();

	touch(env, env->hva);
	watch(env, env->hva);
	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva, MM_PAGES * SIM_PAGE_SIZE), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, env->hva, env->hva + MM_PAGES * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, env->hva, env->hva + MM_PAGES * SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[1].mapped, SIM_PFN_NONE);
	ck_assert(env->fake.calls[1].watched_alive);
	ck_assert_uint_eq(env->fake.flush_after_calls, 3);
	ck_assert(env->fake.alive_at_flush);
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	ck_assert_uint_eq(env->fake.flushed_pages, 1); /* one page of MM_PAGES was present */
	mm_env_free(env);
}
END_TEST

START_TEST(migration_notifies_the_aligned_page_while_mapped_and_frees_the_old_frame_after_end)
{
	MmEnv *env = mm_env_new();
	guint64 page = env->hva + 2 * SIM_PAGE_SIZE;

	touch(env, page);
	watch(env, page);
	ck_assert_int_eq(sim_mm_migrate_page(env->mm, page + 0x123), 0);
	ck_assert_uint_eq(env->fake.n_calls, 2);
	assert_call(&env->fake.calls[0], TRUE, page, page + SIM_PAGE_SIZE);
	ck_assert_uint_eq(env->fake.calls[0].mapped, env->fake.watch_pfn);
	ck_assert(env->fake.calls[0].watched_alive);
	assert_call(&env->fake.calls[1], FALSE, page, page + SIM_PAGE_SIZE);
	ck_assert(env->fake.calls[1].watched_alive);
	ck_assert(!sim_frame_allocated(env->hm, env->fake.watch_pfn));
	ck_assert_uint_ne(sim_mm_lookup(env->mm, page), env->fake.watch_pfn);
	mm_env_free(env);
}
END_TEST

START_TEST(operations_on_nothing_mapped_fire_no_notifier)
{
	MmEnv *env = mm_env_new();

	ck_assert_int_eq(sim_mm_migrate_page(env->mm, env->hva), -ENOENT); /* never touched */
	ck_assert_int_eq(sim_mm_dontneed(env->mm, 0x1000, SIM_PAGE_SIZE), -ENOENT);
	ck_assert_int_eq(sim_mm_munmap(env->mm, env->hva + 1, SIM_PAGE_SIZE), -ENOENT); /* unaligned */
	ck_assert_uint_eq(env->fake.n_calls, 0);
	mm_env_free(env);
}
END_TEST


/* ---------------------------------------------------------------------------------------------
 * Host-event specs
 */

START_TEST(host_event_spec_gives_each_kind_its_count)
{
	SimHostEventCounts counts;
	g_autoptr(GError) error = NULL;

	ck_assert(sim_host_events_parse("age=3,migrate=500,dontneed=10", &counts, &error));
	ck_assert_uint_eq(counts.count[SIM_HOST_MIGRATE], 500);
	ck_assert_uint_eq(counts.count[SIM_HOST_DONTNEED], 10);
	ck_assert_uint_eq(counts.count[SIM_HOST_AGE], 3);
	ck_assert_uint_eq(sim_host_events_total(&counts), 513);
	ck_assert_str_eq(sim_host_event_name(SIM_HOST_DONTNEED), "dontneed");
}
END_TEST

START_TEST(host_event_spec_leaves_unnamed_kinds_at_zero)
{
	SimHostEventCounts counts;

	memset(&counts, 0xff, sizeof(counts));
	ck_assert(sim_host_events_parse("dontneed=1000000", &counts, NULL));
	ck_assert_uint_eq(counts.count[SIM_HOST_MIGRATE], 0);
	ck_assert_uint_eq(counts.count[SIM_HOST_DONTNEED], 1000000);
	ck_assert_uint_eq(counts.count[SIM_HOST_AGE], 0);
	ck_assert_uint_eq(sim_host_events_total(&counts), 1000000);
}
END_TEST

/* The spec is rejected with exactly this message. */
static void
assert_spec_rejected(const char *spec, const char *message)
{
	SimHostEventCounts counts;
	g_autoptr(GError) error = NULL;

	ck_assert_msg(!sim_host_events_parse(spec, &counts, &error), "'%s' was accepted", spec);
	ck_assert(g_error_matches(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE));
	ck_assert_str_eq(error->message, message);
}

START_TEST(host_event_spec_with_an_unknown_kind_is_rejected)
{
	assert_spec_rejected("migrate=1,foo=2",
			     "--host-events: unknown kind 'foo' (known: migrate, dontneed, age, punch, "
			     "convert, dirtylog)");
}
END_TEST

START_TEST(host_event_spec_with_a_prefix_of_a_kind_is_rejected)
{
	assert_spec_rejected("migr=1",
			     "--host-events: unknown kind 'migr' (known: migrate, dontneed, age, punch, "
			     "convert, dirtylog)");
	assert_spec_rejected("ages=1",
			     "--host-events: unknown kind 'ages' (known: migrate, dontneed, age, punch, "
			     "convert, dirtylog)");
}
END_TEST

START_TEST(host_event_spec_without_equals_is_rejected)
{
	assert_spec_rejected("migrate", "--host-events: 'migrate' is not KIND=COUNT");
	assert_spec_rejected("=5", "--host-events: '=5' is not KIND=COUNT");
}
END_TEST

START_TEST(host_event_spec_with_a_count_that_is_not_a_number_is_rejected)
{
	assert_spec_rejected("migrate=x",
			     "--host-events: count 'x' of migrate is not a number from 0 to 1000000");
	assert_spec_rejected("age=",
			     "--host-events: count '' of age is not a number from 0 to 1000000");
	assert_spec_rejected("age=-1",
			     "--host-events: count '-1' of age is not a number from 0 to 1000000");
}
END_TEST

START_TEST(host_event_spec_with_a_count_above_the_limit_is_rejected)
{
	assert_spec_rejected(
		"dontneed=1000001",
		"--host-events: count '1000001' of dontneed is not a number from 0 to 1000000");
}
END_TEST

START_TEST(host_event_spec_naming_a_kind_twice_is_rejected)
{
	assert_spec_rejected("migrate=1,age=2,migrate=3", "--host-events: migrate is given twice");
}
END_TEST


/* ---------------------------------------------------------------------------------------------
 * Output files and the log file sink
 */

/* For g_ptr_array_sort() of names: it passes pointers to the elements. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in dir, sorted, space separated. */
static gchar *
dir_listing(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	ck_assert_ptr_nonnull(d);
	while ((name = g_dir_read_name(d)))
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, compare_names);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(" ", (gchar **)names->pdata);
}

static gchar *
make_temp_dir(void)
{
	g_autoptr(GError) error = NULL;
	gchar *dir = g_dir_make_tmp("kvmsim-test-core-XXXXXX", &error);

	ck_assert_msg(dir != NULL, "%s", error ? error->message : "");
	return dir;
}

/* Remove dir and the plain files in it. */
static void
remove_temp_dir(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d && (name = g_dir_read_name(d))) {
		g_autofree gchar *path = g_build_filename(dir, name, NULL);

		g_unlink(path);
	}
	g_rmdir(dir);
}

START_TEST(outfile_appears_only_at_commit_under_its_final_name)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *content = NULL;
	SimOutFile out = { 0 };

	ck_assert(sim_outfile_open(&out, path, &error));
	fputs("hello\n", out.fp);
	ck_assert(!g_file_test(path, G_FILE_TEST_EXISTS));
	ck_assert(sim_outfile_commit(&out, &error));
	ck_assert(g_file_get_contents(path, &content, NULL, NULL));
	ck_assert_str_eq(content, "hello\n");
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "out.txt"); /* no temporary left beside it */
	remove_temp_dir(dir);
}
END_TEST

START_TEST(outfile_abort_leaves_neither_file_nor_temporary)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	SimOutFile out = { 0 };
	SimOutFile never_opened = { 0 };

	ck_assert(sim_outfile_open(&out, path, &error));
	fputs("half written", out.fp);
	{
		g_autofree gchar *listing = dir_listing(dir);

		ck_assert_str_ne(listing, ""); /* the temporary exists while writing */
	}
	sim_outfile_abort(&out);
	sim_outfile_abort(&never_opened);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

START_TEST(outfile_in_a_missing_directory_fails_naming_the_path)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "missing", "out.txt", NULL);
	g_autoptr(GError) error = NULL;
	SimOutFile out = { 0 };

	ck_assert(!sim_outfile_open(&out, path, &error));
	ck_assert(g_error_matches(error, G_FILE_ERROR, G_FILE_ERROR_NOENT));
	ck_assert(g_str_has_prefix(error->message, path));
	ck_assert_ptr_null(out.fp);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

START_TEST(log_file_holds_exactly_the_captured_lines_and_their_digest)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "run.log", NULL);
	g_autoptr(GError) error = NULL;
	g_autofree gchar *content = NULL;
	SimLog *log;
	g_autoptr(SimSched) sched = sched_with_log(3, &log);
	Script script = { sched, three_points };

	ck_assert(sim_log_open_file(log, path, &error));
	sim_log_hash(log);
	sim_actor_new(sched, "a", script_actor, &script);
	sim_actor_new(sched, "b", script_actor, &script);
	run_or_abort(sched);
	ck_assert(sim_log_finish(log, &error));
	ck_assert(g_file_get_contents(path, &content, NULL, NULL));
	ck_assert_str_eq(content, sim_log_text(log));
	g_autofree gchar *sha = g_compute_checksum_for_string(G_CHECKSUM_SHA256, content, -1);
	g_autofree gchar *expected = g_strconcat("sha256:", sha, NULL);
	g_autofree gchar *digest = sim_log_digest(log);

	ck_assert_str_eq(digest, expected);
	guint newlines = 0;

	for (const char *c = content; *c; c++)
		newlines += *c == '\n';
	ck_assert_uint_gt(newlines, 6);
	ck_assert_uint_eq(sim_log_lines(log), newlines);
	sim_log_free(log);
	remove_temp_dir(dir);
}
END_TEST

START_TEST(log_freed_without_finish_leaves_no_file)
{
	g_autofree gchar *dir = make_temp_dir();
	g_autofree gchar *path = g_build_filename(dir, "run.log", NULL);
	g_autoptr(GError) error = NULL;
	SimLog *log = sim_log_new(NULL);

	ck_assert(sim_log_open_file(log, path, &error));
	sim_log_emitf(log, "test_ev", "%s", "lost");
	sim_log_free(log);
	g_autofree gchar *listing = dir_listing(dir);

	ck_assert_str_eq(listing, "");
	remove_temp_dir(dir);
}
END_TEST

static Suite *
mm_suite(void)
{
	Suite *s = suite_create("mm");
	TCase *tc;

	tc = tcase_create("mm");
	tcase_add_test(tc, gup_outside_every_mapping_is_efault);
	tcase_add_test(tc, gup_faults_in_a_zeroed_frame_and_returns_it_pinned);
	tcase_add_test(tc, migration_preserves_the_content_and_changes_the_pfn);
	tcase_add_test(tc, migration_of_a_resident_frame_copies_what_the_guest_wrote);
	tcase_add_test(tc, dontneed_makes_the_next_gup_return_a_new_zeroed_frame);
	tcase_add_test(tc, resident_pages_are_exactly_those_holding_a_frame_of_their_own);
	tcase_add_test(tc, munmap_makes_gup_fail_with_efault);
	tcase_add_test(tc, age_clears_young_and_reports_it_once);
	tcase_add_test(tc, a_read_of_a_page_never_written_maps_the_zero_page_read_only);
	tcase_add_test(tc, a_write_after_a_read_breaks_cow_under_a_notifier_of_that_page);
	tcase_add_test(tc, the_zero_page_is_never_migrated_freed_or_aged);
	tcase_add_test(tc, dontneed_notifies_start_and_end_then_flushes_the_host_tlb_then_frees);
	tcase_add_test(tc, munmap_notifies_start_and_end_then_flushes_the_host_tlb_then_frees);
	tcase_add_test(tc,
		       migration_notifies_the_aligned_page_while_mapped_and_frees_the_old_frame_after_end);
	tcase_add_test(tc, operations_on_nothing_mapped_fire_no_notifier);
		suite_add_tcase(s, tc);
	tc = tcase_create("host-events");
	tcase_add_test(tc, host_event_spec_gives_each_kind_its_count);
	tcase_add_test(tc, host_event_spec_leaves_unnamed_kinds_at_zero);
	tcase_add_test(tc, host_event_spec_with_an_unknown_kind_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_prefix_of_a_kind_is_rejected);
	tcase_add_test(tc, host_event_spec_without_equals_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_count_that_is_not_a_number_is_rejected);
	tcase_add_test(tc, host_event_spec_with_a_count_above_the_limit_is_rejected);
	tcase_add_test(tc, host_event_spec_naming_a_kind_twice_is_rejected);
		suite_add_tcase(s, tc);
	tc = tcase_create("output");
	tcase_add_test(tc, outfile_appears_only_at_commit_under_its_final_name);
	tcase_add_test(tc, outfile_abort_leaves_neither_file_nor_temporary);
	tcase_add_test(tc, outfile_in_a_missing_directory_fails_naming_the_path);
	tcase_add_test(tc, log_file_holds_exactly_the_captured_lines_and_their_digest);
	tcase_add_test(tc, log_freed_without_finish_leaves_no_file);
		suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(mm_suite());
}
