#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The unit tests whose failure only a sanitizer sees (issue 7 item 11: a reused fiber stack must
# hold no redzone of an abandoned actor, SIM_ASAN code in sim/core/fiber.c; item 17: what teardown
# frees after an abandoned actor, which LeakSanitizer checks too), run in an ASan + UBSan build,
# so that ./test, whose build has no sanitizer, runs them too. It configures BUILDDIR/sanitize
# with -Db_sanitize=address,undefined (once), builds only the unit tests named below there, and
# runs each: one TAP line per test binary. Skipped, with the reason printed, when the compiler
# cannot build and run an ASan + UBSan program.
#
# usage: sanitize.sh SRCDIR BUILDDIR
set -u

src=$1
build=$2
sb=$build/sanitize
tests="test-sched test-mmu"
set -- $tests
echo "1..$#"

probe=$(mktemp -d) || exit 1
trap 'rm -rf "$probe"' EXIT INT TERM
cc=${CC:-cc}
printf 'int main(void) { return 0; }\n' >"$probe/p.c"
if ! "$cc" -fsanitize=address,undefined "$probe/p.c" -o "$probe/p" >"$probe/probe.log" 2>&1 ||
	! "$probe/p" >>"$probe/probe.log" 2>&1; then
	reason=$(head -n 1 "$probe/probe.log")
	for t in $tests; do
		echo "ok - $t under ASan+UBSan # SKIP $cc cannot build or run an ASan+UBSan" \
			"program (Debian: gcc's libasan, libubsan): $reason"
	done
	exit 0
fi
if [ ! -f "$sb/build.ninja" ] &&
	! meson setup "$sb" "$src" -Db_sanitize=address,undefined -Db_lundef=false \
		>"$probe/setup.log" 2>&1; then
	echo "not ok 1 - the ASan+UBSan build does not configure"
	sed 's/^/# /' "$probe/setup.log" | tail -n 20
	exit 1
fi
targets=
for t in $tests; do
	targets="$targets tests/$t"
done
# shellcheck disable=SC2086 # the targets are words
if ! ninja -C "$sb" $targets >"$probe/build.log" 2>&1; then
	echo "not ok 1 - the ASan+UBSan unit tests do not build"
	sed 's/^/# /' "$probe/build.log" | tail -n 20
	exit 1
fi
status=0
n=0
for t in $tests; do
	n=$((n + 1))
	# check forks each test: a sanitizer report ends that child with a non-zero status, which
	# check reports as the test's failure
	if env CK_TAP_LOG_FILE_NAME=- CK_VERBOSITY=silent ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 "$sb/tests/$t" \
		>"$probe/$t.log" 2>&1; then
		echo "ok $n - $t passes under ASan+UBSan and LeakSanitizer" \
			"($(grep -c '^ok' "$probe/$t.log") tests)"
	else
		echo "not ok $n - $t fails under ASan+UBSan and LeakSanitizer"
		grep -v '^ok' "$probe/$t.log" | sed 's/^/# /' | tail -n 40
		status=1
	fi
done
exit $status
