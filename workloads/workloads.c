/* SPDX-License-Identifier: GPL-2.0-only */
/* The registry of guest programs; the list itself is generated from meson.build. */
#include <string.h>

#include "workloads/workloads.h"

#define KVMSIM_WORKLOAD(name, summary, symbol, size) extern const uint8_t symbol[];
#include "workloads-list.h"
#undef KVMSIM_WORKLOAD

static const KvmsimWorkload workloads[] = {
#define KVMSIM_WORKLOAD(name, summary, symbol, size) { name, summary, symbol, size },
#include "workloads-list.h"
#undef KVMSIM_WORKLOAD
};

#define NR_WORKLOADS (sizeof(workloads) / sizeof(workloads[0]))

const KvmsimWorkload *kvmsim_workload_lookup(const char *name)
{
	for (size_t i = 0; i < NR_WORKLOADS; i++) {
		if (strcmp(workloads[i].name, name) == 0)
			return &workloads[i];
	}
	return NULL;
}

const KvmsimWorkload *kvmsim_workload_all(size_t *out_count)
{
	*out_count = NR_WORKLOADS;
	return workloads;
}
