/* circuits_private.h: shared between circuits/ files only (circi_ prefix,
 * hidden from the shared library's exports). */
#ifndef SS_CIRCUITS_PRIVATE_H
#define SS_CIRCUITS_PRIVATE_H

#include "circuits/ss_circuits.h"

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
/* Appends the supplies (vdd, vddb) and the bias diodes with their currents. */
CIRCI_HIDDEN int circi_supplies(const ss_circuit_config *cfg, ss_buf *out);
/* Appends the circuit's subcircuit (with the mismatch sample, if any). */
CIRCI_HIDDEN int circi_subckt(ss_buf *b, const ss_circuit_config *cfg, ss_error *err);

#endif
