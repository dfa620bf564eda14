/*
 * Merges the provider's settings from the built-in defaults, the signing
 * application's YAML file, the openssl.cnf section and the environment, and
 * checks that the result can work before any request is made.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <yaml.h>

#include "config.h"
#include "uri.h"

/* How the text of a setting becomes a value in vc_config. */
typedef enum vp_kind {
    VP_TEXT,
    VP_SECRET, /* cleansed when replaced */
    VP_MOUNT,  /* leading and trailing slashes dropped */
    VP_BOOL,
    VP_DURATION, /* more than zero */
    VP_TTL       /* a duration that may be zero */
} vp_kind;

typedef struct vp_field {
    const char *key; /* openssl.cnf spelling */
    vp_kind kind;
    size_t offset; /* of the member of vc_config */
} vp_field;

/* One list feeds both the field table and vp_config_cnf_keys. */
#define VP_FIELDS(X)                                                           \
    X("address", VP_TEXT, address)                                             \
    X("token", VP_SECRET, token)                                               \
    X("token_file", VP_TEXT, token_file)                                       \
    X("mount", VP_MOUNT, mount)                                                \
    X("key_name", VP_TEXT, key_name)                                           \
    X("timeout", VP_DURATION, timeout_ms)                                      \
    X("namespace", VP_TEXT, namespace_name)                                    \
    X("ca_cert", VP_TEXT, ca_cert)                                             \
    X("ca_path", VP_TEXT, ca_path)                                             \
    X("client_cert", VP_TEXT, client_cert)                                     \
    X("client_key", VP_TEXT, client_key)                                       \
    X("tls_server_name", VP_TEXT, tls_server_name)                             \
    X("skip_verify", VP_BOOL, skip_verify)                                     \
    X("approle_role_id", VP_SECRET, approle_role_id)                           \
    X("approle_secret_id", VP_SECRET, approle_secret_id)                       \
    X("approle_mount", VP_MOUNT, approle_mount)                                \
    X("config_file", VP_TEXT, config_file)                                     \
    X("debug", VP_TEXT, debug)                                                 \
    X("cache_ttl", VP_TTL, cache_ttl_ms)

#define VP_AS_FIELD(key, kind, member) {key, kind, offsetof(vc_config, member)},
#define VP_AS_KEY(key, kind, member)   key,

static const vp_field fields[] = {VP_FIELDS(VP_AS_FIELD)};

const char *const vp_config_cnf_keys[] = {VP_FIELDS(VP_AS_KEY) NULL};

/* Environment variables per setting, the winning one first. */
typedef struct vp_env_var {
    const char *key;
    const char *names[3];
} vp_env_var;

static const vp_env_var env_vars[] = {
    {"address", {"AUTHPLANE_VAULT_ADDR", "BAO_ADDR", "VAULT_ADDR"}},
    {"token", {"AUTHPLANE_VAULT_TOKEN", "BAO_TOKEN", "VAULT_TOKEN"}},
    {"namespace", {"BAO_NAMESPACE", "VAULT_NAMESPACE"}},
    {"ca_cert", {"BAO_CACERT", "VAULT_CACERT"}},
    {"ca_path", {"BAO_CAPATH", "VAULT_CAPATH"}},
    {"client_cert", {"BAO_CLIENT_CERT", "VAULT_CLIENT_CERT"}},
    {"client_key", {"BAO_CLIENT_KEY", "VAULT_CLIENT_KEY"}},
    {"skip_verify", {"BAO_SKIP_VERIFY", "VAULT_SKIP_VERIFY"}},
    {"tls_server_name", {"BAO_TLS_SERVER_NAME", "VAULT_TLS_SERVER_NAME"}},
    {"timeout",
     {"AUTHPLANE_VAULT_TIMEOUT", "BAO_CLIENT_TIMEOUT", "VAULT_CLIENT_TIMEOUT"}},
    {"mount", {"AUTHPLANE_VAULT_TRANSIT_MOUNT"}},
    {"key_name", {"AUTHPLANE_VAULT_TRANSIT_KEY_NAME"}},
    {"approle_role_id", {"AUTHPLANE_VAULT_APPROLE_ROLE_ID"}},
    {"approle_secret_id", {"AUTHPLANE_VAULT_APPROLE_SECRET_ID"}},
    {"approle_mount", {"AUTHPLANE_VAULT_APPROLE_MOUNT"}},
    {"debug", {"VAULT_PROVIDER_DEBUG"}},
};

#define VP_CONFIG_FILE_ENV "VAULT_PROVIDER_CONFIG"

static const vp_field *find_field(const char *key)
{
    size_t i;

    for (i = 0; key != NULL && i < sizeof(fields) / sizeof(fields[0]); i++)
        if (strcmp(fields[i].key, key) == 0)
            return &fields[i];
    return NULL;
}

/* vc_config owns its strings and vc_config_clear frees them with free():
 * they come from malloc, not OpenSSL's allocators, so that an application
 * with its own CRYPTO_set_mem_functions does not get them mixed up. */
static void release_text(char **slot, int secret)
{
    if (*slot != NULL && secret)
        OPENSSL_cleanse(*slot, strlen(*slot));
    free(*slot);
    *slot = NULL;
}

static vc_status store_text(char **slot, const char *value, size_t len,
                            int secret, vc_error *err)
{
    char *copy = strndup(value, len);

    if (copy == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "copying a setting");
    release_text(slot, secret);
    *slot = copy;
    return VC_OK;
}

/* Vault's CLI prints mounts as "transit/"; accept that spelling. */
static vc_status store_mount(char **slot, const char *value, vc_error *err)
{
    size_t len;

    while (*value == '/')
        value++;
    len = strlen(value);
    while (len > 0 && value[len - 1] == '/')
        len--;
    return store_text(slot, value, len, 0, err);
}

static int parse_bool(const char *text, int *out)
{
    static const char *const words[] = {"false", "0", "no",  "off",
                                        "true",  "1", "yes", "on"};
    size_t i;

    for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(text, words[i]) == 0) {
            *out = i >= 4;
            return 1;
        }
    }
    return 0;
}

/* vc_parse_duration refuses zero, but cache_ttl = 0 turns the cache off. */
static int is_zero_duration(const char *text)
{
    size_t zeros = strspn(text, "0");
    const char *unit = text + zeros;

    return zeros > 0 && (*unit == '\0' || strcmp(unit, "s") == 0 ||
                         strcmp(unit, "ms") == 0 || strcmp(unit, "m") == 0 ||
                         strcmp(unit, "h") == 0);
}

static vc_status set_duration(long *slot, const char *value, int zero_ok,
                              const char *where, vc_error *err)
{
    long ms;

    if (zero_ok && is_zero_duration(value)) {
        *slot = 0;
        return VC_OK;
    }
    if (vc_parse_duration(value, &ms) != VC_OK)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s: \"%s\" is not a duration (use 10s, 500ms or "
                            "plain seconds%s)",
                            where, value, zero_ok ? "; 0 turns it off" : "");
    *slot = ms;
    return VC_OK;
}

static vc_status set_field(vc_config *cfg, const vp_field *f, const char *value,
                           const char *where, vc_error *err)
{
    void *slot = (char *)cfg + f->offset;

    switch (f->kind) {
    case VP_BOOL:
        if (!parse_bool(value, slot))
            return vc_error_set(err, VC_ERR_CONFIG, 0,
                                "%s: \"%s\" is not a boolean (use true/false, "
                                "yes/no, on/off or 1/0)",
                                where, value);
        return VC_OK;
    case VP_DURATION:
    case VP_TTL:
        return set_duration(slot, value, f->kind == VP_TTL, where, err);
    case VP_MOUNT:
        return store_mount(slot, value, err);
    case VP_SECRET:
        return store_text(slot, value, strlen(value), 1, err);
    default:
        return store_text(slot, value, strlen(value), 0, err);
    }
}

/* An empty value, wherever it comes from, leaves the lower layer's value. */
static vc_status overlay(vc_config *cfg, const vp_field *f, const char *value,
                         const char *where, vc_error *err)
{
    if (value == NULL || *value == '\0')
        return VC_OK;
    return set_field(cfg, f, value, where, err);
}

vc_status vp_config_set(vc_config *cfg, const char *key, const char *value,
                        vc_error *err)
{
    const vp_field *f = find_field(key);

    if (f == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0, "unknown setting \"%s\"",
                            key == NULL ? "(null)" : key);
    return overlay(cfg, f, value, key, err);
}

/* The YAML file being read, kept for the line numbers in messages. */
typedef struct vp_yaml {
    yaml_document_t doc;
    const char *path;
} vp_yaml;

/* Keys of signing.vault_transit besides approle, in cnf spelling. */
static const char *const yaml_transit_keys[] = {
    "address",    "token",           "token_file",  "mount",     "key_name",
    "timeout",    "namespace",       "ca_cert",     "ca_path",   "client_cert",
    "client_key", "tls_server_name", "skip_verify", "cache_ttl", NULL};

/* Keys of signing.vault_transit.approle; "approle_" + key is the cnf key. */
static const char *const yaml_approle_keys[] = {"role_id", "secret_id", "mount",
                                                NULL};

static vc_status overlay_yaml_mapping(vc_config *cfg, vp_yaml *y,
                                      yaml_node_t *map, const char *section,
                                      const char *const *allowed,
                                      const char *prefix, vc_error *err);

static yaml_node_t *yaml_node(vp_yaml *y, int index)
{
    return yaml_document_get_node(&y->doc, index);
}

static unsigned long yaml_line(const yaml_node_t *node)
{
    return (unsigned long)node->start_mark.line + 1;
}

static const char *scalar_text(const yaml_node_t *node)
{
    return (const char *)node->data.scalar.value;
}

static int scalar_is(const yaml_node_t *node, const char *text)
{
    size_t len = strlen(text);

    return node != NULL && node->type == YAML_SCALAR_NODE &&
           node->data.scalar.length == len &&
           memcmp(node->data.scalar.value, text, len) == 0;
}

/* "key:", "key: ~" and "key: null" mean "not set"; "key: 'null'" does not. */
static int scalar_is_null(const yaml_node_t *node)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    size_t i;

    if (node->type != YAML_SCALAR_NODE ||
        node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
        if (scalar_is(node, nulls[i]))
            return 1;
    return 0;
}

static int key_allowed(const char *const *allowed, const yaml_node_t *key)
{
    for (; *allowed != NULL; allowed++)
        if (scalar_is(key, *allowed))
            return 1;
    return 0;
}

/* The value under key in a mapping; NULL when absent or not a mapping. */
static yaml_node_t *yaml_lookup(vp_yaml *y, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *pair;

    if (map == NULL || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = map->data.mapping.pairs.start;
         pair < map->data.mapping.pairs.top; pair++)
        if (scalar_is(yaml_node(y, pair->key), key))
            return yaml_node(y, pair->value);
    return NULL;
}

/* libyaml keeps both of two equal keys; which one counts would be a guess. */
static vc_status check_unique_keys(vp_yaml *y, yaml_node_t *map,
                                   const char *section, vc_error *err)
{
    yaml_node_pair_t *start = map->data.mapping.pairs.start, *a, *b;
    yaml_node_t *key;

    for (a = start; a < map->data.mapping.pairs.top; a++) {
        key = yaml_node(y, a->key);
        if (key->type != YAML_SCALAR_NODE)
            continue;
        for (b = start; b < a; b++)
            if (scalar_is(yaml_node(y, b->key), scalar_text(key)))
                return vc_error_set(
                    err, VC_ERR_CONFIG, 0, "%s:%lu: duplicate key \"%s\" in %s",
                    y->path, yaml_line(key), scalar_text(key), section);
    }
    return VC_OK;
}

static vc_status overlay_yaml_value(vc_config *cfg, vp_yaml *y,
                                    const char *section, const char *prefix,
                                    yaml_node_t *key, yaml_node_t *value,
                                    vc_error *err)
{
    char where[320], flat[64];

    if (scalar_is_null(value))
        return VC_OK;
    snprintf(where, sizeof(where), "%s:%lu: %s.%s", y->path, yaml_line(value),
             section, scalar_text(key));
    if (value->type != YAML_SCALAR_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s must be a single value, not a list or "
                            "mapping",
                            where);
    if (strlen(scalar_text(value)) != value->data.scalar.length)
        return vc_error_set(err, VC_ERR_CONFIG, 0, "%s holds a NUL character",
                            where);
    snprintf(flat, sizeof(flat), "%s%s", prefix, scalar_text(key));
    return overlay(cfg, find_field(flat), scalar_text(value), where, err);
}

static vc_status overlay_yaml_approle(vc_config *cfg, vp_yaml *y,
                                      yaml_node_t *value, vc_error *err)
{
    if (scalar_is_null(value))
        return VC_OK;
    if (value->type != YAML_MAPPING_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s:%lu: signing.vault_transit.approle must be a "
                            "mapping of role_id, secret_id and mount",
                            y->path, yaml_line(value));
    return overlay_yaml_mapping(cfg, y, value, "signing.vault_transit.approle",
                                yaml_approle_keys, "approle_", err);
}

static vc_status unknown_key(vp_yaml *y, yaml_node_t *key, const char *section,
                             vc_error *err)
{
    if (key->type != YAML_SCALAR_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s:%lu: %s has a key that is not a string",
                            y->path, yaml_line(key), section);
    return vc_error_set(
        err, VC_ERR_CONFIG, 0, "%s:%lu:%lu: unknown key \"%s\" in %s", y->path,
        yaml_line(key), (unsigned long)key->start_mark.column + 1,
        scalar_text(key), section);
}

/* Unknown keys fail: a misspelt setting must not be dropped silently. */
static vc_status overlay_yaml_mapping(vc_config *cfg, vp_yaml *y,
                                      yaml_node_t *map, const char *section,
                                      const char *const *allowed,
                                      const char *prefix, vc_error *err)
{
    yaml_node_pair_t *pair;
    yaml_node_t *key, *value;
    vc_status rc = check_unique_keys(y, map, section, err);

    for (pair = map->data.mapping.pairs.start;
         rc == VC_OK && pair < map->data.mapping.pairs.top; pair++) {
        key = yaml_node(y, pair->key);
        value = yaml_node(y, pair->value);
        if (*prefix == '\0' && scalar_is(key, "approle"))
            rc = overlay_yaml_approle(cfg, y, value, err);
        else if (!key_allowed(allowed, key))
            rc = unknown_key(y, key, section, err);
        else
            rc = overlay_yaml_value(cfg, y, section, prefix, key, value, err);
    }
    return rc;
}

static vc_status check_key_store(vp_yaml *y, yaml_node_t *store, vc_error *err)
{
    if (store == NULL || scalar_is_null(store) ||
        scalar_is(store, "vault_transit"))
        return VC_OK;
    if (store->type != YAML_SCALAR_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s:%lu: signing.key_store must be a single value",
                            y->path, yaml_line(store));
    return vc_error_set(err, VC_ERR_CONFIG, 0,
                        "%s:%lu: signing.key_store is \"%s\", but this "
                        "provider serves only key_store: vault_transit",
                        y->path, yaml_line(store), scalar_text(store));
}

static vc_status overlay_algorithm(vc_config *cfg, vp_yaml *y,
                                   yaml_node_t *value, vc_error *err)
{
    if (value == NULL || scalar_is_null(value))
        return VC_OK;
    if (value->type != YAML_SCALAR_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s:%lu: signing.algorithm must be a single value",
                            y->path, yaml_line(value));
    return store_text(&cfg->algorithm, scalar_text(value),
                      strlen(scalar_text(value)), 0, err);
}

static vc_status overlay_signing(vc_config *cfg, vp_yaml *y, vc_error *err)
{
    yaml_node_t *root = yaml_document_get_root_node(&y->doc);
    yaml_node_t *signing = yaml_lookup(y, root, "signing");
    yaml_node_t *transit = yaml_lookup(y, signing, "vault_transit");
    vc_status rc = VC_OK;

    if (root != NULL && root->type == YAML_MAPPING_NODE)
        rc = check_unique_keys(y, root, "the top level", err);
    if (rc == VC_OK && signing != NULL && signing->type == YAML_MAPPING_NODE)
        rc = check_unique_keys(y, signing, "signing", err);
    if (rc == VC_OK)
        rc = check_key_store(y, yaml_lookup(y, signing, "key_store"), err);
    if (rc != VC_OK)
        return rc;
    if (transit == NULL || transit->type != YAML_MAPPING_NODE)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "%s: no signing.vault_transit mapping", y->path);

    rc = overlay_algorithm(cfg, y, yaml_lookup(y, signing, "algorithm"), err);
    if (rc != VC_OK)
        return rc;
    return overlay_yaml_mapping(cfg, y, transit, "signing.vault_transit",
                                yaml_transit_keys, "", err);
}

static vc_status yaml_syntax_error(const yaml_parser_t *parser,
                                   const char *path, vc_error *err)
{
    const char *problem = parser->problem ? parser->problem : "unreadable";

    if (parser->error == YAML_MEMORY_ERROR)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "reading %s", path);
    if (parser->error == YAML_READER_ERROR)
        return vc_error_set(err, VC_ERR_CONFIG, 0, "%s: byte %zu: %s", path,
                            parser->problem_offset, problem);
    return vc_error_set(
        err, VC_ERR_CONFIG, 0, "%s:%zu:%zu: YAML syntax error: %s%s%s%s", path,
        parser->problem_mark.line + 1, parser->problem_mark.column + 1, problem,
        parser->context ? " (" : "", parser->context ? parser->context : "",
        parser->context ? ")" : "");
}

/*
 * A token or secret ID in the file passes through libyaml's input buffers
 * and document nodes, which libyaml frees without wiping: wipe them first.
 * (Copies libyaml makes while it scans a scalar are beyond reach.)
 */
static void yaml_cleanse(yaml_parser_t *parser, yaml_document_t *doc)
{
    yaml_node_t *node;

    for (node = doc ? doc->nodes.start : NULL; node && node < doc->nodes.top;
         node++)
        if (node->type == YAML_SCALAR_NODE)
            OPENSSL_cleanse(node->data.scalar.value, node->data.scalar.length);
    if (parser->raw_buffer.start != NULL)
        OPENSSL_cleanse(parser->raw_buffer.start,
                        parser->raw_buffer.end - parser->raw_buffer.start);
    if (parser->buffer.start != NULL)
        OPENSSL_cleanse(parser->buffer.start,
                        parser->buffer.end - parser->buffer.start);
}

vc_status vp_config_load_yaml(vc_config *cfg, const char *path, vc_error *err)
{
    yaml_parser_t parser;
    vp_yaml y = {.path = path};
    FILE *fp = fopen(path, "rb");
    int loaded = 0;
    vc_status rc;

    if (fp == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "cannot open config_file %s: %s", path,
                            strerror(errno));
    if (!yaml_parser_initialize(&parser)) {
        fclose(fp);
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "reading %s", path);
    }
    /* Unbuffered: no stdio buffer is left holding the file's secrets. */
    setvbuf(fp, NULL, _IONBF, 0);
    yaml_parser_set_input_file(&parser, fp);

    if (!yaml_parser_load(&parser, &y.doc)) {
        rc = yaml_syntax_error(&parser, path, err);
        goto err;
    }
    loaded = 1;
    rc = overlay_signing(cfg, &y, err);
    if (rc == VC_OK)
        rc = store_text(&cfg->config_file, path, strlen(path), 0, err);

err:
    yaml_cleanse(&parser, loaded ? &y.doc : NULL);
    if (loaded)
        yaml_document_delete(&y.doc);
    yaml_parser_delete(&parser);
    fclose(fp);
    return rc;
}

/* secure_getenv: a setuid program must not take its Vault from the caller. */
static const char *default_env(const char *name)
{
    return secure_getenv(name);
}

static const char *env_value(vp_env_lookup_fn env, const char *name)
{
    const char *value = env(name);

    return value != NULL && *value != '\0' ? value : NULL;
}

static vc_status overlay_cnf(vc_config *cfg, vp_cnf_lookup_fn cnf, void *arg,
                             vc_error *err)
{
    char where[64];
    vc_status rc;
    size_t i;

    for (i = 0; cnf != NULL && i < sizeof(fields) / sizeof(fields[0]); i++) {
        /* Already resolved: it chose the YAML file below this layer. */
        if (strcmp(fields[i].key, "config_file") == 0)
            continue;
        snprintf(where, sizeof(where), "openssl.cnf %s", fields[i].key);
        rc = overlay(cfg, &fields[i], cnf(arg, fields[i].key), where, err);
        if (rc != VC_OK)
            return rc;
    }
    return VC_OK;
}

static vc_status overlay_env(vc_config *cfg, vp_env_lookup_fn env,
                             vc_error *err)
{
    const vp_env_var *e;
    const char *value;
    vc_status rc;
    size_t i, j;

    for (i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++) {
        e = &env_vars[i];
        for (j = 0; j < 3 && e->names[j] != NULL; j++) {
            value = env_value(env, e->names[j]);
            if (value == NULL)
                continue;
            rc = overlay(cfg, find_field(e->key), value, e->names[j], err);
            if (rc != VC_OK)
                return rc;
            break;
        }
    }
    return VC_OK;
}

static vc_status load_config_file(vc_config *cfg, vp_cnf_lookup_fn cnf,
                                  void *arg, vp_env_lookup_fn env,
                                  vc_error *err)
{
    const char *path = env_value(env, VP_CONFIG_FILE_ENV);

    if (path == NULL && cnf != NULL)
        path = cnf(arg, "config_file");
    if (path == NULL || *path == '\0')
        return VC_OK;
    return vp_config_load_yaml(cfg, path, err);
}

/* The defaults spelt out, so that logs, messages and URIs see a name. */
static vc_status set_default_mounts(vc_config *cfg, vc_error *err)
{
    vc_status rc = VC_OK;

    if (cfg->mount == NULL)
        rc = store_mount(&cfg->mount, VC_DEFAULT_MOUNT, err);
    if (rc == VC_OK && cfg->approle_mount == NULL)
        rc = store_mount(&cfg->approle_mount, VC_DEFAULT_APPROLE_MOUNT, err);
    return rc;
}

vc_status vp_config_load(vc_config *cfg, vp_cnf_lookup_fn cnf, void *cnf_arg,
                         vp_env_lookup_fn env, vc_error *err)
{
    vc_status rc;

    memset(cfg, 0, sizeof(*cfg));
    vc_config_init(cfg);
    if (env == NULL)
        env = default_env;

    rc = set_default_mounts(cfg, err);
    if (rc == VC_OK)
        rc = load_config_file(cfg, cnf, cnf_arg, env, err);
    if (rc == VC_OK)
        rc = overlay_cnf(cfg, cnf, cnf_arg, err);
    if (rc == VC_OK)
        rc = overlay_env(cfg, env, err);
    if (rc == VC_OK)
        rc = vp_config_validate(cfg, err);

    if (rc != VC_OK)
        vc_config_clear(cfg);
    return rc;
}

/* A user name and password in the address would appear in every message
 * and log line that names the address: refused without quoting it. */
static int address_has_userinfo(const char *address)
{
    const char *scheme_end = strstr(address, "://");
    const char *authority = scheme_end ? scheme_end + 3 : address;

    return memchr(authority, '@', strcspn(authority, "/?#")) != NULL;
}

static vc_status check_address(const char *address, vc_error *err)
{
    const char *host;

    if (address == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "no Vault address: set `address` in the provider "
                            "section or in config_file, or VAULT_ADDR, "
                            "BAO_ADDR or AUTHPLANE_VAULT_ADDR");
    if (address_has_userinfo(address))
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "the address holds a user name or password "
                            "(before an '@'): not supported");
    if (strncasecmp(address, "https://", 8) == 0)
        host = address + 8;
    else if (strncasecmp(address, "http://", 7) == 0)
        host = address + 7;
    else
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "address \"%s\" must start with https:// or "
                            "http://",
                            address);
    if (*host == '\0' || *host == '/')
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "address \"%s\" names no host", address);
    return VC_OK;
}

/* Which of two credentials to use would be a guess: refuse to guess. */
static vc_status check_auth(const vc_config *cfg, vc_error *err)
{
    if (cfg->token != NULL && cfg->approle_role_id != NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "a token and an AppRole role ID are both set "
                            "(token or VAULT_TOKEN/BAO_TOKEN/AUTHPLANE_VAULT_"
                            "TOKEN, and approle_role_id or AUTHPLANE_VAULT_"
                            "APPROLE_ROLE_ID): keep only one");
    if (cfg->token_file != NULL && cfg->approle_role_id != NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "token_file and an AppRole role ID are both set: "
                            "keep only one");
    if (cfg->approle_role_id != NULL && cfg->approle_secret_id == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "an AppRole role ID is set without a secret ID: "
                            "set approle_secret_id or "
                            "AUTHPLANE_VAULT_APPROLE_SECRET_ID");
    if (cfg->approle_secret_id != NULL && cfg->approle_role_id == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "an AppRole secret ID is set without a role ID: "
                            "set approle_role_id or "
                            "AUTHPLANE_VAULT_APPROLE_ROLE_ID");
    return VC_OK;
}

static vc_status check_client_cert(const vc_config *cfg, vc_error *err)
{
    if (cfg->client_cert != NULL && cfg->client_key == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "client_cert is set without client_key "
                            "(VAULT_CLIENT_KEY): set both or neither");
    if (cfg->client_key != NULL && cfg->client_cert == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "client_key is set without client_cert "
                            "(VAULT_CLIENT_CERT): set both or neither");
    return VC_OK;
}

static vc_status check_names(const vc_config *cfg, vc_error *err)
{
    if (cfg->mount != NULL && !vp_uri_mount_ok(cfg->mount))
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "mount \"%s\" is not a mount path (segments of "
                            "letters, digits, '-', '.', '_' and '~' joined "
                            "by '/')",
                            cfg->mount);
    if (cfg->approle_mount != NULL && !vp_uri_mount_ok(cfg->approle_mount))
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "approle_mount \"%s\" is not a mount path",
                            cfg->approle_mount);
    if (cfg->key_name != NULL && !vp_uri_key_name_ok(cfg->key_name))
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "key_name \"%s\" is not a Transit key name "
                            "(letters, digits, '_', '.' and '-', starting "
                            "and ending with a letter, digit or '_')",
                            cfg->key_name);
    return VC_OK;
}

vc_status vp_config_validate(const vc_config *cfg, vc_error *err)
{
    vc_status rc = check_address(cfg->address, err);

    /* The client's own parser: what it would refuse at the first request
     * makes loading fail instead. */
    if (rc == VC_OK)
        rc = vc_address_check(cfg->address, cfg->tls_server_name, err);
    if (rc == VC_OK)
        rc = check_auth(cfg, err);
    if (rc == VC_OK)
        rc = check_client_cert(cfg, err);
    if (rc == VC_OK)
        rc = check_names(cfg, err);
    return rc;
}
