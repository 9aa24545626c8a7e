/* SPDX-License-Identifier: GPL-2.0-only */
/* What the timeline's files share: the event store and tracks (timeline.c), the rules that turn
 * what the run does into events (timeline-rules.c). */
#ifndef KVMSIM_SIM_REPORT_TIMELINE_INTERNAL_H
#define KVMSIM_SIM_REPORT_TIMELINE_INTERNAL_H

#include <json-glib/json-glib.h>

#include "sim/core/observe.h"
#include "sim/report/timeline.h"

/* One trace event, kept until the file is written (a slice is renamed when it closes). */
typedef struct {
	char ph;          /* B E i C b e s f */
	gboolean dropped; /* a B that turned out empty (an uncontended lock wait) */
	guint tid;
	guint64 ts;
	guint64 id;       /* b/e and s/f */
	gchar *name;
	const char *cat;  /* static */
	char scope;       /* of an instant: t (thread) or g (global) */
	JsonObject *args; /* may be NULL */
} TlEvent;

/* An open slice: its B event and the key that closes it. */
typedef struct {
	guint b_index;
	const char *key;  /* static */
} TlOpen;

/* An open mmu_invalidate window of one actor. */
typedef struct {
	guint64 id;
	guint64 ts;
	guint tid;
	guint b_index;
} TlWindow;

/* One actor. */
typedef struct {
	gchar *name;
	guint tid;
	GArray *stack;    /* TlOpen */
	GArray *windows;  /* TlWindow, oldest first */
	guint64 attempt_ts; /* of the mmu_lock acquire in progress */
	gboolean stale_open; /* a vCPU's stale-TLB window is open (sim_stale_tlb_enter) */
	guint stale_b;      /* its b event */
} TlTrack;

/* Where an invalidation moved the seq: the source of the retry flows it causes. */
typedef struct {
	guint64 seq;
	guint tid;
	guint64 ts;
} TlSeqEnd;

struct SimTimeline {
	SimSched *sched;
	gchar *title;
	GArray *events;      /* TlEvent */
	GPtrArray *tracks;   /* TlTrack *, tid order (first appearance) */
	GHashTable *by_name; /* actor name -> TlTrack * (lookup only) */
	GArray *seq_ends;    /* TlSeqEnd, seq order */
	guint64 lines;       /* log lines seen */
	guint64 last_ts;
	guint64 next_id;
};

/* The clock for an event at step. */
guint64 tl_now(SimTimeline *tl, guint64 step);
TlTrack *tl_track(SimTimeline *tl, const char *actor);
/* Append an event (name taken); its index. */
guint tl_add(SimTimeline *tl, char ph, const TlTrack *track, guint64 ts, gchar *name,
	     const char *cat, JsonObject *args);
/* Open a slice closed by key. */
void tl_open(SimTimeline *tl, TlTrack *track, guint64 ts, const char *key, gchar *name,
	     JsonObject *args);
/* Close the track's open stale-TLB window at ts (timeline-rules.c). */
void tl_stale_window_end(SimTimeline *tl, TlTrack *t, guint64 ts);
/* Close the innermost open slice with key, and what is open inside it; FALSE if none. */
gboolean tl_close(SimTimeline *tl, TlTrack *track, guint64 ts, const char *key);
/* The innermost open slice with key, or NULL. */
TlEvent *tl_find_open(SimTimeline *tl, TlTrack *track, const char *key);
/* Is the innermost open slice one with key? */
gboolean tl_top_is(const TlTrack *track, const char *key);

/* The observer that feeds a timeline (timeline-rules.c). */
extern const SimObserver tl_observer;

#endif
