/* sweep_private.h: internals shared by the files of sweep/ (prefix sweepi_). */
#ifndef SS_SWEEP_PRIVATE_H
#define SS_SWEEP_PRIVATE_H

#include <stdio.h>

#include "cosim/ss_cosim.h"
#include "netlists/ss_netlist.h"
#include "sweep/ss_sweep.h"

#define SWEEPI_HIDDEN __attribute__((visibility("hidden")))

struct ss_sweep {
    ss_netlist nl;        /* the deck with the measurements and a seed line added */
    ss_sweep_axis *axes;
    size_t naxes;
    char **meas;          /* measurement columns */
    size_t nmeas;
    size_t seed_line;     /* index of the ".option seed=" line */
    ss_sweep_design design;
    char *header;
    const char *raw_dir;  /* set by ss_sweep_run */
    char run_dir[4096];   /* the workers' run folders go below it (ss_sweep_run) */
};

/* Request of the netlist job kind. */
typedef struct sweepi_request {
    uint64_t job, seed;
} sweepi_request;

/* One measurement in a reply. */
typedef struct sweepi_measure {
    uint8_t ok;
    double value;
} sweepi_measure;

typedef struct sweepi_results {
    int fd;
    FILE *log;
} sweepi_results;

SWEEPI_HIDDEN extern const ss_sweep_kind sweepi_netlist_kind;

SWEEPI_HIDDEN void sweepi_format(char buf[32], double x);

SWEEPI_HIDDEN int sweepi_results_open(sweepi_results *r, const char *path, const char *header,
                                      int resume, unsigned char *done, size_t njobs,
                                      size_t *skipped, ss_error *err);
SWEEPI_HIDDEN int sweepi_results_append(sweepi_results *r, const char *row, ss_error *err);
SWEEPI_HIDDEN void sweepi_results_log(sweepi_results *r, uint64_t job, int status,
                                      const char *msg);
SWEEPI_HIDDEN void sweepi_results_close(sweepi_results *r);
/* Rewrites a complete results file with its rows in job order. */
SWEEPI_HIDDEN int sweepi_results_sort(const char *path, ss_error *err);

/* Formats the results row of a reply (with newline) into `row`; *status and
 * *msg receive the job's final status and message (a failed measurement
 * is named in rep->msg). */
SWEEPI_HIDDEN int sweepi_row(const ss_sweep *sw, ss_sweep_reply *rep, ss_buf *row,
                             int *status, const char **msg);
SWEEPI_HIDDEN void sweepi_progress(const ss_sweep_options *opt, ss_sweep_summary *sum,
                                   size_t total, double t0, uint64_t job, int status,
                                   const char *msg);
SWEEPI_HIDDEN int sweepi_check_options(ss_sweep *sw, const ss_sweep_options *opt,
                                       ss_error *err);
/* Opens the results file and lists this shard's jobs without a row. */
SWEEPI_HIDDEN int sweepi_todo(ss_sweep *sw, const ss_sweep_options *opt, sweepi_results *res,
                              uint64_t **todo, size_t *ntodo, size_t *skipped, ss_error *err);

/* mpi.c: the remote side of a pool made by ss_sweep_pool_alloc_ranks
 * (rank 0 only; NULL without MPI, on one rank, or once released). */
typedef struct sweepi_ranks sweepi_ranks;
SWEEPI_HIDDEN sweepi_ranks *sweepi_ranks_alloc(int workers);
/* Sends a job to a rank with room: 1 when sent, 0 when every rank is full. */
SWEEPI_HIDDEN int sweepi_ranks_send(sweepi_ranks *r, uint64_t id, const char *req, size_t len);
/* A finished remote job into *out: 1 when there was one. */
SWEEPI_HIDDEN int sweepi_ranks_poll(sweepi_ranks *r, ss_sweep_reply *out);
SWEEPI_HIDDEN size_t sweepi_ranks_outstanding(const sweepi_ranks *r);
/* Tells the ranks to stop serving and frees r. */
SWEEPI_HIDDEN void sweepi_ranks_free(sweepi_ranks *r);

/* mpi.c: 1 without MPI. */
SWEEPI_HIDDEN int sweepi_mpi_size(void);
SWEEPI_HIDDEN int sweepi_mpi_run(ss_sweep *sw, const ss_sweep_options *opt,
                                 ss_sweep_summary *sum, ss_error *err);

#endif
