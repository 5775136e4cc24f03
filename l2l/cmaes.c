/* cmaes.c: CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial",
 * arXiv:1604.00772, with its default parameters: weighted recombination of
 * the best mu = lambda/2, cumulative step-size adaptation, rank-one and
 * rank-mu covariance updates, lazy eigendecomposition with GSL).  Samples
 * live in an unbounded space; ss_l2l_opt_ask folds them into [0, 1]
 * (reflection), so the function seen here is the periodic mirror image of
 * the bounded one. */
#include "l2l/l2l_private.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct cma {
    size_t n, lambda, mu;
    double *w, mueff, cc, cs, c1, cmu, damps, chin;
    /* state */
    double sigma, *m, *pc, *ps, *C, *B, *D;
    uint64_t counteval, eigeneval;
    /* work */
    double *x, *y, *z, *tmp, *xold;
    size_t *idx;
    gsl_eigen_symmv_workspace *ws;
    gsl_matrix *A, *evec;
    gsl_vector *eval;
} cma;

static size_t cma_default_pop(size_t n)
{
    return 4 + (size_t)floor(3 * log((double)n));
}

static void cma_release(ss_l2l_opt *o)
{
    cma *c = o->state;
    if (!c)
        return;
    free(c->w), free(c->m), free(c->pc), free(c->ps), free(c->C), free(c->B), free(c->D);
    free(c->x), free(c->y), free(c->z), free(c->tmp), free(c->xold), free(c->idx);
    if (c->ws)
        gsl_eigen_symmv_free(c->ws);
    gsl_matrix_free(c->A);
    gsl_matrix_free(c->evec);
    gsl_vector_free(c->eval);
    free(c);
    o->state = NULL;
}

static int cma_init(ss_l2l_opt *o, ss_error *err)
{
    size_t n = o->dim, lam = o->pop;
    cma *c = calloc(1, sizeof *c);
    if (!c)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->state = c;
    c->n = n;
    c->lambda = lam;
    c->mu = lam / 2;
    c->w = malloc(c->mu * sizeof *c->w);
    c->m = malloc(n * sizeof *c->m);
    c->pc = calloc(n, sizeof *c->pc);
    c->ps = calloc(n, sizeof *c->ps);
    c->C = calloc(n * n, sizeof *c->C);
    c->B = calloc(n * n, sizeof *c->B);
    c->D = malloc(n * sizeof *c->D);
    c->x = malloc(lam * n * sizeof *c->x);
    c->y = malloc(lam * n * sizeof *c->y);
    c->z = malloc(n * sizeof *c->z);
    c->tmp = malloc(n * sizeof *c->tmp);
    c->xold = malloc(n * sizeof *c->xold);
    c->idx = malloc(lam * sizeof *c->idx);
    c->ws = gsl_eigen_symmv_alloc(n);
    c->A = gsl_matrix_alloc(n, n);
    c->evec = gsl_matrix_alloc(n, n);
    c->eval = gsl_vector_alloc(n);
    if (!c->w || !c->m || !c->pc || !c->ps || !c->C || !c->B || !c->D || !c->x || !c->y ||
        !c->z || !c->tmp || !c->xold || !c->idx || !c->ws || !c->A || !c->evec || !c->eval) {
        cma_release(o);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    double sw = 0, sw2 = 0, N = (double)n;
    for (size_t i = 0; i < c->mu; i++) {
        c->w[i] = log(c->mu + 0.5) - log((double)i + 1);
        sw += c->w[i];
    }
    for (size_t i = 0; i < c->mu; i++) {
        c->w[i] /= sw;
        sw2 += c->w[i] * c->w[i];
    }
    c->mueff = 1 / sw2;
    c->cc = (4 + c->mueff / N) / (N + 4 + 2 * c->mueff / N);
    c->cs = (c->mueff + 2) / (N + c->mueff + 5);
    c->c1 = 2 / ((N + 1.3) * (N + 1.3) + c->mueff);
    c->cmu = fmin(1 - c->c1, 2 * (c->mueff - 2 + 1 / c->mueff) / ((N + 2) * (N + 2) + c->mueff));
    c->damps = 1 + 2 * fmax(0, sqrt((c->mueff - 1) / (N + 1)) - 1) + c->cs;
    c->chin = sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N * N));
    c->sigma = o->set.sigma0;
    memcpy(c->m, o->u0, n * sizeof *c->m);
    for (size_t i = 0; i < n; i++) {
        c->C[i * n + i] = 1;
        c->B[i * n + i] = 1;
        c->D[i] = 1;
    }
    return SS_OK;
}

static int cma_ask(ss_l2l_opt *o, double *u, size_t *nout, ss_error *err)
{
    (void)err;
    cma *c = o->state;
    size_t n = c->n;
    for (size_t k = 0; k < c->lambda; k++) {
        for (size_t i = 0; i < n; i++)
            c->z[i] = c->D[i] * gsl_ran_gaussian_ziggurat(o->rng, 1.0);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (size_t j = 0; j < n; j++)
                s += c->B[i * n + j] * c->z[j];
            c->y[k * n + i] = s;
            c->x[k * n + i] = c->m[i] + c->sigma * s;
        }
    }
    memcpy(u, c->x, c->lambda * n * sizeof *u);
    *nout = c->lambda;
    return SS_OK;
}

static int by_f(const void *a, const void *b, void *arg)
{
    const double *f = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (f[i] != f[j])
        return f[i] < f[j] ? -1 : 1;
    return i < j ? -1 : i > j; /* equal values keep their order (qsort is not stable) */
}

void l2li_rank(const double *f, size_t n, size_t *idx)
{
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, by_f, (void *)f);
}

static void cma_eigen(cma *c)
{
    size_t n = c->n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double v = 0.5 * (c->C[i * n + j] + c->C[j * n + i]);
            c->C[i * n + j] = c->C[j * n + i] = v;
            gsl_matrix_set(c->A, i, j, v);
            gsl_matrix_set(c->A, j, i, v);
        }
    if (gsl_eigen_symmv(c->A, c->eval, c->evec, c->ws))
        return; /* keep the old basis */
    gsl_eigen_symmv_sort(c->eval, c->evec, GSL_EIGEN_SORT_VAL_ASC);
    for (size_t i = 0; i < n; i++) {
        double ev = gsl_vector_get(c->eval, i);
        c->D[i] = sqrt(ev > 1e-300 ? ev : 1e-300);
        for (size_t j = 0; j < n; j++)
            c->B[j * n + i] = gsl_matrix_get(c->evec, j, i);
    }
}

static int cma_tell(ss_l2l_opt *o, const double *u, const double *f, size_t nf, ss_error *err)
{
    (void)u;
    cma *c = o->state;
    size_t n = c->n, lam = c->lambda;
    if (nf != lam)
        return ss_error_set(err, SS_EINVAL, "told %zu values for a population of %zu", nf, lam);
    /* u holds the folded points; the update uses the unfolded samples */
    l2li_rank(f, lam, c->idx);
    c->counteval += lam;
    memcpy(c->xold, c->m, n * sizeof *c->m);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < c->mu; k++)
            s += c->w[k] * c->x[c->idx[k] * n + i];
        c->m[i] = s;
    }
    /* ps: C^(-1/2) (m - xold) / sigma = B D^-1 B' ... */
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += c->B[i * n + j] * (c->m[i] - c->xold[i]);
        c->tmp[j] = s / c->D[j] / c->sigma;
    }
    double a = sqrt(c->cs * (2 - c->cs) * c->mueff), psn = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++)
            s += c->B[i * n + j] * c->tmp[j];
        c->ps[i] = (1 - c->cs) * c->ps[i] + a * s;
        psn += c->ps[i] * c->ps[i];
    }
    psn = sqrt(psn);
    double gens = (double)c->counteval / (double)lam;
    int hsig = psn / sqrt(1 - pow(1 - c->cs, 2 * gens)) / c->chin < 1.4 + 2 / ((double)n + 1);
    double b = sqrt(c->cc * (2 - c->cc) * c->mueff);
    for (size_t i = 0; i < n; i++)
        c->pc[i] = (1 - c->cc) * c->pc[i] + (hsig ? b * (c->m[i] - c->xold[i]) / c->sigma : 0);
    double keep = 1 - c->c1 - c->cmu + (hsig ? 0 : c->c1 * c->cc * (2 - c->cc));
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++) {
            double rmu = 0;
            for (size_t k = 0; k < c->mu; k++) {
                const double *xk = &c->x[c->idx[k] * n];
                rmu += c->w[k] * (xk[i] - c->xold[i]) * (xk[j] - c->xold[j]);
            }
            double v = keep * c->C[i * n + j] + c->c1 * c->pc[i] * c->pc[j] +
                       c->cmu * rmu / (c->sigma * c->sigma);
            c->C[i * n + j] = c->C[j * n + i] = v;
        }
    c->sigma *= exp((c->cs / c->damps) * (psn / c->chin - 1));
    if (c->sigma > 1e3)
        c->sigma = 1e3; /* the box is [0, 1]: larger steps mean nothing */
    if ((double)(c->counteval - c->eigeneval) > (double)lam / (c->c1 + c->cmu) / (double)n / 10) {
        c->eigeneval = c->counteval;
        cma_eigen(c);
    }
    return SS_OK;
}

static int cma_save(const ss_l2l_opt *o, ss_buf *out)
{
    const cma *c = o->state;
    size_t n = c->n;
    int rc = l2li_put_doubles(out, "opt.cma.sigma", &c->sigma, 1);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.m", c->m, n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.pc", c->pc, n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.ps", c->ps, n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.C", c->C, n * n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.B", c->B, n * n);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.D", c->D, n);
    if (!rc)
        rc = ss_buf_printf(out, "opt.cma.count %llu %llu\n", (unsigned long long)c->counteval,
                           (unsigned long long)c->eigeneval);
    return rc;
}

static int cma_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    cma *c = o->state;
    size_t n = c->n;
    double cnt[2];
    int rc = l2li_kv_double(kv, "opt.cma.sigma", &c->sigma, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.m", c->m, n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.pc", c->pc, n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.ps", c->ps, n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.C", c->C, n * n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.B", c->B, n * n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.D", c->D, n, err);
    if (!rc)
        rc = l2li_kv_doubles(kv, "opt.cma.count", cnt, 2, err);
    if (rc)
        return rc;
    if (!(c->sigma > 0) || !isfinite(c->sigma) || cnt[0] < 0 || cnt[1] < 0 || cnt[1] > cnt[0])
        return ss_error_set(err, SS_EPARSE, "%s: CMA-ES state is inconsistent", kv->what);
    for (size_t i = 0; i < n; i++)
        if (!(c->D[i] > 0) || !isfinite(c->m[i]))
            return ss_error_set(err, SS_EPARSE, "%s: CMA-ES state is inconsistent", kv->what);
    c->counteval = (uint64_t)cnt[0];
    c->eigeneval = (uint64_t)cnt[1];
    return SS_OK;
}

static double cma_spread(const ss_l2l_opt *o)
{
    const cma *c = o->state;
    double dmax = 0;
    for (size_t i = 0; i < c->n; i++)
        dmax = fmax(dmax, c->D[i]);
    return c->sigma * dmax;
}

const ss_l2l_opt_type l2li_cmaes_type = {"cmaes", cma_default_pop, cma_init, cma_ask, cma_tell,
                                         cma_save, cma_load, cma_spread, cma_release};
