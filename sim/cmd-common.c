/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers the subcommands share. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"

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
