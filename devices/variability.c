/* variability.c: device-to-device spread, cycle-to-cycle programming noise,
 * read noise, stuck-at faults, finite conductance levels and retention
 * drift, as plain data plus functions a crossbar applies per device.  All
 * randomness comes from a caller-owned, caller-seeded GSL generator, so a
 * run is reproducible from its seed and the order of calls. */
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "devices/devices_private.h"

void ss_device_variation_init(ss_device_variation *var)
{
    memset(var, 0, sizeof *var);
    var->v_read = 0.1;
    var->retention_tau = INFINITY;
}

void ss_device_variation_literature(ss_device_variation *var, const ss_device_type *type)
{
    ss_device_variation_init(var);
    /* ln-sigma 0.25 on both resistances (joksas nonidealities.py); for the
     * Yakopcic models the current scales play the part of 1/R. */
    if (type == ss_device_yakopcic) {
        ss_device_variation_add_spread(var, "a1", 0.25, NULL);
        ss_device_variation_add_spread(var, "a2", 0.25, NULL);
    } else if (type == ss_device_yakopcic2020) {
        ss_device_variation_add_spread(var, "gmax_p", 0.25, NULL);
        ss_device_variation_add_spread(var, "gmax_n", 0.25, NULL);
        ss_device_variation_add_spread(var, "gmin_p", 0.25, NULL);
        ss_device_variation_add_spread(var, "gmin_n", 0.25, NULL);
    } else {
        ss_device_variation_add_spread(var, "r_on", 0.25, NULL);
        ss_device_variation_add_spread(var, "r_off", 0.25, NULL);
    }
    var->p_stuck_on = 0.0904;  /* SA1, 4 Mb HfO2 RRAM (Chen et al., IEEE TC 2015) [check] */
    var->p_stuck_off = 0.0175; /* SA0, same source [check] */
    var->c2c_sigma = 0.0139;   /* gradual TiOx, Nat. Commun. 2022 s41467-022-30539-6 */
    var->read_sigma = 0.01;    /* aihwkit noise/reram.py: ~1 % additive */
    var->levels = 100;         /* NeuroSim Ag:a-Si: 97/100 levels */
}

int ss_device_variation_add_spread(ss_device_variation *var, const char *name, double sigma,
                                   ss_error *err)
{
    if (!name || !*name || strlen(name) >= sizeof var->spread[0].name)
        return ss_error_set(err, SS_EINVAL, "bad spread parameter name '%s'", name ? name : "");
    if (!(sigma >= 0) || !isfinite(sigma))
        return ss_error_set(err, SS_EINVAL, "spread of '%s' must be >= 0 (got %g)", name, sigma);
    for (size_t k = 0; k < var->nspread; k++)
        if (!strcmp(var->spread[k].name, name)) {
            var->spread[k].sigma = sigma;
            return SS_OK;
        }
    if (var->nspread >= SS_DEVICE_MAX_SPREAD)
        return ss_error_set(err, SS_EINVAL, "at most %d spread parameters",
                            SS_DEVICE_MAX_SPREAD);
    snprintf(var->spread[var->nspread].name, sizeof var->spread[0].name, "%s", name);
    var->spread[var->nspread].sigma = sigma;
    var->nspread++;
    return SS_OK;
}

int ss_device_variation_set(ss_device_variation *var, const char *a, ss_error *err)
{
    const char *eq = strchr(a, '=');
    if (!eq || eq == a)
        return ss_error_set(err, SS_EINVAL, "expected name=value, not '%s'", a);
    char name[64];
    size_t n = (size_t)(eq - a);
    if (n >= sizeof name)
        return ss_error_set(err, SS_ENOTFOUND, "unknown variation setting '%.*s'", (int)n, a);
    memcpy(name, a, n);
    name[n] = 0;
    double x;
    if (ss_util_parse_spice_number(eq + 1, &x))
        return ss_error_set(err, SS_EINVAL, "variation setting '%s': '%s' is not a number", name,
                            eq + 1);
    if (!strncmp(name, "spread.", 7))
        return ss_device_variation_add_spread(var, name + 7, x, err);
    struct {
        const char *name;
        double *dst;
    } table[] = {{"p_stuck_on", &var->p_stuck_on},       {"p_stuck_off", &var->p_stuck_off},
                 {"c2c_sigma", &var->c2c_sigma},         {"v_read", &var->v_read},
                 {"read_sigma", &var->read_sigma},       {"retention_tau", &var->retention_tau},
                 {"retention_x", &var->retention_x}};
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (!strcmp(name, table[k].name)) {
            *table[k].dst = x;
            return SS_OK;
        }
    if (!strcmp(name, "levels")) {
        if (x != floor(x) || x < 0 || x > 1e6)
            return ss_error_set(err, SS_EINVAL, "variation setting 'levels' must be 0 or an "
                                                "integer >= 2");
        var->levels = (int)x;
        return SS_OK;
    }
    return ss_error_set(err, SS_ENOTFOUND, "unknown variation setting '%s'", name);
}

int ss_device_variation_validate(const ss_device_variation *var, const ss_device_type *type,
                                 ss_error *err)
{
    for (size_t k = 0; k < var->nspread; k++) {
        if (type && ss_device_param_index(type, var->spread[k].name) < 0)
            return ss_error_set(err, SS_EINVAL, "spread names unknown parameter '%s' of model '%s'",
                                var->spread[k].name, type->name);
        if (type && type->params[ss_device_param_index(type, var->spread[k].name)].choices)
            return ss_error_set(err, SS_EINVAL, "spread cannot apply to choice parameter '%s'",
                                var->spread[k].name);
        if (!(var->spread[k].sigma >= 0) || !isfinite(var->spread[k].sigma))
            return ss_error_set(err, SS_EINVAL, "spread of '%s' must be >= 0",
                                var->spread[k].name);
    }
    if (!(var->p_stuck_on >= 0 && var->p_stuck_on <= 1))
        return ss_error_set(err, SS_EINVAL, "variation 'p_stuck_on' must be in [0, 1]");
    if (!(var->p_stuck_off >= 0 && var->p_stuck_off <= 1))
        return ss_error_set(err, SS_EINVAL, "variation 'p_stuck_off' must be in [0, 1]");
    if (var->p_stuck_on + var->p_stuck_off > 1)
        return ss_error_set(err, SS_EINVAL,
                            "variation 'p_stuck_on' + 'p_stuck_off' must not exceed 1");
    if (!(var->c2c_sigma >= 0) || !isfinite(var->c2c_sigma))
        return ss_error_set(err, SS_EINVAL, "variation 'c2c_sigma' must be >= 0");
    if (!(var->read_sigma >= 0) || !isfinite(var->read_sigma))
        return ss_error_set(err, SS_EINVAL, "variation 'read_sigma' must be >= 0");
    if (var->levels == 1 || var->levels < 0)
        return ss_error_set(err, SS_EINVAL, "variation 'levels' must be 0 or >= 2");
    if (!(var->v_read != 0) || !isfinite(var->v_read))
        return ss_error_set(err, SS_EINVAL, "variation 'v_read' must be non-zero");
    if (!(var->retention_tau >= 0))
        return ss_error_set(err, SS_EINVAL, "variation 'retention_tau' must be >= 0");
    if (!(var->retention_x >= 0 && var->retention_x <= 1))
        return ss_error_set(err, SS_EINVAL, "variation 'retention_x' must be in [0, 1]");
    return SS_OK;
}

int ss_device_sample(const ss_device *nominal, const ss_device_variation *var, gsl_rng *rng,
                     ss_device *out, enum ss_device_fault *fault, ss_error *err)
{
    int rc = ss_device_variation_validate(var, nominal->type, err);
    if (rc)
        return rc;
    ss_device d = *nominal;
    for (size_t k = 0; k < var->nspread; k++) {
        int idx = ss_device_param_index(d.type, var->spread[k].name);
        d.p[idx] *= exp(var->spread[k].sigma * gsl_ran_gaussian_ziggurat(rng, 1.0));
    }
    /* One uniform draw decides the fault, so the fault pattern does not
     * depend on the spread settings' values. */
    double u = gsl_rng_uniform(rng);
    enum ss_device_fault f = SS_DEVICE_FAULT_NONE;
    if (u < var->p_stuck_on)
        f = SS_DEVICE_FAULT_STUCK_ON;
    else if (u < var->p_stuck_on + var->p_stuck_off)
        f = SS_DEVICE_FAULT_STUCK_OFF;
    if ((rc = ss_device_validate(&d, err)))
        return ss_error_prefix(err, rc, "sampled device");
    *out = d;
    if (fault)
        *fault = f;
    return SS_OK;
}

double ss_device_fault_state(const ss_device *d, enum ss_device_fault fault, double x)
{
    switch (fault) {
    case SS_DEVICE_FAULT_STUCK_ON: return d->type->x_lrs;
    case SS_DEVICE_FAULT_STUCK_OFF: return 1.0 - d->type->x_lrs;
    default: return x;
    }
}

/* State whose read conductance is g (conductance is monotonic in x). */
static double state_for_conductance(const ss_device *d, double vr, double g)
{
    double lo = 0.0, hi = 1.0;
    double glo = ss_device_conductance(d, lo, vr);
    double ghi = ss_device_conductance(d, hi, vr);
    int rising = ghi > glo;
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (lo + hi);
        double gm = ss_device_conductance(d, mid, vr);
        if ((gm < g) == rising)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

double ss_device_quantize(const ss_device *d, const ss_device_variation *var, double x)
{
    if (var->levels < 2)
        return x;
    double vr = var->v_read;
    double g0 = ss_device_conductance(d, 0.0, vr), g1 = ss_device_conductance(d, 1.0, vr);
    double g = ss_device_conductance(d, x, vr);
    double step = (g1 - g0) / (var->levels - 1);
    if (step == 0)
        return x;
    double k = round((g - g0) / step);
    if (k < 0)
        k = 0;
    if (k > var->levels - 1)
        k = var->levels - 1;
    if (k == 0)
        return 0.0;
    if (k == var->levels - 1)
        return 1.0;
    return state_for_conductance(d, vr, g0 + k * step);
}

double ss_device_program(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                         enum ss_device_fault fault, double x_target)
{
    double x = x_target;
    if (var->c2c_sigma > 0)
        x += gsl_ran_gaussian_ziggurat(rng, var->c2c_sigma);
    x = x < 0 ? 0 : x > 1 ? 1 : x;
    x = ss_device_quantize(d, var, x);
    return ss_device_fault_state(d, fault, x);
}

double ss_device_read(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                      enum ss_device_fault fault, double v, double x)
{
    double i = ss_device_current(d, v, ss_device_fault_state(d, fault, x));
    if (var->read_sigma > 0)
        i *= 1.0 + gsl_ran_gaussian_ziggurat(rng, var->read_sigma);
    return i;
}

double ss_device_retention(const ss_device_variation *var, double x, double dt)
{
    if (!(var->retention_tau > 0) || isinf(var->retention_tau) || !(dt > 0))
        return x;
    return var->retention_x + (x - var->retention_x) * exp(-dt / var->retention_tau);
}
