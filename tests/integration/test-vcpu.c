/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The vCPU as a guest sees it: hand-assembled flat images run on whole machines. What the guest
 * can read of time and randomness (rdtsc, rdtscp, rdrand, rdseed) is the same in the same run and
 * moves forward, and instructions are charged to the quantum as they retire.
 */
#include "tests/check-run.h"
#include <stdio.h>
#include <string.h>

#include "mmu/mmu.h"
#include "sim/cpu/hw-internal.h"
#include "sim/cpu/vcpu.h"
#include "tests/integration/machine.h"
#include "workloads/abi.h"

/* Runs image on a machine of this type with this many vCPUs, quantum and budget; the log is
 * captured. */
static Machine *
machine_run_image_as(SimVmType vm_type, const guint8 *image, gsize size, guint vcpus,
		     guint64 seed, guint64 quantum, guint64 max_insns)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = "image";
	cfg.image = image;
	cfg.image_size = size;
	cfg.nr_vcpus = vcpus;
	cfg.mem_size = 1 << 20;
	cfg.seed = seed;
	cfg.quantum = quantum;
	cfg.max_insns = max_insns;
	cfg.vm_type = vm_type;
	m = machine_new(&cfg, TRUE);
	machine_run(m);
	return m;
}

/* machine_run_image_as() on the default VM type. */
static Machine *
machine_run_image(const guint8 *image, gsize size, guint vcpus, guint64 seed, guint64 quantum,
		  guint64 max_insns)
{
	return machine_run_image_as(SIM_VM_DEFAULT, image, size, vcpus, seed, quantum, max_insns);
}

/*
 * Reads the TSC and a random number, loops 100 times, reads both again (rdtscp and rdseed) and
 * reports the four values in a hypercall (nr 42: a0 = first TSC, a1 = first rdrand, a2 = second
 * TSC, a3 = rdseed); then halts.
 */
static const guint8 time_guest[] = {
	0x0f, 0x31,                   /* rdtsc */
	0x48, 0xc1, 0xe2, 0x20,       /* shl rdx, 32 */
	0x48, 0x09, 0xd0,             /* or rax, rdx */
	0x49, 0x89, 0xc0,             /* mov r8, rax */
	0x48, 0x0f, 0xc7, 0xf1,       /* rdrand rcx */
	0x49, 0x89, 0xc9,             /* mov r9, rcx */
	0xb9, 0x64, 0x00, 0x00, 0x00, /* mov ecx, 100 */
	0xff, 0xc9,                   /* 1: dec ecx */
	0x75, 0xfc,                   /* jnz 1b */
	0x0f, 0x01, 0xf9,             /* rdtscp */
	0x48, 0xc1, 0xe2, 0x20,       /* shl rdx, 32 */
	0x48, 0x09, 0xc2,             /* or rdx, rax */
	0x48, 0x0f, 0xc7, 0xfe,       /* rdseed rsi */
	0x4c, 0x89, 0xc3,             /* mov rbx, r8 */
	0x4c, 0x89, 0xc9,             /* mov rcx, r9 */
	0xb8, 0x2a, 0x00, 0x00, 0x00, /* mov eax, 42 */
	0x0f, 0x01, 0xc1,             /* vmcall */
	0xf4,                         /* hlt */
};

/* Instructions retired before the second rdtsc: 6 before the loop, 2 per iteration. */
#define TIME_GUEST_SECOND_TSC (6 + 1 + 2 * 100)

/* The four values vcpu reported in its hypercall nr (42 unless said otherwise). */
static void
reported_nr(Machine *m, int vcpu, guint64 nr, guint64 out[4])
{
	g_autofree gchar *actor = g_strdup_printf(" vcpu%d ", vcpu);
	g_auto(GStrv) lines = g_strsplit(sim_log_text(m->log), "\n", -1);
	g_autofree gchar *field = g_strdup_printf("kvm_hypercall: nr 0x%" G_GINT64_MODIFIER "x ", nr);

	for (guint i = 0; lines[i]; i++) {
		const char *at = strstr(lines[i], field);

		if (!at || !strstr(lines[i], actor))
			continue;
		ck_assert_int_eq(sscanf(at + strlen(field),
					"a0 0x%" G_GINT64_MODIFIER "x a1 0x%" G_GINT64_MODIFIER
					"x a2 0x%" G_GINT64_MODIFIER "x a3 0x%" G_GINT64_MODIFIER "x",
					&out[0], &out[1], &out[2], &out[3]), 4);
		return;
	}
	ck_abort_msg("vcpu%d made no hypercall %" G_GUINT64_FORMAT, vcpu, nr);
}

static void
reported(Machine *m, int vcpu, guint64 out[4])
{
	reported_nr(m, vcpu, 42, out);
}

START_TEST(tsc_and_random_numbers_are_the_same_in_the_same_run_and_move_forward)
{
	Machine *a = machine_run_image(time_guest, sizeof(time_guest), 1, 5, 10000, 1 << 20);
	Machine *b = machine_run_image(time_guest, sizeof(time_guest), 1, 5, 10000, 1 << 20);
	guint64 va[4], vb[4];

	ck_assert_str_eq(sim_log_text(a->log), sim_log_text(b->log));
	reported(a, 0, va);
	reported(b, 0, vb);
	/* the TSC counts the instructions retired before it, from 0 */
	ck_assert_uint_eq(va[0], 0);
	ck_assert_uint_eq(va[2], TIME_GUEST_SECOND_TSC * SIM_VCPU_TSC_PER_INSN);
	ck_assert_uint_ne(va[1], va[3]);
	ck_assert_mem_eq(va, vb, sizeof(va));
	machine_free(a);
	machine_free(b);
}
END_TEST

START_TEST(tsc_counts_retired_instructions_whatever_the_quantum)
{
	Machine *m = machine_run_image(time_guest, sizeof(time_guest), 1, 5, 3, 1 << 20);
	guint64 v[4];

	reported(m, 0, v);
	ck_assert_uint_eq(v[0], 0);
	ck_assert_uint_eq(v[2], TIME_GUEST_SECOND_TSC * SIM_VCPU_TSC_PER_INSN);
	ck_assert_uint_gt(machine_counter(m, SIM_CTR_EXITS_PREEMPT), 50);
	machine_free(m);
}
END_TEST

START_TEST(random_numbers_follow_the_seed_and_each_vcpu_has_its_own_stream)
{
	Machine *one = machine_run_image(time_guest, sizeof(time_guest), 1, 5, 10000, 1 << 20);
	Machine *two = machine_run_image(time_guest, sizeof(time_guest), 2, 5, 7, 1 << 20);
	Machine *other = machine_run_image(time_guest, sizeof(time_guest), 1, 6, 10000, 1 << 20);
	guint64 v1[4], v2_0[4], v2_1[4], w[4];

	reported(one, 0, v1);
	reported(two, 0, v2_0);
	reported(two, 1, v2_1);
	reported(other, 0, w);
	/* another vCPU and another schedule leave vCPU 0's values as they were */
	ck_assert_mem_eq(v1, v2_0, sizeof(v1));
	ck_assert_uint_ne(v2_1[1], v2_0[1]);
	ck_assert_uint_ne(v2_1[3], v2_0[3]);
	/* another seed: other random numbers, the same TSC */
	ck_assert_uint_ne(w[1], v1[1]);
	ck_assert_uint_ne(w[3], v1[3]);
	ck_assert_uint_eq(w[0], v1[0]);
	ck_assert_uint_eq(w[2], v1[2]);
	machine_free(one);
	machine_free(two);
	machine_free(other);
}
END_TEST

/*
 * Reports CPUID leaf 1's EBX and ECX and leaf 7.0's EBX in hypercall 43:
 *	mov eax, 1; cpuid; mov r8, rbx; mov r9, rcx; mov eax, 7; xor ecx, ecx; cpuid;
 *	mov rdx, rbx; mov rbx, r8; mov rcx, r9; xor esi, esi; mov eax, 43; vmcall; hlt
 */
static const guint8 cpuid_guest[] = {
	0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49, 0x89, 0xd8, 0x49, 0x89, 0xc9, 0xb8, 0x07,
	0x00, 0x00, 0x00, 0x31, 0xc9, 0x0f, 0xa2, 0x48, 0x89, 0xda, 0x4c, 0x89, 0xc3, 0x4c, 0x89,
	0xc9, 0x31, 0xf6, 0xb8, 0x2b, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0xf4,
};

START_TEST(cpuid_gives_each_vcpu_its_apic_id_and_advertises_rdrand_and_rdseed)
{
	Machine *m = machine_run_image(cpuid_guest, sizeof(cpuid_guest), 3, 1, 10000, 1 << 20);
	guint64 v[3][4];

	for (int i = 0; i < 3; i++) {
		reported_nr(m, i, 43, v[i]);
		ck_assert_uint_eq(v[i][0] >> 24, i);
		ck_assert_uint_eq(v[i][0] & 0xffffff, v[0][0] & 0xffffff);
		ck_assert(v[i][1] & (1u << 30));
		ck_assert(v[i][2] & (1u << 18));
	}
	machine_free(m);
}
END_TEST

/*
 * Stores into its own translation block 1000 times (a nop over a nop, so the code stays what it
 * was): QEMU ends the block at the store, re-runs the store alone and translates the rest anew.
 *	mov ecx, 1000
 *	1: lea rax, [rip + 7]; mov byte [rax], 0x90; nop x 4; nop (the target); dec ecx; jnz 1b
 *	hlt
 * (It ends with hlt, not the exit port: RIP in an out hook is not the out's in 2.0.1, so a run
 * the exit port ends charges the whole block of the out.)
 */
static const guint8 self_modifying_guest[] = {
	0xb9, 0xe8, 0x03, 0x00, 0x00, 0x48, 0x8d, 0x05, 0x07, 0x00, 0x00, 0x00, 0xc6,
	0x00, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xff, 0xc9, 0x75, 0xed, 0xf4,
};

/* mov ecx; 1000 iterations of 9 instructions; hlt. */
#define SELF_MODIFYING_GUEST_INSNS (1 + 1000 * 9 + 1)

/*
 * Writes code into a data page it stored to first (mov eax, 1; jmp rbx), runs it, patches the
 * immediate to 2 and runs it again; reports both results in hypercall 42 (a0, a1):
 *	mov rdi, KVMSIM_RAM_GPA; mov rax, <code>; mov [rdi], rax; jmp 1f; 1: mov [rdi+64], rax;
 *	jmp 2f; 2: lea rbx, [rip+2]; jmp rdi; mov r8, rax; mov byte [rdi+1], 2; lea rbx, [rip+2];
 *	jmp rdi; mov r9, rax; mov rbx, r8; mov rcx, r9; xor edx, edx; xor esi, esi; mov eax, 42;
 *	vmcall; hlt
 */
static const guint8 code_in_data_guest[] = {
	0x48, 0xc7, 0xc7, 0x00, 0x00, 0x40, 0x00, 0x48, 0xb8, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xff,
	0xe3, 0x00, 0x48, 0x89, 0x07, 0xeb, 0x00, 0x48, 0x89, 0x47, 0x40, 0xeb, 0x00, 0x48, 0x8d,
	0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x49, 0x89, 0xc0, 0xc6, 0x47, 0x01, 0x02, 0x48,
	0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x49, 0x89, 0xc1, 0x4c, 0x89, 0xc3, 0x4c,
	0x89, 0xc9, 0x31, 0xd2, 0x31, 0xf6, 0xb8, 0x2a, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0xf4,
};

START_TEST(a_store_into_code_written_to_a_data_page_is_seen_by_its_next_run)
{
	for (guint64 quantum = 1; quantum <= 8; quantum++) {
		Machine *m = machine_run_image(code_in_data_guest, sizeof(code_in_data_guest), 1, 1,
					       quantum == 8 ? 10000 : quantum, 1 << 20);
		guint64 v[4];

		reported(m, 0, v);
		ck_assert_uint_eq(v[0], 1);
		ck_assert_uint_eq(v[1], 2);
		machine_free(m);
	}
}
END_TEST

/*
 * Runs code written to a data page, converts the page to private (a new frame from the
 * guest_memfd: legacy conversion drops the content), writes new code there after a first store
 * and two block starts, runs it; reports both results and the conversion's in hypercall 42 (a0,
 * a1, a2):
 *	mov edi, KVMSIM_RAM_GPA; mov rax, <mov eax, 1; jmp rbx>; mov [rdi], rax; lea rbx, [rip+2];
 *	jmp rdi; mov r12, rax; KVM_HC_MAP_GPA_RANGE(rdi, 1, ENCRYPTED); mov r13, rax;
 *	mov [rdi+0x800], rdi; jmp 1f; 1: jmp 2f; 2: mov rax, <mov eax, 2; jmp rbx>; mov [rdi], rax;
 *	lea rbx, [rip+2]; jmp rdi; mov r14, rax; report r12, r14, r13; hlt
 */
static const guint8 code_on_a_new_frame_guest[] = {
	0xbf, 0x00, 0x00, 0x40, 0x00, 0x48, 0xb8, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xff, 0xe3, 0x90,
	0x48, 0x89, 0x07, 0x48, 0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x49, 0x89, 0xc4,
	0xb8, 0x0c, 0x00, 0x00, 0x00, 0x48, 0x89, 0xfb, 0xb9, 0x01, 0x00, 0x00, 0x00, 0xba, 0x10,
	0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0x49, 0x89, 0xc5, 0x48, 0x89, 0xbf, 0x00, 0x08, 0x00,
	0x00, 0xeb, 0x00, 0xeb, 0x00, 0x48, 0xb8, 0xb8, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe3, 0x90,
	0x48, 0x89, 0x07, 0x48, 0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x49, 0x89, 0xc6,
	0x4c, 0x89, 0xe3, 0x4c, 0x89, 0xf1, 0x4c, 0x89, 0xea, 0x31, 0xf6, 0xb8, 0x2a, 0x00, 0x00,
	0x00, 0x0f, 0x01, 0xc1, 0xf4,
};

/*
 * QEMU keys a translation block by the RAM address of the host page Unicorn maps at the guest
 * page (hw-code.c), and kvmsim maps one fixed host buffer per GPA page whatever frame backs it:
 * a page that held code keeps TLB_NOTDIRTY on its entries when it gets a new frame, and a store
 * of new code there drops its old blocks. Were code pages forgotten on a frame change, the new
 * frame would look code-free, its entry would lose the flag, and the old block would run again.
 */
START_TEST(code_stored_to_a_page_that_got_a_new_frame_replaces_its_old_blocks)
{
	for (guint64 quantum = 1; quantum <= 8; quantum++) {
		Machine *m = machine_run_image_as(SIM_VM_SW_PROTECTED, code_on_a_new_frame_guest,
						  sizeof(code_on_a_new_frame_guest), 1, 1,
						  quantum == 8 ? 10000 : quantum, 1 << 20);
		guint64 v[4];

		reported(m, 0, v);
		ck_assert_uint_eq(v[2], 0);
		ck_assert_uint_eq(v[0], 1);
		ck_assert_uint_eq(v[1], 2);
		machine_free(m);
	}
}
END_TEST

/*
 * Runs code written to a data page, converts the page to private (legacy conversion: the
 * guest_memfd's new, zeroed folio) and runs it again without rewriting it: the zeros'
 * add [rax], al run through the page into the next, which jumps to `zeros`. Reports in hypercall
 * 42: a0 the first run's EAX, a1 1 if the second run returned through the old code (0: the zeros
 * ran), a2 the conversion's result:
 *	mov edi, KVMSIM_RAM_GPA; mov rax, <mov eax, 1; jmp rbx>; mov [rdi], rax;
 *	mov dword [rdi+0x1000], <jmp r15>; lea r15, [zeros]; lea rbx, [rip+2]; jmp rdi;
 *	mov r12, rax; KVM_HC_MAP_GPA_RANGE(rdi, 1, ENCRYPTED); mov r13, rax; lea rbx, [back2];
 *	lea rax, [rdi+0x2000]; jmp rdi; back2: mov ecx, 1; jmp report; zeros: xor ecx, ecx;
 *	report: report r12, rcx, r13; hlt
 */
static const guint8 code_dropped_by_conversion_guest[] = {
	0xbf, 0x00, 0x00, 0x40, 0x00, 0x48, 0xb8, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xff, 0xe3, 0x90,
	0x48, 0x89, 0x07, 0xc7, 0x87, 0x00, 0x10, 0x00, 0x00, 0x41, 0xff, 0xe7, 0x00, 0x4c, 0x8d,
	0x3d, 0x3b, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x49,
	0x89, 0xc4, 0xb8, 0x0c, 0x00, 0x00, 0x00, 0x48, 0x89, 0xfb, 0xb9, 0x01, 0x00, 0x00, 0x00,
	0xba, 0x10, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0x49, 0x89, 0xc5, 0x48, 0x8d, 0x1d, 0x09,
	0x00, 0x00, 0x00, 0x48, 0x8d, 0x87, 0x00, 0x20, 0x00, 0x00, 0xff, 0xe7, 0xb9, 0x01, 0x00,
	0x00, 0x00, 0xeb, 0x02, 0x31, 0xc9, 0x4c, 0x89, 0xe3, 0x4c, 0x89, 0xea, 0x31, 0xf6, 0xb8,
	0x2a, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1, 0xf4,
};

/*
 * A shared->private conversion replaces the page's content with the guest_memfd folio's zeros
 * without any store by the guest: the page's old blocks must go (hostmem's code hook), else the
 * old code runs again from a page that now holds zeros.
 */
START_TEST(code_dropped_by_a_conversion_runs_as_the_new_frames_zeros)
{
	for (guint64 quantum = 1; quantum <= 4; quantum++) {
		Machine *m = machine_run_image_as(SIM_VM_SW_PROTECTED,
						  code_dropped_by_conversion_guest,
						  sizeof(code_dropped_by_conversion_guest), 1, 1,
						  quantum == 4 ? 10000 : quantum, 1 << 20);
		guint64 v[4];

		reported(m, 0, v);
		ck_assert_uint_eq(v[2], 0);
		ck_assert_uint_eq(v[0], 1);
		ck_assert_msg(v[1] == 0, "quantum %" G_GUINT64_FORMAT ": the old code ran", quantum);
		machine_free(m);
	}
}
END_TEST

/*
 * Two port-I/O instructions in one block, neither first in it:
 *	mov al, 0x41; nop; out 0xe9, al; mov dx, 0xe9; out dx, al; hlt
 */
static const guint8 io_guest[] = {
	0xb0, 0x41, 0x90, 0xe6, 0xe9, 0x66, 0xba, 0xe9, 0x00, 0xee, 0xf4,
};

START_TEST(io_exits_name_the_in_or_out_itself_and_its_form)
{
	Machine *m = machine_run_image(io_guest, sizeof(io_guest), 1, 1, 10000, 1 << 20);
	const char *log = sim_log_text(m->log);
	g_autofree gchar *imm = g_strdup_printf("reason IO_INSTRUCTION rip 0x%x info1 "
						"0x0000000000e90040 ", (guint)KVMSIM_IMAGE_GPA + 3);
	g_autofree gchar *dx = g_strdup_printf("reason IO_INSTRUCTION rip 0x%x info1 "
					       "0x0000000000e90000 ", (guint)KVMSIM_IMAGE_GPA + 9);
	g_autofree gchar *entry = g_strdup_printf("kvm_entry: vcpu 0, rip 0x%x ",
						  (guint)KVMSIM_IMAGE_GPA + 10);

	ck_assert_msg(strstr(log, imm) && strstr(log, dx) && strstr(log, entry), "%s", log);
	machine_free(m);
}
END_TEST

/* The run ended with every vCPU halted (a runaway or a crash does not halt). */
static void
assert_halted(Machine *m, guint vcpus)
{
	ck_assert_msg(machine_counter(m, SIM_CTR_EXITS_HLT) == vcpus, "%s", sim_vmm_error(m->vmm));
}

START_TEST(store_into_its_own_block_completes_with_a_quantum_smaller_than_the_block)
{
	for (guint64 quantum = 1; quantum <= 12; quantum++) {
		Machine *m = machine_run_image(self_modifying_guest, sizeof(self_modifying_guest), 1,
					       1, quantum, 1 << 20);

		assert_halted(m, 1);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_GUEST_INSNS), SELF_MODIFYING_GUEST_INSNS);
		machine_free(m);
	}
}
END_TEST

/*
 * Runs code written to a data page (66 90: a prefixed nop; jmp rbx: a block of 4 bytes and two
 * instructions), rewrites its first two bytes to two nops (the same 4 bytes, three instructions)
 * and runs it again:
 *	mov edi, KVMSIM_RAM_GPA; mov eax, <66 90 ff e3>; mov [rdi], eax; jmp 1f; 1: lea rbx,
 *	[rip+2]; jmp rdi; mov word [rdi], 0x9090; lea rbx, [rip+2]; jmp rdi; hlt
 */
static const guint8 same_size_rewrite_guest[] = {
	0xbf, 0x00, 0x00, 0x40, 0x00, 0xb8, 0x66, 0x90, 0xff, 0xe3, 0x89, 0x07, 0xeb, 0x00,
	0x48, 0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0x66, 0xc7, 0x07, 0x90, 0x90,
	0x48, 0x8d, 0x1d, 0x02, 0x00, 0x00, 0x00, 0xff, 0xe7, 0xf4,
};

/* six instructions, the two of the first version, three, the three of the second, hlt */
#define SAME_SIZE_REWRITE_GUEST_INSNS (6 + 2 + 3 + 3 + 1)

/*
 * A rewritten block of the same address and size as one the vCPU ran is charged its new
 * instructions: the vCPU's copies of its last blocks go with the engine's decodes of the page.
 */
START_TEST(a_block_rewritten_to_the_same_size_is_charged_its_new_instructions)
{
	for (guint64 quantum = 1; quantum <= 16; quantum++) {
		Machine *m = machine_run_image(same_size_rewrite_guest,
					       sizeof(same_size_rewrite_guest), 1, 1,
					       quantum == 16 ? 10000 : quantum, 1 << 20);

		assert_halted(m, 1);
		ck_assert_uint_eq(machine_counter(m, SIM_CTR_GUEST_INSNS),
				  SAME_SIZE_REWRITE_GUEST_INSNS);
		machine_free(m);
	}
}
END_TEST

/* mov edi, KVMSIM_RAM_GPA + 0x1000; mov byte [rdi], 0xc3; call rdi; hlt: a data page becomes
 * code */
static const guint8 code_in_ram_guest[] = {
	0xbf, 0x00, 0x10, 0x40, 0x00, 0xc6, 0x07, 0xc3, 0xff, 0xd7, 0xf4,
};
/* mov edi, KVMSIM_RAM_GPA + 0x1000; mov ecx, 1000; 1: mov [rdi], ecx; dec ecx; jnz 1b; hlt:
 * 1000 stores to the same page, as data */
static const guint8 data_in_ram_guest[] = {
	0xbf, 0x00, 0x10, 0x40, 0x00, 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x89, 0x0f, 0xff, 0xc9, 0x75,
	0xfa, 0xf4,
};

/* The stores of data_in_ram_guest that took the slow path, on a machine of its own. */
static guint64
slow_stores_of_data_in_ram_guest(void)
{
	guint64 before = hw_slow_stores;
	Machine *m = machine_run_image(data_in_ram_guest, sizeof(data_in_ram_guest), 1, 1, 10000,
				       1 << 20);
	guint64 n = hw_slow_stores - before;

	assert_halted(m, 1);
	machine_free(m);
	return n;
}

/*
 * A freed machine's code pages are not code to a later machine whose RAM the allocator puts at
 * the same host address, whether or not a third machine's engines lived throughout: its stores
 * there take the fast path (speed only: each engine's own code pages keep it correct). Without
 * the store fast path both counts are every store.
 */
START_TEST(a_freed_machines_code_pages_do_not_slow_the_next_machines_stores)
{
	guint64 alone, with_keeper;
	Machine *keeper, *m;

	m = machine_run_image(code_in_ram_guest, sizeof(code_in_ram_guest), 1, 1, 10000, 1 << 20);
	machine_free(m);
	alone = slow_stores_of_data_in_ram_guest();

	keeper = machine_run_image(data_in_ram_guest, sizeof(data_in_ram_guest), 1, 1, 10000,
				   1 << 20);
	/* whether the allocator reuses the address varies with the heap's layout: try a few */
	for (guint i = 0; i < 8; i++) {
		m = machine_run_image(code_in_ram_guest, sizeof(code_in_ram_guest), 1, 1, 10000,
				      1 << 20);
		machine_free(m);
		with_keeper = slow_stores_of_data_in_ram_guest();
		ck_assert_msg(with_keeper == alone, "try %u: %" G_GUINT64_FORMAT " slow stores, %"
			      G_GUINT64_FORMAT " without the other machine", i, with_keeper, alone);
	}
	machine_free(keeper);
}
END_TEST

/*
 * Touches 64 pages, one first-touch fault each in the middle of the loop's block:
 *	mov ecx, 64; mov rax, KVMSIM_RAM_GPA; 1: inc rdx; mov [rax], rdx; add rax, 4096; dec ecx;
 *	jnz 1b; hlt
 */
static const guint8 touch_guest[] = {
	0xb9, 0x40, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc0, 0x00, 0x00, 0x40, 0x00, 0x48, 0xff, 0xc2,
	0x48, 0x89, 0x10, 0x48, 0x05, 0x00, 0x10, 0x00, 0x00, 0xff, 0xc9, 0x75, 0xf0, 0xf4,
};

START_TEST(faults_charge_only_the_instructions_that_retired)
{
	Machine *m = machine_run_image(touch_guest, sizeof(touch_guest), 1, 1, 10000, 1 << 20);

	assert_halted(m, 1);
	ck_assert_uint_ge(machine_counter(m, SIM_CTR_EXITS_EPT_VIOLATION), 64);
	ck_assert_uint_eq(machine_counter(m, SIM_CTR_GUEST_INSNS), 2 + 64 * 5 + 1);
	machine_free(m);
}
END_TEST

/* Counts down 200 times, then halts with IF clear (the vCPU stops). */
static const guint8 spin_guest[] = {
	0xb9, 0xc8, 0x00, 0x00, 0x00, /* mov ecx, 200 */
	0xff, 0xc9,                   /* 1: dec ecx */
	0x75, 0xfc,                   /* jnz 1b */
	0xf4,                         /* hlt */
};

/* A memslot update parked vcpu0 inside its entry switch: the actor that makes it, and where. */
typedef struct {
	SimVmm *vmm;
	gboolean started, done;
	int result;
	gint slot_actor;               /* its creation index */
	gint vcpu0;                    /* vcpu0's, once parked */
	int kicked;                    /* vcpu0's mode when the update returned */
	int other;                     /* vcpu1's */
} SlotUpdate;

/* KVM_SET_USER_MEMORY_REGION2 creating slot 9 (no zap, no request: only the kick). */
static void
slot_update_actor(SimActor *actor, gpointer data)
{
	SlotUpdate *u = data;
	struct kvm *kvm = sim_vmm_kvm(u->vmm);
	struct kvm_userspace_memory_region2 region = {
		.slot = 9,
		.guest_phys_addr = 0x40000000,
		.memory_size = 1 << 12,
		.userspace_addr = 0x7f4000000000,
	};

	u->result = kvm_set_memory_region(kvm, &region);
	u->kicked = kvm->vcpus[0]->mode;
	u->other = kvm->vcpus[1]->mode;
	u->done = TRUE;
}

/* Position of actor index in c->runnable, or c->n. */
static guint
runnable_at(const SimChoice *c, gint index)
{
	for (guint i = 0; i < c->n; i++)
		if ((gint)c->runnable[i] == index)
			return i;
	return c->n;
}

/* The running actor goes on while it can, the update waiting; the update runs as soon as vcpu0
 * yields inside asi_kvm_vmenter() (IN_GUEST_MODE there), and vcpu0 waits for its end. */
static guint
park_vcpu0_in_its_entry(SimSched *sched, const SimChoice *c, gpointer data)
{
	SlotUpdate *u = data;
	guint slot = runnable_at(c, u->slot_actor), cur = runnable_at(c, c->current);

	if (!u->started && cur < c->n && c->point && g_str_has_prefix(c->point, "asi.enter.") &&
	    g_str_equal(sim_sched_actor_name(sched, (guint)c->current), "vcpu0")) {
		u->started = TRUE;
		u->vcpu0 = c->current;
		return slot;
	}
	if (u->started && !u->done) {
		if (slot < c->n)
			return slot;
		for (guint i = 0; i < c->n; i++)
			if ((gint)c->runnable[i] != u->vcpu0)
				return i;
		return 0;
	}
	if (cur < c->n)
		return cur;
	return c->runnable[0] == (guint)u->slot_actor ? 1 : 0;
}

/*
 * kvm_arch_memslots_updated() kicks every vCPU (x86.c, read in ColinIanKing/linux-next at
 * 1c60d04a): vcpu0, IN_GUEST_MODE in ASI's entry switch, takes the reschedule IPI at the entry
 * (an EXTERNAL_INTERRUPT exit on vector 0xfd) and enters again; vcpu1, outside guest mode, is
 * not interrupted, and both finish the guest.
 */
START_TEST(a_memslot_update_kicks_a_vcpu_in_guest_mode_out_and_leaves_the_others)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	SlotUpdate u = { .slot_actor = -1, .vcpu0 = -1 };
	Machine *m;

	cfg.workload = "image";
	cfg.image = spin_guest;
	cfg.image_size = sizeof(spin_guest);
	cfg.mem_size = 1 << 20;
	asi_sim_config_init(&cfg.asi);
	cfg.asi.on = TRUE;
	m = machine_new(&cfg, TRUE);
	u.vmm = m->vmm;
	u.slot_actor = (gint)sim_sched_nr_actors(m->sched);
	sim_actor_new(m->sched, "slotupdate", slot_update_actor, &u);
	sim_sched_set_chooser(m->sched, park_vcpu0_in_its_entry, &u);
	machine_run(m);

	ck_assert(u.started && u.done);
	ck_assert_int_eq(u.result, 0);
	const char *log = sim_log_text(m->log);
	const char *ipi = strstr(log, "reason EXTERNAL_INTERRUPT");

	ck_assert_msg(ipi, "no external interrupt exit");
	ck_assert(g_str_has_prefix(ipi - strlen("kvm_exit: vcpu 0 "), "kvm_exit: vcpu 0 "));
	ck_assert_ptr_nonnull(strstr(ipi, "intr_info 0x800000fd"));
	ck_assert_ptr_null(strstr(ipi + 1, "reason EXTERNAL_INTERRUPT"));
	ck_assert_int_eq(u.kicked, EXITING_GUEST_MODE);
	ck_assert_int_eq(u.other, OUTSIDE_GUEST_MODE);
	assert_halted(m, 2);
	machine_free(m);
}
END_TEST

static Suite *
vcpu_suite(void)
{
	Suite *s = suite_create("vcpu");
	TCase *tc = tcase_create("time-and-randomness");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, tsc_and_random_numbers_are_the_same_in_the_same_run_and_move_forward);
	tcase_add_test(tc, tsc_counts_retired_instructions_whatever_the_quantum);
	tcase_add_test(tc, random_numbers_follow_the_seed_and_each_vcpu_has_its_own_stream);
	tcase_add_test(tc, cpuid_gives_each_vcpu_its_apic_id_and_advertises_rdrand_and_rdseed);
	suite_add_tcase(s, tc);

	tc = tcase_create("instruction-accounting");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, store_into_its_own_block_completes_with_a_quantum_smaller_than_the_block);
	tcase_add_test(tc, a_store_into_code_written_to_a_data_page_is_seen_by_its_next_run);
	tcase_add_test(tc, code_stored_to_a_page_that_got_a_new_frame_replaces_its_old_blocks);
	tcase_add_test(tc, code_dropped_by_a_conversion_runs_as_the_new_frames_zeros);
	tcase_add_test(tc, faults_charge_only_the_instructions_that_retired);
	tcase_add_test(tc, a_block_rewritten_to_the_same_size_is_charged_its_new_instructions);
	tcase_add_test(tc, io_exits_name_the_in_or_out_itself_and_its_form);
	suite_add_tcase(s, tc);

	tc = tcase_create("engines");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, a_freed_machines_code_pages_do_not_slow_the_next_machines_stores);
	tcase_add_test(tc, a_memslot_update_kicks_a_vcpu_in_guest_mode_out_and_leaves_the_others);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(vcpu_suite());
}
