/*
 * The vaultclient library: a small client for Vault's HTTP API that reads,
 * signs with, verifies with, rotates and creates Transit keys over a pooled,
 * kept-alive HTTPS session. It knows nothing of OpenSSL providers.
 */
#ifndef VAULTCLIENT_H
#define VAULTCLIENT_H

#include <stddef.h>

#include <openssl/types.h>

/* What went wrong, in the words the operator docs use. */
typedef enum vc_status {
    VC_OK = 0,
    VC_ERR_PERMISSION_DENIED,   /* 403: policy or token refused */
    VC_ERR_KEY_NOT_FOUND,       /* no such Transit key (or mount) */
    VC_ERR_CONNECTION_REFUSED,  /* nothing listens at the address */
    VC_ERR_TIMEOUT,             /* no answer within the timeout */
    VC_ERR_SEALED,              /* 503: Vault is sealed or has no leader */
    VC_ERR_TLS_VERIFY,          /* server certificate not trusted */
    VC_ERR_UNEXPECTED_RESPONSE, /* an answer we cannot use */
    VC_ERR_REJECTED,            /* Vault refused the request (400, 500) */
    VC_ERR_NETWORK,             /* other transport failure: DNS, reset */
    VC_ERR_CONFIG,              /* the configuration is unusable */
    VC_ERR_UNSUPPORTED,         /* key type or parameter we cannot serve */
    VC_ERR_NO_MEMORY
} vc_status;

/*
 * An error: its kind, the HTTP status when there was one, and one line for a
 * human ("vault transit: key not found: sign mount=transit key=k
 * address=https://... status=400: signing key not found"). Never a token.
 */
typedef struct vc_error {
    vc_status status;
    long http_status;
    char message[512];
} vc_error;

/* "permission denied", "key not found", ... without the prefix. */
const char *vc_status_text(vc_status status);

/* Fills err (if not NULL) and returns status; the message gets the
 * "vault transit: <status text>: " prefix. */
vc_status vc_error_set(vc_error *err, vc_status status, long http_status,
                       const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Parses a duration: "10s", "500ms", "2m", "1h", sums of them ("1m30s"),
 * fractions ("1.5s") or plain seconds ("10", "0.25"). Returns VC_ERR_CONFIG
 * for anything else: zero, negative values, and more milliseconds than a
 * long holds.
 */
vc_status vc_parse_duration(const char *text, long *ms);

/*
 * Settings the client needs, fully resolved by the caller (the provider merges
 * YAML, openssl.cnf and the environment). Strings are owned by the struct and
 * released by vc_config_clear; NULL means "not set".
 */
typedef struct vc_config {
    char *address;        /* https://vault.example:8200 */
    char *token;          /* a static token */
    char *token_file;     /* re-read when it changes (Vault Agent sink) */
    char *mount;          /* Transit mount path; default "transit" */
    char *key_name;       /* key for a bare "vault:" URI */
    long timeout_ms;      /* per call, retries included; default 10000 */
    char *namespace_name; /* X-Vault-Namespace */
    char *ca_cert;        /* PEM bundle file */
    char *ca_path;        /* directory of hashed CA certificates */
    char *client_cert;    /* client certificate file, with client_key */
    char *client_key;
    char *tls_server_name; /* SNI and verified host name */
    int skip_verify;       /* 1 = do not verify the server (loudly logged) */
    char *approle_role_id;
    char *approle_secret_id;
    char *approle_mount; /* default "approle" */
    long cache_ttl_ms;   /* key metadata cache; default 30000, 0 = none */
    char *algorithm;     /* signing.algorithm from the YAML file, if any */
    char *config_file;   /* the YAML file these settings came from */
    char *debug;         /* log setting, see vc_log_configure */
} vc_config;

#define VC_DEFAULT_MOUNT         "transit"
#define VC_DEFAULT_APPROLE_MOUNT "approle"
#define VC_DEFAULT_TIMEOUT_MS    10000L
#define VC_DEFAULT_CACHE_TTL_MS  30000L

/*
 * Zeroes the struct and sets the numeric defaults; string defaults (mount,
 * approle_mount) stay NULL and mean the VC_DEFAULT_* names above.
 */
void vc_config_init(vc_config *cfg);
/* Releases every string (secrets are cleansed) and zeroes the struct. */
void vc_config_clear(vc_config *cfg);
/* Deep copy; returns VC_ERR_NO_MEMORY on failure. */
vc_status vc_config_copy(vc_config *dst, const vc_config *src);

/*
 * Logging. The setting is "off", "error", "info" or "debug", optionally
 * followed by ":PATH" to append to a file instead of stderr
 * ("debug:/tmp/vault-provider.log"). Secrets are never logged.
 */
typedef enum vc_log_level {
    VC_LOG_OFF = 0,
    VC_LOG_ERROR,
    VC_LOG_INFO,
    VC_LOG_DEBUG
} vc_log_level;

/* NULL or "" leaves the setting as it is; VC_ERR_CONFIG for a bad setting
 * or a file that cannot be opened. */
vc_status vc_log_configure(const char *setting);
void vc_log(vc_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Checks an address, and the TLS server name when set, with the parser the
 * client itself uses, and no network: anything the client would refuse at
 * its first request (not a URL, another scheme, a query or fragment, a user
 * name or password, a bad server name) is VC_ERR_CONFIG here already.
 */
vc_status vc_address_check(const char *address, const char *server_name,
                           vc_error *err);

/* A client: one per provider instance, shared by all threads. */
typedef struct vc_client vc_client;

/* Copies cfg. Touches no network and does not initialise libcurl. */
vc_status vc_client_new(const vc_config *cfg, vc_client **out, vc_error *err);
void vc_client_free(vc_client *client);

/*
 * The library context that libcurl's TLS runs in: during each HTTP exchange
 * it is made the thread's default (OSSL_LIB_CTX_set0_default) and the
 * previous default restored afterwards. NULL (the default) swaps nothing.
 */
void vc_client_set_tls_libctx(vc_client *client, OSSL_LIB_CTX *libctx);

/* Number of TCP connections libcurl opened so far (for tests and logs). */
long vc_client_connections_opened(const vc_client *client);

typedef enum vc_key_type {
    VC_KEY_UNKNOWN = 0,
    VC_KEY_ECDSA_P256,
    VC_KEY_ECDSA_P384,
    VC_KEY_ECDSA_P521,
    VC_KEY_ED25519,
    VC_KEY_RSA_2048,
    VC_KEY_RSA_3072,
    VC_KEY_RSA_4096
} vc_key_type;

/* "ecdsa-p256" <-> VC_KEY_ECDSA_P256; unknown names give VC_KEY_UNKNOWN. */
vc_key_type vc_key_type_from_name(const char *name);
const char *vc_key_type_name(vc_key_type type);

typedef struct vc_key_version {
    int version;
    char *public_key;    /* PEM SubjectPublicKeyInfo; raw base64 for ed25519 */
    char *creation_time; /* RFC 3339 */
} vc_key_version;

typedef struct vc_transit_key {
    char *name;
    vc_key_type type;
    int latest_version;
    int min_available_version;
    int min_encryption_version;
    int supports_signing;
    size_t nversions;
    vc_key_version *versions; /* ascending by version */
} vc_transit_key;

void vc_transit_key_free(vc_transit_key *key);
/* The entry for version (0 = latest), or NULL when it is not in the map. */
const vc_key_version *vc_transit_key_version(const vc_transit_key *key,
                                             int version);

/* Parses the body of GET {mount}/keys/{name} (for the client and tests). */
vc_status vc_transit_parse_key(const char *body, size_t len,
                               vc_transit_key **out, vc_error *err);

/*
 * Decodes "vault:vN:<base64>" into the raw signature and its version.
 * Accepts any N >= 1. *raw is allocated with malloc.
 */
vc_status vc_transit_parse_signature(const char *text, int *version,
                                     unsigned char **raw, size_t *rawlen);

/* What to send with a signature request. NULL strings are left out. */
typedef struct vc_sign_params {
    const char *hash_algorithm;      /* "sha2-256", ..., "none" */
    int prehashed;                   /* 1: input is the digest */
    const char *signature_algorithm; /* RSA only: "pss" or "pkcs1v15" */
    const char *salt_length;         /* RSA-PSS only: "auto", "hash", "32" */
    int key_version;                 /* 0 = latest */
} vc_sign_params;

vc_status vc_transit_read_key(vc_client *client, const char *mount,
                              const char *name, vc_transit_key **out,
                              vc_error *err);

/*
 * One POST {mount}/sign/{name}, always with marshaling_algorithm=asn1.
 * *sig (malloc'd) receives the raw signature: DER for ECDSA, the RSA
 * signature bytes otherwise; *version the version Vault signed with.
 */
vc_status vc_transit_sign(vc_client *client, const char *mount,
                          const char *name, const vc_sign_params *params,
                          const unsigned char *input, size_t inlen,
                          unsigned char **sig, size_t *siglen, int *version,
                          vc_error *err);

/*
 * POST {mount}/verify/{name}; *valid is 1 or 0 when VC_OK is returned.
 * version is the signature's key version; 0 takes params->key_version.
 */
vc_status vc_transit_verify(vc_client *client, const char *mount,
                            const char *name, const vc_sign_params *params,
                            const unsigned char *input, size_t inlen,
                            const unsigned char *sig, size_t siglen,
                            int version, int *valid, vc_error *err);

/* Not sent again after a failure that leaves open whether Vault rotated:
 * a second rotation would add a version. */
vc_status vc_transit_rotate(vc_client *client, const char *mount,
                            const char *name, vc_error *err);

/* type is a Transit key type name: "ecdsa-p256", "rsa-2048", ... */
vc_status vc_transit_create(vc_client *client, const char *mount,
                            const char *name, const char *type, vc_error *err);

#endif
