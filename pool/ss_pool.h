/* ss_pool.h: the generic worker pool and the durable results journal.
 *
 * A job kind is a function run in a worker process that turns request bytes
 * into reply bytes.  The pool forks its workers on demand (so they inherit
 * whatever the caller prepared), adds a wall-clock timeout per job (SIGKILL
 * and respawn), crash isolation and per-worker state (an engine, opened once
 * per worker).  Under MPI (make MPI=1) the same pool also hands jobs to the
 * other ranks.  Netlist sweeps (sweep/), characterization campaigns
 * (circuits/) and L2L evaluations (l2l/) are job kinds on it.
 *
 * The journal is the resumable results file those commands write: a header
 * line, then one row per finished job, appended and fdatasync'ed as the job
 * ends, so a killed run loses at most the jobs in flight.
 *
 * This module sits directly above util/ and knows nothing of netlists,
 * engines or sweeps.
 *
 * Typical use:
 *     static const ss_pool_kind kind = {"mine", start, run, stop};
 *     ss_pool *p = ss_pool_alloc(&kind, &ctx, 4, 600.0, &err);
 *     for (...) ss_pool_submit(p, id, &req, sizeof req, &err);
 *     while (ss_pool_pending(p)) {
 *         ss_pool_reply r;  int got;
 *         if (ss_pool_next(p, -1, &r, &got, &err)) break;
 *         if (got) { ... r.id, r.status, r.data ...; free(r.data); }
 *     }
 *     ss_pool_free(p);
 */
#ifndef SS_POOL_H
#define SS_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/ss_util.h"

/* ---- the worker pool ------------------------------------------------------ */

/* A job kind.  All three functions run in a worker process. */
typedef struct ss_pool_kind {
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
} ss_pool_kind;

typedef struct ss_pool ss_pool;

/* A finished job, or a message of a running one. */
typedef struct ss_pool_reply {
    uint64_t id;     /* as submitted */
    int status;      /* the kind's status, SS_ETIMEOUT or SS_ECRASH */
    char msg[SS_ERROR_MSG_MAX];
    char *data;      /* reply bytes (heap, NUL-terminated; free with free()) */
    size_t len;
    double seconds;  /* wall clock from dispatch (or the job's last message) to reply */
    int message;     /* 1: bytes the running job sent with ss_pool_job_message;
                      * the job waits for ss_pool_answer */
} ss_pool_reply;

/* A pool of `workers` processes forked from the caller on demand (so they
 * inherit `arg` and everything else the caller prepared).  `timeout` is the
 * wall-clock limit per job in seconds (0: none). */
ss_pool *ss_pool_alloc(const ss_pool_kind *kind, void *arg, int workers, double timeout,
                       ss_error *err);
/* Queues a job (the request is copied). */
int ss_pool_submit(ss_pool *p, uint64_t id, const void *req, size_t len, ss_error *err);
/* Jobs queued or running. */
size_t ss_pool_pending(const ss_pool *p);
/* Jobs the pool runs at once: its workers, plus those of the other MPI
 * ranks for a pool from ss_pool_alloc_ranks. */
size_t ss_pool_capacity(const ss_pool *p);
/* Dispatches queued jobs and waits up to `max_wait` seconds (< 0: until
 * one finishes) for a finished job.  *got is 1 when `out` was filled, 0
 * when the wait elapsed or nothing is pending.  A timed-out or crashed
 * worker is killed, reaped and replaced; only its job fails. */
int ss_pool_next(ss_pool *p, double max_wait, ss_pool_reply *out, int *got, ss_error *err);
/* Conversations: a job that runs alongside the caller (a simulation that
 * exchanges data with it at fixed points) sends bytes from inside the
 * kind's `run` with ss_pool_job_message and waits; the caller receives
 * them from ss_pool_next as a reply with `message` set (status SS_OK) and
 * lets the job go on with ss_pool_answer.  The job keeps its worker until
 * it returns; a worker waiting for an answer is never timed out (the
 * timeout counts from the job's last message or answer).  Local pools
 * only: on MPI ranks the message fails. */
/* In a worker, inside `run`: sends `len` bytes to the caller and waits for
 * its answer (into `answer`, emptied first).  SS_EIO if the caller is gone. */
int ss_pool_job_message(const void *msg, size_t len, ss_buf *answer, ss_error *err);
/* Answers the message of job `id` with `len` bytes (data NULL: refuses it,
 * failing the job's ss_pool_job_message).  SS_ENOTFOUND if the job is not
 * waiting.  A worker that died meanwhile is reported by ss_pool_next. */
int ss_pool_answer(ss_pool *p, uint64_t id, const void *data, size_t len, ss_error *err);
/* Like ss_pool_alloc, but under MPI (make MPI=1, more than one rank,
 * called on rank 0 after ss_pool_mpi_init) jobs also go to the other ranks,
 * each running `workers` jobs at a time in ss_pool_serve; replies come
 * back through ss_pool_next as if local.  Elsewhere a local pool. */
ss_pool *ss_pool_alloc_ranks(const ss_pool_kind *kind, void *arg, int workers, double timeout,
                             ss_error *err);
/* On an MPI rank other than 0: runs the jobs that rank 0's pool sends on a
 * local pool of `workers` processes (same kind and an equal `arg`), until
 * rank 0 frees that pool or calls ss_pool_mpi_release.  Timeouts and
 * crashes are handled here and reported as failed jobs. */
int ss_pool_serve(const ss_pool_kind *kind, void *arg, int workers, double timeout,
                  ss_error *err);
/* Workers that retired because their resident memory passed
 * SS_LIMIT_WORKER_RSS (SMALLSIM_MAX_WORKER_RSS): each leaves after its
 * reply and a fresh fork takes the next job. */
size_t ss_pool_recycled(const ss_pool *p);
/* Process id of worker i (0 if not running), for tests and monitoring. */
int ss_pool_worker_pid(const ss_pool *p, int i);
/* Kills and reaps every worker, drops queued jobs (NULL: nothing). */
void ss_pool_free(ss_pool *p);

/* ---- MPI (make MPI=1) ------------------------------------------------------ */

/* 1 when built with MPI. */
int ss_pool_mpi_built(void);
/* Initialises MPI when built with it and started by mpirun; *rank and
 * *size get 0 and 1 otherwise.  Call before anything else forks. */
int ss_pool_mpi_init(int *rank, int *size, ss_error *err);
void ss_pool_mpi_finalize(void);
/* Ends MPI use with the program's exit status.  When a rank was given up
 * (it stopped answering: no heartbeat for SMALLSIM_RANK_DEADLINE seconds,
 * default 30, while it had jobs; its jobs ran elsewhere), MPI_Finalize
 * would wait for it for ever, so rank 0 ends every rank with
 * MPI_Abort(status) instead; mpirun then exits with `status`.
 * ss_pool_mpi_finalize() is ss_pool_mpi_end(0). */
void ss_pool_mpi_end(int status);
/* Ranks given up on rank 0 so far. */
size_t ss_pool_mpi_lost(void);
/* Rank 0: lets the ranks waiting in ss_pool_serve return (freeing a pool
 * from ss_pool_alloc_ranks does it; call it when no such pool will be made,
 * e.g. after a failure).  Idempotent; nothing without MPI. */
void ss_pool_mpi_release(void);

/* ---- the results journal ---------------------------------------------------- */

typedef struct ss_pool_journal ss_pool_journal;

/* Reads the job numbers already present in a journal whose header must
 * equal `header`.  A torn last line (no newline) is ignored; *valid_len is
 * the length of the file up to the last complete row.  done[j] is set for
 * j < njobs.  A missing file is SS_OK with nothing done.  Errors name the
 * file and line. */
int ss_pool_journal_scan(const char *path, const char *header, unsigned char *done,
                         size_t njobs, long *valid_len, ss_error *err);
/* Opens (creates) `path` with `header` and holds an exclusive lock on it
 * while open: a second run on the same file is refused (SS_EBUSY).  An
 * existing non-empty file is refused unless `resume`; then its header must
 * equal `header`, done[j] is set for every job j < njobs it holds
 * (*skipped counts them) and a torn last row is cut off.  `settings` (may
 * be NULL) is text describing everything that shapes the rows (one
 * setting a line): it is kept in PATH.settings, and a resume with other
 * settings is refused naming the first line that differs.  Rows start
 * with the job number; failures also go to PATH.log.  NULL on failure. */
ss_pool_journal *ss_pool_journal_open(const char *path, const char *header, const char *settings,
                                      int resume, unsigned char *done, size_t njobs,
                                      size_t *skipped, ss_error *err);
/* Appends one row (with its newline) and syncs it to disk. */
int ss_pool_journal_append(ss_pool_journal *j, const char *row, ss_error *err);
/* Writes "job J: STATUS: MSG" to PATH.log. */
void ss_pool_journal_log(ss_pool_journal *j, uint64_t job, const char *status, const char *msg);
/* Closes the file (NULL: nothing). */
void ss_pool_journal_close(ss_pool_journal *j);
/* Rewrites a closed, complete journal with its rows in job order (rows
 * are appended as jobs finish); a torn last row is dropped. */
int ss_pool_journal_sort(const char *path, ss_error *err);

#endif
