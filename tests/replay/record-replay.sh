#!/bin/sh
# Record -> replay must always hold: every run kvmsim records replays to the same outcome.
#   record-replay.sh KVMSIM
# Part 1, the acceptance check of issue 7: `kvmsim run touch --mem 1M --host-events KIND=20
# --record d.xml && kvmsim replay d.xml` for seeds 1-20, every host-event kind, both policies.
# Part 2, a matrix: every built-in workload under every host-event kind (and all three at once),
# both policies, vCPU counts 1 to 4 and quanta from 50 instructions to the default, each replayed
# against everything the run recorded (--record-expect full: counters, verdict, log hash).
set -u
kvmsim=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/kvmsim-record-replay.XXXXXX")
trap 'rm -rf "$dir"' EXIT
n=0
status=0

# check STRICT DESCRIPTION RUN-ARGS...: run with --record, then replay, which must pass; with
# STRICT=1 the run must pass too, otherwise (a guest that fails on purpose) it need only record.
check() {
	strict=$1
	what=$2
	shift 2
	n=$((n + 1))
	rm -f "$dir/t.xml"
	out=$("$kvmsim" run "$@" --record "$dir/t.xml" 2>&1)
	ran=$?
	if { [ "$strict" = 0 ] || [ $ran -eq 0 ]; } && [ -f "$dir/t.xml" ] &&
	   out=$("$kvmsim" replay "$dir/t.xml" 2>&1); then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		echo "$out" | grep -v '^  PASS' | sed 's/^/# /'
		status=1
	fi
}

workloads=$("$kvmsim" list | cut -d' ' -f1)
set -- $workloads
echo "1..$((3 * 2 * 20 + 4 * 2 * $#))"

for kind in migrate dontneed age; do
	for policy in random round-robin; do
		for seed in $(seq 1 20); do
			check 1 "touch $kind=20 $policy seed $seed" touch --mem 1M \
				--host-events "$kind=20" --policy "$policy" --seed "$seed"
		done
	done
done

i=0
for wl in $workloads; do
	case $wl in
	steady) params="--param 0=1000" ;; # their defaults run for seconds
	stress) params="--param 0=2" ;;
	*) params= ;;
	esac
	for events in migrate=30 dontneed=30 age=30 migrate=10,dontneed=10,age=10; do
		for policy in random round-robin; do
			i=$((i + 1))
			vcpus=$((i % 4 + 1))
			case $((i % 3)) in
			0) quantum=10000 ;;
			1) quantum=300 ;;
			*) quantum=50 ;;
			esac
			# a failing guest (crash) must replay to the same failure: expect everything
			check 0 "$wl $events $policy $vcpus vCPUs quantum $quantum" "$wl" $params \
				--mem 1M --vcpus "$vcpus" --quantum "$quantum" --seed "$i" \
				--host-events "$events" --policy "$policy"
		done
	done
done
exit $status
