"""The compiled binding, errors and the small conversions every module shares."""

import os
import re

import numpy as np

try:
    from _smallsim import ffi, lib
except ImportError as e:  # pragma: no cover - depends on the installation
    raise ImportError(
        "smallsim: the compiled module _smallsim is missing or cannot load libsmallsim "
        "(build it with `make python` and put build/python on PYTHONPATH, or "
        "`pip install ./python`): %s" % e) from e

__all__ = ["ffi", "lib", "Error", "check", "new_error"]

_KINDS = ["SS_OK", "SS_EINVAL", "SS_ENOMEM", "SS_EIO", "SS_EPARSE", "SS_EDENIED", "SS_ESIM",
          "SS_ETIMEOUT", "SS_ECRASH", "SS_EENGINE", "SS_EBUSY", "SS_ENOTFOUND", "SS_ENUMERIC"]
KIND_OF_CODE = {getattr(lib, k): k for k in _KINDS}
CODE_OF_KIND = {k: c for c, k in KIND_OF_CODE.items()}

# "file:line: what is wrong", possibly after a context prefix ("sweep: rc.cir:3: ...").
_FILE_LINE = re.compile(r"(?:^|: )([^:\n]+?):(\d+): ")


class Error(Exception):
    """A failure reported by the library.

    Attributes: `kind` (the status code's name, "SS_EPARSE"), `code` (its
    number), `message` (the library's one-line message), `file` and `line`
    (the input file and line the message names, else None)."""

    def __init__(self, message, code=None, kind=None):
        if code is None:
            code = CODE_OF_KIND.get(kind, lib.SS_EINVAL)
        self.code = int(code)
        self.kind = kind or KIND_OF_CODE.get(self.code, "SS_E%d" % self.code)
        self.message = message
        m = _FILE_LINE.search(message)
        self.file = m.group(1) if m else None
        self.line = int(m.group(2)) if m else None
        super().__init__(message)

    def __str__(self):
        return "%s (%s)" % (self.message, self.kind)


class InvalidArgument(Error, ValueError):
    """SS_EINVAL: a bad argument or option value."""


class ParseError(Error, ValueError):
    """SS_EPARSE: a malformed input file."""


class NotFoundError(Error, LookupError):
    """SS_ENOTFOUND: a named item (vector, model, preset) does not exist."""


class NumericError(Error, ArithmeticError):
    """SS_ENUMERIC: a numerical method failed."""


class OutOfMemory(Error, MemoryError):
    """SS_ENOMEM."""


class FileError(Error):
    """SS_EIO: a file could not be read or written."""


class DeniedError(Error):
    """SS_EDENIED: input refused by screening."""


class SimulationError(Error):
    """SS_ESIM: the simulator reported an error."""


class TimeoutFailure(Error):
    """SS_ETIMEOUT: a run exceeded its wall-clock limit."""


class CrashError(Error):
    """SS_ECRASH: a worker or engine died."""


class EngineError(Error):
    """SS_EENGINE: the ngspice library could not be loaded or is unusable."""


class BusyError(Error):
    """SS_EBUSY: the one engine of the process is in use."""


_CLASS_OF_KIND = {
    "SS_EINVAL": InvalidArgument, "SS_EPARSE": ParseError, "SS_ENOTFOUND": NotFoundError,
    "SS_ENUMERIC": NumericError, "SS_ENOMEM": OutOfMemory, "SS_EIO": FileError,
    "SS_EDENIED": DeniedError, "SS_ESIM": SimulationError, "SS_ETIMEOUT": TimeoutFailure,
    "SS_ECRASH": CrashError, "SS_EENGINE": EngineError, "SS_EBUSY": BusyError,
}


def make_error(code, message):
    kind = KIND_OF_CODE.get(int(code), "SS_E%d" % int(code))
    return _CLASS_OF_KIND.get(kind, Error)(message, code, kind)


def new_error():
    return ffi.new("ss_error *")


def error_message(err, rc):
    msg = ffi.string(err.msg).decode("utf-8", "replace") if err.msg[0] != b"\0" else ""
    return msg or ffi.string(lib.ss_strerror(rc)).decode()


def check(rc, err, context=None):
    """Raises the Error for status `rc` with err's message; a pending Python
    exception from a callback (context.exc) is raised instead, with the
    library's message as a note."""
    if context is not None and context.exc is not None:
        exc, context.exc = context.exc, None
        if rc:
            exc.add_note("smallsim: " + error_message(err, rc))
        raise exc
    if rc:
        raise make_error(rc, error_message(err, rc))


def invalid(message):
    return InvalidArgument(message, lib.SS_EINVAL, "SS_EINVAL")


def cstr(s):
    """bytes for a C string argument (str paths and texts are UTF-8)."""
    if s is None:
        return ffi.NULL
    if isinstance(s, bytes):
        b = s
    else:
        b = os.fspath(s) if isinstance(s, os.PathLike) else str(s)
        b = b.encode("utf-8") if isinstance(b, str) else b
    if b"\0" in b:
        raise invalid("a string for the library contains a NUL character")
    return b


def pystr(p):
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def darray(a, name="array", shape=None):
    """A C-contiguous float64 copy or view of `a`, checked for shape."""
    try:
        arr = np.ascontiguousarray(a, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise invalid("%s: not an array of numbers (%s)" % (name, e)) from None
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, arr.shape)):
            raise invalid("%s: shape %s, expected %s" % (
                name, arr.shape, tuple("any" if s is None else s for s in shape)))
    return arr


def sizearray(a, name="array"):
    try:
        arr = np.asarray(a)
        if arr.size and not np.issubdtype(arr.dtype, np.integer):
            if not np.all(np.equal(np.mod(arr, 1), 0)):
                raise ValueError("not whole numbers")
        if arr.size and arr.min() < 0:
            raise ValueError("negative index")
        arr = np.ascontiguousarray(arr, dtype=np.uintp)
    except (TypeError, ValueError) as e:
        raise invalid("%s: not an array of indices (%s)" % (name, e)) from None
    return arr


def dptr(arr):
    return ffi.from_buffer("double[]", arr)


def sptr(arr):
    return ffi.from_buffer("size_t[]", arr)


def buf_text(buf):
    """The text of an ss_buf, released."""
    try:
        return ffi.string(buf.data, buf.len).decode("utf-8", "replace") if buf.data else ""
    finally:
        lib.ss_buf_release(buf)


class Callbacks:
    """State shared with the callbacks of one library call: the Python
    callables and the first exception they raised (re-raised by check)."""

    def __init__(self, **fns):
        self.__dict__.update(fns)
        self.exc = None
        self.handle = ffi.new_handle(self)

    def fail(self, exc):
        if self.exc is None:
            self.exc = exc


def spice_number(s):
    """A SPICE number ("10k", "4.7u", "3meg") as a float; plain numbers pass."""
    if not isinstance(s, (str, bytes)):
        return float(s)
    out = ffi.new("double *")
    if lib.ss_util_parse_spice_number(cstr(s), out):
        raise invalid("'%s' is not a number" % (s if isinstance(s, str) else s.decode()))
    return float(out[0])


def rss_kb():
    """Resident set size of this process in kB (from the library)."""
    return int(lib.ss_util_rss_kb())


def cpu_time():
    """CPU time of this process (user + system), seconds."""
    return float(lib.ss_util_cpu_time())
