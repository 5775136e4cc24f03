/* ode.h: what the cosim modules that use SUNDIALS share; prefix odei_, not
 * installed.  Memristor states never go through CVODE (they move by the one
 * integrator of device states, ss_device_integrate in devices/); CVODE
 * integrates the neuron equations of networks, set up by odei_cvode_create,
 * whose error handler keeps CVODE's messages instead of printing them. */
#ifndef SS_ODE_H
#define SS_ODE_H

#include <stddef.h>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_version.h>

#include "util/ss_util.h"

#define ODEI_HIDDEN __attribute__((visibility("hidden")))

/* SUNContext_Create's communicator: SUNDIALS 6 (Debian 12) takes a void *,
 * 7 has SUN_COMM_NULL. */
#if SUNDIALS_VERSION_MAJOR < 7
#define SS_SUN_COMM_NULL NULL
#else
#define SS_SUN_COMM_NULL SUN_COMM_NULL
#endif

/* A serial N_Vector of length n whose arithmetic runs as plain loops
 * compiled with smallsim (Debian's kernels are several times slower);
 * clones share the ops; destroy with N_VDestroy.  NULL on failure. */
ODEI_HIDDEN N_Vector odei_nvector(size_t n, SUNContext ctx);

/* Size of the message buffer of odei_cvode_create. */
#define ODEI_MSG 256

/* The one CVODE set-up: *cv = a solver of method lmm (CV_ADAMS, CV_BDF)
 * for rhs on y from t0, tolerances rtol and atol (a vector), user data, at
 * most max_steps per call; CVODE's messages go into msg (ODEI_MSG chars,
 * kept while the solver lives) instead of stderr.  The caller adds its
 * linear or nonlinear solver. */
ODEI_HIDDEN int odei_cvode_create(SUNContext ctx, int lmm, CVRhsFn rhs, double t0, N_Vector y,
                                  double rtol, N_Vector atol, void *user, long max_steps,
                                  char *msg, void **cv, ss_error *err);

/* The name of the previous release, for branches that still use it. */
#define ss_cosim_nvector odei_nvector

#endif
