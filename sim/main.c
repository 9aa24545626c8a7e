/* SPDX-License-Identifier: GPL-2.0-only */
/* kvmsim: a deterministic simulator of the KVM MMU; dispatches to one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "sim/cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "run", kvmsim_cmd_run, "run a built-in workload on the simulated machine" },
	{ "replay", kvmsim_cmd_replay, "replay traces and check their expectations" },
	{ "import", kvmsim_cmd_import, "import a kvm/kvmmmu capture (trace.dat or text) as a trace" },
	{ "explore", kvmsim_cmd_explore,
	  "search the interleavings of a trace or workload for a broken invariant" },
	{ "list", kvmsim_cmd_list, "list the built-in workloads" },
	{ "show", kvmsim_cmd_show, "decode an SPTE, draw a trace's SPTE tree, list yield points" },
};

static void
usage(FILE *out)
{
	fprintf(out, "usage: kvmsim COMMAND [OPTION...]\n\ncommands:\n");
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'kvmsim COMMAND --help' describes a command's options.\n");
}

/* Dispatch to the subcommand named first. */
int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return KVMSIM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return KVMSIM_EXIT_OK;
	}
	for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	return kvmsim_usage_error("unknown command '%s' (try kvmsim --help)", argv[1]);
}
