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

#include "asi/asi-sim.h"
#include "sim/core/counters.h"
#include "sim/core/host-events.h"
#include "sim/core/mutations.h"
#include "sim/core/sched.h"

struct kvm_run;

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
	guint64 gmem_offset;           /* flags has KVM_MEM_GUEST_MEMFD: bound there */
} SimVmmMemslot;

/* A range of guest-physical address space whose pages can hold frames (sim/core/hostmem.h). */
typedef struct {
	guint64 gpa;
	guint64 size;
} SimVmmWindow;

/* KVM_CREATE_VM's type (arch/x86/include/uapi/asm/kvm.h: KVM_X86_DEFAULT_VM,
 * KVM_X86_SW_PROTECTED_VM). */
typedef enum {
	SIM_VM_DEFAULT = 0,
	SIM_VM_SW_PROTECTED = 1,
} SimVmType;

/* How the VMM converts guest memory between shared and private (docs/guest-memfd.md). */
typedef enum {
	/* v6.18: per-VM attributes (KVM_SET_MEMORY_ATTRIBUTES), shared memory from the memslot's
	 * userspace_addr, private from the guest_memfd; the old backing is discarded */
	SIM_GMEM_CONV_LEGACY,
	/* proposed (KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd, Ackerley Tng's RFC v3, 2026-03):
	 * the inode owns shareability, its mmap is the shared memory, content is kept */
	SIM_GMEM_CONV_IN_PLACE,
} SimGmemConversion;

/* PROPOSED HugeTLB guest_memfd (Ackerley Tng's 1G series, gmem/proposed.h): the huge page size
 * the VMM asks KVM_CREATE_GUEST_MEMFD for (--gmem-hugepage, <vm gmem-hugepage>). */
typedef enum {
	SIM_GMEM_HUGEPAGE_NONE,
	SIM_GMEM_HUGEPAGE_2M,
	SIM_GMEM_HUGEPAGE_1G,
} SimGmemHugepage;

typedef struct {
	const char *workload;          /* name in the workload registry */
	guint nr_vcpus;
	SimVmType vm_type;             /* sw-protected: the data region is bound to a guest_memfd */
	SimGmemConversion gmem_conversion;
	SimGmemHugepage gmem_hugepage; /* sw-protected: the guest_memfd's HugeTLB page size */
	guint64 mem_size;              /* the RAM slot (data region), bytes */
	guint64 seed;
	guint64 quantum;               /* instructions per preemption quantum */
	guint64 max_insns;             /* per-vCPU budget; 0: sim_vmm_default_max_insns() */
	gboolean ept_ad;               /* EPT A/D bits on (kvm->ept_ad; exit-level only) */
	gboolean thp;                  /* guest RAM (or every memslot of an exit-level machine) is
					* madvise(MADV_HUGEPAGE)d: 2 MiB host folios */
	gboolean nx_huge_pages;        /* KVM's NX huge page mitigation (nx_huge_pages=1) */
	gboolean hv_tlb_flush;         /* KVM on Hyper-V: hypervisor-assisted (ranged) flushes */
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
	/* and its guest_memfd (KVM_CREATE_GUEST_MEMFD size and flags; size 0: none), which its
	 * KVM_MEM_GUEST_MEMFD memslots bind */
	guint64 gmem_size;
	guint64 gmem_flags;
	/* Host events: the mean number of logical steps between two (0: 8 per page of the data
	 * region), and where they land (SIM_VMM_REGION_* bits; 0: all guest memory). */
	guint64 host_event_interval;
	guint host_event_regions;
	/* KVMSIM_BOOT_* flags the guest gets besides those the host events imply (a replay gives
	 * the ones its trace recorded: the run's outcome depends on them) */
	guint32 boot_flags;
	/* protocol mutations the model plants (sim/core/mutations.h); 0: the faithful model */
	SimMutations mutations;
	/* ASI (--asi, <asi>): off unless asi.on; set with asi_sim_config_init() first */
	AsiSimConfig asi;
	/* NMIs (asi/nmi.h) a full-system run adds: how many, each on a vCPU's host CPU at a
	 * seeded step (--nmi), and what their handlers read (AsiNmiTouch, --nmi-touch) */
	guint nr_nmis;
	guint nmi_touch;
	/* post-copy (sim/vmm/postcopy.h): the mechanism's name (NULL: guest RAM is local), and the
	 * logical steps one page takes to arrive (0: SIM_POSTCOPY_DEFAULT_FETCH_STEPS). The remote
	 * range is the data region, or an exit-level machine's first memslot. */
	const char *postcopy;
	guint64 postcopy_fetch_steps;
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
 * KVMSIM_BOOT_ZERO_OK when the host will zero pages (dontneed; on private memory, punch or a
 * legacy convert). */
guint32 sim_vmm_config_boot_flags(const SimVmmConfig *config);
/* The VMM's address space and where the RAM slot (the data region) is mapped in it. */
SimMm *sim_vmm_mm(const SimVmm *vmm);
guint64 sim_vmm_ram_hva(const SimVmm *vmm);
struct kvm *sim_vmm_kvm(const SimVmm *vmm);
/* The ASI model of a machine built with --asi on, or NULL. */
AsiSim *sim_vmm_asi(const SimVmm *vmm);
/* The host-events actor of a run with --host-events, or NULL. */
const SimHostEvents *sim_vmm_host_events(const SimVmm *vmm);
/* The NMI state of the machine (created on first use; sim/vmm/nmi.c), and the NMIs a
 * full-system run planned (config nr_nmis), in the order their actors deliver them. */
struct AsiNmis *sim_vmm_nmis(SimVmm *vmm);
/* The same without making it: NULL when the machine has no NMI. */
const struct AsiNmis *sim_vmm_nmi_state(const SimVmm *vmm);
const struct AsiNmi *sim_vmm_nmi_plan(const SimVmm *vmm, guint *out_n);
/* The memslots a full-system machine is built with (slot 0 boot, slot 1 RAM, slot 2 + i vCPU
 * i's stack). */
guint sim_vmm_memslots(const SimVmm *vmm, SimVmmMemslot *out, guint max);
/* Perform a guest_memfd host event (punch, convert; event->hva is the page's gpa) now, as the
 * host-events actor does; a negative errno if the VMM's ioctl failed. */
int sim_vmm_gmem_event(SimVmm *vmm, const SimHostEvent *event);
/* KVM_CAP_EXIT_HYPERCALL as this VMM enables it (bit KVM_HC_MAP_GPA_RANGE with private memory). */
guint64 sim_vmm_hypercall_exit(const SimVmm *vmm);
/* The VMM's KVM_EXIT_HYPERCALL handler: what it puts in hypercall.ret. */
guint64 sim_vmm_hypercall(SimVmm *vmm, guint64 nr, const guint64 args[4]);
/* Whether the VMM's guest_memfd holds the page at offset private (its inode's shareability):
 * 1 or 0, -1 if no guest_memfd is open. */
int sim_vmm_gmem_is_private(const SimVmm *vmm, guint64 offset);

/* The bytes of one HugeTLB page of that size (0 for SIM_GMEM_HUGEPAGE_NONE). */
guint64 sim_vmm_gmem_hugepage_size(SimGmemHugepage size);
/* KVM_SET_MEMORY_ATTRIBUTES of [gpa, + size) alone (no discard), as a trace's vmm asks. */
int sim_vmm_set_memory_attributes(SimVmm *vmm, guint64 gpa, guint64 size, gboolean to_private);
/* In-place: the VMM pins the page behind gpa (a long-term GUP pin through its mapping of the
 * guest_memfd), as its device model does with a range the guest shares; the next conversion of
 * it to private fails with -EAGAIN, and the VMM drops the pin and retries. */
void sim_vmm_pin(SimVmm *vmm, guint64 gpa);

/* The VMM's dirty-log calls (sim/vmm/dirty.c), numbered as a trace's <dirty_log op> is. */
typedef enum {
	SIM_VMM_DIRTY_GET,            /* KVM_GET_DIRTY_LOG; the bitmap is kept for a CLEAR */
	SIM_VMM_DIRTY_CLEAR,          /* KVM_CLEAR_DIRTY_LOG of the last GET's bitmap */
	SIM_VMM_DIRTY_MANUAL_PROTECT, /* KVM_ENABLE_CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) */
	SIM_VMM_DIRTY_ENABLE,         /* the memslot again, with KVM_MEM_LOG_DIRTY_PAGES */
} SimVmmDirtyOp;
/* One dirty-log call on memslot id: 0 or the ioctl's negative errno (logged either way). */
int sim_vmm_dirty_log(SimVmm *vmm, SimVmmDirtyOp op, guint32 id);
/* close() of the VMM's guest_memfd fd (and its mapping): the file's release if it was the last
 * reference. */
int sim_vmm_close_gmem(SimVmm *vmm);
/* The log lines of a KVM_RUN that returned -1 with KVM_EXIT_MEMORY_FAULT (exit-level replays log
 * what the vCPU actor logs for a full-system run). */
void sim_vmm_log_memory_fault(SimVmm *vmm, int error, const struct kvm_run *run);
/* The post-copy page source of a --postcopy machine, or NULL. */
struct SimPostcopy *sim_vmm_postcopy(const SimVmm *vmm);
/* Start its actors (an exit-level machine, once its own actors exist); they end once
 * ended(data) holds and nobody waits for a page. */
void sim_vmm_postcopy_start(SimVmm *vmm, SimWaitFn ended, gpointer data);
/* Its invariants, on a few pages a step (TRUE without post-copy; FALSE: the run failed). */
gboolean sim_vmm_postcopy_check(SimVmm *vmm);
/* Write into the data region at offset, as the VMM does through its own mapping. */
gboolean sim_vmm_write_ram(SimVmm *vmm, guint64 offset, const void *buf, gsize len,
			   GError **error);

#endif
