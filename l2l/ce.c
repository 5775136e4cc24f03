/* ce.c: the cross-entropy method as in L2L's CrossEntropyOptimizer with a
 * NoisyGaussian distribution: sample a full-covariance Gaussian, fit mean and
 * covariance to the best rho fraction, blend with the old distribution
 * (new = smoothing * old + (1 - smoothing) * fit) and add `noise` times the
 * identity to the covariance, the noise decaying by `noise_decay` per
 * generation. */
#include "l2l/l2l_private.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct ce {
    size_t n;
    double *m, *S, noise; /* state */
    double *mean, *z;     /* work */
    size_t *idx;
    gsl_matrix *L;
} ce;

static size_t ce_default_pop(size_t n)
{
    (void)n;
    return 50;
}

static void ce_release(ss_l2l_opt *o)
{
    ce *c = o->state;
    if (!c)
        return;
    free(c->m), free(c->S), free(c->mean), free(c->z), free(c->idx);
    gsl_matrix_free(c->L);
    free(c);
    o->state = NULL;
}

static int ce_init(ss_l2l_opt *o, ss_error *err)
{
    size_t n = o->dim;
    ce *c = calloc(1, sizeof *c);
    if (!c)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->state = c;
    c->n = n;
    c->m = malloc(n * sizeof *c->m);
    c->S = calloc(n * n, sizeof *c->S);
    c->mean = malloc(n * sizeof *c->mean);
    c->z = malloc(n * sizeof *c->z);
    c->idx = malloc(o->pop * sizeof *c->idx);
    c->L = gsl_matrix_alloc(n, n);
    if (!c->m || !c->S || !c->mean || !c->z || !c->idx || !c->L) {
        ce_release(o);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    memcpy(c->m, o->u0, n * sizeof *c->m);
    for (size_t i = 0; i < n; i++)
        c->S[i * n + i] = o->set.sigma0 * o->set.sigma0;
    c->noise = o->set.noise;
    return SS_OK;
}

/* Cholesky factor of S in c->L, adding jitter to the diagonal until it works. */
static int ce_factor(ce *c, ss_error *err)
{
    size_t n = c->n;
    double tr = 0;
    for (size_t i = 0; i < n; i++)
        tr += c->S[i * n + i];
    double jitter = 0;
    for (int tries = 0; tries < 30; tries++) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++)
                gsl_matrix_set(c->L, i, j, c->S[i * n + j] + (i == j ? jitter : 0));
        if (gsl_linalg_cholesky_decomp1(c->L) == GSL_SUCCESS)
            return SS_OK;
        jitter = jitter ? 10 * jitter : 1e-12 * (tr / (double)n + 1e-300);
    }
    return ss_error_set(err, SS_ENUMERIC, "covariance is not positive definite");
}

static int ce_ask(ss_l2l_opt *o, double *u, size_t *nout, ss_error *err)
{
    ce *c = o->state;
    size_t n = c->n;
    int rc = ce_factor(c, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < o->pop; k++) {
        for (size_t i = 0; i < n; i++)
            c->z[i] = gsl_ran_gaussian_ziggurat(o->rng, 1.0);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j <= i; j++)
                s += gsl_matrix_get(c->L, i, j) * c->z[j];
            u[k * n + i] = c->m[i] + s;
        }
    }
    *nout = o->pop;
    return SS_OK;
}

static int ce_tell(ss_l2l_opt *o, const double *u, const double *f, size_t nf, ss_error *err)
{
    ce *c = o->state;
    size_t n = c->n;
    if (!nf)
        return ss_error_set(err, SS_EINVAL, "nothing told");
    l2li_rank(f, nf, c->idx);
    size_t ne = (size_t)ceil(o->set.rho * (double)nf);
    if (ne < 1)
        ne = 1;
    if (ne > nf)
        ne = nf;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < ne; k++)
            s += u[c->idx[k] * n + i];
        c->mean[i] = s / (double)ne;
    }
    double a = o->set.smoothing;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double s = 0;
            for (size_t k = 0; k < ne; k++) {
                const double *x = &u[c->idx[k] * n];
                s += (x[i] - c->mean[i]) * (x[j] - c->mean[j]);
            }
            double v = a * c->S[i * n + j] + (1 - a) * s / (double)ne + (i == j ? c->noise : 0);
            c->S[i * n + j] = c->S[j * n + i] = v;
        }
    for (size_t i = 0; i < n; i++)
        c->m[i] = a * c->m[i] + (1 - a) * c->mean[i];
    c->noise *= o->set.noise_decay;
    return SS_OK;
}

static int ce_save(const ss_l2l_opt *o, ss_buf *out)
{
    const ce *c = o->state;
    int rc = l2li_put_doubles(out, "opt.ce.m", c->m, c->n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.ce.S", c->S, c->n * c->n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.ce.noise", &c->noise, 1);
    return rc;
}

static int ce_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    ce *c = o->state;
    int rc = l2li_kv_doubles(kv, "opt.ce.m", c->m, c->n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.ce.S", c->S, c->n * c->n, err);
    if (!rc)
        rc = l2li_kv_double(kv, "opt.ce.noise", &c->noise, err);
    if (!rc && !(c->noise >= 0))
        rc = ss_error_set(err, SS_EPARSE, "%s: CE noise %g is negative", kv->what, c->noise);
    return rc;
}

static double ce_spread(const ss_l2l_opt *o)
{
    const ce *c = o->state;
    double s = 0;
    for (size_t i = 0; i < c->n; i++)
        s += c->S[i * c->n + i];
    return sqrt(s / (double)c->n);
}

static void ce_center(const ss_l2l_opt *o, double *u)
{
    const ce *c = o->state;
    memcpy(u, c->m, c->n * sizeof *u);
}

const ss_l2l_opt_type l2li_ce_type = {"ce",    ce_default_pop, ce_init,   ce_ask,     ce_tell,
                                      ce_save, ce_load,        ce_spread, ce_release, ce_center};
