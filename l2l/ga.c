/* ga.c: a generational genetic algorithm in the style of L2L's GA (DEAP):
 * tournament selection, blend crossover (alpha 0.5), Gaussian mutation and
 * `elite` best individuals carried over unchanged.  Generation 0 is uniform
 * in the box. */
#include "l2l/l2l_private.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ga {
    size_t n, npop; /* npop: individuals in the last told generation (0: none) */
    double *pop, *f;
    size_t *idx;
} ga;

static size_t ga_default_pop(size_t n)
{
    (void)n;
    return 50;
}

static void ga_release(ss_l2l_opt *o)
{
    ga *g = o->state;
    if (!g)
        return;
    free(g->pop), free(g->f), free(g->idx);
    free(g);
    o->state = NULL;
}

static int ga_init(ss_l2l_opt *o, ss_error *err)
{
    /* ss_l2l_opt_settings_check made sure that elite < pop */
    ga *g = calloc(1, sizeof *g);
    if (!g)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->state = g;
    g->n = o->dim;
    g->pop = malloc(o->pop * o->dim * sizeof *g->pop);
    g->f = malloc(o->pop * sizeof *g->f);
    g->idx = malloc(o->pop * sizeof *g->idx);
    if (!g->pop || !g->f || !g->idx) {
        ga_release(o);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    return SS_OK;
}

static size_t tournament(ss_l2l_opt *o, const ga *g)
{
    size_t best = gsl_rng_uniform_int(o->rng, g->npop);
    for (size_t t = 1; t < o->set.tournament; t++) {
        size_t c = gsl_rng_uniform_int(o->rng, g->npop);
        if (g->f[c] < g->f[best] || (g->f[c] == g->f[best] && c < best))
            best = c;
    }
    return best;
}

static int ga_ask(ss_l2l_opt *o, double *u, size_t *nout, ss_error *err)
{
    (void)err;
    ga *g = o->state;
    size_t n = g->n;
    if (!g->npop) {
        for (size_t i = 0; i < o->pop * n; i++)
            u[i] = gsl_rng_uniform(o->rng);
        *nout = o->pop;
        return SS_OK;
    }
    l2li_rank(g->f, g->npop, g->idx);
    size_t k = 0;
    for (; k < o->set.elite && k < g->npop; k++)
        memcpy(&u[k * n], &g->pop[g->idx[k] * n], n * sizeof *u);
    double gene_p = fmax(0.1, 1.0 / (double)n);
    for (; k < o->pop; k++) {
        double *child = &u[k * n];
        const double *a = &g->pop[tournament(o, g) * n];
        const double *b = &g->pop[tournament(o, g) * n];
        if (gsl_rng_uniform(o->rng) < o->set.cx_prob) {
            for (size_t i = 0; i < n; i++) {
                double gamma = 2.0 * gsl_rng_uniform(o->rng) - 0.5; /* (1 + 2 alpha) r - alpha */
                child[i] = a[i] + gamma * (b[i] - a[i]);
            }
        } else {
            memcpy(child, a, n * sizeof *child);
        }
        if (gsl_rng_uniform(o->rng) < o->set.mut_prob)
            for (size_t i = 0; i < n; i++)
                if (gsl_rng_uniform(o->rng) < gene_p)
                    child[i] += gsl_ran_gaussian_ziggurat(o->rng, o->set.mut_sigma);
    }
    *nout = o->pop;
    return SS_OK;
}

static int ga_tell(ss_l2l_opt *o, const double *u, const double *f, size_t nf, ss_error *err)
{
    ga *g = o->state;
    if (!nf)
        return ss_error_set(err, SS_EINVAL, "nothing told");
    memcpy(g->pop, u, nf * g->n * sizeof *u);
    memcpy(g->f, f, nf * sizeof *f);
    g->npop = nf;
    (void)o;
    return SS_OK;
}

static int ga_save(const ss_l2l_opt *o, ss_buf *out)
{
    const ga *g = o->state;
    int rc = l2li_put_u64(out, "opt.ga.npop", g->npop);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.ga.pop", g->pop, g->npop * g->n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.ga.f", g->f, g->npop);
    return rc;
}

static int ga_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    ga *g = o->state;
    int rc = l2li_kv_size(kv, "opt.ga.npop", &g->npop, err);
    if (!rc && g->npop > o->pop)
        rc = ss_error_set(err, SS_EPARSE, "%s: GA population %zu exceeds %zu", kv->what, g->npop,
                          o->pop);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.ga.pop", g->pop, g->npop * g->n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.ga.f", g->f, g->npop, err);
    return rc;
}

static double ga_spread(const ss_l2l_opt *o)
{
    (void)o;
    return 0;
}

const ss_l2l_opt_type l2li_ga_type = {"ga", ga_default_pop, ga_init, ga_ask, ga_tell, ga_save,
                                      ga_load, ga_spread, ga_release, NULL};
