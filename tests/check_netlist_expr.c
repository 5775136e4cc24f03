/* check_netlist_expr.c: parameter expressions (netlists/expr.c) against
 * values worked out by hand, and their errors. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "netlists/ss_netlist.h"

static int lookup(void *user, const char *name, double *v)
{
    (void)user;
    static const struct {
        const char *name;
        double v;
    } p[] = {{"wu", 1e-6}, {"lu", 0.5e-6}, {"n", 3}, {"x.y", 7}};
    for (size_t k = 0; k < sizeof p / sizeof p[0]; k++)
        if (!strcasecmp(name, p[k].name)) {
            *v = p[k].v;
            return SS_OK;
        }
    return SS_ENOTFOUND;
}

START_TEST(values)
{
    static const struct {
        const char *text;
        double want;
    } c[] = {
        {"1.5u", 1.5e-6},        {"2meg", 2e6},           {"{wu*2}", 2e-6},
        {"'wu + lu'", 1.5e-6},   {"\"n\"", 3},            {"{ 4*WU }", 4e-6},
        {"2+3*4", 14},           {"(2+3)*4", 20},         {"-2^2", -4},
        {"2**3**2", 512},        {"2^-1", 0.5},           {"10/4", 2.5},
        {"7%4", 3},              {"1<2", 1},              {"2<=1", 0},
        {"n==3", 1},             {"n!=3", 0},             {"1>2 ? 3 : 4", 4},
        {"1 ? 2 : 0 ? 5 : 6", 2}, {"!0", 1},              {"1 && 0 || 1", 1},
        {"sqrt(16)", 4},         {"max(1, n)", 3},        {"min(-1,2)", -1},
        {"pwr(-8, 1/3)", -2},    {"pow(2,10)", 1024},     {"log(exp(2))", 2},
        {"ln(1)", 0},            {"log10(1k)", 3},        {"abs(-3)", 3},
        {"int(-2.7)", -2},       {"nint(2.5)", 3},        {"sgn(-5)", -1},
        {"x.y + 1", 8},          {"pi", M_PI},            {"1e-3", 1e-3},
        {"1.5e+2", 150},         {"-(-(1))", 1},          {"{{wu}}", 1e-6},
        {"100pA", 100e-12},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        double v = NAN;
        ss_error err;
        ck_assert_msg(ss_netlist_eval(c[k].text, lookup, NULL, &v, &err) == SS_OK, "%s: %s",
                      c[k].text, err.msg);
        ck_assert_msg(fabs(v - c[k].want) <= 1e-12 * fabs(c[k].want), "%s = %.17g, want %.17g",
                      c[k].text, v, c[k].want);
    }
}
END_TEST

START_TEST(errors)
{
    static const struct {
        const char *text;
        int code;
        const char *msg;
    } c[] = {
        {"1+", SS_EPARSE, "unexpected"},
        {"foo*2", SS_ENOTFOUND, "unknown parameter 'foo' (in 'foo*2')"},
        {"sqrt(1,2)", SS_EPARSE, "sqrt() takes one argument"},
        {"max(1)", SS_EPARSE, "max() takes two arguments"},
        {"nosuch(1)", SS_EPARSE, "unknown function 'nosuch'"},
        {"1/0", SS_ENUMERIC, "not a finite number"},
        {"(1+2", SS_EPARSE, "missing ')'"},
        {"1 2", SS_EPARSE, "unexpected '2'"},
        {"1 ? 2", SS_EPARSE, "'?' without ':'"},
        {"3V", SS_OK, NULL}, /* a unit after the number, as SPICE reads it */
        {"", SS_EPARSE, "unexpected"},
        {"{}", SS_EPARSE, "unexpected"},
        {"1..2", SS_EPARSE, "not a number"},
    };
    for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
        double v;
        ss_error err = {0, ""};
        int rc = ss_netlist_eval(c[k].text, lookup, NULL, &v, &err);
        ck_assert_msg(rc == c[k].code, "%s: rc %d, want %d (%s)", c[k].text, rc, c[k].code, err.msg);
        if (c[k].msg)
            ck_assert_msg(strstr(err.msg, c[k].msg), "%s: '%s' not in '%s'", c[k].text, c[k].msg,
                          err.msg);
        /* the code also without an error struct */
        ck_assert_int_eq(ss_netlist_eval(c[k].text, lookup, NULL, &v, NULL), c[k].code);
    }
    /* no lookup: only numbers and pi */
    double v;
    ck_assert_int_eq(ss_netlist_eval("pi*2", NULL, NULL, &v, NULL), SS_OK);
    ck_assert_int_eq(ss_netlist_eval("wu", NULL, NULL, &v, NULL), SS_ENOTFOUND);
    /* deep nesting is refused, not a stack overflow */
    char deep[4096];
    memset(deep, '(', 2000);
    deep[2000] = '1';
    memset(deep + 2001, ')', 2000);
    deep[4001] = '\0';
    ck_assert_int_eq(ss_netlist_eval(deep, NULL, NULL, &v, NULL), SS_EPARSE);
    memset(deep, '-', 4000);
    deep[4000] = '1';
    deep[4001] = '\0';
    ck_assert_int_eq(ss_netlist_eval(deep, NULL, NULL, &v, NULL), SS_EPARSE);
}
END_TEST

/* The tokens of statements as ngspice's reader splits them. */
START_TEST(tokens)
{
    char **t;
    size_t n;
    ck_assert_int_eq(ss_netlist_tokens("M1 d g s b n18 w = {2 * wu} l='lu + 1u' m=2", &t, &n),
                     SS_OK);
    ck_assert_uint_eq(n, 9);
    ck_assert_str_eq(t[6], "w={2 * wu}");
    ck_assert_str_eq(t[7], "l='lu + 1u'");
    ss_netlist_names_free(t, n);
    ck_assert_int_eq(ss_netlist_tokens("V1 a 0 PWL(0 0 1m 1)", &t, &n), SS_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(t[3], "PWL(0 0 1m 1)");
    ss_netlist_names_free(t, n);
    ck_assert_int_eq(ss_netlist_tokens("", &t, &n), SS_OK);
    ck_assert_uint_eq(n, 0);
    ss_netlist_names_free(t, n);
}
END_TEST

Suite *netlist_expr_suite(void)
{
    Suite *s = suite_create("netlist_expr");
    TCase *tc = tcase_create("Core");
    tcase_add_test(tc, values);
    tcase_add_test(tc, errors);
    tcase_add_test(tc, tokens);
    suite_add_tcase(s, tc);
    return s;
}
