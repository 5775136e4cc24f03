/* cosim_private.h: shared between cosim/ files only (not installed). */
#ifndef SS_COSIM_PRIVATE_H
#define SS_COSIM_PRIVATE_H

#include "cosim/ss_cosim.h"

#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sundials/sundials_version.h>

/* SUNContext_Create's communicator: SUNDIALS 6 (Debian 12) takes a void *,
 * 7 has SUN_COMM_NULL. */
#if SUNDIALS_VERSION_MAJOR < 7
#define SS_SUN_COMM_NULL NULL
#else
#define SS_SUN_COMM_NULL SUN_COMM_NULL
#endif

#define SSI_HIDDEN __attribute__((visibility("hidden")))

/* deck.c: the deck the engine hands to ngspice (see there).  The marker
 * lines are printed by ngspice's echo: the commands begin; quit N. */
#define SSI_MARK_CONTROLS "smallsim:controls"
#define SSI_MARK_QUIT "smallsim:quit"
#define SSI_COMPANION "smallsim_meas_"
typedef struct ssi_deck {
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
} ssi_deck;
SSI_HIDDEN int ssi_deck_build(ssi_deck *d, const ss_netlist *nl, ss_error *err);
SSI_HIDDEN void ssi_deck_release(ssi_deck *d);

/* The process's open engine, or NULL (a forked child inherits it). */
ss_engine *ss_cosim_current_engine(void);

/* A serial N_Vector of length n whose arithmetic runs as plain loops
 * compiled with smallsim (Debian's kernels are several times slower);
 * clones share the ops; destroy with N_VDestroy.  NULL on failure. */
N_Vector ss_cosim_nvector(size_t n, SUNContext ctx);

#endif
