#!/bin/sh
# Every yield point named in the sources is in the registry (kvmsim list --points) and every
# registered point is used: a schedule must be able to name each point that exists. (The
# pseudo-points block, sleep and exit have no dot and are not literal in the sources.) Points
# have one dot or, as DESIGN.md §4 names ASI's, two ("asi.enter.cr3"); asi/stats.c holds the
# --stats keys, which look alike.
set -eu
kvmsim=$1
src=$2
used=$(grep -rhoE '"[a-z_]+(\.[a-z0-9_]+){1,2}"' "$src/sim" "$src/mmu" "$src/gmem" "$src/asi" \
	--include=*.c --exclude=points.c --exclude=stats.c --exclude=nmi-stats.c | tr -d '"' | sort -u)
known=$("$kvmsim" list --points | awk '{print $1}' | grep '\.' | sort -u)
if [ "$used" != "$known" ]; then
	echo "yield points in the sources and in sim/core/points.c differ:"
	echo "$used" >/tmp/kvmsim-used.$$
	echo "$known" >/tmp/kvmsim-known.$$
	diff /tmp/kvmsim-used.$$ /tmp/kvmsim-known.$$ || true
	rm -f /tmp/kvmsim-used.$$ /tmp/kvmsim-known.$$
	exit 1
fi
echo "1..1"
echo "ok 1 - $(echo "$known" | wc -l) yield points, all registered and all used"
