/* crossbar.c: the canonical crossbar written as an ngspice netlist, the
 * reference that the crossbar solver in cosim/ is checked against. */
#include "netlists/ss_netlist.h"

#include <math.h>

/* Node names; an ideal wire merges a line into one node. */
static void wname(char *buf, size_t sz, const ss_netlist_crossbar *xb, size_t i, size_t j)
{
    if (xb->rwire == 0)
        snprintf(buf, sz, "w%zu", i);
    else
        snprintf(buf, sz, "w%zu_%zu", i, j);
}

static void bname(char *buf, size_t sz, const ss_netlist_crossbar *xb, size_t i, size_t j)
{
    if (xb->rwire == 0)
        snprintf(buf, sz, "b%zu", j);
    else
        snprintf(buf, sz, "b%zu_%zu", i, j);
}

int ss_netlist_crossbar_write(const ss_netlist_crossbar *xb, ss_buf *out, ss_error *err)
{
    char a[64], b[64];
    int rc = 0;
    if (!xb->rows || !xb->cols)
        return ss_error_set(err, SS_EINVAL, "crossbar: rows and cols must be at least 1");
    if (!(xb->rwire >= 0) || !(xb->rsource >= 0) || !(xb->rsense >= 0) || !isfinite(xb->rwire) ||
        !isfinite(xb->rsource) || !isfinite(xb->rsense))
        return ss_error_set(err, SS_EINVAL, "crossbar: resistances must be finite and >= 0");
    if (!xb->g && !(xb->cell_subckt && xb->cell_name))
        return ss_error_set(err, SS_EINVAL, "crossbar: cells need conductances or a subcircuit");
    if (!xb->sources && !xb->v && !xb->exprs)
        return ss_error_set(err, SS_EINVAL, "crossbar: no input sources");
    rc |= ss_buf_printf(out, "* smallsim crossbar %zu x %zu, rwire=%.17g rsource=%.17g rsense=%.17g\n",
                        xb->rows, xb->cols, xb->rwire, xb->rsource, xb->rsense);
    if (xb->cell_subckt)
        rc |= ss_buf_printf(out, "%s\n", xb->cell_subckt);
    for (size_t i = 0; i < xb->rows; i++) {
        wname(a, sizeof a, xb, i, 0);
        const char *node = a;
        if (xb->rsource > 0) {
            rc |= ss_buf_printf(out, "RS%zu s%zu %s %.17g\n", i, i, a, xb->rsource);
            snprintf(b, sizeof b, "s%zu", i);
            node = b;
        }
        if (xb->exprs)
            rc |= ss_buf_printf(out, "BIN%zu %s 0 V = %s\n", i, node, xb->exprs[i]);
        else if (xb->sources)
            rc |= ss_buf_printf(out, "VIN%zu %s 0 %s\n", i, node, xb->sources[i]);
        else
            rc |= ss_buf_printf(out, "VIN%zu %s 0 DC %.17g\n", i, node, xb->v[i]);
        for (size_t j = 0; xb->rwire > 0 && j + 1 < xb->cols; j++) {
            wname(a, sizeof a, xb, i, j);
            wname(b, sizeof b, xb, i, j + 1);
            rc |= ss_buf_printf(out, "RW%zu_%zu %s %s %.17g\n", i, j, a, b, xb->rwire);
        }
    }
    for (size_t j = 0; j < xb->cols; j++) {
        for (size_t i = 0; xb->rwire > 0 && i + 1 < xb->rows; i++) {
            bname(a, sizeof a, xb, i, j);
            bname(b, sizeof b, xb, i + 1, j);
            rc |= ss_buf_printf(out, "RB%zu_%zu %s %s %.17g\n", i, j, a, b, xb->rwire);
        }
        bname(a, sizeof a, xb, xb->rows - 1, j);
        const char *bv = xb->bit_sources ? xb->bit_sources[j] : "DC 0";
        if (xb->rsense > 0) {
            rc |= ss_buf_printf(out, "RSE%zu %s m%zu %.17g\nVSENSE%zu m%zu 0 %s\n", j, a, j,
                                xb->rsense, j, j, bv);
        } else {
            rc |= ss_buf_printf(out, "VSENSE%zu %s 0 %s\n", j, a, bv);
        }
    }
    for (size_t i = 0; i < xb->rows; i++)
        for (size_t j = 0; j < xb->cols; j++) {
            wname(a, sizeof a, xb, i, j);
            bname(b, sizeof b, xb, i, j);
            if (xb->g) {
                double g = xb->g[i * xb->cols + j];
                if (!(g >= 0) || !isfinite(g))
                    return ss_error_set(err, SS_EINVAL,
                                        "crossbar: conductance of cell (%zu, %zu) is %g", i, j, g);
                if (g > 0)
                    rc |= ss_buf_printf(out, "RC%zu_%zu %s %s %.17g\n", i, j, a, b, 1.0 / g);
            } else {
                rc |= ss_buf_printf(out, "XC%zu_%zu %s %s %s", i, j, a, b, xb->cell_name);
                if (xb->cell_params)
                    rc |= ss_buf_printf(out, " %s", xb->cell_params);
                rc |= ss_buf_add(out, "\n", 1);
                /* the state node is held at x0 for the operating point */
                if (xb->cell_x0)
                    rc |= ss_buf_printf(out, ".ic v(xc%zu_%zu.xs)=%.17g\n", i, j,
                                        xb->cell_x0[i * xb->cols + j]);
            }
        }
    if (xb->options)
        rc |= ss_buf_printf(out, "%s\n", xb->options);
    if (!xb->body_only)
        rc |= ss_buf_printf(out, "%s\n.end\n", xb->analysis ? xb->analysis : ".op");
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}
