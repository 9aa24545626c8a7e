/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Port-I/O reads whose re-entry is dropped: with --asi on, a zap's flush requested while the VMM
 * handles an in ends the run past it, and KVM_RUN serves the flush before the next entry
 * (sim_tlb_flush after the I/O exit), one requested while the vCPU is in ASI's entry switch makes
 * it exit at once on the IPI (kvm_exit EXTERNAL_INTERRUPT, sim_kvm_vmenter()), and the in must
 * still land where the guest expects it: in AL, AX or EAX
 * with the rest of RAX as the form says, and for rep insb in memory with RDI and RCX moved, each
 * port read once.
 */
#include "tests/check-run.h"
#include <string.h>

#include "asi/asi-sim.h"
#include "tests/integration/machine.h"
#include "workloads/abi.h"

#define ROUNDS 3000u
#define INS_PER_ROUND 19u /* in al; in ax; in eax; 16 iterations of rep insb */

/*
 * vCPU 0 does ROUNDS rounds of four reads of port 0x80 (the VMM answers 0xffffffff: no device),
 * each with RAX = 0xdeadbeef12345678 before, and sets a bit of r13d for each wrong result; then
 * writes r13d to the exit port (0: pass). Other vCPUs halt.
 *	test edi, edi; je 1f; hlt
 *   1:	mov r12d, ROUNDS; xor r13d, r13d; movabs r14, 0xdeadbeef12345678; sub rsp, 0x40
 *   2:	mov rax, r14; in al, 0x80	-> 0xdeadbeef123456ff, else bit 0
 *	mov rax, r14; mov dx, 0x80; in ax, dx	-> 0xdeadbeef1234ffff, else bit 1
 *	mov rax, r14; in eax, dx	-> 0x00000000ffffffff (zero-extended), else bit 2
 *	zero [rsp], [rsp+8]; mov rdi, rsp; mov ecx, 16; rep insb
 *		ecx 0, else bit 3; rdi rsp + 16, else bit 4; both qwords all ones, else bit 5
 *	dec r12d; jnz 2b; mov eax, r13d; out 0xf4, eax; hlt
 */
static const guint8 pio_guest[] = {
	0x85, 0xff, 0x74, 0x01, 0xf4,
	0x41, 0xbc, ROUNDS & 0xff, ROUNDS >> 8, 0x00, 0x00,
	0x45, 0x31, 0xed,
	0x49, 0xbe, 0x78, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,
	0x48, 0x83, 0xec, 0x40,
	/* 0x1c */
	0x4c, 0x89, 0xf0,
	0xe4, 0x80,                                                 /* 0x1f in al, 0x80 */
	0x48, 0xbb, 0xff, 0x56, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,
	0x48, 0x39, 0xd8, 0x74, 0x04, 0x41, 0x83, 0xcd, 0x01,
	0x4c, 0x89, 0xf0,
	0x66, 0xba, 0x80, 0x00,
	0x66, 0xed,                                                 /* 0x3b in ax, dx */
	0x48, 0xbb, 0xff, 0xff, 0x34, 0x12, 0xef, 0xbe, 0xad, 0xde,
	0x48, 0x39, 0xd8, 0x74, 0x04, 0x41, 0x83, 0xcd, 0x02,
	0x4c, 0x89, 0xf0,
	0xed,                                                       /* 0x53 in eax, dx */
	0xbb, 0xff, 0xff, 0xff, 0xff,
	0x48, 0x39, 0xd8, 0x74, 0x04, 0x41, 0x83, 0xcd, 0x04,
	0x48, 0xc7, 0x04, 0x24, 0x00, 0x00, 0x00, 0x00,
	0x48, 0xc7, 0x44, 0x24, 0x08, 0x00, 0x00, 0x00, 0x00,
	0x48, 0x89, 0xe7,
	0xb9, 0x10, 0x00, 0x00, 0x00,
	0xf3, 0x6c,                                                 /* 0x7b rep insb */
	0x85, 0xc9, 0x74, 0x04, 0x41, 0x83, 0xcd, 0x08,
	0x48, 0x8d, 0x5c, 0x24, 0x10,
	0x48, 0x39, 0xdf, 0x74, 0x04, 0x41, 0x83, 0xcd, 0x10,
	0x48, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff,
	0x48, 0x39, 0x1c, 0x24, 0x75, 0x07,
	0x48, 0x39, 0x5c, 0x24, 0x08, 0x74, 0x04,
	0x41, 0x83, 0xcd, 0x20,
	0x41, 0xff, 0xcc,
	0x0f, 0x85, 0x68, 0xff, 0xff, 0xff,                         /* jnz 0x1c */
	0x44, 0x89, 0xe8,
	0xe7, 0xf4,
	0xf4,
};

/* The four reads, by offset in the image. */
static const struct {
	guint offset;
	const char *name;
} reads[] = {
	{ 0x1f, "in al, 0x80" },
	{ 0x3b, "in ax, dx" },
	{ 0x53, "in eax, dx" },
	{ 0x7b, "rep insb" },
};

/* Runs pio_guest with --asi on under migrations of its image and stack pages, every 3 steps. */
static Machine *
run_pio_guest(guint64 seed)
{
	SimVmmConfig cfg = SIM_VMM_CONFIG_INIT;
	Machine *m;

	cfg.workload = "image";
	cfg.image = pio_guest;
	cfg.image_size = sizeof(pio_guest);
	cfg.nr_vcpus = 1;
	cfg.mem_size = 1 << 20;
	cfg.seed = seed;
	asi_sim_config_init(&cfg.asi);
	cfg.asi.on = TRUE;
	cfg.host_events.count[SIM_HOST_MIGRATE] = 300;
	cfg.host_event_interval = 3;
	cfg.host_event_regions = SIM_VMM_REGION_IMAGE | SIM_VMM_REGION_STACKS;
	m = machine_new(&cfg, TRUE);
	machine_run(m);
	return m;
}

/* The rip of an IO_INSTRUCTION kvm_exit line, or 0. */
static guint64
io_exit_rip(const char *line)
{
	const char *p = strstr(line, "kvm_exit: ");

	if (!p || !(p = strstr(p, "reason IO_INSTRUCTION rip ")))
		return 0;
	return g_ascii_strtoull(p + strlen("reason IO_INSTRUCTION rip "), NULL, 16);
}

START_TEST(cancelled_in_entries_land_the_value_read_once)
{
	guint cancelled[G_N_ELEMENTS(reads)] = { 0 };

	for (guint64 seed = 1; seed <= 3; seed++) {
		Machine *m = run_pio_guest(seed);
		/* g_strsplit_set(): one pass (ASan checks each strstr() of g_strsplit() to the end) */
		g_auto(GStrv) lines = g_strsplit_set(sim_log_text(m->log), "\n", -1);
		guint64 last_io = 0, port_reads = 0;
		gboolean entered = FALSE;

		ck_assert_msg(sim_vmm_guest_result(m->vmm) == SIM_GUEST_PASS,
			      "seed %" G_GUINT64_FORMAT ": the guest saw a wrong value (%s): %s", seed,
			      sim_guest_result_name(sim_vmm_guest_result(m->vmm)),
			      sim_vmm_error(m->vmm) ? sim_vmm_error(m->vmm) : "");
		for (guint i = 0; lines[i]; i++) {
			const char *l = lines[i];

			ck_assert_msg(!strstr(l, "sim_invariant"), "seed %" G_GUINT64_FORMAT ": %s",
				      seed, l);
			/* after the I/O exit: the flush served before any entry, or the re-entry's
			 * first exit on an IPI (not the timer's 0xec) */
			gboolean dropped = (!entered && strstr(l, "sim_tlb_flush: ")) ||
					   (entered && strstr(l, " reason EXTERNAL_INTERRUPT ") &&
					    !strstr(l, " intr_info 0x800000ec "));

			if (dropped && last_io)
				for (guint r = 0; r < G_N_ELEMENTS(reads); r++)
					if (last_io == KVMSIM_IMAGE_GPA + reads[r].offset)
						cancelled[r]++;
			if (strstr(l, "kvm_exit: ")) {
				last_io = io_exit_rip(l);
				entered = FALSE;
			} else if (strstr(l, "kvm_entry: ")) {
				entered = TRUE;
			}
			else if (strstr(l, "kvm_pio: pio_read at 0x80 "))
				port_reads++;
		}
		/* every read exits once: a cancelled one is neither lost nor made again */
		ck_assert_uint_eq(port_reads, ROUNDS * INS_PER_ROUND);
		machine_free(m);
	}
	for (guint r = 0; r < G_N_ELEMENTS(reads); r++)
		ck_assert_msg(cancelled[r] > 0, "no entry after %s was cancelled", reads[r].name);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("asi-pio");
	TCase *tc = tcase_create("cancelled");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, cancelled_in_entries_land_the_value_read_once);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
