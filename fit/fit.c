/* fit.c: one parameter set for several measured loops: differential
 * evolution over the unit cube, then a trust-region Levenberg-Marquardt
 * polish (gsl_multifit_nlinear) and standard errors from its Jacobian. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fit/fit_private.h"

typedef struct fparam {
    int free;
    double lo, hi;
    int logscale; /* bounds of one sign: search log|p| */
} fparam;

struct ss_fit {
    const ss_device_type *type;
    ss_device base;
    fparam p[SS_DEVICE_MAX_PARAMS];
    int user_bounds[SS_DEVICE_MAX_PARAMS]; /* set by ss_fit_set_bounds */
    size_t nfiles;
    ss_fit_data *data;
    int *x0_free;
    double *x0_val;
    int x0_default_free;
    double x0_default;
    ss_fit_options opt;
};

/* ---- default free sets ------------------------------------------------------- */

static const char *const vteam_free[] = {"r_on",  "r_off", "v_on",     "v_off",
                                         "k_on",  "k_off", "alpha_on", "alpha_off", NULL};
static const char *const yak_free[] = {"a1", "a2", "b",  "vp",     "vn",     "ap",
                                       "an", "xp", "xn", "alphap", "alphan", NULL};
static const char *const yak20_free[] = {"gmax_p", "bmax_p", "gmax_n", "bmax_n", "gmin_p",
                                         "bmin_p", "gmin_n", "bmin_n", "vp",     "vn",
                                         "ap",     "an",     "xp",     "xn",     "alphap",
                                         "alphan", NULL};

static const char *const *default_free(const ss_device_type *t)
{
    if (t == ss_device_vteam)
        return vteam_free;
    if (t == ss_device_yakopcic)
        return yak_free;
    return yak20_free;
}

static void set_range(fparam *p, double lo, double hi)
{
    p->lo = lo, p->hi = hi;
    p->logscale = (lo > 0 && hi > 0) || (lo < 0 && hi < 0);
}

ss_fit *ss_fit_alloc(const ss_device_type *type, ss_error *err)
{
    if (!type) {
        ss_error_set(err, SS_EINVAL, "no model");
        return NULL;
    }
    ss_fit *f = calloc(1, sizeof *f);
    if (!f) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    f->type = type;
    ss_device_init(&f->base, type);
    f->x0_default_free = 1;
    f->x0_default = 0.5;
    ss_fit_options o = SS_FIT_OPTIONS_INIT;
    f->opt = o;
    for (const char *const *n = default_free(type); *n; n++) {
        int k = ss_device_param_index(type, *n);
        if (k >= 0)
            f->p[k].free = 1;
    }
    return f;
}

void ss_fit_free(ss_fit *f)
{
    if (!f)
        return;
    for (size_t k = 0; k < f->nfiles; k++)
        ss_fit_data_release(&f->data[k]);
    free(f->data);
    free(f->x0_free);
    free(f->x0_val);
    free(f);
}

int ss_fit_add_data(ss_fit *f, const ss_fit_data *d, ss_error *err)
{
    int rc = ss_fit_data_check(d, err);
    if (rc)
        return rc;
    ss_fit_data *nd = realloc(f->data, (f->nfiles + 1) * sizeof *nd);
    if (!nd)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    f->data = nd;
    int *xf = realloc(f->x0_free, (f->nfiles + 1) * sizeof *xf);
    if (!xf)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    f->x0_free = xf;
    double *xv = realloc(f->x0_val, (f->nfiles + 1) * sizeof *xv);
    if (!xv)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    f->x0_val = xv;
    ss_fit_data c = SS_FIT_DATA_INIT;
    if ((rc = ss_fit_data_set(&c, d->name, d->n, d->t, d->v, d->i, 0.0, d->series_r, err)))
        return rc;
    c.freq = d->freq;
    f->data[f->nfiles] = c;
    f->x0_free[f->nfiles] = f->x0_default_free;
    f->x0_val[f->nfiles] = f->x0_default;
    f->nfiles++;
    return SS_OK;
}

int ss_fit_set_device(ss_fit *f, const ss_device *d, ss_error *err)
{
    if (d->type != f->type)
        return ss_error_set(err, SS_EINVAL, "device model '%s' is not the fit's '%s'",
                            d->type->name, f->type->name);
    f->base = *d;
    return SS_OK;
}

void ss_fit_set_options(ss_fit *f, const ss_fit_options *opt)
{
    f->opt = *opt;
}

static int param_lookup(const ss_fit *f, const char *name, ss_error *err)
{
    int k = ss_device_param_index(f->type, name);
    if (k < 0)
        return -ss_error_set(err, SS_ENOTFOUND, "model '%s' has no parameter '%s'",
                             f->type->name, name);
    if (f->type->params[k].choices)
        return -ss_error_set(err, SS_EINVAL, "parameter '%s' is a choice; it cannot be fitted",
                             name);
    return k;
}

/* "x0", "x0[k]" (and "w0" for vteam): -1 = all files, k, or -2 = not x0. */
static long x0_target(const ss_fit *f, const char *name)
{
    if (!strcmp(name, "x0") || (f->type == ss_device_vteam && !strcmp(name, "w0")))
        return -1;
    if (!strncmp(name, "x0[", 3)) {
        char *end;
        long k = strtol(name + 3, &end, 10);
        if (end != name + 3 && !strcmp(end, "]") && k >= 0)
            return k;
    }
    return -2;
}

static double x0_from_value(const ss_fit *f, const char *name, double value)
{
    if (f->type == ss_device_vteam && !strcmp(name, "w0")) {
        double won = ss_device_get(&f->base, "w_on"), woff = ss_device_get(&f->base, "w_off");
        return (value - won) / (woff - won);
    }
    return value;
}

int ss_fit_fix(ss_fit *f, const char *name, double value, ss_error *err)
{
    long t = x0_target(f, name);
    if (t != -2) {
        double x = x0_from_value(f, name, value);
        if (!(x >= 0 && x <= 1))
            return ss_error_set(err, SS_EINVAL, "initial state '%s' = %g is outside [0, 1]", name,
                                x);
        if (t == -1) {
            f->x0_default_free = 0;
            f->x0_default = x;
            for (size_t k = 0; k < f->nfiles; k++)
                f->x0_free[k] = 0, f->x0_val[k] = x;
        } else {
            if ((size_t)t >= f->nfiles)
                return ss_error_set(err, SS_EINVAL, "'%s': there are only %zu files", name,
                                    f->nfiles);
            f->x0_free[t] = 0, f->x0_val[t] = x;
        }
        return SS_OK;
    }
    int k = param_lookup(f, name, err);
    if (k < 0)
        return -k;
    if (!isfinite(value))
        return ss_error_set(err, SS_EINVAL, "parameter '%s': value is not finite", name);
    f->base.p[k] = value;
    f->p[k].free = 0;
    return SS_OK;
}

int ss_fit_set_bounds(ss_fit *f, const char *name, double lo, double hi, ss_error *err)
{
    if (x0_target(f, name) != -2)
        return ss_error_set(err, SS_EINVAL, "initial states are searched in [0, 1]; fix them with "
                                            "--fix x0=VALUE instead");
    int k = param_lookup(f, name, err);
    if (k < 0)
        return -k;
    if (!(lo < hi) || !isfinite(lo) || !isfinite(hi))
        return ss_error_set(err, SS_EINVAL, "bounds of '%s': need lo < hi (got %g:%g)", name, lo,
                            hi);
    set_range(&f->p[k], lo, hi);
    f->p[k].free = 1;
    f->user_bounds[k] = 1;
    return SS_OK;
}

int ss_fit_fix_text(ss_fit *f, const char *a, ss_error *err)
{
    const char *eq = strchr(a, '=');
    char name[64];
    double v;
    if (!eq || eq == a || (size_t)(eq - a) >= sizeof name)
        return ss_error_set(err, SS_EINVAL, "--fix '%s': expected NAME=VALUE", a);
    memcpy(name, a, (size_t)(eq - a));
    name[eq - a] = 0;
    if (ss_util_parse_spice_number(eq + 1, &v))
        return ss_error_set(err, SS_EINVAL, "--fix '%s': '%s' is not a number", a, eq + 1);
    return ss_fit_fix(f, name, v, err);
}

int ss_fit_bounds_text(ss_fit *f, const char *a, ss_error *err)
{
    const char *eq = strchr(a, '=');
    char name[64], lo_s[64];
    double lo, hi;
    if (!eq || eq == a || (size_t)(eq - a) >= sizeof name)
        return ss_error_set(err, SS_EINVAL, "--bounds '%s': expected NAME=LO:HI", a);
    memcpy(name, a, (size_t)(eq - a));
    name[eq - a] = 0;
    const char *colon = strchr(eq + 1, ':');
    if (!colon || (size_t)(colon - eq - 1) >= sizeof lo_s)
        return ss_error_set(err, SS_EINVAL, "--bounds '%s': expected NAME=LO:HI", a);
    memcpy(lo_s, eq + 1, (size_t)(colon - eq - 1));
    lo_s[colon - eq - 1] = 0;
    if (ss_util_parse_spice_number(lo_s, &lo) || ss_util_parse_spice_number(colon + 1, &hi))
        return ss_error_set(err, SS_EINVAL, "--bounds '%s': LO and HI must be numbers", a);
    return ss_fit_set_bounds(f, name, lo, hi, err);
}

/* ---- data-informed default bounds --------------------------------------------- */

typedef struct datastats {
    double vdmax_p, vdmax_n; /* largest device voltage magnitude, each sign */
    double ipos, ineg;       /* largest current magnitude, each sign */
    double rmin, rmax;       /* apparent device resistance range */
    double fmin, fmax;       /* 1 / duration of the files */
} datastats;

static void data_stats(const ss_fit *f, datastats *s)
{
    memset(s, 0, sizeof *s);
    s->rmin = INFINITY, s->fmin = INFINITY;
    for (size_t k = 0; k < f->nfiles; k++) {
        const ss_fit_data *d = &f->data[k];
        double imax = 0;
        for (size_t j = 0; j < d->n; j++)
            imax = fmax(imax, fabs(d->i[j]));
        for (size_t j = 0; j < d->n; j++) {
            double vd = d->v[j] - d->series_r * d->i[j];
            if (vd > 0)
                s->vdmax_p = fmax(s->vdmax_p, vd), s->ipos = fmax(s->ipos, d->i[j]);
            else
                s->vdmax_n = fmax(s->vdmax_n, -vd), s->ineg = fmax(s->ineg, -d->i[j]);
            if (fabs(d->i[j]) > 0.1 * imax && fabs(vd) > 1e-3) {
                double r = fabs(vd / d->i[j]);
                s->rmin = fmin(s->rmin, r), s->rmax = fmax(s->rmax, r);
            }
        }
        double T = d->t[d->n - 1] - d->t[0];
        if (d->freq > 0)
            T = 1.0 / d->freq;
        double fr = 1.0 / T;
        s->fmin = fmin(s->fmin, fr), s->fmax = fmax(s->fmax, fr);
    }
    if (!isfinite(s->rmin))
        s->rmin = 1e3, s->rmax = 1e6;
    if (s->vdmax_p <= 0)
        s->vdmax_p = 0.1;
    if (s->vdmax_n <= 0)
        s->vdmax_n = 0.1;
    if (s->ipos <= 0)
        s->ipos = 1e-6;
    if (s->ineg <= 0)
        s->ineg = 1e-6;
}

static void default_bounds(ss_fit *f)
{
    datastats s;
    data_stats(f, &s);
    const ss_device_type *t = f->type;
    double vmax = fmax(s.vdmax_p, s.vdmax_n);
    double imax = fmax(s.ipos, s.ineg);
    for (size_t k = 0; k < t->nparams; k++) {
        if (f->user_bounds[k])
            continue;
        const char *n = t->params[k].name;
        double lo = 0, hi = 0;
        if (t == ss_device_vteam) {
            double D = ss_device_get(&f->base, "w_off") - ss_device_get(&f->base, "w_on");
            if (!strcmp(n, "r_on"))
                lo = s.rmin / 30, hi = s.rmin * 3;
            else if (!strcmp(n, "r_off"))
                lo = s.rmin, hi = s.rmax * 300;
            else if (!strcmp(n, "v_on"))
                lo = -s.vdmax_n, hi = -1e-3 * vmax;
            else if (!strcmp(n, "v_off"))
                lo = 1e-3 * vmax, hi = s.vdmax_p;
            else if (!strcmp(n, "k_on"))
                lo = -1e5 * s.fmax * D, hi = -1e-3 * s.fmin * D;
            else if (!strcmp(n, "k_off"))
                lo = 1e-3 * s.fmin * D, hi = 1e5 * s.fmax * D;
            else if (!strncmp(n, "alpha", 5))
                lo = 1, hi = 12;
        } else if (t == ss_device_yakopcic) {
            if (!strcmp(n, "a1"))
                lo = s.ipos / 300, hi = s.ipos * 300;
            else if (!strcmp(n, "a2"))
                lo = s.ineg / 300, hi = s.ineg * 300;
            else if (!strcmp(n, "b"))
                lo = 0.01 / vmax, hi = 8 / vmax;
            else if (!strcmp(n, "vp"))
                lo = 0.01 * s.vdmax_p, hi = s.vdmax_p;
            else if (!strcmp(n, "vn"))
                lo = 0.01 * s.vdmax_n, hi = s.vdmax_n;
            else if (!strcmp(n, "ap") || !strcmp(n, "an"))
                lo = 1e-3 * s.fmin, hi = 1e5 * s.fmax;
            else if (!strcmp(n, "xp") || !strcmp(n, "xn"))
                lo = 0.02, hi = 0.98;
            else if (!strcmp(n, "alphap") || !strcmp(n, "alphan"))
                lo = 0.1, hi = 30;
        } else {
            if (!strcmp(n, "gmax_p") || !strcmp(n, "gmin_p"))
                lo = s.ipos * 1e-4, hi = s.ipos * 300;
            else if (!strcmp(n, "gmax_n") || !strcmp(n, "gmin_n"))
                lo = s.ineg * 1e-4, hi = s.ineg * 300;
            else if (!strncmp(n, "bm", 2))
                lo = 0.01 / vmax, hi = 12 / vmax;
            else if (!strcmp(n, "vp"))
                lo = 0.01 * s.vdmax_p, hi = s.vdmax_p;
            else if (!strcmp(n, "vn"))
                lo = -s.vdmax_n, hi = -0.01 * s.vdmax_n;
            else if (!strcmp(n, "ap") || !strcmp(n, "an"))
                lo = 1e-3 * s.fmin, hi = 1e5 * s.fmax;
            else if (!strcmp(n, "xp") || !strcmp(n, "xn"))
                lo = 0.02, hi = 0.98;
            else if (!strcmp(n, "alphap") || !strcmp(n, "alphan"))
                lo = 0.1, hi = 30;
        }
        (void)imax;
        if (lo == 0 && hi == 0) {
            /* A parameter freed without bounds: a factor of 10 around it. */
            double v = f->base.p[k];
            if (v > 0)
                lo = v / 10, hi = v * 10;
            else if (v < 0)
                lo = v * 10, hi = v / 10;
            else
                lo = -1, hi = 1;
        }
        if (lo > hi) {
            double tmp = lo;
            lo = hi, hi = tmp;
        }
        set_range(&f->p[k], lo, hi);
    }
}

/* ---- the unit cube -------------------------------------------------------------- */

typedef struct problem {
    const ss_fit *f;
    int idx[SS_DEVICE_MAX_PARAMS]; /* device parameter of z[j], j < np */
    size_t np;                     /* free device parameters */
    size_t xfile[1024];            /* file of z[np + j] */
    size_t nx;                     /* free initial states */
    size_t nz;                     /* np + nx */
    size_t nres;                   /* residuals */
    size_t nmax;                   /* largest file */
    double *wt;                    /* per file 1/(range sqrt(n F)) */
    int threads;
    long evals;
} problem;

static double z_value(const fparam *p, double z)
{
    z = fmin(1.0, fmax(0.0, z));
    if (p->logscale) {
        double s = p->lo < 0 ? -1.0 : 1.0;
        double a = log(fabs(p->lo)), b = log(fabs(p->hi));
        return s * exp(a + z * (b - a));
    }
    return p->lo + z * (p->hi - p->lo);
}

static double value_z(const fparam *p, double v)
{
    double z;
    if (p->logscale) {
        double a = log(fabs(p->lo)), b = log(fabs(p->hi));
        z = (fabs(v) > 0 && (v > 0) == (p->lo > 0)) ? (log(fabs(v)) - a) / (b - a) : 0.5;
    } else {
        z = (v - p->lo) / (p->hi - p->lo);
    }
    return isfinite(z) ? fmin(1.0, fmax(0.0, z)) : 0.5;
}

/* d value / d z */
static double z_slope(const fparam *p, double value)
{
    if (p->logscale)
        return fabs(value) * fabs(log(fabs(p->hi)) - log(fabs(p->lo)));
    return p->hi - p->lo;
}

static void z_to_model(const problem *pb, const double *z, ss_device *d, double *x0)
{
    const ss_fit *f = pb->f;
    *d = f->base;
    for (size_t j = 0; j < pb->np; j++)
        d->p[pb->idx[j]] = z_value(&f->p[pb->idx[j]], z[j]);
    for (size_t k = 0; k < f->nfiles; k++)
        x0[k] = f->x0_val[k];
    for (size_t j = 0; j < pb->nx; j++)
        x0[pb->xfile[j]] = fmin(1.0, fmax(0.0, z[pb->np + j]));
}

/* Residuals of the model at z (resid may be NULL).  Returns the sum of
 * squares, or INFINITY when the device is invalid or the integration fails.
 * `steps` (one per file) is recorded or replayed per `mode`. */
static double evaluate(const problem *pb, const double *z, int pol, double tol, int mode,
                       ssf_steps *steps, double *resid, double *ibuf, double *x0buf)
{
    const ss_fit *f = pb->f;
    ss_device d;
    z_to_model(pb, z, &d, x0buf);
    if (ss_device_validate(&d, NULL))
        return INFINITY;
    double ss = 0;
    size_t off = 0;
    for (size_t k = 0; k < f->nfiles; k++) {
        const ss_fit_data *dd = &f->data[k];
        if (ssf_integrate(&d, pol, dd, x0buf[k], tol, mode, steps ? &steps[k] : NULL, ibuf, NULL,
                          NULL, NULL))
            return INFINITY;
        for (size_t j = 0; j < dd->n; j++) {
            double r = (ibuf[j] - dd->i[j]) * pb->wt[k];
            if (resid)
                resid[off + j] = r;
            ss += r * r;
        }
        off += dd->n;
    }
    return ss;
}

/* ---- differential evolution -------------------------------------------------------- */

typedef struct de_batch {
    const problem *pb;
    const double *z; /* nbatch x stride */
    size_t stride;
    const int *pol;
    double tol;
    double *cost;
    double *scratch; /* per thread: nmax + nfiles */
} de_batch;

static void de_eval_one(void *ctx, size_t k)
{
    de_batch *b = ctx;
    /* Threads take k = t, t + T, ...: scratch by k mod T. */
    int t = (int)(k % (size_t)b->pb->threads);
    double *ib = b->scratch + (size_t)t * (b->pb->nmax + b->pb->f->nfiles);
    double *xb = ib + b->pb->nmax;
    b->cost[k] =
        evaluate(b->pb, b->z + k * b->stride, b->pol[k], b->tol, SSF_ADAPTIVE, NULL, NULL, ib, xb);
}

static int report(const ss_fit *f, const char *phase, int it, int start, long evals, double cost,
                  double t0)
{
    if (!f->opt.progress)
        return 0;
    ss_fit_progress p = {phase, it, start, evals, sqrt(cost), ss_util_now() - t0};
    return f->opt.progress(&p, f->opt.user);
}

/* ---- LM polish --------------------------------------------------------------------- */

typedef struct lm_ctx {
    problem *pb;
    int pol;
    double tol;
    ssf_steps *steps;   /* nfiles: the base evaluation's steps */
    double *zlast;      /* z of the last f evaluation */
    int last_ok;
    double *scratch;    /* threads x (nres + nmax + nfiles + nz) */
    gsl_matrix *J;      /* for the FD workers */
    const double *zbase;
    const double *fbase;
    double base_ss; /* sum of squares at the last Jacobian's base point */
} lm_ctx;

static int lm_f(const gsl_vector *x, void *params, gsl_vector *fv)
{
    lm_ctx *c = params;
    problem *pb = c->pb;
    double *z = c->zlast;
    for (size_t j = 0; j < pb->nz; j++)
        z[j] = fmin(1.0, fmax(0.0, gsl_vector_get(x, j)));
    double *ib = c->scratch + pb->nres, *xb = ib + pb->nmax;
    double ss = evaluate(pb, z, c->pol, c->tol, SSF_RECORD, c->steps, c->scratch, ib, xb);
    pb->evals++;
    c->last_ok = isfinite(ss);
    for (size_t j = 0; j < pb->nres; j++)
        gsl_vector_set(fv, j, c->last_ok ? c->scratch[j] : 10.0);
    return GSL_SUCCESS;
}

#define FD_STEP 1e-6

static void lm_column(void *ctx, size_t j)
{
    lm_ctx *c = ctx;
    problem *pb = c->pb;
    int t = (int)(j % (size_t)pb->threads);
    size_t per = pb->nres + pb->nmax + pb->f->nfiles + pb->nz;
    double *r = c->scratch + (size_t)t * per, *ib = r + pb->nres, *xb = ib + pb->nmax,
           *z = xb + pb->f->nfiles;
    memcpy(z, c->zbase, pb->nz * sizeof *z);
    double h = z[j] + FD_STEP > 1.0 ? -FD_STEP : FD_STEP;
    z[j] += h;
    double ss = evaluate(pb, z, c->pol, c->tol, SSF_REPLAY, c->steps, r, ib, xb);
    if (!isfinite(ss))
        ss = evaluate(pb, z, c->pol, c->tol, SSF_ADAPTIVE, NULL, r, ib, xb);
    if (!isfinite(ss)) {
        for (size_t k = 0; k < pb->nres; k++)
            gsl_matrix_set(c->J, k, j, 0.0);
        return;
    }
    for (size_t k = 0; k < pb->nres; k++)
        gsl_matrix_set(c->J, k, j, (r[k] - c->fbase[k]) / h);
}

/* Forward differences on the frozen step sequence of the base point. */
static int jacobian(lm_ctx *c, const double *z, gsl_matrix *J)
{
    problem *pb = c->pb;
    double *fb = malloc(pb->nres * sizeof *fb);
    gsl_vector *xv = gsl_vector_alloc(pb->nz);
    gsl_vector *fv = gsl_vector_alloc(pb->nres);
    if (!fb || !xv || !fv) {
        free(fb);
        gsl_vector_free(xv);
        gsl_vector_free(fv);
        return GSL_ENOMEM;
    }
    for (size_t j = 0; j < pb->nz; j++)
        gsl_vector_set(xv, j, z[j]);
    lm_f(xv, c, fv); /* the base point, recording its steps */
    c->base_ss = 0;
    for (size_t k = 0; k < pb->nres; k++) {
        fb[k] = gsl_vector_get(fv, k);
        c->base_ss += fb[k] * fb[k];
    }
    double *zb = malloc(pb->nz * sizeof *zb);
    if (!zb) {
        free(fb);
        gsl_vector_free(xv);
        gsl_vector_free(fv);
        return GSL_ENOMEM;
    }
    memcpy(zb, c->zlast, pb->nz * sizeof *zb);
    if (!c->last_ok) {
        gsl_matrix_set_zero(J);
    } else {
        c->J = J;
        c->zbase = zb;
        c->fbase = fb;
        ssf_parallel_for(pb->threads, pb->nz, lm_column, c);
        pb->evals += (long)pb->nz;
    }
    free(zb);
    free(fb);
    gsl_vector_free(xv);
    gsl_vector_free(fv);
    return GSL_SUCCESS;
}

static int lm_df(const gsl_vector *x, void *params, gsl_matrix *J)
{
    lm_ctx *c = params;
    double *z = malloc(c->pb->nz * sizeof *z);
    if (!z)
        return GSL_ENOMEM;
    for (size_t j = 0; j < c->pb->nz; j++)
        z[j] = gsl_vector_get(x, j);
    int rc = jacobian(c, z, J);
    free(z);
    return rc;
}

/* Polishes z in place; returns the final sum of squares. */
static double polish(const ss_fit *f, lm_ctx *c, double *z, int start, double t0, int *cancel)
{
    problem *pb = c->pb;
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    par.trs = gsl_multifit_nlinear_trs_lm;
    par.scale = gsl_multifit_nlinear_scale_more;
    par.solver = gsl_multifit_nlinear_solver_qr;
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, pb->nres, pb->nz);
    gsl_vector *x = gsl_vector_alloc(pb->nz);
    double best = INFINITY;
    if (!w || !x)
        goto out;
    gsl_multifit_nlinear_fdf fdf = {lm_f, lm_df, NULL, pb->nres, pb->nz, c, 0, 0, 0};
    for (size_t j = 0; j < pb->nz; j++)
        gsl_vector_set(x, j, z[j]);
    if (gsl_multifit_nlinear_init(x, &fdf, w))
        goto out;
    int max_iter = f->opt.max_iter > 0 ? f->opt.max_iter : 60;
    double ref = INFINITY;
    int stall = 0;
    for (int it = 1; it <= max_iter; it++) {
        int st = gsl_multifit_nlinear_iterate(w);
        gsl_vector *fx = gsl_multifit_nlinear_residual(w);
        double ss;
        gsl_blas_ddot(fx, fx, &ss);
        /* Stop when 4 iterations in a row gain less than 1e-5 relative. */
        if (ss < ref * (1 - 1e-5))
            ref = ss, stall = 0;
        else if (++stall >= 4)
            st = GSL_ENOPROG;
        if (report(f, "polish", it, start, pb->evals, ss, t0)) {
            *cancel = 1;
            break;
        }
        if (st)
            break;
        int info;
        if (gsl_multifit_nlinear_test(1e-7, 1e-8, 1e-10, &info, w) == GSL_SUCCESS)
            break;
    }
    gsl_vector *xs = gsl_multifit_nlinear_position(w);
    for (size_t j = 0; j < pb->nz; j++)
        z[j] = fmin(1.0, fmax(0.0, gsl_vector_get(xs, j)));
    gsl_vector *fx = gsl_multifit_nlinear_residual(w);
    gsl_blas_ddot(fx, fx, &best);
out:
    gsl_vector_free(x);
    if (w)
        gsl_multifit_nlinear_free(w);
    return best;
}

/* ---- statistics ------------------------------------------------------------------- */

/* Standard errors of z from J (nres x nz) and the residual variance; also
 * marks directions that the data cannot determine.  se[j] = INFINITY for
 * undetermined parameters; nullish[j] = 1 when z[j] weighs in a
 * near-singular direction. */
static int z_stats(const gsl_matrix *J, double s2, double *se, int *nullish, double *cond)
{
    size_t n = J->size1, p = J->size2;
    size_t *col = malloc(p * sizeof *col);
    double *scale = malloc(p * sizeof *scale);
    int rc = GSL_ENOMEM;
    gsl_matrix *A = NULL, *V = NULL;
    gsl_vector *S = NULL, *work = NULL;
    if (!col || !scale)
        goto out;
    size_t m = 0;
    for (size_t j = 0; j < p; j++) {
        gsl_vector_const_view cj = gsl_matrix_const_column(J, j);
        double nrm = gsl_blas_dnrm2(&cj.vector);
        se[j] = INFINITY;
        nullish[j] = 1;
        if (nrm > 0 && isfinite(nrm))
            col[m] = j, scale[m] = nrm, m++;
    }
    *cond = INFINITY;
    rc = GSL_SUCCESS;
    if (m == 0 || n < m)
        goto out;
    A = gsl_matrix_alloc(n, m);
    V = gsl_matrix_alloc(m, m);
    S = gsl_vector_alloc(m);
    work = gsl_vector_alloc(m);
    if (!A || !V || !S || !work) {
        rc = GSL_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < m; k++)
        for (size_t i = 0; i < n; i++)
            gsl_matrix_set(A, i, k, gsl_matrix_get(J, i, col[k]) / scale[k]);
    if (gsl_linalg_SV_decomp(A, V, S, work)) {
        rc = GSL_EFAILED;
        goto out;
    }
    double smax = gsl_vector_get(S, 0), smin = gsl_vector_get(S, m - 1);
    *cond = smin > 0 ? smax / smin : INFINITY;
    for (size_t k = 0; k < m; k++) {
        double var = 0;
        int undetermined = 0, weak = 0;
        for (size_t q = 0; q < m; q++) {
            double s = gsl_vector_get(S, q), vkq = gsl_matrix_get(V, k, q);
            if (s <= 1e-10 * smax) {
                if (fabs(vkq) > 0.1)
                    undetermined = 1;
                continue;
            }
            if (s <= 1e-5 * smax && fabs(vkq) > 0.3)
                weak = 1;
            var += vkq * vkq / (s * s);
        }
        size_t j = col[k];
        se[j] = undetermined ? INFINITY : sqrt(s2 * var) / scale[k];
        nullish[j] = undetermined || weak;
    }
out:
    free(col);
    free(scale);
    gsl_matrix_free(A);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    gsl_vector_free(work);
    return rc;
}

/* ---- the run ---------------------------------------------------------------------- */

void ss_fit_result_release(ss_fit_result *r)
{
    if (!r)
        return;
    for (size_t k = 0; k < r->nfiles; k++) {
        free(r->files[k].name);
        ss_devsim_trace_release(&r->files[k].model);
    }
    free(r->files);
    free(r->params);
    ss_fit_result r0 = SS_FIT_RESULT_INIT;
    *r = r0;
}

/* Insertion sort of indices by cost (small populations). */
static void sort_by_cost(size_t *ix, size_t n, const double *cost)
{
    for (size_t i = 1; i < n; i++) {
        size_t v = ix[i], j = i;
        while (j > 0 && cost[ix[j - 1]] > cost[v])
            ix[j] = ix[j - 1], j--;
        ix[j] = v;
    }
}

int ss_fit_run(ss_fit *f, ss_fit_result *res, ss_error *err)
{
    ss_fit_result_release(res);
    double t0 = ss_util_now();
    if (f->nfiles == 0)
        return ss_error_set(err, SS_EINVAL, "no data to fit");
    if (f->nfiles > 1024)
        return ss_error_set(err, SS_EINVAL, "at most 1024 files");
    int rc = SS_OK;
    default_bounds(f);
    problem pb;
    memset(&pb, 0, sizeof pb);
    pb.f = f;
    pb.threads = f->opt.threads > 0 ? f->opt.threads : 2;
    for (size_t k = 0; k < f->type->nparams; k++)
        if (f->p[k].free && !f->type->params[k].choices)
            pb.idx[pb.np++] = (int)k;
    for (size_t k = 0; k < f->nfiles; k++)
        if (f->x0_free[k])
            pb.xfile[pb.nx++] = k;
    pb.nz = pb.np + pb.nx;
    for (size_t k = 0; k < f->nfiles; k++) {
        pb.nres += f->data[k].n;
        if (f->data[k].n > pb.nmax)
            pb.nmax = f->data[k].n;
    }
    /* The starting device must be valid apart from the free values. */
    {
        ss_device d = f->base;
        for (size_t j = 0; j < pb.np; j++) {
            const fparam *p = &f->p[pb.idx[j]];
            d.p[pb.idx[j]] = z_value(p, value_z(p, d.p[pb.idx[j]]));
        }
        ss_error e2;
        if (ss_device_validate(&d, &e2) && ss_device_validate(&f->base, &e2))
            return ss_error_set(err, SS_EINVAL, "fixed parameters: %s", e2.msg);
    }
    if (pb.nz == 0)
        return ss_error_set(err, SS_EINVAL, "nothing to fit: every parameter is fixed");
    if (pb.nres <= pb.nz)
        return ss_error_set(err, SS_EINVAL, "%zu samples cannot determine %zu unknowns", pb.nres,
                            pb.nz);

    size_t D = pb.nz + (f->opt.polarity == 0 ? 1 : 0); /* + the polarity gene */
    int NP = f->opt.population > 0 ? f->opt.population : (int)(6 * D);
    if (f->opt.population <= 0)
        NP = NP < 24 ? 24 : NP > 60 ? 60 : NP;
    if (NP < 5)
        NP = 5;
    int G = f->opt.generations > 0 ? f->opt.generations : 60;
    double gtol = f->opt.global_tol > 0 ? f->opt.global_tol : 1e-3;
    double ptol = f->opt.tol > 0 ? f->opt.tol : 1e-4;

    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    pb.wt = malloc(f->nfiles * sizeof *pb.wt);
    double *pop = malloc((size_t)NP * D * sizeof *pop);
    double *trial = malloc((size_t)NP * D * sizeof *trial);
    double *cost = malloc((size_t)NP * sizeof *cost);
    double *tcost = malloc((size_t)NP * sizeof *tcost);
    int *pol = malloc((size_t)NP * sizeof *pol);
    size_t *order = malloc((size_t)NP * sizeof *order);
    size_t per = pb.nres + pb.nmax + f->nfiles + pb.nz;
    double *scratch = malloc((size_t)pb.threads * per * sizeof *scratch);
    double *zbest = malloc(pb.nz * sizeof *zbest), *zc = malloc(pb.nz * sizeof *zc);
    double *zlast = malloc(pb.nz * sizeof *zlast);
    ssf_steps *steps = calloc(f->nfiles, sizeof *steps);
    gsl_matrix *J = NULL;
    if (!rng || !pb.wt || !pop || !trial || !cost || !tcost || !pol || !order || !scratch ||
        !zbest || !zc || !zlast || !steps) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    gsl_rng_set(rng, f->opt.seed);
    for (size_t k = 0; k < f->nfiles; k++) {
        double range = ss_fit_data_range(&f->data[k]);
        pb.wt[k] = 1.0 / (range * sqrt((double)f->data[k].n * (double)f->nfiles));
    }

    /* Latin hypercube start; member 0 is the starting device. */
    for (size_t j = 0; j < D; j++) {
        for (int i = 0; i < NP; i++)
            order[i] = (size_t)i;
        for (int i = NP - 1; i > 0; i--) {
            size_t r = gsl_rng_uniform_int(rng, (unsigned long)i + 1), tmp = order[i];
            order[i] = order[r], order[r] = tmp;
        }
        for (int i = 0; i < NP; i++)
            pop[(size_t)i * D + j] = ((double)order[i] + gsl_rng_uniform(rng)) / NP;
    }
    for (size_t j = 0; j < pb.np; j++)
        pop[j] = value_z(&f->p[pb.idx[j]], f->base.p[pb.idx[j]]);
    for (size_t j = 0; j < pb.nx; j++)
        pop[pb.np + j] = f->x0_val[pb.xfile[j]];
    int cancel = 0;
    de_batch b = {&pb, pop, D, pol, gtol, cost, scratch};
    for (int i = 0; i < NP; i++)
        pol[i] = f->opt.polarity ? f->opt.polarity : pop[(size_t)i * D + pb.nz] < 0.5 ? -1 : 1;
    ssf_parallel_for(pb.threads, (size_t)NP, de_eval_one, &b);
    pb.evals += NP;
    double bestc = INFINITY;
    for (int i = 0; i < NP; i++)
        bestc = fmin(bestc, cost[i]);
    int stall = 0;
    for (int g = 1; g <= G && !cancel; g++) {
        for (int i = 0; i < NP; i++)
            order[i] = (size_t)i;
        sort_by_cost(order, (size_t)NP, cost);
        int pcount = NP / 5 < 2 ? 2 : NP / 5;
        for (int i = 0; i < NP; i++) {
            size_t pbest = order[gsl_rng_uniform_int(rng, (unsigned long)pcount)];
            size_t r1, r2;
            do
                r1 = gsl_rng_uniform_int(rng, (unsigned long)NP);
            while (r1 == (size_t)i);
            do
                r2 = gsl_rng_uniform_int(rng, (unsigned long)NP);
            while (r2 == (size_t)i || r2 == r1);
            double F = 0.4 + 0.5 * gsl_rng_uniform(rng);
            double CR = gsl_rng_uniform(rng) < 0.8 ? 0.9 : 0.2;
            size_t jr = gsl_rng_uniform_int(rng, (unsigned long)D);
            const double *xi = pop + (size_t)i * D, *xp = pop + pbest * D, *x1 = pop + r1 * D,
                         *x2 = pop + r2 * D;
            double *u = trial + (size_t)i * D;
            for (size_t j = 0; j < D; j++) {
                if (j == jr || gsl_rng_uniform(rng) < CR) {
                    double v = xi[j] + F * (xp[j] - xi[j]) + F * (x1[j] - x2[j]);
                    if (v < 0)
                        v = 0.5 * xi[j];
                    if (v > 1)
                        v = 0.5 * (xi[j] + 1);
                    u[j] = v;
                } else {
                    u[j] = xi[j];
                }
            }
        }
        for (int i = 0; i < NP; i++)
            pol[i] = f->opt.polarity ? f->opt.polarity
                                     : trial[(size_t)i * D + pb.nz] < 0.5 ? -1 : 1;
        b.z = trial;
        b.cost = tcost;
        ssf_parallel_for(pb.threads, (size_t)NP, de_eval_one, &b);
        pb.evals += NP;
        double prev = bestc;
        for (int i = 0; i < NP; i++)
            if (tcost[i] <= cost[i]) {
                cost[i] = tcost[i];
                memcpy(pop + (size_t)i * D, trial + (size_t)i * D, D * sizeof *pop);
                bestc = fmin(bestc, cost[i]);
            }
        stall = bestc < prev * (1 - 1e-3) ? 0 : stall + 1;
        if (report(f, "global", g, 0, pb.evals, bestc, t0))
            cancel = 1;
        if (stall >= 12)
            break;
    }
    if (cancel) {
        rc = ss_error_set(err, SS_EINVAL, "fit cancelled");
        goto out;
    }
    for (int i = 0; i < NP; i++)
        order[i] = (size_t)i;
    sort_by_cost(order, (size_t)NP, cost);
    if (!isfinite(cost[order[0]])) {
        rc = ss_error_set(err, SS_ENUMERIC,
                          "no parameter set in the bounds could be simulated; check the data and "
                          "the bounds");
        goto out;
    }
    res->global_nrmse = sqrt(cost[order[0]]);

    /* Polish the best distinct members. */
    int starts = f->opt.starts > 0 ? f->opt.starts : 2;
    double best = INFINITY;
    int best_pol = 1;
    lm_ctx c = {&pb, 1, ptol, steps, zlast, 0, scratch, NULL, NULL, NULL, 0.0};
    size_t chosen[16];
    int nchosen = 0;
    for (int i = 0; i < NP && nchosen < starts && nchosen < 16; i++) {
        const double *zi = pop + order[i] * D;
        if (!isfinite(cost[order[i]]))
            break;
        int distinct = 1;
        for (int q = 0; q < nchosen && distinct; q++) {
            double dist = 0;
            for (size_t j = 0; j < pb.nz; j++)
                dist = fmax(dist, fabs(zi[j] - pop[chosen[q] * D + j]));
            distinct = dist > 0.05;
        }
        if (!distinct)
            continue;
        chosen[nchosen++] = order[i];
        memcpy(zc, zi, pb.nz * sizeof *zc);
        c.pol = f->opt.polarity ? f->opt.polarity : zi[pb.nz] < 0.5 ? -1 : 1;
        double ss = polish(f, &c, zc, nchosen - 1, t0, &cancel);
        if (cancel) {
            rc = ss_error_set(err, SS_EINVAL, "fit cancelled");
            goto out;
        }
        if (ss < best) {
            best = ss;
            best_pol = c.pol;
            memcpy(zbest, zc, pb.nz * sizeof *zbest);
        }
    }
    if (!isfinite(best)) {
        rc = ss_error_set(err, SS_ENUMERIC, "the polish failed: the model could not be simulated");
        goto out;
    }

    /* Results: statistics at the optimum. */
    J = gsl_matrix_alloc(pb.nres, pb.nz);
    double *se = malloc(pb.nz * sizeof *se);
    int *nullish = malloc(pb.nz * sizeof *nullish);
    double *x0s = malloc(f->nfiles * sizeof *x0s);
    res->params = calloc(f->type->nparams, sizeof *res->params);
    res->files = calloc(f->nfiles, sizeof *res->files);
    if (!J || !se || !nullish || !x0s || !res->params || !res->files) {
        free(se);
        free(nullish);
        free(x0s);
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    c.pol = best_pol;
    jacobian(&c, zbest, J);
    double ss_final = c.base_ss;
    double s2 = ss_final / (double)(pb.nres - pb.nz);
    z_stats(J, s2, se, nullish, &res->cond);

    ss_device dev;
    z_to_model(&pb, zbest, &dev, x0s);
    res->polarity = best_pol;
    res->nfree = pb.nz;
    res->nparams = f->type->nparams;
    for (size_t k = 0; k < f->type->nparams; k++) {
        ss_fit_param *p = &res->params[k];
        p->name = f->type->params[k].name;
        p->unit = f->type->params[k].unit;
        p->value = dev.p[k];
        p->stderr_ = 0;
        p->free = 0;
    }
    for (size_t j = 0; j < pb.np; j++) {
        int k = pb.idx[j];
        ss_fit_param *p = &res->params[k];
        const fparam *fp = &f->p[k];
        p->free = 1;
        p->lo = fp->lo, p->hi = fp->hi;
        p->stderr_ = isfinite(se[j]) ? se[j] * z_slope(fp, p->value) : INFINITY;
        p->at_bound = zbest[j] <= 1e-6 || zbest[j] >= 1 - 1e-6;
        /* identifiable: determined to 5 % at three standard errors */
        p->identifiable = isfinite(p->stderr_) && !nullish[j] && !p->at_bound &&
                          3 * p->stderr_ <= 0.05 * fabs(p->value);
    }
    res->nfiles = f->nfiles;
    for (size_t k = 0; k < f->nfiles; k++) {
        ss_fit_file *ff = &res->files[k];
        ff->name = strdup(f->data[k].name ? f->data[k].name : "data");
        ff->x0 = x0s[k];
        ff->x0_free = f->x0_free[k];
        ff->series_r = f->data[k].series_r;
        ff->x0_stderr = 0;
    }
    for (size_t j = 0; j < pb.nx; j++)
        res->files[pb.xfile[j]].x0_stderr = se[pb.np + j];
    free(se);
    free(nullish);
    /* The device carries file 0's initial state. */
    if (f->type == ss_device_vteam) {
        int iw = ss_device_param_index(f->type, "w0");
        double won = ss_device_get(&dev, "w_on"), woff = ss_device_get(&dev, "w_off");
        dev.p[iw] = won + x0s[0] * (woff - won);
        res->params[iw].value = dev.p[iw];
    } else {
        int ix = ss_device_param_index(f->type, "x0");
        dev.p[ix] = x0s[0];
        res->params[ix].value = dev.p[ix];
    }
    res->device = dev;
    double sum = 0;
    for (size_t k = 0; k < f->nfiles; k++) {
        ss_fit_file *ff = &res->files[k];
        if (!ff->name ||
            (rc = ss_fit_simulate(&dev, best_pol, &f->data[k], x0s[k], ptol, &ff->model, err))) {
            if (!ff->name)
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            free(x0s);
            goto out;
        }
        ff->nrmse = ss_devsim_nrmse(ff->model.i, f->data[k].i, f->data[k].n);
        sum += ff->nrmse * ff->nrmse;
    }
    free(x0s);
    res->nrmse = sqrt(sum / (double)f->nfiles);
    res->evals = pb.evals;
    res->seconds = ss_util_now() - t0;
out:
    if (rc)
        ss_fit_result_release(res);
    gsl_matrix_free(J);
    for (size_t k = 0; steps && k < f->nfiles; k++)
        ssf_steps_release(&steps[k]);
    free(steps);
    gsl_rng_free(rng);
    free(pb.wt);
    free(pop);
    free(trial);
    free(cost);
    free(tcost);
    free(pol);
    free(order);
    free(scratch);
    free(zbest);
    free(zc);
    free(zlast);
    return rc;
}
