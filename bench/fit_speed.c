/* fit_speed.c: wall time of one fit of one device across 4 loops (target
 * < 10 s on 2 cores): the Knowm W-SDC device M1 behind 5 kohm at 1, 10, 100
 * and 1000 Hz when ../shared/data is present, else 4 synthetic loops of the
 * oblea_sine preset.  Prints one line per model. */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fit/ss_fit.h"

#define KNOWM "../shared/data/memristor/knowm-wsdc/"

static int load(ss_fit *f, int *measured)
{
    const double fr[4] = {1, 10, 100, 1000};
    ss_error err;
    struct stat st;
    *measured = stat(KNOWM "r5k-0.8V-1Hz-M1.series.csv", &st) == 0;
    for (int k = 0; k < 4; k++) {
        ss_fit_data d = SS_FIT_DATA_INIT;
        if (*measured) {
            char p[256];
            ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
            snprintf(p, sizeof p, KNOWM "r5k-0.8V-%gHz-M1.series.csv", fr[k]);
            o.freq = fr[k];
            o.current_scale = 1e-6;
            o.series_r = 5000;
            if (ss_fit_data_read(&d, p, &o, &err))
                goto fail;
        } else {
            ss_device dev;
            ss_wave w;
            char spec[64];
            ss_devsim_options o = SS_DEVSIM_OPTIONS_DEFAULT;
            ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
            ss_device_apply_preset(&dev, "oblea_sine", &err);
            snprintf(spec, sizeof spec, "sine:0.45:%g", 25 * pow(2, k));
            o.points = 201;
            if (ss_wave_parse(&w, spec, &err) || ss_devsim_run(&dev, &w, &o, &tr, &err) ||
                ss_fit_data_set(&d, spec, 200, tr.t, tr.vs, tr.i, 0, 0, &err)) {
                ss_devsim_trace_release(&tr);
                goto fail;
            }
            ss_devsim_trace_release(&tr);
        }
        int rc = ss_fit_add_data(f, &d, &err);
        ss_fit_data_release(&d);
        if (rc)
            goto fail;
    }
    return 0;
fail:
    fprintf(stderr, "fit_speed: %s\n", err.msg);
    return 1;
}

int main(void)
{
    gsl_set_error_handler_off();
    const char *models[] = {"vteam", "yakopcic", "yakopcic2020"};
    int worst_over = 0;
    for (int m = 0; m < 3; m++) {
        ss_error err;
        ss_fit *f = ss_fit_alloc(ss_device_type_find(models[m]), &err);
        int measured;
        if (!f || load(f, &measured))
            return 1;
        ss_fit_options o = SS_FIT_OPTIONS_INIT;
        o.threads = 2;
        ss_fit_set_options(f, &o);
        ss_fit_result r = SS_FIT_RESULT_INIT;
        if (ss_fit_run(f, &r, &err)) {
            fprintf(stderr, "fit_speed: %s\n", err.msg);
            return 1;
        }
        printf("fit %-13s %s, 4 loops, 2 threads: %6.2f s  (NRMSE %.4f, %ld evaluations)%s\n",
               models[m], measured ? "Knowm M1 5k" : "synthetic oblea", r.seconds, r.nrmse,
               r.evals, r.seconds < 10 ? "" : "  OVER the 10 s target");
        worst_over |= r.seconds >= 10;
        ss_fit_result_release(&r);
        ss_fit_free(f);
    }
    (void)worst_over;
    return 0;
}
