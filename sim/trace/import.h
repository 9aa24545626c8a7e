/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `kvmsim import`: a capture of the kernel's kvm/kvmmmu tracepoints (a trace-cmd trace.dat, the
 * text of `trace-cmd report`, or the raw text of tracefs's `trace` file, as pasted into bug
 * reports) made into an exit-level kvmsim trace: the vCPUs and their exits, the notifier's
 * invalidations, the schedule in the capture's order, and the SPTE state the capture ends with
 * as expectations. docs/import.md describes what is read and what is reported as not modelled.
 */
#ifndef KVMSIM_SIM_TRACE_IMPORT_H
#define KVMSIM_SIM_TRACE_IMPORT_H

#include <glib.h>
#include <stdio.h>

#include "sim/trace/replay.h"
#include "sim/trace/trace.h"

typedef struct {
	guint64 gpa;
	guint64 size;
	guint64 hva;
} ImportMemslot;

typedef struct {
	GArray *memslots;   /* ImportMemslot (--memslot); empty or NULL: from the capture */
} ImportOptions;

/* A line (or trace.dat record) of the capture that kvmsim does not model. */
typedef struct {
	guint line;
	gchar *event;
	gchar *reason;      /* what notes are counted by */
	gchar *detail;      /* this line's particulars, or NULL */
} ImportNote;

typedef struct {
	GArray *notes;      /* ImportNote, in capture order */
	GPtrArray *invalidated; /* "LINE: hva A-B: memslot N gfn G-H" per imported invalidation */
	guint records;      /* events read */
	guint kvm_records;  /* of them kvm, kvmmmu or kvmsim events */
	guint other;        /* other events (sched_switch, ...): skipped */
	guint elisions;     /* elision markers skipped (text) */
	guint joined;       /* soft-wrapped lines joined to the line before (text) */
	guint exits;        /* exits imported */
	guint invalidations;/* notifier invalidations imported */
	guint ages;         /* aging (clear_young) imported */
	guint sptes;        /* SPTE expectations written */
	gboolean trace_dat; /* the capture was a trace.dat: "lines" are record numbers */
} ImportReport;

void import_report_clear(ImportReport *report);

/* "GPA,SIZE,HVA" (numbers, SIZE may end in K, M or G); FALSE with a message otherwise. */
gboolean import_memslot_parse(const char *text, ImportMemslot *out, GError **error);

/* Read path (trace.dat or text, told apart by the trace.dat magic) and build the trace. An error
 * reads "PATH:LINE: reason" (or "PATH: reason"); nothing kvm in the capture is one. */
Trace *trace_import(const char *path, const ImportOptions *options, ImportReport *report,
		    GError **error);

/*
 * Replay trace (imported from capture with report) and hold its log against the capture: each
 * line that differs to out as "CAPTURE:LINE: event: different: body", then a table per event
 * of same, different, not modelled and only-in-kvmsim lines; the replay's expectation lines go
 * to expectations. FALSE with an error if the capture cannot be read again or the replay does
 * not run to its end.
 */
gboolean import_explain(const char *capture, const ImportReport *report, Trace *trace,
			FILE *expectations, FILE *out, TraceReplayReport *rr, guint *different,
			GError **error);

#endif
