/* replay.c: runs a fuzz target over files and folders of inputs (a corpus),
 * so `make check` exercises every parser on every input a fuzzer kept,
 * under the sanitizers when the build has them.  Prints a count. */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz/fuzz.h"

static int replay_file(const char *path, size_t *count)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fprintf(stderr, "replay: cannot open '%s'\n", path), 1;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (size_t r; buf && (r = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += r;
        if (n == cap) {
            uint8_t *b = realloc(buf, cap *= 2);
            if (!b)
                free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf)
        return fprintf(stderr, "replay: out of memory on '%s'\n", path), 1;
    LLVMFuzzerTestOneInput(buf, n);
    free(buf);
    ++*count;
    return 0;
}

int main(int argc, char **argv)
{
    size_t count = 0;
    int rc = 0;
    for (int a = 1; a < argc; a++) {
        struct stat st;
        if (stat(argv[a], &st))
            return fprintf(stderr, "replay: cannot open '%s'\n", argv[a]), 1;
        if (!S_ISDIR(st.st_mode)) {
            rc |= replay_file(argv[a], &count);
            continue;
        }
        struct dirent **ents;
        int m = scandir(argv[a], &ents, NULL, alphasort);
        for (int k = 0; k < m; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], ents[k]->d_name);
            if (ents[k]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode))
                rc |= replay_file(path, &count);
            free(ents[k]);
        }
        free(ents);
    }
    printf("%s: %zu inputs replayed\n", argv[0], count);
    return rc;
}
