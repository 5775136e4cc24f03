/* fuzz_circuit.c: a designer's circuit file (declaration, subcircuit or
 * deck, parameters, hierarchy), its mismatch walk and its test bench as
 * text; and the input as a parameter expression.  No simulation runs. */
#include "circuits/ss_circuits.h"
#include "fuzz/fuzz.h"
#include "netlists/ss_netlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    double v;
    ss_netlist_eval(text, NULL, NULL, &v, NULL);
    free(text);
    const char *path = fuzz_file(data, size, "circuit.cir");
    ss_error err;
    ss_circuit_info *ci = path ? ss_circuit_load(path, &err) : NULL;
    if (ci) {
        ss_circuit_config cfg;
        ss_circuit_config_init(&cfg, ci);
        cfg.avt = 4;
        cfg.sample = 1;
        ss_circuit_device *dev;
        size_t n;
        if (ss_circuit_mismatch(&cfg, &dev, &n, &err) == SS_OK)
            free(dev);
        ss_buf b = SS_BUF_INIT;
        ss_circuit_bench(&cfg, 1e-9, 1e-3, 1e-6, &b, &err);
        ss_buf_release(&b);
        ss_circuit_free(ci);
    }
    return 0;
}
