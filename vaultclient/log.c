/*
 * The log: "off|error|info|debug[:PATH]" picks the level and the sink. One
 * line per event in one write(2); callers never pass secrets or bodies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Errors are on by default: the only error-level event is one nobody
 * else reports (TLS verification switched off). */
static atomic_int log_level = VC_LOG_ERROR;
static int log_fd = STDERR_FILENO; /* guarded by log_lock */

static const char *const level_names[] = {"off", "error", "info", "debug"};

/*
 * The lock is held across write(2): a fork while another thread writes
 * would leave the child a lock nobody can release, and its first log line
 * would hang. Holding the lock over fork keeps it consistent on both sides.
 */
static void log_prefork(void)
{
    pthread_mutex_lock(&log_lock);
}

static void log_postfork(void)
{
    pthread_mutex_unlock(&log_lock);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void log_atfork(void)
{
    pthread_atfork(log_prefork, log_postfork, log_postfork);
}

static void log_lock_take(void)
{
    pthread_once(&atfork_once, log_atfork);
    pthread_mutex_lock(&log_lock);
}

vc_status vc_log_parse(const char *setting, vc_log_level *level, char **path)
{
    const char *colon = strchr(setting, ':');
    size_t n = colon ? (size_t)(colon - setting) : strlen(setting);
    int i;

    *path = NULL;
    for (i = VC_LOG_OFF; i <= VC_LOG_DEBUG; i++) {
        if (strlen(level_names[i]) == n &&
            strncasecmp(setting, level_names[i], n) == 0)
            break;
    }
    if (i > VC_LOG_DEBUG || (colon != NULL && colon[1] == '\0'))
        return VC_ERR_CONFIG;
    *level = (vc_log_level)i;
    if (colon == NULL)
        return VC_OK;
    *path = strdup(colon + 1);
    return *path == NULL ? VC_ERR_NO_MEMORY : VC_OK;
}

vc_status vc_log_configure(const char *setting)
{
    vc_log_level level;
    char *path = NULL;
    int fd = STDERR_FILENO, old;
    vc_status st;

    if (setting == NULL || *setting == '\0')
        return VC_OK;
    st = vc_log_parse(setting, &level, &path);
    if (st != VC_OK)
        return st;
    if (path != NULL) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        free(path);
        if (fd < 0)
            return VC_ERR_CONFIG;
    }

    log_lock_take();
    old = log_fd;
    log_fd = fd;
    atomic_store(&log_level, level);
    pthread_mutex_unlock(&log_lock);
    if (old != STDERR_FILENO)
        close(old);
    return VC_OK;
}

int vc_log_enabled(vc_log_level level)
{
    return level != VC_LOG_OFF && (int)level <= atomic_load(&log_level);
}

/* "2025-01-31T12:00:00.123Z vault-provider[42] info: " */
static int log_prefix(char *buf, size_t size, vc_log_level level)
{
    struct timespec ts;
    struct tm tm;
    char when[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    return snprintf(buf, size, "%s.%03ldZ vault-provider[%ld] %s: ", when,
                    ts.tv_nsec / 1000000, (long)getpid(), level_names[level]);
}

void vc_log(vc_log_level level, const char *fmt, ...)
{
    char prefix[96], *line, *p;
    int np, nm;
    va_list ap;

    if (!vc_log_enabled(level))
        return;
    np = log_prefix(prefix, sizeof(prefix), level);
    if (np >= (int)sizeof(prefix))
        np = (int)sizeof(prefix) - 1;
    va_start(ap, fmt);
    nm = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (np < 0 || nm < 0 || (line = malloc((size_t)np + nm + 2)) == NULL)
        return;
    memcpy(line, prefix, (size_t)np);
    va_start(ap, fmt);
    vsnprintf(line + np, (size_t)nm + 1, fmt, ap);
    va_end(ap);
    for (p = line + np; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    line[np + nm] = '\n';

    log_lock_take();
    /* A log line that cannot be written is dropped: nothing to report to. */
    if (write(log_fd, line, (size_t)np + nm + 1) < 0)
        errno = 0;
    pthread_mutex_unlock(&log_lock);
    free(line);
}
