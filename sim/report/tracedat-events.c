/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kvm and kvmmmu events kvmsim logs, as a v6.18 kernel lays them out in the ring buffer:
 * field types, names, offsets and sizes and the print fmt, as the running 6.18 kernel's tracefs
 * shows them (events/kvm{,mmu}/EVENT/format; arch/x86/kvm/trace.h and mmu/mmutrace.h, no tree
 * read: the formats were read from tracefs, tests/import/test-tracedat checks them against it).
 * kvm_exit's __print_symbolic() lists only the exit reasons kvmsim takes (the kernel's table has
 * every VMX and SVM reason); kvm_vm_set_mem_attributes is not in that kernel's tracefs
 * (include/trace/events/kvm.h, read in ColinIanKing/linux-next, gives it). Each event has an
 * encoder that reads kvmsim's own line body back into the fields, so that the record prints,
 * through the print fmt, the body kvmsim logged.
 */
#include "sim/report/tracedat.h"
#include "sim/report/tracedat-internal.h"

#include <stdio.h>
#include <string.h>

/* Store the low size bytes of v at rec + off, little-endian (the file says so). */
static void
put(guint8 *rec, guint off, guint size, guint64 v)
{
	for (guint i = 0; i < size; i++)
		rec[off + i] = (guint8)(v >> (8 * i));
}

/* The VMX exit reasons kvmsim takes, with the kernel's names (VMX_EXIT_REASONS). */
static const struct {
	guint32 nr;
	const char *name;
} vmx_reasons[] = {
	{0, "EXCEPTION_NMI"},  {1, "EXTERNAL_INTERRUPT"},
	{2, "TRIPLE_FAULT"},   {7, "INTERRUPT_WINDOW"},
	{12, "HLT"},
	{18, "VMCALL"},	       {30, "IO_INSTRUCTION"},
	{32, "MSR_WRITE"},     {48, "EPT_VIOLATION"},
	{49, "EPT_MISCONFIG"},
};

/* sscanf() of body that must consume all of it. */
#define SCAN_ALL(body, fmt, ...)                              \
	({                                                    \
		int end_ = -1;                                \
		sscanf((body), fmt "%n", __VA_ARGS__, &end_); \
		end_ >= 0 && (body)[end_] == '\0';            \
	})

/* kvm_exit: the VMX reason back to its number, isa KVM_ISA_VMX. */
static gboolean
encode_kvm_exit(const char *body, guint8 *rec)
{
	unsigned int vcpu, intr, err;
	unsigned long long rip, info1, info2, req;
	char reason[40];

	if (!SCAN_ALL(body,
		      "vcpu %u reason %39s rip 0x%llx info1 0x%llx info2 0x%llx intr_info "
		      "0x%x error_code 0x%x requests 0x%llx",
		      &vcpu, reason, &rip, &info1, &info2, &intr, &err, &req))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(vmx_reasons); i++) {
		if (strcmp(vmx_reasons[i].name, reason) != 0)
			continue;
		put(rec, 8, 4, vmx_reasons[i].nr);
		put(rec, 16, 8, rip);
		put(rec, 24, 4, 1); /* KVM_ISA_VMX */
		put(rec, 32, 8, info1);
		put(rec, 40, 8, info2);
		put(rec, 48, 4, intr);
		put(rec, 52, 4, err);
		put(rec, 56, 4, vcpu);
		put(rec, 64, 8, req);
		return TRUE;
	}
	return FALSE;
}

/* kvm_exit's print fmt with kvmsim's reasons in the VMX table and their SVM counterparts. */
static gchar *
kvm_exit_print_fmt(void)
{
	GString *s =
		g_string_new("\"vcpu %u reason %s%s%s rip 0x%lx info1 0x%016llx info2 "
			     "0x%016llx intr_info 0x%08x error_code 0x%08x requests 0x%016llx\", "
			     "REC->vcpu_id, (REC->isa == 1) ? __print_symbolic(REC->exit_reason "
			     "& 0xffff");

	for (guint i = 0; i < G_N_ELEMENTS(vmx_reasons); i++)
		g_string_append_printf(s, ", { %u, \"%s\" }", vmx_reasons[i].nr,
				       vmx_reasons[i].name);
	g_string_append(s, ") : __print_symbolic(REC->exit_reason, { 0x060, \"interrupt\" }, "
			   "{ 0x078, \"hlt\" }, { 0x07b, \"io\" }, { 0x07f, \"shutdown\" }, "
			   "{ 0x081, \"hypercall\" }, { 0x400, \"npf\" }), (REC->isa == 1 && "
			   "REC->exit_reason & ~0xffff) ? \" \" : \"\", (REC->isa == 1) ? "
			   "__print_flags(REC->exit_reason & ~0xffff, \" \", { 0x80000000, "
			   "\"FAILED_VMENTRY\" }) : \"\", REC->guest_rip, REC->info1, REC->info2, "
			   "REC->intr_info, REC->error_code, REC->requests");
	return g_string_free(s, FALSE);
}

/* kvm_entry: "[immediate exit]" back to immediate_exit. */
static gboolean
encode_kvm_entry(const char *body, guint8 *rec)
{
	unsigned int vcpu, intr, err;
	unsigned long long rip;
	int n = -1;

	if (sscanf(body, "vcpu %u, rip 0x%llx intr_info 0x%x error_code 0x%x%n", &vcpu, &rip, &intr,
		   &err, &n) != 4 ||
	    n < 0)
		return FALSE;
	put(rec, 8, 4, vcpu);
	put(rec, 16, 8, rip);
	put(rec, 24, 1, strcmp(body + n, "[immediate exit]") == 0);
	put(rec, 28, 4, intr);
	put(rec, 32, 4, err);
	return body[n] == '\0' || strcmp(body + n, "[immediate exit]") == 0;
}

/* kvm_inj_virq: "IRQ" or "Soft/INTn" back to soft, " [reinjected]" to reinjected. */
static gboolean
encode_kvm_inj_virq(const char *body, guint8 *rec)
{
	char kind[16];
	unsigned int vector;
	int n = -1;

	if (sscanf(body, "%15s 0x%x%n", kind, &vector, &n) != 2 || n < 0 ||
	    (strcmp(kind, "IRQ") != 0 && strcmp(kind, "Soft/INTn") != 0) ||
	    (body[n] != '\0' && strcmp(body + n, " [reinjected]") != 0))
		return FALSE;
	put(rec, 8, 4, vector);
	put(rec, 12, 1, strcmp(kind, "Soft/INTn") == 0);
	put(rec, 13, 1, body[n] != '\0');
	return TRUE;
}

/* kvm_inj_exception's __print_symbolic() of the vector (kvm_trace_sym_exc). */
static const struct {
	guint8 nr;
	const char *name;
} exceptions[] = {
	{0, "DE"},  {1, "DB"},  {3, "BP"},  {4, "OF"},  {5, "BR"},  {6, "UD"},  {7, "NM"},
	{8, "DF"},  {10, "TS"}, {11, "NP"}, {12, "SS"}, {13, "GP"}, {14, "PF"}, {16, "MF"},
	{17, "AC"}, {18, "MC"}, {19, "XM"}, {20, "VE"}, {21, "CP"}, {28, "HV"}, {29, "VC"},
	{30, "SX"},
};

/* kvm_inj_exception: the mnemonic (or number) back to the vector, " (0x...)" to has_error and
 * error_code, " [reinjected]" to reinjected. */
static gboolean
encode_kvm_inj_exception(const char *body, guint8 *rec)
{
	unsigned int vector = G_MAXUINT, code = 0;
	int n = -1;
	gboolean has_error = FALSE;

	for (guint i = 0; i < G_N_ELEMENTS(exceptions); i++) {
		gsize len = strlen(exceptions[i].name);

		if (body[0] == '#' && strncmp(body + 1, exceptions[i].name, len) == 0) {
			vector = exceptions[i].nr;
			n = (int)len + 1;
			break;
		}
	}
	if (vector == G_MAXUINT && (sscanf(body, "0x%x%n", &vector, &n) != 1 || n < 0))
		return FALSE;
	body += n;
	n = -1;
	if (sscanf(body, " (0x%x)%n", &code, &n) == 1 && n > 0) {
		has_error = TRUE;
		body += n;
	}
	if (body[0] != '\0' && strcmp(body, " [reinjected]") != 0)
		return FALSE;
	put(rec, 8, 1, vector);
	put(rec, 9, 1, has_error);
	put(rec, 12, 4, code);
	put(rec, 16, 1, body[0] != '\0');
	return TRUE;
}

/* kvm_pio: read or write back to rw. */
static gboolean
encode_kvm_pio(const char *body, guint8 *rec)
{
	char rw[8];
	unsigned int port, val;
	int size, count, n = -1;

	if (sscanf(body, "pio_%7[a-z] at 0x%x size %d count %d val 0x%x %n", rw, &port, &size,
		   &count, &val, &n) != 5 ||
	    n < 0)
		return FALSE;
	put(rec, 8, 4, strcmp(rw, "write") == 0);
	put(rec, 12, 4, port);
	put(rec, 16, 4, (guint)size);
	put(rec, 20, 4, (guint)count);
	put(rec, 24, 4, val);
	return strcmp(body + n, count > 1 ? "(...)" : "") == 0;
}

/* kvm_hypercall: nr and a0-a3. */
static gboolean
encode_kvm_hypercall(const char *body, guint8 *rec)
{
	unsigned long long v[5];

	if (!SCAN_ALL(body, "nr 0x%llx a0 0x%llx a1 0x%llx a2 0x%llx a3 0x%llx", &v[0], &v[1],
		      &v[2], &v[3], &v[4]))
		return FALSE;
	for (guint i = 0; i < 5; i++)
		put(rec, 8 + 8 * i, 8, v[i]);
	return TRUE;
}

/* kvm_mmio: the type's name back to its number. */
static gboolean
encode_kvm_mmio(const char *body, guint8 *rec)
{
	static const char *const types[] = {"unsatisfied-read", "read", "write"};
	char type[20];
	unsigned int len;
	unsigned long long gpa, val;

	if (!SCAN_ALL(body, "mmio %19s len %u gpa 0x%llx val 0x%llx", type, &len, &gpa, &val))
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
		if (strcmp(type, types[i]) != 0)
			continue;
		put(rec, 8, 4, i);
		put(rec, 12, 4, len);
		put(rec, 16, 8, gpa);
		put(rec, 24, 8, val);
		return TRUE;
	}
	return FALSE;
}

/* kvm_page_fault: vcpu, rip, address, error code. */
static gboolean
encode_kvm_page_fault(const char *body, guint8 *rec)
{
	unsigned int vcpu;
	unsigned long long rip, addr, err;

	if (!SCAN_ALL(body, "vcpu %u rip 0x%llx address 0x%llx error_code 0x%llx", &vcpu, &rip,
		      &addr, &err))
		return FALSE;
	put(rec, 8, 4, vcpu);
	put(rec, 16, 8, rip);
	put(rec, 24, 8, addr);
	put(rec, 32, 8, err);
	return TRUE;
}

/* "PREFIX%#016lx -- %#016lx" (the kernel's %# prints 0x before the zero padding). */
static gboolean
encode_range(const char *body, const char *prefix, guint8 *rec)
{
	unsigned long long start, end;

	if (!g_str_has_prefix(body, prefix) ||
	    !SCAN_ALL(body + strlen(prefix), "0x%llx -- 0x%llx", &start, &end))
		return FALSE;
	put(rec, 8, 8, start);
	put(rec, 16, 8, end);
	return TRUE;
}

/* kvm_unmap_hva_range: start and end. */
static gboolean
encode_kvm_unmap_hva_range(const char *body, guint8 *rec)
{
	return encode_range(body, "mmu notifier unmap range: ", rec);
}

/* kvm_age_hva: start and end. */
static gboolean
encode_kvm_age_hva(const char *body, guint8 *rec)
{
	return encode_range(body, "mmu notifier age hva: ", rec);
}

/* kvm_test_age_hva: the hva. */
static gboolean
encode_kvm_test_age_hva(const char *body, guint8 *rec)
{
	unsigned long long hva;

	if (!SCAN_ALL(body, "mmu notifier test age hva: 0x%llx", &hva))
		return FALSE;
	put(rec, 8, 8, hva);
	return TRUE;
}

/* kvm_vm_set_mem_attributes: start, end, attributes. */
static gboolean
encode_kvm_vm_set_mem_attributes(const char *body, guint8 *rec)
{
	unsigned long long start, end, attr;

	if (!SCAN_ALL(body, "0x%llx -- 0x%llx [0x%llx]", &start, &end, &attr))
		return FALSE;
	put(rec, 8, 8, start);
	put(rec, 16, 8, end);
	put(rec, 24, 8, attr);
	return TRUE;
}

/* The error-code flags fast_page_fault prints (kvm_mmu_trace_pferr_flags) by name. */
static const struct {
	guint64 mask;
	const char *name;
} pferr_flags[] = {
	{1ull << 0, "P"},  {1ull << 1, "W"},	{1ull << 2, "U"},    {1ull << 5, "PK"},
	{1ull << 6, "SS"}, {1ull << 15, "SGX"}, {1ull << 3, "RSVD"}, {1ull << 4, "F"},
};

/* __print_flags() output back to the value: names and one trailing hex remainder. */
static gboolean
parse_pferr(const char *text, guint64 *out)
{
	g_auto(GStrv) parts = g_strsplit(text, "|", -1);

	*out = 0;
	for (guint i = 0; parts[i]; i++) {
		gboolean known = FALSE;

		for (guint j = 0; j < G_N_ELEMENTS(pferr_flags) && !known; j++)
			if (strcmp(parts[i], pferr_flags[j].name) == 0) {
				*out |= pferr_flags[j].mask;
				known = TRUE;
			}
		if (!known) {
			char *end;

			if (!g_str_has_prefix(parts[i], "0x"))
				return FALSE;
			*out |= g_ascii_strtoull(parts[i] + 2, &end, 16);
			if (*end)
				return FALSE;
		}
	}
	return TRUE;
}

/* fast_page_fault: the error code's flags back to bits, spurious/fixed back to ret. */
static gboolean
encode_fast_page_fault(const char *body, guint8 *rec)
{
	int vcpu, spurious, fixed;
	unsigned long long gva, sptep, old, new_spte;
	char err[128];
	guint64 code;

	if (!SCAN_ALL(body,
		      "vcpu %d gva %llx error_code %127s sptep %llx old 0x%llx new %llx "
		      "spurious %d fixed %d",
		      &vcpu, &gva, err, &sptep, &old, &new_spte, &spurious, &fixed) ||
	    !parse_pferr(err, &code))
		return FALSE;
	put(rec, 8, 4, (guint32)vcpu);
	put(rec, 16, 8, gva);
	put(rec, 24, 8, code);
	put(rec, 32, 8, sptep);
	put(rec, 40, 8, old);
	put(rec, 48, 8, new_spte);
	put(rec, 56, 4, spurious ? 6 : fixed ? 5 : 4); /* RET_PF_SPURIOUS, _FIXED, _INVALID */
	return TRUE;
}

/* kvm_tdp_mmu_spte_changed: gfn, old and new SPTE, level, address space. */
static gboolean
encode_kvm_tdp_mmu_spte_changed(const char *body, guint8 *rec)
{
	int as_id, level;
	unsigned long long gfn, old, new_spte;

	if (!SCAN_ALL(body, "as id %d gfn %llx level %d old_spte %llx new_spte %llx", &as_id, &gfn,
		      &level, &old, &new_spte))
		return FALSE;
	put(rec, 8, 8, gfn);
	put(rec, 16, 8, old);
	put(rec, 24, 8, new_spte);
	put(rec, 32, 1, (guint)level);
	put(rec, 33, 1, (guint)as_id);
	return TRUE;
}

/* kvm_mmu_spte_requested: gfn, pfn, level. */
static gboolean
encode_kvm_mmu_spte_requested(const char *body, guint8 *rec)
{
	unsigned long long gfn, pfn;
	int level;

	if (!SCAN_ALL(body, "gfn %llx pfn %llx level %d", &gfn, &pfn, &level))
		return FALSE;
	put(rec, 8, 8, gfn);
	put(rec, 16, 8, pfn);
	put(rec, 24, 1, (guint)level);
	return TRUE;
}

/* kvm_mmu_set_spte: r, x and u back from "(rwxu)"; w is the SPTE's bit 1. */
static gboolean
encode_kvm_mmu_set_spte(const char *body, guint8 *rec)
{
	unsigned long long gfn, spte, sptep;
	char perm[8];
	int level;

	if (!SCAN_ALL(body, "gfn %llx spte %llx (%7[rwxu-]) level %d at %llx", &gfn, &spte, perm,
		      &level, &sptep) ||
	    strlen(perm) < 3 || strlen(perm) > 4 || (perm[1] == 'w') != !!(spte & 2))
		return FALSE;
	put(rec, 8, 8, gfn);
	put(rec, 16, 8, spte);
	put(rec, 24, 8, sptep);
	put(rec, 32, 1, (guint)level);
	put(rec, 33, 1, perm[0] == 'r');
	put(rec, 34, 1, perm[2] == 'x');
	put(rec, 35, 1, perm[3] ? (perm[3] == 'u' ? 1 : 0) : 0xff); /* u == -1: not printed */
	return TRUE;
}

/* KVM_MMU_PAGE_PRINTK()'s text back into mmu_valid_gen, gfn, role, root_count, unsync; *rest
 * is what follows. The role's bit layout is union kvm_mmu_page_role's (arch/x86/include/asm/
 * kvm_host.h, read in ColinIanKing/linux-next): level 0-3, has_4_byte_gpte 4, quadrant 5-6,
 * direct 7, access 8-10, invalid 11, efer_nx 12, ..., ad_disabled 17. */
static gboolean
encode_sp(const char *body, guint8 *rec, const char **rest)
{
	static const char *const access_str[] = {"---", "--x", "w--", "w-x",
						 "-u-", "-ux", "wu-", "wux"};
	unsigned int gen, level, bytes, quadrant, root;
	unsigned long long gfn;
	char direct[8], access[4], sync[8];
	int n = -1, m = -1;
	guint32 role;

	if (sscanf(body, "sp gen %u gfn %llx l%u %u-byte q%u%n", &gen, &gfn, &level, &bytes,
		   &quadrant, &n) != 5 ||
	    n < 0)
		return FALSE;
	body += n;
	direct[0] = '\0';
	if (g_str_has_prefix(body, " direct")) {
		strcpy(direct, "direct");
		body += strlen(" direct");
	}
	if (sscanf(body, " %3s%n", access, &m) != 1)
		return FALSE;
	body += m;
	role = (level & 15) | (bytes == 4) << 4 | (quadrant & 3) << 5 | (direct[0] != 0) << 7;
	for (guint i = 0; i < G_N_ELEMENTS(access_str); i++)
		if (strcmp(access, access_str[i]) == 0)
			role |= i << 8;
	if (g_str_has_prefix(body, " invalid")) {
		role |= 1u << 11;
		body += strlen(" invalid");
	}
	if (*body++ != ' ')
		return FALSE;
	if (*body == '!')
		body++;
	else
		role |= 1u << 12;
	if (!g_str_has_prefix(body, "nxe "))
		return FALSE;
	body += 4;
	if (*body == '!') {
		role |= 1u << 17;
		body++;
	}
	m = -1;
	if (sscanf(body, "ad root %u %7[a-z]%n", &root, sync, &m) != 2 || m < 0)
		return FALSE;
	put(rec, 8, 1, gen);
	put(rec, 16, 8, gfn);
	put(rec, 24, 4, role);
	put(rec, 28, 4, root);
	put(rec, 32, 1, strcmp(sync, "unsync") == 0);
	*rest = body + m;
	return TRUE;
}

/* kvm_mmu_get_page: the shadow page, and created from "new". */
static gboolean
encode_kvm_mmu_get_page(const char *body, guint8 *rec)
{
	const char *rest;

	if (!encode_sp(body, rec, &rest))
		return FALSE;
	put(rec, 33, 1, strcmp(rest, " new") == 0);
	return strcmp(rest, " new") == 0 || strcmp(rest, " existing") == 0;
}

/* kvm_mmu_prepare_zap_page: the shadow page. */
static gboolean
encode_kvm_mmu_prepare_zap_page(const char *body, guint8 *rec)
{
	const char *rest;

	return encode_sp(body, rec, &rest) && *rest == '\0';
}

/* kvm_mmu_zap_all_fast: the generation and the pages in use. */
static gboolean
encode_kvm_mmu_zap_all_fast(const char *body, guint8 *rec)
{
	unsigned int gen, used;

	if (!SCAN_ALL(body, "kvm-mmu-valid-gen %u used_pages %x", &gen, &used))
		return FALSE;
	put(rec, 8, 1, gen);
	put(rec, 12, 4, used);
	return TRUE;
}

/* mark_mmio_spte: sptep, gfn, access, generation. */
static gboolean
encode_mark_mmio_spte(const char *body, guint8 *rec)
{
	unsigned long long sptep, gfn;
	unsigned int access, gen;

	if (!SCAN_ALL(body, "sptep:%llx gfn %llx access %x gen %x", &sptep, &gfn, &access, &gen))
		return FALSE;
	put(rec, 8, 8, sptep);
	put(rec, 16, 8, gfn);
	put(rec, 24, 4, access);
	put(rec, 28, 4, gen);
	return TRUE;
}

/* handle_mmio_page_fault: address, gfn, access. */
static gboolean
encode_handle_mmio_page_fault(const char *body, guint8 *rec)
{
	unsigned long long addr, gfn;
	unsigned int access;

	if (!SCAN_ALL(body, "addr:%llx gfn %llx access %x", &addr, &gfn, &access))
		return FALSE;
	put(rec, 8, 8, addr);
	put(rec, 16, 8, gfn);
	put(rec, 24, 4, access);
	return TRUE;
}

/* check_mmio_spte: the SPTE and both generations (valid is computed). */
static gboolean
encode_check_mmio_spte(const char *body, guint8 *rec)
{
	unsigned long long spte;
	unsigned int kvm_gen, spte_gen;
	int valid;

	if (!SCAN_ALL(body, "spte %llx kvm_gen %x spte-gen %x valid %d", &spte, &kvm_gen, &spte_gen,
		      &valid) ||
	    valid != (kvm_gen == spte_gen))
		return FALSE;
	put(rec, 8, 4, kvm_gen);
	put(rec, 12, 4, spte_gen);
	put(rec, 16, 8, spte);
	return TRUE;
}

/* kvm_mmu_split_huge_page: gfn, SPTE, level, errno. */
static gboolean
encode_kvm_mmu_split_huge_page(const char *body, guint8 *rec)
{
	unsigned long long gfn, spte;
	int level, err;

	if (!SCAN_ALL(body, "gfn %llx spte %llx level %d errno %d", &gfn, &spte, &level, &err))
		return FALSE;
	put(rec, 8, 8, gfn);
	put(rec, 16, 8, spte);
	put(rec, 24, 4, (guint32)level);
	put(rec, 28, 4, (guint32)err);
	return TRUE;
}

/* clang-format off */
#define SP_PRINTK                                                                                  \
	"({ const char *saved_ptr = trace_seq_buffer_ptr(p); static const char *access_str[] = { " \
	"\"---\", \"--x\", \"w--\", \"w-x\", \"-u-\", \"-ux\", \"wu-\", \"wux\" }; union "         \
	"kvm_mmu_page_role role; role.word = REC->role; trace_seq_printf(p, \"sp gen %u gfn %llx " \
	"l%u %u-byte q%u%s %s%s\" \" %snxe %sad root %u %s%c\", REC->mmu_valid_gen, REC->gfn, "    \
	"role.level, role.has_4_byte_gpte ? 4 : 8, role.quadrant, role.direct ? \" direct\" : "    \
	"\"\", access_str[role.access], role.invalid ? \" invalid\" : \"\", "                      \
	"role.efer_nx ? \"\" : "                                                                  \
	"\"!\", role.ad_disabled ? \"!\" : \"\", REC->root_count, REC->unsync ? \"unsync\" : "     \
	"\"sync\", 0); saved_ptr; })"

#define SP_FIELDS                                                                                  \
	{ "__u8", "mmu_valid_gen", 8, 1, 0 }, { "__u64", "gfn", 16, 8, 0 },                        \
		{ "__u32", "role", 24, 4, 0 }, { "__u32", "root_count", 28, 4, 0 },                \
		{ "bool", "unsync", 32, 1, 0 }

/* kvm_inj_exception's print fmt: the vector through kvm_trace_sym_exc, the error code through a
 * __print_symbolic() with no symbols (a number), as tracefs shows it. */
static gchar *
kvm_inj_exception_print_fmt(void)
{
	GString *s = g_string_new("\"%s%s%s%s%s\", __print_symbolic(REC->exception");

	for (guint i = 0; i < G_N_ELEMENTS(exceptions); i++)
		g_string_append_printf(s, ", { %u, \"#\" \"%s\" }", exceptions[i].nr,
				       exceptions[i].name);
	g_string_append(s, "), !REC->has_error ? \"\" : \" (\", !REC->has_error ? \"\" : "
			   "__print_symbolic(REC->error_code, { }), !REC->has_error ? \"\" : \")\", "
			   "REC->reinjected ? \" [reinjected]\" : \"\"");
	return g_string_free(s, FALSE);
}

#define RANGE_FIELDS { "unsigned long", "start", 8, 8, 0 }, { "unsigned long", "end", 16, 8, 0 }

static const TdEvent events[] = {
	{ "kvm", "kvm_exit", 72,
	  { { "unsigned int", "exit_reason", 8, 4, 0 }, { "unsigned long", "guest_rip", 16, 8, 0 },
	    { "u32", "isa", 24, 4, 0 }, { "u64", "info1", 32, 8, 0 }, { "u64", "info2", 40, 8, 0 },
	    { "u32", "intr_info", 48, 4, 0 }, { "u32", "error_code", 52, 4, 0 },
	    { "unsigned int", "vcpu_id", 56, 4, 0 }, { "u64", "requests", 64, 8, 0 } },
	  NULL, kvm_exit_print_fmt, encode_kvm_exit },
	{ "kvm", "kvm_entry", 40,
	  { { "unsigned int", "vcpu_id", 8, 4, 0 }, { "unsigned long", "rip", 16, 8, 0 },
	    { "bool", "immediate_exit", 24, 1, 0 }, { "u32", "intr_info", 28, 4, 0 },
	    { "u32", "error_code", 32, 4, 0 } },
	  "\"vcpu %u, rip 0x%lx intr_info 0x%08x error_code 0x%08x%s\", REC->vcpu_id, REC->rip, "
	  "REC->intr_info, REC->error_code, REC->immediate_exit ? \"[immediate exit]\" : \"\"",
	  NULL, encode_kvm_entry },
	{ "kvm", "kvm_inj_virq", 16,
	  { { "unsigned int", "vector", 8, 4, 0 }, { "bool", "soft", 12, 1, 0 },
	    { "bool", "reinjected", 13, 1, 0 } },
	  "\"%s 0x%x%s\", REC->soft ? \"Soft/INTn\" : \"IRQ\", REC->vector, REC->reinjected ? "
	  "\" [reinjected]\" : \"\"",
	  NULL, encode_kvm_inj_virq },
	{ "kvm", "kvm_inj_exception", 20,
	  { { "u8", "exception", 8, 1, 0 }, { "u8", "has_error", 9, 1, 0 },
	    { "u32", "error_code", 12, 4, 0 }, { "bool", "reinjected", 16, 1, 0 } },
	  NULL, kvm_inj_exception_print_fmt, encode_kvm_inj_exception },
	{ "kvm", "kvm_pio", 28,
	  { { "unsigned int", "rw", 8, 4, 0 }, { "unsigned int", "port", 12, 4, 0 },
	    { "unsigned int", "size", 16, 4, 0 }, { "unsigned int", "count", 20, 4, 0 },
	    { "unsigned int", "val", 24, 4, 0 } },
	  "\"pio_%s at 0x%x size %d count %d val 0x%x %s\", REC->rw ? \"write\" : \"read\", "
	  "REC->port, REC->size, REC->count, REC->val, REC->count > 1 ? \"(...)\" : \"\"",
	  NULL, encode_kvm_pio },
	{ "kvm", "kvm_hypercall", 48,
	  { { "unsigned long", "nr", 8, 8, 0 }, { "unsigned long", "a0", 16, 8, 0 },
	    { "unsigned long", "a1", 24, 8, 0 }, { "unsigned long", "a2", 32, 8, 0 },
	    { "unsigned long", "a3", 40, 8, 0 } },
	  "\"nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx\", REC->nr, REC->a0, REC->a1, REC->a2, "
	  "REC->a3",
	  NULL, encode_kvm_hypercall },
	{ "kvm", "kvm_mmio", 32,
	  { { "u32", "type", 8, 4, 0 }, { "u32", "len", 12, 4, 0 }, { "u64", "gpa", 16, 8, 0 },
	    { "u64", "val", 24, 8, 0 } },
	  "\"mmio %s len %u gpa 0x%llx val 0x%llx\", __print_symbolic(REC->type, { 0, "
	  "\"unsatisfied-read\" }, { 1, \"read\" }, { 2, \"write\" }), REC->len, REC->gpa, "
	  "REC->val",
	  NULL, encode_kvm_mmio },
	{ "kvm", "kvm_page_fault", 40,
	  { { "unsigned int", "vcpu_id", 8, 4, 0 }, { "unsigned long", "guest_rip", 16, 8, 0 },
	    { "u64", "fault_address", 24, 8, 0 }, { "u64", "error_code", 32, 8, 0 } },
	  "\"vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx\", REC->vcpu_id, "
	  "REC->guest_rip, REC->fault_address, REC->error_code",
	  NULL, encode_kvm_page_fault },
	{ "kvm", "kvm_unmap_hva_range", 24, { RANGE_FIELDS },
	  "\"mmu notifier unmap range: %#016lx -- %#016lx\", REC->start, REC->end", NULL,
	  encode_kvm_unmap_hva_range },
	{ "kvm", "kvm_age_hva", 24, { RANGE_FIELDS },
	  "\"mmu notifier age hva: %#016lx -- %#016lx\", REC->start, REC->end", NULL,
	  encode_kvm_age_hva },
	{ "kvm", "kvm_test_age_hva", 16, { { "unsigned long", "hva", 8, 8, 0 } },
	  "\"mmu notifier test age hva: %#016lx\", REC->hva", NULL, encode_kvm_test_age_hva },
	{ "kvm", "kvm_vm_set_mem_attributes", 32,
	  { { "gfn_t", "start", 8, 8, 0 }, { "gfn_t", "end", 16, 8, 0 },
	    { "unsigned long", "attr", 24, 8, 0 } },
	  "\"%#016llx -- %#016llx [0x%lx]\", REC->start, REC->end, REC->attr", NULL,
	  encode_kvm_vm_set_mem_attributes },
	{ "kvmmmu", "fast_page_fault", 64,
	  { { "int", "vcpu_id", 8, 4, 1 }, { "gpa_t", "cr2_or_gpa", 16, 8, 0 },
	    { "u64", "error_code", 24, 8, 0 }, { "u64 *", "sptep", 32, 8, 0 },
	    { "u64", "old_spte", 40, 8, 0 }, { "u64", "new_spte", 48, 8, 0 },
	    { "int", "ret", 56, 4, 1 } },
	  "\"vcpu %d gva %llx error_code %s sptep %p old %#llx new %llx spurious %d fixed %d\", "
	  "REC->vcpu_id, REC->cr2_or_gpa, __print_flags(REC->error_code, \"|\", { ((((1UL))) << "
	  "(0)), \"P\" }, { ((((1UL))) << (1)), \"W\" }, { ((((1UL))) << (2)), \"U\" }, { "
	  "((((1UL))) << (5)), \"PK\" }, { ((((1UL))) << (6)), \"SS\" }, { ((((1UL))) << (15)), "
	  "\"SGX\" }, { ((((1UL))) << (3)), \"RSVD\" }, { ((((1UL))) << (4)), \"F\" }), "
	  "REC->sptep, "
	  "REC->old_spte, REC->new_spte, REC->ret == 6, REC->ret == 5",
	  NULL, encode_fast_page_fault },
	{ "kvmmmu", "kvm_tdp_mmu_spte_changed", 40,
	  { { "u64", "gfn", 8, 8, 0 }, { "u64", "old_spte", 16, 8, 0 },
	    { "u64", "new_spte", 24, 8, 0 }, { "u8", "level", 32, 1, 0 },
	    { "u8", "as_id", 33, 1, 0 } },
	  "\"as id %d gfn %llx level %d old_spte %llx new_spte %llx\", REC->as_id, REC->gfn, "
	  "REC->level, REC->old_spte, REC->new_spte",
	  NULL, encode_kvm_tdp_mmu_spte_changed },
	{ "kvmmmu", "kvm_mmu_spte_requested", 32,
	  { { "u64", "gfn", 8, 8, 0 }, { "u64", "pfn", 16, 8, 0 }, { "u8", "level", 24, 1, 0 } },
	  "\"gfn %llx pfn %llx level %d\", REC->gfn, REC->pfn, REC->level", NULL,
	  encode_kvm_mmu_spte_requested },
	{ "kvmmmu", "kvm_mmu_set_spte", 40,
	  { { "u64", "gfn", 8, 8, 0 }, { "u64", "spte", 16, 8, 0 }, { "u64", "sptep", 24, 8, 0 },
	    { "u8", "level", 32, 1, 0 }, { "bool", "r", 33, 1, 0 }, { "bool", "x", 34, 1, 0 },
	    { "signed char", "u", 35, 1, 1 } },
	  "\"gfn %llx spte %llx (%s%s%s%s) level %d at %llx\", REC->gfn, REC->spte, REC->r ? \"r\" "
	  ": \"-\", REC->spte & (1ULL << 1) ? \"w\" : \"-\", REC->x ? \"x\" : \"-\", "
	  "REC->u == -1 ? "
	  "\"\" : (REC->u ? \"u\" : \"-\"), REC->level, REC->sptep",
	  NULL, encode_kvm_mmu_set_spte },
	{ "kvmmmu", "kvm_mmu_get_page", 40,
	  { SP_FIELDS, { "bool", "created", 33, 1, 0 } },
	  "\"%s %s\", " SP_PRINTK ", REC->created ? \"new\" : \"existing\"", NULL,
	  encode_kvm_mmu_get_page },
	{ "kvmmmu", "kvm_mmu_prepare_zap_page", 40, { SP_FIELDS }, "\"%s\", " SP_PRINTK, NULL,
	  encode_kvm_mmu_prepare_zap_page },
	{ "kvmmmu", "kvm_mmu_zap_all_fast", 16,
	  { { "__u8", "mmu_valid_gen", 8, 1, 0 }, { "unsigned int", "mmu_used_pages", 12, 4, 0 } },
	  "\"kvm-mmu-valid-gen %u used_pages %x\", REC->mmu_valid_gen, REC->mmu_used_pages", NULL,
	  encode_kvm_mmu_zap_all_fast },
	{ "kvmmmu", "mark_mmio_spte", 32,
	  { { "void *", "sptep", 8, 8, 0 }, { "gfn_t", "gfn", 16, 8, 0 },
	    { "unsigned", "access", 24, 4, 0 }, { "unsigned int", "gen", 28, 4, 0 } },
	  "\"sptep:%p gfn %llx access %x gen %x\", REC->sptep, REC->gfn, REC->access, REC->gen",
	  NULL, encode_mark_mmio_spte },
	{ "kvmmmu", "handle_mmio_page_fault", 32,
	  { { "u64", "addr", 8, 8, 0 }, { "gfn_t", "gfn", 16, 8, 0 },
	    { "unsigned", "access", 24, 4, 0 } },
	  "\"addr:%llx gfn %llx access %x\", REC->addr, REC->gfn, REC->access", NULL,
	  encode_handle_mmio_page_fault },
	{ "kvmmmu", "check_mmio_spte", 24,
	  { { "unsigned int", "kvm_gen", 8, 4, 0 }, { "unsigned int", "spte_gen", 12, 4, 0 },
	    { "u64", "spte", 16, 8, 0 } },
	  "\"spte %llx kvm_gen %x spte-gen %x valid %d\", REC->spte, REC->kvm_gen, REC->spte_gen, "
	  "REC->kvm_gen == REC->spte_gen",
	  NULL, encode_check_mmio_spte },
	{ "kvmmmu", "kvm_mmu_split_huge_page", 32,
	  { { "u64", "gfn", 8, 8, 0 }, { "u64", "spte", 16, 8, 0 }, { "int", "level", 24, 4, 1 },
	    { "int", "errno", 28, 4, 1 } },
	  "\"gfn %llx spte %llx level %d errno %d\", REC->gfn, REC->spte, REC->level, REC->errno",
	  NULL, encode_kvm_mmu_split_huge_page },
};

/* clang-format on */

/* The table row of a kvm/kvmmmu event, or NULL. */
const TdEvent *
td_event_lookup(const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(events); i++)
		if (strcmp(events[i].name, name) == 0)
			return &events[i];
	return NULL;
}

/* The row's print fmt text (built for kvm_exit). */
gchar *
td_event_print_fmt(const TdEvent *ev)
{
	return ev->print_fmt ? g_strdup(ev->print_fmt) : ev->print_fmt_fn();
}

/* The names of the table's events. */
const char *const *
sim_tracedat_kernel_events(void)
{
	static const char *names[G_N_ELEMENTS(events) + 1];

	for (guint i = 0; i < G_N_ELEMENTS(events); i++)
		names[i] = events[i].name;
	return names;
}
