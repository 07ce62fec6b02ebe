"""Self instructions per request by function, from two callgrind output files.

usage: self_by_function.py A.out N_A B.out N_B [ROWS]
Prints the total user-space instructions per request of each run, then the
ROWS functions (default 30) whose self instructions per request grew most
from A to B. A callgrind file names a function once (fn=(id) name or
cfn=(id) name) and refers to it by id after; the cost line right after a
calls= line is the call's inclusive cost, not the caller's own.
"""
import collections
import re
import sys


def load(paths):
    self_c = collections.Counter(); names = {}
    for p in paths:
        fn = None; after_calls = False
        for line in open(p):
            if line.startswith('fn='):
                m = re.match(r'fn=\((\d+)\)(?: (.*))?', line.strip())
                if m.group(2): names[m.group(1)] = m.group(2)
                fn = names.get(m.group(1), m.group(1)); after_calls = False
            elif line.startswith('calls='):
                after_calls = True
            elif line and (line[0].isdigit() or line[0] in '+-*'):
                parts = line.split()
                if len(parts) >= 2 and fn is not None:
                    if after_calls: after_calls = False
                    else: self_c[fn] += int(parts[1])
            elif line.startswith('cfn='):
                m = re.match(r'cfn=\((\d+)\)(?: (.*))?', line.strip())
                if m and m.group(2): names[m.group(1)] = m.group(2)
    return self_c
a = load(sys.argv[1].split(',')); na = float(sys.argv[2])
b = load(sys.argv[3].split(',')); nb = float(sys.argv[4])
keys = set(a) | set(b)
rows = sorted(keys, key=lambda k: b[k] / nb - a[k] / na, reverse=True)
print(f"total per request: A {sum(a.values())/na:.0f}  B {sum(b.values())/nb:.0f}")
for k in rows[:int(sys.argv[5]) if len(sys.argv) > 5 else 30]:
    print(f"{a[k]/na:9.0f} {b[k]/nb:9.0f} {b[k]/nb - a[k]/na:+9.0f}  {k}")
