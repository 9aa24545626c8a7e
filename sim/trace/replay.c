/* SPDX-License-Identifier: GPL-2.0-only */
/* Replaying a trace: the machine, one actor per trace actor, the schedule, the expectations. */
#include "sim/trace/replay.h"
#include "sim/trace/trace-internal.h"

#include <errno.h>
#include <string.h>

#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"
#include "sim/cpu/vcpu.h"
#include "workloads/abi.h"

/* The events one actor of the trace performs, in order. */
typedef struct {
	SimVmm *vmm;
	SimSched *sched;
	GPtrArray *events; /* const TraceEvent * */
	int vcpu;          /* vcpuN: N; other actors: -1 */
	gboolean halted;
} ReplayActor;

/* KVM_HC_MAP_GPA_RANGE as the vCPU's KVM_RUN handles it: KVM's checks, then the VMM's exit. */
static void
replay_map_gpa_range(ReplayActor *ra, struct kvm_vcpu *vcpu, const TraceEvent *e)
{
	guint64 ret;

	if (sim_kvm_map_gpa_range_exits(sim_vmm_hypercall_exit(ra->vmm), e->args, &ret)) {
		sim_count(vcpu->kvm->counters, SIM_CTR_EXITS_USER_HYPERCALL);
		sim_log_emit(sim_sched_log(ra->sched), "kvm_userspace_exit",
			     "reason KVM_EXIT_HYPERCALL (3)");
		ret = sim_vmm_hypercall(ra->vmm, e->nr, e->args);
	}
	sim_log_emit(sim_sched_log(ra->sched), "sim_hypercall_ret",
		     "vcpu %d nr 12 ret 0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id, ret);
}

/* One exit of an exit-level vCPU: the guest ran (instantly) and exited for this reason. */
static void
replay_exit(ReplayActor *ra, const TraceEvent *e)
{
	struct kvm *kvm = sim_vmm_kvm(ra->vmm);
	struct kvm_vcpu *vcpu = kvm->vcpus[ra->vcpu];

	struct kvm_exit_info x = { 0 };

	sim_yield(ra->sched, "vcpu.enter");
	kvm_vcpu_enter_guest_prepare(vcpu);
	trace_kvm_entry(vcpu, 0);
	kvm_vcpu_srcu_read_lock(vcpu);
	switch (e->kind) {
	case TRACE_EV_EPT_VIOLATION: {
		u64 spte = kvm_tdp_mmu_get_walk_last(vcpu, e->gpa, NULL);
		u64 qual = sim_ept_violation_qualification(e->access == TRACE_ACCESS_READ,
							   e->access == TRACE_ACCESS_WRITE,
							   e->access == TRACE_ACCESS_FETCH, spte);

		if (is_mmio_spte(spte)) {
			x.reason = EXIT_REASON_EPT_MISCONFIG;
			trace_kvm_exit(vcpu, &x);
			kvm_handle_ept_misconfig(vcpu, e->gpa, 0);
		} else {
			x.reason = EXIT_REASON_EPT_VIOLATION;
			x.info1 = qual;
			trace_kvm_exit(vcpu, &x);
			vcpu->run.exit_reason = 0;
			int r = kvm_handle_ept_violation(vcpu, e->gpa, qual, 0);

			/* KVM_RUN returns -1: the trace's vmm decides what to do about it */
			if (r < 0 && vcpu->run.exit_reason == KVM_EXIT_MEMORY_FAULT) {
				sim_log_emit(sim_sched_log(ra->sched), "kvm_userspace_exit",
					     "reason error (%d)", -r);
				sim_vmm_log_memory_fault(ra->vmm, r, &vcpu->run);
			}
		}
		break;
	}
	case TRACE_EV_HLT:
		sim_count(kvm->counters, SIM_CTR_EXITS_HLT);
		x.reason = EXIT_REASON_HLT;
		trace_kvm_exit(vcpu, &x);
		ra->halted = TRUE;
		break;
	case TRACE_EV_IO:
		sim_count(kvm->counters, SIM_CTR_EXITS_IO);
		/* a trace names no string or immediate form: a plain in/out through dx */
		x.reason = EXIT_REASON_IO_INSTRUCTION;
		x.info1 = sim_io_exit_qualification(e->in, e->port, e->io_size, 0);
		trace_kvm_exit(vcpu, &x);
		trace_kvm_pio(vcpu, e->in, e->port, e->io_size, e->in ? 0xffffffffu : e->value);
		break;
	case TRACE_EV_HYPERCALL:
	case TRACE_EV_MAP_GPA_RANGE:
		sim_count(kvm->counters, SIM_CTR_EXITS_HYPERCALL);
		x.reason = EXIT_REASON_VMCALL;
		trace_kvm_exit(vcpu, &x);
		trace_kvm_hypercall(vcpu, e->nr, e->args);
		if (e->nr == KVM_HC_SCHED_YIELD)
			sim_yield(ra->sched, "vcpu.sched_yield");
		break;
	default:
		g_assert_not_reached();
	}
	kvm_vcpu_srcu_read_unlock(vcpu);
	/* the exit to userspace and back happens outside the vCPU's SRCU read side */
	if ((e->kind == TRACE_EV_HYPERCALL || e->kind == TRACE_EV_MAP_GPA_RANGE) &&
	    e->nr == KVM_HC_MAP_GPA_RANGE)
		replay_map_gpa_range(ra, vcpu, e);
}

/* KVM_SET_USER_MEMORY_REGION2 from the VMM, as the trace asks; the result goes to the log. */
static void
replay_memslot(ReplayActor *ra, const TraceEvent *e)
{
	SimVmm *vmm = ra->vmm;
	struct kvm_userspace_memory_region2 region = {
		.slot = e->id,
		.flags = e->flags,
		.guest_phys_addr = e->gpa,
		.memory_size = e->kind == TRACE_EV_MEMSLOT ? e->size : 0,
		.userspace_addr = e->hva,
	};
	int r;

	if (e->kind == TRACE_EV_MEMSLOT && !sim_mm_mmap_anon_at(sim_vmm_mm(vmm), e->hva, e->size,
								 NULL))
		r = -EINVAL;
	else
		r = kvm_set_memory_region(sim_vmm_kvm(vmm), &region);
	sim_log_emit(sim_sched_log(ra->sched), "sim_vmm_ioctl",
		     "KVM_SET_USER_MEMORY_REGION2 slot %u gpa 0x%" G_GINT64_MODIFIER "x size 0x%"
		     G_GINT64_MODIFIER "x: %d", e->id, region.guest_phys_addr, region.memory_size, r);
}

/* One event of the notifier or the vmm. */
static void
replay_host(ReplayActor *ra, const TraceEvent *e)
{
	SimMm *mm = sim_vmm_mm(ra->vmm);
	SimHostEvent he = { SIM_HOST_MIGRATE, e->hva, e->size, e->at, e->to_private };

	switch (e->kind) {
	case TRACE_EV_MIGRATE:
		sim_host_event_perform(mm, &he);
		break;
	case TRACE_EV_DONTNEED:
		he.kind = SIM_HOST_DONTNEED;
		sim_host_event_perform(mm, &he);
		break;
	case TRACE_EV_AGE:
		he.kind = SIM_HOST_AGE;
		sim_host_event_perform(mm, &he);
		break;
	case TRACE_EV_MUNMAP:
		sim_mm_munmap(mm, e->hva, e->size);
		break;
	case TRACE_EV_INVALIDATE_START:
		sim_mm_notify_invalidate_start(mm, e->hva, e->hva + e->size);
		break;
	case TRACE_EV_INVALIDATE_END:
		sim_mm_notify_invalidate_end(mm, e->hva, e->hva + e->size);
		break;
	case TRACE_EV_MEMSLOT:
	case TRACE_EV_MEMSLOT_DELETE:
		replay_memslot(ra, e);
		break;
	case TRACE_EV_PUNCH_HOLE:
	case TRACE_EV_CONVERT:
		he.kind = e->kind == TRACE_EV_PUNCH_HOLE ? SIM_HOST_PUNCH : SIM_HOST_CONVERT;
		he.hva = e->gpa;
		sim_vmm_gmem_event(ra->vmm, &he);
		break;
	case TRACE_EV_SET_ATTRIBUTES:
		sim_vmm_set_memory_attributes(ra->vmm, e->gpa, e->size, e->to_private);
		break;
	case TRACE_EV_GMEM_CLOSE:
		sim_vmm_close_gmem(ra->vmm);
		break;
	case TRACE_EV_PIN:
		sim_vmm_pin(ra->vmm, e->gpa);
		break;
	default:
		g_assert_not_reached();
	}
}

/* Perform this actor's events in order, each after its optional sleep. */
static void
replay_actor(SimActor *actor, gpointer data)
{
	ReplayActor *ra = data;

	for (guint i = 0; i < ra->events->len && !ra->halted; i++) {
		const TraceEvent *e = g_ptr_array_index(ra->events, i);

		if (sim_sched_failed(ra->sched))
			break;
		if (e->at)
			sim_sleep_until(ra->sched, e->at);
		if (ra->vcpu >= 0)
			replay_exit(ra, e);
		else
			replay_host(ra, e);
		sim_sched_progress(ra->sched);
	}
}

/* Orders windows by their start. */
static gint
compare_window_gpa(gconstpointer a, gconstpointer b)
{
	guint64 x = ((const SimVmmWindow *)a)->gpa, y = ((const SimVmmWindow *)b)->gpa;

	return x < y ? -1 : x > y;
}

/* The union of every guest-physical range the trace's memslots use, as few windows as can be. */
static GArray *
windows_of(const Trace *trace)
{
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(SimVmmWindow));
	GArray *merged = g_array_new(FALSE, FALSE, sizeof(SimVmmWindow));

	for (guint i = 0; i < trace->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(trace->memslots, TraceMemslot, i);
		SimVmmWindow w = { ms->gpa, ms->size };

		g_array_append_val(ranges, w);
	}
	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);
		SimVmmWindow w = { e->gpa, e->size };

		if (e->kind == TRACE_EV_MEMSLOT)
			g_array_append_val(ranges, w);
	}
	/* sort by start, then merge overlapping or adjacent ranges */
	g_array_sort(ranges, compare_window_gpa);
	for (guint i = 0; i < ranges->len; i++) {
		SimVmmWindow w = g_array_index(ranges, SimVmmWindow, i);
		SimVmmWindow *last = merged->len ?
			&g_array_index(merged, SimVmmWindow, merged->len - 1) : NULL;

		if (last && w.gpa <= last->gpa + last->size)
			last->size = MAX(last->size, w.gpa + w.size - last->gpa);
		else
			g_array_append_val(merged, w);
	}
	g_array_free(ranges, TRUE);
	return merged;
}

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

/* The machine the trace describes. */
static SimVmm *
build_machine(const Trace *trace, SimSched *sched, GError **error)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	g_autoptr(GBytes) image = NULL;
	g_autoptr(GArray) windows = NULL;
	g_autoptr(GArray) slots = g_array_new(FALSE, FALSE, sizeof(SimVmmMemslot));

	cfg.nr_vcpus = trace->nr_vcpus;
	cfg.vm_type = trace->vm_type;
	cfg.gmem_conversion = trace->gmem_conversion;
	cfg.gmem_hugepage = trace->gmem_hugepage;
	cfg.gmem_size = trace->gmem_size;
	cfg.gmem_flags = trace->gmem_flags;
	cfg.seed = trace->seed;
	if (trace->quantum)
		cfg.quantum = trace->quantum;
	if (trace->max_insns)
		cfg.max_insns = trace->max_insns;
	cfg.thp = trace->thp;
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
		windows = windows_of(trace);
		cfg.memslots = (const SimVmmMemslot *)slots->data;
		cfg.nr_memslots = slots->len;
		cfg.windows = (const SimVmmWindow *)windows->data;
		cfg.nr_windows = windows->len;
	}
	SimVmm *vmm = sim_vmm_new(&cfg, sched, error);

	if (!vmm) {
		g_prefix_error(error, "%s:%u: cannot build the machine: ", trace->path,
			       trace->memslots_line);
		return NULL;
	}
	if (!check_image(trace, vmm, error)) {
		sim_vmm_free(vmm);
		return NULL;
	}
	return vmm;
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

/* One actor per name the events use: vCPUs first, then the others (as in a recorded run). */
static GPtrArray *
make_actors(const Trace *trace, SimVmm *vmm, SimSched *sched)
{
	GPtrArray *actors = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < trace->nr_vcpus; i++)
		g_ptr_array_add(names, g_strdup_printf("vcpu%u", i));
	g_ptr_array_add(names, g_strdup("notifier"));
	g_ptr_array_add(names, g_strdup("vmm"));
	for (guint n = 0; n < names->len; n++) {
		const char *name = g_ptr_array_index(names, n);
		ReplayActor *ra = NULL;

		for (guint i = 0; i < trace->events->len; i++) {
			const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);

			if (strcmp(e->actor, name) != 0)
				continue;
			if (!ra) {
				ra = g_new0(ReplayActor, 1);
				ra->vmm = vmm;
				ra->sched = sched;
				ra->events = g_ptr_array_new();
				ra->vcpu = g_str_has_prefix(name, "vcpu") ?
						   (int)g_ascii_strtoll(name + 4, NULL, 10) : -1;
				g_ptr_array_add(actors, ra);
			}
			g_ptr_array_add(ra->events, (gpointer)e);
		}
		if (ra)
			sim_actor_new(sched, name, replay_actor, ra);
	}
	g_ptr_array_free(names, TRUE);
	return actors;
}

static void
free_actors(GPtrArray *actors)
{
	for (guint i = 0; i < actors->len; i++)
		g_ptr_array_free(((ReplayActor *)g_ptr_array_index(actors, i))->events, TRUE);
	g_ptr_array_free(actors, TRUE);
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

/* Point a scheduler error at the step of the trace it is about. */
static void
locate_schedule_error(const Trace *trace, SimSched *sched, GError **error)
{
	guint idx = sim_sched_step_index(sched);

	if (!trace->steps->len || idx >= trace->steps->len) {
		g_prefix_error(error, "%s: ", trace->path); /* no step of the trace was in force */
		return;
	}
	g_prefix_error(error, "%s:%u: ", trace->path, g_array_index(trace->steps, TraceStep, idx).line);
}

/* Build the machine, run the trace's actors on its schedule, check expectations. */
gboolean
trace_replay(const Trace *trace, const char *log_path, FILE *out, TraceReplayReport *report,
	     GError **error)
{
	g_autoptr(SimSched) sched = sim_sched_new(trace->seed);
	g_autoptr(SimLog) log = sim_log_new(sched);

	memset(report, 0, sizeof(*report));
	if (trace->watchdog)
		sim_sched_set_watchdog(sched, trace->watchdog);
	if (log_path && !sim_log_open_file(log, log_path, error))
		return FALSE;
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
	g_autoptr(SimVmm) vmm = build_machine(trace, sched, error);

	if (!vmm || !check_machine_memslots(trace, vmm, error))
		return FALSE;
	GPtrArray *actors = make_actors(trace, vmm, sched);
	TraceDivergence *divergence = trace_divergence_watch(trace, sched, log,
							     needs_log_text(trace));
	gboolean ran = sim_vmm_run(vmm, error);

	free_actors(actors);
	if (!ran) {
		locate_schedule_error(trace, sched, error);
		sim_log_finish(log, NULL);
		/* a schedule that cannot be followed is what a changed model does most: say where
		 * the logs had already parted, if they had */
		if (divergence)
			trace_divergence_print(divergence, out);
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
