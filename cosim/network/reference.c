/* reference.c: a network of SPICE tiles written as one ngspice deck, the
 * full-SPICE reference its co-simulation is checked against.
 *
 * Each tile's element lines go into a subcircuit of their own (so that
 * tiles built from the same generator do not clash), with the nodes of
 * its neurons' input sources as ports; its models, subcircuits, options
 * and parameters are written once at the top level (identical copies
 * merge, differing ones are an error).  What the network computes around
 * the tiles is written out as circuit elements:
 *   - a spike source's spikes as PWL voltages: unit read pulses (the
 *     target population's trapezoid) starting at spike + delay;
 *   - a tile neuron's spikes through an edge-triggered sample and hold of
 *     the time on its spike vector: the same unit pulse after it;
 *   - a memristive crossbar projection as the crossbar netlist with the
 *     devices' subcircuits in their states (netlists/), word line i driven
 *     by the read voltage times presynaptic neuron i's unit pulse, bit line
 *     j's sense current times the target's gain into neuron j's input;
 *   - other synapses as behavioural currents: gain times weight times the
 *     unit pulse (pulse inputs), or exponentials from the arrival times of
 *     a source's spikes (exponential inputs);
 *   - biases and current steps as PWL currents (the bias ramped up over
 *     the first microsecond, steps 1 ps wide).
 * So the deck differs from the co-simulation in what the network abstracts:
 * the crossbar is the full device circuit instead of its linear read, and
 * the pulses a tile neuron's spikes fire have no breakpoints at their
 * corners (ngspice's step control finds them). */
#include "cosim/network/network_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One definition (.model, .subckt block) or global line, by name. */
struct def {
    char kind[16], name[128];
    char *text;
    size_t tile;
};

struct ref {
    const ss_network *net;
    ss_buf defs, globals, body;
    struct def *d;
    size_t nd;
    ss_error *err;
};

static int oom(struct ref *r)
{
    return ss_error_set(r->err, SS_ENOMEM, "out of memory");
}

static int starts(const char *s, const char *w)
{
    return !strncasecmp(s, w, strlen(w)) && (!s[strlen(w)] || strchr(" \t(", s[strlen(w)]));
}

/* Merges a definition: a copy of one seen before is dropped, a different
 * one under the same name is an error. */
static int define(struct ref *r, const char *kind, const char *text, size_t tile, ss_buf *out)
{
    char name[128] = "";
    const char *s = text + strcspn(text, " \t");
    s += strspn(s, " \t");
    size_t len = strcspn(s, " \t\n(");
    if (!strcmp(kind, "global") || !strcmp(kind, "options")) /* merged by their text */
        len = 0;
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), s);
    for (size_t k = 0; k < r->nd; k++) {
        struct def *d = &r->d[k];
        if (strcmp(d->kind, kind))
            continue;
        if (!strcmp(d->text, text))
            return SS_OK;
        if (len && !strcasecmp(d->name, name))
            return ss_error_set(r->err, SS_EINVAL,
                                "network reference: tiles '%s' and '%s' define %s '%s' "
                                "differently; one deck needs one definition",
                                r->net->tiles->t[d->tile].name, r->net->tiles->t[tile].name,
                                kind, name);
        if (!strcmp(kind, "options"))
            return ss_error_set(r->err, SS_EINVAL,
                                "network reference: tiles '%s' and '%s' set different .options",
                                r->net->tiles->t[d->tile].name, r->net->tiles->t[tile].name);
    }
    struct def *d = realloc(r->d, (r->nd + 1) * sizeof *d);
    if (!d)
        return oom(r);
    r->d = d;
    d += r->nd;
    snprintf(d->kind, sizeof d->kind, "%s", kind);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->tile = tile;
    if (!(d->text = strdup(text)))
        return oom(r);
    r->nd++;
    return ss_buf_printf(out, "%s", text) ? oom(r) : SS_OK;
}

/* The first two nodes of an element line ("iext0 vddb vin_0 external"). */
static void two_nodes(const char *line, char a[64], char b[64])
{
    char name[64];
    a[0] = b[0] = '\0';
    sscanf(line, "%63s %63s %63s", name, a, b);
}

/* Is `line` the input source of one of tile t's neurons? */
static int is_input(const ss_network *net, const struct neti_tile *t, const char *line)
{
    for (size_t q = 0; q < t->n; q++) {
        const struct pop *p = neti_pop_of_gid(net, t->gid[q]);
        const char *in = p->spice->input[t->gid[q] - p->gid0];
        if (starts(line, in))
            return 1;
    }
    return 0;
}

/* Port names of tile t: the nodes of its input sources (ground excluded). */
static int tile_ports(const ss_network *net, const struct neti_tile *t, char ***ports, size_t *np)
{
    *ports = NULL;
    *np = 0;
    for (size_t i = 1; i < t->body.n; i++) {
        const char *s = t->body.lines[i].text;
        s += strspn(s, " \t");
        if (!is_input(net, t, s))
            continue;
        char nd[2][64];
        two_nodes(s, nd[0], nd[1]);
        for (int m = 0; m < 2; m++) {
            int seen = !strcmp(nd[m], "0") || !strcasecmp(nd[m], "gnd");
            for (size_t k = 0; !seen && k < *np; k++)
                seen = !strcasecmp((*ports)[k], nd[m]);
            if (seen)
                continue;
            char **pp = realloc(*ports, (*np + 1) * sizeof *pp);
            if (!pp)
                return SS_ENOMEM;
            *ports = pp;
            if (!(pp[(*np)++] = strdup(nd[m])))
                return SS_ENOMEM;
        }
    }
    return SS_OK;
}

/* ".ic v(a)=1 v(b)=2" with every node moved into instance xt<t>. */
static int prefix_nodes(const char *line, size_t t, ss_buf *out)
{
    int rc = SS_OK;
    for (const char *s = line; !rc && *s;) {
        const char *v = strcasestr(s, "v(");
        if (!v)
            return ss_buf_printf(out, "%s\n", s);
        rc = ss_buf_printf(out, "%.*sv(xt%zu.", (int)(v - s), s, t);
        s = v + 2;
    }
    return rc ? rc : ss_buf_add(out, "\n", 1);
}

/* The .model and .subckt names tile t defines (heap strings). */
static int defined_names(const ss_netlist *nl, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    for (size_t i = 1; i < nl->n; i++) {
        const char *s = nl->lines[i].text;
        s += strspn(s, " \t");
        if (!starts(s, ".model") && !starts(s, ".subckt"))
            continue;
        s += strcspn(s, " \t");
        s += strspn(s, " \t");
        size_t len = strcspn(s, " \t(");
        char **nn = realloc(*names, (*n + 1) * sizeof *nn);
        if (!nn || !len)
            return nn ? SS_OK : SS_ENOMEM;
        *names = nn;
        if (!(nn[*n] = strndup(s, len)))
            return SS_ENOMEM;
        (*n)++;
    }
    return SS_OK;
}

/* `line` with every whole word that names one of the tile's models or
 * subcircuits suffixed _tl<t>: each tile gets its own definitions.  (One
 * model card shared by all tiles would not do: ngspice 39's BSIM3v3.1
 * takes the overlap capacitances of a transistor whose size an earlier
 * instance of the same model already had from the last size it computed,
 * b3v1temp.c, so identical neurons sharing cards differ; with cards of
 * their own, each tile's transistors meet ngspice as in the tile's own
 * run.) */
static int rename_line(char *const *names, size_t n, size_t t, const char *line, ss_buf *out)
{
    for (const char *p = line; *p;) {
        size_t gap = strspn(p, " \t=(),");
        if (gap) {
            if (ss_buf_add(out, p, gap))
                return SS_ENOMEM;
            p += gap;
            continue;
        }
        size_t len = strcspn(p, " \t=(),");
        int hit = 0;
        for (size_t k = 0; k < n && !hit; k++)
            hit = strlen(names[k]) == len && !strncasecmp(names[k], p, len);
        if (ss_buf_add(out, p, len) || (hit && ss_buf_printf(out, "_tl%zu", t)))
            return SS_ENOMEM;
        p += len;
    }
    return ss_buf_add(out, "\n", 1) ? SS_ENOMEM : SS_OK;
}

/* Tile t: definitions and global lines merged, elements wrapped. */
static int write_tile(struct ref *r, size_t t)
{
    const ss_network *net = r->net;
    const struct neti_tile *tl = &net->tiles->t[t];
    const ss_netlist *nl = &tl->body;
    char **ports, **names;
    size_t np, nnames;
    if (tile_ports(net, tl, &ports, &np) || defined_names(nl, &names, &nnames))
        return oom(r);
    ss_buf inner = SS_BUF_INIT, stmt = SS_BUF_INIT;
    int rc = SS_OK, depth = 0;
    const char *kind = NULL; /* of the statement being collected */
    for (size_t i = 1; !rc && i <= nl->n; i++) {
        const char *s = i < nl->n ? nl->lines[i].text : ".end";
        s += strspn(s, " \t");
        if (*s == '+' && kind) { /* a continuation */
            rc = rename_line(names, nnames, t, s, &stmt) ? oom(r) : SS_OK;
            continue;
        }
        if (depth == 0 && kind) { /* the statement before is complete */
            if (!strcmp(kind, "elem"))
                rc = ss_buf_printf(&inner, "%s", stmt.data) ? oom(r) : SS_OK;
            else if (!strcmp(kind, "ic"))
                rc = prefix_nodes(stmt.data, t, &r->globals) ? oom(r) : SS_OK;
            else if (!strcmp(kind, "options") || !strcmp(kind, "global"))
                rc = define(r, kind, stmt.data, t, &r->globals);
            else if (strcmp(kind, "drop")) /* the tile's own models and subcircuits */
                rc = ss_buf_printf(&r->defs, "%s", stmt.data) ? oom(r) : SS_OK;
            kind = NULL;
            stmt.len = 0;
        }
        if (rc || !*s || *s == '*' || (*s == '+' && !kind))
            continue;
        if (depth > 0) { /* inside a .subckt definition */
            if (starts(s, ".subckt"))
                depth++;
            else if (starts(s, ".ends"))
                depth--;
            rc = rename_line(names, nnames, t, s, &stmt) ? oom(r) : SS_OK;
            continue;
        }
        if (i == nl->n || ss_netlist_classify(s) == SS_NETLIST_END)
            break;
        if (starts(s, ".subckt")) {
            kind = "subckt";
            depth = 1;
        } else if (starts(s, ".model")) {
            kind = "model";
        } else if (starts(s, ".options") || starts(s, ".option") || starts(s, ".opt")) {
            kind = "options";
        } else if (starts(s, ".param") || starts(s, ".func") || starts(s, ".global") ||
                   starts(s, ".temp") || starts(s, ".csparam")) {
            kind = "global";
        } else if (starts(s, ".ic") || starts(s, ".nodeset")) {
            kind = "ic";
        } else if (starts(s, ".save") || starts(s, ".print") || starts(s, ".probe") ||
                   starts(s, ".meas") || starts(s, ".measure") || starts(s, ".width")) {
            kind = "drop";
        } else if (*s == '.') {
            rc = ss_error_set(r->err, SS_EPARSE, "%s:%d: the network reference cannot take "
                                                 "'%.20s' from tile '%s'",
                              nl->lines[i].file, nl->lines[i].line, s, tl->name);
        } else {
            kind = is_input(net, tl, s) ? "drop" : "elem";
        }
        if (!rc && rename_line(names, nnames, t, s, &stmt))
            rc = oom(r);
    }
    if (!rc) {
        rc = ss_buf_printf(&r->body, "* tile '%s'\n.subckt smallsim_tile%zu", tl->name, t);
        for (size_t k = 0; !rc && k < np; k++)
            rc = ss_buf_printf(&r->body, " %s", ports[k]);
        if (!rc)
            rc = ss_buf_printf(&r->body, "\n%s.ends smallsim_tile%zu\nxt%zu", inner.data ? inner.data : "",
                               t, t);
        for (size_t k = 0; !rc && k < np; k++)
            rc = ss_buf_printf(&r->body, " tl%zu_%s", t, ports[k]);
        if (!rc)
            rc = ss_buf_printf(&r->body, " smallsim_tile%zu\n", t);
        if (rc)
            rc = oom(r);
    }
    for (size_t k = 0; k < np; k++)
        free(ports[k]);
    free(ports);
    for (size_t k = 0; k < nnames; k++)
        free(names[k]);
    free(names);
    ss_buf_release(&inner);
    ss_buf_release(&stmt);
    return rc;
}

/* The deck's name of a tile node ("0" stays "0"). */
static void top_node(size_t t, const char *node, char *out, size_t size)
{
    if (!strcmp(node, "0") || !strcasecmp(node, "gnd"))
        snprintf(out, size, "0");
    else
        snprintf(out, size, "tl%zu_%s", t, node);
}

/* A tile neuron's spike vector inside instance xt<t> ("v(x0.vrst)" becomes
 * "v(xt3.x0.vrst)"). */
static void vector_in(size_t t, const char *spike, char *out, size_t size)
{
    size_t len = strlen(spike);
    if (len > 3 && (spike[0] == 'v' || spike[0] == 'V') && spike[1] == '(' && spike[len - 1] == ')')
        snprintf(out, size, "v(xt%zu.%.*s)", t, (int)(len - 3), spike + 2);
    else
        snprintf(out, size, "v(xt%zu.%s)", t, spike);
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The unit pulses of presynaptic neuron gid for a target population of
 * shape sp, delayed by d: node "pu<gid>_<k>", written once per (gid, d,
 * shape).  Sources replay their spikes as PWL; tile neurons trigger an
 * XSPICE oneshot on their spike vector. */
struct pulse_node {
    size_t gid;
    double d, width, edge;
};

static int pulse_node(struct ref *r, struct pulse_node **pn, size_t *npn, size_t gid, double d,
                      const ss_network_spice *sp, char *name, size_t size)
{
    const ss_network *net = r->net;
    for (size_t k = 0; k < *npn; k++)
        if ((*pn)[k].gid == gid && (*pn)[k].d == d && (*pn)[k].width == sp->width &&
            (*pn)[k].edge == sp->edge) {
            snprintf(name, size, "pu%zu_%zu", gid, k);
            return SS_OK;
        }
    struct pulse_node *p = realloc(*pn, (*npn + 1) * sizeof *p);
    if (!p)
        return oom(r);
    *pn = p;
    size_t k = (*npn)++;
    p[k] = (struct pulse_node){gid, d, sp->width, sp->edge};
    snprintf(name, size, "pu%zu_%zu", gid, k);
    const struct pop *pre = neti_pop_of_gid(net, gid);
    double e = sp->edge, w = sp->width;
    if (pre->kind == SS_POP_SPICE) {
        /* an edge-triggered sample of the time: h1 follows the time node
         * while the spike vector is below threshold and holds it above;
         * h2 follows h1 above threshold and holds it below, so h2 holds the
         * time of the last upward crossing (to the 10 ps of the tracking: a
         * DPI spike stays above threshold for a few ns; the conductances
         * never fall below 1e-16 S, which moves a held time by 1e-10 s in
         * 0.1 ms),
         * and the pulse is the trapezoid after it.  (XSPICE's oneshot
         * stopped ngspice with "timestep too small" at spikes when reltol
         * was 1e-6 or less.) */
        size_t i = gid - pre->gid0, t = pre->spice->tile[i];
        double th = pre->spice->spec.threshold;
        char vec[256], sw[320], gate[320];
        vector_in(t, pre->spice->spike[i], vec, sizeof vec);
        snprintf(sw, sizeof sw, "1/(1 + exp(-(%s - %.17g)/0.01))", vec, th);
        /* while h2 moves to a new time it sweeps through the old pulse's
         * shape: the pulse is off from half the threshold up */
        snprintf(gate, sizeof gate, "1/(1 + exp((%s - %.17g)/0.01))", vec, 0.5 * th);
        return ss_buf_printf(&r->body,
                             "ch1%s h1%s 0 1p\nbh1%s 0 h1%s I = 0.1*(v(smallsim_time) - v(h1%s))*"
                             "(1 - %s + 1e-15)\nch2%s h2%s 0 1p\n"
                             "bh2%s 0 h2%s I = 0.1*(v(h1%s) - v(h2%s))*(%s + 1e-15)\n"
                             ".ic v(h2%s)=-1\n"
                             "bpu%s %s 0 V = (max(0, min(1, (time - v(h2%s) - %.17g)/%.17g)) - "
                             "max(0, min(1, (time - v(h2%s) - %.17g)/%.17g)))*%s\n",
                             name, name, name, name, name, sw, name, name, name, name, name, name,
                             sw, name, name, name, name, d, e, name, d + e + w, e, gate)
                   ? oom(r)
                   : SS_OK;
    }
    if (pre->kind != SS_POP_POISSON && pre->kind != SS_POP_REGULAR && pre->kind != SS_POP_TIMES)
        return ss_error_set(r->err, SS_EINVAL, "network reference: population '%s' is not in "
                                               "SPICE (only tiles and spike sources are)",
                            pre->name);
    /* the sum of the trapezoids is piecewise linear: its value at every
     * corner, in time order */
    double *st = NULL, *c = NULL, len = 2 * e + w;
    size_t ns = 0;
    for (size_t s = 0; s < net->nsp; s++)
        if (net->sp_gid[s] == gid) {
            double *x = realloc(st, (ns + 1) * sizeof *st);
            if (!x) {
                free(st);
                return oom(r);
            }
            st = x;
            st[ns++] = net->sp_t[s] + d;
        }
    if (ns && !(c = malloc(4 * ns * sizeof *c))) {
        free(st);
        return oom(r);
    }
    if (ns)
        qsort(st, ns, sizeof *st, by_double);
    for (size_t s = 0; s < ns; s++)
        c[4 * s] = st[s], c[4 * s + 1] = st[s] + e, c[4 * s + 2] = st[s] + e + w,
        c[4 * s + 3] = st[s] + len;
    if (ns)
        qsort(c, 4 * ns, sizeof *c, by_double);
    int rc = ss_buf_printf(&r->body, "vpu%s %s 0 PWL(0 0", name, name);
    double last = 0;
    for (size_t m = 0, first = 0; !rc && m < 4 * ns; m++) {
        if (c[m] <= last)
            continue;
        while (first < ns && st[first] + len < c[m]) /* pulses over before c[m] */
            first++;
        double v = 0;
        for (size_t s = first; s < ns && st[s] < c[m]; s++) {
            double dt = c[m] - st[s];
            v += dt < e ? dt / e : dt <= e + w ? 1 : dt < len ? 1 - (dt - e - w) / e : 0;
        }
        rc = ss_buf_printf(&r->body, " %.17g %.17g", c[m], v);
        last = c[m];
    }
    free(st);
    free(c);
    return rc || ss_buf_printf(&r->body, ")\n") ? oom(r) : SS_OK;
}

/* Neuron gid's input current: bias and steps (PWL), synaptic terms. */
/* Neuron gid's input current: bias and steps (PWL), synaptic terms, and
 * breakpoints at the arrivals of exponential inputs (bk, nbk; sorted
 * here). */
static int write_input(struct ref *r, size_t gid, const char *syn, double *bk, size_t nbk)
{
    const ss_network *net = r->net;
    const struct pop *p = neti_pop_of_gid(net, gid);
    size_t i = gid - p->gid0, t = p->spice->tile[i];
    const struct neti_tile *tl = &net->tiles->t[t];
    const char *in = p->spice->input[i];
    char a[64] = "", b[64] = "", na[128], nb[128];
    for (size_t l = 1; l < tl->body.n; l++) {
        const char *s = tl->body.lines[l].text;
        s += strspn(s, " \t");
        if (starts(s, in))
            two_nodes(s, a, b);
    }
    top_node(t, a, na, sizeof na);
    top_node(t, b, nb, sizeof nb);
    /* bias, ramped over the first microsecond (with the steps before its
     * end), and current steps, each 1 ps wide (several at one time merged) */
    double level = p->bias[i];
    for (size_t s = 0; s < net->nsteps_in; s++) {
        const struct step *st = &net->steps_in[s];
        if (&net->pops[st->pop] == p && st->idx == i && st->t <= 1e-6)
            level += st->amp;
    }
    int rc = ss_buf_printf(&r->body, "ibias%zu %s %s PWL(0 0 1e-06 %.17g", gid, na, nb, level);
    for (size_t s = 0; !rc && s < net->nsteps_in; s++) { /* sorted by time */
        const struct step *st = &net->steps_in[s];
        if (&net->pops[st->pop] != p || st->idx != i || st->t <= 1e-6)
            continue;
        double amp = st->amp;
        while (s + 1 < net->nsteps_in && net->steps_in[s + 1].t == st->t) {
            const struct step *nx = &net->steps_in[++s];
            if (&net->pops[nx->pop] == p && nx->idx == i)
                amp += nx->amp;
        }
        rc = ss_buf_printf(&r->body, " %.17g %.17g %.17g %.17g", st->t, level, st->t + 1e-12,
                           level + amp);
        level += amp;
    }
    if (!rc)
        rc = ss_buf_printf(&r->body, ")\n");
    if (!rc && syn && *syn)
        rc = ss_buf_printf(&r->body, "bsyn%zu %s %s I = %.17g*(%s)\n", gid, na, nb,
                           p->spice->spec.gain, syn);
    if (!rc && nbk) { /* a PWL source's corners are breakpoints */
        qsort(bk, nbk, sizeof *bk, by_double);
        rc = ss_buf_printf(&r->body, "vbk%zu bk%zu 0 PWL(0 0", gid, gid);
        for (size_t k = 0, last = 0; !rc && k < nbk; k++)
            if (!k || bk[k] > bk[last] + 2e-12) {
                rc = ss_buf_printf(&r->body, " %.17g 0 %.17g 0", bk[k], bk[k] + 1e-12);
                last = k;
            }
        if (!rc)
            rc = ss_buf_printf(&r->body, ")\nrbk%zu bk%zu 0 1meg\n", gid, gid);
    }
    return rc ? oom(r) : SS_OK;
}

/* The memristive crossbar into a tile population (at most one). */
static int write_crossbar(struct ref *r, const struct memx *m, struct pulse_node **pn, size_t *npn,
                          ss_buf *syn)
{
    const ss_network *net = r->net;
    const struct pop *pre = &net->pops[m->pre], *post = &net->pops[m->post];
    const struct neti_tiles *ts = net->tiles;
    const ss_network_spice *sp = &post->spice->spec;
    if (m->has_var)
        return ss_error_set(r->err, SS_EINVAL, "network reference: the crossbar into '%s' has "
                                               "device variation (one cell subcircuit is written)",
                            post->name);
    if (sp->shape != SS_INPUT_PULSE)
        return ss_error_set(r->err, SS_EINVAL, "network reference: the crossbar into '%s' needs "
                                               "pulse inputs", post->name);
    /* the projection's delay, from any of its synapses */
    double d = NAN;
    for (size_t g = pre->gid0; isnan(d) && g < pre->gid0 + pre->n; g++)
        for (size_t k = ts->off[g]; k < ts->off[g + 1]; k++)
            if (ts->mx[k] == (size_t)(m - net->mx) + 1)
                d = ts->delay[k];
    /* word line i: the read voltage (scaled to the pulse's charge time)
     * times presynaptic neuron i's unit pulse */
    double vr = m->v_read * m->t_read / (sp->width + sp->edge);
    char **ex = calloc(m->rows, sizeof *ex);
    ss_buf sub = SS_BUF_INIT;
    int rc = ex ? ss_device_write_spice(&m->dev[0], "smallsim_cell", &sub, r->err) : oom(r);
    for (size_t i = 0; !rc && i < m->rows; i++) {
        char node[64];
        rc = pulse_node(r, pn, npn, pre->gid0 + i, d, sp, node, sizeof node);
        if (!rc && !(ex[i] = malloc(96)))
            rc = oom(r);
        if (!rc)
            snprintf(ex[i], 96, "%.17g*v(%s)", vr, node);
    }
    ss_netlist_crossbar nx = {m->rows, m->cols, m->spec.rwire, m->spec.rsource, m->spec.rsense,
                              NULL, sub.data, "smallsim_cell", NULL, m->x, NULL, NULL, NULL,
                              NULL, (const char *const *)ex, 1, NULL};
    if (!rc)
        rc = ss_netlist_crossbar_write(&nx, &r->body, r->err);
    for (size_t j = 0; !rc && j < m->cols; j++)
        if (ss_buf_printf(&syn[post->gid0 + j], "%si(vsense%zu)", syn[post->gid0 + j].len ? " + " : "",
                          j))
            rc = oom(r);
    for (size_t i = 0; ex && i < m->rows; i++)
        free(ex[i]);
    free(ex);
    ss_buf_release(&sub);
    return rc;
}

int ss_network_write_spice(const ss_network *net, ss_buf *deck, char ***vectors, ss_error *err)
{
    *vectors = NULL;
    const struct neti_tiles *ts = net->tiles;
    if (!ts || !ts->off || !net->ready)
        return ss_error_set(err, SS_EINVAL, "network reference: needs a network with SPICE tiles "
                                            "after its run");
    for (size_t pp = 0; pp < net->npops; pp++)
        if (neti_is_neuron_pop(&net->pops[pp]))
            return ss_error_set(err, SS_EINVAL, "network reference: population '%s' is not in "
                                                "SPICE (only tiles and spike sources are)",
                                net->pops[pp].name);
    struct ref r = {net, SS_BUF_INIT, SS_BUF_INIT, SS_BUF_INIT, NULL, 0, err};
    struct pulse_node *pn = NULL;
    size_t npn = 0, nn = net->nneurons;
    ss_buf *syn = calloc(nn, sizeof *syn);
    double **bk = calloc(nn, sizeof *bk);
    size_t *nbk = calloc(nn, sizeof *nbk);
    int rc = syn && bk && nbk ? SS_OK : oom(&r);
    double tmax = INFINITY;
    for (size_t t = 0; !rc && t < ts->n; t++) {
        rc = write_tile(&r, t);
        tmax = fmin(tmax, ts->t[t].tmax);
    }
    for (size_t m = 0; !rc && m < net->nmx; m++)
        if (net->pops[net->mx[m].post].kind == SS_POP_SPICE)
            rc = m && net->pops[net->mx[m - 1].post].kind == SS_POP_SPICE
                     ? ss_error_set(err, SS_EINVAL, "network reference: one crossbar into "
                                                    "SPICE tiles at most")
                     : write_crossbar(&r, &net->mx[m], &pn, &npn, syn);
    /* synapses into tiles other than crossbars */
    for (size_t g = 0; !rc && g < nn; g++)
        for (size_t k = ts->off[g]; !rc && k < ts->off[g + 1]; k++) {
            if (ts->mx[k])
                continue;
            size_t tgt = ts->t[ts->tile[k]].gid[ts->q[k]];
            const struct pop *post = neti_pop_of_gid(net, tgt);
            const ss_network_spice *sp = &post->spice->spec;
            ss_buf *s = &syn[tgt];
            if (sp->shape == SS_INPUT_PULSE) {
                char node[64];
                rc = pulse_node(&r, &pn, &npn, g, ts->delay[k], sp, node, sizeof node);
                if (!rc && ss_buf_printf(s, "%s%.17g*v(%s)", s->len ? " + " : "", ts->w[k], node))
                    rc = oom(&r);
                continue;
            }
            const struct pop *pre = neti_pop_of_gid(net, g);
            if (pre->kind == SS_POP_SPICE || neti_is_neuron_pop(pre)) {
                rc = ss_error_set(err, SS_EINVAL, "network reference: exponential inputs into "
                                                  "'%s' come from spike sources only", post->name);
                break;
            }
            for (size_t q = 0; !rc && q < net->nsp; q++) {
                if (net->sp_gid[q] != g)
                    continue;
                double ta = net->sp_t[q] + ts->delay[k], *b = realloc(bk[tgt], (nbk[tgt] + 1) * sizeof *b);
                if (!b || ss_buf_printf(s, "%s(time > %.17g ? %.17g*exp(-(time - %.17g)/%.17g) : 0)",
                                        s->len ? " + " : "", ta, ts->w[k], ta, sp->tau_syn))
                    rc = oom(&r);
                if (b) {
                    bk[tgt] = b;
                    b[nbk[tgt]++] = ta;
                }
            }
        }
    char **vec = rc ? NULL : calloc(nn, sizeof *vec);
    if (!rc && !vec)
        rc = oom(&r);
    ss_buf save = SS_BUF_INIT;
    if (!rc && ss_buf_printf(&save, ".save"))
        rc = oom(&r);
    for (size_t g = 0; !rc && g < nn; g++) {
        const struct pop *p = neti_pop_of_gid(net, g);
        if (p->kind != SS_POP_SPICE)
            continue;
        size_t i = g - p->gid0;
        char v[256];
        vector_in(p->spice->tile[i], p->spice->spike[i], v, sizeof v);
        if (!(vec[g] = strdup(v)) || ss_buf_printf(&save, " %s", v))
            rc = oom(&r);
        if (!rc)
            rc = write_input(&r, g, syn[g].data, bk[g], nbk[g]);
    }
    if (!rc && ss_buf_printf(deck, "* smallsim network: full-SPICE reference, %zu tiles\n%s%s"
                                   "bsmallsim_time smallsim_time 0 V = time\n%s%s\n"
                                   ".tran %.17g %.17g 0 %.17g\n.end\n",
                             ts->n, r.defs.data ? r.defs.data : "", r.globals.data ? r.globals.data : "",
                             r.body.data, save.data, tmax, net->t, tmax))
        rc = oom(&r);
    ss_buf_release(&save);
    for (size_t g = 0; syn && g < nn; g++)
        ss_buf_release(&syn[g]);
    for (size_t g = 0; bk && g < nn; g++)
        free(bk[g]);
    free(syn);
    free(bk);
    free(nbk);
    free(pn);
    for (size_t k = 0; k < r.nd; k++)
        free(r.d[k].text);
    free(r.d);
    ss_buf_release(&r.defs);
    ss_buf_release(&r.globals);
    ss_buf_release(&r.body);
    if (rc && vec) {
        for (size_t g = 0; g < nn; g++)
            free(vec[g]);
        free(vec);
        vec = NULL;
    }
    *vectors = vec;
    return rc;
}
