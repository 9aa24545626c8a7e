#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print a kvmsim timeline (--timeline FILE.json) as text: per track, its slices indented by
nesting, with instants (!) and flow arrows (-> / <-) in between, each at its timestamp. For
reading a timeline without a viewer, and for the tutorial's excerpts.

usage: timeline-outline.py FILE.json [--track NAME]
"""
import json
import sys


def main():
    args = sys.argv[1:]
    track = None
    if "--track" in args:
        track = args[args.index("--track") + 1]
        args = args[:args.index("--track")]
    with open(args[0], encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    for tid in sorted(names):
        if track and names[tid] != track:
            continue
        print(f"{names[tid]}:")
        depth = 0
        for e in events:
            if e.get("tid") != tid or e["ph"] in ("M", "C"):
                continue
            ph, ts, pad = e["ph"], e["ts"], "  " * (depth + 1)
            if ph == "B":
                print(f"{ts:6} {pad}{e['name']}")
                depth += 1
            elif ph == "E":
                depth -= 1
            elif ph == "i":
                print(f"{ts:6} {pad}! {e['name']}")
            elif ph == "s":
                print(f"{ts:6} {pad}-> {e['name']} (flow {e['id']})")
            elif ph == "f":
                print(f"{ts:6} {pad}<- {e['name']} (flow {e['id']})")
            elif ph == "b":
                print(f"{ts:6} {pad}[ {e['name']}")
            elif ph == "e":
                print(f"{ts:6} {pad}] {e['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
