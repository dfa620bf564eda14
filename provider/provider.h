/*
 * Declarations shared inside the vault provider module: the provider
 * context, the key object that keymgmt, signature and store pass between
 * them, the key metadata cache and the error reasons.
 */
#ifndef VP_PROVIDER_H
#define VP_PROVIDER_H

#include <stdatomic.h>
#include <stddef.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "vaultclient.h"

#define VP_PROVIDER_NAME "vault"
/* Every algorithm carries it; the child library context excludes it. */
#define VP_PROPERTIES     "provider=vault"
#define VP_CHILD_DEFAULTS "provider!=vault"

typedef struct vp_key_cache vp_key_cache;

typedef struct vp_provctx {
    const OSSL_CORE_HANDLE *handle;
    /* Child of the application's library context, minus this provider:
     * hashing, PEM parsing and local verification run here. */
    OSSL_LIB_CTX *libctx;
    vc_config cfg;
    vp_key_cache *cache;
    CRYPTO_RWLOCK *lock; /* guards the lazily created members below */
    vc_client *client;
    /* Private context holding only the default provider, made the thread's
     * default during HTTP exchanges so libcurl's TLS never re-enters us. */
    OSSL_LIB_CTX *tls_libctx;
    OSSL_PROVIDER *tls_default;
} vp_provctx;

/* The Vault client, created on first use; touches no network itself. */
vc_status vp_provctx_client(vp_provctx *ctx, vc_client **client, vc_error *err);

/* TLS-GROUP capabilities for the curves of our EC keymgmt. */
int vp_get_capabilities(void *provctx, const char *capability,
                        OSSL_CALLBACK *cb, void *arg);

/* Algorithm tables, one per operation file. */
extern const OSSL_ALGORITHM vp_keymgmt_algs[];
extern const OSSL_ALGORITHM vp_signature_algs[];
extern const OSSL_ALGORITHM vp_store_algs[];

typedef enum vp_key_kind { VP_KIND_EC = 1, VP_KIND_RSA = 2 } vp_key_kind;

/*
 * A key: the public half (always local, in the child library context) and,
 * when Vault holds the private half, where it lives. A Vault-backed key is
 * pinned to one concrete version for its whole life.
 * Keys OpenSSL generates or imports through this keymgmt (when it is found
 * first for "EC" or "RSA") are local: pub then holds the whole key pair and
 * every operation on it is done in the child library context.
 */
typedef struct vp_key {
    unsigned int magic; /* VP_KEY_MAGIC, to check references */
    atomic_int refs;
    vp_provctx *provctx;
    vp_key_kind kind;
    vc_key_type type; /* Transit type; VC_KEY_UNKNOWN when imported */
    char *mount;      /* NULL unless Vault-backed */
    char *name;
    int version;       /* pinned Transit version; 0 when not Vault-backed */
    int has_private;   /* 1: Vault holds the private half; signing goes there */
    int local_private; /* 1: pub is a local key pair (never Vault-backed) */
    int has_public;    /* 0 for an empty key or EC domain parameters only */
    EVP_PKEY *pub;     /* in provctx->libctx */
} vp_key;

#define VP_KEY_MAGIC 0x7661756cU

vp_key *vp_key_new(vp_provctx *ctx, vp_key_kind kind);
int vp_key_up_ref(vp_key *key);
void vp_key_free(vp_key *key);
/* Deep copy; the private part (Vault reference or local) only if asked. */
vp_key *vp_key_dup(const vp_key *key, int with_private);
/* 1 when the key can sign: through Vault or locally. */
int vp_key_can_sign(const vp_key *key);
const char *vp_key_kind_name(vp_key_kind kind);

/*
 * Builds a Vault-backed key for mount/name at version (0 = the latest at
 * this moment), through the metadata cache.
 */
vc_status vp_key_load_vault(vp_provctx *ctx, const char *mount,
                            const char *name, int version, vp_key **out,
                            vc_error *err);

/* A key travels from the store to keymgmt's load as a pointer. */
vp_key *vp_key_from_reference(const void *ref, size_t ref_size);

vp_key_cache *vp_key_cache_new(long ttl_ms);
void vp_key_cache_free(vp_key_cache *cache);

/*
 * Error reasons: every vc_status keeps its own number, the provider's own
 * reasons follow. Reason strings all read "vault transit: ...".
 */
enum {
    VP_R_NO_PRIVATE_KEY = 100,
    VP_R_PRIVATE_KEY_STAYS_IN_VAULT,
    VP_R_BAD_PARAMETER,
    VP_R_NO_DEFAULT_PROVIDER,
    VP_R_INTERNAL_ERROR
};

void vp_err_init(const OSSL_DISPATCH *in);
const OSSL_ITEM *vp_err_reason_strings(void);
void vp_err_raise(const OSSL_CORE_HANDLE *handle, int reason, const char *file,
                  int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void vp_err_raise_vc(const OSSL_CORE_HANDLE *handle, const vc_error *err,
                     const char *file, int line, const char *func);

#define VP_ERR(ctx, reason, ...)                                               \
    vp_err_raise((ctx)->handle, (reason), OPENSSL_FILE, OPENSSL_LINE,          \
                 OPENSSL_FUNC, __VA_ARGS__)
#define VP_ERR_VC(ctx, vcerr)                                                  \
    vp_err_raise_vc((ctx)->handle, (vcerr), OPENSSL_FILE, OPENSSL_LINE,        \
                    OPENSSL_FUNC)

/*
 * 1 when the child library context has a keymgmt for keytype ("EC",
 * "RSA"); 0 means the application loaded vault without the default
 * provider, and nothing can parse, hash or verify for us.
 */
int vp_has_backend(vp_provctx *ctx, const char *keytype);
#define VP_NO_BACKEND_HINT                                                     \
    "load the default provider too (-provider vault -provider default)"

#endif
