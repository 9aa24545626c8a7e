/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The engine side of hw: setting up a paging vCPU, mapping, running, the TLB flush stub and the
 * #PF acknowledgement. Decoding lives in hw-decode.c, the start-up self-test in hw-selftest.c,
 * the store fast path in hw-notdirty.c.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"
#define _GNU_SOURCE /* process_vm_readv(), memmem() */

#include <dlfcn.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "sim/cpu/hw-internal.h"

#include "mmu/mmu.h" /* KVM_HW_FLUSH_TLB_GFNS_MAX */

/*
 * The stub region, mapped at SIM_HW_STUB_GPA in every engine and never in an SPTE tree:
 *   +0x0000  PML4 of hw's identity tree: entries 0 and 1 point at the two PDPTs below
 *   +0x1000  PDPT of 1 GiB read-only leaves mapping [0, 512 GiB) onto itself
 *   +0x2000  PDPT of 1 GiB read-only leaves mapping [512 GiB, 1 TiB) onto itself
 *   +0x3000  an empty PML4: the CR3 of an engine nobody gave a root yet (every access faults)
 *   +0x4000  the flush stub: mov cr3, rax; hlt
 *   +0x4020  the CPUID stub: cpuid; hlt (what Unicorn's CPU model answers, for sim_hw_set_cpuid())
 *   +0x4030  the page-list flush stub: 1: mov rdi, [rsi]; invlpg [rdi]; add rsi, 8; dec rcx;
 *            jnz 1b; hlt
 *   +0x4100  the page list that stub reads (KVM_HW_FLUSH_TLB_GFNS_MAX addresses)
 * The identity tree covers all 40 physical-address bits, so the stubs run under it whatever
 * they read. Its leaves are read-only, so the one TLB entry
 * the stub leaves behind (the fetch of its hlt) cannot be written through.
 */
#define HW_STUB_IDENTITY_ROOT (SIM_HW_STUB_GPA + 0x0000)
#define HW_STUB_EMPTY_ROOT (SIM_HW_STUB_GPA + 0x3000)
#define HW_STUB_CODE (SIM_HW_STUB_GPA + 0x4000)
#define HW_STUB_CODE_END (HW_STUB_CODE + 4) /* RIP once the hlt has run */
#define HW_STUB_CPUID_CODE (SIM_HW_STUB_GPA + 0x4020)
#define HW_STUB_CPUID_CODE_END (HW_STUB_CPUID_CODE + 3)
#define HW_STUB_LIST_CODE (SIM_HW_STUB_GPA + 0x4030)
#define HW_STUB_LIST_CODE_END (HW_STUB_LIST_CODE + 16)
#define HW_STUB_LIST (SIM_HW_STUB_GPA + 0x4100)

/* x86 paging bits used by hw's own tables. */
#define HW_PTE_P (1ull << 0)
#define HW_PTE_RW (1ull << 1)
#define HW_PTE_A (1ull << 5)
#define HW_PTE_D (1ull << 6)
#define HW_PTE_PS (1ull << 7)

#define HW_CR0_PE (1ull << 0)
#define HW_CR0_ET (1ull << 4)
#define HW_CR0_WP (1ull << 16)
#define HW_CR0_PG (1ull << 31)
#define HW_CR4_PAE (1ull << 5)
#define HW_CR4_OSFXSR (1ull << 9)
#define HW_CR4_OSXMMEXCPT (1ull << 10)

G_DEFINE_QUARK(sim-hw-error-quark, sim_hw_error)

/* Writes hw's identity tree, the empty root and the flush stub into the stub region. */
static void
hw_stub_build(guint8 *stub)
{
	static const guint8 flush_code[] = { 0x0f, 0x22, 0xd8, /* mov cr3, rax */
					     0xf4 };            /* hlt */
	static const guint8 cpuid_code[] = { 0x0f, 0xa2, /* cpuid */
					     0xf4 };      /* hlt */
	static const guint8 list_code[] = {
		0x48, 0x8b, 0x3e,       /* 1: mov rdi, [rsi] */
		0x0f, 0x01, 0x3f,       /* invlpg [rdi] */
		0x48, 0x83, 0xc6, 0x08, /* add rsi, 8 */
		0x48, 0xff, 0xc9,       /* dec rcx */
		0x75, 0xf1,             /* jnz 1b */
		0xf4,                   /* hlt */
	};
	guint64 *pml4 = (guint64 *)stub;
	guint64 *pdpt = (guint64 *)(stub + 0x1000);
	guint i;

	pml4[0] = (SIM_HW_STUB_GPA + 0x1000) | HW_PTE_P | HW_PTE_RW | HW_PTE_A;
	pml4[1] = (SIM_HW_STUB_GPA + 0x2000) | HW_PTE_P | HW_PTE_RW | HW_PTE_A;
	/* 1024 entries over the two PDPT pages: leaf i maps i GiB. */
	for (i = 0; i < 1024; i++)
		pdpt[i] = ((guint64)i << 30) | HW_PTE_P | HW_PTE_A | HW_PTE_D | HW_PTE_PS;
	memcpy(stub + (HW_STUB_CODE - SIM_HW_STUB_GPA), flush_code, sizeof(flush_code));
	memcpy(stub + (HW_STUB_CPUID_CODE - SIM_HW_STUB_GPA), cpuid_code, sizeof(cpuid_code));
	memcpy(stub + (HW_STUB_LIST_CODE - SIM_HW_STUB_GPA), list_code, sizeof(list_code));
}

/*
 * The time of day every caller in a process with an engine sees: always the epoch. Unicorn
 * 2.0.1's softmmu TLB resizes itself at a flush by a wall-clock window (tlb_mmu_resize_locked()
 * in qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at 024cb28f: a TLB used under 30 %
 * for 100 ms of get_clock_realtime(), which is gettimeofday(), shrinks). The size of a
 * direct-mapped TLB decides which translations conflicts evict, and kvmsim's vCPUs, like real
 * ones, keep a zapped translation until they flush: a loaded host made a replay take other
 * faults than its recording. This definition in the executable takes precedence over libc's
 * for the engine's calls, so the window never expires and the TLB only grows, by its own use:
 * the same run, the same TLB. Nothing in kvmsim may read the wall clock anyway.
 */
int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	(void)tz;
	tv->tv_sec = 0; /* glibc declares tv nonnull */
	tv->tv_usec = 0;
	return 0;
}

/* Fails with SIM_HW_ERROR_ENGINE naming the Unicorn call, if err says it failed. */
static gboolean
hw_check(uc_err err, const char *what, GError **error)
{
	if (err == UC_ERR_OK)
		return TRUE;
	g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_ENGINE, "Unicorn: %s: %s", what,
		    uc_strerror(err));
	return FALSE;
}

/*
 * sim_hw_pf_ack() without copying the CPU state: uc_context_save() is a memcpy of the first
 * bytes of the engine's CPUX86State (uc->cpu->env_ptr in 2.0.1's uc.c), and the two fields it
 * patches have no register id. Where that state lives is found once per process, by the content
 * a saved context gives it: a pointer in struct uc_struct (the CPUState) and the offset of env in
 * the X86CPU it points to. Memory is only read through process_vm_readv(), which fails instead
 * of faulting on an address that is not mapped. Each new engine checks the layout against a
 * context of its own; if anything does not match, sim_hw_pf_ack() copies contexts as before.
 */
#define HW_ENV_SCAN_UC 0x4000u   /* bytes of struct uc_struct searched for the CPUState pointer */
#define HW_ENV_SCAN_CPU 0x20000u /* bytes of X86CPU searched for env */
#define HW_ENV_MAGIC 0x6b766d73696d0000ull /* "kvmsim", in RAX..R15 while searching */

static struct {
	gboolean searched;
	gboolean found;
	gsize cpu_field;  /* offset of the CPUState pointer in struct uc_struct */
	gsize env_offset; /* offset of env in the X86CPU */
} hw_env_layout;

/* Copies up to len bytes at addr; returns how many could be read before an unmapped page. */
static gsize hw_read_mapped(guintptr addr, void *buf, gsize len);

/*
 * QEMU's tlb_flush_page() (qemu/accel/tcg/cputlb.c, read in unicorn-engine/unicorn at 024cb28f:
 * the page's entry in every mmu_idx, the victim TLB, a whole mmu_idx if a large page covers it,
 * and the page's jump-cache entries), which is all the invlpg helper does outside SVM guest mode.
 * libunicorn exports it with its target suffix; looked up once, NULL if this build does not.
 */
static void (*hw_tlb_flush_page)(gpointer cpu, guint64 addr);

/* Whether the CPUState at cpu holds a pointer to env (its env_ptr) in the bytes before env: the
 * check that makes calling tlb_flush_page() on it safe. */
static gboolean
hw_cpu_holds_env(const guint8 *cpu, const guint8 *env)
{
	gsize len = (gsize)(env - cpu);
	g_autofree guint8 *bytes = len <= HW_ENV_SCAN_CPU ? g_malloc(len) : NULL;

	if (!bytes || hw_read_mapped((guintptr)cpu, bytes, len) != len)
		return FALSE;
	for (gsize at = 0; at + sizeof(guint64) <= len; at += sizeof(guint64)) {
		guint64 ptr;

		memcpy(&ptr, bytes + at, sizeof(ptr));
		if (ptr == (guintptr)env)
			return TRUE;
	}
	return FALSE;
}

/*
 * Whether env (holding what a context just saved, data) is the engine's live state and not a
 * copy of it: a register written through Unicorn shows there.
 */
static gboolean
hw_env_is_live(SimHw *hw, guintptr env, const guint8 *data)
{
	guint64 rax, probe = ~HW_ENV_MAGIC, seen = 0;

	memcpy(&rax, data, sizeof(rax));
	uc_reg_write(hw->uc, UC_X86_REG_RAX, &probe);
	hw_read_mapped(env, &seen, sizeof(seen));
	uc_reg_write(hw->uc, UC_X86_REG_RAX, &rax);
	return seen == probe;
}

static gsize
hw_read_mapped(guintptr addr, void *buf, gsize len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };
	ssize_t n = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	return n < 0 ? 0 : (gsize)n;
}

/*
 * Searches the engine's memory for the state data (env_size bytes) a context just saved. Other
 * heap pointers of struct uc_struct also lead to it, from farther away and not in every engine
 * alike: the one it is nearest to is its own X86CPU.
 */
static void
hw_env_search(SimHw *hw, const guint8 *data, gsize env_size)
{
	g_autofree guint8 *uc = g_malloc(HW_ENV_SCAN_UC), *cpu = g_malloc(HW_ENV_SCAN_CPU);
	g_autofree guint8 *check = g_malloc(env_size);
	gsize uc_len = hw_read_mapped((guintptr)hw->uc, uc, HW_ENV_SCAN_UC);
	gsize best = HW_ENV_SCAN_CPU;

	for (gsize field = 0; field + sizeof(guint64) <= uc_len; field += sizeof(guint64)) {
		guint64 ptr;

		memcpy(&ptr, uc + field, sizeof(ptr));
		if (ptr < 0x10000 || ptr % sizeof(guint64))
			continue;
		gsize cpu_len = hw_read_mapped((guintptr)ptr, cpu, best);

		/* env starts with the 16 general-purpose registers, which hold the magic */
		const guint8 *hit = memmem(cpu, cpu_len, data, 16 * sizeof(guint64));
		gsize at = hit ? (gsize)(hit - cpu) : best;

		if (at < best && at % sizeof(guint64) == 0 &&
		    hw_read_mapped((guintptr)ptr + at, check, env_size) == env_size &&
		    memcmp(check, data, env_size) == 0 && hw_env_is_live(hw, (guintptr)ptr + at, data)) {
			hw_env_layout.found = TRUE;
			hw_env_layout.cpu_field = field;
			hw_env_layout.env_offset = at;
			best = at;
		}
	}
}

/* The offset in hw->env of a register with no side effect on write (CR2): where two probes
 * written through Unicorn both show, or -1. */
static gssize
hw_env_field(SimHw *hw, int reg)
{
	guint64 old, probe[2] = { HW_ENV_MAGIC | 0x11, ~HW_ENV_MAGIC }, zero = 0;
	gssize at[2];

	uc_reg_read(hw->uc, reg, &old);
	for (guint i = 0; i < 2; i++) {
		uc_reg_write(hw->uc, reg, &probe[i]);
		const guint8 *hit = memmem(hw->env, hw->env_size, &probe[i], sizeof(probe[i]));

		at[i] = hit ? hit - hw->env : -1;
		uc_reg_write(hw->uc, reg, &zero);
	}
	uc_reg_write(hw->uc, reg, &old);
	return at[0] >= 0 && at[0] == at[1] && at[0] % 8 == 0 ? at[0] : -1;
}

/* Sets hw->env if this engine's state is where the layout says and holds what a context does. */
static void
hw_env_locate(SimHw *hw)
{
	int regs[16];
	guint64 values[16], zero = 0;
	void *ptrs[16], *zeros[16];
	const guint8 *blob = (const guint8 *)hw->ctx;
	const guint8 *data;
	gsize env_size;
	guint8 *env;
	guint i;

	for (i = 0; i < 16; i++) {
		static const int gprs[16] = {
			UC_X86_REG_RAX, UC_X86_REG_RCX, UC_X86_REG_RDX, UC_X86_REG_RBX,
			UC_X86_REG_RSP, UC_X86_REG_RBP, UC_X86_REG_RSI, UC_X86_REG_RDI,
			UC_X86_REG_R8,  UC_X86_REG_R9,  UC_X86_REG_R10, UC_X86_REG_R11,
			UC_X86_REG_R12, UC_X86_REG_R13, UC_X86_REG_R14, UC_X86_REG_R15,
		};

		regs[i] = gprs[i];
		values[i] = HW_ENV_MAGIC | i;
		ptrs[i] = &values[i];
		zeros[i] = &zero;
	}
	uc_reg_write_batch(hw->uc, regs, ptrs, 16);
	uc_context_save(hw->uc, hw->ctx);
	/* the context's data (a copy of env, regs first) follows a small header */
	data = memmem(blob, hw->ctx_size, values, sizeof(values));
	if (data) {
		env_size = hw->ctx_size - (gsize)(data - blob);
		if (!hw_env_layout.searched) {
			hw_env_layout.searched = TRUE;
			*(gpointer *)&hw_tlb_flush_page = dlsym(RTLD_DEFAULT, "tlb_flush_page_x86_64");
			hw_notdirty_locate();
			hw_env_search(hw, data, env_size);
		}
		if (hw_env_layout.found) {
			guint8 *cpu;

			memcpy(&cpu, (const guint8 *)hw->uc + hw_env_layout.cpu_field, sizeof(cpu));
			env = cpu + hw_env_layout.env_offset;
			g_autofree guint8 *live = g_malloc(env_size);

			if (hw_read_mapped((guintptr)env, live, env_size) == env_size &&
			    memcmp(live, data, env_size) == 0 && hw_env_is_live(hw, (guintptr)env, data)) {
				hw->env = env;
				hw->env_size = env_size;
				if (hw_tlb_flush_page && hw_cpu_holds_env(cpu, env))
					hw->cpu = cpu;
				hw->env_cr2 = hw_env_field(hw, UC_X86_REG_CR2);
			}
		}
	}
	uc_reg_write_batch(hw->uc, regs, zeros, 16);
}

/* Builds an engine as sim_hw_new() does, without the self-test (which itself needs one). */
SimHw *
hw_new_unchecked(GError **error)
{
	g_autoptr(SimHw) hw = g_new0(SimHw, 1);
	int regs[] = { UC_X86_REG_CR4, UC_X86_REG_CR0, UC_X86_REG_CR3 };
	guint64 cr4 = HW_CR4_PAE | HW_CR4_OSFXSR | HW_CR4_OSXMMEXCPT;
	guint64 cr0 = HW_CR0_PG | HW_CR0_WP | HW_CR0_ET | HW_CR0_PE;
	guint64 cr3 = HW_STUB_EMPTY_ROOT;
	void *vals[] = { &cr4, &cr0, &cr3 };

	/* without hw-xmod.c's definition, nothing would drop the decodes of a rewritten block, or
	 * another engine's blocks of it: refused rather than run or charge stale code */
	if (!hw_xmod_locate()) {
		g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_ENGINE,
			    "libunicorn does not call kvmsim's tb_invalidate_phys_page_fast_x86_64 "
			    "(not in the executable's dynamic symbol table?): modified code would "
			    "run stale");
		return NULL;
	}
	if (!hw_check(uc_open(UC_ARCH_X86, UC_MODE_64, &hw->uc), "uc_open", error))
		return NULL;
	/* An empty exit list: no `until` address for Unicorn to walk after each run. */
	if (!hw_check(uc_ctl_exits_enable(hw->uc), "enabling exits", error))
		return NULL;
	if (!hw_check(uc_context_alloc(hw->uc, &hw->ctx), "uc_context_alloc", error))
		return NULL;
	hw->ctx_size = uc_context_size(hw->uc);
	hw->code_pages = g_hash_table_new(g_direct_hash, g_direct_equal);
	hw->maps = g_array_new(FALSE, FALSE, sizeof(HwMap));
	hw_engine_add(hw);
	hw_env_locate(hw);

	hw->stub = g_aligned_alloc0(1, SIM_HW_STUB_SIZE, HW_PAGE_SIZE);
	hw_stub_build(hw->stub);
	if (!sim_hw_map(hw, SIM_HW_STUB_GPA, SIM_HW_STUB_SIZE, hw->stub, error))
		return NULL;
	/* Raw writes, before the first run: no flush is needed yet. */
	if (!hw_check(uc_reg_write_batch(hw->uc, regs, vals, G_N_ELEMENTS(regs)),
		      "setting CR4, CR0 and CR3", error))
		return NULL;
	if (!hw_decode_init(hw, error))
		return NULL;
	return g_steal_pointer(&hw);
}

/* The self-test comes first: an engine is only handed out on a build that passed it. */
SimHw *
sim_hw_new(GError **error)
{
	if (!sim_hw_selftest(error))
		return NULL;
	return hw_new_unchecked(error);
}

/* Frees the engine and what hw allocated for it; the caller's mapped memory stays. */
void
sim_hw_free(SimHw *hw)
{
	if (!hw)
		return;
	if (hw->uc && hw->maps)
		hw_code_release(hw);
	hw_decode_fini(hw);
	if (hw->code_pages)
		hw_engine_remove(hw);
	g_clear_pointer(&hw->code_pages, g_hash_table_unref);
	g_clear_pointer(&hw->maps, g_array_unref);
	g_free(hw->code_rams);
	if (hw->ctx)
		uc_context_free(hw->ctx);
	/* Close before freeing: the engine maps the stub buffer. */
	if (hw->uc)
		uc_close(hw->uc);
	g_aligned_free(hw->stub);
	g_free(hw);
}

/* The engine, for the caller's hooks and registers. */
uc_engine *
sim_hw_uc(SimHw *hw)
{
	return hw->uc;
}

/*
 * Unicorn regions are keyed by guest-physical address: 2.0.1 uses the linear address as such.
 * Each region is a RAM block of its own, and QEMU keys translation blocks and their invalidation
 * by RAM block offset: host memory mapped at two gpas would be two pages to it, a store through
 * one never dropping the other's blocks, fast path or not. So no host byte is mapped twice.
 * kvmsim never asks for it: a vCPU maps hostmem's RAM windows once each, not memslots (whose
 * aliases mmu/memslot.c refuses anyway, and which would not be engine aliases).
 */
gboolean
sim_hw_map(SimHw *hw, guint64 gpa, gsize size, void *host, GError **error)
{
	const HwMap *had = hw_map_find(hw, HW_MAP_HOST, (guintptr)host, size);

	if (had) {
		g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_ENGINE,
			    "host memory for [%#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER
			    "x) is already mapped at %#" G_GINT64_MODIFIER "x", gpa, gpa + size,
			    had->gpa);
		return FALSE;
	}
	uc_err err = uc_mem_map_ptr(hw->uc, gpa, size, UC_PROT_ALL, host);

	if (err == UC_ERR_OK) {
		HwMap map = { gpa, size, host, hw_ram_addr(hw, host) };

		g_array_append_val(hw->maps, map);
		hw_xmod_mapped(hw, &map);
		return TRUE;
	}
	g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_ENGINE,
		    "Unicorn: cannot map [%#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER
		    "x): %s", gpa, gpa + size, uc_strerror(err));
	return FALSE;
}

/* A raw CR3 write, which flushes nothing: right only while the TLB holds nothing yet. */
void
sim_hw_load_root(SimHw *hw, guint64 cr3)
{
	uc_reg_write(hw->uc, UC_X86_REG_CR3, &cr3);
}

/* No until: hw's engines have an empty exit list (see hw.h for why). */
uc_err
sim_hw_run(SimHw *hw, guint64 rip)
{
	return uc_emu_start(hw->uc, rip, 0, 0, 0);
}

/* Runs one of hw's stubs to its hlt; only a caller's hook could stop it anywhere else. */
static void
hw_stub_run(SimHw *hw, guint64 start, guint64 end)
{
	uc_err err = uc_emu_start(hw->uc, start, 0, 0, 0);
	guint64 stopped_at;

	uc_reg_read(hw->uc, UC_X86_REG_RIP, &stopped_at);
	if (G_UNLIKELY(err != UC_ERR_OK || stopped_at != end))
		g_error("sim/cpu/hw: the TLB flush stub stopped at %#" G_GINT64_MODIFIER "x, not %#"
			G_GINT64_MODIFIER "x (%s): was it stopped by a hook? Bound block and code "
			"hooks below SIM_HW_TABLE_GPA", stopped_at, end, uc_strerror(err));
}

/*
 * The guest-invisible TLB flush: Unicorn 2.0.1 has no API that flushes the softmmu TLB
 * (uc_ctl_flush_tlb() flushes translated code, a CR3 write through uc_reg_write() is raw), but a
 * guest `mov cr3` does. The stub runs under hw's identity tree so that the fetch after the flush
 * (its hlt) needs no page of the guest's tree; nothing faults, so old_exception is left alone.
 */
void
sim_hw_flush_tlb(SimHw *hw, guint64 cr3)
{
	int regs[] = { UC_X86_REG_RIP, UC_X86_REG_RAX, UC_X86_REG_CR3 };
	guint64 rip, rax, root = HW_STUB_IDENTITY_ROOT;
	void *saved[] = { &rip, &rax };
	void *stub[] = { &root, &root };
	void *restored[] = { &rip, &rax, &cr3 };

	uc_reg_read_batch(hw->uc, regs, saved, 2);
	/* RAX and CR3 = the identity root (regs[1], regs[2]). */
	uc_reg_write_batch(hw->uc, regs + 1, stub, 2);
	hw_stub_run(hw, HW_STUB_CODE, HW_STUB_CODE_END);
	uc_reg_write_batch(hw->uc, regs, restored, 3);
}

/*
 * The same for the pages of [gpa, gpa + size) only, as sim_hw_flush_tlb_pages() flushes a list: a
 * full flush clears every entry of a softmmu TLB that QEMU may have grown to the working set, a
 * page's invlpg only its own (bench/bare). Past KVM_HW_FLUSH_TLB_GFNS_MAX pages a full flush.
 */
void
sim_hw_flush_tlb_range(SimHw *hw, guint64 gpa, guint64 size)
{
	guint64 pfns[KVM_HW_FLUSH_TLB_GFNS_MAX + 1];
	guint n = 0;

	if (size == 0)
		return;
	/* one page past the limit is enough for sim_hw_flush_tlb_pages() to flush everything */
	for (guint64 pfn = gpa / HW_PAGE_SIZE;
	     pfn <= (gpa + size - 1) / HW_PAGE_SIZE && n <= KVM_HW_FLUSH_TLB_GFNS_MAX; pfn++)
		pfns[n++] = pfn;
	sim_hw_flush_tlb_pages(hw, pfns, n);
}

/*
 * The pages of a list: each through QEMU's tlb_flush_page() where this build exports it (what
 * the stub's invlpg would call, without entering the engine), else in one run of the list stub,
 * which reads the addresses from its own region under hw's identity tree. A full flush past
 * KVM_HW_FLUSH_TLB_GFNS_MAX, nothing for none.
 */
void
sim_hw_flush_tlb_pages(SimHw *hw, const guint64 *pfns, guint n)
{
	int regs[] = { UC_X86_REG_CR3, UC_X86_REG_RSI, UC_X86_REG_RCX, UC_X86_REG_RIP,
		       UC_X86_REG_RDI, UC_X86_REG_EFLAGS };
	guint64 cr3, rsi, rcx, rip, rdi, rflags, root = HW_STUB_IDENTITY_ROOT;
	guint64 list = HW_STUB_LIST, count = n;
	guint64 *slots = (guint64 *)(hw->stub + (HW_STUB_LIST - SIM_HW_STUB_GPA));
	void *saved[] = { &cr3, &rsi, &rcx, &rip, &rdi, &rflags };
	void *stub[] = { &root, &list, &count };

	if (n == 0)
		return;
	if (hw->cpu && n <= KVM_HW_FLUSH_TLB_GFNS_MAX) {
		for (guint i = 0; i < n; i++)
			hw_tlb_flush_page(hw->cpu, pfns[i] * HW_PAGE_SIZE);
		return;
	}
	uc_reg_read_batch(hw->uc, regs, saved, G_N_ELEMENTS(regs));
	if (n > KVM_HW_FLUSH_TLB_GFNS_MAX) {
		sim_hw_flush_tlb(hw, cr3);
		return;
	}
	for (guint i = 0; i < n; i++)
		slots[i] = pfns[i] * HW_PAGE_SIZE;
	/* CR3 = the identity root, RSI = the list, RCX = its length (regs[0..2]). */
	uc_reg_write_batch(hw->uc, regs, stub, G_N_ELEMENTS(stub));
	hw_stub_run(hw, HW_STUB_LIST_CODE, HW_STUB_LIST_CODE_END);
	uc_reg_write_batch(hw->uc, regs, saved, G_N_ELEMENTS(regs));
}

/* A 32-bit field of the CPU state at from_end bytes before the end of a freshly saved context. */
gint32
hw_ctx_read_int(SimHw *hw, gsize from_end)
{
	gint32 value;

	uc_context_save(hw->uc, hw->ctx);
	memcpy(&value, (guint8 *)hw->ctx + hw->ctx_size - from_end, sizeof(value));
	return value;
}

/*
 * Unicorn reports a hooked exception without delivering it, so env->old_exception is never reset
 * and the next #PF looks nested (#DF, then a triple fault). Neither it nor the error code has a
 * register id: both are read and patched in a saved context.
 */
guint32
sim_hw_pf_ack(SimHw *hw)
{
	guint8 *blob = (guint8 *)hw->ctx;
	gint32 error_code, none = -1;

	if (G_LIKELY(hw->env)) {
		memcpy(&error_code, hw->env + hw->env_size - HW_CTX_ERROR_CODE_FROM_END,
		       sizeof(error_code));
		memcpy(hw->env + hw->env_size - HW_CTX_OLD_EXCEPTION_FROM_END, &none, sizeof(none));
		return error_code;
	}
	uc_context_save(hw->uc, hw->ctx);
	memcpy(&error_code, blob + hw->ctx_size - HW_CTX_ERROR_CODE_FROM_END, sizeof(error_code));
	memcpy(blob + hw->ctx_size - HW_CTX_OLD_EXCEPTION_FROM_END, &none, sizeof(none));
	uc_context_restore(hw->uc, hw->ctx);
	return error_code;
}

/* 2.0.1 (QEMU 5.0) has eip right after the 16 general-purpose registers at the start of
 * CPUX86State; sim_hw_pf_regs() checks it against uc_reg_read_batch() before relying on it. */
#define HW_ENV_EIP (16 * sizeof(guint64))

/* sim_hw_pf_regs() through the register API, until env is known to hold the same. */
static G_GNUC_NO_INLINE void
hw_pf_regs_api(SimHw *hw, guint64 *rip, guint64 *cr2)
{
	int regs[] = { UC_X86_REG_RIP, UC_X86_REG_CR2 };
	void *values[] = { rip, cr2 };
	guint64 env_rip, env_cr2;

	uc_reg_read_batch(hw->uc, regs, values, 2);
	/* the first fault off page zero decides, once: env's fields must be exactly these */
	if (hw->pf_regs_checked || !hw->env || hw->env_cr2 < 0 || !*rip || !*cr2)
		return;
	memcpy(&env_rip, hw->env + HW_ENV_EIP, sizeof(env_rip));
	memcpy(&env_cr2, hw->env + hw->env_cr2, sizeof(env_cr2));
	hw->pf_regs_checked = TRUE;
	hw->pf_regs_direct = env_rip == *rip && env_cr2 == *cr2;
}

void
sim_hw_pf_regs(SimHw *hw, guint64 *rip, guint64 *cr2)
{
	if (G_UNLIKELY(!hw->pf_regs_direct)) {
		hw_pf_regs_api(hw, rip, cr2);
		return;
	}
	memcpy(rip, hw->env + HW_ENV_EIP, sizeof(*rip));
	memcpy(cr2, hw->env + hw->env_cr2, sizeof(*cr2));
}

guint64
sim_hw_rip(SimHw *hw)
{
	guint64 rip;

	if (G_LIKELY(hw->pf_regs_direct))
		memcpy(&rip, hw->env + HW_ENV_EIP, sizeof(rip));
	else
		uc_reg_read(hw->uc, UC_X86_REG_RIP, &rip);
	return rip;
}

/* Whether the rdtsc or rdtscp at addr has a hook or is waiting for one. */
gboolean
hw_tsc_site_known(SimHw *hw, guint64 addr)
{
	guint i;

	for (i = 0; i < hw->tsc_hooked->len; i++)
		if (g_array_index(hw->tsc_hooked, guint64, i) == addr)
			return TRUE;
	for (i = 0; i < hw->tsc_pending->len; i++)
		if (g_array_index(hw->tsc_pending, guint64, i) == addr)
			return TRUE;
	return FALSE;
}

#define HW_MSR_TSC_AUX 0xc0000103u

/*
 * The code hook of one rdtsc or rdtscp: the instruction's last bytes tell which (prefixes come
 * first), and a site whose code has changed since it was hooked runs as whatever it now is.
 */
static void
hw_tsc_hook(uc_engine *uc, guint64 address, guint32 size, void *opaque)
{
	static const guint8 rdtsc[] = { 0x0f, 0x31 }, rdtscp[] = { 0x0f, 0x01, 0xf9 };
	SimHw *hw = opaque;
	guint8 bytes[HW_MAX_INSN_LEN];
	gboolean is_rdtscp;
	guint64 tsc, low, high, rip = address + size;

	if (size < sizeof(rdtsc) || size > sizeof(bytes) ||
	    uc_mem_read(uc, address, bytes, size) != UC_ERR_OK)
		return;
	is_rdtscp = size >= sizeof(rdtscp) &&
		    memcmp(bytes + size - sizeof(rdtscp), rdtscp, sizeof(rdtscp)) == 0;
	if (!is_rdtscp && memcmp(bytes + size - sizeof(rdtsc), rdtsc, sizeof(rdtsc)) != 0)
		return;
	tsc = hw->tsc_read(hw->tsc_opaque, address);
	low = tsc & G_MAXUINT32;
	high = tsc >> 32;
	uc_reg_write(uc, UC_X86_REG_RAX, &low);
	uc_reg_write(uc, UC_X86_REG_RDX, &high);
	if (is_rdtscp) {
		uc_x86_msr aux = { .rid = HW_MSR_TSC_AUX };

		uc_reg_read(uc, UC_X86_REG_MSR, &aux);
		aux.value &= G_MAXUINT32;
		uc_reg_write(uc, UC_X86_REG_RCX, &aux.value);
	}
	/* ends the block here; the run resumes past the instruction */
	uc_reg_write(uc, UC_X86_REG_RIP, &rip);
}

/* From now on, blocks decoded note their rdtsc and rdtscp for sim_hw_hook_tsc(). */
void
sim_hw_emulate_tsc(SimHw *hw, SimHwTscRead read, void *opaque)
{
	hw->tsc_read = read;
	hw->tsc_opaque = opaque;
}

void
sim_hw_intercept_wrmsr(SimHw *hw)
{
	hw->wrmsr = TRUE;
}

gboolean
sim_hw_tsc_pending(SimHw *hw)
{
	return hw->tsc_pending->len > 0;
}

/*
 * Hooks are looked up when a block is translated, so the translations that hold a new site are
 * dropped: every block that runs it again is translated with the hook in it.
 */
void
sim_hw_hook_tsc(SimHw *hw)
{
	for (guint i = 0; i < hw->tsc_pending->len; i++) {
		guint64 addr = g_array_index(hw->tsc_pending, guint64, i);
		uc_hook hook; /* never removed: it goes with the engine */

		uc_hook_add(hw->uc, &hook, UC_HOOK_CODE, hw_tsc_hook, hw, addr, addr);
		g_array_append_val(hw->tsc_hooked, addr);
		sim_hw_content_changed(hw, addr, HW_MAX_INSN_LEN);
	}
	g_array_set_size(hw->tsc_pending, 0);
}

/* CPUID.01H:ECX.RDRAND[bit 30], CPUID.(EAX=07H,ECX=0):EBX.RDSEED[bit 18] (SDM Vol. 2A CPUID). */
#define HW_CPUID_1_ECX_RDRAND (1u << 30)
#define HW_CPUID_7_EBX_RDSEED (1u << 18)

/* What Unicorn's CPU model answers for leaf/subleaf, between runs, through the CPUID stub. */
static void
hw_cpuid_native(SimHw *hw, guint32 leaf, guint32 subleaf, guint32 out[4])
{
	int regs[] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX,
		       UC_X86_REG_RIP, UC_X86_REG_CR3, UC_X86_REG_EFLAGS };
	guint64 saved[G_N_ELEMENTS(regs)], values[4] = { leaf, 0, subleaf, 0 };
	guint64 root = HW_STUB_IDENTITY_ROOT;
	void *saved_ptrs[G_N_ELEMENTS(regs)], *value_ptrs[4];
	guint i;

	for (i = 0; i < G_N_ELEMENTS(regs); i++)
		saved_ptrs[i] = &saved[i];
	for (i = 0; i < 4; i++)
		value_ptrs[i] = &values[i];
	uc_reg_read_batch(hw->uc, regs, saved_ptrs, G_N_ELEMENTS(regs));
	uc_reg_write_batch(hw->uc, regs, value_ptrs, 4);
	uc_reg_write(hw->uc, UC_X86_REG_CR3, &root);
	hw_stub_run(hw, HW_STUB_CPUID_CODE, HW_STUB_CPUID_CODE_END);
	uc_reg_read_batch(hw->uc, regs, value_ptrs, 4);
	for (i = 0; i < 4; i++)
		out[i] = (guint32)values[i];
	uc_reg_write_batch(hw->uc, regs, saved_ptrs, G_N_ELEMENTS(regs));
}

/* The guest's cpuid: leaves 1 and 7.0 from hw's table, every other one as Unicorn answers it. */
static int
hw_cpuid_hook(uc_engine *uc, void *opaque)
{
	SimHw *hw = opaque;
	int regs[] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
	guint64 leaf, subleaf, values[4];
	void *ptrs[4] = { &values[0], &values[1], &values[2], &values[3] };
	const guint32 *answer;

	uc_reg_read(uc, UC_X86_REG_RAX, &leaf);
	uc_reg_read(uc, UC_X86_REG_RCX, &subleaf);
	if ((guint32)leaf == 1)
		answer = hw->cpuid_1;
	else if ((guint32)leaf == 7 && (guint32)subleaf == 0)
		answer = hw->cpuid_7;
	else
		return 0;
	for (guint i = 0; i < 4; i++)
		values[i] = answer[i];
	uc_reg_write_batch(uc, regs, ptrs, 4);
	return 1;
}

/*
 * Unicorn's CPUID is its CPU model's, never the host's, so it is the same in every run already;
 * but every engine is CPU 0 to it. KVM gives each vCPU its own APIC ID (userspace sets it with
 * KVM_SET_CPUID2), and kvmsim emulates rdrand and rdseed, so the table says so.
 */
void
sim_hw_set_cpuid(SimHw *hw, guint32 apic_id)
{
	uc_hook hook; /* never removed: it goes with the engine */

	hw_cpuid_native(hw, 1, 0, hw->cpuid_1);
	hw_cpuid_native(hw, 7, 0, hw->cpuid_7);
	/* CPUID.01H:EBX[31:24] is the initial APIC ID */
	hw->cpuid_1[1] = (hw->cpuid_1[1] & 0x00ffffffu) | (apic_id << 24);
	hw->cpuid_1[2] |= HW_CPUID_1_ECX_RDRAND;
	hw->cpuid_7[1] |= HW_CPUID_7_EBX_RDSEED;
	if (!hw->cpuid_hooked)
		uc_hook_add(hw->uc, &hook, UC_HOOK_INSN, hw_cpuid_hook, hw, 1, 0, UC_X86_INS_CPUID);
	hw->cpuid_hooked = TRUE;
}
