"""Sweeps from Python against the closed form and the CLI."""

import math

import numpy as np
import pytest

import smallsim
from conftest import cli, example

RC = example("sweep", "rc_filter.cir")


def test_axis_values():
    assert np.allclose(smallsim.axis_values("log:1k:100k:3"), [1e3, 1e4, 1e5])
    assert np.allclose(smallsim.axis_values("lin:0:1:5"), [0, 0.25, 0.5, 0.75, 1])
    assert np.allclose(smallsim.axis_values("list:1k,4.7u"), [1e3, 4.7e-6])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.axis_values("log:1k:-1:3")
    with pytest.raises(smallsim.InvalidArgument, match="distribution"):
        smallsim.axis_values("gauss:1:0.1")


def test_sweep_closed_form_and_cli(tmp_path):
    seen = []
    df = smallsim.sweep(RC, {"rr": "log:1k:100k:5", "cc": "list:10n,100n"},
                        measures=["tran vend FIND v(out) AT=100u"], jobs=2,
                        progress=seen.append)
    assert len(df) == 10 and len(seen) == 10 and seen[-1]["done"] == 10
    rr, cc = np.asarray(df["rr"], float), np.asarray(df["cc"], float)
    # v(out) crosses 0.5 V at tau ln 2 (if before the end, 500 us);
    # v(100 us) = 1 - exp(-100 us / tau); ngspice prints 7 digits
    tau = rr * cc
    ok = tau * math.log(2) < 500e-6
    assert list(df["status"]) == ["ok" if k else "meas-failed" for k in ok]
    assert np.allclose(np.asarray(df["t50"], float)[ok], tau[ok] * math.log(2), rtol=1e-5)
    assert np.allclose(np.asarray(df["vend"], float), 1 - np.exp(-100e-6 / tau), rtol=1e-4,
                       atol=1e-9)
    # the CLI writes the same rows (but the seconds column)
    out = tmp_path / "cli.csv"
    cli("sweep", RC, "--param", "rr=log:1k:100k:5", "--param", "cc=list:10n,100n",
        "--measure", "tran vend FIND v(out) AT=100u", "-o", out, "-q")
    want = smallsim.read_table(out, dataframe=False)
    # rows are appended as jobs end: compare in job order
    mine_order, want_order = np.argsort(np.asarray(df["job"])), np.argsort(want["job"])
    for col in ("job", "status", "rr", "cc", "seed", "t50", "vend"):
        a, b = np.asarray(df[col])[mine_order], np.asarray(want[col])[want_order]
        if a.dtype.kind == "f":
            assert np.array_equal(np.isnan(a), np.isnan(b)) and \
                np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]), col
        else:
            assert list(a) == list(b), col
    summary = df.attrs["summary"] if hasattr(df, "attrs") else df.summary
    assert summary["total"] == 10 and summary["ok"] + summary["meas-failed"] == 10


def test_failed_measurement_and_monte_carlo(tmp_path):
    t = smallsim.sweep(RC, ["rr=list:1k,1e9"], out=tmp_path / "r.csv", dataframe=False)
    assert isinstance(t, smallsim.Table)
    assert list(t["status"]) == ["ok", "meas-failed"] and math.isnan(t["t50"][1])
    assert t.summary["meas-failed"] == 1
    assert (tmp_path / "r.csv").exists()
    mc = smallsim.sweep(RC, {"rr": "gauss:1k:50"}, mode="mc", samples=40, seed=3, jobs=2,
                        dataframe=False)
    rr = mc["rr"]
    assert len(rr) == 40 and abs(np.mean(rr) - 1e3) < 4 * 50 / math.sqrt(40)
    assert np.allclose(mc["t50"], rr * 100e-9 * math.log(2), rtol=1e-5)


def test_bad_input(tmp_path):
    with pytest.raises(smallsim.Error) as e:
        smallsim.sweep(RC, {"nosuch": "list:1,2"})
    assert "nosuch" in e.value.message
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.sweep(RC, {"rr": "log:1k"})
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.sweep(RC, {"rr": "list:1k"}, mode="sobol")
    with pytest.raises(smallsim.FileError):
        smallsim.sweep(tmp_path / "none.cir", {"rr": "list:1k"})

    def boom(p):
        raise RuntimeError("progress failed")

    with pytest.raises(RuntimeError, match="progress failed"):
        smallsim.sweep(RC, {"rr": "list:1k,2k"}, progress=boom)
