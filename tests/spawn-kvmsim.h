/* SPDX-License-Identifier: GPL-2.0-only */
/* Running the kvmsim binary from a Check suite and reading back its event log. */
#ifndef KVMSIM_TESTS_SPAWN_KVMSIM_H
#define KVMSIM_TESTS_SPAWN_KVMSIM_H

#include <check.h>
#include <glib.h>

/* Run kvmsim with args (NULL-terminated, the program not included) plus --log=log, its stdout and
 * stderr dropped; the text of the log. Fails the test if kvmsim cannot be started or wrote no
 * log; its exit status is the caller's to judge from the log. */
static inline gchar *
spawn_kvmsim_log(const char *kvmsim, const char *const *args, const char *log)
{
	g_autofree gchar *log_opt = g_strdup_printf("--log=%s", log);
	g_autofree gchar *what = g_strjoinv(" ", (gchar **)args);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	gchar *text = NULL;

	g_ptr_array_add(argv, (gpointer)kvmsim);
	for (guint i = 0; args[i]; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, log_opt);
	g_ptr_array_add(argv, NULL);
	ck_assert_msg(g_spawn_sync(NULL, (gchar **)argv->pdata, NULL,
				   G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
				   NULL, NULL, NULL, &error),
		      "kvmsim %s: %s", what, error ? error->message : "");
	ck_assert_msg(g_file_get_contents(log, &text, NULL, &error), "kvmsim %s wrote no log: %s",
		      what, error ? error->message : "");
	return text;
}

#endif
