#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Check that a JSON file follows the Trace Event Format as kvmsim's timeline uses it.

Every event has ph, ts, pid, tid and name; B/E nest per track (pid, tid) with matching names;
async b/e pair by (cat, id); flows s/f pair by id, each once, the start not after the finish;
counters carry numeric args; each tid with events has a thread_name. Prints one line per
problem and exits 1 if there is any; with --expect NAME..., also requires events whose name
starts with each NAME.
"""
import json
import sys


def check(path, expects):
    problems = []
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    stacks, asyncs, flows, named, used = {}, {}, {}, set(), set()
    for i, e in enumerate(events):
        where = f"event {i}"
        for key in ("ph", "ts", "pid", "tid", "name"):
            if key not in e:
                problems.append(f"{where}: no {key}")
        ph = e.get("ph")
        track = (e.get("pid"), e.get("tid"))
        if not isinstance(e.get("ts"), (int, float)):
            problems.append(f"{where}: ts is not a number")
        if ph == "M":
            if e.get("name") == "thread_name":
                named.add(track)
            continue
        if ph in ("B", "E", "i", "X"):
            used.add(track)
        if ph == "B":
            stacks.setdefault(track, []).append(e["name"])
        elif ph == "E":
            stack = stacks.get(track, [])
            if not stack:
                problems.append(f"{where}: E '{e['name']}' with nothing open on {track}")
            elif stack[-1] != e["name"]:
                problems.append(f"{where}: E '{e['name']}' closes '{stack[-1]}' on {track}")
                stack.pop()
            else:
                stack.pop()
        elif ph in ("b", "e"):
            key = (e.get("cat"), e.get("id"))
            if e.get("id") is None:
                problems.append(f"{where}: {ph} without id")
            count = asyncs.get(key, 0) + (1 if ph == "b" else -1)
            if count < 0:
                problems.append(f"{where}: e without b for {key}")
            asyncs[key] = count
        elif ph in ("s", "f"):
            flow = flows.setdefault(e.get("id"), {})
            if ph in flow:
                problems.append(f"{where}: second '{ph}' for flow id {e.get('id')}")
            flow[ph] = e["ts"]
        elif ph == "C":
            args = e.get("args") or {}
            if not args or not all(isinstance(v, (int, float)) for v in args.values()):
                problems.append(f"{where}: counter without numeric args")
        elif ph != "i":
            problems.append(f"{where}: unexpected ph '{ph}'")
    for track, stack in stacks.items():
        if stack:
            problems.append(f"track {track}: B without E: {stack}")
    for key, count in asyncs.items():
        if count:
            problems.append(f"async {key}: b and e unbalanced")
    for fid, flow in flows.items():
        if set(flow) != {"s", "f"}:
            problems.append(f"flow {fid}: has only {sorted(flow)}")
        elif flow["s"] > flow["f"]:
            problems.append(f"flow {fid}: starts after it finishes")
    for track in used - named:
        problems.append(f"track {track}: no thread_name")
    for name in expects:
        if not any(e.get("name", "").startswith(name) for e in events):
            problems.append(f"no event named {name}...")
    return problems


def main():
    args = sys.argv[1:]
    expects = []
    if "--expect" in args:
        expects = args[args.index("--expect") + 1:]
        args = args[:args.index("--expect")]
    problems = check(args[0], expects)
    for p in problems[:20]:
        print(f"{args[0]}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
