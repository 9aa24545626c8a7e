/* SPDX-License-Identifier: GPL-2.0-only */
/* The machine's NMIs (asi/nmi.h): which actor runs on which host CPU, and a run's --nmi plan. */
#include "sim/vmm/vmm-internal.h"

#include "asi/nmi.h"

/* A stream of its own ("nmi"), so that adding NMIs never shifts another stream's draws. */
#define NMI_STREAM 0x6e6d69

/* The actor on host CPU cpu: vcpuN on CPU N, then the notifier's CPU, then the vmm's. */
static SimActor *
vmm_cpu_actor(guint cpu, gpointer data)
{
	SimVmm *vmm = data;
	guint n = vmm->config.nr_vcpus;
	g_autofree gchar *name = cpu < n ? g_strdup_printf("vcpu%u", cpu) :
				 g_strdup(cpu == n ? "notifier" : "vmm");

	return sim_sched_find_actor(vmm->sched, name);
}

/* The NMI state, made on first use. */
AsiNmis *
sim_vmm_nmis(SimVmm *vmm)
{
	if (!vmm->nmis)
		vmm->nmis = asi_nmis_new(vmm->sched, vmm->asi ? asi_sim_host(vmm->asi) : NULL,
					 vmm_cpu_actor, vmm);
	return vmm->nmis;
}

/* The NMI state if some NMI made it, else NULL (--stats reports only what exists). */
const AsiNmis *
sim_vmm_nmi_state(const SimVmm *vmm)
{
	return vmm->nmis;
}

/* Orders planned NMIs by CPU, then step. */
static gint
compare_nmi(gconstpointer a, gconstpointer b)
{
	const AsiNmi *x = a, *y = b;

	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

/*
 * --nmi K: K NMIs, each on the host CPU of a vCPU picked uniformly, at a step picked uniformly
 * over the span host events use (8 per page of the data region: a run's length), from a seeded
 * stream of its own. One nmiN actor per CPU that has any, created after every other actor (a
 * replay of the recorded trace makes them in the same order); once awake, the scheduler's
 * policy decides at which yield point of that CPU's actor it fires.
 */
void
sim_vmm_start_nmis(SimVmm *vmm)
{
	const SimVmmConfig *config = &vmm->config;
	guint32 key[3] = { (guint32)config->seed, (guint32)(config->seed >> 32), NMI_STREAM };
	guint64 span = MAX(config->mem_size / SIM_PAGE_SIZE * 8, 1);

	if (!config->nr_nmis)
		return;
	GRand *rng = g_rand_new_with_seed_array(key, 3);

	vmm->nmi_plan = g_array_new(FALSE, FALSE, sizeof(AsiNmi));
	for (guint i = 0; i < config->nr_nmis; i++) {
		AsiNmi nmi = { (guint)g_rand_int_range(rng, 0, (gint32)config->nr_vcpus),
			       config->nmi_touch,
			       1 + (guint64)(g_rand_double(rng) * (gdouble)span) };

		g_array_append_val(vmm->nmi_plan, nmi);
	}
	g_rand_free(rng);
	g_array_sort(vmm->nmi_plan, compare_nmi);
	for (guint i = 0; i < vmm->nmi_plan->len;) {
		guint cpu = g_array_index(vmm->nmi_plan, AsiNmi, i).cpu, n = 0;

		while (i + n < vmm->nmi_plan->len &&
		       g_array_index(vmm->nmi_plan, AsiNmi, i + n).cpu == cpu)
			n++;
		asi_nmi_actor_new(sim_vmm_nmis(vmm), cpu, &g_array_index(vmm->nmi_plan, AsiNmi, i),
				  n);
		i += n;
	}
}

/* The --nmi plan, as the recorder writes it. */
const AsiNmi *
sim_vmm_nmi_plan(const SimVmm *vmm, guint *out_n)
{
	*out_n = vmm->nmi_plan ? vmm->nmi_plan->len : 0;
	return vmm->nmi_plan ? (const AsiNmi *)vmm->nmi_plan->data : NULL;
}

/* Free the NMI state and the plan (the actors belong to the scheduler). */
void
sim_vmm_free_nmis(SimVmm *vmm)
{
	asi_nmis_free(vmm->nmis);
	vmm->nmis = NULL;
	if (vmm->nmi_plan)
		g_array_free(vmm->nmi_plan, TRUE);
	vmm->nmi_plan = NULL;
}
