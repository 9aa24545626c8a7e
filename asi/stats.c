/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The counters as --stats keys, and the cost model: asi.cost is the sum over actions of their
 * count times their cost in cycles. Reference §5 found no published cost of an ASI CR3 switch,
 * of IBPB or of the L1D flush, so every default is a guess, sized from what the action does:
 *   cr3_write   250  guess: a CR3 write without NOFLUSH (every ASI write, reference §1.4) plus
 *                    refilling the TLB entries of the PCID it flushed
 *   ibpb       4000  guess: wrmsr PRED_CMD, which empties the indirect branch predictors
 *   rsb         100  guess: __FILL_RETURN_BUFFER, RSB_CLEAR_LOOPS (32) call/ret pairs
 *   l1d        2000  guess: the software flush reads 64 KiB (reference §5: one load per 4 KiB
 *                    page, cpuid, one load per 64-byte line, lfence): ~1,040 loads
 *   page_fault 1000  guess: the #PF exception entry and return and the re-walk of the tables
 * (asi_exit's own CR3 write is in cr3_write). --asi-cost changes any of them.
 */
#include "asi/sim-internal.h"

#include <errno.h>
#include <string.h>

/* The cost names --asi-cost takes, and where each lives in AsiCosts. */
static const struct {
	const char *name;
	gsize offset;
	guint64 value;
} cost_defaults[] = {
	{ "cr3_write", G_STRUCT_OFFSET(AsiCosts, cr3_write), 250 },
	{ "ibpb", G_STRUCT_OFFSET(AsiCosts, ibpb), 4000 },
	{ "rsb", G_STRUCT_OFFSET(AsiCosts, rsb), 100 },
	{ "l1d", G_STRUCT_OFFSET(AsiCosts, l1d), 2000 },
	{ "page_fault", G_STRUCT_OFFSET(AsiCosts, page_fault), 1000 },
};

/* The defaults above, then each NAME=CYCLES of spec over them. */
gboolean
asi_costs_parse(const char *spec, AsiCosts *costs, GError **error)
{
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);

	for (guint i = 0; i < G_N_ELEMENTS(cost_defaults); i++)
		G_STRUCT_MEMBER(guint64, costs, cost_defaults[i].offset) = cost_defaults[i].value;
	for (guint i = 0; items[i]; i++) {
		g_auto(GStrv) kv = g_strsplit(items[i], "=", 2);
		guint64 value;
		guint k = 0;

		if (!*items[i] && !items[i + 1] && i == 0)
			break; /* "" */
		while (k < G_N_ELEMENTS(cost_defaults) && g_strcmp0(kv[0], cost_defaults[k].name))
			k++;
		if (k == G_N_ELEMENTS(cost_defaults) || !kv[1] ||
		    !g_ascii_string_to_unsigned(kv[1], 10, 0, G_MAXUINT32, &value, NULL)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "'%s' is not NAME=CYCLES with NAME one of cr3_write, ibpb, rsb, "
				    "l1d, page_fault", items[i]);
			return FALSE;
		}
		G_STRUCT_MEMBER(guint64, costs, cost_defaults[k].offset) = value;
	}
	return TRUE;
}

/* "cr3_write=N,ibpb=N,rsb=N,l1d=N,page_fault=N": every cost, for traces. */
gchar *
asi_costs_format(const AsiCosts *costs)
{
	GString *s = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(cost_defaults); i++)
		g_string_append_printf(s, "%s%s=%" G_GUINT64_FORMAT, i ? "," : "",
				       cost_defaults[i].name,
				       G_STRUCT_MEMBER(guint64, costs, cost_defaults[i].offset));
	return g_string_free(s, FALSE);
}

/* The n-th --stats key and value (asi.h). */
gboolean
asi_stats_nth(const AsiHost *host, guint n, const char **out_key, guint64 *out_value)
{
	static const char *const keys[] = {
		"asi.exits.page_fault", "asi.exits.user_ret", "asi.exits.context_switch",
		"asi.exits.tlb_flush",  "asi.exits.misc",     "asi.enter.real",
		"asi.enter.nop",        "asi.cr3_writes",     "asi.flushes.ibpb",
		"asi.flushes.rsb",      "asi.flushes.l1d",
	};
	const AsiStats *s = asi_host_stats(host);
	const guint64 values[] = {
		s->exits[ASI_EXIT_PAGE_FAULT], s->exits[ASI_EXIT_USER_RET],
		s->exits[ASI_EXIT_CONTEXT_SWITCH], s->exits[ASI_EXIT_TLB_FLUSH],
		s->exits[ASI_EXIT_MISC], s->enter_real, s->enter_nop, s->cr3_writes, s->ibpb, s->rsb,
		s->l1d,
	};

	G_STATIC_ASSERT(G_N_ELEMENTS(keys) == G_N_ELEMENTS(values));
	if (n >= G_N_ELEMENTS(keys))
		return FALSE;
	*out_key = keys[n];
	*out_value = values[n];
	return TRUE;
}

/* asi.cost: each action's count times its cost. */
guint64
asi_sim_cost(const AsiSim *sim)
{
	const AsiStats *s = asi_host_stats(sim->host);
	const AsiCosts *c = &sim->config.costs;

	return s->cr3_writes * c->cr3_write + s->ibpb * c->ibpb + s->rsb * c->rsb +
	       s->l1d * c->l1d + s->exits[ASI_EXIT_PAGE_FAULT] * c->page_fault;
}

/* The asi.* --stats keys, then asi.cost. */
gboolean
asi_sim_stats_nth(const AsiSim *sim, guint n, const char **out_key, guint64 *out_value)
{
	if (asi_stats_nth(sim->host, n, out_key, out_value))
		return TRUE;
	if (asi_stats_nth(sim->host, n - 1, out_key, out_value)) {
		*out_key = "asi.cost";
		*out_value = asi_sim_cost(sim);
		return TRUE;
	}
	return FALSE;
}
