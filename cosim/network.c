/* network.c: event-driven spiking networks integrated by CVODE.
 *
 * Time is cut into exchange steps of length h (the minimum delay).  Within a
 * step the neurons are independent of each other's new spikes, so CVODE
 * integrates all of them together from one exchange point to the next, and
 * its root finding reports each threshold crossing at its exact time
 * without a restart.  Every state jump (resets, arriving inputs, end of
 * refractoriness) is applied at an exchange point, where the solver
 * restarts once for all of them. */
#include "cosim/ss_cosim.h"
#include "cosim/cosim_private.h"
#include "cosim/net_rk.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_sparse.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

struct pop {
    char name[64];
    int kind;
    size_t n, gid0;    /* size, first global neuron id */
    size_t soff;       /* first state index (LIF, DPI): in y, or in xstate if exact */
    int exact;         /* linear LIF: advanced by its exact propagator, not CVODE */
    neti_rk *rk;       /* nonlinear, per-neuron integrator (SS_NETWORK_RK) */
    double em, es, ew, cs, cw; /* propagator over one exchange step */
    int nstate;        /* states per neuron: LIF v,isyn,w; DPI imem,iahp,isyn */
    ss_lif_params lif;
    ss_dpi_params dpi;
    double *bias;      /* per neuron (LIF, DPI) */
    double rate, phase, stagger; /* POISSON, REGULAR */
    double *next;      /* next spike time per source */
    /* SPICE tile */
    char *tile_body;
    char **tile_spikes;
    double tile_threshold, tile_tau, tile_tmax;
    size_t *tid;       /* TIMES, sorted by time */
    double *ttime;
    size_t tcount, tpos;
    gsl_rng *rng;
    size_t nspikes;
};

struct syn { /* one synapse, before the CSR is built */
    uint32_t pre, post;
    double w, delay;
};

struct sample {
    size_t pop, idx;
    double every; /* seconds */
};

/* A crossbar of memristors between two populations, possibly plastic. */
struct memx {
    size_t pre, post, rows, cols;
    ss_crossbar_spec spec;
    ss_device *dev;          /* rows x cols (sampled) */
    enum ss_device_fault *fault;
    ss_device_variation var;
    int has_var;
    double *x;               /* states */
    double v_read, t_read, tau_syn;
    size_t syn0;             /* first of its rows*cols synapses (row-major) */
    size_t *pos;             /* CSR position of each cell's synapse */
    int plastic, dirty;
    ss_network_plasticity rule;
    double *pre_tr, *pre_t, *post_tr, *post_t; /* traces and their times */
    gsl_rng *rng;
};

struct step {
    double t;
    size_t pop, idx;
    double amp;
};

struct ss_network {
    struct pop *pops;
    size_t npops;
    size_t nneurons; /* all, sources included */
    size_t nstates;
    struct syn *syns;
    size_t nsyn, capsyn;
    /* built at the first run */
    int ready;
    double h;
    /* synapses: CSR by presynaptic gid (12 bytes each: target gid and
     * weight), sorted by delay; the synapses of gid with delay run_d[q]
     * steps end at run_end[q], q in [run_off[gid], run_off[gid + 1]) */
    size_t *out_off;
    uint32_t *out_tgt;
    double *out_w;
    size_t *run_off, *run_end;
    int *run_d;
    int dmax;
    double *ring; /* (dmax + 1) slots x nneurons */
    double **isyn_ptr;  /* per gid: its synaptic-current state, or NULL */
    double *xstate;     /* states of exactly integrated populations */
    size_t nxstates;
    double *t_free;     /* exact populations: end of refractoriness */
    int *pending;       /* spiked in the current step, reset at its end */
    double *tspike;     /* time of that spike */
    long *ref_until;    /* step index at which refractoriness ends */
    long step;          /* current exchange step index */
    double t;
    /* CVODE */
    SUNContext ctx;
    void *cv;
    N_Vector y, atol;
    SUNNonlinearSolver nls;
    SUNMatrix jac;        /* BDF: block-diagonal Jacobian, KLU */
    SUNLinearSolver ls;
    size_t nroots;    /* neurons integrated by CVODE, watched for spikes */
    size_t *root_gid; /* k -> gid */
    double *yprev;    /* the state at the previous internal step */
    struct crossing {
        double t;
        size_t gid;
    } *cross;         /* threshold crossings found in one internal step */
    long steps, rhs_evals, restarts;
    /* results */
    double *sp_t;
    size_t *sp_gid;
    size_t nsp, capsp;
    struct sample *samples;
    size_t nsamples;
    double *st_t, *st_v;
    size_t *st_k;
    size_t nst, capst;
    struct memx *mx;
    size_t nmx;
    struct step *steps_in;
    size_t nsteps_in, next_step;
    /* per-neuron integrator: epochs of at most rk_len exchange steps (the
     * minimum delay), the current one ending at step rk_until; its spikes
     * wait in rk_spk (from rk_pos on, in time order) for their step */
    long rk_len, rk_until, kstop;
    neti_rk_inputs rk_in;
    struct rk_event {
        double t, w;
        uint32_t i;
    } *rk_ev;
    size_t rk_nev, rk_capev;
    neti_rk_spikes rk_spk;
    size_t rk_pos;
    /* run options */
    double rtol;
    unsigned long seed;
    char solver_msg[256];
    double tile_bracket; /* widest accepted interval a tile spike was found in */
    double report_wall;  /* when progress was last reported (ss_util_now) */
};

ss_network *ss_network_alloc(ss_error *err)
{
    ss_network *net = calloc(1, sizeof *net);
    if (!net)
        ss_error_set(err, SS_ENOMEM, "out of memory");
    return net;
}

static void free_solver(ss_network *net)
{
    if (net->cv)
        CVodeFree(&net->cv);
    if (net->nls)
        SUNNonlinSolFree(net->nls);
    if (net->ls)
        SUNLinSolFree(net->ls);
    if (net->jac)
        SUNMatDestroy(net->jac);
    if (net->y)
        N_VDestroy(net->y);
    if (net->atol)
        N_VDestroy(net->atol);
    if (net->ctx)
        SUNContext_Free(&net->ctx);
    net->cv = NULL;
    net->nls = NULL;
    net->ls = NULL;
    net->jac = NULL;
    net->y = net->atol = NULL;
}

void ss_network_free(ss_network *net)
{
    if (!net)
        return;
    free_solver(net);
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

static int add_pop(ss_network *net, const char *name, size_t n, int kind, size_t *index,
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
    if ((rc = add_pop(net, name, n, SS_POP_LIF, pop, &p, err)))
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
    if ((rc = add_pop(net, name, n, SS_POP_DPI, pop, &p, err)))
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
    if ((rc = add_pop(net, name, n, SS_POP_POISSON, pop, &p, err)))
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
    if ((rc = add_pop(net, name, n, SS_POP_REGULAR, pop, &p, err)))
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
    if ((rc = add_pop(net, name, n, SS_POP_TIMES, pop, &p, err)))
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
    if ((rc = add_pop(net, name, n, SS_POP_SPICE, pop, &p, err)))
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

static int is_neuron_pop(const struct pop *p)
{
    return p->kind == SS_POP_LIF || p->kind == SS_POP_DPI;
}

/* Populations that receive synaptic input: behavioural neurons and tiles. */
static int takes_input(const struct pop *p)
{
    return is_neuron_pop(p) || p->kind == SS_POP_SPICE;
}

int ss_network_connect(ss_network *net, size_t pre, size_t post, size_t nsyn,
                       const size_t *pre_idx, const size_t *post_idx, const double *weight,
                       const double *delay, ss_error *err)
{
    if (net->ready)
        return ss_error_set(err, SS_EINVAL, "network: connections must be made before the run");
    if (pre >= net->npops || post >= net->npops)
        return ss_error_set(err, SS_EINVAL, "network: no such population");
    if (!takes_input(&net->pops[post]))
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

/* Checks that a rows x cols crossbar fits between populations pre and post. */
static int check_crossbar(const ss_network *net, size_t pre, size_t post,
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
    if (!takes_input(b))
        return ss_error_set(err, SS_EINVAL, "network: '%s' is a spike source", b->name);
    if (!(v_read != 0) || !isfinite(v_read) || !(t_read > 0) || !isfinite(t_read))
        return ss_error_set(err, SS_EINVAL, "network: read pulse needs v_read != 0 and t_read > 0");
    return SS_OK;
}

/* Synaptic jumps of a crossbar read: the charge each bit line collects when
 * word line i alone carries the read pulse (the crossbar is linear, so rows
 * superpose), over the synaptic time constant. */
static int crossbar_weights(const ss_crossbar_spec *spec, const double *g, double v_read,
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

static double pop_tau_syn(const struct pop *p)
{
    return p->kind == SS_POP_LIF ? p->lif.tau_syn : p->kind == SS_POP_DPI ? p->dpi.tau_syn : p->tile_tau;
}

/* All rows x cols synapses of a crossbar, row-major, one delay. */
static int connect_grid(ss_network *net, size_t pre, size_t post, size_t rows, size_t cols,
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
    int rc = check_crossbar(net, pre, post, spec, v_read, t_read, err);
    if (rc)
        return rc;
    double *w = malloc(spec->rows * spec->cols * sizeof *w);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = crossbar_weights(spec, g, v_read, t_read, pop_tau_syn(&net->pops[post]), w, err);
    if (!rc)
        rc = connect_grid(net, pre, post, spec->rows, spec->cols, w, delay, err);
    free(w);
    return rc;
}

int ss_network_record_state(ss_network *net, size_t pop, const size_t *idx, size_t n, double dt,
                            ss_error *err)
{
    if (pop >= net->npops || !is_neuron_pop(&net->pops[pop]))
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

/* ---- dynamics --------------------------------------------------------------- */

static const struct pop *pop_of_gid(const ss_network *net, size_t gid)
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

double ss_network_input_stage(double i, double in_beta, double in_ref)
{
    if (in_beta == 1.0 || i == 0.0)
        return i;
    double s = in_ref * pow(fabs(i) / in_ref, in_beta);
    return i < 0 ? -s : s;
}

/* dv/dt of a LIF outside refractoriness (s: v, i_syn, w). */
static double lif_dv(const ss_lif_params *q, double bias, const double *s)
{
    double in = ss_network_input_stage(s[1] + bias, q->in_beta, q->in_ref);
    return (q->v_rest - s[0] + q->r_m * (in - s[2])) / q->tau_m;
}

static void dpi_rhs(const ss_dpi_params *p, double bias, int ref, const double *y, double *dy)
{
    double imem = y[0], iahp = y[1], isyn = y[2], io = p->io;
    int above = imem > io;
    double itau = above ? p->itau : io, ith = above ? p->ith : io;
    double ia = p->iagain / (1 + exp(-(imem - p->iath) / p->ianorm));
    double iahp_c = above ? iahp : io, ia_c = above ? ia : 2 * io;
    double iin = ss_network_input_stage(isyn + bias, p->in_beta, p->in_ref);
    iin = iin < io ? io : (iin > 1.0 ? 1.0 : iin);
    double tau = p->cmem * p->ut / (p->kappa * itau);
    dy[0] = ref ? 0.0
                : ((ith / itau) * (iin + ia_c - iahp_c) - ith - (1 + (iahp_c - ia_c) / itau) * imem) /
                      (tau * (ith / (imem + io) + 1));
    double ithahp = iahp > io ? p->ithahp : io;
    double tauahp = p->cahp * p->ut / (p->kappa * p->itauahp);
    double a = iahp > 1e-30 ? iahp : 1e-30;
    dy[1] = (-ithahp - iahp + 2 * io * (iahp <= io)) / (tauahp * (ithahp / a + 1));
    dy[2] = -isyn / p->tau_syn;
}

struct dpi_rate_arg {
    const ss_dpi_params *p;
    double iin;
    int stalls; /* dImem/dt <= 0 somewhere: no firing */
};

/* dt / d(ln Imem) = Imem / (dImem/dt) on a constant input, Iahp at Io. */
static double dpi_dtdu(double u, void *arg)
{
    struct dpi_rate_arg *a = arg;
    double y[3] = {exp(u), a->p->io, 0}, dy[3];
    dpi_rhs(a->p, a->iin, 0, y, dy);
    if (!(dy[0] > 0)) {
        a->stalls = 1;
        return 0;
    }
    return y[0] / dy[0];
}

int ss_network_dpi_rate(const ss_dpi_params *p, double i_in, double *rate, ss_error *err)
{
    *rate = 0;
    if (!(p->ispkthr > p->ireset) || !(p->ireset > 0) || !(p->t_ref >= 0))
        return ss_error_set(err, SS_EINVAL, "DPI rate needs ispkthr > ireset > 0, t_ref >= 0");
    struct dpi_rate_arg a = {p, i_in, 0};
    double u0 = log(p->ireset), u1 = log(p->ispkthr);
    /* A fixed point on the way stops the neuron: look for one on a fine
     * grid first (the quadrature below would only sample the integrand). */
    for (int k = 0; k <= 2000 && !a.stalls; k++)
        dpi_dtdu(u0 + (u1 - u0) * k / 2000.0, &a);
    if (a.stalls)
        return SS_OK;
    gsl_integration_workspace *w = gsl_integration_workspace_alloc(1000);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    gsl_function f = {dpi_dtdu, &a};
    double t = 0, abserr;
    int st = gsl_integration_qag(&f, u0, u1, 0, 1e-8, 1000, GSL_INTEG_GAUSS21, w, &t, &abserr);
    gsl_integration_workspace_free(w);
    if (a.stalls)
        return SS_OK;
    if (st || !(t > 0) || !isfinite(t))
        return ss_error_set(err, SS_ENUMERIC, "DPI rate: quadrature failed at %g A (%s)", i_in,
                            gsl_strerror(st));
    *rate = 1.0 / (p->t_ref + t);
    return SS_OK;
}

/* CVODE reports errors through its return flags; its messages are kept,
 * never printed (the library does not print). */
static void quiet(int code, const char *module, const char *function, char *msg, void *user)
{
    ss_network *net = user;
    (void)module;
    snprintf(net->solver_msg, sizeof net->solver_msg, "%s (%d): %s", function, code, msg);
}

/* Derivatives of neuron i of a CVODE population (3 states s, d). */
static void neuron_rhs(const ss_network *net, const struct pop *p, size_t i, const double *s, double *d)
{
    int ref = net->ref_until[p->gid0 + i] > net->step;
    if (p->kind == SS_POP_LIF) {
        const ss_lif_params *q = &p->lif;
        d[0] = ref ? 0.0 : lif_dv(q, p->bias[i], s);
        d[1] = -s[1] / q->tau_syn;
        d[2] = (q->a * (s[0] - q->v_rest) - s[2]) / q->tau_w;
    } else
        dpi_rhs(&p->dpi, p->bias[i], ref, s, d);
}

static int rhs(sunrealtype t, N_Vector yv, N_Vector ydotv, void *user)
{
    ss_network *net = user;
    const double *y = N_VGetArrayPointer(yv);
    double *dy = N_VGetArrayPointer(ydotv);
    (void)t;
    for (size_t pp = 0; pp < net->npops; pp++) {
        const struct pop *p = &net->pops[pp];
        if (p->exact || p->rk || (p->kind != SS_POP_LIF && p->kind != SS_POP_DPI))
            continue;
        for (size_t i = 0; i < p->n; i++)
            neuron_rhs(net, p, i, y + p->soff + 3 * i, dy + p->soff + 3 * i);
    }
    for (size_t k = 0; k < net->nstates; k++)
        if (!isfinite(dy[k]))
            return 1; /* recoverable: CVODE retries with a smaller step */
    return 0;
}

/* The Jacobian for BDF: every CVODE neuron has 3 states that only its own
 * equations couple (synapses act through events), so the Jacobian is block
 * diagonal and coloured finite differences get it with three RHS
 * evaluations: perturb state m of every neuron at once. */
static int jacobian(sunrealtype t, N_Vector yv, N_Vector fy, SUNMatrix J, void *user, N_Vector tmp1,
                    N_Vector tmp2, N_Vector tmp3)
{
    ss_network *net = user;
    size_t ns = net->nstates;
    const double *y = N_VGetArrayPointer(yv), *f0 = N_VGetArrayPointer(fy);
    const double *at = N_VGetArrayPointer(net->atol);
    double *yp = N_VGetArrayPointer(tmp1), *fp = N_VGetArrayPointer(tmp2);
    double *inc = N_VGetArrayPointer(tmp3), *val = SUNSparseMatrix_Data(J);
    sunindextype *col = SUNSparseMatrix_IndexPointers(J), *row = SUNSparseMatrix_IndexValues(J);
    memcpy(yp, y, ns * sizeof *yp);
    for (size_t m = 0; m < 3; m++) {
        for (size_t b = m; b < ns; b += 3) {
            yp[b] = y[b] + 1.4901161193847656e-8 * fmax(fabs(y[b]), at[b] / net->rtol);
            inc[b] = yp[b] - y[b];
        }
        int rc = rhs(t, tmp1, tmp2, user);
        if (rc)
            return rc;
        for (size_t b = m; b < ns; b += 3) {
            yp[b] = y[b];
            size_t blk = b - m;
            col[b] = (sunindextype)(3 * b);
            for (size_t r = 0; r < 3; r++) {
                row[3 * b + r] = (sunindextype)(blk + r);
                val[3 * b + r] = (fp[blk + r] - f0[blk + r]) / inc[b];
            }
        }
    }
    col[ns] = (sunindextype)(3 * ns);
    return 0;
}

static int record_spike(ss_network *net, double t, size_t gid);

/* Spikes in CVODE's last internal step [ta, tb]: every watched neuron whose
 * first state rose through its threshold, the time found on the cubic
 * Hermite interpolant of that neuron's own state and derivative at both
 * ends (O(1) per spike; CVODE's root finding interpolates the whole state
 * vector for every root, which made large networks quadratic). */
static int by_crossing_time(const void *a, const void *b)
{
    const struct crossing *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t ? 1 : (x->gid > y->gid) - (x->gid < y->gid);
}

static int find_spikes(ss_network *net, double ta, double tb)
{
    const double *y = N_VGetArrayPointer(net->y), *y0 = net->yprev;
    double h = tb - ta;
    size_t nc = 0;
    for (size_t k = 0; k < net->nroots; k++) {
        size_t gid = net->root_gid[k];
        const struct pop *p = pop_of_gid(net, gid);
        size_t i = gid - p->gid0, o = p->soff + 3 * i;
        double th = p->kind == SS_POP_LIF ? p->lif.v_th : p->dpi.ispkthr;
        if (!(y0[o] < th && y[o] >= th) || net->pending[gid] || net->ref_until[gid] > net->step)
            continue;
        double f0[3], f1[3], lo = 0, hi = 1;
        neuron_rhs(net, p, i, y0 + o, f0);
        neuron_rhs(net, p, i, y + o, f1);
        for (int it = 0; it < 60 && hi - lo > 1e-15; it++) {
            double u = 0.5 * (lo + hi), u2 = u * u, u3 = u2 * u;
            double v = (2 * u3 - 3 * u2 + 1) * y0[o] + (u3 - 2 * u2 + u) * h * f0[0] +
                       (-2 * u3 + 3 * u2) * y[o] + (u3 - u2) * h * f1[0];
            if (v < th)
                lo = u;
            else
                hi = u;
        }
        net->cross[nc++] = (struct crossing){ta + hi * h, gid};
    }
    /* recorded in time order, as plasticity pairs them */
    if (nc > 1)
        qsort(net->cross, nc, sizeof *net->cross, by_crossing_time);
    for (size_t c = 0; c < nc; c++) {
        size_t gid = net->cross[c].gid;
        net->pending[gid] = 1;
        net->tspike[gid] = net->cross[c].t;
        int rc = record_spike(net, net->cross[c].t, gid);
        if (rc)
            return rc;
        ((struct pop *)pop_of_gid(net, gid))->nspikes++;
    }
    return SS_OK;
}

static int by_step_time(const void *a, const void *b);

/* ---- preparing a run --------------------------------------------------------- */

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

static int prepare(ss_network *net, const ss_network_options *opt, ss_error *err)
{
    if (net->npops == 0)
        return ss_error_set(err, SS_EINVAL, "network: no populations");
    double h = opt->dt;
    if (!(h > 0) || !isfinite(h))
        return ss_error_set(err, SS_EINVAL, "network: the exchange step must be positive");
    net->h = h;
    if (opt->solver != SS_NETWORK_ADAMS && opt->solver != SS_NETWORK_BDF &&
        opt->solver != SS_NETWORK_RK)
        return ss_error_set(err, SS_EINVAL, "network: unknown solver %d", opt->solver);
    net->rtol = opt->rtol > 0 ? opt->rtol : 1e-6;
    net->seed = opt->seed;
    size_t nn = net->nneurons;
    net->pending = calloc(nn, sizeof *net->pending);
    net->tspike = calloc(nn, sizeof *net->tspike);
    net->ref_until = calloc(nn, sizeof *net->ref_until);
    if (!net->pending || !net->tspike || !net->ref_until)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = build_csr(net, h, err);
    if (rc)
        return rc;
    /* epochs of the per-neuron integrator: the minimum delay, so that every
     * input arriving inside one is known when it starts */
    net->rk_len = 1000;
    for (size_t q = 0; q < net->run_off[nn]; q++)
        if (net->run_d[q] < net->rk_len)
            net->rk_len = net->run_d[q];
    net->ring = calloc((size_t)(net->dmax + 2) * nn, sizeof *net->ring);
    if (!net->ring)
        return ss_error_set(err, SS_ENOMEM, "out of memory for the delay ring");
    /* state layout: linear LIF populations are integrated exactly, the
     * others by the per-neuron integrator or CVODE */
    net->nstates = net->nxstates = 0;
    size_t rk_maxn = 0;
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        if (p->kind == SS_POP_SPICE) { /* [i_syn at tb, tb, -] per neuron, outside CVODE */
            p->soff = net->nxstates;
            net->nxstates += 3 * p->n;
            continue;
        }
        if (!is_neuron_pop(p))
            continue;
        p->exact = p->kind == SS_POP_LIF && p->lif.a == 0 && p->lif.in_beta == 1.0;
        if (!p->exact && opt->solver == SS_NETWORK_RK) {
            if (!(p->rk = neti_rk_alloc(p->kind, p->n, &p->lif, &p->dpi, net->rtol, net->rk_len, err)))
                return err ? err->code : SS_ENOMEM;
            if (p->n + 1 > rk_maxn)
                rk_maxn = p->n + 1;
            continue;
        }
        size_t *count = p->exact ? &net->nxstates : &net->nstates;
        p->soff = *count;
        *count += 3 * p->n;
        if (p->exact) {
            const ss_lif_params *q = &p->lif;
            p->em = exp(-h / q->tau_m);
            p->es = exp(-h / q->tau_syn);
            p->ew = exp(-h / q->tau_w);
            p->cs = q->tau_syn != q->tau_m ? q->r_m * q->tau_syn / (q->tau_syn - q->tau_m) * (p->es - p->em)
                                           : q->r_m * (h / q->tau_m) * p->em;
            p->cw = q->tau_w != q->tau_m ? q->r_m * q->tau_w / (q->tau_w - q->tau_m) * (p->ew - p->em)
                                         : q->r_m * (h / q->tau_m) * p->em;
        }
    }
    if (rk_maxn && !(net->rk_in.off = malloc(rk_maxn * sizeof *net->rk_in.off)))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->isyn_ptr = calloc(nn, sizeof *net->isyn_ptr);
    net->xstate = calloc(net->nxstates ? net->nxstates : 1, sizeof *net->xstate);
    net->t_free = calloc(nn, sizeof *net->t_free);
    if (!net->isyn_ptr || !net->xstate || !net->t_free)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    if (SUNContext_Create(SS_SUN_COMM_NULL, &net->ctx))
        return ss_error_set(err, SS_ENOMEM, "SUNDIALS context");
    size_t ns = net->nstates ? net->nstates : 1;
    net->y = ss_cosim_nvector(ns, net->ctx);
    net->atol = ss_cosim_nvector(ns, net->ctx);
    if (!net->y || !net->atol)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    double *y = N_VGetArrayPointer(net->y), *at = N_VGetArrayPointer(net->atol);
    y[0] = 0;
    at[0] = 1;
    net->nroots = 0;
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        p->rng = gsl_rng_alloc(gsl_rng_mt19937);
        if (!p->rng)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        gsl_rng_set(p->rng, net->seed * 1000003UL + pp + 1);
        if (p->kind == SS_POP_SPICE) {
            for (size_t i = 0; i < p->n; i++)
                net->isyn_ptr[p->gid0 + i] = net->xstate + p->soff + 3 * i;
        } else if (p->kind == SS_POP_LIF && p->exact) {
            for (size_t i = 0; i < p->n; i++) {
                double *x = net->xstate + p->soff + 3 * i;
                x[0] = p->lif.v_rest;
                x[1] = x[2] = 0;
                net->isyn_ptr[p->gid0 + i] = x + 1;
            }
        } else if (p->rk) {
            /* the integrator holds the state */
        } else if (p->kind == SS_POP_LIF) {
            double vs = fabs(p->lif.v_th - p->lif.v_reset), is = vs / p->lif.r_m;
            for (size_t i = 0; i < p->n; i++) {
                double *x = y + p->soff + 3 * i, *a = at + p->soff + 3 * i;
                x[0] = p->lif.v_rest;
                x[1] = x[2] = 0;
                a[0] = net->rtol * vs;
                a[1] = a[2] = net->rtol * is;
                net->isyn_ptr[p->gid0 + i] = x + 1;
            }
            net->nroots += p->n;
        } else if (p->kind == SS_POP_DPI) {
            for (size_t i = 0; i < p->n; i++) {
                double *x = y + p->soff + 3 * i, *a = at + p->soff + 3 * i;
                x[0] = x[1] = p->dpi.io;
                x[2] = 0;
                a[0] = a[1] = a[2] = net->rtol * p->dpi.io;
                net->isyn_ptr[p->gid0 + i] = x + 2;
            }
            net->nroots += p->n;
        } else if (p->kind == SS_POP_POISSON || p->kind == SS_POP_REGULAR) {
            p->next = malloc(p->n * sizeof *p->next);
            if (!p->next)
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            for (size_t i = 0; i < p->n; i++)
                p->next[i] = p->kind == SS_POP_REGULAR
                                 ? p->phase + (double)i * p->stagger
                                 : (p->rate > 0 ? gsl_ran_exponential(p->rng, 1 / p->rate) : INFINITY);
        }
    }
    net->root_gid = malloc((net->nroots ? net->nroots : 1) * sizeof *net->root_gid);
    net->yprev = malloc((net->nstates ? net->nstates : 1) * sizeof *net->yprev);
    net->cross = malloc((net->nroots ? net->nroots : 1) * sizeof *net->cross);
    if (!net->root_gid || !net->yprev || !net->cross)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t pp = 0, k = 0; pp < net->npops; pp++)
        if (is_neuron_pop(&net->pops[pp]) && !net->pops[pp].exact && !net->pops[pp].rk)
            for (size_t i = 0; i < net->pops[pp].n; i++)
                net->root_gid[k++] = net->pops[pp].gid0 + i;
    if (net->nstates) {
        int bdf = opt->solver == SS_NETWORK_BDF;
        net->cv = CVodeCreate(bdf ? CV_BDF : CV_ADAMS, net->ctx);
        if (!net->cv || CVodeInit(net->cv, rhs, 0.0, net->y) ||
            CVodeSVtolerances(net->cv, net->rtol, net->atol) || CVodeSetUserData(net->cv, net) ||
            CVodeSetMaxNumSteps(net->cv, 1000000) || CVodeSetErrHandlerFn(net->cv, quiet, net))
            return ss_error_set(err, SS_ENUMERIC, "CVODE could not be set up");
        if (bdf) {
            sunindextype n = (sunindextype)net->nstates;
            net->jac = SUNSparseMatrix(n, n, 3 * n, CSC_MAT, net->ctx);
            net->ls = net->jac ? SUNLinSol_KLU(net->y, net->jac, net->ctx) : NULL;
            if (!net->ls || CVodeSetLinearSolver(net->cv, net->ls, net->jac) ||
                CVodeSetJacFn(net->cv, jacobian))
                return ss_error_set(err, SS_ENUMERIC, "CVODE's KLU solver could not be set up");
        } else if (!(net->nls = SUNNonlinSol_FixedPoint(net->y, 0, net->ctx)) ||
                   CVodeSetNonlinearSolver(net->cv, net->nls))
            return ss_error_set(err, SS_ENUMERIC, "CVODE could not be set up");
        if (CVodeSetInitStep(net->cv, h))
            return ss_error_set(err, SS_ENUMERIC, "CVODE could not be set up");
    }
    if (net->nsteps_in)
        qsort(net->steps_in, net->nsteps_in, sizeof *net->steps_in, by_step_time);
    for (size_t k = 0; k < net->nsamples; k++) {
        const struct pop *p = &net->pops[net->samples[k].pop];
        if (p->rk && (rc = neti_rk_watch(p->rk, net->samples[k].idx, err)))
            return rc;
    }
    net->ready = 1;
    return SS_OK;
}

/* ---- memristive crossbars ---------------------------------------------------- */

/* Read conductances of every cell, faults applied. */
static void memx_conductances(const struct memx *m, double *g)
{
    for (size_t k = 0; k < m->rows * m->cols; k++) {
        double x = m->fault ? ss_device_fault_state(&m->dev[k], m->fault[k], m->x[k]) : m->x[k];
        g[k] = ss_device_conductance(&m->dev[k], x, m->v_read);
        if (!(g[k] >= 0))
            g[k] = 0;
    }
}

/* Synaptic jumps from the present states. */
static int memx_weights(const struct memx *m, double *w, ss_error *err)
{
    double *g = malloc(m->rows * m->cols * sizeof *g);
    if (!g)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    memx_conductances(m, g);
    int rc = crossbar_weights(&m->spec, g, m->v_read, m->t_read, m->tau_syn, w, err);
    free(g);
    return rc;
}

int ss_network_connect_memristive(ss_network *net, size_t pre, size_t post,
                                  const ss_crossbar_spec *spec, const ss_device *nominal,
                                  const ss_device_variation *var, const double *x0, double v_read,
                                  double t_read, double delay, const ss_network_plasticity *rule,
                                  unsigned long seed, size_t *proj, ss_error *err)
{
    int rc = check_crossbar(net, pre, post, spec, v_read, t_read, err);
    if (rc || (rc = ss_device_validate(nominal, err)))
        return rc;
    if (var && (rc = ss_device_variation_validate(var, nominal->type, err)))
        return rc;
    if (rule) {
        if (!(rule->t_write > 0) || !(rule->tau_plus > 0) || !(rule->tau_minus > 0))
            return ss_error_set(err, SS_EINVAL, "network: plasticity needs t_write, tau_plus, tau_minus > 0");
        /* the pulses must push the state the way they claim to */
        double up = ss_device_dxdt(nominal, rule->v_set, 0.5), down = ss_device_dxdt(nominal, rule->v_reset, 0.5);
        double to_lrs = nominal->type->x_lrs > 0.5 ? 1 : -1;
        if (!(up * to_lrs > 0))
            return ss_error_set(err, SS_EINVAL,
                                "network: v_set = %g V does not move '%s' towards its low-resistance state",
                                rule->v_set, nominal->type->name);
        if (!(down * to_lrs < 0))
            return ss_error_set(err, SS_EINVAL,
                                "network: v_reset = %g V does not move '%s' towards its high-resistance state",
                                rule->v_reset, nominal->type->name);
    }
    struct memx *mx = realloc(net->mx, (net->nmx + 1) * sizeof *mx);
    if (!mx)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    net->mx = mx;
    struct memx *m = &mx[net->nmx];
    memset(m, 0, sizeof *m);
    size_t nc = spec->rows * spec->cols;
    m->pre = pre;
    m->post = post;
    m->rows = spec->rows;
    m->cols = spec->cols;
    m->spec = *spec;
    m->v_read = v_read;
    m->t_read = t_read;
    m->tau_syn = pop_tau_syn(&net->pops[post]);
    m->dev = malloc(nc * sizeof *m->dev);
    m->fault = calloc(nc, sizeof *m->fault);
    m->x = malloc(nc * sizeof *m->x);
    m->pos = malloc(nc * sizeof *m->pos);
    m->rng = gsl_rng_alloc(gsl_rng_mt19937);
    double *w = malloc(nc * sizeof *w);
    if (!m->dev || !m->fault || !m->x || !m->pos || !m->rng || !w)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        gsl_rng_set(m->rng, seed);
    if (var) {
        m->var = *var;
        m->has_var = 1;
    }
    for (size_t k = 0; !rc && k < nc; k++) {
        if (var)
            rc = ss_device_sample(nominal, var, m->rng, &m->dev[k], &m->fault[k], err);
        else
            m->dev[k] = *nominal;
        m->x[k] = x0 ? x0[k] : ss_device_x0(nominal);
        if (!(m->x[k] >= 0 && m->x[k] <= 1))
            rc = ss_error_set(err, SS_EINVAL, "network: initial state %zu is %g, outside [0, 1]", k, m->x[k]);
    }
    if (!rc)
        rc = memx_weights(m, w, err);
    if (!rc && rule) {
        m->plastic = 1;
        m->rule = *rule;
        m->pre_tr = calloc(m->rows, sizeof(double));
        m->pre_t = calloc(m->rows, sizeof(double));
        m->post_tr = calloc(m->cols, sizeof(double));
        m->post_t = calloc(m->cols, sizeof(double));
        if (!m->pre_tr || !m->pre_t || !m->post_tr || !m->post_t)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    m->syn0 = net->nsyn;
    if (!rc)
        rc = connect_grid(net, pre, post, m->rows, m->cols, w, delay, err);
    free(w);
    net->nmx++; /* counted even on failure, so ss_network_free releases it */
    if (rc)
        return rc;
    if (proj)
        *proj = net->nmx - 1;
    return SS_OK;
}

size_t ss_network_nmemristive(const ss_network *net)
{
    return net->nmx;
}

void ss_network_crossbar_states(const ss_network *net, size_t proj, double *x, double *g,
                                size_t *pre, size_t *post)
{
    const struct memx *m = &net->mx[proj];
    if (x)
        memcpy(x, m->x, m->rows * m->cols * sizeof *x);
    if (g)
        memx_conductances(m, g);
    if (pre)
        *pre = m->pre;
    if (post)
        *post = m->post;
}

int ss_network_crossbar_weights(const ss_network *net, size_t proj, double *w, ss_error *err)
{
    if (proj >= net->nmx)
        return ss_error_set(err, SS_EINVAL, "network: no memristive projection %zu", proj);
    return memx_weights(&net->mx[proj], w, err);
}

/* One write pulse of v volts for `width` seconds on cell k: the device ODE
 * at constant voltage (RK4), cycle-to-cycle noise on the change. */
static void memx_pulse(struct memx *m, size_t k, double v, double width)
{
    if (width <= 0 || (m->fault && m->fault[k] != SS_DEVICE_FAULT_NONE))
        return;
    const ss_device *d = &m->dev[k];
    double x = m->x[k], h = width / 16;
    for (int s = 0; s < 16; s++) {
        double k1 = ss_device_dxdt(d, v, x), k2 = ss_device_dxdt(d, v, x + 0.5 * h * k1);
        double k3 = ss_device_dxdt(d, v, x + 0.5 * h * k2), k4 = ss_device_dxdt(d, v, x + h * k3);
        x += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    }
    double dx = x - m->x[k];
    if (m->has_var && m->var.c2c_sigma > 0)
        dx *= 1 + m->var.c2c_sigma * gsl_ran_gaussian(m->rng, 1.0);
    x = m->x[k] + dx;
    m->x[k] = x < 0 ? 0 : (x > 1 ? 1 : x);
    m->dirty = 1;
}

static double trace_at(const double *tr, const double *tt, size_t i, double t, double tau)
{
    return tr[i] * exp(-(t - tt[i]) / tau);
}

/* The learning rule, at a spike of neuron gid at time t. */
static void plasticity(ss_network *net, double t, size_t gid)
{
    for (size_t q = 0; q < net->nmx; q++) {
        struct memx *m = &net->mx[q];
        if (!m->plastic)
            continue;
        const struct pop *a = &net->pops[m->pre], *b = &net->pops[m->post];
        const ss_network_plasticity *r = &m->rule;
        if (gid >= a->gid0 && gid < a->gid0 + a->n) { /* presynaptic: depress the row */
            size_t i = gid - a->gid0;
            for (size_t j = 0; j < m->cols; j++) {
                double tr = fmin(1, trace_at(m->post_tr, m->post_t, j, t, r->tau_minus));
                memx_pulse(m, i * m->cols + j, r->v_reset, r->t_write * tr);
            }
            m->pre_tr[i] = trace_at(m->pre_tr, m->pre_t, i, t, r->tau_plus) + 1;
            m->pre_t[i] = t;
        }
        if (gid >= b->gid0 && gid < b->gid0 + b->n) { /* postsynaptic: potentiate the column */
            size_t j = gid - b->gid0;
            for (size_t i = 0; i < m->rows; i++) {
                double tr = fmin(1, trace_at(m->pre_tr, m->pre_t, i, t, r->tau_plus));
                memx_pulse(m, i * m->cols + j, r->v_set, r->t_write * tr);
            }
            m->post_tr[j] = trace_at(m->post_tr, m->post_t, j, t, r->tau_minus) + 1;
            m->post_t[j] = t;
        }
    }
}

/* New weights for the crossbars written in this step. */
static int update_weights(ss_network *net, ss_error *err)
{
    for (size_t q = 0; q < net->nmx; q++) {
        struct memx *m = &net->mx[q];
        if (!m->dirty)
            continue;
        double *w = malloc(m->rows * m->cols * sizeof *w);
        if (!w)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        int rc = memx_weights(m, w, err);
        for (size_t k = 0; !rc && k < m->rows * m->cols; k++)
            net->out_w[m->pos[k]] = w[k];
        free(w);
        if (rc)
            return rc;
        m->dirty = 0;
    }
    return SS_OK;
}

int ss_network_add_step(ss_network *net, size_t pop, size_t idx, double t_on, double t_off,
                        double amp, ss_error *err)
{
    if (pop >= net->npops || !is_neuron_pop(&net->pops[pop]) || idx >= net->pops[pop].n)
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

static int by_step_time(const void *a, const void *b)
{
    double x = ((const struct step *)a)->t, y = ((const struct step *)b)->t;
    return (x > y) - (x < y);
}

/* Applies the current steps due by time t (at an exchange point). */
static void apply_steps(ss_network *net, double t)
{
    while (net->next_step < net->nsteps_in && net->steps_in[net->next_step].t <= t + 1e-12 * net->h) {
        const struct step *s = &net->steps_in[net->next_step++];
        net->pops[s->pop].bias[s->idx] += s->amp;
        if (net->pops[s->pop].rk) /* (an epoch starts here) */
            neti_rk_input(net->pops[s->pop].rk, s->idx, 0);
    }
}

/* ---- running ------------------------------------------------------------------ */

static int record_spike(ss_network *net, double t, size_t gid)
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
        plasticity(net, t, gid);
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

static int emit_sources(ss_network *net, double t0, double t1)
{
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        if (p->kind == SS_POP_POISSON || p->kind == SS_POP_REGULAR) {
            for (size_t i = 0; i < p->n; i++)
                while (p->next[i] < t1) {
                    if (p->next[i] >= t0 && record_spike(net, p->next[i], p->gid0 + i))
                        return SS_ENOMEM;
                    p->nspikes += p->next[i] >= t0;
                    p->next[i] += p->kind == SS_POP_REGULAR ? 1 / p->rate
                                                            : gsl_ran_exponential(p->rng, 1 / p->rate);
                }
        } else if (p->kind == SS_POP_TIMES) {
            while (p->tpos < p->tcount && p->ttime[p->tpos] < t1) {
                if (p->ttime[p->tpos] >= t0) {
                    if (record_spike(net, p->ttime[p->tpos], p->gid0 + p->tid[p->tpos]))
                        return SS_ENOMEM;
                    p->nspikes++;
                }
                p->tpos++;
            }
        }
    }
    return SS_OK;
}

static int sample_states(ss_network *net, double t)
{
    const double *y = net->nstates ? N_VGetArrayPointer(net->y) : NULL;
    for (size_t k = 0; k < net->nsamples; k++) {
        const struct sample *s = &net->samples[k];
        long every = lround(s->every / net->h);
        if (every < 1)
            every = 1;
        if (net->step % every)
            continue;
        if (net->nst == net->capst) {
            size_t cap = net->capst ? 2 * net->capst : 4096;
            double *a = realloc(net->st_t, cap * sizeof *a), *b;
            if (!a)
                return SS_ENOMEM;
            net->st_t = a;
            if (!(b = realloc(net->st_v, cap * sizeof *b)))
                return SS_ENOMEM;
            net->st_v = b;
            size_t *c = realloc(net->st_k, cap * sizeof *c);
            if (!c)
                return SS_ENOMEM;
            net->st_k = c;
            net->capst = cap;
        }
        const struct pop *p = &net->pops[s->pop];
        net->st_t[net->nst] = t;
        net->st_v[net->nst] = p->rk ? neti_rk_value(p->rk, s->idx, net->step)
                                    : (p->exact ? net->xstate : y)[p->soff + 3 * s->idx];
        net->st_k[net->nst++] = k;
    }
    return SS_OK;
}

static void count_stats(ss_network *net)
{
    long v;
    if (!net->cv)
        return;
    if (!CVodeGetNumSteps(net->cv, &v))
        net->steps += v;
    if (!CVodeGetNumRhsEvals(net->cv, &v))
        net->rhs_evals += v;
}

/* ---- exactly integrated LIF ----------------------------------------------------
 * With a = 0 the LIF is linear between events, and over a time tau
 *   v(tau) = v_inf + (v0 - v_inf) e^(-tau/tau_m) + A_s (e^(-tau/tau_syn) - e^(-tau/tau_m))
 *                                                - A_w (e^(-tau/tau_w) - e^(-tau/tau_m))
 * with v_inf = v_rest + r_m i_bias, A_s = r_m i_syn0 tau_syn/(tau_syn - tau_m) and
 * A_w likewise (a limit of the same form when the time constants are equal). */

static double lif_coef(double r, double tau_x, double tau_m, double t)
{
    double em = exp(-t / tau_m);
    if (tau_x == tau_m)
        return r * (t / tau_m) * em;
    return r * tau_x / (tau_x - tau_m) * (exp(-t / tau_x) - em);
}

static double lif_v(const ss_lif_params *q, double vinf, const double *x, double t)
{
    return vinf + (x[0] - vinf) * exp(-t / q->tau_m) + lif_coef(q->r_m, q->tau_syn, q->tau_m, t) * x[1] -
           lif_coef(q->r_m, q->tau_w, q->tau_m, t) * x[2];
}

/* Advances state x over time t (no threshold). */
static void lif_advance(const ss_lif_params *q, double vinf, double *x, double t)
{
    x[0] = lif_v(q, vinf, x, t);
    x[1] *= exp(-t / q->tau_syn);
    x[2] *= exp(-t / q->tau_w);
}

/* First time in (0, t] at which v reaches the threshold, given v(t) >= v_th:
 * bisection safeguarded secant on the closed form. */
static double lif_crossing(const ss_lif_params *q, double vinf, const double *x, double t)
{
    double lo = 0, hi = t, flo = x[0] - q->v_th, fhi = lif_v(q, vinf, x, t) - q->v_th;
    for (int it = 0; it < 100 && hi - lo > 1e-15 * (1 + t); it++) {
        double m = flo < fhi ? lo - flo * (hi - lo) / (fhi - flo) : 0.5 * (lo + hi);
        if (!(m > lo && m < hi) || it % 3 == 2)
            m = 0.5 * (lo + hi);
        double fm = lif_v(q, vinf, x, m) - q->v_th;
        if (fm >= 0)
            hi = m, fhi = fm;
        else
            lo = m, flo = fm;
    }
    return hi;
}

static int advance_exact(ss_network *net, struct pop *p, double t0, double t1)
{
    const ss_lif_params *q = &p->lif;
    for (size_t i = 0; i < p->n; i++) {
        size_t gid = p->gid0 + i;
        double *x = net->xstate + p->soff + 3 * i, t = t0;
        double vinf = q->v_rest + q->r_m * p->bias[i];
        if (net->t_free[gid] <= t0) {
            /* the common case: a whole free step with the cached propagator */
            double v1 = vinf + (x[0] - vinf) * p->em + p->cs * x[1] - p->cw * x[2];
            if (v1 < q->v_th) {
                x[0] = v1;
                x[1] *= p->es;
                x[2] *= p->ew;
                continue;
            }
        }
        while (t < t1) {
            if (net->t_free[gid] > t) { /* refractory: v held, currents decay */
                double te = fmin(net->t_free[gid], t1);
                lif_advance(q, vinf, x, te - t);
                x[0] = q->v_reset;
                t = te;
                continue;
            }
            double dt = t1 - t;
            if (lif_v(q, vinf, x, dt) < q->v_th) {
                lif_advance(q, vinf, x, dt);
                break;
            }
            double tc = x[0] >= q->v_th ? 0 : lif_crossing(q, vinf, x, dt);
            lif_advance(q, vinf, x, tc);
            t += tc;
            if (record_spike(net, t, gid))
                return SS_ENOMEM;
            p->nspikes++;
            x[0] = q->v_reset;
            x[2] += q->b;
            net->t_free[gid] = t + q->t_ref;
            if (q->t_ref == 0)
                t = nextafter(t, INFINITY); /* no zero-length loop */
        }
    }
    return SS_OK;
}

/* Applies everything that happens at the exchange point ending step k:
 * resets, arriving inputs, ends of refractoriness.  Returns whether a state
 * jumped or the dynamics changed (so the solver must restart). */
static int exchange(ss_network *net)
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
        if (!is_neuron_pop(p))
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
                        d[0] = lif_dv(&p->lif, p->bias[i], s);
                    else
                        dpi_rhs(&p->dpi, p->bias[i], 0, s, d);
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

/* ---- the per-neuron integrator's epochs -----------------------------------------
 * An epoch runs from exchange step k0 to k1 <= k0 + the minimum delay, so
 * every input arriving at an exchange point inside it comes from a spike
 * before k0 and is already in the delay ring: the RK populations are
 * advanced over the whole epoch at its first step, and their spikes wait
 * for the exchange step they belong to.  Inputs at the epoch's end are
 * applied by exchange(), when all neurons stand there. */

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
static int rk_step(ss_network *net, ss_error *err)
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
        if ((rc = record_spike(net, sp->s[net->rk_pos].t, gid)))
            return ss_error_set(err, rc, "out of memory");
        ((struct pop *)pop_of_gid(net, gid))->nspikes++;
    }
    return SS_OK;
}

/* One exchange step of the behavioural populations: [t0, t1) integrated,
 * then everything that happens at t1 applied. */
static int step_once(ss_network *net, ss_error *err)
{
    int rc;
    double h = net->h, t0 = net->step * h, t1 = (net->step + 1) * h;
    apply_steps(net, t0);
    if ((rc = sample_states(net, t0)))
        return ss_error_set(err, rc, "out of memory");
    if ((rc = emit_sources(net, t0, t1)))
        return ss_error_set(err, rc, "out of memory");
    for (size_t pp = 0; pp < net->npops; pp++)
        if (net->pops[pp].exact && (rc = advance_exact(net, &net->pops[pp], t0, t1)))
            return ss_error_set(err, rc, "out of memory");
    if (net->cv) {
        /* a neuron already at threshold (initial state) spikes now */
        double *y = N_VGetArrayPointer(net->y);
        for (size_t k = 0; k < net->nroots; k++) {
            size_t gid = net->root_gid[k];
            const struct pop *p = pop_of_gid(net, gid);
            double v = y[p->soff + 3 * (gid - p->gid0)];
            double th = p->kind == SS_POP_LIF ? p->lif.v_th : p->dpi.ispkthr;
            if (v >= th && !net->pending[gid] && net->ref_until[gid] <= net->step) {
                net->pending[gid] = 1;
                net->tspike[gid] = t0;
                if ((rc = record_spike(net, t0, gid)))
                    return ss_error_set(err, rc, "out of memory");
                ((struct pop *)p)->nspikes++;
            }
        }
        /* one internal step at a time, looking for threshold crossings
         * after each */
        CVodeSetStopTime(net->cv, t1);
        double t = t0, ta = t0;
        memcpy(net->yprev, y, net->nstates * sizeof *y);
        while (t < t1) {
            int flag = CVode(net->cv, t1, net->y, &t, CV_ONE_STEP);
            if (flag < 0)
                return ss_error_set(err, SS_ENUMERIC, "network: CVODE failed at t = %g s: %s %s", t,
                                    CVodeGetReturnFlagName(flag), net->solver_msg);
            if ((rc = find_spikes(net, ta, t)))
                return ss_error_set(err, rc, "out of memory");
            memcpy(net->yprev, y, net->nstates * sizeof *y);
            ta = t;
        }
    }
    if ((rc = rk_step(net, err)))
        return rc;
    if (net->nmx && (rc = update_weights(net, err)))
        return rc;
    int jumped = exchange(net);
    net->step++;
    net->t = t1;
    if (net->cv && jumped) {
        count_stats(net);
        if (CVodeReInit(net->cv, t1, net->y))
            return ss_error_set(err, SS_ENUMERIC, "network: CVODE restart failed");
        net->restarts++;
    }
    return SS_OK;
}

static int report(ss_network *net, const ss_network_options *opt, double t_begin, double tstop,
                  long *last, ss_error *err)
{
    if (!opt->progress)
        return SS_OK;
    /* every 1% of the run, and every half second (the clock read every 64
     * exchange steps) */
    long pct = (long)(100 * (net->t - t_begin) / (tstop - t_begin));
    double now = 0;
    if (pct == *last && (net->step % 64 || (now = ss_util_now()) - net->report_wall < 0.5))
        return SS_OK;
    *last = pct;
    net->report_wall = now ? now : ss_util_now();
    if (opt->progress(opt->user, net->t, tstop, net->nsp))
        return ss_error_set(err, SS_EINVAL, "network: stopped at t = %g s", net->t);
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
    int have_idx, started, failed;
    ss_error err;
};

static struct pop *tile_pop(ss_network *net)
{
    for (size_t p = 0; p < net->npops; p++)
        if (net->pops[p].kind == SS_POP_SPICE)
            return &net->pops[p];
    return NULL;
}

static int tile_source(void *user, const char *name, double t, double *value)
{
    struct tile_run *tr = user;
    struct pop *p = tile_pop(tr->net);
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
    double hmax = tile_pop(tr->net)->tile_tmax;
    return next - t > 1e-15 ? fmin(hmax, next - t) : hmax;
}

static int tile_accept(void *user, const ss_engine_point *pt)
{
    struct tile_run *tr = user;
    ss_network *net = tr->net;
    struct pop *p = tile_pop(net);
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
    double tspk[64];
    size_t kspk[64], ns = 0;
    for (size_t k = 0; k < p->n; k++) {
        double v = pt->values[tr->idx[k]];
        if (tr->started && tr->prev[k] < p->tile_threshold && v >= p->tile_threshold && ns < 64) {
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
            if (record_spike(net, tspk[next], p->gid0 + kspk[next]) ||
                (p->nspikes++, 0)) {
                tr->failed = 1;
                return 1;
            }
        if (step_once(net, &tr->err) ||
            report(net, tr->opt, tr->t_begin, tr->tstop, &tr->last, &tr->err)) {
            tr->failed = 1;
            return 1;
        }
    }
    for (; next < ns; next++) {
        if (record_spike(net, tspk[next], p->gid0 + kspk[next])) {
            tr->failed = 1;
            return 1;
        }
        p->nspikes++;
    }
    tr->prev_t = pt->t;
    tr->started = 1;
    return 0;
}

static int run_tile(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err)
{
    struct pop *p = tile_pop(net);
    if (!opt->engine)
        return ss_error_set(err, SS_EINVAL, "network: a SPICE tile needs an engine (options.engine)");
    if (net->t > 0)
        return ss_error_set(err, SS_EINVAL, "network: a run with a SPICE tile cannot be continued");
    ss_buf deck = SS_BUF_INIT;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    struct tile_run tr = {net, opt, tstop, net->t, 0, -1, NULL, NULL, 0, 0, 0, {0, ""}};
    tr.idx = malloc(p->n * sizeof *tr.idx);
    tr.prev = calloc(p->n, sizeof *tr.prev);
    int rc = tr.idx && tr.prev ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
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
        rc = step_once(net, err);
    ss_result_release(&res);
    ss_netlist_release(&nl);
    ss_buf_release(&deck);
    free(tr.idx);
    free(tr.prev);
    return rc;
}

int ss_network_run(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err)
{
    static const ss_network_options defaults = SS_NETWORK_OPTIONS_DEFAULT;
    int rc;
    if (!opt)
        opt = &defaults;
    if (!net->ready && (rc = prepare(net, opt, err)))
        return rc;
    if (!(tstop >= net->t) || !isfinite(tstop))
        return ss_error_set(err, SS_EINVAL, "network: tstop %g is before the current time %g",
                            tstop, net->t);
    net->kstop = (long)ceil(tstop / net->h - 1e-12);
    if (tile_pop(net))
        return run_tile(net, tstop, opt, err);
    double t_begin = net->t;
    long last_report = -1;
    while (net->t < tstop - 1e-12 * net->h) {
        if ((rc = step_once(net, err)) || (rc = report(net, opt, t_begin, tstop, &last_report, err)))
            return rc;
    }
    return SS_OK;
}

double ss_network_time(const ss_network *net) { return net->t; }
size_t ss_network_nspikes(const ss_network *net) { return net->nsp; }

void ss_network_spike(const ss_network *net, size_t k, double *t, size_t *pop, size_t *idx)
{
    const struct pop *p = pop_of_gid(net, net->sp_gid[k]);
    *t = net->sp_t[k];
    *pop = (size_t)(p - net->pops);
    *idx = net->sp_gid[k] - p->gid0;
}

size_t ss_network_pop_spikes(const ss_network *net, size_t pop)
{
    return pop < net->npops ? net->pops[pop].nspikes : 0;
}

double ss_network_tile_bracket(const ss_network *net)
{
    return net->tile_bracket;
}

void ss_network_stats(const ss_network *net, long *steps, long *rhs_evals, long *restarts)
{
    long s = net->steps, r = net->rhs_evals, q = net->restarts, v;
    if (net->cv && !CVodeGetNumSteps(net->cv, &v))
        s += v;
    if (net->cv && !CVodeGetNumRhsEvals(net->cv, &v))
        r += v;
    for (size_t p = 0; p < net->npops; p++)
        if (net->pops[p].rk) {
            long st, rej, ev, rs;
            neti_rk_stats(net->pops[p].rk, &st, &rej, &ev, &rs);
            s += st;
            r += ev;
            q += rs;
        }
    *steps = s;
    *rhs_evals = r;
    *restarts = q;
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
    FILE *f = fopen(path, "w");
    if (!f) {
        free(order);
        return ss_error_set(err, SS_EIO, "%s: cannot write", path);
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
    FILE *f = fopen(path, "w");
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot write", path);
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
    FILE *f = fopen(path, "w");
    long steps, rhs_evals, restarts;
    if (!f)
        return ss_error_set(err, SS_EIO, "%s: cannot write", path);
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
