/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validation against the embedded kvmsim-trace.rng, and what to say when it fails.
 *
 * libxml2 says where validation failed but often not why: "Element step failed to validate
 * attributes" does not name the attribute, and a <workload> without its name is reported as "Did
 * not expect element workload there". So the node of the first error is examined again against
 * the schema itself, read as a plain document: which attribute is unknown, missing or malformed,
 * which element is unknown, misplaced, repeated, out of order or missing. libxml2's own words,
 * lightly reworded, are the fallback. The line is always that of the node the message is about.
 */
#include "sim/trace/grammar-internal.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <string.h>

#define NAME(node) ((const char *)(node)->name)

/* The first validation error libxml2 reports, preferring one that carries a node. */
typedef struct {
	gboolean set;
	int code;
	int line;
	xmlNode *node;
	gchar *message;
	gchar *str1;
	gchar *str2;
} FirstError;

/* Keep the first error, or a later one that names a node if the first did not. */
static void
on_validation_error(void *data, TraceXmlError *err)
{
	FirstError *first = data;

	if (err->level < XML_ERR_ERROR || (first->set && (first->node || !err->node)))
		return;
	g_free(first->message);
	g_free(first->str1);
	g_free(first->str2);
	first->set = TRUE;
	first->code = err->code;
	first->line = err->line;
	first->node = err->node;
	first->message = g_strchomp(g_strdup(err->message ? err->message : "invalid"));
	first->str1 = g_strdup(err->str1);
	first->str2 = g_strdup(err->str2);
}

/* The schema is part of kvmsim: if it does not compile, kvmsim is broken, not the trace. */
static void
on_schema_error(void *data, TraceXmlError *err)
{
	if (err->level < XML_ERR_ERROR)
		return;
	g_error("the embedded kvmsim-trace.rng does not compile: line %d: %s", err->line,
		err->message);
}

/* "a, b, c": the attributes the pattern takes. */
static gchar *
attr_names(const TraceContent *c)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < c->attrs->len; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "",
				       g_array_index(c->attrs, TraceSchemaAttr, i).name);
	return g_string_free(out, FALSE);
}

/* An attribute of node that its pattern does not take. */
static gchar *
explain_unknown_attr(const TraceContent *c, xmlNode *node, xmlAttr *attr)
{
	g_autofree gchar *name = attr->ns && attr->ns->prefix ?
		g_strdup_printf("%s:%s", attr->ns->prefix, NAME(attr)) : g_strdup(NAME(attr));
	g_autofree gchar *takes = attr_names(c);
	TraceNearest near;

	trace_nearest_init(&near, name);
	for (guint i = 0; i < c->attrs->len; i++)
		trace_nearest_add(&near, g_array_index(c->attrs, TraceSchemaAttr, i).name);
	if (near.best)
		return g_strdup_printf("<%s> has no attribute '%s' (did you mean '%s'?)",
				       NAME(node), name, near.best);
	return g_strdup_printf("<%s> has no attribute '%s' (it takes %s)", NAME(node), name,
			       *takes ? takes : "none");
}

/* The first attribute of node that is unknown, missing, misplaced or malformed. */
static gchar *
explain_attributes(TraceGrammar *g, xmlNode *node, xmlNode *def)
{
	g_autoptr(TraceContent) c = trace_grammar_content(g, def);

	for (xmlAttr *a = node->properties; a; a = a->next)
		if (a->ns || !trace_content_attr(c, NAME(a)))
			return explain_unknown_attr(c, node, a);
	for (guint i = 0; i < c->attrs->len; i++) {
		TraceSchemaAttr *a = &g_array_index(c->attrs, TraceSchemaAttr, i);

		if (a->required && !xmlHasNsProp(node, (const xmlChar *)a->name, NULL))
			return g_strdup_printf("<%s> is missing the attribute '%s'", NAME(node),
					       a->name);
	}
	for (xmlAttr *a = node->properties; a; a = a->next) {
		TraceSchemaAttr *spec = trace_content_attr(c, NAME(a));
		xmlChar *prop = xmlNodeListGetString(node->doc, a->children, 1);
		g_autofree gchar *text = g_strdup(prop ? (const char *)prop : "");

		xmlFree(prop);
		if (!trace_grammar_accepts(g, spec, text)) {
			g_autofree gchar *want = trace_grammar_describe(g, spec);

			return g_strdup_printf("<%s> %s=\"%s\" is not %s", NAME(node), spec->name,
					       text, want);
		}
	}
	for (guint i = 0; i < c->choices->len; i++) {
		GPtrArray *names = g_ptr_array_index(c->choices, i);
		g_autoptr(GString) list = g_string_new(NULL);
		guint have = 0;

		for (guint n = 0; n < names->len; n++) {
			const char *name = g_ptr_array_index(names, n);

			have += xmlHasNsProp(node, (const xmlChar *)name, NULL) != NULL;
			g_string_append_printf(list, "%s%s", n ? ", " : "", name);
		}
		if (have != 1)
			return g_strdup_printf("<%s> takes exactly one of the attributes %s "
					       "(it has %u)",
					       NAME(node), list->str, have);
	}
	return NULL;
}

/* An element no pattern matches where it is. */
static gchar *
explain_unknown_element(TraceGrammar *g, xmlNode *node)
{
	xmlNode *parent = node->parent;
	xmlNode *parent_def;
	g_autoptr(GString) elsewhere = g_string_new(NULL);
	g_autoptr(TraceContent) siblings = NULL;
	TraceNearest near;

	if (node->ns)
		return g_strdup_printf("<%s> is in the XML namespace '%s'; a trace uses none",
				       NAME(node), (const char *)node->ns->href);
	if (parent->type != XML_ELEMENT_NODE) {
		g_autoptr(TraceContent) c = trace_grammar_content(g, g->start);

		return g_strdup_printf("the root element must be <%s>, not <%s>",
				       g_array_index(c->children, TraceSchemaChild, 0).name,
				       NAME(node));
	}
	parent_def = trace_grammar_element(g, parent);
	if (!parent_def)
		return g_strdup_printf("unexpected <%s> inside <%s>", NAME(node), NAME(parent));
	if (trace_grammar_parents(g, xmlDocGetRootElement(g->doc), NAME(node), elsewhere))
		return g_strdup_printf("<%s> does not belong inside <%s> (it goes inside %s)",
				       NAME(node), NAME(parent), elsewhere->str);
	siblings = trace_grammar_content(g, parent_def);
	trace_nearest_init(&near, NAME(node));
	for (guint i = 0; i < siblings->children->len; i++)
		trace_nearest_add(&near,
				  g_array_index(siblings->children, TraceSchemaChild, i).name);
	if (near.best)
		return g_strdup_printf("unknown element <%s> inside <%s> (did you mean <%s>?)",
				       NAME(node), NAME(parent), near.best);
	return g_strdup_printf("unknown element <%s> inside <%s>", NAME(node), NAME(parent));
}

/* Is node an element the schema does not know there, or one with a bad attribute? */
static gchar *
explain_element(TraceGrammar *g, xmlNode *node)
{
	xmlNode *def = trace_grammar_element(g, node);

	return def ? explain_attributes(g, node, def) : explain_unknown_element(g, node);
}

/* Is there an element called name from first up to (not including) stop? */
static gboolean
has_child_named(xmlNode *first, xmlNode *stop, const char *name)
{
	for (xmlNode *s = first; s && s != stop; s = s->next)
		if (s->type == XML_ELEMENT_NODE && strcmp(NAME(s), name) == 0)
			return TRUE;
	return FALSE;
}

/* A known element in a place its parent's pattern does not allow: repeated, after a missing
 * one, or out of order. */
static gchar *
explain_position(TraceGrammar *g, xmlNode *node)
{
	xmlNode *parent = node->parent;
	g_autoptr(TraceContent) c = NULL;
	guint idx, other;
	TraceSchemaChild *slot;

	if (parent->type != XML_ELEMENT_NODE)
		return NULL;
	c = trace_grammar_content(g, trace_grammar_element(g, parent));
	slot = trace_content_child(c, NAME(node), &idx);
	if (!slot->occurs.many && has_child_named(parent->children, node, NAME(node)))
		return g_strdup_printf("<%s> can hold only one <%s>", NAME(parent), NAME(node));
	for (guint i = 0; i < idx; i++) {
		TraceSchemaChild *before = &g_array_index(c->children, TraceSchemaChild, i);

		if (before->occurs.optional ||
		    has_child_named(parent->children, node, before->name))
			continue;
		if (has_child_named(node->next, NULL, before->name))
			return g_strdup_printf("<%s> must come after <%s> inside <%s>", NAME(node),
					       before->name, NAME(parent));
		return g_strdup_printf("<%s> is missing <%s> (it comes before <%s>)", NAME(parent),
				       before->name, NAME(node));
	}
	for (xmlNode *s = parent->children; s != node; s = s->next)
		if (s->type == XML_ELEMENT_NODE && trace_content_child(c, NAME(s), &other) &&
		    other > idx)
			return g_strdup_printf("<%s> must come before <%s> inside <%s>", NAME(node),
					       NAME(s), NAME(parent));
	return NULL;
}

/* A required child that node lacks. */
static gchar *
explain_missing(TraceGrammar *g, xmlNode *node)
{
	g_autoptr(TraceContent) c = trace_grammar_content(g, trace_grammar_element(g, node));

	for (guint i = 0; i < c->children->len; i++) {
		TraceSchemaChild *ch = &g_array_index(c->children, TraceSchemaChild, i);

		if (!ch->occurs.optional && !has_child_named(node->children, NULL, ch->name))
			return g_strdup_printf(ch->occurs.many ? "<%s> needs at least one <%s>" :
								 "<%s> is missing <%s>",
					       NAME(node), ch->name);
	}
	return NULL;
}

/* What is wrong at the node of the first error, in the schema's terms; NULL if the schema has
 * nothing better to say than libxml2. *out_line: the line of the node the message is about. */
static gchar *
explain(TraceGrammar *g, const FirstError *first, long *out_line)
{
	xmlNode *node = first->node;
	gchar *why;

	if (node->type != XML_ELEMENT_NODE)
		return NULL;
	why = explain_element(g, node);
	if (why)
		return why;
	if (first->code == XML_RELAXNG_ERR_ELEMWRONG ||
	    (first->code == XML_RELAXNG_ERR_EXTRACONTENT &&
	     g_strcmp0(first->str2, NAME(node)) == 0)) {
		why = explain_position(g, node);
		/* libxml2 sometimes blames the sibling before the element at fault */
		for (xmlNode *next = trace_element_at(node->next); !why && next;
		     next = trace_element_at(next->next)) {
			why = explain_element(g, next);
			if (why)
				*out_line = trace_node_line(next);
		}
		return why;
	}
	if (first->code == XML_RELAXNG_ERR_TEXTWRONG ||
	    (first->code == XML_RELAXNG_ERR_EXTRACONTENT && g_strcmp0(first->str2, "text") == 0))
		return g_strdup_printf("text is not allowed inside <%s>", NAME(node));
	for (xmlNode *child = node->children; child; child = child->next) {
		if (child->type != XML_ELEMENT_NODE)
			continue;
		why = explain_element(g, child);
		if (why) {
			*out_line = trace_node_line(child);
			return why;
		}
	}
	return explain_missing(g, node);
}

/* Some errors name an element but carry no node and line 0 ("Element spte failed to validate
 * attributes"): blame the first element of that name that has something wrong with it. */
static xmlNode *
find_element_at_fault(TraceGrammar *g, xmlNode *node, const char *name)
{
	for (node = trace_element_at(node); node; node = trace_element_at(node->next)) {
		g_autofree gchar *why = NULL;
		xmlNode *found;

		if (strcmp(NAME(node), name) == 0)
			why = explain_element(g, node);
		found = why ? node : find_element_at_fault(g, node->children, name);
		if (found)
			return found;
	}
	return NULL;
}

/* libxml2's message, reworded where its words mislead. */
static gchar *
reword(const FirstError *first)
{
	xmlNode *node = first->node;
	const char *parent = NULL;

	if (node && node->parent->type == XML_ELEMENT_NODE)
		parent = NAME(node->parent);

	switch (first->code) {
	case XML_RELAXNG_ERR_ATTRVALID:
		return g_strdup_printf("<%s> has a missing or invalid attribute", first->str1);
	case XML_RELAXNG_ERR_CONTENTVALID:
		return g_strdup_printf("<%s> has invalid content", first->str1);
	case XML_RELAXNG_ERR_ELEMWRONG:
		if (parent)
			return g_strdup_printf("unexpected <%s> inside <%s>", first->str1, parent);
		return g_strdup_printf("unexpected <%s>", first->str1);
	case XML_RELAXNG_ERR_EXTRACONTENT:
		return g_strdup_printf("unexpected <%s> inside <%s>", first->str2, first->str1);
	case XML_RELAXNG_ERR_INVALIDATTR:
		return g_strdup_printf("<%s> may not have the attribute '%s' here", first->str2,
				       first->str1);
	case XML_RELAXNG_ERR_NOELEM:
		return g_strdup_printf("<%s> is missing a child element",
				       node ? NAME(node) : first->str1);
	default:
		return g_strdup(first->message);
	}
}

/* Validate doc (the fast path first); on failure, explain the first error libxml2 reports. */
gboolean
trace_schema_validate(xmlDoc *doc, const char *path, GError **error)
{
	if (trace_schema_fast_validate(doc))
		return TRUE;

	xmlRelaxNGParserCtxt *parser = xmlRelaxNGNewMemParserCtxt(trace_schema_rng,
								   (int)trace_schema_rng_len);
	FirstError first = { 0 };
	xmlRelaxNG *schema;
	xmlRelaxNGValidCtxt *valid;
	int rc;

	xmlRelaxNGSetParserStructuredErrors(parser, on_schema_error, NULL);
	schema = xmlRelaxNGParse(parser);
	xmlRelaxNGFreeParserCtxt(parser);
	g_assert(schema);
	valid = xmlRelaxNGNewValidCtxt(schema);
	xmlRelaxNGSetValidStructuredErrors(valid, on_validation_error, &first);
	rc = xmlRelaxNGValidateDoc(valid, doc);
	xmlRelaxNGFreeValidCtxt(valid);
	xmlRelaxNGFree(schema);
	if (rc == 0)
		return TRUE;

	long line = first.line;
	g_autofree gchar *why = NULL;
	TraceGrammar g = { 0 };

	trace_grammar_load(&g);
	if (!first.node && first.str1)
		first.node = find_element_at_fault(&g, doc->children, first.str1);
	if (first.node) {
		line = trace_node_line(first.node);
		why = explain(&g, &first, &line);
	}
	trace_grammar_clear(&g);
	if (!why)
		why = first.set ? reword(&first) : g_strdup("cannot validate (libxml2 failed)");
	trace_set_error(error, TRACE_ERROR_SCHEMA, path, line, "%s", why);
	g_free(first.message);
	g_free(first.str1);
	g_free(first.str2);
	return FALSE;
}
