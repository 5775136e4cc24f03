/* fuzz_checkpoint.c: an optimizer's saved state (l2l checkpoints). */
#include "fuzz/fuzz.h"
#include "l2l/ss_l2l.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    ss_error err;
    ss_l2l_opt *o = ss_l2l_opt_load(text, "fuzz", &err);
    ss_l2l_opt_free(o);
    free(text);
    return 0;
}
