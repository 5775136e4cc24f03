"""pip install ./python (from a built clone: `make` first; offline with
--no-build-isolation, which uses Debian's python3-cffi and setuptools).

The compiled module links the clone's build/libsmallsim.so (or
$SMALLSIM_BUILD/libsmallsim.so) with its folder as run path; without a built
clone it uses an installed library (make install; pkg-config smallsim)."""

from setuptools import setup

setup(
    name="smallsim",
    version="0.1.0",
    description="Python binding of smallsim, a co-simulator for spiking neuromorphic hardware",
    license="GPL-3.0-or-later",
    packages=["smallsim"],
    python_requires=">=3.9",
    install_requires=["cffi>=1.12", "numpy"],
    setup_requires=["cffi>=1.12"],
    cffi_modules=["smallsim/_build.py:ffibuilder"],
    zip_safe=False,
)
