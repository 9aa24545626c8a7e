/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim list: the built-in workloads. */
#include <stdio.h>

#include <string.h>

#include "sim/cmd.h"
#include "sim/core/invariants.h"
#include "sim/core/points.h"
#include "workloads/workloads.h"

/* kvmsim list --mutations: name, whether it is expected to survive, the bug, why it is safe. */
static int
list_mutations(void)
{
	for (guint m = 0; m < SIM_MUT_COUNT; m++) {
		const SimMutationInfo *info = sim_mutation_info(m);

		printf("%-26s %-6s %s\n", info->name, info->safe ? "safe" : "unsafe", info->bug);
		if (info->why_safe)
			printf("%-26s %-6s safe because %s\n", "", "", info->why_safe);
	}
	return KVMSIM_EXIT_OK;
}

/* kvmsim list [--points|--mutations|--invariants]: the workloads, the yield points a schedule may
 * name, the protocol mutations, or the invariants runs are checked against. */
int
kvmsim_cmd_list(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--mutations") == 0)
		return list_mutations();
	if (argc == 2 && strcmp(argv[1], "--points") == 0) {
		guint n;
		const SimPoint *points = sim_points(&n);

		for (guint i = 0; i < n; i++)
			printf("%-26s %s\n", points[i].name, points[i].what);
		return KVMSIM_EXIT_OK;
	}
	if (argc == 2 && strcmp(argv[1], "--invariants") == 0) {
		guint n;
		const SimInvariant *inv = sim_invariants(&n);

		for (guint i = 0; i < n; i++)
			printf("%-26s %s (checked: %s)\n", inv[i].name, inv[i].what, inv[i].where);
		return KVMSIM_EXIT_OK;
	}
	if (argc > 1)
		return kvmsim_usage_error("list takes no arguments but --points, --mutations or "
					  "--invariants");
	size_t n;
	const KvmsimWorkload *all = kvmsim_workload_all(&n);

	/* NAME+apf is NAME built with the async PF runtime, which --postcopy=async-pf* runs in
	 * NAME's place: not a workload of its own */
	for (size_t i = 0; i < n; i++)
		if (!g_str_has_suffix(all[i].name, "+apf"))
			printf("%-8s %s\n", all[i].name, all[i].summary);
	return KVMSIM_EXIT_OK;
}
