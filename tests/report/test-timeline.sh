#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmsim run/replay --timeline: the JSON follows the Trace Event Format (check-trace-events.py),
# shows what the trace is about (trace 02's retry with its flow arrow, trace 07's invalidation),
# is the same bytes every time, and leaves the event log byte-identical. TAP output.
#
# usage: test-timeline.sh PATH/TO/kvmsim SOURCE_ROOT
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
check_py="$root/tests/report/check-trace-events.py"
tap_init timeline

echo "1..8"

# 1: trace 02 (a retry because the seq moved): structure, the retry, the flow arrow into it.
"$kvmsim" replay "$root/traces/02-invalidation-between-snapshot-and-lock.xml" \
	--timeline "$base/02.json" --log "$base/02.log" >/dev/null 2>"$base/err"
if out=$(python3 "$check_py" "$base/02.json" --expect "page fault gfn 0x5: RET_PF_RETRY" \
	"page fault gfn 0x5: RET_PF_FIXED" invalidate_range_start invalidate_range_end \
	"mmu_lock (write)" "mmu_lock (read)" "mmu_invalidate window gfn 0x5-0x6" \
	kvm_mmu_faultin_pfn fast_page_fault guest EPT_VIOLATION "spte gfn 0x5 level 1" \
	mmu_invalidate_seq mmu_invalidate_in_progress "seq moved") &&
	grep -q '"ph" *: *"s"' "$base/02.json" && grep -q '"ph" *: *"f"' "$base/02.json"; then
	ok "trace 02 timeline: Trace Event Format, retry slice, window, counters, flow arrow"
else
	not_ok "trace 02 timeline" "$out" "$(cat "$base/err")"
fi

# 2: every catalogue trace gives a well-formed timeline.
bad=""
for t in "$root"/traces/*.xml; do
	"$kvmsim" replay "$t" --timeline "$base/t.json" >/dev/null 2>&1
	python3 "$check_py" "$base/t.json" >/dev/null || bad="$bad $(basename "$t")"
done
if [ -z "$bad" ]; then
	ok "every catalogue trace's timeline is well formed"
else
	not_ok "catalogue timelines" "malformed:$bad"
fi

# 3: the log is the same bytes with and without --timeline (replay and run).
"$kvmsim" replay "$root/traces/02-invalidation-between-snapshot-and-lock.xml" \
	--log "$base/02-plain.log" >/dev/null 2>&1
"$kvmsim" run touch --vcpus 2 --mem 1M --host-events migrate=8 --log "$base/run-plain.log" \
	>/dev/null 2>&1
"$kvmsim" run touch --vcpus 2 --mem 1M --host-events migrate=8 --log "$base/run.log" \
	--timeline "$base/run.json" >/dev/null 2>&1
if cmp -s "$base/02.log" "$base/02-plain.log" && cmp -s "$base/run.log" "$base/run-plain.log"
then
	ok "--timeline leaves the event log byte-identical"
else
	not_ok "log changed by --timeline"
fi

# 4: a run's timeline is well formed and has one named track per actor.
if out=$(python3 "$check_py" "$base/run.json" --expect "page fault gfn" guest \
	invalidate_range_start) &&
	grep -q '"name" *: *"vcpu0"' "$base/run.json" && grep -q '"name" *: *"vcpu1"' "$base/run.json" &&
	grep -q '"name" *: *"notifier"' "$base/run.json"; then
	ok "run --timeline: well formed, tracks vcpu0, vcpu1, notifier"
else
	not_ok "run --timeline" "$out"
fi

# 5: the same run gives the same bytes.
"$kvmsim" run touch --vcpus 2 --mem 1M --host-events migrate=8 --timeline "$base/run2.json" \
	>/dev/null 2>&1
if cmp -s "$base/run.json" "$base/run2.json"; then
	ok "same run, same timeline bytes"
else
	not_ok "timeline differs between two identical runs"
fi

# 6: the checker fails on a broken file (an E removed, a flow's finish removed).
python3 - "$base/02.json" "$base/broken.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
ev = doc["traceEvents"]
i = next(i for i, e in enumerate(ev) if e["ph"] == "E")
del ev[i]
j = next(j for j, e in enumerate(ev) if e["ph"] == "f")
del ev[j]
json.dump(doc, open(sys.argv[2], "w"))
PY
if ! python3 "$check_py" "$base/broken.json" >"$base/why" 2>&1 &&
	grep -q "B without E" "$base/why" && grep -q "has only" "$base/why"; then
	ok "the structure check rejects unbalanced slices and unpaired flows"
else
	not_ok "structure check accepted a broken file" "$(cat "$base/why")"
fi

# 7: an unusable --timeline path is a usage error before anything runs; nothing is written.
"$kvmsim" run touch --mem 1M --timeline "$base/no/such/dir/t.json" >/dev/null 2>"$base/err"
s1=$?
"$kvmsim" replay "$root/traces/01-invalidation-before-snapshot.xml" \
	"$root/traces/02-invalidation-between-snapshot-and-lock.xml" \
	--timeline "$base/two.json" >/dev/null 2>"$base/err2"
s2=$?
if [ $s1 -eq 2 ] && [ $s2 -eq 2 ] && [ ! -e "$base/two.json" ] &&
	[ "$(wc -l <"$base/err")" -eq 1 ] && grep -q -- "--timeline" "$base/err2"; then
	ok "bad --timeline: exit 2, one line, nothing written"
else
	not_ok "bad --timeline" "run: $s1 $(cat "$base/err")" "replay: $s2 $(cat "$base/err2")"
fi

# 8: timestamps never go back within a track, and come from the logical clock (small integers).
if python3 - "$base/run.json" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
last = {}
for e in ev:
    if e["ph"] == "M":
        continue
    assert isinstance(e["ts"], int), e
    key = (e["pid"], e["tid"])
    assert e["ts"] >= last.get(key, 0), e
    last[key] = e["ts"]
assert max(last.values()) < 10**7
PY
then
	ok "timestamps are logical and monotonic per track"
else
	not_ok "timestamps"
fi
exit $failed
