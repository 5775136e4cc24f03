/* opt.c: the optimizer interface (ask/tell, save/load), random search, grid
 * search and the Nelder-Mead polish.  CMA-ES, CE and GA are in their own
 * files. */
#include "l2l/l2l_private.h"

#include <float.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- random search ----------------------------------------------------------------- */

static size_t small_pop(size_t dim)
{
    (void)dim;
    return 20;
}

static int random_init(ss_l2l_opt *o, ss_error *err)
{
    (void)o;
    (void)err;
    return SS_OK;
}

static int random_ask(ss_l2l_opt *o, double *u, size_t *n, ss_error *err)
{
    (void)err;
    for (size_t i = 0; i < o->pop * o->dim; i++)
        u[i] = gsl_rng_uniform(o->rng);
    *n = o->pop;
    return SS_OK;
}

static int nothing_to_tell(ss_l2l_opt *o, const double *u, const double *f, size_t n,
                           ss_error *err)
{
    (void)o, (void)u, (void)f, (void)n, (void)err;
    return SS_OK;
}

static int nothing_to_save(const ss_l2l_opt *o, ss_buf *out)
{
    (void)o, (void)out;
    return SS_OK;
}

static int nothing_to_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    (void)o, (void)kv, (void)err;
    return SS_OK;
}

static double no_spread(const ss_l2l_opt *o)
{
    (void)o;
    return 0;
}

static void nothing_to_release(ss_l2l_opt *o)
{
    (void)o;
}

static const ss_l2l_opt_type random_type = {"random", small_pop, random_init, random_ask,
                                            nothing_to_tell, nothing_to_save, nothing_to_load,
                                            no_spread, nothing_to_release, NULL};

/* ---- grid search ------------------------------------------------------------------------ */

/* The grid: points^dim nodes, first parameter slowest; state = next node. */
typedef struct grid {
    uint64_t total, next;
} grid;

static int grid_init(ss_l2l_opt *o, ss_error *err)
{
    size_t pts = o->set.grid_points ? o->set.grid_points : 5;
    double total = pow((double)pts, (double)o->dim);
    if (total > 1e12)
        return ss_error_set(err, SS_EINVAL, "grid: %zu points in %zu dimensions is %.3g nodes, "
                            "too many", pts, o->dim, total);
    grid *g = calloc(1, sizeof *g);
    if (!g)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    o->set.grid_points = pts;
    g->total = (uint64_t)total;
    o->state = g;
    return SS_OK;
}

static int grid_ask(ss_l2l_opt *o, double *u, size_t *n, ss_error *err)
{
    (void)err;
    grid *g = o->state;
    size_t pts = o->set.grid_points, k = 0;
    for (; k < o->pop && g->next + k < g->total; k++) {
        uint64_t idx = g->next + k;
        for (size_t d = o->dim; d-- > 0;) {
            uint64_t c = idx % pts;
            idx /= pts;
            u[k * o->dim + d] = pts == 1 ? 0.5 : (double)c / (double)(pts - 1);
        }
    }
    *n = k;
    return SS_OK;
}

static int grid_tell(ss_l2l_opt *o, const double *u, const double *f, size_t n, ss_error *err)
{
    (void)u, (void)f, (void)err;
    ((grid *)o->state)->next += n;
    return SS_OK;
}

static int grid_save(const ss_l2l_opt *o, ss_buf *out)
{
    return l2li_put_u64(out, "opt.grid.next", ((const grid *)o->state)->next);
}

static int grid_load(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err)
{
    grid *g = o->state;
    int rc = l2li_kv_u64(kv, "opt.grid.next", &g->next, err);
    if (!rc && g->next > g->total)
        rc = ss_error_set(err, SS_EPARSE, "%s: grid position %llu is past the end (%llu)",
                          kv->what, (unsigned long long)g->next, (unsigned long long)g->total);
    return rc;
}

static void free_state(ss_l2l_opt *o)
{
    free(o->state);
}

static const ss_l2l_opt_type grid_type = {"grid", small_pop, grid_init, grid_ask, grid_tell,
                                          grid_save, grid_load, no_spread, free_state, NULL};

/* ---- the interface ------------------------------------------------------------------- */

const ss_l2l_opt_type *const ss_l2l_opt_cmaes = &l2li_cmaes_type;
const ss_l2l_opt_type *const ss_l2l_opt_ce = &l2li_ce_type;
const ss_l2l_opt_type *const ss_l2l_opt_ga = &l2li_ga_type;
const ss_l2l_opt_type *const ss_l2l_opt_random = &random_type;
const ss_l2l_opt_type *const ss_l2l_opt_grid = &grid_type;

const ss_l2l_opt_type *ss_l2l_opt_type_find(const char *name)
{
    const ss_l2l_opt_type *all[] = {&l2li_cmaes_type, &l2li_ce_type, &l2li_ga_type,
                                    &random_type, &grid_type};
    for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
        if (!strcmp(all[i]->name, name))
            return all[i];
    return NULL;
}

const char *ss_l2l_opt_type_name(const ss_l2l_opt_type *t)
{
    return t ? t->name : "";
}

static int check_settings(const ss_l2l_opt_settings *s, ss_error *err)
{
    if (!(s->sigma0 > 0 && s->sigma0 <= 10))
        return ss_error_set(err, SS_EINVAL, "sigma0 %g is not in (0, 10]", s->sigma0);
    if (!(s->rho > 0 && s->rho <= 1))
        return ss_error_set(err, SS_EINVAL, "elite fraction rho %g is not in (0, 1]", s->rho);
    if (!(s->smoothing >= 0 && s->smoothing < 1))
        return ss_error_set(err, SS_EINVAL, "smoothing %g is not in [0, 1)", s->smoothing);
    if (!(s->noise >= 0 && s->noise <= 1))
        return ss_error_set(err, SS_EINVAL, "noise %g is not in [0, 1]", s->noise);
    if (!(s->noise_decay >= 0 && s->noise_decay <= 1))
        return ss_error_set(err, SS_EINVAL, "noise_decay %g is not in [0, 1]", s->noise_decay);
    if (!(s->cx_prob >= 0 && s->cx_prob <= 1))
        return ss_error_set(err, SS_EINVAL, "crossover probability cx_prob %g is not in [0, 1]",
                            s->cx_prob);
    if (!(s->mut_prob >= 0 && s->mut_prob <= 1))
        return ss_error_set(err, SS_EINVAL, "mutation probability mut_prob %g is not in [0, 1]",
                            s->mut_prob);
    if (!(s->mut_sigma > 0 && s->mut_sigma <= 10))
        return ss_error_set(err, SS_EINVAL, "mutation step mut_sigma %g is not in (0, 10]",
                            s->mut_sigma);
    if (s->pop > 1000000)
        return ss_error_set(err, SS_EINVAL, "population %zu is too large", s->pop);
    if (s->tournament < 1 || s->tournament > 1000)
        return ss_error_set(err, SS_EINVAL, "tournament size %zu is not in 1..1000",
                            s->tournament);
    if (s->grid_points > 1000000)
        return ss_error_set(err, SS_EINVAL, "grid_points %zu is too large", s->grid_points);
    if (s->restarts > 30)
        return ss_error_set(err, SS_EINVAL, "restarts %zu is not in 0..30 (each doubles the "
                            "population)", s->restarts);
    if (!(s->tolfun >= 0 && s->tolfun <= 1e300))
        return ss_error_set(err, SS_EINVAL, "tolfun %g is not a non-negative number", s->tolfun);
    if (!(s->tolx >= 0 && s->tolx <= 1))
        return ss_error_set(err, SS_EINVAL, "tolx %g is not in [0, 1]", s->tolx);
    return SS_OK;
}

static size_t start_pop(const ss_l2l_opt_type *t, size_t dim, const ss_l2l_opt_settings *s)
{
    return s->pop ? s->pop : t->default_pop(dim);
}

int ss_l2l_opt_settings_check(const ss_l2l_opt_type *t, size_t dim, const ss_l2l_opt_settings *s,
                              ss_error *err)
{
    if (!t || !s)
        return ss_error_set(err, SS_EINVAL, "no optimizer type or settings");
    if (dim < 1 || dim > 10000)
        return ss_error_set(err, SS_EINVAL, "%s: %zu parameters is not in 1..10000", t->name, dim);
    int rc = check_settings(s, err);
    if (rc)
        return ss_error_prefix(err, rc, "%s", t->name);
    size_t pop = start_pop(t, dim, s);
    if (pop < 2 && t != &random_type && t != &grid_type)
        return ss_error_set(err, SS_EINVAL, "%s: population %zu is below 2", t->name, pop);
    if (t == &l2li_ga_type && s->elite >= pop)
        return ss_error_set(err, SS_EINVAL, "ga: %zu elite individuals leave no room in a "
                            "population of %zu", s->elite, pop);
    if (t == &l2li_cmaes_type && s->restarts && (pop << s->restarts) > 1000000)
        return ss_error_set(err, SS_EINVAL, "cmaes: %zu restarts from a population of %zu "
                            "reach more than 1000000", s->restarts, pop);
    return SS_OK;
}

ss_l2l_opt *ss_l2l_opt_alloc(const ss_l2l_opt_type *t, size_t dim, const double *u0,
                             const ss_l2l_opt_settings *s, uint64_t seed, ss_error *err)
{
    ss_l2l_opt_settings def = SS_L2L_OPT_SETTINGS_INIT;
    if (!t) {
        ss_error_set(err, SS_EINVAL, "no optimizer type");
        return NULL;
    }
    if (!s)
        s = &def;
    if (dim < 1 || dim > 10000) {
        ss_error_set(err, SS_EINVAL, "%s: %zu parameters is not in 1..10000", t->name, dim);
        return NULL;
    }
    if (ss_l2l_opt_settings_check(t, dim, s, err))
        return NULL;
    for (size_t i = 0; u0 && i < dim; i++)
        if (!(u0[i] >= 0 && u0[i] <= 1)) {
            ss_error_set(err, SS_EINVAL, "%s: start value %zu (%g) is not in [0, 1]", t->name,
                         i + 1, u0[i]);
            return NULL;
        }
    ss_l2l_opt *o = calloc(1, sizeof *o);
    if (!o || !(o->u0 = malloc(dim * sizeof *o->u0)) || !(o->rng = gsl_rng_alloc(gsl_rng_mt19937))) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        ss_l2l_opt_free(o);
        return NULL;
    }
    o->type = t;
    o->dim = dim;
    o->set = *s;
    o->seed = seed;
    o->pop = o->pop0 = start_pop(t, dim, s);
    for (size_t i = 0; i < dim; i++)
        o->u0[i] = u0 ? u0[i] : 0.5;
    /* mt19937 takes an unsigned long seed; fold all 64 bits in */
    gsl_rng_set(o->rng, (unsigned long)(l2li_mix(seed, 0x6c326c) & 0xffffffffUL));
    int rc = t->init(o, err);
    if (rc) {
        ss_error_prefix(err, rc, "%s", t->name);
        o->state = NULL;
        ss_l2l_opt_free(o);
        return NULL;
    }
    return o;
}

void ss_l2l_opt_free(ss_l2l_opt *o)
{
    if (!o)
        return;
    if (o->state)
        o->type->release(o);
    gsl_rng_free(o->rng);
    free(o->u0);
    free(o);
}

size_t ss_l2l_opt_pop(const ss_l2l_opt *o)
{
    return o->pop;
}

size_t ss_l2l_opt_restarts(const ss_l2l_opt *o)
{
    return o->restarts;
}

size_t ss_l2l_opt_dim(const ss_l2l_opt *o)
{
    return o->dim;
}

uint64_t ss_l2l_opt_generation(const ss_l2l_opt *o)
{
    return o->gen;
}

double ss_l2l_opt_spread(const ss_l2l_opt *o)
{
    return o->type->spread(o);
}

int ss_l2l_opt_type_has_center(const ss_l2l_opt_type *t)
{
    return t && t->center;
}

int ss_l2l_opt_center(const ss_l2l_opt *o, double *u)
{
    if (!o->type->center)
        return 0;
    o->type->center(o, u);
    for (size_t i = 0; i < o->dim; i++)
        u[i] = ss_l2l_reflect(u[i]);
    return 1;
}

int ss_l2l_opt_ask(ss_l2l_opt *o, double *u, size_t *n, ss_error *err)
{
    if (o->asked)
        return ss_error_set(err, SS_EINVAL, "%s: ask twice without a tell", o->type->name);
    int rc = o->type->ask(o, u, n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < *n * o->dim; i++)
        u[i] = ss_l2l_reflect(u[i]);
    o->asked = 1;
    return SS_OK;
}

int ss_l2l_opt_tell(ss_l2l_opt *o, const double *u, const double *f, size_t n, ss_error *err)
{
    if (!o->asked)
        return ss_error_set(err, SS_EINVAL, "%s: tell without an ask", o->type->name);
    if (n > o->pop)
        return ss_error_set(err, SS_EINVAL, "%s: told %zu points, the population is %zu",
                            o->type->name, n, o->pop);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(f[i]))
            return ss_error_set(err, SS_EINVAL, "%s: value %zu is not finite (penalise failed "
                                "evaluations instead)", o->type->name, i);
    int rc = o->type->tell(o, u, f, n, err);
    if (rc)
        return rc;
    o->asked = 0;
    o->gen++;
    return SS_OK;
}

int ss_l2l_opt_save(const ss_l2l_opt *o, ss_buf *out, ss_error *err)
{
    if (o->asked)
        return ss_error_set(err, SS_EINVAL, "%s: cannot save between ask and tell",
                            o->type->name);
    const ss_l2l_opt_settings *s = &o->set;
    double real[] = {s->sigma0, s->rho, s->smoothing, s->noise, s->noise_decay, s->cx_prob,
                     s->mut_prob, s->mut_sigma};
    int rc = ss_buf_printf(out, "opt.type %s\nopt.int %zu %zu %zu %zu %zu\n", o->type->name,
                           o->dim, o->pop0, s->tournament, s->elite, s->grid_points);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.real", real, sizeof real / sizeof real[0]);
    double tol[2] = {s->tolfun, s->tolx};
    if (!rc)
        rc = l2li_put_u64(out, "opt.restarts", s->restarts);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.tol", tol, 2);
    if (!rc)
        rc = l2li_put_u64(out, "opt.seed", o->seed);
    if (!rc)
        rc = l2li_put_u64(out, "opt.gen", o->gen);
    if (!rc)
        rc = l2li_put_doubles(out, "opt.u0", o->u0, o->dim);
    if (!rc)
        rc = l2li_put_rng(out, "opt.rng", o->rng);
    if (!rc)
        rc = o->type->save(o, out);
    return rc ? ss_error_set(err, rc, "out of memory") : SS_OK;
}

ss_l2l_opt *ss_l2l_opt_load(const char *text, const char *what, ss_error *err)
{
    l2li_kv kv;
    ss_l2l_opt *o = NULL;
    double *u0 = NULL;
    if (l2li_kv_parse(&kv, text, what, err))
        return NULL;
    const char *name;
    const ss_l2l_opt_type *t = NULL;
    ss_l2l_opt_settings s = SS_L2L_OPT_SETTINGS_INIT;
    double real[8];
    size_t dim = 0;
    uint64_t seed, gen;
    if (l2li_kv_str(&kv, "opt.type", &name, err))
        goto out;
    if (!(t = ss_l2l_opt_type_find(name))) {
        ss_error_set(err, SS_EPARSE, "%s: unknown optimizer '%s'", what, name);
        goto out;
    }
    const char *ints;
    if (l2li_kv_str(&kv, "opt.int", &ints, err))
        goto out;
    char extra;
    if (sscanf(ints, "%zu %zu %zu %zu %zu %c", &dim, &s.pop, &s.tournament, &s.elite,
               &s.grid_points, &extra) != 5 || dim < 1 || dim > 10000) {
        ss_error_set(err, SS_EPARSE, "%s: bad 'opt.int' line", what);
        goto out;
    }
    if (l2li_kv_doubles(&kv, "opt.real", real, 8, err) || l2li_kv_u64(&kv, "opt.seed", &seed, err) ||
        l2li_kv_u64(&kv, "opt.gen", &gen, err))
        goto out;
    s.sigma0 = real[0], s.rho = real[1], s.smoothing = real[2], s.noise = real[3];
    s.noise_decay = real[4], s.cx_prob = real[5], s.mut_prob = real[6], s.mut_sigma = real[7];
    /* checkpoints written before restarts existed have neither line */
    const char *line;
    if (!l2li_kv_str(&kv, "opt.restarts", &line, NULL)) {
        uint64_t nr;
        double tol[2];
        if (l2li_kv_u64(&kv, "opt.restarts", &nr, err) || l2li_kv_doubles(&kv, "opt.tol", tol, 2, err))
            goto out;
        s.restarts = (size_t)nr;
        s.tolfun = tol[0], s.tolx = tol[1];
    }
    if (!(u0 = malloc(dim * sizeof *u0))) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    if (l2li_kv_doubles(&kv, "opt.u0", u0, dim, err))
        goto out;
    if (!(o = ss_l2l_opt_alloc(t, dim, u0, &s, seed, err))) {
        ss_error_prefix(err, err ? err->code : SS_EINVAL, "%s", what);
        goto out;
    }
    o->gen = gen;
    if (l2li_kv_rng(&kv, "opt.rng", o->rng, err) || t->load(o, &kv, err)) {
        ss_l2l_opt_free(o);
        o = NULL;
    }
out:
    free(u0);
    l2li_kv_release(&kv);
    return o;
}

/* ---- Nelder-Mead polish --------------------------------------------------------------- */

typedef struct polish_ctx {
    size_t dim, evals, max_evals;
    ss_l2l_objective f;
    void *user;
    int rc;
    double *u, *best, fbest;
} polish_ctx;

static double polish_f(const gsl_vector *v, void *params)
{
    polish_ctx *c = params;
    if (c->rc || c->evals >= c->max_evals)
        return DBL_MAX; /* out of budget: let the simplex finish its step */
    for (size_t i = 0; i < c->dim; i++)
        c->u[i] = ss_l2l_reflect(gsl_vector_get(v, i));
    double y = DBL_MAX;
    c->evals++;
    int rc = c->f(c->user, c->u, &y);
    if (rc) {
        c->rc = rc;
        return DBL_MAX;
    }
    if (!isfinite(y))
        y = DBL_MAX;
    if (y < c->fbest) {
        c->fbest = y;
        memcpy(c->best, c->u, c->dim * sizeof *c->u);
    }
    return y;
}

int ss_l2l_polish(size_t dim, double *u, double *fu, double step, size_t max_evals,
                  ss_l2l_objective f, void *user, size_t *evals, ss_error *err)
{
    if (evals)
        *evals = 0;
    if (!dim || !(step > 0) || !f)
        return ss_error_set(err, SS_EINVAL, "polish: bad arguments");
    if (max_evals < dim + 2)
        return SS_OK; /* not even one simplex */
    polish_ctx c = {dim, 0, max_evals, f, user, SS_OK, NULL, NULL, *fu};
    gsl_multimin_fminimizer *m = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2,
                                                               dim);
    gsl_vector *x = gsl_vector_alloc(dim), *ss = gsl_vector_alloc(dim);
    c.u = malloc(dim * sizeof *c.u);
    c.best = malloc(dim * sizeof *c.best);
    int rc = SS_OK;
    if (!m || !x || !ss || !c.u || !c.best) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(c.best, u, dim * sizeof *u);
    for (size_t i = 0; i < dim; i++)
        gsl_vector_set(x, i, u[i]);
    gsl_vector_set_all(ss, step);
    gsl_multimin_function fn = {polish_f, dim, &c};
    int st = gsl_multimin_fminimizer_set(m, &fn, x, ss);
    while (st == GSL_SUCCESS && !c.rc && c.evals < c.max_evals) {
        st = gsl_multimin_fminimizer_iterate(m);
        if (st == GSL_SUCCESS &&
            gsl_multimin_test_size(gsl_multimin_fminimizer_size(m), 1e-12) == GSL_SUCCESS)
            break;
    }
    if (c.rc) {
        rc = c.rc;
        goto out;
    }
    memcpy(u, c.best, dim * sizeof *u);
    *fu = c.fbest;
out:
    if (evals)
        *evals = c.evals;
    free(c.u);
    free(c.best);
    gsl_vector_free(x);
    gsl_vector_free(ss);
    gsl_multimin_fminimizer_free(m);
    return rc;
}
