/* output.c: a fit result as JSON, as an ngspice subcircuit and test deck,
 * through the ngspice engine, and as a gnuplot figure (fit/ss_fit.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit_private.h"

static int json_num(ss_buf *b, double x)
{
    if (!isfinite(x))
        return ss_buf_printf(b, "null");
    return ss_buf_printf(b, "%.10g", x);
}

int ss_fit_result_json(const ss_fit_result *r, ss_buf *b, ss_error *err)
{
    int rc = 0;
    rc |= ss_buf_printf(b, "{\n  \"model\": ");
    rc |= ss_buf_add_json_string(b, r->device.type->name);
    rc |= ss_buf_printf(b, ",\n  \"polarity\": %d,\n  \"params\": {", r->polarity);
    const char *sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        rc |= ss_buf_printf(b, "%s\n    ", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        rc |= ss_buf_printf(b, ": ");
        rc |= json_num(b, r->params[k].value);
        sep = ",";
    }
    rc |= ss_buf_printf(b, "\n  },\n  \"stderr\": {");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (!r->params[k].free)
            continue;
        rc |= ss_buf_printf(b, "%s\n    ", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        rc |= ss_buf_printf(b, ": ");
        rc |= json_num(b, r->params[k].stderr_);
        sep = ",";
    }
    rc |= ss_buf_printf(b, "\n  },\n  \"units\": {");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        rc |= ss_buf_printf(b, ": ");
        rc |= ss_buf_add_json_string(b, r->params[k].unit);
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "},\n  \"bounds\": {");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (!r->params[k].free)
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        rc |= ss_buf_printf(b, ": [");
        rc |= json_num(b, r->params[k].lo);
        rc |= ss_buf_printf(b, ", ");
        rc |= json_num(b, r->params[k].hi);
        rc |= ss_buf_printf(b, "]");
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "},\n  \"identifiable\": {");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (!r->params[k].free)
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        rc |= ss_buf_printf(b, ": %s", r->params[k].identifiable ? "true" : "false");
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "},\n  \"non_identifiable\": [");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (!r->params[k].free || r->params[k].identifiable)
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "],\n  \"at_bound\": [");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (!r->params[k].free || !r->params[k].at_bound)
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "],\n  \"fixed\": [");
    sep = "";
    for (size_t k = 0; k < r->nparams; k++) {
        if (r->params[k].free)
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "],\n  \"nrmse\": ");
    rc |= json_num(b, r->nrmse);
    rc |= ss_buf_printf(b, ",\n  \"files\": [");
    sep = "";
    for (size_t k = 0; k < r->nfiles; k++) {
        const ss_fit_file *f = &r->files[k];
        rc |= ss_buf_printf(b, "%s\n    {\"name\": ", sep);
        rc |= ss_buf_add_json_string(b, f->name);
        rc |= ss_buf_printf(b, ", \"nrmse\": ");
        rc |= json_num(b, f->nrmse);
        rc |= ss_buf_printf(b, ", \"x0\": ");
        rc |= json_num(b, f->x0);
        rc |= ss_buf_printf(b, ", \"x0_stderr\": ");
        rc |= json_num(b, f->x0_stderr);
        rc |= ss_buf_printf(b, ", \"x0_fitted\": %s, \"series_r\": ", f->x0_free ? "true" : "false");
        rc |= json_num(b, f->series_r);
        rc |= ss_buf_printf(b, ", \"samples\": %zu, \"steps\": %ld}", f->model.n, f->model.steps);
        sep = ",";
    }
    rc |= ss_buf_printf(b, "\n  ],\n  \"free\": %zu,\n  \"cond\": ", r->nfree);
    rc |= json_num(b, r->cond);
    rc |= ss_buf_printf(b, ",\n  \"global_nrmse\": ");
    rc |= json_num(b, r->global_nrmse);
    rc |= ss_buf_printf(b, ",\n  \"evals\": %ld,\n  \"seconds\": %.3f\n}\n", r->evals, r->seconds);
    return rc ? ss_error_set(err, SS_ENOMEM, "out of memory writing JSON") : SS_OK;
}

/* The device with file `file`'s initial state. */
static int device_for_file(const ss_fit_result *r, size_t file, ss_device *d, ss_error *err)
{
    if (file >= r->nfiles)
        return ss_error_set(err, SS_EINVAL, "file %zu: the fit has %zu files", file, r->nfiles);
    *d = r->device;
    double x0 = r->files[file].x0;
    if (d->type == ss_device_vteam) {
        int iw = ss_device_param_index(d->type, "w0");
        double won = ss_device_get(d, "w_on"), woff = ss_device_get(d, "w_off");
        d->p[iw] = fmin(woff, fmax(won, won + x0 * (woff - won)));
    } else {
        d->p[ss_device_param_index(d->type, "x0")] = x0;
    }
    return SS_OK;
}

int ss_fit_result_spice(const ss_fit_result *r, const char *name, size_t file, ss_buf *out,
                        ss_error *err)
{
    ss_device d;
    int rc = device_for_file(r, file, &d, err);
    if (rc)
        return rc;
    if (r->polarity >= 0)
        return ss_device_write_spice(&d, name, out, err);
    char core[128];
    if (snprintf(core, sizeof core, "%s_core", name) >= (int)sizeof core)
        return ss_error_set(err, SS_EINVAL, "subcircuit name '%s' too long", name);
    if ((rc = ss_device_write_spice(&d, core, out, err)))
        return rc;
    if (ss_buf_printf(out,
                      "* %s: the fitted device connected reversed (fit polarity -1)\n"
                      ".subckt %s te be\nX1 be te %s\n.ends %s\n",
                      name, name, core, name))
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    return SS_OK;
}

int ss_fit_netlist(const ss_fit_result *r, size_t file, const ss_fit_data *data, ss_buf *out,
                   ss_error *err)
{
    if (data->n < 2)
        return ss_error_set(err, SS_EINVAL, "%s: no samples", data->name);
    size_t mark = out->len;
    int rc = ss_buf_printf(out, "smallsim fit: %s model on '%s'\n", r->device.type->name,
                           data->name ? data->name : "data");
    if (rc || (rc = ss_fit_result_spice(r, "dut", file, out, err)))
        goto fail;
    double T = data->t[data->n - 1];
    /* The maximum step: a fifth of the shortest sample interval. */
    double dtmin = T;
    for (size_t k = 0; k + 1 < data->n; k++)
        dtmin = fmin(dtmin, data->t[k + 1] - data->t[k]);
    double hmax = dtmin / 5;
    ss_buf drive = SS_BUF_INIT;
    rc = ss_buf_add(&drive, "PWL(", 4);
    for (size_t k = 0; !rc && k < data->n; k++)
        rc = ss_buf_printf(&drive, "%s%.17g %.17g", k ? (k % 4 ? " " : "\n+ ") : "", data->t[k],
                           data->v[k]);
    if (!rc)
        rc = ss_buf_add(&drive, ")", 1);
    if (!rc)
        rc = ss_devsim_bench_tail(drive.data, data->series_r, T, hmax, out);
    ss_buf_release(&drive);
    if (rc) {
        rc = ss_error_set(err, SS_ENOMEM, "out of memory writing the deck");
        goto fail;
    }
    return SS_OK;
fail:
    out->len = mark;
    if (out->data)
        out->data[mark] = 0;
    return rc;
}

int ss_fit_run_spice(ss_engine *eng, const ss_fit_result *r, size_t file,
                     const ss_fit_data *data, ss_fit_trace *tr, ss_error *err)
{
    ss_devsim_trace_release(tr);
    ss_buf deck = SS_BUF_INIT;
    ss_devsim_trace dt = SS_DEVSIM_TRACE_INIT;
    int rc = ss_fit_netlist(r, file, data, &deck, err);
    if (!rc)
        rc = ss_devsim_bench_sample(eng, deck.data, r->polarity < 0 ? "v(x1.x1.xs)" : "v(x1.xs)",
                                    data->t, data->n, &dt, err);
    if (!rc) {
        /* the drive is the data's own, not its interpolation */
        for (size_t k = 0; k < data->n; k++)
            dt.vs[k] = data->v[k];
        tr->n = dt.n;
        tr->t = dt.t, tr->vs = dt.vs, tr->v = dt.v, tr->i = dt.i, tr->x = dt.x;
        tr->steps = dt.steps;
    }
    ss_buf_release(&deck);
    return rc;
}

int ss_fit_plot(const ss_fit_result *r, const ss_fit_data *data, const char *png,
                const char *title, ss_error *err)
{
    if (strchr(png, '\'') || strchr(png, '\n'))
        return ss_error_set(err, SS_EINVAL, "plot path '%s' must not contain quotes", png);
    size_t nf = r->nfiles;
    int cols = nf <= 1 ? 1 : nf <= 4 ? 2 : 3;
    int rows = (int)((nf + (size_t)cols - 1) / (size_t)cols);
    ss_buf s = SS_BUF_INIT;
    int rc = ss_buf_printf(&s,
                           "set terminal pngcairo size %d,%d font ',9' noenhanced\nset output '%s'\n"
                           "set multiplot layout %d,%d title '%s model %s, NRMSE %.2f %%'\n"
                           "set xlabel 'applied voltage (V)'\nset ylabel 'current (uA)'\n"
                           "set grid\nset key top left\n",
                           480 * cols, 360 * rows + 30, png, rows, cols, title ? title : "",
                           r->device.type->name, 100 * r->nrmse);
    for (size_t k = 0; k < nf; k++) {
        const char *nm = r->files[k].name ? r->files[k].name : "data";
        const char *base = strrchr(nm, '/');
        base = base ? base + 1 : nm;
        char clean[160];
        size_t q = 0;
        for (const char *p = base; *p && q + 2 < sizeof clean; p++)
            if (*p != '\'' && *p != '_' && *p != '@')
                clean[q++] = *p;
            else
                clean[q++] = ' ';
        clean[q] = 0;
        rc |= ss_buf_printf(&s, "set title '%s (NRMSE %.2f %%)' noenhanced\n", clean,
                            100 * r->files[k].nrmse);
        rc |= ss_buf_printf(&s, "plot '-' with points pt 7 ps 0.5 lc rgb '#4070c0' title 'data', "
                                "'-' with lines lw 2 lc rgb '#d04020' title 'model'\n");
        const ss_fit_trace *m = &r->files[k].model;
        for (size_t j = 0; j < data[k].n; j++)
            rc |= ss_buf_printf(&s, "%.9g %.9g\n", data[k].v[j], 1e6 * data[k].i[j]);
        rc |= ss_buf_printf(&s, "e\n");
        for (size_t j = 0; j < m->n; j++)
            rc |= ss_buf_printf(&s, "%.9g %.9g\n", m->vs[j], 1e6 * m->i[j]);
        rc |= ss_buf_printf(&s, "e\n");
    }
    rc |= ss_buf_printf(&s, "unset multiplot\n");
    if (rc) {
        ss_buf_release(&s);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    rc = ss_util_gnuplot(s.data, err);
    ss_buf_release(&s);
    return rc;
}
