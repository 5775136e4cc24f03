/* user.c: a designer's circuit from a netlist file whose ports are declared
 * in a "* smallsim: like=... ROLE=PIN ..." comment, mapped onto the roles
 * (ports) of a library circuit so that its bench and measurements apply. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "circuits/circuits_private.h"
#include "netlists/ss_netlist.h"

#define MAX_PINS 32

/* The heap object behind ss_circuit_load's ss_circuit_info (first member). */
typedef struct user_circuit {
    ss_circuit_info info;
    char *name, *subckt, *ports, *text;
} user_circuit;

/* Whitespace-separated tokens of s (modified in place) into tok[]. */
static size_t tokens(char *s, char **tok, size_t max)
{
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(s, " \t\r", &save); t && n < max;
         t = strtok_r(NULL, " \t\r", &save))
        tok[n++] = t;
    return n;
}

/* Pins of a ".subckt NAME pin ... [params:] [k=v ...]" statement (modified
 * in place): *name and pin[] point into it; returns the pin count. */
static size_t subckt_pins(char *stmt, char **name, char **pin, size_t max)
{
    char *tok[MAX_PINS + 16];
    size_t n = tokens(stmt, tok, MAX_PINS + 16), np = 0;
    *name = n > 1 ? tok[1] : NULL;
    for (size_t k = 2; k < n && np < max; k++) {
        if (!strcasecmp(tok[k], "params:") || strchr(tok[k], '='))
            break;
        pin[np++] = tok[k];
    }
    return np;
}

static int starts(const char *s, const char *word)
{
    return !strncasecmp(s, word, strlen(word));
}

/* The roles of library circuit ci: the pins of its .subckt line. */
static int roles_of(const ss_circuit_info *ci, ss_netlist *lib, char **stmt, char **role,
                    size_t *nrole, ss_error *err)
{
    ss_buf b = SS_BUF_INIT;
    int rc = ss_buf_printf(&b, "* %s\n%s", ci->name, circi_text(ci));
    if (rc)
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    rc = ss_netlist_read_string(lib, b.data, ci->file, NULL, 0, err);
    ss_buf_release(&b);
    for (size_t i = 1; !rc && i < lib->n; i++)
        if (starts(lib->lines[i].text, ".subckt")) {
            char *name;
            if (ss_netlist_statement(lib, i, stmt, NULL))
                return ss_error_set(err, SS_ENOMEM, "out of memory");
            *nrole = subckt_pins(*stmt, &name, role, MAX_PINS);
            return SS_OK;
        }
    return rc ? rc : ss_error_set(err, SS_ENOTFOUND, "no .subckt in '%s'", ci->file);
}

void ss_circuit_free(ss_circuit_info *info)
{
    user_circuit *u = (user_circuit *)info;
    if (!u)
        return;
    free(u->name);
    free(u->subckt);
    free(u->ports);
    free(u->text);
    free(u);
}

ss_circuit_info *ss_circuit_load(const char *path, ss_error *err)
{
    ss_netlist nl = SS_NETLIST_INIT, lib = SS_NETLIST_INIT;
    user_circuit *u = calloc(1, sizeof *u);
    char *decl = NULL, *lib_stmt = NULL, *stmt = NULL, *found = NULL;
    int rc = u ? SS_OK : ss_error_set(err, SS_ENOMEM, "out of memory");
    if (!rc)
        rc = ss_netlist_read_file(&nl, path, 0, err);
    if (rc)
        goto out;
    /* The declaration and the subcircuits; nothing else at the top level. */
    int decl_line = 0, sub_line = 0, depth = 0;
    size_t nsub = 0;
    for (size_t i = 0; i < nl.n; i++) {
        const char *t = nl.lines[i].text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (*t == '*') {
            const char *c = t + 1;
            while (*c == ' ' || *c == '\t')
                c++;
            if (starts(c, "smallsim:") && !decl) {
                decl = strdup(c + 9);
                decl_line = nl.lines[i].line;
                if (!decl) {
                    rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                    goto out;
                }
            }
            continue;
        }
        if (i == 0 || !*t || *t == '+')
            continue;
        if (starts(t, ".subckt")) {
            depth++;
            nsub++;
            continue;
        }
        if (starts(t, ".ends")) {
            depth--;
            continue;
        }
        if (depth > 0 || starts(t, ".end") || starts(t, ".param") || starts(t, ".model") ||
            starts(t, ".func") || starts(t, ".global"))
            continue;
        rc = ss_error_set(err, SS_EPARSE,
                          "%s:%d: a circuit file holds only .subckt blocks, .param, .model, "
                          ".func, .global and comments at its top level (found '%.40s')",
                          nl.lines[i].file, nl.lines[i].line, t);
        goto out;
    }
    if (!decl) {
        rc = ss_error_set(err, SS_EPARSE,
                          "%s:1: no port declaration: add a line '* smallsim: like=dpi-neuron "
                          "[subckt=NAME] [ROLE=PIN ...]' (see docs/circuits.md)", path);
        goto out;
    }
    /* like=, subckt=, ROLE=PIN */
    char *tok[64], *map_role[64], *map_pin[64];
    size_t nt = tokens(decl, tok, 64), nmap = 0;
    const char *like = NULL, *want = NULL;
    for (size_t k = 0; k < nt; k++) {
        char *eq = strchr(tok[k], '=');
        if (!eq || eq == tok[k] || !eq[1]) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%s' in the port declaration is not KEY=VALUE",
                              path, decl_line, tok[k]);
            goto out;
        }
        *eq = '\0';
        if (!strcasecmp(tok[k], "like"))
            like = eq + 1;
        else if (!strcasecmp(tok[k], "subckt"))
            want = eq + 1;
        else {
            map_role[nmap] = tok[k];
            map_pin[nmap++] = eq + 1;
        }
    }
    const ss_circuit_info *base = like ? ss_circuit_find(like) : NULL;
    if (!base) {
        rc = ss_error_set(err, SS_EPARSE,
                          "%s:%d: the port declaration needs like=CIRCUIT, a library circuit "
                          "(dpi-neuron, axon-hillock, dpi-synapse)%s%s%s",
                          path, decl_line, like ? "; unknown '" : "", like ? like : "",
                          like ? "'" : "");
        goto out;
    }
    char *role[MAX_PINS], roles[512] = "";
    size_t nrole = 0;
    if ((rc = roles_of(base, &lib, &lib_stmt, role, &nrole, err)))
        goto out;
    for (size_t k = 0; k < nrole; k++)
        snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", k ? " " : "", role[k]);
    /* The subcircuit: subckt=NAME or the only one. */
    char *sname = NULL, *pin[MAX_PINS];
    size_t npin = 0;
    for (size_t i = 1; i < nl.n; i++) {
        const char *t = nl.lines[i].text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (!starts(t, ".subckt"))
            continue;
        free(stmt);
        if (ss_netlist_statement(&nl, i, &stmt, NULL)) {
            stmt = NULL;
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
        char *nm, *pp[MAX_PINS];
        size_t np = subckt_pins(stmt, &nm, pp, MAX_PINS);
        if (nm && ((want && !strcasecmp(nm, want)) || (!want && nsub == 1))) {
            found = stmt; /* keep it: sname and pin[] point into it */
            stmt = NULL;
            sname = nm;
            npin = np;
            memcpy(pin, pp, np * sizeof *pin);
            sub_line = nl.lines[i].line;
            break;
        }
    }
    if (!sname) {
        if (want)
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: no .subckt '%s' in the file", path,
                              decl_line, want);
        else
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: %s .subckt in the file: name one with "
                              "subckt=NAME", path, decl_line, nsub ? "more than one" : "no");
        goto out;
    }
    /* role k -> pin; each pin gets the bench node of its role */
    for (size_t m = 0; m < nmap; m++) {
        size_t k = 0;
        while (k < nrole && strcasecmp(role[k], map_role[m]))
            k++;
        if (k == nrole) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: '%s' is not a port of %s (ports: %s)", path,
                              decl_line, map_role[m], base->name, roles);
            goto out;
        }
    }
    char *bench_node[MAX_PINS] = {0};
    char bench_ports[1024];
    snprintf(bench_ports, sizeof bench_ports, "%s", base->ports);
    char *node[MAX_PINS];
    size_t nnode = tokens(bench_ports, node, MAX_PINS);
    for (size_t k = 0; k < nrole && k < nnode; k++) {
        const char *p = role[k];
        for (size_t m = 0; m < nmap; m++)
            if (!strcasecmp(map_role[m], role[k]))
                p = map_pin[m];
        size_t j = 0;
        while (j < npin && strcasecmp(pin[j], p))
            j++;
        if (j == npin) {
            rc = ss_error_set(err, SS_EPARSE,
                              "%s:%d: port '%s' of %s: subckt '%s' has no pin '%s' (declare "
                              "%s=PIN)", path, decl_line, role[k], base->name, sname, p, role[k]);
            goto out;
        }
        if (bench_node[j]) {
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: pin '%s' is declared for two ports", path,
                              decl_line, pin[j]);
            goto out;
        }
        bench_node[j] = node[k];
    }
    ss_buf ports = SS_BUF_INIT;
    for (size_t j = 0; j < npin; j++) {
        if (!bench_node[j]) {
            ss_buf_release(&ports);
            rc = ss_error_set(err, SS_EPARSE, "%s:%d: pin '%s' of subckt '%s' has no port of %s "
                              "(ports: %s)", path, sub_line, pin[j], sname, base->name,
                              roles);
            goto out;
        }
        if (ss_buf_printf(&ports, "%s%s", j ? " " : "", bench_node[j])) {
            ss_buf_release(&ports);
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
            goto out;
        }
    }
    u->ports = ports.data;
    /* The screened, expanded text without title and .end. */
    ss_buf text = SS_BUF_INIT;
    for (size_t i = 1; !rc && i < nl.n; i++) {
        const char *t = nl.lines[i].text;
        while (*t == ' ' || *t == '\t')
            t++;
        if (starts(t, ".end") && !starts(t, ".ends"))
            continue;
        if (ss_buf_printf(&text, "%s\n", nl.lines[i].text))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    u->text = text.data;
    u->name = strdup(path);
    u->subckt = strdup(sname);
    if (!rc && (!u->name || !u->subckt || !u->ports || !u->text))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    if (rc)
        goto out;
    u->info = *base;
    u->info.name = u->name;
    u->info.file = u->name;
    u->info.subckt = u->subckt;
    u->info.ports = u->ports;
    u->info.help = "a designer's circuit";
    u->info.like = base->name;
    u->info.text = u->text;
out:
    free(decl);
    free(lib_stmt);
    free(stmt);
    free(found);
    ss_netlist_release(&nl);
    ss_netlist_release(&lib);
    if (rc) {
        if (u)
            ss_circuit_free(&u->info);
        return NULL;
    }
    return &u->info;
}
