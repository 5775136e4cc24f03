/* pool_private.h: internals shared by the files of pool/ (prefix pooli_). */
#ifndef SS_POOL_PRIVATE_H
#define SS_POOL_PRIVATE_H

#include "pool/ss_pool.h"

#define POOLI_HIDDEN __attribute__((visibility("hidden")))

/* mpi.c: the remote side of a pool made by ss_pool_alloc_ranks (rank 0
 * only; NULL without MPI, on one rank, or once released). */
typedef struct pooli_ranks pooli_ranks;
POOLI_HIDDEN pooli_ranks *pooli_ranks_alloc(int workers);
/* Sends a job to a rank with room: 1 when sent, 0 when every rank is full. */
POOLI_HIDDEN int pooli_ranks_send(pooli_ranks *r, uint64_t id, const char *req, size_t len);
/* A job of a rank that was given up (silent past the deadline), to run
 * again: 1 when there was one (*req is the caller's to free). */
POOLI_HIDDEN int pooli_ranks_lost(pooli_ranks *r, uint64_t *id, char **req, size_t *len);
/* A finished remote job into *out: 1 when there was one. */
POOLI_HIDDEN int pooli_ranks_poll(pooli_ranks *r, ss_pool_reply *out);
POOLI_HIDDEN size_t pooli_ranks_outstanding(const pooli_ranks *r);
/* Jobs the other ranks run at once. */
POOLI_HIDDEN size_t pooli_ranks_capacity(const pooli_ranks *r);
/* Tells the ranks to stop serving and frees r. */
POOLI_HIDDEN void pooli_ranks_free(pooli_ranks *r);

#endif
