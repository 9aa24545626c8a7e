/* SPDX-License-Identifier: GPL-2.0-only */
/* A u64 -> u64 run map (see range_map.h). */
#include "mmu/range_map.h"

typedef struct {
	u64 start;
	u64 end; /* exclusive */
	u64 value;
} Run;

struct KvmRangeMap {
	u64 dflt;
	GArray *runs; /* Run, sorted by start, disjoint, no two adjacent runs with equal values */
};

/* An empty map: every index has the default. */
KvmRangeMap *
kvm_range_map_new(u64 dflt)
{
	KvmRangeMap *map = g_new0(KvmRangeMap, 1);

	map->dflt = dflt;
	map->runs = g_array_new(FALSE, FALSE, sizeof(Run));
	return map;
}

/* Free the map (NULL is fine). */
void
kvm_range_map_free(KvmRangeMap *map)
{
	if (!map)
		return;
	g_array_free(map->runs, TRUE);
	g_free(map);
}

/* The i-th run. */
static Run *
run_at(const KvmRangeMap *map, guint i)
{
	return &g_array_index(map->runs, Run, i);
}

/* The first run whose end is above index (it may start after index). */
static guint
first_run_ending_after(const KvmRangeMap *map, u64 index)
{
	guint lo = 0, hi = map->runs->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (run_at(map, mid)->end <= index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The value of one index. */
u64
kvm_range_map_get(const KvmRangeMap *map, u64 index)
{
	guint i = first_run_ending_after(map, index);

	if (i < map->runs->len && run_at(map, i)->start <= index)
		return run_at(map, i)->value;
	return map->dflt;
}

/* Merge run i with its neighbours when they touch and hold the same value. */
static void
merge_around(KvmRangeMap *map, guint i)
{
	if (i + 1 < map->runs->len && run_at(map, i)->end == run_at(map, i + 1)->start &&
	    run_at(map, i)->value == run_at(map, i + 1)->value) {
		run_at(map, i)->end = run_at(map, i + 1)->end;
		g_array_remove_index(map->runs, i + 1);
	}
	if (i > 0 && run_at(map, i - 1)->end == run_at(map, i)->start &&
	    run_at(map, i - 1)->value == run_at(map, i)->value) {
		run_at(map, i - 1)->end = run_at(map, i)->end;
		g_array_remove_index(map->runs, i);
	}
}

/* Cut the runs that overlap [start, end), then insert the new one unless it is the default,
 * merging it with equal neighbours. */
void
kvm_range_map_set(KvmRangeMap *map, u64 start, u64 end, u64 value)
{
	if (start >= end)
		return;
	guint i = first_run_ending_after(map, start);

	/* keep the part of a run that begins before start */
	if (i < map->runs->len && run_at(map, i)->start < start) {
		Run head = *run_at(map, i);

		head.end = start;
		run_at(map, i)->start = start;
		g_array_insert_val(map->runs, i, head);
		i++;
	}
	/* drop the runs inside [start, end), keep the part of the last one beyond end */
	while (i < map->runs->len && run_at(map, i)->start < end) {
		if (run_at(map, i)->end > end) {
			run_at(map, i)->start = end;
			break;
		}
		g_array_remove_index(map->runs, i);
	}
	if (value == map->dflt)
		return;
	Run run = { start, end, value };

	g_array_insert_val(map->runs, i, run);
	merge_around(map, i);
}

/* Walk runs and the default-valued gaps between them from start. */
u64
kvm_range_map_find_not(const KvmRangeMap *map, u64 start, u64 end, u64 value)
{
	u64 at = start;

	for (guint i = first_run_ending_after(map, start); at < end; i++) {
		gboolean more = i < map->runs->len;
		const Run *run = more ? run_at(map, i) : NULL;
		u64 gap_end = more ? MIN(run->start, end) : end;

		/* a gap before the next run holds the default */
		if (at < gap_end) {
			if (map->dflt != value)
				return at;
			at = gap_end;
		}
		if (!more || at >= end)
			break;
		if (run->value != value)
			return MAX(at, run->start);
		at = MAX(at, run->end);
	}
	return end;
}

/* Gaps are reported as runs of the default. */
void
kvm_range_map_foreach(const KvmRangeMap *map, u64 start, u64 end, KvmRangeFunc fn,
		      gpointer data)
{
	u64 at = start;

	for (guint i = first_run_ending_after(map, start); at < end; i++) {
		gboolean more = i < map->runs->len;
		const Run *run = more ? run_at(map, i) : NULL;
		u64 gap_end = more ? MIN(run->start, end) : end;

		if (at < gap_end) {
			fn(at, gap_end, map->dflt, data);
			at = gap_end;
		}
		if (!more || at >= end)
			break;
		u64 run_end = MIN(run->end, end);

		fn(MAX(at, run->start), run_end, run->value, data);
		at = run_end;
	}
}
