/* ss_devsim.h: one memristor (devices/) under any drive: waveforms,
 * piecewise-linear sources, the simulation in C and the same bench as an
 * ngspice deck.
 *
 * A single memristor (devices/), optionally behind a series resistor
 * (drive -> R -> device), integrated by the library's one integrator of
 * device states (ss_device_integrate in devices/: an L-stable SDIRK2 that
 * solves the state and the device voltage v + R i(v, x) = drive(t) together
 * at every stage).  Output is sampled at N evenly spaced times by cubic
 * Hermite interpolation of the accepted steps; the steps land exactly on
 * every corner of the waveform, so accuracy does not depend on N.  The same circuit can be written
 * as an ngspice deck around the emitted subcircuit (ss_devsim_netlist). */
#ifndef SS_DEVSIM_H
#define SS_DEVSIM_H

#include <stddef.h>

#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"
#include "util/ss_util.h"

enum ss_wave_kind { SS_WAVE_SINE, SS_WAVE_TRIANGLE, SS_WAVE_PULSE };

/* Waves start at t = 0.  sine: amp sin(2 pi freq t); triangle: 0 -> +amp ->
 * 0 -> -amp -> 0 each period; both last `cycles` periods.  pulse: v1, then
 * `count` periods of a trapezoid to v2 (flat for `width` s) with linear
 * edges of `edge` s = 1 % of the shorter of width and period - width, as
 * ngspice's PULSE(v1 v2 0 edge edge width period). */
typedef struct ss_wave {
    int kind;                      /* enum ss_wave_kind */
    double amp, freq, cycles;      /* sine, triangle */
    double v1, v2, width, period;  /* pulse */
    int count;                     /* pulse */
    double edge;                   /* pulse rise = fall time (derived) */
} ss_wave;

/* Parses "sine:AMP:FREQ[:CYCLES]", "triangle:AMP:FREQ[:CYCLES]" or
 * "pulse:V1:V2:WIDTH:PERIOD:COUNT" (SPICE numbers: "1k", "10u").  The
 * message names the bad field. */
int ss_wave_parse(ss_wave *w, const char *spec, ss_error *err);
double ss_wave_value(const ss_wave *w, double t);
/* Total duration in seconds. */
double ss_wave_duration(const ss_wave *w);
/* One period (the pulse period, else 1/freq). */
double ss_wave_period(const ss_wave *w);
/* Times in (0, duration) where the slope jumps, ascending; writes at most
 * `max` and returns how many there are. */
size_t ss_wave_corners(const ss_wave *w, double *t, size_t max);
/* Appends the ngspice source value ("SIN(...)", "PWL(...)", "PULSE(...)"). */
int ss_wave_spice(const ss_wave *w, ss_buf *out);

/* A piecewise-linear waveform: v[k] at t[k] (t increasing), held before the
 * first and after the last point; the same as ngspice's PWL(...). */
typedef struct ss_pwl {
    size_t n;
    double *t, *v;
} ss_pwl;
/* Parses "t0 v0 t1 v1 ..." (SPICE numbers, spaces or commas). */
int ss_pwl_parse(ss_pwl *w, const char *text, ss_error *err);
double ss_pwl_value(const ss_pwl *w, double t);
/* Appends "PWL(t0 v0 ...)" for an ngspice source. */
int ss_pwl_spice(const ss_pwl *w, ss_buf *out);
void ss_pwl_release(ss_pwl *w);
/* Reads n waveforms from a file, one "t0 v0 t1 v1 ..." line each (blank
 * lines and lines starting with '#' skipped); `what` names the lines in
 * messages ("rows": "x.txt: 3 waveforms, but the crossbar has 4 rows",
 * "x.txt:2: times must increase ...").  NULL on failure. */
ss_pwl *ss_pwl_read_lines(const char *path, size_t n, const char *what, ss_error *err);
/* Releases n waveforms and the array. */
void ss_pwl_free_array(ss_pwl *w, size_t n);

typedef struct ss_devsim_options {
    double series_r;   /* ohm, >= 0; 0 = none */
    size_t points;     /* output samples including t = 0 and the end, >= 2 */
    double rtol, atol; /* local error per step; 0 = 1e-8 and 1e-10 */
    double max_step;   /* s; 0 = period/200 */
} ss_devsim_options;
#define SS_DEVSIM_OPTIONS_DEFAULT {0.0, 1001, 0.0, 0.0, 0.0}

/* Sampled trajectory.  vs is the drive, v the voltage across the device. */
typedef struct ss_devsim_trace {
    size_t n;
    double *t, *vs, *v, *i, *x;
    long steps, rhs_evals; /* accepted steps and stage Newton iterations (ngspice: time points) */
} ss_devsim_trace;
#define SS_DEVSIM_TRACE_INIT {0, NULL, NULL, NULL, NULL, NULL, 0, 0}

/* Validates the device and options, integrates and fills `tr` (released
 * first; empty on failure). */
int ss_devsim_run(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                  ss_devsim_trace *tr, ss_error *err);
void ss_devsim_trace_release(ss_devsim_trace *tr);
/* Writes the trace as CSV "t,v,i,x" ("%.17g"). */
int ss_devsim_write_csv(const ss_devsim_trace *tr, const char *path, ss_error *err);

/* Appends a complete ngspice deck for the same experiment: the device
 * subcircuit `dut`, the drive, the series resistor, a probe source `vsense`
 * (i(vsense) is the device current, v(te) the device voltage, v(x1.xs) the
 * state), tight tolerances and `.tran ... uic` with a maximum step of
 * opt->max_step (or period/2000).  No .control block. */
int ss_devsim_netlist(const ss_device *d, const ss_wave *w, const ss_devsim_options *opt,
                      ss_buf *out, ss_error *err);
/* The building blocks of that deck, shared with fit/ (a device driven by
 * measured data): appends the drive source "Vsrc in 0 <drive>" (an ngspice
 * value: "SIN(...)", "PWL(...)"), the series resistor and probe, the
 * instance "X1 te 0 dut", the options and the .tran line.  SS_ENOMEM only. */
int ss_devsim_bench_tail(const char *drive, double series_r, double tstop, double hmax, ss_buf *out);
/* Runs a complete bench deck (as above) on `eng` and samples its solution,
 * linearly interpolated, at times t[0..n): current i(vsense), device voltage
 * v(te), drive v(in) and the state vector named `xnode` (NAN if absent). */
int ss_devsim_bench_sample(ss_engine *eng, const char *deck, const char *xnode, const double *t,
                           size_t n, ss_devsim_trace *tr, ss_error *err);
/* Runs that deck on `eng` and samples ngspice's solution (linearly
 * interpolated) at the same opt->points times as ss_devsim_run, so the two
 * traces compare point by point.  tr->steps is ngspice's number of time
 * points. */
int ss_devsim_run_spice(ss_engine *eng, const ss_device *d, const ss_wave *w,
                        const ss_devsim_options *opt, ss_devsim_trace *tr, ss_error *err);
/* Root mean square of a - b over n points divided by the range (max - min)
 * of b (the plain RMS if b is constant). */
double ss_devsim_nrmse(const double *a, const double *b, size_t n);

#endif
