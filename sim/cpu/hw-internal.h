/* SPDX-License-Identifier: GPL-2.0-only */
/* What hw.c, hw-decode.c, hw-emulate.c and hw-selftest.c share. Nothing outside sim/cpu
 * includes this. */
#ifndef KVMSIM_SIM_CPU_HW_INTERNAL_H
#define KVMSIM_SIM_CPU_HW_INTERNAL_H

#include <capstone/capstone.h>

#include "sim/cpu/hw.h"

#define HW_PAGE_SIZE 4096ull
#define HW_PAGE_MASK (~(HW_PAGE_SIZE - 1))
#define HW_MAX_INSN_LEN 15

/* Entry sizes of the decode caches (powers of two). */
#define HW_INSN_CACHE_SIZE 512
#define HW_BLOCK_CACHE_SIZE 1024
#define HW_INDEX_CACHE_SIZE 256

/* An explicit memory operand, kept so that its address can be recomputed from the registers. */
typedef struct {
	guint16 seg;   /* Unicorn register holding the segment base (FS_BASE, GS_BASE), or 0 */
	guint16 base;  /* Unicorn register, UC_X86_REG_RIP for rip-relative, or 0 */
	guint16 index; /* Unicorn register, or 0 */
	guint8 scale;
	guint8 size;   /* bytes accessed */
	guint8 addr32; /* 32-bit address size: the address wraps at 4 GiB */
	guint8 read;   /* also read: a read-modify-write of this operand */
	gint64 disp;
} HwMemOperand;

enum {
	HW_INSN_WRITES_MEM = 1 << 0,   /* some explicit memory operand is written */
	HW_INSN_SOLE_ACCESS = 1 << 1,  /* one explicit memory operand, no implicit memory access */
	HW_INSN_REACH_KNOWN = 1 << 2,  /* HW_INSN_REACHES_NEXT has been computed */
	HW_INSN_REACHES_NEXT = 1 << 3, /* the block from rip runs into the next page */
};

/* What sim_hw_access_kind() needs to know about the instruction at one RIP. */
typedef struct {
	guint64 rip;   /* the key; HW_NO_ADDR when the slot is empty */
	guint8 len;    /* 0 when the bytes could not be read or decoded */
	guint8 flags;  /* HW_INSN_* */
	guint8 nr_written;
	guint16 reach; /* bytes examined by the next-page check, from rip */
	HwMemOperand written[2]; /* the explicit memory operands that are written */
} HwInsnInfo;

/* The position of one instruction in the translation block it was found in. */
typedef struct {
	guint64 rip;        /* the key, with block_addr and block_size; HW_NO_ADDR when empty */
	guint64 block_addr;
	guint32 block_size;
	guint32 index;      /* instructions in [block_addr, rip) */
} HwIndexInfo;

#define HW_NO_ADDR G_MAXUINT64

struct SimHw {
	uc_engine *uc;
	uc_context *ctx;     /* scratch for sim_hw_pf_ack(): holds error_code and old_exception */
	gsize ctx_size;
	guint8 *env;         /* the engine's live CPUX86State (hw_env_locate()), or NULL */
	gsize env_size;      /* bytes of it a context holds: the fields are env_size - *_FROM_END */
	gpointer cpu;        /* QEMU's CPUState holding env, for tlb_flush_page(), or NULL */
	gssize env_cr2;      /* offset of CR2 in env (found by writing it), or -1 */
	gboolean pf_regs_checked; /* sim_hw_pf_regs() compared env with the register API once */
	gboolean pf_regs_direct;  /* ... and they agreed: it reads env */
	guint8 *stub;        /* host memory of the stub region */
	csh cs;              /* Capstone with CS_OPT_DETAIL */
	csh cs_count;        /* Capstone without detail, for counting instructions */
	cs_insn *insn;       /* scratch for cs_disasm_iter() on cs */
	cs_insn *insn_count; /* scratch for cs_disasm_iter() on cs_count */
	HwInsnInfo insns[HW_INSN_CACHE_SIZE];
	SimHwBlock blocks[HW_BLOCK_CACHE_SIZE];
	SimHwBlock last_block; /* the block asked for last, checked first */
	HwIndexInfo indexes[HW_INDEX_CACHE_SIZE];
	HwInsnInfo *last_insn;   /* the slots hw_insn_lookup() and sim_hw_block_index() found */
	HwIndexInfo *last_index; /* last, tried first (a fault and its retry ask the same) */
	SimHwTscRead tsc_read; /* rdtsc emulation (sim_hw_emulate_tsc()), or NULL */
	void *tsc_opaque;
	GArray *tsc_hooked;    /* guint64 addresses of rdtsc and rdtscp with a code hook */
	GArray *tsc_pending;   /* guint64 addresses of those found since the last run, no hook yet */
	gboolean wrmsr;        /* wrmsr interception (sim_hw_intercept_wrmsr()) */
	guint32 cpuid_1[4];    /* EAX, EBX, ECX, EDX of leaf 1 and leaf 7.0 (sim_hw_set_cpuid()) */
	guint32 cpuid_7[4];
	gboolean cpuid_hooked;
	GHashTable *code_pages; /* pfns a block ever ran from (sticky), for hw-xmod.c */
	GArray *maps;           /* HwMap: what sim_hw_map() mapped, for hw_host_page() */
	guint64 *code_rams;     /* a bit per page of the engine's RAM addresses: in hw_code_hosts */
	guint64 code_ram_pages; /* pages code_rams covers */
	gboolean store_fast;    /* sim_hw_store_fast_path_enable() */
	SimHwCodeHook code_hook; /* told of each page that joins code_pages, or NULL */
	gpointer code_hook_data;
	SimHwForgetHook forget_hook; /* told of each range hw_decode_forget() drops, or NULL */
	gpointer forget_hook_data;
};

/* hw-notdirty.c, for hw-decode.c: a decoded block's pages hold code from now on. */
void hw_note_code(SimHw *hw, guint64 addr, guint32 size);
/* hw-notdirty.c, for hw.c: looks up the QEMU functions the store fast path needs, once. */
void hw_notdirty_locate(void);
/* hw-notdirty.c: the host page sim_hw_map() mapped at the guest page pfn, or NULL. */
guint8 *hw_host_page(SimHw *hw, guint64 pfn);
/* hw-code.c: looks up what sim_hw_content_changed() calls; FALSE if libunicorn lacks it. */
gboolean hw_code_locate(void);

/* QEMU's ram_addr_t (uintptr_t) and RAM_ADDR_INVALID. */
typedef guintptr HwRamAddr;
#define HW_RAM_ADDR_INVALID ((HwRamAddr)-1)

/* A range sim_hw_map() mapped. */
typedef struct {
	guint64 gpa, size;
	guint8 *host;
	HwRamAddr ram; /* the engine's RAM address of host (one RAM block), or HW_RAM_ADDR_INVALID */
} HwMap;

/* What hw_map_find() looks up: a gpa, a host address or a RAM address. */
typedef enum {
	HW_MAP_GPA,
	HW_MAP_HOST,
	HW_MAP_RAM,
} HwMapBy;

/* The engine's map that overlaps [addr, addr + size) (an address of the kind by), or NULL; no
 * host byte is mapped twice (sim_hw_map()), so at most one holds a byte. */
static inline const HwMap *
hw_map_find(SimHw *hw, HwMapBy by, guint64 addr, guint64 size)
{
	for (guint i = 0; i < hw->maps->len; i++) {
		const HwMap *map = &g_array_index(hw->maps, HwMap, i);
		guint64 start = by == HW_MAP_GPA ? map->gpa :
				by == HW_MAP_HOST ? (guintptr)map->host : map->ram;

		if (by == HW_MAP_RAM && map->ram == HW_RAM_ADDR_INVALID)
			continue;
		if (addr < start + map->size && start < addr + size)
			return map;
	}
	return NULL;
}

/* hw-code.c: the engine's RAM address of host memory it maps, or HW_RAM_ADDR_INVALID. */
HwRamAddr hw_ram_addr(SimHw *hw, void *host);
/* hw-code.c, for sim_hw_free(): drops the engine's blocks and the bitmaps uc_close() leaks. */
void hw_code_release(SimHw *hw);

/* hw-notdirty.c, for hw.c: every live engine, and whether any engine ran code from a host page
 * (the VM-wide code set, by host page). */
void hw_engine_add(SimHw *hw);
void hw_engine_remove(SimHw *hw);
extern GPtrArray *hw_engines;
extern GHashTable *hw_code_hosts;
gboolean hw_code_host(const guint8 *host);

/* hw-xmod.c, for hw.c: whether stores to code are seen, the storing engine's and the others';
 * if not, no engine is made (no silently stale code). */
gboolean hw_xmod_locate(void);
extern gboolean hw_xmod_on; /* what hw_xmod_locate() found (a test may pretend it failed) */
/* hw-xmod.c: an engine was freed; one was created (the cached store engine is looked up again). */
void hw_xmod_forget(SimHw *hw);
void hw_xmod_added(void);
/* hw-xmod.c: stores that took the slow path, in every engine (for tests). */
extern guint64 hw_slow_stores;
/* hw-xmod.c: sim_hw_map() mapped map; a host page joined hw_code_hosts. */
void hw_xmod_mapped(SimHw *hw, const HwMap *map);
void hw_xmod_code_host(const guint8 *host);

/*
 * Offsets of CPUX86State fields from the end of the uc_context blob in 2.0.1 (QEMU 5.0 layout),
 * measured in shared/reference/unicorn-measurements; sim_hw_selftest() proves them.
 */
#define HW_CTX_ERROR_CODE_FROM_END 176
#define HW_CTX_OLD_EXCEPTION_FROM_END 64

SimHw *hw_new_unchecked(GError **error);
gint32 hw_ctx_read_int(SimHw *hw, gsize from_end);

/* Whether hw_decode_at() could decode the instruction at rip. */
typedef enum {
	HW_DECODED,
	HW_UNREADABLE,
	HW_BAD,
} HwDecodeResult;

/* The Unicorn register behind a Capstone general-purpose register, and which bits of it. */
typedef struct {
	guint16 uc;   /* UC_X86_REG_*, 0 (UC_X86_REG_INVALID) if not a general-purpose register */
	guint8 size;  /* bytes */
	guint8 shift; /* 8 for AH, BH, CH, DH */
} HwGpr;

/* hw-decode.c, for hw-emulate.c: decode the instruction at rip into hw->insn (with details);
 * the Unicorn register behind each Capstone general-purpose register. */
HwDecodeResult hw_decode_at(SimHw *hw, guint64 rip);
extern const HwGpr hw_gprs[X86_REG_ENDING];

gboolean hw_decode_init(SimHw *hw, GError **error);
void hw_decode_fini(SimHw *hw);
void hw_decode_forget(SimHw *hw, guint64 gpa, guint64 size);
gboolean hw_tsc_site_known(SimHw *hw, guint64 addr);

#endif
