/* check_pool.c: the worker pool's fault handling (crash, timeout, failure,
 * exit) and the results journal (create, refuse, resume, torn rows, header
 * checks, the failure log). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pool/ss_pool.h"
#include "tests/ss_test.h"

Suite *pool_suite(void);

/* ---- the pool, with a test job kind ------------------------------------------ */

char *pool_test_held; /* what a "grow" job keeps */

static int test_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                    ss_error *err)
{
    (void)state, (void)arg;
    const char *r = req;
    if (len >= 4 && !strncmp(r, "segv", 4))
        raise(SIGSEGV);
    if (len >= 5 && !strncmp(r, "sleep", 5))
        sleep(30);
    if (len >= 4 && !strncmp(r, "fail", 4))
        return ss_error_set(err, SS_ESIM, "failed on purpose");
    if (len >= 4 && !strncmp(r, "exit", 4))
        _exit(3);
    if (len >= 4 && !strncmp(r, "grow", 4)) {
        /* keeps 40 MB (touched, so resident) for the rest of the worker's life */
        char *keep = malloc(40 << 20);
        if (keep)
            memset(keep, 1, 40 << 20);
        pool_test_held = keep;
    }
    ss_buf_printf(reply, "pid %d ", (int)getpid());
    return ss_buf_add(reply, req, len);
}

static const ss_pool_kind test_kind = {"test", NULL, test_run, NULL};

START_TEST(test_pool_faults)
{
    static const char *const reqs[] = {"echo0", "segv", "echo2", "sleep", "echo4",
                                       "fail",  "exit", "echo7", "echo8", "segv"};
    static const int want[] = {SS_OK, SS_ECRASH, SS_OK, SS_ETIMEOUT, SS_OK,
                               SS_ESIM, SS_ECRASH, SS_OK, SS_OK, SS_ECRASH};
    enum { NJ = sizeof reqs / sizeof reqs[0] };
    ss_error err;
    double t0 = ss_util_now();
    ss_pool *p = ss_pool_alloc(&test_kind, NULL, 2, 0.5, &err);
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < NJ; i++)
        ck_assert_int_eq(ss_pool_submit(p, (uint64_t)i, reqs[i], strlen(reqs[i]), &err),
                         SS_OK);
    int seen[NJ] = {0};
    while (ss_pool_pending(p)) {
        ss_pool_reply r;
        int got;
        ck_assert_int_eq(ss_pool_next(p, -1, &r, &got, &err), SS_OK);
        ck_assert(got && r.id < NJ);
        seen[r.id]++;
        ck_assert_msg(r.status == want[r.id], "job %d (%s): status %d (%s), want %d",
                      (int)r.id, reqs[r.id], r.status, r.msg, want[r.id]);
        if (r.status == SS_OK)
            ck_assert_ptr_nonnull(strstr(r.data, reqs[r.id]));
        if (r.id == 1) /* "killed by signal 11", or ASan's exit status under SANITIZE */
            ck_assert_ptr_nonnull(strstr(r.msg, "worker"));
        if (r.id == 5)
            ck_assert_str_eq(r.msg, "failed on purpose");
        if (r.id == 3)
            ck_assert(r.seconds >= 0.5 && r.seconds < 2);
        free(r.data);
    }
    for (int i = 0; i < NJ; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert(ss_util_now() - t0 < 5);
    ss_pool_free(p);
}
END_TEST

/* A conversation: the job sends its counter, the caller answers with the
 * counter plus the job's id; after five rounds the job returns the sum.  A
 * job asked "die" crashes after its first message. */
static int talk_run(void *state, void *arg, const void *req, size_t len, ss_buf *reply,
                    ss_error *err)
{
    (void)state, (void)arg, (void)len;
    long v = strtol(req, NULL, 10);
    ss_buf ans = SS_BUF_INIT;
    for (int round = 0; round < 5; round++) {
        char m[32];
        snprintf(m, sizeof m, "%ld", v);
        int rc = ss_pool_job_message(m, strlen(m), &ans, err);
        if (rc)
            return ss_buf_release(&ans), rc;
        if (!strcmp(ans.data, "die"))
            raise(SIGSEGV);
        if (!strcmp(ans.data, "slow"))
            sleep(1); /* longer than the timeout, but not while waiting */
        v = strtol(ans.data, NULL, 10);
    }
    ss_buf_release(&ans);
    return ss_buf_printf(reply, "%ld", v);
}

static const ss_pool_kind talk_kind = {"talk", NULL, talk_run, NULL};

START_TEST(test_pool_conversation)
{
    ss_error err;
    /* 0.6 s per job, but the caller takes 0.8 s to answer one message of
     * job 1 and job 2 runs 1 s between two messages */
    ss_pool *p = ss_pool_alloc(&talk_kind, NULL, 3, 0.6, &err);
    ck_assert_ptr_nonnull(p);
    for (uint64_t id = 0; id < 3; id++) {
        char r[8];
        snprintf(r, sizeof r, "%d", (int)id);
        ck_assert_int_eq(ss_pool_submit(p, id, r, strlen(r), &err), SS_OK);
    }
    int messages[3] = {0}, ended[3] = {0};
    long result[3] = {0};
    while (ss_pool_pending(p)) {
        ss_pool_reply r;
        int got;
        ck_assert_int_eq(ss_pool_next(p, -1, &r, &got, &err), SS_OK);
        ck_assert(got && r.id < 3);
        if (r.message) {
            ck_assert_int_eq(r.status, SS_OK);
            ck_assert(!ended[r.id]);
            long v = strtol(r.data, NULL, 10) + (long)r.id + 1;
            char a[32];
            if (r.id == 1 && messages[1] == 2)
                usleep(800000);
            if (r.id == 2 && messages[2] == 3)
                snprintf(a, sizeof a, "slow");
            else if (r.id == 0 && messages[0] == 4)
                snprintf(a, sizeof a, "die");
            else
                snprintf(a, sizeof a, "%ld", v);
            messages[r.id]++;
            ck_assert_int_eq(ss_pool_answer(p, r.id, a, strlen(a), &err), SS_OK);
            /* a second answer finds nobody waiting */
            ck_assert_int_eq(ss_pool_answer(p, r.id, a, strlen(a), &err), SS_ENOTFOUND);
        } else {
            ended[r.id] = 1;
            if (r.status == SS_OK)
                result[r.id] = strtol(r.data, NULL, 10);
            if (r.id == 0)
                ck_assert_int_eq(r.status, SS_ECRASH);
            else if (r.id == 1)
                ck_assert_msg(r.status == SS_OK, "%s", r.msg);
            else
                ck_assert_int_eq(r.status, SS_ETIMEOUT);
        }
        free(r.data);
    }
    ck_assert_int_eq(messages[0], 5);
    ck_assert_int_eq(messages[1], 5);
    ck_assert_int_eq(result[1], 1 + 5 * 2); /* five rounds of +2 */
    ck_assert_int_eq(messages[2], 4);
    /* outside a worker there is nobody to talk to */
    ss_buf ans = SS_BUF_INIT;
    ck_assert_int_eq(ss_pool_job_message("x", 1, &ans, &err), SS_EINVAL);
    ss_pool_free(p);
}
END_TEST

/* A worker whose resident memory passed SMALLSIM_MAX_WORKER_RSS retires
 * after its reply: every job still succeeds, and the next one runs in a new
 * process.  Below the threshold the same worker runs every job. */
START_TEST(test_pool_recycles_big_workers)
{
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: 30 MB, below one grown worker (40 MB kept); pass 1: 4 GB */
        setenv("SMALLSIM_MAX_WORKER_RSS", pass ? "4G" : "30M", 1);
        ss_error err;
        ss_pool *p = ss_pool_alloc(&test_kind, NULL, 1, 30, &err);
        ck_assert_ptr_nonnull(p);
        for (int i = 0; i < 4; i++)
            ck_assert_int_eq(ss_pool_submit(p, (uint64_t)i, "grow", 4, &err), SS_OK);
        int pids[4], n = 0;
        while (ss_pool_pending(p)) {
            ss_pool_reply r;
            int got;
            ck_assert_int_eq(ss_pool_next(p, -1, &r, &got, &err), SS_OK);
            if (!got)
                continue;
            ck_assert_msg(r.status == SS_OK, "job %d: %s", (int)r.id, r.msg);
            ck_assert_int_eq(sscanf(r.data, "pid %d", &pids[n]), 1);
            n++;
            free(r.data);
        }
        ck_assert_int_eq(n, 4);
        if (pass == 0) {
            ck_assert_int_eq((int)ss_pool_recycled(p), 4);
            for (int i = 1; i < 4; i++)
                ck_assert_int_ne(pids[i], pids[i - 1]);
        } else {
            ck_assert_int_eq((int)ss_pool_recycled(p), 0);
            for (int i = 1; i < 4; i++)
                ck_assert_int_eq(pids[i], pids[0]);
        }
        ss_pool_free(p);
    }
    unsetenv("SMALLSIM_MAX_WORKER_RSS");
}
END_TEST

/* ---- the journal ------------------------------------------------------------- */

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    ss_error err;
    ck_assert_msg(ss_util_read_file(path, &text, &len, &err) == SS_OK, "%s", err.msg);
    return text;
}

START_TEST(test_journal_resume)
{
    const char *dir = ss_test_tmpdir();
    char path[1024], logpath[1100];
    snprintf(path, sizeof path, "%s/j.csv", dir);
    snprintf(logpath, sizeof logpath, "%s.log", path);
    unsigned char done[8] = {0};
    size_t skipped = 99;
    ss_error err;
    /* A new journal: the header, then rows as they come. */
    ss_pool_journal *j = ss_pool_journal_open(path, "job,v", NULL, 0, done, 8, &skipped, &err);
    ck_assert_msg(j != NULL, "%s", err.msg);
    ck_assert_uint_eq(skipped, 0);
    ck_assert_int_eq(ss_pool_journal_append(j, "3,2.385\n", &err), SS_OK);
    ck_assert_int_eq(ss_pool_journal_append(j, "5,-1e-9\n", &err), SS_OK);
    ss_pool_journal_log(j, 5, "timeout", "no result after 1 s");
    ss_pool_journal_close(j);
    char *text = slurp(path);
    ck_assert_str_eq(text, "job,v\n3,2.385\n5,-1e-9\n");
    free(text);
    text = slurp(logpath);
    ck_assert_str_eq(text, "job 5: timeout: no result after 1 s\n");
    free(text);
    /* Without resume an existing journal is refused. */
    ck_assert_ptr_null(ss_pool_journal_open(path, "job,v", NULL, 0, done, 8, &skipped, &err));
    ck_assert_msg(strstr(err.msg, "already exists"), "%s", err.msg);
    /* A torn last row (killed mid-write) is cut off on resume. */
    FILE *f = fopen(path, "a");
    fputs("7,0.", f);
    fclose(f);
    long valid = 0;
    memset(done, 0, sizeof done);
    ck_assert_int_eq(ss_pool_journal_scan(path, "job,v", done, 8, &valid, &err), SS_OK);
    ck_assert_int_eq(valid, (long)strlen("job,v\n3,2.385\n5,-1e-9\n"));
    for (int k = 0; k < 8; k++)
        ck_assert_int_eq(done[k], k == 3 || k == 5);
    memset(done, 0, sizeof done);
    j = ss_pool_journal_open(path, "job,v", NULL, 1, done, 8, &skipped, &err);
    ck_assert_msg(j != NULL, "%s", err.msg);
    ck_assert_uint_eq(skipped, 2);
    ck_assert_int_eq(ss_pool_journal_append(j, "7,0.5\n", &err), SS_OK);
    ss_pool_journal_close(j);
    text = slurp(path);
    ck_assert_str_eq(text, "job,v\n3,2.385\n5,-1e-9\n7,0.5\n");
    free(text);
    /* Closing nothing is fine. */
    ss_pool_journal_close(NULL);
}
END_TEST

START_TEST(test_journal_errors)
{
    const char *dir = ss_test_tmpdir();
    unsigned char done[4] = {0};
    long valid = 0;
    ss_error err;
    /* A missing file is an empty journal. */
    char missing[1024];
    snprintf(missing, sizeof missing, "%s/none.csv", dir);
    ck_assert_int_eq(ss_pool_journal_scan(missing, "job,v", done, 4, &valid, &err), SS_OK);
    ck_assert_int_eq(valid, 0);
    /* Another run's header, a malformed row and a job out of range name
     * the file and the line. */
    const char *p = ss_test_write(dir, "other.csv", "job,w\n0,1\n");
    ck_assert_int_eq(ss_pool_journal_scan(p, "job,v", done, 4, &valid, &err), SS_EPARSE);
    ck_assert_msg(strstr(err.msg, "other.csv:1: the header differs"), "%s", err.msg);
    p = ss_test_write(dir, "bad.csv", "job,v\n0,1\n1;2\n");
    ck_assert_int_eq(ss_pool_journal_scan(p, "job,v", done, 4, &valid, &err), SS_EPARSE);
    ck_assert_msg(strstr(err.msg, "bad.csv:3: malformed row"), "%s", err.msg);
    p = ss_test_write(dir, "range.csv", "job,v\n4,1\n");
    ck_assert_int_eq(ss_pool_journal_scan(p, "job,v", done, 4, &valid, &err), SS_EPARSE);
    ck_assert_msg(strstr(err.msg, "range.csv:2: job 4 is not in this run"), "%s", err.msg);
    /* A torn header (killed while writing it) counts as empty. */
    p = ss_test_write(dir, "torn.csv", "jo");
    ck_assert_int_eq(ss_pool_journal_scan(p, "job,v", done, 4, &valid, &err), SS_OK);
    ck_assert_int_eq(valid, 0);
    /* An unwritable place (missing folders are made, so: below a file). */
    size_t skipped;
    char nodir[1024];
    snprintf(nodir, sizeof nodir, "%s/j.csv", ss_test_write(dir, "plain", "x"));
    ck_assert_ptr_null(ss_pool_journal_open(nodir, "job,v", NULL, 0, done, 4, &skipped, &err));
    ck_assert_msg(strstr(err.msg, "plain/j.csv") && strstr(err.msg, "Not a directory"), "%s",
                  err.msg);
    ck_assert_ptr_null(ss_pool_journal_open(nodir, "job,v", NULL, 0, done, 4, &skipped, NULL));
}
END_TEST

Suite *pool_suite(void)
{
    Suite *s = suite_create("pool");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_pool_faults);
    tcase_add_test(tc, test_pool_conversation);
    tcase_add_test(tc, test_pool_recycles_big_workers);
    suite_add_tcase(s, tc);
    tc = tcase_create("journal");
    tcase_add_test(tc, test_journal_resume);
    tcase_add_test(tc, test_journal_errors);
    suite_add_tcase(s, tc);
    return s;
}
