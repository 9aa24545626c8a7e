/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * VM and vCPU lifetime, requests and remote TLB flushes (virt/kvm/kvm_main.c, x86.c).
 *
 * kvm_main.c functions named below were read in ColinIanKing/linux-next at 03b9d314 (6.18 cycle
 * or later: EXPORT_SYMBOL_FOR_KVM_INTERNAL), mmu.c and tdp_mmu.c functions at 1c60d04a (see
 * fault.c), arch/x86/kvm/x86.c functions at 1c60d04a as well (6.18 cycle:
 * EXPORT_SYMBOL_FOR_KVM_INTERNAL, KVM_RUN_FORCE_IMMEDIATE_EXIT).
 */
#include "mmu/mmu-internal.h"

#include <errno.h>
#include <stdarg.h>

#include "gmem/gmem.h"
#include "mmu/async_pf.h"
#include "mmu/range_map.h"

/* Record an invariant violation as an event and fail the run (STYLE.md, tier 3). */
void
kvm_invariant_failed(struct kvm *kvm, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gchar *detail = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	sim_log_emit(kvm->log, "sim_invariant", "%s: %s", what, detail);
	gchar *reason = g_strdup_printf("invariant %s violated: %s", what, detail);

	sim_sched_fail(kvm->sched, reason);
	g_free(reason);
	g_free(detail);
}

/*
 * A frame is being freed: no vCPU may still reach it through a zapped translation it has not
 * flushed. A vCPU with a TLB flush pending cannot use it: it flushes before it enters again.
 */
static void
kvm_check_freed_frame(gpointer data, SimPfn pfn)
{
	struct kvm *kvm = data;
	guint64 gpa = sim_frame_resident_gpa(kvm->hm, pfn);
	struct kvm_unflushed_tlb_iter iter;

	/* the GPA page holding a frame is where its last SPTE pointed: is that SPTE still there,
	 * in any root (an invalid one still maps until it is torn down)? */
	if (gpa != G_MAXUINT64) {
		if (kvm_tdp_mmu_any_root_maps(kvm, gpa >> PAGE_SHIFT, pfn))
			kvm_invariant_failed(kvm, "freed_frame_mapped_by_spte",
					     "pfn 0x%" G_GINT64_MODIFIER "x freed while gfn 0x%"
					     G_GINT64_MODIFIER "x still maps it (missing MMU notifier)",
					     pfn, gpa >> PAGE_SHIFT);
	}

	for_each_unflushed_tlb_entry(iter, kvm) {
		if (iter.entry->pfn == pfn)
			kvm_invariant_failed(kvm, "freed_frame_still_mapped",
					     "pfn 0x%" G_GINT64_MODIFIER "x freed while vcpu%d may "
					     "still map it at gfn 0x%" G_GINT64_MODIFIER
					     "x (no TLB flush since the zap)", pfn, iter.vcpu->vcpu_id,
					     iter.entry->gfn);
	}
}

/* See mmu-internal.h: the next entry of a vCPU with no flush and no new root due, or FALSE. */
gboolean
kvm_unflushed_tlb_next(struct kvm_unflushed_tlb_iter *iter)
{
	for (; iter->vcpu_idx < iter->kvm->online_vcpus; iter->vcpu_idx++, iter->entry_idx = 0) {
		struct kvm_vcpu *vcpu = iter->kvm->vcpus[iter->vcpu_idx];

		/* a flush or a new root is due before this vCPU enters again */
		if (kvm_vcpu_flush_due(vcpu) || iter->entry_idx >= vcpu->stale_tlb->len)
			continue;
		iter->vcpu = vcpu;
		iter->entry = &g_array_index(vcpu->stale_tlb, struct kvm_stale_tlb_entry,
					     iter->entry_idx++);
		return TRUE;
	}
	return FALSE;
}

/* A freed frame's poison, or the zero page's zeros, were overwritten. */
static void
kvm_check_freed_poison(gpointer data, SimPfn pfn, guint offset)
{
	if (pfn == SIM_ZERO_PFN)
		kvm_invariant_failed(data, "zero_page_written",
				     "the zero page was written at offset 0x%x (it is never mapped "
				     "writable: a stale writable translation)", offset);
	else
		kvm_invariant_failed(data, "write_after_free",
				     "pfn 0x%" G_GINT64_MODIFIER "x was written at offset 0x%x after it "
				     "was freed", pfn, offset);
}

/* hostmem's code hook: a GPA page code ran from changed under the guest; every vCPU's
 * translations of it go (no kernel function: instruction fetch is coherent in hardware). */
static void
kvm_code_changed(gpointer data, guint64 gpa, guint64 size)
{
	struct kvm *kvm = data;

	if (!kvm->hw_ops || !kvm->hw_ops->code_changed)
		return;
	for (int i = 0; i < kvm->online_vcpus; i++)
		kvm->hw_ops->code_changed(kvm->vcpus[i], gpa, size);
}

/* Models kvm_is_vm_type_supported() for x86 with CONFIG_KVM_SW_PROTECTED_VM (x86.c; no tree
 * read): the default VM and the software-protected one; SEV, SNP and TDX are not modeled. */
static gboolean
kvm_is_vm_type_supported(unsigned long type)
{
	return type == KVM_X86_DEFAULT_VM || type == KVM_X86_SW_PROTECTED_VM;
}

/* Models kvm_create_vm() in virt/kvm/kvm_main.c with kvm_arch_init_vm()'s type check: the VM,
 * its locks, its memory attributes and its MMU notifier. */
int
kvm_create_vm_with(SimSched *sched, SimHostMem *hm, SimPtPool *pt_pool, SimMm *mm,
		   SimCounters *counters, const struct kvm_hw_ops *hw_ops,
		   const struct kvm_create_vm_args *args, struct kvm **out)
{
	*out = NULL;
	if (!kvm_is_vm_type_supported(args->type))
		return -EINVAL;
	struct kvm *kvm = g_new0(struct kvm, 1);

	kvm->sched = sched;
	kvm->log = sim_sched_log(sched);
	kvm->counters = counters;
	kvm->mm = mm;
	kvm->hm = hm;
	kvm->pt_pool = pt_pool;
	kvm->hw_ops = hw_ops;
	kvm->mmu_lock.name = "mmu_lock";
	kvm->slots_lock.name = "slots_lock";
	kvm->srcu.name = "kvm->srcu";
	kvm->mn_invalidate_lock.name = "mn_invalidate_lock";
	kvm->memslots = kvm_memslots_new();
	kvm_mmu_init_tdp_mmu(kvm);
	kvm->slot_zap_all = TRUE;
	kvm->mmu_invalidate_range_start = INVALID_GPA;
	kvm->mmu_invalidate_range_end = INVALID_GPA;
	kvm->mmio_caching = TRUE;
	kvm->vm_type = args->type;
	kvm->has_private_mem = args->type == KVM_X86_SW_PROTECTED_VM;
	kvm->vm_memory_attributes = !args->gmem_attributes;
	kvm->mem_attr_array = kvm_range_map_new(0);
	kvm->users_count = 1;
	kvm->files = args->files;
	if (!kvm->files) {
		kvm->files = gmem_fdtable_new();
		kvm->files_owned = TRUE;
	}
	kvm->lpage_info_arrays = g_ptr_array_new_with_free_func(g_free);
	kvm->tdp_mmu_pages_lock.name = "tdp_mmu_pages_lock";
	kvm->possible_nx_huge_pages = g_ptr_array_new();
	/* nx_huge_pages_recovery_ratio's default (mmu.c, ColinIanKing/linux-next at 1c60d04a) */
	kvm->nx_huge_pages_recovery_ratio = 60;
	sim_mm_register_notifier(mm, &kvm_mmu_notifier_ops, kvm);
	sim_hostmem_set_hooks(hm, kvm_check_freed_frame, kvm_check_freed_poison, kvm);
	sim_hostmem_set_code_hook(hm, kvm_code_changed, kvm);
	if (args->type != KVM_X86_DEFAULT_VM || args->gmem_attributes)
		sim_log_emit(kvm->log, "sim_create_vm", "type %lu%s", args->type,
			     args->gmem_attributes ? " gmem_attributes" : "");
	*out = kvm;
	return 0;
}

/* kvm_create_vm() for the default VM type, with per-VM memory attributes. */
struct kvm *
kvm_create_vm(SimSched *sched, SimHostMem *hm, SimPtPool *pt_pool, SimMm *mm,
	      SimCounters *counters, const struct kvm_hw_ops *hw_ops)
{
	const struct kvm_create_vm_args args = { .type = KVM_X86_DEFAULT_VM };
	struct kvm *kvm;

	kvm_create_vm_with(sched, hm, pt_pool, mm, counters, hw_ops, &args, &kvm);
	return kvm;
}

/* Models kvm_get_kvm(). */
void
kvm_get_kvm(struct kvm *kvm)
{
	kvm->users_count++;
}

/* Models kvm_put_kvm(): the last reference destroys the VM. */
void
kvm_put_kvm(struct kvm *kvm)
{
	g_assert(kvm->users_count > 0);
	if (--kvm->users_count == 0)
		kvm_destroy_vm(kvm);
}

/* Models kvm_destroy_vm(): the tables, the vCPUs, the memslots and the attributes go. */
void
kvm_destroy_vm(struct kvm *kvm)
{
	if (!kvm)
		return;
	/* the VM's own file table goes first, while the VM is whole for its files' releases; the
	 * extra reference keeps their kvm_put_kvm() from destroying it a second time */
	if (kvm->files_owned) {
		kvm->users_count++;
		gmem_fdtable_free(kvm->files);
		kvm->files = NULL;
		kvm->files_owned = FALSE;
		kvm->users_count--;
	}
	/* a guest_memfd file still open elsewhere on this VM would keep a dangling reference */
	g_warn_if_fail(kvm->users_count <= 1);
	/* a VM made while this one lived on (a reboot on the same guest_memfd) keeps its hooks */
	if (sim_hostmem_hook_data(kvm->hm) == kvm) {
		sim_hostmem_set_hooks(kvm->hm, NULL, NULL, NULL);
		sim_hostmem_set_code_hook(kvm->hm, NULL, NULL);
	}
	sim_mm_unregister_notifier(kvm->mm, kvm);
	kvm_mmu_uninit_tdp_mmu(kvm);
	g_ptr_array_free(kvm->possible_nx_huge_pages, TRUE);
	for (int i = 0; i < kvm->online_vcpus; i++) {
		struct kvm_vcpu *vcpu = kvm->vcpus[i];

		kvm_mmu_free_memory_cache(kvm, &vcpu->mmu_shadow_page_cache);
		kvm_async_pf_vcpu_destroy(vcpu);
		g_array_free(vcpu->stale_tlb, TRUE);
		g_ptr_array_free(vcpu->stale_tables, TRUE);
		g_array_free(vcpu->tlb_writable, TRUE);
		g_free(vcpu);
	}
	kvm_async_pf_destroy(kvm);
	kvm_memslots_free(kvm->memslots);
	/* a swap whose actor was abandoned (a run that stopped mid-ioctl) still holds these */
	kvm_memslots_free(kvm->memslots_swapping[0]);
	kvm_memslots_free(kvm->memslots_swapping[1]);
	g_ptr_array_free(kvm->lpage_info_arrays, TRUE);
	sim_srcu_clear(&kvm->srcu);
	kvm_range_map_free(kvm->mem_attr_array);
	if (kvm->dirty_logs)
		g_ptr_array_free(kvm->dirty_logs, TRUE);
	g_free(kvm);
}

/* The part of kvm_vm_ioctl_create_vcpu() (kvm_main.c; its body not read) kvmsim needs: the vCPU
 * takes the next slot of kvm->vcpus and online_vcpus grows; no fd, no vcpu_array xarray. */
struct kvm_vcpu *
kvm_vm_ioctl_create_vcpu(struct kvm *kvm, int id, gpointer hw)
{
	g_assert(kvm->online_vcpus < KVM_MAX_VCPUS);
	struct kvm_vcpu *vcpu = g_new0(struct kvm_vcpu, 1);

	vcpu->kvm = kvm;
	vcpu->vcpu_id = id;
	vcpu->hw = hw;
	vcpu->stale_tlb = g_array_new(FALSE, FALSE, sizeof(struct kvm_stale_tlb_entry));
	kvm_async_pf_vcpu_init(vcpu);
	vcpu->stale_tables = g_ptr_array_new();
	vcpu->tlb_writable = g_array_new(FALSE, FALSE, sizeof(struct kvm_stale_tlb_entry));
	vcpu->tlb_log_mark = tdp_mmu_tlb_writes; /* its TLB starts empty */
	kvm->vcpus[kvm->online_vcpus++] = vcpu;
	return vcpu;
}

/* A zapped leaf may live on in every vCPU's TLB until that vCPU flushes. */
void
kvm_record_stale_translation(struct kvm *kvm, gfn_t gfn, kvm_pfn_t pfn)
{
	struct kvm_stale_tlb_entry e = { gfn, pfn, sim_sched_now(kvm->sched) };

	for (int i = 0; i < kvm->online_vcpus; i++)
		g_array_append_val(kvm->vcpus[i]->stale_tlb, e);
}

/* The root a table hangs from (its parents' chain ends at a root, whose ptep is NULL). */
static const struct kvm_mmu_page *
sp_root(struct kvm *kvm, const struct kvm_mmu_page *sp)
{
	while (sp->ptep)
		sp = sptep_to_sp(kvm, sp->ptep);
	return sp;
}

/* A table unlinked from the valid root may be cached by every vCPU's paging-structure caches
 * until it flushes. Tables of an invalid root need no record: every vCPU on it has
 * KVM_REQ_MMU_FREE_OBSOLETE_ROOTS pending and flushes when it loads its new root. */
void
kvm_record_stale_table(struct kvm *kvm, const struct kvm_mmu_page *sp)
{
	if (sp_root(kvm, sp)->invalid)
		return;
	for (int i = 0; i < kvm->online_vcpus; i++)
		g_ptr_array_add(kvm->vcpus[i]->stale_tables, (gpointer)sp);
}

/* A table is being freed (its RCU grace period is over): no vCPU without a pending flush may
 * still cache it, or the hardware walker reads freed memory. */
void
kvm_check_freed_table(struct kvm *kvm, const struct kvm_mmu_page *sp)
{
	for (int i = 0; i < kvm->online_vcpus; i++) {
		struct kvm_vcpu *vcpu = kvm->vcpus[i];

		if (!g_ptr_array_remove(vcpu->stale_tables, (gpointer)sp) ||
		    kvm_vcpu_flush_due(vcpu))
			continue;
		kvm_invariant_failed(kvm, "freed_table_still_cached",
				     "the level-%d table for gfn 0x%" G_GINT64_MODIFIER
				     "x is freed while vcpu%d may still cache it (no TLB flush "
				     "since it was unlinked)", sp->level, sp->gfn, vcpu->vcpu_id);
	}
}

/*
 * Models kvm_request_needs_ipi() as kvm_make_vcpu_request() calls it (virt/kvm/kvm_main.c, read
 * in ColinIanKing/linux-next at 03b9d314): kvm_vcpu_exiting_guest_mode() turns a vCPU
 * IN_GUEST_MODE into EXITING_GUEST_MODE, and only that one needs the IPI. [simplified] The
 * KVM_REQUEST_WAIT requests' IPI to a vCPU already EXITING_GUEST_MODE is left out: one is pending
 * there already. The no_request_ipi mutation sends none.
 */
static gboolean
kvm_request_needs_ipi(struct kvm_vcpu *vcpu)
{
	if (G_LIKELY(vcpu->mode != IN_GUEST_MODE) ||
	    sim_mutated(vcpu->kvm->mutations, SIM_MUT_NO_REQUEST_IPI))
		return FALSE;
	vcpu->mode = EXITING_GUEST_MODE;
	return TRUE;
}

/*
 * Models kvm_make_all_cpus_request() (kvm_main.c at 03b9d314): the request to each vCPU, and
 * kvm_kick_many_cpus()'s smp_call_function_many() to those kvm_request_needs_ipi() picks: one CPU
 * gets CALL_FUNCTION_SINGLE_VECTOR, several CALL_FUNCTION_VECTOR (smp_call_function_many_cond(),
 * kernel/smp.c at 878b9569). kvmsim's vCPUs are IN_GUEST_MODE while another actor runs only in
 * ASI's entry switch, IRQs off: the IPI stays pending and the entry exits at once
 * (sim_kvm_vmenter() in sim/cpu). [simplified] The requester never runs on such a vCPU's CPU, and
 * does not wait for the IPI's handler (KVM_REQUEST_WAIT).
 */
void
kvm_make_all_cpus_request(struct kvm *kvm, unsigned int req)
{
	gboolean ipi[KVM_MAX_VCPUS];
	guint ipis = 0;

	for (int i = 0; i < kvm->online_vcpus; i++) {
		kvm->vcpus[i]->requests |= 1ul << req;
		ipi[i] = kvm_request_needs_ipi(kvm->vcpus[i]);
		ipis += ipi[i];
	}
	if (G_LIKELY(!ipis))
		return;
	for (int i = 0; i < kvm->online_vcpus; i++)
		if (ipi[i])
			kvm->vcpus[i]->ipi_vector = MAX(kvm->vcpus[i]->ipi_vector, ipis == 1 ?
							CALL_FUNCTION_SINGLE_VECTOR :
							CALL_FUNCTION_VECTOR);
}

/*
 * Models __kvm_vcpu_kick(vcpu, false) (virt/kvm/kvm_main.c, read in ColinIanKing/linux-next at
 * 03b9d314): kvm_arch_vcpu_should_kick() (x86.c at 1c60d04a) turns a vCPU IN_GUEST_MODE into
 * EXITING_GUEST_MODE, the cmpxchg of kvm_vcpu_exiting_guest_mode() (kvm_host.h at a66ec810), and
 * a reschedule IPI goes to its CPU; a vCPU outside guest mode gets nothing (a kick of the running
 * vCPU itself changes the mode alike, without the IPI). kvmsim's vCPUs are IN_GUEST_MODE while
 * another actor runs only inside ASI's entry switch, IRQs off: the IPI stays pending, and the
 * entry exits at once (sim_kvm_vmenter() in sim/cpu). [simplified] kvm_vcpu_wake_up() of a halted
 * vCPU is left out: its kvm_vcpu_block() finds kvm_vcpu_check_block() unchanged, sleeps again.
 */
void
kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	if (vcpu->mode != IN_GUEST_MODE)
		return;
	vcpu->mode = EXITING_GUEST_MODE;
	vcpu->ipi_vector = MAX(vcpu->ipi_vector, RESCHEDULE_VECTOR);
}

static void kvm_vcpu_stale_tlb_flushed(struct kvm_vcpu *vcpu, const char *how);
static void kvm_vcpu_stale_window_end(struct kvm_vcpu *vcpu, const char *how, guint dropped);

/* Drop from entries (struct kvm_stale_tlb_entry) those whose gfn is in [gfn, end). */
static void
kvm_stale_entries_drop_range(GArray *entries, gfn_t gfn, gfn_t end)
{
	guint kept = 0;

	for (guint j = 0; j < entries->len; j++) {
		struct kvm_stale_tlb_entry *e = &g_array_index(entries, struct kvm_stale_tlb_entry, j);

		if (e->gfn < gfn || e->gfn >= end)
			g_array_index(entries, struct kvm_stale_tlb_entry, kept++) = *e;
	}
	g_array_set_size(entries, kept);
}

/* A ranged flush reached vcpu: it forgets the zapped and the writable translations of
 * [gfn, end) and the cached tables whose range meets it, and nothing else; the stale-TLB window
 * ends if no zapped translation is left. */
static void
kvm_vcpu_stale_tlb_flushed_range(struct kvm_vcpu *vcpu, gfn_t gfn, gfn_t end, const char *how)
{
	guint before = vcpu->stale_tlb->len;

	kvm_stale_entries_drop_range(vcpu->stale_tlb, gfn, end);
	kvm_stale_entries_drop_range(vcpu->tlb_writable, gfn, end);
	for (guint j = vcpu->stale_tables->len; j-- > 0;) {
		const struct kvm_mmu_page *sp = g_ptr_array_index(vcpu->stale_tables, j);

		if (sp->gfn < end && gfn < sp->gfn + KVM_PAGES_PER_HPAGE(sp->level + 1))
			g_ptr_array_remove_index(vcpu->stale_tables, j);
	}
	if (!vcpu->stale_tlb->len)
		kvm_vcpu_stale_window_end(vcpu, how, before);
}

/*
 * Models hv_flush_remote_tlbs() and hv_flush_remote_tlbs_range() (arch/x86/kvm/kvm_onhyperv.c;
 * no tree read, the names and the hypercalls as the kernel's kvm_x86_ops hooks and Hyper-V's
 * TLFS give them): HvCallFlushGuestPhysicalAddressSpace / ...AddressList. The hypervisor flushes
 * every vCPU at once, no request involved. A ranged flush drops the translations of the range
 * and the cached page tables whose range meets it (as an address-specific invalidation drops the
 * paging-structure-cache entries used for its addresses). The CPU engines are flushed whole:
 * more than the range, which only the bookkeeping (the invariants) keeps exact.
 */
static void
hv_flush_remote_tlbs_range(struct kvm *kvm, gfn_t gfn, u64 nr_pages)
{
	sim_log_emit(kvm->log, "sim_hv_flush_remote_tlbs", "gfn 0x%" G_GINT64_MODIFIER "x pages 0x%"
		     G_GINT64_MODIFIER "x on %d vcpus", gfn, nr_pages, kvm->online_vcpus);
	for (int i = 0; i < kvm->online_vcpus; i++) {
		struct kvm_vcpu *vcpu = kvm->vcpus[i];

		kvm->hw_ops->flush_tlb_all(vcpu);
		if (gfn == 0 && nr_pages == G_MAXUINT64) {
			kvm_vcpu_stale_tlb_flushed(vcpu, "the hypervisor's flush");
			continue;
		}
		/* the engine's TLB is empty: only the bookkeeping stays ranged */
		vcpu->tlb_log_mark = tdp_mmu_tlb_writes;
		kvm_vcpu_stale_tlb_flushed_range(vcpu, gfn, gfn + nr_pages,
						 "the hypervisor's ranged flush");
	}
}

/* Models kvm_flush_remote_tlbs_range(): the arch's ranged flush, or everything. */
void
kvm_flush_remote_tlbs_range(struct kvm *kvm, gfn_t gfn, u64 nr_pages)
{
	if (!kvm->hv_tlb_flush) {
		kvm_flush_remote_tlbs(kvm);
		return;
	}
	sim_count(kvm->counters, SIM_CTR_TLB_FLUSHES);
	hv_flush_remote_tlbs_range(kvm, gfn, nr_pages);
}

/* Models kvm_flush_remote_tlbs(): the hypervisor's flush of everything, or a request to every
 * vCPU (kvm_arch_flush_remote_tlbs() fails without it). */
void
kvm_flush_remote_tlbs(struct kvm *kvm)
{
	if (kvm->hv_tlb_flush) {
		sim_count(kvm->counters, SIM_CTR_TLB_FLUSHES);
		hv_flush_remote_tlbs_range(kvm, 0, G_MAXUINT64);
		return;
	}
	sim_count(kvm->counters, SIM_CTR_TLB_FLUSHES);
	sim_log_emit(kvm->log, "sim_flush_remote_tlbs", "request KVM_REQ_TLB_FLUSH on %d vcpus",
		     kvm->online_vcpus);
	kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
}

/* Models kvm_mmu_load() (arch/x86/kvm/mmu/mmu.c): allocate or share the root. */
u64
kvm_mmu_load(struct kvm_vcpu *vcpu)
{
	if (!vcpu->root) {
		int r = mmu_topup_memory_caches(vcpu);

		g_assert(r == 0);
		/* kvm_tdp_mmu_alloc_root() takes mmu_lock for read (v6.18) */
		sim_read_lock(vcpu->kvm->sched, &vcpu->kvm->mmu_lock, "mmu_load.mmu_lock");
		vcpu->root = kvm_tdp_mmu_alloc_root(vcpu);
		sim_read_unlock(vcpu->kvm->sched, &vcpu->kvm->mmu_lock, "mmu_load.mmu_unlock");
	}
	return vcpu->root->spt_pa;
}

u64
kvm_mmu_root_pa(const struct kvm_vcpu *vcpu)
{
	return vcpu->root ? vcpu->root->spt_pa : 0;
}

gboolean
kvm_mmu_root_valid(const struct kvm_vcpu *vcpu)
{
	return vcpu->root && !vcpu->root->invalid;
}

/* Models kvm_mmu_free_obsolete_roots() for the TDP MMU: drop an invalid root; TDP MMU roots
 * are put with mmu_lock held for read (kvm_mmu_free_roots(), v6.18). */
static void
kvm_mmu_free_obsolete_roots(struct kvm_vcpu *vcpu)
{
	struct kvm *kvm = vcpu->kvm;

	if (!vcpu->root || !vcpu->root->invalid)
		return;
	sim_read_lock(kvm->sched, &kvm->mmu_lock, "mmu_unload.mmu_lock");
	kvm_tdp_mmu_put_root(kvm, vcpu->root);
	vcpu->root = NULL;
	sim_read_unlock(kvm->sched, &kvm->mmu_lock, "mmu_unload.mmu_unlock");
}

/*
 * Models kvm_mmu_zap_all_fast() (arch/x86/kvm/mmu/mmu.c) for the TDP MMU: make every root
 * obsolete at once under the write lock and tell the vCPUs, then tear the old roots down under
 * the read lock. Not an mmu_invalidate event: stale faults are caught by the invalid root.
 */
void
kvm_mmu_zap_all_fast(struct kvm *kvm)
{
	sim_write_lock(kvm->sched, &kvm->mmu_lock, "zap_all_fast.mmu_lock");
	trace_kvm_mmu_zap_all_fast(kvm);
	kvm->mmu_valid_gen = kvm->mmu_valid_gen ? 0 : 1;
	kvm_tdp_mmu_invalidate_roots(kvm);
	kvm_make_all_cpus_request(kvm, KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);
	sim_write_unlock(kvm->sched, &kvm->mmu_lock, "zap_all_fast.mmu_unlock");
	kvm_tdp_mmu_zap_invalidated_roots(kvm, TRUE);
}

/*
 * The stale-TLB window, for the log: the vCPU enters the guest while its TLB may still hold
 * translations zapped since its last flush (a zap whose flush is not requested yet). One line
 * per such entry, with the translations as runs of consecutive gfns and pfns zapped at one step.
 */
static void
trace_stale_tlb_enter(struct kvm_vcpu *vcpu)
{
	const guint max_runs = 4;
	GString *s = g_string_new(NULL);
	guint runs = 0, i = 0;

	while (i < vcpu->stale_tlb->len) {
		const struct kvm_stale_tlb_entry *e =
			&g_array_index(vcpu->stale_tlb, struct kvm_stale_tlb_entry, i);
		guint n = 1;

		for (; i + n < vcpu->stale_tlb->len; n++) {
			const struct kvm_stale_tlb_entry *f = e + n;

			if (f->gfn != e->gfn + n || f->pfn != e->pfn + n || f->zap_step != e->zap_step)
				break;
		}
		if (runs++ < max_runs) {
			g_string_append_printf(s, "%sgfn 0x%" G_GINT64_MODIFIER "x", runs > 1 ? ", " : "",
					       e->gfn);
			if (n > 1)
				g_string_append_printf(s, "-0x%" G_GINT64_MODIFIER "x", e->gfn + n - 1);
			g_string_append_printf(s, " pfn 0x%" G_GINT64_MODIFIER "x", e->pfn);
			if (n > 1)
				g_string_append_printf(s, "-0x%" G_GINT64_MODIFIER "x", e->pfn + n - 1);
			g_string_append_printf(s, " zapped at step %" G_GUINT64_FORMAT, e->zap_step);
		}
		i += n;
	}
	if (runs > max_runs)
		g_string_append_printf(s, ", and %u more runs", runs - max_runs);
	sim_log_emitf(vcpu->kvm->log, "sim_stale_tlb_enter",
		      "vcpu %d enters the guest with %u zapped translation%s still in its TLB "
		      "(no flush yet): %s", vcpu->vcpu_id, vcpu->stale_tlb->len,
		      vcpu->stale_tlb->len == 1 ? "" : "s", s->str);
	g_string_free(s, TRUE);
}

/* The vCPU's TLB no longer holds a zapped translation: the stale-TLB window, if the vCPU
 * entered the guest in it, ends here (how says what flushed, dropped how many it dropped). */
static void
kvm_vcpu_stale_window_end(struct kvm_vcpu *vcpu, const char *how, guint dropped)
{
	if (vcpu->stale_entered)
		sim_log_emit(vcpu->kvm->log, "sim_stale_tlb_end",
			     "vcpu %d: %s drops %u zapped translation%s; stale since its entry at "
			     "step %" G_GUINT64_FORMAT, vcpu->vcpu_id, how, dropped,
			     dropped == 1 ? "" : "s", vcpu->stale_entry_step);
	vcpu->stale_entered = FALSE;
}

/* The vCPU's whole TLB was flushed: it forgets every translation and cached table. */
static void
kvm_vcpu_stale_tlb_flushed(struct kvm_vcpu *vcpu, const char *how)
{
	kvm_vcpu_stale_window_end(vcpu, how, vcpu->stale_tlb->len);
	vcpu->tlb_log_mark = tdp_mmu_tlb_writes;
	g_array_set_size(vcpu->stale_tlb, 0);
	g_ptr_array_set_size(vcpu->stale_tables, 0);
	g_array_set_size(vcpu->tlb_writable, 0);
}

/*
 * kvmsim's own, for a cheaper flush in the emulator (no kernel counterpart): the 4K pages whose
 * SPTE changed since this vCPU's last flush (at most KVM_HW_FLUSH_TLB_GFNS_MAX, the hw ops'
 * limit, in *n), which are the only ones its TLB can hold in a form a walk would not find now;
 * FALSE when only a whole flush will do (the log wrapped, too many pages, a table entry or a
 * huge leaf changed). Each logged SPTE is located through its table: one that is no longer a
 * table was unlinked, by a write to the entry above it, which either comes later in the window
 * (and forces a whole flush) or came before the last flush (after which no walk could reach
 * it); one that is in another VM's table region is not this VM's.
 */
static gboolean
kvm_vcpu_tlb_changed_gfns(struct kvm_vcpu *vcpu, gfn_t *gfns, guint *n)
{
	struct kvm *kvm = vcpu->kvm;
	guint64 pa, size;
	const guint8 *region = sim_ptpool_region(kvm->pt_pool, &pa, &size);

	*n = 0;
	if (tdp_mmu_tlb_writes - vcpu->tlb_log_mark > TDP_MMU_TLB_LOG)
		return FALSE;
	for (u64 w = vcpu->tlb_log_mark; w != tdp_mmu_tlb_writes; w++) {
		u64 *sptep = tdp_mmu_tlb_log[w % TDP_MMU_TLB_LOG];
		guint i;

		if ((const guint8 *)sptep < region || (const guint8 *)sptep >= region + size)
			continue;
		const struct kvm_mmu_page *sp = sptep_to_sp(kvm, sptep);

		if (!sp)
			continue;
		if (sp->level != PG_LEVEL_4K)
			return FALSE;
		gfn_t gfn = sp->gfn + (gfn_t)(sptep - sp->spt);

		for (i = 0; i < *n && gfns[i] != gfn; i++)
			;
		if (i < *n)
			continue;
		if (*n == KVM_HW_FLUSH_TLB_GFNS_MAX)
			return FALSE;
		gfns[(*n)++] = gfn;
	}
	return TRUE;
}

/*
 * Models kvm_vcpu_flush_tlb_all() in arch/x86/kvm/x86.c (read in ColinIanKing/linux-next at
 * 046408cf; its clearing of KVM_REQ_TLB_FLUSH_CURRENT is left out, kvmsim has no such request): the
 * whole TLB, as vmx_flush_tlb_all()'s INVEPT drops it. The emulator may do it page by page: when
 * every translation left in it is what a walk finds now, the two cannot be told apart.
 */
static void
kvm_vcpu_flush_tlb_all(struct kvm_vcpu *vcpu)
{
	const struct kvm_hw_ops *ops = vcpu->kvm->hw_ops;
	gfn_t gfns[KVM_HW_FLUSH_TLB_GFNS_MAX];
	guint n;

	sim_log_emit(vcpu->kvm->log, "sim_tlb_flush", "vcpu %d", vcpu->vcpu_id);
	if (ops->flush_tlb_gfns && vcpu->root && kvm_vcpu_tlb_changed_gfns(vcpu, gfns, &n))
		ops->flush_tlb_gfns(vcpu, gfns, n);
	else
		ops->flush_tlb_all(vcpu);
	kvm_vcpu_stale_tlb_flushed(vcpu, "the TLB flush");
}

/* KVM_REQ_TLB_FLUSH or KVM_REQ_MMU_FREE_OBSOLETE_ROOTS pending: the vCPU's TLB may hold
 * translations the zaps since its last flush removed, and it must drop them before it runs guest
 * code again. */
gboolean
kvm_vcpu_flush_due(const struct kvm_vcpu *vcpu)
{
	const gulong flush_due = (1ul << KVM_REQ_TLB_FLUSH) |
				 (1ul << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);

	return (vcpu->requests & flush_due) != 0;
}

/*
 * Models kvm_vcpu_exit_request() where vcpu_enter_guest() (arch/x86/kvm/x86.c, read in
 * ColinIanKing/linux-next at 046408cf) checks it, with IRQs off and IN_GUEST_MODE set, before
 * vmx_vcpu_run() traces kvm_entry; it takes cancel_injection with r = 1 so that vcpu_run() loops
 * and serves the request. [simplified] Only a flush or a new root counts, requested while the
 * vCPU was outside guest mode after its requests were served: while kvm_mmu_reload() yields (the
 * re-entries inside a run leave the run on any request first). No kvm_entry is traced, so the
 * cancelled entry is logged as sim_entry_cancelled. A request made after this,
 * in ASI's entry switch, is an IPI instead (kvm_make_all_cpus_request()).
 */
gboolean
kvm_vcpu_exit_request(struct kvm_vcpu *vcpu)
{
	if (G_LIKELY(!kvm_vcpu_flush_due(vcpu)))
		return FALSE;
	sim_log_emit(vcpu->kvm->log, "sim_entry_cancelled",
		     "vcpu %d: requests 0x%lx pending at the entry (served before it is made)",
		     vcpu->vcpu_id, vcpu->requests);
	return TRUE;
}

/*
 * Where the guest would run its first instruction after the entry (sim_kvm_vmenter() in sim/cpu:
 * vcpu_enter_guest()'s requests are served, one made while outside guest mode cancels the entry,
 * one made IN_GUEST_MODE sends an IPI the entry exits on): no vCPU runs guest code with a flush
 * due. The freed-frame and freed-table checks skip a vCPU with a flush due on that ground, so a
 * path that enters without serving it (a read of a freed frame through a zapped translation) is
 * reported here.
 */
void
kvm_vcpu_check_entry(struct kvm_vcpu *vcpu)
{
	if (G_LIKELY(!kvm_vcpu_flush_due(vcpu)))
		return;
	kvm_invariant_failed(vcpu->kvm, "entry_with_flush_due",
			     "vcpu%d enters the guest with requests 0x%lx: a TLB flush or a new "
			     "root is due, so a zapped translation may still be used",
			     vcpu->vcpu_id, vcpu->requests);
}

/*
 * The request handling at the top of vcpu_enter_guest() (arch/x86/kvm/x86.c, read in
 * ColinIanKing/linux-next at 046408cf): task work, then KVM_REQ_MMU_FREE_OBSOLETE_ROOTS, then
 * KVM_REQ_TLB_FLUSH. Event injection (kvm_check_and_inject_events()) comes after this and before
 * kvm_mmu_reload().
 */
void
kvm_vcpu_serve_requests(struct kvm_vcpu *vcpu)
{
	/* xfer_to_guest_mode_handle_work(): task work first, with SRCU not held */
	kvm_gmem_task_work_run(vcpu->kvm);
	if (vcpu->requests & (1ul << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS)) {
		vcpu->requests &= ~(1ul << KVM_REQ_MMU_FREE_OBSOLETE_ROOTS);
		kvm_mmu_free_obsolete_roots(vcpu);
	}
	if (vcpu->requests & (1ul << KVM_REQ_TLB_FLUSH)) {
		vcpu->requests &= ~(1ul << KVM_REQ_TLB_FLUSH);
		kvm_vcpu_flush_tlb_all(vcpu);
	}
}

/*
 * Models kvm_mmu_reload() (arch/x86/kvm/mmu.h) as vcpu_enter_guest() calls it after injecting
 * events (x86.c at 046408cf): a vCPU whose root was freed loads a new one, which flushes its
 * TLB. Then the stale-TLB window is noted for the entry that follows.
 */
void
kvm_vcpu_mmu_reload(struct kvm_vcpu *vcpu)
{
	if (!vcpu->root) {
		u64 root_pa = kvm_mmu_load(vcpu);

		sim_log_emit(vcpu->kvm->log, "sim_load_root", "vcpu %d root 0x%" G_GINT64_MODIFIER "x",
			     vcpu->vcpu_id, root_pa);
		vcpu->kvm->hw_ops->load_mmu_pgd(vcpu, root_pa);
		kvm_vcpu_stale_tlb_flushed(vcpu, "loading the new root");
	}
	if (vcpu->stale_tlb->len) {
		sim_count(vcpu->kvm->counters, SIM_CTR_PROBE_ENTRY_WITH_STALE_TLB);
		if (!vcpu->stale_entered) {
			vcpu->stale_entered = TRUE;
			vcpu->stale_entry_step = sim_sched_now(vcpu->kvm->sched);
		}
		if (sim_log_on(vcpu->kvm->log))
			trace_stale_tlb_enter(vcpu);
	}
}

/* vcpu_enter_guest() up to the entry for a vCPU with no event to inject: the requests, then
 * kvm_mmu_reload(). */
void
kvm_vcpu_enter_guest_prepare(struct kvm_vcpu *vcpu)
{
	kvm_vcpu_serve_requests(vcpu);
	kvm_vcpu_mmu_reload(vcpu);
}

void
kvm_vcpu_srcu_read_lock(struct kvm_vcpu *vcpu)
{
	g_assert(!vcpu->srcu_held);
	vcpu->srcu_idx = sim_srcu_read_lock(&vcpu->kvm->srcu);
	vcpu->srcu_held = TRUE;
}

void
kvm_vcpu_srcu_read_unlock(struct kvm_vcpu *vcpu)
{
	g_assert(vcpu->srcu_held);
	sim_srcu_read_unlock(&vcpu->kvm->srcu, vcpu->srcu_idx);
	vcpu->srcu_held = FALSE;
}
