/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * NMIs as actors (asi/nmi.h). exc_nmi() and its nmi_state latch were read in
 * googleprodkernel/linux-kvm at 61300fc9 (arch/x86/kernel/nmi.c), the ASI wrapping of
 * DEFINE_IDTENTRY_RAW (asi_intr_enter first, asi_intr_exit last) in the 2022 RFC's idtentry.h
 * patch and v2 05/29 as reference/asi.md §2.3 describes it.
 */
#include "asi/nmi.h"

#include "asi/asi-internal.h"
#include "sim/core/log.h"

/* Models the per-CPU nmi_state of arch/x86/kernel/nmi.c. */
typedef enum {
	NMI_NOT_RUNNING,
	NMI_EXECUTING,
	NMI_LATCHED,
} NmiState;

typedef struct {
	NmiState state;
	AsiNmiTouch latched_touch; /* what the latched NMI touches when it runs */
} NmiCpu;

struct AsiNmis {
	SimSched *sched;
	AsiHost *host;
	AsiNmiCpuActorFn cpu_actor;
	gpointer data;
	NmiCpu *cpus;               /* up to the highest CPU an NMI was raised on */
	guint nr_cpus;
	AsiTask *idle;              /* per host CPU: the idle task, for a CPU nothing ran on yet */
	guint64 page[ASI_NMI_TOUCH_NR]; /* the direct-map page each touch reads */
	AsiNmiStats stats;
	GPtrArray *actors;          /* NmiActor * */
};

/* What one nmiN actor delivers. */
typedef struct {
	AsiNmis *nmis;
	guint cpu;
	GArray *nmi; /* AsiNmi */
} NmiActor;

static const char *const touch_names[ASI_NMI_TOUCH_NR] = {
	"none", "kernel", "user", "page-cache", "guest-ram",
};

static const AsiObjKind touch_kind[ASI_NMI_TOUCH_NR] = {
	[ASI_NMI_TOUCH_KERNEL] = ASI_OBJ_KERNEL,
	[ASI_NMI_TOUCH_USER] = ASI_OBJ_USER,
	[ASI_NMI_TOUCH_PAGE_CACHE] = ASI_OBJ_PAGE_CACHE,
	[ASI_NMI_TOUCH_GUEST_RAM] = ASI_OBJ_GUEST_RAM,
};

/* The touch's name, as traces and --nmi-touch spell it. */
const char *
asi_nmi_touch_name(AsiNmiTouch touch)
{
	g_return_val_if_fail(touch < ASI_NMI_TOUCH_NR, NULL);
	return touch_names[touch];
}

/* The touch called name (asi_nmi_touch_name()). */
gboolean
asi_nmi_touch_lookup(const char *name, AsiNmiTouch *out)
{
	for (guint i = 0; i < ASI_NMI_TOUCH_NR; i++) {
		if (g_strcmp0(name, touch_names[i]) == 0) {
			*out = (AsiNmiTouch)i;
			return TRUE;
		}
	}
	return FALSE;
}

/* The NMI state of a run (asi/nmi.h). */
AsiNmis *
asi_nmis_new(SimSched *sched, AsiHost *host, AsiNmiCpuActorFn cpu_actor, gpointer data)
{
	AsiNmis *nmis = g_new0(AsiNmis, 1);

	nmis->sched = sched;
	nmis->host = host;
	nmis->cpu_actor = cpu_actor;
	nmis->data = data;
	nmis->actors = g_ptr_array_new();
	/* the page each touch reads, with its kind's sensitivity: allocated now, never in a handler */
	for (guint t = ASI_NMI_TOUCH_KERNEL; host && t < ASI_NMI_TOUCH_NR; t++)
		nmis->page[t] = asi_alloc_pages(host, touch_kind[t], 1);
	if (host) {
		nmis->idle = g_new0(AsiTask, host->config.nr_cpus);
		for (guint c = 0; c < host->config.nr_cpus; c++)
			asi_task_init(&nmis->idle[c], NULL);
	}
	return nmis;
}

/* Free the state and the actors' plans (the actors belong to the scheduler). */
void
asi_nmis_free(AsiNmis *nmis)
{
	if (!nmis)
		return;
	for (guint i = 0; i < nmis->actors->len; i++) {
		NmiActor *na = g_ptr_array_index(nmis->actors, i);

		g_array_free(na->nmi, TRUE);
		g_free(na);
	}
	g_ptr_array_free(nmis->actors, TRUE);
	g_free(nmis->cpus);
	g_free(nmis->idle);
	g_free(nmis);
}

/* The NMI state of cpu, growing the table on first use. */
static NmiCpu *
nmi_cpu(AsiNmis *nmis, guint cpu)
{
	if (cpu >= nmis->nr_cpus) {
		nmis->cpus = g_renew(NmiCpu, nmis->cpus, cpu + 1);
		for (guint i = nmis->nr_cpus; i <= cpu; i++)
			nmis->cpus[i] = (NmiCpu){ NMI_NOT_RUNNING, ASI_NMI_TOUCH_NONE };
		nmis->nr_cpus = cpu + 1;
	}
	return &nmis->cpus[cpu];
}

/* The CPU's address space (by its CR3: a restricted PGD is no mm's), curr_asi, and the task's
 * ASI state, for the log. */
static void
describe_cpu(GString *out, const AsiCpu *cpu)
{
	gboolean restricted = cpu->loaded_mm && (cpu->cr3 & PTE_PFN_MASK) != cpu->loaded_mm->pgd;

	g_string_append_printf(out, "cr3 %s curr_asi %s target %s depth %d",
			       restricted ? "restricted" : "unrestricted",
			       cpu->curr_asi ? "set" : "none", cpu->current->target ? "set" : "none",
			       cpu->current->intr_nest_depth);
}

/* The handler's body (default_do_nmi()): a perf-style sampler reading a page of its kind through
 * the accessor. Its yield point is where other CPUs may run while it does. */
static void
nmi_body(AsiNmis *nmis, AsiCpu *acpu, AsiNmiTouch touch)
{
	sim_yield(nmis->sched, "nmi.handler");
	if (touch == ASI_NMI_TOUCH_NONE || !acpu)
		return;
	int r = asi_host_access_ip(acpu, nmis->page[touch], 0, "default_do_nmi");

	sim_log_emit(sim_sched_log(nmis->sched), "sim_nmi_access",
		     "cpu %u touch %s va 0x%" G_GINT64_MODIFIER "x: %d", acpu->id,
		     touch_names[touch], nmis->page[touch], r);
}

/* Models exc_nmi() inside DEFINE_IDTENTRY_RAW on cpu (arch/x86/kernel/nmi.c, googleprodkernel/
 * linux-kvm at 61300fc9): asi_intr_enter, nmi_state latch, the body (again while one was latched),
 * asi_intr_exit. Simplified: no DR7/CR2 save, no SEV-ES IST, no back-to-back detection. */
void
asi_nmi_raise(AsiNmis *nmis, guint cpu, AsiNmiTouch touch)
{
	NmiCpu *nc = nmi_cpu(nmis, cpu);
	SimLog *log = sim_sched_log(nmis->sched);
	AsiCpu *acpu = NULL;
	gboolean was_restricted;

	if (nc->state != NMI_NOT_RUNNING) {
		/* NMIs are blocked until IRET: one is latched, a second one is lost */
		if (nc->state == NMI_LATCHED) {
			nmis->stats.lost++;
			sim_log_emit(log, "sim_nmi_lost", "cpu %u: one NMI is latched already", cpu);
			return;
		}
		nc->state = NMI_LATCHED;
		nc->latched_touch = touch;
		nmis->stats.latched++;
		sim_log_emit(log, "sim_nmi_latched", "cpu %u: in its NMI handler", cpu);
		return;
	}
	if (nmis->host && cpu < nmis->host->config.nr_cpus) {
		acpu = asi_host_cpu(nmis->host, cpu);
		if (!acpu->current) /* nothing ran there yet: the idle task's context */
			asi_cpu_switch_to(acpu, &nmis->idle[cpu]);
		if (!acpu->cr3)
			acpu = NULL; /* no page tables loaded: nothing to touch through */
	}
	was_restricted = acpu && acpu->curr_asi;
	if (acpu)
		asi_intr_enter(acpu);
	nc->state = NMI_EXECUTING;
	for (;;) {
		nmis->stats.handled++;
		nmi_body(nmis, acpu, touch);
		if (nc->state != NMI_LATCHED)
			break;
		nc->state = NMI_EXECUTING; /* this_cpu_dec_return(nmi_state): restart */
		touch = nc->latched_touch;
		sim_log_emit(log, "sim_nmi_restart", "cpu %u: the latched NMI", cpu);
	}
	nc->state = NMI_NOT_RUNNING;
	if (acpu) {
		asi_intr_exit(acpu);
		if (was_restricted && !acpu->curr_asi)
			nmis->stats.left_unrestricted++;
	}
}

/* One NMI of an nmiN actor: it arrives where the actor on the CPU stopped, which cannot run
 * until the handler returns. */
static void
deliver(NmiActor *na, const AsiNmi *nmi)
{
	AsiNmis *nmis = na->nmis;
	SimActor *victim = nmis->cpu_actor ? nmis->cpu_actor(na->cpu, nmis->data) : NULL;
	SimLog *log = sim_sched_log(nmis->sched);
	AsiCpu *acpu = nmis->host && na->cpu < nmis->host->config.nr_cpus ?
			       asi_host_cpu(nmis->host, na->cpu) : NULL;

	if (victim && !sim_actor_live(victim))
		victim = NULL; /* its thread is gone: the CPU idles */
	if (victim)
		sim_actor_hold(victim);
	if (sim_log_on(log)) {
		g_autoptr(GString) state = g_string_new(NULL);
		g_autofree gchar *where = victim ? g_strdup_printf(
			"%s at %s", sim_actor_name(victim), sim_actor_last_point(victim) ?
			sim_actor_last_point(victim) : "start") : g_strdup("the idle task");

		if (acpu && acpu->current)
			describe_cpu(state, acpu);
		else
			g_string_append(state, "no ASI");
		sim_log_emitf(log, "sim_nmi", "cpu %u interrupts %s: %s, touch %s", na->cpu, where,
			      state->str, touch_names[nmi->touch]);
	}
	asi_nmi_raise(nmis, na->cpu, nmi->touch);
	if (sim_log_on(log)) {
		g_autoptr(GString) state = g_string_new(NULL);

		if (acpu && acpu->current)
			describe_cpu(state, acpu);
		else
			g_string_append(state, "no ASI");
		sim_log_emitf(log, "sim_nmi_iret", "cpu %u back to %s: %s", na->cpu,
			      victim ? sim_actor_name(victim) : "the idle task", state->str);
	}
	if (victim)
		sim_actor_release(victim);
}

/* The nmiN actor: its NMIs in order, each after its optional sleep, a yield point after each
 * return so that the interrupted actor may go on before the next one. */
static void
nmi_actor(SimActor *actor, gpointer data)
{
	NmiActor *na = data;

	(void)actor;
	for (guint i = 0; i < na->nmi->len; i++) {
		const AsiNmi *nmi = &g_array_index(na->nmi, AsiNmi, i);

		if (sim_sched_failed(na->nmis->sched))
			break;
		if (nmi->at)
			sim_sleep_until(na->nmis->sched, nmi->at);
		deliver(na, nmi);
		sim_sched_progress(na->nmis->sched);
		sim_yield(na->nmis->sched, "nmi.iret");
	}
}

/* The actor nmiCPU (asi/nmi.h): its plan copied, its pages allocated now. */
SimActor *
asi_nmi_actor_new(AsiNmis *nmis, guint cpu, const AsiNmi *nmi, guint n)
{
	NmiActor *na = g_new0(NmiActor, 1);
	g_autofree gchar *name = g_strdup_printf("nmi%u", cpu);

	na->nmis = nmis;
	na->cpu = cpu;
	na->nmi = g_array_new(FALSE, FALSE, sizeof(AsiNmi));
	g_array_append_vals(na->nmi, nmi, n);
	nmi_cpu(nmis, cpu);
	g_ptr_array_add(nmis->actors, na);
	return sim_actor_new(nmis->sched, name, nmi_actor, na);
}

/* The counters so far. */
const AsiNmiStats *
asi_nmis_stats(const AsiNmis *nmis)
{
	return &nmis->stats;
}
