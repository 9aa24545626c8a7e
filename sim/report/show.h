/* SPDX-License-Identifier: GPL-2.0-only */
/* What kvmsim show prints: an SPTE decoded bit by bit, the SPTE tree of a VM (text and DOT). */
#ifndef KVMSIM_SIM_REPORT_SHOW_H
#define KVMSIM_SIM_REPORT_SHOW_H

#include <glib.h>

#include "mmu/mmu.h"

/* Decode the SPTE written in hex (text) as an entry at level; FALSE with a usage error. */
gboolean sim_show_spte(const char *text, int level, GString *out, GError **error);

/* The SPTE tree of every root of kvm, and of the tables unlinked but not freed yet: one line per
 * table and per entry that is not SHADOW_NONPRESENT_VALUE. */
void sim_show_tree_text(struct kvm *kvm, GString *out);
/* The same as a Graphviz digraph. */
void sim_show_tree_dot(struct kvm *kvm, const char *title, GString *out);

#endif
