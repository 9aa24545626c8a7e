#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The excerpt checker itself: it passes a true excerpt, fails a stale one and an unmarked kvmsim
# command in a strict file, fails a run block that fails, and --update repairs a stale excerpt.
# TAP output.
#
# usage: test-checker.sh PATH/TO/kvmsim SOURCE_ROOT
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
tap_init excerpt-checker
check() {
	python3 "$root/tests/docs/excerpts.py" --kvmsim "$kvmsim" --root "$root" "$@" \
		>"$base/out" 2>&1
}

echo "1..6"
printf '%s\n' '<!-- excerpt: build/kvmsim show spte 0x8000000000000000 | head -1 -->' '```' \
	'0x8000000000000000 at level 1: nonpresent' '```' >"$base/good.md"
if check "$base/good.md"; then ok "a true excerpt passes"; else not_ok "true excerpt" \
	"$(cat "$base/out")"; fi

sed 's/nonpresent$/present/' "$base/good.md" >"$base/stale.md"
if ! check "$base/stale.md" && grep -q "no longer what it prints" "$base/out"; then
	ok "a stale excerpt fails, with a diff"
else
	not_ok "stale excerpt" "$(cat "$base/out")"
fi

printf '%s\n' '```sh' 'build/kvmsim run touch' '```' >"$base/unmarked.md"
if ! check --strict "$base/unmarked.md" -- "$base/unmarked.md" &&
	grep -q "no marker runs" "$base/out" && check "$base/unmarked.md"; then
	ok "an unmarked kvmsim command fails a strict file only"
else
	not_ok "unmarked command" "$(cat "$base/out")"
fi

printf '%s\n' '<!-- run -->' '```sh' 'build/kvmsim replay no-such-trace.xml' '```' >"$base/run.md"
if ! check "$base/run.md" && grep -q "run: exit 2" "$base/out"; then
	ok "a failing run block fails"
else
	not_ok "failing run block" "$(cat "$base/out")"
fi

cp "$base/stale.md" "$base/fixed.md"
if check --update "$base/fixed.md" && cmp -s "$base/fixed.md" "$base/good.md" &&
	check "$base/fixed.md"; then
	ok "--update rewrites a stale excerpt"
else
	not_ok "--update" "$(diff "$base/fixed.md" "$base/good.md")"
fi
# 6: an options table must list exactly the options the command prints.
printf '%s\n' '<!-- options: build/kvmsim show spte --help -->' '| option | meaning |' \
	'| --- | --- |' '| `--level N` | level |' >"$base/options.md"
sed 's/--level/--lever/' "$base/options.md" >"$base/options-bad.md"
if check "$base/options.md" && ! check "$base/options-bad.md" &&
	grep -q "not in the table \['--level'\], not in the command \['--lever'\]" "$base/out"; then
	ok "an options table is checked against the command's --help"
else
	not_ok "options table" "$(cat "$base/out")"
fi
exit $failed
