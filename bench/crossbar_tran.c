/* crossbar_tran.c: a VTEAM crossbar (smooth thresholds and bounds; R_on 10 kOhm,
 * R_off 1 MOhm, v_on -0.2 V, v_off 0.3 V, alpha 3; 2 ohm wire segments, 10 ohm
 * source and sense) driven for 10 us by write pulses of +1 V and -0.8 V and by
 * 0.1 V reads, in smallsim (the one integrator of device states with the
 * nodal solve inside, rtol 1e-4) and in ngspice
 * (the generated netlist with the emitted subcircuits, in this process), CPU
 * time of each (getrusage) in the same run;
 * final states compared.  Arguments: sizes (default 8 16 32). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"

static const char cells[] = "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 k_off=9e-5 "
                            "alpha_on=3 alpha_off=3 w_on=0 w_off=3n window=none iv=linear";

static int run(size_t n, ss_engine *eng)
{
    ss_error err;
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    if (ss_device_set_list(&d, cells, &err) || ss_device_validate(&d, &err))
        return fprintf(stderr, "crossbar_tran: %s\n", err.msg), 1;
    ss_crossbar_spec spec = {n, n, 2, 10, 10};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
    ss_pwl *in = calloc(n, sizeof *in);
    ss_buf *src = calloc(n, sizeof *src);
    const char **srcs = calloc(n, sizeof *srcs);
    double *x = malloc(n * n * sizeof *x), *x0 = malloc(n * n * sizeof *x0);
    for (size_t i = 0; i < n; i++) {
        char t[256];
        double a = i % 3 == 0 ? 1.0 : (i % 3 == 1 ? -0.8 : 0.1);
        snprintf(t, sizeof t, "0 0 1u 0 1.05u %g 4u %g 4.05u 0 6u 0 6.05u 0.1 9u 0.1 9.05u 0", a, a);
        if (ss_pwl_parse(&in[i], t, &err) || ss_pwl_spice(&in[i], &src[i]))
            return 1;
        srcs[i] = src[i].data;
    }
    for (size_t k = 0; k < n * n; k++)
        x0[k] = x[k] = 0.2 + 0.6 * (double)((k * 37) % n) / (double)n;
    double t0 = ss_util_cpu_time();
    ss_crossbar_tran_options topt = SS_CROSSBAR_TRAN_OPTIONS_INIT;
    topt.rtol = 1e-4; /* local error per step; final states within 4e-6 of a 1e-10 run */
    if (ss_crossbar_tran(xb, &d, 1, in, 10e-6, &topt, x, &err))
        return fprintf(stderr, "crossbar_tran: %s\n", err.msg), 1;
    double ts = ss_util_cpu_time() - t0;
    ss_buf sub = SS_BUF_INIT, text = SS_BUF_INIT;
    ss_netlist_crossbar nx = {n, n, 2, 10, 10, NULL, NULL, "cell", NULL, x0, srcs, NULL,
                              ".tran 10n 10u", ".options reltol=1e-6 abstol=1e-15", NULL, 0, NULL};
    if (ss_device_write_spice(&d, "cell", &sub, &err))
        return 1;
    nx.cell_subckt = sub.data;
    ss_result res = SS_RESULT_INIT;
    t0 = ss_util_cpu_time();
    if (ss_netlist_crossbar_write(&nx, &text, &err) ||
        ss_engine_run_text(eng, text.data, "xt.cir", 0, &res, &err))
        return fprintf(stderr, "crossbar_tran: %s\n", err.msg), 1;
    double tn = ss_util_cpu_time() - t0, worst = 0;
    for (size_t k = 0; k < n * n; k++) {
        char name[64];
        snprintf(name, sizeof name, "v(xc%zu_%zu.xs)", k / n, k % n);
        const ss_vector *v = ss_result_find(&res, name);
        if (!v)
            return 1;
        worst = fmax(worst, fabs(v->re[v->n - 1] - x[k]));
    }
    printf("  %3zu x %-3zu | smallsim %8.3f s | ngspice %9.3f s | ratio %6.1fx | max |x diff| %.1e\n", n,
           n, ts, tn, tn / ts, worst);
    fflush(stdout);
    ss_result_release(&res);
    for (size_t i = 0; i < n; i++) {
        ss_pwl_release(&in[i]);
        ss_buf_release(&src[i]);
    }
    free(in);
    free(src);
    free(srcs);
    free(x);
    free(x0);
    ss_buf_release(&sub);
    ss_buf_release(&text);
    ss_crossbar_free(xb);
    return 0;
}

int main(int argc, char **argv)
{
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err))
        return fprintf(stderr, "crossbar_tran: %s\n", err.msg), 1;
    printf("crossbar_tran: VTEAM crossbar, 10 us of +1 V / -0.8 V writes and 0.1 V reads\n");
    size_t sizes[] = {8, 16, 32};
    int n = argc > 1 ? argc - 1 : 3;
    for (int k = 0; k < n; k++)
        if (run(argc > 1 ? strtoul(argv[k + 1], NULL, 10) : sizes[k], eng))
            return 1;
    ss_engine_free(eng);
    return 0;
}
