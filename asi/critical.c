/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The API shape the v2 03/29 review converged on (reference §2.5: Brendan Jackman's
 * asi_start()/asi_end() around asi_start_critical()/asi_end_critical(), which Borislav Petkov
 * accepted as clear), and Junaid Shahid's broken order as a planted bug. No code of the renamed
 * API was found (the branch still has asi_enter/asi_relax/asi_exit): these are [inference] from
 * the thread, built on the v2 functions they rename.
 */
#include "asi/asi-internal.h"

/* [inference] asi_start() (bj-2): the region where restricted spaces may be used begins; it
 * records the domain. Preemption stays possible (js-2: the run loop has preemptible parts and
 * context_switch() exits). */
void
asi_start(AsiCpu *cpu, struct asi *asi)
{
	asi_warn(cpu->host, cpu->current->started != NULL, "asi_start_twice");
	cpu->current->started = asi;
}

/* [inference] asi_start_critical() (bj-1: "implies enter"): asi_enter() of the started domain,
 * so the target is set before the switch and an NMI anywhere in it re-enters on its return
 * (js-1's correct order). Preemption must be off here (js-2). */
void
asi_start_critical(AsiCpu *cpu)
{
	if (asi_warn(cpu->host, cpu->current->started == NULL, "asi_start_critical_unstarted"))
		return;
	asi_enter(cpu, cpu->current->started);
}

/* [inference] asi_end_critical(): asi_relax(). */
void
asi_end_critical(AsiCpu *cpu)
{
	asi_relax(cpu);
}

/* [inference] asi_end(): the explicit asi_exit() before exit_to_user_mode (bp-4, js-2). */
void
asi_end(AsiCpu *cpu, enum asi_exit_reason reason)
{
	asi_warn(cpu->host, cpu->current->started == NULL, "asi_end_unstarted");
	cpu->current->started = NULL;
	asi_exit(cpu, reason);
}
