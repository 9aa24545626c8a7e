/* SPDX-License-Identifier: GPL-2.0-only */
/* Async page faults on the MMU model alone: the gfn hash, tokens, the per-vCPU limit, the
 * double-fault-on-one-gfn rule, the halt fallback and the page-ready slot (mmu/async_pf.h). */
#include "tests/check-run.h"
#include <errno.h>
#include <string.h>

#include "mmu/async_pf.h"
#include "tests/unit/harness.h"

#define MEM (1u << 20)
#define APF_DATA_GPA 0x3000ull /* struct kvm_vcpu_pv_apf_data of vCPU 0 */
#define VECTOR 0xf3

/* What the fake hardware below was asked to do. */
static struct {
	gboolean if_set;
	int page_faults;
	u64 cr2;
	int irqs;
	u8 vector;
} hw;

static void
fake_flush(struct kvm_vcpu *vcpu)
{
}

static void
fake_load(struct kvm_vcpu *vcpu, u64 root_pa)
{
}

static void
fake_queue_page_fault(struct kvm_vcpu *vcpu, u64 address, u32 error_code)
{
	hw.page_faults++;
	hw.cr2 = address;
}

static void
fake_apic_set_irq(struct kvm_vcpu *vcpu, u8 vector)
{
	hw.irqs++;
	hw.vector = vector;
}

static gboolean
fake_interrupt_allowed(struct kvm_vcpu *vcpu)
{
	return hw.if_set;
}

static gboolean
fake_event_pending(struct kvm_vcpu *vcpu)
{
	return FALSE;
}

static int
fake_get_cpl(struct kvm_vcpu *vcpu)
{
	return 0;
}

static const struct kvm_hw_ops fake_ops = {
	.flush_tlb_all = fake_flush,
	.load_mmu_pgd = fake_load,
	.queue_page_fault = fake_queue_page_fault,
	.apic_set_irq = fake_apic_set_irq,
	.interrupt_allowed = fake_interrupt_allowed,
	.event_pending = fake_event_pending,
	.get_cpl = fake_get_cpl,
};

static gboolean
always(gpointer data)
{
	return TRUE;
}

/* A one-vCPU VM with the fake hardware; apf_en: the value written to MSR_KVM_ASYNC_PF_EN. */
static TestVm *
apf_vm(u64 apf_en)
{
	TestVm *vm = test_vm_new(1, 1, MEM);

	memset(&hw, 0, sizeof(hw));
	hw.if_set = TRUE;
	vm->kvm->hw_ops = &fake_ops;
	vm->kvm->apf_mode = KVM_APF_MODE_KERNEL;
	vm->kvm->apf_ended = always; /* kworkers return once the queue is empty */
	ck_assert_int_eq(kvm_async_pf_set_msr(vm->vcpu[0], MSR_KVM_ASYNC_PF_INT, VECTOR), 0);
	if (apf_en)
		ck_assert_int_eq(kvm_async_pf_set_msr(vm->vcpu[0], MSR_KVM_ASYNC_PF_EN, apf_en), 0);
	return vm;
}

#define APF_ON (APF_DATA_GPA | KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_SEND_ALWAYS | \
		KVM_ASYNC_PF_DELIVERY_AS_INT)

/* The u32 at gpa, through the VMM's memory. */
static u32
guest_u32(TestVm *vm, gpa_t gpa)
{
	SimPfn pfn = sim_mm_lookup(vm->host->mm, vm->hva + gpa);
	u32 val = 0;

	if (pfn != SIM_PFN_NONE)
		sim_frame_read(vm->host->hm, pfn, (guint)(gpa & (PAGE_SIZE - 1)), &val, sizeof(val));
	return val;
}

static void
set_guest_u32(TestVm *vm, gpa_t gpa, u32 val)
{
	gboolean writable;
	SimPfn pfn;

	ck_assert_int_eq(sim_mm_hva_to_pfn(vm->host->mm, vm->hva + gpa, TRUE, &pfn, &writable), 0);
	sim_frame_write(vm->host->hm, pfn, (guint)(gpa & (PAGE_SIZE - 1)), &val, sizeof(val));
	sim_frame_put(vm->host->hm, pfn);
}

/* Serve the entry's requests as the vCPU loop does (KVM_REQ_APF_READY). */
static void
enter(TestVm *vm)
{
	ck_assert(!kvm_async_pf_enter_guest(vm->vcpu[0]));
}

/* The guest's side of a page-ready interrupt: clear the token, write the ACK MSR. */
static void
guest_ack(TestVm *vm)
{
	set_guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_TOKEN, 0);
	ck_assert_int_eq(kvm_async_pf_set_msr(vm->vcpu[0], MSR_KVM_ASYNC_PF_ACK, 1), 0);
}

START_TEST(hash_finds_colliding_gfns_and_deletes_with_backward_shift)
{
	TestVm *vm = apf_vm(0);
	struct kvm_vcpu *vcpu = vm->vcpu[0];
	gfn_t same[3];
	int n = 0;

	/* hash_32(gfn, 6): three gfns in one bucket, found by search */
	for (gfn_t g = 1; n < 3; g++) {
		if ((((u32)g * 0x61C88647u) >> 26) == ((0x100u * 0x61C88647u) >> 26))
			same[n++] = g;
	}
	for (int i = 0; i < 3; i++)
		kvm_add_async_pf_gfn(vcpu, same[i]);
	for (int i = 0; i < 3; i++)
		ck_assert(kvm_find_async_pf_gfn(vcpu, same[i]));
	/* deleting the first of the chain must leave the others reachable */
	kvm_del_async_pf_gfn(vcpu, same[0]);
	ck_assert(!kvm_find_async_pf_gfn(vcpu, same[0]));
	ck_assert(kvm_find_async_pf_gfn(vcpu, same[1]));
	ck_assert(kvm_find_async_pf_gfn(vcpu, same[2]));
	kvm_del_async_pf_gfn(vcpu, same[2]);
	kvm_del_async_pf_gfn(vcpu, same[1]);
	for (int i = 0; i < ASYNC_PF_PER_VCPU; i++)
		ck_assert_uint_eq(vcpu->async_pf->gfns[i], ~(gfn_t)0);
	test_vm_free(vm);
}
END_TEST

START_TEST(not_present_injects_pf_with_the_token_in_cr2)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	ck_assert(kvm_async_pf_try(vcpu, 0x8000, 8, vm->hva + 0x8000, 0));
	/* token = (id << 12) | vcpu_id; ids start at 1 */
	ck_assert_int_eq(hw.page_faults, 1);
	ck_assert_uint_eq(hw.cr2, (1u << 12) | 0);
	ck_assert_uint_eq(guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_FLAGS),
			  KVM_PV_REASON_PAGE_NOT_PRESENT);
	ck_assert(kvm_find_async_pf_gfn(vcpu, 8));
	ck_assert(!(vcpu->requests & (1ul << KVM_REQ_APF_HALT)));
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log),
				     "kvm_async_pf_not_present: token 0x1000 gva 0x8000"));
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log),
				     "kvm_try_async_get_page: gva = 0x8000, gfn = 0x8"));
	test_vm_free(vm);
}
END_TEST

START_TEST(a_second_fault_on_an_outstanding_gfn_halts_instead)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	ck_assert(kvm_async_pf_try(vcpu, 0x8000, 8, vm->hva + 0x8000, 0));
	ck_assert(kvm_async_pf_try(vcpu, 0x8000, 8, vm->hva + 0x8000, 0));
	/* no second token and no second #PF: KVM_REQ_APF_HALT */
	ck_assert_int_eq(hw.page_faults, 1);
	ck_assert_uint_eq(vcpu->async_pf->queued, 2); /* the first, and the wakeup_all of enable */
	ck_assert(vcpu->requests & (1ul << KVM_REQ_APF_HALT));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_APF_REPEATED_FAULTS], 1);
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log),
				     "kvm_async_pf_repeated_fault: gva = 0x8000, gfn = 0x8"));
	test_vm_free(vm);
}
END_TEST

START_TEST(the_guest_that_cannot_take_it_is_halted_or_waits)
{
	/* async PF never enabled: the work is still set up, the vCPU halts (no #PF) */
	TestVm *vm = apf_vm(0);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	ck_assert(kvm_async_pf_try(vcpu, 0x8000, 8, vm->hva + 0x8000, 0));
	ck_assert_int_eq(hw.page_faults, 0);
	ck_assert(vcpu->requests & (1ul << KVM_REQ_APF_HALT));
	ck_assert(kvm_async_pf_enter_guest(vcpu));
	ck_assert(vcpu->async_pf->halted);
	ck_assert(!kvm_async_pf_vcpu_runnable(vcpu));
	test_vm_free(vm);

	/* interrupts off: not even the halt, the fault waits in GUP */
	vm = apf_vm(APF_ON);
	hw.if_set = FALSE;
	ck_assert(!kvm_async_pf_try(vm->vcpu[0], 0x8000, 8, vm->hva + 0x8000, 0));
	ck_assert_int_eq(hw.page_faults, 0);
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_APF_SYNC_FALLBACK], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(the_per_vcpu_limit_falls_back_to_a_synchronous_fault)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	/* the enable's wakeup_all holds one of the 64 */
	for (u32 i = 0; i < ASYNC_PF_PER_VCPU - 1; i++)
		ck_assert(kvm_async_pf_try(vcpu, (16 + i) << 12, 16 + i, vm->hva + ((16 + i) << 12),
					   0));
	ck_assert_uint_eq(vcpu->async_pf->queued, ASYNC_PF_PER_VCPU);
	ck_assert(!kvm_async_pf_try(vcpu, 0x90000, 0x90, vm->hva + 0x90000, 0));
	ck_assert_uint_eq(vm->host->counters.v[SIM_CTR_APF_SYNC_FALLBACK], 1);
	test_vm_free(vm);
}
END_TEST

START_TEST(page_ready_waits_for_the_free_token_slot_and_the_ack)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	/* the enable queued a wakeup_all: ~0 in the token slot, the vector raised */
	enter(vm);
	ck_assert_int_eq(hw.irqs, 1);
	ck_assert_uint_eq(hw.vector, VECTOR);
	ck_assert_uint_eq(guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_TOKEN), ~0u);
	ck_assert(kvm_async_pf_try(vcpu, 0x8000, 8, vm->hva + 0x8000, 0));
	ck_assert(kvm_async_pf_try(vcpu, 0x9000, 9, vm->hva + 0x9000, 0));
	/* both work items run on kworkers (one made for each: neither was idle) */
	test_vm_run_steps(vm, "kworker0:exit,kworker1:exit");
	ck_assert(vcpu->requests & (1ul << KVM_REQ_APF_READY));
	ck_assert_ptr_nonnull(strstr(sim_log_text(vm->host->log), "kvm_async_pf_completed: gva "
				     "0x8000 address"));
	/* the slot still holds ~0: nothing is dequeued until the guest ACKs */
	enter(vm);
	ck_assert_int_eq(hw.irqs, 1);
	guest_ack(vm);
	ck_assert_int_eq(hw.irqs, 2);
	ck_assert_uint_eq(guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_TOKEN), 0x1000);
	ck_assert(!kvm_find_async_pf_gfn(vcpu, 8));
	/* the page was prefaulted */
	ck_assert(is_shadow_present_pte(kvm_tdp_mmu_get_walk_last(vcpu, 0x8000, NULL)));
	guest_ack(vm);
	ck_assert_int_eq(hw.irqs, 3);
	ck_assert_uint_eq(guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_TOKEN), 0x2000);
	guest_ack(vm);
	ck_assert_uint_eq(vcpu->async_pf->queued, 0);
	test_vm_free(vm);
}
END_TEST

START_TEST(msr_writes_with_reserved_bits_are_refused)
{
	TestVm *vm = apf_vm(0);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	ck_assert_int_eq(kvm_async_pf_set_msr(vcpu, MSR_KVM_ASYNC_PF_EN, APF_ON | 0x10), 1);
	ck_assert_int_eq(kvm_async_pf_set_msr(vcpu, MSR_KVM_ASYNC_PF_INT, 0x100), 1);
	ck_assert_int_eq(kvm_async_pf_set_msr(vcpu, MSR_KVM_ASYNC_PF_EN,
					      APF_ON | KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT), 1);
	/* without DELIVERY_AS_INT async PF is not enabled at all */
	ck_assert_int_eq(kvm_async_pf_set_msr(vcpu, MSR_KVM_ASYNC_PF_EN,
					      APF_DATA_GPA | KVM_ASYNC_PF_ENABLED), 0);
	ck_assert(!kvm_pv_async_pf_enabled(vcpu));
	test_vm_free(vm);
}
END_TEST

START_TEST(a_token_dropped_after_the_guest_took_it_breaks_the_invariant)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];
	struct kvm_async_pf *work;

	vm->kvm->apf_mode = KVM_APF_MODE_USER_V2;
	work = kvm_setup_async_pf(vcpu, 0x8000, 8, vm->hva + 0x8000, 0, TRUE);
	ck_assert_ptr_nonnull(work);
	u32 token = work->arch.token;

	/* variant 2: nothing injected until the VMM accepts */
	ck_assert_int_eq(hw.page_faults, 0);
	ck_assert_int_eq(kvm_vcpu_ioctl_async_pf_accept(vcpu, token), 0);
	ck_assert_int_eq(hw.page_faults, 1);
	kvm_async_pf_injected(vcpu); /* the CPU delivered it: a guest task now waits on token */
	ck_assert(kvm_async_pf_check(vm->kvm));
	/* a VMM that then says SYNC_COMPLETE drops the only thing that would wake it */
	ck_assert_int_eq(kvm_vcpu_ioctl_async_pf_sync_complete(vcpu, token), 0);
	ck_assert(!kvm_async_pf_check(vm->kvm));
	ck_assert_ptr_nonnull(strstr(sim_sched_failure(vm->host->sched),
				     "invariant apf_token_waits_forever violated"));
	test_vm_free(vm);
}
END_TEST

START_TEST(user_ready_completes_and_the_page_ready_clears_the_wait)
{
	TestVm *vm = apf_vm(APF_ON);
	struct kvm_vcpu *vcpu = vm->vcpu[0];

	enter(vm);
	guest_ack(vm); /* the enable's wakeup_all consumed */
	vm->kvm->apf_mode = KVM_APF_MODE_USER;
	struct kvm_async_pf *work = kvm_setup_async_pf(vcpu, 0x8000, 8, vm->hva + 0x8000, 0, TRUE);
	u32 token = work->arch.token;

	/* RFC v1: 'not present' queued at once, with the exit */
	ck_assert_int_eq(hw.page_faults, 1);
	kvm_async_pf_injected(vcpu);
	ck_assert_int_eq(kvm_vcpu_ioctl_async_pf_user_ready(vcpu, token + 1), -ENOENT);
	ck_assert_int_eq(kvm_vcpu_ioctl_async_pf_user_ready(vcpu, token), 0);
	ck_assert(kvm_async_pf_check(vm->kvm));
	enter(vm);
	ck_assert_uint_eq(guest_u32(vm, APF_DATA_GPA + KVM_APF_DATA_TOKEN), token);
	ck_assert_uint_eq(vcpu->async_pf->awaited->len, 0);
	test_vm_free(vm);
}
END_TEST

static Suite *
apf_suite(void)
{
	Suite *s = suite_create("apf");
	TCase *tc = tcase_create("apf");

	tcase_add_test(tc, hash_finds_colliding_gfns_and_deletes_with_backward_shift);
	tcase_add_test(tc, not_present_injects_pf_with_the_token_in_cr2);
	tcase_add_test(tc, a_second_fault_on_an_outstanding_gfn_halts_instead);
	tcase_add_test(tc, the_guest_that_cannot_take_it_is_halted_or_waits);
	tcase_add_test(tc, the_per_vcpu_limit_falls_back_to_a_synchronous_fault);
	tcase_add_test(tc, page_ready_waits_for_the_free_token_slot_and_the_ack);
	tcase_add_test(tc, msr_writes_with_reserved_bits_are_refused);
	tcase_add_test(tc, a_token_dropped_after_the_guest_took_it_breaks_the_invariant);
	tcase_add_test(tc, user_ready_completes_and_the_page_ready_clears_the_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(apf_suite());
}
