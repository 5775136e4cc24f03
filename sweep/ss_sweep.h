/* ss_sweep.h: batch sweeps above the engine: sweep axes and sampling
 * designs, a fault-tolerant pool of forked worker processes, a resumable
 * results file, and the netlist sweep that ties them together.
 *
 * Part 1, axes and designs: pure arithmetic, no processes.
 * Part 2, the worker pool: generic.  A job kind is a function run in a
 * worker process that turns request bytes into reply bytes; the pool adds a
 * wall-clock timeout per job (SIGKILL and respawn), crash isolation and
 * per-worker state (an engine).  Netlist sweeps are one job kind; device
 * characterization and L2L runs can be others.
 * Part 3, netlist sweeps: a netlist, axes, measurements -> a CSV with one
 * row per job, appended and fsync'ed as each job ends, resumable.
 *
 * Typical use:
 *     ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
 *     spec.netlist = "rc.cir";  spec.params = params;  spec.nparams = 1;
 *     ss_sweep *sw = ss_sweep_alloc(&spec, &err);
 *     ss_sweep_options opt = SS_SWEEP_OPTIONS_INIT;  opt.out = "results.csv";
 *     ss_sweep_summary sum;
 *     int rc = ss_sweep_run(sw, &opt, &sum, &err);
 *     ss_sweep_free(sw);
 */
#ifndef SS_SWEEP_H
#define SS_SWEEP_H

#include <stddef.h>
#include <stdint.h>

#include "util/ss_util.h"

/* ==== Part 1: axes and designs ============================================ */

enum ss_sweep_axis_kind {
    SS_SWEEP_AXIS_VALUES = 0, /* lin, log, dec, list, file, or one number */
    SS_SWEEP_AXIS_DIST,       /* gauss, unif, lognorm: sampled by --lhs/--mc */
};

enum ss_sweep_dist {
    SS_SWEEP_GAUSS = 0, /* gauss:MEAN:SIGMA */
    SS_SWEEP_UNIF,      /* unif:LO:HI */
    SS_SWEEP_LOGNORM,   /* lognorm:MEDIAN:SIGMA  (value = MEDIAN * exp(SIGMA * z)) */
};

typedef struct ss_sweep_axis {
    char *name;     /* override target: ".param" name, "R1", "M1:w" */
    int kind;       /* enum ss_sweep_axis_kind */
    double *values; /* VALUES: n values in order */
    size_t n;
    int dist;       /* DIST: enum ss_sweep_dist with parameters a, b */
    double a, b;
} ss_sweep_axis;

/* Parses "NAME=SPEC" with SPEC one of
 *   lin:START:STOP:N        N points, both ends included
 *   log:START:STOP:N        N points evenly spaced in log (same-sign ends)
 *   dec:START:STOP:PER_DEC  PER_DEC points per decade from START up to STOP
 *   list:a,b,c              SPICE numbers
 *   file:PATH               SPICE numbers separated by space, comma or newline
 *                           ('*' and '#' start comments)
 *   NUMBER                  one value
 *   gauss:MEAN:SIGMA, unif:LO:HI, lognorm:MEDIAN:SIGMA   distributions
 * Numbers are SPICE numbers ("10k", "4.7u").  On failure `ax` is empty. */
int ss_sweep_axis_parse(ss_sweep_axis *ax, const char *arg, ss_error *err);
void ss_sweep_axis_release(ss_sweep_axis *ax);

/* Quantile of a distribution axis at probability p in (0, 1). */
double ss_sweep_axis_quantile(const ss_sweep_axis *ax, double p);

enum ss_sweep_mode {
    SS_SWEEP_GRID = 0, /* cartesian product, first axis slowest */
    SS_SWEEP_ZIP,      /* i-th values of every axis together (equal lengths) */
    SS_SWEEP_LHS,      /* Latin hypercube of N samples over the distribution axes */
    SS_SWEEP_MC,       /* N independent Monte Carlo samples */
};

/* The job list: values[j * nparam + k] is axis k's value in job j.  With
 * LHS/MC, the value axes form a grid (or zip) and each grid point gets the
 * N samples: job j = point * N + sample. */
typedef struct ss_sweep_design {
    size_t nparam, njobs;
    double *values;
    uint64_t *seeds; /* per-job seeds (ss_sweep_job_seed) */
} ss_sweep_design;

#define SS_SWEEP_DESIGN_INIT {0, 0, NULL, NULL}

/* Builds the job list.  `samples` is N for LHS/MC (ignored otherwise).
 * Distribution axes need LHS or MC; LHS/MC need at least one distribution
 * axis.  Deterministic in (axes, mode, samples, seed). */
int ss_sweep_design_build(ss_sweep_design *d, const ss_sweep_axis *axes, size_t naxes, int mode,
                          size_t samples, uint64_t seed, ss_error *err);
void ss_sweep_design_release(ss_sweep_design *d);

/* Seed of job `job` in a sweep seeded with `seed`: a hash of both, in
 * [1, 2^31 - 1] so that ngspice (".option seed") takes it as is. */
uint64_t ss_sweep_job_seed(uint64_t seed, uint64_t job);

/* ==== Part 2: the worker pool ============================================== */

/* A job kind.  All three functions run in a worker process. */
typedef struct ss_sweep_kind {
    const char *name;
    /* Called once per worker before its first job (NULL: nothing to set
     * up).  A failure fails the job at hand and is retried at the next. */
    int (*start)(void *arg, void **state, ss_error *err);
    /* Runs one job: request bytes in, reply bytes appended to `reply`.  A
     * non-zero status fails the job with err's message (the reply is still
     * delivered). */
    int (*run)(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
               ss_error *err);
    /* Called when the worker retires (NULL: nothing). */
    void (*stop)(void *state, void *arg);
} ss_sweep_kind;

typedef struct ss_sweep_pool ss_sweep_pool;

/* A finished job. */
typedef struct ss_sweep_reply {
    uint64_t id;     /* as submitted */
    int status;      /* the kind's status, SS_ETIMEOUT or SS_ECRASH */
    char msg[SS_ERROR_MSG_MAX];
    char *data;      /* reply bytes (heap, NUL-terminated; free with free()) */
    size_t len;
    double seconds;  /* wall clock from dispatch to reply */
} ss_sweep_reply;

/* A pool of `workers` processes forked from the caller on demand (so they
 * inherit `arg` and everything else the caller prepared).  `timeout` is the
 * wall-clock limit per job in seconds (0: none). */
ss_sweep_pool *ss_sweep_pool_alloc(const ss_sweep_kind *kind, void *arg, int workers,
                                   double timeout, ss_error *err);
/* Queues a job (the request is copied). */
int ss_sweep_pool_submit(ss_sweep_pool *p, uint64_t id, const void *req, size_t len,
                         ss_error *err);
/* Jobs queued or running. */
size_t ss_sweep_pool_pending(const ss_sweep_pool *p);
/* Dispatches queued jobs and waits up to `max_wait` seconds (< 0: until
 * one finishes) for a finished job.  *got is 1 when `out` was filled, 0
 * when the wait elapsed or nothing is pending.  A timed-out or crashed
 * worker is killed, reaped and replaced; only its job fails. */
int ss_sweep_pool_next(ss_sweep_pool *p, double max_wait, ss_sweep_reply *out, int *got,
                       ss_error *err);
/* Like ss_sweep_pool_alloc, but under MPI (make MPI=1, more than one rank,
 * called on rank 0 after ss_sweep_mpi_init) jobs also go to the other ranks,
 * each running `workers` jobs at a time in ss_sweep_pool_serve; replies come
 * back through ss_sweep_pool_next as if local.  Elsewhere a local pool. */
ss_sweep_pool *ss_sweep_pool_alloc_ranks(const ss_sweep_kind *kind, void *arg, int workers,
                                         double timeout, ss_error *err);
/* On an MPI rank other than 0: runs the jobs that rank 0's pool sends on a
 * local pool of `workers` processes (same kind and an equal `arg`), until
 * rank 0 frees that pool or calls ss_sweep_mpi_release.  Timeouts and
 * crashes are handled here and reported as failed jobs. */
int ss_sweep_pool_serve(const ss_sweep_kind *kind, void *arg, int workers, double timeout,
                        ss_error *err);
/* Process id of worker i (0 if not running), for tests and monitoring. */
int ss_sweep_pool_worker_pid(const ss_sweep_pool *p, int i);
/* Kills and reaps every worker, drops queued jobs. */
void ss_sweep_pool_free(ss_sweep_pool *p);

/* ==== Part 3: netlist sweeps ================================================ */

/* Final state of one job, as written in the results file. */
enum ss_sweep_status {
    SS_SWEEP_OK = 0,
    SS_SWEEP_SIM_ERROR,   /* "sim-error": the first error line is reported */
    SS_SWEEP_TIMEOUT,     /* "timeout" */
    SS_SWEEP_CRASH,       /* "crash": the worker died */
    SS_SWEEP_MEAS_FAILED, /* "meas-failed": ran, but a measurement has no value */
    SS_SWEEP_STATUS_MAX
};

const char *ss_sweep_status_name(int status);

typedef struct ss_sweep_spec {
    const char *netlist;          /* path */
    unsigned netlist_flags;       /* SS_NETLIST_ALLOW_CONTROL, ... */
    const char *const *params;    /* "NAME=SPEC" */
    size_t nparams;
    int mode;                     /* enum ss_sweep_mode */
    size_t samples;               /* N for LHS/MC */
    uint64_t seed;
    const char *const *measures;  /* ".meas" text without ".meas" */
    size_t nmeasures;
} ss_sweep_spec;

#define SS_SWEEP_SPEC_INIT {NULL, 0, NULL, 0, SS_SWEEP_GRID, 0, 1, NULL, 0}

typedef struct ss_sweep ss_sweep;

/* Reads and screens the netlist, parses the axes, checks that every axis
 * names something the netlist has (errors "file:line: ..."), adds the
 * measurements and builds the job list. */
ss_sweep *ss_sweep_alloc(const ss_sweep_spec *spec, ss_error *err);
void ss_sweep_free(ss_sweep *sw);

size_t ss_sweep_njobs(const ss_sweep *sw);
const ss_sweep_design *ss_sweep_get_design(const ss_sweep *sw);
/* Measurement columns: those of the netlist's own .meas lines, then the added ones. */
size_t ss_sweep_nmeasures(const ss_sweep *sw);
const char *ss_sweep_measure_name(const ss_sweep *sw, size_t i);
/* The results header "job,status,<params>,seed,<measures>,seconds" (no newline). */
const char *ss_sweep_header(const ss_sweep *sw);

/* Progress after each finished job.  `job`, `status` and `msg` describe it. */
typedef struct ss_sweep_progress {
    size_t done, failed, total; /* this run's jobs (after --resume and --shard); failed:
                                 * jobs without a result (meas-failed jobs have one) */
    size_t skipped;             /* rows already in the file (--resume) */
    double elapsed, rate, eta;  /* seconds, jobs/s, seconds left */
    uint64_t job;
    int status;                 /* enum ss_sweep_status */
    const char *msg;            /* error line for failed jobs, else "" */
} ss_sweep_progress;

typedef struct ss_sweep_options {
    const char *out;      /* results CSV path (required) */
    int jobs;             /* worker processes (<= 0: 1) */
    double timeout;       /* seconds per job (0: none) */
    int resume;           /* keep existing rows, run only the missing jobs */
    size_t shard_index, shard_count; /* run jobs with job % count == index */
    const char *raw_dir;  /* write DIR/job-<n>.raw per successful job (NULL: no) */
    void (*progress)(void *user, const ss_sweep_progress *p);
    void *user;
} ss_sweep_options;

#define SS_SWEEP_OPTIONS_INIT {NULL, 1, 0, 0, 0, 1, NULL, NULL, NULL}

typedef struct ss_sweep_summary {
    size_t total, ran, skipped;
    size_t count[SS_SWEEP_STATUS_MAX]; /* jobs of this run per status */
    double seconds;
} ss_sweep_summary;

/* Runs the jobs (of this shard, minus those already in the file with
 * `resume`) on a worker pool and appends one row per job to opt->out as it
 * ends (fflush + fsync).  Failed jobs are rows too; the return value is
 * SS_OK unless the sweep itself could not run.  Under MPI (make MPI=1,
 * started by mpirun with more than one rank) the jobs are spread over the
 * ranks and rank 0 writes the file; call ss_sweep_mpi_init first. */
int ss_sweep_run(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                 ss_error *err);

/* Reads the job numbers already present in a results file whose header must
 * equal `header`.  A torn last line (no newline) is ignored; *valid_len is
 * the length of the file up to the last complete row.  done[j] is set for
 * j < njobs.  A missing file is SS_OK with nothing done. */
int ss_sweep_results_scan(const char *path, const char *header, unsigned char *done,
                          size_t njobs, long *valid_len, ss_error *err);

/* ---- results files for other job kinds -------------------------------------
 * The netlist sweep's resumable results file, for commands that run their
 * own jobs on the pool (smallsim characterize): a header line, then one row
 * per finished job, appended and fdatasync'ed as it ends, so a killed run
 * loses at most the jobs in flight.  Rows start with the job number;
 * failures go to PATH.log as well. */
typedef struct ss_sweep_results ss_sweep_results;

/* Opens (creates) `path` with `header`.  An existing non-empty file is
 * refused unless `resume`; then its header must equal `header`, done[j] is
 * set for every job j < njobs it holds (*skipped counts them) and a torn
 * last row is cut off.  NULL on failure. */
ss_sweep_results *ss_sweep_results_open(const char *path, const char *header, int resume,
                                        unsigned char *done, size_t njobs, size_t *skipped,
                                        ss_error *err);
/* Appends one row (with its newline) and syncs it to disk. */
int ss_sweep_results_append(ss_sweep_results *r, const char *row, ss_error *err);
/* Writes "job J: STATUS: MSG" to PATH.log. */
void ss_sweep_results_log(ss_sweep_results *r, uint64_t job, int status, const char *msg);
/* Closes the file (NULL: nothing). */
void ss_sweep_results_close(ss_sweep_results *r);

/* ---- MPI (make MPI=1) ------------------------------------------------------ */

/* 1 when built with MPI. */
int ss_sweep_mpi_built(void);
/* Initialises MPI when built with it and started by mpirun; *rank and
 * *size get 0 and 1 otherwise.  Call before anything else forks. */
int ss_sweep_mpi_init(int *rank, int *size, ss_error *err);
void ss_sweep_mpi_finalize(void);
/* Rank 0: lets the ranks waiting in ss_sweep_pool_serve return (freeing a
 * pool from ss_sweep_pool_alloc_ranks does it; call it when no such pool
 * will be made, e.g. after a failure).  Idempotent; nothing without MPI. */
void ss_sweep_mpi_release(void);

/* ---- plots ---------------------------------------------------------------- */

/* Draws measurement column `measure` of a results file against one or two
 * parameter columns (x; y NULL for one) into a PNG with gnuplot.  Only
 * rows with status ok are drawn. */
int ss_sweep_plot(const char *results, const char *measure, const char *x, const char *y,
                  const char *png, ss_error *err);

#endif
