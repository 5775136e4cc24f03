/* crossbar_tran.c: memristive crossbars in time.  The cell states move by
 * the library's one integrator of device states (ss_device_integrate in
 * devices/); the circuit it asks for the cell voltages is the whole array,
 * solved with its line resistance for the present word- and bit-line
 * drives and states, so half-select disturb and line-resistance effects
 * come out of the physics.  The steps land on every corner of the drives. */
#include "cosim/crossbar/ss_crossbar.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct tran {
    ss_crossbar *xb;
    const ss_device *cells;
    int shared;
    const ss_pwl *word, *bit;
    size_t rows, cols;
    double *v, *vb, *iout;
    ss_error err;
};

/* The circuit: cell voltages for states x at time t. */
static int tran_voltages(void *ctx, double t, const double *x, double *vc, double *dv_dx)
{
    struct tran *tr = ctx;
    (void)dv_dx; /* the wires' share of a cell's own feedback is left to Newton */
    for (size_t i = 0; i < tr->rows; i++)
        tr->v[i] = ss_pwl_value(&tr->word[i], t);
    if (tr->bit) {
        for (size_t j = 0; j < tr->cols; j++)
            tr->vb[j] = ss_pwl_value(&tr->bit[j], t);
        if (ss_crossbar_set_bit_voltages(tr->xb, tr->vb, &tr->err))
            return 1;
    }
    if (ss_crossbar_solve_devices(tr->xb, tr->cells, tr->shared, x, tr->v, tr->iout, &tr->err))
        return 1; /* the integrator retries a smaller step */
    ss_crossbar_cell_voltages(tr->xb, vc);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int ss_crossbar_tran(ss_crossbar *xb, const ss_device *cells, int shared, const ss_pwl *word,
                     double tstop, ss_crossbar_tran_options *opt, double *x, ss_error *err)
{
    ss_crossbar_tran_options defaults = SS_CROSSBAR_TRAN_OPTIONS_INIT;
    if (!opt)
        opt = &defaults;
    size_t rows, cols, nc;
    ss_crossbar_size(xb, &rows, &cols);
    nc = rows * cols;
    if (!(tstop > 0) || !isfinite(tstop))
        return ss_error_set(err, SS_EINVAL, "crossbar tran: tstop must be positive");
    if (!(opt->rtol >= 0) || !isfinite(opt->rtol))
        return ss_error_set(err, SS_EINVAL, "crossbar tran: rtol must be >= 0");
    double rtol = opt->rtol > 0 ? opt->rtol : 1e-5;
    struct tran tr = {xb, cells, shared, word, opt->bit, rows, cols, NULL, NULL, NULL, {0, ""}};
    size_t ncorner = 0;
    for (size_t i = 0; i < rows; i++)
        ncorner += word[i].n;
    for (size_t j = 0; opt->bit && j < cols; j++)
        ncorner += opt->bit[j].n;
    double *corner = malloc((ncorner + 1) * sizeof *corner);
    tr.v = malloc(rows * sizeof *tr.v);
    tr.vb = malloc(cols * sizeof *tr.vb);
    tr.iout = malloc(cols * sizeof *tr.iout);
    double *vcell = malloc(nc * sizeof *vcell);
    int rc = SS_OK;
    if (!corner || !tr.v || !tr.vb || !tr.iout || !vcell) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    /* the stops: every corner of every drive inside (0, tstop), once */
    ncorner = 0;
    for (size_t i = 0; i < rows; i++)
        for (size_t k = 0; k < word[i].n; k++)
            if (word[i].t[k] > 0 && word[i].t[k] < tstop)
                corner[ncorner++] = word[i].t[k];
    for (size_t j = 0; opt->bit && j < cols; j++)
        for (size_t k = 0; k < opt->bit[j].n; k++)
            if (opt->bit[j].t[k] > 0 && opt->bit[j].t[k] < tstop)
                corner[ncorner++] = opt->bit[j].t[k];
    qsort(corner, ncorner, sizeof *corner, cmp_double);
    size_t u = 0;
    for (size_t k = 0; k < ncorner; k++)
        if (!u || corner[k] > corner[u - 1] * (1 + 1e-15))
            corner[u++] = corner[k];
    ncorner = u;
    corner[ncorner++] = tstop;
    ss_device_circuit c = {nc, cells, shared, opt->frozen, NULL, 0.0, tran_voltages, &tr};
    ss_device_integration o = SS_DEVICE_INTEGRATION_INIT;
    o.rtol = rtol;
    o.atol = 1e-3 * rtol;
    rc = ss_device_integrate(&c, &o, 0.0, x, vcell, corner, ncorner, &opt->stats, err);
    if (rc && tr.err.code)
        rc = ss_error_prefix(err, rc, "crossbar tran (%s)", tr.err.msg);
    else if (rc)
        rc = ss_error_prefix(err, rc, "crossbar tran");
out:
    if (opt->bit)
        ss_crossbar_set_bit_voltages(xb, NULL, NULL);
    free(corner);
    free(tr.v);
    free(tr.vb);
    free(tr.iout);
    free(vcell);
    return rc;
}
