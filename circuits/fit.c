/* fit.c: the compact LIF model and its fit to a transistor-level f-I curve. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
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
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, 4);
    if (!w)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    double best = INFINITY;
    ss_circuit_lif bm = {0};
    /* A few starts for tau: the problem has shallow valleys. */
    const double tau_scale[] = {0.3, 1.0, 3.0};
    for (size_t s = 0; s < 3; s++) {
        double x0[4] = {log(tau_scale[s] * 0.5 / flow), log(0.8 * imin), log(0.5 / fmaxr),
                        log(0.8)};
        gsl_vector_view x = gsl_vector_view_array(x0, 4);
        if (gsl_multifit_nlinear_init(&x.vector, &fdf, w))
            continue;
        int info;
        gsl_multifit_nlinear_driver(500, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
        gsl_vector *f = gsl_multifit_nlinear_residual(w);
        double chi = 0;
        gsl_blas_ddot(f, f, &chi);
        if (isfinite(chi) && chi < best) {
            best = chi;
            unpack(gsl_multifit_nlinear_position(w), &bm);
        }
    }
    gsl_multifit_nlinear_free(w);
    if (!isfinite(best))
        return ss_error_set(err, SS_ENUMERIC, "the LIF fit did not converge");
    bm.rms_rel = sqrt(best / (double)n);
    bm.max_rel = 0;
    for (size_t i = 0; i < n; i++)
        bm.max_rel = fmax(bm.max_rel, fabs(ss_circuit_lif_rate(&bm, input[i]) / rate[i] - 1.0));
    *m = bm;
    return SS_OK;
}

int ss_circuit_lif_write(const ss_circuit_lif *m, const char *circuit, const char *path,
                         ss_error *err)
{
    char buf[1024];
    int len = snprintf(buf, sizeof buf,
                       "{\n  \"model\": \"lif\",\n  \"circuit\": \"%s\",\n"
                       "  \"equation\": \"x = (I/irh)^beta; f = 1/(tref + tau*ln(x/(x-1)))\",\n"
                       "  \"tau\": %.9g,\n  \"irh\": %.9g,\n  \"tref\": %.9g,\n  \"beta\": %.9g,\n"
                       "  \"fit_rms_rel\": %.6g,\n  \"fit_max_rel\": %.6g\n}\n",
                       circuit ? circuit : "", m->tau, m->irh, m->tref, m->beta, m->rms_rel,
                       m->max_rel);
    if (len < 0 || (size_t)len >= sizeof buf)
        return ss_error_set(err, SS_EINVAL, "circuit name too long");
    return ss_util_write_file_atomic(path, buf, (size_t)len, err);
}
