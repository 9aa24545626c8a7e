/* SPDX-License-Identifier: GPL-2.0-only */
/* A printf subset written directly into a buffer, byte for byte what glibc's printf writes. */
#include "sim/core/logfmt.h"

#include <string.h>

/* Where the text being formatted goes: FALSE from put once it no longer fits. */
typedef struct {
	char *p;
	char *end;
} Out;

/* Pieces of a log line are a few bytes long: a loop costs less than a call to memcpy(). */
static inline __attribute__((always_inline)) gboolean
put(Out *o, const char *s, gsize n)
{
	if ((gsize)(o->end - o->p) < n)
		return FALSE;
	if (n > 32) {
		memcpy(o->p, s, n);
		o->p += n;
		return TRUE;
	}
	for (gsize i = 0; i < n; i++)
		o->p[i] = s[i];
	o->p += n;
	return TRUE;
}

static inline __attribute__((always_inline)) gboolean
pad(Out *o, char c, gsize n)
{
	if ((gsize)(o->end - o->p) < n)
		return FALSE;
	for (gsize i = 0; i < n; i++)
		o->p[i] = c;
	o->p += n;
	return TRUE;
}

/* One field: prefix (sign or 0x), zero padding, digits or text, space padding, per printf. */
static inline __attribute__((always_inline)) gboolean
put_field(Out *o, const char *prefix, gsize prefix_len, const char *body, gsize len, gsize width,
	  gboolean left, gboolean zero)
{
	gsize used = prefix_len + len;
	gsize fill = width > used ? width - used : 0;

	if (!left && !zero && !pad(o, ' ', fill))
		return FALSE;
	if (!put(o, prefix, prefix_len))
		return FALSE;
	if (!left && zero && !pad(o, '0', fill))
		return FALSE;
	if (!put(o, body, len))
		return FALSE;
	return !left || pad(o, ' ', fill);
}

/* Digits of v in base 10 or 16, written backwards ending at end; returns where they start. Each
 * base has its own loop so that the compiler divides by a constant (a multiply, or a shift) rather
 * than with a division instruction per digit. */
static char *
digits(char *end, guint64 v, guint base, gboolean upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	if (base == 16) {
		do {
			*--end = set[v & 15];
			v >>= 4;
		} while (v);
		return end;
	}
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

gssize
sim_logfmt(char *buf, gsize cap, const char *fmt, va_list ap)
{
	Out o = { buf, buf + cap };

	for (const char *f = fmt; *f;) {
		/* the text up to the next conversion, copied as it is scanned */
		while (*f != '%') {
			if (!*f)
				return o.p - buf;
			if (o.p == o.end)
				return -1;
			*o.p++ = *f++;
		}
		f++;

		gboolean left = FALSE, zero = FALSE, alt = FALSE;
		gsize width = 0;
		gssize precision = -1;
		int longs = 0, shorts = 0;

		for (;; f++) {
			if (*f == '-')
				left = TRUE;
			else if (*f == '0')
				zero = TRUE;
			else if (*f == '#')
				alt = TRUE;
			else
				break;
		}
		while (*f >= '0' && *f <= '9')
			width = width * 10 + (gsize)(*f++ - '0');
		if (*f == '.') {
			f++;
			if (*f == '*') {
				f++;
				precision = va_arg(ap, int);
			} else {
				precision = 0;
				while (*f >= '0' && *f <= '9')
					precision = precision * 10 + (*f++ - '0');
			}
		}
		for (;; f++) {
			if (*f == 'l' || *f == 'z')
				longs++;
			else if (*f == 'h')
				shorts++;
			else
				break;
		}
		if (precision >= 0 && *f != 's')
			return -1;

		char num[24], *end = num + sizeof(num), *start;
		guint64 v;
		char c;

		switch (*f) {
		case '%':
			if (!put(&o, "%", 1))
				return -1;
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			gsize len;

			if (!s)
				s = "(null)";
			len = precision >= 0 ? strnlen(s, (gsize)precision) : strlen(s);
			if (!put_field(&o, "", 0, s, len, width, left, FALSE))
				return -1;
			break;
		}
		case 'c':
			c = (char)va_arg(ap, int);
			if (!put_field(&o, "", 0, &c, 1, width, left, FALSE))
				return -1;
			break;
		case 'd':
		case 'i': {
			gint64 sv = longs ? va_arg(ap, gint64) : va_arg(ap, int);

			if (shorts)
				sv = shorts == 1 ? (short)sv : (signed char)sv;
			v = sv < 0 ? -(guint64)sv : (guint64)sv;
			start = digits(end, v, 10, FALSE);
			if (!put_field(&o, "-", sv < 0, start, (gsize)(end - start), width, left, zero))
				return -1;
			break;
		}
		case 'u':
		case 'x':
		case 'X':
			v = longs ? va_arg(ap, guint64) : va_arg(ap, unsigned int);
			if (shorts)
				v = shorts == 1 ? (unsigned short)v : (unsigned char)v;
			start = digits(end, v, *f == 'u' ? 10 : 16, *f == 'X');
			/* "%#x" of 0 is "0": the prefix is only for non-zero values */
			if (!put_field(&o, *f == 'X' ? "0X" : "0x", alt && *f != 'u' && v ? 2 : 0,
				       start, (gsize)(end - start), width, left, zero))
				return -1;
			break;
		default:
			return -1;
		}
		f++;
	}
	return o.p - buf;
}
