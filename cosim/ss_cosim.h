/* ss_cosim.h: the co-simulation layer.
 *
 * Part 1, the engine: ngspice driven through its shared library (libngspice),
 * one engine per process, used from one owner thread.  Every run is verified
 * (unique title, transcript scan, final time reached) and its vectors are
 * copied out, so results never alias ngspice memory and never belong to a
 * previous circuit.  A fatal ngspice error is recovered by reloading the
 * library.  Untrusted netlists are screened by netlists/ before loading.
 *
 * Typical use:
 *     ss_engine *eng;  ss_result res = SS_RESULT_INIT;  ss_error err;
 *     if (ss_engine_open(&eng, &err)) ...;
 *     if (ss_engine_run_file(eng, "rc.cir", 0, &res, &err)) ...;
 *     const ss_vector *v = ss_result_find(&res, "v(out)");
 *     ss_result_release(&res);  ss_engine_free(eng);
 */
#ifndef SS_COSIM_H
#define SS_COSIM_H

#include <stddef.h>

#include "devices/ss_devices.h"
#include "netlists/ss_netlist.h"
#include "util/ss_util.h"

/* ---- results ------------------------------------------------------------ */

/* ngspice vector types (sim.h); ss_vector_type_name() gives the raw-file name. */
enum ss_vector_type {
    SS_VT_NOTYPE = 0, SS_VT_TIME, SS_VT_FREQUENCY, SS_VT_VOLTAGE, SS_VT_CURRENT
};

typedef struct ss_vector {
    char *name;     /* as ngspice names it: "time", "v(out)", "i(v1)", "out" */
    int type;       /* enum ss_vector_type or another ngspice type number */
    size_t n;       /* number of points */
    double *re;     /* n values */
    double *im;     /* n imaginary parts, or NULL for a real vector */
} ss_vector;

/* One analysis' output ("tran1", "ac1", "op1"). */
typedef struct ss_plot {
    char *name;       /* "tran1" */
    char *type;       /* "Transient Analysis" */
    char *title;      /* the circuit title */
    int has_scale;    /* vec[0] is the scale (time, frequency, sweep); not for .op */
    size_t nvec;
    ss_vector *vec;
} ss_plot;

typedef struct ss_result {
    size_t nplot;
    ss_plot *plot;    /* in the order ngspice created them; the last is the main one */
} ss_result;

#define SS_RESULT_INIT {0, NULL}

const char *ss_vector_type_name(int type);
/* Finds a vector of the last plot by name, case-insensitively; "out",
 * "v(out)" and "V(out)" find the same node voltage.  NULL if absent. */
const ss_vector *ss_result_find(const ss_result *res, const char *name);
const ss_vector *ss_plot_find(const ss_plot *plot, const char *name);
void ss_result_release(ss_result *res);

/* Writes `plot` as CSV: a header row with the scale and vector names, then
 * one row per point ("%.17g"; complex vectors as name.re,name.im columns).
 * `names` (NULL for all vectors) selects and orders the columns. */
int ss_result_write_csv(const ss_plot *plot, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);
/* Writes every plot of `res` (or only the selected vectors, the scale always
 * first) as an ngspice binary raw file, readable by ngspice's `load`. */
int ss_result_write_raw(const ss_result *res, const char *const *names, size_t nnames,
                        const char *path, ss_error *err);

/* ---- the engine --------------------------------------------------------- */

typedef struct ss_engine ss_engine;

/* Values at one accepted time point: names[i], values[i] for i < n.  The
 * arrays belong to the engine and are valid during the callback only. */
typedef struct ss_engine_point {
    double t;
    size_t n;
    const char *const *names;
    const double *values;
} ss_engine_point;

/* Co-simulation hooks; any member may be NULL.  All of them are called on the
 * engine's owner thread from inside ss_engine_run.  A non-zero return from
 * a hook aborts the run with SS_ESIM and the hook's message. */
typedef struct ss_engine_hooks {
    /* Value of an EXTERNAL source (V or I) named `name` (lowercase, e.g.
     * "i1") at time t.  Called at the operating point, on every Newton
     * iteration and at rejected trial times, so it must be a pure function
     * of t and host state committed in `accept`. */
    int (*source)(void *user, const char *name, double t, double *value);
    /* Called once per accepted time point with every vector's value. */
    int (*accept)(void *user, const ss_engine_point *pt);
    /* Upper bound for the next step after the accepted time t; return 0 or
     * a negative value for "no bound". */
    double (*max_step)(void *user, double t);
    void *user;
} ss_engine_hooks;

/* Loads libngspice, initialises it safely (LC_NUMERIC=C, one thread, no
 * prompts, from a private folder with an empty .spiceinit) and returns the
 * process's engine.  A second open while one exists fails with SS_EBUSY. */
int ss_engine_open(ss_engine **eng, ss_error *err);
/* Unloads the library; NULL is fine. */
void ss_engine_free(ss_engine *eng);

/* Hooks for the following runs (copied; NULL removes them). */
void ss_engine_set_hooks(ss_engine *eng, const ss_engine_hooks *hooks);
/* Adds a breakpoint at time t: before a run (kept for the next run) or from
 * inside a hook (takes effect at once).  Breakpoints make ngspice land on
 * host-side discontinuities and reset its integration order there. */
int ss_engine_breakpoint(ss_engine *eng, double t);

/* Loads a netlist (already read and screened by netlists/) under a fresh
 * unique title, replacing any earlier circuit. */
int ss_engine_load(ss_engine *eng, const ss_netlist *nl, ss_error *err);
/* Runs the loaded circuit in the calling thread, verifies it and copies all
 * plots into `res` (released first).  On failure `res` is empty, the
 * message names the first error line, and ss_engine_transcript() holds
 * ngspice's output.  The circuit is removed afterwards either way. */
int ss_engine_run(ss_engine *eng, ss_result *res, ss_error *err);
/* Reads, screens, loads and runs a netlist file (flags: SS_NETLIST_...). */
int ss_engine_run_file(ss_engine *eng, const char *path, unsigned flags, ss_result *res,
                       ss_error *err);
/* Reads and screens netlist text (`name` is the file name its messages
 * use), loads and runs it. */
int ss_engine_run_text(ss_engine *eng, const char *text, const char *name, unsigned flags,
                       ss_result *res, ss_error *err);
/* Sends one ngspice command (for `alter` and the like).  Commands that run
 * programs or write files (shell, write, wrdata, source, ...) are refused
 * unless `allow_unsafe` is set. */
int ss_engine_command(ss_engine *eng, const char *cmd, int allow_unsafe, ss_error *err);

/* ngspice's output during the last load and run (never NULL). */
const char *ss_engine_transcript(const ss_engine *eng);
/* How many times the library was reloaded after a fatal error. */
int ss_engine_reloads(const ss_engine *eng);

/* Runs one netlist in a forked child process with its own engine, so that a
 * hang (SIGKILL after `timeout` seconds, 0 = none) or a crash of ngspice
 * costs only that child.  Status SS_ETIMEOUT or SS_ECRASH in those cases. */
int ss_engine_run_isolated(const ss_netlist *nl, double timeout, ss_result *res, ss_error *err);

/* ==== Part 3: crossbars ====================================================
 *
 * An N x M crossbar in the canonical topology (the one `smallsim netlist
 * crossbar` writes for ngspice): word line i is driven at its left end by a
 * source V_i through `rsource`; along it, wire segments of `rwire` between
 * columns; bit line j runs from row 0 to row N-1 with segments of `rwire`
 * between rows and ends in `rsense` to ground at the bottom; the cell (i, j)
 * connects word-line node (i, j) to bit-line node (i, j).  The output current
 * of column j is the current in its sense resistor.  A resistance of 0 means
 * an ideal connection (the nodes are merged).
 *
 * The nodal equations are solved to machine precision by conjugate
 * gradients preconditioned with an exact solve of every word and bit line
 * (each line is a tridiagonal chain; the cells couple them weakly).  The
 * matrix of a crossbar of passive cells is symmetric positive definite, and
 * the work per iteration is O(N M), so 512 x 512 arrays with wire
 * resistance solve in well under a second. */

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

/* Voltage across every cell (word node minus bit node) after the last solve
 * (rows x cols, row-major). */
void ss_crossbar_cell_voltages(const ss_crossbar *xb, double *vcell);
/* Conjugate-gradient iterations of the last solve. */
int ss_crossbar_iterations(const ss_crossbar *xb);
/* Rows and columns. */
void ss_crossbar_size(const ss_crossbar *xb, size_t *rows, size_t *cols);

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

/* Transient of a memristive crossbar: word line i driven by inputs[i] from
 * t = 0 to tstop; x (rows x cols normalised states) holds the initial states
 * and receives the final ones.  Cells as in ss_crossbar_solve_devices.
 * rtol: CVODE's relative tolerance (0: 1e-6). */
int ss_crossbar_tran(ss_crossbar *xb, const ss_device *cells, int shared, const ss_pwl *inputs,
                     double tstop, double rtol, double *x, ss_error *err);

/* ==== Part 4: spiking networks ============================================
 *
 * Populations of behavioural neurons (adaptive LIF, DPI as in teili) and
 * spike sources, connected by projections (synapse lists, or memristive
 * crossbars read by each presynaptic spike), integrated by CVODE between
 * exchange points.  Spike times come from CVODE's root finding; spikes are
 * delivered with delays that are whole multiples of the exchange step h
 * (the minimum delay), so every state jump (resets, synaptic inputs, end of
 * refractoriness) falls on an exchange point and the solver restarts at
 * most once per exchange step, however many neurons spike in it.
 * Units are SI throughout (s, V, A, S, F). */

typedef struct ss_network ss_network;

/* Input stage of the LIF and DPI populations: the input current I (synaptic
 * plus bias) reaches the membrane as
 *   S(I) = in_ref (|I| / in_ref)^in_beta,  with the sign of I,
 * a power law through (in_ref, in_ref).  in_beta = 1 (the default) is the
 * identity, the plain model.  in_beta < 1 compresses the input as a
 * log-domain input DPI with a subthreshold mirror does in the transistor
 * circuit (its f-I rises as ~I^0.5); `smallsim characterize --extract`
 * fits it.  Returns S(I). */
double ss_network_input_stage(double i, double in_beta, double in_ref);

/* Adaptive leaky integrate-and-fire, current-based exponential synapses:
 *   tau_m dv/dt = v_rest - v + r_m (S(i_syn + i_bias) - w)
 *   tau_syn di_syn/dt = -i_syn         (a spike arriving adds its weight)
 *   tau_w dw/dt = a (v - v_rest) - w   (a = b = 0: no adaptation)
 * v >= v_th: spike; v = v_reset, w += b, v held for t_ref.  S is the input
 * stage above (in_beta, in_ref); a population with a = 0 and in_beta = 1
 * is advanced by its exact propagator, any other by CVODE. */
typedef struct ss_lif_params {
    double tau_m, v_rest, v_reset, v_th, r_m, tau_syn, t_ref, i_bias, a, b, tau_w;
    double in_beta, in_ref;
} ss_lif_params;
#define SS_LIF_DEFAULTS {20e-3, -70e-3, -70e-3, -50e-3, 100e6, 5e-3, 2e-3, 0, 0, 0, 100e-3, 1, 1e-9}

/* The DPI neuron's first-order current-mode equations as in teili
 * (Chicca et al. 2014):
 *   tau (1 + Ith/(Imem+Io)) dImem/dt = (Ith/Itau)(Iin + Ia - Iahp) - Ith
 *                                      - (1 + (Iahp - Ia)/Itau) Imem
 *   tau = Cmem Ut/(kappa Itau),  Ia = Iagain/(1 + exp(-(Imem-Iath)/Ianorm))
 *   tauahp (1 + Ithahp/Iahp) dIahp/dt = -Ithahp - Iahp   (+Iahp_jump per spike)
 *   Iin = S(i_syn + i_bias) (i_syn: exponential synapse with tau_syn; S the
 *   input stage above, the identity with the default in_beta = 1)
 * Below Io the currents are clipped to Io, as in teili.  Imem >= Ispkthr:
 * spike; Imem = Ireset, Iahp += Iahp_jump, Imem held for t_ref. */
typedef struct ss_dpi_params {
    double cmem, itau, ith, io, ispkthr, ireset, kappa, ut, iagain, iath, ianorm;
    double cahp, itauahp, ithahp, iahp_jump, tau_syn, t_ref, i_bias;
    double in_beta, in_ref;
} ss_dpi_params;
#define SS_DPI_DEFAULTS {1.5e-12, 8e-12, 0.9e-12, 0.5e-12, 1e-9, 0.6e-12, 0.75, 25e-3, \
                         50e-12, 0.5e-9, 10e-12, 1e-12, 1e-12, 1e-12, 0, 10e-3, 1e-3, 0, 1, 1e-9}

/* Steady firing rate (Hz) of one DPI neuron of parameters p on a constant
 * input current i_in (as its bias, no synaptic input), from the network's
 * own equations: t_ref plus the time Imem takes from Ireset to Ispkthr
 * (adaptive quadrature over ln Imem), with Iahp held at Io (exact when
 * iahp_jump = 0 and ithahp = io, as extracted models are written; Iahp
 * then stays at its initial Io).  *rate = 0 when the neuron does not fire
 * (dImem/dt <= 0 on the way).  SS_ENUMERIC if the quadrature fails. */
int ss_network_dpi_rate(const ss_dpi_params *p, double i_in, double *rate, ss_error *err);

enum ss_network_pop_kind { SS_POP_LIF, SS_POP_DPI, SS_POP_POISSON, SS_POP_REGULAR, SS_POP_TIMES,
                           SS_POP_SPICE };

ss_network *ss_network_alloc(ss_error *err);
void ss_network_free(ss_network *net);

/* Populations; *pop receives the population's index.  Names are 1 to 63
 * letters, digits, '_', '.' or '-' and unique within the network. */
int ss_network_add_lif(ss_network *net, const char *name, size_t n, const ss_lif_params *p,
                       size_t *pop, ss_error *err);
int ss_network_add_dpi(ss_network *net, const char *name, size_t n, const ss_dpi_params *p,
                       size_t *pop, ss_error *err);
/* Independent Poisson spike trains of `rate` Hz each. */
int ss_network_add_poisson(ss_network *net, const char *name, size_t n, double rate, size_t *pop,
                           ss_error *err);
/* Regular trains: neuron k fires at phase + k*stagger + m/rate, m = 0, 1, ... */
int ss_network_add_regular(ss_network *net, const char *name, size_t n, double rate, double phase,
                           double stagger, size_t *pop, ss_error *err);
/* Given spike times: neuron ids[k] fires at times[k] (any order; copied). */
int ss_network_add_times(ss_network *net, const char *name, size_t n, const size_t *ids,
                         const double *times, size_t count, size_t *pop, ss_error *err);
/* A SPICE tile: n transistor-level neurons in one ngspice circuit that runs
 * alongside the network (ss_network_options.engine).  `body` holds the
 * netlist lines (models, subcircuits, supplies, the instances; no title,
 * analysis or .end); neuron k's input must be an EXTERNAL current source
 * named "iext<k>" in it, fed by the network with the neuron's bias (ramped
 * up over the first microsecond) plus an exponential synaptic current
 * (tau_syn) that the projections jump; a spike
 * is an upward crossing of `threshold` by the vector spikes[k] ("v(x0.vrst)").
 * ngspice's step is bounded by tmax and it lands on every exchange point
 * (breakpoints).  One tile per network; the run must go from 0 to tstop in
 * one ss_network_run call. */
int ss_network_add_spice(ss_network *net, const char *name, size_t n, const char *body,
                         const char *const *spikes, double threshold, double tau_syn, double tmax,
                         size_t *pop, ss_error *err);
/* Per-neuron bias currents of a LIF, DPI or SPICE population (n values, copied). */
int ss_network_set_bias(ss_network *net, size_t pop, const double *i_bias, ss_error *err);

size_t ss_network_npops(const ss_network *net);
const char *ss_network_pop_name(const ss_network *net, size_t pop);
size_t ss_network_pop_size(const ss_network *net, size_t pop);
int ss_network_pop_kind(const ss_network *net, size_t pop); /* enum ss_network_pop_kind */
/* Index of the population called `name`, or SS_ENOTFOUND. */
int ss_network_find_pop(const ss_network *net, const char *name, size_t *pop);

/* Synapses from population `pre` to `post`: nsyn (pre index, post index,
 * weight, delay) entries.  The weight is the jump of the target's synaptic
 * current (A); delays are rounded to whole exchange steps (at least one). */
int ss_network_connect(ss_network *net, size_t pre, size_t post, size_t nsyn,
                       const size_t *pre_idx, const size_t *post_idx, const double *weight,
                       const double *delay, ss_error *err);
/* Memristive crossbar: presynaptic neuron i drives word line i with a read
 * pulse of v_read volts and t_read seconds; bit line j's current feeds post
 * neuron j.  The charge of the pulse, solved on the crossbar with its line
 * resistance, becomes the jump charge/tau_syn of the exponential synapse
 * (so the current's integral equals the charge).  g: rows x cols siemens,
 * rows = size of pre, cols = size of post. */
int ss_network_connect_crossbar(ss_network *net, size_t pre, size_t post,
                                const ss_crossbar_spec *spec, const double *g, double v_read,
                                double t_read, double delay, ss_error *err);

/* A pulse-based pair rule for memristive crossbars: a postsynaptic spike
 * writes every cell of its column with a pulse of v_set volts (towards the
 * low-resistance state) whose width is t_write times the presynaptic trace;
 * a presynaptic spike writes its row with v_reset volts (towards the
 * high-resistance state) for t_write times the postsynaptic trace.  Traces
 * jump by 1 at each spike and decay with tau_plus (pre) and tau_minus
 * (post), capped at 1.  The device ODE is integrated over each pulse. */
typedef struct ss_network_plasticity {
    double v_set, v_reset, t_write, tau_plus, tau_minus;
} ss_network_plasticity;

/* A crossbar of memristors (devices/) between two populations: cell (i, j)
 * is a device drawn from `nominal` with the variation `var` (NULL: none;
 * device-to-device spread, faults, cycle-to-cycle noise on each write), in
 * state x0[i*cols + j] (NULL: the device's x0).  Reads as for
 * ss_network_connect_crossbar with each cell's chord conductance at v_read;
 * with `rule` (NULL: static) the crossbar learns, and the weights follow the
 * new states from the next exchange point on.  *proj (may be NULL) receives
 * the projection's index for ss_network_crossbar_states. */
int ss_network_connect_memristive(ss_network *net, size_t pre, size_t post,
                                  const ss_crossbar_spec *spec, const ss_device *nominal,
                                  const ss_device_variation *var, const double *x0, double v_read,
                                  double t_read, double delay, const ss_network_plasticity *rule,
                                  unsigned long seed, size_t *proj, ss_error *err);
size_t ss_network_nmemristive(const ss_network *net);
/* States and read conductances (rows x cols) of memristive projection `proj`,
 * and its populations. */
void ss_network_crossbar_states(const ss_network *net, size_t proj, double *x, double *g,
                                size_t *pre, size_t *post);
/* The synaptic current jumps (A, rows x cols) its present states give:
 * the crossbar read with its line resistance, as the network uses them. */
int ss_network_crossbar_weights(const ss_network *net, size_t proj, double *w, ss_error *err);
/* A current step on one neuron: i_bias += amp from t_on to t_off (applied at
 * exchange points). */
int ss_network_add_step(ss_network *net, size_t pop, size_t idx, double t_on, double t_off,
                        double amp, ss_error *err);

/* Records the first state variable (v for LIF, Imem for DPI) of the given
 * neurons every `dt` seconds (a multiple of the exchange step). */
int ss_network_record_state(ss_network *net, size_t pop, const size_t *idx, size_t n, double dt,
                            ss_error *err);

/* How the nonlinear populations (DPI, adaptive LIF, LIF behind an input
 * stage) are integrated; linear LIF populations always take their exact
 * propagator.
 *   SS_NETWORK_RK (the default): every neuron on its own steps, an
 *     embedded Runge-Kutta pair (Dormand-Prince 5(4)) with its own error
 *     control; the synaptic (and DPI adaptation) currents in closed form, so
 *     an input or a reset restarts only the neuron it touches, and resets
 *     and ends of refractoriness happen at their exact times.
 *   SS_NETWORK_ADAMS, SS_NETWORK_BDF: all of them together in one CVODE
 *     system, restarted at every exchange point where any state jumps;
 *     Adams with fixed-point iteration, or BDF with Newton iteration on the
 *     block-diagonal Jacobian (3 x 3 per neuron, by coloured finite
 *     differences) factored by KLU, for stiff parameter sets.  Resets
 *     happen at the exchange point after the spike. */
enum ss_network_solver { SS_NETWORK_ADAMS = 0, SS_NETWORK_BDF = 1, SS_NETWORK_RK = 2 };

typedef struct ss_network_options {
    double dt;       /* exchange step = minimum delay (s) */
    double rtol;     /* relative tolerance of the integrator (RK or CVODE) */
    unsigned long seed;
    /* called every 1% of the run and at least every half second of wall
     * time (t: the network's time); non-zero stops the run */
    int (*progress)(void *user, double t, double tstop, size_t spikes);
    void *user;
    ss_engine *engine; /* for a SPICE tile (NULL: none) */
    int solver;        /* enum ss_network_solver */
} ss_network_options;
#define SS_NETWORK_OPTIONS_DEFAULT {1e-4, 1e-6, 1, NULL, NULL, NULL, SS_NETWORK_RK}

/* Runs from the current time to tstop (call again to continue). */
int ss_network_run(ss_network *net, double tstop, const ss_network_options *opt, ss_error *err);
double ss_network_time(const ss_network *net);

/* Spikes so far, in time order within each exchange step: times (s),
 * population and index within it. */
size_t ss_network_nspikes(const ss_network *net);
void ss_network_spike(const ss_network *net, size_t k, double *t, size_t *pop, size_t *idx);
size_t ss_network_pop_spikes(const ss_network *net, size_t pop);
/* The coupling error of a SPICE tile: its inputs are exact functions of
 * time between exchange points, so what remains is the time resolution of
 * its spikes, found by interpolation between accepted points: the widest
 * such interval (s; 0 without a tile).  Also in the summary JSON. */
double ss_network_tile_bracket(const ss_network *net);
/* Solver statistics: steps, RHS evaluations, restarts. */
void ss_network_stats(const ss_network *net, long *steps, long *rhs_evals, long *restarts);

/* Files: spikes as CSV "t,population,index"; sampled states as CSV
 * "t,population,index,value"; a summary JSON (populations, spikes, rates,
 * solver statistics). */
int ss_network_write_spikes(const ss_network *net, const char *path, ss_error *err);
int ss_network_write_states(const ss_network *net, const char *path, ss_error *err);
int ss_network_write_summary(const ss_network *net, const char *path, double seconds,
                             ss_error *err);

/* ==== Part 2: one device driven by a waveform =============================
 *
 * A single memristor (devices/), optionally behind a series resistor
 * (drive -> R -> device), integrated with CVODE (BDF, dense Newton with the
 * model's analytic Jacobian).  When R > 0 the device voltage is solved from
 * v + R i(v, x) = drive(t) by a bracketed Newton iteration at every RHS
 * evaluation.  Output is sampled at N evenly spaced times by interpolation;
 * the integrator stops exactly at every corner of the waveform and restarts
 * there, so accuracy does not depend on N.  The same circuit can be written
 * as an ngspice deck around the emitted subcircuit (ss_devsim_netlist). */


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

typedef struct ss_devsim_options {
    double series_r;   /* ohm, >= 0; 0 = none */
    size_t points;     /* output samples including t = 0 and the end, >= 2 */
    double rtol, atol; /* CVODE tolerances; 0 = 1e-8 and 1e-10 */
    double max_step;   /* s; 0 = period/200 */
} ss_devsim_options;
#define SS_DEVSIM_OPTIONS_DEFAULT {0.0, 1001, 0.0, 0.0, 0.0}

/* Sampled trajectory.  vs is the drive, v the voltage across the device. */
typedef struct ss_devsim_trace {
    size_t n;
    double *t, *vs, *v, *i, *x;
    long steps, rhs_evals; /* CVODE statistics */
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
/* ==== end of Part 2 ======================================================== */

/* ---- experiment files ------------------------------------------------------
 * A YAML file describing a network run:
 *   duration: 1.0            # s
 *   dt: 1e-4                 # exchange step = minimum delay (s)
 *   seed: 1
 *   solver: rk               # or adams, bdf (enum ss_network_solver); rtol: 1e-6
 *   populations:
 *     - {name: in, kind: poisson, n: 100, rate: 20}      # also regular, times
 *     - {name: exc, kind: lif, n: 100, params: {tau_m: 20m}, bias: {uniform: [0.19n, 0.21n]}}
 *     - {name: hw, kind: dpi, n: 10, params_file: dpi-neuron-dpi.json, bias: 100p}
 *     - {name: tile, kind: spice, n: 2, body: tile.cir, spikes: ["v(x0.vrst)", "v(x1.vrst)"],
 *        threshold: 0.9, tau_syn: 5m, tmax: 20u, bias: 30p}   # smallsim characterize --tile
 *   projections:
 *     - {from: in, to: exc, kind: random, indegree: 10, weight: 10p, delay: 1m}
 *     - {from: in, to: exc, kind: crossbar, g: {lognormal: [10u, 0.3]}, rwire: 2,
 *        v_read: 0.1, t_read: 50n}
 *   record:
 *     states: [{population: exc, neurons: [0, 1], dt: 1e-4}]
 * Numbers take SPICE suffixes.  Values may be distributions ({uniform:
 * [lo, hi]}, {normal: [mean, sd]}, {lognormal: [median, sigma]}) or
 * {file: path} (relative to the experiment file).  `params_file:` (lif and
 * dpi populations) loads a model written by `smallsim characterize
 * --extract lif|dpi`: its "model" must be the population's kind and its
 * "params" mapping is read like `params:`, which then overrides it.
 * Errors read "file:line: what is wrong" (inside a params file, that
 * file's line). */
typedef struct ss_experiment {
    double duration, dt, rtol;
    unsigned long seed;
    int solver; /* "solver: rk | adams | bdf" (enum ss_network_solver) */
} ss_experiment;
#define SS_EXPERIMENT_DEFAULTS {1.0, 1e-4, 1e-6, 1, SS_NETWORK_RK}

/* Reads `path` and builds the network (*net, caller frees).  seed >= 0
 * replaces the file's seed (connectivity and sampled values depend on it). */
int ss_experiment_load(const char *path, long seed, ss_network **net, ss_experiment *exp,
                       ss_error *err);

#endif
