"""Analog neuron circuits (circuits/): the library's circuits, one
simulated point, and characterization campaigns on the worker pool."""

import os

import numpy as np

from ._core import (Callbacks, buf_text, check, cstr, ffi, invalid, lib, make_error, new_error,
                    pystr)
from .sweep import axis_values, read_table

__all__ = ["circuits", "Circuit", "characterize", "Characterization", "run_point"]

_POINT_FIELDS = None


def _point(pt):
    global _POINT_FIELDS
    if _POINT_FIELDS is None:
        _POINT_FIELDS = [n for n, _ in ffi.typeof("ss_circuit_point").fields]
    return {n: getattr(pt, n) for n in _POINT_FIELDS}


def _info(ci):
    return {"name": pystr(ci.name),
            "kind": "synapse" if ci.kind == lib.SS_CIRCUIT_SYNAPSE else "neuron",
            "input": pystr(ci.input), "input_default": ci.input_default, "help": pystr(ci.help),
            "biases": {pystr(ci.bias[k].name): ci.bias[k].value for k in range(ci.nbias)},
            "like": pystr(ci.like)}


def circuits():
    """The library's circuits: name, kind, input, biases (defaults, A), help."""
    return [_info(lib.ss_circuit_get(k)) for k in range(lib.ss_circuit_count())]


class Circuit:
    """A library circuit by name ("dpi-neuron", "axon-hillock",
    "dpi-synapse") or a designer's netlist file with a "* smallsim:
    like=..." line (docs/circuits.md)."""

    def __init__(self, name_or_path):
        ci = lib.ss_circuit_find(cstr(name_or_path))
        self._owned = None
        if ci == ffi.NULL:
            if not os.path.exists(os.fspath(name_or_path)):
                raise make_error(lib.SS_ENOTFOUND, "unknown circuit '%s' (library: %s; or give "
                                 "a netlist file)" % (name_or_path, ", ".join(
                                     c["name"] for c in circuits())))
            err = new_error()
            ci = lib.ss_circuit_load(cstr(os.fspath(name_or_path)), err)
            if ci == ffi.NULL:
                check(err.code or lib.SS_EPARSE, err)
            self._owned = ci = ffi.gc(ci, lib.ss_circuit_free)
        self._ci = ci
        self.__dict__.update(_info(ci))

    def config(self, biases=None, *, models=None, nmos=None, pmos=None, temp=None, vdd=None,
               avt=None, seed=None, sample=None, reltol=None, _into=None):
        cfg = _into if _into is not None else ffi.new("ss_circuit_config *")
        keep = []
        if _into is None:
            lib.ss_circuit_config_init(cfg, self._ci)
        err = new_error()
        for name, value in (biases or {}).items():
            check(lib.ss_circuit_set_bias(cfg, cstr(name), float(value), err), err)
        for field, value in (("models", models), ("nmos", nmos), ("pmos", pmos)):
            if value is not None:
                c = ffi.new("char[]", cstr(os.fspath(value)))
                keep.append(c)
                setattr(cfg, field, c)
        for field, value in (("temp", temp), ("vdd", vdd), ("avt", avt), ("reltol", reltol)):
            if value is not None:
                setattr(cfg, field, float(value))
        for field, value in (("seed", seed), ("sample", sample)):
            if value is not None:
                setattr(cfg, field, int(value))
        return cfg, keep

    def __repr__(self):
        return "<Circuit %s (%s)>" % (self.name, self.kind)


def _circuit(c):
    return c if isinstance(c, Circuit) else Circuit(c)


def run_point(engine, circuit, input, biases=None, **config):
    """Simulates the circuit's test bench at one input current and measures
    it (ss_circuit_run_point): rate, isi_first, isi_last, cv, energy, power,
    refractory, adaptation, tau, gain, nspikes, ... as a dict."""
    c = _circuit(circuit)
    cfg, keep = c.config(biases, **config)
    pt = ffi.new("ss_circuit_point *")
    err = new_error()
    check(lib.ss_circuit_run_point(engine.ptr, cfg, float(input), pt, err), err)
    return _point(pt)


@ffi.def_extern()
def _py_campaign_progress(user, p):
    ctx = ffi.from_handle(user)
    if ctx.exc is not None:
        return
    try:
        from ._core import KIND_OF_CODE
        ctx.progress(int(p.job), KIND_OF_CODE.get(p.status, str(p.status)), pystr(p.msg) or "")
    except BaseException as e:  # noqa: B902
        ctx.fail(e)


class Characterization:
    """What characterize() measured.  `points`: one dict per (value, temp,
    sample) with value, temp, sample and the measurements (NaN where a job
    failed); `input`, `rate` (and the other measurements) as arrays over the
    swept values for the nominal circuit at the first temperature;
    `rheobase` {(temp, sample): A}; `extraction` (the fitted compact model,
    when asked); `failed` jobs; csv() the CSV text `smallsim characterize`
    prints; table() it as a DataFrame."""

    def __init__(self, camp, spec, values, temps, mc, x, circuit):
        self._c = camp
        self.circuit = circuit
        self.values = values
        self.temps = temps
        self.failed = int(lib.ss_circuit_campaign_failed(camp))
        pt = ffi.new("ss_circuit_point *")
        self.points = []
        for s in range(mc + 1):
            for ti, temp in enumerate(temps):
                for vi, v in enumerate(values):
                    rc = lib.ss_circuit_campaign_point(camp, vi, ti, s, pt)
                    d = _point(pt) if rc == 0 else {k: float("nan") for k in _point(pt)}
                    d.update(value=float(v), temp=float(temp), sample=s, ok=rc == 0)
                    self.points.append(d)
        self.rheobase = {}
        if spec.measures & _flag("rheobase"):
            for s in range(mc + 1):
                for ti, temp in enumerate(temps):
                    self.rheobase[(float(temp), s)] = float(
                        lib.ss_circuit_campaign_rheobase(camp, ti, s))
        self.extraction = None
        if x is not None and x.model != ffi.NULL:
            model = pystr(x.model)
            self.extraction = {"model": model, "npoints": x.npoints, "rms_rel": x.rms_rel,
                               "max_rel": x.max_rel, "rheobase_model": x.rheobase_model,
                               "rheobase_measured": x.rheobase_measured,
                               "path": ffi.string(x.path).decode()}
            if model == "lif":
                self.extraction.update(tau=x.lif.tau, irh=x.lif.irh, tref=x.lif.tref,
                                       beta=x.lif.beta)
            else:
                self.extraction["params"] = {n: getattr(x.dpi.p, n)
                                             for n, _ in ffi.typeof("ss_dpi_params").fields}

    def nominal(self, key, temp_index=0):
        """Measurement `key` over the swept values (sample 0, temperature 0)."""
        n = len(self.values)
        pts = self.points[temp_index * n:(temp_index + 1) * n]
        return np.array([p[key] for p in pts], float)

    @property
    def input(self):
        return np.asarray(self.values, float)

    def __getattr__(self, key):
        if key.startswith("_") or key not in ("rate", "isi_first", "isi_last", "cv", "energy",
                                              "power", "refractory", "adaptation", "tau", "gain",
                                              "nspikes", "tsim", "seconds"):
            raise AttributeError(key)
        return self.nominal(key)

    def csv(self):
        buf = ffi.new("ss_buf *")
        rc = lib.ss_circuit_campaign_csv(self._c, buf)
        text = buf_text(buf)
        if rc:
            raise make_error(rc, "out of memory")
        return text

    def table(self, dataframe=None):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
            f.write(self.csv())
        try:
            return read_table(f.name, dataframe)
        finally:
            os.unlink(f.name)


def _flag(name):
    flags = ffi.new("unsigned *")
    err = new_error()
    check(lib.ss_circuit_measures_parse(cstr(name), lib.SS_CIRCUIT_NEURON, flags, err), err)
    return flags[0]


def characterize(circuit, sweep=None, *, bias=None, input=None, biases=None, temps=(27.0,),
                 mc=0, avt=None, seed=1, measures=None, rheobase=None, jobs=1, timeout=None,
                 journal=None, resume=False, extract=None, params=None, plot=None, csv=None,
                 models=None, nmos=None, pmos=None, vdd=None, reltol=None, progress=None):
    """Characterizes a circuit (`smallsim characterize`): one job per swept
    current, temperature and mismatch sample on `jobs` workers.

    `sweep`: the currents (an array, or a spec "log:20p:2n:7"; default the
    CLI's); `bias`: name of a bias to sweep instead of the input (then
    `input` is the fixed input); `biases` {name: A}; `measures`
    "rate,isi,cv,energy,..." (default the circuit kind's); `rheobase` (or
    "rheobase" in measures) adds the bisections with bracket (lo, hi);
    `extract` "lif" or "dpi" fits a compact model (written to `params`);
    `plot`, `csv`: files.  Returns a Characterization (f-I: .input, .rate)."""
    c = _circuit(circuit)
    spec = ffi.new("ss_circuit_campaign_spec *")
    lib.ss_circuit_campaign_spec_init(spec, c._ci)
    cfg_keep = c.config(biases, models=models, nmos=nmos, pmos=pmos, vdd=vdd, avt=avt, seed=seed,
                        reltol=reltol, _into=ffi.addressof(spec, "base"))[1]
    if sweep is None:
        sweep = "list:100p" if c.kind == "synapse" else "log:20p:2n:6"
    values = axis_values(sweep) if isinstance(sweep, str) else np.ascontiguousarray(sweep, float)
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise invalid("sweep: a non-empty list of finite currents")
    temps = np.ascontiguousarray(np.atleast_1d(temps), float)
    if bias is not None and bias.lower() != c.input.lower():
        names = [pystr(c._ci.bias[k].name) for k in range(c._ci.nbias)]
        low = [n.lower() for n in names]
        if bias.lower() not in low:
            raise make_error(lib.SS_ENOTFOUND, "circuit '%s' has no current '%s' (biases: %s)"
                             % (c.name, bias, ", ".join(names)))
        spec.bias = low.index(bias.lower())
    if input is not None:
        spec.input = float(input)
    flags = ffi.new("unsigned *")
    err = new_error()
    if not isinstance(measures, (str, type(None))):
        measures = ",".join(measures)
    check(lib.ss_circuit_measures_parse(cstr(measures) if measures else ffi.NULL, c._ci.kind,
                                        flags, err), err)
    if rheobase is not None and rheobase is not False:
        flags[0] |= _flag("rheobase")
        if rheobase is not True:
            spec.rheo_lo, spec.rheo_hi = float(rheobase[0]), float(rheobase[1])
    spec.measures = flags[0]
    spec.values, spec.nvalues = ffi.from_buffer("double[]", values), values.size
    spec.temps, spec.ntemps = ffi.from_buffer("double[]", temps), temps.size
    spec.mc = int(mc)
    spec.jobs = int(jobs)
    if timeout is not None:
        spec.timeout = float(timeout)
    keep = []

    def s(field, v):
        if v is not None:
            b = ffi.new("char[]", cstr(os.fspath(v)))
            keep.append(b)
            setattr(spec, field, b)
    s("journal", journal)
    spec.resume = 1 if resume else 0
    if extract is not None and extract not in ("lif", "dpi"):
        raise invalid("extract: 'lif' or 'dpi', not %r" % (extract,))
    s("extract", extract)
    s("params", params)
    s("plot", plot)
    s("csv", csv)
    ctx = None
    if progress is not None:
        ctx = Callbacks(progress=progress)
        spec.progress = lib._py_campaign_progress
        spec.user = ctx.handle
    out = ffi.new("ss_circuit_campaign **")
    x = ffi.new("ss_circuit_extraction *")
    rc = lib.ss_circuit_characterize(spec, out, x, err)
    camp = ffi.gc(out[0], lib.ss_circuit_campaign_free) if out[0] != ffi.NULL else None
    del cfg_keep
    check(rc, err, ctx)
    return Characterization(camp, spec, values, temps, int(mc), x if extract else None, c)

