/* mpi.c: a worker pool that spans MPI ranks (make MPI=1).
 *
 * Rank 0 owns the pool (ss_pool_alloc_ranks): it runs `workers` jobs in
 * local worker processes and sends the rest to the other ranks, at most
 * `workers` in flight per rank.  Every other rank sits in ss_pool_serve,
 * running what it receives on its own local pool and sending each reply
 * back; rank 0's ss_pool_next returns remote replies as if they were local.
 * Freeing the pool (or ss_pool_mpi_release) ends the other ranks' serving.
 * Workers are forked, never exec'ed, and never touch MPI.  Without MPI this
 * file only provides stubs. */
#include "pool/pool_private.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SS_MPI
#include <mpi.h>

static int mpi_rank, mpi_size = 1, mpi_started;
static size_t ranks_lost;          /* ranks given up by rank 0 (see below) */
static unsigned char *rank_dead;   /* rank 0: which ones */

int ss_pool_mpi_built(void)
{
    return 1;
}

int ss_pool_mpi_init(int *rank, int *size, ss_error *err)
{
    *rank = 0;
    *size = 1;
    /* Only when started by a launcher: a plain run stays MPI-free. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
        return SS_OK;
    /* Workers are forked (never exec'ed) and never touch MPI. */
    setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
    if (!mpi_started) {
        if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
            return ss_error_set(err, SS_EIO, "MPI_Init failed");
        mpi_started = 1;
        MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
        MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
        if (!(rank_dead = calloc((size_t)mpi_size, 1)))
            MPI_Abort(MPI_COMM_WORLD, 1); /* the other ranks would wait */
    }
    *rank = mpi_rank;
    *size = mpi_size;
    return SS_OK;
}

void ss_pool_mpi_end(int status)
{
    if (mpi_started && mpi_rank == 0 && ranks_lost) {
        /* MPI_Finalize would wait for the rank given up: end them all */
        fflush(NULL);
        MPI_Abort(MPI_COMM_WORLD, status);
    }
    if (mpi_started)
        MPI_Finalize();
    free(rank_dead);
    rank_dead = NULL;
    mpi_started = 0;
    mpi_size = 1;
}

void ss_pool_mpi_finalize(void)
{
    ss_pool_mpi_end(0);
}

/* ---- a pool that spans the ranks (ss_pool_alloc_ranks) ------------------ */

/* A rank that stops answering (stopped, hung, unreachable, but not dead,
 * so MPI reports nothing) must not hold the run: every serving rank sends
 * a heartbeat each BEAT seconds while it has jobs, and rank 0 gives up a
 * rank that has jobs out and has not been heard from for the deadline
 * (SMALLSIM_RANK_DEADLINE seconds, default 30): its jobs go back into
 * the queue and run elsewhere, anything it sends later is dropped, and
 * ss_pool_mpi_end ends every rank with MPI_Abort instead of waiting for it
 * in MPI_Finalize.  At the end each serving rank answers TAG_END with
 * TAG_BYE; one that does not within the deadline (stopped while idle) is
 * given up too. */
enum { TAG_JOB = 3, TAG_REPLY = 4, TAG_END = 5, TAG_BEAT = 6, TAG_BYE = 7 };
#define BEAT 1.0
static int ranks_released;

typedef struct rjob {
    uint64_t id;
    int rank;
    char *req; /* a copy, to run again elsewhere if the rank is given up */
    size_t len;
} rjob;

struct pooli_ranks {
    int cap;        /* jobs in flight per rank */
    int *inflight;  /* per rank (index 0 unused) */
    double *heard;  /* when each rank was last heard from */
    int next;       /* rank to try first */
    size_t outstanding;
    double deadline;
    rjob *jobs;     /* jobs out on other ranks (njobs), then lost ones to requeue */
    size_t njobs, capjobs;
    ss_buf msg;
};

pooli_ranks *pooli_ranks_alloc(int workers)
{
    if (!mpi_started || mpi_size < 2 || mpi_rank != 0 || ranks_released)
        return NULL;
    pooli_ranks *r = calloc(1, sizeof *r);
    if (!r || !(r->inflight = calloc((size_t)mpi_size, sizeof *r->inflight)) ||
        !(r->heard = calloc((size_t)mpi_size, sizeof *r->heard))) {
        if (r)
            free(r->inflight);
        free(r);
        return NULL; /* the pool stays local */
    }
    r->cap = workers > 0 ? workers : 1;
    r->next = 1;
    r->deadline = ss_util_limit(SS_LIMIT_RANK_SILENCE);
    return r;
}

int pooli_ranks_send(pooli_ranks *r, uint64_t id, const char *req, size_t len)
{
    for (int k = 0; k < mpi_size - 1; k++) {
        int dest = 1 + (r->next - 1 + k) % (mpi_size - 1);
        if (rank_dead[dest] || r->inflight[dest] >= r->cap)
            continue;
        if (r->njobs == r->capjobs) {
            size_t cap = r->capjobs ? 2 * r->capjobs : 16;
            rjob *j = realloc(r->jobs, cap * sizeof *j);
            if (!j)
                return 0; /* runs locally instead */
            r->jobs = j;
            r->capjobs = cap;
        }
        char *copy = malloc(len ? len : 1);
        if (!copy)
            return 0;
        memcpy(copy, req, len);
        r->msg.len = 0;
        if (ss_buf_add(&r->msg, (const char *)&id, sizeof id) || ss_buf_add(&r->msg, req, len))
            MPI_Abort(MPI_COMM_WORLD, 1); /* out of memory: the other ranks would wait */
        MPI_Send(r->msg.data, (int)r->msg.len, MPI_CHAR, dest, TAG_JOB, MPI_COMM_WORLD);
        if (!r->inflight[dest])
            r->heard[dest] = ss_util_now(); /* it was idle: the clock starts now */
        r->jobs[r->njobs++] = (rjob){id, dest, copy, len};
        r->inflight[dest]++;
        r->outstanding++;
        r->next = 1 + dest % (mpi_size - 1);
        return 1;
    }
    return 0;
}

/* Gives up ranks that have jobs out and have been silent past the
 * deadline: their jobs are marked for requeueing (rank -1). */
static void check_deadlines(pooli_ranks *r)
{
    double now = ss_util_now();
    for (int k = 1; k < mpi_size; k++) {
        if (rank_dead[k] || !r->inflight[k] || now - r->heard[k] <= r->deadline)
            continue;
        rank_dead[k] = 1;
        ranks_lost++;
        r->outstanding -= (size_t)r->inflight[k];
        r->inflight[k] = 0;
        for (size_t j = 0; j < r->njobs; j++)
            if (r->jobs[j].rank == k)
                r->jobs[j].rank = -1;
    }
}

int pooli_ranks_lost(pooli_ranks *r, uint64_t *id, char **req, size_t *len)
{
    if (!r)
        return 0;
    for (size_t j = 0; j < r->njobs; j++)
        if (r->jobs[j].rank < 0) {
            *id = r->jobs[j].id;
            *req = r->jobs[j].req;
            *len = r->jobs[j].len;
            r->jobs[j] = r->jobs[--r->njobs];
            return 1;
        }
    return 0;
}

/* Reply message: u64 id, i32 status, f64 seconds, u32 message length,
 * message, data.  Heartbeats and messages of ranks given up are consumed
 * here. */
int pooli_ranks_poll(pooli_ranks *r, ss_pool_reply *out)
{
    for (;;) {
        int flag = 0, count = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            check_deadlines(r);
            return 0;
        }
        MPI_Get_count(&st, MPI_CHAR, &count);
        char *in = malloc((size_t)count + 1);
        if (!in)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Recv(in, count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        int src = st.MPI_SOURCE;
        if (src > 0 && src < mpi_size && !rank_dead[src])
            r->heard[src] = ss_util_now();
        if (st.MPI_TAG != TAG_REPLY || src <= 0 || src >= mpi_size || rank_dead[src]) {
            free(in); /* a heartbeat, or a late word from a rank given up */
            continue;
        }
        memset(out, 0, sizeof *out);
        int32_t status;
        uint32_t mlen;
        size_t head = sizeof out->id + sizeof status + sizeof out->seconds + sizeof mlen;
        if ((size_t)count < head)
            MPI_Abort(MPI_COMM_WORLD, 1);
        const char *q = in;
        memcpy(&out->id, q, sizeof out->id), q += sizeof out->id;
        memcpy(&status, q, sizeof status), q += sizeof status;
        memcpy(&out->seconds, q, sizeof out->seconds), q += sizeof out->seconds;
        memcpy(&mlen, q, sizeof mlen), q += sizeof mlen;
        if (mlen >= sizeof out->msg || head + mlen > (size_t)count)
            MPI_Abort(MPI_COMM_WORLD, 1);
        /* the job's copy is no longer needed */
        for (size_t j = 0; j < r->njobs; j++)
            if (r->jobs[j].id == out->id && r->jobs[j].rank == src) {
                free(r->jobs[j].req);
                r->jobs[j] = r->jobs[--r->njobs];
                break;
            }
        r->inflight[src]--;
        r->outstanding--;
        out->status = status;
        memcpy(out->msg, q, mlen);
        out->msg[mlen] = '\0';
        /* the data stays in `in`, moved to the front and NUL-terminated */
        out->len = (size_t)count - head - mlen;
        memmove(in, q + mlen, out->len);
        in[out->len] = '\0';
        out->data = in;
        return 1;
    }
}

size_t pooli_ranks_outstanding(const pooli_ranks *r)
{
    return r->outstanding;
}

size_t pooli_ranks_capacity(const pooli_ranks *r)
{
    size_t live = 0;
    for (int k = 1; k < mpi_size; k++)
        live += !rank_dead[k];
    return (size_t)r->cap * live;
}

size_t ss_pool_mpi_lost(void)
{
    return ranks_lost;
}

void ss_pool_mpi_release(void)
{
    if (!mpi_started || mpi_size < 2 || mpi_rank != 0 || ranks_released)
        return;
    char end = 0;
    int waiting = 0;
    for (int k = 1; k < mpi_size; k++)
        if (!rank_dead[k]) {
            MPI_Send(&end, 1, MPI_CHAR, k, TAG_END, MPI_COMM_WORLD);
            waiting++;
        }
    ranks_released = 1;
    /* every live rank says goodbye; heartbeats and late replies are dropped */
    unsigned char *bye = calloc((size_t)mpi_size, 1);
    if (!bye)
        MPI_Abort(MPI_COMM_WORLD, 1);
    double deadline = ss_util_limit(SS_LIMIT_RANK_SILENCE), t0 = ss_util_now();
    while (waiting > 0 && ss_util_now() - t0 <= deadline) {
        int flag = 0, count = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            usleep(2000);
            continue;
        }
        MPI_Get_count(&st, MPI_CHAR, &count);
        char *in = malloc((size_t)count + 1);
        if (!in)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Recv(in, count, MPI_CHAR, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        free(in);
        int src = st.MPI_SOURCE;
        if (st.MPI_TAG == TAG_BYE && src > 0 && src < mpi_size && !rank_dead[src] && !bye[src]) {
            bye[src] = 1;
            waiting--;
        }
    }
    for (int k = 1; k < mpi_size; k++)
        if (!rank_dead[k] && !bye[k]) {
            rank_dead[k] = 1;
            ranks_lost++;
        }
    free(bye);
}

void pooli_ranks_free(pooli_ranks *r)
{
    if (!r)
        return;
    /* replies of jobs still out (a pool freed early) are received and
     * dropped; a rank that stops answering meanwhile is given up */
    ss_pool_reply rep;
    while (r->outstanding) {
        if (pooli_ranks_poll(r, &rep))
            free(rep.data);
        else
            usleep(2000);
    }
    ss_pool_mpi_release();
    ss_buf_release(&r->msg);
    for (size_t j = 0; j < r->njobs; j++)
        free(r->jobs[j].req);
    free(r->jobs);
    free(r->inflight);
    free(r->heard);
    free(r);
}

int ss_pool_serve(const ss_pool_kind *kind, void *arg, int workers, double timeout,
                        ss_error *err)
{
    if (!mpi_started || mpi_rank == 0)
        return ss_error_set(err, SS_EINVAL, "ss_pool_serve: not an MPI rank other "
                            "than 0");
    ss_pool *pool = ss_pool_alloc(kind, arg, workers, timeout, err);
    if (!pool)
        MPI_Abort(MPI_COMM_WORLD, 1); /* rank 0 would wait for our replies forever */
    ss_buf out = SS_BUF_INIT;
    char *in = NULL;
    int rc = SS_OK;
    double beat = ss_util_now();
    for (;;) {
        int flag = 0, count = 0;
        MPI_Status st;
        /* alive, with jobs: rank 0 gives up ranks that fall silent */
        if (ss_pool_pending(pool) && ss_util_now() - beat >= BEAT) {
            char b = 0;
            MPI_Send(&b, 1, MPI_CHAR, 0, TAG_BEAT, MPI_COMM_WORLD);
            beat = ss_util_now();
        }
        if (ss_pool_pending(pool)) {
            MPI_Iprobe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        } else {
            MPI_Probe(0, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            flag = 1;
        }
        if (flag) {
            MPI_Get_count(&st, MPI_CHAR, &count);
            free(in);
            if (!(in = malloc((size_t)count + 1)))
                MPI_Abort(MPI_COMM_WORLD, 1);
            MPI_Recv(in, count, MPI_CHAR, 0, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (st.MPI_TAG == TAG_END) {
                char b = 0;
                MPI_Send(&b, 1, MPI_CHAR, 0, TAG_BYE, MPI_COMM_WORLD);
                break;
            }
            uint64_t id;
            if (st.MPI_TAG != TAG_JOB || (size_t)count < sizeof id)
                MPI_Abort(MPI_COMM_WORLD, 1);
            memcpy(&id, in, sizeof id);
            if ((rc = ss_pool_submit(pool, id, in + sizeof id, (size_t)count - sizeof id,
                                           err)))
                MPI_Abort(MPI_COMM_WORLD, 1);
            continue; /* take every job on offer before waiting for one */
        }
        ss_pool_reply rep;
        int got = 0;
        if ((rc = ss_pool_next(pool, 0.002, &rep, &got, err)))
            MPI_Abort(MPI_COMM_WORLD, 1);
        if (!got)
            continue;
        if (rep.message) { /* conversations need a local pool: refuse */
            free(rep.data);
            ss_pool_answer(pool, rep.id, NULL, 0, NULL);
            continue;
        }
        int32_t status = rep.status;
        uint32_t mlen = (uint32_t)strlen(rep.msg);
        out.len = 0;
        if (ss_buf_add(&out, (const char *)&rep.id, sizeof rep.id) ||
            ss_buf_add(&out, (const char *)&status, sizeof status) ||
            ss_buf_add(&out, (const char *)&rep.seconds, sizeof rep.seconds) ||
            ss_buf_add(&out, (const char *)&mlen, sizeof mlen) || ss_buf_add(&out, rep.msg, mlen) ||
            ss_buf_add(&out, rep.data ? rep.data : "", rep.len))
            MPI_Abort(MPI_COMM_WORLD, 1);
        free(rep.data);
        MPI_Send(out.data, (int)out.len, MPI_CHAR, 0, TAG_REPLY, MPI_COMM_WORLD);
    }
    free(in);
    ss_buf_release(&out);
    ss_pool_free(pool);
    return rc;
}

#else /* !SS_MPI */

int ss_pool_mpi_built(void)
{
    return 0;
}

int ss_pool_mpi_init(int *rank, int *size, ss_error *err)
{
    (void)err;
    *rank = 0;
    *size = 1;
    return SS_OK;
}

void ss_pool_mpi_finalize(void)
{
}

void ss_pool_mpi_end(int status)
{
    (void)status;
}

size_t ss_pool_mpi_lost(void)
{
    return 0;
}

int pooli_ranks_lost(pooli_ranks *r, uint64_t *id, char **req, size_t *len)
{
    (void)r, (void)id, (void)req, (void)len;
    return 0;
}

pooli_ranks *pooli_ranks_alloc(int workers)
{
    (void)workers;
    return NULL;
}

int pooli_ranks_send(pooli_ranks *r, uint64_t id, const char *req, size_t len)
{
    (void)r, (void)id, (void)req, (void)len;
    return 0;
}

int pooli_ranks_poll(pooli_ranks *r, ss_pool_reply *out)
{
    (void)r, (void)out;
    return 0;
}

size_t pooli_ranks_outstanding(const pooli_ranks *r)
{
    (void)r;
    return 0;
}

size_t pooli_ranks_capacity(const pooli_ranks *r)
{
    (void)r;
    return 0;
}

void pooli_ranks_free(pooli_ranks *r)
{
    (void)r;
}

void ss_pool_mpi_release(void)
{
}

int ss_pool_serve(const ss_pool_kind *kind, void *arg, int workers, double timeout,
                        ss_error *err)
{
    (void)kind, (void)arg, (void)workers, (void)timeout;
    return ss_error_set(err, SS_EINVAL, "smallsim was built without MPI (make MPI=1)");
}

#endif
