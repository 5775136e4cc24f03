"""Spiking networks (cosim/network/) built from Python objects or from an
experiment file (cosim/experiment/): run, continue, read spikes and sampled
states as numpy arrays, change biases between runs."""

import os

import numpy as np

from ._core import (Callbacks, check, cstr, darray, dptr, ffi, invalid, lib, make_error,
                    new_error, pystr, sizearray, sptr)
from .devices import Device, Variation

__all__ = ["Network", "Population", "StateMonitor", "lif_defaults", "dpi_defaults", "dpi_rate"]

_KIND_NAMES = {}


def _kind_name(k):
    if not _KIND_NAMES:
        for n in ("LIF", "DPI", "POISSON", "REGULAR", "TIMES", "SPICE"):
            _KIND_NAMES[getattr(lib, "SS_POP_" + n)] = n.lower()
    return _KIND_NAMES.get(k, "?")


def _struct_dict(cstruct):
    return {name: getattr(cstruct, name) for name, _ in ffi.typeof(cstruct).fields}


def lif_defaults():
    """The LIF population's parameters and their defaults (SI units)."""
    return _struct_dict(lib.ss_py_lif_defaults)


def dpi_defaults():
    """The DPI population's parameters and their defaults (SI units)."""
    return _struct_dict(lib.ss_py_dpi_defaults)


def _fill(ctype, defaults, params, what):
    p = ffi.new(ctype + " *", defaults)
    fields = [n for n, _ in ffi.typeof(ctype).fields]
    for k, v in params.items():
        if k not in fields:
            raise make_error(lib.SS_ENOTFOUND, "%s has no parameter '%s' (parameters: %s)"
                             % (what, k, ", ".join(fields)))
        try:
            setattr(p, k, float(v))
        except (TypeError, ValueError):
            raise invalid("%s parameter %s: %r is not a number" % (what, k, v)) from None
    return p


def dpi_rate(i_in, **params):
    """Steady firing rate (Hz) of one DPI neuron on a constant input current
    (ss_network_dpi_rate: the network's own equations)."""
    p = _fill("ss_dpi_params", lib.ss_py_dpi_defaults, params, "dpi")
    r = ffi.new("double *")
    err = new_error()
    check(lib.ss_network_dpi_rate(p, float(i_in), r, err), err)
    return float(r[0])


class StateMonitor:
    """States recorded on some neurons of a population: `t` (s), `neurons`
    and `values` (len(neurons) x len(t); v for LIF, Imem for DPI)."""

    def __init__(self, pop, neurons, dt):
        self.population = pop
        self.neurons = neurons
        self.dt = dt

    def _select(self):
        t, pop, idx, val = self.population.net.samples()
        m = pop == self.population.index
        t, idx, val = t[m], idx[m], val[m]
        rows = []
        times = None
        for n in self.neurons:
            k = idx == n
            if times is None:
                times = t[k]
            rows.append(val[k])
        nt = min((len(r) for r in rows), default=0)
        return (times[:nt] if times is not None else np.zeros(0),
                np.array([r[:nt] for r in rows]).reshape(len(rows), nt))

    @property
    def t(self):
        return self._select()[0]

    @property
    def values(self):
        return self._select()[1]

    def __getitem__(self, neuron):
        """(t, values) of one recorded neuron."""
        k = list(self.neurons).index(neuron)
        t, v = self._select()
        return t, v[k]


class Population:
    """A population of a Network (returned by Network.lif, .dpi, .poisson,
    ...; also net["name"])."""

    def __init__(self, net, index):
        self.net = net
        self.index = index
        self.name = pystr(lib.ss_network_pop_name(net._net, index))
        self.n = int(lib.ss_network_pop_size(net._net, index))
        self.kind = _kind_name(lib.ss_network_pop_kind(net._net, index))

    def __len__(self):
        return self.n

    def __repr__(self):
        return "<Population %s: %d %s>" % (self.name, self.n, self.kind)

    @property
    def spikes(self):
        """(t, i): spike times (s) and neuron indices of this population."""
        t, pop, idx = self.net.spikes()
        m = pop == self.index
        return t[m], idx[m]

    @property
    def count(self):
        """Spikes of each neuron so far (n)."""
        t, i = self.spikes
        return np.bincount(i.astype(np.intp), minlength=self.n)

    @property
    def nspikes(self):
        return int(lib.ss_network_pop_spikes(self.net._net, self.index))

    def rate(self):
        """Mean firing rate (Hz) over the time run so far."""
        t = self.net.t
        return self.nspikes / (self.n * t) if t > 0 else 0.0

    def set_bias(self, i_bias):
        """Per-neuron bias currents (A; one value or n), also between runs."""
        b = darray(np.broadcast_to(np.asarray(i_bias, float), (self.n,)), "bias")
        err = new_error()
        check(lib.ss_network_set_bias(self.net._net, self.index, dptr(b), err), err)

    def record(self, neurons=None, dt=None):
        """Records the first state (v for LIF, Imem for DPI) of `neurons`
        (default all) every `dt` seconds (default the exchange step).
        Returns a StateMonitor."""
        neurons = np.arange(self.n) if neurons is None else np.atleast_1d(neurons)
        idx = sizearray(neurons, "neurons")
        dt = self.net.options["dt"] if dt is None else float(dt)
        err = new_error()
        check(lib.ss_network_record_state(self.net._net, self.index, sptr(idx), idx.size, dt,
                                          err), err)
        return StateMonitor(self, [int(i) for i in idx], dt)

    def step(self, neuron, t_on, t_off, amp):
        """A current step on one neuron: i_bias += amp from t_on to t_off."""
        err = new_error()
        check(lib.ss_network_add_step(self.net._net, self.index, int(neuron), float(t_on),
                                      float(t_off), float(amp), err), err)


@ffi.def_extern()
def _py_network_progress(user, t, tstop, spikes):
    ctx = ffi.from_handle(user)
    try:
        return 1 if ctx.progress(t, tstop, spikes) is False else 0
    except BaseException as e:  # noqa: B902
        ctx.fail(e)
        return 1


class Network:
    """A spiking network.  Options (also keyword arguments): dt (exchange
    step = minimum delay, s), rtol (CVODE), seed, solver ("adams" or "bdf").
    Build with lif/dpi/poisson/regular/times/spice and connect/
    connect_crossbar/connect_memristive, then run(duration) as often as
    needed; spikes and recorded states accumulate."""

    def __init__(self, dt=None, rtol=None, seed=None, solver=None):
        err = new_error()
        net = lib.ss_network_alloc(err)
        if net == ffi.NULL:
            check(err.code or lib.SS_ENOMEM, err)
        self._init(net)
        self.set_options(dt=dt, rtol=rtol, seed=seed, solver=solver)

    def _init(self, net):
        self._net = ffi.gc(net, lib.ss_network_free)
        d = lib.ss_py_network_defaults
        self.options = {"dt": d.dt, "rtol": d.rtol, "seed": d.seed, "solver": "adams"}
        self.experiment = None
        self._spk = (np.zeros(0), np.zeros(0, np.uintp), np.zeros(0, np.uintp))
        self._smp = (np.zeros(0), np.zeros(0, np.uintp), np.zeros(0, np.uintp), np.zeros(0))
        self._keep = []

    def set_options(self, dt=None, rtol=None, seed=None, solver=None):
        if dt is not None:
            self.options["dt"] = float(dt)
        if rtol is not None:
            self.options["rtol"] = float(rtol)
        if seed is not None:
            self.options["seed"] = int(seed)
        if solver is not None:
            if solver not in ("adams", "bdf"):
                raise invalid("solver: 'adams' or 'bdf', not %r" % (solver,))
            self.options["solver"] = solver

    @classmethod
    def from_file(cls, path, seed=None):
        """The network of an experiment file (YAML, docs/network.md);
        `seed` replaces the file's.  net.experiment holds its duration, dt,
        rtol, seed and solver; run() without a duration runs the file's."""
        pnet = ffi.new("ss_network **")
        exp = ffi.new("ss_experiment *")
        err = new_error()
        check(lib.ss_experiment_load(cstr(os.fspath(path)), -1 if seed is None else int(seed),
                                     pnet, exp, err), err)
        self = cls.__new__(cls)
        self._init(pnet[0])
        self.experiment = {"duration": exp.duration, "dt": exp.dt, "rtol": exp.rtol,
                           "seed": exp.seed,
                           "solver": "bdf" if exp.solver == lib.SS_NETWORK_BDF else "adams"}
        self.set_options(dt=exp.dt, rtol=exp.rtol, seed=exp.seed, solver=self.experiment["solver"])
        return self

    # ---- populations -------------------------------------------------------

    def _pop(self, rc, err, pop):
        check(rc, err)
        return Population(self, int(pop[0]))

    def lif(self, name, n, bias=None, **params):
        """n adaptive LIF neurons (params: lif_defaults() keys, SI units);
        `bias` one current or n currents (A)."""
        p = _fill("ss_lif_params", lib.ss_py_lif_defaults, params, "lif")
        pop, err = ffi.new("size_t *"), new_error()
        P = self._pop(lib.ss_network_add_lif(self._net, cstr(name), int(n), p, pop, err), err, pop)
        if bias is not None:
            P.set_bias(bias)
        return P

    def dpi(self, name, n, bias=None, **params):
        """n DPI neurons (params: dpi_defaults() keys, SI units)."""
        p = _fill("ss_dpi_params", lib.ss_py_dpi_defaults, params, "dpi")
        pop, err = ffi.new("size_t *"), new_error()
        P = self._pop(lib.ss_network_add_dpi(self._net, cstr(name), int(n), p, pop, err), err, pop)
        if bias is not None:
            P.set_bias(bias)
        return P

    def poisson(self, name, n, rate):
        """n independent Poisson trains of `rate` Hz."""
        pop, err = ffi.new("size_t *"), new_error()
        return self._pop(lib.ss_network_add_poisson(self._net, cstr(name), int(n), float(rate),
                                                    pop, err), err, pop)

    def regular(self, name, n, rate, phase=0.0, stagger=0.0):
        """Regular trains: neuron k fires at phase + k stagger + m/rate."""
        pop, err = ffi.new("size_t *"), new_error()
        return self._pop(lib.ss_network_add_regular(self._net, cstr(name), int(n), float(rate),
                                                    float(phase), float(stagger), pop, err),
                         err, pop)

    def times(self, name, n, indices, times):
        """Given spikes: neuron indices[k] fires at times[k] (like Brian2's
        SpikeGeneratorGroup)."""
        ids = sizearray(indices, "indices")
        t = darray(times, "times", (ids.size,))
        pop, err = ffi.new("size_t *"), new_error()
        return self._pop(lib.ss_network_add_times(self._net, cstr(name), int(n), sptr(ids),
                                                  dptr(t), ids.size, pop, err), err, pop)

    def spice(self, name, n, body, spikes, threshold, tau_syn, tmax, bias=None):
        """A SPICE tile of n transistor-level neurons (ss_network_add_spice);
        run() needs engine=Engine."""
        keep = [ffi.new("char[]", cstr(s)) for s in spikes]
        arr = ffi.new("const char *[]", keep)
        pop, err = ffi.new("size_t *"), new_error()
        P = self._pop(lib.ss_network_add_spice(self._net, cstr(name), int(n), cstr(body), arr,
                                                float(threshold), float(tau_syn), float(tmax),
                                                pop, err), err, pop)
        if bias is not None:
            P.set_bias(bias)
        return P

    def __getitem__(self, name):
        for k in range(lib.ss_network_npops(self._net)):
            if pystr(lib.ss_network_pop_name(self._net, k)) == name:
                return Population(self, k)
        raise make_error(lib.SS_ENOTFOUND, "no population '%s'" % name)

    @property
    def populations(self):
        return [Population(self, k) for k in range(lib.ss_network_npops(self._net))]

    def _index(self, p):
        if isinstance(p, Population):
            if p.net is not self:
                raise invalid("population %s belongs to another network" % p.name)
            return p.index
        if isinstance(p, str):
            return self[p].index
        return int(p)

    # ---- connections ---------------------------------------------------------

    def connect(self, pre, post, i, j, w, delay=None):
        """Synapses pre[i[k]] -> post[j[k]] of weight w[k] (the jump of the
        target's synaptic current, A) and delay[k] (s; rounded to whole
        exchange steps, at least one; default one step).  w and delay may be
        single values."""
        i = sizearray(i, "i")
        j = sizearray(j, "j")
        if i.shape != j.shape or i.ndim != 1:
            raise invalid("connect: i and j must be 1-D arrays of one length")
        w = darray(np.broadcast_to(np.asarray(w, float), i.shape), "w")
        d = self.options["dt"] if delay is None else delay
        d = darray(np.broadcast_to(np.asarray(d, float), i.shape), "delay")
        err = new_error()
        check(lib.ss_network_connect(self._net, self._index(pre), self._index(post), i.size,
                                     sptr(i), sptr(j), dptr(w), dptr(d), err), err)

    def _spec(self, pre, post, rwire, rsource, rsense):
        spec = ffi.new("ss_crossbar_spec *")
        spec.rows = lib.ss_network_pop_size(self._net, self._index(pre))
        spec.cols = lib.ss_network_pop_size(self._net, self._index(post))
        spec.rwire, spec.rsource, spec.rsense = float(rwire), float(rsource), float(rsense)
        return spec

    def connect_crossbar(self, pre, post, G, v_read=0.1, t_read=50e-9, delay=None, rwire=0.0,
                         rsource=0.0, rsense=0.0):
        """A static crossbar of conductances G (len(pre) x len(post), S): a
        presynaptic spike reads its word line for t_read s at v_read V."""
        spec = self._spec(pre, post, rwire, rsource, rsense)
        G = darray(G, "G", (spec.rows, spec.cols))
        err = new_error()
        check(lib.ss_network_connect_crossbar(
            self._net, self._index(pre), self._index(post), spec, dptr(G), float(v_read),
            float(t_read), self.options["dt"] if delay is None else float(delay), err), err)

    def connect_memristive(self, pre, post, device, x0=None, variation=None, v_read=0.1,
                           t_read=50e-9, delay=None, rule=None, seed=1, rwire=0.0, rsource=0.0,
                           rsense=0.0):
        """A crossbar of memristors drawn from `device` (Device) with
        `variation` (Variation or None), in states x0 (len(pre) x len(post);
        None: the device's x0).  With rule={"v_set", "v_reset", "t_write",
        "tau_plus", "tau_minus"} it learns by the pulse-pair rule.  Returns
        the projection's index for crossbar_states()."""
        if not isinstance(device, Device):
            raise invalid("device: a smallsim.Device")
        spec = self._spec(pre, post, rwire, rsource, rsense)
        xp = ffi.NULL
        if x0 is not None:
            x = darray(np.broadcast_to(np.asarray(x0, float), (spec.rows, spec.cols)), "x0")
            self._keep.append(x)
            xp = dptr(x)
        var = ffi.NULL
        if variation is not None:
            if not isinstance(variation, Variation):
                raise invalid("variation: a smallsim.Variation")
            var = variation._v
        rp = ffi.NULL
        if rule is not None:
            rp = ffi.new("ss_network_plasticity *")
            names = [n for n, _ in ffi.typeof("ss_network_plasticity").fields]
            for k in names:
                if k not in rule:
                    raise invalid("rule: needs %s" % ", ".join(names))
                setattr(rp, k, float(rule[k]))
            extra = set(rule) - set(names)
            if extra:
                raise invalid("rule: unknown %s" % ", ".join(sorted(extra)))
        proj, err = ffi.new("size_t *"), new_error()
        check(lib.ss_network_connect_memristive(
            self._net, self._index(pre), self._index(post), spec, device._d, var, xp,
            float(v_read), float(t_read), self.options["dt"] if delay is None else float(delay),
            rp, int(seed), proj, err), err)
        return int(proj[0])

    def crossbar_states(self, proj=0):
        """(x, g): states and read conductances (rows x cols) of memristive
        projection `proj`."""
        if not 0 <= proj < lib.ss_network_nmemristive(self._net):
            raise make_error(lib.SS_ENOTFOUND, "no memristive projection %d" % proj)
        pre, post = ffi.new("size_t *"), ffi.new("size_t *")
        lib.ss_network_crossbar_states(self._net, proj, ffi.NULL, ffi.NULL, pre, post)
        rows = lib.ss_network_pop_size(self._net, pre[0])
        cols = lib.ss_network_pop_size(self._net, post[0])
        x, g = np.empty((rows, cols)), np.empty((rows, cols))
        lib.ss_network_crossbar_states(self._net, proj, dptr(x), dptr(g), ffi.NULL, ffi.NULL)
        return x, g

    # ---- running -------------------------------------------------------------

    def run(self, duration=None, *, until=None, engine=None, progress=None):
        """Advances the network by `duration` seconds (or to time `until`);
        from an experiment file, run() alone runs the file's duration.
        `progress(t, tstop, spikes)` is called about every 1 %; returning
        False stops the run (an Error)."""
        if until is None:
            if duration is None:
                if self.experiment is None:
                    raise invalid("run: give a duration")
                duration = self.experiment["duration"]
            until = self.t + float(duration)
        o = ffi.new("ss_network_options *", lib.ss_py_network_defaults)
        o.dt, o.rtol, o.seed = self.options["dt"], self.options["rtol"], self.options["seed"]
        o.solver = lib.SS_NETWORK_BDF if self.options["solver"] == "bdf" else lib.SS_NETWORK_ADAMS
        if engine is not None:
            o.engine = engine.ptr
        ctx = None
        if progress is not None:
            ctx = Callbacks(progress=progress)
            o.progress = lib._py_network_progress
            o.user = ctx.handle
        err = new_error()
        check(lib.ss_network_run(self._net, float(until), o, err), err, ctx)

    @property
    def t(self):
        """The network's time (s)."""
        return float(lib.ss_network_time(self._net))

    def spikes(self):
        """(t, population, index) arrays of every spike so far (time order
        within each exchange step)."""
        n = lib.ss_network_nspikes(self._net)
        have = self._spk[0].size
        if n > have:
            m = n - have
            t, p, i = np.empty(m), np.empty(m, np.uintp), np.empty(m, np.uintp)
            lib.ss_network_spikes(self._net, have, m, dptr(t), sptr(p), sptr(i))
            self._spk = tuple(np.concatenate([a, b]) for a, b in zip(self._spk, (t, p, i)))
        return self._spk

    def samples(self):
        """(t, population, index, value) arrays of every sampled state."""
        n = lib.ss_network_nsamples(self._net)
        have = self._smp[0].size
        if n > have:
            m = n - have
            t, p, i, v = np.empty(m), np.empty(m, np.uintp), np.empty(m, np.uintp), np.empty(m)
            lib.ss_network_samples(self._net, have, m, dptr(t), sptr(p), sptr(i), dptr(v))
            self._smp = tuple(np.concatenate([a, b]) for a, b in zip(self._smp, (t, p, i, v)))
        return self._smp

    def stats(self):
        """Solver statistics: steps, rhs_evals, restarts."""
        s, r, q = ffi.new("long *"), ffi.new("long *"), ffi.new("long *")
        lib.ss_network_stats(self._net, s, r, q)
        return {"steps": s[0], "rhs_evals": r[0], "restarts": q[0]}

    def spikes_dataframe(self):
        """Spikes as a pandas DataFrame (t, population, index)."""
        import pandas as pd
        t, p, i = self.spikes()
        names = np.array([pp.name for pp in self.populations], dtype=object)
        return pd.DataFrame({"t": t, "population": names[p.astype(np.intp)] if t.size else [],
                             "index": i.astype(np.int64)})

    def write_spikes(self, path):
        err = new_error()
        check(lib.ss_network_write_spikes(self._net, cstr(path), err), err)

    def write_states(self, path):
        err = new_error()
        check(lib.ss_network_write_states(self._net, cstr(path), err), err)

    def write_summary(self, path, seconds=0.0):
        err = new_error()
        check(lib.ss_network_write_summary(self._net, cstr(path), float(seconds), err), err)
