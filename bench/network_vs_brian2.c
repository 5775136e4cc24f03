/* network_vs_brian2.c: a behavioural network of 10,000 LIF neurons and
 * 1,000,000 memristive synapses (100 random inputs per neuron, 80%
 * excitatory), 1 s of biological time, in smallsim and in Brian2 (Debian's
 * python3-brian, numpy target) on the very same neurons, biases, synapses,
 * weights and delays.  Synaptic weights come from memristor conductances
 * (lognormal around 10 uS) read by a 0.1 V, 50 ns pulse: the charge of the
 * read over tau_syn is the current jump.  Prints spike counts, their
 * difference, and wall times measured in this one run.
 * Arguments: [N] [indegree] [tstop]. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bench/brian2_bench.h"
#include "cosim/network/ss_network.h"

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    size_t k = argc > 2 ? strtoul(argv[2], NULL, 10) : 100;
    double tstop = argc > 3 ? atof(argv[3]) : 1.0, h = 1e-4, delay = 1e-3;
    size_t nsyn = n * k;
    ss_lif_params lif = SS_LIF_DEFAULTS;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    size_t *pre = malloc(nsyn * sizeof *pre), *post = malloc(nsyn * sizeof *post);
    int32_t *pre32 = malloc(nsyn * sizeof *pre32), *post32 = malloc(nsyn * sizeof *post32);
    double *w = malloc(nsyn * sizeof *w), *d = malloc(nsyn * sizeof *d);
    double *bias = malloc(n * sizeof *bias);
    if (!pre || !post || !pre32 || !post32 || !w || !d || !bias)
        return 1;
    double v_read = 0.1, t_read = 50e-9;
    for (size_t j = 0; j < n; j++) {
        bias[j] = 0.19e-9 + 0.02e-9 * gsl_rng_uniform(r); /* just below/above rheobase 0.2 nA */
        for (size_t m = 0; m < k; m++) {
            size_t s = j * k + m, i = gsl_rng_uniform_int(r, n);
            double g = 10e-6 * exp(0.3 * gsl_ran_gaussian(r, 1.0)); /* device-to-device spread */
            double q = g * v_read * t_read;                        /* read charge */
            w[s] = (i < 4 * n / 5 ? 1.0 : -4.5) * q / lif.tau_syn;
            pre[s] = i;
            post[s] = j;
            pre32[s] = (int32_t)i;
            post32[s] = (int32_t)j;
            d[s] = delay;
        }
    }
    gsl_rng_free(r);
    /* smallsim */
    double t0 = ss_util_now();
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    size_t pop;
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    opt.dt = h;
    if (ss_network_add_lif(net, "lif", n, &lif, &pop, &err) ||
        ss_network_set_bias(net, pop, bias, &err) ||
        ss_network_connect(net, pop, pop, nsyn, pre, post, w, d, &err) ||
        ss_network_run(net, tstop, &opt, &err)) {
        fprintf(stderr, "network_vs_brian2: %s\n", err.msg);
        return 1;
    }
    double ts = ss_util_now() - t0;
    size_t spikes = ss_network_nspikes(net);
    long steps, rhs, restarts;
    ss_network_stats(net, &steps, &rhs, &restarts);
    long rss = ss_util_rss_kb();
    ss_network_free(net);
    /* Brian2 on the same network */
    char dir[] = "/tmp/ss-brian-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[600];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "n %zu\ntstop %.17g\ndt %.17g\ntau_m %.17g\nv_rest %.17g\nv_reset %.17g\n"
               "v_th %.17g\nr_m %.17g\ntau_syn %.17g\nt_ref %.17g\ndelay %.17g\n",
            n, tstop, h, lif.tau_m, lif.v_rest, lif.v_reset, lif.v_th, lif.r_m, lif.tau_syn,
            lif.t_ref, delay);
    fclose(f);
    if (bench_write_bin(dir, "pre.bin", pre32, sizeof *pre32, nsyn) ||
        bench_write_bin(dir, "post.bin", post32, sizeof *post32, nsyn) ||
        bench_write_bin(dir, "w.bin", w, sizeof *w, nsyn) || bench_write_bin(dir, "bias.bin", bias, sizeof *bias, n))
        return 1;
    const char *script = getenv("SS_BRIAN_SCRIPT") ? getenv("SS_BRIAN_SCRIPT") : "bench/brian2_net.py";
    /* Brian2 at the same step (timing), and at a 10x finer step (its own
     * discretisation error: the reference for the spike counts) */
    double bdt[2] = {h, h / 10}, tb[2] = {0, 0}, build[2] = {0, 0}, run[2] = {0, 0};
    long bspikes[2] = {-1, -1};
    for (int r2 = 0; r2 < 2; r2++) {
        struct bench_brian b;
        bspikes[r2] = bench_brian2_run(script, dir, "numpy", bdt[r2], &b);
        tb[r2] = b.wall;
        build[r2] = b.build;
        run[r2] = b.run;
        if (bspikes[r2] < 0)
            break;
    }
    bench_rmdir(dir);
    printf("network_vs_brian2: %zu LIF neurons, %zu memristive synapses, %.3g s biological time, "
           "h = %g s, delay %g s\n", n, nsyn, tstop, h, delay);
    printf("  smallsim: %zu spikes (%.2f Hz), %.2f s wall (network build included), "
           "%ld CVODE steps, %ld restarts, RSS %ld MB\n",
           spikes, spikes / (n * tstop), ts, steps, restarts, rss / 1024);
    if (bspikes[0] < 0) {
        printf("  brian2: not available (install python3-brian); no comparison\n");
        return 0;
    }
    for (int r2 = 0; r2 < 2 && bspikes[r2] >= 0; r2++)
        printf("  brian2 (numpy, dt %g s): %ld spikes (%.2f Hz), %.2f s wall whole process "
               "(%.2f s import+build, %.2f s run loop); smallsim - brian2: %+.2f%% spikes\n",
               bdt[r2], bspikes[r2], bspikes[r2] / (n * tstop), tb[r2], build[r2], run[r2],
               100.0 * ((double)spikes - (double)bspikes[r2]) / (double)bspikes[r2]);
    printf("  time ratio brian2 (dt %g s) / smallsim: whole process %.1fx, run loop only %.1fx\n",
           h, tb[0] / ts, run[0] / ts);
    return 0;
}
