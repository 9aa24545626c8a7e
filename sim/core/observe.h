/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Observers: a report (the timeline) watches a run without changing it. The scheduler tells it
 * each yield point and each rwlock attempt, acquisition and release, and the event log each line
 * it formats. Nothing the model decides depends on whether an observer is attached: the hooks
 * only read, and the log formats its lines the same whether a file, a hash or an observer takes
 * them.
 */
#ifndef KVMSIM_SIM_CORE_OBSERVE_H
#define KVMSIM_SIM_CORE_OBSERVE_H

#include <glib.h>

#include "sim/core/sched.h"

typedef enum {
	SIM_LOCK_ATTEMPT,  /* the acquire's yield point has passed; it may block now */
	SIM_LOCK_ACQUIRED,
	SIM_LOCK_RELEASED,
} SimLockOp;

typedef struct {
	/* actor reached point; step is the logical clock after it */
	void (*yield)(gpointer data, guint64 step, const char *actor, const char *point);
	/* a rwlock (read or write) operation of actor */
	void (*lock)(gpointer data, guint64 step, const char *actor, const char *lock,
		     gboolean write, SimLockOp op);
	/* a log line: event and its fields (body, not NUL-terminated: len bytes) */
	void (*event)(gpointer data, guint64 step, const char *actor, const char *event,
		      const char *body, gsize len);
} SimObserver;

/* Attach (or with NULL detach) the observer of sched's yield points and locks. */
void sim_sched_set_observer(SimSched *sched, const SimObserver *obs, gpointer data);
/* Called by lock.c. */
void sim_sched_observe_lock(SimSched *sched, const char *lock, gboolean write, SimLockOp op);
/* Pass every line of log to the observer of its scheduler (switching the log on). */
void sim_log_observe(SimLog *log);

#endif
