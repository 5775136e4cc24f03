/* cmd_run.c: `smallsim run EXPERIMENT.yaml`: a network experiment from a
 * human-written file, with progress, CSV and JSON results, and plots. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cosim/engine/ss_engine.h"
#include "cosim/experiment/ss_experiment.h"
#include "cosim/network/ss_network.h"
#include "netlists/ss_netlist.h"
#include "pool/ss_pool.h"

static const char run_usage[] =
    "usage: smallsim run EXPERIMENT.yaml [-o OUTDIR] [--seed S] [--tstop T] [--timeout S] [-q]\n"
    "\n"
    "Builds the network an experiment file describes (populations, projections,\n"
    "crossbars, stimuli, recordings; see docs/network.md) and runs it.  OUTDIR\n"
    "(default: run-out) receives spikes.csv (t,population,index), states.csv (when\n"
    "states are recorded), summary.json, raster.png and, with states, states.png.\n"
    "The run happens in a worker process that can start no programs and writes\n"
    "only OUTDIR; a SPICE tile's ngspice reads only the experiment's folder and the\n"
    "trusted folders (" SS_NETLIST_INCLUDE_ENV ").\n"
    "\n"
    "  --seed S     overrides the file's seed\n"
    "  --tstop T    overrides the file's duration (s, SPICE numbers)\n"
    "  --timeout S  wall-clock limit of the run in seconds (0, the default: none)\n"
    "  -q, --quiet  no progress on stderr (progress: one line on a terminal,\n"
    "               otherwise a line every 10 s: simulated time, speed, time left)\n";

/* Progress: simulated time, speed, time left (cli_progress). */
static int progress(void *user, double t, double tstop, size_t spikes)
{
    const double *start = user;
    double elapsed = ss_util_now() - *start;
    int done = t >= tstop * (1 - 1e-12);
    double rate = elapsed > 0 ? t / elapsed : 0; /* simulated seconds per second */
    char eta[32] = "";
    if (!done && rate > 0)
        snprintf(eta, sizeof eta, ", %.0f s left", (tstop - t) / rate);
    cli_progress(done, "run t = %.4g / %.4g s (%.0f%%), %zu spikes, %.3g s simulated per s%s", t,
                 tstop, 100 * t / tstop, spikes, rate, eta);
    return 0;
}

/* A raster with the populations stacked, one colour each; recorded states. */
static int plots(const ss_network *net, const char *out, int states, ss_error *err)
{
    ss_buf s = SS_BUF_INIT;
    size_t off = 0;
    int rc = ss_buf_printf(&s,
                           "set terminal pngcairo size 1000,600\nset output '%s/raster.png'\n"
                           "set datafile separator ','\nset xlabel 'time (s)'\n"
                           "set ylabel 'neuron'\nset title 'spike raster'\nset key outside\nplot ",
                           out);
    for (size_t p = 0; !rc && p < ss_network_npops(net); p++) {
        const char *name = ss_network_pop_name(net, p);
        rc = ss_buf_printf(&s,
                           "%s'%s/spikes.csv' every ::1 using 1:(strcol(2) eq '%s' ? $3 + %zu : NaN) "
                           "with dots lw 2 title '%s'",
                           p ? ", " : "", out, name, off, name);
        off += ss_network_pop_size(net, p);
    }
    if (!rc)
        rc = ss_buf_add(&s, "\n", 1);
    if (!rc && states)
        rc = ss_buf_printf(&s,
                           "set output '%s/states.png'\nset ylabel 'state (V or A)'\n"
                           "set title 'recorded states'\nset key off\n"
                           "plot '%s/states.csv' every ::1 using 1:4:3 with lines lc variable\n",
                           out, out);
    if (rc) {
        ss_buf_release(&s);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    rc = ss_util_gnuplot(s.data, err);
    ss_buf_release(&s);
    return rc;
}

/* crossbar<q>_initial.csv and crossbar<q>_final.csv (siemens). */
static int write_maps(const ss_network *net, size_t q, const double *g0, const char *out,
                      ss_error *err)
{
    size_t pre, post;
    ss_network_crossbar_states(net, q, NULL, NULL, &pre, &post);
    size_t rows = ss_network_pop_size(net, pre), cols = ss_network_pop_size(net, post);
    double *g1 = malloc(rows * cols * sizeof *g1);
    if (!g1 || !g0)
        return free(g1), ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_network_crossbar_states(net, q, NULL, g1, NULL, NULL);
    int rc = SS_OK;
    char path[4096];
    for (int which = 0; which < 2 && !rc; which++) {
        const double *g = which ? g1 : g0;
        ss_buf b = SS_BUF_INIT;
        for (size_t i = 0; !rc && i < rows; i++)
            for (size_t j = 0; !rc && j < cols; j++)
                rc = ss_buf_printf(&b, "%.17g%c", g[i * cols + j], j + 1 < cols ? ',' : '\n');
        snprintf(path, sizeof path, "%s/crossbar%zu_%s.csv", out, q, which ? "final" : "initial");
        if (rc)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else
            rc = ss_util_write_file_atomic(path, b.data, b.len, err);
        ss_buf_release(&b);
    }
    free(g1);
    return rc;
}

/* A heatmap of crossbar q's initial and final conductances. */
static void plot_map(const ss_network *net, size_t q, const char *out)
{
    size_t pre, post;
    ss_network_crossbar_states(net, q, NULL, NULL, &pre, &post);
    size_t rows = ss_network_pop_size(net, pre), cols = ss_network_pop_size(net, post);
    char script[4096];
    snprintf(script, sizeof script,
             "set terminal pngcairo size 1100,500\nset output '%s/crossbar%zu.png'\n"
             "set datafile separator ','\nset multiplot layout 1,2 title 'crossbar %zu: %s -> %s "
             "(conductance, uS)'\nset xlabel 'column (%s)'\nset ylabel 'row (%s)'\n"
             "set xrange [-0.5:%zu-0.5]\nset yrange [%zu-0.5:-0.5]\nset cbrange [*:*]\n"
             "set title 'initial'\nplot '%s/crossbar%zu_initial.csv' matrix using 1:2:($3*1e6) with image notitle\n"
             "set title 'final'\nplot '%s/crossbar%zu_final.csv' matrix using 1:2:($3*1e6) with image notitle\n"
             "unset multiplot\n",
             out, q, q, ss_network_pop_name(net, pre), ss_network_pop_name(net, post),
             ss_network_pop_name(net, post), ss_network_pop_name(net, pre), cols, rows, out, q, out, q);
    ss_error perr;
    ss_util_gnuplot(script, &perr); /* a missing plot is not a failed run */
}

/* What the run needs, shared with the worker process that runs it. */
struct run_job {
    ss_network *net;
    const ss_experiment *exp;
    const char *out, *path;
    int quiet;
    double **g0; /* initial conductances of the memristive crossbars */
    char run_dir[4096]; /* the worker's private folder, made and removed here */
};

/* The worker confines itself (no programs; reads the experiment's folder
 * and the trusted folders; writes only OUTDIR and a run folder) and opens
 * ngspice when a population is a SPICE tile. */
static int run_start(void *arg, void **state, ss_error *err)
{
    const struct run_job *r = arg;
    ss_engine *eng = NULL;
    char real[4096];
    int rc = SS_OK;
    for (size_t p = 0; p < ss_network_npops(r->net); p++)
        if (ss_network_pop_kind(r->net, p) == SS_POP_SPICE && !eng &&
            (rc = ss_engine_open(&eng, err)))
            return rc;
    if (!realpath(r->path, real))
        return ss_error_set(err, SS_EIO, "%s: cannot open", r->path);
    *strrchr(real, '/') = '\0';
    ss_netlist roots = SS_NETLIST_INIT;
    const char *w[2] = {r->out, r->run_dir};
    if (ss_netlist_set_roots(&roots, real[0] ? real : "/"))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else if (eng)
        rc = ss_engine_confine(eng, &roots, r->run_dir, w, 1, err);
    else {
        ss_sandbox sb = {(const char *const *)roots.roots, roots.nroots, w, 2};
        rc = ss_util_sandbox_enter(&sb, err);
    }
    ss_netlist_release(&roots);
    if (rc)
        ss_engine_free(eng);
    else
        *state = eng;
    return rc;
}

/* Runs the network and writes its CSV and JSON results; replies with
 * "STATES SPIKES0 SPIKES1 ..." (STATES 1 when states.csv has rows). */
static int run_job(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                   ss_error *err)
{
    (void)req, (void)len;
    const struct run_job *r = arg;
    ss_network *net = r->net;
    double start = ss_util_now();
    ss_network_options opt = {r->exp->dt, r->exp->rtol, r->exp->seed,
                              r->quiet ? NULL : progress, &start, state, r->exp->solver};
    int rc = ss_network_run(net, r->exp->duration, &opt, err);
    double seconds = ss_util_now() - start;
    char path[4096];
    int states = 0;
    if (!rc) {
        snprintf(path, sizeof path, "%s/spikes.csv", r->out);
        rc = ss_network_write_spikes(net, path, err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/states.csv", r->out);
        rc = ss_network_write_states(net, path, err);
        FILE *f = fopen(path, "r");
        char line[256];
        states = f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f);
        if (f)
            fclose(f);
        if (!states)
            remove(path);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/summary.json", r->out);
        rc = ss_network_write_summary(net, path, seconds, err);
    }
    for (size_t q = 0; !rc && r->g0 && q < ss_network_nmemristive(net); q++)
        rc = write_maps(net, q, r->g0[q], r->out, err);
    if (!rc)
        rc = ss_buf_printf(reply, "%d %.17g", states, seconds);
    for (size_t p = 0; !rc && p < ss_network_npops(net); p++)
        rc = ss_buf_printf(reply, " %zu", ss_network_pop_spikes(net, p));
    return rc == SS_ENOMEM ? ss_error_set(err, rc, "out of memory") : rc;
}

static void run_stop(void *state, void *arg)
{
    (void)arg;
    ss_engine_free(state);
}

static const ss_pool_kind run_kind = {"network-run", run_start, run_job, run_stop};

/* The run happens in a worker process (ss_pool): confined, with the
 * --timeout limit, and a crash of ngspice inside a SPICE tile costs that
 * worker only. */
static int run_in_worker(struct run_job *r, double timeout, ss_buf *reply, ss_error *err)
{
    int rc = ss_util_temp_dir(r->run_dir, "smallsim-run", err);
    if (rc)
        return rc;
    ss_pool *pool = ss_pool_alloc(&run_kind, r, 1, timeout, err);
    rc = pool ? ss_pool_submit(pool, 0, "", 0, err) : err->code;
    ss_pool_reply rep;
    int got = 0;
    while (!rc && !got && ss_pool_pending(pool))
        rc = ss_pool_next(pool, -1, &rep, &got, err);
    if (!rc && got) {
        if (rep.status)
            rc = ss_error_set(err, rep.status, "%s", rep.msg);
        else if (ss_buf_add(reply, rep.data, rep.len))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        free(rep.data);
    }
    ss_pool_free(pool);
    ss_util_remove_tree(r->run_dir);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"tstop", required_argument, NULL, 't'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = "run-out";
    double seed = -1, tstop = -1, timeout = 0;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's':
            if (ss_util_parse_double(optarg, &seed) || seed < 0 || seed != floor(seed) ||
                seed > 1e18) {
                cli_msg("--seed: '%s' is not a whole number >= 0", optarg);
                return CLI_USAGE;
            }
            break;
        case 't':
            if (ss_util_parse_spice_number(optarg, &tstop) || !(tstop > 0)) {
                cli_msg("--tstop: '%s' is not a positive time", optarg);
                return CLI_USAGE;
            }
            break;
        case 'T':
            if (ss_util_parse_double(optarg, &timeout) || timeout < 0) {
                cli_msg("--timeout: '%s' is not a number of seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(run_usage, stdout); return CLI_OK;
        default: fputs(run_usage, stderr); return CLI_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_msg("run: one EXPERIMENT file expected");
        fputs(run_usage, stderr);
        return CLI_USAGE;
    }
    ss_error err = {0, ""};
    ss_network *net = NULL;
    ss_experiment exp;
    int rc = ss_experiment_load(argv[optind], seed >= 0 ? (long)seed : -1, &net, &exp, &err);
    if (rc)
        return cli_fail(&err);
    if (tstop > 0)
        exp.duration = tstop;
    struct stat st;
    if (mkdir(out, 0777) && (stat(out, &st) || !S_ISDIR(st.st_mode))) {
        ss_network_free(net);
        cli_msg("cannot create '%s'", out);
        return CLI_FAIL;
    }
    /* conductance maps of memristive crossbars, before and after */
    size_t nmx = ss_network_nmemristive(net);
    double **g0 = calloc(nmx ? nmx : 1, sizeof *g0);
    for (size_t q = 0; g0 && q < nmx; q++) {
        size_t pre, post;
        ss_network_crossbar_states(net, q, NULL, NULL, &pre, &post);
        g0[q] = malloc(ss_network_pop_size(net, pre) * ss_network_pop_size(net, post) * sizeof **g0);
        if (g0[q])
            ss_network_crossbar_states(net, q, NULL, g0[q], NULL, NULL);
    }
    /* the worker works in its run folder: it writes OUTDIR by its full path */
    char out_abs[PATH_MAX];
    if (!realpath(out, out_abs))
        snprintf(out_abs, sizeof out_abs, "%s", out);
    struct run_job job = {net, &exp, out_abs, argv[optind], quiet, g0, ""};
    ss_buf reply = SS_BUF_INIT;
    cli_progress_start(quiet); /* the worker draws the line */
    rc = run_in_worker(&job, timeout, &reply, &err);
    for (size_t q = 0; g0 && q < nmx; q++)
        free(g0[q]);
    free(g0);
    if (!rc) {
        /* the worker's counts: "STATES SECONDS SPIKES0 SPIKES1 ..." */
        char *p = reply.data;
        int states = (int)strtol(p, &p, 10);
        double seconds = strtod(p, &p);
        ss_error perr = {0, ""};
        for (size_t q = 0; q < nmx; q++)
            plot_map(net, q, out);
        if (plots(net, out, states, &perr) && !quiet)
            cli_msg("plots skipped: %s", perr.msg);
        for (size_t k = 0; !quiet && k < ss_network_npops(net); k++) {
            size_t spikes = (size_t)strtoull(p, &p, 10);
            fprintf(stderr, "smallsim: %-12s %8zu neurons %10zu spikes %8.2f Hz\n",
                    ss_network_pop_name(net, k), ss_network_pop_size(net, k), spikes,
                    (double)spikes / ((double)ss_network_pop_size(net, k) * exp.duration));
        }
        if (!quiet)
            fprintf(stderr, "smallsim: %.3g s simulated in %.2f s; results in %s/\n", exp.duration,
                    seconds, out);
    }
    ss_buf_release(&reply);
    ss_network_free(net);
    return rc ? cli_fail(&err) : CLI_OK;
}
