/* data.c: measured I-V loops after reading (fit/ss_fit.h): folding a
 * multi-period record onto one period, decimation, the current offset,
 * plausibility errors and warnings.  Reading the file is read.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit_private.h"

int fiti_note(char **notes, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t old = *notes ? strlen(*notes) : 0, add = strlen(line);
    /* A line already there (the same explanation for several files) once. */
    for (const char *p = *notes; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len == add && !memcmp(p, line, add))
            return SS_OK;
        p += len + (nl ? 1 : 0);
    }
    char *n = realloc(*notes, old + add + 2);
    if (!n)
        return SS_ENOMEM;
    memcpy(n + old, line, add);
    n[old + add] = '\n';
    n[old + add + 1] = 0;
    *notes = n;
    return SS_OK;
}

void ss_fit_data_release(ss_fit_data *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->t);
    free(d->v);
    free(d->i);
    free(d->notes);
    ss_fit_data d0 = SS_FIT_DATA_INIT;
    *d = d0;
}

double ss_fit_data_range(const ss_fit_data *d)
{
    if (!d->n)
        return 0.0;
    double lo = d->i[0], hi = d->i[0];
    for (size_t k = 1; k < d->n; k++)
        lo = fmin(lo, d->i[k]), hi = fmax(hi, d->i[k]);
    return hi - lo;
}

int fiti_data_alloc(ss_fit_data *d, const char *name, size_t n, ss_error *err)
{
    ss_fit_data_release(d);
    d->name = strdup(name ? name : "data");
    d->t = malloc((n ? n : 1) * sizeof *d->t);
    d->v = malloc((n ? n : 1) * sizeof *d->v);
    d->i = malloc((n ? n : 1) * sizeof *d->i);
    if (!d->name || !d->t || !d->v || !d->i) {
        ss_fit_data_release(d);
        return ss_error_set(err, SS_ENOMEM, "out of memory for %zu samples", n);
    }
    d->n = n;
    return SS_OK;
}

int ss_fit_data_set(ss_fit_data *d, const char *name, size_t n, const double *t, const double *v,
                    const double *i, double freq, double series_r, ss_error *err)
{
    ss_fit_data_release(d);
    if (!t && !(freq > 0))
        return ss_error_set(err, SS_EINVAL, "%s: no time and no frequency", name);
    int rc = fiti_data_alloc(d, name, n, err);
    if (rc)
        return rc;
    for (size_t k = 0; k < n; k++) {
        d->t[k] = t ? t[k] : (double)k / ((double)n * freq);
        d->v[k] = v[k];
        d->i[k] = i[k];
    }
    d->freq = t ? 0.0 : freq;
    d->series_r = series_r;
    return SS_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of a[0..n) (reorders a). */
static double median(double *a, size_t n)
{
    if (!n)
        return 0.0;
    qsort(a, n, sizeof *a, cmp_double);
    return n % 2 ? a[n / 2] : 0.5 * (a[n / 2 - 1] + a[n / 2]);
}

/* ---- periods, folding, decimation --------------------------------------------- */

double ss_fit_data_period(const ss_fit_data *d)
{
    if (d->n < 8)
        return 0.0;
    double lo = d->v[0], hi = d->v[0];
    for (size_t k = 1; k < d->n; k++)
        lo = fmin(lo, d->v[k]), hi = fmax(hi, d->v[k]);
    double mid = 0.5 * (lo + hi), h = 0.1 * (hi - lo);
    if (!(hi > lo))
        return 0.0;
    /* Upward crossings of the mid level, with hysteresis against noise. */
    double *tc = malloc(d->n * sizeof *tc);
    if (!tc)
        return 0.0;
    size_t nc = 0;
    int low = d->v[0] < mid - h ? 1 : 0, armed = low;
    size_t last_below = 0;
    for (size_t k = 1; k < d->n; k++) {
        if (d->v[k] < mid)
            last_below = k;
        if (d->v[k] < mid - h)
            armed = 1;
        else if (armed && d->v[k] > mid + h) {
            size_t a = last_below, b = a + 1;
            double f = (mid - d->v[a]) / (d->v[b] - d->v[a]);
            tc[nc++] = d->t[a] + f * (d->t[b] - d->t[a]);
            armed = 0;
        }
    }
    (void)low;
    double period = 0.0;
    if (nc >= 3) {
        double *sp = malloc((nc - 1) * sizeof *sp);
        if (sp) {
            for (size_t k = 0; k + 1 < nc; k++)
                sp[k] = tc[k + 1] - tc[k];
            double med = median(sp, nc - 1);
            int regular = med > 0;
            for (size_t k = 0; k + 1 < nc && regular; k++)
                regular = fabs(tc[k + 1] - tc[k] - med) <= 0.05 * med;
            if (regular)
                period = (tc[nc - 1] - tc[0]) / (double)(nc - 1);
            free(sp);
        }
    }
    free(tc);
    return period;
}

/* Median sample spacing. */
static double median_step(const ss_fit_data *d)
{
    double *s = malloc(d->n * sizeof *s);
    if (!s || d->n < 2) {
        free(s);
        return d->n >= 2 ? (d->t[d->n - 1] - d->t[0]) / (double)(d->n - 1) : 0.0;
    }
    for (size_t k = 0; k + 1 < d->n; k++)
        s[k] = d->t[k + 1] - d->t[k];
    double m = median(s, d->n - 1);
    free(s);
    return m;
}

/* Replaces d's arrays by m samples. */
static int replace(ss_fit_data *d, size_t m, double *t, double *v, double *i)
{
    free(d->t);
    free(d->v);
    free(d->i);
    d->t = t, d->v = v, d->i = i, d->n = m;
    return SS_OK;
}

static int fold(ss_fit_data *d, double period, size_t whole, size_t bins, const char *how,
                char **notes, ss_error *err)
{
    double *t = calloc(bins, sizeof *t), *v = calloc(bins, sizeof *v),
           *i = calloc(bins, sizeof *i);
    size_t *cnt = calloc(bins, sizeof *cnt);
    if (!t || !v || !i || !cnt) {
        free(t), free(v), free(i), free(cnt);
        return ss_error_set(err, SS_ENOMEM, "out of memory folding '%s'", d->name);
    }
    double span = (double)whole * period;
    size_t used = 0;
    for (size_t k = 0; k < d->n; k++) {
        double tk = d->t[k] - d->t[0];
        if (tk >= span * (1 - 1e-12))
            break;
        double ph = fmod(tk, period) / period;
        size_t b = (size_t)(ph * (double)bins);
        if (b >= bins)
            b = bins - 1;
        v[b] += d->v[k], i[b] += d->i[k], cnt[b]++;
        used++;
    }
    for (size_t b = 0; b < bins; b++) {
        if (!cnt[b]) {
            free(t), free(v), free(i), free(cnt);
            return ss_error_set(err, SS_EINVAL,
                                "%s: folding onto %zu samples per period leaves sample %zu "
                                "empty: use fewer (--samples N)",
                                d->name, bins, b + 1);
        }
        v[b] /= (double)cnt[b];
        i[b] /= (double)cnt[b];
        t[b] = (double)b * period / (double)bins;
    }
    free(cnt);
    size_t n0 = d->n;
    replace(d, bins, t, v, i);
    d->freq = 1.0 / period;
    fiti_note(notes,
             "folded %zu periods of %.6g s (%s) onto one: %zu of %zu samples averaged into %zu "
             "(--fold off keeps the record)",
             whole, period, how, used, n0, bins);
    return SS_OK;
}

static int decimate(ss_fit_data *d, size_t target, char **notes, ss_error *err)
{
    size_t g = (d->n + target - 1) / target, m = (d->n + g - 1) / g;
    double *t = malloc(m * sizeof *t), *v = malloc(m * sizeof *v), *i = malloc(m * sizeof *i);
    if (!t || !v || !i) {
        free(t), free(v), free(i);
        return ss_error_set(err, SS_ENOMEM, "out of memory decimating '%s'", d->name);
    }
    for (size_t b = 0; b < m; b++) {
        size_t a = b * g, e = a + g < d->n ? a + g : d->n;
        double st = 0, sv = 0, si = 0;
        for (size_t k = a; k < e; k++)
            st += d->t[k], sv += d->v[k], si += d->i[k];
        double c = (double)(e - a);
        t[b] = st / c, v[b] = sv / c, i[b] = si / c;
    }
    size_t n0 = d->n;
    double t0 = t[0];
    for (size_t b = 0; b < m; b++)
        t[b] -= t0;
    replace(d, m, t, v, i);
    fiti_note(notes, "%zu samples averaged in blocks of %zu into %zu", n0, g, m);
    return SS_OK;
}

/* The current at 0 V: at each zero crossing of the drive, the intercept of
 * a straight line through the samples on the crossing's monotonic run
 * within 10 % of the drive's largest magnitude of 0 V (at least the two
 * samples around it); the median over the crossings. */
static int zero_offset(const ss_fit_data *d, double *off, size_t *count)
{
    double *z = malloc(d->n * sizeof *z);
    if (!z)
        return SS_ENOMEM;
    double vmax = 0;
    for (size_t k = 0; k < d->n; k++)
        vmax = fmax(vmax, fabs(d->v[k]));
    double lim = 0.1 * vmax;
    size_t m = 0;
    for (size_t k = 0; k + 1 < d->n; k++) {
        double a = d->v[k], b = d->v[k + 1];
        if (!((a <= 0 && b > 0) || (a >= 0 && b < 0)))
            continue;
        int up = b > a;
        size_t lo = k, hi = k + 1;
        while (lo > 0 && fabs(d->v[lo - 1]) <= lim && (d->v[lo - 1] < d->v[lo]) == up &&
               d->v[lo - 1] != d->v[lo])
            lo--;
        while (hi + 1 < d->n && fabs(d->v[hi + 1]) <= lim && (d->v[hi + 1] > d->v[hi]) == up &&
               d->v[hi + 1] != d->v[hi])
            hi++;
        double sv = 0, si = 0, svv = 0, svi = 0, c = (double)(hi - lo + 1);
        for (size_t j = lo; j <= hi; j++)
            sv += d->v[j], si += d->i[j], svv += d->v[j] * d->v[j], svi += d->v[j] * d->i[j];
        double den = c * svv - sv * sv;
        z[m++] = den > 0 ? (si * svv - sv * svi) / den : si / c;
    }
    *count = m;
    *off = median(z, m);
    free(z);
    return SS_OK;
}

int fiti_data_reshape(ss_fit_data *d, const ss_fit_read_options *opt, int file_time,
                     char **notes, ss_error *err)
{
    int rc;
    /* The time reconstructed from --freq is one period by definition. */
    int one_period = !file_time && opt->freq > 0 && !(opt->sweep_rate > 0) &&
                     !(opt->step_time > 0);
    int folded = 0;
    if (!one_period && opt->fold != SS_FIT_FOLD_OFF && d->n >= 8) {
        double period = opt->freq > 0 ? 1.0 / opt->freq : ss_fit_data_period(d);
        const char *how = opt->freq > 0 ? "from --freq" : "from the drive's crossings";
        double dt = median_step(d);
        double span = d->t[d->n - 1] - d->t[0] + dt;
        size_t whole = period > 0 ? (size_t)floor(span / period + 1e-6) : 0;
        size_t need = opt->fold == SS_FIT_FOLD_ON ? 1 : 2;
        if (opt->fold == SS_FIT_FOLD_ON && !(period > 0))
            return ss_error_set(err, SS_EINVAL,
                                "%s: --fold: the drive is not periodic (no regular crossings "
                                "of its mid level); give the period with --freq",
                                d->name);
        if (opt->fold == SS_FIT_FOLD_ON && whole < 1)
            return ss_error_set(err, SS_EINVAL,
                                "%s: --fold: the record spans %.3g periods of %g s: not one whole "
                                "period",
                                d->name, span / period, period);
        if (period > 0 && whole >= need) {
            size_t bins = opt->samples ? opt->samples : 200;
            size_t per = (size_t)floor(period / dt + 1e-6);
            if (bins > per) {
                fiti_note(notes, "only %zu samples per period: folding onto %zu", per, per);
                bins = per;
            }
            if (bins < 8)
                return ss_error_set(err, SS_EINVAL,
                                    "%s: only %zu samples per period of %g s: too coarse to "
                                    "fold",
                                    d->name, per, period);
            if ((rc = fold(d, period, whole, bins, how, notes, err)))
                return rc;
            folded = 1;
        }
    }
    if (!folded && opt->samples > 0 && d->n > opt->samples + opt->samples / 2)
        if ((rc = decimate(d, opt->samples, notes, err)))
            return rc;
    if (!folded && !opt->samples && d->n > 20000)
        fiti_note(notes,
                 "%zu samples: the fit time grows with the sample count; --samples N "
                 "block-averages to about N",
                 d->n);
    if (opt->offset_mode == SS_FIT_OFFSET_VALUE) {
        for (size_t k = 0; k < d->n; k++)
            d->i[k] -= opt->offset;
        fiti_note(notes, "current offset %g A subtracted", opt->offset);
    } else if (opt->offset_mode == SS_FIT_OFFSET_AUTO) {
        double off;
        size_t cnt;
        if (zero_offset(d, &off, &cnt))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        if (cnt == 0)
            return ss_error_set(err, SS_EINVAL,
                                "%s: --offset auto: the drive never crosses 0 V, so the current "
                                "at 0 V is unknown; give --offset VALUE (A)",
                                d->name);
        for (size_t k = 0; k < d->n; k++)
            d->i[k] -= off;
        double range = ss_fit_data_range(d);
        fiti_note(notes,
                 "current offset %.4g A subtracted (the median current at %zu zero crossings "
                 "of the drive)%s",
                 off, cnt,
                 fabs(off) > 0.2 * range ? "; it is over 20 % of the current range: check the "
                                           "wiring"
                                         : "");
    }
    return SS_OK;
}

/* ---- plausibility ------------------------------------------------------------------ */

/* "1e-6" for powers of ten, else %g. */
static const char *scale_text(double s, char *buf, size_t n)
{
    double l = log10(s);
    if (fabs(l - floor(l + 0.5)) < 1e-9)
        snprintf(buf, n, "1e%d", (int)floor(l + 0.5));
    else
        snprintf(buf, n, "%g", s);
    return buf;
}

static const char *prefix_word(double s)
{
    double l = log10(s);
    if (fabs(l + 3) < 1e-6)
        return "milli-amps";
    if (fabs(l + 6) < 1e-6)
        return "micro-amps";
    if (fabs(l + 9) < 1e-6)
        return "nano-amps";
    if (fabs(l + 12) < 1e-6)
        return "pico-amps";
    return NULL;
}

int ss_fit_data_check(const ss_fit_data *d, ss_error *err)
{
    const char *name = d->name ? d->name : "data";
    if (d->n < 8)
        return ss_error_set(err, SS_EINVAL, "%s: only %zu samples (need at least 8)", name, d->n);
    /* every fit evaluation simulates every sample: millions make a fit
     * that never ends */
    int over = ss_util_limit_check(SS_LIMIT_SAMPLES, (double)d->n, err, "%s: %zu samples", name,
                                   d->n);
    if (over)
        return over;
    double vmax = 0, imax = 0, vlo = d->v[0], vhi = d->v[0];
    for (size_t k = 0; k < d->n; k++) {
        if (!isfinite(d->v[k]) || !isfinite(d->i[k]) || !isfinite(d->t[k]))
            return ss_error_set(err, SS_EINVAL, "%s: sample %zu is not finite", name, k + 1);
        if (k && !(d->t[k] > d->t[k - 1]))
            return ss_error_set(err, SS_EINVAL, "%s: time does not increase at sample %zu", name,
                                k + 1);
        vmax = fmax(vmax, fabs(d->v[k]));
        imax = fmax(imax, fabs(d->i[k]));
        vlo = fmin(vlo, d->v[k]), vhi = fmax(vhi, d->v[k]);
    }
    if (!(vhi > vlo))
        return ss_error_set(err, SS_EINVAL, "%s: the voltage is constant (%g V): nothing to fit",
                            name, vlo);
    if (!(ss_fit_data_range(d) > 0))
        return ss_error_set(err, SS_EINVAL, "%s: the current is constant: nothing to fit", name);
    double applied = d->i_scale > 0 ? d->i_scale : 1.0;
    const char *from = d->i_scale_from == SS_FIT_SCALE_HEADER   ? " (the unit in the header)"
                       : d->i_scale_from == SS_FIT_SCALE_OPTION ? " (--current-scale)"
                                                                : "";
    char hint[240];
    if (d->series_r > 0) {
        double lim = vmax / d->series_r;
        if (imax > 1.5 * lim) {
            double ratio = imax / lim, s = 0;
            for (double c = 1e-3; c >= 1e-12 * (1 - 1e-9); c *= 1e-3)
                if (imax * c <= 1.5 * lim) {
                    s = c;
                    break;
                }
            const char *pw = s > 0 ? prefix_word(applied * s) : NULL;
            char b1[32];
            if (ratio > 100 && s > 0 && d->i_scale_from != SS_FIT_SCALE_HEADER)
                snprintf(hint, sizeof hint, "; is the current in %s? use --current-scale %s",
                         pw ? pw : "other units", scale_text(applied * s, b1, sizeof b1));
            else if (d->i_scale_from == SS_FIT_SCALE_HEADER)
                snprintf(hint, sizeof hint,
                         "; the current unit comes from the header: check the series resistor "
                         "and the columns");
            else
                snprintf(hint, sizeof hint, "; check the series resistor and the columns");
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A%s is implausible: a %.3g V drive "
                                "behind %.3g ohm allows at most %.3g A (%.2g times less)%s",
                                name, imax, from, vmax, d->series_r, lim, ratio, hint);
        }
        if (imax * d->series_r < 1e-9 * vmax)
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A%s is implausibly small for a %.3g V "
                                "drive behind %.3g ohm; check the current unit",
                                name, imax, from, vmax, d->series_r);
    } else {
        if (imax >= 1.0) {
            char b1[32], b2[32], b3[32];
            double s0 = imax < 1e5 ? 1e-3 : 1e-6;
            if (d->i_scale_from == SS_FIT_SCALE_HEADER)
                snprintf(hint, sizeof hint, "; the unit comes from the header: check the columns");
            else
                snprintf(hint, sizeof hint,
                         "; the file does not say its unit: use --current-scale %s for %s, %s "
                         "for %s or %s for %s",
                         scale_text(applied * s0, b1, sizeof b1), prefix_word(s0),
                         scale_text(applied * s0 * 1e-3, b2, sizeof b2), prefix_word(s0 * 1e-3),
                         scale_text(applied * s0 * 1e-6, b3, sizeof b3), prefix_word(s0 * 1e-6));
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A%s is implausible for a memristor%s",
                                name, imax, from, hint);
        }
        if (imax < 1e-15)
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A%s is implausibly small; check the "
                                "current unit",
                                name, imax, from);
    }
    return SS_OK;
}

/* Local extrema of v with a prominence of at least `prom`: a drive has two
 * per period; a device voltage behind a series resistor snaps back at each
 * switching event and has more. */
static size_t extrema(const ss_fit_data *d, double prom)
{
    size_t n = 0;
    int dir = 0; /* +1 rising, -1 falling, 0 not yet known */
    double lo = d->v[0], hi = d->v[0], ext = d->v[0];
    for (size_t k = 1; k < d->n; k++) {
        double v = d->v[k];
        if (dir == 0) {
            lo = fmin(lo, v), hi = fmax(hi, v);
            if (v - lo > prom)
                dir = 1, ext = v;
            else if (hi - v > prom)
                dir = -1, ext = v;
        } else if (dir > 0) {
            if (v > ext)
                ext = v;
            else if (v < ext - prom)
                n++, dir = -1, ext = v;
        } else {
            if (v < ext)
                ext = v;
            else if (v > ext + prom)
                n++, dir = 1, ext = v;
        }
    }
    return n;
}

int ss_fit_data_warnings(const ss_fit_data *d, char **notes)
{
    const char *name = d->name ? d->name : "data";
    int count = 0;
    if (d->n < 8)
        return 0;
    double vmax = 0, imax = 0, vlo = d->v[0], vhi = d->v[0];
    for (size_t k = 0; k < d->n; k++) {
        vmax = fmax(vmax, fabs(d->v[k]));
        imax = fmax(imax, fabs(d->i[k]));
        vlo = fmin(vlo, d->v[k]), vhi = fmax(vhi, d->v[k]);
    }
    if (d->series_r > 0 && imax > 0) {
        /* The smallest apparent resistance |v/i| bounds the series resistor. */
        double rapp = INFINITY;
        for (size_t k = 0; k < d->n; k++)
            if (fabs(d->i[k]) > 0.1 * imax && fabs(d->v[k]) > 0.05 * vmax)
                rapp = fmin(rapp, fabs(d->v[k] / d->i[k]));
        double R = d->series_r;
        if (isfinite(rapp) && R < 0.01 * rapp) {
            if (1e3 * R <= rapp && 1e3 * R >= 0.3 * rapp) {
                fiti_note(notes,
                         "warning: %s: the smallest apparent resistance v/i is %.3g ohm, %.0f "
                         "times the series resistor %g ohm: did you mean --series %gk? (as "
                         "given, it drops at most %.2g %% of the drive)",
                         name, rapp, rapp / R, R, R, 100 * imax * R / vmax);
                count++;
            } else if (imax * R < 1e-3 * vmax) {
                fiti_note(notes,
                         "warning: %s: the series resistor %g ohm drops at most %.2g %% of the "
                         "drive: it hardly matters, or the series resistance or current scale "
                         "is off",
                         name, R, 100 * imax * R / vmax);
                count++;
            }
        }
    }
    if (d->series_r == 0 && vhi > vlo) {
        /* A device voltage behind a series resistor is pinned near the
         * switching voltage while the current changes, and snaps back when
         * the device switches; a drive is neither. */
        double T = d->t[d->n - 1] - d->t[0];
        double period = d->freq > 0 ? 1.0 / d->freq : ss_fit_data_period(d);
        double periods = period > 0 ? fmax(1.0, T / period) : 1.0;
        size_t ext = extrema(d, 0.04 * (vhi - vlo));
        double irange = ss_fit_data_range(d), band = 0.05 * (vhi - vlo);
        double frac = 0, swing = 0;
        for (int side = 0; side < 2; side++) {
            size_t m = 0;
            double ilo = INFINITY, ihi = -INFINITY;
            for (size_t k = 0; k < d->n; k++)
                if (side ? d->v[k] <= vlo + band : d->v[k] >= vhi - band) {
                    m++;
                    ilo = fmin(ilo, d->i[k]), ihi = fmax(ihi, d->i[k]);
                }
            double fr = (double)m / (double)d->n, sw = m ? (ihi - ilo) / irange : 0;
            if (fr * sw > frac * swing)
                frac = fr, swing = sw;
        }
        int turns = (double)ext > 2.0 * ceil(periods - 0.05) + 1;
        if (turns || (frac > 0.2 && swing > 0.3)) {
            if (turns)
                fiti_note(notes,
                         "warning: %s: the voltage turns back %zu times in %.3g period%s (a drive "
                         "turns twice per period)",
                         name, ext, periods, periods > 1.5 ? "s" : "");
            else
                fiti_note(notes,
                         "warning: %s: the voltage stays within 5 %% of its extreme for %.0f %% of "
                         "the record while the current changes by %.0f %% of its range",
                         name, 100 * frac, 100 * swing);
            fiti_note(notes,
                     "  that is how the voltage across a device behind a series resistor looks "
                     "(held near the switching voltage, snapping back when the device "
                     "switches); if so, fitting the applied voltage with --series R (or "
                     "--series-column) usually fits better than the device-voltage form");
            count++;
        }
    }
    return count;
}
