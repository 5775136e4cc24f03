/* analysis.c: analysis lines that cannot give a result, checked before
 * ngspice sees them.
 *
 * Measured with ngspice 39 (ngspice -b and the shared library):
 *   .dc V1 0 1 0       loops for ever ("Reference value : 0" without end);
 *   .dc V1 0 1 -0.1    runs, gives no points ("No. of Data Rows : 0"), exit 0;
 *   .ac dec 10 10 1    gives no points, exit 0;
 *   .tran 1u 1e300     runs until killed.
 * So a step of 0 or of the wrong sign, a frequency range that runs
 * backwards, and more points than SS_LIMIT_STEPS are refused here with
 * file:line.  Values given as expressions are left to ngspice, except a
 * top-level .param with a plain number ("{step}" or "step"). */
#include "netlists/ss_netlist.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOK 16

/* Whitespace-separated tokens of s (modified in place); '=' and ',' and
 * parentheses separate too. */
static size_t tokens(char *s, char **tok)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, " \t\r\f\v=,()", &save); t && n < MAX_TOK;
         t = strtok_r(NULL, " \t\r\f\v=,()", &save))
        tok[n++] = t;
    return n;
}

/* A number, or a top-level .param whose value is one.  0 when unknown. */
static int value(const ss_netlist_param *pp, size_t np, const char *tok, double *out)
{
    char name[128];
    if (!ss_util_parse_spice_number(tok, out))
        return isfinite(*out);
    size_t len = strlen(tok);
    if (len >= 2 && tok[0] == '{' && tok[len - 1] == '}') {
        tok++;
        len -= 2;
    }
    if (len == 0 || len >= sizeof name)
        return 0;
    memcpy(name, tok, len);
    name[len] = '\0';
    for (size_t k = np; k-- > 0;) /* the last assignment wins */
        if (!strcasecmp(pp[k].name, name))
            return !ss_util_parse_spice_number(pp[k].value, out) && isfinite(*out);
    return 0;
}

static int bad(ss_error *err, const ss_netlist_line *l, const char *stmt, const char *why)
{
    return ss_error_set(err, SS_EINVAL, "%s:%d: '%s': %s", l->file, l->line, stmt, why);
}

/* One .dc sweep: source start stop step. */
static int check_dc(ss_error *err, const ss_netlist_line *l, const char *stmt, double a,
                    double b, double step)
{
    if (step == 0)
        return bad(err, l, stmt, "a step of 0 never reaches the stop value (ngspice loops for ever)");
    if ((b - a) * step < 0)
        return bad(err, l, stmt,
                   b > a ? "the step is negative, so the sweep never runs from start up to stop "
                           "(ngspice gives no points); make the step positive"
                         : "the step is positive, so the sweep never runs from start down to stop "
                           "(ngspice gives no points); make the step negative");
    return ss_util_limit_check(SS_LIMIT_STEPS, fabs((b - a) / step) + 1, err, "%s:%d: '%s': points",
                               l->file, l->line, stmt);
}

static int check_one(const ss_netlist_param *pp, size_t np, const ss_netlist_line *l,
                     const char *stmt, ss_error *err)
{
    char *copy = strdup(stmt), *tok[MAX_TOK];
    if (!copy)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    size_t n = tokens(copy, tok);
    double v[4];
    int rc = SS_OK;
    if (n >= 5 && !strcasecmp(tok[0], ".dc")) {
        /* .dc SRC START STOP STEP [SRC2 START2 STOP2 STEP2] */
        for (size_t k = 1; !rc && k + 3 < n && k <= 5; k += 4)
            if (value(pp, np, tok[k + 1], &v[0]) && value(pp, np, tok[k + 2], &v[1]) &&
                value(pp, np, tok[k + 3], &v[2]))
                rc = check_dc(err, l, stmt, v[0], v[1], v[2]);
    } else if (n >= 5 && !strcasecmp(tok[0], ".ac")) {
        /* .ac DEC|OCT|LIN N FSTART FSTOP */
        int lin = !strcasecmp(tok[1], "lin");
        if (value(pp, np, tok[2], &v[0]) && value(pp, np, tok[3], &v[1]) &&
            value(pp, np, tok[4], &v[2])) {
            if (v[1] > v[2])
                rc = bad(err, l, stmt, "the start frequency is above the stop frequency "
                                       "(ngspice gives no points)");
            else if (!lin && !(v[1] > 0))
                rc = bad(err, l, stmt, "a logarithmic sweep needs a start frequency above 0");
            else {
                double pts = lin ? v[0]
                             : !strcasecmp(tok[1], "oct") ? v[0] * log2(v[2] / v[1]) + 1
                                                          : v[0] * log10(v[2] / v[1]) + 1;
                rc = ss_util_limit_check(SS_LIMIT_STEPS, pts, err, "%s:%d: '%s': points",
                                         l->file, l->line, stmt);
            }
        }
    } else if (n >= 3 && !strcasecmp(tok[0], ".tran")) {
        /* .tran TSTEP TSTOP [TSTART [TMAX]] [UIC]: ngspice takes steps of
         * at most min(TSTEP, TMAX) to report every TSTEP */
        if (value(pp, np, tok[1], &v[0]) && value(pp, np, tok[2], &v[1]) && v[0] > 0 &&
            v[1] > 0) {
            double step = v[0];
            if (n >= 5 && value(pp, np, tok[4], &v[3]) && v[3] > 0 && v[3] < step)
                step = v[3];
            rc = ss_util_limit_check(SS_LIMIT_STEPS, v[1] / step, err,
                                     "%s:%d: '%s': time steps (stop time / step)", l->file,
                                     l->line, stmt);
        }
    }
    free(copy);
    return rc;
}

int ss_netlist_check_analyses(const ss_netlist *nl, ss_error *err)
{
    ss_netlist_param *pp = NULL;
    size_t np = 0, next;
    int rc = ss_netlist_params(nl, &pp, &np, NULL), in_control = 0;
    if (rc) { /* the params are a convenience: check with numbers alone */
        pp = NULL;
        np = 0;
        rc = SS_OK;
    }
    for (size_t i = 1; i < nl->n && rc != SS_ENOMEM; i = next) {
        int kind = ss_netlist_classify(nl->lines[i].text);
        next = i + 1;
        if (kind == SS_NETLIST_CONTROL || kind == SS_NETLIST_ENDC)
            in_control = kind == SS_NETLIST_CONTROL;
        const char *t = nl->lines[i].text;
        while (isspace((unsigned char)*t))
            t++;
        if (in_control || kind != SS_NETLIST_OTHER || *t != '.' ||
            (strncasecmp(t, ".dc", 3) && strncasecmp(t, ".ac", 3) && strncasecmp(t, ".tran", 5)))
            continue;
        char *stmt = NULL;
        if (ss_netlist_statement(nl, i, &stmt, &next)) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
        rc = check_one(pp, np, &nl->lines[i], stmt, err);
        free(stmt);
        if (rc)
            break;
    }
    ss_netlist_params_free(pp, np);
    return rc == SS_ENOMEM || rc == SS_EINVAL ? rc : SS_OK;
}
