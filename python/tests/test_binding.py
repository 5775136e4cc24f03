"""The binding itself: its parameter structs carry every member the
headers declare (the compiler already checks the types and offsets of
those it names), and errors carry kind, file and line."""

import os
import re

import pytest

import smallsim
from smallsim import ffi, lib
from conftest import ROOT

# struct (as the binding names it) -> header that declares it
STRUCTS = {
    "ss_lif_params": "cosim/network/ss_network.h",
    "ss_dpi_params": "cosim/network/ss_network.h",
    "ss_network_options": "cosim/network/ss_network.h",
    "ss_network_plasticity": "cosim/network/ss_network.h",
    "ss_crossbar_spec": "cosim/crossbar/ss_crossbar.h",
    "ss_devsim_options": "cosim/devsim/ss_devsim.h",
    "ss_devsim_trace": "cosim/devsim/ss_devsim.h",
    "ss_experiment": "cosim/experiment/ss_experiment.h",
    "ss_fit_options": "fit/ss_fit.h",
    "ss_fit_param": "fit/ss_fit.h",
    "ss_fit_file": "fit/ss_fit.h",
    "ss_fit_result": "fit/ss_fit.h",
    "ss_fit_read_options": "fit/ss_fit.h",
    "ss_fit_data": "fit/ss_fit.h",
    "ss_sweep_spec": "sweep/ss_sweep.h",
    "ss_sweep_options": "sweep/ss_sweep.h",
    "ss_sweep_progress": "sweep/ss_sweep.h",
    "ss_sweep_summary": "sweep/ss_sweep.h",
    "ss_circuit_point": "circuits/ss_circuits.h",
    "ss_circuit_config": "circuits/ss_circuits.h",
    "ss_circuit_campaign_spec": "circuits/ss_circuits.h",
    "ss_circuit_progress": "circuits/ss_circuits.h",
    "ss_circuit_bias": "circuits/ss_circuits.h",
    "ss_l2l_opt_settings": "l2l/ss_l2l.h",
    "ss_l2l_options": "l2l/ss_l2l.h",
    "ss_l2l_event": "l2l/ss_l2l.h",
    "ss_l2l_summary": "l2l/ss_l2l.h",
    "ss_l2l_param": "l2l/ss_l2l.h",
    "ss_engine_hooks": "cosim/engine/ss_engine.h",
    "ss_vector": "cosim/engine/ss_engine.h",
    "ss_plot": "cosim/engine/ss_engine.h",
    "ss_measure": "cosim/engine/ss_engine.h",
    "ss_result": "cosim/engine/ss_engine.h",
    "ss_engine_child_options": "cosim/engine/ss_engine.h",
}


def header_members(header, struct):
    """Member names of `typedef struct NAME { ... } NAME;` in a header."""
    text = open(os.path.join(ROOT, header)).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    m = re.search(r"typedef struct %s \{(.*?)\} %s;" % (struct, struct), text, re.S)
    assert m, "%s not found in %s" % (struct, header)
    names = []
    for decl in m.group(1).split(";"):
        decl = decl.strip()
        if not decl:
            continue
        fn = re.search(r"\(\s*\*\s*(\w+)\s*\)", decl)
        if fn:
            names.append(fn.group(1))
            continue
        # "double a, b[3], *c" -> a, b, c (the type is the first word(s))
        first, *rest = [p.strip() for p in decl.split(",")]
        names.append(re.sub(r"\[.*", "", first).split()[-1].lstrip("*"))
        names += [re.sub(r"\[.*", "", r).strip().lstrip("*") for r in rest]
    return names


@pytest.mark.parametrize("struct", sorted(STRUCTS))
def test_struct_members_match_the_headers(struct):
    mine = [n for n, _ in ffi.typeof(struct).fields]
    assert mine == header_members(STRUCTS[struct], struct)


def test_error_attributes():
    e = smallsim.Error("exp.yaml:12: population 'x': unknown kind", lib.SS_EPARSE)
    assert (e.kind, e.code, e.file, e.line) == ("SS_EPARSE", lib.SS_EPARSE, "exp.yaml", 12)
    assert e.message == "exp.yaml:12: population 'x': unknown kind"
    e = smallsim.Error("sweep: rc.cir:3: no parameter 'rr'", lib.SS_ENOTFOUND)
    assert (e.file, e.line, e.kind) == ("rc.cir", 3, "SS_ENOTFOUND")
    e = smallsim.Error("out of memory", lib.SS_ENOMEM)
    assert e.file is None and e.line is None
    assert issubclass(smallsim.ParseError, ValueError)
    assert issubclass(smallsim.NotFoundError, LookupError)
    assert smallsim.__version__ == "0.1.0"
    assert smallsim.spice_number("4.7u") == pytest.approx(4.7e-6)
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.spice_number("four")
