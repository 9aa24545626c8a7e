/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the vCPU emulates without an exit, deterministically: rdtsc and rdtscp read a TSC that
 * counts retired instructions, rdrand and rdseed a per-vCPU stream seeded by the run. (CPUID is
 * answered by the engine: sim_hw_set_cpuid().)
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#include "sim/cpu/vcpu-internal.h"

/*
 * The TSC an rdtsc or rdtscp at rip reads: SIM_VCPU_TSC_PER_INSN ticks per guest instruction this
 * vCPU retired before it, from 0 at creation (KVM starts a new VM's TSC at 0:
 * kvm_synchronize_tsc() from kvm_arch_vcpu_postcreate(), arch/x86/kvm/x86.c, v6.18). The
 * instruction itself then retires.
 */
guint64
vcpu_tsc_read(void *data, guint64 rip)
{
	SimVcpu *v = data;
	guint64 tsc;

	vcpu_block_cut(v, rip);
	tsc = v->insns * SIM_VCPU_TSC_PER_INSN;
	v->insns++;
	return tsc;
}

/* splitmix64's output function (Steele, Lea, Flood 2014). */
static guint64
splitmix64_mix(guint64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define SPLITMIX64_GAMMA 0x9e3779b97f4a7c15ull

/*
 * What rdrand and rdseed read: one splitmix64 stream per vCPU, started from the run's seed and
 * the vCPU id, so a vCPU reads the same values whatever the other vCPUs draw and whatever the
 * schedule. Both always succeed.
 */
guint64
vcpu_random_read(void *data, SimHwUdInsn insn)
{
	SimVcpu *v = data;

	v->random_state += SPLITMIX64_GAMMA;
	return splitmix64_mix(v->random_state);
}

/* Starts this vCPU's rdrand/rdseed stream from the run's seed and the vCPU id. */
void
vcpu_random_seed(SimVcpu *v, guint64 seed)
{
	v->random_state = splitmix64_mix(seed ^ splitmix64_mix((guint64)v->kvcpu->vcpu_id));
}
