/* pwl.c: piecewise-linear waveforms (ngspice's PWL): parsing, values and
 * the ngspice source text. */
#include "cosim/devsim/ss_devsim.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ss_pwl_parse(ss_pwl *w, const char *text, ss_error *err)
{
    memset(w, 0, sizeof *w);
    size_t cap = 0;
    const char *s = text;
    double pair[2];
    int k = 0;
    for (;;) {
        while (isspace((unsigned char)*s) || *s == ',')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && !isspace((unsigned char)*e) && *e != ',')
            e++;
        char tok[64];
        if ((size_t)(e - s) >= sizeof tok) {
            ss_pwl_release(w);
            return ss_error_set(err, SS_EPARSE, "'%.20s...' is too long for a number", s);
        }
        snprintf(tok, sizeof tok, "%.*s", (int)(e - s), s);
        if (ss_util_parse_spice_number(tok, &pair[k])) {
            ss_pwl_release(w);
            return ss_error_set(err, SS_EPARSE, "'%s' is not a number", tok);
        }
        s = e;
        if (++k < 2)
            continue;
        k = 0;
        if (w->n && !(pair[0] > w->t[w->n - 1])) {
            ss_pwl_release(w);
            return ss_error_set(err, SS_EPARSE, "times must increase (%g after %g)", pair[0],
                                w->t ? w->t[w->n - 1] : 0.0);
        }
        if (pair[0] < 0) {
            ss_pwl_release(w);
            return ss_error_set(err, SS_EPARSE, "negative time %g", pair[0]);
        }
        if (w->n == cap) {
            cap = cap ? 2 * cap : 8;
            double *t = realloc(w->t, cap * sizeof *t), *v;
            if (!t) {
                ss_pwl_release(w);
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            }
            w->t = t;
            if (!(v = realloc(w->v, cap * sizeof *v))) {
                ss_pwl_release(w);
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            }
            w->v = v;
        }
        w->t[w->n] = pair[0];
        w->v[w->n++] = pair[1];
    }
    if (k)
        return ss_pwl_release(w), ss_error_set(err, SS_EPARSE, "time without a value");
    if (!w->n)
        return ss_error_set(err, SS_EPARSE, "no time-value pairs");
    return SS_OK;
}

double ss_pwl_value(const ss_pwl *w, double t)
{
    if (t <= w->t[0])
        return w->v[0];
    if (t >= w->t[w->n - 1])
        return w->v[w->n - 1];
    size_t lo = 0, hi = w->n - 1;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (w->t[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return w->v[lo] + (w->v[hi] - w->v[lo]) * (t - w->t[lo]) / (w->t[hi] - w->t[lo]);
}

int ss_pwl_spice(const ss_pwl *w, ss_buf *out)
{
    int rc = ss_buf_add(out, "PWL(", 4);
    for (size_t k = 0; !rc && k < w->n; k++)
        rc = ss_buf_printf(out, "%s%.17g %.17g", k ? " " : "", w->t[k], w->v[k]);
    return rc || ss_buf_add(out, ")", 1) ? SS_ENOMEM : SS_OK;
}

void ss_pwl_release(ss_pwl *w)
{
    free(w->t);
    free(w->v);
    memset(w, 0, sizeof *w);
}

ss_pwl *ss_pwl_read_lines(const char *path, size_t n, const char *what, ss_error *err)
{
    char *text = NULL;
    if (ss_util_read_file(path, &text, NULL, err))
        return NULL;
    ss_pwl *w = calloc(n ? n : 1, sizeof *w);
    size_t got = 0;
    int lineno = 0, rc = w ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (char *p = text, *next; !rc && p && *p; p = next) {
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#' || *p == '\r')
            continue;
        if (got == n)
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: more waveforms than the %zu %s", path, lineno,
                              n, what);
        else if ((rc = ss_pwl_parse(&w[got], p, err)))
            ss_error_prefix(err, rc, "%s:%d", path, lineno);
        else
            got++;
    }
    free(text);
    if (!rc && got != n)
        rc = ss_error_set(err, SS_EPARSE, "%s: %zu waveforms, but the crossbar has %zu %s", path, got,
                          n, what);
    if (rc) {
        ss_pwl_free_array(w, n);
        return NULL;
    }
    return w;
}

void ss_pwl_free_array(ss_pwl *w, size_t n)
{
    for (size_t i = 0; w && i < n; i++)
        ss_pwl_release(&w[i]);
    free(w);
}
