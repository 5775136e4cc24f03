/* mixed.c: a network of transistor-level DPI neurons and a memristive
 * crossbar, simulated two ways on the same circuit:
 *   - full SPICE: neurons, crossbar (the devices' subcircuits), read-pulse
 *     drivers and current mirrors all in one ngspice deck;
 *   - co-simulation: only the neurons are in ngspice (one circuit, a SPICE
 *     tile); the crossbar is solved in C and feeds the output neurons through
 *     EXTERNAL current sources whose values follow the input neurons' spikes.
 * Each input neuron drives its word line with a read pulse while it is
 * refractory (a smooth comparator on its reset node vrst, high for the
 * refractory period after each spike; the spike output itself lasts only
 * nanoseconds); each bit-line current, scaled by an ideal mirror, is the
 * input current of one output neuron.  Spikes are the rising edges of vrst. */
#include "circuits/ss_circuits.h"
#include "circuits/circuits_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The word-line drive as a function of a spike node's voltage, the same in
 * C and in the ngspice expression below. */
static double drive(double v_read, double vspk, double vdd)
{
    return v_read / (1 + exp(-(vspk - 0.5 * vdd) / 0.02));
}

/* Word line i's read pulse at time t for spike-train inputs: a trapezoid
 * after the last spike at or before t. */
static double pulse(const ss_circuit_mixed *s, size_t i, double t)
{
    const double *ts = s->in_times[i];
    size_t lo = 0, hi = s->in_count[i]; /* first spike after t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ts[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return 0;
    double dt = t - ts[lo - 1], te = s->t_edge, tp = s->t_pulse;
    if (dt < te)
        return s->v_read * dt / te;
    if (dt <= te + tp)
        return s->v_read;
    if (dt < 2 * te + tp)
        return s->v_read * (1 - (dt - te - tp) / te);
    return 0;
}

struct cosim {
    const ss_circuit_mixed *spec;
    size_t k0;        /* first neuron in the circuit (n_in with spike trains) */
    double vdd;
    double *t1;       /* T[i][j]: column j's current per volt on word line i */
    double *vw;       /* reset-node voltage of each input neuron at the last two */
    double *vw_prev;  /* accepted points (vw: the latest), for extrapolation */
    double tw, tw_prev;
    size_t *ispk;     /* index of each neuron's spike node in the points */
    int have_idx;
    double *prev_v, prev_t;
    int started;
    ss_circuit_mixed_result *res;
    int oom;
};

static int add_spike(ss_circuit_mixed_result *r, double t, size_t k)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        double *t2 = realloc(r->t, cap * sizeof *t2);
        if (!t2)
            return SS_ENOMEM;
        r->t = t2;
        size_t *n2 = realloc(r->neuron, cap * sizeof *n2);
        if (!n2)
            return SS_ENOMEM;
        r->neuron = n2;
        r->cap = cap;
    }
    r->t[r->n] = t;
    r->neuron[r->n++] = k;
    return SS_OK;
}

static int co_source(void *user, const char *name, double t, double *value)
{
    struct cosim *c = user;
    const ss_circuit_mixed *s = c->spec;
    if (strncmp(name, "iext", 4) != 0)
        return 1;
    size_t j = strtoul(name + 4, NULL, 10);
    if (j >= s->n_out)
        return 1;
    if (s->in_times) {
        double cur = 0;
        for (size_t i = 0; i < s->n_in; i++)
            cur += pulse(s, i, t) * c->t1[i * s->n_out + j];
        *value = s->gain * cur;
        return 0;
    }
    /* The reset nodes are known at accepted points only; extrapolate them
     * linearly to t (the comparator saturates, so overshoot is harmless):
     * a read pulse then starts at its edge, not one step late. */
    double slope_dt = c->tw - c->tw_prev, cur = 0;
    for (size_t i = 0; i < s->n_in; i++) {
        double v = c->vw[i];
        if (slope_dt > 0 && t > c->tw)
            v += (c->vw[i] - c->vw_prev[i]) / slope_dt * (t - c->tw);
        v = fmin(fmax(v, 0), c->vdd);
        cur += drive(s->v_read, v, c->vdd) * c->t1[i * s->n_out + j];
    }
    /* the read drivers ramp up over the first microsecond, as the inputs do,
     * so the operating point is the network at rest in both simulations */
    *value = s->gain * cur * fmin(1.0, t / 1e-6);
    return 0;
}

static int co_accept(void *user, const ss_engine_point *pt)
{
    struct cosim *c = user;
    const ss_circuit_mixed *s = c->spec;
    size_t n = s->n_in + s->n_out;
    if (!c->have_idx) {
        for (size_t k = c->k0; k < n; k++) {
            char want[32];
            snprintf(want, sizeof want, "x%zu.vrst", k);
            c->ispk[k] = SIZE_MAX;
            for (size_t q = 0; q < pt->n; q++)
                if (!strcmp(pt->names[q], want) || !strcasecmp(pt->names[q], want))
                    c->ispk[k] = q;
            if (c->ispk[k] == SIZE_MAX)
                return 1;
        }
        c->have_idx = 1;
    }
    double level = 0.5 * c->vdd;
    for (size_t k = c->k0; k < n; k++) {
        double v = pt->values[c->ispk[k]];
        if (c->started && c->prev_v[k] < level && v >= level) {
            double f = (level - c->prev_v[k]) / (v - c->prev_v[k]);
            if (add_spike(c->res, c->prev_t + f * (pt->t - c->prev_t), k)) {
                c->oom = 1;
                return 1;
            }
        }
        c->prev_v[k] = v;
        if (k < s->n_in && !s->in_times) {
            c->vw_prev[k] = c->vw[k];
            c->vw[k] = v;
        }
    }
    c->tw_prev = c->started ? c->tw : pt->t;
    c->tw = pt->t;
    c->prev_t = pt->t;
    c->started = 1;
    c->res->points++;
    return 0;
}

static double co_max_step(void *user, double t)
{
    struct cosim *c = user;
    (void)t;
    return c->spec->tmax;
}

/* Models, the DPI subcircuit, supplies and biases, and neurons k0 .. n-1
 * whose input current goes into node vin_<k> (the neuron's input, pushed
 * in); the caller adds the input sources. */
static int write_neurons(const ss_circuit_config *cfg, size_t k0, size_t n, ss_buf *out,
                         ss_error *err)
{
    int rc = circi_models(cfg, out, err);
    if (rc || (rc = circi_subckt(out, cfg, err)) || (rc = circi_supplies(cfg, out, err)))
        return rc;
    for (size_t k = k0; !rc && k < n; k++)
        rc = ss_buf_printf(out, "x%zu vdd 0 vin_%zu vmem_%zu vspk_%zu vtau vth vrefb vca vtauahp %s\n",
                           k, k, k, k, cfg->info->subckt);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}

int ss_circuit_tile(const ss_circuit_config *cfg, size_t n, ss_buf *body, char ***spikes,
                    ss_error *err)
{
    *spikes = NULL;
    if (!cfg->info || strcmp(cfg->info->name, "dpi-neuron") != 0)
        return ss_error_set(err, SS_EINVAL, "SPICE tiles are built from 'dpi-neuron'");
    int rc = ss_util_limit_check(SS_LIMIT_SPICE_NEURONS, (double)n, err, "a SPICE tile of %zu neurons", n);
    if (!rc)
        rc = write_neurons(cfg, 0, n, body, err);
    for (size_t k = 0; !rc && k < n; k++)
        if (ss_buf_printf(body, "iext%zu vddb vin_%zu external\n", k, k))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    char **v = rc ? NULL : calloc(n + 1, sizeof *v);
    if (!rc && !v)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        v[k] = malloc(32);
        if (!v[k])
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else
            snprintf(v[k], 32, "v(x%zu.vrst)", k);
    }
    if (rc && v) {
        for (size_t k = 0; k < n; k++)
            free(v[k]);
        free(v);
        v = NULL;
    }
    *spikes = v;
    return rc;
}

/* Word line i's PWL source text for spike-train inputs (the same trapezoids
 * as pulse()). */
static int pwl_source(const ss_circuit_mixed *s, size_t i, ss_buf *out)
{
    double last = 0, te = s->t_edge, tp = s->t_pulse;
    int rc = ss_buf_printf(out, "PWL(0 0");
    for (size_t q = 0; !rc && q < s->in_count[i]; q++) {
        double ts = s->in_times[i][q];
        if (ts > last)
            rc = ss_buf_printf(out, " %.17g 0", ts);
        if (!rc)
            rc = ss_buf_printf(out, " %.17g %.17g %.17g %.17g %.17g 0", ts + te, s->v_read,
                               ts + te + tp, s->v_read, ts + 2 * te + tp);
        last = ts + 2 * te + tp;
    }
    return rc ? rc : ss_buf_printf(out, ")");
}

/* The neurons, their biases and inputs; with `full`, the crossbar too. */
static int write_deck(const ss_circuit_config *cfg, const ss_circuit_mixed *s, int full, ss_buf *out,
                      ss_error *err)
{
    size_t n = s->n_in + s->n_out, k0 = s->in_times ? s->n_in : 0;
    int rc = ss_buf_printf(out, "* smallsim mixed network: %zu %s + %zu DPI neurons, %s\n", s->n_in,
                           s->in_times ? "spike-train inputs" : "DPI neurons", s->n_out,
                           full ? "full SPICE" : "co-simulation tile");
    if (rc)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if ((rc = write_neurons(cfg, k0, n, out, err)))
        return rc;
    for (size_t k = k0; !rc && k < n; k++) {
        if (k < s->n_in)
            rc = ss_buf_printf(out, "iin%zu vddb vin_%zu PWL(0 0 1u %.6g)\n", k, k, s->i_in[k]);
        else if (full)
            rc = ss_buf_printf(out, "bmir%zu vddb vin_%zu I = %.17g * i(vsense%zu)\n", k - s->n_in, k,
                               s->gain, k - s->n_in);
        else
            rc = ss_buf_printf(out, "iext%zu vddb vin_%zu external\n", k - s->n_in, k);
    }
    if (rc)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (full) {
        ss_buf sub = SS_BUF_INIT, *src = NULL;
        char **ex = calloc(s->n_in, sizeof *ex);
        rc = ex ? ss_device_write_spice(s->cell, "cell", &sub, err) : SS_ENOMEM;
        if (!rc && s->in_times && !(src = calloc(s->n_in, sizeof *src)))
            rc = SS_ENOMEM;
        for (size_t i = 0; !rc && i < s->n_in; i++) {
            if (s->in_times) {
                rc = pwl_source(s, i, &src[i]);
                ex[i] = src[i].data;
                continue;
            }
            ex[i] = malloc(160);
            if (!ex[i])
                rc = SS_ENOMEM;
            else
                snprintf(ex[i], 160, "%.17g*min(1, time/1e-6)/(1 + exp(-(v(x%zu.vrst) - %.17g)/0.02))",
                         s->v_read, i, 0.5 * cfg->vdd);
        }
        const char *const *cex = (const char *const *)ex;
        ss_netlist_crossbar nx = {s->n_in, s->n_out, s->xb.rwire, s->xb.rsource, s->xb.rsense,
                                  NULL, sub.data, "cell", NULL, s->x0, s->in_times ? cex : NULL,
                                  NULL, NULL, NULL, s->in_times ? NULL : cex, 1};
        if (!rc)
            rc = ss_netlist_crossbar_write(&nx, out, err);
        for (size_t i = 0; ex && i < s->n_in; i++)
            if (src)
                ss_buf_release(&src[i]);
            else
                free(ex[i]);
        free(src);
        free(ex);
        ss_buf_release(&sub);
        if (rc)
            return rc == SS_ENOMEM ? ss_error_set(err, rc, "out of memory") : rc;
    }
    rc = ss_buf_printf(out, ".options reltol=%g abstol=1e-15 chgtol=1e-17 gmin=1e-15\n.save",
                       s->reltol > 0 ? s->reltol : 1e-5);
    for (size_t k = k0; !rc && k < n; k++)
        rc = ss_buf_printf(out, " v(x%zu.vrst)", k);
    if (!rc)
        rc = ss_buf_printf(out, "\n.tran %.6g %.6g 0 %.6g\n.end\n", s->tmax, s->tstop, s->tmax);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}

void ss_circuit_mixed_result_release(ss_circuit_mixed_result *r)
{
    free(r->t);
    free(r->neuron);
    memset(r, 0, sizeof *r);
}

/* T[i][j]: column j's current per volt on word line i.  Reads stay below
 * the device thresholds, so the crossbar is linear and rows superpose. */
static int transfer(const ss_circuit_mixed *s, double *t1, ss_error *err)
{
    size_t nc = s->n_in * s->n_out;
    double *g = malloc(nc * sizeof *g), *v = calloc(s->n_in, sizeof *v);
    double *iout = malloc(s->n_out * sizeof *iout);
    ss_crossbar *xb = NULL;
    int rc = g && v && iout ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < nc; k++)
        g[k] = ss_device_conductance(s->cell, s->x0 ? s->x0[k] : ss_device_x0(s->cell), s->v_read);
    if (!rc && !(xb = ss_crossbar_alloc(&s->xb, err)))
        rc = err ? err->code : SS_EINVAL;
    for (size_t i = 0; !rc && i < s->n_in; i++) {
        v[i] = 1;
        rc = ss_crossbar_dc(xb, g, v, iout, err);
        v[i] = 0;
        for (size_t j = 0; !rc && j < s->n_out; j++)
            t1[i * s->n_out + j] = iout[j];
    }
    ss_crossbar_free(xb);
    free(g);
    free(v);
    free(iout);
    return rc;
}

/* Spikes of neurons x<k0> .. x<n-1> of a result (rising edges of vrst). */
static int vector_spikes(const ss_result *out, size_t k0, size_t n, double level,
                         ss_circuit_mixed_result *res, ss_error *err)
{
    const ss_vector *tv = ss_result_find(out, "time");
    for (size_t k = k0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "v(x%zu.vrst)", k);
        const ss_vector *vv = ss_result_find(out, name);
        if (!tv || !vv)
            return ss_error_set(err, SS_ESIM, "mixed network: no vector '%s'", name);
        double times[4096];
        size_t m = ss_circuit_spike_times(tv->re, vv->re, tv->n, level, times, 4096);
        for (size_t q = 0; q < m; q++)
            if (add_spike(res, times[q], k))
                return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    res->points += tv ? (long)tv->n : 0;
    return SS_OK;
}

int ss_circuit_mixed_run(ss_engine *eng, const ss_circuit_config *cfg, const ss_circuit_mixed *s,
                         int full, ss_circuit_mixed_result *res, ss_error *err)
{
    memset(res, 0, sizeof *res);
    if (!cfg->info || strcmp(cfg->info->name, "dpi-neuron") != 0)
        return ss_error_set(err, SS_EINVAL, "mixed network: the neurons must be 'dpi-neuron'");
    if (!s->n_in || !s->n_out || !(s->i_in || s->in_times) || !s->cell || !(s->tstop > 0) ||
        !(s->tmax > 0))
        return ss_error_set(err, SS_EINVAL, "mixed network: incomplete specification");
    if (s->in_times) {
        if (!s->in_count || !(s->t_pulse > 0) || !(s->t_edge > 0))
            return ss_error_set(err, SS_EINVAL,
                                "mixed network: spike-train inputs need counts, t_pulse and t_edge > 0");
        for (size_t i = 0; i < s->n_in; i++)
            for (size_t q = 0; q < s->in_count[i]; q++) {
                double ts = s->in_times[i][q];
                if (!isfinite(ts) || ts < 0 ||
                    (q && ts < s->in_times[i][q - 1] + s->t_pulse + 2 * s->t_edge))
                    return ss_error_set(err, SS_EINVAL,
                                        "mixed network: input %zu spike %zu at %g s is negative, "
                                        "not increasing or inside the previous read pulse",
                                        i, q, ts);
            }
    }
    size_t n = s->n_in + s->n_out, nc = s->n_in * s->n_out, k0 = s->in_times ? s->n_in : 0;
    ss_buf deck = SS_BUF_INIT;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result out = SS_RESULT_INIT;
    struct cosim c = {s, k0, cfg->vdd, NULL, NULL, NULL, 0, 0, NULL, 0, NULL, 0, 0, res, 0};
    double t0 = ss_util_now();
    int rc = write_deck(cfg, s, full, &deck, err);
    if (!rc)
        rc = ss_netlist_read_string(&nl, deck.data, full ? "mixed-full.cir" : "mixed-tile.cir", NULL,
                                    0, err);
    if (!rc && !full) {
        /* column currents per volt on each word line: reads stay below the
         * device thresholds, so the crossbar is linear and rows superpose */
        c.t1 = malloc(nc * sizeof *c.t1);
        c.vw = calloc(s->n_in, sizeof *c.vw);
        c.vw_prev = calloc(s->n_in, sizeof *c.vw_prev);
        c.ispk = malloc(n * sizeof *c.ispk);
        c.prev_v = calloc(n, sizeof *c.prev_v);
        if (!rc && !c.t1)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        if (!rc)
            rc = transfer(s, c.t1, err);
        /* ngspice lands on every corner of the read pulses, as it does on
         * the PWL sources' corners in the full simulation */
        for (size_t i = 0; !rc && s->in_times && i < s->n_in; i++)
            for (size_t q = 0; !rc && q < s->in_count[i]; q++) {
                double ts = s->in_times[i][q];
                double corner[4] = {ts, ts + s->t_edge, ts + s->t_edge + s->t_pulse,
                                    ts + 2 * s->t_edge + s->t_pulse};
                for (int m = 0; !rc && m < 4; m++)
                    if (corner[m] < s->tstop && ss_engine_breakpoint(eng, corner[m]))
                        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            }
        ss_engine_hooks hooks = {co_source, co_accept, co_max_step, &c};
        ss_engine_set_hooks(eng, &hooks);
    }
    if (!rc)
        rc = ss_engine_load(eng, &nl, err);
    if (!rc)
        rc = ss_engine_run(eng, &out, err);
    if (!full)
        ss_engine_set_hooks(eng, NULL);
    if (!rc && c.oom)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc && full)
        rc = vector_spikes(&out, k0, n, 0.5 * cfg->vdd, res, err);
    res->seconds = ss_util_now() - t0;
    ss_result_release(&out);
    ss_netlist_release(&nl);
    ss_buf_release(&deck);
    free(c.t1);
    free(c.vw);
    free(c.vw_prev);
    free(c.ispk);
    free(c.prev_v);
    if (rc)
        ss_circuit_mixed_result_release(res);
    return rc;
}
