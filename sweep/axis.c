/* axis.c: sweep axes (lin/log/dec/list/file and distributions), the job
 * list (grid, zip, Latin hypercube, Monte Carlo) and per-job seeds. */
#include "sweep/ss_sweep.h"

#include <ctype.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_AXIS_POINTS 10000000

/* ---- seeds ---------------------------------------------------------------- */

uint64_t ss_sweep_job_seed(uint64_t seed, uint64_t job)
{
    uint64_t h = ss_util_mix64(ss_util_mix64(seed) ^ (job * 0xd1b54a32d192ed03ULL + 1));
    return (h % 0x7ffffffeULL) + 1;
}

/* ---- parsing ---------------------------------------------------------------- */

static int push_value(ss_sweep_axis *ax, size_t *cap, double v)
{
    if (ax->n == *cap) {
        size_t c = *cap ? 2 * *cap : 16;
        double *nv = realloc(ax->values, c * sizeof *nv);
        if (!nv)
            return SS_ENOMEM;
        ax->values = nv;
        *cap = c;
    }
    ax->values[ax->n++] = v;
    return SS_OK;
}

/* Splits `spec` at ':' into at most `max` fields (in place). */
static size_t split_fields(char *spec, char **f, size_t max)
{
    size_t n = 0;
    char *p = spec;
    while (n < max) {
        f[n++] = p;
        char *c = strchr(p, ':');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int number(const char *arg, const char *s, double *v, ss_error *err)
{
    if (ss_util_parse_spice_number(s, v))
        return ss_error_set(err, SS_EINVAL, "'%s': '%s' is not a number", arg, s);
    return SS_OK;
}

static int count(const char *arg, const char *s, size_t *n, ss_error *err)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= 1) || v != floor(v))
        return ss_error_set(err, SS_EINVAL, "'%s': '%s' is not a point count (a whole number >= 1)",
                            arg, s);
    int rc = ss_util_limit_check(SS_LIMIT_JOBS, v, err, "'%s': points", arg);
    if (!rc && v > MAX_AXIS_POINTS)
        rc = ss_error_set(err, SS_EINVAL, "'%s': '%s' is over %d points per axis", arg, s,
                          MAX_AXIS_POINTS);
    if (!rc)
        *n = (size_t)v;
    return rc;
}

static int read_values_file(ss_sweep_axis *ax, size_t *cap, const char *arg, const char *path,
                            ss_error *err)
{
    char *text = NULL;
    size_t len;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return ss_error_prefix(err, rc, "'%s'", arg);
    int line = 1;
    char *p = text;
    while (!rc && *p) {
        if (*p == '*' || *p == '#') {
            while (*p && *p != '\n')
                p++;
            continue;
        }
        if (*p == '\n')
            line++;
        if (isspace((unsigned char)*p) || *p == ',') {
            p++;
            continue;
        }
        char *start = p;
        while (*p && !isspace((unsigned char)*p) && *p != ',')
            p++;
        char save = *p;
        *p = '\0';
        double v;
        if (ss_util_parse_spice_number(start, &v))
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%s' is not a number", path, line, start);
        else
            rc = push_value(ax, cap, v);
        *p = save;
    }
    free(text);
    if (!rc && !ax->n)
        rc = ss_error_set(err, SS_EPARSE, "%s: no values", path);
    return rc;
}

int ss_sweep_axis_parse(ss_sweep_axis *ax, const char *arg, ss_error *err)
{
    memset(ax, 0, sizeof *ax);
    const char *eq = arg ? strchr(arg, '=') : NULL;
    if (!eq || eq == arg || !eq[1])
        return ss_error_set(err, SS_EINVAL, "'%s': expected NAME=SPEC", arg ? arg : "");
    char *spec = strdup(eq + 1);
    ax->name = strndup(arg, (size_t)(eq - arg));
    if (!spec || !ax->name) {
        free(spec);
        ss_sweep_axis_release(ax);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    char *f[5];
    size_t cap = 0, nf = split_fields(spec, f, 5), npts = 0;
    double a = 0, b = 0;
    int rc = SS_OK;
    const char *kind = f[0];
    if (nf == 1) { /* one number */
        rc = number(arg, f[0], &a, err);
        if (!rc)
            rc = push_value(ax, &cap, a);
    } else if (!strcasecmp(kind, "lin") || !strcasecmp(kind, "log") ||
               !strcasecmp(kind, "dec")) {
        if (nf != 4)
            rc = ss_error_set(err, SS_EINVAL, "'%s': expected %s:START:STOP:%s", arg, kind,
                              strcasecmp(kind, "dec") ? "N" : "PER_DECADE");
        if (!rc)
            rc = number(arg, f[1], &a, err);
        if (!rc)
            rc = number(arg, f[2], &b, err);
        if (!rc)
            rc = count(arg, f[3], &npts, err);
        if (!rc && strcasecmp(kind, "lin") && (a <= 0) != (b <= 0))
            rc = ss_error_set(err, SS_EINVAL, "'%s': START and STOP need the same sign", arg);
        if (!rc && strcasecmp(kind, "lin") && (a == 0 || b == 0))
            rc = ss_error_set(err, SS_EINVAL, "'%s': START and STOP must not be 0", arg);
        if (!rc && !strcasecmp(kind, "lin")) {
            for (size_t i = 0; !rc && i < npts; i++) {
                /* (a*(N-1-i) + b*i)/(N-1): exact ends, one rounding inside. */
                double v = npts == 1 ? a
                                     : (a * (double)(npts - 1 - i) + b * (double)i) /
                                           (double)(npts - 1);
                rc = push_value(ax, &cap, v);
            }
        } else if (!rc && !strcasecmp(kind, "log")) {
            for (size_t i = 0; !rc && i < npts; i++) {
                /* Interpolate the exponent: decades land on exact powers of 10. */
                double la = log10(fabs(a)), lb = log10(fabs(b));
                double e = (la * (double)(npts - 1 - i) + lb * (double)i) / (double)(npts - 1);
                double v = npts == 1 || i == 0 ? a
                           : i == npts - 1     ? b
                                               : copysign(pow(10.0, e), a);
                rc = push_value(ax, &cap, v);
            }
        } else if (!rc) {
            if (fabs(b) < fabs(a))
                rc = ss_error_set(err, SS_EINVAL, "'%s': dec needs |STOP| >= |START|", arg);
            double decades = log10(b / a);
            for (size_t k = 0; !rc; k++) {
                double e = (double)k / (double)npts;
                if (e > decades * (1 + 1e-12) + 1e-12)
                    break;
                double v = k % npts == 0 ? a * pow(10.0, (double)(k / npts)) : a * pow(10.0, e);
                if (ax->n >= MAX_AXIS_POINTS)
                    rc = ss_error_set(err, SS_EINVAL, "'%s': too many points", arg);
                else
                    rc = push_value(ax, &cap, v);
            }
        }
    } else if (!strcasecmp(kind, "list")) {
        /* Re-join: list values may not contain ':' anyway. */
        if (nf != 2)
            rc = ss_error_set(err, SS_EINVAL, "'%s': expected list:a,b,c", arg);
        char *p = nf == 2 ? f[1] : NULL;
        while (!rc && p) {
            char *c = strchr(p, ',');
            if (c)
                *c = '\0';
            rc = number(arg, p, &a, err);
            if (!rc)
                rc = push_value(ax, &cap, a);
            p = c ? c + 1 : NULL;
        }
    } else if (!strcasecmp(kind, "file")) {
        /* The path may contain ':'; take everything after "file:". */
        rc = read_values_file(ax, &cap, arg, eq + 1 + 5, err);
    } else if (!strcasecmp(kind, "gauss") || !strcasecmp(kind, "unif") ||
               !strcasecmp(kind, "lognorm")) {
        ax->kind = SS_SWEEP_AXIS_DIST;
        ax->dist = !strcasecmp(kind, "gauss")  ? SS_SWEEP_GAUSS
                   : !strcasecmp(kind, "unif") ? SS_SWEEP_UNIF
                                               : SS_SWEEP_LOGNORM;
        if (nf != 3)
            rc = ss_error_set(err, SS_EINVAL, "'%s': expected %s:%s", arg, kind,
                              ax->dist == SS_SWEEP_GAUSS  ? "MEAN:SIGMA"
                              : ax->dist == SS_SWEEP_UNIF ? "LO:HI"
                                                          : "MEDIAN:SIGMA");
        if (!rc)
            rc = number(arg, f[1], &ax->a, err);
        if (!rc)
            rc = number(arg, f[2], &ax->b, err);
        if (!rc && ax->dist != SS_SWEEP_UNIF && ax->b < 0)
            rc = ss_error_set(err, SS_EINVAL, "'%s': SIGMA must not be negative", arg);
        if (!rc && ax->dist == SS_SWEEP_UNIF && !(ax->b > ax->a))
            rc = ss_error_set(err, SS_EINVAL, "'%s': HI must be greater than LO", arg);
        if (!rc && ax->dist == SS_SWEEP_LOGNORM && !(ax->a > 0))
            rc = ss_error_set(err, SS_EINVAL, "'%s': MEDIAN must be positive", arg);
    } else {
        rc = ss_error_set(err, SS_EINVAL,
                          "'%s': unknown axis '%s' (lin, log, dec, list, file, gauss, unif, "
                          "lognorm)",
                          arg, kind);
    }
    free(spec);
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory");
    if (!rc && ax->kind == SS_SWEEP_AXIS_VALUES && !ax->n)
        rc = ss_error_set(err, SS_EINVAL, "'%s': no values", arg);
    if (rc)
        ss_sweep_axis_release(ax);
    return rc;
}

void ss_sweep_axis_release(ss_sweep_axis *ax)
{
    if (!ax)
        return;
    free(ax->name);
    free(ax->values);
    memset(ax, 0, sizeof *ax);
}

double ss_sweep_axis_quantile(const ss_sweep_axis *ax, double p)
{
    switch (ax->dist) {
    case SS_SWEEP_GAUSS:
        return ax->a + gsl_cdf_gaussian_Pinv(p, ax->b);
    case SS_SWEEP_UNIF:
        return ax->a + p * (ax->b - ax->a);
    default:
        return ax->a * exp(gsl_cdf_gaussian_Pinv(p, ax->b));
    }
}

/* ---- designs ---------------------------------------------------------------- */

void ss_sweep_design_release(ss_sweep_design *d)
{
    if (!d)
        return;
    free(d->values);
    free(d->seeds);
    memset(d, 0, sizeof *d);
}

/* a * b with a limit of 2^32 jobs. */
static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (b && a > ((size_t)1 << 32) / b)
        return 0;
    *out = a * b;
    return 1;
}

int ss_sweep_design_build(ss_sweep_design *d, const ss_sweep_axis *axes, size_t naxes, int mode,
                          size_t samples, uint64_t seed, ss_error *err)
{
    memset(d, 0, sizeof *d);
    size_t ndist = 0, points = 1, zip_n = 0;
    int zip = mode == SS_SWEEP_ZIP;
    int sampled = mode == SS_SWEEP_LHS || mode == SS_SWEEP_MC;
    for (size_t k = 0; k < naxes; k++) {
        if (axes[k].kind == SS_SWEEP_AXIS_DIST) {
            ndist++;
            continue;
        }
        if (zip) {
            if (zip_n && axes[k].n != zip_n)
                return ss_error_set(err, SS_EINVAL,
                                    "--zip: axis '%s' has %zu values, '%s' has %zu", axes[k].name,
                                    axes[k].n, axes[0].name, zip_n);
            zip_n = axes[k].n;
        } else if (!mul_ok(points, axes[k].n, &points)) {
            return ss_error_set(err, SS_EINVAL, "sweep too large (more than 2^32 jobs)");
        }
    }
    if (zip)
        points = zip_n ? zip_n : 1;
    if (ndist && !sampled)
        return ss_error_set(err, SS_EINVAL,
                            "distribution axes (gauss, unif, lognorm) need --lhs N or --mc N");
    if (sampled && !ndist)
        return ss_error_set(err, SS_EINVAL, "--lhs/--mc need a distribution axis");
    if (sampled && !samples)
        return ss_error_set(err, SS_EINVAL, "--lhs/--mc need N >= 1 samples");
    size_t per = sampled ? samples : 1, njobs;
    if (!mul_ok(points, per, &njobs))
        return ss_error_set(err, SS_EINVAL, "sweep too large (more than 2^32 jobs)");
    int lim = ss_util_limit_check(SS_LIMIT_JOBS, (double)njobs, err, "sweep: %zu points x %zu samples",
                                  points, per);
    if (lim)
        return lim;
    d->nparam = naxes;
    d->njobs = njobs;
    d->values = calloc(njobs * (naxes ? naxes : 1), sizeof *d->values);
    d->seeds = calloc(njobs, sizeof *d->seeds);
    size_t *perm = sampled ? calloc(samples, sizeof *perm) : NULL;
    double *lhs = mode == SS_SWEEP_LHS ? calloc(samples * ndist, sizeof *lhs) : NULL;
    gsl_rng *rng = sampled ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    int rc = SS_OK;
    if (!d->values || !d->seeds || (sampled && (!perm || !rng)) ||
        (mode == SS_SWEEP_LHS && !lhs)) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory building %zu jobs", njobs);
        goto out;
    }
    for (size_t j = 0; j < njobs; j++)
        d->seeds[j] = ss_sweep_job_seed(seed, j);
    /* LHS: per distribution axis, a permutation of the strata (from the
     * sweep seed and the axis) and one uniform offset per sample (from the
     * sample's seed): probability (perm[s] + u) / N. */
    if (mode == SS_SWEEP_LHS) {
        size_t di = 0;
        for (size_t k = 0; k < naxes; k++) {
            if (axes[k].kind != SS_SWEEP_AXIS_DIST)
                continue;
            gsl_rng_set(rng, (unsigned long)ss_sweep_job_seed(seed ^ 0x5bd1e995ULL, k));
            for (size_t s = 0; s < samples; s++)
                perm[s] = s;
            gsl_ran_shuffle(rng, perm, samples, sizeof *perm);
            for (size_t s = 0; s < samples; s++) {
                gsl_rng_set(rng, (unsigned long)ss_sweep_job_seed(seed, s * naxes + k + 1));
                double u = gsl_rng_uniform_pos(rng);
                lhs[s * ndist + di] = ((double)perm[s] + u) / (double)samples;
            }
            di++;
        }
    }
    for (size_t j = 0; j < njobs; j++) {
        size_t point = j / per, sample = j % per, rest = point;
        double *row = d->values + j * naxes;
        /* Grid digits: the last value axis varies fastest. */
        for (size_t k = naxes; k-- > 0;) {
            if (axes[k].kind == SS_SWEEP_AXIS_DIST)
                continue;
            if (zip) {
                row[k] = axes[k].values[point];
            } else {
                row[k] = axes[k].values[rest % axes[k].n];
                rest /= axes[k].n;
            }
        }
        if (!sampled)
            continue;
        if (mode == SS_SWEEP_MC)
            gsl_rng_set(rng, (unsigned long)d->seeds[j]);
        size_t di = 0;
        for (size_t k = 0; k < naxes; k++) {
            if (axes[k].kind != SS_SWEEP_AXIS_DIST)
                continue;
            double p = mode == SS_SWEEP_LHS ? lhs[sample * ndist + di]
                                            : gsl_rng_uniform_pos(rng);
            row[k] = ss_sweep_axis_quantile(&axes[k], p);
            di++;
        }
    }
out:
    free(perm);
    free(lhs);
    if (rng)
        gsl_rng_free(rng);
    if (rc)
        ss_sweep_design_release(d);
    return rc;
}
