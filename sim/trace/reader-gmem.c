/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading private memory in a trace: the exit-level guest_memfd and the VMM's events on it. */
#include "sim/trace/reader-internal.h"

#include "gmem/gmem.h"
#include "sim/core/hostmem.h"
#include "workloads/abi.h"

/*
 * The guest_memfd of an exit-level VM (KVM_CREATE_GUEST_MEMFD): a positive page-aligned size and
 * the flags kvm_gmem_get_supported_flags() allows (MMAP; INIT_SHARED only on a VM without private
 * memory), else the ioctl's -EINVAL.
 */
gboolean
reader_read_guest_memfd(Reader *r, xmlNode *node)
{
	Trace *t = r->trace;

	if (!reader_get_size(r, node, "size", 0, &t->gmem_size) ||
	    !reader_get_number(r, node, "flags", 64, 0, &t->gmem_flags))
		return FALSE;
	if (!t->gmem_size || t->gmem_size % SIM_PAGE_SIZE)
		return reader_fail_attr(r, node, "size", "must be a positive multiple of 4 KiB: "
				 "KVM_CREATE_GUEST_MEMFD returns -EINVAL");
	if (t->gmem_flags & ~(GUEST_MEMFD_FLAG_MMAP | GUEST_MEMFD_FLAG_INIT_SHARED))
		return reader_fail_attr(r, node, "flags", "has bits KVM does not know (MMAP 0x1, "
				 "INIT_SHARED 0x2): KVM_CREATE_GUEST_MEMFD returns -EINVAL");
	if ((t->gmem_flags & GUEST_MEMFD_FLAG_INIT_SHARED) && t->vm_type)
		return reader_fail_attr(r, node, "flags", "has INIT_SHARED (0x2) on a VM with private memory: "
				 "kvm_gmem_get_supported_flags() does not offer it there, "
				 "KVM_CREATE_GUEST_MEMFD returns -EINVAL");
	if (t->gmem_conversion && !(t->gmem_flags & GUEST_MEMFD_FLAG_MMAP))
		return reader_fail_attr(r, node, "flags", "in-place conversion needs MMAP (0x1): the file "
				 "is the shared memory");
	return TRUE;
}

/* Whether [gpa, gpa + size) lies in one memslot bound to the guest_memfd (full-system: the data
 * region). */
static gboolean
gmem_range_bound(const Trace *t, guint64 gpa, guint64 size)
{
	if (t->workload)
		return gpa >= KVMSIM_RAM_GPA && gpa - KVMSIM_RAM_GPA < t->mem &&
		       size <= t->mem - (gpa - KVMSIM_RAM_GPA);
	for (guint i = 0; i < t->memslots->len; i++) {
		const TraceMemslot *ms = &g_array_index(t->memslots, TraceMemslot, i);

		if ((ms->flags & KVM_MEM_GUEST_MEMFD) && gpa >= ms->gpa &&
		    gpa - ms->gpa < ms->size && size <= ms->size - (gpa - ms->gpa))
			return TRUE;
	}
	return FALSE;
}

/*
 * An event of the VMM on private memory: a hole punch or a conversion of [gpa, + size), page
 * aligned and inside a memslot bound to the guest_memfd (the kernel would refuse the rest: there
 * is no file range behind it); KVM_SET_MEMORY_ATTRIBUTES of any range; closing the guest_memfd.
 */
gboolean
reader_read_gmem_event(Reader *r, xmlNode *node, TraceEvent *e)
{
	const Trace *t = r->trace;

	if (e->kind == TRACE_EV_PIN && t->gmem_conversion != 1)
		return reader_fail(r, node, "<pin> needs the in-place design (gmem-conversion="
				   "\"in-place\"): the VMM pins through its mapping of the guest_memfd");
	if (!t->vm_type && e->kind != TRACE_EV_PUNCH_HOLE && e->kind != TRACE_EV_GMEM_CLOSE)
		return reader_fail(r, node, "<%s> needs a VM with private memory (<vm type=\"sw-protected\">):"
				     " KVM_SET_MEMORY_ATTRIBUTES returns -EINVAL on a default VM",
			    NAME(node));
	if (!t->workload && !t->gmem_size)
		return reader_fail(r, node, "<%s> needs a guest_memfd (<guest_memfd> in <vm>)", NAME(node));
	if (e->kind == TRACE_EV_GMEM_CLOSE)
		return TRUE;
	if (!reader_get_page_address(r, node, "gpa", &e->gpa) ||
	    !reader_get_size(r, node, "size", SIM_PAGE_SIZE, &e->size))
		return FALSE;
	if (e->kind == TRACE_EV_CONVERT || e->kind == TRACE_EV_SET_ATTRIBUTES)
		e->to_private = GET_CHOICE(node, "to", trace_convert_names, 0) == 1;
	if (e->kind == TRACE_EV_SET_ATTRIBUTES)
		return reader_check_range_end(r, node, "gpa", e->gpa, e->size);
	if (!gmem_range_bound(t, e->gpa, e->size))
		return reader_fail_attr(r, node, "gpa", "[0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER
				 "x) is not inside a memslot bound to the guest_memfd: there is no "
				 "file range to %s", e->gpa, e->gpa + e->size,
				 e->kind == TRACE_EV_PUNCH_HOLE ? "punch" :
				 e->kind == TRACE_EV_PIN ? "pin" : "convert");
	return TRUE;
}


/* What the guest_memfd must say of the page at a file offset: page aligned, inside the file. */
gboolean
reader_read_shareability(Reader *r, xmlNode *node, TraceExpect *x)
{
	const Trace *t = r->trace;
	guint64 size = t->workload ? t->mem : t->gmem_size;
	static const char *const boolean_names[] = { "false", "true" };

	if (!t->vm_type || !size)
		return reader_fail(r, node, "<shareability> needs a VM with private memory and its "
					    "guest_memfd");
	if (!reader_get_page_address(r, node, "offset", &x->offset))
		return FALSE;
	if (x->offset >= size)
		return reader_fail_attr(r, node, "offset", "is beyond the guest_memfd (0x%"
					G_GINT64_MODIFIER "x bytes)", size);
	x->is_private = GET_CHOICE(node, "private", boolean_names, 0);
	return TRUE;
}

/* KVM_HC_MAP_GPA_RANGE as a vCPU makes it: any gpa and page count (KVM checks them, so a trace
 * may give bad ones), to private or shared, or attrs as the guest writes a2. */
gboolean
reader_read_map_gpa_range(Reader *r, xmlNode *node, TraceEvent *e)
{
	e->nr = KVM_HC_MAP_GPA_RANGE;
	if (!reader_get_number(r, node, "gpa", 64, 0, &e->args[0]) ||
	    !reader_get_number(r, node, "pages", 64, 0, &e->args[1]))
		return FALSE;
	e->to_private = GET_CHOICE(node, "to", trace_convert_names, 0) == 1;
	e->args[2] = e->to_private ? KVM_MAP_GPA_RANGE_ENCRYPTED : KVM_MAP_GPA_RANGE_DECRYPTED;
	return reader_get_number(r, node, "attrs", 64, e->args[2], &e->args[2]);
}

/* How many KVM_EXIT_MEMORY_FAULTs the run must have had at a gfn, for a private or a shared
 * access. */
gboolean
reader_read_memory_fault(Reader *r, xmlNode *node, TraceExpect *x)
{
	static const char *const boolean_names[] = { "false", "true" };
	guint64 count;

	if (!reader_get_number(r, node, "gfn", 52, 0, &x->gfn) ||
	    !reader_get_number(r, node, "count", 31, 1, &count))
		return FALSE;
	x->is_private = GET_CHOICE(node, "private", boolean_names, 0);
	x->count = (gint)count;
	return TRUE;
}
