/*
 * The module's entry point: validates the configuration (no network), sets
 * up the child library context, answers the core's queries from static
 * tables and creates the Vault client lazily on first use.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/opensslv.h>
#include <openssl/params.h>
#include <openssl/provider.h>

#include "config.h"
#include "provider.h"

#ifndef VP_VERSION
#define VP_VERSION "0.0.0"
#endif

static const OSSL_PARAM provider_gettable[] = {
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL, 0),
    OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM *vp_gettable_params(void *provctx)
{
    return provider_gettable;
}

static int vp_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, "Vault Transit provider"))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, VP_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "vault-provider " VP_VERSION
                                    " built with " OPENSSL_VERSION_TEXT))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

static const OSSL_ALGORITHM *vp_query_operation(void *provctx, int operation,
                                                int *no_cache)
{
    /* The tables never change, so the core may cache them. */
    *no_cache = 0;
    switch (operation) {
    case OSSL_OP_KEYMGMT:
        return vp_keymgmt_algs;
    case OSSL_OP_SIGNATURE:
        return vp_signature_algs;
    case OSSL_OP_STORE:
        return vp_store_algs;
    default:
        return NULL;
    }
}

static const OSSL_ITEM *vp_get_reason_strings(void *provctx)
{
    return vp_err_reason_strings();
}

static void vp_provctx_free(vp_provctx *ctx)
{
    if (ctx == NULL)
        return;
    vc_client_free(ctx->client);
    OSSL_PROVIDER_unload(ctx->tls_default);
    OSSL_LIB_CTX_free(ctx->tls_libctx);
    vp_key_cache_free(ctx->cache);
    OSSL_LIB_CTX_free(ctx->libctx);
    CRYPTO_THREAD_lock_free(ctx->lock);
    vc_config_clear(&ctx->cfg);
    OPENSSL_free(ctx);
}

static void vp_teardown(void *provctx)
{
    vc_log(VC_LOG_DEBUG, "provider unloaded");
    vp_provctx_free(provctx);
}

static const OSSL_DISPATCH vp_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))vp_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))vp_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))vp_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))vp_query_operation},
    {OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))vp_get_capabilities},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS,
     (void (*)(void))vp_get_reason_strings},
    {0, NULL}};

/* The openssl.cnf section as fetched from the core, for vp_config_load. */
typedef struct cnf_values {
    OSSL_PARAM *params;
    char **values;
    size_t count;
} cnf_values;

static const char *cnf_lookup(void *arg, const char *key)
{
    const cnf_values *cnf = arg;
    size_t i;

    for (i = 0; i < cnf->count; i++) {
        if (strcmp(cnf->params[i].key, key) == 0)
            return cnf->values[i];
    }
    return NULL;
}

static int cnf_fetch(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     cnf_values *cnf)
{
    OSSL_FUNC_core_get_params_fn *get_params = NULL;
    size_t i, n = 0;

    for (; in->function_id != 0; in++) {
        if (in->function_id == OSSL_FUNC_CORE_GET_PARAMS)
            get_params = OSSL_FUNC_core_get_params(in);
    }
    while (vp_config_cnf_keys[n] != NULL)
        n++;
    cnf->params = OPENSSL_zalloc((n + 1) * sizeof(*cnf->params));
    cnf->values = OPENSSL_zalloc((n + 1) * sizeof(*cnf->values));
    if (cnf->params == NULL || cnf->values == NULL)
        return 0;
    for (i = 0; i < n; i++)
        cnf->params[i] = OSSL_PARAM_construct_utf8_ptr(
            (char *)vp_config_cnf_keys[i], &cnf->values[i], 0);
    cnf->params[n] = OSSL_PARAM_construct_end();
    cnf->count = n;
    return get_params == NULL || get_params(handle, cnf->params);
}

static void cnf_clear(cnf_values *cnf)
{
    OPENSSL_free(cnf->params);
    OPENSSL_free(cnf->values);
}

static int load_config(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       vc_config *cfg)
{
    cnf_values cnf = {0};
    vc_error err = {0};
    vc_status st;
    int ok = 0;

    if (!cnf_fetch(handle, in, &cnf)) {
        vc_error_set(&err, VC_ERR_NO_MEMORY, 0, "reading the configuration");
        goto err;
    }
    st = vp_config_load(cfg, cnf_lookup, &cnf, NULL, &err);
    if (st != VC_OK)
        goto err;
    if (vc_log_configure(cfg->debug) != VC_OK)
        vc_log(VC_LOG_ERROR,
               "debug setting \"%s\" ignored: use off, error, info or "
               "debug, optionally followed by :FILE",
               cfg->debug);
    ok = 1;
err:
    /*
     * The reason strings are not registered when init fails: the detail
     * carries the whole message. OpenSSL drops the error queue of a failed
     * activation from openssl.cnf (unless config_diagnostics is set), so
     * the error log (stderr unless configured) says it too.
     */
    if (!ok) {
        vc_log(VC_LOG_ERROR, "cannot load the vault provider: %s", err.message);
        vp_err_raise(handle, err.status, OPENSSL_FILE, OPENSSL_LINE,
                     OPENSSL_FUNC, "%s", err.message);
    }
    cnf_clear(&cnf);
    return ok;
}

/*
 * Internal work must never come back here: the child context inherits the
 * application's providers, this one included, so it is excluded outright
 * (not "?provider!=vault": a preference would still pick us when we are
 * the only one offering EC or RSA, and importing a key would recurse).
 */
static int make_child_libctx(vp_provctx *ctx, const OSSL_DISPATCH *in)
{
    ctx->libctx = OSSL_LIB_CTX_new_child(ctx->handle, in);
    if (ctx->libctx == NULL)
        return 0;
    return EVP_set_default_properties(ctx->libctx, VP_CHILD_DEFAULTS);
}

/* The module is built with hidden visibility; this is its one export. */
__attribute__((visibility("default"))) int
OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                   const OSSL_DISPATCH **out, void **provctx)
{
    vp_provctx *ctx = NULL;

    vp_err_init(in);
    ctx = OPENSSL_zalloc(sizeof(*ctx));
    if (ctx == NULL)
        return 0;
    ctx->handle = handle;
    if (!load_config(handle, in, &ctx->cfg))
        goto err;
    ctx->lock = CRYPTO_THREAD_lock_new();
    ctx->cache = vp_key_cache_new(ctx->cfg.cache_ttl_ms);
    if (ctx->lock == NULL || ctx->cache == NULL ||
        !make_child_libctx(ctx, in)) {
        VP_ERR(ctx, VP_R_INTERNAL_ERROR, "provider initialisation failed");
        goto err;
    }
    vc_log(VC_LOG_INFO, "provider loaded address=%s mount=%s", ctx->cfg.address,
           ctx->cfg.mount);
    *out = vp_dispatch;
    *provctx = ctx;
    return 1;
err:
    vp_provctx_free(ctx);
    return 0;
}

/* The private TLS context: only the default provider, never this one. */
static int make_tls_libctx(vp_provctx *ctx, vc_error *err)
{
    if (ctx->tls_libctx != NULL)
        return 1;
    ctx->tls_libctx = OSSL_LIB_CTX_new();
    if (ctx->tls_libctx != NULL)
        ctx->tls_default = OSSL_PROVIDER_load(ctx->tls_libctx, "default");
    if (ctx->tls_default != NULL)
        return 1;
    OSSL_LIB_CTX_free(ctx->tls_libctx);
    ctx->tls_libctx = NULL;
    vc_error_set(err, VC_ERR_CONFIG, 0,
                 "cannot load OpenSSL's default provider for TLS to Vault");
    return 0;
}

vc_status vp_provctx_client(vp_provctx *ctx, vc_client **client, vc_error *err)
{
    vc_status st = VC_OK;

    if (!CRYPTO_THREAD_read_lock(ctx->lock))
        return vc_error_set(err, VC_ERR_UNEXPECTED_RESPONSE, 0, "lock");
    *client = ctx->client;
    CRYPTO_THREAD_unlock(ctx->lock);
    if (*client != NULL)
        return VC_OK;

    if (!CRYPTO_THREAD_write_lock(ctx->lock))
        return vc_error_set(err, VC_ERR_UNEXPECTED_RESPONSE, 0, "lock");
    if (ctx->client == NULL) {
        if (!make_tls_libctx(ctx, err))
            st = err->status;
        else
            st = vc_client_new(&ctx->cfg, &ctx->client, err);
        if (st == VC_OK)
            vc_client_set_tls_libctx(ctx->client, ctx->tls_libctx);
    }
    *client = ctx->client;
    CRYPTO_THREAD_unlock(ctx->lock);
    return st;
}

int vp_has_backend(vp_provctx *ctx, const char *keytype)
{
    EVP_KEYMGMT *km;

    ERR_set_mark();
    km = EVP_KEYMGMT_fetch(ctx->libctx, keytype, NULL);
    ERR_pop_to_mark();
    EVP_KEYMGMT_free(km);
    return km != NULL;
}
