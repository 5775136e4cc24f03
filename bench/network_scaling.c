/* network_scaling.c: what a DPI network costs smallsim per simulated second,
 * against its size (1,000 to 100,000 neurons at 100 synapses each) and
 * against its mean rate (10,000 neurons, the biases shifted), and what a
 * static synapse costs in memory.
 *
 * Each neuron receives 90 random recurrent synapses (80% excitatory
 * presynaptic neurons) and 10 from a population of Poisson sources (one per
 * ten neurons, 20 Hz); delays 1 ms, exchange step 0.1 ms, rtol 1e-6.  CPU
 * time by getrusage, split into building (synapse lists, CSR) and running.
 * Memory: bytes in use on the heap (glibc's mallinfo2) with and without the
 * synapses, after the first exchange step (the CSR built, the lists freed).
 * Writes network_scaling.dat and network_scaling.png (gnuplot) into the
 * folder SS_BENCH_OUT (default build/bench).  Arguments: [tstop] (default
 * 0.5 s; 100,000 neurons run a fifth of it). */
#include <gsl/gsl_rng.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/network/ss_network.h"
#include "util/ss_util.h"

enum { KREC = 90, KIN = 10 };

struct point {
    size_t n;
    double shift; /* added to the biases (A) */
    double tstop, build, run, rate, steps;
    long bytes_syn; /* heap bytes of the synapses, or -1 (not measured) */
};

static long heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (long)(mi.uordblks + mi.hblkhd);
}

/* Builds and runs one network; with `measure`, also the same network
 * without synapses, for the synapses' bytes. */
static int run_point(struct point *pt, int measure)
{
    size_t n = pt->n, nin = n / 10, nsyn = n * (KREC + KIN);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    double *bias = malloc(n * sizeof *bias);
    size_t *pre = malloc(nsyn * sizeof *pre), *post = malloc(nsyn * sizeof *post);
    double *w = malloc(nsyn * sizeof *w), *d = malloc(nsyn * sizeof *d);
    if (!r || !bias || !pre || !post || !w || !d)
        return 1;
    for (size_t j = 0; j < n; j++) {
        bias[j] = 3.45e-9 + pt->shift + 1e-9 * gsl_rng_uniform(r);
        for (size_t k = 0; k < KREC + KIN; k++) {
            size_t s = j * (KREC + KIN) + k, i = k < KREC ? gsl_rng_uniform_int(r, n)
                                                           : gsl_rng_uniform_int(r, nin);
            pre[s] = i;
            post[s] = j;
            w[s] = k >= KREC ? 0.15e-9 : i < 4 * n / 5 ? 0.04e-9 : -0.2e-9;
            d[s] = 1e-3;
        }
    }
    gsl_rng_free(r);
    long bytes[2] = {0, 0};
    for (int with = measure ? 0 : 1; with < 2; with++) {
        ss_error err = {0, ""};
        double c0 = ss_util_cpu_time();
        ss_network *net = ss_network_alloc(&err);
        size_t pop, src;
        ss_dpi_params p = SS_DPI_DEFAULTS;
        ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
        int rc = !net || ss_network_add_dpi(net, "dpi", n, &p, &pop, &err) ||
                 ss_network_set_bias(net, pop, bias, &err) ||
                 ss_network_add_poisson(net, "in", nin, 20.0, &src, &err);
        /* recurrent and input synapses: the lists are in neuron order, the
         * 10 input synapses last of each neuron's 100 */
        size_t *pi = malloc(n * KIN * sizeof *pi), *po = malloc(n * KIN * sizeof *po);
        double *wi = malloc(n * KIN * sizeof *wi), *di = malloc(n * KIN * sizeof *di);
        size_t *pr = malloc(n * KREC * sizeof *pr), *por = malloc(n * KREC * sizeof *por);
        double *wr = malloc(n * KREC * sizeof *wr), *dr = malloc(n * KREC * sizeof *dr);
        rc = rc || !pi || !po || !wi || !di || !pr || !por || !wr || !dr;
        for (size_t j = 0; !rc && j < n; j++)
            for (size_t k = 0; k < KREC + KIN; k++) {
                size_t s = j * (KREC + KIN) + k;
                if (k < KREC) {
                    size_t q = j * KREC + k;
                    pr[q] = pre[s], por[q] = post[s], wr[q] = w[s], dr[q] = d[s];
                } else {
                    size_t q = j * KIN + k - KREC;
                    pi[q] = pre[s], po[q] = post[s], wi[q] = w[s], di[q] = d[s];
                }
            }
        if (!rc && with)
            rc = ss_network_connect(net, pop, pop, n * KREC, pr, por, wr, dr, &err) ||
                 ss_network_connect(net, src, pop, n * KIN, pi, po, wi, di, &err);
        free(pi), free(po), free(wi), free(di), free(pr), free(por), free(wr), free(dr);
        /* the first exchange step builds the CSR and frees the lists */
        rc = rc || ss_network_run(net, 1e-4, &opt, &err);
        bytes[with] = heap_bytes();
        double c1 = ss_util_cpu_time();
        rc = rc || ss_network_run(net, pt->tstop, &opt, &err);
        double c2 = ss_util_cpu_time();
        if (rc) {
            fprintf(stderr, "network_scaling: %s\n", err.msg);
            ss_network_free(net);
            return 1;
        }
        if (with) {
            long st, rhs, rs;
            ss_network_stats(net, &st, &rhs, &rs);
            pt->build = c1 - c0;
            pt->run = c2 - c1;
            pt->rate = (double)ss_network_pop_spikes(net, pop) / ((double)n * pt->tstop);
            pt->steps = (double)st / ((double)n * pt->tstop);
        }
        ss_network_free(net);
    }
    pt->bytes_syn = measure ? bytes[1] - bytes[0] : -1;
    free(bias), free(pre), free(post), free(w), free(d);
    return 0;
}

int main(int argc, char **argv)
{
    double tstop = argc > 1 ? atof(argv[1]) : 0.5;
    const char *out = getenv("SS_BENCH_OUT") ? getenv("SS_BENCH_OUT") : "build/bench";
    const double base = -0.25e-9; /* about 10 Hz */
    struct point size[3] = {{1000, base, tstop, 0, 0, 0, 0, 0},
                            {10000, base, tstop, 0, 0, 0, 0, 0},
                            {100000, base, tstop / 5, 0, 0, 0, 0, 0}};
    const double shifts[6] = {-0.6e-9, -0.45e-9, base, 0, 0.3e-9, 0.8e-9};
    struct point rate[6];
    printf("network_scaling: DPI neurons, 100 synapses each (90 recurrent, 10 from Poisson sources), "
           "rtol 1e-6, delays 1 ms, exchange step 0.1 ms; CPU seconds per simulated second\n");
    for (int k = 0; k < 3; k++) {
        if (run_point(&size[k], k == 1))
            return 1;
        printf("  %6zu neurons: %.3f s per simulated s (+ %.2f s to build), %.2f Hz, %.0f steps per "
               "neuron-s, %.1f us per neuron and simulated s\n",
               size[k].n, size[k].run / size[k].tstop, size[k].build, size[k].rate, size[k].steps,
               1e6 * size[k].run / size[k].tstop / (double)size[k].n);
    }
    size_t nsyn = size[1].n * (KREC + KIN);
    printf("  memory: %.2f bytes per static synapse (%zu synapses, heap in use with and without "
           "them, the CSR and the delay runs)\n", (double)size[1].bytes_syn / (double)nsyn, nsyn);
    for (int k = 0; k < 6; k++) {
        rate[k] = (struct point){10000, shifts[k], tstop, 0, 0, 0, 0, 0};
        if (run_point(&rate[k], 0))
            return 1;
        printf("  10000 neurons at %6.2f Hz: %.3f s per simulated s, %.0f steps per neuron-s\n",
               rate[k].rate, rate[k].run / rate[k].tstop, rate[k].steps);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/network_scaling.dat", out);
    FILE *f = fopen(path, "w");
    if (!f)
        return fprintf(stderr, "network_scaling: cannot write %s\n", path), 1;
    fprintf(f, "# neurons rate_hz cpu_per_simulated_s steps_per_neuron_s\n");
    for (int k = 0; k < 3; k++)
        fprintf(f, "%zu %.4f %.5f %.1f\n", size[k].n, size[k].rate, size[k].run / size[k].tstop,
                size[k].steps);
    fprintf(f, "\n\n");
    for (int k = 0; k < 6; k++)
        fprintf(f, "%zu %.4f %.5f %.1f\n", rate[k].n, rate[k].rate, rate[k].run / rate[k].tstop,
                rate[k].steps);
    fclose(f);
    char script[4096];
    double slope = size[1].run / size[1].tstop / (double)size[1].n; /* linear through 10k */
    snprintf(script, sizeof script,
             "set terminal pngcairo size 1100,450\nset output '%s/network_scaling.png'\n"
             "set multiplot layout 1,2 title 'smallsim, DPI network, 100 synapses per neuron, "
             "rtol 1e-6: CPU s per simulated s'\n"
             "set logscale xy\nset grid\nset key top left\nset xlabel 'neurons (about 10 Hz)'\n"
             "set ylabel 'CPU s per simulated s'\nset xrange [500:200000]\nf(x) = %.6g * x\n"
             "plot '%s' index 0 using 1:3 with linespoints pt 7 title 'measured', "
             "f(x) with lines dt 2 title 'proportional to size'\n"
             "unset logscale\nset xrange [*:*]\nset yrange [0:*]\n"
             "set xlabel 'mean rate (Hz), 10,000 neurons'\n"
             "plot '%s' index 1 using 2:3 with linespoints pt 7 notitle\n"
             "unset multiplot\n",
             out, slope, path, path);
    ss_error err;
    if (ss_util_gnuplot(script, &err))
        printf("  plot skipped: %s\n", err.msg);
    else
        printf("  plot: %s/network_scaling.png; data: %s\n", out, path);
    return 0;
}
