/* sweep.c: netlist sweeps: the netlist job kind (override, run, read the
 * measurements), the resumable results file and the run loop. */
#include "sweep/sweep_private.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const status_names[SS_SWEEP_STATUS_MAX] = {
    [SS_SWEEP_OK] = "ok",
    [SS_SWEEP_SIM_ERROR] = "sim-error",
    [SS_SWEEP_TIMEOUT] = "timeout",
    [SS_SWEEP_CRASH] = "crash",
    [SS_SWEEP_MEAS_FAILED] = "meas-failed",
};

const char *ss_sweep_status_name(int status)
{
    return status >= 0 && status < SS_SWEEP_STATUS_MAX ? status_names[status] : "?";
}

void sweepi_format(char buf[32], double x)
{
    /* The shortest "%.*g" that reads back exactly: full precision, short. */
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* ---- setup ------------------------------------------------------------------ */

static int push_name(char ***names, size_t *n, const char *name)
{
    char *d = strdup(name);
    char **nn = d ? realloc(*names, (*n + 1) * sizeof *nn) : NULL;
    if (!nn) {
        free(d);
        return SS_ENOMEM;
    }
    nn[(*n)++] = d;
    *names = nn;
    return SS_OK;
}

static int has_name(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcasecmp(names[i], name))
            return 1;
    return 0;
}

ss_sweep *ss_sweep_alloc(const ss_sweep_spec *spec, ss_error *err)
{
    ss_sweep *sw = calloc(1, sizeof *sw);
    ss_buf h = SS_BUF_INIT;
    char **own = NULL;
    size_t nown = 0;
    int rc = SS_OK;
    if (!sw) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    if (!spec || !spec->netlist) {
        rc = ss_error_set(err, SS_EINVAL, "sweep: no netlist");
        goto out;
    }
    if ((rc = ss_netlist_read_file(&sw->nl, spec->netlist, spec->netlist_flags, err)))
        goto out;
    sw->naxes = spec->nparams;
    sw->axes = calloc(spec->nparams ? spec->nparams : 1, sizeof *sw->axes);
    if (!sw->axes) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < spec->nparams; k++) {
        if ((rc = ss_sweep_axis_parse(&sw->axes[k], spec->params[k], err)))
            goto out;
        for (size_t m = 0; m < k; m++)
            if (!strcasecmp(sw->axes[m].name, sw->axes[k].name)) {
                rc = ss_error_set(err, SS_EINVAL, "parameter '%s' is swept twice",
                                  sw->axes[k].name);
                goto out;
            }
        /* Check the target exists now, with the deck's own value shape. */
        char v[32];
        double probe = sw->axes[k].kind == SS_SWEEP_AXIS_VALUES ? sw->axes[k].values[0]
                                                                 : sw->axes[k].a;
        sweepi_format(v, probe);
        if ((rc = ss_netlist_override(&sw->nl, sw->axes[k].name, v, err)))
            goto out;
    }
    /* Measurements: the deck's own, then the added ones. */
    if ((rc = ss_netlist_measures(&sw->nl, &own, &nown, err)))
        goto out;
    /* one column per name: ngspice accepts a name twice, and its result
     * (the parameter it sets) is the last one evaluated */
    for (size_t i = 0; i < nown && !rc; i++)
        if (!has_name(sw->meas, sw->nmeas, own[i]))
            rc = push_name(&sw->meas, &sw->nmeas, own[i]);
    for (size_t i = 0; i < spec->nmeasures && !rc; i++) {
        char *name = NULL;
        rc = ss_netlist_add_meas(&sw->nl, spec->measures[i], &name, err);
        if (!rc && !has_name(sw->meas, sw->nmeas, name))
            rc = push_name(&sw->meas, &sw->nmeas, name);
        free(name);
    }
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory");
    if (rc)
        goto out;
    for (size_t i = 0; i < sw->nmeas; i++) {
        for (size_t k = 0; k < sw->naxes; k++)
            if (!strcasecmp(sw->meas[i], sw->axes[k].name)) {
                rc = ss_error_set(err, SS_EINVAL,
                                  "measurement '%s' has the name of a swept parameter",
                                  sw->meas[i]);
                goto out;
            }
    }
    /* Per-job seed for the netlist's own random functions (agauss, ...). */
    if ((rc = ss_netlist_add_line(&sw->nl, ".option seed=1", &sw->seed_line, err)))
        goto out;
    if ((rc = ss_sweep_design_build(&sw->design, sw->axes, sw->naxes, spec->mode, spec->samples,
                                    spec->seed, err)))
        goto out;
    rc = ss_buf_printf(&h, "job,status");
    for (size_t k = 0; !rc && k < sw->naxes; k++)
        rc = ss_buf_printf(&h, ",%s", sw->axes[k].name);
    if (!rc)
        rc = ss_buf_printf(&h, ",seed");
    for (size_t i = 0; !rc && i < sw->nmeas; i++)
        rc = ss_buf_printf(&h, ",%s", sw->meas[i]);
    if (!rc)
        rc = ss_buf_printf(&h, ",seconds");
    if (rc) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    sw->header = h.data;
    h.data = NULL;
out:
    ss_netlist_names_free(own, nown);
    ss_buf_release(&h);
    if (rc) {
        ss_sweep_free(sw);
        return NULL;
    }
    return sw;
}

void ss_sweep_free(ss_sweep *sw)
{
    if (!sw)
        return;
    for (size_t k = 0; k < sw->naxes; k++)
        ss_sweep_axis_release(&sw->axes[k]);
    free(sw->axes);
    for (size_t i = 0; i < sw->nmeas; i++)
        free(sw->meas[i]);
    free(sw->meas);
    ss_netlist_release(&sw->nl);
    ss_sweep_design_release(&sw->design);
    free(sw->header);
    free(sw);
}

size_t ss_sweep_njobs(const ss_sweep *sw)
{
    return sw->design.njobs;
}

const ss_sweep_design *ss_sweep_get_design(const ss_sweep *sw)
{
    return &sw->design;
}

size_t ss_sweep_nmeasures(const ss_sweep *sw)
{
    return sw->nmeas;
}

const char *ss_sweep_measure_name(const ss_sweep *sw, size_t i)
{
    return i < sw->nmeas ? sw->meas[i] : NULL;
}

const char *ss_sweep_header(const ss_sweep *sw)
{
    return sw->header;
}

/* ---- the netlist job kind (runs in the workers) ------------------------------ */

/* Each worker confines itself to the sweep's netlist folders, its own run
 * folder and the raw-file folder before it runs a job. */
static int netjob_start(void *arg, void **state, ss_error *err)
{
    ss_sweep *sw = arg;
    ss_engine *eng = NULL;
    char dir[4096 + 16];
    int rc = ss_engine_open(&eng, err);
    *state = eng;
    if (rc || (sw->nl.flags & SS_NETLIST_NO_SANDBOX))
        return rc;
    snprintf(dir, sizeof dir, "%s/w-XXXXXX", sw->run_dir);
    if (!mkdtemp(dir))
        rc = ss_error_set(err, SS_EIO, "cannot create a run folder in '%s': %s", sw->run_dir,
                          strerror(errno));
    if (!rc)
        rc = ss_engine_confine(eng, &sw->nl, dir, sw->raw_dir ? &sw->raw_dir : NULL,
                               sw->raw_dir ? 1 : 0, err);
    return rc;
}

static void netjob_stop(void *state, void *arg)
{
    (void)arg;
    ss_engine_free(state);
}

static int netjob_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                      ss_error *err)
{
    ss_sweep *sw = arg;
    ss_engine *eng = state;
    sweepi_request r;
    if (len < sizeof r)
        return ss_error_set(err, SS_EINVAL, "short request");
    memcpy(&r, req, sizeof r);
    if (r.job >= sw->design.njobs)
        return ss_error_set(err, SS_EINVAL, "job %llu out of range", (unsigned long long)r.job);
    const double *values = sw->design.values + r.job * sw->naxes;
    char v[32], line[64];
    int rc = SS_OK;
    /* The worker's deck is its own copy (fork): edit it in place. */
    for (size_t k = 0; !rc && k < sw->naxes; k++) {
        sweepi_format(v, values[k]);
        rc = ss_netlist_override(&sw->nl, sw->axes[k].name, v, err);
    }
    snprintf(line, sizeof line, ".option seed=%llu",
             (unsigned long long)sw->design.seeds[r.job]);
    if (!rc)
        rc = ss_netlist_set_line(&sw->nl, sw->seed_line, line);
    if (rc)
        return rc;
    ss_result res = SS_RESULT_INIT;
    rc = ss_engine_load(eng, &sw->nl, err);
    if (!rc)
        rc = ss_engine_run(eng, &res, err);
    if (!rc && res.quit && res.quit_status != 0)
        rc = ss_error_set(err, SS_ESIM, "the .control commands ended with 'quit %d'",
                          res.quit_status);
    if (!rc && sw->raw_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/job-%llu.raw", sw->raw_dir, (unsigned long long)r.job);
        rc = ss_result_write_raw(&res, NULL, 0, path, err);
    }
    /* the results at full precision, each on its own: a failed one leaves
     * its cell empty and the others stand */
    for (size_t i = 0; !rc && i < sw->nmeas; i++) {
        const ss_measure *rm = ss_result_measure(&res, sw->meas[i]);
        sweepi_measure m = {rm && rm->ok, rm && rm->ok ? rm->value : 0.0};
        if (ss_buf_add(reply, (const char *)&m, sizeof m))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    ss_result_release(&res);
    return rc;
}

const ss_sweep_kind sweepi_netlist_kind = {"netlist", netjob_start, netjob_run, netjob_stop};

/* ---- results file ---------------------------------------------------------- */

int ss_sweep_results_scan(const char *path, const char *header, unsigned char *done,
                          size_t njobs, long *valid_len, ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    *valid_len = 0;
    struct stat st;
    if (stat(path, &st) && errno == ENOENT)
        return SS_OK;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    size_t hlen = strlen(header), ncols = 1;
    for (const char *p = header; *p; p++)
        ncols += *p == ',';
    if (len == 0) {
        free(text);
        return SS_OK;
    }
    if (strncmp(text, header, hlen) || text[hlen] != '\n') {
        /* A torn header (killed while writing it) is only a prefix. */
        if (!memchr(text, '\n', len) && !strncmp(header, text, len)) {
            free(text);
            return SS_OK;
        }
        free(text);
        return ss_error_set(err, SS_EPARSE,
                            "%s:1: the header differs from this sweep's columns (%s)", path,
                            header);
    }
    size_t pos = hlen + 1;
    int line = 2;
    *valid_len = (long)pos;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        if (!nl)
            break; /* torn last line: dropped */
        *nl = '\0';
        const char *row = text + pos;
        size_t fields = 1;
        for (const char *p = row; *p; p++)
            fields += *p == ',';
        char *end;
        errno = 0;
        unsigned long long j = strtoull(row, &end, 10);
        if (fields != ncols || end == row || *end != ',' || errno) {
            free(text);
            return ss_error_set(err, SS_EPARSE, "%s:%d: malformed row", path, line);
        }
        if (j >= njobs) {
            free(text);
            return ss_error_set(err, SS_EPARSE, "%s:%d: job %llu is not in this sweep (%zu jobs)",
                                path, line, j, njobs);
        }
        done[j] = 1;
        pos = (size_t)(nl - text) + 1;
        *valid_len = (long)pos;
        line++;
    }
    free(text);
    return SS_OK;
}

int sweepi_results_open(sweepi_results *r, const char *path, const char *header, int resume,
                        unsigned char *done, size_t njobs, size_t *skipped, ss_error *err)
{
    long valid = 0;
    int rc = SS_OK;
    memset(r, 0, sizeof *r);
    r->fd = -1;
    *skipped = 0;
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && !resume && st.st_size > 0)
        return ss_error_set(err, SS_EINVAL,
                            "'%s' already exists; use --resume to continue it or remove it", path);
    if (resume && (rc = ss_sweep_results_scan(path, header, done, njobs, &valid, err)))
        return rc;
    for (size_t j = 0; j < njobs; j++)
        *skipped += done[j];
    if ((rc = ss_util_check_output(path, err)))
        return rc;
    r->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (r->fd < 0)
        return ss_error_set(err, SS_EIO, "cannot open '%s': %s", path, strerror(errno));
    /* Drop a torn last row so new rows start on a line of their own. */
    if (ftruncate(r->fd, valid) || lseek(r->fd, 0, SEEK_END) < 0) {
        rc = ss_error_set(err, SS_EIO, "cannot truncate '%s': %s", path, strerror(errno));
        close(r->fd);
        r->fd = -1;
        return rc;
    }
    if (valid == 0) {
        ss_buf h = SS_BUF_INIT;
        if (ss_buf_printf(&h, "%s\n", header) || sweepi_results_append(r, h.data, err))
            rc = err && err->code ? err->code : SS_ENOMEM;
        ss_buf_release(&h);
    }
    char logpath[4096];
    snprintf(logpath, sizeof logpath, "%s.log", path);
    if (!rc) {
        r->log = ss_util_open_output(logpath, resume ? "a" : "w", err);
        if (!r->log)
            rc = err ? err->code : SS_EIO;
    }
    if (rc)
        sweepi_results_close(r);
    return rc;
}

int sweepi_results_append(sweepi_results *r, const char *row, ss_error *err)
{
    size_t n = strlen(row);
    const char *p = row;
    while (n) {
        ssize_t k = write(r->fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return ss_error_set(err, SS_EIO, "cannot write the results: %s", strerror(errno));
        p += k;
        n -= (size_t)k;
    }
    if (fdatasync(r->fd) && errno != EINVAL && errno != EROFS)
        return ss_error_set(err, SS_EIO, "cannot sync the results: %s", strerror(errno));
    return SS_OK;
}

void sweepi_results_log(sweepi_results *r, uint64_t job, int status, const char *msg)
{
    if (!r->log)
        return;
    fprintf(r->log, "job %llu: %s: %s\n", (unsigned long long)job, ss_sweep_status_name(status),
            msg);
    fflush(r->log);
}

static int row_cmp(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    unsigned long long i = strtoull(*x, NULL, 10), j = strtoull(*y, NULL, 10);
    return i < j ? -1 : i > j ? 1 : (*x < *y ? -1 : *x > *y);
}

int sweepi_results_sort(const char *path, ss_error *err)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    char **rows = calloc(n + 1, sizeof *rows);
    ss_buf out = SS_BUF_INIT;
    char *hdr_end = memchr(text, '\n', len);
    if (!rows || !hdr_end) {
        free(rows);
        free(text);
        return rows ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    size_t nrows = 0;
    for (char *p = hdr_end + 1; p < text + len;) {
        char *nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl)
            break; /* a torn last line stays out, as --resume would drop it */
        *nl = '\0';
        rows[nrows++] = p;
        p = nl + 1;
    }
    qsort(rows, nrows, sizeof *rows, row_cmp);
    rc = ss_buf_add(&out, text, (size_t)(hdr_end - text) + 1);
    for (size_t i = 0; !rc && i < nrows; i++)
        rc = ss_buf_printf(&out, "%s\n", rows[i]);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else
        rc = ss_util_write_file_atomic(path, out.data, out.len, err);
    ss_buf_release(&out);
    free(rows);
    free(text);
    return rc;
}

void sweepi_results_close(sweepi_results *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->log)
        fclose(r->log);
    r->fd = -1;
    r->log = NULL;
}

struct ss_sweep_results {
    sweepi_results r;
};

ss_sweep_results *ss_sweep_results_open(const char *path, const char *header, int resume,
                                        unsigned char *done, size_t njobs, size_t *skipped,
                                        ss_error *err)
{
    ss_sweep_results *r = malloc(sizeof *r);
    if (!r) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    if (sweepi_results_open(&r->r, path, header, resume, done, njobs, skipped, err)) {
        free(r);
        return NULL;
    }
    return r;
}

int ss_sweep_results_append(ss_sweep_results *r, const char *row, ss_error *err)
{
    return sweepi_results_append(&r->r, row, err);
}

void ss_sweep_results_log(ss_sweep_results *r, uint64_t job, int status, const char *msg)
{
    sweepi_results_log(&r->r, job, status, msg);
}

void ss_sweep_results_close(ss_sweep_results *r)
{
    if (!r)
        return;
    sweepi_results_close(&r->r);
    free(r);
}

/* ---- rows ------------------------------------------------------------------- */

int sweepi_row(const ss_sweep *sw, ss_sweep_reply *rep, ss_buf *row, int *status,
               const char **msg)
{
    const sweepi_measure *m = (const sweepi_measure *)rep->data;
    int st;
    *msg = rep->msg;
    if (rep->status == SS_ETIMEOUT)
        st = SS_SWEEP_TIMEOUT;
    else if (rep->status == SS_ECRASH)
        st = SS_SWEEP_CRASH;
    else if (rep->status)
        st = SS_SWEEP_SIM_ERROR;
    else if (rep->len != sw->nmeas * sizeof *m) {
        st = SS_SWEEP_SIM_ERROR;
        *msg = "malformed reply from the worker";
    } else {
        /* the status names every failed measurement; its cell stays
         * empty, the others keep their values */
        st = SS_SWEEP_OK;
        size_t nfail = 0, len = 0;
        for (size_t i = 0; i < sw->nmeas; i++)
            nfail += !m[i].ok;
        for (size_t i = 0; i < sw->nmeas && len < sizeof rep->msg; i++) {
            if (m[i].ok)
                continue;
            if (st == SS_SWEEP_OK)
                len = (size_t)snprintf(rep->msg, sizeof rep->msg, "measurement%s ",
                                       nfail > 1 ? "s" : "");
            st = SS_SWEEP_MEAS_FAILED;
            if (len < sizeof rep->msg)
                len += (size_t)snprintf(rep->msg + len, sizeof rep->msg - len, "%s'%s'",
                                        len > 13 ? ", " : "", sw->meas[i]);
        }
        if (st != SS_SWEEP_OK && len < sizeof rep->msg)
            snprintf(rep->msg + len, sizeof rep->msg - len, " failed");
    }
    *status = st;
    const double *values = sw->design.values + rep->id * sw->naxes;
    char v[32];
    row->len = 0;
    int rc = ss_buf_printf(row, "%llu,%s", (unsigned long long)rep->id, ss_sweep_status_name(st));
    for (size_t k = 0; !rc && k < sw->naxes; k++) {
        sweepi_format(v, values[k]);
        rc = ss_buf_printf(row, ",%s", v);
    }
    if (!rc)
        rc = ss_buf_printf(row, ",%llu", (unsigned long long)sw->design.seeds[rep->id]);
    for (size_t i = 0; !rc && i < sw->nmeas; i++) {
        if ((st == SS_SWEEP_OK || st == SS_SWEEP_MEAS_FAILED) && m[i].ok) {
            sweepi_format(v, m[i].value);
            rc = ss_buf_printf(row, ",%s", v);
        } else {
            rc = ss_buf_add(row, ",", 1);
        }
    }
    if (!rc)
        rc = ss_buf_printf(row, ",%.3f\n", rep->seconds);
    return rc;
}

/* ---- the run loop --------------------------------------------------------------- */

void sweepi_progress(const ss_sweep_options *opt, ss_sweep_summary *sum, size_t total,
                     double t0, uint64_t job, int status, const char *msg)
{
    sum->ran++;
    sum->count[status]++;
    if (!opt->progress)
        return;
    ss_sweep_progress pr;
    pr.done = sum->ran;
    pr.failed = sum->ran - sum->count[SS_SWEEP_OK] - sum->count[SS_SWEEP_MEAS_FAILED];
    pr.total = total;
    pr.skipped = sum->skipped;
    pr.elapsed = ss_util_now() - t0;
    pr.rate = pr.elapsed > 0 ? (double)pr.done / pr.elapsed : 0;
    pr.eta = pr.rate > 0 ? (double)(total - pr.done) / pr.rate : 0;
    pr.job = job;
    pr.status = status;
    pr.msg = status == SS_SWEEP_OK ? "" : msg;
    opt->progress(opt->user, &pr);
}

int sweepi_todo(ss_sweep *sw, const ss_sweep_options *opt, sweepi_results *res,
                uint64_t **todo, size_t *ntodo, size_t *skipped, ss_error *err)
{
    size_t nj = sw->design.njobs, n = 0;
    unsigned char *done = calloc(nj ? nj : 1, 1);
    *todo = NULL;
    *ntodo = 0;
    if (!done)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = sweepi_results_open(res, opt->out, sw->header, opt->resume, done, nj, skipped, err);
    if (!rc && !(*todo = malloc((nj ? nj : 1) * sizeof **todo)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    size_t count = opt->shard_count ? opt->shard_count : 1;
    for (size_t j = 0; !rc && j < nj; j++)
        if (!done[j] && j % count == opt->shard_index)
            (*todo)[n++] = j;
    free(done);
    if (rc) {
        sweepi_results_close(res);
        free(*todo);
        *todo = NULL;
        return rc;
    }
    *ntodo = n;
    return SS_OK;
}

int sweepi_check_options(ss_sweep *sw, const ss_sweep_options *opt, ss_error *err)
{
    if (!opt || !opt->out || !*opt->out)
        return ss_error_set(err, SS_EINVAL, "sweep: no results file");
    if (opt->shard_count && opt->shard_index >= opt->shard_count)
        return ss_error_set(err, SS_EINVAL, "shard %zu/%zu: the index must be below the count",
                            opt->shard_index, opt->shard_count);
    if (opt->raw_dir && mkdir(opt->raw_dir, 0755) && errno != EEXIST)
        return ss_error_set(err, SS_EIO, "cannot create '%s': %s", opt->raw_dir, strerror(errno));
    sw->raw_dir = opt->raw_dir;
    return SS_OK;
}

static int run_local(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                     ss_error *err)
{
    int rc;
    double t0 = ss_util_now();
    sweepi_results res;
    uint64_t *todo = NULL;
    size_t ntodo = 0;
    if ((rc = sweepi_todo(sw, opt, &res, &todo, &ntodo, &sum->skipped, err)))
        return rc;
    sum->total = ntodo;
    ss_buf row = SS_BUF_INIT;
    ss_sweep_pool *pool = ss_sweep_pool_alloc(&sweepi_netlist_kind, sw, opt->jobs, opt->timeout,
                                              err);
    if (!pool) {
        rc = err ? err->code : SS_ENOMEM;
        goto out;
    }
    /* Keep the queue short so the pool never holds much more than it runs. */
    size_t next = 0;
    for (;;) {
        while (next < ntodo && ss_sweep_pool_pending(pool) < 2 * (size_t)(opt->jobs > 0 ? opt->jobs : 1)) {
            sweepi_request rq = {todo[next], sw->design.seeds[todo[next]]};
            if ((rc = ss_sweep_pool_submit(pool, rq.job, &rq, sizeof rq, err)))
                goto out;
            next++;
        }
        if (!ss_sweep_pool_pending(pool))
            break;
        ss_sweep_reply rep;
        int got = 0;
        if ((rc = ss_sweep_pool_next(pool, -1, &rep, &got, err)))
            goto out;
        if (!got)
            continue;
        int status;
        const char *msg;
        rc = sweepi_row(sw, &rep, &row, &status, &msg);
        if (!rc)
            rc = sweepi_results_append(&res, row.data, err);
        if (!rc && status != SS_SWEEP_OK)
            sweepi_results_log(&res, rep.id, status, msg);
        if (!rc)
            sweepi_progress(opt, sum, ntodo, t0, rep.id, status, msg);
        free(rep.data);
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory");
        if (rc)
            goto out;
    }
out:
    sum->seconds = ss_util_now() - t0;
    ss_sweep_pool_free(pool);
    sweepi_results_close(&res);
    /* rows arrive as jobs finish; the finished file is in job order */
    if (!rc)
        rc = sweepi_results_sort(opt->out, err);
    ss_buf_release(&row);
    free(todo);
    return rc;
}

int ss_sweep_run(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                 ss_error *err)
{
    memset(sum, 0, sizeof *sum);
    int rc = sweepi_check_options(sw, opt, err);
    if (rc)
        return rc;
    /* the workers' run folders live below this one, removed at the end */
    if ((rc = ss_util_temp_dir(sw->run_dir, "smallsim-sweep", err)))
        return rc;
    rc = sweepi_mpi_size() > 1 ? sweepi_mpi_run(sw, opt, sum, err) : run_local(sw, opt, sum, err);
    ss_util_remove_tree(sw->run_dir);
    sw->run_dir[0] = '\0';
    return rc;
}
