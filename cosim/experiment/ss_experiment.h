/* ss_experiment.h: experiment files (YAML) in, a network out.
 *
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
#ifndef SS_EXPERIMENT_H
#define SS_EXPERIMENT_H

#include "cosim/network/ss_network.h"
#include "util/ss_util.h"

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
