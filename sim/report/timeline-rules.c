/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the timeline makes of a run: the observer callbacks that turn yield points, mmu_lock
 * operations and log lines into slices, instants, counters and flows. The log lines read are
 * kvmsim's own (the kernel tracepoint formats, sim/core/log.h); their fields are found by name.
 */
#include "sim/report/timeline-internal.h"

#include <stdlib.h>
#include <string.h>

/* Slice keys: what closes a slice. */
#define K_GUEST "guest"
#define K_EXIT "exit"
#define K_FAULT "fault"
#define K_PHASE "phase"
#define K_WAIT "wait"
#define K_HOLD "hold"
#define K_RANGE_START "range_start"
#define K_OP "op"

/* At most this many flow arrows into one retry (a retry after many invalidations). */
#define TL_MAX_FLOWS 8

/* Operations bracketed by two yield points of the actor (the lock and unlock points of the
 * kernel function named). */
static const struct {
	const char *open;
	const char *close;
	const char *name;
} brackets[] = {
	{ "invalidate.end", "invalidate.end_unlock", "invalidate_range_end" },
	{ "zap_all_fast.mmu_lock", "zap_all_fast.mmu_unlock", "kvm_mmu_zap_all_fast" },
	{ "zap_roots.mmu_lock", "zap_roots.mmu_unlock", "kvm_tdp_mmu_zap_invalidated_roots" },
	{ "mmu_load.mmu_lock", "mmu_load.mmu_unlock", "kvm_mmu_load" },
	{ "mmu_unload.mmu_lock", "mmu_unload.mmu_unlock", "kvm_mmu_free_obsolete_roots" },
	{ "memslot.slots_lock", "memslot.slots_unlock", "KVM_SET_USER_MEMORY_REGION2" },
	{ "attr.slots_lock", "attr.slots_unlock", "KVM_SET_MEMORY_ATTRIBUTES" },
	{ "gmem.inval_mmu_lock", "gmem.inval_mmu_unlock", "kvm_gmem_invalidate_begin" },
	{ "gmem.inval_end_lock", "gmem.inval_end_unlock", "kvm_gmem_invalidate_end" },
};

/* The text after "key " in body (len bytes), as a NUL-terminated copy of one word; NULL if the
 * key is not there. */
static gchar *
field(const char *body, gsize len, const char *key)
{
	gsize klen = strlen(key);

	for (gsize i = 0; i + klen < len; i++) {
		if ((i == 0 || body[i - 1] == ' ') && memcmp(body + i, key, klen) == 0 &&
		    body[i + klen] == ' ') {
			gsize start = i + klen + 1, end = start;

			while (end < len && body[end] != ' ')
				end++;
			return g_strndup(body + start, end - start);
		}
	}
	return NULL;
}

/* A numeric field (decimal, or hex with 0x, or hex when hex is set); FALSE if absent. */
static gboolean
field_u64(const char *body, gsize len, const char *key, gboolean hex, guint64 *out)
{
	g_autofree gchar *word = field(body, len, key);

	if (!word)
		return FALSE;
	*out = g_ascii_strtoull(word, NULL, hex || g_str_has_prefix(word, "0x") ? 16 : 10);
	return TRUE;
}

static JsonObject *
args1(const char *key, const char *value)
{
	JsonObject *o = json_object_new();

	json_object_set_string_member(o, key, value);
	return o;
}

/* A thread-scoped instant on the actor's track. */
static void
instant(SimTimeline *tl, TlTrack *t, guint64 ts, gchar *name, JsonObject *args)
{
	tl_add(tl, 'i', t, ts, name, "kvmsim", args);
}

/* A process-wide counter sample. */
static void
counter(SimTimeline *tl, guint64 ts, const char *name, guint64 value)
{
	JsonObject *args = json_object_new();

	json_object_set_int_member(args, "value", (gint64)value);
	tl_add(tl, 'C', NULL, ts, g_strdup(name), "kvmsim", args);
}

/* The seq and in_progress of a sim_invalidate_begin/end line, as counter samples. */
static void
counters(SimTimeline *tl, guint64 ts, const char *body, gsize len)
{
	guint64 seq, in_progress;

	if (field_u64(body, len, "seq", FALSE, &seq))
		counter(tl, ts, "mmu_invalidate_seq", seq);
	if (field_u64(body, len, "in_progress", FALSE, &in_progress))
		counter(tl, ts, "mmu_invalidate_in_progress", in_progress);
}

/* A phase of the fault path: the previous phase ends where the next begins. */
static void
phase(SimTimeline *tl, TlTrack *t, guint64 ts, const char *name)
{
	if (tl_top_is(t, K_PHASE))
		tl_close(tl, t, ts, K_PHASE);
	if (name && tl_find_open(tl, t, K_FAULT))
		tl_open(tl, t, ts, K_PHASE, g_strdup(name), NULL);
}

/* sim_invalidate_begin: a window of this actor opens (an async slice: it outlives the lock
 * holds it spans). */
static void
window_begin(SimTimeline *tl, TlTrack *t, guint64 ts)
{
	TlWindow w = { tl->next_id++, ts, t->tid, 0 };

	w.b_index = tl_add(tl, 'b', t, ts, g_strdup("mmu_invalidate window"), "invalidate", NULL);
	g_array_index(tl->events, TlEvent, w.b_index).id = w.id;
	g_array_append_val(t->windows, w);
}

/* sim_invalidate_range_add: the actor's newest window covers this range. */
static void
window_range(SimTimeline *tl, TlTrack *t, const char *body, gsize len)
{
	g_autofree gchar *gfns = field(body, len, "gfn");

	if (!t->windows->len || !gfns)
		return;
	TlWindow *w = &g_array_index(t->windows, TlWindow, t->windows->len - 1);
	TlEvent *b = &g_array_index(tl->events, TlEvent, w->b_index);

	g_free(b->name);
	b->name = g_strdup_printf("mmu_invalidate window gfn %s", gfns);
}

/* sim_invalidate_end: the actor's oldest window closes; remember who moved the seq, when. */
static void
window_end(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	guint64 seq;

	if (t->windows->len) {
		TlWindow w = g_array_index(t->windows, TlWindow, 0);
		const TlEvent *b = &g_array_index(tl->events, TlEvent, w.b_index);
		guint e = tl_add(tl, 'e', t, ts, g_strdup(b->name), b->cat, NULL);

		g_array_index(tl->events, TlEvent, e).id = w.id;
		g_array_remove_index(t->windows, 0);
	}
	if (field_u64(body, len, "seq", FALSE, &seq)) {
		TlSeqEnd end = { seq, t->tid, ts };

		g_array_append_val(tl->seq_ends, end);
		instant(tl, t, ts, g_strdup_printf("mmu_invalidate_seq -> %" G_GUINT64_FORMAT, seq),
			NULL);
	}
}

/* sim_stale_tlb_enter: a vCPU's first entry with zapped translations in its TLB opens its
 * stale-TLB window (an async slice: it spans guest runs and exits). */
static void
stale_window_begin(SimTimeline *tl, TlTrack *t, guint64 ts)
{
	if (t->stale_open)
		return;
	t->stale_b = tl_add(tl, 'b', t, ts, g_strdup("stale TLB window"), "tlb", NULL);
	g_array_index(tl->events, TlEvent, t->stale_b).id = tl->next_id++;
	t->stale_open = TRUE;
}

/* sim_stale_tlb_end (or the end of the run): the flush closes it. */
void
tl_stale_window_end(SimTimeline *tl, TlTrack *t, guint64 ts)
{
	if (!t->stale_open)
		return;
	guint64 id = g_array_index(tl->events, TlEvent, t->stale_b).id;
	guint e = tl_add(tl, 'e', t, ts, g_strdup("stale TLB window"), "tlb", NULL);

	g_array_index(tl->events, TlEvent, e).id = id;
	t->stale_open = FALSE;
}

/* sim_lock_wait: the wait slice open on the track says who held mmu_lock and who waited. */
static void
lock_wait_detail(SimTimeline *tl, TlTrack *t, const char *body, gsize len)
{
	TlEvent *wait = tl_find_open(tl, t, K_WAIT);
	gchar *detail = g_strndup(body, len);

	if (wait && !wait->args)
		wait->args = args1("detail", detail);
	g_free(detail);
}

/* A flow arrow from (tid, ts) to the retry at (t, ts). */
static void
flow(SimTimeline *tl, guint from_tid, guint64 from_ts, TlTrack *t, guint64 ts, const char *name)
{
	guint64 id = tl->next_id++;
	TlTrack from = { .tid = from_tid };
	guint s = tl_add(tl, 's', &from, from_ts, g_strdup(name), "retry", NULL);
	guint f = tl_add(tl, 'f', t, ts, g_strdup(name), "retry", NULL);

	g_array_index(tl->events, TlEvent, s).id = id;
	g_array_index(tl->events, TlEvent, f).id = id;
}

/* sim_fault_retry: an instant with the reason, and arrows from the invalidations behind it:
 * those that moved the seq past the fault's snapshot, or else the windows still open. The line
 * reads "vcpu N gfn G WHY: mmu_seq ...". */
static void
retry(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	g_autofree gchar *text = g_strndup(body, len);
	char *why = strstr(text, " gfn ");
	char *state = strstr(text, ": mmu_seq ");
	guint64 mmu_seq = 0, seq = 0;
	guint n = 0;

	if (why && state && why < state) {
		why = strchr(why + 5, ' ');
		*state = '\0';
	}
	instant(tl, t, ts, g_strdup("RET_PF_RETRY"),
		args1("why", why && state && why < state ? why + 1 : ""));
	if (!field_u64(body, len, "mmu_seq", FALSE, &mmu_seq) ||
	    !field_u64(body, len, "seq", FALSE, &seq))
		return;
	for (guint i = 0; i < tl->seq_ends->len && n < TL_MAX_FLOWS; i++) {
		const TlSeqEnd *end = &g_array_index(tl->seq_ends, TlSeqEnd, i);

		if (end->seq > mmu_seq && end->seq <= seq) {
			flow(tl, end->tid, end->ts, t, ts, "seq moved");
			n++;
		}
	}
	if (n)
		return;
	for (guint i = 0; i < tl->tracks->len && n < TL_MAX_FLOWS; i++) {
		const TlTrack *other = g_ptr_array_index(tl->tracks, i);

		for (guint w = 0; w < other->windows->len && n < TL_MAX_FLOWS; w++, n++) {
			const TlWindow *win = &g_array_index(other->windows, TlWindow, w);

			flow(tl, win->tid, win->ts, t, ts, "in progress");
		}
	}
}

/* kvm_exit: the guest stops; the exit's handling begins, named by its reason. */
static void
exit_begins(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	g_autofree gchar *reason = field(body, len, "reason");
	g_autofree gchar *rip = field(body, len, "rip");

	tl_close(tl, t, ts, K_GUEST);
	tl_open(tl, t, ts, K_EXIT, g_strdup(reason ? reason : "exit"),
		args1("rip", rip ? rip : ""));
}

/* kvm_page_fault: the fault slice, and its first phase, the lockless fast path. */
static void
fault_begins(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	guint64 addr = 0;

	field_u64(body, len, "address", TRUE, &addr);
	tl_open(tl, t, ts, K_FAULT,
		g_strdup_printf("page fault gfn 0x%" G_GINT64_MODIFIER "x", addr >> 12), NULL);
	tl_open(tl, t, ts, K_PHASE, g_strdup("fast_page_fault"), NULL);
}

/* sim_page_fault_done: the fault slice is renamed after its outcome and closed. */
static void
fault_ends(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	TlEvent *b = tl_find_open(tl, t, K_FAULT);
	const char *outcome = g_strrstr_len(body, (gssize)len, " ");

	if (!b)
		return;
	if (outcome) {
		gchar *name = g_strdup_printf("%s: %.*s", b->name, (int)(body + len - outcome - 1),
					      outcome + 1);

		g_free(b->name);
		b->name = name;
	}
	tl_close(tl, t, ts, K_FAULT);
}

/* kvm_tdp_mmu_spte_changed: an instant with the old and new values. */
static void
spte_changed(SimTimeline *tl, TlTrack *t, guint64 ts, const char *body, gsize len)
{
	g_autofree gchar *gfn = field(body, len, "gfn");
	g_autofree gchar *level = field(body, len, "level");
	g_autofree gchar *old_spte = field(body, len, "old_spte");
	g_autofree gchar *new_spte = field(body, len, "new_spte");
	JsonObject *args = json_object_new();

	json_object_set_string_member(args, "old_spte", old_spte ? old_spte : "");
	json_object_set_string_member(args, "new_spte", new_spte ? new_spte : "");
	instant(tl, t, ts, g_strdup_printf("spte gfn 0x%s level %s", gfn ? gfn : "?",
					   level ? level : "?"), args);
}

/* The observer's event hook: one log line. */
static void
on_event(gpointer data, guint64 step, const char *actor, const char *event, const char *body,
	 gsize len)
{
	SimTimeline *tl = data;
	guint64 ts = tl_now(tl, step);
	TlTrack *t = tl_track(tl, actor);

	tl->lines++;
	if (strcmp(event, "kvm_entry") == 0) {
		tl_close(tl, t, ts, K_EXIT);
		tl_open(tl, t, ts, K_GUEST, g_strdup("guest"), NULL);
	} else if (strcmp(event, "kvm_exit") == 0) {
		exit_begins(tl, t, ts, body, len);
	} else if (strcmp(event, "kvm_page_fault") == 0) {
		fault_begins(tl, t, ts, body, len);
	} else if (strcmp(event, "fast_page_fault") == 0) {
		tl_close(tl, t, ts, K_PHASE);
	} else if (strcmp(event, "sim_fault_retry") == 0) {
		retry(tl, t, ts, body, len);
	} else if (strcmp(event, "sim_page_fault_done") == 0) {
		fault_ends(tl, t, ts, body, len);
	} else if (strcmp(event, "kvm_unmap_hva_range") == 0) {
		tl_open(tl, t, ts, K_RANGE_START, g_strdup("invalidate_range_start"), NULL);
	} else if (strcmp(event, "sim_invalidate_begin") == 0) {
		window_begin(tl, t, ts);
		counters(tl, ts, body, len);
	} else if (strcmp(event, "sim_invalidate_range_add") == 0) {
		window_range(tl, t, body, len);
	} else if (strcmp(event, "sim_invalidate_end") == 0) {
		window_end(tl, t, ts, body, len);
		counters(tl, ts, body, len);
	} else if (strcmp(event, "kvm_tdp_mmu_spte_changed") == 0) {
		spte_changed(tl, t, ts, body, len);
	} else if (strcmp(event, "sim_flush_remote_tlbs") == 0 ||
		   strcmp(event, "sim_tlb_flush") == 0 || strcmp(event, "kvm_mmu_zap_all_fast") == 0) {
		instant(tl, t, ts, g_strdup(event), NULL);
	} else if (strcmp(event, "sim_stale_tlb_enter") == 0) {
		stale_window_begin(tl, t, ts);
	} else if (strcmp(event, "sim_stale_tlb_end") == 0) {
		tl_stale_window_end(tl, t, ts);
	} else if (strcmp(event, "sim_lock_wait") == 0) {
		lock_wait_detail(tl, t, body, len);
	} else if (strcmp(event, "sim_spte_cmpxchg_lost") == 0) {
		gchar *detail = g_strndup(body, len);

		instant(tl, t, ts, g_strdup("cmpxchg lost"), args1("detail", detail));
		g_free(detail);
	} else if (strcmp(event, "sim_invariant") == 0) {
		gchar *what = g_strndup(body, len);

		instant(tl, t, ts, g_strdup(event), args1("what", what));
		g_free(what);
		g_array_index(tl->events, TlEvent, tl->events->len - 1).scope = 'g';
	}
}

/* The observer's yield hook: fault phases and bracketed operations. */
static void
on_yield(gpointer data, guint64 step, const char *actor, const char *point)
{
	SimTimeline *tl = data;
	guint64 ts = tl_now(tl, step);
	TlTrack *t = tl_track(tl, actor);

	/* invalidate_range_start ends with its unlock, or (no memslot: no lock) at the first point
	 * that is not its own */
	if (strcmp(point, "invalidate.mmu_unlock") == 0 ||
	    (!g_str_has_prefix(point, "invalidate.") && !g_str_has_prefix(point, "zap.")))
		tl_close(tl, t, ts, K_RANGE_START);
	if (strcmp(point, "fault.seq_snapshot") == 0)
		phase(tl, t, ts, "kvm_mmu_faultin_pfn");
	else if (strcmp(point, "fault.mmu_lock") == 0)
		phase(tl, t, ts, NULL);
	else if (strcmp(point, "fault.spte_install") == 0)
		phase(tl, t, ts, "install SPTE (cmpxchg)");
	for (guint i = 0; i < G_N_ELEMENTS(brackets); i++) {
		if (strcmp(point, brackets[i].open) == 0)
			tl_open(tl, t, ts, K_OP, g_strdup(brackets[i].name), NULL);
		else if (strcmp(point, brackets[i].close) == 0)
			tl_close(tl, t, ts, K_OP);
	}
}

/* The observer's lock hook: mmu_lock waits (when it blocked) and holds, by mode. */
static void
on_lock(gpointer data, guint64 step, const char *actor, const char *lock, gboolean write,
	SimLockOp op)
{
	SimTimeline *tl = data;
	guint64 ts = tl_now(tl, step);
	TlTrack *t = tl_track(tl, actor);
	const char *mode = write ? "write" : "read";

	if (strcmp(lock, "mmu_lock") != 0)
		return;
	switch (op) {
	case SIM_LOCK_ATTEMPT:
		t->attempt_ts = ts;
		tl_open(tl, t, ts, K_WAIT, g_strdup_printf("wait mmu_lock (%s)", mode), NULL);
		break;
	case SIM_LOCK_ACQUIRED: {
		TlEvent *wait = tl_find_open(tl, t, K_WAIT);

		/* not contended: nothing ran meanwhile, so no wait to show */
		if (wait && ts == t->attempt_ts)
			wait->dropped = TRUE;
		tl_close(tl, t, ts, K_WAIT);
		tl_open(tl, t, ts, K_HOLD, g_strdup_printf("mmu_lock (%s)", mode), NULL);
		break;
	}
	case SIM_LOCK_RELEASED:
		tl_close(tl, t, ts, K_HOLD);
		break;
	}
}

const SimObserver tl_observer = {
	.yield = on_yield,
	.lock = on_lock,
	.event = on_event,
};
