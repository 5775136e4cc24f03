/* check_mixed.c: transistor-level DPI neurons and a memristive crossbar,
 * co-simulated (neurons in ngspice, crossbar in C) against the same network
 * simulated entirely in ngspice. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "circuits/ss_circuits.h"
#include "tests/ss_test.h"

static void compare(size_t n, double tstop)
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
    ss_circuit_mixed s = {n, n, iin, &d, x0, {n, n, 2, 0, 10}, 0.15, 1e-3, tstop, 20e-6, 1e-5};
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
    ss_circuit_mixed_result_release(&full);
    ss_circuit_mixed_result_release(&co);
    ss_engine_free(eng);
}

START_TEST(cosim_matches_full_spice)
{
    if (ss_test_long())
        compare(8, 50e-3);
    else
        compare(4, 16e-3);
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
    ss_engine_free(eng);
}
END_TEST

Suite *mixed_suite(void)
{
    Suite *s = suite_create("mixed");
    TCase *tc = tcase_create("mixed");
    tcase_set_timeout(tc, 1800);
    tcase_add_test(tc, cosim_matches_full_spice);
    tcase_add_test(tc, bad_spec);
    suite_add_tcase(s, tc);
    return s;
}
