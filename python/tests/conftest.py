"""Shared fixtures: the repository, the smallsim program (the CLI the
Python results are checked against) and the process's engine."""

import os
import subprocess

import pytest

import smallsim

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONG = os.environ.get("SS_LONG", "0") not in ("", "0")
SANITIZE = os.environ.get("SS_SANITIZE", "0") not in ("", "0")


def program():
    p = os.environ.get("SS_TEST_PROGRAM") or os.path.join(ROOT, "build", "smallsim")
    if not os.access(p, os.X_OK):
        pytest.skip("the smallsim program is not built (make)")
    return p


def cli(*args, cwd=None, check=True):
    """Runs `smallsim ARGS...`; returns the completed process."""
    r = subprocess.run([program(), *map(str, args)], cwd=cwd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("smallsim %s: exit %d\n%s%s" % (" ".join(map(str, args)),
                                                           r.returncode, r.stdout, r.stderr))
    return r


def example(*parts):
    return os.path.join(ROOT, "examples", *parts)


@pytest.fixture(scope="session", autouse=True)
def _in_a_scratch_folder(tmp_path_factory):
    """The tests run in a scratch folder: ngspice writes some files into the
    current folder (BSIM3v3.1 cards: b3v3_1check.log), not the checkout."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(old)


@pytest.fixture(scope="session")
def eng():
    return smallsim.engine()
