/* SPDX-License-Identifier: GPL-2.0-only */
/* The --stats JSON of a run: counters as nested objects, the guest's verdict and console. */
#ifndef KVMSIM_SIM_REPORT_STATS_H
#define KVMSIM_SIM_REPORT_STATS_H

#include <glib.h>

#include "sim/core/sched.h"
#include "sim/vmm/vmm.h"

/* The stats as JSON text (deterministic: fixed key order, no pointers or times). */
gchar *sim_report_stats_json(const SimVmm *vmm, const SimSched *sched, const char *log_digest);

#endif
