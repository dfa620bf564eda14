/*
 * The token of each request: the configured one, else the token file
 * (re-read when it changes), else ~/.vault-token. AppRole login goes here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "internal.h"

/* A token travels in a header: printable ASCII without spaces only. */
static int token_chars_ok(const char *token)
{
    for (; *token != '\0'; token++) {
        if ((unsigned char)*token <= 0x20 || (unsigned char)*token >= 0x7f)
            return 0;
    }
    return 1;
}

static vc_status token_error(const vc_op *op, const char *what,
                             const char *path, const char *why, vc_error *err)
{
    char detail[400];

    snprintf(detail, sizeof(detail), "%s %s%s%s", what, path ? path : "",
             why ? ": " : "", why ? why : "");
    return vc_error_op(err, VC_ERR_CONFIG, op, 0, detail);
}

static int same_file(const vc_token_file *tf, const struct stat *st)
{
    return tf->token != NULL && tf->dev == st->st_dev &&
           tf->ino == st->st_ino && tf->size == st->st_size &&
           tf->mtime.tv_sec == st->st_mtim.tv_sec &&
           tf->mtime.tv_nsec == st->st_mtim.tv_nsec &&
           tf->ctime.tv_sec == st->st_ctim.tv_sec &&
           tf->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

/*
 * Opens a token file that is a regular file of a sane size; EINVAL stands
 * for any other kind of file. O_NONBLOCK: a FIFO put in its place must not
 * hold the request past its timeout.
 */
static int open_token_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), error = 0;

    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0)
        error = errno;
    else if (!S_ISREG(st->st_mode))
        error = EINVAL;
    else if (st->st_size > VC_MAX_TOKEN_FILE)
        error = EFBIG;
    if (error == 0)
        return fd;
    close(fd);
    errno = error;
    return -1;
}

/* Strips white space (and other control bytes) from both ends of the n
 * bytes of buf, in place, cleansing what the token no longer covers. */
static void trim_token(char *buf, size_t n)
{
    char *start = buf, *end = buf + n;

    while (start < end && (unsigned char)*start <= ' ')
        start++;
    while (end > start && (unsigned char)end[-1] <= ' ')
        end--;
    memmove(buf, start, (size_t)(end - start));
    OPENSSL_cleanse(buf + (end - start), n - (size_t)(end - start) + 1);
    buf[end - start] = '\0';
}

/* Reads the whole (small) file, trimmed; sets *st to what was read. */
static char *read_token(const char *path, struct stat *st, int *error)
{
    char *buf = NULL;
    ssize_t n = 0, r;
    int fd = open_token_file(path, st);

    if (fd < 0 || (buf = malloc(VC_MAX_TOKEN_FILE + 1)) == NULL)
        goto err;
    while (n < VC_MAX_TOKEN_FILE &&
           (r = read(fd, buf + n, VC_MAX_TOKEN_FILE - n)) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            goto err;
        n += r;
    }
    close(fd);
    buf[n] = '\0';
    trim_token(buf, (size_t)n);
    return buf;

err:
    *error = errno;
    if (fd >= 0)
        close(fd);
    /* Not vc_free_secret: the buffer has no NUL yet. */
    if (buf != NULL) {
        OPENSSL_cleanse(buf, (size_t)n);
        free(buf);
    }
    return NULL;
}

/* Replaces the cached token of tf (under the client's lock). */
static void token_file_store(vc_token_file *tf, char *token,
                             const struct stat *st)
{
    vc_free_secret(tf->token);
    tf->token = token;
    tf->dev = st->st_dev;
    tf->ino = st->st_ino;
    tf->size = st->st_size;
    tf->mtime = st->st_mtim;
    tf->ctime = st->st_ctim;
}

/*
 * The token in tf's file: the cached copy while stat says the file has not
 * changed, else its new contents. *token is NULL (and VC_OK returned) when
 * the file does not exist and optional is set.
 */
static vc_status token_file_get(vc_client *c, vc_token_file *tf, int optional,
                                const vc_op *op, char **token, vc_error *err)
{
    struct stat st;
    char *fresh;
    int error = 0;

    *token = NULL;
    if (stat(tf->path, &st) == 0) {
        pthread_mutex_lock(&c->lock);
        if (same_file(tf, &st))
            *token = strdup(tf->token);
        pthread_mutex_unlock(&c->lock);
        if (*token != NULL)
            return VC_OK;
    }
    fresh = read_token(tf->path, &st, &error);
    if (fresh == NULL && optional && error == ENOENT)
        return VC_OK;
    if (fresh == NULL)
        return token_error(
            op, "cannot read token file", tf->path,
            error == EINVAL ? "not a regular file" : strerror(error), err);
    if (*fresh == '\0') {
        free(fresh);
        return token_error(op, "token file is empty:", tf->path, NULL, err);
    }
    *token = strdup(fresh);
    pthread_mutex_lock(&c->lock);
    token_file_store(tf, fresh, &st);
    pthread_mutex_unlock(&c->lock);
    if (*token == NULL)
        return vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
    vc_log(VC_LOG_INFO, "token read from %s", tf->path);
    return VC_OK;
}

static vc_status token_lookup(vc_client *c, const vc_op *op, char **token,
                              vc_error *err)
{
    vc_status st;

    if (c->cfg.token != NULL && c->cfg.token[0] != '\0') {
        *token = strdup(c->cfg.token);
        return *token ? VC_OK : vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
    }
    if (c->token_file.path != NULL)
        return token_file_get(c, &c->token_file, 0, op, token, err);
    if (c->home_token.path != NULL) {
        st = token_file_get(c, &c->home_token, 1, op, token, err);
        if (st != VC_OK || *token != NULL)
            return st;
    }
    if (c->cfg.approle_role_id != NULL)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                           "no Vault token: AppRole login is not "
                           "implemented yet; let Vault Agent log in with "
                           "AppRole and point token_file at its sink");
    return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                       "no Vault token: set token or token_file, "
                       "VAULT_TOKEN, or write ~/.vault-token");
}

vc_status vc_auth_token(vc_client *c, const vc_op *op, char **token,
                        vc_error *err)
{
    vc_status st;

    *token = NULL;
    st = token_lookup(c, op, token, err);
    if (st != VC_OK)
        return st;
    if (!token_chars_ok(*token)) {
        vc_free_secret(*token);
        *token = NULL;
        return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                           "the token holds characters a header cannot carry");
    }
    return VC_OK;
}
