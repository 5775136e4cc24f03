/* data.c: reading and checking measured I-V loops (fit/ss_fit.h). */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fit/fit_private.h"

enum { COL_SKIP, COL_T, COL_V, COL_I, COL_R, COL_VD };
#define MAX_COLS 64

void ss_fit_data_release(ss_fit_data *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->t);
    free(d->v);
    free(d->i);
    memset(d, 0, sizeof *d);
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

static int alloc_arrays(ss_fit_data *d, const char *name, size_t n, ss_error *err)
{
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
    int rc = alloc_arrays(d, name, n, err);
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

/* ---- parsing --------------------------------------------------------------- */

static int role_of(const char *name)
{
    char s[64];
    size_t n = 0;
    while (*name && isspace((unsigned char)*name))
        name++;
    while (name[n] && n < sizeof s - 1 && !isspace((unsigned char)name[n]) && name[n] != '(' &&
           name[n] != '[')
        s[n] = (char)tolower((unsigned char)name[n]), n++;
    s[n] = 0;
    if (!strcmp(s, "t") || !strcmp(s, "time") || !strcmp(s, "time_s") || !strcmp(s, "t_s"))
        return COL_T;
    if (!strcmp(s, "v") || !strcmp(s, "vs") || !strcmp(s, "va") || !strcmp(s, "voltage") ||
        !strcmp(s, "v_applied") || !strcmp(s, "vapp") || !strcmp(s, "u"))
        return COL_V;
    if (!strcmp(s, "i") || !strcmp(s, "current") || !strcmp(s, "curr"))
        return COL_I;
    if (!strcmp(s, "r") || !strcmp(s, "rs") || !strcmp(s, "series"))
        return COL_R;
    if (!strcmp(s, "vd") || !strcmp(s, "v_device") || !strcmp(s, "vdev"))
        return COL_VD;
    return COL_SKIP;
}

/* Splits `line` (modified in place) into at most MAX_COLS fields. */
static size_t split(char *line, char delim, char **f)
{
    size_t n = 0;
    char *p = line;
    if (delim == ' ') {
        while (*p) {
            while (*p && isspace((unsigned char)*p))
                p++;
            if (!*p)
                break;
            if (n < MAX_COLS)
                f[n] = p;
            n++;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (*p)
                *p++ = 0;
        }
        return n;
    }
    for (;;) {
        char *e = strchr(p, delim);
        if (e)
            *e = 0;
        while (*p && isspace((unsigned char)*p))
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = 0;
        if (n < MAX_COLS)
            f[n] = p;
        n++;
        if (!e)
            break;
        p = e + 1;
    }
    /* A trailing delimiter ("1,2,") leaves an empty last field: drop it. */
    if (n > 1 && n <= MAX_COLS && !*f[n - 1])
        n--;
    return n;
}

static int parse_num(char *s, char delim, double *out)
{
    if (delim == ';')
        for (char *p = s; *p; p++)
            if (*p == ',')
                *p = '.';
    /* Quoted numbers ("1.5") from spreadsheets. */
    size_t n = strlen(s);
    if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0]) {
        s[n - 1] = 0;
        s++;
    }
    char *end;
    if (!*s)
        return -1;
    *out = strtod(s, &end);
    if (*end)
        return -1;
    return isfinite(*out) ? 0 : 1;
}

static int is_comment(const char *p)
{
    return *p == '#' || *p == '%' || *p == '*' || *p == '!' || (p[0] == '/' && p[1] == '/');
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ss_fit_data_parse(ss_fit_data *d, const char *text, const char *name,
                      const ss_fit_read_options *opt, ss_error *err)
{
    ss_fit_data_release(d);
    ss_fit_read_options def = SS_FIT_READ_OPTIONS_INIT;
    if (!opt)
        opt = &def;
    if (!name)
        name = "data";
    int role[MAX_COLS];
    size_t ncol_roles = 0;
    int have_roles = 0;
    if (opt->columns) {
        char buf[512];
        if (strlen(opt->columns) >= sizeof buf)
            return ss_error_set(err, SS_EINVAL, "columns '%s' too long", opt->columns);
        strcpy(buf, opt->columns);
        char *f[MAX_COLS];
        ncol_roles = split(buf, ',', f);
        if (ncol_roles > MAX_COLS)
            return ss_error_set(err, SS_EINVAL, "columns: at most %d", MAX_COLS);
        for (size_t k = 0; k < ncol_roles; k++)
            role[k] = role_of(f[k]);
        have_roles = 1;
    }

    char *copy = strdup(text ? text : "");
    double *rows = NULL;
    size_t nrows = 0, cap = 0, ncols = 0;
    size_t *lines = NULL;
    int rc = SS_OK;
    char delim = 0;
    if (!copy)
        return ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
    size_t lineno = 0;
    char *save = copy;
    int seen_data = 0;
    for (char *line = copy; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = 0;
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r')
            line[--len] = 0;
        char *p = line;
        if (lineno == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF)
            p += 3; /* UTF-8 byte order mark */
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || is_comment(p))
            continue;
        char ldelim = strchr(p, ';') ? ';' : strchr(p, ',') ? ',' : ' ';
        if (!delim)
            delim = ldelim;
        char *f[MAX_COLS];
        size_t nf = split(p, delim, f);
        if (nf > MAX_COLS) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%zu: more than %d columns", name, lineno,
                              MAX_COLS);
            goto out;
        }
        double vals[MAX_COLS];
        int bad = -1, nonfinite = 0;
        for (size_t k = 0; k < nf; k++) {
            char tmp[128];
            snprintf(tmp, sizeof tmp, "%s", f[k]);
            int r = parse_num(tmp, delim, &vals[k]);
            if (r) {
                bad = (int)k;
                nonfinite = r == 1;
                break;
            }
        }
        if (bad >= 0 && !seen_data && !nonfinite) {
            /* A header: the first non-comment line, not numeric. */
            int numeric = 0;
            for (size_t k = 0; k < nf; k++) {
                double x;
                char tmp[128];
                snprintf(tmp, sizeof tmp, "%s", f[k]);
                numeric += parse_num(tmp, delim, &x) == 0;
            }
            if (numeric == 0 && !have_roles) {
                ncol_roles = nf;
                for (size_t k = 0; k < nf; k++)
                    role[k] = role_of(f[k]);
                have_roles = 1;
                seen_data = 1; /* only one header line */
                continue;
            }
            if (numeric == 0) {
                seen_data = 1;
                continue; /* header, but --columns wins */
            }
        }
        if (bad >= 0) {
            if (nonfinite)
                rc = ss_error_set(err, SS_EPARSE, "%s:%zu: '%s' is not a finite number", name,
                                  lineno, f[bad]);
            else
                rc = ss_error_set(err, SS_EPARSE, "%s:%zu: '%s' is not a number", name, lineno,
                                  f[bad]);
            goto out;
        }
        seen_data = 1;
        if (!ncols)
            ncols = nf;
        if (nf != ncols) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%zu: expected %zu values, found %zu", name,
                              lineno, ncols, nf);
            goto out;
        }
        if (nrows == cap) {
            size_t nc = cap ? 2 * cap : 256;
            double *r2 = realloc(rows, nc * ncols * sizeof *rows);
            size_t *l2 = r2 ? realloc(lines, nc * sizeof *lines) : NULL;
            if (r2)
                rows = r2;
            if (!r2 || !l2) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
                goto out;
            }
            lines = l2;
            cap = nc;
        }
        memcpy(rows + nrows * ncols, vals, ncols * sizeof *vals);
        lines[nrows] = lineno;
        nrows++;
    }
    if (nrows == 0) {
        rc = ss_error_set(err, SS_EPARSE, "%s: no data rows (empty file?)", name);
        goto out;
    }
    if (ncols < 2) {
        rc = ss_error_set(err, SS_EPARSE, "%s: one column only (need voltage and current)", name);
        goto out;
    }
    if (!have_roles) {
        if (ncols == 2) {
            role[0] = COL_V, role[1] = COL_I;
        } else if (ncols == 3) {
            role[0] = COL_T, role[1] = COL_V, role[2] = COL_I;
        } else {
            rc = ss_error_set(err, SS_EINVAL,
                              "%s: %zu columns and no header: say which is which with "
                              "--columns (e.g. t,v,i)",
                              name, ncols);
            goto out;
        }
        ncol_roles = ncols;
    }
    if (ncol_roles != ncols) {
        rc = ss_error_set(err, SS_EINVAL, "%s: %zu columns named (%s) but the file has %zu", name,
                          ncol_roles, opt->columns ? opt->columns : "header", ncols);
        goto out;
    }
    int col[6] = {-1, -1, -1, -1, -1, -1};
    for (size_t k = 0; k < ncols; k++) {
        if (role[k] != COL_SKIP && col[role[k]] >= 0) {
            rc = ss_error_set(err, SS_EINVAL, "%s: column %zu repeats column %d's name", name,
                              k + 1, col[role[k]] + 1);
            goto out;
        }
        if (role[k] != COL_SKIP)
            col[role[k]] = (int)k;
    }
    if (col[COL_V] < 0 || col[COL_I] < 0) {
        rc = ss_error_set(err, SS_EINVAL, "%s: need a voltage (v) and a current (i) column", name);
        goto out;
    }
    int use_t = opt->freq > 0 ? 0 : 1;
    if (use_t && col[COL_T] < 0) {
        rc = ss_error_set(err, SS_EINVAL,
                          "%s: no time column: give the drive frequency (--freq) to reconstruct "
                          "the time over one period",
                          name);
        goto out;
    }
    if ((rc = alloc_arrays(d, name, nrows, err)))
        goto out;
    double scale = opt->current_scale > 0 ? opt->current_scale : 1.0;
    for (size_t k = 0; k < nrows; k++) {
        const double *r = rows + k * ncols;
        d->v[k] = r[col[COL_V]];
        d->i[k] = r[col[COL_I]] * scale;
        if (use_t) {
            d->t[k] = r[col[COL_T]];
            if (k > 0 && !(d->t[k] > d->t[k - 1])) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%zu: time does not increase (%g after %g)",
                                  name, lines[k], d->t[k], d->t[k - 1]);
                goto out;
            }
        } else {
            d->t[k] = (double)k / ((double)nrows * opt->freq);
        }
    }
    if (use_t) {
        double t0 = d->t[0];
        for (size_t k = 0; k < nrows; k++)
            d->t[k] -= t0;
    }
    d->freq = use_t ? 0.0 : opt->freq;
    d->series_r = opt->series_r;
    if (opt->series_column) {
        if (col[COL_R] >= 0) {
            double r0 = rows[col[COL_R]];
            for (size_t k = 0; k < nrows; k++)
                if (fabs(rows[k * ncols + col[COL_R]] - r0) > 1e-9 * fabs(r0)) {
                    rc = ss_error_set(err, SS_EPARSE,
                                      "%s:%zu: the series resistance changes (%g after %g ohm)",
                                      name, lines[k], rows[k * ncols + col[COL_R]], r0);
                    goto out;
                }
            d->series_r = r0;
        } else if (col[COL_VD] >= 0) {
            double imax = 0;
            for (size_t k = 0; k < nrows; k++)
                imax = fmax(imax, fabs(d->i[k]));
            double *rs = malloc(nrows * sizeof *rs);
            size_t m = 0;
            if (!rs) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                goto out;
            }
            for (size_t k = 0; k < nrows; k++)
                if (fabs(d->i[k]) > 0.1 * imax)
                    rs[m++] = (d->v[k] - rows[k * ncols + col[COL_VD]]) / d->i[k];
            qsort(rs, m, sizeof *rs, cmp_double);
            d->series_r = m ? rs[m / 2] : 0.0;
            free(rs);
        } else {
            rc = ss_error_set(err, SS_EINVAL,
                              "%s: --series-column needs an 'r' column or both 'v' and 'vd'",
                              name);
            goto out;
        }
        if (!(d->series_r >= 0) || !isfinite(d->series_r)) {
            rc = ss_error_set(err, SS_EPARSE, "%s: series resistance %g ohm is not >= 0", name,
                              d->series_r);
            goto out;
        }
    }
out:
    if (rc)
        ss_fit_data_release(d);
    free(rows);
    free(lines);
    free(copy);
    return rc;
}

int ss_fit_data_read(ss_fit_data *d, const char *path, const ss_fit_read_options *opt,
                     ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    ss_fit_data_release(d);
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = ss_fit_data_parse(d, text, path, opt, err);
    free(text);
    return rc;
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
    if (d->series_r > 0) {
        double lim = vmax / d->series_r;
        if (imax > 1.5 * lim) {
            double ratio = imax / lim;
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A is implausible: a %.3g V drive behind "
                                "%.3g ohm allows at most %.3g A (%.2g times less)%s",
                                name, imax, vmax, d->series_r, lim, ratio,
                                ratio > 1e4 && ratio < 1e8
                                    ? "; is the current in micro-amps? use --current-scale 1e-6"
                                : ratio >= 1e8 ? "; is the current in nano-amps? use "
                                                 "--current-scale 1e-9"
                                               : "; check the series resistor and the columns");
        }
        if (imax * d->series_r < 1e-9 * vmax)
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A is implausibly small for a %.3g V "
                                "drive behind %.3g ohm; check --current-scale",
                                name, imax, vmax, d->series_r);
    } else {
        if (imax >= 1.0)
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A is implausible for a memristor%s", name,
                                imax,
                                imax < 1e6 ? "; is the current in micro-amps? use "
                                             "--current-scale 1e-6"
                                           : "; check the current unit (--current-scale)");
        if (imax < 1e-15)
            return ss_error_set(err, SS_EINVAL,
                                "%s: current up to %.3g A is implausibly small; check "
                                "--current-scale",
                                name, imax);
    }
    return SS_OK;
}
