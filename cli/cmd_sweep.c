/* cmd_sweep.c: `smallsim sweep`: batch parameter sweeps of a netlist on a
 * pool of worker processes, with a resumable results CSV. */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "netlists/ss_netlist.h"
#include "sweep/ss_sweep.h"

static const char sweep_usage[] =
    "usage: smallsim sweep NETLIST --param NAME=SPEC ... [options]\n"
    "\n"
    "Runs NETLIST once per job on K worker processes and appends one row per job\n"
    "(job,status,<params>,seed,<measures>,seconds) to the results CSV as it ends.\n"
    "\n"
    "  --param NAME=SPEC   NAME is a .param, an instance value (R1) or an instance\n"
    "                      parameter (M1:w); SPEC is one of\n"
    "                        lin:START:STOP:N  log:START:STOP:N  dec:START:STOP:PER_DECADE\n"
    "                        list:a,b,c  file:values.txt  NUMBER\n"
    "                        gauss:MEAN:SIGMA  unif:LO:HI  lognorm:MEDIAN:SIGMA (with --lhs/--mc)\n"
    "  --zip               pair the value axes (i-th with i-th) instead of all combinations\n"
    "  --lhs N | --mc N    N Latin hypercube / Monte Carlo samples of the distributions\n"
    "                      (at every combination of the value axes)\n"
    "  --seed S            sweep seed (default 1); job seeds derive from it and the job\n"
    "  --measure 'LINE'    an ngspice .meas line without '.meas', e.g.\n"
    "                      'tran vend FIND v(out) AT=100u'; one column each\n"
    "  --jobs K            worker processes (default: the number of CPUs)\n"
    "  --timeout S         wall-clock limit per job in seconds (default 600, 0: none)\n"
    "  --resume            keep the rows already in the results file, run the rest\n"
    "  --shard I/N         run only jobs with job %% N == I (0 <= I < N)\n"
    "  -o, --output FILE   results CSV (default sweep.csv); failures are logged in FILE.log\n"
    "  --raw-dir DIR       write DIR/job-<n>.raw (ngspice raw) for each successful job\n"
    "  --plot PNG          plot the first measurement against the first one or two\n"
    "                      parameters (gnuplot)\n"
    "  -q, --quiet         no progress line\n"
    "  -h, --help          this text\n"
    "\n"
    "Each worker runs in a sandbox (docs/engine.md, Threat model):\n"
    "%s\n"
    "Statuses: ok, sim-error, timeout, crash, meas-failed.  Under mpirun (make MPI=1)\n"
    "the jobs are spread over the ranks and rank 0 writes the results.\n";

static void on_progress(void *user, const ss_sweep_progress *p)
{
    (void)user;
    if (p->status != SS_SWEEP_OK && p->msg && *p->msg)
        cli_msg("job %llu: %s: %s", (unsigned long long)p->job, ss_sweep_status_name(p->status),
                p->msg);
    cli_progress(p->done == p->total, "sweep %zu/%zu done, %zu failed, %.1f jobs/s, %.0f s left",
                 p->done, p->total, p->failed, p->rate, p->eta);
}

static int parse_count(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || *s == '-')
        return -1;
    *out = (size_t)v;
    return 0;
}

/* A sample count: a whole positive number ("200", "1e4", "10k"), within the
 * jobs limit (the limit's own message names it and how to raise it). */
static int parse_samples(const char *opt, const char *s, size_t *out)
{
    double v;
    ss_error err = {0};
    if (ss_util_parse_spice_number(s, &v) || v < 1 || v != floor(v)) {
        cli_msg("--%s: '%s' is not a sample count (a whole number >= 1)", opt, s);
        return -1;
    }
    if (ss_util_limit_check(SS_LIMIT_JOBS, v, &err, "--%s %s: samples", opt, s)) {
        cli_msg("%s", err.msg);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int cmd_sweep(int argc, char **argv)
{
    enum { O_PARAM = 256, O_ZIP, O_LHS, O_MC, O_SEED, O_MEASURE, O_JOBS, O_TIMEOUT, O_RESUME,
           O_SHARD, O_RAW, O_PLOT, O_ALLOW, O_INCDIR, O_NOSANDBOX };
    static const struct option longopts[] = {
        {"param", required_argument, NULL, O_PARAM},     {"zip", no_argument, NULL, O_ZIP},
        {"lhs", required_argument, NULL, O_LHS},         {"mc", required_argument, NULL, O_MC},
        {"seed", required_argument, NULL, O_SEED},       {"measure", required_argument, NULL, O_MEASURE},
        {"jobs", required_argument, NULL, O_JOBS},       {"timeout", required_argument, NULL, O_TIMEOUT},
        {"resume", no_argument, NULL, O_RESUME},         {"shard", required_argument, NULL, O_SHARD},
        {"output", required_argument, NULL, 'o'},        {"raw-dir", required_argument, NULL, O_RAW},
        {"plot", required_argument, NULL, O_PLOT},       {"allow-control", no_argument, NULL, O_ALLOW},
        {"include-dir", required_argument, NULL, O_INCDIR}, {"no-sandbox", no_argument, NULL, O_NOSANDBOX},
        {"quiet", no_argument, NULL, 'q'},               {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char **params = calloc((size_t)argc + 1, sizeof *params);
    const char **measures = calloc((size_t)argc + 1, sizeof *measures);
    ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
    ss_sweep_options opt = SS_SWEEP_OPTIONS_INIT;
    int quiet = 0;
    const char *plot = NULL;
    ss_sweep *sw = NULL;
    ss_error err;
    int rc = CLI_USAGE, c, rank = 0, size = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    ss_error_clear(&err);
    if (!params || !measures) {
        cli_msg("out of memory");
        rc = CLI_FAIL;
        goto out;
    }
    opt.out = "sweep.csv";
    opt.jobs = ncpu > 0 ? (int)ncpu : 1;
    opt.timeout = 600;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case O_PARAM: params[spec.nparams++] = optarg; break;
        case O_MEASURE: measures[spec.nmeasures++] = optarg; break;
        case O_ZIP: spec.mode = SS_SWEEP_ZIP; break;
        case O_LHS:
        case O_MC:
            if (parse_samples(c == O_LHS ? "lhs" : "mc", optarg, &spec.samples))
                goto out;
            if (spec.mode == SS_SWEEP_LHS || spec.mode == SS_SWEEP_MC) {
                cli_msg("--lhs and --mc exclude each other");
                goto out;
            }
            spec.mode = c == O_LHS ? SS_SWEEP_LHS : SS_SWEEP_MC;
            break;
        case O_SEED: {
            size_t s;
            if (parse_count(optarg, &s)) {
                cli_msg("--seed: '%s' is not a non-negative integer", optarg);
                goto out;
            }
            spec.seed = s;
            break;
        }
        case O_JOBS:
            opt.jobs = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || opt.jobs < 1 || opt.jobs > 1024) {
                cli_msg("--jobs: '%s' is not a worker count (1..1024)", optarg);
                goto out;
            }
            break;
        case O_TIMEOUT:
            if (ss_util_parse_double(optarg, &opt.timeout) || opt.timeout < 0) {
                cli_msg("--timeout: '%s' is not a number of seconds", optarg);
                goto out;
            }
            break;
        case O_RESUME: opt.resume = 1; break;
        case O_SHARD: {
            char *slash = strchr(optarg, '/');
            if (!slash || (*slash = '\0', parse_count(optarg, &opt.shard_index)) ||
                parse_count(slash + 1, &opt.shard_count) || !opt.shard_count ||
                opt.shard_index >= opt.shard_count) {
                if (slash)
                    *slash = '/';
                cli_msg("--shard: '%s' is not I/N with 0 <= I < N", optarg);
                goto out;
            }
            *slash = '/';
            break;
        }
        case 'o': opt.out = optarg; break;
        case O_RAW: opt.raw_dir = optarg; break;
        case O_PLOT: plot = optarg; break;
        case O_ALLOW: spec.netlist_flags |= SS_NETLIST_ALLOW_CONTROL; break;
        case O_NOSANDBOX: spec.netlist_flags |= SS_NETLIST_NO_SANDBOX; break;
        case O_INCDIR:
            if ((rc = cli_include_dir(optarg)) >= 0)
                goto out;
            rc = CLI_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h':
            fprintf(stdout, sweep_usage, cli_trust_help);
            rc = CLI_OK;
            goto out;
        default:
            fprintf(stderr, sweep_usage, cli_trust_help);
            goto out;
        }
    }
    if (optind != argc - 1) {
        cli_msg(optind >= argc ? "sweep: no netlist given" : "sweep: more than one netlist given");
        fprintf(stderr, sweep_usage, cli_trust_help);
        goto out;
    }
    struct stat rst;
    if (opt.raw_dir && stat(opt.raw_dir, &rst) == 0 && !S_ISDIR(rst.st_mode)) {
        cli_msg("--raw-dir '%s' is a file, not a folder", opt.raw_dir);
        goto out;
    }
    spec.netlist = argv[optind];
    spec.params = params;
    spec.measures = measures;
    rc = CLI_FAIL;
    if (ss_pool_mpi_init(&rank, &size, &err)) {
        cli_fail(&err);
        goto out;
    }
    if (!(sw = ss_sweep_alloc(&spec, &err))) {
        if (rank == 0)
            cli_fail(&err);
        rc = err.code == SS_EINVAL ? CLI_USAGE : CLI_FAIL;
        goto out;
    }
    cli_progress_start(quiet || rank != 0);
    opt.progress = rank == 0 ? on_progress : NULL;
    ss_sweep_summary sum;
    if (ss_sweep_run(sw, &opt, &sum, &err)) {
        cli_fail(&err);
        goto out;
    }
    if (rank == 0) {
        fprintf(stderr, "sweep: %zu jobs in %.2f s (%.1f jobs/s)", sum.ran, sum.seconds,
                sum.seconds > 0 ? (double)sum.ran / sum.seconds : 0.0);
        for (int s = 0; s < SS_SWEEP_STATUS_MAX; s++)
            if (sum.count[s] || s == SS_SWEEP_OK)
                fprintf(stderr, ", %zu %s", sum.count[s], ss_sweep_status_name(s));
        if (sum.skipped)
            fprintf(stderr, ", %zu already done", sum.skipped);
        fprintf(stderr, "; results in %s\n", opt.out);
        if (plot) {
            const ss_sweep_design *d = ss_sweep_get_design(sw);
            (void)d;
            if (!ss_sweep_nmeasures(sw) || !spec.nparams) {
                cli_msg("--plot needs a --param and a measurement");
                goto out;
            }
            char x[256], y[256];
            snprintf(x, sizeof x, "%.*s", (int)strcspn(params[0], "="), params[0]);
            if (spec.nparams > 1)
                snprintf(y, sizeof y, "%.*s", (int)strcspn(params[1], "="), params[1]);
            if (ss_sweep_plot(opt.out, ss_sweep_measure_name(sw, 0), x,
                              spec.nparams > 1 ? y : NULL, plot, &err)) {
                cli_fail(&err);
                goto out;
            }
            fprintf(stderr, "sweep: plot in %s\n", plot);
        }
    }
    rc = CLI_OK;
out:
    ss_sweep_free(sw);
    free(params);
    free(measures);
    return cli_mpi_end(rc);
}
