/* SPDX-License-Identifier: GPL-2.0-only */
/* Output files: temporary-name-then-rename for regular files, written through for the rest. */
#include "sim/core/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The temporaries not yet committed or aborted, for the signal handler: it may only unlink and
 * re-raise, so the names live in a fixed table it can walk without locks or allocation.
 */
#define LIVE_TMPS_MAX 16
static gchar *volatile live_tmps[LIVE_TMPS_MAX];

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGXFSZ };

/* Remove every live temporary, then die of the signal as if nobody had caught it. */
static void
remove_tmps_and_reraise(int sig)
{
	for (guint i = 0; i < LIVE_TMPS_MAX; i++) {
		gchar *tmp = live_tmps[i];

		if (tmp)
			unlink(tmp);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catch the signals that end a run, once; a signal the caller ignores stays ignored. */
static void
install_cleanup_handlers(void)
{
	static gboolean installed;

	if (installed)
		return;
	installed = TRUE;
	for (guint i = 0; i < G_N_ELEMENTS(cleanup_signals); i++) {
		struct sigaction sa = { 0 }, old;

		sa.sa_handler = remove_tmps_and_reraise;
		sigemptyset(&sa.sa_mask);
		if (sigaction(cleanup_signals[i], &sa, &old) == 0 && old.sa_handler == SIG_IGN)
			sigaction(cleanup_signals[i], &old, NULL);
	}
}

static void
live_tmp_add(gchar *tmp)
{
	install_cleanup_handlers();
	for (guint i = 0; i < LIVE_TMPS_MAX; i++) {
		if (!live_tmps[i]) {
			live_tmps[i] = tmp;
			return;
		}
	}
	g_error("kvmsim: more than %d output files open at once", LIVE_TMPS_MAX);
}

static void
live_tmp_remove(const gchar *tmp)
{
	for (guint i = 0; i < LIVE_TMPS_MAX; i++) {
		if (live_tmps[i] == tmp)
			live_tmps[i] = NULL;
	}
}

static gboolean
fail(GError **error, int err, const char *path, const char *reason)
{
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err), "%s: %s", path,
		    reason ? reason : g_strerror(err));
	return FALSE;
}

/* Whether an existing file of mode m takes an output written through (or renamed onto). */
static gboolean
check_existing(const char *path, const struct stat *st, GError **error)
{
	if (S_ISDIR(st->st_mode))
		return fail(error, EISDIR, path, NULL);
	if (!S_ISREG(st->st_mode) && !S_ISCHR(st->st_mode) && !S_ISFIFO(st->st_mode))
		return fail(error, EINVAL, path,
			    "not a regular file, character device or FIFO");
	return TRUE;
}

gboolean
sim_outfile_check(const char *path, GError **error)
{
	struct stat st;

	if (!*path)
		return fail(error, ENOENT, "''", "an empty path names no file");
	if (strcmp(path, "-") == 0)
		return TRUE;
	if (g_str_has_suffix(path, "/"))
		return fail(error, EISDIR, path, "names a directory");
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
			return fail(error, errno, path, "a symlink to nothing that can be written");
		if (!check_existing(path, &st, error))
			return FALSE;
		if (access(path, W_OK) != 0)
			return fail(error, errno, path, NULL);
		return TRUE;
	}
	if (errno != ENOENT)
		return fail(error, errno, path, NULL);
	g_autofree gchar *dir = g_path_get_dirname(path);

	if (stat(dir, &st) != 0)
		return fail(error, errno, path, "its directory does not exist");
	if (!S_ISDIR(st.st_mode))
		return fail(error, ENOTDIR, path, "its parent is not a directory");
	if (access(dir, W_OK | X_OK) != 0)
		return fail(error, errno, path, "its directory cannot be written");
	return TRUE;
}

gboolean
sim_outfile_same(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
		return strcmp(a, b) == 0;
	if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	g_autofree gchar *ca = g_canonicalize_filename(a, NULL);
	g_autofree gchar *cb = g_canonicalize_filename(b, NULL);

	return strcmp(ca, cb) == 0;
}

/* Every output usable, and no two the same file: checked before a command runs anything. */
gboolean
sim_outfile_check_set(const char *const *options, const char *const *paths, guint n,
		      GError **error)
{
	for (guint i = 0; i < n; i++) {
		if (!paths[i])
			continue;
		if (!sim_outfile_check(paths[i], error)) {
			g_prefix_error(error, "%s ", options[i]);
			return FALSE;
		}
		for (guint j = 0; j < i; j++) {
			if (paths[j] && sim_outfile_same(paths[i], paths[j])) {
				g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
					    "%s %s and %s %s name the same file", options[j],
					    paths[j], options[i], paths[i]);
				return FALSE;
			}
		}
	}
	return TRUE;
}

/* A device, FIFO or symlink, opened where it is. */
static gboolean
open_through(SimOutFile *out, const char *path, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

	if (fd >= 0)
		out->fp = fdopen(fd, "w");
	if (out->fp)
		return TRUE;
	int err = errno;

	if (fd >= 0)
		close(fd);
	return fail(error, err, path, NULL);
}

/* A temporary file beside path, with a normal file mode. */
static gboolean
open_tmp(SimOutFile *out, const char *path, GError **error)
{
	out->tmp = g_strdup_printf("%s.XXXXXX", path);
	int fd = g_mkstemp(out->tmp);

	if (fd >= 0) {
		/* mkstemp makes the file 0600; give it the mode a plain open() would */
		mode_t mask = umask(0);

		umask(mask);
		fchmod(fd, 0666 & ~mask);
		out->fp = fdopen(fd, "w");
		if (out->fp) {
			live_tmp_add(out->tmp);
			return TRUE;
		}
	}
	int err = errno;

	if (fd >= 0) {
		close(fd);
		g_unlink(out->tmp);
	}
	g_clear_pointer(&out->tmp, g_free);
	return fail(error, err, path, NULL);
}

/* Open path for writing in the way its kind asks for; nothing is left if that fails. */
gboolean
sim_outfile_open(SimOutFile *out, const char *path, GError **error)
{
	struct stat st;

	*out = (SimOutFile){ 0 };
	if (!sim_outfile_check(path, error))
		return FALSE;
	out->path = g_strdup(path);
	if (strcmp(path, "-") == 0) {
		out->kind = SIM_OUTFILE_STDOUT;
		out->fp = stdout;
		return TRUE;
	}
	if (lstat(path, &st) == 0 && (S_ISLNK(st.st_mode) || S_ISCHR(st.st_mode) ||
				      S_ISFIFO(st.st_mode))) {
		out->kind = SIM_OUTFILE_THROUGH;
		if (open_through(out, path, error))
			return TRUE;
	} else {
		out->kind = SIM_OUTFILE_RENAME;
		if (open_tmp(out, path, error))
			return TRUE;
	}
	g_clear_pointer(&out->path, g_free);
	return FALSE;
}

/* Flush and put into place; on any failure nothing of a regular file is left. */
gboolean
sim_outfile_commit(SimOutFile *out, GError **error)
{
	gboolean ok = fflush(out->fp) == 0 && !ferror(out->fp);
	int err = errno;

	if (out->kind == SIM_OUTFILE_STDOUT) {
		out->fp = NULL;
		g_clear_pointer(&out->path, g_free);
		return ok ? TRUE : fail(error, err ? err : EIO, "-", NULL);
	}
	ok = (fclose(out->fp) == 0) && ok;
	out->fp = NULL;
	if (ok && (out->kind == SIM_OUTFILE_THROUGH || g_rename(out->tmp, out->path) == 0)) {
		if (out->tmp)
			live_tmp_remove(out->tmp);
		g_clear_pointer(&out->tmp, g_free);
		g_clear_pointer(&out->path, g_free);
		return TRUE;
	}
	err = errno ? errno : err;
	fail(error, err ? err : EIO, out->path, NULL);
	sim_outfile_abort(out);
	return FALSE;
}

/* Close, and remove the temporary file. */
void
sim_outfile_abort(SimOutFile *out)
{
	if (out->fp && out->kind != SIM_OUTFILE_STDOUT)
		fclose(out->fp);
	out->fp = NULL;
	if (out->tmp) {
		live_tmp_remove(out->tmp);
		g_unlink(out->tmp);
	}
	g_clear_pointer(&out->tmp, g_free);
	g_clear_pointer(&out->path, g_free);
}
