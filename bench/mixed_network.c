/* mixed_network.c: transistor-level DPI neurons (PTM-180 cards, 26 MOSFETs
 * each) connected through an 8 x 8 VTEAM crossbar with line resistance
 * (2 ohm segments, 10 ohm sense) and ideal current mirrors, simulated
 * entirely in ngspice and co-simulated (the neurons in one ngspice circuit,
 * the crossbar in C through EXTERNAL sources), in the same run, in two
 * configurations:
 *   A. 8 SPICE DPI neurons driven through the crossbar by 8 Poisson spike
 *      trains (read pulses on the word lines);
 *   B. 8 SPICE DPI input neurons driving the crossbar, 8 SPICE DPI outputs.
 * Prints spike counts, the largest spike-time difference relative to each
 * neuron's ISI, and the time ratio.  Argument: tstop (s). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "circuits/ss_circuits.h"

static int compare(ss_engine *eng, const ss_circuit_config *cfg, const ss_circuit_mixed *s,
                   const char *title)
{
    ss_error err;
    ss_circuit_mixed_result r[2];
    double cpu[2];
    for (int full = 1; full >= 0; full--) {
        clock_t c0 = clock();
        if (ss_circuit_mixed_run(eng, cfg, s, full, &r[1 - full], &err))
            return fprintf(stderr, "mixed_network: %s\n", err.msg), 1;
        cpu[1 - full] = (double)(clock() - c0) / CLOCKS_PER_SEC;
    }
    /* ngspice runs in this process on one thread (num_threads=1), so
     * process CPU time counts the whole of each simulation and is not
     * inflated by other jobs on the machine, as wall time is */
    printf("mixed_network: %s, %g ms\n", title, s->tstop * 1e3);
    printf("  full ngspice : %8.2f s CPU (%.2f s wall), %ld time points\n", cpu[0], r[0].seconds,
           r[0].points);
    printf("  co-simulation: %8.2f s CPU (%.2f s wall), %ld time points (CPU ratio %.1fx)\n", cpu[1],
           r[1].seconds, r[1].points, cpu[0] / cpu[1]);
    double worst = 0;
    int same = 1;
    size_t first = s->in_times ? s->n_in : 0, n = s->n_in + s->n_out;
    printf("  spikes per neuron (full / co-sim):");
    for (size_t k = first; k < n; k++) {
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
    return 0;
}

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
    /* A: Poisson spike trains at 60 .. 720 Hz after a 0.25 ms dead time */
    static double tt[8][4096];
    const double *tp[8];
    size_t cnt[8];
    unsigned long long st = 12345;
    for (int i = 0; i < 8; i++) {
        double rate = 60 * pow(12.0, i / 7.0), t = 0;
        for (cnt[i] = 0; cnt[i] < 4096;) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            t += 0.25e-3 - log(((double)(st >> 11) + 0.5) / 9007199254740992.0) / rate;
            if (t >= tstop)
                break;
            tt[i][cnt[i]++] = t;
        }
        tp[i] = tt[i];
    }
    ss_circuit_mixed a = {.n_in = 8, .n_out = 8, .cell = &d, .x0 = x0, .xb = {8, 8, 2, 0, 10},
                          .v_read = 0.15, .gain = 1e-3, .tstop = tstop, .tmax = 20e-6,
                          .reltol = 1e-5, .in_times = tp, .in_count = cnt, .t_pulse = 0.2e-3,
                          .t_edge = 2e-6};
    ss_circuit_mixed b = a;
    b.i_in = iin;
    b.in_times = NULL;
    int rc = compare(eng, &cfg, &a, "A. 8 DPI neurons (transistor level) driven by 8 spike trains "
                                    "through an 8 x 8 VTEAM crossbar");
    if (!rc)
        rc = compare(eng, &cfg, &b, "B. 8 + 8 DPI neurons (transistor level), 8 x 8 VTEAM crossbar");
    ss_engine_free(eng);
    return rc;
}
