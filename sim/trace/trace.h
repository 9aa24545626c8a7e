/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A kvmsim trace in memory: the machine, an optional workload (a full-system trace; without one
 * the trace drives the MMU model directly with exits: an exit-level trace), the events each actor
 * performs in order, the schedule, and the expectations. The XML form is described by
 * traces/kvmsim-trace.rng and docs/trace-format.md; every element remembers its line so that
 * errors and failed expectations can point at it.
 */
#ifndef KVMSIM_SIM_TRACE_TRACE_H
#define KVMSIM_SIM_TRACE_TRACE_H

#include <glib.h>

#include "asi/asi-sim.h"
#include "sim/core/mutations.h"
#include "sim/core/sched.h"

#define TRACE_FORMAT_VERSION 1

#define TRACE_ERROR (trace_error_quark())
GQuark trace_error_quark(void);
typedef enum {
	TRACE_ERROR_IO,        /* cannot read or write the file */
	TRACE_ERROR_SYNTAX,    /* not well-formed XML */
	TRACE_ERROR_SCHEMA,    /* not valid against kvmsim-trace.rng */
	TRACE_ERROR_SEMANTIC,  /* valid, but impossible (unknown actor, overlapping memslots, ...) */
} TraceError;

typedef enum {
	TRACE_EV_EPT_VIOLATION,
	TRACE_EV_HLT,
	TRACE_EV_IO,
	TRACE_EV_HYPERCALL,
	TRACE_EV_MIGRATE,
	TRACE_EV_DONTNEED,
	TRACE_EV_AGE,
	TRACE_EV_MUNMAP,
	TRACE_EV_INVALIDATE_START,
	TRACE_EV_INVALIDATE_END,
	TRACE_EV_MEMSLOT,         /* KVM_SET_USER_MEMORY_REGION2 with a size: create or move */
	TRACE_EV_MEMSLOT_DELETE,
	TRACE_EV_PUNCH_HOLE,      /* fallocate(PUNCH_HOLE) of the guest_memfd behind [gpa, + size) */
	TRACE_EV_CONVERT,         /* [gpa, + size) converted by the VMM to private or shared */
	TRACE_EV_SET_ATTRIBUTES,  /* KVM_SET_MEMORY_ATTRIBUTES of [gpa, + size), nothing else */
	TRACE_EV_GMEM_CLOSE,      /* the VMM closes the guest_memfd (its release, if last) */
	TRACE_EV_MAP_GPA_RANGE,   /* a VMCALL exit of KVM_HC_MAP_GPA_RANGE (nr 12, args) */
	TRACE_EV_PIN,             /* the VMM pins the shared guest_memfd page behind gpa */
	TRACE_EV_NMI,             /* an NMI on host CPU N, delivered by actor nmiN (asi/nmi.h) */
	TRACE_EV_NX_RECOVER,      /* one pass of the NX huge page recovery worker */
	TRACE_EV_GUEST_WRITE,     /* the guest stores to gpa: through the TLB, the SPTE or a fault */
	TRACE_EV_DIRTY_LOG,       /* the VMM's dirty-log call nr on memslot id (SimVmmDirtyOp:
				   * GET, CLEAR, manual protect, enable) */
} TraceEventKind;

/* The ops of <dirty_log op="...">, as TraceEvent.nr holds them. */
extern const char *const trace_dirty_log_op_names[4];

typedef enum {
	TRACE_ACCESS_READ,
	TRACE_ACCESS_WRITE,
	TRACE_ACCESS_FETCH,
} TraceAccess;

typedef struct {
	TraceEventKind kind;
	gchar *actor;
	guint line;
	guint64 at;           /* sleep until this step first; 0: no sleep */
	guint64 gpa;          /* ept_violation; memslot */
	TraceAccess access;   /* ept_violation */
	guint64 hva;          /* host events; memslot */
	guint64 size;         /* host events (default one page); memslot */
	guint32 id;           /* memslot, memslot_delete */
	guint32 flags;        /* memslot */
	gboolean in;          /* io */
	guint16 port;         /* io */
	guint io_size;        /* io */
	guint32 value;        /* io */
	guint64 nr;           /* hypercall; dirty_log: its op */
	guint64 args[4];      /* hypercall */
	gboolean to_private;  /* convert */
	guint touch;          /* nmi: what the handler reads (AsiNmiTouch) */
} TraceEvent;

typedef struct {
	guint32 id;
	guint64 gpa;
	guint64 size;
	guint64 hva;
	guint32 flags;
	guint line;
	guint64 gmem_offset;  /* with KVM_MEM_GUEST_MEMFD in flags: where in the guest_memfd */
} TraceMemslot;

typedef struct {
	SimStep step;         /* actor, until, count */
	guint line;
} TraceStep;

/* A recorded schedule is written in <steps> chunks of this many steps, each opening with a mark. */
#define TRACE_MARK_EVERY 1024

/* Where a chunk of a packed schedule begins; with known, what the run's log was there. */
typedef struct {
	guint64 step;         /* steps before the chunk */
	gboolean known;       /* the attributes below were recorded */
	guint64 clock;        /* the logical clock as the chunk's first step began */
	guint64 lines;        /* event log lines before it */
	gchar log[17];        /* the first 16 hex digits of the SHA-256 of those lines */
	guint line;
} TraceMark;

typedef enum {
	TRACE_EXPECT_SPTE,
	TRACE_EXPECT_ATTRIBUTE,
	TRACE_EXPECT_SHAREABILITY,
	TRACE_EXPECT_MEMORY_FAULT,
	TRACE_EXPECT_COUNTER,
	TRACE_EXPECT_EVENT,
	TRACE_EXPECT_GUEST,
	TRACE_EXPECT_INVARIANTS,
	TRACE_EXPECT_LOG_HASH,
} TraceExpectKind;

typedef struct {
	TraceExpectKind kind;
	guint line;
	/* spte */
	guint64 gfn;
	gboolean present;
	gint writable;        /* -1: not checked */
	gint level;           /* 0: not checked */
	guint64 frame_hva;    /* frame: the frame_nth-th frame mapped at frame_hva; 0: not checked */
	guint frame_nth;
	gboolean frame_zero;  /* frame="zero": the shared zero page */
	/* attribute: gfn's private/shared state as KVM sees it (kvm_mem_is_private());
	 * shareability: the guest_memfd's at offset (its inode's, in-place); memory_fault: count
	 * KVM_EXIT_MEMORY_FAULTs at gfn (private: flags KVM_MEMORY_EXIT_FLAG_PRIVATE) */
	gboolean is_private;
	guint64 offset;
	/* counter */
	gchar *counter;
	guint64 value;
	/* event */
	gchar *match;
	gint count;           /* -1: only present/absent */
	gboolean want_present;
	/* guest */
	gchar *result;
	/* invariants */
	gboolean hold;
	/* log_hash */
	gchar *hash;
} TraceExpect;

typedef struct {
	gchar *path;            /* as given, for messages */
	gchar *comment;         /* the leading comment: what the trace teaches (may be NULL) */
	gchar *kvmsim_version;  /* who wrote it */
	guint64 seed;
	SimMutations mutations; /* <header><mutations>: the bugs the model runs with */
	/* the machine */
	guint nr_vcpus;
	guint vm_type;          /* KVM_CREATE_VM's type: 0 default, 1 sw-protected */
	guint gmem_conversion;  /* SimGmemConversion: legacy (0) or in-place */
	guint gmem_hugepage;    /* SimGmemHugepage: none (0), 2M or 1G HugeTLB guest_memfd */
	guint64 mem;            /* full-system: the data region */
	guint64 gmem_size;      /* exit-level: the guest_memfd <vm> creates (0: none) */
	guint64 gmem_flags;     /* and its KVM_CREATE_GUEST_MEMFD flags */
	guint64 quantum;        /* 0: default */
	AsiSimConfig asi;       /* <vm><asi>: present is asi.on */
	guint64 max_insns;      /* 0: default */
	gboolean thp;           /* guest memory is madvise(MADV_HUGEPAGE)d */
	gchar *postcopy;        /* <postcopy mech>: the post-copy mechanism, or NULL */
	guint64 postcopy_fetch_steps; /* <postcopy fetch_steps> (0: the default) */
	gboolean nx_huge_pages; /* the NX huge page mitigation (nx_huge_pages module param) */
	gboolean hv_tlb_flush;  /* KVM on Hyper-V: the hypervisor's (ranged) TLB flushes */
	gboolean ept_ad;        /* EPT A/D bits on: the CPU sets them (exit-level only) */
	GArray *memslots;       /* TraceMemslot */
	guint memslots_line;
	/* the workload; NULL for an exit-level trace */
	gchar *workload;
	gchar *guest;           /* the program of `run --guest FILE`: FILE, or NULL for a built-in */
	gchar *image_sha256;    /* the SHA-256 of the program recorded, or NULL (not checked) */
	gchar *arg;             /* the --arg string, or NULL */
	guint workload_line;
	guint64 params[8];
	guint32 boot_flags;     /* KVMSIM_BOOT_* the guest boots with (workloads/abi.h) */
	GArray *events;         /* TraceEvent, document order */
	/* the schedule */
	SimPolicy policy;       /* SIM_POLICY_STEPS or the policy to run with */
	SimPolicy then;         /* after the steps */
	GArray *steps;          /* TraceStep */
	gboolean packed;        /* steps written as <move>s and <steps> tokens */
	GArray *marks;          /* TraceMark, one per <steps> chunk, by step */
	gchar *step_sums;       /* per step, the first hex digit of the SHA-256 of the log as it
				 * ended; NULL if not recorded */
	GArray *expects;        /* TraceExpect */
	guint64 watchdog;       /* <schedule watchdog>, or replay's --watchdog; 0: the default */
	/* not in the file: called on the replay's log before it runs (--log-format, --trace-dat) */
	void (*log_hook)(SimLog *log, gpointer data);
	gpointer log_hook_data;
} Trace;

Trace *trace_new(void);
void trace_free(Trace *trace);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Trace, trace_free)

/* Read, validate against the schema and check for sense. Errors read "FILE:LINE: what". */
Trace *trace_load(const char *path, GError **error);
/* Write atomically (temporary name, then rename). */
gboolean trace_save(const Trace *trace, const char *path, GError **error);

const char *trace_event_kind_name(TraceEventKind kind);
/* Actors the events and steps of a trace may name: vcpuN (N < vcpus), notifier, vmm. */
gboolean trace_actor_valid(const Trace *trace, const char *actor);

#endif
