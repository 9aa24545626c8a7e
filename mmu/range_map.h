/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A map from u64 indices to u64 values kept as maximal runs, for per-gfn and per-file-index
 * state over large ranges: kvm->mem_attr_array (an xarray of gfn -> attributes in the kernel)
 * and a gmem inode's shareability (a maple tree in RFC v2/v3). Runs are held sorted by start in
 * an array, adjacent equal runs merged, so iteration order is the index order: deterministic.
 * Indices not in any run have the map's default value.
 */
#ifndef KVMSIM_MMU_RANGE_MAP_H
#define KVMSIM_MMU_RANGE_MAP_H

#include <glib.h>

#include "mmu/types.h"

typedef struct KvmRangeMap KvmRangeMap;

KvmRangeMap *kvm_range_map_new(u64 dflt);
void kvm_range_map_free(KvmRangeMap *map);
u64 kvm_range_map_get(const KvmRangeMap *map, u64 index);
/* Set [start, end) to value. */
void kvm_range_map_set(KvmRangeMap *map, u64 start, u64 end, u64 value);
/* The first index in [start, end) whose value is not value, or end. */
u64 kvm_range_map_find_not(const KvmRangeMap *map, u64 start, u64 end, u64 value);
/* How many indices in [start, end) have a value other than value. */
u64 kvm_range_map_count_not(const KvmRangeMap *map, u64 start, u64 end, u64 value);
/* Call fn on each maximal run of equal values clipped to [start, end), in index order. */
typedef void (*KvmRangeFunc)(u64 start, u64 end, u64 value, gpointer data);
void kvm_range_map_foreach(const KvmRangeMap *map, u64 start, u64 end, KvmRangeFunc fn,
			   gpointer data);

#endif
