/* SPDX-License-Identifier: GPL-2.0-only */
/* The embedded schema as a document (grammar.c), for schema.c to explain validation errors. */
#ifndef KVMSIM_SIM_TRACE_GRAMMAR_INTERNAL_H
#define KVMSIM_SIM_TRACE_GRAMMAR_INTERNAL_H

#include "sim/trace/trace-internal.h"

/* The schema as a document. */
typedef struct {
	xmlDoc *doc;
	xmlNode *start;
	GHashTable *defines; /* name -> <define> */
} TraceGrammar;

/* Where a pattern occurs: inside optional/zeroOrMore or a choice, repeatable. */
typedef struct {
	gboolean optional;
	gboolean many;
} TraceOccurs;

/* An attribute an element takes. */
typedef struct {
	const char *name;
	GPtrArray *defs; /* its <attribute> patterns, one per choice branch that has it */
	gboolean required;
} TraceSchemaAttr;

/* A child element an element takes, in schema order. */
typedef struct {
	const char *name;
	xmlNode *def; /* its <element> pattern */
	TraceOccurs occurs;
} TraceSchemaChild;

/* What an element pattern allows: attributes, children, and choices between single attributes. */
typedef struct {
	GArray *attrs;      /* TraceSchemaAttr */
	GArray *children;   /* TraceSchemaChild */
	GPtrArray *choices; /* of GPtrArray of attribute names: exactly one of them */
} TraceContent;

void trace_grammar_load(TraceGrammar *g);
void trace_grammar_clear(TraceGrammar *g);
/* What the <element> (or <start>) pattern allows. */
TraceContent *trace_grammar_content(TraceGrammar *g, xmlNode *pattern);
void trace_content_free(TraceContent *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TraceContent, trace_content_free)
TraceSchemaAttr *trace_content_attr(const TraceContent *c, const char *name);
/* The child called name and its position in schema order, or NULL. */
TraceSchemaChild *trace_content_child(const TraceContent *c, const char *name, guint *out_index);
/* The <element> pattern that node matches where it is in its document, or NULL. */
xmlNode *trace_grammar_element(TraceGrammar *g, xmlNode *node);
/* Append to out the elements that may hold a <name>, as "<a> or <b>"; FALSE if there are none. */
gboolean trace_grammar_parents(TraceGrammar *g, xmlNode *p, const char *name, GString *out);
/* Does the attribute accept text as its value? */
gboolean trace_grammar_accepts(TraceGrammar *g, const TraceSchemaAttr *a, const char *text);
/* What the attribute accepts, in words: "a number (...)", "true or false", "one of a, b, c". */
gchar *trace_grammar_describe(TraceGrammar *g, const TraceSchemaAttr *a);

#endif
