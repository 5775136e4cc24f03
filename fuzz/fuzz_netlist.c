/* fuzz_netlist.c: the netlist reader and screen, then the statement and
 * .param views of whatever it accepted.  Includes resolve against a folder
 * that does not exist, so no file is read. */
#include "fuzz/fuzz.h"
#include "netlists/ss_netlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err;
    if (ss_netlist_read_string(&nl, text, "fuzz.cir", "/nonexistent-ss-fuzz", 0, &err) == SS_OK) {
        for (size_t i = 0, next; i < nl.n; i = next) {
            char *st = NULL;
            if (ss_netlist_statement(&nl, i, &st, &next) != SS_OK) {
                free(st);
                break;
            }
            free(st);
        }
        ss_netlist_param *params;
        size_t np;
        if (ss_netlist_params(&nl, &params, &np, &err) == SS_OK)
            ss_netlist_params_free(params, np);
        ss_netlist_release(&nl);
    }
    free(text);
    return 0;
}
