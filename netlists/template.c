/* template.c: statement-level views and edits of an in-memory netlist
 * (.param listing, .subckt and .meas names, value overrides, added .meas
 * lines) for sweeps.  Pure text: no simulator is involved. */
#include "netlists/ss_netlist.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lines and statements ----------------------------------------------- */

static const char *skip_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

static int line_is_blank_or_comment(const char *s)
{
    s = skip_space(s);
    return !*s || *s == '*';
}

static int line_is_continuation(const char *s)
{
    return *skip_space(s) == '+';
}

/* Length of `s` without its inline comment (" $", ";", "//" outside quotes
 * and braces) and trailing space. */
static size_t code_length(const char *s)
{
    size_t i = 0;
    int depth = 0;
    char quote = 0;
    for (; s[i]; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '\'' || c == '"')
            quote = c;
        else if (c == '{')
            depth++;
        else if (c == '}' && depth > 0)
            depth--;
        else if (depth == 0 && (c == ';' || (c == '/' && s[i + 1] == '/') ||
                                (c == '$' && (i == 0 || isspace((unsigned char)s[i - 1])))))
            break;
    }
    while (i > 0 && isspace((unsigned char)s[i - 1]))
        i--;
    return i;
}

int ss_netlist_statement(const ss_netlist *nl, size_t i, char **text, size_t *next)
{
    if (!nl || i >= nl->n || !text)
        return SS_EINVAL;
    ss_buf b = SS_BUF_INIT;
    size_t j = i + 1;
    int rc = ss_buf_add(&b, "", 0);
    const char *first = nl->lines[i].text;
    if (!rc && i > 0 && !line_is_blank_or_comment(first) && !line_is_continuation(first)) {
        const char *s = skip_space(first);
        rc = ss_buf_add(&b, s, code_length(s));
        while (!rc) {
            size_t k = j;
            while (k < nl->n && line_is_blank_or_comment(nl->lines[k].text))
                k++;
            if (k >= nl->n || !line_is_continuation(nl->lines[k].text))
                break;
            const char *c = skip_space(skip_space(nl->lines[k].text) + 1);
            size_t len = code_length(c);
            if (len)
                rc = ss_buf_add(&b, " ", 1) || ss_buf_add(&b, c, len);
            j = k + 1;
        }
    } else if (!rc && i == 0) {
        /* The title line is a statement of its own and never continues. */
        rc = ss_buf_add(&b, first, strlen(first));
    }
    if (rc) {
        ss_buf_release(&b);
        return SS_ENOMEM;
    }
    *text = b.data;
    if (next)
        *next = j;
    return SS_OK;
}

/* ---- tokens ---------------------------------------------------------------- */

/* A token is a run of non-space characters; braces, parentheses and quotes
 * group, so "{a + b}" and "pulse(0 1 0)" are single tokens. */
typedef struct tok {
    size_t start, end;
} tok;

typedef struct toklist {
    tok *t;
    size_t n, cap;
} toklist;

/* Collapses the spaces around a lone '=' outside groups, so "w = 1u"
 * becomes "w=1u" (same meaning to ngspice).  Returns a heap string. */
static char *normalize_equals(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int depth = 0;
    char quote = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '{' || c == '(') {
            depth++;
        } else if ((c == '}' || c == ')') && depth > 0) {
            depth--;
        } else if (depth == 0 && c == '=' && !(i + 1 < n && s[i + 1] == '=') &&
                   !(i > 0 && strchr("=<>!", s[i - 1]))) {
            /* Never glue a value onto the first word (".param = 3"). */
            size_t back = o;
            while (back > 0 && isspace((unsigned char)out[back - 1]))
                back--;
            size_t first = 0;
            while (first < o && isspace((unsigned char)out[first]))
                first++;
            while (first < o && !isspace((unsigned char)out[first]))
                first++;
            if (back > first)
                o = back;
            out[o++] = '=';
            while (i + 1 < n && isspace((unsigned char)s[i + 1]))
                i++;
            continue;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

static int tokenize(const char *s, toklist *tl)
{
    tl->n = 0;
    size_t i = 0;
    for (;;) {
        while (s[i] && isspace((unsigned char)s[i]))
            i++;
        if (!s[i])
            return SS_OK;
        size_t start = i;
        int depth = 0;
        char quote = 0;
        for (; s[i]; i++) {
            char c = s[i];
            if (quote) {
                if (c == quote)
                    quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '{' || c == '(') {
                depth++;
            } else if ((c == '}' || c == ')') && depth > 0) {
                depth--;
            } else if (depth == 0 && isspace((unsigned char)c)) {
                break;
            }
        }
        if (tl->n == tl->cap) {
            size_t cap = tl->cap ? 2 * tl->cap : 16;
            tok *t = realloc(tl->t, cap * sizeof *t);
            if (!t)
                return SS_ENOMEM;
            tl->t = t;
            tl->cap = cap;
        }
        tl->t[tl->n].start = start;
        tl->t[tl->n].end = i;
        tl->n++;
    }
}

static int tok_is(const char *s, tok t, const char *word)
{
    size_t n = strlen(word);
    return t.end - t.start == n && !strncasecmp(s + t.start, word, n);
}

/* Position of a depth-0 '=' inside token t that follows a name, or 0. */
static size_t tok_equals(const char *s, tok t)
{
    for (size_t i = t.start; i < t.end; i++) {
        char c = s[i];
        if (c == '=')
            return i > t.start ? i : 0;
        if (!(isalnum((unsigned char)c) || c == '_' || c == '.'))
            return 0;
    }
    return 0;
}

static char *dup_range(const char *s, size_t a, size_t b)
{
    char *d = malloc(b - a + 1);
    if (d) {
        memcpy(d, s + a, b - a);
        d[b - a] = '\0';
    }
    return d;
}

static int is_card(const char *s, const char *card)
{
    size_t n = strlen(card);
    return !strncasecmp(s, card, n) && (!s[n] || isspace((unsigned char)s[n]));
}

static int is_meas_card(const char *s)
{
    return is_card(s, ".meas") || is_card(s, ".measure");
}

/* ---- walking top-level statements ---------------------------------------- */

typedef struct walk {
    const ss_netlist *nl;
    size_t i, next;
    int depth;     /* .subckt nesting of the current statement */
    char *text;    /* current statement (heap) */
} walk;

/* Moves to the next statement; returns 1 with w->text set, 0 at the end,
 * -1 when out of memory. */
static int walk_next(walk *w)
{
    free(w->text);
    w->text = NULL;
    while (w->next < w->nl->n) {
        w->i = w->next;
        if (ss_netlist_statement(w->nl, w->i, &w->text, &w->next))
            return -1;
        if (w->i == 0 || !*w->text) {
            free(w->text);
            w->text = NULL;
            continue;
        }
        return 1;
    }
    return 0;
}

/* Depth bookkeeping after the caller looked at the statement. */
static void walk_after(walk *w)
{
    if (is_card(w->text, ".subckt"))
        w->depth++;
    else if (is_card(w->text, ".ends") && w->depth > 0)
        w->depth--;
}

static void walk_release(walk *w)
{
    free(w->text);
    w->text = NULL;
}

/* ---- listing ---------------------------------------------------------------- */

void ss_netlist_params_free(ss_netlist_param *params, size_t n)
{
    if (!params)
        return;
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        free(params[i].value);
    }
    free(params);
}

void ss_netlist_names_free(char **names, size_t n)
{
    if (!names)
        return;
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* One .param assignment inside a normalized statement: the name's and the
 * value's character ranges. */
typedef struct assign {
    size_t name_start, name_end, value_start, value_end;
} assign;

/* Splits the assignments of a normalized ".param a=1 b={x + 1} c=a + b"
 * statement.  Returns SS_OK, SS_EPARSE, or SS_ENOMEM. */
static int param_assignments(const char *s, const toklist *tl, assign **out, size_t *nout)
{
    assign *a = NULL;
    size_t n = 0;
    for (size_t k = 1; k < tl->n; k++) {
        size_t eq = tok_equals(s, tl->t[k]);
        if (!eq) {
            if (!n) {
                free(a);
                return SS_EPARSE;
            }
            a[n - 1].value_end = tl->t[k].end; /* "c=a + b": the value goes on */
            continue;
        }
        assign *na = realloc(a, (n + 1) * sizeof *a);
        if (!na) {
            free(a);
            return SS_ENOMEM;
        }
        a = na;
        a[n].name_start = tl->t[k].start;
        a[n].name_end = eq;
        a[n].value_start = eq + 1;
        a[n].value_end = tl->t[k].end;
        n++;
    }
    *out = a;
    *nout = n;
    return SS_OK;
}

static int names_push(char ***names, size_t *n, char *name)
{
    if (!name)
        return SS_ENOMEM;
    char **nn = realloc(*names, (*n + 1) * sizeof *nn);
    if (!nn) {
        free(name);
        return SS_ENOMEM;
    }
    nn[(*n)++] = name;
    *names = nn;
    return SS_OK;
}

int ss_netlist_params(const ss_netlist *nl, ss_netlist_param **params, size_t *n,
                      ss_error *err)
{
    walk w = {nl, 0, 0, 0, NULL};
    toklist tl = {NULL, 0, 0};
    ss_netlist_param *p = NULL;
    size_t np = 0;
    int rc = SS_OK, more;
    *params = NULL;
    *n = 0;
    while ((more = walk_next(&w)) == 1) {
        if (w.depth == 0 && is_card(w.text, ".param")) {
            char *s = normalize_equals(w.text);
            assign *a = NULL;
            size_t na = 0;
            rc = s ? tokenize(s, &tl) : SS_ENOMEM;
            if (!rc)
                rc = param_assignments(s, &tl, &a, &na);
            if (rc == SS_EPARSE)
                ss_error_set(err, rc, "%s:%d: malformed .param (expected NAME=VALUE)",
                             nl->lines[w.i].file, nl->lines[w.i].line);
            for (size_t k = 0; !rc && k < na; k++) {
                ss_netlist_param *pp = realloc(p, (np + 1) * sizeof *pp);
                if (!pp) {
                    rc = SS_ENOMEM;
                    break;
                }
                p = pp;
                p[np].name = dup_range(s, a[k].name_start, a[k].name_end);
                p[np].value = dup_range(s, a[k].value_start, a[k].value_end);
                p[np].file = nl->lines[w.i].file;
                p[np].line = nl->lines[w.i].line;
                np++;
                if (!p[np - 1].name || !p[np - 1].value)
                    rc = SS_ENOMEM;
            }
            free(a);
            free(s);
            if (rc)
                break;
        }
        walk_after(&w);
    }
    if (more < 0)
        rc = SS_ENOMEM;
    walk_release(&w);
    free(tl.t);
    if (rc) {
        ss_netlist_params_free(p, np);
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory listing .param statements");
        return rc;
    }
    *params = p;
    *n = np;
    return SS_OK;
}

/* Collects token `which` of every statement for which `pick` is true. */
static int list_names(const ss_netlist *nl, int top_only, int (*pick)(const char *),
                      size_t which, char ***names, size_t *n, ss_error *err)
{
    walk w = {nl, 0, 0, 0, NULL};
    toklist tl = {NULL, 0, 0};
    int rc = SS_OK, more;
    *names = NULL;
    *n = 0;
    while ((more = walk_next(&w)) == 1) {
        if ((!top_only || w.depth == 0) && pick(w.text)) {
            rc = tokenize(w.text, &tl);
            if (!rc && tl.n > which)
                rc = names_push(names, n, dup_range(w.text, tl.t[which].start, tl.t[which].end));
            else if (!rc) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%.*s' without a name",
                                  nl->lines[w.i].file, nl->lines[w.i].line,
                                  (int)tl.t[0].end, w.text);
            }
            if (rc)
                break;
        }
        walk_after(&w);
    }
    if (more < 0)
        rc = SS_ENOMEM;
    walk_release(&w);
    free(tl.t);
    if (rc) {
        ss_netlist_names_free(*names, *n);
        *names = NULL;
        *n = 0;
        if (rc == SS_ENOMEM)
            ss_error_set(err, rc, "out of memory listing names");
    }
    return rc;
}

static int pick_subckt(const char *s)
{
    return is_card(s, ".subckt");
}

int ss_netlist_subckts(const ss_netlist *nl, char ***names, size_t *n, ss_error *err)
{
    return list_names(nl, 0, pick_subckt, 1, names, n, err);
}

int ss_netlist_measures(const ss_netlist *nl, char ***names, size_t *n, ss_error *err)
{
    return list_names(nl, 1, is_meas_card, 2, names, n, err);
}

void ss_netlist_meas_free(ss_netlist_meas *m, size_t n)
{
    if (!m)
        return;
    for (size_t i = 0; i < n; i++) {
        free(m[i].analysis);
        free(m[i].name);
    }
    free(m);
}

int ss_netlist_meas_list(const ss_netlist *nl, ss_netlist_meas **list, size_t *n, ss_error *err)
{
    walk w = {nl, 0, 0, 0, NULL};
    toklist tl = {NULL, 0, 0};
    ss_netlist_meas *m = NULL;
    size_t nm = 0;
    int rc = SS_OK, more;
    *list = NULL;
    *n = 0;
    while (!rc && (more = walk_next(&w)) == 1) {
        /* ngspice takes every line that begins with ".meas" */
        if (w.depth == 0 && !strncasecmp(w.text, ".meas", 5)) {
            rc = tokenize(w.text, &tl);
            if (!rc && tl.n < 3) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%s' without an analysis and a name",
                                  nl->lines[w.i].file, nl->lines[w.i].line, w.text);
                break;
            }
            ss_netlist_meas *g = rc ? NULL : realloc(m, (nm + 1) * sizeof *m);
            if (!g) {
                rc = SS_ENOMEM;
                break;
            }
            m = g;
            ss_netlist_meas *e = &m[nm++];
            e->analysis = dup_range(w.text, tl.t[1].start, tl.t[1].end);
            e->name = dup_range(w.text, tl.t[2].start, tl.t[2].end);
            e->line = w.i;
            e->param = tl.n > 3 && (!strncasecmp(w.text + tl.t[3].start, "param", 5) ||
                                    !strncasecmp(w.text + tl.t[3].start, "expr", 4));
            if (!e->analysis || !e->name) {
                rc = SS_ENOMEM;
                break;
            }
            /* ngspice reads the card in lower case */
            for (char *c = e->analysis; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            for (char *c = e->name; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        }
        walk_after(&w);
    }
    if (more < 0)
        rc = SS_ENOMEM;
    walk_release(&w);
    free(tl.t);
    if (rc) {
        ss_netlist_meas_free(m, nm);
        return rc == SS_ENOMEM ? ss_error_set(err, rc, "out of memory") : rc;
    }
    *list = m;
    *n = nm;
    return SS_OK;
}

/* ---- edits ------------------------------------------------------------------- */

/* Replaces the statement starting at line `i` (ending before `next`) with
 * `text`: the text goes on line i, continuation lines become comments so
 * every other line keeps its number. */
static int rewrite_statement(ss_netlist *nl, size_t i, size_t next, const char *text)
{
    int rc = ss_netlist_set_line(nl, i, text);
    for (size_t k = i + 1; !rc && k < next; k++)
        if (line_is_continuation(nl->lines[k].text))
            rc = ss_netlist_set_line(nl, k, "* (continuation merged by smallsim)");
    return rc;
}

/* s with [a, b) replaced by `value` (heap). */
static char *splice(const char *s, size_t a, size_t b, const char *value)
{
    size_t n = strlen(s), v = strlen(value);
    char *out = malloc(n - (b - a) + v + 1);
    if (!out)
        return NULL;
    memcpy(out, s, a);
    memcpy(out + a, value, v);
    memcpy(out + a + v, s + b, n - b + 1);
    return out;
}

static int valid_value(const char *v)
{
    if (!v || !*v)
        return 0;
    int depth = 0;
    for (const char *p = v; *p; p++) {
        if (*p == '{')
            depth++;
        else if (*p == '}')
            depth--;
        if ((unsigned char)*p < 0x20 || (depth == 0 && isspace((unsigned char)*p)))
            return 0;
    }
    return depth == 0;
}

/* Overrides every top-level .param `name`; *found counts the hits. */
static int override_param(ss_netlist *nl, const char *name, const char *value, int *found,
                          ss_error *err)
{
    walk w = {nl, 0, 0, 0, NULL};
    toklist tl = {NULL, 0, 0};
    int rc = SS_OK, more = 0;
    size_t nlen = strlen(name);
    while (!rc && (more = walk_next(&w)) == 1) {
        if (w.depth == 0 && is_card(w.text, ".param")) {
            char *s = normalize_equals(w.text), *t = NULL;
            assign *a = NULL;
            size_t na = 0;
            rc = s ? tokenize(s, &tl) : SS_ENOMEM;
            if (!rc)
                rc = param_assignments(s, &tl, &a, &na);
            if (rc == SS_EPARSE)
                ss_error_set(err, rc, "%s:%d: malformed .param (expected NAME=VALUE)",
                             nl->lines[w.i].file, nl->lines[w.i].line);
            /* Right to left, so earlier offsets stay valid. */
            for (size_t k = na; !rc && k-- > 0;) {
                if (a[k].name_end - a[k].name_start != nlen ||
                    strncasecmp(s + a[k].name_start, name, nlen))
                    continue;
                t = splice(s, a[k].value_start, a[k].value_end, value);
                if (!t) {
                    rc = SS_ENOMEM;
                    break;
                }
                free(s);
                s = t;
                (*found)++;
                rc = rewrite_statement(nl, w.i, w.next, s);
            }
            free(a);
            free(s);
        }
        if (!rc)
            walk_after(&w);
    }
    if (!rc && more < 0)
        rc = SS_ENOMEM;
    walk_release(&w);
    free(tl.t);
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory overriding '%s'", name);
    return rc;
}

static int is_value_token(const char *s, tok t)
{
    char buf[64];
    size_t n = t.end - t.start;
    if (s[t.start] == '{' || s[t.start] == '\'')
        return 1;
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, s + t.start, n);
    buf[n] = '\0';
    double d;
    return ss_util_parse_spice_number(buf, &d) == SS_OK;
}

/* Computes the range of the value to replace in instance statement s; for
 * a key, *append is set when the key is absent. */
static int instance_value_range(const ss_netlist *nl, size_t line, const char *s,
                                const toklist *tl, const char *key, size_t *a, size_t *b,
                                int *append, ss_error *err)
{
    const char *file = nl->lines[line].file;
    int lno = nl->lines[line].line;
    int len = (int)(tl->t[0].end - tl->t[0].start);
    *append = 0;
    if (key) {
        size_t klen = strlen(key);
        for (size_t k = 1; k < tl->n; k++) {
            size_t eq = tok_equals(s, tl->t[k]);
            if (eq && eq - tl->t[k].start == klen && !strncasecmp(s + tl->t[k].start, key, klen)) {
                *a = eq + 1;
                *b = tl->t[k].end;
                return SS_OK;
            }
        }
        *append = 1;
        return SS_OK;
    }
    char type = (char)tolower((unsigned char)s[0]);
    if (type == 'r' || type == 'c' || type == 'l') {
        if (tl->n < 4)
            return ss_error_set(err, SS_EPARSE, "%s:%d: instance '%.*s' has no value to override",
                                file, lno, len, s);
        size_t eq = tok_equals(s, tl->t[3]);
        *a = eq ? eq + 1 : tl->t[3].start;
        *b = tl->t[3].end;
        return SS_OK;
    }
    if (type == 'v' || type == 'i') {
        for (size_t k = 3; k + 1 < tl->n; k++)
            if (tok_is(s, tl->t[k], "dc")) {
                *a = tl->t[k + 1].start;
                *b = tl->t[k + 1].end;
                return SS_OK;
            }
        if (tl->n >= 4 && is_value_token(s, tl->t[3])) {
            *a = tl->t[3].start;
            *b = tl->t[3].end;
            return SS_OK;
        }
        return ss_error_set(err, SS_EPARSE,
                            "%s:%d: source '%.*s' has no DC value to override (name a key as "
                            "'%.*s:KEY')",
                            file, lno, len, s, len, s);
    }
    return ss_error_set(err, SS_EPARSE,
                        "%s:%d: instance '%.*s' has no single value; name a parameter as "
                        "'%.*s:KEY'",
                        file, lno, len, s, len, s);
}

static int override_instance(ss_netlist *nl, const char *inst, size_t ilen, const char *key,
                             const char *value, int *found, ss_error *err)
{
    walk w = {nl, 0, 0, 0, NULL};
    toklist tl = {NULL, 0, 0};
    int rc = SS_OK, more = 0;
    while (!rc && (more = walk_next(&w)) == 1) {
        if (w.depth == 0 && w.text[0] != '.' &&
            !strncasecmp(w.text, inst, ilen) &&
            (!w.text[ilen] || isspace((unsigned char)w.text[ilen]))) {
            char *s = normalize_equals(w.text), *t = NULL;
            size_t a = 0, b = 0;
            int append = 0;
            rc = s ? tokenize(s, &tl) : SS_ENOMEM;
            if (!rc)
                rc = instance_value_range(nl, w.i, s, &tl, key, &a, &b, &append, err);
            if (!rc && append) {
                ss_buf nb = SS_BUF_INIT;
                rc = ss_buf_printf(&nb, "%s %s=%s", s, key, value);
                t = nb.data;
            } else if (!rc) {
                t = splice(s, a, b, value);
                rc = t ? SS_OK : SS_ENOMEM;
            }
            if (!rc) {
                (*found)++;
                rc = rewrite_statement(nl, w.i, w.next, t);
            }
            free(t);
            free(s);
        }
        if (!rc)
            walk_after(&w);
    }
    if (!rc && more < 0)
        rc = SS_ENOMEM;
    walk_release(&w);
    free(tl.t);
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory overriding '%.*s'", (int)ilen, inst);
    return rc;
}

int ss_netlist_override(ss_netlist *nl, const char *target, const char *value, ss_error *err)
{
    if (!nl || !target || !*target)
        return ss_error_set(err, SS_EINVAL, "override: empty target name");
    const char *file = nl->n ? nl->lines[0].file : "<netlist>";
    if (!valid_value(value))
        return ss_error_set(err, SS_EINVAL,
                            "override of '%s': value '%s' is not one SPICE token", target,
                            value ? value : "");
    for (const char *p = target; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("_:.#", *p)))
            return ss_error_set(err, SS_EINVAL, "override: bad target name '%s'", target);
    int found = 0, rc;
    const char *colon = strchr(target, ':');
    if (!colon) {
        rc = override_param(nl, target, value, &found, err);
        if (rc || found)
            return rc;
        rc = override_instance(nl, target, strlen(target), NULL, value, &found, err);
    } else {
        if (colon == target || !colon[1] || strchr(colon + 1, ':'))
            return ss_error_set(err, SS_EINVAL, "override: bad target '%s' (expected INSTANCE:KEY)",
                                target);
        rc = override_instance(nl, target, (size_t)(colon - target), colon + 1, value, &found,
                               err);
    }
    if (!rc && !found)
        rc = ss_error_set(err, SS_ENOTFOUND, "%s: no top-level %s named '%.*s'", file,
                          colon ? "instance" : ".param or instance",
                          (int)(colon ? (size_t)(colon - target) : strlen(target)), target);
    return rc;
}

int ss_netlist_add_line(ss_netlist *nl, const char *text, size_t *index, ss_error *err)
{
    size_t end = nl->n;
    for (size_t i = nl->n; i-- > 1;)
        if (is_card(skip_space(nl->lines[i].text), ".end")) {
            end = i;
            break;
        }
    if (ss_netlist_append(nl, text, "<smallsim>", 0))
        return ss_error_set(err, SS_ENOMEM, "out of memory adding a line");
    /* Appended at the back: move it in front of .end. */
    if (end < nl->n - 1) {
        ss_netlist_line added = nl->lines[nl->n - 1];
        memmove(&nl->lines[end + 1], &nl->lines[end], (nl->n - 1 - end) * sizeof added);
        nl->lines[end] = added;
    }
    if (index)
        *index = end < nl->n - 1 ? end : nl->n - 1;
    return SS_OK;
}

static int is_identifier(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return 0;
    return 1;
}

int ss_netlist_add_meas(ss_netlist *nl, const char *meas, char **name, ss_error *err)
{
    static const char *const analyses[] = {"tran", "ac", "dc", "sp", "noise", NULL};
    toklist tl = {NULL, 0, 0};
    char *line = NULL;
    int rc;
    if (name)
        *name = NULL;
    if (!nl || !meas || strchr(meas, '\n') || strchr(meas, '\r'))
        return ss_error_set(err, SS_EINVAL, "measure: one line expected");
    if (strlen(meas) > 900)
        return ss_error_set(err, SS_EINVAL, "measure: line longer than 900 characters");
    const char *m = skip_space(meas);
    if (is_meas_card(m))
        m = skip_space(m + strcspn(m, " \t"));
    if ((rc = tokenize(m, &tl)))
        goto out;
    int known = 0;
    for (size_t k = 0; tl.n && analyses[k]; k++)
        known |= tok_is(m, tl.t[0], analyses[k]);
    if (tl.n < 3 || !known || !is_identifier(m + tl.t[1].start, tl.t[1].end - tl.t[1].start)) {
        rc = ss_error_set(err, SS_EINVAL,
                          "measure '%s': expected 'ANALYSIS NAME ...' with ANALYSIS one of "
                          "tran, ac, dc, sp, noise",
                          meas);
        goto out;
    }
    ss_buf b = SS_BUF_INIT;
    if (ss_buf_printf(&b, ".meas %s", m)) {
        ss_buf_release(&b);
        rc = SS_ENOMEM;
        goto out;
    }
    line = b.data;
    if ((rc = ss_netlist_add_line(nl, line, NULL, err)))
        goto out;
    if (name && !(*name = dup_range(m, tl.t[1].start, tl.t[1].end)))
        rc = SS_ENOMEM;
out:
    if (rc == SS_ENOMEM)
        ss_error_set(err, rc, "out of memory adding a measurement");
    free(line);
    free(tl.t);
    return rc;
}

int ss_netlist_tokens(const char *statement, char ***tokens, size_t *n)
{
    *tokens = NULL;
    *n = 0;
    char *s = normalize_equals(statement ? statement : "");
    toklist tl = {NULL, 0, 0};
    int rc = s ? tokenize(s, &tl) : SS_ENOMEM;
    char **out = rc ? NULL : calloc(tl.n ? tl.n : 1, sizeof *out);
    if (!rc && !out)
        rc = SS_ENOMEM;
    for (size_t k = 0; !rc && k < tl.n; k++)
        if (!(out[k] = dup_range(s, tl.t[k].start, tl.t[k].end)))
            rc = SS_ENOMEM;
    if (rc) {
        ss_netlist_names_free(out, tl.n);
    } else {
        *tokens = out;
        *n = tl.n;
    }
    free(tl.t);
    free(s);
    return rc;
}
