/* SPDX-License-Identifier: GPL-2.0-only */
/* A whole machine (scheduler, event log, VMM) for the integration suites. */
#ifndef KVMSIM_TESTS_INTEGRATION_MACHINE_H
#define KVMSIM_TESTS_INTEGRATION_MACHINE_H

#include "sim/core/log.h"
#include "sim/vmm/vmm.h"

typedef struct {
	SimSched *sched;
	SimLog *log;
	SimVmm *vmm;
} Machine;

/* A machine for cfg; its log is captured as text if capture, else only hashed. */
Machine *machine_new(const SimVmmConfig *cfg, gboolean capture);
/* Run it to the end; a run that cannot start fails the test. */
void machine_run(Machine *m);
void machine_free(Machine *m);
guint64 machine_counter(Machine *m, SimCounter id);

#endif
