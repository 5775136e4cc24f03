/* cmd_crossbar.c: `smallsim crossbar dc` (the solver) and `smallsim netlist
 * crossbar` (the same circuit as an ngspice netlist). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cosim/ss_cosim.h"
#include "netlists/ss_netlist.h"

static const char crossbar_usage[] =
    "usage: smallsim crossbar dc --rows N --cols M --g-file G.csv --v-file V.csv\n"
    "                            [--rwire OHM] [--rsource OHM] [--rsense OHM] [-o I.csv]\n"
    "\n"
    "Solves the nodal equations of an N x M resistive crossbar with line resistance\n"
    "(the circuit 'smallsim netlist crossbar' writes) and prints one bit-line current\n"
    "in amperes per line (to stdout without -o).\n"
    "\n"
    "  --g-file FILE   N lines of M cell conductances in siemens (no header)\n"
    "  --v-file FILE   N word-line source voltages, one per line\n"
    "  --rwire OHM     resistance of each wire segment (default 0: ideal wires)\n"
    "  --rsource OHM   source resistance of each word line (default 0)\n"
    "  --rsense OHM    sense resistance of each bit line to ground (default 0)\n"
    "  --stats         print iterations and solve time on stderr\n";

static const char netlist_usage[] =
    "usage: smallsim netlist crossbar --rows N --cols M --g-file G.csv\n"
    "                                 (--inputs V.csv [--op] | --pulses SPEC --tran T,STEP)\n"
    "                                 [--rwire OHM] [--rsource OHM] [--rsense OHM] [-o out.cir]\n"
    "\n"
    "Writes the full ngspice netlist of a crossbar: word line i driven by VIN<i>\n"
    "through RS<i>, wire segments RW/RB of --rwire, bit line j ending in RSE<j> and the\n"
    "0 V ammeter VSENSE<j>, whose current i(vsense<j>) is column j's output.\n"
    "Memristive cells (--device) come with the devices module.\n"
    "\n"
    "  --inputs FILE   N word-line DC voltages, one per line\n"
    "  --op            an operating point analysis (the default)\n"
    "  --tran T,STEP   a transient analysis to T with step STEP (SPICE numbers)\n"
    "  --pulses SPEC   per-row PWL text file: line i is the value of VIN<i>, e.g.\n"
    "                  'PULSE(0 0.1 1u 1n 1n 2u 10u)'\n";

struct geometry {
    long rows, cols;
    double rwire, rsource, rsense;
    const char *gfile, *vfile, *out, *pulses, *tran;
    int op, stats;
};

enum { OPT_ROWS = 256, OPT_COLS, OPT_RWIRE, OPT_RSOURCE, OPT_RSENSE, OPT_GFILE, OPT_VFILE,
       OPT_INPUTS, OPT_OP, OPT_TRAN, OPT_PULSES, OPT_STATS };

static int parse_opts(int argc, char **argv, struct geometry *geo, const char *usage)
{
    static const struct option opts[] = {
        {"rows", required_argument, NULL, OPT_ROWS},   {"cols", required_argument, NULL, OPT_COLS},
        {"rwire", required_argument, NULL, OPT_RWIRE}, {"rsource", required_argument, NULL, OPT_RSOURCE},
        {"rsense", required_argument, NULL, OPT_RSENSE}, {"g-file", required_argument, NULL, OPT_GFILE},
        {"v-file", required_argument, NULL, OPT_VFILE}, {"inputs", required_argument, NULL, OPT_INPUTS},
        {"op", no_argument, NULL, OPT_OP},             {"tran", required_argument, NULL, OPT_TRAN},
        {"pulses", required_argument, NULL, OPT_PULSES}, {"stats", no_argument, NULL, OPT_STATS},
        {"output", required_argument, NULL, 'o'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    double *r = NULL;
    const char *name = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
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
    if (!geo->rows || !geo->cols) {
        cli_msg("--rows and --cols are required");
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
        cli_msg("crossbar dc: --g-file and --v-file are required");
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
        FILE *f = geo.out && strcmp(geo.out, "-") ? fopen(geo.out, "w") : stdout;
        if (!f) {
            rc = ss_error_set(&err, SS_EIO, "%s: cannot write", geo.out);
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

int cmd_crossbar(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(crossbar_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "dc"))
        return crossbar_dc(argc - 1, argv + 1);
    cli_msg("crossbar: unknown subcommand '%s' (see 'smallsim crossbar --help')", argv[1]);
    return CLI_USAGE;
}

/* Reads one source text per line (for --pulses). */
static char **read_lines(const char *path, size_t want, ss_error *err)
{
    char *text = NULL;
    if (ss_util_read_file(path, &text, NULL, err))
        return NULL;
    char **lines = calloc(want + 1, sizeof *lines);
    size_t n = 0;
    int lineno = 0;
    for (char *p = text, *next; lines && p && *p; p = next) {
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#')
            continue;
        if (n == want || strpbrk(p, "`")) {
            ss_error_set(err, SS_EPARSE, "%s:%d: %s", path, lineno,
                         n == want ? "more source lines than rows" : "backquote refused");
            cli_free_list(lines);
            free(text);
            return NULL;
        }
        lines[n++] = strdup(p);
    }
    free(text);
    if (lines && n != want) {
        ss_error_set(err, SS_EPARSE, "%s: %zu source lines, but the crossbar has %zu rows", path, n,
                     want);
        cli_free_list(lines);
        return NULL;
    }
    if (!lines)
        ss_error_set(err, SS_ENOMEM, "out of memory");
    return lines;
}

static int netlist_crossbar(int argc, char **argv)
{
    struct geometry geo = {0};
    int code = parse_opts(argc, argv, &geo, netlist_usage);
    if (code)
        return code < 0 ? CLI_OK : code;
    if (!geo.gfile) {
        cli_msg("netlist crossbar: --g-file is required (memristive cells need the devices module)");
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
    ss_error err = {0, ""};
    double *g = NULL, *v = NULL;
    char **sources = NULL;
    ss_buf out = SS_BUF_INIT;
    int rc = read_arrays(&geo, &g, &v, &err);
    if (!rc && geo.pulses && !(sources = read_lines(geo.pulses, (size_t)geo.rows, &err)))
        rc = err.code;
    ss_netlist_crossbar nx = {(size_t)geo.rows, (size_t)geo.cols, geo.rwire, geo.rsource,
                              geo.rsense, g, NULL, NULL, NULL, NULL,
                              (const char *const *)sources, v, analysis, NULL};
    if (!rc)
        rc = ss_netlist_crossbar_write(&nx, &out, &err);
    if (!rc) {
        if (geo.out && strcmp(geo.out, "-"))
            rc = ss_util_write_file_atomic(geo.out, out.data, out.len, &err);
        else
            fputs(out.data, stdout);
    }
    ss_buf_release(&out);
    cli_free_list(sources);
    free(g);
    free(v);
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
