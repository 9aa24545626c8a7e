/* SPDX-License-Identifier: GPL-2.0-only */
/* A FIFO pool of page-table pages at fixed physical addresses. */
#include "sim/core/ptpool.h"

#include <sys/mman.h>

#include "sim/core/hostmem.h"

struct SimPtPool {
	SimPtPoolHead head; /* nr_pages, region */
	gpointer *owners;
	GQueue free_pages; /* page index + 1 */
	guint next_unused;
	guint in_use;
};

/*
 * The region of the last pool freed, kept for the next pool of the same size: a search runs
 * thousands of short machines one after the other, and a fresh region costs a page fault (and a
 * zeroed page) per table page used. Nothing reads a table page before mmu_topup_memory_caches()
 * fills it, so what a reused region holds does not matter.
 */
static guint8 *spare_region;
static guint spare_pages;

/* Reserve the table region (committed as tables are used). */
SimPtPool *
sim_ptpool_new(guint nr_pages, GError **error)
{
	SimPtPool *pool = g_new0(SimPtPool, 1);

	pool->head.nr_pages = nr_pages;
	if (spare_region && spare_pages == nr_pages) {
		pool->head.region = spare_region;
		spare_region = NULL;
	} else {
		pool->head.region = mmap(NULL, (gsize)nr_pages * SIM_PAGE_SIZE,
					 PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (pool->head.region == MAP_FAILED) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
			    "cannot reserve %u page-table pages", nr_pages);
		g_free(pool);
		return NULL;
	}
	pool->owners = g_new0(gpointer, nr_pages);
	g_queue_init(&pool->free_pages);
	return pool;
}

void
sim_ptpool_free(SimPtPool *pool)
{
	if (!pool)
		return;
	if (!spare_region) {
		spare_region = pool->head.region;
		spare_pages = pool->head.nr_pages;
	} else {
		munmap(pool->head.region, (gsize)pool->head.nr_pages * SIM_PAGE_SIZE);
	}
	g_free(pool->owners);
	g_queue_clear(&pool->free_pages);
	g_free(pool);
}

/* A table page: a released one first (FIFO), else the next never used. */
guint64 *
sim_ptpool_alloc(SimPtPool *pool, guint64 *out_pa)
{
	guint index;

	if (!g_queue_is_empty(&pool->free_pages))
		index = GPOINTER_TO_UINT(g_queue_pop_head(&pool->free_pages)) - 1;
	else if (pool->next_unused < pool->head.nr_pages)
		index = pool->next_unused++;
	else
		return NULL;
	pool->in_use++;
	*out_pa = SIM_PT_BASE + (guint64)index * SIM_PAGE_SIZE;
	return (guint64 *)(pool->head.region + (gsize)index * SIM_PAGE_SIZE);
}

static guint
index_of(const SimPtPool *pool, guint64 pa)
{
	g_assert(pa >= SIM_PT_BASE && (pa - SIM_PT_BASE) / SIM_PAGE_SIZE < pool->head.nr_pages);
	return (guint)((pa - SIM_PT_BASE) / SIM_PAGE_SIZE);
}

void
sim_ptpool_release(SimPtPool *pool, guint64 pa)
{
	guint index = index_of(pool, pa);

	pool->owners[index] = NULL;
	pool->in_use--;
	g_queue_push_tail(&pool->free_pages, GUINT_TO_POINTER(index + 1));
}

guint64
sim_ptpool_pa(const SimPtPool *pool, const void *va)
{
	gsize off = (gsize)((const guint8 *)va - pool->head.region);

	g_assert(off < (gsize)pool->head.nr_pages * SIM_PAGE_SIZE);
	return SIM_PT_BASE + (off & ~(gsize)(SIM_PAGE_SIZE - 1));
}

void
sim_ptpool_set_owner(SimPtPool *pool, guint64 pa, gpointer owner)
{
	pool->owners[index_of(pool, pa)] = owner;
}

gpointer
sim_ptpool_owner(const SimPtPool *pool, guint64 pa)
{
	return pool->owners[index_of(pool, pa)];
}

guint
sim_ptpool_in_use(const SimPtPool *pool)
{
	return pool->in_use;
}

guint8 *
sim_ptpool_region(const SimPtPool *pool, guint64 *out_pa, guint64 *out_size)
{
	*out_pa = SIM_PT_BASE;
	*out_size = (guint64)pool->head.nr_pages * SIM_PAGE_SIZE;
	return pool->head.region;
}
