/* isolated.c: one run in a forked child process, so that a hang or a crash
 * inside ngspice costs only that child, and so that the child can be
 * confined (ss_engine_confine) without confining the caller.  The parent
 * creates the child's run folder and removes it afterwards, whatever the
 * child did.  The child sends its status, message, transcript and result
 * back through a pipe in a simple length-prefixed form. */
#include "cosim/engine/engine_private.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(ss_buf *b, const void *p, size_t n)
{
    return ss_buf_add(b, p, n);
}

static int put_u64(ss_buf *b, uint64_t v)
{
    return put(b, &v, sizeof v);
}

static int put_str(ss_buf *b, const char *s)
{
    uint64_t n = s ? strlen(s) : 0;
    return put_u64(b, n) || put(b, s ? s : "", n);
}

static int serialize(ss_buf *b, int code, const char *msg, const char *transcript,
                     const ss_result *res)
{
    int rc = put_u64(b, (uint64_t)code) || put_str(b, msg) || put_str(b, transcript) ||
             put_u64(b, res->nplot);
    for (size_t i = 0; !rc && i < res->nplot; i++) {
        const ss_plot *p = &res->plot[i];
        rc = put_str(b, p->name) || put_str(b, p->type) || put_str(b, p->title) ||
             put_u64(b, (uint64_t)p->has_scale) || put_u64(b, p->nvec);
        for (size_t j = 0; !rc && j < p->nvec; j++) {
            const ss_vector *v = &p->vec[j];
            rc = put_str(b, v->name) || put_u64(b, (uint64_t)v->type) || put_u64(b, v->n) ||
                 put_u64(b, v->im != NULL) || put(b, v->re, v->n * sizeof(double));
            if (!rc && v->im)
                rc = put(b, v->im, v->n * sizeof(double));
        }
    }
    rc = rc || put_u64(b, res->nmeas);
    for (size_t i = 0; !rc && i < res->nmeas; i++) {
        const ss_measure *m = &res->meas[i];
        rc = put_str(b, m->name) || put_str(b, m->analysis) || put(b, &m->value, sizeof m->value) ||
             put_u64(b, (uint64_t)m->ok) || put_u64(b, (uint64_t)m->digits);
    }
    rc = rc || put_u64(b, res->printout != NULL) || put_str(b, res->printout) ||
         put_u64(b, (uint64_t)res->quit) || put_u64(b, (uint64_t)(int64_t)res->quit_status);
    return rc ? SS_ENOMEM : SS_OK;
}

struct reader {
    const char *p, *end;
};

static int get(struct reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return -1;
    memcpy(out, r->p, n);
    r->p += n;
    return 0;
}

static int get_u64(struct reader *r, uint64_t *v)
{
    return get(r, v, sizeof *v);
}

static char *get_str(struct reader *r)
{
    uint64_t n;
    if (get_u64(r, &n) || (uint64_t)(r->end - r->p) < n)
        return NULL;
    char *s = strndup(r->p, (size_t)n);
    r->p += n;
    return s;
}

static int deserialize(const char *data, size_t len, char **transcript, ss_result *res,
                       ss_error *err)
{
    struct reader r = {data, data + len};
    uint64_t code, nplot;
    char *msg = NULL, *tr = NULL;
    if (get_u64(&r, &code) || !(msg = get_str(&r)) || !(tr = get_str(&r)))
        goto bad;
    if (transcript) {
        free(*transcript);
        *transcript = tr;
    } else {
        free(tr);
    }
    if (get_u64(&r, &nplot))
        goto bad;
    if (code) {
        int c = ss_error_set(err, (int)code, "%s", msg);
        free(msg);
        return c;
    }
    free(msg);
    if (nplot > 1000)
        goto bad;
    res->plot = calloc(nplot ? nplot : 1, sizeof *res->plot);
    if (!res->plot)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < nplot; i++) {
        ss_plot *p = &res->plot[res->nplot++];
        uint64_t nvec, has_scale;
        if (!(p->name = get_str(&r)) || !(p->type = get_str(&r)) || !(p->title = get_str(&r)) ||
            get_u64(&r, &has_scale) || get_u64(&r, &nvec) || nvec > 1000000)
            goto bad;
        p->has_scale = has_scale != 0;
        p->vec = calloc(nvec ? nvec : 1, sizeof *p->vec);
        if (!p->vec)
            goto bad;
        for (uint64_t j = 0; j < nvec; j++) {
            ss_vector *v = &p->vec[p->nvec++];
            uint64_t type, n, cplx;
            if (!(v->name = get_str(&r)) || get_u64(&r, &type) || get_u64(&r, &n) ||
                get_u64(&r, &cplx) || n > (uint64_t)(r.end - r.p) / sizeof(double))
                goto bad;
            v->type = (int)type;
            v->n = (size_t)n;
            v->re = malloc((n ? n : 1) * sizeof(double));
            if (!v->re || get(&r, v->re, n * sizeof(double)))
                goto bad;
            if (cplx) {
                v->im = malloc((n ? n : 1) * sizeof(double));
                if (!v->im || get(&r, v->im, n * sizeof(double)))
                    goto bad;
            }
        }
    }
    uint64_t nmeas, has_printout, quit, status;
    if (get_u64(&r, &nmeas) || nmeas > (uint64_t)(r.end - r.p))
        goto bad;
    res->meas = calloc(nmeas ? nmeas : 1, sizeof *res->meas);
    if (!res->meas)
        goto bad;
    for (uint64_t i = 0; i < nmeas; i++) {
        ss_measure *m = &res->meas[res->nmeas++];
        uint64_t ok, digits;
        if (!(m->name = get_str(&r)) || !(m->analysis = get_str(&r)) ||
            get(&r, &m->value, sizeof m->value) || get_u64(&r, &ok) || get_u64(&r, &digits))
            goto bad;
        m->ok = ok != 0;
        m->digits = (int)digits;
    }
    char *printout = NULL;
    if (get_u64(&r, &has_printout) || !(printout = get_str(&r)) || get_u64(&r, &quit) ||
        get_u64(&r, &status)) {
        free(printout);
        goto bad;
    }
    if (has_printout)
        res->printout = printout;
    else
        free(printout);
    res->quit = quit != 0;
    res->quit_status = (int)(int64_t)status;
    return SS_OK;
bad:
    free(msg);
    ss_result_release(res);
    return ss_error_set(err, SS_ECRASH, "engine process sent a malformed result");
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void child(int fd, const ss_netlist *nl, const char *run_dir)
{
    ss_error err = {0, ""};
    ss_result res = SS_RESULT_INIT;
    ss_engine *eng = NULL;
    ss_buf out = SS_BUF_INIT;
    /* a child forked from a process with an engine inherits it */
    int rc = (eng = engi_current_engine()) ? SS_OK : ss_engine_open(&eng, &err);
    if (!rc)
        rc = ss_engine_confine(eng, nl, run_dir, NULL, 0, &err);
    /* the netlist's commands write into the run folder, sandbox or not */
    if (!rc && chdir(run_dir) != 0)
        rc = ss_error_set(&err, SS_EIO, "cannot enter '%s': %s", run_dir, strerror(errno));
    if (!rc)
        rc = ss_engine_load(eng, nl, &err);
    if (!rc)
        rc = ss_engine_run(eng, &res, &err);
    if (serialize(&out, rc, rc ? err.msg : "", eng ? ss_engine_transcript(eng) : "", &res) ==
        SS_OK)
        write_all(fd, out.data, out.len);
    close(fd);
    /* no ss_engine_free: _exit is enough and avoids ngspice's teardown;
     * the private folder of an engine opened here goes (a confined engine
     * already works in run_dir, which is the caller's) */
    engi_drop_workdir(eng);
    _exit(0);
}

int ss_engine_run_isolated(const ss_netlist *nl, double timeout, ss_result *res, ss_error *err)
{
    ss_engine_child_options opt = {timeout, NULL, NULL, 0};
    return ss_engine_run_child(nl, &opt, res, err);
}

/* Files in `dir` (not below), ".spiceinit" aside. */
static size_t count_files(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d));)
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
             strcmp(de->d_name, ".spiceinit");
    if (d)
        closedir(d);
    return n;
}

static void finish_dir(const char *run_dir, int keep)
{
    char path[4096 + 16];
    if (!keep) {
        ss_util_remove_tree(run_dir);
        return;
    }
    snprintf(path, sizeof path, "%s/.spiceinit", run_dir); /* the engine's empty one */
    struct stat st;
    if (!stat(path, &st) && S_ISREG(st.st_mode) && st.st_size == 0)
        unlink(path);
}

int ss_engine_run_child(const ss_netlist *nl, ss_engine_child_options *opt, ss_result *res,
                        ss_error *err)
{
    ss_engine_child_options defaults = {0, NULL, NULL, 0};
    int fds[2], rc;
    char run_dir[4096];
    if (!opt)
        opt = &defaults;
    double timeout = opt->timeout;
    int keep = opt->run_dir != NULL;
    ss_result_release(res);
    opt->files = 0;
    if (keep) {
        if (mkdir(opt->run_dir, 0755) != 0 && errno != EEXIST)
            return ss_error_set(err, SS_EIO, "cannot create '%s': %s", opt->run_dir,
                                strerror(errno));
        if (!realpath(opt->run_dir, run_dir))
            return ss_error_set(err, SS_EIO, "'%s': %s", opt->run_dir, strerror(errno));
        struct stat st;
        if (stat(run_dir, &st) || !S_ISDIR(st.st_mode))
            return ss_error_set(err, SS_EIO, "'%s' is not a folder", opt->run_dir);
    } else if ((rc = ss_util_temp_dir(run_dir, "smallsim-run", err))) {
        return rc;
    }
    if (pipe(fds) != 0) {
        finish_dir(run_dir, keep);
        return ss_error_set(err, SS_EIO, "pipe: %s", strerror(errno));
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        finish_dir(run_dir, keep);
        return ss_error_set(err, SS_EIO, "fork: %s", strerror(errno));
    }
    if (pid == 0) {
        ss_util_crash_by_signal();
        close(fds[0]);
        child(fds[1], nl, run_dir);
    }
    close(fds[1]);
    ss_buf in = SS_BUF_INIT;
    double deadline = timeout > 0 ? ss_util_now() + timeout : 0;
    int timed_out = 0;
    char chunk[65536];
    for (;;) {
        int wait_ms = -1;
        if (deadline > 0) {
            double left = deadline - ss_util_now();
            if (left <= 0) {
                timed_out = 1;
                break;
            }
            wait_ms = (int)(left * 1000) + 1;
        }
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int pr = poll(&pfd, 1, wait_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0)
            continue; /* the deadline check above ends the wait */
        ssize_t got = read(fds[0], chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (ss_buf_add(&in, chunk, (size_t)got)) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
    }
    close(fds[0]);
    if (timed_out || rc)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!rc && timed_out)
        rc = ss_error_set(err, SS_ETIMEOUT, "run exceeded its %g s time limit (killed)", timeout);
    else if (!rc && WIFSIGNALED(status))
        rc = ss_error_set(err, SS_ECRASH, "engine process died with signal %d (%s)",
                          WTERMSIG(status), strsignal(WTERMSIG(status)));
    else if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || in.len == 0))
        rc = ss_error_set(err, SS_ECRASH, "engine process exited without a result (status %d)",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    else if (!rc)
        rc = deserialize(in.data, in.len, opt->transcript, res, err);
    ss_buf_release(&in);
    opt->files = count_files(run_dir);
    finish_dir(run_dir, keep);
    return rc;
}
