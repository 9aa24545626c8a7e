/* SPDX-License-Identifier: GPL-2.0-only */
/* Stats JSON with json-glib. */
#include "sim/report/stats.h"

#include "asi/nmi.h"

#include <json-glib/json-glib.h>
#include <string.h>

/* Open the objects of a dotted name's prefix that differ from the previous name's. */
static void
enter_groups(JsonBuilder *b, gchar **open, const char *name, const char **leaf)
{
	g_auto(GStrv) parts = g_strsplit(name, ".", -1);
	guint n = g_strv_length(parts);
	guint depth = 0;

	while (open[depth] && depth + 1 < n && strcmp(open[depth], parts[depth]) == 0)
		depth++;
	for (guint d = depth; open[d]; d++) {
		json_builder_end_object(b);
		g_clear_pointer(&open[d], g_free);
	}
	for (guint d = depth; d + 1 < n; d++) {
		json_builder_set_member_name(b, parts[d]);
		json_builder_begin_object(b);
		open[d] = g_strdup(parts[d]);
	}
	*leaf = strrchr(name, '.') ? strrchr(name, '.') + 1 : name;
}

static void
close_groups(JsonBuilder *b, gchar **open)
{
	for (guint d = 0; open[d]; d++) {
		json_builder_end_object(b);
		g_clear_pointer(&open[d], g_free);
	}
}

/* Counter names sorted so that members of one group are adjacent. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(sim_counter_name(*(const SimCounter *)a), sim_counter_name(*(const SimCounter *)b));
}

/* The run, then every counter grouped by its dotted name, then the guest's verdict. */
gchar *
sim_report_stats_json(const SimVmm *vmm, const SimSched *sched, const char *log_digest)
{
	g_autoptr(JsonBuilder) b = json_builder_new();
	const SimVmmConfig *cfg = sim_vmm_config(vmm);
	const SimCounters *c = sim_vmm_counters(vmm);
	SimCounter order[SIM_CTR_COUNT];
	gchar *open[8] = { NULL };
	const char *leaf;

	for (guint i = 0; i < SIM_CTR_COUNT; i++)
		order[i] = (SimCounter)i;
	qsort(order, SIM_CTR_COUNT, sizeof(order[0]), (int (*)(const void *, const void *))compare_names);

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "run");
	json_builder_begin_object(b);
	json_builder_set_member_name(b, "workload");
	json_builder_add_string_value(b, cfg->workload);
	json_builder_set_member_name(b, "vcpus");
	json_builder_add_int_value(b, cfg->nr_vcpus);
	json_builder_set_member_name(b, "mem");
	json_builder_add_int_value(b, (gint64)cfg->mem_size);
	json_builder_set_member_name(b, "seed");
	json_builder_add_int_value(b, (gint64)cfg->seed);
	json_builder_set_member_name(b, "steps");
	json_builder_add_int_value(b, (gint64)sim_sched_now(sched));
	json_builder_set_member_name(b, "switches");
	json_builder_add_int_value(b, (gint64)sim_sched_switches(sched));
	if (log_digest) {
		json_builder_set_member_name(b, "log_hash");
		json_builder_add_string_value(b, log_digest);
	}
	json_builder_end_object(b);

	for (guint i = 0; i < SIM_CTR_COUNT; i++) {
		enter_groups(b, open, sim_counter_name(order[i]), &leaf);
		json_builder_set_member_name(b, leaf);
		json_builder_add_int_value(b, (gint64)c->v[order[i]]);
		if (order[i] == SIM_CTR_GUEST_INSNS) {
			json_builder_set_member_name(b, "result");
			json_builder_add_string_value(b,
				sim_guest_result_name(sim_vmm_guest_result(vmm)));
			json_builder_set_member_name(b, "console");
			json_builder_add_string_value(b, sim_vmm_console(vmm));
			json_builder_set_member_name(b, "error");
			if (sim_vmm_error(vmm))
				json_builder_add_string_value(b, sim_vmm_error(vmm));
			else
				json_builder_add_null_value(b);
		}
	}
	close_groups(b, open);
	/* --asi on: issue 10's asi.* keys, in asi_sim_stats_nth()'s order */
	if (sim_vmm_asi(vmm)) {
		const char *key;
		guint64 value;

		for (guint n = 0; asi_sim_stats_nth(sim_vmm_asi(vmm), n, &key, &value); n++) {
			enter_groups(b, open, key, &leaf);
			json_builder_set_member_name(b, leaf);
			json_builder_add_int_value(b, (gint64)value);
		}
	}
	/* NMIs (--nmi, <nmi>): asi.nmi.* (asi/nmi.h), in the same "asi" object */
	if (sim_vmm_nmi_state(vmm)) {
		const char *key;
		guint64 value;

		for (guint n = 0; asi_nmis_stats_nth(sim_vmm_nmi_state(vmm), n, &key, &value); n++) {
			enter_groups(b, open, key, &leaf);
			json_builder_set_member_name(b, leaf);
			json_builder_add_int_value(b, (gint64)value);
		}
	}
	close_groups(b, open);
	json_builder_end_object(b);

	g_autoptr(JsonGenerator) gen = json_generator_new();
	g_autoptr(JsonNode) root = json_builder_get_root(b);

	json_generator_set_root(gen, root);
	json_generator_set_pretty(gen, TRUE);
	gchar *text = json_generator_to_data(gen, NULL);
	gchar *with_nl = g_strconcat(text, "\n", NULL);

	g_free(text);
	return with_nl;
}
