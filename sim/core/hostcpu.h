/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host CPUs (DESIGN.md §2, issue 10 item 2): which host CPU the running code is on. Each vCPU
 * thread has a CPU of its own, and so do the primary MMU's work and the VMM process:
 *
 *   vcpuN, nmiN                    CPU N (an NMI arrives on the CPU whose vCPU it interrupts)
 *   notifier (host events)         CPU nr_vcpus
 *   vmm, and set-up outside actors CPU nr_vcpus + 1
 *
 * What a CPU holds (the ASI model's AsiCpu) belongs to its user (asi/asi-sim.h); this file only
 * says where code runs. sim_hostcpu_run_on() runs code "on" another CPU: an interrupt handler
 * runs on the CPU it interrupts, whichever actor models its arrival.
 */
#ifndef KVMSIM_SIM_CORE_HOSTCPU_H
#define KVMSIM_SIM_CORE_HOSTCPU_H

#include <glib.h>

#include "sim/core/sched.h"

typedef struct SimHostCpus SimHostCpus;

SimHostCpus *sim_hostcpus_new(SimSched *sched, guint nr_vcpus);
void sim_hostcpus_free(SimHostCpus *cpus);
/* How many CPUs: nr_vcpus + 2. */
guint sim_hostcpus_nr(const SimHostCpus *cpus);
/* The CPU an actor of this name runs on (the table above). */
guint sim_hostcpu_of_actor(const SimHostCpus *cpus, const char *name);
/* The CPU the running code is on: the innermost sim_hostcpu_run_on(), else the running actor's
 * (set-up code outside every actor: the vmm's). */
guint sim_hostcpu_current(SimHostCpus *cpus);
/* Run fn(data) on CPU cpu, then come back: sim_hostcpu_current() says cpu meanwhile. Nests. */
void sim_hostcpu_run_on(SimHostCpus *cpus, guint cpu, void (*fn)(gpointer data), gpointer data);

#endif
