/* fit_speed.c: wall time of one fit of one device across 4 loops (target
 * < 10 s on 2 cores): the Knowm W-SDC device M1 behind 5 kohm at 1, 10, 100
 * and 1000 Hz (data/knowm-wsdc).  Prints one line per model.  Run from the
 * repository root. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fit/ss_fit.h"

#define KNOWM "data/knowm-wsdc/"

static int load(ss_fit *f)
{
    const double fr[4] = {1, 10, 100, 1000};
    ss_error err;
    for (int k = 0; k < 4; k++) {
        ss_fit_data d = SS_FIT_DATA_INIT;
        char p[256];
        ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
        snprintf(p, sizeof p, KNOWM "r5k-0.8V-%gHz-M1.series.csv", fr[k]);
        o.freq = fr[k];
        o.current_scale = 1e-6;
        o.series_r = 5000;
        int rc = ss_fit_data_read(&d, p, &o, &err) || ss_fit_add_data(f, &d, &err);
        ss_fit_data_release(&d);
        if (rc) {
            fprintf(stderr, "fit_speed: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

int main(void)
{
    gsl_set_error_handler_off();
    const char *models[] = {"vteam", "yakopcic", "yakopcic2020"};
    int worst_over = 0;
    for (int m = 0; m < 3; m++) {
        ss_error err;
        ss_fit *f = ss_fit_alloc(ss_device_type_find(models[m]), &err);
        if (!f || load(f))
            return 1;
        ss_fit_options o = SS_FIT_OPTIONS_INIT;
        o.threads = 2;
        if (getenv("SS_BENCH_STARTS"))
            o.starts = atoi(getenv("SS_BENCH_STARTS"));
        if (getenv("SS_BENCH_SEED"))
            o.seed = strtoul(getenv("SS_BENCH_SEED"), NULL, 10);
        ss_fit_set_options(f, &o);
        ss_fit_result r = SS_FIT_RESULT_INIT;
        if (ss_fit_run(f, &r, &err)) {
            fprintf(stderr, "fit_speed: %s\n", err.msg);
            return 1;
        }
        printf("fit %-13s %s, 4 loops, 2 threads: %6.2f s  (NRMSE %.4f, %ld evaluations)%s\n",
               models[m], "Knowm M1 5k", r.seconds, r.nrmse,
               r.evals, r.seconds < 10 ? "" : "  OVER the 10 s target");
        worst_over |= r.seconds >= 10;
        ss_fit_result_release(&r);
        ss_fit_free(f);
    }
    (void)worst_over;
    return 0;
}
