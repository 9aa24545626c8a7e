/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every number kvmsim uses from a series that is posted but not merged (guest-memfd.md §8: such
 * values are not stable and some proposals collide). Each group names the series it was read in.
 */
#ifndef KVMSIM_GMEM_PROPOSED_H
#define KVMSIM_GMEM_PROPOSED_H

#include "mmu/types.h"

/*
 * In-place conversion: Ackerley Tng, "[PATCH RFC v3 09/43] KVM: guest_memfd: Add support for
 * KVM_SET_MEMORY_ATTRIBUTES2" (2026-03-13) and its content-modes patches, as summarised in
 * reference guest-memfd.md §3.7. _IOWR(KVMIO=0xAE, 0xd2, struct kvm_memory_attributes2): the same
 * number as KVM_SET_MEMORY_ATTRIBUTES, told apart by direction and size. Valid on a gmem fd.
 */
#define KVM_CAP_MEMORY_ATTRIBUTES2 248
#define KVM_CAP_GUEST_MEMFD_MEMORY_ATTRIBUTES 249
#define KVM_SET_MEMORY_ATTRIBUTES2_NR 0xd2
#define KVM_SET_MEMORY_ATTRIBUTES2_MODE_UNSPECIFIED 0ull
#define KVM_SET_MEMORY_ATTRIBUTES2_MODE_ZERO (1ull << 0)
#define KVM_SET_MEMORY_ATTRIBUTES2_MODE_PRESERVE (1ull << 1)

struct kvm_memory_attributes2 {
	union {
		u64 address; /* on a VM fd */
		u64 offset;  /* on a guest_memfd fd */
	};
	u64 size;
	u64 attributes;
	u64 flags;
	u64 error_offset; /* out: the first offset that could not be converted */
	u64 reserved[11];
};

/*
 * A second struct kvm on the same gmem inode: Ryan Afranji, "[RFC PATCH v2] KVM: guest_memfd:
 * Add ioctl KVM_LINK_GUEST_MEMFD" (2025-05-16, cover.1747368092.git.afranji@google.com):
 * _IOWR(KVMIO, 0xd6, struct kvm_link_guest_memfd). Ackerley Tng's 2023 RFC used 0xd5.
 */
#define KVM_LINK_GUEST_MEMFD_NR 0xd6

struct kvm_link_guest_memfd {
	u64 fd;
	u64 flags;
	u64 reserved[6];
};

#endif
