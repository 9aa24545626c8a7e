/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvmmmu tracepoints (arch/x86/kvm/mmu/mmutrace.h), with v6.18's formats and payloads as the
 * running 6.18 kernel's tracefs shows them (events/kvmmmu/<event>/format). One place formats
 * them, so the log reads like `trace-cmd report -e kvmmmu`.
 *
 * Pointers: tracefs prints %p hashed (the default hash-ptr option) as 16 zero-padded hex
 * digits; kvmsim prints the SPTE's host-physical address in that shape instead, which is
 * deterministic and names the same SPTE as kvm_mmu_set_spte's "at" field.
 *
 * Payloads (TP_fast_assign) were read in JonKohler/linux, arch/x86/kvm/mmu/mmutrace.h at
 * 3bc467de, for the events that tree leaves as upstream has them: mark_mmio_spte,
 * handle_mmio_page_fault, check_mmio_spte, fast_page_fault, kvm_mmu_zap_all_fast,
 * kvm_mmu_spte_requested, kvm_tdp_mmu_spte_changed. That developer tree carries unmerged MBEC
 * changes to KVM_MMU_PAGE_PRINTK() and kvm_mmu_set_spte, so for those two only the 6.18 tracefs
 * formats stand. The call sites are in ColinIanKing/linux-next at 1c60d04a (see fault.c).
 */
#include "mmu/mmu-internal.h"

#include <string.h>

/* The page-role bits kvmsim's TDP pages share (kvm_calc_tdp_mmu_root_page_role(), mmu.c; no
 * tree read): direct, 8-byte gptes, quadrant 0, access ACC_ALL, efer_nx set, A/D disabled. */
static const char *const access_str[] = { "---", "--x", "w--", "w-x", "-u-", "-ux", "wu-", "wux" };

/* The description KVM_MMU_PAGE_PRINTK() prints for a TDP MMU page. For TDP pages
 * mmu_valid_gen shares its storage with tdp_mmu_scheduled_root_to_zap, and root_count with
 * tdp_mmu_root_count, so those are what the fields show. */
static void
describe_sp(GString *s, const struct kvm_mmu_page *sp)
{
	g_string_append_printf(s, "sp gen %u gfn %" G_GINT64_MODIFIER "x l%d 8-byte q0 direct %s%s "
			       "nxe !ad root %d sync", sp->tdp_mmu_scheduled_root_to_zap ? 1u : 0u,
			       sp->gfn, sp->level, access_str[ACC_ALL], sp->invalid ? " invalid" : "",
			       sp->root_count);
}

/* Models trace_kvm_mmu_get_page(sp, created), emitted by tdp_mmu_init_sp(). */
void
trace_kvm_mmu_get_page(struct kvm *kvm, const struct kvm_mmu_page *sp, gboolean created)
{
	if (!sim_log_on(kvm->log))
		return;
	g_autoptr(GString) s = g_string_new(NULL);

	describe_sp(s, sp);
	sim_log_emitf(kvm->log, "kvm_mmu_get_page", "%s %s", s->str, created ? "new" : "existing");
}

/* Models trace_kvm_mmu_prepare_zap_page(sp), emitted by handle_removed_pt(). */
void
trace_kvm_mmu_prepare_zap_page(struct kvm *kvm, const struct kvm_mmu_page *sp)
{
	if (!sim_log_on(kvm->log))
		return;
	g_autoptr(GString) s = g_string_new(NULL);

	describe_sp(s, sp);
	sim_log_emitf(kvm->log, "kvm_mmu_prepare_zap_page", "%s", s->str);
}

/* Models trace_kvm_tdp_mmu_spte_changed(), emitted by handle_changed_spte(). */
void
trace_kvm_tdp_mmu_spte_changed(struct kvm *kvm, int as_id, gfn_t gfn, int level, u64 old_spte,
			       u64 new_spte)
{
	sim_log_emit(kvm->log, "kvm_tdp_mmu_spte_changed",
		     "as id %d gfn %" G_GINT64_MODIFIER "x level %d old_spte %" G_GINT64_MODIFIER
		     "x new_spte %" G_GINT64_MODIFIER "x", as_id, gfn, level, old_spte, new_spte);
}

/* Models trace_kvm_mmu_set_spte(): with EPT, r is always set (shadow_present_mask is not 0)
 * and u shows EPT's R bit (shadow_user_mask). */
void
trace_kvm_mmu_set_spte(struct kvm *kvm, int level, gfn_t gfn, u64 spte, u64 sptep_pa)
{
	sim_log_emit(kvm->log, "kvm_mmu_set_spte",
		     "gfn %" G_GINT64_MODIFIER "x spte %" G_GINT64_MODIFIER "x (r%c%c%c) level %d at %"
		     G_GINT64_MODIFIER "x", gfn, spte, is_writable_pte(spte) ? 'w' : '-',
		     is_executable_pte(spte) ? 'x' : '-', spte & shadow_user_mask ? 'u' : '-', level,
		     sptep_pa);
}

/* Models trace_kvm_mmu_spte_requested(): the 4K pfn inside the goal-level page. */
void
trace_kvm_mmu_spte_requested(struct kvm *kvm, const struct kvm_page_fault *fault)
{
	sim_log_emit(kvm->log, "kvm_mmu_spte_requested",
		     "gfn %" G_GINT64_MODIFIER "x pfn %" G_GINT64_MODIFIER "x level %d", fault->gfn,
		     (u64)fault_pfn_4k(fault),
		     fault->goal_level);
}

/* Models trace_kvm_mmu_split_huge_page() (mmutrace.h): the huge SPTE being split, its level, and
 * 0 or the errno of the failed split. */
void
trace_kvm_mmu_split_huge_page(struct kvm *kvm, gfn_t gfn, u64 spte, int level, int errno_)
{
	sim_log_emit(kvm->log, "kvm_mmu_split_huge_page",
		     "gfn %" G_GINT64_MODIFIER "x spte %" G_GINT64_MODIFIER "x level %d errno %d",
		     gfn, spte, level, errno_);
}

/* Models trace_mark_mmio_spte(): access is the SPTE's low ACC_ALL bits, as the kernel takes it. */
void
trace_mark_mmio_spte(struct kvm *kvm, u64 sptep_pa, gfn_t gfn, u64 spte)
{
	sim_log_emit(kvm->log, "mark_mmio_spte",
		     "sptep:%016" G_GINT64_MODIFIER "x gfn %" G_GINT64_MODIFIER "x access %x gen %x",
		     sptep_pa, gfn, (unsigned int)(spte & ACC_ALL),
		     (unsigned int)get_mmio_spte_generation(spte));
}

/* Models trace_check_mmio_spte(), emitted by check_mmio_spte(). */
void
trace_check_mmio_spte(struct kvm *kvm, u64 spte, unsigned int kvm_gen, unsigned int spte_gen)
{
	sim_log_emit(kvm->log, "check_mmio_spte",
		     "spte %" G_GINT64_MODIFIER "x kvm_gen %x spte-gen %x valid %d", spte, kvm_gen,
		     spte_gen, kvm_gen == spte_gen);
}

/* Models trace_handle_mmio_page_fault(); a direct MMU passes address 0. */
void
trace_handle_mmio_page_fault(struct kvm *kvm, u64 addr, gfn_t gfn, unsigned int access)
{
	sim_log_emit(kvm->log, "handle_mmio_page_fault",
		     "addr:%" G_GINT64_MODIFIER "x gfn %" G_GINT64_MODIFIER "x access %x", addr, gfn,
		     access);
}

/* Models trace_kvm_mmu_zap_all_fast(): the generation before the toggle and the shadow MMU's
 * page count, which the TDP MMU's pages are not part of. */
void
trace_kvm_mmu_zap_all_fast(struct kvm *kvm)
{
	sim_log_emit(kvm->log, "kvm_mmu_zap_all_fast", "kvm-mmu-valid-gen %u used_pages %x",
		     kvm->mmu_valid_gen, 0u);
}

/* The error-code flags fast_page_fault prints, in the kernel's table order (kvm_mmu_trace_pferr_flags). */
static const struct {
	u64 mask;
	const char *name;
} pferr_flags[] = {
	{ PFERR_PRESENT_MASK, "P" }, { PFERR_WRITE_MASK, "W" },	  { PFERR_USER_MASK, "U" },
	{ BIT_ULL(5), "PK" },	     { BIT_ULL(6), "SS" },	  { BIT_ULL(15), "SGX" },
	{ PFERR_RSVD_MASK, "RSVD" }, { PFERR_FETCH_MASK, "F" },
};

/* __print_flags() as trace_print_flags_seq() does it: known names joined by "|", then whatever
 * bits are left as one hex number. Written into buf (PFERR_FLAGS_LEN bytes) without a GString:
 * every fast_page_fault line prints it. */
#define PFERR_FLAGS_LEN 64
static const char *
print_pferr_flags(char *buf, u64 flags)
{
	char *p = buf;

	for (guint i = 0; i < G_N_ELEMENTS(pferr_flags) && flags; i++) {
		if ((flags & pferr_flags[i].mask) != pferr_flags[i].mask)
			continue;
		flags &= ~pferr_flags[i].mask;
		if (p != buf)
			*p++ = '|';
		p = stpcpy(p, pferr_flags[i].name);
	}
	if (flags) {
		int shift = 60;

		if (p != buf)
			*p++ = '|';
		p = stpcpy(p, "0x");
		while (!(flags >> shift))
			shift -= 4;
		for (; shift >= 0; shift -= 4)
			*p++ = "0123456789abcdef"[(flags >> shift) & 15];
	}
	*p = '\0';
	return buf;
}

/* Models trace_fast_page_fault(): new_spte is read from the SPTE at trace time. */
void
trace_fast_page_fault(struct kvm_vcpu *vcpu, const struct kvm_page_fault *fault, u64 sptep_pa,
		      u64 old_spte, u64 new_spte, int ret)
{
	struct kvm *kvm = vcpu->kvm;

	if (!sim_log_on(kvm->log))
		return;
	char err[PFERR_FLAGS_LEN];

	sim_log_emitf(kvm->log, "fast_page_fault",
		      "vcpu %d gva %" G_GINT64_MODIFIER "x error_code %s sptep %016" G_GINT64_MODIFIER
		      "x old 0x%" G_GINT64_MODIFIER "x new %" G_GINT64_MODIFIER "x spurious %d fixed %d",
		      vcpu->vcpu_id, fault->addr, print_pferr_flags(err, fault->error_code),
		      sptep_pa, old_spte, new_spte,
		      ret == RET_PF_SPURIOUS, ret == RET_PF_FIXED);
}
