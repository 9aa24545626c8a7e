/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim show tree: the TDP MMU's tables as text or Graphviz DOT (mmu/dump.h walks them). */
#include "sim/report/show.h"

#include "mmu/dump.h"
#include "mmu/spte.h"

static const char *const kind_names[] = {
	[KVM_DUMP_ROOT] = "root",
	[KVM_DUMP_REMOVING] = "unlinked, being torn down (handle_removed_pt())",
	[KVM_DUMP_RCU] = "unlinked, waiting for an RCU grace period (call_rcu())",
};

/* The walk: runs of equal non-present entries (a table of frozen entries) are drawn once. */
typedef struct {
	GString *out;
	gboolean dot;
	gboolean pending;
	KvmDumpEntry first;
	int last_index;
	u64 table_pa[5];  /* the table being listed at each depth (DOT edges) */
} Walk;

/* A run of n entries as one text line. */
static void
text_run(Walk *w, const KvmDumpEntry *e, int n, const char *what)
{
	if (n == 1) {
		g_string_append_printf(w->out, "%*s[%3d] L%d gfn 0x%-8" G_GINT64_MODIFIER "x %016"
				       G_GINT64_MODIFIER "x  %s\n", 2 + 2 * e->depth, "", e->index,
				       e->level, e->gfn, e->spte, what);
		return;
	}
	g_string_append_printf(w->out, "%*s[%d-%d] L%d gfn 0x%" G_GINT64_MODIFIER "x-0x%"
			       G_GINT64_MODIFIER "x %016" G_GINT64_MODIFIER "x  %s (%d entries)\n",
			       2 + 2 * e->depth, "", e->index, w->last_index, e->level, e->gfn,
			       (u64)(e->gfn + (u64)(n - 1) * KVM_PAGES_PER_HPAGE(e->level)),
			       e->spte, what, n);
}

/* A run of n entries as one DOT node and the edge to it. */
static void
dot_run(Walk *w, const KvmDumpEntry *e, int n, const char *what)
{
	u64 parent = w->table_pa[MIN(e->depth, (int)G_N_ELEMENTS(w->table_pa) - 1)];
	const char *color = is_frozen_spte(e->spte) ? "lightblue" :
			    is_mmio_spte(e->spte) ? "khaki" :
			    !is_shadow_present_pte(e->spte) ? "gray" : "palegreen";
	g_autofree gchar *index = n == 1 ? g_strdup_printf("%d", e->index) :
					   g_strdup_printf("%d-%d", e->index, w->last_index);
	u64 last = e->gfn + (u64)(n - 1) * KVM_PAGES_PER_HPAGE(e->level);
	g_autofree gchar *gfns = n == 1 ? g_strdup_printf("0x%" G_GINT64_MODIFIER "x", e->gfn) :
					  g_strdup_printf("0x%" G_GINT64_MODIFIER "x-0x%"
							  G_GINT64_MODIFIER "x", e->gfn, last);

	g_string_append_printf(w->out, "  e%" G_GINT64_MODIFIER "x_%d [shape=ellipse, style=filled, "
			       "fillcolor=%s, label=\"gfn %s L%d\\n%016" G_GINT64_MODIFIER
			       "x\\n%s\"];\n", parent, e->index, color, gfns, e->level, e->spte,
			       what);
	g_string_append_printf(w->out, "  t%" G_GINT64_MODIFIER "x -> e%" G_GINT64_MODIFIER
			       "x_%d [label=\"%s\"];\n", parent, parent, e->index, index);
}

/* Print the run of entries pending, if any. */
static void
flush_run(Walk *w)
{
	g_autofree gchar *what = NULL;

	if (!w->pending)
		return;
	w->pending = FALSE;
	what = spte_describe(w->first.spte, w->first.level);
	if (w->dot)
		dot_run(w, &w->first, w->last_index - w->first.index + 1, what);
	else
		text_run(w, &w->first, w->last_index - w->first.index + 1, what);
}

/* A table: a header line for a root or an unlinked table, a box in DOT. */
static void
walk_table(const KvmDumpTable *t, gpointer data)
{
	Walk *w = data;
	const char *color = t->kind != KVM_DUMP_ROOT ? "lightblue" : t->invalid ? "gray" : "white";

	flush_run(w);
	if (t->depth < (int)G_N_ELEMENTS(w->table_pa))
		w->table_pa[t->depth] = t->pa;
	if (w->dot)
		g_string_append_printf(w->out, "  t%" G_GINT64_MODIFIER "x [shape=box, style=filled, "
				       "fillcolor=%s, label=\"%s%s\\nL%d gfn 0x%" G_GINT64_MODIFIER
				       "x\\n0x%" G_GINT64_MODIFIER "x\"];\n", t->pa, color,
				       t->depth ? "table" : t->kind == KVM_DUMP_ROOT ? "root" :
				       "unlinked", t->depth == 0 && t->invalid ? " (invalid)" : "",
				       t->level, t->gfn, t->pa);
	else if (t->depth == 0 && t->kind == KVM_DUMP_ROOT)
		g_string_append_printf(w->out, "root 0x%" G_GINT64_MODIFIER "x level %d, %s, "
				       "root_count %d\n", t->pa, t->level,
				       t->invalid ? "invalid (obsolete)" : "valid", t->root_count);
	else if (t->depth == 0)
		g_string_append_printf(w->out, "table 0x%" G_GINT64_MODIFIER "x level %d gfn 0x%"
				       G_GINT64_MODIFIER "x, %s\n", t->pa, t->level, t->gfn,
				       kind_names[t->kind]);
}

/* An entry: joins the pending run, or starts one; a table entry is printed at once. */
static void
walk_entry(const KvmDumpEntry *e, gpointer data)
{
	Walk *w = data;
	gboolean table = is_shadow_present_pte(e->spte) && !is_last_spte(e->spte, e->level);

	/* only entries that map nothing join a run: equal values, consecutive indexes */
	if (w->pending && !is_shadow_present_pte(e->spte) && e->spte == w->first.spte &&
	    e->depth == w->first.depth && e->index == w->last_index + 1) {
		w->last_index = e->index;
		return;
	}
	flush_run(w);
	if (table) {
		if (w->dot) {
			u64 parent = w->table_pa[MIN(e->depth, (int)G_N_ELEMENTS(w->table_pa) - 1)];

			g_string_append_printf(w->out, "  t%" G_GINT64_MODIFIER "x -> t%"
					       G_GINT64_MODIFIER "x [label=\"%d\"];\n", parent,
					       (u64)(e->spte & SPTE_BASE_ADDR_MASK), e->index);
			return;
		}
		w->first = *e;
		w->last_index = e->index;
		w->pending = TRUE;
		flush_run(w);
		return;
	}
	w->first = *e;
	w->last_index = e->index;
	w->pending = TRUE;
}

static const KvmDumpOps walk_ops = { walk_table, walk_entry };

/* The tree as indented text. */
void
sim_show_tree_text(struct kvm *kvm, GString *out)
{
	Walk w = { .out = out };
	gsize before = out->len;

	kvm_tdp_mmu_dump(kvm, &walk_ops, &w);
	flush_run(&w);
	if (out->len == before)
		g_string_append(out, "no roots: nothing has been mapped\n");
}

/* The tree as a Graphviz digraph titled title. */
void
sim_show_tree_dot(struct kvm *kvm, const char *title, GString *out)
{
	Walk w = { .out = out, .dot = TRUE };
	g_autofree gchar *label = g_strescape(title, NULL);

	g_string_append_printf(out, "digraph spte_tree {\n  label=\"%s\";\n  labelloc=t;\n"
			       "  node [fontname=\"monospace\", fontsize=10];\n", label);
	kvm_tdp_mmu_dump(kvm, &walk_ops, &w);
	flush_run(&w);
	g_string_append(out, "}\n");
}
