/* campaign.c: characterization campaigns: f-I curves, energy, rheobase,
 * refractory period, adaptation, Monte Carlo and temperature corners of a
 * circuit as one job kind on the worker pool, a resumable journal, the CSV,
 * compact-model extraction and the plot. */
#include "circuits/circuits_private.h"
#include "pool/ss_pool.h"

#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values per job: a point's rate .. transfer (V_* below), or a rheobase
 * search's rheobase, the rate at zero input and the flags. */
#define NV 15
enum { V_RATE, V_ISI1, V_ISI2, V_CV, V_ENERGY, V_POWER, V_REF, V_ADAPT, V_TAU, V_GAIN,
       V_NSPIKES, V_FLAGS, V_SLO, V_SHI, V_TRANSFER };
enum { V_RHEO = 0, V_RATE0 = 1 };

enum { M_RATE, M_ISI, M_CV, M_ENERGY, M_POWER, M_RHEO, M_REF, M_ADAPT, M_TAU, M_GAIN, M_N };
static const char *const mnames[M_N] = {"rate",       "isi",        "cv",  "energy",
                                        "power",      "rheobase",   "refractory",
                                        "adaptation", "tau",        "gain"};

static const char journal_header[] =
    "job,status,rate,isi_first,isi_last,cv,energy,power,refractory,adaptation,tau,gain,nspikes,"
    "flags,spike_lo,spike_hi,transfer,config,check";

struct ss_circuit_campaign {
    ss_circuit_campaign_spec spec; /* values and temps point into the copies below */
    double *values, *temps;
    size_t nsamples, npts, ngroups, nres;
    double *vals; /* nres x NV */
    int *ok;
    size_t failed;
    unsigned *derived;           /* flags found across points (SILENT_ABOVE, NEVER_FIRES) */
    char **warn;                 /* warnings, sentences */
    size_t nwarn;
    size_t dev_varied, dev_total;
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
    double v[NV];
    for (size_t i = 0; i < NV; i++)
        v[i] = NAN;
    int rc;
    if (j.rheobase) {
        ss_circuit_rheo rh;
        rc = ss_circuit_rheobase(state, &cfg, c->rheo_lo, c->rheo_hi, 0.02, &rh, err);
        v[V_RHEO] = rh.rheobase;
        v[V_RATE0] = rh.rate_zero;
        v[V_FLAGS] = rh.flags;
    } else {
        ss_circuit_point p;
        rc = ss_circuit_run_point(state, &cfg, input, &p, err);
        double w[NV] = {p.rate,       p.isi_first,  p.isi_last, p.cv,   p.energy,
                        p.power,      p.refractory, p.adaptation, p.tau, p.gain,
                        (double)p.nspikes, (double)p.flags, p.spike_lo, p.spike_hi, p.transfer};
        memcpy(v, w, sizeof v);
    }
    for (size_t i = 0; i < NV; i++)
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
    int n = snprintf(s, sizeof s, "v2|%s|%s|%s|%s|%.17g|%.17g|%.17g|%llu|%d|%.17g|%.17g|%.17g|%d",
                     g->info->name, g->models ? g->models : "", g->nmos ? g->nmos : "",
                     g->pmos ? g->pmos : "", g->vdd, g->reltol, g->avt,
                     (unsigned long long)g->seed, c->bias, c->input, c->rheo_lo, c->rheo_hi,
                     g->input_mirror);
    for (size_t k = 0; k < g->info->nbias && n > 0 && (size_t)n < sizeof s; k++)
        n += snprintf(s + n, sizeof s - (size_t)n, "|%.17g%s", g->bias[k],
                      g->voltage[k] ? "V" : "");
    uint64_t h = ss_util_fnv1a(SS_UTIL_FNV_INIT, s, strlen(s));
    /* a designer's circuit: its text (the file as read, includes expanded) */
    if (g->info->text)
        h = ss_util_fnv1a(h, g->info->text, strlen(g->info->text));
    /* the job list, as raw bytes */
    h = ss_util_fnv1a(h, x, nx * sizeof *x);
    h = ss_util_fnv1a(h, temp, nt * sizeof *temp);
    h = (h ^ (uint64_t)ns) * SS_UTIL_FNV_PRIME;
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Reads the ok rows of a journal into vals/ok (rows of failed jobs are
 * left to run again; a later row of a job wins). */
static int warn(ss_circuit_campaign *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rows whose check column is empty were edited on purpose (to try what the
 * campaign makes of given values): they are taken as written, and the
 * campaign warns. */
static int journal_load(ss_circuit_campaign *c, const char *path, const char *id, double *vals,
                        int *ok, size_t njobs, ss_error *err)
{
    int unchecked = 0, first = 0;
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
        if (chk && !*chk && !unchecked++)
            first = ln;
        if (*chk && strcmp(chk, want)) {
            rc = ss_error_set(err, SS_EPARSE,
                              "%s:%d: the row was changed after it was written (its check %s "
                              "does not match its values); delete the row and --resume runs "
                              "the job again, or empty its check column to keep the edit",
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
    if (!rc && unchecked &&
        warn(c, "%s:%d: %d row%s with an empty check column (edited by hand) taken as written",
             path, first, unchecked, unchecked > 1 ? "s" : ""))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
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
    free(c->derived);
    for (size_t i = 0; i < c->nwarn; i++)
        free(c->warn[i]);
    free(c->warn);
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
    c->derived = calloc(c->nres, sizeof *c->derived);
    if (!c->values || !c->temps || !c->vals || !c->ok || !c->derived) {
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

/* ---- warnings ------------------------------------------------------------------------ */

static int warn(ss_circuit_campaign *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(ss_circuit_campaign *c, const char *fmt, ...)
{
    char **w = realloc(c->warn, (c->nwarn + 1) * sizeof *w);
    if (!w)
        return SS_ENOMEM;
    c->warn = w;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&w[c->nwarn], fmt, ap);
    va_end(ap);
    if (n < 0)
        return SS_ENOMEM;
    c->nwarn++;
    return SS_OK;
}

/* "Iin = 1e-10 A, 27 C, sample 0" of point id, into buf. */
static const char *point_name(const ss_circuit_campaign *c, size_t id, char *buf, size_t size)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const ss_circuit_info *ci = s->base.info;
    size_t nv = s->nvalues, nt = s->ntemps;
    const char *name = s->bias >= 0 ? ci->bias[s->bias].name : ci->input;
    int volt = s->bias >= 0 && s->base.voltage[s->bias];
    snprintf(buf, size, "%s = %g %s, %g C%s", name, s->values[id % nv], volt ? "V" : "A",
             s->temps[(id / nv) % nt], "");
    if (c->nsamples > 1)
        snprintf(buf + strlen(buf), size - strlen(buf), ", sample %zu", id / (nv * nt));
    return buf;
}

static unsigned flags_of(const ss_circuit_campaign *c, size_t id)
{
    double f = c->vals[id * NV + V_FLAGS];
    return (isfinite(f) ? (unsigned)f : 0u) | c->derived[id];
}

/* Looks across the points for what no single job can see, and words every
 * flag as a warning. */
static int campaign_warnings(ss_circuit_campaign *c)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const ss_circuit_info *ci = s->base.info;
    size_t nv = s->nvalues;
    int rc = 0;
    char pn[160], pm[160];
    for (size_t i = 0; i < c->nwarn; i++)
        free(c->warn[i]);
    c->nwarn = 0;
    memset(c->derived, 0, c->nres * sizeof *c->derived);
    if (ci->kind == SS_CIRCUIT_NEURON && s->bias < 0) {
        for (size_t g = 0; g < c->ngroups; g++) {
            /* the smallest firing input of the group */
            size_t fire = nv, any = 0;
            for (size_t v = 0; v < nv; v++) {
                size_t id = g * nv + v;
                if (!c->ok[id])
                    continue;
                any++;
                if (c->vals[id * NV + V_RATE] > 0 &&
                    (fire == nv || s->values[v] < s->values[fire]))
                    fire = v;
            }
            if (!any)
                continue;
            if (fire == nv) {
                /* nothing fired: a spike node that never crosses Vdd/2 is
                 * the likelier reason than every input below rheobase */
                double lo = INFINITY, hi = -INFINITY;
                size_t never = 0;
                for (size_t v = 0; v < nv; v++) {
                    size_t id = g * nv + v;
                    if (!c->ok[id])
                        continue;
                    lo = fmin(lo, c->vals[id * NV + V_SLO]);
                    hi = fmax(hi, c->vals[id * NV + V_SHI]);
                    never += (flags_of(c, id) & (SS_CIRCUIT_F_SPIKE_LOW | SS_CIRCUIT_F_SPIKE_HIGH)) != 0;
                }
                if (never == any) {
                    for (size_t v = 0; v < nv; v++)
                        c->derived[g * nv + v] |= SS_CIRCUIT_F_NEVER_FIRES;
                    rc |= warn(c, "no spike at any input (%s): the spike node '%s' stayed "
                               "between %.3g and %.3g V, never crossing Vdd/2 = %.3g V upwards; "
                               "is it the spike output (spike=, vspk=), and does the circuit "
                               "fire at these inputs?  The rates are written as nan",
                               point_name(c, g * nv, pn, sizeof pn), ci->spike, lo, hi,
                               0.5 * s->base.vdd);
                }
                continue;
            }
            for (size_t v = 0; v < nv; v++) {
                size_t id = g * nv + v;
                if (c->ok[id] && s->values[v] > s->values[fire] &&
                    !(c->vals[id * NV + V_RATE] > 0)) {
                    c->derived[id] |= SS_CIRCUIT_F_SILENT_ABOVE;
                    rc |= warn(c, "no spike at %s although the circuit fires at %g A: the "
                               "rate is written as nan (a run that stalls, a spike node "
                               "that stays %s?)",
                               point_name(c, id, pn, sizeof pn), s->values[fire],
                               flags_of(c, id) & SS_CIRCUIT_F_SPIKE_HIGH ? "high" : "low");
                }
            }
        }
    }
    double tlo = INFINITY, thi = -INFINITY;
    size_t nkick = 0, ntrans = 0, kick0 = 0;
    for (size_t id = 0; id < c->npts; id++) {
        if (!c->ok[id])
            continue;
        unsigned f = flags_of(c, id);
        if (f & SS_CIRCUIT_F_KICKED && !nkick++)
            kick0 = id;
        double tr = c->vals[id * NV + V_TRANSFER];
        if (isfinite(tr)) {
            tlo = fmin(tlo, tr);
            thi = fmax(thi, tr);
            ntrans += (f & SS_CIRCUIT_F_TRANSFER) != 0;
        }
        if (ci->kind == SS_CIRCUIT_SYNAPSE && f & SS_CIRCUIT_F_GAIN_FAILED)
            rc |= warn(c, "no synaptic current at %s: gain and tau are written as nan (is "
                       "the output pin the synapse's isyn, is the weight input '%s' "
                       "connected?)", point_name(c, id, pn, sizeof pn), ci->input);
        else if (ci->kind == SS_CIRCUIT_SYNAPSE && f & SS_CIRCUIT_F_TAU_FAILED)
            rc |= warn(c, "tau at %s: Isyn did not decay from 80%% to below 40%% of its value "
                       "at the end of the pulse within 30 ms; tau is written as nan",
                       point_name(c, id, pn, sizeof pn));
    }
    if (nkick)
        rc |= warn(c, "metastable start at %zu point%s (first: %s): every node held still at "
                   "the operating point; run again from v(%s) = 0 V, the results are that "
                   "run's.  Give the circuit a .ic (or .nodeset) to start from rest",
                   nkick, nkick > 1 ? "s" : "", point_name(c, kick0, pn, sizeof pn),
                   ci->membrane ? ci->membrane : ci->spike);
    if (isfinite(tlo))
        rc |= warn(c, "the input mirror delivers %.4g..%.4g of the nominal current (%zu "
                   "point%s more than 1%% off); the CSV's %s is the nominal value, its transfer "
                   "column the measured ratio", tlo, thi, ntrans, ntrans == 1 ? "" : "s",
                   ci->input);
    for (size_t g = 0; (s->measures & SS_CIRCUIT_M_RHEOBASE) && g < c->ngroups; g++) {
        size_t id = c->npts + g;
        if (!c->ok[id])
            continue;
        unsigned f = flags_of(c, id);
        snprintf(pm, sizeof pm, "%g C%s", s->temps[g % s->ntemps], "");
        if (c->nsamples > 1)
            snprintf(pm + strlen(pm), sizeof pm - strlen(pm), ", sample %zu", g / s->ntemps);
        if (f & SS_CIRCUIT_F_FIRES_AT_ZERO)
            rc |= warn(c, "the circuit fires with no input at all (%.4g Hz at %s): no "
                       "rheobase; check the input's direction and the biases",
                       c->vals[id * NV + V_RATE0], pm);
        else if (f & SS_CIRCUIT_F_RHEO_FLOOR)
            rc |= warn(c, "rheobase at %s: the circuit already fires at the search floor %g A "
                       "(but not without input); the rheobase is written as nan: lower the "
                       "floor", pm, s->rheo_lo);
        if (f & SS_CIRCUIT_F_RHEO_CEILING)
            rc |= warn(c, "rheobase at %s: no repetitive firing even at %g A, the top of the "
                       "search; the rheobase is written as nan", pm, s->rheo_hi);
    }
    return rc ? SS_ENOMEM : SS_OK;
}

/* Transistors and how many get mismatch; a warning names those that do not. */
static int count_devices(ss_circuit_campaign *c, ss_error *err)
{
    if (!c->spec.mc)
        return SS_OK;
    ss_circuit_config cfg = c->spec.base;
    cfg.sample = 1;
    ss_circuit_device *dev;
    size_t n;
    int rc = ss_circuit_mismatch(&cfg, &dev, &n, err);
    if (rc)
        return rc;
    c->dev_total = n;
    ss_buf b = SS_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (dev[i].varied) {
            c->dev_varied++;
        } else if (b.len < 2000) {
            ss_buf_printf(&b, "%s%s (%s: %s)", b.len ? "; " : "", dev[i].name, dev[i].where,
                          dev[i].why);
        }
    }
    if (c->dev_varied < n && warn(c, "mismatch varies %zu of %zu transistors; without a shift: "
                                     "%s", c->dev_varied, n, b.data ? b.data : ""))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_buf_release(&b);
    free(dev);
    return rc;
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
    double t0 = ss_util_now();
    int rc = SS_OK;
    if (!done) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    /* what can fail before any run fails here, about the designer's file */
    if ((rc = circi_check(&s->base, err)) || (rc = count_devices(c, err)))
        goto out;
    if (s->base.input_mirror && (s->base.info->deck || s->base.info->kind != SS_CIRCUIT_NEURON)) {
        rc = ss_error_set(err, SS_EINVAL, "an input mirror is for a neuron's subcircuit (a "
                          "deck brings its own input)");
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
        if (s->resume && (rc = journal_load(c, s->journal, cid, c->vals, c->ok, c->nres, err)))
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
    size_t total = 0, finished = 0;
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
        total++;
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
        finished++;
        if (s->progress) {
            ss_circuit_progress pr;
            memset(&pr, 0, sizeof pr);
            pr.job = r.id;
            pr.status = r.status;
            pr.msg = r.msg;
            pr.done = finished;
            pr.total = total;
            pr.failed = c->failed;
            pr.rheobase = r.id >= c->npts;
            size_t g = pr.rheobase ? r.id - c->npts : r.id / nv;
            pr.value = pr.rheobase ? NAN : s->values[r.id % nv];
            pr.temp = s->temps[g % nt];
            pr.sample = g / nt;
            pr.rate = c->ok[r.id] ? c->vals[r.id * NV] : NAN;
            pr.gain = c->ok[r.id] && !pr.rheobase ? c->vals[r.id * NV + V_GAIN] : NAN;
            pr.tau = c->ok[r.id] && !pr.rheobase ? c->vals[r.id * NV + V_TAU] : NAN;
            pr.flags = c->ok[r.id] ? flags_of(c, r.id) : 0;
            pr.elapsed = ss_util_now() - t0;
            s->progress(s->user, &pr);
        }
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
    /* keep the device count's warning, add the results' */
    {
        char **keepw = c->warn;
        size_t nkeep = c->nwarn;
        c->warn = NULL;
        c->nwarn = 0;
        rc = campaign_warnings(c);
        for (size_t i = 0; !rc && i < nkeep; i++) {
            if (warn(c, "%s", keepw[i]))
                rc = SS_ENOMEM;
        }
        for (size_t i = 0; i < nkeep; i++)
            free(keepw[i]);
        free(keepw);
        if (rc)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
out:
    ss_pool_free(pool);
    ss_pool_journal_close(journal);
    ss_buf_release(&row);
    free(done);
    if (c->run_dir[0])
        ss_util_remove_tree(c->run_dir);
    c->run_dir[0] = '\0';
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

size_t ss_circuit_campaign_nwarnings(const ss_circuit_campaign *c)
{
    return c->nwarn;
}

const char *ss_circuit_campaign_warning(const ss_circuit_campaign *c, size_t i)
{
    return i < c->nwarn ? c->warn[i] : NULL;
}

void ss_circuit_campaign_devices(const ss_circuit_campaign *c, size_t *varied, size_t *total)
{
    *varied = c->dev_varied;
    *total = c->dev_total;
}

/* The rate of point id as reported: nan where the results say it failed. */
static double rate_of(const ss_circuit_campaign *c, size_t id)
{
    unsigned f = c->derived[id];
    if (f & (SS_CIRCUIT_F_SILENT_ABOVE | SS_CIRCUIT_F_NEVER_FIRES))
        return NAN;
    return c->vals[id * NV + V_RATE];
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
        pt->spike_lo = pt->spike_hi = pt->transfer = NAN;
        return SS_ENOTFOUND;
    }
    pt->rate = rate_of(c, id);
    pt->isi_first = x[V_ISI1];
    pt->isi_last = x[V_ISI2];
    pt->cv = x[V_CV];
    pt->energy = x[V_ENERGY];
    pt->power = x[V_POWER];
    pt->refractory = x[V_REF];
    pt->adaptation = x[V_ADAPT];
    pt->tau = x[V_TAU];
    pt->gain = x[V_GAIN];
    pt->nspikes = (size_t)x[V_NSPIKES];
    pt->flags = flags_of(c, id);
    pt->spike_lo = x[V_SLO];
    pt->spike_hi = x[V_SHI];
    pt->transfer = x[V_TRANSFER];
    return SS_OK;
}

double ss_circuit_campaign_rheobase(const ss_circuit_campaign *c, size_t t, size_t s)
{
    size_t id = c->npts + t + c->spec.ntemps * s;
    if (!(c->spec.measures & SS_CIRCUIT_M_RHEOBASE) || t >= c->spec.ntemps || s >= c->nsamples ||
        !c->ok[id])
        return NAN;
    return c->vals[id * NV + V_RHEO];
}

int ss_circuit_campaign_csv(const ss_circuit_campaign *c, ss_buf *b)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const ss_circuit_info *ci = s->base.info;
    size_t nv = s->nvalues, nt = s->ntemps;
    const double *vals = c->vals;
    const int *ok = c->ok;
    int mirror = s->base.input_mirror;
    int rc = ss_buf_printf(b, "%s,temp,sample", s->bias >= 0 ? ci->bias[s->bias].name : ci->input);
    for (int k = 0; !rc && k < M_N; k++)
        if (s->measures & (1u << k))
            rc = ss_buf_printf(b, k == M_ISI ? ",isi_first,isi_last" : ",%s", mnames[k]);
    if (!rc)
        rc = ss_buf_printf(b, "%s,notes\n", mirror ? ",transfer" : "");
    static const int col[M_N] = {V_RATE, V_ISI1, V_CV, V_ENERGY, V_POWER, -1,
                                 V_REF,  V_ADAPT, V_TAU, V_GAIN};
    for (size_t id = 0; !rc && id < c->npts; id++) {
        if (!ok[id])
            continue; /* a failed job has no row */
        const double *v = vals + id * NV;
        size_t grp = id / nv, rid = c->npts + grp;
        unsigned flags = flags_of(c, id);
        rc = ss_buf_printf(b, "%.6g,%g,%llu", s->values[id % nv], s->temps[grp % nt],
                           (unsigned long long)(id / (nv * nt)));
        for (int k = 0; !rc && k < M_N; k++) {
            if (!(s->measures & (1u << k)))
                continue;
            if (k == M_RHEO) {
                rc = ss_buf_printf(b, ",%.6g", ok[rid] ? vals[rid * NV + V_RHEO] : NAN);
                if (ok[rid])
                    flags |= flags_of(c, rid);
            } else if (k == M_ISI) {
                rc = ss_buf_printf(b, ",%.6g,%.6g", v[V_ISI1], v[V_ISI2]);
            } else {
                rc = ss_buf_printf(b, ",%.6g", k == M_RATE ? rate_of(c, id) : v[col[k]]);
            }
        }
        char notes[256];
        if (!rc && mirror)
            rc = ss_buf_printf(b, ",%.6g", v[V_TRANSFER]);
        if (!rc)
            rc = ss_buf_printf(b, ",%s\n", ss_circuit_flag_names(flags, notes, sizeof notes));
    }
    return rc;
}

/* ---- compact models ---------------------------------------------------------------- */

/* Appends "name = v unit (why)" to the warning when v lies outside [lo, hi]. */
static void check_param(char *w, size_t size, const char *name, double v, double lo, double hi,
                        const char *unit, const char *why)
{
    if (v >= lo && v <= hi)
        return;
    size_t n = strlen(w);
    snprintf(w + n, size - n, "%s%s = %.3g %s (%s)", n ? "; " : "", name, v, unit, why);
}

/* Words a fit that a network should not trust. */
static void fit_warning(ss_circuit_extraction *x)
{
    char w[sizeof x->warning] = "";
    if (!strcmp(x->model, "dpi")) {
        const ss_dpi_params *p = &x->dpi.p;
        check_param(w, sizeof w, "itau", p->itau, p->io, 1e-6, "A",
                    "below the model's Io, where its currents are clipped");
        check_param(w, sizeof w, "ith", p->ith, p->io, 1e-6, "A",
                    "below the model's Io, where its currents are clipped");
        check_param(w, sizeof w, "t_ref", p->t_ref, 1e-6, 1.0, "s", "outside 1 us .. 1 s");
        check_param(w, sizeof w, "in_beta", p->in_beta, 0.2, 5.0, "",
                    "an input stage outside x^0.2 .. x^5");
    } else {
        check_param(w, sizeof w, "tau", x->lif.tau, 1e-6, 100.0, "s", "outside 1 us .. 100 s");
        check_param(w, sizeof w, "irh", x->lif.irh, 1e-15, 1e-3, "A", "outside 1 fA .. 1 mA");
        check_param(w, sizeof w, "tref", x->lif.tref, 1e-9, 1.0, "s", "outside 1 ns .. 1 s");
        check_param(w, sizeof w, "beta", x->lif.beta, 0.2, 5.0, "",
                    "an input stage outside x^0.2 .. x^5");
    }
    if (x->max_rel > 0.1) {
        size_t n = strlen(w);
        snprintf(w + n, sizeof w - n, "%sthe rate error reaches %.1f%%", n ? "; " : "",
                 100 * x->max_rel);
    }
    if (w[0])
        snprintf(x->warning, sizeof x->warning, "the %s fit is degenerate: %s", x->model, w);
}

int ss_circuit_campaign_extract(const ss_circuit_campaign *c, const char *model,
                                const char *path, ss_circuit_extraction *x, ss_error *err)
{
    const ss_circuit_campaign_spec *s = &c->spec;
    const char *name = s->base.info->name;
    double xi[256], yi[256];
    size_t n = 0;
    memset(x, 0, sizeof *x);
    for (size_t i = 0; i < s->nvalues && n < 256; i++)
        if (c->ok[i] && rate_of(c, i) > 0) {
            xi[n] = s->values[i];
            yi[n++] = rate_of(c, i);
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
        fit_warning(x);
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
    fit_warning(x);
    return SS_OK;
}

/* ---- the plot ------------------------------------------------------------------------ */

/* Membrane trace of one run for the plot (a job in a confined worker, like
 * every run of the designer's circuit), started as the measurement started
 * (kicked when it had to be). */
static int trace(ss_engine *eng, const ss_circuit_config *cfg, double input, ss_buf *data,
                 ss_error *err)
{
    ss_circuit_point p;
    int rc = ss_circuit_run_point(eng, cfg, input, &p, err);
    double tstop = p.rate > 0 ? fmin(5.0 / p.rate, 1.0) : 20e-3;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    int start = p.flags & SS_CIRCUIT_F_KICKED ? CIRCI_START_KICK : CIRCI_START_PLAIN;
    if (!rc)
        rc = circi_bench(cfg, input, tstop, tstop / 2000.0, start, &nl, err);
    if (!rc)
        rc = ss_engine_load(eng, &nl, err);
    if (!rc)
        rc = ss_engine_run(eng, &res, err);
    const ss_circuit_info *ci = cfg->info;
    char name[160];
    snprintf(name, sizeof name, "v(%s)", ci->membrane ? ci->membrane : ci->spike);
    const ss_vector *t = ss_result_find(&res, "time"), *v = ss_result_find(&res, name);
    for (size_t k = 0; !rc && t && v && k < t->n; k++)
        ss_buf_printf(data, "%.9g %.9g\n", t->re[k] * 1e3, v->re[k]);
    ss_result_release(&res);
    ss_netlist_release(&nl);
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
        double lo = INFINITY, hi = 0, nom = ok[i] ? rate_of(c, i) : NAN;
        for (size_t g = 0; g < c->ngroups; g++)
            if (ok[g * nv + i] && isfinite(rate_of(c, g * nv + i))) {
                lo = fmin(lo, rate_of(c, g * nv + i));
                hi = fmax(hi, rate_of(c, g * nv + i));
            }
        ss_buf_printf(&script, "%g %g %g %g %g\n", s->values[i], nom, lo, hi,
                      ok[i] ? vals[i * NV + V_ENERGY] : NAN);
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
                      "set ylabel 'V (V)'\nplot $tr u 1:2 w l notitle\nunset multiplot\n",
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
