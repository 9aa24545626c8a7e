/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The timeline: a run as Chrome trace-event JSON (the Trace Event Format Perfetto, chrome://tracing
 * and speedscope read), one track (thread) per actor. It is built by watching the run through the
 * observer hooks (sim/core/observe.h) - yield points, mmu_lock operations and log lines - so the
 * event log itself is unchanged, byte for byte.
 *
 * What it shows: slices (B/E) for guest execution (kvm_entry to kvm_exit), each exit and its
 * handling (kvm_exit to the next kvm_entry), page faults with their phases (fast path, pfn
 * lookup after the seq snapshot, the SPTE install), MMU-notifier and other invalidating operations
 * (invalidate_range_start, invalidate_range_end, fast zap, memslot and attribute updates), and
 * mmu_lock waits and holds by mode; async slices (b/e) for each mmu_invalidate window
 * (begin to end); instants for SPTE changes, retries, TLB flushes and invariant failures; counters
 * for mmu_invalidate_seq and mmu_invalidate_in_progress; and flow arrows (s/f) from each
 * invalidation that moved the seq (or was in progress) to the fault that retried because of it.
 *
 * Timestamps are logical, never wall time: ts = the step (yield points passed) plus the log lines
 * before the event, so that events of one step keep their order and a slice that logs has width.
 * The viewer shows them as microseconds. The same run gives the same bytes.
 */
#ifndef KVMSIM_SIM_REPORT_TIMELINE_H
#define KVMSIM_SIM_REPORT_TIMELINE_H

#include <glib.h>

#include "sim/core/log.h"
#include "sim/core/sched.h"

typedef struct SimTimeline SimTimeline;

/* A timeline watching sched and log from now on (the log is switched on; its sinks, and so its
 * output, stay what they were). title names the run in the viewer. One timeline per scheduler. */
SimTimeline *sim_timeline_new(SimSched *sched, SimLog *log, const char *title);
/* Stop watching (before the scheduler or the log is freed); the events gathered stay. */
void sim_timeline_detach(SimTimeline *tl);
/* Close what is still open and write the JSON to path (atomically, sim/core/outfile.h). */
gboolean sim_timeline_write(SimTimeline *tl, const char *path, GError **error);
/* The JSON text, for tests. */
gchar *sim_timeline_to_json(SimTimeline *tl);
void sim_timeline_free(SimTimeline *tl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimTimeline, sim_timeline_free)

#endif
