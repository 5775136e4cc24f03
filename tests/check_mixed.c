/* check_mixed.c: transistor-level DPI neurons and a memristive crossbar,
 * co-simulated (neurons in ngspice, crossbar in C) against the same network
 * simulated entirely in ngspice. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/ss_circuits.h"
#include "tests/ss_test.h"

/* Input spike trains: Poisson at 60 .. 720 Hz after a 0.25 ms dead time
 * (the read pulses must not overlap), from a fixed LCG. */
static void trains(size_t n, double tstop, double (*tt)[2048], size_t *cnt)
{
    unsigned long long st = 12345;
    for (size_t i = 0; i < n; i++) {
        double rate = 60 * pow(12.0, (double)i / (double)(n - 1)), t = 0;
        for (cnt[i] = 0; cnt[i] < 2048;) {
            st = st * 6364136223846793005ULL + 1442695040888963407ULL;
            t += 0.25e-3 - log(((double)(st >> 11) + 0.5) / 9007199254740992.0) / rate;
            if (t >= tstop)
                break;
            tt[i][cnt[i]++] = t;
        }
    }
}

/* n inputs (DPI neurons, or spike trains with `spike_trains`), n outputs. */
static void compare(size_t n, double tstop, int spike_trains)
{
    ss_error err;
    ss_engine *eng;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    ck_assert_int_eq(ss_device_set_list(&d, "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 "
                                            "k_off=9e-5 alpha_on=3 alpha_off=3 w_off=3n", &err), SS_OK);
    double iin[8], x0[64];
    for (size_t i = 0; i < n; i++)
        iin[i] = 20e-12 * pow(15.0, (double)i / (double)(n - 1)); /* 20 .. 300 pA */
    for (size_t k = 0; k < n * n; k++)
        x0[k] = 0.1 + 0.8 * (double)((k * 37) % 64) / 64.0;
    ss_circuit_mixed s = {.n_in = n, .n_out = n, .i_in = iin, .cell = &d, .x0 = x0,
                          .xb = {n, n, 2, 0, 10}, .v_read = 0.15, .gain = 1e-3, .tstop = tstop,
                          .tmax = 20e-6, .reltol = 1e-5};
    static double tt[8][2048];
    size_t cnt[8];
    const double *tp[8];
    if (spike_trains) {
        trains(n, tstop, tt, cnt);
        for (size_t i = 0; i < n; i++)
            tp[i] = tt[i];
        s.i_in = NULL;
        s.in_times = tp;
        s.in_count = cnt;
        s.t_pulse = 0.2e-3;
        s.t_edge = 2e-6;
    }
    ss_circuit_mixed_result full, co;
    ck_assert_msg(ss_circuit_mixed_run(eng, &cfg, &s, 1, &full, &err) == SS_OK, "%s", err.msg);
    ck_assert_msg(ss_circuit_mixed_run(eng, &cfg, &s, 0, &co, &err) == SS_OK, "%s", err.msg);
    /* per neuron: the same spikes, each within 1% of the neuron's ISI */
    size_t outputs = 0;
    for (size_t k = 0; k < 2 * n; k++) {
        double a[256], b[256];
        size_t na = 0, nb = 0;
        for (size_t q = 0; q < full.n; q++)
            if (full.neuron[q] == k && na < 256)
                a[na++] = full.t[q];
        for (size_t q = 0; q < co.n; q++)
            if (co.neuron[q] == k && nb < 256)
                b[nb++] = co.t[q];
        ck_assert_msg(na == nb, "neuron %zu: %zu spikes in full SPICE, %zu co-simulated", k, na, nb);
        outputs += k >= n ? na : 0;
        double isi = na >= 2 ? (a[na - 1] - a[0]) / (double)(na - 1) : (na ? a[0] : 1);
        for (size_t q = 0; q < na; q++)
            ck_assert_msg(fabs(a[q] - b[q]) < 0.01 * isi,
                          "neuron %zu spike %zu: %.6f s vs %.6f s (ISI %.4f s)", k, q, a[q], b[q], isi);
    }
    ck_assert_uint_ge(outputs, n); /* every output neuron fired */
    if (spike_trains)              /* only the output neurons are simulated */
        for (size_t q = 0; q < full.n; q++)
            ck_assert_uint_ge(full.neuron[q], n);
    ss_circuit_mixed_result_release(&full);
    ss_circuit_mixed_result_release(&co);
    ss_engine_free(eng);
}

START_TEST(cosim_matches_full_spice)
{
    if (ss_test_long())
        compare(8, 25e-3, 0); /* 50 ms reaches 1.06% of the ISI on one neuron: see docs/network.md */
    else
        compare(4, 16e-3, 0);
}
END_TEST

/* The configuration: 8 transistor-level DPI neurons driven through
 * an 8 x 8 crossbar by input spike trains (read pulses on the word lines) */
START_TEST(spike_trains_through_crossbar)
{
    if (ss_test_long())
        compare(8, 50e-3, 1);
    else
        compare(4, 16e-3, 1);
}
END_TEST

START_TEST(bad_spec)
{
    ss_error err;
    ss_engine *eng;
    ck_assert_int_eq(ss_engine_open(&eng, &err), SS_OK);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("axon-hillock"));
    ss_circuit_mixed s = {0};
    ss_circuit_mixed_result r;
    ck_assert_int_eq(ss_circuit_mixed_run(eng, &cfg, &s, 0, &r, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "dpi-neuron"));
    /* spike trains whose read pulses overlap are refused */
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    const double t0[3] = {1e-3, 1.1e-3, 2e-3}, *tp[1] = {t0};
    size_t cnt[1] = {3};
    ss_circuit_mixed s2 = {1, 1, NULL, &d, NULL, {1, 1, 2, 0, 10}, 0.15, 1e-3, 5e-3, 20e-6, 1e-5,
                           tp, cnt, 0.2e-3, 2e-6};
    ck_assert_int_eq(ss_circuit_mixed_run(eng, &cfg, &s2, 0, &r, &err), SS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "spike 1"));
    s2.t_edge = 0;
    ck_assert_int_eq(ss_circuit_mixed_run(eng, &cfg, &s2, 1, &r, &err), SS_EINVAL);
    ss_engine_free(eng);
}
END_TEST

/* A network with a SPICE tile: a regular spike source drives two
 * transistor-level DPI neurons through synapses; the tile's spikes drive a
 * behavioural LIF.  Reference: the same two neurons in plain ngspice with
 * the synaptic currents written out as B-sources (exponentials starting at
 * the arrival times, with breakpoints there). */
START_TEST(spice_tile_in_network)
{
    ss_error err;
    ss_engine *eng;
    ck_assert_msg(ss_engine_open(&eng, &err) == SS_OK, "%s", err.msg);
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    ss_buf body = SS_BUF_INIT;
    char **spikes;
    ck_assert_msg(ss_circuit_tile(&cfg, 2, &body, &spikes, &err) == SS_OK, "%s", err.msg);
    const double rate = 50, phase = 2e-3, delay = 1e-3, h = 1e-4, tau = 5e-3, tstop = 60e-3;
    const double bias[2] = {30e-12, 15e-12}, w[2] = {2e-9, 1e-9};
    ss_network *net = ss_network_alloc(&err);
    size_t src, tile, out;
    ck_assert_int_eq(ss_network_add_regular(net, "in", 1, rate, phase, 0, &src, &err), SS_OK);
    ck_assert_msg(ss_network_add_spice(net, "dpi", 2, body.data, (const char *const *)spikes, 0.9, tau,
                                       20e-6, &tile, &err) == SS_OK, "%s", err.msg);
    ck_assert_int_eq(ss_network_set_bias(net, tile, bias, &err), SS_OK);
    ss_lif_params lp = SS_LIF_DEFAULTS;
    ck_assert_int_eq(ss_network_add_lif(net, "out", 1, &lp, &out, &err), SS_OK);
    size_t pre[2] = {0, 0}, post[2] = {0, 1}, zero[2] = {0, 0};
    double d[2] = {delay, delay}, big[2] = {1e-9, 1e-9};
    ck_assert_int_eq(ss_network_connect(net, src, tile, 2, pre, post, w, d, &err), SS_OK);
    ck_assert_int_eq(ss_network_connect(net, tile, out, 2, post, zero, big, d, &err), SS_OK);
    ss_network_options o = SS_NETWORK_OPTIONS_DEFAULT;
    o.dt = h;
    o.engine = eng;
    ck_assert_msg(ss_network_run(net, tstop, &o, &err) == SS_OK, "%s", err.msg);
    double tile_t[2][64];
    size_t tile_n[2] = {0, 0};
    for (size_t k = 0; k < ss_network_nspikes(net); k++) {
        double t;
        size_t p, i;
        ss_network_spike(net, k, &t, &p, &i);
        if (p == tile && tile_n[i] < 64)
            tile_t[i][tile_n[i]++] = t;
    }
    ck_assert_uint_gt(tile_n[0], 1);
    ck_assert_uint_gt(ss_network_pop_spikes(net, out), 0); /* tile spikes reached the LIF */
    double bracket = ss_network_tile_bracket(net);
    ck_assert_double_gt(bracket, 0);
    ck_assert_double_le(bracket, 20e-6 * (1 + 1e-9)); /* never wider than tmax */
    /* the reference: arrivals at the first exchange point at or after t + delay */
    ss_buf ref = SS_BUF_INIT;
    ck_assert_int_eq(ss_buf_printf(&ref, "* reference\n"), SS_OK);
    const char *b = body.data;
    for (size_t k = 0; k < 2; k++) {
        char line[64];
        snprintf(line, sizeof line, "iext%zu vddb vin_%zu external\n", k, k);
        const char *at = strstr(b, line);
        ck_assert_ptr_nonnull(at);
        ck_assert_int_eq(ss_buf_add(&ref, b, (size_t)(at - b)), SS_OK);
        ck_assert_int_eq(ss_buf_printf(&ref, "biext%zu vddb vin_%zu I = %.17g*min(1, time/1e-6)", k, k,
                                       bias[k]), SS_OK);
        for (double ts = phase; ts < tstop; ts += 1 / rate) {
            double ta = ceil((ts + delay) / h - 1e-9) * h;
            ck_assert_int_eq(ss_buf_printf(&ref, " + (time >= %.17g ? %.17g*exp(-(time - %.17g)/%.17g) : 0)",
                                           ta, w[k], ta, tau), SS_OK);
        }
        ck_assert_int_eq(ss_buf_add(&ref, "\n", 1), SS_OK);
        b = at + strlen(line);
    }
    ck_assert_int_eq(ss_buf_printf(&ref, "%s.save v(x0.vrst) v(x1.vrst)\n.tran 2e-05 %.17g 0 2e-05\n.end\n", b,
                                   tstop), SS_OK);
    /* the tile lands on every exchange point; so does the reference */
    for (long k = 1; k * h < tstop; k++)
        ck_assert_int_eq(ss_engine_breakpoint(eng, (double)k * h), SS_OK);
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_netlist_read_string(&nl, ref.data, "ref.cir", NULL, 0, &err) == SS_OK &&
                      ss_engine_load(eng, &nl, &err) == SS_OK && ss_engine_run(eng, &res, &err) == SS_OK,
                  "%s", err.msg);
    const ss_vector *tv = ss_result_find(&res, "time");
    for (size_t k = 0; k < 2; k++) {
        char name[32];
        snprintf(name, sizeof name, "v(x%zu.vrst)", k);
        const ss_vector *vv = ss_result_find(&res, name);
        ck_assert_ptr_nonnull(vv);
        double rt[64];
        size_t m = ss_circuit_spike_times(tv->re, vv->re, tv->n, 0.9, rt, 64);
        ck_assert_msg(m == tile_n[k], "tile neuron %zu: %zu spikes, reference %zu", k, tile_n[k], m);
        double isi = m >= 2 ? (rt[m - 1] - rt[0]) / (double)(m - 1) : 1;
        for (size_t q = 0; q < m; q++)
            ck_assert_msg(fabs(rt[q] - tile_t[k][q]) < 0.01 * isi,
                          "neuron %zu spike %zu: %.6f vs %.6f (ISI %.6f)", k, q, tile_t[k][q], rt[q], isi);
    }
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_buf_release(&ref);
    ss_buf_release(&body);
    for (size_t k = 0; k < 2; k++)
        free(spikes[k]);
    free(spikes);
    ss_network_free(net);
    ss_engine_free(eng);
}
END_TEST

/* The same from the command line: characterize --tile writes the body, an
 * experiment file runs it; a tile body is screened like any netlist. */
START_TEST(spice_tile_cli)
{
    const char *dir = ss_test_tmpdir(), *prog = ss_test_program();
    static char out[8192];
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s characterize dpi-neuron --tile 2 -o tile.cir",
                                dir, prog), 0);
    ck_assert_ptr_nonnull(strstr(out, "v(x1.vrst)"));
    ss_test_write(dir, "t.yaml",
                  "duration: 30m\npopulations:\n"
                  "  - {name: in, kind: regular, n: 1, rate: 50, phase: 2m}\n"
                  "  - {name: dpi, kind: spice, n: 2, body: tile.cir, spikes: [\"v(x0.vrst)\", \"v(x1.vrst)\"],"
                  " bias: 30p}\n"
                  "  - {name: out, kind: lif, n: 1}\nprojections:\n"
                  "  - {from: in, to: dpi, kind: all, weight: 2n, delay: 1m}\n"
                  "  - {from: dpi, to: out, kind: all, weight: 1n, delay: 1m}\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run t.yaml -o res -q && grep -c ',dpi,' res/spikes.csv "
                                "&& grep -c ',out,' res/spikes.csv", dir, prog), 0);
    long dpi = 0, lif = 0;
    ck_assert_int_eq(sscanf(out, "%ld %ld", &dpi, &lif), 2);
    ck_assert_int_gt(dpi, 4);
    ck_assert_int_gt(lif, 0);
    ss_test_write(dir, "evil.cir", ".control\nshell touch pwned\n.endc\n");
    ss_test_write(dir, "e.yaml", "populations:\n  - {name: d, kind: spice, n: 1, body: evil.cir, "
                                 "spikes: [\"v(x0.vrst)\"]}\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run e.yaml -o res2 -q", dir, prog), 1);
    ck_assert_ptr_nonnull(strstr(out, ".control block refused"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "test -e %s/pwned", dir), 1);
}
END_TEST

Suite *mixed_suite(void)
{
    Suite *s = suite_create("mixed");
    TCase *tc = tcase_create("mixed");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, cosim_matches_full_spice);
    tcase_add_test(tc, spike_trains_through_crossbar);
    tcase_add_test(tc, bad_spec);
    tcase_add_test(tc, spice_tile_in_network);
    tcase_add_test(tc, spice_tile_cli);
    suite_add_tcase(s, tc);
    return s;
}
