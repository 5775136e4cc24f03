/* read.c: measured I-V tables as instruments write them (fit/ss_fit.h):
 * header rows found and skipped, columns told apart by name and unit, units
 * applied, the time built from a column, a Rigol start/increment, or the
 * caller's frequency, sweep rate or step time.  Folding, decimation and the
 * offset (the steps after reading) are in data.c. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fit/fit_private.h"

#define MAX_COLS 64

enum { COL_SKIP, COL_T, COL_V, COL_I, COL_R, COL_VD, COL_VSENSE, COL_INDEX, COL_CHAN, NROLES };
enum { U_NONE, U_S, U_V, U_A, U_OHM, U_SEQ };

static const char *const role_text[NROLES] = {"?",  "time", "voltage", "current", "series R",
                                              "device voltage", "sense voltage", "sample index",
                                              "channel"};
static const char *const unit_text[] = {"", "s", "V", "A", "ohm", ""};

typedef struct unit {
    int kind;
    double scale;
} unit;

/* ---- units ------------------------------------------------------------------ */

/* Unit names without a prefix ("s", "V", "A", "Ohm", "Volt"). */
static int short_unit(const char *q, int *kind)
{
    static const struct {
        const char *name;
        int kind;
    } tab[] = {{"s", U_S},       {"sec", U_S},     {"V", U_V},         {"Volt", U_V},
               {"Volts", U_V},   {"A", U_A},       {"Amp", U_A},       {"Amps", U_A},
               {"Ampere", U_A},  {"Ohm", U_OHM},   {"ohm", U_OHM},     {"Ohms", U_OHM},
               {"\xCE\xA9", U_OHM}, {NULL, 0}};
    for (int k = 0; tab[k].name; k++)
        if (!strcmp(q, tab[k].name)) {
            *kind = tab[k].kind;
            return 1;
        }
    return 0;
}

/* "mA", "uA", "\xC2\xB5A", "Ampere", "second", "Volt", "kOhm", "Sequence": 1
 * if `s` (trimmed) is a unit, with its kind and SI scale. */
static int parse_unit(const char *s, unit *u)
{
    char b[32];
    size_t n = 0;
    while (*s && isspace((unsigned char)*s))
        s++;
    while (s[n] && n < sizeof b - 1)
        b[n] = s[n], n++;
    while (n && isspace((unsigned char)b[n - 1]))
        n--;
    b[n] = 0;
    if (!n)
        return 0;
    static const struct {
        const char *name;
        int kind;
    } longu[] = {{"second", U_S},  {"seconds", U_S}, {"sec", U_S},      {"secs", U_S},
                 {"volt", U_V},    {"volts", U_V},   {"ampere", U_A},   {"amperes", U_A},
                 {"amp", U_A},     {"amps", U_A},    {"ohm", U_OHM},    {"ohms", U_OHM},
                 {"sequence", U_SEQ}, {NULL, 0}};
    for (int k = 0; longu[k].name; k++)
        if (!strcasecmp(b, longu[k].name)) {
            u->kind = longu[k].kind, u->scale = 1.0;
            return 1;
        }
    int kind;
    if (short_unit(b, &kind)) {
        u->kind = kind, u->scale = 1.0;
        return 1;
    }
    static const struct {
        const char *pre;
        double scale;
    } pre[] = {{"\xC2\xB5", 1e-6}, {"\xCE\xBC", 1e-6}, {"f", 1e-15}, {"p", 1e-12}, {"n", 1e-9},
               {"u", 1e-6},          {"m", 1e-3},          {"k", 1e3},   {"M", 1e6},   {"G", 1e9},
               {NULL, 0}};
    for (int k = 0; pre[k].pre; k++) {
        size_t l = strlen(pre[k].pre);
        if (!strncmp(b, pre[k].pre, l) && b[l] && short_unit(b + l, &kind)) {
            u->kind = kind, u->scale = pre[k].scale;
            return 1;
        }
    }
    return 0;
}

/* ---- lines and fields ------------------------------------------------------------ */

typedef struct line {
    size_t lineno;
    size_t nf;
    char **f;     /* into the copy of the text */
    int numeric;  /* every field is a finite number */
    double *val;  /* values if numeric */
} line;

/* Splits `p` (modified in place) at `delim` (' ' = runs of white space);
 * trailing empty fields ("1,2," or ",,,") are dropped. */
static size_t split(char *p, char delim, char **f)
{
    size_t n = 0;
    if (delim == ' ') {
        while (*p) {
            while (*p && isspace((unsigned char)*p))
                p++;
            if (!*p)
                break;
            if (n < MAX_COLS)
                f[n] = p;
            n++;
            while (*p && !isspace((unsigned char)*p))
                p++;
            if (*p)
                *p++ = 0;
        }
        return n;
    }
    for (;;) {
        char *e = strchr(p, delim);
        if (e)
            *e = 0;
        while (*p && isspace((unsigned char)*p))
            p++;
        char *end = p + strlen(p);
        while (end > p && isspace((unsigned char)end[-1]))
            *--end = 0;
        if (n < MAX_COLS)
            f[n] = p;
        n++;
        if (!e)
            break;
        p = e + 1;
    }
    while (n > 0 && n <= MAX_COLS && !*f[n - 1])
        n--;
    return n;
}

static void unquote(char **s)
{
    size_t n = strlen(*s);
    if (n >= 2 && ((*s)[0] == '"' || (*s)[0] == '\'') && (*s)[n - 1] == (*s)[0]) {
        (*s)[n - 1] = 0;
        (*s)++;
    }
}

/* 0: a finite number, 1: not finite (nan, inf), -1: not a number. */
static int parse_num(const char *field, int decimal_comma, double *out)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "%s", field);
    char *s = tmp;
    unquote(&s);
    if (decimal_comma)
        for (char *p = s; *p; p++)
            if (*p == ',')
                *p = '.';
    char *end;
    if (!*s)
        return -1;
    *out = strtod(s, &end);
    if (*end)
        return -1;
    return isfinite(*out) ? 0 : 1;
}

static int is_comment(const char *p)
{
    return *p == '#' || *p == '%' || *p == '*' || *p == '!' || (p[0] == '/' && p[1] == '/');
}

/* ---- column names ------------------------------------------------------------------ */

typedef struct col {
    char name[64];   /* as in the file (trimmed, unquoted) */
    int role;
    unit u;          /* from the name, a unit row or metadata */
    int has_unit;
} col;

static int word_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

/* The role a column name means, and its unit if it carries one: "Time [s]",
 * "I (uA)", "I/mA", "time_s", "Smu1.V[1][1]", "CH2", "x-axis". */
static int name_role(const char *raw, unit *u, int *has_unit)
{
    char s[96];
    snprintf(s, sizeof s, "%s", raw);
    char *p = s;
    *has_unit = 0;
    /* Keithley's [1][1] indices are not units. */
    for (char *b = strchr(p, '['); b; b = strchr(b, '[')) {
        char *e = strchr(b, ']');
        if (!e)
            break;
        int digits = e > b + 1;
        for (char *q = b + 1; q < e; q++)
            digits &= isdigit((unsigned char)*q) != 0;
        if (digits)
            memmove(b, e + 1, strlen(e + 1) + 1);
        else
            b = e + 1;
    }
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        p[--n] = 0;
    /* A unit in brackets or parentheses at the end. */
    if (n && (p[n - 1] == ']' || p[n - 1] == ')')) {
        char open = p[n - 1] == ']' ? '[' : '(';
        char *o = strrchr(p, open);
        if (o) {
            p[n - 1] = 0;
            if (parse_unit(o + 1, u))
                *has_unit = 1;
            *o = 0;
        }
    }
    if (!*has_unit) {
        char *sl = strrchr(p, '/');
        if (sl && sl > p && parse_unit(sl + 1, u))
            *has_unit = 1, *sl = 0;
    }
    if (!*has_unit) {
        char *us = strrchr(p, '_');
        if (us && us > p && parse_unit(us + 1, u))
            *has_unit = 1, *us = 0;
    }
    /* "Smu1.V": the part after the instrument prefix. */
    char *dot = strrchr(p, '.');
    int prefixed = 0;
    if (dot && dot[1] && !isdigit((unsigned char)dot[1]))
        p = dot + 1, prefixed = 1;
    while (*p && isspace((unsigned char)*p))
        p++;
    n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        p[--n] = 0;
    for (char *q = p; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    /* "v1", "I2", "CH1": the base without a trailing number. */
    char base[96];
    snprintf(base, sizeof base, "%s", p);
    n = strlen(base);
    while (n && isdigit((unsigned char)base[n - 1]))
        base[--n] = 0;
    static const char *const time_w[] = {"t", "time", "times", "sec", "second", "seconds",
                                         "x-axis", "xaxis", "relative time", "timestamp",
                                         "time stamp", "elapsed time", NULL};
    static const char *const v_w[] = {"v", "volt", "volts", "voltage", "vs", "vsrc", "vsource",
                                      "vapplied", "v_applied", "vapp", "vin", "av", "u",
                                      "applied voltage", "voltage applied", "source voltage",
                                      "bias", "vbias", NULL};
    static const char *const i_w[] = {"i", "current", "curr", "cur", "ai", "id", "i_device",
                                      "idevice", "device current", NULL};
    static const char *const vd_w[] = {"vd", "v_device", "vdev", "vdevice", "vmem",
                                       "device voltage", NULL};
    static const char *const vs_w[] = {"vsense", "v_sense", "vshunt", "v_shunt", "vr", NULL};
    static const char *const r_w[] = {"r", "rs", "series", "rseries", NULL};
    static const char *const ch_w[] = {"", "ch", "chan", "channel", "trace", "c", NULL};
    if (word_in(p, time_w) || word_in(base, time_w))
        return COL_T;
    if (word_in(p, vs_w) || word_in(base, vs_w))
        return COL_VSENSE;
    if (word_in(p, vd_w) || word_in(base, vd_w))
        return COL_VD;
    if (word_in(p, v_w) || word_in(base, v_w))
        return COL_V;
    if (word_in(p, i_w) || word_in(base, i_w))
        return COL_I;
    if (word_in(p, r_w))
        return prefixed ? COL_SKIP : COL_R; /* Keithley's Smu1.R is v/i, not a resistor */
    if (word_in(base, ch_w))
        return COL_CHAN;
    if (*has_unit)
        return u->kind == U_S ? COL_T : u->kind == U_A ? COL_I : u->kind == U_V ? COL_CHAN
                                                                                 : COL_SKIP;
    return COL_SKIP;
}

/* Role of a --columns word. */
static int option_role(const char *w)
{
    static const struct {
        const char *name;
        int role;
    } tab[] = {{"t", COL_T},      {"time", COL_T},           {"v", COL_V},
               {"voltage", COL_V}, {"vs", COL_V},            {"i", COL_I},
               {"current", COL_I}, {"curr", COL_I},          {"r", COL_R},
               {"rs", COL_R},      {"series", COL_R},        {"vd", COL_VD},
               {"v_device", COL_VD}, {"vdev", COL_VD},       {"vsense", COL_VSENSE},
               {"vr", COL_VSENSE}, {"vshunt", COL_VSENSE},   {NULL, 0}};
    for (int k = 0; tab[k].name; k++)
        if (!strcasecmp(w, tab[k].name))
            return tab[k].role;
    return COL_SKIP;
}

/* "1 'Item', 2 'Smu1.Time[1][1]' (time, s), ..." */
static void describe_columns(const col *c, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = 0;
    for (size_t k = 0; k < n && len + 1 < cap; k++) {
        int w;
        if (c[k].role != COL_SKIP && c[k].has_unit && *unit_text[c[k].u.kind])
            w = snprintf(out + len, cap - len, "%s%zu '%s' (%s, %s)", k ? ", " : "", k + 1,
                         c[k].name, role_text[c[k].role], unit_text[c[k].u.kind]);
        else if (c[k].role != COL_SKIP)
            w = snprintf(out + len, cap - len, "%s%zu '%s' (%s)", k ? ", " : "", k + 1, c[k].name,
                         role_text[c[k].role]);
        else if (c[k].has_unit && *unit_text[c[k].u.kind])
            w = snprintf(out + len, cap - len, "%s%zu '%s' (%s)", k ? ", " : "", k + 1, c[k].name,
                         unit_text[c[k].u.kind]);
        else
            w = snprintf(out + len, cap - len, "%s%zu '%s'", k ? ", " : "", k + 1, c[k].name);
        if (w < 0)
            break;
        len += (size_t)w;
    }
    if (len >= cap && cap > 4)
        strcpy(out + cap - 4, "...");
}

/* ---- the table ------------------------------------------------------------------------- */

typedef struct table {
    line *lines;
    size_t nlines, cap;
    size_t first_data; /* index into lines */
    size_t ncols;
    char delim;
    int decimal_comma;
} table;

static void table_free(table *tb)
{
    for (size_t k = 0; k < tb->nlines; k++) {
        free(tb->lines[k].f);
        free(tb->lines[k].val);
    }
    free(tb->lines);
}

/* A line with tabs: tab-separated if a field holds a space ("Time [s]"),
 * else runs of white space (tabs and spaces mixed). */
static char tab_or_space(const char *p)
{
    for (const char *q = p; *q; q++)
        if (*q == ' ' && q > p && q[-1] != '\t' && q[-1] != ' ' && q[1] && q[1] != '\t' &&
            q[1] != ' ')
            return '\t';
    return ' ';
}

/* Splits the text into non-blank, non-comment lines of fields. */
static int table_read(table *tb, char *copy, const char *name, ss_error *err)
{
    size_t lineno = 0;
    char *save = copy;
    for (char *ln = copy; ln; ln = save) {
        char *nl = strchr(ln, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = 0;
        lineno++;
        size_t len = strlen(ln);
        if (len && ln[len - 1] == '\r')
            ln[--len] = 0;
        char *p = ln;
        if (lineno == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
            (unsigned char)p[2] == 0xBF)
            p += 3; /* UTF-8 byte order mark */
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || is_comment(p))
            continue;
        if (!tb->delim) {
            tb->delim = strchr(p, ';') ? ';' : strchr(p, '\t') ? tab_or_space(p)
                                           : strchr(p, ',')   ? ','
                                                              : ' ';
            tb->decimal_comma = tb->delim != ',';
        }
        char *f[MAX_COLS];
        size_t nf = split(p, tb->delim, f);
        if (nf > MAX_COLS)
            return ss_error_set(err, SS_EPARSE, "%s:%zu: more than %d columns", name, lineno,
                                MAX_COLS);
        if (nf == 0)
            continue; /* ",,,": an empty row */
        if (tb->nlines == tb->cap) {
            size_t nc = tb->cap ? 2 * tb->cap : 256;
            line *l2 = realloc(tb->lines, nc * sizeof *l2);
            if (!l2)
                return ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
            tb->lines = l2;
            tb->cap = nc;
        }
        line *L = &tb->lines[tb->nlines];
        memset(L, 0, sizeof *L);
        L->lineno = lineno;
        L->nf = nf;
        L->f = malloc(nf * sizeof *L->f);
        if (!L->f)
            return ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
        tb->nlines++;
        for (size_t k = 0; k < nf; k++) {
            unquote(&f[k]);
            L->f[k] = f[k];
        }
    }
    return SS_OK;
}

/* Numeric rows: the first row whose fields are all numbers starts the data;
 * every later row must be numeric with the same count. */
static int table_numbers(table *tb, const char *name, ss_error *err)
{
    tb->first_data = tb->nlines;
    for (size_t k = 0; k < tb->nlines; k++) {
        line *L = &tb->lines[k];
        int started = tb->first_data < tb->nlines;
        double *val = malloc(L->nf * sizeof *val);
        if (!val)
            return ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
        int bad = -1, nonfinite = 0;
        for (size_t j = 0; j < L->nf; j++) {
            int r = parse_num(L->f[j], tb->decimal_comma, &val[j]);
            if (r) {
                bad = (int)j;
                nonfinite = r == 1;
                break;
            }
        }
        if (bad < 0) {
            L->numeric = 1;
            L->val = val;
            if (!started) {
                tb->first_data = k;
                tb->ncols = L->nf;
            } else if (L->nf != tb->ncols) {
                return ss_error_set(err, SS_EPARSE, "%s:%zu: expected %zu values, found %zu", name,
                                    L->lineno, tb->ncols, L->nf);
            }
            continue;
        }
        free(val);
        if (started || nonfinite) {
            if (nonfinite)
                return ss_error_set(err, SS_EPARSE, "%s:%zu: '%s' is not a finite number", name,
                                    L->lineno, L->f[bad]);
            return ss_error_set(err, SS_EPARSE, "%s:%zu: '%s' is not a number", name, L->lineno,
                                L->f[bad]);
        }
    }
    if (tb->first_data == tb->nlines)
        return ss_error_set(err, SS_EPARSE, "%s: no data rows (empty file?)", name);
    if (tb->ncols < 2)
        return ss_error_set(err, SS_EPARSE, "%s: one column only (need voltage and current)",
                            name);
    return SS_OK;
}

/* ---- the header ------------------------------------------------------------------------- */

typedef struct header {
    col c[MAX_COLS];
    int named;              /* the names came from the file */
    size_t names_line;      /* line number of the names row (0: none) */
    size_t skipped;         /* preamble rows */
    int rigol;              /* X,CH1,..,Start,Increment */
    double rigol_t0, rigol_dt;
} header;

static int all_units(const line *L, size_t n)
{
    if (L->nf < n)
        return 0;
    for (size_t k = 0; k < n; k++) {
        unit u;
        if (!parse_unit(L->f[k], &u))
            return 0;
    }
    return 1;
}

/* Finds the names row, a units row and instrument metadata in the rows
 * before the data. */
static void header_scan(const table *tb, header *h)
{
    size_t np = tb->first_data, nc = tb->ncols;
    h->skipped = np;
    for (size_t k = 0; k < nc; k++)
        snprintf(h->c[k].name, sizeof h->c[k].name, "column %zu", k + 1);
    if (np == 0)
        return;
    const line *names = NULL, *units = NULL;
    const line *last = &tb->lines[np - 1];
    if (np >= 2 && all_units(last, nc) && tb->lines[np - 2].nf >= nc)
        units = last, names = &tb->lines[np - 2];
    else if (last->nf >= nc)
        names = last;
    if (names) {
        int any_text = 0;
        for (size_t k = 0; k < nc; k++) {
            double x;
            any_text |= parse_num(names->f[k], tb->decimal_comma, &x) != 0;
        }
        if (!any_text)
            names = NULL, units = NULL;
    }
    if (names) {
        h->named = 1;
        h->names_line = names->lineno;
        for (size_t k = 0; k < nc; k++) {
            col *c = &h->c[k];
            snprintf(c->name, sizeof c->name, "%s", names->f[k]);
            c->role = name_role(names->f[k], &c->u, &c->has_unit);
            if (units) {
                unit u;
                if (parse_unit(units->f[k], &u))
                    c->u = u, c->has_unit = 1;
            }
        }
        /* Rigol: X,CH1,CH2,Start,Increment / Sequence,Volt,Volt,t0,dt. */
        if (units && names->nf >= nc + 2 && units->nf >= nc + 2) {
            size_t ks = 0, ki = 0;
            for (size_t k = nc; k < names->nf; k++) {
                if (!strcasecmp(names->f[k], "start"))
                    ks = k;
                if (!strcasecmp(names->f[k], "increment"))
                    ki = k;
            }
            double t0, dt;
            if (ks && ki && ks < units->nf && ki < units->nf &&
                !parse_num(units->f[ks], tb->decimal_comma, &t0) &&
                !parse_num(units->f[ki], tb->decimal_comma, &dt) && dt > 0) {
                h->rigol = 1, h->rigol_t0 = t0, h->rigol_dt = dt;
                h->c[0].role = COL_INDEX;
            }
        }
        if (h->c[0].has_unit && h->c[0].u.kind == U_SEQ)
            h->c[0].role = COL_INDEX;
    }
    /* Tektronix metadata: "Vertical Units,V,A", "Horizontal Units,s". */
    for (size_t k = 0; k < np; k++) {
        const line *L = &tb->lines[k];
        if (L->nf >= 2 && !strcasecmp(L->f[0], "Vertical Units")) {
            for (size_t j = 1; j < L->nf && j < nc; j++) {
                unit u;
                col *c = &h->c[j];
                if (!c->has_unit && parse_unit(L->f[j], &u)) {
                    c->u = u, c->has_unit = 1;
                    if (c->role == COL_CHAN && u.kind == U_A)
                        c->role = COL_I;
                }
            }
        } else if (L->nf >= 2 && !strcasecmp(L->f[0], "Horizontal Units")) {
            unit u;
            if (!h->c[0].has_unit && h->c[0].role == COL_T && parse_unit(L->f[1], &u))
                h->c[0].u = u, h->c[0].has_unit = 1;
        }
    }
}

/* ---- roles ------------------------------------------------------------------------------ */

typedef struct roles {
    int col[NROLES]; /* column of each role, -1 */
} roles;

static int fail_columns(const header *h, size_t nc, const char *name, size_t lineno,
                        const char *what, const char *hint, ss_error *err)
{
    char list[600];
    describe_columns(h->c, nc, list, sizeof list);
    if (lineno)
        return ss_error_set(err, SS_EINVAL,
                            "%s:%zu: %s; columns found: %s; expected the applied voltage (v) and "
                            "the current (i, or vsense with --sense R), and the time (t) unless "
                            "--freq, --sweep-rate or --step-time gives it; %s",
                            name, lineno, what, list, hint);
    return ss_error_set(err, SS_EINVAL,
                        "%s: %s; columns found: %s; expected the applied voltage (v) and the "
                        "current (i, or vsense with --sense R), and the time (t) unless --freq, "
                        "--sweep-rate or --step-time gives it; %s",
                        name, what, list, hint);
}

static int assign_roles(header *h, size_t nc, const ss_fit_read_options *opt, const char *name,
                        size_t first_line, roles *r, char **notes, ss_error *err)
{
    for (int k = 0; k < NROLES; k++)
        r->col[k] = -1;
    size_t lineno = h->names_line ? h->names_line : first_line;
    if (opt->columns) {
        char buf[512];
        if (strlen(opt->columns) >= sizeof buf)
            return ss_error_set(err, SS_EINVAL, "columns '%s' too long", opt->columns);
        strcpy(buf, opt->columns);
        char *f[MAX_COLS];
        size_t n = split(buf, ',', f);
        if (n > MAX_COLS)
            return ss_error_set(err, SS_EINVAL, "columns: at most %d", MAX_COLS);
        if (n != nc)
            return ss_error_set(err, SS_EINVAL, "%s: %zu columns named (%s) but the file has %zu",
                                name, n, opt->columns, nc);
        for (size_t k = 0; k < nc; k++) {
            int role = option_role(f[k]);
            if (h->rigol && k == 0 && (role == COL_T || role == COL_SKIP))
                role = COL_INDEX;
            h->c[k].role = role;
        }
        if (h->named)
            ssf_note(notes, "column names from --columns (%s), not from the header", opt->columns);
    } else if (!h->named) {
        if (nc == 2 && opt->drive_only && !(opt->freq > 0) && !(opt->step_time > 0) &&
            !(opt->sweep_rate > 0)) {
            h->c[0].role = COL_T, h->c[1].role = COL_V;
        } else if (nc == 2) {
            h->c[0].role = COL_V, h->c[1].role = COL_I;
        } else if (nc == 3) {
            h->c[0].role = COL_T, h->c[1].role = COL_V, h->c[2].role = COL_I;
        } else {
            return ss_error_set(err, SS_EINVAL,
                                "%s: %zu columns and no header: say which is which with "
                                "--columns (e.g. t,v,i)",
                                name, nc);
        }
    }
    /* Channels named by unit. */
    if (!opt->columns) {
        size_t nv = 0, ni = 0, nch = 0;
        for (size_t k = 0; k < nc; k++) {
            nv += h->c[k].role == COL_V;
            ni += h->c[k].role == COL_I || h->c[k].role == COL_VSENSE;
            nch += h->c[k].role == COL_CHAN;
        }
        for (size_t k = 0; k < nc && nch; k++) {
            col *c = &h->c[k];
            if (c->role != COL_CHAN)
                continue;
            if (c->has_unit && c->u.kind == U_A)
                c->role = COL_I, ni++, nch--;
        }
        size_t vch = 0;
        for (size_t k = 0; k < nc; k++)
            vch += h->c[k].role == COL_CHAN;
        if (vch == 1 && nv == 0 && ni == 1)
            for (size_t k = 0; k < nc; k++)
                if (h->c[k].role == COL_CHAN)
                    h->c[k].role = COL_V, nv++;
        if (vch >= 2 && nv == 0 && ni == 0)
            return fail_columns(h, nc, name, lineno, "two voltage channels and no current",
                                "if one channel is the voltage across a sense resistor, name "
                                "them, e.g. --columns t,vsense,v --sense 1k",
                                err);
    }
    for (size_t k = 0; k < nc; k++) {
        int role = h->c[k].role;
        if (role == COL_CHAN || role == COL_SKIP)
            continue;
        if (r->col[role] >= 0) {
            char what[160];
            snprintf(what, sizeof what, "columns %d and %zu both look like the %s", r->col[role] + 1,
                     k + 1, role_text[role]);
            return fail_columns(h, nc, name, lineno, what, "say which is which with --columns",
                                err);
        }
        r->col[role] = (int)k;
    }
    /* A device-voltage-only file: vd is the drive. */
    if (r->col[COL_V] < 0 && r->col[COL_VD] >= 0 && !opt->series_column) {
        r->col[COL_V] = r->col[COL_VD];
        r->col[COL_VD] = -1;
        ssf_note(notes, "column '%s' (the device voltage) is the drive", h->c[r->col[COL_V]].name);
    }
    if (r->col[COL_V] < 0 || (r->col[COL_I] < 0 && r->col[COL_VSENSE] < 0 && !opt->drive_only)) {
        const char *what = r->col[COL_V] < 0 && r->col[COL_I] < 0 && r->col[COL_VSENSE] < 0
                               ? "no voltage and no current column"
                           : r->col[COL_V] < 0 ? "no voltage column"
                                               : "no current column";
        return fail_columns(h, nc, name, lineno, what,
                            "name the columns with --columns (t, v, i, vsense, vd, r; any other "
                            "word skips a column), e.g. --columns skip,t,v,i",
                            err);
    }
    if (r->col[COL_I] >= 0 && r->col[COL_VSENSE] >= 0)
        return fail_columns(h, nc, name, lineno, "both a current and a sense-voltage column",
                            "keep one of them with --columns", err);
    if (r->col[COL_VSENSE] >= 0 && !(opt->sense_r > 0))
        return ss_error_set(err, SS_EINVAL,
                            "%s: column %d '%s' is the voltage across a sense resistor: give its "
                            "resistance with --sense R (ohm)",
                            name, r->col[COL_VSENSE] + 1, h->c[r->col[COL_VSENSE]].name);
    if (r->col[COL_VSENSE] < 0 && opt->sense_r > 0)
        return fail_columns(h, nc, name, lineno, "--sense given but no sense-voltage column",
                            "name it vsense with --columns, e.g. --columns t,vsense,v", err);
    return SS_OK;
}

/* ---- scales ------------------------------------------------------------------------------ */

static double col_scale(const col *c, int kind)
{
    return c->has_unit && c->u.kind == kind ? c->u.scale : 1.0;
}

static int check_unit(const header *h, int k, int kind, const char *what, const char *name,
                      ss_error *err)
{
    const col *c = &h->c[k];
    if (c->has_unit && c->u.kind != kind && c->u.kind != U_NONE)
        return ss_error_set(err, SS_EINVAL, "%s: column %d '%s' is in %s, not a %s", name, k + 1,
                            c->name, unit_text[c->u.kind], what);
    return SS_OK;
}

/* ---- the reader ------------------------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *prefix_name(double s)
{
    return s == 1e-3 ? "milli" : s == 1e-6 ? "micro" : s == 1e-9 ? "nano" : s == 1e-12 ? "pico"
                                                                                          : NULL;
}

int ss_fit_data_parse(ss_fit_data *d, const char *text, const char *name,
                      const ss_fit_read_options *opt, ss_error *err)
{
    ss_fit_data_release(d);
    ss_fit_read_options def = SS_FIT_READ_OPTIONS_INIT;
    if (!opt)
        opt = &def;
    if (!name)
        name = "data";
    if (opt->sweep_rate > 0 && opt->step_time > 0)
        return ss_error_set(err, SS_EINVAL, "%s: give a sweep rate or a step time, not both", name);
    char *copy = strdup(text ? text : "");
    char *notes = NULL;
    table tb;
    memset(&tb, 0, sizeof tb);
    header h;
    memset(&h, 0, sizeof h);
    double *tt = NULL;
    int rc;
    if (!copy)
        return ss_error_set(err, SS_ENOMEM, "out of memory reading '%s'", name);
    if ((rc = table_read(&tb, copy, name, err)) || (rc = table_numbers(&tb, name, err)))
        goto out;
    header_scan(&tb, &h);
    size_t nc = tb.ncols, first = tb.first_data, nrows = tb.nlines - first;
    roles r;
    if ((rc = assign_roles(&h, nc, opt, name, tb.lines[first].lineno, &r, &notes, err)))
        goto out;
    if (h.skipped)
        ssf_note(&notes, "%zu header line%s skipped (data from line %zu)", h.skipped,
                 h.skipped == 1 ? "" : "s", tb.lines[first].lineno);
    int cv = r.col[COL_V], ci = r.col[COL_I], cs = r.col[COL_VSENSE], ct = r.col[COL_T];
    if ((rc = check_unit(&h, cv, U_V, "voltage", name, err)) ||
        (ci >= 0 && (rc = check_unit(&h, ci, U_A, "current", name, err))) ||
        (cs >= 0 && (rc = check_unit(&h, cs, U_V, "voltage", name, err))) ||
        (ct >= 0 && (rc = check_unit(&h, ct, U_S, "time", name, err))))
        goto out;
    /* Current scale: the header's unit, the option, or amps. */
    double vscale = col_scale(&h.c[cv], U_V);
    double iscale = 1.0;
    int ifrom = SS_FIT_SCALE_DEFAULT;
    if (ci >= 0 && h.c[ci].has_unit && h.c[ci].u.kind == U_A)
        iscale = h.c[ci].u.scale, ifrom = SS_FIT_SCALE_HEADER;
    if (opt->current_scale > 0) {
        if (ifrom == SS_FIT_SCALE_HEADER && fabs(opt->current_scale / iscale - 1) > 1e-9) {
            rc = ss_error_set(err, SS_EINVAL,
                              "%s: the header gives the current '%s' in units of %g A; "
                              "--current-scale %g contradicts it (drop --current-scale)",
                              name, h.c[ci].name, iscale, opt->current_scale);
            goto out;
        }
        if (cs >= 0) {
            rc = ss_error_set(err, SS_EINVAL,
                              "%s: the current comes from the sense voltage and --sense; "
                              "--current-scale does not apply",
                              name);
            goto out;
        }
        if (ifrom != SS_FIT_SCALE_HEADER)
            iscale = opt->current_scale, ifrom = SS_FIT_SCALE_OPTION;
    }
    if (ifrom == SS_FIT_SCALE_HEADER && iscale != 1.0) {
        const char *pn = prefix_name(iscale);
        ssf_note(&notes, "current '%s' in %s%s (x %g) from the header", h.c[ci].name,
                 pn ? pn : "", pn ? "amps" : "units", iscale);
    }
    if (vscale != 1.0)
        ssf_note(&notes, "voltage '%s' scaled by %g (its unit)", h.c[cv].name, vscale);
    double tscale = ct >= 0 ? col_scale(&h.c[ct], U_S) : 1.0;
    if (ct >= 0 && tscale != 1.0)
        ssf_note(&notes, "time '%s' scaled by %g (its unit)", h.c[ct].name, tscale);
    int file_time = ct >= 0 || (h.rigol && r.col[COL_INDEX] == 0);
    if (file_time && (opt->sweep_rate > 0 || opt->step_time > 0)) {
        rc = ss_error_set(err, SS_EINVAL,
                          "%s: the file has a time column ('%s'); --sweep-rate and --step-time "
                          "are for files without one",
                          name, h.c[ct >= 0 ? ct : 0].name);
        goto out;
    }
    if (!file_time && !(opt->freq > 0) && !(opt->sweep_rate > 0) && !(opt->step_time > 0)) {
        rc = ss_error_set(err, SS_EINVAL,
                          "%s: no time column: give the drive frequency (--freq F: the samples "
                          "are one period), or for a DC sweep --sweep-rate V/s or --step-time s",
                          name);
        goto out;
    }
    if ((rc = ssf_data_alloc(d, name, nrows, err)))
        goto out;
    tt = malloc(nrows * sizeof *tt);
    if (!tt) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        goto out;
    }
    double vsense_scale = cs >= 0 ? col_scale(&h.c[cs], U_V) : 1.0;
    for (size_t k = 0; k < nrows; k++) {
        const double *row = tb.lines[first + k].val;
        d->v[k] = row[cv] * vscale;
        d->i[k] = ci >= 0   ? row[ci] * iscale
                  : cs >= 0 ? row[cs] * vsense_scale / opt->sense_r
                            : 0.0;
        if (ct >= 0)
            tt[k] = row[ct] * tscale;
        else if (file_time)
            tt[k] = h.rigol_t0 + row[0] * h.rigol_dt;
    }
    if (file_time) {
        for (size_t k = 1; k < nrows; k++)
            if (!(tt[k] > tt[k - 1])) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%zu: time does not increase (%g after %g)",
                                  name, tb.lines[first + k].lineno, tt[k], tt[k - 1]);
                goto out;
            }
        for (size_t k = 0; k < nrows; k++)
            d->t[k] = tt[k] - tt[0];
        if (h.rigol)
            ssf_note(&notes, "time from the Rigol header: start %g s, increment %g s",
                     h.rigol_t0, h.rigol_dt);
    } else if (opt->step_time > 0) {
        for (size_t k = 0; k < nrows; k++)
            d->t[k] = (double)k * opt->step_time;
        ssf_note(&notes, "time from --step-time: %g s per sample", opt->step_time);
    } else if (opt->sweep_rate > 0) {
        /* dt = |dv| / rate; a held voltage takes the median step. */
        size_t m = 0;
        for (size_t k = 1; k < nrows; k++) {
            double dv = fabs(d->v[k] - d->v[k - 1]);
            if (dv > 0)
                tt[m++] = dv / opt->sweep_rate;
        }
        if (m == 0) {
            rc = ss_error_set(err, SS_EINVAL, "%s: the voltage never changes: nothing to sweep",
                              name);
            goto out;
        }
        qsort(tt, m, sizeof *tt, cmp_double);
        double med = tt[m / 2];
        size_t held = 0;
        d->t[0] = 0;
        for (size_t k = 1; k < nrows; k++) {
            double dv = fabs(d->v[k] - d->v[k - 1]);
            held += dv == 0;
            d->t[k] = d->t[k - 1] + (dv > 0 ? dv / opt->sweep_rate : med);
        }
        ssf_note(&notes, "time from --sweep-rate %g V/s (median step %g s%s)", opt->sweep_rate,
                 med, held ? "; held points take the median step" : "");
    } else {
        for (size_t k = 0; k < nrows; k++)
            d->t[k] = (double)k / ((double)nrows * opt->freq);
        d->freq = opt->freq;
    }
    d->i_scale = iscale;
    d->i_scale_from = ifrom;
    d->series_r = opt->series_r + (cs >= 0 ? opt->sense_r : 0.0);
    if (cs >= 0)
        ssf_note(&notes, "current = '%s' / %g ohm (sense resistor, in series with the device)",
                 h.c[cs].name, opt->sense_r);
    if (opt->series_column) {
        int cr = r.col[COL_R], cd = r.col[COL_VD];
        if (cr >= 0) {
            double r0 = tb.lines[first].val[cr];
            for (size_t k = 0; k < nrows; k++) {
                double rk = tb.lines[first + k].val[cr];
                if (fabs(rk - r0) > 1e-9 * fabs(r0)) {
                    rc = ss_error_set(err, SS_EPARSE,
                                      "%s:%zu: the series resistance changes (%g after %g ohm)",
                                      name, tb.lines[first + k].lineno, rk, r0);
                    goto out;
                }
            }
            d->series_r = r0;
        } else if (cd >= 0) {
            double imax = 0;
            for (size_t k = 0; k < nrows; k++)
                imax = fmax(imax, fabs(d->i[k]));
            size_t m = 0;
            for (size_t k = 0; k < nrows; k++)
                if (fabs(d->i[k]) > 0.1 * imax)
                    tt[m++] = (d->v[k] - tb.lines[first + k].val[cd] * vscale) / d->i[k];
            qsort(tt, m, sizeof *tt, cmp_double);
            d->series_r = m ? tt[m / 2] : 0.0;
        } else {
            rc = ss_error_set(err, SS_EINVAL,
                              "%s: --series-column needs an 'r' column or both 'v' and 'vd'",
                              name);
            goto out;
        }
        if (!(d->series_r >= 0) || !isfinite(d->series_r)) {
            rc = ss_error_set(err, SS_EPARSE, "%s: series resistance %g ohm is not >= 0", name,
                              d->series_r);
            goto out;
        }
    }
    if ((rc = ssf_data_reshape(d, opt, file_time, &notes, err)))
        goto out;
    d->notes = notes;
    notes = NULL;
out:
    if (rc)
        ss_fit_data_release(d);
    free(notes);
    free(tt);
    table_free(&tb);
    free(copy);
    return rc;
}

int ss_fit_data_read(ss_fit_data *d, const char *path, const ss_fit_read_options *opt,
                     ss_error *err)
{
    char *text = NULL;
    size_t len = 0;
    ss_fit_data_release(d);
    int rc = ss_util_read_file(path, &text, &len, err);
    if (rc)
        return rc;
    rc = ss_fit_data_parse(d, text, path, opt, err);
    free(text);
    return rc;
}
