/* SPDX-License-Identifier: GPL-2.0-only */
/* What the trace reader's files share: its state, the attribute readers (reader-attrs.c) and the
 * element readers of reader-vm.c and reader-gmem.c. */
#ifndef KVMSIM_SIM_TRACE_READER_INTERNAL_H
#define KVMSIM_SIM_TRACE_READER_INTERNAL_H

#include <libxml/tree.h>

#include "sim/trace/trace-internal.h"

#define NAME(node) ((const char *)(node)->name)
#define NR_PARAMS G_N_ELEMENTS(((Trace *)NULL)->params)

typedef struct {
	const char *path;
	Trace *trace;
	GError **error;
	xmlNode *vm;                       /* the <vm> element */
	gboolean param_given[NR_PARAMS];
} Reader;

/* A semantic error at the line of node; FALSE. */
gboolean reader_fail(Reader *r, xmlNode *node, const char *format, ...) G_GNUC_PRINTF(3, 4);
/* Attribute name of node as written, or as a token (surrounding white space dropped); g_free
 * it; NULL if absent. */
gchar *reader_attr_text(xmlNode *node, const char *name);
gchar *reader_attr(xmlNode *node, const char *name);
/* An error about attribute name of node: "<node> name="value" <what>"; FALSE. */
gboolean reader_fail_attr(Reader *r, xmlNode *node, const char *name, const char *format, ...)
	G_GNUC_PRINTF(4, 5);
/* A number as the schema writes it (decimal, 0x-hex, a decimal size with K, M or G). */
gboolean reader_parse_number(const char *text, guint64 *out);
/* Attribute name as a number below 2^bits, a size (a non-zero multiple of a page), a page
 * address; def (or 0) when absent. */
gboolean reader_get_number(Reader *r, xmlNode *node, const char *name, guint bits, guint64 def,
			   guint64 *out);
gboolean reader_get_size(Reader *r, xmlNode *node, const char *name, guint64 def,
			 guint64 *out);
gboolean reader_get_page_address(Reader *r, xmlNode *node, const char *name, guint64 *out);
/* [start, start + size) must not wrap. */
gboolean reader_check_range_end(Reader *r, xmlNode *node, const char *name, guint64 start,
				guint64 size);
guint reader_index_of(const char *const *names, guint n, const char *name);
#define INDEX_OF(names, name) reader_index_of(names, G_N_ELEMENTS(names), name)
guint reader_get_choice(xmlNode *node, const char *name, const char *const *names, guint n,
			guint def);
#define GET_CHOICE(node, name, names, def) \
	reader_get_choice(node, name, names, G_N_ELEMENTS(names), def)

/* reader-vm.c: the <header>, <vm> and <workload> elements. */
gboolean reader_header(Reader *r, xmlNode *node);
gboolean reader_vm(Reader *r, xmlNode *node);
gboolean reader_workload(Reader *r, xmlNode *node);
/* One <memslot> (of <vm> or an event) into ms. */
gboolean reader_memslot(Reader *r, xmlNode *node, TraceMemslot *ms);

/* reader-gmem.c: private memory in a trace. */
gboolean reader_read_guest_memfd(Reader *r, xmlNode *node);
gboolean reader_read_gmem_event(Reader *r, xmlNode *node, TraceEvent *e);
gboolean reader_read_shareability(Reader *r, xmlNode *node, TraceExpect *x);
gboolean reader_read_map_gpa_range(Reader *r, xmlNode *node, TraceEvent *e);
gboolean reader_read_memory_fault(Reader *r, xmlNode *node, TraceExpect *x);

#endif
