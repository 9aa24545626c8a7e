/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host physical memory.
 *
 * Frames (pfns) are the model's identities for host pages; their storage is an arena reserved with
 * MAP_NORESERVE. A frame has a generation that changes on every allocation. Freeing a frame fills
 * its content with the kernel's POISON_FREE byte (0x6b) and keeps it in a quarantine for a while
 * before it can be handed out again; a frame whose poison was disturbed in quarantine was written
 * after it was freed, which is reported.
 *
 * Guest RAM windows are the buffers the CPU emulator maps at guest-physical addresses. A GPA page
 * *holds* one frame's content at a time (DESIGN.md §3): making a frame resident in a GPA page writes
 * the previous frame's content back to its storage and loads the new frame's. A frame's content is
 * therefore always "wherever it lives", and every accessor here follows it there. Freeing a frame
 * that a GPA page holds poisons that page too, so a vCPU that still reaches it through a stale
 * translation reads poison.
 *
 * The shared zero page (the kernel's empty_zero_page, my_zero_pfn()) is one more frame, outside
 * the arena: always allocated, never freed or poisoned, always zeros. A read of untouched anonymous
 * memory maps it read-only, so many GPA pages may hold it at once; none may write it. A GPA page
 * that stops holding it must still read as zeros, else the corrupt hook reports it.
 */
#ifndef KVMSIM_SIM_CORE_HOSTMEM_H
#define KVMSIM_SIM_CORE_HOSTMEM_H

#include <glib.h>

#include "sim/core/counters.h"

typedef guint64 SimPfn;
#define SIM_PFN_NONE G_MAXUINT64
#define SIM_PAGE_SIZE 4096u
#define SIM_PAGE_SHIFT 12
#define SIM_POISON_FREE 0x6b

/* First pfn handed out: frames look like host memory above 2 GiB, never like gfns. */
#define SIM_PFN_BASE 0x80000ull
/* Default arena: 4 GiB of frames (address space only; pages are committed when touched). */
#define SIM_ARENA_DEFAULT_FRAMES (1ull << 20)
/* The zero page: just below the arena, like a page of the kernel image below RAM. */
#define SIM_ZERO_PFN (SIM_PFN_BASE - 1)
/* Freed frames wait this many further frees before reuse. */
#define SIM_QUARANTINE_DEFAULT 256

typedef struct SimHostMem SimHostMem;

/* Called when a frame is freed (before it is poisoned), e.g. to check no vCPU may still map it. */
typedef void (*SimFrameFreeHook)(gpointer data, SimPfn pfn);
/* Called when a frame's poison was disturbed while it sat in quarantine, or (pfn SIM_ZERO_PFN)
 * when a GPA page that held the zero page no longer reads as zeros. */
typedef void (*SimFrameCorruptHook)(gpointer data, SimPfn pfn, guint offset);

SimHostMem *sim_hostmem_new(guint64 nr_frames, guint quarantine, SimCounters *counters,
			    GError **error);
void sim_hostmem_free(SimHostMem *hm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimHostMem, sim_hostmem_free)

void sim_hostmem_set_hooks(SimHostMem *hm, SimFrameFreeHook on_free, SimFrameCorruptHook on_corrupt,
			   gpointer data);
/* What the ASI model (asi/asi-sim.h, with --asi on) is told about frames: one handed out, one
 * really freed (before it is poisoned), modelled kernel code touching one through the direct
 * map (sim_frame_kernel_access()), and the primary MMU flushing the TLBs of the VMM's mm over
 * npages 4 KiB pages (sim_hostmem_flush_tlb_mm()). Unset: nothing is told, nothing changes. */
typedef struct {
	void (*alloc)(gpointer data, SimPfn pfn);
	void (*free)(gpointer data, SimPfn pfn);
	void (*access)(gpointer data, SimPfn pfn, gboolean write, const char *ip);
	void (*flush_tlb_mm)(gpointer data, guint64 npages);
} SimFrameAsiOps;
void sim_hostmem_set_asi(SimHostMem *hm, const SimFrameAsiOps *ops, gpointer data);
/* Modelled kernel code (named by ip, e.g. "clear_page") reads or writes frame pfn through the
 * direct map: with ASI on, that access walks the current CR3 (asi_host_access()). */
void sim_frame_kernel_access(SimHostMem *hm, SimPfn pfn, gboolean write, const char *ip);
/* flush_tlb_mm_range() of npages 4 KiB pages of the VMM's mm, on every CPU that has it loaded. */
void sim_hostmem_flush_tlb_mm(SimHostMem *hm, guint64 npages);
/* Whose hooks are set (a VM destroyed after another was created must not clear the newer's). */
gpointer sim_hostmem_hook_data(const SimHostMem *hm);

/* A zero-filled frame, or SIM_PFN_NONE when the arena is exhausted. */
SimPfn sim_frame_alloc(SimHostMem *hm);
/* nr (a power of two) contiguous zero-filled frames, the first aligned to nr, or SIM_PFN_NONE:
 * a huge folio's frames. Each is then a frame of its own (freed one by one). */
SimPfn sim_frame_alloc_contig(SimHostMem *hm, guint nr);
/* Drop the mapping's hold on a frame; it is really freed once no reference pins it. Never the
 * zero page. */
void sim_frame_free(SimHostMem *hm, SimPfn pfn);
/* get_page()/put_page() for transient pins such as GUP's. */
void sim_frame_get(SimHostMem *hm, SimPfn pfn);
void sim_frame_put(SimHostMem *hm, SimPfn pfn);
guint sim_frame_refs(const SimHostMem *hm, SimPfn pfn);
gboolean sim_frame_allocated(const SimHostMem *hm, SimPfn pfn);
guint32 sim_frame_gen(const SimHostMem *hm, SimPfn pfn);
/* Where a frame is mapped in a process (page->mapping and ->index in the kernel): the host page
 * and which of that page's frames it is (1 for the first). */
void sim_frame_set_mapping(SimHostMem *hm, SimPfn pfn, guint64 hva, guint32 nth);
gboolean sim_frame_mapping(const SimHostMem *hm, SimPfn pfn, guint64 *out_hva, guint *out_nth);
/* Content accessors; they follow the frame to the GPA page that holds it. Nothing writes or copies
 * the zero page. */
void sim_frame_read(SimHostMem *hm, SimPfn pfn, guint offset, void *buf, guint len);
void sim_frame_write(SimHostMem *hm, SimPfn pfn, guint offset, const void *buf, guint len);
void sim_frame_copy(SimHostMem *hm, SimPfn dst, SimPfn src);

/* Add a guest RAM window [gpa, gpa + size) (page aligned, not overlapping another). */
gboolean sim_hostmem_add_window(SimHostMem *hm, guint64 gpa, guint64 size, GError **error);
guint sim_hostmem_nr_windows(const SimHostMem *hm);
/* Window i: its guest-physical base and size, and the host buffer that backs it. */
guint8 *sim_hostmem_window(const SimHostMem *hm, guint i, guint64 *out_gpa, guint64 *out_size);
/* Host address of the byte at gpa in a window, or NULL. */
guint8 *sim_hostmem_gpa_ptr(const SimHostMem *hm, guint64 gpa);

/* Make the GPA page at gpa hold frame pfn (no-op if it already does). Any number of GPA pages
 * may hold the zero page at once. */
void sim_hostmem_make_resident(SimHostMem *hm, guint64 gpa, SimPfn pfn);
/* The GPA page that holds frame pfn, or G_MAXUINT64 (also for the zero page, held by any number). */
guint64 sim_frame_resident_gpa(const SimHostMem *hm, SimPfn pfn);
/* The frame the GPA page holds, or SIM_PFN_NONE. */
SimPfn sim_hostmem_resident(const SimHostMem *hm, guint64 gpa);

/*
 * Code coherence (a CPU emulator keeps translations of guest code that a host-side write does
 * not drop): a GPA page a CPU ran code from is flagged for good (sim_hostmem_note_code()); every
 * change of such a page's bytes made here (a frame with other bytes loaded, a resident frame
 * written or copied into) or reported (sim_hostmem_content_changed(), for bytes written around
 * the frame accessors) calls the code hook with the page. The poison of a freed frame is not a
 * change by itself (no vCPU reaches it any more): the page's bytes from before are kept until
 * it holds a frame again, and a migration's copy with the same bytes costs a compare. Pages
 * never flagged cost a bit test.
 */
typedef void (*SimCodeChangedHook)(gpointer data, guint64 gpa, guint64 size);
void sim_hostmem_set_code_hook(SimHostMem *hm, SimCodeChangedHook hook, gpointer data);
void sim_hostmem_note_code(SimHostMem *hm, guint64 gpa);
void sim_hostmem_content_changed(SimHostMem *hm, guint64 gpa, guint64 size);

#endif
