/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Emulating decoded guest instructions on the vCPU's registers: the MMIO movs that KVM's x86
 * emulator handles, and rdrand/rdseed as hardware executes them when they succeed. Decoding is
 * hw-decode.c's.
 */
#define G_LOG_DOMAIN "kvmsim-cpu"

#include "sim/cpu/hw-internal.h"

/* The value of a general-purpose register as an operand of its size. */
static guint64
hw_gpr_read(SimHw *hw, const HwGpr *gpr)
{
	guint64 value;

	uc_reg_read(hw->uc, gpr->uc, &value);
	value >>= gpr->shift;
	return gpr->size == 8 ? value : value & ((1ull << (gpr->size * 8)) - 1);
}

/*
 * Writes value to a general-purpose register with x86 semantics: a 64-bit destination takes it
 * all, a 32-bit one zero-extends into the full register, 8- and 16-bit ones keep the other bits.
 */
static void
hw_gpr_write(SimHw *hw, const HwGpr *gpr, guint64 value)
{
	guint64 full, mask;

	if (gpr->size == 8) {
		full = value;
	} else if (gpr->size == 4) {
		full = value & G_MAXUINT32;
	} else {
		mask = ((1ull << (gpr->size * 8)) - 1) << gpr->shift;
		uc_reg_read(hw->uc, gpr->uc, &full);
		full = (full & ~mask) | ((value << gpr->shift) & mask);
	}
	uc_reg_write(hw->uc, gpr->uc, &full);
}

/* value, an operand of size bytes, sign-extended to 64 bits. */
static guint64
hw_sign_extend(guint64 value, guint size)
{
	guint shift = 64 - size * 8;

	return (guint64)((gint64)(value << shift) >> shift);
}

/* Emulates the decoded hw->insn as an MMIO access at gpa; FALSE if its form is not handled. */
static gboolean
hw_mmio_insn(SimHw *hw, guint64 gpa, SimHwMmioRead rd, SimHwMmioWrite wr, void *opaque)
{
	const cs_x86 *x86 = &hw->insn->detail->x86;
	const cs_x86_op *dst = &x86->operands[0], *src = &x86->operands[1];
	const HwGpr *gpr;
	guint64 value;

	if (x86->op_count != 2)
		return FALSE;
	switch (hw->insn->id) {
	case X86_INS_MOV:
		if (dst->type == X86_OP_REG && src->type == X86_OP_MEM) {
			gpr = &hw_gprs[dst->reg];
			if (!gpr->uc)
				return FALSE;
			hw_gpr_write(hw, gpr, rd(opaque, gpa, src->size));
		} else if (dst->type == X86_OP_MEM && src->type == X86_OP_REG) {
			gpr = &hw_gprs[src->reg];
			if (!gpr->uc)
				return FALSE;
			wr(opaque, gpa, dst->size, hw_gpr_read(hw, gpr));
		} else if (dst->type == X86_OP_MEM && src->type == X86_OP_IMM) {
			value = (guint64)src->imm;
			if (dst->size < 8)
				value &= (1ull << (dst->size * 8)) - 1;
			wr(opaque, gpa, dst->size, value);
		} else {
			return FALSE;
		}
		return TRUE;
	case X86_INS_MOVZX:
	case X86_INS_MOVSX:
	case X86_INS_MOVSXD:
		gpr = &hw_gprs[dst->reg];
		if (dst->type != X86_OP_REG || src->type != X86_OP_MEM || !gpr->uc)
			return FALSE;
		value = rd(opaque, gpa, src->size);
		if (hw->insn->id != X86_INS_MOVZX)
			value = hw_sign_extend(value, src->size);
		hw_gpr_write(hw, gpr, value);
		return TRUE;
	default:
		return FALSE;
	}
}

/* Models the part of KVM's x86 emulator (arch/x86/kvm/emulate.c) that MMIO movs go through. */
gboolean
sim_hw_emulate_mmio(SimHw *hw, guint64 gpa, SimHwMmioRead rd, SimHwMmioWrite wr, void *opaque,
		    GError **error)
{
	guint64 rip;
	g_autofree gchar *text = NULL;

	uc_reg_read(hw->uc, UC_X86_REG_RIP, &rip);
	switch (hw_decode_at(hw, rip)) {
	case HW_UNREADABLE:
		g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_UNREADABLE,
			    "MMIO access to %#" G_GINT64_MODIFIER "x: the instruction at %#"
			    G_GINT64_MODIFIER "x is not mapped", gpa, rip);
		return FALSE;
	case HW_DECODED:
		if (hw_mmio_insn(hw, gpa, rd, wr, opaque)) {
			rip += hw->insn->size;
			uc_reg_write(hw->uc, UC_X86_REG_RIP, &rip);
			return TRUE;
		}
		break;
	case HW_BAD:
		break;
	}
	text = sim_hw_disasm(hw, rip);
	g_set_error(error, SIM_HW_ERROR, SIM_HW_ERROR_UNSUPPORTED,
		    "MMIO access to %#" G_GINT64_MODIFIER "x by `%s` at %#" G_GINT64_MODIFIER
		    "x: only mov, movzx and movsx to or from a general-purpose register or an "
		    "immediate are emulated", gpa, text, rip);
	return FALSE;
}

/*
 * rdrand r and rdseed r (0f c7 /6 and /7 with a register operand, no 66/f3/f2 for the 32/64-bit
 * forms) as hardware executes them when they succeed (SDM Vol. 2B RDRAND, RDSEED).
 */
SimHwUdInsn
sim_hw_emulate_random(SimHw *hw, SimHwRandomRead read, void *opaque)
{
	const cs_x86 *x86;
	const HwGpr *gpr;
	SimHwUdInsn which;
	guint64 rip, rflags;

	uc_reg_read(hw->uc, UC_X86_REG_RIP, &rip);
	if (hw_decode_at(hw, rip) != HW_DECODED)
		return SIM_HW_UD_OTHER;
	x86 = &hw->insn->detail->x86;
	switch (hw->insn->id) {
	case X86_INS_RDRAND:
		which = SIM_HW_UD_RDRAND;
		break;
	case X86_INS_RDSEED:
		which = SIM_HW_UD_RDSEED;
		break;
	default:
		return SIM_HW_UD_OTHER;
	}
	if (x86->op_count != 1 || x86->operands[0].type != X86_OP_REG)
		return SIM_HW_UD_OTHER;
	gpr = &hw_gprs[x86->operands[0].reg];
	if (!gpr->uc)
		return SIM_HW_UD_OTHER;
	rip += hw->insn->size;
	hw_gpr_write(hw, gpr, read(opaque, which));
	/* CF = 1; OF, SF, ZF, AF, PF = 0 */
	uc_reg_read(hw->uc, UC_X86_REG_EFLAGS, &rflags);
	rflags = (rflags & ~0x8d5ull) | 0x1;
	uc_reg_write(hw->uc, UC_X86_REG_EFLAGS, &rflags);
	uc_reg_write(hw->uc, UC_X86_REG_RIP, &rip);
	return which;
}
