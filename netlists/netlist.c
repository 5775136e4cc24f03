/* netlist.c: reading SPICE netlists with include expansion and screening.
 *
 * Includes are expanded here rather than by ngspice because (1) ngspice
 * resolves relative paths against the process's working directory, not the
 * including file, (2) included files can carry .control blocks that must be
 * screened too, and (3) every line keeps its origin for "file:line" errors.
 * Lines are recognised as ngspice's own reader recognises them
 * (ss_netlist_classify in screen.c), so every line ngspice would read a file
 * for is expanded here and none reaches ngspice. */
#include "netlists/ss_netlist.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_INCLUDE_DEPTH 16

static char *logical_line(const ss_netlist *nl, size_t i);

/* Skips white space as next_token() ends tokens at it (isspace: also \r of
 * CRLF files, \f, \v), so a token loop always moves on. */
static const char *skip_space(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* True if line `s` starts with dot-keyword `kw` (case-insensitive) followed
 * by white space or the end of the line. */
static int is_card(const char *s, const char *kw)
{
    s = skip_space(s);
    size_t n = strlen(kw);
    return !strncasecmp(s, kw, n) && (s[n] == '\0' || isspace((unsigned char)s[n]));
}

static char *intern_file(ss_netlist *nl, const char *path)
{
    for (size_t i = 0; i < nl->nfiles; i++)
        if (!strcmp(nl->files[i], path))
            return nl->files[i];
    char **f = realloc(nl->files, (nl->nfiles + 1) * sizeof *f);
    if (!f)
        return NULL;
    nl->files = f;
    f[nl->nfiles] = strdup(path);
    return f[nl->nfiles] ? f[nl->nfiles++] : NULL;
}

int ss_netlist_append(ss_netlist *nl, const char *text, const char *file, int line)
{
    if (nl->n == nl->cap) {
        size_t cap = nl->cap ? 2 * nl->cap : 64;
        ss_netlist_line *l = realloc(nl->lines, cap * sizeof *l);
        if (!l)
            return SS_ENOMEM;
        nl->lines = l;
        nl->cap = cap;
    }
    const char *f = intern_file(nl, file ? file : "<string>");
    char *t = strdup(text);
    if (!f || !t) {
        free(t);
        return SS_ENOMEM;
    }
    nl->lines[nl->n].text = t;
    nl->lines[nl->n].file = f;
    nl->lines[nl->n].line = line;
    nl->n++;
    return SS_OK;
}

int ss_netlist_set_line(ss_netlist *nl, size_t i, const char *text)
{
    if (i >= nl->n)
        return SS_EINVAL;
    char *t = strdup(text);
    if (!t)
        return SS_ENOMEM;
    free(nl->lines[i].text);
    nl->lines[i].text = t;
    return SS_OK;
}

void ss_netlist_release(ss_netlist *nl)
{
    if (!nl)
        return;
    for (size_t i = 0; i < nl->n; i++)
        free(nl->lines[i].text);
    free(nl->lines);
    for (size_t i = 0; i < nl->nfiles; i++)
        free(nl->files[i]);
    free(nl->files);
    free(nl->dir);
    for (size_t i = 0; i < nl->nroots; i++)
        free(nl->roots[i]);
    free(nl->roots);
    memset(nl, 0, sizeof *nl);
}

/* Reads the next whitespace-separated or quoted token of s into buf. */
static const char *next_token(const char *s, char *buf, size_t sz)
{
    size_t n = 0;
    s = skip_space(s);
    if (*s == '"' || *s == '\'') {
        char q = *s++;
        while (*s && *s != q) {
            if (n + 1 < sz)
                buf[n++] = *s;
            s++;
        }
        if (*s == q)
            s++;
    } else {
        while (*s && !isspace((unsigned char)*s)) {
            if (n + 1 < sz)
                buf[n++] = *s;
            s++;
        }
    }
    buf[n] = '\0';
    return s;
}

struct reader {
    ss_netlist *nl;
    unsigned flags;
    ss_error *err;
    const char *stack[MAX_INCLUDE_DEPTH + 1];
    int depth;
    size_t includes; /* include and .lib lines expanded (SS_LIMIT_INCLUDES) */
    size_t bytes;    /* text kept so far (SS_LIMIT_NETLIST_SIZE) */
    int in_control;  /* inside .control ... .endc (commands, not circuit lines) */
};

static int expand_text(struct reader *r, const char *text, const char *file, const char *dir,
                       int top, const char *section);

/* The arguments of a '.lib' line as expand_section_ref (inpcom.c) reads
 * them: after the keyword, white space and quotes are skipped, a word runs
 * up to white space or a quote.  Returns 1 for a reference ('.lib FILE
 * SECTION': file in a, section in b), 0 for a definition ('.lib NAME': the
 * name in a, b empty). */
static int lib_args(const char *line, char *a, size_t asz, char *b, size_t bsz)
{
    const char *s = skip_space(line);
    char *out[2] = {a, b};
    size_t sz[2] = {asz, bsz};
    while (*s && !isspace((unsigned char)*s))
        s++;
    for (int k = 0; k < 2; k++) {
        size_t n = 0;
        while (*s && (isspace((unsigned char)*s) || *s == '"' || *s == '\''))
            s++;
        for (; *s && !isspace((unsigned char)*s) && *s != '"' && *s != '\''; s++)
            if (n + 1 < sz[k])
                out[k][n++] = *s;
        out[k][n] = '\0';
    }
    return *b != '\0';
}

/* Resolves an include path against `dir`, checks the root, reads the file
 * and expands it (whole, or only `section` for .lib). */
static int include_file(struct reader *r, const char *file, int line, const char *dir,
                        const char *target, const char *section)
{
    char joined[PATH_MAX * 2], real[PATH_MAX];
    if (!*target)
        return ss_error_set(r->err, SS_EPARSE, "%s:%d: include without a file name", file, line);
    if (target[0] == '/' || !*dir)
        snprintf(joined, sizeof joined, "%s", target);
    else
        snprintf(joined, sizeof joined, "%s/%s", dir, target);
    struct stat st;
    if (!realpath(joined, real) || stat(real, &st) != 0)
        return ss_error_set(r->err, SS_EIO, "%s:%d: cannot open include '%s': %s", file, line,
                            target, strerror(errno));
    if (!ss_netlist_trusted(r->nl, real))
        return ss_error_set(r->err, SS_EDENIED,
                            "%s:%d: include '%s' is outside the netlist's folder and the trusted "
                            "folders; refused (add its folder with --include-dir or "
                            SS_NETLIST_INCLUDE_ENV ")",
                            file, line, target);
    if (!S_ISREG(st.st_mode))
        return ss_error_set(r->err, SS_EDENIED, "%s:%d: include '%s' is not a regular file",
                            file, line, target);
    /* fan-out: a few includes per file, nested, multiply; bounded by count
     * here and by the expanded size in expand_text */
    if (++r->includes > (size_t)ss_util_limit(SS_LIMIT_INCLUDES))
        return ss_util_limit_check(SS_LIMIT_INCLUDES, (double)r->includes, r->err,
                                   "%s:%d: include '%s'", file, line, target);
    if (r->depth >= MAX_INCLUDE_DEPTH)
        return ss_error_set(r->err, SS_EPARSE, "%s:%d: includes nested deeper than %d (a cycle?)",
                            file, line, MAX_INCLUDE_DEPTH);
    for (int i = 0; i < r->depth; i++)
        if (!strcmp(r->stack[i], real) && !section)
            return ss_error_set(r->err, SS_EPARSE, "%s:%d: include cycle: '%s' includes itself",
                                file, line, target);
    char *text = NULL;
    int rc = ss_util_read_file(real, &text, NULL, r->err);
    if (rc)
        return ss_error_prefix(r->err, rc, "%s:%d", file, line);
    char *sub = strdup(real);
    if (!sub) {
        free(text);
        return ss_error_set(r->err, SS_ENOMEM, "out of memory");
    }
    char *slash = strrchr(sub, '/');
    if (slash)
        *slash = '\0';
    r->stack[r->depth++] = real;
    rc = expand_text(r, text, real, sub, 0, section);
    r->depth--;
    if (rc == SS_ENOTFOUND)
        rc = ss_error_set(r->err, SS_EPARSE, "%s:%d: section '%s' not found in '%s'", file, line,
                          section, target);
    free(sub);
    free(text);
    return rc;
}

/* True if the line's last character other than white space is '\'. */
static int ends_in_backslash(const char *line)
{
    size_t n = strlen(line);
    while (n && isspace((unsigned char)line[n - 1]))
        n--;
    return n && line[n - 1] == '\\';
}

/* Expands one file's text.  With `section`, only the lines between
 * ".lib section" and ".endl" are used (SS_ENOTFOUND if there is none). */
static int expand_text(struct reader *r, const char *text, const char *file, const char *dir,
                       int top, const char *section)
{
    int lineno = 0, in_section = 0, found = 0;
    const char *p = text;
    char tok[PATH_MAX], tok2[256];
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char *line = strndup(p, len);
        if (!line)
            return ss_error_set(r->err, SS_ENOMEM, "out of memory");
        if (len && line[len - 1] == '\r')
            line[len - 1] = '\0';
        lineno++;
        p = eol ? eol + 1 : p + len;
        int rc = SS_OK;

        int kind = ss_netlist_classify(line);
        if (kind == SS_NETLIST_CONTROL || kind == SS_NETLIST_ENDC)
            r->in_control = kind == SS_NETLIST_CONTROL;
        if (top && lineno == 1 && !(r->flags & SS_NETLIST_BODY)) {
            /* the title line, whatever it says: the engine sends its own */
            rc = ss_netlist_append(r->nl, line, file, lineno);
        } else if (section && !in_section) {
            /* ".lib NAME" (one argument) opens section NAME */
            if (kind == SS_NETLIST_LIB && !lib_args(line, tok2, sizeof tok2, tok, sizeof tok) &&
                !strcasecmp(tok2, section))
                in_section = found = 1;
        } else if (section && kind == SS_NETLIST_ENDL) {
            in_section = 0;
        } else if (kind == SS_NETLIST_INCLUDE) {
            /* the keyword is whatever runs up to white space (".include",
             * ".incx"), the file the next token, as inpcom.c reads them */
            const char *arg = skip_space(line);
            while (*arg && !isspace((unsigned char)*arg))
                arg++;
            next_token(arg, tok, sizeof tok);
            rc = include_file(r, file, lineno, dir, tok, NULL);
        } else if (kind == SS_NETLIST_LIB) {
            if (lib_args(line, tok, sizeof tok, tok2, sizeof tok2))
                rc = include_file(r, file, lineno, dir, tok, tok2);
            else /* a section definition in a file included whole: keep it out */
                rc = ss_error_set(r->err, SS_EPARSE,
                                  "%s:%d: '.lib %s' defines a library section; use "
                                  "'.lib FILE %s' to include it",
                                  file, lineno, tok, tok);
        } else if (kind == SS_NETLIST_END) {
            /* ngspice's reader (inp_read) turns every .end into a comment
             * and reads on: lines after it, a .control block there too,
             * belong to the deck; one .end closes it (finish) */
        } else if (kind == SS_NETLIST_OTHER && !r->in_control && ends_in_backslash(line)) {
            rc = ss_error_set(r->err, SS_EPARSE,
                              "%s:%d: the line ends in '\\', which does not continue a SPICE line "
                              "(ngspice reads the next line as a new one); start the next line "
                              "with '+' instead",
                              file, lineno);
        } else {
            rc = ss_netlist_append(r->nl, line, file, lineno);
            if (rc)
                rc = ss_error_set(r->err, SS_ENOMEM, "out of memory");
        }
        r->bytes += len + 1;
        if (!rc && r->bytes > ss_util_limit(SS_LIMIT_NETLIST_SIZE))
            rc = ss_util_limit_check(SS_LIMIT_NETLIST_SIZE, (double)r->bytes, r->err,
                                     "%s:%d: the netlist with its includes expanded", file,
                                     lineno);
        free(line);
        if (rc)
            return rc;
    }
    if (section && !found)
        return SS_ENOTFOUND;
    return SS_OK;
}

/* Catches element lines too short to be what their first letter says;
 * ngspice accepts some of them silently ("R1 a" becomes a 1 mOhm resistor
 * to a made-up node). */
static int check_elements(const ss_netlist *nl, ss_error *err)
{
    static const struct {
        char letter;
        int min;
        const char *what;
    } rules[] = {
        {'r', 4, "two nodes and a value"}, {'c', 4, "two nodes and a value"},
        {'l', 4, "two nodes and a value"}, {'v', 3, "two nodes"},
        {'i', 3, "two nodes"},             {'d', 4, "two nodes and a model"},
        {'x', 2, "nodes and a subcircuit name"}, {'q', 5, "three nodes and a model"},
        {'m', 5, "four nodes and a model"}, {'e', 4, "two nodes and a value or expression"},
        {'g', 4, "two nodes and a value or expression"}, {'b', 4, "two nodes and an expression"},
    };
    int in_control = 0;
    for (size_t i = 1; i < nl->n; i++) {
        const char *t = skip_space(nl->lines[i].text);
        int kind = ss_netlist_classify(t);
        if (kind == SS_NETLIST_CONTROL)
            in_control = 1;
        else if (kind == SS_NETLIST_ENDC)
            in_control = 0;
        if (in_control || !isalpha((unsigned char)*t))
            continue;
        char *full = logical_line(nl, i);
        if (!full)
            return ss_error_set(err, SS_ENOMEM, "out of memory");
        int ntok = 0;
        char tok[256];
        for (const char *s = full; *(s = skip_space(s));) {
            /* comments at the end of a line */
            if (*s == ';' || *s == '$' || (s[0] == '/' && s[1] == '/'))
                break;
            s = next_token(s, tok, sizeof tok);
            ntok++;
        }
        next_token(full, tok, sizeof tok);
        free(full);
        char letter = (char)tolower((unsigned char)*t);
        for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++)
            if (rules[k].letter == letter && ntok < rules[k].min)
                return ss_error_set(err, SS_EPARSE, "%s:%d: '%s' needs %s", nl->lines[i].file,
                                    nl->lines[i].line, tok, rules[k].what);
    }
    return SS_OK;
}

static int finish(ss_netlist *nl, const char *name, unsigned flags, ss_error *err)
{
    if (nl->n == 0 || (nl->n == 1 && !nl->lines[0].text[0])) {
        ss_netlist_release(nl);
        return ss_error_set(err, SS_EPARSE, "%s:1: empty netlist", name);
    }
    int rc = ss_netlist_resolve_files(nl, err);
    if (!rc)
        rc = ss_netlist_screen(nl, flags, err);
    if (!rc)
        rc = check_elements(nl, err);
    if (!rc)
        rc = ss_netlist_check_analyses(nl, err);
    if (!rc)
        rc = ss_netlist_append(nl, ".end", nl->lines[nl->n - 1].file, nl->lines[nl->n - 1].line);
    if (rc)
        ss_netlist_release(nl);
    return rc;
}

static int read_text(ss_netlist *nl, const char *text, const char *name, const char *dir,
                     unsigned flags, ss_error *err)
{
    struct reader r = {nl, flags, err, {NULL}, 0, 0, 0, 0};
    memset(nl, 0, sizeof *nl);
    nl->flags = flags;
    nl->dir = strdup(dir ? dir : "");
    if (!nl->dir || ss_netlist_set_roots(nl, nl->dir)) {
        ss_netlist_release(nl);
        return ss_error_set(err, SS_ENOMEM, "out of memory");
    }
    r.stack[r.depth++] = name;
    int rc = (flags & SS_NETLIST_BODY) && ss_netlist_append(nl, "", name, 0)
                 ? ss_error_set(err, SS_ENOMEM, "out of memory")
                 : SS_OK;
    if (!rc)
        rc = expand_text(&r, text, name, nl->dir, 1, NULL);
    if (rc) {
        ss_netlist_release(nl);
        return rc;
    }
    return finish(nl, name, flags, err);
}

int ss_netlist_read_file(ss_netlist *nl, const char *path, unsigned flags, ss_error *err)
{
    char real[PATH_MAX];
    char *text = NULL;
    memset(nl, 0, sizeof *nl);
    int rc = ss_util_read_file(path, &text, NULL, err);
    if (rc)
        return rc;
    if (!realpath(path, real)) {
        free(text);
        return ss_error_set(err, SS_EIO, "%s: %s", path, strerror(errno));
    }
    char *slash = strrchr(real, '/');
    *slash = '\0';
    rc = read_text(nl, text, path, real[0] ? real : "/", flags, err);
    free(text);
    return rc;
}

int ss_netlist_read_string(ss_netlist *nl, const char *text, const char *name, const char *dir,
                           unsigned flags, ss_error *err)
{
    char cwd[PATH_MAX], real[PATH_MAX];
    if (!dir) {
        if (!getcwd(cwd, sizeof cwd))
            return ss_error_set(err, SS_EIO, "cannot read the current directory");
        dir = cwd;
    } else if (realpath(dir, real)) {
        dir = real;
    }
    return read_text(nl, text, name ? name : "<string>", dir, flags, err);
}

/* Joins line i with its '+' continuation lines (caller frees). */
static char *logical_line(const ss_netlist *nl, size_t i)
{
    ss_buf b = SS_BUF_INIT;
    if (ss_buf_add(&b, nl->lines[i].text, strlen(nl->lines[i].text)))
        return NULL;
    for (size_t j = i + 1; j < nl->n; j++) {
        const char *t = skip_space(nl->lines[j].text);
        if (*t != '+')
            break;
        if (ss_buf_printf(&b, " %s", t + 1)) {
            ss_buf_release(&b);
            return NULL;
        }
    }
    return b.data;
}

const ss_netlist_line *ss_netlist_analysis(const ss_netlist *nl, double *tstop)
{
    static const char *const cards[] = {".tran", ".ac",  ".dc",    ".op", ".noise", ".tf",
                                        ".sens", ".pz",  ".disto", ".sp", ".pss"};
    int in_control = 0;
    const ss_netlist_line *first = NULL;
    if (tstop)
        *tstop = NAN;
    for (size_t i = 1; i < nl->n && (!first || (tstop && isnan(*tstop))); i++) {
        const char *t = nl->lines[i].text;
        int kind = ss_netlist_classify(t);
        if (kind == SS_NETLIST_CONTROL)
            in_control = 1;
        else if (kind == SS_NETLIST_ENDC)
            in_control = 0;
        if (in_control)
            continue;
        for (size_t k = 0; k < sizeof cards / sizeof cards[0]; k++) {
            if (!is_card(t, cards[k]))
                continue;
            if (k == 0 && tstop) {
                char *full = logical_line(nl, i), tok[64];
                if (full) {
                    /* .tran tstep tstop [tstart [tmax]] [uic] */
                    const char *s = next_token(skip_space(full) + 5, tok, sizeof tok);
                    next_token(s, tok, sizeof tok);
                    double v;
                    if (!ss_util_parse_spice_number(tok, &v))
                        *tstop = v;
                    free(full);
                }
            }
            if (!first)
                first = &nl->lines[i];
            break;
        }
    }
    return first;
}

char *ss_netlist_join(const ss_netlist *nl)
{
    ss_buf b = SS_BUF_INIT;
    for (size_t i = 0; i < nl->n; i++)
        if (ss_buf_printf(&b, "%s\n", nl->lines[i].text)) {
            ss_buf_release(&b);
            return NULL;
        }
    return b.data;
}
