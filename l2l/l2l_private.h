/* l2l_private.h: internals shared by the files of l2l/ (prefix l2li_):
 * checkpoint text, optimizer types, and the building blocks of the hardware
 * task families (task_lut.c, lut_store.c, task_bandit.c, task_arm.c, the
 * registry in task.c). */
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

/* ---- hardware tasks ---------------------------------------------------------- */

struct ss_engine;

/* Family constructors for the registry (names "bandit-...", "arm-oneshot",
 * "faults", "hebbian-memory"). */
L2LI_HIDDEN ss_l2l_task *l2li_bandit_alloc(const char *name, ss_error *err);
L2LI_HIDDEN ss_l2l_task *l2li_arm_alloc(const char *name, ss_error *err);
L2LI_HIDDEN ss_l2l_task *l2li_hebb_alloc(const char *name, ss_error *err);

/* Sets a VTEAM (w0) or Yakopcic (x0) device's initial normalised state. */
L2LI_HIDDEN int l2li_device_set_state(struct ss_device *d, double x, ss_error *err);

/* The (fractional) number of pulses that moves a device from x_from to x_to
 * along the lookup's curve, extrapolated past its ends by the first and last
 * steps; 0 if x_to does not lie in the lookup's direction. */
L2LI_HIDDEN double l2li_lut_pulses(const ss_l2l_pulse_lut *lut, double x_from, double x_to);

/* A nominal device's conductance curve g(x) at a read voltage, tabulated, and
 * its inverse: the state a driver infers from a read (its calibration). */
#define L2LI_GTABLE 1000
typedef struct l2li_gtable {
    double g[L2LI_GTABLE + 1]; /* g at x = k / L2LI_GTABLE (VTEAM: decreasing) */
} l2li_gtable;
L2LI_HIDDEN void l2li_gtable_init(l2li_gtable *t, const struct ss_device *d, double v_read);
L2LI_HIDDEN double l2li_gtable_g(const l2li_gtable *t, double x);
L2LI_HIDDEN double l2li_gtable_state(const l2li_gtable *t, double g);

/* A hardware task's memristor (ss_l2l_task_set_device): the nominal device,
 * its literature variation without stuck cells (the tasks draw their own
 * faults) and the driver's calibration at the variation's v_read.  The
 * hardware tasks' data structs start with it. */
typedef struct l2li_hw {
    ss_device nominal;
    ss_device_variation var;
    double g_on, g_off; /* nominal conductance range at var.v_read */
    l2li_gtable gt;     /* nominal g(x) at var.v_read: the write controller's calibration */
} l2li_hw;
/* The set_device of the hardware tasks: t->data points to a struct that
 * starts with an l2li_hw. */
L2LI_HIDDEN int l2li_hw_set_device(ss_l2l_task *t, const ss_device *d, ss_error *err);

/* A few pulse lookups keyed by a hash of the device and pulse parameters
 * (per worker process; round-robin replacement).  With `dir` set (the
 * task's cache_dir), a miss looks for DIR/lut-<key>.txt before measuring,
 * and a measured lookup is stored there (l2li_lut_load, l2li_lut_save). */
#define L2LI_LUT_CACHE 8
typedef struct l2li_lut_cache {
    uint64_t key[L2LI_LUT_CACHE];
    ss_l2l_pulse_lut lut[L2LI_LUT_CACHE];
    size_t next, hits, misses;
    const char *dir; /* borrowed; NULL: memory only */
    size_t loaded;   /* misses answered from dir */
    size_t rejected; /* files in dir that were damaged or of other inputs (measured again) */
    size_t unsaved;  /* measured lookups that could not be stored */
} l2li_lut_cache;

/* What a lookup was measured for: the stored file must match all of it. */
typedef struct l2li_lut_id {
    const struct ss_device *d;
    double x_start, amp, width, series_r;
    size_t npulses;
    int spice; /* 1: ngspice, 0: the C model */
} l2li_lut_id;

/* DIR/lut-<key as 16 hex digits>.txt into buf (size n); SS_EINVAL if too long. */
L2LI_HIDDEN int l2li_lut_path(char *buf, size_t n, const char *dir, uint64_t key, ss_error *err);
/* Reads the stored lookup for `key`: SS_ENOTFOUND when there is none,
 * SS_EPARSE when the file is damaged (first line, checksum, values) or was
 * made for other inputs than `id`.  lut is released first and empty on
 * failure. */
L2LI_HIDDEN int l2li_lut_load(const char *dir, uint64_t key, const l2li_lut_id *id,
                              ss_l2l_pulse_lut *lut, ss_error *err);
/* Stores a lookup atomically (temporary file + rename; concurrent workers
 * storing the same key write the same bytes). */
L2LI_HIDDEN int l2li_lut_save(const char *dir, uint64_t key, const l2li_lut_id *id,
                              const ss_l2l_pulse_lut *lut, ss_error *err);
/* The cache's side of it (nothing without c->dir): fills slot `slot` from
 * the stored file and returns 1, or returns 0 (none, or damaged: counted in
 * c->rejected); stores the lookup in `slot` after a measurement. */
L2LI_HIDDEN int l2li_lut_cache_load(l2li_lut_cache *c, size_t slot, uint64_t key,
                                    const l2li_lut_id *id);
L2LI_HIDDEN void l2li_lut_cache_store(l2li_lut_cache *c, size_t slot, uint64_t key,
                                      const l2li_lut_id *id);

L2LI_HIDDEN void l2li_lut_cache_release(l2li_lut_cache *c);
/* The lookup for these parameters, measured on a miss (eng NULL: the C
 * model).  The pointer stays valid until the next call. */
L2LI_HIDDEN const ss_l2l_pulse_lut *l2li_lut_cache_get(l2li_lut_cache *c, struct ss_engine *eng,
                                                       const struct ss_device *d, double x_start,
                                                       double amp, double width,
                                                       double series_r, size_t npulses,
                                                       ss_error *err);

#endif
