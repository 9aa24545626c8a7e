/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The second half of the importer: from what the capture's records said (import.c) to the
 * trace's memslots, events in capture order, schedule and SPTE expectations.
 */
#include "sim/trace/import-internal.h"

#include <stdlib.h>
#include <string.h>

static gint
compare_u64(gconstpointer a, gconstpointer b)
{
	guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

	return x < y ? -1 : x > y;
}

/* Memslots from the gfns the capture names: 2 MiB-aligned runs, split at gaps over 2 MiB;
 * the host address of gpa is IMPORT_HVA_BASE + gpa. */
gboolean
import_infer_memslots(Importer *im, GError **error)
{
	guint64 total = 0;

	g_array_sort(im->gfns, compare_u64);
	for (guint i = 0; i < im->gfns->len;) {
		guint64 first = g_array_index(im->gfns, guint64, i), last = first;
		TraceMemslot ms = {0};

		for (i++; i < im->gfns->len; i++) {
			guint64 g = g_array_index(im->gfns, guint64, i);

			if (g > last + IMPORT_SLOT_ALIGN)
				break;
			last = g;
		}
		ms.id = im->slots->len;
		ms.gpa = (first & ~(IMPORT_SLOT_ALIGN - 1)) << 12;
		ms.size = (((last + IMPORT_SLOT_ALIGN) & ~(IMPORT_SLOT_ALIGN - 1)) << 12) - ms.gpa;
		ms.hva = IMPORT_HVA_BASE + ms.gpa;
		total += ms.size;
		if (ms.gpa + ms.size > 1ull << 48 || total > IMPORT_MAX_SLOTS_BYTES ||
		    ms.id >= 128) {
			g_set_error(
				error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				"%s: the capture's gfns need memslots beyond what an exit-level "
				"trace holds (2 GiB, 128 slots, below 2^48): give --memslot",
				im->path);
			return FALSE;
		}
		g_array_append_val(im->slots, ms);
	}
	return TRUE;
}

/* The memslot holding gpa, or NULL. */
static const TraceMemslot *
slot_of_gpa(const Importer *im, guint64 gpa)
{
	for (guint i = 0; i < im->slots->len; i++) {
		const TraceMemslot *ms = &g_array_index(im->slots, TraceMemslot, i);

		if (gpa >= ms->gpa && gpa - ms->gpa < ms->size)
			return ms;
	}
	return NULL;
}

/* Orders imported events by their place in the capture. */
static gint
compare_imported(gconstpointer a, gconstpointer b)
{
	guint x = ((const Imported *)a)->order, y = ((const Imported *)b)->order;

	return x < y ? -1 : x > y;
}

/* Notifier invalidations whose host range touches a memslot: start and end, next to each
 * other (the capture has only the start; its end came before anything else of the notifier). */
void
import_place_unmaps(Importer *im)
{
	for (guint i = 0; i < im->unmaps->len; i++) {
		Imported *u = &g_array_index(im->unmaps, Imported, i);
		gboolean touches = FALSE;

		for (guint j = 0; j < im->slots->len && !touches; j++) {
			const TraceMemslot *ms = &g_array_index(im->slots, TraceMemslot, j);

			touches =
				u->ev.hva < ms->hva + ms->size && ms->hva < u->ev.hva + u->ev.size;
		}
		if (!touches) {
			ImportRecord r = {.line = u->line,
					  .event = u->ev.kind == TRACE_EV_AGE
							   ? (gchar *)"kvm_age_hva"
							   : (gchar *)"kvm_unmap_hva_range"};

			import_note(im, &r,
				    "hva range in no memslot's host range (a capture gives no hva: "
				    "give --memslot)|hva 0x%" G_GINT64_MODIFIER
				    "x-0x%" G_GINT64_MODIFIER "x",
				    u->ev.hva, u->ev.hva + u->ev.size);
			continue;
		}
		if (u->ev.kind == TRACE_EV_AGE) {
			Imported age = *u;

			age.ev.actor = g_strdup("notifier");
			g_array_append_val(im->imported, age);
			im->rep->ages++;
			continue;
		}
		Imported start = *u, end = *u;

		/* the gfns it zaps: each memslot's part of the range */
		for (guint j = 0; j < im->slots->len; j++) {
			const TraceMemslot *ms = &g_array_index(im->slots, TraceMemslot, j);
			guint64 lo = MAX(u->ev.hva, ms->hva),
				hi = MIN(u->ev.hva + u->ev.size, ms->hva + ms->size);

			if (lo < hi)
				g_ptr_array_add(
					im->rep->invalidated,
					g_strdup_printf(
						"%u: kvm_unmap_hva_range: hva 0x%" G_GINT64_MODIFIER
						"x-0x%" G_GINT64_MODIFIER
						"x zaps memslot %u gfns 0x%" G_GINT64_MODIFIER
						"x-0x%" G_GINT64_MODIFIER "x",
						u->line, lo, hi, ms->id,
						(ms->gpa + lo - ms->hva) >> 12,
						(ms->gpa + hi - ms->hva) >> 12));
		}
		start.ev.actor = g_strdup("notifier");
		end.ev.actor = g_strdup("notifier");
		end.ev.kind = TRACE_EV_INVALIDATE_END;
		g_array_append_val(im->imported, start);
		g_array_append_val(im->imported, end);
		im->rep->invalidations++;
	}
}

/* Append the step "actor runs until it passes until count times". */
static void
add_step(Trace *trace, const char *actor, const char *until, guint count)
{
	TraceStep s = {{g_strdup(actor), g_strdup(until), count ? count : 1}, 0};

	g_array_append_val(trace->steps, s);
}

/* The yield point an event of an exit-level trace passes first: the vCPU's entry, the
 * notifier's mn_invalidate_lock (range start and end each take it once), aging's PTL. */
static const char *
first_point(const TraceEvent *e)
{
	switch (e->kind) {
	case TRACE_EV_INVALIDATE_START:
	case TRACE_EV_INVALIDATE_END:
		return "invalidate.mn_lock";
	case TRACE_EV_AGE:
		return "age.ptl";
	default:
		return "vcpu.enter";
	}
}

/*
 * The schedule in the capture's order: one step per run of one actor's events, stopping the
 * actor at the first point of its next event. Every event passes its own first point once and
 * no other event's (aging is lockless: no mn_invalidate_lock), so the count is the run's events
 * with that point, plus the next event's, less the run's first event if the actor is already
 * stopped there. An actor's last step runs it to its exit.
 */
void
import_make_schedule(Trace *trace, GArray *events)
{
	g_autoptr(GHashTable) started = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GHashTable) later = g_hash_table_new(g_str_hash, g_str_equal);
	g_autofree guint *next = g_new(guint, events->len + 1); /* same actor's next; len: none */

	for (guint i = events->len; i-- > 0;) {
		const TraceEvent *e = &g_array_index(events, TraceEvent, i);

		next[i] = g_hash_table_contains(later, e->actor)
				  ? GPOINTER_TO_UINT(g_hash_table_lookup(later, e->actor))
				  : events->len;
		g_hash_table_insert(later, e->actor, GUINT_TO_POINTER(i));
	}
	for (guint i = 0; i < events->len;) {
		const TraceEvent *first = &g_array_index(events, TraceEvent, i);
		const char *actor = first->actor;
		guint last = i;

		while (last + 1 < events->len &&
		       !strcmp(g_array_index(events, TraceEvent, last + 1).actor, actor))
			last++;
		gboolean parked = g_hash_table_contains(started, actor);

		g_hash_table_add(started, (gpointer)actor);
		if (next[last] == events->len) {
			add_step(trace, actor, SIM_POINT_EXIT, 1);
		} else {
			const char *point =
				first_point(&g_array_index(events, TraceEvent, next[last]));
			guint count = 1;

			for (guint k = i; k <= last; k++)
				count += !strcmp(first_point(&g_array_index(events, TraceEvent, k)),
						 point);
			if (parked && !strcmp(first_point(first), point))
				count--;
			add_step(trace, actor, point, count);
		}
		i = last + 1;
	}
	trace->policy = SIM_POLICY_STEPS;
	trace->then = SIM_POLICY_ROUND_ROBIN;
}

/* A HLT ends an exit-level vCPU: only a vCPU's last exit may be one. */
GArray *
import_final_events(Importer *im)
{
	GArray *events = g_array_new(FALSE, TRUE, sizeof(TraceEvent));

	g_array_sort(im->imported, compare_imported);
	for (guint i = 0; i < im->imported->len; i++) {
		Imported *imp = &g_array_index(im->imported, Imported, i);
		gboolean later = FALSE;

		if (imp->ev.kind == TRACE_EV_EPT_VIOLATION && !slot_of_gpa(im, imp->ev.gpa)) {
			ImportRecord r = {.line = imp->line, .event = (gchar *)"kvm_page_fault"};

			import_note(im, &r, "gpa in no memslot|gpa 0x%" G_GINT64_MODIFIER "x",
				    imp->ev.gpa);
			g_free(imp->ev.actor);
			continue;
		}
		for (guint j = i + 1;
		     j < im->imported->len && imp->ev.kind == TRACE_EV_HLT && !later; j++)
			later = !strcmp(g_array_index(im->imported, Imported, j).ev.actor,
					imp->ev.actor);
		if (later) {
			ImportRecord r = {.line = imp->line, .event = (gchar *)"kvm_exit"};

			import_note(
				im, &r,
				"HLT before more exits of its vCPU (kvmsim's exit-level HLT ends "
				"the vCPU): not imported|%s",
				imp->ev.actor);
			g_free(imp->ev.actor);
			continue;
		}
		g_array_append_val(events, imp->ev);
	}
	return events;
}

/* Orders gfn keys (pointers to guint64) by value. */
static gint
compare_gfn_keys(gconstpointer a, gconstpointer b)
{
	return compare_u64(*(gconstpointer const *)a, *(gconstpointer const *)b);
}

/* <spte> expectations: each gfn's last leaf, the pfn as a frame tag (its rank among the pfns
 * the gfn had; a pfn several gfns map read-only is the shared zero page). */
void
import_make_expectations(Importer *im, Trace *trace)
{
	guint n = 0;
	g_autofree gpointer *keys = g_hash_table_get_keys_as_array(im->leaves, &n);

	qsort(keys, n, sizeof(gpointer), compare_gfn_keys);
	for (guint i = 0; i < n; i++) {
		guint64 gfn = *(guint64 *)keys[i];
		const Leaf *l = g_hash_table_lookup(im->leaves, &gfn);
		const TraceMemslot *ms = slot_of_gpa(im, gfn << 12);
		TraceExpect x = {.kind = TRACE_EXPECT_SPTE,
				 .gfn = gfn,
				 .present = l->present,
				 .writable = -1,
				 .count = -1};

		if (!ms)
			continue;
		if (l->present && l->host_unknown) {
			x.level = l->level; /* the host's part (new frame, zero page) is unknown */
		} else if (l->present) {
			GHashTable *ro = g_hash_table_lookup(im->pfn_ro_gfns, &l->pfn);
			GArray *pfns = g_hash_table_lookup(im->gfn_pfns, &gfn);

			x.writable = l->writable;
			x.level = l->level;
			/* the zero page: mapped read-only by a read or fetch fault of a page the
			 * host never populated, shared by every such gfn */
			if ((ro && g_hash_table_size(ro) > 1) ||
			    (l->read_first && !l->writable && l->level == 1 && pfns &&
			     pfns->len == 1)) {
				x.frame_zero = TRUE;
			} else if (l->level == 1) {
				guint nth = 0;

				for (guint j = 0; pfns && j < pfns->len; j++) {
					guint64 p = g_array_index(pfns, guint64, j);
					GHashTable *z = g_hash_table_lookup(im->pfn_ro_gfns, &p);

					if (z && g_hash_table_size(z) > 1)
						continue;
					nth++;
					if (p == l->pfn)
						break;
				}
				x.frame_hva = ms->hva + ((gfn << 12) - ms->gpa);
				x.frame_nth = nth;
			}
		}
		g_array_append_val(trace->expects, x);
		im->rep->sptes++;
	}
	TraceExpect inv = {
		.kind = TRACE_EXPECT_INVARIANTS, .hold = TRUE, .writable = -1, .count = -1};

	g_array_append_val(trace->expects, inv);
}
