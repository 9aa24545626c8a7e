/* SPDX-License-Identifier: GPL-2.0-only */
/* The asi suites' fixture (asi-fixture.h). */
#include "tests/unit/asi-fixture.h"

Fix fx;

/* An NMI handler touching guest RAM (a perf sample of user memory): intr entry, access, return. */
static void
nmi_handler(AsiCpu *cpu)
{
	asi_intr_enter(cpu);
	fx.nmi_result = asi_host_access(cpu, fx.guest, 0);
	asi_intr_exit(cpu);
}

/* Record each step by name; fire the NMI once at the chosen step. */
static void
record_step(AsiCpu *cpu, const AsiStep *step, gpointer data)
{
	static const char *const names[] = {
		[ASI_STEP_SET_TARGET] = "target", [ASI_STEP_CLEAR_TARGET] = "relax",
		[ASI_STEP_SET_CURR] = "curr",     [ASI_STEP_CLEAR_CURR] = "curr=0",
		[ASI_STEP_IBPB] = "ibpb",         [ASI_STEP_RSB_FILL] = "rsb",
		[ASI_STEP_L1D_FLUSH] = "l1d",     [ASI_STEP_EXIT_PF] = "exit_pf",
	};

	if (fx.seq->len)
		g_string_append_c(fx.seq, ' ');
	if (step->kind == ASI_STEP_CR3_WRITE)
		g_string_append_printf(fx.seq, "cr3:%s",
				       (step->cr3 & PTE_PFN_MASK) == fx.mm->pgd ? "U" : "R");
	else if (step->kind == ASI_STEP_TAINT)
		g_string_append_printf(fx.seq, "taint:%02x", step->taints);
	else
		g_string_append(fx.seq, names[step->kind]);
	if (!fx.nmi_fired && fx.nmi_point && !g_strcmp0(step->point, fx.nmi_point)) {
		if (fx.nmi_skip-- == 0) {
			fx.nmi_fired = TRUE;
			g_string_append(fx.seq, " [nmi");
			nmi_handler(cpu);
			g_string_append(fx.seq, " nmi]");
		}
	}
}

/* A fresh fixture (asi-fixture.h). */
void
fix_setup(void)
{
	AsiConfig config;
	AsiOps ops = { .step = record_step };

	memset(&fx, 0, sizeof(fx));
	asi_config_init(&config);
	fx.host = asi_host_new(&config, &ops);
	ck_assert_int_eq(kvm_x86_init_asi_class(fx.host), 0);
	asi_init_userspace_class(fx.host);
	fx.mm = asi_mm_new(fx.host);
	ck_assert_int_eq(asi_init(fx.host, fx.mm, ASI_CLASS_KVM, &fx.kvm), 0);
	ck_assert_int_eq(asi_init(fx.host, fx.mm, ASI_CLASS_USERSPACE, &fx.user), 0);
	fx.kobj = asi_alloc_pages(fx.host, ASI_OBJ_KERNEL, 1);
	fx.guest = asi_alloc_pages(fx.host, ASI_OBJ_GUEST_RAM, 1);
	asi_mm_map_user(fx.host, fx.mm, GUEST_UVA, fx.guest, 1);
	fx.cpu = asi_host_cpu(fx.host, 0);
	asi_task_init(&fx.task, fx.mm);
	asi_cpu_switch_to(fx.cpu, &fx.task);
	fx.seq = g_string_new(NULL);
}

/* Free the fixture. */
void
fix_teardown(void)
{
	g_string_free(fx.seq, TRUE);
	asi_host_free(fx.host);
}

/* The recorded steps, then restart the recording. */
char *
fix_take_seq(void)
{
	char *s = g_strdup(fx.seq->str);

	g_string_truncate(fx.seq, 0);
	return s;
}

/* Whether a violation called name was reported. */
gboolean
fix_has_violation(const char *name)
{
	const GPtrArray *v = asi_host_violations(fx.host);

	for (guint i = 0; i < v->len; i++) {
		if (g_str_equal(v->pdata[i], name))
			return TRUE;
	}
	return FALSE;
}

/* One VM entry's asi_enter and asi_relax, with preemption and IRQs off. */
void
fix_enter_relax(struct asi *asi)
{
	asi_preempt_disable(fx.cpu);
	fx.cpu->irqs_disabled = TRUE;
	asi_enter(fx.cpu, asi);
	asi_relax(fx.cpu);
	fx.cpu->irqs_disabled = FALSE;
	asi_preempt_enable(fx.cpu);
}
