/* bench.c: the test bench around a circuit as a netlist whose lines keep
 * their origins (a designer's statement stays at the designer's file and
 * line, so ngspice's errors point there): model cards and options, the
 * circuit's own statements (a library or designer subcircuit, or a
 * designer's whole deck), supplies, biases, the stimulus, and mismatch on
 * every transistor through subcircuit parameters. */
#include <ctype.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"

/* The origin of the lines the bench adds itself. */
#define GEN "<smallsim bench>"
/* Parameter and node names the mismatch sources use. */
#define MM "ssmm"

static int addf(ss_netlist *nl, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int addf(ss_netlist *nl, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SS_ENOMEM;
    int rc = ss_netlist_append(nl, s, file ? file : GEN, file ? line : (int)nl->n + 1);
    free(s);
    return rc;
}

static int is_card(const circi_stmt *s, const char *card)
{
    return s->ntok && !strcasecmp(s->tok[0], card);
}

static int any_card(const circi_stmt *s, const char *const *cards)
{
    for (size_t i = 0; cards[i]; i++)
        if (is_card(s, cards[i]))
            return 1;
    return 0;
}

/* ---- the circuit's netlist, the cards and the bench's model names ---------- */

/* The circuit as statements: the designer's netlist, or the library text. */
static int circuit_deck(const ss_circuit_info *ci, ss_netlist *own, circi_deck *d, ss_error *err)
{
    const ss_netlist *nl = ci->netlist;
    if (!nl) {
        const char *text = circi_text(ci);
        if (!text)
            return ss_error_set(err, SS_ENOTFOUND, "no netlist for '%s'", ci->name);
        ss_buf b = SS_BUF_INIT;
        if (ss_buf_printf(&b, "* %s\n%s", ci->name, text))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        int rc = ss_netlist_read_string(own, b.data, ci->file, NULL, 0, err);
        ss_buf_release(&b);
        if (rc)
            return rc;
        nl = own;
    }
    return circi_deck_parse(nl, d, err);
}

/* Which cards the bench includes: the --models file, the shipped set, or
 * none when the designer's own file defines its models. */
static int read_cards(const ss_circuit_config *cfg, const circi_deck *circ, ss_netlist *cards,
                      ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc;
    if (cfg->models) {
        char file[PATH_MAX], path[PATH_MAX];
        const char *at = strrchr(cfg->models, '@');
        size_t len = at ? (size_t)(at - cfg->models) : strlen(cfg->models);
        if (len >= sizeof file)
            return ss_error_set(err, SS_EINVAL, "model path too long");
        memcpy(file, cfg->models, len);
        file[len] = '\0';
        if (!realpath(file, path))
            return ss_error_set(err, SS_EIO, "cannot open model file '%s'", file);
        rc = at ? ss_buf_printf(&b, "* cards\n.lib \"%s\" %s\n", path, at + 1)
                : ss_buf_printf(&b, "* cards\n.include \"%s\"\n", path);
        if (rc)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        rc = ss_netlist_read_string(cards, b.data, "--models", NULL,
                                    SS_NETLIST_ALLOW_ANY_INCLUDE, err);
        ss_buf_release(&b);
        return rc;
    }
    circi_models_found own = {0};
    circi_models_of(circ, &own);
    size_t mos = 0;
    for (size_t i = 0; i < own.n; i++)
        mos += own.kind[i] < 2;
    if (mos && cfg->info->netlist) /* the designer's own cards */
        return ss_netlist_read_string(cards, "* cards\n", "cards", NULL, 0, err);
    if (ss_buf_printf(&b, "* cards\n%s", ss_circuit_text("ptm180.lib")))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = ss_netlist_read_string(cards, b.data, "ptm180.lib", NULL, 0, err);
    ss_buf_release(&b);
    return rc;
}

/* The nFET or pFET model of the bench's own devices (diodes, mirrors) and
 * of the library's texts (ss_nch, ss_pch): the one named, ss_nch/ss_pch,
 * or the cards' only one of that type. */
static int bench_model(const ss_circuit_config *cfg, const circi_models_found *m, int pfet,
                       char out[64], ss_error *err)
{
    const char *given = pfet ? cfg->pmos : cfg->nmos, *def = pfet ? "ss_pch" : "ss_nch";
    const char *opt = pfet ? "--pmos" : "--nmos", *type = pfet ? "pmos" : "nmos";
    if (given) {
        if (!circi_model_known(m, given))
            return ss_error_set(err, SS_ENOTFOUND, "%s %s: the cards define no model '%s'",
                                opt, given, given);
        snprintf(out, 64, "%s", given);
        return SS_OK;
    }
    if (circi_model_known(m, def)) {
        snprintf(out, 64, "%s", def);
        return SS_OK;
    }
    size_t n = 0, pick = 0;
    char list[256] = "";
    for (size_t i = 0; i < m->n; i++)
        if (m->kind[i] == pfet) {
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", n ? ", " : "",
                     m->name[i]);
            pick = i;
            n++;
        }
    if (n == 1) {
        snprintf(out, 64, "%s", m->name[pick]);
        return SS_OK;
    }
    if (!n)
        return ss_error_set(err, SS_ENOTFOUND, "the cards define no %s model (give cards "
                            "with --models FILE)", type);
    return ss_error_set(err, SS_EINVAL, "the cards define %zu %s models (%s): name the one "
                        "for the bench's devices with %s NAME", n, type, list, opt);
}

/* Everything a bench needs to know about its circuit and cards. */
typedef struct bench {
    const ss_circuit_config *cfg;
    const ss_circuit_info *ci;
    ss_netlist own, cards;
    circi_deck d, cd;     /* the circuit, the cards */
    circi_models_found models;
    char nm[64], pm[64];  /* the bench's (and library texts') model names */
    int have_nm, have_pm;
    int root;             /* the subcircuit characterized, -1 for a deck */
    size_t *slots;        /* mismatch slots per definition */
    double *dvt;          /* shift per slot of the root (NULL: nominal) */
    size_t ndvt;
} bench;

static void bench_free(bench *b)
{
    circi_deck_free(&b->d);
    circi_deck_free(&b->cd);
    ss_netlist_release(&b->own);
    ss_netlist_release(&b->cards);
    free(b->slots);
    free(b->dvt);
}

static int bench_open(bench *b, const ss_circuit_config *cfg, ss_error *err)
{
    memset(b, 0, sizeof *b);
    b->cfg = cfg;
    b->ci = cfg->info;
    if (!b->ci)
        return ss_error_set(err, SS_EINVAL, "no circuit");
    int rc = circuit_deck(b->ci, &b->own, &b->d, err);
    if (!rc)
        rc = read_cards(cfg, &b->d, &b->cards, err);
    if (!rc)
        rc = circi_deck_parse(&b->cards, &b->cd, err);
    if (rc) {
        bench_free(b);
        return rc;
    }
    circi_models_of(&b->d, &b->models);
    circi_models_of(&b->cd, &b->models);
    ss_error e;
    b->have_nm = bench_model(cfg, &b->models, 0, b->nm, &e) == SS_OK;
    b->have_pm = bench_model(cfg, &b->models, 1, b->pm, &e) == SS_OK;
    b->root = -1;
    if (!b->ci->deck && (b->root = circi_def_find(&b->d, b->ci->subckt)) < 0) {
        bench_free(b);
        return ss_error_set(err, SS_ENOTFOUND, "%s: no .subckt '%s'", b->ci->file, b->ci->subckt);
    }
    return SS_OK;
}

/* The model name the bench's own devices use (an error when the cards
 * leave it open). */
static int need_model(bench *b, int pfet, const char **name, ss_error *err)
{
    char tmp[64];
    if (!(pfet ? b->have_pm : b->have_nm))
        return bench_model(b->cfg, &b->models, pfet, tmp, err);
    *name = pfet ? b->pm : b->nm;
    return SS_OK;
}

/* ---- mismatch ------------------------------------------------------------------ */

static int draw(const ss_circuit_config *cfg, const circi_deck *d, const circi_dev *dev,
                size_t n, ss_circuit_device *out, ss_error *err)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    /* One stream per (seed, sample): splitmix64 of both (the constant keeps
     * the streams of earlier releases). */
    uint64_t z = ss_util_mix64(cfg->seed * 0x9E3779B97F4A7C15ull + cfg->sample +
                               0xC4F46BE25A6A6404ull);
    gsl_rng_set(r, (unsigned long)(z & 0xffffffffu) | 1u);
    for (size_t i = 0; i < n; i++) {
        ss_circuit_device *o = &out[i];
        memset(o, 0, sizeof *o);
        snprintf(o->name, sizeof o->name, "%s", dev[i].path);
        snprintf(o->where, sizeof o->where, "%s:%d", circi_stmt_file(d, dev[i].stmt),
                 circi_stmt_line(d, dev[i].stmt));
        o->varied = dev[i].ok;
        o->w = dev[i].ok ? dev[i].w : NAN;
        o->l = dev[i].ok ? dev[i].l : NAN;
        o->m = dev[i].ok ? dev[i].m : NAN;
        snprintf(o->why, sizeof o->why, "%s", dev[i].why);
        o->sigma = dev[i].ok ? cfg->avt * 1e-3 / sqrt(dev[i].w * dev[i].l * dev[i].m * 1e12) : 0;
        /* sample 0 is the nominal circuit; unvaried devices keep the
         * stream's order (they draw and drop) */
        double g = cfg->sample ? gsl_ran_gaussian(r, o->varied ? o->sigma : 1.0) : 0.0;
        o->dvt = o->varied ? g : 0.0;
    }
    gsl_rng_free(r);
    return SS_OK;
}

static int devices(const bench *b, ss_circuit_device **out, size_t *n, ss_error *err)
{
    circi_dev *dev;
    size_t nd;
    int rc = circi_devices(&b->d, b->root, b->root >= 0 ? "x1." : "", &dev, &nd, err);
    if (rc)
        return rc;
    *out = calloc(nd ? nd : 1, sizeof **out);
    if (!*out)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    else
        rc = draw(b->cfg, &b->d, dev, nd, *out, err);
    free(dev);
    if (rc) {
        free(*out);
        *out = NULL;
        return rc;
    }
    *n = nd;
    return SS_OK;
}

int ss_circuit_mismatch(const ss_circuit_config *cfg, ss_circuit_device **dev, size_t *n,
                        ss_error *err)
{
    bench b;
    *dev = NULL;
    *n = 0;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    rc = devices(&b, dev, n, err);
    bench_free(&b);
    return rc;
}

/* Slot counts of every definition and, for a mismatched sample, the
 * root's shifts. */
static int bench_mismatch(bench *b, ss_error *err)
{
    b->slots = calloc(b->d.ndef + 1, sizeof *b->slots);
    if (!b->slots)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t i = 0; i < b->d.ndef; i++) {
        int rc = circi_slots(&b->d, (int)i, &b->slots[i], 0, err);
        if (rc)
            return rc;
    }
    if (!(b->cfg->avt > 0 && b->cfg->sample > 0))
        return SS_OK;
    ss_circuit_device *dev;
    size_t n;
    int rc = devices(b, &dev, &n, err);
    if (rc)
        return rc;
    b->dvt = calloc(n ? n : 1, sizeof *b->dvt);
    if (!b->dvt) {
        free(dev);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        b->dvt[i] = dev[i].dvt;
    b->ndvt = n;
    free(dev);
    return SS_OK;
}

/* ---- emitting the circuit ------------------------------------------------------ */

/* " ssmm1=V1 ssmm2=V2 ..." for a child's `n` slots: numbers from dvt[off..]
 * (the top level) or the parent's parameters ssmm<off+1>.. (inside a
 * definition). */
static int slot_params(ss_buf *l, size_t n, size_t off, const double *dvt)
{
    int rc = 0;
    for (size_t k = 0; !rc && k < n; k++)
        rc = dvt ? ss_buf_printf(l, " " MM "%zu=%.9g", k + 1, dvt[off + k])
                 : ss_buf_printf(l, " " MM "%zu={" MM "%zu}", k + 1, off + k + 1);
    return rc;
}

/* A transistor: the library's model names replaced, and with mismatch the
 * gate moved behind a DC source (BSIM3 in ngspice 39 has no delvto).
 * `value` is the shift (top level) or NULL for the parameter ssmm<slot+1>. */
static int emit_device(bench *b, size_t k, int mm, const double *value, size_t slot,
                       ss_netlist *out)
{
    const circi_stmt *s = &b->d.st[k];
    const char *file = circi_stmt_file(&b->d, k);
    int line = circi_stmt_line(&b->d, k);
    ss_buf l = SS_BUF_INIT;
    int rc = 0;
    for (size_t t = 0; !rc && t < s->ntok; t++) {
        const char *tok = s->tok[t];
        if (t == 5 && !strcasecmp(tok, "ss_nch") && b->have_nm)
            tok = b->nm;
        else if (t == 5 && !strcasecmp(tok, "ss_pch") && b->have_pm)
            tok = b->pm;
        if (t == 2 && mm && s->ntok > 5)
            rc = ss_buf_printf(&l, " ssg_%s", s->tok[0]);
        else
            rc = ss_buf_printf(&l, "%s%s", t ? " " : "", tok);
    }
    if (!rc)
        rc = ss_netlist_append(out, l.data, file, line);
    ss_buf_release(&l);
    if (!rc && mm && s->ntok > 5)
        rc = value ? addf(out, file, line, "v%s_%s %s ssg_%s DC %.9g", MM, s->tok[0], s->tok[2],
                          s->tok[0], *value)
                   : addf(out, file, line, "v%s_%s %s ssg_%s DC {%s%zu}", MM, s->tok[0],
                          s->tok[2], s->tok[0], MM, slot + 1);
    return rc;
}

/* The statement with its tokens re-joined and `extra` appended. */
static int emit_joined(const bench *b, size_t k, const char *extra, ss_netlist *out)
{
    const circi_stmt *s = &b->d.st[k];
    ss_buf l = SS_BUF_INIT;
    int rc = 0;
    for (size_t t = 0; !rc && t < s->ntok; t++)
        rc = ss_buf_printf(&l, "%s%s", t ? " " : "", s->tok[t]);
    if (!rc && extra)
        rc = ss_buf_printf(&l, "%s", extra);
    if (!rc)
        rc = ss_netlist_append(out, l.data, circi_stmt_file(&b->d, k), circi_stmt_line(&b->d, k));
    ss_buf_release(&l);
    return rc;
}

static const char *const analyses[] = {".tran", ".ac", ".dc", ".op", ".noise", ".tf", ".sens",
                                       ".pz", ".disto", ".sp", ".pss", ".end", ".meas",
                                       ".measure", ".print", ".plot", ".save", ".probe",
                                       ".four", ".fourier", ".width", ".temp", ".title", NULL};
static const char *const option_cards[] = {".options", ".option", ".opt", NULL};

/* The bench node of a designer's pin (subcircuit mode), else x1.NODE. */
static void bench_node(const bench *b, const char *node, char *out, size_t size)
{
    const circi_stmt *open = &b->d.st[b->d.def[b->root].open];
    size_t np = circi_subckt_params(open);
    char ports[1024], *save = NULL;
    snprintf(ports, sizeof ports, "%s", b->ci->ports);
    char *p = strtok_r(ports, " \t", &save);
    for (size_t k = 2; k < np && p; k++, p = strtok_r(NULL, " \t", &save))
        if (!strcasecmp(open->tok[k], node)) {
            snprintf(out, size, "%s", p);
            return;
        }
    snprintf(out, size, "x1.%s", node);
}

/* .ic/.nodeset v(NODE)=X of a subcircuit file's top level, on bench nodes. */
static int emit_ic(const bench *b, size_t k, ss_netlist *out)
{
    const circi_stmt *s = &b->d.st[k];
    ss_buf l = SS_BUF_INIT;
    int rc = ss_buf_printf(&l, "%s", s->tok[0]);
    for (size_t t = 1; !rc && t < s->ntok; t++) {
        const char *tok = s->tok[t], *close = strchr(tok, ')');
        if ((tok[0] == 'v' || tok[0] == 'V') && tok[1] == '(' && close) {
            char node[128], bn[160];
            snprintf(node, sizeof node, "%.*s", (int)(close - tok - 2), tok + 2);
            bench_node(b, node, bn, sizeof bn);
            rc = ss_buf_printf(&l, " v(%s)%s", bn, close + 1);
        } else {
            rc = ss_buf_printf(&l, " %s", tok);
        }
    }
    if (!rc)
        rc = ss_netlist_append(out, l.data, circi_stmt_file(&b->d, k), circi_stmt_line(&b->d, k));
    ss_buf_release(&l);
    return rc;
}

/* The designer's .options without temp= (the campaign sets it). */
static int emit_options(const bench *b, size_t k, ss_netlist *out)
{
    const circi_stmt *s = &b->d.st[k];
    ss_buf l = SS_BUF_INIT;
    int rc = ss_buf_printf(&l, "%s", s->tok[0]), any = 0;
    for (size_t t = 1; !rc && t < s->ntok; t++) {
        if (!strncasecmp(s->tok[t], "temp=", 5))
            continue;
        rc = ss_buf_printf(&l, " %s", s->tok[t]);
        any = 1;
    }
    if (!rc && any)
        rc = ss_netlist_append(out, l.data, circi_stmt_file(&b->d, k), circi_stmt_line(&b->d, k));
    ss_buf_release(&l);
    return rc;
}

/* Index of the deck's bias that source `name` is, -1 if none. */
static int deck_bias(const ss_circuit_info *ci, const char *name)
{
    for (size_t i = 0; i < ci->nbias; i++)
        if (!strcasecmp(ci->bias[i].node, name))
            return (int)i;
    return -1;
}

/* A source of a deck with a new value ("DC 1e-10", "PWL(...)"). */
static int emit_source(const bench *b, size_t k, const char *value, ss_netlist *out)
{
    const circi_stmt *s = &b->d.st[k];
    if (s->ntok < 3)
        return SS_EPARSE;
    return addf(out, circi_stmt_file(&b->d, k), circi_stmt_line(&b->d, k), "%s %s %s %s", s->tok[0],
                s->tok[1], s->tok[2], value);
}

/* Every statement of the circuit, transformed for the bench. */
static int emit_circuit(bench *b, double input, ss_netlist *out, ss_error *err)
{
    const ss_circuit_config *cfg = b->cfg;
    const ss_circuit_info *ci = b->ci;
    const circi_deck *d = &b->d;
    int mm = b->dvt != NULL, rc = 0;
    size_t *off = calloc(d->ndef + 1, sizeof *off); /* next slot per definition; [ndef]: top */
    if (!off)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->control || !s->ntok)
            continue;
        size_t *o = &off[s->def >= 0 ? (size_t)s->def : d->ndef];
        const double *top = s->def < 0 ? b->dvt : NULL; /* numbers at the top level */
        char c = (char)tolower((unsigned char)s->tok[0][0]);
        if (s->def < 0 && any_card(s, analyses))
            continue;
        if (s->def < 0 && any_card(s, option_cards)) {
            rc = emit_options(b, k, out);
        } else if (!ci->deck && s->def < 0 && (is_card(s, ".ic") || is_card(s, ".nodeset"))) {
            rc = emit_ic(b, k, out);
        } else if (is_card(s, ".subckt")) {
            int def = circi_def_find(d, s->tok[1]);
            size_t n = def >= 0 ? b->slots[def] : 0;
            ss_buf l = SS_BUF_INIT;
            if (mm && n) {
                rc = circi_subckt_params(s) == s->ntok ? ss_buf_printf(&l, " params:") : 0;
                for (size_t q = 0; !rc && q < n; q++)
                    rc = ss_buf_printf(&l, " " MM "%zu=0", q + 1);
            }
            if (!rc)
                rc = emit_joined(b, k, l.data, out);
            ss_buf_release(&l);
        } else if (c == 'm') {
            double v = top && *o < b->ndvt ? top[*o] : 0.0;
            rc = emit_device(b, k, mm, top ? &v : NULL, *o, out);
            (*o)++;
        } else if (c == 'x') {
            int def = circi_def_find(d, circi_instance_subckt(s, NULL));
            size_t n = def >= 0 ? b->slots[def] : 0;
            ss_buf l = SS_BUF_INIT;
            if (mm && n && (!top || *o + n <= b->ndvt))
                rc = slot_params(&l, n, *o, top);
            if (!rc)
                rc = emit_joined(b, k, l.data, out);
            ss_buf_release(&l);
            *o += n;
        } else if (ci->deck && s->def < 0 && (c == 'i' || c == 'v')) {
            char value[256];
            int bi = deck_bias(ci, s->tok[0]);
            if (!strcasecmp(s->tok[0], ci->input)) {
                snprintf(value, sizeof value, "DC %.9g", input);
                rc = emit_source(b, k, value, out);
            } else if (ci->pre && !strcasecmp(s->tok[0], ci->pre)) {
                snprintf(value, sizeof value, "PWL(0 0 1m 0 1.001m %g 21m %g 21.001m 0)",
                         cfg->vdd, cfg->vdd);
                rc = emit_source(b, k, value, out);
            } else if (bi >= 0 && cfg->bias[bi] != ci->bias[bi].value) {
                snprintf(value, sizeof value, "DC %.9g", cfg->bias[bi]);
                rc = emit_source(b, k, value, out);
            } else {
                rc = emit_joined(b, k, NULL, out);
            }
        } else {
            rc = emit_joined(b, k, NULL, out);
        }
    }
    free(off);
    return rc ? ss_error_set(err, rc == SS_ENOMEM ? SS_ENOMEM : SS_EPARSE, "%s",
                             rc == SS_ENOMEM ? "out of memory" : "malformed source line")
              : SS_OK;
}

/* ---- cards, options, supplies -------------------------------------------------- */

static int emit_cards(const bench *b, ss_netlist *out)
{
    for (size_t i = 1; i < b->cards.n; i++)
        if (ss_netlist_classify(b->cards.lines[i].text) != SS_NETLIST_END &&
            ss_netlist_append(out, b->cards.lines[i].text, b->cards.lines[i].file,
                              b->cards.lines[i].line))
            return SS_ENOMEM;
    return SS_OK;
}

/* Our options for what the designer's .options leave open, and the
 * temperature. */
static int emit_our_options(const bench *b, ss_netlist *out)
{
    const ss_circuit_config *cfg = b->cfg;
    static const char *const keys[] = {"method", "gmin", "abstol", "chgtol", "reltol"};
    char vals[5][32] = {"gear", "1e-15", "1e-15", "1e-17", ""};
    snprintf(vals[4], sizeof vals[4], "%g",
             cfg->reltol > 0 ? cfg->reltol
             : strcmp(circi_base(b->ci), "axon-hillock") ? 1e-4 : 1e-5);
    int set[5] = {0};
    for (size_t k = 0; k < b->d.n; k++) {
        const circi_stmt *s = &b->d.st[k];
        if (s->control || s->def >= 0 || !any_card(s, option_cards))
            continue;
        for (size_t t = 1; t < s->ntok; t++)
            for (int q = 0; q < 5; q++)
                if (!strncasecmp(s->tok[t], keys[q], strlen(keys[q])) &&
                    s->tok[t][strlen(keys[q])] == '=')
                    set[q] = 1;
    }
    if (cfg->reltol > 0)
        set[4] = 0; /* asked for: ours wins, being later */
    ss_buf l = SS_BUF_INIT;
    int rc = ss_buf_printf(&l, ".options");
    for (int q = 0; !rc && q < 5; q++)
        if (!set[q])
            rc = ss_buf_printf(&l, " %s=%s", keys[q], vals[q]);
    if (!rc)
        rc = ss_buf_printf(&l, " temp=%g", cfg->temp);
    if (!rc)
        rc = ss_netlist_append(out, l.data, GEN, (int)out->n + 1);
    ss_buf_release(&l);
    return rc;
}

/* Supplies and biases of a subcircuit bench: bias currents into
 * diode-connected unit devices (1u/1u) from a separate supply (not counted
 * in the energy), voltage biases as ideal sources. */
static int emit_supplies(bench *b, ss_netlist *out, ss_error *err)
{
    const ss_circuit_config *cfg = b->cfg;
    const ss_circuit_info *ci = b->ci;
    int rc = addf(out, NULL, 0, "vdd vdd 0 %g", cfg->vdd);
    if (!rc)
        rc = addf(out, NULL, 0, "vddb vddb 0 %g", cfg->vdd);
    for (size_t i = 0; !rc && i < ci->nbias; i++) {
        const ss_circuit_bias *bi = &ci->bias[i];
        const char *model = NULL;
        if (cfg->voltage[i]) {
            rc = addf(out, NULL, 0, "vb%zu %s 0 DC %.9g", i, bi->node, cfg->bias[i]);
        } else if ((rc = need_model(b, bi->ptype, &model, err))) {
            return ss_error_prefix(err, rc, "bias %s", bi->name);
        } else if (bi->ptype) {
            rc = addf(out, NULL, 0, "ib%zu %s 0 DC %.9g", i, bi->node, cfg->bias[i]);
            if (!rc)
                rc = addf(out, NULL, 0, "mb%zu %s %s vddb vddb %s w=1u l=1u", i, bi->node,
                          bi->node, model);
        } else {
            rc = addf(out, NULL, 0, "ib%zu vddb %s DC %.9g", i, bi->node, cfg->bias[i]);
            if (!rc)
                rc = addf(out, NULL, 0, "mb%zu %s %s 0 0 %s w=1u l=1u", i, bi->node, bi->node,
                          model);
        }
    }
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}

/* The bench node of the neuron's input pin. */
static const char *input_node(const ss_circuit_info *ci)
{
    return !strcmp(circi_base(ci), "axon-hillock") ? "vmem" : "iin";
}

/* The input of a subcircuit bench: an ideal current (pushed into the pin
 * or drawn out of it, as declared), or through a unit mirror whose output
 * current i(vmir) is saved. */
static int emit_stimulus(bench *b, double input, ss_netlist *out, ss_error *err)
{
    const ss_circuit_info *ci = b->ci;
    const char *pin = input_node(ci), *model = NULL;
    int src = ci->input_dir > 0, rc;
    if (!b->cfg->input_mirror)
        return addf(out, NULL, 0, src ? "iin 0 %s PWL(0 0 1u %.9g)" : "iin %s 0 PWL(0 0 1u %.9g)",
                    pin, input)
                   ? ss_error_set(err, SS_ENOMEM, "out of memory")
                   : SS_OK;
    if ((rc = need_model(b, src, &model, err)))
        return ss_error_prefix(err, rc, "input mirror");
    if (src)
        rc = addf(out, NULL, 0, "iin vin 0 PWL(0 0 1u %.9g)", input) ||
             addf(out, NULL, 0, "mbin vin vin vddb vddb %s w=1u l=1u", model) ||
             addf(out, NULL, 0, "mbin2 xmir vin vddb vddb %s w=1u l=1u", model) ||
             addf(out, NULL, 0, "vmir xmir %s DC 0", pin);
    else
        rc = addf(out, NULL, 0, "iin vddb vin PWL(0 0 1u %.9g)", input) ||
             addf(out, NULL, 0, "mbin vin vin 0 0 %s w=1u l=1u", model) ||
             addf(out, NULL, 0, "mbin2 xmir vin 0 0 %s w=1u l=1u", model) ||
             addf(out, NULL, 0, "vmir %s xmir DC 0", pin);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}

/* The reset node's bench name ("x1.vrst", or the deck's), into out. */
static void reset_node(const bench *b, char *out, size_t size)
{
    out[0] = '\0';
    if (!b->ci->reset)
        return;
    if (b->ci->deck)
        snprintf(out, size, "%s", b->ci->reset);
    else
        bench_node(b, b->ci->reset, out, size);
}

static int emit_saves(bench *b, ss_netlist *out)
{
    const ss_circuit_info *ci = b->ci;
    ss_buf l = SS_BUF_INIT;
    int rc = ss_buf_printf(&l, ".save");
    if (ci->kind == SS_CIRCUIT_SYNAPSE) {
        rc = ss_buf_printf(&l, " i(%s)", ci->deck ? ci->output : "vmeas");
    } else {
        char rst[160];
        reset_node(b, rst, sizeof rst);
        rc = ss_buf_printf(&l, " v(%s)", ci->spike);
        if (!rc && ci->membrane && strcasecmp(ci->membrane, ci->spike))
            rc = ss_buf_printf(&l, " v(%s)", ci->membrane);
        if (!rc && rst[0])
            rc = ss_buf_printf(&l, " v(%s)", rst);
        if (!rc && !ci->deck && b->cfg->input_mirror)
            rc = ss_buf_printf(&l, " i(vmir)");
    }
    if (ci->deck) {
        char sup[256], *save = NULL;
        snprintf(sup, sizeof sup, "%s", ci->supply ? ci->supply : "");
        for (char *p = strtok_r(sup, ",", &save); !rc && p; p = strtok_r(NULL, ",", &save))
            rc = ss_buf_printf(&l, " i(%s)", p);
    } else if (!rc) {
        rc = ss_buf_printf(&l, " i(vdd)");
    }
    if (!rc)
        rc = ss_netlist_append(out, l.data, GEN, (int)out->n + 1);
    ss_buf_release(&l);
    return rc;
}

int circi_reset_vector(const ss_circuit_config *cfg, char *out, size_t size, ss_error *err)
{
    bench b;
    char rst[160];
    out[0] = '\0';
    if (!cfg->info || !cfg->info->reset)
        return SS_OK;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    reset_node(&b, rst, sizeof rst);
    if (rst[0])
        snprintf(out, size, "v(%s)", rst);
    bench_free(&b);
    return SS_OK;
}

/* ---- the bench ------------------------------------------------------------------ */

int circi_bench(const ss_circuit_config *cfg, double input, double tstop, double tmax, int start,
                ss_netlist *out, ss_error *err)
{
    const ss_circuit_info *ci = cfg->info;
    memset(out, 0, sizeof *out);
    if (!ci)
        return ss_error_set(err, SS_EINVAL, "no circuit");
    if (!(input >= 0) || !(tstop > 0) || !(tmax > 0))
        return ss_error_set(err, SS_EINVAL, "bench needs input >= 0, tstop > 0, tmax > 0");
    bench b;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    if (!(out->dir = strdup("")) || ss_netlist_set_roots(out, NULL) ||
        addf(out, NULL, 0, "* smallsim bench: %s, %s = %g", ci->name, ci->input, input))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = bench_mismatch(&b, err);
    if (!rc && emit_cards(&b, out))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = emit_circuit(&b, input, out, err);
    if (!rc && emit_our_options(&b, out))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc && !ci->deck) {
        rc = emit_supplies(&b, out, err);
        if (!rc && ci->kind == SS_CIRCUIT_NEURON) {
            rc = emit_stimulus(&b, input, out, err);
        } else if (!rc) {
            /* Synapse: Iw is the weight; a 20 ms pulse from 1 ms, then decay. */
            const char *model = NULL;
            if (!(rc = need_model(&b, 0, &model, err)) &&
                (addf(out, NULL, 0, "ib_w vddb vw DC %.9g", input) ||
                 addf(out, NULL, 0, "mb_w vw vw 0 0 %s w=1u l=1u", model) ||
                 addf(out, NULL, 0, "vpre pre 0 PWL(0 0 1m 0 1.001m %g 21m %g 21.001m 0)",
                      cfg->vdd, cfg->vdd) ||
                 addf(out, NULL, 0, "vmeas vdd isyn DC 0")))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        }
        ss_buf l = SS_BUF_INIT;
        if (!rc && (ss_buf_printf(&l, "x1 %s %s", ci->ports, ci->subckt) ||
                    (b.dvt && slot_params(&l, b.slots[b.root], 0, b.dvt)) ||
                    ss_netlist_append(out, l.data, GEN, (int)out->n + 1)))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        ss_buf_release(&l);
    }
    if (!rc && emit_saves(&b, out))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc && start == CIRCI_START_KICK && ci->kind == SS_CIRCUIT_NEURON &&
        addf(out, NULL, 0, ".ic v(%s)=0", ci->membrane ? ci->membrane : ci->spike))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc) {
        double step = ci->tmax > 0 ? fmin(tmax, ci->tmax) : tmax;
        if (addf(out, NULL, 0, ".tran %.6g %.6g 0 %.6g%s", step, tstop, step,
                 ci->uic ? " uic" : "") ||
            addf(out, NULL, 0, ".end"))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    out->flags = circi_flags(cfg);
    if (!rc)
        rc = ss_netlist_screen(out, out->flags, err);
    bench_free(&b);
    if (rc)
        ss_netlist_release(out);
    return rc;
}

int ss_circuit_bench(const ss_circuit_config *cfg, double input, double tstop, double tmax,
                     ss_buf *out, ss_error *err)
{
    ss_netlist nl;
    int rc = circi_bench(cfg, input, tstop, tmax, CIRCI_START_PLAIN, &nl, err);
    if (rc)
        return rc;
    for (size_t i = 0; !rc && i < nl.n; i++)
        rc = ss_buf_printf(out, "%s\n", nl.lines[i].text);
    ss_netlist_release(&nl);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory") : SS_OK;
}

/* ---- checks before any run ------------------------------------------------------ */

int circi_check(const ss_circuit_config *cfg, ss_error *err)
{
    bench b;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    /* every transistor's model is defined somewhere */
    for (size_t k = 0; !rc && k < b.d.n; k++) {
        const circi_stmt *s = &b.d.st[k];
        if (s->control || s->ntok < 6 || tolower((unsigned char)s->tok[0][0]) != 'm')
            continue;
        const char *model = s->tok[5];
        if (!strcasecmp(model, "ss_nch") || !strcasecmp(model, "ss_pch"))
            model = !strcasecmp(model, "ss_nch") ? (b.have_nm ? b.nm : model)
                                                 : (b.have_pm ? b.pm : model);
        if (circi_model_known(&b.models, model))
            continue;
        char list[512] = "";
        for (size_t i = 0; i < b.models.n; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     b.models.name[i]);
        rc = ss_error_set(err, SS_ENOTFOUND,
                          "%s:%d: %s uses model '%s', which no card defines (cards define: "
                          "%s; --models FILE gives other cards, --nmos/--pmos name them)",
                          circi_stmt_file(&b.d, k), circi_stmt_line(&b.d, k), s->tok[0], model,
                          list[0] ? list : "none");
    }
    size_t n;
    if (!rc)
        rc = circi_slots(&b.d, b.root, &n, 0, err);
    bench_free(&b);
    if (rc)
        return rc;
    /* the bench's own devices find their models */
    ss_netlist nl;
    rc = circi_bench(cfg, cfg->info->input_default, 1e-3, 1e-6, CIRCI_START_PLAIN, &nl, err);
    ss_netlist_release(&nl);
    return rc;
}

/* ---- texts for the tiles and the mixed network (mixed.c) --------------------------- */

unsigned circi_flags(const ss_circuit_config *cfg)
{
    return cfg->models ? SS_NETLIST_ALLOW_ANY_INCLUDE : 0;
}

static int join_into(const ss_netlist *nl, size_t from, ss_buf *out)
{
    for (size_t i = from; i < nl->n; i++)
        if (ss_buf_printf(out, "%s\n", nl->lines[i].text))
            return SS_ENOMEM;
    return SS_OK;
}

int circi_models(const ss_circuit_config *cfg, ss_buf *out, ss_error *err)
{
    bench b;
    ss_netlist nl = SS_NETLIST_INIT;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    if (ss_netlist_append(&nl, "*", GEN, 0) || emit_cards(&b, &nl))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    /* a designer's own cards: the file's top-level .param and .model */
    for (size_t k = 0; !rc && b.cards.n <= 1 && k < b.d.n; k++) {
        const circi_stmt *s = &b.d.st[k];
        if (s->def < 0 && !s->control && (is_card(s, ".model") || is_card(s, ".param")) &&
            emit_joined(&b, k, NULL, &nl))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!rc && (emit_our_options(&b, &nl) || join_into(&nl, 1, out)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_netlist_release(&nl);
    bench_free(&b);
    return rc;
}

int circi_subckt(ss_buf *out, const ss_circuit_config *cfg, ss_error *err)
{
    bench b;
    ss_netlist nl = SS_NETLIST_INIT;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    if (!(b.slots = calloc(b.d.ndef + 1, sizeof *b.slots)) || ss_netlist_append(&nl, "*", GEN, 0))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = emit_circuit(&b, 0.0, &nl, err);
    if (!rc && join_into(&nl, 1, out))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_netlist_release(&nl);
    bench_free(&b);
    return rc;
}

int circi_supplies(const ss_circuit_config *cfg, ss_buf *out, ss_error *err)
{
    bench b;
    ss_netlist nl = SS_NETLIST_INIT;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    if (ss_netlist_append(&nl, "*", GEN, 0))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = emit_supplies(&b, &nl, err);
    if (!rc && join_into(&nl, 1, out))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_netlist_release(&nl);
    bench_free(&b);
    return rc;
}

int circi_model_name(const ss_circuit_config *cfg, int pfet, char out[64], ss_error *err)
{
    bench b;
    int rc = bench_open(&b, cfg, err);
    if (rc)
        return rc;
    const char *name;
    rc = need_model(&b, pfet, &name, err);
    if (!rc)
        snprintf(out, 64, "%s", name);
    bench_free(&b);
    return rc;
}
