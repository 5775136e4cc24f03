/* check_circuits.c: the neuron circuit library against first-order analytic
 * estimates, energy ranges, Monte Carlo reproducibility and the compact
 * model fit. */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "circuits/ss_circuits.h"
#include "cosim/experiment/ss_experiment.h"
#include "tests/ss_test.h"

static ss_engine *eng;
static char old_cwd[4096];

/* The engine runs in this process, in a scratch folder: ngspice writes
 * b3v3_1check.log into the current folder for the library's BSIM3v3.1
 * cards (the program's workers run in their own folders). */
static void open_engine(void)
{
    ss_error err;
    (void)ss_test_program(); /* resolved while the relative default still works */
    ck_assert_ptr_nonnull(getcwd(old_cwd, sizeof old_cwd));
    ck_assert_int_eq(chdir(ss_test_tmpdir()), 0);
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
}

static void close_engine(void)
{
    ss_engine_free(eng);
    eng = NULL;
    ck_assert_int_eq(chdir(old_cwd), 0);
}

static void config(ss_circuit_config *cfg, const char *name)
{
    const ss_circuit_info *ci = ss_circuit_find(name);
    ck_assert_ptr_nonnull(ci);
    ss_circuit_config_init(cfg, ci);
}

static double point(const ss_circuit_config *cfg, double input, ss_circuit_point *pt)
{
    ss_error err;
    ck_assert_msg(ss_circuit_run_point(eng, cfg, input, pt, &err) == SS_OK, "%s", err.msg);
    return pt->rate;
}

START_TEST(library_texts)
{
    ck_assert_ptr_nonnull(ss_circuit_text("ptm180.lib"));
    ck_assert_ptr_nonnull(strstr(ss_circuit_text("dpi_neuron.sub"), ".subckt ss_dpi_neuron"));
    ck_assert_ptr_null(ss_circuit_find("no-such"));
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-neuron");
    ck_assert_int_eq(ss_circuit_set_bias(&cfg, "itau", 2.385e-11, &err), SS_OK);
    ck_assert_double_eq_tol(cfg.bias[0], 2.385e-11, 1e-20);
    ck_assert_int_eq(ss_circuit_set_bias(&cfg, "Inope", 1e-12, &err), SS_ENOTFOUND);
    ss_buf b = SS_BUF_INIT;
    ck_assert_int_eq(ss_circuit_bench(&cfg, 1e-9, 1e-3, 1e-6, &b, &err), SS_OK);
    ck_assert_ptr_nonnull(strstr(b.data, "x1 vdd 0 iin"));
    ss_buf_release(&b);
}
END_TEST

/* Subthreshold parameters of the shipped cards from a DC sweep. */
START_TEST(subthreshold_extraction)
{
    ss_circuit_config cfg;
    ss_error err;
    double i0, kappa;
    config(&cfg, "dpi-neuron");
    ck_assert_msg(ss_circuit_subthreshold(eng, &cfg, 0, 1, 1, &i0, &kappa, &err) == SS_OK, "%s",
                  err.msg);
    ck_assert_msg(kappa > 0.7 && kappa < 0.85, "nFET kappa %g", kappa);
    ck_assert_msg(i0 > 1e-12 && i0 < 4e-12, "nFET I0 %g", i0);
    ck_assert_msg(ss_circuit_subthreshold(eng, &cfg, 1, 1, 1, &i0, &kappa, &err) == SS_OK, "%s",
                  err.msg);
    ck_assert_msg(kappa > 0.65 && kappa < 0.78, "pFET kappa %g", kappa);
    ck_assert_msg(i0 > 1e-13 && i0 < 5e-13, "pFET I0 %g", i0);
}
END_TEST

/* Monotonic f-I over two decades for both neurons; energy within the
 * reference file's range (fJ .. 100 nJ per spike). */
START_TEST(fi_monotonic)
{
    const char *names[] = {"dpi-neuron", "axon-hillock"};
    const double in[] = {20e-12, 100e-12, 500e-12, 2e-9};
    for (size_t c = 0; c < 2; c++) {
        ss_circuit_config cfg;
        config(&cfg, names[c]);
        double prev = 0;
        for (size_t k = 0; k < 4; k++) {
            ss_circuit_point pt;
            double r = point(&cfg, in[k], &pt);
            ck_assert_msg(pt.nspikes >= 3, "%s at %g A: %zu spikes", names[c], in[k], pt.nspikes);
            ck_assert_msg(r > prev * 1.05, "%s: rate %g Hz at %g A not above %g Hz", names[c], r,
                          in[k], prev);
            ck_assert_msg(pt.energy > 1e-15 && pt.energy < 1e-7, "%s: %g J/spike", names[c],
                          pt.energy);
            prev = r;
        }
    }
}
END_TEST

/* Axon-Hillock: f = Iin (Ir - Iin) / (Ir Cfb Vdd), pulse width
 * Cfb Vdd / (Ir - Iin), within 20%. */
START_TEST(axon_hillock_analytic)
{
    ss_circuit_config cfg;
    config(&cfg, "axon-hillock");
    double ir = cfg.bias[0], cfb = 100e-15, vdd = cfg.vdd;
    const double in[] = {100e-12, 5e-9};
    for (size_t k = 0; k < 2; k++) {
        ss_circuit_point pt;
        double r = point(&cfg, in[k], &pt);
        double fa = in[k] * (ir - in[k]) / (ir * cfb * vdd), ton = cfb * vdd / (ir - in[k]);
        ck_assert_msg(fabs(r / fa - 1) < 0.2, "rate %g vs %g", r, fa);
        ck_assert_msg(fabs(pt.refractory / ton - 1) < 0.2, "pulse %g vs %g", pt.refractory, ton);
    }
}
END_TEST

/* DPI neuron: rheobase (Itau + g Ith)^2 / (4 g Ith) with the feedback
 * mirror ratio g = 1/8; refractory period Cref Vsw / Iref with Vsw the
 * gate voltage at which a unit nFET carries Iref (from I0, kappa). */
START_TEST(dpi_analytic)
{
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-neuron");
    double itau = cfg.bias[0], ith = cfg.bias[1], iref = cfg.bias[2], g = 0.125;
    double rh_a = (itau + g * ith) * (itau + g * ith) / (4 * g * ith);
    ss_circuit_rheo rr;
    ck_assert_msg(ss_circuit_rheobase(eng, &cfg, 3e-12, 30e-12, 0.03, &rr, &err) == SS_OK, "%s",
                  err.msg);
    ck_assert_uint_eq(rr.flags, 0);
    double rh = rr.rheobase;
    ck_assert_msg(fabs(rh / rh_a - 1) < 0.2, "rheobase %g A vs analytic %g A", rh, rh_a);
    double i0, kappa;
    ck_assert_int_eq(ss_circuit_subthreshold(eng, &cfg, 0, 1, 1, &i0, &kappa, &err), SS_OK);
    double ut = 8.617333262e-5 * 300.15, vsw = ut / kappa * log(iref / i0);
    double tref_a = 0.5e-12 * vsw / iref;
    ss_circuit_point pt;
    point(&cfg, 1e-9, &pt);
    ck_assert_msg(fabs(pt.refractory / tref_a - 1) < 0.2, "refractory %g s vs analytic %g s",
                  pt.refractory, tref_a);
    fprintf(stderr, "dpi: rheobase %.3g A (analytic %.3g), refractory %.3g s (analytic %.3g)\n",
            rh, rh_a, pt.refractory, tref_a);
}
END_TEST

/* Adaptation: with Ica on, the ISIs grow. */
START_TEST(dpi_adaptation)
{
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-neuron");
    ck_assert_int_eq(ss_circuit_set_bias(&cfg, "Ica", 200e-12, &err), SS_OK);
    ss_circuit_point pt;
    point(&cfg, 500e-12, &pt);
    ck_assert_msg(pt.adaptation > 0.05, "adaptation index %g", pt.adaptation);
}
END_TEST

/* Synapse: tau = C UT / (kappa Itau) and gain Ith/Itau within 30%. */
START_TEST(synapse_tau_gain)
{
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-synapse");
    double i0, kappa;
    ck_assert_int_eq(ss_circuit_subthreshold(eng, &cfg, 0, 1, 1, &i0, &kappa, &err), SS_OK);
    double ut = 8.617333262e-5 * 300.15, tau_a = 1e-12 * ut / (kappa * cfg.bias[1]);
    ss_circuit_point pt;
    point(&cfg, 100e-12, &pt);
    fprintf(stderr, "synapse: tau %.3g s (analytic %.3g), gain %.3g (Ith/Itau %.3g)\n", pt.tau,
            tau_a, pt.gain, cfg.bias[0] / cfg.bias[1]);
    ck_assert_msg(fabs(pt.tau / tau_a - 1) < 0.3, "tau %g vs %g", pt.tau, tau_a);
    ck_assert_msg(pt.gain > 0.3 * cfg.bias[0] / cfg.bias[1] && pt.gain < 3 * cfg.bias[0] / cfg.bias[1],
                  "gain %g", pt.gain);
}
END_TEST

/* A seeded Monte Carlo sample is reproducible and differs from another. */
START_TEST(mc_reproducible)
{
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-neuron");
    cfg.avt = 4.0;
    cfg.seed = 2385;
    cfg.sample = 3;
    ss_circuit_device *a, *b;
    size_t na, nb;
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, &a, &na, &err), SS_OK);
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, &b, &nb, &err), SS_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_eq(na, 25); /* every transistor of dpi_neuron.sub */
    for (size_t i = 0; i < na; i++) {
        ck_assert(a[i].varied);
        ck_assert_double_eq(a[i].dvt, b[i].dvt);
        /* sigma = AVT / sqrt(W L) */
        ck_assert_double_eq_tol(a[i].sigma, 4e-3 / sqrt(a[i].w * a[i].l * 1e12), 1e-12);
    }
    ck_assert_str_eq(a[0].name, "x1.mind"); /* the input mirror's diode, first in the file */
    free(b);
    ss_circuit_point p1, p2, p3;
    double r1 = point(&cfg, 1e-9, &p1), r2 = point(&cfg, 1e-9, &p2);
    ck_assert_double_eq_tol(r1, r2, 1e-9 * r1);
    cfg.sample = 4;
    double r3 = point(&cfg, 1e-9, &p3);
    ck_assert_msg(fabs(r3 - r1) > 1e-6 * r1, "samples 3 and 4 gave the same rate %g", r1);
    /* sample 0 is the nominal circuit: no shifts, the same bench */
    cfg.sample = 0;
    free(a);
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, &a, &na, &err), SS_OK);
    for (size_t i = 0; i < na; i++)
        ck_assert_double_eq(a[i].dvt, 0.0);
    free(a);
    ss_buf b0 = SS_BUF_INIT, b1 = SS_BUF_INIT;
    ck_assert_int_eq(ss_circuit_bench(&cfg, 1e-9, 1e-3, 1e-6, &b0, &err), SS_OK);
    cfg.avt = 0;
    ck_assert_int_eq(ss_circuit_bench(&cfg, 1e-9, 1e-3, 1e-6, &b1, &err), SS_OK);
    ck_assert_str_eq(b0.data, b1.data);
    ss_buf_release(&b0);
    ss_buf_release(&b1);
}
END_TEST

/* Both compact models (the LIF and the network's teili DPI, each behind a
 * power-law input stage) reproduce the SPICE f-I within 5% at every point
 * of the sweep, evaluated here from their own equations. */
START_TEST(compact_models)
{
    ss_circuit_config cfg;
    ss_error err;
    config(&cfg, "dpi-neuron");
    double in[8], rate[8];
    for (size_t k = 0; k < 8; k++) {
        ss_circuit_point pt;
        in[k] = 20e-12 * pow(10.0, 2.0 * (double)k / 7.0);
        rate[k] = point(&cfg, in[k], &pt);
    }
    ss_circuit_lif m;
    ck_assert_msg(ss_circuit_fit_lif(in, rate, 8, &m, &err) == SS_OK, "%s", err.msg);
    ss_circuit_dpi d;
    ck_assert_msg(ss_circuit_fit_dpi(in, rate, 8, NULL, &d, &err) == SS_OK, "%s", err.msg);
    double el = 0, ed = 0;
    for (size_t k = 0; k < 8; k++) {
        double rd;
        ck_assert_int_eq(ss_network_dpi_rate(&d.p, in[k], &rd, &err), SS_OK);
        el = fmax(el, fabs(ss_circuit_lif_rate(&m, in[k]) / rate[k] - 1));
        ed = fmax(ed, fabs(rd / rate[k] - 1));
    }
    fprintf(stderr, "lif: tau %.3g irh %.3g tref %.3g beta %.3g, max error %.2f%%\n", m.tau,
            m.irh, m.tref, m.beta, 100 * el);
    fprintf(stderr, "dpi: itau %.3g ith %.3g t_ref %.3g in_beta %.3g, max error %.2f%%\n",
            d.p.itau, d.p.ith, d.p.t_ref, d.p.in_beta, 100 * ed);
    ck_assert_msg(el < 0.05, "LIF: max relative error %g", el);
    ck_assert_msg(ed < 0.05, "DPI: max relative error %g", ed);
    ck_assert_double_eq_tol(d.max_rel, ed, 1e-9);
    const char *path = ss_test_write(ss_test_tmpdir(), "m.json", "");
    ck_assert_int_eq(ss_circuit_lif_write(&m, "dpi-neuron", path, &err), SS_OK);
    ck_assert_int_eq(ss_circuit_dpi_write(&d, "dpi-neuron", path, &err), SS_OK);
    ck_assert_int_eq(ss_circuit_fit_lif(in, rate, 3, &m, &err), SS_EINVAL);
    ck_assert_int_eq(ss_circuit_fit_dpi(in, rate, 4, NULL, &d, &err), SS_EINVAL);
}
END_TEST

/* The loop to the network: `characterize --extract lif|dpi` writes files
 * that an experiment loads with params_file:; a population on a constant
 * current between the fitted points (not one of them) fires at the rate
 * the transistor-level circuit gives there, within 5%. */
START_TEST(extracted_in_network)
{
    const char *dir = ss_test_tmpdir();
    static char out[8192];
    int rc = ss_test_sh(out, sizeof out,
                        "cd %s && %s characterize dpi-neuron --sweep log:20p:2n:6 --measure rate "
                        "--extract lif --params lif.json -o lif.csv && "
                        "%s characterize dpi-neuron --sweep log:20p:2n:6 --measure rate "
                        "--extract dpi --params dpi.json -o dpi.csv",
                        dir, ss_test_program(), ss_test_program());
    ck_assert_msg(rc == 0, "%s", out);
    const double iin = 0.3385e-9;
    ss_circuit_config cfg;
    config(&cfg, "dpi-neuron");
    ss_circuit_point pt;
    double want = point(&cfg, iin, &pt);
    char yaml[512];
    snprintf(yaml, sizeof yaml,
             "duration: 0.3\ndt: 1e-5\npopulations:\n"
             "  - {name: lif, kind: lif, n: 1, params_file: lif.json, bias: %.6g}\n"
             "  - {name: dpi, kind: dpi, n: 1, params_file: dpi.json, bias: %.6g}\n", iin, iin);
    const char *path = ss_test_write(dir, "exp.yaml", yaml);
    ss_network *net;
    ss_experiment exp;
    ss_error err;
    ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
    ss_network_options o = {exp.dt, exp.rtol, exp.seed, NULL, NULL, NULL, exp.solver};
    ck_assert_msg(ss_network_run(net, exp.duration, &o, &err) == SS_OK, "%s", err.msg);
    /* steady rate of each population from its last half of ISIs */
    for (size_t pop = 0; pop < 2; pop++) {
        double t[512];
        size_t n = 0;
        for (size_t k = 0; k < ss_network_nspikes(net) && n < 512; k++) {
            size_t pp, idx;
            ss_network_spike(net, k, &t[n], &pp, &idx);
            if (pp == pop)
                n++;
        }
        ck_assert_uint_gt(n, 8);
        double rate = (double)(n - 1 - n / 2) / (t[n - 1] - t[n / 2]);
        fprintf(stderr, "%s from its file: %.1f Hz at %g A, circuit %.1f Hz\n",
                ss_network_pop_name(net, pop), rate, iin, want);
        ck_assert_msg(fabs(rate / want - 1) < 0.05, "%s: %g Hz vs circuit %g Hz",
                      ss_network_pop_name(net, pop), rate, want);
    }
    ss_network_free(net);
    /* The extracted DPI model at 1.5 nA does not depend on the exchange step
     * on the per-neuron integrator (it ends refractoriness at its exact
     * time): dt 100 us with solver rk against dt 1 us with CVODE (adams),
     * whose catch-up step after refractoriness is then negligible. */
    double r[2];
    for (int k = 0; k < 2; k++) {
        snprintf(yaml, sizeof yaml,
                 "duration: 0.3\ndt: %s\nsolver: %s\npopulations:\n"
                 "  - {name: dpi, kind: dpi, n: 1, params_file: dpi.json, bias: 1.5e-9}\n",
                 k ? "1e-6" : "1e-4", k ? "adams" : "rk");
        path = ss_test_write(dir, "exp_dt.yaml", yaml);
        ck_assert_msg(ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK, "%s", err.msg);
        ss_network_options od = {exp.dt, exp.rtol, exp.seed, NULL, NULL, NULL, exp.solver};
        ck_assert_msg(ss_network_run(net, exp.duration, &od, &err) == SS_OK, "%s", err.msg);
        size_t n = ss_network_nspikes(net);
        ck_assert_uint_gt(n, 50);
        double t0, t1;
        size_t pp, idx;
        ss_network_spike(net, n / 2, &t0, &pp, &idx);
        ss_network_spike(net, n - 1, &t1, &pp, &idx);
        r[k] = (double)(n - 1 - n / 2) / (t1 - t0);
        ss_network_free(net);
    }
    fprintf(stderr, "extracted DPI at 1.5 nA: %.3f Hz (rk, dt 100 us), %.3f Hz (adams, dt 1 us)\n",
            r[0], r[1]);
    ck_assert_msg(fabs(r[0] / r[1] - 1) < 1e-3, "rk at dt 100 us %g Hz vs adams at 1 us %g Hz", r[0],
                  r[1]);
}
END_TEST

/* Replaces every whole-word `from` in text by `to` (heap string). */
static char *replace_word(const char *text, const char *from, const char *to)
{
    ss_buf b = SS_BUF_INIT;
    size_t fl = strlen(from);
    for (const char *p = text; *p;) {
        int word = !strncmp(p, from, fl) && (p == text || !isalnum((unsigned char)p[-1])) &&
                   !isalnum((unsigned char)p[fl]) && p[fl] != '_';
        ck_assert_int_eq(word ? ss_buf_printf(&b, "%s", to) : ss_buf_add(&b, p, 1), SS_OK);
        p += word ? fl : 1;
    }
    return b.data;
}

/* A designer's copy of the DPI neuron, with its pins renamed and reordered
 * and declared in a "* smallsim:" line, gives the library neuron's f-I; a
 * file without the declaration is refused with file:line. */
START_TEST(user_circuit)
{
    const char *lib = ss_circuit_text("dpi_neuron.sub");
    char *a = replace_word(lib, "vspk", "out"), *b = replace_word(a, "vss", "gnd");
    char *c = replace_word(b, "ss_dpi_neuron vdd gnd iin", "my_dpi iin gnd vdd");
    ck_assert_ptr_nonnull(strstr(c, ".subckt my_dpi iin gnd vdd vmem out"));
    size_t len = strlen(c) + 128;
    char *text = malloc(len);
    snprintf(text, len, "* smallsim: like=dpi-neuron vspk=out vss=gnd\n%s", c);
    const char *dir = ss_test_tmpdir();
    const char *path = ss_test_write(dir, "my.cir", text);
    ss_error err;
    ss_circuit_info *ci = ss_circuit_load(path, &err);
    ck_assert_msg(ci != NULL, "%s", err.msg);
    ck_assert_str_eq(ci->subckt, "my_dpi");
    ss_circuit_config lc, uc;
    config(&lc, "dpi-neuron");
    ss_circuit_config_init(&uc, ci);
    const double in[] = {33.85e-12, 1.385e-9};
    for (size_t k = 0; k < 2; k++) {
        ss_circuit_point p1, p2;
        double r1 = point(&lc, in[k], &p1), r2 = point(&uc, in[k], &p2);
        ck_assert_msg(r1 > 0 && fabs(r2 / r1 - 1) < 1e-6, "user %g Hz vs library %g Hz", r2, r1);
    }
    ss_circuit_free(ci);
    /* without the declaration: file:1 */
    path = ss_test_write(dir, "plain.cir", c);
    ck_assert_ptr_null(ss_circuit_load(path, &err));
    ck_assert_msg(strstr(err.msg, "plain.cir:1:") && strstr(err.msg, "port declaration"), "%s",
                  err.msg);
    /* a pin without a port, at the .subckt line */
    path = ss_test_write(dir, "extra.cir", "* smallsim: like=axon-hillock\n"
                                          ".subckt ah vdd vss vmem vout vpw extra\n.ends\n");
    ck_assert_ptr_null(ss_circuit_load(path, &err));
    ck_assert_msg(strstr(err.msg, "extra.cir:2:") && strstr(err.msg, "pin 'extra'"), "%s", err.msg);
    free(a);
    free(b);
    free(c);
    free(text);
}
END_TEST

/* characterize --results: a journal cut after one row (and a torn one)
 * resumes to the same CSV; other settings are refused. */
START_TEST(characterize_resume)
{
    const char *dir = ss_test_tmpdir();
    static char out[8192];
    const char *cmd = "%s characterize dpi-neuron --sweep list:50p,200p,1n --measure rate,energy "
                      "--jobs 2 --results j.csv";
    char full[1024];
    snprintf(full, sizeof full, cmd, ss_test_program());
    int rc = ss_test_sh(out, sizeof out,
                        "cd %s && %s -o a.csv && head -2 j.csv > k.csv && printf '2,ok,3' >> k.csv "
                        "&& mv k.csv j.csv && %s --resume -o b.csv && cmp a.csv b.csv && "
                        "grep -c ',ok,' j.csv && tail -c 1 j.csv | od -c | head -1",
                        dir, full, full);
    ck_assert_msg(rc == 0, "%s", out);
    ck_assert_msg(!strncmp(out, "3\n", 2), "journal rows: %s", out);
    rc = ss_test_sh(out, sizeof out, "cd %s && %s --bias Itau=20p --resume -o c.csv", dir, full);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(out, "j.csv:2:") && strstr(out, "other settings"), "%s", out);
    rc = ss_test_sh(out, sizeof out, "cd %s && %s -o c.csv", dir, full);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(out, "--resume"), "%s", out);
    /* a value edited by hand (the rate of job 1 doubled in its last digit)
     * is refused, not taken up */
    rc = ss_test_sh(out, sizeof out,
                    "cd %s && awk -F, 'NR == 3 { $3 = $3 \"1\" } { print }' OFS=, j.csv > e.csv && "
                    "mv e.csv j.csv && %s --resume -o d.csv",
                    dir, full);
    ck_assert_int_ne(rc, 0);
    ck_assert_msg(strstr(out, "j.csv:3: the row was changed after it was written"), "%s", out);
}
END_TEST

static void count_job(void *user, const ss_circuit_progress *p)
{
    ck_assert_int_eq(p->status, SS_OK);
    ck_assert_uint_le(p->done, p->total);
    (*(int *)user)++;
}

/* A campaign through the library: every (current, temperature, sample)
 * point is the point the circuit gives when simulated on its own, the CSV
 * lists them in job order, and a resume from the journal runs nothing. */
START_TEST(campaign_library)
{
    const char *dir = ss_test_tmpdir();
    char journal[1024];
    snprintf(journal, sizeof journal, "%s/j.csv", dir);
    const ss_circuit_info *ci = ss_circuit_find("dpi-neuron");
    ss_circuit_campaign_spec spec;
    ss_circuit_campaign_spec_init(&spec, ci);
    const double values[] = {73.85e-12, 1.385e-9}, temps[] = {27, 60};
    int jobs = 0;
    spec.values = values;
    spec.nvalues = 2;
    spec.temps = temps;
    spec.ntemps = 2;
    spec.mc = 1;
    spec.base.seed = 7;
    spec.jobs = 2;
    spec.journal = journal;
    ck_assert_int_eq(ss_circuit_measures_parse("rate,energy", ci->kind, &spec.measures, NULL),
                     SS_OK);
    spec.progress = count_job;
    spec.user = &jobs;
    ss_circuit_campaign *c;
    ss_error err;
    /* the workers open their own engines: none may be open in this process */
    close_engine();
    ck_assert_msg(ss_circuit_campaign_run(&spec, &c, &err) == SS_OK, "%s", err.msg);
    open_engine();
    ck_assert_int_eq(jobs, 8);
    ck_assert_uint_eq(ss_circuit_campaign_failed(c), 0);
    size_t varied, total;
    ss_circuit_campaign_devices(c, &varied, &total);
    ck_assert_uint_eq(varied, 25); /* every transistor of dpi_neuron.sub */
    ck_assert_uint_eq(total, 25);
    ck_assert_uint_eq(ss_circuit_campaign_nwarnings(c), 0);
    ck_assert(isnan(ss_circuit_campaign_rheobase(c, 0, 0)));
    static const size_t pick[][3] = {{0, 0, 0}, {1, 1, 0}, {0, 1, 1}};
    for (size_t k = 0; k < 3; k++) {
        size_t v = pick[k][0], t = pick[k][1], smp = pick[k][2];
        ss_circuit_config cfg = spec.base;
        cfg.temp = temps[t];
        cfg.sample = smp;
        ss_circuit_point direct, got;
        point(&cfg, values[v], &direct);
        ck_assert_int_eq(ss_circuit_campaign_point(c, v, t, smp, &got), SS_OK);
        ck_assert_msg(direct.rate > 0 && got.rate == direct.rate && got.energy == direct.energy,
                      "point %zu: campaign %.17g Hz, direct %.17g Hz", k, got.rate, direct.rate);
        ck_assert_uint_eq(got.nspikes, direct.nspikes);
        ck_assert_double_eq(got.input, values[v]);
    }
    /* mismatch moves the point; temperature does too */
    ss_circuit_point a, b, d;
    ck_assert_int_eq(ss_circuit_campaign_point(c, 1, 0, 0, &a), SS_OK);
    ck_assert_int_eq(ss_circuit_campaign_point(c, 1, 0, 1, &b), SS_OK);
    ck_assert_int_eq(ss_circuit_campaign_point(c, 1, 1, 0, &d), SS_OK);
    ck_assert(a.rate != b.rate && a.rate != d.rate);
    ck_assert_int_eq(ss_circuit_campaign_point(c, 2, 0, 0, &a), SS_EINVAL);
    ss_buf csv = SS_BUF_INIT;
    ck_assert_int_eq(ss_circuit_campaign_csv(c, &csv), SS_OK);
    ck_assert_msg(!strncmp(csv.data, "Iin,temp,sample,rate,energy,notes\n7.385e-11,27,0,", 49),
                  "%s", csv.data);
    size_t rows = 0;
    for (const char *q = csv.data; *q; q++)
        rows += *q == '\n';
    ck_assert_uint_eq(rows, 9);
    /* resumed: every job is in the journal */
    spec.resume = 1;
    jobs = 0;
    ss_circuit_campaign *r;
    ck_assert_msg(ss_circuit_campaign_run(&spec, &r, &err) == SS_OK, "%s", err.msg);
    ck_assert_int_eq(jobs, 0);
    ss_buf again = SS_BUF_INIT;
    ck_assert_int_eq(ss_circuit_campaign_csv(r, &again), SS_OK);
    ck_assert_str_eq(again.data, csv.data);
    ss_buf_release(&csv);
    ss_buf_release(&again);
    ss_circuit_campaign_free(c);
    ss_circuit_campaign_free(r);
    /* bad specs fail with their code also without an error struct */
    spec.nvalues = 0;
    ck_assert_int_eq(ss_circuit_campaign_run(&spec, &r, NULL), SS_EINVAL);
    ck_assert_ptr_null(r);
    spec.nvalues = 2;
    spec.bias = 9;
    ck_assert_int_eq(ss_circuit_campaign_run(&spec, &r, &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "has no bias 9"), "%s", err.msg);
    ck_assert_int_eq(ss_circuit_measures_parse("rate,speed", ci->kind, &spec.measures, &err),
                     SS_EINVAL);
    ck_assert_str_eq(err.msg, "unknown measure 'speed'");
}
END_TEST

/* ---- designers' own circuits (tests/designer/) ------------------------------- */

/* A fresh folder holding a copy of tests/designer/ (decks, cards, benches). */
static const char *designer_copy(void)
{
    static char src[4096 + 64];
    /* __FILE__ is relative to the checkout, which the fixture left */
    if (__FILE__[0] == '/')
        snprintf(src, sizeof src, "%s", __FILE__);
    else
        snprintf(src, sizeof src, "%s/%s", old_cwd, __FILE__);
    char *slash = strrchr(src, '/');
    snprintf(slash ? slash + 1 : src, sizeof src - (size_t)(slash ? slash + 1 - src : 0),
             "designer");
    const char *dir = ss_test_tmpdir();
    char out[2048];
    ck_assert_msg(ss_test_sh(out, sizeof out, "cp %s/* %s/", src, dir) == 0, "%s", out);
    return dir;
}

static ss_circuit_info *load_in(const char *dir, const char *file, const char *decl)
{
    char path[1024];
    ss_error err;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ss_circuit_info *ci = ss_circuit_load_declared(path, decl, &err);
    ck_assert_msg(ci != NULL, "%s", err.msg);
    return ci;
}

/* `name = value` printed by ngspice -b, NAN if absent. */
static double printed(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s = ", name);
    const char *p = strstr(out, key);
    return p ? strtod(p + strlen(key), NULL) : NAN;
}

/* The rate `ngspice -b` prints for the designer's own deck at one input. */
static double ngspice_rate(const char *dir, const char *deck, double input, double tstop)
{
    static char out[1 << 16];
    /* ngspice -b exits with 1 after a control block's run: its printout counts */
    ss_test_sh(out, sizeof out, "cd %s && ngspice -b -D iin=%.9g -D tstop=%.9g %s", dir, input,
               tstop, deck);
    double r = printed(out, "rate");
    ck_assert_msg(r > 0, "ngspice -b %s at %g A printed no rate:\n%s", deck, input, out);
    return r;
}

/* The designer's DPI neuron deck (flat, own cards, W={wu} sizes, voltage
 * biases, a sourced input, its own .control block) characterized as it
 * is: each f-I point within 1% of ngspice -b on the same deck. */
static void designer_dpi(const double *in, size_t n)
{
    const char *dir = designer_copy();
    ss_circuit_info *ci = load_in(dir, "dpi_neuron.cir", NULL);
    ck_assert(ci->deck);
    ck_assert_str_eq(ci->input, "Iin");
    ck_assert_double_eq_tol(ci->input_default, 100e-12, 1e-20);
    ck_assert_double_eq_tol(ci->vdd, 1.8, 1e-12);
    ck_assert_double_eq_tol(ci->tmax, 10e-6, 1e-15);
    ck_assert_uint_eq(ci->nbias, 5); /* Vtau Vth Vref Vca Vahp */
    ck_assert_int_eq(ci->bias[0].voltage, 1);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    for (size_t k = 0; k < n; k++) {
        ss_circuit_point pt;
        double r = point(&cfg, in[k], &pt);
        ck_assert_msg(r > 0 && pt.flags == 0, "%g A: %g Hz, flags %u", in[k], r, pt.flags);
        double ref = ngspice_rate(dir, "dpi_neuron.cir", in[k], 10.0 / r + 2e-3);
        fprintf(stderr, "designer DPI deck at %g A: smallsim %.5g Hz, ngspice -b %.5g Hz "
                        "(%+.3f%%)\n", in[k], r, ref, 100 * (r / ref - 1));
        ck_assert_msg(fabs(r / ref - 1) < 0.01, "%g A: %g Hz vs ngspice -b %g Hz", in[k], r, ref);
        /* energy per spike of the deck's supply: a DPI neuron's tens of pJ */
        ck_assert_msg(pt.energy > 1e-12 && pt.energy < 1e-10, "%g J", pt.energy);
        ck_assert_msg(pt.refractory > 0.1e-3 && pt.refractory < 0.4e-3, "%g s", pt.refractory);
    }
    ss_circuit_free(ci);
}

START_TEST(designer_dpi_deck)
{
    static const double in[] = {16e-12, 160e-12, 1.6e-9};
    designer_dpi(in, 3);
}
END_TEST

START_TEST(designer_dpi_deck_long)
{
    static const double in[] = {16e-12, 50e-12, 160e-12, 500e-12, 1.6e-9, 5e-9};
    designer_dpi(in, 6);
}
END_TEST

/* The designer's Axon-Hillock subcircuit with a voltage bias on its reset
 * gate (the library's Ir declared as 0.45V) and a bias pin of its own
 * (Vnb=nb:0.6V): within 1% of ngspice -b on the designer's own bench. */
START_TEST(designer_axon_hillock)
{
    const char *dir = designer_copy();
    ss_circuit_info *ci = load_in(dir, "axon_hillock.sub", NULL);
    ck_assert(!ci->deck);
    ck_assert_str_eq(ci->subckt, "ah_neuron");
    ck_assert_str_eq(ci->ports, "vdd 0 vmem vout vpw xb_nb");
    ck_assert_uint_eq(ci->nbias, 2);
    ck_assert_str_eq(ci->bias[0].name, "Ir");
    ck_assert_int_eq(ci->bias[0].voltage, 1);
    ck_assert_double_eq_tol(ci->bias[0].value, 0.45, 1e-12);
    ck_assert_str_eq(ci->bias[1].name, "Vnb");
    ck_assert_int_eq(ci->bias[1].voltage, 1);
    ck_assert_double_eq_tol(ci->bias[1].value, 0.6, 1e-12);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    static const double in[] = {300e-12, 3e-9};
    for (size_t k = 0; k < 2; k++) {
        ss_circuit_point pt;
        double r = point(&cfg, in[k], &pt);
        ck_assert_msg(r > 0, "%g A: no rate", in[k]);
        double ref = ngspice_rate(dir, "axon_hillock_tb.cir", in[k], 10.0 / r);
        fprintf(stderr, "designer Axon-Hillock at %g A: smallsim %.5g Hz, ngspice -b %.5g Hz "
                        "(%+.3f%%)\n", in[k], r, ref, 100 * (r / ref - 1));
        ck_assert_msg(fabs(r / ref - 1) < 0.01, "%g A: %g Hz vs ngspice -b %g Hz", in[k], r, ref);
    }
    /* the bias as a current (the old way) is another circuit */
    ss_error err;
    ck_assert_int_eq(ss_circuit_set_bias_text(&cfg, "Ir", "200nA", &err), SS_OK);
    ck_assert_int_eq(cfg.voltage[0], 0);
    ck_assert_double_eq_tol(cfg.bias[0], 200e-9, 1e-20);
    ck_assert_int_eq(ss_circuit_set_bias_text(&cfg, "Ir", "450mV", &err), SS_OK);
    ck_assert_int_eq(cfg.voltage[0], 1);
    ck_assert_double_eq_tol(cfg.bias[0], 0.45, 1e-12);
    /* without a unit: the kind the declaration gave it (a voltage here) */
    ck_assert_int_eq(ss_circuit_set_bias_text(&cfg, "Ir", "0.5", &err), SS_OK);
    ck_assert_int_eq(cfg.voltage[0], 1);
    /* the library's Ir is a current: 0.45 without a unit is refused */
    ss_circuit_config lib;
    config(&lib, "axon-hillock");
    ck_assert_int_eq(ss_circuit_set_bias_text(&lib, "Ir", "0.45", &err), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "for a voltage write 0.45V"), "%s", err.msg);
    ck_assert_int_eq(ss_circuit_set_bias_text(&lib, "Inope", "1p", &err), SS_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "(biases: Ir)"), "%s", err.msg);
    ss_circuit_free(ci);
}
END_TEST

/* Least-squares tau over the 80%..20% decay after the pulse, as the test's
 * own reading of ngspice's output file (time, Isyn). */
static void read_synapse(const char *path, double iw, double *gain, double *tau)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static double t[200000], y[200000];
    size_t n = 0;
    while (n < 200000 && fscanf(f, "%lf %lf", &t[n], &y[n]) == 2)
        n++;
    fclose(f);
    double iend = NAN, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (size_t k = 0; k < n; k++)
        if (t[k] <= 21e-3)
            iend = fabs(y[k]);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        if (t[k] > 21.05e-3 && fabs(y[k]) < 0.8 * iend && fabs(y[k]) > 0.2 * iend) {
            sx += t[k], sy += log(fabs(y[k])), sxx += t[k] * t[k], sxy += t[k] * log(fabs(y[k]));
            m++;
        }
    *gain = iend / iw;
    *tau = -1.0 / ((m * sxy - sx * sy) / (m * sxx - sx * sx));
}

/* The designer's DPI synapse deck: gain and tau within 1% of ngspice -b. */
START_TEST(designer_synapse)
{
    const char *dir = designer_copy();
    ss_circuit_info *ci = load_in(dir, "dpi_synapse.cir", NULL);
    ck_assert(ci->deck);
    ck_assert_str_eq(ci->pre, "Vpre");
    ck_assert_str_eq(ci->output, "Vsyn");
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    static const double in[] = {50e-12, 200e-12};
    for (size_t k = 0; k < 2; k++) {
        ss_circuit_point pt;
        point(&cfg, in[k], &pt);
        char out[8192], file[1024];
        ss_test_sh(out, sizeof out, "cd %s && rm -f isyn.txt && ngspice -b -D iw=%g "
                   "dpi_synapse.cir", dir, in[k]);
        double gain, tau;
        snprintf(file, sizeof file, "%s/isyn.txt", dir);
        read_synapse(file, in[k], &gain, &tau);
        /* and the deck's own .meas of Isyn at the end of the pulse */
        ck_assert_double_eq_tol(printed(out, "iend") / in[k], gain, 1e-6 * gain);
        fprintf(stderr, "designer synapse at %g A: gain %.5g vs %.5g, tau %.5g vs %.5g s\n", in[k],
                pt.gain, gain, pt.tau, tau);
        ck_assert_msg(pt.flags == 0 && fabs(pt.gain / gain - 1) < 0.01 &&
                          fabs(pt.tau / tau - 1) < 0.01,
                      "%g A: gain %g vs %g, tau %g vs %g (flags %u)", in[k], pt.gain, gain, pt.tau,
                      tau, pt.flags);
    }
    ss_circuit_free(ci);
}
END_TEST

/* Without its .ic the deck starts in a metastable state (every node still,
 * ngspice -b measures nothing); the bench notices, starts again from the
 * membrane at 0 V and gets the rate of the deck with its .ic. */
START_TEST(designer_metastable)
{
    const char *dir = designer_copy();
    char out[4096];
    ss_test_sh(out, sizeof out, "cd %s && grep -v '^\\.ic' dpi_neuron.cir > noic.cir && "
               "ngspice -b -D iin=1e-9 -D tstop=20m noic.cir", dir);
    ck_assert_msg(strstr(out, "out of interval"), "%s", out);
    ck_assert_msg(!isfinite(printed(out, "rate")), "the deck without .ic fired:\n%s", out);
    ss_circuit_info *with = load_in(dir, "dpi_neuron.cir", NULL);
    ss_circuit_info *without = load_in(dir, "noic.cir", NULL);
    ss_circuit_config a, b;
    ss_circuit_config_init(&a, with);
    ss_circuit_config_init(&b, without);
    ss_circuit_point pa, pb;
    double ra = point(&a, 1e-9, &pa), rb = point(&b, 1e-9, &pb);
    ck_assert_uint_eq(pa.flags, 0);
    ck_assert_uint_eq(pb.flags, SS_CIRCUIT_F_KICKED);
    ck_assert_msg(fabs(rb / ra - 1) < 1e-3, "kicked %g Hz vs with .ic %g Hz", rb, ra);
    ss_circuit_free(with);
    ss_circuit_free(without);
}
END_TEST

/* Mismatch on every transistor, sizes evaluated from .param and subcircuit
 * parameters, each instance of a subcircuit with its own shift. */
START_TEST(designer_mismatch)
{
    const char *dir = designer_copy();
    ss_circuit_info *ci = load_in(dir, "dpi_neuron.cir", NULL);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    cfg.avt = 4;
    cfg.sample = 1;
    ss_circuit_device *dev;
    size_t n;
    ss_error err;
    ck_assert_msg(ss_circuit_mismatch(&cfg, &dev, &n, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(n, 25);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(dev[i].varied && dev[i].dvt != 0, "%s: %s", dev[i].name, dev[i].why);
    /* Mdin: w={4*wu} l={lu} = 4u x 1u; Mfb: w={wu/2}; Mi1: l={2*lu} */
    ck_assert_str_eq(dev[2].name, "mdin");
    ck_assert_double_eq_tol(dev[2].w, 4e-6, 1e-18);
    ck_assert_double_eq_tol(dev[2].l, 1e-6, 1e-18);
    ck_assert_double_eq_tol(dev[2].sigma, 4e-3 / sqrt(4.0), 1e-15);
    ck_assert_str_eq(dev[9].name, "mfb");
    ck_assert_double_eq_tol(dev[9].w, 0.5e-6, 1e-18);
    ck_assert_double_eq_tol(dev[0].l, 2e-6, 1e-18);
    ck_assert_msg(strstr(dev[2].where, "dpi_neuron.cir:31"), "%s", dev[2].where);
    free(dev);
    ss_circuit_free(ci);
    /* a subcircuit used twice with other sizes, nested, one size unknown */
    const char *deck =
        "* two inverters\n"
        "* smallsim: like=dpi-neuron input=Iin spike=b supply=Vdd\n"
        ".lib cards18.lib tt\n"
        ".param wn=1u\n"
        ".subckt inv in out vdd params: w=1u\n"
        "Mn out in 0 0 n18 w={w} l=1u\n"
        "Mp out in vdd vdd p18 w={2*w} l=1u m=2\n"
        ".ends\n"
        ".subckt buf in out vdd params: w=1u\n"
        "X1 in mid vdd inv w={w}\n"
        "X2 mid out vdd inv w={3*w}\n"
        ".ends\n"
        "Vdd vdd 0 1.8\n"
        "Iin 0 a DC 1n\n"
        "R1 a 0 1meg\n"
        "Xa a b vdd buf w={wn}\n"
        "Xb b c vdd inv w=2u\n"
        "Mq c b 0 0 n18 w={nowhere} l=1u\n"
        ".tran 1u 10u\n.end\n";
    ss_test_write(dir, "bufs.cir", deck);
    ci = load_in(dir, "bufs.cir", NULL);
    ss_circuit_config_init(&cfg, ci);
    cfg.avt = 4;
    cfg.sample = 2;
    ck_assert_msg(ss_circuit_mismatch(&cfg, &dev, &n, &err) == SS_OK, "%s", err.msg);
    ck_assert_uint_eq(n, 7);
    static const char *const names[] = {"xa.x1.mn", "xa.x1.mp", "xa.x2.mn", "xa.x2.mp",
                                        "xb.mn",    "xb.mp",    "mq"};
    static const double w[] = {1e-6, 2e-6, 3e-6, 6e-6, 2e-6, 4e-6, NAN};
    for (size_t i = 0; i < n; i++) {
        ck_assert_str_eq(dev[i].name, names[i]);
        if (i < 6) {
            ck_assert_double_eq_tol(dev[i].w, w[i], 1e-18);
            ck_assert_double_eq(dev[i].m, (i % 2 ? 2.0 : 1.0));
        }
    }
    ck_assert(!dev[6].varied);
    ck_assert_msg(strstr(dev[6].why, "nowhere"), "%s", dev[6].why);
    /* each instance gets its own shifts, passed as parameters (the same
     * deck without Mq, the last device: the same draws before it) */
    ss_circuit_free(ci);
    char *two = replace_word(deck, "Mq c b 0 0 n18 w={nowhere} l=1u", "");
    ss_test_write(dir, "bufs2.cir", two);
    free(two);
    ci = load_in(dir, "bufs2.cir", NULL);
    cfg.info = ci;
    ss_buf b = SS_BUF_INIT;
    ck_assert_msg(ss_circuit_bench(&cfg, 1e-9, 1e-5, 1e-7, &b, &err) == SS_OK, "%s", err.msg);
    char want[128];
    snprintf(want, sizeof want, "Xa a b vdd buf w={wn} ssmm1=%.9g", dev[0].dvt);
    ck_assert_msg(strstr(b.data, want), "no '%s' in\n%s", want, b.data);
    ck_assert_ptr_nonnull(strstr(b.data, "X2 mid out vdd inv w={3*w} ssmm1={ssmm3} ssmm2={ssmm4}"));
    ss_buf_release(&b);
    /* ngspice takes the bench: the shifted circuit runs */
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    b = (ss_buf)SS_BUF_INIT;
    ck_assert_int_eq(ss_circuit_bench(&cfg, 1e-9, 1e-5, 1e-7, &b, &err), SS_OK);
    ck_assert_msg(ss_engine_run_text(eng, b.data, "bufs bench", 0, &res, &err) == SS_OK, "%s",
                  err.msg);
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_buf_release(&b);
    free(dev);
    ss_circuit_free(ci);
}
END_TEST

/* Errors about a designer's circuit name the designer's file and line, also
 * when ngspice finds them in the generated bench; a failed job has no CSV
 * row. */
START_TEST(designer_errors)
{
    const char *dir = designer_copy();
    static char out[16384];
    ss_error err;
    char path[1024];
    /* an unknown model: before any run, at the device's line */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && sed 's/^Mtau mem vtau 0 0 n18/Mtau mem "
                                "vtau 0 0 nch_x/' dpi_neuron.cir > badmodel.cir", dir), 0);
    int rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize badmodel.cir --sweep list:1n "
                        "> rows.csv) 2>&1; echo rc=$?; cat rows.csv", dir, ss_test_program());
    ck_assert_msg(strstr(out, "badmodel.cir:35:") && strstr(out, "nch_x") &&
                      strstr(out, "rc=1") && !strstr(out, "nan") && !strstr(out, "bench"),
                  "%s", out);
    (void)rc;
    /* an error only ngspice finds, in a generated bench: the deck's line */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && sed 's/^Cm   mem 0 {cm}/Cm mem 0 "
                                "{cm*undefined_p}/' dpi_neuron.cir > badparam.cir", dir), 0);
    ss_circuit_info *ci = load_in(dir, "badparam.cir", NULL);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    ss_circuit_point pt;
    ck_assert_int_ne(ss_circuit_run_point(eng, &cfg, 1e-9, &pt, &err), SS_OK);
    ck_assert_msg(strstr(err.msg, "badparam.cir:36:"), "%s", err.msg);
    ss_circuit_free(ci);
    /* a failed job: its row is left out, the failure says why */
    rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize badparam.cir --sweep list:1n,2n "
                    "--measure rate > rows.csv) 2>&1; echo rc=$?; cat rows.csv", dir,
                    ss_test_program());
    ck_assert_msg(strstr(out, "failed: ") && strstr(out, "badparam.cir:36:") &&
                      strstr(out, "rc=1") && strstr(out, "Iin,temp,sample,rate,notes\n") &&
                      !strstr(out, "nan") && !strstr(out, "1e-09,27"),
                  "%s", out);
    /* declarations */
    static const struct {
        const char *text, *want;
    } bad[] = {
        {"* d\n* smallsim: like=dpi-neuron spike=b supply=V1\nV1 a 0 1\nI1 a b 1n\n",
         "bad.cir:2: a deck needs input=NAME"},
        {"* d\n* smallsim: like=dpi-neuron input=V1 spike=b supply=V1\nV1 a 0 1\nI1 a b 1n\n",
         "input=V1: the deck has no current source 'V1'"},
        {"* d\n* smallsim: like=dpi-neuron input=I1 spike=zz supply=V1\nV1 a 0 1\nI1 a b 1n\n",
         "bad.cir:2: spike=zz: no element of the deck has a node 'zz'"},
        {"* d\n* smallsim: like=dpi-neuron input=I1 spike=b supply=V2\nV1 a 0 1\nI1 a b 1n\n",
         "supply=V2: the deck has no voltage source 'V2'"},
        {"* d\n* smallsim: like=dpi-neuron input=I1 spike=b supply=V1\nV1 a 0 pwl(0 0 1 1)\n"
         "I1 a b 1n\n",
         "bad.cir:3: supply V1 needs a positive DC value"},
        {"* d\n* smallsim: like=dpi-neuron input=I1 spike=b supply=V1 speed=3\nV1 a 0 1\n"
         "I1 a b 1n\n",
         "bad.cir:2: unknown key 'speed'"},
        {"* smallsim: like=axon-hillock Ir=0.45\n.subckt ah vdd vss vmem vout vpw\n.ends\n",
         "bad.cir:1: Ir=0.45 is 0.45 A, not a bias current: for a voltage write 0.45V"},
        {"* smallsim: like=axon-hillock Vx=vpw:0.3V\n.subckt ah vdd vss vmem vout vpw\n.ends\n",
         "bad.cir:1: bias Vx=vpw:0.3V: subckt 'ah' has a role on its pin 'vpw'"},
        {"* smallsim: like=axon-hillock Vx=nb:0.3\n.subckt ah vdd vss vmem vout vpw nb\n.ends\n",
         "Vx=nb:0.3: 0.3 A is not a bias current"},
        {"* smallsim: like=axon-hillock Vx=nb:0.3V:q\n.subckt ah vdd vss vmem vout vpw nb\n.ends\n",
         "the diode type after the value is :n or :p"},
        {"* smallsim: like=axon-hillock stimulus=up\n.subckt ah vdd vss vmem vout vpw\n.ends\n",
         "stimulus=up: a neuron's input current is 'source'"},
        {"* smallsim: like=axon-hillock reset=nowhere\n.subckt ah vdd vss vmem vout vpw\n.ends\n",
         "reset=nowhere: subckt 'ah' has no node 'nowhere'"},
        {"* smallsim: like=axon-hillock\n.subckt ah vdd vss vmem vout vpw\n.ends\nX1 a b c d e ah\n",
         "bad.cir:1: a deck needs input=NAME"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        snprintf(path, sizeof path, "%s", ss_test_write(dir, "bad.cir", bad[k].text));
        ck_assert_ptr_null(ss_circuit_load(path, &err));
        ck_assert_msg(strstr(err.msg, bad[k].want), "case %zu: '%s' not in '%s'", k, bad[k].want,
                      err.msg);
    }
    /* --declare gives the keys to a file without a declaration line */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && grep -v '^\\* smallsim:' "
                                "dpi_synapse.cir > plain.cir", dir), 0);
    snprintf(path, sizeof path, "%s/plain.cir", dir);
    ck_assert_ptr_null(ss_circuit_load(path, &err));
    ck_assert_msg(strstr(err.msg, "plain.cir:1: no port declaration"), "%s", err.msg);
    ci = ss_circuit_load_declared(path, "like=dpi-synapse input=Iw pre=Vpre output=Vsyn "
                                  "supply=VDD", &err);
    ck_assert_msg(ci && ci->deck, "%s", err.msg);
    ss_circuit_free(ci);
    ck_assert_ptr_null(ss_circuit_load_declared(path, "like=dpi-synapse input", &err));
    ck_assert_msg(strstr(err.msg, "--declare: 'input' in the declaration is not KEY=VALUE"),
                  "%s", err.msg);
    /* a deck's temperature is the default */
    snprintf(path, sizeof path, "%s", ss_test_write(dir, "warm.cir",
             "* d\n* smallsim: like=dpi-neuron input=I1 spike=b supply=V1\n.temp 50\nV1 a 0 1\n"
             "I1 a b 1n\nR1 b 0 1k\n"));
    ci = ss_circuit_load(path, &err);
    ck_assert_msg(ci, "%s", err.msg);
    ss_circuit_config_init(&cfg, ci);
    ck_assert_double_eq(cfg.temp, 50);
    ss_circuit_free(ci);
}
END_TEST

/* Cross-point warnings, from a journal whose rows are edited to show them
 * (a zero rate above a firing input, a spike node that never rises, a
 * rheobase at the floor, firing without input): no simulation needed to
 * check what the campaign makes of them.  The edited rows' check column is
 * emptied, so the edit is taken as written, with a warning. */
START_TEST(silent_nonsense_warnings)
{
    const char *dir = ss_test_tmpdir();
    static char out[16384];
    const char *cmd = "%s characterize dpi-neuron --sweep list:1n,2n --measure rate,rheobase "
                      "--rheobase-range 20p:1n --results j.csv";
    char full[1024];
    snprintf(full, sizeof full, cmd, ss_test_program());
    /* one real run makes the journal (and its settings id) */
    int rc = ss_test_sh(out, sizeof out, "cd %s && (%s -q > a.csv)", dir, full);
    ck_assert_msg(rc == 0, "%s", out);
    /* the floor 1n fires: rheobase nan, a warning, and a run at zero input */
    rc = ss_test_sh(out, sizeof out, "cd %s && cat a.csv", dir);
    ck_assert_msg(strstr(out, "rheobase-floor") && strstr(out, ",nan,"), "%s", out);
    /* edit: the 2 nA point silent, then both silent with the spike node low */
    rc = ss_test_sh(out, sizeof out,
                    "cd %s && awk -F, 'BEGIN{OFS=\",\"} $1==1{$3=0;$13=0;$14=2;$15=0;$16=0.1;$NF=\"\"} "
                    "{print}' j.csv > k.csv && mv k.csv j.csv && (%s --resume -q > b.csv) 2>&1; "
                    "cat b.csv",
                    dir, full);
    ck_assert_msg(rc == 0 && strstr(out, "1 row with an empty check column (edited by hand) taken") &&
                      strstr(out, "no spike at Iin = 2e-09 A, 27 C although the circuit "
                                         "fires at 1e-09 A") &&
                      strstr(out, "2e-09,27,0,nan,nan,spike-low;rheobase-floor;silent-above-firing"),
                  "%s", out);
    rc = ss_test_sh(out, sizeof out,
                    "cd %s && awk -F, 'BEGIN{OFS=\",\"} $1<=1{$3=0;$13=0;$14=2;$15=0;$16=0.1;$NF=\"\"} "
                    "$1==2{$3=\"nan\";$4=0;$14=320;$NF=\"\"} {print}' j.csv > k.csv && mv k.csv j.csv && "
                    "(%s --resume -q > c.csv) 2>&1; cat c.csv",
                    dir, full);
    ck_assert_msg(rc == 0 && strstr(out, "no spike at any input") &&
                      strstr(out, "stayed between 0 and 0.1 V") &&
                      strstr(out, "1e-09,27,0,nan,nan,spike-low;rheobase-floor;fires-at-zero;"
                                  "never-fires") &&
                      strstr(out, "fires with no input at all (0 Hz"),
                  "%s", out);
}
END_TEST

/* Real circuits that should warn: a synapse whose output carries nothing
 * (gain and tau failed, not 0), a leak so slow that tau cannot be read, a
 * neuron that fires without input (rheobase), a degenerate fit. */
START_TEST(silent_nonsense_circuits)
{
    const char *dir = designer_copy();
    static char out[16384];
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && sed 's/^Vsyn vdd isyn DC 0/Vsyn vdd "
                                "isyn DC 0\\nVnone nn 0 DC 0\\nRnone nn 0 1meg/' dpi_synapse.cir > "
                                "syn2.cir", dir), 0);
    int rc = ss_test_sh(out, sizeof out, "cd %s && %s characterize syn2.cir --declare "
                        "output=Vnone --sweep list:100p -q", dir, ss_test_program());
    ck_assert_msg(rc == 0 && strstr(out, "1e-10,27,0,nan,nan,tau-failed;gain-failed") &&
                      strstr(out, "no synaptic current"),
                  "%s", out);
    rc = ss_test_sh(out, sizeof out, "cd %s && %s characterize dpi_synapse.cir --bias Vtau=0V "
                    "--sweep list:100p -q", dir, ss_test_program());
    ck_assert_msg(rc == 0 && strstr(out, ",nan,") && strstr(out, "tau-failed") &&
                      strstr(out, "did not decay"),
                  "%s", out);
    /* a constant current into the membrane: it fires without input */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && sed 's/^Cm   mem 0 {cm}/Cm mem 0 {cm}"
                                "\\nIleak 0 mem DC 60p/' dpi_neuron.cir > leaky.cir", dir), 0);
    ss_circuit_info *ci = load_in(dir, "leaky.cir", NULL);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ci);
    ss_circuit_rheo rh;
    ss_error err;
    ck_assert_msg(ss_circuit_rheobase(eng, &cfg, 1e-12, 1e-9, 0.05, &rh, &err) == SS_OK, "%s",
                  err.msg);
    ck_assert(isnan(rh.rheobase));
    ck_assert_uint_eq(rh.flags, SS_CIRCUIT_F_RHEO_FLOOR | SS_CIRCUIT_F_FIRES_AT_ZERO);
    ck_assert_msg(rh.rate_zero > 10, "%g Hz at zero input", rh.rate_zero);
    ss_circuit_free(ci);
}
END_TEST

/* The input mirror as an option: its measured transfer, and the rate moves
 * with it (the Axon-Hillock's rate is proportional to its input). */
START_TEST(input_mirror)
{
    ss_circuit_config cfg;
    config(&cfg, "axon-hillock");
    ss_circuit_point ideal, mir;
    double r0 = point(&cfg, 1e-9, &ideal);
    ck_assert(isnan(ideal.transfer));
    cfg.input_mirror = 1;
    double r1 = point(&cfg, 1e-9, &mir);
    fprintf(stderr, "axon-hillock at 1 nA: ideal %.5g Hz, mirror %.5g Hz, transfer %.5g\n", r0, r1,
            mir.transfer);
    ck_assert_msg(mir.transfer > 0.5 && mir.transfer < 2, "transfer %g", mir.transfer);
    ck_assert_msg(fabs((r1 / r0) / mir.transfer - 1) < 0.02, "rate ratio %g, transfer %g",
                  r1 / r0, mir.transfer);
    ck_assert_int_eq(!!(mir.flags & SS_CIRCUIT_F_TRANSFER), fabs(mir.transfer - 1) > 0.01);
}
END_TEST

/* characterize's progress lines (off a terminal), -q, and --timeout. */
START_TEST(characterize_progress)
{
    const char *dir = ss_test_tmpdir();
    static char out[8192];
    int rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize dpi-synapse --sweep "
                        "list:50p,100p > a.csv)", dir, ss_test_program());
    /* off a terminal: the first job at once, then at most every 10 s, the last always */
    ck_assert_msg(rc == 0 && strstr(out, "characterize 1/2 jobs, 0 failed, ") &&
                      strstr(out, "characterize 2/2 jobs, 0 failed, ") && strstr(out, "Iw = ") &&
                      strstr(out, "gain "),
                  "%s", out);
    rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize dpi-synapse --sweep list:50p -q "
                    "> a.csv)", dir, ss_test_program());
    ck_assert_msg(rc == 0 && !out[0], "%s", out);
    /* with --mc the count of transistors varied, also with -q */
    rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize dpi-synapse --sweep list:50p --mc 1 "
                    "-q > a.csv)", dir, ss_test_program());
    ck_assert_msg(rc == 0 && strstr(out, "mismatch: 8 of 8 transistors varied (AVT 4 mV um, 1 "
                                         "sample after the nominal one)"), "%s", out);
    rc = ss_test_sh(out, sizeof out, "cd %s && (%s characterize dpi-neuron --sweep list:1n "
                    "--timeout 0.05 -q > a.csv) 2>&1; echo rc=$?; cat a.csv", dir,
                    ss_test_program());
    ck_assert_msg(strstr(out, "failed: ") && strstr(out, "rc=1") &&
                      strstr(out, "Iin,temp,sample,rate,isi_first") && !strstr(out, "1e-09,"),
                  "%s", out);
}
END_TEST

Suite *circuits_suite(void)
{
    Suite *s = suite_create("circuits");
    TCase *tc = tcase_create("Core");
    tcase_add_checked_fixture(tc, open_engine, close_engine);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, library_texts);
    tcase_add_test(tc, subthreshold_extraction);
    tcase_add_test(tc, fi_monotonic);
    tcase_add_test(tc, axon_hillock_analytic);
    tcase_add_test(tc, dpi_analytic);
    tcase_add_test(tc, dpi_adaptation);
    tcase_add_test(tc, synapse_tau_gain);
    tcase_add_test(tc, mc_reproducible);
    tcase_add_test(tc, compact_models);
    tcase_add_test(tc, extracted_in_network);
    tcase_add_test(tc, user_circuit);
    tcase_add_test(tc, characterize_resume);
    tcase_add_test(tc, campaign_library);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("designer");
    tcase_add_checked_fixture(td, open_engine, close_engine);
    tcase_set_timeout(td, 300);
    tcase_add_test(td, designer_dpi_deck);
    tcase_add_test(td, designer_axon_hillock);
    tcase_add_test(td, designer_synapse);
    tcase_add_test(td, designer_metastable);
    tcase_add_test(td, designer_mismatch);
    tcase_add_test(td, designer_errors);
    tcase_add_test(td, silent_nonsense_warnings);
    tcase_add_test(td, silent_nonsense_circuits);
    tcase_add_test(td, input_mirror);
    tcase_add_test(td, characterize_progress);
    if (ss_test_long())
        tcase_add_test(td, designer_dpi_deck_long);
    suite_add_tcase(s, td);
    return s;
}
