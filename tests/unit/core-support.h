/* SPDX-License-Identifier: GPL-2.0-only */
/* What the sim/core suites (test-sched, test-hostmem, test-mm) share. */
#ifndef KVMSIM_TESTS_UNIT_CORE_SUPPORT_H
#define KVMSIM_TESTS_UNIT_CORE_SUPPORT_H

#include "tests/check-run.h"
#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/counters.h"
#include "sim/core/host-events.h"
#include "sim/core/hostmem.h"
#include "sim/core/lock.h"
#include "sim/core/log.h"
#include "sim/core/mm.h"
#include "sim/core/outfile.h"
#include "sim/core/ptpool.h"
#include "sim/core/sched.h"

/* The messages of the test_ev events in a captured log, space separated: "a@p1 b@p1 ...". */
gchar *log_events(const char *log_text);
/* Log a test_ev event "ACTOR@what". */
void emit(SimSched *sched, const char *what);

/* An actor that, at each of its points, says so and then yields there; "end" when it returns. */
typedef struct {
	SimSched *sched;
	const char *const *points; /* NULL-terminated */
} Script;
void script_actor(SimActor *actor, gpointer data);
extern const char *const three_points[];

/* A scheduler with a capturing log. */
SimSched *sched_with_log(guint64 seed, SimLog **out_log);
void run_or_abort(SimSched *sched);
/* Run actors a, b and c, each yielding at p1, p2, p3; the captured log. */
gchar *run_three(guint64 seed, SimPolicy policy, gboolean record, SimSched **out_sched);

/* A guest RAM window for host-memory tests. */
#define WINDOW_GPA 0x100000ull
#define WINDOW_SIZE (16 * SIM_PAGE_SIZE)
/* Whether every byte of buf (or of the frame's content) is byte. */
gboolean all_bytes(const guint8 *buf, gsize len, guint8 byte);
gboolean frame_is_filled_with(SimHostMem *hm, SimPfn pfn, guint8 byte);


#endif
