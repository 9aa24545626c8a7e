/* SPDX-License-Identifier: GPL-2.0-only */
/* The trace.dat writer's event table (tracedat-events.c), shared with the file writer. */
#ifndef KVMSIM_SIM_REPORT_TRACEDAT_INTERNAL_H
#define KVMSIM_SIM_REPORT_TRACEDAT_INTERNAL_H

#include <glib.h>

/* Every event record starts with these (struct trace_entry). */
#define TD_COMMON_SIZE 8

typedef struct {
	const char *type;   /* the C declaration's type, as the kernel's format shows it */
	const char *name;   /* with [N] for arrays */
	guint offset;
	guint size;
	gboolean is_signed;
} TdField;

typedef struct {
	const char *system;
	const char *name;
	guint size;             /* bytes of the record, common fields included */
	TdField fields[10];
	const char *print_fmt;  /* NULL: built by print_fmt_fn */
	gchar *(*print_fmt_fn)(void);
	/* Fill the record's own fields from kvmsim's body of the line; FALSE if it does not parse
	 * (a kvmsim line off its format: a bug the writer reports). */
	gboolean (*encode)(const char *body, guint8 *rec);
} TdEvent;

const TdEvent *td_event_lookup(const char *name);
/* The print fmt line's text (after "print fmt: "). */
gchar *td_event_print_fmt(const TdEvent *ev);

#endif
