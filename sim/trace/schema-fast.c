/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Validation's fast path: most of a large trace is attributes of the schema's `number` and `name`
 * types, and libxml2 (2.9.14, relaxng.c: xmlRelaxNGSchemaFacetCheck()) compiles a type's pattern
 * afresh for every value it checks, which cost more than the rest of loading a trace. Here the
 * schema is validated with those two patterns left out, and kvmsim matches every value of those
 * types against the patterns compiled once. A trace this accepts is one the whole schema accepts;
 * anything else goes to schema.c's full validation, which finds and explains the first error as
 * before.
 */
#include "sim/trace/trace-internal.h"

#include <libxml/parser.h>
#include <libxml/relaxng.h>
#include <libxml/xmlregexp.h>
#include <string.h>

#define NAME(node) ((const char *)(node)->name)

/* The value types whose patterns are matched here rather than by libxml2. */
static const char *const fast_types[] = { "number", "name" };

/* Values of the pattern "(0x[0-9a-fA-F]+|[0-9]+)": 0x and hex digits, or decimal digits. */
static gboolean
match_number(const char *s)
{
	gboolean hex = s[0] == '0' && s[1] == 'x';
	const char *p = hex ? s + 2 : s;

	if (!*p)
		return FALSE;
	for (; *p; p++)
		if (!g_ascii_isdigit(*p) && !(hex && g_ascii_isxdigit(*p)))
			return FALSE;
	return TRUE;
}

/* Values of the pattern "[a-z][a-z0-9_]*". */
static gboolean
match_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return FALSE;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || g_ascii_isdigit(*s) || *s == '_'))
			return FALSE;
	return TRUE;
}

/* libxml2's regular expressions cost about a microsecond per value: the two patterns the trace
 * schema gives these types are matched by hand, as long as the schema still gives exactly them. */
static const struct {
	const char *pattern;
	gboolean (*match)(const char *value);
} hand_matchers[G_N_ELEMENTS(fast_types)] = {
	{ "(0x[0-9a-fA-F]+|[0-9]+)", match_number },
	{ "[a-z][a-z0-9_]*", match_name },
};

typedef struct {
	xmlRegexp *patterns[G_N_ELEMENTS(fast_types)];
	gboolean (*match[G_N_ELEMENTS(fast_types)])(const char *value); /* NULL: the regexp */
	/* "ELEMENT\x01ATTRIBUTE" -> GPtrArray of the xmlRegexp its values must match; ELEMENT is
	 * "*" for an attribute of a <define> outside any element (it may be any element's) */
	GHashTable *checks;
	GHashTable *merged; /* "ELEMENT\x01ATTRIBUTE" -> its checks and those of "*" (or NULL) */
	gboolean sound;     /* every value of a fast type is an attribute's whole value */
	/* merged's answers for the last names asked about, by the addresses of the names: the
	 * parser keeps one copy of each name in the document's dictionary */
	struct {
		const xmlChar *element;
		const xmlChar *name;
		GPtrArray *list;
	} recent[32];
	guint nr_recent;
} FastChecks;

static void
unref_list(gpointer list)
{
	if (list)
		g_ptr_array_unref(list);
}

/* The patterns attribute name of an element called element must match (NULL: none are the fast
 * path's). Keyed by element too: <log_hash value> is not <counter value>, and a recorded trace
 * has both. */
static GPtrArray *
checks_for(FastChecks *fc, const xmlChar *element, const xmlChar *name)
{
	g_autofree gchar *key = NULL;
	GPtrArray *list;

	for (guint i = 0; i < fc->nr_recent; i++)
		if (fc->recent[i].element == element && fc->recent[i].name == name)
			return fc->recent[i].list;
	key = g_strdup_printf("%s\x01%s", (const char *)element, (const char *)name);
	if (!g_hash_table_lookup_extended(fc->merged, key, NULL, (gpointer *)&list)) {
		g_autofree gchar *any = g_strdup_printf("*\x01%s", (const char *)name);
		GPtrArray *lists[] = { g_hash_table_lookup(fc->checks, key),
				       g_hash_table_lookup(fc->checks, any) };

		list = NULL;
		for (guint l = 0; l < G_N_ELEMENTS(lists); l++)
			for (guint i = 0; lists[l] && i < lists[l]->len; i++) {
				if (!list)
					list = g_ptr_array_new();
				if (!g_ptr_array_find(list, g_ptr_array_index(lists[l], i), NULL))
					g_ptr_array_add(list, g_ptr_array_index(lists[l], i));
			}
		g_hash_table_insert(fc->merged, g_steal_pointer(&key), list);
	}
	if (fc->nr_recent < G_N_ELEMENTS(fc->recent)) {
		fc->recent[fc->nr_recent].element = element;
		fc->recent[fc->nr_recent].name = name;
		fc->recent[fc->nr_recent++].list = list;
	}
	return list;
}

/* An attribute of a schema element (name="..."), or NULL. */
static const char *
schema_attr(const xmlNode *p, const char *name)
{
	for (const xmlAttr *a = p->properties; a; a = a->next)
		if (strcmp(NAME(a), name) == 0 && a->children)
			return (const char *)a->children->content;
	return NULL;
}

/* Which fast type a schema element is a <ref> to, or -1. */
static int
fast_ref(const xmlNode *p)
{
	const char *name = strcmp(NAME(p), "ref") == 0 ? schema_attr(p, "name") : NULL;

	for (guint i = 0; name && i < G_N_ELEMENTS(fast_types); i++)
		if (strcmp(name, fast_types[i]) == 0)
			return (int)i;
	return -1;
}

/* Take a fast type's <define> out of libxml2's hands: compile its pattern, drop the <param>. */
static void
take_define(FastChecks *fc, xmlNode *define, guint type)
{
	xmlNode *data = trace_element_at(define->children);
	xmlNode *param = data ? trace_element_at(data->children) : NULL;

	g_assert(param && strcmp(NAME(param), "param") == 0 && !trace_element_at(param->next));
	g_autofree xmlChar *pattern = xmlNodeGetContent(param);

	fc->patterns[type] = xmlRegexpCompile(pattern);
	g_assert(fc->patterns[type]);
	if (strcmp((const char *)pattern, hand_matchers[type].pattern) == 0)
		fc->match[type] = hand_matchers[type].match;
	xmlUnlinkNode(param);
	xmlFreeNode(param);
}

/* Note, for every <attribute> of the schema under p, the patterns its values must match. */
static void
gather_checks(FastChecks *fc, xmlNode *p)
{
	trace_for_each_element(child, p) {
		int type = fast_ref(child);

		if (type >= 0) {
			const char *attr = strcmp(NAME(p), "attribute") == 0 ? schema_attr(p, "name")
									   : NULL;
			const char *element = NULL;
			GPtrArray *list;

			if (!attr || trace_element_at(child->next) || trace_element_at(p->children) != child) {
				fc->sound = FALSE; /* a value of the type that is not a whole attribute */
				continue;
			}
			/* the element the attribute is of; none (any) in a <define> */
			for (xmlNode *up = p->parent; up && up->type == XML_ELEMENT_NODE;
			     up = up->parent) {
				if (strcmp(NAME(up), "element") == 0) {
					element = schema_attr(up, "name"); /* none: a name class */
					break;
				}
				if (strcmp(NAME(up), "define") == 0)
					break;
			}
			g_autofree gchar *key = g_strdup_printf("%s\x01%s", element ? element : "*",
								attr);

			list = g_hash_table_lookup(fc->checks, key);
			if (!list) {
				list = g_ptr_array_new();
				g_hash_table_insert(fc->checks, g_steal_pointer(&key), list);
			}
			if (!g_ptr_array_find(list, fc->patterns[type], NULL))
				g_ptr_array_add(list, fc->patterns[type]);
		}
		gather_checks(fc, child);
	}
}

/* Whether value matches re, one of fc's patterns. */
static gboolean
value_matches(const FastChecks *fc, xmlRegexp *re, const xmlChar *value)
{
	for (guint t = 0; t < G_N_ELEMENTS(fast_types); t++)
		if (re == fc->patterns[t] && fc->match[t])
			return fc->match[t]((const char *)value);
	return xmlRegexpExec(re, value) == 1;
}

/* Whether every attribute of node and its descendants matches the patterns its name has. */
static gboolean
values_match(FastChecks *fc, xmlNode *node)
{
	for (; node; node = node->next) {
		if (node->type != XML_ELEMENT_NODE)
			continue;
		for (xmlAttr *a = node->properties; a; a = a->next) {
			GPtrArray *list = checks_for(fc, node->name, a->name);

			if (!list)
				continue;
			xmlNode *text = a->children;
			gboolean plain = text && text->type == XML_TEXT_NODE && !text->next;
			xmlChar *value = plain ? text->content : xmlNodeListGetString(node->doc, text, 1);
			gboolean ok = value != NULL;

			for (guint i = 0; ok && i < list->len; i++)
				ok = value_matches(fc, g_ptr_array_index(list, i),
						   value ? value : BAD_CAST "");
			if (!plain)
				xmlFree(value);
			if (!ok)
				return FALSE;
		}
		if (!values_match(fc, node->children))
			return FALSE;
	}
	return TRUE;
}

/*
 * Events of one shape are validated once. The schema's <events> is zeroOrMore(choice(element,
 * ...)), so an element there is valid or not by itself, wherever it stands, and setting valid
 * ones aside changes no other element's validity. Two event elements of the same shape (name,
 * attribute names in order, no namespace, no content, and equal values for every attribute
 * libxml2 checks rather than values_match()) are valid alike: libxml2 validates the first of each
 * shape, the others are set aside while it runs, and values_match() still checks every value of
 * the types it takes. A 40,000-event trace has a handful of shapes.
 */
typedef struct {
	xmlNode *events;   /* the root's <events>, NULL if nothing was set aside */
	GPtrArray *all;    /* its children as parsed, for putting them back */
} EventsAside;

/* Whether the schema's <events> holds zeroOrMore(choice(element...)) and nothing else. */
static gboolean
events_any_order(xmlDoc *rng)
{
	trace_for_each_element(p, xmlDocGetRootElement(rng)) {
		const char *name = strcmp(NAME(p), "define") == 0 ? schema_attr(p, "name") : NULL;

		if (!name || strcmp(name, "events") != 0)
			continue;
		xmlNode *element = trace_element_at(p->children);
		xmlNode *many = element ? trace_element_at(element->children) : NULL;
		xmlNode *choice = many ? trace_element_at(many->children) : NULL;

		if (!element || trace_element_at(element->next) || !many ||
		    strcmp(NAME(many), "zeroOrMore") || trace_element_at(many->next) || !choice ||
		    strcmp(NAME(choice), "choice") || trace_element_at(choice->next))
			return FALSE;
		trace_for_each_element(alt, choice)
			if (strcmp(NAME(alt), "element") != 0)
				return FALSE;
		return strcmp(NAME(element), "element") == 0 &&
		       g_strcmp0(schema_attr(element, "name"), "events") == 0;
	}
	return FALSE;
}

/* The shape of an event element into key; FALSE if it has content, a namespace or an attribute
 * that is not plain text (those stay for libxml2). */
static gboolean
event_shape(FastChecks *fc, xmlNode *node, GString *key)
{
	if (node->ns || node->nsDef || node->children)
		return FALSE;
	g_string_assign(key, NAME(node));
	for (xmlAttr *a = node->properties; a; a = a->next) {
		xmlNode *text = a->children;

		if (a->ns || !text || text->type != XML_TEXT_NODE || text->next)
			return FALSE;
		/* \x01 and \x02 cannot occur in XML 1.0 names or values */
		g_string_append_c(key, '\x01');
		g_string_append(key, NAME(a));
		g_string_append_c(key, '\x02');
		if (!checks_for(fc, node->name, a->name))
			g_string_append(key, (const char *)text->content);
	}
	return TRUE;
}

/* Unlink from the root's <events> every element whose shape an earlier one has. */
static void
set_events_aside(FastChecks *fc, xmlDoc *doc, xmlDoc *rng, EventsAside *aside)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	xmlNode *events = NULL;
	xmlNode *prev = NULL;

	aside->events = NULL;
	aside->all = NULL;
	if (!root || root->ns || strcmp(NAME(root), "kvmsim-trace") != 0)
		return;
	trace_for_each_element(child, root)
		if (!child->ns && strcmp(NAME(child), "events") == 0) {
			events = child;
			break;
		}
	if (!events || !events_any_order(rng))
		return;
	g_autoptr(GHashTable) shapes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GString) key = g_string_new(NULL);

	aside->all = g_ptr_array_new();
	for (xmlNode *n = events->children; n; n = n->next)
		g_ptr_array_add(aside->all, n);
	aside->events = events;
	events->children = NULL;
	for (guint i = 0; i < aside->all->len; i++) {
		xmlNode *n = g_ptr_array_index(aside->all, i);

		if (n->type == XML_ELEMENT_NODE && event_shape(fc, n, key)) {
			if (g_hash_table_contains(shapes, key->str))
				continue;
			g_hash_table_add(shapes, g_strdup(key->str));
		}
		n->prev = prev;
		if (prev)
			prev->next = n;
		else
			events->children = n;
		prev = n;
	}
	if (prev)
		prev->next = NULL;
	events->last = prev;
}

/* Put the children of <events> back as they were parsed. */
static void
restore_events(EventsAside *aside)
{
	GPtrArray *all = aside->all;

	if (!aside->events)
		return;
	for (guint i = 0; i < all->len; i++) {
		xmlNode *n = g_ptr_array_index(all, i);

		n->prev = i ? g_ptr_array_index(all, i - 1) : NULL;
		n->next = i + 1 < all->len ? g_ptr_array_index(all, i + 1) : NULL;
	}
	aside->events->children = all->len ? g_ptr_array_index(all, 0) : NULL;
	aside->events->last = all->len ? g_ptr_array_index(all, all->len - 1) : NULL;
	g_ptr_array_free(all, TRUE);
	aside->events = NULL;
}

/* Errors of the fast path are not reported: the full validation reports them. */
static void
ignore_error(void *data, TraceXmlError *err)
{
}

/* The schema with the fast types' patterns taken out, and what it takes to check them. */
struct TraceFastSchema {
	xmlDoc *rng;
	FastChecks fc;
	gboolean light; /* <events> takes its elements in any order: they may go without nodes */
};

/* Read the embedded schema and take the fast types out of it. */
TraceFastSchema *
trace_fast_schema_new(void)
{
	TraceFastSchema *fs = g_new0(TraceFastSchema, 1);
	FastChecks *fc = &fs->fc;

	fs->rng = xmlReadMemory(trace_schema_rng, (int)trace_schema_rng_len, "kvmsim-trace.rng",
				NULL, XML_PARSE_NONET);
	g_assert(fs->rng);
	fc->sound = TRUE;
	fc->checks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					   (GDestroyNotify)g_ptr_array_unref);
	fc->merged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, unref_list);
	trace_for_each_element(p, xmlDocGetRootElement(fs->rng)) {
		const char *name = strcmp(NAME(p), "define") == 0 ? schema_attr(p, "name") : NULL;

		for (guint i = 0; name && i < G_N_ELEMENTS(fast_types); i++)
			if (strcmp(name, fast_types[i]) == 0)
				take_define(fc, p, i);
	}
	for (guint i = 0; i < G_N_ELEMENTS(fast_types); i++)
		g_assert(fc->patterns[i]);
	gather_checks(fc, xmlDocGetRootElement(fs->rng));
	fs->light = fc->sound && events_any_order(fs->rng);
	return fs;
}

void
trace_fast_schema_free(TraceFastSchema *fs)
{
	if (!fs)
		return;
	g_hash_table_unref(fs->fc.checks);
	g_hash_table_unref(fs->fc.merged);
	for (guint i = 0; i < G_N_ELEMENTS(fast_types); i++)
		xmlRegFreeRegexp(fs->fc.patterns[i]);
	xmlFreeDoc(fs->rng);
	g_free(fs);
}

/*
 * May an element of the root's <events>, with the parser's attributes (nb of them, five pointers
 * each: name, prefix, URI, value, value end), go without a node? Its shape into key, as
 * event_shape() makes it for a node: the parser keeps the first element of each shape as a node
 * for libxml2 to validate, and the others may go if every value of a fast type matches here.
 */
gboolean
trace_fast_schema_light(TraceFastSchema *fs, const xmlChar *name, int nb,
			const xmlChar **attrs, GString *key)
{
	FastChecks *fc = &fs->fc;

	if (!fs->light)
		return FALSE;
	g_string_assign(key, (const char *)name);
	for (int i = 0; i < nb; i++) {
		const xmlChar **a = attrs + 5 * i;
		gsize len = (gsize)(a[4] - a[3]);
		GPtrArray *list;
		gsize at;

		/* a reference in the value: the node libxml2 makes would not be one text node */
		if (a[1] || a[2] || memchr(a[3], '&', len))
			return FALSE;
		g_string_append_c(key, '\x01');
		g_string_append(key, (const char *)a[0]);
		g_string_append_c(key, '\x02');
		at = key->len;
		g_string_append_len(key, (const char *)a[3], (gssize)len);
		list = checks_for(fc, name, a[0]);
		for (guint j = 0; list && j < list->len; j++)
			if (!value_matches(fc, g_ptr_array_index(list, j), BAD_CAST key->str + at))
				return FALSE;
		if (list)
			g_string_truncate(key, at);
	}
	return TRUE;
}

/* Whether doc is certainly valid; FALSE: let the full validation decide and explain. */
gboolean
trace_fast_schema_validate(TraceFastSchema *fs, xmlDoc *doc)
{
	FastChecks *fc = &fs->fc;
	gboolean valid = FALSE;

	/* the names remembered are addresses in the dictionary of the document parsed with fs,
	 * which may be gone (trace_parse_file() parses a broken one again, without fs) */
	fc->nr_recent = 0;
	if (fc->sound) {
		xmlRelaxNGParserCtxt *parser = xmlRelaxNGNewDocParserCtxt(fs->rng);
		xmlRelaxNG *schema;
		xmlRelaxNGValidCtxt *ctxt;

		xmlRelaxNGSetParserStructuredErrors(parser, ignore_error, NULL);
		schema = xmlRelaxNGParse(parser);
		xmlRelaxNGFreeParserCtxt(parser);
		g_assert(schema);
		ctxt = xmlRelaxNGNewValidCtxt(schema);
		xmlRelaxNGSetValidStructuredErrors(ctxt, ignore_error, NULL);
		EventsAside aside;

		set_events_aside(fc, doc, fs->rng, &aside);
		valid = xmlRelaxNGValidateDoc(ctxt, doc) == 0;
		restore_events(&aside);
		valid = valid && values_match(fc, doc->children);
		xmlRelaxNGFreeValidCtxt(ctxt);
		xmlRelaxNGFree(schema);
	}
	return valid;
}

/* trace_fast_schema_validate() with a schema of its own. */
gboolean
trace_schema_fast_validate(xmlDoc *doc)
{
	TraceFastSchema *fs = trace_fast_schema_new();
	gboolean valid = trace_fast_schema_validate(fs, doc);

	trace_fast_schema_free(fs);
	return valid;
}
