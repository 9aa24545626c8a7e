#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Keep the documentation's commands and excerpts true: run them and compare.

In a markdown file two markers tie a fenced block to a command:

    <!-- run -->            the ```sh block below is run (a shell script); it must exit 0
    <!-- excerpt: CMD -->   the fenced block below must be exactly what CMD prints
                            (stdout and stderr; CMD may pipe through grep, sed, cut...)
    <!-- options: CMD -->   the table below lists in its first column exactly the --options
                            CMD prints (a command's --help), --help itself aside

Each file's blocks run in order, in one scratch directory laid out like the repository root
(build/kvmsim, traces/, docs/, ... are links), so a block may read what an earlier one wrote
(run.log) and commands read as a user types them from the root. In a strict file, a fenced
block that runs kvmsim without a marker is an error: every command there is run.

usage: excerpts.py --kvmsim PATH --root DIR [--update] [--strict FILE...] FILE...
TAP output; --update rewrites each excerpt with what its command prints now.
"""
import argparse
import difflib
import os
import re
import subprocess
import sys
import tempfile

RUN = re.compile(r"^<!-- run -->\s*$")
EXCERPT = re.compile(r"^<!-- excerpt: (.*) -->\s*$")
HELP_LINE = re.compile(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)")
OPTIONS = re.compile(r"^<!-- options: (.*) -->\s*$")
OPTION = re.compile(r"--[a-z][a-z0-9-]*")
FENCE = re.compile(r"^(```+)(.*)$")
KVMSIM_LINE = re.compile(r"(^|\s|/)kvmsim (run|replay|list|show|import|explore)\b")
TIMEOUT = 600


def scratch_root(root, kvmsim):
    """A directory that looks like the repository root, with build/kvmsim the binary."""
    d = tempfile.mkdtemp(prefix="kvmsim-docs.")
    for name in sorted(os.listdir(root)):
        if name in ("build", ".git") or name.startswith("build-"):
            continue
        os.symlink(os.path.join(root, name), os.path.join(d, name))
    os.mkdir(os.path.join(d, "build"))
    os.symlink(os.path.abspath(kvmsim), os.path.join(d, "build", "kvmsim"))
    return d


def run(cmd, cwd):
    env = dict(os.environ, LC_ALL="C", TZ="UTC")
    p = subprocess.run(["sh", "-c", cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=TIMEOUT)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def blocks(lines):
    """(marker kind, argument, marker line index, body start, body end) for each fenced
    block; kind is None for an unmarked one."""
    i, pending = 0, None
    while i < len(lines):
        line = lines[i]
        m_run, m_ex = RUN.match(line), EXCERPT.match(line)
        if m_run or m_ex:
            pending = ("run", None, i) if m_run else ("excerpt", m_ex.group(1), i)
            i += 1
            continue
        m = FENCE.match(line)
        if m:
            fence = m.group(1)
            j = i + 1
            while j < len(lines) and not lines[j].startswith(fence):
                j += 1
            kind, arg, at = pending if pending else (None, None, i)
            yield kind, arg, at, i + 1, j
            pending = None
            i = j + 1
            continue
        if line.strip():
            pending = None
        i += 1


def check_options(lines, at, cmd, cwd):
    """The --options of the table after line at, against those cmd prints: (missing from the
    table, not printed by cmd)."""
    table = []
    for line in lines[at + 1:]:
        if not line.startswith("|"):
            if table:
                break
            continue
        table.append(line)
    documented = set()
    for row in table[2:]:
        documented |= set(OPTION.findall(row.split("|")[1]))
    _, output = run(cmd, cwd)
    # an option is what a help line starts with, not one its description mentions
    printed = {m.group(1) for m in map(HELP_LINE.match, output.split("\n")) if m}
    printed -= {"--help", "--help-all"}
    return sorted(printed - documented), sorted(documented - printed)


def check_file(path, args, strict, counter):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    rel = os.path.relpath(path, args.root)
    cwd = scratch_root(args.root, args.kvmsim)
    failed = False
    out_lines = list(lines)
    shift = 0
    for at, line in enumerate(lines):
        m = OPTIONS.match(line)
        if not m:
            continue
        counter[0] += 1
        missing, extra = check_options(lines, at, m.group(1), cwd)
        if missing or extra:
            failed = True
            print(f"not ok {counter[0]} - {rel}:{at + 1} options table differs from "
                  f"{m.group(1)}: not in the table {missing}, not in the command {extra}")
        else:
            print(f"ok {counter[0]} - {rel}:{at + 1} options table: {m.group(1)}")
    for kind, arg, at, start, end in list(blocks(lines)):
        body = "\n".join(lines[start:end])
        where = f"{rel}:{at + 1}"
        if kind is None:
            if strict and any(KVMSIM_LINE.search(l) for l in lines[start:end]):
                counter[0] += 1
                failed = True
                print(f"not ok {counter[0]} - {where}: a kvmsim command no marker runs "
                      "(add <!-- run --> or <!-- excerpt: CMD -->)")
            continue
        counter[0] += 1
        if kind == "run":
            status, output = run(body, cwd)
            if status == 0:
                print(f"ok {counter[0]} - {where} run")
            else:
                failed = True
                print(f"not ok {counter[0]} - {where} run: exit {status}")
                for l in output.splitlines()[-10:]:
                    print(f"# {l}")
            continue
        status, output = run(arg, cwd)
        got = output.rstrip("\n").split("\n") if output.strip() else []
        want = lines[start:end]
        if args.update:
            out_lines[start + shift:end + shift] = got
            shift += len(got) - len(want)
            print(f"ok {counter[0]} - {where} excerpt updated: {arg}")
        elif got == want:
            print(f"ok {counter[0]} - {where} excerpt: {arg}")
        else:
            failed = True
            print(f"not ok {counter[0]} - {where} excerpt no longer what it prints: {arg}")
            diff = difflib.unified_diff(want, got, "doc", "command", lineterm="", n=1)
            for l in list(diff)[:30]:
                print(f"# {l}")
    if args.update:
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(out_lines))
    subprocess.run(["rm", "-rf", cwd])
    return failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kvmsim", required=True)
    ap.add_argument("--root", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--strict", nargs="*", default=[])
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    args.root = os.path.abspath(args.root)
    strict = {os.path.abspath(os.path.join(args.root, s)) for s in args.strict}
    counter, failed = [0], False
    for path in args.files:
        path = os.path.abspath(path)
        failed |= check_file(path, args, path in strict, counter)
    print(f"1..{counter[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
