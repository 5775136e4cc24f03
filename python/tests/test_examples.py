"""The worked scripts in examples/python run and print what they claim."""

import os
import re
import subprocess
import sys

from conftest import ROOT


def run(script, *args):
    r = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "python", script),
                        *map(str, args)], capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_brian2_style(tmp_path):
    out = run("brian2_style.py", "-o", tmp_path)
    rates = {(m[0], int(m[1])): float(m[2])
             for m in re.findall(r"^(E|I)\s+(\d)\s+([\d.]+)", out, re.M)}
    # the stronger drive of the second run raises the excitatory rate
    assert rates[("E", 2)] > 2 * rates[("E", 1)] > 0
    m = re.search(r"v between (-?[\d.]+) and (-?[\d.]+) mV", out)
    assert -70.5 <= float(m.group(1)) and float(m.group(2)) <= -50.0
    assert (tmp_path / "spikes.csv").stat().st_size > 1000
    with open(tmp_path / "spikes.csv") as f:
        assert f.readline() == "t,population,index\n"


def test_fit_then_crossbar(tmp_path):
    out = run("fit_then_crossbar.py", "-o", tmp_path, "--quick")
    assert float(re.search(r"NRMSE ([\d.]+) \(", out).group(1)) < 0.05
    assert float(re.search(r"worst NRMSE ([\d.e+-]+)", out).group(1)) < 2e-3
    errs = [float(x) for x in re.findall(r"median ([\d.]+) %", out)]
    # line resistance adds to the error of the stored weights
    assert len(errs) == 3 and errs[0] < errs[2]
    # the pulsed row moves (by how much depends on the fitted rates), the
    # rows whose word lines stay at 0 V do not
    moved = float(re.search(r"states moved by ([\d.]+)", out).group(1))
    others = float(re.search(r"others by ([\d.e+-]+)\)", out).group(1))
    assert moved > 0.01 and others < 1e-6 * moved
    assert (tmp_path / "fit.json").exists() and ".subckt knowm" in \
        (tmp_path / "fitted.sub").read_text()
