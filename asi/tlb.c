/* SPDX-License-Identifier: GPL-2.0-only */
/* CR3 and PCIDs, the per-CPU TLB, shootdown, and the one accessor with the #PF path. */
#include "asi/asi-internal.h"

#include <errno.h>

/* Models kern_pcid() in arch/x86/mm/tlb.c: ASID + 1 (PCID 0 is left to the non-PCID path). */
guint16
kern_pcid(guint16 asid)
{
	return (guint16)(asid + 1);
}

/* Models asi_pcid() (v2 20/29): the class + 1 in the ASI PCID bits above the kernel PCID. */
guint16
asi_pcid(const struct asi *asi, guint16 asid)
{
	return (guint16)(kern_pcid(asid) | ((asi->class_id + 1) << X86_CR3_ASI_PCID_BITS_SHIFT));
}

/* Models build_cr3() in arch/x86/mm/tlb.c: no LAM bits, never NOFLUSH for ASI. */
guint64
build_cr3(guint64 pgd, guint16 pcid)
{
	return pgd | pcid;
}

/* Drop the non-global entries tagged pcid (what a flushing CR3 write does). */
void
asi_tlb_flush_pcid(AsiCpu *cpu, guint16 pcid)
{
	guint kept = 0;

	for (guint i = 0; i < cpu->tlb_used; i++) {
		if (cpu->tlb[i].pcid != pcid || (cpu->tlb[i].pte & _PAGE_GLOBAL))
			cpu->tlb[kept++] = cpu->tlb[i];
	}
	cpu->tlb_used = kept;
}

/* Models invlpg in every PCID (invalidate_other, v2 20/29): drop va's entries. */
void
asi_tlb_flush_va(AsiCpu *cpu, guint64 va)
{
	guint kept = 0;

	for (guint i = 0; i < cpu->tlb_used; i++) {
		if (cpu->tlb[i].vpn != va >> 12)
			cpu->tlb[kept++] = cpu->tlb[i];
	}
	cpu->tlb_used = kept;
}

/* Models write_cr3_raw() as the hardware takes it: without NOFLUSH, the new PCID's non-global
 * entries are invalidated (SDM vol. 3 4.10.4.1). */
void
write_cr3_raw(AsiCpu *cpu, guint64 cr3)
{
	cpu->cr3 = cr3 & ~X86_CR3_PCID_NOFLUSH;
	if (!(cr3 & X86_CR3_PCID_NOFLUSH))
		asi_tlb_flush_pcid(cpu, (guint16)(cr3 & X86_CR3_PCID_MASK));
}

/* Whether cpu caches a translation of va tagged pcid. */
gboolean
asi_tlb_cached(const AsiCpu *cpu, guint16 pcid, guint64 va)
{
	for (guint i = 0; i < cpu->tlb_used; i++) {
		if (cpu->tlb[i].vpn == va >> 12 && cpu->tlb[i].pcid == pcid)
			return TRUE;
	}
	return FALSE;
}

/* Models native_flush_tlb_local() with ASI (v2 20/29): a CR3 reload, which must asi_exit first;
 * inside a critical section the kernel WARNs and flushes everything. */
void
native_flush_tlb_local(AsiCpu *cpu)
{
	if (asi_warn(cpu->host, asi_in_critical_section(cpu), "flush_tlb_local_in_critical_section")) {
		cpu->tlb_used = 0;
		return;
	}
	asi_exit(cpu, ASI_EXIT_TLB_FLUSH);
	write_cr3_raw(cpu, cpu->cr3);
}

/* Models flush_tlb_kernel_range() under ASI: every CPU drops va's translations in every PCID. */
void
asi_flush_tlb_kernel_range(AsiHost *host, guint64 va, guint64 len)
{
	for (guint c = 0; c < host->config.nr_cpus; c++) {
		for (guint64 off = 0; off < len; off += ASI_PAGE_SIZE)
			asi_tlb_flush_va(&host->cpus[c], va + off);
	}
	host->stats.tlb_shootdowns++;
}

/* Cache a translation, evicting the oldest entry when full (deterministic). */
static void
tlb_insert(AsiCpu *cpu, guint16 pcid, guint64 va, guint64 pte)
{
	guint slot = cpu->tlb_used;

	if (slot == cpu->host->config.tlb_entries) {
		slot = 0;
		for (guint i = 1; i < cpu->tlb_used; i++) {
			if (cpu->tlb[i].stamp < cpu->tlb[slot].stamp)
				slot = i;
		}
	} else {
		cpu->tlb_used++;
	}
	cpu->tlb[slot] = (AsiTlbEntry){ pcid, va >> 12, pte, cpu->tlb_stamp++ };
}

/* The hardware side of one access: a TLB hit, or a walk of the current CR3 that fills the TLB. */
static gboolean
hw_translate(AsiCpu *cpu, guint64 va, guint64 error_code)
{
	guint16 pcid = (guint16)(cpu->cr3 & X86_CR3_PCID_MASK);
	guint64 pgd = cpu->cr3 & PTE_PFN_MASK;

	for (guint i = 0; i < cpu->tlb_used; i++) {
		AsiTlbEntry *e = &cpu->tlb[i];

		if (e->vpn == va >> 12 && (e->pcid == pcid || (e->pte & _PAGE_GLOBAL)) &&
		    (!(error_code & X86_PF_WRITE) || (e->pte & _PAGE_RW)) &&
		    (!(error_code & X86_PF_INSTR) || !(e->pte & _PAGE_NX)))
			return TRUE;
	}
	if (!kernel_access_ok(cpu->host, error_code, va, pgd))
		return FALSE;
	tlb_insert(cpu, pcid, va, asi_pt_walk(cpu->host, pgd, va, NULL, NULL));
	return TRUE;
}

/* Models warn_if_bad_asi_pf() (v1 12/26): an access the target domain cannot make, from the
 * critical section (depth 1: the #PF itself counted), is a bug (§8.3). */
static void
warn_if_bad_asi_pf(AsiCpu *cpu, guint64 error_code, guint64 va)
{
	AsiTask *task = cpu->current;

	if (task->target && task->intr_nest_depth == 1 &&
	    !kernel_access_ok(cpu->host, error_code, va, asi_pgd(task->target)))
		asi_report(cpu->host, "asi_sensitive_access_in_critical_section");
}

/* Models exc_page_fault()'s ASI part (v2 RFC #PF patch, arch/x86/mm/fault.c) for a kernel-mode
 * fault: IDT entry (asi_intr_enter), asi_exit, re-walk of the now-current tables; if the access
 * would now succeed, return so it retries. Simplified: no normal fault handling after (a kernel
 * access to an address no table maps is an oops: -EFAULT). TRUE when the retry may succeed. */
static gboolean
exc_page_fault(AsiCpu *cpu, guint64 va, guint64 error_code, const char *ip)
{
	gboolean ok;

	asi_intr_enter(cpu);
	/* [inference] the branch's asi_exit_pf tracepoint fires when this exit switched */
	if (asi_exit(cpu, ASI_EXIT_PAGE_FAULT)) {
		AsiStep step = { ASI_STEP_EXIT_PF, NULL, error_code, cpu->taints, va,
				 ASI_EXIT_PAGE_FAULT, ip };

		if (cpu->host->ops.step)
			cpu->host->ops.step(cpu, &step, cpu->host->ops.data);
	}
	ok = kernel_access_ok(cpu->host, error_code, va, cpu->cr3 & PTE_PFN_MASK);
	if (ok)
		warn_if_bad_asi_pf(cpu, error_code, va);
	asi_intr_exit(cpu);
	return ok;
}

/* The retries a faulting access gets: in the kernel a sensitive access inside the critical
 * section faults, exits, re-enters on the #PF's return and faults again forever. */
#define ASI_PF_RETRY_BUDGET 4

/* The one accessor: modelled kernel code touching host memory at va. 0, or -EFAULT (with
 * "asi_pf_loop" reported when the budget ran out). */
int
asi_host_access_ip(AsiCpu *cpu, guint64 va, guint64 error_code, const char *ip)
{
	for (guint tries = 0; tries < ASI_PF_RETRY_BUDGET; tries++) {
		if (hw_translate(cpu, va, error_code))
			return 0;
		if (!exc_page_fault(cpu, va, error_code, ip))
			return -EFAULT;
	}
	asi_report(cpu->host, "asi_pf_loop");
	return -EFAULT;
}

/* asi_host_access_ip() with no name for the accessing code. */
int
asi_host_access(AsiCpu *cpu, guint64 va, guint64 error_code)
{
	return asi_host_access_ip(cpu, va, error_code, NULL);
}
