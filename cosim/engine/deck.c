/* deck.c: the deck the engine hands to ngspice for a netlist.
 *
 * It is the netlist's own text with a few changes that let the engine see
 * what ngspice -b would do with the file:
 *   - the title line and the ".title" lines of the netlist's own file go
 *     to ngspice unchanged, so that the plots carry the title ngspice -b
 *     gives them (inpcom.c: the last ".title" line of the top-level file
 *     wins, the first line is set in lower case); ".title" lines of included
 *     files (which ngspice -b ignores; smallsim expands includes itself)
 *     become comments, and a first line that ngspice's reader would take
 *     for a card (".control", ".include", ...) is replaced;
 *   - before the first front-end command (a .control line or a '*#' line)
 *     a marker command tells the engine that the commands begin, so that
 *     errors in the circuit and errors of commands can be told apart;
 *   - 'quit' (and 'exit', which spinit aliases to it) ends the commands as
 *     in ngspice -b, but without ngspice's shared-library clean-up that
 *     would destroy every plot: the engine aliases quit to a marker, and
 *     here the commands after a top-level quit become comments, or, for a
 *     quit inside if/while/foreach/..., the commands are wrapped in a loop
 *     that runs once ("dowhile 0" ... "end") and quit is followed by a
 *     "break N" leaving every enclosing loop;
 *   - each .meas line gets a PARAM companion that prints the result with
 *     16 significant digits (ngspice prints FIND, TRIG/TARG, AVG, MIN, MAX
 *     and PP results with 7; its parameter substitution keeps 16), and each
 *     analysis that has .meas lines a last PARAM line that marks the end of
 *     their printout.
 * Lines are only replaced or added, and origin[] maps every deck line back
 * to the netlist line it came from. */
#include "cosim/engine/engine_private.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_ORIGIN SIZE_MAX

static const char *skip_ws(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return s;
}

/* Appends one line; `text` is copied unless `own` (then it is taken). */
static int push(engi_deck *d, const char *text, int own, size_t origin)
{
    if (d->n + 2 > d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 64;
        char **l = realloc(d->lines, cap * sizeof *l);
        if (!l)
            goto oom;
        d->lines = l;
        size_t *o = realloc(d->origin, cap * sizeof *o);
        if (!o)
            goto oom;
        d->origin = o;
        d->cap = cap;
    }
    char *t = own ? (char *)text : strdup(text);
    if (!t)
        return SS_ENOMEM;
    d->lines[d->n] = t;
    d->origin[d->n++] = origin;
    d->lines[d->n] = NULL;
    return SS_OK;
oom:
    if (own)
        free((char *)text);
    return SS_ENOMEM;
}

static char *str_printf(const char *fmt, const char *a, const char *b)
{
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, fmt, a, b ? b : "");
    return s;
}

/* The first word of a front-end command (`text` without "*#"). */
static void first_word(const char *text, char *w, size_t size)
{
    const char *s = skip_ws(text);
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]) && s[n] != ';' && n + 1 < size) {
        w[n] = s[n];
        n++;
    }
    w[n] = '\0';
}

static int is_quit(const char *w)
{
    return !strcasecmp(w, "quit") || !strcasecmp(w, "exit");
}

static int is_loop(const char *w)
{
    /* control.c matches the keywords case-sensitively */
    return !strcmp(w, "while") || !strcmp(w, "dowhile") || !strcmp(w, "repeat") ||
           !strcmp(w, "foreach");
}

/* The first line as ngspice's reader leaves it (inpcom.c, inp_read): in
 * lower case unless it begins with one of the commands whose arguments
 * keep their case. */
static char *ngspice_case(const char *line)
{
    static const char *const keep[] = {"write", "wrdata", ".lib", ".inc", "codemodel", "osdi",
                                       "pre_osdi", "echo", "shell", "source", "cd ", "load",
                                       "setcs"};
    char *t = strdup(line);
    if (!t)
        return NULL;
    int redirect = !strncasecmp(t, "print", 5) || !strncasecmp(t, "eprint", 6) ||
                   !strncasecmp(t, "asciiplot", 9);
    for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++)
        if (!strncasecmp(t, keep[k], strlen(keep[k])))
            return t;
    for (char *c = t; *c && !(redirect && *c == '>'); c++)
        *c = (char)tolower((unsigned char)*c);
    return t;
}

/* A first line that ngspice's reader would act on instead of taking it as
 * the title. */
static int unsafe_title(const char *s)
{
    static const char *const cards[] = {".control", ".endc", ".inc", ".lib", ".end", "@"};
    for (size_t k = 0; k < sizeof cards / sizeof cards[0]; k++)
        if (!strncasecmp(s, cards[k], strlen(cards[k])))
            return 1;
    return strchr(s, '`') != NULL;
}

/* A name ngspice's numparam reads as a parameter in PARAM='name'. */
static int plain_name(const char *s)
{
    if (!isalpha((unsigned char)*s) && *s != '_')
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* What ngspice's batch mode looks for before it runs a deck
 * (dotcards.c, ft_savedotargs): .plot, .print, .four, .meas, .op, .tf. */
static int is_dotarg(const char *s)
{
    static const char *const exact[] = {".plot", ".print", ".op", ".tf"};
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n]))
        n++;
    for (size_t k = 0; k < sizeof exact / sizeof exact[0]; k++)
        if (n == strlen(exact[k]) && !strncasecmp(s, exact[k], n))
            return 1;
    return !strncasecmp(s, ".four", 5) || !strncasecmp(s, ".meas", 5);
}

#define UNSAFE_TITLE "untitled (the first line would be read as a card)"

/* A ".title" line ngspice -b takes: in column 1 of the netlist's own file. */
static int own_title(const ss_netlist *nl, size_t i, const char *top)
{
    const char *t = nl->lines[i].text;
    return !strncasecmp(t, ".title", 6) &&
           (i == 0 || !top || nl->lines[i].file == top || !strcmp(nl->lines[i].file, top));
}

void engi_deck_release(engi_deck *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    free(d->origin);
    free(d->title);
    ss_netlist_meas_free(d->meas, d->nmeas);
    free(d->companion);
    memset(d, 0, sizeof *d);
}

/* Front-end command lines of the netlist: index, and whether it is a
 * '*#' line (the command follows the two characters). */
typedef struct cmdline {
    size_t i;
    int star;
    int depth, loops; /* structures and loops around it */
} cmdline;

static int find_commands(const ss_netlist *nl, cmdline **out, size_t *nout)
{
    cmdline *c = NULL;
    size_t n = 0, cap = 0;
    int in_control = 0;
    for (size_t i = 1; i + 1 < nl->n; i++) {
        const char *t = nl->lines[i].text;
        int kind = ss_netlist_classify(t);
        int star = kind == SS_NETLIST_COMMAND && !in_control;
        if (kind == SS_NETLIST_CONTROL) {
            in_control = 1;
            continue;
        }
        if (kind == SS_NETLIST_ENDC) {
            in_control = 0;
            continue;
        }
        if (!in_control && !star)
            continue;
        const char *s = skip_ws(t);
        /* comments and blank lines inside a section are dropped by
         * ngspice; "pre_" commands run before the circuit is parsed */
        if ((!star && (*s == '*' && s[1] != '#')) || !*s || !strncasecmp(t, "pre_", 4))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            cmdline *g = realloc(c, cap * sizeof *g);
            if (!g) {
                free(c);
                return SS_ENOMEM;
            }
            c = g;
        }
        c[n].i = i;
        c[n].star = star || (*s == '*' && s[1] == '#');
        c[n].depth = c[n].loops = 0;
        n++;
    }
    *out = c;
    *nout = n;
    return SS_OK;
}

/* The command text of a command line. */
static const char *command_text(const ss_netlist *nl, const cmdline *c)
{
    const char *s = skip_ws(nl->lines[c->i].text);
    return c->star ? s + 2 : s;
}

int engi_deck_build(engi_deck *d, const ss_netlist *nl, ss_error *err)
{
    cmdline *cmd = NULL;
    size_t ncmd = 0;
    ss_netlist_meas *ml = NULL;
    size_t nml = 0;
    int rc;
    memset(d, 0, sizeof *d);
    if ((rc = find_commands(nl, &cmd, &ncmd)) ||
        (rc = ss_netlist_meas_list(nl, &ml, &nml, err)))
        goto out;
    d->commands = ncmd > 0;

    /* nesting of the commands: how a quit can be made to end them */
    int depth = 0, loops = 0, nested_quit = 0, balanced = 1;
    int *stack = calloc(ncmd + 1, sizeof *stack); /* 1: a loop */
    size_t first_quit = SIZE_MAX;
    if (!stack) {
        rc = SS_ENOMEM;
        goto out;
    }
    for (size_t k = 0; k < ncmd; k++) {
        char w[32];
        first_word(command_text(nl, &cmd[k]), w, sizeof w);
        cmd[k].depth = depth;
        cmd[k].loops = loops;
        if (is_quit(w)) {
            if (first_quit == SIZE_MAX)
                first_quit = k;
            nested_quit |= depth > 0;
        } else if (is_loop(w) || !strcmp(w, "if")) {
            stack[depth++] = is_loop(w);
            loops += is_loop(w);
        } else if (!strcmp(w, "end")) {
            if (depth == 0)
                balanced = 0;
            else
                loops -= stack[--depth];
        }
    }
    free(stack);
    if (depth != 0)
        balanced = 0;
    /* an unbalanced script is left as it is: quit stays the engine's
     * marker, the commands after it run (documented) */
    int wrap = first_quit != SIZE_MAX && nested_quit && balanced;
    int truncate = first_quit != SIZE_MAX && !nested_quit && balanced;

    /* the netlist's title as ngspice -b reads it */
    const char *top = nl->nfiles ? nl->files[0] : NULL;
    const char *line0 = nl->lines[0].text;
    int safe0 = !unsafe_title(line0) || !strncasecmp(line0, ".title", 6);
    const char *tline = NULL;
    for (size_t i = 0; i < nl->n; i++)
        if (own_title(nl, i, top))
            tline = skip_ws(nl->lines[i].text + strcspn(nl->lines[i].text, " \t"));
    d->title = tline ? strdup(tline) : ngspice_case(safe0 ? line0 : UNSAFE_TITLE);
    if (!d->title) {
        rc = SS_ENOMEM;
        goto out;
    }

    if ((rc = push(d, safe0 ? line0 : UNSAFE_TITLE, 0, 0)))
        goto out;
    size_t k = 0;
    for (size_t i = 1; i + 1 < nl->n && !rc; i++) {
        const char *t = nl->lines[i].text;
        const char *s = skip_ws(t);
        int is_cmd = k < ncmd && cmd[k].i == i;
        if (is_cmd && k == 0) {
            rc = push(d, "*# echo " ENGI_MARK_CONTROLS, 0, NO_ORIGIN);
            if (!rc && wrap)
                rc = push(d, "*# dowhile 0", 0, NO_ORIGIN);
            if (rc)
                break;
        }
        if (!strncasecmp(s, ".title", 6) && !own_title(nl, i, top)) {
            /* inp_read turns the line into a comment: "*title ..." */
            rc = push(d, str_printf("*%s", s + 1, NULL), 1, i);
        } else if (is_cmd && truncate && k > first_quit) {
            rc = push(d, str_printf("*%s", t, NULL), 1, i);
        } else {
            rc = push(d, t, 0, i);
            if (!rc && is_cmd) {
                char w[32];
                first_word(command_text(nl, &cmd[k]), w, sizeof w);
                if (wrap && is_quit(w)) {
                    char brk[64];
                    snprintf(brk, sizeof brk, "*# break %d", cmd[k].loops + 1);
                    rc = push(d, brk, 0, NO_ORIGIN);
                }
            }
        }
        if (is_cmd) {
            k++;
            if (k == ncmd && wrap && !rc)
                rc = push(d, "*# end", 0, NO_ORIGIN);
        }
    }

    /* batch-mode facts about the circuit part */
    int in_control = 0;
    for (size_t i = 1; i + 1 < nl->n; i++) {
        const char *t = nl->lines[i].text;
        int kind = ss_netlist_classify(t);
        if (kind == SS_NETLIST_CONTROL)
            in_control = 1;
        else if (kind == SS_NETLIST_ENDC)
            in_control = 0;
        const char *s = skip_ws(t);
        if (!in_control && is_dotarg(s))
            d->dotargs = 1;
        /* .option autostop / option autostop / set autostop */
        if (strcasestr(s, "autostop") &&
            (!strncasecmp(s, ".opt", 4) || (in_control && (!strncasecmp(s, "option", 6) ||
                                                           !strncasecmp(s, "set", 3)))))
            d->autostop = 1;
    }
    d->analysis = ss_netlist_analysis(nl, NULL) != NULL;

    /* measurements and their full-precision companions */
    d->meas = ml;
    d->nmeas = nml;
    ml = NULL;
    nml = 0;
    if (d->nmeas && !(d->companion = calloc(d->nmeas, sizeof *d->companion)))
        rc = SS_ENOMEM;
    for (size_t m = 0; m < d->nmeas && !rc; m++) {
        const ss_netlist_meas *ms = &d->meas[m];
        char line[256];
        if (ms->param || !plain_name(ms->name) ||
            snprintf(line, sizeof line, ".meas %s %s%zu param='%s'", ms->analysis, ENGI_COMPANION,
                     d->ncompanion, ms->name) >= (int)sizeof line)
            continue;
        d->companion[d->ncompanion++] = m;
        rc = push(d, line, 0, NO_ORIGIN);
    }
    /* a last PARAM line per analysis marks the end of its printout (ngspice
     * prints the results in deck order and no empty lines reach SendChar) */
    for (size_t m = 0; m < d->nmeas && !rc; m++) {
        size_t first = 0;
        while (first < m && strcmp(d->meas[first].analysis, d->meas[m].analysis))
            first++;
        char line[128];
        if (first == m && snprintf(line, sizeof line, ".meas %s %s param='1'", d->meas[m].analysis,
                               ENGI_MEAS_END) < (int)sizeof line)
            rc = push(d, line, 0, NO_ORIGIN);
    }
    if (!rc)
        rc = push(d, ".end", 0, nl->n - 1);
out:
    free(cmd);
    ss_netlist_meas_free(ml, nml);
    if (rc) {
        engi_deck_release(d);
        if (rc == SS_ENOMEM)
            return ss_error_set(err, rc, "out of memory");
    }
    return rc;
}
