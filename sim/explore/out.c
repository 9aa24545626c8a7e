/* SPDX-License-Identifier: GPL-2.0-only */
/* A run written as a trace: the target's machine and events, the run's schedule, its verdict. */
#include "sim/explore/explore-internal.h"

#include <string.h>

/* The target's header, machine, workload and events, copied (no schedule, no expectations). */
static Trace *
copy_target(const Trace *t)
{
	Trace *out = trace_new();

	out->comment = g_strdup(t->comment);
	out->kvmsim_version = g_strdup(KVMSIM_VERSION);
	out->seed = t->seed;
	out->mutations = t->mutations;
	out->nr_vcpus = t->nr_vcpus;
	out->vm_type = t->vm_type;
	out->gmem_conversion = t->gmem_conversion;
	out->mem = t->mem;
	out->gmem_size = t->gmem_size;
	out->gmem_flags = t->gmem_flags;
	out->quantum = t->quantum;
	out->max_insns = t->max_insns;
	out->thp = t->thp;
	out->asi = t->asi;
	out->nx_huge_pages = t->nx_huge_pages;
	out->hv_tlb_flush = t->hv_tlb_flush;
	out->ept_ad = t->ept_ad;
	g_array_append_vals(out->memslots, t->memslots->data, t->memslots->len);
	out->workload = g_strdup(t->workload);
	out->guest = g_strdup(t->guest);
	out->image_sha256 = g_strdup(t->image_sha256);
	out->arg = g_strdup(t->arg);
	memcpy(out->params, t->params, sizeof(out->params));
	out->boot_flags = t->boot_flags;
	for (guint i = 0; i < t->events->len; i++) {
		TraceEvent e = g_array_index(t->events, TraceEvent, i);

		e.actor = g_strdup(e.actor);
		g_array_append_val(out->events, e);
	}
	return out;
}

Trace *
explore_run_to_trace(const ExploreTarget *target, ExploreRun *run)
{
	Trace *trace;

	if (run->recorded) {
		trace = run->recorded;
		run->recorded = NULL;
		g_array_set_size(trace->expects, 0);
	} else {
		trace = copy_target(target->trace);
		trace->policy = SIM_POLICY_STEPS;
		trace->then = SIM_POLICY_ROUND_ROBIN;
		trace->packed = TRUE;
		for (guint i = 0; run->steps_taken && i < run->steps_taken->len; i++) {
			const SimStep *s = g_ptr_array_index(run->steps_taken, i);
			TraceStep ts = { { g_strdup(s->actor), g_strdup(s->until), s->count }, 0 };

			g_array_append_val(trace->steps, ts);
		}
	}
	g_autofree gchar *was = trace->comment;

	trace->comment = g_strdup_printf("\n  Written by kvmsim explore from %s: %s%s%s.\n%s",
					 target->name, run->failed ?
					 "a shrunk schedule under which invariant " : "a schedule",
					 run->failed ? run->invariant : "", run->failed ? " fails" : "",
					 was ? was : "");
	TraceExpect hold = { .kind = TRACE_EXPECT_INVARIANTS, .hold = !run->failed };

	if (run->failed && strcmp(run->invariant, "guest_verdict") == 0) {
		/* what failed is the guest: the trace expects its result, the invariants held */
		TraceExpect guest = { .kind = TRACE_EXPECT_GUEST,
				      .result = g_strdup(run->guest_result) };

		g_array_append_val(trace->expects, guest);
		hold.hold = TRUE;
		g_array_append_val(trace->expects, hold);
		return trace;
	}
	g_array_append_val(trace->expects, hold);
	if (run->failed && strcmp(run->invariant, "deadlock") != 0) {
		TraceExpect ev = { .kind = TRACE_EXPECT_EVENT, .count = -1, .want_present = TRUE,
				   .match = g_strdup_printf("sim_invariant: %s: ", run->invariant) };

		g_array_append_val(trace->expects, ev);
	}
	return trace;
}
