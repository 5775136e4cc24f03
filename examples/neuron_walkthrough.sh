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
# 4. Monte Carlo mismatch (Pelgrom AVT 4 mV*um; sample 0 is the nominal circuit, then 8
#    mismatched samples) and temperature; jobs are journalled, so an interrupted run
#    continues with --resume.
rm -f "$OUT/dpi-mc-jobs.csv" "$OUT/dpi-mc-jobs.csv.log"
"$SS" characterize dpi-neuron --sweep log:20p:2n:5 --mc 8 --seed 7 --avt 4 \
    --temp 27,85 --measure rate --jobs 2 -o "$OUT/dpi-mc.csv" --plot "$OUT/dpi-mc.png" \
    --results "$OUT/dpi-mc-jobs.csv"
# 5. Extract compact models for the network layer (fitted to the nominal circuit): a LIF
#    and teili's DPI, each behind a power-law input stage.
"$SS" characterize dpi-neuron --sweep log:20p:2n:8 --measure rate,rheobase \
    --extract lif --params "$OUT/dpi-lif.json" --jobs 2 -o "$OUT/dpi-fit.csv"
"$SS" characterize dpi-neuron --sweep log:20p:2n:8 --measure rate \
    --extract dpi --params "$OUT/dpi-dpi.json" --jobs 2 -o "$OUT/dpi-fit-dpi.csv"
cat "$OUT/dpi-dpi.json"
# 6. Use both in a network: four neurons of each on the same constant currents.
cat > "$OUT/net.yaml" <<EOF
duration: 0.5
dt: 1e-5
populations:
  - {name: lif, kind: lif, n: 4, params_file: dpi-lif.json, bias: {file: bias.txt}}
  - {name: dpi, kind: dpi, n: 4, params_file: dpi-dpi.json, bias: {file: bias.txt}}
EOF
printf '30e-12\n100e-12\n300e-12\n1e-9\n' > "$OUT/bias.txt"
"$SS" run "$OUT/net.yaml" -o "$OUT/net"
# 7. Your own netlist: a renamed copy of the library neuron whose pins are declared
#    in a '* smallsim:' line characterizes like the library one.
if [ -f circuits/lib/dpi_neuron.sub ]; then
    { echo "* smallsim: like=dpi-neuron subckt=my_dpi"
      sed 's/ss_dpi_neuron/my_dpi/' circuits/lib/dpi_neuron.sub; } > "$OUT/my_dpi.cir"
    "$SS" characterize "$OUT/my_dpi.cir" --sweep log:20p:2n:3 --measure rate
fi
