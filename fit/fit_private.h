/* fit_private.h: internals shared by the files of fit/ (not installed). */
#ifndef SS_FIT_PRIVATE_H
#define SS_FIT_PRIVATE_H

#include "fit/ss_fit.h"

#define SSF_INTERNAL __attribute__((visibility("hidden")))

/* Accepted step end times of one simulation, for replaying the same
 * discretisation with other parameters (the integrator's own record). */
typedef ss_device_steps ssf_steps;

enum ssf_mode {
    SSF_ADAPTIVE = SS_DEVICE_STEPS_ADAPTIVE, /* error-controlled steps */
    SSF_RECORD = SS_DEVICE_STEPS_RECORD,     /* adaptive, and record the steps in *steps */
    SSF_REPLAY = SS_DEVICE_STEPS_REPLAY      /* exactly the steps in *steps (no error control) */
};

/* The integrator behind ss_fit_simulate.  Writes the current at every
 * sample into i_out (and v_out, x_out if not NULL).  Returns 0, or -1 when
 * the integration failed (Newton did not converge at the smallest step, the
 * step budget ran out, or a replay step failed). */
SSF_INTERNAL int ssf_integrate(const ss_device *d, int polarity, const ss_fit_data *data,
                               double x0, double tol, int mode, ssf_steps *steps, double *i_out,
                               double *v_out, double *x_out, long *nsteps);
SSF_INTERNAL void ssf_steps_release(ssf_steps *s);

/* Runs fn(ctx, k) for k = 0..n-1 on `threads` threads (k split round-robin). */
SSF_INTERNAL void ssf_parallel_for(int threads, size_t n, void (*fn)(void *ctx, size_t k),
                                   void *ctx);

#endif
