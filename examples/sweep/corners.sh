#!/bin/sh
# corners.sh: a corner sweep of the RC filter: R and C at -20 %, nominal and +20 %
# (9 corners), and a fine log sweep of R at nominal C, both with plots.
# usage: sh examples/sweep/corners.sh [path/to/smallsim] [outdir]
set -eu
SMALLSIM=${1:-build/smallsim}
OUT=${2:-/tmp/smallsim-corners}
HERE=$(dirname "$0")
mkdir -p "$OUT"
rm -f "$OUT"/corners.csv* "$OUT"/rsweep.csv*
"$SMALLSIM" sweep "$HERE/rc_filter.cir" \
    --param R1=list:800,1k,1.2k --param C1=list:80n,100n,120n \
    --jobs 2 -o "$OUT/corners.csv" --plot "$OUT/corners.png"
"$SMALLSIM" sweep "$HERE/rc_filter.cir" --param rr=dec:100:10k:10 \
    --measure 'tran vend FIND v(out) AT=100u' \
    --jobs 2 -o "$OUT/rsweep.csv" --plot "$OUT/rsweep.png"
echo "corner  R  C  t50 (expected R*C*ln2)"
awk -F, 'NR > 1 { printf "%s %s %s %s (%.6g)\n", $1, $3, $4, $6, $3 * $4 * log(2) }' "$OUT/corners.csv" | sort -n
