/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Async page faults: the common work-item machinery of virt/kvm/async_pf.c and the x86 part of
 * arch/x86/kvm/x86.c and mmu/mmu.c (trees and commits in mmu/async_pf.h). Work items run on
 * "kworkerN" actors, made as system_wq's concurrency management would: one more whenever an
 * item is queued and every kworker sleeps (in GUP, in userfaultfd). Simplified: no
 * kvm_get_kvm()/mmget() references (the VM outlives its workers in kvmsim), no nested guests, the
 * LAPIC is always in the kernel and enabled, the vCPU is always in 64-bit mode with paging.
 */
#include "mmu/async_pf.h"

#include <errno.h>

#include "mmu/mmu-internal.h"
#include "sim/core/log.h"

/* The kvm_async_pf_* tracepoints, in include/trace/events/kvm.h's formats (read in
 * sean-jc/linux at 0be6b668: kvm_async_get_page_class, kvm_async_pf_nopresent_ready,
 * kvm_async_pf_completed). Their %#llx is written 0x%llx: the kernel's vsnprintf prefixes 0x
 * to a zero too, glibc's does not. */
static void
trace_apf_token(struct kvm *kvm, const char *name, u64 token, u64 gva)
{
	sim_log_emit(kvm->log, name, "token 0x%" G_GINT64_MODIFIER "x gva 0x%" G_GINT64_MODIFIER "x",
		     token, gva);
}

/* kvm_async_get_page_class: kvm_try_async_get_page, kvm_async_pf_repeated_fault. */
static void
trace_apf_get_page(struct kvm *kvm, const char *name, u64 gva, u64 gfn)
{
	sim_log_emit(kvm->log, name, "gva = 0x%" G_GINT64_MODIFIER "x, gfn = 0x%" G_GINT64_MODIFIER
		     "x", gva, gfn);
}

/* Models kvm_async_pf_vcpu_init() (async_pf.c) and the arch hash reset of vCPU creation. */
void
kvm_async_pf_vcpu_init(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = g_new0(struct kvm_vcpu_async_pf, 1);

	g_queue_init(&apf->queue);
	g_queue_init(&apf->done);
	apf->awaited = g_array_new(FALSE, FALSE, sizeof(u32));
	vcpu->async_pf = apf;
	kvm_async_pf_hash_reset(vcpu);
}

/* The vCPU goes: its work items with it (the actors of running ones hold no pointer to it). */
void
kvm_async_pf_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work;

	if (!apf)
		return;
	while ((work = g_queue_pop_head(&apf->done)))
		if (work->wakeup_all)
			g_free(work);
	while ((work = g_queue_pop_head(&apf->queue))) {
		if (work->vcpu)
			work->vcpu = NULL; /* its actor is abandoned with the scheduler */
		else
			g_free(work);
	}
	g_array_free(apf->awaited, TRUE);
	g_free(apf);
	vcpu->async_pf = NULL;
}

/* Models kvm_async_pf_hash_reset() (x86.c). */
void
kvm_async_pf_hash_reset(struct kvm_vcpu *vcpu)
{
	for (int i = 0; i < ASYNC_PF_PER_VCPU; i++)
		vcpu->async_pf->gfns[i] = ~(gfn_t)0;
}

/* Models kvm_async_pf_hash_fn(): hash_32() of the low 32 bits, order_base_2(64) = 6 bits. */
static u32
kvm_async_pf_hash_fn(gfn_t gfn)
{
	return ((u32)(gfn & 0xffffffffu) * 0x61C88647u) >> (32 - 6);
}

/* Models kvm_async_pf_next_probe() (x86.c): linear probing, wrapping at 64. */
static u32
kvm_async_pf_next_probe(u32 key)
{
	return (key + 1) & (ASYNC_PF_PER_VCPU - 1);
}

/* Models kvm_add_async_pf_gfn(): linear probing into the first free slot. */
void
kvm_add_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	u32 key = kvm_async_pf_hash_fn(gfn);

	while (vcpu->async_pf->gfns[key] != ~(gfn_t)0)
		key = kvm_async_pf_next_probe(key);
	vcpu->async_pf->gfns[key] = gfn;
}

/* Models kvm_async_pf_gfn_slot(). */
static u32
kvm_async_pf_gfn_slot(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	u32 key = kvm_async_pf_hash_fn(gfn);

	for (int i = 0; i < ASYNC_PF_PER_VCPU && vcpu->async_pf->gfns[key] != gfn &&
			vcpu->async_pf->gfns[key] != ~(gfn_t)0; i++)
		key = kvm_async_pf_next_probe(key);
	return key;
}

/* Models kvm_find_async_pf_gfn() (x86.c). */
gboolean
kvm_find_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	return vcpu->async_pf->gfns[kvm_async_pf_gfn_slot(vcpu, gfn)] == gfn;
}

/* Models kvm_del_async_pf_gfn(): backward-shift deletion, so later probes still find theirs. */
void
kvm_del_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn)
{
	gfn_t *gfns = vcpu->async_pf->gfns;
	u32 i, j, k;

	i = j = kvm_async_pf_gfn_slot(vcpu, gfn);
	if (gfns[i] != gfn) {
		g_warning("kvm_del_async_pf_gfn: gfn %" G_GINT64_MODIFIER "x not hashed", gfn);
		return;
	}
	for (;;) {
		gfns[i] = ~(gfn_t)0;
		do {
			j = kvm_async_pf_next_probe(j);
			if (gfns[j] == ~(gfn_t)0)
				return;
			k = kvm_async_pf_hash_fn(gfns[j]);
		} while ((i <= j) ? (i < k && k <= j) : (i < k || k <= j));
		gfns[i] = gfns[j];
		i = j;
	}
}

/* Models kvm_pv_async_pf_enabled() (x86.c). */
gboolean
kvm_pv_async_pf_enabled(struct kvm_vcpu *vcpu)
{
	u64 mask = KVM_ASYNC_PF_ENABLED | KVM_ASYNC_PF_DELIVERY_AS_INT;

	return vcpu->async_pf && (vcpu->async_pf->msr_en_val & mask) == mask;
}

/* kvm_write_guest_cached()/kvm_read_guest_offset_cached() of one u32 of the apf data: through
 * the memslot's hva, as copy_to_user() would (it may fault the host page in). */
static int
apf_guest_u32(struct kvm_vcpu *vcpu, guint offset, u32 *val, gboolean write)
{
	gpa_t gpa = vcpu->async_pf->data_gpa + offset;
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(vcpu, gpa >> PAGE_SHIFT);
	gboolean writable;
	SimPfn pfn;

	if (!slot)
		return -EFAULT;
	hva_t hva = gfn_to_hva_memslot(slot, gpa >> PAGE_SHIFT);

	if (sim_mm_hva_to_pfn(vcpu->kvm->mm, hva, write, &pfn, &writable) < 0)
		return -EFAULT;
	if (write)
		sim_frame_write(vcpu->kvm->hm, pfn, (guint)(gpa & (PAGE_SIZE - 1)), val, sizeof(*val));
	else
		sim_frame_read(vcpu->kvm->hm, pfn, (guint)(gpa & (PAGE_SIZE - 1)), val, sizeof(*val));
	sim_frame_put(vcpu->kvm->hm, pfn);
	return 0;
}

/* Models kvm_can_deliver_async_pf(): enabled, and CPL > 0 unless SEND_ALWAYS (kvmsim's guests
 * run at CPL 0, so they set it). */
static gboolean
kvm_can_deliver_async_pf(struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ops *ops = vcpu->kvm->hw_ops;

	if (!kvm_pv_async_pf_enabled(vcpu))
		return FALSE;
	if (!vcpu->async_pf->send_always && (!ops->get_cpl || !ops->get_cpl(vcpu)))
		return FALSE;
	return TRUE;
}

/* Models kvm_can_do_async_pf() (x86.c); no halt-in-guest, the LAPIC in kernel. */
gboolean
kvm_can_do_async_pf(struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ops *ops = vcpu->kvm->hw_ops;

	if (!vcpu->async_pf || !ops->interrupt_allowed || !ops->event_pending)
		return FALSE;
	if (ops->event_pending(vcpu))
		return FALSE;
	/* if interrupts are off, not even the artificial halt can be used */
	return ops->interrupt_allowed(vcpu);
}

/* Models kvm_arch_async_page_not_present(): TRUE if the #PF was queued, else a halt. */
static gboolean
kvm_arch_async_page_not_present(struct kvm_vcpu *vcpu, struct kvm_async_pf *work)
{
	struct kvm *kvm = vcpu->kvm;
	u32 reason = KVM_PV_REASON_PAGE_NOT_PRESENT;

	trace_apf_token(kvm, "kvm_async_pf_not_present", work->arch.token, work->cr2_or_gpa);
	sim_count(kvm->counters, SIM_CTR_APF_NOT_PRESENT);
	kvm_add_async_pf_gfn(vcpu, work->arch.gfn);
	if (kvm_can_deliver_async_pf(vcpu) &&
	    apf_guest_u32(vcpu, KVM_APF_DATA_FLAGS, &reason, TRUE) == 0) {
		vcpu->async_pf->injecting = work;
		vcpu->async_pf->injecting_token = work->arch.token;
		kvm->hw_ops->queue_page_fault(vcpu, work->arch.token, 0);
		vcpu->requests |= 1ul << KVM_REQ_EVENT;
		return TRUE;
	}
	vcpu->requests |= 1ul << KVM_REQ_APF_HALT;
	return FALSE;
}

/* Models kvm_arch_async_page_present_queued() (x86.c, read in ColinIanKing/linux-next at
 * 046408cf): KVM_REQ_APF_READY, and kvm_vcpu_kick() unless a 'page ready' is still pending. */
static void
kvm_arch_async_page_present_queued(struct kvm_vcpu *vcpu)
{
	vcpu->requests |= 1ul << KVM_REQ_APF_READY;
	if (!vcpu->async_pf->pageready_pending)
		kvm_vcpu_kick(vcpu);
}

/* The end of async_pf_execute() (async_pf.c): done list, present_queued, the trace. */
void
kvm_async_pf_complete(struct kvm_async_pf *work)
{
	struct kvm_vcpu *vcpu = work->vcpu;
	struct kvm *kvm = vcpu->kvm;
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	gboolean first;

	sim_spin_lock(kvm->sched, &apf->lock, "apf.lock");
	first = g_queue_is_empty(&apf->done);
	g_queue_push_tail(&apf->done, work);
	work->done = TRUE;
	work->ready_step = sim_sched_now(kvm->sched);
	work->vcpu = NULL;
	sim_spin_unlock(kvm->sched, &apf->lock, "apf.unlock");
	if (first)
		kvm_arch_async_page_present_queued(vcpu);
	sim_count(kvm->counters, SIM_CTR_APF_COMPLETED);
	sim_log_emit(kvm->log, "kvm_async_pf_completed", "gva 0x%" G_GINT64_MODIFIER "x address 0x%"
		     G_GINT64_MODIFIER "x", work->cr2_or_gpa, work->addr);
}

/* system_wq as async PF uses it: kvm_setup_async_pf() (virt/kvm/async_pf.c, sean-jc/linux at
 * 2dfca51f) calls schedule_work(), which queues on system_wq (include/linux/workqueue.h,
 * ColinIanKing/linux-next at 70f65c17); workqueue_init_early() (kernel/workqueue.c at 0fe33688)
 * makes it per-CPU with max_active 0, the default WQ_DFL_ACTIVE = WQ_MAX_ACTIVE / 2 = 1024 items
 * in flight per CPU in that tree (256 before "workqueue: Adjust WQ_MAX_ACTIVE from 512 to 2048",
 * linux-kernel list, 2024-09). Items run in order on kworkers that may each sleep in GUP; a new
 * worker is made when an item is queued and none is idle (concurrency management spawning a
 * kworker when the running ones sleep). Simplified: one pool for every host CPU, so the cap is
 * the VM's, not each CPU's. Workers live as long as the VM's guest. */
#define APF_MAX_WORKERS 1024

struct kvm_async_pf_pool {
	GQueue pending;    /* struct kvm_async_pf *, queued by schedule_work() */
	guint workers;
	guint idle;
};

/* Models async_pf_execute(): the blocking GUP with FOLL_WRITE, then the done list. */
static void
async_pf_execute(struct kvm *kvm, struct kvm_async_pf *work)
{
	gboolean writable;
	SimPfn pfn;

	if (!work->vcpu) { /* cancelled (kvm_clear_async_pf_completion_queue()) */
		g_free(work);
		return;
	}
	sim_yield(kvm->sched, "apf.execute");
	if (sim_mm_hva_to_pfn(kvm->mm, work->addr, TRUE, &pfn, &writable) == 0)
		sim_frame_put(kvm->hm, pfn);
	if (!work->vcpu) { /* the vCPU gave it up meanwhile */
		g_free(work);
		return;
	}
	kvm_async_pf_complete(work);
}

/* An idle kworker wakes for queued work, or to return once the guest ended. */
static gboolean
worker_wakes(gpointer data)
{
	struct kvm *kvm = data;

	return !g_queue_is_empty(&kvm->apf_pool->pending) ||
	       (kvm->apf_ended && kvm->apf_ended(kvm->apf_ended_data));
}

/* A kworker: run queued items until the guest has ended and none is left. */
static void
apf_worker(SimActor *actor, gpointer data)
{
	struct kvm *kvm = data;
	struct kvm_async_pf_pool *pool = kvm->apf_pool;

	for (;;) {
		struct kvm_async_pf *work = g_queue_pop_head(&pool->pending);

		if (work) {
			async_pf_execute(kvm, work);
			continue;
		}
		if (kvm->apf_ended && kvm->apf_ended(kvm->apf_ended_data))
			break;
		pool->idle++;
		sim_wait(kvm->sched, "kworker idle", worker_wakes, kvm);
		pool->idle--;
	}
}

/* schedule_work(): queue the item, and a new kworker if none is idle. */
static void
schedule_work(struct kvm *kvm, struct kvm_async_pf *work)
{
	struct kvm_async_pf_pool *pool = kvm->apf_pool;

	if (!pool)
		pool = kvm->apf_pool = g_new0(struct kvm_async_pf_pool, 1);
	g_queue_push_tail(&pool->pending, work);
	if (pool->idle < pool->pending.length && pool->workers < APF_MAX_WORKERS) {
		g_autofree gchar *name = g_strdup_printf("kworker%u", pool->workers++);

		sim_actor_new(kvm->sched, name, apf_worker, kvm);
	}
}

/* The VM goes: free the pool and the cancelled items still queued on it. */
void
kvm_async_pf_destroy(struct kvm *kvm)
{
	struct kvm_async_pf *work;

	if (!kvm->apf_pool)
		return;
	while ((work = g_queue_pop_head(&kvm->apf_pool->pending)))
		if (!work->vcpu)
			g_free(work);
	g_clear_pointer(&kvm->apf_pool, g_free);
}

/* Models alloc_apf_token() (mmu.c): never 0. */
static u32
alloc_apf_token(struct kvm_vcpu *vcpu)
{
	u32 id = vcpu->async_pf->id;

	if (id << 12 == 0)
		vcpu->async_pf->id = 1;
	return (vcpu->async_pf->id++ << 12) | (u32)vcpu->vcpu_id;
}

/* Models kvm_setup_async_pf() (async_pf.c) and kvm_arch_setup_async_pf() (mmu.c). */
struct kvm_async_pf *
kvm_setup_async_pf(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva, u64 error_code,
		   gboolean user)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work;

	if (apf->queued >= ASYNC_PF_PER_VCPU)
		return NULL;
	work = g_new0(struct kvm_async_pf, 1);
	work->vcpu = vcpu;
	work->vcpu_id = vcpu->vcpu_id;
	work->cr2_or_gpa = gpa;
	work->addr = hva;
	work->user = user;
	work->arch.token = alloc_apf_token(vcpu);
	work->arch.gfn = gfn;
	work->arch.error_code = error_code;
	g_queue_push_tail(&apf->queue, work);
	apf->queued++;
	/* variant 2 injects only once userspace accepts the fault as asynchronous */
	if (!user || vcpu->kvm->apf_mode != KVM_APF_MODE_USER_V2)
		work->notpresent_injected = kvm_arch_async_page_not_present(vcpu, work);
	if (!user)
		schedule_work(vcpu->kvm, work);
	return work;
}

/* The async branch of __kvm_mmu_faultin_pfn() (mmu.c at 1c60d04a). */
gboolean
kvm_async_pf_try(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva, u64 error_code)
{
	struct kvm *kvm = vcpu->kvm;

	if (!kvm_can_do_async_pf(vcpu)) {
		sim_count(kvm->counters, SIM_CTR_APF_SYNC_FALLBACK);
		return FALSE;
	}
	trace_apf_get_page(kvm, "kvm_try_async_get_page", gpa, gfn);
	if (kvm_find_async_pf_gfn(vcpu, gfn)) {
		trace_apf_get_page(kvm, "kvm_async_pf_repeated_fault", gpa, gfn);
		sim_count(kvm->counters, SIM_CTR_APF_REPEATED_FAULTS);
		vcpu->requests |= 1ul << KVM_REQ_APF_HALT;
		return TRUE;
	}
	if (kvm_setup_async_pf(vcpu, gpa, gfn, hva, error_code, FALSE))
		return TRUE;
	sim_count(kvm->counters, SIM_CTR_APF_SYNC_FALLBACK);
	return FALSE;
}

/* Models kvm_async_pf_wakeup_all() (async_pf.c): a fake item with token ~0. */
int
kvm_async_pf_wakeup_all(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work;

	if (!g_queue_is_empty(&apf->done))
		return 0;
	work = g_new0(struct kvm_async_pf, 1);
	work->wakeup_all = TRUE;
	work->done = TRUE;
	work->vcpu_id = vcpu->vcpu_id;
	g_queue_push_tail(&apf->done, work);
	kvm_arch_async_page_present_queued(vcpu);
	apf->queued++;
	return 0;
}

/* Models kvm_arch_async_page_ready() (mmu.c): prefault the gfn (a prefetch fault). */
static void
kvm_arch_async_page_ready(struct kvm_vcpu *vcpu, struct kvm_async_pf *work)
{
	if (work->wakeup_all)
		return;
	kvm_mmu_prefault_page(vcpu, work->cr2_or_gpa, work->arch.error_code);
}

/* A 'page ready' for token (~0: all) is on its way: the guest's waiters will wake. */
static void
apf_awaited_remove(struct kvm_vcpu *vcpu, u32 token)
{
	GArray *awaited = vcpu->async_pf->awaited;

	for (guint i = awaited->len; i-- > 0;)
		if (token == ~0u || g_array_index(awaited, u32, i) == token)
			g_array_remove_index(awaited, i);
}

/* Models kvm_arch_async_page_present(): unhash, write the token, raise the vector. */
static void
kvm_arch_async_page_present(struct kvm_vcpu *vcpu, struct kvm_async_pf *work)
{
	struct kvm *kvm = vcpu->kvm;
	u32 token = work->wakeup_all ? ~0u : work->arch.token;

	if (!work->wakeup_all)
		kvm_del_async_pf_gfn(vcpu, work->arch.gfn);
	trace_apf_token(kvm, "kvm_async_pf_ready", token, work->cr2_or_gpa);
	sim_count(kvm->counters, SIM_CTR_APF_READY);
	if ((work->wakeup_all || work->notpresent_injected) && kvm_pv_async_pf_enabled(vcpu) &&
	    apf_guest_u32(vcpu, KVM_APF_DATA_TOKEN, &token, TRUE) == 0) {
		vcpu->async_pf->pageready_pending = TRUE;
		kvm->hw_ops->apic_set_irq(vcpu, vcpu->async_pf->vec);
		apf_awaited_remove(vcpu, token);
	}
	vcpu->async_pf->halted = FALSE;
}

/* Models kvm_arch_can_dequeue_async_page_present(): the guest's token slot is free. */
static gboolean
kvm_arch_can_dequeue_async_page_present(struct kvm_vcpu *vcpu)
{
	u32 val = 1;

	if (!kvm_pv_async_pf_enabled(vcpu))
		return TRUE;
	return apf_guest_u32(vcpu, KVM_APF_DATA_TOKEN, &val, FALSE) == 0 && val == 0;
}

/* Models kvm_check_async_pf_completion() (async_pf.c). */
void
kvm_check_async_pf_completion(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work;

	while (!g_queue_is_empty(&apf->done) && kvm_arch_can_dequeue_async_page_present(vcpu)) {
		sim_spin_lock(vcpu->kvm->sched, &apf->lock, "apf.lock");
		work = g_queue_pop_head(&apf->done);
		sim_spin_unlock(vcpu->kvm->sched, &apf->lock, "apf.unlock");
		kvm_arch_async_page_ready(vcpu, work);
		kvm_arch_async_page_present(vcpu, work);
		g_queue_remove(&apf->queue, work);
		apf->queued--;
		if (apf->injecting == work)
			apf->injecting = NULL;
		g_free(work);
	}
}

/* Models kvm_clear_async_pf_completion_queue() (async_pf.c): cancel, free. */
void
kvm_clear_async_pf_completion_queue(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work;
	GList *l;

	/* running items are cancelled (their actors see vcpu NULL); user ones just dropped */
	for (l = apf->queue.head; l; l = l->next) {
		work = l->data;
		if (work->vcpu) {
			work->vcpu = NULL;
			if (work->user)
				g_free(work);
		}
	}
	g_queue_clear(&apf->queue);
	while ((work = g_queue_pop_head(&apf->done)))
		g_free(work);
	apf->queued = 0;
	apf->injecting = NULL;
}

/* Models the three MSR cases of kvm_set_msr_common() (x86.c at 046408cf). */
int
kvm_async_pf_set_msr(struct kvm_vcpu *vcpu, u32 msr, u64 data)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;

	switch (msr) {
	case MSR_KVM_ASYNC_PF_EN: /* kvm_pv_enable_async_pf() */
		if (data & 0x30)
			return 1;
		if (data & KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT)
			return 1; /* KVM_FEATURE_ASYNC_PF_VMEXIT: no nested guests here */
		apf->msr_en_val = data;
		if (!kvm_pv_async_pf_enabled(vcpu)) {
			kvm_clear_async_pf_completion_queue(vcpu);
			kvm_async_pf_hash_reset(vcpu);
			return 0;
		}
		apf->data_gpa = data & ~0x3full;
		if (!kvm_vcpu_gfn_to_memslot(vcpu, apf->data_gpa >> PAGE_SHIFT))
			return 1;
		apf->send_always = (data & KVM_ASYNC_PF_SEND_ALWAYS) != 0;
		kvm_async_pf_wakeup_all(vcpu);
		return 0;
	case MSR_KVM_ASYNC_PF_INT: /* kvm_pv_enable_async_pf_int() */
		if (data >> 8)
			return 1;
		apf->msr_int_val = data;
		apf->vec = (u8)(data & KVM_ASYNC_PF_VEC_MASK);
		return 0;
	case MSR_KVM_ASYNC_PF_ACK:
		if (data & 1) {
			apf->pageready_pending = FALSE;
			kvm_check_async_pf_completion(vcpu);
		}
		return 0;
	}
	return 1;
}

/* The async PF part of kvm_arch_vcpu_runnable(): a completed item. */
gboolean
kvm_async_pf_vcpu_runnable(struct kvm_vcpu *vcpu)
{
	return !g_queue_is_empty(&vcpu->async_pf->done);
}

/* Items set up and not yet freed on this vCPU. */
gboolean
kvm_async_pf_outstanding(struct kvm_vcpu *vcpu)
{
	return vcpu->async_pf && vcpu->async_pf->queued > 0;
}

/* KVM_REQ_APF_HALT and KVM_REQ_APF_READY as vcpu_enter_guest() serves them. */
gboolean
kvm_async_pf_enter_guest(struct kvm_vcpu *vcpu)
{
	if (!vcpu->async_pf)
		return FALSE;
	if (vcpu->requests & (1ul << KVM_REQ_APF_HALT)) {
		vcpu->requests &= ~(1ul << KVM_REQ_APF_HALT);
		vcpu->async_pf->halted = TRUE;
		sim_count(vcpu->kvm->counters, SIM_CTR_APF_HALTS);
		sim_log_emit(vcpu->kvm->log, "sim_apf_halt", "vcpu %d halted until a page is ready",
			     vcpu->vcpu_id);
		return TRUE;
	}
	if (vcpu->requests & (1ul << KVM_REQ_APF_READY)) {
		vcpu->requests &= ~(1ul << KVM_REQ_APF_READY);
		kvm_check_async_pf_completion(vcpu);
	}
	return FALSE;
}

/* The CPU delivered the queued not-present #PF: note its token, count a useless one. */
void
kvm_async_pf_injected(struct kvm_vcpu *vcpu)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work = apf->injecting;
	struct kvm *kvm = vcpu->kvm;
	u32 token = apf->injecting_token;

	sim_count(kvm->counters, SIM_CTR_APF_INJECTED);
	if (!work || work->done) {
		/* the page was ready before the guest even saw it missing */
		sim_count(kvm->counters, SIM_CTR_POSTCOPY_USELESS_APF);
		sim_log_emit(kvm->log, "sim_apf_useless_injection",
			     "vcpu %d 'page not present' #PF token %#x delivered after its page was "
			     "ready", vcpu->vcpu_id, token);
	}
	if (work) {
		work->delivered = TRUE;
		g_array_append_val(apf->awaited, token);
	}
	apf->injecting = NULL;
}

/* Whether KVM still holds the work of token on this vCPU (queued, running or done). */
static gboolean
apf_token_held(struct kvm_vcpu *vcpu, u32 token)
{
	for (GList *l = vcpu->async_pf->queue.head; l; l = l->next)
		if (((struct kvm_async_pf *)l->data)->arch.token == token)
			return TRUE;
	return FALSE;
}

/* The invariant apf_token_waits_forever, over every vCPU: a token the guest took 'page not
 * present' for and KVM no longer holds gets no 'page ready', so its task waits forever. */
gboolean
kvm_async_pf_check(struct kvm *kvm)
{
	for (int i = 0; i < kvm->online_vcpus; i++) {
		struct kvm_vcpu *vcpu = kvm->vcpus[i];
		GArray *awaited = vcpu->async_pf ? vcpu->async_pf->awaited : NULL;

		for (guint t = 0; awaited && t < awaited->len; t++) {
			u32 token = g_array_index(awaited, u32, t);

			if (apf_token_held(vcpu, token))
				continue;
			kvm_invariant_failed(kvm, "apf_token_waits_forever",
					     "vcpu %d token %#x is no longer held by KVM",
					     vcpu->vcpu_id, token);
			return FALSE;
		}
	}
	return TRUE;
}

/* PROPOSED async PF user (RFC v1, variant 2): the work item of a userfault exit. */
int
kvm_async_pf_user_fault(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva, u64 error_code)
{
	struct kvm *kvm = vcpu->kvm;
	struct kvm_async_pf *work;

	if (kvm->apf_mode < KVM_APF_MODE_USER ||
	    !(vcpu->run.memory_fault.flags & KVM_MEMORY_EXIT_FLAG_USERFAULT))
		return -EFAULT;
	if (!kvm_can_do_async_pf(vcpu)) {
		sim_count(kvm->counters, SIM_CTR_APF_SYNC_FALLBACK);
		return -EFAULT;
	}
	trace_apf_get_page(kvm, "kvm_try_async_get_page", gpa, gfn);
	if (kvm_find_async_pf_gfn(vcpu, gfn)) {
		trace_apf_get_page(kvm, "kvm_async_pf_repeated_fault", gpa, gfn);
		sim_count(kvm->counters, SIM_CTR_APF_REPEATED_FAULTS);
		vcpu->requests |= 1ul << KVM_REQ_APF_HALT;
		vcpu->run.exit_reason = 0;
		return RET_PF_RETRY;
	}
	work = kvm_setup_async_pf(vcpu, gpa, gfn, hva, error_code, TRUE);
	if (!work) {
		sim_count(kvm->counters, SIM_CTR_APF_SYNC_FALLBACK);
		return -EFAULT;
	}
	vcpu->run.memory_fault.flags |= KVM_MEMORY_EXIT_FLAG_ASYNC_PF_USER;
	vcpu->run.memory_fault.async_pf_user_token = work->arch.token;
	sim_count(kvm->counters, SIM_CTR_APF_USER_EXITS);
	sim_log_emit(kvm->log, "sim_async_pf_user_exit", "vcpu %d gfn %" G_GINT64_MODIFIER
		     "x token %#x%s", vcpu->vcpu_id, gfn, work->arch.token,
		     work->notpresent_injected ? " ('not present' #PF queued)" : "");
	return -EFAULT;
}

/* The user work item of token that userspace has not completed yet. */
struct kvm_async_pf *
kvm_async_pf_user_find(struct kvm_vcpu *vcpu, u32 token)
{
	for (GList *l = vcpu->async_pf->queue.head; l; l = l->next) {
		struct kvm_async_pf *work = l->data;

		if (work->arch.token == token && work->user && work->vcpu)
			return work;
	}
	return NULL;
}

/* PROPOSED KVM_ASYNC_PF_USER_READY / KVM_APF_OP_READY. */
int
kvm_vcpu_ioctl_async_pf_user_ready(struct kvm_vcpu *vcpu, u32 token)
{
	struct kvm_async_pf *work = kvm_async_pf_user_find(vcpu, token);

	if (!work)
		return -ENOENT;
	kvm_async_pf_complete(work);
	return 0;
}

/* PROPOSED KVM_APF_OP_ACCEPT (variant 2): now inject the not-present #PF. */
int
kvm_vcpu_ioctl_async_pf_accept(struct kvm_vcpu *vcpu, u32 token)
{
	struct kvm_async_pf *work = kvm_async_pf_user_find(vcpu, token);

	if (!work)
		return -ENOENT;
	work->notpresent_injected = kvm_arch_async_page_not_present(vcpu, work);
	return 0;
}

/* PROPOSED KVM_APF_OP_SYNC_COMPLETE (variant 2): drop the item, inject nothing. */
int
kvm_vcpu_ioctl_async_pf_sync_complete(struct kvm_vcpu *vcpu, u32 token)
{
	struct kvm_vcpu_async_pf *apf = vcpu->async_pf;
	struct kvm_async_pf *work = kvm_async_pf_user_find(vcpu, token);

	if (!work)
		return -ENOENT;
	/* nothing was injected or hashed: the vCPU simply retries */
	g_queue_remove(&apf->queue, work);
	apf->queued--;
	g_free(work);
	return 0;
}
