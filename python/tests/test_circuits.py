"""Characterization from Python against `smallsim characterize` and the
in-process test bench."""

import json

import numpy as np
import pytest

import smallsim
from conftest import cli


def test_library_circuits():
    names = [c["name"] for c in smallsim.circuits()]
    assert {"dpi-neuron", "axon-hillock", "dpi-synapse"} <= set(names)
    c = smallsim.Circuit("dpi-neuron")
    assert c.kind == "neuron" and c.input == "Iin" and "Itau" in c.biases
    assert smallsim.Circuit("dpi-synapse").kind == "synapse"


@pytest.fixture(scope="module")
def fi(tmp_path_factory):
    d = tmp_path_factory.mktemp("char")
    seen = []
    ch = smallsim.characterize("dpi-neuron", "log:200p:2n:5", measures="rate,isi", jobs=2,
                               extract="lif", params=d / "lif.json",
                               progress=lambda job, status, msg: seen.append((job, status)))
    return ch, seen, d


def test_same_numbers_as_cli(fi):
    ch, seen, d = fi
    cli("characterize", "dpi-neuron", "--sweep", "log:200p:2n:5", "--measure", "rate,isi",
        "--jobs", 2, "--extract", "lif", "--params", d / "cli.json", "-o", d / "cli.csv")
    assert ch.csv() == (d / "cli.csv").read_text()
    assert json.loads((d / "lif.json").read_text()) == json.loads((d / "cli.json").read_text())
    assert sorted(seen) == [(k, "SS_OK") for k in range(5)] and ch.failed == 0
    # f-I: rising with the input, rate = 1 / ISI of the regular firing
    assert np.allclose(ch.input, np.geomspace(200e-12, 2e-9, 5))
    assert np.all(np.diff(ch.rate) > 0) and np.allclose(ch.rate, 1 / ch.isi_last, rtol=1e-3)
    x = ch.extraction
    assert x["model"] == "lif" and x["npoints"] == 5 and x["rms_rel"] < 0.05
    assert x["path"] == str(d / "lif.json")
    tab = ch.table(dataframe=False)
    assert np.allclose(tab["rate"], ch.rate, rtol=1e-5)


def test_one_point_in_this_process(eng, fi):
    ch, _, _ = fi
    pt = smallsim.run_point(eng, "dpi-neuron", ch.input[1])
    assert pt["rate"] == pytest.approx(ch.rate[1], rel=1e-5) and pt["nspikes"] >= 8


def test_bad_input(tmp_path):
    with pytest.raises(smallsim.NotFoundError, match="unknown circuit"):
        smallsim.characterize("nosuch", [1e-9])
    with pytest.raises(smallsim.NotFoundError):
        smallsim.characterize("dpi-neuron", [1e-9], biases={"Inope": 1e-12})
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.characterize("dpi-neuron", [1e-9], measures="rate,colour")
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.characterize("dpi-neuron", [])
    with pytest.raises(smallsim.InvalidArgument):
        smallsim.characterize("dpi-neuron", [1e-9], extract="hh")
    with pytest.raises(smallsim.NotFoundError, match="no current"):
        smallsim.characterize("dpi-neuron", [1e-9], bias="Ifoo")
    bad = tmp_path / "mine.sub"
    bad.write_text("my neuron\n* smallsim: like=dpi-neuron\n.subckt mine a b\nR1 a b 1k\n.ends\n")
    with pytest.raises(smallsim.Error) as e:
        smallsim.Circuit(bad)
    assert e.value.file == str(bad)
