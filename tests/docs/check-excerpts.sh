#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The documentation cannot drift: every marked command in README.md and docs/*.md is run and
# every marked excerpt compared with what its command prints now (tests/docs/excerpts.py says
# how blocks are marked). README.md and docs/tutorial.md are strict: every kvmsim command in
# them is run. TAP output. scripts/update-excerpts.sh rewrites the excerpts after a change.
#
# usage: check-excerpts.sh PATH/TO/kvmsim SOURCE_ROOT [--update]
set -eu
case $1 in
/*) kvmsim=$1 ;;
*) kvmsim=$(pwd)/$1 ;;
esac
root=$2
shift 2
cd "$root"
exec python3 tests/docs/excerpts.py --kvmsim "$kvmsim" --root "$root" "$@" \
	--strict README.md docs/tutorial.md -- README.md docs/*.md
