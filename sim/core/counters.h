/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Named counters of a run: exits, fault outcomes, invalidations, and probes on rare paths (in the
 * spirit of FoundationDB's CODE_PROBE: "did the run reach the interesting interleaving?"). The set
 * is fixed and ordered, so JSON stats, trace expectations and summaries all use these names.
 */
#ifndef KVMSIM_SIM_CORE_COUNTERS_H
#define KVMSIM_SIM_CORE_COUNTERS_H

#include <glib.h>

/* X(enum suffix, name as in --stats and traces) */
#define SIM_COUNTER_LIST(X)                                                                        \
	X(EXITS_EPT_VIOLATION, "exits.ept_violation")                                              \
	X(EXITS_EPT_MISCONFIG, "exits.ept_misconfig")                                            \
	X(EXITS_HLT, "exits.hlt")                                                                  \
	X(EXITS_IO, "exits.io")                                                                    \
	X(EXITS_HYPERCALL, "exits.hypercall")                                                      \
	X(EXITS_MMIO, "exits.mmio")                                                                \
	X(EXITS_PREEMPT, "exits.preempt")                                                          \
	X(EXITS_USER_HYPERCALL, "exits.user_hypercall")                                            \
	X(FAULTS_FIXED, "faults.fixed")                                                            \
	X(FAULTS_RETRY, "faults.retry")                                                            \
	X(FAULTS_SPURIOUS, "faults.spurious")                                                      \
	X(FAULTS_EMULATE, "faults.emulate")                                                        \
	X(FAULTS_FAST, "faults.fast")                                                              \
	X(FAULTS_ERROR, "faults.error")                                                            \
	X(INVALIDATIONS, "invalidations")                                                          \
	X(ZAPS, "zaps")                                                                            \
	X(TLB_FLUSHES, "tlb_flushes")                                                              \
	X(HOST_MIGRATE, "host.migrate")                                                            \
	X(HOST_DONTNEED, "host.dontneed")                                                          \
	X(HOST_AGE, "host.age")                                                                    \
	X(HOST_MUNMAP, "host.munmap")                                                              \
	X(HOST_COW, "host.cow")                                                                    \
	X(HOST_ZERO_PAGE, "host.zero_page")                                                        \
	X(HOST_PUNCH, "host.punch")                                                                \
	X(HOST_CONVERT, "host.convert")                                                            \
	X(VMM_CONVERT_RETRY, "vmm.convert_retry")                                                  \
	X(FRAMES_ALLOCATED, "frames.allocated")                                                    \
	X(FRAMES_FREED, "frames.freed")                                                            \
	X(GUEST_INSNS, "guest.instructions")                                                       \
	X(THP_FAULT_ALLOC, "thp.fault_alloc")                                                      \
	X(THP_FAULT_FALLBACK, "thp.fault_fallback")                                                \
	X(THP_SPLIT_PMD, "thp.split_pmd")                                                          \
	X(THP_SPLIT_PAGE, "thp.split_page")                                                        \
	X(THP_MIGRATION, "thp.migration_success")                                                  \
	X(TDP_MMU_LEAVES_2M, "tdp_mmu.huge_leaves")                                                \
	X(TDP_MMU_LEAVES_1G, "tdp_mmu.gigantic_leaves")                                            \
	X(TDP_MMU_HUGE_ZAPPED, "tdp_mmu.huge_zapped")                                              \
	X(TDP_MMU_HUGE_SPLIT, "tdp_mmu.huge_split")                                                \
	X(PROBE_FAULT_RETRY_SEQ_CHANGED, "probes.fault_retry_seq_changed")                         \
	X(PROBE_FAULT_RETRY_IN_PROGRESS, "probes.fault_retry_in_progress")                         \
	X(PROBE_FAULT_RETRY_UNSAFE, "probes.fault_retry_unsafe")                                   \
	X(PROBE_FAULT_RETRY_INVALID_SLOT, "probes.fault_retry_invalid_slot")                       \
	X(PROBE_SPTE_CMPXCHG_LOST, "probes.spte_cmpxchg_lost")                                     \
	X(PROBE_FROZEN_SPTE_SEEN, "probes.frozen_spte_seen")                                       \
	X(PROBE_FAULT_SPURIOUS_PRESENT, "probes.fault_spurious_present")                           \
	X(PROBE_ENTRY_WITH_STALE_TLB, "probes.entry_with_stale_tlb")                               \
	X(PROBE_MIGRATE_BUSY, "probes.migrate_busy")                                             \
	X(PROBE_GUP_WAITED_MIGRATION, "probes.gup_waited_migration")                             \
	X(EXITS_MEMORY_FAULT, "exits.memory_fault")                                                \
	X(GMEM_ALLOCATED, "gmem.allocated")                                                        \
	X(GMEM_ZEROED, "gmem.zeroed")                                                              \
	X(GMEM_PUNCHED, "gmem.punched")                                                            \
	X(GMEM_FREED, "gmem.freed")                                                                \
	X(GMEM_CONVERTED_TO_PRIVATE, "gmem.converted_to_private")                                  \
	X(GMEM_CONVERTED_TO_SHARED, "gmem.converted_to_shared")                                    \
	X(GMEM_CONVERT_EAGAIN, "gmem.convert_eagain")                                              \
	X(GMEM_HOST_SIGBUS, "gmem.host_sigbus")                                                    \
	X(GMEM_HUGE_SPLIT, "gmem.huge_split")                                                      \
	X(GMEM_HUGE_MERGE, "gmem.huge_merge")                                                      \
	X(UFFD_FAULTS, "uffd.faults")                                                              \
	X(UFFD_WAKEUPS, "uffd.wakeups")                                                            \
	X(UFFD_WQ_LOCK_BLOCKED, "uffd.wq_lock_blocked")                                            \
	X(POSTCOPY_FETCHED, "postcopy.fetched")                                                    \
	X(POSTCOPY_EXITS, "postcopy.exits")                                                        \
	X(POSTCOPY_SPURIOUS_EXITS, "postcopy.spurious_exits")                                      \
	X(POSTCOPY_REFILLS, "postcopy.refills")                                                    \
	X(POSTCOPY_USELESS_APF, "postcopy.useless_apf")                                            \
	X(APF_NOT_PRESENT, "apf.not_present")                                                      \
	X(APF_INJECTED, "apf.not_present_injected")                                                \
	X(APF_READY, "apf.ready")                                                                  \
	X(APF_COMPLETED, "apf.completed")                                                          \
	X(APF_HALTS, "apf.halts")                                                                  \
	X(APF_REPEATED_FAULTS, "apf.repeated_faults")                                              \
	X(APF_SYNC_FALLBACK, "apf.sync_fallback")                                                  \
	X(APF_USER_EXITS, "apf.user_exits")                                                        \
	X(APF_GUEST_WAKEUPS, "apf.wakeups")

typedef enum {
#define SIM_COUNTER_ENUM(id, name) SIM_CTR_##id,
	SIM_COUNTER_LIST(SIM_COUNTER_ENUM)
#undef SIM_COUNTER_ENUM
	SIM_CTR_COUNT
} SimCounter;

typedef struct {
	guint64 v[SIM_CTR_COUNT];
} SimCounters;

static inline void
sim_count(SimCounters *counters, SimCounter id)
{
	counters->v[id]++;
}

static inline void
sim_count_add(SimCounters *counters, SimCounter id, guint64 n)
{
	counters->v[id] += n;
}

const char *sim_counter_name(SimCounter id);
/* The counter called name; FALSE if there is none. */
gboolean sim_counter_lookup(const char *name, SimCounter *out);

#endif
