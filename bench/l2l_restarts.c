/* l2l_restarts.c: IPOP-CMA-ES against plain CMA-ES on 10-D Rastrigin (a
 * rotated, shifted instance per seed; f_opt = 0): the best f within a fixed
 * budget of evaluations, seeds 1..10, the optimizer driven by hand as in the
 * test cmaes_restarts_rastrigin_10d (docs/l2l.md).
 *
 * Environment: SS_BENCH_EVALS (budget, default 40000), SS_BENCH_RESTARTS
 * (default 8). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "l2l/ss_l2l.h"

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : def;
}

/* Best f of CMA-ES with `restarts` restarts after at least `budget`
 * evaluations (whole generations); *done gets the restarts made. */
static int best_f(const ss_l2l_task *t, size_t restarts, uint64_t seed, size_t budget,
                  double *best, size_t *done, ss_error *err)
{
    ss_l2l_opt_settings s = SS_L2L_OPT_SETTINGS_INIT;
    s.restarts = restarts;
    ss_l2l_opt *o = ss_l2l_opt_alloc(ss_l2l_opt_cmaes, t->nparams, NULL, &s, seed, err);
    if (!o)
        return err->code;
    size_t d = t->nparams, evals = 0, n;
    double *x = malloc(d * sizeof *x), *u = NULL, *f = NULL;
    uint64_t inst = ss_l2l_task_seed(SS_L2L_TEST, 0, 0, seed);
    int rc = x ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    *best = INFINITY;
    while (!rc && evals < budget) {
        size_t pop = ss_l2l_opt_pop(o);
        free(u), free(f);
        u = malloc(pop * d * sizeof *u);
        f = malloc(pop * sizeof *f);
        if (!u || !f) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
        if ((rc = ss_l2l_opt_ask(o, u, &n, err)))
            break;
        for (size_t i = 0; i < n && !rc; i++) {
            ss_l2l_space_decode(t->params, d, &u[i * d], x);
            rc = t->evaluate(t, NULL, x, inst, &f[i], err);
            *best = fmin(*best, f[i]);
        }
        evals += n;
        if (!rc)
            rc = ss_l2l_opt_tell(o, u, f, n, err);
    }
    *done = ss_l2l_opt_restarts(o);
    free(u), free(f), free(x);
    ss_l2l_opt_free(o);
    return rc;
}

int main(void)
{
    size_t budget = (size_t)env_long("SS_BENCH_EVALS", 40000);
    size_t restarts = (size_t)env_long("SS_BENCH_RESTARTS", 8);
    ss_error err;
    ss_l2l_task *t = ss_l2l_task_alloc("bbob-rastrigin:10", &err);
    if (!t) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    printf("CMA-ES on bbob-rastrigin:10 (f_opt = 0), best f within %zu evaluations\n", budget);
    printf("%4s %14s %14s %10s\n", "seed", "no restarts", "IPOP", "restarts");
    double sum0 = 0, sum1 = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        double f0, f1;
        size_t r0, r1;
        if (best_f(t, 0, seed, budget, &f0, &r0, &err) ||
            best_f(t, restarts, seed, budget, &f1, &r1, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        printf("%4llu %14.4g %14.4g %10zu\n", (unsigned long long)seed, f0, f1, r1);
        sum0 += f0, sum1 += f1;
    }
    printf("mean %14.4g %14.4g\n", sum0 / 10, sum1 / 10);
    ss_l2l_task_free(t);
    return 0;
}
