/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim run WORKLOAD: build the machine, run it, report. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sim/cmd-run-internal.h"
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

/* One run of cfg on a scheduler of its own, without outputs; NULL if it could not be built or
 * run (error set). The caller frees the VMM, then *out_sched. */
SimVmm *
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
	if (!run_make_config(&o, &cfg, &policy, &image, &expect, &error)) {
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

	if (!sim_outfile_check_set(out_options, out_paths, G_N_ELEMENTS(out_paths), &error)) {
		int status_usage = kvmsim_usage_error("%s", error->message);

		run_options_clear(&o);
		return status_usage;
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
