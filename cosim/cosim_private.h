/* cosim_private.h: shared between cosim/ files only (not installed). */
#ifndef SS_COSIM_PRIVATE_H
#define SS_COSIM_PRIVATE_H

#include "cosim/ss_cosim.h"

#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_version.h>

/* SUNContext_Create's communicator: SUNDIALS 6 (Debian 12) takes a void *,
 * 7 has SUN_COMM_NULL. */
#if SUNDIALS_VERSION_MAJOR < 7
#define SS_SUN_COMM_NULL NULL
#else
#define SS_SUN_COMM_NULL SUN_COMM_NULL
#endif

/* The process's open engine, or NULL (a forked child inherits it). */
ss_engine *ss_cosim_current_engine(void);

/* A serial N_Vector of length n whose arithmetic runs as plain loops
 * compiled with smallsim (Debian's kernels are several times slower);
 * clones share the ops; destroy with N_VDestroy.  NULL on failure. */
N_Vector ss_cosim_nvector(size_t n, SUNContext ctx);

#endif
