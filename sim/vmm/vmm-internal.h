/* SPDX-License-Identifier: GPL-2.0-only */
/* The VMM's state, shared by its files (vmm.c builds and runs the machine, conv.c converts). */
#ifndef KVMSIM_SIM_VMM_VMM_INTERNAL_H
#define KVMSIM_SIM_VMM_VMM_INTERNAL_H

#include "gmem/gmem.h"
#include "mmu/mmu.h"
#include "sim/cpu/vcpu.h"
#include "sim/vmm/image.h"
#include "sim/vmm/vmm.h"
#include "workloads/abi.h"

struct SimVmm {
	SimVmmConfig config;
	SimCounters counters;
	SimSched *sched;
	SimHostMem *hm;
	SimPtPool *pt_pool;
	SimMm *mm;
	struct kvm *kvm;
	SimVcpu *vcpus[KVMSIM_MAX_VCPUS];
	SimHostEvents *host_events;
	AsiSim *asi;                   /* --asi on: the ASI model; NULL: off */
	guint64 boot_hva;
	guint64 ram_hva;
	guint64 stacks_hva;            /* one mapping for all stacks, a guard gap below each */
	SimImageLayout layout;
	gchar *image_sha256;
	GBytes *image;                 /* the program (a copy: config.image points into it) */
	gchar *guest_path;             /* copies of the configuration's strings */
	gchar *arg;
	SimVmmMemslot *memslots;       /* the configuration's, copied */
	GString *console;
	SimGuestResult result;
	guint64 mmio_scratch;
	gchar *error;
	/* private memory (--vm-type sw-protected): sim/vmm/conv.c */
	GmemFdTable *files;            /* the VMM process's open files: the guest_memfd */
	int gmem_fd;                   /* backs the data region (memslot 1), offset 0; -1: none */
	guint64 gmem_size;
	GmemVma *gmem_vma;             /* in-place: the VMM's shared mapping of it */
	guint8 *private_pages;         /* per page of the data region: private now? (the VMM's
					* own record, as QEMU keeps one: KVM has no GET ioctl) */
	SimPfn *pins;                  /* in-place, per page: the frame the VMM's device model pins
					* (SIM_PFN_NONE: none) */
	guint64 hypercall_exit;        /* KVM_CAP_EXIT_HYPERCALL as enabled */
	guint64 fault_gpa;             /* the last memory fault resolved, and how often it came */
	guint fault_repeats;           /* back in a row */
	gboolean rebooting;            /* between the guest's reboot request and the new VM */
	guint host_ioctls;             /* host events' guest_memfd calls under way */
	guint rebooted;                /* reboots so far */
	guint64 hlt_base;              /* exits.hlt when the current VM booted */
	struct AsiNmis *nmis;          /* nmiN actors' state (sim/vmm/nmi.c), NULL until used */
	GArray *nmi_plan;              /* AsiNmi: a full-system run's --nmi, as planned */
	struct SimPostcopy *postcopy;  /* --postcopy: the page source (sim/vmm/postcopy.h) */
	/* dirty logging: sim/vmm/dirty.c */
	gulong *dirty_bitmap;          /* the last KVM_GET_DIRTY_LOG's bitmap */
	guint64 dirty_npages;
};

/* nmi.c: the nmiN actors of a full-system run's --nmi; freeing the NMI state. */
void sim_vmm_start_nmis(SimVmm *vmm);
void sim_vmm_free_nmis(SimVmm *vmm);

/* dirty.c: --host-events dirtylog */
extern const SimHostDirtyLogOps sim_vmm_dirty_log_ops;

/* vmm.c: the steps of building a machine that a reboot takes again. */
gboolean sim_vmm_create_vm(SimVmm *vmm, const struct kvm_hw_ops *hw_ops, GError **error);
gboolean sim_vmm_set_region(SimVmm *vmm, guint32 slot, guint64 gpa, guint64 size, guint64 hva,
			    GError **error);
gboolean sim_vmm_bind_stacks(SimVmm *vmm, GError **error);
gboolean sim_vmm_write_params(SimVmm *vmm, guint32 extra_flags, GError **error);
gboolean sim_vmm_start_vcpus(SimVmm *vmm, GError **error);

/* conv.c: private memory. Create the guest_memfd of the data region and bind it as memslot 1
 * (instead of anonymous memory alone); enable the MAP_GPA_RANGE exit on every vCPU. */
gboolean sim_vmm_conv_setup(SimVmm *vmm, GError **error);
gboolean sim_vmm_conv_bind(SimVmm *vmm, GError **error);
gboolean sim_vmm_conv_restore(SimVmm *vmm, GError **error);
/* reboot.c: KVMSIM_PORT_REBOOT: stop the vCPUs, then (in the "vmm" actor) destroy the VM and
 * boot a new one on the same guest_memfd inode. */
void sim_vmm_reboot(SimVmm *vmm);
/* KVM_CREATE_GUEST_MEMFD of size bytes with flags, as the VMM's one guest_memfd (in-place: also
 * mapped), the VMM's record of private pages at the file's initial state. */
gboolean sim_vmm_conv_create(SimVmm *vmm, guint64 size, guint64 flags, GError **error);
void sim_vmm_conv_enable_vcpu(SimVmm *vmm, SimVcpu *vcpu);
void sim_vmm_conv_free(SimVmm *vmm);
/* The exits that reach the VMM for private memory. */
guint64 sim_vmm_map_gpa_range(SimVmm *vmm, const guint64 args[4]);
gboolean sim_vmm_memory_fault(SimVmm *vmm, int error, const struct kvm_run *run);
/* What the host-events actor calls for punch and convert. */
extern const SimHostGmemOps sim_vmm_gmem_ops;

/* exits.c: the userspace exit handlers every vCPU is created with. */
extern const SimVcpuExitOps sim_vmm_exit_ops;

#endif
