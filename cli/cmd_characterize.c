/* cmd_characterize.c: `smallsim characterize`: f-I curves, energy, rheobase,
 * refractory period, adaptation, Monte Carlo and temperature corners of the
 * library's neuron circuits on the sweep worker pool; compact-model fits. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "circuits/ss_circuits.h"
#include "cli/cli.h"
#include "sweep/ss_sweep.h"

static const char usage_text[] =
    "usage: smallsim characterize CIRCUIT [options]\n"
    "  CIRCUIT            dpi-neuron, axon-hillock, dpi-synapse, or a netlist file whose\n"
    "                     .subckt declares its ports in a comment line\n"
    "                     '* smallsim: like=dpi-neuron [subckt=NAME] [ROLE=PIN ...]'\n"
    "  --models FILE[@SECTION]  transistor cards replacing the shipped PTM 180 nm set\n"
    "  --nmos NAME --pmos NAME  model names the cards define (default ss_nch, ss_pch)\n"
    "  --bias NAME=VALUE  set a bias current (repeatable), e.g. --bias Itau=20p\n"
    "  --input NAME       the swept current: the circuit's input (Iin, Iw) or a bias\n"
    "  --sweep SPEC       lin:A:B:N, log:A:B:N, dec:A:B:K or list:a,b,c (SPICE numbers)\n"
    "  --measure LIST     rate,isi,cv,energy,power,rheobase,refractory,adaptation,tau,gain\n"
    "  --temp LIST        temperatures in C (default 27)\n"
    "  --mc N --seed S [--avt MV_UM]  N mismatch samples (Pelgrom AVT, default 4 mV*um)\n"
    "                     after the nominal circuit, which is sample 0\n"
    "  --jobs K           worker processes (default 1)\n"
    "  --extract lif|dpi  fit a network population model (LIF or teili DPI, each behind\n"
    "                     a power-law input stage) to the nominal f-I at the first\n"
    "                     temperature; --params FILE (default CIRCUIT-MODEL.json), which\n"
    "                     experiment files load with 'params_file:'\n"
    "  -o FILE            CSV output (default stdout)\n"
    "  --results FILE [--resume]  journal of finished jobs (the sweep's results file:\n"
    "                     appended and synced per job); --resume keeps its rows and\n"
    "                     runs only the missing or failed jobs\n"
    "  --plot FILE.png    f-I (with Monte Carlo band), energy vs rate, membrane trace\n"
    "  --list             list circuits and their biases\n"
    "  --tile N           write the body of a SPICE tile of N neurons (with the\n"
    "                     biases above) for experiment files' 'kind: spice' to -o FILE;\n"
    "                     prints the spike vectors (dpi-neuron)\n";

enum { M_RATE, M_ISI, M_CV, M_ENERGY, M_POWER, M_RHEO, M_REF, M_ADAPT, M_TAU, M_GAIN, M_N };
static const char *const mnames[M_N] = {"rate",       "isi",        "cv",  "energy",
                                        "power",      "rheobase",   "refractory",
                                        "adaptation", "tau",        "gain"};

struct job {
    int rheobase; /* 1: rheobase bisection instead of one point */
    int bias;     /* swept bias index, -1: the input */
    double value, temp;
    uint64_t sample;
};

struct ctx {
    ss_circuit_config base;
    double input; /* input current when a bias is swept */
    double rlo, rhi;
};

static int job_start(void *arg, void **state, ss_error *err)
{
    (void)arg;
    ss_engine *eng;
    int rc = ss_engine_open(&eng, err);
    if (!rc)
        *state = eng;
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

static int job_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                   ss_error *err)
{
    const struct ctx *c = arg;
    struct job j;
    if (len != sizeof j)
        return ss_error_set(err, SS_EINVAL, "bad request");
    memcpy(&j, req, sizeof j);
    ss_circuit_config cfg = c->base;
    cfg.temp = j.temp;
    cfg.sample = j.sample;
    double input = j.value;
    if (j.bias >= 0) {
        cfg.bias[j.bias] = j.value;
        input = c->input;
    }
    if (j.rheobase) {
        double rh = NAN;
        int rc = ss_circuit_rheobase(state, &cfg, c->rlo, c->rhi, 0.02, &rh, err);
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

static const ss_sweep_kind kind = {"circuit-point", job_start, job_run, job_stop};

static int parse_list(const char *s, double **out, size_t *n)
{
    char **l = cli_split(s, ',', n);
    if (!l)
        return SS_ENOMEM;
    *out = calloc(*n ? *n : 1, sizeof **out);
    int rc = *out ? 0 : SS_ENOMEM;
    for (size_t i = 0; !rc && i < *n; i++)
        if (ss_util_parse_spice_number(l[i], &(*out)[i]))
            rc = SS_EINVAL;
    cli_free_list(l);
    return rc;
}

#define NV 11 /* values per job: rate .. nspikes, or the rheobase */
static const char journal_header[] =
    "job,status,rate,isi_first,isi_last,cv,energy,power,refractory,adaptation,tau,gain,nspikes,"
    "config";

/* Identity of everything that shapes the results (FNV-1a of circuit,
 * biases, cards, supply, tolerances, mismatch, swept bias and the job
 * list: swept values, temperatures, samples): the journal's rows carry it,
 * so a resume with other settings is refused. */
static void config_id(const struct ctx *c, int bias, const double *x, size_t nx,
                      const double *temp, size_t nt, size_t ns, char out[17])
{
    const ss_circuit_config *g = &c->base;
    char s[2048];
    int n = snprintf(s, sizeof s, "%s|%s|%s|%s|%.17g|%.17g|%.17g|%llu|%d|%.17g|%.17g|%.17g",
                     g->info->name, g->models ? g->models : "", g->nmos ? g->nmos : "",
                     g->pmos ? g->pmos : "", g->vdd, g->reltol, g->avt,
                     (unsigned long long)g->seed, bias, c->input, c->rlo, c->rhi);
    for (size_t k = 0; k < g->info->nbias && n > 0 && (size_t)n < sizeof s; k++)
        n += snprintf(s + n, sizeof s - (size_t)n, "|%.17g", g->bias[k]);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    /* the job list, as raw bytes */
    const double *lists[2] = {x, temp};
    size_t lens[2] = {nx, nt};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < lens[l]; i++) {
            const unsigned char *b = (const unsigned char *)&lists[l][i];
            for (size_t k = 0; k < sizeof(double); k++)
                h = (h ^ b[k]) * 0x100000001b3ull;
        }
    h = (h ^ (uint64_t)ns) * 0x100000001b3ull;
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
        unsigned long long j = strtoull(row, &p, 10);
        char *st = *p == ',' ? p + 1 : NULL, *comma = st ? strchr(st, ',') : NULL;
        char *cfg = strrchr(row, ',');
        if (!comma || !cfg || j >= njobs) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: malformed row", path, ln);
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

static void list_circuits(void)
{
    for (size_t i = 0; i < ss_circuit_count(); i++) {
        const ss_circuit_info *ci = ss_circuit_get(i);
        printf("%s: %s\n  input %s (default %g A)\n", ci->name, ci->help, ci->input,
               ci->input_default);
        for (size_t k = 0; k < ci->nbias; k++)
            printf("  %-8s %-10g %s\n", ci->bias[k].name, ci->bias[k].value, ci->bias[k].help);
    }
}

/* Membrane trace of one run for the plot (engine opened in this process). */
static int trace(const ss_circuit_config *cfg, double input, ss_buf *data, ss_error *err)
{
    ss_engine *eng;
    int rc = ss_engine_open(&eng, err);
    if (rc)
        return rc;
    ss_circuit_point p;
    rc = ss_circuit_run_point(eng, cfg, input, &p, err);
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
    ss_engine_free(eng);
    return rc;
}

/* A designer's circuit file given as CIRCUIT (freed by cmd_characterize). */
static ss_circuit_info *loaded;

static int characterize(int argc, char **argv)
{
    static const struct option opts[] = {
        {"models", required_argument, 0, 'M'}, {"nmos", required_argument, 0, 'N'},
        {"pmos", required_argument, 0, 'P'},   {"bias", required_argument, 0, 'b'},
        {"input", required_argument, 0, 'i'},  {"sweep", required_argument, 0, 's'},
        {"measure", required_argument, 0, 'm'}, {"temp", required_argument, 0, 't'},
        {"mc", required_argument, 0, 'c'},     {"seed", required_argument, 0, 'S'},
        {"avt", required_argument, 0, 'a'},    {"jobs", required_argument, 0, 'j'},
        {"extract", required_argument, 0, 'x'}, {"params", required_argument, 0, 'p'},
        {"plot", required_argument, 0, 'g'},   {"list", no_argument, 0, 'l'},
        {"tile", required_argument, 0, 'T'},   {"help", no_argument, 0, 'h'},
        {"results", required_argument, 0, 'R'}, {"resume", no_argument, 0, 'r'},
        {0, 0, 0, 0}};
    const char *models = NULL, *nmos = NULL, *pmos = NULL, *inname = NULL, *sweep = NULL;
    const char *measure = NULL, *temps = "27", *extract = NULL, *params = NULL, *out = NULL;
    const char *plot = NULL, *results = NULL;
    int resume = 0;
    char *biases[16];
    size_t nb = 0, mc = 0, tile = 0;
    uint64_t seed = 1;
    double avt = 4.0;
    int jobs = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        double v;
        switch (c) {
        case 'M': models = optarg; break;
        case 'N': nmos = optarg; break;
        case 'P': pmos = optarg; break;
        case 'b':
            if (nb == 16) {
                cli_msg("too many --bias options");
                return CLI_USAGE;
            }
            biases[nb++] = optarg;
            break;
        case 'i': inname = optarg; break;
        case 's': sweep = optarg; break;
        case 'm': measure = optarg; break;
        case 't': temps = optarg; break;
        case 'c':
        case 'S':
        case 'a':
        case 'j':
        case 'T':
            if (ss_util_parse_spice_number(optarg, &v) || !(v >= 0)) {
                cli_msg("invalid number '%s'", optarg);
                return CLI_USAGE;
            }
            if (c == 'T') tile = (size_t)v;
            else if (c == 'c') mc = (size_t)v;
            else if (c == 'S') seed = (uint64_t)v;
            else if (c == 'a') avt = v;
            else jobs = v < 1 ? 1 : (int)v;
            break;
        case 'x': extract = optarg; break;
        case 'p': params = optarg; break;
        case 'o': out = optarg; break;
        case 'g': plot = optarg; break;
        case 'R': results = optarg; break;
        case 'r': resume = 1; break;
        case 'l': list_circuits(); return CLI_OK;
        case 'h': fputs(usage_text, stdout); return CLI_OK;
        default: fputs(usage_text, stderr); return CLI_USAGE;
        }
    }
    if (optind != argc - 1) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    ss_error err;
    const ss_circuit_info *ci = ss_circuit_find(argv[optind]);
    if (!ci && access(argv[optind], F_OK) == 0) {
        /* a designer's netlist with a "* smallsim: like=..." declaration */
        if (!(loaded = ss_circuit_load(argv[optind], &err)))
            return cli_fail(&err);
        ci = loaded;
    }
    if (!ci) {
        cli_msg("unknown circuit '%s' (see --list, or give a netlist file)", argv[optind]);
        return CLI_USAGE;
    }
    if (extract && strcmp(extract, "lif") && strcmp(extract, "dpi")) {
        cli_msg("--extract '%s' is not available (lif or dpi)", extract);
        return CLI_USAGE;
    }
    struct ctx cx;
    ss_circuit_config_init(&cx.base, ci);
    cx.base.models = models;
    cx.base.nmos = nmos;
    cx.base.pmos = pmos;
    cx.base.seed = seed;
    cx.input = ci->input_default;
    cx.rlo = 1e-12;
    cx.rhi = 1e-9;
    for (size_t i = 0; i < nb; i++) {
        char *eq = strchr(biases[i], '=');
        double v;
        if (!eq || ss_util_parse_spice_number(eq + 1, &v)) {
            cli_msg("--bias wants NAME=VALUE, got '%s'", biases[i]);
            return CLI_USAGE;
        }
        *eq = '\0';
        if (!strcasecmp(biases[i], ci->input))
            cx.input = v;
        else if (ss_circuit_set_bias(&cx.base, biases[i], v, &err))
            return cli_fail(&err);
    }
    if (tile) {
        ss_buf body = SS_BUF_INIT;
        char **spk;
        if (!out) {
            cli_msg("--tile needs -o FILE");
            return CLI_USAGE;
        }
        int rc = ss_circuit_tile(&cx.base, tile, &body, &spk, &err);
        if (!rc)
            rc = ss_util_write_file_atomic(out, body.data, body.len, &err);
        ss_buf_release(&body);
        if (rc)
            return cli_fail(&err);
        printf("spikes: [");
        for (size_t k = 0; k < tile; k++) {
            printf("%s\"%s\"", k ? ", " : "", spk[k]);
            free(spk[k]);
        }
        printf("]\nthreshold: %g\n", 0.5 * cx.base.vdd);
        free(spk);
        return CLI_OK;
    }
    int bias = -1;
    if (inname && strcasecmp(inname, ci->input)) {
        for (size_t k = 0; k < ci->nbias; k++)
            if (!strcasecmp(ci->bias[k].name, inname))
                bias = (int)k;
        if (bias < 0) {
            cli_msg("circuit '%s' has no current '%s'", ci->name, inname);
            return CLI_USAGE;
        }
    }
    /* Measures. */
    int want[M_N] = {0};
    if (!measure)
        measure = ci->kind == SS_CIRCUIT_SYNAPSE ? "tau,gain"
                                                 : "rate,isi,cv,energy,power,refractory,adaptation";
    {
        size_t n;
        char **l = cli_split(measure, ',', &n);
        for (size_t i = 0; l && i < n; i++) {
            int k = 0;
            while (k < M_N && strcmp(l[i], mnames[k]))
                k++;
            if (k == M_N) {
                cli_msg("unknown measure '%s'", l[i]);
                cli_free_list(l);
                return CLI_USAGE;
            }
            want[k] = 1;
        }
        cli_free_list(l);
    }
    /* Axis, temperatures, samples. */
    ss_sweep_axis ax;
    memset(&ax, 0, sizeof ax);
    char spec[512];
    snprintf(spec, sizeof spec, "x=%s",
             sweep ? sweep : ci->kind == SS_CIRCUIT_SYNAPSE ? "list:100p" : "log:20p:2n:6");
    if (ss_sweep_axis_parse(&ax, spec, &err))
        return cli_fail(&err);
    if (ax.kind != SS_SWEEP_AXIS_VALUES) {
        cli_msg("--sweep wants values (lin:, log:, dec:, list:)");
        ss_sweep_axis_release(&ax);
        return CLI_USAGE;
    }
    double *tv = NULL;
    size_t nt = 0;
    if (parse_list(temps, &tv, &nt) || !nt) {
        cli_msg("invalid --temp '%s'", temps);
        free(tv);
        ss_sweep_axis_release(&ax);
        return CLI_USAGE;
    }
    size_t ns = mc + 1; /* sample 0: the nominal circuit */
    cx.base.avt = mc ? avt : 0.0;
    size_t npts = ax.n * nt * ns, ngroups = nt * ns;
    size_t nres = npts + (want[M_RHEO] ? ngroups : 0);
    double *vals = calloc(nres * NV, sizeof *vals);
    int *ok = calloc(nres, sizeof *ok);
    unsigned char *done = calloc(nres, 1);
    ss_sweep_results *journal = NULL;
    char cid[17];
    int rc = CLI_FAIL;
    FILE *f = NULL;
    ss_sweep_pool *pool = NULL;
    ss_buf script = SS_BUF_INIT, tr = SS_BUF_INIT;
    if (!vals || !ok || !done) {
        cli_msg("out of memory");
        goto done;
    }
    if (resume && !results) {
        cli_msg("--resume needs --results FILE");
        rc = CLI_USAGE;
        goto done;
    }
    if (results) {
        size_t skipped;
        config_id(&cx, bias, ax.values, ax.n, tv, nt, ns, cid);
        journal = ss_sweep_results_open(results, journal_header, resume, done, nres, &skipped, &err);
        if (!journal || (resume && journal_load(results, cid, vals, ok, nres, &err))) {
            cli_fail(&err);
            goto done;
        }
    }
    pool = ss_sweep_pool_alloc(&kind, &cx, jobs, 600.0, &err);
    if (!pool) {
        cli_fail(&err);
        goto done;
    }
    for (size_t id = 0; id < nres; id++) {
        if (ok[id])
            continue; /* from the journal */
        struct job j;
        memset(&j, 0, sizeof j);
        j.bias = bias;
        if (id < npts) {
            j.value = ax.values[id % ax.n];
            j.temp = tv[(id / ax.n) % nt];
            j.sample = id / (ax.n * nt);
        } else {
            j.rheobase = 1;
            j.temp = tv[(id - npts) % nt];
            j.sample = (id - npts) / nt;
        }
        if (ss_sweep_pool_submit(pool, id, &j, sizeof j, &err)) {
            cli_fail(&err);
            goto done;
        }
    }
    size_t failed = 0;
    while (ss_sweep_pool_pending(pool)) {
        ss_sweep_reply r;
        int got = 0;
        if (ss_sweep_pool_next(pool, -1, &r, &got, &err)) {
            cli_fail(&err);
            goto done;
        }
        if (!got)
            continue;
        int st = r.status == SS_ETIMEOUT ? SS_SWEEP_TIMEOUT
                 : r.status == SS_ECRASH ? SS_SWEEP_CRASH
                 : r.status              ? SS_SWEEP_SIM_ERROR
                                         : SS_SWEEP_OK;
        if (r.status) {
            cli_msg("job %llu failed: %s", (unsigned long long)r.id, r.msg);
            failed++;
        } else {
            char *p = r.data;
            for (int k = 0; k < NV && p && *p; k++)
                vals[r.id * NV + (size_t)k] = strtod(p, &p);
            ok[r.id] = 1;
        }
        if (journal) {
            ss_buf row = SS_BUF_INIT;
            int e = ss_buf_printf(&row, "%llu,%s", (unsigned long long)r.id, ss_sweep_status_name(st));
            for (int k = 0; !e && k < NV; k++)
                e = ss_buf_printf(&row, ",%.17g", ok[r.id] ? vals[r.id * NV + (size_t)k] : NAN);
            if (!e)
                e = ss_buf_printf(&row, ",%s\n", cid);
            if (e || ss_sweep_results_append(journal, row.data, &err)) {
                ss_buf_release(&row);
                free(r.data);
                cli_fail(&err);
                goto done;
            }
            ss_buf_release(&row);
            if (st)
                ss_sweep_results_log(journal, r.id, st, r.msg);
        }
        free(r.data);
    }
    ss_sweep_pool_free(pool);
    pool = NULL;
    /* CSV. */
    ss_error oerr = {0, ""};
    f = out ? ss_util_open_output(out, "w", &oerr) : stdout;
    if (!f) {
        cli_fail(&oerr);
        goto done;
    }
    fprintf(f, "%s,temp,sample", bias >= 0 ? ci->bias[bias].name : ci->input);
    for (int k = 0; k < M_N; k++)
        if (want[k])
            fprintf(f, k == M_ISI ? ",isi_first,isi_last" : ",%s", mnames[k]);
    fputc('\n', f);
    static const int col[M_N] = {0, 1, 3, 4, 5, -1, 6, 7, 8, 9};
    for (size_t id = 0; id < npts; id++) {
        const double *v = vals + id * NV;
        size_t grp = id / ax.n;
        fprintf(f, "%.6g,%g,%llu", ax.values[id % ax.n], tv[grp % nt],
                (unsigned long long)(id / (ax.n * nt)));
        for (int k = 0; k < M_N; k++) {
            if (!want[k])
                continue;
            double x = k == M_RHEO ? (ok[npts + grp] ? vals[(npts + grp) * NV] : NAN)
                                   : ok[id] ? v[col[k]] : NAN;
            if (k == M_ISI)
                fprintf(f, ",%.6g,%.6g", ok[id] ? v[1] : NAN, ok[id] ? v[2] : NAN);
            else
                fprintf(f, ",%.6g", x);
        }
        fputc('\n', f);
    }
    if (f != stdout && fclose(f)) {
        f = NULL;
        cli_msg("cannot write '%s'", out);
        goto done;
    }
    f = NULL;
    /* Compact model from the nominal sample at the first temperature. */
    if (extract) {
        double xi[256], yi[256];
        size_t n = 0;
        for (size_t i = 0; i < ax.n && n < 256; i++)
            if (ok[i] && vals[i * NV] > 0) {
                xi[n] = ax.values[i];
                yi[n++] = vals[i * NV];
            }
        char pbuf[512];
        if (!params) {
            snprintf(pbuf, sizeof pbuf, "%s-%s.json", ci->name, extract);
            params = pbuf;
        }
        double rms, maxe, irh;
        if (!strcmp(extract, "lif")) {
            ss_circuit_lif m;
            if (ss_circuit_fit_lif(xi, yi, n, &m, &err) ||
                ss_circuit_lif_write(&m, ci->name, params, &err)) {
                cli_fail(&err);
                goto done;
            }
            fprintf(stderr, "lif: tau=%.4g s irh=%.4g A tref=%.4g s beta=%.4g -> %s\n", m.tau,
                    m.irh, m.tref, m.beta, params);
            rms = m.rms_rel;
            maxe = m.max_rel;
            irh = m.irh;
        } else {
            ss_circuit_dpi m;
            if (ss_circuit_fit_dpi(xi, yi, n, NULL, &m, &err) ||
                ss_circuit_dpi_write(&m, ci->name, params, &err)) {
                cli_fail(&err);
                goto done;
            }
            fprintf(stderr,
                    "dpi: itau=%.4g A ith=%.4g A t_ref=%.4g s in_beta=%.4g in_ref=%.4g A -> %s\n",
                    m.p.itau, m.p.ith, m.p.t_ref, m.p.in_beta, m.p.in_ref, params);
            rms = m.rms_rel;
            maxe = m.max_rel;
            /* the model's rheobase: bisection on its own rate */
            double lo = 1e-15, hi = xi[0];
            for (int it = 0; it < 60; it++) {
                double mid = sqrt(lo * hi), r = 0;
                if (ss_network_dpi_rate(&m.p, mid, &r, &err))
                    r = 0;
                if (r > 0)
                    hi = mid;
                else
                    lo = mid;
            }
            irh = hi;
        }
        fprintf(stderr, "fit error: rate rms %.2f%% max %.2f%% over %zu points", 100 * rms,
                100 * maxe, n);
        if (want[M_RHEO] && ok[npts])
            fprintf(stderr, "; rheobase model %.4g A vs measured %.4g A (%.1f%%)", irh,
                    vals[npts * NV], 100 * (irh / vals[npts * NV] - 1));
        fputc('\n', stderr);
    }
    if (plot && ci->kind == SS_CIRCUIT_NEURON) {
        /* f-I with min/max band over samples and temperatures, energy vs
         * rate, and a membrane trace at the middle of the sweep. */
        ss_buf_printf(&script, "set terminal pngcairo size 1500,450\nset output '%s'\n"
                               "set multiplot layout 1,3\n$fi << EOD\n", plot);
        for (size_t i = 0; i < ax.n; i++) {
            double lo = INFINITY, hi = 0, nom = ok[i] ? vals[i * NV] : NAN;
            for (size_t g = 0; g < ngroups; g++)
                if (ok[g * ax.n + i]) {
                    lo = fmin(lo, vals[(g * ax.n + i) * NV]);
                    hi = fmax(hi, vals[(g * ax.n + i) * NV]);
                }
            ss_buf_printf(&script, "%g %g %g %g %g\n", ax.values[i], nom, lo, hi,
                          ok[i] ? vals[i * NV + 4] : NAN);
        }
        ss_buf_printf(&script, "EOD\n");
        cx.base.avt = 0;
        if (trace(&cx.base, bias >= 0 ? cx.input : ax.values[ax.n / 2], &tr, &err)) {
            cli_fail(&err);
            goto done;
        }
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
                      ci->name, bias >= 0 ? ci->bias[bias].name : ci->input);
        if (ss_util_gnuplot(script.data, &err)) {
            cli_fail(&err);
            goto done;
        }
    }
    rc = failed ? CLI_FAIL : CLI_OK;
done:
    if (f && f != stdout)
        fclose(f);
    ss_sweep_pool_free(pool);
    ss_sweep_results_close(journal);
    free(done);
    ss_buf_release(&script);
    ss_buf_release(&tr);
    free(vals);
    free(ok);
    free(tv);
    ss_sweep_axis_release(&ax);
    return rc;
}

int cmd_characterize(int argc, char **argv)
{
    int rc = characterize(argc, argv);
    ss_circuit_free(loaded);
    loaded = NULL;
    return rc;
}
