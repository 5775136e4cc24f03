/* plastic.c: crossbars of memristors between two populations: cells
 * sampled with variability and faults, read conductances turned into
 * synaptic jumps, and a pulse-based pair rule that writes them through the
 * crossbar solver (a transient of the whole array with its line
 * resistances in a half-select scheme, ss_crossbar_tran). */
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
        if (rule->half_select != 0 && !(rule->half_select >= 1.0 / 3 - 1e-12 && rule->half_select <= 0.5))
            return ss_error_set(err, SS_EINVAL,
                                "network: half_select must be between 1/3 (V/3 scheme) and 1/2 (V/2), not %g",
                                rule->half_select);
        if (!(rule->t_edge >= 0) || !isfinite(rule->t_edge) || !(rule->rtol >= 0) || !(rule->rtol < 1))
            return ss_error_set(err, SS_EINVAL, "network: t_edge must be >= 0 and rtol in [0, 1)");
        if (!isfinite(rule->v_set) || !isfinite(rule->v_reset))
            return ss_error_set(err, SS_EINVAL, "network: v_set and v_reset must be finite");
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
        if (m->rule.half_select == 0)
            m->rule.half_select = 0.5;
        if (m->rule.t_edge == 0)
            m->rule.t_edge = m->rule.t_write / 100;
        if (m->rule.rtol == 0)
            m->rule.rtol = 1e-5;
        m->pre_tr = calloc(m->rows, sizeof(double));
        m->pre_t = calloc(m->rows, sizeof(double));
        m->post_tr = calloc(m->cols, sizeof(double));
        m->post_t = calloc(m->cols, sizeof(double));
        m->word = calloc(m->rows, sizeof *m->word);
        m->bit = calloc(m->cols, sizeof *m->bit);
        m->stuck = calloc(nc, 1);
        m->xw = malloc(nc * sizeof *m->xw);
        m->wsel = malloc((m->rows > m->cols ? m->rows : m->cols) * sizeof *m->wsel);
        m->pwl_cap = 6;
        for (size_t i = 0; m->word && i < m->rows; i++) {
            m->word[i].t = malloc(m->pwl_cap * sizeof(double));
            m->word[i].v = malloc(m->pwl_cap * sizeof(double));
            if (!m->word[i].t || !m->word[i].v)
                rc = SS_ENOMEM;
        }
        for (size_t j = 0; m->bit && j < m->cols; j++) {
            m->bit[j].t = malloc(m->pwl_cap * sizeof(double));
            m->bit[j].v = malloc(m->pwl_cap * sizeof(double));
            if (!m->bit[j].t || !m->bit[j].v)
                rc = SS_ENOMEM;
        }
        if (rc || !m->pre_tr || !m->pre_t || !m->post_tr || !m->post_t || !m->word || !m->bit ||
            !m->stuck || !m->xw || !m->wsel)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        if (!rc && !(m->xb = ss_crossbar_alloc(spec, err)))
            rc = err ? err->code : SS_EINVAL;
        for (size_t k = 0; !rc && k < nc; k++)
            m->stuck[k] = m->fault[k] != SS_DEVICE_FAULT_NONE;
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

void neti_memx_free(struct memx *m)
{
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
    ss_crossbar_free(m->xb);
    for (size_t i = 0; m->word && i < m->rows; i++) {
        free(m->word[i].t);
        free(m->word[i].v);
    }
    for (size_t j = 0; m->bit && j < m->cols; j++) {
        free(m->bit[j].t);
        free(m->bit[j].v);
    }
    free(m->word);
    free(m->bit);
    free(m->stuck);
    free(m->xw);
    free(m->wsel);
    for (size_t i = 0; m->log_word && i < m->rows; i++)
        ss_buf_release(&m->log_word[i]);
    for (size_t j = 0; m->log_bit && j < m->cols; j++)
        ss_buf_release(&m->log_bit[j]);
    free(m->log_word);
    free(m->log_bit);
    free(m->x_first);
}

/* ---- writes ------------------------------------------------------------------
 * One write (a spike of row or column line `sel`) as drives of every line:
 *   the spiking neuron's line:  0 -> Vc (rise e), held until T - e, -> 0 at T
 *   a selected crossing line:   0 -> Vs (rise e), held for its width w,
 *                               -> its unselected level U (fall e), held, -> 0 at T
 *   an unselected line:         0 -> U (rise e), held, -> 0 at T
 * with T = 3e + the longest width. */

/* Appends (t, v) to a drive; a point within 1e-6 edge times of the last
 * one is dropped (it has the same value by construction: a crossing line
 * whose width is the longest one's ends its fall where the end ramp
 * begins), so the drive's times also increase on the recording's axis. */
static void pwl_put(ss_pwl *w, double t, double v, double e)
{
    if (w->n && t <= w->t[w->n - 1] + 1e-6 * e)
        return;
    w->t[w->n] = t;
    w->v[w->n++] = v;
}

static void line_drive(ss_pwl *w, double vsel, double width, double unsel, double e, double T)
{
    w->n = 0;
    pwl_put(w, 0.0, 0.0, e);
    if (width > 0) {
        pwl_put(w, e, vsel, e);
        pwl_put(w, e + width, vsel, e);
        pwl_put(w, 2 * e + width, unsel, e);
    } else {
        pwl_put(w, e, unsel, e);
    }
    pwl_put(w, T - e, unsel, e);
    /* the end, replacing a last point that fell within the tolerance */
    if (w->t[w->n - 1] >= T - 1e-6 * e)
        w->n--;
    w->t[w->n] = T;
    w->v[w->n++] = 0.0;
}

/* The drives of the write into the recording: each line's points after the
 * log's time, without the first (0 V where the previous write ended). */
static int log_write(struct memx *m, double T)
{
    int rc = SS_OK;
    for (size_t l = 0; l < m->rows + m->cols && !rc; l++) {
        const ss_pwl *w = l < m->rows ? &m->word[l] : &m->bit[l - m->rows];
        ss_buf *b = l < m->rows ? &m->log_word[l] : &m->log_bit[l - m->rows];
        for (size_t k = 1; k < w->n && !rc; k++)
            rc = ss_buf_printf(b, " %.17g %.17g", m->log_t + w->t[k], w->v[k]);
    }
    m->log_t += T;
    return rc ? SS_ENOMEM : SS_OK;
}

/* One write: the spiking neuron is row `sel` (row = 1, a presynaptic spike:
 * v_reset on the row, the columns selected by their widths) or column
 * `sel` (row = 0: v_set, rows selected).  Every cell moves as the crossbar
 * transient says; cycle-to-cycle noise scales each cell's change. */
static void memx_write(struct memx *m, int row, size_t sel, const double *width)
{
    if (m->wrc)
        return; /* an earlier write failed: reported at the exchange */
    const ss_network_plasticity *r = &m->rule;
    double V = row ? r->v_reset : r->v_set, f = r->half_select, e = r->t_edge, wmax = 0;
    size_t nsel = row ? m->cols : m->rows, ncell = m->rows * m->cols;
    for (size_t k = 0; k < nsel; k++)
        wmax = fmax(wmax, width[k]);
    if (!(wmax > 0))
        return;
    double T = 3 * e + wmax;
    double v_word = (1 - f) * V, v_bit = -f * V, u_bit = (1 - 2 * f) * V;
    for (size_t i = 0; i < m->rows; i++) {
        if (row)
            line_drive(&m->word[i], v_word, i == sel ? T - 2 * e : 0.0, 0.0, e, T);
        else
            line_drive(&m->word[i], v_word, width[i], 0.0, e, T);
    }
    for (size_t j = 0; j < m->cols; j++) {
        if (row)
            line_drive(&m->bit[j], v_bit, width[j], u_bit, e, T);
        else
            line_drive(&m->bit[j], v_bit, j == sel ? T - 2 * e : 0.0, j == sel ? 0.0 : u_bit, e, T);
    }
    /* stuck cells conduct as their fault state and do not move */
    for (size_t k = 0; k < ncell; k++)
        m->xw[k] = m->fault ? ss_device_fault_state(&m->dev[k], m->fault[k], m->x[k]) : m->x[k];
    ss_crossbar_tran_options o = SS_CROSSBAR_TRAN_OPTIONS_INIT;
    o.bit = m->bit;
    o.frozen = m->stuck;
    o.rtol = r->rtol;
    ss_error err = {0, ""};
    int rc = ss_crossbar_tran(m->xb, m->dev, 0, m->word, T, &o, m->xw, &err);
    if (!rc && m->log_on)
        rc = log_write(m, T) ? ss_error_set(&err, SS_ENOMEM, "out of memory recording writes") : SS_OK;
    if (rc) {
        m->wrc = rc;
        snprintf(m->wmsg, sizeof m->wmsg, "%s", err.msg);
        return;
    }
    for (size_t k = 0; k < ncell; k++) {
        if (m->stuck[k])
            continue;
        double dx = m->xw[k] - m->x[k];
        if (m->has_var && m->var.c2c_sigma > 0)
            dx *= 1 + m->var.c2c_sigma * gsl_ran_gaussian(m->rng, 1.0);
        double x = m->x[k] + dx;
        m->x[k] = x < 0 ? 0 : (x > 1 ? 1 : x);
    }
    m->nwrites++;
    m->dirty = 1;
}

static double trace_at(const double *tr, const double *tt, size_t i, double t, double tau)
{
    return tr[i] * exp(-(t - tt[i]) / tau);
}

/* Traces below this select no cell. */
#define TRACE_MIN 1e-3

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
                m->wsel[j] = tr >= TRACE_MIN ? r->t_write * tr : 0.0;
            }
            memx_write(m, 1, i, m->wsel);
            m->pre_tr[i] = trace_at(m->pre_tr, m->pre_t, i, t, r->tau_plus) + 1;
            m->pre_t[i] = t;
        }
        if (gid >= b->gid0 && gid < b->gid0 + b->n) { /* postsynaptic: potentiate the column */
            size_t j = gid - b->gid0;
            for (size_t i = 0; i < m->rows; i++) {
                double tr = fmin(1, trace_at(m->pre_tr, m->pre_t, i, t, r->tau_plus));
                m->wsel[i] = tr >= TRACE_MIN ? r->t_write * tr : 0.0;
            }
            memx_write(m, 0, j, m->wsel);
            m->post_tr[j] = trace_at(m->post_tr, m->post_t, j, t, r->tau_minus) + 1;
            m->post_t[j] = t;
        }
    }
}

int ss_network_record_writes(ss_network *net, size_t proj, ss_error *err)
{
    if (proj >= net->nmx || !net->mx[proj].plastic)
        return ss_error_set(err, SS_EINVAL, "network: projection %zu is not a plastic crossbar", proj);
    struct memx *m = &net->mx[proj];
    if (m->log_on)
        return SS_OK;
    size_t nc = m->rows * m->cols;
    m->log_word = calloc(m->rows, sizeof *m->log_word);
    m->log_bit = calloc(m->cols, sizeof *m->log_bit);
    m->x_first = malloc(nc * sizeof *m->x_first);
    if (!m->log_word || !m->log_bit || !m->x_first)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    memcpy(m->x_first, m->x, nc * sizeof *m->x);
    m->log_t = 0;
    m->log_on = 1;
    return SS_OK;
}

int ss_network_crossbar_recorded(const ss_network *net, size_t proj)
{
    return proj < net->nmx && net->mx[proj].log_on;
}

long ss_network_crossbar_writes(const ss_network *net, size_t proj)
{
    return proj < net->nmx ? net->mx[proj].nwrites : 0;
}

int ss_network_write_crossbar_log(const ss_network *net, size_t proj, const char *word_path,
                                  const char *bit_path, const char *x0_path, double *tend,
                                  ss_error *err)
{
    if (proj >= net->nmx || !net->mx[proj].log_on)
        return ss_error_set(err, SS_EINVAL, "network: no writes recorded on projection %zu", proj);
    const struct memx *m = &net->mx[proj];
    int rc = SS_OK;
    for (int which = 0; which < 3 && !rc; which++) {
        const char *path = which == 0 ? word_path : which == 1 ? bit_path : x0_path;
        if (!path)
            continue;
        ss_buf b = SS_BUF_INIT;
        size_t nl = which == 0 ? m->rows : m->cols;
        if (which < 2) {
            const ss_buf *lines = which == 0 ? m->log_word : m->log_bit;
            for (size_t l = 0; l < nl && !rc; l++)
                rc = ss_buf_printf(&b, "0 0%s\n", lines[l].data ? lines[l].data : "");
        } else {
            for (size_t k = 0; k < m->rows * m->cols && !rc; k++)
                rc = ss_buf_printf(&b, "%.17g%c", m->x_first[k], (k + 1) % m->cols ? ',' : '\n');
        }
        if (rc)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory writing '%s'", path);
        else
            rc = ss_util_write_file_atomic(path, b.data ? b.data : "", b.len, err);
        ss_buf_release(&b);
    }
    if (!rc && tend)
        *tend = m->log_t;
    return rc;
}

int neti_update_weights(ss_network *net, ss_error *err)
{
    for (size_t q = 0; q < net->nmx; q++) {
        struct memx *m = &net->mx[q];
        if (m->wrc)
            return ss_error_set(err, m->wrc, "network: write %ld of crossbar %zu failed: %s",
                                m->nwrites + 1, q, m->wmsg);
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
