/*
 * The key object shared by keymgmt, signature and store, and the cache of
 * Transit key metadata that lets a URI be opened again without a request
 * for cache_ttl. A Vault-backed key is pinned to one concrete version.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include "provider.h"

#define VP_CACHE_MAX_ENTRIES 64

typedef struct cache_entry {
    struct cache_entry *next;
    char *mount;
    char *name;
    vc_transit_key *key;
    long long fetched_ms;
} cache_entry;

struct vp_key_cache {
    CRYPTO_RWLOCK *lock;
    long ttl_ms;
    cache_entry *head; /* newest first */
    int count;
};

/* What a load needs from the metadata of one version. */
typedef struct key_meta {
    vc_key_type type;
    int version;
    char *pem;
} key_meta;

vp_key *vp_key_new(vp_provctx *ctx, vp_key_kind kind)
{
    vp_key *key = OPENSSL_zalloc(sizeof(*key));

    if (key == NULL)
        return NULL;
    key->magic = VP_KEY_MAGIC;
    atomic_init(&key->refs, 1);
    key->provctx = ctx;
    key->kind = kind;
    return key;
}

int vp_key_up_ref(vp_key *key)
{
    atomic_fetch_add(&key->refs, 1);
    return 1;
}

void vp_key_free(vp_key *key)
{
    if (key == NULL || atomic_fetch_sub(&key->refs, 1) > 1)
        return;
    key->magic = 0;
    EVP_PKEY_free(key->pub);
    OPENSSL_free(key->mount);
    OPENSSL_free(key->name);
    OPENSSL_free(key);
}

/* The public half of a local key pair, as a key of its own. */
static EVP_PKEY *public_part(vp_provctx *ctx, EVP_PKEY *pair)
{
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY *pub = NULL;

    if (EVP_PKEY_todata(pair, EVP_PKEY_PUBLIC_KEY, &params) != 1)
        goto err;
    pctx = EVP_PKEY_CTX_new_from_pkey(ctx->libctx, pair, NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &pub, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pub = NULL;
err:
    EVP_PKEY_CTX_free(pctx);
    OSSL_PARAM_free(params);
    return pub;
}

static int dup_vault_ref(vp_key *key, const vp_key *src)
{
    key->mount = OPENSSL_strdup(src->mount);
    key->name = OPENSSL_strdup(src->name);
    key->version = src->version;
    key->has_private = 1;
    return key->mount != NULL && key->name != NULL;
}

vp_key *vp_key_dup(const vp_key *src, int with_private)
{
    vp_key *key = vp_key_new(src->provctx, src->kind);

    if (key == NULL)
        return NULL;
    key->type = src->type;
    key->has_public = src->has_public;
    if (src->local_private && !with_private) {
        if ((key->pub = public_part(src->provctx, src->pub)) == NULL)
            goto err;
    } else if (src->pub != NULL) {
        /* Built once and never changed afterwards: it can be shared. */
        if (!EVP_PKEY_up_ref(src->pub))
            goto err;
        key->pub = src->pub;
        key->local_private = src->local_private;
    }
    if (with_private && src->has_private && !dup_vault_ref(key, src))
        goto err;
    return key;
err:
    vp_key_free(key);
    return NULL;
}

int vp_key_can_sign(const vp_key *key)
{
    return key->has_private || key->local_private;
}

const char *vp_key_kind_name(vp_key_kind kind)
{
    return kind == VP_KIND_RSA ? "RSA" : "EC";
}

vp_key *vp_key_from_reference(const void *ref, size_t ref_size)
{
    vp_key *key;

    if (ref == NULL || ref_size != sizeof(key))
        return NULL;
    memcpy(&key, ref, sizeof(key));
    if (key == NULL || key->magic != VP_KEY_MAGIC)
        return NULL;
    return key;
}

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

vp_key_cache *vp_key_cache_new(long ttl_ms)
{
    vp_key_cache *cache = OPENSSL_zalloc(sizeof(*cache));

    if (cache == NULL)
        return NULL;
    cache->lock = CRYPTO_THREAD_lock_new();
    if (cache->lock == NULL) {
        OPENSSL_free(cache);
        return NULL;
    }
    cache->ttl_ms = ttl_ms;
    return cache;
}

static void entry_free(cache_entry *e)
{
    vc_transit_key_free(e->key);
    OPENSSL_free(e->mount);
    OPENSSL_free(e->name);
    OPENSSL_free(e);
}

void vp_key_cache_free(vp_key_cache *cache)
{
    cache_entry *e, *next;

    if (cache == NULL)
        return;
    for (e = cache->head; e != NULL; e = next) {
        next = e->next;
        entry_free(e);
    }
    CRYPTO_THREAD_lock_free(cache->lock);
    OPENSSL_free(cache);
}

static vc_status kind_check(vc_key_type type, vp_key_kind *kind)
{
    switch (type) {
    case VC_KEY_ECDSA_P256:
    case VC_KEY_ECDSA_P384:
    case VC_KEY_ECDSA_P521:
        *kind = VP_KIND_EC;
        return VC_OK;
    case VC_KEY_RSA_2048:
    case VC_KEY_RSA_3072:
    case VC_KEY_RSA_4096:
        *kind = VP_KIND_RSA;
        return VC_OK;
    default:
        return VC_ERR_UNSUPPORTED;
    }
}

/* Picks one version from the metadata; copies what the load needs. */
static vc_status meta_pick(const vc_transit_key *tk, const char *mount,
                           const char *name, int version, key_meta *meta,
                           vc_error *err)
{
    const vc_key_version *kv;
    vp_key_kind kind;

    if (!tk->supports_signing)
        return vc_error_set(err, VC_ERR_UNSUPPORTED, 0,
                            "load mount=%s key=%s: this key type cannot sign",
                            mount, name);
    if (kind_check(tk->type, &kind) != VC_OK)
        return vc_error_set(err, VC_ERR_UNSUPPORTED, 0,
                            "load mount=%s key=%s: Transit key type %s is not "
                            "supported (EC and RSA keys only)",
                            mount, name, vc_key_type_name(tk->type));
    kv = vc_transit_key_version(tk, version);
    if (kv == NULL || kv->public_key == NULL)
        return vc_error_set(err, VC_ERR_KEY_NOT_FOUND, 0,
                            "load mount=%s key=%s version=%d: no such version "
                            "(latest_version=%d min_available_version=%d)",
                            mount, name, version, tk->latest_version,
                            tk->min_available_version);
    meta->pem = OPENSSL_strdup(kv->public_key);
    if (meta->pem == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "load");
    meta->type = tk->type;
    meta->version = kv->version;
    return VC_OK;
}

/* 1 and *st set when a fresh entry exists; 0 when a request is needed. */
static int cache_pick(vp_key_cache *cache, const char *mount, const char *name,
                      int version, key_meta *meta, vc_status *st, vc_error *err)
{
    cache_entry *e;
    int found = 0;

    if (cache->ttl_ms <= 0 || !CRYPTO_THREAD_read_lock(cache->lock))
        return 0;
    for (e = cache->head; e != NULL; e = e->next) {
        if (strcmp(e->mount, mount) == 0 && strcmp(e->name, name) == 0)
            break;
    }
    if (e != NULL && now_ms() - e->fetched_ms < cache->ttl_ms) {
        found = 1;
        *st = meta_pick(e->key, mount, name, version, meta, err);
    }
    CRYPTO_THREAD_unlock(cache->lock);
    return found;
}

static void cache_unlink_stale(vp_key_cache *cache, const char *mount,
                               const char *name)
{
    cache_entry **pp = &cache->head, *e;
    int n = 0;

    while ((e = *pp) != NULL) {
        if ((strcmp(e->mount, mount) == 0 && strcmp(e->name, name) == 0) ||
            n >= VP_CACHE_MAX_ENTRIES - 1) {
            *pp = e->next;
            entry_free(e);
            cache->count--;
            continue;
        }
        n++;
        pp = &e->next;
    }
}

/* Takes ownership of tk (freed if it cannot be kept). */
static void cache_store(vp_key_cache *cache, const char *mount,
                        const char *name, vc_transit_key *tk)
{
    cache_entry *e = NULL;

    if (cache->ttl_ms <= 0 || (e = OPENSSL_zalloc(sizeof(*e))) == NULL)
        goto err;
    e->mount = OPENSSL_strdup(mount);
    e->name = OPENSSL_strdup(name);
    if (e->mount == NULL || e->name == NULL)
        goto err;
    e->key = tk;
    e->fetched_ms = now_ms();
    if (!CRYPTO_THREAD_write_lock(cache->lock))
        goto err;
    cache_unlink_stale(cache, mount, name);
    e->next = cache->head;
    cache->head = e;
    cache->count++;
    CRYPTO_THREAD_unlock(cache->lock);
    return;
err:
    if (e != NULL) {
        e->key = NULL;
        entry_free(e);
    }
    vc_transit_key_free(tk);
}

/*
 * A cached answer serves within the TTL; when it cannot serve (a version
 * newer than the cached latest, say) one fresh read decides.
 */
static vc_status meta_get(vp_provctx *ctx, const char *mount, const char *name,
                          int version, key_meta *meta, vc_error *err)
{
    vc_transit_key *tk = NULL;
    vc_client *client;
    vc_status st;

    if (cache_pick(ctx->cache, mount, name, version, meta, &st, err) &&
        st == VC_OK) {
        vc_log(VC_LOG_DEBUG, "load mount=%s key=%s cached", mount, name);
        return VC_OK;
    }
    st = vp_provctx_client(ctx, &client, err);
    if (st == VC_OK)
        st = vc_transit_read_key(client, mount, name, &tk, err);
    if (st != VC_OK)
        return st;
    st = meta_pick(tk, mount, name, version, meta, err);
    cache_store(ctx->cache, mount, name, tk);
    return st;
}

static EVP_PKEY *parse_public_pem(vp_provctx *ctx, const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = NULL;

    if (bio != NULL)
        pkey = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, ctx->libctx, NULL);
    BIO_free(bio);
    return pkey;
}

static vc_status build_public(vp_provctx *ctx, vp_key *key, const char *pem,
                              vc_error *err)
{
    const char *kname = vp_key_kind_name(key->kind);

    ERR_set_mark();
    key->pub = parse_public_pem(ctx, pem);
    if (key->pub != NULL && EVP_PKEY_is_a(key->pub, kname)) {
        ERR_pop_to_mark();
        key->has_public = 1;
        return VC_OK;
    }
    ERR_pop_to_mark();
    if (!vp_has_backend(ctx, kname))
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "load mount=%s key=%s: no provider besides vault "
                            "handles %s keys: " VP_NO_BACKEND_HINT,
                            key->mount, key->name, kname);
    return vc_error_set(err, VC_ERR_UNEXPECTED_RESPONSE, 0,
                        "load mount=%s key=%s version=%d: the public key is "
                        "not a %s PEM public key",
                        key->mount, key->name, key->version, kname);
}

static vc_status fill_key(vp_provctx *ctx, vp_key *key, const char *mount,
                          const char *name, const key_meta *meta, vc_error *err)
{
    key->mount = OPENSSL_strdup(mount);
    key->name = OPENSSL_strdup(name);
    if (key->mount == NULL || key->name == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "load");
    key->type = meta->type;
    key->version = meta->version;
    key->has_private = 1;
    return build_public(ctx, key, meta->pem, err);
}

vc_status vp_key_load_vault(vp_provctx *ctx, const char *mount,
                            const char *name, int version, vp_key **out,
                            vc_error *err)
{
    key_meta meta = {0};
    vp_key_kind kind = VP_KIND_EC;
    vp_key *key = NULL;
    vc_status st;

    *out = NULL;
    st = meta_get(ctx, mount, name, version, &meta, err);
    if (st != VC_OK)
        goto err;
    kind_check(meta.type, &kind);
    key = vp_key_new(ctx, kind);
    if (key == NULL) {
        st = vc_error_set(err, VC_ERR_NO_MEMORY, 0, "load");
        goto err;
    }
    st = fill_key(ctx, key, mount, name, &meta, err);
    if (st != VC_OK)
        goto err;
    vc_log(VC_LOG_INFO, "load mount=%s key=%s version=%d type=%s", mount, name,
           key->version, vc_key_type_name(key->type));
    *out = key;
    key = NULL;
err:
    vp_key_free(key);
    OPENSSL_free(meta.pem);
    return st;
}
