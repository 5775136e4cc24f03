/* device_sim.c: one memristor driven by a waveform, integrated by the
 * library's one integrator of device states (ss_device_integrate), and the
 * equivalent ngspice deck (cosim/devsim/ss_devsim.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/devsim/ss_devsim.h"


/* ---- waves ------------------------------------------------------------------ */

static int wave_field(const char *s, size_t n, const char *what, const char *spec, double *out,
                      ss_error *err)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return ss_error_set(err, SS_EINVAL, "wave '%s': missing or bad %s", spec, what);
    memcpy(buf, s, n);
    buf[n] = 0;
    if (ss_util_parse_spice_number(buf, out))
        return ss_error_set(err, SS_EINVAL, "wave '%s': %s '%s' is not a number", spec, what, buf);
    return SS_OK;
}

int ss_wave_parse(ss_wave *w, const char *spec, ss_error *err)
{
    static const char *const sine_f[] = {"amplitude", "frequency", "cycles"};
    static const char *const pulse_f[] = {"V1", "V2", "width", "period", "count"};
    double f[5] = {0, 0, 1, 0, 0};
    memset(w, 0, sizeof *w);
    if (!spec)
        return ss_error_set(err, SS_EINVAL, "missing wave");
    const char *colon = strchr(spec, ':');
    size_t kl = colon ? (size_t)(colon - spec) : strlen(spec);
    int kind, nmin, nmax;
    const char *const *names;
    if (kl == 4 && !strncmp(spec, "sine", 4))
        kind = SS_WAVE_SINE, nmin = 2, nmax = 3, names = sine_f;
    else if (kl == 8 && !strncmp(spec, "triangle", 8))
        kind = SS_WAVE_TRIANGLE, nmin = 2, nmax = 3, names = sine_f;
    else if (kl == 5 && !strncmp(spec, "pulse", 5))
        kind = SS_WAVE_PULSE, nmin = 5, nmax = 5, names = pulse_f;
    else
        return ss_error_set(err, SS_EINVAL,
                            "wave '%s': unknown kind '%.*s' (sine, triangle or pulse)", spec,
                            (int)kl, spec);
    int nf = 0;
    const char *s = colon;
    while (s) {
        s++;
        const char *e = strchr(s, ':');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (nf >= nmax)
            return ss_error_set(err, SS_EINVAL, "wave '%s': too many fields (at most %d)", spec,
                                nmax);
        int rc = wave_field(s, n, names[nf], spec, &f[nf], err);
        if (rc)
            return rc;
        nf++;
        s = e;
    }
    if (nf < nmin)
        return ss_error_set(err, SS_EINVAL, "wave '%s': missing %s", spec, names[nf]);
    w->kind = kind;
    if (kind == SS_WAVE_PULSE) {
        w->v1 = f[0], w->v2 = f[1], w->width = f[2], w->period = f[3];
        if (!(w->width > 0))
            return ss_error_set(err, SS_EINVAL, "wave '%s': width must be positive", spec);
        if (!(w->period > w->width))
            return ss_error_set(err, SS_EINVAL, "wave '%s': period must exceed the width", spec);
        if (f[4] != floor(f[4]) || f[4] < 1 || f[4] > 1e6)
            return ss_error_set(err, SS_EINVAL, "wave '%s': count must be an integer >= 1",
                                spec);
        w->count = (int)f[4];
        w->edge = 0.01 * fmin(w->width, w->period - w->width);
        return SS_OK;
    }
    w->amp = f[0], w->freq = f[1], w->cycles = f[2];
    if (!(w->freq > 0))
        return ss_error_set(err, SS_EINVAL, "wave '%s': frequency must be positive", spec);
    if (!(w->cycles > 0) || w->cycles > 1e5)
        return ss_error_set(err, SS_EINVAL, "wave '%s': cycles must be in (0, 1e5]", spec);
    return SS_OK;
}

double ss_wave_period(const ss_wave *w)
{
    return w->kind == SS_WAVE_PULSE ? w->period : 1.0 / w->freq;
}

double ss_wave_duration(const ss_wave *w)
{
    return w->kind == SS_WAVE_PULSE ? w->count * w->period : w->cycles / w->freq;
}

double ss_wave_value(const ss_wave *w, double t)
{
    switch (w->kind) {
    case SS_WAVE_SINE: return w->amp * sin(2 * M_PI * w->freq * t);
    case SS_WAVE_TRIANGLE: {
        double ph = t * w->freq;
        ph -= floor(ph);
        if (ph < 0.25)
            return 4 * w->amp * ph;
        if (ph < 0.75)
            return w->amp * (2 - 4 * ph);
        return w->amp * (4 * ph - 4);
    }
    default: {
        double tau = fmod(t, w->period);
        if (tau < 0)
            tau += w->period;
        double e = w->edge;
        if (tau < e)
            return w->v1 + (w->v2 - w->v1) * tau / e;
        if (tau < e + w->width)
            return w->v2;
        if (tau < 2 * e + w->width)
            return w->v2 + (w->v1 - w->v2) * (tau - e - w->width) / e;
        return w->v1;
    }
    }
}

size_t ss_wave_corners(const ss_wave *w, double *t, size_t max)
{
    size_t n = 0;
    double T = ss_wave_duration(w);
    if (w->kind == SS_WAVE_SINE)
        return 0;
    if (w->kind == SS_WAVE_TRIANGLE) {
        double P = 1.0 / w->freq;
        for (long k = 0;; k++) {
            double a = (k + 0.25) * P, b = (k + 0.75) * P;
            if (a >= T * (1 - 1e-12))
                break;
            if (n < max)
                t[n] = a;
            n++;
            if (b >= T * (1 - 1e-12))
                break;
            if (n < max)
                t[n] = b;
            n++;
        }
        return n;
    }
    for (int k = 0; k < w->count; k++) {
        double b = k * w->period;
        double c[4] = {b, b + w->edge, b + w->edge + w->width, b + 2 * w->edge + w->width};
        for (int j = 0; j < 4; j++) {
            if (c[j] <= 0 || c[j] >= T * (1 - 1e-12))
                continue;
            if (n < max)
                t[n] = c[j];
            n++;
        }
    }
    return n;
}

int ss_wave_spice(const ss_wave *w, ss_buf *out)
{
    int rc = SS_OK;
    switch (w->kind) {
    case SS_WAVE_SINE:
        rc = ss_buf_printf(out, "SIN(0 %.17g %.17g 0 0 0)", w->amp, w->freq);
        break;
    case SS_WAVE_TRIANGLE: {
        double P = 1.0 / w->freq, T = ss_wave_duration(w);
        rc |= ss_buf_printf(out, "PWL(0 0");
        size_t nc = ss_wave_corners(w, NULL, 0);
        double *c = malloc((nc + 1) * sizeof *c);
        if (!c)
            return SS_ENOMEM;
        ss_wave_corners(w, c, nc);
        for (size_t k = 0; k < nc; k++)
            rc |= ss_buf_printf(out, " %.17g %.17g", c[k], ss_wave_value(w, c[k]));
        free(c);
        rc |= ss_buf_printf(out, " %.17g %.17g)", T, ss_wave_value(w, T));
        (void)P;
        break;
    }
    default:
        rc = ss_buf_printf(out, "PULSE(%.17g %.17g 0 %.17g %.17g %.17g %.17g)", w->v1, w->v2,
                           w->edge, w->edge, w->width, w->period);
        break;
    }
    return rc ? SS_ENOMEM : SS_OK;
}

/* ---- the device behind a series resistor ------------------------------------ */

void ss_devsim_trace_release(ss_devsim_trace *tr)
{
    if (!tr)
        return;
    free(tr->t);
    free(tr->vs);
    free(tr->v);
    free(tr->i);
    free(tr->x);
    memset(tr, 0, sizeof *tr);
}

static int check_options(const ss_device *d, const ss_wave *w, const ss_devsim_options *o,
                         ss_error *err)
{
    int rc = ss_device_validate(d, err);
    if (rc)
        return rc;
    if (!(o->series_r >= 0) || !isfinite(o->series_r))
        return ss_error_set(err, SS_EINVAL, "series resistance must be >= 0 ohm (got %g)",
                            o->series_r);
    if (o->points < 2 || o->points > 100000000)
        return ss_error_set(err, SS_EINVAL, "points must be in [2, 1e8] (got %zu)", o->points);
    if (o->rtol < 0 || o->atol < 0 || o->max_step < 0)
        return ss_error_set(err, SS_EINVAL, "tolerances and max step must be >= 0");
    if (!(ss_wave_duration(w) > 0) || !isfinite(ss_wave_duration(w)))
        return ss_error_set(err, SS_EINVAL, "wave has no duration");
    return SS_OK;
}

typedef struct devsim {
    const ss_device *d;
    const ss_wave *w;
    double r, T;
    ss_devsim_trace *tr;
    size_t n, next; /* output points, the next one to fill */
    int rc;
} devsim;

static double devsim_source(void *ctx, double t)
{
    const devsim *s = ctx;
    return ss_wave_value(s->w, t);
}

/* Output point j at time t in state x. */
static int devsim_point(devsim *s, size_t j, double t, double x)
{
    double vs = ss_wave_value(s->w, t), v;
    ss_device_eval ev;
    if (ss_device_series_voltage(s->d, s->r, vs, x, &v, &ev))
        return SS_ENUMERIC;
    s->tr->t[j] = t;
    s->tr->vs[j] = vs;
    s->tr->v[j] = v;
    s->tr->i[j] = ev.i;
    s->tr->x[j] = x;
    return SS_OK;
}

static double out_time(const devsim *s, size_t j)
{
    return j + 1 == s->n ? s->T : s->T * (double)j / (double)(s->n - 1);
}

/* The output points inside an accepted step, by Hermite interpolation. */
static int devsim_step(void *ctx, double ta, const double *xa, const double *fa, double tb,
                       const double *xb, const double *fb)
{
    devsim *s = ctx;
    while (s->next < s->n && out_time(s, s->next) <= tb) {
        double t = out_time(s, s->next);
        double x = t >= tb ? xb[0] : ss_device_hermite(ta, xa[0], fa[0], tb, xb[0], fb[0], t);
        if ((s->rc = devsim_point(s, s->next, t, x)))
            return s->rc;
        s->next++;
    }
    return 0;
}

int ss_devsim_run(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                  ss_devsim_trace *tr, ss_error *err)
{
    ss_devsim_trace_release(tr);
    int rc = check_options(d, w, opt, err);
    if (rc)
        return rc;
    size_t n = opt->points;
    double T = ss_wave_duration(w);
    devsim s = {d, w, opt->series_r, T, tr, n, 1, 0};
    tr->t = malloc(n * sizeof *tr->t);
    tr->vs = malloc(n * sizeof *tr->vs);
    tr->v = malloc(n * sizeof *tr->v);
    tr->i = malloc(n * sizeof *tr->i);
    tr->x = malloc(n * sizeof *tr->x);
    size_t nc = ss_wave_corners(w, NULL, 0);
    double *stops = malloc((nc + 1) * sizeof *stops);
    if (!tr->t || !tr->vs || !tr->v || !tr->i || !tr->x || !stops) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for %zu output points", n);
        goto out;
    }
    ss_wave_corners(w, stops, nc);
    stops[nc] = T; /* the final stop */
    double x = ss_device_x0(d);
    if (devsim_point(&s, 0, 0.0, x)) {
        rc = ss_error_set(err, SS_ENUMERIC, "non-finite device current at t = 0 s");
        goto out;
    }
    ss_device_circuit c = {1, d, 1, NULL, devsim_source, opt->series_r, NULL, &s};
    ss_device_integration o = SS_DEVICE_INTEGRATION_INIT;
    o.rtol = opt->rtol > 0 ? opt->rtol : 1e-8;
    o.atol = opt->atol > 0 ? opt->atol : 1e-10;
    o.hmax = opt->max_step > 0 ? opt->max_step : ss_wave_period(w) / 200;
    o.at_step = devsim_step;
    o.ctx = &s;
    ss_device_integration_stats st;
    rc = ss_device_integrate(&c, &o, 0.0, &x, NULL, stops, nc + 1, &st, err);
    if (s.rc)
        rc = ss_error_set(err, SS_ENUMERIC, "non-finite device current at t = %.6g s",
                          out_time(&s, s.next));
    else if (rc)
        rc = ss_error_prefix(err, rc, "device %s", d->type->name);
    if (rc)
        goto out;
    if (s.next < n && (rc = devsim_point(&s, n - 1, T, x))) { /* rounding at the end */
        rc = ss_error_set(err, SS_ENUMERIC, "non-finite device current at t = %.6g s", T);
        goto out;
    }
    tr->n = n;
    tr->steps = st.steps;
    tr->rhs_evals = st.solves;
out:
    free(stops);
    if (rc)
        ss_devsim_trace_release(tr);
    return rc;
}

int ss_devsim_write_csv(const ss_devsim_trace *tr, const char *path, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_printf(&b, "t,v,i,x\n");
    for (size_t k = 0; !rc && k < tr->n; k++)
        rc = ss_buf_printf(&b, "%.17g,%.17g,%.17g,%.17g\n", tr->t[k], tr->v[k], tr->i[k],
                           tr->x[k]);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory writing '%s'", path);
    else
        rc = ss_util_write_file_atomic(path, b.data, b.len, err);
    ss_buf_release(&b);
    return rc;
}

int ss_devsim_bench_tail(const char *drive, double series_r, double tstop, double hmax, ss_buf *out)
{
    int rc = ss_buf_printf(out, "Vsrc in 0 %s\n", drive);
    if (series_r > 0)
        rc |= ss_buf_printf(out, "Vsense in n1 0\nRs n1 te %.17g\n", series_r);
    else
        rc |= ss_buf_printf(out, "Vsense in te 0\n");
    rc |= ss_buf_printf(out, "X1 te 0 dut\n"
                             ".options reltol=1e-6 abstol=1e-15 vntol=1e-10 chgtol=1e-20 "
                             "method=gear maxord=2 itl4=100\n");
    rc |= ss_buf_printf(out, ".tran %.17g %.17g 0 %.17g uic\n.end\n", hmax, tstop, hmax);
    return rc ? SS_ENOMEM : SS_OK;
}

int ss_devsim_netlist(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                      ss_buf *out, ss_error *err)
{
    int rc = check_options(d, w, opt, err);
    if (rc)
        return rc;
    double T = ss_wave_duration(w);
    double hmax = opt->max_step > 0 ? opt->max_step : ss_wave_period(w) / 2000;
    size_t mark = out->len;
    ss_buf drive = SS_BUF_INIT;
    rc |= ss_buf_printf(out, "smallsim device %s driven by a %s wave\n", d->type->name,
                        w->kind == SS_WAVE_SINE       ? "sine"
                        : w->kind == SS_WAVE_TRIANGLE ? "triangle"
                                                      : "pulse");
    if (rc || (rc = ss_device_write_spice(d, "dut", out, err)))
        goto fail;
    if (ss_wave_spice(w, &drive) || ss_devsim_bench_tail(drive.data, opt->series_r, T, hmax, out)) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory writing the deck");
        goto fail;
    }
    ss_buf_release(&drive);
    return SS_OK;
fail:
    ss_buf_release(&drive);
    out->len = mark;
    if (out->data)
        out->data[mark] = 0;
    return rc;
}

/* Linear interpolation of (tx, y) at t; tx ascending. */
static double interp(const double *tx, const double *y, size_t n, size_t *hint, double t)
{
    size_t k = *hint;
    while (k + 1 < n && tx[k + 1] < t)
        k++;
    *hint = k;
    if (k + 1 >= n)
        return y[n - 1];
    double dt = tx[k + 1] - tx[k];
    if (dt <= 0 || t <= tx[k])
        return y[k];
    double a = (t - tx[k]) / dt;
    return y[k] + a * (y[k + 1] - y[k]);
}

int ss_devsim_bench_sample(ss_engine *eng, const char *deck, const char *xnode, const double *t,
                           size_t n, ss_devsim_trace *tr, ss_error *err)
{
    ss_devsim_trace_release(tr);
    ss_result res = SS_RESULT_INIT;
    int rc = ss_engine_run_text(eng, deck, "device.cir", 0, &res, err);
    if (rc)
        goto out;
    const ss_vector *vt = ss_result_find(&res, "time"), *vi = ss_result_find(&res, "i(vsense)");
    const ss_vector *vx = ss_result_find(&res, xnode), *vv = ss_result_find(&res, "v(te)");
    const ss_vector *vs = ss_result_find(&res, "v(in)");
    if (!vt || !vi || !vv || !vs || vt->n < 2) {
        rc = ss_error_set(err, SS_ESIM, "ngspice result lacks time, i(vsense), v(te) or v(in)");
        goto out;
    }
    tr->t = malloc((n ? n : 1) * sizeof *tr->t);
    tr->vs = malloc((n ? n : 1) * sizeof *tr->vs);
    tr->v = malloc((n ? n : 1) * sizeof *tr->v);
    tr->i = malloc((n ? n : 1) * sizeof *tr->i);
    tr->x = malloc((n ? n : 1) * sizeof *tr->x);
    if (!tr->t || !tr->vs || !tr->v || !tr->i || !tr->x) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for %zu output points", n);
        goto out;
    }
    size_t h1 = 0, h2 = 0, h3 = 0, h4 = 0;
    for (size_t j = 0; j < n; j++) {
        tr->t[j] = t[j];
        tr->i[j] = interp(vt->re, vi->re, vt->n, &h1, t[j]);
        tr->x[j] = vx ? interp(vt->re, vx->re, vt->n, &h2, t[j]) : NAN;
        tr->v[j] = interp(vt->re, vv->re, vt->n, &h3, t[j]);
        tr->vs[j] = interp(vt->re, vs->re, vt->n, &h4, t[j]);
    }
    tr->n = n;
    tr->steps = (long)vt->n;
out:
    if (rc)
        ss_devsim_trace_release(tr);
    ss_result_release(&res);
    return rc;
}

int ss_devsim_run_spice(ss_engine *eng, const ss_device *d, const ss_wave *w,
                        const ss_devsim_options *opt, ss_devsim_trace *tr, ss_error *err)
{
    ss_devsim_trace_release(tr);
    ss_buf deck = SS_BUF_INIT;
    size_t n = opt->points;
    double T = ss_wave_duration(w), *t = NULL;
    int rc = ss_devsim_netlist(d, w, opt, &deck, err);
    if (!rc && !(t = malloc((n ? n : 1) * sizeof *t)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for %zu output points", n);
    for (size_t j = 0; !rc && j < n; j++)
        t[j] = j + 1 == n ? T : T * (double)j / (double)(n - 1);
    if (!rc)
        rc = ss_devsim_bench_sample(eng, deck.data, "v(x1.xs)", t, n, tr, err);
    if (!rc && isnan(tr->x[0])) {
        ss_devsim_trace_release(tr);
        rc = ss_error_set(err, SS_ESIM, "ngspice result lacks v(x1.xs)");
    }
    free(t);
    ss_buf_release(&deck);
    return rc;
}

double ss_devsim_nrmse(const double *a, const double *b, size_t n)
{
    if (n == 0)
        return 0.0;
    double lo = b[0], hi = b[0], ss = 0;
    for (size_t k = 0; k < n; k++) {
        lo = fmin(lo, b[k]);
        hi = fmax(hi, b[k]);
        ss += (a[k] - b[k]) * (a[k] - b[k]);
    }
    double rms = sqrt(ss / (double)n);
    return hi > lo ? rms / (hi - lo) : rms;
}
