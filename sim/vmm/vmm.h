/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace VMM: it builds the machine (host memory, the VMM's anonymous guest memory,
 * memslots, vCPUs, the guest image and boot parameters), handles the exits that reach userspace
 * (port IO: console and the exit port; MMIO: a small test device; hypercalls), and runs
 * everything — vCPUs and host events — on one deterministic scheduler.
 */
#ifndef KVMSIM_SIM_VMM_VMM_H
#define KVMSIM_SIM_VMM_VMM_H

#include <glib.h>

#include "sim/core/counters.h"
#include "sim/core/host-events.h"
#include "sim/core/mutations.h"
#include "sim/core/sched.h"

/* Guest RAM is at most half of the frame arena: the rest absorbs migration and quarantine. */
#define SIM_VMM_MAX_MEM (SIM_ARENA_DEFAULT_FRAMES * SIM_PAGE_SIZE / 2)
#define SIM_VMM_MIN_MEM (64ull << 10)

/* A memslot of an exit-level machine, backed by anonymous memory at hva. */
typedef struct {
	guint32 id;
	guint64 gpa;
	guint64 size;
	guint64 hva;
	guint32 flags;
} SimVmmMemslot;

/* A range of guest-physical address space whose pages can hold frames (sim/core/hostmem.h). */
typedef struct {
	guint64 gpa;
	guint64 size;
} SimVmmWindow;

typedef struct {
	const char *workload;          /* name in the workload registry */
	guint nr_vcpus;
	guint64 mem_size;              /* the RAM slot (data region), bytes */
	guint64 seed;
	guint64 quantum;               /* instructions per preemption quantum */
	guint64 max_insns;             /* per-vCPU budget; 0: sim_vmm_default_max_insns() */
	SimHostEventCounts host_events;
	guint64 params[8];             /* workload parameters */
	const guint8 *image;           /* a program to run instead of the named workload: a flat
					* binary or a static ELF64 (sim/vmm/image.h) */
	gsize image_size;
	const char *guest_path;        /* the file image was read from (for traces), or NULL */
	const char *arg;               /* the --arg string the guest reads, or NULL */
	/* An exit-level machine: no CPU emulation and no guest; its vCPUs take the exits a trace
	 * gives them. It has these memslots, and RAM windows covering every range they will use. */
	gboolean exit_level;
	const SimVmmMemslot *memslots;
	guint nr_memslots;
	const SimVmmWindow *windows;
	guint nr_windows;
	/* Host events: the mean number of logical steps between two (0: 8 per page of the data
	 * region), and where they land (SIM_VMM_REGION_* bits; 0: all guest memory). */
	guint64 host_event_interval;
	guint host_event_regions;
	/* KVMSIM_BOOT_* flags the guest gets besides those the host events imply (a replay gives
	 * the ones its trace recorded: the run's outcome depends on them) */
	guint32 boot_flags;
	/* protocol mutations the model plants (sim/core/mutations.h); 0: the faithful model */
	SimMutations mutations;
} SimVmmConfig;

/* The parts of a full-system machine's guest memory host events may act on. */
#define SIM_VMM_REGION_IMAGE (1u << 0)  /* memslot 0: boot parameters, --arg, the program */
#define SIM_VMM_REGION_STACKS (1u << 1) /* the vCPUs' stacks */
#define SIM_VMM_REGION_DATA (1u << 2)   /* memslot 1: the data region (dontneed only here) */
/* "image,stacks,data" and any part of it: the SIM_VMM_REGION_* bits; FALSE if a name is unknown. */
gboolean sim_vmm_parse_regions(const char *spec, guint *out, GError **error);

#define SIM_VMM_CONFIG_INIT                                                                        \
	{ .workload = "touch", .nr_vcpus = 2, .mem_size = 64ull << 20, .seed = 1, .quantum = 10000 }

/*
 * The per-vCPU instruction budget a run gets unless it names one: 2^32 plus 32 instructions per
 * byte of the data region. The built-in workloads' work grows with it, not with the vCPUs (touch
 * has every vCPU read all of it back, ~2.7 instructions a byte; stress rewrites and re-reads it in
 * 8 rounds, ~21 a byte), so `touch --mem 2G` is no runaway while a guest spinning for ever still
 * ends within minutes.
 */
guint64 sim_vmm_default_max_insns(guint64 mem_size);

typedef enum {
	SIM_GUEST_NONE,   /* the run ended without the guest reporting */
	SIM_GUEST_PASS,
	SIM_GUEST_FAIL,
} SimGuestResult;

typedef struct SimVmm SimVmm;

/* Build the machine; its actors are created on sched (whose log, if any, records the run). */
SimVmm *sim_vmm_new(const SimVmmConfig *config, SimSched *sched, GError **error);
void sim_vmm_free(SimVmm *vmm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimVmm, sim_vmm_free)

/* Run to the end. FALSE only if the scheduler could not (deadlock, broken schedule). */
gboolean sim_vmm_run(SimVmm *vmm, GError **error);

SimGuestResult sim_vmm_guest_result(const SimVmm *vmm);
const char *sim_guest_result_name(SimGuestResult result);
/* The SHA-256 (hex) of the guest's image, built-in or given; NULL for an exit-level machine. */
const char *sim_vmm_image_sha256(const SimVmm *vmm);
/* What the guest printed on its console. */
const char *sim_vmm_console(const SimVmm *vmm);
/* Why the run failed apart from the guest's own verdict (vCPU error, invariant), or NULL. */
const char *sim_vmm_error(const SimVmm *vmm);
const SimCounters *sim_vmm_counters(const SimVmm *vmm);
const SimVmmConfig *sim_vmm_config(const SimVmm *vmm);
/* The KVMSIM_BOOT_* flags a machine built from config gives its guest: boot_flags, plus
 * KVMSIM_BOOT_ZERO_OK when the host will drop pages (dontneed events). */
guint32 sim_vmm_config_boot_flags(const SimVmmConfig *config);
/* The VMM's address space and where the RAM slot (the data region) is mapped in it. */
SimMm *sim_vmm_mm(const SimVmm *vmm);
guint64 sim_vmm_ram_hva(const SimVmm *vmm);
struct kvm *sim_vmm_kvm(const SimVmm *vmm);
/* The host-events actor of a run with --host-events, or NULL. */
const SimHostEvents *sim_vmm_host_events(const SimVmm *vmm);
/* The memslots a full-system machine is built with (slot 0 boot, slot 1 RAM, slot 2 + i vCPU
 * i's stack). */
guint sim_vmm_memslots(const SimVmm *vmm, SimVmmMemslot *out, guint max);
/* Write into the data region at offset, as the VMM does through its own mapping. */
gboolean sim_vmm_write_ram(SimVmm *vmm, guint64 offset, const void *buf, gsize len,
			   GError **error);

#endif
