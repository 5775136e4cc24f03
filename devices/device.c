/* device.c: the model-independent part of devices/: parameters, presets,
 * evaluation wrappers and the SPICE subcircuit frame. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devices/dev_private.h"

const ss_device_type *const ss_device_types[] = {&ssd_vteam_type, &ssd_yakopcic_type,
                                                 &ssd_yakopcic2020_type, NULL};

const ss_device_type *ss_device_type_find(const char *name)
{
    for (size_t k = 0; name && ss_device_types[k]; k++)
        if (!strcasecmp(name, ss_device_types[k]->name))
            return ss_device_types[k];
    return NULL;
}

/* ---- presets ---------------------------------------------------------------
 * Sources are as given in shared/references/memristor-models.md; `drive` is
 * the drive the set was shown with where one is known, else (marked
 * "suggested") one chosen here to give a full hysteresis loop. */
const ss_device_preset ss_device_presets[] = {
    {"vteam_demo", "vteam",
     "r_on=50 r_off=1k v_on=-0.2 v_off=0.02 k_on=-10 k_off=5e-4 alpha_on=3 alpha_off=1 "
     "w_on=0 w_off=3n w0=0 window=none iv=linear",
     "sine:0.3:1meg",
     "Technion Verilog-A demonstration defaults (asic2.group/tools/memristor-models) as in "
     "MemTorch memtorch/bh/memristor/VTEAM.py (w in m, k in m/s, Euler dt 1e-10 s; its demo "
     "loop is a 1 V 50 MHz sine); not a device fit; drive suggested",
     0},
    {"vteam_5k200k", "vteam",
     "r_on=5k r_off=200k v_on=-0.3 v_off=0.02 k_on=-10 k_off=5e-4 alpha_on=3 alpha_off=1 "
     "w_on=0 w_off=3n w0=0 window=none iv=linear",
     "sine:0.5:1meg",
     "modified copy of the Technion code, ngxx-fus/memristor old_memristor_model.va; drive "
     "suggested",
     1},
    {"oblea_sine", "yakopcic",
     "a1=0.17 a2=0.17 b=0.05 vp=0.16 vn=0.15 ap=4000 an=4000 xp=0.3 xn=0.5 alphap=1 "
     "alphan=5 x0=0.11 eta=1",
     "sine:0.45:100",
     "Ag-chalcogenide (Oblea, Boise/AFRL): Yakopcic's subcircuit defaults "
     "(knowm/memristor-models-4-all memristor_yakopcic.sub); thomastiotto experiments.py "
     "oblea_sine",
     0},
    {"oblea_triangle", "yakopcic",
     "a1=0.097 a2=0.097 b=0.05 vp=0.16 vn=0.15 ap=4000 an=4000 xp=0.3 xn=0.5 alphap=1 "
     "alphan=5 x0=0.001 eta=1",
     "triangle:0.25:100",
     "Ag-chalcogenide (Oblea), triangle set: thomastiotto experiments.py oblea_pulsed; "
     "Garcia-Redondo MemristorYakopcic.java preset 4",
     0},
    {"yakopcic_demo", "yakopcic",
     "a1=0.17 a2=0.17 b=0.05 vp=0.65 vn=0.56 ap=4000 an=4000 xp=0.3 xn=0.5 alphap=1 "
     "alphan=5 x0=0.11 eta=1",
     "sine:1:10",
     "alternate thresholds: the active .params of knowm/memristor-models-4-all "
     "memristor_yakopcic.sub (demo sine 1 V, 10 Hz)",
     0},
    {"hp_tio2", "yakopcic",
     "a1=2.3e-4 a2=3.8e-4 b=1 vp=1.2 vn=0.6 ap=5 an=30 xp=0.7 xn=0.8 alphap=4 alphan=24 "
     "x0=0.02 eta=1",
     "sine:1.5:1",
     "HP TiO2: Garcia-Redondo MemristorYakopcic.java preset 3 (es.upm.die.vlsi); to be "
     "checked against TCAD 2013; drive suggested",
     1},
    {"jo_agasi", "yakopcic",
     "a1=3.7e-7 a2=4.35e-7 b=0.7 vp=1.5 vn=0.5 ap=0.005 an=0.08 xp=0.2 xn=0.5 alphap=1.2 "
     "alphan=3 x0=0.1 eta=1",
     "triangle:3:0.2",
     "Ag/a-Si (Jo, U. Michigan): thomastiotto experiments.py (jo) and Garcia-Redondo "
     "MemristorYakopcic.java preset 'University of Michigan' agree; to be checked against "
     "TCAD 2013; experiments.py drives +4 V then -2 V triangles of 5 s period, drive suggested",
     1},
    {"miao_taox", "yakopcic",
     "a1=0.11 a2=0.11 b=0.5 vp=0.09 vn=0.75 ap=7.5 an=2 xp=0.3 xn=0.5 alphap=1 alphan=5 "
     "x0=0.11 eta=1",
     "triangle:1:0.05",
     "TaOx (Miao): thomastiotto experiments.py (miao); Vp = 0.09 provisional; shown with a "
     "+0.75/-1.25 V triangle at 0.05 Hz",
     1},
    {"afrl_smacd", "yakopcic",
     "a1=0.097 a2=0.097 b=0.05 vp=0.5 vn=0.5 ap=1e6 an=1e6 xp=0.9 xn=0.1 alphap=1 "
     "alphan=0.5 x0=0.001 eta=1",
     "sine:0.6:1k",
     "AFRL chalcogenide (SMACD): Garcia-Redondo MemristorYakopcic.java preset 2; drive "
     "suggested",
     1},
    {"nbsto_10um", "yakopcic2020",
     "gmax_p=9e-5 bmax_p=4.96 gmax_n=1.7e-4 bmax_n=3.23 gmin_p=1.5e-5 bmin_p=6.91 "
     "gmin_n=4.4e-7 bmin_n=2.6 vp=0.5 vn=-0.5 ap=0.10659 an=0.011843 xp=0.1 xn=0.242 "
     "alphap=1 alphan=1 x0=0 eta=1",
     "triangle:1.5:0.02",
     "Nb:SrTiO3 10 um (Groningen), Yakopcic 2020 form fitted to a measured DC sweep +1 -> -2 V "
     "(10 mV steps, 0.0844 s each): thomastiotto/Memristor-Models "
     "fitted/10um_-2V_4_TT_original/parameters.txt; its Ap = 90, An = 10 act per 1e-4 s Euler "
     "step, one step per 0.0844 s sample, so in SI ap = 90 x 1e-4/0.08444 = 0.10659 and "
     "an = 0.011843 1/s (its subcircuit divides by 844.36 likewise); drive suggested at the "
     "sweep's 0.118 V/s",
     0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

const ss_device_preset *ss_device_preset_find(const char *name)
{
    for (const ss_device_preset *p = ss_device_presets; name && p->name; p++)
        if (!strcasecmp(name, p->name))
            return p;
    return NULL;
}

int ss_device_apply_preset(ss_device *d, const char *name, ss_error *err)
{
    const ss_device_preset *p = ss_device_preset_find(name);
    if (!p)
        return ss_error_set(err, SS_ENOTFOUND, "unknown preset '%s' (see 'smallsim device list')",
                            name ? name : "");
    const ss_device_type *t = ss_device_type_find(p->model);
    if (!t)
        return ss_error_set(err, SS_ENOTFOUND, "preset '%s' names unknown model '%s'", p->name,
                            p->model);
    int hard = d->hard;
    ss_device_init(d, t);
    d->hard = hard;
    int rc = ss_device_set_list(d, p->params, err);
    if (rc)
        return ss_error_prefix(err, rc, "preset '%s'", p->name);
    return SS_OK;
}

/* ---- parameters ------------------------------------------------------------ */

void ss_device_init(ss_device *d, const ss_device_type *type)
{
    memset(d, 0, sizeof *d);
    d->type = type;
    for (size_t k = 0; type && k < type->nparams && k < SS_DEVICE_MAX_PARAMS; k++)
        d->p[k] = type->params[k].def;
}

int ss_device_param_index(const ss_device_type *type, const char *name)
{
    for (size_t k = 0; type && name && k < type->nparams; k++)
        if (!strcasecmp(name, type->params[k].name))
            return (int)k;
    return -1;
}

double ss_device_get(const ss_device *d, const char *name)
{
    int k = ss_device_param_index(d->type, name);
    return k < 0 ? NAN : d->p[k];
}

int ss_device_set_param(ss_device *d, const char *name, const char *value, ss_error *err)
{
    if (!d->type)
        return ss_error_set(err, SS_EINVAL, "device has no model");
    int k = ss_device_param_index(d->type, name);
    if (k < 0)
        return ss_error_set(err, SS_ENOTFOUND, "unknown parameter '%s' for model '%s'",
                            name ? name : "", d->type->name);
    const ss_device_param *par = &d->type->params[k];
    if (par->choices) {
        for (size_t c = 0; par->choices[c]; c++)
            if (!strcasecmp(value, par->choices[c])) {
                d->p[k] = (double)c;
                return SS_OK;
            }
        ss_buf list = SS_BUF_INIT;
        for (size_t c = 0; par->choices[c]; c++)
            ss_buf_printf(&list, "%s%s", c ? ", " : "", par->choices[c]);
        ss_error_set(err, SS_EINVAL, "parameter '%s' must be one of %s, not '%s'", par->name,
                     list.data ? list.data : "", value);
        ss_buf_release(&list);
        return SS_EINVAL;
    }
    double x;
    if (ss_util_parse_spice_number(value, &x))
        return ss_error_set(err, SS_EINVAL, "parameter '%s': '%s' is not a number", par->name,
                            value);
    d->p[k] = x;
    return SS_OK;
}

int ss_device_set(ss_device *d, const char *assignment, ss_error *err)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment)
        return ss_error_set(err, SS_EINVAL, "expected name=value, not '%s'", assignment);
    char name[64];
    size_t n = (size_t)(eq - assignment);
    if (n >= sizeof name)
        return ss_error_set(err, SS_ENOTFOUND, "unknown parameter '%.*s'", (int)n, assignment);
    memcpy(name, assignment, n);
    name[n] = 0;
    return ss_device_set_param(d, name, eq + 1, err);
}

int ss_device_set_list(ss_device *d, const char *list, ss_error *err)
{
    char word[256];
    const char *s = list;
    while (s && *s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        size_t n = 0;
        while (s[n] && !isspace((unsigned char)s[n]))
            n++;
        if (n >= sizeof word)
            return ss_error_set(err, SS_EINVAL, "assignment too long: '%.40s...'", s);
        memcpy(word, s, n);
        word[n] = 0;
        int rc = ss_device_set(d, word, err);
        if (rc)
            return rc;
        s += n;
    }
    return SS_OK;
}

SSD_INTERNAL int ssd_check_range(const ss_device *d, int idx, double lo, double hi, int open_lo,
                                 int open_hi, ss_error *err)
{
    double v = d->p[idx];
    const char *name = d->type->params[idx].name;
    if (isnan(v) || (open_lo ? !(v > lo) : !(v >= lo)) || (open_hi ? !(v < hi) : !(v <= hi))) {
        if (isinf(hi))
            return ss_error_set(err, SS_EINVAL, "parameter '%s' must be %s %g (got %g)", name,
                                open_lo ? ">" : ">=", lo, v);
        return ss_error_set(err, SS_EINVAL, "parameter '%s' must be in %s%g, %g%s (got %g)", name,
                            open_lo ? "(" : "[", lo, hi, open_hi ? ")" : "]", v);
    }
    return SS_OK;
}

SSD_INTERNAL int ssd_check_positive(const ss_device *d, int idx, ss_error *err)
{
    if (!(d->p[idx] > 0) || !isfinite(d->p[idx]))
        return ss_error_set(err, SS_EINVAL, "parameter '%s' must be positive (got %g)",
                            d->type->params[idx].name, d->p[idx]);
    return SS_OK;
}

SSD_INTERNAL int ssd_check_negative(const ss_device *d, int idx, ss_error *err)
{
    if (!(d->p[idx] < 0) || !isfinite(d->p[idx]))
        return ss_error_set(err, SS_EINVAL, "parameter '%s' must be negative (got %g)",
                            d->type->params[idx].name, d->p[idx]);
    return SS_OK;
}

int ss_device_validate(const ss_device *d, ss_error *err)
{
    if (!d || !d->type)
        return ss_error_set(err, SS_EINVAL, "device has no model");
    const ss_device_type *t = d->type;
    for (size_t k = 0; k < t->nparams; k++) {
        const ss_device_param *par = &t->params[k];
        if (!isfinite(d->p[k]))
            return ss_error_set(err, SS_EINVAL, "parameter '%s' must be finite", par->name);
        if (par->choices) {
            size_t n = 0;
            while (par->choices[n])
                n++;
            if (d->p[k] != floor(d->p[k]) || d->p[k] < 0 || d->p[k] >= (double)n)
                return ss_error_set(err, SS_EINVAL, "parameter '%s' has no choice %g", par->name,
                                    d->p[k]);
        }
    }
    return t->validate(d, err);
}

/* ---- evaluation ------------------------------------------------------------ */

void ss_device_evaluate(const ss_device *d, double v, double x, ss_device_eval *ev)
{
    d->type->eval(d, v, x, ev);
}

double ss_device_current(const ss_device *d, double v, double x)
{
    ss_device_eval ev;
    d->type->eval(d, v, x, &ev);
    return ev.i;
}

double ss_device_dxdt(const ss_device *d, double v, double x)
{
    ss_device_eval ev;
    d->type->eval(d, v, x, &ev);
    return ev.dxdt;
}

double ss_device_x0(const ss_device *d) { return d->type->x0(d); }

void ss_device_bounds(const ss_device *d, double *lo, double *hi)
{
    (void)d;
    *lo = 0.0;
    *hi = 1.0;
}

double ss_device_conductance(const ss_device *d, double x, double v_read)
{
    return ss_device_current(d, v_read, x) / v_read;
}

/* ---- SPICE ------------------------------------------------------------------ */

static int plain_identifier(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_'))
            return 0;
    return 1;
}

int ss_device_write_spice(const ss_device *d, const char *name, ss_buf *out, ss_error *err)
{
    int rc = ss_device_validate(d, err);
    if (rc)
        return rc;
    if (!plain_identifier(name) || strlen(name) > 64)
        return ss_error_set(err, SS_EINVAL,
                            "subcircuit name '%s' must be a plain identifier (letters, digits, _)",
                            name ? name : "");
    const ss_device_type *t = d->type;
    size_t mark = out->len;
    rc |= ss_buf_printf(out, "* %s: %s memristor, %s mode (smallsim %s)\n", name, t->name,
                        d->hard ? "hard (textbook)" : "smooth", SS_VERSION);
    rc |= ss_buf_printf(out, "* %s\n* parameters:", t->title);
    for (size_t k = 0; k < t->nparams; k++) {
        if (k % 4 == 0)
            rc |= ss_buf_printf(out, "\n*  ");
        if (t->params[k].choices)
            rc |= ss_buf_printf(out, " %s=%s", t->params[k].name,
                                t->params[k].choices[(int)d->p[k]]);
        else
            rc |= ss_buf_printf(out, " %s=%.17g", t->params[k].name, d->p[k]);
    }
    rc |= ss_buf_printf(out,
                        "\n* terminals: te (top), be (bottom); current flows te -> be.\n"
                        "* node xs holds the normalised state x (V(xs) = x, 1 F capacitor).\n"
                        "* initial state: the parameter x0 (default below; per instance:\n"
                        "* X1 a b %s x0=0.3), applied by .tran ... uic.  Under uic an\n"
                        "* .ic v(<instance>.xs)=... is ignored (the capacitor's IC wins);\n"
                        "* without uic, .ic holds the node for the operating point.\n",
                        name);
    rc |= ss_buf_printf(out, ".subckt %s te be params: x0=%.17g\n", name, ss_device_x0(d));
    rc |= ss_buf_add(out, SSD_SPICE_FUNCS, strlen(SSD_SPICE_FUNCS));
    if (rc || (rc = t->spice_body(d, out)) || (rc = ss_buf_printf(out, ".ends %s\n", name))) {
        /* Drop the partial subcircuit. */
        out->len = mark;
        if (out->data)
            out->data[mark] = 0;
        return ss_error_set(err, SS_ENOMEM, "out of memory writing subcircuit '%s'", name);
    }
    return SS_OK;
}
