/* delivery.c: spikes and their delivery.  Spikes are recorded in time
 * order within each exchange step; a spike's synaptic jumps go into a ring
 * of (maximum delay + 2) exchange points and are applied at the exchange
 * point at or after spike time + delay (by the per-neuron integrator, for
 * its populations: epoch.c), where CVODE restarts once for every jump,
 * reset and end of refractoriness that falls on it.  Synapses are stored in
 * 12 bytes each (4-byte target, 8-byte weight), sorted by delay within each
 * presynaptic neuron, one (delay, end) entry per run of equal delays. */
#include "cosim/network/network_private.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const int *sort_d;
static int by_delay(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return sort_d[x] != sort_d[y] ? (sort_d[x] > sort_d[y]) - (sort_d[x] < sort_d[y]) : (x > y) - (x < y);
}

/* Sorts the synapses [a, b) of one presynaptic neuron by delay (stable),
 * permuting the targets, weights and origins alike; perm is scratch. */
static int sort_by_delay(ss_network *net, int *d, size_t *orig, size_t a, size_t b, ss_error *err)
{
    size_t n = b - a, *perm = malloc(n * sizeof *perm);
    uint32_t *tg = malloc(n * sizeof *tg);
    double *w = malloc(n * sizeof *w);
    int *dd = malloc(n * sizeof *dd);
    size_t *og = orig ? malloc(n * sizeof *og) : NULL;
    int rc = perm && tg && w && dd && (og || !orig) ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc) {
        for (size_t k = 0; k < n; k++)
            perm[k] = a + k;
        sort_d = d;
        qsort(perm, n, sizeof *perm, by_delay);
        for (size_t k = 0; k < n; k++) {
            tg[k] = net->out_tgt[perm[k]];
            w[k] = net->out_w[perm[k]];
            dd[k] = d[perm[k]];
            if (orig)
                og[k] = orig[perm[k]];
        }
        memcpy(net->out_tgt + a, tg, n * sizeof *tg);
        memcpy(net->out_w + a, w, n * sizeof *w);
        memcpy(d + a, dd, n * sizeof *dd);
        if (orig)
            memcpy(orig + a, og, n * sizeof *og);
    }
    free(perm);
    free(tg);
    free(w);
    free(dd);
    free(og);
    return rc;
}

/* The synapse lists become the CSR by presynaptic neuron (delays in whole
 * exchange steps, at least one), sorted by delay with one run per delay. */
static int build_csr(ss_network *net, double h, ss_error *err)
{
    size_t nn = net->nneurons, ns = net->nsyn, n1 = ns ? ns : 1;
    net->out_off = calloc(nn + 1, sizeof *net->out_off);
    net->run_off = calloc(nn + 1, sizeof *net->run_off);
    net->out_tgt = malloc(n1 * sizeof *net->out_tgt);
    net->out_w = malloc(n1 * sizeof *net->out_w);
    int *d = malloc(n1 * sizeof *d);
    size_t *fill = calloc(nn, sizeof *fill), *orig = net->nmx ? malloc(n1 * sizeof *orig) : NULL;
    int rc = SS_OK;
    if (!net->out_off || !net->run_off || !net->out_tgt || !net->out_w || !d || !fill ||
        (net->nmx && !orig)) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory for %zu synapses", ns);
        goto out;
    }
    net->dmax = 1;
    for (size_t k = 0; k < ns; k++) {
        double delay = net->syns[k].delay;
        if (delay / h > 100000) {
            rc = ss_error_set(err, SS_EINVAL, "network: delay %g s is over 100000 steps", delay);
            goto out;
        }
        net->out_off[net->syns[k].pre + 1]++;
    }
    for (size_t g = 0; g < nn; g++)
        net->out_off[g + 1] += net->out_off[g];
    for (size_t k = 0; k < ns; k++) {
        const struct syn *s = &net->syns[k];
        size_t at = net->out_off[s->pre] + fill[s->pre]++;
        long dk = lround(s->delay / h);
        net->out_tgt[at] = s->post;
        net->out_w[at] = s->w;
        d[at] = dk < 1 ? 1 : (int)dk;
        if (d[at] > net->dmax)
            net->dmax = d[at];
        if (orig)
            orig[at] = k;
    }
    free(net->syns);
    net->syns = NULL;
    net->capsyn = 0;
    /* by delay within each presynaptic neuron; count the runs */
    for (size_t g = 0; g < nn; g++) {
        size_t a = net->out_off[g], b = net->out_off[g + 1];
        for (size_t k = a + 1; k < b; k++)
            if (d[k] < d[k - 1]) {
                if ((rc = sort_by_delay(net, d, orig, a, b, err)))
                    goto out;
                break;
            }
        for (size_t k = a; k < b; k++)
            net->run_off[g + 1] += k == a || d[k] != d[k - 1];
    }
    for (size_t g = 0; g < nn; g++)
        net->run_off[g + 1] += net->run_off[g];
    size_t nr = net->run_off[nn] ? net->run_off[nn] : 1;
    net->run_d = malloc(nr * sizeof *net->run_d);
    net->run_end = malloc(nr * sizeof *net->run_end);
    if (!net->run_d || !net->run_end) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t g = 0, q = 0; g < nn; g++)
        for (size_t k = net->out_off[g]; k < net->out_off[g + 1]; k++) {
            if (k == net->out_off[g] || d[k] != d[k - 1])
                net->run_d[q++] = d[k];
            net->run_end[q - 1] = k + 1;
        }
    for (size_t k = 0; orig && k < ns; k++) /* where each crossbar cell's synapse went */
        for (size_t q = 0; q < net->nmx; q++) {
            struct memx *m = &net->mx[q];
            if (orig[k] >= m->syn0 && orig[k] < m->syn0 + m->rows * m->cols)
                m->pos[orig[k] - m->syn0] = k;
        }
out:
    free(d);
    free(fill);
    free(orig);
    return rc;
}

int neti_delivery_prepare(ss_network *net, double h, ss_error *err)
{
    int rc = build_csr(net, h, err);
    if (rc)
        return rc;
    net->ring = calloc((size_t)(net->dmax + 2) * net->nneurons, sizeof *net->ring);
    if (!net->ring)
        return ss_error_set(err, SS_ENOMEM, "out of memory for the delay ring");
    return SS_OK;
}

int neti_record_spike(ss_network *net, double t, size_t gid)
{
    if (net->nsp == net->capsp) {
        size_t cap = net->capsp ? 2 * net->capsp : 4096;
        double *a = realloc(net->sp_t, cap * sizeof *a);
        if (!a)
            return SS_ENOMEM;
        net->sp_t = a;
        size_t *b = realloc(net->sp_gid, cap * sizeof *b);
        if (!b)
            return SS_ENOMEM;
        net->sp_gid = b;
        net->capsp = cap;
    }
    net->sp_t[net->nsp] = t;
    net->sp_gid[net->nsp++] = gid;
    if (net->nmx)
        neti_plasticity(net, t, gid);
    /* deliver at the first exchange point at or after t + delay: a spike
     * inside step k arrives at the end of step k + D */
    size_t slots = (size_t)net->dmax + 2, k = net->out_off[gid];
    long first = t > net->step * net->h ? net->step + 1 : net->step;
    for (size_t q = net->run_off[gid]; q < net->run_off[gid + 1]; q++) {
        double *in = net->ring + (size_t)(first + net->run_d[q]) % slots * net->nneurons;
        for (size_t end = net->run_end[q]; k < end; k++)
            in[net->out_tgt[k]] += net->out_w[k];
    }
    return SS_OK;
}

int neti_emit_sources(ss_network *net, double t0, double t1)
{
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        if (p->kind == SS_POP_POISSON || p->kind == SS_POP_REGULAR) {
            for (size_t i = 0; i < p->n; i++)
                while (p->next[i] < t1) {
                    if (p->next[i] >= t0 && neti_record_spike(net, p->next[i], p->gid0 + i))
                        return SS_ENOMEM;
                    p->nspikes += p->next[i] >= t0;
                    p->next[i] += p->kind == SS_POP_REGULAR ? 1 / p->rate
                                                            : gsl_ran_exponential(p->rng, 1 / p->rate);
                }
        } else if (p->kind == SS_POP_TIMES) {
            while (p->tpos < p->tcount && p->ttime[p->tpos] < t1) {
                if (p->ttime[p->tpos] >= t0) {
                    if (neti_record_spike(net, p->ttime[p->tpos], p->gid0 + p->tid[p->tpos]))
                        return SS_ENOMEM;
                    p->nspikes++;
                }
                p->tpos++;
            }
        }
    }
    return SS_OK;
}

/* Everything that happens at the exchange point ending step k: resets,
 * arriving inputs, ends of refractoriness.  Returns whether a state jumped
 * or the dynamics changed (so the solver must restart). */
int neti_exchange(ss_network *net)
{
    double *y = net->nstates ? N_VGetArrayPointer(net->y) : NULL;
    int jumped = 0;
    long next = net->step + 1;
    size_t slots = (size_t)net->dmax + 2;
    double *in = net->ring + (size_t)(next % (long)slots) * net->nneurons;
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        if (p->kind == SS_POP_SPICE) { /* commit the synaptic current at this point */
            double t1 = next * net->h;
            for (size_t i = 0; i < p->n; i++) {
                double *x = net->xstate + p->soff + 3 * i;
                if (x[0] != 0 || in[p->gid0 + i] != 0) {
                    x[0] = x[0] * exp(-(t1 - x[1]) / p->tile_tau) + in[p->gid0 + i];
                    x[1] = t1;
                    in[p->gid0 + i] = 0;
                }
            }
            continue;
        }
        if (!neti_is_neuron_pop(p))
            continue;
        if (p->rk) { /* inputs inside an epoch were taken when it began */
            for (size_t i = 0; next == net->rk_until && i < p->n; i++)
                if (in[p->gid0 + i] != 0) {
                    neti_rk_input(p->rk, i, in[p->gid0 + i]);
                    in[p->gid0 + i] = 0;
                }
            continue;
        }
        if (p->exact) { /* only inputs: spikes and resets were handled exactly */
            for (size_t i = 0; i < p->n; i++)
                if (in[p->gid0 + i] != 0) {
                    *net->isyn_ptr[p->gid0 + i] += in[p->gid0 + i];
                    in[p->gid0 + i] = 0;
                }
            continue;
        }
        for (size_t i = 0; i < p->n; i++) {
            size_t gid = p->gid0 + i;
            double *s = y + p->soff + 3 * i;
            if (net->pending[gid]) {
                double tref = p->kind == SS_POP_LIF ? p->lif.t_ref : p->dpi.t_ref;
                if (p->kind == SS_POP_LIF) {
                    s[0] = p->lif.v_reset;
                    s[2] += p->lif.b;
                } else {
                    s[0] = p->dpi.ireset;
                    s[1] += p->dpi.iahp_jump;
                }
                /* held from the reset until the exchange point at or after
                 * spike + t_ref */
                net->ref_until[gid] = (long)ceil((net->tspike[gid] + tref) / net->h - 1e-9);
                net->pending[gid] = 0;
                jumped = 1;
            }
            if (net->ref_until[gid] == next) {
                /* The dynamics switch back on.  Refractoriness really ended
                 * `gap` before this exchange point: catch up with one Euler
                 * step, so the quantisation error is O(h^2), not O(h). */
                double tref = p->kind == SS_POP_LIF ? p->lif.t_ref : p->dpi.t_ref;
                double gap = next * net->h - (net->tspike[gid] + tref), d[3];
                if (gap > 0 && gap < net->h) {
                    if (p->kind == SS_POP_LIF)
                        d[0] = neti_lif_dv(&p->lif, p->bias[i], s);
                    else
                        neti_dpi_rhs(&p->dpi, p->bias[i], 0, s, d);
                    s[0] += gap * d[0];
                }
                jumped = 1;
            }
            if (in[gid] != 0) {
                *net->isyn_ptr[gid] += in[gid];
                in[gid] = 0;
                jumped = 1;
            }
        }
    }
    /* inputs to nothing (sources) are dropped */
    memset(in, 0, net->nneurons * sizeof *in);
    return jumped;
}
