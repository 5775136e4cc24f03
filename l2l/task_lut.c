/* task_lut.c: the pulse response of one memristor behind its driver as a
 * lookup table (state after k identical pulses), measured in ngspice on the
 * emitted subcircuit or with the C model, and its use by the task families
 * (fractional pulse counts, extrapolation past the measured range). */
#include "l2l/l2l_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"

void ss_l2l_lut_release(ss_l2l_pulse_lut *lut)
{
    free(lut->x);
    lut->x = NULL;
    lut->n = 0;
}

int l2li_device_set_state(ss_device *d, double x, ss_error *err)
{
    int k = ss_device_param_index(d->type, "w0");
    if (k >= 0) {
        double won = ss_device_get(d, "w_on"), woff = ss_device_get(d, "w_off");
        d->p[k] = won + x * (woff - won);
        return SS_OK;
    }
    if ((k = ss_device_param_index(d->type, "x0")) >= 0) {
        d->p[k] = x;
        return SS_OK;
    }
    return ss_error_set(err, SS_EINVAL, "device model '%s' has no initial-state parameter",
                        d->type->name);
}

int ss_l2l_lut_measure(struct ss_engine *eng, const struct ss_device *d, double x_start,
                       double amp, double width, double series_r, size_t npulses,
                       ss_l2l_pulse_lut *lut, ss_error *err)
{
    ss_l2l_lut_release(lut);
    if (!(x_start >= 0 && x_start <= 1) || !(width > 0) || !isfinite(amp) || !(series_r >= 0) ||
        npulses < 1 || npulses > 100000)
        return ss_error_set(err, SS_EINVAL, "pulse lookup: bad arguments (x_start %g, width %g, "
                            "amp %g, series_r %g, %zu pulses)", x_start, width, amp, series_r,
                            npulses);
    ss_device dev = *d;
    int rc = l2li_device_set_state(&dev, x_start, err);
    if (rc)
        return rc;
    ss_wave w;
    memset(&w, 0, sizeof w);
    w.kind = SS_WAVE_PULSE;
    w.v1 = 0;
    w.v2 = amp;
    w.width = width;
    w.period = 2 * width;
    w.count = (int)npulses;
    w.edge = 0.01 * width;
    ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
    opt.series_r = series_r;
    opt.points = npulses + 1; /* t = k period: the state after k pulses */
    opt.max_step = width / 8;
    ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
    rc = eng ? ss_devsim_run_spice(eng, &dev, &w, &opt, &tr, err)
             : ss_devsim_run(&dev, &w, &opt, &tr, err);
    if (rc)
        return rc;
    if (tr.n != npulses + 1 || !(lut->x = malloc(tr.n * sizeof *lut->x))) {
        ss_devsim_trace_release(&tr);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    int up = tr.x[tr.n - 1] >= x_start;
    for (size_t k = 0; k < tr.n; k++) {
        double xk = k ? tr.x[k] : x_start;
        xk = xk < 0 ? 0 : xk > 1 ? 1 : xk;
        /* keep the curve monotone (solver noise at the bounds) */
        if (k && (up ? xk < lut->x[k - 1] : xk > lut->x[k - 1]))
            xk = lut->x[k - 1];
        lut->x[k] = xk;
    }
    lut->n = npulses;
    ss_devsim_trace_release(&tr);
    return SS_OK;
}

/* Fractional pulse index where the curve passes x (the curve is monotone). */
static double lut_index(const ss_l2l_pulse_lut *lut, double x, int up)
{
    const double *c = lut->x;
    size_t n = lut->n;
    if (up ? x <= c[0] : x >= c[0])
        return 0;
    if (up ? x >= c[n] : x <= c[n])
        return (double)n;
    size_t lo = 0, hi = n; /* c[lo] before x, c[hi] after */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (up ? c[mid] <= x : c[mid] >= x)
            lo = mid;
        else
            hi = mid;
    }
    double d = c[hi] - c[lo];
    return (double)lo + (d != 0 ? (x - c[lo]) / d : 0);
}

/* The same index extended past both ends of the curve by its first and last
 * steps (as ss_l2l_lut_apply extrapolates). */
static double lut_index_ext(const ss_l2l_pulse_lut *lut, double x, int up)
{
    const double *c = lut->x;
    size_t n = lut->n;
    double first = c[1] - c[0], last = c[n] - c[n - 1];
    if ((up ? x < c[0] : x > c[0]) && first != 0)
        return (x - c[0]) / first;
    if ((up ? x > c[n] : x < c[n]) && last != 0)
        return (double)n + (x - c[n]) / last;
    return lut_index(lut, x, up);
}

double l2li_lut_pulses(const ss_l2l_pulse_lut *lut, double x_from, double x_to)
{
    if (!lut->n)
        return 0;
    int up = lut->x[lut->n] >= lut->x[0];
    double k = lut_index_ext(lut, x_to, up) - lut_index_ext(lut, x_from, up);
    return k > 0 && isfinite(k) ? k : 0;
}

static double lut_at(const ss_l2l_pulse_lut *lut, double k)
{
    size_t n = lut->n;
    if (k <= 0)
        return lut->x[0];
    if (k >= (double)n) {
        double last = lut->x[n] - lut->x[n - 1];
        return lut->x[n] + (k - (double)n) * last;
    }
    size_t i = (size_t)k;
    double f = k - (double)i;
    return lut->x[i] + f * (lut->x[i + 1] - lut->x[i]);
}

double ss_l2l_lut_apply(const ss_l2l_pulse_lut *lut, double x, double pulses)
{
    if (!lut->n || !(pulses > 0))
        return x;
    int up = lut->x[lut->n] >= lut->x[0];
    double k = lut_index(lut, x, up);
    double y;
    if (up ? x < lut->x[0] : x > lut->x[0]) /* before the start: first step continues */
        y = x + pulses * (lut->x[1] - lut->x[0]);
    else if (k >= (double)lut->n) /* past the end: the last step continues */
        y = x + pulses * (lut->x[lut->n] - lut->x[lut->n - 1]);
    else
        y = lut_at(lut, k + pulses);
    return y < 0 ? 0 : y > 1 ? 1 : y;
}

double ss_l2l_lut_step(const ss_l2l_pulse_lut *lut, double x)
{
    return ss_l2l_lut_apply(lut, x, 1.0) - x;
}

/* ---- the nominal conductance curve and its inverse ------------------------------- */

void l2li_gtable_init(l2li_gtable *t, const ss_device *d, double v_read)
{
    for (size_t k = 0; k <= L2LI_GTABLE; k++)
        t->g[k] = ss_device_conductance(d, (double)k / L2LI_GTABLE, v_read);
}

double l2li_gtable_g(const l2li_gtable *t, double x)
{
    double f = (x < 0 ? 0 : x > 1 ? 1 : x) * L2LI_GTABLE;
    size_t k = (size_t)f;
    if (k >= L2LI_GTABLE)
        return t->g[L2LI_GTABLE];
    return t->g[k] + (f - (double)k) * (t->g[k + 1] - t->g[k]);
}

double l2li_gtable_state(const l2li_gtable *t, double g)
{
    const double *c = t->g;
    int dec = c[L2LI_GTABLE] < c[0];
    if (dec ? g >= c[0] : g <= c[0])
        return 0;
    if (dec ? g <= c[L2LI_GTABLE] : g >= c[L2LI_GTABLE])
        return 1;
    size_t lo = 0, hi = L2LI_GTABLE; /* g between c[lo] and c[hi] */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (dec ? c[mid] > g : c[mid] < g)
            lo = mid;
        else
            hi = mid;
    }
    double d = c[hi] - c[lo];
    return ((double)lo + (d != 0 ? (g - c[lo]) / d : 0)) / L2LI_GTABLE;
}

/* ---- a small per-worker cache of lookups, keyed by a parameter hash -------- */

void l2li_lut_cache_release(l2li_lut_cache *c)
{
    for (size_t i = 0; i < L2LI_LUT_CACHE; i++)
        ss_l2l_lut_release(&c->lut[i]);
    memset(c, 0, sizeof *c);
}

const ss_l2l_pulse_lut *l2li_lut_cache_get(l2li_lut_cache *c, struct ss_engine *eng,
                                           const struct ss_device *d, double x_start,
                                           double amp, double width, double series_r,
                                           size_t npulses, ss_error *err)
{
    double key_v[4] = {x_start, amp, width, series_r};
    uint64_t key = l2li_mix(l2li_fnv(key_v, sizeof key_v), l2li_fnv(d->p, sizeof d->p));
    key = l2li_mix(key, (uint64_t)npulses * 2 + (eng != NULL));
    if (d->polarity < 0 || d->type != ss_device_vteam || d->hard) /* the default device keeps its key */
        key = l2li_mix(key, l2li_fnv(d->type->name, strlen(d->type->name)) ^
                                (uint64_t)(d->polarity < 0) << 1 ^ (uint64_t)d->hard);
    for (size_t i = 0; i < L2LI_LUT_CACHE; i++)
        if (c->lut[i].n && c->key[i] == key) {
            c->hits++;
            return &c->lut[i];
        }
    size_t slot = c->next++ % L2LI_LUT_CACHE;
    l2li_lut_id id = {d, x_start, amp, width, series_r, npulses, eng != NULL};
    if (l2li_lut_cache_load(c, slot, key, &id)) /* stored by an earlier run (lut_store.c) */
        return &c->lut[slot];
    if (ss_l2l_lut_measure(eng, d, x_start, amp, width, series_r, npulses, &c->lut[slot], err))
        return NULL;
    c->key[slot] = key;
    c->misses++;
    l2li_lut_cache_store(c, slot, key, &id);
    return &c->lut[slot];
}

/* ---- the hardware tasks' memristor ------------------------------------------------ */

int l2li_hw_set_device(ss_l2l_task *t, const ss_device *d, ss_error *err)
{
    l2li_hw *hw = t->data;
    int rc = ss_device_validate(d, err);
    if (rc)
        return rc;
    hw->nominal = *d;
    ss_device_variation_literature(&hw->var, d->type);
    hw->var.p_stuck_on = hw->var.p_stuck_off = 0;
    double vr = hw->var.v_read;
    hw->g_on = ss_device_conductance(&hw->nominal, d->type->x_lrs, vr);
    hw->g_off = ss_device_conductance(&hw->nominal, 1.0 - d->type->x_lrs, vr);
    l2li_gtable_init(&hw->gt, &hw->nominal, vr);
    return SS_OK;
}
