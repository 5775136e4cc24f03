/* check_main.c: runs every tests/check_<name>.c suite (the list is generated
 * by the Makefile into suites.c).  CK_RUN_SUITE / CK_RUN_CASE narrow a run;
 * CK_FORK=no helps debugging. */
#include <check.h>
#include <gsl/gsl_errno.h>
#include <locale.h>
#include <stdlib.h>

extern Suite *(*const ss_test_suites[])(void);

int main(void)
{
    gsl_set_error_handler_off();
    setlocale(LC_NUMERIC, "C");
    SRunner *sr = srunner_create(NULL);
    for (size_t i = 0; ss_test_suites[i]; i++)
        srunner_add_suite(sr, ss_test_suites[i]());
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
