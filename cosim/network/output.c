/* output.c: what a run produced: spikes, sampled states, solver
 * statistics, as queries and as files (CSV, JSON summary). */
#include "cosim/network/network_private.h"

#include <stdio.h>
#include <stdlib.h>

size_t ss_network_nspikes(const ss_network *net) { return net->nsp; }

void ss_network_spike(const ss_network *net, size_t k, double *t, size_t *pop, size_t *idx)
{
    const struct pop *p = neti_pop_of_gid(net, net->sp_gid[k]);
    *t = net->sp_t[k];
    *pop = (size_t)(p - net->pops);
    *idx = net->sp_gid[k] - p->gid0;
}

size_t ss_network_spikes(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                         size_t *idx)
{
    if (first >= net->nsp)
        return 0;
    if (n > net->nsp - first)
        n = net->nsp - first;
    for (size_t k = 0; k < n; k++) {
        double tk;
        size_t pk, ik;
        ss_network_spike(net, first + k, &tk, &pk, &ik);
        if (t)
            t[k] = tk;
        if (pop)
            pop[k] = pk;
        if (idx)
            idx[k] = ik;
    }
    return n;
}

size_t ss_network_nsamples(const ss_network *net) { return net->nst; }

size_t ss_network_samples(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                          size_t *idx, double *value)
{
    if (first >= net->nst)
        return 0;
    if (n > net->nst - first)
        n = net->nst - first;
    for (size_t k = 0; k < n; k++) {
        const struct sample *s = &net->samples[net->st_k[first + k]];
        if (t)
            t[k] = net->st_t[first + k];
        if (pop)
            pop[k] = s->pop;
        if (idx)
            idx[k] = s->idx;
        if (value)
            value[k] = net->st_v[first + k];
    }
    return n;
}

size_t ss_network_pop_spikes(const ss_network *net, size_t pop)
{
    return pop < net->npops ? net->pops[pop].nspikes : 0;
}

double ss_network_tile_bracket(const ss_network *net)
{
    return net->tile_bracket;
}

/* ---- files ---------------------------------------------------------------------- */

static const ss_network *order_net;
static int by_spike(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = order_net->sp_t[i], y = order_net->sp_t[j];
    if (x != y)
        return (x > y) - (x < y);
    return (i > j) - (i < j);
}

int ss_network_write_spikes(const ss_network *net, const char *path, ss_error *err)
{
    size_t *order = malloc((net->nsp ? net->nsp : 1) * sizeof *order);
    if (!order)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; k < net->nsp; k++)
        order[k] = k;
    order_net = net;
    qsort(order, net->nsp, sizeof *order, by_spike);
    FILE *f = ss_util_open_output(path, "w", err);
    if (!f) {
        free(order);
        return err ? err->code : SS_EIO;
    }
    fputs("t,population,index\n", f);
    for (size_t k = 0; k < net->nsp; k++) {
        double t;
        size_t pop, idx;
        ss_network_spike(net, order[k], &t, &pop, &idx);
        fprintf(f, "%.17g,%s,%zu\n", t, net->pops[pop].name, idx);
    }
    free(order);
    if (fclose(f))
        return ss_error_set(err, SS_EIO, "%s: write error", path);
    return SS_OK;
}

int ss_network_write_states(const ss_network *net, const char *path, ss_error *err)
{
    FILE *f = ss_util_open_output(path, "w", err);
    if (!f)
        return err ? err->code : SS_EIO;
    fputs("t,population,index,value\n", f);
    for (size_t k = 0; k < net->nst; k++) {
        const struct sample *s = &net->samples[net->st_k[k]];
        fprintf(f, "%.17g,%s,%zu,%.17g\n", net->st_t[k], net->pops[s->pop].name, s->idx,
                net->st_v[k]);
    }
    if (fclose(f))
        return ss_error_set(err, SS_EIO, "%s: write error", path);
    return SS_OK;
}

int ss_network_write_summary(const ss_network *net, const char *path, double seconds,
                             ss_error *err)
{
    FILE *f = ss_util_open_output(path, "w", err);
    long steps, rhs_evals, restarts;
    if (!f)
        return err ? err->code : SS_EIO;
    ss_network_stats(net, &steps, &rhs_evals, &restarts);
    fprintf(f, "{\n  \"t\": %.17g,\n  \"dt\": %.17g,\n  \"spikes\": %zu,\n  \"populations\": [\n",
            net->t, net->h, net->nsp);
    for (size_t p = 0; p < net->npops; p++) {
        static const char *const kinds[] = {"lif", "dpi", "poisson", "regular", "times", "spice"};
        const struct pop *q = &net->pops[p];
        double rate = net->t > 0 ? (double)q->nspikes / ((double)q->n * net->t) : 0;
        fprintf(f, "    {\"name\": \"%s\", \"kind\": \"%s\", \"n\": %zu, \"spikes\": %zu, "
                   "\"rate\": %.17g}%s\n",
                q->name, kinds[q->kind], q->n, q->nspikes, rate, p + 1 < net->npops ? "," : "");
    }
    fprintf(f, "  ],\n  \"solver\": {\"steps\": %ld, \"rhs_evals\": %ld, \"restarts\": %ld,"
               " \"spice_spike_bracket\": %.6g},\n  \"seconds\": %.6g\n}\n",
            steps, rhs_evals, restarts, net->tile_bracket, seconds);
    if (fclose(f))
        return ss_error_set(err, SS_EIO, "%s: write error", path);
    return SS_OK;
}
