/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * trace.dat captures, read with libtracecmd (Debian's trace-cmd 3.1): every record in time
 * order, its body printed by libtraceevent from the print format the file carries, without
 * trace-cmd's plugins (so kvm_exit reads as the kernel's TP_printk, as in tracefs's trace).
 */
#include "sim/trace/import-internal.h"

#include <stdio.h>
#include <string.h>
#include <trace-cmd.h>

/* Whether the file starts with the trace.dat magic (0x17 0x08 0x44 "tracing"). */
gboolean
import_is_trace_dat(const char *path)
{
	static const char magic[] = "\x17\x08\x44tracing";
	char head[sizeof(magic) - 1];
	FILE *f = fopen(path, "rb");
	gboolean is = FALSE;

	if (!f)
		return FALSE;
	is = fread(head, 1, sizeof(head), f) == sizeof(head) &&
	     memcmp(head, magic, sizeof(head)) == 0;
	fclose(f);
	return is;
}

typedef struct {
	struct tep_handle *tep;
	GPtrArray *records;
	struct trace_seq seq;
} DatReader;

/* One record: its event, task and body. */
static int
read_record(struct tracecmd_input *handle, struct tep_record *record, int cpu, void *data)
{
	DatReader *d = data;
	struct tep_event *ev = tep_find_event_by_record(d->tep, record);
	ImportRecord *r;

	if (!ev)
		return 0;
	r = g_new0(ImportRecord, 1);
	r->line = d->records->len + 1;
	r->pid = tep_data_pid(d->tep, record);
	r->comm = g_strdup(tep_data_comm_from_pid(d->tep, r->pid));
	r->cpu = (guint)cpu;
	r->ts_ns = record->ts;
	r->system = g_strdup(ev->system);
	r->event = g_strdup(ev->name);
	trace_seq_reset(&d->seq);
	tep_print_event(d->tep, &d->seq, record, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&d->seq);
	r->body = g_strdup(d->seq.buffer);
	g_ptr_array_add(d->records, r);
	return 0;
}

/* Every record of the file, in time order, as ImportRecords. */
GPtrArray *
import_read_dat(const char *path, ImportReport *report, GError **error)
{
	struct tracecmd_input *handle;
	DatReader d = {0};

	tracecmd_set_loglevel(TEP_LOG_NONE);
	handle = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!handle) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "%s: libtracecmd cannot read it as a trace.dat", path);
		return NULL;
	}
	d.tep = tracecmd_get_tep(handle);
	d.records = g_ptr_array_new_with_free_func(import_record_free);
	trace_seq_init(&d.seq);
	tracecmd_iterate_events(handle, NULL, 0, read_record, &d);
	trace_seq_destroy(&d.seq);
	tracecmd_close(handle);
	report->trace_dat = TRUE;
	return d.records;
}
