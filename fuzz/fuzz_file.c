/* fuzz_file.c: fuzz_file() for the targets whose parsers read files. */
#include "fuzz/fuzz.h"

#include <stdio.h>
#include <unistd.h>

const char *fuzz_file(const uint8_t *data, size_t size, const char *name)
{
    static char dir[64], path[128];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ss-fuzz-%ld-XXXXXX", (long)getpid());
        if (!mkdtemp(dir)) {
            dir[0] = 0;
            return NULL;
        }
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    size_t w = fwrite(data, 1, size, f);
    if (fclose(f) || w != size)
        return NULL;
    return path;
}
