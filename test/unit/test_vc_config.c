/*
 * Unit tests of vaultclient's local pieces: durations, config copy and
 * clear, the log setting and sink, address and path building, and where
 * the token comes from (configured, token file with rotation, ~/.vault-token).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "internal.h"

static void test_duration(void **state)
{
    static const struct {
        const char *text;
        long ms;
    } good[] = {
        {"10s", 10000}, {"500ms", 500}, {"2m", 120000},    {"1h", 3600000},
        {"10", 10000},  {"1", 1000},    {"1m30s", 90000},  {"1.5s", 1500},
        {"0.25", 250},  {"1ms", 1},     {"2h1m", 7260000},
    };
    static const char *const bad[] = {
        "",
        "0",
        "0s",
        "-1",
        "-5s",
        "s",
        "10x",
        "10 s",
        " 10s",
        "10s ",
        "1.s",
        ".5s",
        "abc",
        "10sms",
        "0ms",
        "0.0001s",
        "99999999999999999999",
        "9223372036854775807h",
        "1e3",
        "+5s",
        /* Just past LONG_MAX milliseconds, through the fraction. */
        "9223372036854775.808s",
        "1s9223372036854775.808s",
    };
    size_t i;
    long ms;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ms = -1;
        print_message("duration %s\n", good[i].text);
        assert_int_equal(vc_parse_duration(good[i].text, &ms), VC_OK);
        assert_int_equal(ms, good[i].ms);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ms = -1;
        print_message("duration %s\n", bad[i]);
        assert_int_equal(vc_parse_duration(bad[i], &ms), VC_ERR_CONFIG);
        assert_int_equal(ms, -1);
    }
    assert_int_equal(vc_parse_duration(NULL, &ms), VC_ERR_CONFIG);
}

static void fill_config(vc_config *cfg)
{
    vc_config_init(cfg);
    cfg->address = strdup("https://127.0.0.1:8200");
    cfg->token = strdup("hvs.CAESIsecret");
    cfg->token_file = strdup("/run/agent/token");
    cfg->mount = strdup("transit");
    cfg->key_name = strdup("k");
    cfg->namespace_name = strdup("team");
    cfg->ca_cert = strdup("/ca.pem");
    cfg->ca_path = strdup("/ca");
    cfg->client_cert = strdup("/c.pem");
    cfg->client_key = strdup("/k.pem");
    cfg->tls_server_name = strdup("vault.local");
    cfg->approle_role_id = strdup("role");
    cfg->approle_secret_id = strdup("secret");
    cfg->approle_mount = strdup("approle");
    cfg->algorithm = strdup("ES256");
    cfg->config_file = strdup("/etc/x.yaml");
    cfg->debug = strdup("debug");
    cfg->skip_verify = 1;
    cfg->timeout_ms = 1234;
    cfg->cache_ttl_ms = 55;
}

static void test_config_init_copy_clear(void **state)
{
    vc_config a, b, zero;

    memset(&zero, 0, sizeof(zero));
    vc_config_init(&a);
    assert_int_equal(a.timeout_ms, VC_DEFAULT_TIMEOUT_MS);
    assert_int_equal(a.cache_ttl_ms, VC_DEFAULT_CACHE_TTL_MS);
    assert_null(a.address);
    assert_null(a.mount);
    assert_int_equal(a.skip_verify, 0);

    fill_config(&a);
    assert_int_equal(vc_config_copy(&b, &a), VC_OK);
    assert_string_equal(b.token, "hvs.CAESIsecret");
    assert_ptr_not_equal(b.token, a.token);
    assert_string_equal(b.approle_secret_id, "secret");
    assert_string_equal(b.debug, "debug");
    assert_string_equal(b.tls_server_name, "vault.local");
    assert_string_equal(b.config_file, "/etc/x.yaml");
    assert_int_equal(b.skip_verify, 1);
    assert_int_equal(b.timeout_ms, 1234);
    assert_int_equal(b.cache_ttl_ms, 55);

    vc_config_clear(&a);
    assert_memory_equal(&a, &zero, sizeof(zero));
    /* The copy is independent of the original. */
    assert_string_equal(b.address, "https://127.0.0.1:8200");
    vc_config_clear(&b);
    assert_memory_equal(&b, &zero, sizeof(zero));
    vc_config_clear(NULL);
}

static void test_log_parse(void **state)
{
    vc_log_level level;
    char *path;

    assert_int_equal(vc_log_parse("debug", &level, &path), VC_OK);
    assert_int_equal(level, VC_LOG_DEBUG);
    assert_null(path);
    assert_int_equal(vc_log_parse("INFO:/tmp/x.log", &level, &path), VC_OK);
    assert_int_equal(level, VC_LOG_INFO);
    assert_string_equal(path, "/tmp/x.log");
    free(path);
    assert_int_equal(vc_log_parse("off", &level, &path), VC_OK);
    assert_int_equal(level, VC_LOG_OFF);
    assert_int_equal(vc_log_parse("error", &level, &path), VC_OK);
    assert_int_equal(level, VC_LOG_ERROR);
    assert_int_equal(vc_log_parse("verbose", &level, &path), VC_ERR_CONFIG);
    assert_int_equal(vc_log_parse("debug:", &level, &path), VC_ERR_CONFIG);
    assert_int_equal(vc_log_parse(":/tmp/x", &level, &path), VC_ERR_CONFIG);
    assert_int_equal(vc_log_parse("debugx", &level, &path), VC_ERR_CONFIG);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = calloc(1, 8192);

    assert_non_null(f);
    assert_non_null(buf);
    assert_true(fread(buf, 1, 8191, f) < 8191);
    fclose(f);
    return buf;
}

static void test_log_sink(void **state)
{
    char path[] = "/tmp/vc-log-XXXXXX", setting[64], *text, *nl;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    close(fd);
    snprintf(setting, sizeof(setting), "info:%s", path);
    assert_int_equal(vc_log_configure(setting), VC_OK);
    assert_true(vc_log_enabled(VC_LOG_INFO));
    assert_false(vc_log_enabled(VC_LOG_DEBUG));
    vc_log(VC_LOG_INFO, "sign mount=%s key=%s version=%d", "transit", "k", 3);
    vc_log(VC_LOG_DEBUG, "not written");
    vc_log(VC_LOG_ERROR, "two\nlines");
    assert_int_equal(vc_log_configure("off"), VC_OK);
    vc_log(VC_LOG_ERROR, "after off");

    text = slurp(path);
    nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_non_null(
        strstr(text, " info: sign mount=transit key=k version=3\n"));
    assert_non_null(strstr(text, " error: two lines\n"));
    assert_null(strstr(text, "not written"));
    assert_null(strstr(text, "after off"));
    /* Exactly two lines. */
    assert_non_null(strchr(nl + 1, '\n'));
    assert_null(strchr(strchr(nl + 1, '\n') + 1, '\n'));
    free(text);
    unlink(path);

    assert_int_equal(vc_log_configure("loud"), VC_ERR_CONFIG);
    assert_int_equal(vc_log_configure("debug:/nonexistent-dir/x.log"),
                     VC_ERR_CONFIG);
    assert_int_equal(vc_log_configure(NULL), VC_OK);
    assert_false(vc_log_enabled(VC_LOG_ERROR));
    assert_int_equal(vc_log_configure("error"), VC_OK);
}

typedef struct address_case {
    const char *address;
    const char *server_name;
    vc_status status;
    const char *base_url;
    const char *connect_to;
    int https;
} address_case;

static const address_case address_cases[] = {
    {"https://127.0.0.1:8200", NULL, VC_OK, "https://127.0.0.1:8200", NULL, 1},
    {"https://127.0.0.1:8200/", NULL, VC_OK, "https://127.0.0.1:8200", NULL, 1},
    {"http://[::1]:8200", NULL, VC_OK, "http://[::1]:8200", NULL, 0},
    {"HTTPS://localhost:8200/vault//", NULL, VC_OK,
     "https://localhost:8200/vault", NULL, 1},
    {"https://127.0.0.1:8200", "vault.example", VC_OK,
     "https://vault.example:8200", "vault.example:8200:127.0.0.1:8200", 1},
    {"https://[::1]", "vault.example", VC_OK, "https://vault.example",
     "vault.example:443:[::1]:443", 1},
    {"ftp://127.0.0.1", NULL, VC_ERR_CONFIG, NULL, NULL, 0},
    {"unix:///run/vault.sock", NULL, VC_ERR_CONFIG, NULL, NULL, 0},
    {"127.0.0.1:8200", NULL, VC_ERR_CONFIG, NULL, NULL, 0},
    {"", NULL, VC_ERR_CONFIG, NULL, NULL, 0},
    {"https://127.0.0.1:8200/?x=1", NULL, VC_ERR_CONFIG, NULL, NULL, 0},
    {"https://127.0.0.1:8200", "a:b", VC_ERR_CONFIG, NULL, NULL, 0},
    {"https://user:pass-word@127.0.0.1:8200", NULL, VC_ERR_CONFIG, NULL, NULL,
     0},
    {"https://127.0.0.1:8200", "", VC_ERR_CONFIG, NULL, NULL, 0},
};

static void test_address_parse(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(address_cases) / sizeof(address_cases[0]); i++) {
        const address_case *c = &address_cases[i];
        char *base = (char *)1, *connect_to = (char *)1;
        int https = -1;
        vc_error err;

        print_message("address %s %s\n", c->address,
                      c->server_name ? c->server_name : "");
        assert_int_equal(vc_address_parse(c->address, c->server_name, &base,
                                          &connect_to, &https, &err),
                         c->status);
        if (c->status != VC_OK) {
            assert_null(base);
            assert_null(connect_to);
            assert_int_equal(err.status, VC_ERR_CONFIG);
            /* A password in the address never reaches a message. */
            assert_null(strstr(err.message, "pass-word"));
            continue;
        }
        assert_string_equal(base, c->base_url);
        assert_int_equal(https, c->https);
        if (c->connect_to == NULL)
            assert_null(connect_to);
        else
            assert_string_equal(connect_to, c->connect_to);
        free(base);
        free(connect_to);
    }
}

static void test_transit_path(void **state)
{
    static const struct {
        const char *mount, *action, *name, *suffix, *path;
    } good[] = {
        {"transit", "sign", "k", NULL, "transit/sign/k"},
        {"team/transit/", "keys", "my key", NULL, "team/transit/keys/my%20key"},
        {"/a//b/", "keys", "k", "rotate", "a/b/keys/k/rotate"},
        {"transit", "verify", "a/b?c#d%", NULL,
         "transit/verify/a%2Fb%3Fc%23d%25"},
        {"tr ansit", "sign", "k.v-1_x~", NULL, "tr%20ansit/sign/k.v-1_x~"},
    };
    static const char *const bad_mounts[] = {"",       "/", "//",
                                             "a/../b", ".", "a/./b"};
    size_t i;
    char *path;
    vc_error err;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(vc_transit_path(good[i].mount, good[i].action,
                                         good[i].name, good[i].suffix, &path,
                                         &err),
                         VC_OK);
        assert_string_equal(path, good[i].path);
        free(path);
    }
    for (i = 0; i < sizeof(bad_mounts) / sizeof(bad_mounts[0]); i++) {
        assert_int_equal(
            vc_transit_path(bad_mounts[i], "sign", "k", NULL, &path, &err),
            VC_ERR_CONFIG);
        assert_null(path);
    }
}

static void test_client_new(void **state)
{
    vc_config cfg;
    vc_client *c = (vc_client *)1;
    vc_error err;

    vc_config_init(&cfg);
    assert_int_equal(vc_client_new(&cfg, &c, &err), VC_ERR_CONFIG);
    assert_null(c);
    assert_string_equal(err.message,
                        "vault transit: invalid configuration: no Vault "
                        "address set");
    cfg.address = strdup("gopher://127.0.0.1");
    assert_int_equal(vc_client_new(&cfg, &c, &err), VC_ERR_CONFIG);
    free(cfg.address);
    cfg.address = strdup("http://127.0.0.1:1");
    cfg.timeout_ms = 0;
    assert_int_equal(vc_client_new(&cfg, &c, &err), VC_OK);
    assert_int_equal(vc_client_connections_opened(c), 0);
    assert_int_equal(c->cfg.timeout_ms, VC_DEFAULT_TIMEOUT_MS);
    assert_string_equal(c->mount, VC_DEFAULT_MOUNT);
    vc_client_free(c);
    vc_client_free(NULL);
    vc_config_clear(&cfg);
}

/* A scratch HOME with its own ~/.vault-token, and a client over it. */
typedef struct auth_env {
    char dir[64];
    char home_token[128];
    char token_file[128];
    vc_config cfg;
} auth_env;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int auth_setup(void **state)
{
    auth_env *e = calloc(1, sizeof(*e));

    if (e == NULL)
        return -1;
    strcpy(e->dir, "/tmp/vc-auth-XXXXXX");
    if (mkdtemp(e->dir) == NULL)
        return -1;
    snprintf(e->home_token, sizeof(e->home_token), "%s/.vault-token", e->dir);
    snprintf(e->token_file, sizeof(e->token_file), "%s/agent-token", e->dir);
    setenv("HOME", e->dir, 1);
    vc_config_init(&e->cfg);
    e->cfg.address = strdup("http://127.0.0.1:1");
    *state = e;
    return 0;
}

static int auth_teardown(void **state)
{
    auth_env *e = *state;

    unlink(e->home_token);
    unlink(e->token_file);
    rmdir(e->dir);
    vc_config_clear(&e->cfg);
    free(e);
    return 0;
}

/* The token a fresh request of c would carry, or NULL with err set. */
static char *token_of(vc_client *c, vc_error *err)
{
    vc_op op = {"sign", "transit", "k", "http://127.0.0.1:1"};
    char *token = NULL;

    if (vc_auth_token(c, &op, &token, err) != VC_OK)
        return NULL;
    return token;
}

static void expect_token(vc_client *c, const char *expected)
{
    vc_error err = {0};
    char *token = token_of(c, &err);

    if (token == NULL)
        fail_msg("no token: %s", err.message);
    assert_string_equal(token, expected);
    free(token);
}

static vc_client *new_client(const vc_config *cfg)
{
    vc_client *c = NULL;

    assert_int_equal(vc_client_new(cfg, &c, NULL), VC_OK);
    return c;
}

static void test_token_none(void **state)
{
    auth_env *e = *state;
    vc_client *c = new_client(&e->cfg);
    vc_error err;

    assert_null(token_of(c, &err));
    assert_int_equal(err.status, VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "no Vault token"));
    vc_client_free(c);
}

/* AppRole settings alone: the message says why no token came from them. */
static void test_token_none_approle(void **state)
{
    auth_env *e = *state;
    vc_client *c;
    vc_error err;

    e->cfg.approle_role_id = strdup("role-id");
    e->cfg.approle_secret_id = strdup("secret-id-value");
    c = new_client(&e->cfg);
    assert_null(token_of(c, &err));
    assert_int_equal(err.status, VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "AppRole login is not implemented"));
    assert_null(strstr(err.message, "secret-id-value"));
    vc_client_free(c);
}

static void test_token_home(void **state)
{
    auth_env *e = *state;
    vc_client *c = new_client(&e->cfg);

    write_file(e->home_token, "hvs.home-token\n\n");
    expect_token(c, "hvs.home-token");
    vc_client_free(c);
}

static void test_token_precedence(void **state)
{
    auth_env *e = *state;
    vc_client *c;

    write_file(e->home_token, "hvs.home");
    write_file(e->token_file, "  hvs.file \r\n");
    e->cfg.token_file = strdup(e->token_file);
    c = new_client(&e->cfg);
    expect_token(c, "hvs.file");
    vc_client_free(c);

    e->cfg.token = strdup("hvs.configured");
    c = new_client(&e->cfg);
    expect_token(c, "hvs.configured");
    vc_client_free(c);
}

static void test_token_file_rotation(void **state)
{
    auth_env *e = *state;
    char next[160];
    vc_client *c;

    write_file(e->token_file, "hvs.first\n");
    e->cfg.token_file = strdup(e->token_file);
    c = new_client(&e->cfg);
    expect_token(c, "hvs.first");
    expect_token(c, "hvs.first");

    /* Vault Agent writes a new file and renames it over the old one. */
    snprintf(next, sizeof(next), "%s.tmp", e->token_file);
    write_file(next, "hvs.second\n");
    assert_int_equal(rename(next, e->token_file), 0);
    expect_token(c, "hvs.second");

    /* Rewritten in place, with another length. */
    write_file(e->token_file, "hvs.third-token\n");
    expect_token(c, "hvs.third-token");
    vc_client_free(c);
}

static void test_token_file_errors(void **state)
{
    auth_env *e = *state;
    vc_client *c;
    vc_error err;

    /* A configured token file that is missing does not fall back. */
    write_file(e->home_token, "hvs.home");
    e->cfg.token_file = strdup(e->token_file);
    c = new_client(&e->cfg);
    assert_null(token_of(c, &err));
    assert_int_equal(err.status, VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "cannot read token file"));
    assert_non_null(strstr(err.message, e->token_file));

    write_file(e->token_file, " \n");
    assert_null(token_of(c, &err));
    assert_non_null(strstr(err.message, "token file is empty"));

    write_file(e->token_file, "hvs.two words\n");
    assert_null(token_of(c, &err));
    assert_non_null(strstr(err.message, "characters a header cannot carry"));
    assert_null(strstr(err.message, "hvs.two"));
    vc_client_free(c);
}

/* White space around the token goes, at the start as at the end. */
static void test_token_file_trimmed(void **state)
{
    auth_env *e = *state;
    vc_client *c;

    write_file(e->token_file, "\n\t hvs.lead\r\n");
    e->cfg.token_file = strdup(e->token_file);
    c = new_client(&e->cfg);
    expect_token(c, "hvs.lead");
    vc_client_free(c);
}

/* A FIFO in place of the token file fails at once instead of blocking the
 * request until something writes to it. */
static void test_token_file_not_regular(void **state)
{
    auth_env *e = *state;
    vc_client *c;
    vc_error err;

    assert_int_equal(mkfifo(e->token_file, 0600), 0);
    e->cfg.token_file = strdup(e->token_file);
    c = new_client(&e->cfg);
    assert_null(token_of(c, &err));
    assert_int_equal(err.status, VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "not a regular file"));
    vc_client_free(c);

    /* Nor is a directory a token file. */
    unlink(e->token_file);
    assert_int_equal(mkdir(e->token_file, 0700), 0);
    c = new_client(&e->cfg);
    assert_null(token_of(c, &err));
    assert_non_null(strstr(err.message, "not a regular file"));
    vc_client_free(c);
    rmdir(e->token_file);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration),
        cmocka_unit_test(test_config_init_copy_clear),
        cmocka_unit_test(test_log_parse),
        cmocka_unit_test(test_log_sink),
        cmocka_unit_test(test_address_parse),
        cmocka_unit_test(test_transit_path),
        cmocka_unit_test(test_client_new),
        cmocka_unit_test_setup_teardown(test_token_none_approle, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_none, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_home, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_precedence, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_file_rotation, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_file_errors, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_file_trimmed, auth_setup,
                                        auth_teardown),
        cmocka_unit_test_setup_teardown(test_token_file_not_regular, auth_setup,
                                        auth_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
