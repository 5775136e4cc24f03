/* cmd_run.c: `smallsim run EXPERIMENT.yaml`: a network experiment from a
 * human-written file, with progress, CSV and JSON results, and plots. */
#include <getopt.h>
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

static const char run_usage[] =
    "usage: smallsim run EXPERIMENT.yaml [-o OUTDIR] [--seed S] [--tstop T] [--timeout S] [-q]\n"
    "                    [--include-dir DIR] [--allow-control] [--no-sandbox]\n"
    "\n"
    "Builds the network an experiment file describes (populations, projections,\n"
    "crossbars, stimuli, recordings; see docs/network.md) and runs it.  OUTDIR\n"
    "(default: run-out) receives spikes.csv (t,population,index), states.csv (when\n"
    "states are recorded), summary.json, raster.png and, with states, states.png.\n"
    "\n"
    "  --seed S     overrides the file's seed\n"
    "  --tstop T    overrides the file's duration (s, SPICE numbers)\n"
    "  --timeout S  stop the run after S seconds of wall-clock time (0, the\n"
    "               default: none); nothing is written then\n"
    "  -q, --quiet  no progress on stderr (progress: one line on a terminal,\n"
    "               otherwise a line every 10 s: simulated time, speed, time left)\n"
    "SPICE tiles run in worker processes of their own, each confined to its\n"
    "body's folders; their bodies are read like any netlist:\n";

struct run_clock {
    double start, timeout; /* wall clock; timeout 0: none */
    int timed_out;
};

/* Progress: simulated time, speed, time left (cli_progress); stops the run
 * at --timeout (the library calls this at least every half second). */
static int progress(void *user, double t, double tstop, size_t spikes)
{
    struct run_clock *clock = user;
    double elapsed = ss_util_now() - clock->start;
    if (clock->timeout > 0 && elapsed > clock->timeout) {
        clock->timed_out = 1;
        return 1;
    }
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

/* crossbar<q>_initial.csv, crossbar<q>_final.csv (siemens), the final
 * states crossbar<q>_states.csv, a heatmap of both conductance maps, and
 * with recorded writes crossbar<q>_writes_word.txt, _writes_bit.txt (the
 * pulse train for `smallsim crossbar tran`) and _writes_x0.csv. */
static int write_maps(const ss_network *net, size_t q, const double *g0, const char *out,
                      ss_error *err)
{
    size_t pre, post;
    ss_network_crossbar_states(net, q, NULL, NULL, &pre, &post);
    size_t rows = ss_network_pop_size(net, pre), cols = ss_network_pop_size(net, post);
    double *g1 = malloc(rows * cols * sizeof *g1), *x1 = malloc(rows * cols * sizeof *x1);
    if (!g1 || !g0 || !x1)
        return free(g1), free(x1), ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_network_crossbar_states(net, q, x1, g1, NULL, NULL);
    int rc = SS_OK;
    char path[4096];
    for (int which = 0; which < 3 && !rc; which++) {
        const double *g = which == 2 ? x1 : which ? g1 : g0;
        ss_buf b = SS_BUF_INIT;
        for (size_t i = 0; !rc && i < rows; i++)
            for (size_t j = 0; !rc && j < cols; j++)
                rc = ss_buf_printf(&b, "%.17g%c", g[i * cols + j], j + 1 < cols ? ',' : '\n');
        snprintf(path, sizeof path, "%s/crossbar%zu_%s.csv", out, q,
                 which == 2 ? "states" : which ? "final" : "initial");
        if (rc)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else
            rc = ss_util_write_file_atomic(path, b.data, b.len, err);
        ss_buf_release(&b);
    }
    free(g1);
    free(x1);
    if (!rc && ss_network_crossbar_recorded(net, q)) {
        char pw[4096], pb[4096], px[4096];
        snprintf(pw, sizeof pw, "%s/crossbar%zu_writes_word.txt", out, q);
        snprintf(pb, sizeof pb, "%s/crossbar%zu_writes_bit.txt", out, q);
        snprintf(px, sizeof px, "%s/crossbar%zu_writes_x0.csv", out, q);
        rc = ss_network_write_crossbar_log(net, q, pw, pb, px, NULL, err);
    }
    if (rc)
        return rc;
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
    return SS_OK;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"seed", required_argument, NULL, 's'},
                                         {"tstop", required_argument, NULL, 't'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {"allow-control", no_argument, NULL, 'a'},
                                         {"include-dir", required_argument, NULL, 'I'},
                                         {"no-sandbox", no_argument, NULL, 'S'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *out = "run-out";
    double seed = -1, tstop = -1, timeout = 0;
    int quiet = 0, c;
    unsigned flags = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 's':
            if (ss_util_parse_double(optarg, &seed) || seed < 0 || seed != floor(seed)) {
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
            if (ss_util_parse_double(optarg, &timeout) || !(timeout >= 0)) {
                cli_msg("--timeout: '%s' is not a number of seconds", optarg);
                return CLI_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'a': flags |= SS_NETLIST_ALLOW_CONTROL; break;
        case 'S': flags |= SS_NETLIST_NO_SANDBOX; break;
        case 'I': {
            int r = cli_include_dir(optarg);
            if (r >= 0)
                return r;
            break;
        }
        case 'h': fputs(run_usage, stdout); fputs(cli_trust_help, stdout); return CLI_OK;
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
    int rc = ss_experiment_load_flags(argv[optind], seed >= 0 ? (long)seed : -1, flags, &net, &exp,
                                      &err);
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
    struct run_clock clock = {ss_util_now(), timeout, 0};
    cli_progress_start(quiet);
    ss_network_options opt = {exp.dt,  exp.rtol, exp.seed, progress, &clock,
                              NULL,    exp.solver};
    rc = ss_network_run(net, exp.duration, &opt, &err);
    double seconds = ss_util_now() - clock.start;
    if (rc && clock.timed_out)
        rc = ss_error_set(&err, SS_ETIMEOUT, "%s: stopped by --timeout %g s at t = %g s of %g s",
                          argv[optind], timeout, ss_network_time(net), exp.duration);
    char path[4096];
    int states = 0;
    if (!rc) {
        snprintf(path, sizeof path, "%s/spikes.csv", out);
        rc = ss_network_write_spikes(net, path, &err);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/states.csv", out);
        rc = ss_network_write_states(net, path, &err);
        FILE *f = fopen(path, "r");
        char line[256];
        states = f && fgets(line, sizeof line, f) && fgets(line, sizeof line, f);
        if (f)
            fclose(f);
        if (!states)
            remove(path);
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/summary.json", out);
        rc = ss_network_write_summary(net, path, seconds, &err);
    }
    for (size_t q = 0; !rc && g0 && q < nmx; q++)
        rc = write_maps(net, q, g0[q], out, &err);
    for (size_t q = 0; g0 && q < nmx; q++)
        free(g0[q]);
    free(g0);
    if (!rc) {
        ss_error perr = {0, ""};
        if (plots(net, out, states, &perr) && !quiet)
            cli_msg("plots skipped: %s", perr.msg);
        for (size_t p = 0; !quiet && p < ss_network_npops(net); p++)
            fprintf(stderr, "smallsim: %-12s %8zu neurons %10zu spikes %8.2f Hz\n",
                    ss_network_pop_name(net, p), ss_network_pop_size(net, p),
                    ss_network_pop_spikes(net, p),
                    (double)ss_network_pop_spikes(net, p) /
                        ((double)ss_network_pop_size(net, p) * exp.duration));
        if (!quiet)
            fprintf(stderr, "smallsim: %.3g s simulated in %.2f s; results in %s/\n", exp.duration,
                    seconds, out);
    }
    ss_network_free(net);
    return rc ? cli_fail(&err) : CLI_OK;
}
