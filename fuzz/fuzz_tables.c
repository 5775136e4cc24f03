/* fuzz_tables.c: numeric tables: measured I-V data for fitting (text in
 * memory) and the crossbar's matrix CSV files (G.csv, V.csv). */
#include "fit/ss_fit.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_fit_read_options ro = SS_FIT_READ_OPTIONS_INIT;
    ss_error err;
    if (ss_fit_data_parse(&d, text, "fuzz.csv", &ro, &err) == SS_OK)
        ss_fit_data_release(&d);
    free(text);
    const char *path = fuzz_file(data, size, "m.csv");
    double *m = NULL;
    size_t rows, cols;
    for (int spice = 0; path && spice < 2; spice++)
        if (ss_util_read_matrix(path, spice, &m, &rows, &cols, &err) == SS_OK)
            free(m);
    return 0;
}
