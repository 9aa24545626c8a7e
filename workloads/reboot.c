/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * reboot: private memory outlives the struct kvm. On the first boot every vCPU converts its
 * pages to private with KVM_HC_MAP_GPA_RANGE and fills them with a pattern, then vCPU 0 asks the
 * VMM to reboot (KVMSIM_PORT_REBOOT). The VMM destroys the VM and boots a new one whose
 * guest_memfd is linked to the same inode (the proposed KVM_LINK_GUEST_MEMFD); the image is
 * entered again with KVMSIM_BOOT_REBOOTED. On that second boot every vCPU checks that its
 * pages are still private and still hold the pattern (a hole the host punched meanwhile reads
 * zeros, KVMSIM_BOOT_HOST_CONVERTS), then converts them to shared and checks what the design
 * promises (in-place keeps the content, legacy discards it).
 *
 * params[1] = pages per vCPU (16, at most the vCPU's share).
 */
#include "workloads/runtime/runtime.h"

#define PAGE ((uint64_t)KVMSIM_PAGE_SIZE)
#define QWORDS_PER_PAGE (PAGE / sizeof(uint64_t))
#define DEFAULT_PAGES 16

enum { SHARED_BAD = 2, SHARED_KEPT, SHARED_ZEROED };

static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The first qword of the page's pattern; qword i holds it plus i. */
static uint64_t key(uint64_t gpa, uint64_t seed)
{
	return mix64(gpa ^ mix64(seed ^ 0x7265626f6f74ull /* "reboot" */));
}

/* 0: the pattern, 1: zeros, or (with lenient) the pattern partly zeroed, as a hole punched
 * while the page was being filled leaves it; 2: anything else. Each qword is read once. */
static int page_state(uint64_t gpa, uint64_t seed, int lenient)
{
	const volatile uint64_t *q = (const volatile uint64_t *)(uintptr_t)gpa;
	uint64_t v = key(gpa, seed);
	int pattern = 1, zero = 1, mixed = 1;

	for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++) {
		uint64_t x = q[i];

		pattern &= x == v + i;
		zero &= x == 0;
		mixed &= x == v + i || x == 0;
	}
	return pattern ? 0 : zero || (mixed && lenient) ? 1 : 2;
}

void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params)
{
	uint64_t want = params->params[1] ? params->params[1] : DEFAULT_PAGES;
	uint64_t nr_pages = params->ram_size / PAGE;
	uint64_t first = guest_share_first(nr_pages, vcpu_id, params->nr_vcpus);
	uint64_t share = guest_share_first(nr_pages, vcpu_id + 1, params->nr_vcpus) - first;
	uint64_t npages = want < share ? want : share;
	uint64_t gpa = params->ram_gpa + first * PAGE;
	int lenient = params->flags & (KVMSIM_BOOT_HOST_CONVERTS | KVMSIM_BOOT_ZERO_OK);
	int keeps = params->flags & KVMSIM_BOOT_CONVERT_KEEPS;
	uint64_t bad = 0, kept = 0, zeroed = 0;

	if (!(params->flags & KVMSIM_BOOT_PRIVATE_MEM)) {
		if (vcpu_id == 0) {
			guest_printf("reboot: needs --vm-type sw-protected result=fail\n");
			guest_exit(1);
		}
		return;
	}
	if (!(params->flags & KVMSIM_BOOT_REBOOTED)) {
		if (guest_hypercall(KVM_HC_MAP_GPA_RANGE, gpa, npages, KVM_MAP_GPA_RANGE_ENCRYPTED,
				    0) != 0)
			guest_printf("reboot: vcpu %u could not make its pages private\n", vcpu_id);
		for (uint64_t p = 0; p < npages; p++) {
			volatile uint64_t *q = (volatile uint64_t *)(uintptr_t)(gpa + p * PAGE);
			uint64_t v = key(gpa + p * PAGE, params->seed);

			for (uint64_t i = 0; i < QWORDS_PER_PAGE; i++)
				q[i] = v + i;
		}
		guest_barrier(params);
		if (vcpu_id != 0)
			return;
		guest_printf("reboot: first boot wrote %lu private pages\n",
			     npages * params->nr_vcpus);
		asm volatile("outl %0, %1" : : "a"(0), "Nd"((uint16_t)KVMSIM_PORT_REBOOT));
		guest_halt();
	}
	/* second boot: the private pages are the first boot's */
	for (uint64_t p = 0; p < npages; p++) {
		int s = page_state(gpa + p * PAGE, params->seed, lenient);

		bad += s == 2 || (s == 1 && !lenient);
	}
	if (guest_hypercall(KVM_HC_MAP_GPA_RANGE, gpa, npages, KVM_MAP_GPA_RANGE_DECRYPTED, 0))
		bad++;
	for (uint64_t p = 0; p < npages; p++) {
		int s = page_state(gpa + p * PAGE, params->seed, lenient);

		kept += s == 0;
		zeroed += s == 1;
		bad += s == 2 || (!lenient && (keeps ? s != 0 : s != 1));
	}
	__atomic_add_fetch(&params->shared[SHARED_BAD], bad, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_KEPT], kept, __ATOMIC_RELAXED);
	__atomic_add_fetch(&params->shared[SHARED_ZEROED], zeroed, __ATOMIC_RELAXED);
	guest_barrier(params);
	if (vcpu_id != 0)
		return;
	bad = params->shared[SHARED_BAD];
	guest_printf("reboot: second boot found the private pages; converted to shared: kept=%lu "
		     "zeroed=%lu bad=%lu result=%s\n", params->shared[SHARED_KEPT],
		     params->shared[SHARED_ZEROED], bad, bad ? "fail" : "pass");
	guest_exit(bad ? 1 : 0);
}
