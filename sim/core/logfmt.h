/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event log's line formatter: the printf subset the log's call sites use, written straight
 * into the caller's buffer. glibc's vsnprintf() goes through a FILE per call and copies short
 * strings byte by byte; this costs a fraction of that and gives the same bytes.
 */
#ifndef KVMSIM_SIM_CORE_LOGFMT_H
#define KVMSIM_SIM_CORE_LOGFMT_H

#include <glib.h>
#include <stdarg.h>

/*
 * Format fmt with ap into buf (at most cap bytes, no terminating NUL). Returns the length, or
 * -1 if fmt uses a conversion outside the subset (flags "-0#", a width, ".*" or a precision on
 * %s, lengths hh h l ll z, conversions d i u x X s c %), has more than 24 conversions, a width
 * or precision over 1000 or more than 64 KiB of text, or the text does not fit; the caller then
 * formats with vsnprintf(). ap is read through a copy, so the caller's is left as it was.
 */
gssize sim_logfmt(char *buf, gsize cap, const char *fmt, va_list ap);

#endif
