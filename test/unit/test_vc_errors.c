/*
 * Unit tests of vaultclient's errors: status texts, message format, the
 * classification of (HTTP status, body) pairs and of libcurl failures,
 * Vault's wrapped messages, redaction and which failures are retried.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static const vc_op sign_op = {"sign", "transit", "k", "https://127.0.0.1:8200"};
static const vc_op read_op = {"read", "team/transit", "app-key",
                              "https://127.0.0.1:8200"};

static void test_status_text(void **state)
{
    static const struct {
        vc_status status;
        const char *text;
    } table[] = {
        {VC_ERR_PERMISSION_DENIED, "permission denied"},
        {VC_ERR_KEY_NOT_FOUND, "key not found"},
        {VC_ERR_CONNECTION_REFUSED, "connection refused"},
        {VC_ERR_TIMEOUT, "timeout"},
        {VC_ERR_SEALED, "Vault is sealed"},
        {VC_ERR_TLS_VERIFY, "TLS verification failed"},
        {VC_ERR_UNEXPECTED_RESPONSE, "unexpected response"},
        {VC_ERR_REJECTED, "request rejected"},
        {VC_ERR_NETWORK, "network error"},
        {VC_ERR_CONFIG, "invalid configuration"},
        {VC_ERR_UNSUPPORTED, "unsupported"},
        {VC_ERR_NO_MEMORY, "out of memory"},
    };
    size_t i;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_string_equal(vc_status_text(table[i].status), table[i].text);
    assert_string_equal(vc_status_text((vc_status)1000), "unknown error");
}

static void test_error_set(void **state)
{
    vc_error err;
    char big[1000];

    assert_int_equal(vc_error_set(&err, VC_ERR_TIMEOUT, 0, "sign key=%s", "k"),
                     VC_ERR_TIMEOUT);
    assert_int_equal(err.status, VC_ERR_TIMEOUT);
    assert_int_equal(err.http_status, 0);
    assert_string_equal(err.message, "vault transit: timeout: sign key=k");
    assert_int_equal(vc_error_set(NULL, VC_ERR_SEALED, 503, "x"),
                     VC_ERR_SEALED);

    /* Long details are cut, never overflow. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    vc_error_set(&err, VC_ERR_REJECTED, 400, "%s", big);
    assert_int_equal(strlen(err.message), sizeof(err.message) - 1);
    assert_true(
        strncmp(err.message, "vault transit: request rejected: aaa", 36) == 0);
}

static void test_error_op_format(void **state)
{
    vc_error err;

    vc_error_op(&err, VC_ERR_KEY_NOT_FOUND, &sign_op, 400,
                "signing key not found");
    assert_string_equal(err.message,
                        "vault transit: key not found: sign mount=transit "
                        "key=k address=https://127.0.0.1:8200 status=400: "
                        "signing key not found");
    assert_int_equal(err.http_status, 400);
    /* No HTTP answer: no status; no detail: no trailing colon. */
    vc_error_op(&err, VC_ERR_TIMEOUT, &sign_op, 0, NULL);
    assert_string_equal(err.message,
                        "vault transit: timeout: sign mount=transit key=k "
                        "address=https://127.0.0.1:8200");
}

typedef struct http_case {
    long status;
    const char *body;
    vc_status kind;
    const char *detail; /* what follows "status=N" in the message */
} http_case;

static const http_case http_cases[] = {
    {403, "{\"errors\":[\"1 error occurred:\\n\\t* permission denied\\n\\n\"]}",
     VC_ERR_PERMISSION_DENIED, ": permission denied"},
    /* Vault 1.17+: an invalid token says so, and the message keeps it. */
    {403,
     "{\"errors\":[\"2 errors occurred:\\n\\t* permission denied\\n\\t* "
     "invalid token\\n\\n\"]}",
     VC_ERR_PERMISSION_DENIED, ": permission denied; invalid token"},
    {403, "{\"errors\":[\"permission denied\",\"invalid token\"]}",
     VC_ERR_PERMISSION_DENIED, ": permission denied; invalid token"},
    {404, "{\"errors\":[]}\n", VC_ERR_KEY_NOT_FOUND, ""},
    {404,
     "{\"errors\":[\"no handler for route \\\"nomount/keys/k\\\". route "
     "entry not found.\"]}",
     VC_ERR_KEY_NOT_FOUND,
     ": no handler for route \"nomount/keys/k\". route entry not found."},
    {400, "{\"errors\":[\"signing key not found\"]}", VC_ERR_KEY_NOT_FOUND,
     ": signing key not found"},
    {400, "{\"errors\":[\"encryption key not found\"]}", VC_ERR_KEY_NOT_FOUND,
     ": encryption key not found"},
    {400, "{\"errors\":[\"signature verification key not found\"]}",
     VC_ERR_KEY_NOT_FOUND, ": signature verification key not found"},
    {400, "{\"errors\":[\"key not found\"]}", VC_ERR_KEY_NOT_FOUND,
     ": key not found"},
    {400, "{\"errors\":[\"invalid hash algorithm \\\"md5\\\"\"]}",
     VC_ERR_REJECTED, ": invalid hash algorithm \"md5\""},
    {400, "{\"errors\":[\"key type aes256-gcm96 does not support signing\"]}",
     VC_ERR_REJECTED, ": key type aes256-gcm96 does not support signing"},
    /* Transit's user mistakes, wrapped as internal errors. */
    {500,
     "{\"errors\":[\"1 error occurred:\\n\\t* requested version for "
     "signing is higher than the latest key version\\n\\n\"]}",
     VC_ERR_REJECTED,
     ": requested version for signing is higher than the latest key "
     "version"},
    {503, "{\"errors\":[\"Vault is sealed\"]}", VC_ERR_SEALED,
     ": Vault is sealed"},
    {503, "{\"errors\":[\"no active Vault instance found\"]}", VC_ERR_SEALED,
     ": no active Vault instance found"},
    {503, "{\"errors\":[\"upstream overloaded\"]}", VC_ERR_REJECTED,
     ": upstream overloaded"},
    {429,
     "{\"errors\":[\"request path \\\"transit/sign/k\\\": rate limit quota "
     "exceeded\"]}",
     VC_ERR_REJECTED,
     ": request path \"transit/sign/k\": rate limit quota exceeded"},
    {502, "<html><body>Bad\r\nGateway</body></html>", VC_ERR_REJECTED,
     ": non-JSON body: <html><body>Bad  Gateway</body></html>"},
    {500, "", VC_ERR_REJECTED, ""},
    {500, "{\"errors\": \"not an array\"}", VC_ERR_REJECTED, ""},
    {500, "{\"errors\": [1, null, \"\", \"real\"]}", VC_ERR_REJECTED, ": real"},
    {301, "", VC_ERR_UNEXPECTED_RESPONSE, ""},
};

static void test_http_classification(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
        const http_case *c = &http_cases[i];
        char expected[600];
        vc_error err;

        print_message("case %zu: %ld %s\n", i, c->status, c->body);
        assert_int_equal(vc_error_from_http(&err, &sign_op, c->status, c->body,
                                            strlen(c->body)),
                         c->kind);
        assert_int_equal(err.status, c->kind);
        assert_int_equal(err.http_status, c->status);
        snprintf(expected, sizeof(expected),
                 "vault transit: %s: sign mount=transit key=k "
                 "address=https://127.0.0.1:8200 status=%ld%s",
                 vc_status_text(c->kind), c->status, c->detail);
        assert_string_equal(err.message, expected);
    }
}

static void test_read_404_message(void **state)
{
    vc_error err;

    assert_int_equal(
        vc_error_from_http(&err, &read_op, 404, "{\"errors\":[]}", 13),
        VC_ERR_KEY_NOT_FOUND);
    assert_string_equal(err.message,
                        "vault transit: key not found: read "
                        "mount=team/transit key=app-key "
                        "address=https://127.0.0.1:8200 status=404");
}

static void test_vault_messages(void **state)
{
    const char *wrapped3 = "{\"errors\":[\"3 errors occurred:\\n\\t* a\\n\\t* "
                           "b b\\n\\t* c\\n\\n\"]}";
    const char *odd = "{\"errors\":[\"1 error occurred: nothing listed\"]}";
    char *m, big[600];

    m = vc_vault_messages(wrapped3, strlen(wrapped3));
    assert_string_equal(m, "a; b b; c");
    free(m);
    m = vc_vault_messages(odd, strlen(odd));
    assert_string_equal(m, "1 error occurred: nothing listed");
    free(m);
    assert_null(vc_vault_messages("  \n", 3));
    assert_null(vc_vault_messages(NULL, 0));
    assert_null(vc_vault_messages("{}", 2));

    /* A huge non-JSON body is quoted briefly, never whole. */
    memset(big, 'x', sizeof(big));
    m = vc_vault_messages(big, sizeof(big));
    assert_non_null(m);
    assert_true(strlen(m) < 200);
    assert_non_null(strstr(m, "..."));
    free(m);
}

static void test_curl_classification(void **state)
{
    static const struct {
        CURLcode code;
        vc_status kind;
    } table[] = {
        {CURLE_COULDNT_CONNECT, VC_ERR_CONNECTION_REFUSED},
        {CURLE_OPERATION_TIMEDOUT, VC_ERR_TIMEOUT},
        {CURLE_PEER_FAILED_VERIFICATION, VC_ERR_TLS_VERIFY},
        {CURLE_SSL_CACERT_BADFILE, VC_ERR_CONFIG},
        {CURLE_SSL_CERTPROBLEM, VC_ERR_CONFIG},
        {CURLE_SSL_CONNECT_ERROR, VC_ERR_NETWORK},
        {CURLE_COULDNT_RESOLVE_HOST, VC_ERR_NETWORK},
        {CURLE_RECV_ERROR, VC_ERR_NETWORK},
        {CURLE_GOT_NOTHING, VC_ERR_NETWORK},
        {CURLE_UNSUPPORTED_PROTOCOL, VC_ERR_CONFIG},
        {CURLE_OUT_OF_MEMORY, VC_ERR_NO_MEMORY},
    };
    size_t i;
    vc_error err;

    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        assert_int_equal(vc_error_from_curl(&err, &sign_op, table[i].code, ""),
                         table[i].kind);

    vc_error_from_curl(&err, &sign_op, CURLE_COULDNT_CONNECT,
                       "Failed to connect to 127.0.0.1 port 1");
    assert_string_equal(err.message,
                        "vault transit: connection refused: sign "
                        "mount=transit key=k address=https://127.0.0.1:8200: "
                        "Failed to connect to 127.0.0.1 port 1");
    assert_int_equal(err.http_status, 0);
    /* Without curl's buffer, curl's own wording of the code. */
    vc_error_from_curl(&err, &sign_op, CURLE_OPERATION_TIMEDOUT, NULL);
    assert_non_null(
        strstr(err.message, curl_easy_strerror(CURLE_OPERATION_TIMEDOUT)));
    /* A server turning the client certificate down, as libcurl words it
     * for TLS 1.3 (on read) and TLS 1.2 (in the handshake). */
    assert_int_equal(vc_error_from_curl(&err, &sign_op, CURLE_RECV_ERROR,
                                        "OpenSSL SSL_read: error:0A00045C:SSL "
                                        "routines::tlsv13 alert certificate "
                                        "required, errno 0"),
                     VC_ERR_TLS_VERIFY);
    assert_non_null(strstr(err.message, "vault transit: TLS verification "
                                        "failed: sign mount=transit key=k"));
    assert_non_null(strstr(err.message, "set client_cert and client_key"));
    assert_int_equal(vc_error_from_curl(&err, &sign_op, CURLE_SSL_CONNECT_ERROR,
                                        "error:0A000412:SSL routines::sslv3 "
                                        "alert bad certificate"),
                     VC_ERR_TLS_VERIFY);
    /* Other receive errors stay network errors. */
    assert_int_equal(vc_error_from_curl(&err, &sign_op, CURLE_RECV_ERROR,
                                        "Connection reset by peer"),
                     VC_ERR_NETWORK);
}

static void test_redact(void **state)
{
    vc_error err;

    vc_error_set(&err, VC_ERR_REJECTED, 400, "hvs.SECRET and hvs.SECRET!");
    vc_error_redact(&err, "hvs.SECRET");
    assert_string_equal(err.message,
                        "vault transit: request rejected: ********** and "
                        "**********!");
    vc_error_redact(&err, "");
    vc_error_redact(&err, NULL);
    vc_error_redact(NULL, "x");
}

/* A secret that matches its own replacement must not loop forever. */
static void test_redact_asterisks(void **state)
{
    vc_error err;

    vc_error_set(&err, VC_ERR_REJECTED, 400, "a ** b *** c");
    vc_error_redact(&err, "**");
    assert_string_equal(err.message,
                        "vault transit: request rejected: a ** b *** c");
    vc_error_set(&err, VC_ERR_REJECTED, 400, "x*y");
    vc_error_redact(&err, "*");
    assert_string_equal(err.message, "vault transit: request rejected: x*y");
}

/* Bodies are redacted whole, past NUL bytes, before any part is quoted. */
static void test_redact_buffer(void **state)
{
    char body[] = "ab\0hvs.T\0hvs.Thvs.T";

    vc_redact(body, sizeof(body) - 1, "hvs.T");
    assert_memory_equal(body, "ab\0*****\0**********", sizeof(body));
    vc_redact(NULL, 0, "x");
}

static void test_retryable(void **state)
{
    /* Statuses worth another try. */
    assert_true(vc_http_retryable(VC_ERR_REJECTED, 412, CURLE_OK));
    assert_true(vc_http_retryable(VC_ERR_REJECTED, 429, CURLE_OK));
    assert_true(vc_http_retryable(VC_ERR_REJECTED, 502, CURLE_OK));
    assert_true(vc_http_retryable(VC_ERR_REJECTED, 503, CURLE_OK));
    assert_true(vc_http_retryable(VC_ERR_REJECTED, 504, CURLE_OK));
    /* A sealed Vault stays sealed; 500 is how Transit reports mistakes. */
    assert_false(vc_http_retryable(VC_ERR_SEALED, 503, CURLE_OK));
    assert_false(vc_http_retryable(VC_ERR_REJECTED, 500, CURLE_OK));
    assert_false(vc_http_retryable(VC_ERR_REJECTED, 501, CURLE_OK));
    /* A receive error is retried unless it was a refused certificate. */
    assert_true(vc_http_retryable(VC_ERR_NETWORK, 0, CURLE_RECV_ERROR));
    assert_false(vc_http_retryable(VC_ERR_TLS_VERIFY, 0, CURLE_RECV_ERROR));
    assert_false(vc_http_retryable(VC_ERR_CONFIG, 0, CURLE_SSL_CERTPROBLEM));
    assert_false(vc_http_retryable(VC_ERR_REJECTED, 400, CURLE_OK));
    assert_false(vc_http_retryable(VC_ERR_PERMISSION_DENIED, 403, CURLE_OK));
    assert_false(vc_http_retryable(VC_ERR_KEY_NOT_FOUND, 404, CURLE_OK));
    /* Connection failures yes, timeouts and TLS no. */
    assert_true(
        vc_http_retryable(VC_ERR_CONNECTION_REFUSED, 0, CURLE_COULDNT_CONNECT));
    assert_true(vc_http_retryable(VC_ERR_NETWORK, 0, CURLE_GOT_NOTHING));
    assert_true(vc_http_retryable(VC_ERR_NETWORK, 0, CURLE_RECV_ERROR));
    assert_true(vc_http_retryable(VC_ERR_NETWORK, 0, CURLE_SEND_ERROR));
    assert_false(
        vc_http_retryable(VC_ERR_TIMEOUT, 0, CURLE_OPERATION_TIMEDOUT));
    assert_false(vc_http_retryable(VC_ERR_TLS_VERIFY, 0,
                                   CURLE_PEER_FAILED_VERIFICATION));
    assert_false(vc_http_retryable(VC_ERR_NETWORK, 0, CURLE_SSL_CONNECT_ERROR));
    assert_false(
        vc_http_retryable(VC_ERR_UNEXPECTED_RESPONSE, 200, CURLE_WRITE_ERROR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_text),
        cmocka_unit_test(test_error_set),
        cmocka_unit_test(test_error_op_format),
        cmocka_unit_test(test_http_classification),
        cmocka_unit_test(test_read_404_message),
        cmocka_unit_test(test_vault_messages),
        cmocka_unit_test(test_curl_classification),
        cmocka_unit_test(test_redact),
        cmocka_unit_test(test_redact_asterisks),
        cmocka_unit_test(test_redact_buffer),
        cmocka_unit_test(test_retryable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
