/* SPDX-License-Identifier: GPL-2.0-only */
/* A whole machine (scheduler, event log, VMM) for the integration suites. */
#include "tests/integration/machine.h"

#include <check.h>

/* A machine for cfg, built the way kvmsim run builds one. */
Machine *
machine_new(const SimVmmConfig *cfg, gboolean capture)
{
	Machine *m = g_new0(Machine, 1);
	GError *error = NULL;

	m->sched = sim_sched_new(cfg->seed);
	m->log = sim_log_new(m->sched);
	if (capture)
		sim_log_capture(m->log);
	else
		sim_log_hash(m->log);
	m->vmm = sim_vmm_new(cfg, m->sched, &error);
	ck_assert_msg(m->vmm, "%s", error ? error->message : "");
	return m;
}

void
machine_run(Machine *m)
{
	GError *error = NULL;

	ck_assert_msg(sim_vmm_run(m->vmm, &error), "%s", error ? error->message : "");
}

void
machine_free(Machine *m)
{
	sim_vmm_free(m->vmm);
	sim_log_free(m->log);
	sim_sched_free(m->sched);
	g_free(m);
}

guint64
machine_counter(Machine *m, SimCounter id)
{
	return sim_vmm_counters(m->vmm)->v[id];
}
