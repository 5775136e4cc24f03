/* stats.c: what the data determine at a fit's optimum (fit/ss_fit.h):
 * standard errors from an SVD of the column-scaled Jacobian, near-null
 * directions (values the data cannot tell apart), and for each value the
 * other value it trades off against most. */
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>
#include <math.h>
#include <stdlib.h>

#include "fit/fit_private.h"

int ssf_z_stats(const gsl_matrix *J, double s2, double *se, int *nullish, int *partner,
                double *corr, double *cond)
{
    size_t n = J->size1, p = J->size2;
    size_t *col = malloc((p ? p : 1) * sizeof *col);
    double *scale = malloc((p ? p : 1) * sizeof *scale);
    int rc = GSL_ENOMEM;
    gsl_matrix *A = NULL, *V = NULL, *C = NULL;
    gsl_vector *S = NULL, *work = NULL;
    if (!col || !scale)
        goto out;
    size_t m = 0;
    for (size_t j = 0; j < p; j++) {
        gsl_vector_const_view cj = gsl_matrix_const_column(J, j);
        double nrm = gsl_blas_dnrm2(&cj.vector);
        se[j] = INFINITY;
        nullish[j] = 1;
        partner[j] = -1;
        corr[j] = 0;
        if (nrm > 0 && isfinite(nrm))
            col[m] = j, scale[m] = nrm, m++;
    }
    *cond = INFINITY;
    rc = GSL_SUCCESS;
    if (m == 0 || n < m)
        goto out;
    A = gsl_matrix_alloc(n, m);
    V = gsl_matrix_alloc(m, m);
    C = gsl_matrix_calloc(m, m);
    S = gsl_vector_alloc(m);
    work = gsl_vector_alloc(m);
    if (!A || !V || !C || !S || !work) {
        rc = GSL_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < m; k++)
        for (size_t i = 0; i < n; i++)
            gsl_matrix_set(A, i, k, gsl_matrix_get(J, i, col[k]) / scale[k]);
    if (gsl_linalg_SV_decomp(A, V, S, work)) {
        rc = GSL_EFAILED;
        goto out;
    }
    double smax = gsl_vector_get(S, 0), smin = gsl_vector_get(S, m - 1);
    *cond = smin > 0 ? smax / smin : INFINITY;
    /* Covariance of the scaled values over the determined directions. */
    for (size_t q = 0; q < m; q++) {
        double s = gsl_vector_get(S, q);
        if (s <= 1e-10 * smax)
            continue;
        for (size_t a = 0; a < m; a++)
            for (size_t b = 0; b < m; b++)
                *gsl_matrix_ptr(C, a, b) +=
                    gsl_matrix_get(V, a, q) * gsl_matrix_get(V, b, q) / (s * s);
    }
    for (size_t k = 0; k < m; k++) {
        double var = 0;
        int undetermined = 0, weak = 0;
        size_t qnull = m;
        double vnull = 0;
        for (size_t q = 0; q < m; q++) {
            double s = gsl_vector_get(S, q), vkq = gsl_matrix_get(V, k, q);
            if (s <= 1e-10 * smax) {
                if (fabs(vkq) > 0.1)
                    undetermined = 1;
            } else {
                if (s <= 1e-5 * smax && fabs(vkq) > 0.3)
                    weak = 1;
                var += vkq * vkq / (s * s);
            }
            if (s <= 1e-5 * smax && fabs(vkq) > vnull)
                vnull = fabs(vkq), qnull = q;
        }
        size_t j = col[k];
        se[j] = undetermined ? INFINITY : sqrt(s2 * var) / scale[k];
        nullish[j] = undetermined || weak;
        /* The partner: along the near-null direction it moves in most, or
         * by correlation. */
        double best = 0;
        if (qnull < m && vnull > 0.1) {
            double vk = gsl_matrix_get(V, k, qnull);
            for (size_t o = 0; o < m; o++) {
                double vo = gsl_matrix_get(V, o, qnull);
                if (o != k && fabs(vo) > best) {
                    best = fabs(vo);
                    partner[j] = (int)col[o];
                    corr[j] = vk * vo > 0 ? 1.0 : -1.0;
                }
            }
        } else {
            double ckk = gsl_matrix_get(C, k, k);
            for (size_t o = 0; o < m; o++) {
                double coo = gsl_matrix_get(C, o, o);
                if (o == k || !(ckk > 0) || !(coo > 0))
                    continue;
                double c = gsl_matrix_get(C, k, o) / sqrt(ckk * coo);
                if (fabs(c) > best) {
                    best = fabs(c);
                    partner[j] = (int)col[o];
                    corr[j] = c;
                }
            }
        }
    }
out:
    free(col);
    free(scale);
    gsl_matrix_free(A);
    gsl_matrix_free(V);
    gsl_matrix_free(C);
    gsl_vector_free(S);
    gsl_vector_free(work);
    return rc;
}
