/* SPDX-License-Identifier: GPL-2.0-only */
/* Temporary-name-then-rename output files. */
#include "sim/core/outfile.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary file beside path, with a normal file mode. */
gboolean
sim_outfile_open(SimOutFile *out, const char *path, GError **error)
{
	out->path = g_strdup(path);
	out->tmp = g_strdup_printf("%s.XXXXXX", path);
	int fd = g_mkstemp(out->tmp);

	if (fd >= 0) {
		/* mkstemp makes the file 0600; give it the mode a plain open() would */
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
		out->fp = fdopen(fd, "w");
		if (out->fp)
			return TRUE;
	}
	int err = errno;

	if (fd >= 0) {
		close(fd);
		g_unlink(out->tmp);
	}
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s: %s", path,
		    g_strerror(err));
	g_clear_pointer(&out->tmp, g_free);
	g_clear_pointer(&out->path, g_free);
	return FALSE;
}

/* Flush and rename into place; on any failure nothing is left. */
gboolean
sim_outfile_commit(SimOutFile *out, GError **error)
{
	gboolean ok = fflush(out->fp) == 0 && !ferror(out->fp);
	int err = errno;

	ok = (fclose(out->fp) == 0) && ok;
	out->fp = NULL;
	if (ok && g_rename(out->tmp, out->path) == 0) {
		g_clear_pointer(&out->tmp, g_free);
		g_clear_pointer(&out->path, g_free);
		return TRUE;
	}
	err = errno ? errno : err;
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s: %s", out->path,
		    g_strerror(err));
	sim_outfile_abort(out);
	return FALSE;
}

/* Remove the temporary file. */
void
sim_outfile_abort(SimOutFile *out)
{
	if (out->fp)
		fclose(out->fp);
	out->fp = NULL;
	if (out->tmp)
		g_unlink(out->tmp);
	g_clear_pointer(&out->tmp, g_free);
	g_clear_pointer(&out->path, g_free);
}
