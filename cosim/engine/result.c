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
    static const char *const names[] = {"notype", "time", "frequency", "voltage", "current"};
    if (type >= 0 && type < (int)(sizeof names / sizeof names[0]))
        return names[type];
    return "notype";
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
            lab[n++] = p->vec[i].name;
        }
    } else {
        if (p->nvec && p->has_scale) {
            sel[n] = &p->vec[0];
            lab[n++] = p->vec[0].name;
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
        if (j)
            fputc(',', f);
        if (sel[j]->im) {
            csv_name(f, labels[j], ".re");
            fputc(',', f);
            csv_name(f, labels[j], ".im");
        } else {
            csv_name(f, labels[j], "");
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
        for (size_t j = 0; j < n; j++)
            fprintf(f, "\t%zu\t%s\t%s\n", j, labels[j], ss_vector_type_name(sel[j]->type));
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

/* ---- measurements ------------------------------------------------------- */

int ss_engine_find_measure(const char *transcript, const char *name, double *value)
{
    const char *start = transcript ? strstr(transcript, "Measurements for") : NULL;
    size_t n = name ? strlen(name) : 0;
    if (!start || !n)
        return 0;
    for (const char *p = start; *p;) {
        const char *line = p;
        while (*line == ' ' || *line == '\t')
            line++;
        if (!strncasecmp(line, name, n) && (line[n] == ' ' || line[n] == '\t' || line[n] == '=')) {
            const char *q = line + n;
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '=') {
                char *end;
                errno = 0;
                double v = strtod(q + 1, &end);
                if (end != q + 1 && !errno && isfinite(v)) {
                    *value = v;
                    return 1;
                }
            }
        }
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}
