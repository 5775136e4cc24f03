"""ngspice through the library's engine: netlists in, numpy arrays out."""

import numpy as np

from ._core import (Callbacks, check, cstr, error_message, ffi, invalid, lib, make_error,
                    new_error, pystr)

__all__ = ["Engine", "Result", "Plot", "engine", "run_isolated"]


def _flags(allow_control=False, any_include=False, no_sandbox=False, body=False):
    f = 0
    if allow_control:
        f |= lib.SS_NETLIST_ALLOW_CONTROL
    if any_include:
        f |= lib.SS_NETLIST_ALLOW_ANY_INCLUDE
    if no_sandbox:
        f |= lib.SS_NETLIST_NO_SANDBOX
    if body:
        f |= lib.SS_NETLIST_BODY
    return f


def _vector_array(v):
    n = v.n
    re = np.frombuffer(ffi.buffer(v.re, n * 8), dtype=np.float64).copy() if n else np.zeros(0)
    if v.im != ffi.NULL:
        im = np.frombuffer(ffi.buffer(v.im, n * 8), dtype=np.float64) if n else np.zeros(0)
        # ngspice keeps an AC sweep's frequency complex; its imaginary part is 0
        if v.type == lib.SS_VT_FREQUENCY and not np.any(im):
            return re
        return re + 1j * im
    return re


class Plot:
    """One analysis' output ("tran1"): vectors by name, the scale first."""

    def __init__(self, result, cplot):
        self._result = result  # keeps the C result alive
        self._p = cplot
        self.name = pystr(cplot.name)
        self.type = pystr(cplot.type)
        self.title = pystr(cplot.title)
        self.has_scale = bool(cplot.has_scale)
        self.names = [pystr(cplot.vec[i].name) for i in range(cplot.nvec)]

    @property
    def scale(self):
        """The scale vector (time, frequency, sweep), or None for .op."""
        return _vector_array(self._p.vec[0]) if self.has_scale and self._p.nvec else None

    def __getitem__(self, name):
        v = lib.ss_plot_find(self._p, cstr(name))
        if v == ffi.NULL:
            raise make_error(lib.SS_ENOTFOUND, "no vector '%s' in plot %s (vectors: %s)"
                             % (name, self.name, ", ".join(self.names)))
        return _vector_array(v)

    def __contains__(self, name):
        return lib.ss_plot_find(self._p, cstr(name)) != ffi.NULL

    def vectors(self):
        """Every vector as {name: array} (complex for AC results)."""
        return {self.names[i]: _vector_array(self._p.vec[i]) for i in range(self._p.nvec)}

    def __repr__(self):
        return "<Plot %s (%s): %s>" % (self.name, self.type, ", ".join(self.names))


class Result:
    """Everything one run produced: `plots` in ngspice's order (the last is
    the main one, which `result[name]` and `result.scale` read), and
    `measurements`, the deck's .meas results by name (NaN when one failed;
    ngspice prints them with 7 significant digits)."""

    def __init__(self, cres, measurements):
        self._res = cres
        self.plots = [Plot(self, cres.plot + i) for i in range(cres.nplot)]
        self.measurements = measurements

    @property
    def main(self):
        return self.plots[-1]

    @property
    def scale(self):
        return self.main.scale

    @property
    def names(self):
        return self.main.names

    def __getitem__(self, name):
        v = lib.ss_result_find(self._res, cstr(name))
        if v == ffi.NULL:
            raise make_error(lib.SS_ENOTFOUND, "no vector '%s' in the result (vectors: %s)"
                             % (name, ", ".join(self.names)))
        return _vector_array(v)

    def __contains__(self, name):
        return lib.ss_result_find(self._res, cstr(name)) != ffi.NULL

    def plot(self, name):
        for p in self.plots:
            if p.name == name:
                return p
        raise make_error(lib.SS_ENOTFOUND, "no plot '%s' (plots: %s)"
                         % (name, ", ".join(p.name for p in self.plots)))

    def _names(self, names):
        if names is None:
            return ffi.NULL, 0, []
        keep = [ffi.new("char[]", cstr(n)) for n in names]
        return ffi.new("const char *[]", keep), len(keep), keep

    def write_csv(self, path, names=None, plot=None):
        """The main plot (or `plot`) as CSV, as `smallsim spice run -o x.csv` writes it."""
        p = self.plot(plot) if plot else self.main
        arr, n, keep = self._names(names)
        err = new_error()
        check(lib.ss_result_write_csv(p._p, arr, n, cstr(path), err), err)

    def write_raw(self, path, names=None):
        """Every plot as an ngspice binary raw file."""
        arr, n, keep = self._names(names)
        err = new_error()
        check(lib.ss_result_write_raw(self._res, arr, n, cstr(path), err), err)

    def to_dataframe(self, plot=None):
        """The plot's vectors as a pandas DataFrame indexed by the scale."""
        import pandas as pd
        p = self.plot(plot) if plot else self.main
        v = p.vectors()
        if p.has_scale:
            scale = p.names[0]
            return pd.DataFrame({k: a for k, a in v.items() if k != scale},
                                index=pd.Index(v[scale], name=scale))
        return pd.DataFrame({k: a for k, a in v.items()})

    def __repr__(self):
        return "<Result %s; measurements %s>" % (
            ", ".join(p.name for p in self.plots), self.measurements)


def _new_result():
    return ffi.gc(ffi.new("ss_result *"), lib.ss_result_release)


def _read_netlist(path, text, name, dir, flags):
    nl = ffi.gc(ffi.new("ss_netlist *"), lib.ss_netlist_release)
    err = new_error()
    if text is not None:
        check(lib.ss_netlist_read_string(nl, cstr(text), cstr(name),
                                         cstr(dir) if dir else ffi.NULL, flags, err), err)
    else:
        check(lib.ss_netlist_read_file(nl, cstr(path), flags, err), err)
    return nl


def _measure_names(nl):
    names = ffi.new("char ***")
    n = ffi.new("size_t *")
    err = new_error()
    check(lib.ss_netlist_measures(nl, names, n, err), err)
    out = [ffi.string(names[0][i]).decode() for i in range(n[0])]
    lib.ss_netlist_names_free(names[0], n[0])
    return out


def _measurements(names, res):
    out = {}
    for name in names:
        m = lib.ss_result_measure(res, cstr(name))
        out[name] = float(m.value) if m != ffi.NULL and m.ok else float("nan")
    return out


@ffi.def_extern()
def _py_engine_source(user, name, t, value):
    ctx = ffi.from_handle(user)
    if ctx.exc is not None:
        return -1
    try:
        value[0] = float(ctx.source(ffi.string(name).decode(), t))
        return 0
    except BaseException as e:  # noqa: B902 - every exception goes back to the caller
        ctx.fail(e)
        return -1


@ffi.def_extern()
def _py_engine_accept(user, pt):
    ctx = ffi.from_handle(user)
    if ctx.exc is not None:
        return -1
    try:
        if ctx.accept is not None:
            values = {ffi.string(pt.names[i]).decode(): pt.values[i] for i in range(pt.n)}
            r = ctx.accept(pt.t, values)
            if r is False:
                raise StopIteration("the accept hook returned False")
        return 0
    except BaseException as e:  # noqa: B902
        ctx.fail(e)
        return -1


@ffi.def_extern()
def _py_engine_max_step(user, t):
    ctx = ffi.from_handle(user)
    if ctx.exc is not None:
        return 0.0
    try:
        h = ctx.max_step(t)
        return 0.0 if h is None else float(h)
    except BaseException as e:  # noqa: B902
        ctx.fail(e)
        return 0.0


_shared = None


class Engine:
    """The process's ngspice engine (one per process: a second open while one
    exists fails with BusyError; `smallsim.engine()` returns a shared one).

    run(path) / run_text(text) read and screen a netlist, run it in this
    process and return a Result.  Co-simulation hooks (keyword arguments of
    run): `source(name, t) -> value` for EXTERNAL V/I sources (called at
    trial points too: a pure function of t and state committed in accept),
    `accept(t, values)` at every accepted point (values: {vector: value};
    return False to stop the run), `max_step(t) -> seconds or None`.  An
    exception raised in a hook stops the run and is raised again by run(),
    with the library's message added as a note."""

    def __init__(self):
        p = ffi.new("ss_engine **")
        err = new_error()
        check(lib.ss_engine_open(p, err), err)
        self._eng = p[0]

    def close(self):
        global _shared
        if self._eng is not None:
            lib.ss_engine_free(self._eng)
            self._eng = None
        if _shared is self:
            _shared = None

    def __del__(self):
        if getattr(self, "_eng", None) is not None:
            lib.ss_engine_free(self._eng)
            self._eng = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @property
    def ptr(self):
        if self._eng is None:
            raise invalid("the engine is closed")
        return self._eng

    def run(self, path, *, allow_control=False, any_include=False, source=None, accept=None,
            max_step=None, breakpoints=()):
        """Runs the netlist file `path` (screened: see docs/engine.md) and
        returns its Result."""
        nl = _read_netlist(path, None, None, None, _flags(allow_control, any_include))
        try:
            return self._run(nl, source, accept, max_step, breakpoints, str(path))
        finally:
            lib.ss_netlist_release(nl)

    def run_text(self, text, *, name="netlist.cir", dir=None, allow_control=False,
                 any_include=False, source=None, accept=None, max_step=None, breakpoints=()):
        """Runs netlist text (`name` is the file name its messages use,
        includes resolve against `dir`) and returns its Result."""
        nl = _read_netlist(None, text, name, dir, _flags(allow_control, any_include))
        try:
            return self._run(nl, source, accept, max_step, breakpoints, None)
        finally:
            lib.ss_netlist_release(nl)

    def _run(self, nl, source, accept, max_step, breakpoints, path):
        eng = self.ptr
        names = _measure_names(nl)
        err = new_error()
        ctx = None
        if source is not None or accept is not None or max_step is not None:
            ctx = Callbacks(source=source, accept=accept, max_step=max_step)
            hooks = ffi.new("ss_engine_hooks *")
            if source is not None:
                hooks.source = lib._py_engine_source
            if accept is not None:
                hooks.accept = lib._py_engine_accept
            if max_step is not None:
                hooks.max_step = lib._py_engine_max_step
            hooks.user = ctx.handle
            lib.ss_engine_set_hooks(eng, hooks)
        for t in breakpoints:
            self.breakpoint(t)
        res = _new_result()
        try:
            rc = lib.ss_engine_load(eng, nl, err)
            if not rc:
                rc = lib.ss_engine_run(eng, res, err)
        finally:
            if ctx is not None:
                lib.ss_engine_set_hooks(eng, ffi.NULL)
        if rc == lib.SS_ESIM and path and not (ctx and ctx.exc):
            raise make_error(rc, "%s: %s" % (path, error_message(err, rc)))
        check(rc, err, ctx)
        return Result(res, _measurements(names, res))

    def breakpoint(self, t):
        """A breakpoint at time t: before a run (kept for the next run) or
        from inside a hook (at once)."""
        err_rc = lib.ss_engine_breakpoint(self.ptr, float(t))
        if err_rc:
            raise make_error(err_rc, "breakpoint at t = %g refused" % t)

    def command(self, cmd, allow_unsafe=False):
        """One ngspice command from the safe set (alter, set, let, ...)."""
        err = new_error()
        check(lib.ss_engine_command(self.ptr, cstr(cmd), int(bool(allow_unsafe)), err), err)

    @property
    def transcript(self):
        """ngspice's output during the last load and run."""
        return pystr(lib.ss_engine_transcript(self.ptr))

    @property
    def reloads(self):
        """How many times the library was reloaded after a fatal error."""
        return int(lib.ss_engine_reloads(self.ptr))


def engine():
    """The shared engine of this process, opened on first use."""
    global _shared
    if _shared is None or _shared._eng is None:
        _shared = Engine()
    return _shared


def run_isolated(path=None, *, text=None, name="netlist.cir", timeout=0.0, allow_control=False,
                 any_include=False, no_sandbox=False):
    """Runs a netlist in a forked child with its own engine, confined by the
    sandbox (docs/engine.md): a hang (killed after `timeout` s, 0 = none) or
    a crash costs only the child (TimeoutFailure, CrashError)."""
    if (path is None) == (text is None):
        raise invalid("run_isolated: give a path or text=")
    nl = _read_netlist(path, text, name, None, _flags(allow_control, any_include, no_sandbox))
    try:
        names = _measure_names(nl)
        opt = ffi.new("ss_engine_child_options *")
        opt.timeout = float(timeout)
        res = _new_result()
        err = new_error()
        rc = lib.ss_engine_run_child(nl, opt, res, err)
        check(rc, err)
        return Result(res, _measurements(names, res))
    finally:
        lib.ss_netlist_release(nl)
