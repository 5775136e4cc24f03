/* run.c: preparing a network for its first run and the exchange-step loop.
 *
 * Time is cut into exchange steps of length h (the minimum delay).  Within a
 * step the neurons are independent of each other's new spikes, so each
 * integrator (exact LIF propagators, the per-neuron integrator in epochs of
 * the minimum delay, CVODE, SPICE tiles in their worker processes, in
 * parallel with the others) advances its populations from one exchange
 * point to the next and reports their spikes at their exact times.
 * Arriving inputs are applied at exchange points (in SPICE tiles at their
 * exact times); CVODE restarts there once for all of its jumps (resets and
 * ends of refractoriness included). */
#include "cosim/network/network_private.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    /* synapses into SPICE tiles (exact arrival times), then all of them:
     * delays in steps, CSR by presynaptic neuron, delay ring */
    int rc = neti_tiles_prepare(net, err);
    if (!rc)
        rc = neti_delivery_prepare(net, h, err);
    if (rc)
        return rc;
    /* epochs of the per-neuron integrator: the minimum delay, so that every
     * input arriving inside one is known when it starts */
    net->rk_len = 1000;
    for (size_t q = 0; q < net->run_off[nn]; q++)
        if (net->run_d[q] < net->rk_len)
            net->rk_len = net->run_d[q];
    /* state layout: linear LIF populations are integrated exactly, the
     * others by the per-neuron integrator or CVODE */
    net->nstates = net->nxstates = 0;
    size_t rk_maxn = 0;
    for (size_t pp = 0; pp < net->npops; pp++) {
        struct pop *p = &net->pops[pp];
        if (!neti_is_neuron_pop(p))
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
        if (p->exact)
            neti_exact_prepare(p, h);
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
    net->y = odei_nvector(ns, net->ctx);
    net->atol = odei_nvector(ns, net->ctx);
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
        if (p->kind == SS_POP_LIF && p->exact) {
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
        if (neti_is_neuron_pop(&net->pops[pp]) && !net->pops[pp].exact && !net->pops[pp].rk)
            for (size_t i = 0; i < net->pops[pp].n; i++)
                net->root_gid[k++] = net->pops[pp].gid0 + i;
    if (net->nstates && (rc = neti_solver_setup(net, opt->solver == SS_NETWORK_BDF, h, err)))
        return rc;
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

int neti_step_once(ss_network *net, ss_error *err)
{
    int rc;
    double h = net->h, t0 = net->step * h, t1 = (net->step + 1) * h;
    apply_steps(net, t0);
    if ((rc = sample_states(net, t0)))
        return ss_error_set(err, rc, "out of memory");
    if ((rc = neti_emit_sources(net, t0, t1)))
        return ss_error_set(err, rc, "out of memory");
    /* the tiles run through the step while the others integrate */
    if (net->tiles && (rc = neti_tiles_begin(net, err)))
        return rc;
    for (size_t pp = 0; pp < net->npops; pp++)
        if (net->pops[pp].exact && (rc = neti_advance_exact(net, &net->pops[pp], t0, t1)))
            return ss_error_set(err, rc, "out of memory");
    if ((rc = neti_integrate(net, t0, t1, err)) || (rc = neti_rk_step(net, err)))
        return rc;
    if (net->tiles && (rc = neti_tiles_end(net, err)))
        return rc;
    if (net->nmx && (rc = neti_update_weights(net, err)))
        return rc;
    int jumped = neti_exchange(net);
    net->step++;
    net->t = t1;
    if (net->cv && jumped)
        return neti_solver_restart(net, t1, err);
    return SS_OK;
}

int neti_report(ss_network *net, const ss_network_options *opt, double t_begin, double tstop,
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
    /* bounded work and memory: simulated time, exchange steps, samples */
    double samples = 0;
    for (size_t k = 0; k < net->nsamples; k++)
        samples += (tstop - net->t) / net->samples[k].every;
    if ((rc = ss_util_limit_check(SS_LIMIT_DURATION, tstop, err, "network: a run to %g s", tstop)) ||
        (rc = ss_util_limit_check(SS_LIMIT_STEPS, (tstop - net->t) / net->h, err,
                                  "network: %g s in exchange steps of %g s", tstop - net->t,
                                  net->h)) ||
        (rc = ss_util_limit_check(SS_LIMIT_STEPS, samples, err,
                                  "network: recorded state samples")))
        return rc;
    net->kstop = (long)ceil(tstop / net->h - 1e-12);
    if (net->tiles && (rc = neti_tiles_start(net, tstop, opt, err))) {
        neti_tiles_stop(net);
        return rc;
    }
    double t_begin = net->t;
    long last_report = -1;
    while (net->t < tstop - 1e-12 * net->h) {
        if ((rc = neti_step_once(net, err)) || (rc = neti_report(net, opt, t_begin, tstop, &last_report, err)))
            break;
    }
    if (net->tiles && (rc || (rc = neti_tiles_finish(net, err))))
        neti_tiles_stop(net);
    return rc;
}

double ss_network_time(const ss_network *net) { return net->t; }
