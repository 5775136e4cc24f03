/* check_util.c: numbers, buffers, errors, files. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/ss_test.h"
#include "util/ss_util.h"

START_TEST(spice_numbers)
{
    static const struct {
        const char *s;
        double v;
    } ok[] = {{"2.385", 2.385}, {"1e-6", 1e-6}, {"10k", 1e4},      {"4.7u", 4.7e-6},
              {"3meg", 3e6},    {"3MEG", 3e6},  {"5ms", 5e-3},     {"1.5mil", 1.5 * 25.4e-6},
              {"10pF", 1e-11},  {"-2.5n", -2.5e-9}, {"1f", 1e-15}, {"2G", 2e9},
              {"7T", 7e12},     {"5V", 5.0},    {" 12 ", 12.0}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        double v = 0;
        ck_assert_msg(ss_util_parse_spice_number(ok[i].s, &v) == SS_OK, "'%s' refused", ok[i].s);
        ck_assert_double_eq_tol(v, ok[i].v, fabs(ok[i].v) * 1e-14);
    }
    double exact;
    ck_assert_int_eq(ss_util_parse_spice_number("200n", &exact), SS_OK);
    ck_assert(exact == 2e-7); /* correctly rounded, not 200 * 1e-9 */
    ck_assert_int_eq(ss_util_parse_spice_number("4.7u", &exact), SS_OK);
    ck_assert(exact == 4.7e-6);
    static const char *const bad[] = {"", "k", "nan", "inf", "0x10", "1k2", "1e999", "1..2", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v;
        ck_assert_msg(ss_util_parse_spice_number(bad[i], &v) == SS_EINVAL, "'%s' accepted", bad[i]);
    }
}
END_TEST

START_TEST(plain_doubles)
{
    double v;
    ck_assert_int_eq(ss_util_parse_double("2.385e3", &v), SS_OK);
    ck_assert_double_eq(v, 2385.0);
    ck_assert_int_eq(ss_util_parse_double("1k", &v), SS_EINVAL);
    ck_assert_int_eq(ss_util_parse_double("nan", &v), SS_EINVAL);
    char buf[32];
    ss_util_format_double(buf, 0.1);
    ck_assert_int_eq(ss_util_parse_double(buf, &v), SS_OK);
    ck_assert(v == 0.1); /* exact round trip */
}
END_TEST

START_TEST(errors_and_buffers)
{
    ss_error err;
    ck_assert_int_eq(ss_error_set(&err, SS_EPARSE, "%s:%d: bad", "a.cir", 3), SS_EPARSE);
    ck_assert_str_eq(err.msg, "a.cir:3: bad");
    ck_assert_int_eq(ss_error_prefix(&err, SS_EPARSE, "job %d", 7), SS_EPARSE);
    /* the failure's code comes back also when nobody wants the message */
    ck_assert_int_eq(ss_error_prefix(NULL, SS_ENOMEM, "job %d", 8), SS_ENOMEM);
    ss_error e2;
    ss_error_set(&e2, SS_EIO, "short read");
    ck_assert_int_eq(ss_error_prefix(&e2, SS_EPARSE, "%s:%d", "b.csv", 2), SS_EPARSE);
    ck_assert_int_eq(e2.code, SS_EPARSE);
    ck_assert_str_eq(e2.msg, "b.csv:2: short read");
    ck_assert_str_eq(err.msg, "job 7: a.cir:3: bad");
    ck_assert_int_eq(ss_error_set(NULL, SS_EIO, "ignored"), SS_EIO);
    ck_assert_str_eq(ss_strerror(SS_ETIMEOUT), "timeout");
    ck_assert_str_eq(ss_strerror(-3), "unknown error");
    ss_buf b = SS_BUF_INIT;
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(ss_buf_printf(&b, "%d,", i), SS_OK);
    ck_assert_uint_eq(b.len, strlen(b.data));
    ck_assert(!strncmp(b.data, "0,1,2,", 6));
    ck_assert(strstr(b.data, "999,") == b.data + b.len - 4);
    ss_buf_release(&b);
}
END_TEST

START_TEST(files)
{
    const char *dir = ss_test_tmpdir();
    char path[600], *text;
    size_t len;
    ss_error err;
    snprintf(path, sizeof path, "%s/out.txt", dir);
    ck_assert_int_eq(ss_util_write_file_atomic(path, "hello\n", 6, &err), SS_OK);
    ck_assert_int_eq(ss_util_read_file(path, &text, &len, &err), SS_OK);
    ck_assert_uint_eq(len, 6);
    ck_assert_str_eq(text, "hello\n");
    free(text);
    snprintf(path, sizeof path, "%s/none", dir);
    ck_assert_int_eq(ss_util_read_file(path, &text, &len, &err), SS_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
    snprintf(path, sizeof path, "%s/nul.bin", dir);
    ck_assert_int_eq(ss_util_write_file_atomic(path, "a\nb\0c", 5, &err), SS_OK);
    ck_assert_int_eq(ss_util_read_file(path, &text, &len, &err), SS_EPARSE);
    ck_assert_ptr_nonnull(strstr(err.msg, ":2: binary data"));
    /* a folder that cannot be made: below a regular file */
    snprintf(path, sizeof path, "%s/nul.bin/dir/x", dir);
    ck_assert_int_eq(ss_util_write_file_atomic(path, "a", 1, &err), SS_EIO);
}
END_TEST

/* The published FNV-1a 64 test vectors and the first outputs of Vigna's
 * reference splitmix64.c (seeds 0 and 1234567). */
START_TEST(hash_and_mixer)
{
    ck_assert(ss_util_fnv1a(SS_UTIL_FNV_INIT, "", 0) == 0xcbf29ce484222325ULL);
    ck_assert(ss_util_fnv1a(SS_UTIL_FNV_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
    ck_assert(ss_util_fnv1a(SS_UTIL_FNV_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
    /* continuing a hash is hashing the concatenation */
    ck_assert(ss_util_fnv1a(ss_util_fnv1a(SS_UTIL_FNV_INIT, "foo", 3), "bar", 3) ==
              0x85944171f73967e8ULL);
    ck_assert(ss_util_mix64(0) == 0xe220a8397b1dcdafULL);
    ck_assert(ss_util_mix64(1234567) == 6457827717110365317ULL);
    /* the generator's state advances by the gamma: its second output */
    ck_assert(ss_util_mix64(1234567 + 0x9e3779b97f4a7c15ULL) == 3203168211198807973ULL);
}
END_TEST

/* The one JSON reader and writer: doubles back to the bit, non-finite as
 * null, syntax errors with file:line, and the line of a nested value. */
START_TEST(json_round_trip)
{
    const double v[] = {0.1 + 0.2, 1.0 / 3, 6.02214076e23, -2.385e-12, 5e-324, 1.7976931348623157e308};
    json_t *o = json_object(), *a = json_array();
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        ck_assert_int_eq(json_array_append_new(a, ss_json_number(v[k])), 0);
    json_array_append_new(a, ss_json_number(NAN));
    json_object_set_new(o, "v", a);
    ck_assert_int_eq(ss_json_set_number(o, "inf", INFINITY), SS_OK);
    ss_buf b = SS_BUF_INIT;
    ck_assert_int_eq(ss_json_dump(o, &b, NULL), SS_OK);
    json_decref(o);
    ss_error err;
    json_t *r;
    ck_assert_msg(ss_json_parse(b.data, "x.json", &r, &err) == SS_OK, "%s", err.msg);
    json_t *ra = json_object_get(r, "v");
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        ck_assert_msg(json_number_value(json_array_get(ra, k)) == v[k], "%.17g came back as %.17g",
                      v[k], json_number_value(json_array_get(ra, k)));
    ck_assert(json_is_null(json_array_get(ra, 6)));
    ck_assert(json_is_null(json_object_get(r, "inf")));
    json_decref(r);
    ss_buf_release(&b);
    ck_assert_int_eq(ss_json_parse("{\n\"a\": 1,\n\"b\": }", "y.json", &r, NULL), SS_EPARSE);
    ck_assert_int_eq(ss_json_parse("{\n\"a\": 1,\n\"b\": }", "y.json", &r, &err), SS_EPARSE);
    ck_assert_msg(!strncmp(err.msg, "y.json:3: ", 10), "%s", err.msg);
    ck_assert_int_eq(ss_json_parse("{\"a\": 1, \"a\": 2}", "z.json", &r, &err), SS_EPARSE);
    ck_assert_int_eq(ss_json_load("/nonexistent/q.json", &r, NULL, &err), SS_EIO);
    /* lines of values, by key path: the same key at other depths is skipped */
    const char *text = "{\n  \"params\": {\"r_on\": 1},\n  \"device\": {\n    \"model\": \"x\",\n"
                       "    \"params\": {\n      \"note\": \"{\\\"r_on\\\": [\",\n"
                       "      \"r_on\": 5\n    }\n  }\n}\n";
    const char *k3[] = {"device", "params", "r_on"}, *k2[] = {"device", "model"},
               *k1[] = {"params"}, *kx[] = {"device", "colour"};
    ck_assert_int_eq(ss_json_line(text, k3, 3), 7);
    ck_assert_int_eq(ss_json_line(text, k2, 2), 4);
    ck_assert_int_eq(ss_json_line(text, k1, 1), 2);
    ck_assert_int_eq(ss_json_line(text, kx, 2), 1);
    /* strings: escaped by Jansson; bytes that are not UTF-8 become '?' */
    o = json_array();
    json_array_append_new(o, ss_json_string("a\"b\\c\n\x01", 7));
    json_array_append_new(o, ss_json_string("run-\xe9t\xc3\xa9.csv", 12));
    b = (ss_buf)SS_BUF_INIT;
    ck_assert_int_eq(ss_json_dump(o, &b, NULL), SS_OK);
    json_decref(o);
    ck_assert_msg(strstr(b.data, "\"a\\\"b\\\\c\\n\\u0001\""), "%s", b.data);
    ck_assert_msg(strstr(b.data, "\"run-?t??.csv\""), "%s", b.data);
    ss_buf_release(&b);
}
END_TEST

/* Outputs: parent folders made, only regular files replaced. */
START_TEST(outputs)
{
    const char *dir = ss_test_tmpdir();
    char path[1024], fifo[1024];
    ss_error err;
    snprintf(path, sizeof path, "%s/a/b/c.csv", dir);
    FILE *f = ss_util_open_output(path, "w", &err);
    ck_assert_msg(f != NULL, "%s", err.msg);
    fputs("x\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/d/e.json", dir);
    ck_assert_int_eq(ss_util_write_file_atomic(path, "{}", 2, &err), SS_OK);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    ck_assert_ptr_null(ss_util_open_output(fifo, "w", &err));
    ck_assert_int_eq(err.code, SS_EDENIED);
    ck_assert_ptr_nonnull(strstr(err.msg, "named pipe"));
    ck_assert_int_eq(ss_util_write_file_atomic(dir, "x", 1, &err), SS_EDENIED);
    ck_assert_ptr_nonnull(strstr(err.msg, "folder"));
    /* the code comes back without an error struct too */
    ck_assert_int_eq(ss_util_write_file_atomic(fifo, "x", 1, NULL), SS_EDENIED);
}
END_TEST

/* The limits table: defaults, raised by their variables (k/M/G/T), and a
 * value that is not a positive number ignored with a word in the message. */
START_TEST(limits)
{
    ss_error err;
    unsetenv("SMALLSIM_MAX_JOBS");
    ck_assert_double_eq(ss_util_limit(SS_LIMIT_JOBS), 1e6);
    ck_assert_int_eq(ss_util_limit_check(SS_LIMIT_JOBS, 1e6, &err, "x"), SS_OK);
    setenv("SMALLSIM_MAX_JOBS", "2k", 1);
    ck_assert_double_eq(ss_util_limit(SS_LIMIT_JOBS), 2000);
    ck_assert_int_eq(ss_util_limit_check(SS_LIMIT_JOBS, 2001, &err, "f.cir:%d: points", 3),
                     SS_EINVAL);
    ck_assert_str_eq(err.msg, "f.cir:3: points: 2001 is above the limit of 2000 jobs in one run "
                              "(raise it with SMALLSIM_MAX_JOBS=N)");
    setenv("SMALLSIM_MAX_JOBS", "1.5M", 1);
    ck_assert_double_eq(ss_util_limit(SS_LIMIT_JOBS), 1.5e6);
    setenv("SMALLSIM_MAX_JOBS", "-3", 1);
    ck_assert_double_eq(ss_util_limit(SS_LIMIT_JOBS), 1e6);
    ck_assert_int_eq(ss_util_limit_check(SS_LIMIT_JOBS, 2e6, &err, "x"), SS_EINVAL);
    ck_assert_msg(strstr(err.msg, "its value '-3' is not a positive number and was ignored"), "%s",
                  err.msg);
    unsetenv("SMALLSIM_MAX_JOBS");
    /* the code comes back without an error struct too */
    ck_assert_int_eq(ss_util_limit_check(SS_LIMIT_STEPS, 1e300, NULL, "x"), SS_EINVAL);
}
END_TEST

Suite *util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, spice_numbers);
    tcase_add_test(tc, plain_doubles);
    tcase_add_test(tc, errors_and_buffers);
    tcase_add_test(tc, files);
    tcase_add_test(tc, hash_and_mixer);
    tcase_add_test(tc, json_round_trip);
    tcase_add_test(tc, outputs);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}
