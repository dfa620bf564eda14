/*
 * Interfaces shared by the files of the vaultclient library and exposed to
 * its unit tests. Nothing here is part of the public API in vaultclient.h.
 */
#ifndef VC_INTERNAL_H
#define VC_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "vaultclient.h"

/* Larger answers are refused: no Transit answer comes near this. */
#define VC_MAX_RESPONSE (4L * 1024 * 1024)
/* Idle handles kept for reuse; more are closed when they come back. */
#define VC_POOL_MAX 64
/* Longer timeouts are cut to this. */
#define VC_MAX_TIMEOUT_MS (24L * 3600 * 1000)
/* A token file larger than this is not a token file. */
#define VC_MAX_TOKEN_FILE (64L * 1024)

/* A growing string; after a failed allocation every append is a no-op. */
typedef struct vc_strbuf {
    char *data;
    size_t len;
    size_t cap;
    int oom;
} vc_strbuf;

void vc_sb_add(vc_strbuf *sb, const char *s, size_t n);
void vc_sb_adds(vc_strbuf *sb, const char *s);
/* Appends n bytes of s percent-encoded: only RFC 3986 unreserved bytes
 * stay as they are. */
void vc_sb_add_escaped(vc_strbuf *sb, const char *s, size_t n);
/* The string (caller frees), or NULL after an allocation failure. */
char *vc_sb_take(vc_strbuf *sb);
void vc_sb_free(vc_strbuf *sb);

/* Cleanses and frees a string that held a secret; NULL is fine. */
void vc_free_secret(char *s);
/* Monotonic clock in milliseconds and in microseconds. */
long long vc_now_ms(void);
long long vc_now_us(void);

/* Strict standard base64 with padding (the alphabet Vault uses). */
char *vc_base64_encode(const unsigned char *in, size_t len);
vc_status vc_base64_decode(const char *in, size_t len, unsigned char **out,
                           size_t *outlen);

/* What a request was about, for error messages and logs. */
typedef struct vc_op {
    const char *op; /* "sign", "verify", "read", "rotate", "create" */
    const char *mount;
    const char *key;
    const char *address;
} vc_op;

/*
 * "vault transit: <kind>: <op> mount=M key=K address=A status=S: detail".
 * status is left out when 0 (no HTTP answer), detail when NULL or empty.
 * op NULL gives "response" in place of the operation and its names.
 */
vc_status vc_error_op(vc_error *err, vc_status kind, const vc_op *op,
                      long http_status, const char *detail);

/* Classifies an HTTP answer that was not a success (status >= 300). */
vc_status vc_error_from_http(vc_error *err, const vc_op *op, long http_status,
                             const char *body, size_t len);

/* Classifies a transfer that failed before an HTTP answer. */
vc_status vc_error_from_curl(vc_error *err, const vc_op *op, CURLcode code,
                             const char *detail);

/*
 * Vault's error messages from an error body, unwrapped from the
 * "N error(s) occurred:" form and joined with "; "; a short, printable
 * excerpt when the body is not JSON; NULL when there is nothing to say.
 */
char *vc_vault_messages(const char *body, size_t len);

/* Replaces every occurrence of secret in len bytes of text (which may hold
 * NULs, as an HTTP body may) with asterisks. */
void vc_redact(char *text, size_t len, const char *secret);
/* The same over the message of err. */
void vc_error_redact(vc_error *err, const char *secret);

/* Parses a log setting; *path (malloc'd) is NULL for stderr. */
vc_status vc_log_parse(const char *setting, vc_log_level *level, char **path);
int vc_log_enabled(vc_log_level level);

/* A token kept from a file until the file changes. */
typedef struct vc_token_file {
    char *path;
    char *token; /* trimmed contents; NULL before the first read */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime;
} vc_token_file;

struct vc_client {
    vc_config cfg;
    const char *mount;             /* cfg.mount or the default */
    char *base_url;                /* scheme://host[:port][/prefix], no slash */
    int https;                     /* base_url is https */
    struct curl_slist *connect_to; /* for tls_server_name, or NULL */

    pthread_mutex_t lock; /* guards the fields below */
    pid_t pid;            /* the process the idle handles belong to */
    CURL **idle;          /* VC_POOL_MAX slots */
    size_t nidle;
    OSSL_LIB_CTX *tls_libctx;
    vc_token_file token_file; /* cfg.token_file */
    vc_token_file home_token; /* ~/.vault-token */

    atomic_long connections;
    atomic_int warned_skip_verify;
};

/*
 * Splits an address into the base URL requests go to and, when server_name
 * is set, the CURLOPT_CONNECT_TO entry that sends that name's connections to
 * the real host: the URL then carries the server name, so libcurl uses it for
 * SNI and certificate checks.
 */
vc_status vc_address_parse(const char *address, const char *server_name,
                           char **base_url, char **connect_to, int *https,
                           vc_error *err);

/* The token for the next request (malloc'd; free with vc_free_secret). */
vc_status vc_auth_token(vc_client *client, const vc_op *op, char **token,
                        vc_error *err);

typedef struct vc_request {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* after "/v1/", already escaped */
    const char *body;   /* JSON, or NULL */
    /*
     * 1 when sending it twice does no harm (sign, verify, read, create). 0
     * retries only failures that show Vault did not act on it: a second
     * rotation would add a key version nobody asked for.
     */
    int repeatable;
} vc_request;

typedef struct vc_response {
    long status;
    char *body; /* NUL-terminated; never NULL after a success */
    size_t len;
    double ms; /* the whole call, retries included */
} vc_response;

/*
 * Sends one request with the client's token, retrying what is safe to
 * retry within cfg.timeout_ms. VC_OK means a 2xx answer, in resp; anything
 * else is classified in err (resp->status holds the last HTTP status).
 */
vc_status vc_http_send(vc_client *client, const vc_op *op,
                       const vc_request *req, vc_response *resp, vc_error *err);
void vc_response_clear(vc_response *resp);

/* Closes the idle handles (not in a forked child: they are the parent's). */
void vc_http_pool_clear(vc_client *client);

/* Whether a failed attempt may be sent again. */
int vc_http_retryable(vc_status kind, long http_status, CURLcode code);

/*
 * "<mount segments>/<action>/<name>[/<suffix>]", each part escaped: the
 * path of a vc_request, which vc_http_send puts after "/v1/".
 */
vc_status vc_transit_path(const char *mount, const char *action,
                          const char *name, const char *suffix, char **path,
                          vc_error *err);

/* Parse steps of the Transit answers, given the request for messages. */
vc_status vc_parse_key_doc(const char *body, size_t len, const vc_op *op,
                           vc_transit_key **out, vc_error *err);
vc_status vc_parse_sign_answer(const char *body, size_t len, const vc_op *op,
                               unsigned char **sig, size_t *siglen,
                               int *version, vc_error *err);
vc_status vc_parse_verify_answer(const char *body, size_t len, const vc_op *op,
                                 int *valid, vc_error *err);
/* The answer's "data" object; also logs its warnings at info. */
vc_status vc_parse_envelope(const char *body, size_t len, const vc_op *op,
                            cJSON **root, const cJSON **data, vc_error *err);

#endif
