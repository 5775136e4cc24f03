"""Netlist sweeps on the worker pool (sweep/), results as a table."""

import csv
import os
import tempfile

import numpy as np

from ._core import Callbacks, check, cstr, ffi, invalid, lib, new_error, pystr

__all__ = ["sweep", "axis_values", "Table", "read_table"]


class Table(dict):
    """Columns {name: numpy array} of a results file (used when pandas is
    not installed); `summary` holds the run's counts."""

    summary = None

    def __len__(self):
        return len(next(iter(self.values()))) if dict.__len__(self) else 0


def _number(s):
    try:
        return float(s) if s != "" else float("nan")
    except ValueError:
        return None


def read_table(path, dataframe=None):
    """A results CSV (sweep, characterize) as a pandas DataFrame (when pandas
    is installed and dataframe is not False) or a Table of numpy arrays;
    empty fields (failed measurements) are NaN."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        raise invalid("%s: empty results file" % path)
    header, body = rows[0], rows[1:]
    cols = {}
    for k, name in enumerate(header):
        raw = [r[k] if k < len(r) else "" for r in body]
        nums = [_number(s) for s in raw]
        if all(x is not None for x in nums):
            a = np.array(nums, float)
            if name in ("job",) and a.size and np.all(a == np.round(a)):
                a = a.astype(np.int64)
            cols[name] = a
        else:
            cols[name] = np.array(raw, dtype=object)
    if dataframe is not False:
        try:
            import pandas as pd
        except ImportError:
            if dataframe:
                raise
        else:
            return pd.DataFrame(cols, columns=header)
    t = Table()
    t.update(cols)
    return t


def axis_values(spec):
    """The values of a sweep axis spec ("log:1k:100k:20", "lin:0:1:5",
    "dec:1:1k:10", "list:1k,2k", "file:PATH", one number)."""
    ax = ffi.gc(ffi.new("ss_sweep_axis *"), lib.ss_sweep_axis_release)
    err = new_error()
    check(lib.ss_sweep_axis_parse(ax, cstr("x=" + str(spec)), err), err)
    if ax.kind != lib.SS_SWEEP_AXIS_VALUES:
        raise invalid("'%s' is a distribution, not a list of values" % spec)
    return np.frombuffer(ffi.buffer(ax.values, ax.n * 8), dtype=np.float64).copy()


@ffi.def_extern()
def _py_sweep_progress(user, p):
    ctx = ffi.from_handle(user)
    if ctx.exc is not None:
        return
    try:
        ctx.progress({"done": p.done, "failed": p.failed, "total": p.total,
                      "skipped": p.skipped, "elapsed": p.elapsed, "rate": p.rate, "eta": p.eta,
                      "job": p.job, "status": pystr(lib.ss_sweep_status_name(p.status)),
                      "msg": pystr(p.msg)})
    except BaseException as e:  # noqa: B902
        ctx.fail(e)


_MODES = {"grid": "SS_SWEEP_GRID", "zip": "SS_SWEEP_ZIP", "lhs": "SS_SWEEP_LHS",
          "mc": "SS_SWEEP_MC"}


def sweep(netlist, params, *, measures=(), mode="grid", samples=0, seed=1, jobs=1, timeout=0.0,
          out=None, resume=False, raw_dir=None, allow_control=False, any_include=False,
          progress=None, dataframe=None):
    """Runs a netlist sweep (`smallsim sweep`) on `jobs` worker processes.

    `params`: {name: spec} or ["NAME=SPEC", ...] with specs as in
    docs/sweeps.md ("log:1k:100k:20", "gauss:1k:50", ...); `measures`:
    .meas lines without ".meas" ("tran vend FIND v(out) AT=100u"); mode
    "grid", "zip", "lhs" or "mc" (samples: N).  Rows go to `out` (a
    temporary file when None) as each job ends; `resume` keeps its rows.
    Returns the results table (read_table): one row per job with job,
    status, the parameters, seed, the measurements and seconds.
    `progress(info)` is called after every job (an exception is raised
    again when the sweep has ended)."""
    if isinstance(params, dict):
        plist = ["%s=%s" % (k, v) for k, v in params.items()]
    else:
        plist = list(params)
    if mode not in _MODES:
        raise invalid("mode: one of %s, not %r" % (", ".join(_MODES), mode))
    keep = [ffi.new("char[]", cstr(p)) for p in plist]
    mkeep = [ffi.new("char[]", cstr(m)) for m in measures]
    spec = ffi.new("ss_sweep_spec *")
    spec.netlist = keep_path = ffi.new("char[]", cstr(os.fspath(netlist)))
    flags = 0
    if allow_control:
        flags |= lib.SS_NETLIST_ALLOW_CONTROL
    if any_include:
        flags |= lib.SS_NETLIST_ALLOW_ANY_INCLUDE
    spec.netlist_flags = flags
    parr = ffi.new("const char *[]", keep) if keep else ffi.NULL
    marr = ffi.new("const char *[]", mkeep) if mkeep else ffi.NULL
    spec.params, spec.nparams = parr, len(keep)
    spec.measures, spec.nmeasures = marr, len(mkeep)
    spec.mode = getattr(lib, _MODES[mode])
    spec.samples = int(samples)
    spec.seed = int(seed)
    err = new_error()
    sw = lib.ss_sweep_alloc(spec, err)
    if sw == ffi.NULL:
        check(err.code or lib.SS_EINVAL, err)
    sw = ffi.gc(sw, lib.ss_sweep_free)
    tmpdir = None
    if out is None:
        tmpdir = tempfile.mkdtemp(prefix="smallsim-sweep-")
        out = os.path.join(tmpdir, "results.csv")
    try:
        o = ffi.new("ss_sweep_options *", lib.ss_py_sweep_options_defaults)
        o.out = out_c = ffi.new("char[]", cstr(os.fspath(out)))
        o.jobs, o.timeout, o.resume = int(jobs), float(timeout), 1 if resume else 0
        raw_c = None
        if raw_dir is not None:
            o.raw_dir = raw_c = ffi.new("char[]", cstr(os.fspath(raw_dir)))
        ctx = None
        if progress is not None:
            ctx = Callbacks(progress=progress)
            o.progress = lib._py_sweep_progress
            o.user = ctx.handle
        s = ffi.new("ss_sweep_summary *")
        check(lib.ss_sweep_run(sw, o, s, err), err, ctx)
        del out_c, raw_c, keep_path
        summary = {"total": s.total, "ran": s.ran, "skipped": s.skipped, "seconds": s.seconds}
        for k in range(lib.SS_SWEEP_STATUS_MAX):
            summary[pystr(lib.ss_sweep_status_name(k))] = s.count[k]
        table = read_table(out, dataframe)
    finally:
        if tmpdir is not None:
            for f in os.listdir(tmpdir):
                os.unlink(os.path.join(tmpdir, f))
            os.rmdir(tmpdir)
    if isinstance(table, Table):
        table.summary = summary
    else:
        table.attrs["summary"] = summary
    return table
