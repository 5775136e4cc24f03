/* check_network.c: spiking networks against closed forms. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/experiment/ss_experiment.h"
#include "cosim/network/ss_network.h"
#include "cosim/ode/ode.h"
#include "tests/ss_test.h"

/* Regular firing of a LIF on a constant current:
 * ISI = t_ref + tau_m ln((R I - (v_reset - v_rest)) / (R I - (v_th - v_rest))). */
static double lif_isi(const ss_lif_params *p, double i)
{
    double ri = p->r_m * i;
    return p->t_ref + p->tau_m * log((ri - (p->v_reset - p->v_rest)) / (ri - (p->v_th - p->v_rest)));
}

static void run_single_with(const ss_lif_params *p, double tstop, int solver, double *first,
                            double *isi, size_t *n)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    size_t pop;
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = solver;
    ck_assert_int_eq(ss_network_add_lif(net, "n", 1, p, &pop, &err), SS_OK);
    ck_assert_msg(ss_network_run(net, tstop, &o, &err) == SS_OK, "%s", err.msg);
    *n = ss_network_nspikes(net);
    ck_assert_uint_gt(*n, 2);
    double t0, t1;
    size_t a, b;
    ss_network_spike(net, 0, &t0, &a, &b);
    ss_network_spike(net, *n - 1, &t1, &a, &b);
    *first = t0;
    *isi = (t1 - t0) / (double)(*n - 1);
    ss_network_free(net);
}

static void run_single(const ss_lif_params *p, double tstop, double *first, double *isi, size_t *n)
{
    run_single_with(p, tstop, SS_NETWORK_ADAMS, first, isi, n);
}

START_TEST(lif_exact_spike_times)
{
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.i_bias = 0.2385e-9;
    p.v_reset = -65e-3; /* reset differs from rest */
    double first, isi;
    size_t n;
    run_single(&p, 1.0, &first, &isi, &n);
    ck_assert_double_eq_tol(isi, lif_isi(&p, p.i_bias), 1e-9);
    /* the first spike starts from v_rest, without refractoriness */
    double ri = p.r_m * p.i_bias;
    ck_assert_double_eq_tol(first, p.tau_m * log(ri / (ri - (p.v_th - p.v_rest))), 1e-9);
}
END_TEST

START_TEST(lif_cvode_path)
{
    /* a != 0 takes the CVODE path; a tiny a barely changes the answer */
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.i_bias = 0.3e-9;
    p.a = 1e-16;
    double first, isi;
    size_t n;
    run_single(&p, 0.5, &first, &isi, &n);
    ck_assert_msg(fabs(isi - lif_isi(&p, p.i_bias)) < 1e-4 * isi, "isi %.9g vs %.9g", isi,
                  lif_isi(&p, p.i_bias));
}
END_TEST

/* BDF with the KLU-factored block Jacobian: the adaptive LIF's ISI against
 * the closed form, and DPI neurons against the Adams path (spike times of
 * two different integrators agree to well within their tolerances). */
static size_t dpi_spikes(int solver, double *t, size_t *who, size_t cap, long *steps)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_dpi_params p = SS_DPI_DEFAULTS;
    size_t pop;
    double bias[4] = {8e-9, 16e-9, 32e-9, 64e-9};
    ck_assert_int_eq(ss_network_add_dpi(net, "dpi", 4, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_set_bias(net, pop, bias, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = solver;
    ck_assert_msg(ss_network_run(net, 0.2, &o, &err) == SS_OK, "%s", err.msg);
    size_t n = ss_network_nspikes(net);
    for (size_t k = 0; k < n && k < cap; k++) {
        size_t a;
        ss_network_spike(net, k, &t[k], &a, &who[k]);
    }
    long rhs, restarts;
    ss_network_stats(net, steps, &rhs, &restarts);
    ss_network_free(net);
    return n;
}

START_TEST(bdf_solver)
{
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.i_bias = 0.3e-9;
    p.a = 1e-16;
    double first, isi;
    size_t n;
    run_single_with(&p, 0.5, SS_NETWORK_BDF, &first, &isi, &n);
    ck_assert_msg(fabs(isi - lif_isi(&p, p.i_bias)) < 1e-4 * isi, "isi %.9g vs %.9g", isi,
                  lif_isi(&p, p.i_bias));
    static double ta[4096], tb[4096];
    static size_t wa[4096], wb[4096];
    long sa, sb;
    size_t na = dpi_spikes(SS_NETWORK_ADAMS, ta, wa, 4096, &sa);
    size_t nb = dpi_spikes(SS_NETWORK_BDF, tb, wb, 4096, &sb);
    ck_assert_uint_gt(na, 20);
    ck_assert_uint_eq(na, nb);
    for (size_t k = 0; k < na && k < 4096; k++) {
        ck_assert_uint_eq(wa[k], wb[k]);
        ck_assert_msg(fabs(ta[k] - tb[k]) < 2e-6, "spike %zu: %.9f vs %.9f", k, ta[k], tb[k]);
    }
    ck_assert(sa > 0 && sb > 0);
    /* an unknown solver is refused */
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    size_t pop;
    ck_assert_int_eq(ss_network_add_lif(net, "n", 1, &p, &pop, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = 7;
    ck_assert_int_eq(ss_network_run(net, 0.1, &o, &err), SS_EINVAL);
    ss_network_free(net);
}
END_TEST

/* cosim's own N_Vector kernels against SUNDIALS' serial ones */
START_TEST(fast_nvector_ops)
{
    SUNContext ctx;
    ck_assert_int_eq(SUNContext_Create(SS_SUN_COMM_NULL, &ctx), 0);
    enum { N = 37 };
    N_Vector f[4], r[4];
    for (int k = 0; k < 4; k++) {
        f[k] = odei_nvector(N, ctx);
        r[k] = N_VNew_Serial(N, ctx);
        for (int i = 0; i < N; i++) {
            double v = sin(2.385 * (i + 1) * (k + 1)) * pow(10.0, (i % 7) - 3);
            if (k == 2 && i == 5)
                v = 0; /* for invtest */
            NV_Ith_S(f[k], i) = NV_Ith_S(r[k], i) = v;
        }
    }
    N_Vector fz = N_VClone(f[0]), rz = N_VClone(r[0]);
    ck_assert_ptr_eq(fz->ops->nvlinearsum, f[0]->ops->nvlinearsum); /* clones keep the kernels */
    ck_assert_ptr_ne(fz->ops->nvlinearsum, rz->ops->nvlinearsum);
#define SAME_VEC()                                                                                 \
    for (int i = 0; i < N; i++)                                                                    \
    ck_assert_double_eq_tol(NV_Ith_S(fz, i), NV_Ith_S(rz, i), 1e-13 * (1 + fabs(NV_Ith_S(rz, i))))
#define SAME(a, b) ck_assert_double_eq_tol(a, b, 1e-12 * (1 + fabs(b)))
    N_VLinearSum(1.7, f[0], -0.3, f[1], fz), N_VLinearSum(1.7, r[0], -0.3, r[1], rz);
    SAME_VEC();
    N_VConst(2.385, fz), N_VConst(2.385, rz);
    SAME_VEC();
    N_VProd(f[0], f[1], fz), N_VProd(r[0], r[1], rz);
    SAME_VEC();
    N_VDiv(f[0], f[1], fz), N_VDiv(r[0], r[1], rz);
    SAME_VEC();
    N_VScale(-4.5, f[1], fz), N_VScale(-4.5, r[1], rz);
    SAME_VEC();
    N_VAbs(f[1], fz), N_VAbs(r[1], rz);
    SAME_VEC();
    N_VInv(f[1], fz), N_VInv(r[1], rz);
    SAME_VEC();
    N_VAddConst(f[1], 0.25, fz), N_VAddConst(r[1], 0.25, rz);
    SAME_VEC();
    N_VCompare(0.01, f[1], fz), N_VCompare(0.01, r[1], rz);
    SAME_VEC();
    ck_assert_int_eq(N_VInvTest(f[2], fz), N_VInvTest(r[2], rz));
    ck_assert_int_eq(N_VInvTest(f[2], fz), SUNFALSE);
    SAME_VEC();
    SAME(N_VDotProd(f[0], f[1]), N_VDotProd(r[0], r[1]));
    SAME(N_VMaxNorm(f[1]), N_VMaxNorm(r[1]));
    SAME(N_VMin(f[1]), N_VMin(r[1]));
    SAME(N_VWrmsNorm(f[0], f[1]), N_VWrmsNorm(r[0], r[1]));
    SAME(N_VWrmsNormMask(f[0], f[1], f[3]), N_VWrmsNormMask(r[0], r[1], r[3]));
    SAME(N_VWSqrSumLocal(f[0], f[1]), N_VWSqrSumLocal(r[0], r[1]));
    SAME(N_VWSqrSumMaskLocal(f[0], f[1], f[3]), N_VWSqrSumMaskLocal(r[0], r[1], r[3]));
    double c[3] = {0.5, -1.25, 3.0};
    N_VScale(1.0, f[0], fz), N_VScale(1.0, r[0], rz);
    N_Vector fx[3] = {fz, f[1], f[2]}, rx[3] = {rz, r[1], r[2]}; /* z is also X[0] */
    ck_assert_int_eq(N_VLinearCombination(3, c, fx, fz), 0);
    ck_assert_int_eq(N_VLinearCombination(3, c, rx, rz), 0);
    SAME_VEC();
    N_Vector fy[2] = {f[1], f[2]}, ry[2] = {r[1], r[2]}, fo[2] = {fz, f[3]}, ro[2] = {rz, r[3]};
    ck_assert_int_eq(N_VScaleAddMulti(2, c, f[0], fy, fo), 0);
    ck_assert_int_eq(N_VScaleAddMulti(2, c, r[0], ry, ro), 0);
    SAME_VEC();
#undef SAME
#undef SAME_VEC
    N_VDestroy(fz);
    N_VDestroy(rz);
    for (int k = 0; k < 4; k++) {
        N_VDestroy(f[k]);
        N_VDestroy(r[k]);
    }
    SUNContext_Free(&ctx);
}
END_TEST

/* One input spike through a synapse: the PSP of a current-based exponential
 * synapse, v(t) - v_rest = R w tau_s/(tau_s - tau_m) (e^-t/tau_s - e^-t/tau_m),
 * sampled and compared, and the jump comes from a crossbar read. */
START_TEST(psp_through_crossbar)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_lif_params p = SS_LIF_DEFAULTS;
    size_t src, post, id = 0;
    double ts = 1.23e-3, g[2] = {10e-6, 20e-6}, v_read = 0.1, t_read = 50e-9;
    ck_assert_int_eq(ss_network_add_times(net, "in", 1, &id, &ts, 1, &src, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_lif(net, "out", 2, &p, &post, &err), SS_OK);
    ss_crossbar_spec spec = {1, 2, 0, 0, 0};
    ck_assert_msg(ss_network_connect_crossbar(net, src, post, &spec, g, v_read, t_read, 1e-3, &err) ==
                      SS_OK, "%s", err.msg);
    size_t idx[2] = {0, 1};
    ck_assert_int_eq(ss_network_record_state(net, post, idx, 2, 1e-4, &err), SS_OK);
    ck_assert_int_eq(ss_network_run(net, 50e-3, NULL, &err), SS_OK);
    const char *dir = ss_test_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/states.csv", dir);
    ck_assert_int_eq(ss_network_write_states(net, path, &err), SS_OK);
    FILE *f = fopen(path, "r");
    char line[256];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "t,population,index,value\n");
    /* arrival: first exchange point at or after ts + delay */
    double ta = ceil((ts + 1e-3) / 1e-4 - 1e-9) * 1e-4, maxerr = 0;
    int rows = 0;
    double t, v;
    size_t k;
    while (fscanf(f, "%lf,out,%zu,%lf", &t, &k, &v) == 3) {
        double w = g[k] * v_read * t_read / p.tau_syn, want = p.v_rest;
        if (t > ta + 1e-12) {
            double u = t - ta;
            want += p.r_m * w * p.tau_syn / (p.tau_syn - p.tau_m) *
                    (exp(-u / p.tau_syn) - exp(-u / p.tau_m));
        }
        maxerr = fmax(maxerr, fabs(v - want));
        rows++;
    }
    fclose(f);
    ck_assert_int_eq(rows, 2 * 500);
    ck_assert_msg(maxerr < 1e-12, "PSP error %g V", maxerr);
    ss_network_free(net);
}
END_TEST

START_TEST(dpi_fi_monotonic)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_dpi_params p = SS_DPI_DEFAULTS;
    size_t pop;
    double bias[4] = {8e-9, 16e-9, 32e-9, 64e-9}; /* rheobase is 4-8 nA here */
    ck_assert_int_eq(ss_network_add_dpi(net, "dpi", 4, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_set_bias(net, pop, bias, &err), SS_OK);
    ck_assert_msg(ss_network_run(net, 0.5, NULL, &err) == SS_OK, "%s", err.msg);
    size_t count[4] = {0};
    for (size_t k = 0; k < ss_network_nspikes(net); k++) {
        double t;
        size_t a, i;
        ss_network_spike(net, k, &t, &a, &i);
        count[i]++;
    }
    ck_assert_uint_gt(count[0], 0);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(count[i + 1] > count[i], "f-I not increasing: %zu %zu %zu %zu", count[0],
                      count[1], count[2], count[3]);
    ss_network_free(net);
}
END_TEST

/* The input stage S(I) = in_ref (I/in_ref)^in_beta: a LIF behind it fires
 * at the closed-form ISI of a plain LIF driven by S(I) (CVODE path). */
START_TEST(lif_input_stage)
{
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.i_bias = 0.52385e-9;
    p.in_beta = 0.7;
    p.in_ref = 0.1e-9;
    double first, isi;
    size_t n;
    run_single(&p, 0.5, &first, &isi, &n);
    double s = p.in_ref * exp(p.in_beta * log(p.i_bias / p.in_ref));
    ck_assert_msg(fabs(isi - lif_isi(&p, s)) < 1e-4 * isi, "isi %.9g vs %.9g", isi, lif_isi(&p, s));
    ck_assert_double_eq_tol(ss_network_input_stage(-p.i_bias, p.in_beta, p.in_ref), -s, 1e-20);
    ck_assert_double_eq(ss_network_input_stage(2.385e-9, 1.0, 7e-9), 2.385e-9);
}
END_TEST

/* ss_network_dpi_rate (quadrature of the equations) against the network
 * simulating the same neuron (CVODE, exact spike times), plain and behind
 * a compressive input stage. */
START_TEST(dpi_rate_quadrature)
{
    for (int k = 0; k < 2; k++) {
        ss_error err;
        ss_dpi_params p = SS_DPI_DEFAULTS;
        p.ithahp = p.io; /* Iahp stays at Io, as ss_network_dpi_rate assumes */
        p.t_ref = 0.2385e-3;
        double bias = k ? 3.385e-9 : 23.85e-9;
        if (k) {
            p.in_beta = 0.6;
            p.in_ref = 30e-9;
        }
        ss_network *net = ss_network_alloc(&err);
        size_t pop;
        ck_assert_int_eq(ss_network_add_dpi(net, "dpi", 1, &p, &pop, &err), SS_OK);
        ck_assert_int_eq(ss_network_set_bias(net, pop, &bias, &err), SS_OK);
        ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
        o.dt = 1e-5;
        ck_assert_msg(ss_network_run(net, 0.3, &o, &err) == SS_OK, "%s", err.msg);
        size_t ns = ss_network_nspikes(net), a, b;
        ck_assert_uint_gt(ns, 10);
        double t0, t1, want;
        ss_network_spike(net, ns / 2, &t0, &a, &b);
        ss_network_spike(net, ns - 1, &t1, &a, &b);
        double rate = (double)(ns - 1 - ns / 2) / (t1 - t0);
        ck_assert_int_eq(ss_network_dpi_rate(&p, bias, &want, &err), SS_OK);
        ck_assert_msg(fabs(rate / want - 1) < 5e-3, "network %g Hz vs quadrature %g Hz", rate, want);
        ss_network_free(net);
        /* below the rheobase: no firing */
        ck_assert_int_eq(ss_network_dpi_rate(&p, 1e-12, &want, &err), SS_OK);
        ck_assert_double_eq(want, 0.0);
    }
}
END_TEST

START_TEST(poisson_rate)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    size_t pop;
    ck_assert_int_eq(ss_network_add_poisson(net, "p", 200, 20.0, &pop, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.seed = 7;
    ck_assert_int_eq(ss_network_run(net, 2.0, &o, &err), SS_OK);
    double mean = 200 * 20.0 * 2.0, got = (double)ss_network_pop_spikes(net, pop);
    ck_assert_msg(fabs(got - mean) < 4 * sqrt(mean), "%g spikes, expected %g", got, mean);
    ss_network_free(net);
}
END_TEST

START_TEST(bad_input)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_lif_params p = SS_LIF_DEFAULTS;
    size_t pop, src;
    p.tau_m = -1;
    ck_assert_int_eq(ss_network_add_lif(net, "n", 3, &p, &pop, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "tau_m"));
    p.tau_m = 20e-3;
    /* a name would otherwise break the spike CSV, the summary JSON or a SPICE deck */
    ck_assert_int_eq(ss_network_add_lif(net, "a,b", 3, &p, &pop, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "only use letters"));
    ck_assert_int_eq(ss_network_add_lif(net, "x\n.control", 3, &p, &pop, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_add_lif(net, "n", 3, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_lif(net, "n", 3, &p, &pop, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_add_poisson(net, "p", 2, -5, &src, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_add_poisson(net, "p", 2, 5, &src, &err), SS_OK);
    size_t a = 0, b = 3;
    double w = 1e-12, d = 1e-3;
    ck_assert_int_eq(ss_network_connect(net, src, pop, 1, &a, &b, &w, &d, &err), SS_EINVAL);
    ck_assert_int_eq(ss_network_connect(net, pop, src, 1, &a, &a, &w, &d, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "spike source"));
    ck_assert_int_eq(ss_network_run(net, -1, NULL, &err), SS_EINVAL);
    ss_network_free(net);
}
END_TEST

static void expect_yaml_error(const char *text, const char *where, const char *what)
{
    const char *dir = ss_test_tmpdir();
    const char *path = ss_test_write(dir, "exp.yaml", text);
    ss_network *net = NULL;
    ss_experiment exp;
    ss_error err = {0, ""};
    ck_assert_int_ne(ss_experiment_load(path, -1, &net, &exp, &err), SS_OK);
    ck_assert_ptr_null(net);
    ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, what), "message '%s' lacks '%s' / '%s'",
                  err.msg, where, what);
}

START_TEST(experiment_errors)
{
    expect_yaml_error("duration: 1\npopulations:\n  - {name: a, kind: lif, n: 2, rat: 3}\n",
                      "exp.yaml:3:", "unknown key 'rat'");
    expect_yaml_error("duration: x\npopulations: []\n", "exp.yaml:1:", "'duration' must be a number");
    expect_yaml_error("populations:\n  - {name: 'a \"b', kind: lif, n: 2}\n", "exp.yaml:2:",
                      "may only use letters");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2}\nprojections:\n"
                      "  - {from: a, to: b, kind: all, weight: 1p}\n",
                      "exp.yaml:4:", "no population called 'b'");
    expect_yaml_error("populations:\n  - {name: a, kind: blob, n: 2}\n", "exp.yaml:2:",
                      "unknown population kind 'blob'");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2.5}\n", "exp.yaml:2:",
                      "whole number");
    expect_yaml_error("populations: [\n", "exp.yaml:", "");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2, params: {tau_m: -1}}\n",
                      "exp.yaml:2:", "tau_m");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2, bias: {gamma: [1, 2]}}\n",
                      "exp.yaml:2:", "unknown distribution 'gamma'");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2}\n  - {name: b, kind: lif, n: 2}\n"
                      "projections:\n  - {from: a, to: b, kind: memristive, device: {model: vteam},\n"
                      "     plasticity: {v_set: 1, v_reset: -1, t_write: 1u}}\n",
                      "exp.yaml:5:", "does not move 'vteam' towards its low-resistance state");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 2}\nstimuli:\n"
                      "  - {population: a, neurons: [5], start: 0, stop: 1, amplitude: 1n}\n",
                      "exp.yaml:4:", "no neuron 5");
    expect_yaml_error("duration: 1\nsolver: gear\npopulations:\n  - {name: a, kind: lif, n: 2}\n",
                      "exp.yaml:2:", "solver must be 'adams' or 'bdf'");
    /* params_file: a model written by characterize --extract */
    const char *mdir = ss_test_tmpdir();
    const char *bad = ss_test_write(mdir, "bad.json", "{\n  \"model\": \"dpi\",\n  \"params\": {\n"
                                                      "    \"itau\": 1e-12,\n    \"bogus\": 3\n  }\n}\n");
    char text[2048];
    snprintf(text, sizeof text, "populations:\n  - {name: a, kind: dpi, n: 1, params_file: %s}\n", bad);
    expect_yaml_error(text, "bad.json:5:", "unknown key 'bogus'");
    snprintf(text, sizeof text, "populations:\n  - {name: a, kind: lif, n: 1, params_file: %s}\n", bad);
    expect_yaml_error(text, "bad.json:2:", "model 'dpi' cannot be loaded into a population of kind 'lif'");
    bad = ss_test_write(mdir, "noparams.json", "{\"model\": \"lif\"}\n");
    snprintf(text, sizeof text, "populations:\n  - {name: a, kind: lif, n: 1, params_file: %s}\n", bad);
    expect_yaml_error(text, "noparams.json:1:", "needs 'params'");
    expect_yaml_error("populations:\n  - {name: a, kind: lif, n: 1,\n     params_file: /nonexistent/m.json}\n",
                      "exp.yaml:3:", "cannot open");
    expect_yaml_error("populations:\n  - {name: a, kind: dpi, n: 1, params: {in_beta: 0}}\n",
                      "exp.yaml:2:", "in_beta");
}
END_TEST

/* A failure deep in an experiment file (a bias file that is missing, a
 * device the model rejects) is a failure also without an error struct. */
START_TEST(experiment_errors_without_struct)
{
    static const char *const bad[] = {
        "populations:\n  - {name: a, kind: lif, n: 2, bias: {file: /nonexistent/b.txt}}\n",
        "populations:\n  - {name: a, kind: lif, n: 2}\n  - {name: b, kind: lif, n: 2}\n"
        "projections:\n  - {from: a, to: b, kind: memristive,\n"
        "     device: {model: vteam, params: 'r_on=-2.385'}}\n",
        "populations:\n  - {name: a, kind: lif, n: 2}\n  - {name: b, kind: lif, n: 2}\n"
        "projections:\n  - {from: a, to: b, kind: memristive, device: {preset: nosuch}}\n"};
    const char *dir = ss_test_tmpdir();
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *path = ss_test_write(dir, "exp.yaml", bad[k]);
        ss_network *net = NULL;
        ss_experiment exp;
        ss_error err;
        ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, NULL) != SS_OK, "case %zu", k);
        ck_assert_ptr_null(net);
        ck_assert_int_ne(ss_experiment_load(path, -1, &net, &exp, &err), SS_OK);
        ck_assert_msg(strstr(err.msg, "exp.yaml:"), "case %zu: %s", k, err.msg);
    }
}
END_TEST

/* A SPICE tile whose 100 neurons all cross threshold between the same two
 * accepted points (one step source copied to every spike node): every
 * spike is recorded, at the linear interpolation of the crossing
 * (threshold 0.5 V on a 0 -> 1 V edge of 1 ns from 5 us: 5.0005 us). */
START_TEST(tile_many_spikes_in_one_step)
{
    enum { N = 100 };
    ss_buf body = SS_BUF_INIT;
    char *spikes[N];
    ck_assert_int_eq(ss_buf_printf(&body, "vstep s 0 PULSE(0 1 5u 1n 1n 1 2)\n"), SS_OK);
    for (int k = 0; k < N; k++) {
        ck_assert_int_eq(ss_buf_printf(&body, "iext%d 0 a%d external\nra%d a%d 0 1k\n"
                                              "e%d n%d 0 s 0 1\n", k, k, k, k, k, k), SS_OK);
        char name[32];
        snprintf(name, sizeof name, "v(n%d)", k);
        spikes[k] = strdup(name);
    }
    ss_error err;
    ss_engine *eng;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ss_network *net = ss_network_alloc(&err);
    size_t tile;
    ck_assert_msg(ss_network_add_spice(net, "steps", N, body.data, (const char *const *)spikes, 0.5,
                                       5e-3, 1e-6, &tile, &err) == SS_OK, "%s", err.msg);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.dt = 10e-6;
    o.engine = eng;
    ck_assert_msg(ss_network_run(net, 20e-6, &o, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(ss_network_nspikes(net), N);
    ck_assert_uint_eq(ss_network_pop_spikes(net, tile), N);
    for (size_t k = 0; k < N; k++) {
        double t;
        size_t p, i;
        ss_network_spike(net, k, &t, &p, &i);
        ck_assert_uint_eq(p, tile);
        ck_assert_uint_eq(i, k); /* equal times keep the neurons' order */
        ck_assert_double_eq_tol(t, 5.0005e-6, 1e-12);
    }
    ss_network_free(net);
    ss_engine_free(eng);
    ss_buf_release(&body);
    for (int k = 0; k < N; k++)
        free(spikes[k]);
}
END_TEST

/* The experiment file and the library calls give the same network. */
START_TEST(experiment_run)
{
    const char *dir = ss_test_tmpdir();
    const char *path = ss_test_write(dir, "exp.yaml",
                                     "duration: 200m\ndt: 1e-4\nseed: 5\npopulations:\n"
                                     "  - {name: n, kind: lif, n: 3, bias: 0.3n}\n"
                                     "record:\n  states: [{population: n, neurons: [1], dt: 1m}]\n");
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ck_assert_double_eq(exp.duration, 0.2);
    ck_assert_uint_eq(exp.seed, 5);
    ss_network_options o = {exp.dt, exp.rtol, exp.seed, NULL, NULL, NULL, exp.solver};
    ck_assert_int_eq(ss_network_run(net, exp.duration, &o, &err), SS_OK);
    ss_lif_params p = SS_LIF_DEFAULTS;
    double isi = lif_isi(&p, 0.3e-9), first = isi - p.t_ref;
    size_t want = 1 + (size_t)floor((0.2 - first) / isi);
    ck_assert_uint_eq(ss_network_pop_spikes(net, 0), 3 * want);
    ss_network_free(net);
    /* and through the program */
    static char out[8192];
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o res -q && head -1 res/spikes.csv && "
                                "grep -c ',n,' res/spikes.csv && test -s res/summary.json",
                                dir, ss_test_program()), 0);
    char expect[64];
    snprintf(expect, sizeof expect, "t,population,index\n%zu\n", 3 * want);
    ck_assert_str_eq(out, expect);
}
END_TEST

/* The plastic crossbar learns the associations of examples/network/association.yaml:
 * in the test phase every output neuron answers its own pattern most. */
START_TEST(plastic_association)
{
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    const char *path = "examples/network/association.yaml";
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ss_network_options o = {exp.dt, exp.rtol, exp.seed, NULL, NULL, NULL, exp.solver};
    size_t pre, post;
    double g0[64], g1[64];
    ss_network_crossbar_states(net, 0, NULL, g0, &pre, &post);
    ck_assert_int_eq(ss_network_run(net, exp.duration, &o, &err), SS_OK);
    ss_network_crossbar_states(net, 0, NULL, g1, NULL, NULL);
    size_t out;
    ck_assert_int_eq(ss_network_find_pop(net, "output", &out), SS_OK);
    size_t count[4][4] = {{0}};
    for (size_t k = 0; k < ss_network_nspikes(net); k++) {
        double t;
        size_t p, i;
        ss_network_spike(net, k, &t, &p, &i);
        if (p != out || t < 3.2)
            continue;
        int pat = (int)((fmod(t - 3.2, 0.8) - 0.1) / 0.2);
        if (pat >= 0 && pat < 4)
            count[pat][i]++;
    }
    for (int pat = 0; pat < 4; pat++) {
        ck_assert_uint_ge(count[pat][pat], 5);
        for (int o2 = 0; o2 < 4; o2++)
            if (o2 != pat)
                ck_assert_msg(count[pat][o2] * 4 < count[pat][pat], "pattern %d: output %d fired %zu, own %zu",
                              pat, o2, count[pat][o2], count[pat][pat]);
    }
    /* learned conductances: within-group cells grew, the others did not */
    double in = 0, outside = 0;
    for (size_t i = 0; i < 16; i++)
        for (size_t j = 0; j < 4; j++)
            *(i / 4 == j ? &in : &outside) += g1[i * 4 + j] - g0[i * 4 + j];
    ck_assert_double_gt(in / 16, 10 * fabs(outside / 48));
    ss_network_free(net);
}
END_TEST

/* Plastic writes in the network are crossbar transients: a run that
 * records its writes (record_writes) gives the pulse train it applied to
 * the word and bit lines; `smallsim crossbar tran` on that train, from the
 * states before the first write, ends in the network's final states, cell
 * by cell to 1e-6 (line resistance and half-select disturb included).
 * `device` is the experiment's device mapping, `tran_dev` the same device
 * for `smallsim crossbar tran`. */
static void writes_vs_tran(const char *dir, const char *device, const char *tran_dev, double v_set,
                           double v_reset)
{
    const char *prog = ss_test_program();
    static char out[16384];
    char yaml[2048];
    snprintf(yaml, sizeof yaml,
             "duration: 0.06\ndt: 1e-4\nseed: 3\npopulations:\n"
             "  - {name: pre, kind: regular, n: 6, rate: 50, stagger: 0.003}\n"
             "  - {name: post, kind: lif, n: 4, bias: {uniform: [0.25n, 0.4n]}}\n"
             "projections:\n  - from: pre\n    to: post\n    kind: memristive\n"
             "    device: %s\n"
             "    x0: {uniform: [0.3, 0.7]}\n    rwire: 2\n    rsource: 10\n    rsense: 10\n"
             "    plasticity: {v_set: %g, v_reset: %g, t_write: 1u, rtol: 1e-6, record_writes: true}\n",
             device, v_set, v_reset);
    ss_test_write(dir, "exp.yaml", yaml);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o out -q", dir, prog), 0);
    /* the end of the last write: the last time on any line */
    char path[700];
    static char line[1 << 16];
    snprintf(path, sizeof path, "%s/out/crossbar0_writes_word.txt", dir);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    double tend = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line, *q;
        for (int k = 0;; k++) {
            double v = strtod(p, &q);
            if (q == p)
                break;
            if (k % 2 == 0)
                tend = fmax(tend, v);
            p = q;
        }
    }
    fclose(f);
    ck_assert_double_gt(tend, 10e-6); /* dozens of writes of up to 1 us */
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "cd %s/out && %s crossbar tran --rows 6 --cols 4 %s "
                                "--x0-file crossbar0_writes_x0.csv --pulses crossbar0_writes_word.txt "
                                "--bit-pulses crossbar0_writes_bit.txt --tstop %.17g --rwire 2 "
                                "--rsource 10 --rsense 10 --rtol 1e-6 -o tran.csv",
                                dir, prog, tran_dev, tend),
                     0);
    double x0[24], net[24], tran[24], moved = 0, worst = 0;
    const char *names[] = {"crossbar0_writes_x0.csv", "crossbar0_states.csv", "tran.csv"};
    double *dst[] = {x0, net, tran};
    for (int w = 0; w < 3; w++) {
        snprintf(path, sizeof path, "%s/out/%s", dir, names[w]);
        f = fopen(path, "r");
        ck_assert_ptr_nonnull(f);
        for (int k = 0; k < 24; k++)
            ck_assert_int_eq(fscanf(f, "%lf%*[,\n]", &dst[w][k]), 1);
        fclose(f);
    }
    for (int k = 0; k < 24; k++) {
        moved = fmax(moved, fabs(net[k] - x0[k]));
        worst = fmax(worst, fabs(net[k] - tran[k]));
    }
    ck_assert_msg(moved > 0.1, "the writes barely moved the cells (%g)", moved);
    ck_assert_msg(worst <= 1e-6, "network and crossbar tran differ by %g", worst);
}

START_TEST(plastic_writes_are_crossbar_transients)
{
    static const char params[] = "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 k_off=9e-5 "
                                 "alpha_on=3 alpha_off=3 w_off=3n";
    const char *dir = ss_test_tmpdir();
    char device[512];
    snprintf(device, sizeof device, "{model: vteam, params: \"%s\"}", params);
    ss_buf args = SS_BUF_INIT;
    char words[sizeof params];
    memcpy(words, params, sizeof params);
    ss_buf_printf(&args, "--device vteam");
    for (char *save, *w = strtok_r(words, " ", &save); w; w = strtok_r(NULL, " ", &save))
        ss_buf_printf(&args, " --param %s", w);
    writes_vs_tran(dir, device, args.data, -0.8, 0.6);
    ss_buf_release(&args);
    /* a device from a model file (as smallsim fit writes one), turned round
     * (polarity -1: SET is now positive), reaches the write solver: the
     * network and `crossbar tran --params` agree on it */
    dir = ss_test_tmpdir();
    ss_test_write(dir, "dev.json",
                  "{\"device\": {\"model\": \"vteam\", \"polarity\": -1, \"params\": {\n"
                  "  \"r_on\": 12345.678901234567, \"r_off\": 1e6, \"v_on\": -0.2, \"v_off\": 0.3,\n"
                  "  \"k_on\": -1.8e-5, \"k_off\": 9e-5, \"alpha_on\": 3, \"alpha_off\": 3,\n"
                  "  \"w_off\": 3e-9}}, \"nrmse\": 0.01}\n");
    writes_vs_tran(dir, "{file: dev.json}", "--params ../dev.json", 0.8, -0.6);
}
END_TEST

/* A model file's device is the crossbar's: read conductances at v_read are
 * the file's (17 digits), and a bad file is reported at its own line. */
START_TEST(experiment_device_file)
{
    const char *dir = ss_test_tmpdir();
    ss_test_write(dir, "dev.json",
                  "{\"device\": {\"model\": \"vteam\", \"params\": {\"r_on\": 12345.678901234567,\n"
                  "  \"r_off\": 1e6, \"w0\": 0}}}\n");
    const char *path = ss_test_write(dir, "exp.yaml",
                                     "populations:\n  - {name: a, kind: lif, n: 2}\n"
                                     "  - {name: b, kind: lif, n: 3}\n"
                                     "projections:\n  - {from: a, to: b, kind: memristive,\n"
                                     "     device: {file: dev.json}, x0: 0}\n");
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    double g[6];
    ss_network_crossbar_states(net, 0, NULL, g, NULL, NULL);
    for (int k = 0; k < 6; k++)
        ck_assert_double_eq(g[k], 1 / 12345.678901234567);
    ss_network_free(net);
    ss_test_write(dir, "bad.json", "{\"device\": {\"model\": \"vteam\", \"params\": {\n"
                                   "  \"r_on\": -3}}}\n");
    path = ss_test_write(dir, "exp.yaml",
                         "populations:\n  - {name: a, kind: lif, n: 2}\n"
                         "  - {name: b, kind: lif, n: 3}\n"
                         "projections:\n  - {from: a, to: b, kind: memristive,\n"
                         "     device: {file: bad.json}}\n");
    ck_assert_int_ne(ss_experiment_load(path, -1, &net, &exp, &err), SS_OK);
    ck_assert_msg(strstr(err.msg, "bad.json:2: parameter 'r_on' must be positive"), "%s", err.msg);
    path = ss_test_write(dir, "exp.yaml",
                         "populations:\n  - {name: a, kind: lif, n: 2}\n"
                         "  - {name: b, kind: lif, n: 3}\n"
                         "projections:\n  - {from: a, to: b, kind: memristive,\n"
                         "     device: {file: none.json}}\n");
    ck_assert_int_ne(ss_experiment_load(path, -1, &net, &exp, &err), SS_OK);
    ck_assert_msg(strstr(err.msg, "exp.yaml:6:") && strstr(err.msg, "cannot open"), "%s", err.msg);
}
END_TEST

Suite *network_suite(void)
{
    Suite *s = suite_create("network");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lif_exact_spike_times);
    tcase_add_test(tc, lif_cvode_path);
    tcase_add_test(tc, bdf_solver);
    tcase_add_test(tc, fast_nvector_ops);
    tcase_add_test(tc, psp_through_crossbar);
    tcase_add_test(tc, dpi_fi_monotonic);
    tcase_add_test(tc, lif_input_stage);
    tcase_add_test(tc, dpi_rate_quadrature);
    tcase_add_test(tc, poisson_rate);
    tcase_add_test(tc, bad_input);
    tcase_add_test(tc, experiment_errors);
    tcase_add_test(tc, experiment_errors_without_struct);
    tcase_add_test(tc, tile_many_spikes_in_one_step);
    tcase_add_test(tc, experiment_run);
    tcase_add_test(tc, plastic_association);
    tcase_add_test(tc, plastic_writes_are_crossbar_transients);
    tcase_add_test(tc, experiment_device_file);
    suite_add_tcase(s, tc);
    return s;
}
