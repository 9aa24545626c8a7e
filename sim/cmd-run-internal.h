/* SPDX-License-Identifier: GPL-2.0-only */
/* What kvmsim run's files share: its options, parsed in cmd-run-options.c, used in cmd-run.c;
 * one quiet run (cmd-run.c), used by the comparisons of cmd-run.c and cmd-postcopy.c. */
#ifndef KVMSIM_SIM_CMD_RUN_INTERNAL_H
#define KVMSIM_SIM_CMD_RUN_INTERNAL_H

#include "sim/cmd.h"
#include "sim/core/sched.h"
#include "sim/trace/replay.h"
#include "sim/vmm/vmm.h"

/* kvmsim run's options, as GOptionContext fills them in. */
typedef struct {
	gint vcpus;
	gchar *mem;
	gint64 seed;
	gchar *host_events;
	gint64 host_events_every;
	gchar *host_events_on;
	gint64 quantum;
	gboolean thp;
	gboolean nx_huge_pages;
	gboolean hv_tlb_flush;
	gint64 max_insns;
	gint64 watchdog;
	gchar *policy;
	gchar *log_path;
	gchar *stats_path;
	gchar *record_path;
	gchar *console_path;
	gchar *timeline_path;
	gchar *guest_path;
	gchar *arg;
	gchar *record_expect;
	gchar *vm_type;
	gchar *gmem_conversion;
	gchar *gmem_hugepage;
	gboolean compare_conversions;
	gchar *postcopy;
	gint64 postcopy_fetch_steps;
	gboolean compare_postcopy;
	gchar *log_format;
	gchar *trace_dat_path;
	gchar **params;
	gchar **mutate;
	gchar *asi;
	gchar *asi_api;
	gchar *asi_l1tf;
	gchar *asi_ibpb;
	gchar *asi_cost;
	gchar *asi_userspace;
	gchar *asi_vmexit_ibpb;
	gchar **rest;
	gint64 nmi;
	gchar *nmi_touch;
} RunOptions;

/* Free what GOptionContext filled in. */
void run_options_clear(RunOptions *o);
/* Check the options and build the machine's configuration from them; a usage error otherwise. */
gboolean run_make_config(const RunOptions *o, SimVmmConfig *cfg, SimPolicy *policy,
			 GBytes **out_image, TraceRecordExpect *expect, GError **error);
/* kvmsim run's options, filling in o (a copy the caller frees). */
GOptionEntry *run_entries(RunOptions *o);
/* One run of cfg on a scheduler of its own, without outputs; NULL if it could not be built or
 * run (error set). The caller frees the VMM, then *out_sched. */
SimVmm *run_quietly(const SimVmmConfig *cfg, SimPolicy policy, gint64 watchdog,
		    SimSched **out_sched, GError **error);

#endif
