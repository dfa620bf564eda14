/*
 * Errors: the status texts users see, the one-line messages that carry the
 * operation, key, address and Vault's own words, and the classification of
 * HTTP answers and transfer failures into those statuses.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define VC_PREFIX "vault transit: "
/* How much of a body that is not JSON an error message may quote. */
#define VC_EXCERPT 160

const char *vc_status_text(vc_status status)
{
    switch (status) {
    case VC_OK:
        return "success";
    case VC_ERR_PERMISSION_DENIED:
        return "permission denied";
    case VC_ERR_KEY_NOT_FOUND:
        return "key not found";
    case VC_ERR_CONNECTION_REFUSED:
        return "connection refused";
    case VC_ERR_TIMEOUT:
        return "timeout";
    case VC_ERR_SEALED:
        return "Vault is sealed";
    case VC_ERR_TLS_VERIFY:
        return "TLS verification failed";
    case VC_ERR_UNEXPECTED_RESPONSE:
        return "unexpected response";
    case VC_ERR_REJECTED:
        return "request rejected";
    case VC_ERR_NETWORK:
        return "network error";
    case VC_ERR_CONFIG:
        return "invalid configuration";
    case VC_ERR_UNSUPPORTED:
        return "unsupported";
    case VC_ERR_NO_MEMORY:
        return "out of memory";
    }
    return "unknown error";
}

vc_status vc_error_set(vc_error *err, vc_status status, long http_status,
                       const char *fmt, ...)
{
    va_list ap;
    int n;

    if (err == NULL)
        return status;
    err->status = status;
    err->http_status = http_status;
    n = snprintf(err->message, sizeof(err->message), VC_PREFIX "%s",
                 vc_status_text(status));
    if (fmt == NULL || n < 0 || (size_t)n + 2 >= sizeof(err->message))
        return status;
    memcpy(err->message + n, ": ", 3);
    n += 2;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
    va_end(ap);
    return status;
}

vc_status vc_error_op(vc_error *err, vc_status kind, const vc_op *op,
                      long http_status, const char *detail)
{
    char status[32] = "";
    const char *sep = detail != NULL && *detail != '\0' ? ": " : "";

    if (detail == NULL)
        detail = "";
    if (http_status > 0)
        snprintf(status, sizeof(status), " status=%ld", http_status);
    if (op == NULL)
        return vc_error_set(err, kind, http_status, "response%s%s%s", status,
                            sep, detail);
    return vc_error_set(err, kind, http_status,
                        "%s mount=%s key=%s address=%s%s%s%s", op->op,
                        op->mount ? op->mount : "-", op->key ? op->key : "-",
                        op->address ? op->address : "-", status, sep, detail);
}

/* Control bytes would split the one-line message: make them spaces. */
static void make_printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
    }
}

/* Adds the items of "N error(s) occurred:\n\t* a\n\t* b\n\n", or msg itself. */
static void add_unwrapped(vc_strbuf *sb, const char *msg)
{
    const char *p = msg, *nl;
    int items = 0;

    if (!isdigit((unsigned char)*msg) || strstr(msg, " occurred:") == NULL) {
        vc_sb_adds(sb, msg);
        return;
    }
    for (; *p != '\0'; p = nl + (*nl != '\0')) {
        nl = strchr(p, '\n');
        if (nl == NULL)
            nl = p + strlen(p);
        while (p < nl && (*p == '\t' || *p == ' '))
            p++;
        if (nl - p < 2 || p[0] != '*' || p[1] != ' ')
            continue;
        if (items++ > 0)
            vc_sb_adds(sb, "; ");
        vc_sb_add(sb, p + 2, (size_t)(nl - p - 2));
    }
    if (items == 0)
        vc_sb_adds(sb, msg);
}

static void add_excerpt(vc_strbuf *sb, const char *body, size_t len)
{
    size_t i, n = len < VC_EXCERPT ? len : VC_EXCERPT;

    vc_sb_adds(sb, "non-JSON body: ");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)body[i];
        char out = c < 0x20 ? ' ' : c < 0x7f ? (char)c : '?';

        vc_sb_add(sb, &out, 1);
    }
    if (n < len)
        vc_sb_adds(sb, "...");
}

static int all_space(const char *body, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (!isspace((unsigned char)body[i]))
            return 0;
    }
    return 1;
}

char *vc_vault_messages(const char *body, size_t len)
{
    vc_strbuf sb = {0};
    cJSON *root, *errors, *item;
    int n = 0;

    if (body == NULL || all_space(body, len))
        return NULL;
    root = cJSON_ParseWithLength(body, len);
    if (root == NULL) {
        add_excerpt(&sb, body, len);
        goto out;
    }
    errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    if (!cJSON_IsArray(errors))
        errors = NULL;
    cJSON_ArrayForEach(item, errors)
    {
        if (!cJSON_IsString(item) || item->valuestring[0] == '\0')
            continue;
        if (n++ > 0)
            vc_sb_adds(&sb, "; ");
        add_unwrapped(&sb, item->valuestring);
    }
    cJSON_Delete(root);

out:
    if (sb.data == NULL) {
        vc_sb_free(&sb);
        return NULL;
    }
    make_printable(sb.data);
    return vc_sb_take(&sb);
}

static int contains_nocase(const char *haystack, const char *needle)
{
    return haystack != NULL && strcasestr(haystack, needle) != NULL;
}

static vc_status http_kind(long status, const char *messages)
{
    if (status == 403)
        return VC_ERR_PERMISSION_DENIED;
    /* A missing key on read, and a missing mount ("no handler for route"). */
    if (status == 404)
        return VC_ERR_KEY_NOT_FOUND;
    /* "signing key not found", "encryption key not found", ... */
    if (status == 400 && contains_nocase(messages, "key not found"))
        return VC_ERR_KEY_NOT_FOUND;
    if (status == 503 && (contains_nocase(messages, "sealed") ||
                          contains_nocase(messages, "no active vault")))
        return VC_ERR_SEALED;
    /* Redirects reach here only when not followed. */
    if (status >= 300 && status < 400)
        return VC_ERR_UNEXPECTED_RESPONSE;
    return VC_ERR_REJECTED;
}

vc_status vc_error_from_http(vc_error *err, const vc_op *op, long http_status,
                             const char *body, size_t len)
{
    char *messages = vc_vault_messages(body, len);
    vc_status kind = http_kind(http_status, messages);

    vc_error_op(err, kind, op, http_status, messages);
    free(messages);
    return kind;
}

static vc_status curl_kind(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return VC_ERR_CONNECTION_REFUSED;
    case CURLE_OPERATION_TIMEDOUT:
        return VC_ERR_TIMEOUT;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return VC_ERR_TLS_VERIFY;
    /* Files named by the settings that cannot be used: a local mistake. */
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
        return VC_ERR_CONFIG;
    case CURLE_OUT_OF_MEMORY:
        return VC_ERR_NO_MEMORY;
    default:
        return VC_ERR_NETWORK;
    }
}

/*
 * The TLS alerts by which a server turns our client certificate down (or
 * asks for one we did not send). libcurl reports them as a generic send,
 * receive or handshake error, which would read as a network fault.
 */
static int client_cert_refused(const char *detail)
{
    static const char *const alerts[] = {
        "alert certificate required", "alert bad certificate",
        "alert unknown ca", "alert certificate unknown"};
    size_t i;

    for (i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
        if (strstr(detail, alerts[i]) != NULL)
            return 1;
    return 0;
}

vc_status vc_error_from_curl(vc_error *err, const vc_op *op, CURLcode code,
                             const char *detail)
{
    char text[400];

    if (detail == NULL || *detail == '\0')
        detail = curl_easy_strerror(code);
    if (client_cert_refused(detail)) {
        snprintf(text, sizeof(text),
                 "the server refused the client certificate (set "
                 "client_cert and client_key if Vault requires one): %s",
                 detail);
        return vc_error_op(err, VC_ERR_TLS_VERIFY, op, 0, text);
    }
    return vc_error_op(err, curl_kind(code), op, 0, detail);
}

void vc_redact(char *text, size_t len, const char *secret)
{
    size_t n;
    char *p, *end = text + len;

    if (text == NULL || secret == NULL || *secret == '\0')
        return;
    n = strlen(secret);
    /* Searching on after each hit: a secret of asterisks matches its own
     * replacement, and a search from the start would never end. */
    while ((p = memmem(text, (size_t)(end - text), secret, n)) != NULL) {
        memset(p, '*', n);
        text = p + n;
    }
}

void vc_error_redact(vc_error *err, const char *secret)
{
    if (err != NULL)
        vc_redact(err->message, strlen(err->message), secret);
}
