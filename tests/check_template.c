/* check_template.c: netlist templating (netlists/template.c): statements
 * with continuations and comments, .param listing, overrides of params and
 * instance values, added .meas lines, file:line errors. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netlists/ss_netlist.h"
#include "tests/ss_test.h"

Suite *template_suite(void);

static const char deck[] =
    "template test\n"
    ".param rr=1k cc = 100n  $ the cap\n"
    "* a comment between continuations\n"
    "+ gain={2 * rr}\n"
    "V1 in 0 DC 1.5 AC 1\n"
    "V2 b 0 PULSE(0 1 0 1n 1n 1 2)\n"
    "R1 in out {rr} ; load\n"
    "C1 out 0 cc\n"
    "X1 out b amp k=3\n"
    ".subckt amp a b k=1\n"
    ".param inner=5\n"
    "R1 a b 10\n"
    ".ends amp\n"
    ".subckt unused x\n"
    ".ends\n"
    ".meas tran vend FIND v(out) AT=1u\n"
    ".tran 1u 10u\n"
    ".end\n";

static ss_netlist nl;
static const char *path;

static void setup(void)
{
    const char *dir = ss_test_tmpdir();
    path = ss_test_write(dir, "t.cir", deck);
    ss_error err;
    nl = (ss_netlist)SS_NETLIST_INIT;
    ck_assert_msg(ss_netlist_read_file(&nl, path, 0, &err) == SS_OK, "%s", err.msg);
}

static void teardown(void)
{
    ss_netlist_release(&nl);
}

/* The statement containing `needle` (joined), or "" (static buffer). */
static const char *statement_with(const char *needle)
{
    static char buf[1024];
    buf[0] = '\0';
    for (size_t i = 0, next; i < nl.n; i = next) {
        char *s;
        ck_assert_int_eq(ss_netlist_statement(&nl, i, &s, &next), SS_OK);
        if (strstr(s, needle)) {
            snprintf(buf, sizeof buf, "%s", s);
            free(s);
            break;
        }
        free(s);
    }
    return buf;
}

START_TEST(test_params_and_names)
{
    ss_netlist_param *p;
    size_t n;
    ss_error err;
    ck_assert_int_eq(ss_netlist_params(&nl, &p, &n, &err), SS_OK);
    ck_assert_uint_eq(n, 3); /* the subcircuit's .param inner is local */
    ck_assert_str_eq(p[0].name, "rr");
    ck_assert_str_eq(p[0].value, "1k");
    ck_assert_str_eq(p[1].name, "cc");
    ck_assert_str_eq(p[1].value, "100n");
    ck_assert_str_eq(p[2].name, "gain");
    ck_assert_str_eq(p[2].value, "{2 * rr}");
    ck_assert_int_eq(p[2].line, 2);
    ss_netlist_params_free(p, n);

    char **names;
    ck_assert_int_eq(ss_netlist_subckts(&nl, &names, &n, &err), SS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[0], "amp");
    ck_assert_str_eq(names[1], "unused");
    ss_netlist_names_free(names, n);
    ck_assert_int_eq(ss_netlist_measures(&nl, &names, &n, &err), SS_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(names[0], "vend");
    ss_netlist_names_free(names, n);
}
END_TEST

START_TEST(test_overrides)
{
    ss_error err;
    size_t lines = nl.n;
    ck_assert_int_eq(ss_netlist_override(&nl, "CC", "220n", &err), SS_OK);
    ck_assert_int_eq(ss_netlist_override(&nl, "gain", "{3*rr}", &err), SS_OK);
    ck_assert_str_eq(statement_with(".param"), ".param rr=1k cc=220n gain={3*rr}");
    ck_assert_uint_eq(nl.n, lines); /* line numbers are kept */
    /* Again on the merged statement. */
    ck_assert_int_eq(ss_netlist_override(&nl, "rr", "2.385k", &err), SS_OK);
    ck_assert_str_eq(statement_with(".param"), ".param rr=2.385k cc=220n gain={3*rr}");
    ck_assert_int_eq(ss_netlist_override(&nl, "r1", "4.7k", &err), SS_OK);
    ck_assert_str_eq(statement_with("R1 in"), "R1 in out 4.7k");
    ck_assert_int_eq(ss_netlist_override(&nl, "V1", "2.5", &err), SS_OK);
    ck_assert_str_eq(statement_with("V1 "), "V1 in 0 DC 2.5 AC 1");
    ck_assert_int_eq(ss_netlist_override(&nl, "X1:k", "7", &err), SS_OK);
    ck_assert_str_eq(statement_with("X1 "), "X1 out b amp k=7");
    ck_assert_int_eq(ss_netlist_override(&nl, "C1:m", "2", &err), SS_OK);
    ck_assert_str_eq(statement_with("C1 "), "C1 out 0 cc m=2");
    /* The subcircuit's R1 is untouched. */
    ck_assert_str_eq(statement_with("R1 a b"), "R1 a b 10");
}
END_TEST

START_TEST(test_override_errors)
{
    ss_error err;
    char want[1200];
    ck_assert_int_eq(ss_netlist_override(&nl, "X1", "3", &err), SS_EPARSE);
    snprintf(want, sizeof want, "%s:9: instance 'X1' has no single value", path);
    ck_assert_msg(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);
    ck_assert_int_eq(ss_netlist_override(&nl, "V2", "3", &err), SS_EPARSE);
    snprintf(want, sizeof want, "%s:6: source 'V2' has no DC value", path);
    ck_assert_msg(!strncmp(err.msg, want, strlen(want)), "%s", err.msg);
    ck_assert_int_eq(ss_netlist_override(&nl, "nosuch", "3", &err), SS_ENOTFOUND);
    ck_assert_msg(strstr(err.msg, "'nosuch'") && !strncmp(err.msg, path, strlen(path)), "%s",
                  err.msg);
    ck_assert_int_eq(ss_netlist_override(&nl, "inner", "3", &err), SS_ENOTFOUND);
    ck_assert_int_eq(ss_netlist_override(&nl, "rr", "1 2", &err), SS_EINVAL);
    ck_assert_int_eq(ss_netlist_override(&nl, "rr", "", &err), SS_EINVAL);
    ck_assert_int_eq(ss_netlist_override(&nl, "R1:", "3", &err), SS_EINVAL);

    ss_netlist bad = SS_NETLIST_INIT;
    ck_assert_int_eq(ss_netlist_read_string(&bad, "t\n\n.param = 3\n.end\n", "bad.cir", NULL, 0,
                                            &err),
                     SS_OK);
    ck_assert_int_eq(ss_netlist_override(&bad, "x", "1", &err), SS_EPARSE);
    ck_assert_msg(!strncmp(err.msg, "bad.cir:3: malformed .param", 27), "%s", err.msg);
    ss_netlist_release(&bad);
}
END_TEST

START_TEST(test_add_meas)
{
    ss_error err;
    char *name;
    ck_assert_int_eq(ss_netlist_add_meas(&nl, "tran vmax MAX v(out)", &name, &err), SS_OK);
    ck_assert_str_eq(name, "vmax");
    free(name);
    ck_assert_str_eq(nl.lines[nl.n - 1].text, ".end");
    ck_assert_str_eq(nl.lines[nl.n - 2].text, ".meas tran vmax MAX v(out)");
    ck_assert_int_eq(ss_netlist_add_meas(&nl, "bogus vx MAX v(out)", NULL, &err), SS_EINVAL);
    ck_assert_int_eq(ss_netlist_add_meas(&nl, "tran 9x MAX v(out)", NULL, &err), SS_EINVAL);
    ck_assert_int_eq(ss_netlist_add_meas(&nl, "tran vx\nMAX v(out)", NULL, &err), SS_EINVAL);
    char **names;
    size_t n;
    ck_assert_int_eq(ss_netlist_measures(&nl, &names, &n, &err), SS_OK);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(names[1], "vmax");
    ss_netlist_names_free(names, n);
}
END_TEST

Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_params_and_names);
    tcase_add_test(tc, test_overrides);
    tcase_add_test(tc, test_override_errors);
    tcase_add_test(tc, test_add_meas);
    suite_add_tcase(s, tc);
    return s;
}
