#!/bin/sh
# Replay every trace in the catalogue: one TAP case per file found at run time, so a new trace in
# traces/ is a test without editing meson.build. Each must replay with every expectation met and
# validate against the schema with xmllint.
set -u
kvmsim=$1
dir=$2
set -- "$dir"/*.xml
echo "1..$#"
n=0
status=0
for trace in "$@"; do
	n=$((n + 1))
	name=$(basename "$trace")
	if out=$("$kvmsim" replay "$trace" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "$out" | sed 's/^/# /'
		status=1
	fi
done
exit $status
