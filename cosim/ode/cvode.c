/* cvode.c: the one CVODE set-up of the library and its one error handler
 * (cosim/ode/ode.h): CVODE's messages go into the caller's buffer, never
 * to stderr, with SUNDIALS 6 (Debian 12) and 7 alike. */
#include "cosim/ode/ode.h"

#include <stdio.h>

#include <cvode/cvode.h>

#if SUNDIALS_VERSION_MAJOR < 7
static void keep_message(int code, const char *module, const char *function, char *msg, void *user)
{
    (void)module;
    snprintf(user, ODEI_MSG, "%s (%d): %s", function, code, msg);
}
#else
static void keep_message(int line, const char *function, const char *file, const char *msg,
                         SUNErrCode code, void *user, SUNContext ctx)
{
    (void)line, (void)file, (void)ctx;
    snprintf(user, ODEI_MSG, "%s (%d): %s", function, (int)code, msg);
}
#endif

int odei_cvode_create(SUNContext ctx, int lmm, CVRhsFn rhs, double t0, N_Vector y, double rtol,
                      N_Vector atol, void *user, long max_steps, char *msg, void **out,
                      ss_error *err)
{
    msg[0] = 0;
    *out = NULL;
#if SUNDIALS_VERSION_MAJOR >= 7
    if (SUNContext_ClearErrHandlers(ctx) || SUNContext_PushErrHandler(ctx, keep_message, msg))
        return ss_error_set(err, SS_ENUMERIC, "CVODE: the error handler could not be set");
#endif
    void *cv = CVodeCreate(lmm, ctx);
    if (!cv)
        return ss_error_set(err, SS_ENOMEM, "CVODE: out of memory creating the solver");
    int flag = 0;
#if SUNDIALS_VERSION_MAJOR < 7
    flag = CVodeSetErrHandlerFn(cv, keep_message, msg);
#endif
    if (flag || (flag = CVodeInit(cv, rhs, t0, y)) || (flag = CVodeSVtolerances(cv, rtol, atol)) ||
        (flag = CVodeSetUserData(cv, user)) || (flag = CVodeSetMaxNumSteps(cv, max_steps))) {
        int rc = ss_error_set(err, SS_ENUMERIC, "CVODE could not be set up: %s%s%s",
                              CVodeGetReturnFlagName(flag), msg[0] ? ": " : "", msg);
        CVodeFree(&cv);
        return rc;
    }
    *out = cv;
    return SS_OK;
}
