/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PROPOSED in-place conversion: KVM_SET_MEMORY_ATTRIBUTES2 on a guest_memfd (Ackerley Tng's RFC
 * v3, 2026-03-13, as reference guest-memfd.md §3.7 summarises patch 09/43 and the content-mode
 * patches; the patches themselves were not found in the search index). The inode owns each
 * page's shareability; the conversion runs under the exclusive invalidate lock, so no host
 * fault, allocation or truncation runs meanwhile, and inside an mmu_invalidate window in every
 * VM with a file on the inode, so racing guest faults retry.
 *
 * The reference gives the checks and errnos but not the order of the EINVAL ones; kvmsim tests
 * the input struct, then the range, then the mode against the direction. Content mode
 * UNSPECIFIED keeps the bytes (the RFC leaves them unspecified; keeping them is one allowed
 * outcome and the cheapest one to explain).
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

#define KVM_SET_MEMORY_ATTRIBUTES2_MODES                                                          \
	(KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO | KVM_SET_MEMORY_ATTRIBUTES2_MODE_PRESERVE)

/* The struct, the attribute and flag bits, the range. */
static int
check_attributes2(const struct kvm_memory_attributes2 *attrs, const struct gmem_inode *inode)
{
	for (guint i = 0; i < G_N_ELEMENTS(attrs->reserved); i++)
		if (attrs->reserved[i])
			return -EINVAL;
	if (attrs->error_offset)
		return -EINVAL;
	if (attrs->attributes & ~KVM_MEMORY_ATTRIBUTE_PRIVATE)
		return -EINVAL;
	if ((attrs->flags & ~KVM_SET_MEMORY_ATTRIBUTES2_MODES) ||
	    (attrs->flags & KVM_SET_MEMORY_ATTRIBUTES2_MODES) == KVM_SET_MEMORY_ATTRIBUTES2_MODES)
		return -EINVAL;
	if (!attrs->size || attrs->offset + attrs->size < attrs->offset)
		return -EINVAL;
	if ((attrs->offset | attrs->size) & (PAGE_SIZE - 1))
		return -EINVAL;
	if (attrs->offset + attrs->size > inode->size)
		return -EINVAL;
	/* zeroing is only promised for private -> shared */
	if ((attrs->flags & KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO) &&
	    (attrs->attributes & KVM_MEMORY_ATTRIBUTE_PRIVATE))
		return -EOPNOTSUPP;
	return 0;
}

/* kvm_gmem_is_safe_for_conversion(): after host PTEs are gone, a folio may hold only the page
 * cache's reference (and the lookup's, which kvmsim does not take): any pin is one too many.
 * The first index that fails, or end. */
static u64
first_unsafe_index(struct gmem_inode *inode, u64 start, u64 end)
{
	for (u64 index = start; index < end; index++) {
		struct gmem_folio *folio = gmem_folio_lookup(inode, index);

		if (folio && sim_frame_refs(inode->hm, folio->pfn))
			return index;
	}
	return end;
}

/* Models __kvm_gmem_set_attributes() (RFC v3) once the arguments passed. */
static int
__kvm_gmem_set_attributes(struct gmem_inode *inode, struct kvm_memory_attributes2 *attrs)
{
	u64 start = attrs->offset >> PAGE_SHIFT;
	u64 end = (attrs->offset + attrs->size) >> PAGE_SHIFT;
	u64 target = attrs->attributes;
	gboolean to_private = (target & KVM_MEMORY_ATTRIBUTE_PRIVATE) != 0;
	int r = 0;

	sim_down_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_lock");
	sim_yield(inode->sched, "gmem.convert_begin");
	if (kvm_range_map_find_not(inode->attributes, start, end, target) == end)
		goto out;
	if (to_private) {
		gmem_unmap_mapping_pages(inode, start, end);
		u64 bad = first_unsafe_index(inode, start, end);

		if (bad != end) {
			attrs->error_offset = bad << PAGE_SHIFT;
			sim_count(inode->counters, SIM_CTR_GMEM_CONVERT_EAGAIN);
			sim_log_emit(inode->log, "sim_gmem_convert", "ino %u index 0x%"
				     G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x to private: "
				     "EAGAIN at index 0x%" G_GINT64_MODIFIER "x", inode->ino, start,
				     end, bad);
			r = -EAGAIN;
			goto out;
		}
	}
	sim_log_emit(inode->log, "sim_gmem_convert", "ino %u index 0x%" G_GINT64_MODIFIER "x-0x%"
		     G_GINT64_MODIFIER "x to %s mode 0x%" G_GINT64_MODIFIER "x", inode->ino, start,
		     end, to_private ? "private" : "shared", attrs->flags);
	/* HugeTLB (PROPOSED): KVM may map whole huge folios, so its window covers them */
	u64 inv_start = start, inv_end = end;

	if (inode->page_order)
		gmem_hugetlb_round_range(inode, &inv_start, &inv_end);
	kvm_gmem_invalidate_begin(inode, inv_start, inv_end,
				  KVM_FILTER_SHARED | KVM_FILTER_PRIVATE);
	sim_yield(inode->sched, "gmem.convert_store");
	kvm_gmem_check_unmapped(inode, start, end, "converted_page_still_mapped");
	if (attrs->flags & KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO) {
		for (u64 index = start; index < end; index++) {
			struct gmem_folio *folio = gmem_folio_lookup(inode, index);

			if (folio)
				kvm_gmem_prepare_folio(inode, folio);
		}
	}
	u64 changed = kvm_range_map_count_not(inode->attributes, start, end, target);

	kvm_range_map_set(inode->attributes, start, end, target);
	sim_count_add(inode->counters, to_private ? SIM_CTR_GMEM_CONVERTED_TO_PRIVATE :
			     SIM_CTR_GMEM_CONVERTED_TO_SHARED, changed);
	if (inode->page_order && to_private)
		gmem_hugetlb_merge_range(inode, start, end);
	else if (inode->page_order)
		gmem_hugetlb_split_range(inode, start, end);
	kvm_gmem_invalidate_end(inode, inv_start, inv_end);
out:
	sim_up_write(inode->sched, &inode->invalidate_lock, "gmem.invalidate_unlock");
	return r;
}

/* The ioctl on the gmem fd: the file, the module parameter, the arguments. */
int
kvm_gmem_set_memory_attributes2(GmemFdTable *files, int fd, struct kvm_memory_attributes2 *attrs)
{
	struct gmem_file *f;
	int r = gmem_fget(files, fd, &f);

	if (r == GMEM_FD_NOT_GMEM)
		return -ENOTTY;
	if (r)
		return r;
	if (f->kvm->vm_memory_attributes)
		r = -ENOTTY;
	else
		r = check_attributes2(attrs, f->inode);
	if (!r)
		r = __kvm_gmem_set_attributes(f->inode, attrs);
	gmem_fput(f);
	return r;
}
