/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * PROPOSED HugeTLB folios for guest_memfd: Ackerley Tng, "[RFC PATCH v2 00/51] 1G page support
 * for guest_memfd" (2025-05-14), as reference guest-memfd.md §3.9 summarises it, with the uAPI
 * read in the series' kvm@vger patches (GUEST_MEMFD_FLAG_HUGETLB, include/uapi/linux/guestmem.h's
 * GUESTMEM_HUGETLB_FLAG_* size encoding: gmem/proposed.h). Not merged in v6.18, whose
 * guest_memfd only has order-0 folios.
 *
 * A huge folio is 2^order contiguous, aligned frames allocated whole on the first use of any of
 * its indexes; kvmsim keeps one struct gmem_folio per page (the subpages), and a record per huge
 * folio saying whether it is split. The series' rules:
 *  - converting any page of it to shared splits it into 4K folios (the host can then map and
 *    pin single pages); converting its whole range back to private merges it again, if no page
 *    of it is pinned;
 *  - it is reported as a huge mapping order only while unsplit and of uniform shareability;
 *  - a hole punch frees only whole huge folios (merged first); the pages of a partially punched
 *    one are zeroed, since a HugeTLB page cannot go back in pieces;
 *  - a conversion's KVM invalidation is widened to whole huge folios (KVM may map them huge).
 * Not modeled: the guestmem_hugetlb allocator's subpool and its -ENOMEM races, memory errors.
 */
#include "gmem/gmem-internal.h"

#include <errno.h>

/* A huge folio of the inode: its first index, its head frame, whether it is split, and whether
 * every page of it is uptodate (a page never goes back to !uptodate while the folio lives). */
struct gmem_huge_folio {
	u64 base;
	SimPfn head;
	gboolean split;
	gboolean prepared;
};

/* The folio order the creation flags ask for: 0 without GUEST_MEMFD_FLAG_HUGETLB, 9 for 2 MiB,
 * 18 for 1 GiB; -1 for a size x86 has no huge page for, or size bits without the flag. */
int
gmem_hugetlb_order(u64 flags)
{
	u64 log2 = (flags >> GUESTMEM_HUGETLB_FLAG_SHIFT) & GUESTMEM_HUGETLB_FLAG_MASK;

	if (!(flags & GUEST_MEMFD_FLAG_HUGETLB))
		return log2 ? -1 : 0;
	if (log2 == 21)
		return (int)SPTE_LEVEL_BITS;
	if (log2 == 30)
		return (int)(2 * SPTE_LEVEL_BITS);
	return -1;
}

static u64
nr_pages(const struct gmem_inode *inode)
{
	return 1ull << inode->page_order;
}

static struct gmem_huge_folio *
huge_lookup(const struct gmem_inode *inode, u64 index)
{
	u64 base = index & ~(nr_pages(inode) - 1);

	return g_tree_lookup(inode->huge_folios, &base);
}

/*
 * The folio at index of a HugeTLB inode: its huge folio is allocated whole, one page-cache entry
 * per page, if it has none (gmem_hugetlb_alloc_folio() in the series), and split at once if any
 * page of its range is already shared (the series' kvm_gmem_get_folio() calls
 * kvm_gmem_try_split_folio_in_filemap(), read in a kvm@vger review quoting the RFC v2 patch);
 * NULL when no contiguous run of frames is left (-ENOMEM).
 */
struct gmem_folio *
gmem_hugetlb_get_folio(struct gmem_inode *inode, u64 index)
{
	struct gmem_folio *folio = gmem_folio_lookup(inode, index);

	if (folio)
		return folio;
	u64 base = index & ~(nr_pages(inode) - 1);
	SimPfn head = sim_frame_alloc_contig(inode->hm, (guint)nr_pages(inode));

	if (head == SIM_PFN_NONE)
		return NULL;
	struct gmem_huge_folio *huge = g_new0(struct gmem_huge_folio, 1);

	huge->base = base;
	huge->head = head;
	g_tree_insert(inode->huge_folios, &huge->base, huge);
	for (u64 i = 0; i < nr_pages(inode); i++) {
		struct gmem_folio *page = g_new0(struct gmem_folio, 1);

		page->index = base + i;
		page->pfn = head + i;
		g_tree_insert(inode->folios, &page->index, page);
	}
	sim_count_add(inode->counters, SIM_CTR_GMEM_ALLOCATED, nr_pages(inode));
	sim_log_emit(inode->log, "sim_gmem_huge_folio", "ino %u index 0x%" G_GINT64_MODIFIER
		     "x pfn 0x%" G_GINT64_MODIFIER "x order %u", inode->ino, base, head,
		     inode->page_order);
	if (kvm_range_map_find_not(inode->attributes, base, base + nr_pages(inode),
				   KVM_MEMORY_ATTRIBUTE_PRIVATE) != base + nr_pages(inode))
		gmem_hugetlb_split_range(inode, base, base + 1);
	return gmem_folio_lookup(inode, index);
}

/* Models the series' kvm_gmem_prepare_folio() of a huge folio: the whole unsplit folio is
 * zeroed and marked uptodate at once; a split one page by page. kvmsim keeps uptodate per page
 * (a page the host faulted in, or a ZERO conversion, prepares only its own), so the pages of an
 * unsplit folio that are not uptodate are prepared here, and those that are keep their content. */
void
gmem_hugetlb_prepare_folio(struct gmem_inode *inode, struct gmem_folio *folio)
{
	struct gmem_huge_folio *huge = huge_lookup(inode, folio->index);

	if (!huge || huge->split) {
		if (!folio->uptodate)
			kvm_gmem_prepare_folio(inode, folio);
		return;
	}
	for (u64 i = 0; !huge->prepared && i < nr_pages(inode); i++) {
		struct gmem_folio *page = gmem_folio_lookup(inode, huge->base + i);

		if (!page->uptodate)
			kvm_gmem_prepare_folio(inode, page);
	}
	huge->prepared = TRUE;
}

/* Models kvm_gmem_mapping_order() (the series): the folio's order while it is unsplit and its
 * pages share one shareability, else 0. */
int
gmem_hugetlb_max_order(struct gmem_inode *inode, u64 index)
{
	struct gmem_huge_folio *huge = huge_lookup(inode, index);

	if (!huge || huge->split)
		return 0;
	u64 attrs = kvm_range_map_get(inode->attributes, huge->base);

	if (kvm_range_map_find_not(inode->attributes, huge->base, huge->base + nr_pages(inode),
				   attrs) != huge->base + nr_pages(inode))
		return 0;
	return (int)inode->page_order;
}

/* Widen [*start, *end) to whole huge folios: the bounds of a conversion's invalidation. */
void
gmem_hugetlb_round_range(const struct gmem_inode *inode, u64 *start, u64 *end)
{
	*start &= ~(nr_pages(inode) - 1);
	*end = (*end + nr_pages(inode) - 1) & ~(nr_pages(inode) - 1);
}

/* Every huge folio that overlaps [start, end), in index order. */
static GPtrArray *
huge_folios_in(struct gmem_inode *inode, u64 start, u64 end)
{
	GPtrArray *in = g_ptr_array_new();

	end = MIN(end, inode->size >> PAGE_SHIFT);
	gmem_hugetlb_round_range(inode, &start, &end);
	for (u64 base = start; base < end; base += nr_pages(inode)) {
		struct gmem_huge_folio *huge = huge_lookup(inode, base);

		if (huge)
			g_ptr_array_add(in, huge);
	}
	return in;
}

/* A conversion of [start, end) to shared: each unsplit huge folio it touches is split. */
void
gmem_hugetlb_split_range(struct gmem_inode *inode, u64 start, u64 end)
{
	g_autoptr(GPtrArray) in = huge_folios_in(inode, start, end);

	for (guint i = 0; i < in->len; i++) {
		struct gmem_huge_folio *huge = g_ptr_array_index(in, i);

		if (huge->split)
			continue;
		huge->split = TRUE;
		sim_count(inode->counters, SIM_CTR_GMEM_HUGE_SPLIT);
		sim_log_emit(inode->log, "sim_gmem_huge_split", "ino %u index 0x%" G_GINT64_MODIFIER
			     "x", inode->ino, huge->base);
	}
}

/* Could the huge folio be merged: every page private and none pinned (the refcount check). */
static gboolean
mergeable(struct gmem_inode *inode, const struct gmem_huge_folio *huge)
{
	u64 end = huge->base + nr_pages(inode);

	if (kvm_range_map_find_not(inode->attributes, huge->base, end,
				   KVM_MEMORY_ATTRIBUTE_PRIVATE) != end)
		return FALSE;
	for (u64 i = 0; i < nr_pages(inode); i++)
		if (sim_frame_refs(inode->hm, huge->head + i))
			return FALSE;
	return TRUE;
}

/* A conversion of [start, end) to private: each split huge folio it touches whose whole range
 * is now private, and unpinned, is merged again. */
void
gmem_hugetlb_merge_range(struct gmem_inode *inode, u64 start, u64 end)
{
	g_autoptr(GPtrArray) in = huge_folios_in(inode, start, end);

	for (guint i = 0; i < in->len; i++) {
		struct gmem_huge_folio *huge = g_ptr_array_index(in, i);

		if (!huge->split || !mergeable(inode, huge))
			continue;
		huge->split = FALSE;
		sim_count(inode->counters, SIM_CTR_GMEM_HUGE_MERGE);
		sim_log_emit(inode->log, "sim_gmem_huge_merge", "ino %u index 0x%" G_GINT64_MODIFIER
			     "x", inode->ino, huge->base);
	}
}

/*
 * Truncation of [start, end) on a HugeTLB inode: a huge folio inside the range leaves the page
 * cache whole, its frames freed once unpinned; one the range covers in part keeps its pages and
 * has the punched ones zeroed. Host PTEs of the range are gone first (the caller's
 * unmap_mapping_pages()).
 */
void
gmem_hugetlb_truncate(struct gmem_inode *inode, u64 start, u64 end)
{
	g_autoptr(GPtrArray) in = huge_folios_in(inode, start, end);

	for (guint i = 0; i < in->len; i++) {
		struct gmem_huge_folio *huge = g_ptr_array_index(in, i);
		u64 base = huge->base, last = base + nr_pages(inode);

		if (base >= start && last <= end) {
			for (u64 index = base; index < last; index++) {
				g_tree_remove(inode->folios, &index);
				sim_frame_free(inode->hm, huge->head + (index - base));
				sim_count(inode->counters, SIM_CTR_GMEM_FREED);
			}
			g_tree_remove(inode->huge_folios, &base);
			continue;
		}
		for (u64 index = MAX(base, start); index < MIN(last, end); index++)
			kvm_gmem_prepare_folio(inode, gmem_folio_lookup(inode, index));
	}
}
