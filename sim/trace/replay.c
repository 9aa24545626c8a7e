/* SPDX-License-Identifier: GPL-2.0-only */
/* Replaying a trace: the machine, one actor per trace actor, the schedule, the expectations. */
#include "sim/trace/replay.h"
#include "sim/trace/trace-internal.h"

#include <errno.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"
#include "sim/vmm/machine.h"

/*
 * The program of a --guest trace, read again from its file. A trace records the SHA-256 of the
 * image it ran: a program rebuilt since takes other paths, so it is refused with both hashes
 * rather than left to fail the replay somewhere without saying why.
 */
static GBytes *
load_guest_image(const Trace *trace, GError **error)
{
	gchar *bytes;
	gsize size;

	if (!g_file_get_contents(trace->guest, &bytes, &size, error)) {
		g_prefix_error(error, "%s:%u: <workload> guest: ", trace->path,
			       trace->workload_line);
		return NULL;
	}
	return g_bytes_new_take(bytes, size);
}

/* The program the machine was built with must be the one the trace recorded. */
static gboolean
check_image(const Trace *trace, SimVmm *vmm, GError **error)
{
	const char *built = sim_vmm_image_sha256(vmm);

	if (!trace->image_sha256 || !built || strcmp(built, trace->image_sha256) == 0)
		return TRUE;
	g_set_error(error, TRACE_ERROR, TRACE_ERROR_SEMANTIC,
		    "%s:%u: %s has SHA-256 %s, but the trace was recorded with image-sha256 %s: "
		    "the program changed since (rebuilt?), so its run cannot replay",
		    trace->path, trace->workload_line,
		    trace->guest ? trace->guest : trace->workload, built, trace->image_sha256);
	return FALSE;
}

static gboolean check_machine_memslots(const Trace *trace, SimVmm *vmm, GError **error);

/* The events of the trace as the machine builder takes them (actor names borrowed). */
static GArray *
machine_events(const Trace *trace)
{
	GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(SimMachineEvent), trace->events->len);

	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);
		static const SimMachineEventKind kinds[TRACE_EV_COUNT] = {
			[TRACE_EV_EPT_VIOLATION] = SIM_MEV_EPT_VIOLATION,
			[TRACE_EV_HLT] = SIM_MEV_HLT,
			[TRACE_EV_IO] = SIM_MEV_IO,
			[TRACE_EV_HYPERCALL] = SIM_MEV_HYPERCALL,
			[TRACE_EV_MIGRATE] = SIM_MEV_MIGRATE,
			[TRACE_EV_DONTNEED] = SIM_MEV_DONTNEED,
			[TRACE_EV_AGE] = SIM_MEV_AGE,
			[TRACE_EV_MUNMAP] = SIM_MEV_MUNMAP,
			[TRACE_EV_INVALIDATE_START] = SIM_MEV_INVALIDATE_START,
			[TRACE_EV_INVALIDATE_END] = SIM_MEV_INVALIDATE_END,
			[TRACE_EV_MEMSLOT] = SIM_MEV_MEMSLOT,
			[TRACE_EV_MEMSLOT_DELETE] = SIM_MEV_MEMSLOT_DELETE,
			[TRACE_EV_PUNCH_HOLE] = SIM_MEV_PUNCH_HOLE,
			[TRACE_EV_CONVERT] = SIM_MEV_CONVERT,
			[TRACE_EV_SET_ATTRIBUTES] = SIM_MEV_SET_ATTRIBUTES,
			[TRACE_EV_GMEM_CLOSE] = SIM_MEV_GMEM_CLOSE,
			[TRACE_EV_MAP_GPA_RANGE] = SIM_MEV_MAP_GPA_RANGE,
			[TRACE_EV_PIN] = SIM_MEV_PIN,
			[TRACE_EV_NMI] = SIM_MEV_NMI,
			[TRACE_EV_NX_RECOVER] = SIM_MEV_NX_RECOVER,
			[TRACE_EV_GUEST_WRITE] = SIM_MEV_GUEST_WRITE,
			[TRACE_EV_DIRTY_LOG] = SIM_MEV_DIRTY_LOG,
		};
		SimMachineEvent me = {
			.kind = kinds[e->kind],
			.actor = e->actor,
			.at = e->at,
			.gpa = e->gpa,
			.access = e->access == TRACE_ACCESS_WRITE ? SIM_MEV_WRITE :
				  e->access == TRACE_ACCESS_FETCH ? SIM_MEV_FETCH : SIM_MEV_READ,
			.hva = e->hva,
			.size = e->size,
			.id = e->id,
			.flags = e->flags,
			.in = e->in,
			.port = e->port,
			.io_size = e->io_size,
			.value = e->value,
			.nr = e->nr,
			.to_private = e->to_private,
			.touch = e->touch,
		};

		memcpy(me.args, e->args, sizeof(me.args));
		g_array_append_val(out, me);
	}
	return out;
}

/* The machine the trace describes, with its event actors (sim/vmm/machine.h). */
SimMachine *
trace_machine_new(const Trace *trace, SimSched *sched, GError **error)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	g_autoptr(GBytes) image = NULL;
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(SimVmmMemslot));
	g_autoptr(GArray) events = machine_events(trace);

	cfg.nr_vcpus = trace->nr_vcpus;
	cfg.vm_type = trace->vm_type;
	cfg.gmem_conversion = trace->gmem_conversion;
	cfg.gmem_hugepage = trace->gmem_hugepage;
	cfg.gmem_size = trace->gmem_size;
	cfg.gmem_flags = trace->gmem_flags;
	cfg.seed = trace->seed;
	cfg.mutations = trace->mutations;
	if (trace->quantum)
		cfg.quantum = trace->quantum;
	if (trace->max_insns)
		cfg.max_insns = trace->max_insns;
	cfg.thp = trace->thp;
	cfg.asi = trace->asi;
	cfg.postcopy = trace->postcopy;
	cfg.postcopy_fetch_steps = trace->postcopy_fetch_steps;
	cfg.nx_huge_pages = trace->nx_huge_pages;
	cfg.hv_tlb_flush = trace->hv_tlb_flush;
	cfg.ept_ad = trace->ept_ad;
	memcpy(cfg.params, trace->params, sizeof(cfg.params));
	if (trace->workload) {
		cfg.workload = trace->workload;
		cfg.mem_size = trace->mem;
		cfg.arg = trace->arg;
		if (trace->guest) {
			image = load_guest_image(trace, error);
			if (!image)
				return NULL;
			cfg.guest_path = trace->guest;
			cfg.image = g_bytes_get_data(image, &cfg.image_size);
		}
		cfg.boot_flags = trace->boot_flags;
	} else {
		cfg.exit_level = TRUE;
		cfg.workload = "exit-level";
		for (guint i = 0; i < trace->memslots->len; i++) {
			const TraceMemslot *ms = &g_array_index(trace->memslots, TraceMemslot, i);
			SimVmmMemslot s = { ms->id, ms->gpa, ms->size, ms->hva, ms->flags,
					    ms->gmem_offset };

			g_array_append_val(slots, s);
		}
		cfg.memslots = (const SimVmmMemslot *)slots->data;
		cfg.nr_memslots = slots->len;
	}
	SimMachine *m = sim_machine_new(&cfg, (const SimMachineEvent *)events->data, events->len,
					sched, error);

	if (!m) {
		g_prefix_error(error, "%s:%u: cannot build the machine: ", trace->path,
			       trace->memslots_line);
		return NULL;
	}
	if (!check_image(trace, sim_machine_vmm(m), error) ||
	    !check_machine_memslots(trace, sim_machine_vmm(m), error)) {
		sim_machine_free(m);
		return NULL;
	}
	return m;
}

/* A full-system trace lists the memslots kvmsim builds for it; they must still be those. */
static gboolean
check_machine_memslots(const Trace *trace, SimVmm *vmm, GError **error)
{
	SimVmmMemslot built[KVM_USER_MEM_SLOTS];
	guint n = sim_vmm_memslots(vmm, built, G_N_ELEMENTS(built));

	if (!trace->workload || !trace->memslots->len)
		return TRUE;
	for (guint i = 0; i < trace->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(trace->memslots, TraceMemslot, i);
		gboolean found = FALSE;

		for (guint j = 0; j < n; j++)
			found |= built[j].id == ms->id && built[j].gpa == ms->gpa &&
				 built[j].size == ms->size && built[j].hva == ms->hva;
		if (!found) {
			g_set_error(error, TRACE_ERROR, TRACE_ERROR_SEMANTIC,
				    "%s:%u: memslot %u is not the one kvmsim builds for workload %s",
				    trace->path, ms->line, ms->id, trace->workload);
			return FALSE;
		}
	}
	return TRUE;
}

static guint
count_matches(const char *log, const char *match)
{
	guint n = 0;

	for (const char *p = strstr(log, match); p; p = strstr(p + 1, match))
		n++;
	return n;
}

/* Check one expectation; print its line; TRUE if it holds. */
static gboolean
check_expect(const Trace *trace, const TraceExpect *x, SimVmm *vmm, SimSched *sched, SimLog *log,
	     TraceDivergence *divergence, FILE *out)
{
	g_autofree gchar *what = NULL, *got = NULL;
	gboolean ok;

	switch (x->kind) {
	case TRACE_EXPECT_SPTE: {
		int level;
		u64 spte = kvm_tdp_mmu_leaf_spte(sim_vmm_kvm(vmm), x->gfn, &level);
		gboolean present = is_shadow_present_pte(spte);
		guint64 hva = 0;
		guint nth = 0;

		if (present)
			sim_mm_frame_tag(sim_vmm_mm(vmm), spte_to_pfn(spte), &hva, &nth);
		GString *w = g_string_new(NULL);

		g_string_printf(w, "spte gfn 0x%" G_GINT64_MODIFIER "x %s", x->gfn,
				x->present ? "present" : "not present");
		if (x->writable >= 0)
			g_string_append(w, x->writable ? " writable" : " read-only");
		if (x->level)
			g_string_append_printf(w, " level %d", x->level);
		if (x->frame_hva)
			g_string_append_printf(w, " frame 0x%" G_GINT64_MODIFIER "x#%u", x->frame_hva,
					       x->frame_nth);
		if (x->frame_zero)
			g_string_append(w, " frame zero page");
		what = g_string_free(w, FALSE);
		ok = present == x->present;
		if (present && x->present) {
			ok &= x->writable < 0 || is_writable_pte(spte) == (gboolean)x->writable;
			ok &= x->level == 0 || level == x->level;
			ok &= x->frame_hva == 0 || (hva == x->frame_hva && nth == x->frame_nth);
			ok &= !x->frame_zero || spte_to_pfn(spte) == SIM_ZERO_PFN;
		}
		g_autofree gchar *described = spte_describe(spte, level);

		if (!present)
			got = g_strdup("not present");
		else if (spte_to_pfn(spte) == SIM_ZERO_PFN)
			got = g_strdup_printf("level %d frame zero page: %s (0x%" G_GINT64_MODIFIER
					      "x)", level, described, spte);
		else
			got = g_strdup_printf("level %d frame 0x%" G_GINT64_MODIFIER "x#%u: %s (0x%"
					      G_GINT64_MODIFIER "x)", level, hva, nth, described, spte);
		break;
	}
	case TRACE_EXPECT_ATTRIBUTE: {
		gboolean is_private = kvm_mem_is_private(sim_vmm_kvm(vmm), x->gfn);

		what = g_strdup_printf("attribute gfn 0x%" G_GINT64_MODIFIER "x %s", x->gfn,
				       x->is_private ? "private" : "shared");
		got = g_strdup(is_private ? "private" : "shared");
		ok = is_private == x->is_private;
		break;
	}
	case TRACE_EXPECT_SHAREABILITY: {
		int is_private = sim_vmm_gmem_is_private(vmm, x->offset);

		what = g_strdup_printf("shareability offset 0x%" G_GINT64_MODIFIER "x %s", x->offset,
				       x->is_private ? "private" : "shared");
		got = g_strdup(is_private < 0 ? "no guest_memfd open" :
			       is_private ? "private" : "shared");
		ok = is_private == (int)x->is_private;
		break;
	}
	case TRACE_EXPECT_MEMORY_FAULT: {
		/* the VMM's line for each exit (sim_vmm_log_memory_fault()) */
		g_autofree gchar *match = g_strdup_printf(
			"sim_vmm_memory_fault: errno 14 flags 0x%x gpa 0x%" G_GINT64_MODIFIER "x ",
			x->is_private ? 8 : 0, x->gfn << SIM_PAGE_SHIFT);
		guint n = count_matches(sim_log_text(log), match);

		what = g_strdup_printf("memory fault gfn 0x%" G_GINT64_MODIFIER "x %s %d time%s",
				       x->gfn, x->is_private ? "private" : "shared", x->count,
				       x->count == 1 ? "" : "s");
		got = g_strdup_printf("%u time%s", n, n == 1 ? "" : "s");
		ok = n == (guint)x->count;
		break;
	}
	case TRACE_EXPECT_COUNTER: {
		SimCounter id;

		if (!sim_counter_lookup(x->counter, &id))
			g_assert_not_reached(); /* the reader takes only counters that exist */
		guint64 value = sim_vmm_counters(vmm)->v[id];

		what = g_strdup_printf("counter %s = %" G_GUINT64_FORMAT, x->counter, x->value);
		got = g_strdup_printf("%" G_GUINT64_FORMAT, value);
		ok = value == x->value;
		break;
	}
	case TRACE_EXPECT_EVENT: {
		guint n = count_matches(sim_log_text(log), x->match);

		if (x->count >= 0)
			what = g_strdup_printf("event \"%s\" %d time%s", x->match, x->count,
					       x->count == 1 ? "" : "s");
		else
			what = g_strdup_printf("event \"%s\" %s", x->match,
					       x->want_present ? "present" : "absent");
		got = g_strdup_printf("%u time%s", n, n == 1 ? "" : "s");
		ok = x->count >= 0 ? n == (guint)x->count : (n > 0) == x->want_present;
		break;
	}
	case TRACE_EXPECT_GUEST: {
		const char *result = sim_guest_result_name(sim_vmm_guest_result(vmm));

		what = g_strdup_printf("guest result %s", x->result);
		got = g_strdup_printf("%s%s%s", result, sim_vmm_error(vmm) ? ": " : "",
				      sim_vmm_error(vmm) ? sim_vmm_error(vmm) : "");
		ok = strcmp(result, x->result) == 0;
		break;
	}
	case TRACE_EXPECT_INVARIANTS: {
		const char *failure = sim_sched_failure(sched);

		what = g_strdup(x->hold ? "invariants hold" : "an invariant fails");
		got = g_strdup(failure ? failure : "every invariant held");
		ok = (failure == NULL) == x->hold;
		break;
	}
	case TRACE_EXPECT_LOG_HASH: {
		g_autofree gchar *digest = sim_log_digest(log);

		what = g_strdup("log hash");
		got = g_strdup(digest);
		ok = strcmp(digest, x->hash) == 0;
		break;
	}
	default:
		g_assert_not_reached();
	}
	if (ok)
		fprintf(out, "  PASS  %s\n", what);
	else
		fprintf(out, "  FAIL  %s: got %s (%s:%u)\n", what, got, trace->path, x->line);
	if (!ok && x->kind == TRACE_EXPECT_LOG_HASH && divergence)
		trace_divergence_print(divergence, out);
	return ok;
}

static gboolean
needs_log_text(const Trace *trace)
{
	for (guint i = 0; i < trace->expects->len; i++)
		if (g_array_index(trace->expects, TraceExpect, i).kind == TRACE_EXPECT_EVENT ||
		    g_array_index(trace->expects, TraceExpect, i).kind == TRACE_EXPECT_MEMORY_FAULT)
			return TRUE;
	return FALSE;
}

/* Does anything read the log's hash: a log_hash expectation, or the marks a recording left
 * (trace_divergence_watch() compares the hash at each)? Hashing for nobody cost a replay with
 * --log a seventh of its CPU, and made a replay without it format every line for nothing. */
static gboolean
needs_log_hash(const Trace *trace)
{
	for (guint i = 0; i < trace->expects->len; i++)
		if (g_array_index(trace->expects, TraceExpect, i).kind == TRACE_EXPECT_LOG_HASH)
			return TRUE;
	return trace->marks->len || trace->step_sums;
}

/* Does the trace expect an invariant to fail? */
static gboolean
expects_failure(const Trace *trace)
{
	for (guint i = 0; i < trace->expects->len; i++) {
		const TraceExpect *x = &g_array_index(trace->expects, TraceExpect, i);

		if (x->kind == TRACE_EXPECT_INVARIANTS && !x->hold)
			return TRUE;
	}
	return FALSE;
}

/* Point a scheduler error at the step of the trace it is about. */
static void
locate_schedule_error(const Trace *trace, SimSched *sched, GError **error)
{
	guint idx = sim_sched_step_index(sched);

	/* an invariant that failed stops the run, and so the schedule: name it first */
	if (sim_sched_failed(sched))
		g_prefix_error(error, "%s, which stopped the run: ", sim_sched_failure(sched));
	if (!trace->steps->len || idx >= trace->steps->len) {
		g_prefix_error(error, "%s: ", trace->path); /* no step of the trace was in force */
		return;
	}
	g_prefix_error(error, "%s:%u: ", trace->path, g_array_index(trace->steps, TraceStep, idx).line);
}

gboolean
trace_replay(const Trace *trace, const char *log_path, FILE *out, TraceReplayReport *report,
	     GError **error)
{
	return trace_replay_hooked(trace, log_path, out, report, NULL, error);
}

/* Build the machine, run the trace's actors on its schedule, check expectations. */
gboolean
trace_replay_hooked(const Trace *trace, const char *log_path, FILE *out,
		    TraceReplayReport *report, const TraceReplayHooks *hooks, GError **error)
{
	g_autoptr(SimSched) sched = sim_sched_new(trace->seed);
	g_autoptr(SimLog) log = sim_log_new(sched);

	memset(report, 0, sizeof(*report));
	if (trace->watchdog)
		sim_sched_set_watchdog(sched, trace->watchdog);
	if (log_path && !sim_log_open_file(log, log_path, error))
		return FALSE;
	if (trace->log_hook)
		trace->log_hook(log, trace->log_hook_data);
	if (needs_log_hash(trace))
		sim_log_hash(log);
	if (needs_log_text(trace))
		sim_log_capture(log);
	if (trace->policy == SIM_POLICY_STEPS) {
		g_autofree SimStep *steps = g_new0(SimStep, trace->steps->len);

		for (guint i = 0; i < trace->steps->len; i++)
			steps[i] = g_array_index(trace->steps, TraceStep, i).step;
		sim_sched_set_steps(sched, steps, trace->steps->len, trace->then);
	} else {
		sim_sched_set_policy(sched, trace->policy);
	}
	g_autoptr(SimMachine) machine = trace_machine_new(trace, sched, error);

	if (!machine)
		return FALSE;
	SimVmm *vmm = sim_machine_vmm(machine);
	/* an exit-level machine is small: it is checked at every step, as explore checks it; so
	 * is one whose trace expects an invariant to fail (explore --out writes those) */
	if (!trace->workload || expects_failure(trace))
		sim_machine_check_every_step(machine, 0);
	TraceDivergence *divergence = trace_divergence_watch(trace, sched, log,
							     needs_log_text(trace));
	if (hooks && hooks->start)
		hooks->start(sched, log, vmm, hooks->data);
	gboolean ran = sim_machine_run(machine, error);

	if (hooks && hooks->finish)
		hooks->finish(sched, vmm, ran, hooks->data);
	if (!ran) {
		locate_schedule_error(trace, sched, error);
		sim_log_finish(log, NULL);
		/* a schedule that cannot be followed is what a changed model does most: say where
		 * the logs had already parted, if they had, or that the replay's was cut short */
		if (divergence)
			trace_divergence_print_stopped(divergence, sched, out);
		trace_divergence_free(divergence);
		return FALSE;
	}
	if (!sim_log_finish(log, error)) {
		trace_divergence_free(divergence);
		return FALSE;
	}
	for (guint i = 0; i < trace->expects->len; i++) {
		if (check_expect(trace, &g_array_index(trace->expects, TraceExpect, i), vmm, sched,
				 log, divergence, out))
			report->passed++;
		else
			report->failed++;
	}
	trace_divergence_free(divergence);
	return TRUE;
}
