/* crossbar_tran.c: memristive crossbars in time.  The cell states are the
 * ODE unknowns (CVODE, BDF with a diagonal Jacobian approximation: each
 * cell's own feedback dominates); every right-hand side solves the
 * nonlinear nodal equations of the whole array for the present inputs and
 * states, so half-select disturb and line-resistance effects come out of the
 * physics.  The integration restarts at every corner of the input
 * waveforms. */
#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/ode/ode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cvode/cvode.h>
#include <cvode/cvode_diag.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>

/* ---- transient ---------------------------------------------------------------- */

struct tran {
    ss_crossbar *xb;
    const ss_device *cells;
    int shared;
    const ss_pwl *in;
    size_t rows, cols;
    double *v, *iout, *vc;
    ss_error err;
    int failed;
};

static int tran_rhs(sunrealtype t, N_Vector y, N_Vector yd, void *user)
{
    struct tran *tr = user;
    const double *x = N_VGetArrayPointer(y);
    double *dx = N_VGetArrayPointer(yd);
    for (size_t i = 0; i < tr->rows; i++)
        tr->v[i] = ss_pwl_value(&tr->in[i], t);
    if (ss_crossbar_solve_devices(tr->xb, tr->cells, tr->shared, x, tr->v, tr->iout, &tr->err)) {
        tr->failed = 1;
        return 1; /* recoverable: CVODE tries a smaller step */
    }
    ss_crossbar_cell_voltages(tr->xb, tr->vc);
    for (size_t k = 0; k < tr->rows * tr->cols; k++)
        dx[k] = ss_device_dxdt(&tr->cells[tr->shared ? 0 : k], tr->vc[k], x[k]);
    return 0;
}

/* CVODE's messages are kept for the error report, never printed. */
static void quiet(int code, const char *module, const char *function, char *msg, void *user)
{
    struct tran *tr = user;
    (void)code, (void)module, (void)function;
    if (!tr->failed)
        snprintf(tr->err.msg, sizeof tr->err.msg, "%s", msg);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ss_crossbar_tran(ss_crossbar *xb, const ss_device *cells, int shared, const ss_pwl *inputs,
                     double tstop, double rtol, double *x, ss_error *err)
{
    size_t rows, cols, nc;
    ss_crossbar_size(xb, &rows, &cols);
    nc = rows * cols;
    if (!(tstop > 0) || !isfinite(tstop))
        return ss_error_set(err, SS_EINVAL, "crossbar tran: tstop must be positive");
    if (!(rtol > 0))
        rtol = 1e-6;
    struct tran tr = {xb, cells, shared, inputs, rows, cols, NULL, NULL, NULL, {0, ""}, 0};
    size_t ncorner = 0;
    for (size_t i = 0; i < rows; i++)
        ncorner += inputs[i].n;
    double *corner = malloc((ncorner + 1) * sizeof *corner);
    tr.v = malloc(rows * sizeof *tr.v);
    tr.iout = malloc(cols * sizeof *tr.iout);
    tr.vc = malloc(nc * sizeof *tr.vc);
    SUNContext ctx = NULL;
    N_Vector y = NULL;
    void *cv = NULL;
    int rc = SS_OK;
    if (!corner || !tr.v || !tr.iout || !tr.vc) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    ncorner = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < inputs[i].n; k++)
            if (inputs[i].t[k] > 0 && inputs[i].t[k] < tstop)
                corner[ncorner++] = inputs[i].t[k];
    qsort(corner, ncorner, sizeof *corner, cmp_double);
    corner[ncorner++] = tstop;
    if (SUNContext_Create(SS_SUN_COMM_NULL, &ctx) || !(y = odei_nvector(nc, ctx))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(N_VGetArrayPointer(y), x, nc * sizeof *x);
    cv = CVodeCreate(CV_BDF, ctx);
    if (!cv || CVodeInit(cv, tran_rhs, 0.0, y) || CVodeSStolerances(cv, rtol, 1e-3 * rtol) ||
        CVodeSetUserData(cv, &tr) || CVDiag(cv) || CVodeSetMaxNumSteps(cv, 1000000) ||
        CVodeSetErrHandlerFn(cv, quiet, &tr)) {
        rc = ss_error_set(err, SS_ENUMERIC, "crossbar tran: CVODE could not be set up");
        goto out;
    }
    double t = 0;
    for (size_t c = 0; c < ncorner && !rc; c++) {
        double tc = corner[c];
        if (tc <= t * (1 + 1e-15))
            continue;
        CVodeSetStopTime(cv, tc);
        int flag = CVode(cv, tc, y, &t, CV_NORMAL);
        if (flag < 0) {
            rc = ss_error_set(err, SS_ENUMERIC, "crossbar tran: CVODE failed at t = %g s: %s: %s", t,
                              CVodeGetReturnFlagName(flag), tr.err.msg);
            break;
        }
        if (c + 1 < ncorner && CVodeReInit(cv, t, y))
            rc = ss_error_set(err, SS_ENUMERIC, "crossbar tran: CVODE restart failed");
    }
    if (!rc)
        memcpy(x, N_VGetArrayPointer(y), nc * sizeof *x);
out:
    if (cv)
        CVodeFree(&cv);
    if (y)
        N_VDestroy(y);
    if (ctx)
        SUNContext_Free(&ctx);
    free(corner);
    free(tr.v);
    free(tr.iout);
    free(tr.vc);
    return rc;
}
