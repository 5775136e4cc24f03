/* bounds.c: default search bounds of the fitted parameters from the data
 * (fit/ss_fit.h).  The bounds follow the polarity: with the device
 * connected reversed its positive voltages are the data's negative ones,
 * so positive-side parameters (vp, ap, a1, gmax_p, ...) take the data's
 * negative side.  They are wide enough for the published parameter sets
 * of every preset at its source's drive (test `bounds_hold_presets`). */
#include <math.h>
#include <string.h>

#include "fit/fit_private.h"

void ssf_set_range(ssf_param *p, double lo, double hi)
{
    p->lo = lo, p->hi = hi;
    p->logscale = (lo > 0 && hi > 0) || (lo < 0 && hi < 0);
}

/* What the data say, seen from the device's terminals. */
typedef struct datastats {
    double vp, vn;     /* largest device voltage magnitude, positive and negative side */
    double ip, in;     /* largest current magnitude, each side */
    double rmin, rmax; /* apparent device resistance range */
    double fmin, fmax; /* 1 / duration of the files */
} datastats;

static void data_stats(const ss_fit *f, int polarity, datastats *s)
{
    memset(s, 0, sizeof *s);
    s->rmin = INFINITY, s->fmin = INFINITY;
    double sg = polarity < 0 ? -1.0 : 1.0;
    for (size_t k = 0; k < f->nfiles; k++) {
        const ss_fit_data *d = &f->data[k];
        double imax = 0;
        for (size_t j = 0; j < d->n; j++)
            imax = fmax(imax, fabs(d->i[j]));
        for (size_t j = 0; j < d->n; j++) {
            double vd = sg * (d->v[j] - d->series_r * d->i[j]), i = sg * d->i[j];
            if (vd > 0)
                s->vp = fmax(s->vp, vd), s->ip = fmax(s->ip, i);
            else
                s->vn = fmax(s->vn, -vd), s->in = fmax(s->in, -i);
            if (fabs(i) > 0.1 * imax && fabs(vd) > 1e-3) {
                double r = fabs(vd / i);
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
    if (s->vp <= 0)
        s->vp = 0.1;
    if (s->vn <= 0)
        s->vn = 0.1;
    if (s->ip <= 0)
        s->ip = 1e-6;
    if (s->in <= 0)
        s->in = 1e-6;
}

/* Both polarities: the wider of the two sides. */
static void data_stats_any(const ss_fit *f, int polarity, datastats *s)
{
    data_stats(f, polarity ? polarity : 1, s);
    if (polarity == 0) {
        double vp = fmax(s->vp, s->vn), ip = fmax(s->ip, s->in);
        s->vp = s->vn = vp;
        s->ip = s->in = ip;
    }
}

/* The bounds of parameter `n` of model t; 0 if the model has no rule. */
static int rule(const ss_fit *f, const datastats *s, const char *n, double *lo, double *hi)
{
    const ss_device_type *t = f->type;
    double vmax = fmax(s->vp, s->vn);
    if (t == ss_device_vteam) {
        double D = ss_device_get(&f->base, "w_off") - ss_device_get(&f->base, "w_on");
        if (!strcmp(n, "r_on"))
            *lo = s->rmin / 30, *hi = s->rmin * 3;
        else if (!strcmp(n, "r_off"))
            *lo = s->rmin, *hi = s->rmax * 300;
        else if (!strcmp(n, "v_on")) /* SET under negative voltage */
            *lo = -s->vn, *hi = -1e-3 * vmax;
        else if (!strcmp(n, "v_off"))
            *lo = 1e-3 * vmax, *hi = s->vp;
        else if (!strcmp(n, "k_on"))
            *lo = -1e5 * s->fmax * D, *hi = -1e-3 * s->fmin * D;
        else if (!strcmp(n, "k_off"))
            *lo = 1e-3 * s->fmin * D, *hi = 1e5 * s->fmax * D;
        else if (!strncmp(n, "alpha", 5))
            *lo = 1, *hi = 12;
        else
            return 0;
        return 1;
    }
    /* Both Yakopcic forms: thresholds (vn a magnitude in 2013, signed in
     * 2020), rates, window points and exponents. */
    if (!strcmp(n, "vp"))
        *lo = 0.01 * s->vp, *hi = s->vp;
    else if (!strcmp(n, "vn") && t == ss_device_yakopcic)
        *lo = 0.01 * s->vn, *hi = s->vn;
    else if (!strcmp(n, "vn"))
        *lo = -s->vn, *hi = -0.01 * s->vn;
    else if (!strcmp(n, "ap") || !strcmp(n, "an"))
        *lo = 1e-4 * s->fmin, *hi = 1e5 * s->fmax;
    else if (!strcmp(n, "xp") || !strcmp(n, "xn"))
        *lo = 0.02, *hi = 0.98;
    else if (!strcmp(n, "alphap") || !strcmp(n, "alphan"))
        *lo = 0.1, *hi = 30;
    /* 2013: i = a x sinh(b v) with b v in [0.01, 8] and x down to 0.01:
     * the current scale a spans about ip/sinh(8) .. ip/(0.01 x 0.01). */
    else if (t == ss_device_yakopcic && !strcmp(n, "a1"))
        *lo = s->ip * 1e-4, *hi = s->ip * 1e4;
    else if (t == ss_device_yakopcic && !strcmp(n, "a2"))
        *lo = s->in * 1e-4, *hi = s->in * 1e4;
    else if (t == ss_device_yakopcic && !strcmp(n, "b"))
        *lo = 0.01 / vmax, *hi = 8 / vmax;
    /* 2020: the _p set acts at positive voltages, _n at negative. */
    else if (!strcmp(n, "gmax_p") || !strcmp(n, "gmin_p"))
        *lo = s->ip * 1e-6, *hi = s->ip * 1e3;
    else if (!strcmp(n, "gmax_n") || !strcmp(n, "gmin_n"))
        *lo = s->in * 1e-6, *hi = s->in * 1e3;
    else if (!strcmp(n, "bmax_p") || !strcmp(n, "bmin_p"))
        *lo = 0.01 / s->vp, *hi = 20 / s->vp;
    else if (!strcmp(n, "bmax_n") || !strcmp(n, "bmin_n"))
        *lo = 0.01 / s->vn, *hi = 20 / s->vn;
    else
        return 0;
    return 1;
}

void ssf_default_bounds(ss_fit *f, int polarity)
{
    datastats s;
    data_stats_any(f, polarity, &s);
    const ss_device_type *t = f->type;
    for (size_t k = 0; k < t->nparams; k++) {
        if (f->user_bounds[k])
            continue;
        double lo = 0, hi = 0;
        if (!rule(f, &s, t->params[k].name, &lo, &hi)) {
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
        ssf_set_range(&f->p[k], lo, hi);
    }
}

int ss_fit_get_bounds(ss_fit *f, const char *name, double *lo, double *hi, int *free_,
                      ss_error *err)
{
    int k = ss_device_param_index(f->type, name);
    if (k < 0)
        return ss_error_set(err, SS_ENOTFOUND, "model '%s' has no parameter '%s'", f->type->name,
                            name);
    if (f->nfiles == 0)
        return ss_error_set(err, SS_EINVAL, "the bounds come from the data: add data first");
    ssf_default_bounds(f, f->opt.polarity);
    *lo = f->p[k].lo, *hi = f->p[k].hi;
    if (free_)
        *free_ = f->p[k].free;
    return SS_OK;
}
