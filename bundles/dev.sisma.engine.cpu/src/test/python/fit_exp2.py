#!/usr/bin/env python3
"""Fits FloatMath.exp2's polynomial: 2^f = 1 + f (P1 + f (P2 + ... + f P6)) on [-1/2, 1/2].

Near-minimax in relative error by Lawson's iteratively reweighted least squares on Chebyshev points.
Prints the maximum relative error (before float32 rounding) and the coefficients as float32.
Run by hand: python3 fit_exp2.py [degree]   (FloatMath uses degree 6: 2e-9, 0.03 ulp)
"""
import sys

import numpy as np

deg = int(sys.argv[1]) if len(sys.argv) > 1 else 6
f = np.cos(np.linspace(0, np.pi, 20001)) * 0.5
y = 2.0 ** f
V = np.vstack([f ** k for k in range(1, deg + 1)]).T
w = np.ones_like(f)
for _ in range(200):
    W = w / y
    c, *_ = np.linalg.lstsq(V * W[:, None], (y - 1) * W, rcond=None)
    err = (1 + V @ c - y) / y
    w = w * np.abs(err) ** 0.5 + 1e-30
    w /= w.sum()
print("degree %d: max relative error %.3e (%.3f ulp of 2^-24)" % (deg, np.abs(err).max(), np.abs(err).max() / 2 ** -24))
for k, v in enumerate(c, 1):
    print("P%d = %rf" % (k, float(np.float32(v))))
