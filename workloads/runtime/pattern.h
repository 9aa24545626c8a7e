/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Self-checking page patterns for the data region: every qword of a page gets a value derived from
 * the page's gpa and a salt, so a page that is lost (reads as zero), stale, poisoned or mapped at
 * the wrong gpa is told apart from an intact one.
 */
#ifndef KVMSIM_WORKLOADS_PATTERN_H
#define KVMSIM_WORKLOADS_PATTERN_H

#include <stdint.h>

#include "workloads/abi.h"

/* What pattern_check() found, summed over the pages it read. */
struct pattern_tally {
	uint64_t pages;    /* pages checked */
	uint64_t dropped;  /* pages with zeros where their pattern should be, and nothing else */
	uint64_t corrupt;  /* pages holding anything that is neither their pattern nor zero */
	uint64_t checksum; /* over every qword read, in the order read */
};

/* Write the pattern for salt into nr_pages pages starting at gpa, one 8-byte store per qword. */
void pattern_fill(uint64_t gpa, uint64_t nr_pages, uint64_t salt);

/*
 * Read nr_pages pages starting at gpa back, classify each, and add the result to tally. A page
 * that is only partly zero still counts as dropped: the host may drop it while it is being written
 * (the stores before the drop are lost) or read (the rest of the pass reads zeros).
 */
void pattern_check(uint64_t gpa, uint64_t nr_pages, uint64_t salt, struct pattern_tally *tally);

/*
 * Combine every vCPU's tally, the worst count winning, and return the run's exit status: 0 if no
 * page was corrupt and none was dropped unless KVMSIM_BOOT_ZERO_OK allows it, else 1. Every vCPU
 * must call it, once per run: it uses params->shared[0..1] and a barrier.
 */
uint32_t pattern_merge(struct kvmsim_boot_params *params, struct pattern_tally *tally);

#endif
