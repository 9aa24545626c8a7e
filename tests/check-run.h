/* SPDX-License-Identifier: GPL-2.0-only */
/* The main() of every Check suite: run it (output as the CK_* environment asks), fail if any
 * case failed. */
#ifndef KVMSIM_TESTS_CHECK_RUN_H
#define KVMSIM_TESTS_CHECK_RUN_H

#include <check.h>

static inline int
check_run_suite(Suite *suite)
{
	SRunner *sr = srunner_create(suite);

	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);

	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif
