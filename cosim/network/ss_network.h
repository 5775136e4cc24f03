/* ss_network.h: spiking networks of behavioural neurons, spike sources,
 * SPICE tiles and (plastic) memristive crossbars.
 *
 * Populations of behavioural neurons (adaptive LIF, DPI as in teili) and
 * spike sources, connected by projections (synapse lists, or memristive
 * crossbars read by each presynaptic spike).  Linear LIF populations are
 * advanced by their exact propagator; the others (DPI, adaptive LIF, LIF
 * behind an input stage) by default neuron by neuron, each on its own
 * Runge-Kutta steps (SS_NETWORK_RK), or all together by CVODE.  Spike times
 * are threshold crossings found in closed form (linear LIF), on each
 * neuron's continuous extension (RK) or cubic Hermite interpolant (CVODE);
 * spikes are delivered with delays that are whole multiples of the exchange
 * step h (the minimum delay): an input arrives at the exchange point at or
 * after spike time + delay.  Units are SI throughout (s, V, A, S, F). */
#ifndef SS_NETWORK_H
#define SS_NETWORK_H

#include <stddef.h>

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/engine/ss_engine.h"
#include "devices/ss_devices.h"
#include "util/ss_util.h"

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
/* Per-neuron bias currents of a LIF, DPI or SPICE population (n values,
 * copied).  Between runs too: the next ss_network_run starts from the new
 * values (the solver restarts at the current time). */
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
/* Spikes first .. first + n - 1 as plain arrays (any may be NULL): the
 * same as n calls of ss_network_spike.  Returns how many were copied (n,
 * or fewer at the end of the record). */
size_t ss_network_spikes(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                         size_t *idx);
size_t ss_network_pop_spikes(const ss_network *net, size_t pop);
/* Sampled states so far (ss_network_record_state), in time order: their
 * number, and samples first .. first + n - 1 as plain arrays (any may be
 * NULL): time, population, neuron index within it and value.  Returns how
 * many were copied. */
size_t ss_network_nsamples(const ss_network *net);
size_t ss_network_samples(const ss_network *net, size_t first, size_t n, double *t, size_t *pop,
                          size_t *idx, double *value);
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

#endif
