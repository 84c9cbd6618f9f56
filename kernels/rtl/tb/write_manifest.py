#!/usr/bin/env python3
"""Writes <dir>/manifest.toml from <dir>/manifest.toml.in: @FILES@ becomes one
{ path, sha256 } line per RTL source (kernels/rtl/<name>), @MEASUREMENTS@ the contents of
<dir>/measurements.toml when it exists (simulated cycle counts, from `zkaccel bench` or the
zkaccel-fpga `cycles_report` test)."""
import hashlib
import os
import sys

d, sources = sys.argv[1], sys.argv[2:]
here = os.path.dirname(os.path.abspath(__file__))
lines = []
for s in sources:
    with open(os.path.join(here, "..", s), "rb") as f:
        h = hashlib.sha256(f.read()).hexdigest()
    lines.append(f'  {{ path = "kernels/rtl/{s}", sha256 = "{h}" }},')
with open(os.path.join(d, "manifest.toml.in")) as f:
    text = f.read()
meas = ""
mp = os.path.join(d, "measurements.toml")
if os.path.exists(mp):
    with open(mp) as f:
        meas = f.read().rstrip("\n")
text = text.replace("@FILES@", "\n".join(lines)).replace("@MEASUREMENTS@", meas)
with open(os.path.join(d, "manifest.toml"), "w") as f:
    f.write(text)
print(f"wrote {d}/manifest.toml ({len(lines)} sources)")
