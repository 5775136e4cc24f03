/* sweep_throughput.c: 1000 small RC transient jobs through `ss_sweep_run`
 * with 2 workers and with 1 worker, against a loop of `ngspice -b` on the
 * same 1000 netlists, for two job sizes (.tran steps of 10 us and 1 us over
 * 500 us: about 60 and 520 time points); then the RSS of one worker over
 * 10,000 jobs.
 *
 * Environment: SS_BENCH_N (jobs, default 1000), SS_BENCH_RSS_JOBS (default
 * 10000, 0 skips), SS_BENCH_NGSPICE=0 skips the ngspice -b loop. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"
#include "netlists/ss_netlist.h"
#include "sweep/ss_sweep.h"

static const char *tstep = "1u";
static char deck[512];

static void make_deck(void)
{
    snprintf(deck, sizeof deck,
             "bench rc\n.param rr=1k\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out {rr}\n"
             "C1 out 0 100n\n.tran %s 500u\n.meas tran vend FIND v(out) AT=100u\n.end\n",
             tstep);
}

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : def;
}

static double run_sweep(const char *dir, const char *netlist, int workers, long n, int *ok)
{
    char param[128], out[1024];
    snprintf(param, sizeof param, "rr=lin:1k:10k:%ld", n);
    snprintf(out, sizeof out, "%s/results-%d.csv", dir, workers);
    unlink(out);
    const char *params[] = {param};
    ss_sweep_spec spec = SS_SWEEP_SPEC_INIT;
    spec.netlist = netlist;
    spec.params = params;
    spec.nparams = 1;
    ss_error err;
    ss_sweep *sw = ss_sweep_alloc(&spec, &err);
    if (!sw) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    ss_sweep_options opt = SS_SWEEP_OPTIONS_INIT;
    opt.out = out;
    opt.jobs = workers;
    opt.timeout = 60;
    ss_sweep_summary sum;
    double t0 = ss_util_now();
    if (ss_sweep_run(sw, &opt, &sum, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    double t = ss_util_now() - t0;
    *ok = (int)sum.count[SS_SWEEP_OK];
    ss_sweep_free(sw);
    return t;
}

static double run_ngspice_loop(const char *dir, long n, int *ok)
{
    char path[1024];
    /* Write all netlists first: only the runs are timed. */
    for (long i = 0; i < n; i++) {
        double rr = (1000.0 * (double)(n - 1 - i) + 10000.0 * (double)i) / (double)(n - 1);
        snprintf(path, sizeof path, "%s/job-%ld.cir", dir, i);
        FILE *f = fopen(path, "w");
        if (!f)
            exit(1);
        fprintf(f, "bench rc\n.param rr=%.17g\nV1 in 0 PULSE(0 1 0 1n 1n 1 2)\nR1 in out {rr}\n"
                   "C1 out 0 100n\n.tran %s 500u\n.meas tran vend FIND v(out) AT=100u\n.end\n",
                rr, tstep);
        fclose(f);
    }
    *ok = 0;
    fflush(NULL); /* children must not inherit unflushed output */
    double t0 = ss_util_now();
    for (long i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/job-%ld.cir", dir, i);
        pid_t pid = fork();
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            dup2(null, 1);
            dup2(null, 2);
            execlp("ngspice", "ngspice", "-b", path, (char *)NULL);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        *ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    return ss_util_now() - t0;
}

/* A job kind that runs the deck and replies with the worker's RSS in kB. */
static int rss_start(void *arg, void **state, ss_error *err)
{
    (void)arg;
    ss_engine *eng;
    int rc = ss_engine_open(&eng, err);
    *state = rc ? NULL : eng;
    return rc;
}

static int rss_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                   ss_error *err)
{
    (void)req, (void)len;
    ss_netlist *nl = arg;
    ss_result res = SS_RESULT_INIT;
    int rc = ss_engine_load(state, nl, err);
    if (!rc)
        rc = ss_engine_run(state, &res, err);
    ss_result_release(&res);
    if (!rc)
        rc = ss_buf_printf(reply, "%ld", ss_util_rss_kb());
    return rc;
}

static void rss_stop(void *state, void *arg)
{
    (void)arg;
    ss_engine_free(state);
}

static const ss_pool_kind rss_kind = {"rss", rss_start, rss_run, rss_stop};

static void run_rss(long jobs)
{
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err;
    if (ss_netlist_read_string(&nl, deck, "bench.cir", NULL, 0, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    ss_pool *p = ss_pool_alloc(&rss_kind, &nl, 1, 60, &err);
    long first = -1, at1000 = -1, last = -1, fails = 0;
    double t0 = ss_util_now();
    for (long i = 0; i < jobs; i++) {
        ss_pool_reply r;
        int got;
        if (ss_pool_submit(p, (uint64_t)i, "x", 1, &err) ||
            ss_pool_next(p, -1, &r, &got, &err)) {
            fprintf(stderr, "bench: %s\n", err.msg);
            exit(1);
        }
        if (r.status) {
            fails++;
        } else {
            long kb = strtol(r.data, NULL, 10);
            if (i == 9)
                first = kb;
            if (i == 999)
                at1000 = kb;
            last = kb;
        }
        free(r.data);
    }
    double t = ss_util_now() - t0;
    printf("worker RSS: %ld kB after 10 jobs, %ld kB after 1000, %ld kB after %ld jobs "
           "(%.2f kB/job after the first 1000; %ld failed; %.1f s)\n",
           first, at1000, last, jobs, jobs > 1000 ? (double)(last - at1000) / (double)(jobs - 1000) : 0.0,
           fails, t);
    ss_pool_free(p);
    ss_netlist_release(&nl);
}

int main(void)
{
    long n = env_long("SS_BENCH_N", 1000), rss_jobs = env_long("SS_BENCH_RSS_JOBS", 10000);
    char dir[] = "/tmp/ss-bench-XXXXXX";
    if (!mkdtemp(dir) || n < 2)
        return 1;
    static const char *const steps[] = {"10u", "1u"};
    int ok2 = 0, ok1 = 0, all_ok = 1;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        tstep = steps[k];
        make_deck();
        char netlist[1024];
        snprintf(netlist, sizeof netlist, "%s/rc.cir", dir);
        FILE *f = fopen(netlist, "w");
        if (!f)
            return 1;
        fputs(deck, f);
        fclose(f);
        int okb = 0;
        double t2 = run_sweep(dir, netlist, 2, n, &ok2);
        double t1 = run_sweep(dir, netlist, 1, n, &ok1);
        all_ok &= ok2 == n && ok1 == n;
        printf("sweep, %ld RC transient jobs (.tran %s 500u): 2 workers %.2f s (%.0f jobs/s, %d ok), "
               "1 worker %.2f s (%.0f jobs/s, %d ok); scaling 1 -> 2 workers: %.2fx\n",
               n, tstep, t2, (double)n / t2, ok2, t1, (double)n / t1, ok1, t1 / t2);
        if (env_long("SS_BENCH_NGSPICE", 1)) {
            double tb = run_ngspice_loop(dir, n, &okb);
            printf("ngspice -b loop, same %ld netlists: %.2f s (%.0f jobs/s, %d ok)\n", n, tb,
                   (double)n / tb, okb);
            printf("throughput ratio, sweep with 2 workers vs ngspice -b loop: %.1fx (target >= 8x)\n",
                   tb / t2);
        }
    }
    if (rss_jobs > 0)
        run_rss(rss_jobs);
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {
    }
    return all_ok ? 0 : 1;
}
