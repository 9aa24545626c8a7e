/* SPDX-License-Identifier: GPL-2.0-only */
/* Output files that appear whole or not at all: written to a temporary name, renamed on commit. */
#ifndef KVMSIM_SIM_CORE_OUTFILE_H
#define KVMSIM_SIM_CORE_OUTFILE_H

#include <glib.h>
#include <stdio.h>

typedef struct {
	FILE *fp;     /* write here */
	gchar *path;  /* final name */
	gchar *tmp;   /* temporary name beside it */
} SimOutFile;

gboolean sim_outfile_open(SimOutFile *out, const char *path, GError **error);
/* Flush, close and rename into place. */
gboolean sim_outfile_commit(SimOutFile *out, GError **error);
/* Close and remove the temporary file; safe on a file that was never opened. */
void sim_outfile_abort(SimOutFile *out);

#endif
