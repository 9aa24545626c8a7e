/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libFuzzer target for the trace reader: every input is written to a memory file and loaded with
 * trace_load(), which must either return a trace or fail with one "FILE:LINE: reason" error —
 * never crash, leak, read out of bounds or take unbounded time. tests/fuzz/fuzz.sh builds and runs
 * it; docs/trace-format.md says how to run it for longer.
 */
#define _GNU_SOURCE
#include <glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/trace/trace.h"

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

/* One input: load it, check the error is one line naming the file, free everything. */
int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
	int fd = memfd_create("fuzz-trace", MFD_CLOEXEC);
	g_autofree gchar *path = NULL;
	GError *error = NULL;
	Trace *trace;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		g_error("fuzz-trace: cannot write the input to a memory file");
	path = g_strdup_printf("/proc/self/fd/%d", fd);
	trace = trace_load(path, &error);
	if (!trace) {
		if (!error || !g_str_has_prefix(error->message, path) || strchr(error->message, '\n'))
			g_error("fuzz-trace: not one error line naming the file: %s",
				error ? error->message : "(no error)");
		g_error_free(error);
	}
	trace_free(trace);
	close(fd);
	return 0;
}
