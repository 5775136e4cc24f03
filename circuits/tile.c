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
 * neuron's own nodes suffixed with _k. */
static int instance(const ss_circuit_config *cfg, size_t k, ss_buf *out)
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
            rc = ss_buf_printf(out, shared_node(ci, tok) ? " %s" : " %s_%zu", tok, k);
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
    if (ci->deck)
        return ss_error_set(err, SS_EINVAL, "%s: a whole deck cannot be a SPICE tile (give the "
                                            "file with the neuron's subcircuit)", ci->name);
    /* the input pin, as in the test bench: a dpi-neuron's iin (its unit
     * mirror is inside the subcircuit), an axon-hillock's membrane */
    const char *pin = !strcmp(circi_base(ci), "axon-hillock") ? "vmem" : "iin";
    int rc = ss_buf_printf(body, "* smallsim SPICE tile: %zu x %s (inputs iext0 .. iext%zu, spikes "
                                 "at v(%s_k) rising through %g V)\n",
                           n, ci->name, n - 1, ci->spike, 0.5 * cfg->vdd)
                 ? ss_error_set(err, SS_ENOMEM, "out of memory")
                 : SS_OK;
    if (!rc)
        rc = circi_models(cfg, body, err);
    if (!rc)
        rc = circi_subckt(body, cfg, err);
    if (!rc)
        rc = circi_supplies(cfg, body, err);
    for (size_t k = 0; !rc && k < n; k++) {
        /* the input current pushed into the pin or drawn out of it, as
         * the circuit declares */
        if (ci->input_dir >= 0)
            rc = ss_buf_printf(body, "iext%zu 0 %s_%zu external\n", k, pin, k);
        else
            rc = ss_buf_printf(body, "iext%zu %s_%zu 0 external\n", k, pin, k);
        if (!rc)
            rc = instance(cfg, k, body);
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
