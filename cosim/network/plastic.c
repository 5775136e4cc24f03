/* plastic.c: crossbars of memristors between two populations: cells
 * sampled with variability and faults, read conductances turned into
 * synaptic jumps, and a pulse-based pair rule that writes them. */
#include "cosim/network/network_private.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    int rc = neti_crossbar_weights(&m->spec, g, m->v_read, m->t_read, m->tau_syn, w, err);
    free(g);
    return rc;
}

int ss_network_connect_memristive(ss_network *net, size_t pre, size_t post,
                                  const ss_crossbar_spec *spec, const ss_device *nominal,
                                  const ss_device_variation *var, const double *x0, double v_read,
                                  double t_read, double delay, const ss_network_plasticity *rule,
                                  unsigned long seed, size_t *proj, ss_error *err)
{
    int rc = neti_check_crossbar(net, pre, post, spec, v_read, t_read, err);
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
    m->tau_syn = neti_pop_tau_syn(&net->pops[post]);
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
        rc = neti_connect_grid(net, pre, post, m->rows, m->cols, w, delay, err);
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

int ss_network_crossbar_weights(const ss_network *net, size_t proj, double *w, ss_error *err)
{
    if (proj >= net->nmx)
        return ss_error_set(err, SS_EINVAL, "network: no memristive projection %zu", proj);
    return memx_weights(&net->mx[proj], w, err);
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

void neti_plasticity(ss_network *net, double t, size_t gid)
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

int neti_update_weights(ss_network *net, ss_error *err)
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
