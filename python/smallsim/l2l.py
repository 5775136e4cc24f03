"""Learning to learn (l2l/): ask/tell optimizers, tasks (the library's or a
Python objective) and runs on the worker pool with checkpoints."""

import os
import threading
import traceback
import warnings

import numpy as np

from ._core import (Callbacks, buf_text, check, cstr, darray, dptr, ffi, invalid, lib,
                    make_error, new_error, pystr)

__all__ = ["Optimizer", "optimizers", "Task", "task_families", "l2l", "l2l_test", "best"]

_OPT_NAMES = ("cmaes", "ce", "ga", "random", "grid")


def optimizers():
    return list(_OPT_NAMES)


def _opt_type(name):
    t = lib.ss_l2l_opt_type_find(cstr(name))
    if t == ffi.NULL:
        raise make_error(lib.SS_ENOTFOUND, "no optimizer '%s' (optimizers: %s)"
                         % (name, ", ".join(_OPT_NAMES)))
    return t


def settings_defaults():
    """Optimizer hyperparameters and their defaults (ss_l2l_opt_settings)."""
    d = lib.ss_py_l2l_settings_defaults
    return {n: getattr(d, n) for n, _ in ffi.typeof("ss_l2l_opt_settings").fields}


def _settings(settings, into=None):
    s = into if into is not None else ffi.new("ss_l2l_opt_settings *",
                                               lib.ss_py_l2l_settings_defaults)
    names = [n for n, _ in ffi.typeof("ss_l2l_opt_settings").fields]
    for k, v in settings.items():
        if k not in names:
            raise invalid("unknown optimizer setting '%s' (settings: %s)" % (k, ", ".join(names)))
        setattr(s, k, v)
    return s


class Optimizer:
    """An ask/tell optimizer over `dim` parameters normalised to [0, 1]:
    Optimizer("cmaes", dim, u0=None, seed=1, pop=0, sigma0=0.3, ...).

        while ...:
            u = opt.ask()              # (n, dim) array in [0, 1]
            opt.tell(u, f(u))          # lower is better
    save() returns the complete state as text; Optimizer.load(text) rebuilds
    it exactly."""

    def __init__(self, kind="cmaes", dim=1, u0=None, seed=1, **settings):
        t = _opt_type(kind)
        s = _settings(settings)
        up = ffi.NULL
        if u0 is not None:
            self._u0 = darray(u0, "u0", (int(dim),))
            up = dptr(self._u0)
        err = new_error()
        o = lib.ss_l2l_opt_alloc(t, int(dim), up, s, int(seed), err)
        if o == ffi.NULL:
            check(err.code or lib.SS_EINVAL, err)
        self._o = ffi.gc(o, lib.ss_l2l_opt_free)
        self.kind = kind

    @classmethod
    def load(cls, text, what="checkpoint"):
        err = new_error()
        o = lib.ss_l2l_opt_load(cstr(text), cstr(what), err)
        if o == ffi.NULL:
            check(err.code or lib.SS_EPARSE, err)
        self = cls.__new__(cls)
        self._o = ffi.gc(o, lib.ss_l2l_opt_free)
        for line in text.splitlines():
            if line.startswith("opt.type "):
                self.kind = line.split()[1]
                break
        else:
            self.kind = None
        return self

    @property
    def dim(self):
        return int(lib.ss_l2l_opt_dim(self._o))

    @property
    def pop(self):
        return int(lib.ss_l2l_opt_pop(self._o))

    @property
    def generation(self):
        return int(lib.ss_l2l_opt_generation(self._o))

    @property
    def restarts(self):
        return int(lib.ss_l2l_opt_restarts(self._o))

    @property
    def spread(self):
        return float(lib.ss_l2l_opt_spread(self._o))

    def ask(self):
        """The next generation: an (n, dim) array in [0, 1] (n = 0 once a
        grid is done)."""
        u = np.empty((max(self.pop, 1), self.dim))
        n = ffi.new("size_t *")
        err = new_error()
        check(lib.ss_l2l_opt_ask(self._o, dptr(u), n, err), err)
        return u[:n[0]].copy()

    def tell(self, u, f):
        """Reports the values f (lower is better, finite) of the asked points u."""
        u = darray(u, "u")
        f = darray(f, "f", (u.shape[0] if u.ndim == 2 else None,))
        if u.ndim != 2 or u.shape[1] != self.dim:
            raise invalid("u: shape %s, expected (n, %d)" % (u.shape, self.dim))
        err = new_error()
        check(lib.ss_l2l_opt_tell(self._o, dptr(u), dptr(f), f.size, err), err)

    def save(self):
        buf = ffi.new("ss_buf *")
        err = new_error()
        rc = lib.ss_l2l_opt_save(self._o, buf, err)
        text = buf_text(buf)
        check(rc, err)
        return text


def task_families():
    out, k = [], 0
    while lib.ss_l2l_task_family(k) != ffi.NULL:
        out.append(pystr(lib.ss_l2l_task_family(k)))
        k += 1
    return out


@ffi.def_extern()
def _py_l2l_evaluate(t, state, x, seed, metric, err):
    # Runs in a worker process forked by the pool (a copy of this
    # interpreter); an exception fails this evaluation with its message.
    task = ffi.from_handle(t.data)
    try:
        xs = np.frombuffer(ffi.buffer(x, task.n * 8), dtype=np.float64).copy()
        metric[0] = float(task.objective(xs, int(seed)))
        return 0
    except BaseException as e:  # noqa: B902
        tb = traceback.extract_tb(e.__traceback__)
        where = "%s:%d: " % (tb[-1].filename, tb[-1].lineno) if tb else ""
        msg = "%s%s: %s" % (where, type(e).__name__, e)
        lib.ss_error_set(err, lib.SS_EINVAL, b"%s", ffi.new("char[]", cstr(msg[:900])))
        return lib.SS_EINVAL


def _params(params):
    """[(name, lo, hi)], [(name, lo, hi, init)], [{name, lo, hi, init, log,
    fixed}] or {name: (lo, hi)} -> list of dicts."""
    if isinstance(params, dict):
        params = [(k,) + tuple(v) for k, v in params.items()]
    out = []
    for p in params:
        if isinstance(p, dict):
            d = dict(p)
        else:
            p = tuple(p)
            if len(p) not in (3, 4):
                raise invalid("parameter %r: (name, lo, hi[, init])" % (p,))
            d = {"name": p[0], "lo": p[1], "hi": p[2]}
            if len(p) == 4:
                d["init"] = p[3]
        extra = set(d) - {"name", "lo", "hi", "init", "log", "fixed"}
        if extra:
            raise invalid("parameter %s: unknown %s" % (d.get("name"), ", ".join(sorted(extra))))
        out.append(d)
    return out


class Task:
    """An l2l task: Task("bbob-sphere:10") (the library's families, see
    task_families()) or Task(objective, params, ...) for a Python objective
    `objective(x, seed) -> float` (x: the parameters in real units, seed: the
    task instance; lower is better).  A Python objective is evaluated in the
    worker processes the pool forks from this process (copies of this
    interpreter): it must be deterministic in (x, seed) for resumed runs to
    be bit-identical, and whatever it changes stays in the worker."""

    def __init__(self, name_or_objective, params=None, *, name="python", metric="f",
                 ntrain=1, nval=1, ntest=1):
        if isinstance(name_or_objective, str):
            if params is not None:
                raise invalid("Task(name): the library's tasks bring their own parameters")
            err = new_error()
            t = lib.ss_l2l_task_alloc(cstr(name_or_objective), err)
            if t == ffi.NULL:
                check(err.code or lib.SS_ENOTFOUND, err)
            self._t = ffi.gc(t, lib.ss_l2l_task_free)
            self.objective = None
        else:
            if not callable(name_or_objective):
                raise invalid("Task: a task name or a callable objective(x, seed)")
            if params is None:
                raise invalid("Task(objective): give params [(name, lo, hi), ...]")
            ps = _params(params)
            self.objective = name_or_objective
            self._t = ffi.new("ss_l2l_task *")
            nb = cstr(name)
            if len(nb) >= ffi.sizeof(self._t.name):
                raise invalid("task name longer than %d bytes" % (ffi.sizeof(self._t.name) - 1))
            self._t.name = nb
            self._metric = ffi.new("char[]", cstr(metric))
            self._t.metric = self._metric
            self._p = ffi.new("ss_l2l_param[]", len(ps))
            for k, p in enumerate(ps):
                pn = cstr(p["name"])
                if len(pn) >= ffi.sizeof(self._p[k].name):
                    raise invalid("parameter name '%s' is too long" % p["name"])
                self._p[k].name = pn
                self._p[k].lo, self._p[k].hi = float(p["lo"]), float(p["hi"])
                log = bool(p.get("log"))
                init = p.get("init")
                if init is None:
                    init = (np.sqrt(p["lo"] * p["hi"]) if log and p["lo"] > 0
                            else 0.5 * (p["lo"] + p["hi"]))
                self._p[k].init = float(init)
                self._p[k].flags = (lib.SS_L2L_LOG if log else 0) | \
                    (lib.SS_L2L_FIXED if p.get("fixed") else 0)
            err = new_error()
            check(lib.ss_l2l_space_check(self._p, len(ps), err), err)
            self._t.params, self._t.nparams = self._p, len(ps)
            self._t.ntrain, self._t.nval, self._t.ntest = int(ntrain), int(nval), int(ntest)
            self._t.evaluate = lib._py_l2l_evaluate
            self.n = len(ps)
            self._handle = ffi.new_handle(self)
            self._t.data = self._handle

    @property
    def name(self):
        return ffi.string(self._t.name).decode()

    @property
    def metric(self):
        return pystr(self._t.metric)

    @property
    def params(self):
        out = []
        for k in range(self._t.nparams):
            p = self._t.params[k]
            out.append({"name": ffi.string(p.name).decode(), "lo": p.lo, "hi": p.hi,
                        "init": p.init, "log": bool(p.flags & lib.SS_L2L_LOG),
                        "fixed": bool(p.flags & lib.SS_L2L_FIXED)})
        return out

    @property
    def names(self):
        return [p["name"] for p in self.params]

    def fix(self, name, value):
        """Holds parameter `name` at `value` (within its bounds)."""
        err = new_error()
        check(lib.ss_l2l_task_fix(self._t, cstr(name), float(value), err), err)

    def __repr__(self):
        return "<Task %s: %d parameters, metric %s>" % (self.name, self._t.nparams, self.metric)


def _task(t):
    return t if isinstance(t, Task) else Task(t)


@ffi.def_extern()
def _py_l2l_progress(user, ev):
    ctx = ffi.from_handle(user)
    try:
        kind = {lib.SS_L2L_EV_EVAL: "eval", lib.SS_L2L_EV_GENERATION: "generation",
                lib.SS_L2L_EV_POLISH: "polish"}.get(ev.kind, "?")
        if kind == "eval" and ev.final and ev.status and ctx.first_failure is None:
            ctx.first_failure = pystr(ev.msg)
        if ctx.progress is None or ctx.exc is not None:
            return
        d = {n: getattr(ev, n) for n, _ in ffi.typeof("ss_l2l_event").fields}
        d["kind"] = kind
        d["set"] = pystr(ev.set) if ev.set != ffi.NULL else None
        d["msg"] = pystr(ev.msg) if ev.msg != ffi.NULL else ""
        ctx.progress(d)
    except BaseException as e:  # noqa: B902
        ctx.fail(e)


def l2l(task, rundir, *, generations=50, optimizer="cmaes", seed=1, jobs=1, timeout=0.0,
        retries=2, ntrain=0, nval=0, polish=0, resume=False, plot=False, progress=None,
        select=None, **settings):
    """Runs the outer loop (`smallsim l2l`): each generation's points are
    evaluated on `jobs` worker processes, the best on validation instances,
    and RUNDIR/{gens.csv, evals.csv, best.json, checkpoint} are written after
    every generation; resume=True continues RUNDIR's checkpoint and ends
    bit-identical to an uninterrupted run.  `task`: a Task or a task name;
    `settings`: optimizer hyperparameters (pop, sigma0, restarts, ...).
    `progress(event)` gets every event (dict: kind "eval", "generation" or
    "polish", ...); an exception in it is raised when the run has ended.
    Returns a dict: the summary (generations, evals, failed, best_val,
    best_gen, polished, seconds) and best (parameters from best.json).
    `select`: the point validated after each generation, "mean" (the
    distribution's mean: the default of cmaes and ce) or "best" (the
    generation's best: the default of the others)."""
    t = _task(task)
    if t.objective is not None and threading.active_count() > 1:
        warnings.warn("smallsim.l2l forks worker processes while other Python threads run; "
                      "a thread holding a lock at the fork leaves that lock held in the workers",
                      RuntimeWarning, stacklevel=2)
    o = ffi.new("ss_l2l_options *", lib.ss_py_l2l_options_defaults)
    rd = ffi.new("char[]", cstr(os.fspath(rundir)))
    o.rundir = rd
    o.optimizer = _opt_type(optimizer)
    _settings(settings, ffi.addressof(o, "settings"))
    o.generations, o.seed, o.jobs = int(generations), int(seed), int(jobs)
    o.timeout, o.retries = float(timeout), int(retries)
    o.ntrain, o.nval, o.polish_evals = int(ntrain), int(nval), int(polish)
    o.resume, o.plot = 1 if resume else 0, 1 if plot else 0
    if select not in (None, "mean", "best"):
        raise make_error(lib.SS_EINVAL, "l2l: select %r is not 'mean' or 'best'" % (select,))
    o.select = {None: lib.SS_L2L_SELECT_AUTO, "best": lib.SS_L2L_SELECT_BEST,
                "mean": lib.SS_L2L_SELECT_CENTER}[select]
    ctx = Callbacks(progress=progress, first_failure=None)
    o.progress = lib._py_l2l_progress
    o.user = ctx.handle
    s = ffi.new("ss_l2l_summary *")
    err = new_error()
    check(lib.ss_l2l_run(t._t, o, s, err), err, ctx)
    out = {n: getattr(s, n) for n, _ in ffi.typeof("ss_l2l_summary").fields if n != "plot_msg"}
    out["plot_msg"] = ffi.string(s.plot_msg).decode()
    if s.evals and s.failed == s.evals:
        raise make_error(lib.SS_EINVAL, "l2l: every evaluation failed; the first: %s"
                         % ctx.first_failure)
    path = os.path.join(os.fspath(rundir), "best.json")
    out["best"] = best(path, t) if os.path.exists(path) else None
    return out


def best(path, task):
    """Parameters {name: value} of a best.json written by l2l() for `task`
    (checked: the task, every parameter present and within bounds)."""
    t = _task(task)
    x = np.empty(t._t.nparams)
    err = new_error()
    check(lib.ss_l2l_best_read(cstr(os.fspath(path)), t._t, dptr(x), err), err)
    return dict(zip(t.names, x.tolist()))


def l2l_test(task, x, ntest=0, jobs=1, timeout=0.0):
    """Mean metric of parameters x ({name: value} or an array in the task's
    order) over the first `ntest` test instances (0: the task's default)."""
    t = _task(task)
    if isinstance(x, dict):
        missing = [n for n in t.names if n not in x]
        if missing:
            raise invalid("x: missing %s" % ", ".join(missing))
        x = [x[n] for n in t.names]
    x = darray(x, "x", (t._t.nparams,))
    m = ffi.new("double *")
    err = new_error()
    check(lib.ss_l2l_test(t._t, dptr(x), int(ntest), int(jobs), float(timeout), m, err), err)
    return float(m[0])

