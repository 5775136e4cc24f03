/* tile.c: SPICE tiles, the network's side.  Each tile is one ngspice
 * circuit run by its own worker process (tile_worker.c) on the pool
 * (pool/), in a conversation with the exchange-step loop: at the start of
 * step k every tile gets the inputs that arrive from then on and runs to
 * the end of the step while the network integrates its other populations;
 * at the end of the step the tiles report their spikes, which are recorded
 * in time order and delivered like every other spike.  Inputs into tiles
 * travel on their own list (exact arrival times), beside the delay ring
 * that the behavioural populations use. */
#include "cosim/network/network_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- building ------------------------------------------------------------- */

static struct neti_tiles *tiles_of(ss_network *net, ss_error *err)
{
    if (!net->tiles && !(net->tiles = calloc(1, sizeof *net->tiles)))
        ss_error_set(err, SS_ENOMEM, "out of memory");
    return net->tiles;
}

int ss_network_add_tile(ss_network *net, const char *name, ss_netlist *body, double tmax,
                        size_t *tile, ss_error *err)
{
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: tiles must be added before the run");
    if (!name || !*name || strlen(name) >= sizeof net->tiles->t[0].name ||
        name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")])
        return ss_error_set(err, SS_EINVAL, "network: tile names are 1 to 63 letters, digits, "
                                            "'_', '.' or '-'");
    if (!body || body->n < 2)
        return ss_error_set(err, SS_EINVAL, "network: tile '%s' has no body", name);
    if (!(tmax > 0) || !isfinite(tmax))
        return ss_error_set(err, SS_EINVAL, "network: tile '%s' needs tmax > 0", name);
    double tstop;
    const ss_netlist_line *an = ss_netlist_analysis(body, &tstop);
    if (an)
        return ss_error_set(err, SS_EPARSE, "%s:%d: a tile body has no analysis line (the "
                                            "network runs it)", an->file, an->line);
    struct neti_tiles *ts = tiles_of(net, err);
    if (!ts)
        return SS_ENOMEM;
    for (size_t k = 0; k < ts->n; k++)
        if (!strcmp(ts->t[k].name, name))
            return ss_error_set(err, SS_EINVAL, "network: tile '%s' exists already", name);
    struct neti_tile *t = realloc(ts->t, (ts->n + 1) * sizeof *t);
    if (!t)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    ts->t = t;
    t += ts->n;
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->body = *body;
    t->tmax = tmax;
    memset(body, 0, sizeof *body);
    if (tile)
        *tile = ts->n;
    ts->n++;
    return SS_OK;
}

size_t ss_network_ntiles(const ss_network *net)
{
    return net->tiles ? net->tiles->n : 0;
}

const char *ss_network_tile_name(const ss_network *net, size_t tile)
{
    return tile < ss_network_ntiles(net) ? net->tiles->t[tile].name : NULL;
}

const ss_netlist *ss_network_tile_body(const ss_network *net, size_t tile)
{
    return tile < ss_network_ntiles(net) ? &net->tiles->t[tile].body : NULL;
}

void ss_network_tile_stats(const ss_network *net, size_t tile, long *points, double *cpu)
{
    const struct neti_tile *t = tile < ss_network_ntiles(net) ? &net->tiles->t[tile] : NULL;
    if (points)
        *points = t ? t->points : 0;
    if (cpu)
        *cpu = t ? t->cpu : 0;
}

/* Whether the body holds an EXTERNAL current source called `name`. */
static int has_input(const ss_netlist *body, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 1; i < body->n; i++) {
        const char *s = body->lines[i].text;
        while (*s == ' ' || *s == '\t')
            s++;
        if (strncasecmp(s, name, len) || (s[len] != ' ' && s[len] != '\t'))
            continue;
        for (const char *w = s + len; (w = strcasestr(w, "external")); w += 8)
            if ((w[-1] == ' ' || w[-1] == '\t') && (!w[8] || w[8] == ' ' || w[8] == '\t'))
                return 1;
    }
    return 0;
}

void neti_spice_free(struct neti_spice *s)
{
    if (!s)
        return;
    for (size_t k = 0; s->spike && s->input && k < s->n; k++) {
        free(s->spike[k]);
        free(s->input[k]);
    }
    free(s->spike);
    free(s->input);
    free(s->tile);
    free(s->q);
    free(s);
}

int ss_network_add_spice(ss_network *net, const char *name, size_t n, const ss_network_spice *spec,
                         size_t *pop, ss_error *err)
{
    const ss_network_spice *sp = spec;
    size_t ntiles = ss_network_ntiles(net);
    if (!sp || !sp->tile || !sp->spike || !sp->input)
        return ss_error_set(err, SS_EINVAL, "network: SPICE neurons need tiles, spike vectors "
                                            "and input sources");
    if (!isfinite(sp->threshold) || !(sp->gain >= 0) || !isfinite(sp->gain) ||
        (sp->shape == SS_INPUT_EXPONENTIAL && !(sp->tau_syn > 0)) ||
        (sp->shape == SS_INPUT_PULSE && (!(sp->width >= 0) || !(sp->edge > 0) ||
                                         !isfinite(sp->width + sp->edge))) ||
        (sp->shape != SS_INPUT_EXPONENTIAL && sp->shape != SS_INPUT_PULSE))
        return ss_error_set(err, SS_EINVAL, "network: SPICE population '%s' needs a finite "
                                            "threshold, gain >= 0 and tau_syn > 0 (exponential "
                                            "inputs) or width >= 0 and edge > 0 (pulses)",
                            name ? name : "");
    for (size_t k = 0; k < n; k++) {
        if (sp->tile[k] >= ntiles)
            return ss_error_set(err, SS_EINVAL, "network: neuron %zu of '%s': no tile %zu", k,
                                name ? name : "", sp->tile[k]);
        const struct neti_tile *t = &net->tiles->t[sp->tile[k]];
        if (!sp->spike[k] || !*sp->spike[k] || !sp->input[k] || !has_input(&t->body, sp->input[k]))
            return ss_error_set(err, SS_EINVAL, "network: neuron %zu of '%s': tile '%s' has no "
                                                "EXTERNAL current source '%s'",
                                k, name ? name : "", t->name, sp->input[k] ? sp->input[k] : "");
        for (size_t q = 0; q < t->n; q++) {
            const struct pop *o = neti_pop_of_gid(net, t->gid[q]);
            if (!strcasecmp(o->spice->input[t->gid[q] - o->gid0], sp->input[k]))
                return ss_error_set(err, SS_EINVAL, "network: tile '%s': input '%s' feeds "
                                                    "two neurons", t->name, sp->input[k]);
        }
        for (size_t j = 0; j < k; j++)
            if (sp->tile[j] == sp->tile[k] && !strcasecmp(sp->input[j], sp->input[k]))
                return ss_error_set(err, SS_EINVAL, "network: tile '%s': input '%s' feeds "
                                                    "two neurons", t->name, sp->input[k]);
    }
    struct pop *p;
    int rc = neti_add_pop(net, name, n, SS_POP_SPICE, pop, &p, err);
    if (rc)
        return rc;
    struct neti_spice *s = calloc(1, sizeof *s);
    if (!(p->spice = s) || !(s->tile = malloc(n * sizeof *s->tile)) ||
        !(s->q = malloc(n * sizeof *s->q)) || !(s->spike = calloc(n, sizeof *s->spike)) ||
        !(s->input = calloc(n, sizeof *s->input)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    s->n = n;
    s->spec = *sp;
    p->tile_tau = sp->shape == SS_INPUT_PULSE ? sp->width + sp->edge : sp->tau_syn;
    for (size_t k = 0; k < n; k++) {
        struct neti_tile *t = &net->tiles->t[sp->tile[k]];
        if (!(s->spike[k] = strdup(sp->spike[k])) || !(s->input[k] = strdup(sp->input[k])))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        if (t->n == t->cap) {
            size_t cap = t->cap ? 2 * t->cap : 4, *g = realloc(t->gid, cap * sizeof *g);
            if (!g)
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            t->gid = g;
            t->cap = cap;
        }
        s->tile[k] = sp->tile[k];
        s->q[k] = t->n;
        t->gid[t->n++] = p->gid0 + k;
    }
    s->spec.tile = s->tile;
    s->spec.spike = (const char *const *)s->spike;
    s->spec.input = (const char *const *)s->input;
    return SS_OK;
}

const ss_network_spice *ss_network_spice_spec(const ss_network *net, size_t pop)
{
    return pop < net->npops && net->pops[pop].spice ? &net->pops[pop].spice->spec : NULL;
}

void neti_tiles_free(ss_network *net)
{
    struct neti_tiles *ts = net->tiles;
    if (!ts)
        return;
    neti_tiles_stop(net);
    for (size_t k = 0; k < ts->n; k++) {
        ss_netlist_release(&ts->t[k].body);
        free(ts->t[k].gid);
        ss_buf_release(&ts->t[k].out);
    }
    free(ts->t);
    free(ts->off);
    free(ts->tile);
    free(ts->q);
    free(ts->w);
    free(ts->delay);
    free(ts->mx);
    free(ts->spk);
    free(ts);
    net->tiles = NULL;
}

/* ---- running ----------------------------------------------------------------- */

int neti_tiles_prepare(ss_network *net, ss_error *err)
{
    struct neti_tiles *ts = net->tiles;
    for (size_t pp = 0; pp < net->npops; pp++)
        if (net->pops[pp].kind == SS_POP_SPICE && !ts)
            return ss_error_set(err, SS_EINVAL, "network: SPICE population without a tile");
    if (!ts)
        return SS_OK;
    for (size_t k = 0; k < ts->n; k++)
        if (!ts->t[k].n)
            return ss_error_set(err, SS_EINVAL, "network: tile '%s' holds no neurons",
                                ts->t[k].name);
    for (size_t m = 0; m < net->nmx; m++)
        if (net->mx[m].plastic && net->pops[net->mx[m].post].kind == SS_POP_SPICE)
            return ss_error_set(err, SS_EINVAL, "network: a plastic crossbar cannot end in the "
                                                "SPICE population '%s'",
                                net->pops[net->mx[m].post].name);
    /* the synapses into tiles, CSR by presynaptic gid, delays in whole steps */
    size_t nn = net->nneurons, cnt = 0;
    if (!(ts->off = calloc(nn + 1, sizeof *ts->off)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; k < net->nsyn; k++)
        if (neti_pop_of_gid(net, net->syns[k].post)->kind == SS_POP_SPICE) {
            ts->off[net->syns[k].pre + 1]++;
            cnt++;
        }
    for (size_t g = 0; g < nn; g++)
        ts->off[g + 1] += ts->off[g];
    ts->tile = malloc((cnt ? cnt : 1) * sizeof *ts->tile);
    ts->q = malloc((cnt ? cnt : 1) * sizeof *ts->q);
    ts->w = malloc((cnt ? cnt : 1) * sizeof *ts->w);
    ts->delay = malloc((cnt ? cnt : 1) * sizeof *ts->delay);
    ts->mx = calloc(cnt ? cnt : 1, sizeof *ts->mx);
    size_t *fill = calloc(nn, sizeof *fill);
    if (!ts->tile || !ts->q || !ts->w || !ts->delay || !ts->mx || !fill) {
        free(fill);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < net->nsyn; k++) {
        const struct syn *sy = &net->syns[k];
        const struct pop *p = neti_pop_of_gid(net, sy->post);
        if (p->kind != SS_POP_SPICE)
            continue;
        size_t at = ts->off[sy->pre] + fill[sy->pre]++, i = sy->post - p->gid0;
        long d = lround(sy->delay / net->h);
        ts->tile[at] = p->spice->tile[i];
        ts->q[at] = p->spice->q[i];
        ts->w[at] = sy->w;
        ts->delay[at] = (double)(d < 1 ? 1 : d) * net->h;
        for (size_t m = 0; m < net->nmx; m++)
            if (k >= net->mx[m].syn0 && k < net->mx[m].syn0 + net->mx[m].rows * net->mx[m].cols)
                ts->mx[at] = m + 1;
    }
    free(fill);
    return SS_OK;
}

int neti_tiles_spike(ss_network *net, double t, size_t gid)
{
    struct neti_tiles *ts = net->tiles;
    for (size_t k = ts->off[gid]; k < ts->off[gid + 1]; k++) {
        struct neti_arrival a = {t + ts->delay[k], ts->w[k], (uint32_t)ts->q[k], 0};
        if (ss_buf_add(&ts->t[ts->tile[k]].out, (const char *)&a, sizeof a))
            return SS_ENOMEM;
    }
    return SS_OK;
}

static struct neti_tile *tile_of_job(struct neti_tiles *ts, uint64_t id)
{
    return id < ts->n ? &ts->t[id] : NULL;
}

/* Reads replies until every tile has reported (ended, when `ending`). */
static int await(ss_network *net, int ending, ss_error *err)
{
    struct neti_tiles *ts = net->tiles;
    for (;;) {
        size_t left = 0;
        for (size_t k = 0; k < ts->n; k++)
            left += ending ? !ts->t[k].ended : !ts->t[k].reported;
        if (!left)
            return SS_OK;
        ss_pool_reply r;
        int got = 0, rc = ss_pool_next(ts->pool, -1, &r, &got, err);
        if (rc)
            return rc;
        if (!got)
            return ss_error_set(err, SS_ECRASH, "network: the SPICE tiles' workers are gone");
        struct neti_tile *t = tile_of_job(ts, r.id);
        if (!t) {
            free(r.data);
            continue;
        }
        if (r.message) { /* spikes of this step: bracket, count, spikes */
            double bracket;
            uint64_t ns;
            if (r.len < sizeof bracket + sizeof ns) {
                free(r.data);
                return ss_error_set(err, SS_ECRASH, "network: SPICE tile '%s': a short message",
                                    t->name);
            }
            memcpy(&bracket, r.data, sizeof bracket);
            memcpy(&ns, r.data + sizeof bracket, sizeof ns);
            const char *at = r.data + sizeof bracket + sizeof ns;
            if ((r.len - sizeof bracket - sizeof ns) / sizeof(struct neti_tile_spike) < ns) {
                free(r.data);
                return ss_error_set(err, SS_ECRASH, "network: SPICE tile '%s': a short message",
                                    t->name);
            }
            if (ts->nspk + ns > ts->capspk) {
                size_t cap = 2 * (ts->nspk + ns) + 16;
                struct neti_tile_spike *s = realloc(ts->spk, cap * sizeof *s);
                if (!s) {
                    free(r.data);
                    return ss_error_set(err, SS_ENOMEM, "out of memory");
                }
                ts->spk = s;
                ts->capspk = cap;
            }
            for (uint64_t i = 0; i < ns; i++) {
                struct neti_tile_spike s;
                memcpy(&s, at + i * sizeof s, sizeof s);
                if (s.q >= t->n) {
                    free(r.data);
                    return ss_error_set(err, SS_ECRASH, "network: SPICE tile '%s': no neuron %u",
                                        t->name, s.q);
                }
                s.pad = s.q;                 /* the neuron in its tile */
                s.q = (uint32_t)(t - ts->t); /* the tile */
                ts->spk[ts->nspk++] = s;
            }
            net->tile_bracket = fmax(net->tile_bracket, bracket);
            t->reported = 1;
            free(r.data);
            continue;
        }
        /* the job ended */
        t->ended = 1;
        int status = r.status;
        if (!status && r.len >= sizeof t->points + sizeof t->cpu) {
            memcpy(&t->points, r.data, sizeof t->points);
            memcpy(&t->cpu, r.data + sizeof t->points, sizeof t->cpu);
        }
        free(r.data);
        if (status)
            return ss_error_set(err, status, "network: SPICE tile '%s': %s", t->name, r.msg);
        if (!ending)
            return ss_error_set(err, SS_ECRASH, "network: SPICE tile '%s' ended at t = %g s",
                                t->name, net->t);
    }
}

int neti_tiles_start(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err)
{
    struct neti_tiles *ts = net->tiles;
    if (ts->started || net->t > 0)
        return ss_error_set(err, SS_EINVAL, "network: a network with SPICE tiles runs from 0 to "
                                            "tstop in one call");
    ts->started = 1;
    ts->tstop = ceil(tstop / net->h - 1e-12) * net->h;
    ts->engine = opt->engine;
    int rc = ss_util_temp_dir(ts->run_dir, "smallsim-tiles", err);
    if (rc)
        return rc;
    if (!(ts->pool = ss_pool_alloc(&neti_tile_kind, net, (int)ts->n, 0, err)))
        return err ? err->code : SS_ENOMEM;
    for (size_t k = 0; !rc && k < ts->n; k++)
        rc = ss_pool_submit(ts->pool, k, &k, sizeof k, err);
    /* every worker reports the circuit's operating point first */
    return rc ? rc : await(net, 0, err);
}

/* Answers every tile: run to `target`, with these arrivals. */
static int answer(ss_network *net, double target, ss_error *err)
{
    struct neti_tiles *ts = net->tiles;
    ss_buf a = SS_BUF_INIT;
    int rc = SS_OK;
    for (size_t k = 0; !rc && k < ts->n; k++) {
        struct neti_tile *t = &ts->t[k];
        a.len = 0;
        if (ss_buf_add(&a, (const char *)&target, sizeof target) ||
            ss_buf_add(&a, t->out.data ? t->out.data : "", t->out.len)) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
        t->out.len = 0;
        t->reported = 0;
        rc = ss_pool_answer(ts->pool, k, a.data, a.len, err);
    }
    ss_buf_release(&a);
    return rc;
}

int neti_tiles_begin(ss_network *net, ss_error *err)
{
    return answer(net, (double)(net->step + 1) * net->h, err);
}

static int by_time(const void *a, const void *b)
{
    const struct neti_tile_spike *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    return x->q != y->q ? (x->q > y->q) - (x->q < y->q) : (x->pad > y->pad) - (x->pad < y->pad);
}

int neti_tiles_end(ss_network *net, ss_error *err)
{
    struct neti_tiles *ts = net->tiles;
    ts->nspk = 0;
    int rc = await(net, 0, err);
    if (rc)
        return rc;
    if (ts->nspk > 1)
        qsort(ts->spk, ts->nspk, sizeof *ts->spk, by_time);
    for (size_t i = 0; i < ts->nspk; i++) {
        size_t gid = ts->t[ts->spk[i].q].gid[ts->spk[i].pad];
        struct pop *p = (struct pop *)neti_pop_of_gid(net, gid);
        if (neti_record_spike(net, ts->spk[i].t, gid))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        p->nspikes++;
    }
    return SS_OK;
}

int neti_tiles_finish(ss_network *net, ss_error *err)
{
    int rc = answer(net, INFINITY, err);
    if (!rc)
        rc = await(net, 1, err);
    if (!rc)
        neti_tiles_stop(net);
    return rc;
}

void neti_tiles_stop(ss_network *net)
{
    struct neti_tiles *ts = net->tiles;
    if (!ts)
        return;
    ss_pool_free(ts->pool); /* kills workers still running */
    ts->pool = NULL;
    if (ts->run_dir[0])
        ss_util_remove_tree(ts->run_dir);
    ts->run_dir[0] = '\0';
}
