/* cmd_spice.c: `smallsim spice run`: any ngspice netlist through the engine. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cosim/engine/ss_engine.h"

static const char spice_usage[] =
    "usage: smallsim spice run NETLIST [--vectors v(out),i(v1),...] [-o out.csv | -o out.raw]\n"
    "                          [--meas FILE.csv|FILE.json] [--outdir DIR] [--include-dir DIR]\n"
    "                          [--allow-control] [--timeout S]\n"
    "\n"
    "Runs an ngspice netlist through the ngspice shared library, in a child process\n"
    "confined to the netlist's folders, as ngspice -b -r would, and writes the\n"
    "requested vectors of the last analysis (all, if none are given) as CSV with a\n"
    "header row (to stdout without -o), or every analysis as an ngspice binary raw\n"
    "file when the output name ends in .raw.  The netlist's .meas results are\n"
    "printed with 16 or 17 significant digits (on stdout with -o, else on stderr);\n"
    "so is what its .control commands print.  A .control block that ends with\n"
    "'quit N' (N > 0) makes the command fail, as ngspice -b exits with N.\n"
    "\n"
    "  --vectors LIST    comma-separated vector names: v(out), out, i(v1), ...\n"
    "  -o, --output FILE output file (.csv or .raw); '-' for CSV on stdout\n"
    "  --meas FILE       also write the measurements: CSV (name,analysis,value,status)\n"
    "                    or JSON when FILE ends in .json\n"
    "  --outdir DIR      working folder of the netlist's commands (wrdata, write,\n"
    "                    print > FILE land there; created if missing); without it\n"
    "                    they go to a temporary folder that is removed\n"
    "  --timeout S       kill the run after S seconds\n"
    "  --verbose         print ngspice's transcript of the run on stderr\n"
    "  -q, --quiet       no printout of the measurements and of what the .control\n"
    "                    commands print (--meas still writes them)\n"
    "  -h, --help        this help\n"
    "\n"
    "Trust (by default a netlist is a circuit only: see docs/engine.md, Threat model):\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Prints the measurements as "name = value" with the digits they have. */
static void print_measures(FILE *f, const ss_result *res)
{
    for (size_t i = 0; i < res->nmeas; i++) {
        const ss_measure *m = &res->meas[i];
        if (m->ok)
            fprintf(f, "%-20s = %.*g\n", m->name, m->digits > 0 ? m->digits : 17, m->value);
        else
            fprintf(f, "%-20s = failed\n", m->name);
    }
}

static int spice_run(int argc, char **argv)
{
    static const struct option opts[] = {{"vectors", required_argument, NULL, 'v'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"meas", required_argument, NULL, 'm'},
                                         {"outdir", required_argument, NULL, 'd'},
                                         {"allow-control", no_argument, NULL, 'a'},
                                         {"include-dir", required_argument, NULL, 'I'},
                                         {"no-sandbox", no_argument, NULL, 'S'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"verbose", no_argument, NULL, 'V'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *vectors = NULL, *output = NULL, *meas = NULL, *outdir = NULL;
    unsigned flags = 0;
    double timeout = 0;
    int c, rc, verbose = 0, quiet = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'v': vectors = optarg; break;
        case 'o': output = optarg; break;
        case 'm': meas = optarg; break;
        case 'd': outdir = optarg; break;
        case 'a': flags |= SS_NETLIST_ALLOW_CONTROL; break;
        case 'S': flags |= SS_NETLIST_NO_SANDBOX; break;
        case 'I':
            if ((rc = cli_include_dir(optarg)) >= 0)
                return rc;
            break;
        case 't':
            if (ss_util_parse_double(optarg, &timeout) || timeout <= 0) {
                cli_msg("--timeout: '%s' is not a positive number of seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'V': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(spice_usage, stdout); fputs(cli_trust_help, stdout); return CLI_OK;
        default: fputs(spice_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_msg(optind >= argc ? "spice run: missing NETLIST" : "spice run: one NETLIST only");
        fputs(spice_usage, stderr);
        return CLI_USAGE;
    }
    const char *path = argv[optind];
    size_t nnames = 0;
    char **names = NULL;
    if (vectors && !(names = cli_split(vectors, ',', &nnames))) {
        cli_msg("out of memory");
        return CLI_FAIL;
    }
    int to_stdout = !output || !strcmp(output, "-");
    int raw = output && ends_with(output, ".raw");
    /* reports go where the data do not */
    FILE *report = to_stdout ? stderr : stdout;
    ss_error err = {0, ""};
    ss_result res = SS_RESULT_INIT;
    ss_netlist nl = SS_NETLIST_INIT;
    char *transcript = NULL;
    ss_engine_child_options copt = {timeout, verbose ? &transcript : NULL, outdir, 0};
    rc = ss_netlist_read_file(&nl, path, flags, &err);
    if (!rc && !ss_netlist_analysis(&nl, NULL) && !(flags & SS_NETLIST_ALLOW_CONTROL))
        rc = ss_error_set(&err, SS_EPARSE, "%s:%d: no analysis line (.tran, .ac, .dc, .op, ...)",
                          path, nl.lines[nl.n - 1].line);
    if (!rc && !(flags & SS_NETLIST_ALLOW_CONTROL) && nl.dir && *nl.dir) {
        char init[4096 + 16];
        snprintf(init, sizeof init, "%s/.spiceinit", nl.dir);
        if (!access(init, F_OK))
            cli_msg("note: %s is not read (it can run commands; --allow-control trusts it)",
                    init);
    }
    if (!rc) {
        /* always in a child: a crash of ngspice cannot take this process
         * down, and the child, not this process, is confined */
        rc = ss_engine_run_child(&nl, &copt, &res, &err);
        if (rc && strncmp(err.msg, path, strlen(path)) != 0)
            ss_error_prefix(&err, rc, "%s", path);
    }
    /* a sweep that never starts (its range or step given by expressions
     * the reader cannot check) leaves vectors of no points: not a result */
    if (!rc && res.nplot && res.plot[res.nplot - 1].nvec &&
        res.plot[res.nplot - 1].vec[0].n == 0)
        rc = ss_error_set(&err, SS_ESIM,
                          "%s: the analysis gave no points (does its step lead from start to "
                          "stop?)",
                          path);
    if (!rc && res.printout && !quiet)
        fputs(res.printout, report);
    if (!rc && !quiet)
        print_measures(report, &res);
    if (!rc && meas)
        rc = ss_result_write_measures(&res, meas, &err);
    if (!rc && res.nplot == 0) {
        if (output)
            rc = ss_error_set(&err, SS_ESIM, "%s: the netlist made no plot to write", path);
    } else if (!rc && raw) {
        rc = ss_result_write_raw(&res, (const char *const *)names, nnames, output, &err);
    } else if (!rc) {
        rc = ss_result_write_csv(&res.plot[res.nplot - 1], (const char *const *)names, nnames,
                                 to_stdout ? "-" : output, &err);
    }
    if (!rc && !outdir && copt.files)
        cli_msg("note: the .control commands wrote %zu file%s into a temporary folder, now "
                "removed; --outdir DIR keeps them",
                copt.files, copt.files > 1 ? "s" : "");
    if (!rc && res.quit && res.quit_status != 0)
        rc = ss_error_set(&err, SS_ESIM, "%s: the .control commands ended with 'quit %d'", path,
                          res.quit_status);
    if (transcript)
        fputs(transcript, stderr);
    free(transcript);
    int code = rc ? cli_fail(&err) : CLI_OK;
    ss_result_release(&res);
    ss_netlist_release(&nl);
    cli_free_list(names);
    return code;
}

int cmd_spice(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(spice_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "run"))
        return spice_run(argc - 1, argv + 1);
    cli_msg("spice: unknown subcommand '%s' (see 'smallsim spice --help')", argv[1]);
    return CLI_USAGE;
}
