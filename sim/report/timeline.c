/* SPDX-License-Identifier: GPL-2.0-only */
/* The timeline's event store, tracks and slice stacks, and its JSON (json-glib). */
#include "sim/report/timeline-internal.h"

#include <stdio.h>
#include <string.h>

#include "sim/core/outfile.h"

/* The one process every track belongs to. */
#define TL_PID 1

/* An event's name and arguments, when the store is freed. */
static void
clear_event(gpointer p)
{
	TlEvent *e = p;

	g_free(e->name);
	if (e->args)
		json_object_unref(e->args);
}

/* A track and its stacks. */
static void
free_track(gpointer p)
{
	TlTrack *t = p;

	g_free(t->name);
	g_array_free(t->stack, TRUE);
	g_array_free(t->windows, TRUE);
	g_free(t);
}

/* Attach to the scheduler's and the log's observer hooks (the log is switched on). */
SimTimeline *
sim_timeline_new(SimSched *sched, SimLog *log, const char *title)
{
	SimTimeline *tl = g_new0(SimTimeline, 1);

	tl->sched = sched;
	tl->title = g_strdup(title);
	tl->events = g_array_new(FALSE, TRUE, sizeof(TlEvent));
	g_array_set_clear_func(tl->events, clear_event);
	tl->tracks = g_ptr_array_new_with_free_func(free_track);
	tl->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	tl->seq_ends = g_array_new(FALSE, FALSE, sizeof(TlSeqEnd));
	tl->next_id = 1;
	sim_sched_set_observer(sched, &tl_observer, tl);
	sim_log_observe(log);
	return tl;
}

/* No more events: the run is over, or the scheduler goes away. */
void
sim_timeline_detach(SimTimeline *tl)
{
	if (tl->sched)
		sim_sched_set_observer(tl->sched, NULL, NULL);
	tl->sched = NULL;
}

/* Detach if still attached, and free everything gathered. */
void
sim_timeline_free(SimTimeline *tl)
{
	if (!tl)
		return;
	sim_timeline_detach(tl);
	g_array_free(tl->events, TRUE);
	g_hash_table_destroy(tl->by_name);
	g_ptr_array_free(tl->tracks, TRUE);
	g_array_free(tl->seq_ends, TRUE);
	g_free(tl->title);
	g_free(tl);
}

/* The logical timestamp of an event at step (timeline.h says why lines count). */
guint64
tl_now(SimTimeline *tl, guint64 step)
{
	guint64 ts = step + tl->lines;

	/* the clock jumps forward only: a sleeper's wake-up cannot move it back */
	tl->last_ts = MAX(tl->last_ts, ts);
	return tl->last_ts;
}

/* The actor's track, made on its first event (tids in order of first appearance). */
TlTrack *
tl_track(SimTimeline *tl, const char *actor)
{
	TlTrack *t = g_hash_table_lookup(tl->by_name, actor);

	if (t)
		return t;
	t = g_new0(TlTrack, 1);
	t->name = g_strdup(actor);
	t->tid = tl->tracks->len + 1;
	t->stack = g_array_new(FALSE, FALSE, sizeof(TlOpen));
	t->windows = g_array_new(FALSE, FALSE, sizeof(TlWindow));
	g_ptr_array_add(tl->tracks, t);
	g_hash_table_insert(tl->by_name, t->name, t);
	return t;
}

/* Append one event to the store; track NULL for process-wide events (counters). */
guint
tl_add(SimTimeline *tl, char ph, const TlTrack *track, guint64 ts, gchar *name, const char *cat,
       JsonObject *args)
{
	TlEvent e = { .ph = ph, .tid = track ? track->tid : 0, .ts = ts, .name = name,
		      .cat = cat, .scope = 't', .args = args };

	g_array_append_val(tl->events, e);
	return tl->events->len - 1;
}

/* A B event, pushed on the track's stack of open slices. */
void
tl_open(SimTimeline *tl, TlTrack *track, guint64 ts, const char *key, gchar *name,
	JsonObject *args)
{
	TlOpen open = { tl_add(tl, 'B', track, ts, name, "kvmsim", args), key };

	g_array_append_val(track->stack, open);
}

/* Close the innermost open slice (an E with the B's name and arguments, as viewers match them). */
static void
close_top(SimTimeline *tl, TlTrack *track, guint64 ts)
{
	TlOpen *top = &g_array_index(track->stack, TlOpen, track->stack->len - 1);
	TlEvent *b = &g_array_index(tl->events, TlEvent, top->b_index);
	JsonObject *args = b->args ? json_object_ref(b->args) : NULL;

	if (!b->dropped)
		tl_add(tl, 'E', track, ts, g_strdup(b->name), b->cat, args);
	else if (args)
		json_object_unref(args);
	g_array_set_size(track->stack, track->stack->len - 1);
}

/* Close by key: what is open inside closes first, so B/E always nest. */
gboolean
tl_close(SimTimeline *tl, TlTrack *track, guint64 ts, const char *key)
{
	for (guint i = track->stack->len; i-- > 0;) {
		if (strcmp(g_array_index(track->stack, TlOpen, i).key, key) != 0)
			continue;
		while (track->stack->len > i)
			close_top(tl, track, ts);
		return TRUE;
	}
	return FALSE;
}

/* The B event of the innermost open slice with key (to rename it), or NULL. */
TlEvent *
tl_find_open(SimTimeline *tl, TlTrack *track, const char *key)
{
	for (guint i = track->stack->len; i-- > 0;) {
		const TlOpen *o = &g_array_index(track->stack, TlOpen, i);

		if (strcmp(o->key, key) == 0)
			return &g_array_index(tl->events, TlEvent, o->b_index);
	}
	return NULL;
}

/* Whether the innermost open slice has key. */
gboolean
tl_top_is(const TlTrack *track, const char *key)
{
	return track->stack->len &&
	       strcmp(g_array_index(track->stack, TlOpen, track->stack->len - 1).key, key) == 0;
}

/* End of the run: close every slice and window still open, at the last timestamp. */
static void
close_everything(SimTimeline *tl)
{
	for (guint i = 0; i < tl->tracks->len; i++) {
		TlTrack *t = g_ptr_array_index(tl->tracks, i);

		while (t->stack->len)
			close_top(tl, t, tl->last_ts);
		for (guint w = 0; w < t->windows->len; w++) {
			const TlWindow *win = &g_array_index(t->windows, TlWindow, w);
			const TlEvent *b = &g_array_index(tl->events, TlEvent, win->b_index);
			guint e = tl_add(tl, 'e', t, tl->last_ts, g_strdup(b->name), b->cat, NULL);

			g_array_index(tl->events, TlEvent, e).id = win->id;
		}
		g_array_set_size(t->windows, 0);
		if (t->stale_open)
			tl_stale_window_end(tl, t, tl->last_ts);
	}
}

/* A metadata event (process or thread name, sort index). */
static JsonNode *
metadata(const char *name, guint tid, const char *key, JsonNode *value)
{
	JsonObject *o = json_object_new();
	JsonObject *args = json_object_new();

	json_object_set_string_member(o, "ph", "M");
	json_object_set_string_member(o, "name", name);
	json_object_set_int_member(o, "pid", TL_PID);
	json_object_set_int_member(o, "tid", tid);
	json_object_set_int_member(o, "ts", 0);
	json_object_set_member(args, key, value);
	json_object_set_object_member(o, "args", args);

	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, o);
	return node;
}

/* One event as a Trace Event Format object. */
static JsonNode *
event_node(const TlEvent *e)
{
	JsonObject *o = json_object_new();
	char ph[2] = { e->ph, 0 };

	json_object_set_string_member(o, "ph", ph);
	json_object_set_string_member(o, "name", e->name);
	json_object_set_string_member(o, "cat", e->cat);
	json_object_set_int_member(o, "pid", TL_PID);
	json_object_set_int_member(o, "tid", e->tid);
	json_object_set_int_member(o, "ts", (gint64)e->ts);
	if (e->ph == 'b' || e->ph == 'e' || e->ph == 's' || e->ph == 'f')
		json_object_set_int_member(o, "id", (gint64)e->id);
	if (e->ph == 'f')
		json_object_set_string_member(o, "bp", "e");
	if (e->ph == 'i') {
		char s[2] = { e->scope, 0 };

		json_object_set_string_member(o, "s", s);
	}
	if (e->args)
		json_object_set_object_member(o, "args", json_object_ref(e->args));

	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_node_take_object(node, o);
	return node;
}

/* Order of events in the file: by time, then as they happened (a flow's start is added when
 * the retry it explains is seen, after later events). */
static gint
by_ts(gconstpointer a, gconstpointer b, gpointer data)
{
	const TlEvent *events = data;
	guint ia = *(const guint *)a, ib = *(const guint *)b;

	if (events[ia].ts != events[ib].ts)
		return events[ia].ts < events[ib].ts ? -1 : 1;
	return ia < ib ? -1 : ia > ib;
}

/* Append one node's JSON text to out. */
static void
put_node(GString *out, JsonGenerator *gen, JsonNode *node, gboolean first)
{
	g_autofree gchar *text = NULL;

	json_generator_set_root(gen, node);
	text = json_generator_to_data(gen, NULL);
	g_string_append(out, first ? "\n" : ",\n");
	g_string_append(out, text);
	json_node_unref(node);
}

/*
 * Close what is open, then the whole file: metadata, then the events by time, one object per
 * line. Each object goes through json-glib's generator on its own, so a long run never holds a
 * second, JSON-tree copy of its events; flush(out, data), if given, takes the text as it grows.
 */
static void
write_json(SimTimeline *tl, GString *out, void (*flush)(GString *out, gpointer data),
	   gpointer data)
{
	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(guint));
	JsonObject *other = json_object_new();
	JsonNode *node;

	close_everything(tl);
	g_string_append(out, "{\"traceEvents\":[");
	put_node(out, gen, metadata("process_name", 0, "name",
				    json_node_init_string(json_node_alloc(), tl->title)), TRUE);
	for (guint i = 0; i < tl->tracks->len; i++) {
		const TlTrack *t = g_ptr_array_index(tl->tracks, i);

		put_node(out, gen, metadata("thread_name", t->tid, "name",
					    json_node_init_string(json_node_alloc(), t->name)),
			 FALSE);
		put_node(out, gen, metadata("thread_sort_index", t->tid, "sort_index",
					    json_node_init_int(json_node_alloc(), t->tid)), FALSE);
	}
	for (guint i = 0; i < tl->events->len; i++)
		g_array_append_val(order, i);
	g_array_sort_with_data(order, by_ts, tl->events->data);
	for (guint i = 0; i < order->len; i++) {
		const TlEvent *e = &g_array_index(tl->events, TlEvent, g_array_index(order, guint, i));

		if (!e->dropped)
			put_node(out, gen, event_node(e), FALSE);
		if (flush && out->len > (64u << 10))
			flush(out, data);
	}
	json_object_set_string_member(other, "generator", "kvmsim");
	json_object_set_string_member(other, "clock",
				      "logical: step (yield points passed) + log lines before");
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, other);
	json_generator_set_root(gen, node);
	g_autofree gchar *text = json_generator_to_data(gen, NULL);

	json_node_unref(node);
	g_string_append_printf(out, "\n],\n\"displayTimeUnit\":\"ns\",\n\"otherData\":%s}\n", text);
	if (flush)
		flush(out, data);
}

/* The JSON text, whole. */
gchar *
sim_timeline_to_json(SimTimeline *tl)
{
	GString *out = g_string_new(NULL);

	write_json(tl, out, NULL, NULL);
	return g_string_free(out, FALSE);
}

/* Hand the text so far to the file. */
static void
flush_to_file(GString *out, gpointer data)
{
	fwrite(out->str, 1, out->len, data);
	g_string_truncate(out, 0);
}

/* The JSON into path, whole or not at all. */
gboolean
sim_timeline_write(SimTimeline *tl, const char *path, GError **error)
{
	SimOutFile out = { 0 };
	g_autoptr(GString) text = g_string_new(NULL);

	if (!sim_outfile_open(&out, path, error))
		return FALSE;
	write_json(tl, text, flush_to_file, out.fp);
	return sim_outfile_commit(&out, error);
}
