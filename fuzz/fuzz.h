/* fuzz.h: shared by the fuzz targets (fuzz/fuzz_*.c).  Each target defines
 * LLVMFuzzerTestOneInput; built with clang -fsanitize=fuzzer it is a
 * libFuzzer binary (make fuzz), built with replay.c it replays a corpus
 * (make check runs every target over fuzz/corpus/<target>/). */
#ifndef SS_FUZZ_H
#define SS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated heap string (NULL if out of memory). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = 0;
    }
    return s;
}

/* Writes the input to a file in a private folder (made once) and returns
 * its path, for parsers that read files; NULL on failure. */
const char *fuzz_file(const uint8_t *data, size_t size, const char *name);

#endif
