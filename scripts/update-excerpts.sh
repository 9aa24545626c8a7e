#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Rewrite every marked excerpt in README.md and docs/*.md with what its command prints now
# (after a change of the log, an option or an output). Builds first; review the diff after.
set -eu
cd "$(dirname "$0")/.."
meson compile -C build >/dev/null
exec sh tests/docs/check-excerpts.sh "$(pwd)/build/kvmsim" "$(pwd)" --update
