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

static void run_single_tol(const ss_lif_params *p, double tstop, int solver, double rtol,
                           double *first, double *isi, size_t *n)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    size_t pop;
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = solver;
    o.rtol = rtol;
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

static void run_single_with(const ss_lif_params *p, double tstop, int solver, double *first,
                            double *isi, size_t *n)
{
    run_single_tol(p, tstop, solver, 1e-6, first, isi, n);
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

/* A bias changed between two runs: the LIF starts charging at the change,
 * so its spikes follow the closed form shifted by the change time, on the
 * exact propagator and on CVODE (a tiny adaptation); spikes and sampled
 * states read in bulk equal those read one by one. */
START_TEST(bias_between_runs_and_bulk_queries)
{
    for (int cvode = 0; cvode < 2; cvode++) {
        ss_error err;
        ss_network *net = ss_network_alloc(&err);
        ss_lif_params p = SS_LIF_DEFAULTS;
        p.a = cvode ? 1e-16 : 0;
        size_t pop, idx[2] = {0, 1};
        ck_assert_int_eq(ss_network_add_lif(net, "n", 2, &p, &pop, &err), SS_OK);
        ck_assert_int_eq(ss_network_record_state(net, pop, idx, 2, 1e-3, &err), SS_OK);
        ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
        ck_assert_msg(ss_network_run(net, 0.1, &o, &err) == SS_OK, "%s", err.msg);
        ck_assert_uint_eq(ss_network_nspikes(net), 0);
        double bias[2] = {0.3e-9, 0.25e-9};
        ck_assert_int_eq(ss_network_set_bias(net, pop, bias, &err), SS_OK);
        ck_assert_msg(ss_network_run(net, 0.5, &o, &err) == SS_OK, "%s", err.msg);
        size_t n = ss_network_nspikes(net);
        ck_assert_uint_gt(n, 10);
        double *t = malloc(n * sizeof *t);
        size_t *pp = malloc(n * sizeof *pp), *ii = malloc(n * sizeof *ii);
        ck_assert_uint_eq(ss_network_spikes(net, 0, n + 5, t, pp, ii), n);
        ck_assert_uint_eq(ss_network_spikes(net, n, 1, t, pp, ii), 0);
        double last[2] = {-1, -1};
        size_t count[2] = {0, 0};
        for (size_t k = 0; k < n; k++) {
            double tk;
            size_t a, b;
            ss_network_spike(net, k, &tk, &a, &b);
            ck_assert(tk == t[k] && a == pp[k] && b == ii[k]);
            double ri = p.r_m * bias[b];
            double want = last[b] < 0 ? 0.1 + p.tau_m * log(ri / (ri - (p.v_th - p.v_rest)))
                                      : last[b] + lif_isi(&p, bias[b]);
            ck_assert_msg(fabs(tk - want) < (cvode ? 1e-5 : 1e-9), "spike %zu at %.9g, want %.9g",
                          k, tk, want);
            last[b] = tk;
            count[b]++;
        }
        ck_assert(count[0] > 0 && count[1] > 0);
        /* one sample per neuron per ms from t = 0 up to the last step */
        size_t ns = ss_network_nsamples(net);
        ck_assert_uint_eq(ns, 2 * 500);
        double st, sv;
        size_t sp, si;
        ck_assert_uint_eq(ss_network_samples(net, 2 * 100, 1, &st, &sp, &si, &sv), 1);
        ck_assert(fabs(st - 0.1) < 1e-12 && sp == pop && si == 0);
        ck_assert_double_eq_tol(sv, p.v_rest, 1e-12);
        ck_assert_uint_eq(ss_network_samples(net, ns - 1, 9, NULL, NULL, &si, NULL), 1);
        ck_assert_uint_eq(si, 1);
        free(t);
        free(pp);
        free(ii);
        ss_network_free(net);
    }
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
 * simulating the same neuron, plain and behind a compressive input stage:
 * CVODE (its resets wait for the next exchange point) to 0.5%, the
 * per-neuron integrator (exact resets) at rtol 1e-9 to 1e-7. */
START_TEST(dpi_rate_quadrature)
{
    for (int k = 0; k < 4; k++) {
        int rk = k >= 2;
        ss_error err;
        ss_dpi_params p = SS_DPI_DEFAULTS;
        p.ithahp = p.io; /* Iahp stays at Io, as ss_network_dpi_rate assumes */
        p.t_ref = 0.2385e-3;
        double bias = k % 2 ? 3.385e-9 : 23.85e-9;
        if (k % 2) {
            p.in_beta = 0.6;
            p.in_ref = 30e-9;
        }
        ss_network *net = ss_network_alloc(&err);
        size_t pop;
        ck_assert_int_eq(ss_network_add_dpi(net, "dpi", 1, &p, &pop, &err), SS_OK);
        ck_assert_int_eq(ss_network_set_bias(net, pop, &bias, &err), SS_OK);
        ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
        o.dt = 1e-5;
        o.solver = rk ? SS_NETWORK_RK : SS_NETWORK_ADAMS;
        o.rtol = rk ? 1e-9 : 1e-6;
        ck_assert_msg(ss_network_run(net, 0.3, &o, &err) == SS_OK, "%s", err.msg);
        size_t ns = ss_network_nspikes(net), a, b;
        ck_assert_uint_gt(ns, 10);
        double t0, t1, want;
        ss_network_spike(net, ns / 2, &t0, &a, &b);
        ss_network_spike(net, ns - 1, &t1, &a, &b);
        double rate = (double)(ns - 1 - ns / 2) / (t1 - t0);
        ck_assert_int_eq(ss_network_dpi_rate(&p, bias, &want, &err), SS_OK);
        ck_assert_msg(fabs(rate / want - 1) < (rk ? 1e-7 : 5e-3), "%s: network %.10g Hz vs quadrature %.10g Hz",
                      rk ? "rk" : "cvode", rate, want);
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
                      "exp.yaml:2:", "solver must be 'rk', 'adams' or 'bdf'");
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
    /* without -q and off a terminal: progress as plain lines, the last at 100% */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o res 2>&1 | grep 'smallsim: run t'",
                                dir, ss_test_program()), 0);
    ck_assert_msg(strstr(out, "t = 0.2 / 0.2 s (100%)") && strstr(out, "simulated per s\n") &&
                      !strchr(out, '\r'),
                  "progress: %s", out);
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


/* ---- the per-neuron integrator (SS_NETWORK_RK, the default) ------------------
 * Independent references: closed forms, the quadrature of
 * ss_network_dpi_rate, CVODE at a tight tolerance (whose resets wait for the
 * next exchange point: compared at a 1 us exchange step), and the exact
 * propagator on a neuron that is linear up to 1e-8. */

/* A LIF behind the input stage is nonlinear in its input, so it takes the
 * per-neuron integrator: first spike and ISI against the closed form of a
 * plain LIF driven by S(I), at a loose and a tight tolerance. */
START_TEST(rk_lif_closed_form)
{
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.i_bias = 0.52385e-9;
    p.in_beta = 0.7;
    p.in_ref = 0.1e-9;
    p.v_reset = -65e-3;
    double s = p.in_ref * exp(p.in_beta * log(p.i_bias / p.in_ref));
    double rs = p.r_m * s, first0 = p.tau_m * log(rs / (rs - (p.v_th - p.v_rest)));
    const double rtol[2] = {1e-6, 1e-10}, tol[2] = {2e-6, 2e-9};
    for (int k = 0; k < 2; k++) {
        double first, isi;
        size_t n;
        run_single_tol(&p, 0.5, SS_NETWORK_RK, rtol[k], &first, &isi, &n);
        ck_assert_msg(fabs(isi / lif_isi(&p, s) - 1) < tol[k], "rtol %g: isi %.12g vs %.12g", rtol[k],
                      isi, lif_isi(&p, s));
        ck_assert_msg(fabs(first / first0 - 1) < tol[k], "rtol %g: first %.12g vs %.12g", rtol[k],
                      first, first0);
    }
}
END_TEST

/* Runs net to each of the stop times, frees it and returns the spikes of
 * population pop (times t, neuron indices who; at most cap). */
static size_t run_and_free(ss_network *net, size_t pop, const ss_network_options *o,
                           const double *stops, int nstops, double *t, size_t *who, size_t cap)
{
    ss_error err;
    for (int k = 0; k < nstops; k++)
        ck_assert_msg(ss_network_run(net, stops[k], o, &err) == SS_OK, "%s", err.msg);
    size_t n = 0;
    for (size_t k = 0; k < ss_network_nspikes(net) && n < cap; k++) {
        size_t a;
        ss_network_spike(net, k, &t[n], &a, &who[n]);
        n += a == pop;
    }
    ss_network_free(net);
    return n;
}

/* DPI neurons with adaptation, driven by a regular source (excitatory and
 * inhibitory synapses) and by each other: the per-neuron integrator
 * against CVODE (Adams), both at rtol 1e-9, with a 1 us exchange step. */
static size_t dpi_net_pieces(int solver, double rtol, double h, const double *stops, int nstops,
                             double *t, size_t *who, size_t cap)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_dpi_params p = SS_DPI_DEFAULTS;
    p.iahp_jump = 2e-12;
    double bias[4] = {5e-9, 8e-9, 16e-9, 64e-9};
    size_t pop, src, pre[4], post[4], rpre[4], rpost[4];
    double w[4], rw[4], d[4], rd[4];
    for (size_t i = 0; i < 4; i++) {
        pre[i] = 0, post[i] = i, w[i] = (i % 2 ? 1 : -0.5) * 0.8e-9, d[i] = 1e-3;
        rpre[i] = i, rpost[i] = (i + 1) % 4, rw[i] = 0.3e-9, rd[i] = 2e-3;
    }
    ck_assert_int_eq(ss_network_add_dpi(net, "dpi", 4, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_set_bias(net, pop, bias, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_regular(net, "in", 1, 173.0, 0.00123, 0, &src, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, src, pop, 4, pre, post, w, d, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, pop, pop, 4, rpre, rpost, rw, rd, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = solver;
    o.rtol = rtol;
    o.dt = h;
    return run_and_free(net, pop, &o, stops, nstops, t, who, cap);
}

static size_t dpi_net_spikes(int solver, double rtol, double h, double tstop, double *t, size_t *who,
                             size_t cap)
{
    return dpi_net_pieces(solver, rtol, h, &tstop, 1, t, who, cap);
}

/* Spike trains a and b, neuron by neuron: equal counts; the largest time
 * difference. */
static double train_diff(const double *ta, const size_t *wa, size_t na, const double *tb,
                         const size_t *wb, size_t nb, size_t nneurons)
{
    double worst = 0;
    for (size_t i = 0; i < nneurons; i++) {
        size_t ka = 0, kb = 0;
        for (;;) {
            while (ka < na && wa[ka] != i)
                ka++;
            while (kb < nb && wb[kb] != i)
                kb++;
            ck_assert_msg((ka < na) == (kb < nb), "neuron %zu: different spike counts", i);
            if (ka == na)
                break;
            worst = fmax(worst, fabs(ta[ka++] - tb[kb++]));
        }
    }
    return worst;
}

START_TEST(rk_dpi_against_cvode)
{
    static double ta[4096], tb[4096];
    static size_t wa[4096], wb[4096];
    size_t na = dpi_net_spikes(SS_NETWORK_RK, 1e-9, 1e-6, 0.05, ta, wa, 4096);
    size_t nb = dpi_net_spikes(SS_NETWORK_ADAMS, 1e-9, 1e-6, 0.05, tb, wb, 4096);
    ck_assert_uint_gt(na, 40);
    double d = train_diff(ta, wa, na, tb, wb, nb, 4);
    ck_assert_msg(d < 2e-6, "RK and CVODE spike times differ by %g s", d);
    /* the RK path at its loose default against its tight self */
    nb = dpi_net_spikes(SS_NETWORK_RK, 1e-6, 1e-6, 0.05, tb, wb, 4096);
    d = train_diff(ta, wa, na, tb, wb, nb, 4);
    ck_assert_msg(d < 1e-7, "RK at rtol 1e-6 and 1e-9 differ by %g s", d);
}
END_TEST

/* Adaptive LIF (a != 0: linear but coupled, so not the exact propagator):
 * the per-neuron integrator against CVODE, as above. */
static size_t adlif_spikes(int solver, double *t, size_t *who, size_t cap)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.a = 4e-9;
    p.b = 0.05e-9;
    p.tau_w = 0.1;
    double bias[3] = {0.6e-9, 0.9e-9, 1.5e-9};
    size_t pop, src, pre[3] = {0, 0, 0}, post[3] = {0, 1, 2};
    double w[3] = {0.3e-9, -0.2e-9, 0.5e-9}, d[3] = {1e-3, 1e-3, 1e-3};
    ck_assert_int_eq(ss_network_add_lif(net, "ad", 3, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_set_bias(net, pop, bias, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_regular(net, "in", 1, 87.0, 0.00351, 0, &src, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, src, pop, 3, pre, post, w, d, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.solver = solver;
    o.rtol = 1e-9;
    o.dt = 1e-6;
    double tstop = 0.1;
    return run_and_free(net, pop, &o, &tstop, 1, t, who, cap);
}

START_TEST(rk_adaptive_lif_against_cvode)
{
    static double ta[2048], tb[2048];
    static size_t wa[2048], wb[2048];
    size_t na = adlif_spikes(SS_NETWORK_RK, ta, wa, 2048);
    size_t nb = adlif_spikes(SS_NETWORK_ADAMS, tb, wb, 2048);
    ck_assert_uint_gt(na, 20);
    double d = train_diff(ta, wa, na, tb, wb, nb, 3);
    ck_assert_msg(d < 2e-6, "RK and CVODE spike times differ by %g s", d);
}
END_TEST

/* Sampling inside an epoch (a 1 ms delay makes epochs 10 exchange steps
 * long) and a current step that falls inside one: the LIF behind the
 * input stage against its closed form v(t) = v_inf + (v_rest - v_inf)
 * e^(-t/tau_m) from the step's onset (applied at the exchange point at or
 * after t_on). */
START_TEST(rk_sampling_and_steps)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.in_beta = 0.7;
    p.in_ref = 0.1e-9;
    size_t pop, src, idx = 0, pre = 0, post = 0;
    double w = 0, d = 1e-3, amp = 0.5e-9, t_on = 0.01234, h = 1e-4;
    ck_assert_int_eq(ss_network_add_lif(net, "n", 1, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_poisson(net, "quiet", 1, 0.0, &src, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, src, pop, 1, &pre, &post, &w, &d, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_step(net, pop, 0, t_on, 1.0, amp, &err), SS_OK);
    ck_assert_int_eq(ss_network_record_state(net, pop, &idx, 1, h, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.rtol = 1e-10;
    ck_assert_int_eq(ss_network_run(net, 0.05, &o, &err), SS_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/states.csv", ss_test_tmpdir());
    ck_assert_int_eq(ss_network_write_states(net, dir, &err), SS_OK);
    FILE *f = fopen(dir, "r");
    ck_assert_ptr_nonnull(f);
    char line[256], name[64];
    double s = p.in_ref * exp(p.in_beta * log(amp / p.in_ref)), vinf = p.v_rest + p.r_m * s;
    double ton = ceil(t_on / h - 1e-9) * h, tspike = INFINITY;
    if (ss_network_nspikes(net)) {
        size_t a, b;
        ss_network_spike(net, 0, &tspike, &a, &b);
    }
    ck_assert_msg(fabs(tspike - ton - p.tau_m * log((vinf - p.v_rest) / (vinf - p.v_th))) < 1e-9,
                  "first spike at %.12g", tspike);
    size_t rows = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    while (fgets(line, sizeof line, f)) {
        double t, v;
        size_t i;
        ck_assert_int_eq(sscanf(line, "%lf,%63[^,],%zu,%lf", &t, name, &i, &v), 4);
        if (t >= tspike)
            break;
        double want = t <= ton ? p.v_rest : vinf + (p.v_rest - vinf) * exp(-(t - ton) / p.tau_m);
        ck_assert_msg(fabs(v - want) < 1e-9, "t = %g: v %.12g, closed form %.12g", t, v, want);
        rows++;
    }
    fclose(f);
    ck_assert_uint_gt(rows, 150);
    ss_network_free(net);
}
END_TEST

/* A run continued in pieces gives the spikes of one run (to the tolerance:
 * the pieces end the integrator's epochs elsewhere). */
START_TEST(rk_continued_run)
{
    static double ta[4096], tb[4096];
    static size_t wa[4096], wb[4096];
    const double stops[3] = {0.01234, 0.031, 0.05};
    size_t na = dpi_net_spikes(SS_NETWORK_RK, 1e-9, 1e-4, 0.05, ta, wa, 4096);
    size_t nb = dpi_net_pieces(SS_NETWORK_RK, 1e-9, 1e-4, stops, 3, tb, wb, 4096);
    ck_assert_uint_gt(na, 40);
    double d = train_diff(ta, wa, na, tb, wb, nb, 4);
    ck_assert_msg(d < 1e-8, "one run and three pieces differ by %g s", d);
}
END_TEST


/* The plastic crossbar with output neurons that take the per-neuron
 * integrator (a = 1e-15 A/V: adaptation below 1e-8 of the drive) learns
 * what it learns with the exact propagator (a = 0): the same spikes to
 * 1e-7 s and the same conductances to 1e-6 of their change. */
static void association_run(int rk, const char *extra, double *t, size_t *who, size_t cap,
                            size_t *n, double *g0, double *g1)
{
    FILE *f = fopen("examples/network/association.yaml", "r");
    ck_assert_ptr_nonnull(f);
    static char text[16384];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = 0;
    const char *from = "{name: output, kind: lif, n: 4}";
    char *at = strstr(text, from);
    ck_assert_ptr_nonnull(at);
    static char mod[17000];
    snprintf(mod, sizeof mod, "rtol: 1e-9\n%.*s{name: output, kind: lif, n: 4, params: {a: %s}}%s",
             (int)(at - text), text, rk ? "1e-15" : "0", at + strlen(from));
    if (extra) { /* a projection before the crossbar */
        char *prj = strstr(mod, "projections:\n");
        ck_assert_ptr_nonnull(prj);
        prj += strlen("projections:\n");
        memmove(prj + strlen(extra), prj, strlen(prj) + 1);
        memcpy(prj, extra, strlen(extra));
    }
    const char *path = ss_test_write(ss_test_tmpdir(), "assoc.yaml", mod);
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ss_network_options o = {exp.dt, exp.rtol, exp.seed, NULL, NULL, NULL, exp.solver};
    ss_network_crossbar_states(net, 0, NULL, g0, NULL, NULL);
    ck_assert_int_eq(ss_network_run(net, exp.duration, &o, &err), SS_OK);
    ss_network_crossbar_states(net, 0, NULL, g1, NULL, NULL);
    *n = 0;
    for (size_t k = 0; k < ss_network_nspikes(net) && *n < cap; k++) {
        size_t p;
        ss_network_spike(net, k, &t[*n], &p, &who[*n]);
        who[*n] += p * 100; /* (population, index) as one number */
        ++*n;
    }
    long steps, rhs, restarts;
    ss_network_stats(net, &steps, &rhs, &restarts);
    ck_assert(rk ? steps > 0 : steps == 0); /* the paths really differ */
    ss_network_free(net);
}

START_TEST(rk_plastic_crossbar)
{
    static double ta[8192], tb[8192];
    static size_t wa[8192], wb[8192];
    double g0a[64], g1a[64], g0b[64], g1b[64];
    size_t na, nb;
    association_run(0, NULL, ta, wa, 8192, &na, g0a, g1a);
    association_run(1, NULL, tb, wb, 8192, &nb, g0b, g1b);
    ck_assert_uint_gt(na, 100);
    double d = train_diff(ta, wa, na, tb, wb, nb, 400);
    ck_assert_msg(d < 1e-7, "spike times differ by %g s", d);
    double change = 0, diff = 0;
    for (int k = 0; k < 64; k++) {
        ck_assert_double_eq(g0a[k], g0b[k]);
        change = fmax(change, fabs(g1a[k] - g0a[k]));
        diff = fmax(diff, fabs(g1a[k] - g1b[k]));
    }
    ck_assert_msg(diff < 1e-6 * change, "conductances differ by %g S (change %g S)", diff, change);
}
END_TEST


/* Delays given in any order: each target hears a presynaptic spike at the
 * first exchange point at or after t + delay, so identical targets (exact
 * LIF) fire at that point plus the same latency. */
START_TEST(delays_any_order)
{
    ss_error err;
    ss_network *net = ss_network_alloc(&err);
    ss_lif_params p = SS_LIF_DEFAULTS;
    size_t src, pop, id = 0, pre[6] = {0, 0, 0, 0, 0, 0}, post[6] = {0, 1, 2, 3, 4, 0};
    double t = 0.01234, h = 1e-4;
    double w[6] = {3e-9, 3e-9, 3e-9, 3e-9, 3e-9, 0}, d[6] = {3e-3, 1e-3, 2.5e-3, 1e-3, 5e-3, 7e-3};
    ck_assert_int_eq(ss_network_add_times(net, "in", 1, &id, &t, 1, &src, &err), SS_OK);
    ck_assert_int_eq(ss_network_add_lif(net, "out", 5, &p, &pop, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, src, pop, 6, pre, post, w, d, &err), SS_OK);
    ck_assert_int_eq(ss_network_run(net, 0.03, NULL, &err), SS_OK);
    double first[5] = {0};
    for (size_t k = 0; k < ss_network_nspikes(net); k++) {
        double ts;
        size_t a, i;
        ss_network_spike(net, k, &ts, &a, &i);
        if (a == pop && first[i] == 0)
            first[i] = ts;
    }
    double arrive = ceil(t / h) * h;
    for (int i = 0; i < 5; i++) {
        ck_assert_msg(first[i] > 0, "neuron %d did not fire", i);
        ck_assert_double_eq_tol(first[i] - d[i] - arrive, first[0] - d[0] - arrive, 1e-12);
    }
    ss_network_free(net);
}
END_TEST

/* Synapses with other delays from the same presynaptic neurons reorder a
 * plastic crossbar's synapses in storage: learning must not notice
 * (zero-weight extra synapses change nothing, bit for bit). */
START_TEST(plastic_crossbar_among_other_delays)
{
    static double ta[8192], tb[8192];
    static size_t wa[8192], wb[8192];
    double g0a[64], g1a[64], g0b[64], g1b[64];
    size_t na, nb;
    association_run(0, NULL, ta, wa, 8192, &na, g0a, g1a);
    association_run(0, "  - {from: input, to: output, kind: all, weight: 0, delay: 3m}\n", tb, wb,
                    8192, &nb, g0b, g1b);
    ck_assert_uint_gt(na, 100);
    ck_assert_uint_eq(na, nb);
    for (size_t k = 0; k < na; k++) {
        ck_assert_uint_eq(wa[k], wb[k]);
        ck_assert_double_eq(ta[k], tb[k]);
    }
    for (int k = 0; k < 64; k++)
        ck_assert_double_eq(g1a[k], g1b[k]);
}
END_TEST


/* A crossing that does not last to the end of a step: one input makes the
 * membrane of a LIF (on the per-neuron integrator: a = 1e-15) peak 0.1 uV
 * above threshold, v - v_rest = r w tau_s/(tau_m - tau_s) (e^(-u/tau_m) -
 * e^(-u/tau_s)) after the arrival; it must fire once, on the rising side,
 * and not at all when the peak stays 0.1 uV below. */
START_TEST(rk_grazing_crossing)
{
    ss_lif_params p = SS_LIF_DEFAULTS;
    p.a = 1e-15;
    double tm = p.tau_m, ts = p.tau_syn, upeak = log(tm / ts) * ts * tm / (tm - ts);
    double shape = ts / (tm - ts) * (exp(-upeak / tm) - exp(-upeak / ts));
    for (int above = 0; above < 2; above++) {
        double w = (p.v_th - p.v_rest + (above ? 1e-7 : -1e-7)) / (p.r_m * shape);
        ss_error err;
        ss_network *net = ss_network_alloc(&err);
        size_t src, pop, id = 0, zero = 0;
        double t0 = 0.01, d = 1e-3;
        ck_assert_int_eq(ss_network_add_times(net, "in", 1, &id, &t0, 1, &src, &err), SS_OK);
        ck_assert_int_eq(ss_network_add_lif(net, "n", 1, &p, &pop, &err), SS_OK);
        ck_assert_int_eq(ss_network_connect(net, src, pop, 1, &zero, &zero, &w, &d, &err), SS_OK);
        ck_assert_int_eq(ss_network_run(net, 0.05, NULL, &err), SS_OK);
        ck_assert_uint_eq(ss_network_pop_spikes(net, pop), (size_t)above);
        if (above) {
            double t, lo = 0, hi = upeak, arrive = ceil((t0 + d) / 1e-4 - 1e-9) * 1e-4;
            size_t a, i;
            for (size_t k = 0; k < ss_network_nspikes(net); k++) {
                ss_network_spike(net, k, &t, &a, &i);
                if (a == pop)
                    break;
            }
            for (int it = 0; it < 100; it++) { /* the closed form's crossing */
                double u = 0.5 * (lo + hi);
                double v = p.r_m * w * ts / (tm - ts) * (exp(-u / tm) - exp(-u / ts));
                *(v < p.v_th - p.v_rest ? &lo : &hi) = u;
            }
            ck_assert_msg(fabs(t - arrive - hi) < 1e-5, "spike at %.9g, closed form %.9g", t, arrive + hi);
        }
        ss_network_free(net);
    }
}
END_TEST

Suite *network_suite(void)
{
    Suite *s = suite_create("network");
    TCase *tc = tcase_create("network");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, lif_exact_spike_times);
    tcase_add_test(tc, lif_cvode_path);
    tcase_add_test(tc, bias_between_runs_and_bulk_queries);
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
    tcase_add_test(tc, rk_lif_closed_form);
    tcase_add_test(tc, rk_dpi_against_cvode);
    tcase_add_test(tc, rk_adaptive_lif_against_cvode);
    tcase_add_test(tc, rk_sampling_and_steps);
    tcase_add_test(tc, rk_continued_run);
    tcase_add_test(tc, rk_plastic_crossbar);
    tcase_add_test(tc, delays_any_order);
    tcase_add_test(tc, rk_grazing_crossing);
    tcase_add_test(tc, plastic_crossbar_among_other_delays);
    suite_add_tcase(s, tc);
    return s;
}
