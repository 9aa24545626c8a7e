/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim list: the built-in workloads. */
#include <stdio.h>

#include "sim/cmd.h"
#include "workloads/workloads.h"

int
kvmsim_cmd_list(int argc, char **argv)
{
	size_t n;
	const KvmsimWorkload *all = kvmsim_workload_all(&n);

	if (argc > 1)
		return kvmsim_usage_error("list takes no arguments");
	for (size_t i = 0; i < n; i++)
		printf("%-8s %s\n", all[i].name, all[i].summary);
	return KVMSIM_EXIT_OK;
}
