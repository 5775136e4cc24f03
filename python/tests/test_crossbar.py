"""Crossbar solves from Python against Ohm's law, the CLI and ngspice."""

import numpy as np
import pytest

import smallsim
from conftest import cli


def _write(path, a):
    np.savetxt(path, np.atleast_2d(a), delimiter=",", fmt="%.17g")


def test_ideal_wires_are_ohms_law():
    rng = np.random.default_rng(1)
    G = rng.uniform(1e-6, 1e-4, (5, 3))
    V = rng.uniform(-0.2, 0.2, 5)
    assert np.allclose(smallsim.crossbar_dc(G, V), G.T @ V, rtol=1e-12, atol=1e-18)
    # k solves at once
    Vs = rng.uniform(-0.2, 0.2, (4, 5))
    assert np.allclose(smallsim.crossbar_dc(G, Vs), Vs @ G, rtol=1e-12, atol=1e-18)


def test_line_resistance_same_numbers_as_cli(tmp_path):
    rng = np.random.default_rng(2)
    G = rng.uniform(1e-5, 1e-3, (16, 8))
    V = rng.uniform(0, 0.3, 16)
    _write(tmp_path / "g.csv", G)
    np.savetxt(tmp_path / "v.csv", V, fmt="%.17g")
    cli("crossbar", "dc", "--rows", 16, "--cols", 8, "--g-file", tmp_path / "g.csv",
        "--v-file", tmp_path / "v.csv", "--rwire", 2, "--rsource", 10, "--rsense", 5,
        "-o", tmp_path / "i.csv")
    want = np.loadtxt(tmp_path / "i.csv")
    got, vcell = smallsim.crossbar_dc(G, V, rwire=2, rsource=10, rsense=5, cell_voltages=True)
    assert np.allclose(got, want, rtol=1e-12, atol=0)
    # line resistance lowers every column's current; the cell currents sum to the outputs
    assert np.all(got < G.T @ V)
    assert np.allclose((G * vcell).sum(axis=0), got, rtol=1e-9)


def test_line_resistance_against_ngspice(eng, tmp_path):
    """The same crossbar written by `smallsim netlist crossbar` and run in
    ngspice gives the same bit-line currents."""
    rng = np.random.default_rng(3)
    G = rng.uniform(1e-5, 1e-3, (6, 4))
    V = rng.uniform(0, 0.3, 6)
    _write(tmp_path / "g.csv", G)
    np.savetxt(tmp_path / "v.csv", V, fmt="%.17g")
    cli("netlist", "crossbar", "--rows", 6, "--cols", 4, "--g-file", tmp_path / "g.csv",
        "--inputs", tmp_path / "v.csv", "--rwire", 3, "--rsense", 7, "-o", tmp_path / "xb.cir")
    r = eng.run(tmp_path / "xb.cir")
    spice = np.array([r["i(vsense%d)" % j][0] for j in range(4)])
    got = smallsim.crossbar_dc(G, V, rwire=3, rsense=7)
    assert np.allclose(np.abs(spice), got, rtol=1e-6)


def test_memristive_cells():
    d = smallsim.Device("vteam", r_on=1e3, r_off=100e3)
    x = np.array([[0.0, 0.5], [1.0, 0.25]])
    V = np.array([0.01, 0.02])
    # below the thresholds the cells are linear: i = G^T V with G = 1/R(x)
    G = 1 / (1e3 + 99e3 * x)
    assert np.allclose(smallsim.crossbar_dc(device=d, x=x, V=V), G.T @ V, rtol=1e-9)
    cells = np.array([[d, d], [d, d.copy().set(r_on=2e3)]], dtype=object)
    G[1, 1] = 1 / (2e3 + 98e3 * 0.25)
    xb = smallsim.Crossbar(2, 2)
    assert np.allclose(xb.solve_devices(cells, x, V), G.T @ V, rtol=1e-9)


def test_transient_same_numbers_as_cli(tmp_path):
    pulses = ["0 0 1u 0 1.1u 1 5u 1 5.1u 0", "0 0 2u 0 2.1u -1.5 4u -1.5 4.1u 0"]
    (tmp_path / "p.txt").write_text("\n".join(pulses) + "\n")
    x0 = np.array([[0.5, 0.5, 0.2], [0.5, 0.8, 0.5]])
    _write(tmp_path / "x0.csv", x0)
    cli("crossbar", "tran", "--rows", 2, "--cols", 3, "--preset", "vteam_demo", "--x0-file",
        tmp_path / "x0.csv", "--pulses", tmp_path / "p.txt", "--tstop", "6u", "--rwire", 1,
        "-o", tmp_path / "x.csv")
    want = np.loadtxt(tmp_path / "x.csv", delimiter=",")
    d = smallsim.Device(preset="vteam_demo")
    got = smallsim.crossbar_tran(d, x0, pulses, 6e-6, rwire=1)
    assert np.array_equal(got, want)
    # the same sources as arrays
    arrays = []
    for p in pulses:
        v = np.array([smallsim.spice_number(s) for s in p.split()])
        arrays.append((v[0::2], v[1::2]))
    assert np.array_equal(smallsim.crossbar_tran(d, x0, arrays, 6e-6, rwire=1), got)
    # states moved: +1 V drives VTEAM towards OFF (x up), -1.5 V towards ON
    assert np.all(got[0] >= x0[0]) and np.all(got[1] <= x0[1]) and not np.array_equal(got, x0)


def test_bad_input():
    with pytest.raises(smallsim.InvalidArgument, match="rwire"):
        smallsim.crossbar_dc(np.ones((2, 2)), [1, 1], rwire=-1)
    with pytest.raises(smallsim.InvalidArgument, match="shape"):
        smallsim.crossbar_dc(np.ones((2, 2)), [1, 1, 1])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.crossbar_dc(np.ones((2, 2)) * -1, [1, 1])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.crossbar_dc([["a", "b"]], [1])
    d = smallsim.Device("vteam")
    with pytest.raises(smallsim.InvalidArgument, match="increasing"):
        smallsim.crossbar_tran(d, np.zeros((1, 1)), [([0, 2, 1], [0, 1, 0])], 1e-6)
    with pytest.raises(smallsim.InvalidArgument, match="2 sources for 1"):
        smallsim.crossbar_tran(d, np.zeros((1, 1)), ["0 0 1 1", "0 0 1 1"], 1e-6)
