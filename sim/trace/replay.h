/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Running a trace and checking what it expects; turning a finished run into a trace.
 *
 * A full-system trace builds the machine `kvmsim run` builds for its workload; its notifier and
 * vmm actors perform the trace's host and memslot events. An exit-level trace builds a machine of
 * the MMU model alone and gives each vCPU actor the exits the trace lists. Either way the
 * schedule decides the interleaving, and every expectation is checked after the run.
 */
#ifndef KVMSIM_SIM_TRACE_REPLAY_H
#define KVMSIM_SIM_TRACE_REPLAY_H

#include <stdio.h>

#include "sim/trace/trace.h"
#include "sim/vmm/vmm.h"

typedef struct {
	guint passed;
	guint failed;
} TraceReplayReport;

/*
 * Replay trace and print one line per expectation ("PASS ..." / "FAIL ... (FILE:LINE)") to out;
 * with a log_path, also write the replay's event log there (atomically). FALSE with a
 * "FILE:LINE: ..." error if it cannot be run to the end (a machine that cannot be built, a
 * schedule the run does not follow): that is a failure too.
 */
gboolean trace_replay(const Trace *trace, const char *log_path, FILE *out,
		      TraceReplayReport *report, GError **error);

/* The full-system trace of a finished run: its machine, workload, host events, the schedule it
 * took, and as expectations its counters, the guest's verdict and the log hash. */
Trace *trace_from_run(const SimVmm *vmm, const SimSched *sched, const char *log_digest);

#endif
