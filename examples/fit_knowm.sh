#!/bin/sh
# fit_knowm.sh: fits every Knowm W-SDC device in data/knowm-wsdc (one
# parameter set per device, series resistor and model, across its 0.8 V
# frequencies) and writes JSON, subcircuits, plots and the NRMSE table of
# docs/fitting.md.
#   sh examples/fit_knowm.sh [build/smallsim] [out-dir] [plot-dir]
# Run from the repository root.  docs/fitting.md was made with
#   sh examples/fit_knowm.sh build/smallsim fit-knowm docs/img
set -eu
SS=${1:-build/smallsim}
OUT=${2:-fit-knowm}
IMG=${3:-$OUT/img}
K=data/knowm-wsdc
mkdir -p "$OUT/json" "$OUT/spice" "$IMG"
worst=0
TABLE="$OUT/nrmse.md"
echo "| device | series | files | vteam | yakopcic | yakopcic2020 |" > "$TABLE"
echo "|---|---|---|---|---|---|" >> "$TABLE"
for dev in M1 M2; do
    for r in 5k 47k; do
        files=""; freqs=""
        for f in 1 10 100 1000; do
            p="$K/r$r-0.8V-${f}Hz-$dev.series.csv"
            [ -f "$p" ] || continue
            files="$files $p"; freqs="$freqs${freqs:+,}$f"
        done
        [ -n "$files" ] || continue
        row="| $dev | $r | $freqs Hz |"
        for m in vteam yakopcic yakopcic2020; do
            tag="$dev-r$r-$m"
            # shellcheck disable=SC2086
            "$SS" fit --model "$m" --freq "$freqs" --current-scale 1e-6 --series "$r" \
                --seed 1 --quiet -o "$OUT/json/$tag.json" --spice "$OUT/spice/$tag.sub" \
                --name "knowm_${dev}_r$r" --plot "$IMG/fit-$tag.png" --csv "$OUT/json/$tag.csv" \
                --spice-check $files \
                > "$OUT/json/$tag.txt"
            nrmse=$(sed -n 's/^  "nrmse": \(.*\),$/\1/p' "$OUT/json/$tag.json")
            nid=$(sed -n '/^parameter/,/^fixed/p' "$OUT/json/$tag.txt" | grep -vc '^parameter\|^fixed\|NOT' || true)
            nfree=$(sed -n '/^parameter/,/^fixed/p' "$OUT/json/$tag.txt" | grep -vc '^parameter\|^fixed' || true)
            secs=$(sed -n 's/^  "seconds": \(.*\)$/\1/p' "$OUT/json/$tag.json")
            w=$(sed -n 's/^ngspice check: worst NRMSE \([^ ]*\).*/\1/p' "$OUT/json/$tag.txt")
            worst=$(awk -v a="$worst" -v b="$w" 'BEGIN { print (b + 0 > a + 0) ? b : a }')
            row="$row $(awk -v x="$nrmse" -v s="$secs" -v a="$nid" -v b="$nfree" 'BEGIN { printf "%.2f %% (%.1f s, %d/%d)", 100 * x, s, a, b }') |"
        done
        echo "$row" >> "$TABLE"
    done
done
echo >> "$TABLE"
echo "Worst NRMSE of the emitted subcircuits in ngspice against the fitted curves: $worst" >> "$TABLE"
cat "$TABLE"
