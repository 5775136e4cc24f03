/* task_bandit.c: the bandit-independent and bandit-dependent families: a
 * two-armed Bernoulli bandit (100 pulls) learned by two memristive value
 * synapses.  Each arm's value is the conductance of one VTEAM device behind
 * a 100 ohm driver, read with noise; after each pull the chosen arm's device
 * learns towards the reward at a decaying rate and, with the coupling
 * parameter, the other arm's device towards 1 - reward.  The write is SET
 * pulses (target above the value read) or RESET pulses (below): either a
 * count proportional to the prediction error (model 0) or the count that
 * the measured pulse response needs to move the nominal device to the new
 * value (model 1).  Pulse responses come from the device
 * model (state after k pulses, task_lut.c); devices have device-to-device
 * spread, cycle-to-cycle write noise, 100 levels and read noise.  Choice:
 * softmax of the two values with a gain that grows with the pull count.
 * Metric: mean pseudo-regret over the instance's bandits.  Thompson
 * sampling and random choice are the baselines. */
#include "l2l/l2l_private.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/ss_devices.h"

#define PULLS 100
#define LUT_PULSES 100
#define SERIES_R 100.0

enum {
    P_V_SET, P_W_SET, P_V_RESET, P_W_RESET, P_ETA, P_DECAY, P_BETA, P_BETA_GROW, P_COUPLE,
    P_X_INIT, P_GAIN, P_MODEL, P_NPARAM
};

static const ss_l2l_param bandit_params[P_NPARAM] = {
    {"v_set", 0.21, 1.0, 0.35, 0},           /* SET pulse amplitude (V, applied negative) */
    {"w_set", 1e-11, 1e-8, 2e-10, SS_L2L_LOG}, /* SET pulse width (s) */
    {"v_reset", 0.03, 0.6, 0.2, 0},          /* RESET pulse amplitude (V) */
    {"w_reset", 1e-11, 1e-8, 2e-10, SS_L2L_LOG},
    {"eta", 0.05, 50, 1, SS_L2L_LOG},        /* learning rate (model 0: pulses per unit error) */
    {"decay", 0, 1.5, 1, 0},                 /* learning rate ~ (1 + pulls of the arm)^-decay */
    {"beta", 0.1, 300, 5, SS_L2L_LOG},       /* softmax gain on the value difference */
    {"beta_grow", 0, 2, 0.5, 0},             /* gain ~ (1 + t)^beta_grow */
    {"couple", 0, 1, 0, 0},                  /* update of the other arm towards 1 - reward */
    {"x_init", 0, 1, 0.8, 0},                /* initial state of both devices */
    {"gain", 0.5, 20, 3, SS_L2L_LOG},        /* value = gain (g - g_off)/(g_on - g_off) */
    {"model", 0, 1, 1, SS_L2L_FIXED},        /* >= 0.5: pulse counts from the pulse response */
};

typedef struct bandit_data {
    l2li_hw hw; /* first: l2li_hw_set_device */
    int dependent;
    size_t nbandits; /* per instance */
} bandit_data;

typedef struct bandit_task {
    ss_l2l_task t;
    bandit_data b;
    ss_l2l_param params[P_NPARAM];
} bandit_task;

/* ---- baselines ------------------------------------------------------------------ */

static void draw_arms(gsl_rng *r, int dependent, double *p)
{
    p[0] = gsl_rng_uniform(r);
    p[1] = dependent ? 1 - p[0] : gsl_rng_uniform(r);
}

static double baseline(int dependent, size_t nb, uint64_t seed, int thompson)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return NAN;
    gsl_rng_set(r, (unsigned long)(seed ^ (seed >> 32)));
    double total = 0;
    for (size_t b = 0; b < nb; b++) {
        double p[2], s[2] = {0, 0}, f[2] = {0, 0};
        draw_arms(r, dependent, p);
        double best = fmax(p[0], p[1]);
        for (int t = 0; t < PULLS; t++) {
            int a;
            if (thompson)
                a = gsl_ran_beta(r, s[0] + 1, f[0] + 1) < gsl_ran_beta(r, s[1] + 1, f[1] + 1);
            else
                a = gsl_rng_uniform(r) < 0.5;
            total += best - p[a];
            if (gsl_rng_uniform(r) < p[a])
                s[a]++;
            else
                f[a]++;
        }
    }
    gsl_rng_free(r);
    return nb ? total / (double)nb : 0;
}

double ss_l2l_bandit_thompson(int dependent, size_t nbandits, uint64_t seed)
{
    return baseline(dependent, nbandits, seed, 1);
}

double ss_l2l_bandit_random(int dependent, size_t nbandits, uint64_t seed)
{
    return baseline(dependent, nbandits, seed, 0);
}

/* ---- the memristive learner -------------------------------------------------------- */

typedef struct bandit_state {
    l2li_lut_cache cache;
} bandit_state;

static int bandit_start(const ss_l2l_task *t, void **state, ss_error *err)
{
    (void)t;
    bandit_state *s = calloc(1, sizeof *s);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    *state = s;
    return SS_OK;
}

static void bandit_stop(const ss_l2l_task *t, void *state)
{
    (void)t;
    bandit_state *s = state;
    if (s)
        l2li_lut_cache_release(&s->cache);
    free(s);
}

static double read_value(const bandit_data *bd, const ss_device *d, gsl_rng *r, double x,
                         double gain)
{
    double v = bd->hw.var.v_read;
    double g = ss_device_read(d, &bd->hw.var, r, SS_DEVICE_FAULT_NONE, v, x) / v;
    return gain * (g - bd->hw.g_off) / (bd->hw.g_on - bd->hw.g_off);
}

/* Pulses that move a device read at value v to value v_target according to
 * the nominal device and its measured pulse response; *up: SET (towards ON). */
static double pulses_to(const bandit_data *bd, const ss_l2l_pulse_lut *set,
                        const ss_l2l_pulse_lut *reset, double gain, double v, double v_target,
                        int *up)
{
    double gr = bd->hw.g_on - bd->hw.g_off;
    double x_now = l2li_gtable_state(&bd->hw.gt, bd->hw.g_off + v / gain * gr);
    double x_to = l2li_gtable_state(&bd->hw.gt, bd->hw.g_off + v_target / gain * gr);
    *up = x_to < x_now;
    return l2li_lut_pulses(*up ? set : reset, x_now, x_to);
}

/* Moves device state *x by `pulses` along the SET (up != 0) or RESET
 * lookup, then programs it (write noise, levels). */
static void write_pulses(const bandit_data *bd, const ss_device *d, gsl_rng *r,
                         const ss_l2l_pulse_lut *lut, double pulses, double *x)
{
    if (!(pulses > 1e-3))
        return;
    double y = ss_l2l_lut_apply(lut, *x, pulses);
    *x = ss_device_program(d, &bd->hw.var, r, SS_DEVICE_FAULT_NONE, y);
}

/* One value synapse read at v learns target r (the reward, or 1 - reward
 * for the coupled arm) at rate lr.  The proportional rule (model 0) gives
 * lr |r - v| pulses; the model-based rule (model 1) gives the pulses that
 * move the nominal device from v to v + min(1, lr) (r - v) on the measured
 * pulse response, which makes the step independent of where the device sits
 * on its nonlinear, asymmetric SET and RESET curves. */
static void update(const bandit_data *bd, gsl_rng *r, const ss_l2l_pulse_lut *set,
                   const ss_l2l_pulse_lut *reset, const double *x, int model, const ss_device *d,
                   double *xs, double speed, double v, double target, double lr)
{
    double delta = target - v;
    if (model) {
        int up;
        double k = pulses_to(bd, set, reset, x[P_GAIN], v, v + fmin(1.0, lr) * delta, &up);
        write_pulses(bd, d, r, up ? set : reset, k * speed, xs);
    } else {
        write_pulses(bd, d, r, delta > 0 ? set : reset, lr * fabs(delta) * speed, xs);
    }
}

static int bandit_evaluate(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                           double *metric, ss_error *err)
{
    const bandit_data *bd = t->data;
    bandit_state local, *s = state;
    int own = !s;
    if (own) {
        memset(&local, 0, sizeof local);
        s = &local;
    }
    int rc = SS_OK;
    gsl_rng *r = NULL;
    const ss_l2l_pulse_lut *lset, *lreset;
    ss_l2l_pulse_lut set = SS_L2L_PULSE_LUT_INIT, reset = SS_L2L_PULSE_LUT_INIT;
    /* the two lookups must both stay valid: copy the first one out */
    if (!(lset = l2li_lut_cache_get(&s->cache, NULL, &bd->hw.nominal, 1.0, -x[P_V_SET], x[P_W_SET],
                                    SERIES_R, LUT_PULSES, err))) {
        rc = err->code ? err->code : SS_ESIM;
        goto out;
    }
    set.n = lset->n;
    if (!(set.x = malloc((set.n + 1) * sizeof *set.x))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(set.x, lset->x, (set.n + 1) * sizeof *set.x);
    if (!(lreset = l2li_lut_cache_get(&s->cache, NULL, &bd->hw.nominal, 0.0, x[P_V_RESET],
                                      x[P_W_RESET], SERIES_R, LUT_PULSES, err))) {
        rc = err->code ? err->code : SS_ESIM;
        goto out;
    }
    reset = *lreset; /* borrowed: no cache call follows */
    if (!(r = gsl_rng_alloc(gsl_rng_mt19937))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    gsl_rng_set(r, (unsigned long)(seed ^ (seed >> 29)));
    int model = x[P_MODEL] >= 0.5;
    double total = 0;
    for (size_t b = 0; b < bd->nbandits; b++) {
        double p[2];
        draw_arms(r, bd->dependent, p);
        ss_device dev[2];
        double xs[2], speed[2], n[2] = {0, 0};
        for (int a = 0; a < 2; a++) {
            enum ss_device_fault f;
            if ((rc = ss_device_sample(&bd->hw.nominal, &bd->hw.var, r, &dev[a], &f, err)))
                goto out;
            speed[a] = exp(0.2 * gsl_ran_gaussian_ziggurat(r, 1.0));
            xs[a] = ss_device_program(&dev[a], &bd->hw.var, r, SS_DEVICE_FAULT_NONE, x[P_X_INIT]);
        }
        double best = fmax(p[0], p[1]);
        for (int tt = 0; tt < PULLS; tt++) {
            double v[2];
            for (int a = 0; a < 2; a++)
                v[a] = read_value(bd, &dev[a], r, xs[a], x[P_GAIN]);
            double beta = x[P_BETA] * pow(1.0 + tt, x[P_BETA_GROW]);
            double z = beta * (v[0] - v[1]);
            double p0 = z > 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
            int a = gsl_rng_uniform(r) < p0 ? 0 : 1, o = 1 - a;
            total += best - p[a];
            double rew = gsl_rng_uniform(r) < p[a] ? 1.0 : 0.0;
            double lr = x[P_ETA] * pow(1.0 + n[a], -x[P_DECAY]);
            update(bd, r, &set, &reset, x, model, &dev[a], &xs[a], speed[a], v[a], rew, lr);
            n[a] += 1;
            if (x[P_COUPLE] > 0) {
                double lro = x[P_ETA] * x[P_COUPLE] * pow(1.0 + n[o], -x[P_DECAY]);
                update(bd, r, &set, &reset, x, model, &dev[o], &xs[o], speed[o], v[o], 1 - rew,
                       lro);
                n[o] += x[P_COUPLE];
            }
        }
    }
    *metric = total / (double)bd->nbandits;
out:
    gsl_rng_free(r);
    ss_l2l_lut_release(&set);
    if (own)
        l2li_lut_cache_release(&s->cache);
    return rc;
}

static void bandit_destroy(ss_l2l_task *t)
{
    free(t);
}

ss_l2l_task *l2li_bandit_alloc(const char *name, ss_error *err)
{
    int dependent;
    if (!strcmp(name, "bandit-independent"))
        dependent = 0;
    else if (!strcmp(name, "bandit-dependent"))
        dependent = 1;
    else {
        ss_error_set(err, SS_ENOTFOUND, "unknown task '%s' (bandit-independent, "
                     "bandit-dependent)", name);
        return NULL;
    }
    bandit_task *bt = calloc(1, sizeof *bt);
    if (!bt) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    ss_l2l_task *t = &bt->t;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->metric = "regret";
    memcpy(bt->params, bandit_params, sizeof bt->params);
    t->params = bt->params;
    t->nparams = P_NPARAM;
    t->ntrain = 4;
    t->nval = 20;
    t->ntest = 100;
    t->start = bandit_start;
    t->evaluate = bandit_evaluate;
    t->stop = bandit_stop;
    t->destroy = bandit_destroy;
    t->data = &bt->b;
    bandit_data *bd = &bt->b;
    bd->dependent = dependent;
    bd->nbandits = 100;
    t->set_device = l2li_hw_set_device;
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    if (ss_device_apply_preset(&d, "vteam_demo", err) ||
        ss_device_set_list(&d, "window=biolek p=1", err) || l2li_hw_set_device(t, &d, err)) {
        free(bt);
        return NULL;
    }
    return t;
}
