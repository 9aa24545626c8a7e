#!/bin/sh
# Every catalogue trace is valid against traces/kvmsim-trace.rng for xmllint too, not only for
# kvmsim's own reader: the schema is the contract for anyone writing traces by hand or by tool.
set -u
xmllint=$1
dir=$2
set -- "$dir"/*.xml
echo "1..$#"
n=0
status=0
for trace in "$@"; do
	n=$((n + 1))
	if out=$("$xmllint" --noout --relaxng "$dir/kvmsim-trace.rng" "$trace" 2>&1); then
		echo "ok $n - $(basename "$trace") validates"
	else
		echo "not ok $n - $(basename "$trace")"
		echo "$out" | sed 's/^/# /'
		status=1
	fi
done
exit $status
