/* SPDX-License-Identifier: GPL-2.0-only */
/* Building the machine and the run; the userspace exit handlers are exits.c's. */
#define G_LOG_DOMAIN "kvmsim-vmm"
#include "sim/vmm/vmm.h"

#include <string.h>

#include "mmu/mmu.h"
#include "mmu/async_pf.h"
#include "sim/core/log.h"
#include "sim/cpu/vcpu.h"
#include "sim/vmm/image.h"
#include "sim/vmm/postcopy.h"
#include "sim/vmm/vmm-internal.h"
#include "workloads/abi.h"
#include "workloads/workloads.h"


#define SIM_VMM_ERROR (sim_vmm_error_quark())
static GQuark sim_vmm_error_quark(void);
G_DEFINE_QUARK(kvmsim-vmm-error-quark, sim_vmm_error)

const char *
sim_guest_result_name(SimGuestResult result)
{
	static const char *const names[] = { "none", "pass", "fail" };

	return names[result];
}

/* KVM_SET_USER_MEMORY_REGION2 of [gpa, gpa + size), inside a RAM window, onto the VMM's memory
 * at hva. */
gboolean
sim_vmm_set_region(SimVmm *vmm, guint32 slot, guint64 gpa, guint64 size, guint64 hva,
		   GError **error)
{
	struct kvm_userspace_memory_region2 region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};
	int r = kvm_set_memory_region(vmm->kvm, &region);

	if (r) {
		g_set_error(error, SIM_VMM_ERROR, 0, "KVM_SET_USER_MEMORY_REGION2 slot %u: %s", slot,
			    g_strerror(-r));
		return FALSE;
	}
	return TRUE;
}

/* Anonymous memory for a memslot, registered with KVM_SET_USER_MEMORY_REGION2. */
static gboolean
add_memslot(SimVmm *vmm, guint32 slot, guint64 gpa, guint64 size, guint64 *out_hva,
	    GError **error)
{
	return sim_mm_mmap_anon(vmm->mm, size, out_hva, error) &&
	       (!vmm->config.thp || sim_mm_madvise_hugepage(vmm->mm, *out_hva, size) == 0) &&
	       sim_hostmem_add_window(vmm->hm, gpa, size, error) &&
	       sim_vmm_set_region(vmm, slot, gpa, size, *out_hva, error);
}

/*
 * Post-copy: the memslot's memory is remote (sim/vmm/postcopy.h). The mapping is registered with
 * userfaultfd before KVM_SET_USER_MEMORY_REGION2, which carries the mechanism's flags (and the
 * KVM Userfault bitmap). An exit-level slot is mapped at hva already (hva != 0).
 */
static gboolean
add_remote_memslot(SimVmm *vmm, guint32 slot, guint32 flags, guint64 gpa, guint64 size,
		   guint64 *hva, GError **error)
{
	const SimPostcopyMech *mech = sim_postcopy_mech_lookup(vmm->config.postcopy);

	if (!mech) {
		g_set_error(error, SIM_VMM_ERROR, 0, "unknown post-copy mechanism '%s'",
			    vmm->config.postcopy);
		return FALSE;
	}
	if (!*hva && (!sim_mm_mmap_anon(vmm->mm, size, hva, error) ||
		      (vmm->config.thp && sim_mm_madvise_hugepage(vmm->mm, *hva, size) != 0) ||
		      !sim_hostmem_add_window(vmm->hm, gpa, size, error)))
		return FALSE;
	vmm->postcopy = sim_postcopy_new(mech, vmm->config.postcopy_fetch_steps, vmm->config.seed,
					 vmm->sched, vmm->mm, vmm->kvm, &vmm->counters, *hva, gpa,
					 size, error);
	if (!vmm->postcopy)
		return FALSE;
	struct kvm_userspace_memory_region2 region = {
		.slot = slot,
		.flags = flags | sim_postcopy_slot_flags(vmm->postcopy),
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = *hva,
		.userfault_bitmap = sim_postcopy_bitmap(vmm->postcopy),
	};
	int r = kvm_set_memory_region(vmm->kvm, &region);

	if (r) {
		g_set_error(error, SIM_VMM_ERROR, 0, "KVM_SET_USER_MEMORY_REGION2 slot %u: %s", slot,
			    g_strerror(-r));
		return FALSE;
	}
	return TRUE;
}

struct SimPostcopy *
sim_vmm_postcopy(const SimVmm *vmm)
{
	return vmm->postcopy;
}

void
sim_vmm_postcopy_start(SimVmm *vmm, SimWaitFn ended, gpointer data)
{
	if (vmm->postcopy)
		sim_postcopy_start(vmm->postcopy, vmm->sched, ended, data);
}

gboolean
sim_vmm_postcopy_check(SimVmm *vmm)
{
	return !vmm->postcopy || sim_sched_failed(vmm->sched) ||
	       (sim_postcopy_check(vmm->postcopy) && kvm_async_pf_check(vmm->kvm));
}

/* The step hook of a post-copy run that nothing else checks at every step (kvmsim run). */
static void
postcopy_step(SimSched *sched, const char *point, gpointer data)
{
	sim_vmm_postcopy_check(data);
}

/* The vCPUs' stacks: one mapping, one RAM window (so one Unicorn region per engine), and a
 * memslot per stack that leaves out the guard below it, so a stack overflow reaches no memory and
 * is reported instead of corrupting a neighbour (each vCPU is told where the guards are). */
static gboolean
add_stacks(SimVmm *vmm, GError **error)
{
	const guint64 stride = KVMSIM_STACK_GUARD + KVMSIM_STACK_SIZE;

	return sim_mm_mmap_anon(vmm->mm, vmm->config.nr_vcpus * stride, &vmm->stacks_hva, error) &&
	       sim_hostmem_add_window(vmm->hm, KVMSIM_STACKS_GPA, vmm->config.nr_vcpus * stride,
				      error) &&
	       sim_vmm_bind_stacks(vmm, error);
}

/* A memslot per vCPU stack, leaving out the guard below it. */
gboolean
sim_vmm_bind_stacks(SimVmm *vmm, GError **error)
{
	const guint64 stride = KVMSIM_STACK_GUARD + KVMSIM_STACK_SIZE;

	for (guint i = 0; i < vmm->config.nr_vcpus; i++)
		if (!sim_vmm_set_region(vmm, 2 + i, KVMSIM_STACK_GPA(i), KVMSIM_STACK_SIZE,
				vmm->stacks_hva + i * stride + KVMSIM_STACK_GUARD, error))
			return FALSE;
	return TRUE;
}

/* Write bytes into guest memory as the VMM does: through its own mapping, faulting pages in. */
static gboolean
vmm_write_guest(SimVmm *vmm, guint64 hva, const void *buf, gsize len, GError **error)
{
	const guint8 *src = buf;

	while (len) {
		guint off = (guint)(hva & (SIM_PAGE_SIZE - 1));
		guint chunk = (guint)MIN(len, SIM_PAGE_SIZE - off);
		SimPfn pfn;
		gboolean writable;

		if (sim_mm_hva_to_pfn(vmm->mm, hva, TRUE, &pfn, &writable) < 0) {
			g_set_error(error, SIM_VMM_ERROR, 0, "cannot write guest memory at hva 0x%"
				    G_GINT64_MODIFIER "x", hva);
			return FALSE;
		}
		sim_frame_write(vmm->hm, pfn, off, src, chunk);
		sim_frame_put(vmm->hm, pfn);
		hva += chunk;
		src += chunk;
		len -= chunk;
	}
	return TRUE;
}

/* What the guest is told at boot besides its parameters: a recorded trace keeps it. */
/* The post-copy mechanism offers the guest async page faults (sim/vmm/apf-user.c). */
static gboolean
config_async_pf(const SimVmmConfig *config)
{
	const SimPostcopyMech *mech = sim_postcopy_mech_lookup(config->postcopy);

	return mech && mech->apf_mode;
}

guint32
sim_vmm_config_boot_flags(const SimVmmConfig *config)
{
	gboolean private_mem = config->vm_type == SIM_VM_SW_PROTECTED;
	/* a punch, or a legacy conversion (the old backing discarded), reads zeros next time, as
	 * a dropped page does */
	gboolean host_zeroes = private_mem &&
			       (config->host_events.count[SIM_HOST_PUNCH] ||
				(config->host_events.count[SIM_HOST_CONVERT] &&
				 config->gmem_conversion != SIM_GMEM_CONV_IN_PLACE));

	return config->boot_flags |
	       (config->host_events.count[SIM_HOST_DONTNEED] || host_zeroes ?
			KVMSIM_BOOT_ZERO_OK : 0) |
	       (private_mem ? KVMSIM_BOOT_PRIVATE_MEM : 0) |
	       (private_mem && config->gmem_conversion == SIM_GMEM_CONV_IN_PLACE ?
			KVMSIM_BOOT_CONVERT_KEEPS : 0) |
	       (private_mem && (config->host_events.count[SIM_HOST_PUNCH] ||
				config->host_events.count[SIM_HOST_CONVERT]) ?
			KVMSIM_BOOT_HOST_CONVERTS : 0) |
	       (config_async_pf(config) ? KVMSIM_BOOT_ASYNC_PF : 0);
}

/* The boot parameters (a fresh copy: barrier and scratch at zero), with extra boot flags. */
gboolean
sim_vmm_write_params(SimVmm *vmm, guint32 extra_flags, GError **error)
{
	const char *arg = vmm->config.arg ? vmm->config.arg : "";
	struct kvmsim_boot_params params = {
		.magic = KVMSIM_BOOT_MAGIC,
		.nr_vcpus = vmm->config.nr_vcpus,
		.flags = sim_vmm_config_boot_flags(&vmm->config) | extra_flags,
		.ram_gpa = KVMSIM_RAM_GPA,
		.ram_size = vmm->config.mem_size,
		.seed = vmm->config.seed,
		.arg_gpa = KVMSIM_ARG_GPA,
		.arg_size = strlen(arg),
	};

	memcpy(params.params, vmm->config.params, sizeof(params.params));
	return vmm_write_guest(vmm, vmm->boot_hva + KVMSIM_BOOT_PARAMS_GPA, &params,
			       sizeof(params), error);
}

/* Boot parameters, the --arg string and the image, written through the VMM's own mapping. */
static gboolean
load_guest(SimVmm *vmm, GError **error)
{
	const char *arg = vmm->config.arg ? vmm->config.arg : "";

	if (!sim_vmm_write_params(vmm, 0, error) ||
	    !vmm_write_guest(vmm, vmm->boot_hva + KVMSIM_ARG_GPA, arg, strlen(arg) + 1, error))
		return FALSE;
	for (guint i = 0; i < vmm->layout.nr_segments; i++) {
		const SimImageSegment *seg = &vmm->layout.segments[i];

		if (seg->file_size && !vmm_write_guest(vmm, vmm->boot_hva + seg->gpa, seg->bytes,
						       seg->file_size, error))
			return FALSE;
	}
	return TRUE;
}

/* The "hardware" of an exit-level machine: no CPU, so no TLB to flush and no CR3 to load. */
static void
no_cpu_flush_tlb_all(struct kvm_vcpu *vcpu)
{
}

static void
no_cpu_load_mmu_pgd(struct kvm_vcpu *vcpu, u64 root_pa)
{
}

static const struct kvm_hw_ops no_cpu_hw_ops = {
	.flush_tlb_all = no_cpu_flush_tlb_all,
	.load_mmu_pgd = no_cpu_load_mmu_pgd,
};

/* Host memory, the page-table pool, the VMM's mm and the VM: what both kinds of machine have. */
static gboolean
build_host(SimVmm *vmm, guint64 guest_bytes, const struct kvm_hw_ops *hw_ops, GError **error)
{
	const SimVmmConfig *config = &vmm->config;

	vmm->hm = sim_hostmem_new(SIM_ARENA_DEFAULT_FRAMES, SIM_QUARANTINE_DEFAULT, &vmm->counters,
				  error);
	if (!vmm->hm)
		return FALSE;
	/* leaf tables for every 2 MiB, upper levels, and the vCPUs' caches */
	guint pt_pages = (guint)(guest_bytes / SIM_PAGE_SIZE / 512 + 64 + config->nr_vcpus * 48);

	vmm->pt_pool = sim_ptpool_new(pt_pages, error);
	if (!vmm->pt_pool)
		return FALSE;
	if (config->asi.on) {
		guint64 pt_pa, pt_size;

		vmm->asi = asi_sim_new(&config->asi, vmm->sched, vmm->hm, config->nr_vcpus,
				       config->mutations);
		sim_ptpool_region(vmm->pt_pool, &pt_pa, &pt_size);
		asi_sim_track_tables(vmm->asi, pt_pa, pt_size);
	}
	vmm->mm = sim_mm_new(vmm->sched, vmm->hm, &vmm->counters);
	sim_mm_set_mutations(vmm->mm, config->mutations);
	if (config->vm_type != SIM_VM_DEFAULT)
		vmm->files = gmem_fdtable_new();
	return sim_vmm_create_vm(vmm, hw_ops, error);
}

/* KVM_CREATE_VM on the machine's host: the default type, or a SW-protected VM with the in-place
 * design's attributes kept by the guest_memfd (RFC v3's vm_memory_attributes=0) and the VMM's
 * file table. */
gboolean
sim_vmm_create_vm(SimVmm *vmm, const struct kvm_hw_ops *hw_ops, GError **error)
{
	const SimVmmConfig *config = &vmm->config;

	if (config->vm_type == SIM_VM_DEFAULT) {
		vmm->kvm = kvm_create_vm(vmm->sched, vmm->hm, vmm->pt_pool, vmm->mm,
					 &vmm->counters, hw_ops);
		vmm->kvm->mutations = config->mutations;
		vmm->kvm->nx_huge_pages = config->nx_huge_pages;
	vmm->kvm->hv_tlb_flush = config->hv_tlb_flush;
		vmm->kvm->ept_ad = config->ept_ad;
		return TRUE;
	}
	struct kvm_create_vm_args args = {
		.type = KVM_X86_SW_PROTECTED_VM,
		.gmem_attributes = config->gmem_conversion == SIM_GMEM_CONV_IN_PLACE,
		.files = vmm->files,
	};
	int r = kvm_create_vm_with(vmm->sched, vmm->hm, vmm->pt_pool, vmm->mm, &vmm->counters,
				   hw_ops, &args, &vmm->kvm);

	if (r) {
		g_set_error(error, SIM_VMM_ERROR, 0, "KVM_CREATE_VM type %lu: %s", args.type,
			    g_strerror(-r));
		return FALSE;
	}
	vmm->kvm->mutations = config->mutations;
	vmm->kvm->nx_huge_pages = config->nx_huge_pages;
	vmm->kvm->hv_tlb_flush = config->hv_tlb_flush;
	vmm->kvm->ept_ad = config->ept_ad;
	/* a kernel with the PROPOSED HugeTLB guest_memfd series (kvm->gmem_hugetlb, mmu/mmu.h) */
	vmm->kvm->gmem_hugetlb = config->gmem_hugepage != SIM_GMEM_HUGEPAGE_NONE;
	return TRUE;
}

gboolean
sim_vmm_parse_regions(const char *spec, guint *out, GError **error)
{
	static const char *const names[] = { "image", "stacks", "data" };
	g_auto(GStrv) items = g_strsplit(spec, ",", -1);

	*out = 0;
	for (guint i = 0; items[i]; i++) {
		guint k = 0;

		while (k < G_N_ELEMENTS(names) && strcmp(items[i], names[k]) != 0)
			k++;
		if (k == G_N_ELEMENTS(names)) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
				    "'%s' is not a region (image, stacks, data)", items[i]);
			return FALSE;
		}
		*out |= 1u << k;
	}
	if (!*out) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "names no region (image, stacks, data)");
		return FALSE;
	}
	return TRUE;
}

/* Has the guest ended: reported its result, or every vCPU halted or failed? */
static gboolean
guest_ended(gpointer data)
{
	SimVmm *vmm = data;
	guint stopped = (guint)(vmm->counters.v[SIM_CTR_EXITS_HLT] - vmm->hlt_base);

	if (vmm->result != SIM_GUEST_NONE)
		return TRUE;
	if (vmm->rebooting)
		return FALSE;
	for (guint i = 0; i < vmm->config.nr_vcpus; i++)
		stopped += vmm->vcpus[i] && sim_vcpu_error(vmm->vcpus[i]) != NULL;
	return stopped >= vmm->config.nr_vcpus;
}

/* The vCPUs of a full-system machine, on the VM, each at the image's entry on its own stack,
 * started on the scheduler. */
gboolean
sim_vmm_start_vcpus(SimVmm *vmm, GError **error)
{
	const SimVmmConfig *config = &vmm->config;

	for (guint i = 0; i < config->nr_vcpus; i++) {
		SimVcpu *vcpu = sim_vcpu_new(vmm->kvm, (int)i, &sim_vmm_exit_ops, vmm, error);

		if (!vcpu)
			return FALSE;
		vmm->vcpus[i] = vcpu;
		sim_vcpu_set_asi(vcpu, vmm->asi);
		if (vmm->files)
			sim_vmm_conv_enable_vcpu(vmm, vcpu);
		if (!sim_vcpu_map_mmio(vcpu, KVMSIM_MMIO_GPA, KVMSIM_MMIO_SIZE, error))
			return FALSE;
		sim_vcpu_set_guards(vcpu, KVMSIM_STACKS_GPA, KVMSIM_STACK_GUARD + KVMSIM_STACK_SIZE,
				    KVMSIM_STACK_GUARD, config->nr_vcpus);
		sim_vcpu_set_entry(vcpu, vmm->layout.entry, KVMSIM_STACK_GPA(i) + KVMSIM_STACK_SIZE,
				   i, KVMSIM_BOOT_PARAMS_GPA);
		sim_vcpu_set_limits(vcpu, config->quantum, config->max_insns);
		sim_vcpu_start(vcpu, vmm->sched);
	}
	return TRUE;
}

/* A machine whose vCPUs run the guest on the CPU emulator. */
static gboolean
build_full_system(SimVmm *vmm, GError **error)
{
	const SimVmmConfig *config = &vmm->config;

	if (!build_host(vmm, KVMSIM_BOOT_SIZE + config->mem_size +
				     config->nr_vcpus * KVMSIM_STACK_SIZE, &sim_vcpu_hw_ops, error))
		return FALSE;
	if (!add_memslot(vmm, 0, KVMSIM_BOOT_GPA, KVMSIM_BOOT_SIZE, &vmm->boot_hva, error) ||
	    !(vmm->files ? sim_vmm_conv_setup(vmm, error) :
	      config->postcopy ? add_remote_memslot(vmm, 1, 0, KVMSIM_RAM_GPA, config->mem_size,
						    &vmm->ram_hva, error) :
			   add_memslot(vmm, 1, KVMSIM_RAM_GPA, config->mem_size, &vmm->ram_hva,
				       error)) ||
	    !add_stacks(vmm, error) || !load_guest(vmm, error) || !sim_vmm_start_vcpus(vmm, error))
		return FALSE;
	if (vmm->postcopy) {
		sim_vmm_postcopy_start(vmm, guest_ended, vmm);
		sim_sched_set_step_hook(vmm->sched, postcopy_step, vmm);
	}
	guint total = sim_host_events_total(&config->host_events);

	if (total) {
		/* spread the events over ~8 steps per page of the data region: a touch run takes
		 * more than that (~11 with 2 vCPUs), so the events land while the guest works */
		guint64 span = config->mem_size / SIM_PAGE_SIZE * 8;
		guint64 interval = config->host_event_interval ? config->host_event_interval :
								  span / total;
		guint regions = config->host_event_regions ? config->host_event_regions : ~0u;
		/* all of the VMM's guest memory (or the regions asked for); only the data region
		 * may be dropped, and the guest is told so (KVMSIM_BOOT_ZERO_OK): zeros in its
		 * code, data or stack would break any program */
		SimHostEventTarget targets[3];
		guint n = 0;

		if (regions & SIM_VMM_REGION_IMAGE)
			targets[n++] = (SimHostEventTarget){ vmm->boot_hva, FALSE };
		if (regions & SIM_VMM_REGION_STACKS)
			targets[n++] = (SimHostEventTarget){ vmm->stacks_hva, FALSE };
		/* in-place, the data region's memory is the guest_memfd: punch and convert act
		 * there, the mm events have nothing of it to act on */
		if ((regions & SIM_VMM_REGION_DATA) &&
		    !(vmm->files && config->gmem_conversion == SIM_GMEM_CONV_IN_PLACE))
			targets[n++] = (SimHostEventTarget){ vmm->ram_hva, TRUE };
		vmm->host_events = sim_host_events_new(vmm->mm, config->seed, &config->host_events,
						       targets, n, interval, guest_ended, vmm);
		if (vmm->files && (regions & SIM_VMM_REGION_DATA))
			sim_host_events_set_gmem(vmm->host_events, &sim_vmm_gmem_ops, vmm);
		sim_host_events_set_dirty_log(vmm->host_events, &sim_vmm_dirty_log_ops, vmm);
		sim_host_events_start(vmm->host_events, vmm->sched);
	}
	sim_vmm_start_nmis(vmm);
	return TRUE;
}

/* A machine of the MMU model alone: memslots and vCPUs, no CPU emulation, no guest. */
static gboolean
build_exit_level(SimVmm *vmm, GError **error)
{
	const SimVmmConfig *config = &vmm->config;
	guint64 bytes = 0;

	for (guint i = 0; i < config->nr_windows; i++)
		bytes += config->windows[i].size;
	if (!build_host(vmm, bytes, &no_cpu_hw_ops, error))
		return FALSE;
	for (guint i = 0; i < config->nr_windows; i++)
		if (!sim_hostmem_add_window(vmm->hm, config->windows[i].gpa, config->windows[i].size,
					    error))
			return FALSE;
	if (config->gmem_size &&
	    !sim_vmm_conv_create(vmm, config->gmem_size, config->gmem_flags, error))
		return FALSE;
	for (guint i = 0; i < config->nr_memslots; i++) {
		const SimVmmMemslot *ms = &config->memslots[i];
		guint64 hva = ms->hva;

		if (!sim_mm_mmap_anon_at(vmm->mm, ms->hva, ms->size, error))
			return FALSE;
		if (config->thp)
			sim_mm_madvise_hugepage(vmm->mm, ms->hva, ms->size);
		if (i == 0 && config->postcopy) {
			if (!add_remote_memslot(vmm, ms->id, ms->flags & ~KVM_MEM_EXIT_ON_MISSING,
						ms->gpa, ms->size, &hva, error))
				return FALSE;
			continue;
		}
		struct kvm_userspace_memory_region2 region = {
			.slot = ms->id,
			.flags = ms->flags,
			.guest_phys_addr = ms->gpa,
			.memory_size = ms->size,
			.userspace_addr = ms->hva,
			.guest_memfd_offset = ms->gmem_offset,
			.guest_memfd = (u32)vmm->gmem_fd,
		};
		int r = kvm_set_memory_region(vmm->kvm, &region);

		if (r) {
			g_set_error(error, SIM_VMM_ERROR, 0, "KVM_SET_USER_MEMORY_REGION2 slot %u: %s",
				    ms->id, g_strerror(-r));
			return FALSE;
		}
	}
	for (guint i = 0; i < config->nr_vcpus; i++)
		kvm_mmu_load(kvm_vm_ioctl_create_vcpu(vmm->kvm, (int)i, NULL));
	return TRUE;
}

guint64
sim_vmm_default_max_insns(guint64 mem_size)
{
	return (1ull << 32) + 32 * mem_size;
}

/* Build the machine the configuration describes (full-system or exit-level). */
SimVmm *
sim_vmm_new(const SimVmmConfig *config, SimSched *sched, GError **error)
{
	const KvmsimWorkload *named = kvmsim_workload_lookup(config->workload);
	/* a guest offered async PF runs the program's build with the async PF runtime */
	g_autofree gchar *apf_name = g_strconcat(config->workload ? config->workload : "", "+apf",
						 NULL);

	if (config_async_pf(config) && kvmsim_workload_lookup(apf_name))
		named = kvmsim_workload_lookup(apf_name);
	KvmsimWorkload given = { config->workload, "", config->image, config->image_size };
	const KvmsimWorkload *wl = config->image ? &given : named;

	if (!config->exit_level && !wl) {
		g_set_error(error, SIM_VMM_ERROR, 0, "unknown workload '%s' (see kvmsim list)",
			    config->workload);
		return NULL;
	}
	g_autoptr(SimVmm) vmm = g_new0(SimVmm, 1);

	vmm->config = *config;
	/* a copy of the memslots: conversions map gpas to guest_memfd offsets through them */
	vmm->memslots = g_memdup2(config->memslots, config->nr_memslots * sizeof(SimVmmMemslot));
	vmm->config.memslots = vmm->memslots;
	if (!config->exit_level) {
		vmm->image = g_bytes_new(wl->image, wl->image_size);
		vmm->config.image = g_bytes_get_data(vmm->image, &vmm->config.image_size);
		vmm->config.guest_path = vmm->guest_path = g_strdup(config->guest_path);
		vmm->config.arg = vmm->arg = g_strdup(config->arg);
		if (!sim_image_layout(vmm->config.image, vmm->config.image_size, &vmm->layout,
				      error)) {
			g_prefix_error(error, "%s: ", config->guest_path ? config->guest_path :
									   config->workload);
			return NULL;
		}
		vmm->image_sha256 = sim_image_sha256(vmm->config.image, vmm->config.image_size);
	}
	if (!vmm->config.max_insns)
		vmm->config.max_insns = sim_vmm_default_max_insns(config->mem_size);
	vmm->sched = sched;
	vmm->gmem_fd = -1;
	vmm->console = g_string_new(NULL);
	if (config->exit_level ? !build_exit_level(vmm, error) :
				 !build_full_system(vmm, error))
		return NULL;
	/* the caller's windows were needed only to build */
	vmm->config.windows = NULL;
	vmm->config.nr_windows = 0;
	return g_steal_pointer(&vmm);
}

/* Tear the machine down in the reverse order of its making. */
void
sim_vmm_free(SimVmm *vmm)
{
	if (!vmm)
		return;
	for (guint i = 0; i < KVMSIM_MAX_VCPUS; i++)
		sim_vcpu_free(vmm->vcpus[i]);
	sim_host_events_free(vmm->host_events);
	sim_vmm_free_nmis(vmm);
	sim_postcopy_free(vmm->postcopy);
	if (vmm->files && vmm->kvm) {
		/* the guest_memfd's release drops its hold on the VM, the VM fd's close the last */
		sim_vmm_conv_free(vmm);
		gmem_fdtable_free(vmm->files);
		kvm_put_kvm(vmm->kvm);
	} else {
		if (vmm->files)
			gmem_fdtable_free(vmm->files);
		kvm_destroy_vm(vmm->kvm);
	}
	sim_mm_free(vmm->mm);
	/* after everything that frees frames, before the frames */
	asi_sim_free(vmm->asi);
	sim_ptpool_free(vmm->pt_pool);
	sim_hostmem_free(vmm->hm);
	if (vmm->console)
		g_string_free(vmm->console, TRUE);
	g_free(vmm->error);
	g_free(vmm->image_sha256);
	if (vmm->image)
		g_bytes_unref(vmm->image);
	g_free(vmm->guest_path);
	g_free(vmm->arg);
	g_free(vmm->memslots);
	g_free(vmm->dirty_bitmap);
	g_free(vmm);
}

/* Run the scheduler, then settle why the run failed, if it did. */
gboolean
sim_vmm_run(SimVmm *vmm, GError **error)
{
	if (!sim_sched_run(vmm->sched, error))
		return FALSE;
	if (vmm->asi && !sim_sched_failed(vmm->sched))
		asi_sim_finish(vmm->asi);
	for (guint i = 0; i < vmm->config.nr_vcpus && !vmm->error; i++)
		if (vmm->vcpus[i] && sim_vcpu_error(vmm->vcpus[i]))
			vmm->error = g_strdup_printf("vcpu%u: %s", i, sim_vcpu_error(vmm->vcpus[i]));
	if (!vmm->error && sim_sched_failed(vmm->sched))
		vmm->error = g_strdup(sim_sched_failure(vmm->sched));
	if (!vmm->error && vmm->result == SIM_GUEST_NONE && !vmm->config.exit_level)
		vmm->error = g_strdup("every vCPU halted without the guest reporting a result");
	return TRUE;
}

SimGuestResult
sim_vmm_guest_result(const SimVmm *vmm)
{
	return vmm->error ? SIM_GUEST_FAIL : vmm->result;
}

const char *
sim_vmm_image_sha256(const SimVmm *vmm)
{
	return vmm->image_sha256;
}

const char *
sim_vmm_console(const SimVmm *vmm)
{
	return vmm->console->str;
}

const char *
sim_vmm_error(const SimVmm *vmm)
{
	return vmm->error;
}

const SimCounters *
sim_vmm_counters(const SimVmm *vmm)
{
	return &vmm->counters;
}

const SimVmmConfig *
sim_vmm_config(const SimVmm *vmm)
{
	return &vmm->config;
}

SimMm *
sim_vmm_mm(const SimVmm *vmm)
{
	return vmm->mm;
}

guint64
sim_vmm_ram_hva(const SimVmm *vmm)
{
	return vmm->ram_hva;
}

gboolean
sim_vmm_write_ram(SimVmm *vmm, guint64 offset, const void *buf, gsize len, GError **error)
{
	if (offset > vmm->config.mem_size || len > vmm->config.mem_size - offset) {
		g_set_error(error, SIM_VMM_ERROR, 0, "write beyond the data region");
		return FALSE;
	}
	return vmm_write_guest(vmm, vmm->ram_hva + offset, buf, len, error);
}

struct kvm *
sim_vmm_kvm(const SimVmm *vmm)
{
	return vmm->kvm;
}

/* The current memslots, as a trace records them. */
guint
sim_vmm_memslots(const SimVmm *vmm, SimVmmMemslot *out, guint max)
{
	struct kvm_memslots *slots = vmm->kvm->memslots;
	guint n = 0;

	for (int i = 0; i < slots->used_slots && n < max; i++, n++) {
		out[n].id = slots->slots[i]->id;
		out[n].gpa = slots->slots[i]->base_gfn << SIM_PAGE_SHIFT;
		out[n].size = slots->slots[i]->npages << SIM_PAGE_SHIFT;
		out[n].hva = slots->slots[i]->userspace_addr;
		/* the uAPI flags: KVM_MEMSLOT_* are the kernel's own */
		out[n].flags = slots->slots[i]->flags & 0xffff;
		out[n].gmem_offset = slots->slots[i]->gmem.pgoff << SIM_PAGE_SHIFT;
	}
	return n;
}

AsiSim *
sim_vmm_asi(const SimVmm *vmm)
{
	return vmm->asi;
}

const SimHostEvents *
sim_vmm_host_events(const SimVmm *vmm)
{
	return vmm->host_events;
}
