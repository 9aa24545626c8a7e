/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmsim run WORKLOAD --compare-postcopy: the same post-copy workload, seed and host events under
 * every post-copy mechanism (sim/vmm/postcopy-mech.c) at 1, 4, 16 and 64 vCPUs, one run after
 * the other in this process, and per page fetched what each cost (docs/postcopy.md).
 */
#include <stdio.h>

#include "sim/cmd-run-internal.h"
#include "sim/vmm/postcopy.h"

/* The vCPU counts of the comparison. */
static const guint compare_vcpus[] = { 1, 4, 16, 64 };

/* n / d with two decimals (d 0: "-"). */
static void
per_page(char *buf, gsize len, guint64 n, guint64 d)
{
	if (!d)
		g_snprintf(buf, len, "-");
	else
		g_snprintf(buf, len, "%.2f", (double)n / (double)d);
}

/* One configuration: run it, print its row; FALSE if it could not run or the guest failed. */
static gboolean
compare_one(const SimVmmConfig *base, const SimPostcopyMech *mech, guint vcpus, SimPolicy policy,
	    gint64 watchdog)
{
	SimVmmConfig cfg = *base;
	g_autoptr(GError) error = NULL;
	g_autoptr(SimSched) sched = NULL;
	SimPostcopyStats st;
	char exits[24], wakeups[24], blocked[24], spurious[24], useless[24];

	cfg.postcopy = mech->name;
	cfg.nr_vcpus = vcpus;
	g_autoptr(SimVmm) vmm = run_quietly(&cfg, policy, watchdog, &sched, &error);

	if (!vmm) {
		fprintf(stderr, "kvmsim: error: %s, %u vcpus: %s\n", mech->name, vcpus,
			error->message);
		return FALSE;
	}
	sim_postcopy_stats(sim_vmm_postcopy(vmm), &st);
	per_page(exits, sizeof(exits), st.exits, st.fetched);
	per_page(wakeups, sizeof(wakeups), st.wakeups, st.fetched);
	per_page(blocked, sizeof(blocked), st.lock_blocked, st.fetched);
	per_page(spurious, sizeof(spurious), st.spurious, st.fetched);
	per_page(useless, sizeof(useless), st.useless_apf, st.fetched);
	printf("| %-21s | %5u | %7" G_GUINT64_FORMAT " | %8s | %8s | %9s | %8s | %14s | %12"
	       G_GUINT64_FORMAT " | %-5s |\n", mech->name, vcpus, st.fetched, exits, wakeups,
	       blocked, spurious, useless, st.finished_at,
	       sim_guest_result_name(sim_vmm_guest_result(vmm)));
	if (sim_vmm_error(vmm))
		fprintf(stderr, "kvmsim: %s, %u vcpus: %s\n", mech->name, vcpus, sim_vmm_error(vmm));
	return sim_vmm_guest_result(vmm) == SIM_GUEST_PASS;
}

/* The table: a header, then one row per mechanism and vCPU count. */
int
kvmsim_run_compare_postcopy(const SimVmmConfig *base, SimPolicy policy, gint64 watchdog)
{
	guint n;
	const SimPostcopyMech *mechs = sim_postcopy_mechs(&n);
	g_autofree gchar *mem = g_format_size_full(base->mem_size, G_FORMAT_SIZE_IEC_UNITS);
	int status = KVMSIM_EXIT_OK;

	printf("kvmsim run %s --compare-postcopy: %s, seed %" G_GUINT64_FORMAT
	       ", fetch %" G_GUINT64_FORMAT " steps a page\n\n", base->workload, mem, base->seed,
	       base->postcopy_fetch_steps ? base->postcopy_fetch_steps :
					    (guint64)SIM_POSTCOPY_DEFAULT_FETCH_STEPS);
	printf("| mechanism             | vcpus | fetched | exits/pg | wakes/pg | wqlock/pg | "
	       "spur./pg | apf-useless/pg | steps to end | guest |\n");
	printf("|-----------------------|------:|--------:|---------:|---------:|----------:|"
	       "---------:|---------------:|-------------:|-------|\n");
	for (guint m = 0; m < n; m++)
		for (guint v = 0; v < G_N_ELEMENTS(compare_vcpus); v++)
			if (!compare_one(base, &mechs[m], compare_vcpus[v], policy, watchdog))
				status = KVMSIM_EXIT_FAIL;
	return status;
}
