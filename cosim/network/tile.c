/* tile.c: SPICE tiles: transistor-level neurons in one ngspice circuit
 * that runs alongside the network. */
#include "cosim/network/network_private.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int ss_network_add_spice(ss_network *net, const char *name, size_t n, const char *body,
                         const char *const *spikes, double threshold, double tau_syn, double tmax,
                         size_t *pop, ss_error *err)
{
    struct pop *p;
    int rc;
    for (size_t q = 0; q < net->npops; q++)
        if (net->pops[q].kind == SS_POP_SPICE)
            return ss_error_set(err, SS_EINVAL, "network: one SPICE tile per network (one engine per process)");
    if (!body || !spikes || !isfinite(threshold) || !(tau_syn > 0) || !(tmax > 0))
        return ss_error_set(err, SS_EINVAL, "network: a SPICE tile needs a body, spike vectors, "
                                            "tau_syn > 0 and tmax > 0");
    if ((rc = neti_add_pop(net, name, n, SS_POP_SPICE, pop, &p, err)))
        return rc;
    p->tile_threshold = threshold;
    p->tile_tau = tau_syn;
    p->tile_tmax = tmax;
    p->tile_body = strdup(body);
    p->tile_spikes = calloc(n, sizeof *p->tile_spikes);
    if (!p->tile_body || !p->tile_spikes)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++)
        if (!(p->tile_spikes[k] = strdup(spikes[k])))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    return SS_OK;
}

/* ---- SPICE tiles -----------------------------------------------------------
 * The tile's neurons run in one ngspice circuit for the whole run; the
 * network advances inside the engine's accept hook whenever ngspice's
 * accepted time passes an exchange point.  Each neuron's input is an
 * EXTERNAL current source: its bias plus an exponential synaptic current,
 * a pure function of time and of the state committed at the last exchange
 * point, so ngspice's trial steps and Newton iterations see consistent
 * values.  A breakpoint at every exchange point makes ngspice land on the
 * input jumps. */

struct tile_run {
    ss_network *net;
    const ss_network_options *opt;
    double tstop, t_begin, prev_t;
    long last;
    size_t *idx;     /* spike vector index per tile neuron */
    double *prev;    /* its value at the previous accepted point */
    double *tspk;    /* spikes between two accepted points: times ... */
    size_t *kspk;    /* ... and neurons (each neuron crosses at most once: n of each) */
    int have_idx, started, failed;
    ss_error err;
};

struct pop *neti_tile_pop(ss_network *net)
{
    for (size_t p = 0; p < net->npops; p++)
        if (net->pops[p].kind == SS_POP_SPICE)
            return &net->pops[p];
    return NULL;
}

static int tile_source(void *user, const char *name, double t, double *value)
{
    struct tile_run *tr = user;
    struct pop *p = neti_tile_pop(tr->net);
    if (strncmp(name, "iext", 4) != 0)
        return 1;
    size_t k = strtoul(name + 4, NULL, 10);
    if (k >= p->n)
        return 1;
    double *x = tr->net->xstate + p->soff + 3 * k; /* [i_syn at tb, tb] */
    double dt = t - x[1];
    /* the bias ramps up over the first microsecond, so the operating point
     * is the circuit at rest (a DC input can hold a spiking neuron in a
     * fixed point) */
    *value = p->bias[k] * fmin(1.0, t / 1e-6) + x[0] * (dt > 0 ? exp(-dt / p->tile_tau) : 1.0);
    return 0;
}

static double tile_max_step(void *user, double t)
{
    struct tile_run *tr = user;
    double next = (tr->net->step + 1) * tr->net->h;
    double hmax = neti_tile_pop(tr->net)->tile_tmax;
    return next - t > 1e-15 ? fmin(hmax, next - t) : hmax;
}

static int tile_accept(void *user, const ss_engine_point *pt)
{
    struct tile_run *tr = user;
    ss_network *net = tr->net;
    struct pop *p = neti_tile_pop(net);
    if (tr->failed)
        return 1;
    if (!tr->have_idx) {
        for (size_t k = 0; k < p->n; k++) {
            const char *want = p->tile_spikes[k];
            size_t wl = strlen(want);
            /* "v(x0.vrst)" arrives as "x0.vrst" */
            if (wl > 3 && (want[0] == 'v' || want[0] == 'V') && want[1] == '(' && want[wl - 1] == ')')
                want += 2, wl -= 3;
            tr->idx[k] = SIZE_MAX;
            for (size_t q = 0; q < pt->n; q++)
                if (strlen(pt->names[q]) == wl && !strncasecmp(pt->names[q], want, wl))
                    tr->idx[k] = q;
            if (tr->idx[k] == SIZE_MAX) {
                ss_error_set(&tr->err, SS_ENOTFOUND, "network: no vector '%s' in the SPICE tile",
                             p->tile_spikes[k]);
                tr->failed = 1;
                return 1;
            }
        }
        tr->have_idx = 1;
    }
    /* spikes between the previous and this accepted point, in time order
     * with the exchange points they straddle */
    double *tspk = tr->tspk;
    size_t *kspk = tr->kspk, ns = 0;
    for (size_t k = 0; k < p->n; k++) {
        double v = pt->values[tr->idx[k]];
        if (tr->started && tr->prev[k] < p->tile_threshold && v >= p->tile_threshold) {
            double f = (p->tile_threshold - tr->prev[k]) / (v - tr->prev[k]);
            tspk[ns] = tr->prev_t + f * (pt->t - tr->prev_t);
            net->tile_bracket = fmax(net->tile_bracket, pt->t - tr->prev_t);
            kspk[ns++] = k;
        }
        tr->prev[k] = v;
    }
    for (size_t a = 1; a < ns; a++) /* insertion sort by time */
        for (size_t b = a; b > 0 && tspk[b] < tspk[b - 1]; b--) {
            double td = tspk[b];
            tspk[b] = tspk[b - 1], tspk[b - 1] = td;
            size_t kd = kspk[b];
            kspk[b] = kspk[b - 1], kspk[b - 1] = kd;
        }
    size_t next = 0;
    double h = net->h, eps = 1e-9 * h;
    while ((net->step + 1) * h <= pt->t + eps && net->t < tr->tstop - 1e-12 * h) {
        double tb = (net->step + 1) * h;
        for (; next < ns && tspk[next] < tb; next++)
            if (neti_record_spike(net, tspk[next], p->gid0 + kspk[next]) ||
                (p->nspikes++, 0)) {
                tr->failed = 1;
                return 1;
            }
        if (neti_step_once(net, &tr->err) ||
            neti_report(net, tr->opt, tr->t_begin, tr->tstop, &tr->last, &tr->err)) {
            tr->failed = 1;
            return 1;
        }
    }
    for (; next < ns; next++) {
        if (neti_record_spike(net, tspk[next], p->gid0 + kspk[next])) {
            tr->failed = 1;
            return 1;
        }
        p->nspikes++;
    }
    tr->prev_t = pt->t;
    tr->started = 1;
    return 0;
}

int neti_run_tile(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err)
{
    struct pop *p = neti_tile_pop(net);
    if (!opt->engine)
        return ss_error_set(err, SS_EINVAL, "network: a SPICE tile needs an engine (options.engine)");
    if (net->t > 0)
        return ss_error_set(err, SS_EINVAL, "network: a run with a SPICE tile cannot be continued");
    ss_buf deck = SS_BUF_INIT;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    struct tile_run tr = {net, opt, tstop, net->t, 0, -1, NULL, NULL, NULL, NULL, 0, 0, 0, {0, ""}};
    tr.idx = malloc(p->n * sizeof *tr.idx);
    tr.prev = calloc(p->n, sizeof *tr.prev);
    tr.tspk = malloc(p->n * sizeof *tr.tspk);
    tr.kspk = malloc(p->n * sizeof *tr.kspk);
    int rc = tr.idx && tr.prev && tr.tspk && tr.kspk ? SS_OK
                                                     : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = ss_buf_printf(&deck, "* smallsim network: SPICE tile '%s'\n%s\n.save", p->name, p->tile_body);
    for (size_t k = 0; !rc && k < p->n; k++)
        rc = ss_buf_printf(&deck, " %s", p->tile_spikes[k]);
    if (!rc)
        rc = ss_buf_printf(&deck, "\n.tran %.17g %.17g 0 %.17g\n.end\n", p->tile_tmax, tstop, p->tile_tmax);
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory");
    if (!rc)
        rc = ss_netlist_read_string(&nl, deck.data, p->name, NULL, 0, err);
    /* breakpoints on every exchange point: the inputs jump there */
    for (long k = 1; !rc && k * net->h < tstop; k++)
        rc = ss_engine_breakpoint(opt->engine, k * net->h);
    ss_engine_hooks hooks = {tile_source, tile_accept, tile_max_step, &tr};
    if (!rc) {
        ss_engine_set_hooks(opt->engine, &hooks);
        rc = ss_engine_load(opt->engine, &nl, err);
        if (!rc)
            rc = ss_engine_run(opt->engine, &res, err);
        ss_engine_set_hooks(opt->engine, NULL);
        if (tr.failed)
            rc = ss_error_set(err, tr.err.code ? tr.err.code : SS_ESIM, "%s",
                              tr.err.msg[0] ? tr.err.msg : "network: the SPICE tile failed");
    }
    /* the last exchange points after ngspice's final accepted time */
    while (!rc && net->t < tstop - 1e-12 * net->h)
        rc = neti_step_once(net, err);
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_buf_release(&deck);
    free(tr.idx);
    free(tr.prev);
    free(tr.tspk);
    free(tr.kspk);
    return rc;
}
