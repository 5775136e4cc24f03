/* integrate.c: the one integrator of memristor states (devices/ss_devices.h,
 * ss_device_integrate): Alexander's two-stage SDIRK, L-stable and stiffly
 * accurate, of order 2,
 *
 *     X1 = x + g h f(X1)                      (t + g h)
 *     X2 = x + (1 - g) h K1 + g h f(X2)       (t + h),   x_new = X2,
 *
 * g = 1 - 1/sqrt(2), K1 = (X1 - x)/(g h).  The embedded first-order
 * solution differs by g h (K2 - K1); that difference, divided by
 * (1 - g h J) where the state decays stiffly, is the local error estimate.
 * Every stage solves the circuit with the states: one device behind a
 * series resistor by Newton on (x, v) together, any other circuit by Newton
 * on the states with the diagonal of the Jacobian and the circuit solved at
 * every iterate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "devices/devices_private.h"

#define GAMMA (1.0 - 0.70710678118654752440)

void ss_device_steps_release(ss_device_steps *s)
{
    if (!s)
        return;
    free(s->t);
    memset(s, 0, sizeof *s);
}

static int steps_push(ss_device_steps *s, double t)
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

double ss_device_hermite(double ta, double xa, double fa, double tb, double xb, double fb,
                         double t)
{
    double h = tb - ta;
    if (!(h > 0))
        return xb;
    double s = (t - ta) / h, s2 = s * s, s3 = s2 * s;
    double y = (2 * s3 - 3 * s2 + 1) * xa + (s3 - 2 * s2 + s) * h * fa + (-2 * s3 + 3 * s2) * xb +
               (s3 - s2) * h * fb;
    /* Within the end values, widened by the height of a smooth extremum
     * inside the step (h min|f| / 4): after a stiff step one end slope is
     * huge and the cubic would overshoot far. */
    double m = 0.25 * h * fmin(fabs(fa), fabs(fb));
    double lo = fmin(xa, xb) - m, hi = fmax(xa, xb) + m;
    return y < lo ? lo : y > hi ? hi : y;
}

/* v + r i(v, x) = vs: the root lies between 0 and vs because i has the sign
 * of v; Newton steps that leave the bracket are replaced by bisection. */
int ss_device_series_voltage(const ss_device *d, double r, double vs, double x, double *v_out,
                             ss_device_eval *ev_out)
{
    ss_device_eval ev;
    if (r == 0) {
        ss_device_evaluate(d, vs, x, &ev);
        *v_out = vs;
        if (ev_out)
            *ev_out = ev;
        return isfinite(ev.i) && isfinite(ev.dxdt) ? SS_OK : SS_ENUMERIC;
    }
    double lo = fmin(0.0, vs), hi = fmax(0.0, vs);
    double v = vs;
    /* linear guess from the small-signal conductance at v = 0 */
    ss_device_evaluate(d, 0.0, x, &ev);
    if (ev.di_dv > 0 && isfinite(ev.di_dv))
        v = vs / (1.0 + r * ev.di_dv);
    for (int it = 0; it < 200; it++) {
        ss_device_evaluate(d, v, x, &ev);
        double f = v + r * ev.i - vs;
        double df = 1.0 + r * ev.di_dv;
        if (!isfinite(f))
            return SS_ENUMERIC;
        if (f > 0)
            hi = v;
        else if (f < 0)
            lo = v;
        else
            break;
        double vn = v - f / df;
        if (!(df > 0) || !isfinite(vn) || vn <= lo || vn >= hi)
            vn = 0.5 * (lo + hi);
        double tol = 1e-15 * fmax(fabs(vs), 1e-3);
        if (fabs(vn - v) <= tol || hi - lo <= tol) {
            v = vn;
            ss_device_evaluate(d, v, x, &ev);
            break;
        }
        v = vn;
    }
    *v_out = v;
    if (ev_out)
        *ev_out = ev;
    return isfinite(ev.i) && isfinite(ev.dxdt) ? SS_OK : SS_ENUMERIC;
}

/* ---- the stages ------------------------------------------------------------- */

typedef struct integ {
    const ss_device_circuit *c;
    size_t n;
    double rtol, atol;
    double *dvdx; /* general circuits: dv_k/dx_k */
    long solves;
} integ;

static const ss_device *dev_of(const integ *g, size_t k)
{
    return &g->c->dev[g->c->shared ? 0 : k];
}

/* One device behind a series resistor: solves
 *     X - base - cc f(V, X) = 0,   V + R i(V, X) = u
 * for (X, V) by Newton from (*X, *V).  On success *F is f at the solution
 * and *J the total derivative of f along the circuit constraint. */
static int stage_series(integ *g, double t, double base, double cc, double *X, double *V,
                        double *F, double *J)
{
    const ss_device *d = dev_of(g, 0);
    double r = g->c->series_r, u = g->c->source(g->c->ctx, t);
    double x = *X, v = r > 0 ? *V : u;
    double lo = fmin(0.0, u), hi = fmax(0.0, u);
    ss_device_eval ev;
    if (g->c->frozen && g->c->frozen[0]) {
        if (ss_device_series_voltage(d, r, u, base, V, &ev))
            return -1;
        *X = base, *F = 0, *J = 0;
        return 0;
    }
    if (v < lo || v > hi)
        v = 0.5 * (lo + hi);
    /* Every model keeps its state in [0, 1]: iterates stay in [-0.5, 1.5],
     * away from spurious roots where a clamped rate is flat. */
    x = fmin(1.5, fmax(-0.5, x));
    for (int it = 0; it < 30; it++) {
        ss_device_evaluate(d, v, x, &ev);
        g->solves++;
        double r1 = x - base - cc * ev.dxdt;
        if (!isfinite(r1) || !isfinite(ev.i))
            return -1;
        double a11 = 1.0 - cc * ev.ddxdt_dx;
        if (r > 0) {
            double r2 = v + r * ev.i - u;
            double a12 = -cc * ev.ddxdt_dv, a21 = r * ev.di_dx, a22 = 1.0 + r * ev.di_dv;
            double det = a11 * a22 - a12 * a21;
            double vtol = 1e-11 * fmax(fabs(u), 1e-3);
            if (fabs(r1) <= 1e-13 && fabs(r2) <= vtol) {
                *J = ev.ddxdt_dx - ev.ddxdt_dv * a21 / a22;
                *F = ev.dxdt;
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
                ss_device_evaluate(d, v, x, &ev);
                *J = ev.ddxdt_dx - ev.ddxdt_dv * r * ev.di_dx / (1.0 + r * ev.di_dv);
                *F = ev.dxdt;
                *X = x, *V = v;
                return 0;
            }
            /* the root lies between 0 and u (i has the sign of v) */
            if (v < lo || v > hi)
                v = fmin(hi, fmax(lo, v));
            if (x < -0.5 || x > 1.5)
                x = fmin(1.5, fmax(-0.5, x));
        } else {
            if (fabs(r1) <= 1e-13) {
                *J = ev.ddxdt_dx;
                *F = ev.dxdt;
                *X = x, *V = v;
                return 0;
            }
            if (!(fabs(a11) > 0))
                return -1;
            x -= r1 / a11;
            if (fabs(r1 / a11) <= 1e-14) {
                ss_device_evaluate(d, v, x, &ev);
                *J = ev.ddxdt_dx;
                *F = ev.dxdt;
                *X = x, *V = v;
                return 0;
            }
            if (x < -0.5 || x > 1.5)
                x = fmin(1.5, fmax(-0.5, x));
        }
    }
    return -1;
}

/* Any circuit: Newton on X - base - cc f(V(X), X) = 0 with the diagonal of
 * the Jacobian, the circuit solved at every iterate; converged when the
 * update's weighted RMS is below 1e-3 of the error tolerance. */
static int stage_general(integ *g, double t, const double *base, double cc, double *X, double *V,
                         double *F, double *J)
{
    const ss_device_circuit *c = g->c;
    size_t n = g->n;
    double prev = INFINITY;
    for (size_t k = 0; k < n; k++)
        X[k] = fmin(1.5, fmax(-0.5, X[k]));
    for (int it = 0; it < 12; it++) {
        if (c->voltages(c->ctx, t, X, V, g->dvdx))
            return -1;
        g->solves++;
        double sum = 0;
        for (size_t k = 0; k < n; k++) {
            if (c->frozen && c->frozen[k]) {
                X[k] = base[k], F[k] = 0, J[k] = 0;
                continue;
            }
            ss_device_eval ev;
            ss_device_evaluate(dev_of(g, k), V[k], X[k], &ev);
            double jk = ev.ddxdt_dx + ev.ddxdt_dv * g->dvdx[k];
            double res = X[k] - base[k] - cc * ev.dxdt, den = 1.0 - cc * jk;
            if (!isfinite(res) || !isfinite(den))
                return -1;
            if (fabs(den) < 1e-3)
                den = den < 0 ? -1e-3 : 1e-3;
            double dx = res / den;
            X[k] = fmin(1.5, fmax(-0.5, X[k] - dx));
            F[k] = ev.dxdt;
            J[k] = jk;
            double w = g->atol + g->rtol * fabs(X[k]);
            sum += (dx / w) * (dx / w);
        }
        double rms = sqrt(sum / (double)n);
        if (!isfinite(rms))
            return -1;
        if (rms <= 1e-3)
            return 0;
        if (it >= 2 && rms > 0.9 * prev)
            return -1; /* not contracting: a smaller step */
        prev = rms;
    }
    return -1;
}

static int stage(integ *g, double t, const double *base, double cc, double *X, double *V,
                 double *F, double *J)
{
    if (g->c->source)
        return stage_series(g, t, base[0], cc, X, V, F, J);
    return stage_general(g, t, base, cc, X, V, F, J);
}

/* ---- the integration ------------------------------------------------------- */

int ss_device_integrate(const ss_device_circuit *c, const ss_device_integration *o, double t0,
                        double *x_io, double *v_out, const double *stops, size_t nstops,
                        ss_device_integration_stats *st, ss_error *err)
{
    static const ss_device_integration defaults = SS_DEVICE_INTEGRATION_INIT;
    if (!o)
        o = &defaults;
    if (!c || !c->n || !c->dev || (!c->source && !c->voltages) || (c->source && c->n != 1))
        return ss_error_set(err, SS_EINVAL,
                            "device states: need devices and either one device with a source "
                            "or a circuit");
    if (!nstops || !stops || !(stops[0] > t0) || !isfinite(stops[nstops - 1]))
        return ss_error_set(err, SS_EINVAL, "device states: the end time must follow the start");
    for (size_t k = 1; k < nstops; k++)
        if (!(stops[k] >= stops[k - 1]))
            return ss_error_set(err, SS_EINVAL, "device states: stop times must not decrease");
    if ((o->mode == SS_DEVICE_STEPS_RECORD || o->mode == SS_DEVICE_STEPS_REPLAY) && !o->steps)
        return ss_error_set(err, SS_EINVAL, "device states: recording or replaying needs steps");
    if (!(c->series_r >= 0) || o->rtol < 0 || o->atol < 0 || o->hmax < 0 || o->h0 < 0)
        return ss_error_set(err, SS_EINVAL, "device states: negative tolerance, step or resistance");

    size_t n = c->n;
    integ g = {c, n, o->rtol, o->atol, NULL, 0};
    if (g.rtol == 0 && g.atol == 0)
        g.rtol = 1e-6, g.atol = 1e-9;
    double *mem = malloc(13 * n * sizeof *mem);
    if (!mem)
        return ss_error_set(err, SS_ENOMEM, "device states: out of memory for %zu states", n);
    double *x = mem, *f = mem + n, *X1 = mem + 2 * n, *X2 = mem + 3 * n, *V = mem + 4 * n,
           *V1 = mem + 5 * n, *F1 = mem + 6 * n, *F2 = mem + 7 * n, *J = mem + 8 * n,
           *base = mem + 9 * n;
    g.dvdx = mem + 10 * n;
    /* the method's own derivatives at the step ends, (X2 - base)/(g h):
     * consistent with how x moved, also where a stiff state sits at a
     * bound and the rate at the stage iterate is huge */
    double *fk = mem + 11 * n, *K2 = mem + 12 * n;
    memcpy(x, x_io, n * sizeof *x);
    memset(V, 0, n * sizeof *V);
    memset(g.dvdx, 0, n * sizeof *g.dvdx);
    int rc = SS_OK;
    double t = t0;
    long total = 0, accepted = 0, rejected = 0;
    size_t replay_k = 0;
    const long max_steps = o->max_steps > 0 ? o->max_steps : 10000000L;
    if (o->mode == SS_DEVICE_STEPS_RECORD)
        o->steps->n = 0;

    /* the device voltages and derivatives at the start */
    memcpy(X1, x, n * sizeof *x);
    if (stage(&g, t0, x, 0.0, X1, V, f, J)) {
        rc = ss_error_set(err, SS_ENUMERIC, "device states: the circuit has no solution at t = %g s",
                          t0);
        goto out;
    }
    memcpy(fk, f, n * sizeof *f);
    double span = stops[nstops - 1] - t0;
    double h = o->h0 > 0 ? o->h0 : 0.25 * (stops[0] - t0);
    if (o->hmax > 0 && h > o->hmax)
        h = o->hmax;
    const double hmin = 1e-13 * span;

    for (size_t ks = 0; ks < nstops && !rc; ks++) {
        double tend = stops[ks];
        while (t < tend) {
            double hs, t2;
            int last;
            if (o->mode == SS_DEVICE_STEPS_REPLAY) {
                if (replay_k >= o->steps->n || o->steps->t[replay_k] > tend) {
                    rc = ss_error_set(err, SS_ENUMERIC,
                                      "device states: the replayed steps do not fit the stops");
                    goto out;
                }
                double tn = o->steps->t[replay_k];
                last = tn >= tend;
                t2 = last ? tend : tn;
                hs = t2 - t;
            } else {
                hs = fmin(h, tend - t);
                if (o->hmax > 0 && hs > o->hmax)
                    hs = o->hmax;
                /* no sliver of a step before the stop */
                last = tend - t - hs < 0.05 * hs;
                if (last)
                    hs = tend - t;
                t2 = last ? tend : t + hs;
            }
            if (!(hs > 0)) {
                rc = ss_error_set(err, SS_ENUMERIC, "device states: no step left at t = %g s", t);
                goto out;
            }
            double cc = GAMMA * hs;
            /* stage 1 from an explicit predictor */
            for (size_t k = 0; k < n; k++)
                X1[k] = x[k] + cc * f[k];
            memcpy(V1, V, n * sizeof *V);
            int ok = stage(&g, t + cc, x, cc, X1, V1, F1, J) == 0;
            double ratio = 0;
            if (ok) {
                for (size_t k = 0; k < n; k++) {
                    double K1 = (X1[k] - x[k]) / cc;
                    base[k] = x[k] + hs * (1.0 - GAMMA) * K1;
                    X2[k] = x[k] + hs * K1;
                }
                ok = stage(&g, t2, base, cc, X2, V1, F2, J) == 0;
            }
            if (ok) {
                double sum = 0;
                for (size_t k = 0; k < n; k++) {
                    /* g h (K2 - K1), filtered through (1 - g h J)^-1 */
                    double raw = (X2[k] - base[k]) - (X1[k] - x[k]);
                    double den = 1.0 - cc * J[k];
                    double e = fabs(raw) / (den > 1.0 ? den : 1.0);
                    double w = g.atol + g.rtol * fmax(fabs(x[k]), fabs(X2[k]));
                    sum += (e / w) * (e / w);
                }
                ratio = sqrt(sum / (double)n);
                ok = isfinite(ratio);
            }
            total++;
            if (total > max_steps) {
                rc = ss_error_set(err, SS_ENUMERIC,
                                  "device states: more than %ld steps before t = %g s", max_steps,
                                  tend);
                goto out;
            }
            if (o->mode == SS_DEVICE_STEPS_REPLAY) {
                if (!ok) {
                    rc = ss_error_set(err, SS_ENUMERIC,
                                      "device states: a replayed step failed at t = %g s", t);
                    goto out;
                }
                replay_k++;
            } else {
                if (!ok || ratio > 1.0) {
                    rejected++;
                    h = !ok ? 0.25 * hs : hs * fmax(0.2, 0.9 / sqrt(ratio));
                    if (h < hmin) {
                        rc = ss_error_set(err, SS_ENUMERIC,
                                          "device states: no convergence at t = %g s with the "
                                          "smallest step (%g s)",
                                          t, hmin);
                        goto out;
                    }
                    continue;
                }
                double grow = ratio > 1e-10 ? 0.9 / sqrt(ratio) : 4.0;
                h = hs * fmin(4.0, fmax(0.2, grow));
                if (o->mode == SS_DEVICE_STEPS_RECORD && steps_push(o->steps, t2)) {
                    rc = ss_error_set(err, SS_ENOMEM, "device states: out of memory");
                    goto out;
                }
            }
            accepted++;
            for (size_t k = 0; k < n; k++)
                K2[k] = (X2[k] - base[k]) / cc;
            if (o->at_step && (rc = o->at_step(o->ctx, t, x, fk, t2, X2, K2))) {
                rc = ss_error_set(err, rc, "device states: stopped by the caller at t = %g s", t2);
                goto out;
            }
            memcpy(x, X2, n * sizeof *x);
            memcpy(f, F2, n * sizeof *f);
            memcpy(fk, K2, n * sizeof *fk);
            memcpy(V, V1, n * sizeof *V);
            t = t2;
        }
        if (o->at_stop && (rc = o->at_stop(o->ctx, ks, t, x, V))) {
            rc = ss_error_set(err, rc, "device states: stopped by the caller at t = %g s", t);
            goto out;
        }
    }
    memcpy(x_io, x, n * sizeof *x);
    if (v_out)
        memcpy(v_out, V, n * sizeof *V);
out:
    if (st) {
        st->steps = accepted;
        st->rejected = rejected;
        st->solves = g.solves;
    }
    free(mem);
    return rc;
}
