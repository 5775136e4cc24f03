/* sweep_private.h: internals shared by the files of sweep/ (prefix sweepi_). */
#ifndef SS_SWEEP_PRIVATE_H
#define SS_SWEEP_PRIVATE_H

#include <stdio.h>

#include "cosim/engine/ss_engine.h"
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
    char *settings;       /* what shapes the rows (the journal's PATH.settings) */
    const char *raw_dir;  /* set by ss_sweep_run */
    char raw_real[4096];  /* raw_dir made absolute */
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

SWEEPI_HIDDEN extern const ss_pool_kind sweepi_netlist_kind;

SWEEPI_HIDDEN void sweepi_format(char buf[32], double x);

/* Formats the results row of a reply (with newline) into `row`; *status and
 * *msg receive the job's final status and message (a failed measurement
 * is named in rep->msg). */
SWEEPI_HIDDEN int sweepi_row(const ss_sweep *sw, ss_pool_reply *rep, ss_buf *row,
                             int *status, const char **msg);
SWEEPI_HIDDEN void sweepi_progress(const ss_sweep_options *opt, ss_sweep_summary *sum,
                                   size_t total, double t0, uint64_t job, int status,
                                   const char *msg);
SWEEPI_HIDDEN int sweepi_check_options(ss_sweep *sw, const ss_sweep_options *opt,
                                       ss_error *err);
/* Opens the results file and lists this shard's jobs without a row. */
SWEEPI_HIDDEN int sweepi_todo(ss_sweep *sw, const ss_sweep_options *opt, ss_pool_journal **res,
                              uint64_t **todo, size_t *ntodo, size_t *skipped, ss_error *err);

#endif
