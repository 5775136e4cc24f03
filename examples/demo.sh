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

for extra in "$HERE"/demo.d/*.sh; do
    [ -e "$extra" ] || continue
    sh "$extra" "$SMALLSIM" "$OUT"
done
echo "== demo done: results in $OUT/"
