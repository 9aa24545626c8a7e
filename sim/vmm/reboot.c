/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rebooting a VM with private memory onto the same guest_memfd: the guest asks (a write to
 * KVMSIM_PORT_REBOOT), the vCPUs stop, and the "vmm" actor destroys the struct kvm and boots a
 * new one whose guest_memfd is a new file on the old inode, through the proposed
 * KVM_LINK_GUEST_MEMFD (Ryan Afranji's RFC v2, 2025-05-16; guest-memfd.md §3.8). The memory
 * belongs to the inode, so the private content the guest left survives; SPTEs, bindings and (in
 * the legacy design) the per-VM attributes do not, and the VMM restores the latter from its own
 * record. The same image is entered again with fresh boot parameters that say
 * KVMSIM_BOOT_REBOOTED (a warm reboot: the image in the boot memslot is kept).
 */
#define G_LOG_DOMAIN "kvmsim-vmm"
#include <errno.h>

#include "sim/core/log.h"
#include "sim/vmm/vmm-internal.h"

/* Whether every vCPU of the old VM has left KVM_RUN for good, and no host event is inside a
 * guest_memfd call on it. */
static gboolean
vcpus_finished(gpointer data)
{
	SimVmm *vmm = data;

	if (vmm->host_ioctls)
		return FALSE;
	for (guint i = 0; i < vmm->config.nr_vcpus; i++)
		if (vmm->vcpus[i] && !sim_vcpu_finished(vmm->vcpus[i]))
			return FALSE;
	return TRUE;
}

/* The old VM goes: its vCPUs, then (once its guest_memfd file is closed) the VM itself. */
static gboolean
reboot(SimVmm *vmm, GError **error)
{
	struct kvm *old = vmm->kvm;
	int old_fd = vmm->gmem_fd, fd;

	for (guint i = 0; i < vmm->config.nr_vcpus; i++)
		g_clear_pointer(&vmm->vcpus[i], sim_vcpu_free);
	if (!sim_vmm_create_vm(vmm, &sim_vcpu_hw_ops, error))
		return FALSE;
	/* a new file on the old inode, bound to the new VM, before the old file goes */
	fd = kvm_gmem_link(vmm->kvm, &(struct kvm_link_guest_memfd){ .fd = (u64)old_fd });
	sim_log_emit(sim_sched_log(vmm->sched), "sim_vmm_ioctl", "KVM_LINK_GUEST_MEMFD fd %d: %d",
		     old_fd, fd);
	if (fd < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-fd),
			    "KVM_LINK_GUEST_MEMFD: %s", g_strerror(-fd));
		return FALSE;
	}
	sim_vmm_close_gmem(vmm); /* the old file: kvm_gmem_release() drops its VM reference */
	kvm_put_kvm(old);        /* the VM fd: the last reference, the VM is destroyed */
	vmm->gmem_fd = fd;
	vmm->hlt_base = vmm->counters.v[SIM_CTR_EXITS_HLT];
	return sim_vmm_set_region(vmm, 0, KVMSIM_BOOT_GPA, KVMSIM_BOOT_SIZE, vmm->boot_hva, error) &&
	       sim_vmm_conv_bind(vmm, error) && sim_vmm_bind_stacks(vmm, error) &&
	       sim_vmm_conv_restore(vmm, error) &&
	       sim_vmm_write_params(vmm, KVMSIM_BOOT_REBOOTED, error) &&
	       sim_vmm_start_vcpus(vmm, error);
}

/* The "vmm" actor of a reboot. */
static void
reboot_actor(SimActor *actor, gpointer data)
{
	SimVmm *vmm = data;
	g_autoptr(GError) error = NULL;

	/* pthread_join(): futex_wait() → schedule() */
	sim_wait_sleeping(vmm->sched, "the vCPUs left KVM_RUN", vcpus_finished, vmm);
	sim_log_emit(sim_sched_log(vmm->sched), "sim_vmm_reboot", "destroying the VM, guest_memfd %d",
		     vmm->gmem_fd);
	if (!reboot(vmm, &error) && !vmm->error)
		vmm->error = g_strdup_printf("reboot: %s", error->message);
	vmm->rebooted++;
	vmm->rebooting = FALSE;
}

void
sim_vmm_reboot(SimVmm *vmm)
{
	vmm->rebooting = TRUE;
	for (guint i = 0; i < vmm->config.nr_vcpus; i++)
		sim_vcpu_request_stop(vmm->vcpus[i]);
	sim_actor_new(vmm->sched, "vmm", reboot_actor, vmm);
}
