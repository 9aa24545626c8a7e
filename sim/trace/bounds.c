/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a trace may ask of the machine, checked when it is read so that a trace that passes can be
 * built and run to an end: guest memory within the frame arena, memslots KVM accepts (flags,
 * guest-physical reach), host-event ranges no larger than guest memory, quanta and sleeps a run
 * can reach, no exits after a vCPU's hlt, and schedule steps whose actor can reach their point.
 */
#include "sim/trace/trace-internal.h"

#include <string.h>

#include "mmu/mmu.h"
#include "sim/core/hostmem.h"
#include "sim/vmm/vmm.h"
#include "workloads/abi.h"

/*
 * The guest-physical reach of the modeled host: a 4-level EPT maps 48 bits. KVM refuses a memslot
 * that ends above it: kvm_arch_prepare_memory_region() (arch/x86/kvm/x86.c, read in the v6.3 to
 * v6.10 patches on the kvm list) returns -EINVAL when the slot's last gfn exceeds
 * kvm_mmu_max_gfn() (arch/x86/kvm/mmu.h, shadow_phys_bits with TDP), as mmu/memslot.c models.
 */
#define TRACE_GPA_BITS 48
/* A step a run can reach: far past any run, far from the clock's wrap. */
#define TRACE_MAX_AT_BITS 48

/* A memslot KVM_SET_USER_MEMORY_REGION2 accepts: known flags, within the guest-physical reach. */
static gboolean
check_memslot(const Trace *trace, const char *element, guint32 flags, guint64 gpa, guint64 size,
	      guint line, GError **error)
{
	guint32 known = KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY;

	/* post-copy: bit 3 is a PROPOSED mechanism's slot flag (mmu/userfault.c); whether this
	 * kernel has one is the mechanism's, checked when the machine is built */
	if (trace->postcopy)
		known |= KVM_MEM_EXIT_ON_MISSING;

	/* a guest_memfd slot: only where there is a guest_memfd to bind (<guest_memfd>, or the
	 * data region of a full-system VM with private memory) */
	if (trace->gmem_size || (trace->workload && trace->vm_type))
		known |= KVM_MEM_GUEST_MEMFD;
	if ((flags & KVM_MEM_GUEST_MEMFD) && (flags & KVM_MEM_READONLY))
		return trace_semantic_fail(trace, line, error,
					   "<%s> flags 0x%x: KVM_MEM_GUEST_MEMFD with KVM_MEM_READONLY: "
					   "KVM_SET_USER_MEMORY_REGION2 fails with -EINVAL "
					   "(check_memory_region_flags())", element, flags);
	if (flags & ~known)
		return trace_semantic_fail(trace, line, error,
					   "<%s> flags 0x%x has bits KVM does not know (KVM_MEM_LOG_DIRTY_PAGES 0x1, "
					   "KVM_MEM_READONLY 0x2): KVM_SET_USER_MEMORY_REGION2 fails with -EINVAL",
					   element, flags);
	if (gpa + size > (1ull << TRACE_GPA_BITS))
		return trace_semantic_fail(trace, line, error,
					   "<%s> ends at gpa 0x%" G_GINT64_MODIFIER "x, above the %u-bit "
					   "guest-physical reach of 4-level EPT: KVM returns -EINVAL "
					   "(kvm_arch_prepare_memory_region() against kvm_mmu_max_gfn())",
					   element, gpa + size, TRACE_GPA_BITS);
	return TRUE;
}

/* The guest memory the machine has: the data region and the boot slot, or every memslot. */
static guint64
guest_bytes(const Trace *trace)
{
	guint64 total = 0;

	if (trace->workload)
		return trace->mem + KVMSIM_BOOT_SIZE;
	for (guint i = 0; i < trace->memslots->len; i++)
		total += g_array_index(trace->memslots, TraceMemslot, i).size;
	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);

		if (e->kind == TRACE_EV_MEMSLOT)
			total += e->size;
	}
	return total;
}

/* The machine: memory the arena can hold, memslots KVM accepts, a quantum that fits a signed
 * count of instructions. */
static gboolean
check_machine(const Trace *trace, GError **error)
{
	guint64 arena = SIM_ARENA_DEFAULT_FRAMES * SIM_PAGE_SIZE;

	if (trace->workload && (trace->mem < SIM_VMM_MIN_MEM || trace->mem > SIM_VMM_MAX_MEM))
		return trace_semantic_fail(trace, trace->memslots_line, error,
					   "<vm> mem 0x%" G_GINT64_MODIFIER "x is outside what kvmsim can build "
					   "(guest RAM is %" G_GUINT64_FORMAT " KiB to %" G_GUINT64_FORMAT " MiB)",
					   trace->mem, (guint64)(SIM_VMM_MIN_MEM >> 10),
					   (guint64)(SIM_VMM_MAX_MEM >> 20));
	if (trace->quantum >> 63)
		return trace_semantic_fail(trace, trace->memslots_line, error,
					   "<vm> quantum %" G_GUINT64_FORMAT " does not fit in 63 bits",
					   trace->quantum);
	for (guint i = 0; i < trace->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(trace->memslots, TraceMemslot, i);

		if (!check_memslot(trace, "memslot", ms->flags, ms->gpa, ms->size, ms->line, error))
			return FALSE;
	}
	guint64 memory = guest_bytes(trace);

	if (!trace->workload && memory > arena / 2)
		return trace_semantic_fail(trace, trace->memslots_line, error,
					   "the memslots hold %" G_GUINT64_FORMAT " MiB, more than kvmsim's frame "
					   "arena can back (%" G_GUINT64_FORMAT " MiB, half of its %" G_GUINT64_FORMAT
					   " MiB)", memory >> 20, (arena / 2) >> 20, arena >> 20);
	return TRUE;
}

/* One event: a sleep a run can reach, a host range no larger than the guest's memory (memory
 * bytes), a memslot KVM accepts, and no exit of a vCPU after its hlt (halted[] holds the hlt's
 * line). */
static gboolean
check_event(const Trace *trace, const TraceEvent *e, guint64 memory, guint *halted,
	    GError **error)
{
	if (e->at >> TRACE_MAX_AT_BITS)
		return trace_semantic_fail(trace, e->line, error,
					   "<%s> at step %" G_GUINT64_FORMAT " is past step 2^%u, which no run "
					   "reaches", trace_event_kind_name(e->kind), e->at, TRACE_MAX_AT_BITS);
	if (trace_event_is_host(e->kind) && e->size > memory)
		return trace_semantic_fail(trace, e->line, error,
					   "<%s> size 0x%" G_GINT64_MODIFIER "x is larger than the guest's memory "
					   "(0x%" G_GINT64_MODIFIER "x)", trace_event_kind_name(e->kind), e->size,
					   memory);
	if (e->kind == TRACE_EV_MEMSLOT &&
	    !check_memslot(trace, "memslot", e->flags, e->gpa, e->size, e->line, error))
		return FALSE;
	if (!trace_event_is_exit(e->kind))
		return TRUE;
	guint vcpu = (guint)g_ascii_strtoull(e->actor + strlen("vcpu"), NULL, 10);

	if (halted[vcpu])
		return trace_semantic_fail(trace, e->line, error,
					   "<%s> of %s comes after its <hlt> on line %u: a halted vCPU takes no "
					   "more exits", trace_event_kind_name(e->kind), e->actor, halted[vcpu]);
	if (e->kind == TRACE_EV_HLT)
		halted[vcpu] = e->line;
	return TRUE;
}

/* Which actors reach the points of a subsystem; a point not listed may be reached by several
 * (invalidate.*: the notifier, and a vCPU whose write breaks COW; zap.*: whoever zaps;
 * dontneed.*: the notifier, and the VMM discarding shared memory in a vCPU's conversion exit;
 * mmu_load.*: a vCPU, and the vmm creating the vCPUs of a rebooted VM; gup.*: a vCPU, and the
 * vmm writing the rebooted guest's boot parameters through its own mapping). */
static const struct {
	const char *prefix;
	const char *actor; /* "vcpu" (any vCPU), "notifier" or "vmm" */
} point_owners[] = {
	{ "vcpu.", "vcpu" },          { "fault.", "vcpu" },       { "fast_pf.", "vcpu" },
	{ "cow.", "vcpu" },           { "mmu_unload.", "vcpu" },
	{ "migrate.", "notifier" },   { "munmap.", "notifier" },
	{ "age.", "notifier" },       { "memslot.", "vmm" },
	{ "dirty_log.", "vmm" },
};

/* Does the notifier make the VMM's dirty-log calls (a run's --host-events dirtylog), whose first
 * is a memslot update? */
static gboolean
notifier_calls_dirty_log(const Trace *trace)
{
	for (guint i = 0; i < trace->events->len; i++) {
		const TraceEvent *e = &g_array_index(trace->events, TraceEvent, i);

		if (e->kind == TRACE_EV_DIRTY_LOG && strcmp(e->actor, "notifier") == 0)
			return TRUE;
	}
	return FALSE;
}

/* A step's actor must be of the kind that reaches its point. */
static gboolean
check_step(const Trace *trace, const TraceStep *s, GError **error)
{
	for (guint i = 0; i < G_N_ELEMENTS(point_owners); i++) {
		const char *owner = point_owners[i].actor;

		if (!g_str_has_prefix(s->step.until, point_owners[i].prefix))
			continue;
		if (g_str_has_prefix(s->step.actor, owner))
			return TRUE;
		if (strcmp(owner, "vmm") == 0 && strcmp(s->step.actor, "notifier") == 0 &&
		    notifier_calls_dirty_log(trace))
			return TRUE;
		return trace_semantic_fail(trace, s->line, error,
					   "<step> %s never reaches %s: only %s reaches %s* points", s->step.actor,
					   s->step.until, strcmp(owner, "vcpu") == 0 ? "a vCPU" : owner,
					   point_owners[i].prefix);
	}
	return TRUE;
}

/* Everything a trace asks of the machine, in document order. */
gboolean
trace_check_bounds(const Trace *trace, GError **error)
{
	guint halted[KVM_MAX_VCPUS] = { 0 };
	guint64 memory = guest_bytes(trace);

	if (!check_machine(trace, error))
		return FALSE;
	for (guint i = 0; i < trace->events->len; i++)
		if (!check_event(trace, &g_array_index(trace->events, TraceEvent, i), memory, halted,
				 error))
			return FALSE;
	for (guint i = 0; i < trace->steps->len; i++)
		if (!check_step(trace, &g_array_index(trace->steps, TraceStep, i), error))
			return FALSE;
	return TRUE;
}
