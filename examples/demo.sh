#!/bin/sh
# demo.sh: the README's main demo.  Runs what smallsim can do today and
# writes its results and plots into demo-out/.
set -eu
SMALLSIM=${1:-build/smallsim}
HERE=$(dirname "$0")
OUT=${DEMO_OUT:-demo-out}
mkdir -p "$OUT"

echo "== 1. an ngspice netlist through the shared-library engine"
"$SMALLSIM" spice run "$HERE/engine/rc_pulse.cir" --vectors 'v(in),v(out)' -o "$OUT/rc_pulse.csv"
"$SMALLSIM" spice run "$HERE/engine/rc_pulse.cir" -o "$OUT/rc_pulse.raw"
echo "   wrote $OUT/rc_pulse.csv ($(wc -l < "$OUT/rc_pulse.csv") rows) and $OUT/rc_pulse.raw"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot <<GP
set terminal pngcairo size 900,500
set output '$OUT/rc_pulse.png'
set datafile separator ','
set key autotitle columnhead
set xlabel 'time (ms)'; set ylabel 'V'; set grid
plot '$OUT/rc_pulse.csv' using (\$1*1e3):2 with lines lw 2, '' using (\$1*1e3):3 with lines lw 2
GP
    echo "   plot: $OUT/rc_pulse.png"
fi

echo "== 2. untrusted netlists are screened before ngspice sees them"
printf 'evil\nV1 a 0 1\n.control\nshell echo pwned\n.endc\n.end\n' > "$OUT/evil.cir"
if "$SMALLSIM" spice run "$OUT/evil.cir" 2>&1; then echo "   NOT REFUSED"; exit 1; fi

echo "== 3. a memristor: pinched hysteresis loop in C, the same device in ngspice"
"$SMALLSIM" device iv --preset oblea_sine --wave sine:0.45:100 --points 400 \
    -o "$OUT/oblea_iv.csv" --plot "$OUT/oblea_iv.png"
"$SMALLSIM" device spice --preset oblea_sine --wave sine:0.45:100 -o "$OUT/oblea.cir"
"$SMALLSIM" spice run "$OUT/oblea.cir" -o "$OUT/oblea_ngspice.csv"
echo "   C loop: $OUT/oblea_iv.png; ngspice run of the exported subcircuit: $OUT/oblea_ngspice.csv"

echo "== 4. a 64 x 64 crossbar with line resistance: smallsim vs ngspice"
awk 'BEGIN { srand(7); for (i = 0; i < 64; i++) { for (j = 0; j < 64; j++)
     printf "%s%.6g", (j ? "," : ""), 1e-6 + 99e-6 * rand(); printf "\n" } }' > "$OUT/g64.csv"
awk 'BEGIN { srand(8); for (i = 0; i < 64; i++) printf "%.6g\n", 0.2 * rand() }' > "$OUT/v64.csv"
XB="--rows 64 --cols 64 --rwire 2 --rsource 10 --rsense 10"
"$SMALLSIM" crossbar dc $XB --g-file "$OUT/g64.csv" --inputs "$OUT/v64.csv" --stats -o "$OUT/i64.csv"
"$SMALLSIM" netlist crossbar $XB --g-file "$OUT/g64.csv" --inputs "$OUT/v64.csv" -o "$OUT/x64.cir"
t0=$(date +%s.%N)
"$SMALLSIM" spice run "$OUT/x64.cir" --vectors 'i(vsense0),i(vsense63)' -o "$OUT/x64_ngspice.csv"
t1=$(date +%s.%N)
awk -v t0="$t0" -v t1="$t1" 'NR == 1 { a = $1 } NR == 64 { b = $1 }
     END { printf "   smallsim: I(col 0) = %.9g A, I(col 63) = %.9g A\n", a, b }' "$OUT/i64.csv"
awk -F, -v t0="$t0" -v t1="$t1" 'NR == 2 { printf "   ngspice:  I(col 0) = %.9g A, I(col 63) = %.9g A (%.2f s)\n", $1, $2, t1 - t0 }' \
    "$OUT/x64_ngspice.csv"

echo "== 5. a spiking network with a memristive crossbar (examples/network/balanced.yaml)"
"$SMALLSIM" run "$HERE/network/balanced.yaml" -o "$OUT/network"
echo "   raster: $OUT/network/raster.png"

echo "== 6. a plastic memristive crossbar learns four associations (examples/network/association.yaml)"
"$SMALLSIM" run "$HERE/network/association.yaml" -o "$OUT/association" -q
awk -F, 'NR > 1 && $2 == "output" && $1 > 3.2 { p = int(((($1 - 3.2) % 0.8) - 0.1) / 0.2); c[p "," $3]++ }
     END { for (p = 0; p < 4; p++) { s = ""; for (o = 0; o < 4; o++) s = s sprintf(" %3d", c[p "," o]);
           printf "   test pattern %d -> output spikes%s\n", p, s } }' "$OUT/association/spikes.csv"
echo "   conductances before/after: $OUT/association/crossbar0.png"

for extra in "$HERE"/demo.d/*.sh; do
    [ -e "$extra" ] || continue
    sh "$extra" "$SMALLSIM" "$OUT"
done
echo "== demo done: results in $OUT/"
