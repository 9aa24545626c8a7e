/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim run WORKLOAD: build the machine, run it, report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"
#include "sim/core/log.h"
#include "sim/core/outfile.h"
#include "sim/report/stats.h"
#include "sim/report/tracedat.h"
#include "sim/report/timeline.h"
#include "sim/trace/replay.h"
#include "sim/vmm/image.h"
#include "sim/vmm/postcopy.h"
#include "sim/vmm/vmm.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"

typedef struct {
	gint vcpus;
	gchar *mem;
	gint64 seed;
	gchar *host_events;
	gint64 host_events_every;
	gchar *host_events_on;
	gint64 quantum;
	gboolean thp;
	gboolean nx_huge_pages;
	gboolean hv_tlb_flush;
	gint64 max_insns;
	gint64 watchdog;
	gchar *policy;
	gchar *log_path;
	gchar *stats_path;
	gchar *record_path;
	gchar *console_path;
	gchar *timeline_path;
	gchar *guest_path;
	gchar *arg;
	gchar *record_expect;
	gchar *vm_type;
	gchar *gmem_conversion;
	gchar *gmem_hugepage;
	gboolean compare_conversions;
	gchar *postcopy;
	gint64 postcopy_fetch_steps;
	gboolean compare_postcopy;
	gchar *log_format;
	gchar *trace_dat_path;
	gchar **params;
	gchar **mutate;
	gchar *asi;
	gchar *asi_api;
	gchar *asi_l1tf;
	gchar *asi_ibpb;
	gchar *asi_cost;
	gchar *asi_userspace;
	gchar *asi_vmexit_ibpb;
	gchar **rest;
	gint64 nmi;
	gchar *nmi_touch;
} RunOptions;

/* Free what GOptionContext filled in. */
static void
run_options_clear(RunOptions *o)
{
	g_free(o->mem);
	g_free(o->host_events);
	g_free(o->host_events_on);
	g_free(o->policy);
	g_free(o->log_path);
	g_free(o->stats_path);
	g_free(o->record_path);
	g_free(o->console_path);
	g_free(o->timeline_path);
	g_free(o->guest_path);
	g_free(o->arg);
	g_free(o->record_expect);
	g_free(o->vm_type);
	g_free(o->gmem_conversion);
	g_free(o->log_format);
	g_free(o->trace_dat_path);
	g_free(o->gmem_hugepage);
	g_free(o->nmi_touch);
	g_free(o->postcopy);
	g_strfreev(o->params);
	g_strfreev(o->mutate);
	g_free(o->asi);
	g_free(o->asi_api);
	g_free(o->asi_l1tf);
	g_free(o->asi_ibpb);
	g_free(o->asi_cost);
	g_free(o->asi_userspace);
	g_free(o->asi_vmexit_ibpb);
	g_strfreev(o->rest);
}

/*
 * --gmem-hugepage 2M|1G: the PROPOSED HugeTLB guest_memfd (gmem/proposed.h) behind the data
 * region. The series' kvm_gmem_create() refuses a size that is not a whole number of huge pages
 * with -EINVAL, so --mem must be one.
 */
static gboolean
hugepage_config(const RunOptions *o, SimVmmConfig *cfg, GError **error)
{
	static const char *const names[] = { [SIM_GMEM_HUGEPAGE_2M] = "2M",
					     [SIM_GMEM_HUGEPAGE_1G] = "1G" };
	guint64 huge;

	if (!o->gmem_hugepage)
		return TRUE;
	if (strcmp(o->gmem_hugepage, "2M") != 0 && strcmp(o->gmem_hugepage, "1G") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--gmem-hugepage %s: must be 2M or 1G", o->gmem_hugepage);
		return FALSE;
	}
	if (cfg->vm_type != SIM_VM_SW_PROTECTED) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--gmem-hugepage: needs --vm-type sw-protected (only private memory comes "
			    "from a guest_memfd)");
		return FALSE;
	}
	cfg->gmem_hugepage = strcmp(o->gmem_hugepage, "2M") == 0 ? SIM_GMEM_HUGEPAGE_2M :
								   SIM_GMEM_HUGEPAGE_1G;
	huge = sim_vmm_gmem_hugepage_size(cfg->gmem_hugepage);
	if (cfg->mem_size % huge) {
		g_autofree gchar *mem = g_format_size_full(cfg->mem_size, G_FORMAT_SIZE_IEC_UNITS);

		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--gmem-hugepage %s: --mem %s is not a whole number of %s pages "
			    "(KVM_CREATE_GUEST_MEMFD refuses the size: EINVAL)",
			    names[cfg->gmem_hugepage], mem, names[cfg->gmem_hugepage]);
		return FALSE;
	}
	return TRUE;
}

/* "on"/"off" of option name into *out (unchanged when value is NULL). */
static gboolean
on_off(const char *name, const char *value, gboolean *out, GError **error)
{
	if (!value)
		return TRUE;
	if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s %s: must be on or off",
			    name, value);
		return FALSE;
	}
	*out = strcmp(value, "on") == 0;
	return TRUE;
}

/* --asi on|off and the options that shape it (asi/asi-sim.h); those need --asi on. */
static gboolean
asi_config(const RunOptions *o, SimVmmConfig *cfg, GError **error)
{
	asi_sim_config_init(&cfg->asi);
	if (!on_off("--asi", o->asi, &cfg->asi.on, error) ||
	    !on_off("--asi-l1tf", o->asi_l1tf, &cfg->asi.l1tf, error) ||
	    !on_off("--asi-ibpb", o->asi_ibpb, &cfg->asi.ibpb, error) ||
	    !on_off("--asi-userspace", o->asi_userspace, &cfg->asi.userspace, error) ||
	    !on_off("--asi-vmexit-ibpb", o->asi_vmexit_ibpb, &cfg->asi.vmexit_ibpb, error))
		return FALSE;
	if (o->asi_api && !asi_api_lookup(o->asi_api, &cfg->asi.api)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--asi-api %s: must be v2 or critical", o->asi_api);
		return FALSE;
	}
	if (o->asi_cost && !asi_costs_parse(o->asi_cost, &cfg->asi.costs, error)) {
		g_prefix_error(error, "--asi-cost %s: ", o->asi_cost);
		return FALSE;
	}
	if (!cfg->asi.on &&
	    (o->asi_api || o->asi_l1tf || o->asi_ibpb || o->asi_cost || o->asi_userspace ||
	     o->asi_vmexit_ibpb)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--asi-api, --asi-l1tf, --asi-ibpb, --asi-vmexit-ibpb, --asi-userspace and "
			    "--asi-cost need --asi on");
		return FALSE;
	}
	if (sim_mutated(cfg->mutations, SIM_MUT_ASI_CRITICAL_AFTER_ENTER) && !cfg->asi.on) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--mutate asi_critical_after_enter: needs --asi on");
		return FALSE;
	}
	return TRUE;
}

/*
 * Turn the options into a machine configuration; a usage error message otherwise. A --guest
 * image is read into *out_image (the configuration points into it).
 */
/* --postcopy MECH and --postcopy-fetch-steps N (sim/vmm/postcopy.h): guest RAM starts remote. */
static gboolean
postcopy_config(const RunOptions *o, SimVmmConfig *cfg, GError **error)
{
	if (o->compare_postcopy && (o->postcopy || cfg->vm_type != SIM_VM_DEFAULT)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--compare-postcopy runs every mechanism on a default VM: drop --postcopy "
			    "and --vm-type");
		return FALSE;
	}
	if (o->postcopy_fetch_steps < 0 ||
	    (o->postcopy_fetch_steps && !o->postcopy && !o->compare_postcopy)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--postcopy-fetch-steps: must be positive, with --postcopy");
		return FALSE;
	}
	cfg->postcopy_fetch_steps = (guint64)o->postcopy_fetch_steps;
	if (!o->postcopy)
		return TRUE;
	const SimPostcopyMech *mech = sim_postcopy_mech_lookup(o->postcopy);

	if (!mech) {
		guint n;
		const SimPostcopyMech *all = sim_postcopy_mechs(&n);
		g_autoptr(GString) names = g_string_new(NULL);

		for (guint i = 0; i < n; i++)
			g_string_append_printf(names, "%s%s", i ? ", " : "", all[i].name);
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--postcopy %s: must be one of %s", o->postcopy, names->str);
		return FALSE;
	}
	if (cfg->vm_type != SIM_VM_DEFAULT) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--postcopy: needs a default VM (the remote memory is the VMM's "
			    "anonymous memory)");
		return FALSE;
	}
	cfg->postcopy = mech->name;
	return TRUE;
}

static gboolean
make_config(const RunOptions *o, SimVmmConfig *cfg, SimPolicy *policy, GBytes **out_image,
	    TraceRecordExpect *expect,
	    GError **error)
{
	if (o->guest_path) {
		gchar *bytes;
		gsize size;

		if (o->rest && o->rest[0]) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "run takes a WORKLOAD or --guest FILE, not both");
			return FALSE;
		}
		if (!g_file_get_contents(o->guest_path, &bytes, &size, error)) {
			g_prefix_error(error, "--guest: ");
			return FALSE;
		}
		*out_image = g_bytes_new_take(bytes, size);
		SimImageLayout layout;

		if (!sim_image_layout((const guint8 *)bytes, size, &layout, error)) {
			g_prefix_error(error, "--guest %s: ", o->guest_path);
			return FALSE;
		}
		cfg->workload = "guest";
		cfg->guest_path = o->guest_path;
		cfg->image = g_bytes_get_data(*out_image, &cfg->image_size);
	} else if (!o->rest || !o->rest[0] || o->rest[1]) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "run takes exactly one WORKLOAD (see kvmsim list) or --guest FILE");
		return FALSE;
	} else {
		cfg->workload = o->rest[0];
	}
	if (o->arg && strlen(o->arg) >= KVMSIM_ARG_MAX) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--arg: %zu bytes, at most %llu", strlen(o->arg), KVMSIM_ARG_MAX - 1);
		return FALSE;
	}
	cfg->arg = o->arg;
	if (!o->guest_path && !kvmsim_workload_lookup(cfg->workload)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "unknown workload '%s' (see kvmsim list)", cfg->workload);
		return FALSE;
	}
	if (o->vcpus < 1 || o->vcpus > KVMSIM_MAX_VCPUS) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--vcpus %d: must be from 1 to %d", o->vcpus, KVMSIM_MAX_VCPUS);
		return FALSE;
	}
	cfg->nr_vcpus = (guint)o->vcpus;
	if (o->mem) {
		if (!kvmsim_parse_size(o->mem, &cfg->mem_size)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--mem %s: not a size (e.g. 64M, 1G, 65536)", o->mem);
			return FALSE;
		}
		if (cfg->mem_size % SIM_PAGE_SIZE) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--mem %s: not a multiple of 4 KiB", o->mem);
			return FALSE;
		}
		if (cfg->mem_size < SIM_VMM_MIN_MEM || cfg->mem_size > SIM_VMM_MAX_MEM) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--mem %s: %s (guest RAM is %" G_GUINT64_FORMAT " KiB to %"
				    G_GUINT64_FORMAT " MiB; the frame arena holds %" G_GUINT64_FORMAT
				    " MiB)", o->mem,
				    cfg->mem_size < SIM_VMM_MIN_MEM ? "too small" : "exceeds the arena",
				    (guint64)(SIM_VMM_MIN_MEM >> 10), (guint64)(SIM_VMM_MAX_MEM >> 20),
				    (guint64)((SIM_ARENA_DEFAULT_FRAMES * SIM_PAGE_SIZE) >> 20));
			return FALSE;
		}
	}
	if (o->seed < 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--seed %" G_GINT64_FORMAT ": must not be negative", o->seed);
		return FALSE;
	}
	cfg->seed = (guint64)o->seed;
	if (o->quantum < 1 || (o->max_insns < 1 && o->max_insns != G_MININT64) || o->watchdog < 1) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--quantum, --max-insns and --watchdog must be positive");
		return FALSE;
	}
	cfg->quantum = (guint64)o->quantum;
	cfg->thp = o->thp;
	cfg->nx_huge_pages = o->nx_huge_pages;
	cfg->hv_tlb_flush = o->hv_tlb_flush;
	/* not given: 0, the default scaled to --mem */
	cfg->max_insns = o->max_insns == G_MININT64 ? 0 : (guint64)o->max_insns;
	if (o->vm_type && strcmp(o->vm_type, "default") != 0 &&
	    strcmp(o->vm_type, "sw-protected") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--vm-type %s: must be default or sw-protected", o->vm_type);
		return FALSE;
	}
	cfg->vm_type = o->vm_type && strcmp(o->vm_type, "sw-protected") == 0 ?
			       SIM_VM_SW_PROTECTED : SIM_VM_DEFAULT;
	if (o->gmem_conversion && strcmp(o->gmem_conversion, "legacy") != 0 &&
	    strcmp(o->gmem_conversion, "in-place") != 0) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--gmem-conversion %s: must be legacy or in-place", o->gmem_conversion);
		return FALSE;
	}
	if ((o->gmem_conversion || o->compare_conversions) && cfg->vm_type != SIM_VM_SW_PROTECTED) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "%s: needs --vm-type sw-protected (a default VM has no private memory "
			    "to convert)",
			    o->gmem_conversion ? "--gmem-conversion" : "--compare-conversions");
		return FALSE;
	}
	if (o->gmem_conversion && o->compare_conversions) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--compare-conversions runs both designs: drop --gmem-conversion");
		return FALSE;
	}
	cfg->gmem_conversion = o->gmem_conversion && strcmp(o->gmem_conversion, "in-place") == 0 ?
				       SIM_GMEM_CONV_IN_PLACE : SIM_GMEM_CONV_LEGACY;
	if (!hugepage_config(o, cfg, error))
		return FALSE;
	if (o->host_events && !sim_host_events_parse(o->host_events, &cfg->host_events, error))
		return FALSE;
	if (!postcopy_config(o, cfg, error))
		return FALSE;
	if ((cfg->host_events.count[SIM_HOST_PUNCH] || cfg->host_events.count[SIM_HOST_CONVERT]) &&
	    cfg->vm_type != SIM_VM_SW_PROTECTED) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--host-events: punch and convert act on the guest_memfd: they need "
			    "--vm-type sw-protected");
		return FALSE;
	}
	if (o->host_events_every < 0 || o->host_events_every > (1ll << 32)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--host-events-every %" G_GINT64_FORMAT ": must be from 1 to 2^32 steps "
			    "(0: the default)",
			    o->host_events_every);
		return FALSE;
	}
	cfg->host_event_interval = (guint64)o->host_events_every;
	if (o->host_events_on &&
	    !sim_vmm_parse_regions(o->host_events_on, &cfg->host_event_regions, error)) {
		g_prefix_error(error, "--host-events-on: ");
		return FALSE;
	}
	for (guint i = 0; o->params && o->params[i]; i++) {
		g_auto(GStrv) kv = g_strsplit(o->params[i], "=", 2);
		guint64 index, value = 0;
		gchar *end = NULL;
		int overflow = 0;

		if (kv[0] && kv[1] && g_ascii_isdigit(kv[1][0])) {
			errno = 0;
			value = g_ascii_strtoull(kv[1], &end, 0);
			overflow = errno; /* read now: the index parse below clears errno */
		}
		if (overflow) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--param %s: the value does not fit in 64 bits", o->params[i]);
			return FALSE;
		}
		if (!kv[0] || !kv[1] || !g_ascii_string_to_unsigned(kv[0], 10, 0, 7, &index, NULL) ||
		    !end || *end) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "--param %s: must be INDEX=VALUE with INDEX from 0 to 7",
				    o->params[i]);
			return FALSE;
		}
		cfg->params[index] = value;
	}
	if (!kvmsim_parse_mutations(o->mutate, &cfg->mutations, error))
		return FALSE;
	if (!asi_config(o, cfg, error))
		return FALSE;
	if (!kvmsim_parse_nmi(o->nmi, o->nmi_touch, &cfg->nr_nmis, &cfg->nmi_touch, error))
		return FALSE;
	*expect = TRACE_RECORD_EXPECT_AUTO;
	if (o->record_expect && !trace_record_expect_lookup(o->record_expect, expect)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--record-expect %s: must be minimal or full", o->record_expect);
		return FALSE;
	}
	*policy = SIM_POLICY_RANDOM;
	if (o->policy && (!sim_policy_lookup(o->policy, policy) || *policy == SIM_POLICY_STEPS)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--policy %s: must be random or round-robin", o->policy);
		return FALSE;
	}
	return TRUE;
}

/* kvmsim run's options, filling in o (a copy the caller frees). */
static GOptionEntry *
run_entries(RunOptions *o)
{
	const GOptionEntry entries[] = {
		{ "vcpus", 0, 0, G_OPTION_ARG_INT, &o->vcpus, "Number of vCPUs (1-64, default 2)",
		  "N" },
		{ "mem", 0, 0, G_OPTION_ARG_STRING, &o->mem,
		  "Guest RAM, a multiple of 4 KiB (default 64M)", "SIZE" },
		{ "seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "Seed of every random choice (default 1)",
		  "S" },
		{ "host-events", 0, 0, G_OPTION_ARG_STRING, &o->host_events,
		  "Host events on guest memory, e.g. migrate=500,dontneed=20,age=50; with --vm-type "
		  "sw-protected also punch and convert (on the guest_memfd); dirtylog: the VMM turns "
		  "dirty logging on for the data region, then harvests it", "KIND=COUNT,..." },
		{ "host-events-every", 0, 0, G_OPTION_ARG_INT64, &o->host_events_every,
		  "Mean logical steps between two host events (default: 8 per page of --mem, "
		  "divided among the events)", "STEPS" },
		{ "host-events-on", 0, 0, G_OPTION_ARG_STRING, &o->host_events_on,
		  "Where host events land: image, stacks, data, comma separated (default all)",
		  "REGION,..." },
		{ "quantum", 0, 0, G_OPTION_ARG_INT64, &o->quantum,
		  "Instructions a vCPU runs before it is preempted (default 10000)", "INSNS" },
		{ "thp", 0, 0, G_OPTION_ARG_NONE, &o->thp,
		  "Back guest RAM with transparent huge pages (madvise(MADV_HUGEPAGE), as QEMU does)",
		  NULL },
		{ "nx-huge-pages", 0, 0, G_OPTION_ARG_NONE, &o->nx_huge_pages,
		  "KVM's NX huge page mitigation (nx_huge_pages=1): exec faults map 4K", NULL },
		{ "hv-tlb-flush", 0, 0, G_OPTION_ARG_NONE, &o->hv_tlb_flush,
		  "KVM runs on Hyper-V: remote TLB flushes are the hypervisor's, ranged where KVM "
		  "asks for a range", NULL },
		{ "max-insns", 0, 0, G_OPTION_ARG_INT64, &o->max_insns,
		  "Instruction budget per vCPU; a guest past it is a runaway (default 2^32 + 32 per "
		  "byte of --mem)", "N" },
		{ "vm-type", 0, 0, G_OPTION_ARG_STRING, &o->vm_type,
		  "KVM_CREATE_VM's type: default, or sw-protected (KVM_X86_SW_PROTECTED_VM: the data "
		  "region is bound to a guest_memfd and converts between shared and private)",
		  "TYPE" },
		{ "gmem-conversion", 0, 0, G_OPTION_ARG_STRING, &o->gmem_conversion,
		  "How the VMM converts private memory: legacy (v6.18, the default) or in-place "
		  "(proposed: KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd)", "DESIGN" },
		{ "gmem-hugepage", 0, 0, G_OPTION_ARG_STRING, &o->gmem_hugepage,
		  "Back the guest_memfd with HugeTLB pages of this size, 2M or 1G (proposed: "
		  "GUEST_MEMFD_FLAG_HUGETLB; needs --vm-type sw-protected)", "SIZE" },
		{ "compare-conversions", 0, 0, G_OPTION_ARG_NONE, &o->compare_conversions,
		  "Run the workload under both conversion designs and print them side by side",
		  NULL },
		{ "postcopy", 0, 0, G_OPTION_ARG_STRING, &o->postcopy,
		  "Guest RAM starts remote; fetch pages with MECH (uffd, exit-on-missing, userfault)",
		  "MECH" },
		{ "postcopy-fetch-steps", 0, 0, G_OPTION_ARG_INT64, &o->postcopy_fetch_steps,
		  "Logical steps one remote page takes to arrive (default 16)", "N" },
		{ "compare-postcopy", 0, 0, G_OPTION_ARG_NONE, &o->compare_postcopy,
		  "Run under every post-copy mechanism at 1, 4, 16 and 64 vCPUs; print a table",
		  NULL },
		{ "policy", 0, 0, G_OPTION_ARG_STRING, &o->policy,
		  "Scheduling policy: random (default) or round-robin", "POLICY" },
		{ "guest", 0, 0, G_OPTION_ARG_FILENAME, &o->guest_path,
		  "Run this program instead of a built-in workload: a static ELF64 or a flat binary "
		  "(docs/guests.md)", "FILE" },
		{ "arg", 0, 0, G_OPTION_ARG_STRING, &o->arg,
		  "A string the guest reads (params->arg_gpa, guest_arg())", "STRING" },
		{ "watchdog", 0, 0, G_OPTION_ARG_INT64, &o->watchdog,
		  "Yield points without progress before a livelock is reported (default 65536)",
		  "N" },
		{ "param", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->params,
		  "Workload parameter INDEX (0-7) = VALUE, e.g. stress rounds: 0=4 (repeatable)",
		  "INDEX=VALUE" },
		{ "mutate", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->mutate,
		  "Plant this protocol bug in the model (see kvmsim list --mutations; repeatable)",
		  "NAME" },
		{ "asi", 0, 0, G_OPTION_ARG_STRING, &o->asi,
		  "Run KVM in ASI's restricted address space (default off)", "on|off" },
		{ "asi-api", 0, 0, G_OPTION_ARG_STRING, &o->asi_api,
		  "ASI's API shape: v2 (asi_enter/asi_relax/asi_exit, the default) or critical "
		  "(asi_start/asi_start_critical/asi_end_critical/asi_end)", "v2|critical" },
		{ "asi-l1tf", 0, 0, G_OPTION_ARG_STRING, &o->asi_l1tf,
		  "ASI: the host CPU has L1TF, the data flush is an L1D flush (default on)",
		  "on|off" },
		{ "asi-ibpb", 0, 0, G_OPTION_ARG_STRING, &o->asi_ibpb,
		  "ASI: the host CPU has IBPB, the control flush issues one (default on)", "on|off" },
		{ "asi-vmexit-ibpb", 0, 0, G_OPTION_ARG_STRING, &o->asi_vmexit_ibpb,
		  "ASI: the kernel already does IBPB, retpoline and RSB fill on VM exit, so the KVM "
		  "class leaves GUEST_DATA instead of GUEST_CONTROL (default off)", "on|off" },
		{ "asi-userspace", 0, 0, G_OPTION_ARG_STRING, &o->asi_userspace,
		  "ASI: the VMM runs in its userspace class's domain between KVM_RUNs (default off)",
		  "on|off" },
		{ "asi-cost", 0, 0, G_OPTION_ARG_STRING, &o->asi_cost,
		  "ASI cost model, cycles per action (default cr3_write=250,ibpb=4000,rsb=100,"
		  "l1d=2000,page_fault=1000; all guesses, asi/stats.c)", "NAME=CYCLES,..." },
		{ "log", 0, 0, G_OPTION_ARG_FILENAME, &o->log_path, "Write the event log to FILE",
		  "FILE" },
		{ "log-format", 0, 0, G_OPTION_ARG_STRING, &o->log_format,
		  "Layout of --log: kvmsim (default) or ftrace (trace-cmd report's prefix)",
		  "kvmsim|ftrace" },
		{ "trace-dat", 0, 0, G_OPTION_ARG_FILENAME, &o->trace_dat_path,
		  "Write the run as a trace-cmd trace.dat to FILE (trace-cmd report, KernelShark)",
		  "FILE" },
		{ "stats", 0, 0, G_OPTION_ARG_FILENAME, &o->stats_path, "Write JSON stats to FILE",
		  "FILE" },
		{ "console", 0, 0, G_OPTION_ARG_FILENAME, &o->console_path,
		  "Write what the guest printed on its console to FILE", "FILE" },
		{ "timeline", 0, 0, G_OPTION_ARG_FILENAME, &o->timeline_path,
		  "Write the run as Chrome trace-event JSON to FILE (Perfetto, speedscope)",
		  "FILE" },
		{ "record", 0, 0, G_OPTION_ARG_FILENAME, &o->record_path,
		  "Write a trace of the run to FILE (replay it with kvmsim replay)", "FILE" },
		{ "record-expect", 0, 0, G_OPTION_ARG_STRING, &o->record_expect,
		  "What the trace expects: full (the same run: counters, log hash; the default if "
		  "the run passed) or minimal (the guest passes, no invariant fails; the default if "
		  "it failed)", "minimal|full" },
		{ "nmi", 0, 0, G_OPTION_ARG_INT64, &o->nmi,
		  "NMIs on the vCPUs' host CPUs, each at a seeded step (asi/nmi.h; default 0)", "K" },
		{ "nmi-touch", 0, 0, G_OPTION_ARG_STRING, &o->nmi_touch,
		  "What an NMI handler reads: none, kernel, user (default: a perf sample of user "
		  "memory), page-cache or guest-ram", "KIND" },
		{ G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->rest, NULL, "WORKLOAD" },
		{ NULL },
	};

	return g_memdup2(entries, sizeof(entries));
}

/*
 * The machine kvmsim run would build from argv (WORKLOAD and run's options; argv[0] is skipped),
 * for explore: seed is the machine's seed. The outputs run writes are not options here. A usage
 * error message otherwise; *out_image holds a --guest program the configuration points into.
 */
gboolean
kvmsim_run_config(int argc, char **argv, guint64 seed, SimVmmConfig *cfg, GBytes **out_image,
		  GError **error)
{
	RunOptions o = { .vcpus = 2, .seed = (gint64)seed, .quantum = 10000,
			 .max_insns = G_MININT64, .watchdog = SIM_SCHED_DEFAULT_WATCHDOG };
	g_autofree GOptionEntry *entries = run_entries(&o);
	g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
	SimPolicy policy;
	TraceRecordExpect expect;
	gboolean ok;

	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, &argc, &argv, error);
	if (ok && (o.log_path || o.stats_path || o.record_path || o.console_path || o.policy ||
		   o.record_expect)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--log, --stats, --record, --console, --policy and --record-expect are "
			    "kvmsim run's, not explore's");
		ok = FALSE;
	}
	if (ok)
		ok = make_config(&o, cfg, &policy, out_image, &expect, error);
	if (ok) {
		/* the strings the configuration points to outlive o */
		cfg->workload = g_intern_string(cfg->workload);
		cfg->arg = g_intern_string(cfg->arg);
		cfg->guest_path = g_intern_string(cfg->guest_path);
	}
	run_options_clear(&o);
	return ok;
}

/* The short human summary of a run: verdict, exits, faults, host work, scheduler. */
static void
print_summary(const SimVmm *vmm, const SimSched *sched)
{
	const SimVmmConfig *cfg = sim_vmm_config(vmm);
	const guint64 *v = sim_vmm_counters(vmm)->v;
	g_autofree gchar *console = g_strchomp(g_strdup(sim_vmm_console(vmm)));
	g_auto(GStrv) lines = g_strsplit(console, "\n", -1);
	g_autofree gchar *mem = g_format_size_full(cfg->mem_size, G_FORMAT_SIZE_IEC_UNITS);

	printf("kvmsim run %s: %u vcpu%s, %s, seed %" G_GUINT64_FORMAT "\n",
	       cfg->guest_path ? cfg->guest_path : cfg->workload, cfg->nr_vcpus,
	       cfg->nr_vcpus == 1 ? "" : "s", mem, cfg->seed);
	/* the whole console: the verdict's line ends with the first line, the others follow */
	printf("  guest      %s%s%s\n", sim_guest_result_name(sim_vmm_guest_result(vmm)),
	       *console ? ": " : "", *console ? lines[0] : "");
	for (guint i = 1; *console && lines[i]; i++)
		printf("             %s\n", lines[i]);
	if (sim_vmm_error(vmm))
		printf("  error      %s\n", sim_vmm_error(vmm));
	printf("  exits      ept_violation %" G_GUINT64_FORMAT ", io %" G_GUINT64_FORMAT
	       ", hypercall %" G_GUINT64_FORMAT ", mmio %" G_GUINT64_FORMAT ", hlt %" G_GUINT64_FORMAT
	       ", preempt %" G_GUINT64_FORMAT "\n",
	       v[SIM_CTR_EXITS_EPT_VIOLATION], v[SIM_CTR_EXITS_IO], v[SIM_CTR_EXITS_HYPERCALL],
	       v[SIM_CTR_EXITS_MMIO], v[SIM_CTR_EXITS_HLT], v[SIM_CTR_EXITS_PREEMPT]);
	printf("  faults     fixed %" G_GUINT64_FORMAT ", retry %" G_GUINT64_FORMAT
	       ", spurious %" G_GUINT64_FORMAT ", fast %" G_GUINT64_FORMAT "\n",
	       v[SIM_CTR_FAULTS_FIXED], v[SIM_CTR_FAULTS_RETRY], v[SIM_CTR_FAULTS_SPURIOUS],
	       v[SIM_CTR_FAULTS_FAST]);
	printf("  host       migrate %" G_GUINT64_FORMAT ", dontneed %" G_GUINT64_FORMAT
	       ", age %" G_GUINT64_FORMAT ", zero page %" G_GUINT64_FORMAT ", cow %"
	       G_GUINT64_FORMAT "; invalidations %" G_GUINT64_FORMAT ", zaps %" G_GUINT64_FORMAT
	       ", tlb flushes %" G_GUINT64_FORMAT "\n",
	       v[SIM_CTR_HOST_MIGRATE], v[SIM_CTR_HOST_DONTNEED], v[SIM_CTR_HOST_AGE],
	       v[SIM_CTR_HOST_ZERO_PAGE], v[SIM_CTR_HOST_COW], v[SIM_CTR_INVALIDATIONS],
	       v[SIM_CTR_ZAPS], v[SIM_CTR_TLB_FLUSHES]);
	if (cfg->mutations) {
		g_autofree gchar *names = sim_mutations_format(cfg->mutations);

		printf("  mutations  %s\n", names);
	}
	if (sim_vmm_asi(vmm)) {
		GString *line = g_string_new(NULL);
		const char *key;
		guint64 value;

		for (guint n = 0; asi_sim_stats_nth(sim_vmm_asi(vmm), n, &key, &value); n++)
			g_string_append_printf(line, "%s%s %" G_GUINT64_FORMAT, n ? ", " : "",
					       key + 4, value);
		printf("  asi        %s (api %s)\n", line->str, asi_api_name(cfg->asi.api));
		g_string_free(line, TRUE);
	}
	if (sim_vmm_postcopy(vmm)) {
		SimPostcopyStats st;

		sim_postcopy_stats(sim_vmm_postcopy(vmm), &st);
		printf("  postcopy   %s: fetched %" G_GUINT64_FORMAT ", exits %" G_GUINT64_FORMAT
		       ", wake-ups %" G_GUINT64_FORMAT ", wq lock blocked %" G_GUINT64_FORMAT
		       ", spurious %" G_GUINT64_FORMAT ", refills %" G_GUINT64_FORMAT
		       ", finished at step %" G_GUINT64_FORMAT "\n",
		       cfg->postcopy, st.fetched, st.exits, st.wakeups, st.lock_blocked,
		       st.spurious, st.refills, st.finished_at);
	}
	printf("  scheduler  %" G_GUINT64_FORMAT " steps, %" G_GUINT64_FORMAT
	       " switches, %" G_GUINT64_FORMAT " guest instructions\n",
	       sim_sched_now(sched), sim_sched_switches(sched), v[SIM_CTR_GUEST_INSNS]);
}

/* The rows of --compare-conversions: what a conversion costs, by counter. */
static const struct {
	const char *label;
	SimCounter counter;
} compare_rows[] = {
	{ "exits: ept_violation", SIM_CTR_EXITS_EPT_VIOLATION },
	{ "exits: hypercall (vmcall)", SIM_CTR_EXITS_HYPERCALL },
	{ "exits: KVM_EXIT_HYPERCALL", SIM_CTR_EXITS_USER_HYPERCALL },
	{ "exits: KVM_EXIT_MEMORY_FAULT", SIM_CTR_EXITS_MEMORY_FAULT },
	{ "exits: io", SIM_CTR_EXITS_IO },
	{ "exits: preempt", SIM_CTR_EXITS_PREEMPT },
	{ "faults: fixed", SIM_CTR_FAULTS_FIXED },
	{ "faults: retry", SIM_CTR_FAULTS_RETRY },
	{ "invalidations", SIM_CTR_INVALIDATIONS },
	{ "zaps", SIM_CTR_ZAPS },
	{ "tlb flushes", SIM_CTR_TLB_FLUSHES },
	{ "gmem: pages allocated (zeroed)", SIM_CTR_GMEM_ALLOCATED },
	{ "gmem: pages punched", SIM_CTR_GMEM_PUNCHED },
	{ "gmem: converted to private", SIM_CTR_GMEM_CONVERTED_TO_PRIVATE },
	{ "gmem: converted to shared", SIM_CTR_GMEM_CONVERTED_TO_SHARED },
	{ "gmem: pages zeroed", SIM_CTR_GMEM_ZEROED },
	{ "host frames allocated", SIM_CTR_FRAMES_ALLOCATED },
	{ "pages dropped (MADV_DONTNEED)", SIM_CTR_HOST_DONTNEED },
	{ "host: pages migrated (copied)", SIM_CTR_HOST_MIGRATE },
	{ "vmm: conversions retried (EAGAIN)", SIM_CTR_VMM_CONVERT_RETRY },
	{ "guest instructions", SIM_CTR_GUEST_INSNS },
};

/* One run of cfg on a scheduler of its own, without outputs; NULL if it could not be built. */
static SimVmm *
run_quietly(const SimVmmConfig *cfg, SimPolicy policy, gint64 watchdog, SimSched **out_sched,
	    GError **error)
{
	SimSched *sched = sim_sched_new(cfg->seed);
	SimVmm *vmm;

	sim_sched_set_policy(sched, policy);
	sim_sched_set_watchdog(sched, (guint64)watchdog);
	vmm = sim_vmm_new(cfg, sched, error);
	if (!vmm || !sim_vmm_run(vmm, error)) {
		sim_vmm_free(vmm);
		sim_sched_free(sched);
		return NULL;
	}
	*out_sched = sched;
	return vmm;
}

/*
 * --compare-conversions: the same workload, seed and host events under the legacy and the
 * in-place design, one after the other in this process, and their counters side by side.
 */
static int
run_compare(const SimVmmConfig *base, SimPolicy policy, gint64 watchdog)
{
	static const char *const names[] = { "legacy", "in-place" };
	SimVmm *vmms[2] = { NULL, NULL };
	SimSched *scheds[2] = { NULL, NULL };
	int status = KVMSIM_EXIT_OK;

	for (guint d = 0; d < 2; d++) {
		SimVmmConfig cfg = *base;
		g_autoptr(GError) error = NULL;

		cfg.gmem_conversion = d ? SIM_GMEM_CONV_IN_PLACE : SIM_GMEM_CONV_LEGACY;
		vmms[d] = run_quietly(&cfg, policy, watchdog, &scheds[d], &error);
		if (!vmms[d]) {
			fprintf(stderr, "kvmsim: error: %s: %s\n", names[d], error->message);
			status = KVMSIM_EXIT_FAIL;
		}
	}
	if (status == KVMSIM_EXIT_OK) {
		g_autofree gchar *mem = g_format_size_full(base->mem_size,
							   G_FORMAT_SIZE_IEC_UNITS);

		printf("kvmsim run %s --compare-conversions: %u vcpus, %s, seed %" G_GUINT64_FORMAT
		       "\n\n", base->workload, base->nr_vcpus, mem, base->seed);
		printf("| %-38s | %12s | %12s |\n", "", names[0], names[1]);
		printf("|%.40s|%.14s|%.14s|\n", "----------------------------------------",
		       "-------------:", "-------------:");
		for (guint i = 0; i < G_N_ELEMENTS(compare_rows); i++) {
			SimCounter c = compare_rows[i].counter;

			printf("| %-38s | %12" G_GUINT64_FORMAT " | %12" G_GUINT64_FORMAT " |\n",
			       compare_rows[i].label, sim_vmm_counters(vmms[0])->v[c],
			       sim_vmm_counters(vmms[1])->v[c]);
		}
		for (guint d = 0; d < 2; d++) {
			g_autofree gchar *console = g_strchomp(g_strdup(sim_vmm_console(vmms[d])));

			printf("\n%-9s %s%s%s\n", names[d],
			       sim_guest_result_name(sim_vmm_guest_result(vmms[d])),
			       *console ? ": " : "", console);
			if (sim_vmm_error(vmms[d]))
				printf("          error: %s\n", sim_vmm_error(vmms[d]));
			if (sim_vmm_guest_result(vmms[d]) != SIM_GUEST_PASS)
				status = KVMSIM_EXIT_FAIL;
		}
	}
	for (guint d = 0; d < 2; d++) {
		sim_vmm_free(vmms[d]);
		if (scheds[d])
			sim_sched_free(scheds[d]);
	}
	return status;
}

/* Check every option before anything runs or is written, run, then write outputs. */
int
kvmsim_cmd_run(int argc, char **argv)
{
	g_autoptr(GBytes) image = NULL;
	RunOptions o = { .vcpus = 2, .seed = 1, .quantum = 10000, .max_insns = G_MININT64,
			 .watchdog = SIM_SCHED_DEFAULT_WATCHDOG };
	g_autofree GOptionEntry *entries = run_entries(&o);
	g_autoptr(GOptionContext) ctx =
		g_option_context_new("WORKLOAD|--guest FILE - run a built-in workload or your own");
	g_autoptr(GError) error = NULL;
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	SimPolicy policy;
	TraceRecordExpect expect;
	g_autoptr(TraceRecording) recording = NULL;
	int status;

	g_option_context_set_summary(ctx, "Runs WORKLOAD (see kvmsim list) on vCPUs whose memory "
					  "goes through the modeled KVM MMU,\nprints a summary and "
					  "exits 0 if the guest passed.");
	g_option_context_set_description(ctx, "Example:\n  kvmsim run touch --vcpus 2 --mem 64M "
					      "--seed 1 --host-events migrate=500 --stats s.json\n");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		run_options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}
	if (!make_config(&o, &cfg, &policy, &image, &expect, &error)) {
		run_options_clear(&o);
		return kvmsim_usage_error("%s", error->message);
	}

	if (o.compare_postcopy) {
		if (o.log_path || o.stats_path || o.record_path || o.console_path ||
		    o.compare_conversions) {
			run_options_clear(&o);
			return kvmsim_usage_error("--compare-postcopy prints a table: --log, --stats, "
						  "--record, --console and --compare-conversions "
						  "need a run of one mechanism (--postcopy)");
		}
		status = kvmsim_run_compare_postcopy(&cfg, policy, o.watchdog);
		run_options_clear(&o);
		return status;
	}
	if (o.compare_conversions) {
		if (o.log_path || o.stats_path || o.record_path || o.console_path) {
			run_options_clear(&o);
			return kvmsim_usage_error("--compare-conversions prints a table: --log, "
						  "--stats, --record and --console need a run of "
						  "one design (--gmem-conversion)");
		}
		status = run_compare(&cfg, policy, o.watchdog);
		run_options_clear(&o);
		return status;
	}
	g_autoptr(SimSched) sched = sim_sched_new(cfg.seed);
	g_autoptr(SimLog) log = sim_log_new(sched);

	sim_sched_set_policy(sched, policy);
	sim_sched_set_watchdog(sched, (guint64)o.watchdog);
	/* output paths are checked before the run, so a bad one costs nothing and leaves nothing */
	SimOutFile stats_out = { 0 }, console_out = { 0 };
	const char *const out_options[] = { "--log", "--stats", "--record", "--console",
					    "--trace-dat", "--timeline" };
	const char *const out_paths[] = { o.log_path, o.stats_path, o.record_path, o.console_path,
					  o.trace_dat_path, o.timeline_path };
	SimLogFormat log_format = SIM_LOG_KVMSIM;
	g_autoptr(SimTraceDat) trace_dat = NULL;

	if (o.log_format && !sim_log_format_lookup(o.log_format, &log_format)) {
		int status_usage = kvmsim_usage_error("--log-format %s: must be kvmsim or ftrace",
						      o.log_format);

		run_options_clear(&o);
		return status_usage;
	}
	sim_log_set_format(log, log_format);

	for (guint i = 0; i < G_N_ELEMENTS(out_paths); i++) {
		if (out_paths[i] && !sim_outfile_check(out_paths[i], &error)) {
			int status_usage = kvmsim_usage_error("%s %s", out_options[i], error->message);

			run_options_clear(&o);
			return status_usage;
		}
		for (guint j = 0; j < i; j++) {
			if (out_paths[i] && out_paths[j] && sim_outfile_same(out_paths[i], out_paths[j])) {
				int status_usage = kvmsim_usage_error(
					"%s %s and %s %s name the same file", out_options[j],
					out_paths[j], out_options[i], out_paths[i]);

				run_options_clear(&o);
				return status_usage;
			}
		}
	}
	if (o.stats_path && !sim_outfile_open(&stats_out, o.stats_path, &error)) {
		run_options_clear(&o);
		return kvmsim_usage_error("--stats %s", error->message);
	}
	if (o.console_path && !sim_outfile_open(&console_out, o.console_path, &error)) {
		sim_outfile_abort(&stats_out);
		run_options_clear(&o);
		return kvmsim_usage_error("--console %s", error->message);
	}
	if (o.trace_dat_path) {
		trace_dat = sim_tracedat_new();
		sim_tracedat_attach(trace_dat, log);
	}
	if (o.record_path) {
		sim_sched_set_recording(sched, TRUE);
		sim_log_hash(log);
		recording = trace_recording_start(sched);
	}
	if (o.log_path) {
		if (!sim_log_open_file(log, o.log_path, &error)) {
			sim_outfile_abort(&stats_out);
			sim_outfile_abort(&console_out);
			run_options_clear(&o);
			return kvmsim_usage_error("--log %s", error->message);
		}
		sim_log_hash(log);
	}
	g_autoptr(SimTimeline) timeline =
		o.timeline_path ? sim_timeline_new(sched, log, cfg.workload) : NULL;
	g_autoptr(SimVmm) vmm = sim_vmm_new(&cfg, sched, &error);

	if (!vmm) {
		sim_log_abandon(log);
		sim_outfile_abort(&stats_out);
		sim_outfile_abort(&console_out);
		fprintf(stderr, "kvmsim: error: cannot build the machine: %s\n", error->message);
		run_options_clear(&o);
		return KVMSIM_EXIT_FAIL;
	}
	if (!sim_vmm_run(vmm, &error)) {
		fprintf(stderr, "kvmsim: error: %s\n", error->message);
		g_clear_error(&error);
		status = KVMSIM_EXIT_FAIL;
	} else {
		status = sim_vmm_guest_result(vmm) == SIM_GUEST_PASS ? KVMSIM_EXIT_OK :
								       KVMSIM_EXIT_FAIL;
	}
	g_autofree gchar *digest = sim_log_digest(log);

	if (!sim_log_finish(log, &error)) {
		fprintf(stderr, "kvmsim: error: --log %s\n", error->message);
		g_clear_error(&error);
		status = KVMSIM_EXIT_FAIL;
	}
	if (o.stats_path) {
		g_autofree gchar *json = sim_report_stats_json(vmm, sched, digest);

		fputs(json, stats_out.fp);
		if (!sim_outfile_commit(&stats_out, &error)) {
			fprintf(stderr, "kvmsim: error: --stats %s\n", error->message);
			g_clear_error(&error);
			status = KVMSIM_EXIT_FAIL;
		}
	}
	if (trace_dat && !sim_tracedat_write(trace_dat, o.trace_dat_path, &error)) {
		fprintf(stderr, "kvmsim: error: --trace-dat %s\n", error->message);
		g_clear_error(&error);
		status = KVMSIM_EXIT_FAIL;
	}
	if (o.console_path) {
		fputs(sim_vmm_console(vmm), console_out.fp);
		if (!sim_outfile_commit(&console_out, &error)) {
			fprintf(stderr, "kvmsim: error: --console %s\n", error->message);
			g_clear_error(&error);
			status = KVMSIM_EXIT_FAIL;
		}
	}
	if (o.record_path) {
		g_autoptr(Trace) trace = trace_from_run(vmm, sched, digest, recording, expect);

		if (!trace_save(trace, o.record_path, &error)) {
			fprintf(stderr, "kvmsim: error: --record %s\n", error->message);
			g_clear_error(&error);
			status = KVMSIM_EXIT_FAIL;
		}
	}
	if (timeline) {
		sim_timeline_detach(timeline);
		if (!sim_timeline_write(timeline, o.timeline_path, &error)) {
			fprintf(stderr, "kvmsim: error: --timeline %s\n", error->message);
			g_clear_error(&error);
			status = KVMSIM_EXIT_FAIL;
		}
	}
	print_summary(vmm, sched);
	if (sim_vmm_error(vmm))
		fprintf(stderr, "kvmsim: run failed: %s\n", sim_vmm_error(vmm));
	run_options_clear(&o);
	return status;
}
