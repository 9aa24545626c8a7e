/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Every named yield point in kvmsim, with what happens there, and the three pseudo-points that
 * also end a schedule step (block, sleep, exit). A schedule (an explicit step list or a trace)
 * can only name these; `kvmsim list --points` prints them.
 */
#ifndef KVMSIM_SIM_CORE_POINTS_H
#define KVMSIM_SIM_CORE_POINTS_H

#include <glib.h>

typedef struct {
	const char *name;
	const char *what;
} SimPoint;

/* All points, sorted by name; *out_n receives their number. */
const SimPoint *sim_points(guint *out_n);
gboolean sim_point_known(const char *name);

#endif
