/* crossbar_dc.c: the crossbar solver vs ngspice on the same generated
 * netlist (resistive cells, 2 ohm wire segments, 10 ohm source and sense
 * resistors, as in shared/references/crossbar-baselines.md), timed in the
 * same run, with the bit-line currents compared; then 512 x 512 alone, in a
 * child process so that its peak RSS is the solver's own.
 * SS_BENCH_QUICK=1 stops the ngspice comparison at 64 x 64. */
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/engine/ss_engine.h"
#include "netlists/ss_netlist.h"

static void fill(size_t n, size_t m, double *g, double *v)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 2385);
    for (size_t k = 0; k < n * m; k++)
        g[k] = 1e-6 + (1e-4 - 1e-6) * gsl_rng_uniform(r);
    for (size_t i = 0; i < n; i++)
        v[i] = 0.2 * gsl_rng_uniform(r);
    gsl_rng_free(r);
}

static double solve_time(size_t n, double *g, double *v, double *iout, int *iters)
{
    ss_crossbar_spec spec = {n, n, 2.0, 10.0, 10.0};
    ss_error err;
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
        double t0 = ss_util_now();
        if (!xb || ss_crossbar_dc(xb, g, v, iout, &err)) {
            fprintf(stderr, "crossbar_dc: %s\n", err.msg);
            exit(1);
        }
        best = fmin(best, ss_util_now() - t0);
        *iters = ss_crossbar_iterations(xb);
        ss_crossbar_free(xb);
    }
    return best;
}

int main(void)
{
    const char *quick = getenv("SS_BENCH_QUICK");
    size_t sizes[] = {16, 32, 64, 128};
    size_t nsizes = quick && *quick == '1' ? 3 : 4;
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "crossbar_dc: %s\n", err.msg);
        return 1;
    }
    printf("crossbar_dc: resistive N x N crossbar, rwire 2, rsource 10, rsense 10 ohm\n");
    printf("  %5s | %-22s | %-18s | %8s | %s\n", "N", "smallsim (best of 3)", "ngspice (engine)",
           "ratio", "max rel. diff of bit-line currents");
    for (size_t s = 0; s < nsizes; s++) {
        size_t n = sizes[s];
        double *g = malloc(n * n * sizeof *g), *v = malloc(n * sizeof *v);
        double *iout = malloc(n * sizeof *iout);
        fill(n, n, g, v);
        int iters;
        double ts = solve_time(n, g, v, iout, &iters);
        ss_netlist_crossbar nx = {n, n, 2.0, 10.0, 10.0, g, NULL, NULL, NULL, NULL, NULL, v,
                                  ".op", NULL, NULL, 0, NULL};
        ss_buf text = SS_BUF_INIT;
        ss_result res = SS_RESULT_INIT;
        double t0 = ss_util_now();
        if (ss_netlist_crossbar_write(&nx, &text, &err) ||
            ss_engine_run_text(eng, text.data, "xbar.cir", 0, &res, &err)) {
            fprintf(stderr, "crossbar_dc: %s\n", err.msg);
            return 1;
        }
        double tn = ss_util_now() - t0, worst = 0;
        for (size_t j = 0; j < n; j++) {
            char name[64];
            snprintf(name, sizeof name, "i(vsense%zu)", j);
            const ss_vector *vec = ss_result_find(&res, name);
            worst = fmax(worst, fabs(iout[j] - vec->re[0]) / fabs(vec->re[0]));
        }
        printf("  %5zu | %9.5f s (%3d it.) | %12.3f s     | %7.0fx | %.1e\n", n, ts, iters, tn,
               tn / ts, worst);
        fflush(stdout);
        ss_result_release(&res);
        ss_buf_release(&text);
        free(g);
        free(v);
        free(iout);
    }
    ss_engine_free(eng);
    /* 512 x 512 (and 1024 x 1024) alone: wall time and peak RSS of a child */
    size_t big[] = {512, 1024};
    for (size_t s = 0; s < 2; s++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            size_t n = big[s];
            double *g = malloc(n * n * sizeof *g), *v = malloc(n * sizeof *v);
            double *iout = malloc(n * sizeof *iout);
            fill(n, n, g, v);
            int iters;
            double ts = solve_time(n, g, v, iout, &iters);
            struct rusage ru;
            getrusage(RUSAGE_SELF, &ru);
            printf("  %zu x %zu with wire resistance: %.3f s, %d iterations, peak RSS %.0f MB "
                   "(inputs included)\n",
                   n, n, ts, iters, ru.ru_maxrss / 1024.0);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            return 1;
    }
    return 0;
}
