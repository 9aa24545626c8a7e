/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Walking the TDP MMU's tables for a picture of them (kvmsim show tree): every root, valid or
 * invalid, and the tables already unlinked but not freed yet - being torn down (their entries
 * frozen) or waiting for an RCU grace period. Reads only, through the SPTE accessors, so values
 * are the kernel's.
 */
#ifndef KVMSIM_MMU_DUMP_H
#define KVMSIM_MMU_DUMP_H

#include "mmu/mmu.h"

typedef enum {
	KVM_DUMP_ROOT,     /* in kvm->tdp_mmu_roots */
	KVM_DUMP_REMOVING, /* unlinked, its entries being frozen (handle_removed_pt()) */
	KVM_DUMP_RCU,      /* unlinked, waiting for call_rcu() to free it */
} KvmDumpKind;

/* A table: where it sits and what it covers. */
typedef struct {
	KvmDumpKind kind;
	u64 pa;           /* host-physical address of the table */
	int level;        /* of its entries */
	gfn_t gfn;        /* first gfn it covers */
	gboolean invalid; /* a root's role.invalid */
	int root_count;   /* a root's references */
	int depth;        /* 0 for a root or an unlinked table, +1 per level below */
} KvmDumpTable;

/* An entry that is not SHADOW_NONPRESENT_VALUE (entries holding it are skipped). */
typedef struct {
	int index;        /* in its table, 0-511 */
	int level;
	gfn_t gfn;        /* first gfn it maps */
	u64 spte;         /* the kernel value */
	int depth;        /* of its table */
} KvmDumpEntry;

typedef struct {
	void (*table)(const KvmDumpTable *table, gpointer data);
	/* called for each entry after its table; a present non-leaf entry's child table follows */
	void (*entry)(const KvmDumpEntry *entry, gpointer data);
} KvmDumpOps;

/* Visit every root in order, then every unlinked table not freed yet, depth first. */
void kvm_tdp_mmu_dump(struct kvm *kvm, const KvmDumpOps *ops, gpointer data);

#endif
