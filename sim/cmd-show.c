/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kvmsim show WHAT: the discoverable views of the model. Each WHAT is one row of show_views[]:
 * a new one (invariants, mutations) is one line there and one function.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sim/cmd.h"
#include "sim/core/observe.h"
#include "sim/core/outfile.h"
#include "sim/core/points.h"
#include "sim/report/show.h"
#include "sim/trace/replay.h"

static int show_spte(int argc, char **argv);
static int show_tree(int argc, char **argv);
static int show_points(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} show_views[] = {
	{ "spte", show_spte, "decode an SPTE value bit by bit, with the kernel's names" },
	{ "tree", show_tree, "the SPTE tree of every root after replaying a trace (to a step)" },
	{ "points", show_points, "the yield points a schedule step can name" },
};

/* The views, one line each. */
static void
show_usage(FILE *out)
{
	fprintf(out, "usage: kvmsim show WHAT [OPTION...]\n\nwhat:\n");
	for (guint i = 0; i < G_N_ELEMENTS(show_views); i++)
		fprintf(out, "  %-10s %s\n", show_views[i].name, show_views[i].summary);
	fprintf(out, "\n'kvmsim show WHAT --help' describes its options.\n");
}

/* kvmsim show WHAT ...: dispatch on WHAT. */
int
kvmsim_cmd_show(int argc, char **argv)
{
	if (argc < 2) {
		show_usage(stderr);
		return KVMSIM_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		show_usage(stdout);
		return KVMSIM_EXIT_OK;
	}
	for (guint i = 0; i < G_N_ELEMENTS(show_views); i++)
		if (strcmp(argv[1], show_views[i].name) == 0)
			return show_views[i].fn(argc - 1, argv + 1);
	return kvmsim_usage_error("show: unknown view '%s' (try kvmsim show --help)", argv[1]);
}

/* Parse the options of a view; a usage error (status 2) if they do not parse. */
static gboolean
parse_view(int *argc, char ***argv, const char *params, const char *summary,
	   const GOptionEntry *entries, int *status)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new(params);
	g_autoptr(GError) error = NULL;

	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (g_option_context_parse(ctx, argc, argv, &error))
		return TRUE;
	*status = kvmsim_usage_error("%s", error->message);
	return FALSE;
}

/* kvmsim show spte VALUE [--level N] */
static int
show_spte(int argc, char **argv)
{
	gint level = 1;
	const GOptionEntry entries[] = {
		{ "level", 0, 0, G_OPTION_ARG_INT, &level,
		  "Level of the entry: 1 (4K, default), 2 (2M), 3 (1G), 4", "N" },
		{ NULL },
	};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	int status;

	if (!parse_view(&argc, &argv, "VALUE - decode an SPTE",
			"Prints every set bit of the SPTE VALUE (hex) under the kernel's name, as "
			"v6.18 sets\nEPT SPTEs with A/D bits off.", entries, &status))
		return status;
	if (argc != 2)
		return kvmsim_usage_error("show spte takes one VALUE (hex), e.g. 0x8610000080001b77");
	if (!sim_show_spte(argv[1], level, out, &error))
		return kvmsim_usage_error("%s", error->message);
	fputs(out->str, stdout);
	return KVMSIM_EXIT_OK;
}

/* kvmsim show points */
static int
show_points(int argc, char **argv)
{
	guint n;
	const SimPoint *points = sim_points(&n);

	if (argc > 1)
		return kvmsim_usage_error("show points takes no arguments");
	for (guint i = 0; i < n; i++)
		printf("%-26s %s\n", points[i].name, points[i].what);
	return KVMSIM_EXIT_OK;
}

/* Where show tree takes its picture: at a step, at the count-th arrival at a point, or at the
 * end of the replay (neither). */
typedef struct {
	guint64 step;
	const char *point;
	guint count;
	gboolean dot;
	const char *title;
	struct kvm *kvm;
	SimSched *sched;
	GString *picture;
	gboolean reached;   /* the picture was taken at --at */
	gchar *where;
} TreeShot;

/* Draw the tree now, saying where the replay is. */
static void
take_picture(TreeShot *shot, guint64 step, const char *actor, const char *point)
{
	shot->reached = actor != NULL;
	shot->where = actor ? g_strdup_printf("after step %" G_GUINT64_FORMAT ", %s at %s", step,
					      actor, point) :
			      g_strdup_printf("at the end of the replay (step %" G_GUINT64_FORMAT ")",
					      step);
	if (shot->dot) {
		g_autofree gchar *title = g_strdup_printf("%s %s", shot->title, shot->where);

		sim_show_tree_dot(shot->kvm, title, shot->picture);
	} else {
		g_string_append_printf(shot->picture, "%s %s:\n", shot->title, shot->where);
		sim_show_tree_text(shot->kvm, shot->picture);
	}
}

/* At each yield point: is this the step or the arrival --at asks for? */
static void
tree_on_yield(gpointer data, guint64 step, const char *actor, const char *point)
{
	TreeShot *shot = data;

	if (shot->where)
		return;
	if (shot->point ? strcmp(point, shot->point) == 0 && --shot->count == 0 :
			  step >= shot->step)
		take_picture(shot, step, actor, point);
}

static const SimObserver tree_observer = { .yield = tree_on_yield };

/* The machine is built: remember its VM, watch the yield points if --at was given. */
static void
tree_start(SimSched *sched, SimLog *log, SimVmm *vmm, gpointer data)
{
	TreeShot *shot = data;

	(void)log;
	shot->kvm = sim_vmm_kvm(vmm);
	shot->sched = sched;
	if (shot->step || shot->point)
		sim_sched_set_observer(sched, &tree_observer, shot);
}

/* The replay is over: without a picture yet, take it now (the end). */
static void
tree_finish(SimSched *sched, SimVmm *vmm, gboolean ran, gpointer data)
{
	TreeShot *shot = data;

	(void)vmm, (void)ran;
	sim_sched_set_observer(sched, NULL, NULL);
	if (!shot->where)
		take_picture(shot, sim_sched_now(sched), NULL, NULL);
}

/* --at STEP, or --at POINT[#N] (the N-th arrival of any actor at POINT). */
static gboolean
parse_at(const char *at, TreeShot *shot, GError **error)
{
	guint64 n;
	g_auto(GStrv) parts = NULL;

	if (g_ascii_string_to_unsigned(at, 10, 0, G_MAXUINT32, &shot->step, NULL))
		return TRUE;
	parts = g_strsplit(at, "#", 2);
	shot->count = 1;
	if (parts[1]) {
		if (!g_ascii_string_to_unsigned(parts[1], 10, 1, G_MAXUINT32, &n, NULL))
			goto bad;
		shot->count = (guint)n;
	}
	if (!sim_point_known(parts[0]))
		goto bad;
	shot->point = g_intern_string(parts[0]);
	return TRUE;
bad:
	g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
		    "--at %s: a step number, or a yield point (kvmsim show points) with an "
		    "optional #N for its N-th arrival", at);
	return FALSE;
}

/* Render DOT to PNG with graphviz's dot, written to png_path atomically. */
static gboolean
render_png(const char *dot_text, const char *png_path, GError **error)
{
	g_autofree gchar *dot = g_find_program_in_path("dot");
	g_autofree gchar *dot_file = NULL, *png_file = NULL, *png = NULL;
	gsize png_len;
	gint fd, wait_status;
	gboolean ok = FALSE;
	SimOutFile out = { 0 };

	if (!dot) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
			    "graphviz's dot program is not installed (Debian package graphviz)");
		return FALSE;
	}
	if ((fd = g_file_open_tmp("kvmsim-tree-XXXXXX.dot", &dot_file, error)) < 0)
		return FALSE;
	close(fd);
	if ((fd = g_file_open_tmp("kvmsim-tree-XXXXXX.png", &png_file, error)) < 0)
		goto out;
	close(fd);
	const gchar *argv[] = { dot, "-Tpng", dot_file, "-o", png_file, NULL };

	if (!g_file_set_contents(dot_file, dot_text, -1, error) ||
	    !g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
			  NULL, &wait_status, error) ||
	    !g_spawn_check_wait_status(wait_status, error) ||
	    !g_file_get_contents(png_file, &png, &png_len, error) ||
	    !sim_outfile_open(&out, png_path, error))
		goto out;
	fwrite(png, 1, png_len, out.fp);
	ok = sim_outfile_commit(&out, error);
out:
	g_unlink(dot_file);
	if (png_file)
		g_unlink(png_file);
	return ok;
}

/* kvmsim show tree TRACE [--at STEP|POINT[#N]] [--dot] [--png FILE] */
static int
show_tree(int argc, char **argv)
{
	g_autofree gchar *at = NULL, *png_path = NULL;
	gboolean dot = FALSE;
	const GOptionEntry entries[] = {
		{ "at", 0, 0, G_OPTION_ARG_STRING, &at,
		  "Stop at this step, or at the first (#N: N-th) arrival at this yield point "
		  "(default: the end)", "STEP|POINT[#N]" },
		{ "dot", 0, 0, G_OPTION_ARG_NONE, &dot, "Print Graphviz DOT instead of text", NULL },
		{ "png", 0, 0, G_OPTION_ARG_FILENAME, &png_path,
		  "Render the tree to FILE with graphviz's dot program", "FILE" },
		{ NULL },
	};
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) picture = g_string_new(NULL);
	TreeShot shot = { .picture = picture };
	TraceReplayReport report;
	int status;

	if (!parse_view(&argc, &argv, "TRACE - the SPTE tree of a replayed trace",
			"Replays TRACE (up to --at) and prints the SPTE tree of every root, and the "
			"tables\nunlinked but not freed yet (frozen entries).", entries, &status))
		return status;
	if (argc != 2)
		return kvmsim_usage_error("show tree takes one TRACE");
	if (at && !parse_at(at, &shot, &error))
		return kvmsim_usage_error("%s", error->message);
	if (png_path && !sim_outfile_check(png_path, &error))
		return kvmsim_usage_error("--png %s", error->message);
	g_autoptr(Trace) trace = trace_load(argv[1], &error);

	if (!trace)
		return kvmsim_usage_error("%s", error->message);
	shot.dot = dot || png_path;
	shot.title = trace->path;
	const TraceReplayHooks hooks = { tree_start, tree_finish, &shot };
	FILE *quiet = fopen("/dev/null", "w");
	gboolean ran = trace_replay_hooked(trace, NULL, quiet ? quiet : stderr, &report, &hooks,
					   &error);

	if (quiet)
		fclose(quiet);
	if (!ran && !shot.where) {
		fprintf(stderr, "kvmsim: error: %s\n", error->message);
		return KVMSIM_EXIT_FAIL;
	}
	if (png_path && !render_png(picture->str, png_path, &error)) {
		fprintf(stderr, "kvmsim: error: --png %s: %s\n", png_path, error->message);
		g_free(shot.where);
		return KVMSIM_EXIT_FAIL;
	}
	if (!png_path)
		fputs(picture->str, stdout);
	if ((shot.step || shot.point) && !shot.reached)
		fprintf(stderr, "kvmsim: the replay ended before --at %s\n", at);
	if (!ran)
		fprintf(stderr, "kvmsim: the replay stopped early: %s\n", error->message);
	g_free(shot.where);
	return ran ? KVMSIM_EXIT_OK : KVMSIM_EXIT_FAIL;
}
