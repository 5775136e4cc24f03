/* user.c: a designer's circuit from a netlist file and its declaration,
 * a "* smallsim: like=..." comment line (or the same keys given apart):
 *   - a subcircuit file: the .subckt's pins map onto the roles (ports) of a
 *     library circuit, whose bench and measurements apply; biases without
 *     a role and bias values are declared with it;
 *   - a whole deck with its own bench: the declaration names its input
 *     source, spike node and supply, and the bench keeps everything else. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"

#define MAX_PINS 32
#define MAX_KEYS 64
#define MAX_POOL 128

/* The heap object behind ss_circuit_load's ss_circuit_info (first member). */
typedef struct user_circuit {
    ss_circuit_info info;
    ss_netlist nl;
    char *pool[MAX_POOL]; /* every string the info points to */
    size_t npool;
} user_circuit;

/* A copy owned by the circuit (NULL when out of memory or full). */
static const char *keep(user_circuit *u, const char *s, size_t n)
{
    if (u->npool == MAX_POOL)
        return NULL;
    char *c = strndup(s, n);
    if (c)
        u->pool[u->npool++] = c;
    return c;
}

static const char *keepf(user_circuit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *keepf(user_circuit *u, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return n < 0 || (size_t)n >= sizeof buf ? NULL : keep(u, buf, (size_t)n);
}

void ss_circuit_free(ss_circuit_info *info)
{
    user_circuit *u = (user_circuit *)info;
    if (!u)
        return;
    for (size_t i = 0; i < u->npool; i++)
        free(u->pool[i]);
    ss_netlist_release(&u->nl);
    free(u);
}

/* ---- the declaration ---------------------------------------------------------- */

typedef struct decl {
    char *key[MAX_KEYS], *val[MAX_KEYS];
    const char *where[MAX_KEYS]; /* "file:line" or "--declare" */
    int used[MAX_KEYS];
    size_t n;
    char buf[2][4096];
    char where_file[1100];
} decl;

/* Adds KEY=VALUE tokens of `text` (modified in place); a later key wins. */
static int decl_add(decl *d, char *text, const char *where, ss_error *err)
{
    char *save = NULL;
    for (char *t = strtok_r(text, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t || !eq[1])
            return ss_error_set(err, SS_EPARSE, "%s: '%s' in the declaration is not KEY=VALUE",
                                where, t);
        *eq = '\0';
        size_t k = 0;
        while (k < d->n && strcasecmp(d->key[k], t))
            k++;
        if (k == MAX_KEYS)
            return ss_error_set(err, SS_EPARSE, "%s: too many keys in the declaration", where);
        d->key[k] = t;
        d->val[k] = eq + 1;
        d->where[k] = where;
        if (k == d->n)
            d->n++;
    }
    return SS_OK;
}

static const char *decl_get(decl *d, const char *key, const char **where)
{
    for (size_t k = 0; k < d->n; k++)
        if (!strcasecmp(d->key[k], key)) {
            d->used[k] = 1;
            if (where)
                *where = d->where[k];
            return d->val[k];
        }
    return NULL;
}

/* ---- helpers on the parsed netlist ------------------------------------------------ */

static int is_element(const circi_stmt *s)
{
    return !s->control && s->def < 0 && s->ntok && isalpha((unsigned char)s->tok[0][0]);
}

/* The top-level element named `name`, or -1. */
static long find_element(const circi_deck *d, const char *name)
{
    for (size_t k = 0; k < d->n; k++)
        if (is_element(&d->st[k]) && !strcasecmp(d->st[k].tok[0], name))
            return (long)k;
    return -1;
}

/* 1 if `node` is a node of some top-level element (hierarchical names
 * "x1.out" are taken as they are). */
static int is_node(const circi_deck *d, const char *node)
{
    if (strchr(node, '.') || !strcmp(node, "0"))
        return 1;
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (!is_element(s))
            continue;
        for (size_t t = 1; t < s->ntok && !strchr(s->tok[t], '='); t++)
            if (!strcasecmp(s->tok[t], node))
                return 1;
    }
    return 0;
}

/* 1 if `node` appears inside definition `def`. */
static int def_has_node(const circi_deck *d, int def, const char *node)
{
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def != def && k != d->def[def].open)
            continue;
        for (size_t t = 1; t < s->ntok && !strchr(s->tok[t], '='); t++)
            if (!strcasecmp(s->tok[t], node))
                return 1;
    }
    return 0;
}

/* The DC value of an independent source statement ("V1 a b 1.8", "I1 a b
 * DC {iin}"); SS_ENOTFOUND when it has none (PWL, PULSE, ...). */
static int source_dc(const circi_deck *d, const circi_stmt *s, double *v)
{
    size_t t = 3;
    if (s->ntok <= t)
        return SS_ENOTFOUND;
    if (!strcasecmp(s->tok[t], "dc"))
        t++;
    if (s->ntok <= t || strchr(s->tok[t], '(') || strchr(s->tok[t], '='))
        return SS_ENOTFOUND;
    if (s->ntok > t + 1 && strcasecmp(s->tok[t + 1], "ac"))
        return SS_ENOTFOUND;
    ss_error e;
    return circi_eval(&d->global, s->tok[t], v, &e) ? SS_ENOTFOUND : SS_OK;
}

/* A source named by key `key`: must exist at the top level and be a V or I
 * source (`types`, e.g. "v" or "i"). */
static int named_source(const circi_deck *d, decl *dc, const char *key, const char *types,
                        int required, const char *what, long *idx, ss_error *err)
{
    const char *where, *name = decl_get(dc, key, &where);
    *idx = -1;
    if (!name)
        return required ? ss_error_set(err, SS_EPARSE,
                                       "%s: a deck needs %s=NAME, %s (the declaration names "
                                       "input=, spike= and supply=, see docs/circuits.md)",
                                       dc->where_file, key, what)
                        : SS_OK;
    long k = find_element(d, name);
    if (k < 0 || !strchr(types, tolower((unsigned char)name[0])))
        return ss_error_set(err, SS_EPARSE, "%s: %s=%s: the deck has no %s source '%s' (%s)",
                            where, key, name, types[0] == 'i' ? "current" : "voltage", name,
                            what);
    *idx = k;
    return SS_OK;
}

/* The step of the deck's own transient (.tran, or tran in .control). */
static void deck_tran(const circi_deck *d, double *tmax, int *uic)
{
    *tmax = 0;
    *uic = 0;
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def >= 0 || s->ntok < 3 ||
            strcasecmp(s->tok[0], s->control ? "tran" : ".tran"))
            continue;
        double step, mx;
        if (ss_util_parse_spice_number(s->tok[1], &step))
            continue;
        *tmax = step;
        if (s->ntok > 4 && !ss_util_parse_spice_number(s->tok[4], &mx) && mx > 0)
            *tmax = fmin(step, mx);
        for (size_t t = 3; t < s->ntok; t++)
            *uic |= !strcasecmp(s->tok[t], "uic");
        return;
    }
}

/* The deck's temperature (.temp or .options temp=), NAN if none. */
static double deck_temp(const circi_deck *d)
{
    double t = NAN, v;
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def >= 0 || s->control || !s->ntok)
            continue;
        if (!strcasecmp(s->tok[0], ".temp") && s->ntok > 1 &&
            !ss_util_parse_spice_number(s->tok[1], &v))
            t = v;
        if (!strncasecmp(s->tok[0], ".opt", 4))
            for (size_t q = 1; q < s->ntok; q++)
                if (!strncasecmp(s->tok[q], "temp=", 5) &&
                    !ss_util_parse_spice_number(s->tok[q] + 5, &v))
                    t = v;
    }
    return t;
}

static int unused_keys(decl *dc, const char *allowed, ss_error *err)
{
    for (size_t k = 0; k < dc->n; k++)
        if (!dc->used[k])
            return ss_error_set(err, SS_EPARSE, "%s: unknown key '%s' in the declaration "
                                "(keys here: %s)", dc->where[k], dc->key[k], allowed);
    return SS_OK;
}

/* ---- a whole deck ------------------------------------------------------------------- */

static int load_deck(user_circuit *u, const circi_deck *d, decl *dc, const ss_circuit_info *base,
                     ss_error *err)
{
    ss_circuit_info *ci = &u->info;
    int syn = base->kind == SS_CIRCUIT_SYNAPSE, rc;
    long in, pre = -1, out = -1;
    if ((rc = named_source(d, dc, "input", "i", 1,
                           syn ? "the weight current Iw" : "the input current", &in, err)))
        return rc;
    if (syn && ((rc = named_source(d, dc, "pre", "v", 1, "the pre-synaptic pulse", &pre, err)) ||
                (rc = named_source(d, dc, "output", "v", 1, "a 0 V source carrying Isyn", &out,
                                   err))))
        return rc;
    const char *where, *spike = syn ? NULL : decl_get(dc, "spike", &where);
    if (!syn && !spike)
        return ss_error_set(err, SS_EPARSE, "%s: a deck needs spike=NODE, its spike output "
                            "(the declaration names input=, spike= and supply=, see "
                            "docs/circuits.md)", dc->where_file);
    if (spike && !is_node(d, spike))
        return ss_error_set(err, SS_EPARSE, "%s: spike=%s: no element of the deck has a node "
                            "'%s'", where, spike, spike);
    static const char *const nodes[] = {"membrane", "reset"};
    const char *nv[2] = {NULL, NULL};
    for (int q = 0; q < 2 && !syn; q++)
        if ((nv[q] = decl_get(dc, nodes[q], &where)) && !is_node(d, nv[q]))
            return ss_error_set(err, SS_EPARSE, "%s: %s=%s: no element of the deck has a node "
                                "'%s'", where, nodes[q], nv[q], nv[q]);
    /* supplies: voltage sources with a DC value */
    const char *sup = decl_get(dc, "supply", &where);
    if (!sup)
        return ss_error_set(err, SS_EPARSE, "%s: a deck needs supply=NAME[,NAME], its supply "
                            "source(s) (the declaration names input=, spike= and supply=, see "
                            "docs/circuits.md)", dc->where_file);
    char list[512], *save = NULL;
    snprintf(list, sizeof list, "%s", sup);
    size_t ns = 0;
    long sidx[4];
    for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        long k = find_element(d, p);
        double v;
        if (ns == 4)
            return ss_error_set(err, SS_EPARSE, "%s: supply=: at most 4 supplies", where);
        if (k < 0 || tolower((unsigned char)p[0]) != 'v')
            return ss_error_set(err, SS_EPARSE, "%s: supply=%s: the deck has no voltage source "
                                "'%s'", where, sup, p);
        if (source_dc(d, &d->st[k], &v) || !(v > 0))
            return ss_error_set(err, SS_EPARSE, "%s:%d: supply %s needs a positive DC value",
                                circi_stmt_file(d, (size_t)k), circi_stmt_line(d, (size_t)k), p);
        ci->supply_v[ns] = v;
        sidx[ns++] = k;
    }
    if ((rc = unused_keys(dc, syn ? "like, input, pre, output, supply"
                                  : "like, input, spike, supply, membrane, reset",
                          err)))
        return rc;
    double iv;
    ci->input = keep(u, d->st[in].tok[0], strlen(d->st[in].tok[0]));
    if (!source_dc(d, &d->st[in], &iv))
        ci->input_default = iv;
    ci->deck = 1;
    ci->subckt = NULL;
    ci->ports = "";
    ci->vdd = ci->supply_v[0];
    ci->supply = keep(u, sup, strlen(sup));
    ci->spike = spike ? keep(u, spike, strlen(spike)) : NULL;
    ci->membrane = nv[0] ? keep(u, nv[0], strlen(nv[0])) : NULL;
    ci->reset = nv[1] ? keep(u, nv[1], strlen(nv[1])) : NULL;
    ci->pre = pre >= 0 ? keep(u, d->st[pre].tok[0], strlen(d->st[pre].tok[0])) : NULL;
    ci->output = out >= 0 ? keep(u, d->st[out].tok[0], strlen(d->st[out].tok[0])) : NULL;
    ci->input_dir = 0;
    deck_tran(d, &ci->tmax, &ci->uic);
    ci->temp = deck_temp(d);
    /* biases: the deck's other DC sources */
    ci->nbias = 0;
    for (size_t k = 0; k < d->n && ci->nbias < SS_CIRCUIT_MAX_BIAS; k++) {
        const circi_stmt *s = &d->st[k];
        char c = (char)tolower((unsigned char)s->tok[0][0]);
        double v;
        int named = (long)k == in || (long)k == pre || (long)k == out;
        for (size_t q = 0; q < ns; q++)
            named |= (long)k == sidx[q];
        if (!is_element(s) || (c != 'v' && c != 'i') || named || source_dc(d, s, &v))
            continue;
        ss_circuit_bias *b = &ci->bias[ci->nbias++];
        b->name = b->node = keep(u, s->tok[0], strlen(s->tok[0]));
        b->voltage = c == 'v';
        b->ptype = 0;
        b->value = v;
        b->help = keepf(u, "the deck's %s source (%s:%d)", b->voltage ? "voltage" : "current",
                        circi_stmt_file(d, k), circi_stmt_line(d, k));
    }
    if (!ci->input || !ci->supply || (spike && !ci->spike))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return SS_OK;
}

/* ---- a subcircuit --------------------------------------------------------------------- */

/* The roles of library circuit ci: the pins of its .subckt line. */
static int roles_of(const ss_circuit_info *ci, ss_netlist *lib, circi_deck *ld, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_printf(&b, "* %s\n%s", ci->name, circi_text(ci));
    if (rc)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = ss_netlist_read_string(lib, b.data, ci->file, NULL, 0, err);
    ss_buf_release(&b);
    if (!rc)
        rc = circi_deck_parse(lib, ld, err);
    if (!rc && ld->ndef < 1)
        rc = ss_error_set(err, SS_ENOTFOUND, "no .subckt in '%s'", ci->file);
    return rc;
}

static int load_subckt(user_circuit *u, const circi_deck *d, decl *dc, const ss_circuit_info *base,
                       ss_error *err)
{
    ss_circuit_info *ci = &u->info;
    ss_netlist lib = SS_NETLIST_INIT;
    circi_deck ld;
    memset(&ld, 0, sizeof ld);
    int rc = roles_of(base, &lib, &ld, err);
    if (rc) {
        ss_netlist_release(&lib);
        return rc;
    }
    const circi_stmt *ls = &ld.st[ld.def[0].open];
    size_t nrole = circi_subckt_params(ls) - 2;
    char *const *role = ls->tok + 2;
    char roles[512] = "";
    for (size_t k = 0; k < nrole; k++)
        snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", k ? " " : "",
                 role[k]);
    /* the subcircuit: subckt=NAME or the only one */
    const char *where, *want = decl_get(dc, "subckt", &where);
    int def = -1;
    size_t ntop = 0;
    for (size_t i = 0; i < d->ndef; i++)
        ntop += d->def[i].parent < 0;
    if (want)
        def = circi_def_find(d, want);
    else if (ntop == 1)
        for (size_t i = 0; i < d->ndef; i++)
            if (d->def[i].parent < 0)
                def = (int)i;
    if (def < 0) {
        rc = want ? ss_error_set(err, SS_EPARSE, "%s: no .subckt '%s' in the file", where, want)
                  : ss_error_set(err, SS_EPARSE, "%s: %s .subckt in the file: name one with "
                                 "subckt=NAME", dc->where_file, ntop ? "more than one" : "no");
        goto out;
    }
    const circi_stmt *open = &d->st[d->def[def].open];
    size_t npin = circi_subckt_params(open) - 2;
    char *const *pin = open->tok + 2;
    if (npin > MAX_PINS) {
        rc = ss_error_set(err, SS_EPARSE, "%s:%d: more than %d pins", circi_stmt_file(d, d->def[def].open),
                          circi_stmt_line(d, d->def[def].open), MAX_PINS);
        goto out;
    }
    char bench_ports[1024], *node[MAX_PINS], *save = NULL;
    snprintf(bench_ports, sizeof bench_ports, "%s", base->ports);
    size_t nnode = 0;
    for (char *p = strtok_r(bench_ports, " ", &save); p && nnode < MAX_PINS;
         p = strtok_r(NULL, " ", &save))
        node[nnode++] = p;
    const char *bench_node[MAX_PINS] = {0};
    /* roles: ROLE=PIN or the pin of the same name */
    for (size_t k = 0; k < nrole && k < nnode; k++) {
        const char *p = decl_get(dc, role[k], &where);
        if (!p)
            p = role[k], where = dc->where_file;
        size_t j = 0;
        while (j < npin && strcasecmp(pin[j], p))
            j++;
        if (j == npin) {
            rc = ss_error_set(err, SS_EPARSE, "%s: port '%s' of %s: subckt '%s' has no pin '%s' "
                              "(declare %s=PIN)", where, role[k], base->name,
                              d->def[def].name, p, role[k]);
            goto out;
        }
        if (bench_node[j]) {
            rc = ss_error_set(err, SS_EPARSE, "%s: pin '%s' is declared for two ports", where,
                              pin[j]);
            goto out;
        }
        bench_node[j] = node[k];
    }
    /* biases: the library's (values from the declaration) and new ones on
     * pins without a role, NAME=PIN:VALUE[:n|:p] */
    ci->nbias = base->nbias;
    for (size_t i = 0; i < base->nbias; i++) {
        ci->bias[i] = base->bias[i];
        const char *v = decl_get(dc, base->bias[i].name, &where);
        int volt;
        if (v && (rc = ss_circuit_bias_parse(v, 0, &ci->bias[i].value, &volt, err))) {
            rc = ss_error_prefix(err, rc, "%s: %s", where, base->bias[i].name);
            goto out;
        }
        if (v)
            ci->bias[i].voltage = volt;
        if (v && !volt && ci->bias[i].value > 1e-3) {
            rc = ss_error_set(err, SS_EPARSE, "%s: %s=%s is %g A, not a bias current: for a "
                              "voltage write %sV", where, base->bias[i].name, v,
                              ci->bias[i].value, v);
            goto out;
        }
    }
    for (size_t k = 0; k < dc->n; k++) {
        char *colon = strchr(dc->val[k], ':');
        if (dc->used[k] || !colon)
            continue;
        dc->used[k] = 1;
        char pname[128], val[64], type = 'n';
        snprintf(pname, sizeof pname, "%.*s", (int)(colon - dc->val[k]), dc->val[k]);
        snprintf(val, sizeof val, "%s", colon + 1);
        char *t = strchr(val, ':');
        if (t) {
            *t = '\0';
            type = (char)tolower((unsigned char)t[1]);
            if ((type != 'n' && type != 'p') || t[2]) {
                rc = ss_error_set(err, SS_EPARSE, "%s: %s=%s: the diode type after the value "
                                  "is :n or :p", dc->where[k], dc->key[k], dc->val[k]);
                goto out;
            }
        }
        size_t j = 0;
        while (j < npin && strcasecmp(pin[j], pname))
            j++;
        if (j == npin || bench_node[j]) {
            rc = ss_error_set(err, SS_EPARSE, "%s: bias %s=%s: subckt '%s' has %s pin '%s'",
                              dc->where[k], dc->key[k], dc->val[k], d->def[def].name,
                              j == npin ? "no" : "a role on its", pname);
            goto out;
        }
        if (ci->nbias == SS_CIRCUIT_MAX_BIAS) {
            rc = ss_error_set(err, SS_EPARSE, "%s: more than %d biases", dc->where[k],
                              SS_CIRCUIT_MAX_BIAS);
            goto out;
        }
        ss_circuit_bias *b = &ci->bias[ci->nbias];
        int volt;
        for (size_t i = 0; i < ci->nbias; i++)
            if (!strcasecmp(ci->bias[i].name, dc->key[k])) {
                rc = ss_error_set(err, SS_EPARSE, "%s: bias '%s' is declared twice",
                                  dc->where[k], dc->key[k]);
                goto out;
            }
        if ((rc = ss_circuit_bias_parse(val, 0, &b->value, &volt, err))) {
            rc = ss_error_prefix(err, rc, "%s: %s", dc->where[k], dc->key[k]);
            goto out;
        }
        if (!volt && !(b->value >= 0 && b->value <= 1e-3)) {
            rc = ss_error_set(err, SS_EPARSE, "%s: %s=%s: %g A is not a bias current (a "
                              "voltage needs V: 0.45V)", dc->where[k], dc->key[k], dc->val[k],
                              b->value);
            goto out;
        }
        b->voltage = volt;
        b->ptype = type == 'p';
        b->name = keep(u, dc->key[k], strlen(dc->key[k]));
        b->node = bench_node[j] = keepf(u, "xb_%s", pname);
        b->help = keepf(u, "declared on pin %s (%s)", pname, dc->where[k]);
        if (!b->name || !b->node || !b->help) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        ci->nbias++;
    }
    /* the stimulus' direction */
    const char *st = decl_get(dc, "stimulus", &where);
    ci->input_dir = base->input_dir;
    if (st && base->kind == SS_CIRCUIT_NEURON && !strcasecmp(st, "source"))
        ci->input_dir = 1;
    else if (st && base->kind == SS_CIRCUIT_NEURON && !strcasecmp(st, "sink"))
        ci->input_dir = -1;
    else if (st) {
        rc = ss_error_set(err, SS_EPARSE, "%s: stimulus=%s: a neuron's input current is "
                          "'source' (pushed into its pin) or 'sink' (drawn out of it)",
                          where, st);
        goto out;
    }
    const char *rst = decl_get(dc, "reset", &where);
    if (rst && !def_has_node(d, def, rst)) {
        rc = ss_error_set(err, SS_EPARSE, "%s: reset=%s: subckt '%s' has no node '%s'", where,
                          rst, d->def[def].name, rst);
        goto out;
    }
    if (!rst && base->reset && def_has_node(d, def, base->reset))
        rst = base->reset;
    char allowed[700];
    snprintf(allowed, sizeof allowed, "like, subckt, stimulus, reset, the ports %s, the biases "
             "of %s, NAME=PIN:VALUE", roles, base->name);
    if ((rc = unused_keys(dc, allowed, err)))
        goto out;
    /* every pin a role or a bias */
    ss_buf ports = SS_BUF_INIT;
    for (size_t j = 0; j < npin && !rc; j++) {
        if (!bench_node[j])
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: pin '%s' of subckt '%s' has no port of %s "
                              "(ports: %s) and no bias (NAME=%s:VALUE)",
                              circi_stmt_file(d, d->def[def].open), circi_stmt_line(d, d->def[def].open),
                              pin[j], d->def[def].name, base->name, roles, pin[j]);
        else if (ss_buf_printf(&ports, "%s%s", j ? " " : "", bench_node[j]))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!rc) {
        ci->ports = ports.data ? keep(u, ports.data, ports.len) : NULL;
        ci->subckt = keep(u, d->def[def].name, strlen(d->def[def].name));
        ci->reset = rst ? keep(u, rst, strlen(rst)) : NULL;
        if (!ci->ports || !ci->subckt || (rst && !ci->reset))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    ss_buf_release(&ports);
out:
    circi_deck_free(&ld);
    ss_netlist_release(&lib);
    return rc;
}

/* ---- loading ------------------------------------------------------------------------- */

static const char *const subckt_top[] = {".param", ".model", ".func", ".global", ".options",
                                         ".option", ".opt", ".ic", ".nodeset", ".temp",
                                         ".csparam", ".end", NULL};

static int card_in(const char *tok, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcasecmp(tok, list[i]))
            return 1;
    return 0;
}

ss_circuit_info *ss_circuit_load_declared(const char *path, const char *extra, ss_error *err)
{
    user_circuit *u = calloc(1, sizeof *u);
    decl *dc = calloc(1, sizeof *dc);
    circi_deck d;
    memset(&d, 0, sizeof d);
    int rc = u && dc ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    /* A deck's .control block is read (its tran step is the deck's) but
     * never sent to ngspice: the bench leaves it out and is screened
     * without SS_NETLIST_ALLOW_CONTROL. */
    if (!rc)
        rc = ss_netlist_read_file(&u->nl, path, SS_NETLIST_ALLOW_CONTROL, err);
    if (!rc)
        rc = circi_deck_parse(&u->nl, &d, err);
    if (rc)
        goto out;
    /* the declaration line (the file's first "* smallsim:") */
    int decl_line = 0;
    for (size_t i = 0; i < u->nl.n && !decl_line; i++) {
        const char *t = u->nl.lines[i].text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t != '*')
            continue;
        t++;
        while (*t == ' ' || *t == '\t')
            t++;
        if (!strncasecmp(t, "smallsim:", 9)) {
            decl_line = u->nl.lines[i].line;
            snprintf(dc->buf[0], sizeof dc->buf[0], "%s", t + 9);
            snprintf(dc->where_file, sizeof dc->where_file, "%s:%d", u->nl.lines[i].file,
                     decl_line);
        }
    }
    if (!decl_line)
        snprintf(dc->where_file, sizeof dc->where_file, "%s:1", path);
    if (decl_line && (rc = decl_add(dc, dc->buf[0], dc->where_file, err)))
        goto out;
    if (extra) {
        snprintf(dc->buf[1], sizeof dc->buf[1], "%s", extra);
        if ((rc = decl_add(dc, dc->buf[1], "--declare", err)))
            goto out;
    }
    if (!dc->n) {
        rc = ss_error_set(err, SS_EPARSE,
                          "%s:1: no port declaration: add a line '* smallsim: like=dpi-neuron "
                          "[subckt=NAME] [ROLE=PIN ...]' for a subcircuit, or '* smallsim: "
                          "like=dpi-neuron input=SOURCE spike=NODE supply=SOURCE' for a deck "
                          "(see docs/circuits.md)", path);
        goto out;
    }
    const char *where, *like = decl_get(dc, "like", &where);
    const ss_circuit_info *base = like ? ss_circuit_find(like) : NULL;
    if (!base) {
        rc = ss_error_set(err, SS_EPARSE,
                          "%s: the declaration needs like=CIRCUIT, a library circuit "
                          "(dpi-neuron, axon-hillock, dpi-synapse)%s%s%s",
                          like ? where : dc->where_file, like ? "; unknown '" : "",
                          like ? like : "", like ? "'" : "");
        goto out;
    }
    /* a deck (elements at the top level) or a subcircuit file */
    long first_element = -1;
    for (size_t k = 0; k < d.n && first_element < 0; k++) {
        const circi_stmt *s = &d.st[k];
        if (s->def < 0 && !s->control && s->ntok && isalpha((unsigned char)s->tok[0][0]))
            first_element = (long)k;
    }
    u->info = *base;
    u->info.netlist = &u->nl;
    u->info.like = base->name;
    u->info.help = "a designer's circuit";
    u->info.temp = NAN;
    if (first_element >= 0) {
        rc = load_deck(u, &d, dc, base, err);
    } else {
        for (size_t k = 0; k < d.n && !rc; k++) {
            const circi_stmt *s = &d.st[k];
            if (s->def >= 0 || !s->ntok || s->control || card_in(s->tok[0], subckt_top) ||
                !strcasecmp(s->tok[0], ".subckt") || !strcasecmp(s->tok[0], ".ends"))
                continue;
            rc = ss_error_set(err, SS_EPARSE,
                              "%s:%d: a subcircuit file holds only .subckt blocks, .param, "
                              ".model, .func, .global, .options, .ic and comments at its top "
                              "level (found '%.40s'); a deck with its own bench declares "
                              "input=, spike= and supply=", circi_stmt_file(&d, k),
                              circi_stmt_line(&d, k), s->text);
        }
        if (!rc)
            rc = load_subckt(u, &d, dc, base, err);
        u->info.temp = deck_temp(&d); /* the file's .temp, if any */
    }
    if (rc)
        goto out;
    /* the file's text without title (for ss_circuit_info.text) */
    ss_buf text = SS_BUF_INIT;
    for (size_t i = 1; !rc && i < u->nl.n; i++)
        if (ss_buf_printf(&text, "%s\n", u->nl.lines[i].text))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc) {
        u->info.text = text.data ? keep(u, text.data, text.len) : keep(u, "", 0);
        u->info.name = u->info.file = keep(u, path, strlen(path));
        if (!u->info.text || !u->info.name)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    ss_buf_release(&text);
out:
    circi_deck_free(&d);
    free(dc);
    if (rc) {
        if (u)
            ss_circuit_free(&u->info);
        return NULL;
    }
    return &u->info;
}

ss_circuit_info *ss_circuit_load(const char *path, ss_error *err)
{
    return ss_circuit_load_declared(path, NULL, err);
}
