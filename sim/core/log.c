/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Event log sinks: a file written atomically, an in-memory copy for tests, a running SHA-256.
 * Lines are formatted straight into a chunk buffer (logfmt.h); a full chunk goes to the file and
 * to OpenSSL's SHA-256 at once, so neither costs a call per line.
 */
#include "sim/core/log.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/core/logfmt.h"
#include "sim/core/observe.h"
#include "sim/core/sched-internal.h"
#include "sim/core/outfile.h"

#define LOG_CHUNK_SIZE (64u << 10)
/* A line longer than this may not fit in what is left of a chunk: flush it first. */
#define LOG_LINE_ROOM 1024u

struct SimLog {
	SimLogHead head;    /* must stay first */
	SimSched *sched;
	SimOutFile file;
	gboolean to_file;
	GString *capture;
	EVP_MD_CTX *sha;    /* every line up to the chunk */
	gboolean observed;  /* lines go to the scheduler's observer too */
	char *chunk;        /* lines not yet written to the file nor hashed */
	gsize chunk_len;
	guint64 lines;
	SimLogFormat format;
	SimLogTapFn tap;
	gpointer tap_data;
	GHashTable *actor_nrs; /* actor name -> its number + 1, in order of first appearance */
	/* "%8lu " of the step of the last line: the lines of one step share it */
	guint64 step_of_text;
	gsize step_len;     /* 0: none yet */
	char step_text[24];
};

/* A log without sinks (formatting nothing) attached to sched. */
SimLog *
sim_log_new(SimSched *sched)
{
	SimLog *log = g_new0(SimLog, 1);

	log->sched = sched;
	log->chunk = g_malloc(LOG_CHUNK_SIZE);
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
	EVP_MD_CTX_free(log->sha);
	if (log->actor_nrs)
		g_hash_table_destroy(log->actor_nrs);
	g_free(log->chunk);
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

gboolean
sim_log_format_lookup(const char *name, SimLogFormat *out)
{
	if (g_strcmp0(name, "kvmsim") == 0)
		*out = SIM_LOG_KVMSIM;
	else if (g_strcmp0(name, "ftrace") == 0)
		*out = SIM_LOG_FTRACE;
	else
		return FALSE;
	return TRUE;
}

void
sim_log_set_format(SimLog *log, SimLogFormat format)
{
	log->format = format;
}

void
sim_log_set_tap(SimLog *log, SimLogTapFn fn, gpointer data)
{
	log->tap = fn;
	log->tap_data = data;
	log->head.on = TRUE;
}

void
sim_log_observe(SimLog *log)
{
	log->observed = TRUE;
	log->head.on = TRUE;
}

/* Hand a line's event and fields to the scheduler's observer, if one watches. */
static void
observe_line(SimLog *log, guint64 step, const char *actor, const char *event, const char *body,
	     gsize len)
{
	if (log->observed && log->sched && log->sched->observer && log->sched->observer->event)
		log->sched->observer->event(log->sched->observer_data, step, actor, event, body,
					    len);
}

/* A running SHA-256 of every line from now on (OpenSSL's: 4x glib's speed per byte). */
void
sim_log_hash(SimLog *log)
{
	if (!log->sha) {
		log->sha = EVP_MD_CTX_new();
		if (!log->sha || !EVP_DigestInit_ex(log->sha, EVP_sha256(), NULL))
			g_error("kvmsim: OpenSSL cannot start a SHA-256");
	}
	log->head.on = TRUE;
}

/* Hand the chunk's lines to the file and the hash. */
static void
flush_chunk(SimLog *log)
{
	if (!log->chunk_len)
		return;
	if (log->to_file)
		fwrite(log->chunk, 1, log->chunk_len, log->file.fp);
	if (log->sha && !EVP_DigestUpdate(log->sha, log->chunk, log->chunk_len))
		g_error("kvmsim: OpenSSL SHA-256 update failed");
	log->chunk_len = 0;
}

gboolean
sim_log_finish(SimLog *log, GError **error)
{
	flush_chunk(log);
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
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	guint8 md[32];
	unsigned int md_len = 0;
	gchar *digest = g_malloc(sizeof("sha256:") + 2 * sizeof(md));

	if (!copy || !EVP_MD_CTX_copy_ex(copy, log->sha) ||
	    !EVP_DigestUpdate(copy, log->chunk, log->chunk_len) ||
	    !EVP_DigestFinal_ex(copy, md, &md_len) || md_len != sizeof(md))
		g_error("kvmsim: OpenSSL SHA-256 digest failed");
	EVP_MD_CTX_free(copy);
	strcpy(digest, "sha256:");
	for (guint i = 0; i < sizeof(md); i++) {
		digest[7 + 2 * i] = "0123456789abcdef"[md[i] >> 4];
		digest[8 + 2 * i] = "0123456789abcdef"[md[i] & 15];
	}
	digest[7 + 2 * sizeof(md)] = '\0';
	return digest;
}

guint64
sim_log_lines(const SimLog *log)
{
	return log->lines;
}

/* "%8lu " of step into log->step_text, unless it holds that step already. */
static void
format_step(SimLog *log, guint64 step)
{
	char *end = log->step_text + sizeof(log->step_text) - 1, *d = end;
	guint64 v = step;
	gsize len;

	if (log->step_len && log->step_of_text == step)
		return;
	*end = ' ';
	do {
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (end - d < 8)
		*--d = ' ';
	len = (gsize)(end - d) + 1;
	memmove(log->step_text, d, len);
	log->step_len = len;
	log->step_of_text = step;
}

/* The line's head, "%8lu %-9s %s: " with the step, the actor and the event, into buf, which has
 * room for it and 16 bytes more (LOG_LINE_ROOM). */
static gsize
format_head(SimLog *log, char *buf, guint64 step, const char *actor, gsize actor_len,
	    const char *event, gsize event_len)
{
	gsize n;

	format_step(log, step);
	memcpy(buf, log->step_text, sizeof(log->step_text));
	n = log->step_len;
	memcpy(buf + n, actor, actor_len);
	/* the actor's padding to 9, and the space after it */
	memset(buf + n + actor_len, ' ', MAX(actor_len, 9) + 1 - actor_len);
	n += MAX(actor_len, 9) + 1;
	memcpy(buf + n, event, event_len);
	n += event_len;
	buf[n++] = ':';
	buf[n++] = ' ';
	return n;
}

/* A whole line (with its newline) that did not go through the chunk. */
static void
emit_whole_line(SimLog *log, const char *line, gsize len)
{
	flush_chunk(log);
	log->lines++;
	if (log->to_file)
		fwrite(line, 1, len, log->file.fp);
	if (log->capture)
		g_string_append_len(log->capture, line, (gssize)len);
	if (log->sha && !EVP_DigestUpdate(log->sha, line, len))
		g_error("kvmsim: OpenSSL SHA-256 update failed");
}

/* The number of actor: 0, 1, ... in the order actors first log a line (deterministic: the log
 * is). It is the ftrace cpu and, plus one, the pid. */
static guint
actor_nr(SimLog *log, const char *actor)
{
	gpointer nr;

	if (!log->actor_nrs)
		log->actor_nrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	nr = g_hash_table_lookup(log->actor_nrs, actor);
	if (!nr) {
		nr = GUINT_TO_POINTER(g_hash_table_size(log->actor_nrs) + 1);
		g_hash_table_insert(log->actor_nrs, g_strdup(actor), nr);
	}
	return GPOINTER_TO_UINT(nr) - 1;
}

/* A line for a tap or in the ftrace layout: formatted on the heap, off the fast path. */
static void
emit_slow(SimLog *log, guint64 step, const char *actor, const char *event, const char *fmt,
	  va_list ap)
{
	g_autofree gchar *body = g_strdup_vprintf(fmt, ap);
	guint nr = actor_nr(log, actor);
	g_autofree gchar *line = NULL;

	if (log->tap)
		log->tap(log->tap_data, step, actor, nr, event, body);
	if (!log->to_file && !log->capture && !log->sha) {
		log->lines++;
		return;
	}
	line = g_strdup_printf("%8" G_GUINT64_FORMAT " %-9s %s: %s\n", step, actor, event, body);
	if (log->format != SIM_LOG_FTRACE || !log->to_file) {
		emit_whole_line(log, line, strlen(line));
		return;
	}
	/* the file takes the ftrace layout; the capture and the hash stay kvmsim's, so that what a
	 * trace expects of the log (events, log_hash, marks) does not depend on the layout */
	g_autofree gchar *name = g_strdup_printf("%s:", event);
	g_autofree gchar *ftrace = g_strdup_printf("%16s-%-5u [%03u] %5" G_GUINT64_FORMAT ".%06"
						   G_GUINT64_FORMAT ": %-21s %s\n", actor, nr + 1,
						   nr, step / 1000000, step % 1000000, name, body);

	flush_chunk(log);
	log->to_file = FALSE;
	emit_whole_line(log, line, strlen(line));
	log->to_file = TRUE;
	fputs(ftrace, log->file.fp);
}

/* Format one line into the chunk (or, past LOG_LINE_ROOM, on the heap) and hand it to every
 * sink: the capture now, the file and the hash when the chunk fills. */
void
sim_log_emitf(SimLog *log, const char *event, const char *fmt, ...)
{
	const char *actor = log->sched ? sim_sched_current_name(log->sched) : "main";
	guint64 step = log->sched ? sim_sched_now(log->sched) : 0;
	va_list ap, again;

	if (log->tap || log->format != SIM_LOG_KVMSIM) {
		va_start(ap, fmt);
		emit_slow(log, step, actor, event, fmt, ap);
		va_end(ap);
		return;
	}
	gsize actor_len = strlen(actor), event_len = strlen(event);

	if (actor_len + event_len + 64 > LOG_LINE_ROOM) {
		g_autofree gchar *body = NULL;

		va_start(ap, fmt);
		body = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		g_autofree gchar *line = g_strdup_printf("%8" G_GUINT64_FORMAT " %-9s %s: %s\n", step,
							 actor, event, body);

		emit_whole_line(log, line, strlen(line));
		observe_line(log, step, actor, event, body, strlen(body));
		return;
	}
	if (LOG_CHUNK_SIZE - log->chunk_len < LOG_LINE_ROOM)
		flush_chunk(log);
	char *line = log->chunk + log->chunk_len;
	gsize room = LOG_CHUNK_SIZE - log->chunk_len - 1; /* one byte for the newline */
	gsize head = format_head(log, line, step, actor, actor_len, event, event_len);
	gssize body;

	va_start(ap, fmt);
	va_copy(again, ap);
	body = sim_logfmt(line + head, room - head, fmt, ap);
	va_end(ap);
	if (body < 0) {
		/* outside logfmt's subset, or longer than the chunk has room for */
		g_autofree gchar *text = g_strdup_vprintf(fmt, again);
		gsize len = strlen(text);

		va_end(again);
		if (len > room - head) {
			g_autofree gchar *whole = g_strdup_printf("%.*s%s\n", (int)head, line, text);

			emit_whole_line(log, whole, strlen(whole));
			observe_line(log, step, actor, event, text, len);
			return;
		}
		memcpy(line + head, text, len);
		body = (gssize)len;
	} else {
		va_end(again);
	}
	gsize len = head + (gsize)body;

	line[len++] = '\n';
	log->lines++;
	log->chunk_len += len;
	if (log->capture)
		g_string_append_len(log->capture, line, (gssize)len);
	observe_line(log, step, actor, event, line + head, (gsize)body);
	if (!log->to_file && !log->sha)
		log->chunk_len = 0;
}
