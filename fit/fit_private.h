/* fit_private.h: internals shared by the files of fit/ (not installed). */
#ifndef SS_FIT_PRIVATE_H
#define SS_FIT_PRIVATE_H

#include <gsl/gsl_matrix.h>

#include "fit/ss_fit.h"

#define SSF_INTERNAL __attribute__((visibility("hidden")))

/* One model parameter in the search. */
typedef struct ssf_param {
    int free;
    double lo, hi;
    int logscale; /* bounds of one sign: search log|p| */
} ssf_param;

struct ss_fit {
    const ss_device_type *type;
    ss_device base;
    ssf_param p[SS_DEVICE_MAX_PARAMS];
    int user_bounds[SS_DEVICE_MAX_PARAMS]; /* set by ss_fit_set_bounds */
    size_t nfiles;
    ss_fit_data *data;
    int *x0_free;
    double *x0_val;
    int x0_default_free;
    double x0_default;
    ss_fit_options opt;
};

/* Sets p's bounds (log scale when both have one sign). */
SSF_INTERNAL void ssf_set_range(ssf_param *p, double lo, double hi);
/* Default bounds from the data for every parameter without user bounds
 * (bounds.c), for the device's polarity: +1, -1, or 0 for both. */
SSF_INTERNAL void ssf_default_bounds(ss_fit *f, int polarity);

/* Standard errors and trade-offs of the free values from the Jacobian J
 * (nres x nz, unit-cube columns) and the residual variance s2 (stats.c).
 * se[j] = INFINITY when undetermined; nullish[j] = 1 when z[j] weighs in
 * a near-singular direction; partner[j] = the index of the value it trades
 * off against most (or -1) and corr[j] their correlation. */
SSF_INTERNAL int ssf_z_stats(const gsl_matrix *J, double s2, double *se, int *nullish, int *partner,
                             double *corr, double *cond);

/* Accepted step end times of one simulation, for replaying the same
 * discretisation with other parameters. */
typedef struct ssf_steps {
    double *t;
    size_t n, cap;
} ssf_steps;

enum ssf_mode {
    SSF_ADAPTIVE = 0, /* error-controlled steps */
    SSF_RECORD = 1,   /* adaptive, and record the steps in *steps */
    SSF_REPLAY = 2    /* take exactly the steps in *steps (no error control) */
};

/* The integrator behind ss_fit_simulate.  Writes the current at every
 * sample into i_out (and v_out, x_out if not NULL).  Returns 0, or -1 when
 * the integration failed (Newton did not converge at the smallest step, the
 * step budget ran out, or a replay step failed). */
SSF_INTERNAL int ssf_integrate(const ss_device *d, int polarity, const ss_fit_data *data,
                               double x0, double tol, int mode, ssf_steps *steps, double *i_out,
                               double *v_out, double *x_out, long *nsteps);
SSF_INTERNAL void ssf_steps_release(ssf_steps *s);

/* Appends one line (printf format) to the newline-separated list *notes,
 * unless the same line is already there. */
SSF_INTERNAL int ssf_note(char **notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Releases d and gives it n samples (uninitialised) and a copy of name. */
SSF_INTERNAL int ssf_data_alloc(ss_fit_data *d, const char *name, size_t n, ss_error *err);
/* After reading: folds a multi-period record, decimates, removes the current
 * offset (opt).  `file_time`: the time came from the file (not from freq,
 * sweep rate or step time). */
SSF_INTERNAL int ssf_data_reshape(ss_fit_data *d, const ss_fit_read_options *opt, int file_time,
                                  char **notes, ss_error *err);

/* Runs fn(ctx, k) for k = 0..n-1 on `threads` threads (k split round-robin). */
SSF_INTERNAL void ssf_parallel_for(int threads, size_t n, void (*fn)(void *ctx, size_t k),
                                   void *ctx);

#endif
