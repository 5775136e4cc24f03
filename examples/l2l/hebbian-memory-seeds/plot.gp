set terminal pngcairo size 900,600
set output 'runs/hebbian-memory-seeds.png'
set datafile separator ','
set key bottom left
set xlabel 'evaluations'
set ylabel 'balanced bit error'
set title 'hebbian-memory: best validation so far, 5 seeds (CMA-ES pop 8)'
set yrange [0:0.35]
plot for [s=1:5] 'runs/hebbian-memory-'.s.'/gens.csv' using 2:7 with steps lw 2 title 'seed '.s, \
     0.253 with lines dt 2 lw 2 lc rgb 'black' title 'hand-set rule (test, 64 instances)'
