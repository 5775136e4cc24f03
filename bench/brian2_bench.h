/* brian2_bench.h: what the benches against Brian2 share (network_vs_brian2.c, dpi_vs_brian2.c,
 * network_scaling.c): writing the network's arrays for the Brian2 script,
 * running the script (Debian's /usr/bin/python3 with python3-brian) and
 * reading its one result line "brian2 spikes N build_s B run_s R". */
#ifndef SS_BRIAN2_BENCH_H
#define SS_BRIAN2_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "util/ss_util.h"

/* Writes n items of `size` bytes to DIR/NAME; non-zero on failure. */
static inline int bench_write_bin(const char *dir, const char *name, const void *p, size_t size,
                                  size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    int bad = fwrite(p, size, n, f) != n;
    return fclose(f) != 0 || bad;
}

/* One Brian2 run: the spike count it printed (-1 if none: not installed,
 * or failed), the CPU time of the whole process and its children (the
 * compiler, for cpp_standalone) and its wall time, and the import+build
 * and run-loop seconds the script measured. */
struct bench_brian {
    long spikes;
    double cpu, wall, build, run;
};

/* Runs `script DIR DT TARGET` (Debian's python3, TARGET numpy or
 * cpp_standalone); returns b->spikes. */
static inline long bench_brian2_run(const char *script, const char *dir, const char *target,
                                    double dt, struct bench_brian *b)
{
    char cmd[1400], line[256];
    struct rusage r0, r1;
    b->spikes = -1;
    b->build = b->run = 0;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %.17g %s 2>/dev/null", script, dir, dt, target);
    getrusage(RUSAGE_CHILDREN, &r0);
    double t0 = ss_util_now();
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof line, p))
        sscanf(line, "brian2 spikes %ld build_s %lf run_s %lf", &b->spikes, &b->build, &b->run);
    if (p)
        pclose(p);
    b->wall = ss_util_now() - t0;
    getrusage(RUSAGE_CHILDREN, &r1);
#define SECS(r) ((double)(r).ru_utime.tv_sec + 1e-6 * (double)(r).ru_utime.tv_usec + \
                 (double)(r).ru_stime.tv_sec + 1e-6 * (double)(r).ru_stime.tv_usec)
    b->cpu = SECS(r1) - SECS(r0);
#undef SECS
    return b->spikes;
}

/* Removes the folder the arrays went to. */
static inline void bench_rmdir(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
}

#endif
