# SPDX-License-Identifier: GPL-2.0-only
# What the shell suites share: TAP result lines and a scratch directory. Sourced, not run.
n=0
failed=0

# tap_abs PATH: PATH made absolute (meson passes paths relative to the build directory, and
# cases cd away from it).
tap_abs() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$(pwd)/$1" ;;
	esac
}

# tap_init NAME: $base, a fresh scratch directory removed when the suite exits.
tap_init() {
	base=${TMPDIR:-/tmp}/kvmsim-$1.$$
	mkdir "$base" || exit 1
	trap 'rm -rf "$base"' EXIT INT TERM
}

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

# skip NAME REASON: a case that cannot run here, said so in the TAP line.
skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# not_ok NAME DETAIL...: a failed case, each detail on a comment line.
not_ok() {
	n=$((n + 1))
	failed=1
	echo "not ok $n - $1"
	shift
	for line in "$@"; do
		echo "# $line"
	done
}

# kvmsim's own stderr in $base/err: drops the notice an AddressSanitizer build prints once when
# the first fiber starts (the line starts "==PID=="), so sanitized builds test the same output.
own_stderr() {
	grep -v '^==[0-9]*==WARNING: ASan' "$base/err" >"$base/err.own"
	mv "$base/err.own" "$base/err"
}

# usage_error NAME ARG...: "$kvmsim" ARG... exits 2 with exactly one "kvmsim: error: " line on
# stderr. (test-cli.sh and test-outputs.sh replace it with stricter ones that also check what the
# command left in their directory.)
usage_error() {
	name=$1
	shift
	"$kvmsim" "$@" >"$base/out" 2>"$base/err"
	status=$?
	own_stderr
	lines=$(wc -l <"$base/err" | tr -d ' ')
	if [ "$status" -ne 2 ]; then
		not_ok "$name" "exit status $status, expected 2" "$(cat "$base/err")"
	elif [ "$lines" -ne 1 ] || ! grep -q '^kvmsim: error: ' "$base/err"; then
		not_ok "$name" "stderr is not one 'kvmsim: error: ' line:" "$(cat "$base/err")"
	else
		ok "$name"
	fi
}
