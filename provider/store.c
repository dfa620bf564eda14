/*
 * The "vault:" store: opens a key URI, reads the key's metadata (cached)
 * and hands OpenSSL a reference to a key object pinned to one version,
 * which only this provider's keymgmt can load.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/params.h>
#include <openssl/store.h>

#include "provider.h"
#include "uri.h"

typedef struct vp_store_ctx {
    vp_provctx *provctx;
    vp_uri uri;
    int expect; /* OSSL_STORE_INFO_* or 0 for anything */
    int eof;
} vp_store_ctx;

static void *store_open(void *provctx, const char *uri)
{
    vp_provctx *pctx = provctx;
    vp_store_ctx *ctx = OPENSSL_zalloc(sizeof(*ctx));
    vc_error err = {0};

    if (ctx == NULL)
        return NULL;
    ctx->provctx = pctx;
    if (vp_uri_parse(uri, pctx->cfg.mount, pctx->cfg.key_name, &ctx->uri,
                     &err) != VC_OK) {
        VP_ERR_VC(pctx, &err);
        OPENSSL_free(ctx);
        return NULL;
    }
    return ctx;
}

static const OSSL_PARAM store_settable[] = {
    OSSL_PARAM_int(OSSL_STORE_PARAM_EXPECT, NULL),
    OSSL_PARAM_utf8_string(OSSL_STORE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM *store_settable_ctx_params(void *provctx)
{
    return store_settable;
}

/* Properties are accepted and ignored; other criteria are not offered. */
static int store_set_ctx_params(void *vctx, const OSSL_PARAM params[])
{
    vp_store_ctx *ctx = vctx;
    const OSSL_PARAM *p;

    if (params == NULL)
        return 1;
    p = OSSL_PARAM_locate_const(params, OSSL_STORE_PARAM_EXPECT);
    if (p != NULL && !OSSL_PARAM_get_int(p, &ctx->expect))
        return 0;
    return 1;
}

/*
 * The key object travels by reference (a pointer to it), valid for the
 * duration of the callback; keymgmt's load takes its own reference. The
 * description names the Vault key it came from.
 */
static int pass_key(vp_key *key, const vp_key *origin, OSSL_CALLBACK *object_cb,
                    void *object_cbarg)
{
    int type = OSSL_OBJECT_PKEY;
    char desc[256];
    OSSL_PARAM params[5];

    snprintf(desc, sizeof(desc), "Vault Transit key %s/%s version %d",
             origin->mount, origin->name, origin->version);
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
    params[1] = OSSL_PARAM_construct_utf8_string(
        OSSL_OBJECT_PARAM_DATA_TYPE, (char *)vp_key_kind_name(key->kind), 0);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE,
                                                  &key, sizeof(key));
    params[3] =
        OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DESC, desc, 0);
    params[4] = OSSL_PARAM_construct_end();
    return object_cb(params, object_cbarg);
}

static int wants_key(const vp_store_ctx *ctx)
{
    return ctx->expect == 0 || ctx->expect == OSSL_STORE_INFO_PKEY ||
           ctx->expect == OSSL_STORE_INFO_PUBKEY;
}

/*
 * One object per URI. When only a public key is expected, the object has
 * no private part: OpenSSL then files it as a public key, and may move it
 * to another provider.
 */
static int store_load(void *vctx, OSSL_CALLBACK *object_cb, void *object_cbarg,
                      OSSL_PASSPHRASE_CALLBACK *pw_cb, void *pw_cbarg)
{
    vp_store_ctx *ctx = vctx;
    vp_key *key = NULL, *pub = NULL;
    vc_error err = {0};
    int ok = 0;

    if (ctx->eof)
        return 0;
    ctx->eof = 1;
    if (!wants_key(ctx))
        return 0;
    if (vp_key_load_vault(ctx->provctx, ctx->uri.mount, ctx->uri.name,
                          ctx->uri.version, &key, &err) != VC_OK) {
        VP_ERR_VC(ctx->provctx, &err);
        return 0;
    }
    if (ctx->expect == OSSL_STORE_INFO_PUBKEY &&
        (pub = vp_key_dup(key, 0)) == NULL)
        goto err;
    ok = pass_key(pub != NULL ? pub : key, key, object_cb, object_cbarg);
err:
    vp_key_free(pub);
    vp_key_free(key);
    return ok;
}

static int store_eof(void *vctx)
{
    return ((vp_store_ctx *)vctx)->eof;
}

static int store_close(void *vctx)
{
    vp_store_ctx *ctx = vctx;

    if (ctx == NULL)
        return 1;
    vp_uri_clear(&ctx->uri);
    OPENSSL_free(ctx);
    return 1;
}

/*
 * OpenSSL calls this when the application's first "EC" or "RSA" keymgmt
 * is another provider's (the default provider loaded before us). A
 * Vault-backed key must not be exported: the other provider would get a
 * public key and lose the signing half. Refusing makes OpenSSL 3.0.4+
 * fall back to this provider's keymgmt, which loads the reference.
 * Public-only objects (expect PUBKEY) are exported: public part only.
 */
static int store_export_object(void *vctx, const void *ref, size_t ref_size,
                               OSSL_CALLBACK *export_cb, void *export_cbarg)
{
    vp_store_ctx *ctx = vctx;
    vp_key *key = vp_key_from_reference(ref, ref_size);

    if (key == NULL || key->pub == NULL)
        return 0;
    if (key->has_private) {
        VP_ERR(ctx->provctx, VP_R_PRIVATE_KEY_STAYS_IN_VAULT,
               "export mount=%s key=%s version=%d: a Vault-backed key is "
               "used through the vault provider's keymgmt only",
               key->mount, key->name, key->version);
        return 0;
    }
    return EVP_PKEY_export(key->pub,
                           OSSL_KEYMGMT_SELECT_PUBLIC_KEY |
                               OSSL_KEYMGMT_SELECT_ALL_PARAMETERS,
                           export_cb, export_cbarg);
}

/* The braces stay outside: clang-format 14 and 19 lay them out differently
 * inside a macro, and the format check runs with both. */
#define FN(id, fn) OSSL_FUNC_STORE_##id, (void (*)(void))(fn)

static const OSSL_DISPATCH store_functions[] = {
    {FN(OPEN, store_open)},
    {FN(SETTABLE_CTX_PARAMS, store_settable_ctx_params)},
    {FN(SET_CTX_PARAMS, store_set_ctx_params)},
    {FN(LOAD, store_load)},
    {FN(EOF, store_eof)},
    {FN(CLOSE, store_close)},
    {FN(EXPORT_OBJECT, store_export_object)},
    {0, NULL}};

const OSSL_ALGORITHM vp_store_algs[] = {{VP_URI_SCHEME, VP_PROPERTIES,
                                         store_functions,
                                         "Vault Transit keys by vault: URI"},
                                        {NULL, NULL, NULL, NULL}};
