"""Fitting from Python: parameters recovered from a loop simulated with
known values, the same numbers as `smallsim fit`, the fitted subcircuit in
ngspice, and bad data."""

import json

import numpy as np
import pytest

import smallsim
from conftest import cli

FIX = {"an": 4000, "ap": 4000, "xn": 0.5, "xp": 0.3, "alphap": 1, "alphan": 5}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """One loop of the oblea_sine device behind 1 kOhm (t, applied v, i)."""
    d = smallsim.Device(preset="oblea_sine")
    tr = d.iv("sine:0.45:100", series_r=1e3, points=400)
    path = tmp_path_factory.mktemp("fit") / "loop.csv"
    np.savetxt(path, np.column_stack([tr.t, tr.vs, tr.i]), delimiter=",", header="t,v,i",
               comments="", fmt="%.12g")
    return d, tr, path


@pytest.fixture(scope="module")
def fitted(loop):
    d, tr, path = loop
    seen = []
    r = smallsim.fit(path, "yakopcic", series_r=1e3, generations=20, seed=3,
                     polarity="normal", fix=FIX, progress=seen.append)
    return r, seen


def test_recovers_the_parameters(loop, fitted):
    d, tr, path = loop
    r, seen = fitted
    assert r.nrmse < 1e-4 and r.files[0].nrmse == pytest.approx(r.nrmse)
    v = r.values
    # thresholds and initial state are identifiable; a1 and b only as a1 b
    # (a1 sinh(b V) ~ a1 b V at these voltages)
    assert v["vp"] == pytest.approx(d["vp"], rel=1e-3)
    assert v["vn"] == pytest.approx(d["vn"], rel=1e-3)
    assert r.files[0].x0 == pytest.approx(d.x0, rel=1e-3)
    assert v["a1"] * v["b"] == pytest.approx(d["a1"] * d["b"], rel=1e-3)
    assert all(v[k] == FIX[k] for k in FIX) and not r.params["an"].free
    assert r.params["vp"].free and r.params["vp"].unit == "V" and r.params["vp"].stderr < 1e-3
    assert r.device.model == "yakopcic" and r.device["vp"] == v["vp"]
    # the fitted curves, at the data's times
    f = r.files[0]
    assert np.allclose(f.t, tr.t, rtol=1e-9) and np.allclose(f.i, tr.i, rtol=1e-9)
    nrmse = np.sqrt(np.mean((f.i_model - f.i) ** 2)) / np.ptp(f.i)
    assert nrmse == pytest.approx(f.nrmse, rel=1e-6)
    assert {s["phase"] for s in seen} == {"global", "polish"}


def test_same_numbers_as_cli(loop, fitted, tmp_path):
    d, tr, path = loop
    r, _ = fitted
    out = tmp_path / "fit.json"
    cli("fit", "--model", "yakopcic", path, "--series", "1k", "--generations", 20, "--seed", 3,
        "--polarity", "normal", *sum([["--fix", "%s=%s" % kv] for kv in FIX.items()], []),
        "-o", out)
    want = json.loads(out.read_text())
    mine = r.to_dict()
    for k in ("seconds",):
        want.pop(k, None), mine.pop(k, None)
    assert mine == want


def test_fitted_subcircuit_in_ngspice(eng, fitted):
    r, _ = fitted
    s = r.run_spice(eng)
    f = r.files[0]
    assert np.sqrt(np.mean((s.i - f.i_model) ** 2)) / np.ptp(f.i_model) < 1e-3
    assert ".subckt fitted te be" in r.spice().lower()


def test_fit_from_arrays(loop):
    d, tr, path = loop
    data = smallsim.FitData(tr.t, tr.vs, tr.i, series_r=1e3, name="arrays")
    assert data.name == "arrays" and len(data) == 400 and data.series_r == 1e3
    r = smallsim.fit([data], "yakopcic", generations=10, seed=1, polarity="normal",
                     fix=dict(FIX, vn=d["vn"]), bounds={"vp": (0.1, 0.2)})
    assert r.nrmse < 1e-3 and r.values["vn"] == d["vn"]
    assert 0.1 <= r.values["vp"] <= 0.2


def test_bad_data(tmp_path, loop):
    bad = tmp_path / "bad.csv"
    bad.write_text("t,v,i\n0,0,0\n0.001,nan,1e-6\n")
    with pytest.raises(smallsim.ParseError) as e:
        smallsim.fit(bad)
    assert (e.value.file, e.value.line, e.value.kind) == (str(bad), 3, "SS_EPARSE")
    assert "'nan' is not a finite number" in e.value.message
    back = tmp_path / "back.csv"
    back.write_text("t,v,i\n0,0,0\n0.2,0.1,1e-6\n0.1,0.2,2e-6\n")
    with pytest.raises(smallsim.Error, match="time does not increase") as e:
        smallsim.read_data(back)
    assert e.value.line == 4
    with pytest.raises(smallsim.FileError):
        smallsim.fit(tmp_path / "none.csv")
    d, tr, path = loop
    # micro-amps read as amps: the plausibility check names the scale
    with pytest.raises(smallsim.InvalidArgument, match="current-scale"):
        smallsim.fit(path, series_r=1e3, current_scale=1e6)
    with pytest.raises(smallsim.NotFoundError):
        smallsim.fit(path, "nosuch")
    with pytest.raises(smallsim.Error, match="nosuch"):
        smallsim.fit(path, fix={"nosuch": 1})
    with pytest.raises(smallsim.InvalidArgument, match="cancelled"):
        smallsim.fit(path, series_r=1e3, generations=5, progress=lambda p: False)
    with pytest.raises(smallsim.InvalidArgument, match="polarity"):
        smallsim.fit(path, polarity="up")
