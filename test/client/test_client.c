/*
 * Integration tests of the vaultclient library over real HTTP on loopback:
 * a scripted server checks what goes on the wire (headers, bodies,
 * redirects, retries, timeouts, reuse, fork), and the Transit test server
 * checks the calls end to end (signatures verified locally with OpenSSL).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"
#include "sim.h"
#include "stub.h"

#define TOKEN "hvs.CAESIJ-test-SECRET-token-0123456789"

static stub primary, secondary;
static char primary_addr[64];

static const char sign_ok[] =
    "{\"request_id\":\"x\",\"data\":{\"signature\":\"vault:v1:AQID\","
    "\"key_version\":1},\"warnings\":null}\n";

static int stubs_up(void **state)
{
    if (stub_start(&primary) != 0 || stub_start(&secondary) != 0)
        return -1;
    snprintf(primary_addr, sizeof(primary_addr), "http://127.0.0.1:%d",
             primary.port);
    return 0;
}

static int stubs_down(void **state)
{
    stub_stop(&primary);
    stub_stop(&secondary);
    return 0;
}

static vc_client *client_for(const char *address, long timeout_ms)
{
    vc_config cfg;
    vc_client *c = NULL;
    vc_error err;

    vc_config_init(&cfg);
    cfg.address = strdup(address);
    cfg.token = strdup(TOKEN);
    cfg.timeout_ms = timeout_ms;
    if (vc_client_new(&cfg, &c, &err) != VC_OK)
        fail_msg("client: %s", err.message);
    vc_config_clear(&cfg);
    return c;
}

static void script1(stub *s, int status, const char *headers, const char *body)
{
    stub_reply r = {status, headers, body, 0};

    stub_script(s, &r, 1);
}

static vc_status sign_once(vc_client *c, const vc_sign_params *p, vc_error *err)
{
    static const unsigned char digest[32] = {1, 2, 3};
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int version = 0;
    vc_status st;

    st = vc_transit_sign(c, "transit", "k", p, digest, sizeof(digest), &sig,
                         &siglen, &version, err);
    if (st == VC_OK) {
        assert_int_equal(version, 1);
        assert_int_equal(siglen, 3);
        assert_memory_equal(sig, "\x01\x02\x03", 3);
    }
    free(sig);
    return st;
}

/* The JSON body of the last request the stub saw. */
static cJSON *last_body(stub *s, char **request)
{
    char *body;
    cJSON *json;

    *request = stub_last_request(s);
    assert_non_null(*request);
    body = strstr(*request, "\r\n\r\n");
    assert_non_null(body);
    json = cJSON_Parse(body + 4);
    assert_non_null(json);
    return json;
}

static const char *json_str(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_wire_headers_and_body(void **state)
{
    vc_sign_params ecdsa = {"sha2-256", 1, NULL, NULL, 0};
    vc_config cfg;
    vc_client *c;
    char *req;
    cJSON *body;

    vc_config_init(&cfg);
    cfg.address = strdup(primary_addr);
    cfg.token = strdup(TOKEN);
    cfg.namespace_name = strdup("team-a");
    assert_int_equal(vc_client_new(&cfg, &c, NULL), VC_OK);
    vc_config_clear(&cfg);
    script1(&primary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &ecdsa, NULL), VC_OK);

    body = last_body(&primary, &req);
    assert_true(strncmp(req, "POST /v1/transit/sign/k HTTP/1.1\r\n", 34) == 0);
    assert_non_null(strstr(req, "\r\nX-Vault-Token: " TOKEN "\r\n"));
    assert_non_null(strstr(req, "\r\nX-Vault-Namespace: team-a\r\n"));
    assert_non_null(strstr(req, "\r\nX-Vault-Request: true\r\n"));
    assert_non_null(strstr(req, "\r\nContent-Type: application/json\r\n"));
    assert_null(strcasestr(req, "\r\nExpect:"));
    assert_string_equal(json_str(body, "input"),
                        "AQIDAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_string_equal(json_str(body, "hash_algorithm"), "sha2-256");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(body, "prehashed")));
    assert_string_equal(json_str(body, "marshaling_algorithm"), "asn1");
    assert_int_equal(cJSON_GetObjectItem(body, "key_version")->valueint, 0);
    assert_null(cJSON_GetObjectItem(body, "signature_algorithm"));
    assert_null(cJSON_GetObjectItem(body, "salt_length"));
    cJSON_Delete(body);
    free(req);
    vc_client_free(c);
}

static void test_wire_ed25519_and_rsa_fields(void **state)
{
    vc_sign_params ed = {NULL, 0, NULL, NULL, 0};
    vc_sign_params pss = {"sha2-384", 1, "pss", "hash", 4};
    vc_client *c = client_for(primary_addr, 5000);
    char *req;
    cJSON *body;

    script1(&primary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &ed, NULL), VC_OK);
    body = last_body(&primary, &req);
    /* Vault 1.19+ refuses either for ed25519. */
    assert_null(cJSON_GetObjectItem(body, "prehashed"));
    assert_null(cJSON_GetObjectItem(body, "hash_algorithm"));
    assert_string_equal(json_str(body, "marshaling_algorithm"), "asn1");
    cJSON_Delete(body);
    free(req);

    assert_int_equal(sign_once(c, &pss, NULL), VC_OK);
    body = last_body(&primary, &req);
    assert_string_equal(json_str(body, "signature_algorithm"), "pss");
    assert_string_equal(json_str(body, "salt_length"), "hash");
    assert_string_equal(json_str(body, "hash_algorithm"), "sha2-384");
    assert_int_equal(cJSON_GetObjectItem(body, "key_version")->valueint, 4);
    cJSON_Delete(body);
    free(req);
    vc_client_free(c);
}

static void test_wire_verify_and_paths(void **state)
{
    static const unsigned char sig[] = {0x30, 0x06, 0xff};
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    char *req;
    cJSON *body;
    int valid = -1;

    script1(&primary, 200, NULL, "{\"data\":{\"valid\":true}}");
    assert_int_equal(vc_transit_verify(c, "team/transit", "my key", &p,
                                       (const unsigned char *)"d", 1, sig,
                                       sizeof(sig), 12, &valid, NULL),
                     VC_OK);
    assert_int_equal(valid, 1);
    body = last_body(&primary, &req);
    assert_true(strncmp(req, "POST /v1/team/transit/verify/my%20key ", 38) ==
                0);
    assert_string_equal(json_str(body, "signature"), "vault:v12:MAb/");
    cJSON_Delete(body);
    free(req);

    /* Reads are GETs with no body and no Content-Type. */
    script1(&primary, 404, NULL, "{\"errors\":[]}");
    {
        vc_transit_key *key = NULL;
        vc_error err;

        assert_int_equal(vc_transit_read_key(c, NULL, "a/b", &key, &err),
                         VC_ERR_KEY_NOT_FOUND);
        assert_null(key);
    }
    req = stub_last_request(&primary);
    assert_true(strncmp(req, "GET /v1/transit/keys/a%2Fb HTTP/1.1\r\n", 37) ==
                0);
    assert_null(strstr(req, "Content-Type"));
    free(req);
    vc_client_free(c);
}

static void test_reuse_one_connection(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    int i;

    script1(&primary, 200, NULL, sign_ok);
    for (i = 0; i < 50; i++)
        assert_int_equal(sign_once(c, &p, NULL), VC_OK);
    assert_int_equal(stub_requests(&primary), 50);
    assert_int_equal(stub_connections(&primary), 1);
    assert_int_equal(vc_client_connections_opened(c), 1);
    vc_client_free(c);
}

typedef struct worker {
    vc_client *client;
    int failures;
} worker;

static void *sign_many(void *arg)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    worker *w = arg;
    int i;

    for (i = 0; i < 25; i++) {
        if (sign_once(w->client, &p, NULL) != VC_OK)
            w->failures++;
    }
    return NULL;
}

static void test_threads(void **state)
{
    vc_client *c = client_for(primary_addr, 5000);
    pthread_t t[4];
    worker w[4];
    int i;

    script1(&primary, 200, NULL, sign_ok);
    for (i = 0; i < 4; i++) {
        w[i].client = c;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, sign_many, &w[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    assert_int_equal(stub_requests(&primary), 100);
    print_message("4 threads x 25 signatures: %d connections\n",
                  stub_connections(&primary));
    assert_in_range(stub_connections(&primary), 1, 4);
    assert_int_equal(vc_client_connections_opened(c),
                     stub_connections(&primary));
    vc_client_free(c);
}

static void test_redirect_followed_once(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    char location[128], back[128], *req;
    vc_error err;

    snprintf(location, sizeof(location),
             "Location: http://127.0.0.1:%d/v1/transit/sign/k\r\n",
             secondary.port);
    script1(&primary, 307, location, "");
    script1(&secondary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &p, NULL), VC_OK);
    assert_int_equal(stub_requests(&primary), 1);
    assert_int_equal(stub_requests(&secondary), 1);
    /* The request went again, whole, to the active node. */
    req = stub_last_request(&secondary);
    assert_true(strncmp(req, "POST /v1/transit/sign/k ", 24) == 0);
    assert_non_null(strstr(req, "\"marshaling_algorithm\":\"asn1\""));
    free(req);

    /* A second redirect in a row is not followed. */
    snprintf(back, sizeof(back),
             "Location: http://127.0.0.1:%d/v1/transit/sign/k\r\n",
             primary.port);
    script1(&secondary, 307, back, "");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_UNEXPECTED_RESPONSE);
    assert_non_null(strstr(err.message, "status=307: redirect to"));
    assert_int_equal(stub_requests(&primary), 2);
    assert_int_equal(stub_requests(&secondary), 1);
    vc_client_free(c);
}

static void test_redirect_other_scheme_refused(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    char location[128];
    vc_error err;

    snprintf(location, sizeof(location),
             "Location: https://127.0.0.1:%d/v1/transit/sign/k\r\n",
             secondary.port);
    script1(&primary, 307, location, "");
    script1(&secondary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_UNEXPECTED_RESPONSE);
    assert_non_null(strstr(err.message, "redirect to https://127.0.0.1:"));
    assert_int_equal(stub_requests(&primary), 1);
    assert_int_equal(stub_connections(&secondary), 0);
    vc_client_free(c);
}

static void test_retry_then_success(void **state)
{
    static const stub_reply replies[] = {
        {503, NULL, "{\"errors\":[\"standby busy\"]}", 0},
        {502, NULL, "bad gateway", 0},
        {200, NULL, sign_ok, 0},
    };
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);

    stub_script(&primary, replies, 3);
    assert_int_equal(sign_once(c, &p, NULL), VC_OK);
    assert_int_equal(stub_requests(&primary), 3);
    vc_client_free(c);
}

static void test_retry_limits(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    vc_error err;

    /* At most two retries. */
    script1(&primary, 429, NULL,
            "{\"errors\":[\"rate limit quota exceeded\"]}");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 3);
    assert_non_null(strstr(err.message, "status=429: rate limit quota"));

    /* Never a 500: Transit reports user mistakes so. */
    script1(&primary, 500, NULL,
            "{\"errors\":[\"1 error occurred:\\n\\t* invalid key "
            "version\\n\\n\"]}");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 1);
    assert_non_null(strstr(err.message, "status=500: invalid key version"));

    /* A sealed Vault stays sealed. */
    script1(&primary, 503, NULL, "{\"errors\":[\"Vault is sealed\"]}");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_SEALED);
    assert_int_equal(stub_requests(&primary), 1);

    /* A Retry-After beyond the deadline ends the call at once. */
    script1(&primary, 429, "Retry-After: 30\r\n",
            "{\"errors\":[\"slow down\"]}");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 1);
    vc_client_free(c);
}

/* A rotation whose answer is lost may have happened: sending it again
 * could add a second version. Only a refusal before handling is retried. */
static void test_rotate_not_repeated(void **state)
{
    static const stub_reply limited[] = {
        {429, NULL, "{\"errors\":[\"rate limit quota exceeded\"]}", 0},
        {204, NULL, "", 0},
    };
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    vc_error err;

    script1(&primary, 502, NULL, "bad gateway");
    assert_int_equal(vc_transit_rotate(c, NULL, "k", &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 1);

    stub_script(&primary, limited, 2);
    assert_int_equal(vc_transit_rotate(c, NULL, "k", &err), VC_OK);
    assert_int_equal(stub_requests(&primary), 2);

    /* Signing is safe to repeat: the same 502 is retried. */
    script1(&primary, 502, NULL, "bad gateway");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 3);
    vc_client_free(c);
}

static void test_bad_answers(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    size_t big_len = 5 * 1024 * 1024;
    char *big = malloc(big_len);
    vc_error err;

    assert_non_null(big);
    memset(big, ' ', big_len);
    script1(&primary, 200, NULL, "garbage, not JSON");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_UNEXPECTED_RESPONSE);
    assert_non_null(strstr(err.message, "status=200: not a JSON object"));

    script1(&primary, 200, NULL,
            "{\"data\":{\"signature\":\"vault:v0:AQID\"}}");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_UNEXPECTED_RESPONSE);

    {
        stub_reply r = {200, NULL, big, big_len};

        stub_script(&primary, &r, 1);
    }
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_UNEXPECTED_RESPONSE);
    assert_non_null(strstr(err.message, "larger than 4 MiB"));
    assert_int_equal(stub_requests(&primary), 1);
    free(big);

    /* Create and rotate: 204 (older Vault) or 200 with the key. */
    script1(&primary, 204, NULL, "");
    assert_int_equal(vc_transit_rotate(c, NULL, "k", &err), VC_OK);
    script1(&primary, 200, NULL,
            "{\"data\":{\"name\":\"k\"},\"warnings\":[\"key k already "
            "existed\"]}");
    assert_int_equal(vc_transit_create(c, NULL, "k", "ecdsa-p256", &err),
                     VC_OK);
    script1(&primary, 200, NULL, "<html>");
    assert_int_equal(vc_transit_create(c, NULL, "k", "ecdsa-p256", &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    script1(&primary, 400, NULL, "{\"errors\":[\"key not found\"]}");
    assert_int_equal(vc_transit_rotate(c, NULL, "k", &err),
                     VC_ERR_KEY_NOT_FOUND);
    vc_client_free(c);
}

static void test_stall_times_out(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 400);
    long long t0;
    vc_error err;

    script1(&primary, 0, NULL, NULL);
    t0 = vc_now_ms();
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_TIMEOUT);
    print_message("stalled server: timeout after %lld ms (timeout 400 ms)\n",
                  vc_now_ms() - t0);
    /* A timeout is not retried: the deadline is the call's, not the try's. */
    assert_int_equal(stub_requests(&primary), 1);
    assert_non_null(strstr(err.message, "vault transit: timeout: sign "));
    assert_null(strstr(err.message, TOKEN));
    vc_client_free(c);
}

static int closed_port(void)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;

    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static void test_connection_refused(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    char address[64], expected[160];
    vc_client *c;
    vc_error err;

    snprintf(address, sizeof(address), "http://127.0.0.1:%d", closed_port());
    c = client_for(address, 5000);
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_CONNECTION_REFUSED);
    snprintf(expected, sizeof(expected),
             "vault transit: connection refused: sign mount=transit key=k "
             "address=%s: ",
             address);
    assert_true(strncmp(err.message, expected, strlen(expected)) == 0);
    assert_int_equal(err.http_status, 0);
    vc_client_free(c);
}

static void test_fork_child_gets_own_connection(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = client_for(primary_addr, 5000);
    int status;
    pid_t pid;

    script1(&primary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &p, NULL), VC_OK);
    assert_int_equal(stub_connections(&primary), 1);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* In the child: must not touch the parent's connection. */
        int ok = sign_once(c, &p, NULL) == VC_OK &&
                 sign_once(c, &p, NULL) == VC_OK &&
                 vc_client_connections_opened(c) == 2;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    /* The parent still has its own connection, untouched by the child. */
    assert_int_equal(sign_once(c, &p, NULL), VC_OK);
    assert_int_equal(stub_requests(&primary), 4);
    assert_int_equal(stub_connections(&primary), 2);
    assert_int_equal(vc_client_connections_opened(c), 1);
    vc_client_free(c);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 1 << 20);

    assert_non_null(f);
    assert_non_null(buf);
    assert_true(fread(buf, 1, (1 << 20) - 1, f) < (1 << 20) - 1);
    fclose(f);
    return buf;
}

/* Neither the token nor the input goes to errors or the debug log. */
static void test_no_secrets_in_errors_or_log(void **state)
{
    static const unsigned char digest[32] = "the-digest-that-is-not-logged!!";
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    char path[] = "/tmp/vc-client-log-XXXXXX", setting[64], *log, *b64;
    vc_client *c = client_for(primary_addr, 5000);
    unsigned char *sig = NULL;
    size_t siglen;
    int version, fd = mkstemp(path);
    vc_error err;

    assert_true(fd >= 0);
    close(fd);
    snprintf(setting, sizeof(setting), "debug:%s", path);
    assert_int_equal(vc_log_configure(setting), VC_OK);

    script1(&primary, 403, NULL,
            "{\"errors\":[\"2 errors occurred:\\n\\t* permission denied\\n\\t* "
            "invalid token\\n\\n\"]}");
    assert_int_equal(vc_transit_sign(c, NULL, "k", &p, digest, sizeof(digest),
                                     &sig, &siglen, &version, &err),
                     VC_ERR_PERMISSION_DENIED);
    assert_non_null(strstr(err.message, "permission denied; invalid token"));
    assert_null(strstr(err.message, TOKEN));
    script1(&primary, 200, NULL, sign_ok);
    assert_int_equal(vc_transit_sign(c, NULL, "k", &p, digest, sizeof(digest),
                                     &sig, &siglen, &version, &err),
                     VC_OK);
    free(sig);
    assert_int_equal(vc_log_configure("error"), VC_OK);

    log = slurp(path);
    b64 = vc_base64_encode(digest, sizeof(digest));
    assert_non_null(strstr(log, "sign mount=transit key=k version=1 "
                                "status=200 ms="));
    assert_non_null(strstr(log, "POST http://127.0.0.1:"));
    assert_null(strstr(log, TOKEN));
    assert_null(strstr(log, "CAESIJ"));
    assert_null(strstr(log, b64));
    free(b64);
    free(log);
    unlink(path);
    vc_client_free(c);
}

/*
 * A proxy that echoes the request puts the token in the body. Neither the
 * message, nor the log lines of the retries, may quote it, even cut short
 * by the excerpt of a body that is not JSON.
 */
static void test_echoed_token_redacted(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    char path[] = "/tmp/vc-client-echo-XXXXXX", setting[64], *log;
    char cut[300];
    vc_client *c = client_for(primary_addr, 5000);
    vc_error err;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    snprintf(setting, sizeof(setting), "debug:%s", path);
    assert_int_equal(vc_log_configure(setting), VC_OK);

    script1(&primary, 502, NULL, "echo: X-Vault-Token: " TOKEN "\r\n");
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_int_equal(stub_requests(&primary), 3);
    assert_non_null(strstr(err.message, "X-Vault-Token: *****"));
    assert_null(strstr(err.message, "CAESIJ"));

    /* The excerpt ends in the middle of the token. */
    memset(cut, 'x', 140);
    snprintf(cut + 140, sizeof(cut) - 140, "%s", TOKEN);
    script1(&primary, 502, NULL, cut);
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_REJECTED);
    assert_non_null(strstr(err.message, "xxx*****"));
    assert_null(strstr(err.message, "CAESIJ"));
    assert_int_equal(vc_log_configure("error"), VC_OK);

    log = slurp(path);
    assert_non_null(strstr(log, "retry in "));
    assert_null(strstr(log, "CAESIJ"));
    free(log);
    unlink(path);
    vc_client_free(c);
}

static void test_no_token_no_request(void **state)
{
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    char home[] = "/tmp/vc-client-home-XXXXXX";
    vc_config cfg;
    vc_client *c = NULL;
    vc_error err;

    assert_non_null(mkdtemp(home));
    setenv("HOME", home, 1);
    vc_config_init(&cfg);
    cfg.address = strdup(primary_addr);
    assert_int_equal(vc_client_new(&cfg, &c, NULL), VC_OK);
    script1(&primary, 200, NULL, sign_ok);
    assert_int_equal(sign_once(c, &p, &err), VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "no Vault token"));
    assert_int_equal(stub_requests(&primary), 0);
    vc_client_free(c);
    vc_config_clear(&cfg);
    rmdir(home);
}

int main(void)
{
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(test_wire_headers_and_body),
        cmocka_unit_test(test_wire_ed25519_and_rsa_fields),
        cmocka_unit_test(test_wire_verify_and_paths),
        cmocka_unit_test(test_reuse_one_connection),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_redirect_followed_once),
        cmocka_unit_test(test_redirect_other_scheme_refused),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_retry_limits),
        cmocka_unit_test(test_rotate_not_repeated),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_stall_times_out),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_fork_child_gets_own_connection),
        cmocka_unit_test(test_no_secrets_in_errors_or_log),
        cmocka_unit_test(test_echoed_token_redacted),
        cmocka_unit_test(test_no_token_no_request),
    };
    int failed;

    failed = cmocka_run_group_tests_name("wire", wire, stubs_up, stubs_down);
    failed += sim_tests();
    return failed;
}
