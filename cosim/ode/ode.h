/* ode.h: the CVODE helpers shared by the cosim modules that integrate ODEs
 * (devsim, crossbar transients, networks); prefix odei_, not installed.
 *
 * Each of those modules still sets CVODE up itself: the three set-ups
 * differ in method and linear solver (BDF with a dense analytic Jacobian for
 * one device, BDF with a diagonal approximation for crossbar transients,
 * Adams with fixed-point iteration or BDF with KLU on a block-diagonal
 * Jacobian for networks).  What they share lives here. */
#ifndef SS_ODE_H
#define SS_ODE_H

#include <stddef.h>

#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_version.h>

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

/* The name of the previous release, for branches that still use it. */
#define ss_cosim_nvector odei_nvector

#endif
