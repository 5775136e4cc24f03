#!/bin/sh
# l2l_seeds.sh: one task tuned from several run seeds, scored on the test
# instances, with the median and spread and the learning curves of all seeds.
#   sh examples/l2l_seeds.sh SMALLSIM OUT TASK "SEEDS" [l2l options...]
# e.g. the arm-oneshot result of docs/l2l.md:
#   sh examples/l2l_seeds.sh build/smallsim runs arm-oneshot "1 2 3 4 5" \
#       --pop 16 --train-tasks 16 --generations 40 --jobs 2
# Each seed runs in OUT/TASK-SEED (resumed when its checkpoint exists, so a
# second call with more --generations extends the runs); then
#   OUT/TASK-SEED/test.txt   the test metric of its validation-selected best.json
#   OUT/TASK-seeds.txt       seed, generations, evaluations, best validation, test;
#                            median, min and max of the test metric
#   OUT/TASK-seeds.png       best validation so far against evaluations, every seed
set -eu
SS=$1 OUT=$2 TASK=$3 SEEDS=$4
shift 4
mkdir -p "$OUT"
SUM="$OUT/$TASK-seeds.txt"
: > "$SUM.tmp"
for s in $SEEDS; do
    D="$OUT/$TASK-$s"
    R=""
    [ -f "$D/checkpoint" ] && R=--resume
    "$SS" l2l --task "$TASK" --seed "$s" -q --no-plot $R -o "$D" "$@"
    "$SS" l2l eval --task "$TASK" --params "$D/best.json" > "$D/test.txt"
    t=$(awk '/^test/ {print $NF}' "$D/test.txt")
    awk -F, -v s="$s" -v t="$t" 'NR > 1 {g = $1 + 1; e = $2; v = $7}
        END {printf "%s %d %d %.6g %s\n", s, g, e, v, t}' "$D/gens.csv" >> "$SUM.tmp"
done
{
    echo "# seed generations evaluations best_validation test"
    cat "$SUM.tmp"
    sort -g -k5 "$SUM.tmp" | awk '{t[NR] = $5}
        END {m = NR % 2 ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
             printf "# median %.4g, min %.4g, max %.4g over %d seeds\n", m, t[1], t[NR], NR}'
} > "$SUM"
rm -f "$SUM.tmp"
cat "$SUM"
if command -v gnuplot >/dev/null 2>&1; then
    PLOT=""
    for s in $SEEDS; do
        PLOT="$PLOT${PLOT:+, }'$OUT/$TASK-$s/gens.csv' using 2:7 with steps lw 2 title 'seed $s'"
    done
    gnuplot <<EOG
set terminal pngcairo size 900,600
set output '$OUT/$TASK-seeds.png'
set datafile separator ','
set key top right
set logscale y
set xlabel 'evaluations'
set ylabel 'best validation metric so far'
set title '$TASK: validation-selected best, every seed'
plot $PLOT
EOG
    echo "$OUT/$TASK-seeds.png"
fi
