/* SPDX-License-Identifier: GPL-2.0-only */
/* The guest programs built into kvmsim: freestanding flat binaries embedded at build time. */
#ifndef KVMSIM_WORKLOADS_WORKLOADS_H
#define KVMSIM_WORKLOADS_WORKLOADS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char *name;       /* what `kvmsim run NAME` takes */
	const char *summary;    /* one line for `kvmsim list` */
	const uint8_t *image;   /* flat binary, loaded at KVMSIM_IMAGE_GPA, entry at its first byte */
	size_t image_size;
} KvmsimWorkload;

/* The workload called name, or NULL. */
const KvmsimWorkload *kvmsim_workload_lookup(const char *name);

/* All workloads, sorted by name; *out_count receives their number. */
const KvmsimWorkload *kvmsim_workload_all(size_t *out_count);

#endif
