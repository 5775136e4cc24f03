/* devices_private.h: internals shared by the files of devices/ (not installed).
 *
 * Model equations are written once with a tiny forward-mode dual number
 * (value and its partial derivatives in v and x), so the derivatives the
 * crossbar and CVODE need are exact and cannot drift from the values.  The
 * smooth helper functions here have ngspice twins in DEVI_SPICE_FUNCS, which
 * every emitted subcircuit defines with .func; keep both in step. */
#ifndef SS_DEVICES_PRIVATE_H
#define SS_DEVICES_PRIVATE_H

#include <math.h>

#include "devices/ss_devices.h"

typedef struct devi_num {
    double f, v, x; /* value, d/dv, d/dx */
} devi_num;

static inline devi_num devi_c(double c) { return (devi_num){c, 0.0, 0.0}; }
static inline devi_num devi_add(devi_num a, devi_num b) { return (devi_num){a.f + b.f, a.v + b.v, a.x + b.x}; }
static inline devi_num devi_sub(devi_num a, devi_num b) { return (devi_num){a.f - b.f, a.v - b.v, a.x - b.x}; }
static inline devi_num devi_addc(devi_num a, double c) { return (devi_num){a.f + c, a.v, a.x}; }
static inline devi_num devi_scale(devi_num a, double c) { return (devi_num){a.f * c, a.v * c, a.x * c}; }
static inline devi_num devi_mul(devi_num a, devi_num b)
{
    return (devi_num){a.f * b.f, a.v * b.f + a.f * b.v, a.x * b.f + a.f * b.x};
}
/* Applies a scalar function with value f and slope df at a. */
static inline devi_num devi_chain(devi_num a, double f, double df)
{
    return (devi_num){f, df * a.v, df * a.x};
}
static inline devi_num devi_exp(devi_num a)
{
    double e = exp(a.f);
    return devi_chain(a, e, e);
}

/* exp continued linearly above SS_DEVICE_EXP_LIMIT (value and slope match). */
static inline devi_num devi_lexp(devi_num a)
{
    if (a.f <= SS_DEVICE_EXP_LIMIT)
        return devi_exp(a);
    double e = exp(SS_DEVICE_EXP_LIMIT);
    return devi_chain(a, e * (1.0 + a.f - SS_DEVICE_EXP_LIMIT), e);
}
/* lexp(a) - 1, accurate near 0. */
static inline devi_num devi_lexpm1(devi_num a)
{
    if (a.f <= SS_DEVICE_EXP_LIMIT)
        return devi_chain(a, expm1(a.f), exp(a.f));
    return devi_addc(devi_lexp(a), -1.0);
}
/* (lexp(a) - lexp(-a))/2: sinh itself within the limit (the difference of
 * exponentials loses ~1e-12 relative precision for small a), continued
 * linearly beyond it. */
static inline devi_num devi_lsinh(devi_num a)
{
    if (fabs(a.f) <= SS_DEVICE_EXP_LIMIT)
        return devi_chain(a, sinh(a.f), cosh(a.f));
    return devi_scale(devi_sub(devi_lexp(a), devi_lexp(devi_scale(a, -1.0))), 0.5);
}
/* Softplus ramp of width w: w*ln(1 + exp(a/w)), a smooth max(a, 0) whose
 * slope is the logistic step of the same width. */
static inline devi_num devi_softplus(devi_num a, double w)
{
    double z = a.f / w, f, s;
    if (z > 0) {
        double e = exp(-z);
        f = a.f + w * log1p(e);
        s = 1.0 / (1.0 + e);
    } else {
        double e = exp(z);
        f = w * log1p(e);
        s = e / (1.0 + e);
    }
    return devi_chain(a, f, s);
}
/* Logistic step of width w: 1/(1 + exp(-a/w)). */
static inline devi_num devi_step(devi_num a, double w)
{
    double z = a.f / w, t;
    if (z >= 0)
        t = 1.0 / (1.0 + exp(-z));
    else {
        double e = exp(z);
        t = e / (1.0 + e);
    }
    return devi_chain(a, t, t * (1.0 - t) / w);
}
/* Hard step: 1 if a >= 0 else 0 (or a > 0 with strict). */
static inline devi_num devi_hstep(devi_num a, int strict)
{
    return devi_c(strict ? (a.f > 0) : (a.f >= 0));
}
/* a^p for a >= 0 (0 for a <= 0), p >= 1. */
static inline devi_num devi_pow(devi_num a, double p)
{
    if (a.f <= 0)
        return devi_c(0.0);
    double f;
    if (p == 1.0)
        return a;
    if (p == 2.0)
        f = a.f * a.f;
    else if (p == 3.0)
        f = a.f * a.f * a.f;
    else
        f = pow(a.f, p);
    return devi_chain(a, f, p * f / a.f);
}
/* C2 smootherstep on [0, 1]: 0 below, 1 above. */
static inline devi_num devi_sstep(devi_num s)
{
    if (s.f <= 0)
        return devi_c(0.0);
    if (s.f >= 1)
        return devi_c(1.0);
    double t = s.f;
    return devi_chain(s, t * t * t * (t * (6 * t - 15) + 10), 30 * t * t * (t - 1) * (t - 1));
}
/* Voltage clamp to +-SS_DEVICE_VCLAMP. */
static inline devi_num devi_vclamp(devi_num v)
{
    if (v.f > SS_DEVICE_VCLAMP)
        return devi_c(SS_DEVICE_VCLAMP);
    if (v.f < -SS_DEVICE_VCLAMP)
        return devi_c(-SS_DEVICE_VCLAMP);
    return v;
}

/* State clamp to [-1, 2] where the state enters exp, pow or a product
 * (outside [0, 1] only during Newton iterations or by tolerance). */
static inline devi_num devi_xclamp(devi_num x)
{
    if (x.f > 2.0)
        return devi_c(2.0);
    if (x.f < -1.0)
        return devi_c(-1.0);
    return x;
}

/* ngspice twins of the helpers above (the limits are SS_DEVICE_EXP_LIMIT
 * and SS_DEVICE_VCLAMP written out). */
#define DEVI_SPICE_FUNCS                                                                 \
    ".func ss_sp(z,w) = (z > 0 ? z + w*ln(1 + exp(-z/w)) : w*ln(1 + exp(z/w)))\n"       \
    ".func ss_th(z,w) = (z >= 0 ? 1/(1 + exp(-z/w)) : exp(z/w)/(1 + exp(z/w)))\n"       \
    ".func ss_lexp(z) = (z <= 40 ? exp(z) : exp(40)*(1 + z - 40))\n"                    \
    ".func ss_lsinh(z) = (abs(z) <= 40 ? sinh(z) : (ss_lexp(z) - ss_lexp(-z))/2)\n"     \
    ".func ss_pw(a,p) = (a > 0 ? pow(a,p) : 0)\n"                                       \
    ".func ss_sst(s) = (s <= 0 ? 0 : (s >= 1 ? 1 : s*s*s*(s*(6*s - 15) + 10)))\n"       \
    ".func ss_vc(v) = (v > 1000 ? 1000 : (v < -1000 ? -1000 : v))\n"                   \
    ".func ss_xc(x) = (x > 2 ? 2 : (x < -1 ? -1 : x))\n"

/* Internal to the library (not exported from libsmallsim.so). */
#define DEVI_HIDDEN __attribute__((visibility("hidden")))

/* The model type objects (ss_device_vteam etc. point at them). */
DEVI_HIDDEN extern const ss_device_type devi_vteam_type;
DEVI_HIDDEN extern const ss_device_type devi_yakopcic_type;
DEVI_HIDDEN extern const ss_device_type devi_yakopcic2020_type;

/* Parameter checks shared by the models; the message names the parameter.
 * devi_check_range: lo <= value <= hi, with open ends when open_lo/open_hi. */
DEVI_HIDDEN int devi_check_range(const ss_device *d, int idx, double lo, double hi, int open_lo,
                                 int open_hi, ss_error *err);
/* value > 0 */
DEVI_HIDDEN int devi_check_positive(const ss_device *d, int idx, ss_error *err);
/* value < 0 */
DEVI_HIDDEN int devi_check_negative(const ss_device *d, int idx, ss_error *err);

#endif
