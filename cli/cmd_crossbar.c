/* cmd_crossbar.c: `smallsim crossbar dc` (the solver) and `smallsim netlist
 * crossbar` (the same circuit as an ngspice netlist). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "devices/ss_devices.h"
#include "cosim/crossbar/ss_crossbar.h"
#include "netlists/ss_netlist.h"

static const char crossbar_usage[] =
    "usage: smallsim crossbar dc --g-file G.csv --inputs V.csv [--rows N --cols M]\n"
    "                            [--rwire OHM] [--rsource OHM] [--rsense OHM] [-o I.csv]\n"
    "       smallsim crossbar tran --rows N --cols M --device MODEL [--preset P]\n"
    "                            [--param k=v ...] [--hard] [--x0-file X.csv] --pulses FILE\n"
    "                            --tstop T [--rwire OHM ...] [--rtol R] [-o states.csv]\n"
    "\n"
    "dc: solves the nodal equations of an N x M resistive crossbar with line\n"
    "resistance (the circuit 'smallsim netlist crossbar' writes) and prints one\n"
    "bit-line current in amperes per line (to stdout without -o).\n"
    "tran: memristive cells (devices/) driven by piecewise-linear word-line\n"
    "voltages; prints N lines of M final normalised states.\n"
    "\n"
    "  --g-file FILE   N lines of M cell conductances in siemens (no header); its\n"
    "                  shape is the crossbar's (--rows/--cols, if given, must agree)\n"
    "  --inputs FILE   N word-line source voltages, one per line (also --v-file)\n"
    "  --device MODEL  vteam, yakopcic or yakopcic2020 (--preset, --param, --hard\n"
    "                  as for 'smallsim device')\n"
    "  --x0-file FILE  N lines of M initial states (default: the device's x0)\n"
    "  --pulses FILE   line i: the PWL of word line i as 't0 v0 t1 v1 ...'\n"
    "  --tstop T       end of the transient (s)\n"
    "  --rtol R        CVODE relative tolerance (default 1e-6)\n"
    "  --rwire OHM     resistance of each wire segment (default 0: ideal wires)\n"
    "  --rsource OHM   source resistance of each word line (default 0)\n"
    "  --rsense OHM    sense resistance of each bit line to ground (default 0)\n"
    "  --stats         print iterations and solve time on stderr\n"
    "  -q, --quiet     accepted as by every command (only results are printed)\n";

static const char netlist_usage[] =
    "usage: smallsim netlist crossbar (--g-file G.csv | --rows N --cols M --device MODEL\n"
    "                                 [--preset P] [--param k=v ...] [--hard] [--x0-file X.csv])\n"
    "                                 (--inputs V.csv [--op] | --pulses FILE --tran T,STEP)\n"
    "                                 [--rwire OHM] [--rsource OHM] [--rsense OHM] [-o out.cir]\n"
    "\n"
    "Writes the full ngspice netlist of a crossbar: word line i driven by VIN<i>\n"
    "through RS<i>, wire segments RW/RB of --rwire, bit line j ending in RSE<j> and the\n"
    "0 V ammeter VSENSE<j>, whose current i(vsense<j>) is column j's output.\n"
    "Memristive cells are the device's subcircuit (as 'smallsim device spice'\n"
    "writes it), their states held at x0 by .ic for the operating point.\n"
    "\n"
    "  --inputs FILE   N word-line DC voltages, one per line\n"
    "  --op            an operating point analysis (the default)\n"
    "  --tran T,STEP   a transient analysis to T with step STEP (SPICE numbers)\n"
    "  --pulses FILE   line i: the PWL of word line i as 't0 v0 t1 v1 ...'\n"
    "  -q, --quiet     accepted as by every command (only results are printed)\n";

struct geometry {
    long rows, cols;
    double rwire, rsource, rsense, tstop, rtol;
    const char *gfile, *vfile, *out, *pulses, *tran, *model, *preset, *x0file;
    char *params[64];
    size_t nparams;
    int op, stats, hard;
};

enum { OPT_ROWS = 256, OPT_COLS, OPT_RWIRE, OPT_RSOURCE, OPT_RSENSE, OPT_GFILE, OPT_VFILE,
       OPT_INPUTS, OPT_OP, OPT_TRAN, OPT_PULSES, OPT_STATS, OPT_DEVICE, OPT_PRESET, OPT_PARAM,
       OPT_HARD, OPT_X0, OPT_TSTOP, OPT_RTOL };

static int parse_opts(int argc, char **argv, struct geometry *geo, const char *usage)
{
    static const struct option opts[] = {
        {"rows", required_argument, NULL, OPT_ROWS},   {"cols", required_argument, NULL, OPT_COLS},
        {"rwire", required_argument, NULL, OPT_RWIRE}, {"rsource", required_argument, NULL, OPT_RSOURCE},
        {"rsense", required_argument, NULL, OPT_RSENSE}, {"g-file", required_argument, NULL, OPT_GFILE},
        {"v-file", required_argument, NULL, OPT_VFILE}, {"inputs", required_argument, NULL, OPT_INPUTS},
        {"op", no_argument, NULL, OPT_OP},             {"tran", required_argument, NULL, OPT_TRAN},
        {"pulses", required_argument, NULL, OPT_PULSES}, {"stats", no_argument, NULL, OPT_STATS},
        {"device", required_argument, NULL, OPT_DEVICE}, {"preset", required_argument, NULL, OPT_PRESET},
        {"param", required_argument, NULL, OPT_PARAM}, {"hard", no_argument, NULL, OPT_HARD},
        {"x0-file", required_argument, NULL, OPT_X0}, {"tstop", required_argument, NULL, OPT_TSTOP},
        {"rtol", required_argument, NULL, OPT_RTOL},
        {"output", required_argument, NULL, 'o'},      {"help", no_argument, NULL, 'h'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    int c;
    double *r = NULL;
    const char *name = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'q': break; /* nothing but the results is printed */
        case OPT_ROWS:
        case OPT_COLS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 100000) {
                cli_msg("--%s: '%s' is not a count from 1 to 100000", c == OPT_ROWS ? "rows" : "cols",
                        optarg);
                return CLI_USAGE;
            }
            *(c == OPT_ROWS ? &geo->rows : &geo->cols) = v;
            break;
        }
        case OPT_RWIRE: r = &geo->rwire, name = "rwire"; break;
        case OPT_RSOURCE: r = &geo->rsource, name = "rsource"; break;
        case OPT_RSENSE: r = &geo->rsense, name = "rsense"; break;
        case OPT_GFILE: geo->gfile = optarg; break;
        case OPT_VFILE:
        case OPT_INPUTS: geo->vfile = optarg; break;
        case OPT_OP: geo->op = 1; break;
        case OPT_TRAN: geo->tran = optarg; break;
        case OPT_PULSES: geo->pulses = optarg; break;
        case OPT_STATS: geo->stats = 1; break;
        case OPT_DEVICE: geo->model = optarg; break;
        case OPT_PRESET: geo->preset = optarg; break;
        case OPT_PARAM:
            if (geo->nparams == sizeof geo->params / sizeof geo->params[0]) {
                cli_msg("too many --param options");
                return CLI_USAGE;
            }
            geo->params[geo->nparams++] = optarg;
            break;
        case OPT_HARD: geo->hard = 1; break;
        case OPT_X0: geo->x0file = optarg; break;
        case OPT_TSTOP:
        case OPT_RTOL: {
            double *t = c == OPT_TSTOP ? &geo->tstop : &geo->rtol;
            if (ss_util_parse_spice_number(optarg, t) || !(*t > 0)) {
                cli_msg("--%s: '%s' is not a positive number", c == OPT_TSTOP ? "tstop" : "rtol", optarg);
                return CLI_USAGE;
            }
            break;
        }
        case 'o': geo->out = optarg; break;
        case 'h': fputs(usage, stdout); return -1;
        default: fputs(usage, stderr); return CLI_USAGE;
        }
        if (r) {
            if (ss_util_parse_spice_number(optarg, r) || *r < 0) {
                cli_msg("--%s: '%s' is not a resistance >= 0", name, optarg);
                return CLI_USAGE;
            }
            r = NULL;
        }
    }
    if (optind < argc) {
        cli_msg("unexpected argument '%s'", argv[optind]);
        return CLI_USAGE;
    }
    if ((!geo->rows || !geo->cols) && geo->gfile) {
        /* the conductance file has the shape */
        double *g = NULL;
        size_t nr, nc;
        ss_error err;
        if (ss_util_read_matrix(geo->gfile, 0, &g, &nr, &nc, &err))
            return cli_fail(&err);
        free(g);
        if ((geo->rows && (size_t)geo->rows != nr) || (geo->cols && (size_t)geo->cols != nc)) {
            cli_msg("%s: %zu x %zu values, but the crossbar is %ld x %ld", geo->gfile, nr, nc,
                    geo->rows ? geo->rows : (long)nr, geo->cols ? geo->cols : (long)nc);
            return CLI_USAGE;
        }
        geo->rows = (long)nr;
        geo->cols = (long)nc;
    }
    if (!geo->rows || !geo->cols) {
        cli_msg("--rows and --cols are required (without --g-file nothing gives the shape)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

/* Reads G (rows x cols) and, if given, V (rows values). */
static int read_arrays(const struct geometry *geo, double **g, double **v, ss_error *err)
{
    size_t r, c;
    int rc = ss_util_read_matrix(geo->gfile, 0, g, &r, &c, err);
    if (rc)
        return rc;
    if (r != (size_t)geo->rows || c != (size_t)geo->cols)
        return ss_error_set(err, SS_EINVAL, "%s: %zu x %zu values, but the crossbar is %ld x %ld",
                            geo->gfile, r, c, geo->rows, geo->cols);
    if (!geo->vfile)
        return SS_OK;
    if ((rc = ss_util_read_matrix(geo->vfile, 0, v, &r, &c, err)))
        return rc;
    if (r * c != (size_t)geo->rows)
        return ss_error_set(err, SS_EINVAL, "%s: %zu values, but the crossbar has %ld rows",
                            geo->vfile, r * c, geo->rows);
    return SS_OK;
}

static int crossbar_dc(int argc, char **argv)
{
    struct geometry geo = {0};
    int code = parse_opts(argc, argv, &geo, crossbar_usage);
    if (code)
        return code < 0 ? CLI_OK : code;
    if (!geo.gfile || !geo.vfile) {
        cli_msg("crossbar dc: --g-file and --inputs are required");
        return CLI_USAGE;
    }
    ss_error err = {0, ""};
    double *g = NULL, *v = NULL, *iout = NULL;
    ss_crossbar *xb = NULL;
    int rc = read_arrays(&geo, &g, &v, &err);
    ss_crossbar_spec spec = {(size_t)geo.rows, (size_t)geo.cols, geo.rwire, geo.rsource, geo.rsense};
    if (!rc && !(xb = ss_crossbar_alloc(&spec, &err)))
        rc = err.code ? err.code : SS_ENOMEM;
    if (!rc && !(iout = malloc(spec.cols * sizeof *iout)))
        rc = ss_error_set(&err, SS_ENOMEM, "out of memory");
    double t0 = ss_util_now();
    if (!rc)
        rc = ss_crossbar_dc(xb, g, v, iout, &err);
    double dt = ss_util_now() - t0;
    if (!rc) {
        FILE *f = geo.out && strcmp(geo.out, "-") ? ss_util_open_output(geo.out, "w", &err)
                                                   : stdout;
        if (!f) {
            rc = err.code;
        } else {
            for (size_t j = 0; j < spec.cols; j++)
                fprintf(f, "%.17g\n", iout[j]);
            if ((f != stdout ? fclose(f) : fflush(f)) != 0)
                rc = ss_error_set(&err, SS_EIO, "%s: write error", geo.out ? geo.out : "stdout");
        }
        if (geo.stats)
            fprintf(stderr, "crossbar dc: %ld x %ld, %d iterations, %.3f s\n", geo.rows, geo.cols,
                    ss_crossbar_iterations(xb), dt);
    }
    ss_crossbar_free(xb);
    free(g);
    free(v);
    free(iout);
    return rc ? cli_fail(&err) : CLI_OK;
}

static int crossbar_tran(int argc, char **argv);

int cmd_crossbar(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(crossbar_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "dc"))
        return crossbar_dc(argc - 1, argv + 1);
    if (!strcmp(argv[1], "tran"))
        return crossbar_tran(argc - 1, argv + 1);
    cli_msg("crossbar: unknown subcommand '%s' (see 'smallsim crossbar --help')", argv[1]);
    return CLI_USAGE;
}

/* Reads --pulses: line i is the PWL of word line i ("t0 v0 t1 v1 ..."). */
static ss_pwl *read_pulses(const char *path, size_t rows, ss_error *err)
{
    char *text = NULL;
    if (ss_util_read_file(path, &text, NULL, err))
        return NULL;
    ss_pwl *w = calloc(rows, sizeof *w);
    size_t n = 0;
    int lineno = 0, rc = w ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    for (char *p = text, *next; !rc && p && *p; p = next) {
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#' || *p == '\r')
            continue;
        if (n == rows)
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: more waveforms than the %zu rows", path, lineno,
                              rows);
        else if ((rc = ss_pwl_parse(&w[n], p, err)))
            ss_error_prefix(err, rc, "%s:%d", path, lineno);
        else
            n++;
    }
    free(text);
    if (!rc && n != rows)
        rc = ss_error_set(err, SS_EPARSE, "%s: %zu waveforms, but the crossbar has %zu rows", path, n,
                          rows);
    if (rc && w) {
        for (size_t i = 0; i < rows; i++)
            ss_pwl_release(&w[i]);
        free(w);
        w = NULL;
    }
    return w;
}

static void free_pulses(ss_pwl *w, size_t rows)
{
    for (size_t i = 0; w && i < rows; i++)
        ss_pwl_release(&w[i]);
    free(w);
}

/* Initial states: --x0-file or the device's own x0. */
static double *read_x0(const struct geometry *geo, const ss_device *d, ss_error *err)
{
    size_t nc = (size_t)(geo->rows * geo->cols), r, c;
    double *x = NULL;
    if (!geo->x0file) {
        if (!(x = malloc(nc * sizeof *x)))
            ss_error_set(err, SS_ENOMEM, "out of memory");
        for (size_t k = 0; x && k < nc; k++)
            x[k] = ss_device_x0(d);
        return x;
    }
    if (ss_util_read_matrix(geo->x0file, 0, &x, &r, &c, err))
        return NULL;
    if (r * c != nc) {
        ss_error_set(err, SS_EINVAL, "%s: %zu states, but the crossbar has %zu cells", geo->x0file,
                     r * c, nc);
        free(x);
        return NULL;
    }
    for (size_t k = 0; k < nc; k++)
        if (!(x[k] >= 0 && x[k] <= 1)) {
            ss_error_set(err, SS_EINVAL, "%s: state %zu is %g, outside [0, 1]", geo->x0file, k, x[k]);
            free(x);
            return NULL;
        }
    return x;
}

static int crossbar_tran(int argc, char **argv)
{
    struct geometry geo = {0};
    int code = parse_opts(argc, argv, &geo, crossbar_usage);
    if (code)
        return code < 0 ? CLI_OK : code;
    if (!geo.pulses || !(geo.tstop > 0)) {
        cli_msg("crossbar tran: --pulses and --tstop are required");
        return CLI_USAGE;
    }
    ss_device d;
    if ((code = cli_build_device(geo.model, geo.preset, geo.params, geo.nparams, geo.hard, &d)) >= 0)
        return code;
    ss_error err = {0, ""};
    ss_crossbar_spec spec = {(size_t)geo.rows, (size_t)geo.cols, geo.rwire, geo.rsource, geo.rsense};
    ss_crossbar *xb = ss_crossbar_alloc(&spec, &err);
    ss_pwl *in = xb ? read_pulses(geo.pulses, spec.rows, &err) : NULL;
    double *x = in ? read_x0(&geo, &d, &err) : NULL;
    int rc = x ? SS_OK : (err.code ? err.code : SS_EINVAL);
    double t0 = ss_util_now();
    if (!rc)
        rc = ss_crossbar_tran(xb, &d, 1, in, geo.tstop, geo.rtol, x, &err);
    if (!rc && geo.stats)
        fprintf(stderr, "crossbar tran: %ld x %ld, %.3f s\n", geo.rows, geo.cols, ss_util_now() - t0);
    if (!rc) {
        ss_buf out = SS_BUF_INIT;
        for (size_t i = 0; !rc && i < spec.rows; i++)
            for (size_t j = 0; !rc && j < spec.cols; j++)
                rc = ss_buf_printf(&out, "%.17g%c", x[i * spec.cols + j], j + 1 < spec.cols ? ',' : '\n');
        if (rc)
            rc = ss_error_set(&err, SS_ENOMEM, "out of memory");
        else if (geo.out && strcmp(geo.out, "-"))
            rc = ss_util_write_file_atomic(geo.out, out.data, out.len, &err);
        else
            fputs(out.data, stdout);
        ss_buf_release(&out);
    }
    free_pulses(in, spec.rows);
    free(x);
    ss_crossbar_free(xb);
    return rc ? cli_fail(&err) : CLI_OK;
}

static int netlist_crossbar(int argc, char **argv)
{
    struct geometry geo = {0};
    int code = parse_opts(argc, argv, &geo, netlist_usage);
    if (code)
        return code < 0 ? CLI_OK : code;
    int device = geo.model || geo.preset;
    if (!!geo.gfile == device) {
        cli_msg("netlist crossbar: give exactly one of --g-file and --device/--preset");
        return CLI_USAGE;
    }
    if (!!geo.vfile == !!geo.pulses) {
        cli_msg("netlist crossbar: give exactly one of --inputs and --pulses");
        return CLI_USAGE;
    }
    char analysis[128] = ".op";
    if (geo.tran) {
        char *comma = strchr(geo.tran, ',');
        double t, step;
        if (!comma || geo.op) {
            cli_msg("--tran: expected T,STEP (and no --op)");
            return CLI_USAGE;
        }
        *comma = '\0';
        if (ss_util_parse_spice_number(geo.tran, &t) || ss_util_parse_spice_number(comma + 1, &step) ||
            t <= 0 || step <= 0) {
            cli_msg("--tran: '%s,%s' is not T,STEP with positive times", geo.tran, comma + 1);
            return CLI_USAGE;
        }
        snprintf(analysis, sizeof analysis, ".tran %.17g %.17g", step, t);
    }
    ss_device d;
    if (device && (code = cli_build_device(geo.model, geo.preset, geo.params, geo.nparams, geo.hard,
                                           &d)) >= 0)
        return code;
    ss_error err = {0, ""};
    double *g = NULL, *v = NULL, *x0 = NULL;
    ss_pwl *in = NULL;
    ss_buf out = SS_BUF_INIT, sub = SS_BUF_INIT;
    size_t rows = (size_t)geo.rows;
    ss_buf *src = calloc(rows, sizeof *src);
    const char **srcs = calloc(rows, sizeof *srcs);
    int rc = src && srcs ? SS_OK : ss_error_set(&err, SS_ENOMEM, "out of memory");
    if (!rc && geo.gfile)
        rc = read_arrays(&geo, &g, &v, &err);
    if (!rc && !geo.gfile && geo.vfile) {
        size_t r, c;
        if (!(rc = ss_util_read_matrix(geo.vfile, 0, &v, &r, &c, &err)) && r * c != rows)
            rc = ss_error_set(&err, SS_EINVAL, "%s: %zu values, but the crossbar has %zu rows",
                              geo.vfile, r * c, rows);
    }
    if (!rc && geo.pulses) {
        if (!(in = read_pulses(geo.pulses, rows, &err)))
            rc = err.code;
        for (size_t i = 0; !rc && i < rows; i++) {
            if (ss_pwl_spice(&in[i], &src[i]))
                rc = ss_error_set(&err, SS_ENOMEM, "out of memory");
            srcs[i] = src[i].data;
        }
    }
    if (!rc && device) {
        if (!(x0 = read_x0(&geo, &d, &err)))
            rc = err.code;
        else
            rc = ss_device_write_spice(&d, "cell", &sub, &err);
    }
    ss_netlist_crossbar nx = {rows, (size_t)geo.cols, geo.rwire, geo.rsource, geo.rsense,
                              g, device ? sub.data : NULL, device ? "cell" : NULL, NULL, x0,
                              geo.pulses ? srcs : NULL, v, analysis, NULL, NULL, 0};
    if (!rc)
        rc = ss_netlist_crossbar_write(&nx, &out, &err);
    if (!rc) {
        if (geo.out && strcmp(geo.out, "-"))
            rc = ss_util_write_file_atomic(geo.out, out.data, out.len, &err);
        else
            fputs(out.data, stdout);
    }
    ss_buf_release(&out);
    ss_buf_release(&sub);
    for (size_t i = 0; src && i < rows; i++)
        ss_buf_release(&src[i]);
    free(src);
    free(srcs);
    free_pulses(in, rows);
    free(g);
    free(v);
    free(x0);
    return rc ? cli_fail(&err) : CLI_OK;
}

int cmd_netlist(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(netlist_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "crossbar"))
        return netlist_crossbar(argc - 1, argv + 1);
    cli_msg("netlist: unknown subcommand '%s' (see 'smallsim netlist --help')", argv[1]);
    return CLI_USAGE;
}
