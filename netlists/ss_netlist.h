/* ss_netlist.h: SPICE netlists as text: reading with include expansion,
 * screening of untrusted input, and origin tracking for "file:line" errors.
 *
 * netlists/ is pure text: it never runs a simulator.  The engine (cosim/)
 * takes an ss_netlist and hands its lines to ngspice. */
#ifndef SS_NETLIST_H
#define SS_NETLIST_H

#include <stddef.h>

#include "util/ss_util.h"

/* What an untrusted netlist may do.  By default (flags 0) a netlist is a
 * circuit and nothing else: no control blocks or '*#' command lines, no
 * backquotes, includes and code-model/CIDER file parameters only below the
 * netlist's own folder and the trusted folders (SS_NETLIST_INCLUDE_ENV,
 * which the CLI's --include-dir extends), and engines run it inside the
 * OS sandbox (ss_util_sandbox_enter).  Each flag opens one thing. */
enum ss_netlist_flags {
    /* Let .control blocks, '*#' command lines and backquotes through (they
     * still run inside the sandbox unless SS_NETLIST_NO_SANDBOX). */
    SS_NETLIST_ALLOW_CONTROL = (1 << 0),
    /* Let .include/.lib and file parameters reach any file. */
    SS_NETLIST_ALLOW_ANY_INCLUDE = (1 << 1),
    /* Run without the OS sandbox (fully trusted netlists). */
    SS_NETLIST_NO_SANDBOX = (1 << 2),
    /* The text has no title line (a body of netlist lines, such as a
     * SPICE tile): its first line is screened like every other; lines[0]
     * becomes an empty title. */
    SS_NETLIST_BODY = (1 << 3),
};

/* Colon-separated trusted folders (a PDK root, a model library), readable
 * by every netlist like its own folder. */
#define SS_NETLIST_INCLUDE_ENV "SMALLSIM_INCLUDE_PATH"

/* How ngspice 39's front end treats a line (leading white space skipped,
 * prefixes case-insensitive, as its reader does; see netlists/screen.c). */
enum ss_netlist_kind {
    SS_NETLIST_OTHER = 0, /* a circuit line: element, .model, .param, analysis, ... */
    SS_NETLIST_BLANK,
    SS_NETLIST_COMMENT,   /* '*' not followed by '#' */
    SS_NETLIST_COMMAND,   /* '*#...': run as a front-end command */
    SS_NETLIST_CONTROL,   /* '.control...': opens a section of commands */
    SS_NETLIST_ENDC,      /* '.endc...' */
    SS_NETLIST_INCLUDE,   /* '.inc...': ngspice reads the named file */
    SS_NETLIST_LIB,       /* '.lib...': a library section (definition or reference) */
    SS_NETLIST_ENDL,      /* '.endl...' */
    SS_NETLIST_END,       /* '.end' alone or before white space: the deck ends */
};
int ss_netlist_classify(const char *line);

/* One physical line of the expanded deck and where it came from. */
typedef struct ss_netlist_line {
    char *text;       /* without the newline */
    const char *file; /* points into ss_netlist.files; "<string>" for memory input */
    int line;         /* 1-based line number in `file` */
} ss_netlist_line;

typedef struct ss_netlist {
    ss_netlist_line *lines; /* lines[0] is the title line */
    size_t n, cap;
    char **files; /* every file read (the netlist, then its includes) */
    size_t nfiles;
    char *dir; /* folder of the top-level file (absolute), "" for memory input */
    unsigned flags; /* the enum ss_netlist_flags it was read with */
    char **roots;   /* folders it may read (absolute, ending in '/'): its own
                     * folder, then the trusted folders */
    size_t nroots;
} ss_netlist;

#define SS_NETLIST_INIT {NULL, 0, 0, NULL, 0, NULL, 0, NULL, 0}

/* Reads `path`, expands every include and library line (relative to the
 * including file; refused outside nl->roots unless
 * SS_NETLIST_ALLOW_ANY_INCLUDE; only regular files),
 * reads on past .end as ngspice does (every .end line is dropped and one
 * closes the deck), and screens the
 * result (see ss_netlist_screen).  On failure `nl` is left empty and the
 * message reads "file:line: what is wrong". */
int ss_netlist_read_file(ss_netlist *nl, const char *path, unsigned flags, ss_error *err);

/* The same for a netlist held in memory; `name` is used in messages and
 * includes resolve against `dir` (NULL: the current directory). */
int ss_netlist_read_string(ss_netlist *nl, const char *text, const char *name,
                           const char *dir, unsigned flags, ss_error *err);

/* Refuses what would let a netlist act outside the simulation unless
 * `flags` allow it: control blocks, '*#' command lines, backquotes, and
 * include or library lines left unexpanded.  Called by the readers; exposed
 * for netlists built line by line. */
int ss_netlist_screen(const ss_netlist *nl, unsigned flags, ss_error *err);

/* Sets nl->roots to `dir` plus the folders of SS_NETLIST_INCLUDE_ENV
 * (folders that do not exist are skipped).  Called by the readers. */
int ss_netlist_set_roots(ss_netlist *nl, const char *dir);
/* 1 if absolute, resolved path `real` lies below one of nl->roots (or
 * nl->flags has SS_NETLIST_ALLOW_ANY_INCLUDE). */
int ss_netlist_trusted(const ss_netlist *nl, const char *real);
/* Checks every file parameter (file=, input_file=, state_file=, infile=,
 * ic.file=): the file ngspice will open (relative names against the
 * netlist's folder, which the engine passes to ngspice as
 * NGSPICE_INPUT_DIR) must be a regular file below nl->roots; CIDER values
 * are rewritten as absolute paths.  Refuses rootfile= (CIDER output files)
 * without SS_NETLIST_ALLOW_CONTROL.  Called by the readers. */
int ss_netlist_resolve_files(ss_netlist *nl, ss_error *err);

/* Refuses analysis lines that cannot give a result (netlists/analysis.c):
 * a .dc step of 0 (ngspice loops for ever) or of the wrong sign, an .ac
 * range that runs backwards (no points), and more points than
 * SS_LIMIT_STEPS (.tran stop / step, .dc and .ac points).  Values that are
 * expressions are left to ngspice.  SS_EINVAL with "file:line: ...".
 * Called by the readers. */
int ss_netlist_check_analyses(const ss_netlist *nl, ss_error *err);

/* Appends one line with the given origin (the text is copied). */
int ss_netlist_append(ss_netlist *nl, const char *text, const char *file, int line);

/* Replaces line i's text (copied). */
int ss_netlist_set_line(ss_netlist *nl, size_t i, const char *text);

/* The first analysis line (.tran/.ac/.dc/.op/.noise/.tf/.sens/.pz/.disto/.sp)
 * or NULL.  *tstop receives the stop time of the .tran line when there is
 * one and it is a plain number (else NAN). */
const ss_netlist_line *ss_netlist_analysis(const ss_netlist *nl, double *tstop);

/* The whole deck as one newline-joined string (caller frees). */
char *ss_netlist_join(const ss_netlist *nl);

void ss_netlist_release(ss_netlist *nl);

/* ==== templating (netlists/template.c) ===================================
 * Statement-level views and edits of an in-memory deck, for sweeps.  A
 * statement is a line plus its '+' continuation lines (comment and blank
 * lines may sit between them); inline comments (" $", ";", "//") are
 * ignored.  Only top-level statements count: .param and instances inside
 * .subckt ... .ends are local to the subcircuit.  Edits rewrite the deck in
 * memory only; the user's file is never touched.  Errors read
 * "file:line: message". */

/* One top-level .param assignment as written. */
typedef struct ss_netlist_param {
    char *name;       /* as written, e.g. "Rload" */
    char *value;      /* as written, e.g. "1k", "{2*r0}" */
    const char *file; /* origin of the statement (points into nl->files) */
    int line;
} ss_netlist_param;

/* The statement that starts at line `i` joined into one heap string
 * (continuations appended with one space, inline comments removed) in
 * *text; *next receives the index of the line after the statement.  Lines
 * that start no statement (comments, blanks, stray '+') give "" (still
 * heap).  SS_EINVAL when i is out of range. */
int ss_netlist_statement(const ss_netlist *nl, size_t i, char **text, size_t *next);

/* The tokens of a statement (from ss_netlist_statement) as ngspice's reader
 * splits it: braces, parentheses and quotes group ("{a + b}", "pwl(0 0 1u
 * 1)" are one token each) and the spaces around a lone '=' are dropped
 * ("w = 1u" gives "w=1u").  *tokens is a heap array of *n heap strings;
 * free with ss_netlist_names_free. */
int ss_netlist_tokens(const char *statement, char ***tokens, size_t *n);

/* Every top-level .param assignment in deck order (*params is a heap array
 * of *n entries; free with ss_netlist_params_free). */
int ss_netlist_params(const ss_netlist *nl, ss_netlist_param **params, size_t *n,
                      ss_error *err);
void ss_netlist_params_free(ss_netlist_param *params, size_t n);

/* Names of the .subckt definitions, and of the .meas/.measure results the
 * deck defines (top level), in deck order.  Free with ss_netlist_names_free. */
int ss_netlist_subckts(const ss_netlist *nl, char ***names, size_t *n, ss_error *err);
int ss_netlist_measures(const ss_netlist *nl, char ***names, size_t *n, ss_error *err);
void ss_netlist_names_free(char **names, size_t n);

/* One top-level .meas statement: its analysis ("tran", "ac", "dc", "sp")
 * and name in lower case, as ngspice prints them, whether it is a PARAM or
 * EXPR measurement (computed from other results), and its line index. */
typedef struct ss_netlist_meas {
    char *analysis, *name;
    int param;
    size_t line;
} ss_netlist_meas;
/* Every top-level .meas statement in deck order (duplicates kept). */
int ss_netlist_meas_list(const ss_netlist *nl, ss_netlist_meas **list, size_t *n, ss_error *err);
void ss_netlist_meas_free(ss_netlist_meas *list, size_t n);

/* Sets a value in the deck.  `target` is matched case-insensitively:
 *   "NAME"      a top-level .param NAME;
 *   "R1"        an instance's value: R/C/L the value after the two nodes
 *               (or its r=/c=/l= form), V/I the DC value;
 *   "M1:w"      an instance parameter key=value (replaced, or appended
 *               when the instance has no such key), e.g. "X1:gain".
 * .param names win over instance names.  `value` must be one SPICE token
 * (a number or {expression}, no spaces).  SS_ENOTFOUND if nothing matches,
 * SS_EPARSE (file:line) when the statement has no such value. */
int ss_netlist_override(ss_netlist *nl, const char *target, const char *value, ss_error *err);

/* Adds ".meas LINE" before .end; `meas` is the text after ".meas", e.g.
 * "tran vend FIND v(out) AT=100u".  *name (may be NULL) receives the
 * measurement's name as a heap string.  SS_EINVAL for a malformed line. */
int ss_netlist_add_meas(ss_netlist *nl, const char *meas, char **name, ss_error *err);

/* Inserts one line (copied) before .end, or at the end when there is no
 * .end; *index (may be NULL) receives its position. */
int ss_netlist_add_line(ss_netlist *nl, const char *text, size_t *index, ss_error *err);

/* ==== end of templating ================================================== */

/* ==== parameter expressions (netlists/expr.c) ============================= */

/* Value of parameter `name` (as written, any case); SS_OK or SS_ENOTFOUND. */
typedef int (*ss_netlist_lookup)(void *user, const char *name, double *value);

/* Evaluates a parameter value as ngspice does: `text` is a SPICE number
 * ("1.5u"), or an expression, bare or in {braces} or 'quotes', of numbers,
 * parameters (through `lookup`, may be NULL; `pi` is built in), + - * / %
 * ^ ** (power binds tighter than unary minus), == != < <= > >=, && || !,
 * c ? a : b, parentheses and the functions sqrt exp ln log (natural) log10
 * abs sin cos tan asin acos atan sinh cosh tanh floor ceil int nint sgn
 * pow pwr min max hypot atan2.  Errors: SS_EPARSE (malformed, unknown
 * function), SS_ENOTFOUND (unknown parameter), SS_ENUMERIC (not finite);
 * messages quote the expression. */
int ss_netlist_eval(const char *text, ss_netlist_lookup lookup, void *user, double *value,
                    ss_error *err);

/* ==== generators (netlists/crossbar.c) ===================================== */

/* The canonical crossbar as an ngspice netlist (see cosim/crossbar/ss_crossbar.h,
 * the canonical topology): word line i driven by VIN<i> through RS<i>, wire segments
 * RW..., bit lines ending in RSE<j> and the 0 V ammeter VSENSE<j>, whose
 * current i(vsense<j>) is the output of column j.  Resistances of 0 merge
 * the nodes instead of writing 0-ohm resistors. */
typedef struct ss_netlist_crossbar {
    size_t rows, cols;
    double rwire, rsource, rsense;
    /* Cells: either conductances (rows x cols, siemens; 0 leaves the cell
     * open) or a two-terminal subcircuit: `cell_subckt` is its .subckt text
     * and `cell_name` its name; `cell_params` (may be NULL) is appended to
     * every instance line, and cell_x0 (rows x cols, may be NULL) holds
     * each instance's state node "xs" at x0 for the operating point
     * (".ic v(xc<i>_<j>.xs)=x0"). */
    const double *g;
    const char *cell_subckt, *cell_name, *cell_params;
    const double *cell_x0;
    /* Sources: `sources[i]` is the value text of VIN<i> ("DC 0.1",
     * "PWL(...)"); if NULL, `v[i]` gives DC values. */
    const char *const *sources;
    const double *v;
    const char *analysis; /* ".op", ".tran 1n 10u", ... */
    const char *options;  /* extra lines (may be NULL), e.g. ".options reltol=1e-6" */
    /* With `exprs`, word line i is driven by the behavioural source
     * "BIN<i> node 0 V = <exprs[i]>" instead of VIN<i> (a crossbar inside a
     * larger circuit).  With `body_only`, no title, analysis or .end. */
    const char *const *exprs;
    int body_only;
    /* `bit_sources[j]` (may be NULL: all "DC 0") is the value text of
     * VSENSE<j>, the source at the end of bit line j: writes drive bit lines
     * too ("PWL(...)"); i(vsense<j>) stays the column's current. */
    const char *const *bit_sources;
} ss_netlist_crossbar;

/* Appends the netlist text to `out`. */
int ss_netlist_crossbar_write(const ss_netlist_crossbar *xb, ss_buf *out, ss_error *err);

#endif
