#!/bin/sh
# Every yield point named in the sources is in the registry (kvmsim list --points) and every
# registered point is used: a schedule must be able to name each point that exists. (The
# pseudo-points block, sleep and exit have no dot and are not literal in the sources.)
set -eu
kvmsim=$1
src=$2
used=$(grep -rhoE '"[a-z_]+\.[a-z_]+"' "$src/sim" "$src/mmu" "$src/gmem" "$src/asi/nmi.c" \
	--include=*.c \
	--exclude=points.c | tr -d '"' | sort -u)
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
