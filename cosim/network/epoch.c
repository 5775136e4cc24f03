/* epoch.c: the per-neuron integrator's epochs (rk.c integrates).
 * An epoch runs from exchange step k0 to k1 <= k0 + the minimum delay, so
 * every input arriving at an exchange point inside it comes from a spike
 * before k0 and is already in the delay ring: the RK populations are
 * advanced over the whole epoch at its first step, and their spikes wait
 * for the exchange step they belong to.  Inputs at the epoch's end are
 * applied by neti_exchange(), when all neurons stand there. */
#include "cosim/network/network_private.h"

#include <stdlib.h>
#include <string.h>

/* Inputs of population p at the exchange points strictly inside (k0, k1),
 * by neuron in time order, into net->rk_in. */
static int rk_gather(ss_network *net, const struct pop *p, long k0, long k1, ss_error *err)
{
    size_t slots = (size_t)net->dmax + 2, n = p->n;
    net->rk_nev = 0;
    for (long k = k0 + 1; k < k1; k++) {
        const double *in = net->ring + (size_t)k % slots * net->nneurons + p->gid0;
        double t = (double)k * net->h;
        if (net->rk_nev + n > net->rk_capev) {
            size_t cap = 2 * (net->rk_nev + n);
            struct rk_event *e = realloc(net->rk_ev, cap * sizeof *e);
            if (!e)
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            net->rk_ev = e;
            net->rk_capev = cap;
        }
        /* (a write per neuron, kept where the input is not 0: no branch to
         * mispredict) */
        struct rk_event *e = net->rk_ev + net->rk_nev;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            e[m] = (struct rk_event){t, in[i], (uint32_t)i};
            m += in[i] != 0;
        }
        net->rk_nev += m;
    }
    neti_rk_inputs *r = &net->rk_in;
    if (net->rk_nev > r->cap) {
        double *a = realloc(r->t, net->rk_nev * sizeof *a);
        if (a)
            r->t = a;
        double *b = a ? realloc(r->w, net->rk_nev * sizeof *b) : NULL;
        if (!b)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        r->w = b;
        r->cap = net->rk_nev;
    }
    /* counting sort by neuron (stable: time order kept) */
    memset(r->off, 0, (n + 1) * sizeof *r->off);
    for (size_t e = 0; e < net->rk_nev; e++)
        r->off[net->rk_ev[e].i + 1]++;
    for (size_t i = 0; i < n; i++)
        r->off[i + 1] += r->off[i];
    for (size_t e = 0; e < net->rk_nev; e++) {
        size_t at = r->off[net->rk_ev[e].i]++;
        r->t[at] = net->rk_ev[e].t;
        r->w[at] = net->rk_ev[e].w;
    }
    for (size_t i = n; i > 0; i--)
        r->off[i] = r->off[i - 1];
    r->off[0] = 0;
    return SS_OK;
}

static int by_rk_spike(const void *a, const void *b)
{
    const neti_rk_spike *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* At the first step of an epoch, advances the RK populations over it; in
 * every step, delivers their spikes that fall into it. */
int neti_rk_step(ss_network *net, ss_error *err)
{
    long k0 = net->step;
    int rc;
    neti_rk_spikes *sp = &net->rk_spk;
    if (k0 == net->rk_until) {
        long k1 = k0 + net->rk_len;
        if (k1 > net->kstop)
            k1 = net->kstop;
        /* a bias step starts the next epoch (applied at the exchange point
         * at or after its time, as apply_steps does) */
        for (long k = k0 + 1; net->next_step < net->nsteps_in && k < k1; k++)
            if (net->steps_in[net->next_step].t <= k * net->h + 1e-12 * net->h)
                k1 = k;
        if (k1 <= k0)
            k1 = k0 + 1;
        if (net->rk_pos)
            memmove(sp->s, sp->s + net->rk_pos, (sp->n - net->rk_pos) * sizeof *sp->s);
        sp->n -= net->rk_pos;
        net->rk_pos = 0;
        for (size_t pp = 0; pp < net->npops; pp++) {
            struct pop *p = &net->pops[pp];
            if (!p->rk)
                continue;
            size_t first = sp->n;
            if ((rc = rk_gather(net, p, k0, k1, err)) ||
                (rc = neti_rk_advance(p->rk, p->bias, k0, k1, net->h, &net->rk_in, sp, err)))
                return rc;
            for (size_t k = first; k < sp->n; k++)
                sp->s[k].i += p->gid0;
        }
        if (sp->n > 1)
            qsort(sp->s, sp->n, sizeof *sp->s, by_rk_spike);
        net->rk_until = k1;
    }
    double t1 = (double)(k0 + 1) * net->h;
    for (; net->rk_pos < sp->n && sp->s[net->rk_pos].t < t1; net->rk_pos++) {
        size_t gid = sp->s[net->rk_pos].i;
        if ((rc = neti_record_spike(net, sp->s[net->rk_pos].t, gid)))
            return ss_error_set(err, rc, "out of memory");
        ((struct pop *)neti_pop_of_gid(net, gid))->nspikes++;
    }
    return SS_OK;
}

