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

#ifdef SS_MPI
#include <mpi.h>

static int mpi_rank, mpi_size = 1, mpi_started;

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
    }
    *rank = mpi_rank;
    *size = mpi_size;
    return SS_OK;
}

void ss_pool_mpi_finalize(void)
{
    if (mpi_started)
        MPI_Finalize();
    mpi_started = 0;
    mpi_size = 1;
}

/* ---- a pool that spans the ranks (ss_pool_alloc_ranks) ------------------ */

enum { TAG_JOB = 3, TAG_REPLY = 4, TAG_END = 5 };
static int ranks_released;

struct pooli_ranks {
    int cap;        /* jobs in flight per rank */
    int *inflight;  /* per rank (index 0 unused) */
    int next;       /* rank to try first */
    size_t outstanding;
    ss_buf msg;
};

pooli_ranks *pooli_ranks_alloc(int workers)
{
    if (!mpi_started || mpi_size < 2 || mpi_rank != 0 || ranks_released)
        return NULL;
    pooli_ranks *r = calloc(1, sizeof *r);
    if (!r || !(r->inflight = calloc((size_t)mpi_size, sizeof *r->inflight))) {
        free(r);
        return NULL; /* the pool stays local */
    }
    r->cap = workers > 0 ? workers : 1;
    r->next = 1;
    return r;
}

int pooli_ranks_send(pooli_ranks *r, uint64_t id, const char *req, size_t len)
{
    for (int k = 0; k < mpi_size - 1; k++) {
        int dest = 1 + (r->next - 1 + k) % (mpi_size - 1);
        if (r->inflight[dest] >= r->cap)
            continue;
        r->msg.len = 0;
        if (ss_buf_add(&r->msg, (const char *)&id, sizeof id) || ss_buf_add(&r->msg, req, len))
            MPI_Abort(MPI_COMM_WORLD, 1); /* out of memory: the other ranks would wait */
        MPI_Send(r->msg.data, (int)r->msg.len, MPI_CHAR, dest, TAG_JOB, MPI_COMM_WORLD);
        r->inflight[dest]++;
        r->outstanding++;
        r->next = 1 + dest % (mpi_size - 1);
        return 1;
    }
    return 0;
}

/* Reply message: u64 id, i32 status, f64 seconds, u32 message length,
 * message, data. */
int pooli_ranks_poll(pooli_ranks *r, ss_pool_reply *out)
{
    int flag = 0, count = 0;
    MPI_Status st;
    if (!r->outstanding)
        return 0;
    MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPLY, MPI_COMM_WORLD, &flag, &st);
    if (!flag)
        return 0;
    MPI_Get_count(&st, MPI_CHAR, &count);
    char *in = malloc((size_t)count + 1);
    if (!in)
        MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Recv(in, count, MPI_CHAR, st.MPI_SOURCE, TAG_REPLY, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    r->inflight[st.MPI_SOURCE]--;
    r->outstanding--;
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

size_t pooli_ranks_outstanding(const pooli_ranks *r)
{
    return r->outstanding;
}

size_t pooli_ranks_capacity(const pooli_ranks *r)
{
    return (size_t)r->cap * (size_t)(mpi_size - 1);
}

void ss_pool_mpi_release(void)
{
    if (!mpi_started || mpi_size < 2 || mpi_rank != 0 || ranks_released)
        return;
    char end = 0;
    for (int k = 1; k < mpi_size; k++)
        MPI_Send(&end, 1, MPI_CHAR, k, TAG_END, MPI_COMM_WORLD);
    ranks_released = 1;
}

void pooli_ranks_free(pooli_ranks *r)
{
    if (!r)
        return;
    /* replies of jobs still out (a pool freed early) are received and dropped */
    while (r->outstanding) {
        MPI_Status st;
        int count = 0;
        MPI_Probe(MPI_ANY_SOURCE, TAG_REPLY, MPI_COMM_WORLD, &st);
        MPI_Get_count(&st, MPI_CHAR, &count);
        char *in = malloc((size_t)count + 1);
        if (!in)
            MPI_Abort(MPI_COMM_WORLD, 1);
        MPI_Recv(in, count, MPI_CHAR, st.MPI_SOURCE, TAG_REPLY, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        free(in);
        r->outstanding--;
    }
    ss_pool_mpi_release();
    ss_buf_release(&r->msg);
    free(r->inflight);
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
    for (;;) {
        int flag = 0, count = 0;
        MPI_Status st;
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
            if (st.MPI_TAG == TAG_END)
                break;
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
