#!/bin/sh
# fit_files.sh: one fit per kind of measured file, as docs/fitting.md shows
# them: the Knowm sine loops in data/knowm-wsdc (the README's example, a
# parameter set scored on another measurement, the device-voltage form),
# an oscilloscope capture, a Keithley DC sweep of a rectifying device with
# the linear and the log objective, and a DC sweep without a time column.
# The instrument files of the last three are written here as the
# instruments write them, from a known device plus noise (a fixed-seed
# generator in awk), so the truth is known.
#   sh examples/fit_files.sh [build/smallsim] [out-dir] [plot-dir]
# Run from the repository root.  docs/fitting.md was made with
#   sh examples/fit_files.sh build/smallsim fit-files docs/img
set -eu
SS=${1:-build/smallsim}
OUT=${2:-fit-files}
IMG=${3:-$OUT/img}
K=data/knowm-wsdc
mkdir -p "$OUT" "$IMG"
SUM="$OUT/summary.txt"
: > "$SUM"

# The line "NRMSE ... overall, log error ... decades, ..." of a fit's output.
summary() {
    echo "== $1" >> "$SUM"
    grep -E '^(parameter|[a-z_0-9]+ +[-0-9.e+]+ [A-Za-z/1]+ )' "$2" >> "$SUM" || true
    grep -E '^file |overall' "$2" >> "$SUM"
    grep -E '^smallsim: (warning|  |[0-9]+ parameter|note|.*current offset|.*folded)' "$2" \
        >> "$SUM" || true
}

# Fixed-seed Gaussian noise for awk: the Park-Miller generator (exact in
# doubles) and Box-Muller.
AWKRNG='function rnd() { seed = (16807 * seed) % 2147483647; return seed / 2147483647 }
function gauss(  u, v) { u = rnd(); v = rnd(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * v) }'

# ---- 1. Knowm W-SDC sine loops (data/knowm-wsdc): the README's example ------------
F=""
for r in 5k 47k; do for f in 1 10 100 1000; do F="$F $K/r$r-0.8V-${f}Hz-M1.series.csv"; done; done
# shellcheck disable=SC2086
"$SS" fit --model vteam --polarity reversed --fix alpha_on=3 --fix alpha_off=1 \
    --current-scale 1e-6 --series 5k,5k,5k,5k,47k,47k,47k,47k \
    --freq 1,10,100,1000,1,10,100,1000 $F -o "$OUT/knowm-M1.json" \
    --plot "$IMG/fit-knowm-M1-vteam.png" --csv "$OUT/knowm-M1.csv" --quiet > "$OUT/knowm-M1.txt" 2>&1
summary "Knowm M1, 8 loops, vteam" "$OUT/knowm-M1.txt"

# The fitted set scored on a measurement it was not fitted to (0.3 V, 10 Hz).
"$SS" fit --evaluate "$OUT/knowm-M1.json" --current-scale 1e-6 --series 5k --freq 10 \
    "$K/r5k-0.3V-10Hz-M1.series.csv" --plot "$IMG/eval-knowm-M1-0.3V.png" \
    --csv "$OUT/eval-0.3V.csv" --quiet > "$OUT/eval-0.3V.txt" 2>&1
summary "Knowm M1, the fit scored on 0.3 V 10 Hz" "$OUT/eval-0.3V.txt"

# The same device, Yakopcic, applied voltage + series resistor against the
# device-voltage form (the device.csv files: the voltage across the device).
F5=""; D5=""
for f in 1 10 100 1000; do
    F5="$F5 $K/r5k-0.8V-${f}Hz-M1.series.csv"; D5="$D5 $K/r5k-0.8V-${f}Hz-M1.device.csv"
done
# shellcheck disable=SC2086
"$SS" fit --model yakopcic --current-scale 1e-6 --series 5k --freq 1,10,100,1000 $F5 \
    --csv "$OUT/series-form.csv" --quiet > "$OUT/series-form.txt" 2>&1
summary "Knowm M1 5k, yakopcic, applied voltage + 5 kohm" "$OUT/series-form.txt"
# shellcheck disable=SC2086
"$SS" fit --model yakopcic --current-scale 1e-6 --freq 1,10,100,1000 $D5 \
    --plot "$IMG/fit-knowm-M1-device-yakopcic.png" --csv "$OUT/device-form.csv" --quiet \
    > "$OUT/device-form.txt" 2>&1
summary "Knowm M1 5k, yakopcic, device voltage" "$OUT/device-form.txt"

# ---- 2. An oscilloscope capture: Keysight layout, sense resistor, offset -----------
# oblea_sine behind a 100 ohm sense resistor, 0.5 V 100 Hz sine, 400 samples
# per period; the capture holds periods 8 to 20.4 (the loop has settled).
awk 'BEGIN { print "t,v"; for (k = 0; k < 8160; k++) printf "%.17g,%.17g\n", k / 40000, 0.5 * sin(2 * 3.141592653589793 * 100 * k / 40000) }' \
    > "$OUT/scope-drive.csv"
"$SS" device iv --preset oblea_sine --drive "$OUT/scope-drive.csv" --series 100 \
    -o "$OUT/scope-clean.csv"
# channel 1: 100 ohm x i + 20 mV offset + noise of 1 % of its range; channel
# 2: the applied voltage + 2 mV noise; time as the scope counts it.
paste -d, "$OUT/scope-drive.csv" "$OUT/scope-clean.csv" | awk -F, "$AWKRNG"'
    BEGIN { seed = 2385; print "x-axis,1,2\r"; print "second,Volt,Volt\r" }
    NR > 1 && NR - 2 >= 3200 { printf "%+.6E,%+.6E,%+.6E\r\n", $1 - 0.1, 100 * $5 + 0.02 + 0.0066 * gauss(), $2 + 0.002 * gauss() }' \
    > "$OUT/scope.csv"
"$SS" fit --model yakopcic --polarity normal --fix b=0.05 --columns t,vsense,v --sense 100 \
    --offset auto "$OUT/scope.csv" --plot "$IMG/fit-scope.png" --csv "$OUT/scope-fit.csv" \
    -o "$OUT/scope.json" \
    > "$OUT/scope.txt" 2>&1
summary "Oscilloscope capture (Keysight), oblea_sine truth" "$OUT/scope.txt"

# ---- 3. A Keithley 4200 sweep of a rectifying device ----------------------------------
# nbsto_10um with an OFF branch 100 times smaller (gmin_n 4.4e-9 A, gmax_n
# 1.7e-5 A): nA at -0.5 V, mA at +1 V; the source's sweep 0 -> +1 -> -2 -> 0
# in 10 mV steps of 0.0844 s; 5 % log-normal current noise.
awk 'BEGIN { print "t,v"; n = 0; v = 0; printf "0,0\n";
    split("0 1 0 -2 0", e, " ");
    for (s = 1; s <= 4; s++) { m = int((e[s + 1] - e[s]) / 0.01 + (e[s + 1] > e[s] ? 0.5 : -0.5)); if (m < 0) m = -m;
        for (k = 1; k <= m; k++) { n++; printf "%.17g,%.17g\n", n * 0.0844, e[s] + (e[s + 1] - e[s]) * k / m } } }' \
    > "$OUT/sweep-drive.csv"
"$SS" device iv --preset nbsto_10um --param gmax_n=1.7e-5 --param gmin_n=4.4e-9 \
    --drive "$OUT/sweep-drive.csv" -o "$OUT/sweep-clean.csv"
awk -F, "$AWKRNG"'
    BEGIN { seed = 5; print "Item,Smu1.Time[1][1],Smu1.V[1][1],Smu1.I[1][1],Smu1.R[1][1],\r" }
    NR > 1 { i = $3 * exp(0.05 * gauss()) + 2e-12 * gauss(); printf "%d,%.10g,%.15G,%.15G,%.15G,\r\n", NR - 1, $1, $2, i, (i != 0 ? $2 / i : 0) }' \
    "$OUT/sweep-clean.csv" > "$OUT/keithley.csv"
for obj in linear log; do
    "$SS" fit --model yakopcic2020 --polarity normal --objective "$obj" --starts 4 \
        "$OUT/keithley.csv" --plot "$IMG/fit-keithley-$obj.png" --plot-log \
        --csv "$OUT/keithley-$obj-fit.csv" \
        -o "$OUT/keithley-$obj.json" --quiet > "$OUT/keithley-$obj.txt" 2>&1
    summary "Keithley sweep, rectifying, --objective $obj" "$OUT/keithley-$obj.txt"
done

# ---- 4. A DC sweep without a time column ---------------------------------------------
# miao_taox as its source drove it (+0.75 V, -1.25 V), 10 mV steps of 50 ms,
# exported as V1,I1,absI with 1 % noise.
awk 'BEGIN { print "t,v"; n = 0; printf "0,0\n";
    split("0 0.75 0 -1.25 0", e, " ");
    for (s = 1; s <= 4; s++) { m = int((e[s + 1] - e[s]) / 0.01 + (e[s + 1] > e[s] ? 0.5 : -0.5)); if (m < 0) m = -m;
        for (k = 1; k <= m; k++) { n++; printf "%.17g,%.17g\n", n * 0.05, e[s] + (e[s + 1] - e[s]) * k / m } } }' \
    > "$OUT/dc-drive.csv"
"$SS" device iv --preset miao_taox --drive "$OUT/dc-drive.csv" -o "$OUT/dc-clean.csv"
awk -F, "$AWKRNG"'
    BEGIN { seed = 11 } NR > 1 { v[NR] = $2; i[NR] = $3; if ($3 > hi) hi = $3; if ($3 < lo) lo = $3 }
    END { print "V1,I1,absI\r"; for (k = 2; k <= NR; k++) { x = i[k] + 0.01 * (hi - lo) * gauss(); printf "%.6g,%.6g,%.6g\r\n", v[k], x, (x < 0 ? -x : x) } }' \
    "$OUT/dc-clean.csv" > "$OUT/dc-sweep.csv"
"$SS" fit --model yakopcic --polarity normal --fix b=0.5 --step-time 0.05 "$OUT/dc-sweep.csv" \
    --plot "$IMG/fit-dc-sweep.png" --csv "$OUT/dc-sweep-fit.csv" -o "$OUT/dc-sweep.json" \
    > "$OUT/dc-sweep.txt" 2>&1
summary "DC sweep without time (V1,I1,absI), miao_taox truth" "$OUT/dc-sweep.txt"

cat "$SUM"
