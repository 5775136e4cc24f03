/* run.c: the outer loop.  Each generation: ask, evaluate every point on the
 * generation's training instances through the worker pool (pool/; one job
 * per point; crashed or timed-out jobs are re-queued), penalise failures,
 * tell, evaluate the generation's best on the validation instances, append
 * the log rows, rewrite best.json and replace the checkpoint.  Everything
 * that decides the result is keyed by the point's index, never by the order
 * in which jobs end, so results do not depend on the number of workers. */
#include "l2l/l2l_private.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pool/ss_pool.h"

#define CKPT_MAGIC "smallsim-l2l-checkpoint 1"
#define REQ_MAGIC 0x6c326c31u

/* ---- the job kind: request = head, seeds, parameters; reply = mean metric -------- */

typedef struct req_head {
    uint32_t magic, nseeds, np, pad;
} req_head;

static int kind_start(void *arg, void **state, ss_error *err)
{
    const ss_l2l_task *t = arg;
    *state = NULL;
    return t->start ? t->start(t, state, err) : SS_OK;
}

static int kind_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                    ss_error *err)
{
    const ss_l2l_task *t = arg;
    req_head h;
    if (len < sizeof h)
        return ss_error_set(err, SS_EINVAL, "l2l job: short request");
    memcpy(&h, req, sizeof h);
    if (h.magic != REQ_MAGIC || h.np != t->nparams ||
        len != sizeof h + (size_t)h.nseeds * 8 + (size_t)h.np * 8 || !h.nseeds)
        return ss_error_set(err, SS_EINVAL, "l2l job: malformed request");
    uint64_t *seeds = malloc((size_t)h.nseeds * sizeof *seeds);
    double *x = malloc((size_t)h.np * sizeof *x);
    int rc = SS_OK;
    if (!seeds || !x) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(seeds, (const char *)req + sizeof h, (size_t)h.nseeds * 8);
    memcpy(x, (const char *)req + sizeof h + (size_t)h.nseeds * 8, (size_t)h.np * 8);
    double sum = 0;
    for (uint32_t k = 0; k < h.nseeds; k++) {
        double m = NAN;
        rc = t->evaluate(t, state, x, seeds[k], &m, err);
        if (rc)
            goto out;
        if (!isfinite(m)) {
            rc = ss_error_set(err, SS_ENUMERIC, "%s: metric %s is not finite", t->name, t->metric);
            goto out;
        }
        sum += m;
    }
    double mean = sum / h.nseeds;
    rc = ss_buf_add(reply, (const char *)&mean, sizeof mean);
out:
    free(seeds);
    free(x);
    return rc;
}

static void kind_stop(void *state, void *arg)
{
    const ss_l2l_task *t = arg;
    if (t->stop)
        t->stop(t, state);
}

static const ss_pool_kind l2l_kind = {"l2l-eval", kind_start, kind_run, kind_stop};

/* ---- a batch of evaluations ------------------------------------------------------------ */

typedef struct ejob {
    ss_buf req;
    double metric; /* NaN unless ok */
    int status, attempts;
    double seconds;
} ejob;

typedef void (*ejob_cb)(void *user, size_t i, const ejob *j, const char *msg, int final);

static int ejob_init(ejob *j, const double *x, size_t np, const uint64_t *seeds, size_t nseeds)
{
    memset(j, 0, sizeof *j);
    j->metric = NAN;
    req_head h = {REQ_MAGIC, (uint32_t)nseeds, (uint32_t)np, 0};
    int rc = ss_buf_add(&j->req, (const char *)&h, sizeof h);
    if (!rc)
        rc = ss_buf_add(&j->req, (const char *)seeds, nseeds * 8);
    if (!rc)
        rc = ss_buf_add(&j->req, (const char *)x, np * 8);
    return rc;
}

/* Runs jobs[0..n) to the end; crashed and timed-out ones are re-queued up to
 * `retries` times.  Returns non-zero only if the pool itself fails. */
static int ejob_run(ss_pool *pool, ejob *jobs, size_t n, int retries, ejob_cb cb,
                    void *user, ss_error *err)
{
    int rc = SS_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        jobs[i].attempts = 1;
        rc = ss_pool_submit(pool, i, jobs[i].req.data, jobs[i].req.len, err);
    }
    while (!rc && ss_pool_pending(pool)) {
        ss_pool_reply r;
        int got = 0;
        rc = ss_pool_next(pool, -1, &r, &got, err);
        if (rc || !got)
            break;
        ejob *j = &jobs[r.id];
        j->status = r.status;
        j->seconds += r.seconds;
        const char *msg = r.msg;
        if (!r.status) {
            double m;
            if (r.len != sizeof m) {
                j->status = SS_ECRASH;
                msg = "worker sent a malformed reply";
            } else {
                memcpy(&m, r.data, sizeof m);
                j->metric = m;
            }
        }
        int again = (j->status == SS_ECRASH || j->status == SS_ETIMEOUT) && j->attempts <= retries;
        if (cb)
            cb(user, r.id, j, msg, !again);
        free(r.data);
        if (again) {
            j->attempts++;
            rc = ss_pool_submit(pool, r.id, j->req.data, j->req.len, err);
        }
    }
    return rc;
}

static void ejob_release(ejob *jobs, size_t n)
{
    for (size_t i = 0; jobs && i < n; i++)
        ss_buf_release(&jobs[i].req);
    free(jobs);
}

/* ---- the run ------------------------------------------------------------------------------ */

enum { P_CKPT, P_GENS, P_EVALS, P_BEST, P_FAIL, P_PNG, P_CACHE, NPATHS };
static const char *const file_names[] = {"checkpoint", "gens.csv", "evals.csv", "best.json",
                                         "failures.log", "learning.png", "lut-cache"};

typedef struct run {
    const ss_l2l_task *task;
    const ss_l2l_options *opt;
    size_t np, nfree, ntrain, nval;
    ss_l2l_opt *o;
    ss_pool *pool;
    char *path[NPATHS];
    ss_l2l_task wtask; /* the task as the workers see it (cache_dir set) */
    /* state kept in the checkpoint */
    uint64_t seed, gen, evals, failed, best_gen, polished_at;
    int have_best, polished;
    double best_val, best_train, *best_u;
    int center;  /* validate the distribution's centre (else the generation's best) */
    double *cu;  /* the centre (nfree) */
    long gens_len, evals_len;
    /* per batch */
    const char *set;
    double t0;
    ss_buf rows; /* evals.csv rows of the batch */
    FILE *fail;
    /* polish */
    uint64_t *pseeds;
    double *px;
    int prc;
    ss_error *perr;
} run;


static void on_eval(void *user, size_t i, const ejob *j, const char *msg, int final)
{
    run *r = user;
    if (j->status && r->fail) {
        fprintf(r->fail, "gen %llu %s %zu attempt %d: %s: %s\n", (unsigned long long)r->gen,
                r->set, i, j->attempts, ss_strerror(j->status), msg);
        fflush(r->fail);
    }
    if (!r->opt->progress)
        return;
    ss_l2l_event ev = {0};
    ev.kind = SS_L2L_EV_EVAL;
    ev.generation = r->gen;
    ev.generations = r->opt->generations;
    ev.set = r->set;
    ev.index = i;
    ev.status = j->status;
    ev.attempt = j->attempts;
    ev.final = final;
    ev.msg = j->status ? msg : "";
    ev.metric = j->status ? NAN : j->metric;
    ev.seconds = j->seconds;
    ev.evals = r->evals;
    ev.elapsed = ss_util_now() - r->t0;
    r->opt->progress(r->opt->user, &ev);
}

static const char *status_word(int st)
{
    switch (st) {
    case SS_OK: return "ok";
    case SS_ETIMEOUT: return "timeout";
    case SS_ECRASH: return "crash";
    case SS_ENUMERIC: return "nonfinite";
    default: return "error";
    }
}

/* One evals.csv row; x has np values. */
static int add_row(run *r, size_t i, const ejob *j, double told, const double *x)
{
    char m[32] = "", f[32], s[32];
    if (!j->status)
        ss_util_format_double(m, j->metric);
    ss_util_format_double(f, told);
    snprintf(s, sizeof s, "%.4f", j->seconds);
    int rc = ss_buf_printf(&r->rows, "%llu,%s,%zu,%s,%s,%s,%d,%s", (unsigned long long)r->gen,
                           r->set, i, status_word(j->status), m, f, j->attempts, s);
    for (size_t k = 0; !rc && k < r->np; k++) {
        ss_util_format_double(m, x[k]);
        rc = ss_buf_printf(&r->rows, ",%s", m);
    }
    return rc ? rc : ss_buf_add(&r->rows, "\n", 1);
}

/* Evaluates n parameter vectors X (n x np) on `nseeds` instances: metric[i]
 * (NaN for failures), rows added to r->rows with the told values from
 * `told` (NULL: the metric). */
static int eval_points(run *r, const char *set, const double *X, size_t n, const uint64_t *seeds,
                       size_t nseeds, ejob **out, ss_error *err)
{
    ejob *jobs = calloc(n ? n : 1, sizeof *jobs);
    if (!jobs)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    int rc = SS_OK;
    for (size_t i = 0; i < n && !rc; i++)
        if (ejob_init(&jobs[i], &X[i * r->np], r->np, seeds, nseeds))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    r->set = set;
    if (!rc)
        rc = ejob_run(r->pool, jobs, n, r->opt->retries, on_eval, r, err);
    if (rc) {
        ejob_release(jobs, n);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        r->evals++;
        if (jobs[i].status)
            r->failed++;
        else if (!isfinite(jobs[i].metric)) /* the worker checks; be sure */
            jobs[i].status = SS_ENUMERIC;
    }
    *out = jobs;
    return SS_OK;
}

static int append_file(const char *path, const ss_buf *b, long *len, ss_error *err)
{
    if (!b->len)
        return SS_OK;
    int rc = ss_util_prepare_output(path, err);
    if (rc)
        return rc;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        return ss_error_set(err, SS_EIO, "%s: cannot append: %s", path, strerror(errno));
    rc = ss_util_write_durable(fd, b->data, b->len, path, err);
    if (close(fd) && !rc)
        rc = ss_error_set(err, SS_EIO, "%s: cannot append: %s", path, strerror(errno));
    if (!rc)
        *len += (long)b->len;
    return rc;
}

/* Fingerprint of the parameter space, so a checkpoint is not resumed with
 * another task, other fixed parameters or another device. */
static uint64_t space_hash(const ss_l2l_task *t)
{
    ss_buf b = SS_BUF_INIT;
    ss_buf_printf(&b, "%s|", t->name);
    for (size_t i = 0; i < t->nparams; i++) {
        char lo[32], hi[32], in[32];
        const ss_l2l_param *p = &t->params[i];
        ss_util_format_double(lo, p->lo);
        ss_util_format_double(hi, p->hi);
        ss_util_format_double(in, p->init);
        ss_buf_printf(&b, "%s %s %s %s %u|", p->name, lo, hi, in, p->flags);
    }
    if (t->has_device) {
        ss_buf_printf(&b, "device %s %d %d", t->device.type->name, t->device.hard,
                      t->device.polarity < 0 ? -1 : 1);
        for (size_t k = 0; k < t->device.type->nparams; k++) {
            char v[32];
            ss_util_format_double(v, t->device.p[k]);
            ss_buf_printf(&b, " %s", v);
        }
    }
    uint64_t h = b.data ? l2li_fnv(b.data, b.len) : 0;
    ss_buf_release(&b);
    return h;
}

static int write_best(run *r, ss_error *err)
{
    if (!r->have_best)
        return SS_OK;
    double *x = malloc(r->np * sizeof *x);
    json_t *o = json_object();
    if (!x || !o) {
        free(x);
        json_decref(o);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    ss_l2l_space_decode(r->task->params, r->np, r->best_u, x);
    int bad = json_object_set_new(o, "task", json_string(r->task->name)) ||
              json_object_set_new(o, "metric", json_string(r->task->metric)) ||
              json_object_set_new(o, "optimizer", json_string(r->o->type->name)) ||
              json_object_set_new(o, "seed", json_integer((json_int_t)r->seed)) ||
              json_object_set_new(o, "generation", json_integer((json_int_t)r->best_gen)) ||
              json_object_set_new(o, "polished", json_integer(r->polished)) ||
              (isfinite(r->best_train) ? ss_json_set_number(o, "train", r->best_train)
                                       : json_object_set_new(o, "train", json_null())) ||
              ss_json_set_number(o, "validation", r->best_val);
    for (size_t i = 0; !bad && i < r->np; i++) {
        char key[96];
        snprintf(key, sizeof key, "params.%s", r->task->params[i].name);
        bad = ss_json_set_number(o, key, x[i]);
    }
    if (!bad && r->task->has_device) {
        json_t *dev = ss_device_json(&r->task->device);
        bad = !dev || json_object_set_new(o, "device", dev);
    }
    int rc = bad ? ss_error_set(err, SS_ENOMEM, "out of memory") : ss_json_write(o, r->path[P_BEST], err);
    json_decref(o);
    free(x);
    return rc;
}

static int write_checkpoint(run *r, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_printf(&b, CKPT_MAGIC "\nrun.task %s\nrun.space %016llx\n", r->task->name,
                           (unsigned long long)space_hash(r->task));
    if (!rc)
        rc = ss_buf_printf(&b, "run.seed %llu\nrun.ntrain %zu\nrun.nval %zu\nrun.gen %llu\n"
                           "run.evals %llu\nrun.failed %llu\nrun.have_best %d\nrun.best_gen %llu\n"
                           "run.polished %d\nrun.polished_at %llu\nrun.files %ld %ld\n"
                           "run.select %s\n",
                           (unsigned long long)r->seed, r->ntrain, r->nval,
                           (unsigned long long)r->gen, (unsigned long long)r->evals,
                           (unsigned long long)r->failed, r->have_best,
                           (unsigned long long)r->best_gen, r->polished,
                           (unsigned long long)r->polished_at, r->gens_len, r->evals_len,
                           r->center ? "center" : "best");
    if (!rc)
        rc = l2li_put_doubles(&b, "run.best_val", &r->best_val, 1);
    if (!rc)
        rc = l2li_put_doubles(&b, "run.best_train", &r->best_train, 1);
    if (!rc)
        rc = l2li_put_doubles(&b, "run.best_u", r->best_u, r->nfree);
    if (rc) {
        ss_buf_release(&b);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if ((rc = ss_l2l_opt_save(r->o, &b, err))) {
        ss_buf_release(&b);
        return rc;
    }
    if (!(rc = l2li_seal(&b)))
        rc = ss_util_write_file_atomic(r->path[P_CKPT], b.data, b.len, err);
    else
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_buf_release(&b);
    return rc;
}

static int mismatch(ss_error *err, const char *path, const char *what, unsigned long long have,
                    unsigned long long want)
{
    return ss_error_set(err, SS_EINVAL, "%s: the run was started with %s %llu, not %llu "
                        "(resume with the same settings)", path, what, have, want);
}

/* A resumed run keeps the optimizer settings of its checkpoint; a setting
 * asked for that is not the default and differs from the run's is refused. */
static int settings_differ(const ss_l2l_opt_settings *want, const ss_l2l_opt_settings *have,
                           const char *path, ss_error *err)
{
    const ss_l2l_opt_settings def = SS_L2L_OPT_SETTINGS_INIT;
    struct { const char *name; double want, have, def; } v[] = {
        {"sigma0", want->sigma0, have->sigma0, def.sigma0},
        {"rho", want->rho, have->rho, def.rho},
        {"smoothing", want->smoothing, have->smoothing, def.smoothing},
        {"noise", want->noise, have->noise, def.noise},
        {"noise_decay", want->noise_decay, have->noise_decay, def.noise_decay},
        {"tournament", (double)want->tournament, (double)have->tournament, (double)def.tournament},
        {"cx_prob", want->cx_prob, have->cx_prob, def.cx_prob},
        {"mut_prob", want->mut_prob, have->mut_prob, def.mut_prob},
        {"mut_sigma", want->mut_sigma, have->mut_sigma, def.mut_sigma},
        {"elite", (double)want->elite, (double)have->elite, (double)def.elite},
        {"grid_points", (double)want->grid_points, (double)have->grid_points,
         (double)def.grid_points},
        {"restarts", (double)want->restarts, (double)have->restarts, (double)def.restarts},
        {"tolfun", want->tolfun, have->tolfun, def.tolfun},
        {"tolx", want->tolx, have->tolx, def.tolx},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (v[i].want != v[i].def && v[i].want != v[i].have)
            return ss_error_set(err, SS_EINVAL, "%s: the run was started with %s %g, not %g "
                                "(resume with the same settings)", path, v[i].name, v[i].have,
                                v[i].want);
    return SS_OK;
}

static int read_checkpoint(run *r, ss_error *err)
{
    const char *path = r->path[P_CKPT];
    char *text = NULL;
    size_t len;
    l2li_kv kv = {0};
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc) {
        if (access(path, F_OK))
            rc = ss_error_set(err, SS_ENOTFOUND, "%s: no checkpoint to resume (start the run "
                              "without --resume)", path);
        return rc;
    }
    if ((rc = l2li_check_seal(text, len, CKPT_MAGIC, "an l2l checkpoint", path, err)) ||
        (rc = l2li_kv_parse(&kv, text, path, err)))
        goto out;
    const char *name, *space, *files;
    uint64_t v;
    int have_best, polished;
    if ((rc = l2li_kv_str(&kv, "run.task", &name, err)) ||
        (rc = l2li_kv_str(&kv, "run.space", &space, err)))
        goto out;
    if (strcmp(name, r->task->name)) {
        rc = ss_error_set(err, SS_EINVAL, "%s: the run is of task '%s', not '%s'", path, name,
                          r->task->name);
        goto out;
    }
    char sh[17];
    snprintf(sh, sizeof sh, "%016llx", (unsigned long long)space_hash(r->task));
    if (strcmp(space, sh)) {
        rc = ss_error_set(err, SS_EINVAL, "%s: the parameter space differs from the run's "
                          "(bounds, fixed parameters or the device changed)", path);
        goto out;
    }
    if ((rc = l2li_kv_u64(&kv, "run.seed", &r->seed, err)))
        goto out;
    if (r->seed != r->opt->seed) {
        rc = mismatch(err, path, "--seed", r->seed, r->opt->seed);
        goto out;
    }
    size_t nt, nv;
    if ((rc = l2li_kv_size(&kv, "run.ntrain", &nt, err)) ||
        (rc = l2li_kv_size(&kv, "run.nval", &nv, err)))
        goto out;
    if (r->opt->ntrain && nt != r->opt->ntrain) {
        rc = mismatch(err, path, "training tasks", nt, r->opt->ntrain);
        goto out;
    }
    if (r->opt->nval && nv != r->opt->nval) {
        rc = mismatch(err, path, "validation tasks", nv, r->opt->nval);
        goto out;
    }
    if (!nt || !nv || nt > 100000 || nv > 100000) {
        rc = ss_error_set(err, SS_EPARSE, "%s: bad task counts", path);
        goto out;
    }
    r->ntrain = nt;
    r->nval = nv;
    if ((rc = l2li_kv_u64(&kv, "run.gen", &r->gen, err)) ||
        (rc = l2li_kv_u64(&kv, "run.evals", &r->evals, err)) ||
        (rc = l2li_kv_u64(&kv, "run.failed", &r->failed, err)) ||
        (rc = l2li_kv_u64(&kv, "run.have_best", &v, err)))
        goto out;
    have_best = v != 0;
    if ((rc = l2li_kv_u64(&kv, "run.best_gen", &r->best_gen, err)) ||
        (rc = l2li_kv_u64(&kv, "run.polished", &v, err)))
        goto out;
    polished = v != 0;
    if ((rc = l2li_kv_u64(&kv, "run.polished_at", &r->polished_at, err)) ||
        (rc = l2li_kv_str(&kv, "run.files", &files, err)) ||
        (rc = l2li_kv_double(&kv, "run.best_val", &r->best_val, err)) ||
        (rc = l2li_kv_double(&kv, "run.best_train", &r->best_train, err)) ||
        (rc = l2li_kv_doubles(&kv, "run.best_u", r->best_u, r->nfree, err)))
        goto out;
    char extra;
    if (sscanf(files, "%ld %ld %c", &r->gens_len, &r->evals_len, &extra) != 2 ||
        r->gens_len < 0 || r->evals_len < 0) {
        rc = ss_error_set(err, SS_EPARSE, "%s: bad 'run.files' line", path);
        goto out;
    }
    /* checkpoints written before the choice existed validated the best */
    const char *sel = "best";
    (void)l2li_kv_str(&kv, "run.select", &sel, NULL);
    if (strcmp(sel, "best") && strcmp(sel, "center")) {
        rc = ss_error_set(err, SS_EPARSE, "%s: bad 'run.select' line", path);
        goto out;
    }
    r->center = !strcmp(sel, "center");
    if ((r->opt->select == SS_L2L_SELECT_BEST && r->center) ||
        (r->opt->select == SS_L2L_SELECT_CENTER && !r->center)) {
        rc = ss_error_set(err, SS_EINVAL, "%s: the run validates the %s, not the %s (resume "
                          "with the same settings)", path, r->center ? "centre" : "best",
                          r->center ? "best" : "centre");
        goto out;
    }
    r->have_best = have_best;
    r->polished = polished;
    if (!(r->o = ss_l2l_opt_load(text, path, err))) {
        rc = err ? err->code : SS_EPARSE;
        goto out;
    }
    if (r->opt->optimizer && r->opt->optimizer != r->o->type) {
        rc = ss_error_set(err, SS_EINVAL, "%s: the run uses optimizer %s, not %s", path,
                          r->o->type->name, r->opt->optimizer->name);
        goto out;
    }
    if (r->opt->settings.pop && r->opt->settings.pop != r->o->pop0) {
        rc = mismatch(err, path, "population", r->o->pop0, r->opt->settings.pop);
        goto out;
    }
    if ((rc = settings_differ(&r->opt->settings, &r->o->set, path, err)))
        goto out;
    if (r->o->dim != r->nfree || r->o->gen != r->gen) {
        rc = ss_error_set(err, SS_EPARSE, "%s: optimizer state does not match the run", path);
        goto out;
    }
out:
    if (rc) {
        ss_l2l_opt_free(r->o);
        r->o = NULL;
    }
    l2li_kv_release(&kv);
    free(text);
    return rc;
}

/* Cuts a log back to the length the checkpoint knows (a crash may have
 * left rows of an unfinished generation). */
static int cut_file(const char *path, long len, ss_error *err)
{
    struct stat st;
    if (stat(path, &st))
        return ss_error_set(err, SS_EIO, "%s: %s (needed to resume)", path, strerror(errno));
    if (st.st_size < len)
        return ss_error_set(err, SS_EPARSE, "%s: shorter than the checkpoint records (%lld < %ld "
                            "bytes)", path, (long long)st.st_size, len);
    if (st.st_size > len && truncate(path, len))
        return ss_error_set(err, SS_EIO, "%s: cannot truncate: %s", path, strerror(errno));
    return SS_OK;
}

static int start_files(run *r, ss_error *err)
{
    ss_buf g = SS_BUF_INIT, e = SS_BUF_INIT;
    int rc = ss_buf_printf(&g, "gen,evals,failed,best,mean,val,best_val,spread,pop,seconds\n");
    if (!rc)
        rc = ss_buf_printf(&e, "gen,set,index,status,metric,fitness,attempts,seconds");
    for (size_t i = 0; !rc && i < r->np; i++)
        rc = ss_buf_printf(&e, ",%s", r->task->params[i].name);
    if (!rc)
        rc = ss_buf_add(&e, "\n", 1);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = ss_util_write_file_atomic(r->path[P_GENS], g.data, g.len, err);
    if (!rc)
        rc = ss_util_write_file_atomic(r->path[P_EVALS], e.data, e.len, err);
    r->gens_len = (long)g.len;
    r->evals_len = (long)e.len;
    ss_buf_release(&g);
    ss_buf_release(&e);
    return rc;
}

static void gen_event(run *r, int kind, uint64_t gen, double gbest, double gval, size_t failed)
{
    if (!r->opt->progress)
        return;
    ss_l2l_event ev = {0};
    ev.kind = kind;
    ev.generation = gen;
    ev.generations = r->opt->generations;
    ev.set = "";
    ev.msg = "";
    ev.metric = NAN;
    ev.gen_best = gbest;
    ev.gen_val = gval;
    ev.best_val = r->best_val;
    ev.failed = failed;
    ev.evals = r->evals;
    ev.elapsed = ss_util_now() - r->t0;
    ev.pop = ss_l2l_opt_pop(r->o);
    ev.restarts = ss_l2l_opt_restarts(r->o);
    r->opt->progress(r->opt->user, &ev);
}

/* Validation value of the point u (nfree); inf when it fails. */
static int validate(run *r, const double *u, size_t index, double *val, ss_error *err)
{
    double *x = malloc(r->np * sizeof *x);
    uint64_t *seeds = malloc(r->nval * sizeof *seeds);
    ejob *j = NULL;
    int rc = SS_OK;
    if (!x || !seeds) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    ss_l2l_space_decode(r->task->params, r->np, u, x);
    for (size_t k = 0; k < r->nval; k++)
        seeds[k] = ss_l2l_task_seed(SS_L2L_VAL, r->seed, 0, k);
    if ((rc = eval_points(r, "val", x, 1, seeds, r->nval, &j, err)))
        goto out;
    *val = j->status ? INFINITY : j->metric;
    rc = add_row(r, index, j, *val, x);
    if (rc)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ejob_release(j, 1);
out:
    free(x);
    free(seeds);
    return rc;
}

/* One generation, ending with the checkpoint.  *done = 1 when the
 * optimizer has nothing more to ask (grid). */
static int generation(run *r, int *done, ss_error *err)
{
    size_t pop = r->o->pop, n = 0, nfail = 0;
    double *U = malloc(pop * r->nfree * sizeof *U), *X = malloc(pop * r->np * sizeof *X);
    double *f = malloc(pop * sizeof *f);
    uint64_t *seeds = malloc(r->ntrain * sizeof *seeds);
    ejob *jobs = NULL;
    ss_buf grow = SS_BUF_INIT;
    int rc = SS_OK;
    double t0 = ss_util_now();
    if (!U || !X || !f || !seeds) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = ss_l2l_opt_ask(r->o, U, &n, err)))
        goto out;
    if (!n) {
        *done = 1;
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        ss_l2l_space_decode(r->task->params, r->np, &U[i * r->nfree], &X[i * r->np]);
    for (size_t k = 0; k < r->ntrain; k++)
        seeds[k] = ss_l2l_task_seed(SS_L2L_TRAIN, r->seed, r->gen, k);
    if ((rc = eval_points(r, "train", X, n, seeds, r->ntrain, &jobs, err)))
        goto out;
    /* penalty: worse than the worst success of the generation */
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t best = 0;
    for (size_t i = 0; i < n; i++) {
        if (jobs[i].status) {
            nfail++;
            continue;
        }
        sum += jobs[i].metric;
        if (jobs[i].metric < lo) {
            lo = jobs[i].metric;
            best = i;
        }
        hi = fmax(hi, jobs[i].metric);
    }
    double pen = nfail == n ? 1e300 : hi + fmax(1.0, fmax(hi - lo, 0.1 * fabs(hi)));
    if (!isfinite(pen))
        pen = DBL_MAX;
    for (size_t i = 0; i < n; i++) {
        f[i] = jobs[i].status ? pen : jobs[i].metric;
        if ((rc = add_row(r, i, &jobs[i], f[i], &X[i * r->np]))) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
    }
    if ((rc = ss_l2l_opt_tell(r->o, U, f, n, err)))
        goto out;
    double val = INFINITY;
    if (nfail < n) {
        /* the centre after this generation's update (never evaluated on
         * training instances: its train value is unknown), or the best */
        const double *vu = &U[best * r->nfree];
        double vtrain = lo;
        size_t vi = best;
        if (r->center && ss_l2l_opt_center(r->o, r->cu))
            vu = r->cu, vtrain = NAN, vi = n;
        if ((rc = validate(r, vu, vi, &val, err)))
            goto out;
        if (val < r->best_val) {
            r->best_val = val;
            r->best_train = vtrain;
            r->best_gen = r->gen;
            r->polished = 0;
            r->have_best = 1;
            memcpy(r->best_u, vu, r->nfree * sizeof *U);
        }
    }
    char a[32], b[32], c[32], d[32], e[32];
    ss_util_format_double(a, nfail < n ? lo : NAN);
    ss_util_format_double(b, nfail < n ? sum / (double)(n - nfail) : NAN);
    ss_util_format_double(c, val);
    ss_util_format_double(d, r->best_val);
    ss_util_format_double(e, ss_l2l_opt_spread(r->o));
    if (ss_buf_printf(&grow, "%llu,%llu,%zu,%s,%s,%s,%s,%s,%zu,%.3f\n", (unsigned long long)r->gen,
                      (unsigned long long)r->evals, nfail, a, b, c, d, e, n, ss_util_now() - t0)) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    r->gen++;
    if ((rc = append_file(r->path[P_EVALS], &r->rows, &r->evals_len, err)) ||
        (rc = append_file(r->path[P_GENS], &grow, &r->gens_len, err)) ||
        (rc = write_best(r, err)) || (rc = write_checkpoint(r, err)))
        goto out;
    r->rows.len = 0;
    gen_event(r, SS_L2L_EV_GENERATION, r->gen - 1, nfail < n ? lo : NAN, val, nfail);
out:
    ss_buf_release(&grow);
    ejob_release(jobs, n);
    free(U), free(X), free(f), free(seeds);
    return rc;
}

static int polish_objective(void *user, const double *u, double *fu)
{
    run *r = user;
    ejob *j = NULL;
    ss_l2l_space_decode(r->task->params, r->np, u, r->px);
    int rc = eval_points(r, "polish", r->px, 1, r->pseeds, r->ntrain, &j, r->perr);
    if (rc)
        return r->prc = rc;
    *fu = j->status ? DBL_MAX : j->metric;
    if (add_row(r, 0, j, *fu, r->px))
        rc = r->prc = ss_error_set(r->perr, SS_ENOMEM, "out of memory");
    ejob_release(j, 1);
    return rc;
}

/* Nelder-Mead from the validation-selected best on a fixed set of training
 * instances; the result replaces the best only if its validation is better. */
static int polish(run *r, ss_error *err)
{
    int rc = SS_OK;
    double *u = malloc(r->nfree * sizeof *u);
    r->px = malloc(r->np * sizeof *r->px);
    r->pseeds = malloc(r->ntrain * sizeof *r->pseeds);
    if (!u || !r->px || !r->pseeds) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t k = 0; k < r->ntrain; k++)
        r->pseeds[k] = ss_l2l_task_seed(SS_L2L_TRAIN, r->seed, UINT64_MAX, k);
    r->perr = err;
    r->prc = SS_OK;
    memcpy(u, r->best_u, r->nfree * sizeof *u);
    double fu;
    size_t used = 0;
    if ((rc = polish_objective(r, u, &fu)))
        goto out;
    double step = ss_l2l_opt_spread(r->o);
    step = step > 0 ? fmin(0.1, fmax(1e-4, step)) : 0.05;
    rc = ss_l2l_polish(r->nfree, u, &fu, step, r->opt->polish_evals - 1, polish_objective, r,
                       &used, err);
    if (rc)
        goto out;
    double val = INFINITY;
    if (memcmp(u, r->best_u, r->nfree * sizeof *u)) {
        if ((rc = validate(r, u, 0, &val, err)))
            goto out;
        if (val < r->best_val) {
            r->best_val = val;
            r->best_train = fu;
            r->best_gen = r->gen;
            r->polished = 1;
            memcpy(r->best_u, u, r->nfree * sizeof *u);
        }
    }
    r->polished_at = r->gen + 1;
    if ((rc = append_file(r->path[P_EVALS], &r->rows, &r->evals_len, err)) ||
        (rc = write_best(r, err)) || (rc = write_checkpoint(r, err)))
        goto out;
    r->rows.len = 0;
    gen_event(r, SS_L2L_EV_POLISH, r->gen, fu, val, 0);
out:
    free(u);
    free(r->px);
    free(r->pseeds);
    r->px = NULL;
    r->pseeds = NULL;
    return rc;
}

static void plot(run *r, ss_l2l_summary *sum)
{
    ss_buf s = SS_BUF_INIT;
    ss_error e;
    ss_error_clear(&e);
    int pos = r->have_best && r->best_val > 0;
    int rc = ss_buf_printf(&s,
                           "set terminal pngcairo size 900,600 noenhanced\n"
                           "set output '%s'\nset datafile separator ','\nset grid\n"
                           "set key top right\nset title '%s: %s, %s (seed %llu)'\n"
                           "set xlabel 'evaluations'\nset ylabel '%s'\n%s"
                           "plot '%s' every ::1 using 2:4 with lines title 'generation best "
                           "(training)', '' every ::1 using 2:7 with lines lw 2 title 'best "
                           "(validation)'\n",
                           r->path[P_PNG], r->task->name, r->task->metric, r->o->type->name,
                           (unsigned long long)r->seed, r->task->metric,
                           pos ? "set logscale y\n" : "", r->path[P_GENS]);
    if (!rc && strchr(r->path[P_PNG], '\''))
        ss_error_set(&e, SS_EINVAL, "no plot: the folder name has a quote");
    else if (!rc)
        ss_util_gnuplot(s.data, &e);
    if (e.code)
        snprintf(sum->plot_msg, sizeof sum->plot_msg, "%s", e.msg);
    ss_buf_release(&s);
}

static int check_options(const ss_l2l_task *t, const ss_l2l_options *opt, ss_error *err)
{
    if (!t || !t->evaluate)
        return ss_error_set(err, SS_EINVAL, "no task");
    if (!opt || !opt->rundir || !*opt->rundir)
        return ss_error_set(err, SS_EINVAL, "no run folder");
    if (!t->metric || !*t->metric)
        return ss_error_set(err, SS_EINVAL, "task %s has no metric name", t->name);
    int rc = ss_l2l_space_check(t->params, t->nparams, err);
    if (rc)
        return ss_error_prefix(err, rc, "task %s", t->name);
    if (opt->retries < 0 || opt->retries > 100)
        return ss_error_set(err, SS_EINVAL, "retries %d is not in 0..100", opt->retries);
    if (opt->select < SS_L2L_SELECT_AUTO || opt->select > SS_L2L_SELECT_CENTER)
        return ss_error_set(err, SS_EINVAL, "select %d is not one of SS_L2L_SELECT_*", opt->select);
    if (opt->select == SS_L2L_SELECT_CENTER && opt->optimizer &&
        !ss_l2l_opt_type_has_center(opt->optimizer))
        return ss_error_set(err, SS_EINVAL, "--select mean: %s has no distribution mean (use "
                            "cmaes or ce, or --select best)", opt->optimizer->name);
    if (!(opt->timeout >= 0))
        return ss_error_set(err, SS_EINVAL, "timeout %g is negative", opt->timeout);
    if (opt->ntrain > 100000 || opt->nval > 100000)
        return ss_error_set(err, SS_EINVAL, "too many task instances per evaluation");
    if (!(opt->ntrain ? opt->ntrain : t->ntrain) || !(opt->nval ? opt->nval : t->nval))
        return ss_error_set(err, SS_EINVAL, "task %s: no training or validation instances",
                            t->name);
    return SS_OK;
}

/* The task as the workers see it: tasks with per-worker state may keep
 * results between runs (the arm tasks' ngspice lookups), in `cache`
 * (RUNDIR/lut-cache, created) unless the task names a folder. */
static int worker_task(const ss_l2l_task *task, const char *cache, ss_l2l_task *w, ss_error *err)
{
    *w = *task;
    if (!task->start || task->cache_dir)
        return SS_OK;
    if (mkdir(cache, 0777) && errno != EEXIST)
        return ss_error_set(err, SS_EIO, "%s: cannot create: %s", cache, strerror(errno));
    w->cache_dir = cache;
    return SS_OK;
}

int ss_l2l_serve(const ss_l2l_task *task, const ss_l2l_options *opt, ss_error *err)
{
    int rc = check_options(task, opt, err);
    if (rc)
        return rc;
    size_t len = strlen(opt->rundir) + sizeof "/lut-cache";
    char *cache = malloc(len);
    if (!cache)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    snprintf(cache, len, "%s/lut-cache", opt->rundir);
    ss_l2l_task w;
    /* the folder may be rank 0's only (no shared file system): then no cache */
    if (worker_task(task, cache, &w, NULL))
        w.cache_dir = NULL;
    rc = ss_pool_serve(&l2l_kind, &w, opt->jobs, opt->timeout, err);
    free(cache);
    return rc;
}

int ss_l2l_run(const ss_l2l_task *task, const ss_l2l_options *opt, ss_l2l_summary *sum,
               ss_error *err)
{
    ss_l2l_summary dummy;
    if (!sum)
        sum = &dummy;
    memset(sum, 0, sizeof *sum);
    sum->best_val = INFINITY;
    int rc = check_options(task, opt, err);
    if (rc)
        return rc;
    run r = {0};
    r.task = task;
    r.opt = opt;
    r.t0 = ss_util_now();
    r.np = task->nparams;
    r.nfree = ss_l2l_space_nfree(task->params, task->nparams);
    r.ntrain = opt->ntrain ? opt->ntrain : task->ntrain;
    r.nval = opt->nval ? opt->nval : task->nval;
    r.seed = opt->seed;
    r.best_val = INFINITY;
    r.best_train = INFINITY;
    double *u0 = NULL;
    if (!(r.best_u = calloc(r.nfree, sizeof *r.best_u)) || !(u0 = malloc(r.nfree * sizeof *u0)) ||
        !(r.cu = malloc(r.nfree * sizeof *r.cu))) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < NPATHS; i++) {
        size_t len = strlen(opt->rundir) + strlen(file_names[i]) + 2;
        if (!(r.path[i] = malloc(len))) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        snprintf(r.path[i], len, "%s/%s", opt->rundir, file_names[i]);
    }
    if (mkdir(opt->rundir, 0777) && errno != EEXIST) {
        rc = ss_error_set(err, SS_EIO, "%s: cannot create: %s", opt->rundir, strerror(errno));
        goto out;
    }
    if (opt->resume) {
        if ((rc = read_checkpoint(&r, err)) || (rc = cut_file(r.path[P_GENS], r.gens_len, err)) ||
            (rc = cut_file(r.path[P_EVALS], r.evals_len, err)))
            goto out;
    } else {
        if (!access(r.path[P_CKPT], F_OK)) {
            rc = ss_error_set(err, SS_EINVAL, "%s already holds a run (use --resume to continue "
                              "it, or another folder)", opt->rundir);
            goto out;
        }
        double *x0 = malloc(r.np * sizeof *x0);
        if (!x0) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < r.np; i++)
            x0[i] = task->params[i].init;
        ss_l2l_space_encode(task->params, r.np, x0, u0);
        free(x0);
        r.o = ss_l2l_opt_alloc(opt->optimizer ? opt->optimizer : ss_l2l_opt_cmaes, r.nfree, u0,
                               &opt->settings, opt->seed, err);
        if (!r.o) {
            rc = err ? err->code : SS_EINVAL;
            goto out;
        }
        r.center = ss_l2l_opt_center(r.o, r.cu) && opt->select != SS_L2L_SELECT_BEST;
        if ((rc = start_files(&r, err)))
            goto out;
    }
    r.fail = ss_util_open_output(r.path[P_FAIL], opt->resume ? "a" : "w", NULL);
    if ((rc = worker_task(task, r.path[P_CACHE], &r.wtask, err)))
        goto out;
    if (!(r.pool = ss_pool_alloc_ranks(&l2l_kind, &r.wtask, opt->jobs, opt->timeout,
                                             err))) {
        rc = err ? err->code : SS_ENOMEM;
        goto out;
    }
    int done = 0;
    while (!done && r.gen < opt->generations)
        if ((rc = generation(&r, &done, err)))
            goto out;
    if (opt->polish_evals && r.have_best && r.polished_at != r.gen + 1 && (rc = polish(&r, err)))
        goto out;
    if (opt->plot)
        plot(&r, sum);
out:
    sum->generations = r.gen;
    sum->evals = r.evals;
    sum->failed = r.failed;
    sum->best_val = r.best_val;
    sum->best_gen = r.best_gen;
    sum->polished = r.polished;
    sum->seconds = ss_util_now() - r.t0;
    ss_pool_free(r.pool);
    if (r.fail)
        fclose(r.fail);
    ss_l2l_opt_free(r.o);
    ss_buf_release(&r.rows);
    for (size_t i = 0; i < NPATHS; i++)
        free(r.path[i]);
    free(r.best_u);
    free(r.cu);
    free(u0);
    return rc;
}

/* ---- best.json and test ---------------------------------------------------------------- */

int ss_l2l_best_read(const char *path, const ss_l2l_task *task, double *x, ss_error *err)
{
    json_t *root;
    char *text;
    int rc = ss_json_load(path, &root, &text, err);
    if (rc)
        return rc;
    const char *key;
    json_t *val;
    const char *tk[] = {"task"};
    json_t *tn = json_object_get(root, "task");
    if (!json_is_object(root)) {
        rc = ss_error_set(err, SS_EPARSE, "%s:1: not a JSON object (a best.json)", path);
        goto out;
    }
    if (!tn) {
        rc = ss_error_set(err, SS_EPARSE, "%s: no \"task\" entry (not a best.json)", path);
        goto out;
    }
    if (!json_is_string(tn) || strcmp(json_string_value(tn), task->name)) {
        rc = ss_error_set(err, SS_EINVAL, "%s:%d: made for task '%s', not '%s'", path,
                          ss_json_line(text, tk, 1), json_is_string(tn) ? json_string_value(tn) : "?",
                          task->name);
        goto out;
    }
    /* made with the same device (ss_l2l_task_set_device) or both with the
     * task's own */
    json_t *dev = json_object_get(root, "device"), *mine = task->has_device ? ss_device_json(&task->device) : NULL;
    int same = dev ? mine && json_equal(dev, mine) : !task->has_device;
    json_decref(mine);
    if (!same) {
        const char *dk[] = {"device"};
        rc = ss_error_set(err, SS_EINVAL, "%s:%d: made %s, not %s (give the same --device FILE)", path,
                          dev ? ss_json_line(text, dk, 1) : 1,
                          dev ? "with the device it lists" : "with the task's own device",
                          task->has_device ? "the device given" : "the task's own device");
        goto out;
    }
    json_object_foreach(root, key, val)
    {
        if (strncmp(key, "params.", 7))
            continue;
        size_t k = 0;
        while (k < task->nparams && strcmp(task->params[k].name, key + 7))
            k++;
        if (k == task->nparams) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: task %s has no parameter '%s'", path,
                              ss_json_line(text, &key, 1), task->name, key + 7);
            goto out;
        }
    }
    for (size_t k = 0; k < task->nparams; k++) {
        const ss_l2l_param *p = &task->params[k];
        char name[96];
        snprintf(name, sizeof name, "params.%s", p->name);
        json_t *v = json_object_get(root, name);
        if (!v) {
            rc = ss_error_set(err, SS_EPARSE, "%s: no value for parameter '%s'", path, p->name);
            goto out;
        }
        double d = json_is_number(v) ? json_number_value(v) : NAN;
        if (!(d >= p->lo && d <= p->hi)) {
            const char *nk = name;
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: %s must be a number in [%g, %g]", path,
                              ss_json_line(text, &nk, 1), p->name, p->lo, p->hi);
            goto out;
        }
        x[k] = d;
    }
out:
    json_decref(root);
    free(text);
    return rc;
}

typedef struct first_failure {
    size_t index;
    char msg[SS_ERROR_MSG_MAX];
} first_failure;

static void keep_failure(void *user, size_t i, const ejob *j, const char *msg, int final)
{
    first_failure *ff = user;
    if (j->status && final && !ff->msg[0]) {
        ff->index = i;
        snprintf(ff->msg, sizeof ff->msg, "%s", msg && *msg ? msg : ss_strerror(j->status));
    }
}

int ss_l2l_test(const ss_l2l_task *task, const double *x, size_t ntest, int jobs, double timeout,
                double *metric, ss_error *err)
{
    if (!task || !task->evaluate)
        return ss_error_set(err, SS_EINVAL, "no task");
    int rc = ss_l2l_space_check(task->params, task->nparams, err);
    if (rc)
        return ss_error_prefix(err, rc, "task %s", task->name);
    for (size_t i = 0; i < task->nparams; i++)
        if (!(x[i] >= task->params[i].lo && x[i] <= task->params[i].hi))
            return ss_error_set(err, SS_EINVAL, "%s = %g is outside [%g, %g]",
                                task->params[i].name, x[i], task->params[i].lo,
                                task->params[i].hi);
    if (!ntest)
        ntest = task->ntest;
    if (!ntest || ntest > 1000000)
        return ss_error_set(err, SS_EINVAL, "%zu test instances", ntest);
    ejob *j = calloc(ntest, sizeof *j);
    ss_pool *pool = NULL;
    if (!j)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; k < ntest && !rc; k++) {
        uint64_t s = ss_l2l_task_seed(SS_L2L_TEST, 0, 0, k);
        if (ejob_init(&j[k], x, task->nparams, &s, 1))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!rc && !(pool = ss_pool_alloc(&l2l_kind, (void *)task, jobs, timeout, err)))
        rc = err ? err->code : SS_ENOMEM;
    first_failure ff = {0, ""};
    if (!rc)
        rc = ejob_run(pool, j, ntest, 1, keep_failure, &ff, err);
    double sum = 0;
    for (size_t k = 0; k < ntest && !rc; k++)
        sum += j[k].metric;
    if (!rc && ff.msg[0])
        rc = ss_error_set(err, j[ff.index].status, "%s: test instance %zu failed: %s",
                          task->name, ff.index, ff.msg);
    if (!rc)
        *metric = sum / (double)ntest;
    ss_pool_free(pool);
    ejob_release(j, ntest);
    return rc;
}
