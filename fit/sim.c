/* sim.c: one device behind a series resistor under a sampled (piecewise
 * linear) drive: an L-stable SDIRK2 integrator with the state and the device
 * voltage solved together at every stage. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit_private.h"

/* Alexander's two-stage, stiffly accurate, L-stable SDIRK of order 2. */
#define GAMMA (1.0 - 0.70710678118654752440)

void ssf_steps_release(ssf_steps *s)
{
    if (!s)
        return;
    free(s->t);
    memset(s, 0, sizeof *s);
}

static int steps_push(ssf_steps *s, double t)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 1024;
        double *p = realloc(s->t, nc * sizeof *p);
        if (!p)
            return -1;
        s->t = p;
        s->cap = nc;
    }
    s->t[s->n++] = t;
    return 0;
}

typedef struct sim {
    const ss_device *d;
    double r;   /* series resistance */
    double pol; /* +1 or -1 */
} sim;

/* Solves the stage equations
 *     X - base - c f(V, X) = 0,   V + R i(V, X) = u
 * for (X, V) by Newton from (*X, *V).  On success *ev holds the model at the
 * solution and *jx the total derivative of f along the circuit constraint. */
static int stage_solve(const sim *s, double base, double c, double u, double *X, double *V,
                       ss_device_eval *ev, double *jx)
{
    double x = *X, v = s->r > 0 ? *V : u;
    double lo = fmin(0.0, u), hi = fmax(0.0, u);
    if (v < lo || v > hi)
        v = 0.5 * (lo + hi);
    for (int it = 0; it < 30; it++) {
        ss_device_evaluate(s->d, v, x, ev);
        double r1 = x - base - c * ev->dxdt;
        if (!isfinite(r1) || !isfinite(ev->i))
            return -1;
        double a11 = 1.0 - c * ev->ddxdt_dx;
        if (s->r > 0) {
            double r2 = v + s->r * ev->i - u;
            double a12 = -c * ev->ddxdt_dv, a21 = s->r * ev->di_dx, a22 = 1.0 + s->r * ev->di_dv;
            double det = a11 * a22 - a12 * a21;
            double vtol = 1e-11 * fmax(fabs(u), 1e-3);
            if (fabs(r1) <= 1e-13 && fabs(r2) <= vtol) {
                *jx = ev->ddxdt_dx - ev->ddxdt_dv * a21 / a22;
                *X = x, *V = v;
                return 0;
            }
            if (!(fabs(det) > 0) || !isfinite(det))
                return -1;
            double dx = (r1 * a22 - r2 * a12) / det;
            double dv = (a11 * r2 - a21 * r1) / det;
            x -= dx;
            v -= dv;
            if (fabs(dx) <= 1e-14 && fabs(dv) <= 1e-13 * fmax(fabs(u), 1e-3)) {
                ss_device_evaluate(s->d, v, x, ev);
                *jx = ev->ddxdt_dx - ev->ddxdt_dv * s->r * ev->di_dx / (1.0 + s->r * ev->di_dv);
                *X = x, *V = v;
                return 0;
            }
            /* The root lies between 0 and u (i has the sign of v). */
            if (v < lo || v > hi)
                v = fmin(hi, fmax(lo, v));
            if (x < -0.5 || x > 1.5)
                x = fmin(1.5, fmax(-0.5, x));
        } else {
            if (fabs(r1) <= 1e-13) {
                *jx = ev->ddxdt_dx;
                *X = x, *V = v;
                return 0;
            }
            if (!(fabs(a11) > 0))
                return -1;
            x -= r1 / a11;
            if (fabs(r1 / a11) <= 1e-14) {
                ss_device_evaluate(s->d, v, x, ev);
                *jx = ev->ddxdt_dx;
                *X = x, *V = v;
                return 0;
            }
            if (x < -0.5 || x > 1.5)
                x = fmin(1.5, fmax(-0.5, x));
        }
    }
    return -1;
}

/* Drive at time t within sample interval [k, k+1]. */
static double drive(const ss_fit_data *dd, size_t k, double t)
{
    double t0 = dd->t[k], t1 = dd->t[k + 1];
    double a = (t - t0) / (t1 - t0);
    return dd->v[k] + a * (dd->v[k + 1] - dd->v[k]);
}

int ssf_integrate(const ss_device *d, int polarity, const ss_fit_data *data, double x0,
                  double tol, int mode, ssf_steps *steps, double *i_out, double *v_out,
                  double *x_out, long *nsteps)
{
    sim s = {d, data->series_r, polarity < 0 ? -1.0 : 1.0};
    if (tol <= 0)
        tol = 1e-7;
    size_t n = data->n;
    double x = x0, v = 0, jx = 0;
    ss_device_eval ev;
    long total = 0;
    size_t replay_k = 0;
    if (mode == SSF_RECORD)
        steps->n = 0;
    /* t = 0: the device voltage for the initial state. */
    {
        double X = x, V = s.pol * data->v[0];
        if (stage_solve(&s, x, 0.0, s.pol * data->v[0], &X, &V, &ev, &jx))
            return -1;
        v = V;
        i_out[0] = s.pol * ev.i;
        if (v_out)
            v_out[0] = s.pol * v;
        if (x_out)
            x_out[0] = x;
    }
    double T = data->t[n - 1] - data->t[0];
    double h = (data->t[1] - data->t[0]) * 0.25;
    double hmin = 1e-13 * T;
    const long max_steps = 2000000;
    for (size_t k = 0; k + 1 < n; k++) {
        double t = data->t[k], tend = data->t[k + 1];
        while (t < tend) {
            double hs, tnext = 0;
            int last;
            if (mode == SSF_REPLAY) {
                if (replay_k >= steps->n)
                    return -1;
                double tn = steps->t[replay_k];
                if (tn > tend)
                    return -1;
                last = tn >= tend;
                tnext = last ? tend : tn;
                hs = tnext - t;
            } else {
                hs = fmin(h, tend - t);
                /* Avoid a sliver of a last step before the sample. */
                last = tend - t - hs < 0.05 * hs;
                if (last)
                    hs = tend - t;
                tnext = last ? tend : t + hs;
            }
            if (!(hs > 0))
                return -1;
            double c = GAMMA * hs;
            double t1 = t + c, t2 = tnext;
            double u1 = s.pol * drive(data, k, t1),
                   u2 = s.pol * (last ? data->v[k + 1] : drive(data, k, t2));
            ss_device_eval e1, e2;
            double j1 = 0, j2 = 0;
            /* Stage 1 from an explicit predictor. */
            double X1 = x + c * ev.dxdt, V1 = v;
            int ok = stage_solve(&s, x, c, u1, &X1, &V1, &e1, &j1) == 0;
            double X2 = 0, V2 = v, err_est = 0;
            if (ok) {
                double K1 = (X1 - x) / c;
                double base2 = x + hs * (1.0 - GAMMA) * K1;
                X2 = x + hs * K1;
                V2 = V1;
                ok = stage_solve(&s, base2, c, u2, &X2, &V2, &e2, &j2) == 0;
                if (ok) {
                    /* hgamma (K2 - K1), filtered through (1 - hgamma J)^-1
                     * so that stiff decay is not mistaken for error. */
                    double raw = (X2 - base2) - (X1 - x);
                    double den = 1.0 - c * j2;
                    err_est = fabs(raw) / (den > 1.0 ? den : 1.0);
                }
            }
            total++;
            if (total > max_steps)
                return -1;
            if (mode == SSF_REPLAY) {
                if (!ok)
                    return -1;
                replay_k++;
            } else {
                if (!ok || !isfinite(err_est)) {
                    h = 0.25 * hs;
                    if (h < hmin)
                        return -1;
                    continue;
                }
                double ratio = err_est / tol;
                if (ratio > 1.0) {
                    h = hs * fmax(0.2, 0.9 / sqrt(ratio));
                    if (h < hmin)
                        return -1;
                    continue;
                }
                double grow = ratio > 1e-10 ? 0.9 / sqrt(ratio) : 4.0;
                h = hs * fmin(4.0, fmax(0.2, grow));
                if (mode == SSF_RECORD && steps_push(steps, t2))
                    return -1;
            }
            x = X2, v = V2, ev = e2;
            (void)j1;
            t = t2;
        }
        i_out[k + 1] = s.pol * ev.i;
        if (v_out)
            v_out[k + 1] = s.pol * v;
        if (x_out)
            x_out[k + 1] = x;
    }
    if (nsteps)
        *nsteps = total;
    return 0;
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
    if (ssf_integrate(d, polarity, data, x0, tol, SSF_ADAPTIVE, NULL, tr->i, tr->v, tr->x,
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

void ssf_parallel_for(int threads, size_t n, void (*fn)(void *ctx, size_t k), void *ctx)
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
