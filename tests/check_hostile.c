/* check_hostile.c: netlists written to escape, and what stops them.
 *
 * Every case is written into a folder of its own ("inside"); next to it an
 * "outside" folder holds a canary file, a numeric data file and an include
 * whose .control block would create a file there.  A case passes when it
 * is refused with file:line and a reason, when nothing new appears outside,
 * and when the canary's text and the data file's numbers never show up in
 * anything the run gives back.  Cases that the screen is told to let
 * through (--allow-control) must still fail to escape: the sandbox. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cosim/engine/ss_engine.h"
#include "tests/ss_test.h"

#define CANARY "CANARY-7731-SECRET"
#define DATUM 1.2345678e-3 /* the outside data file's values */

struct box {
    char in[512], out[512];
};

/* Two sibling folders; outside gets the bait. */
static void make_box(struct box *b)
{
    const char *base = ss_test_tmpdir();
    snprintf(b->in, sizeof b->in, "%s/inside", base);
    snprintf(b->out, sizeof b->out, "%s/outside", base);
    ck_assert_int_eq(mkdir(b->in, 0755), 0);
    ck_assert_int_eq(mkdir(b->out, 0755), 0);
    char text[1024];
    ss_test_write(b->out, "secret.txt", CANARY "\n");
    ss_test_write(b->out, "data.txt", "0 1.2345678e-3\n1e-3 1.2345678e-3\n1 1.2345678e-3\n");
    snprintf(text, sizeof text, ".control\nshell touch %s/pwned-inc\n.endc\nR9 a 0 1k\n", b->out);
    ss_test_write(b->out, "evil.inc", text);
    ss_test_write(b->out, "lib.lib", ".lib sect\nR8 a 0 1k\n.endl sect\n");
}

/* Number of entries in the outside folder (3 planted + the include = 4). */
static int outside_entries(const struct box *b)
{
    char out[4096];
    ss_test_sh(out, sizeof out, "ls -A %s | wc -l", b->out);
    return atoi(out);
}

/* Replaces @OUT@ and @IN@ in `tmpl`. */
static void expand(const struct box *b, const char *tmpl, char *dst, size_t n)
{
    size_t k = 0;
    for (const char *s = tmpl; *s && k + 1 < n;) {
        const char *rep = !strncmp(s, "@OUT@", 5) ? b->out : !strncmp(s, "@IN@", 4) ? b->in : NULL;
        if (rep) {
            k += (size_t)snprintf(dst + k, n - k, "%s", rep);
            s += strncmp(s, "@OUT@", 5) ? 4 : 5;
        } else {
            dst[k++] = *s++;
        }
    }
    dst[k < n ? k : n - 1] = '\0';
}

/* ---- the screen: cases refused in default mode ------------------------- */

struct hcase {
    const char *text; /* a netlist; @OUT@ is the outside folder, @IN@ its own */
    int line;         /* the line the refusal must name */
    const char *why;  /* part of the message */
};

#define CTL(prefix) {"t\nV1 a 0 1\nR1 a 0 1k\n" prefix "\nshell touch @OUT@/pwned\n.endc\n.op\n", 4, "control block"}
#define CMD(line) {"t\nV1 a 0 1\nR1 a 0 1k\n" line "\n.op\n", 4, "'*#'"}
#define INC(line, why) {"t\nV1 a 0 1\n" line "\n.op\n", 3, why}
#define FILEP(ln, line, why) {"t\nV1 a 0 1\n" line "\n.op\n", ln, why}

static const struct hcase screen_cases[] = {
    /* control blocks: any line that begins with .control, any case */
    CTL(".control"), CTL(".control;"), CTL(".controlx"), CTL(".control("), CTL(".CONTROLS"),
    CTL(".Control"), CTL("  .control"), CTL("\t.control"), CTL("\f.control"), CTL(".control\r"),
    CTL(".control shell touch x"), CTL(".CoNtRoL\t;"),
    /* command comments: '*#' runs its text as a command */
    CMD("*#shell touch @OUT@/pwned"), CMD("*# shell touch @OUT@/pwned"),
    CMD("*# write @OUT@/pwned.raw"), CMD("*# source @OUT@/evil.inc"),
    CMD("  *# shell touch @OUT@/pwned"), CMD("\t*#echo x > @OUT@/pwned"),
    CMD("*#pre_shell touch @OUT@/pwned"), CMD("*#wrdata @OUT@/pwned v(a)"),
    CMD("*#codemodel @OUT@/evil.cm"), CMD("*#set sourcepath = ( @OUT@ )"),
    /* includes: every line that begins with .inc or .lib */
    INC(".include @OUT@/evil.inc", "outside"), INC(".inc @OUT@/evil.inc", "outside"),
    INC(".INCLUDE @OUT@/evil.inc", "outside"), INC(".incx @OUT@/evil.inc", "outside"),
    INC(".inc.x @OUT@/evil.inc", "outside"), INC(".incl @OUT@/evil.inc", "outside"),
    INC(".inc \"@OUT@/evil.inc\"", "outside"), INC(".inc '@OUT@/evil.inc'", "outside"),
    INC("  .include @OUT@/evil.inc", "outside"), INC(".include ../outside/evil.inc", "outside"),
    INC(".include @IN@/../outside/evil.inc", "outside"), INC(".lib @OUT@/lib.lib sect", "outside"),
    INC(".library @OUT@/lib.lib sect", "outside"), INC(".LIB @OUT@/lib.lib sect", "outside"),
    INC(".libx @OUT@/lib.lib sect", "outside"), INC(".lib '@OUT@/lib.lib' sect", "outside"),
    INC(".lib \"@OUT@/lib.lib\" 'sect'", "outside"), INC(".include /etc/passwd", "outside"),
    INC(".include /dev/zero", "outside"), INC(".include @IN@", "outside"),
    INC(".include link.inc", "outside"), INC(".lib link.inc sect", "outside"),
    INC(".include fifo.inc", "regular file"), INC(".inc", "without a file"),
    /* code-model and CIDER file parameters */
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"@OUT@/data.txt\")", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file='@OUT@/data.txt')", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=@OUT@/data.txt)", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (FILE = \"@OUT@/data.txt\")", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"../outside/data.txt\")", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"/dev/zero\")", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"link.inc\")", "outside"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file={fname})", "plain file name"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"fifo.inc\")", "regular file"),
    FILEP(4, "A1 a b c tab\n.model tab table2d (file=\"@OUT@/data.txt\")", "outside"),
    FILEP(4, "A1 a b c d tab\n.model tab table3d (file=\"@OUT@/data.txt\")", "outside"),
    FILEP(4, "A1 [a] src\n.model src d_source (input_file=\"@OUT@/data.txt\")", "outside"),
    FILEP(4, "A1 [a] b c [d] st\n.model st d_state (state_file=\"@OUT@/data.txt\")",
          "outside"),
    FILEP(3, "D1 a 0 pin ic.file=\"@OUT@/data.txt\"\n.model pin numd level=1", "outside"),
    FILEP(5, "D1 a 0 pin\n.model pin numd level=1\n+ doping infile=\"@OUT@/data.txt\"",
          "outside"),
    FILEP(5, "D1 a 0 pin\n.model pin numd level=1\n+ output rootfile=\"@OUT@/dump\"",
          "write files"),
    FILEP(4, "A1 %v([a]) src\n.model src filesource (file=\"missing.txt\")", "cannot open"),
    /* backquotes: command substitution */
    {"t\nV1 a 0 1\nR1 a 0 `touch @OUT@/pwned`\n.op\n", 3, "backquote"},
    {"t\nV1 a 0 1\n.param r = `cat @OUT@/secret.txt`\nR1 a 0 {r}\n.op\n", 3, "backquote"},
    {"t\nV1 a 0 1\nR1 a 0 1k\n.model m d (is=`id`)\n.op\n", 4, "backquote"},
    /* inside an included file of the netlist's own folder */
    {"t\nV1 a 0 1\n.include own.inc\n.op\n", 2, ".control block"},
    {"t\nV1 a 0 1\n.include own2.inc\n.op\n", 1, "'*#'"},
    {"t\nV1 a 0 1\n.include own3.inc\n.op\n", 1, "outside"},
};

/* Files every screen case may refer to from its own folder. */
static void plant_inside(const struct box *b)
{
    char t[1024];
    snprintf(t, sizeof t, "%s/evil.inc", b->out);
    char link[1024];
    snprintf(link, sizeof link, "%s/link.inc", b->in);
    ck_assert_int_eq(symlink(t, link), 0);
    snprintf(link, sizeof link, "%s/fifo.inc", b->in);
    ck_assert_int_eq(mkfifo(link, 0644), 0);
    snprintf(t, sizeof t, "R2 a 0 1k\n.control\nshell touch %s/pwned\n.endc\n", b->out);
    ss_test_write(b->in, "own.inc", t);
    snprintf(t, sizeof t, "*# shell touch %s/pwned\n", b->out);
    ss_test_write(b->in, "own2.inc", t);
    snprintf(t, sizeof t, ".include %s/evil.inc\n", b->out);
    ss_test_write(b->in, "own3.inc", t);
}

START_TEST(screen_refuses)
{
    struct box b;
    make_box(&b);
    plant_inside(&b);
    int before = outside_entries(&b);
    size_t n = sizeof screen_cases / sizeof screen_cases[0];
    for (size_t i = 0; i < n; i++) {
        char text[2048], name[64], where[128];
        expand(&b, screen_cases[i].text, text, sizeof text);
        snprintf(name, sizeof name, "case%02zu.cir", i);
        const char *path = ss_test_write(b.in, name, text);
        ss_netlist nl = SS_NETLIST_INIT;
        ss_error err = {0, ""};
        int rc = ss_netlist_read_file(&nl, path, 0, &err);
        if (rc == SS_OK)
            ck_abort_msg("case %zu was let through:\n%s", i, text);
        ck_assert_msg(rc == SS_EDENIED || rc == SS_EIO || rc == SS_EPARSE, "case %zu: code %d", i,
                      rc);
        /* the message names the file and line (an included file: its own) */
        snprintf(where, sizeof where, ".cir:%d:", screen_cases[i].line);
        int named = strstr(err.msg, where) || strstr(err.msg, ".inc:");
        ck_assert_msg(named && strstr(err.msg, screen_cases[i].why),
                      "case %zu: message '%s' lacks '%s' / '%s'", i, err.msg, where,
                      screen_cases[i].why);
        ck_assert_msg(!strstr(err.msg, CANARY), "case %zu leaked the canary", i);
        ck_assert_int_eq(nl.n, 0);
    }
    ck_assert_int_eq(outside_entries(&b), before);
}
END_TEST

/* What the reader lets through is what ngspice must not execute or read:
 * checked on the expanded deck of netlists that are allowed. */
START_TEST(allowed_decks_hold_nothing_ngspice_runs)
{
    struct box b;
    make_box(&b);
    ss_test_write(b.in, "data.txt", "0 1\n1 2\n");
    ss_test_write(b.in, "part.inc", "R3 a 0 3k\n* .control in a comment is a comment\n");
    ss_test_write(b.in, "lib.lib", "* a library\n.lib typ\nR4 a 0 4k\n.endl typ\n");
    const char *path = ss_test_write(
        b.in, "ok.cir",
        ".control as a title is only a title\nV1 a 0 1\n.include part.inc\n.lib lib.lib typ\n"
        "* #not a command\n*.control in a comment\nA1 %v([b]) src\n"
        ".model src filesource (file=\"data.txt\" amploffset=[0] amplscale=[1])\nR5 b 0 1k\n.tran 1m 10m\n"
        ".end\n");
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err = {0, ""};
    /* ngspice reads on after .end: a control block there runs too */
    const char *after = ss_test_write(b.in, "after.cir",
                                      "t\nV1 a 0 1\n.op\n.end\n.control\nshell touch pwned\n.endc\n");
    ck_assert_int_eq(ss_netlist_read_file(&nl, after, 0, &err), SS_EDENIED);
    ck_assert_msg(strstr(err.msg, "after.cir:5:"), "%s", err.msg);
    ck_assert_msg(ss_netlist_read_file(&nl, path, 0, &err) == SS_OK, "%s", err.msg);
    int saw_file = 0;
    for (size_t i = 1; i < nl.n; i++) {
        int k = ss_netlist_classify(nl.lines[i].text);
        ck_assert_msg(k != SS_NETLIST_CONTROL && k != SS_NETLIST_COMMAND &&
                          k != SS_NETLIST_INCLUDE && k != SS_NETLIST_LIB,
                      "line '%s' reaches ngspice", nl.lines[i].text);
        saw_file |= strstr(nl.lines[i].text, "file=\"data.txt\"") != NULL;
    }
    ck_assert(saw_file);
    /* and ngspice, working in its run folder, reads the checked file */
    ss_result res = SS_RESULT_INIT;
    ck_assert_msg(ss_engine_run_isolated(&nl, 60, &res, &err) == SS_OK, "%s", err.msg);
    const ss_vector *v = ss_result_find(&res, "v(b)");
    ck_assert_ptr_nonnull(v);
    ck_assert_double_eq_tol(v->re[0], 1.0, 1e-9); /* data.txt at t = 0 */
    ss_result_release(&res);
    ss_netlist_release(&nl);
}
END_TEST

/* ---- the sandbox: what the screen was told to let through -------------- */

static const char *const sandbox_cases[] = {
    ".control\nshell touch @OUT@/pwned\n.endc",
    ".control\nrun\nwrite @OUT@/pwned.raw\n.endc",
    ".control\nrun\nwrdata @OUT@/pwned v(a)\n.endc",
    ".control\nrun\nprint v(a) > @OUT@/pwned\n.endc",
    ".control\necho hello > @OUT@/pwned\n.endc",
    ".control\nsource @OUT@/secret.txt\n.endc",
    ".control\nload @OUT@/data.txt\n.endc",
    ".control\nset x = `cat @OUT@/secret.txt`\necho $x\n.endc",
    ".control\ncd @OUT@\nshell touch pwned\nwrite pwned.raw\n.endc",
    ".control\nshell cat @OUT@/secret.txt\n.endc",
    "*# shell touch @OUT@/pwned",
    "*# write @OUT@/pwned.raw",
    ".control\ncodemodel @OUT@/data.txt\n.endc",
    ".control\nrun\nhardcopy @OUT@/pwned.ps v(a)\n.endc",
    ".control\nrun\nwrite /etc/pwned.raw\nshell touch /tmp/ss-hostile-pwned\n.endc",
};

START_TEST(sandbox_contains_allowed_decks)
{
    struct box b;
    make_box(&b);
    int before = outside_entries(&b);
    unlink("/tmp/ss-hostile-pwned");
    size_t n = sizeof sandbox_cases / sizeof sandbox_cases[0];
    for (size_t i = 0; i < n; i++) {
        char text[2048], body[1024], name[64];
        expand(&b, sandbox_cases[i], body, sizeof body);
        snprintf(text, sizeof text, "t\nV1 a 0 1\nR1 a 0 1k\n%s\n.op\n.end\n", body);
        snprintf(name, sizeof name, "sb%02zu.cir", i);
        const char *path = ss_test_write(b.in, name, text);
        ss_netlist nl = SS_NETLIST_INIT;
        ss_error err = {0, ""};
        ck_assert_msg(ss_netlist_read_file(&nl, path, SS_NETLIST_ALLOW_CONTROL, &err) == SS_OK,
                      "case %zu: %s", i, err.msg);
        ss_result res = SS_RESULT_INIT;
        char *tr = NULL;
        ss_engine_child_options opt = {60, &tr, NULL, 0};
        ss_engine_run_child(&nl, &opt, &res, &err); /* may fail: the deck's commands do */
        ck_assert_msg(!tr || !strstr(tr, CANARY), "case %zu: the canary reached the transcript",
                      i);
        ck_assert_msg(!strstr(err.msg, CANARY), "case %zu: the canary reached the message", i);
        for (size_t p = 0; p < res.nplot; p++)
            for (size_t k = 0; k < res.plot[p].nvec; k++)
                for (size_t j = 0; j < res.plot[p].vec[k].n; j++)
                    ck_assert_msg(fabs(res.plot[p].vec[k].re[j] - DATUM) > 1e-12,
                                  "case %zu: outside data reached a vector", i);
        ck_assert_msg(outside_entries(&b) == before, "case %zu escaped into the outside folder",
                      i);
        ck_assert_msg(access("/tmp/ss-hostile-pwned", F_OK) != 0 &&
                          access("/etc/pwned.raw", F_OK) != 0,
                      "case %zu escaped", i);
        free(tr);
        ss_result_release(&res);
        ss_netlist_release(&nl);
    }
    /* a plain run in the sandbox still works and gives the right answer */
    const char *ok = ss_test_write(b.in, "ok.cir", "t\nV1 a 0 1\nR1 a b 1k\nR2 b 0 3k\n.op\n.end\n");
    ss_netlist nl = SS_NETLIST_INIT;
    ss_result res = SS_RESULT_INIT;
    ck_assert_int_eq(ss_netlist_read_file(&nl, ok, 0, NULL), SS_OK);
    ck_assert_int_eq(ss_engine_run_isolated(&nl, 60, &res, NULL), SS_OK);
    ck_assert_double_eq_tol(ss_result_find(&res, "v(b)")->re[0], 0.75, 1e-12);
    ss_result_release(&res);
    ss_netlist_release(&nl);
}
END_TEST

/* ---- the library's command filter --------------------------------------- */

START_TEST(command_filter)
{
    static const char *const refused[] = {
        "set x = 1 ; shell touch /tmp/ss-hostile-pwned",
        "let a = 1 ; write /tmp/ss-hostile-pwned",
        "echo hello > /tmp/ss-hostile-pwned",
        "print 1 > /tmp/ss-hostile-pwned",
        "listing >> /tmp/ss-hostile-pwned",
        "echo x >& /tmp/ss-hostile-pwned",
        "echo `touch /tmp/ss-hostile-pwned`",
        "shell touch /tmp/ss-hostile-pwned",
        "source /etc/passwd",
        "write /tmp/ss-hostile-pwned",
        "wrdata /tmp/ss-hostile-pwned v(a)",
        "codemodel /tmp/x.cm",
        "echo $<",
        "echo !!",
        "set x = 1 & shell ls",
        "altermod nch file = /etc/passwd",
        "alter m1 file=/etc/passwd",
        "let a = 1\nshell touch /tmp/ss-hostile-pwned",
        "cd /tmp",
        "load /etc/passwd",
        "SHELL ls",
        "  shell ls",
    };
    static const char *const allowed[] = {"set x = 1", "let a = 2 >= 1", "let b = 1 != 2",
                                          "echo hi", "print 1 <= 2", "set noaskquit"};
    ss_engine *eng;
    ss_error err;
    unlink("/tmp/ss-hostile-pwned");
    ck_assert_int_eq(ss_engine_open(&eng, &err), SS_OK);
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        ck_assert_msg(ss_engine_command(eng, refused[i], 0, &err) == SS_EDENIED,
                      "'%s' was not refused", refused[i]);
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        ck_assert_msg(ss_engine_command(eng, allowed[i], 0, &err) == SS_OK, "'%s': %s",
                      allowed[i], err.msg);
    ck_assert_int_ne(access("/tmp/ss-hostile-pwned", F_OK), 0);
    ss_engine_free(eng);
}
END_TEST

/* ---- every entry point that takes a netlist, as the program ------------- */

static char out[65536];

START_TEST(entry_points)
{
    struct box b;
    make_box(&b);
    const char *p = ss_test_program();
    int before = outside_entries(&b);
    char text[2048];
    /* spice run */
    expand(&b, "t\nV1 a 0 1\nR1 a 0 1k\n.control;\nshell touch @OUT@/pwned\n.endc\n.op\n.end\n",
           text, sizeof text);
    const char *a = ss_test_write(b.in, "a.cir", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s", p, a), 1);
    ck_assert_ptr_nonnull(strstr(out, "a.cir:4: .control block refused"));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --allow-control", p, a), 0);
    expand(&b, "t\nV1 a 0 1\nR1 a 0 1k\n.incx @OUT@/evil.inc\n.op\n.end\n", text, sizeof text);
    a = ss_test_write(b.in, "b.cir", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --allow-control", p, a), 1);
    ck_assert_ptr_nonnull(strstr(out, "b.cir:4: include"));
    /* --include-dir trusts the folder for reading, not for commands */
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s --include-dir %s", p, a, b.out),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "evil.inc:1: .control block refused"));
    expand(&b, "t\nV1 a 0 1\nA1 %v([b]) src\n.model src filesource (file=\"../outside/data.txt\" "
               "amploffset=[0] amplscale=[1])\n"
               "R1 b 0 1k\n.tran 1m 10m\n.end\n",
           text, sizeof text);
    a = ss_test_write(b.in, "c.cir", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s spice run %s", p, a), 1);
    ck_assert_ptr_nonnull(strstr(out, "c.cir:4: file="));
    ck_assert_msg(ss_test_sh(out, sizeof out, "%s spice run %s --include-dir %s --vectors 'v(b)'",
                             p, a, b.out) == 0,
                  "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "0.0012345678"));
    /* sweep */
    expand(&b, "t\n.param r=1k\nV1 a 0 1\nR1 a 0 {r}\n*# shell touch @OUT@/pwned\n.op\n.end\n",
           text, sizeof text);
    a = ss_test_write(b.in, "s.cir", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s sweep %s --param r=list:1k,2k -q -o %s/s.csv",
                                p, a, b.in),
                     1);
    ck_assert_ptr_nonnull(strstr(out, "s.cir:5: '*#' line refused"));
    expand(&b,
           "t\n.param r=1k\nV1 a 0 1\nR1 a 0 {r}\n.control\nshell touch @OUT@/pwned\n"
           "write @OUT@/pwned.raw\n.endc\n.op\n.end\n",
           text, sizeof text);
    a = ss_test_write(b.in, "s2.cir", text);
    ss_test_sh(out, sizeof out, "%s sweep %s --param r=list:1k,2k --allow-control -q -o %s/s2.csv",
               p, a, b.in);
    /* run: a SPICE tile's body */
    expand(&b, "V9 x 0 1\n.include @OUT@/evil.inc\n", text, sizeof text);
    ss_test_write(b.in, "tile.sp", text);
    a = ss_test_write(b.in, "exp.yaml",
                      "duration: 0.01\npopulations:\n  - name: t\n    kind: spice\n    n: 1\n"
                      "    body: tile.sp\n    spikes: [v(x)]\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o run-out", b.in, p), 1);
    ck_assert_ptr_nonnull(strstr(out, "tile.sp:2: include"));
    expand(&b, "V9 x 0 1\n*# shell touch @OUT@/pwned\n", text, sizeof text);
    ss_test_write(b.in, "tile.sp", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o run-out", b.in, p), 1);
    ck_assert_ptr_nonnull(strstr(out, "tile.sp:2: '*#'"));
    /* a tile body with a control block, let through with --allow-control:
     * the tile's worker is confined, so the shell command creates nothing
     * outside (the same run unconfined shows the command does run) */
    expand(&b, "iext0 0 x external\nr1 x 0 1k\n.control\nshell touch @OUT@/pwned-tile\n.endc\n",
           text, sizeof text);
    ss_test_write(b.in, "tile.sp", text);
    a = ss_test_write(b.in, "exp.yaml",
                      "duration: 1m\npopulations:\n  - name: t\n    kind: spice\n    n: 1\n"
                      "    body: tile.sp\n    spikes: [v(x)]\n");
    ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o run-out -q --allow-control", b.in, p);
    ck_assert_int_eq(outside_entries(&b), before);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s run exp.yaml -o run-out -q "
                                                 "--allow-control --no-sandbox && test -e %s/pwned-tile",
                                b.in, p, b.out),
                     0);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "rm %s/pwned-tile", b.out), 0);
    ck_assert_int_eq(outside_entries(&b), before);
    /* characterize: a designer's netlist */
    expand(&b,
           "* smallsim: like=axon-hillock\n.subckt ah vdd gnd iin vmem vout\n"
           ".include @OUT@/evil.inc\n.ends\n",
           text, sizeof text);
    a = ss_test_write(b.in, "ah.cir", text);
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s characterize %s --sweep list:1n", p, a), 1);
    ck_assert_ptr_nonnull(strstr(out, "ah.cir:3: include"));
    ck_assert_int_eq(outside_entries(&b), before);
}
END_TEST

/* ---- outputs never replace what is not a regular file ------------------- */

START_TEST(outputs_are_regular_files)
{
    const char *dir = ss_test_tmpdir(), *p = ss_test_program();
    char path[1024], target[1024];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    snprintf(target, sizeof target, "%s/target.txt", dir);
    ss_test_write(dir, "target.txt", "keep me\n");
    char link[1024];
    snprintf(link, sizeof link, "%s/link.csv", dir);
    ck_assert_int_eq(symlink(target, link), 0);
    const char *cir = ss_test_write(dir, "ok.cir", "t\nV1 a 0 1\nR1 a 0 2k\n.op\n.end\n");
    ss_test_write(dir, "g.csv", "1e-3\n");
    ss_test_write(dir, "v.csv", "0.1\n");
    const char *cmds[] = {
        "%s device iv --preset oblea_sine --wave sine:0.45:100 -o %s",
        "%s spice run %s -o %s",
        "%s netlist crossbar --rows 1 --cols 1 --g-file g.csv --inputs v.csv -o %s",
        "%s device spice --preset oblea_sine -o %s",
    };
    const char *targets[] = {path, link, dir};
    for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++)
        for (size_t t = 0; t < 3; t++) {
            char cmd[2048];
            if (c == 1)
                snprintf(cmd, sizeof cmd, cmds[c], p, cir, targets[t]);
            else
                snprintf(cmd, sizeof cmd, cmds[c], p, targets[t]);
            int st = ss_test_sh(out, sizeof out, "cd %s && %s", dir, cmd);
            ck_assert_msg(st == 1 && (strstr(out, "not a regular file") ||
                                      strstr(out, "symbolic link")),
                          "'%s' -> %s: status %d, %s", cmds[c], targets[t], st, out);
        }
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cat %s", target), 0);
    ck_assert_str_eq(out, "keep me\n");
    /* asked for: the link's target is written, the link stays */
    ck_assert_int_eq(ss_test_sh(out, sizeof out,
                                "SMALLSIM_FOLLOW_SYMLINKS=1 %s spice run %s -o %s", p, cir, link),
                     0);
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cat %s", target), 0);
    ck_assert_msg(strstr(out, "i(v1)") && !strstr(out, "keep me"), "%s", out);
    /* as root, /dev/null must stay the device it is */
    if (geteuid() == 0) {
        ck_assert_int_eq(ss_test_sh(out, sizeof out, "%s device iv --preset oblea_sine --wave "
                                                     "sine:0.45:100 -o /dev/null", p),
                         1);
        ck_assert_int_eq(stat("/dev/null", &st), 0);
        ck_assert(S_ISCHR(st.st_mode));
    }
}
END_TEST

/* ---- bounded inputs: sizes, counts, durations, files that never end ---- */

/* Each case runs the program (under `timeout 60`, in a folder of its own
 * files) and must end quickly with `status` and a message holding both
 * parts: where (file:line when the cause is in a file) and what (the limit
 * and how to raise it). */
struct bcase {
    const char *cmd; /* %s: the program */
    int status;
    const char *where, *what;
};

static const struct bcase bound_cases[] = {
    /* inputs that never end or block: refused without reading */
    {"%s spice run /dev/zero", 1, "/dev/zero:", "is a device, not a regular file"},
    {"%s spice run fifo.cir", 1, "fifo.cir:", "is a named pipe"},
    {"%s run /dev/zero -o o1", 1, "/dev/zero:", "is a device"},
    {"%s run fifo.yaml -o o2", 1, "fifo.yaml:", "is a named pipe"},
    {"%s fit --model vteam /dev/zero", 1, "/dev/zero:", "is a device"},
    {"%s sweep p.cir --param x=file:/dev/zero -q -o s1.csv", 1, "/dev/zero:", "is a device"},
    {"%s sweep p.cir --param x=file:fifo.cir -q -o s2.csv", 1, "fifo.cir:", "named pipe"},
    {"%s crossbar dc --rows 2 --cols 2 --g-file /dev/zero --v-file v.csv", 1, "/dev/zero:",
     "is a device"},
    /* sizes: a file, a netlist with its includes, an include fan-out bomb */
    {"SMALLSIM_MAX_FILE_SIZE=100 %s spice run size.cir", 1, "size.cir:",
     "limit of 100 bytes for an input file (raise it with SMALLSIM_MAX_FILE_SIZE"},
    {"SMALLSIM_MAX_NETLIST_SIZE=4000 %s spice run size.cir", 1, "big.inc:",
     "bytes for a netlist with its includes expanded (raise it with SMALLSIM_MAX_NETLIST_SIZE"},
    {"%s spice run bomb.cir", 1, ".inc:",
     "above the limit of 10000 include and library lines expanded in one netlist (raise it "
     "with SMALLSIM_MAX_INCLUDES"},
    {"%s sweep bomb.cir --param x=list:1 -q -o s3.csv", 1, ".inc:", "SMALLSIM_MAX_INCLUDES"},
    /* analyses that run for ever or give nothing */
    {"%s spice run tran.cir", 1, "tran.cir:4:", "limit of 1000000000 time steps"},
    {"%s sweep ptran.cir --param x=list:1,2 -q -o s4.csv", 1, "ptran.cir:5:",
     "SMALLSIM_MAX_STEPS"},
    {"%s spice run dc0.cir", 1, "dc0.cir:4:", "a step of 0 never reaches the stop value"},
    {"%s spice run dcneg.cir -o dc.csv", 1, "dcneg.cir:4:", "the step is negative"},
    {"%s spice run ac.cir", 1, "ac.cir:4:", "the start frequency is above the stop frequency"},
    /* experiment files: durations, steps, counts */
    {"%s run dur.yaml -o o3", 1, "dur.yaml:1:", "limit of 100000 seconds of simulated time"},
    {"%s run dt.yaml -o o4", 1, "dt.yaml:2:", "SMALLSIM_MAX_STEPS"},
    {"%s run neg.yaml -o o5", 1, "neg.yaml:6:", "neuron numbers 0, 1, 2, ... (got '-1')"},
    {"%s run rep.yaml -o o6", 1, "rep.yaml:5:", "SMALLSIM_MAX_EVENTS"},
    {"%s run rep2.yaml -o o7", 1, "rep2.yaml:5:", "'count' must be a whole number of repeats"},
    {"%s run pop.yaml -o o8", 1, "pop.yaml:3:", "SMALLSIM_MAX_NEURONS"},
    {"%s run syn.yaml -o o9", 1, "syn.yaml:6:", "SMALLSIM_MAX_SYNAPSES"},
    {"%s run tile.yaml -o o10", 1, "tile.yaml:5:", "SMALLSIM_MAX_SPICE_NEURONS"},
    /* counts on the command line, and a time limit on characterization */
    {"%s characterize dpi-neuron --mc 100000000 --sweep list:1n", 2, "--mc:",
     "SMALLSIM_MAX_JOBS"},
    {"%s characterize dpi-neuron --tile 1000000000 -o t.sp", 2, "--tile:",
     "SMALLSIM_MAX_SPICE_NEURONS"},
    {"%s sweep p.cir --param x=lin:1:2:10000000 -q -o s5.csv", 2, "x=lin:1:2:10000000",
     "SMALLSIM_MAX_JOBS"},
    {"%s sweep p.cir --param x=gauss:1:0.1 --mc 1e12 -q -o s6.csv", 2, "--mc 1e12:",
     "above the limit of 1000000 jobs in one run (raise it with SMALLSIM_MAX_JOBS"},
    {"%s characterize axon-hillock --sweep list:0 --timeout 0.3 -o ah.csv", 1, "job 0",
     "no result after 0.3 s"},
    {"SMALLSIM_MAX_SAMPLES=100 %s fit --model vteam trace.csv", 1, "trace.csv:",
     "300 is above the limit of 100 samples"},
    /* messages that used to say nothing useful */
    {"%s spice run slash.cir", 1, "slash.cir:3:", "start the next line with '+'"},
};

START_TEST(bounded_inputs)
{
    const char *d = ss_test_tmpdir(), *p = ss_test_program();
    char path[1024], text[4096];
    snprintf(path, sizeof path, "%s/fifo.cir", d);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    snprintf(path, sizeof path, "%s/fifo.yaml", d);
    ck_assert_int_eq(mkfifo(path, 0644), 0);
    /* 8 levels of 10 includes each: 10^7 lines if nothing stopped it */
    for (int l = 0; l < 7; l++) {
        size_t k = 0;
        for (int i = 0; i < 10; i++)
            k += (size_t)snprintf(text + k, sizeof text - k, ".include l%d.inc\n", l + 1);
        snprintf(path, sizeof path, "l%d.inc", l);
        ss_test_write(d, path, text);
    }
    ss_test_write(d, "l7.inc", "R9 a 0 1k\n");
    ss_test_write(d, "bomb.cir", "t\n.param x=1\nV1 a 0 1\n.include l0.inc\n.op\n.end\n");
    size_t k = 0;
    for (int i = 0; i < 150; i++)
        k += (size_t)snprintf(text + k, sizeof text - k, "R%d a 0 1k\n", 100 + i);
    ss_test_write(d, "big.inc", text); /* 1650 bytes */
    ss_test_write(d, "size.cir", "t\nV1 a 0 1\n.include big.inc\n.include big.inc\n"
                                 ".include big.inc\n.op\n.end\n");
    ss_test_write(d, "p.cir", "t\n.param x=1\nV1 a 0 1\nR1 a 0 {x}\n.op\n.end\n");
    ss_test_write(d, "v.csv", "0.1\n0.1\n");
    ss_test_write(d, "tran.cir", "t\nV1 a 0 1\nR1 a 0 1k\n.tran 1u 1e300\n.end\n");
    ss_test_write(d, "ptran.cir", "t\n.param x=1\nV1 a 0 1\nR1 a 0 {x}\n.tran 1u 1e300\n.end\n");
    ss_test_write(d, "dc0.cir", "t\nV1 a 0 1\nR1 a 0 1k\n.dc V1 0 1 0\n.end\n");
    ss_test_write(d, "dcneg.cir", "t\nV1 a 0 1\nR1 a 0 1k\n.dc V1 0 1 -0.1\n.end\n");
    ss_test_write(d, "ac.cir", "t\nV1 a 0 DC 0 AC 1\nR1 a 0 1k\n.ac dec 10 1k 1\n.end\n");
    ss_test_write(d, "slash.cir", "t\nV1 a 0 1\nR1 a 0 \\\n 1k\n.op\n.end\n");
    const char *pops = "populations:\n  - {name: a, kind: lif, n: 2}\n";
    snprintf(text, sizeof text, "duration: 1e300\n%s", pops);
    ss_test_write(d, "dur.yaml", text);
    snprintf(text, sizeof text, "duration: 1\ndt: 1e-300\n%s", pops);
    ss_test_write(d, "dt.yaml", text);
    snprintf(text, sizeof text,
             "duration: 0.1\n%srecord:\n  states:\n    - {population: a, neurons: [-1], dt: 1m}\n",
             pops);
    ss_test_write(d, "neg.yaml", text);
    snprintf(text, sizeof text,
             "duration: 0.1\n%sstimuli:\n  - {population: a, neurons: [0], start: 0, stop: 1m, "
             "amplitude: 1n, repeat: {count: 1e12, period: 2m}}\n",
             pops);
    ss_test_write(d, "rep.yaml", text);
    snprintf(text, sizeof text,
             "duration: 0.1\n%sstimuli:\n  - {population: a, neurons: [0], start: 0, stop: 1m, "
             "amplitude: 1n, repeat: {count: 0.5, period: 2m}}\n",
             pops);
    ss_test_write(d, "rep2.yaml", text);
    ss_test_write(d, "pop.yaml", "duration: 0.1\npopulations:\n  - {name: a, kind: lif, n: 1e12}\n");
    ss_test_write(d, "syn.yaml",
                  "duration: 0.01\npopulations:\n  - {name: a, kind: lif, n: 1000000}\n"
                  "  - {name: b, kind: lif, n: 1000000}\nprojections:\n"
                  "  - {from: a, to: b, kind: all, weight: 1p}\n");
    ss_test_write(d, "tile.sp", "V9 x 0 1\n");
    ss_test_write(d, "tile.yaml", "duration: 0.01\npopulations:\n  - name: t\n    kind: spice\n"
                                  "    n: 1000000\n    body: tile.sp\n    spikes: [v(x)]\n");
    static char trace[300 * 40 + 16];
    k = (size_t)snprintf(trace, sizeof trace, "t,v,i\n");
    for (int i = 0; i < 300; i++) {
        double t = i * 1e-3, v = sin(2 * M_PI * 5 * t);
        k += (size_t)snprintf(trace + k, sizeof trace - k, "%g,%.4f,%.4g\n", t, v, v * 1e-4);
    }
    ss_test_write(d, "trace.csv", trace);
    for (size_t i = 0; i < sizeof bound_cases / sizeof bound_cases[0]; i++) {
        const struct bcase *c = &bound_cases[i];
        char cmd[1024];
        snprintf(cmd, sizeof cmd, c->cmd, p);
        /* "timeout" goes before the program, after any VAR=value */
        const char *prog = strstr(cmd, p);
        double t0 = ss_util_now();
        int st = ss_test_sh(out, sizeof out, "cd %s && %.*stimeout 60 %s", d,
                            (int)(prog - cmd), cmd, prog);
        double secs = ss_util_now() - t0;
        ck_assert_msg(st == c->status && strstr(out, c->where) && strstr(out, c->what),
                      "case %zu '%s': status %d (want %d), message: %s", i, cmd, st, c->status,
                      out);
        ck_assert_msg(secs < 30, "case %zu '%s' took %.1f s", i, cmd, secs);
    }
    /* a UTF-8 byte order mark before the title is dropped: the deck runs */
    ss_test_write(d, "bom.cir", "\xef\xbb\xbf" "t\nV1 a 0 1\nR1 a b 1k\nR2 b 0 3k\n.op\n.end\n");
    ck_assert_int_eq(ss_test_sh(out, sizeof out, "cd %s && %s spice run bom.cir --vectors 'v(b)'",
                                d, p),
                     0);
    ck_assert_msg(strstr(out, "0.75"), "%s", out);
}
END_TEST

/* ---- failed runs do not pile up memory ----------------------------------- */

/* A .param syntax error is fatal in ngspice 39: the engine reloads the
 * library.  Without "quit" before the reload every failure kept 124 kB;
 * each failure here is followed by a correct run. */
START_TEST(failed_runs_bounded_memory)
{
    static const char bad[] = "t\n.param r = {1k +* }\nV1 a 0 1\nR1 a 0 {r}\n.op\n.end\n";
    static const char good[] = "t\nV1 a 0 1\nR1 a b 1k\nR2 b 0 3k\n.op\n.end\n";
    ss_engine *eng;
    ss_error err;
    ck_assert_int_eq(ss_engine_open(&eng, &err), SS_OK);
    const int n = 80, warm = 10;
    long rss0 = 0;
    for (int i = 0; i < n; i++) {
        ss_result res = SS_RESULT_INIT;
        ck_assert_int_eq(ss_engine_run_text(eng, bad, "bad.cir", 0, &res, &err), SS_ESIM);
        ck_assert_msg(strstr(err.msg, "bad.cir:2:"), "%s", err.msg);
        ck_assert_msg(ss_engine_run_text(eng, good, "good.cir", 0, &res, &err) == SS_OK, "%s",
                      err.msg);
        ck_assert_double_eq_tol(ss_result_find(&res, "v(b)")->re[0], 0.75, 1e-12);
        ss_result_release(&res);
        if (i == warm - 1)
            rss0 = ss_util_rss_kb();
    }
    double per_run = (double)(ss_util_rss_kb() - rss0) / (n - warm);
    ck_assert_int_eq(ss_engine_reloads(eng), n);
#if defined(__SANITIZE_ADDRESS__)
    (void)per_run; /* ASan's quarantine holds freed memory: no RSS bound */
#else
    ck_assert_msg(per_run < 30, "%.1f kB per failed run", per_run);
#endif
    ss_engine_free(eng);
}
END_TEST

Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tcase_create("screen");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, screen_refuses);
    tcase_add_test(tc, allowed_decks_hold_nothing_ngspice_runs);
    tcase_add_test(tc, sandbox_contains_allowed_decks);
    tcase_add_test(tc, command_filter);
    tcase_add_test(tc, entry_points);
    tcase_add_test(tc, outputs_are_regular_files);
    tcase_add_test(tc, failed_runs_bounded_memory);
    tcase_add_test(tc, bounded_inputs);
    suite_add_tcase(s, tc);
    return s;
}
