/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replay tokens: a schedule's deviations as one printable word. "kx1." then base64url (no
 * padding) of LEB128 varints: the number of deviations, then per deviation the running actor's
 * index + 1 (0: before the first), its points reached and the actor picked, then a check byte
 * (the sum of the bytes before it). The version in the prefix changes with the encoding.
 */
#include "sim/explore/explore-internal.h"

#include <string.h>

#define TOKEN_PREFIX "kx1."

static void
put_varint(GByteArray *b, guint64 v)
{
	do {
		guint8 byte = v & 0x7f;

		v >>= 7;
		if (v)
			byte |= 0x80;
		g_byte_array_append(b, &byte, 1);
	} while (v);
}

static gboolean
get_varint(const guint8 *p, gsize len, gsize *pos, guint64 *out)
{
	guint64 v = 0;

	for (guint shift = 0; *pos < len && shift < 64; shift += 7) {
		guint8 byte = p[(*pos)++];

		v |= (guint64)(byte & 0x7f) << shift;
		if (!(byte & 0x80)) {
			*out = v;
			return TRUE;
		}
	}
	return FALSE;
}

gchar *
explore_token_encode(const ExploreChoice *devs, guint n)
{
	g_autoptr(GByteArray) b = g_byte_array_new();
	guint8 sum = 0;

	put_varint(b, n);
	for (guint i = 0; i < n; i++) {
		put_varint(b, devs[i].cur == EXPLORE_NO_ACTOR ? 0 : (guint64)devs[i].cur + 1);
		put_varint(b, devs[i].arrivals);
		put_varint(b, devs[i].pick);
	}
	for (guint i = 0; i < b->len; i++)
		sum += b->data[i];
	g_byte_array_append(b, &sum, 1);
	g_autofree gchar *text = g_base64_encode(b->data, b->len);

	for (gchar *p = text; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	text[strcspn(text, "=")] = '\0';
	return g_strconcat(TOKEN_PREFIX, text, NULL);
}

GArray *
explore_token_decode(const char *token, GError **error)
{
	if (!g_str_has_prefix(token, TOKEN_PREFIX) ||
	    strspn(token + strlen(TOKEN_PREFIX), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					      "0123456789-_") != strlen(token + strlen(TOKEN_PREFIX))) {
		g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_TOKEN,
			    "not a replay token (a token starts with " TOKEN_PREFIX ")");
		return NULL;
	}
	GString *text = g_string_new(token + strlen(TOKEN_PREFIX));

	for (gchar *p = text->str; *p; p++)
		*p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
	while (text->len % 4)
		g_string_append_c(text, '=');
	gsize len, pos = 0;
	g_autofree guint8 *b = g_base64_decode(text->str, &len);
	guint64 n, v[3];
	guint8 sum = 0;

	g_string_free(text, TRUE);
	for (gsize i = 0; i + 1 < len; i++)
		sum += b[i];
	if (len < 2 || sum != b[len - 1] || !get_varint(b, len - 1, &pos, &n) || n > len) {
		g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_TOKEN,
			    "replay token is damaged (check byte or length wrong)");
		return NULL;
	}
	GArray *devs = g_array_new(FALSE, FALSE, sizeof(ExploreChoice));

	for (guint64 i = 0; i < n; i++) {
		if (!get_varint(b, len - 1, &pos, &v[0]) || !get_varint(b, len - 1, &pos, &v[1]) ||
		    !get_varint(b, len - 1, &pos, &v[2]) || v[0] > G_MAXUINT || v[2] >= G_MAXUINT) {
			g_array_free(devs, TRUE);
			g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_TOKEN,
				    "replay token is damaged (deviation %" G_GUINT64_FORMAT ")", i + 1);
			return NULL;
		}
		ExploreChoice c = { v[0] ? (guint)v[0] - 1 : EXPLORE_NO_ACTOR, v[1], (guint)v[2] };

		g_array_append_val(devs, c);
	}
	if (pos != len - 1) {
		g_array_free(devs, TRUE);
		g_set_error(error, EXPLORE_ERROR, EXPLORE_ERROR_TOKEN,
			    "replay token is damaged (bytes left over)");
		return NULL;
	}
	return devs;
}
