/* SPDX-License-Identifier: GPL-2.0-only */
/* The kvmsim subcommands and what they share. */
#ifndef KVMSIM_SIM_CMD_H
#define KVMSIM_SIM_CMD_H

#include <glib.h>

#include "sim/core/mutations.h"
#include "sim/vmm/vmm.h"

/* Exit statuses: 0 the run passed, 1 it failed (guest, invariant), 2 usage or input error. */
#define KVMSIM_EXIT_OK 0
#define KVMSIM_EXIT_FAIL 1
#define KVMSIM_EXIT_USAGE 2

int kvmsim_cmd_run(int argc, char **argv);
int kvmsim_cmd_list(int argc, char **argv);
int kvmsim_cmd_replay(int argc, char **argv);
int kvmsim_cmd_import(int argc, char **argv);
int kvmsim_cmd_explore(int argc, char **argv);

/* The machine `kvmsim run` would build from argv (argv[1] the WORKLOAD, then run's options),
 * with seed as its seed: how explore takes a workload target. A usage error message otherwise. */
gboolean kvmsim_run_config(int argc, char **argv, guint64 seed, SimVmmConfig *cfg,
			   GBytes **out_image, GError **error);
int kvmsim_cmd_show(int argc, char **argv);
/* kvmsim run --compare-postcopy (sim/cmd-postcopy.c): base under every post-copy mechanism at
 * 1, 4, 16 and 64 vCPUs, a table per page fetched on stdout. */
int kvmsim_run_compare_postcopy(const SimVmmConfig *base, SimPolicy policy, gint64 watchdog);

/* One line "kvmsim: error: ..." on stderr; returns KVMSIM_EXIT_USAGE. */
int kvmsim_usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The --mutate NAME options given (NULL: none) as a set; FALSE with a usage message in *error
 * if a name is unknown. */
gboolean kvmsim_parse_mutations(gchar **names, SimMutations *out, GError **error);
/* --nmi K and --nmi-touch KIND: the count and the AsiNmiTouch (asi/nmi.h); FALSE with a usage
 * message in *error if out of range or unknown. */
gboolean kvmsim_parse_nmi(gint64 count, const char *touch, guint *out_count, guint *out_touch,
			  GError **error);
/* "64M", "1G", "16K", "4096": bytes; FALSE if not a size or it overflows. */
gboolean kvmsim_parse_size(const char *text, guint64 *out);

#endif
