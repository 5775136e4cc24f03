#!/bin/sh
# neuron_walkthrough.sh: a designer's walk-through of the DPI neuron.
#   sh examples/neuron_walkthrough.sh [path/to/smallsim] [outdir]
set -e
SS=${1:-build/smallsim}
OUT=${2:-neuron-out}
mkdir -p "$OUT"
# 1. The library and the DPI neuron's f-I curve, energy and refractory period.
"$SS" characterize --list dpi-neuron >/dev/null 2>&1 || true
"$SS" characterize dpi-neuron --sweep log:20p:2n:7 \
    --measure rate,isi,energy,refractory --jobs 2 -o "$OUT/dpi.csv" --plot "$OUT/dpi.png"
# 2. Change a bias: double the leak Itau (rheobase and slope move).
"$SS" characterize dpi-neuron --bias Itau=20p --sweep log:20p:2n:7 \
    --measure rate,energy --jobs 2 -o "$OUT/dpi-itau20p.csv"
# 3. Compare the two f-I curves.
paste -d, "$OUT/dpi.csv" "$OUT/dpi-itau20p.csv" | cut -d, -f1,4,12 |
    awk -F, 'NR==1 {print "Iin,rate(Itau=10p),rate(Itau=20p)"; next} {print}'
# 4. Monte Carlo mismatch (Pelgrom AVT 4 mV*um, 8 samples) and temperature.
"$SS" characterize dpi-neuron --sweep log:20p:2n:5 --mc 8 --seed 7 --avt 4 \
    --temp 27,85 --measure rate --jobs 2 -o "$OUT/dpi-mc.csv" --plot "$OUT/dpi-mc.png"
# 5. Extract the compact model for the network layer.
"$SS" characterize dpi-neuron --sweep log:20p:2n:8 --measure rate,rheobase \
    --extract lif --params "$OUT/dpi-lif.json" --jobs 2 -o "$OUT/dpi-fit.csv"
cat "$OUT/dpi-lif.json"
