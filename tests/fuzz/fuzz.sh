#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A short, time-boxed libFuzzer run of the trace reader (ASan + UBSan + LeakSanitizer), as one TAP
# test. It configures a clang build of kvmsim in BUILDDIR/fuzz (once), builds tests/fuzz-trace
# there, and fuzzes for SECONDS from the seed corpus: the catalogue traces and every file of
# tests/replay/bad, with the dictionary of the schema's names. Skipped, with the reason printed,
# when clang's libFuzzer is not installed (./test installs it: Debian clang, libclang-rt-14-dev).
# A finding fails the test; the crashing input is kept in BUILDDIR/fuzz/findings.
#
# usage: fuzz.sh SRCDIR BUILDDIR SECONDS
set -u

src=$1
build=$2
seconds=$3
fb=$build/fuzz
echo "1..1"

probe=$(mktemp -d) || exit 1
trap 'rm -rf "$probe"' EXIT INT TERM
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' >"$probe/p.c"
if ! command -v clang >/dev/null 2>&1 ||
	! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
	echo "ok 1 # SKIP clang with libFuzzer is not installed (Debian: clang libclang-rt-14-dev;" \
		"./test installs them)"
	exit 0
fi
if [ ! -f "$fb/build.ninja" ] &&
	! CC=clang CFLAGS=-fsanitize=fuzzer-no-link meson setup "$fb" "$src" \
		-Db_sanitize=address,undefined -Db_lundef=false >"$probe/setup.log" 2>&1; then
	echo "not ok 1 - the clang build for fuzzing does not configure"
	sed 's/^/# /' "$probe/setup.log" | tail -n 20
	exit 1
fi
if ! ninja -C "$fb" tests/fuzz-trace tests/trace.dict >"$probe/build.log" 2>&1; then
	echo "not ok 1 - fuzz-trace does not build"
	sed 's/^/# /' "$probe/build.log" | tail -n 20
	exit 1
fi
mkdir -p "$fb/findings"
mkdir "$probe/corpus"
# the new inputs go to the first directory (a temporary one); the seeds are only read
if "$fb/tests/fuzz-trace" "$probe/corpus" "$src/traces" "$src/tests/replay/bad" \
	-dict="$fb/tests/trace.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -artifact_prefix="$fb/findings/" -print_final_stats=1 \
	>"$probe/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$probe/fuzz.log")
	echo "ok 1 - the trace reader survives $runs inputs in ${seconds}s of fuzzing"
else
	echo "not ok 1 - the fuzzer found an input the trace reader mishandles (kept in $fb/findings)"
	grep -v '^#[0-9]' "$probe/fuzz.log" | sed 's/^/# /' | tail -n 40
	exit 1
fi
