/* sim.c: one device behind a series resistor under a sampled (piecewise
 * linear) drive, integrated by the library's one integrator of device states
 * (ss_device_integrate in devices/: an L-stable SDIRK2 with the state and
 * the device voltage solved together at every stage), with a stop at every
 * sample. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit_private.h"

void fiti_steps_release(fiti_steps *s)
{
    ss_device_steps_release(s);
}

typedef struct fsim {
    const ss_fit_data *data;
    const ss_device *d;
    size_t k; /* the sample interval [k, k + 1] being integrated */
    double *i_out, *v_out, *x_out;
} fsim;

/* The drive within sample interval [k, k+1], exact at the sample. */
static double fsim_source(void *ctx, double t)
{
    const fsim *s = ctx;
    const ss_fit_data *dd = s->data;
    size_t k = s->k;
    if (t >= dd->t[k + 1])
        return dd->v[k + 1];
    double a = (t - dd->t[k]) / (dd->t[k + 1] - dd->t[k]);
    return dd->v[k] + a * (dd->v[k + 1] - dd->v[k]);
}

static int fsim_sample(void *ctx, size_t ks, double t, const double *x, const double *v)
{
    fsim *s = ctx;
    (void)t;
    s->i_out[ks + 1] = ss_device_current(s->d, v[0], x[0]);
    if (s->v_out)
        s->v_out[ks + 1] = v[0];
    if (s->x_out)
        s->x_out[ks + 1] = x[0];
    s->k = ks + 1;
    return 0;
}

int fiti_integrate(const ss_device *d0, int polarity, const ss_fit_data *data, double x0,
                  double tol, int mode, fiti_steps *steps, double *i_out, double *v_out,
                  double *x_out, long *nsteps)
{
    ss_device d = *d0;
    d.polarity = polarity < 0 ? -1 : 1;
    fsim s = {data, &d, 0, i_out, v_out, x_out};
    double x = x0, v;
    /* t = 0: the device voltage for the initial state */
    if (ss_device_series_voltage(&d, data->series_r, data->v[0], x0, &v, NULL))
        return -1;
    i_out[0] = ss_device_current(&d, v, x0);
    if (v_out)
        v_out[0] = v;
    if (x_out)
        x_out[0] = x0;
    ss_device_circuit c = {1, &d, 1, NULL, fsim_source, data->series_r, NULL, &s};
    ss_device_integration o = SS_DEVICE_INTEGRATION_INIT;
    o.atol = tol > 0 ? tol : 1e-7;
    o.rtol = 0;
    o.max_steps = 2000000;
    o.mode = mode;
    o.steps = steps;
    o.at_stop = fsim_sample;
    o.ctx = &s;
    ss_device_integration_stats st;
    int rc = ss_device_integrate(&c, &o, data->t[0], &x, NULL, data->t + 1, data->n - 1, &st, NULL);
    if (nsteps)
        *nsteps = st.steps + st.rejected;
    return rc ? -1 : 0;
}

int ss_fit_simulate(const ss_device *d, int polarity, const ss_fit_data *data, double x0,
                    double tol, ss_fit_trace *tr, ss_error *err)
{
    ss_devsim_trace_release(tr);
    int rc = ss_device_validate(d, err);
    if (rc)
        return rc;
    if (data->n < 2)
        return ss_error_set(err, SS_EINVAL, "%s: need at least 2 samples", data->name);
    if (!(data->series_r >= 0))
        return ss_error_set(err, SS_EINVAL, "series resistance must be >= 0 ohm");
    if (!(x0 >= 0 && x0 <= 1))
        return ss_error_set(err, SS_EINVAL, "initial state %g outside [0, 1]", x0);
    size_t n = data->n;
    tr->t = malloc(n * sizeof *tr->t);
    tr->vs = malloc(n * sizeof *tr->vs);
    tr->v = malloc(n * sizeof *tr->v);
    tr->i = malloc(n * sizeof *tr->i);
    tr->x = malloc(n * sizeof *tr->x);
    if (!tr->t || !tr->vs || !tr->v || !tr->i || !tr->x) {
        ss_devsim_trace_release(tr);
        return ss_error_set(err, SS_ENOMEM, "out of memory for %zu samples", n);
    }
    memcpy(tr->t, data->t, n * sizeof *tr->t);
    memcpy(tr->vs, data->v, n * sizeof *tr->vs);
    if (fiti_integrate(d, polarity, data, x0, tol, FITI_ADAPTIVE, NULL, tr->i, tr->v, tr->x,
                      &tr->steps)) {
        ss_devsim_trace_release(tr);
        return ss_error_set(err, SS_ENUMERIC, "%s: the integration failed (no convergence at the "
                                              "smallest step)",
                            data->name);
    }
    tr->n = n;
    return SS_OK;
}

/* ---- threads ----------------------------------------------------------------- */

typedef struct pf_job {
    void (*fn)(void *ctx, size_t k);
    void *ctx;
    size_t n, first, stride;
} pf_job;

static void *pf_run(void *arg)
{
    pf_job *j = arg;
    for (size_t k = j->first; k < j->n; k += j->stride)
        j->fn(j->ctx, k);
    return NULL;
}

void fiti_parallel_for(int threads, size_t n, void (*fn)(void *ctx, size_t k), void *ctx)
{
    if (threads < 1)
        threads = 1;
    if ((size_t)threads > n)
        threads = (int)(n ? n : 1);
    if (threads == 1) {
        for (size_t k = 0; k < n; k++)
            fn(ctx, k);
        return;
    }
    pthread_t tid[64];
    pf_job job[64];
    if (threads > 64)
        threads = 64;
    int started = 0;
    for (int t = 1; t < threads; t++) {
        job[t] = (pf_job){fn, ctx, n, (size_t)t, (size_t)threads};
        if (pthread_create(&tid[t], NULL, pf_run, &job[t]))
            break;
        started = t;
    }
    /* Items of threads that could not start run here. */
    job[0] = (pf_job){fn, ctx, n, 0, (size_t)threads};
    pf_run(&job[0]);
    for (int t = started + 1; t < threads; t++) {
        pf_job extra = {fn, ctx, n, (size_t)t, (size_t)threads};
        pf_run(&extra);
    }
    for (int t = 1; t <= started; t++)
        pthread_join(tid[t], NULL);
}
