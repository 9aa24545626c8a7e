/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VMM's userspace exit handlers, as the vCPUs call them (SimVcpuExitOps): the console, exit
 * and reboot ports, the MMIO test device, hypercalls and KVM_EXIT_MEMORY_FAULT.
 */
#define G_LOG_DOMAIN "kvmsim-vmm"
#include "sim/vmm/vmm.h"

#include "sim/core/log.h"
#include "sim/vmm/postcopy.h"
#include "sim/vmm/vmm-internal.h"
#include "workloads/abi.h"

/* KVM_EXIT_IO: the console and the exit port. */
static gboolean
vmm_pio(gpointer data, SimVcpu *vcpu, gboolean in, guint16 port, guint size, guint32 *value)
{
	SimVmm *vmm = data;

	if (in) {
		*value = 0xffffffffu; /* no device behind the port */
		return TRUE;
	}
	if (port == KVMSIM_PORT_CONSOLE) {
		g_string_append_c(vmm->console, (char)(*value & 0xff));
		return TRUE;
	}
	if (port == KVMSIM_PORT_REBOOT && vmm->files && !vmm->rebooted && !vmm->rebooting) {
		sim_log_emit(sim_sched_log(vmm->sched), "sim_guest_reboot", "vcpu %d",
			     sim_vcpu_id(vcpu));
		sim_vmm_reboot(vmm);
		return FALSE;
	}
	if (port == KVMSIM_PORT_EXIT) {
		vmm->result = *value == 0 ? SIM_GUEST_PASS : SIM_GUEST_FAIL;
		if (vmm->postcopy)
			sim_postcopy_finished(vmm->postcopy, sim_sched_now(vmm->sched));
		sim_log_emit(sim_sched_log(vmm->sched), "sim_guest_exit", "vcpu %d status %u result %s",
			     sim_vcpu_id(vcpu), *value, sim_guest_result_name(vmm->result));
		for (guint i = 0; i < vmm->config.nr_vcpus; i++)
			sim_vcpu_request_stop(vmm->vcpus[i]);
		return FALSE;
	}
	return TRUE; /* writes to other ports are ignored, as by an absent device */
}

/* KVM_EXIT_MMIO on the test device. */
static guint64
vmm_mmio_read(void *data, guint64 gpa, guint size)
{
	SimVmm *vmm = data;
	guint64 reg = gpa - KVMSIM_MMIO_GPA;
	guint64 value = reg == KVMSIM_MMIO_REG_ID ? KVMSIM_MMIO_ID :
			reg == KVMSIM_MMIO_REG_SCRATCH ? vmm->mmio_scratch : ~0ull;

	sim_log_emit(sim_sched_log(vmm->sched), "kvm_mmio",
		     "mmio read len %u gpa 0x%" G_GINT64_MODIFIER "x val 0x%" G_GINT64_MODIFIER "x",
		     size, gpa, value);
	return value;
}

/* A write to the test device: the scratch register keeps it. */
static void
vmm_mmio_write(void *data, guint64 gpa, guint size, guint64 value)
{
	SimVmm *vmm = data;

	sim_log_emit(sim_sched_log(vmm->sched), "kvm_mmio",
		     "mmio write len %u gpa 0x%" G_GINT64_MODIFIER "x val 0x%" G_GINT64_MODIFIER "x",
		     size, gpa, value);
	if (gpa - KVMSIM_MMIO_GPA == KVMSIM_MMIO_REG_SCRATCH)
		vmm->mmio_scratch = value;
}

/* KVM_EXIT_HYPERCALL: KVM_HC_MAP_GPA_RANGE converts (sim/vmm/conv.c); nothing else is
 * handled. */
guint64
sim_vmm_hypercall(SimVmm *vmm, guint64 nr, const guint64 args[4])
{
	if (nr == KVM_HC_MAP_GPA_RANGE && vmm->gmem_fd >= 0)
		return sim_vmm_map_gpa_range(vmm, args);
	return (guint64)-(gint64)KVM_ENOSYS;
}

/* The vCPU's KVM_EXIT_HYPERCALL, to the handler above. */
static guint64
vmm_hypercall(gpointer data, SimVcpu *vcpu, guint64 nr, const guint64 args[4])
{
	return sim_vmm_hypercall(data, nr, args);
}

guint64
sim_vmm_hypercall_exit(const SimVmm *vmm)
{
	return vmm->hypercall_exit;
}

/* KVM_EXIT_MEMORY_FAULT: an implicit conversion (sim/vmm/conv.c), on a VM with private memory. */
static gboolean
vmm_memory_fault(gpointer data, SimVcpu *vcpu, int error, const struct kvm_run *run)
{
	SimVmm *vmm = data;

	if (vmm->postcopy && sim_postcopy_covers(vmm->postcopy, run->memory_fault.gpa))
		return sim_postcopy_memory_fault(vmm->postcopy, sim_vcpu_id(vcpu), error, run);
	return vmm->files && sim_vmm_memory_fault(vmm, error, run);
}

const SimVcpuExitOps sim_vmm_exit_ops = {
	.pio = vmm_pio,
	.mmio_read = vmm_mmio_read,
	.mmio_write = vmm_mmio_write,
	.hypercall = vmm_hypercall,
	.memory_fault = vmm_memory_fault,
};
