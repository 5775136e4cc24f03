/* ss_sweep.h: batch sweeps of a netlist: sweep axes and sampling designs,
 * and the netlist sweep, one job kind on the worker pool (pool/).
 *
 * Part 1, axes and designs: pure arithmetic, no processes.
 * Part 2, netlist sweeps: a netlist, axes, measurements -> a CSV with one
 * row per job (the pool's journal), appended and fsync'ed as each job
 * ends, resumable; spread over MPI ranks by the pool under mpirun.
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

#include "pool/ss_pool.h"
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

/* ==== Part 2: netlist sweeps ================================================ */

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
 * started by mpirun with more than one rank; every rank calls this) rank 0
 * runs the sweep on a pool that spans the ranks (ss_pool_alloc_ranks) and
 * alone writes the file, the other ranks serve its jobs and return with an
 * empty summary. */
int ss_sweep_run(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                 ss_error *err);

/* ---- plots ---------------------------------------------------------------- */

/* Draws measurement column `measure` of a results file against one or two
 * parameter columns (x; y NULL for one) into a PNG with gnuplot.  Only
 * rows with status ok are drawn. */
int ss_sweep_plot(const char *results, const char *measure, const char *x, const char *y,
                  const char *png, ss_error *err);

/* ---- names of the previous release --------------------------------------------
 * The worker pool, its MPI ranks and the results journal moved to pool/
 * (pool/ss_pool.h).  These aliases keep older callers compiling for one
 * release; new code uses the ss_pool_ names. */
#define ss_sweep_kind ss_pool_kind
#define ss_sweep_pool ss_pool
#define ss_sweep_reply ss_pool_reply
#define ss_sweep_pool_alloc ss_pool_alloc
#define ss_sweep_pool_submit ss_pool_submit
#define ss_sweep_pool_pending ss_pool_pending
#define ss_sweep_pool_next ss_pool_next
#define ss_sweep_pool_alloc_ranks ss_pool_alloc_ranks
#define ss_sweep_pool_serve ss_pool_serve
#define ss_sweep_pool_worker_pid ss_pool_worker_pid
#define ss_sweep_pool_free ss_pool_free
#define ss_sweep_mpi_built ss_pool_mpi_built
#define ss_sweep_mpi_init ss_pool_mpi_init
#define ss_sweep_mpi_finalize ss_pool_mpi_finalize
#define ss_sweep_mpi_release ss_pool_mpi_release
#define ss_sweep_results ss_pool_journal
#define ss_sweep_results_scan ss_pool_journal_scan
#define ss_sweep_results_open ss_pool_journal_open
#define ss_sweep_results_append ss_pool_journal_append
#define ss_sweep_results_close ss_pool_journal_close
#define ss_sweep_results_log(r, job, status, msg) \
    ss_pool_journal_log((r), (job), ss_sweep_status_name(status), (msg))

#endif
