/* l2l_private.h: internals shared by the files of l2l/ (prefix l2li_). */
#ifndef SS_L2L_PRIVATE_H
#define SS_L2L_PRIVATE_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

#include "l2l/ss_l2l.h"

#define L2LI_HIDDEN __attribute__((visibility("hidden")))

/* ---- key-value text (checkpoints) ------------------------------------------ */

/* A text of lines "key value value ...": parsed once, then looked up by
 * key.  Errors name `what` and the line. */
typedef struct l2li_kv_line {
    char *key;
    char *val; /* the rest of the line, leading blanks skipped */
    size_t line;
} l2li_kv_line;

typedef struct l2li_kv {
    const char *what;
    char *text; /* owned copy, cut into keys and values */
    l2li_kv_line *lines;
    size_t n;
} l2li_kv;

L2LI_HIDDEN int l2li_kv_parse(l2li_kv *kv, const char *text, const char *what, ss_error *err);
L2LI_HIDDEN void l2li_kv_release(l2li_kv *kv);
/* Missing keys are errors ("what: no 'key'"). */
L2LI_HIDDEN int l2li_kv_str(const l2li_kv *kv, const char *key, const char **val, ss_error *err);
L2LI_HIDDEN int l2li_kv_u64(const l2li_kv *kv, const char *key, uint64_t *v, ss_error *err);
L2LI_HIDDEN int l2li_kv_size(const l2li_kv *kv, const char *key, size_t *v, ss_error *err);
/* Exactly n doubles (inf/nan allowed as written by l2li_put_doubles). */
L2LI_HIDDEN int l2li_kv_doubles(const l2li_kv *kv, const char *key, double *v, size_t n,
                                ss_error *err);
L2LI_HIDDEN int l2li_kv_double(const l2li_kv *kv, const char *key, double *v, ss_error *err);

L2LI_HIDDEN int l2li_put_doubles(ss_buf *b, const char *key, const double *v, size_t n);
L2LI_HIDDEN int l2li_put_u64(ss_buf *b, const char *key, uint64_t v);

/* RNG state as "<name> <hex bytes>" and back (same generator type). */
L2LI_HIDDEN int l2li_put_rng(ss_buf *b, const char *key, const gsl_rng *r);
L2LI_HIDDEN int l2li_kv_rng(const l2li_kv *kv, const char *key, gsl_rng *r, ss_error *err);

/* Sealed texts (checkpoints, stored lookups): the first line is `magic`,
 * the last "end <FNV-1a of everything before it>".  l2li_seal appends that
 * line; l2li_check_seal reports a wrong first line ("what:1: not <kind>"),
 * a missing last line ("truncated") or a wrong hash ("checksum mismatch"). */
L2LI_HIDDEN int l2li_seal(ss_buf *b);
L2LI_HIDDEN int l2li_check_seal(const char *text, size_t len, const char *magic, const char *kind,
                                const char *what, ss_error *err);

/* FNV-1a 64-bit hash and a mixer for seeds. */
L2LI_HIDDEN uint64_t l2li_fnv(const void *data, size_t len);
L2LI_HIDDEN uint64_t l2li_mix(uint64_t a, uint64_t b);

/* ---- optimizer types ------------------------------------------------------------ */

struct ss_l2l_opt {
    const ss_l2l_opt_type *type;
    size_t dim, pop; /* pop: the current population (CMA-ES restarts grow it) */
    size_t pop0;     /* the population it started with */
    size_t restarts; /* CMA-ES restarts so far */
    ss_l2l_opt_settings set;
    uint64_t seed, gen;
    int asked;   /* an ask is waiting for its tell */
    gsl_rng *rng;
    double *u0;  /* start point (dim) */
    void *state; /* the type's */
};

struct ss_l2l_opt_type {
    const char *name;
    size_t (*default_pop)(size_t dim);
    /* Checks settings, allocates o->state (o->pop and o->u0 are set). */
    int (*init)(ss_l2l_opt *o, ss_error *err);
    int (*ask)(ss_l2l_opt *o, double *u, size_t *n, ss_error *err);
    int (*tell)(ss_l2l_opt *o, const double *u, const double *f, size_t n, ss_error *err);
    int (*save)(const ss_l2l_opt *o, ss_buf *out);
    /* Restores o->state after init from the checkpoint lines. */
    int (*load)(ss_l2l_opt *o, const l2li_kv *kv, ss_error *err);
    double (*spread)(const ss_l2l_opt *o);
    void (*release)(ss_l2l_opt *o);
    /* The distribution's centre (dim values, unfolded), NULL when the
     * method has none (GA, random, grid). */
    void (*center)(const ss_l2l_opt *o, double *u);
};

L2LI_HIDDEN extern const ss_l2l_opt_type l2li_cmaes_type, l2li_ce_type, l2li_ga_type;

/* Indices 0..n-1 sorted by f (ascending), ties by index. */
L2LI_HIDDEN void l2li_rank(const double *f, size_t n, size_t *idx);

#endif
