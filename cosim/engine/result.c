/* result.c: simulation results copied out of ngspice, and their files
 * (CSV with a header row; ngspice binary raw). */
#include "cosim/engine/ss_engine.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *ss_vector_type_name(int type)
{
    /* ngspice's types in the order of sim.h (typesdef.c's names) */
    static const char *const names[] = {
        "notype",      "time",          "frequency",         "voltage",
        "current",     "voltage-density", "current-density", "voltage^2-density",
        "current^2-density", "voltage^2", "current^2",       "pole",
        "zero",        "s-param",       "temp-sweep",        "res-sweep",
        "impedance",   "admittance",    "power",             "phase",
        "decibel",     "capacitance",   "charge"};
    if (type >= 0 && type < (int)(sizeof names / sizeof names[0]))
        return names[type];
    return "notype";
}

const char *ss_vector_raw_name(const char *name, int type, char *buf, size_t size)
{
    size_t n = strlen(name);
    if (type == SS_VT_CURRENT) {
        /* "v1#branch" -> "i(v1)" */
        const char *b = strstr(name, "#branch");
        size_t len = b ? (size_t)(b - name) : n;
        snprintf(buf, size, "i(%.*s)", (int)len, name);
    } else if (type == SS_VT_VOLTAGE) {
        /* ngspice names a node vector "V(2)" when the node name begins
         * with a digit; the raw file has v(2) */
        if (n > 3 && name[0] == 'V' && name[1] == '(' && isdigit((unsigned char)name[2]) &&
            name[n - 1] == ')')
            snprintf(buf, size, "v(%.*s)", (int)(n - 3), name + 2);
        else
            snprintf(buf, size, "v(%s)", name);
    } else {
        snprintf(buf, size, "%s", name);
    }
    return buf;
}

const ss_measure *ss_result_measure(const ss_result *res, const char *name)
{
    for (size_t i = res ? res->nmeas : 0; i-- > 0;)
        if (!strcasecmp(res->meas[i].name, name))
            return &res->meas[i];
    return NULL;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int ss_result_write_measures(const ss_result *res, const char *path, ss_error *err)
{
    ss_error tmp;
    size_t n = strlen(path);
    int json = n >= 5 && !strcasecmp(path + n - 5, ".json");
    FILE *f = strcmp(path, "-") ? ss_util_open_output(path, "w", &tmp) : stdout;
    if (!f)
        return ss_error_set(err, tmp.code, "%s", tmp.msg);
    if (json)
        fputs("[", f);
    else
        fputs("name,analysis,value,status\n", f);
    for (size_t i = 0; i < res->nmeas; i++) {
        const ss_measure *m = &res->meas[i];
        if (json) {
            fputs(i ? ",\n {\"name\": " : "\n {\"name\": ", f);
            json_string(f, m->name);
            fputs(", \"analysis\": ", f);
            json_string(f, m->analysis);
            if (m->ok)
                fprintf(f, ", \"value\": %.17g, \"ok\": true}", m->value);
            else
                fputs(", \"value\": null, \"ok\": false}", f);
        } else if (m->ok) {
            fprintf(f, "%s,%s,%.17g,ok\n", m->name, m->analysis, m->value);
        } else {
            fprintf(f, "%s,%s,,failed\n", m->name, m->analysis);
        }
    }
    if (json)
        fputs(res->nmeas ? "\n]\n" : "]\n", f);
    int bad = ferror(f);
    bad |= f != stdout ? fclose(f) != 0 : fflush(f) != 0;
    if (bad)
        return ss_error_set(err, SS_EIO, "%s: write error", path);
    return SS_OK;
}

/* Compares vector names the way users write them: case-insensitively, and
 * "v(out)" also matches a node vector stored as "out". */
static int name_matches(const char *stored, const char *want)
{
    if (!strcasecmp(stored, want))
        return 1;
    size_t n = strlen(want);
    if (n > 3 && (want[0] == 'v' || want[0] == 'V') && want[1] == '(' && want[n - 1] == ')' &&
        !strchr(want + 2, ',') && strlen(stored) == n - 3 && !strncasecmp(stored, want + 2, n - 3))
        return 1;
    return 0;
}

const ss_vector *ss_plot_find(const ss_plot *p, const char *name)
{
    if (!p || !name)
        return NULL;
    for (size_t i = 0; i < p->nvec; i++)
        if (name_matches(p->vec[i].name, name))
            return &p->vec[i];
    /* "i(v1)" is stored by ngspice as "v1#branch" */
    size_t n = strlen(name);
    if (n > 3 && (name[0] == 'i' || name[0] == 'I') && name[1] == '(' && name[n - 1] == ')') {
        char branch[256];
        snprintf(branch, sizeof branch, "%.*s#branch", (int)(n - 3), name + 2);
        for (size_t i = 0; i < p->nvec; i++)
            if (!strcasecmp(p->vec[i].name, branch))
                return &p->vec[i];
    }
    return NULL;
}

const ss_vector *ss_result_find(const ss_result *res, const char *name)
{
    if (!res || res->nplot == 0)
        return NULL;
    return ss_plot_find(&res->plot[res->nplot - 1], name);
}

/* Resolves the selection to vector pointers and column labels (as the
 * caller wrote them: "v(out)", not ngspice's "out"); the scale comes first. */
static int select_vectors(const ss_plot *p, const char *const *names, size_t nnames,
                          const ss_vector ***out, const char ***labels, size_t *nout,
                          ss_error *err)
{
    size_t cap = (names ? nnames : p->nvec) + 1, n = 0;
    const ss_vector **sel = calloc(cap, sizeof *sel);
    const char **lab = calloc(cap, sizeof *lab);
    if (!sel || !lab) {
        free(sel);
        free(lab);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    if (!names) {
        for (size_t i = 0; i < p->nvec; i++) {
            sel[n] = &p->vec[i];
            lab[n++] = NULL; /* ngspice's raw-file name */
        }
    } else {
        if (p->nvec && p->has_scale) {
            sel[n] = &p->vec[0];
            lab[n++] = NULL;
        }
        for (size_t i = 0; i < nnames; i++) {
            const ss_vector *v = ss_plot_find(p, names[i]);
            if (!v) {
                free(sel);
                free(lab);
                return ss_error_set(err, SS_ENOTFOUND, "no vector '%s' in plot '%s'", names[i],
                                    p->name);
            }
            if (v != &p->vec[0] || !p->has_scale) {
                sel[n] = v;
                lab[n++] = names[i];
            }
        }
    }
    *out = sel;
    *labels = lab;
    *nout = n;
    return SS_OK;
}

static int csv_name(FILE *f, const char *name, const char *suffix)
{
    /* quote names that contain the delimiter or quotes */
    if (strpbrk(name, ",\"")) {
        fputc('"', f);
        for (const char *c = name; *c; c++) {
            if (*c == '"')
                fputc('"', f);
            fputc(*c, f);
        }
        fprintf(f, "%s\"", suffix);
    } else {
        fprintf(f, "%s%s", name, suffix);
    }
    return 0;
}

int ss_result_write_csv(const ss_plot *p, const char *const *names, size_t nnames,
                        const char *path, ss_error *err)
{
    const ss_vector **sel;
    const char **labels;
    size_t n, npts = 0;
    int rc = select_vectors(p, names, nnames, &sel, &labels, &n, err);
    if (rc)
        return rc;
    for (size_t j = 0; j < n; j++)
        if (sel[j]->n > npts)
            npts = sel[j]->n;
    ss_error tmp;
    FILE *f = strcmp(path, "-") ? ss_util_open_output(path, "w", &tmp) : stdout;
    if (!f) {
        free(sel);
        free(labels);
        return ss_error_set(err, tmp.code, "%s", tmp.msg);
    }
    for (size_t j = 0; j < n; j++) {
        char raw[512];
        const char *label =
            labels[j] ? labels[j] : ss_vector_raw_name(sel[j]->name, sel[j]->type, raw, sizeof raw);
        if (j)
            fputc(',', f);
        if (sel[j]->im) {
            csv_name(f, label, ".re");
            fputc(',', f);
            csv_name(f, label, ".im");
        } else {
            csv_name(f, label, "");
        }
    }
    fputc('\n', f);
    for (size_t k = 0; k < npts; k++) {
        for (size_t j = 0; j < n; j++) {
            const ss_vector *v = sel[j];
            if (j)
                fputc(',', f);
            if (k < v->n) {
                fprintf(f, "%.17g", v->re[k]);
                if (v->im)
                    fprintf(f, ",%.17g", v->im[k]);
            } else if (v->im) {
                fputc(',', f);
            }
        }
        fputc('\n', f);
    }
    free(sel);
    free(labels);
    int bad = ferror(f);
    if (f != stdout)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    if (bad)
        return ss_error_set(err, SS_EIO, "%s: write error", path);
    return SS_OK;
}

int ss_result_write_raw(const ss_result *res, const char *const *names, size_t nnames,
                        const char *path, ss_error *err)
{
    ss_error tmp;
    FILE *f = ss_util_open_output(path, "wb", &tmp);
    if (!f)
        return ss_error_set(err, tmp.code, "%s", tmp.msg);
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%a %b %d %H:%M:%S  %Y", localtime(&now));
    int rc = SS_OK;
    for (size_t pi = 0; pi < res->nplot && !rc; pi++) {
        const ss_plot *p = &res->plot[pi];
        const ss_vector **sel;
        const char **labels;
        size_t n, npts = 0;
        int cplx = 0;
        /* a plot that lacks a selected vector is written whole only if
         * nothing was selected */
        rc = select_vectors(p, names, nnames, &sel, &labels, &n, err);
        if (rc == SS_ENOTFOUND && res->nplot > 1 && pi + 1 < res->nplot) {
            rc = SS_OK;
            continue;
        }
        if (rc)
            break;
        for (size_t j = 0; j < n; j++) {
            if (sel[j]->n > npts)
                npts = sel[j]->n;
            cplx |= sel[j]->im != NULL;
        }
        fprintf(f, "Title: %s\nDate: %s\nPlotname: %s\nFlags: %s\nNo. Variables: %zu\n"
                   "No. Points: %zu\nVariables:\n",
                p->title, date, p->type, cplx ? "complex" : "real", n, npts);
        for (size_t j = 0; j < n; j++) {
            char raw[512];
            fprintf(f, "\t%zu\t%s\t%s\n", j,
                    labels[j] ? labels[j]
                              : ss_vector_raw_name(sel[j]->name, sel[j]->type, raw, sizeof raw),
                    ss_vector_type_name(sel[j]->type));
        }
        fputs("Binary:\n", f);
        for (size_t k = 0; k < npts; k++)
            for (size_t j = 0; j < n; j++) {
                double d[2] = {k < sel[j]->n ? sel[j]->re[k] : 0.0,
                               k < sel[j]->n && sel[j]->im ? sel[j]->im[k] : 0.0};
                fwrite(d, sizeof(double), cplx ? 2 : 1, f);
            }
        free(sel);
        free(labels);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (!rc && bad)
        rc = ss_error_set(err, SS_EIO, "%s: write error", path);
    return rc;
}
