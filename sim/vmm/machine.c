/* SPDX-License-Identifier: GPL-2.0-only */
/* A machine and the actors that perform its events: what replay and explore run. */
#include "sim/vmm/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "asi/nmi.h"
#include "mmu/mmu.h"
#include "mmu/spte.h"
#include "sim/core/log.h"
#include "sim/cpu/vcpu.h"
#include "sim/vmm/postcopy.h"
#include "workloads/abi.h"

struct SimMachine {
	SimVmm *vmm;
	SimSched *sched;
	/* the checks at every step */
	guint64 actor_budget;
	guint nr_actors;
	guint64 *yields;         /* per actor */
	const char **last_point; /* per actor */
	gint last_actor;
	unsigned long last_seq;
	guint64 audit_epoch;
	SimMachineEvent *events; /* a copy of the events the actors perform */
	GPtrArray *actors;       /* MachineActor * */
	guint nr_vcpus;
	guint live;              /* actors that have not returned yet */
};

/* The events one actor of the machine performs, in order. */
typedef struct {
	SimVmm *vmm;
	SimSched *sched;
	GPtrArray *events; /* const SimMachineEvent * */
	int vcpu;          /* vcpuN: N; other actors: -1 */
	gboolean halted;
	guint *live;       /* the machine's count of actors still running */
} MachineActor;

/* Times the VMM runs a vCPU again after resolving a post-copy exit, for one ept_violation. */
#define MACHINE_POSTCOPY_RERUNS 16

/* KVM_HC_MAP_GPA_RANGE as the vCPU's KVM_RUN handles it: KVM's checks, then the VMM's exit. */
static void
machine_map_gpa_range(MachineActor *ma, struct kvm_vcpu *vcpu, const SimMachineEvent *e)
{
	guint64 ret;

	if (sim_kvm_map_gpa_range_exits(sim_vmm_hypercall_exit(ma->vmm), e->args, &ret)) {
		sim_count(vcpu->kvm->counters, SIM_CTR_EXITS_USER_HYPERCALL);
		asi_kvm_run_exit(sim_vmm_asi(ma->vmm), (guint)ma->vcpu);
		sim_log_emit(sim_sched_log(ma->sched), "kvm_userspace_exit",
			     "reason KVM_EXIT_HYPERCALL (3)");
		ret = sim_vmm_hypercall(ma->vmm, e->nr, e->args);
		asi_kvm_run_enter(sim_vmm_asi(ma->vmm), (guint)ma->vcpu);
	}
	sim_log_emit(sim_sched_log(ma->sched), "sim_hypercall_ret",
		     "vcpu %d nr 12 ret 0x%" G_GINT64_MODIFIER "x", vcpu->vcpu_id, ret);
}

/* sim_kvm_vmenter() of an exit-level vCPU, which injects nothing: TRUE where the guest runs, else
 * the entry made no progress (a pending request, or an IPI sent in ASI's switch: its exit). */
static gboolean
machine_vmenter(struct kvm_vcpu *vcpu, AsiSim *asi)
{
	SimEntry entry = sim_kvm_vmenter(vcpu, asi, 0, 0, 0);

	if (entry == SIM_ENTRY_IPI)
		sim_kvm_ipi_exit(vcpu, asi, 0);
	return entry == SIM_ENTRY_RUN;
}

/* One exit of an exit-level vCPU: the guest ran (instantly) and exited for this reason. With
 * --asi on, the run loop's ASI calls as a full-system vCPU makes them (asi/asi-sim.h). */
static void
machine_exit(MachineActor *ma, const SimMachineEvent *e)
{
	struct kvm *kvm = sim_vmm_kvm(ma->vmm);
	struct kvm_vcpu *vcpu = kvm->vcpus[ma->vcpu];
	AsiSim *asi = sim_vmm_asi(ma->vmm);

	struct kvm_exit_info x = { 0 };
	guint writes = 0;
	gboolean faulted;

again:
	faulted = FALSE;
	sim_yield(ma->sched, "vcpu.enter");
	kvm_vcpu_enter_guest_prepare(vcpu);
	if (!machine_vmenter(vcpu, asi)) {
		/* a request pending at the entry, or an IPI sent during ASI's entry switch: served
		 * before the entry is made again, as a full-system vCPU does (vcpu_vmenter()) */
		sim_kvm_vmexit(vcpu, asi);
		goto again;
	}
	sim_kvm_vmexit(vcpu, asi);
	kvm_vcpu_srcu_read_lock(vcpu);
	switch (e->kind) {
	case SIM_MEV_GUEST_WRITE:
		/* the guest's store: no exit unless it faults; then it is made again on re-entry,
		 * a bounded number of times */
		if (kvm_vcpu_guest_write(vcpu, e->gpa))
			break;
		if (++writes > 8) {
			sim_log_emit(sim_sched_log(ma->sched), "sim_guest_write",
				     "vcpu %d gpa 0x%" G_GINT64_MODIFIER "x: still faulting after 8 "
				     "tries, given up", vcpu->vcpu_id, e->gpa);
			break;
		}
		/* the store's EPT violation */
		faulted = TRUE;
		G_GNUC_FALLTHROUGH;
	case SIM_MEV_EPT_VIOLATION: {
		gboolean read = e->kind == SIM_MEV_EPT_VIOLATION && e->access == SIM_MEV_READ;
		gboolean write = e->kind == SIM_MEV_GUEST_WRITE || e->access == SIM_MEV_WRITE;
		gboolean fetch = e->kind == SIM_MEV_EPT_VIOLATION && e->access == SIM_MEV_FETCH;
		u64 spte = kvm_tdp_mmu_get_walk_last(vcpu, e->gpa, NULL);
		u64 qual = sim_ept_violation_qualification(read, write, fetch, spte);

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

			/* KVM_RUN returns -1: the machine's vmm decides what to do about it; a
			 * post-copy exit is resolved on this vCPU's thread and the vCPU re-runs the
			 * access, which faults again */
			for (guint n = 0; r < 0 && vcpu->run.exit_reason == KVM_EXIT_MEMORY_FAULT;
			     n++) {
				struct SimPostcopy *pc = sim_vmm_postcopy(ma->vmm);

				asi_kvm_run_exit(asi, (guint)ma->vcpu);
				sim_log_emit(sim_sched_log(ma->sched), "kvm_userspace_exit",
					     "reason error (%d)", -r);
				sim_vmm_log_memory_fault(ma->vmm, r, &vcpu->run);
				kvm_vcpu_srcu_read_unlock(vcpu);
				gboolean again = pc && n < MACHINE_POSTCOPY_RERUNS &&
						 sim_postcopy_memory_fault(pc, vcpu->vcpu_id, r,
									   &vcpu->run);

				/* KVM_RUN again: vcpu_enter_guest() serves the requests made meanwhile
				 * (a zap's flush while the thread waited for the page) */
				if (again)
					kvm_vcpu_enter_guest_prepare(vcpu);
				kvm_vcpu_srcu_read_lock(vcpu);
				asi_kvm_run_enter(asi, (guint)ma->vcpu);
				if (!again)
					break;
				if (!machine_vmenter(vcpu, asi)) {
					/* a request pending at the entry or an IPI sent during ASI's
					 * entry switch: the access is made again after it is served */
					sim_kvm_vmexit(vcpu, asi);
					kvm_vcpu_srcu_read_unlock(vcpu);
					goto again;
				}
				sim_kvm_vmexit(vcpu, asi);
				trace_kvm_exit(vcpu, &x);
				vcpu->run.exit_reason = 0;
				r = kvm_handle_ept_violation(vcpu, e->gpa, qual, 0);
			}
		}
		break;
	}
	case SIM_MEV_HLT:
		sim_count(kvm->counters, SIM_CTR_EXITS_HLT);
		x.reason = EXIT_REASON_HLT;
		trace_kvm_exit(vcpu, &x);
		asi_kvm_halt(asi, (guint)ma->vcpu);
		ma->halted = TRUE;
		break;
	case SIM_MEV_IO:
		sim_count(kvm->counters, SIM_CTR_EXITS_IO);
		/* a trace names no string or immediate form: a plain in/out through dx */
		x.reason = EXIT_REASON_IO_INSTRUCTION;
		x.info1 = sim_io_exit_qualification(e->in, e->port, e->io_size, 0);
		trace_kvm_exit(vcpu, &x);
		trace_kvm_pio(vcpu, e->in, e->port, e->io_size, e->in ? 0xffffffffu : e->value);
		/* KVM_EXIT_IO: to the VMM and back into KVM_RUN */
		asi_kvm_run_exit(asi, (guint)ma->vcpu);
		asi_kvm_run_enter(asi, (guint)ma->vcpu);
		break;
	case SIM_MEV_HYPERCALL:
	case SIM_MEV_MAP_GPA_RANGE:
		sim_count(kvm->counters, SIM_CTR_EXITS_HYPERCALL);
		x.reason = EXIT_REASON_VMCALL;
		trace_kvm_exit(vcpu, &x);
		trace_kvm_hypercall(vcpu, e->nr, e->args);
		if (e->nr == KVM_HC_SCHED_YIELD)
			sim_yield(ma->sched, "vcpu.sched_yield");
		break;
	default:
		g_assert_not_reached();
	}
	kvm_vcpu_srcu_read_unlock(vcpu);
	if (faulted)
		goto again;
	/* the exit to userspace and back happens outside the vCPU's SRCU read side */
	if ((e->kind == SIM_MEV_HYPERCALL || e->kind == SIM_MEV_MAP_GPA_RANGE) &&
	    e->nr == KVM_HC_MAP_GPA_RANGE)
		machine_map_gpa_range(ma, vcpu, e);
}

/* KVM_SET_USER_MEMORY_REGION2 from the VMM, as the event asks; the result goes to the log. */
static void
machine_memslot(MachineActor *ma, const SimMachineEvent *e)
{
	SimVmm *vmm = ma->vmm;
	struct kvm_userspace_memory_region2 region = {
		.slot = e->id,
		.flags = e->flags,
		.guest_phys_addr = e->gpa,
		.memory_size = e->kind == SIM_MEV_MEMSLOT ? e->size : 0,
		.userspace_addr = e->hva,
	};
	int r;

	if (e->kind == SIM_MEV_MEMSLOT && !sim_mm_mmap_anon_at(sim_vmm_mm(vmm), e->hva, e->size,
								 NULL))
		r = -EINVAL;
	else
		r = kvm_set_memory_region(sim_vmm_kvm(vmm), &region);
	sim_log_emit(sim_sched_log(ma->sched), "sim_vmm_ioctl",
		     "KVM_SET_USER_MEMORY_REGION2 slot %u gpa 0x%" G_GINT64_MODIFIER "x size 0x%"
		     G_GINT64_MODIFIER "x: %d", e->id, region.guest_phys_addr, region.memory_size, r);
}

/* One event of the notifier or the vmm. */
static void
machine_host(MachineActor *ma, const SimMachineEvent *e)
{
	SimMm *mm = sim_vmm_mm(ma->vmm);
	SimHostEvent he = { SIM_HOST_MIGRATE, e->hva, e->size, e->at, e->to_private, 0 };

	switch (e->kind) {
	case SIM_MEV_MIGRATE:
		sim_host_event_perform(mm, &he);
		break;
	case SIM_MEV_DONTNEED:
		he.kind = SIM_HOST_DONTNEED;
		sim_host_event_perform(mm, &he);
		break;
	case SIM_MEV_AGE:
		he.kind = SIM_HOST_AGE;
		sim_host_event_perform(mm, &he);
		break;
	case SIM_MEV_MUNMAP:
		sim_mm_munmap(mm, e->hva, e->size);
		break;
	case SIM_MEV_INVALIDATE_START:
		sim_mm_notify_invalidate_start(mm, e->hva, e->hva + e->size);
		break;
	case SIM_MEV_INVALIDATE_END:
		sim_mm_notify_invalidate_end(mm, e->hva, e->hva + e->size);
		break;
	case SIM_MEV_MEMSLOT:
	case SIM_MEV_MEMSLOT_DELETE:
		machine_memslot(ma, e);
		break;
	case SIM_MEV_PUNCH_HOLE:
	case SIM_MEV_CONVERT:
		he.kind = e->kind == SIM_MEV_PUNCH_HOLE ? SIM_HOST_PUNCH : SIM_HOST_CONVERT;
		he.hva = e->gpa;
		sim_vmm_gmem_event(ma->vmm, &he);
		break;
	case SIM_MEV_SET_ATTRIBUTES:
		sim_vmm_set_memory_attributes(ma->vmm, e->gpa, e->size, e->to_private);
		break;
	case SIM_MEV_GMEM_CLOSE:
		sim_vmm_close_gmem(ma->vmm);
		break;
	case SIM_MEV_PIN:
		sim_vmm_pin(ma->vmm, e->gpa);
		break;
	case SIM_MEV_NX_RECOVER:
		kvm_nx_huge_page_recovery_worker(sim_vmm_kvm(ma->vmm));
		break;
	case SIM_MEV_DIRTY_LOG:
		sim_vmm_dirty_log(ma->vmm, (SimVmmDirtyOp)e->nr, e->id);
		break;
	default:
		g_assert_not_reached();
	}
}

/* Perform this actor's events in order, each after its optional sleep. */
static void
machine_actor(SimActor *actor, gpointer data)
{
	MachineActor *ma = data;

	for (guint i = 0; i < ma->events->len && !ma->halted; i++) {
		const SimMachineEvent *e = g_ptr_array_index(ma->events, i);

		if (sim_sched_failed(ma->sched))
			break;
		if (e->at)
			sim_sleep_until(ma->sched, e->at);
		if (ma->vcpu >= 0)
			machine_exit(ma, e);
		else
			machine_host(ma, e);
		sim_sched_progress(ma->sched);
	}
	if (ma->vcpu >= 0)
		asi_kvm_run_exit(sim_vmm_asi(ma->vmm), (guint)ma->vcpu);
	(*ma->live)--;
}

/* Whether every actor of the machine returned (post-copy's actors then end too). */
static gboolean
machine_ended(gpointer data)
{
	return ((SimMachine *)data)->live == 0;
}

/* Orders windows by their start. */
static gint
compare_window_gpa(gconstpointer a, gconstpointer b)
{
	guint64 x = ((const SimVmmWindow *)a)->gpa, y = ((const SimVmmWindow *)b)->gpa;

	return x < y ? -1 : x > y;
}

/* The union of every guest-physical range the memslots use, as few windows as can be. */
static GArray *
windows_of(const SimVmmConfig *config, const SimMachineEvent *events, guint n_events)
{
	GArray *ranges = g_array_new(FALSE, FALSE, sizeof(SimVmmWindow));
	GArray *merged = g_array_new(FALSE, FALSE, sizeof(SimVmmWindow));

	for (guint i = 0; i < config->nr_memslots; i++) {
		SimVmmWindow w = { config->memslots[i].gpa, config->memslots[i].size };

		g_array_append_val(ranges, w);
	}
	for (guint i = 0; i < n_events; i++) {
		const SimMachineEvent *e = &events[i];
		SimVmmWindow w = { e->gpa, e->size };

		if (e->kind == SIM_MEV_MEMSLOT)
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

/* The nmiN actors, one per host CPU some NMI event names, in CPU order (after the others). */
static void
make_nmi_actors(SimMachine *m, const SimMachineEvent *events, guint n_events)
{
	guint nr_cpus = m->nr_vcpus + 2;
	g_autoptr(GArray) plan = g_array_new(FALSE, FALSE, sizeof(AsiNmi));

	for (guint cpu = 0; cpu < nr_cpus; cpu++) {
		g_autofree gchar *name = g_strdup_printf("nmi%u", cpu);

		g_array_set_size(plan, 0);
		for (guint i = 0; i < n_events; i++) {
			AsiNmi nmi = { cpu, events[i].touch, events[i].at };

			if (events[i].kind == SIM_MEV_NMI && strcmp(events[i].actor, name) == 0)
				g_array_append_val(plan, nmi);
		}
		if (plan->len)
			asi_nmi_actor_new(sim_vmm_nmis(m->vmm), cpu, (const AsiNmi *)plan->data,
					  plan->len);
	}
}

/* One actor per name the events use: vCPUs first, then the others (as in a recorded run). */
static GPtrArray *
make_actors(const SimMachineEvent *events, guint n_events, guint nr_vcpus, SimVmm *vmm,
	    SimSched *sched, guint *live)
{
	GPtrArray *actors = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < nr_vcpus; i++)
		g_ptr_array_add(names, g_strdup_printf("vcpu%u", i));
	g_ptr_array_add(names, g_strdup("notifier"));
	g_ptr_array_add(names, g_strdup("vmm"));
	g_ptr_array_add(names, g_strdup("nx_recovery")); /* KVM's NX huge page recovery kthread */
	for (guint n = 0; n < names->len; n++) {
		const char *name = g_ptr_array_index(names, n);
		MachineActor *ma = NULL;

		for (guint i = 0; i < n_events; i++) {
			const SimMachineEvent *e = &events[i];

			if (strcmp(e->actor, name) != 0)
				continue;
			if (!ma) {
				ma = g_new0(MachineActor, 1);
				ma->vmm = vmm;
				ma->sched = sched;
				ma->events = g_ptr_array_new();
				ma->vcpu = g_str_has_prefix(name, "vcpu") ?
						   (int)g_ascii_strtoll(name + 4, NULL, 10) : -1;
				ma->live = live;
				(*live)++;
				g_ptr_array_add(actors, ma);
			}
			g_ptr_array_add(ma->events, (gpointer)e);
		}
		if (ma)
			sim_actor_new(sched, name, machine_actor, ma);
	}
	g_ptr_array_free(names, TRUE);
	return actors;
}

static void
free_actors(GPtrArray *actors)
{
	for (guint i = 0; i < actors->len; i++)
		g_ptr_array_free(((MachineActor *)g_ptr_array_index(actors, i))->events, TRUE);
	g_ptr_array_free(actors, TRUE);
}

/* Build the machine and its event actors. */
SimMachine *
sim_machine_new(const SimVmmConfig *config, const SimMachineEvent *events, guint n_events,
		SimSched *sched, GError **error)
{
	SimVmmConfig cfg = *config;
	g_autoptr(GArray) windows = NULL;

	if (cfg.exit_level && !cfg.nr_windows) {
		windows = windows_of(&cfg, events, n_events);
		cfg.windows = (const SimVmmWindow *)windows->data;
		cfg.nr_windows = windows->len;
	}
	SimVmm *vmm = sim_vmm_new(&cfg, sched, error);

	if (!vmm)
		return NULL;
	SimMachine *m = g_new0(SimMachine, 1);

	m->vmm = vmm;
	m->sched = sched;
	m->last_actor = -1;
	m->events = g_memdup2(events, n_events * sizeof(*events));
	m->nr_vcpus = cfg.nr_vcpus;
	m->actors = make_actors(m->events, n_events, cfg.nr_vcpus, vmm, sched, &m->live);
	make_nmi_actors(m, m->events, n_events);
	/* a full-system machine started its post-copy actors with its vCPUs */
	if (cfg.exit_level)
		sim_vmm_postcopy_start(vmm, machine_ended, m);
	return m;
}

void
sim_machine_free(SimMachine *m)
{
	if (!m)
		return;
	free_actors(m->actors);
	sim_vmm_free(m->vmm);
	g_free(m->events);
	g_free(m->yields);
	g_free(m->last_point);
	g_free(m);
}

SimVmm *
sim_machine_vmm(const SimMachine *m)
{
	return m->vmm;
}

gboolean
sim_machine_run(SimMachine *m, GError **error)
{
	return sim_vmm_run(m->vmm, error);
}

/* Fail the run from a check of this file, as the model's own checks do: an event, then the fail. */
static void
machine_fail(SimMachine *m, const char *invariant, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void
machine_fail(SimMachine *m, const char *invariant, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_autofree gchar *detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_autofree gchar *reason = g_strdup_printf("invariant %s violated: %s", invariant, detail);

	sim_log_emit(sim_sched_log(m->sched), "sim_invariant", "%s: %s", invariant, detail);
	sim_sched_fail(m->sched, reason);
}

/* At every yield point: the actor's step budget, the MMU audit, mmu_invalidate_seq. */
static void
machine_step(SimSched *sched, const char *point, gpointer data)
{
	SimMachine *m = data;
	struct kvm *kvm = sim_vmm_kvm(m->vmm);
	gint cur = sim_sched_current_index(sched);

	if (cur < 0 || sim_sched_failed(sched))
		return;
	if ((guint)cur >= m->nr_actors) { /* an actor created during the run */
		m->yields = g_renew(guint64, m->yields, cur + 1);
		m->last_point = g_renew(const char *, m->last_point, cur + 1);
		for (guint i = m->nr_actors; i <= (guint)cur; i++) {
			m->yields[i] = 0;
			m->last_point[i] = NULL;
		}
		m->nr_actors = cur + 1;
	}
	m->last_actor = cur;
	m->last_point[cur] = point;
	if (++m->yields[cur] > m->actor_budget) {
		machine_fail(m, "livelock", "%s passed %" G_GUINT64_FORMAT " yield points (its budget)",
			     sim_sched_current_name(sched), m->actor_budget);
		return;
	}
	if (!kvm_mmu_audit(kvm, &m->audit_epoch) || !sim_vmm_postcopy_check(m->vmm))
		return;
	if (kvm->mmu_invalidate_seq < m->last_seq)
		machine_fail(m, "invalidate_seq_monotonic", "mmu_invalidate_seq went from %lu to %lu",
			     m->last_seq, kvm->mmu_invalidate_seq);
	m->last_seq = kvm->mmu_invalidate_seq;
}

void
sim_machine_check_every_step(SimMachine *m, guint64 actor_budget)
{
	m->actor_budget = actor_budget ? actor_budget : SIM_MACHINE_DEFAULT_ACTOR_BUDGET;
	m->nr_actors = sim_sched_nr_actors(m->sched);
	m->yields = g_new0(guint64, m->nr_actors);
	m->last_point = g_new0(const char *, m->nr_actors);
	m->last_seq = sim_vmm_kvm(m->vmm)->mmu_invalidate_seq;
	m->audit_epoch = G_MAXUINT64;
	sim_sched_set_step_hook(m->sched, machine_step, m);
}

const char *
sim_machine_last_point(const SimMachine *m, guint index)
{
	return m->last_point && index < m->nr_actors ? m->last_point[index] : NULL;
}

gint
sim_machine_last_actor(const SimMachine *m)
{
	return m->last_actor;
}
