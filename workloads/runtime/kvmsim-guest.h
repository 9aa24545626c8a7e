/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvmsim guest SDK: everything a guest program includes. Build and link it with
 *
 *     gcc $(pkg-config --cflags kvmsim-guest) -O2 -c prog.c
 *     gcc -o prog.elf prog.o $(pkg-config --libs kvmsim-guest)
 *
 * and run it with `kvmsim run --guest prog.elf`. A program defines
 *
 *     void guest_main(uint32_t vcpu_id, struct kvmsim_boot_params *params);
 *
 * which every vCPU enters at once. workloads/abi.h is the machine (memory layout, boot parameters,
 * ports, hypercalls), workloads/runtime/runtime.h the runtime (console, exit, barriers, --arg,
 * rdtsc), workloads/runtime/libc.h the C library subset. docs/guests.md walks through it.
 */
#ifndef KVMSIM_GUEST_H
#define KVMSIM_GUEST_H

#include "workloads/abi.h"
#include "workloads/runtime/libc.h"
#include "workloads/runtime/runtime.h"

#endif
