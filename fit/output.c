/* output.c: a fit result as JSON, as an ngspice subcircuit and test deck,
 * through the ngspice engine, and as a gnuplot figure (fit/ss_fit.h). */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit_private.h"

static const char *const objective_name[] = {"linear", "log", "mixed"};

/* o[key] = a list of the names of the parameters for which pick(p) holds. */
static int name_list(json_t *o, const char *key, const ss_fit_result *r,
                     int (*pick)(const ss_fit_result *r, size_t k))
{
    json_t *a = json_array();
    int bad = !a || json_object_set_new(o, key, a);
    for (size_t k = 0; !bad && k < r->nparams; k++)
        if (pick(r, k))
            bad = json_array_append_new(a, json_string(r->params[k].name));
    return bad;
}

static int pick_non_identifiable(const ss_fit_result *r, size_t k)
{
    return r->params[k].free && !r->params[k].identifiable;
}

static int pick_at_bound(const ss_fit_result *r, size_t k)
{
    return r->params[k].free && r->params[k].at_bound;
}

/* Fixed: not free, and not a state parameter whose value was fitted per file. */
static int pick_fixed(const ss_fit_result *r, size_t k)
{
    int x0_fitted = 0;
    for (size_t j = 0; j < r->nfiles; j++)
        x0_fitted |= r->files[j].x0_free;
    return !r->params[k].free && !(x0_fitted && ss_fit_is_state_param(r->device.type, k));
}

int ss_fit_result_json(const ss_fit_result *r, ss_buf *b, ss_error *err)
{
    /* The device first: what ss_device_load needs, exactly (17 digits). */
    ss_device dev = r->device;
    dev.polarity = r->polarity < 0 ? -1 : 1;
    json_t *o = json_object(), *d = ss_device_json(&dev);
    int bad = !o || !d || json_object_set_new(o, "device", d);
    bad = bad || json_object_set_new(o, "model", json_string(r->device.type->name));
    bad = bad || json_object_set_new(o, "polarity", json_integer(dev.polarity));
    bad = bad || json_object_set_new(o, "objective",
                                     json_string(r->objective >= 0 && r->objective <= 2
                                                     ? objective_name[r->objective]
                                                     : "linear"));
    json_t *se = json_object(), *units = json_object(), *bounds = json_object(),
           *ident = json_object();
    bad = bad || !se || json_object_set_new(o, "stderr", se);
    bad = bad || !units || json_object_set_new(o, "units", units);
    bad = bad || !bounds || json_object_set_new(o, "bounds", bounds);
    bad = bad || !ident || json_object_set_new(o, "identifiable", ident);
    for (size_t k = 0; !bad && k < r->nparams; k++) {
        const ss_fit_param *p = &r->params[k];
        bad = json_object_set_new(units, p->name, json_string(p->unit));
        if (bad || !p->free)
            continue;
        json_t *lh = json_array();
        bad = ss_json_set_number(se, p->name, p->stderr_) || !lh ||
              json_object_set_new(bounds, p->name, lh) ||
              json_array_append_new(lh, ss_json_number(p->lo)) ||
              json_array_append_new(lh, ss_json_number(p->hi)) ||
              json_object_set_new(ident, p->name, json_boolean(p->identifiable));
    }
    bad = bad || name_list(o, "non_identifiable", r, pick_non_identifiable);
    bad = bad || name_list(o, "at_bound", r, pick_at_bound);
    bad = bad || name_list(o, "fixed", r, pick_fixed);
    bad = bad || ss_json_set_number(o, "nrmse", r->nrmse);
    bad = bad || ss_json_set_number(o, "log_rmse", r->log_rmse);
    json_t *files = json_array();
    bad = bad || !files || json_object_set_new(o, "files", files);
    for (size_t k = 0; !bad && k < r->nfiles; k++) {
        const ss_fit_file *f = &r->files[k];
        json_t *fo = json_object();
        bad = !fo || json_array_append_new(files, fo) ||
              ss_json_set_string(fo, "name", f->name) ||
              ss_json_set_number(fo, "nrmse", f->nrmse) ||
              ss_json_set_number(fo, "log_rmse", f->log_rmse) ||
              ss_json_set_number(fo, "x0", f->x0) ||
              ss_json_set_number(fo, "x0_stderr", f->x0_stderr) ||
              json_object_set_new(fo, "x0_fitted", json_boolean(f->x0_free)) ||
              ss_json_set_number(fo, "series_r", f->series_r) ||
              json_object_set_new(fo, "samples", json_integer((json_int_t)f->model.n)) ||
              json_object_set_new(fo, "steps", json_integer(f->model.steps));
    }
    json_t *notes = json_array();
    bad = bad || !notes || json_object_set_new(o, "notes", notes);
    for (const char *p = r->notes; !bad && p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        bad = json_array_append_new(notes, ss_json_string(p, len));
        p += len + (nl ? 1 : 0);
    }
    bad = bad || json_object_set_new(o, "free", json_integer((json_int_t)r->nfree));
    bad = bad || ss_json_set_number(o, "cond", r->cond);
    bad = bad || ss_json_set_number(o, "global_nrmse", r->global_nrmse);
    bad = bad || json_object_set_new(o, "evals", json_integer(r->evals));
    bad = bad || ss_json_set_number(o, "seconds", r->seconds);
    int rc = bad ? ss_error_set(err, SS_ENOMEM, "out of memory writing JSON") : ss_json_dump(o, b, err);
    json_decref(o);
    return rc;
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
    d.polarity = r->polarity < 0 ? -1 : 1;
    return ss_device_write_spice(&d, name, out, err);
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
        rc = ss_devsim_bench_sample(eng, deck.data, "v(x1.xs)",
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
