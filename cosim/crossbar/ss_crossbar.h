/* ss_crossbar.h: resistive and memristive crossbars solved natively: DC
 * solves with line resistance and memristive transients.
 *
 * An N x M crossbar in the canonical topology (the one `smallsim netlist
 * crossbar` writes for ngspice): word line i is driven at its left end by a
 * source V_i through `rsource`; along it, wire segments of `rwire` between
 * columns; bit line j runs from row 0 to row N-1 with segments of `rwire`
 * between rows and ends in `rsense` at the bottom, to ground or, for writes,
 * to a bit-line source; the cell (i, j) connects word-line node (i, j) to
 * bit-line node (i, j).  The output current of column j is the current in
 * its sense resistor.  A resistance of 0 means an ideal connection (the
 * nodes are merged).
 *
 * The nodal equations are solved to machine precision by conjugate
 * gradients preconditioned with an exact solve of every word and bit line
 * (each line is a tridiagonal chain; the cells couple them weakly).  The
 * matrix of a crossbar of passive cells is symmetric positive definite, and
 * the work per iteration is O(N M), so 512 x 512 arrays with wire
 * resistance solve in well under a second. */
#ifndef SS_CROSSBAR_H
#define SS_CROSSBAR_H

#include <stddef.h>

#include "cosim/devsim/ss_devsim.h"
#include "devices/ss_devices.h"
#include "util/ss_util.h"

typedef struct ss_crossbar_spec {
    size_t rows, cols;                /* N word lines, M bit lines */
    double rwire, rsource, rsense;    /* ohm, >= 0 */
} ss_crossbar_spec;

typedef struct ss_crossbar ss_crossbar;

/* Checks the spec (named errors for negative or non-finite values). */
ss_crossbar *ss_crossbar_alloc(const ss_crossbar_spec *spec, ss_error *err);
void ss_crossbar_free(ss_crossbar *xb);

/* Linear solve: cell conductances g (rows x cols, siemens, row-major, >= 0),
 * word-line source voltages v (rows).  Writes the bit-line currents (cols,
 * amperes) into iout.  The previous solution is the starting guess, so
 * repeated solves with small changes are cheap. */
int ss_crossbar_dc(ss_crossbar *xb, const double *g, const double *v, double *iout,
                   ss_error *err);
/* Nonlinear solve: every cell a memristor (devices/) in state x[k] (rows x
 * cols), or, with `shared`, all cells the device cells[0].  Newton with
 * step limiting on the nodal equations; iout as for ss_crossbar_dc. */
int ss_crossbar_solve_devices(ss_crossbar *xb, const ss_device *cells, int shared,
                              const double *x, const double *v, double *iout, ss_error *err);

/* Bit-line source voltages (cols values; NULL: all 0 V, ground) for the
 * solves that follow.  Writes drive bit lines as well as word lines. */
int ss_crossbar_set_bit_voltages(ss_crossbar *xb, const double *vb, ss_error *err);

/* Voltage across every cell (word node minus bit node) after the last solve
 * (rows x cols, row-major). */
void ss_crossbar_cell_voltages(const ss_crossbar *xb, double *vcell);
/* Conjugate-gradient iterations of the last solve. */
int ss_crossbar_iterations(const ss_crossbar *xb);
/* Rows and columns. */
void ss_crossbar_size(const ss_crossbar *xb, size_t *rows, size_t *cols);

/* Transient of a memristive crossbar (reads and writes): word line i driven
 * by word[i] and, with opt->bit, bit line j by bit[j] (else grounded) from
 * t = 0 to tstop; x (rows x cols normalised states) holds the initial states
 * and receives the final ones.  Cells as in ss_crossbar_solve_devices.  The
 * states move by the library's one integrator of device states
 * (ss_device_integrate), with the whole array solved at every stage
 * iterate, so half-selected cells see the voltage the lines leave them;
 * the steps land on every corner of the inputs. */
typedef struct ss_crossbar_tran_options {
    const ss_pwl *bit;           /* cols bit-line drives, or NULL: grounded */
    const unsigned char *frozen; /* rows x cols: cells whose state holds (stuck
                                    devices; they still conduct), or NULL */
    double rtol;                 /* relative local error per step (0: 1e-5); the
                                    absolute one is 1e-3 rtol */
    ss_device_integration_stats stats; /* out: steps, rejected steps, array solves */
} ss_crossbar_tran_options;
#define SS_CROSSBAR_TRAN_OPTIONS_INIT {NULL, NULL, 0.0, {0, 0, 0}}
int ss_crossbar_tran(ss_crossbar *xb, const ss_device *cells, int shared, const ss_pwl *word,
                     double tstop, ss_crossbar_tran_options *opt, double *x, ss_error *err);

#endif
