/*
 * Unit tests for the configuration merge: defaults, the YAML file, the
 * openssl.cnf section and the environment in their order of precedence, and
 * every check that makes loading fail. No test reads the real environment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

#define CONFIG_PREFIX "vault transit: invalid configuration: "
#define ADDR          "http://127.0.0.1:8200"
#define TOKEN         "hvs.CAFEtoken0123456789secret"
#define SECRET_ID     "5ec7e7-1d00-secret-id-value"
#define MAX_VARS      16

/* A fake source: name/value pairs for the env and the cnf lookups. */
typedef struct kv {
    const char *name;
    const char *value;
} kv;

typedef struct source {
    kv vars[MAX_VARS];
    size_t n;
} source;

static source fake_env;
static source fake_cnf;

static const char *find(const source *s, const char *name)
{
    size_t i;

    for (i = s->n; i > 0; i--)
        if (strcmp(s->vars[i - 1].name, name) == 0)
            return s->vars[i - 1].value;
    return NULL;
}

static void put(source *s, const char *name, const char *value)
{
    assert_true(s->n < MAX_VARS);
    s->vars[s->n].name = name;
    s->vars[s->n].value = value;
    s->n++;
}

static const char *env_lookup(const char *name)
{
    return find(&fake_env, name);
}

static const char *cnf_lookup(void *arg, const char *key)
{
    return find(arg, key);
}

static int reset(void **state)
{
    memset(&fake_env, 0, sizeof(fake_env));
    memset(&fake_cnf, 0, sizeof(fake_cnf));
    return 0;
}

static vc_status load(vc_config *cfg, vc_error *err)
{
    memset(err, 0, sizeof(*err));
    return vp_config_load(cfg, cnf_lookup, &fake_cnf, env_lookup, err);
}

static const char *fixture(const char *name)
{
    static char path[4096];
    const char *dir = getenv("VP_TEST_DATA");

    if (dir == NULL)
        fail_msg("VP_TEST_DATA is not set: run the test through ctest");
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

static void assert_contains(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("\"%s\" not in \"%s\"", part, text);
}

/* A setting as text, for tables that cover strings, numbers and booleans. */
static const char *setting(const vc_config *cfg, const char *key)
{
    static char buf[32];

    if (strcmp(key, "timeout") == 0 || strcmp(key, "cache_ttl") == 0) {
        snprintf(buf, sizeof(buf), "%ld",
                 key[0] == 't' ? cfg->timeout_ms : cfg->cache_ttl_ms);
        return buf;
    }
    if (strcmp(key, "skip_verify") == 0)
        return cfg->skip_verify ? "1" : "0";
#define TEXT(name, member)                                                     \
    if (strcmp(key, name) == 0)                                                \
        return cfg->member;
    TEXT("address", address)
    TEXT("token", token)
    TEXT("token_file", token_file)
    TEXT("mount", mount)
    TEXT("key_name", key_name)
    TEXT("namespace", namespace_name)
    TEXT("ca_cert", ca_cert)
    TEXT("ca_path", ca_path)
    TEXT("client_cert", client_cert)
    TEXT("client_key", client_key)
    TEXT("tls_server_name", tls_server_name)
    TEXT("approle_role_id", approle_role_id)
    TEXT("approle_secret_id", approle_secret_id)
    TEXT("approle_mount", approle_mount)
    TEXT("config_file", config_file)
    TEXT("debug", debug)
#undef TEXT
    fail_msg("no such setting %s", key);
    return NULL;
}

static void test_defaults(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_env, "VAULT_ADDR", ADDR);
    assert_int_equal(vp_config_load(&cfg, NULL, NULL, env_lookup, &err), VC_OK);
    assert_string_equal(cfg.address, ADDR);
    assert_string_equal(cfg.mount, "transit");
    assert_string_equal(cfg.approle_mount, "approle");
    assert_int_equal(cfg.timeout_ms, 10000);
    assert_int_equal(cfg.cache_ttl_ms, 30000);
    assert_int_equal(cfg.skip_verify, 0);
    assert_null(cfg.token);
    assert_null(cfg.token_file);
    assert_null(cfg.key_name);
    assert_null(cfg.config_file);
    assert_null(cfg.algorithm);
    assert_null(cfg.debug);
    vc_config_clear(&cfg);
}

static void test_cnf_keys(void **state)
{
    static const char *const expected[] = {
        "address",       "token",           "token_file",
        "mount",         "key_name",        "timeout",
        "namespace",     "ca_cert",         "ca_path",
        "client_cert",   "client_key",      "tls_server_name",
        "skip_verify",   "approle_role_id", "approle_secret_id",
        "approle_mount", "config_file",     "debug",
        "cache_ttl"};
    size_t i, j, n = sizeof(expected) / sizeof(expected[0]);

    for (i = 0; vp_config_cnf_keys[i] != NULL; i++) {
        for (j = 0; j < n; j++)
            if (strcmp(vp_config_cnf_keys[i], expected[j]) == 0)
                break;
        if (j == n)
            fail_msg("unexpected key %s", vp_config_cnf_keys[i]);
    }
    assert_int_equal(i, n);
}

/* Every cnf key reaches its field, spelt as the docs spell it. */
typedef struct cnf_case {
    const char *key;
    const char *value;
    const char *expect;       /* NULL: the value itself */
    const char *companion[2]; /* a cnf key the setting needs, and its value */
} cnf_case;

static const cnf_case cnf_cases[] = {
    {.key = "address", .value = ADDR},
    {.key = "token", .value = TOKEN},
    {.key = "token_file", .value = "/run/token"},
    {.key = "mount", .value = "signing/transit"},
    {.key = "key_name", .value = "jwt-key"},
    {.key = "timeout", .value = "1500ms", .expect = "1500"},
    {.key = "namespace", .value = "team-b"},
    {.key = "ca_cert", .value = "/ca.pem"},
    {.key = "ca_path", .value = "/ca.d"},
    {.key = "client_cert",
     .value = "/c.pem",
     .companion = {"client_key", "/c.key"}},
    {.key = "client_key",
     .value = "/c.key",
     .companion = {"client_cert", "/c.pem"}},
    {.key = "tls_server_name", .value = "vault.test"},
    {.key = "skip_verify", .value = "on", .expect = "1"},
    {.key = "approle_role_id",
     .value = "role",
     .companion = {"approle_secret_id", "secret"}},
    {.key = "approle_secret_id",
     .value = "secret",
     .companion = {"approle_role_id", "role"}},
    {.key = "approle_mount", .value = "ar"},
    {.key = "debug", .value = "info:/tmp/vp.log"},
    {.key = "cache_ttl", .value = "2m", .expect = "120000"},
};

static void test_cnf_sets_every_key(void **state)
{
    vc_config cfg;
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(cnf_cases) / sizeof(cnf_cases[0]); i++) {
        const cnf_case *c = &cnf_cases[i];

        reset(NULL);
        if (strcmp(c->key, "address") != 0)
            put(&fake_cnf, "address", ADDR);
        if (c->companion[0] != NULL)
            put(&fake_cnf, c->companion[0], c->companion[1]);
        put(&fake_cnf, c->key, c->value);
        print_message("%s = %s\n", c->key, c->value);
        assert_int_equal(load(&cfg, &err), VC_OK);
        assert_string_equal(setting(&cfg, c->key),
                            c->expect != NULL ? c->expect : c->value);
        vc_config_clear(&cfg);
    }
}

/*
 * One row per setting: its value in openssl.cnf, then in each environment
 * variable from the weakest to the strongest. Each layer added must win.
 */
typedef struct layer_case {
    const char *key;
    const char *values[4];    /* cnf, then the variables' values */
    const char *names[3];     /* VAULT_*, BAO_*, AUTHPLANE_VAULT_* */
    const char *expect[4];    /* NULL: same as values */
    const char *companion[2]; /* a cnf key the setting needs, and its value */
} layer_case;

static const layer_case layers[] = {
    {.key = "address",
     .values = {ADDR "/1", ADDR "/2", ADDR "/3", ADDR "/4"},
     .names = {"VAULT_ADDR", "BAO_ADDR", "AUTHPLANE_VAULT_ADDR"}},
    {.key = "token",
     .values = {"t-cnf", "t-vault", "t-bao", "t-authplane"},
     .names = {"VAULT_TOKEN", "BAO_TOKEN", "AUTHPLANE_VAULT_TOKEN"}},
    {.key = "namespace",
     .values = {"n1", "n2", "n3"},
     .names = {"VAULT_NAMESPACE", "BAO_NAMESPACE"}},
    {.key = "ca_cert",
     .values = {"/c1", "/c2", "/c3"},
     .names = {"VAULT_CACERT", "BAO_CACERT"}},
    {.key = "ca_path",
     .values = {"/p1", "/p2", "/p3"},
     .names = {"VAULT_CAPATH", "BAO_CAPATH"}},
    {.key = "client_cert",
     .values = {"/cc1", "/cc2", "/cc3"},
     .names = {"VAULT_CLIENT_CERT", "BAO_CLIENT_CERT"},
     .companion = {"client_key", "/k"}},
    {.key = "client_key",
     .values = {"/ck1", "/ck2", "/ck3"},
     .names = {"VAULT_CLIENT_KEY", "BAO_CLIENT_KEY"},
     .companion = {"client_cert", "/c"}},
    {.key = "skip_verify",
     .values = {"no", "yes", "OFF"},
     .names = {"VAULT_SKIP_VERIFY", "BAO_SKIP_VERIFY"},
     .expect = {"0", "1", "0"}},
    {.key = "tls_server_name",
     .values = {"s1", "s2", "s3"},
     .names = {"VAULT_TLS_SERVER_NAME", "BAO_TLS_SERVER_NAME"}},
    {.key = "timeout",
     .values = {"1s", "2s", "3000ms", "4"},
     .names = {"VAULT_CLIENT_TIMEOUT", "BAO_CLIENT_TIMEOUT",
               "AUTHPLANE_VAULT_TIMEOUT"},
     .expect = {"1000", "2000", "3000", "4000"}},
    {.key = "mount",
     .values = {"m-cnf", "m-authplane"},
     .names = {"AUTHPLANE_VAULT_TRANSIT_MOUNT"}},
    {.key = "key_name",
     .values = {"k-cnf", "k-authplane"},
     .names = {"AUTHPLANE_VAULT_TRANSIT_KEY_NAME"}},
    {.key = "approle_role_id",
     .values = {"r-cnf", "r-authplane"},
     .names = {"AUTHPLANE_VAULT_APPROLE_ROLE_ID"},
     .companion = {"approle_secret_id", "s"}},
    {.key = "approle_secret_id",
     .values = {"s-cnf", "s-authplane"},
     .names = {"AUTHPLANE_VAULT_APPROLE_SECRET_ID"},
     .companion = {"approle_role_id", "r"}},
    {.key = "approle_mount",
     .values = {"a-cnf", "a-authplane"},
     .names = {"AUTHPLANE_VAULT_APPROLE_MOUNT"}},
    {.key = "debug",
     .values = {"error", "debug:/tmp/x.log"},
     .names = {"VAULT_PROVIDER_DEBUG"}},
};

static void check_layers(const layer_case *c)
{
    vc_config cfg;
    vc_error err;
    size_t layer, n;

    reset(NULL);
    put(&fake_cnf, "address", ADDR);
    if (c->companion[0] != NULL)
        put(&fake_cnf, c->companion[0], c->companion[1]);
    put(&fake_cnf, c->key, c->values[0]);
    for (n = 1; n < 4 && c->values[n] != NULL; n++)
        ;
    for (layer = 0; layer < n; layer++) {
        if (layer > 0)
            put(&fake_env, c->names[layer - 1], c->values[layer]);
        print_message("%s after %s\n", c->key,
                      layer == 0 ? "openssl.cnf" : c->names[layer - 1]);
        assert_int_equal(load(&cfg, &err), VC_OK);
        assert_string_equal(setting(&cfg, c->key), c->expect[0] != NULL
                                                       ? c->expect[layer]
                                                       : c->values[layer]);
        vc_config_clear(&cfg);
    }
}

static void test_precedence_env_over_cnf(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(layers) / sizeof(layers[0]); i++)
        check_layers(&layers[i]);
}

/* BAO_* wins over VAULT_* even when it was looked up (set) first. */
static void test_bao_over_vault_any_order(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_env, "BAO_ADDR", ADDR "/9");
    put(&fake_env, "VAULT_ADDR", ADDR "/8");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.address, ADDR "/9");
    vc_config_clear(&cfg);
}

static void test_cnf_over_yaml(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("token.yaml"));
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.address, ADDR);
    assert_string_equal(cfg.key_name, "app-key");
    assert_int_equal(cfg.timeout_ms, 5000);
    assert_string_equal(cfg.algorithm, "RS256");
    assert_string_equal(cfg.config_file, fixture("token.yaml"));
    vc_config_clear(&cfg);

    put(&fake_cnf, "address", "https://127.0.0.1:8300");
    put(&fake_cnf, "key_name", "cnf-key");
    put(&fake_cnf, "timeout", "750ms");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.address, "https://127.0.0.1:8300");
    assert_string_equal(cfg.key_name, "cnf-key");
    assert_int_equal(cfg.timeout_ms, 750);
    assert_string_equal(cfg.token, "hvs.yaml-token-value");
    assert_string_equal(cfg.mount, "transit");
    vc_config_clear(&cfg);
}

/* The YAML file beats the defaults, and the environment beats the file
 * even when openssl.cnf says nothing. */
static void test_yaml_between_defaults_and_env(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("approle.yaml"));
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.approle_mount, "approle-ci");
    vc_config_clear(&cfg);

    put(&fake_env, "AUTHPLANE_VAULT_APPROLE_MOUNT", "approle-env");
    put(&fake_env, "VAULT_ADDR", "https://127.0.0.1:8400");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.approle_mount, "approle-env");
    assert_string_equal(cfg.address, "https://127.0.0.1:8400");
    assert_string_equal(cfg.approle_role_id, "yaml-role-id");
    vc_config_clear(&cfg);
}

static void test_config_file_from_env(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("approle.yaml"));
    put(&fake_env, "VAULT_PROVIDER_CONFIG", fixture("token.yaml"));
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.key_name, "app-key");
    assert_string_equal(cfg.token, "hvs.yaml-token-value");
    assert_null(cfg.approle_role_id);
    assert_string_equal(cfg.config_file, fixture("token.yaml"));
    vc_config_clear(&cfg);
}

/* An empty variable is as good as an unset one, at every level. */
static void test_empty_env_is_unset(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "address", ADDR);
    put(&fake_cnf, "timeout", "3s");
    put(&fake_env, "VAULT_ADDR", "");
    put(&fake_env, "AUTHPLANE_VAULT_TIMEOUT", "");
    put(&fake_env, "VAULT_PROVIDER_CONFIG", "");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.address, ADDR);
    assert_int_equal(cfg.timeout_ms, 3000);
    vc_config_clear(&cfg);

    put(&fake_env, "BAO_ADDR", "https://127.0.0.1:8500");
    put(&fake_env, "AUTHPLANE_VAULT_ADDR", "");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.address, "https://127.0.0.1:8500");
    vc_config_clear(&cfg);
}

static void test_empty_cnf_is_unset(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("token.yaml"));
    put(&fake_cnf, "key_name", "");
    put(&fake_cnf, "mount", "");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.key_name, "app-key");
    assert_string_equal(cfg.mount, "transit");
    vc_config_clear(&cfg);
}

static void test_set_rules(void **state)
{
    vc_config cfg;
    vc_error err;

    vc_config_init(&cfg);
    assert_int_equal(vp_config_set(&cfg, "address", ADDR "/", &err), VC_OK);
    assert_string_equal(cfg.address, ADDR "/");
    assert_int_equal(vp_config_set(&cfg, "mount", "/a/b/", &err), VC_OK);
    assert_string_equal(cfg.mount, "a/b");
    assert_int_equal(vp_config_set(&cfg, "approle_mount", "ar/", &err), VC_OK);
    assert_string_equal(cfg.approle_mount, "ar");
    assert_int_equal(vp_config_set(&cfg, "token", TOKEN, &err), VC_OK);
    assert_int_equal(vp_config_set(&cfg, "token", "hvs.next", &err), VC_OK);
    assert_string_equal(cfg.token, "hvs.next");
    assert_int_equal(vp_config_set(&cfg, "token", "", &err), VC_OK);
    assert_int_equal(vp_config_set(&cfg, "token", NULL, &err), VC_OK);
    assert_string_equal(cfg.token, "hvs.next");

    assert_int_equal(vp_config_set(&cfg, "tokne", "x", &err), VC_ERR_CONFIG);
    assert_string_equal(err.message, CONFIG_PREFIX "unknown setting \"tokne\"");
    assert_int_equal(vp_config_set(&cfg, "algorithm", "ES256", &err),
                     VC_ERR_CONFIG);
    vc_config_clear(&cfg);
}

typedef struct duration_case {
    const char *key;
    const char *text;
    long ms; /* -1: refused */
} duration_case;

static const duration_case durations[] = {
    {"timeout", "10s", 10000},   {"timeout", "500ms", 500},
    {"timeout", "7", 7000},      {"timeout", "1m", 60000},
    {"timeout", "0", -1},        {"timeout", "0s", -1},
    {"timeout", "-1", -1},       {"timeout", "abc", -1},
    {"timeout", "10 s", -1},     {"timeout", "s", -1},
    {"cache_ttl", "0", 0},       {"cache_ttl", "0s", 0},
    {"cache_ttl", "00", 0},      {"cache_ttl", "0ms", 0},
    {"cache_ttl", "0h", 0},      {"cache_ttl", "45s", 45000},
    {"cache_ttl", "250ms", 250}, {"cache_ttl", "x", -1},
    {"cache_ttl", "-5s", -1},    {"cache_ttl", "0x", -1},
};

static void test_durations(void **state)
{
    vc_config cfg;
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
        const duration_case *c = &durations[i];
        char expect[64];

        print_message("%s = %s\n", c->key, c->text);
        vc_config_init(&cfg);
        cfg.timeout_ms = cfg.cache_ttl_ms = 123;
        if (c->ms < 0) {
            assert_int_equal(vp_config_set(&cfg, c->key, c->text, &err),
                             VC_ERR_CONFIG);
            snprintf(expect, sizeof(expect), "%s: \"%s\" is not a duration",
                     c->key, c->text);
            assert_contains(err.message, expect);
            assert_int_equal(
                c->key[0] == 't' ? cfg.timeout_ms : cfg.cache_ttl_ms, 123);
        } else {
            assert_int_equal(vp_config_set(&cfg, c->key, c->text, &err), VC_OK);
            assert_int_equal(
                c->key[0] == 't' ? cfg.timeout_ms : cfg.cache_ttl_ms, c->ms);
        }
        vc_config_clear(&cfg);
    }
}

static void test_booleans(void **state)
{
    static const char *const yes[] = {"true", "TRUE", "True", "1",
                                      "yes",  "YES",  "on",   "On"};
    static const char *const no[] = {"false", "FALSE", "0",  "no",
                                     "No",    "off",   "OFF"};
    static const char *const bad[] = {"maybe",   "2",     "y",    "t",
                                      "enabled", " true", "true "};
    vc_config cfg;
    vc_error err;
    size_t i;

    vc_config_init(&cfg);
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        cfg.skip_verify = 0;
        assert_int_equal(vp_config_set(&cfg, "skip_verify", yes[i], &err),
                         VC_OK);
        assert_int_equal(cfg.skip_verify, 1);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        cfg.skip_verify = 1;
        assert_int_equal(vp_config_set(&cfg, "skip_verify", no[i], &err),
                         VC_OK);
        assert_int_equal(cfg.skip_verify, 0);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cfg.skip_verify = 0;
        assert_int_equal(vp_config_set(&cfg, "skip_verify", bad[i], &err),
                         VC_ERR_CONFIG);
        assert_contains(err.message, "is not a boolean");
        assert_int_equal(cfg.skip_verify, 0);
    }
    vc_config_clear(&cfg);
}

/* A bad value names the variable or key it came from. */
static void test_errors_name_their_source(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "address", ADDR);
    put(&fake_env, "BAO_SKIP_VERIFY", "sometimes");
    assert_int_equal(load(&cfg, &err), VC_ERR_CONFIG);
    assert_string_equal(err.message,
                        CONFIG_PREFIX "BAO_SKIP_VERIFY: \"sometimes\" is not "
                                      "a boolean (use true/false, yes/no, "
                                      "on/off or 1/0)");
    assert_null(cfg.address);

    reset(NULL);
    put(&fake_cnf, "address", ADDR);
    put(&fake_cnf, "timeout", "soon");
    assert_int_equal(load(&cfg, &err), VC_ERR_CONFIG);
    assert_contains(err.message, "openssl.cnf timeout: \"soon\" is not a");

    reset(NULL);
    put(&fake_cnf, "address", ADDR);
    put(&fake_env, "AUTHPLANE_VAULT_TIMEOUT", "0");
    assert_int_equal(load(&cfg, &err), VC_ERR_CONFIG);
    assert_contains(err.message, "AUTHPLANE_VAULT_TIMEOUT: \"0\"");
}

typedef struct invalid_case {
    const char *what;
    kv cnf[4];
    kv env[4];
    const char *message; /* after the prefix, in full or in part */
} invalid_case;

static const invalid_case invalid[] = {
    {"no address",
     {{"token", TOKEN}},
     {{NULL}},
     "no Vault address: set `address` in the provider section or in "
     "config_file, or VAULT_ADDR, BAO_ADDR or AUTHPLANE_VAULT_ADDR"},
    {"address without scheme",
     {{"address", "127.0.0.1:8200"}},
     {{NULL}},
     "address \"127.0.0.1:8200\" must start with https:// or http://"},
    {"address with another scheme",
     {{"address", "ftp://127.0.0.1"}},
     {{NULL}},
     "must start with https:// or http://"},
    {"address without host",
     {{"address", "https://"}},
     {{NULL}},
     "address \"https://\" names no host"},
    {"address with a password",
     {{"address", "https://user:" SECRET_ID "@127.0.0.1:8200"}},
     {{NULL}},
     "the address holds a user name or password (before an '@'): not "
     "supported"},
    {"address with a password, no scheme",
     {{"address", "user:" SECRET_ID "@127.0.0.1:8200/v1"}},
     {{NULL}},
     "the address holds a user name or password"},
    {"address without host, path",
     {{"address", "http:///v1"}},
     {{NULL}},
     "names no host"},
    {"address with a query, refused by the client's parser",
     {{"address", "https://127.0.0.1:8200/?x=1"}},
     {{NULL}},
     "address https://127.0.0.1:8200/?x=1: no query or fragment allowed"},
    {"server name that is no host name",
     {{"address", ADDR}, {"tls_server_name", "vault:8200"}},
     {{NULL}},
     "tls_server_name vault:8200 is not a host name"},
    {"token and role ID",
     {{"address", ADDR},
      {"token", TOKEN},
      {"approle_role_id", "r"},
      {"approle_secret_id", SECRET_ID}},
     {{NULL}},
     "a token and an AppRole role ID are both set"},
    {"token from env, role ID from cnf",
     {{"address", ADDR},
      {"approle_role_id", "r"},
      {"approle_secret_id", SECRET_ID}},
     {{"VAULT_TOKEN", TOKEN}},
     "a token and an AppRole role ID are both set"},
    {"token file and role ID",
     {{"address", ADDR},
      {"token_file", "/run/t"},
      {"approle_role_id", "r"},
      {"approle_secret_id", SECRET_ID}},
     {{NULL}},
     "token_file and an AppRole role ID are both set: keep only one"},
    {"role ID without secret ID",
     {{"address", ADDR}, {"approle_role_id", "r"}},
     {{NULL}},
     "an AppRole role ID is set without a secret ID"},
    {"secret ID without role ID",
     {{"address", ADDR}, {"token", TOKEN}},
     {{"AUTHPLANE_VAULT_APPROLE_SECRET_ID", SECRET_ID}},
     "an AppRole secret ID is set without a role ID"},
    {"client cert without key",
     {{"address", ADDR}, {"client_cert", "/c.pem"}},
     {{NULL}},
     "client_cert is set without client_key"},
    {"client key without cert",
     {{"address", ADDR}},
     {{"VAULT_CLIENT_KEY", "/c.key"}},
     "client_key is set without client_cert"},
    {"mount with ..",
     {{"address", ADDR}, {"mount", "a/../b"}},
     {{NULL}},
     "mount \"a/../b\" is not a mount path"},
    {"mount of slashes only",
     {{"address", ADDR}, {"mount", "//"}},
     {{NULL}},
     "mount \"\" is not a mount path"},
    {"approle mount with a space",
     {{"address", ADDR}},
     {{"AUTHPLANE_VAULT_APPROLE_MOUNT", "app role"}},
     "approle_mount \"app role\" is not a mount path"},
    {"bad key name",
     {{"address", ADDR}, {"key_name", "my key"}},
     {{NULL}},
     "key_name \"my key\" is not a Transit key name"},
};

static void load_invalid(const invalid_case *c, vc_error *err)
{
    vc_config cfg;
    size_t i;

    reset(NULL);
    for (i = 0; i < 4 && c->cnf[i].name != NULL; i++)
        put(&fake_cnf, c->cnf[i].name, c->cnf[i].value);
    for (i = 0; i < 4 && c->env[i].name != NULL; i++)
        put(&fake_env, c->env[i].name, c->env[i].value);
    print_message("%s\n", c->what);
    assert_int_equal(load(&cfg, err), VC_ERR_CONFIG);
    assert_int_equal(err->status, VC_ERR_CONFIG);
    assert_memory_equal(err->message, CONFIG_PREFIX, strlen(CONFIG_PREFIX));
    assert_contains(err->message, c->message);
    /* A failed load leaves nothing behind, the token least of all. */
    assert_null(cfg.address);
    assert_null(cfg.token);
}

static void test_validation_failures(void **state)
{
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        load_invalid(&invalid[i], &err);
        assert_null(strstr(err.message, TOKEN));
        assert_null(strstr(err.message, SECRET_ID));
    }
}

/* vp_config_validate on its own, as the provider may call it. */
static void test_validate_direct(void **state)
{
    vc_config cfg;
    vc_error err;

    vc_config_init(&cfg);
    assert_int_equal(vp_config_validate(&cfg, &err), VC_ERR_CONFIG);
    assert_contains(err.message, "no Vault address");
    assert_int_equal(
        vp_config_set(&cfg, "address", "HTTPS://127.0.0.1:8200", &err), VC_OK);
    assert_int_equal(vp_config_validate(&cfg, &err), VC_OK);
    assert_int_equal(vp_config_set(&cfg, "approle_secret_id", SECRET_ID, &err),
                     VC_OK);
    assert_int_equal(vp_config_validate(&cfg, &err), VC_ERR_CONFIG);
    assert_contains(err.message, "without a role ID");
    vc_config_clear(&cfg);
}

/* A token from the YAML file and a role ID from the environment are both
 * set: the layers merge settings, they do not choose a method. */
static void test_yaml_token_env_role_conflict(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("token.yaml"));
    put(&fake_env, "AUTHPLANE_VAULT_APPROLE_ROLE_ID", "r");
    put(&fake_env, "AUTHPLANE_VAULT_APPROLE_SECRET_ID", SECRET_ID);
    assert_int_equal(load(&cfg, &err), VC_ERR_CONFIG);
    assert_contains(err.message, "a token and an AppRole role ID are both");
    assert_null(strstr(err.message, "hvs.yaml-token-value"));
    assert_null(strstr(err.message, SECRET_ID));
}

static void test_yaml_every_key(void **state)
{
    vc_config cfg;
    vc_error err;

    vc_config_init(&cfg);
    assert_int_equal(vp_config_load_yaml(&cfg, fixture("full.yaml"), &err),
                     VC_OK);
    assert_string_equal(cfg.algorithm, "ES256");
    assert_string_equal(cfg.address, "https://127.0.0.1:8200/");
    assert_string_equal(cfg.token, "hvs.yaml-token-value");
    assert_string_equal(cfg.token_file, "/run/agent/token");
    assert_string_equal(cfg.mount, "signing/transit");
    assert_string_equal(cfg.key_name, "jwt-signing");
    assert_int_equal(cfg.timeout_ms, 2500);
    assert_string_equal(cfg.namespace_name, "team-a");
    assert_string_equal(cfg.ca_cert, "/etc/ssl/vault-ca.pem");
    assert_string_equal(cfg.ca_path, "/etc/ssl/certs");
    assert_string_equal(cfg.client_cert, "/etc/ssl/client.pem");
    assert_string_equal(cfg.client_key, "/etc/ssl/client.key");
    assert_string_equal(cfg.tls_server_name, "vault.internal");
    assert_int_equal(cfg.skip_verify, 1);
    assert_int_equal(cfg.cache_ttl_ms, 0);
    assert_string_equal(cfg.approle_role_id, "yaml-role-id");
    assert_string_equal(cfg.approle_secret_id, "yaml-secret-id");
    assert_string_equal(cfg.approle_mount, "auth-approle");
    assert_string_equal(cfg.config_file, fixture("full.yaml"));
    vc_config_clear(&cfg);
}

static void test_yaml_approle(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("approle.yaml"));
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_string_equal(cfg.approle_role_id, "yaml-role-id");
    assert_string_equal(cfg.approle_secret_id, "yaml-secret-id");
    assert_string_equal(cfg.approle_mount, "approle-ci");
    assert_string_equal(cfg.key_name, "app-key");
    assert_null(cfg.token);
    vc_config_clear(&cfg);
}

static void test_yaml_nulls(void **state)
{
    vc_config cfg;
    vc_error err;

    put(&fake_cnf, "config_file", fixture("nulls.yaml"));
    put(&fake_cnf, "namespace", "from-cnf");
    assert_int_equal(load(&cfg, &err), VC_OK);
    assert_null(cfg.token);
    assert_null(cfg.tls_server_name);
    assert_string_equal(cfg.namespace_name, "from-cnf");
    assert_string_equal(cfg.key_name, "null");
    assert_null(cfg.approle_role_id);
    vc_config_clear(&cfg);
}

typedef struct yaml_error_case {
    const char *file;
    const char *message; /* after "<path>" */
} yaml_error_case;

static const yaml_error_case yaml_errors[] = {
    {"syntax_error.yaml", ":6:4: YAML syntax error: did not find expected key "
                          "(while parsing a block mapping)"},
    {"wrong_key_store.yaml", ":3: signing.key_store is \"file\", but this "
                             "provider serves only key_store: vault_transit"},
    {"unknown_key.yaml",
     ":7:5: unknown key \"key_nmae\" in signing.vault_transit"},
    {"unknown_approle_key.yaml",
     ":6:7: unknown key \"secret\" in signing.vault_transit.approle"},
    {"approle_not_mapping.yaml",
     ":4: signing.vault_transit.approle must be a mapping"},
    {"no_transit.yaml", ": no signing.vault_transit mapping"},
    {"no_signing.yaml", ": no signing.vault_transit mapping"},
    {"empty.yaml", ": no signing.vault_transit mapping"},
    {"transit_not_mapping.yaml", ": no signing.vault_transit mapping"},
    {"duplicate_key.yaml",
     ":5: duplicate key \"address\" in signing.vault_transit"},
    {"list_value.yaml", ":4: signing.vault_transit.address must be a single "
                        "value, not a list or mapping"},
    {"bad_bool.yaml", ":4: signing.vault_transit.skip_verify: \"maybe\" is "
                      "not a boolean"},
    {"does-not-exist.yaml", ": No such file or directory"},
};

static void test_yaml_errors(void **state)
{
    char expect[4096 + 512];
    vc_config cfg;
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(yaml_errors) / sizeof(yaml_errors[0]); i++) {
        const yaml_error_case *c = &yaml_errors[i];

        reset(NULL);
        put(&fake_cnf, "config_file", fixture(c->file));
        put(&fake_env, "VAULT_ADDR", ADDR);
        print_message("%s\n", c->file);
        assert_int_equal(load(&cfg, &err), VC_ERR_CONFIG);
        snprintf(expect, sizeof(expect), "%s%s", fixture(c->file), c->message);
        assert_contains(err.message, expect);
        assert_null(strstr(err.message, "hvs.yaml-token-value"));
        assert_null(cfg.address);
    }
}

int main(void)
{
#define TEST(f) cmocka_unit_test_setup(f, reset)
    const struct CMUnitTest tests[] = {
        TEST(test_defaults),
        TEST(test_cnf_keys),
        TEST(test_cnf_sets_every_key),
        TEST(test_precedence_env_over_cnf),
        TEST(test_bao_over_vault_any_order),
        TEST(test_cnf_over_yaml),
        TEST(test_yaml_between_defaults_and_env),
        TEST(test_config_file_from_env),
        TEST(test_empty_env_is_unset),
        TEST(test_empty_cnf_is_unset),
        TEST(test_set_rules),
        TEST(test_durations),
        TEST(test_booleans),
        TEST(test_errors_name_their_source),
        TEST(test_validation_failures),
        TEST(test_validate_direct),
        TEST(test_yaml_token_env_role_conflict),
        TEST(test_yaml_every_key),
        TEST(test_yaml_approle),
        TEST(test_yaml_nulls),
        TEST(test_yaml_errors),
    };
#undef TEST

    return cmocka_run_group_tests(tests, NULL, NULL);
}
