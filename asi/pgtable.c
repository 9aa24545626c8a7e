/* SPDX-License-Identifier: GPL-2.0-only */
/* x86-64 4-level host page tables: table pages, lookup with allocation, and the walk. */
#include "asi/asi-internal.h"

#include <string.h>

static const guint level_shift[5] = { 0, 12, 21, 30, 39 };

/* A zeroed table page; its physical address. Pages are reused in release order (deterministic). */
guint64
asi_pt_alloc(AsiHost *host)
{
	guint idx;

	if (host->pt_free->len) {
		idx = g_array_index(host->pt_free, guint, host->pt_free->len - 1);
		g_array_set_size(host->pt_free, host->pt_free->len - 1);
		memset(host->pt_pages->pdata[idx], 0, ASI_PAGE_SIZE);
	} else {
		idx = host->pt_pages->len;
		g_ptr_array_add(host->pt_pages, g_new0(guint64, PTRS_PER_PGD));
	}
	return ASI_PT_BASE + (guint64)idx * ASI_PAGE_SIZE;
}

/* Give a table page back for reuse. */
void
asi_pt_release(AsiHost *host, guint64 pa)
{
	guint idx = (guint)((pa - ASI_PT_BASE) / ASI_PAGE_SIZE);

	g_array_append_val(host->pt_free, idx);
}

/* The host pointer of the table page at pa (NULL if pa is no table page). */
guint64 *
asi_pt_va(AsiHost *host, guint64 pa)
{
	if (pa < ASI_PT_BASE || (pa - ASI_PT_BASE) / ASI_PAGE_SIZE >= host->pt_pages->len)
		return NULL;
	return host->pt_pages->pdata[(pa - ASI_PT_BASE) / ASI_PAGE_SIZE];
}

/* The index of va in a table of the given level (4 = PGD). */
static guint
pt_index(guint64 va, int level)
{
	return (guint)((va >> level_shift[level]) & 511);
}

/* Non-leaf entries as the kernel writes them (_PAGE_TABLE: P, RW, US, A). */
#define ASI_PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

/* Models the pgd/p4d/pud/pmd/pte_alloc + pte_offset chain (mm/memory.c), 4K leaves only. */
guint64 *
asi_pt_lookup(AsiHost *host, guint64 pgd, guint64 va, gboolean create)
{
	guint64 table = pgd;

	for (int level = 4; level > 1; level--) {
		guint64 *slot = &asi_pt_va(host, table)[pt_index(va, level)];

		if (!(*slot & _PAGE_PRESENT)) {
			if (!create)
				return NULL;
			*slot = asi_pt_alloc(host) | ASI_PAGE_TABLE;
		}
		if (*slot & _PAGE_PSE)
			return NULL;
		table = *slot & PTE_PFN_MASK;
	}
	return &asi_pt_va(host, table)[pt_index(va, 1)];
}

/* The walk the MMU does for va from pgd: the leaf (0 if a level is not present). */
guint64
asi_pt_walk(AsiHost *host, guint64 pgd, guint64 va, int *out_level, guint64 *out_pa)
{
	guint64 table = pgd;

	for (int level = 4; level >= 1; level--) {
		guint64 *page = asi_pt_va(host, table);
		guint64 entry = page ? page[pt_index(va, level)] : 0;

		if (!(entry & _PAGE_PRESENT))
			return 0;
		if (level == 1 || ((level == 2 || level == 3) && (entry & _PAGE_PSE))) {
			guint64 mask = (1ull << level_shift[level]) - 1;

			if (out_level)
				*out_level = level;
			if (out_pa)
				*out_pa = ((entry & PTE_PFN_MASK) & ~mask) | (va & mask);
			return entry;
		}
		table = entry & PTE_PFN_MASK;
	}
	return 0;
}

/* Models kernel_access_ok() in arch/x86/mm/fault.c (v1 12/26, Ofir Weisse): present at every
 * level; RW on every level for a write; NX clear on every level for a fetch. */
gboolean
kernel_access_ok(AsiHost *host, guint64 error_code, guint64 va, guint64 pgd)
{
	guint64 table = pgd;

	for (int level = 4; level >= 1; level--) {
		guint64 *page = asi_pt_va(host, table);
		guint64 entry = page ? page[pt_index(va, level)] : 0;

		if (!(entry & _PAGE_PRESENT))
			return FALSE;
		if ((error_code & X86_PF_WRITE) && !(entry & _PAGE_RW))
			return FALSE;
		if ((error_code & X86_PF_INSTR) && (entry & _PAGE_NX))
			return FALSE;
		if (level == 1 || (level <= 3 && (entry & _PAGE_PSE)))
			return TRUE;
		table = entry & PTE_PFN_MASK;
	}
	return FALSE;
}

/* Release the user half's tables under pgd (an mm going away). */
static void
pt_free_level(AsiHost *host, guint64 table, int level)
{
	guint64 *page = asi_pt_va(host, table);

	for (guint i = 0; level > 1 && i < PTRS_PER_PGD; i++) {
		if ((page[i] & _PAGE_PRESENT) && !(page[i] & _PAGE_PSE))
			pt_free_level(host, page[i] & PTE_PFN_MASK, level - 1);
	}
	asi_pt_release(host, table);
}

/* Release every user-half table under pgd and clear its entries. */
void
asi_pt_free_user_half(AsiHost *host, guint64 pgd)
{
	guint64 *page = asi_pt_va(host, pgd);

	for (guint i = 0; i < KERNEL_PGD_BOUNDARY; i++) {
		if (page[i] & _PAGE_PRESENT)
			pt_free_level(host, page[i] & PTE_PFN_MASK, 3);
		page[i] = 0;
	}
}
