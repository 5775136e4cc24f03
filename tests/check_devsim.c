/* check_devsim.c: the one-device simulator's drives (waveforms and PWL
 * sources, against their definitions) and its series-resistor circuit. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/devsim/ss_devsim.h"
#include "devices/ss_devices.h"
#include "tests/ss_test.h"

Suite *devsim_suite(void);

static ss_device preset(const char *name)
{
    ss_device d;
    ss_error err;
    d.hard = 0;
    ck_assert_msg(ss_device_apply_preset(&d, name, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_device_validate(&d, &err) == SS_OK, "%s", err.msg);
    return d;
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

/* ---- the single-device driver ------------------------------------------------ */

START_TEST(series_resistor_and_points)
{
    ss_device d = preset("oblea_sine");
    ss_devsim_trace a = SS_DEVSIM_TRACE_INIT, b = SS_DEVSIM_TRACE_INIT;
    run(&d, "sine:0.45:100:2", 47.0, 1001, &a);
    for (size_t k = 0; k < a.n; k++)
        ck_assert_double_eq_tol(a.vs[k], a.v[k] + 47.0 * a.i[k], 1e-12);
    /* Output density does not change the integration. */
    run(&d, "sine:0.45:100:2", 47.0, 101, &b);
    for (size_t k = 0; k < b.n; k++) {
        ck_assert_double_eq_tol(b.t[k], a.t[10 * k], 1e-15);
        ck_assert_double_eq_tol(b.x[k], a.x[10 * k], 1e-7);
    }
    ss_devsim_trace_release(&a);
    ss_devsim_trace_release(&b);
    /* A bigger series resistor leaves the device less voltage: less motion. */
    run(&d, "sine:0.45:100", 0.0, 201, &a);
    run(&d, "sine:0.45:100", 100.0, 201, &b);
    ck_assert_double_gt(a.x[100], b.x[100]);
    ss_devsim_trace_release(&a);
    ss_devsim_trace_release(&b);
}
END_TEST

/* ---- drives -------------------------------------------------------------------- */

/* A PWL source holds its first value before the first point and its last
 * after the last, and interpolates linearly in between, as ngspice's PWL. */
START_TEST(pwl_values_and_errors)
{
    ss_pwl w;
    ss_error err;
    ck_assert_int_eq(ss_pwl_parse(&w, "0 0, 1u 2.385  3u,-1", &err), SS_OK);
    ck_assert_uint_eq(w.n, 3);
    ck_assert_double_eq(ss_pwl_value(&w, -1.0), 0.0);
    ck_assert_double_eq_tol(ss_pwl_value(&w, 0.25e-6), 0.25 * 2.385, 1e-15);
    ck_assert_double_eq_tol(ss_pwl_value(&w, 2e-6), 0.5 * (2.385 - 1), 1e-15);
    ck_assert_double_eq(ss_pwl_value(&w, 3e-6), -1.0);
    ck_assert_double_eq(ss_pwl_value(&w, 1.0), -1.0);
    ss_buf b = SS_BUF_INIT;
    ck_assert_int_eq(ss_pwl_spice(&w, &b), SS_OK);
    ck_assert_str_eq(b.data, "PWL(0 0 9.9999999999999995e-07 2.3849999999999998 "
                             "3.0000000000000001e-06 -1)");
    ss_buf_release(&b);
    ss_pwl_release(&w);
    static const struct {
        const char *text, *msg;
    } bad[] = {{"0 0 1u", "time without a value"},
               {"", "no time-value pairs"},
               {"0 0 2u 1 1u 0", "times must increase"},
               {"0 0 0 1", "times must increase"},
               {"-1u 0", "negative time"},
               {"0 0 1x 1", "'1x' is not a number"},
               /* a long number is an error, not its first 63 characters */
               {"0 0 1e-6 1.000000000000000000000000000000000000000000000000000000000000000000009",
                "too long for a number"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        ck_assert_msg(ss_pwl_parse(&w, bad[k].text, &err) == SS_EPARSE, "'%s' accepted",
                      bad[k].text);
        ck_assert_msg(strstr(err.msg, bad[k].msg), "'%s': %s", bad[k].text, err.msg);
        ck_assert_ptr_null(w.t);
    }
    /* pulse files: one line per line of the crossbar, errors at file:line */
    const char *dir = ss_test_tmpdir();
    const char *f = ss_test_write(dir, "p.txt", "# rows\n0 0 1u 1\n\n0 0 2u -1\n");
    ss_pwl *ws = ss_pwl_read_lines(f, 2, "rows", &err);
    ck_assert_msg(ws != NULL, "%s", err.msg);
    ck_assert_double_eq(ss_pwl_value(&ws[1], 1e-6), -0.5);
    ss_pwl_free_array(ws, 2);
    ck_assert_ptr_null(ss_pwl_read_lines(f, 3, "rows", &err));
    ck_assert_msg(strstr(err.msg, "p.txt: 2 waveforms, but the crossbar has 3 rows"), "%s", err.msg);
    ck_assert_ptr_null(ss_pwl_read_lines(f, 1, "columns", NULL));
    ck_assert_ptr_null(ss_pwl_read_lines(f, 1, "columns", &err));
    ck_assert_msg(strstr(err.msg, "p.txt:4: more waveforms than the 1 columns"), "%s", err.msg);
    f = ss_test_write(dir, "q.txt", "0 0 1u 1\n0 0 1u\n");
    ck_assert_ptr_null(ss_pwl_read_lines(f, 2, "rows", &err));
    ck_assert_msg(strstr(err.msg, "q.txt:2: time without a value"), "%s", err.msg);
}
END_TEST

/* The corners of a pulse train are where ngspice's PULSE has them, and a
 * wave written as an ngspice source has the same values. */
START_TEST(wave_corners)
{
    ss_wave w;
    ss_error err;
    ck_assert_int_eq(ss_wave_parse(&w, "pulse:0:1:2u:10u:2", &err), SS_OK);
    double edge = 0.01 * 2e-6, t[16];
    ck_assert_double_eq_tol(w.edge, edge, 1e-21);
    size_t n = ss_wave_corners(&w, t, 16);
    double want[] = {edge, edge + 2e-6, 2 * edge + 2e-6, 10e-6, 10e-6 + edge,
                     10e-6 + edge + 2e-6, 10e-6 + 2 * edge + 2e-6};
    ck_assert_uint_eq(n, sizeof want / sizeof want[0]);
    for (size_t k = 0; k < n; k++)
        ck_assert_double_eq_tol(t[k], want[k], 1e-18);
    ck_assert_double_eq_tol(ss_wave_value(&w, 1e-6), 1.0, 1e-15);
    ck_assert_double_eq_tol(ss_wave_value(&w, 5e-6), 0.0, 1e-15);
    ck_assert_double_eq_tol(ss_wave_value(&w, 0.5 * edge), 0.5, 1e-12);
    ck_assert_double_eq_tol(ss_wave_duration(&w), 20e-6, 1e-18);
    /* a sine has none; a triangle has its peaks */
    ck_assert_int_eq(ss_wave_parse(&w, "sine:1:1k:3", &err), SS_OK);
    ck_assert_uint_eq(ss_wave_corners(&w, t, 16), 0);
    ck_assert_int_eq(ss_wave_parse(&w, "triangle:2.385:1k:2", &err), SS_OK);
    ck_assert_uint_eq(ss_wave_corners(&w, t, 16), 4);
    ck_assert_double_eq_tol(t[0], 0.25e-3, 1e-15);
    ck_assert_double_eq_tol(t[3], 1.75e-3, 1e-15);
    ck_assert_double_eq_tol(ss_wave_value(&w, t[0]), 2.385, 1e-12);
    ck_assert_double_eq_tol(ss_wave_value(&w, t[3]), -2.385, 1e-12);
}
END_TEST

Suite *devsim_suite(void)
{
    Suite *s = suite_create("devsim");
    TCase *tc = tcase_create("drives");
    tcase_add_test(tc, pwl_values_and_errors);
    tcase_add_test(tc, wave_corners);
    suite_add_tcase(s, tc);
    tc = tcase_create("circuit");
    tcase_add_test(tc, series_resistor_and_points);
    suite_add_tcase(s, tc);
    return s;
}
