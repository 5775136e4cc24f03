/* device_agreement.c: every device preset driven by a sine, a triangle and a
 * bipolar pulse train, integrated in C (ss_devsim_run) and in ngspice (the emitted
 * subcircuit through the engine); prints the normalised RMS difference of
 * current and state and the CPU times (getrusage).  Exit status 1 if any case exceeds
 * 1 %.  Usage: device_agreement [--hard-too] */
#include <gsl/gsl_errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"

/* The preset's drive as "kind:amp:freq"; the three waves derived from it. */
static int waves_for(const ss_device_preset *p, char spec[3][128])
{
    double amp, freq;
    ss_wave w;
    if (ss_wave_parse(&w, p->drive, NULL))
        return -1;
    amp = w.kind == SS_WAVE_PULSE ? fmax(fabs(w.v1), fabs(w.v2)) : w.amp;
    freq = 1.0 / ss_wave_period(&w);
    snprintf(spec[0], 128, "sine:%.17g:%.17g:2", amp, freq);
    snprintf(spec[1], 128, "triangle:%.17g:%.17g:2", amp, freq);
    snprintf(spec[2], 128, "pulse:%.17g:%.17g:%.17g:%.17g:3", -amp, amp, 0.4 / freq, 1.0 / freq);
    return 0;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    setlocale(LC_NUMERIC, "C");
    int hard_too = argc > 1 && !strcmp(argv[1], "--hard-too");
    ss_engine *eng = NULL;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "device_agreement: %s\n", err.msg);
        return 1;
    }
    int bad = 0;
    double worst = 0;
    printf("%-15s %-5s %-44s %9s %9s %8s %8s %7s %7s\n", "preset", "mode", "wave", "nrmse_i",
           "nrmse_x", "c_ms", "spice_ms", "c_steps", "sp_pts");
    for (int hard = 0; hard <= hard_too; hard++)
        for (const ss_device_preset *p = ss_device_presets; p->name; p++) {
            char spec[3][128];
            if (waves_for(p, spec))
                continue;
            for (int k = 0; k < 3; k++) {
                ss_device d;
                ss_wave w;
                d.hard = hard;
                ss_devsim_trace a = SS_DEVSIM_TRACE_INIT, b = SS_DEVSIM_TRACE_INIT;
                ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
                opt.points = 4001;
                if (ss_device_apply_preset(&d, p->name, &err) || ss_wave_parse(&w, spec[k], &err)) {
                    fprintf(stderr, "device_agreement: %s\n", err.msg);
                    return 1;
                }
                double t0 = ss_util_cpu_time();
                int rc = ss_devsim_run(&d, &w, &opt, &a, &err);
                double t1 = ss_util_cpu_time();
                if (!rc)
                    rc = ss_devsim_run_spice(eng, &d, &w, &opt, &b, &err);
                double t2 = ss_util_cpu_time();
                if (rc) {
                    printf("%-15s %-5s %-44s failed: %s\n", p->name, hard ? "hard" : "smooth",
                           spec[k], err.msg);
                    bad += !hard; /* hard mode is allowed to defeat ngspice */
                } else {
                    double ei = ss_devsim_nrmse(b.i, a.i, a.n), ex = ss_devsim_nrmse(b.x, a.x, a.n);
                    printf("%-15s %-5s %-44s %9.2e %9.2e %8.1f %8.1f %7ld %7ld%s\n", p->name,
                           hard ? "hard" : "smooth", spec[k], ei, ex, 1e3 * (t1 - t0),
                           1e3 * (t2 - t1), a.steps, b.steps,
                           !hard && (ei > 0.01 || ex > 0.01) ? "  > 1 %" : "");
                    if (!hard) {
                        worst = fmax(worst, fmax(ei, ex));
                        bad += ei > 0.01 || ex > 0.01;
                    }
                }
                ss_devsim_trace_release(&a);
                ss_devsim_trace_release(&b);
            }
        }
    printf("worst smooth-mode NRMSE %.3e; %d case(s) above 1 %%\n", worst, bad);
    ss_engine_free(eng);
    return bad ? 1 : 0;
}
