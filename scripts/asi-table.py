#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The side-by-side ASI table of docs/asi.md: one run of each workload under ASI off, the v2 API
and the critical-section API, and what each did: VM exits, asi_exits by reason, asi_enter real
and NOP, CR3 writes, flushes by kind, the cost estimate (kvmsim run --stats). Deterministic: the
same kvmsim prints the same table.

usage: asi-table.py PATH/TO/kvmsim
"""

import json
import os
import subprocess
import sys
import tempfile

# (workload, its options): small data regions keep the whole table a few seconds; stress runs
# with the migrations issue 10 names; mmio and probe exit to the VMM at every device access;
# the last row is touch again with 64 NMIs whose handlers read user memory (asi/nmi.h).
WORKLOADS = [
    ("touch", ["--mem", "4M"]),
    ("stress", ["--mem", "4M", "--host-events", "migrate=500"]),
    ("steady", ["--mem", "4M"]),
    ("faults", ["--mem", "4M"]),
    ("mmio", []),
    ("probe", []),
    ("touch", ["--mem", "4M", "--nmi", "64", "--nmi-touch", "user"]),
]
MODES = [
    ("off", ["--asi", "off"]),
    ("v2", ["--asi", "on", "--asi-api", "v2"]),
    ("critical", ["--asi", "on", "--asi-api", "critical"]),
]
# VM exits: every exit reason the run counts that leaves the guest (KVM_EXIT_* to the VMM are
# counted by the reason that caused them)
VM_EXITS = ["ept_violation", "ept_misconfig", "io", "hypercall", "hlt", "preempt"]
REASONS = ["page_fault", "user_ret", "context_switch", "tlb_flush", "misc"]


def flatten(obj, prefix=""):
    """{"asi": {"exits": {"misc": 1}}} -> {"asi.exits.misc": 1}; dotted keys stay as they are."""
    out = {}
    for key, value in obj.items():
        name = prefix + key
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def run(kvmsim, workload, options, mode, tmp):
    path = os.path.join(tmp, "%s-%d-%s.json" % (workload, len(options), mode[0]))
    cmd = [kvmsim, "run", workload] + options + mode[1] + ["--stats", path]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        sys.exit("asi-table: %s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                                     p.stdout.decode()))
    with open(path) as f:
        return flatten(json.load(f))


def cell(stats, key):
    """The value, or a dash where the run has no such key (ASI off)."""
    return str(stats[key]) if key in stats else "-"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    kvmsim = sys.argv[1]
    print("| workload | ASI | VM exits | asi_exits pf / user_ret / ctxsw / tlb / misc "
          "| asi_enter real / NOP | CR3 writes | IBPB / RSB / L1D | cost |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="asi-table.") as tmp:
        for workload, options in WORKLOADS:
            for mode in MODES:
                s = run(kvmsim, workload, options, mode, tmp)
                exits = sum(int(s.get("exits." + r, 0)) for r in VM_EXITS)
                if s.get("guest.result") != "pass":
                    sys.exit("asi-table: %s %s: the guest did not pass" % (workload, mode[0]))
                by_reason = " / ".join(cell(s, "asi.exits." + r) for r in REASONS)
                enters = "%s / %s" % (cell(s, "asi.enter.real"), cell(s, "asi.enter.nop"))
                flushes = " / ".join(cell(s, "asi.flushes." + k) for k in ("ibpb", "rsb", "l1d"))
                name = workload + (" + 64 NMIs" if "--nmi" in options else "")
                print("| %s | %s | %d | %s | %s | %s | %s | %s |" % (
                    name, mode[0], exits, by_reason, enters, cell(s, "asi.cr3_writes"),
                    flushes, cell(s, "asi.cost")))


if __name__ == "__main__":
    main()
