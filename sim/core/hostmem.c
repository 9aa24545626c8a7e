/* SPDX-License-Identifier: GPL-2.0-only */
/* Frames with generations, poison and quarantine; guest RAM windows and frame residency. */
#include "sim/core/hostmem.h"

#include <string.h>
#include <sys/mman.h>

typedef enum {
	FRAME_NEVER_USED = 0,
	FRAME_ALLOCATED,
	FRAME_FREE,
} FrameState;

typedef struct {
	guint32 gen;
	guint8 state;
	guint8 zero;          /* content is all zero; storage not written yet */
	guint8 poison;        /* freed, content is all POISON_FREE; storage not written since */
	guint8 free_on_put;   /* freed while pinned: free when the last reference goes */
	guint32 refs;         /* transient pins (GUP) */
	guint32 map_nth;      /* which frame of the host page at map_hva it is; 0: never mapped */
	guint64 map_hva;
	guint64 resident_gpa; /* GPA page holding the content, or G_MAXUINT64 */
} SimFrame;

/* A FIFO of frame indexes in a ring that doubles when full: once it has grown to what a run
 * needs, pushing and popping allocate nothing (a GQueue allocates a node per push). */
typedef struct {
	guint64 *slot;
	guint64 cap;  /* slots, 0 or a power of two */
	guint64 head; /* slot of the oldest index */
	guint64 len;
} FrameFifo;

typedef struct {
	guint64 gpa;
	guint64 size;
	guint8 *buf;
	SimPfn *holder;  /* per page: the frame it holds, HOLDER_NONE if none */
	guint8 *touched; /* per page: PAGE_TOUCHED, PAGE_CODE, PAGE_PARKED */
} RamWindow;

struct SimHostMem {
	guint64 nr_frames;
	guint8 *arena;
	SimFrame *frames;
	SimFrame *zero_frame;  /* SIM_ZERO_PFN: content is always zeros, so it has no storage */
	guint64 never_used;  /* frames [never_used, nr_frames) were never handed out */
	FrameFifo free_list;
	FrameFifo quarantine;
	guint quarantine_max;
	SimCounters *counters;
	GArray *windows;     /* RamWindow, sorted by gpa */
	SimFrameFreeHook on_free;
	SimFrameCorruptHook on_corrupt;
	gpointer hook_data;
	const SimFrameAsiOps *asi_ops;
	gpointer asi_data;
	SimCodeChangedHook on_code_changed;
	gpointer code_hook_data;
	GHashTable *parked;  /* page gpa -> copy of a PAGE_PARKED page's bytes before the poison */
};

/* A page's touched bits: it has held a frame (else it still reads as mmap's zeros); a CPU has
 * run code from it (sim_hostmem_note_code(), sticky). */
#define PAGE_TOUCHED 1
#define PAGE_CODE 2
/* A code page whose frame was freed and poisoned: its bytes from before are in hm->parked. */
#define PAGE_PARKED 4

#define NO_GPA G_MAXUINT64
/* A holder entry of a GPA page that holds no frame: 0, no frame's pfn, so that a window's holders
 * start as the zeros of a fresh mapping (read from the host's zero page, not from a 0xff fill
 * that has left the caches long before the guest's first touch). */
#define HOLDER_NONE 0

/* Append index; the ring doubles when full, its indexes kept in order. */
static void
fifo_push(FrameFifo *q, guint64 index)
{
	if (q->len == q->cap) {
		guint64 cap = MAX(q->cap * 2, 64);
		guint64 *slot = g_new(guint64, cap);

		for (guint64 i = 0; i < q->len; i++)
			slot[i] = q->slot[(q->head + i) & (q->cap - 1)];
		g_free(q->slot);
		q->slot = slot;
		q->cap = cap;
		q->head = 0;
	}
	q->slot[(q->head + q->len++) & (q->cap - 1)] = index;
}

/* Remove and return the oldest index (the FIFO must not be empty). */
static guint64
fifo_pop(FrameFifo *q)
{
	g_assert(q->len > 0);
	guint64 index = q->slot[q->head];

	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	return index;
}

static void *
reserve(guint64 bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Reserve the frame arena and its metadata (committed only as used). */
SimHostMem *
sim_hostmem_new(guint64 nr_frames, guint quarantine, SimCounters *counters, GError **error)
{
	SimHostMem *hm = g_new0(SimHostMem, 1);

	hm->nr_frames = nr_frames;
	hm->arena = reserve(nr_frames * SIM_PAGE_SIZE);
	hm->frames = reserve(nr_frames * sizeof(SimFrame));
	if (!hm->arena || !hm->frames) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
			    "cannot reserve a frame arena of %" G_GUINT64_FORMAT " MiB",
			    nr_frames * SIM_PAGE_SIZE >> 20);
		sim_hostmem_free(hm);
		return NULL;
	}
	hm->quarantine_max = quarantine;
	hm->counters = counters;
	hm->windows = g_array_new(FALSE, TRUE, sizeof(RamWindow));
	hm->zero_frame = g_new0(SimFrame, 1);
	hm->zero_frame->gen = 1;
	hm->zero_frame->state = FRAME_ALLOCATED;
	hm->zero_frame->zero = TRUE;
	hm->zero_frame->resident_gpa = NO_GPA;
	hm->parked = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	return hm;
}

/* Unmap the arena, the metadata and the RAM windows. */
void
sim_hostmem_free(SimHostMem *hm)
{
	if (!hm)
		return;
	if (hm->arena)
		munmap(hm->arena, hm->nr_frames * SIM_PAGE_SIZE);
	if (hm->frames)
		munmap(hm->frames, hm->nr_frames * sizeof(SimFrame));
	g_free(hm->free_list.slot);
	g_free(hm->quarantine.slot);
	g_free(hm->zero_frame);
	g_clear_pointer(&hm->parked, g_hash_table_unref);
	if (hm->windows) {
		for (guint i = 0; i < hm->windows->len; i++) {
			RamWindow *w = &g_array_index(hm->windows, RamWindow, i);

			munmap(w->buf, w->size);
			munmap(w->holder, (w->size / SIM_PAGE_SIZE) * sizeof(SimPfn));
			g_free(w->touched);
		}
		g_array_free(hm->windows, TRUE);
	}
	g_free(hm);
}

void
sim_hostmem_set_hooks(SimHostMem *hm, SimFrameFreeHook on_free, SimFrameCorruptHook on_corrupt,
		      gpointer data)
{
	hm->on_free = on_free;
	hm->on_corrupt = on_corrupt;
	hm->hook_data = data;
}

gpointer
sim_hostmem_hook_data(const SimHostMem *hm)
{
	return hm->hook_data;
}

static SimFrame *
frame_of(const SimHostMem *hm, SimPfn pfn)
{
	if (pfn == SIM_ZERO_PFN)
		return hm->zero_frame;
	g_assert(pfn >= SIM_PFN_BASE && pfn - SIM_PFN_BASE < hm->nr_frames);
	return &hm->frames[pfn - SIM_PFN_BASE];
}

static guint8 *
storage_of(const SimHostMem *hm, SimPfn pfn)
{
	g_assert(pfn != SIM_ZERO_PFN);
	return hm->arena + (pfn - SIM_PFN_BASE) * SIM_PAGE_SIZE;
}

/* The RAM window that holds gpa, or NULL: a binary search (windows are sorted and disjoint). */
static RamWindow *
window_of(const SimHostMem *hm, guint64 gpa)
{
	guint lo = 0, hi = hm->windows->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		RamWindow *w = &g_array_index(hm->windows, RamWindow, mid);

		if (gpa < w->gpa)
			hi = mid;
		else if (gpa - w->gpa >= w->size)
			lo = mid + 1;
		else
			return w;
	}
	return NULL;
}

/*
 * The bytes of the GPA page at page_gpa in w were changed by the host: if a CPU ever ran code
 * from it, the code hook is told (its translations are stale). A page without code costs a test
 * of a byte the caller's window lookup already reached.
 */
static void
page_changed(SimHostMem *hm, RamWindow *w, guint64 page_gpa)
{
	guint8 *bits = &w->touched[(page_gpa - w->gpa) / SIM_PAGE_SIZE];

	if (G_LIKELY(!(*bits & PAGE_CODE)))
		return;
	if (*bits & PAGE_PARKED) {
		g_hash_table_remove(hm->parked, GSIZE_TO_POINTER(page_gpa));
		*bits &= (guint8)~PAGE_PARKED;
	}
	if (hm->on_code_changed)
		hm->on_code_changed(hm->code_hook_data, page_gpa, SIM_PAGE_SIZE);
}

/*
 * A code page's frame is freed: its bytes are kept aside instead of the hook being told of the
 * poison. A frame is freed once no SPTE maps it and every TLB was flushed, so no vCPU reaches the
 * poison (one that still could is reported by the free hook); what matters is whether the frame
 * the page holds next (a migration's copy, which stays cheap) has the same bytes.
 */
static void
page_park(SimHostMem *hm, RamWindow *w, guint64 page_gpa)
{
	guint8 *bits = &w->touched[(page_gpa - w->gpa) / SIM_PAGE_SIZE];

	if (G_LIKELY(!(*bits & PAGE_CODE)))
		return;
	g_assert(!(*bits & PAGE_PARKED)); /* a parked page holds no frame to free */
	g_hash_table_insert(hm->parked, GSIZE_TO_POINTER(page_gpa),
			    g_memdup2(w->buf + (page_gpa - w->gpa), SIM_PAGE_SIZE));
	*bits |= PAGE_PARKED;
}

/* Before sim_hostmem_make_resident() loads a code page: its parked bytes, if any (the caller
 * frees them). */
static guint8 *
code_unpark(SimHostMem *hm, guint64 page_gpa, guint8 *bits)
{
	gpointer parked = NULL;

	if (!(*bits & PAGE_PARKED))
		return NULL;
	g_hash_table_steal_extended(hm->parked, GSIZE_TO_POINTER(page_gpa), NULL, &parked);
	*bits &= (guint8)~PAGE_PARKED;
	return parked;
}

/* After it loaded: the hook is told unless the bytes are those before (a migration's copy;
 * before NULL: not known). The parked copy goes. */
static void
code_loaded(SimHostMem *hm, RamWindow *w, guint64 page_gpa, const guint8 *before,
	    guint8 *parked)
{
	if ((!before || memcmp(before, w->buf + (page_gpa - w->gpa), SIM_PAGE_SIZE) != 0) &&
	    hm->on_code_changed)
		hm->on_code_changed(hm->code_hook_data, page_gpa, SIM_PAGE_SIZE);
	g_free(parked);
}

/* Frame f was written where it lives: page_changed() if that is a GPA page. */
static inline void
frame_changed(SimHostMem *hm, const SimFrame *f)
{
	if (f->resident_gpa != NO_GPA)
		page_changed(hm, window_of(hm, f->resident_gpa), f->resident_gpa);
}

/*
 * Where the frame's bytes are right now, to be read or written in part: a GPA page, or its own
 * storage, filled first with what the content lazily is (zeros, or the poison of a freed frame:
 * a write after the free then shows when the frame leaves quarantine).
 */
static guint8 *
content_of(SimHostMem *hm, SimPfn pfn)
{
	SimFrame *f = frame_of(hm, pfn);

	if (f->resident_gpa != NO_GPA)
		return sim_hostmem_gpa_ptr(hm, f->resident_gpa);
	if (f->zero || f->poison) {
		memset(storage_of(hm, pfn), f->zero ? 0 : SIM_POISON_FREE, SIM_PAGE_SIZE);
		f->zero = FALSE;
		f->poison = FALSE;
	}
	return storage_of(hm, pfn);
}

/* Where the frame's bytes are, to be overwritten whole: nothing is filled first. */
static guint8 *
content_to_overwrite(SimHostMem *hm, SimPfn pfn)
{
	SimFrame *f = frame_of(hm, pfn);

	if (f->resident_gpa != NO_GPA)
		return sim_hostmem_gpa_ptr(hm, f->resident_gpa);
	f->zero = FALSE;
	f->poison = FALSE;
	return storage_of(hm, pfn);
}

/* Pages of what check_filled() expects: constants, so that glibc's vectorised memcmp() does the
 * common case (nothing disturbed) in a few hundred instructions. */
static const guint8 zero_page[SIM_PAGE_SIZE];
static const guint8 poison_page[SIM_PAGE_SIZE] = { [0 ... SIM_PAGE_SIZE - 1] = SIM_POISON_FREE };

/* Report to the corrupt hook the first byte of page that is not byte (0 or SIM_POISON_FREE), if
 * any: this runs on every frame written after it was freed as it leaves quarantine, and on every
 * zero page replaced. */
static void
check_filled(SimHostMem *hm, const guint8 *page, guint8 byte, SimPfn pfn)
{
	g_assert(byte == 0 || byte == SIM_POISON_FREE);
	if (G_LIKELY(memcmp(page, byte ? poison_page : zero_page, SIM_PAGE_SIZE) == 0))
		return;
	for (guint off = 0; off < SIM_PAGE_SIZE; off++) {
		if (page[off] != byte) {
			if (hm->on_corrupt)
				hm->on_corrupt(hm->hook_data, pfn, off);
			return;
		}
	}
}

/* A frame leaving quarantine must still hold nothing but poison. While poison is set nothing
 * wrote its storage since the free (a freed frame is written only through content_of() and
 * content_to_overwrite(), which clear it; no GPA page holds a freed frame): nothing to read. */
static void
check_poison(SimHostMem *hm, guint64 index)
{
	if (hm->frames[index].poison)
		return;
	check_filled(hm, hm->arena + index * SIM_PAGE_SIZE, SIM_POISON_FREE, SIM_PFN_BASE + index);
}

static SimPfn frame_take(SimHostMem *hm, guint64 index, gboolean never_used);

/* A frame from the free list, else a never-used one, else the oldest in quarantine. */
SimPfn
sim_frame_alloc(SimHostMem *hm)
{
	guint64 index;

	if (hm->free_list.len)
		index = fifo_pop(&hm->free_list);
	else if (hm->never_used < hm->nr_frames)
		return frame_take(hm, hm->never_used++, TRUE);
	else if (hm->quarantine.len) /* under pressure, quarantine gives way */
		index = fifo_pop(&hm->quarantine);
	else
		return SIM_PFN_NONE;
	return frame_take(hm, index, FALSE);
}

/*
 * Hand out frame index: zero-filled, a new generation, no pins, no mapping, not resident. A
 * never-used frame's entry is written without being read first: the first touch of a page of the
 * metadata is then one fault of the host, not a read fault that maps the zero page and a write
 * fault that replaces it.
 */
static SimPfn
frame_take(SimHostMem *hm, guint64 index, gboolean never_used)
{
	SimFrame *f = &hm->frames[index];

	if (never_used) {
		*f = (SimFrame){ .gen = 1, .state = FRAME_ALLOCATED, .zero = TRUE,
				 .resident_gpa = NO_GPA };
	} else {
		if (f->state == FRAME_FREE)
			check_poison(hm, index);
		f->gen++;
		f->state = FRAME_ALLOCATED;
		f->zero = TRUE;
		f->poison = FALSE;
		f->refs = 0;
		f->free_on_put = FALSE;
		f->map_nth = 0;
		f->resident_gpa = NO_GPA;
	}
	if (hm->counters)
		sim_count(hm->counters, SIM_CTR_FRAMES_ALLOCATED);
	if (hm->asi_ops)
		hm->asi_ops->alloc(hm->asi_data, SIM_PFN_BASE + index);
	return SIM_PFN_BASE + index;
}

/*
 * nr naturally aligned, physically contiguous frames, as the buddy allocator hands out a
 * folio of order log2(nr) (mm/page_alloc.c): taken from the frames never handed out, whose
 * cursor is first rounded up to the alignment; the frames skipped on the way go to the free
 * list, in order. SIM_PFN_NONE when the never-used frames cannot supply the run: the arena
 * does not compact freed frames, so a caller falls back to single frames, as a THP fault does.
 */
SimPfn
sim_frame_alloc_contig(SimHostMem *hm, guint nr)
{
	g_assert(nr > 0 && (nr & (nr - 1)) == 0 && SIM_PFN_BASE % nr == 0);
	guint64 first = (hm->never_used + nr - 1) & ~(guint64)(nr - 1);

	if (first + nr > hm->nr_frames)
		return SIM_PFN_NONE;
	for (guint64 i = hm->never_used; i < first; i++)
		fifo_push(&hm->free_list, i);
	hm->never_used = first;
	for (guint i = 0; i < nr; i++) {
		SimPfn pfn = frame_take(hm, hm->never_used++, TRUE);

		g_assert(pfn == SIM_PFN_BASE + first + i);
	}
	return SIM_PFN_BASE + first;
}

/* Free (or, if pinned, free at the last put): poison wherever it lives, quarantine. The GPA page
 * that holds it is poisoned at once (a stale translation reads poison); its storage only lazily,
 * as a zero frame's is zeroed. */
void
sim_frame_free(SimHostMem *hm, SimPfn pfn)
{
	SimFrame *f = frame_of(hm, pfn);

	/* the zero page is reserved: put_page() never drops its last reference */
	g_assert(pfn != SIM_ZERO_PFN);
	g_assert(f->state == FRAME_ALLOCATED && !f->free_on_put);
	if (f->refs) {
		f->free_on_put = TRUE;
		return;
	}
	if (hm->on_free)
		hm->on_free(hm->hook_data, pfn);
	if (hm->asi_ops)
		hm->asi_ops->free(hm->asi_data, pfn);
	if (f->resident_gpa != NO_GPA) {
		RamWindow *w = window_of(hm, f->resident_gpa);

		page_park(hm, w, f->resident_gpa);
		memset(w->buf + (f->resident_gpa - w->gpa), SIM_POISON_FREE, SIM_PAGE_SIZE);
		w->holder[(f->resident_gpa - w->gpa) / SIM_PAGE_SIZE] = HOLDER_NONE;
		f->resident_gpa = NO_GPA;
	}
	f->zero = FALSE;
	f->poison = TRUE;
	f->state = FRAME_FREE;
	fifo_push(&hm->quarantine, pfn - SIM_PFN_BASE);
	if (hm->quarantine.len > hm->quarantine_max)
		fifo_push(&hm->free_list, fifo_pop(&hm->quarantine));
	if (hm->counters)
		sim_count(hm->counters, SIM_CTR_FRAMES_FREED);
}

void
sim_hostmem_set_asi(SimHostMem *hm, const SimFrameAsiOps *ops, gpointer data)
{
	hm->asi_ops = ops;
	hm->asi_data = data;
}

void
sim_frame_kernel_access(SimHostMem *hm, SimPfn pfn, gboolean write, const char *ip)
{
	if (hm->asi_ops)
		hm->asi_ops->access(hm->asi_data, pfn, write, ip);
}

void
sim_hostmem_flush_tlb_mm(SimHostMem *hm, guint64 npages)
{
	if (hm->asi_ops)
		hm->asi_ops->flush_tlb_mm(hm->asi_data, npages);
}

void
sim_frame_get(SimHostMem *hm, SimPfn pfn)
{
	SimFrame *f = frame_of(hm, pfn);

	g_assert(f->state == FRAME_ALLOCATED);
	f->refs++;
}

/* Drop a pin; the last one carries out a free that was waiting for it. */
void
sim_frame_put(SimHostMem *hm, SimPfn pfn)
{
	SimFrame *f = frame_of(hm, pfn);

	g_assert(f->refs > 0);
	if (--f->refs == 0 && f->free_on_put) {
		f->free_on_put = FALSE;
		sim_frame_free(hm, pfn);
	}
}

guint
sim_frame_refs(const SimHostMem *hm, SimPfn pfn)
{
	return frame_of(hm, pfn)->refs;
}

gboolean
sim_frame_allocated(const SimHostMem *hm, SimPfn pfn)
{
	if (pfn == SIM_ZERO_PFN)
		return TRUE;
	if (pfn < SIM_PFN_BASE || pfn - SIM_PFN_BASE >= hm->nr_frames)
		return FALSE;
	return frame_of(hm, pfn)->state == FRAME_ALLOCATED;
}

void
sim_frame_set_mapping(SimHostMem *hm, SimPfn pfn, guint64 hva, guint32 nth)
{
	SimFrame *f = frame_of(hm, pfn);

	g_assert(pfn != SIM_ZERO_PFN); /* the zero page has no page->mapping */

	f->map_hva = hva;
	f->map_nth = nth;
}

/* The host page and generation a frame was last mapped at (FALSE: never). */
gboolean
sim_frame_mapping(const SimHostMem *hm, SimPfn pfn, guint64 *out_hva, guint *out_nth)
{
	const SimFrame *f = frame_of(hm, pfn);

	if (!f->map_nth)
		return FALSE;
	*out_hva = f->map_hva;
	*out_nth = f->map_nth;
	return TRUE;
}

guint32
sim_frame_gen(const SimHostMem *hm, SimPfn pfn)
{
	return frame_of(hm, pfn)->gen;
}

/* Read a frame's bytes from wherever they live (a zero frame reads zeros, a freed one poison). */
void
sim_frame_read(SimHostMem *hm, SimPfn pfn, guint offset, void *buf, guint len)
{
	g_assert(offset + len <= SIM_PAGE_SIZE);
	SimFrame *f = frame_of(hm, pfn);

	if ((f->zero || f->poison) && f->resident_gpa == NO_GPA)
		memset(buf, f->zero ? 0 : SIM_POISON_FREE, len);
	else
		memcpy(buf, content_of(hm, pfn) + offset, len);
}

/* Write into a frame; a whole page overwrites without the lazy zeros or poison filled first. */
void
sim_frame_write(SimHostMem *hm, SimPfn pfn, guint offset, const void *buf, guint len)
{
	g_assert(offset + len <= SIM_PAGE_SIZE && pfn != SIM_ZERO_PFN);
	if (len == SIM_PAGE_SIZE)
		memcpy(content_to_overwrite(hm, pfn), buf, len);
	else
		memcpy(content_of(hm, pfn) + offset, buf, len);
	frame_changed(hm, frame_of(hm, pfn));
}

/* Copy a frame's content (a migration); a zero frame copied to an allocated frame that no GPA
 * page holds stays lazily zero. A freed destination is written for real, so that it leaves
 * quarantine reported. */
void
sim_frame_copy(SimHostMem *hm, SimPfn dst, SimPfn src)
{
	SimFrame *s = frame_of(hm, src), *d = frame_of(hm, dst);

	g_assert(dst != SIM_ZERO_PFN && src != SIM_ZERO_PFN); /* the zero page is not migrated */
	if (s->zero && s->resident_gpa == NO_GPA) {
		if (d->resident_gpa == NO_GPA && d->state == FRAME_ALLOCATED)
			d->zero = TRUE;
		else
			memset(content_to_overwrite(hm, dst), 0, SIM_PAGE_SIZE);
		frame_changed(hm, d);
		return;
	}
	memcpy(content_to_overwrite(hm, dst), content_of(hm, src), SIM_PAGE_SIZE);
	frame_changed(hm, d);
}

/* A RAM window: host buffer and per-page holder, both reserved lazily. */
gboolean
sim_hostmem_add_window(SimHostMem *hm, guint64 gpa, guint64 size, GError **error)
{
	if (size == 0 || (gpa | size) & (SIM_PAGE_SIZE - 1)) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "RAM window 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
			    "x is not page aligned", gpa, size);
		return FALSE;
	}
	for (guint i = 0; i < hm->windows->len; i++) {
		RamWindow *w = &g_array_index(hm->windows, RamWindow, i);

		if (gpa < w->gpa + w->size && w->gpa < gpa + size) {
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
				    "RAM window 0x%" G_GINT64_MODIFIER "x overlaps another", gpa);
			return FALSE;
		}
	}
	RamWindow w = { gpa, size, reserve(size), reserve((size / SIM_PAGE_SIZE) * sizeof(SimPfn)),
			NULL };

	if (!w.buf || !w.holder) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
			    "cannot reserve %" G_GUINT64_FORMAT " MiB of guest RAM", size >> 20);
		if (w.buf)
			munmap(w.buf, size);
		if (w.holder)
			munmap(w.holder, (size / SIM_PAGE_SIZE) * sizeof(SimPfn));
		return FALSE;
	}
	w.touched = g_malloc0(size / SIM_PAGE_SIZE);
	guint pos = 0;

	while (pos < hm->windows->len && g_array_index(hm->windows, RamWindow, pos).gpa < gpa)
		pos++;
	g_array_insert_val(hm->windows, pos, w);
	return TRUE;
}

guint
sim_hostmem_nr_windows(const SimHostMem *hm)
{
	return hm->windows->len;
}

guint8 *
sim_hostmem_window(const SimHostMem *hm, guint i, guint64 *out_gpa, guint64 *out_size)
{
	const RamWindow *w = &g_array_index(hm->windows, RamWindow, i);

	*out_gpa = w->gpa;
	*out_size = w->size;
	return w->buf;
}

guint8 *
sim_hostmem_gpa_ptr(const SimHostMem *hm, guint64 gpa)
{
	RamWindow *w = window_of(hm, gpa);

	return w ? w->buf + (gpa - w->gpa) : NULL;
}

/*
 * The GPA page now holds pfn: write the old holder back, load the new content; for a page code
 * ran from, the code hook is told if the bytes changed. The zero page is
 * never written back: the page must still read as zeros (the guest has no writable mapping of it,
 * so anything else was written through a stale translation), and it stays nobody's resident.
 */
void
sim_hostmem_make_resident(SimHostMem *hm, guint64 gpa, SimPfn pfn)
{
	RamWindow *w = window_of(hm, gpa);
	guint64 page_gpa = gpa & ~(guint64)(SIM_PAGE_SIZE - 1);

	g_assert(w != NULL);
	SimPfn *holder = &w->holder[(page_gpa - w->gpa) / SIM_PAGE_SIZE];
	guint8 *page = w->buf + (page_gpa - w->gpa);
	guint8 *touched = &w->touched[(page_gpa - w->gpa) / SIM_PAGE_SIZE];

	gboolean code = (*touched & PAGE_CODE) != 0;
	guint8 *parked = NULL;
	const guint8 *before = NULL; /* a code page's bytes before this (NULL: not known) */

	if (*holder == pfn)
		return;
	if (G_UNLIKELY(code))
		before = parked = code_unpark(hm, page_gpa, touched);
	if (*holder == SIM_ZERO_PFN) {
		check_filled(hm, page, 0, SIM_ZERO_PFN);
		before = zero_page;
	} else if (*holder != HOLDER_NONE) {
		SimFrame *old = frame_of(hm, *holder);

		memcpy(storage_of(hm, *holder), page, SIM_PAGE_SIZE);
		old->zero = FALSE;
		old->resident_gpa = NO_GPA;
		before = storage_of(hm, *holder);
	}
	if (pfn == SIM_ZERO_PFN) {
		if (*touched & PAGE_TOUCHED)
			memset(page, 0, SIM_PAGE_SIZE);
		*touched |= PAGE_TOUCHED;
		*holder = pfn;
		if (G_UNLIKELY(code))
			code_loaded(hm, w, page_gpa, before, parked);
		return;
	}
	SimFrame *f = frame_of(hm, pfn);

	g_assert(f->state == FRAME_ALLOCATED);
	if (f->resident_gpa != NO_GPA) {
		/* held by another GPA page (aliased memslots): fetch it from there */
		RamWindow *ow = window_of(hm, f->resident_gpa);
		guint8 *other = ow->buf + (f->resident_gpa - ow->gpa);

		memcpy(storage_of(hm, pfn), other, SIM_PAGE_SIZE);
		ow->holder[(f->resident_gpa - ow->gpa) / SIM_PAGE_SIZE] = HOLDER_NONE;
		f->zero = FALSE;
	}
	/* a page that never held a frame still reads as zeros: leave it for the guest to touch */
	if (f->zero && (*touched & PAGE_TOUCHED))
		memset(page, 0, SIM_PAGE_SIZE);
	else if (!f->zero)
		memcpy(page, storage_of(hm, pfn), SIM_PAGE_SIZE);
	*touched |= PAGE_TOUCHED;
	f->zero = FALSE;
	f->resident_gpa = page_gpa;
	*holder = pfn;
	if (G_UNLIKELY(code))
		code_loaded(hm, w, page_gpa, before, parked);
}

void
sim_hostmem_set_code_hook(SimHostMem *hm, SimCodeChangedHook hook, gpointer data)
{
	hm->on_code_changed = hook;
	hm->code_hook_data = data;
}

/* Flags the GPA page at gpa as code (a CPU translated a block from it), for good. */
void
sim_hostmem_note_code(SimHostMem *hm, guint64 gpa)
{
	RamWindow *w = window_of(hm, gpa);

	if (w)
		w->touched[(gpa - w->gpa) / SIM_PAGE_SIZE] |= PAGE_CODE;
}

/* page_changed() for each GPA page of [gpa, gpa + size) that is guest RAM. */
void
sim_hostmem_content_changed(SimHostMem *hm, guint64 gpa, guint64 size)
{
	guint64 page = gpa & ~(guint64)(SIM_PAGE_SIZE - 1);

	for (; page < gpa + size; page += SIM_PAGE_SIZE) {
		RamWindow *w = window_of(hm, page);

		if (w)
			page_changed(hm, w, page);
	}
}

guint64
sim_frame_resident_gpa(const SimHostMem *hm, SimPfn pfn)
{
	return frame_of(hm, pfn)->resident_gpa;
}

SimPfn
sim_hostmem_resident(const SimHostMem *hm, guint64 gpa)
{
	RamWindow *w = window_of(hm, gpa);

	SimPfn pfn = w ? w->holder[(gpa - w->gpa) / SIM_PAGE_SIZE] : HOLDER_NONE;

	return pfn == HOLDER_NONE ? SIM_PFN_NONE : pfn;
}
