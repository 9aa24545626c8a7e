#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A timeline in an offline viewer: replay trace 07 with --timeline, serve speedscope (the npm
# package) and the timeline on localhost, load it in headless Chromium - one speedscope lane per
# actor, stacked in one page - and take a screenshot. Skips (TAP) with the reason when Chromium,
# or speedscope and npm to fetch it, are missing. The server is ours, on 127.0.0.1, and stopped
# on exit; every wait is bounded.
#
# usage: speedscope-screenshot.sh PATH/TO/kvmsim SOURCE_ROOT [OUT.png]
#   SPEEDSCOPE_DIR: a directory holding node_modules/speedscope (default: build/speedscope,
#   where npm installs it on first use)
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
out=$(tap_abs "${3:-$root/build/timeline-07.png}")
tap_init speedscope
echo "1..1"
name="speedscope shows trace 07's timeline, one lane per actor"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	skip "$name" "chromium is not installed (Debian package chromium)"
	exit 0
fi
ss=${SPEEDSCOPE_DIR:-$root/build/speedscope}
if [ ! -f "$ss/node_modules/speedscope/dist/release/index.html" ]; then
	if ! command -v npm >/dev/null; then
		skip "$name" "speedscope is not in $ss and npm is not installed to fetch it"
		exit 0
	fi
	mkdir -p "$ss"
	if ! timeout 300 npm install --prefix "$ss" --no-audit --no-fund --silent \
		speedscope@1.25.0 >"$base/npm.log" 2>&1; then
		skip "$name" "npm could not install speedscope: $(tail -1 "$base/npm.log")"
		exit 0
	fi
fi

# the page: speedscope's release, the timeline split into one profile per actor, one frame each
site=$base/site
mkdir -p "$site/lanes"
ln -s "$ss/node_modules/speedscope/dist/release" "$site/speedscope"
"$kvmsim" replay "$root/traces/07-zap-before-tlb-flush.xml" --timeline "$site/07.json" \
	>"$base/replay" 2>&1
python3 - "$site" <<'PY' || { not_ok "$name" "cannot split the timeline"; exit 1; }
import json, sys
site = sys.argv[1]
doc = json.load(open(f"{site}/07.json"))
events = doc["traceEvents"]
names = {e["tid"]: e["args"]["name"] for e in events
         if e["ph"] == "M" and e["name"] == "thread_name"}
end = max(e["ts"] for e in events)
frames = []
for tid in sorted(names):
    # speedscope draws each profile from its first event to its last, and names a slice with
    # its arguments: every lane gets one slice over the whole run (so the lanes line up) and
    # slices without arguments
    lane = [dict((k, v) for k, v in e.items() if k != "args")
            for e in events if e.get("tid") == tid and e["ph"] in ("B", "E")]
    if not lane:
        continue
    whole = {"ph": "B", "name": names[tid], "pid": 1, "tid": tid, "ts": 0}
    lane = [whole] + lane + [dict(whole, ph="E", ts=end)]
    lanes = [(names[tid], lane)]
    # the actor's mmu_invalidate windows (async b/e, which speedscope does not draw) as slices
    windows = [dict(ph=e["ph"].upper(), name=e["name"], pid=1, tid=tid, ts=e["ts"])
               for e in events if e.get("tid") == tid and e["ph"] in ("b", "e")]
    if windows:
        lanes.append((names[tid] + "-windows",
                      [dict(whole, name="mmu_invalidate windows")] + windows +
                      [dict(whole, name="mmu_invalidate windows", ph="E", ts=end)]))
    for title, events_of in lanes:
        json.dump({"traceEvents": events_of}, open(f"{site}/lanes/{title}.json", "w"))
        frames.append(
            f'<h3>{title}</h3><iframe src="speedscope/index.html#profileURL='
            f'/lanes/{title}.json&amp;title={title}"></iframe>')
open(f"{site}/index.html", "w").write(
    "<!doctype html><meta charset=utf-8><title>kvmsim timeline: trace 07</title><style>"
    "body{margin:4px;font:13px sans-serif}h3{margin:2px 0}"
    "iframe{width:100%;height:210px;border:1px solid #888}</style>"
    "<h2>traces/07-zap-before-tlb-flush.xml: one speedscope lane per actor</h2>"
    + "".join(frames))
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); \
print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$site" >"$base/http.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$base"' EXIT INT TERM
i=0
until python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" \
	2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] || { not_ok "$name" "the local server did not start"; exit 1; }
	sleep 0.1
done
rm -f "$out"
timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
	--window-size=1400,820 --virtual-time-budget=15000 --screenshot="$out" \
	"http://127.0.0.1:$port/index.html" >"$base/chromium.log" 2>&1
if [ -s "$out" ] && [ "$(head -c 4 "$out" | tail -c 3)" = PNG ] &&
	grep -q "GET /lanes/vcpu0.json" "$base/http.log" &&
	grep -q "GET /lanes/notifier.json" "$base/http.log"; then
	ok "$name ($out)"
else
	not_ok "$name" "$(tail -3 "$base/chromium.log")" "$(tail -3 "$base/http.log")"
fi
exit $failed
