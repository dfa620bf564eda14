/*
 * ECDSA and RSA signatures: the digest is computed locally and sent to
 * Vault Transit (prehashed, one request per signature); verification runs
 * locally with the public key in the child library context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/rsa.h>

#include "provider.h"
#include "sigparams.h"

static void *sig_newctx(void *provctx, vp_key_kind kind)
{
    vp_sigctx *ctx = OPENSSL_zalloc(sizeof(*ctx));

    if (ctx == NULL)
        return NULL;
    ctx->provctx = provctx;
    ctx->kind = kind;
    ctx->pad_mode = RSA_PKCS1_PADDING;
    return ctx;
}

static void *ecdsa_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, VP_KIND_EC);
}

static void *rsa_newctx(void *provctx, const char *propq)
{
    return sig_newctx(provctx, VP_KIND_RSA);
}

static void sig_freectx(void *vctx)
{
    vp_sigctx *ctx = vctx;

    if (ctx == NULL)
        return;
    vp_key_free(ctx->key);
    EVP_MD_free(ctx->md);
    EVP_MD_free(ctx->mgf1_md);
    EVP_MD_CTX_free(ctx->mdctx);
    OPENSSL_free(ctx);
}

/*
 * OpenSSL 3.0 finishes EVP_DigestSignFinal on a duplicate: copy it all. The
 * copy starts with no references of its own, so a failure frees only what
 * it took.
 */
static void *sig_dupctx(void *vctx)
{
    const vp_sigctx *src = vctx;
    vp_sigctx *ctx = OPENSSL_memdup(src, sizeof(*src));

    if (ctx == NULL)
        return NULL;
    ctx->key = NULL;
    ctx->md = ctx->mgf1_md = NULL;
    ctx->mdctx = NULL;
    if (src->key != NULL && vp_key_up_ref(src->key))
        ctx->key = src->key;
    if (src->md != NULL && EVP_MD_up_ref(src->md))
        ctx->md = src->md;
    if (src->mgf1_md != NULL && EVP_MD_up_ref(src->mgf1_md))
        ctx->mgf1_md = src->mgf1_md;
    if (ctx->key != src->key || ctx->md != src->md ||
        ctx->mgf1_md != src->mgf1_md)
        goto err;
    if (src->mdctx != NULL && ((ctx->mdctx = EVP_MD_CTX_new()) == NULL ||
                               !EVP_MD_CTX_copy_ex(ctx->mdctx, src->mdctx)))
        goto err;
    return ctx;
err:
    sig_freectx(ctx);
    return NULL;
}

static int sig_init(vp_sigctx *ctx, void *provkey, const OSSL_PARAM params[],
                    int operation)
{
    vp_key *key = provkey;

    ctx->md_locked = 0;
    if (key != NULL) {
        if (key->kind != ctx->kind || !key->has_public) {
            VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER,
                   "%s: the key is not a %s public key",
                   operation == EVP_PKEY_OP_SIGN ? "sign" : "verify",
                   vp_key_kind_name(ctx->kind));
            return 0;
        }
        vp_key_up_ref(key);
        vp_key_free(ctx->key);
        ctx->key = key;
        /* A new key starts from the defaults; a re-init keeps them. */
        vp_sig_reset_params(ctx, operation);
    }
    if (ctx->key == NULL)
        return 0;
    if (operation == EVP_PKEY_OP_SIGN && !vp_key_can_sign(ctx->key)) {
        VP_ERR(ctx->provctx, VP_R_NO_PRIVATE_KEY,
               "sign: this %s key has no private key (load keys held in "
               "Vault through a vault: URI)",
               vp_key_kind_name(ctx->kind));
        return 0;
    }
    ctx->operation = operation;
    return vp_sig_set_ctx_params(ctx, params);
}

static int sig_sign_init(void *ctx, void *provkey, const OSSL_PARAM params[])
{
    return sig_init(ctx, provkey, params, EVP_PKEY_OP_SIGN);
}

static int sig_verify_init(void *ctx, void *provkey, const OSSL_PARAM params[])
{
    return sig_init(ctx, provkey, params, EVP_PKEY_OP_VERIFY);
}

static size_t sig_max_size(const vp_sigctx *ctx)
{
    int size = EVP_PKEY_get_size(ctx->key->pub);

    return size > 0 ? (size_t)size : 0;
}

/*
 * One Transit sign request; the answer must carry the pinned version.
 * Local keys (generated or imported here) sign in the child context.
 */
static int sign_digest(vp_sigctx *ctx, unsigned char *sig, size_t *siglen,
                       size_t sigsize, const unsigned char *dgst,
                       size_t dgstlen)
{
    const vp_key *key = ctx->key;
    vc_sign_params req = {0};
    vc_error err = {0};
    vc_client *client = NULL;
    unsigned char *raw = NULL;
    size_t rawlen = 0;
    int version = 0, ok = 0;
    char salt[16];

    if (!key->has_private)
        return vp_sig_local_sign(ctx, sig, siglen, sigsize, dgst, dgstlen);
    /* Checked before the request, which a short buffer would waste. */
    if (sigsize < sig_max_size(ctx)) {
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER,
               "sign: a %zu-byte buffer is too small for a signature of up "
               "to %zu bytes",
               sigsize, sig_max_size(ctx));
        return 0;
    }
    if (!vp_sig_request_params(ctx, dgstlen, &req, salt, sizeof(salt)))
        return 0;
    if (vp_provctx_client(ctx->provctx, &client, &err) != VC_OK ||
        vc_transit_sign(client, key->mount, key->name, &req, dgst, dgstlen,
                        &raw, &rawlen, &version, &err) != VC_OK) {
        VP_ERR_VC(ctx->provctx, &err);
        goto err;
    }
    if (version != key->version || rawlen > sigsize) {
        VP_ERR(ctx->provctx, VC_ERR_UNEXPECTED_RESPONSE,
               "sign mount=%s key=%s: Vault signed with version %d (pinned: "
               "%d) and gave %zu bytes (at most %zu expected)",
               key->mount, key->name, version, key->version, rawlen, sigsize);
        goto err;
    }
    memcpy(sig, raw, rawlen);
    *siglen = rawlen;
    ok = 1;
err:
    free(raw);
    return ok;
}

/* Size queries (sig == NULL) answer locally and never reach Vault. */
static int sig_sign(void *vctx, unsigned char *sig, size_t *siglen,
                    size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
    vp_sigctx *ctx = vctx;

    if (ctx->key == NULL || ctx->operation != EVP_PKEY_OP_SIGN)
        return 0;
    if (sig == NULL) {
        *siglen = sig_max_size(ctx);
        return 1;
    }
    return sign_digest(ctx, sig, siglen, sigsize, tbs, tbslen);
}

static int sig_verify(void *vctx, const unsigned char *sig, size_t siglen,
                      const unsigned char *tbs, size_t tbslen)
{
    vp_sigctx *ctx = vctx;

    if (ctx->key == NULL || ctx->operation != EVP_PKEY_OP_VERIFY)
        return 0;
    return vp_sig_local_verify(ctx, sig, siglen, tbs, tbslen);
}

/* A NULL or empty digest name means SHA-256, as for nginx and others. */
static int sig_digest_init(vp_sigctx *ctx, const char *mdname, void *provkey,
                           const OSSL_PARAM params[], int operation)
{
    if (!sig_init(ctx, provkey, params, operation))
        return 0;
    if (mdname == NULL || *mdname == '\0')
        mdname = "SHA256";
    if (!vp_sig_set_digest(ctx, mdname))
        return 0;
    if (ctx->mdctx == NULL && (ctx->mdctx = EVP_MD_CTX_new()) == NULL)
        return 0;
    ctx->md_locked = 1;
    return EVP_DigestInit_ex2(ctx->mdctx, ctx->md, NULL);
}

static int sig_digest_sign_init(void *ctx, const char *mdname, void *provkey,
                                const OSSL_PARAM params[])
{
    return sig_digest_init(ctx, mdname, provkey, params, EVP_PKEY_OP_SIGN);
}

static int sig_digest_verify_init(void *ctx, const char *mdname, void *provkey,
                                  const OSSL_PARAM params[])
{
    return sig_digest_init(ctx, mdname, provkey, params, EVP_PKEY_OP_VERIFY);
}

static int sig_digest_update(void *vctx, const unsigned char *data,
                             size_t datalen)
{
    vp_sigctx *ctx = vctx;

    return ctx->mdctx != NULL && EVP_DigestUpdate(ctx->mdctx, data, datalen);
}

static int sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen,
                                 size_t sigsize)
{
    vp_sigctx *ctx = vctx;
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dgstlen = 0;

    if (ctx->mdctx == NULL || ctx->key == NULL)
        return 0;
    if (sig == NULL) {
        *siglen = sig_max_size(ctx);
        return 1;
    }
    if (!EVP_DigestFinal_ex(ctx->mdctx, dgst, &dgstlen))
        return 0;
    return sign_digest(ctx, sig, siglen, sigsize, dgst, dgstlen);
}

static int sig_digest_sign(void *vctx, unsigned char *sig, size_t *siglen,
                           size_t sigsize, const unsigned char *tbs,
                           size_t tbslen)
{
    if (sig != NULL && !sig_digest_update(vctx, tbs, tbslen))
        return 0;
    return sig_digest_sign_final(vctx, sig, siglen, sigsize);
}

static int sig_digest_verify_final(void *vctx, const unsigned char *sig,
                                   size_t siglen)
{
    vp_sigctx *ctx = vctx;
    unsigned char dgst[EVP_MAX_MD_SIZE];
    unsigned int dgstlen = 0;

    if (ctx->mdctx == NULL || ctx->key == NULL ||
        !EVP_DigestFinal_ex(ctx->mdctx, dgst, &dgstlen))
        return 0;
    return vp_sig_local_verify(ctx, sig, siglen, dgst, dgstlen);
}

static int sig_digest_verify(void *vctx, const unsigned char *sig,
                             size_t siglen, const unsigned char *tbs,
                             size_t tbslen)
{
    return sig_digest_update(vctx, tbs, tbslen) &&
           sig_digest_verify_final(vctx, sig, siglen);
}

static const OSSL_PARAM *ecdsa_gettable(void *ctx, void *provctx)
{
    return vp_sig_gettable(VP_KIND_EC);
}

static const OSSL_PARAM *rsa_gettable(void *ctx, void *provctx)
{
    return vp_sig_gettable(VP_KIND_RSA);
}

static const OSSL_PARAM *ecdsa_settable(void *ctx, void *provctx)
{
    return vp_sig_settable(VP_KIND_EC);
}

static const OSSL_PARAM *rsa_settable(void *ctx, void *provctx)
{
    return vp_sig_settable(VP_KIND_RSA);
}

static int sig_get_ctx_params(void *ctx, OSSL_PARAM params[])
{
    return vp_sig_get_ctx_params(ctx, params);
}

static int sig_set_ctx_params(void *ctx, const OSSL_PARAM params[])
{
    return vp_sig_set_ctx_params(ctx, params);
}

/* The braces stay outside: clang-format 14 and 19 lay them out differently
 * inside a macro, and the format check runs with both. */
#define FN(id, fn) OSSL_FUNC_SIGNATURE_##id, (void (*)(void))(fn)

#define SIGNATURE_DISPATCH(alg)                                                \
    static const OSSL_DISPATCH alg##_signature_functions[] = {                 \
        {FN(NEWCTX, alg##_newctx)},                                            \
        {FN(FREECTX, sig_freectx)},                                            \
        {FN(DUPCTX, sig_dupctx)},                                              \
        {FN(SIGN_INIT, sig_sign_init)},                                        \
        {FN(SIGN, sig_sign)},                                                  \
        {FN(VERIFY_INIT, sig_verify_init)},                                    \
        {FN(VERIFY, sig_verify)},                                              \
        {FN(DIGEST_SIGN_INIT, sig_digest_sign_init)},                          \
        {FN(DIGEST_SIGN_UPDATE, sig_digest_update)},                           \
        {FN(DIGEST_SIGN_FINAL, sig_digest_sign_final)},                        \
        {FN(DIGEST_SIGN, sig_digest_sign)},                                    \
        {FN(DIGEST_VERIFY_INIT, sig_digest_verify_init)},                      \
        {FN(DIGEST_VERIFY_UPDATE, sig_digest_update)},                         \
        {FN(DIGEST_VERIFY_FINAL, sig_digest_verify_final)},                    \
        {FN(DIGEST_VERIFY, sig_digest_verify)},                                \
        {FN(GET_CTX_PARAMS, sig_get_ctx_params)},                              \
        {FN(GETTABLE_CTX_PARAMS, alg##_gettable)},                             \
        {FN(SET_CTX_PARAMS, sig_set_ctx_params)},                              \
        {FN(SETTABLE_CTX_PARAMS, alg##_settable)},                             \
        {0, NULL}}

SIGNATURE_DISPATCH(ecdsa);
SIGNATURE_DISPATCH(rsa);

const OSSL_ALGORITHM vp_signature_algs[] = {
    {"ECDSA", VP_PROPERTIES, ecdsa_signature_functions,
     "ECDSA with the private key in Vault Transit"},
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", VP_PROPERTIES,
     rsa_signature_functions, "RSA with the private key in Vault Transit"},
    {NULL, NULL, NULL, NULL}};
