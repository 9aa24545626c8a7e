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
#include "sim/vmm/machine.h"

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

/*
 * The machine a trace describes, with one actor per actor its events name, on sched (whose
 * policy, log and chooser the caller sets). Errors read "FILE:LINE: ...". Shared by replay and
 * explore.
 */
SimMachine *trace_machine_new(const Trace *trace, SimSched *sched, GError **error);

/* What a report (a timeline, kvmsim show) does around a replay: start() once the machine is
 * built, before anything runs; finish() after the run (ran: it reached the end), before the
 * machine is freed. Either may be NULL. */
typedef struct {
	void (*start)(SimSched *sched, SimLog *log, SimVmm *vmm, gpointer data);
	void (*finish)(SimSched *sched, SimVmm *vmm, gboolean ran, gpointer data);
	gpointer data;
} TraceReplayHooks;

/* trace_replay() with hooks (NULL: none). */
gboolean trace_replay_hooked(const Trace *trace, const char *log_path, FILE *out,
			     TraceReplayReport *report, const TraceReplayHooks *hooks,
			     GError **error);

/* What a recorded trace expects (kvmsim run --record-expect). */
typedef enum {
	TRACE_RECORD_EXPECT_AUTO,    /* full if the run passed, minimal if it failed */
	TRACE_RECORD_EXPECT_MINIMAL, /* the guest passes and no invariant fails */
	TRACE_RECORD_EXPECT_FULL,    /* what the run did: counters, verdict, invariants, log hash */
} TraceRecordExpect;

/* Parse minimal or full; FALSE for anything else. */
gboolean trace_record_expect_lookup(const char *name, TraceRecordExpect *out);

/* The marks of a run being recorded: what its log held as each step ended, so that a replay
 * that parts from it can say where. Start it on a sched that records, with a log that hashes. */
typedef struct TraceRecording TraceRecording;
TraceRecording *trace_recording_start(SimSched *sched);
void trace_recording_free(TraceRecording *rec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TraceRecording, trace_recording_free)

/* The full-system trace of a finished run: its machine, workload, host events, the schedule it
 * took (packed, with the marks of rec), and the expectations expect asks for. */
Trace *trace_from_run(const SimVmm *vmm, const SimSched *sched, const char *log_digest,
		      const TraceRecording *rec, TraceRecordExpect expect);

#endif
