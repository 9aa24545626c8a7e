/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host kernel acting on the VMM's guest memory at seeded-random points of a run: the
 * "notifier" actor that migrates, drops (MADV_DONTNEED) and ages pages, as compaction, balloon
 * drivers and reclaim would. Every operation fires the MMU notifiers the kernel fires.
 */
#ifndef KVMSIM_SIM_CORE_HOST_EVENTS_H
#define KVMSIM_SIM_CORE_HOST_EVENTS_H

#include <glib.h>

#include "sim/core/mm.h"

typedef enum {
	SIM_HOST_MIGRATE,
	SIM_HOST_DONTNEED,
	SIM_HOST_AGE,
	SIM_HOST_NR_KINDS,
} SimHostEventKind;

/* How many events of each kind; parsed from "migrate=500,dontneed=10". */
typedef struct {
	guint count[SIM_HOST_NR_KINDS];
} SimHostEventCounts;

const char *sim_host_event_name(SimHostEventKind kind);
/* Parse "KIND=COUNT[,KIND=COUNT...]"; a kind may appear once. */
gboolean sim_host_events_parse(const char *spec, SimHostEventCounts *out, GError **error);
guint sim_host_events_total(const SimHostEventCounts *counts);

typedef struct SimHostEvents SimHostEvents;

/*
 * Events over the pages of [hva, hva + size); dontneed only on [drop_hva, drop_hva + drop_size)
 * (memory the guest treats as droppable). Between two events the actor sleeps a seeded-random
 * number of logical steps with mean mean_interval.
 */
SimHostEvents *sim_host_events_new(SimMm *mm, guint64 seed, const SimHostEventCounts *counts,
				   guint64 hva, guint64 size, guint64 drop_hva, guint64 drop_size,
				   guint64 mean_interval);
void sim_host_events_free(SimHostEvents *events);
SimActor *sim_host_events_start(SimHostEvents *events, SimSched *sched);

/* One event as it happened: the actor slept until step at, then acted on hva (0: no page to act
 * on). Replaying sleep-then-act with these values reproduces the run. */
typedef struct {
	SimHostEventKind kind;
	guint64 hva;
	guint64 size;
	guint64 at;
} SimHostEvent;

const SimHostEvent *sim_host_events_done(const SimHostEvents *events, guint *out_n);
/* Perform one event now (after the sleep), as the notifier actor does. */
int sim_host_event_perform(SimMm *mm, const SimHostEvent *event);

#endif
