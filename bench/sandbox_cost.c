/* sandbox_cost.c: what the isolation of untrusted netlists costs per run.
 * 100 small RC transients, each run (1) in a forked child confined by the
 * sandbox (Landlock + seccomp), as `smallsim spice run` does, (2) in a
 * forked child without the sandbox, (3) in this process's own engine, and
 * (4) by `ngspice -b` as a separate process, for reference.  The children
 * of (1) and (2) start from a process without an engine, as the CLI's do,
 * so each opens its own copy of ngspice.  Prints wall time per run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"

#define N 100

static int read_all(ss_netlist *nl, const char *dir, unsigned flags)
{
    char path[512];
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/rc%d.cir", dir, i);
        ss_error err;
        if (ss_netlist_read_file(&nl[i], path, flags, &err)) {
            fprintf(stderr, "sandbox_cost: %s\n", err.msg);
            return 1;
        }
    }
    return 0;
}

static double per_run_child(ss_netlist *nl)
{
    double t0 = ss_util_now();
    for (int i = 0; i < N; i++) {
        ss_result res = SS_RESULT_INIT;
        ss_error err;
        if (ss_engine_run_isolated(&nl[i], 60, &res, &err)) {
            fprintf(stderr, "sandbox_cost: %s\n", err.msg);
            exit(1);
        }
        ss_result_release(&res);
    }
    return (ss_util_now() - t0) / N;
}

int main(void)
{
    char dir[] = "/tmp/ss-bench-sb-XXXXXX", path[512], cmd[1024];
    if (!mkdtemp(dir))
        return 1;
    for (int i = 0; i < N; i++) {
        snprintf(path, sizeof path, "%s/rc%d.cir", dir, i);
        FILE *f = fopen(path, "w");
        if (!f)
            return 1;
        fprintf(f, "rc %d\nV1 in 0 PULSE(0 1 10u 1u 1u 50u 100u)\nR1 in out %dk\n"
                   "C1 out 0 10n\nR2 out 0 10k\n.tran 10u 500u\n.end\n",
                i, 1 + i % 10);
        fclose(f);
    }
    static ss_netlist boxed[N], open[N];
    if (read_all(boxed, dir, 0) || read_all(open, dir, SS_NETLIST_NO_SANDBOX))
        return 1;
    double sandboxed = per_run_child(boxed), unboxed = per_run_child(open);
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "sandbox_cost: %s\n", err.msg);
        return 1;
    }
    double t0 = ss_util_now();
    for (int i = 0; i < N; i++) {
        ss_result res = SS_RESULT_INIT;
        if (ss_engine_load(eng, &open[i], &err) || ss_engine_run(eng, &res, &err)) {
            fprintf(stderr, "sandbox_cost: %s\n", err.msg);
            return 1;
        }
        ss_result_release(&res);
    }
    double inproc = (ss_util_now() - t0) / N;
    /* a child of a process that has an engine inherits it (sweep workers
     * and `characterize` jobs are of this kind: they open it once) */
    double inherited = per_run_child(boxed);
    t0 = ss_util_now();
    for (int i = 0; i < N; i++) {
        snprintf(cmd, sizeof cmd, "cd %s && ngspice -b rc%d.cir >/dev/null 2>&1", dir, i);
        if (system(cmd) == -1)
            return 1;
    }
    double ngspice = (ss_util_now() - t0) / N;
    ss_engine_free(eng);
    printf("sandbox_cost: %d RC transients (50 points), wall time per run (sandbox level %d: %s)\n",
           N, ss_util_sandbox_level(),
           ss_util_sandbox_level() == 2 ? "Landlock + seccomp" : "seccomp only");
    printf("  child, sandboxed, opens ngspice      %7.2f ms\n", 1e3 * sandboxed);
    printf("  child, no sandbox, opens ngspice     %7.2f ms\n", 1e3 * unboxed);
    printf("  child, sandboxed, inherits ngspice   %7.2f ms\n", 1e3 * inherited);
    printf("  in this process (no isolation)       %7.2f ms\n", 1e3 * inproc);
    printf("  ngspice -b (a process per netlist)   %7.2f ms\n", 1e3 * ngspice);
    printf("  sandbox cost per run: %.2f ms; sandboxed child vs ngspice -b: %.2fx faster\n",
           1e3 * (sandboxed - unboxed), ngspice / sandboxed);
    for (int i = 0; i < N; i++) {
        ss_netlist_release(&boxed[i]);
        ss_netlist_release(&open[i]);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == -1;
}
