#!/bin/sh
# install-deps.sh: installs smallsim's Debian dependencies when any is missing.
# Run by the make targets on first use; safe to run again (it checks first).
set -eu
PKGS="build-essential pkg-config libngspice0-dev ngspice libsundials-dev libsuitesparse-dev \
libgsl-dev check libyaml-dev libseccomp-dev gnuplot-nox xschem \
python3 python3-dev python3-cffi python3-numpy python3-pytest python3-pandas"
# xschem: the conformance test netlists a schematic with it (batch mode, no
# display needed; libraries only, no X server).
# Optional: `make MPI=1` (sweeps over MPI ranks) needs Open MPI.
if [ "${MPI:-}" = 1 ]; then PKGS="$PKGS libopenmpi-dev openmpi-bin"; fi
# Optional: `make bench` compares the network layer with Brian2.
if [ "${1:-}" = bench ]; then PKGS="$PKGS python3-brian"; fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: missing packages:$missing; run as root: apt-get install$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
