/* SPDX-License-Identifier: GPL-2.0-only */
/* The host: classes and their taint policies, mms, and restricted domains (struct asi). */
#include "asi/asi-internal.h"

#include <errno.h>

/* The v2 defaults: user pages, page cache and guest RAM sensitive (__GFP_SENSITIVE in GFP_USER,
 * v2 14/29); an L1TF CPU with IBPB and no IBPB/RSB on VM exit (reference §3.5's worked trace). */
void
asi_config_init(AsiConfig *config)
{
	*config = (AsiConfig){ 0 };
	config->sensitive[ASI_OBJ_USER] = TRUE;
	config->sensitive[ASI_OBJ_PAGE_CACHE] = TRUE;
	config->sensitive[ASI_OBJ_GUEST_RAM] = TRUE;
	config->l1tf = TRUE;
	config->ibpb = TRUE;
	config->nr_cpus = 2;
	config->tlb_entries = 64;
}

/* Models asi_global_init() (arch/x86/mm/asi.c, branch): the kernel half of both the init_mm PGD
 * and the global nonsensitive PGD is pre-populated down to the PUD level, so every PGD that copies
 * it sees later mappings. Simplified: no text/fixmap/percpu/vmemmap, only the direct map. */
static void
asi_global_init(AsiHost *host)
{
	host->init_pgd = asi_pt_alloc(host);
	host->nonsensitive_pgd = asi_pt_alloc(host);
	for (guint i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD; i++) {
		asi_pt_va(host, host->init_pgd)[i] =
			asi_pt_alloc(host) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED;
		asi_pt_va(host, host->nonsensitive_pgd)[i] =
			asi_pt_alloc(host) | _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED;
	}
}

/* A host with config.nr_cpus CPUs, each on init_mm's tables with empty TLBs. */
AsiHost *
asi_host_new(const AsiConfig *config, const AsiOps *ops)
{
	AsiHost *host = g_new0(AsiHost, 1);

	host->config = *config;
	if (ops)
		host->ops = *ops;
	host->pt_pages = g_ptr_array_new_with_free_func(g_free);
	host->pt_free = g_array_new(FALSE, FALSE, sizeof(guint));
	host->frames = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	host->next_pfn = ASI_FRAME_BASE >> 12;
	host->mms = g_ptr_array_new();
	host->violations = g_ptr_array_new_with_free_func(g_free);
	host->next_asid = 0;
	asi_global_init(host);
	host->cpus = g_new0(AsiCpu, config->nr_cpus);
	for (guint i = 0; i < config->nr_cpus; i++) {
		host->cpus[i].host = host;
		host->cpus[i].id = i;
		host->cpus[i].cr3 = build_cr3(host->init_pgd, kern_pcid(0));
		host->cpus[i].tlb = g_new0(AsiTlbEntry, config->tlb_entries);
	}
	return host;
}

/* Free the host, its mms, domains, tables and CPUs. */
void
asi_host_free(AsiHost *host)
{
	if (!host)
		return;
	while (host->mms->len)
		asi_mm_free(host, host->mms->pdata[host->mms->len - 1]);
	for (guint i = 0; i < host->config.nr_cpus; i++)
		g_free(host->cpus[i].tlb);
	g_free(host->cpus);
	g_ptr_array_free(host->mms, TRUE);
	g_ptr_array_free(host->violations, TRUE);
	g_hash_table_destroy(host->frames);
	g_array_free(host->pt_free, TRUE);
	g_ptr_array_free(host->pt_pages, TRUE);
	g_free(host);
}

/* Host CPU id. */
AsiCpu *
asi_host_cpu(AsiHost *host, guint id)
{
	g_assert(id < host->config.nr_cpus);
	return &host->cpus[id];
}

/* The counters of the run so far. */
const AsiStats *
asi_host_stats(const AsiHost *host)
{
	return &host->stats;
}

/* The named violations reported so far, in order. */
const GPtrArray *
asi_host_violations(const AsiHost *host)
{
	return host->violations;
}

/* The --stats suffix of an exit reason (asi.exits.<name>). */
const char *
asi_exit_reason_name(enum asi_exit_reason reason)
{
	static const char *const names[NR_ASI_EXIT_REASONS] = {
		"page_fault", "user_ret", "context_switch", "tlb_flush", "misc",
	};
	return names[reason];
}

/* Models asi_global_nonsensitive_pgd (branch asi.c): the PGD every domain copies. */
guint64
asi_global_nonsensitive_pgd(const AsiHost *host)
{
	return host->nonsensitive_pgd;
}

/* Models asi_maps_user_addr() (v2 "infrastructure for mapping userspace addresses"): only the
 * userspace class maps the user half. */
gboolean
asi_maps_user_addr(enum asi_class_id class_id)
{
	return class_id == ASI_CLASS_USERSPACE;
}

/* Models asi_init_class() in arch/x86/mm/asi.c (branch): -EEXIST twice; WARN when the policy
 * flushes no control or no data taint. */
int
asi_init_class(AsiHost *host, enum asi_class_id class_id, struct asi_taint_policy *policy)
{
	if (host->policies[class_id])
		return -EEXIST;
	asi_warn(host, !(policy->prevent_control & ASI_TAINTS_CONTROL_MASK),
		 "asi_init_class_no_control_taint");
	asi_warn(host, !(policy->protect_data & ASI_TAINTS_DATA_MASK),
		 "asi_init_class_no_data_taint");
	host->policies[class_id] = policy;
	return 0;
}

/* Models asi_uninit_class() in arch/x86/mm/asi.c (branch). */
void
asi_uninit_class(AsiHost *host, enum asi_class_id class_id)
{
	host->policies[class_id] = NULL;
}

/* Models kvm_x86_init_asi_class() (arch/x86/kvm/x86.c, v2 21/29): protect_data also holds
 * USER_DATA because the KVM class does not map user addresses; set replaces GUEST_DATA by
 * GUEST_CONTROL when VM exit does not already flush predictors (as the patch assigns it). */
int
kvm_x86_init_asi_class(AsiHost *host)
{
	struct asi_taint_policy *p = &host->kvm_policy;

	p->protect_data = ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA;
	if (!asi_maps_user_addr(ASI_CLASS_KVM))
		p->protect_data |= ASI_TAINT_USER_DATA;
	p->prevent_control = ASI_TAINT_OTHER_MM_CONTROL;
	p->set = host->config.kvm_vmexit_mitigated ? ASI_TAINT_GUEST_DATA : ASI_TAINT_GUEST_CONTROL;
	return asi_init_class(host, ASI_CLASS_KVM, p);
}

/* Models asi_init_userspace_class() in arch/x86/mm/asi.c (branch). */
void
asi_init_userspace_class(AsiHost *host)
{
	struct asi_taint_policy *p = &host->user_policy;

	p->protect_data = ASI_TAINT_KERNEL_DATA | ASI_TAINT_OTHER_MM_DATA;
	p->prevent_control = ASI_TAINT_GUEST_CONTROL | ASI_TAINT_OTHER_MM_CONTROL;
	p->set = ASI_TAINT_USER_CONTROL | ASI_TAINT_USER_DATA;
	asi_warn(host, asi_init_class(host, ASI_CLASS_USERSPACE, p) != 0, "asi_init_userspace_class");
}

/* Models mm_alloc()'s pgd_alloc(): a PGD whose kernel half copies init_mm's, and an ASID.
 * Simplified: ASIDs are per mm and global rather than per-CPU dynamic slots. */
struct asi_mm *
asi_mm_new(AsiHost *host)
{
	struct asi_mm *mm = g_new0(struct asi_mm, 1);
	guint64 *pgd;

	mm->pgd = asi_pt_alloc(host);
	pgd = asi_pt_va(host, mm->pgd);
	for (guint i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD; i++)
		pgd[i] = asi_pt_va(host, host->init_pgd)[i];
	mm->asid = host->next_asid++;
	g_ptr_array_add(host->mms, mm);
	return mm;
}

/* Models __mmdrop(): the mm's domains, user tables and PGD go. */
void
asi_mm_free(AsiHost *host, struct asi_mm *mm)
{
	for (guint c = 0; c < ASI_MAX_NUM_CLASSES; c++) {
		while (mm->asi[c].ref_count > 0)
			asi_destroy(host, &mm->asi[c]);
	}
	asi_pt_free_user_half(host, mm->pgd);
	asi_pt_release(host, mm->pgd);
	g_ptr_array_remove(host->mms, mm);
	g_free(mm);
}

/* Models asi_init() + __asi_init_user_pgds() in arch/x86/mm/asi.c (branch at 003868f6; renamed
 * asi_init_domain() by 0c9d9480): refcounted; the
 * kernel half copies the global nonsensitive PGD; the user half shares the mm's tables only for
 * classes that map user addresses. Simplified: one page for the PGD (no KPTI second page). */
int
asi_init(AsiHost *host, struct asi_mm *mm, enum asi_class_id class_id, struct asi **out_asi)
{
	struct asi *asi = &mm->asi[class_id];
	guint64 *pgd;

	if (out_asi)
		*out_asi = NULL;
	if (asi_warn(host, !host->policies[class_id], "asi_init_class_uninitialised"))
		return -EINVAL;
	if (asi->ref_count++ == 0) {
		asi->pgd = asi_pt_alloc(host);
		asi->mm = mm;
		asi->class_id = class_id;
	}
	pgd = asi_pt_va(host, asi->pgd);
	for (guint i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_PGD; i++)
		pgd[i] = asi_pt_va(host, host->nonsensitive_pgd)[i];
	for (guint i = 0; asi_maps_user_addr(class_id) && i < KERNEL_PGD_BOUNDARY; i++)
		pgd[i] = asi_pt_va(host, mm->pgd)[i];
	if (out_asi)
		*out_asi = asi;
	return 0;
}

/* Models asi_destroy()/__asi_destroy() in arch/x86/mm/asi.c (branch); §8.14: no CPU may still
 * be in the domain. The user half's tables belong to the mm and stay. */
void
asi_destroy(AsiHost *host, struct asi *asi)
{
	for (guint i = 0; i < host->config.nr_cpus; i++)
		asi_warn(host, host->cpus[i].curr_asi == asi, "asi_destroy_while_current");
	if (asi_warn(host, asi->ref_count <= 0, "asi_destroy_refcount"))
		return;
	if (--asi->ref_count == 0) {
		asi_pt_release(host, asi->pgd);
		asi->pgd = 0;
		asi->mm = NULL;
	}
}

/* Models asi_pgd() (asm/asi.h): the domain's PGD. */
guint64
asi_pgd(const struct asi *asi)
{
	return asi->pgd;
}

/* Record a named violation (and tell the ops); the model continues, as a WARN does. */
void
asi_report(AsiHost *host, const char *name)
{
	g_ptr_array_add(host->violations, g_strdup(name));
	if (host->ops.violation)
		host->ops.violation(host, name, host->ops.data);
}

/* A kernel WARN/VM_BUG_ON: report name when cond holds; returns cond. */
gboolean
asi_warn(AsiHost *host, gboolean cond, const char *name)
{
	if (cond)
		asi_report(host, name);
	return cond;
}
