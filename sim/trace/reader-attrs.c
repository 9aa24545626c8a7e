/* SPDX-License-Identifier: GPL-2.0-only */
/* The trace reader's attribute readers: numbers, sizes, addresses, choices, and its errors. */
#include "sim/trace/reader-internal.h"

#include <stdarg.h>
#include <string.h>

#include "sim/core/hostmem.h"

/* A semantic error at the line of node. */
gboolean
reader_fail(Reader *r, xmlNode *node, const char *format, ...)
{
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	trace_set_error(r->error, TRACE_ERROR_SEMANTIC, r->path, trace_node_line(node), "%s", what);
	return FALSE;
}

/* Attribute name of node as written (g_free it), or NULL. An attribute that is one text node (as
 * the parser makes them) is copied straight from it, as xmlGetNoNsProp() would copy it before
 * this copied its copy: a large trace has hundreds of thousands. */
gchar *
reader_attr_text(xmlNode *node, const char *name)
{
	for (xmlAttr *a = node->properties; a; a = a->next) {
		xmlNode *text = a->children;

		if (a->ns || strcmp(NAME(a), name) != 0)
			continue;
		if (text && !text->next && text->type == XML_TEXT_NODE)
			return g_strdup((const char *)text->content);
		break;
	}

	xmlChar *value = xmlGetNoNsProp(node, (const xmlChar *)name);
	gchar *copy = g_strdup((const char *)value);

	xmlFree(value);
	return copy;
}

/* Attribute name of node as a token: the schema's datatypes ignore surrounding white space, so
 * the reader does too (g_free it), or NULL. */
gchar *
reader_attr(xmlNode *node, const char *name)
{
	gchar *copy = reader_attr_text(node, name);

	return copy ? g_strstrip(copy) : NULL;
}

/* Attribute name of node as a token, without a copy when it is one text node with nothing to
 * strip (as nearly every value is): otherwise *copy owns the stripped copy. NULL if absent. */
static const char *
attr_token(xmlNode *node, const char *name, gchar **copy)
{
	for (xmlAttr *a = node->properties; a; a = a->next) {
		xmlNode *text = a->children;
		const char *v;
		gsize len;

		if (a->ns || strcmp(NAME(a), name) != 0)
			continue;
		if (!text || text->next || text->type != XML_TEXT_NODE)
			break;
		v = (const char *)text->content;
		len = strlen(v);
		if (len && !g_ascii_isspace(v[0]) && !g_ascii_isspace(v[len - 1]))
			return v;
		break;
	}
	return *copy = reader_attr(node, name);
}

/* An error about attribute name of node: "<node> name="value" <what>". */
gboolean
reader_fail_attr(Reader *r, xmlNode *node, const char *name, const char *format, ...)
{
	g_autofree gchar *text = reader_attr(node, name);
	g_autofree gchar *what = NULL;
	va_list args;

	va_start(args, format);
	what = g_strdup_vprintf(format, args);
	va_end(args);
	return reader_fail(r, node, "<%s> %s=\"%s\" %s", NAME(node), name, text, what);
}

/* A number as the schema writes it: decimal or 0x-hex; a decimal size may end in K, M or G.
 * FALSE if it does not fit in 64 bits. */
gboolean
reader_parse_number(const char *text, guint64 *out)
{
	guint base = g_str_has_prefix(text, "0x") ? 16 : 10;
	const char *p = text + (base == 16 ? 2 : 0);
	guint shift = 0;
	guint64 v = 0;

	for (; base == 16 ? g_ascii_isxdigit(*p) : g_ascii_isdigit(*p); p++) {
		guint digit = (guint)g_ascii_xdigit_value(*p);

		if (v > (G_MAXUINT64 - digit) / base)
			return FALSE;
		v = v * base + digit;
	}
	if (p == text + (base == 16 ? 2 : 0))
		return FALSE;
	if (*p) {
		if (base == 16 || p[1] || !strchr("KMG", *p))
			return FALSE; /* the schema's patterns allow nothing else */
		shift = *p == 'K' ? 10 : *p == 'M' ? 20 : 30;
	}
	if (v > G_MAXUINT64 >> shift)
		return FALSE;
	*out = v << shift;
	return TRUE;
}

/* Attribute name of node as a number below 2^bits; def if it is absent. */
gboolean
reader_get_number(Reader *r, xmlNode *node, const char *name, guint bits, guint64 def, guint64 *out)
{
	g_autofree gchar *copy = NULL;
	const char *text = attr_token(node, name, &copy);
	guint64 v;

	if (!text) {
		*out = def;
		return TRUE;
	}
	if (!reader_parse_number(text, &v) || (bits < 64 && v >> bits))
		return reader_fail_attr(r, node, name, "does not fit in %u bits", bits);
	*out = v;
	return TRUE;
}

/* A size: a non-zero multiple of a page; def if it is absent. */
gboolean
reader_get_size(Reader *r, xmlNode *node, const char *name, guint64 def, guint64 *out)
{
	if (!reader_get_number(r, node, name, 64, def, out))
		return FALSE;
	if (*out == 0)
		return reader_fail_attr(r, node, name, "is empty: a size is a non-zero multiple of 4 KiB");
	if (*out % SIM_PAGE_SIZE)
		return reader_fail_attr(r, node, name, "is not a multiple of 4 KiB");
	return TRUE;
}

/* A page-aligned address (gpa, hva). */
gboolean
reader_get_page_address(Reader *r, xmlNode *node, const char *name, guint64 *out)
{
	if (!reader_get_number(r, node, name, 64, 0, out))
		return FALSE;
	if (*out % SIM_PAGE_SIZE)
		return reader_fail_attr(r, node, name, "is not page aligned (4 KiB)");
	return TRUE;
}

/* [start, start + size) must end inside the 64-bit address space. */
gboolean
reader_check_range_end(Reader *r, xmlNode *node, const char *name, guint64 start, guint64 size)
{
	if (size > G_MAXUINT64 - start)
		return reader_fail_attr(r, node, name,
				 "plus the size runs past the end of the address space");
	return TRUE;
}

/* The index of name in names: the schema allows no other name there. */
guint
reader_index_of(const char *const *names, guint n, const char *name)
{
	for (guint i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], name) == 0)
			return i;
	g_assert_not_reached();
}


/* Which of names attribute name has (a token: surrounding spaces do not count); def if absent. */
guint
reader_get_choice(xmlNode *node, const char *name, const char *const *names, guint n, guint def)
{
	g_autofree gchar *copy = NULL;
	const char *text = attr_token(node, name, &copy);

	return text ? reader_index_of(names, n, text) : def;
}
