/* circuits_speed.c: simulated time per CPU second of each library neuron,
 * and a 20-point DPI f-I sweep on 2 pool workers (engine kept resident)
 * against the same 20 benches run as a loop of `ngspice -b` (one run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "circuits/ss_circuits.h"
#include "pool/ss_pool.h"

static int start(void *arg, void **state, ss_error *err)
{
    (void)arg;
    ss_engine *eng;
    int rc = ss_engine_open(&eng, err);
    *state = eng;
    return rc;
}

static void stop(void *state, void *arg)
{
    (void)arg;
    ss_engine_free(state);
}

static int run(void *state, void *arg, const void *req, size_t len, ss_buf *reply, ss_error *err)
{
    double in;
    if (len != sizeof in)
        return ss_error_set(err, SS_EINVAL, "bad request");
    memcpy(&in, req, sizeof in);
    ss_circuit_point pt;
    int rc = ss_circuit_run_point(state, arg, in, &pt, err);
    ss_buf_printf(reply, "%.17g", pt.tsim);
    return rc;
}

int main(void)
{
    ss_error err;
    ss_engine *eng;
    if (ss_engine_open(&eng, &err)) {
        fprintf(stderr, "circuits_speed: %s\n", err.msg);
        return 1;
    }
    printf("circuits_speed: simulated time per CPU second (1 nA input, 8+ spikes)\n");
    const char *names[] = {"dpi-neuron", "axon-hillock"};
    for (size_t c = 0; c < 2; c++) {
        ss_circuit_config cfg;
        ss_circuit_config_init(&cfg, ss_circuit_find(names[c]));
        ss_circuit_point pt;
        double cpu = ss_util_cpu_time();
        if (ss_circuit_run_point(eng, &cfg, 1e-9, &pt, &err)) {
            fprintf(stderr, "circuits_speed: %s\n", err.msg);
            return 1;
        }
        cpu = ss_util_cpu_time() - cpu;
        printf("  %-13s %8.4f s simulated in %.3f s CPU: %.3g s/CPU-s (%zu spikes, %.4g Hz)\n",
               names[c], pt.tsim, cpu, pt.tsim / cpu, pt.nspikes, pt.rate);
    }
    ss_engine_free(eng);
    /* 20-point f-I on the pool. */
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, ss_circuit_find("dpi-neuron"));
    double in[20];
    for (int i = 0; i < 20; i++)
        in[i] = 50e-12 * pow(10.0, 2.0 * i / 19.0);
    static const ss_pool_kind kind = {"bench", start, run, stop};
    double t0 = ss_util_now();
    ss_pool *p = ss_pool_alloc(&kind, &cfg, 2, 600, &err);
    if (!p)
        return 1;
    for (int i = 0; i < 20; i++)
        ss_pool_submit(p, (uint64_t)i, &in[i], sizeof in[i], &err);
    double tsim[20] = {0};
    while (ss_pool_pending(p)) {
        ss_pool_reply r;
        int got = 0;
        if (ss_pool_next(p, -1, &r, &got, &err))
            return 1;
        if (!got)
            continue;
        if (r.status || r.id >= 20 || !r.data) {
            fprintf(stderr, "circuits_speed: point %llu failed\n", (unsigned long long)r.id);
            return 1;
        }
        tsim[r.id] = strtod(r.data, NULL);
        free(r.data);
    }
    ss_pool_free(p);
    double tpool = ss_util_now() - t0;
    /* The same benches through ngspice -b, one after another, each run
     * for the final length the library settled on for that input (8+
     * spikes).  ngspice gets that length for free; the library found it by
     * extending shorter runs, and that time counts against it. */
    char dir[] = "/tmp/ss-circbench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    t0 = ss_util_now();
    double tng = 0;
    for (int i = 0; i < 20; i++) {
        ss_buf b = SS_BUF_INIT;
        double ts = tsim[i];
        ss_circuit_bench(&cfg, in[i], ts, fmin(20e-6, ts / 1000), &b, &err);
        char path[128], cmd[400];
        snprintf(path, sizeof path, "%s/p%d.cir", dir, i);
        FILE *fp = fopen(path, "w");
        if (!fp)
            return 1;
        fputs(b.data, fp);
        fclose(fp);
        ss_buf_release(&b);
        snprintf(cmd, sizeof cmd, "ngspice -b -r %s.raw %s > /dev/null 2>&1", path, path);
        double s = ss_util_now();
        if (system(cmd) != 0)
            fprintf(stderr, "circuits_speed: ngspice -b failed on %s\n", path);
        tng += ss_util_now() - s;
        remove(path);
        snprintf(cmd, sizeof cmd, "%s.raw", path);
        remove(cmd);
    }
    rmdir(dir);
    printf("20-point DPI f-I (50 pA .. 5 nA): pool of 2 workers %.2f s wall, "
           "loop of ngspice -b %.2f s wall, ratio %.2fx\n",
           tpool, tng, tng / tpool);
    return 0;
}
