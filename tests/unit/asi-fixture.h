/* SPDX-License-Identifier: GPL-2.0-only */
/* What the asi suites share: a host with the KVM and userspace classes, a VMM mm with guest RAM,
 * its task on CPU 0, and a recorder of state-machine steps that can inject an NMI. */
#ifndef KVMSIM_TESTS_UNIT_ASI_FIXTURE_H
#define KVMSIM_TESTS_UNIT_ASI_FIXTURE_H

#include "tests/check-run.h"

#include <errno.h>
#include <string.h>

#include "asi/asi.h"

#define GUEST_UVA 0x7f0000000000ull

typedef struct {
	AsiHost *host;
	AsiCpu *cpu;
	struct asi_mm *mm;
	AsiTask task;
	struct asi *kvm, *user;
	guint64 kobj;  /* a nonsensitive kernel page */
	guint64 guest; /* direct-map alias of a guest RAM page (sensitive) */
	GString *seq;  /* recorded steps */
	const char *nmi_point; /* inject an NMI after this step ... */
	guint nmi_skip;        /* ... after skipping this many matches */
	gboolean nmi_fired;
	int nmi_result;
} Fix;

extern Fix fx;

void fix_setup(void);
void fix_teardown(void);
/* The recorded step names since the last call, space separated; the recording restarts. */
char *fix_take_seq(void);
gboolean fix_has_violation(const char *name);
/* Enter the KVM domain and relax: the state after a VM exit. */
void fix_enter_relax(struct asi *asi);

#endif
