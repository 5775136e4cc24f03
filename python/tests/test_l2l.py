"""Learning to learn from Python: ask/tell, runs with a Python objective
on the worker pool (values, resume, jobs), and the library's tasks against
the CLI."""

import csv
import json
import os

import numpy as np
import pytest

import smallsim
from smallsim import lib
from conftest import cli

CENTRE = np.array([1.0, -2.0, 0.5])


def objective(x, seed):
    """A shifted sphere; the instance `seed` moves the optimum a little."""
    shift = ((seed % 1000) / 1000.0 - 0.5) * 0.1
    return float(np.sum((x - CENTRE - shift) ** 2))


PARAMS = [("a", -5, 5), ("b", -5, 5), ("c", -5, 5)]


def test_ask_tell_converges():
    opt = smallsim.Optimizer("cmaes", dim=4, seed=2, sigma0=0.3)
    target = np.array([0.3, 0.7, 0.5, 0.1])
    for _ in range(120):
        u = opt.ask()
        assert u.shape == (opt.pop, 4) and np.all((u >= 0) & (u <= 1))
        opt.tell(u, np.sum((u - target) ** 2, axis=1))
    assert opt.generation == 120 and np.min(np.sum((opt.ask() - target) ** 2, axis=1)) < 1e-8


def test_save_and_load_continue_exactly():
    a = smallsim.Optimizer("ce", dim=3, seed=5, pop=12)
    for _ in range(5):
        u = a.ask()
        a.tell(u, np.sum(u ** 2, axis=1))
    b = smallsim.Optimizer.load(a.save())
    assert b.kind == "ce" and b.generation == 5 and b.save() == a.save()
    ua, ub = a.ask(), b.ask()
    assert np.array_equal(ua, ub)


def test_grid_and_bad_settings():
    g = smallsim.Optimizer("grid", dim=2, grid_points=3, pop=4)
    seen = []
    while True:
        u = g.ask()
        if len(u) == 0:
            break
        seen += [tuple(r) for r in u]
        g.tell(u, np.zeros(len(u)))
    assert sorted(seen) == sorted((a, b) for a in (0, 0.5, 1) for b in (0, 0.5, 1))
    with pytest.raises(smallsim.InvalidArgument, match="rho"):
        smallsim.Optimizer("ce", dim=2, rho=1.5)
    with pytest.raises(smallsim.InvalidArgument, match="unknown optimizer setting"):
        smallsim.Optimizer("cmaes", dim=2, colour=1)
    with pytest.raises(smallsim.NotFoundError):
        smallsim.Optimizer("adam", dim=2)
    opt = smallsim.Optimizer("cmaes", dim=2)
    u = opt.ask()
    with pytest.raises(smallsim.InvalidArgument):
        opt.tell(u, np.full(len(u), np.nan))


def _rows(path, drop=("seconds",)):
    with open(path) as f:
        rows = list(csv.reader(f))
    keep = [k for k, name in enumerate(rows[0]) if name not in drop]
    return [[r[k] for k in keep] for r in rows]


def _checkpoint(path):
    return [ln for ln in open(path).read().splitlines() if not ln.startswith("run.files ")]


@pytest.fixture(scope="module")
def run_a(tmp_path_factory):
    d = tmp_path_factory.mktemp("l2l") / "a"
    task = smallsim.Task(objective, PARAMS, name="shifted-sphere", ntrain=2, nval=3)
    events = []
    s = smallsim.l2l(task, d, generations=8, jobs=2, seed=4, progress=events.append)
    return task, d, s, events


def test_python_objective_on_the_pool(run_a):
    task, d, s, events = run_a
    assert s["generations"] == 8 and s["failed"] == 0 and s["evals"] > 0
    assert sum(e["kind"] == "generation" for e in events) == 8
    # every evaluation's metric is the mean over that generation's training
    # instances of the objective at its parameters (recomputed here)
    with open(d / "evals.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for r in rows:
        x = np.array([float(r[n]) for n in ("a", "b", "c")])
        seeds = [lib.ss_l2l_task_seed(lib.SS_L2L_TRAIN if r["set"] == "train" else
                                      lib.SS_L2L_VAL, 4,
                                      int(r["gen"]) if r["set"] == "train" else 0, k)
                 for k in range(2 if r["set"] == "train" else 3)]
        assert float(r["metric"]) == pytest.approx(np.mean([objective(x, s_) for s_ in seeds]),
                                                   rel=1e-12, abs=1e-300)
    best = s["best"]
    assert set(best) == {"a", "b", "c"}
    assert json.loads((d / "best.json").read_text())["task"] == "shifted-sphere"
    assert s["best_val"] < objective(np.zeros(3), 0)
    # the test set, through the pool, against the objective
    x = np.array([best[n] for n in "abc"])
    want = np.mean([objective(x, lib.ss_l2l_task_seed(lib.SS_L2L_TEST, 0, 0, k))
                    for k in range(5)])
    assert smallsim.l2l_test(task, best, ntest=5, jobs=2) == pytest.approx(want, rel=1e-12)


def test_resume_and_jobs_are_bit_identical(run_a, tmp_path):
    task, a, _, _ = run_a
    b = tmp_path / "b"
    smallsim.l2l(task, b, generations=3, jobs=1, seed=4)
    with pytest.raises(smallsim.InvalidArgument, match="already holds a run"):
        smallsim.l2l(task, b, generations=8, jobs=1, seed=4)
    smallsim.l2l(task, b, generations=8, jobs=2, seed=4, resume=True)
    assert _checkpoint(a / "checkpoint") == _checkpoint(b / "checkpoint")
    assert (a / "best.json").read_text() == (b / "best.json").read_text()
    assert _rows(a / "gens.csv") == _rows(b / "gens.csv")
    assert _rows(a / "evals.csv") == _rows(b / "evals.csv")


def test_failing_objective(tmp_path):
    def picky(x, seed):
        if x[0] > 0:
            raise ValueError("a must not be positive")
        return objective(x, seed)

    s = smallsim.l2l(smallsim.Task(picky, PARAMS), tmp_path / "p", generations=3, jobs=2,
                     retries=0)
    assert 0 < s["failed"] < s["evals"]
    log = (tmp_path / "p" / "failures.log").read_text()
    assert "ValueError: a must not be positive" in log and "test_l2l.py" in log

    def never(x, seed):
        raise RuntimeError("broken objective")

    with pytest.raises(smallsim.Error, match="every evaluation failed.*broken objective"):
        smallsim.l2l(smallsim.Task(never, PARAMS), tmp_path / "n", generations=2, jobs=2,
                     retries=0)


def test_library_task_same_as_cli(tmp_path):
    s = smallsim.l2l("bbob-sphere:3", tmp_path / "py", generations=4, jobs=2)
    cli("l2l", "--task", "bbob-sphere:3", "--generations", 4, "--jobs", 2, "--no-plot", "-q",
        "-o", tmp_path / "cli")
    assert (tmp_path / "py" / "best.json").read_text() == \
        (tmp_path / "cli" / "best.json").read_text()
    assert _checkpoint(tmp_path / "py" / "checkpoint") == \
        _checkpoint(tmp_path / "cli" / "checkpoint")
    t = smallsim.Task("bbob-sphere:3")
    assert t.names == ["x0", "x1", "x2"] and t.metric == "f"
    t2 = smallsim.Task("bbob-sphere:3")
    t2.fix("x1", 0.5)
    assert [p["fixed"] for p in t2.params] == [False, True, False]
    with pytest.raises(smallsim.InvalidArgument):
        t2.fix("x2", 99)
    assert smallsim.best(tmp_path / "py" / "best.json", t) == s["best"]


def test_select_mean_or_best(tmp_path):
    # the Python option reaches the run as --select does
    smallsim.l2l("bbob-sphere:3", tmp_path / "py", generations=3, select="best")
    cli("l2l", "--task", "bbob-sphere:3", "--generations", 3, "--select", "best", "--no-plot",
        "-q", "-o", tmp_path / "cli")
    assert _checkpoint(tmp_path / "py" / "checkpoint") == \
        _checkpoint(tmp_path / "cli" / "checkpoint")
    assert "\nrun.select best\n" in (tmp_path / "py" / "checkpoint").read_text()
    smallsim.l2l("bbob-sphere:3", tmp_path / "mean", generations=3)
    assert "\nrun.select center\n" in (tmp_path / "mean" / "checkpoint").read_text()
    assert json.loads((tmp_path / "mean" / "best.json").read_text())["train"] is None
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.l2l("bbob-sphere:3", tmp_path / "bad", generations=3, select="worst")
    with pytest.raises(smallsim.InvalidArgument, match="ga has no distribution mean"):
        smallsim.l2l("bbob-sphere:3", tmp_path / "ga", generations=3, optimizer="ga",
                     select="mean")


def test_bad_tasks(tmp_path):
    with pytest.raises(smallsim.NotFoundError):
        smallsim.Task("bbob-nosuch")
    with pytest.raises(smallsim.InvalidArgument, match="lo"):
        smallsim.Task(objective, [("a", 1, -1)])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.Task(objective, [("a b", 0, 1)])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.Task(objective)
    t = smallsim.Task(objective, PARAMS)
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.l2l_test(t, [9, 0, 0])
    with pytest.raises(smallsim.InvalidArgument, match="missing"):
        smallsim.l2l_test(t, {"a": 0})
    bad = tmp_path / "best.json"
    bad.write_text('{"task": "other", "params.a": 0}\n')
    with pytest.raises(smallsim.Error) as e:
        smallsim.best(bad, t)
    assert e.value.file == str(bad)
    assert os.path.exists(bad)
