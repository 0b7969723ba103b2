#!/usr/bin/env python3
"""Writes examples/data/regression.csv: 500 rows of x1, x2 uniform in [-2, 2] and
y = 2 x1 - x2^2 + 0.5 sin(3 x1) + N(0, 0.1^2), seeded, so the file is reproducible."""
import math
import random
import sys

rng = random.Random(20261123)
out = open(sys.argv[1] if len(sys.argv) > 1 else "examples/data/regression.csv", "w")
out.write("x1,x2,y\n")
for _ in range(500):
    x1, x2 = rng.uniform(-2, 2), rng.uniform(-2, 2)
    y = 2 * x1 - x2 * x2 + 0.5 * math.sin(3 * x1) + rng.gauss(0, 0.1)
    out.write(f"{x1:.5f},{x2:.5f},{y:.5f}\n")
