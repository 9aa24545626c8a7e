/* SPDX-License-Identifier: GPL-2.0-only */
/* Event log sinks: a file written atomically, an in-memory copy for tests, a running SHA-256. */
#include "sim/core/log.h"

#include <stdarg.h>

#include "sim/core/outfile.h"

struct SimLog {
	SimLogHead head;    /* must stay first */
	SimSched *sched;
	SimOutFile file;
	gboolean to_file;
	GString *capture;
	GChecksum *sha;
	GString *line;
	guint64 lines;
};

/* A log without sinks (formatting nothing) attached to sched. */
SimLog *
sim_log_new(SimSched *sched)
{
	SimLog *log = g_new0(SimLog, 1);

	log->sched = sched;
	log->line = g_string_sized_new(160);
	if (sched)
		sim_sched_set_log(sched, log);
	return log;
}

/* Free the log; a file not finished is removed. */
void
sim_log_free(SimLog *log)
{
	if (!log)
		return;
	sim_log_abandon(log);
	if (log->capture)
		g_string_free(log->capture, TRUE);
	if (log->sha)
		g_checksum_free(log->sha);
	g_string_free(log->line, TRUE);
	g_free(log);
}

gboolean
sim_log_open_file(SimLog *log, const char *path, GError **error)
{
	if (!sim_outfile_open(&log->file, path, error))
		return FALSE;
	log->to_file = TRUE;
	log->head.on = TRUE;
	return TRUE;
}

void
sim_log_capture(SimLog *log)
{
	if (!log->capture)
		log->capture = g_string_new(NULL);
	log->head.on = TRUE;
}

void
sim_log_hash(SimLog *log)
{
	if (!log->sha)
		log->sha = g_checksum_new(G_CHECKSUM_SHA256);
	log->head.on = TRUE;
}

gboolean
sim_log_finish(SimLog *log, GError **error)
{
	if (!log->to_file)
		return TRUE;
	log->to_file = FALSE;
	return sim_outfile_commit(&log->file, error);
}

void
sim_log_abandon(SimLog *log)
{
	if (log->to_file)
		sim_outfile_abort(&log->file);
	log->to_file = FALSE;
}

const char *
sim_log_text(const SimLog *log)
{
	return log->capture ? log->capture->str : "";
}

gsize
sim_log_text_len(const SimLog *log)
{
	return log->capture ? log->capture->len : 0;
}

void
sim_log_capture_drop(SimLog *log)
{
	if (log->capture)
		g_string_truncate(log->capture, 0);
}

/* The SHA-256 of every line so far, without disturbing the running hash. */
gchar *
sim_log_digest(const SimLog *log)
{
	if (!log->sha)
		return NULL;
	GChecksum *copy = g_checksum_copy(log->sha);
	gchar *digest = g_strconcat("sha256:", g_checksum_get_string(copy), NULL);

	g_checksum_free(copy);
	return digest;
}

guint64
sim_log_lines(const SimLog *log)
{
	return log->lines;
}

/* Format one line and hand it to every sink. */
void
sim_log_emitf(SimLog *log, const char *event, const char *fmt, ...)
{
	va_list ap;
	GString *line = log->line;

	g_string_printf(line, "%8" G_GUINT64_FORMAT " %-9s %s: ",
			log->sched ? sim_sched_now(log->sched) : 0,
			log->sched ? sim_sched_current_name(log->sched) : "main", event);
	va_start(ap, fmt);
	g_string_append_vprintf(line, fmt, ap);
	va_end(ap);
	g_string_append_c(line, '\n');
	log->lines++;
	if (log->to_file)
		fwrite(line->str, 1, line->len, log->file.fp);
	if (log->capture)
		g_string_append_len(log->capture, line->str, (gssize)line->len);
	if (log->sha)
		g_checksum_update(log->sha, (const guchar *)line->str, (gssize)line->len);
}
