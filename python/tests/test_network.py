"""Networks from Python objects and from experiment files, against closed
forms and the CLI."""

import csv
import math

import numpy as np
import pytest

import smallsim
from conftest import cli

LIF = smallsim.lif_defaults()


def lif_isi(p, i):
    ri = p["r_m"] * i
    return p["t_ref"] + p["tau_m"] * math.log((ri - (p["v_reset"] - p["v_rest"]))
                                              / (ri - (p["v_th"] - p["v_rest"])))


def test_lif_spike_times_closed_form():
    net = smallsim.Network()
    n = net.lif("n", 3, bias=[0.2385e-9, 0.3e-9, 0.1e-9], v_reset=-65e-3)
    net.run(1.0)
    p = dict(LIF, v_reset=-65e-3)
    for k, i in enumerate([0.2385e-9, 0.3e-9]):
        t = n.spikes[0][n.spikes[1] == k]
        ri = p["r_m"] * i
        assert t[0] == pytest.approx(p["tau_m"] * math.log(ri / (ri - 20e-3)), abs=1e-9)
        assert np.allclose(np.diff(t), lif_isi(p, i), atol=1e-9)
    # 0.1 nA * 100 MOhm = 10 mV < 20 mV: never fires
    assert n.count[2] == 0 and n.count.sum() == n.nspikes == len(n.spikes[0])
    assert n.rate() == pytest.approx(n.nspikes / 3.0)


def test_recorded_states_closed_form():
    net = smallsim.Network(dt=1e-4)
    n = net.lif("n", 2, bias=[0.1e-9, 0.15e-9])
    mon = n.record([0, 1], dt=1e-3)
    net.run(0.2)
    t, v = mon.t, mon.values
    assert v.shape == (2, len(t)) and t[0] == 0 and np.allclose(np.diff(t), 1e-3)
    for k, i in enumerate([0.1e-9, 0.15e-9]):
        exact = LIF["v_rest"] + LIF["r_m"] * i * (1 - np.exp(-t / LIF["tau_m"]))
        assert np.max(np.abs(v[k] - exact)) < 1e-9
    tt, vv = mon[1]
    assert np.array_equal(vv, v[1])


def test_bias_between_runs():
    net = smallsim.Network()
    n = net.lif("n", 1)
    net.run(0.1)
    assert n.nspikes == 0 and net.t == pytest.approx(0.1)
    n.set_bias(0.3e-9)
    net.run(0.4)
    t = n.spikes[0]
    ri = LIF["r_m"] * 0.3e-9
    assert t[0] == pytest.approx(0.1 + LIF["tau_m"] * math.log(ri / (ri - 20e-3)), abs=1e-9)
    assert np.allclose(np.diff(t), lif_isi(LIF, 0.3e-9), atol=1e-9)


def _random_net(seed=5):
    rng = np.random.default_rng(seed)
    net = smallsim.Network(seed=seed)
    inp = net.poisson("in", 50, 20.0)
    exc = net.lif("exc", 100, bias=rng.uniform(0.17e-9, 0.21e-9, 100), a=1e-12, tau_w=0.1)
    i = rng.integers(0, 50, 1000)
    j = rng.integers(0, 100, 1000)
    net.connect(inp, exc, i, j, w=20e-12, delay=1e-3)
    i = rng.integers(0, 100, 2000)
    j = rng.integers(0, 100, 2000)
    net.connect("exc", "exc", i, j, w=rng.lognormal(np.log(5e-12), 0.3, 2000),
                delay=rng.choice([1e-3, 2e-3], 2000))
    exc.record([0, 7], dt=2e-4)
    return net


def test_continued_runs_equal_one_run():
    a = _random_net()
    a.run(0.1)
    a.run(0.05)
    a.run(until=0.2)
    b = _random_net()
    b.run(0.2)
    for x, y in zip(a.spikes(), b.spikes()):
        assert np.array_equal(x, y)
    for x, y in zip(a.samples(), b.samples()):
        assert np.array_equal(x, y)
    t, pop, idx = b.spikes()
    assert len(t) > 100 and set(np.unique(pop)) == {0, 1}
    assert np.all(t > 0) and np.all(t <= 0.2)
    assert b.stats()["steps"] > 0


SMALL = """# balanced.yaml, smaller: Poisson input, a memristive crossbar, random synapses
duration: 0.5
dt: 1e-4
seed: 3
populations:
  - {name: input, kind: poisson, n: 20, rate: 40}
  - {name: exc, kind: lif, n: 80, params: {tau_m: 20m, t_ref: 2m}, bias: {uniform: [0.17n, 0.21n]}}
  - {name: inh, kind: lif, n: 20, params: {tau_m: 10m, t_ref: 1m}, bias: {uniform: [0.17n, 0.21n]}}
projections:
  - {from: input, to: exc, kind: crossbar, g: {lognormal: [20u, 0.3]}, rwire: 2,
     rsource: 10, rsense: 10, v_read: 0.1, t_read: 50n, delay: 1m}
  - {from: exc, to: exc, kind: random, indegree: 8, weight: {lognormal: [80p, 0.3]}, delay: 1.5m}
  - {from: exc, to: inh, kind: random, indegree: 8, weight: {lognormal: [80p, 0.3]}, delay: 1m}
  - {from: inh, to: exc, kind: random, indegree: 2, weight: -400p, delay: 1m}
record:
  states: [{population: exc, neurons: [0, 1, 2], dt: 1e-4}]
"""


def test_experiment_same_spikes_as_cli(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(SMALL)
    cli("run", path, "-o", tmp_path / "out", "--tstop", "0.1", "-q")
    with open(tmp_path / "out" / "spikes.csv") as f:
        rows = list(csv.reader(f))[1:]
    net = smallsim.Network.from_file(path)
    assert net.experiment == {"duration": 0.5, "dt": 1e-4, "rtol": 1e-6, "seed": 3,
                              "solver": "adams"}
    assert [p.name for p in net.populations] == ["input", "exc", "inh"]
    net.run(0.1)
    t, pop, idx = net.spikes()
    assert len(t) > 200
    names = [p.name for p in net.populations]
    # the CLI writes the spikes sorted by time
    order = np.lexsort((np.arange(len(t)), t))
    assert [(float(r[0]), r[1], int(r[2])) for r in rows] == \
        [(t[k], names[pop[k]], int(idx[k])) for k in order]
    net.write_spikes(tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_text() == (tmp_path / "out" / "spikes.csv").read_text()
    net.write_states(tmp_path / "st.csv")
    assert (tmp_path / "st.csv").read_text() == (tmp_path / "out" / "states.csv").read_text()
    # another seed, another network
    other = smallsim.Network.from_file(path, seed=4)
    other.run(0.1)
    assert not np.array_equal(other.spikes()[0], t)


def test_spike_sources():
    net = smallsim.Network()
    src = net.times("src", 3, [2, 0, 1, 0], [0.03, 0.01, 0.02, 0.005])
    reg = net.regular("reg", 2, 100.0, phase=1e-3, stagger=2e-3)
    tgt = net.lif("tgt", 1)
    net.connect(src, tgt, [0, 1, 2], [0, 0, 0], w=[1e-9, 1e-9, 1e-9])
    mon = tgt.record([0])
    net.run(0.05)
    t, i = src.spikes
    assert list(zip(np.round(t, 12), i)) == [(0.005, 0), (0.01, 0), (0.02, 1), (0.03, 2)]
    t, i = reg.spikes
    want = sorted([(1e-3 + k * 2e-3 + m / 100.0, k) for k in range(2) for m in range(5)])
    assert np.allclose(t, [w[0] for w in want], atol=1e-12)
    # each input spike arrives one exchange step later and lifts v
    ts, v = mon.t, mon.values[0]
    assert v[np.searchsorted(ts, 0.0051)] == pytest.approx(LIF["v_rest"])
    assert v[np.searchsorted(ts, 0.0063)] > LIF["v_rest"] + 1e-3


def test_dpi_rate_matches_simulation():
    net = smallsim.Network()
    n = net.dpi("dpi", 1, bias=8e-9)
    net.run(0.2)
    t = n.spikes[0]
    rate = smallsim.dpi_rate(8e-9)
    assert smallsim.dpi_rate(2e-9) == 0 and rate > 100
    assert len(t) > 5 and 1 / np.mean(np.diff(t[2:])) == pytest.approx(rate, rel=0.01)


def test_memristive_crossbar():
    d = smallsim.Device("vteam", r_on=10e3, r_off=1e6)
    net = smallsim.Network(seed=2)
    pre = net.poisson("pre", 4, 50.0)
    post = net.lif("post", 3, bias=0.19e-9)
    x0 = np.full((4, 3), 0.5)
    proj = net.connect_memristive(pre, post, d, x0=x0, v_read=0.1, t_read=50e-9, delay=1e-3)
    x, g = net.crossbar_states(proj)
    assert np.array_equal(x, x0)
    assert np.allclose(g, d.conductance(x0, 0.1), rtol=1e-12)
    # a learning crossbar moves its states
    net2 = smallsim.Network(seed=2)
    pre = net2.poisson("pre", 4, 200.0)
    post = net2.lif("post", 3, bias=0.25e-9)
    proj = net2.connect_memristive(pre, post, d, x0=x0, rule={
        "v_set": -1.0, "v_reset": 0.5, "t_write": 1e-6, "tau_plus": 20e-3, "tau_minus": 20e-3})
    net2.run(0.2)
    x2, g2 = net2.crossbar_states(proj)
    assert not np.array_equal(x2, x0) and np.all((x2 >= 0) & (x2 <= 1))
    assert np.allclose(g2, d.conductance(x2, 0.1), rtol=1e-9)


def test_spice_tile(eng):
    """A SPICE tile in the engine: three 'neurons' whose spike nodes follow a
    0 -> 1 V step of 1 ns at 5 us; each crosses 0.5 V once, at 5.0005 us on
    the linear interpolation (the C suite's check, through Python)."""
    body = "vstep s 0 PULSE(0 1 5u 1n 1n 1 2)\n" + "".join(
        "iext%d 0 a%d external\nra%d a%d 0 1k\ne%d n%d 0 s 0 1\n" % ((k,) * 6) for k in range(3))
    net = smallsim.Network(dt=10e-6)
    tile = net.spice("steps", 3, body, ["v(n%d)" % k for k in range(3)], threshold=0.5,
                     tau_syn=5e-3, tmax=1e-6)
    assert tile.kind == "spice"
    net.run(20e-6, engine=eng)
    t, i = tile.spikes
    assert sorted(i) == [0, 1, 2] and np.allclose(t, 5.0005e-6, atol=1e-12)


def test_summary_file(tmp_path):
    net = smallsim.Network()
    net.lif("a", 2, bias=0.3e-9)
    net.run(0.1)
    net.write_summary(tmp_path / "s.json", seconds=1.5)
    import json
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["populations"][0]["name"] == "a" and s["populations"][0]["spikes"] == \
        len(net.spikes()[0])


def test_dataframe():
    pd = pytest.importorskip("pandas")
    net = smallsim.Network()
    net.lif("a", 2, bias=0.3e-9)
    net.run(0.1)
    df = net.spikes_dataframe()
    assert isinstance(df, pd.DataFrame) and list(df.columns) == ["t", "population", "index"]
    assert set(df["population"]) == {"a"} and len(df) == len(net.spikes()[0])


def test_bad_input(tmp_path):
    net = smallsim.Network()
    with pytest.raises(smallsim.NotFoundError, match="tau_x"):
        net.lif("a", 2, tau_x=1)
    with pytest.raises(smallsim.InvalidArgument, match="may only use"):
        net.lif("a b", 2)
    net.lif("a", 2)
    with pytest.raises(smallsim.InvalidArgument, match="exists already"):
        net.lif("a", 2)
    src = net.poisson("p", 2, 10)
    with pytest.raises(smallsim.InvalidArgument, match="spike source"):
        net.connect("a", src, [0], [0], w=1e-12)
    with pytest.raises(smallsim.InvalidArgument):
        net.connect("a", "a", [0, 1], [0], w=1e-12)
    with pytest.raises(smallsim.InvalidArgument):
        net.connect("a", "a", [-1], [0], w=1e-12)
    with pytest.raises(smallsim.NotFoundError):
        net["nosuch"]
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.Network(solver="euler")
    other = smallsim.Network()
    with pytest.raises(smallsim.InvalidArgument, match="another network"):
        net.connect(other.lif("b", 1), "a", [0], [0], w=1e-12)
    net.run(0.01)
    with pytest.raises(smallsim.InvalidArgument, match="before the run"):
        net.lif("late", 1)
    with pytest.raises(smallsim.InvalidArgument, match="before the current time"):
        net.run(until=0.001)
    bad = tmp_path / "bad.yaml"
    bad.write_text("duration: 0.1\npopulations:\n  - {name: a, kind: lif, n: 2, "
                   "params: {tau_q: 1}}\n")
    with pytest.raises(smallsim.Error) as e:
        smallsim.Network.from_file(bad)
    assert e.value.file == str(bad) and e.value.line == 3 and "tau_q" in e.value.message

    def stop(t, tstop, spikes):
        return t < 0.005

    net2 = smallsim.Network()
    net2.lif("a", 1)
    with pytest.raises(smallsim.InvalidArgument, match="stopped"):
        net2.run(0.02, progress=stop)

    def boom(t, tstop, spikes):
        raise KeyError("from the progress callback")

    with pytest.raises(KeyError, match="from the progress callback"):
        net2.run(0.02, progress=boom)
