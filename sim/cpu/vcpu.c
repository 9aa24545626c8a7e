/* SPDX-License-Identifier: GPL-2.0-only */
/* The vCPU run loop and the engine hooks that turn guest events into KVM exits. */
#define G_LOG_DOMAIN "kvmsim-cpu"
#include "sim/cpu/vcpu.h"

#include <errno.h>

#include "mmu/spte.h"
#include "sim/core/log.h"
#include "sim/cpu/hw.h"
#include "workloads/abi.h"

/* Why the last run stopped. */
typedef enum {
	EXIT_NONE,
	EXIT_PREEMPT,
	EXIT_REQUEST,    /* a fault left a request to serve before the next entry */
	EXIT_HYPERCALL,
	EXIT_UD,         /* #UD that is not vmcall: rdrand, rdseed (emulated) or a crash */
	EXIT_HOOK_TSC,   /* a block about to run holds an rdtsc that needs its hook first */
	EXIT_MMIO,
	EXIT_MEMORY_FAULT, /* KVM_RUN returned -EFAULT/-EHWPOISON with KVM_EXIT_MEMORY_FAULT */
	EXIT_STOP,       /* the VMM or the scheduler ended the run */
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
	guint64 quantum;
	guint64 budget;
	guint64 quantum_end;         /* insns at which the running quantum is used up */
	guint64 insns;               /* guest instructions retired, the running block counted whole */
	SimHwBlock block;            /* what runs of the running block (addr G_MAXUINT64: none yet) */
	SimHwBlock block_whole;      /* the running block as decoded */
	SimHwBlock prev_block;       /* the one before it in this run, as decoded */
	guint64 block_limit;         /* below it, charging block preempts nothing and fails nothing */
	guint64 io_block_insns;      /* insns when the block of the last port I/O started: a block
				      * run charges at least one, so this names the run */
	guint block_io;              /* port-I/O instructions that run of the block has reached */
	guint64 random_state;        /* rdrand/rdseed stream (splitmix64) */
	ExitReason exit;
	guint64 exit_gpa;            /* MMIO exit */
	int exit_error;              /* memory-fault exit: KVM_RUN's -errno */
	guint64 hypercall_exit;      /* KVM_CAP_EXIT_HYPERCALL's mask */
	gboolean stop_requested;
	gboolean finished;           /* its actor returned: KVM_RUN will not be called again */
	gchar *error;
};

static void
fail(SimVcpu *v, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The vCPU stops with an error; the run ends. */
static void
fail(SimVcpu *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->error) {
		va_start(ap, fmt);
		v->error = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		sim_log_emit(v->kvm->log, "sim_vcpu_error", "vcpu %d: %s", v->kvcpu->vcpu_id, v->error);
	}
	v->exit = EXIT_ERROR;
	uc_emu_stop(sim_hw_uc(v->hw));
}

/*
 * The running block was left at rip, before the instruction there retired (a fault, an rdtsc
 * emulated by its hook, a store that modified the block): only the instructions before rip are
 * charged, and the block shrinks to them so that nothing is refunded twice.
 */
static void
block_cut(SimVcpu *v, guint64 rip)
{
	guint32 ran;

	if (v->block.addr == G_MAXUINT64 || rip < v->block.addr ||
	    rip >= v->block.addr + v->block.size)
		return;
	ran = sim_hw_block_index(v->hw, &v->block, rip);
	v->insns -= v->block.insns - ran;
	v->block.size = (guint32)(rip - v->block.addr);
	v->block.insns = ran;
	v->block_limit = 0;
	v->block_io = 0; /* insns went back: the next block may start from the same count */
}

/* What a hardware EPT violation reports in its exit qualification (SDM 28.3.3.2: a
 * read-modify-write sets both the read and the write bit). */
guint64
sim_ept_violation_qualification(gboolean read, gboolean write, gboolean fetch, u64 spte)
{
	guint64 qual = EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;

	qual |= read ? EPT_VIOLATION_ACC_READ : 0;
	qual |= write ? EPT_VIOLATION_ACC_WRITE : 0;
	qual |= fetch ? EPT_VIOLATION_ACC_INSTR : 0;
	if (is_shadow_present_pte(spte)) {
		qual |= (spte & VMX_EPT_READABLE_MASK) ? EPT_VIOLATION_PROT_READ : 0;
		qual |= (spte & VMX_EPT_WRITABLE_MASK) ? EPT_VIOLATION_PROT_WRITE : 0;
		qual |= (spte & VMX_EPT_EXECUTABLE_MASK) ? EPT_VIOLATION_PROT_EXEC : 0;
	}
	return qual;
}

/* Logs the exit (kvm_exit) this vCPU takes. */
static void
trace_exit(SimVcpu *v, u32 reason, guint64 rip, guint64 qual, guint32 intr_info, guint32 error_code)
{
	struct kvm_exit_info x = { reason, rip, qual, intr_info, error_code };

	trace_kvm_exit(v->kvcpu, &x);
}

/* The access an EPT violation reports, as the log names it. */
static const char *
access_name(SimHwAccessKind kind)
{
	switch (kind) {
	case SIM_HW_READ:
		return "read";
	case SIM_HW_WRITE:
		return "write";
	case SIM_HW_READ_WRITE:
		return "read-modify-write";
	case SIM_HW_FETCH:
		return "fetch";
	}
	return "access";
}

/*
 * The instruction behind an EPT violation or misconfig (mmio) exit, for the log, on a line of
 * its own after kvm_exit (whose format is the kernel's). Disassembled only when a log is on:
 * Capstone costs more than the exit. A fetch faults before its bytes are mapped: the bytes at
 * rip are not yet the guest's, so the line says so instead of decoding them.
 */
static void
trace_exit_insn(SimVcpu *v, guint64 rip, guint64 gpa, SimHwAccessKind kind, gboolean mmio)
{
	if (!sim_log_on(v->kvm->log))
		return;
	if (kind == SIM_HW_FETCH && !mmio) {
		sim_log_emitf(v->kvm->log, "sim_exit_insn",
			      "vcpu %d rip 0x%" G_GINT64_MODIFIER "x: instruction fetch from gpa 0x%"
			      G_GINT64_MODIFIER "x (its bytes are not mapped yet)",
			      v->kvcpu->vcpu_id, rip, gpa);
		return;
	}
	g_autofree gchar *insn = sim_hw_disasm(v->hw, rip);

	sim_log_emitf(v->kvm->log, "sim_exit_insn",
		      "vcpu %d rip 0x%" G_GINT64_MODIFIER "x: %s (%s of gpa 0x%" G_GINT64_MODIFIER
		      "x)", v->kvcpu->vcpu_id, rip, insn, mmio ? "MMIO access" : access_name(kind),
		      gpa);
}

/* Whether gpa is in one of the guard gaps sim_vcpu_set_guards() gave. */
static inline gboolean
in_guard(const SimVcpu *v, guint64 gpa)
{
	guint64 off = gpa - v->guard_gpa;

	return off / v->guard_stride < v->guard_count && off % v->guard_stride < v->guard_size;
}

/* An access outside guest memory, as hook_unmapped() reports it (the running block is charged
 * whole, as it is when Unicorn raises UC_HOOK_MEM_*_UNMAPPED). */
static void
outside_memory(SimVcpu *v, guint64 gpa, guint64 rip)
{
	fail(v, "guest accessed gpa 0x%" G_GINT64_MODIFIER "x, outside guest memory and every "
		"MMIO window (near rip 0x%" G_GINT64_MODIFIER "x)", gpa, rip);
}

/* An EPT violation or misconfig, handled as KVM does, on this vCPU's coroutine. */
static void
handle_page_fault(SimVcpu *v, guint64 rip, guint64 gpa)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint32 error_code = sim_hw_pf_ack(v->hw);
	int r;

	if (G_UNLIKELY(v->guard_count && in_guard(v, gpa))) {
		outside_memory(v, gpa, rip);
		return;
	}
	if (error_code & PFERR_RSVD_MASK) {
		fail(v, "reserved bit in the SPTE walk for gpa 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x", gpa, rip);
		return;
	}
	u64 spte = kvm_tdp_mmu_get_walk_last(v->kvcpu, gpa, NULL);
	gboolean mmio = is_mmio_spte(spte);
	SimHwAccessKind kind = mmio ? SIM_HW_READ : sim_hw_access_kind(v->hw, rip, gpa, error_code);

	/* A fetch faults while a block is translated, before it runs; a data access cuts the
	 * running block short at rip. */
	if (kind != SIM_HW_FETCH)
		block_cut(v, rip);
	kvm_vcpu_srcu_read_lock(v->kvcpu);
	if (mmio) {
		trace_exit(v, EXIT_REASON_EPT_MISCONFIG, rip, 0, 0, 0);
		trace_exit_insn(v, rip, gpa, kind, TRUE);
		r = kvm_handle_ept_misconfig(v->kvcpu, gpa, rip);
	} else {
		guint64 qual = sim_ept_violation_qualification(
			kind == SIM_HW_READ || kind == SIM_HW_READ_WRITE,
			kind == SIM_HW_WRITE || kind == SIM_HW_READ_WRITE, kind == SIM_HW_FETCH, spte);

		trace_exit(v, EXIT_REASON_EPT_VIOLATION, rip, qual, 0, 0);
		trace_exit_insn(v, rip, gpa, kind, FALSE);
		r = kvm_handle_ept_violation(v->kvcpu, gpa, qual, rip);
	}
	kvm_vcpu_srcu_read_unlock(v->kvcpu);

	if ((r == -EFAULT || r == -EHWPOISON) &&
	    v->kvcpu->run.exit_reason == KVM_EXIT_MEMORY_FAULT && v->ops->memory_fault) {
		v->exit = EXIT_MEMORY_FAULT;
		v->exit_error = r;
		uc_emu_stop(uc);
		return;
	}
	if (r < 0) {
		fail(v, "KVM_RUN failed with %s: EPT violation at gpa 0x%" G_GINT64_MODIFIER
			"x rip 0x%" G_GINT64_MODIFIER "x", g_strerror(-r), gpa, rip);
		return;
	}
	if (r != RET_PF_RETRY)
		sim_sched_progress(v->sched);
	if (r == RET_PF_EMULATE || r == RET_PF_WRITE_PROTECTED) {
		v->exit = EXIT_MMIO;
		v->exit_gpa = gpa;
		uc_emu_stop(uc);
		return;
	}
	/* retry the instruction in this run unless something must happen between runs */
	if (v->kvcpu->requests || v->stop_requested || sim_sched_failed(v->sched)) {
		v->exit = v->kvcpu->requests ? EXIT_REQUEST : EXIT_STOP;
		uc_emu_stop(uc);
		return;
	}
	trace_kvm_entry(v->kvcpu, rip);
}

/* The x86 exception a vector number names. */
static const char *
exception_name(guint32 vector)
{
	static const char *const names[] = {
		"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
		"#BR bound range", "#UD invalid opcode", "#NM no math coprocessor",
		"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
		"#NP segment not present", "#SS stack fault", "#GP general protection",
		"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
		"#MC machine check", "#XM SIMD error",
	};

	return vector < G_N_ELEMENTS(names) ? names[vector] : "interrupt";
}

/*
 * The exit a guest exception causes. KVM intercepts #DB, #UD, #AC and #MC (the exception bitmap of
 * vmx_update_exception_bitmap(), arch/x86/kvm/vmx/vmx.c, read in ColinIanKing/linux-next; #PF
 * not, with EPT): an EXCEPTION_NMI exit with the vector in intr_info (#AC delivers an error
 * code). Any other vector is delivered through the guest's IDT, and kvmsim's guests have none:
 * the delivery faults into #DF and a triple fault, the exit KVM sees (and reports to userspace as
 * KVM_EXIT_SHUTDOWN). Simplified: a #UD that KVM could not emulate would be re-injected first.
 */
static void
trace_exception_exit(SimVcpu *v, guint64 rip, guint32 vector)
{
	switch (vector) {
	case 1:  /* #DB */
	case 6:  /* #UD */
	case 18: /* #MC */
		trace_exit(v, EXIT_REASON_EXCEPTION_NMI, rip, 0,
			   INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | vector, 0);
		break;
	case 17: /* #AC */
		trace_exit(v, EXIT_REASON_EXCEPTION_NMI, rip, 0,
			   INTR_INFO_VALID_MASK | INTR_INFO_DELIVER_CODE_MASK |
			   INTR_TYPE_HARD_EXCEPTION | vector, 0);
		break;
	default:
		trace_exit(v, EXIT_REASON_TRIPLE_FAULT, rip, 0, 0, 0);
		break;
	}
}

/* Exceptions: #PF is an EPT violation or misconfig; anything else is a guest crash. */
static void
hook_intr(uc_engine *uc, guint32 intno, void *data)
{
	SimVcpu *v = data;
	int regs[] = { UC_X86_REG_RIP, UC_X86_REG_CR2 };
	guint64 rip, cr2;
	void *values[] = { &rip, &cr2 };

	uc_reg_read_batch(uc, regs, values, intno == 14 ? 2 : 1);
	if (intno == 14) {
		handle_page_fault(v, rip, cr2);
		return;
	}
	g_autofree gchar *insn = sim_hw_disasm(v->hw, rip);

	trace_exception_exit(v, rip, intno);
	fail(v, "guest raised %s (vector %u) at rip 0x%" G_GINT64_MODIFIER "x (%s)",
	     exception_name(intno), intno, rip, insn);
}

/* #UD stops the run at the instruction: a vmcall is a hypercall exit; rdrand and rdseed are
 * emulated between runs; anything else is a crash. */
static bool
hook_insn_invalid(uc_engine *uc, void *data)
{
	SimVcpu *v = data;
	guint64 rip;

	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	v->exit = sim_hw_insn_is_vmcall(v->hw, rip) ? EXIT_HYPERCALL : EXIT_UD;
	return true;
}

/* A #UD that is not emulated: the guest crashed. */
static void
invalid_opcode(SimVcpu *v)
{
	g_autofree gchar *insn = sim_hw_disasm(v->hw, v->rip);

	trace_exception_exit(v, v->rip, 6);
	fail(v, "guest raised #UD at rip 0x%" G_GINT64_MODIFIER "x (%s)", v->rip, insn);
}

/* What an I/O exit's qualification says (the kernel's handle_io() reads it back). */
guint64
sim_io_exit_qualification(gboolean in, guint16 port, guint size, SimHwIoForm form)
{
	return (size - 1) | (in ? IO_QUAL_IN : 0) | (form & SIM_HW_IO_STRING ? IO_QUAL_STRING : 0) |
	       (form & SIM_HW_IO_REP ? IO_QUAL_REP : 0) | (form & SIM_HW_IO_IMM ? IO_QUAL_IMM : 0) |
	       (guint64)port << IO_QUAL_PORT_SHIFT;
}

/* A port-IO exit, handed to the VMM; it may end the run (the exit port). Unicorn carries on
 * after the hook: the re-entry past the instruction. RIP in this hook is where 2.0.1 last
 * synced it (the block's start, not the in/out), so the instruction is found as the block's
 * nth I/O one, and a run the exit port ends is charged its last block whole. */
static void
pio(SimVcpu *v, gboolean in, guint16 port, guint size, guint32 *value)
{
	guint64 rip;
	guint len;

	if (v->io_block_insns != v->insns) { /* the first port I/O of this run of the block */
		v->io_block_insns = v->insns;
		v->block_io = 0;
	}
	rip = sim_hw_nth_io_insn(v->hw, v->block.addr, v->block.size, v->block_io++);

	if (rip == G_MAXUINT64)
		uc_reg_read(sim_hw_uc(v->hw), UC_X86_REG_RIP, &rip);
	SimHwIoForm form = sim_hw_io_form(v->hw, rip, &len);

	sim_count(v->kvm->counters, SIM_CTR_EXITS_IO);
	trace_exit(v, EXIT_REASON_IO_INSTRUCTION, rip, sim_io_exit_qualification(in, port, size, form),
		   0, 0);
	gboolean go_on = v->ops->pio(v->ops_data, v, in, port, size, value);

	trace_kvm_pio(v->kvcpu, in, port, size, *value);
	if (!go_on) {
		v->exit = EXIT_STOP;
		uc_emu_stop(sim_hw_uc(v->hw));
		return;
	}
	trace_kvm_entry(v->kvcpu, rip + len);
}

static void
hook_out(uc_engine *uc, guint32 port, int size, guint32 value, void *data)
{
	pio(data, FALSE, (guint16)port, (guint)size, &value);
}

static guint32
hook_in(uc_engine *uc, guint32 port, int size, void *data)
{
	guint32 value = 0;

	pio(data, TRUE, (guint16)port, (guint)size, &value);
	return value;
}

/*
 * A block other than the last one starts. A store that modified the block it ran in is re-run by
 * QEMU as a block of its own (SIM_HW_BLOCK_SINGLE_STEP) inside the block it cut short. Returns
 * FALSE if the run stops before the block: it holds an rdtsc whose hook must be added first.
 */
static gboolean
block_switch(SimVcpu *v, guint64 address, guint32 size)
{
	SimHwBlock next;

	/* a fault and its retry alternate between two blocks */
	if (v->prev_block.addr == address && v->prev_block.size == size) {
		next = v->prev_block;
	} else {
		next = sim_hw_block(v->hw, address, size);
		if (G_UNLIKELY(sim_hw_tsc_pending(v->hw))) {
			v->exit = EXIT_HOOK_TSC;
			uc_emu_stop(sim_hw_uc(v->hw));
			return FALSE;
		}
	}
	if (next.flags & SIM_HW_BLOCK_SINGLE_STEP)
		block_cut(v, address);
	v->prev_block = v->block_whole;
	v->block = v->block_whole = next;
	v->block_limit = 0;
	return TRUE;
}

/* The budget ran out: the guest is a runaway. */
G_NO_INLINE static void
runaway(SimVcpu *v, guint64 address)
{
	fail(v, "runaway guest: more than %" G_GUINT64_FORMAT " instructions (at rip 0x%"
		G_GINT64_MODIFIER "x); raise --max-insns if this is expected", v->budget, address);
}

/* hook_block() for a block other than the last one, or one that preempts or fails. */
G_NO_INLINE static void
hook_block_slow(SimVcpu *v, guint64 address, guint32 size)
{
	if ((v->block.addr != address || v->block.size != size) && !block_switch(v, address, size))
		return;
	if (v->insns >= v->quantum_end) {
		v->exit = EXIT_PREEMPT;
		uc_emu_stop(sim_hw_uc(v->hw));
		return;
	}
	v->insns += v->block.insns;
	if (v->insns > v->budget) {
		runaway(v, address);
		return;
	}
	/* the next run of this block takes the fast path if it starts below both limits */
	v->block_limit = MIN(v->quantum_end, v->budget - v->block.insns + 1);
}

/*
 * Instruction accounting for the quantum and the budget, one call per translation block: the
 * block is charged whole when it starts and refunded what did not run if it is cut short. A stop
 * requested here takes effect before the block runs, so a quantum runs out at the start of the
 * block after the one that used it up: every run makes progress, however small the quantum. The
 * fast path (the block that ran last, a hot loop, well inside the quantum and the budget) is a
 * few instructions; everything else is hook_block_slow().
 */
static void
hook_block(uc_engine *uc, guint64 address, guint32 size, void *data)
{
	SimVcpu *v = data;

	if (G_LIKELY(v->block.addr == address && v->block.size == size &&
		     v->insns < v->block_limit)) {
		v->insns += v->block.insns;
		return;
	}
	hook_block_slow(v, address, size);
}

/*
 * The TSC an rdtsc or rdtscp at rip reads: SIM_VCPU_TSC_PER_INSN ticks per guest instruction this
 * vCPU retired before it, from 0 at creation (KVM starts a new VM's TSC at 0:
 * kvm_synchronize_tsc() from kvm_arch_vcpu_postcreate(), arch/x86/kvm/x86.c, v6.18). The
 * instruction itself then retires.
 */
static guint64
tsc_read(void *data, guint64 rip)
{
	SimVcpu *v = data;
	guint64 tsc;

	block_cut(v, rip);
	tsc = v->insns * SIM_VCPU_TSC_PER_INSN;
	v->insns++;
	return tsc;
}

/* splitmix64's output function (Steele, Lea, Flood 2014). */
static guint64
splitmix64_mix(guint64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull

/*
 * What rdrand and rdseed read: one splitmix64 stream per vCPU, started from the run's seed and
 * the vCPU id, so a vCPU reads the same values whatever the other vCPUs draw and whatever the
 * schedule. Both always succeed.
 */
static guint64
random_read(void *data, SimHwUdInsn insn)
{
	SimVcpu *v = data;

	v->random_state += SPLITMIX64_GAMMA;
	return splitmix64_mix(v->random_state);
}

/* An access outside every Unicorn region: no memslot and no MMIO window. */
static bool
hook_unmapped(uc_engine *uc, uc_mem_type type, guint64 address, int size, gint64 value,
	      void *data)
{
	SimVcpu *v = data;
	guint64 rip;

	uc_reg_read(uc, UC_X86_REG_RIP, &rip);
	outside_memory(v, address, rip);
	return false;
}

/* vmx_flush_tlb_all(): drop every translation; with no root loaded, load_mmu_pgd() will. */
static void
flush_tlb_all(struct kvm_vcpu *kvcpu)
{
	SimVcpu *v = kvcpu->hw;
	u64 root_pa = kvm_mmu_root_pa(kvcpu);

	if (root_pa)
		sim_hw_flush_tlb(v->hw, root_pa);
}

/* A new root: the flush stub loads it into CR3 and flushes what the old one left. */
static void
load_mmu_pgd(struct kvm_vcpu *kvcpu, u64 root_pa)
{
	SimVcpu *v = kvcpu->hw;

	sim_hw_flush_tlb(v->hw, root_pa);
}

const struct kvm_hw_ops sim_vcpu_hw_ops = {
	.flush_tlb_all = flush_tlb_all,
	.load_mmu_pgd = load_mmu_pgd,
};

/* KVM_CREATE_VCPU on a new engine that maps guest RAM, the tables and nothing else. */
SimVcpu *
sim_vcpu_new(struct kvm *kvm, int id, const SimVcpuExitOps *ops, gpointer ops_data,
	     GError **error)
{
	g_autoptr(SimHw) hw = sim_hw_new(error);

	if (!hw)
		return NULL;
	for (guint i = 0; i < sim_hostmem_nr_windows(kvm->hm); i++) {
		guint64 gpa, size;
		guint8 *buf = sim_hostmem_window(kvm->hm, i, &gpa, &size);

		if (!sim_hw_map(hw, gpa, size, buf, error))
			return NULL;
	}
	guint64 pt_pa, pt_size;
	guint8 *pt = sim_ptpool_region(kvm->pt_pool, &pt_pa, &pt_size);

	if (!sim_hw_map(hw, pt_pa, pt_size, pt, error))
		return NULL;

	SimVcpu *v = g_new0(SimVcpu, 1);
	uc_engine *uc = sim_hw_uc(hw);
	uc_hook hook; /* never removed: the engine goes with the vCPU */

	v->kvm = kvm;
	v->hw = g_steal_pointer(&hw);
	v->ops = ops;
	v->ops_data = ops_data;
	v->quantum = SIM_VCPU_DEFAULT_QUANTUM;
	v->budget = SIM_VCPU_DEFAULT_BUDGET;
	v->block.addr = v->block_whole.addr = v->prev_block.addr = G_MAXUINT64;
	v->kvcpu = kvm_vm_ioctl_create_vcpu(kvm, id, v);
	sim_hw_emulate_tsc(v->hw, tsc_read, v);
	/* vCPU i has APIC ID i, as a VMM's KVM_SET_CPUID2 usually gives it */
	sim_hw_set_cpuid(v->hw, (guint32)id);
	uc_hook_add(uc, &hook, UC_HOOK_INTR, hook_intr, v, 1, 0);
	uc_hook_add(uc, &hook, UC_HOOK_INSN_INVALID, hook_insn_invalid, v, 1, 0);
	uc_hook_add(uc, &hook, UC_HOOK_INSN, hook_out, v, 1, 0, UC_X86_INS_OUT);
	uc_hook_add(uc, &hook, UC_HOOK_INSN, hook_in, v, 1, 0, UC_X86_INS_IN);
	/* bounded below the table region: hw's flush stub must not count as guest code */
	uc_hook_add(uc, &hook, UC_HOOK_BLOCK, hook_block, v, 0, SIM_HW_TABLE_GPA - 1);
	uc_hook_add(uc, &hook, UC_HOOK_MEM_UNMAPPED, hook_unmapped, v, 1, 0);
	sim_hw_load_root(v->hw, kvm_mmu_load(v->kvcpu));
	return v;
}

/* Close the engine. */
void
sim_vcpu_free(SimVcpu *v)
{
	if (!v)
		return;
	sim_hw_free(v->hw);
	g_free(v->mmio_buf);
	g_free(v->error);
	g_free(v);
}

/* A window with a zeroed buffer behind it, never mapped in the SPTE tree. */
gboolean
sim_vcpu_map_mmio(SimVcpu *v, guint64 gpa, guint64 size, GError **error)
{
	/* one zeroed buffer per vCPU, mapped as long as the engine lives; the SPTE tree never maps
	 * it, so it is never read */
	g_return_val_if_fail(!v->mmio_buf, FALSE);
	v->mmio_buf = g_malloc0(size);
	if (!sim_hw_map(v->hw, gpa, size, v->mmio_buf, error)) {
		g_clear_pointer(&v->mmio_buf, g_free);
		return FALSE;
	}
	return TRUE;
}

void
sim_vcpu_set_guards(SimVcpu *v, guint64 gpa, guint64 stride, guint64 size, guint64 count)
{
	g_return_if_fail(stride && size <= stride);
	v->guard_gpa = gpa;
	v->guard_stride = stride;
	v->guard_size = size;
	v->guard_count = count;
}

void
sim_vcpu_set_entry(SimVcpu *v, guint64 rip, guint64 rsp, guint64 rdi, guint64 rsi)
{
	uc_engine *uc = sim_hw_uc(v->hw);

	v->rip = rip;
	uc_reg_write(uc, UC_X86_REG_RSP, &rsp);
	uc_reg_write(uc, UC_X86_REG_RDI, &rdi);
	uc_reg_write(uc, UC_X86_REG_RSI, &rsi);
}

void
sim_vcpu_set_limits(SimVcpu *v, guint64 quantum, guint64 budget)
{
	v->quantum = quantum;
	v->budget = budget;
}

/* Models trace_kvm_userspace_exit() (include/trace/events/kvm.h, read in torvalds/linux):
 * KVM_RUN returning to userspace with the exit reason, or "error" and the errno. */
static void
trace_userspace_exit(SimVcpu *v, u32 reason, const char *name, int r)
{
	if (r < 0)
		sim_log_emit(v->kvm->log, "kvm_userspace_exit", "reason error (%d)", -r);
	else
		sim_log_emit(v->kvm->log, "kvm_userspace_exit", "reason %s (%u)", name, reason);
}

/*
 * KVM_HC_MAP_GPA_RANGE as __kvm_emulate_hypercall() (arch/x86/kvm/x86.c, read in
 * ColinIanKing/linux-next at 046408cf) handles it: -KVM_ENOSYS unless userspace enabled the exit
 * (user_exit_on_hypercall()), -KVM_EINVAL for a gpa not page aligned, no pages, or a gfn range
 * that wraps, all without leaving KVM; else KVM_EXIT_HYPERCALL, and the VMM's hypercall.ret
 * lands in RAX on the next entry (complete_hypercall_exit()). Simplified: the exit and the
 * re-entry are one step; a 64-bit guest, so flags carries KVM_EXIT_HYPERCALL_LONG_MODE.
 */
gboolean
sim_kvm_map_gpa_range_exits(guint64 hypercall_exit, const guint64 args[4], guint64 *ret)
{
	guint64 gpa = args[0], npages = args[1];

	*ret = 0;
	if (!(hypercall_exit & (1ull << KVM_HC_MAP_GPA_RANGE)))
		*ret = (guint64)-(gint64)KVM_ENOSYS;
	else if ((gpa & (SIM_PAGE_SIZE - 1)) || !npages ||
		 (gpa >> SIM_PAGE_SHIFT) + npages <= (gpa >> SIM_PAGE_SHIFT))
		*ret = (guint64)-(gint64)KVM_EINVAL;
	return *ret == 0;
}

/* MAP_GPA_RANGE on this vCPU: KVM's checks, then the VMM's exit; the guest's RAX. */
static guint64
map_gpa_range(SimVcpu *v, const guint64 args[4])
{
	guint64 ret;

	if (sim_kvm_map_gpa_range_exits(v->hypercall_exit, args, &ret)) {
		sim_count(v->kvm->counters, SIM_CTR_EXITS_USER_HYPERCALL);
		trace_userspace_exit(v, 3, "KVM_EXIT_HYPERCALL", 0);
		ret = v->ops->hypercall(v->ops_data, v, KVM_HC_MAP_GPA_RANGE, args);
	}
	sim_log_emit(v->kvm->log, "sim_hypercall_ret", "vcpu %d nr 12 ret 0x%" G_GINT64_MODIFIER
		     "x", v->kvcpu->vcpu_id, ret);
	return ret;
}

/*
 * KVM_EXIT_MEMORY_FAULT: KVM_RUN returned -1 with errno, the VMM resolves it and runs the vCPU
 * again at the same instruction (it never retired), or stops it.
 */
static gboolean
handle_memory_fault(SimVcpu *v)
{
	trace_userspace_exit(v, KVM_EXIT_MEMORY_FAULT, NULL, v->exit_error);
	if (!v->ops->memory_fault(v->ops_data, v, v->exit_error, &v->kvcpu->run)) {
		fail(v, "KVM_RUN failed with %s: KVM_EXIT_MEMORY_FAULT flags 0x%" G_GINT64_MODIFIER
			"x gpa 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x, not resolved by the VMM", g_strerror(-v->exit_error),
		     v->kvcpu->run.memory_fault.flags, v->kvcpu->run.memory_fault.gpa,
		     v->kvcpu->run.memory_fault.size, v->rip);
		return FALSE;
	}
	return TRUE;
}

void
sim_vcpu_set_hypercall_exit(SimVcpu *v, guint64 mask)
{
	v->hypercall_exit = mask;
}

/* KVM_HC_SCHED_YIELD and KVM_HC_MAP_GPA_RANGE are KVM's own; any other goes to the VMM. */
static void
handle_hypercall(SimVcpu *v)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint64 nr, args[4], ret;

	uc_reg_read(uc, UC_X86_REG_RAX, &nr);
	uc_reg_read(uc, UC_X86_REG_RBX, &args[0]);
	uc_reg_read(uc, UC_X86_REG_RCX, &args[1]);
	uc_reg_read(uc, UC_X86_REG_RDX, &args[2]);
	uc_reg_read(uc, UC_X86_REG_RSI, &args[3]);
	sim_count(v->kvm->counters, SIM_CTR_EXITS_HYPERCALL);
	trace_exit(v, EXIT_REASON_VMCALL, v->rip, 0, 0, 0);
	trace_kvm_hypercall(v->kvcpu, nr, args);
	if (nr == KVM_HC_SCHED_YIELD) {
		ret = 0;
		sim_yield(v->sched, "vcpu.sched_yield");
	} else if (nr == KVM_HC_MAP_GPA_RANGE) {
		ret = map_gpa_range(v, args);
	} else {
		ret = v->ops->hypercall(v->ops_data, v, nr, args);
	}
	uc_reg_write(uc, UC_X86_REG_RAX, &ret);
	v->rip += 3;
}

/* Emulate the MMIO access at RIP, as KVM's emulator would, against the VMM's device. */
static void
handle_mmio(SimVcpu *v)
{
	GError *error = NULL;

	sim_count(v->kvm->counters, SIM_CTR_EXITS_MMIO);
	if (!sim_hw_emulate_mmio(v->hw, v->exit_gpa, v->ops->mmio_read, v->ops->mmio_write,
				 v->ops_data, &error)) {
		fail(v, "cannot emulate the MMIO access to gpa 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x: %s", v->exit_gpa, v->rip, error->message);
		g_error_free(error);
		return;
	}
	uc_reg_read(sim_hw_uc(v->hw), UC_X86_REG_RIP, &v->rip);
}

/* After a run that stopped with no exit recorded: hlt, since every hook records its exit. */
static gboolean
stopped_on_hlt(SimVcpu *v)
{
	guint8 byte = 0;

	return v->rip > 0 && uc_mem_read(sim_hw_uc(v->hw), v->rip - 1, &byte, 1) == UC_ERR_OK &&
	       byte == 0xf4;
}

/* One exit of KVM_RUN, handled; FALSE when the vCPU is done. */
static gboolean
handle_exit(SimVcpu *v, uc_err err)
{
	switch (v->exit) {
	case EXIT_PREEMPT:
		sim_count(v->kvm->counters, SIM_CTR_EXITS_PREEMPT);
		/* the host's scheduler tick: an external interrupt, the local APIC timer's vector */
		trace_exit(v, EXIT_REASON_EXTERNAL_INTERRUPT, v->rip, 0,
			   INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | LOCAL_TIMER_VECTOR, 0);
		return TRUE;
	case EXIT_REQUEST:
		return TRUE;
	case EXIT_HYPERCALL:
		handle_hypercall(v);
		return TRUE;
	case EXIT_MEMORY_FAULT:
		return handle_memory_fault(v);
	case EXIT_UD:
		invalid_opcode(v);
		return FALSE;
	case EXIT_MMIO:
		/* the emulated instruction retires */
		v->insns++;
		handle_mmio(v);
		return v->exit != EXIT_ERROR;
	case EXIT_STOP:
	case EXIT_ERROR:
	case EXIT_HOOK_TSC: /* handled by run_guest() */
		return FALSE;
	case EXIT_NONE:
		break;
	}
	if (err != UC_ERR_OK) {
		fail(v, "the CPU emulator stopped at rip 0x%" G_GINT64_MODIFIER "x: %s", v->rip,
		     uc_strerror(err));
		return FALSE;
	}
	if (stopped_on_hlt(v)) {
		sim_count(v->kvm->counters, SIM_CTR_EXITS_HLT);
		trace_exit(v, EXIT_REASON_HLT, v->rip - 1, 0, 0, 0);
		return FALSE;
	}
	fail(v, "the CPU emulator stopped at rip 0x%" G_GINT64_MODIFIER "x for no known reason",
	     v->rip);
	return FALSE;
}

/*
 * Runs the guest until it exits. What hardware does without a VM exit is done here and the run
 * resumed: an rdtsc about to run for the first time gets its hook, rdrand and rdseed are emulated.
 */
static uc_err
run_guest(SimVcpu *v)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	uc_err err;

	for (;;) {
		v->exit = EXIT_NONE;
		v->block.addr = v->block_whole.addr = v->prev_block.addr = G_MAXUINT64;
		v->block_limit = 0;
		err = sim_hw_run(v->hw, v->rip);
		uc_reg_read(uc, UC_X86_REG_RIP, &v->rip);
		if (v->exit == EXIT_HOOK_TSC)
			sim_hw_hook_tsc(v->hw);
		else if (v->exit != EXIT_UD ||
			 sim_hw_emulate_random(v->hw, random_read, v) == SIM_HW_UD_OTHER)
			return err;
		uc_reg_read(uc, UC_X86_REG_RIP, &v->rip);
	}
}

/* The KVM_RUN loop (vcpu_run() / vcpu_enter_guest() in arch/x86/kvm/x86.c; no tree read). */
static void
vcpu_actor(SimActor *actor, gpointer data)
{
	SimVcpu *v = data;

	for (;;) {
		sim_yield(v->sched, "vcpu.enter");
		if (v->stop_requested || sim_sched_failed(v->sched))
			break;
		kvm_vcpu_enter_guest_prepare(v->kvcpu);
		trace_kvm_entry(v->kvcpu, v->rip);
		if (v->insns >= v->quantum_end)
			v->quantum_end = v->insns + v->quantum;
		guint64 insns = v->insns, entry_rip = v->rip;
		uc_err err = run_guest(v);

		sim_count_add(v->kvm->counters, SIM_CTR_GUEST_INSNS, v->insns - insns);
		/* the guest moved on, or left for something other than the timer: progress (a
		 * fault retried until the quantum ran out leaves it where it entered) */
		if (v->rip != entry_rip || v->exit != EXIT_PREEMPT)
			sim_sched_progress(v->sched);
		if (!handle_exit(v, err))
			break;
	}
	v->finished = TRUE;
}

SimActor *
sim_vcpu_start(SimVcpu *v, SimSched *sched)
{
	g_autofree gchar *name = g_strdup_printf("vcpu%d", v->kvcpu->vcpu_id);

	v->sched = sched;
	v->random_state = splitmix64_mix(sim_sched_seed(sched) ^
					 splitmix64_mix((guint64)v->kvcpu->vcpu_id));
	return sim_actor_new(sched, name, vcpu_actor, v);
}

void
sim_vcpu_request_stop(SimVcpu *v)
{
	v->stop_requested = TRUE;
}

int
sim_vcpu_id(const SimVcpu *v)
{
	return v->kvcpu->vcpu_id;
}

gboolean
sim_vcpu_finished(const SimVcpu *v)
{
	return v->finished;
}

const char *
sim_vcpu_error(const SimVcpu *v)
{
	return v->error;
}
