/* circuits_private.h: shared between circuits/ files only (circi_ prefix,
 * hidden from the shared library's exports). */
#ifndef SS_CIRCUITS_PRIVATE_H
#define SS_CIRCUITS_PRIVATE_H

#include "circuits/ss_circuits.h"
#include "netlists/ss_netlist.h"

#define CIRCI_HIDDEN __attribute__((visibility("hidden")))

typedef struct circi_file {
    const char *name;
    const char *text;
} circi_file;

/* Generated from circuits/lib/ (embed.awk); ends with {0, 0}. */
CIRCI_HIDDEN extern const circi_file circi_files[];

/* The library circuit whose bench a circuit uses (its own name, or `like`). */
CIRCI_HIDDEN const char *circi_base(const ss_circuit_info *ci);
/* Its subcircuit text (embedded, or a designer's); NULL if none. */
CIRCI_HIDDEN const char *circi_text(const ss_circuit_info *ci);
/* Netlist flags a config needs (designer cards outside the cwd). */
CIRCI_HIDDEN unsigned circi_flags(const ss_circuit_config *cfg);
/* Appends the model cards (shipped or the designer's) and .options. */
CIRCI_HIDDEN int circi_models(const ss_circuit_config *cfg, ss_buf *b, ss_error *err);
/* Appends the supplies (vdd, vddb) and the biases (diodes or voltages). */
CIRCI_HIDDEN int circi_supplies(const ss_circuit_config *cfg, ss_buf *out, ss_error *err);
/* The model name of the bench's own nFETs (pfet 0) or pFETs (1). */
CIRCI_HIDDEN int circi_model_name(const ss_circuit_config *cfg, int pfet, char out[64],
                                  ss_error *err);
/* Appends the circuit's subcircuit, nominal (tiles instantiate it many
 * times; a bench gives each instance its shifts through parameters). */
CIRCI_HIDDEN int circi_subckt(ss_buf *b, const ss_circuit_config *cfg, ss_error *err);

/* ---- a netlist as statements (parse.c) ------------------------------------ */

/* Parameters by name: a subcircuit's (defaults, instance values, local
 * .param) over the global ones (up).  A parameter that could not be
 * evaluated keeps the reason in why[]. */
typedef struct circi_scope {
    const struct circi_scope *up;
    char **name;
    double *val;
    char **why;
    size_t n, cap;
} circi_scope;

typedef struct circi_stmt {
    char *text;   /* the statement, continuation lines joined */
    char **tok;   /* its tokens (ss_netlist_tokens) */
    size_t ntok;
    size_t line;  /* index of its first line in the netlist */
    int def;      /* enclosing .subckt definition, -1: the top level */
    int control;  /* inside .control ... .endc */
} circi_stmt;

typedef struct circi_def {
    char *name;
    size_t open, close; /* statements .subckt and .ends */
    int parent;         /* enclosing definition, -1: none */
} circi_def;

typedef struct circi_deck {
    const ss_netlist *nl;
    circi_stmt *st; /* every statement but the title, comments and blank lines */
    size_t n;
    circi_def *def;
    size_t ndef;
    circi_scope global; /* the top-level .param values */
} circi_deck;

CIRCI_HIDDEN int circi_deck_parse(const ss_netlist *nl, circi_deck *d, ss_error *err);
CIRCI_HIDDEN void circi_deck_free(circi_deck *d);
/* Origin of statement s. */
CIRCI_HIDDEN const char *circi_stmt_file(const circi_deck *d, size_t s);
CIRCI_HIDDEN int circi_stmt_line(const circi_deck *d, size_t s);
/* Index of .subckt `name` (any case), -1 if none. */
CIRCI_HIDDEN int circi_def_find(const circi_deck *d, const char *name);
CIRCI_HIDDEN void circi_scope_free(circi_scope *s);
/* Value of an expression in a scope (ss_netlist_eval with its parameters). */
CIRCI_HIDDEN int circi_eval(const circi_scope *s, const char *text, double *v, ss_error *err);
/* The subcircuit name of an X statement (*pfirst: its first parameter
 * token); NULL if none. */
CIRCI_HIDDEN const char *circi_instance_subckt(const circi_stmt *s, size_t *pfirst);
/* First parameter token of a .subckt statement. */
CIRCI_HIDDEN size_t circi_subckt_params(const circi_stmt *s);
/* Value text of key=value among the tokens from `first` on, NULL if absent. */
CIRCI_HIDDEN const char *circi_token_value(const circi_stmt *s, size_t first, const char *key);
/* Mismatch slots of definition `def` (-1: the top level): its transistors
 * and, recursively, those of its instances. */
CIRCI_HIDDEN int circi_slots(const circi_deck *d, int def, size_t *n, int depth, ss_error *err);

/* One transistor of the flattened circuit. */
typedef struct circi_dev {
    char path[96];  /* instance path, lower case: "x1.mi1" */
    size_t stmt;    /* its statement */
    double w, l, m; /* metres, multiplier */
    int ok;         /* sizes evaluated */
    char why[200];  /* why not */
} circi_dev;

/* Every transistor below definition `root` (-1: the top level), its sizes
 * evaluated in its instance's parameters, in slot order, with `prefix`
 * before each path.  *dev is a heap array. */
CIRCI_HIDDEN int circi_devices(const circi_deck *d, int root, const char *prefix,
                               circi_dev **dev, size_t *n, ss_error *err);

#define CIRCI_MAX_MODELS 64
/* Model names a deck's cards define (binned "n18.1".."n18.9" count once as
 * "n18"), lower case; kind 0 nmos, 1 pmos, 2 other. */
typedef struct circi_models_found {
    size_t n;
    char name[CIRCI_MAX_MODELS][64];
    int kind[CIRCI_MAX_MODELS];
} circi_models_found;
CIRCI_HIDDEN int circi_models_of(const circi_deck *d, circi_models_found *m);
CIRCI_HIDDEN int circi_model_known(const circi_models_found *m, const char *name);

/* ---- benches (bench.c) ------------------------------------------------------ */

/* How a run starts. */
enum { CIRCI_START_PLAIN = 0, CIRCI_START_KICK = 1 };

/* The test bench as a netlist whose lines keep their origins (a designer's
 * lines point at the designer's file). */
CIRCI_HIDDEN int circi_bench(const ss_circuit_config *cfg, double input, double tstop,
                             double tmax, int start, ss_netlist *out, ss_error *err);
/* The vector name of the reset node ("v(x1.vrst)"), "" when the circuit
 * has none. */
CIRCI_HIDDEN int circi_reset_vector(const ss_circuit_config *cfg, char *out, size_t size,
                                    ss_error *err);
/* Checks what can be checked before any run: the circuit's transistors
 * use models the cards define, the bench's own devices find theirs. */
CIRCI_HIDDEN int circi_check(const ss_circuit_config *cfg, ss_error *err);

#endif
