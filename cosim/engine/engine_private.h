/* engine_private.h: internals shared by the files of cosim/engine/ (prefix
 * engi_; not installed). */
#ifndef SS_ENGINE_PRIVATE_H
#define SS_ENGINE_PRIVATE_H

#include "cosim/engine/ss_engine.h"

#define ENGI_HIDDEN __attribute__((visibility("hidden")))

/* deck.c: the deck the engine hands to ngspice (see there).  The marker
 * lines are printed by ngspice's echo: the commands begin; quit N. */
#define ENGI_MARK_CONTROLS "smallsim:controls"
#define ENGI_MARK_QUIT "smallsim:quit"
#define ENGI_COMPANION "smallsim_meas_"
#define ENGI_MEAS_END ENGI_COMPANION "end"
typedef struct engi_deck {
    char **lines;     /* NULL-terminated, for ngSpice_Circ */
    size_t n, cap;
    size_t *origin;   /* netlist line of deck line i; SIZE_MAX for added lines */
    char *title;      /* the netlist's title as ngspice -b reads it */
    ss_netlist_meas *meas; /* the .meas lines in deck order */
    size_t nmeas;
    size_t *companion; /* companion k reads measurement meas[companion[k]] */
    size_t ncompanion;
    int commands;     /* the deck has front-end commands (.control, '*#') */
    int dotargs;      /* .plot/.print/.four/.meas/.op/.tf: ngspice -b runs it */
    int autostop;     /* option autostop: a transient may end before tstop */
    int analysis;     /* the circuit part has an analysis line */
} engi_deck;
ENGI_HIDDEN int engi_deck_build(engi_deck *d, const ss_netlist *nl, ss_error *err);
ENGI_HIDDEN void engi_deck_release(engi_deck *d);

/* The process's open engine, or NULL (a forked child inherits it). */
ENGI_HIDDEN ss_engine *engi_current_engine(void);
/* Removes the private folder that this process made for the engine (its
 * empty .spiceinit and the folder), for a child about to _exit without
 * ss_engine_free; a folder inherited or given by the caller stays. */
ENGI_HIDDEN void engi_drop_workdir(ss_engine *e);

#endif
