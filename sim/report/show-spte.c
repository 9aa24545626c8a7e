/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmsim show spte: every bit of an SPTE under the kernel's name, in v6.18's EPT encoding with
 * A/D bits off as kvm_mmu_set_ept_masks() configures it (mmu/spte.h names the trees read). Each
 * line names a bit or a field; every set bit is on some line.
 */
#include "sim/report/show.h"

#include "mmu/spte.h"

/* One line: the bits it covers, their value, the kernel's name, what it means. */
static void
line(GString *out, guint64 *covered, int lo, int hi, const char *value, const char *name,
     const char *meaning)
{
	gchar *bits = lo == hi ? g_strdup_printf("bit %d", lo) : g_strdup_printf("bits %d-%d", lo, hi);

	g_string_append_printf(out, "  %-11s %-10s %-27s %s\n", bits, value, name, meaning);
	g_free(bits);
	for (int b = lo; b <= hi; b++)
		*covered |= 1ull << b;
}

/* Flag bit b, named name, if set. */
static void
flag(GString *out, guint64 *covered, u64 spte, int b, const char *name, const char *meaning)
{
	if (spte & (1ull << b))
		line(out, covered, b, b, "1", name, meaning);
}

/* The EPT memory type's name (MTRR_TYPE_* values). */
static const char *
memtype_name(unsigned int mt)
{
	static const char *const names[8] = { "UC (uncacheable)", "WC (write-combining)", "2",
					      "3", "WT (write-through)", "WP (write-protected)",
					      "WB (write-back)", "7" };

	return names[mt & 7];
}

/* A present SPTE (SPTE_MMU_PRESENT_MASK): leaf or table by level and the page-size bit. */
static void
decode_present(GString *out, guint64 *covered, u64 spte, int level)
{
	gboolean leaf = is_last_spte(spte, level);
	gchar value[40];

	flag(out, covered, spte, 0, "VMX_EPT_READABLE_MASK", "readable (shadow_user_mask too)");
	flag(out, covered, spte, 1, "VMX_EPT_WRITABLE_MASK", "writable (PT_WRITABLE_MASK)");
	flag(out, covered, spte, 2, "VMX_EPT_EXECUTABLE_MASK", "executable (shadow_x_mask)");
	if (spte & 0x38) {
		unsigned int mt = (unsigned int)((spte >> VMX_EPT_MT_EPTE_SHIFT) & 7);

		g_snprintf(value, sizeof(value), "%u", mt);
		line(out, covered, 3, 5, value, "VMX_EPT_MT_EPTE_SHIFT",
		     leaf ? memtype_name(mt) : "memory type (reserved in a table entry)");
	}
	flag(out, covered, spte, 6, "VMX_EPT_IPAT_BIT", "ignore the guest's PAT");
	if (leaf && !(spte & PT_PAGE_SIZE_MASK))
		g_string_append_printf(out, "  %-11s %-10s %-27s %s\n", "bit 7", "0",
				       "PT_PAGE_SIZE_MASK", "clear: a 4K leaf at level 1");
	if (spte & PT_PAGE_SIZE_MASK)
		line(out, covered, 7, 7, "1", "PT_PAGE_SIZE_MASK",
		     level == 3 ? "huge leaf: 1 GiB" : level == 2 ? "huge leaf: 2 MiB" :
				  "huge leaf (2 MiB at level 2, 1 GiB at level 3)");
	flag(out, covered, spte, 8, "VMX_EPT_ACCESS_BIT",
	     "accessed (software with A/D off)");
	flag(out, covered, spte, 9, "VMX_EPT_DIRTY_BIT",
	     "dirty (software with A/D off)");
	flag(out, covered, spte, 10, "-", "unused with EPT");
	line(out, covered, 11, 11, "1", "SPTE_MMU_PRESENT_MASK", "present to KVM");
	g_snprintf(value, sizeof(value), "0x%" G_GINT64_MODIFIER "x", spte_to_pfn(spte));
	if (spte & SPTE_BASE_ADDR_MASK)
		line(out, covered, 12, 51, value, "SPTE_BASE_ADDR_MASK",
		     leaf ? "pfn: the host page frame" : "pfn of the child table");
	switch (spte & SPTE_TDP_AD_MASK) {
	case SPTE_TDP_AD_DISABLED:
		line(out, covered, 52, 53, "1", "SPTE_TDP_AD_DISABLED", "A/D bits off for this SPTE");
		break;
	case SPTE_TDP_AD_WRPROT_ONLY:
		line(out, covered, 52, 53, "2", "SPTE_TDP_AD_WRPROT_ONLY",
		     "A/D bits for write protection only");
		break;
	case SPTE_TDP_AD_MASK:
		line(out, covered, 52, 53, "3", "SPTE_TDP_AD_MASK", "reserved A/D type");
		break;
	default:
		/* SPTE_TDP_AD_ENABLED is 0: no bit set, said all the same */
		g_string_append_printf(out, "  %-11s %-10s %-27s %s\n", "bits 52-53", "0",
				       "SPTE_TDP_AD_ENABLED", "A/D bits on for this SPTE");
		break;
	}
	if (spte & SHADOW_ACC_TRACK_SAVED_MASK) {
		u64 saved = (spte >> SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) & 7;

		g_snprintf(value, sizeof(value), "%s%s%s", saved & 1 ? "R" : "", saved & 2 ? "W" : "",
			   saved & 4 ? "X" : "");
		line(out, covered, 54, 56, value, "SHADOW_ACC_TRACK_SAVED_MASK",
		     "R, X saved while access-tracked");
	}
	flag(out, covered, spte, 57, "EPT_SPTE_HOST_WRITABLE",
	     "host PTE writable (shadow_host_writable_mask)");
	flag(out, covered, spte, 58, "EPT_SPTE_MMU_WRITABLE",
	     "KVM may set W (shadow_mmu_writable_mask)");
	if (spte & (0xfull << 59))
		line(out, covered, 59, 62, "set", "-", "not used by KVM in a present SPTE");
	flag(out, covered, spte, 63, "VMX_EPT_SUPPRESS_VE_BIT",
	     "no #VE (part of shadow_present_mask)");
}

/* An MMIO SPTE: the W|X misconfiguration with the memslot generation and the gfn. */
static void
decode_mmio(GString *out, guint64 *covered, u64 spte)
{
	gchar value[40];

	line(out, covered, 0, 2, "W|X", "VMX_EPT_MISCONFIG_WX_VALUE",
	     "shadow_mmio_value: W|X without R misconfigures");
	g_snprintf(value, sizeof(value), "gen %" G_GUINT64_FORMAT, get_mmio_spte_generation(spte));
	if (spte & (0xffull << MMIO_SPTE_GEN_LOW_SHIFT))
		line(out, covered, 3, 10, value, "MMIO_SPTE_GEN_LOW_MASK", "memslots generation, bits 0-7");
	flag(out, covered, spte, 11, "SPTE_MMU_PRESENT_MASK", "never in an MMIO SPTE");
	g_snprintf(value, sizeof(value), "gfn 0x%" G_GINT64_MODIFIER "x", get_mmio_spte_gfn(spte));
	if (spte & SPTE_BASE_ADDR_MASK)
		line(out, covered, 12, 51, value, "SPTE_BASE_ADDR_MASK", "the gfn of the MMIO access");
	g_snprintf(value, sizeof(value), "gen %" G_GUINT64_FORMAT, get_mmio_spte_generation(spte));
	if (spte & (0x7ffull << MMIO_SPTE_GEN_HIGH_SHIFT))
		line(out, covered, 52, 62, value, "MMIO_SPTE_GEN_HIGH_MASK",
		     "memslots generation, bits 8-18");
}

/* The summary line, then a line per set bit or field, by kind of SPTE. */
gboolean
sim_show_spte(const char *text, int level, GString *out, GError **error)
{
	guint64 spte, covered = 0;
	gchar *end = NULL;

	if (!text || !g_ascii_isxdigit(text[0]) ||
	    ((spte = g_ascii_strtoull(text, &end, 16)), !end || *end)) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "show spte %s: not a hexadecimal SPTE value", text ? text : "");
		return FALSE;
	}
	if (level < 1 || level > 4) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--level %d: must be 1 (4K) to 4", level);
		return FALSE;
	}
	g_autofree gchar *summary = spte_describe(spte, level);

	g_string_append_printf(out, "0x%016" G_GINT64_MODIFIER "x at level %d: %s\n", spte, level,
			       summary);
	if (spte == SHADOW_NONPRESENT_VALUE) {
		line(out, &covered, 63, 63, "1", "SHADOW_NONPRESENT_VALUE",
		     "not present: zapped or never set");
	} else if (is_frozen_spte(spte)) {
		line(out, &covered, 63, 63, "1", "SHADOW_NONPRESENT_VALUE", "not present");
		/* named REMOVED_SPTE in older trees (torvalds/linux spte.h as the search index
		 * holds it, v6.9 or earlier) */
		line(out, &covered, 5, 10, "0x5a0", "FROZEN_SPTE",
		     "frozen (was REMOVED_SPTE): walkers retry");
	} else if (is_mmio_spte(spte)) {
		decode_mmio(out, &covered, spte);
	} else if (is_shadow_present_pte(spte)) {
		if (is_access_track_spte(spte))
			g_string_append(out, "  (access-tracked: R, W and X clear, R and X saved "
					     "in bits 54-56 until the next access)\n");
		decode_present(out, &covered, spte, level);
	} else {
		for (int b = 0; b < 64; b++)
			if (spte & (1ull << b))
				line(out, &covered, b, b, "1", "-",
				     "not a value KVM writes");
		if (!spte)
			g_string_append(out, "  no bit set: not present (KVM's TDP MMU writes "
					     "SHADOW_NONPRESENT_VALUE instead)\n");
	}
	/* every set bit is named above; if one is not, say so rather than hide it */
	if (spte & ~covered)
		g_string_append_printf(out, "  unnamed bits 0x%" G_GINT64_MODIFIER "x\n",
				       spte & ~covered);
	return TRUE;
}
