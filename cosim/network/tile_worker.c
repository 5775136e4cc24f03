/* tile_worker.c: a SPICE tile's worker process.  The worker was forked
 * from the running network (pool/), so it holds the network as it was at
 * the start of the run; it confines itself to the tile body's folders and
 * a run folder, loads the body with a .tran to the run's end and runs it
 * in one piece.  Inside the engine's hooks:
 *   - each neuron's EXTERNAL source gives its bias, current steps and
 *     synaptic current as a pure function of time and of what was
 *     committed at the last accepted point (ngspice calls it on every
 *     Newton iteration and at rejected trial times); an input that starts
 *     at a breakpoint counts from after it (the point on an edge ends the
 *     step before it);
 *   - at every accepted point, spikes are upward threshold crossings,
 *     interpolated linearly, and the inputs that have started are
 *     committed;
 *   - at every exchange point (steps are bounded so that ngspice lands on
 *     it) the worker sends the step's spikes to the network and waits for
 *     the next target time and the inputs that will arrive, each of which
 *     gets breakpoints at its corners. */
#include "cosim/network/network_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One neuron of the tile. */
struct wneuron {
    const ss_network_spice *sp;
    size_t vec;       /* its spike vector among the accepted point's vectors */
    double prev;      /* that vector at the previous accepted point */
    double bias;      /* bias plus the current steps committed so far */
    double *st_t, *st_a; /* its current steps (time order) ... */
    size_t nst, next_st; /* ... and the first not yet committed */
    double x0, tb;    /* exponential input: the committed current at tb */
    struct neti_arrival *ev; /* inputs not yet committed (exponential) or not
                              * yet over (pulses), in time order */
    size_t nev, capev;
};

/* An input source's name (lower case: ngspice passes them so) and neuron. */
struct wname {
    char *name;
    size_t q;
};

struct wjob {
    ss_network *net;
    struct neti_tile *tile;
    ss_engine *eng;
    struct wneuron *nr;
    struct wname *names;
    size_t n;
    double target, eps, prev_t, bracket;
    int have_idx, started;
    long points;
    ss_buf spikes, answer;
    ss_error err;
    int failed;
};

/* ---- inputs ---------------------------------------------------------------- */

static double trapezoid(const ss_network_spice *sp, double dt)
{
    double e = sp->edge, w = sp->width;
    if (dt <= 0)
        return 0;
    if (dt < e)
        return dt / e;
    if (dt <= e + w)
        return 1;
    if (dt < 2 * e + w)
        return 1 - (dt - e - w) / e;
    return 0;
}

static double input_value(const struct wjob *j, const struct wneuron *w, double t)
{
    const ss_network_spice *sp = w->sp;
    double b = w->bias, syn = 0, cut = t - j->eps;
    for (size_t s = w->next_st; s < w->nst && w->st_t[s] < cut; s++)
        b += w->st_a[s];
    if (sp->shape == SS_INPUT_EXPONENTIAL) {
        if (w->x0 != 0)
            syn = w->x0 * exp(-(t - w->tb) / sp->tau_syn);
        for (size_t e = 0; e < w->nev && w->ev[e].t < cut; e++)
            syn += w->ev[e].w * exp(-(t - w->ev[e].t) / sp->tau_syn);
    } else {
        for (size_t e = 0; e < w->nev && w->ev[e].t < t; e++)
            syn += w->ev[e].w * trapezoid(sp, t - w->ev[e].t);
    }
    /* the bias ramps up over the first microsecond, so the operating point
     * is the circuit at rest (a DC input can hold a spiking neuron in a
     * fixed point) */
    return b * fmin(1.0, t / 1e-6) + sp->gain * syn;
}

/* Commits what started at or before the accepted time t. */
static void commit(const struct wjob *j, struct wneuron *w, double t)
{
    const ss_network_spice *sp = w->sp;
    while (w->next_st < w->nst && w->st_t[w->next_st] <= t + j->eps)
        w->bias += w->st_a[w->next_st++];
    size_t drop = 0;
    if (sp->shape == SS_INPUT_EXPONENTIAL) {
        for (; drop < w->nev && w->ev[drop].t <= t + j->eps; drop++) {
            const struct neti_arrival *a = &w->ev[drop];
            w->x0 = w->x0 * exp(-(a->t - w->tb) / sp->tau_syn) + a->w;
            w->tb = a->t;
        }
    } else { /* pulses of one population all last as long: over in start order */
        double len = 2 * sp->edge + sp->width;
        while (drop < w->nev && w->ev[drop].t + len < t - j->eps)
            drop++;
    }
    if (drop) {
        memmove(w->ev, w->ev + drop, (w->nev - drop) * sizeof *w->ev);
        w->nev -= drop;
    }
}

/* Takes an arrival into neuron q's list, with breakpoints at its corners. */
static int arrive(struct wjob *j, const struct neti_arrival *a, double now)
{
    struct wneuron *w = &j->nr[a->q];
    if (w->nev == w->capev) {
        size_t cap = w->capev ? 2 * w->capev : 8;
        struct neti_arrival *e = realloc(w->ev, cap * sizeof *e);
        if (!e)
            return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
        w->ev = e;
        w->capev = cap;
    }
    size_t at = w->nev;
    while (at > 0 && w->ev[at - 1].t > a->t) /* insertion: arrivals come nearly in order */
        at--;
    memmove(w->ev + at + 1, w->ev + at, (w->nev - at) * sizeof *w->ev);
    w->ev[at] = *a;
    w->nev++;
    const ss_network_spice *sp = w->sp;
    double corner[4] = {a->t, a->t + sp->edge, a->t + sp->edge + sp->width,
                        a->t + 2 * sp->edge + sp->width};
    int nc = sp->shape == SS_INPUT_PULSE ? 4 : 1;
    for (int c = 0; c < nc; c++)
        if (ss_engine_breakpoint(j->eng, fmax(corner[c], now)))
            return ss_error_set(&j->err, SS_ESIM, "no breakpoint at t = %g s", corner[c]);
    return SS_OK;
}

/* ---- the engine's hooks ----------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct wname *)a)->name, ((const struct wname *)b)->name);
}

static int tile_source(void *user, const char *name, double t, double *value)
{
    struct wjob *j = user;
    struct wname key = {(char *)name, 0};
    const struct wname *f = bsearch(&key, j->names, j->n, sizeof *j->names, by_name);
    if (!f) {
        if (!j->failed)
            ss_error_set(&j->err, SS_ENOTFOUND, "the EXTERNAL source '%s' feeds no SPICE neuron",
                         name);
        j->failed = 1;
        return 1;
    }
    *value = input_value(j, &j->nr[f->q], t);
    return 0;
}

static double tile_max_step(void *user, double t)
{
    struct wjob *j = user;
    double left = j->target - t;
    return left > j->eps ? fmin(j->tile->tmax, left) : j->tile->tmax;
}

/* Each neuron's spike vector among the point's vectors ("v(x0.vrst)"
 * arrives as "x0.vrst"). */
static int find_vectors(struct wjob *j, const ss_engine_point *pt)
{
    for (size_t q = 0; q < j->n; q++) {
        const struct pop *p = neti_pop_of_gid(j->net, j->tile->gid[q]);
        const char *want = p->spice->spike[j->tile->gid[q] - p->gid0];
        size_t wl = strlen(want);
        if (wl > 3 && (want[0] == 'v' || want[0] == 'V') && want[1] == '(' && want[wl - 1] == ')')
            want += 2, wl -= 3;
        j->nr[q].vec = SIZE_MAX;
        for (size_t k = 0; k < pt->n; k++)
            if (strlen(pt->names[k]) == wl && !strncasecmp(pt->names[k], want, wl))
                j->nr[q].vec = k;
        if (j->nr[q].vec == SIZE_MAX)
            return ss_error_set(&j->err, SS_ENOTFOUND, "no vector '%s' in the tile (neuron %zu "
                                                       "of '%s')",
                                p->spice->spike[j->tile->gid[q] - p->gid0],
                                j->tile->gid[q] - p->gid0, p->name);
    }
    j->have_idx = 1;
    return SS_OK;
}

/* At an exchange point: the step's spikes out, the next target and the
 * arrivals in. */
static int exchange(struct wjob *j, double now)
{
    ss_buf *m = &j->spikes;
    uint64_t ns = (m->len - sizeof(double) - sizeof ns) / sizeof(struct neti_tile_spike);
    memcpy(m->data, &j->bracket, sizeof j->bracket);
    memcpy(m->data + sizeof j->bracket, &ns, sizeof ns);
    int rc = ss_pool_job_message(m->data, m->len, &j->answer, &j->err);
    if (rc)
        return rc;
    if (j->answer.len < sizeof j->target ||
        (j->answer.len - sizeof j->target) % sizeof(struct neti_arrival))
        return ss_error_set(&j->err, SS_EIO, "a malformed answer from the network");
    memcpy(&j->target, j->answer.data, sizeof j->target);
    size_t na = (j->answer.len - sizeof j->target) / sizeof(struct neti_arrival);
    for (size_t k = 0; k < na; k++) {
        struct neti_arrival a;
        memcpy(&a, j->answer.data + sizeof j->target + k * sizeof a, sizeof a);
        if (a.q >= j->n)
            return ss_error_set(&j->err, SS_EIO, "an input for neuron %u of %zu", a.q, j->n);
        if ((rc = arrive(j, &a, now)))
            return rc;
    }
    j->bracket = 0;
    m->len = sizeof(double) + sizeof ns; /* the header of the next message */
    return SS_OK;
}

static int tile_accept(void *user, const ss_engine_point *pt)
{
    struct wjob *j = user;
    if (j->failed || (!j->have_idx && find_vectors(j, pt)))
        return j->failed = 1;
    j->points++;
    for (size_t q = 0; q < j->n; q++) {
        struct wneuron *w = &j->nr[q];
        double v = pt->values[w->vec], th = w->sp->threshold;
        if (j->started && w->prev < th && v >= th) {
            double f = (th - w->prev) / (v - w->prev);
            struct neti_tile_spike s = {j->prev_t + f * (pt->t - j->prev_t), (uint32_t)q, 0};
            if (ss_buf_add(&j->spikes, (const char *)&s, sizeof s)) {
                ss_error_set(&j->err, SS_ENOMEM, "out of memory");
                return j->failed = 1;
            }
            j->bracket = fmax(j->bracket, pt->t - j->prev_t);
        }
        w->prev = v;
        commit(j, w, pt->t);
    }
    j->prev_t = pt->t;
    j->started = 1;
    if (pt->t >= j->target - j->eps && exchange(j, pt->t))
        return j->failed = 1;
    return 0;
}

/* ---- the job ---------------------------------------------------------------- */

static int worker_start(void *arg, void **state, ss_error *err)
{
    ss_network *net = arg;
    if (net->tiles->engine) { /* inherited from the caller's process */
        *state = net->tiles->engine;
        return SS_OK;
    }
    ss_engine *eng;
    int rc = ss_engine_open(&eng, err);
    *state = rc ? NULL : eng;
    return rc;
}

static void worker_stop(void *state, void *arg)
{
    ss_network *net = arg;
    if (state != net->tiles->engine)
        ss_engine_free(state);
}

/* The neurons: parameters, bias, current steps, input names. */
static int setup(struct wjob *j)
{
    ss_network *net = j->net;
    j->n = j->tile->n;
    j->nr = calloc(j->n, sizeof *j->nr);
    j->names = calloc(j->n, sizeof *j->names);
    if (!j->nr || !j->names)
        return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
    for (size_t q = 0; q < j->n; q++) {
        size_t gid = j->tile->gid[q];
        const struct pop *p = neti_pop_of_gid(net, gid);
        size_t i = gid - p->gid0;
        struct wneuron *w = &j->nr[q];
        w->sp = &p->spice->spec;
        w->bias = p->bias[i];
        for (size_t s = 0; s < net->nsteps_in; s++) /* sorted by time at the first run */
            if (&net->pops[net->steps_in[s].pop] == p && net->steps_in[s].idx == i) {
                double *a = realloc(w->st_t, (w->nst + 1) * sizeof *a), *b;
                if (a)
                    w->st_t = a;
                if (!a || !(b = realloc(w->st_a, (w->nst + 1) * sizeof *b)))
                    return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
                w->st_a = b;
                w->st_t[w->nst] = net->steps_in[s].t;
                w->st_a[w->nst++] = net->steps_in[s].amp;
                if (ss_engine_breakpoint(j->eng, net->steps_in[s].t))
                    return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
            }
        char *nm = strdup(p->spice->input[i]);
        if (!nm)
            return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
        for (char *c = nm; *c; c++)
            *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        j->names[q] = (struct wname){nm, q};
    }
    qsort(j->names, j->n, sizeof *j->names, by_name);
    return SS_OK;
}

/* The deck: a title, the body, the spike vectors saved, a .tran to the
 * run's end, .end (the engine sends lines 1 .. n-2 between the title and
 * its own .end). */
static int deck(struct wjob *j, double tstop)
{
    ss_netlist *nl = &j->tile->body; /* the worker's own copy (fork) */
    ss_buf save = SS_BUF_INIT;
    char title[128];
    snprintf(title, sizeof title, "smallsim tile %s", j->tile->name);
    if (ss_netlist_set_line(nl, 0, title))
        return ss_error_set(&j->err, SS_ENOMEM, "out of memory");
    int rc = ss_buf_printf(&save, ".save");
    for (size_t q = 0; !rc && q < j->n; q++) {
        const struct pop *p = neti_pop_of_gid(j->net, j->tile->gid[q]);
        rc = ss_buf_printf(&save, " %s", p->spice->spike[j->tile->gid[q] - p->gid0]);
    }
    char tran[128];
    snprintf(tran, sizeof tran, ".tran %.17g %.17g 0 %.17g", j->tile->tmax, tstop, j->tile->tmax);
    if (rc || ss_netlist_add_line(nl, save.data, NULL, &j->err) ||
        ss_netlist_add_line(nl, tran, NULL, &j->err) || ss_netlist_append(nl, ".end", NULL, 0))
        rc = ss_error_set(&j->err, SS_ENOMEM, "out of memory");
    ss_buf_release(&save);
    return rc;
}

static void job_release(struct wjob *j)
{
    for (size_t q = 0; j->nr && q < j->n; q++) {
        free(j->nr[q].st_t);
        free(j->nr[q].st_a);
        free(j->nr[q].ev);
    }
    for (size_t q = 0; j->names && q < j->n; q++)
        free(j->names[q].name);
    free(j->nr);
    free(j->names);
    ss_buf_release(&j->spikes);
    ss_buf_release(&j->answer);
}

static int worker_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                      ss_error *err)
{
    ss_network *net = arg;
    struct neti_tiles *ts = net->tiles;
    size_t k;
    if (len != sizeof k)
        return ss_error_set(err, SS_EINVAL, "a malformed tile request");
    memcpy(&k, req, sizeof k);
    if (k >= ts->n)
        return ss_error_set(err, SS_EINVAL, "no tile %zu", k);
    struct wjob j = {.net = net, .tile = &ts->t[k], .eng = state, .eps = 1e-9 * net->h};
    ss_error_clear(&j.err);
    ss_result res = SS_RESULT_INIT;
    /* a run folder of its own below the caller's, confined to it */
    char dir[4096 + 16];
    snprintf(dir, sizeof dir, "%s/w-XXXXXX", ts->run_dir);
    int rc = mkdtemp(dir) ? SS_OK : ss_error_set(&j.err, SS_EIO, "cannot create a run folder in "
                                                                 "'%s'", ts->run_dir);
    if (!rc)
        rc = ss_engine_confine(j.eng, &j.tile->body, dir, NULL, 0, &j.err);
    double zero = 0;
    uint64_t none = 0;
    if (!rc && (ss_buf_add(&j.spikes, (const char *)&zero, sizeof zero) ||
                ss_buf_add(&j.spikes, (const char *)&none, sizeof none)))
        rc = ss_error_set(&j.err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = setup(&j);
    if (!rc)
        rc = deck(&j, ts->tstop);
    if (!rc) {
        ss_engine_hooks hooks = {tile_source, tile_accept, tile_max_step, &j};
        ss_engine_set_hooks(j.eng, &hooks);
        rc = ss_engine_load(j.eng, &j.tile->body, &j.err);
        if (!rc) {
            ss_error e;
            rc = ss_engine_run(j.eng, &res, &e);
            if (rc && !j.failed && !j.have_idx) /* (ngspice saves nothing it does not know) */
                ss_error_set(&j.err, rc, "%s (are the spike vectors in the tile?)", e.msg);
            else if (rc && !j.failed)
                j.err = e;
        }
        ss_engine_set_hooks(j.eng, NULL);
    }
    if (!rc && j.failed)
        rc = j.err.code ? j.err.code : SS_ESIM;
    ss_result_release(&res);
    if (!rc) {
        double cpu = ss_util_cpu_time();
        if (ss_buf_add(reply, (const char *)&j.points, sizeof j.points) ||
            ss_buf_add(reply, (const char *)&cpu, sizeof cpu))
            rc = ss_error_set(&j.err, SS_ENOMEM, "out of memory");
    }
    job_release(&j);
    return rc ? ss_error_set(err, rc, "%s", j.err.msg[0] ? j.err.msg : ss_strerror(rc)) : SS_OK;
}

const ss_pool_kind neti_tile_kind = {"spice-tile", worker_start, worker_run, worker_stop};
