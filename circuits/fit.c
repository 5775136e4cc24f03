/* fit.c: the compact LIF model and its fit to a transistor-level f-I curve. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "circuits/circuits_private.h"

double ss_circuit_lif_rate(const ss_circuit_lif *m, double input)
{
    if (!(input > m->irh))
        return 0.0;
    double x = pow(input / m->irh, m->beta);
    return 1.0 / (m->tref + m->tau * log(x / (x - 1.0)));
}

struct fitdata {
    const double *x, *y;
    size_t n;
};

/* Parameters are fitted as logarithms (all positive, decades apart). */
static void unpack(const gsl_vector *p, ss_circuit_lif *m)
{
    m->tau = exp(gsl_vector_get(p, 0));
    m->irh = exp(gsl_vector_get(p, 1));
    m->tref = exp(gsl_vector_get(p, 2));
    m->beta = exp(gsl_vector_get(p, 3));
}

static int residuals(const gsl_vector *p, void *data, gsl_vector *f)
{
    const struct fitdata *d = data;
    ss_circuit_lif m;
    unpack(p, &m);
    for (size_t i = 0; i < d->n; i++) {
        double r = ss_circuit_lif_rate(&m, d->x[i]);
        /* Below the model's rheobase the rate is 0: a relative error of -1
         * keeps the residual bounded and pushes Irh down. */
        gsl_vector_set(f, i, r / d->y[i] - 1.0);
    }
    return GSL_SUCCESS;
}

/* Trust-region least squares (finite-difference Jacobian) from each of
 * `nstart` starting points (rows of x0, fdf->p values each); the best end
 * point goes to best_x and its sum of squared residuals to *chi2 (INFINITY
 * when no start converged). */
static int fit_starts(gsl_multifit_nlinear_fdf *fdf, const double *x0, size_t nstart,
                      size_t maxiter, double *best_x, double *chi2, ss_error *err)
{
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, fdf->n, fdf->p);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    *chi2 = INFINITY;
    for (size_t s = 0; s < nstart; s++) {
        double x[16];
        memcpy(x, x0 + s * fdf->p, fdf->p * sizeof *x);
        gsl_vector_view xv = gsl_vector_view_array(x, fdf->p);
        if (gsl_multifit_nlinear_init(&xv.vector, fdf, w))
            continue;
        int info;
        gsl_multifit_nlinear_driver(maxiter, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
        gsl_vector *f = gsl_multifit_nlinear_residual(w);
        double chi = 0;
        gsl_blas_ddot(f, f, &chi);
        if (isfinite(chi) && chi < *chi2) {
            *chi2 = chi;
            gsl_vector *pos = gsl_multifit_nlinear_position(w);
            for (size_t k = 0; k < fdf->p; k++)
                best_x[k] = gsl_vector_get(pos, k);
        }
    }
    gsl_multifit_nlinear_free(w);
    return SS_OK;
}

int ss_circuit_fit_lif(const double *input, const double *rate, size_t n, ss_circuit_lif *m,
                       ss_error *err)
{
    if (n < 5)
        return ss_error_set(err, SS_EINVAL, "the LIF fit needs at least 5 firing points");
    for (size_t i = 0; i < n; i++)
        if (!(input[i] > 0) || !(rate[i] > 0))
            return ss_error_set(err, SS_EINVAL, "fit point %zu has no positive input and rate", i);
    /* Start: Irh just below the smallest firing input, tref from the
     * largest rate, Isat at the largest input, tau from the lowest rate. */
    double imin = input[0], fmaxr = rate[0], flow = rate[0];
    for (size_t i = 1; i < n; i++) {
        if (input[i] < imin) {
            imin = input[i];
            flow = rate[i];
        }
        fmaxr = fmax(fmaxr, rate[i]);
    }
    struct fitdata d = {input, rate, n};
    gsl_multifit_nlinear_fdf fdf;
    memset(&fdf, 0, sizeof fdf);
    fdf.f = residuals;
    fdf.df = NULL; /* finite differences */
    fdf.n = n;
    fdf.p = 4;
    fdf.params = &d;
    /* A few starts for tau: the problem has shallow valleys. */
    const double tau_scale[] = {0.3, 1.0, 3.0};
    double x0[3 * 4], bx[4], best;
    for (size_t s = 0; s < 3; s++) {
        x0[4 * s] = log(tau_scale[s] * 0.5 / flow);
        x0[4 * s + 1] = log(0.8 * imin);
        x0[4 * s + 2] = log(0.5 / fmaxr);
        x0[4 * s + 3] = log(0.8);
    }
    int rc = fit_starts(&fdf, x0, 3, 500, bx, &best, err);
    if (rc)
        return rc;
    if (!isfinite(best))
        return ss_error_set(err, SS_ENUMERIC, "the LIF fit did not converge");
    ss_circuit_lif bm = {0};
    gsl_vector_view bv = gsl_vector_view_array(bx, 4);
    unpack(&bv.vector, &bm);
    bm.rms_rel = sqrt(best / (double)n);
    bm.max_rel = 0;
    for (size_t i = 0; i < n; i++)
        bm.max_rel = fmax(bm.max_rel, fabs(ss_circuit_lif_rate(&bm, input[i]) / rate[i] - 1.0));
    *m = bm;
    return SS_OK;
}

/* A model file: {"model", "circuit", "fit_rms_rel", "fit_max_rel", the
 * model's own keys (extra), "params" {population keys}}, numbers with 17
 * significant digits (the library's JSON writer). */
static int model_write(const char *model, const char *circuit, double rms, double max,
                       const char *equation, const char *const *xkeys, const double *xv, size_t nx,
                       const char *const *keys, const double *v, size_t n, const char *path,
                       ss_error *err)
{
    json_t *root = json_object(), *pm = json_object();
    int bad = !root || !pm;
    bad = bad || json_object_set_new(root, "model", json_string(model));
    bad = bad || ss_json_set_string(root, "circuit", circuit);
    bad = bad || ss_json_set_number(root, "fit_rms_rel", rms);
    bad = bad || ss_json_set_number(root, "fit_max_rel", max);
    bad = bad || json_object_set_new(root, "equation", json_string(equation));
    for (size_t k = 0; !bad && k < nx; k++)
        bad = ss_json_set_number(root, xkeys[k], xv[k]);
    for (size_t k = 0; !bad && k < n; k++)
        bad = ss_json_set_number(pm, keys[k], v[k]);
    bad = bad || json_object_set(root, "params", pm);
    json_decref(pm);
    int rc = bad ? ss_error_set(err, SS_ENOMEM, "out of memory") : ss_json_write(root, path, err);
    json_decref(root);
    return rc;
}

int ss_circuit_lif_write(const ss_circuit_lif *m, const char *circuit, const char *path,
                         ss_error *err)
{
    /* The network's LIF with v_rest = v_reset, v_th 20 mV above them and
     * r_m such that r_m irh = 20 mV: x = S(I) / irh with S(I) = irh
     * (I/irh)^beta, and its rate is the compact model's. */
    static const char *const keys[] = {"tau_m", "v_rest", "v_reset", "v_th", "r_m", "t_ref",
                                       "in_beta", "in_ref"};
    const double v[] = {m->tau, -70e-3, -70e-3, -50e-3, 20e-3 / m->irh, m->tref, m->beta, m->irh};
    static const char *const xkeys[] = {"tau", "irh", "tref", "beta"};
    const double xv[] = {m->tau, m->irh, m->tref, m->beta};
    return model_write("lif", circuit, m->rms_rel, m->max_rel,
                       "x = (I/irh)^beta; f = 1/(tref + tau*ln(x/(x-1)))", xkeys, xv, 4, keys, v,
                       sizeof v / sizeof v[0], path, err);
}

/* ---- the network's DPI population ------------------------------------------ */

struct dpifit {
    const double *x, *y;
    size_t n;
    ss_dpi_params base;
};

static void dpi_unpack(const gsl_vector *p, const ss_dpi_params *base, ss_dpi_params *m)
{
    *m = *base;
    m->itau = exp(gsl_vector_get(p, 0));
    m->ith = exp(gsl_vector_get(p, 1));
    m->t_ref = exp(gsl_vector_get(p, 2));
    m->in_beta = exp(gsl_vector_get(p, 3));
}

/* Relative rate errors; a model that does not fire (or a failed
 * quadrature) at a point scores -1 there, as in the LIF fit. */
static double dpi_rel(const ss_dpi_params *m, double x, double y)
{
    double r = 0;
    ss_error e;
    if (ss_network_dpi_rate(m, x, &r, &e))
        r = 0;
    return r / y - 1.0;
}

static int dpi_residuals(const gsl_vector *p, void *data, gsl_vector *f)
{
    const struct dpifit *d = data;
    ss_dpi_params m;
    dpi_unpack(p, &d->base, &m);
    for (size_t i = 0; i < d->n; i++)
        gsl_vector_set(f, i, dpi_rel(&m, d->x[i], d->y[i]));
    return GSL_SUCCESS;
}

int ss_circuit_fit_dpi(const double *input, const double *rate, size_t n,
                       const ss_dpi_params *start, ss_circuit_dpi *m, ss_error *err)
{
    if (n < 5)
        return ss_error_set(err, SS_EINVAL, "the DPI fit needs at least 5 firing points");
    double lsum = 0, fmaxr = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(input[i] > 0) || !(rate[i] > 0))
            return ss_error_set(err, SS_EINVAL, "fit point %zu has no positive input and rate", i);
        lsum += log(input[i]);
        fmaxr = fmax(fmaxr, rate[i]);
    }
    ss_dpi_params def = SS_DPI_DEFAULTS;
    def.cmem = 1e-12;
    struct dpifit d = {input, rate, n, start ? *start : def};
    d.base.in_ref = exp(lsum / (double)n);
    d.base.iahp_jump = 0;
    d.base.ithahp = d.base.io;
    gsl_multifit_nlinear_fdf fdf;
    memset(&fdf, 0, sizeof fdf);
    fdf.f = dpi_residuals;
    fdf.df = NULL; /* finite differences */
    fdf.n = n;
    fdf.p = 4;
    fdf.params = &d;
    /* Starts: the gain Ith/Itau spans decades between circuits; the
     * exponent starts compressive. */
    const double gain[] = {1.0, 10.0, 100.0}, beta[] = {0.5, 1.0};
    double x0[6 * 4], bx[4], best;
    for (size_t s = 0; s < 6; s++) {
        x0[4 * s] = log(d.base.itau);
        x0[4 * s + 1] = log(gain[s % 3] * d.base.itau);
        x0[4 * s + 2] = log(0.3 / fmaxr);
        x0[4 * s + 3] = log(beta[s / 3]);
    }
    int rc = fit_starts(&fdf, x0, 6, 300, bx, &best, err);
    if (rc)
        return rc;
    if (!isfinite(best))
        return ss_error_set(err, SS_ENUMERIC, "the DPI fit did not converge");
    ss_dpi_params bm;
    gsl_vector_view bv = gsl_vector_view_array(bx, 4);
    dpi_unpack(&bv.vector, &d.base, &bm);
    m->p = bm;
    m->rms_rel = sqrt(best / (double)n);
    m->max_rel = 0;
    for (size_t i = 0; i < n; i++)
        m->max_rel = fmax(m->max_rel, fabs(dpi_rel(&bm, input[i], rate[i])));
    return SS_OK;
}

int ss_circuit_dpi_write(const ss_circuit_dpi *m, const char *circuit, const char *path,
                         ss_error *err)
{
    const ss_dpi_params *p = &m->p;
    static const char *const keys[] = {"cmem", "itau", "ith", "io", "ispkthr", "ireset",
                                       "kappa", "ut", "iagain", "iath", "ianorm", "cahp",
                                       "itauahp", "ithahp", "iahp_jump", "t_ref", "in_beta",
                                       "in_ref"};
    const double v[] = {p->cmem,   p->itau,    p->ith,     p->io,     p->ispkthr, p->ireset,
                        p->kappa,  p->ut,      p->iagain,  p->iath,   p->ianorm,  p->cahp,
                        p->itauahp, p->ithahp, p->iahp_jump, p->t_ref, p->in_beta, p->in_ref};
    return model_write("dpi", circuit, m->rms_rel, m->max_rel,
                       "teili DPI (ss_dpi_params) behind the input stage "
                       "S(I) = in_ref*(I/in_ref)^in_beta",
                       NULL, NULL, 0, keys, v, sizeof v / sizeof v[0], path, err);
}
