/* SPDX-License-Identifier: GPL-2.0-only */
/* Kernel integer types and paging constants used throughout the MMU model. */
#ifndef KVMSIM_MMU_TYPES_H
#define KVMSIM_MMU_TYPES_H

#include <glib.h>
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;
typedef u64 gfn_t;
typedef u64 gpa_t;
typedef u64 hva_t;
typedef u64 kvm_pfn_t;

#define BIT_ULL(n) (1ull << (n))
#define PAGE_SHIFT 12
#define PAGE_SIZE (1ull << PAGE_SHIFT)
#define INVALID_GPA (~(gpa_t)0)

/* enum pg_level (arch/x86/include/asm/pgtable_types.h) */
enum pg_level {
	PG_LEVEL_NONE,
	PG_LEVEL_4K,
	PG_LEVEL_2M,
	PG_LEVEL_1G,
	PG_LEVEL_512G,
};

#define PT64_ROOT_4LEVEL 4
#define SPTE_LEVEL_BITS 9
#define SPTE_ENT_PER_PAGE 512
#define KVM_PAGES_PER_HPAGE(level) (1ull << (((level) - 1) * SPTE_LEVEL_BITS))

/* Error codes of the page-fault path (arch/x86/include/asm/kvm_host.h). */
#define PFERR_PRESENT_MASK BIT_ULL(0)
#define PFERR_WRITE_MASK BIT_ULL(1)
#define PFERR_USER_MASK BIT_ULL(2)
#define PFERR_RSVD_MASK BIT_ULL(3)
#define PFERR_FETCH_MASK BIT_ULL(4)
#define PFERR_GUEST_FINAL_MASK BIT_ULL(32)
#define PFERR_PRIVATE_ACCESS BIT_ULL(49)

/* EPT violation exit qualification bits (arch/x86/include/asm/vmx.h). */
#define EPT_VIOLATION_ACC_READ BIT_ULL(0)
#define EPT_VIOLATION_ACC_WRITE BIT_ULL(1)
#define EPT_VIOLATION_ACC_INSTR BIT_ULL(2)
#define EPT_VIOLATION_PROT_READ BIT_ULL(3)
#define EPT_VIOLATION_PROT_WRITE BIT_ULL(4)
#define EPT_VIOLATION_PROT_EXEC BIT_ULL(5)
#define EPT_VIOLATION_GVA_IS_VALID BIT_ULL(7)
#define EPT_VIOLATION_GVA_TRANSLATED BIT_ULL(8)

#endif
