/* dpi_vs_brian2.c: a behavioural network of DPI neurons (teili's first-order
 * equations, the library's defaults) with random excitatory synapses, in
 * smallsim (CVODE, Adams) and in Brian2 (Debian's python3-brian, numpy
 * target, forward Euler as teili uses it) on the very same neurons, biases,
 * synapses, weights and delays.  Prints spike counts, their difference and
 * the CPU/wall times of this one run.  Arguments: [N] [indegree] [tstop]
 * [rtol ...] (several CVODE tolerances: one smallsim run each); the biases
 * are uniform in SS_DPI_BIAS=LO:HI (amperes, default 3e-9:8e-9). */
#include <gsl/gsl_rng.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/brian2_bench.h"
#include "cosim/network/ss_network.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    size_t k = argc > 2 ? strtoul(argv[2], NULL, 10) : 20;
    double tstop = argc > 3 ? atof(argv[3]) : 0.2, h = 1e-4, delay = 1e-3, wsyn = 0.2e-9;
    size_t nsyn = n * k;
    ss_dpi_params p = SS_DPI_DEFAULTS;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    size_t *pre = malloc((nsyn + 1) * sizeof *pre), *post = malloc((nsyn + 1) * sizeof *post);
    int32_t *pre32 = malloc((nsyn + 1) * sizeof *pre32), *post32 = malloc((nsyn + 1) * sizeof *post32);
    double *w = malloc((nsyn + 1) * sizeof *w), *d = malloc((nsyn + 1) * sizeof *d);
    double blo = 3e-9, bhi = 8e-9; /* around the rheobase (4-8 nA) */
    if (getenv("SS_DPI_BIAS") && sscanf(getenv("SS_DPI_BIAS"), "%lf:%lf", &blo, &bhi) != 2)
        return fprintf(stderr, "dpi_vs_brian2: SS_DPI_BIAS must be LO:HI in amperes\n"), 2;
    double *bias = malloc(n * sizeof *bias);
    if (!pre || !post || !pre32 || !post32 || !w || !d || !bias)
        return 1;
    for (size_t j = 0; j < n; j++) {
        bias[j] = blo + (bhi - blo) * gsl_rng_uniform(r);
        for (size_t m = 0; m < k; m++) {
            size_t s = j * k + m, i = gsl_rng_uniform_int(r, n);
            pre[s] = i;
            post[s] = j;
            pre32[s] = (int32_t)i;
            post32[s] = (int32_t)j;
            w[s] = wsyn;
            d[s] = delay;
        }
    }
    gsl_rng_free(r);
    enum { MAXTOL = 4 };
    double rtols[MAXTOL] = {1e-6, 1e-4}, ts[MAXTOL], cs[MAXTOL];
    int ntol = argc > 4 ? 0 : 2;
    for (int a = 4; a < argc && ntol < MAXTOL; a++)
        rtols[ntol++] = atof(argv[a]);
    size_t spikes[MAXTOL];
    long steps[MAXTOL], restarts[MAXTOL];
    double t0;
    for (int q = 0; q < ntol; q++) {
        t0 = ss_util_now();
        clock_t c0 = clock();
        ss_error err;
        ss_network *net = ss_network_alloc(&err);
        size_t pop;
        ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
        opt.dt = h;
        opt.rtol = rtols[q];
        if (ss_network_add_dpi(net, "dpi", n, &p, &pop, &err) ||
            ss_network_set_bias(net, pop, bias, &err) ||
            ss_network_connect(net, pop, pop, nsyn, pre, post, w, d, &err) ||
            ss_network_run(net, tstop, &opt, &err)) {
            fprintf(stderr, "dpi_vs_brian2: %s\n", err.msg);
            return 1;
        }
        ts[q] = ss_util_now() - t0;
        cs[q] = (double)(clock() - c0) / CLOCKS_PER_SEC;
        spikes[q] = ss_network_nspikes(net);
        long rhs;
        ss_network_stats(net, &steps[q], &rhs, &restarts[q]);
        ss_network_free(net);
    }
    char dir[] = "/tmp/ss-brian-dpi-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "n %zu\ntstop %.17g\ndt %.17g\ndelay %.17g\n", n, tstop, h, delay);
    const char *names[] = {"cmem", "itau", "ith", "io", "ispkthr", "ireset", "kappa", "ut", "iagain",
                           "iath", "ianorm", "cahp", "itauahp", "ithahp", "iahp_jump", "tau_syn",
                           "t_ref"};
    const double vals[] = {p.cmem, p.itau, p.ith, p.io, p.ispkthr, p.ireset, p.kappa, p.ut, p.iagain,
                           p.iath, p.ianorm, p.cahp, p.itauahp, p.ithahp, p.iahp_jump, p.tau_syn,
                           p.t_ref};
    for (size_t q = 0; q < sizeof vals / sizeof vals[0]; q++)
        fprintf(f, "%s %.17g\n", names[q], vals[q]);
    fclose(f);
    if (bench_write_bin(dir, "pre.bin", pre32, sizeof *pre32, nsyn) ||
        bench_write_bin(dir, "post.bin", post32, sizeof *post32, nsyn) ||
        bench_write_bin(dir, "w.bin", w, sizeof *w, nsyn) || bench_write_bin(dir, "bias.bin", bias, sizeof *bias, n))
        return 1;
    const char *script = getenv("SS_BRIAN_DPI_SCRIPT") ? getenv("SS_BRIAN_DPI_SCRIPT") : "bench/brian2_dpi.py";
    /* Brian2 at the exchange step and 10x and 100x finer (forward Euler's
     * own error: the finest is the reference for the spike counts) */
    double bdt[3] = {h, h / 10, h / 100}, tb[3] = {0}, build[3] = {0}, run[3] = {0};
    long bspikes[3] = {-1, -1, -1};
    for (int q = 0; q < 3; q++)
        if ((bspikes[q] = bench_brian2(script, dir, bdt[q], &tb[q], &build[q], &run[q])) < 0)
            break;
    bench_rmdir(dir);
    printf("dpi_vs_brian2: %zu DPI neurons (biases %g-%g A), %zu synapses, %.3g s biological time, "
           "h = %g s\n", n, blo, bhi, nsyn, tstop, h);
    for (int q = 0; q < ntol; q++)
        printf("  smallsim (CVODE Adams, rtol %g): %zu spikes (%.1f Hz), %.2f s wall, %.2f s CPU, "
               "%ld steps, %ld restarts\n", rtols[q], spikes[q], spikes[q] / (n * tstop), ts[q], cs[q],
               steps[q], restarts[q]);
    if (bspikes[0] < 0) {
        printf("  brian2: no result (not installed, or the network has no synapses); no comparison\n");
        return 0;
    }
    for (int q = 0; q < 3 && bspikes[q] >= 0; q++)
        printf("  brian2 (numpy, euler, dt %g s): %ld spikes (%.1f Hz), %.2f s wall whole process "
               "(%.2f s import+build, %.2f s run loop)\n",
               bdt[q], bspikes[q], bspikes[q] / (n * tstop), tb[q], build[q], run[q]);
    int ref = bspikes[2] >= 0 ? 2 : bspikes[1] >= 0 ? 1 : 0;
    printf("  spike counts against brian2 at dt %g s:", bdt[ref]);
    for (int q = 0; q < ntol; q++)
        printf(" smallsim rtol %g %+.2f%%;", rtols[q],
               100.0 * ((double)spikes[q] - (double)bspikes[ref]) / (double)bspikes[ref]);
    for (int q = 0; q < 3 && bspikes[q] >= 0; q++)
        printf(" brian2 dt %g %+.2f%%;", bdt[q],
               100.0 * ((double)bspikes[q] - (double)bspikes[ref]) / (double)bspikes[ref]);
    printf("\n  time, brian2 run loop / smallsim wall:");
    for (int q = 0; q < ntol; q++)
        for (int b = 0; b < 2 && bspikes[b] >= 0; b++)
            printf(" rtol %g vs dt %g: %.2fx;", rtols[q], bdt[b], run[b] / ts[q]);
    printf("\n");
    return 0;
}
