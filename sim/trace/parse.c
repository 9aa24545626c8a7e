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

/* An element: libxml2 keeps lines in an unsigned short, so past 65,534 the document's table
 * (doc->_private) holds the real line (trace_node_line()). */
static void
on_start_element(void *data, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
		 int nb_namespaces, const xmlChar **namespaces, int nb_attributes,
		 int nb_defaulted, const xmlChar **attributes)
{
	xmlParserCtxt *ctxt = data;
	int line = xmlSAX2GetLineNumber(data);

	xmlSAX2StartElementNs(data, localname, prefix, uri, nb_namespaces, namespaces,
			      nb_attributes, nb_defaulted, attributes);
	if (line < 65535 || !ctxt->myDoc || !ctxt->node)
		return;
	if (!ctxt->myDoc->_private)
		ctxt->myDoc->_private = g_hash_table_new(NULL, NULL);
	g_hash_table_insert(ctxt->myDoc->_private, ctxt->node, GINT_TO_POINTER(line));
}

/* Free a document and its table of long lines. */
void
trace_free_doc(xmlDoc *doc)
{
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
 * options: 0, or XML_PARSE_NOBLANKS to leave out white space between elements. */
xmlDoc *
trace_parse_file(const char *path, int options, GError **error)
{
	ParseError first = { 0 };
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
	xmlSetStructuredErrorFunc(&first, on_global_error);
	ctxt = xmlNewParserCtxt();
	ctxt->sax->serror = on_parse_error;
	ctxt->sax->internalSubset = on_internal_subset;
	ctxt->sax->startElementNs = on_start_element;
	ctxt->_private = &first;
	doc = xmlCtxtReadFd(ctxt, fd, path, NULL,
			    XML_PARSE_NONET | XML_PARSE_BIG_LINES | XML_PARSE_COMPACT | options);
	xmlFreeParserCtxt(ctxt);
	xmlSetStructuredErrorFunc(NULL, ignore_structured_error); /* first is about to go */
	close(fd);
	if (first.encoding) {
		trace_set_error(error, TRACE_ERROR_SYNTAX, path, first.set ? first.line : 1,
				"bytes that are not text in the declared encoding");
		trace_free_doc(doc);
		doc = NULL;
	} else if (first.dtd_line) { /* before any other error: a DOCTYPE comes before the root */
		trace_set_error(error, TRACE_ERROR_SYNTAX, path, first.dtd_line,
				"a trace has no <!DOCTYPE> (no DTD, no entities)");
		trace_free_doc(doc);
		doc = NULL;
	} else if (first.set || !doc) {
		g_autofree gchar *what = first.set ? parse_message(&first) :
						     g_strdup("cannot parse");
		TraceError code = first.domain == XML_FROM_IO ? TRACE_ERROR_IO : TRACE_ERROR_SYNTAX;

		trace_set_error(error, code, path, first.line, "%s", what);
		trace_free_doc(doc);
		doc = NULL;
	}
	g_free(first.message);
	g_free(first.str1);
	g_free(first.str2);
	return doc;
}
