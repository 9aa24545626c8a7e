/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmsim run's options: the option table, checking every option and turning them into the
 * machine's configuration before anything runs (cmd-run.c runs it and reports), and the same
 * for explore (kvmsim_run_config()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/cmd-run-internal.h"
#include "sim/core/log.h"
#include "sim/vmm/image.h"
#include "sim/vmm/postcopy.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"

/* Free what GOptionContext filled in. */
void
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

/* The machine's configuration from kvmsim run's checked options (the guest image, policy and
 * what a recording expects included); a usage error in error otherwise. */
gboolean
run_make_config(const RunOptions *o, SimVmmConfig *cfg, SimPolicy *policy, GBytes **out_image,
		TraceRecordExpect *expect, GError **error)
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
GOptionEntry *
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
		ok = run_make_config(&o, cfg, &policy, out_image, &expect, error);
	if (ok) {
		/* the strings the configuration points to outlive o */
		cfg->workload = g_intern_string(cfg->workload);
		cfg->arg = g_intern_string(cfg->arg);
		cfg->guest_path = g_intern_string(cfg->guest_path);
	}
	run_options_clear(&o);
	return ok;
}
