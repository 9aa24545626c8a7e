#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write the libFuzzer dictionary of the trace format: every element, attribute and value the
schema names, every yield point and every workload, as tokens a mutation can insert.

usage: make-dict.py SCHEMA.rng POINTS.c WORKLOADS-MESON.BUILD OUT.dict"""
import re
import sys

schema, points, workloads, out = sys.argv[1:5]
rng = open(schema).read()
words = set()
for name in re.findall(r'<element name="([^"]+)"', rng):
    words.update(['<' + name, '</' + name + '>', name])
for name in re.findall(r'<attribute name="([^"]+)"', rng):
    words.add(' ' + name + '="')
words.update(re.findall(r'<value>([^<]+)</value>', rng))
words.update(re.findall(r'^\s*\{ "([a-z_.]+)", "', open(points).read(), re.M))
words.update(re.findall(r"^\s*'([a-z-]+)' : '", open(workloads).read(), re.M))
words.update(['<?xml version="1.0"?>', '<!--', '-->', '/>', '0x', 'K', 'M', 'G', 'vcpu0',
              'notifier', 'vmm', 'sha256:', '&amp;', '<![CDATA['])
with open(out, 'w') as f:
    for i, word in enumerate(sorted(words)):
        escaped = word.replace('\\', '\\\\').replace('"', '\\"')
        f.write('kw%d="%s"\n' % (i, escaped))
