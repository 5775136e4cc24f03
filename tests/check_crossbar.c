/* check_crossbar.c: the crossbar solver against ngspice on the generated
 * netlist, against closed forms, and on bad input. */
#include <check.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "netlists/ss_netlist.h"
#include "tests/ss_test.h"

static void random_array(size_t n, size_t m, unsigned long seed, double *g, double *v)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    for (size_t k = 0; k < n * m; k++)
        g[k] = 1e-6 + (1e-4 - 1e-6) * gsl_rng_uniform(r);
    for (size_t i = 0; i < n; i++)
        v[i] = 0.2 * gsl_rng_uniform(r);
    gsl_rng_free(r);
}

/* Largest relative difference between the solver and ngspice on the
 * netlist `smallsim netlist crossbar` writes. */
static double compare_with_ngspice(size_t n, size_t m, double rwire, double rsource,
                                   double rsense, unsigned long seed)
{
    double *g = malloc(n * m * sizeof *g), *v = malloc(n * sizeof *v);
    double *iout = malloc(m * sizeof *iout);
    random_array(n, m, seed, g, v);
    ss_error err;
    ss_crossbar_spec spec = {n, m, rwire, rsource, rsense};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
    ck_assert_msg(xb != NULL, "%s", err.msg);
    ck_assert_msg(ss_crossbar_dc(xb, g, v, iout, &err) == SS_OK, "%s", err.msg);

    ss_netlist_crossbar nx = {n, m, rwire, rsource, rsense, g, NULL, NULL, NULL, NULL,
                              NULL, v, ".op", NULL, NULL, 0};
    ss_buf text = SS_BUF_INIT;
    ck_assert_int_eq(ss_netlist_crossbar_write(&nx, &text, &err), SS_OK);
    ss_engine *eng;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_netlist_read_string(&nl, text.data, "xbar.cir", NULL, 0, &err) == SS_OK, "%s",
                  err.msg);
    ck_assert_msg(ss_engine_load(eng, &nl, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_engine_run(eng, &res, &err) == SS_OK, "%s", err.msg);
    double worst = 0;
    for (size_t j = 0; j < m; j++) {
        char name[64];
        snprintf(name, sizeof name, "i(vsense%zu)", j);
        const ss_vector *vec = ss_result_find(&res, name);
        ck_assert_msg(vec != NULL, "no %s", name);
        double ref = vec->re[0];
        worst = fmax(worst, fabs(iout[j] - ref) / fabs(ref));
    }
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_engine_free(eng);
    ss_buf_release(&text);
    ss_crossbar_free(xb);
    free(g);
    free(v);
    free(iout);
    return worst;
}

START_TEST(matches_ngspice_16)
{
    double e = compare_with_ngspice(16, 16, 2.0, 10.0, 10.0, 2385);
    ck_assert_msg(e < 1e-6, "16x16 max relative error %g", e);
    /* ideal connections merge nodes in both the solver and the netlist */
    e = compare_with_ngspice(9, 13, 0.0, 10.0, 10.0, 7);
    ck_assert_msg(e < 1e-6, "ideal wires: %g", e);
    e = compare_with_ngspice(11, 7, 2.0, 0.0, 0.0, 8);
    ck_assert_msg(e < 1e-6, "ideal source and sense: %g", e);
    e = compare_with_ngspice(5, 6, 0.0, 0.0, 0.0, 9);
    ck_assert_msg(e < 1e-6, "all ideal: %g", e);
}
END_TEST

START_TEST(matches_ngspice_64)
{
    double e = compare_with_ngspice(64, 64, 2.0, 10.0, 10.0, 4711);
    ck_assert_msg(e < 1e-6, "64x64 max relative error %g", e);
}
END_TEST

/* With ideal wires, sources and sense: I_j = sum_i G_ij V_i exactly. */
START_TEST(ideal_is_matrix_vector_product)
{
    size_t n = 37, m = 23;
    double g[37 * 23], v[37], iout[23];
    random_array(n, m, 11, g, v);
    ss_crossbar_spec spec = {n, m, 0, 0, 0};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, NULL);
    ck_assert_int_eq(ss_crossbar_dc(xb, g, v, iout, NULL), SS_OK);
    for (size_t j = 0; j < m; j++) {
        double want = 0;
        for (size_t i = 0; i < n; i++)
            want += g[i * m + j] * v[i];
        ck_assert_double_eq_tol(iout[j], want, 1e-13 * want);
    }
    ss_crossbar_free(xb);
}
END_TEST

/* The last solution is the next solve's starting guess; when the sources
 * fall to zero (a transient starting from rest after a read) the answer
 * is zero, and scaled sources give scaled currents (linearity). */
START_TEST(warm_start_after_other_sources)
{
    size_t n = 32, m = 16;
    double g[32 * 16], v[32], z[32] = {0}, i1[16], i2[16], i3[16];
    random_array(n, m, 5, g, v);
    ss_crossbar_spec spec = {n, m, 1.0, 0.0, 10.0};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, NULL);
    ss_error err;
    ck_assert_msg(ss_crossbar_dc(xb, g, v, i1, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_crossbar_dc(xb, g, z, i2, &err) == SS_OK, "%s", err.msg);
    for (size_t j = 0; j < m; j++)
        ck_assert(i2[j] == 0.0);
    for (size_t i = 0; i < n; i++)
        z[i] = 1e-6 * v[i];
    ck_assert_msg(ss_crossbar_dc(xb, g, z, i3, &err) == SS_OK, "%s", err.msg);
    for (size_t j = 0; j < m; j++)
        ck_assert_double_eq_tol(i3[j], 1e-6 * i1[j], 1e-9 * 1e-6 * fabs(i1[j]));
    ss_crossbar_free(xb);
}
END_TEST

/* One cell, one row, one column: a series circuit. */
START_TEST(single_cell_series)
{
    double g = 1 / 2385.0, v = 0.137, i;
    ss_crossbar_spec spec = {1, 1, 3.0, 17.0, 29.0};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, NULL);
    ck_assert_int_eq(ss_crossbar_dc(xb, &g, &v, &i, NULL), SS_OK);
    ck_assert_double_eq_tol(i, v / (17.0 + 2385.0 + 29.0), 1e-15);
    double vc;
    ss_crossbar_cell_voltages(xb, &vc);
    ck_assert_double_eq_tol(vc, i * 2385.0, 1e-13);
    ss_crossbar_free(xb);
}
END_TEST

START_TEST(bad_input)
{
    ss_error err;
    ss_crossbar_spec spec = {4, 4, -1.0, 10, 10};
    ck_assert_ptr_null(ss_crossbar_alloc(&spec, &err));
    ck_assert_ptr_nonnull(strstr(err.msg, "rwire"));
    spec.rwire = NAN;
    ck_assert_ptr_null(ss_crossbar_alloc(&spec, &err));
    spec.rwire = 1;
    spec.rows = 0;
    ck_assert_ptr_null(ss_crossbar_alloc(&spec, &err));
    spec.rows = 2;
    spec.cols = 2;
    ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
    double g[4] = {1e-5, -1e-5, 1e-5, 1e-5}, v[2] = {0.1, 0.1}, i[2];
    ck_assert_int_eq(ss_crossbar_dc(xb, g, v, i, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "cell (0, 1)"));
    g[1] = 1e-5;
    v[1] = INFINITY;
    ck_assert_int_eq(ss_crossbar_dc(xb, g, v, i, &err), SS_EINVAL);
    ss_crossbar_free(xb);
}
END_TEST

START_TEST(matrix_files)
{
    const char *dir = ss_test_tmpdir();
    double *d;
    size_t r, c;
    ss_error err;
    const char *p = ss_test_write(dir, "g.csv", "# conductances\n1e-5, 2e-5 ,3e-5\n4e-5;5e-5;6e-5\n\n7 8 9\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 0, &d, &r, &c, &err), SS_OK);
    ck_assert_uint_eq(r, 3);
    ck_assert_uint_eq(c, 3);
    ck_assert_double_eq(d[1], 2e-5);
    ck_assert_double_eq(d[8], 9);
    free(d);
    p = ss_test_write(dir, "bad.csv", "1,2\n3,x\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 0, &d, &r, &c, &err), SS_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "bad.csv:2: 'x' is not a number"));
    p = ss_test_write(dir, "ragged.csv", "1,2\n3\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 0, &d, &r, &c, &err), SS_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ragged.csv:2: 1 values, but the first row has 2"));
    p = ss_test_write(dir, "empty.csv", "# nothing\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 0, &d, &r, &c, &err), SS_EPARSE);
    p = ss_test_write(dir, "trail.csv", "1,2,\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 0, &d, &r, &c, &err), SS_EPARSE);
    p = ss_test_write(dir, "spice.csv", "10k 1meg\n");
    ck_assert_int_eq(ss_util_read_matrix(p, 1, &d, &r, &c, &err), SS_OK);
    ck_assert_double_eq(d[1], 1e6);
    free(d);
}
END_TEST

START_TEST(cli_round_trip)
{
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    static char out[8192];
    ss_test_write(dir, "g.csv", "1e-5 2e-5 3e-5\n4e-5 5e-5 6e-5\n");
    ss_test_write(dir, "v.csv", "0.1\n0.2\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar dc --rows 2 --cols 3 --g-file g.csv "
                                "--v-file v.csv --rwire 2 --rsource 10 --rsense 10 -o i.csv",
                                dir, prog), 0);
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s netlist crossbar --rows 2 --cols 3 --g-file g.csv "
                                "--inputs v.csv --rwire 2 --rsource 10 --rsense 10 -o x.cir && "
                                "%s spice run x.cir --vectors 'i(vsense0),i(vsense1),i(vsense2)' -o s.csv",
                                dir, prog, prog), 0);
    char path[700];
    double mine[3], ref[3];
    snprintf(path, sizeof path, "%s/i.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_int_eq(fscanf(f, "%lf %lf %lf", &mine[0], &mine[1], &mine[2]), 3);
    fclose(f);
    snprintf(path, sizeof path, "%s/s.csv", dir);
    f = fopen(path, "r");
    ck_assert_int_eq(fscanf(f, "%*[^\n] %lf,%lf,%lf", &ref[0], &ref[1], &ref[2]), 3);
    fclose(f);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(mine[j], ref[j], 1e-9 * fabs(ref[j]));
    /* bad input: named file and line, exit code 1; bad usage: 2 */
    ss_test_write(dir, "bad.csv", "1e-5 2e-5 3e-5\n4e-5 oops 6e-5\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar dc --rows 2 --cols 3 --g-file bad.csv --v-file v.csv",
                                dir, prog), 1);
    ck_assert_ptr_nonnull(strstr(out, "bad.csv:2: 'oops' is not a number"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar dc --rows 3 --cols 3 --g-file g.csv --v-file v.csv",
                                dir, prog), 1);
    ck_assert_ptr_nonnull(strstr(out, "but the crossbar is 3 x 3"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s crossbar dc --rows 2 --cols 3 --rwire -1", prog), 2);
    ck_assert_ptr_nonnull(strstr(out, "--rwire"));
    /* the G file gives the shape; --inputs names the voltages as in
     * 'netlist crossbar'; the same currents as above */
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar dc --g-file g.csv --inputs v.csv --rwire 2 "
                                "--rsource 10 --rsense 10",
                                dir, prog), 0);
    double again[3];
    ck_assert_int_eq(sscanf(out, "%lf %lf %lf", &again[0], &again[1], &again[2]), 3);
    for (int j = 0; j < 3; j++)
        ck_assert_double_eq_tol(again[j], mine[j], 1e-12 * fabs(mine[j]));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar dc --rows 4 --g-file g.csv --inputs v.csv", dir,
                                prog), 2);
    ck_assert_msg(strstr(out, "g.csv: 2 x 3 values, but the crossbar is 4 x 3"), "%s", out);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s crossbar dc --inputs v.csv", dir, prog),
                     2);
    ck_assert_msg(strstr(out, "--rows and --cols are required"), "%s", out);
}
END_TEST

/* A memristive crossbar in time against ngspice running the generated
 * netlist with the emitted device subcircuits: write pulses of both signs
 * above the thresholds and reads below them, line resistance on. */
static double tran_vs_ngspice(const char *model, const char *params, size_t n, const char *wave_fmt,
                              double amp_on, double amp_off, double tstop, double *moved)
{
    ss_error err;
    ss_device d;
    ss_device_init(&d, ss_device_type_find(model));
    ck_assert_msg(ss_device_set_list(&d, params, &err) == SS_OK && ss_device_validate(&d, &err) == SS_OK,
                  "%s", err.msg);
    ss_crossbar_spec spec = {n, n, 2, 10, 10};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
    ss_pwl in[16];
    ss_buf src[16];
    const char *srcs[16];
    for (size_t i = 0; i < n; i++) {
        char t[512];
        double a = i % 3 == 0 ? amp_on : (i % 3 == 1 ? amp_off : 0.1 * amp_on);
        snprintf(t, sizeof t, wave_fmt, a, a);
        ck_assert_int_eq(ss_pwl_parse(&in[i], t, &err), SS_OK);
        src[i] = (ss_buf)SS_BUF_INIT;
        ck_assert_int_eq(ss_pwl_spice(&in[i], &src[i]), SS_OK);
        srcs[i] = src[i].data;
    }
    double *x = malloc(n * n * sizeof *x), *x0 = malloc(n * n * sizeof *x0);
    for (size_t k = 0; k < n * n; k++)
        x0[k] = x[k] = 0.2 + 0.6 * (double)((k * 37) % n) / (double)n;
    ck_assert_msg(ss_crossbar_tran(xb, &d, 1, in, tstop, 1e-7, x, &err) == SS_OK, "%s", err.msg);
    ss_buf sub = SS_BUF_INIT, text = SS_BUF_INIT;
    ck_assert_int_eq(ss_device_write_spice(&d, "cell", &sub, &err), SS_OK);
    char analysis[64];
    snprintf(analysis, sizeof analysis, ".tran %g %g", tstop / 1000, tstop);
    ss_netlist_crossbar nx = {n, n, 2, 10, 10, NULL, sub.data, "cell", NULL, x0, srcs, NULL,
                              analysis, ".options reltol=1e-6 abstol=1e-15", NULL, 0};
    ck_assert_int_eq(ss_netlist_crossbar_write(&nx, &text, &err), SS_OK);
    ss_engine *eng;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_netlist_read_string(&nl, text.data, "xt.cir", NULL, 0, &err) == SS_OK &&
                      ss_engine_load(eng, &nl, &err) == SS_OK && ss_engine_run(eng, &res, &err) == SS_OK,
                  "%s", err.msg);
    double worst = 0;
    *moved = 0;
    for (size_t k = 0; k < n * n; k++) {
        char name[64];
        snprintf(name, sizeof name, "v(xc%zu_%zu.xs)", k / n, k % n);
        const ss_vector *v = ss_result_find(&res, name);
        ck_assert_msg(v != NULL, "no %s", name);
        worst = fmax(worst, fabs(v->re[v->n - 1] - x[k]));
        *moved = fmax(*moved, fabs(v->re[v->n - 1] - x0[k]));
    }
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_engine_free(eng);
    for (size_t i = 0; i < n; i++) {
        ss_pwl_release(&in[i]);
        ss_buf_release(&src[i]);
    }
    ss_buf_release(&sub);
    ss_buf_release(&text);
    ss_crossbar_free(xb);
    free(x);
    free(x0);
    return worst;
}

static const char vteam_cells[] = "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 k_off=9e-5 "
                                  "alpha_on=3 alpha_off=3 w_on=0 w_off=3n window=none iv=linear";
static const char vteam_wave[] = "0 0 1u 0 1.05u %g 4u %g 4.05u 0 6u 0 6.05u 0.1 9u 0.1 9.05u 0";

START_TEST(tran_vteam_matches_ngspice)
{
    double moved, e = tran_vs_ngspice("vteam", vteam_cells, 8, vteam_wave, 1.0, -0.8, 10e-6, &moved);
    ck_assert_msg(moved > 0.3, "the pulses barely moved the states (%g)", moved);
    ck_assert_msg(e < 0.01, "VTEAM 8x8: max state difference %g (limit 0.01)", e);
    if (ss_test_long()) {
        e = tran_vs_ngspice("vteam", vteam_cells, 16, vteam_wave, 1.0, -0.8, 10e-6, &moved);
        ck_assert_msg(e < 0.01, "VTEAM 16x16: max state difference %g", e);
    }
}
END_TEST

START_TEST(tran_yakopcic_matches_ngspice)
{
    /* Oblea's Ag-chalcogenide set, driven for 2 ms: +-0.45 V writes */
    static const char cells[] = "a1=0.17 a2=0.17 b=0.05 vp=0.16 vn=0.15 ap=4000 an=4000 xp=0.3 "
                                "xn=0.5 alphap=1 alphan=5 x0=0.11 eta=1";
    static const char wave[] = "0 0 0.1m 0 0.11m %g 0.9m %g 0.91m 0 1.2m 0 1.21m 0.05 2m 0.05";
    double moved, e = tran_vs_ngspice("yakopcic", cells, 8, wave, 0.45, -0.45, 2e-3, &moved);
    ck_assert_msg(moved > 0.1, "the pulses barely moved the states (%g)", moved);
    ck_assert_msg(e < 0.01, "Yakopcic 8x8: max state difference %g (limit 0.01)", e);
}
END_TEST

START_TEST(cli_tran)
{
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    static char out[16384];
    ss_test_write(dir, "p.txt", "# word-line waveforms\n0 0 1u 0 1.05u 1 4u 1 4.05u 0\n"
                                "0 0 1u 0 1.05u -0.8 4u -0.8 4.05u 0\n");
    ss_test_write(dir, "x0.csv", "0.3 0.5\n0.7 0.2\n");
    const char *dev = "--device vteam --param r_on=10k --param r_off=1meg --param v_on=-0.2 "
                      "--param v_off=0.3 --param k_on=-1.8e-5 --param k_off=9e-5 --param alpha_on=3 "
                      "--param alpha_off=3 --param w_off=3n --rwire 2 --rsource 10 --rsense 10";
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar tran --rows 2 --cols 2 %s --x0-file x0.csv "
                                "--pulses p.txt --tstop 6u -o s.csv && %s netlist crossbar --rows 2 "
                                "--cols 2 %s --x0-file x0.csv --pulses p.txt --tran 6u,6n -o x.cir && "
                                "%s spice run x.cir --vectors "
                                "'v(xc0_0.xs),v(xc0_1.xs),v(xc1_0.xs),v(xc1_1.xs)' -o n.csv",
                                dir, prog, dev, prog, dev, prog),
                     0);
    char path[700];
    double mine[4], ref[4], t;
    snprintf(path, sizeof path, "%s/s.csv", dir);
    FILE *f = fopen(path, "r");
    ck_assert_int_eq(fscanf(f, "%lf,%lf %lf,%lf", &mine[0], &mine[1], &mine[2], &mine[3]), 4);
    fclose(f);
    snprintf(path, sizeof path, "%s/n.csv", dir);
    f = fopen(path, "r");
    char line[512];
    while (fgets(line, sizeof line, f))
        sscanf(line, "%lf,%lf,%lf,%lf,%lf", &t, &ref[0], &ref[1], &ref[2], &ref[3]);
    fclose(f);
    for (int k = 0; k < 4; k++)
        ck_assert_msg(fabs(mine[k] - ref[k]) < 0.01, "cell %d: %g vs ngspice %g", k, mine[k], ref[k]);
    ck_assert_double_gt(mine[0], 0.99); /* the +1 V write drove row 0 OFF */
    /* bad input */
    ss_test_write(dir, "bad.txt", "0 0 1u\n0 0\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar tran --rows 2 --cols 2 %s --pulses bad.txt --tstop 6u",
                                dir, prog, dev), 1);
    ck_assert_ptr_nonnull(strstr(out, "bad.txt:1: time without a value"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s && %s crossbar tran --rows 2 --cols 2 --device vteam --param v_on=0.5 "
                                "--pulses p.txt --tstop 6u", dir, prog), 2);
    ck_assert_ptr_nonnull(strstr(out, "v_on"));
}
END_TEST

Suite *crossbar_suite(void)
{
    Suite *s = suite_create("crossbar");
    TCase *tc = tcase_create("dc");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, matches_ngspice_16);
    tcase_add_test(tc, matches_ngspice_64);
    tcase_add_test(tc, ideal_is_matrix_vector_product);
    tcase_add_test(tc, single_cell_series);
    tcase_add_test(tc, warm_start_after_other_sources);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, matrix_files);
    tcase_add_test(tc, cli_round_trip);
    tcase_add_test(tc, cli_tran);
    tcase_add_test(tc, tran_vteam_matches_ngspice);
    tcase_add_test(tc, tran_yakopcic_matches_ngspice);
    suite_add_tcase(s, tc);
    return s;
}
