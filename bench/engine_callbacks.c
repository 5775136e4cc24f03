/* engine_callbacks.c: what "only the callbacks a run needs" costs.  The
 * engine's copy of libngspice registers SendData and GetSyncData only for
 * runs with accept/max_step hooks, and loads a fresh copy when the next run
 * needs other callbacks.  100 RC transients (200 points) in one engine:
 * (1) all without hooks, (2) all with an accept and a max_step hook, (3)
 * alternating, so that every run reloads the library.  Prints CPU time per
 * run (getrusage, this process) and the cost of one reload. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "cosim/engine/ss_engine.h"

#define N 100

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static int accept(void *user, const ss_engine_point *pt)
{
    (void)pt;
    (*(long *)user)++;
    return 0;
}

static double max_step(void *user, double t)
{
    (void)user, (void)t;
    return 1e-6;
}

static double per_run(ss_engine *eng, int mode)
{
    static const char deck[] = "rc\nV1 in 0 PULSE(0 1 0 1u 1u 50u 100u)\nR1 in out 1k\n"
                               "C1 out 0 10n\n.tran 1u 200u\n.end\n";
    long points = 0;
    ss_engine_hooks hooks = {NULL, accept, max_step, &points};
    double t0 = cpu_now();
    for (int i = 0; i < N; i++) {
        ss_result res = SS_RESULT_INIT;
        ss_error err;
        ss_engine_set_hooks(eng, mode == 1 || (mode == 2 && i % 2) ? &hooks : NULL);
        if (ss_engine_run_text(eng, deck, "rc.cir", SS_NETLIST_NO_SANDBOX, &res, &err)) {
            fprintf(stderr, "engine_callbacks: %s\n", err.msg);
            exit(1);
        }
        ss_result_release(&res);
    }
    ss_engine_set_hooks(eng, NULL);
    return (cpu_now() - t0) / N;
}

int main(void)
{
    ss_engine *eng;
    ss_error err;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "engine_callbacks: %s\n", err.msg);
        return 1;
    }
    per_run(eng, 0); /* warm up */
    double plain = per_run(eng, 0), hooked = per_run(eng, 1);
    int r0 = ss_engine_reloads(eng);
    double alternating = per_run(eng, 2);
    int reloads = ss_engine_reloads(eng) - r0;
    printf("engine_callbacks: %d RC transients per mode, CPU time per run\n", N);
    printf("  no hooks (no SendData, no GetSyncData)  %.3f ms\n", plain * 1e3);
    printf("  accept + max_step hooks                 %.3f ms\n", hooked * 1e3);
    printf("  alternating (%d reloads)                %.3f ms\n", reloads, alternating * 1e3);
    printf("  one reload of libngspice: %.2f ms\n",
           reloads ? (alternating - 0.5 * (plain + hooked)) * N / reloads * 1e3 : 0.0);
    ss_engine_free(eng);
    return 0;
}
