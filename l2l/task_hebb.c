/* task_hebb.c: the hebbian-memory family: one-shot storage and recall of
 * key-value pairs in a plastic memristive crossbar of the network layer.
 *
 * An instance is P pairs of sparse binary patterns (16-bit keys and values,
 * 3 active bits each) and a chip: a 16 x 16 crossbar of memristors drawn
 * from the nominal device with device-to-device spread, cycle-to-cycle write
 * noise and stuck-ON/OFF cells (devices/ variability, the literature figures
 * scaled by the fixed parameters `spread` and `stuck`), with line
 * resistance.  Storage: one presentation of each pair; the key neurons fire
 * once and a teacher current makes the value neurons (LIF) fire once; the
 * crossbar's pair rule (ss_network_plasticity) writes every cell of a
 * firing value neuron's column whose key row fired just before with a SET
 * pulse of -v_write volts and t_write times the key's trace (a transient of
 * the whole crossbar, V/3 half-select scheme).  Recall: the stored
 * conductances as a static crossbar between the same populations; each key
 * alone; a value bit reads 1 if its LIF neuron fires before the next key.
 * Metric: balanced bit error 1/2 (missed ones / ones + false ones /
 * zeros) over the instance's pairs (0: perfect; 0.5: no better than a
 * constant answer). */
#include "l2l/l2l_private.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosim/network/ss_network.h"
#include "devices/ss_devices.h"

#define HEBB_N 16          /* key bits (crossbar rows) */
#define HEBB_M 16          /* value bits (columns) */
#define HEBB_K 3           /* active key bits */
#define HEBB_L 3           /* active value bits */
#define HEBB_PAIRS_MAX 40
#define T_STORE 0.2        /* s per pair in storage: the traces (20 ms) fall below 1e-3 */
#define T_RECALL 0.1       /* s per key in recall */
#define T_READ 400e-9      /* read pulse (s) */
#define TAU_TRACE 20e-3
#define X0 0.9             /* initial state of every cell (near the OFF end) */
#define TEACH_AMP 20e-9    /* teacher current (A): one spike within TEACH_LEN */
#define TEACH_ON 0.5e-3
#define TEACH_LEN 2e-3

enum { P_V_WRITE, P_T_WRITE, P_V_READ, P_V_TH, P_SPREAD, P_STUCK, P_RWIRE, P_NPARAM };

static const ss_l2l_param hebb_params[P_NPARAM] = {
    {"v_write", 0.4, 1.6, 1.0, 0},             /* SET pulse amplitude (V, applied negative) */
    {"t_write", 1e-7, 3e-5, 1e-5, SS_L2L_LOG}, /* SET pulse width at trace 1 (s) */
    {"v_read", 0.03, 0.3, 0.1, 0},             /* read pulse amplitude (V) */
    {"v_th", 1e-3, 60e-3, 10e-3, SS_L2L_LOG},  /* readout threshold above rest (V); init: alloc */
    {"spread", 0, 1, 1, SS_L2L_FIXED},  /* x literature spread, c2c noise, read noise, levels */
    {"stuck", 0, 1, 1, SS_L2L_FIXED},   /* x literature stuck-ON/OFF rates */
    {"rwire", 0, 20, 2, SS_L2L_FIXED},  /* line resistance per cell (ohm) */
};

typedef struct hebb_data {
    l2li_hw hw; /* first: l2li_hw_set_device */
    size_t pairs;
} hebb_data;

typedef struct hebb_task {
    ss_l2l_task t;
    hebb_data h;
    ss_l2l_param params[P_NPARAM];
} hebb_task;

static void choose(gsl_rng *r, unsigned char *bits, size_t n, size_t k)
{
    memset(bits, 0, n);
    for (size_t c = 0; c < k;) {
        size_t i = gsl_rng_uniform_int(r, n);
        if (!bits[i])
            bits[i] = 1, c++;
    }
}

int ss_l2l_hebb_patterns(const ss_l2l_task *t, uint64_t seed, unsigned char *key,
                         unsigned char *val, ss_error *err)
{
    if (strncmp(t->name, "hebbian-memory", 14))
        return ss_error_set(err, SS_EINVAL, "task '%s' is not hebbian-memory", t->name);
    const hebb_data *h = t->data;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    gsl_rng_set(r, (unsigned long)l2li_mix(seed, 0x68656262));
    for (size_t p = 0; p < h->pairs; p++) {
        choose(r, key + p * HEBB_N, HEBB_N, HEBB_K);
        choose(r, val + p * HEBB_M, HEBB_M, HEBB_L);
    }
    gsl_rng_free(r);
    return SS_OK;
}

size_t ss_l2l_hebb_pairs(const ss_l2l_task *t)
{
    return strncmp(t->name, "hebbian-memory", 14) ? 0 : ((const hebb_data *)t->data)->pairs;
}

/* The readout neurons: LIF with the threshold v_th above rest. */
static ss_lif_params readout(double v_th)
{
    ss_lif_params lp = SS_LIF_DEFAULTS;
    lp.v_th = lp.v_rest + v_th;
    lp.t_ref = 3e-3;
    return lp;
}

/* *net: a network of the key neurons (key p fires at p * period) and the
 * value neurons (readout LIF); NULL on failure. */
static int layers(const ss_l2l_task *t, const double *x, const unsigned char *key,
                  double period, ss_network **netp, size_t *kpop, size_t *vpop, ss_error *err)
{
    size_t np = ((const hebb_data *)t->data)->pairs, c = 0;
    size_t *ids = malloc(np * HEBB_K * sizeof *ids);
    double *times = malloc(np * HEBB_K * sizeof *times);
    ss_network *net = NULL;
    int rc = SS_OK;
    if (!ids || !times)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else if (!(net = ss_network_alloc(err)))
        rc = SS_ENOMEM;
    else {
        for (size_t p = 0; p < np; p++)
            for (size_t i = 0; i < HEBB_N; i++)
                if (key[p * HEBB_N + i])
                    ids[c] = i, times[c] = (double)p * period, c++;
        ss_lif_params lp = readout(x[P_V_TH]);
        if ((rc = ss_network_add_times(net, "key", HEBB_N, ids, times, c, kpop, err)) ||
            (rc = ss_network_add_lif(net, "value", HEBB_M, &lp, vpop, err))) {
            ss_network_free(net);
            net = NULL;
        }
    }
    free(ids);
    free(times);
    *netp = net;
    return rc;
}

static int store(const ss_l2l_task *t, const double *x, uint64_t seed, const unsigned char *key,
                 const unsigned char *val, double *g, ss_error *err)
{
    const hebb_data *h = t->data;
    size_t kpop, vpop, proj;
    ss_network *net;
    int rc = layers(t, x, key, T_STORE, &net, &kpop, &vpop, err);
    if (rc)
        return rc;
    ss_device_variation var = h->hw.var;
    double s = x[P_SPREAD];
    for (size_t i = 0; i < var.nspread; i++)
        var.spread[i].sigma *= s;
    var.c2c_sigma *= s;
    var.read_sigma *= s;
    if (s == 0)
        var.levels = 0;
    ss_device_variation lit;
    ss_device_variation_literature(&lit, h->hw.nominal.type);
    var.p_stuck_on = lit.p_stuck_on * x[P_STUCK];
    var.p_stuck_off = lit.p_stuck_off * x[P_STUCK];
    ss_crossbar_spec spec = {HEBB_N, HEBB_M, x[P_RWIRE], 10, 10};
    double x0[HEBB_N * HEBB_M];
    for (size_t k = 0; k < HEBB_N * HEBB_M; k++)
        x0[k] = X0;
    ss_network_plasticity rule = {-x[P_V_WRITE], x[P_V_WRITE], x[P_T_WRITE], TAU_TRACE,
                                  TAU_TRACE, 1.0 / 3, 0, 1e-3};
    if ((rc = ss_network_connect_memristive(net, kpop, vpop, &spec, &h->hw.nominal, &var, x0,
                                            x[P_V_READ], T_READ, 1e-4, &rule,
                                            (unsigned long)l2li_mix(seed, 0x63686970), &proj,
                                            err)))
        goto out;
    for (size_t p = 0; p < h->pairs; p++)
        for (size_t j = 0; j < HEBB_M; j++)
            if (val[p * HEBB_M + j] &&
                (rc = ss_network_add_step(net, vpop, j, (double)p * T_STORE + TEACH_ON,
                                          (double)p * T_STORE + TEACH_ON + TEACH_LEN, TEACH_AMP,
                                          err)))
                goto out;
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    opt.seed = (unsigned long)l2li_mix(seed, 0x6e6f6973);
    if ((rc = ss_network_run(net, (double)h->pairs * T_STORE, &opt, err)))
        goto out;
    ss_network_crossbar_states(net, proj, NULL, g, NULL, NULL);
out:
    ss_network_free(net);
    return rc;
}

static int recall(const ss_l2l_task *t, const double *x, const unsigned char *key,
                  const double *g, unsigned char *out, ss_error *err)
{
    const hebb_data *h = t->data;
    size_t kpop, vpop;
    ss_network *net;
    int rc = layers(t, x, key, T_RECALL, &net, &kpop, &vpop, err);
    if (rc)
        return rc;
    ss_crossbar_spec spec = {HEBB_N, HEBB_M, x[P_RWIRE], 10, 10};
    if ((rc = ss_network_connect_crossbar(net, kpop, vpop, &spec, g, x[P_V_READ], T_READ, 1e-4,
                                          err)))
        goto out;
    ss_network_options opt = SS_NETWORK_OPTIONS_DEFAULT;
    if ((rc = ss_network_run(net, (double)h->pairs * T_RECALL, &opt, err)))
        goto out;
    memset(out, 0, h->pairs * HEBB_M);
    size_t ns = ss_network_nspikes(net);
    for (size_t k = 0; k < ns; k++) {
        double ts;
        size_t pop, idx;
        ss_network_spike(net, k, &ts, &pop, &idx);
        size_t p = (size_t)(ts / T_RECALL);
        if (pop == vpop && p < h->pairs)
            out[p * HEBB_M + idx] = 1;
    }
out:
    ss_network_free(net);
    return rc;
}

double ss_l2l_hebb_error(const unsigned char *val, const unsigned char *out, size_t pairs)
{
    double ones = 0, zeros = 0, miss = 0, extra = 0;
    for (size_t k = 0; k < pairs * HEBB_M; k++) {
        if (val[k])
            ones++, miss += !out[k];
        else
            zeros++, extra += out[k] != 0;
    }
    return 0.5 * (miss / ones + extra / zeros);
}

int ss_l2l_hebb_run(const ss_l2l_task *t, const double *x, uint64_t seed, unsigned char *out,
                    double *g, double *metric, ss_error *err)
{
    if (strncmp(t->name, "hebbian-memory", 14))
        return ss_error_set(err, SS_EINVAL, "task '%s' is not hebbian-memory", t->name);
    const hebb_data *h = t->data;
    size_t np = h->pairs;
    unsigned char *key = malloc(np * HEBB_N), *val = malloc(np * HEBB_M);
    unsigned char *o = out ? out : malloc(np * HEBB_M);
    double gl[HEBB_N * HEBB_M];
    int rc;
    if (!key || !val || !o)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else if (!(rc = ss_l2l_hebb_patterns(t, seed, key, val, err)) &&
             !(rc = store(t, x, seed, key, val, gl, err)) &&
             !(rc = recall(t, x, key, gl, o, err))) {
        if (g)
            memcpy(g, gl, sizeof gl);
        *metric = ss_l2l_hebb_error(val, o, np);
    }
    free(key);
    free(val);
    if (o != out)
        free(o);
    return rc;
}

static int hebb_evaluate(const ss_l2l_task *t, void *state, const double *x, uint64_t seed,
                         double *metric, ss_error *err)
{
    (void)state;
    return ss_l2l_hebb_run(t, x, seed, NULL, NULL, metric, err);
}

/* Peak of the readout's membrane (above rest) after charge q arrives on
 * its exponential synapse: r_m q/(tau_m - tau_syn) (e^-t/tau_m - e^-t/tau_syn)
 * at its maximum. */
static double lif_peak(double q)
{
    ss_lif_params lp = SS_LIF_DEFAULTS;
    double tm = lp.tau_m, ts = lp.tau_syn;
    double tp = tm * ts * log(tm / ts) / (tm - ts);
    return lp.r_m * (q / ts) * ts / (tm - ts) * (exp(-tp / tm) - exp(-tp / ts));
}

static void hebb_destroy(ss_l2l_task *t)
{
    free(t);
}

ss_l2l_task *l2li_hebb_alloc(const char *name, ss_error *err)
{
    double pairs = 8;
    if (strcmp(name, "hebbian-memory")) {
        if (strncmp(name, "hebbian-memory:", 15) || ss_util_parse_double(name + 15, &pairs) ||
            !(pairs >= 1 && pairs <= HEBB_PAIRS_MAX) || pairs != floor(pairs)) {
            ss_error_set(err, SS_EINVAL, "task '%s': the number of pairs must be a whole "
                         "number in [1, %d] (hebbian-memory[:PAIRS])", name, HEBB_PAIRS_MAX);
            return NULL;
        }
    }
    hebb_task *ht = calloc(1, sizeof *ht);
    if (!ht) {
        ss_error_set(err, SS_ENOMEM, "out of memory");
        return NULL;
    }
    ss_l2l_task *t = &ht->t;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->metric = "bit_error";
    memcpy(ht->params, hebb_params, sizeof ht->params);
    t->params = ht->params;
    t->nparams = P_NPARAM;
    t->ntrain = 4;
    t->nval = 16;
    t->ntest = 64;
    t->evaluate = hebb_evaluate;
    t->destroy = hebb_destroy;
    t->data = &ht->h;
    ht->h.pairs = (size_t)pairs;
    t->set_device = l2li_hw_set_device;
    ss_device d;
    ss_device_init(&d, ss_device_vteam);
    if (ss_device_set_list(&d, "r_on=10k r_off=1meg v_on=-0.2 v_off=0.3 k_on=-1.8e-5 "
                           "k_off=9e-5 alpha_on=3 alpha_off=3 w_off=3n", err) ||
        l2li_hw_set_device(t, &d, err)) {
        free(ht);
        return NULL;
    }
    /* The hand-set readout threshold: half-way between K - 1 and K fully
     * SET cells of the nominal device at the initial read pulse. */
    double q_on = ht->params[P_V_READ].init * ht->h.hw.g_on * T_READ;
    ht->params[P_V_TH].init = lif_peak((HEBB_K - 0.5) * q_on);
    return t;
}
