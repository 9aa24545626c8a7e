/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The embedded schema read as a plain document, to explain why validation failed: what each
 * element pattern allows (attributes, required or not, and their values; child elements in order,
 * and which choice branch they need), and what a value pattern accepts, in words. It knows the
 * RelaxNG the trace schema uses (refs, choices, groups, optional/zeroOrMore/oneOrMore, data with
 * pattern or minLength, value), not all of RelaxNG.
 */
#include "sim/trace/grammar-internal.h"

#include <libxml/parser.h>
#include <libxml/xmlregexp.h>
#include <string.h>

#define NAME(node) ((const char *)(node)->name)

/* Phrases for the value types the schema names with a <define>. */
static const struct {
	const char *define;
	const char *phrase;
} value_phrases[] = {
	{ "number", "a number (decimal or 0x-hex)" },
	{ "size", "a size (decimal or 0x-hex; decimal may end in K, M or G)" },
	{ "name", "a name (a lowercase letter, then lowercase letters, digits or _)" },
	{ "workload-name", "a workload name (a letter or digit, then letters, digits or _.+-)" },
};

/* Is pattern node a <name>? */
static gboolean
is(const xmlNode *node, const char *name)
{
	return strcmp(NAME(node), name) == 0;
}

/* An attribute of a schema pattern (name="..."), or NULL. */
static const char *
pattern_attr(const xmlNode *p, const char *name)
{
	for (const xmlAttr *a = p->properties; a; a = a->next)
		if (strcmp(NAME(a), name) == 0 && a->children)
			return (const char *)a->children->content;
	return NULL;
}

/* The first child pattern of a pattern (or the content of an <attribute>). */
static xmlNode *
first_pattern(xmlNode *parent)
{
	return trace_element_at(parent->children);
}

/* Parse the embedded schema and index its defines. */
void
trace_grammar_load(TraceGrammar *g)
{
	xmlNode *root;

	g->doc = xmlReadMemory(trace_schema_rng, (int)trace_schema_rng_len, "kvmsim-trace.rng",
			       NULL, XML_PARSE_NONET);
	g_assert(g->doc);
	g->defines = g_hash_table_new(g_str_hash, g_str_equal);
	root = xmlDocGetRootElement(g->doc);
	trace_for_each_element(p, root) {
		if (is(p, "start"))
			g->start = p;
		else if (is(p, "define"))
			g_hash_table_insert(g->defines, (gpointer)pattern_attr(p, "name"), p);
	}
	g_assert(g->start);
}

/* Free what trace_grammar_load() made. */
void
trace_grammar_clear(TraceGrammar *g)
{
	g_clear_pointer(&g->defines, g_hash_table_unref);
	g_clear_pointer(&g->doc, xmlFreeDoc);
}

/* The <define> a <ref> names. */
static xmlNode *
define_of(TraceGrammar *g, const xmlNode *ref)
{
	xmlNode *def = g_hash_table_lookup(g->defines, pattern_attr(ref, "name"));

	g_assert(def);
	return def;
}

/* Free what a TraceSchemaAttr owns (its patterns belong to the schema document). */
static void
clear_attr(gpointer data)
{
	g_ptr_array_unref(((TraceSchemaAttr *)data)->defs);
}

/* Nothing allowed yet. */
static TraceContent *
content_new(void)
{
	TraceContent *c = g_new0(TraceContent, 1);

	c->attrs = g_array_new(FALSE, TRUE, sizeof(TraceSchemaAttr));
	g_array_set_clear_func(c->attrs, clear_attr);
	c->children = g_array_new(FALSE, TRUE, sizeof(TraceSchemaChild));
	c->choices = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
	return c;
}

/* Free a content model (not the schema patterns it points into). */
void
trace_content_free(TraceContent *c)
{
	g_array_free(c->attrs, TRUE);
	g_array_free(c->children, TRUE);
	g_ptr_array_unref(c->choices);
	g_free(c);
}

/* The attribute called name, or NULL. */
TraceSchemaAttr *
trace_content_attr(const TraceContent *c, const char *name)
{
	for (guint i = 0; i < c->attrs->len; i++) {
		TraceSchemaAttr *a = &g_array_index(c->attrs, TraceSchemaAttr, i);

		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}

/* The child called name and its position in schema order, or NULL. */
TraceSchemaChild *
trace_content_child(const TraceContent *c, const char *name, guint *out_index)
{
	for (guint i = 0; i < c->children->len; i++) {
		TraceSchemaChild *ch = &g_array_index(c->children, TraceSchemaChild, i);

		if (strcmp(ch->name, name) == 0) {
			if (out_index)
				*out_index = i;
			return ch;
		}
	}
	return NULL;
}

static void collect(TraceGrammar *g, xmlNode *p, TraceOccurs o, TraceContent *out);

/* Add what the child patterns of parent allow, as one group. */
static void
collect_children(TraceGrammar *g, xmlNode *parent, TraceOccurs o, TraceContent *out)
{
	trace_for_each_element(p, parent)
		collect(g, p, o, out);
}

/* Merge the branches of a choice: an attribute is required if every branch requires it; a child
 * of any branch is optional. */
static void
collect_choice(TraceGrammar *g, xmlNode *choice, TraceOccurs o, TraceContent *out)
{
	g_autoptr(GHashTable) required_in = g_hash_table_new(g_str_hash, g_str_equal);
	GPtrArray *singles = g_ptr_array_new();
	guint branches = 0;

	trace_for_each_element(b, choice) {
		g_autoptr(TraceContent) branch = content_new();

		branches++;
		collect(g, b, o, branch);
		if (singles && is(b, "attribute"))
			g_ptr_array_add(singles, (gpointer)pattern_attr(b, "name"));
		else
			g_clear_pointer(&singles, g_ptr_array_unref);
		for (guint i = 0; i < branch->attrs->len; i++) {
			TraceSchemaAttr *a = &g_array_index(branch->attrs, TraceSchemaAttr, i);
			TraceSchemaAttr *have = trace_content_attr(out, a->name);
			guint n = GPOINTER_TO_UINT(g_hash_table_lookup(required_in, a->name));

			if (!have) {
				TraceSchemaAttr copy = *a;

				copy.defs = g_ptr_array_new();
				g_array_append_val(out->attrs, copy);
				have = trace_content_attr(out, a->name);
			}
			for (guint d = 0; d < a->defs->len; d++)
				g_ptr_array_add(have->defs, g_ptr_array_index(a->defs, d));
			g_hash_table_insert(required_in, (gpointer)a->name,
					    GUINT_TO_POINTER(n + (a->required ? 1 : 0)));
		}
		for (guint i = 0; i < branch->children->len; i++) {
			TraceSchemaChild ch = g_array_index(branch->children, TraceSchemaChild, i);

			ch.occurs.optional = TRUE;
			g_array_append_val(out->children, ch);
		}
	}
	for (guint i = 0; i < out->attrs->len; i++) {
		TraceSchemaAttr *a = &g_array_index(out->attrs, TraceSchemaAttr, i);
		guint n = GPOINTER_TO_UINT(g_hash_table_lookup(required_in, a->name));

		if (n)
			a->required = n == branches;
	}
	if (singles && singles->len > 1)
		g_ptr_array_add(out->choices, singles);
	else if (singles)
		g_ptr_array_unref(singles);
}

/* Add what pattern p allows, occurring as o, to out; nested elements are children, not entered. */
static void
collect(TraceGrammar *g, xmlNode *p, TraceOccurs o, TraceContent *out)
{
	if (is(p, "attribute")) {
		TraceSchemaAttr a = { pattern_attr(p, "name"), g_ptr_array_new(), !o.optional };

		g_ptr_array_add(a.defs, p);
		g_array_append_val(out->attrs, a);
	} else if (is(p, "element")) {
		TraceSchemaChild ch = { pattern_attr(p, "name"), p, o };

		g_array_append_val(out->children, ch);
	} else if (is(p, "optional") || is(p, "zeroOrMore") || is(p, "oneOrMore")) {
		o.optional |= !is(p, "oneOrMore");
		o.many |= !is(p, "optional");
		collect_children(g, p, o, out);
	} else if (is(p, "ref")) {
		collect_children(g, define_of(g, p), o, out);
	} else if (is(p, "choice")) {
		collect_choice(g, p, o, out);
	}
}

/* What the children of an <element> (or <start>) pattern allow. */
TraceContent *
trace_grammar_content(TraceGrammar *g, xmlNode *pattern)
{
	TraceContent *c = content_new();
	TraceOccurs once = { FALSE, FALSE };

	collect_children(g, pattern, once, c);
	return c;
}

/* The <element> pattern that node matches where it is, or NULL if none does. */
xmlNode *
trace_grammar_element(TraceGrammar *g, xmlNode *node)
{
	g_autoptr(TraceContent) c = NULL;
	xmlNode *parent_def;
	TraceSchemaChild *ch;

	if (node->ns)
		return NULL;
	if (node->parent->type == XML_ELEMENT_NODE) {
		parent_def = trace_grammar_element(g, node->parent);
		if (!parent_def)
			return NULL;
	} else {
		parent_def = g->start;
	}
	c = trace_grammar_content(g, parent_def);
	ch = trace_content_child(c, NAME(node), NULL);
	return ch ? ch->def : NULL;
}

/* Append to out the elements that may hold a <name>, as "<a> or <b>"; FALSE if there are none. */
gboolean
trace_grammar_parents(TraceGrammar *g, xmlNode *p, const char *name, GString *out)
{
	trace_for_each_element(q, p) {
		if (is(q, "element")) {
			g_autoptr(TraceContent) c = trace_grammar_content(g, q);
			g_autofree gchar *tag = g_strdup_printf("<%s>", pattern_attr(q, "name"));

			if (trace_content_child(c, name, NULL) && !strstr(out->str, tag))
				g_string_append_printf(out, "%s%s", out->len ? " or " : "", tag);
		}
		trace_grammar_parents(g, q, name, out);
	}
	return out->len > 0;
}

/* ---------------------------------------------------------------------------------------------
 * Attribute values
 */

static gboolean pattern_accepts(TraceGrammar *g, xmlNode *p, const char *text);

/* Does <data> accept text? Only the facets the trace schema uses: pattern, minLength. */
static gboolean
data_accepts(xmlNode *data, const char *text)
{
	trace_for_each_element(param, data) {
		const char *kind = pattern_attr(param, "name");
		const char *arg = (const char *)param->children->content;

		if (strcmp(kind, "pattern") == 0) {
			xmlRegexp *re = xmlRegexpCompile((const xmlChar *)arg);
			gboolean ok = re && xmlRegexpExec(re, (const xmlChar *)text) == 1;

			xmlRegFreeRegexp(re);
			if (!ok)
				return FALSE;
		} else if (strcmp(kind, "minLength") == 0 &&
			   g_utf8_strlen(text, -1) < g_ascii_strtoll(arg, NULL, 10)) {
			return FALSE;
		}
	}
	return TRUE;
}

/* Does value pattern p (data, value, choice, ref) accept text? */
static gboolean
pattern_accepts(TraceGrammar *g, xmlNode *p, const char *text)
{
	if (is(p, "ref"))
		return pattern_accepts(g, first_pattern(define_of(g, p)), text);
	if (is(p, "choice")) {
		trace_for_each_element(b, p)
			if (pattern_accepts(g, b, text))
				return TRUE;
		return FALSE;
	}
	if (is(p, "value")) {
		/* a value without a type is a token: surrounding whitespace does not count */
		g_autofree gchar *token = g_strstrip(g_strdup(text));
		const char *want = p->children ? (const char *)p->children->content : "";

		return strcmp(pattern_attr(p, "type") ? text : token, want) == 0;
	}
	if (is(p, "data"))
		return data_accepts(p, text);
	return TRUE;
}

/* Does any of the attribute's patterns accept text? */
gboolean
trace_grammar_accepts(TraceGrammar *g, const TraceSchemaAttr *a, const char *text)
{
	for (guint i = 0; i < a->defs->len; i++) {
		xmlNode *content = first_pattern(g_ptr_array_index(a->defs, i));

		if (!content || pattern_accepts(g, content, text))
			return TRUE;
	}
	return FALSE;
}

/* Gather what value pattern p accepts: literal values, and phrases for everything else. */
static void
describe_pattern(TraceGrammar *g, xmlNode *p, GPtrArray *values, GPtrArray *phrases)
{
	if (is(p, "ref")) {
		for (guint i = 0; i < G_N_ELEMENTS(value_phrases); i++) {
			if (strcmp(pattern_attr(p, "name"), value_phrases[i].define) == 0) {
				g_ptr_array_add(phrases, g_strdup(value_phrases[i].phrase));
				return;
			}
		}
		describe_pattern(g, first_pattern(define_of(g, p)), values, phrases);
	} else if (is(p, "choice")) {
		trace_for_each_element(b, p)
			describe_pattern(g, b, values, phrases);
	} else if (is(p, "value")) {
		const char *value = p->children ? (const char *)p->children->content : "";

		g_ptr_array_add(values, (gpointer)value);
	} else if (is(p, "data")) {
		const char *regex = NULL;
		gboolean non_empty = FALSE;

		trace_for_each_element(param, p) {
			if (strcmp(pattern_attr(param, "name"), "pattern") == 0)
				regex = (const char *)param->children->content;
			non_empty |= strcmp(pattern_attr(param, "name"), "minLength") == 0;
		}
		if (regex)
			g_ptr_array_add(phrases, g_strdup_printf("of the form %s", regex));
		else
			g_ptr_array_add(phrases,
					g_strdup(non_empty ? "a non-empty string" : "text"));
	}
}

/* "a number (...)", "true or false", "one of read, write, fetch", ... */
gchar *
trace_grammar_describe(TraceGrammar *g, const TraceSchemaAttr *a)
{
	g_autoptr(GPtrArray) values = g_ptr_array_new();
	g_autoptr(GPtrArray) phrases = g_ptr_array_new_with_free_func(g_free);
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < a->defs->len; i++) {
		xmlNode *content = first_pattern(g_ptr_array_index(a->defs, i));

		if (content)
			describe_pattern(g, content, values, phrases);
	}
	for (guint i = 0; i < phrases->len; i++)
		g_string_append_printf(out, "%s%s", i ? " or " : "",
				       (char *)g_ptr_array_index(phrases, i));
	if (values->len && out->len)
		g_string_append(out, " or ");
	if (values->len > 2)
		g_string_append(out, "one of ");
	for (guint i = 0; i < values->len; i++)
		g_string_append_printf(out, "%s%s",
				       i == 0 ? "" : values->len == 2 ? " or " : ", ",
				       (char *)g_ptr_array_index(values, i));
	return g_string_free(out, FALSE);
}
