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
    c.i_scale = d->i_scale;
    c.i_scale_from = d->i_scale_from;
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

int ss_fit_is_state_param(const ss_device_type *t, size_t k)
{
    if (k >= t->nparams)
        return 0;
    return !strcmp(t->params[k].name, t == ss_device_vteam ? "w0" : "x0");
}

void ss_fit_fix_all(ss_fit *f)
{
    for (size_t k = 0; k < f->type->nparams; k++)
        f->p[k].free = 0;
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
    fiti_set_range(&f->p[k], lo, hi);
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
    int objective;                 /* SS_FIT_OBJECTIVE_... */
    size_t mult;                   /* residuals per sample: 2 for mixed, else 1 */
    double *wt;                    /* per file 1/(range sqrt(n F)) */
    double *lw;                    /* per file 1/(ln 10 sqrt(n F)) (x the mixed weight) */
    double *fl2;                   /* per file 2 x the log floor (A) */
    int threads;
    long evals;
} problem;

/* The log error of one sample, in natural-log units: asinh(i / 2 floor) is
 * ln(|i| / floor) for |i| >> floor and linear below it. */
static double log_dev(double im, double id, double fl2)
{
    return asinh(im / fl2) - asinh(id / fl2);
}

static double z_value(const fiti_param *p, double z)
{
    z = fmin(1.0, fmax(0.0, z));
    if (p->logscale) {
        double s = p->lo < 0 ? -1.0 : 1.0;
        double a = log(fabs(p->lo)), b = log(fabs(p->hi));
        return s * exp(a + z * (b - a));
    }
    return p->lo + z * (p->hi - p->lo);
}

static double value_z(const fiti_param *p, double v)
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
static double z_slope(const fiti_param *p, double value)
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

/* Residuals of file k for device d (resid may be NULL: then only the sum
 * of squares); INFINITY when the integration fails. */
static double file_ss(const problem *pb, const ss_device *d, int pol, size_t k, double x0,
                      double tol, int mode, fiti_steps *steps, double *resid, double *ibuf)
{
    const ss_fit_data *dd = &pb->f->data[k];
    if (fiti_integrate(d, pol, dd, x0, tol, mode, steps, ibuf, NULL, NULL, NULL))
        return INFINITY;
    double ss = 0;
    size_t n = dd->n, lo = pb->objective == SS_FIT_OBJECTIVE_MIXED ? n : 0;
    for (size_t j = 0; j < n; j++) {
        if (pb->objective != SS_FIT_OBJECTIVE_LOG) {
            double r = (ibuf[j] - dd->i[j]) * pb->wt[k];
            if (resid)
                resid[j] = r;
            ss += r * r;
        }
        if (pb->objective != SS_FIT_OBJECTIVE_LINEAR) {
            double r = log_dev(ibuf[j], dd->i[j], pb->fl2[k]) * pb->lw[k];
            if (resid)
                resid[lo + j] = r;
            ss += r * r;
        }
    }
    return ss;
}

/* Residuals of the model at z (resid may be NULL).  Returns the sum of
 * squares, or INFINITY when the device is invalid or the integration fails.
 * `steps` (one per file) is recorded or replayed per `mode`. */
static double evaluate(const problem *pb, const double *z, int pol, double tol, int mode,
                       fiti_steps *steps, double *resid, double *ibuf, double *x0buf)
{
    const ss_fit *f = pb->f;
    ss_device d;
    z_to_model(pb, z, &d, x0buf);
    if (ss_device_validate(&d, NULL))
        return INFINITY;
    double ss = 0;
    size_t off = 0;
    for (size_t k = 0; k < f->nfiles; k++) {
        ss += file_ss(pb, &d, pol, k, x0buf[k], tol, mode, steps ? &steps[k] : NULL,
                      resid ? resid + off : NULL, ibuf);
        if (!isfinite(ss))
            return INFINITY;
        off += f->data[k].n * pb->mult;
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
        evaluate(b->pb, b->z + k * b->stride, b->pol[k], b->tol, FITI_ADAPTIVE, NULL, NULL, ib, xb);
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
    fiti_steps *steps;   /* nfiles: the base evaluation's steps */
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
    double ss = evaluate(pb, z, c->pol, c->tol, FITI_RECORD, c->steps, c->scratch, ib, xb);
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
    double ss = evaluate(pb, z, c->pol, c->tol, FITI_REPLAY, c->steps, r, ib, xb);
    if (!isfinite(ss))
        ss = evaluate(pb, z, c->pol, c->tol, FITI_ADAPTIVE, NULL, r, ib, xb);
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
        fiti_parallel_for(pb->threads, pb->nz, lm_column, c);
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
    free(r->notes);
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

/* ---- the search: DE then LM ------------------------------------------------------- */

/* Differential evolution over the unit cube (plus a polarity gene when the
 * polarity is searched), then LM polishes from the best distinct members.
 * Fills zbest, *pol and *global_cost. */
static int search(ss_fit *f, problem *pb, double *scratch, fiti_steps *steps, double *zbest,
                  int *pol_out, double *global_cost, double t0, ss_error *err)
{
    int rc = SS_OK;
    size_t D = pb->nz + (f->opt.polarity == 0 ? 1 : 0); /* + the polarity gene */
    int NP = f->opt.population > 0 ? f->opt.population : (int)(6 * D);
    if (f->opt.population <= 0)
        NP = NP < 24 ? 24 : NP > 60 ? 60 : NP;
    if (NP < 5)
        NP = 5;
    int G = f->opt.generations > 0 ? f->opt.generations : 60;
    double gtol = f->opt.global_tol > 0 ? f->opt.global_tol : 1e-3;
    double ptol = f->opt.tol > 0 ? f->opt.tol : 1e-4;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *pop = malloc((size_t)NP * D * sizeof *pop);
    double *trial = malloc((size_t)NP * D * sizeof *trial);
    double *cost = malloc((size_t)NP * sizeof *cost);
    double *tcost = malloc((size_t)NP * sizeof *tcost);
    int *pol = malloc((size_t)NP * sizeof *pol);
    size_t *order = malloc((size_t)NP * sizeof *order);
    double *zc = malloc(pb->nz * sizeof *zc), *zlast = malloc(pb->nz * sizeof *zlast);
    if (!rng || !pop || !trial || !cost || !tcost || !pol || !order || !zc || !zlast) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    gsl_rng_set(rng, f->opt.seed);
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
    for (size_t j = 0; j < pb->np; j++)
        pop[j] = value_z(&f->p[pb->idx[j]], f->base.p[pb->idx[j]]);
    for (size_t j = 0; j < pb->nx; j++)
        pop[pb->np + j] = f->x0_val[pb->xfile[j]];
    int cancel = 0;
    de_batch b = {pb, pop, D, pol, gtol, cost, scratch};
    for (int i = 0; i < NP; i++)
        pol[i] = f->opt.polarity ? f->opt.polarity : pop[(size_t)i * D + pb->nz] < 0.5 ? -1 : 1;
    fiti_parallel_for(pb->threads, (size_t)NP, de_eval_one, &b);
    pb->evals += NP;
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
                                     : trial[(size_t)i * D + pb->nz] < 0.5 ? -1 : 1;
        b.z = trial;
        b.cost = tcost;
        fiti_parallel_for(pb->threads, (size_t)NP, de_eval_one, &b);
        pb->evals += NP;
        double prev = bestc;
        for (int i = 0; i < NP; i++)
            if (tcost[i] <= cost[i]) {
                cost[i] = tcost[i];
                memcpy(pop + (size_t)i * D, trial + (size_t)i * D, D * sizeof *pop);
                bestc = fmin(bestc, cost[i]);
            }
        stall = bestc < prev * (1 - 1e-3) ? 0 : stall + 1;
        if (report(f, "global", g, 0, pb->evals, bestc, t0))
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
    *global_cost = sqrt(cost[order[0]]);

    /* Polish the best distinct members. */
    int starts = f->opt.starts > 0 ? f->opt.starts : 2;
    double best = INFINITY;
    lm_ctx c = {pb, 1, ptol, steps, zlast, 0, scratch, NULL, NULL, NULL, 0.0};
    size_t chosen[16];
    int nchosen = 0;
    for (int i = 0; i < NP && nchosen < starts && nchosen < 16; i++) {
        const double *zi = pop + order[i] * D;
        if (!isfinite(cost[order[i]]))
            break;
        int distinct = 1;
        for (int q = 0; q < nchosen && distinct; q++) {
            double dist = 0;
            for (size_t j = 0; j < pb->nz; j++)
                dist = fmax(dist, fabs(zi[j] - pop[chosen[q] * D + j]));
            distinct = dist > 0.05;
        }
        if (!distinct)
            continue;
        chosen[nchosen++] = order[i];
        memcpy(zc, zi, pb->nz * sizeof *zc);
        c.pol = f->opt.polarity ? f->opt.polarity : zi[pb->nz] < 0.5 ? -1 : 1;
        double ss = polish(f, &c, zc, nchosen - 1, t0, &cancel);
        if (cancel) {
            rc = ss_error_set(err, SS_EINVAL, "fit cancelled");
            goto out;
        }
        if (ss < best) {
            best = ss;
            *pol_out = c.pol;
            memcpy(zbest, zc, pb->nz * sizeof *zbest);
        }
    }
    if (!isfinite(best))
        rc = ss_error_set(err, SS_ENUMERIC, "the polish failed: the model could not be simulated");
out:
    gsl_rng_free(rng);
    free(pop);
    free(trial);
    free(cost);
    free(tcost);
    free(pol);
    free(order);
    free(zc);
    free(zlast);
    return rc;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The default log floor: 1e-6 of the largest current, or three times the
 * current noise if that is larger.  The noise is estimated from the
 * second differences i[k+1] - 2 i[k] + i[k-1] (sqrt(6) sigma for white
 * noise): their 10th percentile, so that noise proportional to the current
 * is judged where the current is small, divided by 0.1257 (the 10th
 * percentile of |N(0,1)|). */
static double default_floor(const ss_fit_data *d, double imax)
{
    double fl = 1e-6 * imax;
    if (d->n < 12)
        return fl;
    double *a = malloc(d->n * sizeof *a);
    if (!a)
        return fl;
    size_t m = 0;
    for (size_t k = 1; k + 1 < d->n; k++)
        a[m++] = fabs(d->i[k + 1] - 2 * d->i[k] + d->i[k - 1]);
    qsort(a, m, sizeof *a, cmp_dbl);
    double sigma = a[m / 10] / (0.1257 * sqrt(6.0));
    free(a);
    return fmax(fl, 3 * sigma);
}

/* ---- scoring a fixed parameter set ---------------------------------------------- */

/* The device fixed: each free initial state by itself (the files do not
 * interact), a scan of [0, 1] then golden-section refinement.  Returns the
 * total sum of squares. */
static double fit_x0_only(problem *pb, int pol, double tol, double *z, double *ibuf)
{
    const ss_fit *f = pb->f;
    ss_device d;
    double total = 0;
    double *x0 = malloc(f->nfiles * sizeof *x0);
    if (!x0)
        return INFINITY;
    z_to_model(pb, z, &d, x0);
    if (ss_device_validate(&d, NULL)) {
        free(x0);
        return INFINITY;
    }
    for (size_t k = 0; k < f->nfiles; k++) {
        size_t j = 0;
        while (j < pb->nx && pb->xfile[j] != k)
            j++;
        if (j == pb->nx) {
            total += file_ss(pb, &d, pol, k, x0[k], tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
            continue;
        }
        enum { SCAN = 32 };
        double bx = 0, bc = INFINITY;
        for (int q = 0; q <= SCAN; q++) {
            double x = (double)q / SCAN;
            double c = file_ss(pb, &d, pol, k, x, tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
            pb->evals++;
            if (c < bc)
                bc = c, bx = x;
        }
        double a = fmax(0.0, bx - 1.0 / SCAN), b = fmin(1.0, bx + 1.0 / SCAN);
        const double gr = 0.6180339887498949;
        double x1 = b - gr * (b - a), x2 = a + gr * (b - a);
        double c1 = file_ss(pb, &d, pol, k, x1, tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
        double c2 = file_ss(pb, &d, pol, k, x2, tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
        for (int it = 0; it < 30; it++) {
            if (c1 <= c2)
                b = x2, x2 = x1, c2 = c1, x1 = b - gr * (b - a),
                c1 = file_ss(pb, &d, pol, k, x1, tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
            else
                a = x1, x1 = x2, c1 = c2, x2 = a + gr * (b - a),
                c2 = file_ss(pb, &d, pol, k, x2, tol, FITI_ADAPTIVE, NULL, NULL, ibuf);
        }
        pb->evals += 32;
        double xm = c1 <= c2 ? x1 : x2, cm = fmin(c1, c2);
        if (cm < bc)
            bx = xm, bc = cm;
        z[pb->np + j] = bx;
        total += bc;
    }
    free(x0);
    return total;
}

/* ---- results ------------------------------------------------------------------------ */

/* Name of free value j ("vp", "x0[2]"; "x0" with one file). */
static void value_name(const problem *pb, int j, char *buf, size_t n)
{
    if (j < 0)
        buf[0] = 0;
    else if ((size_t)j < pb->np)
        snprintf(buf, n, "%s", pb->f->type->params[pb->idx[j]].name);
    else if (pb->f->nfiles == 1)
        snprintf(buf, n, "x0");
    else
        snprintf(buf, n, "x0[%zu]", pb->xfile[(size_t)j - pb->np]);
}

/* Warnings and explanations for the user. */
static void explain(const ss_fit *f, const problem *pb, ss_fit_result *res)
{
    for (size_t k = 0; k < f->nfiles; k++)
        ss_fit_data_warnings(&f->data[k], &res->notes);
    for (size_t k = 0; k < res->nparams; k++) {
        const ss_fit_param *p = &res->params[k];
        if (!p->free || !p->at_bound)
            continue;
        int upper = fabs(p->value - p->hi) <= fabs(p->value - p->lo);
        fiti_note(&res->notes,
                 "warning: %s ended at its %s bound %.4g %s (bounds %.4g:%.4g): the best value "
                 "may lie beyond it; widen with --bounds %s=LO:HI, or fix it if it is known",
                 p->name, upper ? "upper" : "lower", upper ? p->hi : p->lo, p->unit, p->lo, p->hi,
                 p->name);
    }
    size_t nni = 0;
    for (size_t k = 0; k < res->nparams; k++)
        nni += res->params[k].free && !res->params[k].identifiable;
    if (nni) {
        fiti_note(&res->notes,
                 "%zu parameter%s not identifiable: the data do not pin %s down to +-10 %% (95 %% "
                 "confidence, two standard errors), so other values fit about as well; the "
                 "values are one good fit, not a measurement of %s.  Fix what is known "
                 "(--fix k=v), or add loops that tell them apart (another amplitude, frequency, "
                 "series resistor or sweep range)",
                 nni, nni == 1 ? " is" : "s are", nni == 1 ? "it" : "them",
                 nni == 1 ? "it" : "each");
        for (size_t k = 0; k < res->nparams; k++) {
            const ss_fit_param *p = &res->params[k];
            if (!p->free || p->identifiable || p->at_bound)
                continue;
            if (p->partner[0] && fabs(p->corr) >= 0.9)
                fiti_note(&res->notes, "  %s trades off against %s (correlation %+.2f)%s", p->name,
                         p->partner, p->corr,
                         isfinite(p->stderr_) ? "" : "; the data cannot tell them apart");
            else
                fiti_note(&res->notes, "  %s: standard error %.2g %s (%.0f %%)", p->name,
                         p->stderr_, p->unit, 100 * p->stderr_ / fabs(p->value));
        }
    }
    (void)pb;
    /* The linear objective on a device whose current spans decades: many
     * samples between the log floor and 1 % of the largest current. */
    if (res->objective == SS_FIT_OBJECTIVE_LINEAR && res->log_rmse > 0.3) {
        size_t small = 0, total = 0;
        for (size_t k = 0; k < f->nfiles; k++) {
            double imax = 0;
            for (size_t j = 0; j < f->data[k].n; j++)
                imax = fmax(imax, fabs(f->data[k].i[j]));
            for (size_t j = 0; j < f->data[k].n; j++) {
                double a = fabs(f->data[k].i[j]);
                small += a > res->files[k].log_floor && a < 0.01 * imax;
            }
            total += f->data[k].n;
        }
        if (small >= total / 5)
            fiti_note(&res->notes,
                     "%.0f %% of the samples lie below 1 %% of the largest current, where the "
                     "linear objective hardly looks, and the log error is %.2f decades: "
                     "--objective log or mixed fits the small branch too",
                     100.0 * (double)small / (double)total, res->log_rmse);
    }
}

/* Fills res at the optimum zbest (polarity pol). */
static int fill_result(ss_fit *f, problem *pb, fiti_steps *steps, double *scratch,
                       const double *zbest, int pol, ss_fit_result *res, ss_error *err)
{
    double ptol = f->opt.tol > 0 ? f->opt.tol : 1e-4;
    int rc = SS_OK;
    size_t nz = pb->nz;
    gsl_matrix *J = nz ? gsl_matrix_alloc(pb->nres, nz) : NULL;
    double *se = malloc((nz ? nz : 1) * sizeof *se);
    int *nullish = malloc((nz ? nz : 1) * sizeof *nullish);
    int *partner = malloc((nz ? nz : 1) * sizeof *partner);
    double *corr = malloc((nz ? nz : 1) * sizeof *corr);
    double *x0s = malloc(f->nfiles * sizeof *x0s);
    double *zl = malloc((nz ? nz : 1) * sizeof *zl);
    res->params = calloc(f->type->nparams, sizeof *res->params);
    res->files = calloc(f->nfiles, sizeof *res->files);
    if ((nz && !J) || !se || !nullish || !partner || !corr || !x0s || !zl || !res->params ||
        !res->files) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    res->cond = NAN;
    if (nz) {
        lm_ctx c = {pb, pol, ptol, steps, zl, 0, scratch, NULL, NULL, NULL, 0.0};
        jacobian(&c, zbest, J);
        double s2 = pb->nres > nz ? c.base_ss / (double)(pb->nres - nz) : 0.0;
        fiti_z_stats(J, s2, se, nullish, partner, corr, &res->cond);
    }
    ss_device dev;
    z_to_model(pb, zbest, &dev, x0s);
    res->polarity = pol;
    res->nfree = nz;
    res->nparams = f->type->nparams;
    res->objective = pb->objective;
    for (size_t k = 0; k < f->type->nparams; k++) {
        ss_fit_param *p = &res->params[k];
        p->name = f->type->params[k].name;
        p->unit = f->type->params[k].unit;
        p->value = dev.p[k];
    }
    for (size_t j = 0; j < pb->np; j++) {
        int k = pb->idx[j];
        ss_fit_param *p = &res->params[k];
        const fiti_param *fp = &f->p[k];
        p->free = 1;
        p->lo = fp->lo, p->hi = fp->hi;
        p->stderr_ = isfinite(se[j]) ? se[j] * z_slope(fp, p->value) : INFINITY;
        p->at_bound = zbest[j] <= 1e-6 || zbest[j] >= 1 - 1e-6;
        /* identifiable: determined to +-10 % at two standard errors */
        p->identifiable = isfinite(p->stderr_) && !nullish[j] && !p->at_bound &&
                          2 * p->stderr_ <= 0.10 * fabs(p->value);
        if (!p->identifiable) {
            value_name(pb, partner[j], p->partner, sizeof p->partner);
            p->corr = corr[j];
        }
    }
    res->nfiles = f->nfiles;
    for (size_t k = 0; k < f->nfiles; k++) {
        ss_fit_file *ff = &res->files[k];
        ff->name = strdup(f->data[k].name ? f->data[k].name : "data");
        if (!ff->name) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        ff->x0 = x0s[k];
        ff->x0_free = f->x0_free[k];
        ff->series_r = f->data[k].series_r;
    }
    for (size_t j = 0; j < pb->nx; j++)
        res->files[pb->xfile[j]].x0_stderr = se[pb->np + j];
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
    dev.polarity = pol < 0 ? -1 : 1; /* a device-level choice: the result is the device */
    res->device = dev;
    double sum = 0, lsum = 0, cost = 0;
    for (size_t k = 0; k < f->nfiles; k++) {
        ss_fit_file *ff = &res->files[k];
        const ss_fit_data *dd = &f->data[k];
        /* The reported curves at the tolerance of ss_fit_simulate's default (the
         * curve `smallsim device iv --drive` draws), tighter than the search's. */
        if ((rc = ss_fit_simulate(&dev, pol, dd, x0s[k], 1e-7, &ff->model, err))) {
            /* the search integrated these parameters at its own tolerance:
             * report at that one rather than lose the fit */
            double pt = f->opt.tol > 0 ? f->opt.tol : 1e-4;
            if (rc != SS_ENUMERIC ||
                (rc = ss_fit_simulate(&dev, pol, dd, x0s[k], pt, &ff->model, err)))
                goto out;
            fiti_note(&res->notes,
                      "warning: %s: the fitted curve is integrated at the search's tolerance "
                      "%g; at the reporting tolerance 1e-7 the integration of these parameters "
                      "does not converge",
                      dd->name, pt);
        }
        ff->nrmse = ss_devsim_nrmse(ff->model.i, dd->i, dd->n);
        ff->log_floor = 0.5 * pb->fl2[k];
        double l2 = 0;
        for (size_t j = 0; j < dd->n; j++) {
            double e = log_dev(ff->model.i[j], dd->i[j], pb->fl2[k]) / M_LN10;
            l2 += e * e;
        }
        ff->log_rmse = sqrt(l2 / (double)dd->n);
        sum += ff->nrmse * ff->nrmse;
        lsum += ff->log_rmse * ff->log_rmse;
        double w = 1.0 / (double)f->nfiles;
        if (pb->objective != SS_FIT_OBJECTIVE_LOG)
            cost += w * ff->nrmse * ff->nrmse;
        if (pb->objective != SS_FIT_OBJECTIVE_LINEAR)
            cost += w * ff->log_rmse * ff->log_rmse *
                    (pb->objective == SS_FIT_OBJECTIVE_MIXED ? SS_FIT_LOG_WEIGHT *
                                                                   SS_FIT_LOG_WEIGHT
                                                             : 1.0);
    }
    res->nrmse = sqrt(sum / (double)f->nfiles);
    res->log_rmse = sqrt(lsum / (double)f->nfiles);
    res->cost = sqrt(cost);
    explain(f, pb, res);
out:
    gsl_matrix_free(J);
    free(se);
    free(nullish);
    free(partner);
    free(corr);
    free(x0s);
    free(zl);
    return rc;
}

int ss_fit_run(ss_fit *f, ss_fit_result *res, ss_error *err)
{
    ss_fit_result_release(res);
    double t0 = ss_util_now();
    if (f->nfiles == 0)
        return ss_error_set(err, SS_EINVAL, "no data to fit");
    if (f->nfiles > 1024)
        return ss_error_set(err, SS_EINVAL, "at most 1024 files");
    int obj = f->opt.objective;
    if (obj != SS_FIT_OBJECTIVE_LINEAR && obj != SS_FIT_OBJECTIVE_LOG &&
        obj != SS_FIT_OBJECTIVE_MIXED)
        return ss_error_set(err, SS_EINVAL, "unknown objective %d", obj);
    if (f->opt.log_floor < 0 || !isfinite(f->opt.log_floor))
        return ss_error_set(err, SS_EINVAL, "the log floor must be >= 0 A");
    int rc = SS_OK;
    fiti_default_bounds(f, f->opt.polarity);
    problem pb;
    memset(&pb, 0, sizeof pb);
    pb.f = f;
    pb.threads = f->opt.threads > 0 ? f->opt.threads : 2;
    pb.objective = obj;
    pb.mult = obj == SS_FIT_OBJECTIVE_MIXED ? 2 : 1;
    for (size_t k = 0; k < f->type->nparams; k++)
        if (f->p[k].free && !f->type->params[k].choices)
            pb.idx[pb.np++] = (int)k;
    for (size_t k = 0; k < f->nfiles; k++)
        if (f->x0_free[k])
            pb.xfile[pb.nx++] = k;
    pb.nz = pb.np + pb.nx;
    for (size_t k = 0; k < f->nfiles; k++) {
        pb.nres += f->data[k].n * pb.mult;
        if (f->data[k].n > pb.nmax)
            pb.nmax = f->data[k].n;
    }
    /* The starting device must be valid apart from the free values. */
    {
        ss_device d = f->base;
        for (size_t j = 0; j < pb.np; j++) {
            const fiti_param *p = &f->p[pb.idx[j]];
            d.p[pb.idx[j]] = z_value(p, value_z(p, d.p[pb.idx[j]]));
        }
        ss_error e2;
        if (ss_device_validate(&d, &e2) && ss_device_validate(&f->base, &e2))
            return ss_error_set(err, SS_EINVAL, "fixed parameters: %s", e2.msg);
    }
    if (pb.nres <= pb.nz)
        return ss_error_set(err, SS_EINVAL, "%zu samples cannot determine %zu unknowns", pb.nres,
                            pb.nz);
    size_t per = pb.nres + pb.nmax + f->nfiles + pb.nz;
    double *scratch = malloc((size_t)pb.threads * per * sizeof *scratch);
    double *zbest = calloc(pb.nz ? pb.nz : 1, sizeof *zbest);
    fiti_steps *steps = calloc(f->nfiles, sizeof *steps);
    pb.wt = malloc(f->nfiles * sizeof *pb.wt);
    pb.lw = malloc(f->nfiles * sizeof *pb.lw);
    pb.fl2 = malloc(f->nfiles * sizeof *pb.fl2);
    if (!scratch || !zbest || !steps || !pb.wt || !pb.lw || !pb.fl2) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < f->nfiles; k++) {
        const ss_fit_data *d = &f->data[k];
        double range = ss_fit_data_range(d), imax = 0;
        for (size_t j = 0; j < d->n; j++)
            imax = fmax(imax, fabs(d->i[j]));
        double nf = sqrt((double)d->n * (double)f->nfiles);
        pb.wt[k] = 1.0 / (range * nf);
        pb.lw[k] = (obj == SS_FIT_OBJECTIVE_MIXED ? SS_FIT_LOG_WEIGHT : 1.0) / (M_LN10 * nf);
        pb.fl2[k] = 2.0 * (f->opt.log_floor > 0 ? f->opt.log_floor : default_floor(d, imax));
    }
    int pol = f->opt.polarity ? f->opt.polarity : 1;
    double gcost = NAN;
    if (pb.np == 0) {
        /* A fixed parameter set: the initial states only (both polarities
         * when it is searched). */
        double *zt = calloc(pb.nz ? pb.nz : 1, sizeof *zt);
        if (!zt) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        double ptol = f->opt.tol > 0 ? f->opt.tol : 1e-4, best = INFINITY;
        for (int p = f->opt.polarity ? f->opt.polarity : 1;; p = -p) {
            for (size_t j = 0; j < pb.nx; j++)
                zt[j] = f->x0_val[pb.xfile[j]];
            double c = fit_x0_only(&pb, p, ptol, zt, scratch);
            if (c < best) {
                best = c, pol = p;
                memcpy(zbest, zt, pb.nz * sizeof *zbest);
            }
            if (f->opt.polarity || p < 0)
                break;
        }
        free(zt);
        if (!isfinite(best)) {
            rc = ss_error_set(err, SS_ENUMERIC,
                              "the parameter set could not be simulated on this data");
            goto out;
        }
        gcost = sqrt(best);
    } else if ((rc = search(f, &pb, scratch, steps, zbest, &pol, &gcost, t0, err))) {
        goto out;
    }
    res->global_nrmse = gcost;
    if ((rc = fill_result(f, &pb, steps, scratch, zbest, pol, res, err)))
        goto out;
    res->evals = pb.evals;
    res->seconds = ss_util_now() - t0;
out:
    if (rc)
        ss_fit_result_release(res);
    for (size_t k = 0; steps && k < f->nfiles; k++)
        fiti_steps_release(&steps[k]);
    free(steps);
    free(scratch);
    free(zbest);
    free(pb.wt);
    free(pb.lw);
    free(pb.fl2);
    return rc;
}
