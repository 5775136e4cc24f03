/* fuzz_screen.c: the screen's invariant, not only memory safety.  Whatever
 * the reader accepts in default mode must hold nothing that ngspice 39
 * would run as a command or read as a file.  The check below is written
 * from ngspice's rules again (frontend/inp.c, inpcom.c; see
 * netlists/screen.c), independently of ss_netlist_classify, so that a
 * mistake in one shows up against the other.  Includes resolve against a
 * folder that does not exist, so every file reference must have been
 * refused. */
#include <ctype.h>
#include <strings.h>

#include "fuzz/fuzz.h"
#include "netlists/ss_netlist.h"

static int ident(int c)
{
    return isalnum(c) || c == '_' || c == '.';
}

/* A file parameter assignment anywhere in the line. */
static int has_file_param(const char *s)
{
    static const char *const names[] = {"file",   "input_file", "state_file",
                                        "infile", "ic.file",    "rootfile"};
    for (const char *p = s; *p;) {
        if (!ident((unsigned char)*p)) {
            p++;
            continue;
        }
        const char *q = p;
        while (ident((unsigned char)*q))
            q++;
        const char *r = q;
        while (*r && isspace((unsigned char)*r))
            r++;
        for (size_t k = 0; *r == '=' && k < sizeof names / sizeof names[0]; k++)
            if (strlen(names[k]) == (size_t)(q - p) && !strncasecmp(p, names[k], (size_t)(q - p)))
                return 1;
        p = q;
    }
    return 0;
}

static void check_line(const char *line)
{
    const char *t = line;
    while (*t && isspace((unsigned char)*t)) /* create_circbyline */
        t++;
    if (t[0] == '*' && t[1] == '#')            /* inp_spsource: a command */
        __builtin_trap();
    if (!strncasecmp(t, ".control", 8))        /* a command section */
        __builtin_trap();
    if (!strncasecmp(t, ".inc", 4) || !strncasecmp(t, ".lib", 4)) /* a file read */
        __builtin_trap();
    if (t[0] != '*' && strchr(t, '`'))         /* command substitution */
        __builtin_trap();
    if (t[0] != '*' && has_file_param(t))      /* a code-model file */
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    if (!text)
        return 0;
    ss_netlist nl = SS_NETLIST_INIT;
    if (ss_netlist_read_string(&nl, text, "fuzz.cir", "/nonexistent-ss-fuzz", 0, NULL) == SS_OK) {
        /* lines[0] is the title, which the engine replaces by its own */
        for (size_t i = 1; i < nl.n; i++)
            check_line(nl.lines[i].text);
        ss_netlist_release(&nl);
    }
    free(text);
    return 0;
}
