/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Translated code follows what the host does to guest RAM: after MADV_DONTNEED of a page the
 * vCPUs ran code from, the refault maps the zero page and every vCPU runs zeros; after a
 * UFFDIO_COPY placed other code there, every vCPU runs that. Unicorn keeps a page's blocks
 * through both (neither is a store through its softmmu): without hostmem's code hook the vCPUs
 * run the old code. A VM on the MMU model with real vCPUs (sim/cpu/vcpu.h) and no VMM, so that
 * the test's own hypercall does the host side at a chosen point.
 */
#include "tests/check-run.h"

#include "sim/core/uffd.h"
#include "sim/cpu/vcpu.h"
#include "tests/unit/harness.h"

#define MEM 0x100000ull
#define PAGE 0x1000ull
#define MAIN 0x1000ull   /* the program below */
#define P 0x2000ull      /* the called page: its code changes under the guest */
#define REPORT 0x3000ull /* where zeros run into from P: reports that they ran */
#define DATA 0x8000ull   /* RAX while P runs: where zeros' add [rax], al writes */
#define FLAGS 0x9000ull  /* byte: vCPU 0 did the host side; dword at +8: others ran P */
#define STACKS 0x10000ull
#define PARAMS DATA      /* reset_code's Q, dist and kind (qwords) */
#define Q 0x4000ull      /* reset_code's page: data on vCPU 1, then code on vCPU 0 */
#define MEM_BIG 0x1000000ull /* reset_code's RAM: room for Q + 2 * dist */

#define HC_HOST_SIDE 100 /* vCPU 0 asks the test to act on P */
#define HC_RAN_ZEROS 101 /* from REPORT */
#define HC_RETURNED 102  /* P returned, a0 = its EAX */

/*
 * Every vCPU calls P; the others count themselves at FLAGS + 8 and wait for FLAGS; vCPU 0 (EDI 0)
 * waits until ESI others have run P, has the host act on P, sets FLAGS; then each calls P again
 * with RAX = DATA and reports what happened.
 */
static const guint8 main_code[] = {
	0x48, 0xc7, 0xc0, 0x00, 0x80, 0x00, 0x00,       /* mov rax, DATA */
	0xe8, 0xf4, 0x0f, 0x00, 0x00,                   /* call P */
	0x83, 0xff, 0x00,                               /* cmp edi, 0 */
	0x75, 0x1b,                                     /* jne other */
	0x39, 0x34, 0x25, 0x08, 0x90, 0x00, 0x00,       /* w0: cmp [FLAGS + 8], esi */
	0x75, 0xf7,                                     /* jne w0 */
	0xb8, 0x64, 0x00, 0x00, 0x00,                   /* mov eax, HC_HOST_SIDE */
	0x0f, 0x01, 0xc1,                               /* vmcall */
	0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, /* mov byte [FLAGS], 1 */
	0xeb, 0x12,                                     /* jmp go */
	0xf0, 0xff, 0x04, 0x25, 0x08, 0x90, 0x00, 0x00, /* other: lock inc dword [FLAGS + 8] */
	0x80, 0x3c, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, /* w1: cmp byte [FLAGS], 1 */
	0x75, 0xf6,                                     /* jne w1 */
	0x48, 0xc7, 0xc0, 0x00, 0x80, 0x00, 0x00,       /* go: mov rax, DATA */
	0xe8, 0xb6, 0x0f, 0x00, 0x00,                   /* call P */
	0x48, 0x89, 0xc3,                               /* mov rbx, rax */
	0xb8, 0x66, 0x00, 0x00, 0x00,                   /* mov eax, HC_RETURNED */
	0x0f, 0x01, 0xc1,                               /* vmcall */
	0xf4,                                           /* hlt */
};
static const guint8 old_p[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 1; ret */
static const guint8 new_p[] = { 0xb8, 0x02, 0x00, 0x00, 0x00, 0xc3 }; /* mov eax, 2; ret */
/* out 0xe9, al; mov eax, 1; ret: P for VMM_WRITE_IN_PIO, whose VMM rewrites the 1 in the out's
 * exit */
static const guint8 pio_p[] = { 0xe6, 0xe9, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3 };
#define PIO_P_IMM 3
static const guint8 report_code[] = {
	0xb8, 0x65, 0x00, 0x00, 0x00, /* mov eax, HC_RAN_ZEROS */
	0x0f, 0x01, 0xc1,             /* vmcall */
	0xf4,                         /* hlt */
};

/*
 * Cross-engine tlb_reset_dirty: vCPU 1 (EDI 1) stores into Q while it is only data, which fills
 * its TLB with a writable entry that skips the slow path (the store fast path), and with dist set
 * pushes that entry into its victim TLB by stores to two pages of the same TLB index; then vCPU 0
 * runs Q (mov eax, 1; ret), and vCPU 1 rewrites the 1 through its old entry (kind 0: mov byte;
 * 1: lock cmpxchg16b, a 16-byte store); vCPU 0 runs Q again and reports its EAX. FLAGS steps
 * 1, 2, 3 order them.
 */
static const guint8 reset_code[] = {
	0x4c, 0x8b, 0x04, 0x25, 0x00, 0x80, 0x00, 0x00, /* mov r8, [PARAMS] (Q) */
	0x4c, 0x8b, 0x0c, 0x25, 0x08, 0x80, 0x00, 0x00, /* mov r9, [PARAMS + 8] (dist) */
	0x44, 0x8b, 0x14, 0x25, 0x10, 0x80, 0x00, 0x00, /* mov r10d, [PARAMS + 16] (kind) */
	0x85, 0xff,                                     /* test edi, edi */
	0x75, 0x2e,                                     /* jne v1 */
	0x80, 0x3c, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, /* w0: cmp byte [FLAGS], 1 */
	0x75, 0xf6,                                     /* jne w0 */
	0x41, 0xff, 0xd0,                               /* call r8 */
	0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x02, /* mov byte [FLAGS], 2 */
	0x80, 0x3c, 0x25, 0x00, 0x90, 0x00, 0x00, 0x03, /* w2: cmp byte [FLAGS], 3 */
	0x75, 0xf6,                                     /* jne w2 */
	0x41, 0xff, 0xd0,                               /* call r8 */
	0x48, 0x89, 0xc3,                               /* mov rbx, rax */
	0xb8, 0x66, 0x00, 0x00, 0x00,                   /* mov eax, HC_RETURNED */
	0x0f, 0x01, 0xc1,                               /* vmcall */
	0xf4,                                           /* hlt */
	0x41, 0xc6, 0x40, 0x01, 0x01,                   /* v1: mov byte [r8 + 1], 1 */
	0x4d, 0x85, 0xc9,                               /* test r9, r9 */
	0x74, 0x0c,                                     /* je s1 */
	0x43, 0xc6, 0x44, 0x08, 0x08, 0x01,             /* mov byte [r8 + r9 + 8], 1 */
	0x43, 0xc6, 0x44, 0x48, 0x08, 0x01,             /* mov byte [r8 + r9 * 2 + 8], 1 */
	0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x01, /* s1: mov byte [FLAGS], 1 */
	0x80, 0x3c, 0x25, 0x00, 0x90, 0x00, 0x00, 0x02, /* w1: cmp byte [FLAGS], 2 */
	0x75, 0xf6,                                     /* jne w1 */
	0x45, 0x85, 0xd2,                               /* test r10d, r10d */
	0x75, 0x07,                                     /* jne c16 */
	0x41, 0xc6, 0x40, 0x01, 0x02,                   /* mov byte [r8 + 1], 2 */
	0xeb, 0x20,                                     /* jmp done */
	0x49, 0x8b, 0x00,                               /* c16: mov rax, [r8] */
	0x49, 0x8b, 0x50, 0x08,                         /* mov rdx, [r8 + 8] */
	0x48, 0x89, 0xc3,                               /* mov rbx, rax */
	0x48, 0x81, 0xe3, 0xff, 0x00, 0xff, 0xff,       /* and rbx, ~0xff00 */
	0x48, 0x81, 0xcb, 0x00, 0x02, 0x00, 0x00,       /* or rbx, 0x200 */
	0x48, 0x89, 0xd1,                               /* mov rcx, rdx */
	0xf0, 0x49, 0x0f, 0xc7, 0x08,                   /* lock cmpxchg16b [r8] */
	0xc6, 0x04, 0x25, 0x00, 0x90, 0x00, 0x00, 0x03, /* done: mov byte [FLAGS], 3 */
	0xb8, 0x66, 0x00, 0x00, 0x00,                   /* mov eax, HC_RETURNED */
	0x0f, 0x01, 0xc1,                               /* vmcall */
	0xf4,                                           /* hlt */
};

typedef enum {
	HOST_DONTNEED,    /* MADV_DONTNEED: the refault maps the zero page */
	HOST_UFFD_COPY,   /* MADV_DONTNEED, then UFFDIO_COPY of new_p: post-copy placement */
	GUEST_STORE,      /* no host side: vCPU 0 itself stores new_p's immediate into P */
	VMM_WRITE_IN_PIO, /* P is pio_p; the first port-I/O exit after the host side rewrites it */
	RESET_DIRTY,      /* reset_code instead of main_code, on MEM_BIG */
} HostSide;

/* Where main_code asks for the host side (mov eax, HC_HOST_SIDE; vmcall), and the guest store
 * of the same length GUEST_STORE puts there: vCPU 0 rewrites P through its own engine. */
#define HOST_SIDE_AT 26
static const guint8 host_side_call[] = { 0xb8, 0x64, 0x00, 0x00, 0x00, 0x0f, 0x01, 0xc1 };
static const guint8 guest_store[] = {
	0xc6, 0x04, 0x25, 0x01, 0x20, 0x00, 0x00, 0x02, /* mov byte [P + 1], 2 */
};

typedef struct {
	TestMachine *host;
	struct kvm *kvm;
	SimVcpu *vcpu[2];
	guint nr_vcpus;
	guint64 hva;
	HostSide side;
	SimUffd *uffd;
	guint64 reported[2]; /* the last hypercall of each vCPU */
	guint64 value[2];    /* its a0 */
	gboolean host_side_done, rewritten;
	guint64 params[3];   /* RESET_DIRTY: at PARAMS */
} Rig;

/* Writes bytes at gpa through the host mapping, faulting the page in, as a VMM loads a guest. */
static void
rig_write(Rig *r, guint64 gpa, const void *bytes, guint len)
{
	SimPfn pfn;
	gboolean writable;

	ck_assert_int_eq(sim_mm_hva_to_pfn(r->host->mm, r->hva + gpa, TRUE, &pfn, &writable), 0);
	sim_frame_write(r->host->hm, pfn, (guint)(gpa & (PAGE - 1)), bytes, len);
	sim_frame_put(r->host->hm, pfn);
}

/* The host side, in vCPU 0's hypercall exit; the others' reports. */
static guint64
rig_hypercall(gpointer data, SimVcpu *vcpu, guint64 nr, const guint64 args[4])
{
	Rig *r = data;
	int id = sim_vcpu_id(vcpu);

	if (nr == HC_HOST_SIDE) {
		r->host_side_done = TRUE;
		if (r->side == VMM_WRITE_IN_PIO)
			return 0;
		ck_assert_int_eq(sim_mm_dontneed(r->host->mm, r->hva + P, PAGE), 0);
		if (r->side == HOST_UFFD_COPY) {
			guint8 page[PAGE] = { 0 };

			memcpy(page, new_p, sizeof(new_p));
			r->uffd = sim_uffd_new(r->host->mm);
			/* the whole mapping: registration is per VMA here; the pages the guest
			 * touches from now on are all present already */
			ck_assert_int_eq(sim_uffd_register(r->uffd, r->hva, MEM), 0);
			ck_assert_int_eq(sim_uffd_copy(r->uffd, r->hva + P, page, FALSE), 0);
		}
		return 0;
	}
	r->reported[id] = nr;
	r->value[id] = args[0];
	return 0;
}

/* P's out: the VMM rewrites P's immediate to 2 in the first exit after the host side, while the
 * vCPU is inside P's block. */
static gboolean
rig_pio(gpointer data, SimVcpu *vcpu, gboolean in, guint16 port, guint size, guint32 *value)
{
	static const guint8 two = 2;
	Rig *r = data;

	ck_assert(r->side == VMM_WRITE_IN_PIO && port == 0xe9);
	if (r->host_side_done && !r->rewritten) {
		rig_write(r, P + PIO_P_IMM, &two, 1);
		r->rewritten = TRUE;
	}
	return TRUE;
}

static const SimVcpuExitOps rig_ops = { .pio = rig_pio, .hypercall = rig_hypercall };

/* Builds the VM with nr_vcpus vCPUs running main_code (reset_code for RESET_DIRTY, with
 * params), runs it to the end. */
static Rig *
rig_run_with(guint nr_vcpus, HostSide side, guint64 seed, const guint64 params[3])
{
	Rig *r = g_new0(Rig, 1);
	GError *error = NULL;
	guint64 mem = side == RESET_DIRTY ? MEM_BIG : MEM;

	r->nr_vcpus = nr_vcpus;
	r->side = side;
	r->host = test_machine_new(seed, 4096, mem);
	r->kvm = kvm_create_vm(r->host->sched, r->host->hm, r->host->pool, r->host->mm,
			       &r->host->counters, &sim_vcpu_hw_ops);
	ck_assert(sim_mm_mmap_anon(r->host->mm, mem, &r->hva, &error));
	struct kvm_userspace_memory_region2 region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = mem, .userspace_addr = r->hva,
	};
	ck_assert_int_eq(kvm_set_memory_region(r->kvm, &region), 0);
	if (side == RESET_DIRTY) {
		memcpy(r->params, params, sizeof(r->params));
		rig_write(r, MAIN, reset_code, sizeof(reset_code));
		rig_write(r, PARAMS, r->params, sizeof(r->params));
		rig_write(r, Q, old_p, sizeof(old_p));
	} else {
		rig_write(r, MAIN, main_code, sizeof(main_code));
	}
	G_STATIC_ASSERT(sizeof(guest_store) == sizeof(host_side_call));
	g_assert(memcmp(main_code + HOST_SIDE_AT, host_side_call, sizeof(host_side_call)) == 0);
	if (side == GUEST_STORE)
		rig_write(r, MAIN + HOST_SIDE_AT, guest_store, sizeof(guest_store));
	if (side == VMM_WRITE_IN_PIO)
		rig_write(r, P, pio_p, sizeof(pio_p));
	else
		rig_write(r, P, old_p, sizeof(old_p));
	rig_write(r, REPORT, report_code, sizeof(report_code));
	for (guint i = 0; i < nr_vcpus; i++) {
		r->vcpu[i] = sim_vcpu_new(r->kvm, (int)i, &rig_ops, r, &error);
		ck_assert_msg(r->vcpu[i], "%s", error ? error->message : "?");
		sim_vcpu_set_entry(r->vcpu[i], MAIN, STACKS + (i + 1) * PAGE, i, nr_vcpus - 1);
		sim_vcpu_set_limits(r->vcpu[i], 1000, 1u << 22);
		sim_vcpu_start(r->vcpu[i], r->host->sched);
	}
	ck_assert_msg(sim_sched_run(r->host->sched, &error), "%s", error ? error->message : "?");
	for (guint i = 0; i < nr_vcpus; i++)
		ck_assert_msg(!sim_vcpu_error(r->vcpu[i]), "vcpu%u: %s", i,
			      sim_vcpu_error(r->vcpu[i]));
	return r;
}

/* rig_run_with() for main_code. */
static Rig *
rig_run(guint nr_vcpus, HostSide side, guint64 seed)
{
	return rig_run_with(nr_vcpus, side, seed, NULL);
}

static void
rig_free(Rig *r)
{
	for (guint i = 0; i < r->nr_vcpus; i++)
		sim_vcpu_free(r->vcpu[i]);
	kvm_destroy_vm(r->kvm);
	sim_uffd_free(r->uffd);
	test_machine_free(r->host);
	g_free(r);
}

/* Every vCPU ran the zero page's add [rax], al through P into REPORT. */
static void
assert_all_ran_zeros(guint nr_vcpus)
{
	for (guint64 seed = 1; seed <= 3; seed++) {
		Rig *r = rig_run(nr_vcpus, HOST_DONTNEED, seed);

		for (guint i = 0; i < nr_vcpus; i++)
			ck_assert_msg(r->reported[i] == HC_RAN_ZEROS,
				      "seed %" G_GUINT64_FORMAT " vcpu%u: hypercall %" G_GUINT64_FORMAT
				      " eax %" G_GUINT64_FORMAT " (%d: the old code ran)", seed, i,
				      r->reported[i], r->value[i], HC_RETURNED);
		rig_free(r);
	}
}

/* Every vCPU of a rig run with this host side and seed ran P's new code (mov eax, 2). */
static void
assert_all_ran_new_code(guint nr_vcpus, HostSide side, guint64 seed)
{
	Rig *r = rig_run(nr_vcpus, side, seed);

	ck_assert(side != VMM_WRITE_IN_PIO || r->rewritten);
	for (guint i = 0; i < nr_vcpus; i++) {
		ck_assert_uint_eq(r->reported[i], HC_RETURNED);
		ck_assert_msg(r->value[i] == 2,
			      "seed %" G_GUINT64_FORMAT " vcpu%u of %u: eax %" G_GUINT64_FORMAT
			      " (1: the old code ran)", seed, i, nr_vcpus, r->value[i]);
	}
	rig_free(r);
}

START_TEST(dontneed_of_code_runs_the_zero_page)
{
	assert_all_ran_zeros(1);
}
END_TEST

START_TEST(dontneed_of_code_two_vcpus_ran_runs_the_zero_page_on_both)
{
	assert_all_ran_zeros(2);
}
END_TEST

START_TEST(uffd_copy_of_other_code_runs_the_new_code)
{
	for (guint nr_vcpus = 1; nr_vcpus <= 2; nr_vcpus++)
		assert_all_ran_new_code(nr_vcpus, HOST_UFFD_COPY, 7);
}
END_TEST

/*
 * Cross-modifying code: vCPU 0 stores into P, which every vCPU has run, and each then calls it
 * again: all must run the new code (x86 makes the store visible to the others' fetches by their
 * next serializing event at the latest; kvmsim drops their blocks at the store). Without
 * hw-xmod.c, vCPU 1's engine keeps its block and returns 1. With the store fast path as the
 * environment sets it: meson runs this test once with it and once without
 * (KVMSIM_STORE_FAST_PATH=0), and it checks that the path is what it was asked to be.
 */
START_TEST(guest_store_into_code_every_vcpu_ran_runs_the_new_code_on_all)
{
	gboolean want_fast = g_strcmp0(g_getenv("KVMSIM_STORE_FAST_PATH"), "0") != 0;
	GError *error = NULL;
	SimHw *hw = sim_hw_new(&error);

	ck_assert_msg(hw, "%s", error ? error->message : "?");
	sim_hw_store_fast_path_enable(hw); /* as sim_vcpu_new() does */
	ck_assert_int_eq(sim_hw_store_fast_path(hw), want_fast);
	sim_hw_free(hw);

	for (guint nr_vcpus = 1; nr_vcpus <= 2; nr_vcpus++)
		for (guint64 seed = 1; seed <= 3; seed++)
			assert_all_ran_new_code(nr_vcpus, GUEST_STORE, seed);
}
END_TEST

/*
 * The VMM rewrites P during the port-I/O exit of P's own out: the vCPU, resumed inside the
 * block, must run the new mov eax, 2 (KVM re-enters the guest after the exit, and the fetch after
 * a VM entry sees every store made before it). Without vcpu-exit.c leaving the stale block,
 * Unicorn runs the old block's tail and P returns 1.
 */
START_TEST(vmm_write_in_pio_exit_runs_the_new_code)
{
	for (guint nr_vcpus = 1; nr_vcpus <= 2; nr_vcpus++)
		for (guint64 seed = 1; seed <= 3; seed++)
			assert_all_ran_new_code(nr_vcpus, VMM_WRITE_IN_PIO, seed);
}
END_TEST

/*
 * vCPU 1's TLB entry for Q, filled while Q was only data, must lose its fast store when vCPU 0
 * makes Q code (hw-notdirty.c's tlb_reset_dirty() on every engine), also from the victim TLB (the
 * entry evicted there by stores to pages of the same TLB index; the TLB's size may have grown,
 * hence three distances) and for a 16-byte cmpxchg16b: else vCPU 1's rewrite is not seen and
 * vCPU 0 runs its old block. Only meaningful with two vCPUs (two engines).
 */
START_TEST(data_page_becoming_code_loses_other_vcpus_fast_stores)
{
	static const guint64 rounds[][2] = {
		{ 0, 0 }, { 0x100000, 0 }, { 0x200000, 0 }, { 0x400000, 0 }, { 0, 1 }, { 0x100000, 1 },
	};

	for (guint i = 0; i < G_N_ELEMENTS(rounds); i++) {
		for (guint64 seed = 1; seed <= 2; seed++) {
			const guint64 params[3] = { Q, rounds[i][0], rounds[i][1] };
			Rig *r = rig_run_with(2, RESET_DIRTY, seed, params);

			ck_assert_uint_eq(r->reported[0], HC_RETURNED);
			ck_assert_msg(r->value[0] == 2, "dist 0x%" G_GINT64_MODIFIER "x kind %"
				      G_GUINT64_FORMAT " seed %" G_GUINT64_FORMAT ": eax %"
				      G_GUINT64_FORMAT " (1: the old code ran)", rounds[i][0],
				      rounds[i][1], seed, r->value[0]);
			rig_free(r);
		}
	}
}
END_TEST

static Suite *
code_coherence_suite(void)
{
	Suite *s = suite_create("code-coherence");
	TCase *tc = tcase_create("host-changes-code");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dontneed_of_code_runs_the_zero_page);
	tcase_add_test(tc, dontneed_of_code_two_vcpus_ran_runs_the_zero_page_on_both);
	tcase_add_test(tc, uffd_copy_of_other_code_runs_the_new_code);
	tcase_add_test(tc, guest_store_into_code_every_vcpu_ran_runs_the_new_code_on_all);
	tcase_add_test(tc, vmm_write_in_pio_exit_runs_the_new_code);
	tcase_add_test(tc, data_page_becoming_code_loses_other_vcpus_fast_stores);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run_suite(code_coherence_suite());
}
