/* cosim_private.h: shared between cosim/ files only (not installed). */
#ifndef SS_COSIM_PRIVATE_H
#define SS_COSIM_PRIVATE_H

#include "cosim/ss_cosim.h"

/* The process's open engine, or NULL (a forked child inherits it). */
ss_engine *ss_cosim_current_engine(void);

#endif
