/* library.c: the circuit table, embedded texts, test benches and mismatch. */
#include <ctype.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"

static const ss_circuit_info circuits[] = {
    {"dpi-neuron", SS_CIRCUIT_NEURON, "dpi_neuron.sub", "ss_dpi_neuron",
     "vdd 0 iin vmem vspk vtau vth vrefb vca vtauahp", "Iin", 1e-9, "vspk",
     "Indiveri DPI neuron: input DPI, positive feedback, refractory reset, adaptation",
     5,
     {{"Itau", "vtau", 0, 10e-12, "membrane leak (tau = Cmem UT / (kappa Itau))"},
      {"Ith", "vth", 0, 50e-12, "DPI gain current (Imem_inf = Ith Iin / Itau)"},
      {"Iref", "vrefb", 1, 500e-12, "refractory recharge current of Cref"},
      {"Ica", "vca", 1, 0.0, "adaptation charge current per spike (0: off)"},
      {"Itauahp", "vtauahp", 0, 1e-12, "adaptation leak"}}, NULL, NULL},
    {"axon-hillock", SS_CIRCUIT_NEURON, "axon_hillock.sub", "ss_axon_hillock",
     "vdd 0 vmem vout vpw", "Iin", 1e-9, "vout",
     "Mead's Axon-Hillock: capacitive positive feedback, reset current Ir",
     1,
     {{"Ir", "vpw", 0, 200e-9, "reset current (sets the pulse width)"}}, NULL, NULL},
    {"dpi-synapse", SS_CIRCUIT_SYNAPSE, "dpi_synapse.sub", "ss_dpi_synapse",
     "vdd 0 pre isyn vw vthr vtau", "Iw", 100e-12, NULL,
     "DPI synapse: log-domain low-pass filter of pre-synaptic pulses",
     2,
     {{"Ith", "vthr", 0, 20e-12, "gain current (Isyn_inf = Ith Iw / Itau)"},
      {"Itau", "vtau", 0, 5e-12, "leak (tau = Csyn UT / (kappa Itau))"}}, NULL, NULL},
};

size_t ss_circuit_count(void)
{
    return sizeof circuits / sizeof circuits[0];
}

const ss_circuit_info *ss_circuit_get(size_t i)
{
    return i < ss_circuit_count() ? &circuits[i] : NULL;
}

const ss_circuit_info *ss_circuit_find(const char *name)
{
    for (size_t i = 0; name && i < ss_circuit_count(); i++)
        if (!strcasecmp(circuits[i].name, name))
            return &circuits[i];
    return NULL;
}

const char *ss_circuit_text(const char *file)
{
    for (size_t i = 0; file && circi_files[i].name; i++)
        if (!strcmp(circi_files[i].name, file))
            return circi_files[i].text;
    return NULL;
}

const char *circi_base(const ss_circuit_info *ci)
{
    return ci->like ? ci->like : ci->name;
}

const char *circi_text(const ss_circuit_info *ci)
{
    return ci->text ? ci->text : ss_circuit_text(ci->file);
}

void ss_circuit_config_init(ss_circuit_config *cfg, const ss_circuit_info *info)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->info = info;
    for (size_t i = 0; info && i < info->nbias; i++)
        cfg->bias[i] = info->bias[i].value;
    cfg->temp = 27.0;
    cfg->vdd = 1.8;
    cfg->seed = 1;
}

int ss_circuit_set_bias(ss_circuit_config *cfg, const char *name, double value, ss_error *err)
{
    if (!cfg->info)
        return ss_error_set(err, SS_EINVAL, "no circuit");
    for (size_t i = 0; i < cfg->info->nbias; i++)
        if (!strcasecmp(cfg->info->bias[i].name, name)) {
            if (!(value >= 0) || !isfinite(value))
                return ss_error_set(err, SS_EINVAL, "bias '%s' must be a current >= 0", name);
            cfg->bias[i] = value;
            return SS_OK;
        }
    return ss_error_set(err, SS_ENOTFOUND, "circuit '%s' has no bias '%s'", cfg->info->name,
                        name);
}

unsigned circi_flags(const ss_circuit_config *cfg)
{
    return cfg->models ? SS_NETLIST_ALLOW_ANY_INCLUDE : 0;
}

int circi_models(const ss_circuit_config *cfg, ss_buf *b, ss_error *err)
{
    int rc;
    if (!cfg->models) {
        rc = ss_buf_printf(b, "%s", ss_circuit_text("ptm180.lib"));
    } else {
        char path[PATH_MAX], *at = strrchr(cfg->models, '@');
        size_t len = at ? (size_t)(at - cfg->models) : strlen(cfg->models);
        char file[PATH_MAX];
        if (len >= sizeof file)
            return ss_error_set(err, SS_EINVAL, "model path too long");
        memcpy(file, cfg->models, len);
        file[len] = '\0';
        if (!realpath(file, path))
            return ss_error_set(err, SS_EIO, "cannot open model file '%s'", file);
        if (at)
            rc = ss_buf_printf(b, ".lib \"%s\" %s\n", path, at + 1);
        else
            rc = ss_buf_printf(b, ".include \"%s\"\n", path);
    }
    if (!rc)
        rc = ss_buf_printf(b, ".options method=gear gmin=1e-15 abstol=1e-15 chgtol=1e-17 "
                              "reltol=%g temp=%g\n",
                           cfg->reltol > 0 ? cfg->reltol
                           : strcmp(circi_base(cfg->info), "axon-hillock") ? 1e-4 : 1e-5,
                           cfg->temp);
    return rc ? ss_error_set(err, rc, "out of memory") : SS_OK;
}

/* ---- subcircuit text with model names and mismatch applied --------------- */

/* Value of "key=value" on a device line, SPICE number; NAN if absent. */
static double line_param(const char *line, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = line; *p; p++) {
        if ((p == line || isspace((unsigned char)p[-1])) && !strncasecmp(p, key, kl) &&
            p[kl] == '=') {
            char tok[64];
            size_t n = strcspn(p + kl + 1, " \t\r\n");
            if (n == 0 || n >= sizeof tok)
                return NAN;
            memcpy(tok, p + kl + 1, n);
            tok[n] = '\0';
            double v;
            return ss_util_parse_spice_number(tok, &v) ? NAN : v;
        }
    }
    return NAN;
}

/* Device names and W*L (um^2) of the transistor lines of `text`. */
static size_t list_devices(const char *text, char names[][16], double *area, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p && n < max;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len < 512 && (*p == 'm' || *p == 'M')) {
            char line[512];
            memcpy(line, p, len);
            line[len] = '\0';
            double w = line_param(line, "w"), l = line_param(line, "l");
            size_t nl = strcspn(line, " \t");
            if (isfinite(w) && isfinite(l) && nl < 16) {
                memcpy(names[n], line, nl);
                names[n][nl] = '\0';
                area[n] = w * l * 1e12;
                n++;
            }
        }
        p += len + (e != NULL);
    }
    return n;
}

int ss_circuit_mismatch(const ss_circuit_config *cfg, double *dvt, const char **names,
                        size_t *n, ss_error *err)
{
    static char dev[SS_CIRCUIT_MAX_DEV][16];
    double area[SS_CIRCUIT_MAX_DEV];
    const char *text = circi_text(cfg->info);
    if (!text)
        return ss_error_set(err, SS_ENOTFOUND, "no netlist for '%s'", cfg->info->name);
    size_t nd = list_devices(text, dev, area, SS_CIRCUIT_MAX_DEV);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    /* One stream per (seed, sample): splitmix64 of both (the constant keeps
     * the streams of earlier releases). */
    uint64_t z = ss_util_mix64(cfg->seed * 0x9E3779B97F4A7C15ull + cfg->sample +
                               0xC4F46BE25A6A6404ull);
    gsl_rng_set(r, (unsigned long)(z & 0xffffffffu) | 1u);
    for (size_t i = 0; i < nd; i++) {
        double sigma = cfg->avt * 1e-3 / sqrt(area[i]);
        /* sample 0 is the nominal circuit */
        dvt[i] = cfg->sample ? gsl_ran_gaussian(r, sigma) : 0.0;
        if (names)
            names[i] = dev[i];
    }
    gsl_rng_free(r);
    *n = nd;
    return SS_OK;
}

/* Copies a line replacing the model names.  A threshold shift dvt is applied
 * as a DC source in series with the gate (the device's gate moves to a new
 * node dvt below the net), which works with any model card: BSIM3 in
 * ngspice 39 has no delvto instance parameter. */
static int add_device_line(ss_buf *b, const char *line, size_t len, const ss_circuit_config *cfg,
                           double dvt)
{
    const char *nm = cfg->nmos ? cfg->nmos : "ss_nch", *pm = cfg->pmos ? cfg->pmos : "ss_pch";
    int rc = 0, tok = 0;
    char name[32] = "", gate[64] = "";
    for (size_t i = 0; i < len && !rc;) {
        int start = (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t') && line[i] != ' ' &&
                    line[i] != '\t';
        if (start)
            tok++;
        size_t tl = start ? strcspn(line + i, " \t") : 0;
        if (tl > len - i)
            tl = len - i;
        if (dvt != 0.0 && start && tok == 1 && tl < sizeof name) {
            memcpy(name, line + i, tl);
            name[tl] = '\0';
        }
        if (dvt != 0.0 && start && tok == 3 && tl < sizeof gate) {
            memcpy(gate, line + i, tl);
            gate[tl] = '\0';
            rc = ss_buf_printf(b, "xmm_%s", name);
            i += tl;
        } else if (len - i >= 6 && !strncmp(line + i, "ss_nch", 6)) {
            rc = ss_buf_printf(b, "%s", nm);
            i += 6;
        } else if (len - i >= 6 && !strncmp(line + i, "ss_pch", 6)) {
            rc = ss_buf_printf(b, "%s", pm);
            i += 6;
        } else {
            rc = ss_buf_add(b, line + i, 1);
            i++;
        }
    }
    if (!rc)
        rc = ss_buf_add(b, "\n", 1);
    if (!rc && dvt != 0.0 && gate[0])
        rc = ss_buf_printf(b, "vmm_%s %s xmm_%s DC %.6g\n", name, gate, name, dvt);
    return rc;
}

int circi_subckt(ss_buf *b, const ss_circuit_config *cfg, ss_error *err)
{
    const char *text = circi_text(cfg->info);
    if (!text)
        return ss_error_set(err, SS_ENOTFOUND, "no netlist for '%s'", cfg->info->name);
    double dvt[SS_CIRCUIT_MAX_DEV] = {0};
    size_t nd = 0, k = 0;
    if (cfg->avt > 0 && cfg->sample > 0) {
        int rc = ss_circuit_mismatch(cfg, dvt, NULL, &nd, err);
        if (rc)
            return rc;
    }
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int is_dev = (*p == 'm' || *p == 'M');
        char line[512];
        double v = 0.0;
        if (is_dev && len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            if (isfinite(line_param(line, "w")) && isfinite(line_param(line, "l")))
                v = k < nd ? dvt[k++] : 0.0;
        }
        if (add_device_line(b, p, len, cfg, v))
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        p += len + (e != NULL);
    }
    return SS_OK;
}

int circi_supplies(const ss_circuit_config *cfg, ss_buf *out)
{
    const ss_circuit_info *ci = cfg->info;
    const char *nm = cfg->nmos ? cfg->nmos : "ss_nch", *pm = cfg->pmos ? cfg->pmos : "ss_pch";
    int rc = ss_buf_printf(out, "vdd vdd 0 %g\nvddb vddb 0 %g\n", cfg->vdd, cfg->vdd);
    /* Bias currents into diode-connected unit devices (1u/1u). */
    for (size_t i = 0; !rc && i < ci->nbias; i++) {
        const ss_circuit_bias *bi = &ci->bias[i];
        if (bi->ptype)
            rc = ss_buf_printf(out, "ib%zu %s 0 DC %.6g\nmb%zu %s %s vddb vddb %s w=1u l=1u\n", i,
                               bi->node, cfg->bias[i], i, bi->node, bi->node, pm);
        else
            rc = ss_buf_printf(out, "ib%zu vddb %s DC %.6g\nmb%zu %s %s 0 0 %s w=1u l=1u\n", i,
                               bi->node, cfg->bias[i], i, bi->node, bi->node, nm);
    }
    return rc ? SS_ENOMEM : SS_OK;
}

int ss_circuit_bench(const ss_circuit_config *cfg, double input, double tstop, double tmax,
                     ss_buf *out, ss_error *err)
{
    const ss_circuit_info *ci = cfg->info;
    if (!ci)
        return ss_error_set(err, SS_EINVAL, "no circuit");
    if (!(input >= 0) || !(tstop > 0) || !(tmax > 0))
        return ss_error_set(err, SS_EINVAL, "bench needs input >= 0, tstop > 0, tmax > 0");
    const char *nm = cfg->nmos ? cfg->nmos : "ss_nch";
    int rc = ss_buf_printf(out, "* smallsim bench: %s, %s = %g A\n", ci->name, ci->input, input);
    if (rc)
        goto oom;
    if ((rc = circi_models(cfg, out, err)))
        return rc;
    if ((rc = circi_subckt(out, cfg, err)))
        return rc;
    if (circi_supplies(cfg, out))
        goto oom;
    if (!strcmp(circi_base(ci), "dpi-neuron")) {
        /* The input reaches the tail through a unit nFET mirror, so the
         * tail node cannot be pulled below ground. */
        rc = ss_buf_printf(out,
                           "iin vddb vin PWL(0 0 1u %.6g)\n"
                           "mbin vin vin 0 0 %s w=1u l=1u\nmbin2 iin vin 0 0 %s w=1u l=1u\n"
                           ".save v(vspk) v(vmem) i(vdd) v(x1.vrst)\n",
                           input, nm, nm);
    } else if (!strcmp(circi_base(ci), "axon-hillock")) {
        rc = ss_buf_printf(out, "iin 0 vmem PWL(0 0 1u %.6g)\n.save v(vout) v(vmem) i(vdd)\n",
                           input);
    } else {
        /* Synapse: Iw is the weight; a 20 ms pulse from 1 ms, then decay. */
        rc = ss_buf_printf(out,
                           "ib_w vddb vw DC %.6g\nmb_w vw vw 0 0 %s w=1u l=1u\n"
                           "vpre pre 0 PWL(0 0 1m 0 1.001m %g 21m %g 21.001m 0)\n"
                           "vmeas vdd isyn DC 0\n.save i(vmeas) i(vdd)\n",
                           input, nm, cfg->vdd, cfg->vdd);
    }
    if (!rc)
        rc = ss_buf_printf(out, "x1 %s %s\n.tran %.6g %.6g 0 %.6g\n.end\n", ci->ports, ci->subckt,
                           tmax, tstop, tmax);
    if (!rc)
        return SS_OK;
oom:
    return ss_error_set(err, SS_ENOMEM, "out of memory");
}
