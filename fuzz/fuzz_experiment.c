/* fuzz_experiment.c: experiment files (YAML) up to a built network, which is
 * not run. */
#include "cosim/experiment/ss_experiment.h"
#include "cosim/network/ss_network.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size, "exp.yaml");
    ss_network *net = NULL;
    ss_experiment exp;
    ss_error err;
    if (path && ss_experiment_load(path, -1, &net, &exp, &err) == SS_OK)
        ss_network_free(net);
    return 0;
}
