/* ss_devices.h: memristor device models (VTEAM, Yakopcic 2011/2013,
 * Yakopcic 2020), their ngspice subcircuits, presets, and variability.
 *
 * A model is a type object with an operations table (`ss_device_type`,
 * exported as `ss_device_vteam`, ...).  A device is a plain caller-owned
 * struct holding the type, one value per parameter and the mode flags; it is
 * cheap to copy, so a crossbar keeps one per cell.
 *
 * State: every model uses a normalised state x in [0, 1].  For VTEAM
 * x = (w - w_on)/(w_off - w_on), so x = 0 is the ON (low-resistance) state;
 * for Yakopcic x is the model's own state, so x = 1 is the most conductive.
 * `ss_device_type.x_lrs` says which end is ON.
 *
 * Modes: by default the equations are well posed: thresholds are smoothed
 * with a softplus ramp of width `smooth_v` volts (its slope is the logistic
 * step), window switch points with a logistic step of width `smooth_x`, the
 * VTEAM state bounds with a C2 smootherstep of width `smooth_x`, voltages
 * inside exp/sinh/pow are clamped to +-SS_DEVICE_VCLAMP and exponentials are
 * continued linearly above SS_DEVICE_EXP_LIMIT, so no finite input gives NaN
 * or overflow.  With `hard` set the textbook discontinuous equations are used
 * (thresholds and windows as if-statements, VTEAM state clipped at 0 and 1),
 * for comparison with other tools.  docs/devices.md lists the equations.
 *
 * Typical use:
 *     ss_device d;  ss_error err;
 *     ss_device_init(&d, ss_device_vteam);
 *     if (ss_device_apply_preset(&d, "vteam_demo", &err) ||
 *         ss_device_set(&d, "r_off=20k", &err) || ss_device_validate(&d, &err)) ...;
 *     ss_device_eval ev;  ss_device_evaluate(&d, 0.3, 0.5, &ev);  // ev.i, ev.dxdt, ...
 */
#ifndef SS_DEVICES_H
#define SS_DEVICES_H

#include <gsl/gsl_rng.h>
#include <stddef.h>

#include "util/ss_util.h"

#define SS_DEVICE_MAX_PARAMS 32
/* Voltages inside exp, sinh and pow are clamped to +-SS_DEVICE_VCLAMP (V). */
#define SS_DEVICE_VCLAMP 1000.0
/* exp(z) is continued linearly (C1) above z = SS_DEVICE_EXP_LIMIT. */
#define SS_DEVICE_EXP_LIMIT 40.0

typedef struct ss_device_type ss_device_type;

/* One parameter of a model.  Choice parameters (window, iv) hold the index
 * of one of `choices` as a double. */
typedef struct ss_device_param {
    const char *name;        /* as on the command line: "r_on" */
    const char *unit;        /* "ohm", "V", "m", "m/s", "1/s", "A", "1/V", "1" */
    double def;              /* default value */
    const char *description; /* one line */
    const char *const *choices; /* NULL-terminated names, or NULL for a number */
} ss_device_param;

/* A device: a model and its parameter values (caller-owned, copyable). */
typedef struct ss_device {
    const ss_device_type *type;
    double p[SS_DEVICE_MAX_PARAMS]; /* indexed like type->params */
    int hard;                       /* textbook discontinuous equations */
} ss_device;

/* Values and partial derivatives at one (v, x). */
typedef struct ss_device_eval {
    double i, di_dv, di_dx;          /* current (A), from terminal te to be */
    double dxdt, ddxdt_dv, ddxdt_dx; /* state derivative (1/s) */
} ss_device_eval;

/* The model operations table.  Use the ss_device_... wrappers below. */
struct ss_device_type {
    const char *name;      /* "vteam" */
    const char *title;     /* one line: model and paper */
    double x_lrs;          /* state of the low-resistance (ON) end: 0 or 1 */
    size_t nparams;
    const ss_device_param *params;
    /* Model-specific checks (the generic ones ran already). */
    int (*validate)(const ss_device *d, ss_error *err);
    /* Fills every member of *ev.  Never fails; finite for finite input. */
    void (*eval)(const ss_device *d, double v, double x, ss_device_eval *ev);
    /* Initial state (normalised) from the parameters. */
    double (*x0)(const ss_device *d);
    /* Appends the body of the subcircuit (everything between the .subckt
     * and .ends lines) to `out`; node names te, be, xs. */
    int (*spice_body)(const ss_device *d, ss_buf *out);
};

/* The models. */
extern const ss_device_type *const ss_device_vteam;
extern const ss_device_type *const ss_device_yakopcic;
extern const ss_device_type *const ss_device_yakopcic2020;

/* NULL-terminated list of all models, and lookup by name (NULL if absent). */
extern const ss_device_type *const ss_device_types[];
const ss_device_type *ss_device_type_find(const char *name);

/* ---- life cycle and parameters --------------------------------------- */

/* Sets the model and its default parameters, smooth mode. */
void ss_device_init(ss_device *d, const ss_device_type *type);

/* Index of parameter `name` in d->type->params, or -1. */
int ss_device_param_index(const ss_device_type *type, const char *name);
/* Value of a parameter by name; NAN if there is no such parameter. */
double ss_device_get(const ss_device *d, const char *name);

/* Sets one parameter from text: a SPICE number ("10k", "-0.2", "3n") or,
 * for choice parameters, a choice name ("biolek").  Unknown names give
 * SS_ENOTFOUND, bad values SS_EINVAL, both naming the parameter.  Range
 * checks happen in ss_device_validate. */
int ss_device_set_param(ss_device *d, const char *name, const char *value, ss_error *err);
/* The same for one "name=value" word. */
int ss_device_set(ss_device *d, const char *assignment, ss_error *err);
/* Applies a whitespace-separated list of "name=value" words. */
int ss_device_set_list(ss_device *d, const char *list, ss_error *err);

/* Checks every parameter's range and sign; the message names the
 * parameter: "parameter 'v_on' must be negative". */
int ss_device_validate(const ss_device *d, ss_error *err);

/* ---- evaluation ---------------------------------------------------------- */

void ss_device_evaluate(const ss_device *d, double v, double x, ss_device_eval *ev);
double ss_device_current(const ss_device *d, double v, double x);
double ss_device_dxdt(const ss_device *d, double v, double x);
/* Initial normalised state from the parameters (w0 or x0). */
double ss_device_x0(const ss_device *d);
/* State bounds: always [0, 1]. */
void ss_device_bounds(const ss_device *d, double *lo, double *hi);
/* Chord conductance i(v, x)/v at the read voltage `v_read` (non-zero). */
double ss_device_conductance(const ss_device *d, double x, double v_read);

/* ---- presets ---------------------------------------------------------------- */

typedef struct ss_device_preset {
    const char *name;   /* "oblea_sine" */
    const char *model;  /* "yakopcic" */
    const char *params; /* "a1=0.17 a2=0.17 ..." applied over the defaults */
    const char *drive;  /* the drive the set was fitted or shown with, as a
                           wave spec ("sine:0.45:100"), or NULL */
    const char *source; /* where the numbers come from */
    int unverified;     /* 1: not checked against the paper */
} ss_device_preset;

/* NULL-name-terminated table of presets. */
extern const ss_device_preset ss_device_presets[];
const ss_device_preset *ss_device_preset_find(const char *name);
/* Sets d's model to the preset's, resets to defaults and applies the
 * preset's values.  SS_ENOTFOUND for an unknown name. */
int ss_device_apply_preset(ss_device *d, const char *name, ss_error *err);

/* ---- SPICE ---------------------------------------------------------------- */

/* Appends an ngspice subcircuit `.subckt NAME te be params: x0=<x0>` ...
 * `.ends` for the device to `out`.  The state is the voltage of internal
 * node xs on a 1 F capacitor with IC={x0}: run .tran with `uic`, and set
 * another initial state per instance with "X1 a b NAME x0=0.3" (under uic
 * an `.ic v(X1.xs)=...` is ignored; without uic it holds the node for the
 * operating point),
 * charged by a B-source current equal to dx/dt; the device current is a
 * B-source from te to be.  The expressions are the same equations as
 * ss_device_evaluate in the same mode, with ?: for the branches.  `name`
 * must be a plain identifier. */
int ss_device_write_spice(const ss_device *d, const char *name, ss_buf *out, ss_error *err);

/* ---- variability and faults ---------------------------------------------- */

enum { SS_DEVICE_MAX_SPREAD = 8 };

enum ss_device_fault {
    SS_DEVICE_FAULT_NONE = 0,
    SS_DEVICE_FAULT_STUCK_ON,  /* stuck at the low-resistance end (x_lrs) */
    SS_DEVICE_FAULT_STUCK_OFF  /* stuck at the high-resistance end */
};

/* Non-idealities as plain data; the crossbar layer applies them per device
 * with the functions below and its own seeded GSL generator
 * (gsl_rng_alloc(gsl_rng_mt19937); gsl_rng_set(r, seed)). */
typedef struct ss_device_variation {
    /* Device-to-device: parameter <- parameter * exp(sigma * N(0,1)), so
     * sigma is the standard deviation of ln(parameter) and the median is the
     * nominal value; signs are kept. */
    size_t nspread;
    struct {
        char name[24];
        double sigma;
    } spread[SS_DEVICE_MAX_SPREAD];
    double p_stuck_on;  /* probability of stuck-at-ON per device */
    double p_stuck_off; /* probability of stuck-at-OFF per device */
    /* Cycle-to-cycle programming noise: a programmed state gets
     * N(0, c2c_sigma) added (normalised state units), then is clipped to
     * [0, 1] and quantised. */
    double c2c_sigma;
    /* Finite conductance levels: 0 = continuous, else the number of levels
     * equally spaced in conductance at v_read between the two ends. */
    int levels;
    double v_read;      /* read voltage (V) for levels and conductance */
    /* Read noise: a read current is multiplied by (1 + N(0, read_sigma)). */
    double read_sigma;
    /* Retention drift: x relaxes to retention_x with time constant
     * retention_tau (s); 0 or infinity = no drift. */
    double retention_tau, retention_x;
} ss_device_variation;

/* Everything off (an ideal device), v_read = 0.1 V. */
void ss_device_variation_init(ss_device_variation *var);
/* Defaults from the literature (docs/devices.md, reference table):
 * ln-sigma 0.25 on r_on and r_off (or a1/a2, gmax/gmin for Yakopcic models),
 * stuck-at-ON 9.04 %, stuck-at-OFF 1.75 %, c2c 1.39 % of the range,
 * read noise 1 %, 100 levels, no retention drift. */
void ss_device_variation_literature(ss_device_variation *var, const ss_device_type *type);
/* Adds (or replaces) a lognormal spread on parameter `name`. */
int ss_device_variation_add_spread(ss_device_variation *var, const char *name, double sigma,
                                   ss_error *err);
/* Sets one member from "name=value": spread.<param>, p_stuck_on,
 * p_stuck_off, c2c_sigma, levels, v_read, read_sigma, retention_tau,
 * retention_x. */
int ss_device_variation_set(ss_device_variation *var, const char *assignment, ss_error *err);
/* Checks ranges (probabilities in [0,1] with sum <= 1, sigmas >= 0, ...). */
int ss_device_variation_validate(const ss_device_variation *var, const ss_device_type *type,
                                 ss_error *err);

/* Draws one device: `out` = `nominal` with the spread applied, and its fault.
 * Fails (SS_EINVAL) if a spread names an unknown parameter or the drawn
 * device does not validate (the message names the parameter). */
int ss_device_sample(const ss_device *nominal, const ss_device_variation *var, gsl_rng *rng,
                     ss_device *out, enum ss_device_fault *fault, ss_error *err);
/* The state a faulty device shows instead of x (x itself if no fault). */
double ss_device_fault_state(const ss_device *d, enum ss_device_fault fault, double x);
/* Nearest of var->levels conductance levels (x unchanged if levels == 0). */
double ss_device_quantize(const ss_device *d, const ss_device_variation *var, double x);
/* Programs target state x: adds c2c noise, clips to [0, 1], quantises and
 * applies the fault.  Returns the state actually reached. */
double ss_device_program(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                         enum ss_device_fault fault, double x_target);
/* Noisy read current at voltage v. */
double ss_device_read(const ss_device *d, const ss_device_variation *var, gsl_rng *rng,
                      enum ss_device_fault fault, double v, double x);
/* State after `dt` seconds of retention. */
double ss_device_retention(const ss_device_variation *var, double x, double dt);

#endif
