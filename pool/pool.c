/* pool.c: a pool of forked worker processes that run jobs of one kind
 * (request bytes -> reply bytes) with a wall-clock timeout per job and
 * crash isolation.  Each worker talks to the parent over one socket pair:
 *   request: u64 length, bytes
 *   reply:   i32 status, u32 message length, u64 data length, u32 message
 *            flag, u32 0, message, data
 * A running job may also send messages (the flag set, no status or text)
 * and wait for the parent's answer (u64 length, bytes; a length of
 * ANSWER_REFUSED fails the job's ss_pool_job_message instead).
 * Workers are forked on demand, so they inherit whatever the caller set up
 * (a parsed netlist, a job list); a worker that times out or dies is killed,
 * reaped and replaced by a fresh fork at its next job. */
#include "pool/pool_private.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct worker {
    pid_t pid;   /* 0: not running */
    int fd;      /* parent's end of the socket pair, -1 if none */
    int busy;
    int waiting; /* its job sent a message and waits for ss_pool_answer */
    uint64_t id; /* job being run */
    double start; /* dispatch, or the job's last message or answer */
} worker;

typedef struct qjob {
    uint64_t id;
    char *req;
    size_t len;
} qjob;

struct ss_pool {
    const ss_pool_kind *kind;
    void *arg;
    int nworkers;
    double timeout;
    worker *w;
    qjob *q; /* FIFO: q[head .. head+qlen) in a ring of qcap */
    size_t head, qlen, qcap;
    size_t running;
    pooli_ranks *ranks; /* other MPI ranks taking jobs (NULL: none) */
    size_t recycled;    /* workers retired at the memory threshold */
};

/* Longest wait for a local reply while other ranks have jobs (MPI has no
 * descriptor to poll). */
#define RANKS_POLL 0.002

/* ---- byte I/O -------------------------------------------------------------- */

static int write_full(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* 0 on success, -1 on error or end of file. */
static int read_full(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t k = read(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ---- the worker process -------------------------------------------------- */

typedef struct reply_head {
    int32_t status;
    uint32_t msglen;
    uint64_t datalen;
    uint32_t message; /* 1: a message of a running job, not its end */
    uint32_t retire;  /* 1: the worker leaves after this reply (memory threshold) */
} reply_head;

#define ANSWER_REFUSED UINT64_MAX

/* The socket of the job running in this worker process (a worker runs one
 * job at a time); -1 outside a worker. */
static int job_fd = -1;

int ss_pool_job_message(const void *msg, size_t len, ss_buf *answer, ss_error *err)
{
    if (job_fd < 0)
        return ss_error_set(err, SS_EINVAL, "worker pool: a job message outside a worker");
    reply_head h = {0, 0, len, 1, 0};
    uint64_t alen;
    if (write_full(job_fd, &h, sizeof h) || write_full(job_fd, msg ? msg : "", len) ||
        read_full(job_fd, &alen, sizeof alen))
        return ss_error_set(err, SS_EIO, "worker pool: the parent is gone");
    if (alen == ANSWER_REFUSED)
        return ss_error_set(err, SS_EINVAL, "worker pool: job messages need a local pool "
                                            "(not MPI ranks)");
    answer->len = 0;
    char chunk[4096];
    while (alen) {
        size_t k = alen < sizeof chunk ? (size_t)alen : sizeof chunk;
        if (read_full(job_fd, chunk, k))
            return ss_error_set(err, SS_EIO, "worker pool: the parent is gone");
        if (ss_buf_add(answer, chunk, k))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        alen -= k;
    }
    if (!answer->data && ss_buf_add(answer, "", 0))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return SS_OK;
}

/* A second line of defence against memory that failed runs leave behind
 * inside ngspice: a worker whose resident size passed SS_LIMIT_WORKER_RSS
 * retires after its reply and is replaced by a fresh fork at the next job. */
static int over_memory(void)
{
    long kb = ss_util_rss_kb();
    return kb > 0 && 1024.0 * (double)kb > ss_util_limit(SS_LIMIT_WORKER_RSS);
}

static void worker_main(ss_pool *p, int fd)
{
    job_fd = fd;
    void *state = NULL;
    int started = p->kind->start == NULL;
    for (;;) {
        uint64_t len;
        if (read_full(fd, &len, sizeof len))
            break;
        char *req = malloc(len + 1);
        if (!req || read_full(fd, req, len))
            break;
        req[len] = '\0';
        ss_buf reply = SS_BUF_INIT;
        ss_error e;
        ss_error_clear(&e);
        int st = SS_OK;
        if (!started) {
            st = p->kind->start(p->arg, &state, &e);
            started = st == SS_OK;
        }
        if (!st)
            st = p->kind->run(state, p->arg, req, len, &reply, &e);
        free(req);
        if (st && !e.msg[0])
            ss_error_set(&e, st, "%s", ss_strerror(st));
        reply_head h = {st, st ? (uint32_t)strlen(e.msg) : 0, reply.len, 0, over_memory()};
        int bad = write_full(fd, &h, sizeof h) || write_full(fd, e.msg, h.msglen) ||
                  write_full(fd, reply.data ? reply.data : "", reply.len);
        ss_buf_release(&reply);
        if (bad || h.retire)
            break;
    }
    if (started && p->kind->stop)
        p->kind->stop(state, p->arg);
}

static int spawn(ss_pool *p, int i, ss_error *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return ss_error_set(err, SS_EIO, "worker: socketpair: %s", strerror(errno));
    pid_t parent = getpid();
    /* A child that ends through exit() (ngspice can) must not repeat the
     * caller's buffered output. */
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return ss_error_set(err, SS_ECRASH, "worker: fork: %s", strerror(errno));
    }
    if (pid == 0) {
        /* Die with the parent; leave Ctrl-C to the parent, so an interrupted
         * sweep records no job as crashed. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        signal(SIGINT, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        ss_util_crash_by_signal();
        close(sv[0]);
        for (int k = 0; k < p->nworkers; k++)
            if (p->w[k].fd >= 0)
                close(p->w[k].fd);
        worker_main(p, sv[1]);
        _exit(0);
    }
    close(sv[1]);
    p->w[i].pid = pid;
    p->w[i].fd = sv[0];
    p->w[i].busy = 0;
    return SS_OK;
}

/* Kills (if asked) and reaps worker i; fills `why` with how it ended. */
static void reap(ss_pool *p, int i, int kill_it, char *why, size_t whysz)
{
    worker *w = &p->w[i];
    int st = 0;
    if (w->fd >= 0)
        close(w->fd);
    if (w->pid > 0) {
        if (kill_it)
            kill(w->pid, SIGKILL);
        while (waitpid(w->pid, &st, 0) < 0 && errno == EINTR)
            ;
    }
    if (why) {
        if (WIFSIGNALED(st))
            snprintf(why, whysz, "worker killed by signal %d (%s)", WTERMSIG(st),
                     strsignal(WTERMSIG(st)));
        else
            snprintf(why, whysz, "worker exited with status %d", WEXITSTATUS(st));
    }
    if (w->busy)
        p->running--;
    w->pid = 0;
    w->fd = -1;
    w->busy = 0;
    w->waiting = 0;
}

/* ---- the parent's side ---------------------------------------------------- */

ss_pool *ss_pool_alloc(const ss_pool_kind *kind, void *arg, int workers,
                                   double timeout, ss_error *err)
{
    if (!kind || !kind->run) {
        ss_error_set(err, SS_EINVAL, "worker pool: no job kind");
        return NULL;
    }
    if (workers < 1)
        workers = 1;
    if (workers > 1024) {
        ss_error_set(err, SS_EINVAL, "worker pool: %d workers is too many", workers);
        return NULL;
    }
    ss_pool *p = calloc(1, sizeof *p);
    if (p)
        p->w = calloc((size_t)workers, sizeof *p->w);
    if (!p || !p->w) {
        free(p);
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    p->kind = kind;
    p->arg = arg;
    p->nworkers = workers;
    p->timeout = timeout > 0 ? timeout : 0;
    for (int i = 0; i < workers; i++)
        p->w[i].fd = -1;
    return p;
}

int ss_pool_submit(ss_pool *p, uint64_t id, const void *req, size_t len,
                         ss_error *err)
{
    if (p->qlen == p->qcap) {
        size_t cap = p->qcap ? 2 * p->qcap : 64;
        qjob *q = malloc(cap * sizeof *q);
        if (!q)
            return ss_error_set(err, SS_ENOMEM, "out of memory queueing job %llu",
                                (unsigned long long)id);
        for (size_t k = 0; k < p->qlen; k++)
            q[k] = p->q[(p->head + k) % p->qcap];
        free(p->q);
        p->q = q;
        p->qcap = cap;
        p->head = 0;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return ss_error_set(err, SS_ENOMEM, "out of memory queueing job %llu",
                            (unsigned long long)id);
    if (len)
        memcpy(copy, req, len);
    p->q[(p->head + p->qlen) % p->qcap] = (qjob){id, copy, len};
    p->qlen++;
    return SS_OK;
}

ss_pool *ss_pool_alloc_ranks(const ss_pool_kind *kind, void *arg, int workers,
                                         double timeout, ss_error *err)
{
    ss_pool *p = ss_pool_alloc(kind, arg, workers, timeout, err);
    if (p)
        p->ranks = pooli_ranks_alloc(p->nworkers);
    return p;
}

static size_t remote(const ss_pool *p)
{
    return p->ranks ? pooli_ranks_outstanding(p->ranks) : 0;
}

size_t ss_pool_pending(const ss_pool *p)
{
    return p->qlen + p->running + remote(p);
}

size_t ss_pool_capacity(const ss_pool *p)
{
    return (size_t)p->nworkers + (p->ranks ? pooli_ranks_capacity(p->ranks) : 0);
}

size_t ss_pool_recycled(const ss_pool *p)
{
    return p ? p->recycled : 0;
}

int ss_pool_worker_pid(const ss_pool *p, int i)
{
    return i >= 0 && i < p->nworkers ? (int)p->w[i].pid : 0;
}

static void fail_reply(ss_pool_reply *out, uint64_t id, int status, double seconds,
                       const char *msg)
{
    memset(out, 0, sizeof *out);
    out->id = id;
    out->status = status;
    out->seconds = seconds;
    snprintf(out->msg, sizeof out->msg, "%s", msg);
}

/* Hands queued jobs to idle workers.  A send that fails means the idle
 * worker is gone: the job fails as a crash (reported through *out). */
static int dispatch(ss_pool *p, ss_pool_reply *out, int *got, ss_error *err)
{
    for (int i = 0; i < p->nworkers && p->qlen; i++) {
        worker *w = &p->w[i];
        if (w->busy)
            continue;
        if (!w->pid) {
            int rc = spawn(p, i, err);
            if (rc)
                return rc;
        }
        qjob j = p->q[p->head];
        p->head = (p->head + 1) % p->qcap;
        p->qlen--;
        uint64_t len = j.len;
        w->busy = 1;
        w->id = j.id;
        w->start = ss_util_now();
        p->running++;
        int bad = write_full(w->fd, &len, sizeof len) || write_full(w->fd, j.req, j.len);
        free(j.req);
        if (bad) {
            char why[256];
            reap(p, i, 1, why, sizeof why);
            fail_reply(out, j.id, SS_ECRASH, 0, why);
            *got = 1;
            return SS_OK;
        }
    }
    /* the rest to other ranks with room */
    while (p->ranks && p->qlen) {
        qjob j = p->q[p->head];
        if (!pooli_ranks_send(p->ranks, j.id, j.req, j.len))
            break;
        p->head = (p->head + 1) % p->qcap;
        p->qlen--;
        free(j.req);
    }
    return SS_OK;
}

/* Reads worker i's reply; on a short read the worker died. */
static void collect(ss_pool *p, int i, ss_pool_reply *out)
{
    worker *w = &p->w[i];
    reply_head h;
    double seconds = ss_util_now() - w->start;
    uint64_t id = w->id;
    char *data = NULL;
    memset(out, 0, sizeof *out);
    if (read_full(w->fd, &h, sizeof h) || h.msglen >= sizeof out->msg ||
        read_full(w->fd, out->msg, h.msglen) || h.datalen > ((uint64_t)1 << 34) ||
        !(data = malloc(h.datalen + 1)) || read_full(w->fd, data, h.datalen)) {
        char why[256];
        free(data);
        reap(p, i, 1, why, sizeof why);
        fail_reply(out, id, SS_ECRASH, seconds, why);
        return;
    }
    data[h.datalen] = '\0';
    out->msg[h.msglen] = '\0';
    out->id = id;
    out->status = h.status;
    out->data = data;
    out->len = h.datalen;
    out->seconds = seconds;
    if (h.message) { /* the job goes on, waiting for ss_pool_answer */
        out->message = 1;
        w->waiting = 1;
        w->start = ss_util_now();
        return;
    }
    w->busy = 0;
    p->running--;
    if (h.retire) {
        reap(p, i, 0, NULL, 0); /* it leaves by itself; a new one is forked */
        p->recycled++;
    }
}

int ss_pool_answer(ss_pool *p, uint64_t id, const void *data, size_t len, ss_error *err)
{
    for (int i = 0; i < p->nworkers; i++) {
        worker *w = &p->w[i];
        if (!w->busy || !w->waiting || w->id != id)
            continue;
        uint64_t n = data ? len : ANSWER_REFUSED;
        w->waiting = 0;
        w->start = ss_util_now();
        /* a worker that died meanwhile is reported by ss_pool_next */
        if (!write_full(w->fd, &n, sizeof n) && data)
            write_full(w->fd, data, len);
        return SS_OK;
    }
    return ss_error_set(err, SS_ENOTFOUND, "worker pool: job %llu is not waiting for an answer",
                        (unsigned long long)id);
}

/* Whether a reply (or the end of a dead worker) is waiting on fd: a job
 * that answered while the caller was busy elsewhere did not time out. */
static int readable(int fd)
{
    struct pollfd f = {fd, POLLIN, 0};
    return poll(&f, 1, 0) > 0;
}

int ss_pool_next(ss_pool *p, double max_wait, ss_pool_reply *out, int *got,
                       ss_error *err)
{
    *got = 0;
    double t0 = ss_util_now();
    struct pollfd *fds = NULL;
    int *idx = NULL, rc = SS_OK;
    for (;;) {
        rc = dispatch(p, out, got, err);
        if (rc || *got)
            break;
        if (p->ranks && pooli_ranks_poll(p->ranks, out)) {
            *got = 1;
            break;
        }
        /* jobs of a rank that stopped answering run again elsewhere */
        uint64_t lid;
        char *lreq;
        size_t llen;
        int requeued = 0;
        while (p->ranks && pooli_ranks_lost(p->ranks, &lid, &lreq, &llen)) {
            rc = ss_pool_submit(p, lid, lreq, llen, err);
            free(lreq);
            if (rc)
                goto out;
            requeued = 1;
        }
        if (requeued)
            continue; /* dispatch them */
        if (!p->running && !remote(p))
            break;
        double now = ss_util_now();
        /* Expired jobs first. */
        for (int i = 0; i < p->nworkers; i++) {
            worker *w = &p->w[i];
            if (w->busy && !w->waiting && p->timeout > 0 && now - w->start >= p->timeout &&
                !readable(w->fd)) {
                uint64_t id = w->id;
                double secs = now - w->start;
                reap(p, i, 1, NULL, 0);
                char msg[128];
                snprintf(msg, sizeof msg, "no result after %.3g s; worker killed", p->timeout);
                fail_reply(out, id, SS_ETIMEOUT, secs, msg);
                *got = 1;
                goto out;
            }
        }
        double wait = max_wait < 0 ? -1 : max_wait - (now - t0);
        if (max_wait >= 0 && wait <= 0)
            break;
        if (remote(p) && (wait < 0 || wait > RANKS_POLL))
            wait = RANKS_POLL;
        for (int i = 0; i < p->nworkers; i++) {
            worker *w = &p->w[i];
            if (w->busy && !w->waiting && p->timeout > 0) {
                double left = p->timeout - (now - w->start);
                if (wait < 0 || left < wait)
                    wait = left;
            }
        }
        if (!fds) {
            size_t nw = p->nworkers > 0 ? (size_t)p->nworkers : 1;
            fds = calloc(nw, sizeof *fds);
            idx = calloc(nw, sizeof *idx);
            if (!fds || !idx) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
        }
        int nf = 0;
        for (int i = 0; i < p->nworkers; i++)
            if (p->w[i].busy) {
                fds[nf].fd = p->w[i].fd;
                fds[nf].events = POLLIN;
                fds[nf].revents = 0;
                idx[nf++] = i;
            }
        int ms = wait < 0 ? -1 : (int)(wait * 1000.0) + 1;
        int k = poll(fds, (nfds_t)nf, ms);
        if (k < 0 && errno != EINTR) {
            rc = ss_error_set(err, SS_EIO, "worker pool: poll: %s", strerror(errno));
            break;
        }
        for (int f = 0; k > 0 && f < nf; f++)
            if (fds[f].revents) {
                collect(p, idx[f], out);
                *got = 1;
                goto out;
            }
    }
out:
    free(fds);
    free(idx);
    return rc;
}

void ss_pool_free(ss_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nworkers; i++)
        if (p->w[i].pid) {
            /* Idle workers leave on end of file; busy ones are killed. */
            int busy = p->w[i].busy;
            if (!busy && p->w[i].fd >= 0) {
                close(p->w[i].fd);
                p->w[i].fd = -1;
            }
            reap(p, i, busy, NULL, 0);
        }
    for (size_t k = 0; k < p->qlen; k++)
        free(p->q[(p->head + k) % p->qcap].req);
    pooli_ranks_free(p->ranks);
    free(p->q);
    free(p->w);
    free(p);
}
