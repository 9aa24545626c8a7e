#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turn kvmsim's --log-format ftrace log into what captures pasted into bug reports look like.

usage: damage.py MODE IN OUT, MODE one of:
  wrap        soft-wrap every line at 72 columns, at a space, as a mail client does
  elide       runs of kvmsim's own sim_switch lines become "..." or "....", and a "--" goes
              between every 40 lines
  interleave  a sched_switch and an irq_handler_entry line after every 7th line
  pf-gen1     kvm_page_fault as kernels before v5.x print it: "address %lx error_code %x"
  pf-gen2     kvm_page_fault as "vcpu %u rip 0x%lx address 0x%lx error_code %x"
  amd         SVM exit names (npf, hlt, io, hypercall, interrupt) and NPF error codes
  raw         tracefs's raw trace layout: a flags column, unpadded event names
  quote       every line quoted with "> " (a reply)
  qemu        QEMU's task names and pids: "CPU 0/KVM-4243" for vcpu0, "qemu-system-x86-4242"
              for the other actors
Every mode keeps each kvm event's meaning: the importer must read the same exits from it.
"""
import re
import sys

PREFIX = re.compile(r"^(\s*.+-\d+\s+\[\d+\]\s+)(\d+\.\d+): (\w+):\s+(.*)$")


def wrap(lines):
    out = []
    for line in lines:
        while len(line) > 72:
            cut = line.rfind(" ", 0, 72)
            if cut <= 0:
                break
            out.append(line[:cut])
            line = line[cut + 1:]
        out.append(line)
    return out


def elide(lines):
    out, run = [], 0
    for i, line in enumerate(lines):
        if " sim_switch: " in line:
            run += 1
            continue
        if run:
            out.append("...." if run % 2 else "...")
            run = 0
        if i and i % 40 == 0:
            out.append("--")
        out.append(line)
    return out


def interleave(lines):
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        m = PREFIX.match(line)
        if m and i % 7 == 6:
            ts = m.group(2)
            out.append("          <idle>-0     [003] %12s: %-21s prev_comm=swapper/3 "
                       "prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=qemu next_pid=77 "
                       "next_prio=120" % (ts, "sched_switch:"))
            out.append("          <idle>-0     [003] %12s: %-21s irq=24 name=eth0"
                       % (ts, "irq_handler_entry:"))
    return out


def rewrite_pf(lines, gen):
    pf = re.compile(r"kvm_page_fault: +vcpu (\d+) rip 0x([0-9a-f]+) address 0x([0-9a-f]+) "
                    r"error_code 0x([0-9a-f]+)")
    out = []
    for line in lines:
        m = pf.search(line)
        if m:
            addr = "%x" % int(m.group(3), 16)
            if gen == 1:
                body = "address %s error_code %s" % (addr, m.group(4))
            else:
                body = "vcpu %s rip 0x%s address 0x%s error_code %s" % (
                    m.group(1), m.group(2), addr, m.group(4))
            line = line[:m.start()] + "kvm_page_fault:       " + body
        out.append(line)
    return out


def amd(lines):
    names = {"EPT_VIOLATION": "npf", "HLT": "hlt", "IO_INSTRUCTION": "io",
             "VMCALL": "hypercall", "EXTERNAL_INTERRUPT": "interrupt"}
    pf = re.compile(r"(kvm_page_fault: .*error_code 0x)([0-9a-f]+)")
    out = []
    for line in lines:
        m = re.search(r" reason (\w+) rip ", line)
        if m and m.group(1) in names:
            line = line.replace(" reason %s " % m.group(1), " reason %s " % names[m.group(1)])
        m = pf.search(line)
        if m:
            qual = int(m.group(2), 16)
            # VMX exit qualification to the NPF error code: write bit 1, fetch bit 4, user
            code = (0x2 if qual & 2 else 0) | (0x10 if qual & 4 else 0) | 0x4
            line = line[:m.start(2)] + "%x" % code
        out.append(line)
    return out


def raw(lines):
    out = []
    for line in lines:
        m = PREFIX.match(line)
        if m:
            line = "%s..... %s: %s: %s" % (m.group(1), m.group(2), m.group(3), m.group(4))
        out.append(line)
    return out


def qemu(lines):
    task = re.compile(r"^(\s*)(\S+)-(\d+)(\s+\[)")
    out = []
    for line in lines:
        m = task.match(line)
        if m:
            v = re.match(r"vcpu(\d+)$", m.group(2))
            comm, pid = ("CPU %s/KVM" % v.group(1), 4243 + int(v.group(1))) if v else \
                ("qemu-system-x86", 4242)
            line = "%16s-%-5d%s" % (comm, pid, line[m.end(3):])
        out.append(line)
    return out


def main():
    mode, src, dst = sys.argv[1:4]
    with open(src) as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    fn = {"wrap": wrap, "elide": elide, "interleave": interleave,
          "pf-gen1": lambda l: rewrite_pf(l, 1), "pf-gen2": lambda l: rewrite_pf(l, 2),
          "amd": amd, "raw": raw, "quote": lambda l: ["> " + x for x in l], "qemu": qemu}[mode]
    with open(dst, "w") as f:
        f.write("\n".join(fn(lines)) + "\n")


main()
