/* plot.c: a measurement from a results file against one or two swept
 * parameters, drawn by gnuplot into a PNG (ss_util_gnuplot). */
#include "sweep/sweep_private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int column(char **cols, size_t ncols, const char *name)
{
    for (size_t i = 0; i < ncols; i++)
        if (!strcmp(cols[i], name))
            return (int)i;
    return -1;
}

/* Splits a line at commas in place. */
static size_t split(char *line, char **cols, size_t max)
{
    size_t n = 0;
    for (char *p = line; n < max;) {
        cols[n++] = p;
        p = strchr(p, ',');
        if (!p)
            break;
        *p++ = '\0';
    }
    return n;
}

int ss_sweep_plot(const char *results, const char *measure, const char *x, const char *y,
                  const char *png, ss_error *err)
{
    char *text = NULL, *cols[256], *hdr[256];
    size_t len;
    int rc = ss_util_read_file(results, &text, &len, err);
    if (rc)
        return rc;
    ss_buf data = SS_BUF_INIT, script = SS_BUF_INIT;
    char dpath[] = "/tmp/ss-plot-XXXXXX";
    int fd = -1;
    char *nl = strchr(text, '\n');
    if (!nl) {
        rc = ss_error_set(err, SS_EPARSE, "%s: no rows", results);
        goto out;
    }
    *nl = '\0';
    size_t nh = split(text, hdr, 256);
    int cs = column(hdr, nh, "status"), cm = column(hdr, nh, measure), cx = column(hdr, nh, x);
    int cy = y ? column(hdr, nh, y) : -1;
    if (cs < 0 || cm < 0 || cx < 0 || (y && cy < 0)) {
        rc = ss_error_set(err, SS_ENOTFOUND, "%s: no column '%s'", results,
                          cm < 0 ? measure : cx < 0 ? x : cs < 0 ? "status" : y);
        goto out;
    }
    double xmin = INFINITY, xmax = -INFINITY;
    size_t rows = 0;
    for (char *line = nl + 1; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            break; /* torn last row */
        *end = '\0';
        size_t nc = split(line, cols, 256);
        if (nc == nh && !strcmp(cols[cs], "ok") && *cols[cm]) {
            double xv = strtod(cols[cx], NULL);
            xmin = fmin(xmin, xv);
            xmax = fmax(xmax, xv);
            if (cy >= 0)
                rc = ss_buf_printf(&data, "%s %s %s\n", cols[cx], cols[cy], cols[cm]);
            else
                rc = ss_buf_printf(&data, "%s %s\n", cols[cx], cols[cm]);
            rows++;
            if (rc)
                goto nomem;
        }
        line = end + 1;
    }
    if (!rows) {
        rc = ss_error_set(err, SS_ENOTFOUND, "%s: no ok rows with '%s' to plot", results, measure);
        goto out;
    }
    fd = mkstemp(dpath);
    if (fd < 0 || write(fd, data.data, data.len) != (ssize_t)data.len) {
        rc = ss_error_set(err, SS_EIO, "cannot write plot data: %s", strerror(errno));
        goto out;
    }
    int logx = xmin > 0 && xmax / xmin >= 100;
    rc = ss_buf_printf(&script,
                       "set terminal pngcairo size 900,600 noenhanced\n"
                       "set output '%s'\nset grid\nset key off\n"
                       "set title '%s: %s'\nset xlabel '%s'\n%s",
                       png, results, measure, x, logx ? "set logscale x\n" : "");
    if (!rc && cy >= 0)
        rc = ss_buf_printf(&script,
                           "set ylabel '%s'\nset cblabel '%s'\n"
                           "plot '%s' using 1:2:3 with points pt 7 ps 1.5 palette\n",
                           y, measure, dpath);
    else if (!rc)
        rc = ss_buf_printf(&script,
                           "set ylabel '%s'\n"
                           "plot '%s' using 1:2 smooth unique with linespoints pt 7\n",
                           measure, dpath);
    if (rc)
        goto nomem;
    rc = ss_util_gnuplot(script.data, err);
    goto out;
nomem:
    rc = ss_error_set(err, SS_ENOMEM, "out of memory");
out:
    if (fd >= 0) {
        close(fd);
        unlink(dpath);
    }
    free(text);
    ss_buf_release(&data);
    ss_buf_release(&script);
    return rc;
}
