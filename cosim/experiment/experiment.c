/* experiment.c: human-written experiment files (YAML, read with libyaml)
 * turned into a network, with "file:line: what is wrong" for every error. */
#include "cosim/experiment/ss_experiment.h"
#include "circuits/ss_circuits.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include <yaml.h>

struct ctx {
    yaml_document_t doc;
    const char *path;
    ss_error *err;
    gsl_rng *rng;
    unsigned flags;  /* how tile bodies are read (enum ss_netlist_flags) */
    double duration; /* the experiment's, for bounds on sampling */
    double steps;    /* current steps scheduled so far */
    double synapses; /* synapses and crossbar cells made so far */
};

static int line_of(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, const char *a, const char *b)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    return ss_error_set(c->err, SS_EPARSE, "%s:%d: %s", c->path, line_of(n), msg);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Value of key `key` in mapping `map`, or NULL. */
static yaml_node_t *get(struct ctx *c, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(&c->doc, p->key));
        if (k && !strcmp(k, key))
            return yaml_document_get_node(&c->doc, p->value);
    }
    return NULL;
}

/* Every key of `map` must be in `allowed` (a space-separated list). */
static int check_keys(struct ctx *c, yaml_node_t *map, const char *what, const char *allowed)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return fail(c, map, "%s must be a mapping of keys to values", what, NULL);
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&c->doc, p->key);
        const char *k = scalar(kn);
        char padded[256];
        snprintf(padded, sizeof padded, " %s ", k ? k : "");
        char list[512];
        snprintf(list, sizeof list, " %s ", allowed);
        if (!k || !strstr(list, padded)) {
            char msg[600];
            snprintf(msg, sizeof msg, "unknown key '%s' in %s (expected one of: %s)", k ? k : "?",
                     what, allowed);
            return ss_error_set(c->err, SS_EPARSE, "%s:%d: %s", c->path, line_of(kn), msg);
        }
    }
    return SS_OK;
}

static int number(struct ctx *c, yaml_node_t *n, const char *key, double *out)
{
    const char *s = scalar(n);
    if (!s || ss_util_parse_spice_number(s, out))
        return fail(c, n, "'%s' must be a number (got '%s')", key, s ? s : "a list or mapping");
    return SS_OK;
}

static int opt_number(struct ctx *c, yaml_node_t *map, const char *key, double *out)
{
    yaml_node_t *n = get(c, map, key);
    return n ? number(c, n, key, out) : SS_OK;
}

static int count(struct ctx *c, yaml_node_t *n, const char *key, size_t *out)
{
    double v;
    int rc = number(c, n, key, &v);
    if (rc)
        return rc;
    /* the size itself is bounded by the limits (SMALLSIM_MAX_NEURONS, ...) */
    if (!(v >= 1) || v != floor(v) || v > 9007199254740992.0)
        return fail(c, n, "'%s' must be a whole number >= 1 (got '%s')", key, scalar(n));
    *out = (size_t)v;
    return SS_OK;
}

/* A raisable bound (ss_util_limit_check) with this node's file:line. */
static int bounded(struct ctx *c, yaml_node_t *n, int which, double value, const char *what)
{
    int rc = ss_util_limit_check(which, value, c->err, "%s", what);
    return rc ? ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n)) : SS_OK;
}

/* Counts the synapses (or crossbar cells) a projection makes against the
 * limit for the whole network. */
static int add_synapses(struct ctx *c, yaml_node_t *n, double count)
{
    c->synapses += count;
    return bounded(c, n, SS_LIMIT_SYNAPSES, c->synapses,
                   "synapses of all projections (crossbar cells included)");
}

/* A file named in the experiment, relative to the experiment's folder. */
static void relative(const struct ctx *c, const char *f, char *full, size_t size)
{
    const char *slash = strrchr(c->path, '/');
    if (f[0] != '/' && slash)
        snprintf(full, size, "%.*s/%s", (int)(slash - c->path), c->path, f);
    else
        snprintf(full, size, "%s", f);
}

/* A value or a distribution: 2.5e-9 | {uniform: [lo, hi]} | {normal: [mean, sd]}
 * | {lognormal: [median, sigma]} | {file: path} (one value per line). */
static int values(struct ctx *c, yaml_node_t *n, const char *key, size_t count_, double *out)
{
    if (n->type == YAML_SCALAR_NODE) {
        double v;
        int rc = number(c, n, key, &v);
        for (size_t i = 0; !rc && i < count_; i++)
            out[i] = v;
        return rc;
    }
    if (n->type != YAML_MAPPING_NODE || n->data.mapping.pairs.top - n->data.mapping.pairs.start != 1)
        return fail(c, n, "'%s' must be a number or one of {uniform: [lo, hi]}, {normal: [mean, sd]}, "
                          "{lognormal: [median, sigma]}, {file: path}%s", key, "");
    yaml_node_pair_t *p = n->data.mapping.pairs.start;
    yaml_node_t *kn = yaml_document_get_node(&c->doc, p->key), *vn = yaml_document_get_node(&c->doc, p->value);
    const char *kind = scalar(kn);
    if (kind && !strcmp(kind, "file")) {
        const char *f = scalar(vn);
        double *d;
        size_t r, cols;
        if (!f)
            return fail(c, vn, "'%s: file' needs a file name%s", key, "");
        char full[4096];
        relative(c, f, full, sizeof full);
        int rc = ss_util_read_matrix(full, 1, &d, &r, &cols, c->err);
        if (rc)
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(vn));
        if (r * cols != count_) {
            free(d);
            char msg[128];
            snprintf(msg, sizeof msg, "%zu values, %zu needed", r * cols, count_);
            return fail(c, vn, "'%s': %s", f, msg);
        }
        memcpy(out, d, count_ * sizeof *out);
        free(d);
        return SS_OK;
    }
    double a, b;
    if (!vn || vn->type != YAML_SEQUENCE_NODE || vn->data.sequence.items.top - vn->data.sequence.items.start != 2)
        return fail(c, vn ? vn : n, "'%s: %s' needs two numbers, e.g. [1e-6, 1e-4]", key, kind);
    yaml_node_t *an = yaml_document_get_node(&c->doc, vn->data.sequence.items.start[0]);
    yaml_node_t *bn = yaml_document_get_node(&c->doc, vn->data.sequence.items.start[1]);
    int rc = number(c, an, key, &a);
    if (!rc)
        rc = number(c, bn, key, &b);
    if (rc)
        return rc;
    for (size_t i = 0; i < count_; i++) {
        if (kind && !strcmp(kind, "uniform"))
            out[i] = a + (b - a) * gsl_rng_uniform(c->rng);
        else if (kind && !strcmp(kind, "normal"))
            out[i] = a + b * gsl_ran_gaussian(c->rng, 1.0);
        else if (kind && !strcmp(kind, "lognormal"))
            out[i] = a * exp(b * gsl_ran_gaussian(c->rng, 1.0));
        else
            return fail(c, kn, "unknown distribution '%s' for '%s' (uniform, normal, lognormal, file)",
                        kind ? kind : "?", key);
    }
    return SS_OK;
}

/* In the order of the fields of ss_lif_params and ss_dpi_params. */
static const char *const lif_keys[] = {"tau_m", "v_rest", "v_reset", "v_th", "r_m", "tau_syn",
                                       "t_ref", "i_bias", "a", "b", "tau_w", "in_beta", "in_ref"};
static const char *const dpi_keys[] = {"cmem", "itau", "ith", "io", "ispkthr", "ireset",
                                       "kappa", "ut", "iagain", "iath", "ianorm", "cahp",
                                       "itauahp", "ithahp", "iahp_jump", "tau_syn", "t_ref", "i_bias",
                                       "in_beta", "in_ref"};

static int params(struct ctx *c, yaml_node_t *map, int dpi, double *fields)
{
    const char *const *keys = dpi ? dpi_keys : lif_keys;
    size_t nk = dpi ? sizeof dpi_keys / sizeof *dpi_keys : sizeof lif_keys / sizeof *lif_keys;
    char allowed[512] = "";
    for (size_t k = 0; k < nk; k++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s", k ? " " : "", keys[k]);
    int rc = check_keys(c, map, dpi ? "dpi params" : "lif params", allowed);
    for (size_t k = 0; !rc && k < nk; k++)
        rc = opt_number(c, map, keys[k], &fields[k]);
    return rc;
}

/* Reads the YAML file `path` into doc (caller deletes it). */
static int load_doc(const char *path, yaml_document_t *doc, ss_error *err)
{
    /* through the library's one reader: regular files only, size-capped */
    char *text = NULL;
    size_t len = 0;
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, doc))
        rc = ss_error_set(err, SS_EPARSE, "%s:%d: %s", path, (int)parser.problem_mark.line + 1,
                          parser.problem ? parser.problem : "YAML syntax error");
    yaml_parser_delete(&parser);
    free(text);
    return rc;
}

/* params_file: FILE, a model written by `smallsim characterize --extract`
 * ({"model": "lif" or "dpi", "params": {population keys}}; its other keys
 * are the fit's report and are not read), read with the library's JSON
 * reader.  Errors inside it carry its own file:line. */
static int params_file(struct ctx *c, yaml_node_t *fn, int dpi, double *fields)
{
    const char *f = scalar(fn), *kind = dpi ? "dpi" : "lif";
    if (!f)
        return fail(c, fn, "'params_file' needs a file name%s%s", NULL, NULL);
    char full[4096];
    relative(c, f, full, sizeof full);
    json_t *root;
    char *text;
    int rc = ss_json_load(full, &root, &text, c->err);
    if (rc == SS_EIO)
        return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(fn));
    if (rc)
        return rc;
    const char *const *keys = dpi ? dpi_keys : lif_keys;
    size_t nk = dpi ? sizeof dpi_keys / sizeof *dpi_keys : sizeof lif_keys / sizeof *lif_keys;
    const char *mkey[] = {"model"}, *pkey[2] = {"params", NULL};
    json_t *model = json_object_get(root, "model"), *pm = json_object_get(root, "params");
    if (!json_is_object(root))
        rc = ss_error_set(c->err, SS_EPARSE, "%s:1: a model file is an object with 'model' and "
                          "'params' (smallsim characterize --extract)", full);
    else if (!json_is_string(model) || strcmp(json_string_value(model), kind))
        rc = ss_error_set(c->err, SS_EPARSE,
                          "%s:%d: model '%s' cannot be loaded into a population of kind '%s'", full,
                          ss_json_line(text, mkey, 1),
                          json_is_string(model) ? json_string_value(model) : "?", kind);
    else if (!json_is_object(pm))
        rc = ss_error_set(c->err, SS_EPARSE, "%s:%d: a model file needs 'params' (an object)", full,
                          pm ? ss_json_line(text, pkey, 1) : 1);
    const char *key;
    json_t *val;
    if (!rc)
        json_object_foreach(pm, key, val)
        {
            size_t k = 0;
            while (k < nk && strcmp(keys[k], key))
                k++;
            pkey[1] = key;
            int line = ss_json_line(text, pkey, 2);
            if (k == nk) {
                char allowed[512] = "";
                for (size_t j = 0; j < nk; j++)
                    snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                             j ? " " : "", keys[j]);
                rc = ss_error_set(c->err, SS_EPARSE,
                                  "%s:%d: unknown key '%s' in %s params (expected one of: %s)", full,
                                  line, key, kind, allowed);
                break;
            }
            if (json_is_number(val))
                fields[k] = json_number_value(val);
            else if (!json_is_string(val) ||
                     ss_util_parse_spice_number(json_string_value(val), &fields[k])) {
                rc = ss_error_set(c->err, SS_EPARSE, "%s:%d: '%s' must be a number", full, line, key);
                break;
            }
        }
    json_decref(root);
    free(text);
    return rc;
}

/* The optional 'bias:' of population n (a value or a distribution). */
static int set_bias(struct ctx *c, ss_network *net, yaml_node_t *n, size_t pop, size_t size)
{
    yaml_node_t *bias = get(c, n, "bias");
    if (!bias)
        return SS_OK;
    double *b = malloc(size * sizeof *b);
    if (!b)
        return ss_error_set(c->err, SS_ENOMEM, "out of memory");
    int rc = values(c, bias, "bias", size, b);
    if (!rc && (rc = ss_network_set_bias(net, pop, b, c->err)))
        ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(bias));
    free(b);
    return rc;
}

/* The names under `key` (a list of n strings), or NULL when absent. */
static int name_list(struct ctx *c, yaml_node_t *n, const char *key, size_t size, const char ***out)
{
    yaml_node_t *l = get(c, n, key);
    *out = NULL;
    if (!l)
        return SS_OK;
    if (l->type != YAML_SEQUENCE_NODE ||
        (size_t)(l->data.sequence.items.top - l->data.sequence.items.start) != size)
        return fail(c, l, "'%s' needs one name per neuron%s", key, NULL);
    const char **v = calloc(size, sizeof *v);
    if (!v)
        return ss_error_set(c->err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < size; i++) {
        yaml_node_t *e = yaml_document_get_node(&c->doc, l->data.sequence.items.start[i]);
        if (!scalar(e) || !*scalar(e)) {
            free(v);
            return fail(c, e, "'%s' holds names like \"v(x0.vrst)\" or \"iext0\"%s", key, NULL);
        }
        v[i] = scalar(e);
    }
    *out = v;
    return SS_OK;
}

/* input: {shape: exponential | pulse, tau_syn, width, edge, gain} */
static int spice_input(struct ctx *c, yaml_node_t *n, ss_network_spice *sp)
{
    yaml_node_t *in = get(c, n, "input");
    int rc = opt_number(c, n, "tau_syn", &sp->tau_syn);
    if (rc || !in)
        return rc;
    if ((rc = check_keys(c, in, "input", "shape tau_syn width edge gain")))
        return rc;
    yaml_node_t *sh = get(c, in, "shape");
    if (sh) {
        const char *v = scalar(sh);
        if (v && !strcmp(v, "exponential"))
            sp->shape = SS_INPUT_EXPONENTIAL;
        else if (v && !strcmp(v, "pulse"))
            sp->shape = SS_INPUT_PULSE;
        else
            return fail(c, sh, "input shape is 'exponential' or 'pulse' (got '%s')%s",
                        v ? v : "?", NULL);
    }
    if ((rc = opt_number(c, in, "tau_syn", &sp->tau_syn)) ||
        (rc = opt_number(c, in, "width", &sp->width)) ||
        (rc = opt_number(c, in, "edge", &sp->edge)) || (rc = opt_number(c, in, "gain", &sp->gain)))
        return rc;
    return SS_OK;
}

/* The tile called `name`, or SIZE_MAX. */
static size_t tile_named(ss_network *net, const char *name)
{
    for (size_t t = 0; t < ss_network_ntiles(net); t++)
        if (!strcmp(ss_network_tile_name(net, t), name))
            return t;
    return SIZE_MAX;
}

/* circuit: {name: CIRCUIT | FILE, per_tile, biases: {NAME: value}, models,
 * nmos, pmos, temp, vdd, reltol}: the population's neurons built from a
 * library circuit or a designer's netlist (its "* smallsim: like=..."
 * declaration, read by circuits/), per_tile neurons to a tile (default 1:
 * every neuron on its own time steps), each tile with its own bias
 * generator. */
static int circuit_population(struct ctx *c, ss_network *net, yaml_node_t *n, yaml_node_t *cn,
                              const char *nm, size_t size, ss_network_spice *sp, double tmax)
{
    int rc = check_keys(c, cn, "circuit", "name per_tile biases models nmos pmos temp vdd reltol");
    if (rc)
        return rc;
    yaml_node_t *name = get(c, cn, "name"), *bn = get(c, cn, "biases");
    if (!scalar(name))
        return fail(c, cn, "a circuit needs 'name' (a library circuit such as dpi-neuron, or a "
                           "netlist file)%s%s", NULL, NULL);
    const ss_circuit_info *info = ss_circuit_find(scalar(name));
    ss_circuit_info *own = NULL;
    char full[4096], models[4096];
    if (!info) {
        relative(c, scalar(name), full, sizeof full);
        if (access(full, R_OK) != 0)
            return fail(c, name, "'%s' is neither a library circuit nor a readable netlist%s",
                        scalar(name), NULL);
        if (!(info = own = ss_circuit_load(full, c->err)))
            return c->err ? c->err->code : SS_EPARSE;
    }
    ss_circuit_config cfg;
    ss_circuit_config_init(&cfg, info);
    double per = 1, vdd = cfg.vdd;
    const char *mf = scalar(get(c, cn, "models"));
    if (mf) {
        relative(c, mf, models, sizeof models);
        cfg.models = models;
    }
    cfg.nmos = scalar(get(c, cn, "nmos"));
    cfg.pmos = scalar(get(c, cn, "pmos"));
    if ((rc = opt_number(c, cn, "per_tile", &per)) || (rc = opt_number(c, cn, "temp", &cfg.temp)) ||
        (rc = opt_number(c, cn, "vdd", &vdd)) || (rc = opt_number(c, cn, "reltol", &cfg.reltol)))
        goto out;
    if (!(per >= 1) || per != floor(per)) {
        rc = fail(c, get(c, cn, "per_tile"), "'per_tile' is a whole number of neurons, at least 1%s%s",
                  NULL, NULL);
        goto out;
    }
    if (!(vdd > 0)) {
        rc = fail(c, get(c, cn, "vdd"), "'vdd' must be positive%s%s", NULL, NULL);
        goto out;
    }
    cfg.vdd = vdd;
    if (!get(c, n, "threshold"))
        sp->threshold = 0.5 * vdd;
    if (bn && bn->type != YAML_MAPPING_NODE) {
        rc = fail(c, bn, "'biases' is a mapping of the circuit's bias names to currents%s%s", NULL,
                  NULL);
        goto out;
    }
    for (yaml_node_pair_t *p = bn ? bn->data.mapping.pairs.start : NULL;
         !rc && bn && p < bn->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&c->doc, p->key);
        double v;
        if ((rc = number(c, yaml_document_get_node(&c->doc, p->value), scalar(kn), &v)))
            break;
        if ((rc = ss_circuit_set_bias(&cfg, scalar(kn) ? scalar(kn) : "", v, c->err)))
            rc = ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(kn));
    }
    size_t per_tile = (size_t)fmin(per, (double)size), ntiles = (size + per_tile - 1) / per_tile;
    size_t *tiles = malloc(size * sizeof *tiles);
    char **spikes = calloc(size, sizeof *spikes), **inputs = calloc(size, sizeof *inputs);
    if (!rc && (!tiles || !spikes || !inputs))
        rc = ss_error_set(c->err, SS_ENOMEM, "out of memory");
    for (size_t t = 0; !rc && t < ntiles; t++) {
        size_t first = t * per_tile, m = size - first < per_tile ? size - first : per_tile, tile;
        char tname[80], **spk = NULL;
        if (ntiles == 1)
            snprintf(tname, sizeof tname, "%s", nm);
        else
            snprintf(tname, sizeof tname, "%s.%zu", nm, t);
        ss_netlist nl = SS_NETLIST_INIT;
        rc = ss_circuit_tile_netlist(&cfg, m, tname, c->flags, &nl, &spk, c->err);
        if (!rc)
            rc = ss_network_add_tile(net, tname, &nl, tmax, &tile, c->err);
        ss_netlist_release(&nl);
        for (size_t i = 0; spk && i < m; i++) {
            spikes[first + i] = spk[i];
            tiles[first + i] = tile;
            if (!rc && !(inputs[first + i] = malloc(32)))
                rc = ss_error_set(c->err, SS_ENOMEM, "out of memory");
            else if (!rc)
                snprintf(inputs[first + i], 32, "iext%zu", i);
        }
        free(spk);
        if (rc)
            rc = ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(cn));
    }
    size_t pop;
    sp->tile = tiles;
    sp->spike = (const char *const *)spikes;
    sp->input = (const char *const *)inputs;
    if (!rc && (rc = ss_network_add_spice(net, nm, size, sp, &pop, c->err)))
        ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
    if (!rc)
        rc = set_bias(c, net, n, pop, size);
    for (size_t i = 0; i < size; i++) {
        if (spikes)
            free(spikes[i]);
        if (inputs)
            free(inputs[i]);
    }
    free(spikes);
    free(inputs);
    free(tiles);
out:
    ss_circuit_free(own);
    return rc;
}

/* kind: spice.  body: FILE (netlist lines of one tile, screened like a
 * netlist) with spikes: [vector, ...] and inputs: [source, ...] (default
 * iext<k>); tile: NAME shares one tile among populations (the first one
 * that names it gives the body). */
static int spice_population(struct ctx *c, ss_network *net, yaml_node_t *n, const char *nm,
                            size_t size)
{
    ss_network_spice sp = SS_NETWORK_SPICE_DEFAULTS;
    double tmax = 20e-6;
    const char *f = scalar(get(c, n, "body")), *tname = scalar(get(c, n, "tile"));
    const char **spikes = NULL, **inputs = NULL;
    int rc;
    if ((rc = opt_number(c, n, "threshold", &sp.threshold)) || (rc = opt_number(c, n, "tmax", &tmax)) ||
        (rc = spice_input(c, n, &sp)))
        return rc;
    yaml_node_t *cn = get(c, n, "circuit");
    if (cn && (f || tname || get(c, n, "spikes") || get(c, n, "inputs")))
        return fail(c, cn, "population '%s': 'circuit' builds its own tiles (no body, tile, "
                           "spikes or inputs)%s", nm, NULL);
    if (cn)
        return circuit_population(c, net, n, cn, nm, size, &sp, tmax);
    size_t tile = tname ? tile_named(net, tname) : SIZE_MAX;
    if (!f && tile == SIZE_MAX)
        return fail(c, n, "population '%s' needs 'body: FILE' (see smallsim characterize --tile) "
                          "or 'tile:' naming a tile given before%s", nm, NULL);
    if (f && tile != SIZE_MAX)
        return fail(c, get(c, n, "body"), "tile '%s' has its body already%s", tname, NULL);
    if (f) {
        char full[4096];
        relative(c, f, full, sizeof full);
        /* read and screen the body as a netlist (includes resolved, .control refused) */
        ss_netlist nl = SS_NETLIST_INIT;
        if (access(full, R_OK) != 0)
            return fail(c, get(c, n, "body"), "cannot read the tile body '%s'%s", f, NULL);
        if ((rc = ss_netlist_read_file(&nl, full, SS_NETLIST_BODY | c->flags, c->err)))
            return rc;
        rc = ss_network_add_tile(net, tname ? tname : nm, &nl, tmax, &tile, c->err);
        ss_netlist_release(&nl);
        if (rc)
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
    }
    if ((rc = name_list(c, n, "spikes", size, &spikes)) || (rc = name_list(c, n, "inputs", size, &inputs)))
        goto out;
    if (!spikes) {
        rc = fail(c, n, "population '%s' needs 'spikes:' with one vector per neuron%s", nm, NULL);
        goto out;
    }
    size_t *tiles = malloc(size * sizeof *tiles);
    char **dflt = inputs ? NULL : calloc(size, sizeof *dflt);
    if (!tiles || (!inputs && !dflt))
        rc = ss_error_set(c->err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < size; i++) {
        tiles[i] = tile;
        if (dflt && !(dflt[i] = malloc(32)))
            rc = ss_error_set(c->err, SS_ENOMEM, "out of memory");
        else if (dflt)
            snprintf(dflt[i], 32, "iext%zu", i);
    }
    sp.tile = tiles;
    sp.spike = spikes;
    sp.input = inputs ? inputs : (const char *const *)dflt;
    size_t pop;
    if (!rc && (rc = ss_network_add_spice(net, nm, size, &sp, &pop, c->err)))
        ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
    if (!rc)
        rc = set_bias(c, net, n, pop, size);
    for (size_t i = 0; dflt && i < size; i++)
        free(dflt[i]);
    free(dflt);
    free(tiles);
out:
    free(spikes);
    free(inputs);
    return rc;
}

static int population(struct ctx *c, ss_network *net, yaml_node_t *n)
{
    int rc = check_keys(c, n, "a population",
                        "name kind n rate phase stagger times params params_file bias body spikes "
                        "threshold tau_syn tmax tile inputs input circuit");
    if (rc)
        return rc;
    yaml_node_t *name = get(c, n, "name"), *kind = get(c, n, "kind"), *nn = get(c, n, "n");
    if (!scalar(name))
        return fail(c, n, "a population needs a 'name'%s%s", NULL, NULL);
    if (!scalar(kind))
        return fail(c, n, "population '%s' needs a 'kind' (lif, dpi, poisson, regular, times)%s",
                    scalar(name), NULL);
    size_t size = 0, pop;
    if (!nn)
        return fail(c, n, "population '%s' needs 'n'%s", scalar(name), NULL);
    if ((rc = count(c, nn, "n", &size)))
        return rc;
    const char *k = scalar(kind), *nm = scalar(name);
    if (!strcmp(k, "spice") ? (rc = bounded(c, nn, SS_LIMIT_SPICE_NEURONS, (double)size,
                                            "neurons of a SPICE tile"))
                            : (rc = bounded(c, nn, SS_LIMIT_NEURONS, (double)size,
                                            "neurons of a population")))
        return rc;
    if (!strcmp(k, "lif") || !strcmp(k, "dpi")) {
        int dpi = !strcmp(k, "dpi");
        ss_lif_params lp = SS_LIF_DEFAULTS;
        ss_dpi_params dp = SS_DPI_DEFAULTS;
        yaml_node_t *pm = get(c, n, "params"), *pf = get(c, n, "params_file");
        /* the file first, then the population's own params override it */
        if (pf && (rc = params_file(c, pf, dpi, dpi ? &dp.cmem : &lp.tau_m)))
            return rc;
        if (pm && (rc = params(c, pm, dpi, dpi ? &dp.cmem : &lp.tau_m)))
            return rc;
        rc = dpi ? ss_network_add_dpi(net, nm, size, &dp, &pop, c->err)
                 : ss_network_add_lif(net, nm, size, &lp, &pop, c->err);
        if (rc)
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
        return set_bias(c, net, n, pop, size);
    }
    double rate = 0, phase = 0, stagger = 0;
    if (!strcmp(k, "poisson") || !strcmp(k, "regular")) {
        yaml_node_t *r = get(c, n, "rate");
        if (!r)
            return fail(c, n, "population '%s' needs a 'rate' in Hz%s", nm, NULL);
        if ((rc = number(c, r, "rate", &rate)) || (rc = opt_number(c, n, "phase", &phase)) ||
            (rc = opt_number(c, n, "stagger", &stagger)))
            return rc;
        rc = !strcmp(k, "poisson") ? ss_network_add_poisson(net, nm, size, rate, &pop, c->err)
                                   : ss_network_add_regular(net, nm, size, rate, phase, stagger, &pop, c->err);
        return rc ? ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n)) : SS_OK;
    }
    if (!strcmp(k, "spice"))
        return spice_population(c, net, n, nm, size);
    if (!strcmp(k, "times")) {
        /* times: a CSV file of "index,time" rows */
        yaml_node_t *t = get(c, n, "times");
        const char *f = scalar(t);
        if (!f)
            return fail(c, n, "population '%s' needs 'times: FILE' (rows of index,time)%s", nm, NULL);
        char full[4096];
        relative(c, f, full, sizeof full);
        double *d;
        size_t r, cols;
        if ((rc = ss_util_read_matrix(full, 1, &d, &r, &cols, c->err)))
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(t));
        if (cols != 2) {
            free(d);
            return fail(c, t, "'%s' must have two columns: index,time%s", f, NULL);
        }
        size_t *ids = malloc(r * sizeof *ids);
        double *times = malloc(r * sizeof *times);
        for (size_t i = 0; ids && times && i < r; i++) {
            ids[i] = d[2 * i] >= 0 ? (size_t)d[2 * i] : SIZE_MAX;
            times[i] = d[2 * i + 1];
        }
        rc = ids && times ? ss_network_add_times(net, nm, size, ids, times, r, &pop, c->err)
                          : ss_error_set(c->err, SS_ENOMEM, "out of memory");
        if (rc)
            ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(t));
        free(ids);
        free(times);
        free(d);
        return rc;
    }
    return fail(c, kind, "unknown population kind '%s' (lif, dpi, poisson, regular, times, spice)%s", k, NULL);
}

static int find(struct ctx *c, ss_network *net, yaml_node_t *n, const char *key, size_t *pop)
{
    yaml_node_t *v = get(c, n, key);
    if (!scalar(v))
        return fail(c, n, "a projection needs '%s: POPULATION'%s", key, NULL);
    if (ss_network_find_pop(net, scalar(v), pop))
        return fail(c, v, "no population called '%s'%s", scalar(v), NULL);
    return SS_OK;
}

/* The list under 'neurons:' of mapping e, as indices (whole numbers from
 * 0; the network checks them against the population's size). */
static int neuron_list(struct ctx *c, yaml_node_t *e, const char *what, size_t **idx, size_t *count,
                       yaml_node_t ***nodes)
{
    yaml_node_t *nn = get(c, e, "neurons");
    if (!nn || nn->type != YAML_SEQUENCE_NODE)
        return fail(c, e, "%s needs 'neurons: [0, 1, ...]'%s", what, NULL);
    size_t cnt = (size_t)(nn->data.sequence.items.top - nn->data.sequence.items.start);
    *idx = malloc((cnt ? cnt : 1) * sizeof **idx);
    *nodes = malloc((cnt ? cnt : 1) * sizeof **nodes);
    if (!*idx || !*nodes) {
        free(*idx);
        free(*nodes);
        return ss_error_set(c->err, SS_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < cnt; k++) {
        yaml_node_t *x = yaml_document_get_node(&c->doc, nn->data.sequence.items.start[k]);
        double v;
        int rc = number(c, x, "neurons", &v);
        if (rc) {
            free(*idx);
            free(*nodes);
            return rc;
        }
        if (!(v >= 0) || v != floor(v) || v >= 4294967296.0) {
            free(*idx);
            free(*nodes);
            return fail(c, x, "'neurons' holds neuron numbers 0, 1, 2, ... (got '%s')", scalar(x),
                        NULL);
        }
        (*idx)[k] = (size_t)v;
        (*nodes)[k] = x;
    }
    *count = cnt;
    return SS_OK;
}

/* A crossbar of memristors, possibly plastic:
 *   device: {preset: P, model: M, params: "k=v k=v", hard: false}, or
 *   device: {file: fit.json, params: "k=v"} (a model file, ss_device_load)
 *   variation: "p_stuck_on=0.1 c2c_sigma=0.02 spread.r_on=0.25"
 *   x0: 0.5 (or a distribution or file), plasticity: {v_set, v_reset, t_write,
 *   tau_plus, tau_minus, half_select, t_edge, rtol, record_writes} */
static int memristive(struct ctx *c, ss_network *net, yaml_node_t *n, size_t pre, size_t post,
                      size_t npre, size_t npost, double delay)
{
    yaml_node_t *dn = get(c, n, "device");
    int rc = check_keys(c, dn, "device", "preset model params hard file");
    if (rc)
        return rc;
    ss_device d;
    const char *preset = scalar(get(c, dn, "preset")), *model = scalar(get(c, dn, "model"));
    const char *params = scalar(get(c, dn, "params")), *hard = scalar(get(c, dn, "hard"));
    yaml_node_t *fn = get(c, dn, "file");
    if (fn) {
        /* a model file (smallsim fit writes one), relative to this file */
        const char *f = scalar(fn);
        char full[4096];
        if (!f)
            return fail(c, fn, "'file' needs a file name%s%s", NULL, NULL);
        if (preset || model)
            return fail(c, fn, "give 'file' or 'preset'/'model', not both%s%s", NULL, NULL);
        relative(c, f, full, sizeof full);
        if ((rc = ss_device_load(full, &d, c->err)))
            return rc == SS_EIO ? ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(fn)) : rc;
        if (hard && !strcmp(hard, "true"))
            d.hard = 1;
    } else if (preset) {
        if ((rc = ss_device_apply_preset(&d, preset, c->err)))
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(dn));
        d.hard = hard && !strcmp(hard, "true");
    } else if (model && ss_device_type_find(model)) {
        ss_device_init(&d, ss_device_type_find(model));
        d.hard = hard && !strcmp(hard, "true");
    } else {
        return fail(c, dn, "device needs 'preset', 'model' (vteam, yakopcic, yakopcic2020) or 'file'%s%s", NULL, NULL);
    }
    if ((params && (rc = ss_device_set_list(&d, params, c->err))) ||
        (rc = ss_device_validate(&d, c->err)))
        return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(dn));
    ss_device_variation var;
    yaml_node_t *vn = get(c, n, "variation");
    if (vn) {
        ss_device_variation_init(&var);
        char *list = scalar(vn) ? strdup(scalar(vn)) : NULL, *save = NULL;
        if (!list)
            return fail(c, vn, "variation is a list of name=value words%s%s", NULL, NULL);
        for (char *w = strtok_r(list, " \t", &save); w && !rc; w = strtok_r(NULL, " \t", &save))
            rc = ss_device_variation_set(&var, w, c->err);
        free(list);
        if (rc)
            return ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(vn));
    }
    ss_crossbar_spec spec = {npre, npost, 0, 0, 0};
    double v_read = 0.1, t_read = 10e-9, seed = 1;
    if ((rc = opt_number(c, n, "rwire", &spec.rwire)) || (rc = opt_number(c, n, "rsource", &spec.rsource)) ||
        (rc = opt_number(c, n, "rsense", &spec.rsense)) || (rc = opt_number(c, n, "v_read", &v_read)) ||
        (rc = opt_number(c, n, "t_read", &t_read)) || (rc = opt_number(c, n, "seed", &seed)))
        return rc;
    double *x0 = NULL;
    yaml_node_t *xn = get(c, n, "x0");
    if (xn) {
        if (!(x0 = malloc(npre * npost * sizeof *x0)))
            return ss_error_set(c->err, SS_ENOMEM, "out of memory");
        if ((rc = values(c, xn, "x0", npre * npost, x0))) {
            free(x0);
            return rc;
        }
    }
    ss_network_plasticity rule;
    yaml_node_t *pn = get(c, n, "plasticity");
    const char *record = NULL;
    if (pn) {
        rule = (ss_network_plasticity){.tau_plus = 20e-3, .tau_minus = 20e-3};
        if ((rc = check_keys(c, pn, "plasticity",
                             "v_set v_reset t_write tau_plus tau_minus half_select t_edge rtol "
                             "record_writes")) ||
            (rc = opt_number(c, pn, "v_set", &rule.v_set)) || (rc = opt_number(c, pn, "v_reset", &rule.v_reset)) ||
            (rc = opt_number(c, pn, "t_write", &rule.t_write)) ||
            (rc = opt_number(c, pn, "tau_plus", &rule.tau_plus)) ||
            (rc = opt_number(c, pn, "tau_minus", &rule.tau_minus)) ||
            (rc = opt_number(c, pn, "half_select", &rule.half_select)) ||
            (rc = opt_number(c, pn, "t_edge", &rule.t_edge)) ||
            (rc = opt_number(c, pn, "rtol", &rule.rtol))) {
            free(x0);
            return rc;
        }
        yaml_node_t *rn = get(c, pn, "record_writes");
        record = rn ? scalar(rn) : NULL;
        if (rn && (!record || (strcmp(record, "true") && strcmp(record, "false")))) {
            free(x0);
            return fail(c, rn, "record_writes must be true or false%s%s", NULL, NULL);
        }
    }
    size_t proj;
    rc = ss_network_connect_memristive(net, pre, post, &spec, &d, vn ? &var : NULL, x0, v_read, t_read,
                                       delay, pn ? &rule : NULL, (unsigned long)seed, &proj, c->err);
    free(x0);
    if (!rc && record && !strcmp(record, "true"))
        rc = ss_network_record_writes(net, proj, c->err);
    return rc ? ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n)) : SS_OK;
}

/* Current steps: {population, neurons: [..], start, stop, amplitude,
 * repeat: {count, period}} */
static int stimuli(struct ctx *c, ss_network *net, yaml_node_t *list)
{
    if (list->type != YAML_SEQUENCE_NODE)
        return fail(c, list, "'stimuli' must be a list%s%s", NULL, NULL);
    for (yaml_node_item_t *it = list->data.sequence.items.start; it < list->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(&c->doc, *it), *rp;
        size_t pop;
        double start = 0, stop = 0, amp = 0, count = 1, period = 0;
        int rc = check_keys(c, e, "a stimulus", "population neurons start stop amplitude repeat");
        if (rc || (rc = find(c, net, e, "population", &pop)) || (rc = opt_number(c, e, "start", &start)) ||
            (rc = opt_number(c, e, "stop", &stop)) || (rc = opt_number(c, e, "amplitude", &amp)))
            return rc;
        if ((rp = get(c, e, "repeat")) &&
            ((rc = check_keys(c, rp, "repeat", "count period")) || (rc = opt_number(c, rp, "count", &count)) ||
             (rc = opt_number(c, rp, "period", &period))))
            return rc;
        if (rp && (!(count >= 1) || count != floor(count)))
            return fail(c, get(c, rp, "count") ? get(c, rp, "count") : rp,
                        "'count' must be a whole number of repeats >= 1%s%s", NULL, NULL);
        size_t *idx, n;
        yaml_node_t **nodes;
        if ((rc = neuron_list(c, e, "a stimulus", &idx, &n, &nodes)))
            return rc;
        c->steps += count * (double)n;
        if ((rc = bounded(c, rp ? rp : e, SS_LIMIT_EVENTS, c->steps,
                          "current steps (repeats x neurons, all stimuli)"))) {
            free(idx);
            free(nodes);
            return rc;
        }
        for (size_t k = 0; !rc && k < n; k++)
            for (long r = 0; !rc && r < (long)count; r++)
                if ((rc = ss_network_add_step(net, pop, idx[k], start + r * period, stop + r * period, amp,
                                              c->err)))
                    ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(nodes[k]));
        free(idx);
        free(nodes);
        if (rc)
            return rc;
    }
    return SS_OK;
}

static int projection(struct ctx *c, ss_network *net, yaml_node_t *n)
{
    int rc = check_keys(c, n, "a projection",
                        "from to kind indegree weight delay g rwire rsource rsense v_read t_read "
                        "device variation x0 plasticity seed");
    size_t pre, post;
    if (rc || (rc = find(c, net, n, "from", &pre)) || (rc = find(c, net, n, "to", &post)))
        return rc;
    size_t npre = ss_network_pop_size(net, pre), npost = ss_network_pop_size(net, post);
    const char *kind = scalar(get(c, n, "kind"));
    double delay = 1e-3;
    if ((rc = opt_number(c, n, "delay", &delay)))
        return rc;
    /* every kind but random (counted below, with its indegree) */
    if (kind && strcmp(kind, "random") &&
        (rc = add_synapses(c, n, !strcmp(kind, "one_to_one") ? (double)npre
                                                            : (double)npre * (double)npost)))
        return rc;
    if (kind && !strcmp(kind, "memristive"))
        return memristive(c, net, n, pre, post, npre, npost, delay);
    if (kind && !strcmp(kind, "crossbar")) {
        ss_crossbar_spec spec = {npre, npost, 0, 0, 0};
        double v_read = 0.1, t_read = 100e-9;
        yaml_node_t *g = get(c, n, "g");
        if (!g)
            return fail(c, n, "a crossbar projection needs 'g' (conductances)%s%s", NULL, NULL);
        if ((rc = opt_number(c, n, "rwire", &spec.rwire)) || (rc = opt_number(c, n, "rsource", &spec.rsource)) ||
            (rc = opt_number(c, n, "rsense", &spec.rsense)) || (rc = opt_number(c, n, "v_read", &v_read)) ||
            (rc = opt_number(c, n, "t_read", &t_read)))
            return rc;
        double *gv = malloc(npre * npost * sizeof *gv);
        if (!gv)
            return ss_error_set(c->err, SS_ENOMEM, "out of memory");
        rc = values(c, g, "g", npre * npost, gv);
        if (!rc && (rc = ss_network_connect_crossbar(net, pre, post, &spec, gv, v_read, t_read, delay, c->err)))
            ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
        free(gv);
        return rc;
    }
    size_t nsyn;
    size_t indegree = 0;
    if (!kind || !strcmp(kind, "random")) {
        yaml_node_t *k = get(c, n, "indegree");
        if (!k)
            return fail(c, n, "a random projection needs 'indegree'%s%s", NULL, NULL);
        if ((rc = count(c, k, "indegree", &indegree)) ||
            (rc = add_synapses(c, k, (double)indegree * (double)npost)))
            return rc;
        nsyn = indegree * npost;
    } else if (!strcmp(kind, "all")) {
        nsyn = npre * npost;
    } else if (!strcmp(kind, "one_to_one")) {
        if (npre != npost)
            return fail(c, n, "one_to_one needs populations of equal size%s%s", NULL, NULL);
        nsyn = npre;
    } else {
        return fail(c, get(c, n, "kind"), "unknown projection kind '%s' (random, all, one_to_one, crossbar, memristive)%s",
                    kind, NULL);
    }
    yaml_node_t *wn = get(c, n, "weight");
    if (!wn)
        return fail(c, n, "a projection needs 'weight' (A, the synaptic current jump)%s%s", NULL, NULL);
    size_t *pi = malloc(nsyn * sizeof *pi), *po = malloc(nsyn * sizeof *po);
    double *w = malloc(nsyn * sizeof *w), *d = malloc(nsyn * sizeof *d);
    if (!pi || !po || !w || !d)
        rc = ss_error_set(c->err, SS_ENOMEM, "out of memory");
    for (size_t s = 0; !rc && s < nsyn; s++) {
        if (indegree) {
            pi[s] = gsl_rng_uniform_int(c->rng, npre);
            po[s] = s / indegree;
        } else if (nsyn == npre * npost && (!kind || strcmp(kind, "one_to_one"))) {
            pi[s] = s / npost;
            po[s] = s % npost;
        } else {
            pi[s] = po[s] = s;
        }
        d[s] = delay;
    }
    if (!rc)
        rc = values(c, wn, "weight", nsyn, w);
    if (!rc && (rc = ss_network_connect(net, pre, post, nsyn, pi, po, w, d, c->err)))
        ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(n));
    free(pi);
    free(po);
    free(w);
    free(d);
    return rc;
}

static int record(struct ctx *c, ss_network *net, yaml_node_t *n)
{
    int rc = check_keys(c, n, "record", "states");
    yaml_node_t *st = get(c, n, "states");
    if (rc || !st)
        return rc;
    if (st->type != YAML_SEQUENCE_NODE)
        return fail(c, st, "'states' must be a list of {population, neurons, dt}%s%s", NULL, NULL);
    for (yaml_node_item_t *it = st->data.sequence.items.start; it < st->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(&c->doc, *it);
        size_t pop;
        double dt = 1e-4;
        if ((rc = check_keys(c, e, "a state recording", "population neurons dt")) ||
            (rc = find(c, net, e, "population", &pop)) || (rc = opt_number(c, e, "dt", &dt)))
            return rc;
        if (!(dt > 0))
            return fail(c, get(c, e, "dt") ? get(c, e, "dt") : e,
                        "a state recording's 'dt' must be positive%s%s", NULL, NULL);
        if ((rc = bounded(c, get(c, e, "dt") ? get(c, e, "dt") : e, SS_LIMIT_STEPS,
                          c->duration / dt, "samples of one recorded neuron (duration / dt)")))
            return rc;
        size_t *idx, cnt;
        yaml_node_t **nodes;
        if ((rc = neuron_list(c, e, "a state recording", &idx, &cnt, &nodes)))
            return rc;
        for (size_t k = 0; !rc && k < cnt; k++)
            if ((rc = ss_network_record_state(net, pop, &idx[k], 1, dt, c->err)))
                ss_error_prefix(c->err, rc, "%s:%d", c->path, line_of(nodes[k]));
        free(idx);
        free(nodes);
        if (rc)
            return rc;
    }
    return SS_OK;
}

int ss_experiment_load(const char *path, long seed_override, ss_network **out, ss_experiment *exp,
                       ss_error *err)
{
    return ss_experiment_load_flags(path, seed_override, 0, out, exp, err);
}

int ss_experiment_load_flags(const char *path, long seed_override, unsigned flags, ss_network **out,
                             ss_experiment *exp, ss_error *err)
{
    struct ctx c = {.path = path, .err = err, .flags = flags};
    *out = NULL;
    int rc = load_doc(path, &c.doc, err);
    if (rc)
        return rc;
    ss_network *net = NULL;
    yaml_node_t *root = yaml_document_get_root_node(&c.doc);
    static const ss_experiment defaults = SS_EXPERIMENT_DEFAULTS;
    *exp = defaults;
    if (!root) {
        rc = ss_error_set(err, SS_EPARSE, "%s:1: empty experiment file", path);
        goto out;
    }
    if ((rc = check_keys(&c, root, "the experiment",
                         "duration dt seed rtol solver populations projections stimuli record")))
        goto out;
    yaml_node_t *solver = get(&c, root, "solver");
    if (solver) {
        const char *sv = solver->type == YAML_SCALAR_NODE ? (const char *)solver->data.scalar.value : "";
        if (!strcmp(sv, "rk") || !strcmp(sv, "adams") || !strcmp(sv, "bdf"))
            exp->solver = sv[0] == 'r' ? SS_NETWORK_RK : sv[0] == 'b' ? SS_NETWORK_BDF : SS_NETWORK_ADAMS;
        else {
            rc = fail(&c, solver, "solver must be 'rk', 'adams' or 'bdf'%s%s", NULL, NULL);
            goto out;
        }
    }
    double seed = (double)exp->seed;
    if ((rc = opt_number(&c, root, "duration", &exp->duration)) ||
        (rc = opt_number(&c, root, "dt", &exp->dt)) || (rc = opt_number(&c, root, "rtol", &exp->rtol)) ||
        (rc = opt_number(&c, root, "seed", &seed)))
        goto out;
    if (!(exp->duration > 0) || !(exp->dt > 0) || !(seed >= 0)) {
        rc = fail(&c, root, "duration and dt must be positive, seed >= 0%s%s", NULL, NULL);
        goto out;
    }
    yaml_node_t *dn = get(&c, root, "duration"), *tn = get(&c, root, "dt");
    if ((rc = bounded(&c, dn ? dn : root, SS_LIMIT_DURATION, exp->duration, "duration")) ||
        (rc = bounded(&c, tn ? tn : root, SS_LIMIT_STEPS, exp->duration / exp->dt,
                      "exchange steps (duration / dt)")))
        goto out;
    c.duration = exp->duration;
    exp->seed = seed_override >= 0 ? (unsigned long)seed_override : (unsigned long)seed;
    c.rng = gsl_rng_alloc(gsl_rng_mt19937);
    net = ss_network_alloc(err);
    if (!c.rng || !net) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    gsl_rng_set(c.rng, exp->seed);
    yaml_node_t *pops = get(&c, root, "populations"), *prj = get(&c, root, "projections");
    if (!pops || pops->type != YAML_SEQUENCE_NODE) {
        rc = fail(&c, pops ? pops : root, "'populations' must be a list%s%s", NULL, NULL);
        goto out;
    }
    for (yaml_node_item_t *it = pops->data.sequence.items.start; !rc && it < pops->data.sequence.items.top; it++)
        rc = population(&c, net, yaml_document_get_node(&c.doc, *it));
    if (!rc && prj) {
        if (prj->type != YAML_SEQUENCE_NODE)
            rc = fail(&c, prj, "'projections' must be a list%s%s", NULL, NULL);
        for (yaml_node_item_t *it = prj->data.sequence.items.start;
             !rc && prj->type == YAML_SEQUENCE_NODE && it < prj->data.sequence.items.top; it++)
            rc = projection(&c, net, yaml_document_get_node(&c.doc, *it));
    }
    yaml_node_t *stim = get(&c, root, "stimuli");
    if (!rc && stim)
        rc = stimuli(&c, net, stim);
    yaml_node_t *rec = get(&c, root, "record");
    if (!rc && rec)
        rc = record(&c, net, rec);
out:
    if (c.rng)
        gsl_rng_free(c.rng);
    yaml_document_delete(&c.doc);
    if (rc) {
        ss_network_free(net);
        return rc;
    }
    *out = net;
    return SS_OK;
}
