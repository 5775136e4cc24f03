/* tile.c: SPICE tile bodies for the network layer: n neurons of a library
 * circuit or a designer's (like dpi-neuron or axon-hillock) with the model
 * cards, the subcircuit and one bias generator, each neuron fed by an
 * EXTERNAL current source the network drives. */
#include "circuits/circuits_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether bench node `tok` is shared by the tile's neurons: supplies,
 * ground and the bias lines. */
static int shared_node(const ss_circuit_info *ci, const char *tok)
{
    if (!strcmp(tok, "0") || !strcasecmp(tok, "vdd") || !strcasecmp(tok, "vss"))
        return 1;
    for (size_t i = 0; i < ci->nbias; i++)
        if (!strcasecmp(tok, ci->bias[i].node))
            return 1;
    return 0;
}

/* Neuron k's instance line: the circuit's ports in its pin order, each
 * neuron's own nodes suffixed with _k; the dpi input node iin is the tail
 * its mirror feeds. */
static int instance(const ss_circuit_config *cfg, size_t k, int dpi, ss_buf *out)
{
    const ss_circuit_info *ci = cfg->info;
    int rc = ss_buf_printf(out, "x%zu", k);
    const char *p = ci->ports;
    while (!rc && *p) {
        size_t len = strcspn(p, " \t");
        char tok[64];
        if (len && len < sizeof tok) {
            memcpy(tok, p, len);
            tok[len] = '\0';
            if (shared_node(ci, tok))
                rc = ss_buf_printf(out, " %s", tok);
            else
                rc = ss_buf_printf(out, " %s_%zu", dpi && !strcmp(tok, "iin") ? "tail" : tok, k);
        }
        p += len;
        p += strspn(p, " \t");
    }
    return rc ? rc : ss_buf_printf(out, " %s\n", ci->subckt);
}

int ss_circuit_tile(const ss_circuit_config *cfg, size_t n, ss_buf *body, char ***spikes,
                    ss_error *err)
{
    *spikes = NULL;
    const ss_circuit_info *ci = cfg->info;
    if (!ci || ci->kind != SS_CIRCUIT_NEURON || !ci->spike)
        return ss_error_set(err, SS_EINVAL, "SPICE tiles are built from neuron circuits "
                                            "(dpi-neuron, axon-hillock or a designer's like them)");
    if (n == 0)
        return ss_error_set(err, SS_EINVAL, "a SPICE tile needs at least one neuron");
    int dpi = !strcmp(circi_base(ci), "dpi-neuron");
    const char *nm = cfg->nmos ? cfg->nmos : "ss_nch";
    int rc = ss_buf_printf(body, "* smallsim SPICE tile: %zu x %s (inputs iext0 .. iext%zu, spikes "
                                 "at v(%s_k) rising through %g V)\n",
                           n, ci->name, n - 1, ci->spike, 0.5 * cfg->vdd)
                 ? ss_error_set(err, SS_ENOMEM, "out of memory")
                 : SS_OK;
    if (!rc)
        rc = circi_models(cfg, body, err);
    if (!rc)
        rc = circi_subckt(body, cfg, err);
    if (!rc && circi_supplies(cfg, body))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        /* as in the test bench: a dpi input reaches the tail through a unit
         * nFET mirror; an axon-hillock's input flows into its membrane */
        if (dpi)
            rc = ss_buf_printf(body,
                               "mbin%zu vin_%zu vin_%zu 0 0 %s w=1u l=1u\n"
                               "mbout%zu tail_%zu vin_%zu 0 0 %s w=1u l=1u\n"
                               "iext%zu vddb vin_%zu external\n",
                               k, k, k, nm, k, k, k, nm, k, k);
        else
            rc = ss_buf_printf(body, "iext%zu 0 vmem_%zu external\n", k, k);
        if (!rc)
            rc = instance(cfg, k, dpi, body);
        if (rc)
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    char **v = rc ? NULL : calloc(n + 1, sizeof *v);
    if (!rc && !v)
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    for (size_t k = 0; !rc && k < n; k++) {
        size_t len = strlen(ci->spike) + 32;
        if (!(v[k] = malloc(len)))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else
            snprintf(v[k], len, "v(%s_%zu)", ci->spike, k);
    }
    if (rc && v) {
        for (size_t k = 0; k < n; k++)
            free(v[k]);
        free(v);
        v = NULL;
    }
    *spikes = v;
    return rc;
}

int ss_circuit_tile_netlist(const ss_circuit_config *cfg, size_t n, const char *name,
                            unsigned flags, ss_netlist *body, char ***spikes, ss_error *err)
{
    ss_buf text = SS_BUF_INIT;
    int rc = ss_circuit_tile(cfg, n, &text, spikes, err);
    if (!rc)
        rc = ss_netlist_read_string(body, text.data, name, NULL,
                                    flags | SS_NETLIST_BODY | circi_flags(cfg), err);
    ss_buf_release(&text);
    if (rc && *spikes) {
        for (size_t k = 0; k < n; k++)
            free((*spikes)[k]);
        free(*spikes);
        *spikes = NULL;
    }
    return rc;
}
