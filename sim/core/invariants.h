/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every invariant kvmsim checks, by name, with what it forbids: one list, which the MMU, the
 * scheduler, guest_memfd and ASI extend. A failed run names one of these (the "sim_invariant"
 * event and sim_sched_failure()'s "invariant NAME violated: ..."); `kvmsim list --invariants`
 * prints them.
 */
#ifndef KVMSIM_SIM_CORE_INVARIANTS_H
#define KVMSIM_SIM_CORE_INVARIANTS_H

#include <glib.h>

typedef struct {
	const char *name;
	const char *what;
	const char *where; /* when it is checked */
} SimInvariant;

/* All invariants, sorted by name; *out_n receives their number. */
const SimInvariant *sim_invariants(guint *out_n);
const SimInvariant *sim_invariant_lookup(const char *name);
/* The invariant a sim_sched_failure() reason names ("invariant NAME violated: ..."), copied into
 * out (size len); FALSE if the reason names none. */
gboolean sim_invariant_of_reason(const char *reason, char *out, gsize len);

#endif
