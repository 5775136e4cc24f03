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

/* Exact: 17 significant digits read back to the same double. */
static int json_exact(ss_buf *b, double x)
{
    if (!isfinite(x))
        return ss_buf_printf(b, "null");
    return ss_buf_printf(b, "%.17g", x);
}

static const char *const objective_name[] = {"linear", "log", "mixed"};

int ss_fit_result_json(const ss_fit_result *r, ss_buf *b, ss_error *err)
{
    int rc = 0;
    /* The device: everything ss_fit_params_load needs, exactly. */
    rc |= ss_buf_printf(b, "{\n  \"device\": {\n    \"model\": ");
    rc |= ss_buf_add_json_string(b, r->device.type->name);
    rc |= ss_buf_printf(b, ",\n    \"polarity\": %d,\n    \"params\": {", r->polarity);
    const char *sep = "";
    for (size_t k = 0; k < r->device.type->nparams; k++) {
        const ss_device_param *dp = &r->device.type->params[k];
        rc |= ss_buf_printf(b, "%s\n      ", sep);
        rc |= ss_buf_add_json_string(b, dp->name);
        rc |= ss_buf_printf(b, ": ");
        if (dp->choices)
            rc |= ss_buf_add_json_string(b, dp->choices[(int)r->device.p[k]]);
        else
            rc |= json_exact(b, r->device.p[k]);
        sep = ",";
    }
    rc |= ss_buf_printf(b, "\n    }\n  },\n  \"model\": ");
    rc |= ss_buf_add_json_string(b, r->device.type->name);
    rc |= ss_buf_printf(b, ",\n  \"polarity\": %d,\n  \"objective\": \"%s\",\n  \"stderr\": {",
                        r->polarity,
                        r->objective >= 0 && r->objective <= 2 ? objective_name[r->objective]
                                                               : "linear");
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
    int x0_fitted = 0;
    for (size_t k = 0; k < r->nfiles; k++)
        x0_fitted |= r->files[k].x0_free;
    for (size_t k = 0; k < r->nparams; k++) {
        if (r->params[k].free || (x0_fitted && ss_fit_is_state_param(r->device.type, k)))
            continue;
        rc |= ss_buf_printf(b, "%s", sep);
        rc |= ss_buf_add_json_string(b, r->params[k].name);
        sep = ", ";
    }
    rc |= ss_buf_printf(b, "],\n  \"nrmse\": ");
    rc |= json_num(b, r->nrmse);
    rc |= ss_buf_printf(b, ",\n  \"log_rmse\": ");
    rc |= json_num(b, r->log_rmse);
    rc |= ss_buf_printf(b, ",\n  \"files\": [");
    sep = "";
    for (size_t k = 0; k < r->nfiles; k++) {
        const ss_fit_file *f = &r->files[k];
        rc |= ss_buf_printf(b, "%s\n    {\"name\": ", sep);
        rc |= ss_buf_add_json_string(b, f->name);
        rc |= ss_buf_printf(b, ", \"nrmse\": ");
        rc |= json_num(b, f->nrmse);
        rc |= ss_buf_printf(b, ", \"log_rmse\": ");
        rc |= json_num(b, f->log_rmse);
        rc |= ss_buf_printf(b, ", \"x0\": ");
        rc |= json_exact(b, f->x0);
        rc |= ss_buf_printf(b, ", \"x0_stderr\": ");
        rc |= json_num(b, f->x0_stderr);
        rc |= ss_buf_printf(b, ", \"x0_fitted\": %s, \"series_r\": ", f->x0_free ? "true" : "false");
        rc |= json_num(b, f->series_r);
        rc |= ss_buf_printf(b, ", \"samples\": %zu, \"steps\": %ld}", f->model.n, f->model.steps);
        sep = ",";
    }
    rc |= ss_buf_printf(b, "\n  ],\n  \"notes\": [");
    sep = "";
    for (const char *p = r->notes; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[700];
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
        rc |= ss_buf_printf(b, "%s\n    ", sep);
        rc |= ss_buf_add_json_string(b, line);
        sep = ",";
        p += len + (nl ? 1 : 0);
    }
    rc |= ss_buf_printf(b, "%s],\n  \"free\": %zu,\n  \"cond\": ", *sep ? "\n  " : "", r->nfree);
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
                      "* %s: the fitted device connected reversed (fit polarity -1);\n"
                      "* x0 is the initial state as in %s\n"
                      ".subckt %s te be params: x0=%.17g\nX1 be te %s x0={x0}\n.ends %s\n",
                      name, core, name, ss_device_x0(&d), core, name))
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

/* A current unit for plots: A, mA, uA or nA by the largest current. */
static double current_unit(const ss_fit_data *data, size_t nf, const char **name)
{
    double imax = 0;
    for (size_t k = 0; k < nf; k++)
        for (size_t j = 0; j < data[k].n; j++)
            imax = fmax(imax, fabs(data[k].i[j]));
    if (imax >= 0.5)
        return *name = "A", 1.0;
    if (imax >= 0.5e-3)
        return *name = "mA", 1e3;
    if (imax >= 0.5e-6)
        return *name = "uA", 1e6;
    return *name = "nA", 1e9;
}

int ss_fit_plot(const ss_fit_result *r, const ss_fit_data *data, const char *png,
                const char *title, int log_current, ss_error *err)
{
    if (strchr(png, '\'') || strchr(png, '\n'))
        return ss_error_set(err, SS_EINVAL, "plot path '%s' must not contain quotes", png);
    size_t nf = r->nfiles;
    int cols = nf <= 1 ? 1 : nf <= 4 ? 2 : 3;
    int rows = (int)((nf + (size_t)cols - 1) / (size_t)cols);
    const char *uname;
    double us = current_unit(data, nf, &uname);
    char metric[96];
    if (log_current || r->objective != SS_FIT_OBJECTIVE_LINEAR)
        snprintf(metric, sizeof metric, "NRMSE %.2f %%, log error %.3f decades", 100 * r->nrmse,
                 r->log_rmse);
    else
        snprintf(metric, sizeof metric, "NRMSE %.2f %%", 100 * r->nrmse);
    ss_buf s = SS_BUF_INIT;
    int rc = ss_buf_printf(&s,
                           "set terminal pngcairo size %d,%d font ',9' noenhanced\nset output '%s'\n"
                           "set multiplot layout %d,%d title '%s model %s, %s'\n"
                           "set xlabel 'applied voltage (V)'\nset ylabel '%scurrent (%s)'\n"
                           "set grid\nset key %s\n%s",
                           480 * cols, 360 * rows + 30, png, rows, cols, title ? title : "",
                           r->device.type->name, metric, log_current ? "|" : "", uname,
                           log_current ? "bottom right" : "top left",
                           log_current ? "set logscale y\nset format y '%.0e'\n" : "");
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
        if (log_current)
            rc |= ss_buf_printf(&s, "set title '%s (NRMSE %.2f %%, %.3f dec)' noenhanced\n", clean,
                                100 * r->files[k].nrmse, r->files[k].log_rmse);
        else
            rc |= ss_buf_printf(&s, "set title '%s (NRMSE %.2f %%)' noenhanced\n", clean,
                                100 * r->files[k].nrmse);
        rc |= ss_buf_printf(&s, "plot '-' with points pt 7 ps 0.5 lc rgb '#4070c0' title 'data', "
                                "'-' with lines lw 2 lc rgb '#d04020' title 'model'\n");
        const ss_fit_trace *m = &r->files[k].model;
        for (size_t j = 0; j < data[k].n; j++) {
            double y = us * data[k].i[j];
            if (log_current && y == 0)
                continue;
            rc |= ss_buf_printf(&s, "%.9g %.9g\n", data[k].v[j], log_current ? fabs(y) : y);
        }
        rc |= ss_buf_printf(&s, "e\n");
        for (size_t j = 0; j < m->n; j++) {
            double y = us * m->i[j];
            if (log_current && y == 0)
                continue;
            rc |= ss_buf_printf(&s, "%.9g %.9g\n", m->vs[j], log_current ? fabs(y) : y);
        }
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

int ss_fit_write_curves(const ss_fit_result *r, const ss_fit_data *data, const char *path,
                        ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_printf(&b, "file,t,v,i_data,i_model,v_device,x\n");
    for (size_t k = 0; !rc && k < r->nfiles; k++) {
        const ss_fit_trace *m = &r->files[k].model;
        if (m->n != data[k].n) {
            ss_buf_release(&b);
            return ss_error_set(err, SS_EINVAL, "%s: %zu model samples for %zu data samples",
                                data[k].name, m->n, data[k].n);
        }
        for (size_t j = 0; !rc && j < m->n; j++)
            rc = ss_buf_printf(&b, "%zu,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g\n", k, data[k].t[j],
                               data[k].v[j], data[k].i[j], m->i[j], m->v[j], m->x[j]);
    }
    if (rc) {
        ss_buf_release(&b);
        return ss_error_set(err, SS_ENOMEM, "out of memory writing curves");
    }
    rc = ss_util_write_file_atomic(path, b.data, b.len, err);
    ss_buf_release(&b);
    return rc;
}
