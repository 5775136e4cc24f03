/* ss_test.h: helpers shared by the test suites (tests/ only). */
#ifndef SS_TEST_H
#define SS_TEST_H

#include <stddef.h>

/* True when SS_LONG=1 (make check-long): slow cases run only then. */
int ss_test_long(void);
/* A fresh temporary folder for one test (under $TMPDIR); never NULL. */
const char *ss_test_tmpdir(void);
/* Writes `text` to dir/name and returns the full path (static buffer rotation of 8). */
const char *ss_test_write(const char *dir, const char *name, const char *text);
/* Path of the smallsim program under test (SS_TEST_PROGRAM, else build/smallsim). */
const char *ss_test_program(void);
/* Runs a shell command, captures stdout+stderr into out (if not NULL) and
 * returns its exit status (or 128+signal). */
int ss_test_sh(char *out, size_t outsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* For MPI tests: once `file` has `min_lines` lines and the process of
 * program `exe` that is MPI rank `rank` (not one of its forked workers)
 * exists, within `timeout` seconds, stops it (SIGSTOP).  Returns its pid,
 * or -1. */
long ss_test_stop_rank(const char *exe, int rank, const char *file, int min_lines,
                       double timeout);

#endif
