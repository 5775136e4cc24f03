/* delivery.c: spikes and their delivery.  Spikes are recorded in time
 * order within each exchange step; a spike's synaptic jumps go into a ring
 * of (maximum delay + 2) exchange points and are applied at the exchange
 * point at or after spike time + delay, where the solver restarts once for
 * every jump, reset and end of refractoriness that falls on it. */
#include "cosim/network/network_private.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int neti_delivery_prepare(ss_network *net, double h, ss_error *err)
{
    size_t nn = net->nneurons;
    /* synapses: delays in steps, CSR by presynaptic neuron */
    net->out_off = calloc(nn + 1, sizeof *net->out_off);
    net->out_tgt = malloc((net->nsyn ? net->nsyn : 1) * sizeof *net->out_tgt);
    net->out_w = malloc((net->nsyn ? net->nsyn : 1) * sizeof *net->out_w);
    net->out_d = malloc((net->nsyn ? net->nsyn : 1) * sizeof *net->out_d);
    if (!net->out_off || !net->out_tgt || !net->out_w || !net->out_d)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->dmax = 1;
    for (size_t k = 0; k < net->nsyn; k++) {
        double delay = net->syns[k].delay;
        if (delay / h > 100000)
            return ss_error_set(err, SS_EINVAL, "network: delay %g s is over 100000 steps", delay);
        long d = lround(delay / h);
        if (d > net->dmax)
            net->dmax = (int)d;
        net->out_off[net->syns[k].pre + 1]++;
    }
    for (size_t g = 0; g < nn; g++)
        net->out_off[g + 1] += net->out_off[g];
    size_t *fill = calloc(nn, sizeof *fill);
    if (!fill)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; k < net->nsyn; k++) {
        size_t at = net->out_off[net->syns[k].pre] + fill[net->syns[k].pre]++;
        net->out_tgt[at] = net->syns[k].post;
        for (size_t q = 0; q < net->nmx; q++) {
            struct memx *m = &net->mx[q];
            if (k >= m->syn0 && k < m->syn0 + m->rows * m->cols)
                m->pos[k - m->syn0] = at;
        }
        long d = lround(net->syns[k].delay / h);
        net->out_w[at] = net->syns[k].w;
        net->out_d[at] = d < 1 ? 1 : (int)d; /* at least one exchange step */
    }
    free(fill);
    free(net->syns);
    net->syns = NULL;
    net->capsyn = 0;
    net->ring = calloc((size_t)(net->dmax + 2) * nn, sizeof *net->ring);
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
    size_t slots = (size_t)net->dmax + 2;
    long first = t > net->step * net->h ? net->step + 1 : net->step;
    for (size_t k = net->out_off[gid]; k < net->out_off[gid + 1]; k++) {
        size_t slot = (size_t)(first + net->out_d[k]) % slots;
        net->ring[slot * net->nneurons + net->out_tgt[k]] += net->out_w[k];
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
