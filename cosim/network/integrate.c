/* integrate.c: the neuron equations (LIF, DPI, the input stage) and their
 * integration by CVODE between exchange points.  CVODE takes one internal
 * step at a time; after each, the neurons whose first state rose through
 * threshold are found on a cubic Hermite interpolant of their own state
 * (find_spikes), so spike times are exact to the integration tolerance
 * without CVODE's root finding, and the solver restarts at most once per
 * exchange step. */
#include "cosim/network/network_private.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

double ss_network_input_stage(double i, double in_beta, double in_ref)
{
    if (in_beta == 1.0 || i == 0.0)
        return i;
    double s = in_ref * pow(fabs(i) / in_ref, in_beta);
    return i < 0 ? -s : s;
}

/* dv/dt of a LIF outside refractoriness (s: v, i_syn, w). */
double neti_lif_dv(const ss_lif_params *q, double bias, const double *s)
{
    double in = ss_network_input_stage(s[1] + bias, q->in_beta, q->in_ref);
    return (q->v_rest - s[0] + q->r_m * (in - s[2])) / q->tau_m;
}

void neti_dpi_rhs(const ss_dpi_params *p, double bias, int ref, const double *y, double *dy)
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
    neti_dpi_rhs(a->p, a->iin, 0, y, dy);
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
        d[0] = ref ? 0.0 : neti_lif_dv(q, p->bias[i], s);
        d[1] = -s[1] / q->tau_syn;
        d[2] = (q->a * (s[0] - q->v_rest) - s[2]) / q->tau_w;
    } else
        neti_dpi_rhs(&p->dpi, p->bias[i], ref, s, d);
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
        const struct pop *p = neti_pop_of_gid(net, gid);
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
        int rc = neti_record_spike(net, net->cross[c].t, gid);
        if (rc)
            return rc;
        ((struct pop *)neti_pop_of_gid(net, gid))->nspikes++;
    }
    return SS_OK;
}

int neti_solver_setup(ss_network *net, int bdf, double h, ss_error *err)
{
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
    return SS_OK;
}

int neti_integrate(ss_network *net, double t0, double t1, ss_error *err)
{
    int rc;
    if (!net->cv)
        return SS_OK;
    /* a neuron already at threshold (initial state) spikes now */
    double *y = N_VGetArrayPointer(net->y);
    for (size_t k = 0; k < net->nroots; k++) {
        size_t gid = net->root_gid[k];
        const struct pop *p = neti_pop_of_gid(net, gid);
        double v = y[p->soff + 3 * (gid - p->gid0)];
        double th = p->kind == SS_POP_LIF ? p->lif.v_th : p->dpi.ispkthr;
        if (v >= th && !net->pending[gid] && net->ref_until[gid] <= net->step) {
            net->pending[gid] = 1;
            net->tspike[gid] = t0;
            if ((rc = neti_record_spike(net, t0, gid)))
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

int neti_solver_restart(ss_network *net, double t, ss_error *err)
{
    count_stats(net);
    if (CVodeReInit(net->cv, t, net->y))
        return ss_error_set(err, SS_ENUMERIC, "network: CVODE restart failed");
    net->restarts++;
    return SS_OK;
}

void neti_free_solver(ss_network *net)
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
