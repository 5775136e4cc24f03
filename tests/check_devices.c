/* check_devices.c: memristor models against textbook formulas, closed-form
 * solutions and finite differences; the CVODE single-device driver; the
 * emitted ngspice subcircuits against the C models; variability statistics;
 * and the `smallsim device` command. */
#include <check.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"
#include "tests/ss_test.h"

static ss_device preset(const char *name, int hard)
{
    ss_device d;
    ss_error err;
    d.hard = hard;
    ck_assert_msg(ss_device_apply_preset(&d, name, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_device_validate(&d, &err) == SS_OK, "%s", err.msg);
    d.hard = hard;
    return d;
}

static void set(ss_device *d, const char *list)
{
    ss_error err;
    ck_assert_msg(ss_device_set_list(d, list, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_device_validate(d, &err) == SS_OK, "%s", err.msg);
}

static void run(const ss_device *d, const char *wave, double series, size_t points,
                ss_devsim_trace *tr)
{
    ss_wave w;
    ss_error err;
    ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
    opt.series_r = series;
    opt.points = points;
    ck_assert_msg(ss_wave_parse(&w, wave, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_devsim_run(d, &w, &opt, tr, &err) == SS_OK, "%s: %s", wave, err.msg);
}

/* ---- models --------------------------------------------------------------- */

/* i(0, x) = 0 for every model and state, and the sampled loop passes
 * through the origin whenever the drive crosses zero. */
START_TEST(pinched_loop)
{
    for (const ss_device_preset *p = ss_device_presets; p->name; p++) {
        for (int hard = 0; hard < 2; hard++) {
            ss_device d = preset(p->name, hard);
            for (double x = 0; x <= 1.0; x += 0.137)
                ck_assert_double_eq(ss_device_current(&d, 0.0, x), 0.0);
        }
        ss_device d = preset(p->name, 0);
        ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
        run(&d, p->drive, 0, 801, &tr);
        double imax = 0;
        for (size_t k = 0; k < tr.n; k++)
            imax = fmax(imax, fabs(tr.i[k]));
        ck_assert(imax > 0);
        for (size_t k = 0; k < tr.n; k++)
            if (fabs(tr.v[k]) < 1e-12)
                ck_assert_msg(fabs(tr.i[k]) <= 1e-9 * imax, "%s: i = %g at v = %g", p->name,
                              tr.i[k], tr.v[k]);
        ss_devsim_trace_release(&tr);
    }
}
END_TEST

/* Area of the loop traced during the positive half cycle (shoelace). */
static double lobe_area(const ss_device *d, double freq)
{
    char wave[64];
    snprintf(wave, sizeof wave, "sine:0.45:%g", freq);
    ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
    run(d, wave, 0, 4001, &tr);
    double a = 0;
    for (size_t k = 0; k + 1 < tr.n / 2 + 1; k++)
        a += 0.5 * (tr.v[k] * tr.i[k + 1] - tr.v[k + 1] * tr.i[k]);
    ss_devsim_trace_release(&tr);
    return fabs(a);
}

START_TEST(lobe_area_shrinks_with_frequency)
{
    ss_device d = preset("oblea_sine", 0);
    double a1 = lobe_area(&d, 100), a2 = lobe_area(&d, 1e3), a3 = lobe_area(&d, 1e4),
           a4 = lobe_area(&d, 1e5);
    ck_assert_msg(a1 > 1.5 * a2 && a2 > 1.5 * a3 && a3 > 1.5 * a4,
                  "areas %g %g %g %g", a1, a2, a3, a4);
    /* At high frequency the state cannot follow: the loop closes to a line. */
    ck_assert_double_lt(a4, 0.05 * a1);
}
END_TEST

/* Between the thresholds VTEAM does not move: exactly in hard mode, to
 * far below integration tolerance in smooth mode. */
START_TEST(vteam_frozen_between_thresholds)
{
    for (int hard = 0; hard < 2; hard++) {
        ss_device d;
        ss_device_init(&d, ss_device_vteam);
        d.hard = hard;
        set(&d, "v_on=-0.5 v_off=0.4 k_on=-1e-2 k_off=1e-2 w0=1.1n window=joglekar");
        double x0 = ss_device_x0(&d);
        for (double v = -0.5; v <= 0.4; v += 0.0173) {
            double r = ss_device_dxdt(&d, v, x0);
            if (hard)
                ck_assert_double_eq(r, 0.0);
            else if (v > -0.45 && v < 0.35)
                ck_assert_double_lt(fabs(r), 1e-12);
        }
        ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
        run(&d, "triangle:0.3:1k:3", 0, 301, &tr);
        for (size_t k = 0; k < tr.n; k++)
            ck_assert_double_eq_tol(tr.x[k], x0, 1e-12);
        ss_devsim_trace_release(&tr);
        /* Just outside a threshold it moves. */
        run(&d, "triangle:0.6:1k:1", 0, 301, &tr);
        ck_assert_double_gt(fabs(tr.x[tr.n - 1] - x0), 1e-3);
        ss_devsim_trace_release(&tr);
    }
}
END_TEST

/* Constant drive with window f = 1: x(t) = x0 + rate t until the bound. */
START_TEST(closed_form_constant_drive)
{
    ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
    /* VTEAM, RESET at 0.7 V: rate = k_off (v/v_off - 1)^alpha_off / D. */
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    set(&d, "v_on=-0.3 v_off=0.2 k_off=2.385e-9 alpha_off=2 k_on=-1e-3 alpha_on=3 "
            "w_on=0 w_off=3n w0=0.3n window=none");
    double rate = 2.385e-9 * pow(0.7 / 0.2 - 1, 2) / 3e-9; /* 4.97 /s */
    run(&d, "pulse:0.7:0.7:0.1:0.16:1", 0, 17, &tr);
    for (size_t k = 0; k < tr.n; k++) {
        double exact = 0.1 + rate * tr.t[k];
        ck_assert_msg(fabs(tr.x[k] - exact) < 1e-7, "t=%g x=%.12g exact=%.12g", tr.t[k], tr.x[k],
                      exact);
    }
    ss_devsim_trace_release(&tr);
    /* SET at -0.55 V, alpha_on = 3, from x = 0.9. */
    set(&d, "w0=2.7n k_on=-2.385u");
    rate = -2.385e-6 * pow(-0.55 / -0.3 - 1, 3) / 3e-9; /* -460 /s */
    run(&d, "pulse:-0.55:-0.55:1m:1.6m:1", 0, 17, &tr);
    for (size_t k = 0; k < tr.n; k++)
        ck_assert_double_eq_tol(tr.x[k], 0.9 + rate * tr.t[k], 1e-7);
    ss_devsim_trace_release(&tr);

    /* Yakopcic below xp (window 1): rate = Ap (e^V - e^Vp). */
    ss_device y;
    ss_device_init(&y, ss_device_yakopcic);
    set(&y, "ap=2.385 vp=0.3 xp=0.95 x0=0.05");
    rate = 2.385 * (exp(0.8) - exp(0.3));
    run(&y, "pulse:0.8:0.8:0.1:0.16:1", 0, 17, &tr);
    for (size_t k = 0; k < tr.n; k++)
        ck_assert_double_eq_tol(tr.x[k], 0.05 + rate * tr.t[k], 1e-7);
    ss_devsim_trace_release(&tr);
}
END_TEST

/* Textbook equations, written out independently (hard mode must match). */
static double tb_vteam_dxdt(double v, double x, int window, double p)
{
    double D = 3e-9, dw = 0;
    double w = x * D;
    double f_off = 1, f_on = 1;
    if (window == 1)
        f_off = f_on = 1 - pow(2 * w / D - 1, 2 * p);
    if (window == 2) {
        f_off = 1 - pow(w / D, 2 * p);     /* stp(-v) = 0 for v > 0 */
        f_on = 1 - pow(w / D - 1, 2 * p);  /* stp(-v) = 1 for v < 0 */
    }
    if (v > 0.02)
        dw = 5e-4 * pow(v / 0.02 - 1, 1) * f_off;
    else if (v < -0.2)
        dw = -10 * pow(v / -0.2 - 1, 3) * f_on;
    return dw / D;
}

static double tb_yak_i(double v, double x)
{
    return v >= 0 ? 0.17 * x * sinh(0.05 * v) : 0.17 * x * sinh(0.05 * v);
}

static double tb_yak_dxdt(double V, double x)
{
    /* memristor_yakopcic.sub with Oblea sine parameters */
    double Vp = 0.16, Vn = 0.15, Ap = 4000, An = 4000, xp = 0.3, xn = 0.5, ap = 1, an = 5;
    double g = V <= Vp ? (V >= -Vn ? 0 : -An * (exp(-V) - exp(Vn))) : Ap * (exp(V) - exp(Vp));
    double f;
    if (V >= 0)
        f = x >= xp ? exp(-ap * (x - xp)) * (xp / (1 - xp) - x / (1 - xp) + 1) : 1;
    else
        f = x <= 1 - xn ? exp(an * (x + xn - 1)) * (x / (1 - xn)) : 1;
    return g * f;
}

static double tb_yak20_dxdt(double V, double x)
{
    /* the 2020 subcircuit with the nbsto_10um preset */
    double Vp = 0.5, Vn = -0.5, Ap = 0.10659, An = 0.011843, xp = 0.1, xn = 0.242, ap = 1, an = 1;
    double g = V < Vn ? -An * (exp(-V) - exp(-Vn)) : V > Vp ? Ap * (exp(V) - exp(Vp)) : 0;
    double f = V >= 0 ? (x >= xp ? exp(-ap * (x - xp)) * (xp / (1 - xp) - x / (1 - xp) + 1) : 1)
                      : (x <= xn ? exp(an * (x - xn)) * (x / xn) : 1);
    return g * f;
}

static double tb_yak20_i(double V, double x)
{
    return V >= 0 ? 9e-5 * sinh(4.96 * V) * x + 1.5e-5 * sinh(6.91 * V) * (1 - x)
                  : 1.7e-4 * sinh(3.23 * V) * x + 4.4e-7 * sinh(2.6 * V) * (1 - x);
}

static void close_rel(double a, double b, const char *what, double v, double x)
{
    ck_assert_msg(fabs(a - b) <= 1e-12 * fmax(fabs(b), 1e-300) + 1e-300, "%s(v=%g, x=%g): %.17g vs %.17g",
                  what, v, x, a, b);
}

START_TEST(hard_mode_is_textbook)
{
    const char *windows[] = {"window=none", "window=joglekar", "window=biolek"};
    for (int wdx = 0; wdx < 3; wdx++) {
        ss_device d = preset("vteam_demo", 1);
        set(&d, windows[wdx]);
        for (double v = -0.61; v <= 0.6; v += 0.0137)
            for (double x = 0.013; x < 1; x += 0.0921) {
                close_rel(ss_device_dxdt(&d, v, x), tb_vteam_dxdt(v, x, wdx, 2), "vteam dxdt", v, x);
                close_rel(ss_device_current(&d, v, x), v / (50 + 950 * x), "vteam i", v, x);
            }
        set(&d, "iv=exponential");
        for (double x = 0.013; x < 1; x += 0.0921)
            close_rel(ss_device_current(&d, 0.2385, x), 0.2385 / (50 * exp(log(20.0) * x)),
                      "vteam exp i", 0.2385, x);
    }
    ss_device y = preset("oblea_sine", 1), z = preset("nbsto_10um", 1);
    for (double v = -1.2; v <= 1.2; v += 0.0173)
        for (double x = 0.004; x <= 1; x += 0.0613) {
            close_rel(ss_device_dxdt(&y, v, x), tb_yak_dxdt(v, x), "yakopcic dxdt", v, x);
            close_rel(ss_device_current(&y, v, x), tb_yak_i(v, x), "yakopcic i", v, x);
            close_rel(ss_device_dxdt(&z, v, x), tb_yak20_dxdt(v, x), "yakopcic2020 dxdt", v, x);
            close_rel(ss_device_current(&z, v, x), tb_yak20_i(v, x), "yakopcic2020 i", v, x);
        }
    /* small read voltages: sinh to full precision (a difference of
     * exponentials lost ~1e-12 relative here) */
    for (double v = 2.385e-9; v < 1e-2; v *= 7.3) {
        double i = ss_device_current(&y, v, 0.5), want = tb_yak_i(v, 0.5);
        ck_assert_msg(fabs(i - want) <= 4e-16 * fabs(want), "yakopcic i(%g): %.17g vs %.17g", v, i, want);
    }
}
END_TEST

/* Smooth mode stays close to the textbook away from the switch points. */
START_TEST(smooth_close_to_hard)
{
    ss_device s = preset("oblea_sine", 0), h = preset("oblea_sine", 1);
    for (double v = 0.2; v <= 0.6; v += 0.05)
        ck_assert_double_eq_tol(ss_device_dxdt(&s, v, 0.1) / ss_device_dxdt(&h, v, 0.1), 1.0, 1e-6);
    ss_device vs = preset("vteam_demo", 0), vh = preset("vteam_demo", 1);
    for (double v = 0.05; v <= 0.6; v += 0.05)
        ck_assert_double_eq_tol(ss_device_dxdt(&vs, v, 0.5) / ss_device_dxdt(&vh, v, 0.5), 1.0,
                                1e-6);
}
END_TEST

/* Analytic derivatives against central differences, smooth mode. */
START_TEST(derivatives_match_differences)
{
    const char *cfg[][2] = {{"vteam_demo", ""},
                            {"vteam_demo", "window=joglekar p=3"},
                            {"vteam_demo", "window=biolek"},
                            {"vteam_demo", "window=prodromakis p=2 j=1.2"},
                            {"vteam_demo", "window=kvatinsky a_on=0.2n a_off=2.8n"},
                            {"vteam_5k200k", "iv=exponential alpha_off=2.385"},
                            {"oblea_sine", ""},
                            {"hp_tio2", "eta=-1"},
                            {"nbsto_10um", ""}};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        ss_device d = preset(cfg[c][0], 0);
        set(&d, cfg[c][1]);
        double vmax = strstr(cfg[c][0], "vteam") ? 0.45 : 1.6;
        for (double v = -vmax; v <= vmax; v += vmax / 7.3)
            for (double x = 0.031; x < 1; x += 0.117) {
                ss_device_eval e, a, b;
                ss_device_evaluate(&d, v, x, &e);
                double hv = 1e-6, hx = 1e-6;
                ss_device_evaluate(&d, v + hv, x, &a);
                ss_device_evaluate(&d, v - hv, x, &b);
                double fi = (a.i - b.i) / (2 * hv), fr = (a.dxdt - b.dxdt) / (2 * hv);
                ck_assert_msg(fabs(e.di_dv - fi) <= 1e-5 * fabs(fi) + 1e-12, "%s %s di/dv", cfg[c][0],
                              cfg[c][1]);
                ck_assert_msg(fabs(e.ddxdt_dv - fr) <= 1e-4 * fabs(fr) + 1e-6 * fabs(e.dxdt) + 1e-9,
                              "%s %s d(dxdt)/dv at v=%g x=%g: %g vs %g", cfg[c][0], cfg[c][1], v,
                              x, e.ddxdt_dv, fr);
                ss_device_evaluate(&d, v, x + hx, &a);
                ss_device_evaluate(&d, v, x - hx, &b);
                fi = (a.i - b.i) / (2 * hx), fr = (a.dxdt - b.dxdt) / (2 * hx);
                ck_assert_msg(fabs(e.di_dx - fi) <= 1e-5 * fabs(fi) + 1e-12, "%s di/dx", cfg[c][0]);
                ck_assert_msg(fabs(e.ddxdt_dx - fr) <= 1e-4 * fabs(fr) + 1e-6 * fabs(e.dxdt) + 1e-9,
                              "%s %s d(dxdt)/dx at v=%g x=%g: %g vs %g", cfg[c][0], cfg[c][1], v,
                              x, e.ddxdt_dx, fr);
            }
    }
}
END_TEST

/* No NaN or overflow for any finite input; the state stays in [0, 1]
 * under +-100 V with huge rates. */
START_TEST(extreme_drive_bounded)
{
    const double vals[] = {-1e300, -1e6, -100, -1, 0, 1e-300, 1, 100, 1e6, 1e300};
    for (size_t t = 0; ss_device_types[t]; t++)
        for (int hard = 0; hard < 2; hard++) {
            ss_device d;
            ss_device_init(&d, ss_device_types[t]);
            d.hard = hard;
            for (size_t i = 0; i < 10; i++)
                for (size_t j = 0; j < 10; j++) {
                    ss_device_eval e;
                    ss_device_evaluate(&d, vals[i], vals[j] * 1e-300 + (j % 3) * 0.5, &e);
                    ck_assert(isfinite(e.i) && isfinite(e.dxdt) && isfinite(e.di_dv) &&
                              isfinite(e.di_dx) && isfinite(e.ddxdt_dv) && isfinite(e.ddxdt_dx));
                    ss_device_evaluate(&d, vals[i], vals[j], &e);
                    ck_assert(isfinite(e.dxdt) && isfinite(e.ddxdt_dv) && isfinite(e.ddxdt_dx));
                }
        }
    struct {
        const char *preset, *params;
    } cases[] = {{"vteam_demo", "k_on=-1e6 k_off=1e6 window=none"},
                 {"vteam_demo", "k_on=-1e3 k_off=1e3 window=biolek"},
                 {"oblea_sine", "ap=1e9 an=1e9"},
                 {"nbsto_10um", "ap=1e9 an=1e9"}};
    for (size_t c = 0; c < 4; c++) {
        ss_device d = preset(cases[c].preset, 0);
        set(&d, cases[c].params);
        ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
        run(&d, "sine:100:1k:2", 0, 401, &tr);
        for (size_t k = 0; k < tr.n; k++) {
            ck_assert(isfinite(tr.i[k]) && isfinite(tr.x[k]));
            /* Rates reach 1e22 /s here; CVODE's interpolation between
             * steps may overshoot the bound by ~1e-5 (unbounded, x would
             * run to 1e16). */
            ck_assert_msg(tr.x[k] >= -1e-4 && tr.x[k] <= 1 + 1e-4, "%s: x = %g", cases[c].preset,
                          tr.x[k]);
        }
        ss_devsim_trace_release(&tr);
    }
}
END_TEST

/* Failures come back with their code also when the caller passes no error
 * struct: a sampled device that fails validation, a preset that does not
 * exist. */
START_TEST(failures_without_error_struct)
{
    ss_device d = preset("vteam_demo", 0);
    d.p[ss_device_param_index(d.type, "r_on")] = -2.385;
    ss_device_variation var;
    ss_device_variation_init(&var);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    ss_device out;
    enum ss_device_fault f;
    ck_assert_int_eq(ss_device_sample(&d, &var, r, &out, &f, NULL), SS_EINVAL);
    ss_error err;
    ck_assert_int_eq(ss_device_sample(&d, &var, r, &out, &f, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "sampled device: ") && strstr(err.msg, "r_on"), "%s", err.msg);
    gsl_rng_free(r);
    ck_assert_int_eq(ss_device_apply_preset(&d, "nosuch", NULL), SS_ENOTFOUND);
}
END_TEST

static void expect_error(const char *preset_name, const char *list, int code, const char *text)
{
    ss_device d = preset(preset_name, 0);
    ss_error err;
    ss_error_clear(&err);
    int rc = ss_device_set_list(&d, list, &err);
    if (!rc)
        rc = ss_device_validate(&d, &err);
    ck_assert_msg(rc == code, "%s: code %d, expected %d (%s)", list, rc, code, err.msg);
    ck_assert_msg(strstr(err.msg, text), "%s: message '%s' lacks '%s'", list, err.msg, text);
}

START_TEST(validation_errors)
{
    expect_error("vteam_demo", "v_on=0.2", SS_EINVAL, "parameter 'v_on' must be negative");
    expect_error("vteam_demo", "v_off=-0.1", SS_EINVAL, "parameter 'v_off' must be positive");
    expect_error("vteam_demo", "k_on=5", SS_EINVAL, "parameter 'k_on' must be negative");
    expect_error("vteam_demo", "r_on=-50", SS_EINVAL, "parameter 'r_on' must be positive");
    expect_error("vteam_demo", "r_off=10", SS_EINVAL, "parameter 'r_off' must be greater");
    expect_error("vteam_demo", "w0=5n", SS_EINVAL, "parameter 'w0'");
    expect_error("vteam_demo", "p=0.5", SS_EINVAL, "parameter 'p'");
    expect_error("vteam_demo", "window=hann", SS_EINVAL, "joglekar, biolek");
    expect_error("vteam_demo", "r_onn=5", SS_ENOTFOUND, "unknown parameter 'r_onn'");
    expect_error("vteam_demo", "r_on=fifty", SS_EINVAL, "parameter 'r_on': 'fifty' is not a number");
    expect_error("vteam_demo", "r_on", SS_EINVAL, "expected name=value");
    expect_error("oblea_sine", "vn=-0.15", SS_EINVAL, "yakopcic2020");
    expect_error("oblea_sine", "xp=1", SS_EINVAL, "parameter 'xp'");
    expect_error("oblea_sine", "eta=0.5", SS_EINVAL, "parameter 'eta'");
    expect_error("nbsto_10um", "vn=0.5", SS_EINVAL, "parameter 'vn' must be <= 0");
    expect_error("nbsto_10um", "a1=0.1", SS_ENOTFOUND, "unknown parameter 'a1'");
    /* SPICE numbers */
    ss_device d = preset("vteam_demo", 0);
    set(&d, "r_off=20k w_off=3.5n k_off=2.385u");
    ck_assert_double_eq_tol(ss_device_get(&d, "r_off"), 20e3, 1e-9);
    ck_assert_double_eq_tol(ss_device_get(&d, "w_off"), 3.5e-9, 1e-24);
    ck_assert_double_eq_tol(ss_device_get(&d, "k_off"), 2.385e-6, 1e-20);
    ss_error err;
    ck_assert_int_eq(ss_device_apply_preset(&d, "nosuch", &err), SS_ENOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown preset 'nosuch'"));
    ss_buf b = SS_BUF_INIT;
    ck_assert_int_eq(ss_device_write_spice(&d, "bad name", &b, &err), SS_EINVAL);
    ck_assert_int_eq((int)b.len, 0);
    ss_buf_release(&b);
    /* waves */
    ss_wave w;
    const char *bad[] = {"sine:1", "square:1:1", "sine:1:0", "sine:1:1k:0", "triangle:1:x",
                         "pulse:0:1:2:1:3", "pulse:0:1:1u:2u:1.5", "sine:1:1:1:1", NULL};
    for (size_t k = 0; bad[k]; k++)
        ck_assert_msg(ss_wave_parse(&w, bad[k], &err) == SS_EINVAL, "%s accepted", bad[k]);
    ck_assert_int_eq(ss_wave_parse(&w, "triangle:2:1k", &err), SS_OK);
    ck_assert_double_eq_tol(ss_wave_value(&w, 0.25e-3), 2, 1e-12);
    ck_assert_double_eq_tol(ss_wave_value(&w, 0.5e-3), 0, 1e-12);
    ck_assert_double_eq_tol(ss_wave_value(&w, 0.75e-3), -2, 1e-12);
    ck_assert_double_eq_tol(ss_wave_value(&w, 0.125e-3), 1, 1e-12);
}
END_TEST

/* ---- C against ngspice ----------------------------------------------------- */

static ss_engine *eng;

static void open_engine(void)
{
    ss_error err;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
}

static void close_engine(void)
{
    ss_engine_free(eng);
    eng = NULL;
}

static void agree(const ss_device *d, const char *name, const char *wave, double series, double tol)
{
    ss_wave w;
    ss_error err;
    ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
    opt.series_r = series;
    opt.points = 2001;
    ss_devsim_trace a = SS_DEVSIM_TRACE_INIT, b = SS_DEVSIM_TRACE_INIT;
    ck_assert_msg(ss_wave_parse(&w, wave, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_devsim_run(d, &w, &opt, &a, &err) == SS_OK, "%s %s: %s", name, wave, err.msg);
    ck_assert_msg(ss_devsim_run_spice(eng, d, &w, &opt, &b, &err) == SS_OK, "%s %s: %s", name,
                  wave, err.msg);
    double ei = ss_devsim_nrmse(b.i, a.i, a.n), ex = ss_devsim_nrmse(b.x, a.x, a.n);
    ck_assert_msg(ei < tol && ex < tol, "%s %s R=%g: NRMSE i %.3g x %.3g", name, wave, series, ei,
                  ex);
    ss_devsim_trace_release(&a);
    ss_devsim_trace_release(&b);
}

static void waves_for(const ss_device_preset *p, char spec[3][160])
{
    ss_wave w;
    ck_assert_int_eq(ss_wave_parse(&w, p->drive, NULL), SS_OK);
    double amp = w.amp, f = 1.0 / ss_wave_period(&w);
    snprintf(spec[0], 160, "sine:%.17g:%.17g:2", amp, f);
    snprintf(spec[1], 160, "triangle:%.17g:%.17g:2", amp, f);
    snprintf(spec[2], 160, "pulse:%.17g:%.17g:%.17g:%.17g:3", -amp, amp, 0.4 / f, 1 / f);
}

START_TEST(c_matches_ngspice_presets)
{
    const ss_device_preset *p = &ss_device_presets[_i];
    char spec[3][160];
    waves_for(p, spec);
    ss_device d = preset(p->name, 0);
    for (int k = 0; k < 3; k++)
        agree(&d, p->name, spec[k], 0, 0.01);
}
END_TEST

START_TEST(c_matches_ngspice_variants)
{
    const char *windows[] = {"window=joglekar w0=0.3n", "window=biolek", "window=prodromakis",
                             "window=kvatinsky a_on=0.1n a_off=2.9n", "iv=exponential"};
    for (size_t k = 0; k < 5; k++) {
        ss_device d = preset("vteam_demo", 0);
        set(&d, windows[k]);
        agree(&d, windows[k], "sine:0.3:1meg:2", 0, 0.01);
    }
    ss_device d = preset("oblea_sine", 0);
    agree(&d, "oblea_sine", "sine:0.45:100:2", 47, 0.01);
    set(&d, "eta=-1 x0=0.9");
    agree(&d, "oblea_sine eta=-1", "triangle:0.45:100:2", 0, 0.01);
    d = preset("vteam_5k200k", 0);
    agree(&d, "vteam_5k200k", "pulse:-0.5:0.5:400n:1u:3", 2e3, 0.01);
}
END_TEST

/* Hard mode through ngspice: slower and allowed to fail on the VTEAM
 * pulse (ngspice's "timestep too small" on the jump), so only the smooth
 * waves and only in the long run. */
START_TEST(c_matches_ngspice_hard)
{
    for (const ss_device_preset *p = ss_device_presets; p->name; p++) {
        char spec[3][160];
        waves_for(p, spec);
        ss_device d = preset(p->name, 1);
        agree(&d, p->name, spec[0], 0, 0.01);
        agree(&d, p->name, spec[1], 0, 0.01);
    }
}
END_TEST

/* The emitted subcircuit's initial state: the default x0, an instance's
 * x0=..., and an .ic on the state node, which ngspice ignores under uic
 * (the capacitor's IC wins), as the subcircuit's header says. */
START_TEST(spice_initial_state)
{
    ss_device d = preset("oblea_sine", 0);
    ss_buf b = SS_BUF_INIT;
    ss_error err;
    ck_assert_int_eq(ss_buf_printf(&b, "initial state\n"), 0);
    ck_assert_int_eq(ss_device_write_spice(&d, "ob", &b, &err), 0);
    ck_assert_ptr_nonnull(strstr(b.data, ".subckt ob te be params: x0=0.11"));
    ck_assert_int_eq(ss_buf_printf(&b, "V1 in 0 DC 0\nX1 in 0 ob\nX2 in 0 ob x0=0.6\n"
                                       "X3 in 0 ob x0=0.3\n.ic v(x3.xs)=0.9\n"
                                       ".tran 1m 5m uic\n.end\n"),
                     0);
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_engine_run_text(eng, b.data, "ic.cir", 0, &res, &err) == 0, "%s", err.msg);
    const char *names[3] = {"v(x1.xs)", "v(x2.xs)", "v(x3.xs)"};
    const double want[3] = {0.11, 0.6, 0.3};
    for (int k = 0; k < 3; k++) {
        const ss_vector *v = ss_result_find(&res, names[k]);
        ck_assert_msg(v && v->n > 1, "%s missing", names[k]);
        ck_assert_double_eq_tol(v->re[0], want[k], 1e-12);
        ck_assert_double_eq_tol(v->re[v->n - 1], want[k], 1e-9); /* 0 V: the state holds */
    }
    ss_result_release(&res);
    ss_buf_release(&b);
}
END_TEST

/* ---- variability --------------------------------------------------------- */

START_TEST(variability_reproducible_and_calibrated)
{
    ss_device nom = preset("vteam_demo", 0);
    ss_device_variation var;
    ss_device_variation_literature(&var, ss_device_vteam);
    ss_error err;
    ck_assert_int_eq(ss_device_variation_validate(&var, ss_device_vteam, &err), SS_OK);
    enum { N = 5000 };
    double *lr = malloc(N * sizeof *lr), *lr2 = malloc(N * sizeof *lr2);
    int non = 0, noff = 0;
    for (int pass = 0; pass < 2; pass++) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        gsl_rng_set(r, 2385);
        for (int k = 0; k < N; k++) {
            ss_device d;
            enum ss_device_fault f;
            ck_assert_int_eq(ss_device_sample(&nom, &var, r, &d, &f, &err), SS_OK);
            (pass ? lr2 : lr)[k] = log(ss_device_get(&d, "r_on") / 50.0);
            if (!pass) {
                non += f == SS_DEVICE_FAULT_STUCK_ON;
                noff += f == SS_DEVICE_FAULT_STUCK_OFF;
            }
        }
        gsl_rng_free(r);
    }
    double m = 0, s = 0;
    for (int k = 0; k < N; k++) {
        ck_assert_double_eq(lr[k], lr2[k]); /* same seed, same devices */
        m += lr[k];
    }
    m /= N;
    for (int k = 0; k < N; k++)
        s += (lr[k] - m) * (lr[k] - m);
    s = sqrt(s / (N - 1));
    ck_assert_double_eq_tol(m, 0.0, 0.015);  /* median = nominal */
    ck_assert_double_eq_tol(s, 0.25, 0.01);  /* sigma of ln R */
    ck_assert_double_eq_tol((double)non / N, 0.0904, 0.012);
    ck_assert_double_eq_tol((double)noff / N, 0.0175, 0.006);
    free(lr);
    free(lr2);

    /* c2c noise, levels, read noise, faults, retention */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 7);
    ss_device_variation_init(&var);
    var.c2c_sigma = 0.02;
    double sum = 0, sum2 = 0;
    for (int k = 0; k < 4000; k++) {
        double x = ss_device_program(&nom, &var, r, SS_DEVICE_FAULT_NONE, 0.5);
        sum += x, sum2 += x * x;
    }
    double sd = sqrt(sum2 / 4000 - (sum / 4000) * (sum / 4000));
    ck_assert_double_eq_tol(sd, 0.02, 0.0015);
    var.c2c_sigma = 0;
    var.levels = 5;
    double g0 = ss_device_conductance(&nom, 0, var.v_read), g1 = ss_device_conductance(&nom, 1, var.v_read);
    for (double x = 0; x <= 1; x += 0.0371) {
        double q = ss_device_quantize(&nom, &var, x);
        double level = (ss_device_conductance(&nom, q, var.v_read) - g0) / ((g1 - g0) / 4);
        ck_assert_double_eq_tol(level, round(level), 1e-6);
    }
    var.levels = 0;
    var.read_sigma = 0.03;
    sum = sum2 = 0;
    double i0 = ss_device_current(&nom, 0.1, 0.3);
    for (int k = 0; k < 4000; k++) {
        double i = ss_device_read(&nom, &var, r, SS_DEVICE_FAULT_NONE, 0.1, 0.3) / i0 - 1;
        sum += i, sum2 += i * i;
    }
    ck_assert_double_eq_tol(sqrt(sum2 / 4000), 0.03, 0.002);
    ck_assert_double_eq(ss_device_program(&nom, &var, r, SS_DEVICE_FAULT_STUCK_OFF, 0.2), 1.0);
    ss_device y = preset("oblea_sine", 0);
    ck_assert_double_eq(ss_device_fault_state(&y, SS_DEVICE_FAULT_STUCK_ON, 0.2), 1.0);
    var.retention_tau = 10;
    var.retention_x = 0.5;
    ck_assert_double_eq_tol(ss_device_retention(&var, 0.1, 10), 0.5 - 0.4 * exp(-1), 1e-15);
    gsl_rng_free(r);
    /* bad settings name themselves */
    ck_assert_int_eq(ss_device_variation_set(&var, "spread.r_onn=0.1", &err), SS_OK);
    ck_assert_int_eq(ss_device_variation_validate(&var, ss_device_vteam, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "'r_onn'"));
    ck_assert_int_eq(ss_device_variation_set(&var, "p_stuck=0.1", &err), SS_ENOTFOUND);
}
END_TEST

/* ---- the command ---------------------------------------------------------- */

static char out[1 << 16];

START_TEST(cli_device)
{
    const char *p = ss_test_program(), *dir = ss_test_tmpdir();
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device list", p), 0);
    ck_assert_ptr_nonnull(strstr(out, "oblea_sine"));
    ck_assert_ptr_nonnull(strstr(out, "[unverified]"));
    ck_assert_ptr_nonnull(strstr(out, "alpha_off"));
    for (const char *sub = "list\0iv\0spice\0"; *sub; sub += strlen(sub) + 1) {
        ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device %s --help", p, sub), 0);
        ck_assert_ptr_nonnull(strstr(out, "usage: smallsim device"));
    }
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "%s device iv --preset oblea_sine --wave sine:0.45:100 --points 5",
                                p),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "t,v,i,x\n0,0,0,0.11"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "%s device iv --model vteam --param v_on=0.2 --wave sine:1:1", p),
                     2);
    ck_assert_ptr_nonnull(strstr(out, "parameter 'v_on' must be negative"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device iv --model vteam --wave saw:1:1", p), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown kind 'saw'"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "%s device iv --model vteam --param r_on=-5 --wave sine:1:1", p),
                     2);
    ck_assert_ptr_nonnull(strstr(out, "'r_on'"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "%s device iv --preset vteam_demo --hard --series 100 "
                                "--wave pulse:0:0.5:200n:1u:2 --points 201 -o %s/iv.csv "
                                "--plot %s/iv.png",
                                p, dir, dir),
                     0);
    char path[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/iv.png", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_gt((int)st.st_size, 1000);
    snprintf(path, sizeof path, "%s/iv.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    int lines = 0;
    while (fgets(out, sizeof out, f))
        lines++;
    fclose(f);
    ck_assert_int_eq(lines, 202);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device spice --preset hp_tio2 --name hp1", p), 0);
    ck_assert_ptr_nonnull(strstr(out, ".subckt hp1 te be"));
    ck_assert_ptr_nonnull(strstr(out, ".ends hp1"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device spice --model vteam --preset oblea_sine", p),
                     2);
}
END_TEST

Suite *devices_suite(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = tcase_create("models");
    tcase_add_test(tc, pinched_loop);
    tcase_add_test(tc, lobe_area_shrinks_with_frequency);
    tcase_add_test(tc, vteam_frozen_between_thresholds);
    tcase_add_test(tc, closed_form_constant_drive);
    tcase_add_test(tc, hard_mode_is_textbook);
    tcase_add_test(tc, smooth_close_to_hard);
    tcase_add_test(tc, derivatives_match_differences);
    tcase_add_test(tc, extreme_drive_bounded);
    tcase_add_test(tc, validation_errors);
    tcase_add_test(tc, failures_without_error_struct);
    tcase_add_test(tc, variability_reproducible_and_calibrated);
    tcase_add_test(tc, cli_device);
    suite_add_tcase(s, tc);

    TCase *ng = tcase_create("ngspice");
    tcase_add_checked_fixture(ng, open_engine, close_engine);
    tcase_set_timeout(ng, 120);
    size_t np = 0;
    while (ss_device_presets[np].name)
        np++;
    tcase_add_loop_test(ng, c_matches_ngspice_presets, 0, (int)np);
    tcase_add_test(ng, c_matches_ngspice_variants);
    tcase_add_test(ng, spice_initial_state);
    if (ss_test_long())
        tcase_add_test(ng, c_matches_ngspice_hard);
    suite_add_tcase(s, ng);
    return s;
}
