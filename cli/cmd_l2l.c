/* cmd_l2l.c: `smallsim l2l`: learning-to-learn runs (an outer optimizer over
 * a task family's parameters, evaluated on a worker pool) and
 * `smallsim l2l eval` to score a best.json on the test tasks. */
#include <getopt.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "l2l/ss_l2l.h"
#include "pool/ss_pool.h"

static const char l2l_usage[] =
    "usage: smallsim l2l --task NAME -o RUNDIR [options]\n"
    "       smallsim l2l eval --task NAME --params RUNDIR/best.json [--device FILE]\n"
    "                         [--test-tasks N] [--jobs K] [--trace CSV] [-q]\n"
    "\n"
    "Tunes a task's parameters with an outer optimizer.  Each generation is evaluated on\n"
    "K worker processes, all individuals on the same training instances; the generation's\n"
    "best is scored on fixed validation instances, and RUNDIR/best.json keeps the best of\n"
    "those.  RUNDIR gets gens.csv, evals.csv (one row per evaluation), best.json,\n"
    "checkpoint (after every generation), failures.log, learning.png and, for the arm\n"
    "tasks, lut-cache/ (the ngspice pulse lookups, reused on --resume).\n"
    "\n"
    "  --task NAME          the task (see below)\n"
    "  --device FILE        hardware tasks: the memristor of a model file (a 'smallsim fit'\n"
    "                       result) instead of the task's own; SET is written with negative\n"
    "                       pulses (polarity -1 turns a device round); eval needs it again\n"
    "  --optimizer NAME     cmaes (default), ce, ga, random, grid\n"
    "  --pop N              population (default: the optimizer's)\n"
    "  --generations G      generations in total (default 50)\n"
    "  --seed S             run seed (default 1): the optimizer and the training instances\n"
    "  --jobs K             worker processes (default: the number of CPUs)\n"
    "  --timeout S          wall-clock limit per evaluation in seconds (default 600, 0: none)\n"
    "  --retries N          re-runs of a crashed or timed-out evaluation (default 2)\n"
    "  --train-tasks N      training instances per evaluation (default: the task's)\n"
    "  --val-tasks N        validation instances (default: the task's)\n"
    "  --polish N           Nelder-Mead polish of the best with N evaluations at the end\n"
    "  --select WHAT        the point validated after each generation: mean (cmaes and ce:\n"
    "                       the distribution's mean, their default) or best (the\n"
    "                       generation's best; the default of the other optimizers)\n"
    "  --sigma0 X           initial step of cmaes and ce in [0, 1] units (default 0.3)\n"
    "  --restarts N         cmaes: IPOP restarts with a doubled population (default 0)\n"
    "  --tolfun X, --tolx X cmaes: restart when the values / steps are below (1e-12; 0: off)\n"
    "  --rho X              ce: elite fraction in (0, 1] (default 0.2)\n"
    "  --smoothing X        ce: weight of the old distribution in [0, 1) (default 0.2)\n"
    "  --noise X            ce: variance added to the covariance (default 0.01)\n"
    "  --noise-decay X      ce: factor on the noise per generation (default 0.99)\n"
    "  --tournament N       ga: tournament size (default 3)\n"
    "  --cx-prob X          ga: blend crossover probability (default 0.5)\n"
    "  --mut-prob X         ga: probability that an offspring mutates (default 0.3)\n"
    "  --mut-sigma X        ga: Gaussian mutation step in [0, 1] units (default 0.1)\n"
    "  --elite N            ga: best individuals kept unchanged (default 1)\n"
    "  --grid-points N      grid: points per parameter (default 5)\n"
    "  --fix NAME=VALUE     hold a parameter constant (repeatable)\n"
    "  --resume             continue RUNDIR from its checkpoint (same settings)\n"
    "  -o, --output RUNDIR  output folder (required)\n"
    "  --no-plot            skip learning.png\n"
    "  -q, --quiet          no progress lines\n"
    "  -h, --help           this text\n"
    "\n"
    "Under mpirun (make MPI=1) rank 0 runs the optimizer and every rank evaluates on\n"
    "--jobs workers of its own; the results are the same as on one machine.\n"
    "\n"
    "eval prints 'test <METRIC> <value>': the mean metric over the test instances\n"
    "(the arm tasks reuse the ngspice lookups in lut-cache/ next to best.json)\n"
    "(arm-oneshot, faults: --trace CSV writes the first test instance's hand positions:\n"
    "t,target_x,target_y,unlearned_x,unlearned_y,learned_x,learned_y)\n"
    "(disjoint from the training and validation instances).\n"
    "\n"
    "tasks:\n";

static void print_usage(FILE *f)
{
    fputs(l2l_usage, f);
    for (size_t i = 0; ss_l2l_task_family(i); i++)
        fprintf(f, "  %s\n", ss_l2l_task_family(i));
}

typedef struct progress_state {
    int quiet;
    const char *metric;
    size_t restarts; /* CMA-ES restarts reported so far */
    char note[64];
} progress_state;

/* ", restart 2 (pop 40)" on the generation a restart happened, else "". */
static const char *restart_note(progress_state *ps, const ss_l2l_event *ev)
{
    if (ev->restarts == ps->restarts)
        return "";
    ps->restarts = ev->restarts;
    snprintf(ps->note, sizeof ps->note, ", restart %zu (pop %zu)", ev->restarts, ev->pop);
    return ps->note;
}

static void on_progress(void *user, const ss_l2l_event *ev)
{
    progress_state *ps = user;
    if (ev->kind == SS_L2L_EV_EVAL) {
        if (ev->status)
            cli_msg("generation %llu: %s evaluation %zu (attempt %d%s): %s",
                    (unsigned long long)ev->generation, ev->set, ev->index, ev->attempt,
                    ev->final ? ", penalised" : ", re-queued", ev->msg);
        return;
    }
    if (ps->quiet)
        return;
    if (ev->kind == SS_L2L_EV_POLISH)
        fprintf(stderr, "l2l: polish: %s %.6g, validation %.6g, best validation %.6g, %llu "
                "evaluations, %.1f s\n", ps->metric, ev->gen_best, ev->gen_val, ev->best_val,
                (unsigned long long)ev->evals, ev->elapsed);
    else
        fprintf(stderr, "l2l: generation %llu/%llu: best %s %.6g, validation %.6g, best "
                "validation %.6g, %zu failed, %llu evaluations, %.1f s%s\n",
                (unsigned long long)ev->generation + 1, (unsigned long long)ev->generations,
                ps->metric, ev->gen_best, ev->gen_val, ev->best_val, ev->failed,
                (unsigned long long)ev->evals, ev->elapsed, restart_note(ps, ev));
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s == '-')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end)
        return -1;
    *out = v;
    return 0;
}

/* Optimizer settings on the command line: --NAME VALUE sets the field at
 * `off` of ss_l2l_opt_settings (a size_t when `count`, else a double); the
 * setting means something only for the optimizers in `applies`. */
typedef struct setting_opt {
    const char *name, *applies;
    int count;
    size_t off;
} setting_opt;

#define SETTING(name, applies, count, field) {name, applies, count, offsetof(ss_l2l_opt_settings, field)}
static const setting_opt setting_opts[] = {
    SETTING("rho", "ce", 0, rho),
    SETTING("smoothing", "ce", 0, smoothing),
    SETTING("noise", "ce", 0, noise),
    SETTING("noise-decay", "ce", 0, noise_decay),
    SETTING("tournament", "ga", 1, tournament),
    SETTING("cx-prob", "ga", 0, cx_prob),
    SETTING("mut-prob", "ga", 0, mut_prob),
    SETTING("mut-sigma", "ga", 0, mut_sigma),
    SETTING("elite", "ga", 1, elite),
    SETTING("grid-points", "grid", 1, grid_points),
    SETTING("restarts", "cmaes", 1, restarts),
    SETTING("tolfun", "cmaes", 0, tolfun),
    SETTING("tolx", "cmaes", 0, tolx),
};
#define NSETTINGS (sizeof setting_opts / sizeof setting_opts[0])

/* Stores --NAME's value; usage errors name the option. */
static int set_setting(ss_l2l_opt_settings *s, const setting_opt *o, const char *arg)
{
    char *field = (char *)s + o->off;
    if (o->count) {
        uint64_t v;
        if (parse_u64(arg, &v) || v > 1000000) {
            cli_msg("--%s: '%s' is not a count (0..1000000)", o->name, arg);
            return CLI_USAGE;
        }
        size_t z = (size_t)v;
        memcpy(field, &z, sizeof z);
    } else {
        double v;
        if (ss_util_parse_double(arg, &v) || !isfinite(v)) {
            cli_msg("--%s: '%s' is not a number", o->name, arg);
            return CLI_USAGE;
        }
        memcpy(field, &v, sizeof v);
    }
    return CLI_OK;
}

/* Refuses settings given for another optimizer and values out of range
 * (usage errors); -1 when all is well. */
static int check_settings(const ss_l2l_options *opt, const unsigned char *given, int type_given,
                          size_t nfree)
{
    const ss_l2l_opt_type *type = opt->optimizer ? opt->optimizer : ss_l2l_opt_cmaes;
    const char *tn = ss_l2l_opt_type_name(type);
    for (size_t i = 0; i < NSETTINGS && (type_given || !opt->resume); i++)
        if (given[i] && strcmp(setting_opts[i].applies, tn)) {
            cli_msg("--%s applies to --optimizer %s, not %s", setting_opts[i].name,
                    setting_opts[i].applies, tn);
            return CLI_USAGE;
        }
    if (opt->select == SS_L2L_SELECT_CENTER && !ss_l2l_opt_type_has_center(type)) {
        cli_msg("--select mean: %s has no distribution mean (use cmaes or ce, or --select best)",
                tn);
        return CLI_USAGE;
    }
    ss_error err;
    ss_error_clear(&err);
    if (ss_l2l_opt_settings_check(type, nfree, &opt->settings, &err)) {
        cli_msg("bad optimizer setting: %s", err.msg);
        return CLI_USAGE;
    }
    return -1;
}

/* --device FILE: the task's memristor from a model file. */
static int task_device(ss_l2l_task *t, const char *file, ss_error *err)
{
    ss_device d;
    int rc = file ? ss_device_load(file, &d, err) : SS_OK;
    if (!rc && file)
        rc = ss_l2l_task_set_device(t, &d, err);
    return rc;
}

/* The first test instance of an arm task in detail, as CSV. */
static int write_trace(const ss_l2l_task *t, const double *x, const char *path, ss_error *err)
{
    ss_l2l_arm_trace tr = SS_L2L_ARM_TRACE_INIT;
    int rc = ss_l2l_arm_run(t, NULL, x, ss_l2l_task_seed(SS_L2L_TEST, 0, 0, 0), &tr, err);
    if (rc)
        return rc;
    FILE *f = ss_util_open_output(path, "w", err);
    if (!f) {
        ss_l2l_arm_trace_release(&tr);
        return err ? err->code : SS_EIO;
    }
    fprintf(f, "t,target_x,target_y,unlearned_x,unlearned_y,learned_x,learned_y\n");
    for (size_t k = 0; k < tr.steps; k++)
        fprintf(f, "%.4f,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", 1e-3 * (double)(k + 1), tr.target[2 * k],
                tr.target[2 * k + 1], tr.unlearned[2 * k], tr.unlearned[2 * k + 1],
                tr.learned[2 * k], tr.learned[2 * k + 1]);
    if (fclose(f))
        rc = ss_error_set(err, SS_EIO, "cannot write '%s'", path);
    else
        printf("instance 0: NMSE %.4g (MSE learned %.4g, unlearned %.4g, at rest %.4g m^2)\n",
               tr.nmse, tr.mse_learned, tr.mse_unlearned, tr.mse_rest);
    ss_l2l_arm_trace_release(&tr);
    return rc;
}

static int cmd_l2l_eval(int argc, char **argv)
{
    enum { O_TASK = 256, O_PARAMS, O_TEST, O_JOBS, O_TIMEOUT, O_TRACE, O_DEVICE };
    static const struct option longopts[] = {
        {"task", required_argument, NULL, O_TASK},       {"params", required_argument, NULL, O_PARAMS},
        {"test-tasks", required_argument, NULL, O_TEST}, {"jobs", required_argument, NULL, O_JOBS},
        {"timeout", required_argument, NULL, O_TIMEOUT}, {"trace", required_argument, NULL, O_TRACE},
        {"device", required_argument, NULL, O_DEVICE},   {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},                {NULL, 0, NULL, 0}};
    const char *task_name = NULL, *params = NULL, *trace = NULL, *device = NULL;
    uint64_t ntest = 0, jobs;
    double timeout = 600;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    jobs = ncpu > 0 ? (uint64_t)ncpu : 1;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': break; /* eval prints only its results */
        case O_TASK: task_name = optarg; break;
        case O_PARAMS: params = optarg; break;
        case O_TRACE: trace = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_TEST:
            if (parse_u64(optarg, &ntest) || !ntest || ntest > 1000000) {
                cli_msg("--test-tasks: '%s' is not a count (1..1000000)", optarg);
                return CLI_USAGE;
            }
            break;
        case O_JOBS:
            if (parse_u64(optarg, &jobs) || !jobs || jobs > 1024) {
                cli_msg("--jobs: '%s' is not a worker count (1..1024)", optarg);
                return CLI_USAGE;
            }
            break;
        case O_TIMEOUT:
            if (ss_util_parse_double(optarg, &timeout) || timeout < 0) {
                cli_msg("--timeout: '%s' is not a number of seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'h': print_usage(stdout); return CLI_OK;
        default: print_usage(stderr); return CLI_USAGE;
        }
    }
    if (!task_name || !params || optind < argc) {
        cli_msg(optind < argc ? "unexpected argument '%s'" : "l2l eval needs --task and --params%s",
                optind < argc ? argv[optind] : "");
        return CLI_USAGE;
    }
    ss_error err;
    ss_error_clear(&err);
    int rank = 0, size = 1;
    if (ss_pool_mpi_init(&rank, &size, &err))
        return cli_fail(&err);
    if (rank != 0) { /* under mpirun the test runs on rank 0 alone */
        ss_pool_mpi_finalize();
        return CLI_OK;
    }
    ss_l2l_task *t = ss_l2l_task_alloc(task_name, &err);
    if (!t || task_device(t, device, &err)) {
        ss_l2l_task_free(t);
        ss_pool_mpi_finalize();
        return cli_fail(&err);
    }
    /* the run's stored lookups (RUNDIR/lut-cache next to best.json), if any */
    char cache[4096];
    const char *slash = strrchr(params, '/');
    int k = slash ? snprintf(cache, sizeof cache, "%.*s/lut-cache", (int)(slash - params), params)
                  : snprintf(cache, sizeof cache, "lut-cache");
    struct stat st;
    if (k > 0 && (size_t)k < sizeof cache && !stat(cache, &st) && S_ISDIR(st.st_mode))
        t->cache_dir = cache;
    double *x = malloc(t->nparams * sizeof *x), metric;
    int rc = CLI_OK;
    if (!x) {
        cli_msg("out of memory");
        rc = CLI_FAIL;
    } else if (ss_l2l_best_read(params, t, x, &err) ||
               ss_l2l_test(t, x, (size_t)ntest, (int)jobs, timeout, &metric, &err)) {
        rc = cli_fail(&err);
    } else {
        printf("test %s %.6g\n", t->metric, metric);
        if (trace && write_trace(t, x, trace, &err))
            rc = cli_fail(&err);
    }
    free(x);
    ss_l2l_task_free(t);
    ss_pool_mpi_finalize();
    return rc;
}

int cmd_l2l(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "eval"))
        return cmd_l2l_eval(argc - 1, argv + 1);
    enum { O_TASK = 256, O_OPT, O_POP, O_GENS, O_SEED, O_JOBS, O_TIMEOUT, O_RETRIES, O_TRAIN,
           O_VAL, O_POLISH, O_SIGMA, O_FIX, O_RESUME, O_NOPLOT, O_DEVICE, O_SELECT, O_SET };
    static const struct option longopts[] = {
        {"task", required_argument, NULL, O_TASK},        {"optimizer", required_argument, NULL, O_OPT},
        {"pop", required_argument, NULL, O_POP},          {"generations", required_argument, NULL, O_GENS},
        {"seed", required_argument, NULL, O_SEED},        {"jobs", required_argument, NULL, O_JOBS},
        {"timeout", required_argument, NULL, O_TIMEOUT},  {"retries", required_argument, NULL, O_RETRIES},
        {"train-tasks", required_argument, NULL, O_TRAIN}, {"val-tasks", required_argument, NULL, O_VAL},
        {"polish", required_argument, NULL, O_POLISH},    {"sigma0", required_argument, NULL, O_SIGMA},
        {"select", required_argument, NULL, O_SELECT},
        {"fix", required_argument, NULL, O_FIX},          {"resume", no_argument, NULL, O_RESUME},
        {"output", required_argument, NULL, 'o'},         {"no-plot", no_argument, NULL, O_NOPLOT},
        {"quiet", no_argument, NULL, 'q'},                {"help", no_argument, NULL, 'h'},
        {"rho", required_argument, NULL, O_SET + 0},      {"smoothing", required_argument, NULL, O_SET + 1},
        {"noise", required_argument, NULL, O_SET + 2},    {"noise-decay", required_argument, NULL, O_SET + 3},
        {"tournament", required_argument, NULL, O_SET + 4}, {"cx-prob", required_argument, NULL, O_SET + 5},
        {"mut-prob", required_argument, NULL, O_SET + 6}, {"mut-sigma", required_argument, NULL, O_SET + 7},
        {"elite", required_argument, NULL, O_SET + 8},    {"grid-points", required_argument, NULL, O_SET + 9},
        {"restarts", required_argument, NULL, O_SET + 10}, {"tolfun", required_argument, NULL, O_SET + 11},
        {"tolx", required_argument, NULL, O_SET + 12},
        {"device", required_argument, NULL, O_DEVICE},
        {NULL, 0, NULL, 0}};
    _Static_assert(NSETTINGS == 13, "one long option per entry of setting_opts");
    unsigned char given[NSETTINGS] = {0};
    int type_given = 0;
    ss_l2l_options opt = SS_L2L_OPTIONS_INIT;
    progress_state ps = {0, "", 0, ""};
    const char *task_name = NULL, *device = NULL;
    char **fixes = calloc((size_t)argc + 1, sizeof *fixes);
    size_t nfix = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t v;
    int c, rc = CLI_USAGE;
    ss_l2l_task *t = NULL;
    ss_error err;
    ss_error_clear(&err);
    if (!fixes) {
        cli_msg("out of memory");
        return CLI_FAIL;
    }
    opt.jobs = ncpu > 0 ? (int)ncpu : 1;
    opt.timeout = 600;
    opt.plot = 1;
    opt.progress = on_progress;
    opt.user = &ps;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case O_TASK: task_name = optarg; break;
        case O_DEVICE: device = optarg; break;
        case O_OPT:
            if (!(opt.optimizer = ss_l2l_opt_type_find(optarg))) {
                cli_msg("--optimizer: unknown optimizer '%s' (cmaes, ce, ga, random, grid)", optarg);
                goto out;
            }
            type_given = 1;
            break;
        case O_POP:
            if (parse_u64(optarg, &v) || v < 2 || v > 100000) {
                cli_msg("--pop: '%s' is not a population size (2..100000)", optarg);
                goto out;
            }
            opt.settings.pop = (size_t)v;
            break;
        case O_GENS:
            if (parse_u64(optarg, &opt.generations) || !opt.generations) {
                cli_msg("--generations: '%s' is not a positive count", optarg);
                goto out;
            }
            break;
        case O_SEED:
            if (parse_u64(optarg, &opt.seed)) {
                cli_msg("--seed: '%s' is not a non-negative integer", optarg);
                goto out;
            }
            break;
        case O_JOBS:
            if (parse_u64(optarg, &v) || !v || v > 1024) {
                cli_msg("--jobs: '%s' is not a worker count (1..1024)", optarg);
                goto out;
            }
            opt.jobs = (int)v;
            break;
        case O_TIMEOUT:
            if (ss_util_parse_double(optarg, &opt.timeout) || opt.timeout < 0) {
                cli_msg("--timeout: '%s' is not a number of seconds", optarg);
                goto out;
            }
            break;
        case O_RETRIES:
            if (parse_u64(optarg, &v) || v > 100) {
                cli_msg("--retries: '%s' is not a count (0..100)", optarg);
                goto out;
            }
            opt.retries = (int)v;
            break;
        case O_TRAIN:
        case O_VAL:
            if (parse_u64(optarg, &v) || !v || v > 100000) {
                cli_msg("--%s-tasks: '%s' is not a count (1..100000)", c == O_TRAIN ? "train" : "val",
                        optarg);
                goto out;
            }
            *(c == O_TRAIN ? &opt.ntrain : &opt.nval) = (size_t)v;
            break;
        case O_SELECT:
            if (strcmp(optarg, "mean") && strcmp(optarg, "best")) {
                cli_msg("--select: '%s' is not mean or best", optarg);
                goto out;
            }
            opt.select = !strcmp(optarg, "mean") ? SS_L2L_SELECT_CENTER : SS_L2L_SELECT_BEST;
            break;
        case O_POLISH:
            if (parse_u64(optarg, &v) || v > 10000000) {
                cli_msg("--polish: '%s' is not a count of evaluations", optarg);
                goto out;
            }
            opt.polish_evals = (size_t)v;
            break;
        case O_SIGMA:
            if (ss_util_parse_double(optarg, &opt.settings.sigma0) || !(opt.settings.sigma0 > 0)) {
                cli_msg("--sigma0: '%s' is not a positive number", optarg);
                goto out;
            }
            break;
        case O_FIX:
            if (!strchr(optarg, '=')) {
                cli_msg("--fix: '%s' is not NAME=VALUE", optarg);
                goto out;
            }
            fixes[nfix++] = optarg;
            break;
        case O_RESUME: opt.resume = 1; break;
        case 'o': opt.rundir = optarg; break;
        case O_NOPLOT: opt.plot = 0; break;
        case 'q': ps.quiet = 1; break;
        case 'h': print_usage(stdout); rc = CLI_OK; goto out;
        default:
            if (c >= O_SET && c < O_SET + (int)NSETTINGS) {
                if ((rc = set_setting(&opt.settings, &setting_opts[c - O_SET], optarg)))
                    goto out;
                rc = CLI_USAGE;
                given[c - O_SET] = 1;
                break;
            }
            print_usage(stderr);
            goto out;
        }
    }
    if (optind < argc) {
        cli_msg("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!task_name || !opt.rundir) {
        cli_msg("l2l needs --task NAME and -o RUNDIR (see 'smallsim l2l --help')");
        goto out;
    }
    rc = CLI_FAIL;
    int rank = 0, size = 1;
    if (ss_pool_mpi_init(&rank, &size, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (!(t = ss_l2l_task_alloc(task_name, &err)) || task_device(t, device, &err)) {
        rc = rank == 0 ? cli_fail(&err) : CLI_FAIL;
        goto out;
    }
    for (size_t i = 0; i < nfix; i++) {
        char *eq = strchr(fixes[i], '=');
        double val;
        *eq = '\0';
        if (ss_util_parse_double(eq + 1, &val)) {
            cli_msg("--fix: '%s' is not a number", eq + 1);
            rc = CLI_USAGE;
            goto out;
        }
        if (ss_l2l_task_fix(t, fixes[i], val, &err)) {
            rc = cli_fail(&err);
            goto out;
        }
    }
    if (rank != 0) { /* under mpirun: evaluate what rank 0's run sends */
        rc = ss_l2l_serve(t, &opt, &err) ? cli_fail(&err) : CLI_OK;
        goto out;
    }
    int bad = check_settings(&opt, given, type_given, ss_l2l_space_nfree(t->params, t->nparams));
    if (bad >= 0) {
        rc = bad;
        goto out;
    }
    ps.metric = t->metric;
    ss_l2l_summary sum;
    if (ss_l2l_run(t, &opt, &sum, &err)) {
        rc = cli_fail(&err);
        goto out;
    }
    if (sum.plot_msg[0])
        cli_msg("warning: %s", sum.plot_msg);
    if (isfinite(sum.best_val))
        printf("best validation %s %.6g (generation %llu%s), %llu evaluations (%llu failed) in "
               "%.1f s: %s/best.json\n", t->metric, sum.best_val,
               (unsigned long long)sum.best_gen, sum.polished ? ", polished" : "",
               (unsigned long long)sum.evals, (unsigned long long)sum.failed, sum.seconds,
               opt.rundir);
    else
        printf("no successful evaluation in %llu generations (see %s/failures.log)\n",
               (unsigned long long)sum.generations, opt.rundir);
    rc = isfinite(sum.best_val) ? CLI_OK : CLI_FAIL;
out:
    ss_pool_mpi_release(); /* rank 0: the other ranks stop serving */
    ss_l2l_task_free(t);
    free(fixes);
    return cli_mpi_end(rc);
}
