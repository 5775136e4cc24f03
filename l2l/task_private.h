/* task_private.h: internals shared by the hardware task families of l2l/
 * (task_lut.c, task_bandit.c, task_arm.c) and the registry in task.c. */
#ifndef SS_L2L_TASK_PRIVATE_H
#define SS_L2L_TASK_PRIVATE_H

#include "l2l/l2l_private.h"

struct ss_device;
struct ss_engine;

/* Family constructors for the registry (names "bandit-...", "arm-oneshot",
 * "faults"). */
L2LI_HIDDEN ss_l2l_task *l2li_bandit_alloc(const char *name, ss_error *err);
L2LI_HIDDEN ss_l2l_task *l2li_arm_alloc(const char *name, ss_error *err);

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
