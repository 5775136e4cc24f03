"""Memristor models (devices/), one device under a drive (cosim/devsim/),
presets and variability."""

from collections import namedtuple

import numpy as np

from ._core import (buf_text, check, cstr, darray, dptr, ffi, invalid, lib, make_error,
                    new_error, pystr)

__all__ = ["Device", "Variation", "IVTrace", "models", "presets", "wave_value"]

IVTrace = namedtuple("IVTrace", "t vs v i x")
IVTrace.__doc__ = """A sampled I-V trajectory: time (s), drive vs (V), device
voltage v (V), device current i (A) and normalised state x."""


def _type(model):
    t = lib.ss_device_type_find(cstr(model))
    if t == ffi.NULL:
        raise make_error(lib.SS_ENOTFOUND, "no device model '%s' (models: %s)"
                         % (model, ", ".join(m["name"] for m in models())))
    return t


def models():
    """The device models: name, title, x_lrs and parameters (name, unit,
    default, description, choices)."""
    out, k = [], 0
    while lib.ss_device_types[k] != ffi.NULL:
        t = lib.ss_device_types[k]
        params = []
        for i in range(t.nparams):
            p = t.params[i]
            choices = None
            if p.choices != ffi.NULL:
                choices, j = [], 0
                while p.choices[j] != ffi.NULL:
                    choices.append(pystr(p.choices[j]))
                    j += 1
            params.append({"name": pystr(p.name), "unit": pystr(p.unit),
                           "default": getattr(p, "def"), "description": pystr(p.description),
                           "choices": choices})
        out.append({"name": pystr(t.name), "title": pystr(t.title), "x_lrs": t.x_lrs,
                    "params": params})
        k += 1
    return out


def presets():
    """The parameter presets: name, model, params (text), drive (wave spec or
    None), source, verified."""
    out, k = [], 0
    while lib.ss_device_presets[k].name != ffi.NULL:
        p = lib.ss_device_presets[k]
        out.append({"name": pystr(p.name), "model": pystr(p.model), "params": pystr(p.params),
                    "drive": pystr(p.drive), "source": pystr(p.source),
                    "verified": not p.unverified})
        k += 1
    return out


def _value_text(v):
    if isinstance(v, (str, bytes)):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "1" if v else "0"
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise invalid("parameter value %r is neither a number nor a name" % (v,)) from None
    return repr(x)


class Device:
    """A memristor: a model ("vteam", "yakopcic", "yakopcic2020") and its
    parameter values.  Device("yakopcic", preset="oblea_sine", vp=0.2);
    values are numbers (SI) or SPICE text ("10k"); choice parameters take
    their names ("biolek").  `hard=True` uses the textbook discontinuous
    equations.  The parameters are checked (validate) on construction."""

    def __init__(self, model=None, preset=None, hard=False, **params):
        self._d = ffi.new("ss_device *")
        err = new_error()
        if preset is not None:
            check(lib.ss_device_apply_preset(self._d, cstr(preset), err), err)
            if model is not None and pystr(self._d.type.name) != model:
                raise invalid("preset '%s' is a %s device, not %s"
                              % (preset, pystr(self._d.type.name), model))
        else:
            lib.ss_device_init(self._d, _type(model or "vteam"))
        self._d.hard = 1 if hard else 0
        self.set(**params)

    @classmethod
    def _wrap(cls, cdev):
        d = cls.__new__(cls)
        d._d = ffi.new("ss_device *")
        d._d[0] = cdev
        return d

    def copy(self):
        return Device._wrap(self._d[0])

    @property
    def model(self):
        return pystr(self._d.type.name)

    @property
    def hard(self):
        return bool(self._d.hard)

    @property
    def names(self):
        t = self._d.type
        return [pystr(t.params[i].name) for i in range(t.nparams)]

    def _index(self, name):
        i = lib.ss_device_param_index(self._d.type, cstr(name))
        if i < 0:
            raise make_error(lib.SS_ENOTFOUND, "%s has no parameter '%s' (parameters: %s)"
                             % (self.model, name, ", ".join(self.names)))
        return i

    def __getitem__(self, name):
        i = self._index(name)
        p = self._d.type.params[i]
        v = self._d.p[i]
        if p.choices != ffi.NULL:
            return pystr(p.choices[int(v)])
        return v

    def __setitem__(self, name, value):
        self.set(**{name: value})

    @property
    def params(self):
        """{name: value} (choice parameters by name)."""
        return {n: self[n] for n in self.names}

    def set(self, **params):
        """Sets parameters and checks the whole device (ss_device_validate)."""
        err = new_error()
        for name, value in params.items():
            check(lib.ss_device_set_param(self._d, cstr(name), cstr(_value_text(value)), err),
                  err)
        self.validate()
        return self

    def validate(self):
        err = new_error()
        check(lib.ss_device_validate(self._d, err), err)

    @property
    def x0(self):
        """Initial normalised state from the parameters."""
        return float(lib.ss_device_x0(self._d))

    @property
    def x_lrs(self):
        """The state of the low-resistance (ON) end: 0 or 1."""
        return float(self._d.type.x_lrs)

    def evaluate(self, v, x):
        """Current and state derivative with their partial derivatives at
        (v, x) (arrays broadcast): dict of i, di_dv, di_dx, dxdt, ddxdt_dv,
        ddxdt_dx."""
        vv, xx = np.broadcast_arrays(np.asarray(v, float), np.asarray(x, float))
        out = {k: np.empty(vv.shape) for k in ("i", "di_dv", "di_dx", "dxdt", "ddxdt_dv",
                                              "ddxdt_dx")}
        ev = ffi.new("ss_device_eval *")
        for idx in np.ndindex(vv.shape):
            lib.ss_device_evaluate(self._d, float(vv[idx]), float(xx[idx]), ev)
            for k in out:
                out[k][idx] = getattr(ev, k)
        if vv.ndim == 0:
            return {k: float(a) for k, a in out.items()}
        return out

    def current(self, v, x):
        """Device current (A) at voltage v and state x (arrays broadcast)."""
        return self.evaluate(v, x)["i"]

    def dxdt(self, v, x):
        """State derivative (1/s) at voltage v and state x."""
        return self.evaluate(v, x)["dxdt"]

    def conductance(self, x, v_read=0.1):
        """Chord conductance i(v_read, x)/v_read (S), arrays of x too."""
        xx = np.asarray(x, float)
        out = np.empty(xx.shape)
        for idx in np.ndindex(xx.shape):
            out[idx] = lib.ss_device_conductance(self._d, float(xx[idx]), float(v_read))
        return float(out) if xx.ndim == 0 else out

    def spice(self, name="dut"):
        """The ngspice subcircuit `.subckt NAME te be` (the same equations)."""
        buf = ffi.new("ss_buf *")
        err = new_error()
        rc = lib.ss_device_write_spice(self._d, cstr(name), buf, err)
        text = buf_text(buf)
        check(rc, err)
        return text

    def iv(self, drive, *, series_r=0.0, points=1001, x0=None, rtol=0.0, atol=0.0, max_step=0.0,
           engine=None, tol=0.0):
        """The device (behind `series_r` ohms) under a drive, sampled.

        `drive` is a wave spec ("sine:AMP:FREQ[:CYCLES]", "triangle:...",
        "pulse:V1:V2:WIDTH:PERIOD:COUNT"), integrated by CVODE at `points`
        evenly spaced times (engine=Engine: the same bench in ngspice
        instead), or a measured drive (t, v) of two arrays, piecewise linear
        between samples, integrated by the fitter's SDIRK scheme and sampled
        at the given times.  `x0` replaces the device's initial state.
        Returns an IVTrace of arrays."""
        d = self
        if x0 is not None:
            d = self.copy()
            d._set_x0(x0)
        if isinstance(drive, (str, bytes)):
            w = ffi.new("ss_wave *")
            err = new_error()
            check(lib.ss_wave_parse(w, cstr(drive), err), err)
            opt = ffi.new("ss_devsim_options *")
            opt.series_r = float(series_r)
            opt.points = int(points)
            opt.rtol, opt.atol, opt.max_step = float(rtol), float(atol), float(max_step)
            tr = ffi.gc(ffi.new("ss_devsim_trace *"), lib.ss_devsim_trace_release)
            if engine is not None:
                check(lib.ss_devsim_run_spice(engine.ptr, d._d, w, opt, tr, err), err)
            else:
                check(lib.ss_devsim_run(d._d, w, opt, tr, err), err)
            return _trace(tr)
        try:
            t, v = drive
        except (TypeError, ValueError):
            raise invalid("drive: a wave spec or a pair of arrays (t, v)") from None
        if engine is not None:
            raise invalid("a measured drive runs in C only (engine= applies to wave specs)")
        t = darray(t, "drive time", (None,))
        v = darray(v, "drive voltage", t.shape)
        if t.size < 2 or not np.all(np.isfinite(t)) or not np.all(np.isfinite(v)):
            raise invalid("drive: at least 2 finite samples")
        if not np.all(np.diff(t) > 0):
            raise invalid("drive: times must increase")
        data = ffi.gc(ffi.new("ss_fit_data *"), lib.ss_fit_data_release)
        err = new_error()
        zeros = np.zeros_like(t)
        check(lib.ss_fit_data_set(data, b"drive", t.size, dptr(t), dptr(v), dptr(zeros), 0.0,
                                  float(series_r), err), err)
        tr = ffi.gc(ffi.new("ss_devsim_trace *"), lib.ss_devsim_trace_release)
        check(lib.ss_fit_simulate(d._d, 1, data, d.x0, float(tol), tr, err), err)
        return _trace(tr)

    def netlist(self, wave, *, series_r=0.0, points=1001, max_step=0.0):
        """The ngspice deck of iv(wave) (device subcircuit `dut`, probe
        `vsense`, `.tran ... uic`)."""
        w = ffi.new("ss_wave *")
        err = new_error()
        check(lib.ss_wave_parse(w, cstr(wave), err), err)
        opt = ffi.new("ss_devsim_options *")
        opt.series_r, opt.points, opt.max_step = float(series_r), int(points), float(max_step)
        buf = ffi.new("ss_buf *")
        rc = lib.ss_devsim_netlist(self._d, w, opt, buf, err)
        text = buf_text(buf)
        check(rc, err)
        return text

    def _set_x0(self, x0):
        name = "w0" if self.model == "vteam" else "x0"
        if self.model == "vteam":
            won, woff = self["w_on"], self["w_off"]
            self.set(**{name: won + float(x0) * (woff - won)})
        else:
            self.set(**{name: float(x0)})

    def sample(self, n, variation=None, seed=1):
        """n devices drawn from this one with `variation` (Variation; None:
        the literature defaults): a list of (Device, fault) where fault is
        None, "stuck_on" or "stuck_off"."""
        var = variation if variation is not None else Variation.literature(self.model)
        var.validate(self.model)
        rng = ffi.gc(lib.gsl_rng_alloc(lib.gsl_rng_mt19937), lib.gsl_rng_free)
        lib.gsl_rng_set(rng, int(seed))
        out = []
        dev = ffi.new("ss_device *")
        fault = ffi.new("enum ss_device_fault *")
        err = new_error()
        names = {lib.SS_DEVICE_FAULT_NONE: None, lib.SS_DEVICE_FAULT_STUCK_ON: "stuck_on",
                 lib.SS_DEVICE_FAULT_STUCK_OFF: "stuck_off"}
        for _ in range(int(n)):
            check(lib.ss_device_sample(self._d, var._v, rng, dev, fault, err), err)
            out.append((Device._wrap(dev[0]), names[fault[0]]))
        return out

    def __repr__(self):
        return "Device(%r, %s)" % (self.model, ", ".join(
            "%s=%r" % (k, v) for k, v in self.params.items()))


def _trace(tr):
    n = tr.n

    def arr(p):
        return np.frombuffer(ffi.buffer(p, n * 8), dtype=np.float64).copy()
    return IVTrace(arr(tr.t), arr(tr.vs), arr(tr.v), arr(tr.i), arr(tr.x))


class Variation:
    """Device non-idealities (ss_device_variation): lognormal spreads
    (spread={"r_on": 0.25}), p_stuck_on, p_stuck_off, c2c_sigma, levels,
    v_read, read_sigma, retention_tau, retention_x.  Variation() is an ideal
    device; Variation.literature(model) the literature defaults."""

    def __init__(self, spread=None, **settings):
        self._v = ffi.new("ss_device_variation *")
        lib.ss_device_variation_init(self._v)
        self.set(spread=spread, **settings)

    @classmethod
    def literature(cls, model, spread=None, **settings):
        v = cls()
        lib.ss_device_variation_literature(v._v, _type(model))
        v.set(spread=spread, **settings)
        return v

    def set(self, spread=None, **settings):
        err = new_error()
        items = [("spread." + k, s) for k, s in (spread or {}).items()] + list(settings.items())
        for k, val in items:
            check(lib.ss_device_variation_set(self._v, cstr("%s=%s" % (k, _value_text(val))),
                                              err), err)
        return self

    def validate(self, model):
        err = new_error()
        check(lib.ss_device_variation_validate(self._v, _type(model), err), err)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return getattr(self._v, name)
        except AttributeError:
            raise AttributeError(name) from None


def wave_value(spec, t):
    """Value of a wave spec ("sine:0.45:100") at times t."""
    w = ffi.new("ss_wave *")
    err = new_error()
    check(lib.ss_wave_parse(w, cstr(spec), err), err)
    tt = np.asarray(t, float)
    out = np.empty(tt.shape)
    for idx in np.ndindex(tt.shape):
        out[idx] = lib.ss_wave_value(w, float(tt[idx]))
    return float(out) if tt.ndim == 0 else out
