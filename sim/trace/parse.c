/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing a trace file with libxml2: well-formed XML or one error line naming the file and line,
 * with nothing of libxml2's own on stderr, no DOCTYPE, and element lines kept past 65,535.
 */
#include "sim/trace/trace-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first error the XML parser reports. */
typedef struct {
	gboolean set;
	int domain;
	int code;
	int line;
	int int1;
	gchar *message;
	gchar *str1;
	gchar *str2;
	int dtd_line;      /* the line of a <!DOCTYPE>, which a trace may not have */
	gboolean encoding; /* libxml2's encoder failed (it says so only to its generic handler) */
} ParseError;

/* The parse: its first error, and the events it reads without nodes. */
typedef struct {
	ParseError first;      /* must stay first: the handlers below take it from _private */
	TraceFastSchema *fs;   /* NULL: every element is a node */
	GHashTable *shapes;    /* shapes of events kept as nodes (trace_fast_schema_light()) */
	GString *key;
	xmlNode *events;       /* the root's <events> once it has an element child node */
	guint kept;            /* its element child nodes so far */
	GPtrArray *lights;     /* the lists made, for when libxml2 frees a broken document */
	guint skipping;        /* inside an event read without a node: its depth */
	gboolean broken;       /* such an event had content: parse again with nodes only */
} ParseState;

/* Called with the parser context (its userData): the ParseError hangs off its _private. */
static void
on_parse_error(void *data, TraceXmlError *err)
{
	ParseError *first = ((xmlParserCtxt *)data)->_private;
	const char *message = err->message ? err->message : "cannot parse";

	if (err->level < XML_ERR_ERROR || first->set)
		return;
	first->set = TRUE;
	first->domain = err->domain;
	first->code = err->code;
	first->line = err->line;
	first->int1 = err->int1;
	/* the first line only: some messages go on to quote the document */
	first->message = g_strndup(message, strcspn(message, "\n"));
	first->str1 = g_strdup(err->str1);
	first->str2 = g_strdup(err->str2);
}

/* libxml2's words, made plainer for the two mistakes people make most with tags. */
static gchar *
parse_message(const ParseError *first)
{
	switch (first->code) {
	case XML_ERR_TAG_NAME_MISMATCH:
		return g_strdup_printf("</%s> does not close <%s> (opened on line %d)", first->str2,
				       first->str1, first->int1);
	case XML_ERR_TAG_NOT_FINISHED:
		return g_strdup_printf("the file ends inside <%s> (opened on line %d)", first->str1,
				       first->int1);
	default:
		return g_strdup(first->message);
	}
}

/* A <!DOCTYPE>: entities declared there would put content where neither the schema nor the
 * reader sees it, so a trace has none; remember where it was. The DTD node is still made, so
 * what libxml2 adds to it (a comment in the subset) is freed with the document. */
static void
on_internal_subset(void *data, const xmlChar *name, const xmlChar *external_id,
		   const xmlChar *system_id)
{
	ParseError *first = ((xmlParserCtxt *)data)->_private;

	if (!first->dtd_line)
		first->dtd_line = xmlSAX2GetLineNumber(data);
	xmlSAX2InternalSubset(data, name, external_id, system_id);
}

/* Is node the root's <events>? */
static gboolean
is_root_events(xmlParserCtxt *ctxt, xmlNode *node)
{
	xmlNode *root = node ? node->parent : NULL;

	return node && !node->ns && strcmp((const char *)node->name, "events") == 0 && root &&
	       root->type == XML_ELEMENT_NODE && root->parent == (xmlNode *)ctxt->myDoc &&
	       !root->ns && strcmp((const char *)root->name, "kvmsim-trace") == 0;
}

/* An element of the root's <events> that needs no node (trace_fast_schema_light()): its name,
 * line and attributes go on the list that <events> holds in its _private (TraceLightEvents). A
 * large trace is mostly such elements, and their nodes were most of its document. */
static gboolean
take_light(xmlParserCtxt *ctxt, ParseState *st, const xmlChar *localname, const xmlChar *uri,
	   int nb_namespaces, int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	xmlNode *events = ctxt->node;
	TraceLightEvents *light;

	if (!st->fs || uri || nb_namespaces || nb_defaulted || nb_attributes > TRACE_LIGHT_ATTRS ||
	    !is_root_events(ctxt, events) ||
	    !trace_fast_schema_light(st->fs, localname, nb_attributes, attributes, st->key))
		return FALSE;
	if (!g_hash_table_contains(st->shapes, st->key->str)) {
		/* the first of its shape stays a node, for libxml2 to validate */
		g_hash_table_add(st->shapes, g_strdup(st->key->str));
		return FALSE;
	}
	light = events->_private;
	if (!light) {
		light = events->_private = g_new0(TraceLightEvents, 1);
		light->events = g_array_new(FALSE, FALSE, sizeof(TraceLightEvent));
		light->attrs = g_array_new(FALSE, FALSE, sizeof(TraceLightAttr));
		light->values = g_string_chunk_new(64 << 10);
		g_ptr_array_add(st->lights, light);
	}
	TraceLightEvent e = { localname, (guint)xmlSAX2GetLineNumber(ctxt),
			      events == st->events ? st->kept : 0, (guint)nb_attributes,
			      light->attrs->len };

	for (int i = 0; i < nb_attributes; i++) {
		const xmlChar **a = attributes + 5 * i;
		TraceLightAttr attr = { a[0], g_string_chunk_insert_len(light->values,
									(const char *)a[3],
									a[4] - a[3]) };

		g_array_append_val(light->attrs, attr);
	}
	g_array_append_val(light->events, e);
	return TRUE;
}

/* An element: libxml2 keeps lines in an unsigned short, so past 65,534 the document's table
 * (doc->_private) holds the real line (trace_node_line()). */
static void
on_start_element(void *data, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
		 int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
		 int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxt *ctxt = data;
	ParseState *st = ctxt->_private;
	int line = xmlSAX2GetLineNumber(data);

	if (st->skipping) {
		st->skipping++;
		st->broken = TRUE;
		return;
	}
	if (take_light(ctxt, st, localname, uri, nb_namespaces, nb_attributes, nb_defaulted,
		       attributes)) {
		st->skipping = 1;
		return;
	}
	xmlSAX2StartElementNs(data, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
	xmlNode *parent = ctxt->node ? ctxt->node->parent : NULL;

	if (parent && parent == st->events) {
		st->kept++;
	} else if (parent && is_root_events(ctxt, parent)) {
		st->events = parent;
		st->kept = 1;
	}
	if (line < 65535 || !ctxt->myDoc || !ctxt->node)
		return;
	if (!ctxt->myDoc->_private)
		ctxt->myDoc->_private = g_hash_table_new(NULL, NULL);
	g_hash_table_insert(ctxt->myDoc->_private, ctxt->node, GINT_TO_POINTER(line));
}

/* The end of an element; of one read without a node, nothing to do. */
static void
on_end_element(void *data, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri)
{
	ParseState *st = ((xmlParserCtxt *)data)->_private;

	if (st->skipping) {
		st->skipping--;
		return;
	}
	xmlSAX2EndElementNs(data, localname, prefix, uri);
}

/* Text, a comment, a reference...: inside an event read without a node, it had content after
 * all (the node libxml2 validates had none): the document is parsed again with nodes only. */
static gboolean
content_while_skipping(void *data)
{
	ParseState *st = ((xmlParserCtxt *)data)->_private;

	if (st->skipping)
		st->broken = TRUE;
	return st->skipping != 0;
}

/* libxml2's handler, unless inside an event read without a node. */
static void
on_characters(void *data, const xmlChar *ch, int len)
{
	if (!content_while_skipping(data))
		xmlSAX2Characters(data, ch, len);
}

/* libxml2's handler, unless inside an event read without a node. */
static void
on_cdata(void *data, const xmlChar *value, int len)
{
	if (!content_while_skipping(data))
		xmlSAX2CDataBlock(data, value, len);
}

/* libxml2's handler, unless inside an event read without a node. */
static void
on_comment(void *data, const xmlChar *value)
{
	if (!content_while_skipping(data))
		xmlSAX2Comment(data, value);
}

/* libxml2's handler, unless inside an event read without a node. */
static void
on_pi(void *data, const xmlChar *target, const xmlChar *value)
{
	if (!content_while_skipping(data))
		xmlSAX2ProcessingInstruction(data, target, value);
}

/* libxml2's handler, unless inside an event read without a node. */
static void
on_reference(void *data, const xmlChar *name)
{
	if (!content_while_skipping(data))
		xmlSAX2Reference(data, name);
}

/* Free what <events> holds of the events read without nodes. */
static void
free_light(TraceLightEvents *light)
{
	if (!light)
		return;
	g_array_free(light->events, TRUE);
	g_array_free(light->attrs, TRUE);
	g_string_chunk_free(light->values);
	g_free(light);
}

/* Free a document, its table of long lines and its events read without nodes. */
void
trace_free_doc(xmlDoc *doc)
{
	xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;

	if (root)
		trace_for_each_element(child, root)
			free_light(child->_private);
	if (doc && doc->_private)
		g_hash_table_destroy(doc->_private);
	xmlFreeDoc(doc);
}

/* libxml2 reports through the handlers above; nothing of its own reaches stderr. */
static void
ignore_generic_error(void *data, const char *format, ...)
{
}

static void
ignore_structured_error(void *data, TraceXmlError *err)
{
}

/* While parsing, errors raised without the parser (libxml2's encoder: "input conversion
 * failed", "encoder error") come here; the parser's own error that follows would name the wrong
 * cause, so note it. */
static void
on_global_error(void *data, TraceXmlError *err)
{
	ParseError *first = data;

	if (err->domain == XML_FROM_I18N || err->code == XML_IO_ENCODER)
		first->encoding = TRUE;
}

/* Read and parse path; NULL with the first error if it cannot be read or is not well-formed.
 * options: 0, or XML_PARSE_NOBLANKS to leave out white space between elements. With fs, events
 * may be read without nodes (trace_fast_schema_light()). */
xmlDoc *
trace_parse_file(const char *path, int options, TraceFastSchema *fs, GError **error)
{
	ParseState ps = { .fs = fs };
	ParseError *first = &ps.first;
	xmlParserCtxt *ctxt;
	struct stat st;
	xmlDoc *doc;
	int fd = g_open(path, O_RDONLY, 0);

	if (fd < 0 || (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))) {
		int err = fd < 0 ? errno : EISDIR;

		if (fd >= 0)
			close(fd);
		g_set_error(error, TRACE_ERROR, TRACE_ERROR_IO, "%s: %s", path, g_strerror(err));
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, ignore_generic_error);
	xmlSetStructuredErrorFunc(first, on_global_error);
	ctxt = xmlNewParserCtxt();
	ctxt->sax->serror = on_parse_error;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->startElementNs = on_start_element;
	ctxt->sax->endElementNs = on_end_element;
	ctxt->sax->characters = on_characters;
	/* (XML_PARSE_NOBLANKS makes it xmlSAX2IgnorableWhitespace(), which drops the blanks) */
	ctxt->sax->ignorableWhitespace = on_characters;
	ctxt->sax->cdataBlock = on_cdata;
	ctxt->sax->comment = on_comment;
	ctxt->sax->processingInstruction = on_pi;
	ctxt->sax->reference = on_reference;
	ps.shapes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	ps.key = g_string_new(NULL);
	ps.lights = g_ptr_array_new();
	ctxt->_private = &ps;
	doc = xmlCtxtReadFd(ctxt, fd, path, NULL,
			    XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT | options);
	xmlFreeParserCtxt(ctxt);
	xmlSetStructuredErrorFunc(NULL, ignore_structured_error); /* first is about to go */
	close(fd);
	g_hash_table_destroy(ps.shapes);
	g_string_free(ps.key, TRUE);
	/* a document that is not well-formed is gone with the lists its <events> held */
	for (guint i = 0; !doc && i < ps.lights->len; i++)
		free_light(g_ptr_array_index(ps.lights, i));
	g_ptr_array_free(ps.lights, TRUE);
	if (ps.broken && doc && !first->set && !first->encoding && !first->dtd_line) {
		/* an event read without a node had content: read them all as nodes */
		g_free(first->message);
		g_free(first->str1);
		g_free(first->str2);
		trace_free_doc(doc);
		return trace_parse_file(path, options, NULL, error);
	}
	if (first->encoding) {
		trace_set_error(error, TRACE_ERROR_SYNTAX, path, first->set ? first->line : 1,
				"bytes that are not text in the declared encoding");
		trace_free_doc(doc);
		doc = NULL;
	} else if (first->dtd_line) { /* before any other error: a DOCTYPE comes before the root */
		trace_set_error(error, TRACE_ERROR_SYNTAX, path, first->dtd_line,
				"a trace has no <!DOCTYPE> (no DTD, no entities)");
		trace_free_doc(doc);
		doc = NULL;
	} else if (first->set || !doc) {
		g_autofree gchar *what = first->set ? parse_message(first) :
						     g_strdup("cannot parse");
		TraceError code = first->domain == XML_FROM_IO ? TRACE_ERROR_IO :
								 TRACE_ERROR_SYNTAX;

		trace_set_error(error, code, path, first->line, "%s", what);
		trace_free_doc(doc);
		doc = NULL;
	}
	g_free(first->message);
	g_free(first->str1);
	g_free(first->str2);
	return doc;
}
