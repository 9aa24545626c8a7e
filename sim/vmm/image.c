/* SPDX-License-Identifier: GPL-2.0-only */
/* Guest program images: flat binaries and static ELF64 executables. */
#include "sim/vmm/image.h"

#include <elf.h>
#include <string.h>

#include "workloads/abi.h"

#define SIM_IMAGE_ERROR (sim_image_error_quark())
static GQuark sim_image_error_quark(void);
G_DEFINE_QUARK(kvmsim-image-error-quark, sim_image_error)

/* Does [gpa, gpa + size) lie in the image window? */
static gboolean
in_window(guint64 gpa, guint64 size)
{
	return gpa >= KVMSIM_IMAGE_GPA && gpa <= KVMSIM_IMAGE_END &&
	       size <= KVMSIM_IMAGE_END - gpa;
}

/* The PT_LOAD segments of a static ELF64 x86-64 executable (ET_EXEC; no interpreter). */
static gboolean
elf_layout(const guint8 *image, gsize size, SimImageLayout *out, GError **error)
{
	Elf64_Ehdr eh;

	if (size < sizeof(eh)) {
		g_set_error(error, SIM_IMAGE_ERROR, 0, "ELF file of %zu bytes is truncated", size);
		return FALSE;
	}
	memcpy(&eh, image, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64) {
		g_set_error(error, SIM_IMAGE_ERROR, 0, "not an ELF64 x86-64 executable");
		return FALSE;
	}
	if (eh.e_type != ET_EXEC) {
		g_set_error(error, SIM_IMAGE_ERROR, 0, "ELF type %u is not ET_EXEC: link the guest "
			    "static and not PIE (-static -no-pie, the SDK's linker script)",
			    eh.e_type);
		return FALSE;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
	    (guint64)eh.e_phnum * sizeof(Elf64_Phdr) > size - eh.e_phoff) {
		g_set_error(error, SIM_IMAGE_ERROR, 0, "ELF program headers lie outside the file");
		return FALSE;
	}
	out->elf = TRUE;
	out->entry = eh.e_entry;
	out->nr_segments = 0;
	gboolean entry_found = FALSE;

	for (guint i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, image + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC) {
			g_set_error(error, SIM_IMAGE_ERROR, 0,
				    "the ELF is dynamically linked: link the guest static "
				    "(-static -nostdlib)");
			return FALSE;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_filesz > ph.p_memsz || ph.p_offset > size ||
		    ph.p_filesz > size - ph.p_offset) {
			g_set_error(error, SIM_IMAGE_ERROR, 0, "PT_LOAD segment %u: its bytes lie "
				    "outside the file", i);
			return FALSE;
		}
		if (!in_window(ph.p_paddr, ph.p_memsz)) {
			g_set_error(error, SIM_IMAGE_ERROR, 0, "PT_LOAD segment %u at 0x%"
				    G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x is outside the "
				    "image window 0x%llx-0x%llx (link with the SDK's guest.ld)", i,
				    (guint64)ph.p_paddr, (guint64)ph.p_memsz, KVMSIM_IMAGE_GPA,
				    KVMSIM_IMAGE_END);
			return FALSE;
		}
		if (out->nr_segments == SIM_IMAGE_MAX_SEGMENTS) {
			g_set_error(error, SIM_IMAGE_ERROR, 0, "more than %u PT_LOAD segments",
				    SIM_IMAGE_MAX_SEGMENTS);
			return FALSE;
		}
		out->segments[out->nr_segments++] = (SimImageSegment){
			ph.p_paddr, image + ph.p_offset, ph.p_filesz, ph.p_memsz,
		};
		entry_found |= (ph.p_flags & PF_X) && eh.e_entry >= ph.p_paddr &&
			       eh.e_entry - ph.p_paddr < ph.p_filesz;
	}
	if (!entry_found) {
		g_set_error(error, SIM_IMAGE_ERROR, 0,
			    "entry point 0x%" G_GINT64_MODIFIER "x is in no executable PT_LOAD segment",
			    (guint64)eh.e_entry);
		return FALSE;
	}
	return TRUE;
}

gboolean
sim_image_layout(const guint8 *image, gsize size, SimImageLayout *out, GError **error)
{
	memset(out, 0, sizeof(*out));
	if (size >= SELFMAG && memcmp(image, ELFMAG, SELFMAG) == 0)
		return elf_layout(image, size, out, error);
	if (size == 0 || size > KVMSIM_IMAGE_MAX) {
		g_set_error(error, SIM_IMAGE_ERROR, 0, "flat image of %zu bytes: must be 1 to %llu "
			    "(.bss need not be in it)", size, KVMSIM_IMAGE_MAX);
		return FALSE;
	}
	out->entry = KVMSIM_IMAGE_GPA;
	out->segments[0] = (SimImageSegment){ KVMSIM_IMAGE_GPA, image, size, size };
	out->nr_segments = 1;
	return TRUE;
}

gchar *
sim_image_sha256(const guint8 *image, gsize size)
{
	return g_compute_checksum_for_data(G_CHECKSUM_SHA256, image, size);
}
