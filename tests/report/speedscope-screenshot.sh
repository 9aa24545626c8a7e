#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A timeline in an offline viewer: replay trace 07 (a stale TLB entry used until the flush) and
# trace 02 (a fault retried because the seq moved) with --timeline, serve speedscope (the npm
# package) and the timelines on localhost, load each in headless Chromium - one speedscope lane
# per actor, stacked in one page - and take a screenshot of each. Skips (TAP) with the reason
# when Chromium, or speedscope and npm to fetch it, are missing. The server is ours, on
# 127.0.0.1, and stopped on exit; every wait is bounded.
#
# usage: speedscope-screenshot.sh PATH/TO/kvmsim SOURCE_ROOT [OUT_DIR]
#   writes OUT_DIR/timeline-07.png and OUT_DIR/timeline-02.png (default OUT_DIR: build)
#   SPEEDSCOPE_DIR: a directory holding node_modules/speedscope (default: build/speedscope,
#   where npm installs it on first use)
set -u

. "$(dirname "$0")/../tap.sh"
kvmsim=$(tap_abs "$1")
root=$(tap_abs "$2")
outdir=$(tap_abs "${3:-$root/build}")
tap_init speedscope
traces="07-zap-before-tlb-flush 02-invalidation-between-snapshot-and-lock"
echo "1..2"
name="speedscope shows the timeline, one lane per actor"

chromium=$(command -v chromium || command -v chromium-browser || true)
# skip_all REASON: both cases skip, saying why.
skip_all() {
	for t in $traces; do
		skip "$name: trace ${t%%-*}" "$1"
	done
	exit 0
}
if [ -z "$chromium" ]; then
	skip_all "chromium is not installed (Debian package chromium)"
fi
ss=${SPEEDSCOPE_DIR:-$root/build/speedscope}
if [ ! -f "$ss/node_modules/speedscope/dist/release/index.html" ]; then
	if ! command -v npm >/dev/null; then
		skip_all "speedscope is not in $ss and npm is not installed to fetch it"
	fi
	mkdir -p "$ss"
	if ! timeout 300 npm install --prefix "$ss" --no-audit --no-fund --silent \
		speedscope@1.25.0 >"$base/npm.log" 2>&1; then
		skip_all "npm could not install speedscope: $(tail -1 "$base/npm.log")"
	fi
fi

# a page per trace: the timeline split into one profile per actor, one speedscope frame each
site=$base/site
mkdir -p "$site"
ln -s "$ss/node_modules/speedscope/dist/release" "$site/speedscope"
for t in $traces; do
	nn=${t%%-*}
	mkdir -p "$site/$nn/lanes"
	"$kvmsim" replay "$root/traces/$t.xml" --timeline "$site/$nn/timeline.json" \
		>"$base/replay" 2>&1
	python3 - "$site/$nn" "traces/$t.xml" <<'PY' || { not_ok "$name" "cannot split"; exit 1; }
import json, sys
page, title = sys.argv[1], sys.argv[2]
nn = page.rstrip("/").split("/")[-1]
events = json.load(open(f"{page}/timeline.json"))["traceEvents"]
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
    for lane_title, events_of in lanes:
        json.dump({"traceEvents": events_of}, open(f"{page}/lanes/{lane_title}.json", "w"))
        frames.append(
            f'<h3>{lane_title}</h3><iframe src="../speedscope/index.html#profileURL='
            f'/{nn}/lanes/{lane_title}.json&amp;title={lane_title}"></iframe>')
open(f"{page}/index.html", "w").write(
    "<!doctype html><meta charset=utf-8><title>kvmsim timeline</title><style>"
    "body{margin:4px;font:13px sans-serif}h3{margin:2px 0}"
    "iframe{width:100%;height:210px;border:1px solid #888}</style>"
    f"<h2>{title}: one speedscope lane per actor</h2>" + "".join(frames))
PY
done

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
for t in $traces; do
	nn=${t%%-*}
	out=$outdir/timeline-$nn.png
	rm -f "$out"
	timeout 120 "$chromium" --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--window-size=1400,820 --virtual-time-budget=15000 --screenshot="$out" \
		"http://127.0.0.1:$port/$nn/index.html" >"$base/chromium.log" 2>&1
	if [ -s "$out" ] && [ "$(head -c 4 "$out" | tail -c 3)" = PNG ] &&
		grep -q "GET /$nn/lanes/vcpu0.json" "$base/http.log" &&
		grep -q "GET /$nn/lanes/notifier.json" "$base/http.log"; then
		ok "$name: trace $nn ($out)"
	else
		not_ok "$name: trace $nn" "$(tail -3 "$base/chromium.log")" \
			"$(tail -3 "$base/http.log")"
	fi
done
exit $failed
