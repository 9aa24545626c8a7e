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

#include <stdarg.h>

#define IMPORT_MAX_VCPUS 64
#define IMPORT_HVA_BASE 0x7f0000000000ull
#define IMPORT_SLOT_ALIGN 512ull              /* gfns: 2 MiB */
#define IMPORT_MAX_SLOTS_BYTES (2ull << 30)   /* what an exit-level trace may hold */
#define SPTE_MMU_PRESENT (1ull << 11)
#define SPTE_WRITABLE (1ull << 1)
#define SPTE_LARGE (1ull << 7)
#define SPTE_PFN(s) (((s) >> 12) & ((1ull << 40) - 1))

typedef enum { EXIT_NONE, EXIT_EPT, EXIT_HLT, EXIT_IO, EXIT_HC } ExitKind;

/* An exit opened by kvm_exit, filled by the lines after it. */
typedef struct {
	ExitKind kind;
	guint order;        /* record index of its kvm_exit */
	guint line;
	guint64 info1;
	gboolean have_info1;
	gboolean filled;    /* the line that completes it came */
	TraceEvent ev;
} Pending;

/* One imported event and where it goes in the schedule. */
typedef struct {
	guint order;
	guint line;
	TraceEvent ev;
} Imported;

/* The leaf SPTE a gfn has at this point of the capture. */
typedef struct {
	gboolean present;
	gboolean writable;
	int level;
	guint64 pfn;
	/* what the host did to the page is not in the capture: a notifier invalidation covered
	 * it after it was mapped, or a read fault found it already populated (mapped writable) */
	gboolean host_unknown;
	gboolean read_first;   /* its first fault in the capture was a read or a fetch */
} Leaf;

typedef struct {
	const char *path;
	ImportReport *rep;
	GHashTable *pid_vcpu;     /* pid -> vcpu + 1 */
	guint nr_vcpus;
	gboolean svm;
	Pending pending[IMPORT_MAX_VCPUS];
	GArray *imported;         /* Imported */
	GHashTable *leaves;       /* gfn -> Leaf * */
	GHashTable *gfn_pfns;     /* gfn -> GArray of distinct pfns, in order */
	GHashTable *pfn_ro_gfns;  /* pfn -> GHashTable of gfns mapping it read-only */
	GArray *gfns;             /* every gfn the capture names */
	GHashTable *read_first;   /* gfns whose first fault in the capture was a read */
	GArray *slots;            /* TraceMemslot */
	gboolean slots_given;     /* --memslot: the capture's own memslot lines are not used */
	GArray *unmaps;           /* Imported: kvm_unmap_hva_range, before the memslots are known */
} Importer;

/* A line (record) of the capture kvmsim does not model, with the reason. */
void import_note(Importer *im, const ImportRecord *r, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Sort the notes by line. */
void import_sort_notes(ImportReport *report);
/* Memslots from the gfns seen; FALSE if they would not fit an exit-level trace. */
gboolean import_infer_memslots(Importer *im, GError **error);
/* kvm_unmap_hva_range as start and end events, where a memslot maps the range. */
void import_place_unmaps(Importer *im);
/* The events in capture order, without those an exit-level trace cannot take. */
GArray *import_final_events(Importer *im);
/* The steps that repeat the capture's order. */
void import_make_schedule(Trace *trace, GArray *events);
/* <spte> expectations from the leaves, and <invariants hold="true"/>. */
void import_make_expectations(Importer *im, Trace *trace);

/* The records of a text capture (report or raw tracefs); counts elisions and joins in report. */
GPtrArray *import_read_text(const char *path, ImportReport *report, GError **error);
/* The records of a trace.dat, bodies printed by libtraceevent from the file's print formats. */
GPtrArray *import_read_dat(const char *path, ImportReport *report, GError **error);
/* Whether path starts with the trace.dat magic. */
gboolean import_is_trace_dat(const char *path);

#endif
