/* SPDX-License-Identifier: GPL-2.0-only */
/* The trace of a finished run: what `kvmsim run --record` writes. */
#include "sim/trace/replay.h"
#include "sim/trace/trace-internal.h"

#include <string.h>

#include "asi/nmi.h"
#include "mmu/mmu.h"

static const TraceEventKind host_kinds[SIM_HOST_NR_KINDS] = {
	[SIM_HOST_MIGRATE] = TRACE_EV_MIGRATE,
	[SIM_HOST_DONTNEED] = TRACE_EV_DONTNEED,
	[SIM_HOST_AGE] = TRACE_EV_AGE,
	[SIM_HOST_PUNCH] = TRACE_EV_PUNCH_HOLE,
	[SIM_HOST_CONVERT] = TRACE_EV_CONVERT,
	[SIM_HOST_DIRTYLOG] = TRACE_EV_DIRTY_LOG,
};

static void
add_expect(Trace *trace, TraceExpect x)
{
	g_array_append_val(trace->expects, x);
}

static const char *const expect_names[] = {
	[TRACE_RECORD_EXPECT_MINIMAL] = "minimal",
	[TRACE_RECORD_EXPECT_FULL] = "full",
};

gboolean
trace_record_expect_lookup(const char *name, TraceRecordExpect *out)
{
	for (guint i = TRACE_RECORD_EXPECT_MINIMAL; i < G_N_ELEMENTS(expect_names); i++) {
		if (strcmp(name, expect_names[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* The expectations of a recorded run. Full: every counter, the guest's verdict, whether an
 * invariant failed, the log hash; the replay must be the same run. Minimal: the guest passes and
 * no invariant fails, whatever this run did; a regression test that survives model changes, and
 * the default for a run that failed (its trace fails until the bug is fixed). */
static void
add_expects(Trace *trace, const SimVmm *vmm, const SimSched *sched, const char *log_digest,
	    TraceRecordExpect expect)
{
	SimGuestResult result = sim_vmm_guest_result(vmm);
	gboolean passed = result == SIM_GUEST_PASS && !sim_sched_failed(sched) &&
			  !sim_vmm_error(vmm);

	if (expect == TRACE_RECORD_EXPECT_AUTO)
		expect = passed ? TRACE_RECORD_EXPECT_FULL : TRACE_RECORD_EXPECT_MINIMAL;
	if (expect == TRACE_RECORD_EXPECT_MINIMAL) {
		add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_GUEST,
						 .result = g_strdup(sim_guest_result_name(
							 SIM_GUEST_PASS)) });
		add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_INVARIANTS, .hold = TRUE });
		return;
	}
	const SimCounters *counters = sim_vmm_counters(vmm);

	for (guint i = 0; i < SIM_CTR_COUNT; i++)
		add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_COUNTER,
						 .counter = g_strdup(sim_counter_name(i)),
						 .value = counters->v[i] });
	add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_GUEST,
					 .result = g_strdup(sim_guest_result_name(result)) });
	add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_INVARIANTS,
					 .hold = !sim_sched_failed(sched) });
	if (log_digest)
		add_expect(trace, (TraceExpect){ .kind = TRACE_EXPECT_LOG_HASH,
						 .hash = g_strdup(log_digest) });
}

/* The trace of a finished run: machine, workload, host events, steps, expectations. */
Trace *
trace_from_run(const SimVmm *vmm, const SimSched *sched, const char *log_digest,
	       const TraceRecording *rec, TraceRecordExpect expect)
{
	const SimVmmConfig *cfg = sim_vmm_config(vmm);
	Trace *trace = trace_new();
	SimVmmMemslot slots[KVM_USER_MEM_SLOTS];
	guint n;

	GString *events = g_string_new(NULL);

	for (guint k = 0; k < SIM_HOST_NR_KINDS; k++)
		if (cfg->host_events.count[k])
			g_string_append_printf(events, "%s%s=%u", events->len ? "," : "",
					       sim_host_event_name(k), cfg->host_events.count[k]);
	trace->comment = g_strdup_printf(" Recorded by kvmsim %s: workload %s, %u vCPUs, mem %"
					 G_GUINT64_FORMAT " bytes, seed %" G_GUINT64_FORMAT
					 ", quantum %" G_GUINT64_FORMAT "%s, host events %s.\n"
					 "     Replay it with: kvmsim replay FILE ", KVMSIM_VERSION,
					 cfg->guest_path ? cfg->guest_path : cfg->workload,
					 cfg->nr_vcpus, cfg->mem_size, cfg->seed,
					 cfg->quantum, cfg->thp ? ", thp" : "",
					 events->len ? events->str : "none");
	g_string_free(events, TRUE);
	trace->kvmsim_version = g_strdup(KVMSIM_VERSION);
	trace->seed = cfg->seed;
	trace->mutations = cfg->mutations;
	trace->nr_vcpus = cfg->nr_vcpus;
	trace->vm_type = cfg->vm_type;
	trace->gmem_conversion = cfg->gmem_conversion;
	trace->gmem_hugepage = cfg->gmem_hugepage;
	trace->mem = cfg->mem_size;
	trace->quantum = cfg->quantum;
	trace->max_insns = cfg->max_insns;
	/* the default is not written: traces of default runs stay as they were */
	if (sim_sched_watchdog(sched) != SIM_SCHED_DEFAULT_WATCHDOG)
		trace->watchdog = sim_sched_watchdog(sched);
	trace->thp = cfg->thp;
	trace->asi = cfg->asi;
	trace->postcopy = g_strdup(cfg->postcopy);
	trace->postcopy_fetch_steps = cfg->postcopy_fetch_steps;
	trace->nx_huge_pages = cfg->nx_huge_pages;
	trace->hv_tlb_flush = cfg->hv_tlb_flush;
	n = sim_vmm_memslots(vmm, slots, G_N_ELEMENTS(slots));
	for (guint i = 0; i < n; i++) {
		TraceMemslot ms = { slots[i].id, slots[i].gpa, slots[i].size, slots[i].hva,
				    slots[i].flags, 0, slots[i].gmem_offset };

		g_array_append_val(trace->memslots, ms);
	}
	trace->workload = g_strdup(cfg->workload);
	trace->guest = cfg->guest_path ? g_canonicalize_filename(cfg->guest_path, NULL) : NULL;
	trace->image_sha256 = g_strdup(sim_vmm_image_sha256(vmm));
	trace->arg = g_strdup(cfg->arg);
	memcpy(trace->params, cfg->params, sizeof(trace->params));
	trace->boot_flags = sim_vmm_config_boot_flags(cfg);

	if (sim_vmm_host_events(vmm)) {
		const SimHostEvent *done = sim_host_events_done(sim_vmm_host_events(vmm), &n);

		for (guint i = 0; i < n; i++) {
			TraceEvent e = {
				.kind = host_kinds[done[i].kind],
				.actor = g_strdup("notifier"),
				.at = done[i].at,
				.hva = done[i].hva,
				.size = done[i].size,
			};

			if (done[i].kind == SIM_HOST_DIRTYLOG) {
				/* memslot 1, the data region; a call never made is a sleep */
				if (!done[i].hva)
					e.kind = TRACE_EV_AGE, e.hva = 0;
				e.id = 1;
				e.nr = done[i].op;
				e.hva = 0;
			} else if (sim_host_event_is_gmem(done[i].kind)) {
				/* no page: a sleep with nothing to do, kept as a zero-sized
				 * age of nothing would not replay; an age of hva 0 does */
				if (!done[i].hva)
					e.kind = TRACE_EV_AGE;
				else
					e.gpa = done[i].hva, e.hva = 0;
				e.to_private = done[i].to_private;
			}

			g_array_append_val(trace->events, e);
		}
	}

	/* --nmi: each NMI as its actor delivers it (a replay makes the same actors, last) */
	const AsiNmi *nmi = sim_vmm_nmi_plan(vmm, &n);

	for (guint i = 0; i < n; i++) {
		TraceEvent e = { .kind = TRACE_EV_NMI, .actor = g_strdup_printf("nmi%u", nmi[i].cpu),
				 .at = nmi[i].at, .touch = nmi[i].touch };

		g_array_append_val(trace->events, e);
	}

	const SimStep *steps = sim_sched_recorded(sched, &n);

	trace->policy = SIM_POLICY_STEPS;
	trace->then = SIM_POLICY_ROUND_ROBIN;
	for (guint i = 0; i < n; i++) {
		TraceStep step = { { g_strdup(steps[i].actor), g_strdup(steps[i].until),
				     steps[i].count }, 0 };

		g_array_append_val(trace->steps, step);
	}

	trace->packed = TRUE;
	if (rec)
		trace_recording_apply(rec, trace);
	add_expects(trace, vmm, sched, log_digest, expect);
	return trace;
}
