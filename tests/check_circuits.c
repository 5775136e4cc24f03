/* check_circuits.c: the neuron circuit library against first-order analytic
 * estimates, energy ranges, Monte Carlo reproducibility and the compact
 * model fit. */
#include <check.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/ss_circuits.h"
#include "cosim/experiment/ss_experiment.h"
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
    double rh_a = (itau + g * ith) * (itau + g * ith) / (4 * g * ith), rh;
    ck_assert_msg(ss_circuit_rheobase(eng, &cfg, 3e-12, 30e-12, 0.03, &rh, &err) == SS_OK, "%s",
                  err.msg);
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
    double a[SS_CIRCUIT_MAX_DEV], b[SS_CIRCUIT_MAX_DEV];
    size_t na, nb;
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, a, NULL, &na, &err), SS_OK);
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, b, NULL, &nb, &err), SS_OK);
    ck_assert_uint_eq(na, nb);
    ck_assert_uint_gt(na, 20);
    for (size_t i = 0; i < na; i++)
        ck_assert_double_eq(a[i], b[i]);
    ss_circuit_point p1, p2, p3;
    double r1 = point(&cfg, 1e-9, &p1), r2 = point(&cfg, 1e-9, &p2);
    ck_assert_double_eq_tol(r1, r2, 1e-9 * r1);
    cfg.sample = 4;
    double r3 = point(&cfg, 1e-9, &p3);
    ck_assert_msg(fabs(r3 - r1) > 1e-6 * r1, "samples 3 and 4 gave the same rate %g", r1);
    /* sample 0 is the nominal circuit: no shifts, the same bench */
    cfg.sample = 0;
    ck_assert_int_eq(ss_circuit_mismatch(&cfg, a, NULL, &na, &err), SS_OK);
    for (size_t i = 0; i < na; i++)
        ck_assert_double_eq(a[i], 0.0);
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

static void count_job(void *user, uint64_t job, int status, const char *msg)
{
    (void)job, (void)msg;
    ck_assert_int_eq(status, SS_OK);
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
    ck_assert_msg(!strncmp(csv.data, "Iin,temp,sample,rate,energy\n7.385e-11,27,0,", 43), "%s",
                  csv.data);
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
    return s;
}
