/* check_engine.c: the ngspice engine against analytic answers, broken
 * netlists, fatal-error recovery, isolation and memory over many runs. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/engine/ss_engine.h"
#include "tests/ss_test.h"

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

static int run_text(const char *text, ss_result *res, ss_error *err)
{
    return ss_engine_run_text(eng, text, "test.cir", 0, res, err);
}

static const char rc_step[] = "rc step\n"
                              "V1 in 0 DC 1\n"
                              "R1 in out 1k\n"
                              "C1 out 0 100n IC=0\n"
                              ".tran 0.5u 500u uic\n"
                              ".end\n";

/* RC step from v = 0 with tau = 100 us: v(t) = 1 - exp(-t/tau). */
START_TEST(rc_step_analytic)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_text(rc_step, &res, &err) == SS_OK, "%s", err.msg);
    const ss_vector *t = ss_result_find(&res, "time"), *v = ss_result_find(&res, "v(out)");
    ck_assert_ptr_nonnull(t);
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_eq(t, &res.plot[res.nplot - 1].vec[0]); /* scale first */
    ck_assert_uint_gt(t->n, 100);
    ck_assert_double_eq_tol(t->re[t->n - 1], 500e-6, 1e-12);
    double maxerr = 0;
    for (size_t k = 0; k < t->n; k++) {
        double exact = 1.0 - exp(-t->re[k] / 100e-6);
        maxerr = fmax(maxerr, fabs(v->re[k] - exact));
    }
    ck_assert_msg(maxerr < 1e-3, "max error %g V on a 1 V step (limit 0.1%%)", maxerr);
    /* i(v1) = -(1 - v)/R */
    const ss_vector *i = ss_result_find(&res, "i(v1)");
    ck_assert_ptr_nonnull(i);
    ck_assert_double_eq_tol(i->re[t->n / 2], -(1.0 - v->re[t->n / 2]) / 1e3, 1e-9);
    ss_result_release(&res);
}
END_TEST

/* Host-driven pulse train into an RC through an EXTERNAL current source.
 * 1 mA, 1 kOhm: a 1 V swing; tau = 100 us; period 300 us, high 120 us. */
struct pulse_host {
    double period, width, amp, tau, r;
    size_t iout, points;
    double maxerr;
    int bad;
};

static double pulse_at(const struct pulse_host *h, double t)
{
    /* ngspice lands on a breakpoint a few ulps off.  The point on an edge
     * ends the step before it, so it takes the value from before the edge
     * (the left limit), decided with a tolerance of 1e-9 of the period. */
    double ph = fmod(t - 1e-9 * h->period, h->period);
    return ph < h->width ? h->amp : 0.0;
}

/* Exact piecewise-exponential capacitor voltage at t. */
static double pulse_exact(const struct pulse_host *h, double t)
{
    double v = 0, t0 = 0;
    for (;;) {
        double cyc = floor(t0 / h->period + 1e-12) * h->period;
        double on_end = cyc + h->width, off_end = cyc + h->period;
        double seg_end = t0 < on_end - 1e-15 ? on_end : off_end;
        double target = t0 < on_end - 1e-15 ? h->amp * h->r : 0.0;
        double tt = fmin(t, seg_end);
        v = target + (v - target) * exp(-(tt - t0) / h->tau);
        if (t <= seg_end)
            return v;
        t0 = seg_end;
    }
}

static int pulse_source(void *user, const char *name, double t, double *value)
{
    struct pulse_host *h = user;
    if (strcmp(name, "i1") != 0)
        return 1;
    *value = pulse_at(h, t);
    return 0;
}

static int pulse_accept(void *user, const ss_engine_point *pt)
{
    struct pulse_host *h = user;
    if (h->iout == (size_t)-1)
        for (size_t i = 0; i < pt->n; i++)
            if (!strcmp(pt->names[i], "V(out)") || !strcmp(pt->names[i], "out") ||
                !strcmp(pt->names[i], "v(out)"))
                h->iout = i;
    if (h->iout == (size_t)-1) {
        h->bad = 1;
        return 1;
    }
    h->maxerr = fmax(h->maxerr, fabs(pt->values[h->iout] - pulse_exact(h, pt->t)));
    h->points++;
    return 0;
}

START_TEST(external_pulse_train)
{
    struct pulse_host h = {300e-6, 120e-6, 1e-3, 100e-6, 1e3, (size_t)-1, 0, 0, 0};
    ss_engine_hooks hooks = {pulse_source, pulse_accept, NULL, &h};
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ss_engine_set_hooks(eng, &hooks);
    for (double t = 0; t < 2e-3; t += h.period) {
        ck_assert_int_eq(ss_engine_breakpoint(eng, t + h.width), SS_OK);
        ck_assert_int_eq(ss_engine_breakpoint(eng, t + h.period), SS_OK);
    }
    ck_assert_msg(run_text("host pulses\nI1 0 out external\nR1 out 0 1k\nC1 out 0 100n IC=0\n"
                           ".tran 1u 2m uic\n.end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_int_eq(h.bad, 0);
    ck_assert_uint_gt(h.points, 1000);
    ck_assert_msg(h.maxerr < 0.1e-3, "max error %g V (limit 0.1 mV)", h.maxerr);
    /* the copied-out result agrees with what the hook saw */
    const ss_vector *t = ss_result_find(&res, "time"), *v = ss_result_find(&res, "v(out)");
    ck_assert_double_eq_tol(v->re[t->n - 1], pulse_exact(&h, t->re[t->n - 1]), 0.1e-3);
    ss_result_release(&res);
    /* without the hook the same netlist is an error, not zeros */
    ss_engine_set_hooks(eng, NULL);
    ck_assert_int_eq(run_text("host pulses\nI1 0 out external\nR1 out 0 1k\nC1 out 0 100n\n"
                              ".tran 1u 20u\n.end\n",
                              &res, &err),
                     SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "no source hook"));
}
END_TEST

static int bound_step(void *user, const ss_engine_point *pt)
{
    double *last = user;
    if (pt->t - last[0] > last[1])
        last[1] = pt->t - last[0];
    last[0] = pt->t;
    return 0;
}

static double max_step_2u(void *user, double t)
{
    (void)user, (void)t;
    return 2e-6;
}

START_TEST(step_bound_hook)
{
    double last[2] = {0, 0};
    ss_engine_hooks hooks = {NULL, bound_step, max_step_2u, last};
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ss_engine_set_hooks(eng, &hooks);
    ck_assert_msg(run_text("bounded\nV1 in 0 DC 1\nR1 in out 1k\nC1 out 0 100n\n.tran 100u 1m\n.end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_msg(last[1] <= 2e-6 * (1 + 1e-9), "largest step %g > 2 us", last[1]);
    ck_assert_double_eq_tol(last[0], 1e-3, 1e-12);
    ss_engine_set_hooks(eng, NULL);
    ss_result_release(&res);
}
END_TEST

/* Broken netlists through the whole path: each gives its own clear error. */
struct broken {
    const char *text;
    int code;
    const char *where, *what;
};

START_TEST(broken_netlists)
{
    static const struct broken cases[] = {
        {"t\nX1 a 0 nosuch\nR1 a 0 1k\nV1 a 0 1\n.op\n", SS_ESIM, "test.cir:2:", "unknown subckt"},
        {"t\nD1 a 0 nomodel\nV1 a 0 1\n.op\n", SS_ESIM, "test.cir:2:", "could not find a valid modelname"},
        {"t\n.param x = {1+}\nR1 a 0 {x}\nV1 a 0 1\n.op\n", SS_ESIM, "test.cir:2:", "Expression err"},
        {"t\nR1 a 0 {nope}\nV1 a 0 1\n.op\n", SS_ESIM, "test.cir:2:", "Undefined parameter [nope]"},
        {"t\nV1 in 0 PULSE(0 1 1u 1n 1n 1u 2u)\nB1 a 0 V = v(a) > 0.5 ? 0 : 1\nR1 a in 1k\n"
         ".tran 1n 10u\n", SS_ESIM, "", "timestep too small"},
        {"t\nR1 a 0 1k\nV1 a 0 1\n", SS_ESIM, "", "no results"},
        {"t\nR1 a\nV1 a 0 1\n.op\n", SS_EPARSE, "test.cir:2:", "needs two nodes"},
        {"t\nV1 a 0 1\n.control\nshell touch /tmp/ss-pwned\n.endc\n", SS_EDENIED, "test.cir:3:",
         ".control block refused"},
        {"t\n.include nowhere.inc\n.op\n", SS_EIO, "test.cir:2:", "cannot open include"},
        {"t\nV1 a 0 `echo 1`\n.op\n", SS_EDENIED, "test.cir:2:", "backquote"},
        {"t\n.include /etc/hostname\n.op\n", SS_EDENIED, "test.cir:2:", "outside"},
        {"t\nV1 a 0 1\nR1 a 0 1k\n.tran 1u 1m 0 1u 2u 3u\n", SS_ESIM, "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ss_result res = SS_RESULT_INIT;
        ss_error err = {0, ""};
        int rc = run_text(cases[i].text, &res, &err);
        ck_assert_msg(rc == cases[i].code, "case %zu: expected %d, got %d (%s)", i,
                      cases[i].code, rc, err.msg);
        ck_assert_msg(strstr(err.msg, cases[i].where) && strcasestr(err.msg, cases[i].what),
                      "case %zu: message '%s' lacks '%s' / '%s'", i, err.msg, cases[i].where,
                      cases[i].what);
        ck_assert_uint_eq(res.nplot, 0);
        /* the engine still works after every failure, with the new circuit */
        ck_assert_msg(run_text(rc_step, &res, &err) == SS_OK, "case %zu, then: %s", i, err.msg);
        const ss_vector *v = ss_result_find(&res, "v(out)");
        ck_assert_double_eq_tol(v->re[v->n - 1], 1 - exp(-5.0), 1e-3);
        ss_result_release(&res);
    }
    ck_assert_int_ge(ss_engine_reloads(eng), 2); /* the .param errors are fatal in ngspice 39 */
    FILE *f = fopen("/tmp/ss-pwned", "r");
    ck_assert_ptr_null(f);
}
END_TEST

START_TEST(never_previous_results)
{
    /* A failing load must not leave the previous circuit to be run again. */
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_int_eq(run_text(rc_step, &res, &err), SS_OK);
    ss_result_release(&res);
    ck_assert_int_ne(ss_engine_run(eng, &res, &err), SS_OK); /* nothing loaded now */
    ck_assert_uint_eq(res.nplot, 0);
    ck_assert_int_ne(run_text("t\nX1 a 0 nosuch\nV1 a 0 1\n.op\n", &res, &err), SS_OK);
    ck_assert_int_ne(ss_engine_run(eng, &res, &err), SS_OK);
    ck_assert_uint_eq(res.nplot, 0);
}
END_TEST

START_TEST(commands_screened)
{
    ss_error err;
    ck_assert_int_eq(ss_engine_command(eng, "shell touch /tmp/ss-pwned2", 0, &err), SS_EDENIED);
    ck_assert_int_eq(ss_engine_command(eng, "echo `ls`", 0, &err), SS_EDENIED);
    ck_assert_int_eq(ss_engine_command(eng, "set noaskquit", 0, &err), SS_OK);
    char long_cmd[1100];
    memset(long_cmd, 'a', sizeof long_cmd - 1);
    long_cmd[sizeof long_cmd - 1] = '\0';
    ck_assert_int_eq(ss_engine_command(eng, long_cmd, 1, &err), SS_EINVAL);
    ck_assert_ptr_null(fopen("/tmp/ss-pwned2", "r"));
}
END_TEST

START_TEST(ac_and_raw)
{
    /* RC low-pass: |H(f)| = 1/sqrt(1 + (2 pi f R C)^2) */
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_text("ac\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 100n\n"
                           ".ac dec 10 10 100k\n.end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    const ss_vector *f = ss_result_find(&res, "frequency"), *v = ss_result_find(&res, "v(out)");
    ck_assert_ptr_nonnull(v);
    ck_assert_ptr_nonnull(v->im);
    for (size_t k = 0; k < f->n; k++) {
        double w = 2 * M_PI * f->re[k] * 1e-4, mag = hypot(v->re[k], v->im[k]);
        ck_assert_double_eq_tol(mag, 1 / sqrt(1 + w * w), 1e-9);
    }
    /* a raw file that ngspice itself loads back */
    const char *dir = ss_test_tmpdir();
    char raw[600], out[8192];
    snprintf(raw, sizeof raw, "%s/ac.raw", dir);
    ck_assert_int_eq(ss_result_write_raw(&res, NULL, 0, raw, &err), SS_OK);
    char script[1200];
    snprintf(script, sizeof script,
             "load raw\n.control\nload %s\nlet m = mag(v(out))\nprint m[10]\n.endc\n.end\n", raw);
    const char *cir = ss_test_write(dir, "load.cir", script);
    /* ngspice -b exits 1 when a deck has no analysis: read its output instead */
    ss_test_sh(out, sizeof out, "ngspice -b '%s'", cir);
    double want = hypot(v->re[10], v->im[10]), got = NAN;
    char *p = strstr(out, "m[10] = ");
    ck_assert_msg(p != NULL, "ngspice output:\n%s", out);
    sscanf(p + 8, "%lf", &got);
    ck_assert_double_eq_tol(got, want, 1e-6 * want);
    ss_result_release(&res);
}
END_TEST

/* Measurements against the closed forms: the RC step's 50 % time tau ln 2
 * and the low-pass gain at the corner, 1/sqrt(2); a measurement that fails
 * is marked failed, one never asked for is absent. */
START_TEST(measurements)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_text("meas\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out 1k\n"
                           "C1 out 0 100n\n.tran 0.2u 500u\n"
                           ".meas tran t50 WHEN v(out)=0.5 RISE=1\n"
                           ".meas tran never WHEN v(out)=2 RISE=1\n.end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    const ss_measure *m = ss_result_measure(&res, "t50");
    ck_assert_msg(m && m->ok, "%s", ss_engine_transcript(eng));
    ck_assert_double_eq_tol(m->value, 1e-4 * log(2), 1e-4 * 1e-4);
    m = ss_result_measure(&res, "never");
    ck_assert(m && !m->ok);
    ck_assert_ptr_null(ss_result_measure(&res, "t5"));
    ss_result_release(&res);
    ck_assert_msg(run_text("meas ac\nV1 in 0 DC 0 AC 1\nR1 in out 1k\nC1 out 0 100n\n"
                           ".ac lin 1001 1000 2000\n.meas ac gain FIND vm(out) AT=1591.549431\n"
                           ".end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    m = ss_result_measure(&res, "GAIN");
    ck_assert(m && m->ok);
    ck_assert_double_eq_tol(m->value, 1 / sqrt(2), 1e-6);
    ck_assert_ptr_null(ss_result_measure(&res, "t50"));
    ss_result_release(&res);
}
END_TEST

START_TEST(many_runs_bounded_memory)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    const int n = 1000;
    long rss0 = 0;
    double sum = 0;
    for (int i = 0; i < n; i++) {
        char text[256];
        /* a different R each run: results must follow the circuit */
        double r = 500.0 + i;
        snprintf(text, sizeof text,
                 "rc %d\nV1 in 0 DC 1\nR1 in out %.17g\nC1 out 0 100n IC=0\n.tran 2u 100u uic\n.end\n",
                 i, r);
        ck_assert_msg(run_text(text, &res, &err) == SS_OK, "run %d: %s", i, err.msg);
        const ss_vector *v = ss_result_find(&res, "v(out)");
        double exact = 1 - exp(-100e-6 / (r * 100e-9));
        ck_assert_double_eq_tol(v->re[v->n - 1], exact, 2e-3);
        sum += v->re[v->n - 1];
        ss_result_release(&res);
        if (i == 99)
            rss0 = ss_util_rss_kb();
    }
    long growth = ss_util_rss_kb() - rss0;
#if defined(__SANITIZE_ADDRESS__)
    (void)growth; /* ASan's quarantine holds freed memory: no RSS bound */
#else
    ck_assert_msg(growth < 1024, "RSS grew by %ld kB over %d runs", growth, n - 100);
#endif
    ck_assert(sum > 0);
}
END_TEST

START_TEST(isolated_runs)
{
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_int_eq(ss_netlist_read_string(&nl, rc_step, "iso.cir", NULL, 0, &err), SS_OK);
    ck_assert_msg(ss_engine_run_isolated(&nl, 30, &res, &err) == SS_OK, "%s", err.msg);
    const ss_vector *v = ss_result_find(&res, "v(out)");
    ck_assert_double_eq_tol(v->re[v->n - 1], 1 - exp(-5.0), 1e-3);
    ss_result_release(&res);
    ss_netlist_release(&nl);
    /* a run that takes far longer than its limit (1e9 steps: minutes) is killed */
    ck_assert_int_eq(ss_netlist_read_string(&nl,
                                            "slow\nV1 in 0 SIN(0 1 1meg)\nR1 in out 1k\n"
                                            "C1 out 0 1n\n.tran 1n 1 0 1n\n.end\n",
                                            "slow.cir", NULL, 0, &err),
                     SS_OK);
    double t0 = ss_util_now();
    ck_assert_int_eq(ss_engine_run_isolated(&nl, 0.5, &res, &err), SS_ETIMEOUT);
    ck_assert_double_lt(ss_util_now() - t0, 5.0);
    ck_assert_ptr_nonnull(strstr(err.msg, "time limit"));
    ss_netlist_release(&nl);
    /* errors come back with their message */
    ck_assert_int_eq(ss_netlist_read_string(&nl, "t\nX1 a 0 nosuch\nV1 a 0 1\n.op\n", "e.cir",
                                            NULL, 0, &err),
                     SS_OK);
    ck_assert_int_eq(ss_engine_run_isolated(&nl, 30, &res, &err), SS_ESIM);
    ck_assert_ptr_nonnull(strstr(err.msg, "unknown subckt"));
    ss_netlist_release(&nl);
}
END_TEST

START_TEST(one_engine_per_process)
{
    ss_engine *second;
    ss_error err;
    ck_assert_int_eq(ss_engine_open(&second, &err), SS_EBUSY);
    ck_assert_ptr_null(second);
}
END_TEST

/* ---- netlists as ngspice -b runs them ------------------------------------ */

static int run_control(const char *text, ss_result *res, ss_error *err)
{
    return ss_engine_run_text(eng, text, "deck.cir", SS_NETLIST_ALLOW_CONTROL, res, err);
}

/* quit ends the commands (also inside if/foreach), keeps every plot and
 * tells its status; ngspice's own quit would destroy the plots. */
START_TEST(quit_ends_commands)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_control("q\nV1 1 0 1\nR1 1 2 1k\nR2 2 0 3k\n.op\n.control\nrun\n"
                              "print v(2)\nquit\necho after\n.endc\n.end\n",
                              &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_int_eq(res.quit, 1);
    ck_assert_int_eq(res.quit_status, 0);
    ck_assert_uint_eq(res.nplot, 1);
    ck_assert_double_eq_tol(ss_result_find(&res, "v(2)")->re[0], 0.75, 1e-12);
    ck_assert_ptr_nonnull(res.printout);
    ck_assert_msg(strstr(res.printout, "v(2) = 7.5") && !strstr(res.printout, "after"), "%s",
                  res.printout);
    /* nested: the loop stops at the quit, its status comes back */
    ck_assert_msg(run_control("q2\nV1 1 0 1\nR1 1 0 1k\n.control\nforeach k 1 2 3\n"
                              "  op\n  echo k=$k\n  if $k = 2\n    quit 2\n  end\nend\n"
                              "echo after\n.endc\n.end\n",
                              &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_int_eq(res.quit, 1);
    ck_assert_int_eq(res.quit_status, 2);
    ck_assert_uint_eq(res.nplot, 2); /* op1, op2 */
    ck_assert_msg(strstr(res.printout, "k=2") && !strstr(res.printout, "k=3") &&
                      !strstr(res.printout, "after"),
                  "%s", res.printout);
    ss_result_release(&res);
    /* the engine goes on as before */
    ck_assert_msg(run_text(rc_step, &res, &err) == SS_OK, "%s", err.msg);
    ss_result_release(&res);
}
END_TEST

/* A block that runs its own analyses keeps them (no second run, no "No
 * job defined"); an echo saying "error" and a failed meas command do not
 * fail it. */
START_TEST(commands_run_their_own_analyses)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_control("own\nV1 1 0 pulse(0 1 0 1u 1u 10u 20u)\nR1 1 2 1k\nC1 2 0 1n\n"
                              ".control\ntran 0.1u 50u\nmeas tran vmax MAX v(2)\n"
                              "meas tran nothere FIND v(2) AT=1\n"
                              "echo ERROR: this is only an echo\nalter R1 2k\ntran 0.1u 50u\n"
                              ".endc\n.end\n",
                              &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(res.nplot, 2);
    ck_assert_str_eq(res.plot[0].name, "tran1");
    ck_assert_str_eq(res.plot[1].name, "tran2");
    ck_assert_int_eq(res.quit, 0);
    ck_assert_msg(strstr(res.printout, "ERROR: this is only an echo"), "%s", res.printout);
    /* alter took effect: the slower RC is lower at 5 us */
    const ss_vector *t1 = ss_plot_find(&res.plot[0], "time"), *v1 = ss_plot_find(&res.plot[0], "v(2)");
    const ss_vector *v2 = ss_plot_find(&res.plot[1], "v(2)");
    ck_assert_ptr_nonnull(v1);
    ck_assert_ptr_nonnull(v2);
    ck_assert_double_eq_tol(t1->re[t1->n - 1], 50e-6, 1e-18);
    ck_assert_double_lt(v2->re[v2->n / 10], v1->re[v1->n / 10]);
    ss_result_release(&res);
}
END_TEST

/* Transients end exactly at tstop, so AT=tstop works, also after a run
 * that needed the step-bounding callback. */
START_TEST(transients_end_at_tstop)
{
    static const char deck[] = "end\nV1 1 0 pulse(0 1 0 1u 1u 10u 20u)\nR1 1 2 1k\nC1 2 0 1n\n"
                               ".tran 0.1u 100u\n.meas tran vend FIND v(2) AT=100u\n"
                               ".meas tran vlate FIND v(2) AT=101u\n.end\n";
    double last[2] = {0, 0};
    ss_engine_hooks hooks = {NULL, bound_step, max_step_2u, last};
    for (int pass = 0; pass < 3; pass++) {
        ss_result res = SS_RESULT_INIT;
        ss_error err;
        ss_engine_set_hooks(eng, pass == 1 ? &hooks : NULL);
        ck_assert_msg(run_text(deck, &res, &err) == SS_OK, "pass %d: %s", pass, err.msg);
        const ss_vector *t = ss_result_find(&res, "time");
        const ss_measure *vend = ss_result_measure(&res, "vend"),
                         *late = ss_result_measure(&res, "vlate");
        /* without the callback ngspice's last point is tstop itself (to
         * the rounding of "100u"); with it, 1.1 delmin before */
        double tend = t->re[t->n - 1];
        if (pass == 1)
            ck_assert_msg(tend < 100e-6 - 1e-19, "pass 1 ends at %.17g", tend);
        if (pass != 1) {
            ck_assert_msg(fabs(tend - 100e-6) <= 1e-19, "pass %d ends at %.17g", pass, tend);
            ck_assert_ptr_nonnull(vend);
            ck_assert_msg(vend->ok, "AT=tstop failed");
            ck_assert_double_eq_tol(vend->value, ss_result_find(&res, "v(2)")->re[t->n - 1],
                                    1e-15);
            ck_assert_int_ge(vend->digits, 16);
        }
        /* a measurement that fails leaves the run and the others alone */
        ck_assert_ptr_nonnull(late);
        ck_assert_int_eq(late->ok, 0);
        ck_assert(isnan(late->value));
        ss_result_release(&res);
    }
    ss_engine_set_hooks(eng, NULL);
}
END_TEST

/* An op on a circuit without elements: libngspice's per-point callback
 * path dereferences a missing vector list (sh_ExecutePerLoop); the engine
 * registers that callback only for runs with an accept hook. */
START_TEST(empty_circuit_survives)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_control("empty\n.control\nop\ntran 0.1m 1m\nac lin 3 1kHz 2kHz\n"
                              "echo done\nquit 0\n.endc\n.end\n",
                              &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_msg(strstr(res.printout, "done"), "%s", res.printout);
    ss_result_release(&res);
}
END_TEST

/* A .spiceinit beside the netlist runs when the netlist is trusted with
 * commands, never otherwise; LTspice's if() needs ngbehavior=ltpsa. */
START_TEST(spiceinit_follows_trust)
{
    const char *dir = ss_test_tmpdir();
    ss_test_write(dir, ".spiceinit", "* LTspice models\nset ngbehavior=ltpsa\n");
    const char *cir = ss_test_write(dir, "lt.cir",
                                    "lt\nV1 in 0 0.7\nB1 out 0 V=if(v(in)>0.5, 2, 0)\n"
                                    "R1 out 0 1k\n.op\n.end\n");
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(ss_engine_run_file(eng, cir, SS_NETLIST_ALLOW_CONTROL, &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_double_eq_tol(ss_result_find(&res, "v(out)")->re[0], 2.0, 1e-12);
    ss_result_release(&res);
    ck_assert_int_eq(ss_engine_run_file(eng, cir, 0, &res, &err), SS_ESIM);
    ck_assert_msg(strcasestr(err.msg, "if"), "%s", err.msg);
    /* and the settings do not leak into the next netlist */
    ck_assert_msg(run_text(rc_step, &res, &err) == SS_OK, "%s", err.msg);
    ss_result_release(&res);
}
END_TEST

/* The title as ngspice -b reads it, lines after .end, option autostop,
 * the same .meas name twice. */
START_TEST(deck_details)
{
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_msg(run_text(".title KiCad schematic\nV1 1 0 1\nR1 1 2 1k\n.op\n.end\nR2 2 0 1k\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_str_eq(res.plot[0].title, "KiCad schematic");
    ck_assert_double_eq_tol(ss_result_find(&res, "v(2)")->re[0], 0.5, 1e-12); /* R2 counts */
    ss_result_release(&res);
    ck_assert_msg(run_text("first\nV1 1 0 1\nR1 1 0 1k\n.title the real one\n.op\n.end\n", &res,
                           &err) == SS_OK,
                  "%s", err.msg);
    ck_assert_str_eq(res.plot[0].title, "the real one");
    ss_result_release(&res);
    /* autostop ends the transient once the measurements are done */
    ck_assert_msg(run_text("auto\nV1 1 0 pulse(0 1 0 1u 1u 10u 20u)\nR1 1 2 1k\nC1 2 0 1n\n"
                           ".option autostop\n.tran 0.1u 1m\n.meas tran t5 WHEN v(2)=0.5 RISE=1\n"
                           ".meas tran t5 WHEN v(2)=0.5 RISE=2\n.end\n",
                           &res, &err) == SS_OK,
                  "%s", err.msg);
    const ss_vector *t = ss_result_find(&res, "time");
    ck_assert_double_lt(t->re[t->n - 1], 100e-6);
    ck_assert_uint_eq(res.nmeas, 2);
    ck_assert(res.meas[0].ok && res.meas[1].ok);
    ck_assert_double_gt(res.meas[1].value, res.meas[0].value + 15e-6);
    ck_assert_ptr_eq(ss_result_measure(&res, "T5"), &res.meas[1]); /* the last counts */
    ss_result_release(&res);
    /* what a block prints after the .meas results is not a result, even
     * under a measurement's name */
    ck_assert_msg(run_control("pm\nV1 1 0 pulse(0 1 0 1u 1u 10u 20u)\nR1 1 2 1k\nC1 2 0 1n\n"
                              ".tran 0.1u 50u\n.meas tran vmax MAX v(2)\n.control\nrun\n"
                              "meas tran vmax MAX v(2)\nprint vmax\nlet vmax = 2\nprint vmax\n"
                              ".endc\n.end\n",
                              &res, &err) == SS_OK,
                  "%s", err.msg);
    /* the block ran the transient, and then, as ngspice -b does for a
     * deck with .meas lines, the deck's own analysis ran again */
    ck_assert_uint_eq(res.nplot, 2);
    ck_assert_uint_eq(res.nmeas, 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_ge(res.meas[i].digits, 16);
        ck_assert_double_lt(res.meas[i].value, 1.0);
    }
    ck_assert_msg(strstr(res.printout, "vmax = 2"), "%s", res.printout);
    ss_result_release(&res);
}
END_TEST

/* A libngspice crash (ngspice 39 segfaults on .sens of a BJT circuit, as
 * its own ngspice -b does) costs only the child process. */
START_TEST(crash_stays_in_the_child)
{
    static const char deck[] = "bjt dc sens\n"
                               ".model qn npn(level=1 bf=80 rb=100 va=50)\n"
                               "q1 4 2 0 qn\nrb 8 2 100k\nrc 8 4 10k\nvcc 8 0 12\n"
                               ".sens v(4)\n.end\n";
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ss_error err;
    ck_assert_int_eq(ss_netlist_read_string(&nl, deck, "sens.cir", NULL, 0, &err), SS_OK);
    ck_assert_int_eq(ss_engine_run_isolated(&nl, 60, &res, &err), SS_ECRASH);
    ck_assert_msg(strstr(err.msg, "signal"), "%s", err.msg);
    ss_netlist_release(&nl);
    /* ngspice -b itself dies on it: the limitation is ngspice 39's */
    char out[256];
    const char *dir = ss_test_tmpdir();
    const char *cir = ss_test_write(dir, "sens.cir", deck);
    int st = ss_test_sh(out, sizeof out, "cd %s && ngspice -b -r x.raw %s >/dev/null", dir, cir);
    ck_assert_msg(st != 0, "ngspice -b now runs it (status %d): update the test", st);
}
END_TEST

Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, open_engine, close_engine);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, rc_step_analytic);
    tcase_add_test(tc, external_pulse_train);
    tcase_add_test(tc, step_bound_hook);
    tcase_add_test(tc, broken_netlists);
    tcase_add_test(tc, never_previous_results);
    tcase_add_test(tc, commands_screened);
    tcase_add_test(tc, ac_and_raw);
    tcase_add_test(tc, measurements);
    tcase_add_test(tc, many_runs_bounded_memory);
    tcase_add_test(tc, isolated_runs);
    tcase_add_test(tc, one_engine_per_process);
    suite_add_tcase(s, tc);
    tc = tcase_create("decks");
    tcase_add_checked_fixture(tc, open_engine, close_engine);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, quit_ends_commands);
    tcase_add_test(tc, commands_run_their_own_analyses);
    tcase_add_test(tc, transients_end_at_tstop);
    tcase_add_test(tc, empty_circuit_survives);
    tcase_add_test(tc, spiceinit_follows_trust);
    tcase_add_test(tc, deck_details);
    tcase_add_test(tc, crash_stays_in_the_child);
    suite_add_tcase(s, tc);
    return s;
}
