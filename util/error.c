/* error.c: status codes and the one function every error goes through. */
#include "util/ss_util.h"

#include <stdarg.h>
#include <string.h>

static const char *const status_text[SS_ESTATUS_MAX] = {
    [SS_OK] = "success",
    [SS_EINVAL] = "invalid argument",
    [SS_ENOMEM] = "out of memory",
    [SS_EIO] = "input/output error",
    [SS_EPARSE] = "parse error",
    [SS_EDENIED] = "refused by screening",
    [SS_ESIM] = "simulation error",
    [SS_ETIMEOUT] = "timeout",
    [SS_ECRASH] = "crash",
    [SS_EENGINE] = "engine unusable",
    [SS_EBUSY] = "busy",
    [SS_ENOTFOUND] = "not found",
    [SS_ENUMERIC] = "numerical failure",
};

const char *ss_strerror(int code)
{
    if (code < 0 || code >= SS_ESTATUS_MAX)
        return "unknown error";
    return status_text[code];
}

int ss_error_set(ss_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int ss_error_prefix(ss_error *err, int code, const char *fmt, ...)
{
    char head[256], old[SS_ERROR_MSG_MAX];
    va_list ap;
    if (!err)
        return code;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    int k = snprintf(err->msg, sizeof err->msg, "%s: ", head);
    if (k > 0 && (size_t)k < sizeof err->msg) {
        size_t room = sizeof err->msg - (size_t)k, n = strlen(old);
        memcpy(err->msg + k, old, n < room ? n + 1 : room);
        err->msg[sizeof err->msg - 1] = '\0';
    }
    err->code = code;
    return code;
}

void ss_error_clear(ss_error *err)
{
    if (err) {
        err->code = SS_OK;
        err->msg[0] = '\0';
    }
}
