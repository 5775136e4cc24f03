/* brian2_bench.h: what the benches against Brian2 share (network_vs_brian2.c, dpi_vs_brian2.c):
 * writing the network's arrays for the Brian2 script, running the script
 * (Debian's /usr/bin/python3 with python3-brian) and reading its one result
 * line "brian2 spikes N build_s B run_s R". */
#ifndef SS_BRIAN2_BENCH_H
#define SS_BRIAN2_BENCH_H

#include <stdio.h>
#include <stdlib.h>

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

/* Runs `script DIR DT`: the spike count Brian2 printed (-1 if it printed
 * none: not installed, or failed), its import+build and run-loop seconds,
 * and the wall time of the whole process. */
static inline long bench_brian2(const char *script, const char *dir, double dt, double *wall,
                                double *build, double *run)
{
    char cmd[1400], line[256];
    long spikes = -1;
    *build = *run = 0;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s %.17g 2>/dev/null", script, dir, dt);
    double t0 = ss_util_now();
    FILE *p = popen(cmd, "r");
    while (p && fgets(line, sizeof line, p))
        sscanf(line, "brian2 spikes %ld build_s %lf run_s %lf", &spikes, build, run);
    if (p)
        pclose(p);
    *wall = ss_util_now() - t0;
    return spikes;
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
