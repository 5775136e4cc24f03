/* engine_vs_ngspice.c: 200 small transient netlists through the engine (one
 * process, library loaded once) vs 200 `ngspice -b` processes on the same
 * netlists.  Both write an ngspice raw file per netlist.  Prints wall and
 * CPU time of each and their ratio, measured in this one run. */
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"

extern char **environ;

static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

struct timing {
    double ew, ec, nw, nc;
};

/* Runs n netlists with the given .tran step through both; 0 on success. */
static int run_case(int n, const char *tstep, struct timing *tm, size_t *points)
{
    char dir[] = "/tmp/ss-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256], raw[256];
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/rc%d.cir", dir, i);
        FILE *f = fopen(path, "w");
        if (!f)
            return 1;
        fprintf(f, "rc %d\nV1 in 0 PULSE(0 1 10u 1u 1u 50u 100u)\nR1 in out %dk\n"
                   "C1 out 0 10n\nR2 out 0 10k\n.tran %s 500u\n.end\n",
                i, 1 + i % 10, tstep);
        fclose(f);
    }
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "engine_vs_ngspice: %s\n", err.msg);
        return 1;
    }
    /* engine: read, screen, load, run, verify, copy out, write raw */
    double w0 = ss_util_now(), c0 = ss_util_cpu_time();
    for (int i = 0; i < n; i++) {
        ss_result res = SS_RESULT_INIT;
        snprintf(path, sizeof path, "%s/rc%d.cir", dir, i);
        snprintf(raw, sizeof raw, "%s/e%d.raw", dir, i);
        if (ss_engine_run_file(eng, path, 0, &res, &err) ||
            ss_result_write_raw(&res, NULL, 0, raw, &err)) {
            fprintf(stderr, "engine_vs_ngspice: %s\n", err.msg);
            return 1;
        }
        *points = res.plot[0].vec[0].n;
        ss_result_release(&res);
    }
    tm->ew = ss_util_now() - w0;
    tm->ec = ss_util_cpu_time() - c0;
    ss_engine_free(eng);
    /* ngspice -b: one process per netlist */
    w0 = ss_util_now();
    c0 = children_cpu();
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/rc%d.cir", dir, i);
        snprintf(raw, sizeof raw, "%s/n%d.raw", dir, i);
        char *args[] = {"ngspice", "-b", "-r", raw, "-o", "/dev/null", path, NULL};
        pid_t pid;
        int st;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        int bad = posix_spawnp(&pid, "ngspice", &fa, NULL, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (bad) {
            fprintf(stderr, "engine_vs_ngspice: cannot start ngspice\n");
            return 1;
        }
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "engine_vs_ngspice: ngspice -b failed on %s\n", path);
            return 1;
        }
    }
    tm->nw = ss_util_now() - w0;
    tm->nc = children_cpu() - c0;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200;
    static const char *const steps[] = {"10u", "1u"};
    printf("engine_vs_ngspice: %d RC transient netlists (500 us), a raw file written per run\n", n);
    printf("  %-8s %8s | %-24s | %-24s | %s\n", "tstep", "points", "smallsim engine wall/cpu",
           "ngspice -b wall/cpu", "ratio wall / cpu");
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        struct timing tm;
        size_t pts = 0;
        if (run_case(n, steps[k], &tm, &pts))
            return 1;
        printf("  %-8s %8zu | %9.3f s %9.3f s  | %9.3f s %9.3f s  | %.1fx / %.1fx\n", steps[k],
               pts, tm.ew, tm.ec, tm.nw, tm.nc, tm.nw / tm.ew, tm.nc / tm.ec);
    }
    return 0;
}
