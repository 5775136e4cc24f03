/* ss_netlist.h: SPICE netlists as text: reading with include expansion,
 * screening of untrusted input, and origin tracking for "file:line" errors.
 *
 * netlists/ is pure text: it never runs a simulator.  The engine (cosim/)
 * takes an ss_netlist and hands its lines to ngspice. */
#ifndef SS_NETLIST_H
#define SS_NETLIST_H

#include <stddef.h>

#include "util/ss_util.h"

enum ss_netlist_flags {
    /* Let .control blocks (and with them shell, backquotes, write) through. */
    SS_NETLIST_ALLOW_CONTROL = (1 << 0),
    /* Let .include/.lib reach files outside the netlist's folder. */
    SS_NETLIST_ALLOW_ANY_INCLUDE = (1 << 1),
};

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
} ss_netlist;

#define SS_NETLIST_INIT {NULL, 0, 0, NULL, 0, NULL}

/* Reads `path`, expands .include/.inc/.lib (relative to the including file,
 * refused outside the top file's folder unless SS_NETLIST_ALLOW_ANY_INCLUDE),
 * drops everything after .end (and adds .end if missing), and screens the
 * result (see ss_netlist_screen).  On failure `nl` is left empty and the
 * message reads "file:line: what is wrong". */
int ss_netlist_read_file(ss_netlist *nl, const char *path, unsigned flags, ss_error *err);

/* The same for a netlist held in memory; `name` is used in messages and
 * includes resolve against `dir` (NULL: the current directory). */
int ss_netlist_read_string(ss_netlist *nl, const char *text, const char *name,
                           const char *dir, unsigned flags, ss_error *err);

/* Refuses what would let a netlist act outside the simulation: .control
 * blocks, backquote substitution.  Called by the readers; exposed for
 * netlists built line by line. */
int ss_netlist_screen(const ss_netlist *nl, unsigned flags, ss_error *err);

/* Appends one line with the given origin (the text is copied). */
int ss_netlist_append(ss_netlist *nl, const char *text, const char *file, int line);

/* Replaces line i's text (copied). */
int ss_netlist_set_line(ss_netlist *nl, size_t i, const char *text);

/* The first analysis line (.tran/.ac/.dc/.op/.noise/.tf/.sens/.pz/.disto/.sp)
 * or NULL.  For .tran, *tstop receives the stop time when it is a plain
 * number (else NAN). */
const ss_netlist_line *ss_netlist_analysis(const ss_netlist *nl, double *tstop);

/* The whole deck as one newline-joined string (caller frees). */
char *ss_netlist_join(const ss_netlist *nl);

void ss_netlist_release(ss_netlist *nl);

#endif
