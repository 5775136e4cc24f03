/* cmaes.c: CMA-ES (Hansen, "The CMA Evolution Strategy: A Tutorial",
 * arXiv:1604.00772, with its default parameters: weighted recombination of
 * the best mu = lambda/2, cumulative step-size adaptation, rank-one and
 * rank-mu covariance updates, lazy eigendecomposition with GSL).  Samples
 * live in an unbounded space; ss_l2l_opt_ask folds them into [0, 1]
 * (reflection), so the function seen here is the periodic mirror image of
 * the bounded one.
 *
 * IPOP restarts (Auger and Hansen, "A Restart CMA Evolution Strategy With
 * Increasing Population Size", CEC 2005): when one of the tutorial's stop
 * criteria fires (tolfun, tolx, condition number, no effect of an axis or a
 * coordinate, stagnation of the best and median values), the strategy starts
 * again from a uniformly drawn mean with sigma0, C = I and twice the
 * population, at most settings.restarts times.  The restart count, the
 * population and the histories behind the criteria are part of the saved
 * state, so a resumed run restarts exactly where an uninterrupted one does. */
#include "l2l/l2l_private.h"

#include <gsl/gsl_eigen.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most generations the stop criteria look back (the stagnation window is
 * 120 + 30 n / lambda generations). */
#define HIST_MAX 100000

typedef struct cma {
    size_t n, lambda, mu;
    double *w, mueff, cc, cs, c1, cmu, damps, chin;
    /* state */
    double sigma, *m, *pc, *ps, *C, *B, *D;
    uint64_t counteval, eigeneval;
    /* best and median value of the last hlen generations of this restart,
     * oldest first (hcap = the stagnation window) */
    double *hbest, *hmed;
    size_t hlen, hcap;
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

/* Windows of the stop criteria for population lam: tolfun looks at the
 * last 10 + 30 n / lam generations, stagnation at 120 + 30 n / lam. */
static size_t tolfun_window(size_t n, size_t lam)
{
    return 10 + (30 * n + lam - 1) / lam;
}

static size_t stagnation_window(size_t n, size_t lam)
{
    size_t w = 120 + (30 * n + lam - 1) / lam;
    return w < HIST_MAX ? w : HIST_MAX;
}

/* The parts that depend on the population lam: weights, learning rates and
 * work arrays.  On failure the old arrays stay. */
static int cma_set_lambda(cma *c, size_t lam)
{
    size_t n = c->n, mu = lam / 2, hcap = stagnation_window(n, lam);
    double *w = malloc(mu * sizeof *w), *x = malloc(lam * n * sizeof *x);
    double *y = malloc(lam * n * sizeof *y), *hb = malloc(hcap * sizeof *hb);
    double *hm = malloc(hcap * sizeof *hm);
    size_t *idx = malloc(lam * sizeof *idx);
    if (!w || !x || !y || !idx || !hb || !hm) {
        free(w), free(x), free(y), free(idx), free(hb), free(hm);
        return SS_ENOMEM;
    }
    free(c->w), free(c->x), free(c->y), free(c->idx), free(c->hbest), free(c->hmed);
    c->w = w, c->x = x, c->y = y, c->idx = idx, c->hbest = hb, c->hmed = hm;
    c->lambda = lam;
    c->mu = mu;
    c->hcap = hcap;
    c->hlen = 0;
    double sw = 0, sw2 = 0, N = (double)n;
    for (size_t i = 0; i < mu; i++) {
        w[i] = log(mu + 0.5) - log((double)i + 1);
        sw += w[i];
    }
    for (size_t i = 0; i < mu; i++) {
        w[i] /= sw;
        sw2 += w[i] * w[i];
    }
    c->mueff = 1 / sw2;
    c->cc = (4 + c->mueff / N) / (N + 4 + 2 * c->mueff / N);
    c->cs = (c->mueff + 2) / (N + c->mueff + 5);
    c->c1 = 2 / ((N + 1.3) * (N + 1.3) + c->mueff);
    c->cmu = fmin(1 - c->c1, 2 * (c->mueff - 2 + 1 / c->mueff) / ((N + 2) * (N + 2) + c->mueff));
    c->damps = 1 + 2 * fmax(0, sqrt((c->mueff - 1) / (N + 1)) - 1) + c->cs;
    return SS_OK;
}

/* A fresh distribution around m: sigma0, C = B = I, zero paths. */
static void cma_reset(cma *c, double sigma0)
{
    size_t n = c->n;
    c->sigma = sigma0;
    memset(c->pc, 0, n * sizeof *c->pc);
    memset(c->ps, 0, n * sizeof *c->ps);
    memset(c->C, 0, n * n * sizeof *c->C);
    memset(c->B, 0, n * n * sizeof *c->B);
    for (size_t i = 0; i < n; i++) {
        c->C[i * n + i] = 1;
        c->B[i * n + i] = 1;
        c->D[i] = 1;
    }
    c->counteval = c->eigeneval = 0;
    c->hlen = 0;
}

static void cma_release(ss_l2l_opt *o)
{
    cma *c = o->state;
    if (!c)
        return;
    free(c->w), free(c->m), free(c->pc), free(c->ps), free(c->C), free(c->B), free(c->D);
    free(c->x), free(c->y), free(c->z), free(c->tmp), free(c->xold), free(c->idx);
    free(c->hbest), free(c->hmed);
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
    size_t n = o->dim;
    cma *c = calloc(1, sizeof *c);
    if (!c)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->state = c;
    c->n = n;
    c->m = malloc(n * sizeof *c->m);
    c->pc = calloc(n, sizeof *c->pc);
    c->ps = calloc(n, sizeof *c->ps);
    c->C = calloc(n * n, sizeof *c->C);
    c->B = calloc(n * n, sizeof *c->B);
    c->D = malloc(n * sizeof *c->D);
    c->z = malloc(n * sizeof *c->z);
    c->tmp = malloc(n * sizeof *c->tmp);
    c->xold = malloc(n * sizeof *c->xold);
    c->ws = gsl_eigen_symmv_alloc(n);
    c->A = gsl_matrix_alloc(n, n);
    c->evec = gsl_matrix_alloc(n, n);
    c->eval = gsl_vector_alloc(n);
    if (!c->m || !c->pc || !c->ps || !c->C || !c->B || !c->D || !c->z || !c->tmp || !c->xold ||
        !c->ws || !c->A || !c->evec || !c->eval || cma_set_lambda(c, o->pop)) {
        cma_release(o);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    double N = (double)n;
    c->chin = sqrt(N) * (1 - 1 / (4 * N) + 1 / (21 * N * N));
    memcpy(c->m, o->u0, n * sizeof *c->m);
    cma_reset(c, o->set.sigma0);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..k) (k >= 1), using tmp (k values). */
static double median(const double *v, size_t k, double *tmp)
{
    memcpy(tmp, v, k * sizeof *v);
    qsort(tmp, k, sizeof *tmp, cmp_double);
    return k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
}

/* The stop criteria of Hansen's tutorial (appendix B.3) on the state after
 * a tell with values f (ranked in c->idx). */
static int cma_should_stop(const ss_l2l_opt *o, const double *f)
{
    const cma *c = o->state;
    size_t n = c->n, lam = c->lambda;
    /* tolfun: the recent best values and all current ones within tolfun */
    size_t tw = tolfun_window(n, lam);
    if (o->set.tolfun > 0 && c->hlen >= tw) {
        double lo = f[c->idx[0]], hi = f[c->idx[lam - 1]];
        for (size_t k = c->hlen - tw; k < c->hlen; k++)
            lo = fmin(lo, c->hbest[k]), hi = fmax(hi, c->hbest[k]);
        if (hi - lo < o->set.tolfun)
            return 1;
    }
    /* tolx: every coordinate's standard deviation and path below tolx */
    if (o->set.tolx > 0) {
        int small = 1;
        for (size_t i = 0; i < n && small; i++)
            small = c->sigma * fmax(fabs(c->pc[i]), sqrt(c->C[i * n + i])) < o->set.tolx;
        if (small)
            return 1;
    }
    /* condition number of C */
    double dmin = c->D[0], dmax = c->D[0];
    for (size_t i = 1; i < n; i++)
        dmin = fmin(dmin, c->D[i]), dmax = fmax(dmax, c->D[i]);
    if (dmax * dmax > 1e14 * dmin * dmin)
        return 1;
    /* no effect of a 0.1-sigma step along the principal axis of this generation */
    size_t a = (size_t)((c->counteval / lam) % n);
    int same = 1;
    for (size_t i = 0; i < n && same; i++)
        same = c->m[i] == c->m[i] + 0.1 * c->sigma * c->D[a] * c->B[i * n + a];
    if (same)
        return 1;
    /* no effect of a 0.2-sigma step on a coordinate */
    for (size_t i = 0; i < n; i++)
        if (c->m[i] == c->m[i] + 0.2 * c->sigma * sqrt(c->C[i * n + i]))
            return 1;
    /* stagnation: the median of the newest 30 % of the window is not better
     * than that of the oldest 30 %, for the best and the median values */
    if (c->hlen == c->hcap) {
        size_t k = (3 * c->hcap) / 10;
        double *tmp = malloc(k * sizeof *tmp);
        if (!tmp)
            return 0;
        size_t last = c->hlen - k;
        int stuck = median(c->hbest + last, k, tmp) >= median(c->hbest, k, tmp) &&
                    median(c->hmed + last, k, tmp) >= median(c->hmed, k, tmp);
        free(tmp);
        if (stuck)
            return 1;
    }
    return 0;
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
    /* history for the stop criteria */
    if (c->hlen == c->hcap) {
        memmove(c->hbest, c->hbest + 1, (c->hcap - 1) * sizeof *c->hbest);
        memmove(c->hmed, c->hmed + 1, (c->hcap - 1) * sizeof *c->hmed);
        c->hlen--;
    }
    c->hbest[c->hlen] = f[c->idx[0]];
    c->hmed[c->hlen] = f[c->idx[lam / 2]];
    c->hlen++;
    if (o->restarts < o->set.restarts && cma_should_stop(o, f)) {
        /* IPOP: twice the population, a uniformly drawn mean */
        if (cma_set_lambda(c, 2 * lam))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            c->m[i] = gsl_rng_uniform(o->rng);
        cma_reset(c, o->set.sigma0);
        o->pop = c->lambda;
        o->restarts++;
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
    if (!rc)
        rc = ss_buf_printf(out, "opt.cma.restart %zu %zu %zu\n", o->restarts, c->lambda, c->hlen);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.hbest", c->hbest, c->hlen);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.cma.hmed", c->hmed, c->hlen);
    return rc;
}

static int cma_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    cma *c = o->state;
    size_t n = c->n;
    double cnt[2];
    /* the restart state first: it decides the population and the window */
    const char *line;
    size_t restarts = 0, lam = c->lambda, hlen = 0;
    if (!l2li_kv_str(kv, "opt.cma.restart", &line, NULL)) { /* absent in older checkpoints */
        char extra;
        if (sscanf(line, "%zu %zu %zu %c", &restarts, &lam, &hlen, &extra) != 3 ||
            restarts > o->set.restarts || lam != (o->pop0 << restarts) ||
            hlen > stagnation_window(n, lam))
            return ss_error_set(err, SS_EPARSE, "%s: bad 'opt.cma.restart' line", kv->what);
    }
    if (lam != c->lambda && cma_set_lambda(c, lam))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->pop = lam;
    o->restarts = restarts;
    c->hlen = hlen;
    int rc = SS_OK;
    if (hlen)
        rc = l2li_kv_doubles(kv, "opt.cma.hbest", c->hbest, hlen, err);
    if (!rc && hlen)
        rc = l2li_kv_doubles(kv, "opt.cma.hmed", c->hmed, hlen, err);
    if (!rc)
        rc = l2li_kv_double(kv, "opt.cma.sigma", &c->sigma, err);
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

static void cma_center(const ss_l2l_opt *o, double *u)
{
    const cma *c = o->state;
    memcpy(u, c->m, c->n * sizeof *u);
}

const ss_l2l_opt_type l2li_cmaes_type = {"cmaes",   cma_default_pop, cma_init,   cma_ask,
                                         cma_tell,  cma_save,        cma_load,   cma_spread,
                                         cma_release, cma_center};
