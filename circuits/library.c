/* library.c: the circuit table, embedded texts, configurations and biases. */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"

static const ss_circuit_info circuits[] = {
    {.name = "dpi-neuron", .kind = SS_CIRCUIT_NEURON, .file = "dpi_neuron.sub",
     .subckt = "ss_dpi_neuron", .ports = "vdd 0 iin vmem vspk vtau vth vrefb vca vtauahp",
     .input = "Iin", .input_default = 1e-9, .spike = "vspk",
     .help = "Indiveri DPI neuron: input DPI, positive feedback, refractory reset, adaptation",
     .nbias = 5,
     .bias = {{"Itau", "vtau", 0, 10e-12, "membrane leak (tau = Cmem UT / (kappa Itau))", 0},
              {"Ith", "vth", 0, 50e-12, "DPI gain current (Imem_inf = Ith Iin / Itau)", 0},
              {"Iref", "vrefb", 1, 500e-12, "refractory recharge current of Cref", 0},
              {"Ica", "vca", 1, 0.0, "adaptation charge current per spike (0: off)", 0},
              {"Itauahp", "vtauahp", 0, 1e-12, "adaptation leak", 0}},
     .input_dir = 1, .membrane = "vmem", .reset = "vrst", .temp = NAN},
    {.name = "axon-hillock", .kind = SS_CIRCUIT_NEURON, .file = "axon_hillock.sub",
     .subckt = "ss_axon_hillock", .ports = "vdd 0 vmem vout vpw", .input = "Iin",
     .input_default = 1e-9, .spike = "vout",
     .help = "Mead's Axon-Hillock: capacitive positive feedback, reset current Ir",
     .nbias = 1,
     .bias = {{"Ir", "vpw", 0, 200e-9, "reset current (sets the pulse width)", 0}},
     .input_dir = 1, .membrane = "vmem", .temp = NAN},
    {.name = "dpi-synapse", .kind = SS_CIRCUIT_SYNAPSE, .file = "dpi_synapse.sub",
     .subckt = "ss_dpi_synapse", .ports = "vdd 0 pre isyn vw vthr vtau", .input = "Iw",
     .input_default = 100e-12,
     .help = "DPI synapse: log-domain low-pass filter of pre-synaptic pulses",
     .nbias = 2,
     .bias = {{"Ith", "vthr", 0, 20e-12, "gain current (Isyn_inf = Ith Iw / Itau)", 0},
              {"Itau", "vtau", 0, 5e-12, "leak (tau = Csyn UT / (kappa Itau))", 0}},
     .temp = NAN},
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
    for (size_t i = 0; info && i < info->nbias; i++) {
        cfg->bias[i] = info->bias[i].value;
        cfg->voltage[i] = (unsigned char)(info->bias[i].voltage != 0);
    }
    cfg->temp = info && isfinite(info->temp) ? info->temp : 27.0;
    cfg->vdd = info && info->vdd > 0 ? info->vdd : 1.8;
    cfg->seed = 1;
}

static int find_bias(const ss_circuit_config *cfg, const char *name, ss_error *err)
{
    if (!cfg->info)
        return -ss_error_set(err, SS_EINVAL, "no circuit");
    for (size_t i = 0; i < cfg->info->nbias; i++)
        if (!strcasecmp(cfg->info->bias[i].name, name))
            return (int)i;
    ss_buf b = SS_BUF_INIT;
    for (size_t i = 0; i < cfg->info->nbias; i++)
        ss_buf_printf(&b, "%s%s", i ? ", " : "", cfg->info->bias[i].name);
    ss_error_set(err, SS_ENOTFOUND, "circuit '%s' has no bias '%s' (biases: %s)",
                 cfg->info->name, name, b.data ? b.data : "none");
    ss_buf_release(&b);
    return -SS_ENOTFOUND;
}

static int put_bias(ss_circuit_config *cfg, int i, double value, int voltage, ss_error *err)
{
    const char *name = cfg->info->bias[i].name;
    if (!isfinite(value) || (!voltage && !(value >= 0)))
        return ss_error_set(err, SS_EINVAL, "bias '%s' must be a current >= 0 or a voltage",
                            name);
    if (!voltage && value > 1e-3)
        return ss_error_set(err, SS_EINVAL,
                            "bias '%s' = %g A is not a bias current: for a voltage write "
                            "%gV", name, value, value);
    cfg->bias[i] = value;
    cfg->voltage[i] = (unsigned char)voltage;
    return SS_OK;
}

int ss_circuit_set_bias(ss_circuit_config *cfg, const char *name, double value, ss_error *err)
{
    int i = find_bias(cfg, name, err);
    if (i < 0)
        return -i;
    return put_bias(cfg, i, value, cfg->voltage[i], err);
}

int ss_circuit_bias_parse(const char *text, int kind, double *value, int *voltage, ss_error *err)
{
    double v;
    if (!text || ss_util_parse_spice_number(text, &v))
        return ss_error_set(err, SS_EINVAL, "'%s' is not a value (20p, 20pA, 0.45V, 450mV)",
                            text ? text : "");
    size_t n = strlen(text);
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    char unit = n ? (char)tolower((unsigned char)text[n - 1]) : 0;
    /* "2meg" ends in g, "1m" in m: only a letter V or A after the number
     * (and its scale factor) is a unit */
    *voltage = unit == 'v' ? 1 : unit == 'a' ? 0 : kind;
    *value = v;
    return SS_OK;
}

int ss_circuit_set_bias_text(ss_circuit_config *cfg, const char *name, const char *text,
                             ss_error *err)
{
    int i = find_bias(cfg, name, err), volt;
    double v;
    if (i < 0)
        return -i;
    if (ss_circuit_bias_parse(text, cfg->info->bias[i].voltage, &v, &volt, err))
        return ss_error_prefix(err, SS_EINVAL, "bias '%s'", name);
    return put_bias(cfg, i, v, volt, err);
}

