#!/bin/sh
# l2l_arm.sh: the one-shot arm, start to finish.
#   sh examples/l2l_arm.sh [path/to/smallsim] [output-folder] [generations]
# (generations 0: skip step 1 and use the committed examples/l2l/arm-oneshot.json)
# 1. tune the meta-parameters of the memristive one-shot learner
#    (arm-oneshot: rule, pulse amplitude and width, read voltage, gains)
#    with CMA-ES, population 16, on 2 workers; every individual's pulse
#    response is measured in ngspice;
# 2. score the validation-selected best.json on 100 held-out trajectories;
# 3. replay the first held-out trajectory and plot the demonstrated,
#    learned (after one demonstration and one write) and unlearned hand paths.
set -eu
SS=${1:-build/smallsim}
OUT=${2:-$(mktemp -d /tmp/smallsim-arm-XXXXXX)}
GEN=${3:-50}
mkdir -p "$OUT"
BEST="$OUT/run/best.json"
if [ "$GEN" -gt 0 ]; then
    echo "== 1. CMA-ES, pop 16, $GEN generations, 2 workers (progress every 10 generations)"
    "$SS" l2l --task arm-oneshot --pop 16 --generations "$GEN" --jobs 2 --seed 1 \
        -o "$OUT/run" 2>&1 | awk '/generation/ && (++n % 10 == 0) {print}'
    echo "   learning curve: $OUT/run/learning.png"
else
    BEST="$(dirname "$0")/l2l/arm-oneshot.json"
    echo "== 1. (skipped) the committed $BEST"
fi

echo "== 2. test on held-out trajectories"
"$SS" l2l eval --task arm-oneshot --params "$BEST" --jobs 2 \
    --trace "$OUT/trace.csv"

echo "== 3. plot"
if command -v gnuplot >/dev/null 2>&1; then
    gnuplot <<EOG
set terminal pngcairo size 900,700
set output '$OUT/arm.png'
set datafile separator ','
set key autotitle columnhead top left
set size ratio -1
set xlabel 'x (m)'; set ylabel 'y (m)'
set title 'one-shot arm: one demonstration, one memristor write'
plot '$OUT/trace.csv' using 2:3 with lines lw 3 lc rgb 'black' title 'demonstrated', \
     '' using 6:7 with lines lw 2 lc rgb 'red' title 'learned (test replay)', \
     '' using 4:5 with lines lw 2 dt 2 lc rgb 'blue' title 'unlearned'
EOG
    echo "   $OUT/arm.png"
else
    echo "   gnuplot not found: the trajectories are in $OUT/trace.csv"
fi
