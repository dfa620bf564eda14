/*
 * HTTP exchanges with Vault: a pool of kept-alive libcurl handles, retries
 * within each call's deadline, one 307 followed by hand, TLS run in the
 * library context the client was given.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "internal.h"

/* What one call carries from attempt to attempt. */
typedef struct vc_exchange {
    vc_client *client;
    const vc_request *req;
    CURL *handle;
    OSSL_LIB_CTX *libctx;
    struct curl_slist *headers;
    char *token;
    char *url;
    char *refused_redirect; /* a Location we would not follow */
    long long deadline;
    int redirected;
    CURLcode code;
    long status;
    long retry_after_ms;
    int too_large;
    vc_strbuf body;
    char errbuf[CURL_ERROR_SIZE];
} vc_exchange;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* Outside any library context swap: libcurl's OpenSSL initialisation may
 * load openssl.cnf, which belongs in the application's default context. */
static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/*
 * Around every libcurl call that may run TLS: the private library context
 * becomes the thread's default, and whatever libcurl's OpenSSL leaves on the
 * error queue is dropped afterwards. The outcome reaches the caller through
 * vc_error; a stale entry would make the application's next OpenSSL call
 * (a TLS handshake, say) fail for no reason of its own.
 */
static OSSL_LIB_CTX *exchange_enter(OSSL_LIB_CTX *libctx)
{
    ERR_set_mark();
    return libctx == NULL ? NULL : OSSL_LIB_CTX_set0_default(libctx);
}

static void exchange_leave(OSSL_LIB_CTX *prev)
{
    if (prev != NULL)
        OSSL_LIB_CTX_set0_default(prev);
    ERR_pop_to_mark();
}

static void handle_close(CURL *h, OSSL_LIB_CTX *libctx)
{
    OSSL_LIB_CTX *prev = exchange_enter(libctx);

    curl_easy_cleanup(h);
    exchange_leave(prev);
}

/*
 * In a forked child the idle handles hold the parent's connections: closing
 * them could write a TLS close_notify on the parent's sockets, so the child
 * forgets them (a deliberate leak) and opens its own. Called under the lock.
 */
static void pool_check_fork(vc_client *c)
{
    pid_t pid = getpid();

    if (c->pid == pid)
        return;
    c->nidle = 0;
    c->pid = pid;
}

static CURL *pool_take(vc_client *c, OSSL_LIB_CTX **libctx)
{
    CURL *h = NULL;

    pthread_mutex_lock(&c->lock);
    pool_check_fork(c);
    if (c->nidle > 0)
        h = c->idle[--c->nidle];
    *libctx = c->tls_libctx;
    pthread_mutex_unlock(&c->lock);
    return h != NULL ? h : curl_easy_init();
}

static void pool_put(vc_client *c, CURL *h, OSSL_LIB_CTX *libctx)
{
    int kept = 0;

    pthread_mutex_lock(&c->lock);
    pool_check_fork(c);
    if (c->nidle < VC_POOL_MAX) {
        c->idle[c->nidle++] = h;
        kept = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (!kept)
        handle_close(h, libctx);
}

void vc_http_pool_clear(vc_client *c)
{
    size_t i;

    if (c->pid != getpid())
        return;
    for (i = 0; i < c->nidle; i++)
        handle_close(c->idle[i], c->tls_libctx);
    c->nidle = 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    vc_exchange *x = arg;
    size_t len = size * n;

    if (len > (size_t)VC_MAX_RESPONSE - x->body.len) {
        x->too_large = 1;
        return 0;
    }
    vc_sb_add(&x->body, data, len);
    return x->body.oom ? 0 : len;
}

static void headers_free(struct curl_slist *headers)
{
    struct curl_slist *h;

    /* The token header is in here. */
    for (h = headers; h != NULL; h = h->next)
        OPENSSL_cleanse(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

static int add_header(struct curl_slist **list, const char *name,
                      const char *value)
{
    vc_strbuf sb = {0};
    struct curl_slist *l;
    char *line;

    vc_sb_adds(&sb, name);
    vc_sb_adds(&sb, value);
    if ((line = vc_sb_take(&sb)) == NULL)
        return 0;
    l = curl_slist_append(*list, line);
    vc_free_secret(line);
    if (l == NULL)
        return 0;
    *list = l;
    return 1;
}

static vc_status build_headers(vc_exchange *x, const char *token,
                               const vc_op *op, vc_error *err)
{
    const char *ns = x->client->cfg.namespace_name;
    int ok = 1;

    if (ns != NULL && strpbrk(ns, "\r\n") != NULL)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                           "the namespace holds a line break");
    ok = ok && add_header(&x->headers, "X-Vault-Token: ", token);
    if (ns != NULL && *ns != '\0')
        ok = ok && add_header(&x->headers, "X-Vault-Namespace: ", ns);
    ok = ok && add_header(&x->headers, "X-Vault-Request: ", "true");
    if (x->req->body != NULL)
        ok =
            ok && add_header(&x->headers, "Content-Type: ", "application/json");
    /* No "Expect: 100-continue" round trip before larger bodies. */
    ok = ok && add_header(&x->headers, "Expect:", "");
    return ok ? VC_OK : vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
}

/* Options that are the same for every request of the client. */
static int setup_client_options(CURL *h, const vc_client *c)
{
    const vc_config *cfg = &c->cfg;
    int bad = 0;

    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "vault-provider");
    bad |=
        curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (cfg->ca_cert != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, cfg->ca_cert);
    if (cfg->ca_path != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CAPATH, cfg->ca_path);
    if (cfg->client_cert != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->client_cert);
    if (cfg->client_key != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->client_key);
    if (cfg->skip_verify) {
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->connect_to != NULL)
        bad |= curl_easy_setopt(h, CURLOPT_CONNECT_TO, c->connect_to);
    return !bad;
}

static int setup_request(CURL *h, vc_exchange *x, long remaining)
{
    const char *body = x->req->body;
    int bad = 0;

    curl_easy_reset(h); /* keeps the live connection */
    if (!setup_client_options(h, x->client))
        return 0;
    bad |= curl_easy_setopt(h, CURLOPT_URL, x->url);
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, remaining);
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, remaining);
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->headers);
    if (strcmp(x->req->method, "GET") == 0)
        return !bad && curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) == CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_POST, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
    bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE,
                            body ? (long)strlen(body) : 0L);
    return !bad;
}

/* One transfer to x->url within what is left of the deadline. */
static void transfer(vc_exchange *x)
{
    long remaining = (long)(x->deadline - vc_now_ms());
    long long t0 = vc_now_us();
    curl_off_t retry_after = 0;
    long connects = 0;
    OSSL_LIB_CTX *prev;

    x->status = 0;
    x->retry_after_ms = 0;
    x->too_large = 0;
    x->errbuf[0] = '\0';
    vc_sb_free(&x->body);
    if (!setup_request(x->handle, x, remaining > 0 ? remaining : 1)) {
        x->code = CURLE_FAILED_INIT;
        return;
    }
    prev = exchange_enter(x->libctx);
    x->code = curl_easy_perform(x->handle);
    exchange_leave(prev);

    curl_easy_getinfo(x->handle, CURLINFO_RESPONSE_CODE, &x->status);
    curl_easy_getinfo(x->handle, CURLINFO_NUM_CONNECTS, &connects);
    curl_easy_getinfo(x->handle, CURLINFO_RETRY_AFTER, &retry_after);
    atomic_fetch_add(&x->client->connections, connects);
    if (retry_after > 0 && retry_after < 3600)
        x->retry_after_ms = (long)retry_after * 1000;
    vc_log(VC_LOG_DEBUG, "http %s %s status=%ld curl=%d ms=%.1f new_conn=%ld",
           x->req->method, x->url, x->status, (int)x->code,
           (double)(vc_now_us() - t0) / 1000.0, connects);
}

/*
 * Vault's standby nodes answer 307 to the active node: follow one, only to
 * the same scheme, re-sending the request as it was. Returns 1 when it did;
 * otherwise notes the refused Location for the error message.
 */
static int follow_redirect(vc_exchange *x)
{
    const char *scheme = x->client->https ? "https://" : "http://";
    char *location = NULL, *url;

    curl_easy_getinfo(x->handle, CURLINFO_REDIRECT_URL, &location);
    if (location == NULL)
        return 0;
    if (x->redirected || strncasecmp(location, scheme, strlen(scheme)) != 0) {
        free(x->refused_redirect);
        x->refused_redirect = strdup(location);
        return 0;
    }
    if ((url = strdup(location)) == NULL)
        return 0;
    vc_log(VC_LOG_INFO, "redirected to %s", url);
    free(x->url);
    x->url = url;
    x->redirected = 1;
    transfer(x);
    return 1;
}

static vc_status classify(vc_exchange *x, const vc_op *op, vc_error *err)
{
    char detail[300];

    if (x->too_large)
        return vc_error_op(err, VC_ERR_UNEXPECTED_RESPONSE, op, x->status,
                           "answer larger than 4 MiB");
    if (x->body.oom)
        return vc_error_op(err, VC_ERR_NO_MEMORY, op, x->status, NULL);
    if (x->code == CURLE_FAILED_INIT)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                           "libcurl refused the request's settings");
    if (x->code != CURLE_OK)
        return vc_error_from_curl(err, op, x->code, x->errbuf);
    if (x->status >= 200 && x->status < 300)
        return VC_OK;
    if (x->status == 307) {
        snprintf(detail, sizeof(detail), "redirect to %s not followed",
                 x->refused_redirect ? x->refused_redirect : "(none)");
        return vc_error_op(err, VC_ERR_UNEXPECTED_RESPONSE, op, 307, detail);
    }
    /* A proxy may echo the request back: the message quotes only the first
     * bytes of a body that is not JSON, which could cut the token short of
     * what redacting the message afterwards would find. */
    vc_redact(x->body.data, x->body.len, x->token);
    return vc_error_from_http(err, op, x->status, x->body.data, x->body.len);
}

int vc_http_retryable(vc_status kind, long http_status, CURLcode code)
{
    /* A refused certificate or unusable settings fail the same way again. */
    if (kind == VC_ERR_TLS_VERIFY || kind == VC_ERR_CONFIG)
        return 0;
    switch (code) {
    case CURLE_OK:
        break;
    /* Refused, or a kept-alive connection the server had closed. */
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
    switch (http_status) {
    case 412: /* consistency, or an Agent wanting X-Vault-Request */
    case 429:
    case 502:
    case 504:
        return 1;
    case 503:
        return kind != VC_ERR_SEALED;
    default:
        return 0; /* 500 included: Transit reports user mistakes so */
    }
}

/*
 * Whether Vault surely did not act on the request: nothing was connected,
 * or the request was turned away before any handler ran. A lost answer or
 * a gateway error leaves open whether it did.
 */
static int not_handled(const vc_exchange *x)
{
    if (x->code != CURLE_OK)
        return x->code == CURLE_COULDNT_CONNECT;
    return x->status == 412 || x->status == 429;
}

/* Milliseconds to wait before the next attempt, or -1 for no retry. */
static long retry_delay(const vc_exchange *x, vc_status kind, int attempt)
{
    static const long backoff_ms[] = {100, 400};
    /* A retry with less time than this would only turn into a timeout. */
    const long min_budget_ms = 100;
    long wait, remaining;

    if (attempt > 2 || !vc_http_retryable(kind, x->status, x->code))
        return -1;
    if (!x->req->repeatable && !not_handled(x))
        return -1;
    wait = backoff_ms[attempt - 1];
    if (x->retry_after_ms > wait)
        wait = x->retry_after_ms;
    remaining = (long)(x->deadline - vc_now_ms());
    return wait + min_budget_ms <= remaining ? wait : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static vc_status run_attempts(vc_exchange *x, const vc_op *op, vc_error *err)
{
    vc_status st;
    long wait;
    int attempt;

    for (attempt = 1;; attempt++) {
        if (vc_now_ms() >= x->deadline)
            return vc_error_op(err, VC_ERR_TIMEOUT, op, 0,
                               "no answer within the timeout");
        transfer(x);
        while (x->code == CURLE_OK && x->status == 307 && follow_redirect(x))
            ;
        st = classify(x, op, err);
        if (st == VC_OK)
            return st;
        /* Before the retry below logs the message. */
        vc_error_redact(err, x->token);
        if ((wait = retry_delay(x, st, attempt)) < 0)
            return st;
        vc_log(VC_LOG_INFO, "%s mount=%s key=%s retry in %ld ms after: %s",
               op->op, op->mount, op->key, wait, err->message);
        sleep_ms(wait);
    }
}

static void warn_skip_verify(vc_client *c)
{
    if (!c->cfg.skip_verify || !c->https ||
        atomic_exchange(&c->warned_skip_verify, 1))
        return;
    vc_log(VC_LOG_ERROR,
           "TLS verification is OFF for %s (skip_verify): the server's "
           "identity is not checked and the token can be intercepted",
           c->base_url);
}

static vc_status exchange_start(vc_exchange *x, const vc_op *op, vc_error *err)
{
    vc_strbuf sb = {0};
    vc_status st;

    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK)
        return vc_error_op(err, VC_ERR_NETWORK, op, 0,
                           "libcurl could not be initialised");
    st = vc_auth_token(x->client, op, &x->token, err);
    if (st == VC_OK)
        st = build_headers(x, x->token, op, err);
    if (st != VC_OK)
        return st;
    vc_sb_adds(&sb, x->client->base_url);
    vc_sb_adds(&sb, "/v1/");
    vc_sb_adds(&sb, x->req->path);
    x->url = vc_sb_take(&sb);
    x->handle = pool_take(x->client, &x->libctx);
    if (x->url == NULL || x->handle == NULL)
        return vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
    warn_skip_verify(x->client);
    return VC_OK;
}

vc_status vc_http_send(vc_client *c, const vc_op *op, const vc_request *req,
                       vc_response *resp, vc_error *err)
{
    vc_exchange x = {0};
    long long start = vc_now_us();
    vc_error local;
    vc_status st;

    /* Retries are decided and logged on the classified error. */
    if (err == NULL)
        err = &local;
    memset(resp, 0, sizeof(*resp));
    x.client = c;
    x.req = req;
    x.deadline = start / 1000 + c->cfg.timeout_ms;
    st = exchange_start(&x, op, err);
    if (st == VC_OK)
        st = run_attempts(&x, op, err);
    resp->len = x.body.len;
    if (st == VC_OK && (resp->body = vc_sb_take(&x.body)) == NULL)
        resp->body = strdup("");
    if (st == VC_OK && resp->body == NULL)
        st = vc_error_op(err, VC_ERR_NO_MEMORY, op, x.status, NULL);
    resp->status = x.status;
    resp->ms = (double)(vc_now_us() - start) / 1000.0;

    if (x.handle != NULL)
        pool_put(c, x.handle, x.libctx);
    vc_free_secret(x.token);
    headers_free(x.headers);
    vc_sb_free(&x.body);
    free(x.url);
    free(x.refused_redirect);
    return st;
}

void vc_response_clear(vc_response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}
