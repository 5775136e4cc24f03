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
 * Objective (ss_fit_options.objective): linear, r = (i_model - i_data) /
 * (range_f sqrt(n_f F)) over all files f = 1..F with n_f samples and current
 * range range_f, so that sqrt(sum r^2) is the root mean square of the
 * per-file NRMSEs; log, the error of log10|i| in decades (asinh with a
 * floor), for rectifying devices; or both.  Both errors are reported.
 *
 * Data come from files as instruments write them (ss_fit_data_read: header
 * rows, names and units, time from a column, a sweep rate or a step time,
 * multi-period records folded onto one period, current offsets), and a
 * fitted set is written (ss_fit_result_json) and read back exactly
 * (ss_fit_params_load) to be scored on other data (ss_fit_fix_all).
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
    double freq;     /* Hz when the time was reconstructed over one period, else 0 */
    double i_scale;  /* factor applied to the file's current column (1 = amps) */
    int i_scale_from; /* where i_scale came from: SS_FIT_SCALE_... */
    char *notes;     /* what the reader did, one line each ("header unit mA: x 1e-3"), or NULL */
} ss_fit_data;
#define SS_FIT_DATA_INIT {NULL, 0, NULL, NULL, NULL, 0.0, 0.0, 1.0, 0, NULL}

/* Sources of ss_fit_data.i_scale. */
enum { SS_FIT_SCALE_DEFAULT = 0, SS_FIT_SCALE_HEADER = 1, SS_FIT_SCALE_OPTION = 2 };

/* Folding a multi-period capture onto one period (ss_fit_read_options.fold). */
enum { SS_FIT_FOLD_AUTO = 0, SS_FIT_FOLD_OFF = 1, SS_FIT_FOLD_ON = 2 };
/* Current offset removal (ss_fit_read_options.offset_mode). */
enum { SS_FIT_OFFSET_NONE = 0, SS_FIT_OFFSET_AUTO = 1, SS_FIT_OFFSET_VALUE = 2 };

typedef struct ss_fit_read_options {
    /* Column names in file order, comma-separated: t (time, s), v (applied
     * voltage, V), i (current), vsense (voltage across a sense resistor:
     * i = vsense/sense_r), r (series resistance, ohm; constant), vd (device
     * voltage, V; with `series_column` and no r column the resistance is
     * median((v - vd)/i)); any other name skips a column.  NULL: from the
     * file's header (docs/fitting.md lists the names, units and instrument
     * layouts recognised), else "v,i" for two columns, "t,v,i" for three. */
    const char *columns;
    /* Hz.  Without a time column: t_k = k/(n freq), n samples over one
     * period.  With one: the drive period used to fold the record. */
    double freq;
    /* Multiplies the current column.  0: the unit in the header ("I [mA]",
     * "Current (uA)", "I/nA"), else amps.  A value that contradicts a header
     * unit is an error. */
    double current_scale;
    double series_r;      /* ohm, in series with the device (added to sense_r) */
    int series_column;    /* series resistance from the file (r, or v and vd) */
    double sweep_rate;    /* V/s: a sweep without a time column, dt = |dv| / rate */
    double step_time;     /* s: a sweep without a time column, dt = step_time */
    double sense_r;       /* ohm: the sense resistor of a vsense column (in series) */
    int fold;             /* SS_FIT_FOLD_AUTO: fold records of >= 2 whole drive
                             periods onto one (averaged); OFF; ON (>= 1 period) */
    size_t samples;       /* samples per period after folding (0 = 200); without
                             folding, block-average to about this many (0 = keep) */
    int offset_mode;      /* SS_FIT_OFFSET_...: subtract a constant current */
    double offset;        /* A (SS_FIT_OFFSET_VALUE) */
    int drive_only;       /* a drive: the current column is optional (0 A if absent)
                             and two unnamed columns are t,v unless the time comes
                             from freq, sweep_rate or step_time */
} ss_fit_read_options;
#define SS_FIT_READ_OPTIONS_INIT {NULL, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, SS_FIT_FOLD_AUTO, 0, \
                                  SS_FIT_OFFSET_NONE, 0.0, 0}

/* Reads a measured table as instruments write it: header rows are found and
 * skipped (Keithley 4200 "Item,Smu1.Time[1][1],...", Keysight/Agilent scopes
 * "x-axis,1,2" + "second,Volt,Volt", Rigol "X,CH1,CH2,Start,Increment" +
 * "Sequence,Volt,Volt,t0,dt", Tektronix "Model,..." metadata + "TIME,CH1,CH2",
 * plain "V,I", "Time [s],Voltage [V],Current [mA]"), units in names or unit
 * rows are applied, trailing delimiters, quotes, CRLF and a UTF-8 BOM are
 * accepted; comma, semicolon (then "0,5" is 0.5), tab or space delimiters;
 * comment lines start with '#', '%', '*', '!' or "//".  Then the time is
 * built (time column, Rigol start/increment, freq, sweep_rate or step_time),
 * a multi-period record folded onto one period, and the current offset
 * removed (opt).  Errors name the file and line ("a.csv:7: 'nan' is not a
 * finite number", "a.csv:12: time does not increase (0.01 after 0.02)") and,
 * when the columns cannot be told apart, list the columns found and what is
 * expected.  `d` is released first and empty on failure; on success d->notes
 * says what was done. */
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
 * series resistor |i| <= 1.5 max|v| / R, without one |i| < 1 A and
 * > 1e-15 A.  The message suggests the current scale that would make the
 * data plausible, in terms of the file's own numbers ("is the current in
 * milli-amps? use --current-scale 1e-3").  SS_EINVAL with a message. */
int ss_fit_data_check(const ss_fit_data *d, ss_error *err);
/* Warnings that do not stop a fit, appended to *notes (one line each):
 * a series resistor that looks like a unit slip ("--series 47" for data
 * that imply about 47 kohm), a resistor too small to matter, and device
 * voltages that snap back as they do behind a series resistor (the
 * applied-voltage form with --series would fit better).  Returns the
 * number of warnings. */
int ss_fit_data_warnings(const ss_fit_data *d, char **notes);
void ss_fit_data_release(ss_fit_data *d);
/* Current range max(i) - min(i) of the data. */
double ss_fit_data_range(const ss_fit_data *d);
/* The period of a periodic drive from its crossings of its mean level
 * (at least two whole periods, spacings within 5 %), or 0. */
double ss_fit_data_period(const ss_fit_data *d);

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

/* What the fit minimises (ss_fit_options.objective). */
enum {
    SS_FIT_OBJECTIVE_LINEAR = 0, /* per-file NRMSE: error / current range */
    SS_FIT_OBJECTIVE_LOG = 1,    /* error of log|i| in decades (asinh with a floor), for
                                    rectifying devices whose small branch matters */
    SS_FIT_OBJECTIVE_MIXED = 2   /* both: NRMSE^2 + (SS_FIT_LOG_WEIGHT x decades)^2 */
};
/* In the mixed objective one decade weighs like this NRMSE. */
#define SS_FIT_LOG_WEIGHT 0.1

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
    int objective;       /* SS_FIT_OBJECTIVE_... */
    double log_floor;    /* A: currents below it count linearly in the log error
                            (asinh(i / 2 floor)); 0 = 1e-6 x the file's largest |i| */
} ss_fit_options;
#define SS_FIT_OPTIONS_INIT {1, 0, 0, 0, 0, 0, 0.0, 0.0, 0, NULL, NULL, SS_FIT_OBJECTIVE_LINEAR, 0.0}

/* A fit of model `type` starting from its default parameters with the
 * model's default free set and bounds (docs/fitting.md): vteam r_on r_off
 * v_on v_off k_on k_off alpha_on alpha_off (geometry w_on, w_off fixed, the
 * rate scale k is degenerate with it); yakopcic a1 a2 b vp vn ap an xp xn
 * alphap alphan (eta fixed); yakopcic2020 the 16 of its I-V and state
 * equations.  NULL on failure. */
ss_fit *ss_fit_alloc(const ss_device_type *type, ss_error *err);
void ss_fit_free(ss_fit *f);

/* Adds a measurement (copied; ss_fit_data_check first).  The first added
 * is file 0. */
int ss_fit_add_data(ss_fit *f, const ss_fit_data *d, ss_error *err);
/* Starting values and fixed values: a device of the same model. */
int ss_fit_set_device(ss_fit *f, const ss_device *d, ss_error *err);
/* Fixes a parameter at `value` (also "x0" for every file's initial state,
 * or "x0[k]" for file k; for vteam "w0" is accepted too). */
int ss_fit_fix(ss_fit *f, const char *name, double value, ss_error *err);
/* Fixes every model parameter at the device's value (ss_fit_set_device):
 * ss_fit_run then scores that parameter set, fitting only the initial
 * states that are not fixed (one per file). */
void ss_fit_fix_all(ss_fit *f);
/* Sets a parameter's search bounds and frees it if it was fixed.
 * Parameters whose bounds share one sign are searched on a log scale. */
int ss_fit_set_bounds(ss_fit *f, const char *name, double lo, double hi, ss_error *err);
/* The bounds ss_fit_run will search for parameter `name` with the data
 * added so far and the options set (polarity +1, -1, or 0 for both), and
 * whether it is free. */
int ss_fit_get_bounds(ss_fit *f, const char *name, double *lo, double *hi, int *free_,
                      ss_error *err);
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
    int identifiable; /* free, not at a bound, two standard errors within 10 % of
                         the value (95 % confidence), and not in a near-null
                         direction of J^T J */
    char partner[24]; /* the free value it trades off against most ("x0[2]", "a1"),
                         or "" (only for parameters that are not identifiable) */
    double corr;      /* their correlation (or share of the near-null direction) */
} ss_fit_param;

typedef struct ss_fit_file {
    char *name;
    double x0, x0_stderr; /* fitted (or fixed) initial state, normalised */
    int x0_free;
    double nrmse;         /* RMS error / current range */
    double log_rmse;      /* RMS error of log10|i| (asinh with the floor), decades */
    double log_floor;     /* A */
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
    double global_nrmse; /* objective after the global phase (NRMSE for linear) */
    int objective;     /* SS_FIT_OBJECTIVE_... */
    double log_rmse;   /* overall: RMS of the per-file log errors (decades) */
    double cost;       /* the objective's value: sqrt of its sum of squares */
    char *notes;       /* warnings and explanations, one per line ("warning: ..."), or NULL */
} ss_fit_result;
#define SS_FIT_RESULT_INIT {{0}, 1, 0, NULL, 0, NULL, 0.0, 0.0, 0, 0, 0.0, 0.0, 0, 0.0, 0.0, NULL}
void ss_fit_result_release(ss_fit_result *r);

/* Runs the global phase and the polish; fills `res` (released first).
 * With every model parameter fixed (ss_fit_fix_all) it only fits the free
 * initial states, one file at a time, and scores the fixed set.  res->notes
 * explains parameters that ended on a bound or are not identifiable, and
 * carries the data warnings (ss_fit_data_warnings). */
int ss_fit_run(ss_fit *f, ss_fit_result *res, ss_error *err);

/* 1 if parameter k of model t is its initial state (x0, or w0 for vteam),
 * which a fit reports per file. */
int ss_fit_is_state_param(const ss_device_type *t, size_t k);

/* ==== parameter files ============================================================= */

/* Reads a fit result file (ss_fit_result_json: "device": {"model",
 * "polarity", "params"}, or the same three keys at the top level) into
 * `d` (validated) and *polarity (+1, -1; may be NULL).  Unknown parameter
 * names, a missing model and bad values are errors naming the file and
 * line.  JSON is read with libyaml (JSON is YAML). */
int ss_fit_params_load(const char *path, ss_device *d, int *polarity, ss_error *err);
/* The same from text; `name` is used in messages. */
int ss_fit_params_parse(const char *text, const char *name, ss_device *d, int *polarity,
                        ss_error *err);

/* ==== output ===================================================================== */

/* Appends the result as JSON: "device" {model, polarity, params {name:
 * value}} (SI, 17 significant digits: ss_fit_params_load reads it back
 * exactly), then model, polarity, objective, stderr {name: value or null},
 * units, bounds, identifiable {name: bool}, non_identifiable, at_bound,
 * fixed [names], nrmse, log_rmse, files [{name, nrmse, log_rmse, x0,
 * x0_stderr, x0_fitted, series_r, samples, steps}], notes [lines], free,
 * cond, global_nrmse, evals, seconds. */
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
 * a PNG with gnuplot.  `data` has r->nfiles entries.  log_current: |i| on a
 * log axis (rectifying devices). */
int ss_fit_plot(const ss_fit_result *r, const ss_fit_data *data, const char *png,
                const char *title, int log_current, ss_error *err);
/* Writes the measured and fitted curves as CSV: "file,t,v,i_data,i_model,
 * v_device,x" (file = index in the result), %.10g. */
int ss_fit_write_curves(const ss_fit_result *r, const ss_fit_data *data, const char *path,
                        ss_error *err);

#endif
