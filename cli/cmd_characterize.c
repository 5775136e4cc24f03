/* cmd_characterize.c: `smallsim characterize`: parses the options into a
 * campaign (circuits/: f-I curves, energy, rheobase, refractory period,
 * adaptation, Monte Carlo and temperature corners on the worker pool,
 * compact-model fits), runs it with one library call and prints the
 * results. */
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
    "  CIRCUIT            dpi-neuron, axon-hillock, dpi-synapse, or a designer's netlist\n"
    "                     with a declaration line (docs/circuits.md), either a subcircuit\n"
    "                     '* smallsim: like=dpi-neuron [subckt=NAME] [ROLE=PIN ...]\n"
    "                     [BIAS=VALUE ...] [NAME=PIN:VALUE[:n|:p] ...] [stimulus=sink|source]'\n"
    "                     or a whole deck with its own bench and .control block\n"
    "                     '* smallsim: like=dpi-neuron input=SOURCE spike=NODE supply=SOURCE\n"
    "                     [membrane=NODE] [reset=NODE]' (synapses: input= pre= output=)\n"
    "  --declare TEXT     the declaration's keys, for a file that has none (or to add\n"
    "                     to its own), e.g. --declare 'like=dpi-neuron input=Iin ...'\n"
    "  --models FILE[@SECTION]  transistor cards replacing the shipped PTM 180 nm set\n"
    "  --nmos NAME --pmos NAME  models of the bench's own devices (default: ss_nch and\n"
    "                     ss_pch, else the cards' only nmos and pmos models)\n"
    "  --bias NAME=VALUE  set a bias (repeatable): a current (20p, 20pA) or a voltage on\n"
    "                     its node (0.45V, 450mV); in a deck, the deck's DC sources\n"
    "  --input NAME       the swept current: the circuit's input (Iin, Iw) or a bias\n"
    "  --input-mirror     feed the input through a unit current mirror instead of an\n"
    "                     ideal source, and report its measured transfer\n"
    "  --sweep SPEC       lin:A:B:N, log:A:B:N, dec:A:B:K or list:a,b,c (SPICE numbers)\n"
    "  --measure LIST     rate,isi,cv,energy,power,rheobase,refractory,adaptation,tau,gain\n"
    "  --temp LIST        temperatures in C (default 27)\n"
    "  --mc N --seed S [--avt MV_UM]  N mismatch samples (Pelgrom AVT, default 4 mV*um)\n"
    "                     after the nominal circuit, which is sample 0\n"
    "  --rheobase-range LO:HI  bracket of the rheobase search (default 1p:1n)\n"
    "  --jobs K           worker processes (default: the number of CPUs)\n"
    "  --timeout S        wall-clock limit per job in seconds (default 600, 0: none);\n"
    "                     a job over it is killed and counted as failed\n"
    "  -q, --quiet        no progress on stderr (failures and warnings still show)\n"
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

struct progress_state {
    const char *name; /* the swept current's name */
    int volt;         /* it is a voltage */
    size_t nsamples;
    int synapse;
};

/* Every finished job: failures as messages, the rest on the progress line. */
static void on_job(void *user, const ss_circuit_progress *p)
{
    struct progress_state *ps = user;
    char what[160], res[96], notes[160];
    if (p->rheobase)
        snprintf(what, sizeof what, "rheobase, %g C", p->temp);
    else
        snprintf(what, sizeof what, "%s = %g %s, %g C", ps->name, p->value, ps->volt ? "V" : "A",
                 p->temp);
    if (ps->nsamples > 1)
        snprintf(what + strlen(what), sizeof what - strlen(what), ", sample %llu",
                 (unsigned long long)p->sample);
    if (p->status) {
        cli_msg("job %llu (%s) failed: %s", (unsigned long long)p->job, what, p->msg);
        return;
    }
    if (cli_progress_quiet())
        return;
    if (p->rheobase)
        snprintf(res, sizeof res, "rheobase %.4g A", p->rate);
    else if (ps->synapse)
        snprintf(res, sizeof res, "gain %.4g, tau %.4g s", p->gain, p->tau);
    else
        snprintf(res, sizeof res, "%.4g Hz", p->rate);
    ss_circuit_flag_names(p->flags, notes, sizeof notes);
    cli_progress(p->done == p->total, "characterize %zu/%zu jobs, %zu failed, %.0f s: %s: %s%s%s",
                 p->done, p->total, p->failed, p->elapsed, what, res, notes[0] ? " " : "", notes);
}

/* --tile N: the body of a SPICE tile for experiment files. */
static int write_tile(const ss_circuit_config *cfg, size_t n, const char *out)
{
    ss_buf body = SS_BUF_INIT;
    char **spk;
    ss_error err;
    if (!out) {
        cli_msg("--tile needs -o FILE");
        return CLI_USAGE;
    }
    int rc = ss_circuit_tile(cfg, n, &body, &spk, &err);
    if (!rc)
        rc = ss_util_write_file_atomic(out, body.data, body.len, &err);
    ss_buf_release(&body);
    if (rc)
        return cli_fail(&err);
    printf("spikes: [");
    for (size_t k = 0; k < n; k++) {
        printf("%s\"%s\"", k ? ", " : "", spk[k]);
        free(spk[k]);
    }
    printf("]\nthreshold: %g\n", 0.5 * cfg->vdd);
    free(spk);
    return CLI_OK;
}

static void print_extraction(const ss_circuit_extraction *x)
{
    if (!strcmp(x->model, "lif"))
        fprintf(stderr, "lif: tau=%.4g s irh=%.4g A tref=%.4g s beta=%.4g -> %s\n", x->lif.tau,
                x->lif.irh, x->lif.tref, x->lif.beta, x->path);
    else
        fprintf(stderr,
                "dpi: itau=%.4g A ith=%.4g A t_ref=%.4g s in_beta=%.4g in_ref=%.4g A -> %s\n",
                x->dpi.p.itau, x->dpi.p.ith, x->dpi.p.t_ref, x->dpi.p.in_beta, x->dpi.p.in_ref,
                x->path);
    fprintf(stderr, "fit error: rate rms %.2f%% max %.2f%% over %zu points", 100 * x->rms_rel,
            100 * x->max_rel, x->npoints);
    if (!isnan(x->rheobase_measured))
        fprintf(stderr, "; rheobase model %.4g A vs measured %.4g A (%.1f%%)", x->rheobase_model,
                x->rheobase_measured, 100 * (x->rheobase_model / x->rheobase_measured - 1));
    fputc('\n', stderr);
}

/* Parses the options, fills the campaign and runs it.  A designer's
 * netlist given as CIRCUIT goes to *loaded (the caller frees it). */
static int characterize(int argc, char **argv, ss_circuit_info **loaded)
{
    static const struct option opts[] = {
        {"declare", required_argument, 0, 'D'}, {"input-mirror", no_argument, 0, 'I'},
        {"timeout", required_argument, 0, 'O'}, {"quiet", no_argument, 0, 'q'},
        {"rheobase-range", required_argument, 0, 'B'},
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
    const char *measure = NULL, *temps = NULL, *extract = NULL, *params = NULL, *out = NULL;
    const char *plot = NULL, *results = NULL, *declare = NULL, *rheo = NULL;
    int resume = 0, mirror = 0, quiet = 0;
    double timeout = 600.0;
    char *biases[16];
    size_t nb = 0, mc = 0, tile = 0;
    uint64_t seed = 1;
    double avt = 4.0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = ncpu < 1 ? 1 : ncpu > 1024 ? 1024 : (int)ncpu, c;
    ss_error err;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:hq", opts, NULL)) != -1) {
        double v;
        switch (c) {
        case 'D': declare = optarg; break;
        case 'I': mirror = 1; break;
        case 'q': quiet = 1; break;
        case 'B': rheo = optarg; break;
        case 'O':
            if (ss_util_parse_spice_number(optarg, &timeout) || !(timeout >= 0)) {
                cli_msg("--timeout wants seconds >= 0, got '%s'", optarg);
                return CLI_USAGE;
            }
            break;
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
            if (ss_util_parse_spice_number(optarg, &v) || !(v >= 0) ||
                v >= 18446744073709551616.0) {
                cli_msg("invalid number '%s'", optarg);
                return CLI_USAGE;
            }
            if ((c == 'T' && ss_util_limit_check(SS_LIMIT_SPICE_NEURONS, v, &err, "--tile")) ||
                (c == 'c' && ss_util_limit_check(SS_LIMIT_JOBS, v, &err, "--mc"))) {
                cli_fail(&err);
                return CLI_USAGE;
            }
            if (c == 'T') tile = (size_t)v;
            else if (c == 'c') mc = (size_t)v;
            else if (c == 'S') seed = (uint64_t)v;
            else if (c == 'a') avt = v;
            else jobs = v < 1 ? 1 : v > 4096 ? 4096 : (int)v;
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
    const ss_circuit_info *ci = declare ? NULL : ss_circuit_find(argv[optind]);
    if (!ci && access(argv[optind], F_OK) == 0) {
        /* a designer's netlist with a "* smallsim: like=..." declaration */
        if (!(*loaded = ss_circuit_load_declared(argv[optind], declare, &err)))
            return cli_fail(&err);
        ci = *loaded;
    } else if (!ci && declare) {
        cli_msg("--declare: no file '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if (!ci) {
        cli_msg("unknown circuit '%s' (see --list, or give a netlist file)", argv[optind]);
        return CLI_USAGE;
    }
    if (extract && strcmp(extract, "lif") && strcmp(extract, "dpi")) {
        cli_msg("--extract '%s' is not available (lif or dpi)", extract);
        return CLI_USAGE;
    }
    ss_circuit_campaign_spec spec;
    ss_circuit_campaign_spec_init(&spec, ci);
    spec.base.models = models;
    spec.base.nmos = nmos;
    spec.base.pmos = pmos;
    spec.base.seed = seed;
    spec.base.avt = avt;
    spec.mc = mc;
    spec.jobs = jobs;
    spec.journal = results;
    spec.resume = resume;
    spec.csv = out;
    spec.extract = extract;
    spec.params = params;
    spec.plot = plot;
    spec.base.input_mirror = mirror;
    spec.timeout = timeout;
    struct progress_state ps = {ci->input, 0, mc + 1, ci->kind == SS_CIRCUIT_SYNAPSE};
    cli_progress_start(quiet);
    spec.progress = on_job;
    spec.user = &ps;
    for (size_t i = 0; i < nb; i++) {
        char *eq = strchr(biases[i], '=');
        double v;
        if (!eq) {
            cli_msg("--bias wants NAME=VALUE, got '%s'", biases[i]);
            return CLI_USAGE;
        }
        *eq = '\0';
        if (!strcasecmp(biases[i], ci->input)) {
            if (ss_util_parse_spice_number(eq + 1, &v)) {
                cli_msg("--bias %s: '%s' is not a current", biases[i], eq + 1);
                return CLI_USAGE;
            }
            spec.input = v;
        } else if (ss_circuit_set_bias_text(&spec.base, biases[i], eq + 1, &err)) {
            return cli_fail(&err);
        }
    }
    if (rheo) {
        char lo[64], *colon = strchr(rheo, ':');
        if (!colon || (size_t)(colon - rheo) >= sizeof lo ||
            (snprintf(lo, sizeof lo, "%.*s", (int)(colon - rheo), rheo), 0) ||
            ss_util_parse_spice_number(lo, &spec.rheo_lo) ||
            ss_util_parse_spice_number(colon + 1, &spec.rheo_hi) || !(spec.rheo_lo > 0) ||
            !(spec.rheo_hi > spec.rheo_lo)) {
            cli_msg("--rheobase-range wants LO:HI with 0 < LO < HI, got '%s'", rheo);
            return CLI_USAGE;
        }
    }
    if (tile)
        return write_tile(&spec.base, tile, out);
    if (inname && strcasecmp(inname, ci->input)) {
        for (size_t k = 0; k < ci->nbias; k++)
            if (!strcasecmp(ci->bias[k].name, inname))
                spec.bias = (int)k;
        if (spec.bias < 0) {
            cli_msg("circuit '%s' has no current '%s'", ci->name, inname);
            return CLI_USAGE;
        }
        ps.name = ci->bias[spec.bias].name;
        ps.volt = spec.base.voltage[spec.bias];
    }
    if (ss_circuit_measures_parse(measure, ci->kind, &spec.measures, &err)) {
        cli_fail(&err);
        return CLI_USAGE;
    }
    /* Swept currents and temperatures. */
    ss_sweep_axis ax;
    memset(&ax, 0, sizeof ax);
    char axis[512];
    snprintf(axis, sizeof axis, "x=%s",
             sweep ? sweep : ci->kind == SS_CIRCUIT_SYNAPSE ? "list:100p" : "log:20p:2n:6");
    if (ss_sweep_axis_parse(&ax, axis, &err))
        return cli_fail(&err);
    if (ax.kind != SS_SWEEP_AXIS_VALUES) {
        cli_msg("--sweep wants values (lin:, log:, dec:, list:)");
        ss_sweep_axis_release(&ax);
        return CLI_USAGE;
    }
    double *tv = NULL;
    size_t nt = 0;
    char deck_temp[32];
    if (!temps && isfinite(ci->temp)) /* a designer's file sets its temperature */
        snprintf(deck_temp, sizeof deck_temp, "%.17g", ci->temp), temps = deck_temp;
    if (!temps)
        temps = "27";
    if (parse_list(temps, &tv, &nt) || !nt) {
        cli_msg("invalid --temp '%s'", temps);
        free(tv);
        ss_sweep_axis_release(&ax);
        return CLI_USAGE;
    }
    if (resume && !results) {
        cli_msg("--resume needs --results FILE");
        free(tv);
        ss_sweep_axis_release(&ax);
        return CLI_USAGE;
    }
    spec.values = ax.values;
    spec.nvalues = ax.n;
    spec.temps = tv;
    spec.ntemps = nt;
    /* One call: the campaign, the CSV, the model and the plot. */
    ss_circuit_campaign *cp = NULL;
    ss_circuit_extraction x;
    x.model = NULL;
    int rc = ss_circuit_characterize(&spec, &cp, &x, &err);
    if (cp && !out) {
        ss_buf csv = SS_BUF_INIT;
        if (ss_circuit_campaign_csv(cp, &csv) == SS_OK)
            fwrite(csv.data, 1, csv.len, stdout);
        ss_buf_release(&csv);
    }
    if (x.model)
        print_extraction(&x);
    if (cp) {
        size_t varied, total;
        ss_circuit_campaign_devices(cp, &varied, &total);
        if (total)
            fprintf(stderr, "mismatch: %zu of %zu transistors varied (AVT %g mV um, %zu "
                            "sample%s after the nominal one)\n",
                    varied, total, spec.base.avt, mc, mc == 1 ? "" : "s");
        for (size_t i = 0; i < ss_circuit_campaign_nwarnings(cp); i++)
            fprintf(stderr, "warning: %s\n", ss_circuit_campaign_warning(cp, i));
        if (ss_circuit_campaign_failed(cp))
            cli_msg("%zu job%s failed (no CSV row for them)", ss_circuit_campaign_failed(cp),
                    ss_circuit_campaign_failed(cp) == 1 ? "" : "s");
    }
    if (x.model && x.warning[0])
        fprintf(stderr, "warning: %s\n", x.warning);
    if (rc)
        rc = cli_fail(&err);
    else if (ss_circuit_campaign_failed(cp))
        rc = CLI_FAIL;
    ss_circuit_campaign_free(cp);
    free(tv);
    ss_sweep_axis_release(&ax);
    return rc;
}

int cmd_characterize(int argc, char **argv)
{
    ss_circuit_info *loaded = NULL;
    int rc = characterize(argc, argv, &loaded);
    ss_circuit_free(loaded);
    return rc;
}
