/* campaign.c: characterization campaigns: f-I curves, energy, rheobase,
 * refractory period, adaptation, Monte Carlo and temperature corners of a
 * circuit as one job kind on the worker pool, a resumable journal, the CSV,
 * compact-model extraction and the plot. */
#include "circuits/circuits_private.h"
#include "pool/ss_pool.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NV 11 /* values per job: rate .. nspikes, or the rheobase */

enum { M_RATE, M_ISI, M_CV, M_ENERGY, M_POWER, M_RHEO, M_REF, M_ADAPT, M_TAU, M_GAIN, M_N };
static const char *const mnames[M_N] = {"rate",       "isi",        "cv",  "energy",
                                        "power",      "rheobase",   "refractory",
                                        "adaptation", "tau",        "gain"};

static const char journal_header[] =
    "job,status,rate,isi_first,isi_last,cv,energy,power,refractory,adaptation,tau,gain,nspikes,"
    "config,check";

struct ss_circuit_campaign {
    ss_circuit_campaign_spec spec; /* values and temps point into the copies below */
    double *values, *temps;
    size_t nsamples, npts, ngroups, nres;
    double *vals; /* nres x NV */
    int *ok;
    size_t failed;
    char models[PATH_MAX + 256]; /* spec.base.models made absolute ("FILE[@SECTION]") */
    char run_dir[PATH_MAX];      /* the workers' run folders go below it */
};

/* ---- measures ------------------------------------------------------------------ */

int ss_circuit_measures_parse(const char *list, int kind, unsigned *flags, ss_error *err)
{
    if (!list)
        list = kind == SS_CIRCUIT_SYNAPSE ? "tau,gain"
                                          : "rate,isi,cv,energy,power,refractory,adaptation";
    unsigned f = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        int k = 0;
        while (k < M_N && (strlen(mnames[k]) != n || strncmp(p, mnames[k], n)))
            k++;
        if (k == M_N)
            return ss_error_set(err, SS_EINVAL, "unknown measure '%.*s'", (int)n, p);
        f |= 1u << k;
        p += n;
        if (*p == ',')
            p++;
    }
    *flags = f;
    return SS_OK;
}

void ss_circuit_campaign_spec_init(ss_circuit_campaign_spec *spec, const ss_circuit_info *info)
{
    static const double room = 27.0;
    memset(spec, 0, sizeof *spec);
    ss_circuit_config_init(&spec->base, info);
    spec->base.avt = 4.0;
    spec->bias = -1;
    spec->input = info->input_default;
    spec->temps = &room;
    spec->ntemps = 1;
    ss_circuit_measures_parse(NULL, info->kind, &spec->measures, NULL);
    spec->rheo_lo = 1e-12;
    spec->rheo_hi = 1e-9;
    spec->jobs = 1;
    spec->timeout = 600.0;
}

/* ---- the job kind (runs in the workers) ------------------------------------------ */

struct job {
    int rheobase; /* 1: rheobase bisection instead of one point */
    int trace;    /* 1: the membrane trace of the plot (reply: "t_ms v" lines) */
    int bias;     /* swept bias index, -1: the input */
    double value, temp;
    uint64_t sample;
};

/* Each worker confines itself (ss_engine_confine): the benches hold the
 * designer's (screened) subcircuit and include only the card file, so the
 * worker reads the card file's folder, the designer's folder (data files
 * its subcircuit names) and the trusted folders, and writes only a run
 * folder of its own. */
static int job_start(void *arg, void **state, ss_error *err)
{
    const ss_circuit_campaign *c = arg;
    const ss_circuit_info *ci = c->spec.base.info;
    ss_engine *eng;
    ss_netlist roots = SS_NETLIST_INIT;
    char dir[PATH_MAX + 16], folder[PATH_MAX], mine[PATH_MAX];
    int rc = ss_engine_open(&eng, err);
    if (rc)
        return rc;
    *state = eng;
    snprintf(folder, sizeof folder, "%s", c->spec.base.models ? c->spec.base.models : "");
    char *cut = strrchr(folder, '@');
    if (cut)
        *cut = '\0';
    if ((cut = strrchr(folder, '/')))
        *cut = '\0';
    mine[0] = '\0';
    if (ci->like && realpath(ci->file, mine) && (cut = strrchr(mine, '/')))
        cut[cut == mine] = '\0';
    snprintf(dir, sizeof dir, "%s/w-XXXXXX", c->run_dir);
    if (!mkdtemp(dir))
        rc = ss_error_set(err, SS_EIO, "cannot create a run folder in '%s': %s", c->run_dir,
                          strerror(errno));
    else if (ss_netlist_set_roots(&roots, folder[0] ? folder : NULL) ||
             (mine[0] && ss_netlist_set_roots(&roots, mine)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else
        rc = ss_engine_confine(eng, &roots, dir, NULL, 0, err);
    ss_netlist_release(&roots);
    return rc;
}

static void job_stop(void *state, void *arg)
{
    (void)arg;
    ss_engine_free(state);
}

static void fmt(ss_buf *b, double x)
{
    char s[32];
    ss_util_format_double(s, x);
    ss_buf_printf(b, "%s ", s);
}

static int trace(ss_engine *eng, const ss_circuit_config *cfg, double input, ss_buf *data,
                 ss_error *err);

static int job_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                   ss_error *err)
{
    const ss_circuit_campaign_spec *c = &((const ss_circuit_campaign *)arg)->spec;
    struct job j;
    if (len != sizeof j)
        return ss_error_set(err, SS_EINVAL, "bad request");
    memcpy(&j, req, sizeof j);
    ss_circuit_config cfg = c->base;
    if (j.trace) {
        cfg.avt = 0; /* the nominal circuit */
        return trace(state, &cfg, j.value, reply, err);
    }
    cfg.temp = j.temp;
    cfg.sample = j.sample;
    double input = j.value;
    if (j.bias >= 0) {
        cfg.bias[j.bias] = j.value;
        input = c->input;
    }
    if (j.rheobase) {
        double rh = NAN;
        int rc = ss_circuit_rheobase(state, &cfg, c->rheo_lo, c->rheo_hi, 0.02, &rh, err);
        fmt(reply, rh);
        return rc;
    }
    ss_circuit_point p;
    int rc = ss_circuit_run_point(state, &cfg, input, &p, err);
    double v[] = {p.rate,  p.isi_first,  p.isi_last,   p.cv,  p.energy, p.power,
                  p.refractory, p.adaptation, p.tau, p.gain, (double)p.nspikes};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        fmt(reply, v[i]);
    return rc;
}

static const ss_pool_kind kind = {"circuit-point", job_start, job_run, job_stop};

/* ---- the journal ------------------------------------------------------------------ */

/* Identity of everything that shapes the results (FNV-1a of circuit,
 * biases, cards, supply, tolerances, mismatch, swept bias and the job
 * list: swept values, temperatures, samples): the journal's rows carry it,
 * so a resume with other settings is refused. */
static void config_id(const ss_circuit_campaign_spec *c, const double *x, size_t nx,
                      const double *temp, size_t nt, size_t ns, char out[17])
{
    const ss_circuit_config *g = &c->base;
    char s[2048];
    int n = snprintf(s, sizeof s, "%s|%s|%s|%s|%.17g|%.17g|%.17g|%llu|%d|%.17g|%.17g|%.17g",
                     g->info->name, g->models ? g->models : "", g->nmos ? g->nmos : "",
                     g->pmos ? g->pmos : "", g->vdd, g->reltol, g->avt,
                     (unsigned long long)g->seed, c->bias, c->input, c->rheo_lo, c->rheo_hi);
    for (size_t k = 0; k < g->info->nbias && n > 0 && (size_t)n < sizeof s; k++)
        n += snprintf(s + n, sizeof s - (size_t)n, "|%.17g", g->bias[k]);
    uint64_t h = ss_util_fnv1a(SS_UTIL_FNV_INIT, s, strlen(s));
    /* the job list, as raw bytes */
    h = ss_util_fnv1a(h, x, nx * sizeof *x);
    h = ss_util_fnv1a(h, temp, nt * sizeof *temp);
    h = (h ^ (uint64_t)ns) * SS_UTIL_FNV_PRIME;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Reads the ok rows of a journal into vals/ok (rows of failed jobs are
 * left to run again; a later row of a job wins). */
static int journal_load(const char *path, const char *id, double *vals, int *ok, size_t njobs,
                        ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    char *line = strchr(text, '\n');
    for (int ln = 2; line && line[1]; ln++) {
        char *row = line + 1, *end, *p;
        line = strchr(row, '\n');
        if (line)
            *line = '\0';
        /* the last column checks the rest of the row (journal_row) */
        char *chk = strrchr(row, ','), want[17];
        if (chk) {
            *chk++ = '\0';
            snprintf(want, sizeof want, "%016llx",
                     (unsigned long long)ss_util_fnv1a(SS_UTIL_FNV_INIT, row, strlen(row)));
        }
        unsigned long long j = strtoull(row, &p, 10);
        char *st = *p == ',' ? p + 1 : NULL, *comma = st ? strchr(st, ',') : NULL;
        char *cfg = strrchr(row, ',');
        if (!chk || !comma || !cfg || j >= njobs) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: malformed row", path, ln);
            break;
        }
        if (strcmp(chk, want)) {
            rc = ss_error_set(err, SS_EPARSE,
                              "%s:%d: the row was changed after it was written (its check %s "
                              "does not match its values); delete the row and --resume runs "
                              "the job again",
                              path, ln, chk);
            break;
        }
        if (strcmp(cfg + 1, id)) {
            rc = ss_error_set(err, SS_EPARSE,
                              "%s:%d: the row was made with other settings (config %s, this run "
                              "%s); use another file", path, ln, cfg + 1, id);
            break;
        }
        if (strncmp(st, "ok,", 3))
            continue;
        p = comma + 1;
        for (int k = 0; k < NV; k++) {
            vals[j * NV + (size_t)k] = strtod(p, &end);
            p = *end == ',' ? end + 1 : end;
        }
        ok[j] = 1;
    }
    free(text);
    return rc;
}

/* The journal's name for a job's status. */
static const char *status_name(int status)
{
    return status == SS_ETIMEOUT ? "timeout"
           : status == SS_ECRASH ? "crash"
           : status              ? "sim-error"
                                 : "ok";
}

/* ---- running ------------------------------------------------------------------------ */

void ss_circuit_campaign_free(ss_circuit_campaign *c)
{
    if (!c)
        return;
    free(c->values);
    free(c->temps);
    free(c->vals);
    free(c->ok);
    free(c);
}

static ss_circuit_campaign *campaign_alloc(const ss_circuit_campaign_spec *spec, ss_error *err)
{
    if (!spec->base.info || !spec->values || !spec->nvalues || !spec->temps || !spec->ntemps) {
        ss_error_set(err, SS_EINVAL, "campaign: no circuit, currents or temperatures");
        return NULL;
    }
    if (spec->bias >= (int)spec->base.info->nbias) {
        ss_error_set(err, SS_EINVAL, "campaign: circuit '%s' has no bias %d",
                     spec->base.info->name, spec->bias);
        return NULL;
    }
    /* counted in doubles: a mistyped --mc 1e12 must not wrap around */
    double samples = (double)spec->mc + 1, groups = (double)spec->ntemps * samples;
    double jobs = (double)spec->nvalues * groups +
                  (spec->measures & SS_CIRCUIT_M_RHEOBASE ? groups : 0);
    if (ss_util_limit_check(SS_LIMIT_JOBS, jobs, err,
                            "campaign: %zu currents x %zu temperatures x %.0f samples",
                            spec->nvalues, spec->ntemps, samples))
        return NULL;
    ss_circuit_campaign *c = calloc(1, sizeof *c);
    if (!c) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    c->spec = *spec;
    c->spec.base.avt = spec->mc ? spec->base.avt : 0.0;
    c->nsamples = spec->mc + 1; /* sample 0: the nominal circuit */
    c->npts = spec->nvalues * spec->ntemps * c->nsamples;
    c->ngroups = spec->ntemps * c->nsamples;
    c->nres = c->npts + (spec->measures & SS_CIRCUIT_M_RHEOBASE ? c->ngroups : 0);
    c->values = malloc(spec->nvalues * sizeof *c->values);
    c->temps = malloc(spec->ntemps * sizeof *c->temps);
    c->vals = calloc(c->nres * NV, sizeof *c->vals);
    c->ok = calloc(c->nres, sizeof *c->ok);
    if (!c->values || !c->temps || !c->vals || !c->ok) {
        ss_circuit_campaign_free(c);
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    memcpy(c->values, spec->values, spec->nvalues * sizeof *c->values);
    memcpy(c->temps, spec->temps, spec->ntemps * sizeof *c->temps);
    c->spec.values = c->values;
    c->spec.temps = c->temps;
    /* the card file by its absolute path: workers work in folders of their own */
    char file[PATH_MAX], real[PATH_MAX];
    const char *m = spec->base.models, *at = m ? strrchr(m, '@') : NULL;
    if (m && snprintf(file, sizeof file, "%.*s", (int)(at ? at - m : (long)strlen(m)), m) > 0 &&
        realpath(file, real)) {
        snprintf(c->models, sizeof c->models, "%s%s", real, at ? at : "");
        c->spec.base.models = c->models;
    }
    return c;
}

/* The journal row of a finished job (with its newline). */
static int journal_row(const ss_circuit_campaign *c, const ss_pool_reply *r, const char *cid,
                       ss_buf *row)
{
    int e = ss_buf_printf(row, "%llu,%s", (unsigned long long)r->id, status_name(r->status));
    for (int k = 0; !e && k < NV; k++)
        e = ss_buf_printf(row, ",%.17g", c->ok[r->id] ? c->vals[r->id * NV + (size_t)k] : NAN);
    if (!e)
        e = ss_buf_printf(row, ",%s", cid);
    /* a check of the row's text, so that an edited value is not taken up
     * by a resume */
    if (!e)
        e = ss_buf_printf(row, ",%016llx\n",
                          (unsigned long long)ss_util_fnv1a(SS_UTIL_FNV_INIT, row->data, row->len));
    return e;
}

int ss_circuit_campaign_run(const ss_circuit_campaign_spec *spec, ss_circuit_campaign **out,
                            ss_error *err)
{
    *out = NULL;
    ss_circuit_campaign *c = campaign_alloc(spec, err);
    if (!c)
        return err ? err->code : SS_EINVAL;
    const ss_circuit_campaign_spec *s = &c->spec;
    size_t nv = s->nvalues, nt = s->ntemps;
    unsigned char *done = calloc(c->nres, 1);
    ss_pool_journal *journal = NULL;
    ss_pool *pool = NULL;
    ss_buf row = SS_BUF_INIT;
    char cid[17];
    int rc = SS_OK;
    if (!done) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if (s->journal) {
        size_t skipped;
        config_id(s, s->values, nv, s->temps, nt, c->nsamples, cid);
        journal = ss_pool_journal_open(s->journal, journal_header, NULL, s->resume, done, c->nres,
                                       &skipped, err);
        if (!journal) {
            rc = err && err->code ? err->code : SS_EIO;
            goto out;
        }
        if (s->resume && (rc = journal_load(s->journal, cid, c->vals, c->ok, c->nres, err)))
            goto out;
    }
    /* The workers get the campaign (fork: a copy each) and confine
     * themselves to run folders below c->run_dir. */
    if ((rc = ss_util_temp_dir(c->run_dir, "smallsim-char", err)))
        goto out;
    if (!(pool = ss_pool_alloc(&kind, c, s->jobs, s->timeout, err))) {
        rc = err && err->code ? err->code : SS_ENOMEM;
        goto out;
    }
    for (size_t id = 0; id < c->nres; id++) {
        if (c->ok[id])
            continue; /* from the journal */
        struct job j;
        memset(&j, 0, sizeof j);
        j.bias = s->bias;
        if (id < c->npts) {
            j.value = s->values[id % nv];
            j.temp = s->temps[(id / nv) % nt];
            j.sample = id / (nv * nt);
        } else {
            j.rheobase = 1;
            j.temp = s->temps[(id - c->npts) % nt];
            j.sample = (id - c->npts) / nt;
        }
        if ((rc = ss_pool_submit(pool, id, &j, sizeof j, err)))
            goto out;
    }
    while (ss_pool_pending(pool)) {
        ss_pool_reply r;
        int got = 0;
        if ((rc = ss_pool_next(pool, -1, &r, &got, err)))
            goto out;
        if (!got)
            continue;
        if (r.status) {
            c->failed++;
        } else {
            char *p = r.data;
            for (int k = 0; k < NV && p && *p; k++)
                c->vals[r.id * NV + (size_t)k] = strtod(p, &p);
            c->ok[r.id] = 1;
        }
        if (s->progress)
            s->progress(s->user, r.id, r.status, r.msg);
        if (journal) {
            row.len = 0;
            if (journal_row(c, &r, cid, &row))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            else
                rc = ss_pool_journal_append(journal, row.data, err);
            if (!rc && r.status)
                ss_pool_journal_log(journal, r.id, status_name(r.status), r.msg);
        }
        free(r.data);
        if (rc)
            goto out;
    }
out:
    ss_pool_free(pool);
    ss_util_remove_tree(c->run_dir);
    c->run_dir[0] = '\0';
    ss_pool_journal_close(journal);
    ss_buf_release(&row);
    free(done);
    if (rc) {
        ss_circuit_campaign_free(c);
        return rc;
    }
    *out = c;
    return SS_OK;
}

/* ---- results ----------------------------------------------------------------------- */

size_t ss_circuit_campaign_failed(const ss_circuit_campaign *c)
{
    return c->failed;
}

int ss_circuit_campaign_point(const ss_circuit_campaign *c, size_t v, size_t t, size_t s,
                              ss_circuit_point *pt)
{
    if (v >= c->spec.nvalues || t >= c->spec.ntemps || s >= c->nsamples)
        return SS_EINVAL;
    size_t id = v + c->spec.nvalues * (t + c->spec.ntemps * s);
    const double *x = c->vals + id * NV;
    memset(pt, 0, sizeof *pt);
    pt->input = c->spec.values[v];
    pt->tsim = pt->seconds = NAN; /* not journaled */
    if (!c->ok[id]) {
        pt->rate = pt->isi_first = pt->isi_last = pt->cv = pt->energy = pt->power = NAN;
        pt->refractory = pt->adaptation = pt->tau = pt->gain = NAN;
        return SS_ENOTFOUND;
    }
    pt->rate = x[0];
    pt->isi_first = x[1];
    pt->isi_last = x[2];
    pt->cv = x[3];
    pt->energy = x[4];
    pt->power = x[5];
    pt->refractory = x[6];
    pt->adaptation = x[7];
    pt->tau = x[8];
    pt->gain = x[9];
    pt->nspikes = (size_t)x[10];
    return SS_OK;
}

double ss_circuit_campaign_rheobase(const ss_circuit_campaign *c, size_t t, size_t s)
{
    size_t id = c->npts + t + c->spec.ntemps * s;
    if (!(c->spec.measures & SS_CIRCUIT_M_RHEOBASE) || t >= c->spec.ntemps || s >= c->nsamples ||
        !c->ok[id])
        return NAN;
    return c->vals[id * NV];
}

int ss_circuit_campaign_csv(const ss_circuit_campaign *c, ss_buf *b)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const ss_circuit_info *ci = s->base.info;
    size_t nv = s->nvalues, nt = s->ntemps;
    const double *vals = c->vals;
    const int *ok = c->ok;
    int rc = ss_buf_printf(b, "%s,temp,sample", s->bias >= 0 ? ci->bias[s->bias].name : ci->input);
    for (int k = 0; !rc && k < M_N; k++)
        if (s->measures & (1u << k))
            rc = ss_buf_printf(b, k == M_ISI ? ",isi_first,isi_last" : ",%s", mnames[k]);
    if (!rc)
        rc = ss_buf_add(b, "\n", 1);
    static const int col[M_N] = {0, 1, 3, 4, 5, -1, 6, 7, 8, 9};
    for (size_t id = 0; !rc && id < c->npts; id++) {
        const double *v = vals + id * NV;
        size_t grp = id / nv;
        rc = ss_buf_printf(b, "%.6g,%g,%llu", s->values[id % nv], s->temps[grp % nt],
                           (unsigned long long)(id / (nv * nt)));
        for (int k = 0; !rc && k < M_N; k++) {
            if (!(s->measures & (1u << k)))
                continue;
            double x = k == M_RHEO ? (ok[c->npts + grp] ? vals[(c->npts + grp) * NV] : NAN)
                                   : ok[id] ? v[col[k]] : NAN;
            if (k == M_ISI)
                rc = ss_buf_printf(b, ",%.6g,%.6g", ok[id] ? v[1] : NAN, ok[id] ? v[2] : NAN);
            else
                rc = ss_buf_printf(b, ",%.6g", x);
        }
        if (!rc)
            rc = ss_buf_add(b, "\n", 1);
    }
    return rc;
}

/* ---- compact models ---------------------------------------------------------------- */

int ss_circuit_campaign_extract(const ss_circuit_campaign *c, const char *model,
                                const char *path, ss_circuit_extraction *x, ss_error *err)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const char *name = s->base.info->name;
    double xi[256], yi[256];
    size_t n = 0;
    memset(x, 0, sizeof *x);
    for (size_t i = 0; i < s->nvalues && n < 256; i++)
        if (c->ok[i] && c->vals[i * NV] > 0) {
            xi[n] = s->values[i];
            yi[n++] = c->vals[i * NV];
        }
    x->npoints = n;
    snprintf(x->path, sizeof x->path, "%s", path);
    x->rheobase_measured = ss_circuit_campaign_rheobase(c, 0, 0);
    if (!strcmp(model, "lif")) {
        int rc = ss_circuit_fit_lif(xi, yi, n, &x->lif, err);
        if (!rc)
            rc = ss_circuit_lif_write(&x->lif, name, path, err);
        if (rc)
            return rc;
        x->model = "lif";
        x->rms_rel = x->lif.rms_rel;
        x->max_rel = x->lif.max_rel;
        x->rheobase_model = x->lif.irh;
        return SS_OK;
    }
    if (strcmp(model, "dpi"))
        return ss_error_set(err, SS_EINVAL, "compact model '%s' is not available (lif or dpi)",
                            model);
    int rc = ss_circuit_fit_dpi(xi, yi, n, NULL, &x->dpi, err);
    if (!rc)
        rc = ss_circuit_dpi_write(&x->dpi, name, path, err);
    if (rc)
        return rc;
    x->model = "dpi";
    x->rms_rel = x->dpi.rms_rel;
    x->max_rel = x->dpi.max_rel;
    /* the model's rheobase: bisection on its own rate */
    double lo = 1e-15, hi = xi[0];
    for (int it = 0; it < 60; it++) {
        double mid = sqrt(lo * hi), r = 0;
        if (ss_network_dpi_rate(&x->dpi.p, mid, &r, NULL))
            r = 0;
        if (r > 0)
            hi = mid;
        else
            lo = mid;
    }
    x->rheobase_model = hi;
    return SS_OK;
}

/* ---- the plot ------------------------------------------------------------------------ */

/* Membrane trace of one run for the plot (a job in a confined worker, like
 * every run of the designer's circuit). */
static int trace(ss_engine *eng, const ss_circuit_config *cfg, double input, ss_buf *data,
                 ss_error *err)
{
    ss_circuit_point p;
    int rc = ss_circuit_run_point(eng, cfg, input, &p, err);
    double tstop = p.rate > 0 ? fmin(5.0 / p.rate, 1.0) : 20e-3;
    ss_buf b = SS_BUF_INIT;
    ss_result res = SS_RESULT_INIT;
    if (!rc)
        rc = ss_circuit_bench(cfg, input, tstop, tstop / 2000.0, &b, err);
    if (!rc)
        rc = ss_engine_run_text(eng, b.data, "trace.cir",
                                cfg->models ? SS_NETLIST_ALLOW_ANY_INCLUDE : 0, &res, err);
    const ss_vector *t = ss_result_find(&res, "time"), *v = ss_result_find(&res, "v(vmem)");
    const char *ys = cfg->info->kind == SS_CIRCUIT_SYNAPSE ? "i(vmeas)" : NULL;
    if (ys)
        v = ss_result_find(&res, ys);
    for (size_t k = 0; !rc && t && v && k < t->n; k++)
        ss_buf_printf(data, "%.9g %.9g\n", t->re[k] * 1e3, ys ? fabs(v->re[k]) : v->re[k]);
    ss_result_release(&res);
    ss_buf_release(&b);
    return rc;
}

/* Runs the trace job on a pool of one worker, confined like the others. */
static int run_trace(const ss_circuit_campaign *camp, double input, ss_buf *data, ss_error *err)
{
    ss_circuit_campaign copy = *camp, *c = &copy; /* with a run folder of its own */
    struct job j;
    memset(&j, 0, sizeof j);
    j.trace = 1;
    j.value = input;
    ss_pool *pool = NULL;
    int rc = ss_util_temp_dir(c->run_dir, "smallsim-char", err);
    if (!rc && !(pool = ss_pool_alloc(&kind, c, 1, c->spec.timeout, err)))
        rc = err && err->code ? err->code : SS_ENOMEM;
    if (!rc)
        rc = ss_pool_submit(pool, 0, &j, sizeof j, err);
    ss_pool_reply r;
    int got = 0;
    while (!rc && !got && ss_pool_pending(pool))
        rc = ss_pool_next(pool, -1, &r, &got, err);
    if (!rc && got) {
        if (r.status)
            rc = ss_error_set(err, r.status, "%s", r.msg);
        else if (ss_buf_add(data, r.data, r.len))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        free(r.data);
    }
    ss_pool_free(pool);
    if (c->run_dir[0])
        ss_util_remove_tree(c->run_dir);
    c->run_dir[0] = '\0';
    return rc;
}

int ss_circuit_campaign_plot(const ss_circuit_campaign *c, const char *plot, ss_error *err)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const ss_circuit_info *ci = s->base.info;
    size_t nv = s->nvalues;
    const double *vals = c->vals;
    const int *ok = c->ok;
    if (ci->kind != SS_CIRCUIT_NEURON)
        return ss_error_set(err, SS_EINVAL, "plot: '%s' is not a neuron", ci->name);
    /* f-I with min/max band over samples and temperatures, energy vs
     * rate, and a membrane trace at the middle of the sweep. */
    ss_buf script = SS_BUF_INIT, tr = SS_BUF_INIT;
    ss_buf_printf(&script, "set terminal pngcairo size 1500,450\nset output '%s'\n"
                           "set multiplot layout 1,3\n$fi << EOD\n", plot);
    for (size_t i = 0; i < nv; i++) {
        double lo = INFINITY, hi = 0, nom = ok[i] ? vals[i * NV] : NAN;
        for (size_t g = 0; g < c->ngroups; g++)
            if (ok[g * nv + i]) {
                lo = fmin(lo, vals[(g * nv + i) * NV]);
                hi = fmax(hi, vals[(g * nv + i) * NV]);
            }
        ss_buf_printf(&script, "%g %g %g %g %g\n", s->values[i], nom, lo, hi,
                      ok[i] ? vals[i * NV + 4] : NAN);
    }
    ss_buf_printf(&script, "EOD\n");
    int rc = run_trace(c, s->bias >= 0 ? s->input : s->values[nv / 2], &tr, err);
    if (!rc) {
        ss_buf_printf(&script, "$tr << EOD\n%sEOD\n", tr.data ? tr.data : "0 0\n");
        ss_buf_printf(&script,
                      "set logscale xy\nset grid\nset title '%s f-I'\nset xlabel '%s (A)'\n"
                      "set ylabel 'rate (Hz)'\n"
                      "plot $fi u 1:3:4 w filledcurves lc rgb '#bbccee' t 'MC/temp range', "
                      "$fi u 1:2 w lp pt 7 t 'nominal'\n"
                      "set title 'energy per spike'\nset xlabel 'rate (Hz)'\n"
                      "set ylabel 'J/spike'\nplot $fi u 2:5 w lp pt 7 notitle\n"
                      "unset logscale\nset title 'membrane'\nset xlabel 't (ms)'\n"
                      "set ylabel 'Vmem (V)'\nplot $tr u 1:2 w l notitle\nunset multiplot\n",
                      ci->name, s->bias >= 0 ? ci->bias[s->bias].name : ci->input);
        rc = ss_util_gnuplot(script.data, err);
    }
    ss_buf_release(&script);
    ss_buf_release(&tr);
    return rc;
}

/* ---- the whole command ------------------------------------------------------------- */

int ss_circuit_characterize(const ss_circuit_campaign_spec *spec, ss_circuit_campaign **out,
                            ss_circuit_extraction *x, ss_error *err)
{
    int rc = ss_circuit_campaign_run(spec, out, err);
    if (rc)
        return rc;
    const ss_circuit_campaign *c = *out;
    if (spec->csv) {
        ss_buf b = SS_BUF_INIT;
        ss_error oerr = {0, ""};
        FILE *f = ss_util_open_output(spec->csv, "w", &oerr);
        if (!f)
            rc = ss_error_set(err, oerr.code ? oerr.code : SS_EIO, "%s", oerr.msg);
        else if (ss_circuit_campaign_csv(c, &b))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else if (fwrite(b.data, 1, b.len, f) != b.len)
            rc = ss_error_set(err, SS_EIO, "cannot write '%s'", spec->csv);
        if (f && fclose(f) && !rc)
            rc = ss_error_set(err, SS_EIO, "cannot write '%s'", spec->csv);
        ss_buf_release(&b);
        if (rc)
            return rc;
    }
    if (spec->extract) {
        char pbuf[512];
        const char *params = spec->params;
        if (!params) {
            snprintf(pbuf, sizeof pbuf, "%s-%s.json", spec->base.info->name, spec->extract);
            params = pbuf;
        }
        if ((rc = ss_circuit_campaign_extract(c, spec->extract, params, x, err)))
            return rc;
    }
    if (spec->plot && spec->base.info->kind == SS_CIRCUIT_NEURON)
        rc = ss_circuit_campaign_plot(c, spec->plot, err);
    return rc;
}
