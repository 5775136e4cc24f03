/* ss_fit.h: fitting memristor models (devices/) to measured I-V loops.
 *
 * The model of one measurement is the circuit drive -> series resistor ->
 * device: the measured applied voltage (piecewise linear between samples)
 * drives the resistor and the device in series, the device voltage is
 * solved at every instant and the device current is compared with the
 * measured current.  Several measurements (files) are fitted with ONE
 * parameter set; each has its own drive, series resistor and initial state
 * (fitted per file unless fixed).
 *
 * Method: differential evolution (DE/current-to-pbest/1/bin, Latin
 * hypercube start) over the free parameters mapped to the unit cube
 * (log-scaled for scale parameters), then a trust-region Levenberg-Marquardt
 * polish (gsl_multifit_nlinear) from the best distinct candidates, with a
 * forward-difference Jacobian on the frozen step sequence of the base
 * simulation, so that the derivatives are those of one fixed discretisation.
 * Populations and Jacobian columns are spread over threads; every random
 * draw happens in the calling thread, so a run is reproducible from its
 * seed for any thread count.
 *
 * Objective: r = (i_model - i_data) / (range_f sqrt(n_f F)) over all files
 * f = 1..F with n_f samples and current range range_f, so that the overall
 * NRMSE sqrt(sum r^2) is the root mean square of the per-file NRMSEs
 * (RMS error divided by that file's current range).
 *
 * Typical use:
 *     ss_fit_data d = SS_FIT_DATA_INIT;  ss_fit_read_options ro = SS_FIT_READ_OPTIONS_INIT;
 *     ro.freq = 10;  ro.current_scale = 1e-6;  ro.series_r = 5e3;
 *     if (ss_fit_data_read(&d, "loop.csv", &ro, &err) || ss_fit_data_check(&d, &err)) ...;
 *     ss_fit *f = ss_fit_alloc(ss_device_yakopcic, &err);
 *     ss_fit_add_data(f, &d, &err);              // copied
 *     ss_fit_fix(f, "xp", 0.3, &err);  ss_fit_set_bounds(f, "vp", 0.05, 1, &err);
 *     ss_fit_result res = SS_FIT_RESULT_INIT;
 *     ss_fit_run(f, &res, &err);                 // res.device, res.nrmse, ...
 *     ss_fit_result_release(&res);  ss_fit_free(f);  ss_fit_data_release(&d);
 */
#ifndef SS_FIT_H
#define SS_FIT_H

#include <stddef.h>

#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"
#include "util/ss_util.h"

/* ==== measured data ======================================================== */

/* One measured loop.  Times start at 0 and increase strictly. */
typedef struct ss_fit_data {
    char *name;      /* file path or label */
    size_t n;        /* samples */
    double *t;       /* s */
    double *v;       /* applied voltage (across resistor + device), V */
    double *i;       /* current, A (device current = resistor current) */
    double series_r; /* ohm, >= 0 */
    double freq;     /* Hz when the time was reconstructed, else 0 */
} ss_fit_data;
#define SS_FIT_DATA_INIT {NULL, 0, NULL, NULL, NULL, 0.0, 0.0}

typedef struct ss_fit_read_options {
    /* Column names in file order, comma-separated: t (time, s), v (applied
     * voltage, V), i (current), r (series resistance, ohm; constant),
     * vd (device voltage, V; with `series_column` and no r column the
     * resistance is median((v - vd)/i)); any other name skips a column.
     * NULL: from the header if there is one (names t/time, v/volt..,
     * i/curr.., r, vd), else "v,i" for two columns, "t,v,i" for three. */
    const char *columns;
    double freq;          /* > 0: time t_k = k/(n freq) (one period); 0: t column */
    double current_scale; /* multiplies the current column (1e-6 for uA); 0 = 1 */
    double series_r;      /* ohm */
    int series_column;    /* series resistance from the file (r, or v and vd) */
} ss_fit_read_options;
#define SS_FIT_READ_OPTIONS_INIT {NULL, 0.0, 1.0, 0.0, 0}

/* Reads a numeric table: optional header line (the first non-comment line
 * when it is not numeric), comma, semicolon (then "0,5" is 0.5) or white
 * space delimiters, comment lines starting with '#', '%', '*', '!' or "//",
 * blank lines.  Errors name the file and line: "a.csv:7: 'nan' is not a
 * finite number", "a.csv: one column only (need voltage and current)",
 * "a.csv:12: time does not increase (0.01 after 0.02)".  `d` is released
 * first and empty on failure. */
int ss_fit_data_read(ss_fit_data *d, const char *path, const ss_fit_read_options *opt,
                     ss_error *err);
/* The same from text in memory; `name` is used in messages. */
int ss_fit_data_parse(ss_fit_data *d, const char *text, const char *name,
                      const ss_fit_read_options *opt, ss_error *err);
/* Copies arrays into `d` (t may be NULL with freq > 0). */
int ss_fit_data_set(ss_fit_data *d, const char *name, size_t n, const double *t, const double *v,
                    const double *i, double freq, double series_r, ss_error *err);
/* Plausibility: at least 8 samples, finite values, a drive and a current
 * that both vary, and a current magnitude that fits the drive: with a
 * series resistor |i| <= 1.5 max|v| / R (so micro-amps read as amps are
 * caught: "... is the current in micro-amps? use --current-scale 1e-6"),
 * without one |i| < 1 A and > 1e-15 A.  SS_EINVAL with a message. */
int ss_fit_data_check(const ss_fit_data *d, ss_error *err);
void ss_fit_data_release(ss_fit_data *d);
/* Current range max(i) - min(i) of the data. */
double ss_fit_data_range(const ss_fit_data *d);

/* ==== simulating a loop ====================================================== */

/* Model response to one data set's drive: the same sampled trajectory as
 * cosim's device simulator (steps counts accepted SDIRK steps, rhs_evals
 * stays 0).  Release with ss_devsim_trace_release. */
typedef ss_devsim_trace ss_fit_trace;
#define SS_FIT_TRACE_INIT SS_DEVSIM_TRACE_INIT

/* Integrates the device (initial state x0, normalised) behind data->series_r
 * under data's drive, piecewise linear between samples, and samples it at
 * the data's times.  `polarity` -1 connects the device reversed (its te to
 * ground).  The integrator is an L-stable two-stage SDIRK (order 2) with
 * error control on x (absolute tolerance `tol`, 0 = 1e-7) that stops at
 * every sample; each stage solves state and device voltage together by
 * Newton's method with the model's exact derivatives. */
int ss_fit_simulate(const ss_device *d, int polarity, const ss_fit_data *data, double x0,
                    double tol, ss_fit_trace *tr, ss_error *err);

/* ==== the fit ==================================================================== */

typedef struct ss_fit ss_fit;

/* Progress report, called from the calling thread. */
typedef struct ss_fit_progress {
    const char *phase; /* "global" or "polish" */
    int iteration;     /* generation or LM iteration */
    int start;         /* polish start (0-based) */
    long evals;        /* model evaluations so far (all files = 1) */
    double best;       /* best overall NRMSE so far */
    double seconds;    /* since ss_fit_run started */
} ss_fit_progress;
/* Return non-zero to stop the fit (ss_fit_run then fails with SS_EINVAL
 * "fit cancelled"). */
typedef int (*ss_fit_progress_fn)(const ss_fit_progress *p, void *user);

typedef struct ss_fit_options {
    unsigned long seed;  /* DE and LHS draws */
    int threads;         /* 0 = 2 */
    int population;      /* DE population, 0 = 6 per dimension within [24, 60] */
    int generations;     /* DE generations, 0 = 60 */
    int starts;          /* LM polishes from the best distinct DE members, 0 = 2 */
    int max_iter;        /* LM iterations per start, 0 = 60 */
    double global_tol;   /* integrator tolerance in the global phase, 0 = 1e-3 */
    double tol;          /* integrator tolerance in the polish and result, 0 = 1e-4 */
    int polarity;        /* +1, -1, or 0 = search both in the global phase */
    ss_fit_progress_fn progress;
    void *user;
} ss_fit_options;
#define SS_FIT_OPTIONS_INIT {1, 0, 0, 0, 0, 0, 0.0, 0.0, 0, NULL, NULL}

/* A fit of model `type` starting from its default parameters with the
 * model's default free set and bounds (docs/fitting.md): vteam r_on r_off
 * v_on v_off k_on k_off alpha_on alpha_off (geometry w_on, w_off fixed, the
 * rate scale k is degenerate with it); yakopcic a1 a2 b vp vn ap an xp xn
 * alphap alphan (eta fixed); yakopcic2020 the 16 of its I-V and state
 * equations.  NULL on failure. */
ss_fit *ss_fit_alloc(const ss_device_type *type, ss_error *err);
void ss_fit_free(ss_fit *f);

/* Adds a measurement (copied).  The first added is file 0. */
int ss_fit_add_data(ss_fit *f, const ss_fit_data *d, ss_error *err);
/* Starting values and fixed values: a device of the same model. */
int ss_fit_set_device(ss_fit *f, const ss_device *d, ss_error *err);
/* Fixes a parameter at `value` (also "x0" for every file's initial state,
 * or "x0[k]" for file k; for vteam "w0" is accepted too). */
int ss_fit_fix(ss_fit *f, const char *name, double value, ss_error *err);
/* Sets a parameter's search bounds and frees it if it was fixed.
 * Parameters whose bounds share one sign are searched on a log scale. */
int ss_fit_set_bounds(ss_fit *f, const char *name, double lo, double hi, ss_error *err);
/* Parses "name=value" (SPICE number) for ss_fit_fix and "name=lo:hi" for
 * ss_fit_set_bounds. */
int ss_fit_fix_text(ss_fit *f, const char *assignment, ss_error *err);
int ss_fit_bounds_text(ss_fit *f, const char *assignment, ss_error *err);
void ss_fit_set_options(ss_fit *f, const ss_fit_options *opt);

/* One parameter in a result. */
typedef struct ss_fit_param {
    const char *name, *unit;
    double value;
    double stderr_;   /* standard error (same unit); INFINITY if undetermined */
    double lo, hi;    /* bounds (free parameters) */
    int free;         /* fitted (1) or fixed (0) */
    int at_bound;     /* ended within 1e-6 of a bound (unit-cube scale) */
    int identifiable; /* free, not at a bound, three standard errors within 5 % of
                         the value, and not in a near-null direction of J^T J */
} ss_fit_param;

typedef struct ss_fit_file {
    char *name;
    double x0, x0_stderr; /* fitted (or fixed) initial state, normalised */
    int x0_free;
    double nrmse;
    double series_r;
    ss_fit_trace model; /* the fitted model at the data's times */
} ss_fit_file;

typedef struct ss_fit_result {
    ss_device device;  /* fitted; its w0/x0 is file 0's initial state */
    int polarity;
    size_t nparams;    /* all parameters of the model (numbers only) */
    ss_fit_param *params;
    size_t nfiles;
    ss_fit_file *files;
    double nrmse;      /* overall: RMS of the per-file NRMSEs */
    double cond;       /* condition number of the column-scaled Jacobian */
    size_t nfree;      /* free parameters including initial states */
    long evals;        /* model evaluations */
    double seconds;    /* wall time of ss_fit_run */
    double global_nrmse; /* best after the global phase */
} ss_fit_result;
#define SS_FIT_RESULT_INIT {{0}, 1, 0, NULL, 0, NULL, 0.0, 0.0, 0, 0, 0.0, 0.0}
void ss_fit_result_release(ss_fit_result *r);

/* Runs the global phase and the polish; fills `res` (released first). */
int ss_fit_run(ss_fit *f, ss_fit_result *res, ss_error *err);

/* ==== output ===================================================================== */

/* Appends the result as JSON: model, polarity, params {name: value} (SI),
 * stderr {name: value or null}, units, identifiable {name: bool}, fixed
 * [names], bounds, nrmse, files [{name, nrmse, x0, x0_stderr, series_r}],
 * non_identifiable [names], cond, evals, seconds. */
int ss_fit_result_json(const ss_fit_result *r, ss_buf *out, ss_error *err);
/* Appends the fitted subcircuit `.subckt NAME te be`: the device's own
 * (ss_device_write_spice) or, for polarity -1, a wrapper that connects
 * NAME_core reversed.  Initial state: file `file`'s. */
int ss_fit_result_spice(const ss_fit_result *r, const char *name, size_t file, ss_buf *out,
                        ss_error *err);
/* A complete ngspice deck: the fitted subcircuit behind the data's series
 * resistor, driven by the data's samples as a PWL source, probe `vsense`
 * (i(vsense) is the device current), `.tran ... uic`. */
int ss_fit_netlist(const ss_fit_result *r, size_t file, const ss_fit_data *data, ss_buf *out,
                   ss_error *err);
/* Runs that deck on `eng` and samples the current at the data's times into
 * tr->i (and v(te), the state) by linear interpolation. */
int ss_fit_run_spice(ss_engine *eng, const ss_fit_result *r, size_t file,
                     const ss_fit_data *data, ss_fit_trace *tr, ss_error *err);
/* Draws data (points) and model (line) I-V loops, one panel per file, into
 * a PNG with gnuplot.  `data` has r->nfiles entries. */
int ss_fit_plot(const ss_fit_result *r, const ss_fit_data *data, const char *png,
                const char *title, ss_error *err);

#endif
