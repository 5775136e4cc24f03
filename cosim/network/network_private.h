/* network_private.h: internals shared by the files of cosim/network/
 * (prefix neti_; not installed).
 *
 * The files, one concept each:
 *   build.c      populations, synapse lists, static crossbars, current steps
 *   delivery.c   spikes: the record, sources, delay rings, exchange points
 *   integrate.c  neuron equations, the CVODE set-up, crossing detection
 *   rk.c         the per-neuron integrator of the nonlinear populations (rk.h)
 *   epoch.c      its epochs: inputs from the delay ring, spikes to their steps
 *   exact_lif.c  linear LIF populations advanced by their exact propagator
 *   plastic.c    memristive (plastic) crossbars
 *   tile.c       SPICE tiles: transistor-level neurons in ngspice
 *   run.c        preparing a run and the exchange-step loop
 *   output.c     spikes, states and summaries: queries and files */
#ifndef SS_NETWORK_PRIVATE_H
#define SS_NETWORK_PRIVATE_H

#include "cosim/network/rk.h"
#include "cosim/network/ss_network.h"
#include "cosim/ode/ode.h"

#include <stdint.h>

#include <gsl/gsl_rng.h>

#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_klu.h>
#include <sunmatrix/sunmatrix_sparse.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>


struct crossing {
    double t;
    size_t gid;
};

struct pop {
    char name[64];
    int kind;
    size_t n, gid0;    /* size, first global neuron id */
    size_t soff;       /* first state index (LIF, DPI): in y, or in xstate if exact */
    int exact;         /* linear LIF: advanced by its exact propagator, not CVODE */
    neti_rk *rk;       /* nonlinear, per-neuron integrator (SS_NETWORK_RK) */
    double em, es, ew, cs, cw; /* propagator over one exchange step */
    int nstate;        /* states per neuron: LIF v,isyn,w; DPI imem,iahp,isyn */
    ss_lif_params lif;
    ss_dpi_params dpi;
    double *bias;      /* per neuron (LIF, DPI) */
    double rate, phase, stagger; /* POISSON, REGULAR */
    double *next;      /* next spike time per source */
    /* SPICE tile */
    char *tile_body;
    char **tile_spikes;
    double tile_threshold, tile_tau, tile_tmax;
    size_t *tid;       /* TIMES, sorted by time */
    double *ttime;
    size_t tcount, tpos;
    gsl_rng *rng;
    size_t nspikes;
};

struct syn { /* one synapse, before the CSR is built */
    uint32_t pre, post;
    double w, delay;
};

struct sample {
    size_t pop, idx;
    double every; /* seconds */
};

/* A crossbar of memristors between two populations, possibly plastic. */
struct memx {
    size_t pre, post, rows, cols;
    ss_crossbar_spec spec;
    ss_device *dev;          /* rows x cols (sampled) */
    enum ss_device_fault *fault;
    ss_device_variation var;
    int has_var;
    double *x;               /* states */
    double v_read, t_read, tau_syn;
    size_t syn0;             /* first of its rows*cols synapses (row-major) */
    size_t *pos;             /* CSR position of each cell's synapse */
    int plastic, dirty;
    ss_network_plasticity rule;
    double *pre_tr, *pre_t, *post_tr, *post_t; /* traces and their times */
    gsl_rng *rng;
};

struct step {
    double t;
    size_t pop, idx;
    double amp;
};

struct ss_network {
    struct pop *pops;
    size_t npops;
    size_t nneurons; /* all, sources included */
    size_t nstates;
    struct syn *syns;
    size_t nsyn, capsyn;
    /* built at the first run */
    int ready;
    double h;
    /* synapses: CSR by presynaptic gid (12 bytes each: target gid and
     * weight), sorted by delay; the synapses of gid with delay run_d[q]
     * steps end at run_end[q], q in [run_off[gid], run_off[gid + 1]) */
    size_t *out_off;
    uint32_t *out_tgt;
    double *out_w;
    size_t *run_off, *run_end;
    int *run_d;
    int dmax;
    double *ring; /* (dmax + 1) slots x nneurons */
    double **isyn_ptr;  /* per gid: its synaptic-current state, or NULL */
    double *xstate;     /* states of exactly integrated populations */
    size_t nxstates;
    double *t_free;     /* exact populations: end of refractoriness */
    int *pending;       /* spiked in the current step, reset at its end */
    double *tspike;     /* time of that spike */
    long *ref_until;    /* step index at which refractoriness ends */
    long step;          /* current exchange step index */
    double t;
    /* CVODE */
    SUNContext ctx;
    void *cv;
    N_Vector y, atol;
    SUNNonlinearSolver nls;
    SUNMatrix jac;        /* BDF: block-diagonal Jacobian, KLU */
    SUNLinearSolver ls;
    size_t nroots;    /* neurons integrated by CVODE, watched for spikes */
    size_t *root_gid; /* k -> gid */
    double *yprev;    /* the state at the previous internal step */
    struct crossing *cross; /* threshold crossings found in one internal step */
    long steps, rhs_evals, restarts;
    /* results */
    double *sp_t;
    size_t *sp_gid;
    size_t nsp, capsp;
    struct sample *samples;
    size_t nsamples;
    double *st_t, *st_v;
    size_t *st_k;
    size_t nst, capst;
    struct memx *mx;
    size_t nmx;
    struct step *steps_in;
    size_t nsteps_in, next_step;
    /* per-neuron integrator: epochs of at most rk_len exchange steps (the
     * minimum delay), the current one ending at step rk_until; its spikes
     * wait in rk_spk (from rk_pos on, in time order) for their step */
    long rk_len, rk_until, kstop;
    neti_rk_inputs rk_in;
    struct rk_event {
        double t, w;
        uint32_t i;
    } *rk_ev;
    size_t rk_nev, rk_capev;
    neti_rk_spikes rk_spk;
    size_t rk_pos;
    /* run options */
    double rtol;
    unsigned long seed;
    char solver_msg[256];
    double tile_bracket; /* widest accepted interval a tile spike was found in */
    double report_wall;  /* when progress was last reported (ss_util_now) */
};

/* build.c */
/* Adds a population of n neurons of `kind` (checks the name); *out is it. */
NETI_HIDDEN int neti_add_pop(ss_network *net, const char *name, size_t n, int kind, size_t *index,
                             struct pop **out, ss_error *err);
NETI_HIDDEN int neti_is_neuron_pop(const struct pop *p);
/* Populations that receive synaptic input: behavioural neurons and tiles. */
NETI_HIDDEN int neti_takes_input(const struct pop *p);
/* The population holding global neuron id gid. */
NETI_HIDDEN const struct pop *neti_pop_of_gid(const ss_network *net, size_t gid);
NETI_HIDDEN double neti_pop_tau_syn(const struct pop *p);
/* Checks that a rows x cols crossbar fits between populations pre and post. */
NETI_HIDDEN int neti_check_crossbar(const ss_network *net, size_t pre, size_t post,
                                    const ss_crossbar_spec *spec, double v_read, double t_read,
                                    ss_error *err);
/* Synaptic jumps of a crossbar read (rows x cols). */
NETI_HIDDEN int neti_crossbar_weights(const ss_crossbar_spec *spec, const double *g, double v_read,
                                      double t_read, double tau_syn, double *w, ss_error *err);
/* All rows x cols synapses of a crossbar, row-major, one delay. */
NETI_HIDDEN int neti_connect_grid(ss_network *net, size_t pre, size_t post, size_t rows,
                                  size_t cols, const double *w, double delay, ss_error *err);

/* delivery.c */
/* The synapses as CSR by presynaptic neuron with delays in exchange steps
 * of h, and the delay ring. */
NETI_HIDDEN int neti_delivery_prepare(ss_network *net, double h, ss_error *err);
/* Records a spike of gid at t (plasticity included) and schedules its
 * synaptic jumps.  SS_ENOMEM only. */
NETI_HIDDEN int neti_record_spike(ss_network *net, double t, size_t gid);
/* Spikes of the sources in [t0, t1).  SS_ENOMEM only. */
NETI_HIDDEN int neti_emit_sources(ss_network *net, double t0, double t1);
/* Applies everything at the exchange point ending the current step;
 * returns whether the CVODE solver must restart. */
NETI_HIDDEN int neti_exchange(ss_network *net);

/* integrate.c */
/* dv/dt of a LIF outside refractoriness (s: v, i_syn, w). */
NETI_HIDDEN double neti_lif_dv(const ss_lif_params *q, double bias, const double *s);
/* The DPI's three derivatives (y: imem, iahp, isyn); ref: held. */
NETI_HIDDEN void neti_dpi_rhs(const ss_dpi_params *p, double bias, int ref, const double *y,
                              double *dy);
/* Creates CVODE on net->y, net->atol (Adams or BDF) for net->nstates states. */
NETI_HIDDEN int neti_solver_setup(ss_network *net, int bdf, double h, ss_error *err);
/* Integrates the CVODE populations over [t0, t1], recording their spikes. */
NETI_HIDDEN int neti_integrate(ss_network *net, double t0, double t1, ss_error *err);
/* Restarts CVODE at t after a state jump. */
NETI_HIDDEN int neti_solver_restart(ss_network *net, double t, ss_error *err);
NETI_HIDDEN void neti_free_solver(ss_network *net);

/* exact_lif.c */
/* The propagator of a linear LIF population over one exchange step h. */
NETI_HIDDEN void neti_exact_prepare(struct pop *p, double h);
NETI_HIDDEN int neti_advance_exact(ss_network *net, struct pop *p, double t0, double t1);

/* plastic.c */
/* The learning rule, at a spike of neuron gid at time t. */
NETI_HIDDEN void neti_plasticity(ss_network *net, double t, size_t gid);
/* New weights for the crossbars written in this step. */
NETI_HIDDEN int neti_update_weights(ss_network *net, ss_error *err);

/* epoch.c */
/* At the first step of an epoch, advances the RK populations over it; in
 * every step, records their spikes that fall into it. */
NETI_HIDDEN int neti_rk_step(ss_network *net, ss_error *err);

/* tile.c */
NETI_HIDDEN struct pop *neti_tile_pop(ss_network *net);
NETI_HIDDEN int neti_run_tile(ss_network *net, double tstop, const ss_network_options *opt,
                              ss_error *err);

/* run.c */
/* One exchange step: [t0, t1) integrated, then everything at t1 applied. */
NETI_HIDDEN int neti_step_once(ss_network *net, ss_error *err);
/* Calls the progress callback at every whole percent and every half second. */
NETI_HIDDEN int neti_report(ss_network *net, const ss_network_options *opt, double t_begin,
                            double tstop, long *last, ss_error *err);

#endif
