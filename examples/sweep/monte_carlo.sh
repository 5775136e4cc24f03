#!/bin/sh
# monte_carlo.sh: 500 Monte Carlo samples of the RC filter with a 5 % (1 sigma)
# resistor and a log-normal capacitor; plots the 50 % delay against R.
# usage: sh examples/sweep/monte_carlo.sh [path/to/smallsim] [outdir]
set -eu
SMALLSIM=${1:-build/smallsim}
OUT=${2:-/tmp/smallsim-mc}
HERE=$(dirname "$0")
mkdir -p "$OUT"
rm -f "$OUT/mc.csv" "$OUT/mc.csv.log"
"$SMALLSIM" sweep "$HERE/rc_filter.cir" \
    --param rr=gauss:1k:50 --param cc=lognorm:100n:0.1 --mc 500 --seed 2385 \
    --measure 'tran vend FIND v(out) AT=100u' \
    --jobs 2 --timeout 10 -o "$OUT/mc.csv" --plot "$OUT/mc.png"
# Mean and standard deviation of t50 (column 5) over the ok rows.
awk -F, 'NR > 1 && $2 == "ok" { n++; s += $6; q += $6 * $6 }
         END { m = s / n; printf "t50: %d samples, mean %.4g s, sigma %.3g s\n", n, m, sqrt(q / n - m * m) }' \
    "$OUT/mc.csv"
