/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event log: kvmsim's product. One line per event, in the order events happen, stamped with
 * the logical step and the actor that caused it, laid out like `trace-cmd report`:
 *
 *      1234 vcpu0     kvm_page_fault: vcpu 0 rip 0x100042 address 0x0000000000401000 ...
 *
 * Event names follow the kvm/kvmmmu tracepoints where one exists, `sim_` otherwise. Nothing in
 * the log depends on pointers, wall time or hash order. Formatting is skipped entirely when no
 * sink is attached, so turning the log on never changes what the model does.
 */
#ifndef KVMSIM_SIM_CORE_LOG_H
#define KVMSIM_SIM_CORE_LOG_H

#include <glib.h>

#include "sim/core/sched.h"

/* The public head of SimLog: lets sim_log_on() be inline. */
typedef struct {
	gboolean on;
} SimLogHead;

SimLog *sim_log_new(SimSched *sched);
void sim_log_free(SimLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimLog, sim_log_free)

/* Sinks; any combination. */
gboolean sim_log_open_file(SimLog *log, const char *path, GError **error);
void sim_log_capture(SimLog *log);
void sim_log_hash(SimLog *log);

/*
 * How lines are laid out. SIM_LOG_KVMSIM (the default) is "STEP ACTOR event: body". SIM_LOG_FTRACE
 * writes `trace-cmd report`'s prefix instead, "comm-pid [cpu] secs.usecs: event: body" (the
 * event name padded as report pads it), with the actor as comm, the actor's number (in order of
 * first appearance; docs/import.md) as cpu and pid-1, and the logical step as microseconds, so a
 * kvmsim log and a real capture line up in diff. The body is the same in both.
 */
typedef enum {
	SIM_LOG_KVMSIM,
	SIM_LOG_FTRACE,
} SimLogFormat;
/* "kvmsim" or "ftrace"; FALSE for anything else. */
gboolean sim_log_format_lookup(const char *name, SimLogFormat *out);
void sim_log_set_format(SimLog *log, SimLogFormat format);

/* A tap sees every line as its parts: the step, the actor, its number (as the ftrace cpu), the
 * event and the body (no newline). It turns the log on. One tap per log. */
typedef void (*SimLogTapFn)(gpointer data, guint64 step, const char *actor, guint actor_nr,
			    const char *event, const char *body);
void sim_log_set_tap(SimLog *log, SimLogTapFn fn, gpointer data);

/* Write the file into place (if any). */
gboolean sim_log_finish(SimLog *log, GError **error);
/* Drop a half-written file. */
void sim_log_abandon(SimLog *log);

/* Captured text so far ("" when not capturing). */
const char *sim_log_text(const SimLog *log);
/* Its length in bytes; forget it (capture goes on: what follows is captured from empty). */
gsize sim_log_text_len(const SimLog *log);
void sim_log_capture_drop(SimLog *log);
/* "sha256:<hex>" of every line so far; NULL unless hashing. */
gchar *sim_log_digest(const SimLog *log);
guint64 sim_log_lines(const SimLog *log);

static inline gboolean
sim_log_on(const SimLog *log)
{
	return log && ((const SimLogHead *)log)->on;
}

void sim_log_emitf(SimLog *log, const char *event, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#define sim_log_emit(log, event, ...)                                                              \
	do {                                                                                       \
		SimLog *log_ = (log);                                                              \
		if (sim_log_on(log_))                                                              \
			sim_log_emitf(log_, event, __VA_ARGS__);                                   \
	} while (0)

#endif
