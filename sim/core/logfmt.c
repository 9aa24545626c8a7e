/* SPDX-License-Identifier: GPL-2.0-only */
/* A printf subset written directly into a buffer, byte for byte what glibc's printf writes. */
#define _GNU_SOURCE /* dl_iterate_phdr() */
#include "sim/core/logfmt.h"

#include <link.h>
#include <string.h>

/* Where the text being formatted goes: FALSE from put once it no longer fits. */
typedef struct {
	char *p;
	char *end;
} Out;

/* Pieces of a log line are a few bytes long: two overlapping fixed-size copies cost less than a
 * call to memcpy() or a loop (the compiler turns each into a load and a store). */
static inline __attribute__((always_inline)) gboolean
put(Out *o, const char *s, gsize n)
{
	char *p = o->p;

	if ((gsize)(o->end - p) < n)
		return FALSE;
	if (n >= 16 && n <= 32) {
		memcpy(p, s, 16);
		memcpy(p + n - 16, s + n - 16, 16);
	} else if (n >= 8 && n < 16) {
		memcpy(p, s, 8);
		memcpy(p + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(p, s, 4);
		memcpy(p + n - 4, s + n - 4, 4);
	} else if (n < 4) {
		for (gsize i = 0; i < n; i++)
			p[i] = s[i];
	} else {
		memcpy(p, s, n);
	}
	o->p = p + n;
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

/* "00" to "99" and "00" to "ff": two digits per step. */
static const char dec_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";
static const char hex_pairs[2][513] = {
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	"000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
	"202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
	"404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F"
	"606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"
	"808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F"
	"A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
	"C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
	"E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF",
};

/* Digits of v in base 10 or 16, written backwards ending at end, two at a time; returns where
 * they start (no leading zero: a pair's is skipped). Each base has its own loop so that the
 * compiler divides by a constant (a multiply, or a shift) rather than with a division. */
static char *
digits(char *end, guint64 v, guint base, gboolean upper)
{
	if (base == 16) {
		const char *pairs = hex_pairs[upper];

		do {
			end -= 2;
			memcpy(end, pairs + (v & 0xff) * 2, 2);
			v >>= 8;
		} while (v);
		return end + (end[0] == '0' && end[1]);
	}
	do {
		end -= 2;
		memcpy(end, dec_pairs + (v % 100) * 2, 2);
		v /= 100;
	} while (v);
	return end + (end[0] == '0' && end[1]);
}

/* One conversion of a format: the literal text before it, then what printf would do. */
typedef struct {
	guint16 lit_off, lit_len;  /* the text before it, in the format */
	char conv;                 /* d i u x X s c %, or 0: the format's end (after the text) */
	guint8 left, zero, alt, longs, shorts;
	guint16 width;
	gint16 precision;          /* -1: none; -2: from the arguments (".*") */
} Spec;

#define MAX_SPECS 24
/* What format_fast() may write past the end of a piece (fixed-size copies). */
#define FAST_SLACK 32

/* A format taken apart once: the call sites pass a few dozen string literals, each millions of
 * times. */
typedef struct {
	const char *fmt;           /* the format it was made from (the key) */
	gchar *copy;               /* its text then: a key whose text changed is compiled again */
	gsize len;
	gint n;                    /* specs, the last one conv 0; -1: outside the subset */
	gboolean constant;         /* fmt is in kvmsim's read-only segments: its text stays */
	gsize fixed;               /* at most this much besides the text of %s arguments */
	Spec specs[MAX_SPECS];
} Compiled;

#define CACHE_SLOTS 128
static Compiled cache[CACHE_SLOTS];

/* The read-only segments of the program (string literals live there), [start, end) each. */
#define MAX_SEGMENTS 8
static guintptr segments[MAX_SEGMENTS][2];
static gint nr_segments = -1;

/* dl_iterate_phdr() lists the program first: note its loaded segments that are not writable. */
static int
note_segments(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	nr_segments = 0;
	for (guint i = 0; i < info->dlpi_phnum && nr_segments < MAX_SEGMENTS; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W))
			continue;
		segments[nr_segments][0] = info->dlpi_addr + ph->p_vaddr;
		segments[nr_segments][1] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
		nr_segments++;
	}
	return 1;
}

/* Is the whole of fmt (len bytes and its NUL) in a read-only segment of the program? */
static gboolean
is_constant(const char *fmt, gsize len)
{
	guintptr start = (guintptr)fmt, end = start + len + 1;

	if (nr_segments < 0)
		dl_iterate_phdr(note_segments, NULL);
	for (gint i = 0; i < nr_segments; i++)
		if (start >= segments[i][0] && end <= segments[i][1])
			return TRUE;
	return FALSE;
}

/* Take fmt apart into c (n = -1 if it uses something outside the subset or has too many
 * conversions). */
static void
compile(Compiled *c, const char *fmt)
{
	const char *f = fmt, *lit = fmt;

	g_free(c->copy);
	c->fmt = fmt;
	c->len = strlen(fmt);
	/* 32 bytes over, for format_fast()'s fixed-size copies of the literal text */
	c->copy = g_malloc0(c->len + 1 + FAST_SLACK);
	memcpy(c->copy, fmt, c->len + 1);
	c->constant = is_constant(fmt, c->len);
	c->n = -1;
	if (c->len > G_MAXUINT16)
		return;
	for (gint n = 0; n < MAX_SPECS; n++) {
		Spec *sp = &c->specs[n];

		memset(sp, 0, sizeof(*sp));
		sp->precision = -1;
		while (*f && *f != '%')
			f++;
		sp->lit_off = (guint16)(lit - fmt);
		sp->lit_len = (guint16)(f - lit);
		if (!*f) {
			c->n = n + 1;
			c->fixed = 0;
			for (gint i = 0; i <= n; i++) {
				const Spec *x = &c->specs[i];

				c->fixed += x->lit_len + x->width;
				if (x->conv && x->conv != 's')
					c->fixed += 24 + 2; /* digits, sign or 0x, or one char */
			}
			return;
		}
		f++;
		for (;; f++) {
			if (*f == '-')
				sp->left = TRUE;
			else if (*f == '0')
				sp->zero = TRUE;
			else if (*f == '#')
				sp->alt = TRUE;
			else
				break;
		}
		gsize width = 0;

		while (*f >= '0' && *f <= '9')
			width = width * 10 + (gsize)(*f++ - '0');
		if (width > 1000)
			return;
		sp->width = (guint16)width;
		if (*f == '.') {
			f++;
			if (*f == '*') {
				f++;
				sp->precision = -2;
			} else {
				gsize precision = 0;

				while (*f >= '0' && *f <= '9')
					precision = precision * 10 + (gsize)(*f++ - '0');
				if (precision > 1000)
					return;
				sp->precision = (gint16)precision;
			}
		}
		for (;; f++) {
			if (*f == 'l' || *f == 'z')
				sp->longs++;
			else if (*f == 'h')
				sp->shorts++;
			else
				break;
		}
		if (sp->precision != -1 && *f != 's')
			return;
		if (!strchr("%scdiuxX", *f) || !*f)
			return;
		sp->conv = *f++;
		lit = f;
	}
}

/* The compiled form of fmt, from the cache (slot by address, checked against the text unless
 * that is a literal of the program, which cannot change). */
static inline const Compiled *
lookup(const char *fmt)
{
	Compiled *c = &cache[((guintptr)fmt >> 3) % CACHE_SLOTS];

	if (G_UNLIKELY(c->fmt != fmt || (!c->constant && strncmp(c->copy, fmt, c->len + 1) != 0)))
		compile(c, fmt);
	return c;
}

/* One conversion of sp, its argument(s) from ap. FALSE if it does not fit. */
static inline __attribute__((always_inline)) gboolean
convert(Out *o, const Spec *sp, va_list *ap)
{
	char num[24], *end = num + sizeof(num), *start;
	guint64 v;
	char c;

	switch (sp->conv) {
	case '%':
		return put(o, "%", 1);
	case 's': {
		gssize precision = sp->precision == -2 ? va_arg(*ap, int) : sp->precision;
		const char *s = va_arg(*ap, const char *);
		gsize len;

		if (!s)
			s = "(null)";
		len = precision >= 0 ? strnlen(s, (gsize)precision) : strlen(s);
		return put_field(o, "", 0, s, len, sp->width, sp->left, FALSE);
	}
	case 'c':
		c = (char)va_arg(*ap, int);
		return put_field(o, "", 0, &c, 1, sp->width, sp->left, FALSE);
	case 'd':
	case 'i': {
		gint64 sv = sp->longs ? va_arg(*ap, gint64) : va_arg(*ap, int);

		if (sp->shorts)
			sv = sp->shorts == 1 ? (short)sv : (signed char)sv;
		v = sv < 0 ? -(guint64)sv : (guint64)sv;
		start = digits(end, v, 10, FALSE);
		return put_field(o, "-", sv < 0, start, (gsize)(end - start), sp->width, sp->left,
				 sp->zero);
	}
	default: /* u x X */
		v = sp->longs ? va_arg(*ap, guint64) : va_arg(*ap, unsigned int);
		if (sp->shorts)
			v = sp->shorts == 1 ? (unsigned short)v : (unsigned char)v;
		start = digits(end, v, sp->conv == 'u' ? 10 : 16, sp->conv == 'X');
		/* "%#x" of 0 is "0": the prefix is only for non-zero values */
		return put_field(o, sp->conv == 'X' ? "0X" : "0x",
				 sp->alt && sp->conv != 'u' && v ? 2 : 0, start,
				 (gsize)(end - start), sp->width, sp->left, sp->zero);
	}
}

/* n bytes (n <= FAST_SLACK) of s to p, by one fixed-size copy of 16 or FAST_SLACK bytes: s and p
 * have that many. */
static inline __attribute__((always_inline)) void
copy_slack(char *p, const char *s, gsize n)
{
	if (n <= 16)
		memcpy(p, s, 16);
	else
		memcpy(p, s, FAST_SLACK);
}

/* n bytes of padding (all of run's kind) at p; past FAST_SLACK, by memset(). */
static inline __attribute__((always_inline)) void
pad_fast(char *p, const char *run, gsize n)
{
	if (n <= FAST_SLACK)
		copy_slack(p, run, n);
	else
		memset(p, run[0], n);
}

/*
 * sim_logfmt() when the buffer has room for everything but the %s arguments with FAST_SLACK to
 * spare (nearly every line): the literal text and the numbers are written without checking the
 * room, with fixed-size copies that may write past what they mean to (the next piece writes over
 * it); a string is checked against the room left for itself and all the fixed rest. -1: do it
 * the careful way (ap is not touched: the arguments are read from a copy).
 */
static gssize
format_fast(const Compiled *c, char *buf, gsize cap, va_list ap)
{
	static const char zeros[FAST_SLACK] = "00000000000000000000000000000000";
	static const char spaces[FAST_SLACK] = "                                ";
	char *p = buf, *end = buf + cap;
	gssize result = -1;
	va_list aq;

	if (c->n <= 0 || cap < c->fixed + FAST_SLACK)
		return -1;
	va_copy(aq, ap);
	for (gint i = 0; i < c->n; i++) {
		const Spec *sp = &c->specs[i];
		char num[24], *nend = num + sizeof(num), *start;
		gsize len, fill;
		guint64 v;

		if (sp->lit_len <= FAST_SLACK)
			copy_slack(p, c->copy + sp->lit_off, sp->lit_len);
		else
			memcpy(p, c->copy + sp->lit_off, sp->lit_len);
		p += sp->lit_len;
		switch (sp->conv) {
		case 0:
			result = p - buf;
			goto out;
		case '%':
			*p++ = '%';
			continue;
		case 's': {
			gssize precision = sp->precision == -2 ? va_arg(aq, int) : sp->precision;
			const char *s = va_arg(aq, const char *);

			if (!s)
				s = "(null)";
			len = precision >= 0 ? strnlen(s, (gsize)precision) : strlen(s);
			if ((gsize)(end - p) < len + sp->width + c->fixed + FAST_SLACK)
				goto out;
			fill = sp->width > len ? sp->width - len : 0;
			if (fill && !sp->left) {
				memset(p, ' ', fill);
				p += fill;
			}
			memcpy(p, s, len);
			p += len;
			if (fill && sp->left) {
				memset(p, ' ', fill);
				p += fill;
			}
			continue;
		}
		case 'c':
			num[0] = (char)va_arg(aq, int);
			start = num;
			nend = num + 1;
			v = 0;
			break;
		case 'd':
		case 'i': {
			gint64 sv = sp->longs ? va_arg(aq, gint64) : va_arg(aq, int);

			if (sp->shorts)
				sv = sp->shorts == 1 ? (short)sv : (signed char)sv;
			v = sv < 0 ? -(guint64)sv : (guint64)sv;
			start = digits(nend, v, 10, FALSE);
			if (sv < 0)
				*--start = '-';
			break;
		}
		default: /* u x X */
			v = sp->longs ? va_arg(aq, guint64) : va_arg(aq, unsigned int);
			if (sp->shorts)
				v = sp->shorts == 1 ? (unsigned short)v : (unsigned char)v;
			start = digits(nend, v, sp->conv == 'u' ? 10 : 16, sp->conv == 'X');
			break;
		}
		/* a number or a char: prefix, zero or space padding, digits, as put_field() */
		const char *prefix = "";
		gsize prefix_len = 0;

		if (sp->conv == 'd' || sp->conv == 'i') {
			if (*start == '-') { /* the sign goes before the zeros */
				prefix = "-";
				prefix_len = 1;
				start++;
			}
		} else if ((sp->conv == 'x' || sp->conv == 'X') && sp->alt && v) {
			prefix = sp->conv == 'X' ? "0X" : "0x";
			prefix_len = 2;
		}
		len = (gsize)(nend - start);
		fill = sp->width > prefix_len + len ? sp->width - prefix_len - len : 0;
		if (fill && !sp->left && !(sp->zero && sp->conv != 'c')) {
			pad_fast(p, spaces, fill);
			p += fill;
		}
		if (prefix_len) /* "-" or "0x": two bytes either way */
			memcpy(p, prefix, 2);
		p += prefix_len;
		if (fill && !sp->left && sp->zero && sp->conv != 'c') {
			pad_fast(p, zeros, fill);
			p += fill;
		}
		memcpy(p, start, len);
		p += len;
		if (fill && sp->left) {
			pad_fast(p, spaces, fill);
			p += fill;
		}
	}
out:
	va_end(aq);
	return result;
}

gssize
sim_logfmt(char *buf, gsize cap, const char *fmt, va_list ap)
{
	const Compiled *c = lookup(fmt);
	Out o = { buf, buf + cap };
	va_list aq;
	gboolean ok = c->n > 0;
	gssize fast = format_fast(c, buf, cap, ap);

	if (fast >= 0)
		return fast;
	va_copy(aq, ap);
	for (gint i = 0; ok && i < c->n; i++) {
		const Spec *sp = &c->specs[i];

		ok = put(&o, fmt + sp->lit_off, sp->lit_len) && (!sp->conv || convert(&o, sp, &aq));
	}
	va_end(aq);
	return ok ? o.p - buf : -1;
}
