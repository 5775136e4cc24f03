/* screen.c: what ngspice's front end would execute or read, and the screen
 * that keeps it out of untrusted netlists.
 *
 * The model follows ngspice 39's input path for a deck handed over with
 * ngSpice_Circ (the way the engine loads every netlist):
 *   - create_circbyline (frontend/inp.c) strips leading white space
 *     (isspace) from every line, so all prefixes below are tested after it;
 *   - inp_read (frontend/inpcom.c) opens a control section on any line that
 *     begins with ".control" and closes it on ".endc", case-insensitively
 *     and whatever follows (ciprefix: ".controlx", ".CONTROL;" count too),
 *     and includes a file for any line beginning with ".inc" (".include",
 *     ".incx", ".inc.x"): the keyword is the first run of non-space
 *     characters, the file the next (quoted) token;
 *   - expand_section_ref (frontend/inpcom.c) reads a library section for
 *     any line beginning with ".lib" (".library" too);
 *   - inp_spsource (frontend/inp.c) runs as a front-end command every line
 *     inside a control section and every line beginning with "*#" outside
 *     one; other lines beginning with '*' are comments;
 *   - ngSpice_Circ (sharedspice.c) ends the deck at ".end" followed by the
 *     end of the line or white space.
 * Front-end commands can run programs (shell, backquotes), write files
 * (write, wrdata, print > FILE), read files (source, load) and load code
 * (codemodel, osdi).  Besides commands, code models and CIDER devices read
 * or write files named by parameters: XSPICE filesource, table2D and
 * table3D (file=), d_source (input_file=), d_state (state_file=); CIDER
 * doping profiles (infile=), initial states (ic.file=) and output dumps
 * (rootfile=).  The OS sandbox (ss_engine_confine) is the second line: it
 * holds even where this model of ngspice were incomplete.
 *
 * The reader (netlist.c) expands every include itself, so no include line
 * reaches ngspice; this file classifies lines, resolves file parameters
 * against the folders the netlist may read, and screens the result. */
#include "netlists/ss_netlist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *skip_ws(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

int ss_netlist_classify(const char *line)
{
    const char *s = skip_ws(line);
    if (!*s)
        return SS_NETLIST_BLANK;
    if (s[0] == '*')
        return s[1] == '#' ? SS_NETLIST_COMMAND : SS_NETLIST_COMMENT;
    if (!strncasecmp(s, ".control", 8))
        return SS_NETLIST_CONTROL;
    if (!strncasecmp(s, ".endc", 5))
        return SS_NETLIST_ENDC;
    if (!strncasecmp(s, ".inc", 4))
        return SS_NETLIST_INCLUDE;
    if (!strncasecmp(s, ".lib", 4))
        return SS_NETLIST_LIB;
    if (!strncasecmp(s, ".endl", 5))
        return SS_NETLIST_ENDL;
    if (!strncasecmp(s, ".end", 4) && (!s[4] || isspace((unsigned char)s[4])))
        return SS_NETLIST_END;
    return SS_NETLIST_OTHER;
}

/* ---- trusted folders --------------------------------------------------- */

/* Adds folder `dir` (made absolute, with a trailing '/') to nl->roots unless
 * it is there already.  A folder that does not exist is skipped. */
static int add_root(ss_netlist *nl, const char *dir)
{
    char real[PATH_MAX];
    if (!dir || !*dir || !realpath(dir, real))
        return SS_OK;
    size_t n = strlen(real);
    char *r = malloc(n + 2);
    if (!r)
        return SS_ENOMEM;
    memcpy(r, real, n);
    if (!n || real[n - 1] != '/')
        r[n++] = '/';
    r[n] = '\0';
    for (size_t i = 0; i < nl->nroots; i++)
        if (!strcmp(nl->roots[i], r)) {
            free(r);
            return SS_OK;
        }
    char **g = realloc(nl->roots, (nl->nroots + 1) * sizeof *g);
    if (!g) {
        free(r);
        return SS_ENOMEM;
    }
    nl->roots = g;
    nl->roots[nl->nroots++] = r;
    return SS_OK;
}

int ss_netlist_set_roots(ss_netlist *nl, const char *dir)
{
    int rc = add_root(nl, dir);
    const char *path = getenv(SS_NETLIST_INCLUDE_ENV);
    while (!rc && path && *path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        char *one = strndup(path, len);
        if (!one)
            return SS_ENOMEM;
        rc = add_root(nl, one);
        free(one);
        path = colon ? colon + 1 : NULL;
    }
    return rc;
}

int ss_netlist_trusted(const ss_netlist *nl, const char *real)
{
    if (nl->flags & SS_NETLIST_ALLOW_ANY_INCLUDE)
        return 1;
    for (size_t i = 0; i < nl->nroots; i++)
        if (!strncmp(real, nl->roots[i], strlen(nl->roots[i])))
            return 1;
    return 0;
}

/* ---- file parameters --------------------------------------------------- */

/* Parameter names whose values are file names that ngspice opens.  ngspice
 * 39 lowercases every circuit line (inp_read), so the XSPICE models open
 * the lowercased name: relative to the working folder, then to
 * $NGSPICE_INPUT_DIR (the engine sets it to the netlist's folder).  CIDER
 * keeps the case of its file names (keep_case_of_cider_param) and opens them
 * relative to the working folder, so those are made absolute here. */
enum { XSPICE_READ, CIDER_READ, CIDER_WRITE };
static const struct {
    const char *name;
    int kind;
} file_params[] = {
    {"file", XSPICE_READ},  {"input_file", XSPICE_READ}, {"state_file", XSPICE_READ},
    {"infile", CIDER_READ}, {"ic.file", CIDER_READ},     {"rootfile", CIDER_WRITE},
};

static int ident_char(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

/* Finds the next file parameter assignment in `s`: returns the start of its
 * value (after '=' and spaces) and sets *which, or NULL. */
static const char *next_file_param(const char *s, size_t *which)
{
    for (const char *p = s; *p; p++) {
        if (!ident_char((unsigned char)*p) || (p > s && ident_char((unsigned char)p[-1])))
            continue;
        size_t n = 0;
        while (ident_char((unsigned char)p[n]))
            n++;
        for (size_t k = 0; k < sizeof file_params / sizeof file_params[0]; k++) {
            if (strlen(file_params[k].name) != n || strncasecmp(p, file_params[k].name, n))
                continue;
            const char *q = skip_ws(p + n);
            if (*q != '=')
                continue;
            *which = k;
            return skip_ws(q + 1);
        }
        p += n - 1;
    }
    return NULL;
}

/* The value at v: quoted ("..." or '...'), or up to white space, ')' or
 * ','.  Sets *end past it; returns a heap copy without quotes. */
static char *param_value(const char *v, const char **end)
{
    if (*v == '"' || *v == '\'') {
        const char *q = strchr(v + 1, *v);
        if (!q)
            q = v + strlen(v);
        *end = *q ? q + 1 : q;
        return strndup(v + 1, (size_t)(q - v - 1));
    }
    const char *q = v;
    while (*q && !isspace((unsigned char)*q) && *q != ')' && *q != ',')
        q++;
    *end = q;
    return strndup(v, (size_t)(q - v));
}

/* Checks the file parameters of line i: the file ngspice will open must be
 * a regular file below nl->roots.  CIDER values are rewritten as absolute
 * paths (in double quotes), so that ngspice opens the file that was
 * checked whatever its working folder. */
static int resolve_line(ss_netlist *nl, size_t i, ss_error *err)
{
    const ss_netlist_line *l = &nl->lines[i];
    ss_buf out = SS_BUF_INIT;
    const char *s = l->text, *v;
    size_t which;
    int rc = SS_OK, changed = 0;
    while (!rc && (v = next_file_param(s, &which))) {
        const char *end, *pname = file_params[which].name;
        int kind = file_params[which].kind, replaced = 0;
        char *val = param_value(v, &end), real[PATH_MAX], joined[2 * PATH_MAX];
        struct stat st;
        if (!val)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        if (kind == XSPICE_READ)
            for (char *c = val; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        if (ss_buf_add(&out, s, (size_t)(v - s)))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        else if (kind == CIDER_WRITE) {
            /* with --allow-control it is written in the engine's run folder,
             * which the sandbox confines */
            if (!(nl->flags & SS_NETLIST_ALLOW_CONTROL))
                rc = ss_error_set(err, SS_EDENIED,
                                  "%s:%d: '%s=' makes ngspice write files; refused "
                                  "(allow with --allow-control)",
                                  l->file, l->line, pname);
        } else if (!*val || strpbrk(val, "{}`\"")) {
            rc = ss_error_set(err, SS_EDENIED, "%s:%d: '%s=' needs a plain file name, not '%s'",
                              l->file, l->line, pname, val);
        } else {
            if (val[0] == '/' || !*nl->dir)
                snprintf(joined, sizeof joined, "%s", val);
            else
                snprintf(joined, sizeof joined, "%s/%s", nl->dir, val);
            if (!realpath(joined, real) || stat(real, &st) != 0)
                rc = ss_error_set(err, SS_EIO, "%s:%d: %s='%s': cannot open: %s%s", l->file,
                                  l->line, pname, val, strerror(errno),
                                  kind == XSPICE_READ ? " (ngspice reads code-model file names "
                                                        "in lower case)"
                                                      : "");
            else if (!ss_netlist_trusted(nl, real))
                rc = ss_error_set(err, SS_EDENIED,
                                  "%s:%d: %s='%s' is outside the netlist's folder and the "
                                  "trusted folders; refused (add its folder with "
                                  "--include-dir or " SS_NETLIST_INCLUDE_ENV ")",
                                  l->file, l->line, pname, val);
            else if (!S_ISREG(st.st_mode))
                rc = ss_error_set(err, SS_EDENIED, "%s:%d: %s='%s' is not a regular file",
                                  l->file, l->line, pname, val);
            else if (kind == CIDER_READ) {
                if (strchr(real, '"'))
                    rc = ss_error_set(err, SS_EDENIED, "%s:%d: %s='%s': a quote in the path",
                                      l->file, l->line, pname, val);
                else if (ss_buf_printf(&out, "\"%s\"", real))
                    rc = ss_error_set(err, SS_ENOMEM, "out of memory");
                changed = replaced = 1;
            }
        }
        if (!rc && !replaced && ss_buf_add(&out, v, (size_t)(end - v)))
            rc = ss_error_set(err, SS_ENOMEM, "out of memory");
        s = end;
        free(val);
    }
    if (!rc && changed &&
        (ss_buf_add(&out, s, strlen(s)) || ss_netlist_set_line(nl, i, out.data)))
        rc = ss_error_set(err, SS_ENOMEM, "out of memory");
    ss_buf_release(&out);
    return rc;
}

int ss_netlist_resolve_files(ss_netlist *nl, ss_error *err)
{
    int in_control = 0;
    for (size_t i = 1; i < nl->n; i++) {
        int kind = ss_netlist_classify(nl->lines[i].text);
        if (kind == SS_NETLIST_CONTROL)
            in_control = 1;
        else if (kind == SS_NETLIST_ENDC)
            in_control = 0;
        if (in_control || kind != SS_NETLIST_OTHER)
            continue;
        int rc = resolve_line(nl, i, err);
        if (rc)
            return rc;
    }
    return SS_OK;
}

/* ---- the screen -------------------------------------------------------- */

int ss_netlist_screen(const ss_netlist *nl, unsigned flags, ss_error *err)
{
    int allow = (flags & SS_NETLIST_ALLOW_CONTROL) != 0;
    for (size_t i = 1; i < nl->n; i++) {
        const ss_netlist_line *l = &nl->lines[i];
        switch (ss_netlist_classify(l->text)) {
        case SS_NETLIST_BLANK:
        case SS_NETLIST_COMMENT:
            continue;
        case SS_NETLIST_COMMAND:
            if (!allow)
                return ss_error_set(err, SS_EDENIED,
                                    "%s:%d: '*#' line refused: ngspice runs it as a command "
                                    "(allow with --allow-control)",
                                    l->file, l->line);
            continue;
        case SS_NETLIST_CONTROL:
            if (!allow)
                return ss_error_set(err, SS_EDENIED,
                                    "%s:%d: .control block refused: ngspice runs every line up to "
                                    ".endc as a command, which can run programs and write files "
                                    "(allow with --allow-control)",
                                    l->file, l->line);
            continue;
        case SS_NETLIST_INCLUDE:
        case SS_NETLIST_LIB:
            /* the readers expand these; a deck built line by line must not
             * hand ngspice a file to read on its own */
            return ss_error_set(err, SS_EDENIED,
                                "%s:%d: include or library line left for ngspice to read; "
                                "read the netlist with ss_netlist_read_file",
                                l->file, l->line);
        default:
            break;
        }
        if (!allow && strchr(l->text, '`'))
            return ss_error_set(err, SS_EDENIED,
                                "%s:%d: backquote command substitution refused "
                                "(allow with --allow-control)",
                                l->file, l->line);
    }
    return SS_OK;
}
