/* expr.c: the value of a SPICE parameter expression, as ngspice's numparam
 * evaluates `{...}` and '...' values: numbers with scale factors (1.5u,
 * 2meg), parameters, + - * / % ^ **, comparisons, && || !, the ?: choice,
 * parentheses and the usual functions.  Pure text: parameters come from a
 * lookup the caller gives. */
#include "netlists/ss_netlist.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 64

struct parser {
    const char *s, *p;
    ss_netlist_lookup lookup;
    void *user;
    ss_error *err;
    int depth;
    int rc;
};

static double fail(struct parser *x, int code, const char *fmt, const char *arg)
{
    if (!x->rc)
        x->rc = ss_error_set(x->err, code, fmt, arg, x->s);
    return NAN;
}

static void blank(struct parser *x)
{
    while (isspace((unsigned char)*x->p))
        x->p++;
}

/* Consumes `tok` if it comes next (after white space). */
static int take(struct parser *x, const char *tok)
{
    blank(x);
    size_t n = strlen(tok);
    if (strncmp(x->p, tok, n))
        return 0;
    x->p += n;
    return 1;
}

static double expr(struct parser *x);

static double number(struct parser *x)
{
    const char *b = x->p;
    while (isdigit((unsigned char)*x->p) || *x->p == '.')
        x->p++;
    if ((*x->p == 'e' || *x->p == 'E') &&
        (isdigit((unsigned char)x->p[1]) ||
         ((x->p[1] == '+' || x->p[1] == '-') && isdigit((unsigned char)x->p[2])))) {
        x->p += 2;
        while (isdigit((unsigned char)*x->p))
            x->p++;
    }
    while (isalpha((unsigned char)*x->p)) /* scale factor and unit */
        x->p++;
    char tok[64];
    double v;
    size_t n = (size_t)(x->p - b);
    if (n >= sizeof tok)
        return fail(x, SS_EPARSE, "number too long in '%s%.0s'", x->s);
    memcpy(tok, b, n);
    tok[n] = '\0';
    if (ss_util_parse_spice_number(tok, &v))
        return fail(x, SS_EPARSE, "'%s' is not a number (in '%s')", tok);
    return v;
}

static double call(struct parser *x, const char *f, const double *a, size_t n)
{
    static const struct {
        const char *name;
        double (*fn)(double);
    } one[] = {{"sqrt", sqrt}, {"exp", exp},   {"ln", log},     {"log", log},
               {"log10", log10}, {"abs", fabs}, {"sin", sin},   {"cos", cos},
               {"tan", tan},   {"asin", asin}, {"acos", acos},  {"atan", atan},
               {"sinh", sinh}, {"cosh", cosh}, {"tanh", tanh},  {"floor", floor},
               {"ceil", ceil}, {"int", trunc}, {"nint", round}};
    for (size_t k = 0; k < sizeof one / sizeof one[0]; k++)
        if (!strcasecmp(f, one[k].name)) {
            if (n != 1)
                return fail(x, SS_EPARSE, "%s() takes one argument (in '%s')", f);
            return one[k].fn(a[0]);
        }
    if (!strcasecmp(f, "sgn") || !strcasecmp(f, "sign")) {
        if (n != 1)
            return fail(x, SS_EPARSE, "%s() takes one argument (in '%s')", f);
        return a[0] > 0 ? 1.0 : a[0] < 0 ? -1.0 : 0.0;
    }
    if (!strcasecmp(f, "pow") || !strcasecmp(f, "pwr") || !strcasecmp(f, "min") ||
        !strcasecmp(f, "max") || !strcasecmp(f, "hypot") || !strcasecmp(f, "atan2")) {
        if (n != 2)
            return fail(x, SS_EPARSE, "%s() takes two arguments (in '%s')", f);
        if (!strcasecmp(f, "pow"))
            return pow(a[0], a[1]);
        if (!strcasecmp(f, "pwr")) /* ngspice: sign(x) |x|^y */
            return copysign(pow(fabs(a[0]), a[1]), a[0]);
        if (!strcasecmp(f, "min"))
            return fmin(a[0], a[1]);
        if (!strcasecmp(f, "max"))
            return fmax(a[0], a[1]);
        if (!strcasecmp(f, "hypot"))
            return hypot(a[0], a[1]);
        return atan2(a[0], a[1]);
    }
    return fail(x, SS_EPARSE, "unknown function '%s' (in '%s')", f);
}

static double primary(struct parser *x)
{
    blank(x);
    if (++x->depth > MAX_DEPTH)
        return fail(x, SS_EPARSE, "expression nested too deeply%s (in '%s')", "");
    double v;
    if (take(x, "(")) {
        v = expr(x);
        if (!take(x, ")"))
            v = fail(x, SS_EPARSE, "missing ')'%s in '%s'", "");
    } else if (isdigit((unsigned char)*x->p) || *x->p == '.') {
        v = number(x);
    } else if (isalpha((unsigned char)*x->p) || *x->p == '_') {
        char name[128];
        size_t n = 0;
        while ((isalnum((unsigned char)*x->p) || *x->p == '_' || *x->p == '.') &&
               n + 1 < sizeof name)
            name[n++] = *x->p++;
        name[n] = '\0';
        if (take(x, "(")) {
            double a[4];
            size_t na = 0;
            if (!take(x, ")")) {
                do {
                    double t = expr(x);
                    if (na < 4)
                        a[na] = t;
                    na++;
                } while (!x->rc && take(x, ","));
                if (!x->rc && !take(x, ")"))
                    fail(x, SS_EPARSE, "missing ')' after the arguments of %s() (in '%s')", name);
            }
            v = x->rc ? NAN : call(x, name, a, na);
        } else if (x->lookup && x->lookup(x->user, name, &v) == SS_OK) {
            /* a parameter */
        } else if (!strcasecmp(name, "pi")) {
            v = M_PI;
        } else {
            v = fail(x, SS_ENOTFOUND, "unknown parameter '%s' (in '%s')", name);
        }
    } else {
        v = fail(x, SS_EPARSE, "unexpected '%.1s' in '%s'", *x->p ? x->p : "end");
    }
    x->depth--;
    return v;
}

/* power: right-associative, binds tighter than unary minus (-2^2 = -4) */
static double power(struct parser *x)
{
    double v = primary(x);
    if (take(x, "**") || take(x, "^")) {
        double e = 0;
        blank(x);
        if (++x->depth > MAX_DEPTH)
            return fail(x, SS_EPARSE, "expression nested too deeply%s (in '%s')", "");
        if (take(x, "-"))
            e = -power(x);
        else
            e = (take(x, "+"), power(x));
        x->depth--;
        v = pow(v, e);
    }
    return v;
}

static double unary(struct parser *x)
{
    blank(x);
    if (++x->depth > MAX_DEPTH)
        return fail(x, SS_EPARSE, "expression nested too deeply%s (in '%s')", "");
    double v;
    if (take(x, "-"))
        v = -unary(x);
    else if (take(x, "+"))
        v = unary(x);
    else if (*x->p == '!' && x->p[1] != '=' && take(x, "!"))
        v = unary(x) == 0.0;
    else
        v = power(x);
    x->depth--;
    return v;
}

static double product(struct parser *x)
{
    double v = unary(x);
    for (;;) {
        blank(x);
        if (*x->p == '*' && x->p[1] != '*') {
            x->p++;
            v *= unary(x);
        } else if (take(x, "/")) {
            v /= unary(x);
        } else if (take(x, "%")) {
            v = fmod(v, unary(x));
        } else {
            return v;
        }
    }
}

static double sum(struct parser *x)
{
    double v = product(x);
    for (;;) {
        if (take(x, "+"))
            v += product(x);
        else if (take(x, "-"))
            v -= product(x);
        else
            return v;
    }
}

static double compare(struct parser *x)
{
    double v = sum(x);
    for (;;) {
        if (take(x, "=="))
            v = v == sum(x);
        else if (take(x, "!="))
            v = v != sum(x);
        else if (take(x, "<="))
            v = v <= sum(x);
        else if (take(x, ">="))
            v = v >= sum(x);
        else if (take(x, "<"))
            v = v < sum(x);
        else if (take(x, ">"))
            v = v > sum(x);
        else
            return v;
    }
}

static double logic(struct parser *x)
{
    double v = compare(x);
    for (;;) {
        if (take(x, "&&")) {
            double w = compare(x);
            v = v != 0.0 && w != 0.0;
        } else if (take(x, "||")) {
            double w = compare(x);
            v = v != 0.0 || w != 0.0;
        } else {
            return v;
        }
    }
}

static double expr(struct parser *x)
{
    if (++x->depth > MAX_DEPTH)
        return fail(x, SS_EPARSE, "expression nested too deeply%s (in '%s')", "");
    double c = logic(x);
    if (take(x, "?")) {
        double a = expr(x);
        if (!take(x, ":"))
            return fail(x, SS_EPARSE, "'?' without ':'%s in '%s'", "");
        double b = expr(x);
        c = c != 0.0 ? a : b;
    }
    x->depth--;
    return c;
}

int ss_netlist_eval(const char *text, ss_netlist_lookup lookup, void *user, double *value,
                    ss_error *err)
{
    if (!text)
        return ss_error_set(err, SS_EINVAL, "no expression");
    /* {expr}, 'expr' and "expr" mean expr */
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    while (n && isspace((unsigned char)*text))
        text++, n--;
    char *s = malloc(n + 1);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    memcpy(s, text, n);
    s[n] = '\0';
    while (n >= 2 && ((s[0] == '{' && s[n - 1] == '}') || (s[0] == '\'' && s[n - 1] == '\'') ||
                      (s[0] == '"' && s[n - 1] == '"'))) {
        memmove(s, s + 1, n - 2);
        s[n -= 2] = '\0';
    }
    struct parser x = {s, s, lookup, user, err, 0, SS_OK};
    double v = expr(&x);
    blank(&x);
    if (!x.rc && *x.p)
        fail(&x, SS_EPARSE, "unexpected '%s' at the end of '%s'", x.p);
    if (!x.rc && !isfinite(v))
        x.rc = ss_error_set(err, SS_ENUMERIC, "'%s' is not a finite number", s);
    if (!x.rc)
        *value = v;
    free(s);
    return x.rc;
}
