/* engine_private.h: internals shared by the files of cosim/engine/ (prefix
 * engi_; not installed). */
#ifndef SS_ENGINE_PRIVATE_H
#define SS_ENGINE_PRIVATE_H

#include "cosim/engine/ss_engine.h"

#define ENGI_HIDDEN __attribute__((visibility("hidden")))

/* The process's open engine, or NULL (a forked child inherits it). */
ENGI_HIDDEN ss_engine *engi_current_engine(void);

#endif
