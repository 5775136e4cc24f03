/* task_arm.c: the arm-oneshot and faults families.  A planar two-link arm
 * (0.5 m links, start (0, pi/2)) follows joint velocities read out of a
 * clock-driven LIF network through memristive synapses (a differential pair of
 * VTEAM devices behind a driver per weight, device-to-device spread, write
 * noise, 100 levels, read noise, read disturb, optional stuck-at faults; the
 * clock's tuning centres random or stratified).  One demonstration of a target
 * trajectory, one write of the devices with SET pulses whose count is a local
 * e-prop-like rule (presynaptic trace x error, signed: the sign picks the
 * device of the pair), one test replay.  The pulse response of device and
 * driver (state after k pulses of the candidate amplitude and width) is
 * measured in ngspice on the emitted subcircuit and cached per worker by a
 * parameter hash.  Metric: Cartesian MSE of the replay over the MSE of the arm
 * at rest.  faults: 10 % stuck devices (half ON, half OFF) and fault-aware
 * writing switched by the parameter `fault_aware`: pruning (read before,
 * write-verify after, pairs with a device that reads wrong or does not move
 * are pruned) or re-targeting (the partner of a device that reads wrong is
 * written so that the pair still holds the weight; pruned only when that is
 * worse than pruning). */
#include "l2l/l2l_private.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/engine/ss_engine.h"
#include "cosim/network/ss_network.h"
#include "devices/ss_devices.h"

#define STEPS 250        /* 1 ms each */
#define DT 1e-3
#define NCLOCK 50        /* clock phases of 5 ms */
#define NHID 200         /* LIF neurons */
#define NOUT 2           /* joint velocities */
#define LINK 0.5
#define LUT_PULSES 100
#define SERIES_R 100.0   /* driver output resistance (ohm) */
#define T_READ 10e-9     /* read pulse per presynaptic spike (s) */
#define I_FLOOR 2e-6     /* read current noise floor (A, rms) */
#define MAX_PULSES 64

enum {
    P_ETA, P_A_POS, P_V_SET, P_W_SET, P_V_READ, P_GAIN_OUT, P_X_INIT, P_BIAS, P_GAIN_IN,
    P_TAU_OUT, P_NORM, P_FAULT_AWARE, P_PRE_TOL, P_POST_FRAC, P_STRATIFY, P_NPARAM
};

static const ss_l2l_param arm_params[P_NPARAM] = {
    {"eta", 0.1, 3000, 30, SS_L2L_LOG},        /* pulses per unit trace x error */
    {"a_pos", 0, 20, 0, 0},                    /* weight of the Cartesian error (rad/s/m) */
    {"v_set", 0.21, 1.0, 0.3, 0},              /* SET pulse amplitude (V, applied negative) */
    {"w_set", 1e-11, 1e-8, 1e-10, SS_L2L_LOG}, /* SET pulse width (s) */
    {"v_read", 0.005, 0.1, 0.02, SS_L2L_LOG},  /* read voltage (V) */
    {"gain_out", 0.1, 300, 10, SS_L2L_LOG},   /* rad/s per unit weight and trace */
    {"x_init", 0, 1, 0.9, 0},                  /* initial state of every device */
    {"bias", -1, 1, 0, 0},                     /* hidden bias (threshold units) */
    {"gain_in", 1, 40, 8, SS_L2L_LOG},       /* clock input gain (threshold units) */
    {"tau_out", 3e-3, 50e-3, 10e-3, SS_L2L_LOG}, /* readout and eligibility trace (s) */
    {"norm", 0, 1, 0, 0},                      /* presynaptic activity normalisation */
    {"fault_aware", 0, 2, 0, SS_L2L_FIXED},    /* 0 naive, 1 prune, 2 re-target the partner */
    {"pre_tol", 0.05, 2, 0.5, SS_L2L_FIXED},   /* read-before tolerance (relative) */
    {"post_frac", 0.05, 0.9, 0.3, SS_L2L_FIXED}, /* moved less than this of intended: faulty */
    {"stratify", 0, 1, 1, SS_L2L_FIXED},       /* >= 0.5: one tuning centre per slice of the clock */
};

typedef struct arm_data {
    l2li_hw hw;     /* first: l2li_hw_set_device */
    double p_stuck; /* total, half stuck-ON, half stuck-OFF */
} arm_data;

typedef struct arm_task {
    ss_l2l_task t;
    arm_data a;
    ss_l2l_param params[P_NPARAM];
} arm_task;

void ss_l2l_arm_forward(double theta1, double theta2, double *x, double *y)
{
    *x = LINK * cos(theta1) + LINK * cos(theta1 + theta2);
    *y = LINK * sin(theta1) + LINK * sin(theta1 + theta2);
}

void ss_l2l_arm_trace_release(ss_l2l_arm_trace *tr)
{
    free(tr->target);
    free(tr->unlearned);
    free(tr->learned);
    memset(tr, 0, sizeof *tr);
}

/* ---- per-worker state: the engine and the lookup cache ---------------------------------- */

typedef struct arm_state {
    ss_engine *eng;
    l2li_lut_cache cache;
} arm_state;

static int arm_start(const ss_l2l_task *t, void **state, ss_error *err)
{
    arm_state *s = calloc(1, sizeof *s);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    s->cache.dir = t->cache_dir; /* ngspice lookups kept across runs */
    int rc = ss_engine_open(&s->eng, err);
    if (rc) {
        free(s);
        return rc;
    }
    *state = s;
    return SS_OK;
}

static void arm_stop(const ss_l2l_task *t, void *state)
{
    (void)t;
    arm_state *s = state;
    if (!s)
        return;
    l2li_lut_cache_release(&s->cache);
    ss_engine_free(s->eng);
    free(s);
}

/* ---- one instance --------------------------------------------------------------------------- */

typedef struct inst {
    double target_w[STEPS][NOUT];  /* target joint velocities */
    double target_p[STEPS][2];     /* target hand positions */
    double target_th[STEPS][2];
    double r[STEPS][NHID];         /* readout traces */
    double R[STEPS][NHID];         /* their time integrals */
    size_t nspk[NHID];             /* spikes per neuron (read disturb) */
    ss_device dev[NHID][NOUT][2];  /* [+/-] devices */
    enum ss_device_fault fault[NHID][NOUT][2];
    double speed[NHID][NOUT][2];   /* device-to-device pulse response factor */
    double x[NHID][NOUT][2];       /* states */
    unsigned char pruned[NHID][NOUT];
} inst;

static void integrate_arm(const double (*w)[NOUT], double (*p)[2], double (*th)[2])
{
    double t1 = 0, t2 = M_PI / 2;
    for (size_t k = 0; k < STEPS; k++) {
        t1 += w[k][0] * DT;
        t2 += w[k][1] * DT;
        if (th)
            th[k][0] = t1, th[k][1] = t2;
        ss_l2l_arm_forward(t1, t2, &p[k][0], &p[k][1]);
    }
}

static double mse_pos(const double (*p)[2], const double (*q)[2])
{
    double s = 0;
    for (size_t k = 0; k < STEPS; k++)
        s += (p[k][0] - q[k][0]) * (p[k][0] - q[k][0]) + (p[k][1] - q[k][1]) * (p[k][1] - q[k][1]);
    return s / STEPS;
}

/* Target joint velocities: per joint a sum of 3 sines, periods 80-330 ms. */
static void make_target(inst *in, gsl_rng *r)
{
    double A[NOUT][3], P[NOUT][3], ph[NOUT][3];
    for (int j = 0; j < NOUT; j++)
        for (int m = 0; m < 3; m++) {
            A[j][m] = (2 * gsl_rng_uniform(r) - 1) * 10.0;
            P[j][m] = 0.08 + 0.25 * gsl_rng_uniform(r);
            ph[j][m] = 2 * M_PI * gsl_rng_uniform(r);
        }
    for (size_t k = 0; k < STEPS; k++)
        for (int j = 0; j < NOUT; j++) {
            double t = (double)k * DT, s = 0;
            for (int m = 0; m < 3; m++)
                s += A[j][m] * sin(2 * M_PI * t / P[j][m] + ph[j][m]);
            in->target_w[k][j] = s;
        }
    integrate_arm((const double (*)[NOUT])in->target_w, in->target_p, in->target_th);
}

/* The hidden LIF layer, a population of the network layer (cosim/network:
 * tau_m 20 ms, rest and reset 0, threshold 1 in threshold units, 2 ms
 * refractory, exact propagator and closed-form spike times), driven by the
 * clock: neuron i gets the current gain_in * exp(-(k - c_i)^2 / 2 s_i^2)
 * during clock phase k (a current step of the network), plus the bias.  The
 * centres c_i are uniform at random over the clock, or (stratify) one
 * uniform draw in each of NHID equal slices of it: random centres leave
 * clusters and gaps, so the kernel sum_i r_i(t) r_i(t') of the one-step
 * rule, and with it the learned amplitude, varies over the trajectory.
 * From the spikes: the readout traces (each spike adds exp(-(t - t_s) /
 * tau_out), sampled at the end of every 1 ms step), their time integrals
 * and the spikes per neuron. */
static int run_hidden(inst *in, gsl_rng *r, double gain_in, double bias, double tau_out,
                      int stratify, ss_error *err)
{
    double c[NHID], s[NHID], g[NHID], tr[NHID], Ri[NHID];
    for (size_t i = 0; i < NHID; i++) {
        double u = gsl_rng_uniform(r);
        c[i] = -2 + (NCLOCK + 4) * (stratify ? ((double)i + u) / NHID : u);
        s[i] = 1.5 + 1.5 * gsl_rng_uniform(r);
        g[i] = gain_in * exp(0.2 * gsl_ran_gaussian_ziggurat(r, 1.0));
        tr[i] = Ri[i] = 0;
        in->nspk[i] = 0;
    }
    ss_lif_params lp = SS_LIF_DEFAULTS;
    lp.tau_m = 20e-3;
    lp.v_rest = lp.v_reset = 0;
    lp.v_th = 1;
    lp.r_m = 1; /* currents in threshold units */
    lp.t_ref = 2e-3;
    lp.i_bias = bias;
    ss_network *net = ss_network_alloc(err);
    if (!net)
        return err && err->code ? err->code : SS_ENOMEM;
    size_t pop;
    int rc = ss_network_add_lif(net, "hidden", NHID, &lp, &pop, err);
    const double tphase = STEPS * DT / NCLOCK;
    for (int k = 0; k < NCLOCK && !rc; k++) /* in time order: the run sorts them */
        for (size_t i = 0; i < NHID && !rc; i++) {
            double d = (k - c[i]) / s[i], amp = g[i] * exp(-0.5 * d * d);
            if (amp > 0)
                rc = ss_network_add_step(net, pop, i, k * tphase, (k + 1) * tphase, amp, err);
        }
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    opt.dt = DT;
    if (!rc)
        rc = ss_network_run(net, STEPS * DT, &opt, err);
    if (rc) {
        ss_network_free(net);
        return rc;
    }
    /* spikes come step by step: fold them into the traces */
    size_t nsp = ss_network_nspikes(net), ks = 0;
    double eo = exp(-DT / tau_out);
    for (size_t k = 0; k < STEPS; k++) {
        double tend = (double)(k + 1) * DT;
        for (size_t i = 0; i < NHID; i++)
            tr[i] *= eo;
        while (ks < nsp) {
            double t;
            size_t pp, i;
            ss_network_spike(net, ks, &t, &pp, &i);
            if (t > tend)
                break;
            ks++;
            tr[i] += exp(-(tend - t) / tau_out);
            in->nspk[i]++;
        }
        for (size_t i = 0; i < NHID; i++) {
            Ri[i] += tr[i] * DT;
            in->r[k][i] = tr[i];
            in->R[k][i] = Ri[i];
        }
    }
    ss_network_free(net);
    return SS_OK;
}

/* Read of one device: chord current at v_read with relative read noise and a
 * current noise floor, as a conductance. */
static double read_g(const arm_data *ad, const ss_device *d, enum ss_device_fault f, double x,
                     double v_read, gsl_rng *r)
{
    double i = ss_device_read(d, &ad->hw.var, r, f, v_read, x);
    i += gsl_ran_gaussian_ziggurat(r, I_FLOOR);
    return i / v_read;
}

/* Replay: weights read once (noisy), then joint velocities; every
 * presynaptic spike reads its row for T_READ at v_read, which disturbs the
 * states (applied after the replay: the disturb of one replay is small). */
static void replay(const arm_data *ad, inst *in, const double *prm, int faults, int use_prune,
                   gsl_rng *r, double (*w)[NOUT], double (*p)[2], double (*th)[2])
{
    double W[NHID][NOUT];
    double gr = ad->hw.g_on - ad->hw.g_off, vr = prm[P_V_READ];
    for (size_t i = 0; i < NHID; i++)
        for (int j = 0; j < NOUT; j++) {
            double gp = read_g(ad, &in->dev[i][j][0], faults ? in->fault[i][j][0] : 0,
                               in->x[i][j][0], vr, r);
            double gm = read_g(ad, &in->dev[i][j][1], faults ? in->fault[i][j][1] : 0,
                               in->x[i][j][1], vr, r);
            W[i][j] = use_prune && in->pruned[i][j] ? 0 : (gp - gm) / gr;
        }
    for (size_t k = 0; k < STEPS; k++)
        for (int j = 0; j < NOUT; j++) {
            double s = 0;
            for (size_t i = 0; i < NHID; i++)
                s += W[i][j] * in->r[k][i];
            w[k][j] = prm[P_GAIN_OUT] * s;
        }
    integrate_arm((const double (*)[NOUT])w, p, th);
}

/* The devices of one row all at the read voltage. */
struct read_bias {
    double v;
    size_t n;
};

static int at_read_voltage(void *ctx, double t, const double *x, double *v, double *dv_dx)
{
    const struct read_bias *b = ctx;
    (void)t, (void)x, (void)dv_dx;
    for (size_t k = 0; k < b->n; k++)
        v[k] = b->v;
    return 0;
}

/* Read disturb of the spikes of one replay on every device: each row's
 * devices held at the read voltage for its read time, moved by the
 * library's one integrator of device states. */
static int disturb(inst *in, double v_read, ss_error *err)
{
    struct read_bias b = {v_read, NOUT * 2};
    for (size_t i = 0; i < NHID; i++) {
        if (!in->nspk[i])
            continue;
        double tr = T_READ * (double)in->nspk[i];
        double *x = &in->x[i][0][0];
        ss_device_circuit c = {NOUT * 2, &in->dev[i][0][0], 0, NULL, NULL, 0.0, at_read_voltage, &b};
        int rc = ss_device_integrate(&c, NULL, 0.0, x, NULL, &tr, 1, NULL, err);
        if (rc)
            return ss_error_prefix(err, rc, "read disturb of row %zu", i);
        for (size_t k = 0; k < NOUT * 2; k++)
            x[k] = x[k] < 0 ? 0 : x[k] > 1 ? 1 : x[k];
    }
    return SS_OK;
}

/* Fault-aware writing by re-targeting (fault_aware 2) of pair (i, j), one of
 * whose devices read far from its intended state before the demonstration
 * (g_before: the two reads).  The rule asked for `nint` SET pulses on the
 * positive (nint > 0) or negative device, i.e. for the weight w_t that those
 * pulses give on the nominal device from x_init.  The device that reads off
 * (stuck ON, say) is left alone and its partner is SET to the conductance
 * that makes the pair's difference w_t, as far as SET pulses (which only
 * raise g, up to g_on) can.  The controller compares the expected squared
 * error of that write (the weight it can reach, plus the write noise at the
 * partner's target state) with the one of pruning (w_t^2) and prunes only
 * when pruning is better.  Returns the pulses applied. */
static size_t retarget_pair(const arm_data *ad, inst *in, const ss_l2l_pulse_lut *lut,
                            const double *prm, size_t i, int j, double nint,
                            const double *g_before, int faults, gsl_rng *rw)
{
    double gr = ad->hw.g_on - ad->hw.g_off, x_init = prm[P_X_INIT];
    double dw = (l2li_gtable_g(&ad->hw.gt, ss_l2l_lut_apply(lut, x_init, fabs(nint))) -
                 l2li_gtable_g(&ad->hw.gt, x_init)) / gr;
    double w_t = nint > 0 ? dw : -dw;
    double ge = l2li_gtable_g(&ad->hw.gt, x_init);
    int st = fabs(g_before[0] - ge) >= fabs(g_before[1] - ge) ? 0 : 1, q = 1 - st;
    /* the partner's conductance that gives w_t: w = (g+ - g-) / gr */
    double g_goal = st == 0 ? g_before[0] - w_t * gr : g_before[1] + w_t * gr;
    g_goal = fmin(g_goal, ad->hw.g_on);
    double x_now = l2li_gtable_state(&ad->hw.gt, g_before[q]);
    double x_goal = l2li_gtable_state(&ad->hw.gt, g_goal);
    if (g_goal <= g_before[q])
        x_goal = x_now; /* would need a RESET: stay */
    double g_reach = l2li_gtable_g(&ad->hw.gt, x_goal);
    double w_a = st == 0 ? (g_before[0] - g_reach) / gr : (g_reach - g_before[1]) / gr;
    /* write noise at the goal: c2c sigma (state) times the slope of g(x) */
    double h = 1e-3, slope = (l2li_gtable_g(&ad->hw.gt, fmax(0, x_goal - h)) -
                              l2li_gtable_g(&ad->hw.gt, fmin(1, x_goal + h))) / (2 * h);
    double sw = ad->hw.var.c2c_sigma * fabs(slope) / gr;
    double e_write = (w_a - w_t) * (w_a - w_t) + (x_goal < x_now ? sw * sw : 0);
    if (e_write >= w_t * w_t)
        return 0; /* stays pruned */
    in->pruned[i][j] = 0;
    double k = fmin(l2li_lut_pulses(lut, x_now, x_goal), 4 * MAX_PULSES);
    double kint = floor(k);
    if (gsl_rng_uniform(rw) < k - kint)
        kint += 1;
    if (kint < 1)
        return 0;
    double y = ss_l2l_lut_apply(lut, in->x[i][j][q], kint * in->speed[i][j][q]);
    in->x[i][j][q] = ss_device_program(&in->dev[i][j][q], &ad->hw.var, rw,
                                       faults ? in->fault[i][j][q] : 0, y);
    return (size_t)kint;
}

static int arm_instance(const ss_l2l_task *t, arm_state *st, const double *prm, uint64_t seed,
                        ss_l2l_arm_trace *out, double *metric, ss_error *err)
{
    const arm_data *ad = t->data;
    inst *in = calloc(1, sizeof *in);
    double(*w)[NOUT] = malloc(STEPS * sizeof *w);
    double(*p0)[2] = malloc(STEPS * sizeof *p0), (*p1)[2] = malloc(STEPS * sizeof *p1);
    double(*th)[2] = malloc(STEPS * sizeof *th);
    double(*L)[NOUT] = malloc(STEPS * sizeof *L), (*Lp)[NOUT] = malloc(STEPS * sizeof *Lp);
    gsl_rng *rn = gsl_rng_alloc(gsl_rng_mt19937), *rd = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng *rw = gsl_rng_alloc(gsl_rng_mt19937), *rw0 = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = SS_OK;
    if (!in || !w || !p0 || !p1 || !th || !L || !Lp || !rn || !rd || !rw || !rw0) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    const ss_l2l_pulse_lut *lut = l2li_lut_cache_get(&st->cache, st->eng, &ad->hw.nominal, 1.0,
                                                     -prm[P_V_SET], prm[P_W_SET], SERIES_R,
                                                     LUT_PULSES, err);
    if (!lut) {
        rc = err->code ? err->code : SS_ESIM;
        goto out;
    }
    unsigned long s32 = (unsigned long)(seed ^ (seed >> 31));
    gsl_rng_set(rn, s32 * 4 + 1);
    gsl_rng_set(rd, s32 * 4 + 2);
    gsl_rng_set(rw, s32 * 4 + 3);
    gsl_rng_set(rw0, s32 * 4 + 3); /* the unlearned replay sees the same read noise */
    make_target(in, rn);
    if ((rc = run_hidden(in, rn, prm[P_GAIN_IN], prm[P_BIAS], prm[P_TAU_OUT],
                         prm[P_STRATIFY] >= 0.5, err)))
        goto out;

    /* the hardware: devices with spread and faults, programmed to x_init */
    ss_device_variation var = ad->hw.var;
    var.p_stuck_on = var.p_stuck_off = ad->p_stuck / 2;
    for (size_t i = 0; i < NHID; i++)
        for (int j = 0; j < NOUT; j++)
            for (int s = 0; s < 2; s++) {
                if ((rc = ss_device_sample(&ad->hw.nominal, &var, rd, &in->dev[i][j][s],
                                           &in->fault[i][j][s], err)))
                    goto out;
                in->speed[i][j][s] = exp(0.2 * gsl_ran_gaussian_ziggurat(rd, 1.0));
                in->x[i][j][s] = ss_device_program(&in->dev[i][j][s], &ad->hw.var, rd,
                                                   SS_DEVICE_FAULT_NONE, prm[P_X_INIT]);
            }
    int faults = ad->p_stuck > 0;
    int mode = prm[P_FAULT_AWARE] < 0.5 ? 0 : prm[P_FAULT_AWARE] < 1.5 ? 1 : 2;
    int aware = mode == 1, retarget = mode == 2, use_prune = mode != 0;

    /* the unlearned replay (same hardware, no write, faults excluded) for the
     * plots; the metric's reference is the arm at rest (zero weights), which
     * no parameter can change */
    replay(ad, in, prm, 0, 0, rw0, w, p0, NULL);
    double mse0 = mse_pos((const double (*)[2])p0, (const double (*)[2])in->target_p);
    double rest = 0;
    for (size_t k = 0; k < STEPS; k++) {
        double dx = in->target_p[k][0] - LINK, dy = in->target_p[k][1] - LINK;
        rest += (dx * dx + dy * dy) / STEPS;
    }

    /* read every device before the demonstration; fault-aware writing
     * prunes the pairs with a device that reads far from its intended state */
    double vr = prm[P_V_READ];
    double g_before[NHID][NOUT][2];
    for (size_t i = 0; i < NHID; i++)
        for (int j = 0; j < NOUT; j++)
            for (int s = 0; s < 2; s++) {
                double g = read_g(ad, &in->dev[i][j][s], faults ? in->fault[i][j][s] : 0,
                                  in->x[i][j][s], vr, rw);
                g_before[i][j][s] = g;
                if (use_prune) {
                    double ge = ss_device_conductance(&ad->hw.nominal, prm[P_X_INIT], 0.1);
                    if (fabs(g / ge - 1) > prm[P_PRE_TOL])
                        in->pruned[i][j] = 1;
                }
            }
    /* demonstration with the initial (possibly faulty, possibly pruned) weights */
    replay(ad, in, prm, faults, use_prune, rw, w, p1, th);
    if ((rc = disturb(in, prm[P_V_READ], err)))
        goto out;
    for (size_t k = 0; k < STEPS; k++) {
        double ex = in->target_p[k][0] - p1[k][0], ey = in->target_p[k][1] - p1[k][1];
        double a1 = in->target_th[k][0], a2 = in->target_th[k][1];
        double s1 = sin(a1), c1 = cos(a1), s12 = sin(a1 + a2), c12 = cos(a1 + a2);
        /* J^T e with J = [[-l s1 - l s12, -l s12], [l c1 + l c12, l c12]] */
        Lp[k][0] = LINK * ((-s1 - s12) * ex + (c1 + c12) * ey);
        Lp[k][1] = LINK * (-s12 * ex + c12 * ey);
        for (int j = 0; j < NOUT; j++)
            L[k][j] = in->target_w[k][j] - w[k][j];
    }
    /* the rule: pulses = eta * |sum_t (L r + a_pos Lp R) dt| * normalisation */
    double A[NHID], Am = 0;
    for (size_t i = 0; i < NHID; i++) {
        A[i] = 0;
        for (size_t k = 0; k < STEPS; k++)
            A[i] += in->r[k][i] * in->r[k][i] * DT;
        Am += A[i] / NHID;
    }
    size_t pulses = 0;
    for (size_t i = 0; i < NHID; i++) {
        double nf = prm[P_NORM] > 0 && A[i] > 0 ? pow(Am / (A[i] + 1e-3 * Am), prm[P_NORM]) : 1;
        for (int j = 0; j < NOUT; j++) {
            if (in->pruned[i][j] && !retarget)
                continue;
            double d = 0;
            for (size_t k = 0; k < STEPS; k++)
                d += (L[k][j] * in->r[k][i] + prm[P_A_POS] * Lp[k][j] * in->R[k][i]) * DT;
            double n = prm[P_ETA] * fabs(d) * nf;
            n = fmin(n, MAX_PULSES);
            double nint = floor(n);
            if (gsl_rng_uniform(rw) < n - nint) /* stochastic rounding */
                nint += 1;
            if (retarget && in->pruned[i][j]) {
                pulses += retarget_pair(ad, in, lut, prm, i, j, d > 0 ? nint : -nint,
                                        g_before[i][j], faults, rw);
                continue;
            }
            if (nint < 1)
                continue;
            int s = d > 0 ? 0 : 1;
            double x0 = in->x[i][j][s];
            double y = ss_l2l_lut_apply(lut, x0, nint * in->speed[i][j][s]);
            y = ss_device_program(&in->dev[i][j][s], &ad->hw.var, rw,
                                  faults ? in->fault[i][j][s] : 0, y);
            in->x[i][j][s] = y;
            pulses += (size_t)nint;
            if (aware) { /* write-verify: did it move as intended? */
                double xi = ss_l2l_lut_apply(lut, x0, nint);
                double dg_int = ss_device_conductance(&ad->hw.nominal, xi, 0.1) -
                                ss_device_conductance(&ad->hw.nominal, x0, 0.1);
                double g = read_g(ad, &in->dev[i][j][s], faults ? in->fault[i][j][s] : 0,
                                  y, vr, rw);
                /* judged only when the intended change stands out of the read noise */
                double noise = 3 * M_SQRT2 * I_FLOOR / vr;
                if (dg_int > noise && g - g_before[i][j][s] < prm[P_POST_FRAC] * dg_int)
                    in->pruned[i][j] = 1;
            }
        }
    }
    /* test replay */
    replay(ad, in, prm, faults, use_prune, rw, w, p1, NULL);
    double mse1 = mse_pos((const double (*)[2])p1, (const double (*)[2])in->target_p);
    double nmse = rest > 0 ? mse1 / rest : 1;
    if (!isfinite(nmse))
        nmse = 1e6;
    *metric = fmin(nmse, 1e6);
    if (out) {
        ss_l2l_arm_trace_release(out);
        out->steps = STEPS;
        out->target = malloc(2 * STEPS * sizeof *out->target);
        out->unlearned = malloc(2 * STEPS * sizeof *out->unlearned);
        out->learned = malloc(2 * STEPS * sizeof *out->learned);
        if (!out->target || !out->unlearned || !out->learned) {
            ss_l2l_arm_trace_release(out);
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        memcpy(out->target, in->target_p, 2 * STEPS * sizeof(double));
        memcpy(out->unlearned, p0, 2 * STEPS * sizeof(double));
        memcpy(out->learned, p1, 2 * STEPS * sizeof(double));
        out->mse_unlearned = mse0;
        out->mse_rest = rest;
        out->mse_learned = mse1;
        out->nmse = *metric;
        out->pulses = pulses;
        for (size_t i = 0; i < NHID; i++)
            for (int j = 0; j < NOUT; j++) {
                out->pruned += in->pruned[i][j];
                for (int s = 0; s < 2; s++)
                    out->faulty += faults && in->fault[i][j][s] != SS_DEVICE_FAULT_NONE;
            }
    }
out:
    free(in);
    free(w), free(p0), free(p1), free(th), free(L), free(Lp);
    gsl_rng_free(rn), gsl_rng_free(rd), gsl_rng_free(rw), gsl_rng_free(rw0);
    return rc;
}

int ss_l2l_arm_run(const ss_l2l_task *task, void *state, const double *x, uint64_t seed,
                   ss_l2l_arm_trace *tr, ss_error *err)
{
    if (strncmp(task->name, "arm-oneshot", 11) && strncmp(task->name, "faults", 6))
        return ss_error_set(err, SS_EINVAL, "task '%s' is not arm-oneshot or faults",
                            task->name);
    arm_state *st = state;
    int rc = SS_OK;
    if (!st && (rc = arm_start(task, (void **)&st, err)))
        return rc;
    double m;
    rc = arm_instance(task, st, x, seed, tr, &m, err);
    if (st != state)
        arm_stop(task, st);
    return rc;
}

static int arm_evaluate(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                        double *metric, ss_error *err)
{
    arm_state *st = state;
    int rc = SS_OK;
    if (!st && (rc = arm_start(t, (void **)&st, err)))
        return rc;
    rc = arm_instance(t, st, x, seed, NULL, metric, err);
    if (st != state)
        arm_stop(t, st);
    return rc;
}

static void arm_destroy(ss_l2l_task *t)
{
    free(t);
}

ss_l2l_task *l2li_arm_alloc(const char *name, ss_error *err)
{
    double p_stuck = 0;
    if (!strcmp(name, "arm-oneshot"))
        p_stuck = 0;
    else if (!strcmp(name, "faults"))
        p_stuck = 0.1;
    else if (!strncmp(name, "faults:", 7)) {
        if (ss_util_parse_double(name + 7, &p_stuck) || !(p_stuck >= 0 && p_stuck <= 0.5)) {
            ss_error_set(err, SS_EINVAL, "task '%s': the stuck fraction must be in [0, 0.5]",
                         name);
            return NULL;
        }
    } else {
        ss_error_set(err, SS_ENOTFOUND, "unknown task '%s' (arm-oneshot, faults[:P])", name);
        return NULL;
    }
    arm_task *at = calloc(1, sizeof *at);
    if (!at) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    ss_l2l_task *t = &at->t;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->metric = "NMSE";
    memcpy(at->params, arm_params, sizeof at->params);
    if (p_stuck > 0) { /* faults: re-targeting by default, its threshold free */
        at->params[P_FAULT_AWARE].init = 2;
        at->params[P_FAULT_AWARE].flags = SS_L2L_FIXED;
        at->params[P_PRE_TOL].flags = 0;
    }
    t->params = at->params;
    t->nparams = P_NPARAM;
    t->ntrain = 8;
    t->nval = 24;
    t->ntest = 100;
    t->start = arm_start;
    t->evaluate = arm_evaluate;
    t->stop = arm_stop;
    t->destroy = arm_destroy;
    t->data = &at->a;
    arm_data *ad = &at->a;
    ad->p_stuck = p_stuck;
    t->set_device = l2li_hw_set_device;
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    if (ss_device_apply_preset(&d, "vteam_demo", err) ||
        ss_device_set_list(&d, "window=biolek p=1", err) || l2li_hw_set_device(t, &d, err)) {
        free(at);
        return NULL;
    }
    return t;
}
