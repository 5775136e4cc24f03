#!/usr/bin/env python3
"""Fit a memristor model to measured loops, then build a crossbar of it.

1. Fits the Yakopcic model to two measured I-V loops of one Knowm W-SDC
   device (0.8 V sine at 10 Hz and 100 Hz through 5 kOhm; data/knowm-wsdc)
   and checks the fitted subcircuit in ngspice.
2. Stores a weight matrix in a 32 x 16 crossbar of the fitted device:
   states from the weights, device-to-device spread and stuck cells from the
   literature defaults, and reads it with line resistance (the nonlinear
   solve of every cell), against the ideal matrix-vector product.
3. Writes one row with programming pulses (a memristive transient) and
   reads again.

    make python
    PYTHONPATH=build/python:python python3 examples/python/fit_then_crossbar.py -o fit-out

writes fit.json, fitted.sub and (with gnuplot) fit.png to the output folder
and prints what it measured.  --quick fits with fewer generations.
"""

import argparse
import os
import shutil
import sys

import numpy as np

import smallsim

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "knowm-wsdc")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-o", "--out", default="fit-out", help="output folder")
    ap.add_argument("--quick", action="store_true", help="a shorter global search")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)

    # ---- 1. the fit ----------------------------------------------------------
    files = [os.path.join(DATA, "r5k-0.8V-10Hz-M1.series.csv"),
             os.path.join(DATA, "r5k-0.8V-100Hz-M1.series.csv")]
    fit = smallsim.fit(files, "yakopcic", freq=[10, 100], current_scale=1e-6, series_r=5e3,
                       seed=a.seed, generations=25 if a.quick else 0)
    print("fit: yakopcic to %d loops, NRMSE %.4f (%s), %d evaluations"
          % (len(fit.files), fit.nrmse, ", ".join("%.4f" % f.nrmse for f in fit.files),
             fit.evals))
    for name, p in fit.params.items():
        if p.free:
            print("  %-7s %12.5g %-4s +- %.2g%s" % (name, p.value, p.unit, p.stderr,
                                                   "" if p.identifiable else "  (not identifiable)"))
    with open(os.path.join(a.out, "fit.json"), "w") as f:
        f.write(fit.json())
    with open(os.path.join(a.out, "fitted.sub"), "w") as f:
        f.write(fit.spice("knowm"))
    if shutil.which("gnuplot"):
        fit.plot(os.path.join(a.out, "fit.png"), "Knowm W-SDC M1,")
    # the emitted subcircuit in ngspice against the fitted curves
    eng = smallsim.engine()
    worst = 0.0
    for k, f in enumerate(fit.files):
        s = fit.run_spice(eng, k)
        worst = max(worst, np.sqrt(np.mean((s.i - f.i_model) ** 2)) / np.ptp(f.i_model))
    print("ngspice vs C on the fitted subcircuit: worst NRMSE %.2g" % worst)

    # ---- 2. a crossbar of the fitted device ------------------------------------
    dev = fit.device
    rows, cols, v_read = 32, 16, 0.05
    rng = np.random.default_rng(a.seed)
    W = rng.random((rows, cols))
    # the read conductance is linear in the state for this model
    # (i = a1 x sinh(b v)), so a weight maps to a state between 0.05 and 1
    x = 0.05 + 0.95 * W
    var = smallsim.Variation.literature("yakopcic")
    cells = dev.sample(rows * cols, var, seed=a.seed)
    grid = np.empty((rows, cols), dtype=object)
    for k, (d, fault) in enumerate(cells):
        grid[k // cols, k % cols] = d
        if fault is not None:   # a stuck device shows its end state
            x[k // cols, k % cols] = d.x_lrs if fault == "stuck_on" else 1 - d.x_lrs
    nstuck = sum(f is not None for _, f in cells)
    V = v_read * rng.random(rows)
    G0 = dev.conductance(0.05 + 0.95 * W, v_read)       # nominal devices, ideal wires
    ideal = G0.T @ V
    print("crossbar %d x %d of the fitted device (%d stuck), read at up to %g V:"
          % (rows, cols, nstuck, v_read))
    for rwire in (0.0, 1.0, 10.0):
        xb = smallsim.Crossbar(rows, cols, rwire=rwire, rsense=10.0)
        i = xb.solve_devices(grid, x, V)
        err = np.abs(i - ideal) / np.abs(ideal)
        print("  rwire %4.1f ohm: column currents %.3g..%.3g A, error vs ideal weights "
              "median %.2f %%, worst %.2f %%" % (rwire, i.min(), i.max(), 100 * np.median(err),
                                                 100 * err.max()))

    # ---- 3. write row 0 with pulses, read again --------------------------------
    xb = smallsim.Crossbar(rows, cols, rwire=1.0, rsense=10.0)
    before = xb.solve_devices(grid, x, V)
    pulses = ["0 0"] * rows
    # five 0.8 V (the measured loops' amplitude), 1 ms pulses on word line 0 (bit lines
    # grounded through rsense)
    pts = []
    for k in range(5):
        t0 = k * 2e-3
        pts += ["%g 0" % (t0 + 1e-6), "%g 0.8" % (t0 + 2e-6), "%g 0.8" % (t0 + 1e-3),
                "%g 0" % (t0 + 1e-3 + 1e-6)]
    pulses[0] = "0 0 " + " ".join(pts)
    pulses = [p if k == 0 else "0 0 1 0" for k, p in enumerate(pulses)]
    x_after = xb.tran(grid, x, pulses, 10e-3)
    after = xb.solve_devices(grid, x_after, V)
    print("pulses on row 0: its states moved by %.3f on average (others by %.2g); "
          "column currents changed by %.2f %% on average"
          % (np.mean(x_after[0] - x[0]), np.max(np.abs(x_after[1:] - x[1:])),
             100 * np.mean(np.abs(after - before) / before)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
