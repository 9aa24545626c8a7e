/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Asynchronous page faults (x86 KVM PV async PF, mainline) and the proposed async PF user.
 *
 * Mainline, read in sean-jc/linux virt/kvm/async_pf.c at 2dfca51f (6.x: __kvm_vcpu_wake_up(),
 * the local "kvm_host.h" include) and ColinIanKing/linux-next at 046408cf arch/x86/kvm/x86.c
 * (the gfn hash, kvm_can_deliver_async_pf(), the MSRs), 1c60d04a arch/x86/kvm/mmu/mmu.c
 * (__kvm_mmu_faultin_pfn(), kvm_arch_setup_async_pf(), kvm_arch_async_page_ready()) and
 * arch/x86/include/asm/kvm_host.h at 046408cf (request numbers, ASYNC_PF_PER_VCPU):
 *
 *   EPT violation -> GUP(FOLL_NOWAIT) needs I/O -> token, gfn hashed, 'page not present' #PF
 *   (CR2 = token, apf.flags = 1) or KVM_REQ_APF_HALT -> a work item ("kworkerN" actor) does the
 *   blocking GUP -> done list, KVM_REQ_APF_READY -> on entry, when apf.token is free: prefault,
 *   write the token, raise the vector -> guest wakes its task, clears the token, writes the ACK
 *   MSR -> the next one.
 *
 * Async PF user (Nikita Kalyazin's RFC of 2024-11-18; the search index holds no copy, so the
 * uAPI is as guest-memfd.md §4.4 describes it): a KVM Userfault exit also sets up a work item
 * whose page comes from userspace; KVM_ASYNC_PF_USER_READY completes it. Variant 2 (the 2026
 * iteration with KVM_APF_OP_*): the 'not present' #PF is injected only when userspace accepts
 * the fault as asynchronous.
 */
#ifndef KVMSIM_MMU_ASYNC_PF_H
#define KVMSIM_MMU_ASYNC_PF_H

#include "mmu/mmu.h"

/* arch/x86/include/asm/kvm_host.h (ColinIanKing/linux-next at 046408cf) */
#define ASYNC_PF_PER_VCPU 64
#define KVM_REQ_EVENT KVM_ARCH_REQ(6)
#define KVM_REQ_APF_HALT KVM_ARCH_REQ(7)
#define KVM_REQ_APF_READY KVM_ARCH_REQ(28)

/* arch/x86/include/uapi/asm/kvm_para.h (also in workloads/abi.h for guests) */
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06
#define MSR_KVM_ASYNC_PF_ACK 0x4b564d07
#define KVM_ASYNC_PF_ENABLED (1 << 0)
#define KVM_ASYNC_PF_SEND_ALWAYS (1 << 1)
#define KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT (1 << 2)
#define KVM_ASYNC_PF_DELIVERY_AS_INT (1 << 3)
#define KVM_ASYNC_PF_VEC_MASK 0xff
#define KVM_PV_REASON_PAGE_NOT_PRESENT 1
#define KVM_PV_REASON_PAGE_READY 2
/* struct kvm_vcpu_pv_apf_data { __u32 flags; __u32 token; __u8 pad[56]; } */
#define KVM_APF_DATA_FLAGS 0
#define KVM_APF_DATA_TOKEN 4

/* PROPOSED (guest-memfd.md §4.4): the exit flag of async PF user. Variant 2's
 * KVM_MEMORY_EXIT_FLAG_APF has no value in the reference: kvmsim gives it the same bit. */
#define KVM_MEMORY_EXIT_FLAG_ASYNC_PF_USER (1ull << 5)

/* Which protocol a VM's vCPUs use when a fault needs the page from elsewhere. */
typedef enum {
	KVM_APF_MODE_NONE,      /* no async PF: GUP waits (default) */
	KVM_APF_MODE_KERNEL,    /* mainline async PF: a kernel worker does the blocking GUP */
	KVM_APF_MODE_USER,      /* async PF user (RFC v1): userspace fetches, USER_READY */
	KVM_APF_MODE_USER_V2,   /* the later iteration: userspace accepts or completes it */
} KvmApfMode;

/* struct kvm_async_pf (include/linux/kvm_host.h) with the x86 arch part. */
struct kvm_async_pf {
	struct kvm_vcpu *vcpu;     /* NULL once done, or cancelled while queued or running */
	int vcpu_id;
	gpa_t cr2_or_gpa;
	hva_t addr;
	struct {
		u32 token;
		gfn_t gfn;
		u64 error_code;
	} arch;
	gboolean wakeup_all;
	gboolean notpresent_injected;
	gboolean user;             /* async PF user: userspace brings the page */
	gboolean done;             /* on the done list */
	gboolean delivered;        /* the 'not present' #PF reached the guest */
	guint64 ready_step;        /* logical step it went to the done list */
};

/* Per vCPU: vcpu->async_pf (common) and vcpu->arch.apf (x86) together. */
struct kvm_vcpu_async_pf {
	GQueue queue;              /* struct kvm_async_pf *, set up and not yet freed */
	GQueue done;               /* completed, waiting for kvm_check_async_pf_completion() */
	u32 queued;
	SimSpinlock lock;
	gfn_t gfns[ASYNC_PF_PER_VCPU];
	u32 id;
	u64 msr_en_val;
	u64 msr_int_val;
	u8 vec;
	gboolean send_always;
	gboolean pageready_pending;
	gboolean halted;           /* KVM_REQ_APF_HALT: blocked until a page is ready */
	gpa_t data_gpa;            /* struct kvm_vcpu_pv_apf_data */
	/* the not-present #PF queued for injection, and its work (NULL once the work is freed) */
	struct kvm_async_pf *injecting;
	u32 injecting_token;       /* its token, which outlives the work */
	GArray *awaited;           /* u32 tokens the guest took 'not present' for, no 'ready' yet */
};

void kvm_async_pf_vcpu_init(struct kvm_vcpu *vcpu);
/* The VM goes: its work items not yet run. */
void kvm_async_pf_destroy(struct kvm *kvm);
void kvm_async_pf_vcpu_destroy(struct kvm_vcpu *vcpu);

/* Models kvm_pv_async_pf_enabled() (x86.c): ENABLED and DELIVERY_AS_INT both set. */
gboolean kvm_pv_async_pf_enabled(struct kvm_vcpu *vcpu);
/* Models kvm_can_do_async_pf() (x86.c): LAPIC in kernel, no event to reinject, interrupts
 * allowed. */
gboolean kvm_can_do_async_pf(struct kvm_vcpu *vcpu);
/* Models kvm_find_async_pf_gfn() (x86.c). */
gboolean kvm_find_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn);
/* The gfn hash alone, for tests: kvm_add_async_pf_gfn() / kvm_del_async_pf_gfn() and the
 * reset. */
void kvm_add_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn);
void kvm_del_async_pf_gfn(struct kvm_vcpu *vcpu, gfn_t gfn);
void kvm_async_pf_hash_reset(struct kvm_vcpu *vcpu);

/*
 * The async part of __kvm_mmu_faultin_pfn() (mmu.c): called when GUP with FOLL_NOWAIT says the
 * page needs I/O. TRUE: RET_PF_RETRY (a work item was set up, or a repeated fault asked for
 * KVM_REQ_APF_HALT); FALSE: fault the page in synchronously.
 */
gboolean kvm_async_pf_try(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva,
			  u64 error_code);
/* Models kvm_setup_async_pf() (async_pf.c) with kvm_arch_setup_async_pf() (mmu.c). */
struct kvm_async_pf *kvm_setup_async_pf(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva,
					u64 error_code, gboolean user);
/* Models kvm_async_pf_wakeup_all() (async_pf.c). */
int kvm_async_pf_wakeup_all(struct kvm_vcpu *vcpu);
/* Models kvm_check_async_pf_completion() (async_pf.c), on entry when KVM_REQ_APF_READY. */
void kvm_check_async_pf_completion(struct kvm_vcpu *vcpu);
/* Models kvm_clear_async_pf_completion_queue() (async_pf.c). */
void kvm_clear_async_pf_completion_queue(struct kvm_vcpu *vcpu);
/* A work item's page is in place: the done list and KVM_REQ_APF_READY (the end of
 * async_pf_execute(); KVM_ASYNC_PF_USER_READY for a user one). */
void kvm_async_pf_complete(struct kvm_async_pf *work);

/* Models kvm_set_msr_common()'s three async PF MSRs: 0, or 1 (the guest gets #GP). */
int kvm_async_pf_set_msr(struct kvm_vcpu *vcpu, u32 msr, u64 data);
/* The vCPU is halted by KVM_REQ_APF_HALT and may run again (a page is ready). */
gboolean kvm_async_pf_vcpu_runnable(struct kvm_vcpu *vcpu);
/* Pending async PF work of any kind: a guest halt with interrupts on may be woken by it. */
gboolean kvm_async_pf_outstanding(struct kvm_vcpu *vcpu);
/* Requests before entry: KVM_REQ_APF_HALT (returns TRUE: block until runnable) and
 * KVM_REQ_APF_READY, as vcpu_enter_guest() serves them. */
gboolean kvm_async_pf_enter_guest(struct kvm_vcpu *vcpu);
/* The hardware delivered the queued 'not present' #PF (for the useless-injection count). */
void kvm_async_pf_injected(struct kvm_vcpu *vcpu);

/*
 * The invariant apf_token_waits_forever: every token the guest took a 'page not present' #PF
 * for is still held by KVM (its work queued or done) until its 'page ready' was injected. FALSE
 * with the run failed (sim_sched_fail(), "sim_invariant" logged) when one is not.
 */
gboolean kvm_async_pf_check(struct kvm *kvm);

/*
 * PROPOSED async PF user, on a KVM Userfault exit KVM has prepared (run.memory_fault): a work
 * item whose page userspace brings, its token in the exit with KVM_MEMORY_EXIT_FLAG_ASYNC_PF_USER
 * (returns -EFAULT: the exit); or, for a gfn already outstanding on this vCPU, the
 * double-fault rule: KVM_REQ_APF_HALT and RET_PF_RETRY, no exit. Without async PF user, or when
 * it cannot be used (interrupts off, the limit), the plain userfault exit (-EFAULT).
 */
int kvm_async_pf_user_fault(struct kvm_vcpu *vcpu, gpa_t gpa, gfn_t gfn, hva_t hva,
			    u64 error_code);
/* The work of a user token still waiting for userspace, or NULL. */
struct kvm_async_pf *kvm_async_pf_user_find(struct kvm_vcpu *vcpu, u32 token);
/* KVM_ASYNC_PF_USER_READY (RFC v1) / KVM_APF_OP_READY: 0 or -ENOENT. */
int kvm_vcpu_ioctl_async_pf_user_ready(struct kvm_vcpu *vcpu, u32 token);
/* Variant 2: KVM_APF_OP_ACCEPT injects the 'not present' #PF; KVM_APF_OP_SYNC_COMPLETE drops the
 * work without any injection. 0 or -ENOENT. */
int kvm_vcpu_ioctl_async_pf_accept(struct kvm_vcpu *vcpu, u32 token);
int kvm_vcpu_ioctl_async_pf_sync_complete(struct kvm_vcpu *vcpu, u32 token);

#endif
