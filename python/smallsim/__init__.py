"""smallsim: a co-simulator for spiking neuromorphic hardware, from Python.

A binding of the C library libsmallsim (built with cffi against its public
headers): the ngspice engine with co-simulation hooks, memristor models and
fitting, crossbars, spiking networks, sweeps and characterization on the
worker pool, and learning to learn.  Every library failure is raised as a
smallsim.Error subclass carrying `kind` (the SS_E... name), `file`, `line`
and `message`.  See docs/python.md.
"""

from ._core import (BusyError, CrashError, DeniedError, EngineError, Error, FileError,
                    InvalidArgument, NotFoundError, NumericError, OutOfMemory, ParseError,
                    SimulationError, TimeoutFailure, cpu_time, ffi, lib, rss_kb, spice_number)
from .circuits import Characterization, Circuit, characterize, circuits, run_point
from .crossbar import Crossbar, crossbar_dc, crossbar_tran
from .devices import Device, IVTrace, Variation, models, presets, wave_value
from .engine import Engine, Plot, Result, engine, run_isolated
from .fit import FitData, FitResult, fit, read_data
from .l2l import Optimizer, Task, best, l2l, l2l_test, optimizers, task_families
from .network import Network, Population, StateMonitor, dpi_defaults, dpi_rate, lif_defaults
from .sweep import Table, axis_values, read_table, sweep

__version__ = ffi.string(lib.ss_py_version).decode()

__all__ = [
    "Error", "InvalidArgument", "ParseError", "NotFoundError", "NumericError", "OutOfMemory",
    "FileError", "DeniedError", "SimulationError", "TimeoutFailure", "CrashError", "EngineError",
    "BusyError", "cpu_time", "rss_kb", "spice_number",
    "Engine", "Result", "Plot", "engine", "run_isolated",
    "Device", "Variation", "IVTrace", "models", "presets", "wave_value",
    "FitData", "FitResult", "fit", "read_data",
    "Crossbar", "crossbar_dc", "crossbar_tran",
    "Network", "Population", "StateMonitor", "lif_defaults", "dpi_defaults", "dpi_rate",
    "sweep", "axis_values", "read_table", "Table",
    "circuits", "Circuit", "characterize", "Characterization", "run_point",
    "Optimizer", "Task", "l2l", "l2l_test", "best", "optimizers", "task_families",
]
