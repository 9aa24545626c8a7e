/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vCPU's exits: the engine hooks that turn guest events into KVM exits (EPT violation and
 * misconfig, exceptions, port I/O, accesses outside guest memory), and the exits handled between
 * two runs (hypercalls with KVM_HC_MAP_GPA_RANGE, KVM_EXIT_MEMORY_FAULT, MMIO, hlt).
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#include "sim/cpu/vcpu-internal.h"

#include <errno.h>

#include "mmu/spte.h"
#include "sim/core/log.h"
#include "workloads/abi.h"

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
	struct kvm_exit_info x = { reason, rip, qual, intr_info, error_code, 0 };

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
static G_GNUC_NO_INLINE void
log_exit_insn(SimVcpu *v, guint64 rip, guint64 gpa, SimHwAccessKind kind, gboolean mmio)
{
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

/* trace_exit_insn()'s check, inline: without a log an exit does not pay for its line's set-up. */
static inline void
trace_exit_insn(SimVcpu *v, guint64 rip, guint64 gpa, SimHwAccessKind kind, gboolean mmio)
{
	if (sim_log_on(v->kvm->log))
		log_exit_insn(v, rip, gpa, kind, mmio);
}

/* Whether gpa is in one of the guard gaps sim_vcpu_set_guards() gave. */
static inline gboolean
in_guard(const SimVcpu *v, guint64 gpa)
{
	guint64 off = gpa - v->guard_gpa;

	return off / v->guard_stride < v->guard_count && off % v->guard_stride < v->guard_size;
}

/* An access outside guest memory, as vcpu_hook_unmapped() reports it (the running block is
 * charged whole, as it is when Unicorn raises UC_HOOK_MEM_*_UNMAPPED). */
static void
outside_memory(SimVcpu *v, guint64 gpa, guint64 rip)
{
	vcpu_fail(v, "guest accessed gpa 0x%" G_GINT64_MODIFIER "x, outside guest memory and every "
		"MMIO window (near rip 0x%" G_GINT64_MODIFIER "x)", gpa, rip);
}

/* Whether a re-entry inside a run (after an EPT violation or a port I/O) must wait for the run
 * loop: a request vcpu_enter_guest() serves first, a stop, a failed schedule. */
static gboolean
run_must_end(const SimVcpu *v)
{
	return v->kvcpu->requests || v->stop_requested || sim_sched_failed(v->sched);
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
		vcpu_fail(v, "reserved bit in the SPTE walk for gpa 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x", gpa, rip);
		return;
	}
	u64 spte = kvm_tdp_mmu_get_walk_last(v->kvcpu, gpa, NULL);
	gboolean mmio = is_mmio_spte(spte);
	SimHwAccessKind kind = mmio ? SIM_HW_READ : sim_hw_access_kind(v->hw, rip, gpa, error_code);

	/* A fetch faults while a block is translated, before it runs; a data access cuts the
	 * running block short at rip. */
	if (kind != SIM_HW_FETCH)
		vcpu_block_cut(v, rip);
	vcpu_vmexit(v);
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
		vcpu_fail(v, "KVM_RUN failed with %s: EPT violation at gpa 0x%" G_GINT64_MODIFIER
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
	if (run_must_end(v)) {
		v->exit = v->kvcpu->requests ? EXIT_REQUEST : EXIT_STOP;
		uc_emu_stop(uc);
		return;
	}
	if (!vcpu_vmenter(v, rip)) {
		v->exit = EXIT_REQUEST;
		uc_emu_stop(uc);
	}
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
void
vcpu_hook_intr(uc_engine *uc, guint32 intno, void *data)
{
	SimVcpu *v = data;
	guint64 rip, cr2;

	if (intno == 14) {
		sim_hw_pf_regs(v->hw, &rip, &cr2);
		handle_page_fault(v, rip, cr2);
		vcpu_restore_cr2(v);
		return;
	}
	rip = sim_hw_rip(v->hw);
	g_autofree gchar *insn = sim_hw_disasm(v->hw, rip);

	trace_exception_exit(v, rip, intno);
	vcpu_fail(v, "guest raised %s (vector %u) at rip 0x%" G_GINT64_MODIFIER "x (%s)",
	     exception_name(intno), intno, rip, insn);
}

/* #UD stops the run at the instruction: a vmcall is a hypercall exit; rdrand and rdseed are
 * emulated between runs; anything else is a crash. */
bool
vcpu_hook_insn_invalid(uc_engine *uc, void *data)
{
	SimVcpu *v = data;
	guint64 rip = sim_hw_rip(v->hw);

	v->exit = sim_hw_insn_is_vmcall(v->hw, rip) ? EXIT_HYPERCALL : EXIT_UD;
	return true;
}

/* A #UD that is not emulated: the guest crashed. */
static void
invalid_opcode(SimVcpu *v)
{
	g_autofree gchar *insn = sim_hw_disasm(v->hw, v->rip);

	trace_exception_exit(v, v->rip, 6);
	vcpu_fail(v, "guest raised #UD at rip 0x%" G_GINT64_MODIFIER "x (%s)", v->rip, insn);
}

/* What an I/O exit's qualification says (the kernel's handle_io() reads it back). */
guint64
sim_io_exit_qualification(gboolean in, guint16 port, guint size, SimHwIoForm form)
{
	return (size - 1) | (in ? IO_QUAL_IN : 0) | (form & SIM_HW_IO_STRING ? IO_QUAL_STRING : 0) |
	       (form & SIM_HW_IO_REP ? IO_QUAL_REP : 0) | (form & SIM_HW_IO_IMM ? IO_QUAL_IMM : 0) |
	       (guint64)port << IO_QUAL_PORT_SHIFT;
}

/*
 * The re-entry after a port I/O is cancelled (vcpu_vmenter()): the instruction retired, so the
 * run stops with an in's value in AL/AX/EAX and resumes at next; the run loop serves the
 * request first. (2.0.1 left RIP at the block's start: a plain stop would run the in/out again.)
 * A string form's iteration is left undone by the stop (2.0.1 drops its store, RDI and RCX
 * updates), so it resumes at itself and its re-run takes the value with no second exit
 * (pio_redo_rip); a rep form's iterations left then run, as x86_emulate_insn()
 * (arch/x86/kvm/emulate.c, read in ColinIanKing/linux-next at 482f77f6) skips the RIP writeback
 * of a rep string instruction that is not completed.
 */
static void
pio_retire_and_stop(SimVcpu *v, gboolean in, guint size, guint32 value, guint64 rip, guint len,
		    SimHwIoForm form)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint64 next = rip + len;

	if (form & SIM_HW_IO_STRING) {
		v->pio_redo_rip = rip;
		v->pio_redo_value = value;
		next = rip;
	} else if (in) {
		int reg = size == 1 ? UC_X86_REG_AL : size == 2 ? UC_X86_REG_AX : UC_X86_REG_EAX;
		guint64 wide = value;

		uc_reg_write(uc, reg, &wide);
	}
	vcpu_block_cut(v, next);
	v->resume_rip = next;
	v->exit = EXIT_REQUEST;
	uc_emu_stop(uc);
}

/*
 * The exit changed the bytes of the block the in/out runs in (other actors ran in its ASI steps
 * or the VMM, or the VMM itself wrote them): the engine dropped the block, but 2.0.1 would resume
 * its old tail after the hook. Setting RIP makes it leave the block and decode again from next;
 * the instructions after the in/out are refunded, as vcpu_block_cut() does for a cut block.
 */
static void
pio_leave_stale_block(SimVcpu *v, guint64 next)
{
	vcpu_block_cut(v, next);
	uc_reg_write(sim_hw_uc(v->hw), UC_X86_REG_RIP, &next);
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
		rip = sim_hw_rip(v->hw);
	SimHwIoForm form = sim_hw_io_form(v->hw, rip, &len);

	if (G_UNLIKELY(v->pio_redo_rip) && rip == v->pio_redo_rip) {
		/* the re-run of an iteration whose exit was made: no exit, its value */
		v->pio_redo_rip = 0;
		if (in)
			*value = v->pio_redo_value;
		return;
	}
	sim_count(v->kvm->counters, SIM_CTR_EXITS_IO);
	vcpu_vmexit(v);
	trace_exit(v, EXIT_REASON_IO_INSTRUCTION, rip, sim_io_exit_qualification(in, port, size, form),
		   0, 0);
	/* KVM_EXIT_IO: KVM_RUN returns to the VMM and is called again */
	asi_kvm_run_exit(v->asi, (guint)v->kvcpu->vcpu_id);
	gboolean go_on = v->ops->pio(v->ops_data, v, in, port, size, value);

	trace_kvm_pio(v->kvcpu, in, port, size, *value);
	/* the in/out retires: progress, though the run goes on (ASI's switches yield here) */
	sim_sched_progress(v->sched);
	if (!go_on) {
		v->exit = EXIT_STOP;
		uc_emu_stop(sim_hw_uc(v->hw));
		return;
	}
	asi_kvm_run_enter(v->asi, (guint)v->kvcpu->vcpu_id);
	/* KVM_RUN again: vcpu_enter_guest() serves what was requested meanwhile (the VMM and ASI's
	 * switches yield), so a request, a stop or a failure ends the run as the EPT path's does;
	 * a string form resumes at itself (pio_retire_and_stop()) */
	if (run_must_end(v) || !vcpu_vmenter(v, form & SIM_HW_IO_STRING ? rip : rip + len)) {
		pio_retire_and_stop(v, in, size, *value, rip, len, form);
		return;
	}
	if (G_UNLIKELY(v->block_stale))
		pio_leave_stale_block(v, rip + len);
}

/* UC_HOOK_INSN on out: a port-IO exit, pio(). */
void
vcpu_hook_out(uc_engine *uc, guint32 port, int size, guint32 value, void *data)
{
	pio(data, FALSE, (guint16)port, (guint)size, &value);
}

/* UC_HOOK_INSN on in: a port-IO exit, pio(); the value lands in the guest's register. */
guint32
vcpu_hook_in(uc_engine *uc, guint32 port, int size, void *data)
{
	guint32 value = 0;

	pio(data, TRUE, (guint16)port, (guint)size, &value);
	return value;
}

/* An access outside every Unicorn region: no memslot and no MMIO window. */
bool
vcpu_hook_unmapped(uc_engine *uc, uc_mem_type type, guint64 address, int size, gint64 value,
	      void *data)
{
	SimVcpu *v = data;

	outside_memory(v, address, sim_hw_rip(v->hw));
	return false;
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
		asi_kvm_run_exit(v->asi, (guint)v->kvcpu->vcpu_id);
		trace_userspace_exit(v, 3, "KVM_EXIT_HYPERCALL", 0);
		ret = v->ops->hypercall(v->ops_data, v, KVM_HC_MAP_GPA_RANGE, args);
		asi_kvm_run_enter(v->asi, (guint)v->kvcpu->vcpu_id);
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
	asi_kvm_run_exit(v->asi, (guint)v->kvcpu->vcpu_id);
	trace_userspace_exit(v, KVM_EXIT_MEMORY_FAULT, NULL, v->exit_error);
	if (!v->ops->memory_fault(v->ops_data, v, v->exit_error, &v->kvcpu->run)) {
		vcpu_fail(v, "KVM_RUN failed with %s: KVM_EXIT_MEMORY_FAULT flags 0x%" G_GINT64_MODIFIER
			"x gpa 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x, not resolved by the VMM", g_strerror(-v->exit_error),
		     v->kvcpu->run.memory_fault.flags, v->kvcpu->run.memory_fault.gpa,
		     v->kvcpu->run.memory_fault.size, v->rip);
		return FALSE;
	}
	asi_kvm_run_enter(v->asi, (guint)v->kvcpu->vcpu_id);
	return TRUE;
}

/* KVM_HC_SCHED_YIELD and KVM_HC_MAP_GPA_RANGE are KVM's own; any other goes to the VMM. */
static void
handle_hypercall(SimVcpu *v)
{
	uc_engine *uc = sim_hw_uc(v->hw);
	guint64 nr, args[4], ret;
	int regs[] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
		       UC_X86_REG_RSI };
	void *values[] = { &nr, &args[0], &args[1], &args[2], &args[3] };

	/* one call for the five: the guests' barriers spin on KVM_HC_SCHED_YIELD */
	uc_reg_read_batch(uc, regs, values, G_N_ELEMENTS(regs));
	sim_count(v->kvm->counters, SIM_CTR_EXITS_HYPERCALL);
	trace_exit(v, EXIT_REASON_VMCALL, v->rip, 0, 0, 0);
	trace_kvm_hypercall(v->kvcpu, nr, args);
	if (nr == KVM_HC_SCHED_YIELD) {
		ret = 0;
		sim_yield(v->sched, "vcpu.sched_yield");
	} else if (nr == KVM_HC_MAP_GPA_RANGE) {
		ret = map_gpa_range(v, args);
	} else {
		/* KVM_EXIT_HYPERCALL to the VMM */
		asi_kvm_run_exit(v->asi, (guint)v->kvcpu->vcpu_id);
		ret = v->ops->hypercall(v->ops_data, v, nr, args);
		asi_kvm_run_enter(v->asi, (guint)v->kvcpu->vcpu_id);
	}
	uc_reg_write(uc, UC_X86_REG_RAX, &ret);
	v->rip += 3;
}

/* KVM's emulator fetches the instruction at rip from guest memory (x86_decode_insn() →
 * kvm_fetch_guest_virt() → kvm_vcpu_read_guest_page(), a copy_from_user() of the HVA; no tree
 * read): a kernel access to guest RAM, through the accessor. Simplified: the frame is reached
 * through its direct-map alias, which the KVM domain leaves unmapped as it does the user half. */
static void
fetch_insn(SimVcpu *v)
{
	gfn_t gfn = v->rip >> SIM_PAGE_SHIFT;
	struct kvm_memory_slot *slot = kvm_vcpu_gfn_to_memslot(v->kvcpu, gfn);
	SimPfn pfn = slot ? sim_mm_lookup(v->kvm->mm, gfn_to_hva_memslot(slot, gfn)) : SIM_PFN_NONE;

	if (pfn != SIM_PFN_NONE)
		sim_frame_kernel_access(v->kvm->hm, pfn, FALSE, "kvm_fetch_guest_virt");
}

/* Emulate the MMIO access at RIP, as KVM's emulator would, against the VMM's device: the
 * instruction is fetched in KVM, the device access is a KVM_EXIT_MMIO to the VMM. */
static void
handle_mmio(SimVcpu *v)
{
	GError *error = NULL;
	gboolean ok;

	sim_count(v->kvm->counters, SIM_CTR_EXITS_MMIO);
	if (v->asi)
		fetch_insn(v);
	asi_kvm_run_exit(v->asi, (guint)v->kvcpu->vcpu_id);
	ok = sim_hw_emulate_mmio(v->hw, v->exit_gpa, v->ops->mmio_read, v->ops->mmio_write,
				 v->ops_data, &error);
	asi_kvm_run_enter(v->asi, (guint)v->kvcpu->vcpu_id);
	if (!ok) {
		vcpu_fail(v, "cannot emulate the MMIO access to gpa 0x%" G_GINT64_MODIFIER "x at rip 0x%"
			G_GINT64_MODIFIER "x: %s", v->exit_gpa, v->rip, error->message);
		g_error_free(error);
		return;
	}
	v->rip = sim_hw_rip(v->hw);
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
gboolean
vcpu_handle_exit(SimVcpu *v, uc_err err)
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
	case EXIT_IRQ_WINDOW:
		/* handle_interrupt_window() (vmx.c, read in ColinIanKing/linux-next at 046408cf):
		 * the window closes and KVM_REQ_EVENT injects the interrupt at the next entry */
		trace_exit(v, EXIT_REASON_INTERRUPT_WINDOW, v->rip, 0, 0, 0);
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
	case EXIT_WRMSR:
		vcpu_wrmsr_exit(v);
		return vcpu_handle_wrmsr(v);
	case EXIT_STOP:
	case EXIT_ERROR:
	case EXIT_HOOK_TSC: /* handled by run_guest() */
		return FALSE;
	case EXIT_NONE:
		break;
	}
	if (err != UC_ERR_OK) {
		vcpu_fail(v, "the CPU emulator stopped at rip 0x%" G_GINT64_MODIFIER "x: %s", v->rip,
		     uc_strerror(err));
		return FALSE;
	}
	if (stopped_on_hlt(v)) {
		trace_exit(v, EXIT_REASON_HLT, v->rip - 1, 0, 0, 0);
		asi_kvm_halt(v->asi, (guint)v->kvcpu->vcpu_id);
		/* exits.hlt counts the halts that stop a vCPU (the VMM's end of the guest) */
		if (vcpu_halt(v)) {
			asi_kvm_unhalt(v->asi, (guint)v->kvcpu->vcpu_id);
			return TRUE;
		}
		sim_count(v->kvm->counters, SIM_CTR_EXITS_HLT);
		return FALSE;
	}
	vcpu_fail(v, "the CPU emulator stopped at rip 0x%" G_GINT64_MODIFIER "x for no known reason",
	     v->rip);
	return FALSE;
}