/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers the subcommands share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"

#include "asi/nmi.h"

/* A usage or input error: one line on stderr, exit status 2. */
int
kvmsim_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("kvmsim: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return KVMSIM_EXIT_USAGE;
}

/* Sizes as users write them: decimal with an optional K, M or G (KiB, MiB, GiB). */
gboolean
kvmsim_parse_size(const char *text, guint64 *out)
{
	gchar *end = NULL;
	guint64 shift = 0;

	if (!text || !g_ascii_isdigit(text[0]))
		return FALSE;
	errno = 0;
	guint64 n = g_ascii_strtoull(text, &end, 10);

	if (end == text || errno == ERANGE) /* saturated at 2^64 - 1: too large */
		return FALSE;
	if (*end) {
		switch (g_ascii_toupper(*end)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			return FALSE;
		}
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'B' || *end == 'b')
			end++;
		if (*end)
			return FALSE;
	}
	if (n > (G_MAXUINT64 >> shift))
		return FALSE;
	*out = n << shift;
	return TRUE;
}

/* --mutate NAME, repeatable: the names as a set of protocol mutations. */
gboolean
kvmsim_parse_mutations(gchar **names, SimMutations *out, GError **error)
{
	*out = 0;
	for (guint i = 0; names && names[i]; i++) {
		SimMutation m;

		if (!sim_mutation_lookup(names[i], &m)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--mutate %s: no such mutation (see kvmsim list --mutations)",
				    names[i]);
			return FALSE;
		}
		*out |= SIM_MUTATION_BIT(m);
	}
	return TRUE;
}

/* --nmi K and --nmi-touch KIND (run's and explore's): K from 0 to 100000, a kind of
 * asi_nmi_touch_lookup() (default user); FALSE with a usage message otherwise. */
gboolean
kvmsim_parse_nmi(gint64 count, const char *touch, guint *out_count, guint *out_touch,
		 GError **error)
{
	AsiNmiTouch t = ASI_NMI_TOUCH_USER;

	if (count < 0 || count > 100000) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--nmi %" G_GINT64_FORMAT ": must be from 0 to 100000", count);
		return FALSE;
	}
	if (touch && !asi_nmi_touch_lookup(touch, &t)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--nmi-touch %s: must be none, kernel, user, page-cache or guest-ram",
			    touch);
		return FALSE;
	}
	if (touch && !count) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--nmi-touch needs --nmi K with K > 0");
		return FALSE;
	}
	*out_count = (guint)count;
	*out_touch = t;
	return TRUE;
}
