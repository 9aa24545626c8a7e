/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Self-checking page patterns for the data region: every qword of a page gets a value derived from
 * the page's gpa and a salt, so a page that is lost (reads as zero), stale, poisoned or mapped at the
 * wrong gpa is told apart from an intact one.
 */
#ifndef KVMSIM_WORKLOADS_PATTERN_H
#define KVMSIM_WORKLOADS_PATTERN_H

#include <stdint.h>

#include "workloads/abi.h"

/* What pattern_check() found, summed over the pages it read. */
struct pattern_tally {
	uint64_t pages;    /* pages checked */
	uint64_t dropped;  /* pages that read as all zero */
	uint64_t corrupt;  /* pages holding anything else that is not their pattern */
	uint64_t checksum; /* over every qword read, in the order read */
};

/* Write the pattern for salt into nr_pages pages starting at gpa, one 8-byte store per qword. */
void pattern_fill(uint64_t gpa, uint64_t nr_pages, uint64_t salt);

/* Read nr_pages pages starting at gpa back, classify each, and add the result to tally. */
void pattern_check(uint64_t gpa, uint64_t nr_pages, uint64_t salt, struct pattern_tally *tally);

/*
 * Combine every vCPU's tally, the worst count winning, and return the run's exit status: 0 if no
 * page was corrupt and none was dropped unless KVMSIM_BOOT_ZERO_OK allows it, else 1. Every vCPU
 * must call it, once per run: it uses params->shared[0..1] and a barrier.
 */
uint32_t pattern_merge(struct kvmsim_boot_params *params, struct pattern_tally *tally);

#endif
