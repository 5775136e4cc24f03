/* check_fitfiles.c: fits from files as instruments write them, against a
 * known truth: a multi-period oscilloscope capture with a header, a sense
 * resistor and an offset; a strongly rectifying device with the log
 * objective; a DC sweep without a time column; a parameter set scored on
 * data (ss_fit_fix_all).  Also: the default bounds hold every preset at its
 * source's drive, for either polarity; and each preset reproduces what its
 * source reports or computes. */
#include <check.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit/ss_fit.h"
#include "tests/ss_test.h"

static ss_device preset(const char *name)
{
    ss_device d;
    ss_error err;
    d.hard = 0;
    ck_assert_msg(ss_device_apply_preset(&d, name, &err) == SS_OK, "%s", err.msg);
    return d;
}

static void set(ss_device *d, const char *list)
{
    ss_error err;
    ck_assert_msg(ss_device_set_list(d, list, &err) == 0, "%s", err.msg);
}

/* The device's current and state under the sampled drive (t, v) behind
 * `series`, by the loop integrator at a tight tolerance. */
static void simulate(const ss_device *d, int pol, size_t n, const double *t, const double *v,
                     double series, double x0, double *i, double *x)
{
    ss_fit_data data = SS_FIT_DATA_INIT;
    ss_fit_trace tr = SS_FIT_TRACE_INIT;
    ss_error err;
    double *zero = calloc(n, sizeof *zero);
    ck_assert_int_eq(ss_fit_data_set(&data, "drive", n, t, v, zero, 0, series, &err), 0);
    ck_assert_msg(ss_fit_simulate(d, pol, &data, x0, 1e-9, &tr, &err) == 0, "%s", err.msg);
    for (size_t k = 0; k < n; k++) {
        i[k] = tr.i[k];
        if (x)
            x[k] = tr.x[k];
    }
    ss_devsim_trace_release(&tr);
    ss_fit_data_release(&data);
    free(zero);
}

/* A DC sweep 0 -> a -> 0 -> -b -> 0 in steps of `step` V, `dt` s each. */
static size_t sweep(double a, double b, double step, double dt, double *t, double *v, size_t max)
{
    const double ends[5] = {0, a, 0, -b, 0};
    size_t n = 0;
    t[n] = 0, v[n] = 0, n++;
    for (int s = 0; s < 4; s++) {
        int m = (int)lround(fabs(ends[s + 1] - ends[s]) / step);
        for (int k = 1; k <= m && n < max; k++, n++) {
            v[n] = ends[s] + (ends[s + 1] - ends[s]) * k / m;
            t[n] = (double)n * dt;
        }
    }
    return n;
}

/* ---- the default bounds hold each preset ------------------------------------------- */

/* Every default-free parameter of every preset lies inside the default
 * bounds computed from data the preset produces under its source's drive;
 * the same with the device connected reversed (data mirrored, polarity -1):
 * the bounds follow the polarity. */
START_TEST(bounds_hold_presets)
{
    enum { N = 801 };
    static double t[N], v[N], i[N];
    for (const ss_device_preset *p = ss_device_presets; p->name; p++) {
        ss_device d = preset(p->name);
        size_t n = N;
        if (!strcmp(p->name, "nbsto_10um")) {
            n = sweep(1, 2, 0.01, 0.0844, t, v, N); /* the source's sweep */
        } else {
            ss_wave w;
            ss_error err;
            ck_assert_int_eq(ss_wave_parse(&w, p->drive, &err), 0);
            double T = ss_wave_duration(&w), vscale = 1;
            for (size_t k = 0; k < n; k++) {
                t[k] = T * (double)k / (double)(n - 1);
                v[k] = ss_wave_value(&w, t[k]);
            }
            if (!strcmp(p->name, "jo_agasi") || !strcmp(p->name, "miao_taox")) {
                /* the sources' asymmetric triangles: +4/-2 V, +0.75/-1.25 V */
                double up = !strcmp(p->name, "jo_agasi") ? 4 : 0.75;
                double dn = !strcmp(p->name, "jo_agasi") ? 2 : 1.25;
                vscale = w.amp;
                for (size_t k = 0; k < n; k++)
                    v[k] = v[k] > 0 ? v[k] / vscale * up : v[k] / vscale * dn;
            }
        }
        simulate(&d, 1, n, t, v, 0, ss_device_x0(&d), i, NULL);
        for (int pol = 1; pol >= -1; pol -= 2) {
            ss_fit_data data = SS_FIT_DATA_INIT;
            ss_error err;
            ck_assert_int_eq(ss_fit_data_set(&data, p->name, n, t, v, i, 0, 0, &err), 0);
            if (pol < 0)
                for (size_t k = 0; k < n; k++)
                    data.v[k] = -data.v[k], data.i[k] = -data.i[k];
            ss_fit *f = ss_fit_alloc(d.type, &err);
            ck_assert_msg(ss_fit_add_data(f, &data, &err) == 0, "%s: %s", p->name, err.msg);
            ss_fit_options o = SS_FIT_OPTIONS_INIT;
            o.polarity = pol;
            ss_fit_set_options(f, &o);
            for (size_t k = 0; k < d.type->nparams; k++) {
                double lo, hi;
                int fr;
                if (d.type->params[k].choices)
                    continue;
                ck_assert_int_eq(ss_fit_get_bounds(f, d.type->params[k].name, &lo, &hi, &fr, &err),
                                 0);
                if (!fr)
                    continue;
                ck_assert_msg(lo <= d.p[k] && d.p[k] <= hi,
                              "%s polarity %+d: %s = %g outside the default bounds [%g, %g]",
                              p->name, pol, d.type->params[k].name, d.p[k], lo, hi);
            }
            ss_fit_free(f);
            ss_fit_data_release(&data);
        }
    }
}
END_TEST

/* ---- presets against their sources -------------------------------------------------- */

/* nbsto_10um against its source's measured sweep (thomastiotto/
 * Memristor-Models fitted/10um_-2V_4_TT_original/data.csv, the data of
 * its parameters.txt): the currents it reports at +1 V (row 102), -2 V
 * (row 402) and -1.5 V on the way back (row 452).  With the rates in SI
 * (ap = 90 x 1e-4/0.0844 s) the preset reproduces them within 15 %; with the
 * source's per-Euler-step numbers taken as 1/s (ap = 90, an = 10) the -2 V
 * current is 100 times too small. */
START_TEST(nbsto_against_its_data)
{
    enum { N = 700 };
    static double t[N], v[N], i[N];
    size_t n = sweep(1, 2, 0.01, 0.0844363, t, v, N);
    ck_assert_uint_eq(n, 601); /* the source's 601 samples */
    const struct {
        size_t row;
        double v, i;
    } src[] = {{102, 1.0, 7.1078478358686e-3},
               {402, -2.0, -5.626e-3},
               {452, -1.5, -6.301e-4}};
    ss_device d = preset("nbsto_10um");
    simulate(&d, 1, n, t, v, 0, 0.0, i, NULL);
    for (size_t k = 0; k < 3; k++) {
        size_t j = src[k].row - 2; /* data row 2 is sample 0 */
        ck_assert_double_eq_tol(v[j], src[k].v, 1e-9);
        double r = i[j] / src[k].i;
        ck_assert_msg(fabs(r - 1) <= 0.15, "nbsto_10um at %g V (row %zu): %g A, source %g A",
                      src[k].v, src[k].row, i[j], src[k].i);
    }
    set(&d, "ap=90 an=10");
    simulate(&d, 1, n, t, v, 0, 0.0, i, NULL);
    ck_assert_msg(fabs(i[400] / src[1].i) < 0.01, "per-step rates at -2 V: %g A", i[400]);
}
END_TEST

/* scipy.signal.sawtooth(x, 0.5): -1 at 0, +1 at pi, -1 at 2 pi. */
static double saw(double x)
{
    double y = fmod(x, 2 * M_PI);
    if (y < 0)
        y += 2 * M_PI;
    return y < M_PI ? -1 + 2 * y / M_PI : 3 - 2 * y / M_PI;
}

/* The drives of thomastiotto backend/functions.py: Sine, and Triangle
 * (|sawtooth| humps, positive in the first half of the run, negative in the
 * second). */
static double source_drive(int triangle, double f, double vp, double vn, double tmax, double t)
{
    if (!triangle) {
        double s = sin(2 * M_PI * f * t);
        return s > 0 ? vp * s : vn * s;
    }
    double a = fabs(saw(2 * M_PI * f * t + M_PI / 2));
    return t < tmax / 2 ? vp * a : -vn * a;
}

/* Yakopcic's 2013 equations as experiments.py integrates them (textbook,
 * written out here): forward Euler, dt = 1e-5 s, x clipped to [0, 1], the
 * rate at the new time. */
typedef struct yak {
    double a1, a2, b, vp, vn, ap, an, xp, xn, alphap, alphan;
} yak;

static double yak_i(const yak *y, double v, double x)
{
    return (v >= 0 ? y->a1 : y->a2) * x * sinh(y->b * v);
}

static double yak_dxdt(const yak *y, double v, double x)
{
    double g = v > y->vp ? y->ap * (exp(v) - exp(y->vp))
               : v < -y->vn ? -y->an * (exp(-v) - exp(y->vn))
                            : 0;
    double f;
    if (v >= 0)
        f = x >= y->xp ? exp(-y->alphap * (x - y->xp)) * ((y->xp - x) / (1 - y->xp) + 1) : 1;
    else
        f = x <= 1 - y->xn ? exp(y->alphan * (x + y->xn - 1)) * (x / (1 - y->xn)) : 1;
    return g * f;
}

/* Each Yakopcic (2013) preset taken from experiments.py, run by the
 * source's own scheme on the source's drive, and by smallsim (smooth mode,
 * the loop integrator) on the same drive: the currents agree within 1 %
 * NRMSE, so the values are in SI as the source used them (time in s, rates
 * in 1/s). */
START_TEST(yakopcic_presets_against_their_source)
{
    const struct {
        const char *preset;
        int triangle;
        double f, vp, vn, tmax;
        yak y;
        double x0;
    } exp_[] = {
        {"oblea_sine", 0, 100, 0.45, 0.45, 40e-3,
         {0.17, 0.17, 0.05, 0.16, 0.15, 4000, 4000, 0.3, 0.5, 1, 5}, 0.11},
        {"oblea_triangle", 1, 100, 0.25, 0.25, 50e-3,
         {0.097, 0.097, 0.05, 0.16, 0.15, 4000, 4000, 0.3, 0.5, 1, 5}, 0.001},
        {"miao_taox", 1, 1.0 / 20, 0.75, 1.25, 20,
         {0.11, 0.11, 0.5, 0.09, 0.75, 7.5, 2, 0.3, 0.5, 1, 5}, 0.11},
        {"jo_agasi", 1, 1.0 / 5, 4, 2, 20,
         {3.7e-7, 4.35e-7, 0.7, 1.5, 0.5, 0.005, 0.08, 0.2, 0.5, 1.2, 3}, 0.1},
    };
    for (size_t e = 0; e < sizeof exp_ / sizeof exp_[0]; e++) {
        const double dt = 1e-5;
        size_t steps = (size_t)lround(exp_[e].tmax / dt);
        /* Samples for the comparison: 1000 or 2000 over the run, a whole
         * number of Euler steps apart and on the triangle's corners. */
        const size_t ns = (e == 3 ? 2000 : 1000) + 1;
        double *t = malloc(ns * sizeof *t), *v = malloc(ns * sizeof *v),
               *is = malloc(ns * sizeof *is), *ie = malloc(ns * sizeof *ie);
        for (size_t k = 0; k < ns; k++) {
            t[k] = exp_[e].tmax * (double)k / (double)(ns - 1);
            v[k] = source_drive(exp_[e].triangle, exp_[e].f, exp_[e].vp, exp_[e].vn,
                                exp_[e].tmax, t[k]);
        }
        /* The source's Euler run, sampled at the same times. */
        double x = exp_[e].x0;
        size_t every = steps / (ns - 1);
        ck_assert_uint_eq(every * (ns - 1), steps);
        ie[0] = yak_i(&exp_[e].y, v[0], x);
        for (size_t s = 1; s <= steps; s++) {
            double ts = (double)s * dt;
            double vs = source_drive(exp_[e].triangle, exp_[e].f, exp_[e].vp, exp_[e].vn,
                                     exp_[e].tmax, ts);
            x = fmin(1.0, fmax(0.0, x + dt * yak_dxdt(&exp_[e].y, vs, x)));
            if (s % every == 0)
                ie[s / every] = yak_i(&exp_[e].y, vs, x);
        }
        ss_device d = preset(exp_[e].preset);
        simulate(&d, 1, ns, t, v, 0, exp_[e].x0, is, NULL);
        double err = ss_devsim_nrmse(is, ie, ns);
        ck_assert_msg(err < 0.01, "%s against experiments.py: NRMSE %g", exp_[e].preset, err);
        free(t), free(v), free(is), free(ie);
    }
}
END_TEST

/* vteam_demo against MemTorch's VTEAM.py (the Technion defaults it
 * carries): its hysteresis-loop demo, a 1 V 50 MHz sine for 200 ns, Euler
 * with dt = 1e-10 s, w in metres clipped to [0, 3 nm], starting ON. */
START_TEST(vteam_demo_against_memtorch)
{
    const double dt = 1e-10, D = 3e-9, f = 50e6;
    const size_t steps = 2000;
    double *t = malloc((steps + 1) * sizeof *t), *v = malloc((steps + 1) * sizeof *v),
           *is = malloc((steps + 1) * sizeof *is), *im = malloc((steps + 1) * sizeof *im);
    double w = 0;
    for (size_t s = 0; s <= steps; s++) {
        t[s] = (double)s * dt;
        v[s] = sin(2 * M_PI * f * t[s]);
        double dw = v[s] >= 0.02 ? 5e-4 * (v[s] / 0.02 - 1)
                    : v[s] <= -0.2 ? -10 * pow(v[s] / -0.2 - 1, 3)
                                   : 0;
        w = fmin(D, fmax(0.0, w + dw * dt));
        im[s] = v[s] / (1000 * w / D + 50 * (1 - w / D));
    }
    ss_device d = preset("vteam_demo");
    simulate(&d, 1, steps + 1, t, v, 0, 0.0, is, NULL);
    double err = ss_devsim_nrmse(is, im, steps + 1);
    ck_assert_msg(err < 0.02, "vteam_demo against MemTorch: NRMSE %g", err);
    free(t), free(v), free(is), free(im);
}
END_TEST

/* ---- fits from instrument files ------------------------------------------------------ */

/* A fit of the parsed data; *res is filled. */
static void fit(const ss_device_type *type, ss_fit_data *d, size_t nd, const char *fix, int obj,
                int pol, int starts, ss_fit_result *res)
{
    ss_error err;
    ss_fit *f = ss_fit_alloc(type, &err);
    for (size_t k = 0; k < nd; k++)
        ck_assert_msg(ss_fit_add_data(f, &d[k], &err) == 0, "%s", err.msg);
    if (fix) {
        char buf[256];
        snprintf(buf, sizeof buf, "%s", fix);
        for (char *tok = strtok(buf, " "); tok; tok = strtok(NULL, " "))
            ck_assert_msg(ss_fit_fix_text(f, tok, &err) == 0, "%s", err.msg);
    }
    ss_fit_options o = SS_FIT_OPTIONS_INIT;
    o.seed = 3;
    o.objective = obj;
    o.polarity = pol;
    o.starts = starts;
    ss_fit_set_options(f, &o);
    ck_assert_msg(ss_fit_run(f, res, &err) == 0, "%s", err.msg);
    ss_fit_free(f);
}

/* An oscilloscope capture as a Keysight InfiniiVision writes it (two
 * header rows, CRLF, "%+.6E"): 12.4 periods of a 100 Hz sine, 400 samples
 * per period, channel 1 the voltage across a 100 ohm sense resistor with a
 * 20 mV offset (3 % of its range) and 1 % noise, channel 2 the applied
 * voltage.  Read with
 * --columns t,vsense,v --sense 100 --offset auto, folded onto one period:
 * the offset is found, and the fit of the folded loop reaches the noise
 * floor with the truth's parameters. */
START_TEST(scope_capture_fit)
{
    enum { PER = 400, SKIP = 8 * PER, N = 4960 };
    const double f = 100, R = 100, off = 20e-3;
    static double t[SKIP + N], v[SKIP + N], i[SKIP + N];
    ss_device truth = preset("oblea_sine");
    for (size_t k = 0; k < SKIP + N; k++) {
        t[k] = (double)k / (PER * f);
        v[k] = 0.5 * sin(2 * M_PI * f * t[k]);
    }
    simulate(&truth, 1, SKIP + N, t, v, R, ss_device_x0(&truth), i, NULL);
    double lo = i[SKIP], hi = i[SKIP];
    for (size_t k = SKIP; k < SKIP + N; k++)
        lo = fmin(lo, i[k]), hi = fmax(hi, i[k]);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2385);
    ss_buf b = SS_BUF_INIT;
    ss_buf_printf(&b, "x-axis,1,2\r\nsecond,Volt,Volt\r\n");
    for (size_t k = SKIP; k < SKIP + N; k++)
        ss_buf_printf(&b, "%+.6E,%+.6E,%+.6E\r\n", t[k] - 0.05,
                      i[k] * R + off + 0.01 * (hi - lo) * R * gsl_ran_gaussian(rng, 1),
                      v[k] + 0.002 * gsl_ran_gaussian(rng, 1));
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
    ss_error err;
    o.columns = "t,vsense,v";
    o.sense_r = R;
    o.offset_mode = SS_FIT_OFFSET_AUTO;
    ck_assert_msg(ss_fit_data_parse(&d, b.data, "scope.csv", &o, &err) == 0, "%s", err.msg);
    ss_buf_release(&b);
    gsl_rng_free(rng);
    ck_assert_uint_eq(d.n, 200);
    ck_assert_double_eq_tol(d.freq, f, 1e-3 * f);
    ck_assert_double_eq(d.series_r, R);
    const char *on = strstr(d.notes, "current offset ");
    ck_assert_ptr_nonnull(on);
    double found = strtod(on + strlen("current offset "), NULL);
    ck_assert_msg(fabs(found - off / R) < 0.1 * off / R, "offset %g A, true %g A", found, off / R);
    /* The folded loop of the truth itself (noise floor): the truth's
     * steady loop at the bin times against the folded data. */
    ss_fit_result res = SS_FIT_RESULT_INIT;
    fit(truth.type, &d, 1, "b=0.05", SS_FIT_OBJECTIVE_LINEAR, 1, 0, &res);
    ck_assert_msg(res.nrmse < 0.01, "scope capture: NRMSE %g", res.nrmse);
    for (const char *const *p = (const char *const[]){"a1", "a2", "vp", "vn", NULL}; *p; p++) {
        int k = ss_device_param_index(truth.type, *p);
        ck_assert_msg(fabs(res.params[k].value / truth.p[k] - 1) < 0.1, "%s = %g, true %g", *p,
                      res.params[k].value, truth.p[k]);
    }
    ss_fit_result_release(&res);
    ss_fit_data_release(&d);
}
END_TEST

/* A strongly rectifying Nb:SrTiO3-like device (the nbsto_10um preset with
 * an OFF branch 100 times smaller: nA at -0.5 V, mA at +1 V) swept as the
 * source swept it, written as a Keithley 4200 export with 5 % log-normal
 * current noise.  The log objective fits log|i| to the noise floor; the
 * NRMSE and the log error are both reported. */
START_TEST(rectifying_log_fit)
{
    enum { NMAX = 700 };
    static double t[NMAX], v[NMAX], i[NMAX];
    size_t n = sweep(1, 2, 0.01, 0.0844, t, v, NMAX);
    ss_device truth = preset("nbsto_10um");
    set(&truth, "gmax_n=1.7e-5 gmin_n=4.4e-9");
    simulate(&truth, 1, n, t, v, 0, 0.0, i, NULL);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 5);
    ss_buf b = SS_BUF_INIT;
    ss_buf_printf(&b, "Item,Smu1.Time[1][1],Smu1.V[1][1],Smu1.I[1][1],Smu1.R[1][1],\r\n");
    double *im = malloc(n * sizeof *im);
    for (size_t k = 0; k < n; k++) {
        im[k] = i[k] * exp(0.05 * gsl_ran_gaussian(rng, 1)) + 2e-12 * gsl_ran_gaussian(rng, 1);
        ss_buf_printf(&b, "%zu,%.10g,%.15G,%.15G,%.15G,\r\n", k + 1, t[k], v[k], im[k],
                      v[k] / im[k]);
    }
    gsl_rng_free(rng);
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
    ss_error err;
    ck_assert_msg(ss_fit_data_parse(&d, b.data, "sweep.csv", &o, &err) == 0, "%s", err.msg);
    ss_buf_release(&b);
    ck_assert_uint_eq(d.n, n);
    /* The truth's own log error against the noisy data: the floor. */
    ss_fit *f0 = ss_fit_alloc(truth.type, &err);
    ck_assert_int_eq(ss_fit_add_data(f0, &d, &err), 0);
    ck_assert_int_eq(ss_fit_set_device(f0, &truth, &err), 0);
    ss_fit_fix_all(f0);
    ck_assert_int_eq(ss_fit_fix(f0, "x0", 0, &err), 0);
    ss_fit_options o0 = SS_FIT_OPTIONS_INIT;
    o0.polarity = 1;
    ss_fit_set_options(f0, &o0);
    ss_fit_result r0 = SS_FIT_RESULT_INIT;
    ck_assert_int_eq(ss_fit_run(f0, &r0, &err), 0);
    double floor = r0.log_rmse;
    ck_assert_msg(floor > 0.015 && floor < 0.03, "floor %g decades", floor); /* 0.05/ln 10 */
    /* The mixed objective of the same set: NRMSE^2 + (0.1 x decades)^2. */
    o0.objective = SS_FIT_OBJECTIVE_MIXED;
    ss_fit_set_options(f0, &o0);
    ss_fit_result rm = SS_FIT_RESULT_INIT;
    ck_assert_int_eq(ss_fit_run(f0, &rm, &err), 0);
    ck_assert_double_eq_tol(rm.log_rmse, floor, 1e-12);
    /* global_nrmse is the residual vector's norm (at the search tolerance),
     * the reported errors come from the curves: the weighting agrees. */
    double want = hypot(rm.nrmse, SS_FIT_LOG_WEIGHT * rm.log_rmse);
    ck_assert_msg(fabs(rm.global_nrmse / want - 1) < 1e-3, "mixed %g, expected %g",
                  rm.global_nrmse, want);
    ss_fit_result_release(&rm);
    ss_fit_result_release(&r0);
    ss_fit_free(f0);
    ss_fit_result res = SS_FIT_RESULT_INIT;
    fit(truth.type, &d, 1, NULL, SS_FIT_OBJECTIVE_LOG, 1, 4, &res);
    ck_assert_int_eq(res.objective, SS_FIT_OBJECTIVE_LOG);
    ck_assert_msg(res.log_rmse <= 2.0 * floor, "log objective: %g decades, floor %g",
                  res.log_rmse, floor);
    ck_assert_msg(res.nrmse > 0 && res.nrmse < 0.03, "NRMSE %g", res.nrmse);
    ck_assert_double_eq_tol(res.cost, res.log_rmse, 1e-9);
    ss_buf j = SS_BUF_INIT;
    ck_assert_int_eq(ss_fit_result_json(&res, &j, &err), 0);
    ck_assert_msg(strstr(j.data, "\"objective\": \"log\"") && strstr(j.data, "\"log_rmse\": "),
                  "%s", j.data);
    ss_buf_release(&j);
    ss_fit_result_release(&res);
    free(im);
    ss_fit_data_release(&d);
}
END_TEST

/* A DC sweep of the TaOx (Miao) device as a semiconductor analyser exports
 * it, "V1,I1,absI" without a time column, 10 mV steps of 50 ms (+0.75 V,
 * -1.25 V as its source drove it), 1 % noise: read with --step-time, the
 * fit reaches the noise floor. */
START_TEST(dc_sweep_fit)
{
    enum { NMAX = 500 };
    static double t[NMAX], v[NMAX], i[NMAX];
    size_t n = sweep(0.75, 1.25, 0.01, 0.05, t, v, NMAX);
    ss_device truth = preset("miao_taox");
    simulate(&truth, 1, n, t, v, 0, ss_device_x0(&truth), i, NULL);
    double lo = i[0], hi = i[0];
    for (size_t k = 0; k < n; k++)
        lo = fmin(lo, i[k]), hi = fmax(hi, i[k]);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 11);
    ss_buf b = SS_BUF_INIT;
    ss_buf_printf(&b, "V1,I1,absI\r\n");
    double *in = malloc(n * sizeof *in);
    for (size_t k = 0; k < n; k++) {
        in[k] = i[k] + 0.01 * (hi - lo) * gsl_ran_gaussian(rng, 1);
        ss_buf_printf(&b, "%.6g,%.6g,%.6g\r\n", v[k], in[k], fabs(in[k]));
    }
    gsl_rng_free(rng);
    double floor = ss_devsim_nrmse(i, in, n);
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
    ss_error err;
    o.step_time = 0.05;
    ck_assert_msg(ss_fit_data_parse(&d, b.data, "sweep.csv", &o, &err) == 0, "%s", err.msg);
    ss_buf_release(&b);
    ck_assert_double_eq_tol(d.t[n - 1], 0.05 * (double)(n - 1), 1e-9);
    ss_fit_result res = SS_FIT_RESULT_INIT;
    fit(truth.type, &d, 1, "b=0.5", SS_FIT_OBJECTIVE_LINEAR, 1, 0, &res);
    ck_assert_msg(res.nrmse <= 1.3 * floor, "DC sweep: NRMSE %g, noise floor %g", res.nrmse,
                  floor);
    ss_fit_result_release(&res);
    free(in);
    ss_fit_data_release(&d);
}
END_TEST

/* Scoring a given set (ss_fit_fix_all): the truth on its own noise-free
 * loops gives NRMSE ~ 0 with each file's initial state found; a wrong set
 * scores worse; every parameter stays as given. */
START_TEST(evaluate_fixed_set)
{
    enum { N = 400 };
    static double t[N], v[N], i1[N], i2[N];
    ss_device truth = preset("oblea_sine");
    for (size_t k = 0; k < N; k++) {
        t[k] = (double)k / (N * 100.0);
        v[k] = 0.45 * sin(2 * M_PI * 100 * t[k]);
    }
    simulate(&truth, 1, N, t, v, 0, 0.3, i1, NULL);
    simulate(&truth, 1, N, t, v, 0, 0.7, i2, NULL);
    ss_fit_data d[2] = {SS_FIT_DATA_INIT, SS_FIT_DATA_INIT};
    ss_error err;
    ck_assert_int_eq(ss_fit_data_set(&d[0], "a", N, t, v, i1, 0, 0, &err), 0);
    ck_assert_int_eq(ss_fit_data_set(&d[1], "b", N, t, v, i2, 0, 0, &err), 0);
    for (int wrong = 0; wrong < 2; wrong++) {
        ss_device dev = truth;
        if (wrong)
            set(&dev, "vp=0.35");
        ss_fit *f = ss_fit_alloc(dev.type, &err);
        ck_assert_int_eq(ss_fit_add_data(f, &d[0], &err), 0);
        ck_assert_int_eq(ss_fit_add_data(f, &d[1], &err), 0);
        ck_assert_int_eq(ss_fit_set_device(f, &dev, &err), 0);
        ss_fit_fix_all(f);
        ss_fit_options o = SS_FIT_OPTIONS_INIT;
        o.polarity = 1;
        ss_fit_set_options(f, &o);
        ss_fit_result res = SS_FIT_RESULT_INIT;
        ck_assert_msg(ss_fit_run(f, &res, &err) == 0, "%s", err.msg);
        ck_assert_uint_eq(res.nfree, 2);
        for (size_t k = 0; k < res.nparams; k++) {
            ck_assert_int_eq(res.params[k].free, 0);
            if (!ss_fit_is_state_param(dev.type, k))
                ck_assert_double_eq(res.params[k].value, dev.p[k]);
        }
        if (!wrong) {
            ck_assert_msg(res.nrmse < 1e-4, "truth scores %g", res.nrmse);
            ck_assert_double_eq_tol(res.files[0].x0, 0.3, 1e-3);
            ck_assert_double_eq_tol(res.files[1].x0, 0.7, 1e-3);
        } else {
            ck_assert_msg(res.nrmse > 0.01, "a wrong vp scores %g", res.nrmse);
        }
        ss_fit_result_release(&res);
        ss_fit_free(f);
    }
    ss_fit_data_release(&d[0]);
    ss_fit_data_release(&d[1]);
}
END_TEST

Suite *fitfiles_suite(void)
{
    Suite *s = suite_create("fitfiles");
    TCase *tc = tcase_create("presets");
    tcase_add_test(tc, bounds_hold_presets);
    tcase_add_test(tc, nbsto_against_its_data);
    tcase_add_test(tc, yakopcic_presets_against_their_source);
    tcase_add_test(tc, vteam_demo_against_memtorch);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    TCase *ff = tcase_create("files");
    tcase_add_test(ff, evaluate_fixed_set);
    tcase_add_test(ff, scope_capture_fit);
    tcase_add_test(ff, dc_sweep_fit);
    tcase_add_test(ff, rectifying_log_fit);
    tcase_set_timeout(ff, 300);
    suite_add_tcase(s, ff);
    return s;
}
