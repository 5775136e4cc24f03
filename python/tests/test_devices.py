"""Devices, I-V traces and variability from Python against the model
equations (docs/devices.md), the CLI and ngspice."""

import csv
import math

import numpy as np
import pytest

import smallsim
from conftest import cli


def test_models_and_presets_as_the_cli_lists_them():
    out = cli("device", "list").stdout
    names = [m["name"] for m in smallsim.models()]
    assert names == [line.split()[1].rstrip(":") for line in out.splitlines()
                     if line.startswith("model ")]
    for p in smallsim.presets():
        assert ("  %s " % p["name"]) in out and p["model"] in names
    vteam = smallsim.models()[0]
    r_on = [p for p in vteam["params"] if p["name"] == "r_on"][0]
    assert r_on["unit"] == "ohm" and r_on["default"] == 50
    assert [p for p in vteam["params"] if p["name"] == "iv"][0]["choices"][:2] == \
        ["linear", "exponential"]


def test_equations():
    # Yakopcic: i = a(V) x sinh(b V), a = a1 for V >= 0, a2 below
    d = smallsim.Device("yakopcic", a1=0.17, a2=0.3, b=0.05)
    assert d.current(0.3, 0.5) == pytest.approx(0.17 * 0.5 * math.sinh(0.05 * 0.3), rel=1e-12)
    assert d.current(-0.3, 0.5) == pytest.approx(-0.3 * 0.5 * math.sinh(0.05 * 0.3), rel=1e-12)
    # VTEAM, linear: i = v / (r_on + (r_off - r_on) x), arrays broadcast
    v = smallsim.Device("vteam", r_on="1k", r_off=100e3)
    x = np.linspace(0, 1, 5)
    assert np.allclose(v.current(0.1, x), 0.1 / (1e3 + 99e3 * x), rtol=1e-12)
    assert np.allclose(v.conductance(x, 0.1), 1 / (1e3 + 99e3 * x), rtol=1e-12)
    ev = v.evaluate(0.1, 0.25)
    assert ev["di_dv"] == pytest.approx(1 / (1e3 + 99e3 * 0.25), rel=1e-9)
    assert v["r_on"] == 1e3 and v["iv"] == "linear" and v.x_lrs == 0.0
    v["iv"] = "exponential"
    assert v.current(0.1, 0.5) == pytest.approx(0.1 * math.exp(-math.log(100) * 0.5) / 1e3,
                                                rel=1e-12)


def test_iv_same_numbers_as_cli(tmp_path):
    out = tmp_path / "iv.csv"
    cli("device", "iv", "--preset", "oblea_sine", "--wave", "sine:0.45:100", "--series", "1k",
        "--points", "501", "-o", out)
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["t", "v", "i", "x"]
    data = np.array(rows[1:], float)
    tr = smallsim.Device(preset="oblea_sine").iv("sine:0.45:100", series_r=1e3, points=501)
    assert np.array_equal(data, np.column_stack([tr.t, tr.v, tr.i, tr.x]))
    # the drive is the wave, and v + R i = drive
    assert np.allclose(tr.vs, 0.45 * np.sin(2 * np.pi * 100 * tr.t), atol=1e-12)
    assert np.allclose(tr.v + 1e3 * tr.i, tr.vs, atol=1e-9)
    assert np.allclose(smallsim.wave_value("sine:0.45:100", tr.t), tr.vs, atol=1e-15)


def test_iv_in_ngspice_and_under_a_measured_drive(eng):
    d = smallsim.Device(preset="oblea_sine")
    c = d.iv("sine:0.45:100", points=401)
    s = d.iv("sine:0.45:100", points=401, engine=eng)
    rng = np.ptp(c.i)
    assert np.sqrt(np.mean((s.i - c.i) ** 2)) / rng < 2e-3
    # the same drive as measured samples (piecewise linear, 20001 points)
    t = np.linspace(0, 0.01, 20001)
    m = d.iv((t, 0.45 * np.sin(2 * np.pi * 100 * t)))
    assert m.t.shape == t.shape
    assert np.sqrt(np.mean((np.interp(c.t, m.t, m.i) - c.i) ** 2)) / rng < 2e-3
    # another start state changes the loop
    m2 = d.iv((t, 0.45 * np.sin(2 * np.pi * 100 * t)), x0=0.5)
    assert m2.x[0] == pytest.approx(0.5) and m.x[0] == pytest.approx(d.x0)


def test_spice_text():
    d = smallsim.Device("vteam")
    text = d.spice("cell")
    assert "\n.subckt cell te be" in text.lower() and text.rstrip().lower().endswith(".ends cell")
    deck = d.netlist("sine:0.3:1meg")
    assert "vsense" in deck.lower() and ".tran" in deck.lower()


def test_bad_input():
    with pytest.raises(smallsim.NotFoundError, match="no device model 'memristor9'"):
        smallsim.Device("memristor9")
    with pytest.raises(smallsim.NotFoundError) as e:
        smallsim.Device(preset="oblea_sine", nosuch=1)
    assert "nosuch" in e.value.message and e.value.kind == "SS_ENOTFOUND"
    with pytest.raises(smallsim.InvalidArgument, match="v_on"):
        smallsim.Device("vteam", v_on=0.5)
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.Device("vteam", r_on="ten")
    with pytest.raises(smallsim.NotFoundError):
        smallsim.Device(preset="nosuch")
    d = smallsim.Device("vteam")
    with pytest.raises(smallsim.InvalidArgument) as e:
        d.iv("sine:abc:100")
    assert "abc" in e.value.message
    with pytest.raises(smallsim.InvalidArgument, match="increase"):
        d.iv(([0, 2, 1], [0, 1, 0]))
    with pytest.raises(smallsim.InvalidArgument):
        d.iv(([0, 1], [0, 1, 2]))


def test_variability_samples():
    d = smallsim.Device("vteam", r_on=1e3, r_off=100e3)
    var = smallsim.Variation(spread={"r_on": 0.25}, p_stuck_on=0.1)
    cells = d.sample(4000, var, seed=7)
    r_on = np.array([c["r_on"] for c, _ in cells])
    faults = [f for _, f in cells]
    # ln(r_on) ~ N(ln 1k, 0.25): standard error of the sd is 0.25/sqrt(2n) = 0.0028
    assert np.std(np.log(r_on)) == pytest.approx(0.25, abs=0.012)
    assert np.median(r_on) == pytest.approx(1e3, rel=0.03)
    # stuck-at-ON with p = 0.1: sd of the fraction 0.0047
    assert faults.count("stuck_on") / 4000 == pytest.approx(0.1, abs=0.02)
    assert faults.count("stuck_off") == 0
    assert all(c["r_off"] == 100e3 for c, _ in cells)
    # the same seed draws the same devices
    again = d.sample(10, var, seed=7)
    assert [c["r_on"] for c, _ in again] == list(r_on[:10])
    lit = smallsim.Variation.literature("vteam")
    assert lit.p_stuck_on == pytest.approx(0.0904) and lit.levels == 100
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.Variation(p_stuck_on=2).validate("vteam")
    with pytest.raises(smallsim.Error):
        smallsim.Variation(nosuch=1)
