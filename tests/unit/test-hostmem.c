/* SPDX-License-Identifier: GPL-2.0-only */
/* sim/core: frames, quarantine, residency in GPA pages, counters and the page-table pool. */
#include "tests/unit/core-support.h"

/* ---------------------------------------------------------------------------------------------
 * Host memory
 */


typedef struct {
	guint frees;
	SimPfn freed;
	guint corrupts;
	SimPfn corrupt_pfn;
	guint corrupt_offset;
} HookLog;

static void
on_free(gpointer data, SimPfn pfn)
{
	HookLog *h = data;

	h->frees++;
	h->freed = pfn;
}

static void
on_corrupt(gpointer data, SimPfn pfn, guint offset)
{
	HookLog *h = data;

	h->corrupts++;
	h->corrupt_pfn = pfn;
	h->corrupt_offset = offset;
}

static SimHostMem *
hostmem_new(guint64 nr_frames, guint quarantine, HookLog *hooks)
{
	g_autoptr(GError) error = NULL;
	SimHostMem *hm = sim_hostmem_new(nr_frames, quarantine, NULL, &error);

	ck_assert_msg(hm != NULL, "%s", error ? error->message : "");
	ck_assert(sim_hostmem_add_window(hm, WINDOW_GPA, WINDOW_SIZE, &error));
	if (hooks)
		sim_hostmem_set_hooks(hm, on_free, on_corrupt, hooks);
	return hm;
}

/* Is every byte of buf equal to byte? */
START_TEST(new_frame_reads_zeros)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);

	ck_assert(sim_frame_allocated(hm, pfn));
	ck_assert(frame_is_filled_with(hm, pfn, 0));
}
END_TEST

START_TEST(reused_frame_reads_zeros_not_its_old_content)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 0, NULL);
	SimPfn pfn = sim_frame_alloc(hm);
	guint32 gen = sim_frame_gen(hm, pfn);

	sim_frame_write(hm, pfn, 100, "secret", 6);
	sim_frame_free(hm, pfn);
	ck_assert_uint_eq(sim_frame_alloc(hm), pfn); /* no quarantine: it comes straight back */
	ck_assert_uint_eq(sim_frame_gen(hm, pfn), gen + 1);
	ck_assert(frame_is_filled_with(hm, pfn, 0));
}
END_TEST

START_TEST(freed_frame_is_poisoned_in_its_storage)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);

	sim_frame_write(hm, pfn, 0, "data", 4);
	sim_frame_free(hm, pfn);
	ck_assert(!sim_frame_allocated(hm, pfn));
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

START_TEST(freed_frame_poisons_the_gpa_page_that_holds_it_and_clears_the_holder)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn pfn = sim_frame_alloc(hm);
	guint64 gpa = WINDOW_GPA + 3 * SIM_PAGE_SIZE;

	sim_hostmem_make_resident(hm, gpa, pfn);
	sim_frame_write(hm, pfn, 0, "data", 4);
	ck_assert_int_eq(memcmp(sim_hostmem_gpa_ptr(hm, gpa), "data", 4), 0);
	sim_frame_free(hm, pfn);
	ck_assert(all_bytes(sim_hostmem_gpa_ptr(hm, gpa), SIM_PAGE_SIZE, SIM_POISON_FREE));
	ck_assert_uint_eq(sim_hostmem_resident(hm, gpa), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, pfn), G_MAXUINT64);
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

/* Host memory with a quarantine of one frame and two frames allocated: victim, to be freed and
 * written after its free, and other, whose free pushes victim out of the quarantine. */
static SimHostMem *
hostmem_with_victim(HookLog *hooks, SimPfn *victim, SimPfn *other)
{
	SimHostMem *hm = hostmem_new(8, 1, hooks);

	*victim = sim_frame_alloc(hm);
	*other = sim_frame_alloc(hm);
	return hm;
}

/* Free other, which pushes victim out of a quarantine of one frame, and allocate victim again:
 * the poison check runs on it. */
static void
reuse_after_quarantine(SimHostMem *hm, SimPfn victim, SimPfn other)
{
	sim_frame_free(hm, other);
	ck_assert_uint_eq(sim_frame_alloc(hm), victim);
}

/* The corrupt hook ran once, for pfn at offset. */
static void
assert_one_report(const HookLog *hooks, SimPfn pfn, guint offset)
{
	ck_assert_uint_eq(hooks->corrupts, 1);
	ck_assert_uint_eq(hooks->corrupt_pfn, pfn);
	ck_assert_uint_eq(hooks->corrupt_offset, offset);
}

START_TEST(write_after_free_is_reported_once_the_frame_leaves_quarantine)
{
	HookLog hooks = { 0 };
	SimPfn victim, other;
	g_autoptr(SimHostMem) hm = hostmem_with_victim(&hooks, &victim, &other);

	sim_frame_free(hm, victim);
	sim_frame_write(hm, victim, 123, "x", 1); /* the use after free */
	reuse_after_quarantine(hm, victim, other);
	assert_one_report(&hooks, victim, 123);
}
END_TEST

/* The poison check compares the whole page at once: it must still name the first byte written,
 * wherever in a word or block it lies, even when one bit of it differs from poison. */
START_TEST(write_after_free_reports_the_first_byte_written_at_any_offset)
{
	static const guint offsets[] = { 0, 1, 7, 8, 31, 32, 33, 2047, 4088, 4095 };

	for (guint i = 0; i < G_N_ELEMENTS(offsets); i++) {
		HookLog hooks = { 0 };
		SimPfn victim, other;
		g_autoptr(SimHostMem) hm = hostmem_with_victim(&hooks, &victim, &other);
		guint8 one_bit_off = SIM_POISON_FREE ^ 0x80;

		sim_frame_free(hm, victim);
		sim_frame_write(hm, victim, offsets[i], &one_bit_off, 1);
		if (offsets[i] + 3 < SIM_PAGE_SIZE)
			sim_frame_write(hm, victim, offsets[i] + 3, "z", 1);
		reuse_after_quarantine(hm, victim, other);
		assert_one_report(&hooks, victim, offsets[i]);
	}
}
END_TEST

/* A freed frame's storage is poisoned lazily: a partial write after the free lands on poison,
 * not on what the frame held, even when a GPA page held it when it was freed. */
START_TEST(write_after_free_of_a_resident_frame_is_reported_at_the_byte_written)
{
	HookLog hooks = { 0 };
	SimPfn victim, other;
	g_autoptr(SimHostMem) hm = hostmem_with_victim(&hooks, &victim, &other);
	guint64 gpa = WINDOW_GPA + 2 * SIM_PAGE_SIZE;

	sim_hostmem_make_resident(hm, gpa, victim);
	sim_frame_write(hm, victim, 0, "data", 4);
	sim_frame_free(hm, victim);
	ck_assert(frame_is_filled_with(hm, victim, SIM_POISON_FREE));
	sim_frame_write(hm, victim, 123, "x", 1);
	reuse_after_quarantine(hm, victim, other);
	assert_one_report(&hooks, victim, 123);
	ck_assert(frame_is_filled_with(hm, victim, 0));
}
END_TEST

/* Copy a frame into a victim freed before it (a migration to a stale pfn): the source holds
 * content if not NULL, else it is a fresh (lazily zero) frame. Reported at byte expect when
 * the victim leaves quarantine, as a write would be. */
static void
assert_copy_into_a_freed_frame_reported(const guint8 *content, guint expect)
{
	HookLog hooks = { 0 };
	SimPfn victim, other;
	g_autoptr(SimHostMem) hm = hostmem_with_victim(&hooks, &victim, &other);
	SimPfn src = sim_frame_alloc(hm);

	if (content)
		sim_frame_write(hm, src, 0, content, SIM_PAGE_SIZE);
	sim_frame_free(hm, victim);
	sim_frame_copy(hm, victim, src);
	reuse_after_quarantine(hm, victim, other);
	assert_one_report(&hooks, victim, expect);
}

START_TEST(copy_into_a_freed_frame_is_reported)
{
	guint8 page[SIM_PAGE_SIZE];

	memset(page, SIM_POISON_FREE, sizeof(page));
	page[700] = 0;
	assert_copy_into_a_freed_frame_reported(page, 700);
}
END_TEST

/* A zero frame's copy too, though the source holds nothing but the lazy zeros. */
START_TEST(copy_of_a_zero_frame_into_a_freed_frame_is_reported)
{
	assert_copy_into_a_freed_frame_reported(NULL, 0);
}
END_TEST

START_TEST(untouched_frame_comes_out_of_quarantine_unreported)
{
	HookLog hooks = { 0 };
	SimPfn victim, other;
	g_autoptr(SimHostMem) hm = hostmem_with_victim(&hooks, &victim, &other);

	sim_frame_free(hm, victim);
	reuse_after_quarantine(hm, victim, other);
	ck_assert_uint_eq(hooks.corrupts, 0);
}
END_TEST

START_TEST(making_a_frame_resident_writes_the_previous_one_back_and_loads_the_new_one)
{
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, NULL);
	SimPfn first = sim_frame_alloc(hm);
	SimPfn second = sim_frame_alloc(hm);
	guint64 gpa = WINDOW_GPA + SIM_PAGE_SIZE;
	guint8 buf[8];

	sim_frame_write(hm, first, 0, "first", 6);
	sim_frame_write(hm, second, 0, "second", 7);
	sim_hostmem_make_resident(hm, gpa, first);
	ck_assert_str_eq((const char *)sim_hostmem_gpa_ptr(hm, gpa), "first");
	/* the guest writes through the GPA page */
	memcpy(sim_hostmem_gpa_ptr(hm, gpa), "FIRST", 6);
	sim_hostmem_make_resident(hm, gpa, second);
	ck_assert_str_eq((const char *)sim_hostmem_gpa_ptr(hm, gpa), "second");
	ck_assert_uint_eq(sim_hostmem_resident(hm, gpa), second);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, first), G_MAXUINT64);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, second), gpa);
	sim_frame_read(hm, first, 0, buf, 6);
	ck_assert_str_eq((const char *)buf, "FIRST");
}
END_TEST

/* The code hook's calls: how many, the last page. */
typedef struct {
	guint calls;
	guint64 gpa;
} CodeLog;

static void
on_code_changed(gpointer data, guint64 gpa, guint64 size)
{
	CodeLog *c = data;

	ck_assert_uint_eq(size, SIM_PAGE_SIZE);
	c->calls++;
	c->gpa = gpa;
}

/* Every way hostmem changes a code page's bytes calls the hook once; a migration (the same bytes
 * in a new frame, the old one freed), the same operations on a data page, a read and a reload of
 * the frame already held call nothing. */
START_TEST(changes_to_a_page_code_ran_from_call_the_code_hook_and_no_other_does)
{
	g_autoptr(SimHostMem) hm = hostmem_new(16, 4, NULL);
	guint64 code = WINDOW_GPA + SIM_PAGE_SIZE, data = WINDOW_GPA + 2 * SIM_PAGE_SIZE;
	SimPfn a = sim_frame_alloc(hm), b = sim_frame_alloc(hm), c = sim_frame_alloc(hm);
	SimPfn d = sim_frame_alloc(hm), e = sim_frame_alloc(hm), f = sim_frame_alloc(hm);
	CodeLog log = { 0 };
	guint8 byte = 0x90;

	sim_hostmem_set_code_hook(hm, on_code_changed, &log);
	sim_frame_write(hm, a, 0, "code", 4);
	sim_frame_write(hm, c, 0, "other", 5);
	sim_hostmem_make_resident(hm, code, a);
	sim_hostmem_make_resident(hm, data, d);
	ck_assert_uint_eq(log.calls, 0); /* nobody ran code yet */
	sim_hostmem_note_code(hm, code + 0x123);
	sim_hostmem_make_resident(hm, code, a);         /* already held: nothing changes */
	sim_frame_read(hm, a, 0, &byte, 1);
	ck_assert_uint_eq(log.calls, 0);
	/* a migration: copied to b, a freed (its page poisoned), b loaded: the same bytes */
	sim_frame_copy(hm, b, a);
	sim_frame_free(hm, a);
	ck_assert_uint_eq(log.calls, 0);
	sim_hostmem_make_resident(hm, code, b);
	ck_assert_uint_eq(log.calls, 0);
	sim_frame_write(hm, b, 7, &byte, 1);            /* a host write to the resident frame */
	sim_frame_write(hm, f, 7, &byte, 1);            /* ... to one no page holds */
	ck_assert_uint_eq(log.calls, 1);
	ck_assert_uint_eq(log.gpa, code);
	sim_frame_copy(hm, b, c);                       /* copied into */
	ck_assert_uint_eq(log.calls, 2);
	sim_frame_free(hm, b);                          /* MADV_DONTNEED ... */
	ck_assert_uint_eq(log.calls, 2);
	sim_hostmem_make_resident(hm, code, SIM_ZERO_PFN); /* ... and the refault's zero page */
	ck_assert_uint_eq(log.calls, 3);
	sim_hostmem_make_resident(hm, code, f);         /* another frame with other bytes */
	ck_assert_uint_eq(log.calls, 4);
	sim_hostmem_content_changed(hm, code - 1, 2);   /* written around the accessors */
	ck_assert_uint_eq(log.calls, 5);
	/* the data page: the same operations cost nothing */
	sim_hostmem_make_resident(hm, data, e);
	sim_frame_write(hm, e, 0, &byte, 1);
	sim_frame_copy(hm, e, c);
	sim_frame_free(hm, e);
	sim_hostmem_make_resident(hm, data, SIM_ZERO_PFN);
	sim_hostmem_content_changed(hm, data, SIM_PAGE_SIZE);
	ck_assert_uint_eq(log.calls, 5);
	ck_assert_uint_eq(log.gpa, code);
}
END_TEST

START_TEST(frame_pinned_by_get_is_freed_only_at_the_last_put)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(8, 4, &hooks);
	SimPfn pfn = sim_frame_alloc(hm);

	sim_frame_get(hm, pfn);
	sim_frame_get(hm, pfn);
	sim_frame_write(hm, pfn, 0, "pinned", 6);
	sim_frame_free(hm, pfn);
	ck_assert(sim_frame_allocated(hm, pfn));
	sim_frame_put(hm, pfn);
	ck_assert(sim_frame_allocated(hm, pfn));
	ck_assert_uint_eq(hooks.frees, 0);
	ck_assert(!frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
	sim_frame_put(hm, pfn);
	ck_assert(!sim_frame_allocated(hm, pfn));
	ck_assert_uint_eq(hooks.frees, 1);
	ck_assert_uint_eq(hooks.freed, pfn);
	ck_assert(frame_is_filled_with(hm, pfn, SIM_POISON_FREE));
}
END_TEST

START_TEST(zero_page_is_shared_by_gpa_pages_and_reads_zeros)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(4, 4, &hooks);

	ck_assert(sim_frame_allocated(hm, SIM_ZERO_PFN));
	sim_hostmem_make_resident(hm, WINDOW_GPA, SIM_ZERO_PFN);
	sim_hostmem_make_resident(hm, WINDOW_GPA + SIM_PAGE_SIZE, SIM_ZERO_PFN);
	ck_assert_uint_eq(sim_hostmem_resident(hm, WINDOW_GPA), SIM_ZERO_PFN);
	ck_assert_uint_eq(sim_hostmem_resident(hm, WINDOW_GPA + SIM_PAGE_SIZE), SIM_ZERO_PFN);
	ck_assert_uint_eq(sim_frame_resident_gpa(hm, SIM_ZERO_PFN), G_MAXUINT64);
	ck_assert(frame_is_filled_with(hm, SIM_ZERO_PFN, 0));
	/* leaving it for a real frame checks it still reads as zeros: it does */
	sim_hostmem_make_resident(hm, WINDOW_GPA, sim_frame_alloc(hm));
	ck_assert_uint_eq(hooks.corrupts, 0);
}
END_TEST

START_TEST(a_write_to_a_gpa_page_holding_the_zero_page_is_reported)
{
	HookLog hooks = { 0 };
	g_autoptr(SimHostMem) hm = hostmem_new(4, 4, &hooks);

	sim_hostmem_make_resident(hm, WINDOW_GPA, SIM_ZERO_PFN);
	/* what a stale writable translation would let the guest do */
	sim_hostmem_gpa_ptr(hm, WINDOW_GPA)[0x123] = 0x5a;
	sim_hostmem_make_resident(hm, WINDOW_GPA, sim_frame_alloc(hm));
	ck_assert_uint_eq(hooks.corrupts, 1);
	ck_assert_uint_eq(hooks.corrupt_pfn, SIM_ZERO_PFN);
	ck_assert_uint_eq(hooks.corrupt_offset, 0x123);
	/* the new holder starts from zeros, not from what was written */
	ck_assert_uint_eq(sim_hostmem_gpa_ptr(hm, WINDOW_GPA)[0x123], 0);
}
END_TEST

START_TEST(allocation_fails_when_the_arena_is_exhausted)
{
	g_autoptr(SimHostMem) hm = hostmem_new(3, 4, NULL);

	for (guint i = 0; i < 3; i++)
		ck_assert_uint_ne(sim_frame_alloc(hm), SIM_PFN_NONE);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
}
END_TEST

START_TEST(quarantine_gives_way_when_the_arena_is_exhausted)
{
	g_autoptr(SimHostMem) hm = hostmem_new(2, 8, NULL);
	SimPfn first = sim_frame_alloc(hm);

	ck_assert_uint_ne(sim_frame_alloc(hm), SIM_PFN_NONE);
	sim_frame_free(hm, first);
	ck_assert_uint_eq(sim_frame_alloc(hm), first);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
}
END_TEST

/* A fixed script of allocations and frees; the pfns handed out, as text. */
static gchar *
allocation_script(void)
{
	g_autoptr(SimHostMem) hm = hostmem_new(16, 2, NULL);
	GString *out = g_string_new(NULL);
	SimPfn p[8];

	for (guint i = 0; i < 4; i++)
		p[i] = sim_frame_alloc(hm);
	sim_frame_free(hm, p[1]);
	sim_frame_free(hm, p[0]);
	sim_frame_free(hm, p[2]); /* quarantine holds 2: p[1] leaves it first */
	for (guint i = 4; i < 8; i++)
		p[i] = sim_frame_alloc(hm);
	for (guint i = 0; i < 8; i++)
		g_string_append_printf(out, "%s0x%" G_GINT64_MODIFIER "x", i ? " " : "", p[i]);
	return g_string_free(out, FALSE);
}

START_TEST(allocation_order_is_deterministic_and_reuses_frames_fifo)
{
	g_autofree gchar *first = allocation_script();
	g_autofree gchar *second = allocation_script();

	ck_assert_str_eq(first, second);
	/* four fresh frames; p[1], pushed out of the quarantine by the third free, comes back
	 * first; then fresh frames again, while p[0] and p[2] wait in the quarantine */
	ck_assert_str_eq(first, "0x80000 0x80001 0x80002 0x80003 0x80001 0x80004 0x80005 0x80006");
}
END_TEST

/* The free list is a ring that grows when full: frames still come back in the order they were
 * freed when it grows while its oldest entry is not at the start of its storage. */
START_TEST(frames_come_back_in_the_order_they_were_freed_however_many_wait)
{
	g_autoptr(SimHostMem) hm = hostmem_new(200, 0, NULL);
	SimPfn p[200];

	for (guint i = 0; i < 200; i++)
		p[i] = sim_frame_alloc(hm);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
	for (guint i = 0; i < 50; i++)
		sim_frame_free(hm, p[i]);
	for (guint i = 0; i < 30; i++)
		ck_assert_uint_eq(sim_frame_alloc(hm), p[i]);
	for (guint i = 50; i < 150; i++)
		sim_frame_free(hm, p[i]);
	for (guint i = 30; i < 150; i++)
		ck_assert_uint_eq(sim_frame_alloc(hm), p[i]);
	ck_assert_uint_eq(sim_frame_alloc(hm), SIM_PFN_NONE);
}
END_TEST

/* ---------------------------------------------------------------------------------------------
 * Counters and the page-table pool
 */

START_TEST(every_counter_name_looks_up_to_its_counter)
{
	for (guint i = 0; i < SIM_CTR_COUNT; i++) {
		SimCounter id;

		ck_assert_msg(sim_counter_lookup(sim_counter_name(i), &id), "%s", sim_counter_name(i));
		ck_assert_uint_eq(id, i);
	}
	SimCounter id;

	ck_assert(!sim_counter_lookup("host.migrat", &id));
	ck_assert_str_eq(sim_counter_name(SIM_CTR_HOST_MIGRATE), "host.migrate");
}
END_TEST

START_TEST(ptpool_hands_out_fixed_addresses_and_reuses_released_pages_fifo)
{
	g_autoptr(SimPtPool) pool = sim_ptpool_new(3, NULL);
	guint64 pa[5];
	guint64 *va[5];

	for (guint i = 0; i < 3; i++) {
		va[i] = sim_ptpool_alloc(pool, &pa[i]);
		ck_assert_ptr_nonnull(va[i]);
		ck_assert_uint_eq(pa[i], SIM_PT_BASE + i * SIM_PAGE_SIZE);
		ck_assert_ptr_eq(sim_ptpool_va(pool, pa[i]), va[i]);
		ck_assert_uint_eq(sim_ptpool_pa(pool, va[i] + 7), pa[i]);
	}
	ck_assert_ptr_null(sim_ptpool_alloc(pool, &pa[3]));
	ck_assert_uint_eq(sim_ptpool_in_use(pool), 3);
	sim_ptpool_set_owner(pool, pa[2], pool);
	sim_ptpool_release(pool, pa[2]);
	sim_ptpool_release(pool, pa[0]);
	ck_assert_ptr_null(sim_ptpool_owner(pool, pa[2]));
	ck_assert_ptr_nonnull(sim_ptpool_alloc(pool, &pa[3]));
	ck_assert_ptr_nonnull(sim_ptpool_alloc(pool, &pa[4]));
	ck_assert_uint_eq(pa[3], pa[2]);
	ck_assert_uint_eq(pa[4], pa[0]);
	ck_assert_ptr_null(sim_ptpool_va(pool, SIM_PT_BASE + 3 * SIM_PAGE_SIZE));
}
END_TEST

static Suite *
hostmem_suite(void)
{
	Suite *s = suite_create("hostmem");
	TCase *tc;

	tc = tcase_create("hostmem");
	tcase_add_test(tc, new_frame_reads_zeros);
	tcase_add_test(tc, reused_frame_reads_zeros_not_its_old_content);
	tcase_add_test(tc, freed_frame_is_poisoned_in_its_storage);
	tcase_add_test(tc, freed_frame_poisons_the_gpa_page_that_holds_it_and_clears_the_holder);
	tcase_add_test(tc, changes_to_a_page_code_ran_from_call_the_code_hook_and_no_other_does);
	tcase_add_test(tc, write_after_free_is_reported_once_the_frame_leaves_quarantine);
	tcase_add_test(tc, write_after_free_reports_the_first_byte_written_at_any_offset);
	tcase_add_test(tc, write_after_free_of_a_resident_frame_is_reported_at_the_byte_written);
	tcase_add_test(tc, copy_into_a_freed_frame_is_reported);
	tcase_add_test(tc, copy_of_a_zero_frame_into_a_freed_frame_is_reported);
	tcase_add_test(tc, untouched_frame_comes_out_of_quarantine_unreported);
	tcase_add_test(tc, making_a_frame_resident_writes_the_previous_one_back_and_loads_the_new_one);
	tcase_add_test(tc, frame_pinned_by_get_is_freed_only_at_the_last_put);
	tcase_add_test(tc, zero_page_is_shared_by_gpa_pages_and_reads_zeros);
	tcase_add_test(tc, a_write_to_a_gpa_page_holding_the_zero_page_is_reported);
	tcase_add_test(tc, allocation_fails_when_the_arena_is_exhausted);
	tcase_add_test(tc, quarantine_gives_way_when_the_arena_is_exhausted);
	tcase_add_test(tc, allocation_order_is_deterministic_and_reuses_frames_fifo);
	tcase_add_test(tc, frames_come_back_in_the_order_they_were_freed_however_many_wait);
		suite_add_tcase(s, tc);
	tc = tcase_create("tables");
	tcase_add_test(tc, every_counter_name_looks_up_to_its_counter);
	tcase_add_test(tc, ptpool_hands_out_fixed_addresses_and_reuses_released_pages_fifo);
		suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(hostmem_suite());
}
