/* l2l_evals.c: evaluations per second of the L2L outer loop on 1 and 2
 * workers: whole runs (ask, pool, tell, validation, CSV rows, fsync'ed
 * checkpoint per generation) of CMA-ES on a cheap task (bbob-sphere:10:0,
 * about a microsecond per evaluation) and on the same task made to cost 1 ms
 * of CPU per evaluation, so that the pool's overhead and its scaling show;
 * then the hardware task families (arm-oneshot, bandit-independent,
 * bandit-dependent, faults, hebbian-memory) with their own training instances per
 * evaluation and a validation set of the same size (so the generation's one
 * validation job costs one evaluation), each run in a fresh folder (the
 * ngspice lookups are measured, not read from a cache).
 *
 * Environment: SS_BENCH_GENS (generations, default 200), SS_BENCH_POP
 * (population, default 32); SS_BENCH_TASK_GENS (default 1) and
 * SS_BENCH_TASK_POP (default 8) for the hardware tasks; SS_BENCH_TASKS=0
 * skips them; SS_BENCH_TASK=NAME runs only that hardware task (and not the
 * sphere runs). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "l2l/ss_l2l.h"

static long env_long(const char *name, long def)
{
    const char *s = getenv(name);
    return s && *s ? strtol(s, NULL, 10) : def;
}

static const ss_l2l_task *inner;
static double cost_ms;

/* The inner task after cost_ms of CPU time. */
static int costly(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                  double *metric, ss_error *err)
{
    (void)t;
    double t0 = ss_util_cpu_time();
    volatile double sink = 0;
    while ((ss_util_cpu_time() - t0) * 1e3 < cost_ms)
        for (int i = 0; i < 1000; i++)
            sink += sqrt((double)i);
    return inner->evaluate(inner, state, x, seed, metric, err);
}

/* CPU seconds of the reaped worker processes so far. */
static double children_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Evaluations per second of a whole run with ntrain training and validation
 * instances per evaluation. */
static double bench(const ss_l2l_task *t, const char *root, int workers, long gens, long pop,
                    size_t ntrain, ss_l2l_summary *sum)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/run-%s-%d-%g", root, t->name, workers, cost_ms);
    ss_l2l_options opt = SS_L2L_OPTIONS_INIT;
    opt.rundir = dir;
    opt.generations = (uint64_t)gens;
    opt.settings.pop = (size_t)pop;
    opt.jobs = workers;
    opt.ntrain = ntrain;
    opt.nval = ntrain;
    opt.timeout = 600;
    opt.plot = 0;
    ss_error err;
    double t0 = ss_util_now();
    if (ss_l2l_run(t, &opt, sum, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        exit(1);
    }
    return (double)sum->evals / (ss_util_now() - t0);
}

int main(void)
{
    long gens = env_long("SS_BENCH_GENS", 200), pop = env_long("SS_BENCH_POP", 32);
    char root[] = "/tmp/ss-bench-l2l-XXXXXX";
    if (!mkdtemp(root)) {
        perror("bench: mkdtemp");
        return 1;
    }
    ss_error err;
    ss_l2l_task *base = ss_l2l_task_alloc("bbob-sphere:10:0", &err);
    if (!base) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 1;
    }
    inner = base;
    const char *only = getenv("SS_BENCH_TASK");
    if (only && !*only)
        only = NULL;
    ss_l2l_task slow = *base;
    slow.evaluate = costly;
    slow.destroy = NULL;
    if (!only) {
        printf("l2l evaluations per second: CMA-ES, pop %ld, %ld generations, "
               "bbob-sphere:10:0, 1 training and 1 validation instance\n", pop, gens);
        printf("%-22s %8s %12s %12s %10s\n", "task", "workers", "evaluations", "evals/s",
               "speed-up");
    }
    double costs[] = {0, 1};
    for (int c = 0; !only && c < 2; c++) {
        cost_ms = costs[c];
        const ss_l2l_task *t = c ? &slow : base;
        double rate1 = 0;
        long g = c ? gens / 4 : gens;
        for (int w = 1; w <= 2; w++) {
            ss_l2l_summary sum;
            double rate = bench(t, root, w, g, pop, 1, &sum);
            if (w == 1)
                rate1 = rate;
            printf("%-22s %8d %12llu %12.0f %9.2fx\n", c ? "sphere + 1 ms CPU" : "sphere (~1 us)", w,
                   (unsigned long long)sum.evals, rate, rate / rate1);
        }
    }
    ss_l2l_task_free(base);
    cost_ms = 0;
    long tgens = env_long("SS_BENCH_TASK_GENS", 1), tpop = env_long("SS_BENCH_TASK_POP", 8);
    const char *tasks[] = {"arm-oneshot", "bandit-independent", "bandit-dependent", "faults",
                           "hebbian-memory"};
    if (env_long("SS_BENCH_TASKS", 1)) {
        printf("\nhardware tasks: CMA-ES, pop %ld, %ld generation%s, the task's training "
               "instances per evaluation, as many validation instances\n", tpop, tgens,
               tgens == 1 ? "" : "s");
        printf("%-20s %6s %12s %12s %12s %10s %14s\n", "task", "inst.", "evaluations",
               "1 worker/s", "2 workers/s", "ratio", "CPU s/eval");
    }
    for (size_t k = 0; env_long("SS_BENCH_TASKS", 1) && k < sizeof tasks / sizeof tasks[0]; k++) {
        if (only && strcmp(only, tasks[k]))
            continue;
        ss_l2l_task *t = ss_l2l_task_alloc(tasks[k], &err);
        if (!t) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        ss_l2l_summary s1, s2;
        double c0 = children_cpu();
        double r1 = bench(t, root, 1, tgens, tpop, t->ntrain, &s1);
        double cpu = (children_cpu() - c0) / (double)s1.evals; /* the workers' CPU per evaluation */
        double r2 = bench(t, root, 2, tgens, tpop, t->ntrain, &s2);
        printf("%-20s %6zu %12llu %12.2f %12.2f %9.2fx %14.3f\n", tasks[k], t->ntrain,
               (unsigned long long)s1.evals, r1, r2, r2 / r1, cpu);
        fflush(stdout);
        ss_l2l_task_free(t);
    }
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd))
        fprintf(stderr, "bench: could not remove %s\n", root);
    return 0;
}
