#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# kvmsim show: spte names every set bit with the kernel's names, tree draws trace 11's frozen
# subtree (text, DOT, PNG through graphviz where installed), points matches list --points, and
# bad input is one line with status 2. TAP output.
#
# usage: test-show.sh PATH/TO/kvmsim SOURCE_ROOT
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
t11="$root/traces/11-fast-zap-frozen-spte.xml"
tap_init show

echo "1..9"

# covered VALUE: every set bit of VALUE is on a "bit N" or "bits A-B" line of show spte.
covered() {
	"$kvmsim" show spte "$1" >"$base/spte" 2>&1 || return 1
	python3 - "$1" "$base/spte" <<'PY'
import re, sys
value = int(sys.argv[1], 16)
covered = 0
for line in open(sys.argv[2]):
    m = re.match(r"\s+bits? (\d+)(?:-(\d+))?\s", line)
    if m:
        lo = int(m.group(1)); hi = int(m.group(2) or lo)
        covered |= ((1 << (hi - lo + 1)) - 1) << lo
sys.exit(0 if value & ~covered == 0 and "unnamed" not in open(sys.argv[2]).read() else 1)
PY
}

# 1: the issue's example: every set bit named, under the kernel's names.
if covered 0x8610000080001b77 && for name in VMX_EPT_READABLE_MASK VMX_EPT_WRITABLE_MASK \
	VMX_EPT_EXECUTABLE_MASK "WB (write-back)" VMX_EPT_IPAT_BIT VMX_EPT_ACCESS_BIT \
	VMX_EPT_DIRTY_BIT SPTE_MMU_PRESENT_MASK "0x80001 " SPTE_TDP_AD_DISABLED \
	EPT_SPTE_HOST_WRITABLE EPT_SPTE_MMU_WRITABLE VMX_EPT_SUPPRESS_VE_BIT; do
	grep -q "$name" "$base/spte" || exit 1; done; then
	ok "show spte 0x8610000080001b77 names every set bit"
else
	not_ok "show spte 0x8610000080001b77" "$(cat "$base/spte")"
fi

# 2: frozen, non-present, MMIO, access-tracked, a huge leaf, a table: each named, no bit left.
bad=""
for v in 80000000000005a0:FROZEN_SPTE 8000000000000000:SHADOW_NONPRESENT_VALUE \
	10002e:MMIO_SPTE_GEN_LOW_MASK 8750000080001a70:SHADOW_ACC_TRACK_SAVED_MASK \
	86100000800008f7:PT_PAGE_SIZE_MASK 7ff000000001002e:MMIO_SPTE_GEN_HIGH_MASK \
	0010000080001b77:SPTE_TDP_AD_DISABLED; do
	covered "${v%%:*}" && grep -q "${v#*:}" "$base/spte" || bad="$bad ${v%%:*}"
done
if [ -z "$bad" ]; then
	ok "frozen, non-present, MMIO (gen, gfn), access-tracked, huge: every bit named"
else
	not_ok "show spte" "not fully named:$bad"
fi

# 3: bad values and views are usage errors: one line, status 2.
"$kvmsim" show spte 0xzz >/dev/null 2>"$base/e1"
s1=$?
"$kvmsim" show nosuchview >/dev/null 2>"$base/e2"
s2=$?
"$kvmsim" show tree "$t11" --at no.such.point >/dev/null 2>"$base/e3"
s3=$?
if [ $s1 -eq 2 ] && [ $s2 -eq 2 ] && [ $s3 -eq 2 ] && [ "$(cat "$base"/e1 "$base"/e2 "$base"/e3 |
	wc -l)" -eq 3 ]; then
	ok "bad input: one line, status 2"
else
	not_ok "bad input" "$s1 $s2 $s3" "$(cat "$base"/e1 "$base"/e2 "$base"/e3)"
fi

# 4: trace 11 at the freeze: the obsolete root, and the unlinked table of frozen entries.
"$kvmsim" show tree "$t11" --at zap.pt_frozen >"$base/tree" 2>&1
if grep -q "invalid (obsolete)" "$base/tree" &&
	grep -q "unlinked, being torn down" "$base/tree" &&
	grep -q "\[0-511\] L1 gfn 0x0-0x1ff 80000000000005a0  frozen (512 entries)" "$base/tree"
then
	ok "show tree trace 11 --at zap.pt_frozen shows the frozen subtree"
else
	not_ok "show tree trace 11 at the freeze" "$(head -20 "$base/tree")"
fi

# 5: at the end, the new valid root maps gfn 5 again; --at a step number works too.
"$kvmsim" show tree "$t11" >"$base/end" 2>&1
"$kvmsim" show tree "$t11" --at 10 >"$base/at10" 2>&1
if grep -q "at the end of the replay (step" "$base/end" &&
	grep -q "valid, root_count" "$base/end" &&
	grep -q "L1 gfn 0x5 .*8610000080000b77" "$base/end" && ! grep -q "  frozen" "$base/end" &&
	grep -q "after step 10, vcpu0 at" "$base/at10"; then
	ok "show tree at the end and at a step"
else
	not_ok "show tree at the end / --at 10" "$(cat "$base/end" "$base/at10")"
fi

# 6: --dot is a digraph with the frozen run; graphviz accepts it where installed.
"$kvmsim" show tree "$t11" --at zap.pt_frozen --dot >"$base/tree.dot" 2>&1
if ! head -1 "$base/tree.dot" | grep -q "^digraph" ||
	! grep -q "gfn 0x0-0x1ff L1" "$base/tree.dot"; then
	not_ok "--dot" "$(head -5 "$base/tree.dot")"
elif ! command -v dot >/dev/null; then
	skip "--dot" "graphviz's dot is not installed (apt-get install graphviz)"
elif dot -Tsvg "$base/tree.dot" -o "$base/tree.svg" 2>"$base/err"; then
	ok "--dot: a digraph graphviz renders"
else
	not_ok "--dot rejected by graphviz" "$(cat "$base/err")"
fi

# 7: --png writes a PNG through graphviz, or says dot is missing (status 1, nothing written).
"$kvmsim" show tree "$t11" --at zap.pt_frozen --png "$base/tree.png" >"$base/out" 2>"$base/err"
s=$?
if command -v dot >/dev/null; then
	if [ $s -eq 0 ] && [ "$(head -c 4 "$base/tree.png" | tail -c 3)" = "PNG" ]; then
		ok "--png renders through graphviz"
	else
		not_ok "--png" "status $s" "$(cat "$base/err")"
	fi
elif [ $s -eq 1 ] && [ ! -e "$base/tree.png" ] && grep -q graphviz "$base/err"; then
	skip "--png" "graphviz's dot is not installed; the error says so"
else
	not_ok "--png without graphviz" "status $s" "$(cat "$base/err")"
fi

# 8: show points is list --points.
"$kvmsim" show points >"$base/p1"
"$kvmsim" list --points >"$base/p2"
if cmp -s "$base/p1" "$base/p2" && grep -q "^fault.mmu_lock " "$base/p1"; then
	ok "show points lists the yield points (as list --points)"
else
	not_ok "show points"
fi

# 9: show --help lists the views.
if "$kvmsim" show --help | grep -q "^  spte " && "$kvmsim" show --help | grep -q "^  tree " &&
	"$kvmsim" --help | grep -q "^  show "; then
	ok "show --help lists spte, tree, points; kvmsim --help lists show"
else
	not_ok "show --help"
fi
exit $failed
