/* cmd_fit.c: `smallsim fit`: one memristor parameter set fitted to one or
 * more measured I-V loops (fit/ss_fit.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fit/ss_fit.h"

static const char fit_usage[] =
    "usage: smallsim fit --model vteam|yakopcic|yakopcic2020 DATA.csv [DATA2.csv ...]\n"
    "                    [--columns t,v,i | v,i] [--freq F[,F...]] [--current-scale S]\n"
    "                    [--series R[,R...] | --series-column] [--fix k=v ...]\n"
    "                    [--bounds k=lo:hi ...] [--seed S] [-o fit.json] [--spice fit.sub]\n"
    "                    [--plot fit.png]\n"
    "\n"
    "Fits ONE parameter set of a memristor model to measured I-V loops.  Each file\n"
    "is one measurement with its own drive (the applied voltage column) and its own\n"
    "initial state (fitted unless fixed).  With a series resistor the model is the\n"
    "circuit drive -> resistor -> device, and the applied voltage is across both.\n"
    "Method: differential evolution over log-scaled bounds, then a trust-region\n"
    "Levenberg-Marquardt polish (GSL); see docs/fitting.md.\n"
    "\n"
    "data:\n"
    "  --columns LIST     column names in file order: t (s), v (applied V), i, r (series\n"
    "                     ohm), vd (device V); other names skip a column.  Default: the\n"
    "                     header's names, else v,i (two columns) or t,v,i (three)\n"
    "  --freq F[,F...]    drive frequency (Hz), one value or one per file: the time is\n"
    "                     t_k = k/(n F), n samples over one period (no t column needed)\n"
    "  --current-scale S  multiply the current column by S (1e-6 for micro-amps)\n"
    "  --series R[,R...]  series resistor (ohm), one value or one per file\n"
    "  --series-column    the series resistance is in the file: an r column, or v and vd\n"
    "model:\n"
    "  --model M          vteam, yakopcic or yakopcic2020\n"
    "  --preset P         start from (and take fixed values of) a preset\n"
    "  --fix k=v          fix a parameter (SPICE number); x0=V or x0[k]=V fixes initial\n"
    "                     states (all files, file k); repeatable\n"
    "  --bounds k=lo:hi   search bounds (frees a parameter fixed by default); repeatable\n"
    "  --polarity P       auto (default: search both), normal, reversed (device te to ground)\n"
    "search:\n"
    "  --seed S           random seed (default 1); same seed, same result\n"
    "  --threads N        threads (default 2)\n"
    "  --population N, --generations N, --starts N   global phase and polish sizes\n"
    "output:\n"
    "  -o FILE            JSON: model, params, stderr, units, identifiable, nrmse, files, seconds\n"
    "  --spice FILE       the fitted .subckt (initial state of the first file)\n"
    "  --name X           subcircuit name (default memfit)\n"
    "  --plot PNG         data and model loops, one panel per file (gnuplot)\n"
    "  --spice-check      run each file's drive through ngspice with the fitted\n"
    "                     subcircuit and print its NRMSE against the fitted curve\n"
    "  --quiet            no progress on stderr\n";

enum { OPT_MODEL = 256, OPT_PRESET, OPT_COLUMNS, OPT_FREQ, OPT_SCALE, OPT_SERIES, OPT_SERIES_COL,
       OPT_FIX, OPT_BOUNDS, OPT_SEED, OPT_THREADS, OPT_POLARITY, OPT_POP, OPT_GEN, OPT_STARTS,
       OPT_SPICE, OPT_NAME, OPT_PLOT, OPT_QUIET, OPT_CHECK };

static int progress(const ss_fit_progress *p, void *user)
{
    (void)user;
    static int tty = -1;
    if (tty < 0)
        tty = isatty(2);
    if (!tty) {
        if (p->iteration % 10 == 0)
            fprintf(stderr, "smallsim: %s%s %d: NRMSE %.4f (%ld evaluations, %.1f s)\n", p->phase,
                    strcmp(p->phase, "global") ? " iteration" : " generation", p->iteration,
                    p->best, p->evals, p->seconds);
        return 0;
    }
    if (!strcmp(p->phase, "global"))
        fprintf(stderr, "\rsmallsim: global generation %3d: NRMSE %.4f (%ld evaluations, %.1f s)  ",
                p->iteration, p->best, p->evals, p->seconds);
    else
        fprintf(stderr, "\rsmallsim: polish %d iteration %3d: NRMSE %.4f (%ld evaluations, %.1f s)  ",
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
        {"fix", required_argument, NULL, OPT_FIX},
        {"bounds", required_argument, NULL, OPT_BOUNDS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"polarity", required_argument, NULL, OPT_POLARITY},
        {"population", required_argument, NULL, OPT_POP},
        {"generations", required_argument, NULL, OPT_GEN},
        {"starts", required_argument, NULL, OPT_STARTS},
        {"spice", required_argument, NULL, OPT_SPICE},
        {"name", required_argument, NULL, OPT_NAME},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"spice-check", no_argument, NULL, OPT_CHECK},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *model = NULL, *preset = NULL, *columns = NULL, *out = NULL, *spice = NULL,
               *plot = NULL, *name = "memfit";
    double *freqs = NULL, *series = NULL, scale = 1.0;
    long nfreq = 0, nseries = 0;
    int series_col = 0, quiet = 0, check = 0;
    char **fixes = calloc((size_t)argc + 1, sizeof *fixes);
    char **bounds = calloc((size_t)argc + 1, sizeof *bounds);
    size_t nfix = 0, nbounds = 0;
    ss_fit_options fo = SS_FIT_OPTIONS_INIT;
    int rc = CLI_USAGE;
    ss_fit *f = NULL;
    ss_fit_data *data = NULL;
    size_t nfiles = 0;
    ss_fit_result res = SS_FIT_RESULT_INIT;
    ss_buf buf = SS_BUF_INIT;
    ss_error err;
    if (!fixes || !bounds) {
        cli_msg("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_MODEL: model = optarg; break;
        case OPT_PRESET: preset = optarg; break;
        case OPT_COLUMNS: columns = optarg; break;
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
            if (ss_util_parse_spice_number(optarg, &scale) || !(scale > 0)) {
                cli_msg("--current-scale: '%s' is not a positive number", optarg);
                goto out;
            }
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
        case OPT_SERIES_COL: series_col = 1; break;
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
    if (!model && !preset) {
        cli_msg("--model is required (vteam, yakopcic or yakopcic2020)");
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
    if (nseries > 0 && series_col) {
        cli_msg("--series and --series-column exclude each other");
        goto out;
    }
    ss_device dev;
    int brc = cli_build_device(model, preset, NULL, 0, 0, &dev);
    if (brc >= 0) {
        rc = brc;
        goto out;
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
    for (size_t k = 0; k < nfiles; k++) {
        ss_fit_read_options ro = SS_FIT_READ_OPTIONS_INIT;
        ro.columns = columns;
        ro.freq = list_value(freqs, nfreq, k, 0.0);
        ro.current_scale = scale;
        ro.series_r = list_value(series, nseries, k, 0.0);
        ro.series_column = series_col;
        if (ss_fit_data_read(&data[k], argv[optind + (int)k], &ro, &err) ||
            ss_fit_add_data(f, &data[k], &err)) {
            cli_fail(&err);
            goto out;
        }
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
    ss_fit_set_options(f, &fo);
    int frc = ss_fit_run(f, &res, &err);
    if (!quiet && isatty(2))
        fputc('\n', stderr);
    if (frc) {
        cli_fail(&err);
        goto out;
    }
    printf("model %s, %zu file%s, polarity %s, %zu free values\n", res.device.type->name,
           res.nfiles, res.nfiles == 1 ? "" : "s", res.polarity < 0 ? "reversed" : "normal",
           res.nfree);
    printf("%-10s %14s %-5s %12s %8s  %s\n", "parameter", "value", "unit", "stderr", "rel",
           "note");
    for (size_t k = 0; k < res.nparams; k++) {
        const ss_fit_param *p = &res.params[k];
        if (!p->free)
            continue;
        double rel = p->stderr_ / fabs(p->value);
        printf("%-10s %14.6g %-5s %12.4g %7.1f%%  %s%s\n", p->name, p->value, p->unit, p->stderr_,
               100 * rel, p->identifiable ? "" : "NOT IDENTIFIABLE", p->at_bound ? " (at bound)" : "");
    }
    printf("fixed:");
    for (size_t k = 0; k < res.nparams; k++)
        if (!res.params[k].free)
            printf(" %s=%g", res.params[k].name, res.params[k].value);
    printf("\n");
    for (size_t k = 0; k < res.nfiles; k++)
        printf("file %s: NRMSE %.4f, x0 %.4f%s, series %g ohm\n", res.files[k].name,
               res.files[k].nrmse, res.files[k].x0, res.files[k].x0_free ? "" : " (fixed)",
               res.files[k].series_r);
    printf("NRMSE %.4f overall (global phase %.4f), condition %.3g, %ld evaluations, %.2f s\n",
           res.nrmse, res.global_nrmse, res.cond, res.evals, res.seconds);
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
    if (plot && ss_fit_plot(&res, data, plot, name, &err)) {
        cli_fail(&err);
        goto out;
    }
    if (check) {
        ss_engine *eng = NULL;
        if (ss_engine_open(&eng, &err)) {
            cli_fail(&err);
            goto out;
        }
        double worst = 0;
        for (size_t k = 0; k < nfiles; k++) {
            ss_fit_trace tr = SS_FIT_TRACE_INIT;
            if (ss_fit_run_spice(eng, &res, k, &data[k], &tr, &err)) {
                ss_engine_free(eng);
                cli_fail(&err);
                goto out;
            }
            double e = ss_devsim_nrmse(tr.i, res.files[k].model.i, tr.n);
            worst = fmax(worst, e);
            printf("ngspice check %s: NRMSE %.2e against the fitted curve (%ld time points)\n",
                   res.files[k].name, e, tr.steps);
            ss_devsim_trace_release(&tr);
        }
        ss_engine_free(eng);
        printf("ngspice check: worst NRMSE %.2e%s\n", worst, worst < 0.01 ? "" : " (over 1 %)");
    }
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
    return rc;
}
