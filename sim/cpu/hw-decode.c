/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capstone on guest code: what an EPT violation would report as the access type, instruction
 * counts of translation blocks, and disassembly for messages (the emulator of decoded
 * instructions is hw-emulate.c). The first two are on the exit hot path and cached per RIP / per
 * block in fixed-size direct-mapped caches; sim_hw_content_changed() drops the entries of a
 * changed range.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"

#include <string.h>

#include "sim/cpu/hw-internal.h"

#define HW_PF_WRITE (1u << 1)

/* QEMU's translator stops a block once it spans TARGET_PAGE_SIZE - 32 bytes or 512 insns. */
#define HW_TB_MAX_BYTES (HW_PAGE_SIZE - 32)
#define HW_TB_MAX_INSNS 512

#define HW_GPR(r64, r32, r16, r8)                                                                  \
	[X86_REG_##r64] = { UC_X86_REG_##r64, 8, 0 },                                             \
	[X86_REG_##r32] = { UC_X86_REG_##r64, 4, 0 },                                             \
	[X86_REG_##r16] = { UC_X86_REG_##r64, 2, 0 },                                             \
	[X86_REG_##r8] = { UC_X86_REG_##r64, 1, 0 }

const HwGpr hw_gprs[X86_REG_ENDING] = {
	HW_GPR(RAX, EAX, AX, AL),      HW_GPR(RBX, EBX, BX, BL),      HW_GPR(RCX, ECX, CX, CL),
	HW_GPR(RDX, EDX, DX, DL),      HW_GPR(RSI, ESI, SI, SIL),     HW_GPR(RDI, EDI, DI, DIL),
	HW_GPR(RBP, EBP, BP, BPL),     HW_GPR(RSP, ESP, SP, SPL),     HW_GPR(R8, R8D, R8W, R8B),
	HW_GPR(R9, R9D, R9W, R9B),     HW_GPR(R10, R10D, R10W, R10B), HW_GPR(R11, R11D, R11W, R11B),
	HW_GPR(R12, R12D, R12W, R12B), HW_GPR(R13, R13D, R13W, R13B), HW_GPR(R14, R14D, R14W, R14B),
	HW_GPR(R15, R15D, R15W, R15B),
	[X86_REG_AH] = { UC_X86_REG_RAX, 1, 8 }, [X86_REG_BH] = { UC_X86_REG_RBX, 1, 8 },
	[X86_REG_CH] = { UC_X86_REG_RCX, 1, 8 }, [X86_REG_DH] = { UC_X86_REG_RDX, 1, 8 },
	[X86_REG_RIP] = { UC_X86_REG_RIP, 8, 0 },
};

/* Opens one Capstone handle for x86-64, with or without operand details. */
static gboolean
hw_cs_open(csh *handle, cs_insn **scratch, gboolean detail, GError **error)
{
	cs_err err = cs_open(CS_ARCH_X86, CS_MODE_64, handle);

	if (err == CS_ERR_OK && detail)
		err = cs_option(*handle, CS_OPT_DETAIL, CS_OPT_ON);
	if (err != CS_ERR_OK) {
		g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_ENGINE, "Capstone: %s",
			    cs_strerror(err));
		return FALSE;
	}
	*scratch = cs_malloc(*handle);
	return TRUE;
}

/* Sets up Capstone and empties the caches of a new SimHw. */
gboolean
hw_decode_init(SimHw *hw, GError **error)
{
	guint i;

	for (i = 0; i < HW_INSN_CACHE_SIZE; i++)
		hw->insns[i].rip = HW_NO_ADDR;
	for (i = 0; i < HW_BLOCK_CACHE_SIZE; i++)
		hw->blocks[i].addr = HW_NO_ADDR;
	hw->last_block.addr = HW_NO_ADDR;
	for (i = 0; i < HW_INDEX_CACHE_SIZE; i++)
		hw->indexes[i].rip = HW_NO_ADDR;
	hw->tsc_hooked = g_array_new(FALSE, FALSE, sizeof(guint64));
	hw->tsc_pending = g_array_new(FALSE, FALSE, sizeof(guint64));
	return hw_cs_open(&hw->cs, &hw->insn, TRUE, error) &&
	       hw_cs_open(&hw->cs_count, &hw->insn_count, FALSE, error);
}

/* Closes Capstone; the caches go with the SimHw. */
void
hw_decode_fini(SimHw *hw)
{
	if (hw->insn)
		cs_free(hw->insn, 1);
	if (hw->insn_count)
		cs_free(hw->insn_count, 1);
	if (hw->cs)
		cs_close(&hw->cs);
	if (hw->cs_count)
		cs_close(&hw->cs_count);
	if (hw->tsc_hooked)
		g_array_free(hw->tsc_hooked, TRUE);
	if (hw->tsc_pending)
		g_array_free(hw->tsc_pending, TRUE);
}

/* Whether [a, a + a_len) and [b, b + b_len) overlap. */
static gboolean
hw_ranges_overlap(guint64 a, guint64 a_len, guint64 b, guint64 b_len)
{
	return a < b + b_len && b < a + a_len;
}

gboolean
sim_hw_block_meets(const SimHwBlock *block, guint64 gpa, guint64 len)
{
	return block->addr != HW_NO_ADDR &&
	       hw_ranges_overlap(block->addr, MAX(block->size, 1), gpa, len);
}

/* Drops the cached decodes that looked at any byte of [gpa, gpa + size). */
void
hw_decode_forget(SimHw *hw, guint64 gpa, guint64 size)
{
	guint i;

	for (i = 0; i < HW_INSN_CACHE_SIZE; i++) {
		HwInsnInfo *info = &hw->insns[i];

		if (info->rip != HW_NO_ADDR &&
		    hw_ranges_overlap(info->rip, MAX(HW_MAX_INSN_LEN, info->reach), gpa, size))
			info->rip = HW_NO_ADDR;
	}
	for (i = 0; i < HW_BLOCK_CACHE_SIZE; i++) {
		SimHwBlock *block = &hw->blocks[i];

		if (sim_hw_block_meets(block, gpa, size))
			block->addr = HW_NO_ADDR;
	}
	for (i = 0; i < HW_INDEX_CACHE_SIZE; i++) {
		HwIndexInfo *index = &hw->indexes[i];

		if (index->rip != HW_NO_ADDR &&
		    hw_ranges_overlap(index->block_addr, index->block_size, gpa, size))
			index->rip = HW_NO_ADDR;
	}
	hw->last_block.addr = HW_NO_ADDR;
	if (hw->forget_hook)
		hw->forget_hook(hw->forget_hook_data, gpa, size);
}

/*
 * Reads up to len bytes of guest code at addr from Unicorn's memory (guest-physical, no walk),
 * stopping at the first page Unicorn has no mapping for. Returns the number of bytes read.
 */
static gsize
hw_read_code(SimHw *hw, guint64 addr, guint8 *buf, gsize len)
{
	gsize done = 0;

	while (done < len) {
		guint64 at = addr + done;
		gsize chunk = MIN(len - done, HW_PAGE_SIZE - (at & ~HW_PAGE_MASK));

		if (uc_mem_read(hw->uc, at, buf + done, chunk) != UC_ERR_OK)
			break;
		done += chunk;
	}
	return done;
}

/* Decodes the instruction at rip into hw->insn (with details). */
HwDecodeResult
hw_decode_at(SimHw *hw, guint64 rip)
{
	guint8 bytes[HW_MAX_INSN_LEN];
	const guint8 *code = bytes;
	size_t size = hw_read_code(hw, rip, bytes, sizeof(bytes));
	guint64 address = rip;

	if (size == 0)
		return HW_UNREADABLE;
	return cs_disasm_iter(hw->cs, &code, &size, &address, hw->insn) ? HW_DECODED : HW_BAD;
}

/*
 * Whether the instruction writes its memory operand op. Capstone 4 marks the destination of
 * cmpxchg, cmpxchg8b and cmpxchg16b as read only; the processor always writes it.
 */
static gboolean
hw_operand_written(const cs_insn *insn, const cs_x86_op *op)
{
	switch (insn->id) {
	case X86_INS_CMPXCHG:
	case X86_INS_CMPXCHG8B:
	case X86_INS_CMPXCHG16B:
		return TRUE;
	default:
		return (op->access & CS_AC_WRITE) != 0;
	}
}

/* Whether the instruction also touches memory through the stack pointer (push, pop, call…). */
static gboolean
hw_insn_uses_stack(SimHw *hw, const cs_insn *insn)
{
	cs_regs read, written;
	guint8 nr_read, nr_written, i;

	if (cs_regs_access(hw->cs, insn, read, &nr_read, written, &nr_written) != CS_ERR_OK)
		return TRUE;
	for (i = 0; i < nr_read; i++)
		if (read[i] == X86_REG_RSP)
			return TRUE;
	for (i = 0; i < nr_written; i++)
		if (written[i] == X86_REG_RSP)
			return TRUE;
	return FALSE;
}

/* Keeps what is needed to recompute the address of memory operand op from the registers. */
static void
hw_mem_operand_save(HwMemOperand *out, const cs_x86 *x86, const cs_x86_op *op)
{
	out->seg = op->mem.segment == X86_REG_FS ? UC_X86_REG_FS_BASE :
		   op->mem.segment == X86_REG_GS ? UC_X86_REG_GS_BASE : 0;
	out->base = hw_gprs[op->mem.base].uc;
	out->index = hw_gprs[op->mem.index].uc;
	out->scale = op->mem.scale;
	out->size = op->size;
	out->addr32 = x86->addr_size == 4;
	out->disp = op->mem.disp;
}

/* Decodes the instruction at rip into a cache slot. */
static void
hw_insn_fill(SimHw *hw, HwInsnInfo *info, guint64 rip)
{
	const cs_insn *insn = hw->insn;
	const cs_x86 *x86;
	guint nr_mem = 0;
	guint8 i;

	memset(info, 0, sizeof(*info));
	info->rip = rip;
	if (hw_decode_at(hw, rip) != HW_DECODED)
		return;
	x86 = &insn->detail->x86;
	info->len = insn->size;
	for (i = 0; i < x86->op_count; i++) {
		const cs_x86_op *op = &x86->operands[i];

		if (op->type != X86_OP_MEM)
			continue;
		nr_mem++;
		if (!hw_operand_written(insn, op))
			continue;
		info->flags |= HW_INSN_WRITES_MEM;
		if (info->nr_written < G_N_ELEMENTS(info->written)) {
			HwMemOperand *m = &info->written[info->nr_written++];

			hw_mem_operand_save(m, x86, op);
			m->read = (op->access & CS_AC_READ) || insn->id == X86_INS_CMPXCHG ||
				  insn->id == X86_INS_CMPXCHG8B || insn->id == X86_INS_CMPXCHG16B;
		}
	}
	if (nr_mem == 1 && !hw_insn_uses_stack(hw, insn))
		info->flags |= HW_INSN_SOLE_ACCESS;
}

/*
 * The first of the two ways a key may live in, in a cache of size entries. A full 64-bit mixer
 * (the splitmix64 finalizer): keys that differ only in a few low bits, such as the blocks of one
 * loop, must not share a set.
 */
static guint
hw_cache_set(guint64 key, guint size)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdull;
	key ^= key >> 33;
	key *= 0xc4ceb9fe1a85ec53ull;
	key ^= key >> 33;
	return (guint)key & (size - 2);
}

/* The cache slot for rip, filled on a miss (two ways; a miss replaces the other way than the
 * one that hit last). The slot found last is tried before the hash. */
static HwInsnInfo *
hw_insn_lookup(SimHw *hw, guint64 rip)
{
	if (hw->last_insn && hw->last_insn->rip == rip)
		return hw->last_insn;

	guint set = hw_cache_set(rip, HW_INSN_CACHE_SIZE);
	HwInsnInfo *info = &hw->insns[set];

	if (G_LIKELY(info->rip == rip))
		return hw->last_insn = info;
	if (G_LIKELY(hw->insns[set + 1].rip == rip))
		return hw->last_insn = &hw->insns[set + 1];
	/* move the way used more recently to the front, fill the back */
	hw->insns[set + 1] = *info;
	info = &hw->insns[set];
	hw_insn_fill(hw, info, rip);
	return hw->last_insn = info;
}

/* Whether QEMU's translator ends a block after this instruction. */
static gboolean
hw_insn_ends_block(SimHw *hw, const cs_insn *insn)
{
	static const guint8 groups[] = { CS_GRP_JUMP, CS_GRP_CALL, CS_GRP_RET,
					 CS_GRP_INT,  CS_GRP_IRET, CS_GRP_PRIVILEGE };
	const cs_x86 *x86 = &insn->detail->x86;
	guint i;

	for (i = 0; i < G_N_ELEMENTS(groups); i++)
		if (cs_insn_group(hw->cs, insn, groups[i]))
			return TRUE;
	/* rep string instructions loop by jumping back to themselves; the others may change
	 * what later instructions are allowed to do. */
	if (x86->prefix[0] == X86_PREFIX_REP || x86->prefix[0] == X86_PREFIX_REPNE)
		return TRUE;
	switch (insn->id) {
	case X86_INS_PAUSE:
	case X86_INS_POPF:
	case X86_INS_POPFQ:
	case X86_INS_STI:
	case X86_INS_UD2:
		return TRUE;
	default:
		return FALSE;
	}
}

/*
 * Whether the translation block QEMU starts at info->rip runs into the next page: decoding
 * straight on from rip, an instruction before the block ends has bytes at or past the page
 * boundary. Computed once per slot; the bytes examined are recorded for invalidation.
 */
static gboolean
hw_insn_reaches_next(SimHw *hw, HwInsnInfo *info)
{
	guint64 next_page = (info->rip & HW_PAGE_MASK) + HW_PAGE_SIZE;
	guint64 pc = info->rip, end = info->rip;
	gboolean reaches = FALSE;
	guint nr_insns;

	if (info->flags & HW_INSN_REACH_KNOWN)
		return (info->flags & HW_INSN_REACHES_NEXT) != 0;
	for (nr_insns = 0; nr_insns < HW_TB_MAX_INSNS && pc - info->rip < HW_TB_MAX_BYTES;
	     nr_insns++) {
		if (pc >= next_page || hw_decode_at(hw, pc) != HW_DECODED) {
			reaches = pc >= next_page;
			break;
		}
		end = pc + hw->insn->size;
		if (end > next_page) {
			reaches = TRUE;
			break;
		}
		if (hw_insn_ends_block(hw, hw->insn))
			break;
		pc = end;
	}
	info->reach = (guint16)MIN(MAX(pc, end) - info->rip + HW_MAX_INSN_LEN, G_MAXUINT16);
	info->flags |= HW_INSN_REACH_KNOWN | (reaches ? HW_INSN_REACHES_NEXT : 0);
	return reaches;
}

/* The address operand m of the instruction in info accesses, from the current registers. */
static guint64
hw_mem_address(SimHw *hw, const HwInsnInfo *info, const HwMemOperand *m)
{
	guint64 ea = (guint64)m->disp, value;

	if (m->base == UC_X86_REG_RIP) {
		ea += info->rip + info->len;
	} else if (m->base) {
		uc_reg_read(hw->uc, m->base, &value);
		ea += value;
	}
	if (m->index) {
		uc_reg_read(hw->uc, m->index, &value);
		ea += value * m->scale;
	}
	if (m->addr32)
		ea &= G_MAXUINT32;
	if (m->seg) {
		uc_reg_read(hw->uc, m->seg, &value);
		ea += value;
	}
	return ea;
}

/* The written memory operand of info that covers page, or NULL. */
static const HwMemOperand *
hw_written_operand_on(SimHw *hw, const HwInsnInfo *info, guint64 page)
{
	for (guint i = 0; i < info->nr_written; i++) {
		const HwMemOperand *m = &info->written[i];
		guint64 ea = hw_mem_address(hw, info, m);

		if (page >= (ea & HW_PAGE_MASK) && page <= ((ea + m->size - 1) & HW_PAGE_MASK))
			return m;
	}
	return NULL;
}

/* A write to page by info: a read-modify-write if the operand written there is also read. */
static SimHwAccessKind
hw_write_kind(SimHw *hw, const HwInsnInfo *info, guint64 page)
{
	/* its one memory access is the one that faulted: no need to compute where it goes */
	if ((info->flags & HW_INSN_SOLE_ACCESS) && info->nr_written == 1)
		return info->written[0].read ? SIM_HW_READ_WRITE : SIM_HW_WRITE;

	const HwMemOperand *m = hw_written_operand_on(hw, info, page);

	return m && m->read ? SIM_HW_READ_WRITE : SIM_HW_WRITE;
}

/*
 * What an EPT violation would report: QEMU gives a fetch the error code of a read, and reports the
 * load half of a read-modify-write first, so both are recovered from the instruction at rip. A
 * read-modify-write reports both its read and its write, whichever half faulted.
 */
SimHwAccessKind
sim_hw_access_kind(SimHw *hw, guint64 rip, guint64 gpa, guint32 pf_error_code)
{
	guint64 page = gpa & HW_PAGE_MASK;
	HwInsnInfo *info;

	if (pf_error_code & HW_PF_WRITE)
		return hw_write_kind(hw, hw_insn_lookup(hw, rip), page);
	/* A read fault on the page being executed can only be its fetch: a data access to a page
	 * that is not present would have been preceded by the fault of the fetch. */
	if (page == (rip & HW_PAGE_MASK))
		return SIM_HW_FETCH;
	info = hw_insn_lookup(hw, rip);
	if (gpa - rip < info->len)
		return SIM_HW_FETCH;
	if (gpa == (rip & HW_PAGE_MASK) + HW_PAGE_SIZE && hw_insn_reaches_next(hw, info))
		return SIM_HW_FETCH;
	if (!(info->flags & HW_INSN_WRITES_MEM))
		return SIM_HW_READ;
	/* The #PF came from the load half of a read-modify-write, or from a plain read beside a
	 * write elsewhere (a string move's source): hardware reports that read alone. */
	if (info->flags & HW_INSN_SOLE_ACCESS)
		return info->written[0].read ? SIM_HW_READ_WRITE : SIM_HW_WRITE;
	const HwMemOperand *m = hw_written_operand_on(hw, info, page);

	return m && m->read ? SIM_HW_READ_WRITE : SIM_HW_READ;
}

/* Is the decoded instruction a string port-I/O one (ins, outs)? */
static gboolean
hw_insn_is_string_io(const cs_insn *insn)
{
	switch (insn->id) {
	case X86_INS_INSB:
	case X86_INS_INSW:
	case X86_INS_INSD:
	case X86_INS_OUTSB:
	case X86_INS_OUTSW:
	case X86_INS_OUTSD:
		return TRUE;
	default:
		return FALSE;
	}
}

/* The string, rep and immediate-port bits of an I/O exit qualification, from the instruction. */
SimHwIoForm
sim_hw_io_form(SimHw *hw, guint64 rip, guint *out_len)
{
	SimHwIoForm form = 0;

	*out_len = 0;
	if (hw_decode_at(hw, rip) != HW_DECODED)
		return 0;
	const cs_x86 *x86 = &hw->insn->detail->x86;

	*out_len = hw->insn->size;
	if (hw_insn_is_string_io(hw->insn)) {
		form |= SIM_HW_IO_STRING;
		if (x86->prefix[0] == X86_PREFIX_REP)
			form |= SIM_HW_IO_REP;
		return form;
	}
	for (guint i = 0; i < x86->op_count; i++)
		if (x86->operands[i].type == X86_OP_IMM)
			form |= SIM_HW_IO_IMM;
	return form;
}

/* Is the decoded instruction a port-I/O one (in, out, ins, outs)? */
static gboolean
hw_insn_is_io(const cs_insn *insn)
{
	return insn->id == X86_INS_IN || insn->id == X86_INS_OUT || hw_insn_is_string_io(insn);
}

/* Walks the block's instructions to its nth port-I/O one: the I/O hooks of Unicorn 2.0.1 see
 * the RIP of the block's start (the last sync), not the in/out's own. */
guint64
sim_hw_nth_io_insn(SimHw *hw, guint64 addr, guint32 size, guint nth)
{
	for (guint64 pc = addr; pc < addr + size; pc += hw->insn->size) {
		if (hw_decode_at(hw, pc) != HW_DECODED)
			break;
		if (hw_insn_is_io(hw->insn) && nth-- == 0)
			return pc;
	}
	return G_MAXUINT64;
}

/* vmcall raises #UD in Unicorn; this tells it from other invalid opcodes. */
gboolean
sim_hw_insn_is_vmcall(SimHw *hw, guint64 rip)
{
	static const guint8 vmcall[] = { 0x0f, 0x01, 0xc1 };
	guint8 bytes[sizeof(vmcall)];

	/* no prefix or longer opcode starts with these bytes: they are vmcall */
	return hw_read_code(hw, rip, bytes, sizeof(bytes)) == sizeof(bytes) &&
	       memcmp(bytes, vmcall, sizeof(vmcall)) == 0;
}

/* The instruction at rip in Intel syntax, for messages. */
gchar *
sim_hw_disasm(SimHw *hw, guint64 rip)
{
	switch (hw_decode_at(hw, rip)) {
	case HW_UNREADABLE:
		return g_strdup("(unreadable)");
	case HW_BAD:
		return g_strdup("(bad)");
	case HW_DECODED:
		break;
	}
	if (hw->insn->op_str[0] == '\0')
		return g_strdup(hw->insn->mnemonic);
	return g_strdup_printf("%s %s", hw->insn->mnemonic, hw->insn->op_str);
}

/* Notes an rdtsc or rdtscp at addr for sim_hw_hook_tsc(), unless it is hooked or noted already. */
static void
hw_tsc_site_found(SimHw *hw, guint64 addr)
{
	if (hw->tsc_read && !hw_tsc_site_known(hw, addr))
		g_array_append_val(hw->tsc_pending, addr);
}

/* Whether the block of one instruction at addr is shorter than QEMU's translator makes it. */
static gboolean
hw_block_is_single_step(SimHw *hw, guint64 addr)
{
	return hw_decode_at(hw, addr) == HW_DECODED && !hw_insn_ends_block(hw, hw->insn);
}

/*
 * Decodes [block->addr, + block->size) with the detail-less handle: counts its instructions, notes
 * its rdtsc and rdtscp, and flags a single-step block.
 */
static void
hw_block_fill(SimHw *hw, SimHwBlock *block)
{
	g_autofree guint8 *bytes = g_malloc(MAX(block->size, 1));
	const guint8 *code = bytes;
	size_t left = hw_read_code(hw, block->addr, bytes, block->size);
	guint64 address = block->addr;

	hw_note_code(hw, block->addr, block->size);
	block->insns = 0;
	block->flags = 0;
	while (left > 0) {
		guint64 at = address;

		block->insns++;
		/* Undecodable bytes end a block (they raise #UD): count them as its last insn. */
		if (!cs_disasm_iter(hw->cs_count, &code, &left, &address, hw->insn_count))
			break;
		if (hw->insn_count->id == X86_INS_RDTSC || hw->insn_count->id == X86_INS_RDTSCP)
			hw_tsc_site_found(hw, at);
		if (hw->insn_count->id == X86_INS_WRMSR && hw->wrmsr)
			block->flags |= at == block->addr ? SIM_HW_BLOCK_WRMSR :
							    SIM_HW_BLOCK_WRMSR_INSIDE;
	}
	if (block->insns == 1 && hw_block_is_single_step(hw, block->addr))
		block->flags |= SIM_HW_BLOCK_SINGLE_STEP;
}

/* A translation block, decoded once: a hot loop is one block, so the last one is checked first. */
SimHwBlock
sim_hw_block(SimHw *hw, guint64 addr, guint32 size)
{
	if (G_LIKELY(hw->last_block.addr == addr && hw->last_block.size == size))
		return hw->last_block;

	guint set = hw_cache_set(addr ^ ((guint64)size << 48), HW_BLOCK_CACHE_SIZE);
	SimHwBlock *block = &hw->blocks[set];

	if (G_LIKELY(block->addr == addr && block->size == size)) {
		hw->last_block = *block;
		return *block;
	}
	if (G_LIKELY(hw->blocks[set + 1].addr == addr && hw->blocks[set + 1].size == size))
		return hw->blocks[set + 1];
	hw->blocks[set + 1] = *block;
	block->addr = addr;
	block->size = size;
	hw_block_fill(hw, block);
	hw->last_block = *block;
	return *block;
}

/* Instructions per translation block, for a quantum counted in a UC_HOOK_BLOCK hook. */
guint32
sim_hw_block_insns(SimHw *hw, guint64 addr, guint32 size)
{
	return sim_hw_block(hw, addr, size).insns;
}

/* Counts the instructions from block->addr up to rip, decoding straight on. */
static guint32
hw_count_up_to(SimHw *hw, const SimHwBlock *block, guint64 rip)
{
	g_autofree guint8 *bytes = g_malloc(MAX(block->size, 1));
	const guint8 *code = bytes;
	size_t left = hw_read_code(hw, block->addr, bytes, block->size);
	guint64 address = block->addr;
	guint32 index = 0;

	while (left > 0 && address < rip && index < block->insns) {
		index++;
		if (!cs_disasm_iter(hw->cs_count, &code, &left, &address, hw->insn_count))
			break;
	}
	return index;
}

/* Where rip is in a block, for charging only what ran of a block that was cut short. */
guint32
sim_hw_block_index(SimHw *hw, const SimHwBlock *block, guint64 rip)
{
	HwIndexInfo *info;

	if (rip <= block->addr)
		return 0;
	if (rip >= block->addr + block->size)
		return block->insns;
	info = hw->last_index;
	if (info && info->rip == rip && info->block_addr == block->addr &&
	    info->block_size == block->size)
		return info->index;
	info = &hw->indexes[hw_cache_set(rip ^ (block->addr << 20), HW_INDEX_CACHE_SIZE)];
	hw->last_index = info;
	if (info->rip != rip || info->block_addr != block->addr ||
	    info->block_size != block->size) {
		info->rip = rip;
		info->block_addr = block->addr;
		info->block_size = block->size;
		info->index = hw_count_up_to(hw, block, rip);
	}
	return info->index;
}
