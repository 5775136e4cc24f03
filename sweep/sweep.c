/* sweep.c: netlist sweeps: the netlist job kind (override, run, read the
 * measurements), the rows of the results journal and the run loop. */
#include "sweep/sweep_private.h"

#include <ctype.h>
#include <errno.h>
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

/* A measurement's name becomes a column of the results CSV: a comma or a
 * quote in it would shift every later column.  The message names the
 * .meas line that defines it. */
static int bad_measure_name(const ss_netlist *nl, const char *name, ss_error *err)
{
    const char *file = "the sweep's --measure";
    int line = 0;
    for (size_t i = 1; i < nl->n; i++) {
        const char *t = nl->lines[i].text;
        while (isspace((unsigned char)*t))
            t++;
        if (!strncasecmp(t, ".meas", 5) && strstr(t, name)) {
            file = nl->lines[i].file;
            line = nl->lines[i].line;
            break;
        }
    }
    return ss_error_set(err, SS_EINVAL,
                        "%s:%d: the measurement name '%s' holds a %s, which would break the "
                        "results' CSV columns; rename the measurement",
                        file, line, name, strchr(name, ',') ? "comma" : "quote");
}

/* The settings a resumed sweep must share with the one that started the
 * results file (one a line, see ss_pool_journal_open): the deck (with its
 * measurements and seed line) by hash, the axes as given, the design, the
 * seed, the added measurements and the job list by hash. */
static int settings_text(ss_sweep *sw, const ss_sweep_spec *spec, ss_error *err)
{
    static const char *const modes[] = {"grid", "zip", "lhs", "mc"};
    ss_buf b = SS_BUF_INIT;
    char *deck = ss_netlist_join(&sw->nl);
    const ss_sweep_design *d = &sw->design;
    uint64_t hd = deck ? ss_util_fnv1a(SS_UTIL_FNV_INIT, deck, strlen(deck)) : 0;
    uint64_t hj = ss_util_fnv1a(SS_UTIL_FNV_INIT, d->values,
                                d->njobs * (d->nparam ? d->nparam : 1) * sizeof *d->values);
    hj = ss_util_fnv1a(hj, d->seeds, d->njobs * sizeof *d->seeds);
    int mode = spec->mode >= 0 && spec->mode < 4 ? spec->mode : 0;
    int rc = !deck || ss_buf_printf(&b, "# smallsim sweep: what made these results\n"
                                        "netlist: %016llx (its text with the measurements)\n",
                                    (unsigned long long)hd);
    for (size_t k = 0; !rc && k < spec->nparams; k++)
        rc = ss_buf_printf(&b, "param: %s\n", spec->params[k]);
    if (!rc)
        rc = mode >= 2 ? ss_buf_printf(&b, "design: %s %zu\n", modes[mode], spec->samples)
                       : ss_buf_printf(&b, "design: %s\n", modes[mode]);
    if (!rc)
        rc = ss_buf_printf(&b, "seed: %llu\n", (unsigned long long)spec->seed);
    for (size_t i = 0; !rc && i < spec->nmeasures; i++)
        rc = ss_buf_printf(&b, "measure: %s\n", spec->measures[i]);
    if (!rc)
        rc = ss_buf_printf(&b, "jobs: %zu, %016llx\n", d->njobs, (unsigned long long)hj);
    free(deck);
    if (rc) {
        ss_buf_release(&b);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    sw->settings = b.data;
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
    if ((rc = ss_netlist_read_file(&sw->nl, spec->netlist, spec->netlist_flags, err))) {
        /* a bound or value refused in the user's file is an input error,
         * not a bad command line (the caller maps SS_EINVAL to usage) */
        if (rc == SS_EINVAL) {
            rc = SS_EPARSE;
            if (err)
                err->code = rc;
        }
        goto out;
    }
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
        if (strpbrk(sw->meas[i], ",\"")) {
            rc = bad_measure_name(&sw->nl, sw->meas[i], err);
            goto out;
        }
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
    if ((rc = settings_text(sw, spec, err)))
        goto out;
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
    free(sw->settings);
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

const ss_pool_kind sweepi_netlist_kind = {"netlist", netjob_start, netjob_run, netjob_stop};

/* ---- rows ------------------------------------------------------------------- */

int sweepi_row(const ss_sweep *sw, ss_pool_reply *rep, ss_buf *row, int *status,
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

int sweepi_todo(ss_sweep *sw, const ss_sweep_options *opt, ss_pool_journal **res,
                uint64_t **todo, size_t *ntodo, size_t *skipped, ss_error *err)
{
    size_t nj = sw->design.njobs, n = 0;
    unsigned char *done = calloc(nj ? nj : 1, 1);
    *todo = NULL;
    *ntodo = 0;
    *res = NULL;
    if (!done)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    *res = ss_pool_journal_open(opt->out, sw->header, sw->settings, opt->resume, done, nj,
                                skipped, err);
    int rc = *res ? SS_OK : err && err->code ? err->code : SS_EIO;
    if (!rc && !(*todo = malloc((nj ? nj : 1) * sizeof **todo)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    size_t count = opt->shard_count ? opt->shard_count : 1;
    for (size_t j = 0; !rc && j < nj; j++)
        if (!done[j] && j % count == opt->shard_index)
            (*todo)[n++] = j;
    free(done);
    if (rc) {
        ss_pool_journal_close(*res);
        *res = NULL;
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
    struct stat st;
    if (opt->raw_dir && mkdir(opt->raw_dir, 0755) && errno != EEXIST)
        return ss_error_set(err, SS_EIO, "cannot create '%s': %s", opt->raw_dir, strerror(errno));
    if (opt->raw_dir && (stat(opt->raw_dir, &st) || !S_ISDIR(st.st_mode)))
        return ss_error_set(err, SS_EINVAL, "raw folder '%s' is not a folder", opt->raw_dir);
    /* absolute: the workers work in run folders of their own */
    if (opt->raw_dir && !realpath(opt->raw_dir, sw->raw_real))
        return ss_error_set(err, SS_EIO, "'%s': %s", opt->raw_dir, strerror(errno));
    sw->raw_dir = opt->raw_dir ? sw->raw_real : NULL;
    return SS_OK;
}

/* Rank 0 (or the only process) runs the sweep on a pool that spans the
 * ranks; under mpirun the other ranks serve it. */
static int run_pool(ss_sweep *sw, const ss_sweep_options *opt, ss_sweep_summary *sum,
                    ss_error *err)
{
    int rc, rank = 0, size = 1;
    if ((rc = ss_pool_mpi_init(&rank, &size, err)))
        return rc;
    /* Under mpirun the other ranks serve rank 0's pool. */
    if (rank != 0)
        return ss_pool_serve(&sweepi_netlist_kind, sw, opt->jobs, opt->timeout, err);
    double t0 = ss_util_now();
    ss_pool_journal *res = NULL;
    uint64_t *todo = NULL;
    size_t ntodo = 0;
    ss_buf row = SS_BUF_INIT;
    ss_pool *pool = NULL;
    if ((rc = sweepi_todo(sw, opt, &res, &todo, &ntodo, &sum->skipped, err))) {
        ss_pool_mpi_release(); /* the serving ranks return */
        return rc;
    }
    sum->total = ntodo;
    pool = ss_pool_alloc_ranks(&sweepi_netlist_kind, sw, opt->jobs, opt->timeout, err);
    if (!pool) {
        ss_pool_mpi_release();
        rc = err ? err->code : SS_ENOMEM;
        goto out;
    }
    /* Keep the queue short so the pool never holds much more than it runs. */
    size_t next = 0;
    for (;;) {
        while (next < ntodo && ss_pool_pending(pool) < 2 * ss_pool_capacity(pool)) {
            sweepi_request rq = {todo[next], sw->design.seeds[todo[next]]};
            if ((rc = ss_pool_submit(pool, rq.job, &rq, sizeof rq, err)))
                goto out;
            next++;
        }
        if (!ss_pool_pending(pool))
            break;
        ss_pool_reply rep;
        int got = 0;
        if ((rc = ss_pool_next(pool, -1, &rep, &got, err)))
            goto out;
        if (!got)
            continue;
        int status;
        const char *msg;
        rc = sweepi_row(sw, &rep, &row, &status, &msg);
        if (!rc)
            rc = ss_pool_journal_append(res, row.data, err);
        if (!rc && status != SS_SWEEP_OK)
            ss_pool_journal_log(res, rep.id, ss_sweep_status_name(status), msg);
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
    ss_pool_free(pool);
    ss_pool_journal_close(res);
    /* rows arrive as jobs finish; the finished file is in job order */
    if (!rc)
        rc = ss_pool_journal_sort(opt->out, err);
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
    rc = run_pool(sw, opt, sum, err);
    ss_util_remove_tree(sw->run_dir);
    sw->run_dir[0] = '\0';
    return rc;
}
