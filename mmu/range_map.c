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

/*
 * One step of a walk from at towards end: the end of the run of equal values at 'at' (clipped to
 * end) and, in *value, its value; a gap between runs holds the default. *i is the first run
 * ending after at, and is moved past the run returned.
 */
static u64
next_run(const KvmRangeMap *map, guint *i, u64 at, u64 end, u64 *value)
{
	if (*i >= map->runs->len) {
		*value = map->dflt;
		return end;
	}
	const Run *run = run_at(map, *i);

	if (at < run->start) {
		*value = map->dflt;
		return MIN(run->start, end);
	}
	(*i)++;
	*value = run->value;
	return MIN(run->end, end);
}

/* Walk runs and the default-valued gaps between them from start. */
u64
kvm_range_map_find_not(const KvmRangeMap *map, u64 start, u64 end, u64 value)
{
	guint i = first_run_ending_after(map, start);

	for (u64 at = start, run_end, run_value; at < end; at = run_end) {
		run_end = next_run(map, &i, at, end, &run_value);
		if (run_value != value)
			return at;
	}
	return end;
}

/* The same walk, adding up the runs whose value differs. */
u64
kvm_range_map_count_not(const KvmRangeMap *map, u64 start, u64 end, u64 value)
{
	guint i = first_run_ending_after(map, start);
	u64 count = 0;

	for (u64 at = start, run_end, run_value; at < end; at = run_end) {
		run_end = next_run(map, &i, at, end, &run_value);
		if (run_value != value)
			count += run_end - at;
	}
	return count;
}

/* Gaps are reported as runs of the default. */
void
kvm_range_map_foreach(const KvmRangeMap *map, u64 start, u64 end, KvmRangeFunc fn,
		      gpointer data)
{
	guint i = first_run_ending_after(map, start);

	for (u64 at = start, run_end, run_value; at < end; at = run_end) {
		run_end = next_run(map, &i, at, end, &run_value);
		fn(at, run_end, run_value, data);
	}
}
