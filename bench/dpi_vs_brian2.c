/* dpi_vs_brian2.c: the analog-neuron network benchmark, in smallsim and in
 * Brian2 2.5.1 (Debian's python3-brian) on the very same network.
 *
 * N neurons (default 10,000; DPI with teili's equations, or adaptive LIF),
 * each receiving 90 random recurrent synapses (80% of the presynaptic
 * neurons excitatory) and, through a 10 x N memristive crossbar (VTEAM
 * cells with device-to-device spread, read with line resistance), the
 * spikes of 10 Poisson inputs (0.2 ms dead time): 100 synapses per neuron, 1,000,000 at
 * N = 10,000.  Delays 1 ms, exchange step 0.1 ms, 1 s of biological time.
 * The Poisson trains are drawn here and given to both simulators; Brian2
 * gets the synaptic weights smallsim computed from the crossbar.
 *
 * Runs: smallsim at the bench tolerance (SS_BENCH_RTOL, default 1e-6) and
 * at rtol 1e-9 (the converged reference for the spike counts); Brian2 with
 * its numpy and its cpp_standalone target (cold: a fresh build directory)
 * at dt 0.1 ms, Euler for DPI as teili does, Brian2's own choice (exact)
 * for the LIF.  CPU time by getrusage (the Brian2 process and its
 * compiler), wall time beside it.  Prints the ratios of this one run.
 *
 * Arguments: [N] [tstop] [model ...] (models: dpi adlif; both by default).
 * SS_BRIAN_FINE=DT adds a cpp_standalone run at dt DT (a Brian2-side
 * reference, e.g. 1e-6; slow).  SS_BRIAN_DPI_SCRIPT=none skips Brian2;
 * SS_BENCH_SEED=S draws another network (biases, synapses, inputs);
 * SS_BENCH_SOLVER=adams|bdf runs the first smallsim run with CVODE. */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/brian2_bench.h"
#include "cosim/network/ss_network.h"

enum { KREC = 90, NIN = 10 };

struct model {
    const char *name;
    int kind;
    double blo, bhi;   /* bias currents, uniform */
    double we, g;      /* excitatory weight; inhibitory = -g we */
    double rate_in;    /* Poisson inputs (Hz) */
    double t_read;     /* read pulse: sets the input weights */
};

static const struct model models[] = {
    {"dpi", SS_POP_DPI, 3.45e-9, 4.45e-9, 0.04e-9, 5, 20, 1e-6},
    {"adlif", SS_POP_LIF, 0.20e-9, 0.26e-9, 0.02e-9, 5, 20, 150e-9},
};

static ss_lif_params adlif_params(void)
{
    ss_lif_params q = SS_LIF_DEFAULTS;
    q.a = 2e-9; /* A/V: subthreshold adaptation */
    q.b = 0.02e-9;
    q.tau_w = 0.1;
    return q;
}

/* The network's random parts, drawn once per model. */
struct data {
    size_t n, nsyn, nspk;
    size_t *pre, *post;
    double *w, *d, *bias, *x0;
    size_t *in_id;
    double *in_t;
};

static int draw(const struct model *m, size_t n, double tstop, struct data *D)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385 + (getenv("SS_BENCH_SEED") ? strtoul(getenv("SS_BENCH_SEED"), NULL, 10) : 0));
    D->n = n;
    D->nsyn = n * KREC;
    D->pre = malloc(D->nsyn * sizeof *D->pre);
    D->post = malloc(D->nsyn * sizeof *D->post);
    D->w = malloc(D->nsyn * sizeof *D->w);
    D->d = malloc(D->nsyn * sizeof *D->d);
    D->bias = malloc(n * sizeof *D->bias);
    D->x0 = malloc(NIN * n * sizeof *D->x0);
    size_t cap = (size_t)(NIN * m->rate_in * tstop * 2 + 100);
    D->in_id = malloc(cap * sizeof *D->in_id);
    D->in_t = malloc(cap * sizeof *D->in_t);
    if (!r || !D->pre || !D->post || !D->w || !D->d || !D->bias || !D->x0 || !D->in_id || !D->in_t)
        return 1;
    for (size_t j = 0; j < n; j++) {
        D->bias[j] = m->blo + (m->bhi - m->blo) * gsl_rng_uniform(r);
        for (size_t k = 0; k < KREC; k++) {
            size_t s = j * KREC + k, i = gsl_rng_uniform_int(r, n);
            D->pre[s] = i;
            D->post[s] = j;
            D->w[s] = i < 4 * n / 5 ? m->we : -m->g * m->we;
            D->d[s] = 1e-3;
        }
    }
    for (size_t k = 0; k < NIN * n; k++) /* 5 to 100 uS */
        D->x0[k] = 0.2 * gsl_rng_uniform(r);
    D->nspk = 0;
    for (size_t i = 0; i < NIN; i++) /* with a 0.2 ms dead time (Brian2 takes one spike per step) */
        for (double t = gsl_ran_exponential(r, 1 / m->rate_in); t < tstop && D->nspk < cap;
             t += 2e-4 + gsl_ran_exponential(r, 1 / m->rate_in)) {
            D->in_id[D->nspk] = i;
            D->in_t[D->nspk++] = t;
        }
    gsl_rng_free(r);
    return 0;
}

static void release(struct data *D)
{
    free(D->pre);
    free(D->post);
    free(D->w);
    free(D->d);
    free(D->bias);
    free(D->x0);
    free(D->in_id);
    free(D->in_t);
}

/* One smallsim run: the network built and run (timed), its spikes, the
 * crossbar's weights (if w_in is not NULL). */
struct result {
    size_t spikes;
    double cpu, wall, build_cpu;
    long steps, restarts;
    long rss_kb;
};

static int run_smallsim(const struct model *m, const struct data *D, double tstop, double rtol,
                        int solver, double *w_in, struct result *res)
{
    double c0 = ss_util_cpu_time(), t0 = ss_util_now();
    ss_error err = {0, ""};
    ss_network *net = ss_network_alloc(&err);
    size_t pop, in, proj;
    ss_dpi_params dpi = SS_DPI_DEFAULTS;
    ss_lif_params lif = adlif_params();
    ss_device dev;
    ss_device_init(&dev, ss_device_type_find("vteam"));
    ss_device_variation var;
    ss_device_variation_init(&var);
    ss_crossbar_spec spec = {NIN, D->n, 1.0, 10.0, 10.0};
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    opt.rtol = rtol;
    opt.solver = solver;
    int rc = !net || (m->kind == SS_POP_DPI ? ss_network_add_dpi(net, "net", D->n, &dpi, &pop, &err)
                                            : ss_network_add_lif(net, "net", D->n, &lif, &pop, &err)) ||
             ss_network_set_bias(net, pop, D->bias, &err) ||
             ss_network_add_times(net, "in", NIN, D->in_id, D->in_t, D->nspk, &in, &err) ||
             ss_network_connect(net, pop, pop, D->nsyn, D->pre, D->post, D->w, D->d, &err) ||
             ss_device_set_list(&dev, "r_on=10k r_off=1meg", &err) ||
             ss_device_variation_set(&var, "spread.r_on=0.1", &err) ||
             ss_device_variation_set(&var, "spread.r_off=0.1", &err) ||
             ss_network_connect_memristive(net, in, pop, &spec, &dev, &var, D->x0, 0.1, m->t_read,
                                           1e-3, NULL, 7, &proj, &err) ||
             (w_in && ss_network_crossbar_weights(net, proj, w_in, &err));
    res->build_cpu = ss_util_cpu_time() - c0;
    if (!rc)
        rc = ss_network_run(net, tstop, &opt, &err);
    res->cpu = ss_util_cpu_time() - c0;
    res->wall = ss_util_now() - t0;
    res->rss_kb = ss_util_rss_kb();
    if (rc) {
        fprintf(stderr, "dpi_vs_brian2: %s\n", err.msg);
        ss_network_free(net);
        return 1;
    }
    long rhs;
    res->spikes = ss_network_pop_spikes(net, pop);
    ss_network_stats(net, &res->steps, &rhs, &res->restarts);
    ss_network_free(net);
    return 0;
}

/* The network for the Brian2 script, into dir. */
static int export(const struct model *m, const struct data *D, double tstop, const double *w_in,
                  const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/meta.txt", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 1;
    fprintf(f, "model %s\nn %zu\nnin %d\ntstop %.17g\ndelay %.17g\n", m->name, D->n, NIN, tstop, 1e-3);
    if (m->kind == SS_POP_DPI) {
        ss_dpi_params p = SS_DPI_DEFAULTS;
        fprintf(f, "cmem %.17g\nitau %.17g\nith %.17g\nio %.17g\nispkthr %.17g\nireset %.17g\n"
                   "kappa %.17g\nut %.17g\niagain %.17g\niath %.17g\nianorm %.17g\ncahp %.17g\n"
                   "itauahp %.17g\nithahp %.17g\niahp_jump %.17g\ntau_syn %.17g\nt_ref %.17g\n",
                p.cmem, p.itau, p.ith, p.io, p.ispkthr, p.ireset, p.kappa, p.ut, p.iagain, p.iath,
                p.ianorm, p.cahp, p.itauahp, p.ithahp, p.iahp_jump, p.tau_syn, p.t_ref);
    } else {
        ss_lif_params q = adlif_params();
        fprintf(f, "tau_m %.17g\nv_rest %.17g\nv_reset %.17g\nv_th %.17g\nr_m %.17g\n"
                   "tau_syn %.17g\nt_ref %.17g\na %.17g\nb %.17g\ntau_w %.17g\n",
                q.tau_m, q.v_rest, q.v_reset, q.v_th, q.r_m, q.tau_syn, q.t_ref, q.a, q.b, q.tau_w);
    }
    fclose(f);
    size_t nin_syn = (size_t)NIN * D->n;
    int32_t *a = malloc((D->nsyn > nin_syn ? D->nsyn : nin_syn) * sizeof *a);
    int32_t *b = malloc((D->nsyn > nin_syn ? D->nsyn : nin_syn) * sizeof *b);
    int bad = !a || !b;
    for (size_t k = 0; !bad && k < D->nsyn; k++) {
        a[k] = (int32_t)D->pre[k];
        b[k] = (int32_t)D->post[k];
    }
    bad = bad || bench_write_bin(dir, "pre.bin", a, sizeof *a, D->nsyn) ||
          bench_write_bin(dir, "post.bin", b, sizeof *b, D->nsyn) ||
          bench_write_bin(dir, "w.bin", D->w, sizeof *D->w, D->nsyn) ||
          bench_write_bin(dir, "bias.bin", D->bias, sizeof *D->bias, D->n);
    for (size_t k = 0; !bad && k < nin_syn; k++) { /* crossbar cells, row-major */
        a[k] = (int32_t)(k / D->n);
        b[k] = (int32_t)(k % D->n);
    }
    bad = bad || bench_write_bin(dir, "ipre.bin", a, sizeof *a, nin_syn) ||
          bench_write_bin(dir, "ipost.bin", b, sizeof *b, nin_syn) ||
          bench_write_bin(dir, "iw.bin", w_in, sizeof *w_in, nin_syn);
    for (size_t k = 0; !bad && k < D->nspk; k++)
        a[k] = (int32_t)D->in_id[k];
    bad = bad || bench_write_bin(dir, "in_i.bin", a, sizeof *a, D->nspk) ||
          bench_write_bin(dir, "in_t.bin", D->in_t, sizeof *D->in_t, D->nspk);
    free(a);
    free(b);
    return bad;
}

static double pct(double x, double ref)
{
    return 100.0 * (x - ref) / ref;
}

static int bench_model(const struct model *m, size_t n, double tstop, double rtol)
{
    struct data D;
    if (draw(m, n, tstop, &D))
        return 1;
    double *w_in = malloc((size_t)NIN * n * sizeof *w_in);
    struct result s, ref;
    const char *sv = getenv("SS_BENCH_SOLVER") ? getenv("SS_BENCH_SOLVER") : "rk";
    int solver = !strcmp(sv, "adams") ? SS_NETWORK_ADAMS : !strcmp(sv, "bdf") ? SS_NETWORK_BDF : SS_NETWORK_RK;
    if (!w_in || run_smallsim(m, &D, tstop, rtol, solver, NULL, &s) ||
        run_smallsim(m, &D, tstop, 1e-9, SS_NETWORK_RK, w_in, &ref))
        return 1;
    printf("dpi_vs_brian2: %s, %zu neurons, %zu random + %zu crossbar synapses, %d Poisson inputs at "
           "%g Hz, %g s, delays 1 ms, exchange step 0.1 ms\n",
           m->name, n, D.nsyn, (size_t)NIN * n, NIN, m->rate_in, tstop);
    printf("  smallsim (%s, rtol %g): %zu spikes (%.2f Hz), %.2f s CPU end to end (build %.2f s, "
           "run %.2f s), %.2f s wall, %.0f steps per neuron-second, RSS %ld MB\n",
           sv, rtol, s.spikes, s.spikes / (n * tstop), s.cpu, s.build_cpu, s.cpu - s.build_cpu, s.wall,
           s.steps / (n * tstop), s.rss_kb / 1024);
    printf("  smallsim (rk, rtol 1e-09, the reference): %zu spikes (%.2f Hz), %.2f s CPU (run %.2f s)\n",
           ref.spikes, ref.spikes / (n * tstop), ref.cpu, ref.cpu - ref.build_cpu);
    const char *script = getenv("SS_BRIAN_DPI_SCRIPT") ? getenv("SS_BRIAN_DPI_SCRIPT") : "bench/brian2_dpi.py";
    char dir[] = "/tmp/ss-brian-dpi-XXXXXX";
    if (!strcmp(script, "none") || !mkdtemp(dir) || export(m, &D, tstop, w_in, dir)) {
        printf("  brian2: not run\n");
        release(&D);
        free(w_in);
        return 0;
    }
    release(&D);
    free(w_in);
    /* numpy and cpp_standalone at dt 0.1 ms; optionally a fine standalone run */
    const char *targets[3] = {"numpy", "cpp_standalone", "cpp_standalone"};
    double dts[3] = {1e-4, 1e-4, getenv("SS_BRIAN_FINE") ? atof(getenv("SS_BRIAN_FINE")) : 0};
    struct bench_brian b[3];
    int nb = dts[2] > 0 ? 3 : 2;
    for (int q = 0; q < nb; q++)
        if (bench_brian2_run(script, dir, targets[q], dts[q], &b[q]) < 0)
            nb = q;
    bench_rmdir(dir);
    if (nb == 0) {
        printf("  brian2: no result (not installed?); no comparison\n");
        return 0;
    }
    for (int q = 0; q < nb; q++)
        printf("  brian2 (%s, dt %g s): %ld spikes (%.2f Hz), %.2f s CPU whole process (%.2f s wall; "
               "run loop %.2f s CPU)\n",
               targets[q], dts[q], b[q].spikes, b[q].spikes / (n * tstop), b[q].cpu, b[q].wall, b[q].run);
    printf("  spike counts against the reference: smallsim rtol %g %+.2f%%", rtol,
           pct((double)s.spikes, (double)ref.spikes));
    for (int q = 0; q < nb; q++)
        printf("; brian2 %s dt %g %+.2f%%", targets[q], dts[q], pct((double)b[q].spikes, (double)ref.spikes));
    printf("\n  brian2 / smallsim: whole process (CPU) numpy %.1fx", b[0].cpu / s.cpu);
    if (nb > 1)
        printf(", cpp_standalone cold %.1fx", b[1].cpu / s.cpu);
    printf("; run loop alone against smallsim's run numpy %.1fx", b[0].run / (s.cpu - s.build_cpu));
    if (nb > 1)
        printf(", cpp_standalone %.1fx", b[1].run / (s.cpu - s.build_cpu));
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    double tstop = argc > 2 ? atof(argv[2]) : 1.0;
    double rtol = getenv("SS_BENCH_RTOL") ? atof(getenv("SS_BENCH_RTOL")) : 1e-6;
    if (n < 10 || !(tstop > 0) || !(rtol > 0))
        return fprintf(stderr, "usage: dpi_vs_brian2 [N >= 10] [tstop] [dpi|adlif ...]\n"), 2;
    printf("(CPU times by getrusage; the machine may be shared: compare ratios from one run)\n");
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        int want = argc <= 3;
        for (int a = 3; a < argc; a++)
            want |= !strcmp(argv[a], models[k].name);
        if (want && bench_model(&models[k], n, tstop, rtol))
            return 1;
    }
    return 0;
}
