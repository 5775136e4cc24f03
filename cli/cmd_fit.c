/* cmd_fit.c: `smallsim fit`: one memristor parameter set fitted to one or
 * more measured I-V loops, or a given set scored on them (fit/ss_fit.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fit/ss_fit.h"

static const char fit_usage[] =
    "usage: smallsim fit --model vteam|yakopcic|yakopcic2020 DATA.csv [DATA2.csv ...] [options]\n"
    "       smallsim fit --evaluate PARAMS.json DATA.csv [DATA2.csv ...] [options]\n"
    "\n"
    "Fits ONE parameter set of a memristor model to measured I-V loops, or with\n"
    "--evaluate scores a given set (a fit's -o file) on them.  Each file is one\n"
    "measurement with its own drive (the applied voltage column) and its own initial\n"
    "state (fitted unless fixed).  With a series resistor the model is the circuit\n"
    "drive -> resistor -> device, and the applied voltage is across both.  Method:\n"
    "differential evolution over log-scaled bounds, then a trust-region\n"
    "Levenberg-Marquardt polish (GSL); see docs/fitting.md.\n"
    "\n"
    "data (instrument exports are read as they are: Keithley, Keysight, Rigol and\n"
    "Tektronix layouts, header rows, units in names such as 'Current [mA]'):\n"
    "  --columns LIST     column names in file order: t (s), v (applied V), i, vsense\n"
    "                     (V across a sense resistor), vd (device V), r (series ohm);\n"
    "                     other words skip a column.  Default: from the header, else\n"
    "                     v,i (two columns) or t,v,i (three)\n"
    "  --freq F[,F...]    drive frequency (Hz), one value or one per file.  Without a\n"
    "                     time column the samples are one period: t_k = k/(n F); with\n"
    "                     one, F is the period to fold a multi-period record onto\n"
    "  --sweep-rate R     a DC sweep without a time column: dt = |dv|/R (V/s)\n"
    "  --step-time T      a DC sweep without a time column: T seconds per sample\n"
    "  --fold MODE        auto (default: fold records of >= 2 whole drive periods onto\n"
    "                     one, averaged), on, off\n"
    "  --samples N        samples per folded period (default 200); without folding,\n"
    "                     block-average to about N\n"
    "  --current-scale S  multiply the current column by S (1e-6 for micro-amps); by\n"
    "                     default the header's unit, else amps\n"
    "  --offset auto|A    subtract a current offset: auto = the current where the\n"
    "                     drive crosses 0 V\n"
    "  --sense R          the vsense column is across a sense resistor R (ohm): i =\n"
    "                     vsense/R, and R is in series with the device\n"
    "  --series R[,R...]  series resistor (ohm), one value or one per file\n"
    "  --series-column    the series resistance is in the file: an r column, or v and vd\n"
    "model:\n"
    "  --model M          vteam, yakopcic or yakopcic2020\n"
    "  --preset P         start from (and take fixed values of) a preset\n"
    "  --evaluate FILE    score this parameter set (JSON from -o): every parameter is\n"
    "                     fixed, only the initial states are fitted (--fix x0=V fixes them)\n"
    "  --fix k=v          fix a parameter (SPICE number); x0=V or x0[k]=V fixes initial\n"
    "                     states (all files, file k); repeatable\n"
    "  --bounds k=lo:hi   search bounds (frees a parameter fixed by default); repeatable\n"
    "  --polarity P       auto (default: search both), normal, reversed (device te to ground)\n"
    "  --objective O      linear (default: error / current range), log (error of log|i|,\n"
    "                     for rectifying devices), mixed (both)\n"
    "  --log-floor A      currents below A count linearly in the log error (default\n"
    "                     1e-6 x each file's largest current)\n"
    "search:\n"
    "  --seed S           random seed (default 1); same seed, same result\n"
    "  --jobs K           threads (default: the number of CPUs; also --threads);\n"
    "                     the result does not depend on it\n"
    "  --population N, --generations N, --starts N   global phase and polish sizes\n"
    "output:\n"
    "  -o FILE            JSON: the device (model, polarity, params to 17 digits), stderr,\n"
    "                     identifiable, nrmse, log_rmse, files (x0 each), notes, seconds\n"
    "  --spice FILE       the fitted .subckt (initial state of the first file; set\n"
    "                     another per instance: X1 a b NAME x0=0.3)\n"
    "  --name X           subcircuit name (default memfit)\n"
    "  --plot PNG         data and model loops, one panel per file (gnuplot; |i| on a\n"
    "                     log axis with --objective log or mixed, or --plot-log); the\n"
    "                     curves go to the same name with .csv\n"
    "  --plot-log         |i| on a log axis whatever the objective\n"
    "  --csv FILE         measured and fitted curves: file,t,v,i_data,i_model,v_device,x\n"
    "  --spice-check      run each file's drive through ngspice with the fitted\n"
    "                     subcircuit and print its NRMSE against the fitted curve\n"
    "  -q, --quiet        no progress on stderr\n";

enum { OPT_MODEL = 256, OPT_PRESET, OPT_COLUMNS, OPT_FREQ, OPT_SCALE, OPT_SERIES, OPT_SERIES_COL,
       OPT_FIX, OPT_BOUNDS, OPT_SEED, OPT_THREADS, OPT_POLARITY, OPT_POP, OPT_GEN, OPT_STARTS,
       OPT_SPICE, OPT_NAME, OPT_PLOT, OPT_QUIET, OPT_CHECK, OPT_SWEEP, OPT_STEP, OPT_FOLD,
       OPT_SAMPLES, OPT_OFFSET, OPT_SENSE, OPT_OBJECTIVE, OPT_FLOOR, OPT_EVALUATE, OPT_CSV,
       OPT_PLOT_LOG };

static int progress(const ss_fit_progress *p, void *user)
{
    (void)user;
    if (!strcmp(p->phase, "global"))
        cli_progress(0, "fit: global generation %d: objective %.4f (%ld evaluations, %.1f s)",
                     p->iteration, p->best, p->evals, p->seconds);
    else
        cli_progress(0, "fit: polish %d iteration %d: objective %.4f (%ld evaluations, %.1f s)",
                     p->start + 1, p->iteration, p->best, p->evals, p->seconds);
    return 0;
}

/* Parses "a,b,c" SPICE numbers into vals (n values); returns the count or -1. */
static long parse_list(const char *s, double **vals)
{
    size_t n = 0;
    char **l = cli_split(s, ',', &n);
    if (!l)
        return -1;
    *vals = malloc((n ? n : 1) * sizeof **vals);
    if (!*vals) {
        cli_free_list(l);
        return -1;
    }
    for (size_t k = 0; k < n; k++)
        if (ss_util_parse_spice_number(l[k], &(*vals)[k])) {
            cli_free_list(l);
            free(*vals);
            *vals = NULL;
            return -1;
        }
    cli_free_list(l);
    return (long)n;
}

static double list_value(const double *v, long n, size_t k, double def)
{
    if (n <= 0)
        return def;
    return n == 1 ? v[0] : v[k];
}

/* Prints each line of `notes` as "smallsim: [prefix: ]line". */
static void print_notes(const char *notes, const char *prefix)
{
    for (const char *p = notes; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl ? nl - p : (long)strlen(p));
        if (prefix)
            fprintf(stderr, "smallsim: %s: %.*s\n", prefix, len, p);
        else
            fprintf(stderr, "smallsim: %.*s\n", len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* Positive number option: 0 on success. */
static int positive(const char *opt, const char *arg, double *out)
{
    if (ss_util_parse_spice_number(arg, out) || !(*out > 0) || !isfinite(*out)) {
        cli_msg("%s: '%s' is not a positive number", opt, arg);
        return -1;
    }
    return 0;
}

static void print_result(const ss_fit_result *res, int evaluate)
{
    static const char *const obj[] = {"linear", "log", "mixed"};
    printf("model %s, %zu file%s, polarity %s, %zu free value%s, objective %s\n",
           res->device.type->name, res->nfiles, res->nfiles == 1 ? "" : "s",
           res->polarity < 0 ? "reversed" : "normal", res->nfree, res->nfree == 1 ? "" : "s",
           obj[res->objective]);
    if (!evaluate) {
        printf("%-10s %14s %-5s %12s %8s  %s\n", "parameter", "value", "unit", "stderr", "rel",
               "note");
        for (size_t k = 0; k < res->nparams; k++) {
            const ss_fit_param *p = &res->params[k];
            if (!p->free)
                continue;
            double rel = p->stderr_ / fabs(p->value);
            char partner[48] = "";
            if (!p->identifiable && p->partner[0] && fabs(p->corr) >= 0.9)
                snprintf(partner, sizeof partner, ", ~ %s", p->partner);
            printf("%-10s %14.6g %-5s %12.4g %7.1f%%  %s%s%s\n", p->name, p->value, p->unit,
                   p->stderr_, 100 * rel, p->identifiable ? "" : "NOT IDENTIFIABLE",
                   p->at_bound ? " (at bound)" : "", partner);
        }
    }
    int x0_fitted = 0;
    for (size_t k = 0; k < res->nfiles; k++)
        x0_fitted |= res->files[k].x0_free;
    printf("%s:", evaluate ? "parameters (fixed)" : "fixed");
    for (size_t k = 0; k < res->nparams; k++) {
        const ss_device_param *dp = &res->device.type->params[k];
        if (res->params[k].free || (x0_fitted && ss_fit_is_state_param(res->device.type, k)))
            continue;
        if (dp->choices)
            printf(" %s=%s", dp->name, dp->choices[(int)res->params[k].value]);
        else
            printf(" %s=%g", dp->name, res->params[k].value);
    }
    printf("\n");
    for (size_t k = 0; k < res->nfiles; k++) {
        const ss_fit_file *f = &res->files[k];
        if (f->x0_free)
            printf("file %s: NRMSE %.4f, log error %.3f decades, x0 %.4f +- %.2g (fitted), "
                   "series %g ohm\n",
                   f->name, f->nrmse, f->log_rmse, f->x0, f->x0_stderr, f->series_r);
        else
            printf("file %s: NRMSE %.4f, log error %.3f decades, x0 %.4f (fixed), series %g "
                   "ohm\n",
                   f->name, f->nrmse, f->log_rmse, f->x0, f->series_r);
    }
    printf("NRMSE %.4f overall, log error %.3f decades, objective %.4f (global phase %.4f), "
           "condition %.3g, %ld evaluations, %.2f s\n",
           res->nrmse, res->log_rmse, res->cost, res->global_nrmse, res->cond, res->evals,
           res->seconds);
}

/* "fit.png" -> "fit.csv" (beside the plot). */
static char *csv_beside(const char *png)
{
    size_t n = strlen(png);
    const char *dot = strrchr(png, '.'), *slash = strrchr(png, '/');
    if (dot && (!slash || dot > slash))
        n = (size_t)(dot - png);
    char *s = malloc(n + 5);
    if (s) {
        memcpy(s, png, n);
        strcpy(s + n, ".csv");
    }
    return s;
}

static int spice_check(const ss_fit_result *res, const ss_fit_data *data, size_t nfiles)
{
    ss_error err;
    ss_engine *eng = NULL;
    if (ss_engine_open(&eng, &err))
        return cli_fail(&err);
    double worst = 0;
    for (size_t k = 0; k < nfiles; k++) {
        ss_fit_trace tr = SS_FIT_TRACE_INIT;
        if (ss_fit_run_spice(eng, res, k, &data[k], &tr, &err)) {
            ss_engine_free(eng);
            return cli_fail(&err);
        }
        double e = ss_devsim_nrmse(tr.i, res->files[k].model.i, tr.n);
        worst = fmax(worst, e);
        printf("ngspice check %s: NRMSE %.2e against the fitted curve (%ld time points)\n",
               res->files[k].name, e, tr.steps);
        ss_devsim_trace_release(&tr);
    }
    ss_engine_free(eng);
    printf("ngspice check: worst NRMSE %.2e%s\n", worst, worst < 0.01 ? "" : " (over 1 %)");
    return CLI_OK;
}

int cmd_fit(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, OPT_MODEL},
        {"preset", required_argument, NULL, OPT_PRESET},
        {"columns", required_argument, NULL, OPT_COLUMNS},
        {"freq", required_argument, NULL, OPT_FREQ},
        {"current-scale", required_argument, NULL, OPT_SCALE},
        {"series", required_argument, NULL, OPT_SERIES},
        {"series-column", no_argument, NULL, OPT_SERIES_COL},
        {"sweep-rate", required_argument, NULL, OPT_SWEEP},
        {"step-time", required_argument, NULL, OPT_STEP},
        {"fold", required_argument, NULL, OPT_FOLD},
        {"samples", required_argument, NULL, OPT_SAMPLES},
        {"offset", required_argument, NULL, OPT_OFFSET},
        {"sense", required_argument, NULL, OPT_SENSE},
        {"objective", required_argument, NULL, OPT_OBJECTIVE},
        {"log-floor", required_argument, NULL, OPT_FLOOR},
        {"evaluate", required_argument, NULL, OPT_EVALUATE},
        {"fix", required_argument, NULL, OPT_FIX},
        {"bounds", required_argument, NULL, OPT_BOUNDS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"jobs", required_argument, NULL, OPT_THREADS},
        {"polarity", required_argument, NULL, OPT_POLARITY},
        {"population", required_argument, NULL, OPT_POP},
        {"generations", required_argument, NULL, OPT_GEN},
        {"starts", required_argument, NULL, OPT_STARTS},
        {"spice", required_argument, NULL, OPT_SPICE},
        {"name", required_argument, NULL, OPT_NAME},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"csv", required_argument, NULL, OPT_CSV},
        {"plot-log", no_argument, NULL, OPT_PLOT_LOG},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"spice-check", no_argument, NULL, OPT_CHECK},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model = NULL, *preset = NULL, *out = NULL, *spice = NULL, *plot = NULL,
               *name = "memfit", *evaluate = NULL, *csv = NULL;
    double *freqs = NULL, *series = NULL;
    long nfreq = 0, nseries = 0;
    int quiet = 0, check = 0, polarity_given = 0, plot_log = 0;
    ss_fit_read_options ro = SS_FIT_READ_OPTIONS_INIT;
    char **fixes = calloc((size_t)argc + 1, sizeof *fixes);
    char **bounds = calloc((size_t)argc + 1, sizeof *bounds);
    size_t nfix = 0, nbounds = 0;
    ss_fit_options fo = SS_FIT_OPTIONS_INIT;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    fo.threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
    int rc = CLI_USAGE;
    ss_fit *f = NULL;
    ss_fit_data *data = NULL;
    size_t nfiles = 0;
    ss_fit_result res = SS_FIT_RESULT_INIT;
    ss_buf buf = SS_BUF_INIT;
    char *beside = NULL;
    ss_error err;
    if (!fixes || !bounds) {
        cli_msg("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_PRESET: preset = optarg; break;
        case OPT_COLUMNS: ro.columns = optarg; break;
        case OPT_FREQ:
            free(freqs);
            nfreq = parse_list(optarg, &freqs);
            for (long k = 0; k < nfreq; k++)
                if (!(freqs[k] > 0))
                    nfreq = -1;
            if (nfreq <= 0) {
                cli_msg("--freq: '%s' is not a list of positive frequencies", optarg);
                goto out;
            }
            break;
        case OPT_SCALE:
            if (positive("--current-scale", optarg, &ro.current_scale))
                goto out;
            break;
        case OPT_SERIES:
            free(series);
            nseries = parse_list(optarg, &series);
            for (long k = 0; k < nseries; k++)
                if (!(series[k] >= 0))
                    nseries = -1;
            if (nseries <= 0) {
                cli_msg("--series: '%s' is not a list of resistances >= 0 ohm", optarg);
                goto out;
            }
            break;
        case OPT_SERIES_COL: ro.series_column = 1; break;
        case OPT_SWEEP:
            if (positive("--sweep-rate", optarg, &ro.sweep_rate))
                goto out;
            break;
        case OPT_STEP:
            if (positive("--step-time", optarg, &ro.step_time))
                goto out;
            break;
        case OPT_SENSE:
            if (positive("--sense", optarg, &ro.sense_r))
                goto out;
            break;
        case OPT_FOLD:
            if (!strcmp(optarg, "auto"))
                ro.fold = SS_FIT_FOLD_AUTO;
            else if (!strcmp(optarg, "on"))
                ro.fold = SS_FIT_FOLD_ON;
            else if (!strcmp(optarg, "off"))
                ro.fold = SS_FIT_FOLD_OFF;
            else {
                cli_msg("--fold: '%s' is not auto, on or off", optarg);
                goto out;
            }
            break;
        case OPT_SAMPLES: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 8 || v > 10000000) {
                cli_msg("--samples: '%s' is not a count from 8 to 1e7", optarg);
                goto out;
            }
            ro.samples = (size_t)v;
            break;
        }
        case OPT_OFFSET:
            if (!strcmp(optarg, "auto"))
                ro.offset_mode = SS_FIT_OFFSET_AUTO;
            else if (!ss_util_parse_spice_number(optarg, &ro.offset) && isfinite(ro.offset))
                ro.offset_mode = SS_FIT_OFFSET_VALUE;
            else {
                cli_msg("--offset: '%s' is not 'auto' or a current in A", optarg);
                goto out;
            }
            break;
        case OPT_OBJECTIVE:
            if (!strcmp(optarg, "linear"))
                fo.objective = SS_FIT_OBJECTIVE_LINEAR;
            else if (!strcmp(optarg, "log"))
                fo.objective = SS_FIT_OBJECTIVE_LOG;
            else if (!strcmp(optarg, "mixed"))
                fo.objective = SS_FIT_OBJECTIVE_MIXED;
            else {
                cli_msg("--objective: '%s' is not linear, log or mixed", optarg);
                goto out;
            }
            break;
        case OPT_FLOOR:
            if (positive("--log-floor", optarg, &fo.log_floor))
                goto out;
            break;
        case OPT_EVALUATE: evaluate = optarg; break;
        case OPT_FIX: fixes[nfix++] = optarg; break;
        case OPT_BOUNDS: bounds[nbounds++] = optarg; break;
        case OPT_SEED:
            fo.seed = strtoul(optarg, &end, 10);
            if (*end || !*optarg) {
                cli_msg("--seed: '%s' is not a non-negative integer", optarg);
                goto out;
            }
            break;
        case OPT_THREADS:
        case OPT_POP:
        case OPT_GEN:
        case OPT_STARTS: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                cli_msg("'%s' is not a count from 1 to 100000", optarg);
                goto out;
            }
            if (c == OPT_THREADS)
                fo.threads = (int)(v > 64 ? 64 : v);
            else if (c == OPT_POP)
                fo.population = (int)v;
            else if (c == OPT_GEN)
                fo.generations = (int)v;
            else
                fo.starts = (int)(v > 16 ? 16 : v);
            break;
        }
        case OPT_POLARITY:
            polarity_given = 1;
            if (!strcmp(optarg, "auto"))
                fo.polarity = 0;
            else if (!strcmp(optarg, "normal") || !strcmp(optarg, "1") || !strcmp(optarg, "+1"))
                fo.polarity = 1;
            else if (!strcmp(optarg, "reversed") || !strcmp(optarg, "-1"))
                fo.polarity = -1;
            else {
                cli_msg("--polarity: '%s' is not auto, normal or reversed", optarg);
                goto out;
            }
            break;
        case OPT_SPICE: spice = optarg; break;
        case OPT_NAME: name = optarg; break;
        case OPT_PLOT: plot = optarg; break;
        case OPT_CSV: csv = optarg; break;
        case OPT_PLOT_LOG: plot_log = 1; break;
        case 'q':
        case OPT_QUIET: quiet = 1; break;
        case OPT_CHECK: check = 1; break;
        case 'o': out = optarg; break;
        case 'h':
            fputs(fit_usage, stdout);
            rc = CLI_OK;
            goto out;
        default: fputs(fit_usage, stderr); goto out;
        }
    }
    if (optind >= argc) {
        cli_msg("no data files (see 'smallsim fit --help')");
        goto out;
    }
    if (evaluate && (model || preset || nbounds)) {
        cli_msg("--evaluate takes the model and parameters from its file: drop --model, "
                "--preset and --bounds");
        goto out;
    }
    if (!evaluate && !model && !preset) {
        cli_msg("--model is required (vteam, yakopcic or yakopcic2020), or --evaluate FILE");
        goto out;
    }
    if (ro.sweep_rate > 0 && ro.step_time > 0) {
        cli_msg("--sweep-rate and --step-time exclude each other");
        goto out;
    }
    if (nfreq > 1 && nfreq != argc - optind) {
        cli_msg("--freq has %ld values for %d files (give one, or one per file)", nfreq,
                argc - optind);
        goto out;
    }
    if (nseries > 1 && nseries != argc - optind) {
        cli_msg("--series has %ld values for %d files (give one, or one per file)", nseries,
                argc - optind);
        goto out;
    }
    if (nseries > 0 && ro.series_column) {
        cli_msg("--series and --series-column exclude each other");
        goto out;
    }
    ss_device dev;
    if (evaluate) {
        int pol = 1;
        if (ss_fit_params_load(evaluate, &dev, &pol, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
        if (polarity_given && fo.polarity != pol) {
            cli_msg("--polarity contradicts the polarity %+d in '%s'", pol, evaluate);
            goto out;
        }
        fo.polarity = pol;
    } else {
        int brc = cli_build_device(model, preset, NULL, 0, 0, &dev);
        if (brc >= 0) {
            rc = brc;
            goto out;
        }
    }
    rc = CLI_FAIL;
    nfiles = (size_t)(argc - optind);
    data = calloc(nfiles, sizeof *data);
    if (!data || !(f = ss_fit_alloc(dev.type, &err)) || ss_fit_set_device(f, &dev, &err)) {
        if (!data)
            cli_msg("out of memory");
        else
            cli_fail(&err);
        goto out;
    }
    if (evaluate)
        ss_fit_fix_all(f);
    for (size_t k = 0; k < nfiles; k++) {
        ss_fit_read_options o = ro;
        o.freq = list_value(freqs, nfreq, k, 0.0);
        o.series_r = list_value(series, nseries, k, 0.0);
        if (ss_fit_data_read(&data[k], argv[optind + (int)k], &o, &err) ||
            ss_fit_add_data(f, &data[k], &err)) {
            cli_fail(&err);
            goto out;
        }
        if (!quiet)
            print_notes(data[k].notes, data[k].name);
    }
    rc = CLI_USAGE;
    for (size_t k = 0; k < nfix; k++)
        if (ss_fit_fix_text(f, fixes[k], &err)) {
            cli_fail(&err);
            goto out;
        }
    for (size_t k = 0; k < nbounds; k++)
        if (ss_fit_bounds_text(f, bounds[k], &err)) {
            cli_fail(&err);
            goto out;
        }
    rc = CLI_FAIL;
    if (!quiet)
        fo.progress = progress;
    cli_progress_start(quiet);
    ss_fit_set_options(f, &fo);
    int frc = ss_fit_run(f, &res, &err);
    cli_progress_break();
    if (frc) {
        cli_fail(&err);
        goto out;
    }
    print_result(&res, evaluate != NULL);
    fflush(stdout);
    print_notes(res.notes, NULL);
    if (out) {
        if (ss_fit_result_json(&res, &buf, &err) ||
            ss_util_write_file_atomic(out, buf.data, buf.len, &err)) {
            cli_fail(&err);
            goto out;
        }
        buf.len = 0;
    }
    if (spice) {
        ss_buf_release(&buf);
        if (ss_fit_result_spice(&res, name, 0, &buf, &err) ||
            ss_util_write_file_atomic(spice, buf.data, buf.len, &err)) {
            cli_fail(&err);
            goto out;
        }
    }
    if (plot) {
        if (ss_fit_plot(&res, data, plot, name,
                        plot_log || fo.objective != SS_FIT_OBJECTIVE_LINEAR, &err)) {
            cli_fail(&err);
            goto out;
        }
        if (!csv && !(csv = beside = csv_beside(plot))) {
            cli_msg("out of memory");
            goto out;
        }
    }
    if (csv) {
        if (ss_fit_write_curves(&res, data, csv, &err)) {
            cli_fail(&err);
            goto out;
        }
        if (!quiet)
            fprintf(stderr, "smallsim: curves written to %s\n", csv);
    }
    if (check && spice_check(&res, data, nfiles) != CLI_OK)
        goto out;
    rc = CLI_OK;
out:
    ss_buf_release(&buf);
    ss_fit_result_release(&res);
    ss_fit_free(f);
    for (size_t k = 0; data && k < nfiles; k++)
        ss_fit_data_release(&data[k]);
    free(data);
    free(freqs);
    free(series);
    free(fixes);
    free(bounds);
    free(beside);
    return rc;
}
