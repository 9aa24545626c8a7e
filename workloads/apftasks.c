/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * apftasks: touch with GUEST_MAX_TASKS tasks per vCPU (the async PF runtime, runtime/apf.h), so a
 * vCPU runs another task while a page is in flight. Every task of a vCPU first reads the first
 * page of the vCPU's share - one gfn faulted by several tasks of one vCPU: KVM's
 * double-fault-on-one-gfn rule (kvm_async_pf_repeated_fault, the vCPU halts) - then fills every
 * GUEST_MAX_TASKS-th page of the share from its own offset. Then all vCPUs verify every page, as
 * touch does.
 */
#include "workloads/runtime/apf.h"
#include "workloads/runtime/pattern.h"
#include "workloads/runtime/runtime.h"

struct share {
	uint64_t first_gpa;  /* the vCPU's first page */
	uint64_t nr_pages;
	uint64_t seed;
};

struct part {
	const struct share *share;
	uint64_t offset;     /* fills pages offset, offset + GUEST_MAX_TASKS, ... */
};

static void fill_part(void *data)
{
	const struct part *part = data;
	const struct share *s = part->share;

	(void)*(volatile uint64_t *)(uintptr_t)s->first_gpa;
	for (uint64_t p = part->offset; p < s->nr_pages; p += GUEST_MAX_TASKS)
		pattern_fill(s->first_gpa + p * KVMSIM_PAGE_SIZE, 1, s->seed);
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t nr_pages = params->ram_size / KVMSIM_PAGE_SIZE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t end = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus);
	struct share share = { params->ram_gpa + first * KVMSIM_PAGE_SIZE, end - first,
			       params->seed };
	struct part parts[GUEST_MAX_TASKS];
	struct pattern_tally tally = { 0 };
	struct guest_apf_stats st;
	uint32_t status;

	for (int t = 0; t < GUEST_MAX_TASKS; t++) {
		parts[t].share = &share;
		parts[t].offset = (uint64_t)t;
		if (t > 0 && guest_task_spawn(fill_part, &parts[t]) != 0) {
			guest_printf("apftasks: cannot spawn task %d\n", t);
			guest_exit(2);
		}
	}
	fill_part(&parts[0]);
	guest_task_wait_all();
	guest_barrier(params);
	pattern_check(params->ram_gpa, nr_pages, params->seed, &tally);
	status = pattern_merge(params, &tally);
	guest_apf_stats(&st);
	guest_atomic_max(&params->shared[4], st.parked);
	guest_barrier(params);
	if (vcpu_id != 0)
		return;
	guest_printf("apftasks: pages=%lu checksum=0x%016lx dropped=%lu corrupt=%lu parked_max=%lu "
		     "result=%s\n", tally.pages, tally.checksum, tally.dropped, tally.corrupt,
		     params->shared[4], status ? "fail" : "pass");
	guest_exit(status);
}
