/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The contract between kvmsim and the guest programs it runs: the guest-physical layout, the boot
 * parameters every vCPU is started with, the IO ports and the hypercalls. Included by freestanding
 * guest code and by the host side, so it uses only fixed-width integer types.
 *
 * Guest-physical layout (the guest runs flat: guest-virtual = guest-physical):
 *
 *   [0, KVMSIM_BOOT_SIZE)                      memslot 0 "boot": boot parameters, --arg, image
 *     KVMSIM_BOOT_PARAMS_GPA                   struct kvmsim_boot_params (one page)
 *     KVMSIM_ARG_GPA                           the --arg string, NUL-terminated (params->arg_gpa)
 *     [KVMSIM_IMAGE_GPA, KVMSIM_IMAGE_END)     the program: a flat binary entered at its first
 *                                              byte, or an ELF's PT_LOAD segments entered at
 *                                              e_entry; .text, .data and .bss (zero at boot,
 *                                              not in the file)
 *   [KVMSIM_RAM_GPA, KVMSIM_RAM_GPA + mem)     memslot 1 "ram": the data region (--mem)
 *   [KVMSIM_MMIO_GPA, + KVMSIM_MMIO_SIZE)      no memslot: the VMM's test device (MMIO exits)
 *   KVMSIM_STACK_GPA(i)                        memslot 2 + i: vCPU i's stack, KVMSIM_STACK_SIZE
 *                                              bytes; the KVMSIM_STACK_GUARD bytes below it are in
 *                                              no memslot, so an overflow faults (is reported)
 *
 * Host events (--host-events) act on all of it; dontneed drops pages of the data region only.
 */
#ifndef KVMSIM_WORKLOADS_ABI_H
#define KVMSIM_WORKLOADS_ABI_H

#include <stdint.h>

#define KVMSIM_PAGE_SIZE 4096ull

#define KVMSIM_BOOT_GPA 0x0ull
#define KVMSIM_BOOT_SIZE 0x400000ull /* 4 MiB */
#define KVMSIM_BOOT_PARAMS_GPA 0x1000ull
#define KVMSIM_ARG_GPA 0x2000ull
#define KVMSIM_ARG_MAX 0x10000ull /* 64 KiB with the NUL */
#define KVMSIM_IMAGE_GPA 0x100000ull
#define KVMSIM_IMAGE_END KVMSIM_BOOT_SIZE
#define KVMSIM_IMAGE_MAX (KVMSIM_IMAGE_END - KVMSIM_IMAGE_GPA) /* 3 MiB, .bss included */
#define KVMSIM_STACKS_GPA 0x100000000ull /* 4 GiB: above the largest data region and MMIO */
#define KVMSIM_STACK_SIZE 0x10000ull     /* 64 KiB per vCPU */
#define KVMSIM_STACK_GUARD 0x10000ull    /* unmapped below each stack */
#define KVMSIM_STACK_GPA(i) (KVMSIM_STACKS_GPA + (i) * (KVMSIM_STACK_GUARD + KVMSIM_STACK_SIZE) + \
			     KVMSIM_STACK_GUARD)
#define KVMSIM_MAX_VCPUS 64

#define KVMSIM_RAM_GPA 0x400000ull

#define KVMSIM_MMIO_GPA 0xc0000000ull
#define KVMSIM_MMIO_SIZE 0x1000ull
/* Registers of the VMM's test device, offsets into the MMIO window. */
#define KVMSIM_MMIO_REG_ID 0x0     /* reads KVMSIM_MMIO_ID */
#define KVMSIM_MMIO_REG_SCRATCH 0x8 /* reads back the last value written */
#define KVMSIM_MMIO_ID 0x6b766d73696dull /* "kvmsim" */

/* Port IO. */
#define KVMSIM_PORT_CONSOLE 0xe9 /* out byte: one console character */
#define KVMSIM_PORT_EXIT 0xf4    /* out dword: end the run; 0 = pass, anything else = fail */
#define KVMSIM_PORT_REBOOT 0xf5  /* out dword (any): destroy this VM and boot a new one on the
				  * same guest_memfd (needs KVMSIM_BOOT_PRIVATE_MEM) */

/* Hypercalls (vmcall; KVM ABI: nr in RAX, args in RBX, RCX, RDX, RSI; result in RAX). */
#define KVM_HC_SCHED_YIELD 11    /* a0 = destination APIC id (ignored): give up the host CPU */
#define KVM_HC_MAP_GPA_RANGE 12  /* a0 gpa, a1 pages, a2 attributes: forwarded to the VMM */
#define KVM_ENOSYS 1000          /* include/uapi/linux/kvm_para.h */
#define KVM_EINVAL 22
/* KVM_HC_MAP_GPA_RANGE's attributes (arch/x86/include/uapi/asm/kvm_para.h) */
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M (1u << 0)
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G (1u << 1)
#define KVM_MAP_GPA_RANGE_ENCRYPTED (1u << 4) /* to private */
#define KVM_MAP_GPA_RANGE_DECRYPTED (0u << 4) /* to shared */

/* Boot parameter flags. */
#define KVMSIM_BOOT_ZERO_OK (1u << 0) /* pages may be dropped by the host: zeros are not an error */
/* A KVM_X86_SW_PROTECTED_VM (--vm-type sw-protected): the data region is bound to a guest_memfd
 * and KVM_HC_MAP_GPA_RANGE converts its pages between shared and private. */
#define KVMSIM_BOOT_PRIVATE_MEM (1u << 1)
/* Conversions keep the page's content (--gmem-conversion in-place: one page, its shareability
 * flipped); without it they destroy it (legacy: the VMM discards the old backing, so the page
 * reads zeros in its new state). */
#define KVMSIM_BOOT_CONVERT_KEEPS (1u << 2)
/* The host converts and punches pages behind the guest's back (--host-events punch, convert):
 * a page may read zeros, or change state, where the guest expects its own content. */
#define KVMSIM_BOOT_HOST_CONVERTS (1u << 3)
/* This is the second boot of the VM on the same guest_memfd (the reboot workload). */
#define KVMSIM_BOOT_REBOOTED (1u << 4)

/* The VMM offers async page faults (--postcopy=async-pf, async-pf-user...): a guest built with
 * the async PF runtime (workloads/runtime/apf.h) enables them through the MSRs below. */
#define KVMSIM_BOOT_ASYNC_PF (1u << 5)

/* The KVM PV async PF ABI (arch/x86/include/uapi/asm/kvm_para.h, as mmu/async_pf.h has it). */
#define MSR_KVM_ASYNC_PF_EN 0x4b564d02
#define MSR_KVM_ASYNC_PF_INT 0x4b564d06
#define MSR_KVM_ASYNC_PF_ACK 0x4b564d07
#define KVM_ASYNC_PF_ENABLED (1 << 0)
#define KVM_ASYNC_PF_SEND_ALWAYS (1 << 1)
#define KVM_ASYNC_PF_DELIVERY_AS_PF_VMEXIT (1 << 2)
#define KVM_ASYNC_PF_DELIVERY_AS_INT (1 << 3)
#define KVM_PV_REASON_PAGE_NOT_PRESENT 1
#define KVM_PV_REASON_PAGE_READY 2

#define KVMSIM_BOOT_MAGIC 0x746f6f626d69736bull /* "ksimboot" */

/* What every vCPU finds at KVMSIM_BOOT_PARAMS_GPA (RSI points at it, RDI holds its index). */
struct kvmsim_boot_params {
	uint64_t magic;      /* KVMSIM_BOOT_MAGIC */
	uint32_t nr_vcpus;   /* vCPUs running the workload */
	uint32_t flags;      /* KVMSIM_BOOT_* */
	uint64_t ram_gpa;    /* start of the data region */
	uint64_t ram_size;   /* its size in bytes, a multiple of the page size */
	uint64_t seed;       /* the run's seed, for workloads that vary their pattern */
	uint64_t params[8];  /* workload parameters (e.g. rounds); 0 = the workload's default */
	/* Scratch shared by the guest runtime: barrier counters, results. Zero at boot. */
	uint64_t barrier_count;
	uint64_t barrier_generation;
	uint64_t shared[16];
	uint64_t arg_gpa;    /* the --arg string (NUL-terminated, empty if none) */
	uint64_t arg_size;   /* its length without the NUL */
};

#endif
