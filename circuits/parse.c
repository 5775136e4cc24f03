/* parse.c: a circuit's netlist as statements, subcircuit definitions and
 * parameter scopes: the hierarchy walk that finds every transistor of a
 * circuit with its evaluated size (mismatch), and the model cards it uses. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"

#define MAX_NESTING 32

static int starts(const char *s, const char *word)
{
    size_t n = strlen(word);
    return !strncasecmp(s, word, n) && (!s[n] || isspace((unsigned char)s[n]));
}

void circi_deck_free(circi_deck *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->st[i].text);
        ss_netlist_names_free(d->st[i].tok, d->st[i].ntok);
    }
    free(d->st);
    for (size_t i = 0; i < d->ndef; i++)
        free(d->def[i].name);
    free(d->def);
    circi_scope_free(&d->global);
    memset(d, 0, sizeof *d);
}

const char *circi_stmt_file(const circi_deck *d, size_t s)
{
    return d->nl->lines[d->st[s].line].file;
}

int circi_stmt_line(const circi_deck *d, size_t s)
{
    return d->nl->lines[d->st[s].line].line;
}

int circi_def_find(const circi_deck *d, const char *name)
{
    for (size_t i = 0; name && i < d->ndef; i++)
        if (!strcasecmp(d->def[i].name, name))
            return (int)i;
    return -1;
}

/* ---- parameter scopes ------------------------------------------------------ */

void circi_scope_free(circi_scope *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->name[i]);
        free(s->why[i]);
    }
    free(s->name);
    free(s->val);
    free(s->why);
    s->name = NULL;
    s->val = NULL;
    s->why = NULL;
    s->n = s->cap = 0;
}

/* Sets `name` to v, or marks it unevaluable with `why` (v NAN). */
static int scope_put(circi_scope *s, const char *name, double v, const char *why)
{
    size_t i = 0;
    while (i < s->n && strcasecmp(s->name[i], name))
        i++;
    if (i == s->n) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? 2 * s->cap : 16;
            char **nn = realloc(s->name, cap * sizeof *nn);
            if (nn)
                s->name = nn;
            double *nv = realloc(s->val, cap * sizeof *nv);
            if (nv)
                s->val = nv;
            char **nw = realloc(s->why, cap * sizeof *nw);
            if (nw)
                s->why = nw;
            if (!nn || !nv || !nw)
                return SS_ENOMEM;
            s->cap = cap;
        }
        if (!(s->name[i] = strdup(name)))
            return SS_ENOMEM;
        s->why[i] = NULL;
        s->n++;
    }
    free(s->why[i]);
    s->why[i] = why ? strdup(why) : NULL;
    s->val[i] = v;
    return why && !s->why[i] ? SS_ENOMEM : SS_OK;
}

struct lookup_ctx {
    const circi_scope *s;
    const char *failed; /* name of an unevaluable parameter met */
    const char *why;
};

static int lookup(void *user, const char *name, double *v)
{
    struct lookup_ctx *c = user;
    for (const circi_scope *s = c->s; s; s = s->up)
        for (size_t i = 0; i < s->n; i++)
            if (!strcasecmp(s->name[i], name)) {
                if (s->why[i]) {
                    c->failed = s->name[i];
                    c->why = s->why[i];
                    return SS_ENOTFOUND;
                }
                *v = s->val[i];
                return SS_OK;
            }
    return SS_ENOTFOUND;
}

int circi_eval(const circi_scope *s, const char *text, double *v, ss_error *err)
{
    struct lookup_ctx c = {s, NULL, NULL};
    ss_error e;
    int rc = ss_netlist_eval(text, lookup, &c, v, &e);
    if (rc && c.failed)
        return ss_error_set(err, rc, "parameter '%s' could not be evaluated (%s)", c.failed,
                            c.why);
    if (rc)
        return ss_error_set(err, rc, "%s", e.msg);
    return SS_OK;
}

/* The key=value tokens of a statement from token `first` on ("params:"
 * skipped) into the scope, each evaluated in `in` (NULL: in the scope
 * itself, so later values see earlier ones).  Names already set are kept
 * when `keep` (instance values win over subcircuit defaults). */
static int assign_all(circi_scope *s, const circi_scope *in, char **tok, size_t ntok,
                      size_t first, int keep)
{
    for (size_t k = first; k < ntok; k++) {
        char *eq = strchr(tok[k], '=');
        if (!eq || eq == tok[k])
            continue;
        *eq = '\0';
        int have = 0;
        for (size_t i = 0; keep && i < s->n; i++)
            have |= !strcasecmp(s->name[i], tok[k]);
        int rc = SS_OK;
        if (!have) {
            double v = NAN;
            ss_error e;
            if (circi_eval(in ? in : s, eq + 1, &v, &e))
                rc = scope_put(s, tok[k], NAN, e.msg);
            else
                rc = scope_put(s, tok[k], v, NULL);
        }
        *eq = '=';
        if (rc)
            return rc;
    }
    return SS_OK;
}

/* ---- statements -------------------------------------------------------------- */

static int push_stmt(circi_deck *d, char *text, size_t line, int def, int control)
{
    if (d->n % 64 == 0) {
        circi_stmt *n = realloc(d->st, (d->n + 64) * sizeof *n);
        if (!n)
            return SS_ENOMEM;
        d->st = n;
    }
    circi_stmt *s = &d->st[d->n];
    memset(s, 0, sizeof *s);
    s->text = text;
    s->line = line;
    s->def = def;
    s->control = control;
    int rc = ss_netlist_tokens(text, &s->tok, &s->ntok);
    d->n++; /* owns text from here on */
    return rc;
}

int circi_deck_parse(const ss_netlist *nl, circi_deck *d, ss_error *err)
{
    memset(d, 0, sizeof *d);
    d->nl = nl;
    int stack[MAX_NESTING], depth = 0, control = 0, rc = SS_OK;
    for (size_t i = 1, next; !rc && i < nl->n; i = next) {
        char *text = NULL;
        if (ss_netlist_statement(nl, i, &text, &next)) {
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            break;
        }
        const char *t = text;
        while (isspace((unsigned char)*t))
            t++;
        int kind = ss_netlist_classify(nl->lines[i].text);
        if (!*t && kind != SS_NETLIST_CONTROL && kind != SS_NETLIST_ENDC) {
            free(text);
            continue;
        }
        if (kind == SS_NETLIST_CONTROL) {
            control = 1;
        } else if (kind == SS_NETLIST_ENDC) {
            control = 0;
            free(text);
            continue;
        }
        if (control) {
            /* kept (the designer's own analysis), never sent; as written,
             * since '$' starts a variable there, not a comment */
            free(text);
            if (!(text = strdup(nl->lines[i].text))) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
            if ((rc = push_stmt(d, text, i, depth ? stack[depth - 1] : -1, 1)))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            continue;
        }
        int def = depth ? stack[depth - 1] : -1;
        if (starts(t, ".subckt")) {
            if (depth == MAX_NESTING) {
                free(text);
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: .subckt nested too deeply",
                                  nl->lines[i].file, nl->lines[i].line);
                break;
            }
            circi_def *nd = realloc(d->def, (d->ndef + 1) * sizeof *nd);
            if (!nd) {
                free(text);
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
            d->def = nd;
            memset(&nd[d->ndef], 0, sizeof *nd);
            nd[d->ndef].open = d->n;
            nd[d->ndef].parent = def;
            if ((rc = push_stmt(d, text, i, def, 0))) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
            const circi_stmt *s = &d->st[d->n - 1];
            if (s->ntok < 2) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: .subckt without a name",
                                  nl->lines[i].file, nl->lines[i].line);
                break;
            }
            if (!(nd[d->ndef].name = strdup(s->tok[1]))) {
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                break;
            }
            stack[depth++] = (int)d->ndef++;
            continue;
        }
        if (starts(t, ".ends")) {
            if (!depth) {
                free(text);
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: .ends without .subckt",
                                  nl->lines[i].file, nl->lines[i].line);
                break;
            }
            d->def[stack[depth - 1]].close = d->n;
            if ((rc = push_stmt(d, text, i, def, 0)))
                rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            depth--;
            continue;
        }
        if ((rc = push_stmt(d, text, i, def, 0)))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!rc && depth)
        rc = ss_error_set(err, SS_EPARSE, "%s:%d: .subckt %s has no .ends",
                          circi_stmt_file(d, d->def[stack[depth - 1]].open),
                          circi_stmt_line(d, d->def[stack[depth - 1]].open),
                          d->def[stack[depth - 1]].name);
    /* the global scope: top-level .param statements in order */
    for (size_t k = 0; !rc && k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def == -1 && !s->control && s->ntok && !strcasecmp(s->tok[0], ".param") &&
            assign_all(&d->global, NULL, s->tok, s->ntok, 1, 0))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (rc)
        circi_deck_free(d);
    return rc;
}

/* ---- instances ------------------------------------------------------------- */

/* The subcircuit an X statement instantiates: the last token before the
 * first key=value or "params:"; *pfirst the index of the first of those. */
const char *circi_instance_subckt(const circi_stmt *s, size_t *pfirst)
{
    size_t k = 1;
    while (k < s->ntok && !strchr(s->tok[k], '=') && strcasecmp(s->tok[k], "params:"))
        k++;
    if (pfirst)
        *pfirst = k;
    return k >= 3 ? s->tok[k - 1] : NULL;
}

/* First param token of a .subckt statement (after its pins). */
size_t circi_subckt_params(const circi_stmt *s)
{
    size_t k = 2;
    while (k < s->ntok && !strchr(s->tok[k], '=') && strcasecmp(s->tok[k], "params:"))
        k++;
    return k;
}

const char *circi_token_value(const circi_stmt *s, size_t first, const char *key)
{
    size_t kl = strlen(key);
    for (size_t k = first; k < s->ntok; k++)
        if (!strncasecmp(s->tok[k], key, kl) && s->tok[k][kl] == '=')
            return s->tok[k] + kl + 1;
    return NULL;
}

static int is_kind(const circi_stmt *s, char c)
{
    return !s->control && s->ntok && tolower((unsigned char)s->tok[0][0]) == c;
}

/* Mismatch slots of definition `def` (-1: the top level): one per
 * transistor statement, plus those of every instance, in statement order. */
int circi_slots(const circi_deck *d, int def, size_t *n, int depth, ss_error *err)
{
    size_t total = 0;
    if (depth > MAX_NESTING)
        return ss_error_set(err, SS_EPARSE, "%s:%d: subcircuit '%s' instantiates itself",
                            circi_stmt_file(d, d->def[def].open), circi_stmt_line(d, d->def[def].open),
                            d->def[def].name);
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def != def)
            continue;
        if (is_kind(s, 'm')) {
            total++;
        } else if (is_kind(s, 'x')) {
            int c = circi_def_find(d, circi_instance_subckt(s, NULL));
            size_t sub = 0;
            if (c < 0)
                return ss_error_set(err, SS_EPARSE, "%s:%d: %s instantiates subcircuit '%s', "
                                    "which is not defined", circi_stmt_file(d, k), circi_stmt_line(d, k),
                                    s->tok[0], circi_instance_subckt(s, NULL)
                                                   ? circi_instance_subckt(s, NULL) : "?");
            int rc = circi_slots(d, c, &sub, depth + 1, err);
            if (rc)
                return rc;
            total += sub;
        }
    }
    *n = total;
    return SS_OK;
}

struct walk {
    const circi_deck *d;
    circi_dev *dev;
    size_t n, cap;
    ss_error *err;
};

static int walk_def(struct walk *w, int def, const char *prefix, circi_scope *scope, int depth)
{
    const circi_deck *d = w->d;
    if (depth > MAX_NESTING)
        return ss_error_set(w->err, SS_EPARSE, "subcircuits nested too deeply at '%s'", prefix);
    /* the definition's own .param statements first, as ngspice does */
    for (size_t k = 0; def >= 0 && k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def == def && !s->control && s->ntok && !strcasecmp(s->tok[0], ".param") &&
            assign_all(scope, NULL, s->tok, s->ntok, 1, 0))
            return ss_error_set(w->err, SS_ENOMEM, "out of memory");
    }
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->def != def)
            continue;
        if (is_kind(s, 'm')) {
            if (w->n == w->cap) {
                size_t cap = w->cap ? 2 * w->cap : 64;
                circi_dev *nd = realloc(w->dev, cap * sizeof *nd);
                if (!nd)
                    return ss_error_set(w->err, SS_ENOMEM, "out of memory");
                w->dev = nd;
                w->cap = cap;
            }
            circi_dev *v = &w->dev[w->n++];
            memset(v, 0, sizeof *v);
            snprintf(v->path, sizeof v->path, "%s%s", prefix, s->tok[0]);
            for (char *p = v->path; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            v->stmt = k;
            v->m = 1.0;
            static const char *const key[3] = {"w", "l", "m"};
            double *dst[3] = {&v->w, &v->l, &v->m};
            v->ok = 1;
            for (int q = 0; q < 3 && v->ok; q++) {
                const char *val = circi_token_value(s, 6, key[q]);
                ss_error e;
                if (!val && q < 2) {
                    v->ok = 0;
                    snprintf(v->why, sizeof v->why, "no %s= on the device line", key[q]);
                } else if (val && circi_eval(scope, val, dst[q], &e)) {
                    v->ok = 0;
                    snprintf(v->why, sizeof v->why, "%s=%.60s: %.120s", key[q], val, e.msg);
                }
            }
            if (v->ok && !(v->w > 0 && v->l > 0 && v->m > 0)) {
                v->ok = 0;
                snprintf(v->why, sizeof v->why, "w=%g l=%g m=%g is not a positive size", v->w,
                         v->l, v->m);
            }
        } else if (is_kind(s, 'x')) {
            size_t pf;
            int c = circi_def_find(d, circi_instance_subckt(s, &pf));
            if (c < 0)
                continue; /* circi_slots reported it */
            circi_scope child = {0};
            child.up = &d->global;
            char sub[sizeof w->dev->path];
            snprintf(sub, sizeof sub, "%s%s.", prefix, s->tok[0]);
            for (char *p = sub; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            const circi_stmt *open = &d->st[d->def[c].open];
            int rc = assign_all(&child, scope, s->tok, s->ntok, pf, 0);
            if (!rc)
                rc = assign_all(&child, NULL, open->tok, open->ntok, circi_subckt_params(open), 1);
            if (rc)
                rc = ss_error_set(w->err, SS_ENOMEM, "out of memory");
            else
                rc = walk_def(w, c, sub, &child, depth + 1);
            circi_scope_free(&child);
            if (rc)
                return rc;
        }
    }
    return SS_OK;
}

int circi_devices(const circi_deck *d, int root, const char *prefix, circi_dev **dev, size_t *n,
                  ss_error *err)
{
    struct walk w = {d, NULL, 0, 0, err};
    size_t slots;
    *dev = NULL;
    *n = 0;
    int rc = circi_slots(d, root, &slots, 0, err);
    if (rc)
        return rc;
    circi_scope scope = {0};
    scope.up = &d->global;
    if (root >= 0) {
        const circi_stmt *open = &d->st[d->def[root].open];
        if (assign_all(&scope, NULL, open->tok, open->ntok, circi_subckt_params(open), 1))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = walk_def(&w, root, prefix, root >= 0 ? &scope : (circi_scope *)&d->global, 0);
    circi_scope_free(&scope);
    if (rc) {
        free(w.dev);
        return rc;
    }
    *dev = w.dev;
    *n = w.n;
    return SS_OK;
}

/* ---- model cards ---------------------------------------------------------- */

int circi_models_of(const circi_deck *d, circi_models_found *m)
{
    for (size_t k = 0; k < d->n; k++) {
        const circi_stmt *s = &d->st[k];
        if (s->control || s->ntok < 3 || strcasecmp(s->tok[0], ".model"))
            continue;
        /* binned cards "n18.1", "n18.2": one model "n18" */
        char base[64];
        snprintf(base, sizeof base, "%s", s->tok[1]);
        char *dot = strrchr(base, '.');
        if (dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1))
            *dot = '\0';
        for (char *p = base; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        const char *type = s->tok[2];
        char ty[16];
        snprintf(ty, sizeof ty, "%.*s", (int)strcspn(type, "("), type);
        int kind = !strcasecmp(ty, "nmos") ? 0 : !strcasecmp(ty, "pmos") ? 1 : 2;
        size_t i = 0;
        while (i < m->n && strcmp(m->name[i], base))
            i++;
        if (i < m->n || m->n == CIRCI_MAX_MODELS)
            continue;
        snprintf(m->name[m->n], sizeof m->name[0], "%s", base);
        m->kind[m->n++] = kind;
    }
    return SS_OK;
}

int circi_model_known(const circi_models_found *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcasecmp(m->name[i], name))
            return 1;
    /* a binned reference "n18.3" */
    const char *dot = strrchr(name, '.');
    if (dot && dot[1] && strspn(dot + 1, "0123456789") == strlen(dot + 1))
        for (size_t i = 0; i < m->n; i++)
            if (strlen(m->name[i]) == (size_t)(dot - name) &&
                !strncasecmp(m->name[i], name, (size_t)(dot - name)))
                return 1;
    return 0;
}
