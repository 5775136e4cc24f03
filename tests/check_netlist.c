/* check_netlist.c: reading, include expansion, screening, origins. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "netlists/ss_netlist.h"
#include "tests/ss_test.h"

START_TEST(includes_keep_origins)
{
    const char *dir = ss_test_tmpdir();
    char sub[600];
    snprintf(sub, sizeof sub, "%s/models", dir);
    mkdir(sub, 0755);
    ss_test_write(sub, "r.inc", "* resistor\nR1 in out 1k\n");
    ss_test_write(dir, "lib.l", ".lib fast\nC1 out 0 1p\n.endl\n.lib slow\nC1 out 0 1n\n.endl\n");
    const char *top = ss_test_write(dir, "top.cir",
                                    "title line .include nothing\nV1 in 0 1\n.include models/r.inc\n"
                                    ".lib 'lib.l' slow\n.tran 1u\n+ 10u\n.end\nR9 out 0 9k\n");
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err;
    ck_assert_int_eq(ss_netlist_read_file(&nl, top, 0, &err), SS_OK);
    /* title V1 *comment R1 C1 .tran + R9 .end: ngspice's reader reads on
     * after .end (inpcom.c turns it into a comment) */
    ck_assert_uint_eq(nl.n, 9);
    ck_assert_str_eq(nl.lines[7].text, "R9 out 0 9k");
    ck_assert_int_eq(nl.lines[7].line, 8);
    ck_assert_str_eq(nl.lines[0].text, "title line .include nothing");
    ck_assert_str_eq(nl.lines[3].text, "R1 in out 1k");
    ck_assert_int_eq(nl.lines[3].line, 2);
    ck_assert_ptr_nonnull(strstr(nl.lines[3].file, "models/r.inc"));
    ck_assert_str_eq(nl.lines[4].text, "C1 out 0 1n");
    ck_assert_int_eq(nl.lines[4].line, 5);
    ck_assert_str_eq(nl.lines[nl.n - 1].text, ".end");
    double tstop;
    const ss_netlist_line *an = ss_netlist_analysis(&nl, &tstop);
    ck_assert_ptr_nonnull(an);
    ck_assert_double_eq_tol(tstop, 10e-6, 1e-18); /* from the continuation line */
    ss_netlist_release(&nl);
}
END_TEST

/* One bad netlist per case: each must fail with its own message. */
static void expect_error(const char *text, unsigned flags, int code, const char *where,
                         const char *what)
{
    const char *dir = ss_test_tmpdir();
    const char *path = ss_test_write(dir, "bad.cir", text);
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err = {0, ""};
    int rc = ss_netlist_read_file(&nl, path, flags, &err);
    ck_assert_msg(rc == code, "expected code %d, got %d (%s) for:\n%s", code, rc, err.msg, text);
    ck_assert_msg(strstr(err.msg, where) && strstr(err.msg, what),
                  "message '%s' lacks '%s' / '%s'", err.msg, where, what);
    ck_assert_uint_eq(nl.n, 0);
}

START_TEST(screening_and_errors)
{
    expect_error("t\nV1 a 0 1\n.control\nshell rm -rf /tmp/x\n.endc\n.end\n", 0, SS_EDENIED,
                 "bad.cir:3:", ".control block refused");
    expect_error("t\nV1 a 0 `echo 1`\n.op\n", 0, SS_EDENIED, "bad.cir:2:", "backquote");
    expect_error("t\n.include /etc/passwd\n.op\n", 0, SS_EDENIED, "bad.cir:2:",
                 "outside the netlist's folder");
    expect_error("t\n.include ../x.inc\n", 0, SS_EIO, "bad.cir:2:", "cannot open include");
    expect_error("t\n.include nothere.inc\n.op\n", 0, SS_EIO, "bad.cir:2:", "cannot open include");
    expect_error("t\n.include bad.cir\n", 0, SS_EPARSE, "bad.cir:2:", "include");
    expect_error("t\n.lib bad.cir nosection\n", 0, SS_EPARSE, "bad.cir:2:",
                 "section 'nosection' not found");
    expect_error("t\nR1 a\n.op\n", 0, SS_EPARSE, "bad.cir:2:", "'R1' needs two nodes and a value");
    expect_error("t\nV1 a 0 1\nM1 d g nmos\n.op\n", 0, SS_EPARSE, "bad.cir:3:", "'M1' needs");
    expect_error("", 0, SS_EPARSE, "bad.cir:1:", "empty netlist");
    /* the same .control block is fine when the caller allows it */
    const char *dir = ss_test_tmpdir();
    const char *path = ss_test_write(dir, "ok.cir", "t\nV1 a 0 1\n.control\nop\n.endc\n.end\n");
    ss_netlist nl = SS_NETLIST_INIT;
    ck_assert_int_eq(ss_netlist_read_file(&nl, path, SS_NETLIST_ALLOW_CONTROL, NULL), SS_OK);
    ss_netlist_release(&nl);
    /* and includes outside the folder with ALLOW_ANY_INCLUDE */
    char inc[700];
    const char *other = ss_test_tmpdir();
    ss_test_write(other, "r.inc", "R1 a 0 1k\n");
    snprintf(inc, sizeof inc, "t\nV1 a 0 1\n.include %s/r.inc\n.op\n", other);
    path = ss_test_write(dir, "inc.cir", inc);
    ck_assert_int_eq(ss_netlist_read_file(&nl, path, 0, NULL), SS_EDENIED);
    ck_assert_int_eq(ss_netlist_read_file(&nl, path, SS_NETLIST_ALLOW_ANY_INCLUDE, NULL), SS_OK);
    ck_assert_str_eq(nl.lines[2].text, "R1 a 0 1k");
    ss_netlist_release(&nl);
}
END_TEST

START_TEST(from_memory)
{
    ss_netlist nl = SS_NETLIST_INIT;
    ss_error err;
    ck_assert_int_eq(ss_netlist_read_string(&nl, "mem\r\nR1 a 0 2.385k\r\n.op\r\n", "rc", "/tmp",
                                            0, &err),
                     SS_OK);
    ck_assert_str_eq(nl.lines[1].text, "R1 a 0 2.385k"); /* CR stripped */
    ck_assert_str_eq(nl.lines[1].file, "rc");
    double tstop;
    ck_assert_ptr_nonnull(ss_netlist_analysis(&nl, &tstop));
    ck_assert(isnan(tstop));
    char *joined = ss_netlist_join(&nl);
    ck_assert_str_eq(joined, "mem\nR1 a 0 2.385k\n.op\n.end\n");
    free(joined);
    ss_netlist_release(&nl);    /* other white space inside lines (form feed, vertical tab, a stray CR)
     * separates tokens; it once made the element check loop forever
     * (found by fuzz/fuzz_netlist.c) */
    ck_assert_int_eq(ss_netlist_read_string(&nl, "t\nR1 a b\f1k\vX\r\n.op\n", "ff", NULL, 0, &err),
                     SS_OK);
    ss_netlist_release(&nl);
    ck_assert_int_eq(ss_netlist_read_string(&nl, "t\nR1\fa\r\n.op\n", "ff", NULL, 0, &err),
                     SS_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, "ff:2:"));
}
END_TEST

Suite *netlist_suite(void)
{
    Suite *s = suite_create("netlist");
    TCase *tc = tcase_create("read");
    tcase_add_test(tc, includes_keep_origins);
    tcase_add_test(tc, screening_and_errors);
    tcase_add_test(tc, from_memory);
    suite_add_tcase(s, tc);
    return s;
}
