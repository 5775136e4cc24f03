"""Fitting memristor models to measured I-V loops (fit/)."""

import json
import os
from collections import namedtuple

import numpy as np

from ._core import (Callbacks, buf_text, check, cstr, darray, dptr, ffi, invalid, lib,
                    make_error, new_error, pystr)
from .devices import Device, _trace, _type

__all__ = ["FitData", "FitResult", "FitParam", "FitFile", "read_data", "fit"]

FitParam = namedtuple("FitParam", "name unit value stderr lo hi free at_bound identifiable")
FitParam.__doc__ = "One parameter of a fit: value and standard error (inf: undetermined)."


def _arr(p, n):
    return np.frombuffer(ffi.buffer(p, n * 8), dtype=np.float64).copy() if n else np.zeros(0)


class FitData:
    """One measured loop: time t (s), applied voltage v (across series
    resistor + device, V), current i (A), the series resistance (ohm).
    FitData(t, v, i, series_r=5e3) from arrays (t None with freq > 0: one
    period of n samples), or read_data(path, ...)."""

    def __init__(self, t=None, v=None, i=None, *, series_r=0.0, freq=0.0, name="data"):
        self._d = ffi.gc(ffi.new("ss_fit_data *"), lib.ss_fit_data_release)
        if v is None:
            return
        v = darray(v, "v", (None,))
        i = darray(i, "i", v.shape)
        tp = ffi.NULL
        if t is not None:
            t = darray(t, "t", v.shape)
            tp = dptr(t)
        err = new_error()
        check(lib.ss_fit_data_set(self._d, cstr(name), v.size, tp, dptr(v), dptr(i), float(freq),
                                  float(series_r), err), err)

    @property
    def name(self):
        return pystr(self._d.name)

    @property
    def t(self):
        return _arr(self._d.t, self._d.n)

    @property
    def v(self):
        return _arr(self._d.v, self._d.n)

    @property
    def i(self):
        return _arr(self._d.i, self._d.n)

    @property
    def series_r(self):
        return float(self._d.series_r)

    def check(self):
        """Plausibility (ss_fit_data_check): samples, variation, current scale."""
        err = new_error()
        check(lib.ss_fit_data_check(self._d, err), err)

    def __len__(self):
        return int(self._d.n)


def read_data(path, *, columns=None, freq=0.0, current_scale=1.0, series_r=0.0,
              series_column=False, check_data=True):
    """Reads a measured loop (ss_fit_data_read: header or `columns`
    "t,v,i", freq for files without time, current_scale, series_r or
    series_column); errors name the file and line."""
    d = FitData()
    o = ffi.new("ss_fit_read_options *")
    keep = cstr(columns) if columns else None
    o.columns = keep if keep else ffi.NULL
    o.freq, o.current_scale, o.series_r = float(freq), float(current_scale), float(series_r)
    o.series_column = 1 if series_column else 0
    err = new_error()
    check(lib.ss_fit_data_read(d._d, cstr(os.fspath(path)), o, err), err)
    if check_data:
        d.check()
    return d


class FitFile:
    """A fitted file: name, x0 (and x0_stderr), nrmse, series_r, and the
    curves at the data's times: t, v (applied), i (measured), i_model,
    v_device, x (model state)."""

    def __init__(self, cf, data):
        self.name = pystr(cf.name)
        self.x0, self.x0_stderr, self.x0_free = cf.x0, cf.x0_stderr, bool(cf.x0_free)
        self.nrmse, self.series_r = cf.nrmse, cf.series_r
        m = cf.model
        self.t = _arr(m.t, m.n)
        self.v = data.v
        self.i = data.i
        self.i_model = _arr(m.i, m.n)
        self.v_device = _arr(m.v, m.n)
        self.x = _arr(m.x, m.n)

    def __repr__(self):
        return "<FitFile %s: nrmse %.4g, x0 %.4g>" % (self.name, self.nrmse, self.x0)


class FitResult:
    """The result of fit(): `device` (a Device with the fitted values),
    `params` {name: FitParam}, `values` and `stderr` {name: float},
    `nrmse` (RMS of the per-file NRMSEs), `files` [FitFile], `polarity`,
    `cond`, `evals`, `seconds`; json() is the document `smallsim fit -o`
    writes, spice() the fitted subcircuit."""

    def __init__(self, cres, data):
        self._r = cres
        self._data = data
        self.device = Device._wrap(cres.device)
        self.polarity = cres.polarity
        self.params = {}
        for k in range(cres.nparams):
            p = cres.params[k]
            name = pystr(p.name)
            self.params[name] = FitParam(name, pystr(p.unit), p.value, p.stderr_, p.lo, p.hi,
                                         bool(p.free), bool(p.at_bound), bool(p.identifiable))
        self.files = [FitFile(cres.files[k], data[k]) for k in range(cres.nfiles)]
        self.nrmse, self.cond = cres.nrmse, cres.cond
        self.nfree, self.evals, self.seconds = cres.nfree, cres.evals, cres.seconds
        self.global_nrmse = cres.global_nrmse

    @property
    def values(self):
        return {k: p.value for k, p in self.params.items()}

    @property
    def stderr(self):
        return {k: p.stderr for k, p in self.params.items()}

    def json(self):
        """The result as JSON text (the document `smallsim fit -o` writes)."""
        buf = ffi.new("ss_buf *")
        err = new_error()
        rc = lib.ss_fit_result_json(self._r, buf, err)
        text = buf_text(buf)
        check(rc, err)
        return text

    def to_dict(self):
        return json.loads(self.json())

    def spice(self, name="fitted", file=0):
        """The fitted subcircuit `.subckt NAME te be` (initial state of `file`)."""
        buf = ffi.new("ss_buf *")
        err = new_error()
        rc = lib.ss_fit_result_spice(self._r, cstr(name), int(file), buf, err)
        text = buf_text(buf)
        check(rc, err)
        return text

    def run_spice(self, engine, file=0):
        """The fitted subcircuit run in ngspice under file `file`'s drive,
        sampled at the data's times (an IVTrace)."""
        if not 0 <= file < len(self.files):
            raise make_error(lib.SS_ENOTFOUND, "no file %d" % file)
        tr = ffi.gc(ffi.new("ss_devsim_trace *"), lib.ss_devsim_trace_release)
        err = new_error()
        check(lib.ss_fit_run_spice(engine.ptr, self._r, int(file), self._data[file]._d, tr, err),
              err)
        return _trace(tr)

    def plot(self, png, title="fit", log_current=False):
        """Data (points) and model (line) I-V loops, one panel per file, as a
        PNG drawn by gnuplot (`smallsim fit --plot`; log_current: |I| on a
        log axis, `--plot-log`)."""
        arr = ffi.new("ss_fit_data[]", len(self._data))
        for k, d in enumerate(self._data):
            arr[k] = d._d[0]
        err = new_error()
        check(lib.ss_fit_plot(self._r, arr, cstr(png), cstr(title), int(bool(log_current)), err), err)

    def __repr__(self):
        return "<FitResult %s: nrmse %.4g over %d files>" % (self.device.model, self.nrmse,
                                                             len(self.files))


@ffi.def_extern()
def _py_fit_progress(p, user):
    ctx = ffi.from_handle(user)
    try:
        r = ctx.progress({"phase": pystr(p.phase), "iteration": p.iteration, "start": p.start,
                          "evals": p.evals, "best": p.best, "seconds": p.seconds})
        return 1 if r is False else 0
    except BaseException as e:  # noqa: B902
        ctx.fail(e)
        return 1


def _per_file(value, n, what):
    if np.ndim(value) == 0:
        return [value] * n
    value = list(value)
    if len(value) != n:
        raise invalid("%s: one value or one per file (%d files, %d values)" % (what, n,
                                                                               len(value)))
    return value


def fit(data, model="yakopcic", *, columns=None, freq=0.0, current_scale=1.0, series_r=0.0,
        series_column=False, start=None, fix=None, bounds=None, seed=1, threads=0, population=0,
        generations=0, starts=0, max_iter=0, global_tol=0.0, tol=0.0, polarity="auto",
        progress=None):
    """Fits ONE parameter set of `model` to one or more loops.

    `data`: a path, a FitData, or a list of them (paths are read with
    columns, freq, current_scale, series_r, series_column, each one value or
    one per file).  `start`: a Device of the model (starting and fixed
    values); `fix` {name: value} (also "x0", "x0[k]"); `bounds` {name: (lo,
    hi)}; polarity "auto", "normal" or "reversed"; seed, threads,
    population, generations, starts, max_iter, global_tol, tol as in
    docs/fitting.md (0: the defaults).  `progress(info)` is called from this
    thread; returning False cancels the fit.  Returns a FitResult."""
    items = data if isinstance(data, (list, tuple)) else [data]
    if not items:
        raise invalid("fit: no data")
    n = len(items)
    freqs = _per_file(freq, n, "freq")
    series = _per_file(series_r, n, "series_r")
    loaded = []
    for k, it in enumerate(items):
        if isinstance(it, FitData):
            it.check()
            loaded.append(it)
        else:
            loaded.append(read_data(it, columns=columns, freq=freqs[k],
                                    current_scale=current_scale, series_r=series[k],
                                    series_column=series_column))
    err = new_error()
    f = lib.ss_fit_alloc(_type(model), err)
    if f == ffi.NULL:
        check(err.code or lib.SS_EINVAL, err)
    f = ffi.gc(f, lib.ss_fit_free)
    for d in loaded:
        check(lib.ss_fit_add_data(f, d._d, err), err)
    if start is not None:
        if not isinstance(start, Device):
            raise invalid("start: a smallsim.Device")
        check(lib.ss_fit_set_device(f, start._d, err), err)
    for name, value in (fix or {}).items():
        check(lib.ss_fit_fix(f, cstr(name), float(value), err), err)
    for name, lohi in (bounds or {}).items():
        try:
            lo, hi = lohi
        except (TypeError, ValueError):
            raise invalid("bounds[%s]: a pair (lo, hi)" % name) from None
        check(lib.ss_fit_set_bounds(f, cstr(name), float(lo), float(hi), err), err)
    pol = {"auto": 0, "normal": 1, "reversed": -1, 0: 0, 1: 1, -1: -1}
    if polarity not in pol:
        raise invalid("polarity: 'auto', 'normal' or 'reversed', not %r" % (polarity,))
    o = ffi.new("ss_fit_options *")
    o.seed, o.threads, o.population, o.generations = int(seed), int(threads), int(population), \
        int(generations)
    o.starts, o.max_iter, o.global_tol, o.tol = int(starts), int(max_iter), float(global_tol), \
        float(tol)
    o.polarity = pol[polarity]
    ctx = None
    if progress is not None:
        ctx = Callbacks(progress=progress)
        o.progress = lib._py_fit_progress
        o.user = ctx.handle
    lib.ss_fit_set_options(f, o)
    res = ffi.gc(ffi.new("ss_fit_result *"), lib.ss_fit_result_release)
    check(lib.ss_fit_run(f, res, err), err, ctx)
    return FitResult(res, loaded)

