"""Crossbars solved natively (cosim/crossbar/): DC solves with line
resistance and memristive transients, on numpy arrays."""

import numpy as np

from ._core import check, darray, dptr, ffi, invalid, lib, new_error, spice_number
from .devices import Device

__all__ = ["Crossbar", "crossbar_dc", "crossbar_tran"]


class Crossbar:
    """An N x M crossbar in the canonical topology (docs/crossbar.md): word
    line i driven through `rsource`, wire segments of `rwire`, bit line j
    ending in `rsense` to ground.  Keeps the last solution as the next
    starting guess, so repeated solves with small changes are cheap."""

    def __init__(self, rows, cols, rwire=0.0, rsource=0.0, rsense=0.0):
        spec = ffi.new("ss_crossbar_spec *")
        if int(rows) != rows or int(cols) != cols or rows < 0 or cols < 0:
            raise invalid("crossbar: rows and cols must be whole numbers")
        spec.rows, spec.cols = int(rows), int(cols)
        spec.rwire, spec.rsource, spec.rsense = float(rwire), float(rsource), float(rsense)
        err = new_error()
        xb = lib.ss_crossbar_alloc(spec, err)
        if xb == ffi.NULL:
            check(err.code or lib.SS_EINVAL, err)
        self._xb = ffi.gc(xb, lib.ss_crossbar_free)
        self.rows, self.cols = int(rows), int(cols)
        self.spec = {"rows": self.rows, "cols": self.cols, "rwire": float(rwire),
                     "rsource": float(rsource), "rsense": float(rsense)}

    def _v(self, V):
        V = darray(V, "V")
        if V.ndim not in (1, 2) or V.shape[-1] != self.rows:
            raise invalid("V: shape %s, expected (%d,) or (k, %d)" % (V.shape, self.rows,
                                                                     self.rows))
        return V

    def dc(self, G, V):
        """Bit-line currents (A) for conductances G (rows x cols, S) and
        word-line voltages V (rows, or k x rows for k solves)."""
        G = darray(G, "G", (self.rows, self.cols))
        V = self._v(V)
        out = np.empty(V.shape[:-1] + (self.cols,))
        err = new_error()
        for k, (v, o) in enumerate(zip(np.atleast_2d(V), np.atleast_2d(out))):
            check(lib.ss_crossbar_dc(self._xb, dptr(G), dptr(np.ascontiguousarray(v)), dptr(o),
                                     err), err)
        return out

    def _cells(self, device):
        if isinstance(device, Device):
            return device._d, 1
        devs = np.asarray(device, dtype=object)
        if devs.shape != (self.rows, self.cols):
            raise invalid("device: one Device, or rows x cols Devices (shape %s)" % (devs.shape,))
        cells = ffi.new("ss_device[]", self.rows * self.cols)
        for k, d in enumerate(devs.ravel()):
            if not isinstance(d, Device):
                raise invalid("device: cell %d is not a Device" % k)
            cells[k] = d._d[0]
        return cells, 0

    def solve_devices(self, device, x, V):
        """Bit-line currents of a memristive crossbar: every cell `device`
        (one Device, or a rows x cols array of Devices) in states x."""
        cells, shared = self._cells(device)
        x = darray(np.broadcast_to(np.asarray(x, float), (self.rows, self.cols)), "x")
        V = self._v(V)
        out = np.empty(V.shape[:-1] + (self.cols,))
        err = new_error()
        for v, o in zip(np.atleast_2d(V), np.atleast_2d(out)):
            check(lib.ss_crossbar_solve_devices(self._xb, cells, shared, dptr(x),
                                                dptr(np.ascontiguousarray(v)), dptr(o), err), err)
        return out

    def cell_voltages(self):
        """Voltage across every cell (rows x cols) after the last solve."""
        out = np.empty((self.rows, self.cols))
        lib.ss_crossbar_cell_voltages(self._xb, dptr(out))
        return out

    @property
    def iterations(self):
        """Conjugate-gradient iterations of the last solve."""
        return int(lib.ss_crossbar_iterations(self._xb))

    def tran(self, device, x0, inputs, tstop, rtol=0.0):
        """Transient of a memristive crossbar: word line i driven by
        inputs[i], a piecewise-linear source given as (t, v) arrays or as
        text "t0 v0 t1 v1 ...", from 0 to tstop.  Returns the final states
        (rows x cols) from the initial states x0 (None: the device's x0)."""
        cells, shared = self._cells(device)
        if x0 is None:
            x0 = (device.x0 if isinstance(device, Device)
                  else [[d.x0 for d in row] for row in device])
        x = darray(np.broadcast_to(np.asarray(x0, float), (self.rows, self.cols)), "x0").copy()
        if len(inputs) != self.rows:
            raise invalid("inputs: %d sources for %d word lines" % (len(inputs), self.rows))
        pwl = ffi.new("ss_pwl[]", self.rows)
        keep = []
        for i, src in enumerate(inputs):
            if isinstance(src, (str, bytes)):
                vals = src.replace(",", " ").split()
                try:
                    vals = np.array([spice_number(s) for s in vals], float)
                except ValueError as e:
                    raise invalid("inputs[%d]: %s" % (i, e)) from None
                if vals.size % 2 or vals.size < 2:
                    raise invalid("inputs[%d]: 't0 v0 t1 v1 ...' pairs" % i)
                t, v = vals[0::2], vals[1::2]
            else:
                try:
                    t, v = src
                except (TypeError, ValueError):
                    raise invalid("inputs[%d]: (t, v) arrays or 't0 v0 ...' text" % i) from None
            t = darray(t, "inputs[%d] t" % i, (None,))
            v = darray(v, "inputs[%d] v" % i, t.shape)
            if t.size < 1 or not np.all(np.diff(t) > 0) or not np.all(np.isfinite(t)) \
                    or not np.all(np.isfinite(v)):
                raise invalid("inputs[%d]: finite values at increasing times" % i)
            keep += [t, v]
            pwl[i].n, pwl[i].t, pwl[i].v = t.size, dptr(t), dptr(v)
        err = new_error()
        check(lib.ss_crossbar_tran(self._xb, cells, shared, pwl, float(tstop), float(rtol),
                                   dptr(x), err), err)
        return x


def crossbar_dc(G=None, V=None, *, rwire=0.0, rsource=0.0, rsense=0.0, device=None, x=None,
                cell_voltages=False):
    """Bit-line currents of a crossbar: linear cells of conductance G (rows x
    cols, S), or memristive cells (device=Device or an array of Devices in
    states x), under word-line voltages V (rows, or k x rows for k solves).
    With cell_voltages=True also returns the voltage across every cell of
    the last solve."""
    if device is None:
        G = darray(G, "G")
        if G.ndim != 2:
            raise invalid("G: a rows x cols array")
        xb = Crossbar(G.shape[0], G.shape[1], rwire, rsource, rsense)
        out = xb.dc(G, V)
    else:
        x = np.asarray(x, float)
        if x.ndim != 2:
            raise invalid("x: a rows x cols array of states")
        xb = Crossbar(x.shape[0], x.shape[1], rwire, rsource, rsense)
        out = xb.solve_devices(device, x, V)
    return (out, xb.cell_voltages()) if cell_voltages else out


def crossbar_tran(device, x0, inputs, tstop, *, rwire=0.0, rsource=0.0, rsense=0.0, rtol=0.0):
    """Final states (rows x cols) of a memristive crossbar driven by
    piecewise-linear word-line sources (see Crossbar.tran); x0 gives the
    shape (rows x cols)."""
    x0 = np.asarray(x0, float)
    if x0.ndim != 2:
        raise invalid("x0: a rows x cols array of states")
    xb = Crossbar(x0.shape[0], x0.shape[1], rwire, rsource, rsense)
    return xb.tran(device, x0, inputs, tstop, rtol)

