/* SPDX-License-Identifier: GPL-2.0-only */
/* What the files of asi/ share: the host, its table pages and object frames. */
#ifndef KVMSIM_ASI_ASI_INTERNAL_H
#define KVMSIM_ASI_ASI_INTERNAL_H

#include "asi/asi.h"

/* Table pages live at host-physical ASI_PT_BASE + index * 4K; frames asi_alloc_pages() hands
 * out start at ASI_FRAME_BASE, above any sim/core frame a caller tracks (asi_track_frames). */
#define ASI_PT_BASE 0x2000000000ull
#define ASI_FRAME_BASE 0x40000000000ull

struct AsiHost {
	AsiConfig config;
	AsiOps ops;
	GPtrArray *pt_pages;     /* guint64[512] per table page, index = (pa - ASI_PT_BASE) / 4K */
	GArray *pt_free;         /* released table page indices, reused last-in first-out */
	GHashTable *frames;      /* pfn → AsiObjKind + 1 of each live object frame (lookups only) */
	guint64 next_pfn;        /* asi_alloc_pages()'s next frame */
	guint64 init_pgd;        /* init_mm's PGD: the kernel half every mm copies */
	guint64 nonsensitive_pgd;/* asi_global_nonsensitive_pgd */
	struct asi_taint_policy *policies[ASI_MAX_NUM_CLASSES];
	struct asi_taint_policy kvm_policy, user_policy;
	GPtrArray *mms;          /* struct asi_mm *, in creation order */
	guint16 next_asid;
	AsiCpu *cpus;
	AsiStats stats;
	GPtrArray *violations;
};

guint64 asi_pt_alloc(AsiHost *host);
void asi_pt_release(AsiHost *host, guint64 pa);
/* The leaf entry slot for va at 4K in the tables at pgd, creating tables when create. */
guint64 *asi_pt_lookup(AsiHost *host, guint64 pgd, guint64 va, gboolean create);
void asi_pt_free_user_half(AsiHost *host, guint64 pgd);
void asi_step(AsiCpu *cpu, AsiStepKind kind, const char *point, guint64 cr3, guint64 addr);
/* A kernel WARN/VM_BUG_ON as a named violation; returns cond. */
gboolean asi_warn(AsiHost *host, gboolean cond, const char *name);
void asi_tlb_flush_va(AsiCpu *cpu, guint64 va);
void asi_tlb_flush_pcid(AsiCpu *cpu, guint16 pcid);

#endif
