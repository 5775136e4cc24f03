/* mixed_network.c: 8 input and 8 output transistor-level DPI neurons
 * (PTM-180 cards, 26 MOSFETs each) connected through an 8 x 8 VTEAM crossbar
 * with line resistance (2 ohm segments, 10 ohm sense) and ideal current
 * mirrors, 50 ms: entirely in ngspice, and co-simulated (the neurons in one
 * ngspice circuit, the crossbar in C through EXTERNAL sources), in the same
 * run.  Prints spike counts, the largest spike-time difference relative to
 * each neuron's ISI, and the time ratio.  Argument: tstop (s). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "circuits/ss_circuits.h"

int main(int argc, char **argv)
{
    double tstop = argc > 1 ? atof(argv[1]) : 50e-3;
    ss_error err;
    ss_engine *eng;
    if (ss_engine_open(&eng, &err))
        return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    if (ss_device_set_list(&d, "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 k_off=9e-5 "
                               "alpha_on=3 alpha_off=3 w_off=3n", &err))
        return 1;
    double iin[8], x0[64];
    for (int i = 0; i < 8; i++)
        iin[i] = 20e-12 * pow(15.0, i / 7.0);
    for (int k = 0; k < 64; k++)
        x0[k] = 0.1 + 0.8 * ((k * 37) % 64) / 64.0;
    ss_circuit_mixed s = {8, 8, iin, &d, x0, {8, 8, 2, 0, 10}, 0.15, 1e-3, tstop, 20e-6, 1e-5};
    ss_circuit_mixed_result r[2];
    for (int full = 1; full >= 0; full--)
        if (ss_circuit_mixed_run(eng, &cfg, &s, full, &r[1 - full], &err))
            return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
    printf("mixed_network: 8 + 8 DPI neurons (transistor level), 8 x 8 VTEAM crossbar, %g ms\n",
           tstop * 1e3);
    printf("  full ngspice : %8.2f s, %ld time points\n", r[0].seconds, r[0].points);
    printf("  co-simulation: %8.2f s, %ld time points (ratio %.1fx)\n", r[1].seconds, r[1].points,
           r[0].seconds / r[1].seconds);
    double worst = 0;
    int same = 1;
    printf("  spikes per neuron (full / co-sim):");
    for (size_t k = 0; k < 16; k++) {
        double a[512], b[512];
        size_t na = 0, nb = 0;
        for (size_t q = 0; q < r[0].n; q++)
            if (r[0].neuron[q] == k && na < 512)
                a[na++] = r[0].t[q];
        for (size_t q = 0; q < r[1].n; q++)
            if (r[1].neuron[q] == k && nb < 512)
                b[nb++] = r[1].t[q];
        printf(" %zu/%zu", na, nb);
        same &= na == nb;
        double isi = na >= 2 ? (a[na - 1] - a[0]) / (double)(na - 1) : (na ? a[0] : 1);
        for (size_t q = 0; q < na && q < nb; q++)
            worst = fmax(worst, fabs(a[q] - b[q]) / isi);
    }
    printf("\n  same spike counts: %s; largest spike-time difference: %.3f%% of the ISI\n",
           same ? "yes" : "NO", 100 * worst);
    ss_circuit_mixed_result_release(&r[0]);
    ss_circuit_mixed_result_release(&r[1]);
    ss_engine_free(eng);
    return 0;
}
