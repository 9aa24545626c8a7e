/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trace.dat file: version 6 as `man 5 trace-cmd.dat.v6` (Debian's trace-cmd 3.1.6)
 * describes it. Header pages and event formats are generated text; each actor's events go into
 * ring-buffer pages of 4 KiB laid out as the header_page and header_event text says (a page
 * header of timestamp and commit, then compressed entry headers: type_len and a 27-bit time
 * delta, a time extend when the delta does not fit). Nothing is copied from a kernel.
 */
#include "sim/report/tracedat.h"
#include "sim/report/tracedat-internal.h"

#include <string.h>

#include "sim/core/outfile.h"

#define TD_PAGE 4096u
#define TD_PAGE_HEADER 16u /* u64 timestamp, local_t commit */
#define TD_PAGE_DATA (TD_PAGE - TD_PAGE_HEADER)
#define TD_DELTA_BITS 27
#define TD_TYPE_TIME_EXTEND 30
#define TD_MAX_SMALL 28 /* type_len 1-28: 4-byte words of data */
#define TD_NS_PER_STEP 1000u
#define TD_IN_STEP 500u /* lines a step whose order the nanoseconds keep */

typedef struct {
	GByteArray *pages; /* whole pages */
	guint64 page_ts;   /* the current page's timestamp */
	guint64 last_ts;   /* of the last event written */
	gsize used;	   /* data bytes of the current page */
	gboolean open;	   /* a page is open */
	gchar *comm;
} TdCpu;

/* An event type of the file: a row of the kernel table, or a kvmsim text event. */
typedef struct {
	const TdEvent *kernel; /* NULL: kvmsim system */
	gchar *name;
	guint id;
} TdType;

struct SimTraceDat {
	GPtrArray *cpus;     /* TdCpu *, by actor number */
	GPtrArray *types;    /* TdType *, by first use */
	GHashTable *by_name; /* name -> TdType * */
	gchar *error;	     /* the first line that could not be encoded */
	guint64 step;	     /* of the last line */
	guint64 in_step;     /* lines before it in that step */
	guint64 lines;	     /* recorded so far */
};

/* Event ids: above the kernel's dynamic range of a running system, so no reader confuses them. */
#define TD_FIRST_ID 1000

/* Free a CPU's pages. */
static void
td_cpu_free(gpointer p)
{
	TdCpu *c = p;

	g_byte_array_unref(c->pages);
	g_free(c->comm);
	g_free(c);
}

/* Free an event type. */
static void
td_type_free(gpointer p)
{
	TdType *t = p;

	g_free(t->name);
	g_free(t);
}

/* An empty recording. */
SimTraceDat *
sim_tracedat_new(void)
{
	SimTraceDat *td = g_new0(SimTraceDat, 1);

	td->cpus = g_ptr_array_new_with_free_func(td_cpu_free);
	td->types = g_ptr_array_new_with_free_func(td_type_free);
	td->by_name = g_hash_table_new(g_str_hash, g_str_equal);
	return td;
}

/* Free the recording (nothing is written). */
void
sim_tracedat_free(SimTraceDat *td)
{
	if (!td)
		return;
	g_hash_table_destroy(td->by_name);
	g_ptr_array_unref(td->types);
	g_ptr_array_unref(td->cpus);
	g_free(td->error);
	g_free(td);
}

/* Tap log: every line it emits from now on becomes a record. */
void
sim_tracedat_attach(SimTraceDat *td, SimLog *log)
{
	sim_log_set_tap(log, sim_tracedat_tap, td);
}

/* Store the low size bytes of v little-endian. */
static void
put_le(guint8 *p, guint size, guint64 v)
{
	for (guint i = 0; i < size; i++)
		p[i] = (guint8)(v >> (8 * i));
}

/* Close the current page of c: commit = bytes of data, the rest zero. */
static void
close_page(TdCpu *c)
{
	if (!c->open)
		return;
	guint8 *page = c->pages->data + c->pages->len - TD_PAGE;

	put_le(page + 8, 8, c->used);
	c->used = 0;
	c->open = FALSE;
}

/* Room for n bytes on the current page of c, opening one stamped ts if needed. */
static guint8 *
reserve(TdCpu *c, guint64 ts, gsize n)
{
	static const guint8 zero[TD_PAGE];

	if (c->open && c->used + n > TD_PAGE_DATA)
		close_page(c);
	if (!c->open) {
		g_byte_array_append(c->pages, zero, TD_PAGE);
		put_le(c->pages->data + c->pages->len - TD_PAGE, 8, ts);
		c->page_ts = ts;
		c->last_ts = ts;
		c->used = 0;
		c->open = TRUE;
	}
	guint8 *p = c->pages->data + c->pages->len - TD_PAGE + TD_PAGE_HEADER + c->used;

	c->used += n;
	return p;
}

/* One record of len bytes (the event's data) at ts on c. */
static void
append_record(TdCpu *c, guint64 ts, const guint8 *data, gsize len)
{
	gsize padded = (len + 3) & ~(gsize)3;
	gboolean small = padded / 4 <= TD_MAX_SMALL;
	gsize need = 4 + (small ? 0 : 4) + padded;
	guint64 delta;
	guint8 *p;

	/* a page holds at least one record: the header plus the data */
	if (c->open && c->used + need + 8 > TD_PAGE_DATA)
		close_page(c);
	if (!c->open)
		reserve(c, ts, 0);
	delta = ts - c->last_ts;
	if (delta >> TD_DELTA_BITS) {
		p = reserve(c, ts, 8);
		put_le(p, 4,
		       TD_TYPE_TIME_EXTEND | (guint32)(delta & ((1u << TD_DELTA_BITS) - 1)) << 5);
		put_le(p + 4, 4, delta >> TD_DELTA_BITS);
		delta = 0;
	}
	p = reserve(c, ts, need);
	if (small) {
		put_le(p, 4, (guint32)(padded / 4) | (guint32)delta << 5);
		memcpy(p + 4, data, len);
	} else {
		put_le(p, 4, (guint32)delta << 5);
		put_le(p + 4, 4, padded + 4);
		memcpy(p + 8, data, len);
	}
	c->last_ts = ts;
}

/* The file's type for event, made on first use. */
static TdType *
type_of(SimTraceDat *td, const char *event)
{
	TdType *t = g_hash_table_lookup(td->by_name, event);

	if (t)
		return t;
	t = g_new0(TdType, 1);
	t->name = g_strdup(event);
	t->kernel = td_event_lookup(event);
	t->id = TD_FIRST_ID + td->types->len;
	g_ptr_array_add(td->types, t);
	g_hash_table_insert(td->by_name, t->name, t);
	return t;
}

/* One log line as a record on its actor's CPU (kvm/kvmmmu encoded, others as text). */
void
sim_tracedat_tap(gpointer data, guint64 step, const char *actor, guint actor_nr, const char *event,
		 const char *body)
{
	SimTraceDat *td = data;
	TdType *t = type_of(td, event);
	guint8 rec[256] = {0};
	g_autoptr(GByteArray) text = NULL;
	const guint8 *bytes = rec;
	gsize len;

	while (td->cpus->len <= actor_nr) {
		TdCpu *c = g_new0(TdCpu, 1);

		c->pages = g_byte_array_new();
		g_ptr_array_add(td->cpus, c);
	}
	TdCpu *c = g_ptr_array_index(td->cpus, actor_nr);

	if (!c->comm)
		c->comm = g_strdup(actor);
	put_le(rec, 2, t->id);
	put_le(rec + 4, 4, actor_nr + 1); /* common_pid */
	if (t->kernel) {
		if (!t->kernel->encode(body, rec) && !td->error)
			td->error = g_strdup_printf("%s: %s: the line is off the kernel's format",
						    event, body);
		len = t->kernel->size;
	} else {
		/* __data_loc char[] msg at offset 8: (length << 16) | offset of the string */
		gsize n = strlen(body) + 1;

		text = g_byte_array_sized_new((guint)(12 + n));
		put_le(rec + 8, 4, (guint32)(n << 16 | 12));
		g_byte_array_append(text, rec, 12);
		g_byte_array_append(text, (const guint8 *)body, (guint)n);
		bytes = text->data;
		len = text->len;
	}
	/* the step in microseconds, as report prints it; the nanoseconds keep the log's order of
	 * up to TD_IN_STEP lines a step (report rounds to the nearest microsecond) */
	td->in_step = td->lines && step == td->step ? td->in_step + 1 : 0;
	td->lines++;
	td->step = step;
	append_record(c, step * TD_NS_PER_STEP + MIN(td->in_step, TD_IN_STEP - 1), bytes, len);
}

/* The common fields and the event's own, as tracefs writes a format. */
static void
append_fields(GString *s, const TdField *fields, guint n)
{
	static const TdField common[] = {
		{"unsigned short", "common_type", 0, 2, 0},
		{"unsigned char", "common_flags", 2, 1, 0},
		{"unsigned char", "common_preempt_count", 3, 1, 0},
		{"int", "common_pid", 4, 4, 1},
	};

	g_string_append(s, "format:\n");
	for (guint i = 0; i < G_N_ELEMENTS(common) + 1 + n; i++) {
		const TdField *f = i < G_N_ELEMENTS(common)    ? &common[i]
				   : i == G_N_ELEMENTS(common) ? NULL
							       : &fields[i - 5];

		if (!f) {
			g_string_append_c(s, '\n');
			continue;
		}
		g_string_append_printf(s, "\tfield:%s %s;\toffset:%u;\tsize:%u;\tsigned:%d;\n",
				       f->type, f->name, f->offset, f->size, f->is_signed);
	}
}

/* A kvm/kvmmmu event's format file, as tracefs shows it, from the table. */
gchar *
sim_tracedat_format_text(const char *event, guint id, const char **system)
{
	const TdEvent *ev = td_event_lookup(event);
	guint n = 0;

	if (!ev)
		return NULL;
	while (n < G_N_ELEMENTS(ev->fields) && ev->fields[n].name)
		n++;
	GString *s = g_string_new(NULL);
	g_autofree gchar *fmt = td_event_print_fmt(ev);

	g_string_append_printf(s, "name: %s\nID: %u\n", ev->name, id);
	append_fields(s, ev->fields, n);
	g_string_append_printf(s, "\nprint fmt: %s\n", fmt);
	if (system)
		*system = ev->system;
	return g_string_free(s, FALSE);
}

/* A kvmsim event's format: its body as one string. */
static gchar *
kvmsim_format_text(const char *event, guint id)
{
	static const TdField msg[] = {{"__data_loc char[]", "msg", 8, 4, 0}};
	GString *s = g_string_new(NULL);

	g_string_append_printf(s, "name: %s\nID: %u\n", event, id);
	append_fields(s, msg, 1);
	g_string_append(s, "\nprint fmt: \"%s\", __get_str(msg)\n");
	return g_string_free(s, FALSE);
}

static void
put_u32(GByteArray *b, guint32 v)
{
	guint8 x[4];

	put_le(x, 4, v);
	g_byte_array_append(b, x, 4);
}

static void
put_u64(GByteArray *b, guint64 v)
{
	guint8 x[8];

	put_le(x, 8, v);
	g_byte_array_append(b, x, 8);
}

static void
put_str0(GByteArray *b, const char *s)
{
	g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s) + 1);
}

/* A 64-bit size, then the text. */
static void
put_sized(GByteArray *b, const char *text)
{
	put_u64(b, strlen(text));
	g_byte_array_append(b, (const guint8 *)text, (guint)strlen(text));
}

/* The events of one system, in the order of first use. */
static void
put_system(GByteArray *b, SimTraceDat *td, const char *system)
{
	guint n = 0;

	for (guint i = 0; i < td->types->len; i++) {
		const TdType *t = g_ptr_array_index(td->types, i);

		n += g_strcmp0(t->kernel ? t->kernel->system : "kvmsim", system) == 0;
	}
	put_str0(b, system);
	put_u32(b, n);
	for (guint i = 0; i < td->types->len; i++) {
		const TdType *t = g_ptr_array_index(td->types, i);
		g_autofree gchar *text = NULL;

		if (g_strcmp0(t->kernel ? t->kernel->system : "kvmsim", system) != 0)
			continue;
		text = t->kernel ? sim_tracedat_format_text(t->name, t->id, NULL)
				 : kvmsim_format_text(t->name, t->id);
		put_sized(b, text);
	}
}

/* Everything before the CPU data; offsets of the CPU data are patched in by the caller. */
static GByteArray *
file_header(SimTraceDat *td, gsize *flyrecord_at)
{
	static const char header_page[] =
		"\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
		"\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
		"\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
		"\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
	static const char header_event[] = "# compressed entry header\n"
					   "\ttype_len    :    5 bits\n"
					   "\ttime_delta  :   27 bits\n"
					   "\tarray       :   32 bits\n\n"
					   "\tpadding     : type == 29\n"
					   "\ttime_extend : type == 30\n"
					   "\ttime_stamp : type == 31\n"
					   "\tdata max type_len  == 28\n";
	static const char *const systems[] = {"kvm", "kvmmmu", "kvmsim"};
	GByteArray *b = g_byte_array_new();
	guint n_systems = 0;

	g_byte_array_append(b, (const guint8 *)"\x17\x08\x44tracing6", 11);
	g_byte_array_append(b, (const guint8 *)"", 1);
	g_byte_array_append(b, (const guint8 *)"\0\x08", 2); /* little endian, 8-byte long */
	put_u32(b, TD_PAGE);
	put_str0(b, "header_page");
	put_sized(b, header_page);
	put_str0(b, "header_event");
	put_sized(b, header_event);
	put_u32(b, 0); /* no ftrace events */
	for (guint i = 0; i < G_N_ELEMENTS(systems); i++)
		for (guint j = 0; j < td->types->len; j++) {
			const TdType *t = g_ptr_array_index(td->types, j);

			if (g_strcmp0(t->kernel ? t->kernel->system : "kvmsim", systems[i]) == 0) {
				n_systems++;
				break;
			}
		}
	put_u32(b, n_systems);
	for (guint i = 0; i < G_N_ELEMENTS(systems); i++)
		for (guint j = 0; j < td->types->len; j++) {
			const TdType *t = g_ptr_array_index(td->types, j);

			if (g_strcmp0(t->kernel ? t->kernel->system : "kvmsim", systems[i]) == 0) {
				put_system(b, td, systems[i]);
				break;
			}
		}
	put_u32(b, 0); /* kallsyms */
	put_u32(b, 0); /* printk formats */
	GString *cmdlines = g_string_new(NULL);

	for (guint i = 0; i < td->cpus->len; i++) {
		const TdCpu *c = g_ptr_array_index(td->cpus, i);

		g_string_append_printf(cmdlines, "%u %s\n", i + 1, c->comm ? c->comm : "none");
	}
	put_sized(b, cmdlines->str);
	g_string_free(cmdlines, TRUE);
	put_u32(b, td->cpus->len);
	g_byte_array_append(b, (const guint8 *)"options  ", 10);
	g_byte_array_append(b, (const guint8 *)"\0\0", 2); /* no options */
	g_byte_array_append(b, (const guint8 *)"flyrecord", 10);
	*flyrecord_at = b->len;
	for (guint i = 0; i < td->cpus->len; i++) {
		put_u64(b, 0);
		put_u64(b, 0);
	}
	return b;
}

/* Close the pages, write the header, the formats and the CPU data (tracedat.h). */
gboolean
sim_tracedat_write(SimTraceDat *td, const char *path, GError **error)
{
	SimOutFile out = {0};
	gsize table;

	if (td->error) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", td->error);
		return FALSE;
	}
	for (guint i = 0; i < td->cpus->len; i++)
		close_page(g_ptr_array_index(td->cpus, i));
	g_autoptr(GByteArray) b = file_header(td, &table);
	gsize at = (b->len + TD_PAGE - 1) / TD_PAGE * TD_PAGE;

	for (guint i = 0; i < td->cpus->len; i++) {
		const TdCpu *c = g_ptr_array_index(td->cpus, i);

		put_le(b->data + table + 16 * i, 8, c->pages->len ? at : 0);
		put_le(b->data + table + 16 * i + 8, 8, c->pages->len);
		at += c->pages->len;
	}
	if (!sim_outfile_open(&out, path, error))
		return FALSE;
	static const guint8 zero[TD_PAGE];

	fwrite(b->data, 1, b->len, out.fp);
	fwrite(zero, 1, (TD_PAGE - b->len % TD_PAGE) % TD_PAGE, out.fp);
	for (guint i = 0; i < td->cpus->len; i++) {
		const TdCpu *c = g_ptr_array_index(td->cpus, i);

		fwrite(c->pages->data, 1, c->pages->len, out.fp);
	}
	return sim_outfile_commit(&out, error);
}
