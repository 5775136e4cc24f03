/* cmd_spice.c: `smallsim spice run`: any ngspice netlist through the engine. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cosim/engine/ss_engine.h"

static const char spice_usage[] =
    "usage: smallsim spice run NETLIST [--vectors v(out),i(v1),...] [-o out.csv | -o out.raw]\n"
    "                          [--include-dir DIR] [--allow-control] [--timeout S]\n"
    "\n"
    "Runs an ngspice netlist (with its own analysis line) through the ngspice shared\n"
    "library, in a child process confined to the netlist's folders, and writes the requested vectors of the last analysis (all, if none are\n"
    "given) as CSV with a header row (to stdout without -o), or every analysis as an\n"
    "ngspice binary raw file when the output name ends in .raw.\n"
    "\n"
    "  --vectors LIST    comma-separated vector names: v(out), out, i(v1), ...\n"
    "  -o, --output FILE output file (.csv or .raw); '-' for CSV on stdout\n"
    "  --timeout S       kill the run after S seconds\n"
    "  --verbose         print ngspice's transcript of the run on stderr\n"
    "  -h, --help        this help\n"
    "\n"
    "Trust (by default a netlist is a circuit only: see docs/engine.md, Threat model):\n";

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int spice_run(int argc, char **argv)
{
    static const struct option opts[] = {{"vectors", required_argument, NULL, 'v'},
                                         {"output", required_argument, NULL, 'o'},
                                         {"allow-control", no_argument, NULL, 'a'},
                                         {"include-dir", required_argument, NULL, 'I'},
                                         {"no-sandbox", no_argument, NULL, 'S'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {"verbose", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *vectors = NULL, *output = "-";
    unsigned flags = 0;
    double timeout = 0;
    int c, rc, verbose = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'v': vectors = optarg; break;
        case 'o': output = optarg; break;
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
    int raw = ends_with(output, ".raw");
    ss_error err = {0, ""};
    ss_result res = SS_RESULT_INIT;
    ss_netlist nl = SS_NETLIST_INIT;
    char *transcript = NULL;
    rc = ss_netlist_read_file(&nl, path, flags, &err);
    if (!rc && !ss_netlist_analysis(&nl, NULL) && !(flags & SS_NETLIST_ALLOW_CONTROL))
        rc = ss_error_set(&err, SS_EPARSE, "%s:%d: no analysis line (.tran, .ac, .dc, .op, ...)",
                          path, nl.lines[nl.n - 1].line);
    if (!rc) {
        /* always in a child: a crash of ngspice cannot take this process
         * down, and the child, not this process, is confined */
        ss_engine_child_options copt = {timeout, verbose ? &transcript : NULL};
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
    if (!rc && raw)
        rc = ss_result_write_raw(&res, (const char *const *)names, nnames, output, &err);
    else if (!rc)
        rc = ss_result_write_csv(&res.plot[res.nplot - 1], (const char *const *)names, nnames,
                                 output, &err);
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
