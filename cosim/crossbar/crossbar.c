/* crossbar.c: nodal solution of a resistive crossbar with line resistance.
 *
 * Unknowns are the word-line and bit-line node voltages.  Each line is a
 * chain (tridiagonal block); cells couple word node (i, j) with bit node
 * (i, j).  With an ideal wire (rwire = 0) a line collapses to one node; an
 * ideal source or sense connection fixes the end node's voltage.  Fixed
 * nodes stay in the vector with identity rows, and their couplings move to
 * the right-hand side, so the system stays symmetric positive definite and
 * conjugate gradients apply.  Bit lines end in their sense resistors at
 * the bit-line source voltages (0 V unless set: ground).  The
 * preconditioner solves every chain exactly
 * (Thomas algorithm), which leaves only the weak cell coupling for the
 * iteration: a handful of iterations at any size. */
#include "cosim/crossbar/ss_crossbar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CG_TOL 1e-14
#define CG_MAX_ITER 5000

struct ss_crossbar {
    size_t n, m;      /* rows, cols */
    size_t kw, kb;    /* nodes per word line (m or 1), per bit line (n or 1) */
    size_t nw, nodes; /* word nodes, all nodes */
    double gw, gs, gse; /* wire, source, sense conductances (0 when ideal) */
    int ideal_wire, ideal_source, ideal_sense;
    const double *g;  /* cell conductances of the current solve */
    const double *j;  /* cell current sources word -> bit (Newton), or NULL */
    double *vb;       /* bit-line source voltages (m; 0 = grounded) */
    double *sg, *sj, *sv, *sold; /* scratch of the nonlinear solve (cells, cells, cells, nodes) */
    unsigned char *fixed;
    double *x, *rhs, *diag, *r, *z, *p, *q;
    double *tc, *ti, *tl; /* the preconditioner's factors, per node */
    int iters, have_guess;
};

static int check_resistance(const char *name, double r, ss_error *err)
{
    if (!isfinite(r) || r < 0)
        return ss_error_set(err, SS_EINVAL, "crossbar: %s must be a finite resistance >= 0 (got %g)",
                            name, r);
    return SS_OK;
}

ss_crossbar *ss_crossbar_alloc(const ss_crossbar_spec *spec, ss_error *err)
{
    if (spec->rows == 0 || spec->cols == 0) {
        ss_error_set(err, SS_EINVAL, "crossbar: rows and cols must be at least 1");
        return NULL;
    }
    if (spec->rows > 100000 || spec->cols > 100000 || spec->rows * spec->cols > 100000000) {
        ss_error_set(err, SS_EINVAL, "crossbar: %zu x %zu is too large", spec->rows, spec->cols);
        return NULL;
    }
    if (check_resistance("rwire", spec->rwire, err) ||
        check_resistance("rsource", spec->rsource, err) ||
        check_resistance("rsense", spec->rsense, err))
        return NULL;
    ss_crossbar *xb = calloc(1, sizeof *xb);
    if (!xb)
        goto oom;
    xb->n = spec->rows;
    xb->m = spec->cols;
    xb->ideal_wire = spec->rwire == 0;
    xb->ideal_source = spec->rsource == 0;
    xb->ideal_sense = spec->rsense == 0;
    xb->gw = xb->ideal_wire ? 0 : 1 / spec->rwire;
    xb->gs = xb->ideal_source ? 0 : 1 / spec->rsource;
    xb->gse = xb->ideal_sense ? 0 : 1 / spec->rsense;
    xb->kw = xb->ideal_wire ? 1 : xb->m;
    xb->kb = xb->ideal_wire ? 1 : xb->n;
    xb->nw = xb->n * xb->kw;
    xb->nodes = xb->nw + xb->m * xb->kb;
    size_t nn = xb->nodes;
    xb->fixed = calloc(nn, 1);
    double **vecs[] = {&xb->x, &xb->rhs, &xb->diag, &xb->r, &xb->z, &xb->p, &xb->q};
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
        if (!(*vecs[i] = calloc(nn, sizeof(double))))
            goto oom;
    xb->tc = calloc(nn, sizeof(double));
    xb->ti = calloc(nn, sizeof(double));
    xb->tl = calloc(nn, sizeof(double));
    xb->vb = calloc(xb->m, sizeof(double));
    size_t nc = xb->n * xb->m;
    xb->sg = malloc(nc * sizeof(double));
    xb->sj = malloc(nc * sizeof(double));
    xb->sv = malloc(nc * sizeof(double));
    xb->sold = malloc(nn * sizeof(double));
    if (!xb->fixed || !xb->tc || !xb->ti || !xb->tl || !xb->vb || !xb->sg || !xb->sj || !xb->sv || !xb->sold)
        goto oom;
    for (size_t i = 0; i < xb->n && xb->ideal_source; i++)
        xb->fixed[i * xb->kw] = 1;
    for (size_t j = 0; j < xb->m && xb->ideal_sense; j++)
        xb->fixed[xb->nw + j * xb->kb + xb->kb - 1] = 1;
    return xb;
oom:
    ss_crossbar_free(xb);
    ss_error_set(err, SS_ENOMEM, "crossbar: out of memory for %zu x %zu", spec->rows, spec->cols);
    return NULL;
}

void ss_crossbar_free(ss_crossbar *xb)
{
    if (!xb)
        return;
    free(xb->fixed);
    free(xb->x);
    free(xb->rhs);
    free(xb->diag);
    free(xb->r);
    free(xb->z);
    free(xb->p);
    free(xb->q);
    free(xb->tc);
    free(xb->ti);
    free(xb->tl);
    free(xb->vb);
    free(xb->sg);
    free(xb->sj);
    free(xb->sv);
    free(xb->sold);
    free(xb);
}

/* Node of the word line i at cell column j, and of bit line j at row i. */
static inline size_t wnode(const ss_crossbar *xb, size_t i, size_t j)
{
    return i * xb->kw + (xb->ideal_wire ? 0 : j);
}

static inline size_t bnode(const ss_crossbar *xb, size_t i, size_t j)
{
    return xb->nw + j * xb->kb + (xb->ideal_wire ? 0 : i);
}

/* y = A x over the free nodes; fixed nodes map to themselves. */
static void matvec(const ss_crossbar *xb, const double *x, double *y)
{
    const unsigned char *fx = xb->fixed;
    for (size_t u = 0; u < xb->nodes; u++)
        y[u] = fx[u] ? x[u] : xb->diag[u] * x[u];
    if (!xb->ideal_wire) {
        /* word chains, then bit chains: neighbours k, k+1 */
        for (size_t c = 0; c < xb->n + xb->m; c++) {
            size_t base = c < xb->n ? c * xb->kw : xb->nw + (c - xb->n) * xb->kb;
            size_t len = c < xb->n ? xb->kw : xb->kb;
            for (size_t k = 0; k + 1 < len; k++) {
                size_t a = base + k, b = a + 1;
                if (fx[a] || fx[b])
                    continue;
                y[a] -= xb->gw * x[b];
                y[b] -= xb->gw * x[a];
            }
        }
    }
    for (size_t i = 0; i < xb->n; i++)
        for (size_t j = 0; j < xb->m; j++) {
            size_t a = wnode(xb, i, j), b = bnode(xb, i, j);
            double g = xb->g[i * xb->m + j];
            if (fx[a] || fx[b] || g == 0)
                continue;
            y[a] -= g * x[b];
            y[b] -= g * x[a];
        }
}

/* z = M^-1 r: every chain solved exactly (Thomas algorithm). */
/* Block-Jacobi preconditioner: each line's tridiagonal block (diag, -gw to
 * free neighbours), factored once per solve (Thomas: the off-diagonal
 * ratios tc and the reciprocal pivots ti, per node), applied at every CG
 * iteration without divisions. */
static void factor_lines(ss_crossbar *xb)
{
    const unsigned char *fx = xb->fixed;
    for (size_t c = 0; c < xb->n + xb->m; c++) {
        size_t base = c < xb->n ? c * xb->kw : xb->nw + (c - xb->n) * xb->kb;
        size_t len = c < xb->n ? xb->kw : xb->kb;
        for (size_t k = 0; k < len; k++) {
            size_t u = base + k;
            double d = fx[u] ? 1.0 : xb->diag[u];
            double lower = (k > 0 && !fx[u] && !fx[u - 1]) ? -xb->gw : 0.0;
            double upper = (k + 1 < len && !fx[u] && !fx[u + 1]) ? -xb->gw : 0.0;
            double inv = 1.0 / (k > 0 ? d - lower * xb->tc[u - 1] : d);
            xb->tl[u] = lower;
            xb->ti[u] = inv;
            xb->tc[u] = upper * inv;
        }
    }
}

static void precondition(ss_crossbar *xb, const double *r, double *z)
{
    const double *tl = xb->tl, *ti = xb->ti, *tc = xb->tc;
    for (size_t c = 0; c < xb->n + xb->m; c++) {
        size_t base = c < xb->n ? c * xb->kw : xb->nw + (c - xb->n) * xb->kb;
        size_t len = c < xb->n ? xb->kw : xb->kb;
        z[base] = r[base] * ti[base];
        for (size_t u = base + 1; u < base + len; u++)
            z[u] = (r[u] - tl[u] * z[u - 1]) * ti[u];
        for (size_t u = base + len - 1; u-- > base;)
            z[u] -= tc[u] * z[u + 1];
    }
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Diagonal and right-hand side for conductances g and sources v. */
static void assemble(ss_crossbar *xb, const double *v)
{
    const unsigned char *fx = xb->fixed;
    memset(xb->diag, 0, xb->nodes * sizeof(double));
    memset(xb->rhs, 0, xb->nodes * sizeof(double));
    /* fixed values: ideal sources and ideal sense (the bit-line sources) */
    for (size_t i = 0; i < xb->n && xb->ideal_source; i++)
        xb->rhs[i * xb->kw] = v[i];
    for (size_t j = 0; j < xb->m && xb->ideal_sense; j++)
        xb->rhs[xb->nw + j * xb->kb + xb->kb - 1] = xb->vb[j];
    /* wires */
    if (!xb->ideal_wire)
        for (size_t c = 0; c < xb->n + xb->m; c++) {
            size_t base = c < xb->n ? c * xb->kw : xb->nw + (c - xb->n) * xb->kb;
            size_t len = c < xb->n ? xb->kw : xb->kb;
            for (size_t k = 0; k + 1 < len; k++) {
                size_t a = base + k, b = a + 1;
                xb->diag[a] += xb->gw;
                xb->diag[b] += xb->gw;
                if (fx[a] && !fx[b])
                    xb->rhs[b] += xb->gw * xb->rhs[a];
                if (fx[b] && !fx[a])
                    xb->rhs[a] += xb->gw * xb->rhs[b];
            }
        }
    /* sources and sense resistors */
    for (size_t i = 0; i < xb->n && !xb->ideal_source; i++) {
        size_t a = i * xb->kw;
        xb->diag[a] += xb->gs;
        xb->rhs[a] += xb->gs * v[i];
    }
    for (size_t j = 0; j < xb->m && !xb->ideal_sense; j++) {
        size_t b = xb->nw + j * xb->kb + xb->kb - 1;
        xb->diag[b] += xb->gse;
        xb->rhs[b] += xb->gse * xb->vb[j];
    }
    /* cells */
    for (size_t i = 0; i < xb->n; i++)
        for (size_t j = 0; j < xb->m; j++) {
            size_t a = wnode(xb, i, j), b = bnode(xb, i, j);
            double g = xb->g[i * xb->m + j];
            xb->diag[a] += g;
            xb->diag[b] += g;
            if (fx[a] && !fx[b])
                xb->rhs[b] += g * xb->rhs[a];
            if (fx[b] && !fx[a])
                xb->rhs[a] += g * xb->rhs[b];
        }
    /* Newton's linearised cells: a current source j from word to bit node */
    for (size_t i = 0; xb->j && i < xb->n; i++)
        for (size_t jj = 0; jj < xb->m; jj++) {
            double src = xb->j[i * xb->m + jj];
            size_t a = wnode(xb, i, jj), b = bnode(xb, i, jj);
            if (!fx[a])
                xb->rhs[a] -= src;
            if (!fx[b])
                xb->rhs[b] += src;
        }
    /* a node with nothing attached (no cells, no wires) keeps 0 V */
    for (size_t u = 0; u < xb->nodes; u++)
        if (!fx[u] && xb->diag[u] == 0)
            xb->diag[u] = 1.0;
}

static int solve(ss_crossbar *xb, const double *g, const double *v, double *iout, ss_error *err);

int ss_crossbar_dc(ss_crossbar *xb, const double *g, const double *v, double *iout, ss_error *err)
{
    xb->j = NULL;
    return solve(xb, g, v, iout, err);
}

/* Newton on the nodal equations with nonlinear cells: each iteration
 * linearises every cell at its present voltage (conductance di/dv plus a
 * current source) and solves the linear crossbar. */
int ss_crossbar_solve_devices(ss_crossbar *xb, const ss_device *cells, int shared,
                              const double *x, const double *v, double *iout, ss_error *err)
{
    size_t nc = xb->n * xb->m;
    double *g = xb->sg, *jj = xb->sj, *vc = xb->sv, *old = xb->sold;
    int rc = SS_OK, solved = !xb->have_guess;
    if (!xb->have_guess) {
        /* first guess: the linear crossbar at each cell's small-signal conductance */
        for (size_t k = 0; k < nc; k++) {
            ss_device_eval ev;
            ss_device_evaluate(&cells[shared ? 0 : k], 1e-3, x[k], &ev);
            g[k] = ev.di_dv > 1e-15 ? ev.di_dv : 1e-15;
        }
        xb->j = NULL;
        rc = solve(xb, g, v, iout, err);
        memset(jj, 0, nc * sizeof *jj);
    }
    /* solved: g and jj hold the linearisation of the last solve */
    int it = 0, total = 0;
    for (; !rc && it < 100; it++) {
        ss_crossbar_cell_voltages(xb, vc);
        int same = solved;
        for (size_t k = 0; k < nc; k++) {
            ss_device_eval ev;
            ss_device_evaluate(&cells[shared ? 0 : k], vc[k], x[k], &ev);
            double gk = ev.di_dv > 1e-15 ? ev.di_dv : 1e-15, jk = ev.i - gk * vc[k];
            same = same && gk == g[k] && jk == jj[k];
            g[k] = gk;
            jj[k] = jk;
        }
        /* the last solve's linearisation again (cells linear in v, such as
         * VTEAM's linear I-V): its solution is the answer */
        if (same)
            break;
        solved = 1;
        memcpy(old, xb->x, xb->nodes * sizeof *old);
        xb->j = jj;
        rc = solve(xb, g, v, iout, err);
        total += xb->iters;
        double dmax = 0, vmax = 0;
        for (size_t u = 0; !rc && u < xb->nodes; u++) {
            double d = xb->x[u] - old[u];
            /* limit the step: exp and sinh overshoot far from the solution */
            if (fabs(d) > 0.2) {
                xb->x[u] = old[u] + (d > 0 ? 0.2 : -0.2);
                d = 0.2;
            }
            dmax = fmax(dmax, fabs(d));
            vmax = fmax(vmax, fabs(xb->x[u]));
        }
        if (!rc && dmax <= 1e-12 + 1e-10 * vmax)
            break;
    }
    if (!rc && it == 100)
        rc = ss_error_set(err, SS_ENUMERIC, "crossbar: Newton did not converge in 100 iterations");
    xb->iters = total;
    xb->j = NULL;
    return rc;
}

static int solve(ss_crossbar *xb, const double *g, const double *v, double *iout, ss_error *err)
{
    size_t nn = xb->nodes;
    for (size_t i = 0; i < xb->n * xb->m; i++)
        if (!(g[i] >= 0) || !isfinite(g[i]))
            return ss_error_set(err, SS_EINVAL,
                                "crossbar: conductance of cell (%zu, %zu) is %g; must be finite "
                                "and >= 0",
                                i / xb->m, i % xb->m, g[i]);
    for (size_t i = 0; i < xb->n; i++)
        if (!isfinite(v[i]))
            return ss_error_set(err, SS_EINVAL, "crossbar: input voltage %zu is not finite", i);
    xb->g = g;
    assemble(xb, v);
    double *x = xb->x, *r = xb->r, *z = xb->z, *p = xb->p, *q = xb->q;
    if (!xb->have_guess)
        memset(x, 0, nn * sizeof(double));
    for (size_t u = 0; u < nn; u++)
        if (xb->fixed[u])
            x[u] = xb->rhs[u];
    matvec(xb, x, q);
    for (size_t u = 0; u < nn; u++)
        r[u] = xb->rhs[u] - q[u];
    double bnorm = sqrt(dot(xb->rhs, xb->rhs, nn));
    double rnorm = sqrt(dot(r, r, nn));
    if (xb->have_guess && rnorm > bnorm) {
        /* the last solution is a worse start than none (the sources fell,
         * or are all zero now: then zero is the exact answer) */
        for (size_t u = 0; u < nn; u++)
            x[u] = xb->fixed[u] ? xb->rhs[u] : 0.0;
        matvec(xb, x, q);
        for (size_t u = 0; u < nn; u++)
            r[u] = xb->rhs[u] - q[u];
        rnorm = sqrt(dot(r, r, nn));
    }
    factor_lines(xb);
    precondition(xb, r, z);
    memcpy(p, z, nn * sizeof(double));
    double rz = dot(r, z, nn);
    int it = 0;
    /* relative to the sources, with an absolute floor: residual currents
     * below 1e-21 A mean nothing physically (and all-zero inputs have none) */
    double tol = fmax(CG_TOL * bnorm, 1e-21);
    while (rnorm > tol && it < CG_MAX_ITER) {
        matvec(xb, p, q);
        double pq = dot(p, q, nn);
        if (!(pq > 0))
            break;
        double alpha = rz / pq;
        for (size_t u = 0; u < nn; u++) {
            x[u] += alpha * p[u];
            r[u] -= alpha * q[u];
        }
        rnorm = sqrt(dot(r, r, nn));
        precondition(xb, r, z);
        double rz_new = dot(r, z, nn);
        double beta = rz_new / rz;
        rz = rz_new;
        for (size_t u = 0; u < nn; u++)
            p[u] = z[u] + beta * p[u];
        it++;
    }
    xb->iters = it;
    /* the recursive residual drifts; judge convergence on the true one */
    matvec(xb, x, q);
    double true_r = 0;
    for (size_t u = 0; u < nn; u++)
        true_r += (xb->rhs[u] - q[u]) * (xb->rhs[u] - q[u]);
    if (sqrt(true_r) > 1e3 * tol) {
        xb->have_guess = 0;
        return ss_error_set(err, SS_ENUMERIC,
                            "crossbar: the solver did not converge in %d iterations (residual %g)",
                            it, sqrt(true_r) / (bnorm > 0 ? bnorm : 1));
    }
    xb->have_guess = 1;
    /* bit-line currents: through the sense resistor into the bit-line
     * source, or straight into it */
    for (size_t j = 0; j < xb->m; j++) {
        size_t last = xb->nw + j * xb->kb + xb->kb - 1;
        double vb = xb->vb[j];
        if (!xb->ideal_sense) {
            iout[j] = (x[last] - vb) * xb->gse;
            continue;
        }
        double cur = 0;
        if (xb->kb > 1)
            cur += xb->gw * (x[last - 1] - vb);
        for (size_t i = 0; i < xb->n; i++)
            if (bnode(xb, i, j) == last)
                cur += g[i * xb->m + j] * (x[wnode(xb, i, j)] - vb) +
                       (xb->j ? xb->j[i * xb->m + j] : 0);
        iout[j] = cur;
    }
    return SS_OK;
}

void ss_crossbar_cell_voltages(const ss_crossbar *xb, double *vcell)
{
    for (size_t i = 0; i < xb->n; i++)
        for (size_t j = 0; j < xb->m; j++)
            vcell[i * xb->m + j] = xb->x[wnode(xb, i, j)] - xb->x[bnode(xb, i, j)];
}

int ss_crossbar_set_bit_voltages(ss_crossbar *xb, const double *vb, ss_error *err)
{
    for (size_t j = 0; vb && j < xb->m; j++)
        if (!isfinite(vb[j]))
            return ss_error_set(err, SS_EINVAL, "crossbar: bit-line voltage %zu is not finite", j);
    for (size_t j = 0; j < xb->m; j++)
        xb->vb[j] = vb ? vb[j] : 0.0;
    return SS_OK;
}

int ss_crossbar_iterations(const ss_crossbar *xb)
{
    return xb->iters;
}

void ss_crossbar_size(const ss_crossbar *xb, size_t *rows, size_t *cols)
{
    *rows = xb->n;
    *cols = xb->m;
}
