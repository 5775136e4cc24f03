/* ss_cosim.h: the co-simulation layer, as one header (kept for one
 * release; new code includes the module it uses).
 *
 *   cosim/engine/ss_engine.h          ngspice through libngspice; results
 *   cosim/devsim/ss_devsim.h          one device under any drive (waves, PWL)
 *   cosim/crossbar/ss_crossbar.h      crossbar DC solves and transients
 *   cosim/network/ss_network.h        spiking networks
 *   cosim/experiment/ss_experiment.h  experiment files -> networks
 *
 * The library's own modules never include this header (scripts/check-layers.sh
 * enforces it); tests, benches and external programs may. */
#ifndef SS_COSIM_H
#define SS_COSIM_H

#include "cosim/crossbar/ss_crossbar.h"
#include "cosim/devsim/ss_devsim.h"
#include "cosim/engine/ss_engine.h"
#include "cosim/experiment/ss_experiment.h"
#include "cosim/network/ss_network.h"

#endif
