/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What vcpu.c (creation, the KVM_RUN loop, instruction accounting), vcpu-exit.c (the exits) and
 * vcpu-emulate.c (what runs without an exit: rdtsc, rdrand, rdseed) share. Nothing outside
 * sim/cpu includes this.
 */
#ifndef KVMSIM_SIM_CPU_VCPU_INTERNAL_H
#define KVMSIM_SIM_CPU_VCPU_INTERNAL_H

#include <unicorn/unicorn.h>

#include "sim/cpu/hw.h"
#include "sim/cpu/vcpu.h"

/* Why the last run stopped. */
typedef enum {
	EXIT_NONE,
	EXIT_PREEMPT,
	EXIT_REQUEST,    /* a fault left a request to serve before the next entry */
	EXIT_IRQ_WINDOW, /* interrupts came on with one pending (EXIT_REASON_INTERRUPT_WINDOW) */
	EXIT_HYPERCALL,
	EXIT_UD,         /* #UD that is not vmcall: rdrand, rdseed (emulated) or a crash */
	EXIT_HOOK_TSC,   /* a block about to run holds an rdtsc that needs its hook first */
	EXIT_MMIO,
	EXIT_MEMORY_FAULT, /* KVM_RUN returned -EFAULT/-EHWPOISON with KVM_EXIT_MEMORY_FAULT */
	EXIT_STOP,       /* the VMM or the scheduler ended the run */
	EXIT_WRMSR,      /* a block starting with wrmsr is next (EXIT_REASON_MSR_WRITE) */
	EXIT_ERROR,      /* error already set */
} ExitReason;

struct SimVcpu {
	struct kvm *kvm;
	struct kvm_vcpu *kvcpu;
	SimHw *hw;
	const SimVcpuExitOps *ops;
	gpointer ops_data;
	SimSched *sched;
	guint8 *mmio_buf;            /* backs the MMIO windows for the engine; never used as RAM */
	guint64 guard_gpa;           /* guard gaps in a mapped window: guard_count of guard_size */
	guint64 guard_stride;        /* bytes, one every guard_stride from guard_gpa */
	guint64 guard_size;
	guint64 guard_count;
	guint64 rip;
	guint64 resume_rip;          /* where a run stopped in a port-I/O hook resumes; 0: none */
	guint64 pio_redo_rip;        /* a string I/O whose cancelled entry Unicorn undid: the
				      * iteration's exit was made, its re-run takes pio_redo_value
				      * without one; 0: none */
	guint32 pio_redo_value;
	guint64 quantum;
	guint64 budget;
	guint64 quantum_end;         /* insns at which the running quantum is used up */
	guint64 insns;               /* guest instructions retired, the running block counted whole */
	SimHwBlock block;            /* what runs of the running block (addr G_MAXUINT64: none yet) */
	SimHwBlock block_whole;      /* the running block as decoded */
	SimHwBlock prev_block;       /* the one before it in this run, as decoded */
	gboolean block_stale;        /* the running block's bytes changed: decode it again */
	guint64 block_limit;         /* below it, charging block preempts nothing and fails nothing */
	guint64 io_block_insns;      /* insns when the block of the last port I/O started: a block
				      * run charges at least one, so this names the run */
	guint block_io;              /* port-I/O instructions that run of the block has reached */
	guint64 random_state;        /* rdrand/rdseed stream (splitmix64) */
	ExitReason exit;
	guint64 exit_gpa;            /* MMIO exit */
	int exit_error;              /* memory-fault exit: KVM_RUN's -errno */
	guint64 hypercall_exit;      /* KVM_CAP_EXIT_HYPERCALL's mask */
	AsiSim *asi;                 /* --asi on: the run loop's ASI calls; NULL: off */
	guint32 msr_index;           /* wrmsr exit */
	guint64 msr_value;
	guint64 msr_rip;
	/* event injection (inject.c) */
	gboolean exc_pending;        /* an exception queued, not injected yet (exception.pending) */
	gboolean exc_injected;       /* injected, not delivered yet (exception.injected) */
	guint8 exc_vector;
	guint32 exc_error_code;      /* pushed (#PF has one) */
	guint64 exc_cr2;             /* loaded into CR2 with a #PF */
	guint64 irr[4];              /* the local APIC's IRR: fixed vectors pending */
	gboolean irq_injected;       /* irq_vector injected, not delivered yet (interrupt.injected) */
	guint8 irq_vector;
	guint32 entry_intr_info;     /* VM_ENTRY_INTR_INFO_FIELD: what the next entry delivers */
	guint32 entry_error_code;    /* VM_ENTRY_EXCEPTION_ERROR_CODE */
	guint delivery_faults;       /* EPT violations delivering the injected event, in a row */
	gboolean in_run;             /* inside sim_hw_run() (a hook): the engine's RIP is current */
	gboolean irq_window;         /* one is pending but IF was clear at entry: exit at IF=1 */
	gboolean cr2_owned;          /* the guest's CR2 is guest_cr2 (an injected #PF's); the
				      * engine's own #PFs (EPT violations) must not change it */
	guint64 guest_cr2;
	gboolean stop_requested;
	gboolean finished;           /* its actor returned: KVM_RUN will not be called again */
	gchar *error;
};

/* vcpu.c */
void vcpu_fail(SimVcpu *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void vcpu_block_cut(SimVcpu *v, guint64 rip);

/* vcpu-exit.c: the engine hooks that turn guest events into exits, and the exits */
void vcpu_hook_intr(uc_engine *uc, guint32 intno, void *data);
bool vcpu_hook_insn_invalid(uc_engine *uc, void *data);
void vcpu_hook_out(uc_engine *uc, guint32 port, int size, guint32 value, void *data);
guint32 vcpu_hook_in(uc_engine *uc, guint32 port, int size, void *data);
bool vcpu_hook_unmapped(uc_engine *uc, uc_mem_type type, guint64 address, int size, gint64 value,
			void *data);
gboolean vcpu_handle_exit(SimVcpu *v, uc_err err);
/* sim_kvm_vmenter() and sim_kvm_vmexit() (sim/cpu/vcpu.h) for v: the entry at rip injects the
 * event v's run loop wrote into VM_ENTRY_INTR_INFO_FIELD. */
gboolean vcpu_vmenter(SimVcpu *v, guint64 rip);
void vcpu_vmexit(SimVcpu *v);

/* inject.c */
void vcpu_queue_page_fault(struct kvm_vcpu *kvcpu, u64 address, u32 error_code);
void vcpu_apic_set_irq(struct kvm_vcpu *kvcpu, u8 vector);
gboolean vcpu_interrupt_allowed(struct kvm_vcpu *kvcpu);
gboolean vcpu_event_pending(struct kvm_vcpu *kvcpu);
int vcpu_get_cpl(struct kvm_vcpu *kvcpu);
gboolean vcpu_events_due(const SimVcpu *v);
void vcpu_check_and_inject_events(SimVcpu *v);
void vcpu_cancel_injection(SimVcpu *v);
/* What the event delivery at a VM entry came to. */
typedef enum {
	VCPU_DELIVERED,       /* the event was delivered (or there was none) */
	VCPU_DELIVERY_EXIT,   /* an EPT violation exited; the next entry re-injects the event */
	VCPU_DELIVERY_FAILED, /* the vCPU failed */
} VcpuDelivery;
VcpuDelivery vcpu_deliver_at_entry(SimVcpu *v);
gboolean vcpu_irq_pending(const SimVcpu *v);
void vcpu_wrmsr_exit(SimVcpu *v);
gboolean vcpu_handle_wrmsr(SimVcpu *v);
gboolean vcpu_halt(SimVcpu *v);
gboolean vcpu_apf_block(SimVcpu *v);
void vcpu_restore_cr2(SimVcpu *v);

/* vcpu-emulate.c */
guint64 vcpu_tsc_read(void *data, guint64 rip);
guint64 vcpu_random_read(void *data, SimHwUdInsn insn);
void vcpu_random_seed(SimVcpu *v, guint64 seed);

#endif
