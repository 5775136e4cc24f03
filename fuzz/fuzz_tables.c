/* fuzz_tables.c: numeric tables: measured I-V data for fitting as
 * instruments export it (text in memory, several reader options), fit
 * parameter files, and the crossbar's matrix CSV files (G.csv, V.csv). */
#include "fit/ss_fit.h"
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    ss_fit_data d = SS_FIT_DATA_INIT;
    ss_error err;
    /* The reader with its defaults, and the paths options open: a sweep
     * without time with an offset, named scope channels with a sense
     * resistor, forced folding with decimation, a drive file. */
    for (int variant = 0; variant < 5; variant++) {
        ss_fit_read_options ro = SS_FIT_READ_OPTIONS_INIT;
        if (variant == 1)
            ro.step_time = 0.05, ro.offset_mode = SS_FIT_OFFSET_AUTO;
        if (variant == 2)
            ro.columns = "t,vsense,v", ro.sense_r = 100, ro.freq = 1e3;
        if (variant == 3)
            ro.fold = SS_FIT_FOLD_ON, ro.samples = 16, ro.sweep_rate = 1;
        if (variant == 4)
            ro.drive_only = 1, ro.current_scale = 1e-6, ro.series_column = 1;
        if (ss_fit_data_parse(&d, text, "fuzz.csv", &ro, &err) == SS_OK) {
            char *notes = NULL;
            if (ss_fit_data_check(&d, &err) == SS_OK)
                ss_fit_data_warnings(&d, &notes);
            free(notes);
            ss_fit_data_release(&d);
        }
    }
    /* Parameter files (JSON read as YAML). */
    ss_device dev;
    int pol;
    ss_fit_params_parse(text, "fuzz.json", &dev, &pol, &err);
    free(text);
    const char *path = fuzz_file(data, size, "m.csv");
    double *m = NULL;
    size_t rows, cols;
    for (int spice = 0; path && spice < 2; spice++)
        if (ss_util_read_matrix(path, spice, &m, &rows, &cols, &err) == SS_OK)
            free(m);
    return 0;
}
