#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A Check suite run whole in one process (CK_FORK=no) under a leak checker: valgrind's memcheck
# with definite leaks as errors, or LeakSanitizer when the build has AddressSanitizer (valgrind
# cannot run those). One TAP case: the suite passed and nothing was definitely lost. Skips with
# the reason when the build has no LeakSanitizer and valgrind is not installed.
#
# usage: leak-check.sh B_SANITIZE PROGRAM   (B_SANITIZE: meson's b_sanitize option, e.g. none)
set -u

. "$(dirname "$0")/../tap.sh"
sanitize=$1
prog=$(tap_abs "$2")
name="$(basename "$prog") passes and leaks nothing"
tap_init leak-check
echo "1..1"
export CK_FORK=no CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent
case $sanitize in
*address*)
	checker=LeakSanitizer
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1 \
		"$prog" >"$base/out" 2>"$base/err"
	;;
*)
	if ! command -v valgrind >/dev/null; then
		why="valgrind is not installed (Debian package valgrind)"
		skip "$name" "$why and the build has no LeakSanitizer (-Db_sanitize=address)"
		exit 0
	fi
	checker=valgrind
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		"$prog" >"$base/out" 2>"$base/err"
	;;
esac
status=$?
if [ "$status" -eq 0 ]; then
	ok "$name ($checker)"
else
	not_ok "$name ($checker)" "exit status $status; the suite's TAP, then $checker's report:"
	cat "$base/out" "$base/err" | head -80 | sed 's/^/# /'
fi
exit "$failed"
