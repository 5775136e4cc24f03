/* rk.h: the per-neuron integrator of the network's nonlinear populations
 * (DPI, adaptive LIF, LIF behind a power-law input stage); private to
 * cosim/network/ (prefix neti_rk_).
 *
 * Each neuron is integrated on its own time steps by an embedded explicit
 * Runge-Kutta pair (Dormand-Prince 5(4)) with its own error control, so an
 * input or a reset restarts only the neuron it touches, and a one-step
 * method restarts at full order.  The synaptic current (and the DPI's
 * adaptation current) decays exponentially between inputs and is taken in
 * closed form: an input is a jump of that current, i.e. a kink in the
 * membrane's derivative, and a neuron ends a step exactly on it.  Spike
 * times come from the pair's continuous extension (order 4) at the step in
 * which the first state reached its threshold (at the step's end, or at a
 * maximum inside it); the reset and the end of refractoriness happen at
 * their exact times.
 *
 * The network hands over time in epochs [k0 h, k1 h) no longer than the
 * minimum delay, so every input arriving inside an epoch is known when it
 * starts (neti_rk_inputs); inputs at the epoch's ends are applied between
 * epochs (neti_rk_input), when all neurons stand at the same time. */
#ifndef SS_NETWORK_RK_H
#define SS_NETWORK_RK_H

#include <stddef.h>

#include "cosim/network/ss_network.h"

#ifndef NETI_HIDDEN
#define NETI_HIDDEN __attribute__((visibility("hidden")))
#endif

typedef struct neti_rk neti_rk;

/* The inputs inside one epoch, by neuron: neuron i's synaptic current jumps
 * by w[k] at time t[k] for k in [off[i], off[i + 1]), in time order. */
typedef struct neti_rk_inputs {
    size_t *off; /* n + 1 */
    double *t, *w;
    size_t cap;  /* of t and w */
} neti_rk_inputs;

/* Spikes found in an epoch (appended; neuron index within the population). */
typedef struct neti_rk_spike {
    double t;
    size_t i;
} neti_rk_spike;

typedef struct neti_rk_spikes {
    neti_rk_spike *s;
    size_t n, cap;
} neti_rk_spikes;

/* n neurons of kind SS_POP_DPI (dpi) or SS_POP_LIF (lif), at rest, with
 * relative tolerance rtol; epochs are at most max_steps exchange steps
 * long.  NULL on failure (err set). */
NETI_HIDDEN neti_rk *neti_rk_alloc(int kind, size_t n, const ss_lif_params *lif,
                                   const ss_dpi_params *dpi, double rtol, long max_steps,
                                   ss_error *err);
NETI_HIDDEN void neti_rk_free(neti_rk *rk);

/* Records neuron i's first state at every exchange point (for sampling). */
NETI_HIDDEN int neti_rk_watch(neti_rk *rk, size_t i, ss_error *err);

/* Advances every neuron from k0 h to k1 h (all stand at k0 h on entry and
 * at k1 h on return) with per-neuron bias currents `bias` and the inputs
 * `in` (times strictly inside the epoch).  Spikes go to `out`, in neuron
 * order.  SS_ENOMEM, or SS_ENUMERIC if a step size collapses. */
NETI_HIDDEN int neti_rk_advance(neti_rk *rk, const double *bias, long k0, long k1, double h,
                                const neti_rk_inputs *in, neti_rk_spikes *out, ss_error *err);

/* An input of w amperes to neuron i at the time all neurons stand at (an
 * epoch's end); w = 0 only notes that the neuron's bias changed. */
NETI_HIDDEN void neti_rk_input(neti_rk *rk, size_t i, double w);

/* Neuron i's first state (Imem, or v) at exchange point k: the current
 * time, or a point of the last epoch if i is watched. */
NETI_HIDDEN double neti_rk_value(const neti_rk *rk, size_t i, long k);

/* Accepted and rejected steps, right-hand-side evaluations, restarts
 * (inputs and resets). */
NETI_HIDDEN void neti_rk_stats(const neti_rk *rk, long *steps, long *rejected, long *evals,
                               long *restarts);

#endif
