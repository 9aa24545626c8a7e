/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NMIs as actors (issue 10 item 6). Actor nmiN is host CPU N's NMI line: each time the scheduler
 * runs it, one NMI arrives on CPU N at the yield point where the actor running there stopped.
 * The handler runs in whatever address space the CPU is in, as the kernel's does
 * (DEFINE_IDTENTRY_RAW(exc_nmi) in arch/x86/kernel/nmi.c; v2 05/29 puts asi_intr_enter/exit
 * around every IDT entry): asi_intr_enter, an access through the one accessor
 * (asi_host_access: a page the restricted tables do not map takes the #PF → asi_exit path),
 * asi_intr_exit, which re-enters the target on the outermost return. Until the handler's IRET
 * the interrupted actor cannot run (sim_actor_hold).
 *
 * x86 blocks NMIs from delivery until the next IRET (SDM vol. 3 6.7.1) and Linux turns an NMI
 * that still nests (an IRET of an exception inside the handler unblocks them) into a repeat of
 * the outer handler after it finishes: exc_nmi()'s nmi_state latch (read in
 * googleprodkernel/linux-kvm at 61300fc9) and, on x86-64, entry_64.S's repeat_nmi path (not
 * read here). So handlers never nest: an NMI raised on a CPU already in its handler is latched
 * (one at most, more are lost) and runs after the outer one returns, before the interrupted
 * code goes on.
 */
#ifndef KVMSIM_ASI_NMI_H
#define KVMSIM_ASI_NMI_H

#include "asi/asi.h"
#include "sim/core/sched.h"

/* What the handler touches: a page of this kind through the direct map (a perf NMI sampling
 * kernel data, or copying a user stack / guest memory into its buffer), or nothing. Whether it
 * faults follows AsiConfig.sensitive[kind]. */
typedef enum {
	ASI_NMI_TOUCH_NONE,
	ASI_NMI_TOUCH_KERNEL,
	ASI_NMI_TOUCH_USER,
	ASI_NMI_TOUCH_PAGE_CACHE,
	ASI_NMI_TOUCH_GUEST_RAM,
	ASI_NMI_TOUCH_NR
} AsiNmiTouch;

/* "none", "kernel", "user", "page-cache", "guest-ram"; FALSE for anything else. */
const char *asi_nmi_touch_name(AsiNmiTouch touch);
gboolean asi_nmi_touch_lookup(const char *name, AsiNmiTouch *out);

typedef struct AsiNmis AsiNmis;

/* The actor that runs on host CPU cpu now (NULL: none, the CPU idles). */
typedef SimActor *(*AsiNmiCpuActorFn)(guint cpu, gpointer data);

/* The NMI machinery of a run. host may be NULL (ASI off): the handler then only runs and
 * returns. The page of each touch kind is allocated now (one each, with its sensitivity). */
AsiNmis *asi_nmis_new(SimSched *sched, AsiHost *host, AsiNmiCpuActorFn cpu_actor, gpointer data);
void asi_nmis_free(AsiNmis *nmis);

/* One NMI an nmiN actor delivers, in order; it first sleeps until step at (0: no sleep). */
typedef struct AsiNmi {
	guint cpu;
	AsiNmiTouch touch;
	guint64 at;
} AsiNmi;

/* The actor nmiCPU that delivers nmis[0..n) (all on cpu), one per time it is scheduled. */
SimActor *asi_nmi_actor_new(AsiNmis *nmis, guint cpu, const AsiNmi *nmi, guint n);

/* Models an NMI arriving on cpu now (exc_nmi): delivered at once, or latched if the CPU is in its
 * NMI handler. The running actor is the handler's. */
void asi_nmi_raise(AsiNmis *nmis, guint cpu, AsiNmiTouch touch);

/* Counters: NMIs handled, latched (run after the outer one), lost (a second one while latched),
 * and handlers that found the CPU restricted and left it unrestricted (their #PF exited and,
 * the interrupted code being relaxed, nothing re-entered). */
typedef struct {
	guint64 handled, latched, lost, left_unrestricted;
} AsiNmiStats;
const AsiNmiStats *asi_nmis_stats(const AsiNmis *nmis);
/* The n-th --stats key ("asi.nmi.handled", ...) and its value; FALSE past the last. */
gboolean asi_nmis_stats_nth(const AsiNmis *nmis, guint n, const char **key, guint64 *value);

#endif
