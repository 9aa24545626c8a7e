/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The host kernel acting on the VMM's guest memory at seeded-random points of a run: the
 * "notifier" actor that migrates, drops (MADV_DONTNEED) and ages pages, as compaction, balloon
 * drivers and reclaim would. Every operation fires the MMU notifiers the kernel fires. On a VM
 * with private memory it also punches holes in the guest_memfd and converts pages between
 * shared and private behind the guest's back, as a VMM's other threads (a balloon, a device
 * model) may: those two go through the VMM (SimHostGmemOps), which owns the guest_memfd.
 */
#ifndef KVMSIM_SIM_CORE_HOST_EVENTS_H
#define KVMSIM_SIM_CORE_HOST_EVENTS_H

#include <glib.h>

#include "sim/core/mm.h"

typedef enum {
	SIM_HOST_MIGRATE,
	SIM_HOST_DONTNEED,
	SIM_HOST_AGE,
	SIM_HOST_PUNCH,    /* fallocate(PUNCH_HOLE) of one page of the guest_memfd */
	SIM_HOST_CONVERT,  /* one page converted to the other state, as the VMM converts */
	SIM_HOST_DIRTYLOG, /* the VMM's dirty-log call: logging on for the data region, then GETs */
	SIM_HOST_NR_KINDS,
} SimHostEventKind;

/* How many events of each kind; parsed from "migrate=500,dontneed=10". */
typedef struct {
	guint count[SIM_HOST_NR_KINDS];
} SimHostEventCounts;

const char *sim_host_event_name(SimHostEventKind kind);
/* Whether kind acts on the guest_memfd (through SimHostGmemOps) rather than on the mm. */
gboolean sim_host_event_is_gmem(SimHostEventKind kind);
/* Parse "KIND=COUNT[,KIND=COUNT...]"; a kind may appear once. */
gboolean sim_host_events_parse(const char *spec, SimHostEventCounts *out, GError **error);
guint sim_host_events_total(const SimHostEventCounts *counts);

typedef struct SimHostEvents SimHostEvents;

/* One mapping of the VMM's guest memory that host events act on. */
typedef struct {
	guint64 hva;        /* any address inside the mapping (sim_mm_mmap_anon()) */
	gboolean droppable; /* dontneed may drop its pages: the guest accepts zeros there */
} SimHostEventTarget;

/* One event as it happened: the actor slept until step at, then acted on hva (0: no page to act
 * on, or the guest had ended meanwhile). For the guest_memfd kinds hva is the guest-physical
 * address of the page and to_private what a conversion made of it. Replaying sleep-then-act
 * with these values reproduces the run. */
typedef struct {
	SimHostEventKind kind;
	guint64 hva;
	guint64 size;
	guint64 at;
	gboolean to_private;
	guint op;           /* dirtylog: the VMM's call (SimVmmDirtyOp); hva 1 once made */
} SimHostEvent;

/* The VMM's side of dirtylog: make the call now, saying in event->op which it was. */
typedef struct {
	int (*perform)(gpointer data, SimHostEvent *event);
} SimHostDirtyLogOps;

/* The VMM's side of the guest_memfd kinds. */
typedef struct {
	/* The gpa of a page the kind may act on, picked with rng (every call draws the same
	 * numbers from it, found or not), and for a conversion its target state; 0: none. */
	guint64 (*pick)(gpointer data, SimHostEventKind kind, GRand *rng, gboolean *to_private);
	/* Perform the event now; a negative errno if it failed (a conversion refused). */
	int (*perform)(gpointer data, const SimHostEvent *event);
} SimHostGmemOps;

/*
 * Events on the pages of the target mappings, each on a page picked uniformly among those that
 * hold a frame of their own at that moment (sim_mm_nr_resident()); dontneed only on droppable
 * targets. Between two events the actor sleeps a seeded-random number of logical steps with mean
 * mean_interval. Once guest_done(data) holds, the actor stops: events after the guest has ended
 * would race nothing.
 */
SimHostEvents *sim_host_events_new(SimMm *mm, guint64 seed, const SimHostEventCounts *counts,
				   const SimHostEventTarget *targets, guint nr_targets,
				   guint64 mean_interval, SimWaitFn guest_done, gpointer data);
/* Where the guest_memfd kinds go (without it they are skipped, as dontneed without a
 * droppable target); gmem_data is handed to the ops. */
void sim_host_events_set_gmem(SimHostEvents *events, const SimHostGmemOps *ops,
			      gpointer gmem_data);
/* Where dirtylog goes (without it, it is skipped). */
void sim_host_events_set_dirty_log(SimHostEvents *events, const SimHostDirtyLogOps *ops,
				   gpointer data);
void sim_host_events_free(SimHostEvents *events);
SimActor *sim_host_events_start(SimHostEvents *events, SimSched *sched);

const SimHostEvent *sim_host_events_done(const SimHostEvents *events, guint *out_n);
/* Perform one event of an mm kind now (after the sleep), as the notifier actor does. */
int sim_host_event_perform(SimMm *mm, const SimHostEvent *event);

#endif
