/* ss_l2l.h: learning to learn, the outer loop.  Ask/tell optimizers over a
 * bounded parameter space, tasks (families of inner-loop problems with a
 * metric to minimise), and a run that evaluates each generation on the
 * worker pool (pool/) with common random numbers, selects the reported best on
 * validation tasks, and checkpoints after every generation.
 *
 * Part 1, parameter spaces: named parameters with bounds, log-scale and
 * fixed flags.  Optimizers see only the free parameters, each mapped to
 * [0, 1] (linearly, or linearly in log for SS_L2L_LOG).
 * Part 2, optimizers: CMA-ES, cross-entropy, genetic algorithm, random and
 * grid search, as type objects behind one ask/tell interface, plus a serial
 * Nelder-Mead polish.  Deterministic in (settings, seed); the state
 * round-trips through text exactly (ss_l2l_opt_save / ss_l2l_opt_load).
 * Part 3, tasks: a task evaluates a full parameter vector (real units) on
 * one task instance chosen by a 64-bit seed and returns a finite metric to
 * minimise.  Families are looked up by name ("bbob-sphere:10").
 * Part 4, runs: ss_l2l_run writes RUNDIR/{gens.csv, evals.csv, best.json,
 * checkpoint, learning.png}; ss_l2l_test evaluates parameters on the test
 * tasks.
 *
 * Typical use:
 *     ss_l2l_task *t = ss_l2l_task_alloc("bbob-rosenbrock:10", &err);
 *     ss_l2l_options opt = SS_L2L_OPTIONS_INIT;
 *     opt.rundir = "run1";  opt.generations = 200;  opt.jobs = 2;
 *     ss_l2l_summary sum;
 *     int rc = ss_l2l_run(t, &opt, &sum, &err);
 *     ss_l2l_task_free(t);
 */
#ifndef SS_L2L_H
#define SS_L2L_H

#include <stddef.h>
#include <stdint.h>

#include "devices/ss_devices.h"
#include "util/ss_util.h"

/* ==== Part 1: parameter spaces ============================================= */

enum ss_l2l_param_flags {
    SS_L2L_LOG = (1 << 0),   /* normalised linearly in log(value); needs lo > 0 */
    SS_L2L_FIXED = (1 << 1), /* not optimised: always `init` */
};

#define SS_L2L_NAME_MAX 64

typedef struct ss_l2l_param {
    char name[SS_L2L_NAME_MAX]; /* letters, digits, '_', '.', '-' */
    double lo, hi;              /* finite, lo < hi */
    double init;                /* start value of CMA-ES/CE; the value when fixed */
    unsigned flags;             /* enum ss_l2l_param_flags */
} ss_l2l_param;

/* Checks names (valid, unique), bounds and initial values; errors name the
 * parameter ("parameter 'x3': lo 2 is not below hi 1"). */
int ss_l2l_space_check(const ss_l2l_param *p, size_t n, ss_error *err);
/* Number of parameters without SS_L2L_FIXED. */
size_t ss_l2l_space_nfree(const ss_l2l_param *p, size_t n);
/* u (nfree values, each folded into [0, 1] by reflection) -> x (n values,
 * real units; fixed parameters get their init value). */
void ss_l2l_space_decode(const ss_l2l_param *p, size_t n, const double *u, double *x);
/* x (n values) -> u (nfree values in [0, 1], clipped). */
void ss_l2l_space_encode(const ss_l2l_param *p, size_t n, const double *x, double *u);
/* Folds any real number into [0, 1] by reflection at 0 and 1 (a triangle
 * wave), which is how optimizers keep unbounded samples in the box. */
double ss_l2l_reflect(double u);

/* ==== Part 2: optimizers ==================================================== */

typedef struct ss_l2l_opt_type ss_l2l_opt_type;

extern const ss_l2l_opt_type *const ss_l2l_opt_cmaes;  /* "cmaes" */
extern const ss_l2l_opt_type *const ss_l2l_opt_ce;     /* "ce" */
extern const ss_l2l_opt_type *const ss_l2l_opt_ga;     /* "ga" */
extern const ss_l2l_opt_type *const ss_l2l_opt_random; /* "random" */
extern const ss_l2l_opt_type *const ss_l2l_opt_grid;   /* "grid" */

/* The type called `name`, or NULL. */
const ss_l2l_opt_type *ss_l2l_opt_type_find(const char *name);
const char *ss_l2l_opt_type_name(const ss_l2l_opt_type *t);

/* Hyperparameters.  Start from SS_L2L_OPT_SETTINGS_INIT; a 0 population
 * means the optimizer's default (CMA-ES 4 + 3 ln n, CE 50, GA 50, random
 * and grid 20). */
typedef struct ss_l2l_opt_settings {
    size_t pop;
    double sigma0;      /* cmaes, ce: initial standard deviation in [0, 1] units */
    double rho;         /* ce: elite fraction */
    double smoothing;   /* ce: weight of the old distribution in the update */
    double noise;       /* ce: variance added to the fitted covariance ... */
    double noise_decay; /* ... multiplied by this every generation */
    size_t tournament;  /* ga: tournament size */
    double cx_prob;     /* ga: probability of blend crossover (alpha 0.5) */
    double mut_prob;    /* ga: probability that an offspring is mutated ... */
    double mut_sigma;   /* ... by Gaussian steps of this size on each gene with
                           probability max(0.1, 1/n) */
    size_t elite;       /* ga: best individuals copied unchanged */
    size_t grid_points; /* grid: points per free parameter (>= 1; 0: 5) */
    /* cmaes: IPOP restarts.  When a run stops making progress (tolfun: the
     * best values of the last 10 + 30 n / lambda generations and all of the
     * current one lie within `tolfun`; tolx: sigma times the largest
     * standard deviation and evolution-path entry is below `tolx`;
     * condition number of C above 1e14; stagnation: the median of the
     * recent best and median values stopped improving over 120 + 30 n /
     * lambda generations; no effect of a 0.2-sigma step on a coordinate),
     * CMA-ES starts again from a uniformly drawn mean with sigma0, C = I
     * and a doubled population, at most `restarts` times (0: never).
     * tolfun or tolx 0 switches that criterion off. */
    size_t restarts;
    double tolfun, tolx;
} ss_l2l_opt_settings;

#define SS_L2L_OPT_SETTINGS_INIT {0, 0.3, 0.2, 0.2, 0.01, 0.99, 3, 0.5, 0.3, 0.1, 1, 0, 0, 1e-12, 1e-12}

/* Checks settings for optimizer type t over `dim` parameters (ranges, the
 * GA's elite against the population) without building an optimizer, so
 * that a command line can report bad values as usage errors.  Messages name
 * the setting by its field name ("rho 1.5 is not in (0, 1]"). */
int ss_l2l_opt_settings_check(const ss_l2l_opt_type *t, size_t dim, const ss_l2l_opt_settings *s,
                              ss_error *err);

typedef struct ss_l2l_opt ss_l2l_opt;

/* An optimizer over `dim` normalised parameters starting at u0 (dim values
 * in [0, 1]; NULL: the centre).  Checks the settings. */
ss_l2l_opt *ss_l2l_opt_alloc(const ss_l2l_opt_type *t, size_t dim, const double *u0,
                             const ss_l2l_opt_settings *s, uint64_t seed, ss_error *err);
void ss_l2l_opt_free(ss_l2l_opt *o);

/* Population size: the most points the next ask returns (CMA-ES with
 * restarts: it doubles at each restart). */
size_t ss_l2l_opt_pop(const ss_l2l_opt *o);
/* CMA-ES restarts so far (0 for the other optimizers). */
size_t ss_l2l_opt_restarts(const ss_l2l_opt *o);
size_t ss_l2l_opt_dim(const ss_l2l_opt *o);
/* Generations told so far. */
uint64_t ss_l2l_opt_generation(const ss_l2l_opt *o);
/* A step-size figure for the logs (CMA-ES sigma, CE mean standard
 * deviation, 0 for the others). */
double ss_l2l_opt_spread(const ss_l2l_opt *o);
/* The centre of the search distribution (CMA-ES and CE: the mean), folded
 * into [0, 1] like the asked points, in u (dim values): 1; 0 (u untouched)
 * for methods without one (GA, random, grid). */
int ss_l2l_opt_center(const ss_l2l_opt *o, double *u);
/* Whether optimizers of type t have such a centre (CMA-ES and CE). */
int ss_l2l_opt_type_has_center(const ss_l2l_opt_type *t);

/* Writes the next generation into u (pop x dim, row-major, every value in
 * [0, 1]) and its size into *n (grid search: 0 once the grid is done).
 * Every ask must be followed by a tell of the same points before the next
 * ask. */
int ss_l2l_opt_ask(ss_l2l_opt *o, double *u, size_t *n, ss_error *err);
/* Reports the values f[0..n) (lower is better, finite) of the asked points. */
int ss_l2l_opt_tell(ss_l2l_opt *o, const double *u, const double *f, size_t n, ss_error *err);

/* The complete state (settings, RNG, distribution) as text lines
 * "opt.<key> <values>"; doubles are written so that they read back exactly. */
int ss_l2l_opt_save(const ss_l2l_opt *o, ss_buf *out, ss_error *err);
/* Rebuilds an optimizer from text written by ss_l2l_opt_save (other lines
 * are ignored).  `what` names the text in errors ("run/checkpoint"). */
ss_l2l_opt *ss_l2l_opt_load(const char *text, const char *what, ss_error *err);

/* Serial local polish: Nelder-Mead (GSL nmsimplex2) from u (dim values),
 * initial step `step`, at most `max_evals` calls of f (whose arguments are
 * folded into [0, 1]).  u and *fu receive the best point seen and its value.
 * A non-zero return from f stops the polish and is returned. */
typedef int (*ss_l2l_objective)(void *user, const double *u, double *f);
int ss_l2l_polish(size_t dim, double *u, double *fu, double step, size_t max_evals,
                  ss_l2l_objective f, void *user, size_t *evals, ss_error *err);

/* ==== Part 3: tasks ============================================================ */

typedef struct ss_l2l_task ss_l2l_task;

struct ss_l2l_task {
    char name[128];       /* as asked for, e.g. "bbob-sphere:10" */
    const char *metric;   /* metric name, e.g. "f", "NMSE", "regret" */
    ss_l2l_param *params; /* the parameter space */
    size_t nparams;
    /* Default numbers of task instances: per training evaluation, in the
     * validation set and in the test set. */
    size_t ntrain, nval, ntest;
    /* Per-worker set-up (NULL: none), e.g. an engine or a cache. */
    int (*start)(const ss_l2l_task *t, void **state, ss_error *err);
    /* Evaluates parameters x (nparams values, real units) on the instance
     * `seed`; *metric must be finite (lower is better).  Runs in a worker
     * process; may be slow. */
    int (*evaluate)(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                    double *metric, ss_error *err);
    void (*stop)(const ss_l2l_task *t, void *state);
    void *data;                      /* the family's own data */
    void (*destroy)(ss_l2l_task *t); /* called by ss_l2l_task_free (NULL: nothing) */
    /* A folder where `start` may keep results between runs (borrowed; NULL:
     * none).  The arm tasks keep their ngspice pulse lookups there, one
     * checksummed file per device and pulse (damaged files are measured
     * again).  ss_l2l_run uses RUNDIR/lut-cache unless this is set. */
    const char *cache_dir;
    /* Hardware tasks: replaces the memristor (NULL: a task without one). */
    int (*set_device)(ss_l2l_task *t, const ss_device *d, ss_error *err);
    /* The memristor given by ss_l2l_task_set_device (has_device), part of
     * the run's identity (checkpoints, best.json). */
    int has_device;
    ss_device device;
};

/* Replaces the memristor of a hardware task (bandit-..., arm-oneshot,
 * faults; default: vteam_demo with a biolek window, p = 1) by d, e.g. a
 * fitted device (ss_device_load): the task's nominal device, the literature
 * variation of its model (ss_device_variation_literature) and the driver's
 * calibration follow it.  The tasks write SET with negative pulses, so d
 * must move towards its low-resistance state at -1 V and away at +1 V
 * (polarity=-1 turns a device round), and be ON at x = 0 (a VTEAM device:
 * the write controllers count states from that end).  SS_EINVAL for a task
 * without devices or another device; the message says why. */
int ss_l2l_task_set_device(ss_l2l_task *t, const ss_device *d, ss_error *err);

/* A task by name:
 *   bbob-FN[:D[:SPREAD]]   FN one of sphere, ellipsoid, rosenbrock, rastrigin;
 *                          D dimensions (1..100, default 10); parameters x0..x<D-1>
 *                          in [-5, 5]; instance `seed` shifts the optimum by
 *                          SPREAD (default 1) times a standard normal vector
 *                          around the family's centre; metric f - f_opt.
 *   bandit-independent, bandit-dependent
 *                          two-armed bandits learned by memristive value
 *                          synapses; metric regret (docs/l2l.md).
 *   arm-oneshot            one-shot 2-link arm with a memristive readout
 *                          written once (ngspice pulse lookup per worker);
 *                          metric NMSE.
 *   faults[:P]             arm-oneshot with a fraction P (default 0.1) of
 *                          stuck devices and fault-aware writing.
 *   hebbian-memory[:PAIRS] one-shot storage and recall of PAIRS (1..40,
 *                          default 8) key-value pairs in a plastic
 *                          memristive crossbar of the network layer;
 *                          metric bit_error.
 * Unknown names fail with SS_ENOTFOUND and the list of families. */
ss_l2l_task *ss_l2l_task_alloc(const char *name, ss_error *err);
void ss_l2l_task_free(ss_l2l_task *t);
/* One-line descriptions of the task families, i = 0, 1, ... (NULL at the end). */
const char *ss_l2l_task_family(size_t i);
/* Fixes parameter `name` at `value` (which must lie within its bounds). */
int ss_l2l_task_fix(ss_l2l_task *t, const char *name, double value, ss_error *err);

/* Seed of instance k of a task set: the sets are disjoint by construction
 * (the top two bits name the set).  Training instances depend on the run
 * seed and the generation (all individuals of a generation share them:
 * common random numbers); validation and test instances are fixed. */
enum ss_l2l_set { SS_L2L_TRAIN = 1, SS_L2L_VAL = 2, SS_L2L_TEST = 3 };
uint64_t ss_l2l_task_seed(int set, uint64_t run_seed, uint64_t generation, uint64_t k);

/* ==== Part 3b: building blocks of the hardware task families ================
 *
 * The bandit, arm-oneshot and faults families (docs/l2l.md, "Task families")
 * are built from the pieces below; they are public so that tests and
 * examples can check them one by one. */

/* Pulse response of one memristor behind its driver (a series resistor):
 * x[k] is the normalised state after k identical pulses (amplitude amp
 * volts, flat width `width` seconds, period 2 width) from x[0] = x_start.
 * Measured in ngspice on the emitted subcircuit (ss_devsim_run_spice) or
 * with the C model (ss_devsim_run). */
typedef struct ss_l2l_pulse_lut {
    size_t n;   /* pulses measured; x has n + 1 values */
    double *x;
} ss_l2l_pulse_lut;
#define SS_L2L_PULSE_LUT_INIT {0, NULL}

struct ss_engine;
struct ss_device;
/* Measures `npulses` pulses on device d (VTEAM or Yakopcic; its initial
 * state is replaced by x_start).  eng NULL: the C model; else that ngspice
 * engine.  lut is released first and empty on failure. */
int ss_l2l_lut_measure(struct ss_engine *eng, const struct ss_device *d, double x_start,
                       double amp, double width, double series_r, size_t npulses,
                       ss_l2l_pulse_lut *lut, ss_error *err);
void ss_l2l_lut_release(ss_l2l_pulse_lut *lut);
/* State after `pulses` (>= 0, fractional counts interpolate) more pulses
 * from state x: x is placed on the measured curve by inverse interpolation
 * and moved along it; beyond the measured range the last step per pulse
 * continues, clipped to [0, 1]. */
double ss_l2l_lut_apply(const ss_l2l_pulse_lut *lut, double x, double pulses);
/* State change per pulse at state x (signed). */
double ss_l2l_lut_step(const ss_l2l_pulse_lut *lut, double x);

/* Two-armed Bernoulli bandits, 100 pulls: mean pseudo-regret (sum over
 * pulls of max(p) - p(chosen arm)) of Thompson sampling with uniform Beta
 * priors over `nbandits` bandits drawn from `seed`; dependent: p2 = 1 - p1,
 * else p1, p2 independent U(0, 1). */
double ss_l2l_bandit_thompson(int dependent, size_t nbandits, uint64_t seed);
/* The same for uniformly random choice. */
double ss_l2l_bandit_random(int dependent, size_t nbandits, uint64_t seed);

/* Planar two-link arm (links 0.5 m, joint angles in rad): hand position. */
void ss_l2l_arm_forward(double theta1, double theta2, double *x, double *y);

/* One arm-oneshot or faults instance in detail: the demonstrated target,
 * the replay without learning (same hardware, no write, faults excluded)
 * and the replay after the one write, each `steps` samples of (x, y) hand
 * positions (1 ms apart); the MSEs (m^2) of the replays and of the arm at
 * rest, and the task's metric nmse = mse_learned / mse_rest.  `state`: from
 * task->start, or NULL (an engine is opened for the call).  `task` must be
 * an arm-oneshot or faults task. */
typedef struct ss_l2l_arm_trace {
    size_t steps;
    double *target, *unlearned, *learned; /* steps x 2 each */
    double mse_unlearned, mse_learned, mse_rest, nmse;
    size_t pruned, faulty, pulses;        /* pairs pruned, faulty devices, pulses written */
} ss_l2l_arm_trace;
#define SS_L2L_ARM_TRACE_INIT {0, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0}
int ss_l2l_arm_run(const ss_l2l_task *task, void *state, const double *x, uint64_t seed,
                   ss_l2l_arm_trace *tr, ss_error *err);

/* hebbian-memory (task_hebb.c): 16-bit keys and values, 3 active bits each.
 * ss_l2l_hebb_pairs: the task's number of pairs P (0 for another task).
 * ss_l2l_hebb_patterns: instance `seed`'s keys (P x 16) and values (P x 16),
 * 0/1 bytes.  ss_l2l_hebb_run: the instance stored and recalled with
 * parameters x (real units): the recalled values (P x 16, may be NULL), the
 * stored read conductances (16 x 16 S at v_read, may be NULL) and the
 * metric.  ss_l2l_hebb_error: the metric of recalled values `out` against
 * `val`: 1/2 (missed ones / ones + false ones / zeros). */
size_t ss_l2l_hebb_pairs(const ss_l2l_task *t);
int ss_l2l_hebb_patterns(const ss_l2l_task *t, uint64_t seed, unsigned char *key,
                         unsigned char *val, ss_error *err);
int ss_l2l_hebb_run(const ss_l2l_task *t, const double *x, uint64_t seed, unsigned char *out,
                    double *g, double *metric, ss_error *err);
double ss_l2l_hebb_error(const unsigned char *val, const unsigned char *out, size_t pairs);
void ss_l2l_arm_trace_release(ss_l2l_arm_trace *tr);

/* ==== Part 4: runs ================================================================ */

enum ss_l2l_event_kind {
    SS_L2L_EV_EVAL = 0,   /* one evaluation ended (any order) */
    SS_L2L_EV_GENERATION, /* a generation ended (checkpoint written) */
    SS_L2L_EV_POLISH,     /* the polish ended */
};

typedef struct ss_l2l_event {
    int kind;
    uint64_t generation;  /* 0-based generation of the event */
    uint64_t generations; /* generations asked for */
    /* EV_EVAL */
    const char *set;      /* "train", "val", "polish" */
    size_t index;         /* individual within the generation */
    int status;           /* SS_OK or the failure code */
    int attempt;          /* 1 for a first try */
    int final;            /* 0 when the evaluation is retried */
    const char *msg;      /* failure message, else "" */
    double metric;        /* EV_EVAL: its metric (failures: NaN, never told) */
    double seconds;
    /* EV_GENERATION, EV_POLISH */
    double gen_best;      /* best training value of the generation */
    double gen_val;       /* validation value of the generation's best (inf: failed) */
    double best_val;      /* best validation value so far */
    size_t failed;        /* failed evaluations in the generation */
    uint64_t evals;       /* evaluations so far (all sets, retries excluded) */
    double elapsed;       /* wall clock of this process */
    size_t pop;           /* EV_GENERATION: population of the next generation */
    size_t restarts;      /* EV_GENERATION: CMA-ES restarts so far */
} ss_l2l_event;

typedef struct ss_l2l_options {
    const char *rundir;               /* output folder (created if missing) */
    const ss_l2l_opt_type *optimizer; /* NULL: CMA-ES */
    ss_l2l_opt_settings settings;
    uint64_t generations;             /* total, including resumed ones */
    uint64_t seed;
    int jobs;                         /* worker processes (< 1: 1) */
    double timeout;                   /* seconds per evaluation (0: none) */
    int retries;                      /* re-queues of a crashed or timed-out evaluation */
    size_t ntrain, nval;              /* 0: the task's defaults */
    size_t polish_evals;              /* Nelder-Mead evaluations at the end (0: none) */
    int resume;                       /* continue RUNDIR/checkpoint */
    int plot;                         /* draw RUNDIR/learning.png with gnuplot */
    void (*progress)(void *user, const ss_l2l_event *ev);
    void *user;
    int select;                       /* which point each generation validates: SS_L2L_SELECT_* */
} ss_l2l_options;

/* The point validated after each generation (best.json keeps the best
 * validated one): AUTO is the distribution's centre for CMA-ES and CE (a
 * smoothed estimate that does not overfit the validation instances as the
 * best of a noisy generation does) and the generation's best for the
 * others; BEST and CENTER force one (CENTER needs CMA-ES or CE). */
enum { SS_L2L_SELECT_AUTO, SS_L2L_SELECT_BEST, SS_L2L_SELECT_CENTER };

#define SS_L2L_OPTIONS_INIT {NULL, NULL, SS_L2L_OPT_SETTINGS_INIT, 50, 1, 1, 0, 2, 0, 0, 0, 0, 0, NULL, NULL, 0}

typedef struct ss_l2l_summary {
    uint64_t generations; /* generations done (all runs of RUNDIR) */
    uint64_t evals;       /* evaluations (all runs of RUNDIR) */
    uint64_t failed;      /* failed evaluations (all runs) */
    double best_val;      /* validation value of best.json (inf: none) */
    uint64_t best_gen;    /* generation it came from */
    int polished;         /* 1 when the polish improved it */
    double seconds;       /* wall clock of this call */
    char plot_msg[SS_ERROR_MSG_MAX]; /* why the plot is missing, else "" */
} ss_l2l_summary;

/* Runs generations opt->generations - (those in the checkpoint) of the
 * optimizer on `task`, evaluating each generation's points on the worker
 * pool.  Each point is evaluated on the generation's ntrain training
 * instances (mean metric); failed evaluations (error, non-finite metric,
 * crash or timeout after the retries) are told as worse than the worst
 * success.  The generation's best is evaluated on the nval validation
 * instances, and best.json keeps the best of those.  After each generation
 * rows are appended to gens.csv and evals.csv and the checkpoint is
 * replaced atomically; with `resume` the run continues from it and ends
 * bit-identical to an uninterrupted run.  Without `resume`, a RUNDIR that
 * already holds a checkpoint is refused. */
int ss_l2l_run(const ss_l2l_task *task, const ss_l2l_options *opt, ss_l2l_summary *sum,
               ss_error *err);

/* MPI (make MPI=1, started by mpirun, after ss_pool_mpi_init): rank 0
 * calls ss_l2l_run, which runs the optimizer and hands evaluations to the
 * other ranks as well as to its own workers; every other rank calls
 * ss_l2l_serve with the same task and options and evaluates what it is sent
 * on opt->jobs local workers until rank 0's run ends.  Results do not
 * depend on the number of ranks. */
int ss_l2l_serve(const ss_l2l_task *task, const ss_l2l_options *opt, ss_error *err);

/* Reads a best.json written by ss_l2l_run into x (task->nparams values, real
 * units).  Checks that it belongs to `task` and that every parameter is
 * present and within bounds; errors "file:line: ...". */
int ss_l2l_best_read(const char *path, const ss_l2l_task *task, double *x, ss_error *err);

/* Mean metric of x over the first `ntest` test instances (0: the task's
 * default), one instance per job on `jobs` workers.  A failed instance fails
 * the call. */
int ss_l2l_test(const ss_l2l_task *task, const double *x, size_t ntest, int jobs,
                double timeout, double *metric, ss_error *err);

#endif
