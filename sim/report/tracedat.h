/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A run as a trace-cmd trace.dat (file format version 6, `man 5 trace-cmd.dat.v6` in Debian's
 * trace-cmd), for `trace-cmd report` and KernelShark: one trace "CPU" per actor (the actor's
 * number in the log, sim_log_set_tap()), the logical step as the timestamp in microseconds.
 * kvm and kvmmmu events carry the kernel's system, event and field names and print formats
 * (tracedat-events.c: kvmsim's own table, checked against a running kernel's tracefs by
 * tests/import); every other line of the log is an event of the `kvmsim` system with the body as
 * one string field.
 */
#ifndef KVMSIM_SIM_REPORT_TRACEDAT_H
#define KVMSIM_SIM_REPORT_TRACEDAT_H

#include <glib.h>

#include "sim/core/log.h"

typedef struct SimTraceDat SimTraceDat;

SimTraceDat *sim_tracedat_new(void);
void sim_tracedat_free(SimTraceDat *td);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimTraceDat, sim_tracedat_free)

/* Record every line log emits from now on (the log's tap: one SimTraceDat per log). */
void sim_tracedat_attach(SimTraceDat *td, SimLog *log);
/* The tap itself, for a caller that shares the log's tap (data is the SimTraceDat). */
void sim_tracedat_tap(gpointer data, guint64 step, const char *actor, guint actor_nr,
		      const char *event, const char *body);
/* Write what was recorded to path, atomically (sim/core/outfile.h). */
gboolean sim_tracedat_write(SimTraceDat *td, const char *path, GError **error);

/* The format file (as tracefs shows events/SYSTEM/EVENT/format) kvmsim writes for a kvm or
 * kvmmmu event, with id; NULL if kvmsim has no row for it. *system is set to its system. */
gchar *sim_tracedat_format_text(const char *event, guint id, const char **system);
/* The kvm and kvmmmu events kvmsim's table has, NULL-terminated. */
const char *const *sim_tracedat_kernel_events(void);

#endif
