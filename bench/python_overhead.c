/* python_overhead.c: what calling smallsim through its Python package
 * (python/smallsim) costs, against the same calls from C.
 *
 * 1. Network: 10,000 LIF neurons with 1,000,000 synapses (the network of
 *    network_vs_brian2: 100 random inputs per neuron, 80% excitatory,
 *    weights from lognormal conductances), 1 s.  The arrays are written to a
 *    folder; this program and bench/python_overhead.py each read them, build
 *    the network, run it and copy every spike into arrays.  Reported: CPU
 *    time of build + run + spikes in each process (median of REPS), the
 *    spike counts (which must be equal), and the Python process's import
 *    time.
 * 2. Engine: RUNS runs of a small RC netlist (read, screen, load, run, copy
 *    out, one vector read) in a loop in each process: CPU time per run.
 *
 * Needs $SS_PYTHON (default /usr/bin/python3) with PYTHONPATH holding
 * build/python and python/ (make bench sets both).  Arguments: [REPS] [RUNS]. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"
#include "cosim/network/ss_network.h"

static const char rc_text[] = "rc\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\nC1 out 0 100n\n"
                              ".tran 10u 200u\n.end\n";

static int write_array(const char *dir, const char *name, const void *p, size_t bytes)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes) {
        if (f)
            fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

static void *read_array(const char *dir, const char *name, size_t bytes)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    void *p = malloc(bytes);
    if (!f || !p || fread(p, 1, bytes, f) != bytes) {
        fprintf(stderr, "python_overhead: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Build, run and copy the spikes out, as the Python script does. */
static double c_network(const char *dir, size_t n, size_t nsyn, double tstop, size_t *nspikes,
                        double *tsum)
{
    double *bias = read_array(dir, "bias.f64", n * 8), *w = read_array(dir, "w.f64", nsyn * 8);
    double *d = read_array(dir, "d.f64", nsyn * 8);
    size_t *pre = read_array(dir, "pre.u64", nsyn * 8), *post = read_array(dir, "post.u64", nsyn * 8);
    double t0 = ss_util_cpu_time();
    ss_error err;
    ss_lif_params lif = SS_LIF_DEFAULTS;
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    size_t pop;
    ss_network *net = ss_network_alloc(&err);
    if (ss_network_add_lif(net, "lif", n, &lif, &pop, &err) ||
        ss_network_set_bias(net, pop, bias, &err) ||
        ss_network_connect(net, pop, pop, nsyn, pre, post, w, d, &err) ||
        ss_network_run(net, tstop, &opt, &err)) {
        fprintf(stderr, "python_overhead: %s\n", err.msg);
        exit(1);
    }
    size_t ns = ss_network_nspikes(net);
    double *t = malloc((ns ? ns : 1) * sizeof *t);
    size_t *p = malloc((ns ? ns : 1) * sizeof *p), *i = malloc((ns ? ns : 1) * sizeof *i);
    ss_network_spikes(net, 0, ns, t, p, i);
    double cpu = ss_util_cpu_time() - t0;
    *tsum = 0;
    for (size_t k = 0; k < ns; k++)
        *tsum += t[k];
    *nspikes = ns;
    ss_network_free(net);
    free(t), free(p), free(i), free(bias), free(w), free(d), free(pre), free(post);
    return cpu;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5, runs = argc > 2 ? atoi(argv[2]) : 2000;
    size_t n = 10000, k = 100, nsyn = n * k;
    double tstop = 1.0;
    const char *python = getenv("SS_PYTHON") ? getenv("SS_PYTHON") : "/usr/bin/python3";
    if (reps < 1 || reps > 100 || runs < 1) {
        fprintf(stderr, "usage: python_overhead [REPS] [RUNS]\n");
        return 2;
    }
    /* the network of network_vs_brian2 */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    ss_lif_params lif = SS_LIF_DEFAULTS;
    size_t *pre = malloc(nsyn * sizeof *pre), *post = malloc(nsyn * sizeof *post);
    double *w = malloc(nsyn * sizeof *w), *d = malloc(nsyn * sizeof *d);
    double *bias = malloc(n * sizeof *bias);
    if (!pre || !post || !w || !d || !bias)
        return 1;
    for (size_t j = 0; j < n; j++) {
        bias[j] = 0.19e-9 + 0.02e-9 * gsl_rng_uniform(r);
        for (size_t m = 0; m < k; m++) {
            size_t s = j * k + m, i = gsl_rng_uniform_int(r, n);
            double g = 10e-6 * exp(0.3 * gsl_ran_gaussian(r, 1.0));
            w[s] = (i < 4 * n / 5 ? 1.0 : -4.5) * g * 0.1 * 50e-9 / lif.tau_syn;
            pre[s] = i;
            post[s] = j;
            d[s] = 1e-3;
        }
    }
    gsl_rng_free(r);
    char dir[] = "/tmp/ss-pyoverhead-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    if (write_array(dir, "bias.f64", bias, n * 8) || write_array(dir, "w.f64", w, nsyn * 8) ||
        write_array(dir, "d.f64", d, nsyn * 8) || write_array(dir, "pre.u64", pre, nsyn * 8) ||
        write_array(dir, "post.u64", post, nsyn * 8)) {
        fprintf(stderr, "python_overhead: cannot write to %s\n", dir);
        return 1;
    }
    free(pre), free(post), free(w), free(d), free(bias);

    /* alternate C and Python so that the machine's load hits both alike */
    double cc[100], pc[100], imp = 0;
    size_t cspikes = 0, pspikes = 0;
    double ctsum = 0, ptsum = 0;
    char cmd[1400], line[512];
    snprintf(cmd, sizeof cmd, "'%s' bench/python_overhead.py network %s %zu %zu %.17g", python,
             dir, n, nsyn, tstop);
    for (int rep = 0; rep < reps; rep++) {
        cc[rep] = c_network(dir, n, nsyn, tstop, &cspikes, &ctsum);
        FILE *f = popen(cmd, "r");
        if (!f || !fgets(line, sizeof line, f) ||
            sscanf(line, "%lf %lf %zu %lf", &pc[rep], &imp, &pspikes, &ptsum) != 4) {
            fprintf(stderr, "python_overhead: '%s' failed (PYTHONPATH=%s)\n", cmd,
                    getenv("PYTHONPATH") ? getenv("PYTHONPATH") : "");
            return 1;
        }
        pclose(f);
    }
    double cm = median(cc, reps), pm = median(pc, reps);
    printf("python_overhead: 10,000 LIF neurons, 1,000,000 synapses, %g s; build + run + spikes "
           "as arrays, CPU time, median of %d\n", tstop, reps);
    printf("  C:      %.3f s  (%zu spikes)\n", cm, cspikes);
    printf("  Python: %.3f s  (%zu spikes%s), +%.1f%%; interpreter start and import %.3f s more\n",
           pm, pspikes,
           pspikes == cspikes && fabs(ptsum - ctsum) <= 1e-9 * fabs(ctsum) ? ", the same" : ", DIFFERENT",
           100 * (pm - cm) / cm, imp);

    /* engine runs */
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "python_overhead: %s\n", err.msg);
        return 1;
    }
    double ce[100], pe[100];
    snprintf(cmd, sizeof cmd, "'%s' bench/python_overhead.py engine %d", python, runs);
    for (int rep = 0; rep < reps; rep++) {
        ss_result res = SS_RESULT_INIT;
        double t0 = ss_util_cpu_time(), last = 0;
        for (int i = 0; i < runs; i++) {
            if (ss_engine_run_text(eng, rc_text, "rc.cir", 0, &res, &err)) {
                fprintf(stderr, "python_overhead: %s\n", err.msg);
                return 1;
            }
            const ss_vector *v = ss_result_find(&res, "v(out)");
            last = v->re[v->n - 1];
        }
        ss_result_release(&res);
        ce[rep] = (ss_util_cpu_time() - t0) / runs;
        (void)last;
        FILE *f = popen(cmd, "r");
        if (!f || !fgets(line, sizeof line, f) || sscanf(line, "%lf", &pe[rep]) != 1) {
            fprintf(stderr, "python_overhead: '%s' failed\n", cmd);
            return 1;
        }
        pclose(f);
    }
    ss_engine_free(eng);
    double cem = median(ce, reps), pem = median(pe, reps);
    printf("python_overhead: engine, %d runs of an RC transient (21 points) per process, CPU time "
           "per run, median of %d\n", runs, reps);
    printf("  C: %.1f us   Python: %.1f us   Python adds %.1f us per run\n", 1e6 * cem,
           1e6 * pem, 1e6 * (pem - cem));
    char rm[700];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    return system(rm) != 0;
}
