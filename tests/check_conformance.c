/* check_conformance.c: every netlist of tests/conformance run by ngspice -b
 * and by `smallsim spice run`, compared vector by vector and measurement by
 * measurement.
 *
 * The reference is the ngspice program itself, run in a copy of the corpus:
 *   - vectors: `ngspice -b -r ref.raw deck.cir`; smallsim writes `-o ss.raw`;
 *     every plot, vector name and type, point count and value must be equal
 *     (values bit for bit: the same ngspice code computes both; the one
 *     exception is the imaginary part of the frequency scale of complex
 *     plots, which ngspice -r fills from an unset union member);
 *   - measurements: ngspice -b (without -r, which refuses .meas) on a copy of
 *     the deck with, for each .meas line, a PARAM line that prints its result
 *     with 16 significant digits (NGSPICE_MEAS_PRECISION=16; ngspice prints
 *     FIND, TRIG/TARG, AVG, MIN, MAX and PP with 7); smallsim's --meas file
 *     must hold the same results, the same failures, the same values;
 *   - decks with a .control section: the files they write (compared byte for
 *     byte, raw files as above without their Date line) and the status of
 *     their quit.
 * With SS_CONF_TABLE=FILE the results are written as the Markdown table of
 * docs/engine.md (`make conformance`). */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tests/ss_test.h"

#define CORPUS "tests/conformance"

static char out[1 << 16];

/* ---- ngspice raw files -------------------------------------------------- */

typedef struct rvec {
    char name[256], type[64];
    double *re, *im;
} rvec;

typedef struct rplot {
    char title[512], plotname[256];
    int complex;
    size_t nvar, npts;
    rvec *v;
} rplot;

typedef struct rfile {
    size_t nplot;
    rplot *p;
} rfile;

static void raw_free(rfile *f)
{
    for (size_t i = 0; i < f->nplot; i++) {
        for (size_t j = 0; j < f->p[i].nvar; j++) {
            free(f->p[i].v[j].re);
            free(f->p[i].v[j].im);
        }
        free(f->p[i].v);
    }
    free(f->p);
    memset(f, 0, sizeof *f);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *d = malloc((size_t)n + 1);
    if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
        free(d);
        d = NULL;
    }
    fclose(f);
    if (d) {
        d[n] = '\0';
        *len = (size_t)n;
    }
    return d;
}

/* Reads every plot of a binary or ASCII ngspice raw file; 0 on success. */
static int raw_read(const char *path, rfile *f, char *why, size_t wsz)
{
    size_t len = 0, pos = 0;
    char *d = read_all(path, &len);
    memset(f, 0, sizeof *f);
    if (!d) {
        snprintf(why, wsz, "no raw file %s", path);
        return -1;
    }
    while (pos < len) {
        rplot p;
        memset(&p, 0, sizeof p);
        int binary = -1;
        while (pos < len && binary < 0) {
            char *eol = memchr(d + pos, '\n', len - pos);
            if (!eol)
                goto bad;
            *eol = '\0';
            char *line = d + pos;
            pos = (size_t)(eol - d) + 1;
            if (!strncmp(line, "Title: ", 7))
                snprintf(p.title, sizeof p.title, "%s", line + 7);
            else if (!strncmp(line, "Plotname: ", 10))
                snprintf(p.plotname, sizeof p.plotname, "%s", line + 10);
            else if (!strncmp(line, "Flags: ", 7))
                p.complex = strstr(line, "complex") != NULL;
            else if (!strncmp(line, "No. Variables: ", 15))
                p.nvar = strtoul(line + 15, NULL, 10);
            else if (!strncmp(line, "No. Points: ", 12))
                p.npts = strtoul(line + 12, NULL, 10);
            else if (!strncmp(line, "Variables:", 10)) {
                p.v = calloc(p.nvar ? p.nvar : 1, sizeof *p.v);
                for (size_t j = 0; j < p.nvar; j++) {
                    eol = memchr(d + pos, '\n', len - pos);
                    if (!eol)
                        goto bad;
                    *eol = '\0';
                    if (sscanf(d + pos, "%*d %255s %63s", p.v[j].name, p.v[j].type) != 2)
                        goto bad;
                    pos = (size_t)(eol - d) + 1;
                }
            } else if (!strncmp(line, "Binary:", 7)) {
                binary = 1;
            } else if (!strncmp(line, "Values:", 7)) {
                binary = 0;
            }
        }
        if (binary < 0 || !p.v)
            goto bad;
        for (size_t j = 0; j < p.nvar; j++) {
            p.v[j].re = calloc(p.npts ? p.npts : 1, sizeof(double));
            p.v[j].im = p.complex ? calloc(p.npts ? p.npts : 1, sizeof(double)) : NULL;
        }
        for (size_t k = 0; k < p.npts; k++)
            for (size_t j = 0; j < p.nvar; j++) {
                double x[2] = {0, 0};
                int w = p.complex ? 2 : 1;
                if (binary) {
                    if (pos + 8u * (size_t)w > len)
                        goto bad;
                    memcpy(x, d + pos, 8u * (size_t)w);
                    pos += 8u * (size_t)w;
                } else {
                    char *e = d + pos;
                    if (j == 0)
                        strtol(e, &e, 10); /* point number */
                    x[0] = strtod(e, &e);
                    if (p.complex && *e == ',')
                        x[1] = strtod(e + 1, &e);
                    pos = (size_t)(e - d);
                }
                p.v[j].re[k] = x[0];
                if (p.complex)
                    p.v[j].im[k] = x[1];
            }
        while (!binary && pos < len && (d[pos] == '\n' || d[pos] == ' ' || d[pos] == '\t'))
            pos++;
        rplot *g = realloc(f->p, (f->nplot + 1) * sizeof *g);
        g[f->nplot++] = p;
        f->p = g;
    }
    free(d);
    return 0;
bad:
    free(d);
    raw_free(f);
    snprintf(why, wsz, "malformed raw file %s", path);
    return -1;
}

static int same_double(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

/* Compares two raw files; counts what was compared. */
static int raw_compare(const char *ref_path, const char *ss_path, int with_title, int nocase,
                       size_t *nplots, size_t *nvec, size_t *npts, char *why, size_t wsz)
{
    rfile a, b;
    if (raw_read(ref_path, &a, why, wsz))
        return -1;
    if (raw_read(ss_path, &b, why, wsz)) {
        raw_free(&a);
        return -1;
    }
    int rc = -1;
    if (a.nplot != b.nplot) {
        snprintf(why, wsz, "%zu plots, smallsim %zu", a.nplot, b.nplot);
        goto out;
    }
    for (size_t i = 0; i < a.nplot; i++) {
        rplot *p = &a.p[i], *q = &b.p[i];
        if (strcmp(p->plotname, q->plotname) || (with_title && strcmp(p->title, q->title)) ||
            p->nvar != q->nvar || p->npts != q->npts || p->complex != q->complex) {
            snprintf(why, wsz, "plot %zu: '%s' '%s' %zux%zu vs '%s' '%s' %zux%zu", i,
                     p->plotname, p->title, p->nvar, p->npts, q->plotname, q->title, q->nvar,
                     q->npts);
            goto out;
        }
        for (size_t j = 0; j < p->nvar; j++) {
            rvec *u = &p->v[j], *w = &q->v[j];
            if ((nocase ? strcasecmp(u->name, w->name) : strcmp(u->name, w->name)) ||
                strcmp(u->type, w->type)) {
                snprintf(why, wsz, "plot '%s' variable %zu: %s %s vs %s %s", p->plotname, j,
                         u->name, u->type, w->name, w->type);
                goto out;
            }
            /* ngspice -r writes the frequency scale of a complex plot as
             * the complex union member of a real value: its imaginary part
             * is whatever that memory held */
            int scale_im = j == 0 && !strcmp(u->type, "frequency");
            for (size_t k = 0; k < p->npts; k++)
                if (!same_double(u->re[k], w->re[k]) ||
                    (p->complex && !scale_im && !same_double(u->im[k], w->im[k]))) {
                    snprintf(why, wsz, "plot '%s' %s[%zu]: %.17g%+.17gj vs %.17g%+.17gj",
                             p->plotname, u->name, k, u->re[k], p->complex ? u->im[k] : 0.0,
                             w->re[k], p->complex ? w->im[k] : 0.0);
                    goto out;
                }
            *nvec += 1;
            *npts += p->npts;
        }
        *nplots += 1;
    }
    rc = 0;
out:
    raw_free(&a);
    raw_free(&b);
    return rc;
}

/* ---- measurements -------------------------------------------------------- */

typedef struct meas {
    char name[128], analysis[16];
    int ok, param, digits;
    double value;
} meas;

/* Significant digits of a printed number ("2.2624234458514295e-05": 17). */
static int digits_of(const char *s)
{
    int n = 0, lead = 1;
    for (; *s && *s != 'e' && *s != 'E'; s++)
        if (isdigit((unsigned char)*s) && !(lead && *s == '0')) {
            lead = 0;
            n++;
        }
    return n;
}

typedef struct measlist {
    size_t n;
    meas m[64];
} measlist;

/* The .meas lines of a deck (first line of each statement). */
static void deck_measures(const char *text, measlist *ml)
{
    ml->n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char an[16], name[128], kind[128] = "";
        if (strncasecmp(p, ".meas", 5) ||
            sscanf(p, "%*s %15s %127s %127s", an, name, kind) < 2 || ml->n == 64)
            continue;
        meas *m = &ml->m[ml->n++];
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        for (char *c = an; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        snprintf(m->name, sizeof m->name, "%s", name);
        snprintf(m->analysis, sizeof m->analysis, "%s", an);
        m->param = !strncasecmp(kind, "param", 5) || !strncasecmp(kind, "expr", 4);
    }
}

/* ngspice -b's printout: "name = value ..." and " .meas tran x ... failed!"
 * lines, with the 16-digit companions "conf_K = value" replacing values
 * printed with fewer digits (WHEN, RMS and INTEG come with 17).  The last
 * result of a name counts. */
static void parse_ngspice_measures(const char *text, const measlist *deck, measlist *res)
{
    res->n = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char name[128], eq[8], val[64];
        while (*p == ' ')
            p++;
        if (!strncmp(p, ".meas", 5)) {
            char an[16];
            const char *eol = strchr(p, '\n');
            size_t len = eol ? (size_t)(eol - p) : strlen(p);
            if (len > 7 && !strncmp(p + len - 7, "failed!", 7) &&
                sscanf(p, "%*s %15s %127s", an, name) == 2 && res->n < 64) {
                meas *m = &res->m[res->n++];
                snprintf(m->name, sizeof m->name, "%s", name);
                m->ok = 0;
                m->value = NAN;
            }
            continue;
        }
        if (sscanf(p, "%127s %7s %63s", name, eq, val) != 3 || strcmp(eq, "="))
            continue;
        if (!strncmp(name, "conf_", 5)) {
            size_t k = strtoul(name + 5, NULL, 10);
            if (k >= deck->n || !strcmp(val, "failed"))
                continue;
            for (size_t i = res->n; i-- > 0;)
                if (!strcmp(res->m[i].name, deck->m[k].name)) {
                    if (res->m[i].ok && res->m[i].digits < 16)
                        res->m[i].value = strtod(val, NULL);
                    break;
                }
            continue;
        }
        int known = 0;
        for (size_t i = 0; i < deck->n; i++)
            known |= !strcmp(deck->m[i].name, name);
        if (!known || res->n == 64)
            continue;
        meas *m = &res->m[res->n++];
        snprintf(m->name, sizeof m->name, "%s", name);
        m->ok = strcmp(val, "failed") != 0;
        m->value = m->ok ? strtod(val, NULL) : NAN;
        m->digits = m->ok ? digits_of(val) : 0;
    }
}

/* smallsim's --meas CSV: name,analysis,value,status */
static void parse_ss_measures(const char *text, measlist *res)
{
    res->n = 0;
    const char *p = strchr(text, '\n');
    for (p = p ? p + 1 : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        char line[512];
        size_t len = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        char *f[4] = {line, NULL, NULL, NULL};
        for (int k = 1; k < 4 && f[k - 1]; k++) {
            char *c = strchr(f[k - 1], ',');
            if (c) {
                *c = '\0';
                f[k] = c + 1;
            }
        }
        if (!f[3] || res->n == 64)
            continue;
        meas *m = &res->m[res->n++];
        snprintf(m->name, sizeof m->name, "%.127s", f[0]);
        m->ok = !strcmp(f[3], "ok");
        m->value = m->ok ? strtod(f[2], NULL) : NAN;
    }
}

static const meas *last_of(const measlist *l, const char *name)
{
    for (size_t i = l->n; i-- > 0;)
        if (!strcmp(l->m[i].name, name))
            return &l->m[i];
    return NULL;
}

static int meas_compare(const measlist *deck, const measlist *ref, const measlist *ss,
                        size_t *n, char *why, size_t wsz)
{
    for (size_t i = 0; i < deck->n; i++) {
        const meas *a = last_of(ref, deck->m[i].name), *b = last_of(ss, deck->m[i].name);
        if (!a != !b) {
            snprintf(why, wsz, ".meas %s: %s by ngspice, %s by smallsim", deck->m[i].name,
                     a ? "evaluated" : "not evaluated", b ? "evaluated" : "not evaluated");
            return -1;
        }
        if (!a || (i && last_of(deck, deck->m[i].name) != &deck->m[i]))
            continue; /* not evaluated, or counted at its last line */
        if (a->ok != b->ok || !same_double(a->value, b->value)) {
            snprintf(why, wsz, ".meas %s: ngspice %.17g (%s), smallsim %.17g (%s)", a->name,
                     a->value, a->ok ? "ok" : "failed", b->value, b->ok ? "ok" : "failed");
            return -1;
        }
        *n += 1;
    }
    return 0;
}

/* ---- running the corpus ---------------------------------------------------- */

typedef struct outcome {
    char name[64], covers[512], compared[256], why[1024];
    int fast, agree;
} outcome;

static int has_line(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncasecmp(p, prefix, n))
            return 1;
    return 0;
}

/* The deck with `extra` lines before its .end. */
static void write_with(const char *dir, const char *name, const char *text, const char *extra)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    const char *end = NULL;
    for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncasecmp(p, ".end", 4) && (p[4] == '\n' || p[4] == '\0' || p[4] == ' '))
            end = p;
    fwrite(text, 1, end ? (size_t)(end - text) : strlen(text), f);
    fputs(extra, f);
    fputs(end ? end : ".end\n", f);
    fclose(f);
}

/* The deck with a PARAM companion for every .meas line, before .end. */
static void write_companions(const char *dir, const char *name, const char *text,
                             const measlist *ml)
{
    char extra[64 * 200] = "";
    size_t len = 0;
    for (size_t k = 0; k < ml->n && len < sizeof extra; k++)
        if (!ml->m[k].param)
            len += (size_t)snprintf(extra + len, sizeof extra - len,
                                    ".meas %s conf_%zu param='%s'\n", ml->m[k].analysis, k,
                                    ml->m[k].name);
    write_with(dir, name, text, extra);
}

static int is_new(const char *name)
{
    struct stat st;
    char path[1200];
    snprintf(path, sizeof path, CORPUS "/%s", name);
    return stat(path, &st) != 0;
}

static void run_plain(const char *refdir, const char *ssdir, const char *file, const char *text,
                      outcome *o)
{
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s", (int)strcspn(file, "."), file);
    size_t nplots = 0, nvec = 0, npts = 0, nmeas = 0;
    /* "* reference: write": ngspice -b -r is broken for the deck (with
     * option autostop it stops after the first point, as -r disables
     * .meas); the reference plot is then written by ngspice's `write`
     * after a `run`, which names digit nodes "V(2)" where -r has "v(2)" */
    int by_write = strstr(text, "* reference: write") != NULL;
    if (by_write) {
        char wname[128], wtext[256];
        snprintf(wname, sizeof wname, "%s.w.cir", stem);
        snprintf(wtext, sizeof wtext, ".control\nrun\nwrite %s.ref.raw\n.endc\n", stem);
        write_with(refdir, wname, text, wtext);
        ss_test_sh(out, sizeof out, "cd %s && ngspice -b %s", refdir, wname);
    } else {
        ss_test_sh(out, sizeof out, "cd %s && ngspice -b -r %s.ref.raw %s", refdir, stem, file);
    }
    int st = ss_test_sh(out, sizeof out, "cd %s && %s spice run %s -o %s.ss.raw --meas %s.ss.csv",
                        ssdir, ss_test_program(), file, stem, stem);
    if (st != 0) {
        snprintf(o->why, sizeof o->why, "smallsim failed: %.900s", out);
        return;
    }
    char ref[1200], ss[1200];
    snprintf(ref, sizeof ref, "%s/%s.ref.raw", refdir, stem);
    snprintf(ss, sizeof ss, "%s/%s.ss.raw", ssdir, stem);
    if (raw_compare(ref, ss, 1, by_write, &nplots, &nvec, &npts, o->why, sizeof o->why))
        return;
    measlist deck, rm, sm;
    deck_measures(text, &deck);
    if (deck.n) {
        char mname[128];
        snprintf(mname, sizeof mname, "%s.meas.cir", stem);
        write_companions(refdir, mname, text, &deck);
        ss_test_sh(out, sizeof out, "cd %s && NGSPICE_MEAS_PRECISION=16 ngspice -b %s", refdir,
                   mname);
        parse_ngspice_measures(out, &deck, &rm);
        snprintf(ss, sizeof ss, "%s/%s.ss.csv", ssdir, stem);
        size_t len;
        char *csv = read_all(ss, &len);
        ck_assert_msg(csv != NULL, "no %s", ss);
        parse_ss_measures(csv, &sm);
        free(csv);
        if (meas_compare(&deck, &rm, &sm, &nmeas, o->why, sizeof o->why))
            return;
    }
    snprintf(o->compared, sizeof o->compared, "%zu plots, %zu vectors, %zu values; %zu .meas",
             nplots, nvec, npts, nmeas);
    o->agree = 1;
}

static void run_control(const char *base, const char *ssdir, const char *file, outcome *o)
{
    char outdir[1400], refdir[1200];
    /* a fresh copy of the corpus per deck: new files there are its own */
    snprintf(refdir, sizeof refdir, "%s/ref-%s", base, file);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "mkdir %s && cp -r " CORPUS "/. %s/", refdir,
                                refdir),
                     0);
    snprintf(outdir, sizeof outdir, "%s/out-%s", ssdir, file);
    int ng = ss_test_sh(out, sizeof out, "cd %s && ngspice -b %s", refdir, file);
    int st = ss_test_sh(out, sizeof out, "cd %s && %s spice run --allow-control %s --outdir %s",
                        ssdir, ss_test_program(), file, outdir);
    /* ngspice -b exits with the status of quit; smallsim fails when it is
     * not 0 and names it */
    char want[64];
    snprintf(want, sizeof want, "'quit %d'", ng);
    if ((ng == 0 && st != 0) || (ng != 0 && (st != 1 || !strstr(out, want)))) {
        snprintf(o->why, sizeof o->why, "ngspice -b exits %d, smallsim %d: %.800s", ng, st, out);
        return;
    }
    /* every file ngspice wrote, smallsim wrote the same */
    size_t nfiles = 0, nplots = 0, nvec = 0, npts = 0;
    DIR *d = opendir(refdir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *de; (de = readdir(d));) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if (*n == '.' || !is_new(n))
            continue;
        char a[1700], b[1700];
        snprintf(a, sizeof a, "%s/%s", refdir, n);
        snprintf(b, sizeof b, "%s/%s", outdir, n);
        if (len > 4 && !strcmp(n + len - 4, ".raw")) {
            /* the title is the circuit's in both; ngspice -b's `write`
             * puts the date in, so raw files compare by content */
            if (raw_compare(a, b, 1, 1, &nplots, &nvec, &npts, o->why, sizeof o->why))
                break;
        } else {
            size_t la = 0, lb = 0;
            char *x = read_all(a, &la), *y = read_all(b, &lb);
            int same = x && y && la == lb && !memcmp(x, y, la);
            free(x);
            free(y);
            if (!same) {
                snprintf(o->why, sizeof o->why, "file %s differs or is missing", n);
                break;
            }
        }
        nfiles++;
    }
    closedir(d);
    if (o->why[0])
        return;
    if (nfiles == 0) {
        snprintf(o->why, sizeof o->why, "the deck wrote no file to compare");
        return;
    }
    snprintf(o->compared, sizeof o->compared, "%zu files written%s; quit %d", nfiles,
             nvec ? " (raw files value by value)" : "", ng);
    o->agree = 1;
}

static void run_one(const char *base, const char *file, outcome *o)
{
    char path[1200], refdir[1200], ssdir[1200];
    size_t len;
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", file);
    snprintf(path, sizeof path, CORPUS "/%s", file);
    char *text = read_all(path, &len);
    ck_assert_ptr_nonnull(text);
    const char *c = strstr(text, "* covers: ");
    if (c)
        snprintf(o->covers, sizeof o->covers, "%.*s", (int)strcspn(c + 10, "\n"), c + 10);
    o->fast = strstr(text, "* conformance: fast") != NULL;
    if (!o->fast && !ss_test_long()) {
        snprintf(o->why, sizeof o->why, "skipped (make check-long)");
        free(text);
        return;
    }
    snprintf(refdir, sizeof refdir, "%s/ref", base);
    snprintf(ssdir, sizeof ssdir, "%s/ss", base);
    if (has_line(text, ".control"))
        run_control(base, ssdir, file, o);
    else
        run_plain(refdir, ssdir, file, text, o);
    free(text);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

START_TEST(corpus_agrees_with_ngspice)
{
    if (ss_test_sh(out, sizeof out, "ngspice -v") != 0) {
        fprintf(stderr, "check_conformance: ngspice not found, skipped\n");
        return;
    }
    const char *base = ss_test_tmpdir();
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "mkdir %s/ref %s/ss && cp -r " CORPUS "/. %s/ref/ && cp -r " CORPUS
                                "/. %s/ss/",
                                base, base, base, base),
                     0);
    DIR *d = opendir(CORPUS);
    ck_assert_ptr_nonnull(d);
    char *names[256];
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d)) && n < 256;) {
        size_t len = strlen(de->d_name);
        if (len > 4 && !strcmp(de->d_name + len - 4, ".cir"))
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    ck_assert_uint_gt(n, 10);
    outcome *res = calloc(n, sizeof *res);
    size_t ran = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        run_one(base, names[i], &res[i]);
        int skipped = !res[i].agree && !strncmp(res[i].why, "skipped", 7);
        ran += !skipped;
        if (!skipped && !res[i].agree) {
            bad++;
            fprintf(stderr, "conformance: %s: %s\n", names[i], res[i].why);
        }
    }
    const char *table = getenv("SS_CONF_TABLE");
    if (table && *table) {
        FILE *f = fopen(table, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "| netlist | covers | compared | result |\n|---|---|---|---|\n");
        for (size_t i = 0; i < n; i++)
            fprintf(f, "| %s | %s | %s | %s |\n", res[i].name, res[i].covers,
                    res[i].agree ? res[i].compared : "-",
                    res[i].agree ? "agrees" : res[i].why);
        fclose(f);
    }
    fprintf(stderr, "check_conformance: %zu of %zu netlists run, %zu differ\n", ran, n, bad);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(res);
    ck_assert_uint_eq(bad, 0);
}
END_TEST

/* A schematic netlisted by xschem in batch mode runs unchanged and agrees
 * with ngspice -b (skipped where xschem is not installed). */
START_TEST(xschem_netlist_runs_unchanged)
{
    const char *share = "/usr/share/xschem";
    struct stat st;
    if (ss_test_sh(out, sizeof out, "command -v xschem") != 0 || stat(share, &st) != 0) {
        fprintf(stderr, "check_conformance: xschem not installed, its netlist test skipped\n");
        return;
    }
    const char *base = ss_test_tmpdir();
    char rc[1200], sch[4096];
    ck_assert_ptr_nonnull(realpath("tests/eda/rc_filter.sch", sch));
    snprintf(rc, sizeof rc,
             "source %s/xschemrc\nset netlist_dir %s\nset XSCHEM_DESIGN_PATH %s/xschem_library\n",
             share, base, share);
    ss_test_write(base, "xschemrc", rc);
    /* without a netlist_dir, xschem 2.8.1 crashes in batch mode */
    ck_assert_msg(ss_test_sh(out, sizeof out, "cd %s && xschem --rcfile xschemrc -n -s -q -x -r %s",
                             base, sch) == 0,
                  "%s", out);
    size_t len;
    char path[1200];
    snprintf(path, sizeof path, "%s/rc_filter.spice", base);
    char *text = read_all(path, &len);
    ck_assert_msg(text != NULL, "xschem wrote no netlist: %s", out);
    ck_assert_ptr_nonnull(strstr(text, "R1 in out 1k"));
    outcome o;
    memset(&o, 0, sizeof o);
    run_plain(base, base, "rc_filter.spice", text, &o);
    free(text);
    ck_assert_msg(o.agree, "%s", o.why);
    fprintf(stderr, "check_conformance: xschem netlist: %s\n", o.compared);
}
END_TEST

Suite *conformance_suite(void)
{
    Suite *s = suite_create("conformance");
    TCase *tc = tcase_create("ngspice");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, corpus_agrees_with_ngspice);
    tcase_add_test(tc, xschem_netlist_runs_unchanged);
    suite_add_tcase(s, tc);
    return s;
}
