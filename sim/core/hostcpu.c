/* SPDX-License-Identifier: GPL-2.0-only */
/* Which host CPU the running code is on (hostcpu.h). */
#include "sim/core/hostcpu.h"

#include <string.h>

struct SimHostCpus {
	SimSched *sched;
	guint nr_vcpus;
	GArray *of_actor; /* guint per actor creation index, G_MAXUINT: not looked up yet */
	GArray *run_on;   /* guint per actor: its innermost sim_hostcpu_run_on(), G_MAXUINT: none
			   * (an actor's handler may yield: the others keep their own CPUs) */
	guint main_run_on;
};

/* The CPUs of a machine with nr_vcpus vCPUs on sched. */
SimHostCpus *
sim_hostcpus_new(SimSched *sched, guint nr_vcpus)
{
	SimHostCpus *cpus = g_new0(SimHostCpus, 1);

	cpus->sched = sched;
	cpus->nr_vcpus = nr_vcpus;
	cpus->of_actor = g_array_new(FALSE, FALSE, sizeof(guint));
	cpus->run_on = g_array_new(FALSE, FALSE, sizeof(guint));
	cpus->main_run_on = G_MAXUINT;
	return cpus;
}

/* Free the table. */
void
sim_hostcpus_free(SimHostCpus *cpus)
{
	if (!cpus)
		return;
	g_array_free(cpus->of_actor, TRUE);
	g_array_free(cpus->run_on, TRUE);
	g_free(cpus);
}

/* One CPU per vCPU, one for the notifier, one for the vmm. */
guint
sim_hostcpus_nr(const SimHostCpus *cpus)
{
	return cpus->nr_vcpus + 2;
}

/* N of "vcpuN"/"nmiN" for a CPU that exists, else G_MAXUINT. */
static guint
numbered(const SimHostCpus *cpus, const char *name, const char *prefix)
{
	guint64 n;

	if (!g_str_has_prefix(name, prefix) ||
	    !g_ascii_string_to_unsigned(name + strlen(prefix), 10, 0, cpus->nr_vcpus - 1, &n, NULL))
		return G_MAXUINT;
	return (guint)n;
}

/* The CPU of an actor by its name (hostcpu.h's table). */
guint
sim_hostcpu_of_actor(const SimHostCpus *cpus, const char *name)
{
	guint n = numbered(cpus, name, "vcpu");

	if (n == G_MAXUINT)
		n = numbered(cpus, name, "nmi");
	if (n != G_MAXUINT)
		return n;
	return strcmp(name, "notifier") == 0 ? cpus->nr_vcpus : cpus->nr_vcpus + 1;
}

/* The running actor's sim_hostcpu_run_on() slot (main's outside actors). */
static guint *
run_on_slot(SimHostCpus *cpus, gint index)
{
	guint none = G_MAXUINT;

	if (index < 0)
		return &cpus->main_run_on;
	while (cpus->run_on->len <= (guint)index)
		g_array_append_val(cpus->run_on, none);
	return &g_array_index(cpus->run_on, guint, index);
}

/* The CPU the running code is on (cached per actor). */
guint
sim_hostcpu_current(SimHostCpus *cpus)
{
	gint index = sim_sched_current_index(cpus->sched);
	guint *slot = run_on_slot(cpus, index);

	if (*slot != G_MAXUINT)
		return *slot;
	if (index < 0)
		return cpus->nr_vcpus + 1;
	while (cpus->of_actor->len <= (guint)index) {
		guint none = G_MAXUINT;

		g_array_append_val(cpus->of_actor, none);
	}
	slot = &g_array_index(cpus->of_actor, guint, index);
	if (*slot == G_MAXUINT)
		*slot = sim_hostcpu_of_actor(cpus, sim_sched_actor_name(cpus->sched, (guint)index));
	return *slot;
}

/* Run fn(data) as if on cpu: restored afterwards, even if fn yielded. */
void
sim_hostcpu_run_on(SimHostCpus *cpus, guint cpu, void (*fn)(gpointer data), gpointer data)
{
	gint index = sim_sched_current_index(cpus->sched);
	guint saved = *run_on_slot(cpus, index);

	g_assert(cpu < sim_hostcpus_nr(cpus));
	*run_on_slot(cpus, index) = cpu;
	fn(data);
	*run_on_slot(cpus, index) = saved; /* the array may have grown meanwhile */
}
