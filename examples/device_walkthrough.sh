#!/bin/sh
# device_walkthrough.sh: a device engineer's tour of `smallsim device`.
#   sh examples/device_walkthrough.sh [path/to/smallsim] [output-folder]
# 1. list the models, parameters and presets;
# 2. drive the Oblea Ag-chalcogenide device with its 100 Hz sine, write the
#    I-V trace and plot the pinched hysteresis loop;
# 3. export the same device as an ngspice subcircuit and as a runnable deck;
# 4. run the deck in ngspice -b and compare its state with smallsim's.
set -eu
SS=${1:-build/smallsim}
OUT=${2:-$(mktemp -d /tmp/smallsim-device-XXXXXX)}
mkdir -p "$OUT"
echo "== 1. models and presets (first lines)"
"$SS" device list | sed -n '1,8p;/^presets:/,/oblea_triangle/p'

echo "== 2. I-V transient: oblea_sine, sine 0.45 V 100 Hz, 2 cycles"
"$SS" device iv --preset oblea_sine --wave sine:0.45:100:2 --points 801 \
    -o "$OUT/iv.csv" --plot "$OUT/iv.png"
head -3 "$OUT/iv.csv"
echo "   loop plot: $OUT/iv.png"
# the same behind a 47 ohm series resistor, as on a measurement board
"$SS" device iv --preset oblea_sine --wave sine:0.45:100:2 --series 47 --points 801 \
    -o "$OUT/iv-series.csv" --plot "$OUT/iv-series.png"
# textbook (discontinuous) equations for comparison with other tools
"$SS" device iv --preset oblea_sine --hard --wave sine:0.45:100:2 --points 801 -o "$OUT/iv-hard.csv"

echo "== 3. SPICE export"
"$SS" device spice --preset oblea_sine --name oblea > "$OUT/oblea.sub"
grep -E '^\.(subckt|ends)|^[BC]' "$OUT/oblea.sub"
"$SS" device spice --preset oblea_sine --wave sine:0.45:100:2 -o "$OUT/oblea_tb.cir"

echo "== 4. ngspice -b on the exported deck"
# add a control block that writes the state next to time
{
    sed '/^\.end$/d' "$OUT/oblea_tb.cir"
    printf '.control\nrun\nwrdata %s/spice.txt v(x1.xs) i(vsense)\n.endc\n.end\n' "$OUT"
} > "$OUT/oblea_run.cir"
# (ngspice -b exits non-zero after a .control block without "quit"; the
# data file is what counts)
ngspice -b "$OUT/oblea_run.cir" > "$OUT/ngspice.log" 2>&1 || true
[ -s "$OUT/spice.txt" ] || { echo "ngspice failed, see $OUT/ngspice.log" >&2; exit 1; }
# x at the end of the run, both ways (wrdata columns: t x t i)
tail -1 "$OUT/spice.txt" | awk '{printf "   ngspice:  t = %.4g s  x = %.6f\n", $1, $2}'
tail -1 "$OUT/iv.csv" | awk -F, '{printf "   smallsim: t = %.4g s  x = %.6f\n", $1, $4}'
echo "outputs in $OUT"
