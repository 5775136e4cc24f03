/* matrix.c: plain numeric CSV files (no header) as row-major matrices. */
#include "util/ss_util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int ss_util_read_matrix(const char *path, int spice_numbers, double **data, size_t *rows,
                        size_t *cols, ss_error *err)
{
    char *text = NULL;
    int rc = ss_util_read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    size_t cap = 0, n = 0, nrows = 0, ncols = 0;
    double *d = NULL;
    int lineno = 0;
    char *save = NULL;
    for (char *p = text; p && *p; p = save) {
        char *eol = strchr(p, '\n');
        save = eol ? eol + 1 : NULL;
        if (eol)
            *eol = '\0';
        lineno++;
        char *q = p;
        while (isspace((unsigned char)*q))
            q++;
        if (!*q || *q == '#' || *q == '*')
            continue;
        size_t inrow = 0;
        for (char *tok = q; *tok;) {
            while (*tok == ' ' || *tok == '\t' || *tok == '\r')
                tok++;
            if (!*tok)
                break;
            char *end = tok;
            while (*end && *end != ',' && *end != ';' && !isspace((unsigned char)*end))
                end++;
            char sep = *end;
            *end = '\0';
            double v;
            int bad = spice_numbers ? ss_util_parse_spice_number(tok, &v)
                                    : ss_util_parse_double(tok, &v);
            if (bad) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%s' is not a number", path, lineno,
                                  *tok ? tok : "(empty)");
                goto out;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                double *nd = realloc(d, cap * sizeof *nd);
                if (!nd) {
                    rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                    goto out;
                }
                d = nd;
            }
            d[n++] = v;
            inrow++;
            tok = end + (sep ? 1 : 0);
            /* "a, b" and "a ,b": one separator between values */
            while (*tok == ' ' || *tok == '\t' || *tok == '\r')
                tok++;
            if (sep && sep != ',' && sep != ';' && (*tok == ',' || *tok == ';'))
                tok++;
            else if ((sep == ',' || sep == ';') && !*tok) {
                rc = ss_error_set(err, SS_EPARSE, "%s:%d: missing value after '%c'", path,
                                  lineno, sep);
                goto out;
            }
        }
        if (nrows == 0)
            ncols = inrow;
        else if (inrow != ncols) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: %zu values, but the first row has %zu",
                              path, lineno, inrow, ncols);
            goto out;
        }
        nrows++;
    }
    if (nrows == 0)
        rc = ss_error_set(err, SS_EPARSE, "%s:1: no numbers in the file", path);
out:
    free(text);
    if (rc) {
        free(d);
        return rc;
    }
    *data = d;
    *rows = nrows;
    *cols = ncols;
    return SS_OK;
}
