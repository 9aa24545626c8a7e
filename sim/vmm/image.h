/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guest programs as kvmsim loads them: a flat binary (entered at its first byte, placed at
 * KVMSIM_IMAGE_GPA) or a static ELF64 x86-64 executable (its PT_LOAD segments placed at their
 * addresses, entered at e_entry). Either must lie in the image window [KVMSIM_IMAGE_GPA,
 * KVMSIM_IMAGE_END) of the boot memslot; a segment's bytes past its file size (.bss) are the
 * zeros of fresh anonymous memory, so they need not be in the file.
 */
#ifndef KVMSIM_SIM_VMM_IMAGE_H
#define KVMSIM_SIM_VMM_IMAGE_H

#include <glib.h>

#define SIM_IMAGE_MAX_SEGMENTS 16

/* One run of bytes to copy into guest memory, followed by zeros up to mem_size. */
typedef struct {
	guint64 gpa;
	const guint8 *bytes;
	guint64 file_size;
	guint64 mem_size;
} SimImageSegment;

typedef struct {
	gboolean elf;           /* FALSE: a flat binary */
	guint64 entry;
	SimImageSegment segments[SIM_IMAGE_MAX_SEGMENTS];
	guint nr_segments;
} SimImageLayout;

/* Where image's bytes go and where it starts; FALSE with one line of why if it cannot run. */
gboolean sim_image_layout(const guint8 *image, gsize size, SimImageLayout *out, GError **error);

/* The SHA-256 of an image, as lowercase hex (g_free it): what a trace records of it. */
gchar *sim_image_sha256(const guint8 *image, gsize size);

#endif
