/* SPDX-License-Identifier: GPL-2.0-only */
/* The self-contained HTML report of a (failing) schedule. */
#ifndef KVMSIM_SIM_EXPLORE_REPORT_H
#define KVMSIM_SIM_EXPLORE_REPORT_H

#include "sim/explore/explore.h"

/* Write the report of run (recorded, with its log) to path, whole or not at all. */
gboolean explore_report_html(const ExploreTarget *target, const ExploreRun *run, const char *path,
			     GError **error);

#endif
