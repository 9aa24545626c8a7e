/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Output files: a regular file (or a new one) appears whole or not at all: it is written to a
 * temporary name beside it and renamed on commit, and the temporary is removed if the run fails,
 * or is stopped by SIGINT, SIGTERM, SIGHUP or SIGXFSZ. A character device, a FIFO or a symlink is
 * written through, never replaced (`--log /dev/null` leaves /dev/null a device, `--stats
 * /dev/stdout` leaves the link). "-" is standard output.
 */
#ifndef KVMSIM_SIM_CORE_OUTFILE_H
#define KVMSIM_SIM_CORE_OUTFILE_H

#include <glib.h>
#include <stdio.h>

typedef enum {
	SIM_OUTFILE_RENAME,   /* a regular file: temporary, then rename */
	SIM_OUTFILE_THROUGH,  /* a character device, FIFO or symlink: written in place */
	SIM_OUTFILE_STDOUT,   /* "-" */
} SimOutFileKind;

typedef struct {
	FILE *fp;     /* write here */
	gchar *path;  /* final name */
	gchar *tmp;   /* temporary name beside it (SIM_OUTFILE_RENAME only) */
	SimOutFileKind kind;
} SimOutFile;

/*
 * Whether path can take an output, without creating or opening anything: "-", an existing
 * regular file, character device or FIFO (or a symlink to one) that may be written, or a new
 * name in a writable directory. An empty path, a directory, a missing parent, a block device or
 * a socket is an error naming the path and the reason.
 */
gboolean sim_outfile_check(const char *path, GError **error);
/* Whether two output paths name the same destination (the same string once canonical, the same
 * existing file through any link, or both "-"). */
gboolean sim_outfile_same(const char *a, const char *b);
/*
 * The check every command makes before it runs: each of the n outputs (options[i] names the
 * option, paths[i] its path or NULL when unused) passes sim_outfile_check(), and no two name the
 * same destination. The error's message is the one usage line ("--log x and --trace-dat ./x
 * name the same file").
 */
gboolean sim_outfile_check_set(const char *const *options, const char *const *paths, guint n,
			       GError **error);

gboolean sim_outfile_open(SimOutFile *out, const char *path, GError **error);
/* Flush, close and (for a regular file) rename into place. */
gboolean sim_outfile_commit(SimOutFile *out, GError **error);
/* Close and remove the temporary file; safe on a file that was never opened. */
void sim_outfile_abort(SimOutFile *out);

#endif
