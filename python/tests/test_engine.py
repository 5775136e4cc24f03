"""The engine from Python against closed forms and the CLI."""

import csv
import math
import os

import numpy as np
import pytest

import smallsim
from conftest import LONG, SANITIZE, cli, example

RC_STEP = """rc step
V1 in 0 DC 1
R1 in out 1k
C1 out 0 100n IC=0
.tran 0.5u 500u uic
.end
"""


def test_rc_step_against_closed_form(eng):
    r = eng.run_text(RC_STEP)
    t, v = r["time"], r["v(out)"]
    assert t[-1] == pytest.approx(500e-6)
    assert np.max(np.abs(v - (1 - np.exp(-t / 1e-4)))) < 1e-3
    assert r.names[0] == "time" and np.array_equal(r.scale, t)
    # "out", "v(out)" and "V(OUT)" are the same node voltage; i(v1) is v1#branch
    assert np.array_equal(r["out"], r["V(OUT)"])
    assert np.allclose(r["i(v1)"], -(1 - v) / 1e3, atol=1e-9)
    assert r.main.type == "Transient Analysis" and "v(out)" in r and "v(nope)" not in r


def test_same_numbers_as_cli(eng, tmp_path):
    path = example("engine", "rc_pulse.cir")
    r = eng.run(path)
    out = tmp_path / "rc.csv"
    cli("spice", "run", path, "--vectors", "v(in),v(out)", "-o", out)
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["time", "v(in)", "v(out)"]
    data = np.array(rows[1:], float)
    assert np.array_equal(data[:, 0], r.scale)
    assert np.array_equal(data[:, 1], r["v(in)"])
    assert np.array_equal(data[:, 2], r["v(out)"])
    # the result's own CSV writer gives the same file
    mine = tmp_path / "mine.csv"
    r.write_csv(mine, ["v(in)", "v(out)"])
    assert mine.read_text() == out.read_text()


def test_measurements_against_closed_form(eng):
    r = eng.run(example("sweep", "rc_filter.cir"))
    # v(out) crosses 0.5 V at tau ln 2; ngspice prints 7 significant digits
    assert r.measurements["t50"] == pytest.approx(1e3 * 100e-9 * math.log(2), rel=1e-4)
    r = eng.run_text(RC_STEP.replace(".end", ".meas tran never WHEN v(out)=2 RISE=1\n"
                                             ".meas tran vend FIND v(out) AT=300u\n.end"))
    assert math.isnan(r.measurements["never"])
    assert r.measurements["vend"] == pytest.approx(1 - math.exp(-3), rel=1e-6)


def test_ac_complex_vectors(eng):
    r = eng.run_text("ac\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 100n\n"
                     ".ac dec 10 10 100k\n.end\n")
    f, v = r.scale, r["v(out)"]
    assert np.iscomplexobj(v) and not np.iscomplexobj(f)
    assert np.allclose(np.abs(v), 1 / np.sqrt(1 + (2 * np.pi * f * 1e-4) ** 2), atol=1e-9)
    df = r.to_dataframe() if _has_pandas() else None
    if df is not None:
        assert df.index.name == "frequency" and np.array_equal(df["out"].to_numpy(), v)


def _has_pandas():
    try:
        import pandas  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.mark.parametrize("text,cls,kind,line", [
    ("bad\nR1 a\n.tran 1u 1m\n.end\n", smallsim.ParseError, "SS_EPARSE", 2),
    ("bad\nV1 in 0 DC 1\n.control\nshell ls\n.endc\n.tran 1u 1m\n.end\n", smallsim.DeniedError,
     "SS_EDENIED", 3),
    ("bad\nV1 in 0 DC 1\nX1 in 0 nosuch\n.tran 1u 1m\n.end\n", smallsim.SimulationError,
     "SS_ESIM", None),
])
def test_bad_netlists_raise(eng, text, cls, kind, line):
    with pytest.raises(cls) as e:
        eng.run_text(text, name="bad.cir")
    assert e.value.kind == kind and e.value.code == getattr(smallsim.lib, kind)
    if line is not None:
        assert (e.value.file, e.value.line) == ("bad.cir", line)
        assert str(e.value).startswith("bad.cir:%d: " % line)
    assert isinstance(e.value, smallsim.Error)
    # the engine works afterwards
    assert eng.run_text(RC_STEP)["v(out)"][-1] == pytest.approx(1 - math.exp(-5), abs=1e-3)


def test_missing_file_and_vector(eng, tmp_path):
    with pytest.raises(smallsim.FileError) as e:
        eng.run(tmp_path / "none.cir")
    assert "none.cir" in e.value.message
    r = eng.run_text(RC_STEP)
    with pytest.raises(smallsim.NotFoundError):
        r["v(nowhere)"]
    with pytest.raises(smallsim.InvalidArgument):
        eng.run_text("a\0b")


EXT = """host current into an RC
I1 0 out external
R1 out 0 1k
C1 out 0 100n IC=0
.tran 1u 1m uic
.end
"""


def test_external_source_accept_and_max_step(eng):
    seen = []

    def source(name, t):
        assert name == "i1"
        return 1e-3

    def accept(t, values):
        seen.append((t, values["out"]))

    r = eng.run_text(EXT, source=source, accept=accept, max_step=lambda t: 2e-6)
    t, v = r.scale, r["v(out)"]
    # 1 mA into 1 k || 100 nF: v = 1 V (1 - exp(-t / 100 us))
    assert np.max(np.abs(v - (1 - np.exp(-t / 1e-4)))) < 1e-3
    assert np.max(np.diff(t)) <= 2e-6 * (1 + 1e-9)
    ts = np.array([s[0] for s in seen])
    assert len(seen) >= len(t) - 1 and np.all(np.diff(ts) > 0)
    k = np.searchsorted(t, ts[-1])
    assert seen[-1][1] == pytest.approx(v[k], abs=1e-12)


def test_breakpoints_and_pulse_train(eng):
    """A 1 mA pulse train (period 300 us, 120 us high) from the host, with
    breakpoints at every edge, against the exact piecewise exponential
    (the C suite's check, through Python callables)."""
    tau, period, width = 1e-4, 3e-4, 1.2e-4
    edges = [t0 + d for t0 in np.arange(0, 2e-3, period) for d in (width, period)]

    def src(name, t):
        # the point on an edge takes the value from before it (docs/engine.md)
        return 1e-3 if math.fmod(t - 1e-9 * period, period) < width else 0.0

    def exact(t):
        v, t0 = 0.0, 0.0
        while True:
            cyc = math.floor(t0 / period + 1e-12) * period
            on = t0 < cyc + width - 1e-15
            end = cyc + width if on else cyc + period
            target = 1.0 if on else 0.0
            v = target + (v - target) * math.exp(-(min(t, end) - t0) / tau)
            if t <= end:
                return v
            t0 = end

    r = eng.run_text(EXT.replace(".tran 1u 1m uic", ".tran 1u 2m uic"), source=src,
                     breakpoints=edges)
    t, v = r.scale, r["v(out)"]
    assert len(t) > 1000
    assert max(abs(v[k] - exact(t[k])) for k in range(len(t))) < 0.1e-3


def test_hook_exception_is_raised_again(eng):
    class Boom(Exception):
        pass

    calls = []

    def source(name, t):
        calls.append(t)
        if t > 1e-4:
            raise Boom("host model failed")
        return 1e-3

    with pytest.raises(Boom, match="host model failed") as e:
        eng.run_text(EXT, source=source)
    assert any("the source hook failed" in n for n in getattr(e.value, "__notes__", []))
    with pytest.raises(ZeroDivisionError):
        eng.run_text(EXT, source=lambda n, t: 1e-3, accept=lambda t, v: 1 / 0)
    # no hook left behind: the EXTERNAL source now has none
    with pytest.raises(smallsim.InvalidArgument, match="no source hook"):
        eng.run_text(EXT)
    assert eng.run_text(RC_STEP)["v(out)"][-1] > 0.99


def test_commands_and_raw(eng, tmp_path):
    eng.command("set ngbehavior=ps")
    with pytest.raises(smallsim.DeniedError, match="shell"):
        eng.command("shell ls")
    with pytest.raises(smallsim.DeniedError):
        eng.command("print v(out) > /tmp/x")
    r = eng.run_text(RC_STEP)
    r.write_raw(tmp_path / "rc.raw")
    # ngspice itself reads the raw file back
    deck = tmp_path / "load.cir"
    deck.write_text("load\n.control\nload %s\nprint v(out)[100]\n.endc\n.end\n"
                    % (tmp_path / "rc.raw"))
    import subprocess
    out = subprocess.run(["ngspice", "-b", str(deck)], capture_output=True, text=True).stdout
    got = float(out.split("v(out)[100] = ")[1].split()[0])
    assert got == pytest.approx(r["v(out)"][100], rel=1e-6)
    assert "No. of Data Rows" in eng.transcript
    # a .param syntax error is fatal in ngspice 39: the library is reloaded,
    # the error names the line, and the next run is correct
    n = eng.reloads
    with pytest.raises(smallsim.SimulationError) as e:
        eng.run_text("t\n.param x = {1+}\nR1 a 0 {x}\nV1 a 0 1\n.op\n", name="p.cir")
    assert e.value.line == 2 and eng.reloads == n + 1
    assert eng.run_text(RC_STEP)["v(out)"][-1] == pytest.approx(1 - math.exp(-5), abs=1e-3)


def test_one_engine_per_process(eng):
    with pytest.raises(smallsim.BusyError) as e:
        smallsim.Engine()
    assert e.value.kind == "SS_EBUSY"
    assert smallsim.engine() is eng


def test_isolated_runs(eng, tmp_path):
    p = tmp_path / "rc.cir"
    p.write_text(RC_STEP.replace(".end", ".meas tran vend FIND v(out) AT=300u\n.end"))
    a = smallsim.run_isolated(p)
    b = eng.run(p)
    assert np.array_equal(a["v(out)"], b["v(out)"])
    assert a.measurements == b.measurements
    slow = tmp_path / "slow.cir"
    slow.write_text("slow\nV1 in 0 SIN(0 1 1e9)\nR1 in out 1k\nC1 out 0 1p\n"
                    ".tran 1p 1m 0 1p\n.end\n")  # 1e9 steps: the limit, far over 0.5 s
    with pytest.raises(smallsim.TimeoutFailure):
        smallsim.run_isolated(slow, timeout=0.5)


@pytest.mark.skipif(SANITIZE, reason="ASan's quarantine holds freed memory")
def test_many_runs_bounded_memory(eng):
    """10,000 engine runs from Python: the resident size after run 1,000
    and after run 10,000 differ by less than 2 MB (fewer runs unless
    SS_LONG, same bound)."""
    n = 10000 if LONG or os.environ.get("SS_PY_MEMORY_RUNS") is None else \
        int(os.environ["SS_PY_MEMORY_RUNS"])
    text = "rc\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\nC1 out 0 100n\n" \
           ".tran 10u 200u\n.meas tran vend FIND v(out) AT=100u\n.end\n"
    warm = n // 10
    for _ in range(warm):
        r = eng.run_text(text)
    rss0 = smallsim.rss_kb()
    for _ in range(n - warm):
        r = eng.run_text(text)
        v = r["v(out)"]
    rss1 = smallsim.rss_kb()
    assert v[-1] > 0.8 and r.measurements["vend"] == pytest.approx(1 - math.exp(-1), rel=1e-3)
    assert rss1 - rss0 < 2048, "RSS grew by %d kB over %d runs" % (rss1 - rss0, n - warm)
