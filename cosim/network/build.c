/* build.c: building a network: populations, synapse lists, static
 * crossbars, state recording and current steps.  Everything here happens
 * before the first run. */
#include "cosim/network/network_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

ss_network *ss_network_alloc(ss_error *err)
{
    ss_network *net = calloc(1, sizeof *net);
    if (!net)
        ss_error_set(err, SS_ENOMEM, "out of memory");
    return net;
}

void ss_network_free(ss_network *net)
{
    if (!net)
        return;
    neti_free_solver(net);
    for (size_t p = 0; p < net->npops; p++) {
        free(net->pops[p].bias);
        free(net->pops[p].next);
        free(net->pops[p].tid);
        free(net->pops[p].ttime);
        free(net->pops[p].tile_body);
        for (size_t k = 0; net->pops[p].tile_spikes && k < net->pops[p].n; k++)
            free(net->pops[p].tile_spikes[k]);
        free(net->pops[p].tile_spikes);
        if (net->pops[p].rng)
            gsl_rng_free(net->pops[p].rng);
        neti_rk_free(net->pops[p].rk);
    }
    free(net->pops);
    free(net->rk_in.off);
    free(net->rk_in.t);
    free(net->rk_in.w);
    free(net->rk_ev);
    free(net->rk_spk.s);
    free(net->syns);
    free(net->out_off);
    free(net->out_tgt);
    free(net->out_w);
    free(net->run_off);
    free(net->run_end);
    free(net->run_d);
    free(net->ring);
    free(net->isyn_ptr);
    free(net->xstate);
    free(net->t_free);
    free(net->pending);
    free(net->tspike);
    free(net->ref_until);
    free(net->yprev);
    free(net->cross);
    free(net->root_gid);
    free(net->sp_t);
    free(net->sp_gid);
    for (size_t k = 0; k < net->nmx; k++) {
        struct memx *m = &net->mx[k];
        free(m->dev);
        free(m->fault);
        free(m->x);
        free(m->pos);
        free(m->pre_tr);
        free(m->pre_t);
        free(m->post_tr);
        free(m->post_t);
        if (m->rng)
            gsl_rng_free(m->rng);
    }
    free(net->mx);
    free(net->steps_in);
    free(net->samples);
    free(net->st_t);
    free(net->st_v);
    free(net->st_k);
    free(net);
}

/* ---- building ------------------------------------------------------------- */

int neti_add_pop(ss_network *net, const char *name, size_t n, int kind, size_t *index,
                 struct pop **out, ss_error *err)
{
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: populations must be added before the run");
    if (!name || !*name || strlen(name) >= sizeof net->pops[0].name)
        return ss_error_set(err, SS_EINVAL, "network: population names are 1 to 63 characters");
    /* names end up in CSV columns, JSON strings and SPICE comments */
    if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
        return ss_error_set(err, SS_EINVAL,
                            "network: population name '%s' may only use letters, digits, '_', '.' and '-'",
                            name);
    if (n == 0 || n > 100000000)
        return ss_error_set(err, SS_EINVAL, "network: population '%s' needs 1 to 1e8 neurons", name);
    if (net->nneurons + n > UINT32_MAX)
        return ss_error_set(err, SS_EINVAL, "network: more than %lu neurons in all", (unsigned long)UINT32_MAX);
    for (size_t p = 0; p < net->npops; p++)
        if (!strcmp(net->pops[p].name, name))
            return ss_error_set(err, SS_EINVAL, "network: population '%s' exists already", name);
    struct pop *np = realloc(net->pops, (net->npops + 1) * sizeof *np);
    if (!np)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->pops = np;
    struct pop *p = &np[net->npops];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->kind = kind;
    p->n = n;
    p->gid0 = net->nneurons;
    if (kind == SS_POP_LIF || kind == SS_POP_DPI || kind == SS_POP_SPICE) {
        p->nstate = 3;
        p->bias = calloc(n, sizeof *p->bias);
        if (!p->bias)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    net->nneurons += n;
    if (index)
        *index = net->npops;
    net->npops++;
    *out = p;
    return SS_OK;
}

static int positive(const char *what, double v, ss_error *err)
{
    if (!(v > 0) || !isfinite(v))
        return ss_error_set(err, SS_EINVAL, "network: %s must be positive (got %g)", what, v);
    return SS_OK;
}

int ss_network_add_lif(ss_network *net, const char *name, size_t n, const ss_lif_params *prm,
                       size_t *pop, ss_error *err)
{
    int rc;
    if ((rc = positive("tau_m", prm->tau_m, err)) || (rc = positive("r_m", prm->r_m, err)) ||
        (rc = positive("tau_syn", prm->tau_syn, err)) || (rc = positive("tau_w", prm->tau_w, err)))
        return rc;
    if (!(prm->v_th > prm->v_reset) || !(prm->t_ref >= 0) || !isfinite(prm->v_rest))
        return ss_error_set(err, SS_EINVAL, "network: LIF needs v_th > v_reset and t_ref >= 0");
    if ((rc = positive("in_beta", prm->in_beta, err)) || (rc = positive("in_ref", prm->in_ref, err)))
        return rc;
    struct pop *p;
    if ((rc = neti_add_pop(net, name, n, SS_POP_LIF, pop, &p, err)))
        return rc;
    p->lif = *prm;
    for (size_t i = 0; i < n; i++)
        p->bias[i] = prm->i_bias;
    return SS_OK;
}

int ss_network_add_dpi(ss_network *net, const char *name, size_t n, const ss_dpi_params *prm,
                       size_t *pop, ss_error *err)
{
    int rc;
    const double *v = &prm->cmem;
    static const char *const names[] = {"cmem", "itau", "ith", "io", "ispkthr", "ireset",
                                        "kappa", "ut", "iagain", "iath", "ianorm", "cahp",
                                        "itauahp", "ithahp"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if ((rc = positive(names[k], v[k], err)))
            return rc;
    if ((rc = positive("tau_syn", prm->tau_syn, err)) ||
        (rc = positive("in_beta", prm->in_beta, err)) || (rc = positive("in_ref", prm->in_ref, err)))
        return rc;
    if (!(prm->t_ref >= 0) || !(prm->iahp_jump >= 0) || !(prm->ispkthr > prm->ireset))
        return ss_error_set(err, SS_EINVAL,
                            "network: DPI needs t_ref >= 0, iahp_jump >= 0, ispkthr > ireset");
    struct pop *p;
    if ((rc = neti_add_pop(net, name, n, SS_POP_DPI, pop, &p, err)))
        return rc;
    p->dpi = *prm;
    for (size_t i = 0; i < n; i++)
        p->bias[i] = prm->i_bias;
    return SS_OK;
}

int ss_network_add_poisson(ss_network *net, const char *name, size_t n, double rate, size_t *pop,
                           ss_error *err)
{
    struct pop *p;
    int rc;
    if (!(rate >= 0) || !isfinite(rate))
        return ss_error_set(err, SS_EINVAL, "network: Poisson rate must be >= 0 (got %g)", rate);
    if ((rc = neti_add_pop(net, name, n, SS_POP_POISSON, pop, &p, err)))
        return rc;
    p->rate = rate;
    return SS_OK;
}

int ss_network_add_regular(ss_network *net, const char *name, size_t n, double rate, double phase,
                           double stagger, size_t *pop, ss_error *err)
{
    struct pop *p;
    int rc;
    if ((rc = positive("regular rate", rate, err)))
        return rc;
    if (!(phase >= 0) || !(stagger >= 0) || !isfinite(phase) || !isfinite(stagger))
        return ss_error_set(err, SS_EINVAL, "network: phase and stagger must be >= 0");
    if ((rc = neti_add_pop(net, name, n, SS_POP_REGULAR, pop, &p, err)))
        return rc;
    p->rate = rate;
    p->phase = phase;
    p->stagger = stagger;
    return SS_OK;
}

static const double *sort_times;
static int by_time(const void *a, const void *b)
{
    double x = sort_times[*(const size_t *)a], y = sort_times[*(const size_t *)b];
    return (x > y) - (x < y);
}

int ss_network_add_times(ss_network *net, const char *name, size_t n, const size_t *ids,
                         const double *times, size_t count, size_t *pop, ss_error *err)
{
    struct pop *p;
    int rc;
    for (size_t k = 0; k < count; k++) {
        if (ids[k] >= n)
            return ss_error_set(err, SS_EINVAL, "network: spike %zu names neuron %zu of %zu", k,
                                ids[k], n);
        if (!(times[k] >= 0) || !isfinite(times[k]))
            return ss_error_set(err, SS_EINVAL, "network: spike %zu has time %g", k, times[k]);
    }
    if ((rc = neti_add_pop(net, name, n, SS_POP_TIMES, pop, &p, err)))
        return rc;
    size_t *order = malloc((count ? count : 1) * sizeof *order);
    p->tid = malloc((count ? count : 1) * sizeof *p->tid);
    p->ttime = malloc((count ? count : 1) * sizeof *p->ttime);
    if (!order || !p->tid || !p->ttime) {
        free(order);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < count; k++)
        order[k] = k;
    sort_times = times;
    qsort(order, count, sizeof *order, by_time);
    for (size_t k = 0; k < count; k++) {
        p->tid[k] = ids[order[k]];
        p->ttime[k] = times[order[k]];
    }
    free(order);
    p->tcount = count;
    return SS_OK;
}

int ss_network_set_bias(ss_network *net, size_t pop, const double *i_bias, ss_error *err)
{
    if (pop >= net->npops || !net->pops[pop].bias)
        return ss_error_set(err, SS_EINVAL, "network: population %zu has no bias current", pop);
    for (size_t i = 0; i < net->pops[pop].n; i++)
        if (!isfinite(i_bias[i]))
            return ss_error_set(err, SS_EINVAL, "network: bias %zu is not finite", i);
    memcpy(net->pops[pop].bias, i_bias, net->pops[pop].n * sizeof *i_bias);
    for (size_t i = 0; net->pops[pop].rk && i < net->pops[pop].n; i++)
        neti_rk_input(net->pops[pop].rk, i, 0);
    /* between runs: the inputs jump, so CVODE starts afresh at the current time */
    if (net->ready && net->cv && neti_is_neuron_pop(&net->pops[pop]))
        return neti_solver_restart(net, net->t, err);
    return SS_OK;
}

size_t ss_network_npops(const ss_network *net) { return net->npops; }
const char *ss_network_pop_name(const ss_network *net, size_t pop)
{
    return pop < net->npops ? net->pops[pop].name : NULL;
}
int ss_network_pop_kind(const ss_network *net, size_t pop)
{
    return pop < net->npops ? net->pops[pop].kind : -1;
}

size_t ss_network_pop_size(const ss_network *net, size_t pop)
{
    return pop < net->npops ? net->pops[pop].n : 0;
}

int ss_network_find_pop(const ss_network *net, const char *name, size_t *pop)
{
    for (size_t p = 0; p < net->npops; p++)
        if (!strcmp(net->pops[p].name, name)) {
            *pop = p;
            return SS_OK;
        }
    return SS_ENOTFOUND;
}

const struct pop *neti_pop_of_gid(const ss_network *net, size_t gid)
{
    size_t lo = 0, hi = net->npops;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (net->pops[mid].gid0 <= gid)
            lo = mid;
        else
            hi = mid;
    }
    return &net->pops[lo];
}

int neti_is_neuron_pop(const struct pop *p)
{
    return p->kind == SS_POP_LIF || p->kind == SS_POP_DPI;
}

int neti_takes_input(const struct pop *p)
{
    return neti_is_neuron_pop(p) || p->kind == SS_POP_SPICE;
}

int ss_network_connect(ss_network *net, size_t pre, size_t post, size_t nsyn,
                       const size_t *pre_idx, const size_t *post_idx, const double *weight,
                       const double *delay, ss_error *err)
{
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: connections must be made before the run");
    if (pre >= net->npops || post >= net->npops)
        return ss_error_set(err, SS_EINVAL, "network: no such population");
    if (!neti_takes_input(&net->pops[post]))
        return ss_error_set(err, SS_EINVAL, "network: '%s' is a spike source; it takes no input",
                            net->pops[post].name);
    if (net->nsyn + nsyn > net->capsyn) {
        size_t cap = net->capsyn ? net->capsyn : 1024;
        while (cap < net->nsyn + nsyn)
            cap *= 2;
        struct syn *s = realloc(net->syns, cap * sizeof *s);
        if (!s)
            return ss_error_set(err, SS_ENOMEM, "out of memory for %zu synapses", cap);
        net->syns = s;
        net->capsyn = cap;
    }
    const struct pop *a = &net->pops[pre], *b = &net->pops[post];
    for (size_t k = 0; k < nsyn; k++) {
        if (pre_idx[k] >= a->n || post_idx[k] >= b->n)
            return ss_error_set(err, SS_EINVAL, "network: synapse %zu (%zu -> %zu) is out of range",
                                k, pre_idx[k], post_idx[k]);
        if (!isfinite(weight[k]) || !(delay[k] >= 0) || !isfinite(delay[k]))
            return ss_error_set(err, SS_EINVAL, "network: synapse %zu has weight %g, delay %g", k,
                                weight[k], delay[k]);
        struct syn *s = &net->syns[net->nsyn + k];
        s->pre = (uint32_t)(a->gid0 + pre_idx[k]);
        s->post = (uint32_t)(b->gid0 + post_idx[k]);
        s->w = weight[k];
        s->delay = delay[k];
    }
    net->nsyn += nsyn;
    return SS_OK;
}

int neti_check_crossbar(const ss_network *net, size_t pre, size_t post,
                          const ss_crossbar_spec *spec, double v_read, double t_read, ss_error *err)
{
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: connections must be made before the run");
    if (pre >= net->npops || post >= net->npops)
        return ss_error_set(err, SS_EINVAL, "network: no such population");
    const struct pop *a = &net->pops[pre], *b = &net->pops[post];
    if (spec->rows != a->n || spec->cols != b->n)
        return ss_error_set(err, SS_EINVAL,
                            "network: a %zu x %zu crossbar cannot connect '%s' (%zu) to '%s' (%zu)",
                            spec->rows, spec->cols, a->name, a->n, b->name, b->n);
    if (!neti_takes_input(b))
        return ss_error_set(err, SS_EINVAL, "network: '%s' is a spike source", b->name);
    if (!(v_read != 0) || !isfinite(v_read) || !(t_read > 0) || !isfinite(t_read))
        return ss_error_set(err, SS_EINVAL, "network: read pulse needs v_read != 0 and t_read > 0");
    return SS_OK;
}

/* Synaptic jumps of a crossbar read: the charge each bit line collects when
 * word line i alone carries the read pulse (the crossbar is linear, so rows
 * superpose), over the synaptic time constant. */
int neti_crossbar_weights(const ss_crossbar_spec *spec, const double *g, double v_read,
                            double t_read, double tau_syn, double *w, ss_error *err)
{
    ss_crossbar *xb = ss_crossbar_alloc(spec, err);
    double *v = calloc(spec->rows, sizeof *v), *iout = malloc(spec->cols * sizeof *iout);
    int rc = !xb ? (err ? err->code : SS_EINVAL)
                 : (!v || !iout ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK);
    for (size_t i = 0; !rc && i < spec->rows; i++) {
        v[i] = v_read;
        rc = ss_crossbar_dc(xb, g, v, iout, err);
        v[i] = 0;
        for (size_t j = 0; !rc && j < spec->cols; j++)
            w[i * spec->cols + j] = iout[j] * t_read / tau_syn;
    }
    ss_crossbar_free(xb);
    free(v);
    free(iout);
    return rc;
}

double neti_pop_tau_syn(const struct pop *p)
{
    return p->kind == SS_POP_LIF ? p->lif.tau_syn : p->kind == SS_POP_DPI ? p->dpi.tau_syn : p->tile_tau;
}

int neti_connect_grid(ss_network *net, size_t pre, size_t post, size_t rows, size_t cols,
                        const double *w, double delay, ss_error *err)
{
    size_t nc = rows * cols;
    size_t *pi = malloc(nc * sizeof *pi), *po = malloc(nc * sizeof *po);
    double *d = malloc(nc * sizeof *d);
    int rc = pi && po && d ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < nc; k++) {
        pi[k] = k / cols;
        po[k] = k % cols;
        d[k] = delay;
    }
    if (!rc)
        rc = ss_network_connect(net, pre, post, nc, pi, po, w, d, err);
    free(pi);
    free(po);
    free(d);
    return rc;
}

int ss_network_connect_crossbar(ss_network *net, size_t pre, size_t post,
                                const ss_crossbar_spec *spec, const double *g, double v_read,
                                double t_read, double delay, ss_error *err)
{
    int rc = neti_check_crossbar(net, pre, post, spec, v_read, t_read, err);
    if (rc)
        return rc;
    double *w = malloc(spec->rows * spec->cols * sizeof *w);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = neti_crossbar_weights(spec, g, v_read, t_read, neti_pop_tau_syn(&net->pops[post]), w, err);
    if (!rc)
        rc = neti_connect_grid(net, pre, post, spec->rows, spec->cols, w, delay, err);
    free(w);
    return rc;
}

int ss_network_record_state(ss_network *net, size_t pop, const size_t *idx, size_t n, double dt,
                            ss_error *err)
{
    if (pop >= net->npops || !neti_is_neuron_pop(&net->pops[pop]))
        return ss_error_set(err, SS_EINVAL, "network: population %zu has no state", pop);
    if (!(dt > 0))
        return ss_error_set(err, SS_EINVAL, "network: sampling interval must be positive");
    struct sample *s = realloc(net->samples, (net->nsamples + n) * sizeof *s);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->samples = s;
    for (size_t k = 0; k < n; k++) {
        if (idx[k] >= net->pops[pop].n)
            return ss_error_set(err, SS_EINVAL, "network: no neuron %zu in '%s'", idx[k],
                                net->pops[pop].name);
        s[net->nsamples++] = (struct sample){pop, idx[k], dt};
    }
    return SS_OK;
}

int ss_network_add_step(ss_network *net, size_t pop, size_t idx, double t_on, double t_off,
                        double amp, ss_error *err)
{
    if (pop >= net->npops || !neti_is_neuron_pop(&net->pops[pop]) || idx >= net->pops[pop].n)
        return ss_error_set(err, SS_EINVAL, "network: no neuron %zu in population %zu", idx, pop);
    if (!(t_on >= 0) || !(t_off > t_on) || !isfinite(t_off) || !isfinite(amp))
        return ss_error_set(err, SS_EINVAL, "network: a current step needs 0 <= t_on < t_off");
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: current steps must be added before the run");
    struct step *s = realloc(net->steps_in, (net->nsteps_in + 2) * sizeof *s);
    if (!s)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->steps_in = s;
    s[net->nsteps_in++] = (struct step){t_on, pop, idx, amp};
    s[net->nsteps_in++] = (struct step){t_off, pop, idx, -amp};
    return SS_OK;
}
