/* SPDX-License-Identifier: GPL-2.0-only */
/* Self-checking page patterns: fill, check and the cross-vCPU verdict. */
#include "workloads/runtime/pattern.h"
#include "workloads/runtime/runtime.h"

#define QWORDS_PER_PAGE (KVMSIM_PAGE_SIZE / sizeof(uint64_t))
#define GOLDEN 0x9e3779b97f4a7c15ull /* odd, so the qwords of one page all differ */

/* Slots of params->shared used by pattern_merge(). */
enum { SHARED_DROPPED, SHARED_CORRUPT };

/* splitmix64's finalizer: spreads every input bit over the whole word. */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The value of the page's first qword; qword i holds key + i * GOLDEN. */
static uint64_t page_key(uint64_t page_gpa, uint64_t salt)
{
	return mix64(page_gpa ^ mix64(salt));
}

void pattern_fill(uint64_t gpa, uint64_t nr_pages, uint64_t salt)
{
	for (; nr_pages; nr_pages--, gpa += KVMSIM_PAGE_SIZE) {
		uint64_t *qword = (uint64_t *)(uintptr_t)gpa;
		uint64_t value = page_key(gpa, salt);

		for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++, value += GOLDEN)
			qword[i] = value;
	}
}

void pattern_check(uint64_t gpa, uint64_t nr_pages, uint64_t salt, struct pattern_tally *tally)
{
	for (; nr_pages; nr_pages--, gpa += KVMSIM_PAGE_SIZE) {
		const uint64_t *qword = (const uint64_t *)(uintptr_t)gpa;
		uint64_t expect = page_key(gpa, salt);
		uint64_t diff = 0, foreign = 0, sum = 0;

		/*
		 * Every qword is read exactly once: the host may drop the page halfway through this
		 * pass, and a second look would see something else.
		 */
		for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++, expect += GOLDEN) {
			uint64_t v = qword[i];

			diff |= v ^ expect;
			foreign |= v != expect && v != 0;
			sum += v;
		}
		tally->pages++;
		if (diff && !foreign)
			tally->dropped++;
		else if (diff)
			tally->corrupt++;
		tally->checksum = mix64(tally->checksum ^ sum);
	}
}

uint32_t pattern_merge(struct kvmsim_boot_params *params, struct pattern_tally *tally)
{
	guest_atomic_max(&params->shared[SHARED_DROPPED], tally->dropped);
	guest_atomic_max(&params->shared[SHARED_CORRUPT], tally->corrupt);
	guest_barrier(params);
	tally->dropped = __atomic_load_n(&params->shared[SHARED_DROPPED], __ATOMIC_RELAXED);
	tally->corrupt = __atomic_load_n(&params->shared[SHARED_CORRUPT], __ATOMIC_RELAXED);

	if (tally->corrupt)
		return 1;
	if (tally->dropped && !(params->flags & KVMSIM_BOOT_ZERO_OK))
		return 1;
	return 0;
}
