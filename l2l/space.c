/* space.c: parameter spaces: checks, and the map between real values and
 * the normalised [0, 1] coordinates the optimizers work in. */
#include "l2l/l2l_private.h"

#include <math.h>
#include <string.h>

int ss_l2l_space_check(const ss_l2l_param *p, size_t n, ss_error *err)
{
    if (!n)
        return ss_error_set(err, SS_EINVAL, "the parameter space is empty");
    for (size_t i = 0; i < n; i++) {
        const char *name = p[i].name;
        size_t len = strnlen(name, SS_L2L_NAME_MAX);
        if (!len || len == SS_L2L_NAME_MAX)
            return ss_error_set(err, SS_EINVAL, "parameter %zu: name is empty or too long", i + 1);
        if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
            return ss_error_set(err, SS_EINVAL, "parameter '%s': names may hold only letters, "
                                "digits, '_', '.' and '-'", name);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(p[k].name, name))
                return ss_error_set(err, SS_EINVAL, "parameter '%s' is defined twice", name);
        if (!isfinite(p[i].lo) || !isfinite(p[i].hi) || !(p[i].lo < p[i].hi))
            return ss_error_set(err, SS_EINVAL, "parameter '%s': bounds [%g, %g] are not finite "
                                "with lo < hi", name, p[i].lo, p[i].hi);
        if ((p[i].flags & SS_L2L_LOG) && p[i].lo <= 0)
            return ss_error_set(err, SS_EINVAL, "parameter '%s': log scale needs lo > 0, not %g",
                                name, p[i].lo);
        if (!(p[i].init >= p[i].lo && p[i].init <= p[i].hi))
            return ss_error_set(err, SS_EINVAL, "parameter '%s': initial value %g is outside "
                                "[%g, %g]", name, p[i].init, p[i].lo, p[i].hi);
        if (p[i].flags & ~(unsigned)(SS_L2L_LOG | SS_L2L_FIXED))
            return ss_error_set(err, SS_EINVAL, "parameter '%s': unknown flags 0x%x", name,
                                p[i].flags);
    }
    if (!ss_l2l_space_nfree(p, n))
        return ss_error_set(err, SS_EINVAL, "every parameter is fixed: nothing to optimise");
    return SS_OK;
}

size_t ss_l2l_space_nfree(const ss_l2l_param *p, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += !(p[i].flags & SS_L2L_FIXED);
    return k;
}

double ss_l2l_reflect(double u)
{
    if (u >= 0 && u <= 1)
        return u;
    if (!isfinite(u))
        return 0.5;
    double y = fmod(u, 2.0);
    if (y < 0)
        y += 2.0;
    return y > 1 ? 2.0 - y : y;
}

void ss_l2l_space_decode(const ss_l2l_param *p, size_t n, const double *u, double *x)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].flags & SS_L2L_FIXED) {
            x[i] = p[i].init;
            continue;
        }
        double t = ss_l2l_reflect(u[k++]);
        double v;
        if (p[i].flags & SS_L2L_LOG)
            v = exp(log(p[i].lo) + t * (log(p[i].hi) - log(p[i].lo)));
        else
            v = p[i].lo + t * (p[i].hi - p[i].lo);
        /* rounding must not leave the box */
        x[i] = v < p[i].lo ? p[i].lo : v > p[i].hi ? p[i].hi : v;
    }
}

void ss_l2l_space_encode(const ss_l2l_param *p, size_t n, const double *x, double *u)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].flags & SS_L2L_FIXED)
            continue;
        double v = x[i] < p[i].lo ? p[i].lo : x[i] > p[i].hi ? p[i].hi : x[i];
        double t;
        if (p[i].flags & SS_L2L_LOG)
            t = (log(v) - log(p[i].lo)) / (log(p[i].hi) - log(p[i].lo));
        else
            t = (v - p[i].lo) / (p[i].hi - p[i].lo);
        u[k++] = t < 0 ? 0 : t > 1 ? 1 : t;
    }
}
