/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of the run's counters. */
#include "sim/core/counters.h"

#include <string.h>

static const char *const counter_names[SIM_CTR_COUNT] = {
#define SIM_COUNTER_NAME(id, name) [SIM_CTR_##id] = name,
	SIM_COUNTER_LIST(SIM_COUNTER_NAME)
#undef SIM_COUNTER_NAME
};

const char *
sim_counter_name(SimCounter id)
{
	return counter_names[id];
}

/* The counter a trace or the stats name, by its dotted name. */
gboolean
sim_counter_lookup(const char *name, SimCounter *out)
{
	for (guint i = 0; i < SIM_CTR_COUNT; i++) {
		if (strcmp(counter_names[i], name) == 0) {
			*out = (SimCounter)i;
			return TRUE;
		}
	}
	return FALSE;
}
