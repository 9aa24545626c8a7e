/* SPDX-License-Identifier: GPL-2.0-only */
/* The importer's readers (text, trace.dat) and what they hand to the trace builder. */
#ifndef KVMSIM_SIM_TRACE_IMPORT_INTERNAL_H
#define KVMSIM_SIM_TRACE_IMPORT_INTERNAL_H

#include "sim/trace/import.h"

/* One event of the capture. */
typedef struct {
	guint line;      /* of the text (its first line, if it was wrapped); trace.dat: record */
	gchar *comm;
	gint pid;
	guint cpu;
	guint64 ts_ns;
	gchar *system;   /* trace.dat: the event's system; text: NULL (told by the name) */
	gchar *event;
	gchar *body;
} ImportRecord;

void import_record_free(gpointer p);

/* The records of a text capture (report or raw tracefs); counts elisions and joins in report. */
GPtrArray *import_read_text(const char *path, ImportReport *report, GError **error);
/* The records of a trace.dat, bodies printed by libtraceevent from the file's print formats. */
GPtrArray *import_read_dat(const char *path, ImportReport *report, GError **error);
/* Whether path starts with the trace.dat magic. */
gboolean import_is_trace_dat(const char *path);

#endif
