/* cmd_device.c: `smallsim device list|iv|spice`: memristor models, one
 * device driven by a waveform, and the ngspice subcircuit of a device. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cosim/devsim/ss_devsim.h"
#include "devices/ss_devices.h"
#include "fit/ss_fit.h"

static const char device_usage[] =
    "usage: smallsim device list\n"
    "       smallsim device iv --model M [--preset P] [--param k=v ...] [--hard]\n"
    "                          (--wave W | --drive FILE) [--series R] [--points N]\n"
    "                          [-o iv.csv] [--plot iv.png]\n"
    "       smallsim device spice --model M [--preset P] [--param k=v ...] [--hard]\n"
    "                          [--name X] [--wave W [--series R]] [-o out.cir]\n"
    "\n"
    "Memristor models (vteam, yakopcic, yakopcic2020) in C and as ngspice subcircuits.\n"
    "'smallsim device <sub> --help' describes each subcommand.\n";

static const char list_usage[] =
    "usage: smallsim device list\n"
    "\n"
    "Prints every model with its parameters (name, unit, default, description) and\n"
    "every preset with its source; presets marked [unverified] are not yet checked\n"
    "against the paper.\n"
    "\n"
    "  -q, --quiet      accepted as by every command (only the list is printed)\n";

static const char iv_usage[] =
    "usage: smallsim device iv --model M [--preset P] [--param k=v ...] [--hard]\n"
    "                          (--wave W | --drive FILE [--columns LIST] [--freq F |\n"
    "                          --step-time T]) [--series R] [--points N] [-o iv.csv]\n"
    "                          [--plot iv.png]\n"
    "\n"
    "Integrates one device driven by a waveform (CVODE) or by a measured or\n"
    "piecewise-linear drive (the loop integrator of 'smallsim fit', so the result\n"
    "is the curve 'smallsim fit --evaluate' scores), optionally behind a series\n"
    "resistor, and writes CSV 't,v,i,x' (v across the device, SI units, x the\n"
    "normalised state in [0, 1]) to stdout or -o.\n"
    "\n"
    "  --model M        vteam, yakopcic or yakopcic2020 (optional with --preset)\n"
    "  --preset P       a named parameter set (see 'smallsim device list')\n"
    "  --param k=v      set one parameter (SPICE numbers: 10k, 3n); repeatable\n"
    "  --hard           textbook discontinuous equations instead of smooth ones\n"
    "  --wave W         sine:AMP:FREQ[:CYCLES]  AMP*sin(2*pi*FREQ*t)\n"
    "                   triangle:AMP:FREQ[:CYCLES]  0 -> +AMP -> 0 -> -AMP -> 0\n"
    "                   pulse:V1:V2:WIDTH:PERIOD:COUNT  (edges 1% of the shorter phase)\n"
    "  --drive FILE     the drive, piecewise linear between its samples: a table as\n"
    "                   'smallsim fit' reads it (instrument exports; the applied\n"
    "                   voltage column, a current column is ignored; two unnamed\n"
    "                   columns are t,v), or a file holding 'PWL(t0 v0 t1 v1 ...)'\n"
    "  --columns LIST   the drive file's columns (t, v; other words skip a column)\n"
    "  --freq F         the drive file has no time: its samples are one period of F Hz\n"
    "  --step-time T    the drive file has no time: T seconds per sample\n"
    "  --series R       resistor between the source and the device (ohm)\n"
    "  --points N       evenly spaced output samples (default 1001; with --drive the\n"
    "                   output is at the drive's samples)\n"
    "  -o FILE          write the CSV to FILE\n"
    "  --plot PNG       draw i(v) (the pinched hysteresis loop) and x(t) with gnuplot\n"
    "  -q, --quiet      accepted as by every command (only results are printed)\n";

static const char spice_usage[] =
    "usage: smallsim device spice --model M [--preset P] [--param k=v ...] [--hard]\n"
    "                             [--name X] [--wave W [--series R]] [-o out.cir]\n"
    "\n"
    "Prints an ngspice subcircuit '.subckt X te be' with the same equations as the C\n"
    "model (state on a 1 F capacitor at internal node xs; run .tran with uic).\n"
    "With --wave, prints a complete runnable deck around it (source, optional series\n"
    "resistor, probe 'vsense', .tran) for 'ngspice -b'.\n"
    "\n"
    "  --name X         subcircuit name (default: the preset or model name)\n"
    "  --wave W         also write the test bench (as for 'device iv')\n"
    "  --series R       series resistor of the test bench (ohm)\n"
    "  -o FILE          write to FILE instead of stdout\n"
    "  -q, --quiet      accepted as by every command (only results are printed)\n";

struct device_args {
    const char *model, *preset, *wave, *out, *plot, *name, *drive, *columns;
    char **params;
    size_t nparams;
    int hard, points_given;
    double series, freq, step_time;
    long points;
};

enum { OPT_MODEL = 256, OPT_PRESET, OPT_PARAM, OPT_HARD, OPT_WAVE, OPT_SERIES, OPT_POINTS,
       OPT_PLOT, OPT_NAME, OPT_DRIVE, OPT_COLUMNS, OPT_FREQ, OPT_STEP };

static int usage_error(const char *usage)
{
    fputs(usage, stderr);
    return CLI_USAGE;
}

/* Parses the shared options; returns -1 to continue, else an exit code. */
static int parse_args(int argc, char **argv, struct device_args *a, const char *usage)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, OPT_MODEL},   {"preset", required_argument, NULL, OPT_PRESET},
        {"param", required_argument, NULL, OPT_PARAM},   {"hard", no_argument, NULL, OPT_HARD},
        {"wave", required_argument, NULL, OPT_WAVE},     {"series", required_argument, NULL, OPT_SERIES},
        {"points", required_argument, NULL, OPT_POINTS}, {"plot", required_argument, NULL, OPT_PLOT},
        {"name", required_argument, NULL, OPT_NAME},     {"output", required_argument, NULL, 'o'},
        {"drive", required_argument, NULL, OPT_DRIVE},   {"columns", required_argument, NULL, OPT_COLUMNS},
        {"freq", required_argument, NULL, OPT_FREQ},     {"step-time", required_argument, NULL, OPT_STEP},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': break; /* nothing but the results is printed */
        case OPT_MODEL: a->model = optarg; break;
        case OPT_PRESET: a->preset = optarg; break;
        case OPT_PARAM: a->params[a->nparams++] = optarg; break;
        case OPT_HARD: a->hard = 1; break;
        case OPT_WAVE: a->wave = optarg; break;
        case OPT_SERIES:
            if (ss_util_parse_spice_number(optarg, &a->series) || !(a->series >= 0)) {
                cli_msg("--series: '%s' is not a resistance >= 0 ohm", optarg);
                return CLI_USAGE;
            }
            break;
        case OPT_POINTS: {
            char *end;
            a->points = strtol(optarg, &end, 10);
            if (*end || a->points < 2 || a->points > 100000000) {
                cli_msg("--points: '%s' is not a count from 2 to 1e8", optarg);
                return CLI_USAGE;
            }
            a->points_given = 1;
            break;
        }
        case OPT_DRIVE: a->drive = optarg; break;
        case OPT_COLUMNS: a->columns = optarg; break;
        case OPT_FREQ:
        case OPT_STEP: {
            double x;
            if (ss_util_parse_spice_number(optarg, &x) || !(x > 0) || !isfinite(x)) {
                cli_msg("%s: '%s' is not a positive number", c == OPT_FREQ ? "--freq" : "--step-time",
                        optarg);
                return CLI_USAGE;
            }
            if (c == OPT_FREQ)
                a->freq = x;
            else
                a->step_time = x;
            break;
        }
        case OPT_PLOT: a->plot = optarg; break;
        case OPT_NAME: a->name = optarg; break;
        case 'o': a->out = optarg; break;
        case 'h': fputs(usage, stdout); return CLI_OK;
        default: return usage_error(usage);
        }
    }
    if (optind < argc) {
        cli_msg("unexpected argument '%s'", argv[optind]);
        return usage_error(usage);
    }
    return -1;
}

int cli_build_device(const char *model, const char *preset, char *const *params, size_t nparams,
                     int hard, ss_device *d)
{
    ss_error err;
    const ss_device_type *t = NULL;
    if (model && !(t = ss_device_type_find(model))) {
        cli_msg("unknown model '%s' (vteam, yakopcic, yakopcic2020)", model);
        return CLI_USAGE;
    }
    if (!model && !preset) {
        cli_msg("--model or --preset is required");
        return CLI_USAGE;
    }
    if (preset) {
        d->hard = hard;
        if (ss_device_apply_preset(d, preset, &err)) {
            cli_fail(&err);
            return CLI_USAGE;
        }
        if (t && d->type != t) {
            cli_msg("preset '%s' is for model '%s', not '%s'", preset, d->type->name, t->name);
            return CLI_USAGE;
        }
    } else {
        ss_device_init(d, t);
    }
    d->hard = hard;
    for (size_t k = 0; k < nparams; k++)
        if (ss_device_set(d, params[k], &err)) {
            cli_fail(&err);
            return CLI_USAGE;
        }
    if (ss_device_validate(d, &err)) {
        cli_fail(&err);
        return CLI_USAGE;
    }
    return -1;
}

/* Builds the device from --model/--preset/--param/--hard. */
static int build_device(const struct device_args *a, ss_device *d)
{
    return cli_build_device(a->model, a->preset, a->params, a->nparams, a->hard, d);
}

static int cmd_list(int argc, char **argv)
{
    for (int a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
            fputs(list_usage, stdout);
            return CLI_OK;
        }
        if (strcmp(argv[a], "-q") && strcmp(argv[a], "--quiet"))
            return usage_error(list_usage);
    }
    for (size_t k = 0; ss_device_types[k]; k++) {
        const ss_device_type *t = ss_device_types[k];
        printf("model %s: %s\n", t->name, t->title);
        printf("  state x in [0, 1]; ON (low resistance) at x = %g\n", t->x_lrs);
        for (size_t j = 0; j < t->nparams; j++) {
            const ss_device_param *p = &t->params[j];
            if (p->choices)
                printf("  %-10s %-5s %-12s %s\n", p->name, "", p->choices[(int)p->def],
                       p->description);
            else
                printf("  %-10s %-5s %-12g %s\n", p->name, p->unit, p->def, p->description);
        }
        printf("\n");
    }
    printf("presets:\n");
    for (const ss_device_preset *p = ss_device_presets; p->name; p++) {
        printf("  %-15s %-13s drive %-18s%s\n", p->name, p->model, p->drive ? p->drive : "-",
               p->unverified ? " [unverified]" : "");
        printf("      %s\n      source: %s\n", p->params, p->source);
    }
    return CLI_OK;
}

static char *quote_gnuplot(const char *s)
{
    /* single-quoted gnuplot string: a quote is doubled */
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_add(&b, "'", 1);
    for (const char *p = s; !rc && *p; p++)
        rc = *p == '\'' ? ss_buf_add(&b, "''", 2) : ss_buf_add(&b, p, 1);
    if (!rc)
        rc = ss_buf_add(&b, "'", 1);
    if (rc) {
        ss_buf_release(&b);
        return NULL;
    }
    return b.data;
}

static int plot_trace(const char *csv, const char *png, const char *title, ss_error *err)
{
    char *qc = quote_gnuplot(csv), *qp = quote_gnuplot(png), *qt = quote_gnuplot(title);
    ss_buf s = SS_BUF_INIT;
    int rc = SS_ENOMEM;
    if (qc && qp && qt &&
        !ss_buf_printf(&s,
                       "set terminal pngcairo size 1200,500 noenhanced\n"
                       "set output %s\n"
                       "set datafile separator ','\n"
                       "set key off\n"
                       "set grid\n"
                       "set multiplot layout 1,2 title %s\n"
                       "set xlabel 'v (V)'\nset ylabel 'i (A)'\n"
                       "set title 'pinched hysteresis loop'\n"
                       "plot %s using 2:3 every ::1 with lines lw 2\n"
                       "set xlabel 't (s)'\nset ylabel 'x'\nset yrange [-0.05:1.05]\n"
                       "set title 'state'\n"
                       "plot %s using 1:4 every ::1 with lines lw 2\n"
                       "unset multiplot\n",
                       qp, qt, qc, qc))
        rc = ss_util_gnuplot(s.data, err);
    else
        ss_error_set(err, SS_ENOMEM, "out of memory");
    free(qc);
    free(qp);
    free(qt);
    ss_buf_release(&s);
    return rc;
}

/* The drive file: "PWL(t0 v0 ...)" text, or a table as `smallsim fit` reads
 * it (the applied voltage; a current column is not needed). */
static int read_drive(const struct device_args *a, ss_fit_data *data, ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = ss_util_read_file(a->drive, &text, &len, err);
    if (rc)
        return rc;
    const char *p = text;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (!strncasecmp(p, "pwl", 3)) {
        const char *open = strchr(p, '('), *close = strrchr(p, ')');
        ss_pwl w = {0, NULL, NULL};
        if (!open || !close || close < open) {
            free(text);
            return ss_error_set(err, SS_EPARSE, "%s: expected PWL(t0 v0 t1 v1 ...)", a->drive);
        }
        char *inner = strndup(open + 1, (size_t)(close - open - 1));
        /* continuation lines ("+ t v") are part of the list */
        for (char *q = inner; q && *q; q++)
            if (*q == '+' && (q == inner || q[-1] == '\n'))
                *q = ' ';
        rc = inner ? ss_pwl_parse(&w, inner, err) : ss_error_set(err, SS_ENOMEM, "out of memory");
        if (rc && inner)
            ss_error_prefix(err, rc, "%s", a->drive);
        free(inner);
        if (!rc && w.n < 2)
            rc = ss_error_set(err, SS_EPARSE, "%s: a PWL drive needs at least 2 points", a->drive);
        if (!rc) {
            double *zero = calloc(w.n, sizeof *zero);
            rc = zero ? ss_fit_data_set(data, a->drive, w.n, w.t, w.v, zero, 0.0, a->series, err)
                      : ss_error_set(err, SS_ENOMEM, "out of memory");
            free(zero);
            for (size_t k = 1; !rc && k < w.n; k++)
                if (!(w.t[k] > w.t[k - 1]))
                    rc = ss_error_set(err, SS_EPARSE, "%s: PWL time %g does not increase after %g",
                                      a->drive, w.t[k], w.t[k - 1]);
            if (!rc && w.t[0] != 0)
                for (size_t k = 0; k < w.n; k++)
                    data->t[k] = w.t[k] - w.t[0];
        }
        ss_pwl_release(&w);
        free(text);
        return rc;
    }
    ss_fit_read_options o = SS_FIT_READ_OPTIONS_INIT;
    o.columns = a->columns;
    o.freq = a->freq;
    o.step_time = a->step_time;
    o.series_r = a->series;
    o.fold = SS_FIT_FOLD_OFF;
    o.drive_only = 1;
    rc = ss_fit_data_parse(data, text, a->drive, &o, err);
    free(text);
    return rc;
}

/* Runs the device under the --drive file; -1 when done, else the exit code. */
static int run_drive(const struct device_args *a, const ss_device *d, ss_devsim_trace *tr)
{
    ss_fit_data data = SS_FIT_DATA_INIT;
    ss_error err;
    int code = -1;
    if (read_drive(a, &data, &err))
        code = cli_fail(&err);
    else if (data.n < 2)
        cli_msg("%s: the drive needs at least 2 samples", a->drive), code = CLI_FAIL;
    else if (ss_fit_simulate(d, 1, &data, ss_device_x0(d), 0.0, tr, &err))
        code = cli_fail(&err);
    ss_fit_data_release(&data);
    return code;
}

static int cmd_iv(int argc, char **argv)
{
    char **params = calloc((size_t)argc + 1, sizeof *params);
    if (!params)
        return cli_msg("out of memory"), CLI_FAIL;
    struct device_args a = {.params = params, .points = 1001};
    ss_device d;
    ss_wave w;
    ss_error err;
    ss_devsim_trace tr = SS_DEVSIM_TRACE_INIT;
    char tmp[] = "/tmp/smallsim-iv-XXXXXX.csv";
    int tmpfd = -1;
    int code = parse_args(argc, argv, &a, iv_usage);
    if (code >= 0)
        goto out;
    if ((code = build_device(&a, &d)) >= 0)
        goto out;
    if (!a.wave == !a.drive) {
        cli_msg(a.wave ? "--wave and --drive exclude each other" : "--wave or --drive is required");
        code = usage_error(iv_usage);
        goto out;
    }
    if (!a.drive && (a.columns || a.freq > 0 || a.step_time > 0)) {
        cli_msg("--columns, --freq and --step-time describe a --drive file");
        code = usage_error(iv_usage);
        goto out;
    }
    if (a.drive) {
        if (a.points_given)
            cli_msg("note: with --drive the output is at the drive's samples; --points ignored");
        if ((code = run_drive(&a, &d, &tr)) >= 0)
            goto out;
    } else {
        if (ss_wave_parse(&w, a.wave, &err)) {
            cli_fail(&err);
            code = CLI_USAGE;
            goto out;
        }
        ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
        opt.series_r = a.series;
        opt.points = (size_t)a.points;
        if (ss_devsim_run(&d, &w, &opt, &tr, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    }
    const char *csv = a.out;
    if (!csv && a.plot) {
        tmpfd = mkstemps(tmp, 4);
        if (tmpfd < 0) {
            cli_msg("cannot create a temporary file for the plot data");
            code = CLI_FAIL;
            goto out;
        }
        csv = tmp;
    }
    if (csv) {
        if (ss_devsim_write_csv(&tr, csv, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    }
    if (!a.out) {
        printf("t,v,i,x\n");
        for (size_t k = 0; k < tr.n; k++)
            printf("%.17g,%.17g,%.17g,%.17g\n", tr.t[k], tr.v[k], tr.i[k], tr.x[k]);
        if (fflush(stdout)) {
            cli_msg("cannot write to stdout");
            code = CLI_FAIL;
            goto out;
        }
    }
    if (a.plot) {
        char title[256];
        snprintf(title, sizeof title, "%s%s%s, %s%s", d.type->name, a.preset ? " " : "",
                 a.preset ? a.preset : "", a.wave ? a.wave : a.drive, d.hard ? ", hard" : "");
        if (plot_trace(csv, a.plot, title, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    }
    code = CLI_OK;
out:
    if (tmpfd >= 0) {
        close(tmpfd);
        unlink(tmp);
    }
    ss_devsim_trace_release(&tr);
    free(params);
    return code;
}

static int cmd_spice_export(int argc, char **argv)
{
    char **params = calloc((size_t)argc + 1, sizeof *params);
    if (!params)
        return cli_msg("out of memory"), CLI_FAIL;
    struct device_args a = {.params = params, .points = 1001};
    ss_device d;
    ss_error err;
    ss_buf b = SS_BUF_INIT;
    int code = parse_args(argc, argv, &a, spice_usage);
    if (code >= 0)
        goto out;
    if ((code = build_device(&a, &d)) >= 0)
        goto out;
    if (a.drive || a.columns || a.freq > 0 || a.step_time > 0) {
        cli_msg("--drive, --columns, --freq and --step-time are for 'device iv'");
        code = usage_error(spice_usage);
        goto out;
    }
    if (a.wave) {
        ss_wave w;
        ss_devsim_options opt = SS_DEVSIM_OPTIONS_DEFAULT;
        opt.series_r = a.series;
        if (a.name)
            cli_msg("note: the test bench names its subcircuit 'dut'");
        if (ss_wave_parse(&w, a.wave, &err)) {
            cli_fail(&err);
            code = CLI_USAGE;
            goto out;
        }
        if (ss_devsim_netlist(&d, &w, &opt, &b, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    } else {
        const char *name = a.name ? a.name : a.preset ? a.preset : d.type->name;
        if (ss_device_write_spice(&d, name, &b, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    }
    if (a.out) {
        if (ss_util_write_file_atomic(a.out, b.data, b.len, &err)) {
            code = cli_fail(&err);
            goto out;
        }
    } else if (fwrite(b.data, 1, b.len, stdout) != b.len || fflush(stdout)) {
        cli_msg("cannot write to stdout");
        code = CLI_FAIL;
        goto out;
    }
    code = CLI_OK;
out:
    ss_buf_release(&b);
    free(params);
    return code;
}

int cmd_device(int argc, char **argv)
{
    if (argc < 2) {
        fputs(device_usage, stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(device_usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(sub, "list"))
        return cmd_list(argc - 1, argv + 1);
    if (!strcmp(sub, "iv"))
        return cmd_iv(argc - 1, argv + 1);
    if (!strcmp(sub, "spice"))
        return cmd_spice_export(argc - 1, argv + 1);
    cli_msg("unknown device subcommand '%s' (list, iv, spice)", sub);
    return CLI_USAGE;
}
