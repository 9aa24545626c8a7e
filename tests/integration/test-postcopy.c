/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Post-copy on whole machines (sim/vmm/postcopy.c): every mechanism brings the seeded image to a
 * guest that checks it, costs what its design says, and the invariants catch a page mapped before
 * its content arrived.
 */
#include "tests/check-run.h"
#include <string.h>

#include "sim/core/uffd.h"
#include "sim/trace/trace-internal.h"
#include "sim/vmm/postcopy.h"
#include "tests/integration/machine.h"

/* The postcopy workload, 4 vCPUs, 1 MiB, under mech. */
static Machine *
run_postcopy(const char *mech)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = "postcopy";
	cfg.nr_vcpus = 4;
	cfg.mem_size = 1 << 20;
	cfg.postcopy = mech;
	cfg.postcopy_fetch_steps = 8;
	m = machine_new(&cfg, FALSE);
	machine_run(m);
	ck_assert_msg(sim_vmm_guest_result(m->vmm) == SIM_GUEST_PASS, "%s: %s / %s", mech,
		      sim_vmm_console(m->vmm), sim_vmm_error(m->vmm));
	ck_assert_ptr_nonnull(strstr(sim_vmm_console(m->vmm), "image_mismatch=0 image_zero=0"));
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_FETCHED), 256);
	return m;
}

/* userfaultfd: no exits; vCPUs sleep and contend for the wait queue's lock. */
START_TEST(uffd_sleeps_in_the_kernel_and_contends)
{
	Machine *m = run_postcopy("uffd");

	ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_EXITS), 0);
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_POSTCOPY_SPURIOUS_EXITS), 0);
	ck_assert_uint_ge(machine_counter(m, SIM_CTR_UFFD_FAULTS), 256);
	ck_assert_uint_ge(machine_counter(m, SIM_CTR_UFFD_WAKEUPS), 256);
	ck_assert_uint_gt(machine_counter(m, SIM_CTR_UFFD_WQ_LOCK_BLOCKED), 0);
	machine_free(m);
}
END_TEST

/* The exit-based designs: an exit per missing touch, no vCPU ever in userfaultfd. */
START_TEST(exit_based_designs_never_touch_the_wait_queue)
{
	static const char *const mechs[] = { "exit-on-missing", "userfault" };

	for (guint i = 0; i < G_N_ELEMENTS(mechs); i++) {
		Machine *m = run_postcopy(mechs[i]);

		ck_assert_uint_ge(machine_counter(m, SIM_CTR_POSTCOPY_EXITS), 256);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_EXITS_MEMORY_FAULT),
				  machine_counter(m, SIM_CTR_POSTCOPY_EXITS));
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_UFFD_FAULTS), 0);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_UFFD_WQ_LOCK_BLOCKED), 0);
		machine_free(m);
	}
}
END_TEST

/* Without post-copy the postcopy workload finds zeros, not the image, and says so. */
START_TEST(the_workload_fails_on_local_memory)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = "postcopy";
	cfg.nr_vcpus = 2;
	cfg.mem_size = 256 << 10;
	m = machine_new(&cfg, FALSE);
	machine_run(m);
	ck_assert(sim_vmm_guest_result(m->vmm) == SIM_GUEST_FAIL);
	ck_assert_ptr_nonnull(strstr(sim_vmm_console(m->vmm), "image_zero=64"));
	machine_free(m);
}
END_TEST

/* A VMM that places a page the source never sent (its own UFFDIO_COPY) is caught by
 * postcopy_mapped_before_content at the next check of that page. */
static gboolean rogue_done;

static gboolean
rogue_ended(gpointer data)
{
	return rogue_done;
}

static void
rogue_actor(SimActor *actor, gpointer data)
{
	Machine *m = data;
	guint8 page[SIM_PAGE_SIZE] = { 0 };
	SimUffd *rogue = sim_uffd_new(sim_vmm_mm(m->vmm));

	ck_assert_int_eq(sim_uffd_copy(rogue, 0x7f0000003000ull, page, TRUE), 0);
	for (guint i = 0; i < 64 && sim_vmm_postcopy_check(m->vmm); i++)
		sim_yield(m->sched, "vcpu.enter");
	sim_uffd_free(rogue);
	rogue_done = TRUE;
}

START_TEST(a_page_mapped_before_its_content_is_reported)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	SimVmmMemslot slot = { 0, 0, 64 << 10, 0x7f0000000000ull, 0, 0 };
	SimVmmWindow window = { 0, 64 << 10 };
	Machine *m;

	cfg.exit_level = TRUE;
	cfg.workload = "exit-level";
	cfg.nr_vcpus = 1;
	cfg.memslots = &slot;
	cfg.nr_memslots = 1;
	cfg.windows = &window;
	cfg.nr_windows = 1;
	cfg.postcopy = "uffd";
	m = machine_new(&cfg, TRUE);
	sim_actor_new(m->sched, "vmm", rogue_actor, m);
	sim_vmm_postcopy_start(m->vmm, rogue_ended, NULL);
	ck_assert(!sim_sched_run(m->sched, NULL) || sim_sched_failed(m->sched));
	ck_assert(sim_sched_failed(m->sched));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(m->sched),
				     "invariant postcopy_mapped_before_content violated: gpa 0x3000"));
	machine_free(m);
}
END_TEST

/* The schema names exactly the mechanisms the VMM has, in its order, so a trace with another
 * mech is refused when it is read (exit 2), not when its machine is built. */
START_TEST(the_schema_lists_every_mechanism)
{
	const char *from = strstr(trace_schema_rng, "<element name=\"postcopy\">");
	const char *to = from ? strstr(from, "</element>") : NULL;
	guint n, listed = 0;
	const SimPostcopyMech *mechs = sim_postcopy_mechs(&n);

	ck_assert_ptr_nonnull(to);
	for (const char *v = from; (v = strstr(v, "<value>")) && v < to; v += 7) {
		ck_assert_uint_lt(listed, n);
		ck_assert_msg(strncmp(v + 7, mechs[listed].name, strlen(mechs[listed].name)) == 0 &&
				      v[7 + strlen(mechs[listed].name)] == '<',
			      "schema value %u is not mechanism %s", listed, mechs[listed].name);
		listed++;
	}
	ck_assert_uint_eq(listed, n);
}
END_TEST

static Suite *
postcopy_suite(void)
{
	Suite *s = suite_create("postcopy-machine");
	TCase *tc = tcase_create("mechanisms");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, uffd_sleeps_in_the_kernel_and_contends);
	tcase_add_test(tc, exit_based_designs_never_touch_the_wait_queue);
	tcase_add_test(tc, the_workload_fails_on_local_memory);
	tcase_add_test(tc, the_schema_lists_every_mechanism);
	suite_add_tcase(s, tc);
	tc = tcase_create("invariants");
	tcase_add_test(tc, a_page_mapped_before_its_content_is_reported);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(postcopy_suite());
}
