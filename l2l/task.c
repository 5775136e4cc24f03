/* task.c: the task registry, task-set seeds and the bbob family (shifted and
 * rotated sphere, ellipsoid, Rosenbrock and Rastrigin functions after
 * COCO/BBOB f1, f10, f8/f9 and f15 without the oscillation transforms).
 * The hardware families (bandit-*, arm-oneshot, faults) live in
 * task_bandit.c and task_arm.c; each is one entry in `families`. */
#include "l2l/l2l_private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t ss_l2l_task_seed(int set, uint64_t run_seed, uint64_t generation, uint64_t k)
{
    uint64_t h;
    if (set == SS_L2L_TRAIN)
        h = l2li_mix(l2li_mix(l2li_mix(run_seed, generation), k), 0x747261696eULL);
    else /* fixed sets: the same for every run, so runs compare on equal terms */
        h = l2li_mix(l2li_mix(0x5e7ULL + (uint64_t)set, k), 0x66697865ULL);
    return ((uint64_t)(set & 3) << 62) | (h >> 2);
}

void ss_l2l_task_free(ss_l2l_task *t)
{
    if (t && t->destroy)
        t->destroy(t);
}

int ss_l2l_task_fix(ss_l2l_task *t, const char *name, double value, ss_error *err)
{
    for (size_t i = 0; i < t->nparams; i++) {
        ss_l2l_param *p = &t->params[i];
        if (strcmp(p->name, name))
            continue;
        if (!(value >= p->lo && value <= p->hi))
            return ss_error_set(err, SS_EINVAL, "%s: %s = %g is outside [%g, %g]", t->name, name,
                                value, p->lo, p->hi);
        p->init = value;
        p->flags |= SS_L2L_FIXED;
        return SS_OK;
    }
    return ss_error_set(err, SS_ENOTFOUND, "%s has no parameter '%s'", t->name, name);
}

/* ---- random numbers without state: stream (seed, k) ------------------------------- */

static double unif(uint64_t seed, uint64_t k)
{
    return ((double)(l2li_mix(seed, k) >> 11) + 0.5) * 0x1.0p-53;
}

static double normal(uint64_t seed, uint64_t k)
{
    double a = unif(seed, 2 * k), b = unif(seed, 2 * k + 1);
    return sqrt(-2 * log(a)) * cos(2 * M_PI * b);
}

/* ---- bbob ------------------------------------------------------------------------------- */

enum { F_SPHERE, F_ELLIPSOID, F_ROSENBROCK, F_RASTRIGIN };
static const char *const bbob_names[] = {"sphere", "ellipsoid", "rosenbrock", "rastrigin"};

typedef struct bbob {
    int fn;
    size_t d;
    double spread;
    double *center; /* family centre of the optimum */
    double *R;      /* rotation, d x d (identity for the sphere) */
} bbob;

typedef struct bbob_task {
    ss_l2l_task t;
    bbob b;
} bbob_task;

static void bbob_destroy(ss_l2l_task *t)
{
    bbob_task *bt = (bbob_task *)t;
    free(bt->b.center);
    free(bt->b.R);
    free(t->params);
    free(bt);
}

static double bbob_f(const bbob *b, const double *z)
{
    size_t d = b->d;
    double f = 0;
    switch (b->fn) {
    case F_SPHERE:
        for (size_t i = 0; i < d; i++)
            f += z[i] * z[i];
        break;
    case F_ELLIPSOID:
        for (size_t i = 0; i < d; i++)
            f += pow(10.0, d > 1 ? 6.0 * (double)i / (double)(d - 1) : 0) * z[i] * z[i];
        break;
    case F_ROSENBROCK: {
        double s = fmax(1.0, sqrt((double)d) / 8.0);
        if (d == 1)
            return (s * z[0]) * (s * z[0]);
        for (size_t i = 0; i + 1 < d; i++) {
            double a = s * z[i] + 1, c = s * z[i + 1] + 1;
            f += 100 * (a * a - c) * (a * a - c) + (a - 1) * (a - 1);
        }
        break;
    }
    case F_RASTRIGIN:
        for (size_t i = 0; i < d; i++)
            f += 10 * (1 - cos(2 * M_PI * z[i])) + z[i] * z[i];
        break;
    }
    return f;
}

static int bbob_evaluate(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                         double *metric, ss_error *err)
{
    (void)state;
    const bbob *b = t->data;
    size_t d = b->d;
    double xs[100], z[100];
    for (size_t i = 0; i < d; i++) {
        double opt = b->center[i] + (b->spread > 0 ? b->spread * normal(seed, i) : 0);
        opt = fmax(-4.5, fmin(4.5, opt));
        xs[i] = x[i] - opt;
    }
    for (size_t i = 0; i < d; i++) {
        double s = 0;
        for (size_t j = 0; j < d; j++)
            s += b->R[i * d + j] * xs[j];
        z[i] = s;
    }
    *metric = bbob_f(b, z);
    if (!isfinite(*metric))
        return ss_error_set(err, SS_ENUMERIC, "%s: f is not finite", t->name);
    return SS_OK;
}

/* A random rotation from the family seed: Gram-Schmidt on Gaussian rows. */
static void rotation(double *R, size_t d, uint64_t seed)
{
    for (size_t i = 0; i < d; i++) {
        for (;;) {
            for (size_t j = 0; j < d; j++)
                R[i * d + j] = normal(seed, i * d + j);
            for (size_t k = 0; k < i; k++) {
                double dot = 0;
                for (size_t j = 0; j < d; j++)
                    dot += R[i * d + j] * R[k * d + j];
                for (size_t j = 0; j < d; j++)
                    R[i * d + j] -= dot * R[k * d + j];
            }
            double nrm = 0;
            for (size_t j = 0; j < d; j++)
                nrm += R[i * d + j] * R[i * d + j];
            nrm = sqrt(nrm);
            if (nrm > 1e-6) {
                for (size_t j = 0; j < d; j++)
                    R[i * d + j] /= nrm;
                break;
            }
            seed = l2li_mix(seed, i); /* degenerate draw: try another */
        }
    }
}

static ss_l2l_task *bbob_alloc(const char *name, ss_error *err)
{
    const char *rest = name + strlen("bbob-");
    size_t len = strcspn(rest, ":");
    int fn = -1;
    for (int i = 0; i < 4; i++)
        if (strlen(bbob_names[i]) == len && !strncmp(rest, bbob_names[i], len))
            fn = i;
    if (fn < 0) {
        ss_error_set(err, SS_ENOTFOUND, "task '%s': unknown bbob function '%.*s' (sphere, "
                     "ellipsoid, rosenbrock, rastrigin)", name, (int)len, rest);
        return NULL;
    }
    long d = 10;
    double spread = 1.0;
    const char *p = rest + len;
    if (*p == ':') {
        char *end;
        d = strtol(p + 1, &end, 10);
        if (end == p + 1 || (*end && *end != ':') || d < 1 || d > 100) {
            ss_error_set(err, SS_EINVAL, "task '%s': dimension must be 1..100", name);
            return NULL;
        }
        p = end;
        if (*p == ':' && (ss_util_parse_double(p + 1, &spread) || !(spread >= 0 && spread <= 10))) {
            ss_error_set(err, SS_EINVAL, "task '%s': spread must be a number in [0, 10]", name);
            return NULL;
        }
    }
    if (strlen(name) >= sizeof ((ss_l2l_task *)0)->name) {
        ss_error_set(err, SS_EINVAL, "task name '%.40s...' is too long", name);
        return NULL;
    }
    size_t n = (size_t)d;
    bbob_task *bt = calloc(1, sizeof *bt);
    if (!bt || !(bt->t.params = calloc(n, sizeof *bt->t.params)) ||
        !(bt->b.center = malloc(n * sizeof *bt->b.center)) ||
        !(bt->b.R = calloc(n * n, sizeof *bt->b.R))) {
        if (bt)
            bbob_destroy(&bt->t);
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    ss_l2l_task *t = &bt->t;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->metric = "f";
    t->nparams = n;
    t->ntrain = 4;
    t->nval = 16;
    t->ntest = 64;
    t->evaluate = bbob_evaluate;
    t->destroy = bbob_destroy;
    t->data = &bt->b;
    for (size_t i = 0; i < n; i++) {
        snprintf(t->params[i].name, SS_L2L_NAME_MAX, "x%zu", i);
        t->params[i].lo = -5;
        t->params[i].hi = 5;
        t->params[i].init = 0;
    }
    bt->b.fn = fn;
    bt->b.d = n;
    bt->b.spread = spread;
    uint64_t fam = l2li_mix(l2li_fnv(bbob_names[fn], strlen(bbob_names[fn])), n);
    for (size_t i = 0; i < n; i++)
        bt->b.center[i] = -3 + 6 * unif(fam, i);
    if (fn == F_SPHERE)
        for (size_t i = 0; i < n; i++)
            bt->b.R[i * n + i] = 1;
    else
        rotation(bt->b.R, n, l2li_mix(fam, 0x726f74ULL));
    return t;
}

/* ---- the registry --------------------------------------------------------------------- */

typedef struct family {
    const char *prefix;
    const char *help;
    ss_l2l_task *(*alloc)(const char *name, ss_error *err);
} family;

static const family families[] = {
    {"bbob-", "bbob-FN[:D[:SPREAD]]  FN = sphere, ellipsoid, rosenbrock, rastrigin: D-dimensional "
              "(default 10) shifted, rotated test functions; instances move the optimum by "
              "SPREAD (default 1) x N(0, 1); metric f", bbob_alloc},
    {"bandit-", "bandit-independent, bandit-dependent  two-armed Bernoulli bandits (100 pulls) "
                "learned by two memristive value synapses; arms U(0,1) or p2 = 1 - p1; "
                "metric regret", l2li_bandit_alloc},
    {"arm-oneshot", "arm-oneshot  2-link arm, LIF network with a memristive readout written "
                    "once after one demonstration (pulse response from ngspice); metric NMSE",
     l2li_arm_alloc},
    {"faults", "faults[:P]  arm-oneshot with a fraction P (default 0.1) of stuck devices and "
               "fault-aware writing (write-verify, pruning) as a parameter; metric NMSE",
     l2li_arm_alloc},
    {"hebbian-memory", "hebbian-memory[:PAIRS]  one-shot storage of PAIRS (default 8) sparse "
                       "key-value pairs in a plastic 16 x 16 memristive crossbar of the network "
                       "layer (variability, stuck cells), recall by LIF neurons; metric bit_error",
     l2li_hebb_alloc},
};

const char *ss_l2l_task_family(size_t i)
{
    return i < sizeof families / sizeof families[0] ? families[i].help : NULL;
}

ss_l2l_task *ss_l2l_task_alloc(const char *name, ss_error *err)
{
    if (!name || !*name) {
        ss_error_set(err, SS_EINVAL, "no task name");
        return NULL;
    }
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        if (!strncmp(name, families[i].prefix, strlen(families[i].prefix)))
            return families[i].alloc(name, err);
    ss_buf list = SS_BUF_INIT;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
        ss_buf_printf(&list, "%s%s...", i ? ", " : "", families[i].prefix);
    ss_error_set(err, SS_ENOTFOUND, "unknown task '%s' (families: %s)", name,
                 list.data ? list.data : "");
    ss_buf_release(&list);
    return NULL;
}

int ss_l2l_task_set_device(ss_l2l_task *t, const ss_device *d, ss_error *err)
{
    if (!t->set_device)
        return ss_error_set(err, SS_EINVAL, "task %s has no memristors", t->name);
    int rc = ss_device_validate(d, err);
    if (rc)
        return ss_error_prefix(err, rc, "task %s", t->name);
    /* the tasks' write controllers count states from ON at x = 0 (VTEAM's
     * w0 end): SET lookups start at 1, RESET lookups at 0 */
    if (d->type->x_lrs != 0.0)
        return ss_error_set(err, SS_EINVAL,
                            "task %s: a %s device is ON at x = 1; the task's write controller "
                            "needs a device that is ON at x = 0 (vteam)",
                            t->name, d->type->name);
    double set = ss_device_dxdt(d, -1.0, 0.5), reset = ss_device_dxdt(d, 1.0, 0.5);
    if (!(set < 0) || !(reset > 0))
        return ss_error_set(err, SS_EINVAL,
                            "task %s writes SET with negative and RESET with positive pulses; this "
                            "%s device does not move that way at -1 V and +1 V (polarity=-1 turns "
                            "it round)",
                            t->name, d->type->name);
    if ((rc = t->set_device(t, d, err)))
        return rc;
    t->device = *d;
    t->has_device = 1;
    return SS_OK;
}
