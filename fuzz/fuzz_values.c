/* fuzz_values.c: the small parsers of command-line values: SPICE numbers,
 * sweep axes (without file: axes, which read files), device parameter
 * lists. */
#include "devices/ss_devices.h"
#include "fuzz/fuzz.h"
#include "sweep/ss_sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    double v;
    ss_util_parse_spice_number(text, &v);
    ss_util_parse_double(text, &v);
    ss_error err;
    if (strncmp(text, "file:", 5) != 0) {
        ss_sweep_axis ax;
        if (ss_sweep_axis_parse(&ax, text, &err) == SS_OK)
            ss_sweep_axis_release(&ax);
    }
    ss_device d;
    ss_device_init(&d, ss_device_yakopcic);
    ss_device_set_list(&d, text, &err);
    free(text);
    return 0;
}
