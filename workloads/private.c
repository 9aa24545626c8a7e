/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * private: every vCPU converts pages of its share of the data region between shared and private
 * with KVM_HC_MAP_GPA_RANGE, in rounds, writing a pattern before each conversion and checking
 * after it what the conversion design promises:
 *
 *   legacy   (KVMSIM_BOOT_CONVERT_KEEPS clear) the VMM discards the old backing (MADV_DONTNEED of
 *            the shared memory, a hole punched in the guest_memfd): the page reads zeros after
 *            every conversion, and reading the old content would be a leak across the conversion
 *   in-place (KVMSIM_BOOT_CONVERT_KEEPS set) one page, its shareability flipped: the content the
 *            guest wrote before the conversion is still there after it
 *
 * When the host punches holes and converts pages behind the guest's back (KVMSIM_BOOT_HOST_
 * CONVERTS) or drops shared pages (KVMSIM_BOOT_ZERO_OK), a page may also read zeros, the content
 * the guest last wrote where it expected zeros (the host converted it first, so the guest's
 * conversion found nothing to discard), or a mix of the two (the host converted it while the
 * guest was filling it: the stores before went to the discarded backing); anything else is
 * corrupt.
 *
 * Between rounds every vCPU also races its neighbour on one scratch page past its window: it
 * converts its own scratch page back and forth while loading from the neighbour's. A load whose
 * fault began before the neighbour's conversion and checks the attribute after it leaves KVM
 * with KVM_EXIT_MEMORY_FAULT, which the VMM resolves with an implicit conversion. Scratch
 * content is never checked: the implicit conversion may undo the neighbour's own.
 *
 * vCPU 0 also makes the calls KVM must refuse without an exit (-KVM_EINVAL: a gpa not page
 * aligned, no pages, a range that wraps). On a VM without private memory the hypercall is not
 * forwarded (-KVM_ENOSYS), which is all the workload checks there.
 *
 * params[0] = rounds (4), params[1] = pages per vCPU (64, at most the vCPU's share).
 */
#include "workloads/runtime/runtime.h"

#define PAGE ((uint64_t)KVMSIM_PAGE_SIZE)
#define DEFAULT_ROUNDS 4
#define DEFAULT_PAGES 64
#define QWORDS_PER_PAGE (PAGE / sizeof(uint64_t))
#define GOLDEN 0x9e3779b97f4a7c15ull

/* Slots of params->shared this workload uses (pattern_merge() is not used here). */
enum { SHARED_CORRUPT = 2, SHARED_ZEROED, SHARED_KEPT, SHARED_ERRORS };

enum page_state { PAGE_PATTERN, PAGE_ZERO, PAGE_TORN, PAGE_OTHER };

struct tally {
	uint64_t kept;    /* pages that held their content across a conversion */
	uint64_t zeroed;  /* pages that read zeros after one */
	uint64_t corrupt; /* pages holding what the design forbids */
	uint64_t errors;  /* hypercalls that returned what they should not */
};

static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fill one page with the pattern of (gpa, salt). */
static void fill_page(uint64_t gpa, uint64_t salt)
{
	uint64_t *q = (uint64_t *)(uintptr_t)gpa;
	uint64_t v = mix64(gpa ^ mix64(salt));

	for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++, v += GOLDEN)
		q[i] = v;
}

/* What one page holds, every qword read once: the pattern of (gpa, salt), zeros, a mix of the
 * two (torn), or anything else. */
static enum page_state page_state(uint64_t gpa, uint64_t salt)
{
	const uint64_t *q = (const uint64_t *)(uintptr_t)gpa;
	uint64_t v = mix64(gpa ^ mix64(salt));
	int pattern = 1, zero = 1, mixed = 1;

	for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++, v += GOLDEN) {
		uint64_t x = q[i];

		pattern &= x == v;
		zero &= x == 0;
		mixed &= x == v || x == 0;
	}
	return pattern ? PAGE_PATTERN : zero ? PAGE_ZERO : mixed ? PAGE_TORN : PAGE_OTHER;
}

static long map_gpa_range(uint64_t gpa, uint64_t npages, uint64_t attrs)
{
	return guest_hypercall(KVM_HC_MAP_GPA_RANGE, gpa, npages, attrs, 0);
}

/* Say what the first corrupt page held: which qword first differs, and how. */
static void report(uint64_t page, int to_private, uint64_t salt, enum page_state s)
{
	const uint64_t *q = (const uint64_t *)(uintptr_t)page;
	uint64_t v = mix64(page ^ mix64(salt)), i;

	for (i = 0; i < QWORDS_PER_PAGE - 1; i++, v += GOLDEN)
		if (s == PAGE_OTHER ? q[i] != v && q[i] != 0 : q[i] != v)
			break;
	guest_printf("private: page 0x%lx after a conversion to %s holds %s: qword %lu reads "
		     "0x%lx, its content 0x%lx\n", page, to_private ? "private" : "shared",
		     s == PAGE_PATTERN ? "its old content (a leak)" :
		     s == PAGE_ZERO ? "zeros (content lost)" :
		     s == PAGE_TORN ? "its content partly zeroed" : "garbage", i, q[i], v);
}

/*
 * Convert [gpa, + npages) to private or shared in chunks of 1 to 4 pages (by round), then check
 * every page against salt, the content written before the conversion.
 */
static void convert_and_check(uint64_t gpa, uint64_t npages, int to_private, uint64_t round,
			      uint64_t salt, uint32_t flags, struct tally *t)
{
	uint64_t attrs = to_private ? KVM_MAP_GPA_RANGE_ENCRYPTED : KVM_MAP_GPA_RANGE_DECRYPTED;
	uint64_t chunk = 1 + round % 4;
	int keeps = flags & KVMSIM_BOOT_CONVERT_KEEPS;
	int lenient = flags & (KVMSIM_BOOT_HOST_CONVERTS | KVMSIM_BOOT_ZERO_OK);

	for (uint64_t done = 0; done < npages; done += chunk) {
		uint64_t n = npages - done < chunk ? npages - done : chunk;
		long r = map_gpa_range(gpa + done * PAGE, n, attrs);

		if (r != 0) {
			guest_printf("private: MAP_GPA_RANGE 0x%lx +%lu %s returned %ld\n",
				     gpa + done * PAGE, n,
				     to_private ? "private" : "shared", r);
			t->errors++;
		}
	}
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t page = gpa + i * PAGE;
		enum page_state s = page_state(page, salt);

		if (s == PAGE_PATTERN && (keeps || lenient))
			t->kept++;
		else if ((s == PAGE_ZERO && (!keeps || lenient)) || (s == PAGE_TORN && lenient))
			t->zeroed++;
		else {
			if (!t->corrupt)
				report(page, to_private, salt, s);
			t->corrupt++;
		}
	}
}

/* The calls KVM refuses itself, without an exit to the VMM (__kvm_emulate_hypercall()). */
static void bad_arguments(uint64_t gpa, struct tally *t)
{
	static const struct {
		uint64_t gpa_delta, npages;
		const char *what;
	} cases[] = {
		{ 8, 1, "gpa not page aligned" },
		{ 0, 0, "no pages" },
		{ 0, ~0ull, "a gfn range that wraps" },
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long r = map_gpa_range(gpa + cases[i].gpa_delta, cases[i].npages,
				       KVM_MAP_GPA_RANGE_ENCRYPTED);

		if (r != -KVM_EINVAL) {
			guest_printf("private: MAP_GPA_RANGE with %s returned %ld, not -KVM_EINVAL\n",
				     cases[i].what, r);
			t->errors++;
		}
	}
}

/*
 * Convert this vCPU's scratch page back and forth while loading from the neighbour's; only the
 * hypercalls' results are checked.
 */
static void race_scratch(uint64_t mine, uint64_t theirs, uint64_t times, struct tally *t)
{
	for (uint64_t i = 0; i < times; i++) {
		if (map_gpa_range(mine, 1, i & 1 ? KVM_MAP_GPA_RANGE_DECRYPTED :
						   KVM_MAP_GPA_RANGE_ENCRYPTED) != 0)
			t->errors++;
		for (int k = 0; k < 4; k++)
			(void)*(volatile uint64_t *)(uintptr_t)(theirs + k * 64);
	}
}

/* Combine every vCPU's tally into vCPU 0's, through params->shared and a barrier. */
static void merge(struct kvmsim_boot_params *params, struct tally *t)
{
	__atomic_add_fetch(&params->shared[SHARED_CORRUPT], t->corrupt, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_ZEROED], t->zeroed, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_KEPT], t->kept, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_ERRORS], t->errors, __ATOMIC_RELAXED);
	guest_barrier(params);
	t->corrupt = params->shared[SHARED_CORRUPT];
	t->zeroed = params->shared[SHARED_ZEROED];
	t->kept = params->shared[SHARED_KEPT];
	t->errors = params->shared[SHARED_ERRORS];
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t rounds = params->params[0] ? params->params[0] : DEFAULT_ROUNDS;
	uint64_t want = params->params[1] ? params->params[1] : DEFAULT_PAGES;
	uint64_t nr_pages = params->ram_size / PAGE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t share = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus) - first;
	uint64_t npages = want < share ? want : share;
	uint64_t gpa = params->ram_gpa + first * PAGE;
	struct tally t = { 0 };

	if (!(params->flags & KVMSIM_BOOT_PRIVATE_MEM)) {
		long r = map_gpa_range(gpa, 1, KVM_MAP_GPA_RANGE_ENCRYPTED);

		if (vcpu_id != 0)
			return;
		guest_printf("private: no private memory: MAP_GPA_RANGE returned %ld result=%s\n",
			     r, r == -KVM_ENOSYS ? "pass" : "fail");
		guest_exit(r == -KVM_ENOSYS ? 0 : 1);
	}
	if (vcpu_id == 0)
		bad_arguments(gpa, &t);
	/* a known start whatever the design's initial state: everything shared */
	if (npages && map_gpa_range(gpa, npages, KVM_MAP_GPA_RANGE_DECRYPTED) != 0)
		t.errors++;
	/* the scratch page past the window, if the share has one; the neighbour's likewise */
	uint32_t next = (vcpu_id + 1) % params->nr_vcpus;
	uint64_t next_first = guest_share_first(nr_pages, next, params->nr_vcpus);
	uint64_t next_share = guest_share_first(nr_pages, next + 1, params->nr_vcpus) - next_first;
	int scratch = share > npages && next_share > (want < next_share ? want : next_share);
	uint64_t mine = gpa + npages * PAGE;
	uint64_t theirs = params->ram_gpa +
			  (next_first + (want < next_share ? want : next_share)) * PAGE;

	for (uint64_t round = 0; round < rounds; round++) {
		if (scratch)
			race_scratch(mine, theirs, 16, &t);
		uint64_t salt_shared = mix64(params->seed ^ (round * 2 + 1) ^ vcpu_id * GOLDEN);
		uint64_t salt_private = mix64(params->seed ^ (round * 2 + 2) ^ vcpu_id * GOLDEN);

		for (uint64_t i = 0; i < npages; i++)
			fill_page(gpa + i * PAGE, salt_shared);
		convert_and_check(gpa, npages, 1, round, salt_shared, params->flags, &t);
		for (uint64_t i = 0; i < npages; i++)
			fill_page(gpa + i * PAGE, salt_private);
		convert_and_check(gpa, npages, 0, round, salt_private, params->flags, &t);
	}
	merge(params, &t);
	if (vcpu_id != 0)
		return;
	int fail = t.corrupt || t.errors;

	guest_printf("private: %s rounds=%lu pages=%lu kept=%lu zeroed=%lu corrupt=%lu errors=%lu "
		     "result=%s\n",
		     params->flags & KVMSIM_BOOT_CONVERT_KEEPS ? "in-place" : "legacy", rounds,
		     npages * params->nr_vcpus, t.kept, t.zeroed, t.corrupt, t.errors,
		     fail ? "fail" : "pass");
	guest_exit(fail ? 1 : 0);
}
