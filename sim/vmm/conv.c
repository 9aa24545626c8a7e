/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The VMM's side of private memory on a KVM_X86_SW_PROTECTED_VM: the guest_memfd behind the data
 * region, KVM_HC_MAP_GPA_RANGE exits (explicit conversions) and KVM_EXIT_MEMORY_FAULT exits
 * (implicit ones), handled under the design --gmem-conversion names, and the host's punch and
 * convert events. docs/guest-memfd.md compares the two designs.
 *
 *   legacy    (v6.18) KVM_SET_MEMORY_ATTRIBUTES on the VM, then the stale backing is discarded:
 *             MADV_DONTNEED of the shared memory for shared->private, fallocate(PUNCH_HOLE) of
 *             the guest_memfd for private->shared, in the order QEMU's kvm_convert_memory()
 *             (accel/kvm/kvm-all.c, commit c15e5684071d "kvm: handle KVM_EXIT_MEMORY_FAULT",
 *             as guest-memfd.md §2.4 describes it; QEMU's tree not read here) does
 *   in-place  (Ackerley Tng's RFC v3, 2026-03-13) KVM_SET_MEMORY_ATTRIBUTES2 on the guest_memfd
 *             with the PRESERVE content mode: the inode's shareability flips, the page stays;
 *             -EAGAIN (a page still has references) is retried after the VMM drops what it holds
 */
#define G_LOG_DOMAIN "kvmsim-vmm"
#include <errno.h>
#include <string.h>

#include "sim/core/log.h"
#include "sim/vmm/vmm-internal.h"

/* How often an in-place conversion refused with -EAGAIN is tried again (guest-memfd.md §3.5:
 * transient references may refuse it too). */
#define CONV_EAGAIN_TRIES 8

/* How often the same memory fault may come back before the VMM gives up on it (api.rst: a VMM
 * resolving faults should guard against getting the same annotated fault repeatedly). */
#define CONV_FAULT_REPEATS 16

/* Whether this run converts in place (else legacy). */
static gboolean
in_place(const SimVmm *vmm)
{
	return vmm->config.gmem_conversion == SIM_GMEM_CONV_IN_PLACE;
}

/*
 * The guest_memfd offset behind [gpa, gpa + size), which must lie in one memslot bound to it:
 * the data region (memslot 1, offset 0) of a full-system machine, or an exit-level machine's
 * KVM_MEM_GUEST_MEMFD slots. FALSE if it does not (no file range to act on).
 */
static gboolean
gpa_to_offset(const SimVmm *vmm, guint64 gpa, guint64 size, guint64 *offset)
{
	const SimVmmConfig *c = &vmm->config;

	if (!size)
		return FALSE;
	if (!c->exit_level) {
		*offset = gpa - KVMSIM_RAM_GPA;
		return gpa >= KVMSIM_RAM_GPA && *offset < c->mem_size &&
		       size <= c->mem_size - *offset;
	}
	for (guint i = 0; i < c->nr_memslots; i++) {
		const SimVmmMemslot *ms = &c->memslots[i];

		if ((ms->flags & KVM_MEM_GUEST_MEMFD) && gpa >= ms->gpa && gpa - ms->gpa < ms->size &&
		    size <= ms->size - (gpa - ms->gpa)) {
			*offset = ms->gmem_offset + (gpa - ms->gpa);
			return TRUE;
		}
	}
	return FALSE;
}

/* One line of the event log for an ioctl or syscall of the VMM, with its result. */
static void G_GNUC_PRINTF(3, 4)
log_ioctl(SimVmm *vmm, int r, const char *fmt, ...)
{
	va_list ap;
	g_autofree gchar *what = NULL;

	va_start(ap, fmt);
	what = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	sim_log_emit(sim_sched_log(vmm->sched), "sim_vmm_ioctl", "%s: %d", what, r);
}

/* The guest_memfd's PUNCH_HOLE over the file range at offset. */
static int
punch_hole(SimVmm *vmm, guint64 offset, guint64 size)
{
	int r = kvm_gmem_fallocate(vmm->files, vmm->gmem_fd,
				   FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, offset, size);

	log_ioctl(vmm, r, "fallocate PUNCH_HOLE offset 0x%" G_GINT64_MODIFIER "x len 0x%"
		  G_GINT64_MODIFIER "x", offset, size);
	return r;
}

/* The VMM's address of gpa in the memslot's userspace_addr (the shared half, legacy). */
static guint64
gpa_to_hva(const SimVmm *vmm, guint64 gpa)
{
	const SimVmmConfig *c = &vmm->config;

	for (guint i = 0; c->exit_level && i < c->nr_memslots; i++)
		if (gpa >= c->memslots[i].gpa && gpa - c->memslots[i].gpa < c->memslots[i].size)
			return c->memslots[i].hva + (gpa - c->memslots[i].gpa);
	return vmm->ram_hva + (gpa - KVMSIM_RAM_GPA);
}

/* Legacy: set the per-VM attribute, then discard the backing that went stale. */
static int
convert_legacy(SimVmm *vmm, guint64 gpa, guint64 offset, guint64 size, gboolean to_private)
{
	int r = sim_vmm_set_memory_attributes(vmm, gpa, size, to_private);

	if (r)
		return r;
	if (!to_private)
		return punch_hole(vmm, offset, size);
	guint64 hva = gpa_to_hva(vmm, gpa);

	r = sim_mm_dontneed(vmm->mm, hva, size);
	log_ioctl(vmm, r, "madvise MADV_DONTNEED hva 0x%" G_GINT64_MODIFIER "x len 0x%"
		  G_GINT64_MODIFIER "x", hva, size);
	return r;
}

/*
 * In-place: the VMM's device model takes a long-term pin on the first page of a range the guest
 * shares with MAP_GPA_RANGE (its I/O buffer, as vhost or VFIO pin guest memory with
 * FOLL_LONGTERM): the page is faulted in through the VMM's mapping of the guest_memfd and its
 * frame referenced. A later conversion to private meets it (-EAGAIN) and the VMM drops it.
 */
static void
pin_shared_page(SimVmm *vmm, guint64 offset)
{
	guint64 index = offset >> SIM_PAGE_SHIFT;
	SimPfn pfn;
	int r;

	if (!vmm->gmem_vma || vmm->pins[index] != SIM_PFN_NONE)
		return;
	r = kvm_gmem_pin_user_page(vmm->gmem_vma, index, &pfn);
	if (r == 0)
		vmm->pins[index] = pfn;
	log_ioctl(vmm, r, "pin_user_pages offset 0x%" G_GINT64_MODIFIER "x", offset);
}

/* Drop the VMM's pin on the page at offset; FALSE if it held none. */
static gboolean
unpin_page(SimVmm *vmm, guint64 offset)
{
	guint64 index = offset >> SIM_PAGE_SHIFT;

	if (!vmm->pins || index >= vmm->gmem_size >> SIM_PAGE_SHIFT ||
	    vmm->pins[index] == SIM_PFN_NONE)
		return FALSE;
	sim_frame_put(vmm->hm, vmm->pins[index]);
	vmm->pins[index] = SIM_PFN_NONE;
	log_ioctl(vmm, 0, "unpin_user_page offset 0x%" G_GINT64_MODIFIER "x", offset);
	return TRUE;
}

/* In-place: flip the inode's shareability, keeping content; on -EAGAIN drop the VMM's pin on
 * the page error_offset names, if it holds one, and try again (a transient reference may also
 * refuse it: guest-memfd.md §3.5). */
static int
convert_in_place(SimVmm *vmm, guint64 offset, guint64 size, gboolean to_private)
{
	int r = -EAGAIN;

	for (guint tries = 0; tries < CONV_EAGAIN_TRIES && r == -EAGAIN; tries++) {
		struct kvm_memory_attributes2 attrs = {
			.offset = offset,
			.size = size,
			.attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
			.flags = KVM_SET_MEMORY_ATTRIBUTES2_MODE_PRESERVE,
		};

		r = kvm_gmem_set_memory_attributes2(vmm->files, vmm->gmem_fd, &attrs);
		log_ioctl(vmm, r, "KVM_SET_MEMORY_ATTRIBUTES2 offset 0x%" G_GINT64_MODIFIER
			  "x size 0x%" G_GINT64_MODIFIER "x attributes 0x%" G_GINT64_MODIFIER
			  "x flags PRESERVE error_offset 0x%" G_GINT64_MODIFIER "x", attrs.offset,
			  size, attrs.attributes, attrs.error_offset);
		if (r == -EAGAIN) {
			sim_count(&vmm->counters, SIM_CTR_VMM_CONVERT_RETRY);
			unpin_page(vmm, attrs.error_offset);
		}
	}
	return r;
}

/* Convert [gpa, + size) of guest_memfd-backed memory under the run's design; the VMM's record
 * follows. -EINVAL if no bound memslot holds the range. */
static int
convert(SimVmm *vmm, guint64 gpa, guint64 size, gboolean to_private)
{
	guint64 offset;
	int r;

	if (!gpa_to_offset(vmm, gpa, size, &offset))
		return -EINVAL;
	r = in_place(vmm) ? convert_in_place(vmm, offset, size, to_private) :
			    convert_legacy(vmm, gpa, offset, size, to_private);
	if (!r)
		memset(vmm->private_pages + (offset >> SIM_PAGE_SHIFT), to_private,
		       size >> SIM_PAGE_SHIFT);
	return r;
}

/*
 * KVM_EXIT_HYPERCALL for KVM_HC_MAP_GPA_RANGE (KVM has checked alignment, page count and wrap):
 * convert, and put the result in hypercall.ret: 0, or -KVM_EINVAL for attributes beyond the page
 * size and encryption bits, a range outside the data region, or a conversion that failed.
 */
guint64
sim_vmm_map_gpa_range(SimVmm *vmm, const guint64 args[4])
{
	guint64 gpa = args[0], npages = args[1], attrs = args[2];
	const guint64 known = KVM_MAP_GPA_RANGE_ENCRYPTED | KVM_MAP_GPA_RANGE_PAGE_SZ_2M |
			      KVM_MAP_GPA_RANGE_PAGE_SZ_1G;

	if ((attrs & ~known) || npages > vmm->gmem_size >> SIM_PAGE_SHIFT)
		return (guint64)-(gint64)KVM_EINVAL;
	if (convert(vmm, gpa, npages << SIM_PAGE_SHIFT, !!(attrs & KVM_MAP_GPA_RANGE_ENCRYPTED)))
		return (guint64)-(gint64)KVM_EINVAL;
	if (!(attrs & KVM_MAP_GPA_RANGE_ENCRYPTED) && in_place(vmm) && !vmm->config.exit_level)
		pin_shared_page(vmm, gpa - KVMSIM_RAM_GPA);
	return 0;
}

/*
 * KVM_EXIT_MEMORY_FAULT, resolved as QEMU's kvm_handle_memory_fault() does: an implicit
 * conversion of [gpa, + size) to what the access was (flags PRIVATE or not). A fault that keeps
 * coming back, an EHWPOISON, or one outside the data region is not resolved.
 */
gboolean
sim_vmm_memory_fault(SimVmm *vmm, int error, const struct kvm_run *run)
{
	guint64 gpa = run->memory_fault.gpa, size = run->memory_fault.size;
	gboolean to_private = !!(run->memory_fault.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE);

	sim_vmm_log_memory_fault(vmm, error, run);
	if (error != -EFAULT || size % SIM_PAGE_SIZE || gpa % SIM_PAGE_SIZE)
		return FALSE;
	if (gpa == vmm->fault_gpa && ++vmm->fault_repeats >= CONV_FAULT_REPEATS)
		return FALSE;
	if (gpa != vmm->fault_gpa) {
		vmm->fault_gpa = gpa;
		vmm->fault_repeats = 0;
	}
	return convert(vmm, gpa, size, to_private) == 0;
}

/* Pages of the data region the guest has used: a guest_memfd folio, or (legacy) shared memory. */
static gboolean
page_in_use(SimVmm *vmm, guint64 page)
{
	return kvm_gmem_folio_pfn(vmm->files, vmm->gmem_fd, page) != SIM_PFN_NONE ||
	       (!in_place(vmm) &&
		sim_mm_lookup(vmm->mm, vmm->ram_hva + (page << SIM_PAGE_SHIFT)) != SIM_PFN_NONE);
}

void
sim_vmm_log_memory_fault(SimVmm *vmm, int error, const struct kvm_run *run)
{
	sim_log_emit(sim_sched_log(vmm->sched), "sim_vmm_memory_fault",
		     "errno %d flags 0x%" G_GINT64_MODIFIER "x gpa 0x%" G_GINT64_MODIFIER "x size 0x%"
		     G_GINT64_MODIFIER "x", -error, run->memory_fault.flags, run->memory_fault.gpa,
		     run->memory_fault.size);
}

/* A page for a host event: uniform among the pages in use (one draw from rng), 0 if none. */
static guint64
gmem_pick(gpointer data, SimHostEventKind kind, GRand *rng, gboolean *to_private)
{
	SimVmm *vmm = data;
	guint64 nr_pages = vmm->config.mem_size >> SIM_PAGE_SHIFT, used = 0;
	guint64 draw = (guint64)g_rand_int(rng) << 32 | g_rand_int(rng);

	if (vmm->rebooting) /* no VM to act on between the two */
		return 0;
	for (guint64 page = 0; page < nr_pages; page++)
		used += page_in_use(vmm, page);
	if (!used)
		return 0;
	draw %= used;
	for (guint64 page = 0;; page++) {
		if (!page_in_use(vmm, page) || draw--)
			continue;
		*to_private = kind == SIM_HOST_CONVERT && !vmm->private_pages[page];
		return KVMSIM_RAM_GPA + (page << SIM_PAGE_SHIFT);
	}
}

/* A host punch or conversion of the page event->hva names; none while the VM reboots (the
 * reboot waits for one under way: the ioctl holds the VM, as its fd reference would). */
static int
gmem_perform(gpointer data, const SimHostEvent *event)
{
	SimVmm *vmm = data;
	guint64 offset;
	int r;

	if (vmm->rebooting)
		return -EBUSY;
	if (!gpa_to_offset(vmm, event->hva, event->size, &offset))
		return -EINVAL;
	vmm->host_ioctls++;
	if (event->kind == SIM_HOST_PUNCH) {
		sim_count(&vmm->counters, SIM_CTR_HOST_PUNCH);
		r = punch_hole(vmm, offset, event->size);
	} else {
		sim_count(&vmm->counters, SIM_CTR_HOST_CONVERT);
		r = convert(vmm, event->hva, event->size, event->to_private);
	}
	vmm->host_ioctls--;
	return r;
}

const SimHostGmemOps sim_vmm_gmem_ops = {
	.pick = gmem_pick,
	.perform = gmem_perform,
};

int
sim_vmm_gmem_event(SimVmm *vmm, const SimHostEvent *event)
{
	if (vmm->gmem_fd < 0 || !event->hva)
		return -EINVAL;
	return gmem_perform(vmm, event);
}

void
sim_vmm_pin(SimVmm *vmm, guint64 gpa)
{
	guint64 offset;

	if (vmm->pins && gpa_to_offset(vmm, gpa, SIM_PAGE_SIZE, &offset))
		pin_shared_page(vmm, offset);
}

int
sim_vmm_gmem_is_private(const SimVmm *vmm, guint64 offset)
{
	if (vmm->gmem_fd < 0 || offset >= vmm->gmem_size)
		return -1;
	return kvm_gmem_index_is_private(vmm->files, vmm->gmem_fd, offset >> SIM_PAGE_SHIFT);
}

int
sim_vmm_set_memory_attributes(SimVmm *vmm, guint64 gpa, guint64 size, gboolean to_private)
{
	struct kvm_memory_attributes attrs = {
		.address = gpa,
		.size = size,
		.attributes = to_private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};
	int r = kvm_vm_ioctl_set_mem_attributes(vmm->kvm, &attrs);

	log_ioctl(vmm, r, "KVM_SET_MEMORY_ATTRIBUTES address 0x%" G_GINT64_MODIFIER "x size 0x%"
		  G_GINT64_MODIFIER "x attributes 0x%" G_GINT64_MODIFIER "x", gpa, size,
		  attrs.attributes);
	return r;
}

int
sim_vmm_close_gmem(SimVmm *vmm)
{
	int r;

	if (vmm->gmem_vma)
		kvm_gmem_munmap(vmm->gmem_vma);
	vmm->gmem_vma = NULL;
	r = vmm->gmem_fd >= 0 ? gmem_close(vmm->files, vmm->gmem_fd) : -EBADF;
	log_ioctl(vmm, r, "close guest_memfd %d", vmm->gmem_fd);
	vmm->gmem_fd = -1;
	return r;
}

/* KVM_CREATE_GUEST_MEMFD's flags for the run's --gmem-hugepage (PROPOSED, gmem/proposed.h). */
static const guint64 hugetlb_flags[] = {
	[SIM_GMEM_HUGEPAGE_NONE] = 0,
	[SIM_GMEM_HUGEPAGE_2M] = GUEST_MEMFD_FLAG_HUGETLB | GUESTMEM_HUGETLB_FLAG_2MB,
	[SIM_GMEM_HUGEPAGE_1G] = GUEST_MEMFD_FLAG_HUGETLB | GUESTMEM_HUGETLB_FLAG_1GB,
};

/* The bytes of one huge page of that size. */
guint64
sim_vmm_gmem_hugepage_size(SimGmemHugepage size)
{
	static const guint64 bytes[] = {
		[SIM_GMEM_HUGEPAGE_NONE] = 0,
		[SIM_GMEM_HUGEPAGE_2M] = 2ull << 20,
		[SIM_GMEM_HUGEPAGE_1G] = 1ull << 30,
	};

	return bytes[size];
}

/*
 * The data region of a VM with private memory: a guest_memfd of its size (MMAP for in-place, so
 * the slot is KVM_MEMSLOT_GMEM_ONLY and shared faults come from the file too), bound at offset 0
 * by KVM_SET_USER_MEMORY_REGION2 with KVM_MEM_GUEST_MEMFD; userspace_addr is anonymous memory
 * (legacy: the shared half; in-place: a legal address nothing faults). Without INIT_SHARED (not
 * allowed on a private VM type) the file starts private: in-place pages start private, legacy
 * pages start shared (the per-VM attributes are 0).
 */
gboolean
sim_vmm_conv_create(SimVmm *vmm, guint64 size, guint64 flags, GError **error)
{
	guint64 nr_pages = size >> SIM_PAGE_SHIFT;
	SimGmemHugepage huge = vmm->config.gmem_hugepage;
	struct kvm_create_guest_memfd args = {
		.size = size,
		.flags = flags | hugetlb_flags[huge],
	};
	int fd = kvm_gmem_create(vmm->kvm, &args);

	if (fd < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-fd),
			    "KVM_CREATE_GUEST_MEMFD size 0x%" G_GINT64_MODIFIER "x flags 0x%"
			    G_GINT64_MODIFIER "x: %s%s", size, args.flags, g_strerror(-fd),
			    huge && size % sim_vmm_gmem_hugepage_size(huge) ?
				    " (a HugeTLB guest_memfd's size is a whole number of huge pages)" :
				    "");
		return FALSE;
	}
	vmm->gmem_fd = fd;
	vmm->gmem_size = size;
	if (in_place(vmm)) {
		int r = kvm_gmem_mmap(vmm->files, fd, 0, nr_pages, TRUE, &vmm->gmem_vma);

		if (r) {
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r),
				    "mmap of guest_memfd %d: %s", fd, g_strerror(-r));
			return FALSE;
		}
	}
	if (in_place(vmm)) {
		vmm->pins = g_new(SimPfn, nr_pages);
		for (guint64 i = 0; i < nr_pages; i++)
			vmm->pins[i] = SIM_PFN_NONE;
	}
	/* without INIT_SHARED the file starts private: what the VM sees in-place; legacy, the
	 * per-VM attributes start at 0 (shared) whatever the file says */
	vmm->private_pages = g_malloc(nr_pages);
	memset(vmm->private_pages, in_place(vmm) && !(flags & GUEST_MEMFD_FLAG_INIT_SHARED),
	       nr_pages);
	vmm->hypercall_exit = 1ull << KVM_HC_MAP_GPA_RANGE;
	return TRUE;
}

gboolean
sim_vmm_conv_setup(SimVmm *vmm, GError **error)
{
	guint64 size = vmm->config.mem_size;

	if (!sim_vmm_conv_create(vmm, size, in_place(vmm) ? GUEST_MEMFD_FLAG_MMAP : 0, error))
		return FALSE;
	/* --thp: the shared half (legacy) is madvise(MADV_HUGEPAGE)d like any guest RAM */
	return sim_mm_mmap_anon(vmm->mm, size, &vmm->ram_hva, error) &&
	       (!vmm->config.thp || sim_mm_madvise_hugepage(vmm->mm, vmm->ram_hva, size) == 0) &&
	       sim_hostmem_add_window(vmm->hm, KVMSIM_RAM_GPA, size, error) &&
	       sim_vmm_conv_bind(vmm, error);
}

/* KVM_SET_USER_MEMORY_REGION2 of the data region as memslot 1, bound to the guest_memfd. */
gboolean
sim_vmm_conv_bind(SimVmm *vmm, GError **error)
{
	int fd = vmm->gmem_fd;
	struct kvm_userspace_memory_region2 region = {
		.slot = 1,
		.flags = KVM_MEM_GUEST_MEMFD,
		.guest_phys_addr = KVMSIM_RAM_GPA,
		.memory_size = vmm->config.mem_size,
		.userspace_addr = vmm->ram_hva,
		.guest_memfd_offset = 0,
		.guest_memfd = (u32)fd,
	};
	int r = kvm_set_memory_region(vmm->kvm, &region);

	if (r) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r),
			    "KVM_SET_USER_MEMORY_REGION2 slot 1 guest_memfd %d: %s", fd,
			    g_strerror(-r));
		return FALSE;
	}
	return TRUE;
}

/* KVM_ENABLE_CAP(KVM_CAP_EXIT_HYPERCALL) as the VMM enabled it, for a new vCPU. */
void
sim_vmm_conv_enable_vcpu(SimVmm *vmm, SimVcpu *vcpu)
{
	sim_vcpu_set_hypercall_exit(vcpu, vmm->hypercall_exit);
}

/*
 * After a reboot onto a new VM: legacy, the new VM's attributes start shared, so the VMM sets
 * PRIVATE again on every range its record says is private (the guest_memfd kept the content);
 * in-place, the inode kept shareability, and only the VMM's mapping of the new file is made.
 */
gboolean
sim_vmm_conv_restore(SimVmm *vmm, GError **error)
{
	guint64 nr_pages = vmm->gmem_size >> SIM_PAGE_SHIFT;

	if (in_place(vmm)) {
		int r = kvm_gmem_mmap(vmm->files, vmm->gmem_fd, 0, nr_pages, TRUE, &vmm->gmem_vma);

		if (r)
			g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(-r),
				    "mmap of guest_memfd %d: %s", vmm->gmem_fd, g_strerror(-r));
		return r == 0;
	}
	for (guint64 first = 0; first < nr_pages;) {
		guint64 end = first;

		while (end < nr_pages && vmm->private_pages[end] == vmm->private_pages[first])
			end++;
		if (vmm->private_pages[first] &&
		    sim_vmm_set_memory_attributes(vmm, KVMSIM_RAM_GPA + (first << SIM_PAGE_SHIFT),
						  (end - first) << SIM_PAGE_SHIFT, TRUE)) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				    "KVM_SET_MEMORY_ATTRIBUTES on the new VM failed");
			return FALSE;
		}
		first = end;
	}
	return TRUE;
}

/* Drop the VMM's pins and its mapping of the guest_memfd (closing the fd is the file table's). */
void
sim_vmm_conv_free(SimVmm *vmm)
{
	if (vmm->gmem_vma)
		kvm_gmem_munmap(vmm->gmem_vma);
	vmm->gmem_vma = NULL;
	for (guint64 i = 0; vmm->pins && i < vmm->gmem_size >> SIM_PAGE_SHIFT; i++)
		if (vmm->pins[i] != SIM_PFN_NONE)
			sim_frame_put(vmm->hm, vmm->pins[i]);
	g_clear_pointer(&vmm->pins, g_free);
	g_free(vmm->private_pages);
	vmm->private_pages = NULL;
}
