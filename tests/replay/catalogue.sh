#!/bin/sh
# Every trace in the catalogue as one TAP case, found at run time, so a new trace in traces/ is a
# test without editing meson.build.
#   catalogue.sh replay KVMSIM DIR     each trace replays with every expectation met
#   catalogue.sh validate XMLLINT DIR  each is valid against DIR/kvmsim-trace.rng for xmllint too:
#                                      the schema is the contract for anyone writing traces
#   catalogue.sh validate XMLLINT DIR RNG  the same against the schema RNG (traces/historical)
set -u
mode=$1
tool=$2
dir=$3
rng=${4:-$dir/kvmsim-trace.rng}
set -- "$dir"/*.xml
echo "1..$#"
n=0
status=0
for trace in "$@"; do
	n=$((n + 1))
	case $mode in
	replay) out=$("$tool" replay "$trace" 2>&1) ;;
	*) out=$("$tool" --noout --relaxng "$rng" "$trace" 2>&1) ;;
	esac
	if [ $? -eq 0 ]; then
		echo "ok $n - $(basename "$trace")"
	else
		echo "not ok $n - $(basename "$trace")"
		echo "$out" | sed 's/^/# /'
		status=1
	fi
done
exit $status
