/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading the machine a trace describes: <header> (its mutations), <vm> (memslots, guest_memfd,
 * ASI, postcopy) and <workload> (name, argument, parameters). Events, the schedule and the
 * expectations are reader.c's.
 */
#include "sim/trace/reader-internal.h"

#include <string.h>

#include "gmem/gmem.h"
#include "mmu/mmu.h"
#include "sim/core/hostmem.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"

/* The protocol mutations of <mutations>: each a name kvmsim knows, once (asi_critical_after_enter
 * needs <asi>: checked once <vm> is read). */
static gboolean
read_mutations(Reader *r, xmlNode *node)
{
	trace_for_each_element(child, node) {
		g_autofree gchar *name = reader_attr(child, "name");
		SimMutation m;

		if (!sim_mutation_lookup(name, &m))
			return reader_fail_attr(r, child, "name", "is no mutation kvmsim knows");
		if (r->trace->mutations & SIM_MUTATION_BIT(m))
			return reader_fail_attr(r, child, "name", "is named twice");
		r->trace->mutations |= SIM_MUTATION_BIT(m);
	}
	return TRUE;
}

/* Who wrote the trace, the seed of every random choice, and the mutations. */
gboolean
reader_header(Reader *r, xmlNode *node)
{
	r->trace->kvmsim_version = reader_attr(node, "kvmsim");
	if (!reader_get_number(r, node, "seed", 64, 0, &r->trace->seed))
		return FALSE;
	trace_for_each_element(child, node)
		if (!read_mutations(r, child))
			return FALSE;
	return TRUE;
}

/* A memslot, in <vm> or as an event. */
gboolean
reader_memslot(Reader *r, xmlNode *node, TraceMemslot *ms)
{
	guint64 id, flags;

	ms->line = (guint)trace_node_line(node);
	if (!reader_get_number(r, node, "id", 64, 0, &id) ||
	    !reader_get_page_address(r, node, "gpa", &ms->gpa) ||
	    !reader_get_size(r, node, "size", 0, &ms->size) ||
	    !reader_get_page_address(r, node, "hva", &ms->hva) ||
	    !reader_get_number(r, node, "flags", 32, 0, &flags))
		return FALSE;
	if (id >= KVM_USER_MEM_SLOTS)
		return reader_fail_attr(r, node, "id", "is out of range (0 to %u)",
				 KVM_USER_MEM_SLOTS - 1);
	ms->id = (guint32)id;
	ms->flags = (guint32)flags;
	if (!reader_get_number(r, node, "gmem-offset", 64, 0, &ms->gmem_offset))
		return FALSE;
	if (xmlHasProp(node, (const xmlChar *)"gmem-offset") && !(flags & KVM_MEM_GUEST_MEMFD))
		return reader_fail_attr(r, node, "gmem-offset", "needs flags with KVM_MEM_GUEST_MEMFD (0x4)");
	if ((flags & KVM_MEM_GUEST_MEMFD) && r->trace->gmem_size &&
	    (ms->gmem_offset % SIM_PAGE_SIZE || ms->gmem_offset > r->trace->gmem_size ||
	     ms->size > r->trace->gmem_size - ms->gmem_offset))
		return reader_fail_attr(r, node, "gmem-offset", "plus the size 0x%" G_GINT64_MODIFIER
				 "x is not page aligned or ends beyond the guest_memfd (0x%"
				 G_GINT64_MODIFIER "x bytes): kvm_gmem_bind() returns -EINVAL",
				 ms->size, r->trace->gmem_size);
	return reader_check_range_end(r, node, "gpa", ms->gpa, ms->size) &&
	       reader_check_range_end(r, node, "hva", ms->hva, ms->size);
}

/* <vm gmem-hugepage>: the guest_memfd (the data region's, or <guest_memfd>) must be a whole
 * number of huge pages, or the HugeTLB series' KVM_CREATE_GUEST_MEMFD returns -EINVAL. */
static gboolean
check_gmem_hugepage(Reader *r, xmlNode *node)
{
	const Trace *t = r->trace;
	guint64 huge = t->gmem_hugepage == 1 ? 2ull << 20 : 1ull << 30;
	guint64 size = t->gmem_size ? t->gmem_size : t->mem;

	if (!t->gmem_hugepage || size % huge == 0)
		return TRUE;
	return reader_fail_attr(r, node, "gmem-hugepage", "needs a guest_memfd of whole %s pages "
				"(its size is 0x%" G_GINT64_MODIFIER "x): KVM_CREATE_GUEST_MEMFD "
				"returns -EINVAL", trace_gmem_hugepage_names[t->gmem_hugepage], size);
}

/* <asi>: ASI on, with its options (the schema allows only their values; the costs are checked
 * here). */
static gboolean
read_asi(Reader *r, xmlNode *node)
{
	static const char *const apis[] = { "v2", "critical" };
	g_autofree gchar *l1tf = reader_attr(node, "l1tf");
	g_autofree gchar *ibpb = reader_attr(node, "ibpb");
	g_autofree gchar *vmexit_ibpb = reader_attr(node, "vmexit-ibpb");
	g_autofree gchar *userspace = reader_attr(node, "userspace");
	g_autofree gchar *cost = reader_attr(node, "cost");
	g_autoptr(GError) error = NULL;
	AsiSimConfig *asi = &r->trace->asi;

	asi->on = TRUE;
	asi->api = GET_CHOICE(node, "api", apis, ASI_API_V2) ? ASI_API_CRITICAL : ASI_API_V2;
	if (l1tf)
		asi->l1tf = strcmp(l1tf, "true") == 0;
	if (ibpb)
		asi->ibpb = strcmp(ibpb, "true") == 0;
	if (vmexit_ibpb)
		asi->vmexit_ibpb = strcmp(vmexit_ibpb, "true") == 0;
	if (userspace)
		asi->userspace = strcmp(userspace, "true") == 0;
	if (cost && !asi_costs_parse(cost, &asi->costs, &error))
		return reader_fail_attr(r, node, "cost", "%s", error->message);
	return TRUE;
}

/* <postcopy mech fetch_steps>: guest RAM starts remote (sim/vmm/postcopy.h), on a default VM.
 * The mechanism's name is the VMM's to know: building the machine refuses one it lacks. */
static gboolean
read_postcopy(Reader *r, xmlNode *node)
{
	Trace *t = r->trace;
	g_autofree gchar *mech = reader_attr(node, "mech");

	if (t->vm_type)
		return reader_fail(r, node, "<postcopy> needs a default VM: the remote memory is the "
				   "VMM's anonymous memory");
	if (!reader_get_number(r, node, "fetch_steps", 32, 0, &t->postcopy_fetch_steps))
		return FALSE;
	if (xmlHasProp(node, (const xmlChar *)"fetch_steps") && !t->postcopy_fetch_steps)
		return reader_fail_attr(r, node, "fetch_steps", "must be positive");
	t->postcopy = g_steal_pointer(&mech);
	return TRUE;
}

/* The machine: vCPUs, memory, budgets and the memslots it starts with. */
gboolean
reader_vm(Reader *r, xmlNode *node)
{
	Trace *t = r->trace;
	guint64 vcpus;

	r->vm = node;
	t->memslots_line = (guint)trace_node_line(node);
	if (!reader_get_number(r, node, "vcpus", 64, 0, &vcpus))
		return FALSE;
	if (vcpus < 1 || vcpus > KVM_MAX_VCPUS)
		return reader_fail_attr(r, node, "vcpus", "is out of range: a VM has 1 to %u vCPUs",
				 KVM_MAX_VCPUS);
	t->nr_vcpus = (guint)vcpus;
	t->vm_type = GET_CHOICE(node, "type", trace_vm_type_names, 0);
	t->gmem_conversion = GET_CHOICE(node, "gmem-conversion", trace_gmem_conversion_names, 0);
	if (t->gmem_conversion && !t->vm_type)
		return reader_fail_attr(r, node, "gmem-conversion", "needs type=\"sw-protected\": a "
				 "default VM has no private memory to convert");
	t->gmem_hugepage = GET_CHOICE(node, "gmem-hugepage", trace_gmem_hugepage_names, 0);
	if (t->gmem_hugepage && !t->vm_type)
		return reader_fail_attr(r, node, "gmem-hugepage", "needs type=\"sw-protected\": only "
				 "private memory comes from a guest_memfd");
	if (xmlHasProp(node, (const xmlChar *)"mem") && !reader_get_size(r, node, "mem", 0, &t->mem))
		return FALSE;
	guint64 thp, nx, hv, ept_ad;

	if (!reader_get_number(r, node, "quantum", 64, 0, &t->quantum) ||
	    !reader_get_number(r, node, "max-insns", 64, 0, &t->max_insns) ||
	    !reader_get_number(r, node, "thp", 1, 0, &thp) ||
	    !reader_get_number(r, node, "nx-huge-pages", 1, 0, &nx) ||
	    !reader_get_number(r, node, "hv-tlb-flush", 1, 0, &hv) ||
	    !reader_get_number(r, node, "ept-ad", 1, 0, &ept_ad))
		return FALSE;
	t->hv_tlb_flush = hv != 0;
	t->thp = thp != 0;
	t->nx_huge_pages = nx != 0;
	t->ept_ad = ept_ad != 0;

	trace_for_each_element(child, node) {
		TraceMemslot ms = { 0 };

		if (strcmp(NAME(child), "guest_memfd") == 0) {
			if (!reader_read_guest_memfd(r, child))
				return FALSE;
			continue;
		}
		if (strcmp(NAME(child), "asi") == 0) {
			if (!read_asi(r, child))
				return FALSE;
			continue;
		}
		if (strcmp(NAME(child), "postcopy") == 0) {
			if (!read_postcopy(r, child))
				return FALSE;
			continue;
		}
		if (!reader_memslot(r, child, &ms))
			return FALSE;
		g_array_append_val(t->memslots, ms);
	}
	if (sim_mutated(t->mutations, SIM_MUT_ASI_CRITICAL_AFTER_ENTER) && !t->asi.on)
		return reader_fail(r, node, "the mutation asi_critical_after_enter needs <asi> in <vm>");
	return check_gmem_hugepage(r, node);
}

/* One workload parameter: an index below 8, each given once. */
static gboolean
read_param(Reader *r, xmlNode *node)
{
	guint64 index;

	if (!reader_get_number(r, node, "index", 64, 0, &index))
		return FALSE;
	if (index >= NR_PARAMS)
		return reader_fail_attr(r, node, "index", "is out of range (0 to %u)",
				 (guint)NR_PARAMS - 1);
	if (r->param_given[index])
		return reader_fail_attr(r, node, "index", "is given twice");
	r->param_given[index] = TRUE;
	return reader_get_number(r, node, "value", 64, 0, &r->trace->params[index]);
}

/* A full-system trace: a workload kvmsim knows, run on a machine with memory. */
gboolean
reader_workload(Reader *r, xmlNode *node)
{
	Trace *t = r->trace;
	gsize n;
	const KvmsimWorkload *all = kvmsim_workload_all(&n);
	TraceNearest near;
	guint64 flags;

	t->workload = reader_attr(node, "name");
	t->guest = reader_attr(node, "guest");
	t->image_sha256 = reader_attr(node, "image-sha256");
	t->arg = reader_attr(node, "arg");
	t->workload_line = xmlGetLineNo(node);
	if (!t->guest && !kvmsim_workload_lookup(t->workload)) {
		trace_nearest_init(&near, t->workload);
		for (gsize i = 0; i < n; i++)
			trace_nearest_add(&near, all[i].name);
		if (near.best)
			return reader_fail_attr(r, node, "name", "is not a workload (did you mean '%s'?)",
					 near.best);
		return reader_fail_attr(r, node, "name", "is not a workload (kvmsim list shows them)");
	}
	/* only exit-level vCPUs model the CPU's A/D assists (<guest_write>): the emulated CPU of a
	 * full-system run walks EPT as x86 paging and sets no EPT A/D bit */
	if (t->ept_ad)
		return reader_fail(r, r->vm, "<vm> ept-ad is exit-level only: the emulated CPU of a "
				   "full-system run sets no EPT Accessed/Dirty bits");
	if (!t->mem)
		return reader_fail(r, r->vm, "<vm> has no mem: a full-system trace needs the size of the "
				      "guest's data region");
	if (!reader_get_number(r, node, "flags", 32, 0, &flags))
		return FALSE;
	if (flags & ~(guint64)(KVMSIM_BOOT_ZERO_OK | KVMSIM_BOOT_PRIVATE_MEM |
			       KVMSIM_BOOT_CONVERT_KEEPS | KVMSIM_BOOT_HOST_CONVERTS |
			       KVMSIM_BOOT_ASYNC_PF))
		return reader_fail_attr(r, node, "flags", "has boot flags kvmsim does not know (it knows "
				 "0x%x: pages may be dropped, private memory, conversions keep "
				 "content, the host converts, async PF offered)",
				 KVMSIM_BOOT_ZERO_OK | KVMSIM_BOOT_PRIVATE_MEM |
				 KVMSIM_BOOT_CONVERT_KEEPS | KVMSIM_BOOT_HOST_CONVERTS |
				 KVMSIM_BOOT_ASYNC_PF);
	t->boot_flags = (guint32)flags;
	trace_for_each_element(child, node)
		if (!read_param(r, child))
			return FALSE;
	return TRUE;
}
