/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One Unicorn 2.0.1 x86-64 engine made to behave like a vCPU whose second-level page table (EPT) is
 * walked by the engine itself (DESIGN.md §3).
 *
 * The engine runs with paging on and CR3 pointing at the SPTE tree that mmu/ writes into the table
 * region (mapped by the caller at SIM_HW_TABLE_GPA in every engine). Unicorn walks that tree as
 * x86-64 paging: EPT R (bit 0) is Present, W (bit 1) is Writable, bit 7 is the large-page bit (2M
 * and 1G leaves both work), non-leaf entries hold the child table's address in the table region.
 * 2.0.1 ignores the leaf's pfn: the page used is always the one at the guest-physical address. A
 * not-present or read-only entry raises #PF: UC_HOOK_INTR with intno 14, CR2 = the guest-physical
 * address, RIP = the faulting instruction (exact).
 *
 * Measured facts the SPTE encoding must respect (sim_hw_selftest() and tests/unit/test-hw.c check
 * them on the installed build):
 *  - Physical-address width: 40 bits (Unicorn's default CPU model). A present entry whose address
 *    field has any of bits 40..51 set raises #PF with error code 9 (P | RSVD), whether it is a
 *    table pointer or a leaf's pfn: table addresses and pfns must stay below SIM_HW_PHYS_LIMIT.
 *  - Bits 52..62 of a present entry are ignored; bit 63 is reserved (EFER.NXE cannot be set), so a
 *    present entry with bit 63 faults with error code 9 on every access. A not-present entry (bit 0
 *    clear, e.g. KVM's non-present value with only bit 63) is never checked further.
 *  - The walker sets A (bit 5) in every entry it walks whose bit 5 is clear, and D (bit 6) in a
 *    leaf it writes through whose bit 6 is clear, by a 32-bit store to the entry's low half (the
 *    high half is never written). An entry that already has the bit is not written at all: with
 *    bit 5 set in non-leaf entries and bits 5 and 6 set in leaves (KVM's write-back memtype plus
 *    IPAT encoding has both), the walker never modifies the tree.
 *  - #PF error codes: 0 read of a not-present entry, 2 write to a not-present entry, 3 write to a
 *    read-only entry, 9 reserved bit. An instruction fetch reports 0 like a read (no I/D bit
 *    without NX), and a read-modify-write on a not-present entry reports 0 (the load comes first):
 *    sim_hw_access_kind() reconstructs what an EPT violation would report.
 *
 * Rules for the caller's run loop:
 *  - Start runs with sim_hw_run(). The engine has Unicorn's exit list enabled and empty, so
 *    uc_emu_start()'s `until` is ignored: with an `until` address, Unicorn walks `until - 1` after
 *    every run under the guest's CR3, which faults (the SPTE tree never maps it), leaves
 *    old_exception at 14 and overwrites CR2. Stop runs with uc_emu_stop() or hlt.
 *  - In the UC_HOOK_INTR callback for intno 14, call sim_hw_pf_ack() (every time), or the next #PF
 *    is reported as #DF (8) and the one after it as a triple fault (the run just stops).
 *  - Bound UC_HOOK_BLOCK and UC_HOOK_CODE hooks below SIM_HW_TABLE_GPA (or ignore addresses in
 *    [SIM_HW_STUB_GPA, SIM_HW_STUB_GPA + SIM_HW_STUB_SIZE)): the TLB flushes run code there, and
 *    it must run to completion.
 *  - Give MMIO windows (guest-physical ranges with no memslot) a Unicorn mapping too (any buffer,
 *    never mapped in the SPTE tree): an access to an address Unicorn has no region for raises
 *    UC_HOOK_MEM_*_UNMAPPED before the walk, with RIP = the start of the translation block instead
 *    of the faulting instruction. With a mapping, the access raises #PF with an exact RIP, which is
 *    what sim_hw_emulate_mmio() needs.
 *  - The sim_hw_* calls that run the engine (sim_hw_flush_tlb(), sim_hw_flush_tlb_range(),
 *    sim_hw_flush_tlb_pages()) are made between runs, never from inside a hook.
 */
#ifndef KVMSIM_SIM_CPU_HW_H
#define KVMSIM_SIM_CPU_HW_H

#include <glib.h>
#include <unicorn/unicorn.h>

/* Where the SPTE table region is mapped in every engine (64 GiB). */
#define SIM_HW_TABLE_GPA 0x1000000000ull
/* hw's private stub region: an identity tree for hw's own use and the flush stub (96 GiB). */
#define SIM_HW_STUB_GPA 0x1800000000ull
#define SIM_HW_STUB_SIZE 0x5000ull
/* Table addresses and leaf pfns (as addresses) must stay below this: 40 physical-address bits. */
#define SIM_HW_PHYS_LIMIT (1ull << 40)

typedef struct SimHw SimHw;

#define SIM_HW_ERROR (sim_hw_error_quark())
GQuark sim_hw_error_quark(void);

typedef enum {
	SIM_HW_ERROR_ENGINE,      /* a Unicorn or Capstone call failed */
	SIM_HW_ERROR_SELFTEST,    /* this Unicorn build does not behave as kvmsim relies on */
	SIM_HW_ERROR_UNREADABLE,  /* the instruction bytes are not mapped */
	SIM_HW_ERROR_UNSUPPORTED, /* MMIO by an instruction the emulator does not handle */
} SimHwError;

typedef enum {
	SIM_HW_READ,
	SIM_HW_WRITE,
	SIM_HW_FETCH,
	SIM_HW_READ_WRITE, /* a read-modify-write of one memory operand (add [m], xchg, cmpxchg) */
} SimHwAccessKind;

/*
 * A UC_ARCH_X86/UC_MODE_64 engine ready for paging: CR4 = PAE|OSFXSR|OSXMMEXCPT, CR0 =
 * PG|WP|ET|PE, EFER as Unicorn sets it (LME|LMA), the stub region mapped, CR3 at an empty tree
 * until sim_hw_load_root(). Runs sim_hw_selftest() first (once per process) and fails with its
 * error if this build does not pass it.
 */
SimHw *sim_hw_new(GError **error);
void sim_hw_free(SimHw *hw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimHw, sim_hw_free)

uc_engine *sim_hw_uc(SimHw *hw);

/* Maps host memory at [gpa, gpa + size) with uc_mem_map_ptr(), UC_PROT_ALL; fails if any of it
 * is already mapped (hw.c says why). */
gboolean sim_hw_map(SimHw *hw, guint64 gpa, gsize size, void *host, GError **error);

/* Sets CR3 before the first run (a raw register write: it does not flush the TLB). */
void sim_hw_load_root(SimHw *hw, guint64 cr3);

/* Runs the guest from rip until a hook stops it, hlt or an error (uc_emu_start(), no until). */
uc_err sim_hw_run(SimHw *hw, guint64 rip);

/*
 * Flushes the whole softmmu TLB and loads cr3, between runs. RIP, RAX and old_exception are left as
 * they were. The guest's TLB then holds nothing but a read-only entry for hw's stub code page.
 */
void sim_hw_flush_tlb(SimHw *hw, guint64 cr3);

/*
 * Flushes the TLB entries of the pages of [gpa, gpa + size), between runs, as
 * sim_hw_flush_tlb_pages() does for their list (a full flush past KVM_HW_FLUSH_TLB_GFNS_MAX pages,
 * mmu/mmu.h). The registers are left as they were. For one page far less than sim_hw_flush_tlb(),
 * all the more once QEMU has grown the TLB.
 */
void sim_hw_flush_tlb_range(SimHw *hw, guint64 gpa, guint64 size);

/*
 * Flushes the TLB entries of the n pages pfns[] names (page numbers: address / 4096), between
 * runs: what an invlpg of each does, through QEMU's tlb_flush_page() where libunicorn exports it,
 * else with one run of a stub that does an invlpg per page (a full flush past
 * KVM_HW_FLUSH_TLB_GFNS_MAX pages, nothing for none). CR3, RIP, RSI, RDI, RCX and RFLAGS are left
 * as they were.
 */
void sim_hw_flush_tlb_pages(SimHw *hw, const guint64 *pfns, guint n);

/*
 * Stores to pages without code skip 2.0.1's per-store code lookup (hw-notdirty.c), once enabled
 * for the engine. The contract: a caller that enables it must call sim_hw_block() from its
 * UC_HOOK_BLOCK hook for every block, before the block runs (a block seen before may be skipped:
 * the mark is sticky): that call is what marks a page as code; a page whose block was never
 * passed to it could lose TLB_NOTDIRTY and run stale code after a store to it.
 */
void sim_hw_store_fast_path_enable(SimHw *hw);
/* Whether the fast path is on for this engine (off until enabled, without libunicorn's
 * tlb_set_dirty and tlb_reset_dirty or the fill interposition, or with KVMSIM_STORE_FAST_PATH=0
 * in the environment, read once). */
gboolean sim_hw_store_fast_path(SimHw *hw);

/*
 * In the caller's UC_HOOK_INTR callback for intno 14 (or between runs, before the next one):
 * returns the #PF error code and resets old_exception to -1, so the next #PF is reported as #PF
 * again (upstream #1883). Costs a uc_context save and restore, ~0.12 us.
 */
guint32 sim_hw_pf_ack(SimHw *hw);
/* In the #PF hook: RIP and CR2, as uc_reg_read_batch() gives them, without its per-register
 * dispatch once the engine's state was found (and checked against it at a first fault). */
void sim_hw_pf_regs(SimHw *hw, guint64 *rip, guint64 *cr2);
/* RIP as uc_reg_read() gives it, from the engine's state once sim_hw_pf_regs() checked it. */
guint64 sim_hw_rip(SimHw *hw);

/*
 * Checks, once per process (the result is cached), on a real paging setup: a fresh context reads -1
 * at old_exception; error codes 0 (read, not present), 2 (write, not present) and 3 (write,
 * read-only); the second and third #PF of a run are reported as 14 after sim_hw_pf_ack(); a run
 * leaves old_exception alone; a zapped PTE stays usable until sim_hw_flush_tlb() and faults after
 * it, which restores RIP and RAX.
 */
gboolean sim_hw_selftest(GError **error);

/*
 * What a real EPT violation would report for a #PF at gpa with this error code, the instruction at
 * rip: FETCH if gpa is on the instruction's own bytes or page, or on the next page where the
 * straight-line code from rip would have to be fetched; WRITE if the error code says write or the
 * instruction writes the memory operand that covers gpa (read-modify-write, xchg, xadd, cmpxchg,
 * string destinations); READ otherwise. Decodes with Capstone once per RIP (fixed-size cache).
 */
SimHwAccessKind sim_hw_access_kind(SimHw *hw, guint64 rip, guint64 gpa, guint32 pf_error_code);

/*
 * The bytes in [gpa, gpa + size) were changed by the host (not by this engine's stores): drops
 * Unicorn's translated code and hw's cached decodes for the range, by the RAM address of the
 * host memory mapped there (hw-code.c), so it leaves the TLB, the registers and CR3 alone and
 * runs nothing: it may be called from inside a hook, for this engine or any other.
 */
void sim_hw_content_changed(SimHw *hw, guint64 gpa, guint64 size);

/* Told the guest page address of each page a block runs from for the first time. */
typedef void (*SimHwCodeHook)(gpointer data, guint64 gpa);
void sim_hw_set_code_hook(SimHw *hw, SimHwCodeHook hook, gpointer data);

/*
 * Told of each range [gpa, gpa + size) whose decodes the engine dropped because its bytes changed
 * (a store, the host, a hooked rdtsc), so that copies of decoded blocks kept outside hw go too.
 * Called from wherever the change is seen, inside a hook included.
 */
typedef void (*SimHwForgetHook)(gpointer data, guint64 gpa, guint64 size);
void sim_hw_set_forget_hook(SimHw *hw, SimHwForgetHook hook, gpointer data);

/* The form of a port-I/O instruction, as its exit qualification reports it. */
typedef enum {
	SIM_HW_IO_STRING = 1 << 0, /* ins/outs */
	SIM_HW_IO_REP = 1 << 1,    /* with a rep prefix */
	SIM_HW_IO_IMM = 1 << 2,    /* the port is an immediate, not dx */
} SimHwIoForm;

/* The form of the in/out/ins/outs at rip and its length in *out_len (0 and 0 if it cannot be
 * decoded). */
SimHwIoForm sim_hw_io_form(SimHw *hw, guint64 rip, guint *out_len);
/* The address of the nth (from 0) port-I/O instruction of the block [addr, addr + size), or
 * G_MAXUINT64 if it has fewer. */
guint64 sim_hw_nth_io_insn(SimHw *hw, guint64 addr, guint32 size, guint nth);

/* Whether the instruction at rip is vmcall (0f 01 c1). */
gboolean sim_hw_insn_is_vmcall(SimHw *hw, guint64 rip);

/* The instruction at rip as text ("mov qword ptr [rax], rbx"), "(unreadable)" or "(bad)". */
gchar *sim_hw_disasm(SimHw *hw, guint64 rip);

/* A translation block as a UC_HOOK_BLOCK hook is handed it, decoded. */
typedef struct {
	guint64 addr;  /* G_MAXUINT64 for no block */
	guint32 size;
	guint32 insns; /* instructions in [addr, addr + size) */
	guint32 flags; /* SIM_HW_BLOCK_* */
} SimHwBlock;

/* Whether block is one and its bytes meet [gpa, gpa + len) (a block of size 0 has its first). */
gboolean sim_hw_block_meets(const SimHwBlock *block, guint64 gpa, guint64 len);

enum {
	/*
	 * One instruction where QEMU's translator would have made a longer block: the block QEMU
	 * builds to re-run alone a store that modified the block it was running (self-modifying
	 * code: the rest of that block never ran).
	 */
	SIM_HW_BLOCK_SINGLE_STEP = 1 << 0,
	/* (sim_hw_intercept_wrmsr()) the block starts with wrmsr / holds one further in */
	SIM_HW_BLOCK_WRMSR = 1 << 1,
	SIM_HW_BLOCK_WRMSR_INSIDE = 1 << 2,
};

/* The block [addr, addr + size), decoded once and cached per block (fixed-size cache). */
SimHwBlock sim_hw_block(SimHw *hw, guint64 addr, guint32 size);

/* Its number of instructions. */
guint32 sim_hw_block_insns(SimHw *hw, guint64 addr, guint32 size);

/*
 * The instructions of block that come before rip (rip inside the block; block->insns if rip is
 * past its end), cached per (block, rip) (fixed-size cache).
 */
guint32 sim_hw_block_index(SimHw *hw, const SimHwBlock *block, guint64 rip);

/* The value an rdtsc or rdtscp at rip reads, in the vCPU's own terms. */
typedef guint64 (*SimHwTscRead)(void *opaque, guint64 rip);

/*
 * Emulates rdtsc and rdtscp, which Unicorn 2.0.1 runs on the host's TSC and cannot hook: every
 * one that sim_hw_block() decodes gets, before it runs, a UC_HOOK_CODE hook of its own that
 * loads EDX:EAX with read(opaque, rip) (and ECX with IA32_TSC_AUX for rdtscp) and moves RIP past
 * it. Writing RIP in a code hook ends the translation block there and resumes at the new RIP
 * (measured on 2.0.1), so the rest of the block runs as a block of its own.
 */
void sim_hw_emulate_tsc(SimHw *hw, SimHwTscRead read, void *opaque);

/*
 * Whether a block decoded since the last sim_hw_hook_tsc() holds an rdtsc or rdtscp with no hook
 * yet. Its translation has no hook either: stop the run before the block runs and call
 * sim_hw_hook_tsc().
 */
gboolean sim_hw_tsc_pending(SimHw *hw);

/* Between runs: hooks the pending rdtsc and rdtscp and drops the translations that hold them. */
void sim_hw_hook_tsc(SimHw *hw);
/*
 * Intercepts wrmsr, which 2.0.1 can neither hook with UC_HOOK_INSN nor refuse (it runs as a
 * no-op for an MSR it does not know): from now on sim_hw_block() flags a block that starts with
 * wrmsr (SIM_HW_BLOCK_WRMSR), which the caller stops before it runs (as for a quantum), and one
 * that holds a wrmsr further in (SIM_HW_BLOCK_WRMSR_INSIDE), which kvmsim cannot intercept: a
 * guest puts each wrmsr at the start of a block (a jump to it: workloads/runtime/apf.h). Not a
 * UC_HOOK_CODE hook: in 2.0.1 the mere existence of one makes a stop requested in a
 * UC_HOOK_BLOCK hook land mid-block with RIP back at the block's start (measured: touch --mem 1M
 * then overruns its fill loop). Not an exit address either: after every run 2.0.1 walks the
 * exits under the guest's CR3, which refills the TLB with a translation KVM may have zapped
 * (measured: a migrated code page then ran as freed memory).
 */
void sim_hw_intercept_wrmsr(SimHw *hw);

/*
 * Between runs: from now on cpuid answers as Unicorn's CPU model does, except that leaf 1 gives
 * apic_id as the initial APIC ID and both it and leaf 7.0 advertise rdrand and rdseed (which the
 * vCPU emulates, sim_hw_emulate_random()).
 */
void sim_hw_set_cpuid(SimHw *hw, guint32 apic_id);

/* What an instruction that raised #UD and that hw emulates between runs is. */
typedef enum {
	SIM_HW_UD_OTHER,
	SIM_HW_UD_RDRAND,
	SIM_HW_UD_RDSEED,
} SimHwUdInsn;

/* The value an rdrand or rdseed reads. */
typedef guint64 (*SimHwRandomRead)(void *opaque, SimHwUdInsn insn);

/*
 * Emulates, between runs, the rdrand or rdseed at RIP (both raise #UD in 2.0.1: its CPU model has
 * neither): the destination register takes read(opaque, which) at its size (a 32-bit destination
 * zero-extends), CF is set and OF, SF, ZF, AF, PF cleared (success), RIP moves past it. Returns
 * which it was; for SIM_HW_UD_OTHER nothing is read or changed.
 */
SimHwUdInsn sim_hw_emulate_random(SimHw *hw, SimHwRandomRead read, void *opaque);

typedef guint64 (*SimHwMmioRead)(void *opaque, guint64 gpa, guint size);
typedef void (*SimHwMmioWrite)(void *opaque, guint64 gpa, guint size, guint64 value);

/*
 * Emulates, between runs, the instruction at RIP whose access to gpa hit MMIO, as KVM's emulator
 * would: mov reg, [mem] and mov [mem], reg (1, 2, 4, 8 bytes; a 32-bit destination zero-extends,
 * 8- and 16-bit ones keep the upper bits), mov [mem], imm, movzx, movsx, movsxd. Advances RIP past
 * it. Anything else fails with SIM_HW_ERROR_UNSUPPORTED naming the instruction.
 */
gboolean sim_hw_emulate_mmio(SimHw *hw, guint64 gpa, SimHwMmioRead rd, SimHwMmioWrite wr,
			     void *opaque, GError **error);

#endif
