/*
 * Signature parameters: OpenSSL's digest, RSA padding, PSS salt length and
 * MGF1 digest, their translation into a Transit sign request, the
 * AlgorithmIdentifier they imply, and local verification with them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "sigparams.h"

/*
 * What 3.0 signs with by default ("max"); 3.1+ caps it at the digest. The
 * lowest of OpenSSL's negative salt length codes this version knows.
 */
#ifdef RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
#define SIGN_DEFAULT_SALTLEN RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
#define LOWEST_SALTLEN       RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
#else
#define SIGN_DEFAULT_SALTLEN RSA_PSS_SALTLEN_AUTO
#define LOWEST_SALTLEN       RSA_PSS_SALTLEN_MAX
#endif

typedef struct hash_map {
    const char *ossl;  /* OpenSSL's digest name */
    const char *vault; /* Transit's hash_algorithm */
    int size;
    int ecdsa_nid; /* the signature algorithms, for AlgorithmIdentifiers */
    int rsa_nid;   /* (OpenSSL 3.0's own table lacks ECDSA with SHA-3) */
} hash_map;

/*
 * SHA-1 and SHA-2 first: an unnamed ECDSA digest is labelled as one of
 * them. SHA-1 leads: it is also what RSA-PSS with no digest set means.
 */
static const hash_map hashes[] = {
    {"SHA1", "sha1", 20, NID_ecdsa_with_SHA1, NID_sha1WithRSAEncryption},
    {"SHA2-224", "sha2-224", 28, NID_ecdsa_with_SHA224,
     NID_sha224WithRSAEncryption},
    {"SHA2-256", "sha2-256", 32, NID_ecdsa_with_SHA256,
     NID_sha256WithRSAEncryption},
    {"SHA2-384", "sha2-384", 48, NID_ecdsa_with_SHA384,
     NID_sha384WithRSAEncryption},
    {"SHA2-512", "sha2-512", 64, NID_ecdsa_with_SHA512,
     NID_sha512WithRSAEncryption},
    {"SHA3-224", "sha3-224", 28, NID_ecdsa_with_SHA3_224, NID_RSA_SHA3_224},
    {"SHA3-256", "sha3-256", 32, NID_ecdsa_with_SHA3_256, NID_RSA_SHA3_256},
    {"SHA3-384", "sha3-384", 48, NID_ecdsa_with_SHA3_384, NID_RSA_SHA3_384},
    {"SHA3-512", "sha3-512", 64, NID_ecdsa_with_SHA3_512, NID_RSA_SHA3_512},
    {NULL, NULL, 0, NID_undef, NID_undef}};

static const hash_map *hash_by_md(const EVP_MD *md)
{
    const hash_map *h;

    for (h = hashes; h->ossl != NULL; h++) {
        if (EVP_MD_is_a(md, h->ossl))
            return h;
    }
    return NULL;
}

static const hash_map *hash_by_size(size_t size)
{
    const hash_map *h;

    for (h = hashes; h->ossl != NULL; h++) {
        if ((size_t)h->size == size)
            return h;
    }
    return NULL;
}

/* Vault's limits apply to Vault-backed keys; local keys have OpenSSL's. */
static int vault_backed(const vp_sigctx *ctx)
{
    return ctx->key != NULL && ctx->key->has_private;
}

void vp_sig_reset_params(vp_sigctx *ctx, int operation)
{
    EVP_MD_free(ctx->md);
    ctx->md = NULL;
    EVP_MD_free(ctx->mgf1_md);
    ctx->mgf1_md = NULL;
    ctx->pad_mode = RSA_PKCS1_PADDING;
    ctx->saltlen = operation == EVP_PKEY_OP_SIGN ? SIGN_DEFAULT_SALTLEN
                                                 : RSA_PSS_SALTLEN_AUTO;
}

static EVP_MD *fetch_md(vp_sigctx *ctx, const char *name)
{
    EVP_MD *md;

    ERR_set_mark();
    md = EVP_MD_fetch(ctx->provctx->libctx, name, NULL);
    ERR_pop_to_mark();
    if (md == NULL)
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER, "digest %s is not available%s",
               name,
               vp_has_backend(ctx->provctx, vp_key_kind_name(ctx->kind))
                   ? ""
                   : ": " VP_NO_BACKEND_HINT);
    return md;
}

int vp_sig_set_digest(vp_sigctx *ctx, const char *mdname)
{
    EVP_MD *md;

    if (ctx->md_locked) {
        if (ctx->md != NULL && EVP_MD_is_a(ctx->md, mdname))
            return 1;
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER,
               "the digest cannot change once a digest-and-sign operation "
               "has started");
        return 0;
    }
    md = fetch_md(ctx, mdname);
    if (md == NULL)
        return 0;
    if (ctx->operation == EVP_PKEY_OP_SIGN && vault_backed(ctx) &&
        hash_by_md(md) == NULL) {
        VP_ERR(ctx->provctx, VC_ERR_UNSUPPORTED,
               "sign: Vault Transit cannot sign with digest %s (SHA-1, "
               "SHA-2 and SHA-3 only)",
               mdname);
        EVP_MD_free(md);
        return 0;
    }
    EVP_MD_free(ctx->md);
    ctx->md = md;
    return 1;
}

static const struct {
    const char *name;
    int mode;
} pad_modes[] = {{OSSL_PKEY_RSA_PAD_MODE_NONE, RSA_NO_PADDING},
                 {OSSL_PKEY_RSA_PAD_MODE_PKCSV15, RSA_PKCS1_PADDING},
                 {OSSL_PKEY_RSA_PAD_MODE_X931, RSA_X931_PADDING},
                 {OSSL_PKEY_RSA_PAD_MODE_PSS, RSA_PKCS1_PSS_PADDING}};

#define N_PAD_MODES (sizeof(pad_modes) / sizeof(pad_modes[0]))

static int get_pad_mode(const OSSL_PARAM *p, int *mode)
{
    size_t i;

    if (p->data_type != OSSL_PARAM_UTF8_STRING)
        return OSSL_PARAM_get_int(p, mode);
    for (i = 0; i < N_PAD_MODES; i++) {
        if (p->data != NULL && strcmp(p->data, pad_modes[i].name) == 0) {
            *mode = pad_modes[i].mode;
            return 1;
        }
    }
    return 0;
}

static const char *pad_mode_name(int mode)
{
    size_t i;

    for (i = 0; i < N_PAD_MODES; i++) {
        if (pad_modes[i].mode == mode)
            return pad_modes[i].name;
    }
    return "";
}

static int set_pad_mode(vp_sigctx *ctx, const OSSL_PARAM *p)
{
    int mode = 0;

    if (!get_pad_mode(p, &mode) || *pad_mode_name(mode) == '\0') {
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER, "unknown RSA padding mode");
        return 0;
    }
    if (mode != RSA_PKCS1_PADDING && mode != RSA_PKCS1_PSS_PADDING &&
        vault_backed(ctx)) {
        VP_ERR(ctx->provctx, VC_ERR_UNSUPPORTED,
               "RSA padding mode %d is not available with Vault Transit "
               "(pkcs1 and pss only)",
               mode);
        return 0;
    }
    ctx->pad_mode = mode;
    return 1;
}

static int parse_saltlen(const OSSL_PARAM *p, int *saltlen)
{
    const char *s = p->data;
    char *end = NULL;
    long v;

    if (p->data_type != OSSL_PARAM_UTF8_STRING)
        return OSSL_PARAM_get_int(p, saltlen);
    if (s == NULL)
        return 0;
    if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0)
        *saltlen = RSA_PSS_SALTLEN_DIGEST;
    else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_MAX) == 0)
        *saltlen = RSA_PSS_SALTLEN_MAX;
    else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO) == 0)
        *saltlen = RSA_PSS_SALTLEN_AUTO;
#ifdef OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO_DIGEST_MAX
    else if (strcmp(s, OSSL_PKEY_RSA_PSS_SALT_LEN_AUTO_DIGEST_MAX) == 0)
        *saltlen = RSA_PSS_SALTLEN_AUTO_DIGEST_MAX;
#endif
    else {
        v = strtol(s, &end, 10);
        /* Numbers as OpenSSL takes them, its negative codes included. */
        if (end == s || *end != '\0' || v < LOWEST_SALTLEN || v > 4096)
            return 0;
        *saltlen = (int)v;
    }
    return 1;
}

static int set_saltlen(vp_sigctx *ctx, const OSSL_PARAM *p)
{
    int saltlen = 0;

    if (!parse_saltlen(p, &saltlen) || saltlen < LOWEST_SALTLEN) {
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER, "invalid PSS salt length");
        return 0;
    }
    if (saltlen == 0 && ctx->operation == EVP_PKEY_OP_SIGN &&
        vault_backed(ctx)) {
        VP_ERR(ctx->provctx, VC_ERR_UNSUPPORTED,
               "a zero-length PSS salt cannot be requested from Vault "
               "(Transit reads salt_length 0 as \"auto\")");
        return 0;
    }
    ctx->saltlen = saltlen;
    return 1;
}

static int set_mgf1(vp_sigctx *ctx, const OSSL_PARAM *p)
{
    const char *name = NULL;
    EVP_MD *md;

    if (!OSSL_PARAM_get_utf8_string_ptr(p, &name) ||
        (md = fetch_md(ctx, name)) == NULL)
        return 0;
    EVP_MD_free(ctx->mgf1_md);
    ctx->mgf1_md = md;
    return 1;
}

static int set_rsa_params(vp_sigctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;

    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
    if (p != NULL && !set_pad_mode(ctx, p))
        return 0;
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    if (p != NULL && !set_saltlen(ctx, p))
        return 0;
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
    if (p != NULL && !set_mgf1(ctx, p))
        return 0;
    return 1;
}

/* Properties are accepted and not used: our digests come from the child. */
int vp_sig_set_ctx_params(vp_sigctx *ctx, const OSSL_PARAM params[])
{
    const OSSL_PARAM *p;
    const char *name = NULL;

    if (params == NULL)
        return 1;
    p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
    if (p != NULL && (!OSSL_PARAM_get_utf8_string_ptr(p, &name) ||
                      !vp_sig_set_digest(ctx, name)))
        return 0;
    if (ctx->kind == VP_KIND_RSA)
        return set_rsa_params(ctx, params);
    return 1;
}

static const char *salt_text(int saltlen, char *buf, size_t size)
{
    switch (saltlen) {
    case RSA_PSS_SALTLEN_DIGEST:
        return "hash";
    case RSA_PSS_SALTLEN_AUTO: /* when signing, as long as possible */
    case RSA_PSS_SALTLEN_MAX:
        return "auto";
#ifdef RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
    case RSA_PSS_SALTLEN_AUTO_DIGEST_MAX:
        /* The digest length, capped at the maximum: with every Transit
         * RSA size the cap never applies. */
        return "hash";
#endif
    default:
        break;
    }
    if (saltlen <= 0)
        return NULL;
    snprintf(buf, size, "%d", saltlen);
    return buf;
}

/* The hash Transit is told about; NULL for raw RSA PKCS#1 input. */
static int pick_hash(vp_sigctx *ctx, size_t dgstlen, const hash_map **h)
{
    *h = NULL;
    if (ctx->md != NULL) {
        *h = hash_by_md(ctx->md);
        if (*h != NULL && (size_t)(*h)->size == dgstlen)
            return 1;
        VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER,
               "sign: %zu bytes of input is not a %s digest", dgstlen,
               EVP_MD_get0_name(ctx->md));
        return 0;
    }
    if (ctx->kind == VP_KIND_EC) {
        /* Transit's ECDSA signs any input length; the name is a label. */
        *h = hash_by_size(dgstlen);
        if (*h == NULL)
            *h = hash_by_size(32);
        return 1;
    }
    if (ctx->pad_mode == RSA_PKCS1_PADDING)
        return 1;
    /* PSS with no digest set is over SHA-1, as OpenSSL verifies it. */
    *h = &hashes[0];
    if (dgstlen == (size_t)(*h)->size)
        return 1;
    VP_ERR(ctx->provctx, VP_R_BAD_PARAMETER,
           "sign: with no digest set, RSA-PSS takes a %d-byte SHA-1 digest, "
           "not %zu bytes",
           (*h)->size, dgstlen);
    return 0;
}

static int rsa_request(vp_sigctx *ctx, const hash_map *h, vc_sign_params *req,
                       char *salt, size_t saltsize)
{
    if (ctx->pad_mode == RSA_PKCS1_PADDING) {
        req->signature_algorithm = "pkcs1v15";
        return 1;
    }
    req->signature_algorithm = "pss";
    if (ctx->mgf1_md != NULL && !EVP_MD_is_a(ctx->mgf1_md, h->ossl)) {
        VP_ERR(ctx->provctx, VC_ERR_UNSUPPORTED,
               "sign: MGF1 digest %s differs from the signing digest %s; "
               "Vault Transit uses the signing digest for MGF1",
               EVP_MD_get0_name(ctx->mgf1_md), h->ossl);
        return 0;
    }
    req->salt_length = salt_text(ctx->saltlen, salt, saltsize);
    if (req->salt_length == NULL) {
        VP_ERR(ctx->provctx, VC_ERR_UNSUPPORTED,
               "a zero-length PSS salt cannot be requested from Vault");
        return 0;
    }
    return 1;
}

int vp_sig_request_params(vp_sigctx *ctx, size_t dgstlen, vc_sign_params *req,
                          char *salt, size_t saltsize)
{
    const hash_map *h = NULL;

    memset(req, 0, sizeof(*req));
    req->prehashed = 1;
    req->key_version = ctx->key->version;
    if (!pick_hash(ctx, dgstlen, &h))
        return 0;
    req->hash_algorithm = h != NULL ? h->vault : "none";
    if (ctx->kind == VP_KIND_RSA)
        return rsa_request(ctx, h, req, salt, saltsize);
    return 1;
}

/* The salt length Vault will use, as a number, for the PSS parameters. */
static int pss_salt_bytes(const vp_sigctx *ctx, int hlen)
{
    int embits = EVP_PKEY_get_bits(ctx->key->pub) - 1;
    int max = (embits + 7) / 8 - hlen - 2;

    switch (ctx->saltlen) {
    case RSA_PSS_SALTLEN_DIGEST:
        return hlen;
    case RSA_PSS_SALTLEN_AUTO:
    case RSA_PSS_SALTLEN_MAX:
        return max;
#ifdef RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
    case RSA_PSS_SALTLEN_AUTO_DIGEST_MAX:
        return hlen < max ? hlen : max;
#endif
    default:
        return ctx->saltlen;
    }
}

/* A hash AlgorithmIdentifier with NULL parameters, as OpenSSL writes it. */
static X509_ALGOR *md_algor(const EVP_MD *md)
{
    X509_ALGOR *alg = X509_ALGOR_new();

    if (alg != NULL && !X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)),
                                        V_ASN1_NULL, NULL)) {
        X509_ALGOR_free(alg);
        alg = NULL;
    }
    return alg;
}

/* MGF1 over the signing digest (Vault uses no other). */
static X509_ALGOR *mgf1_algor(const EVP_MD *md)
{
    X509_ALGOR *hash = md_algor(md), *mgf = X509_ALGOR_new();
    ASN1_STRING *param = NULL;

    if (hash == NULL || mgf == NULL ||
        ASN1_item_pack(hash, ASN1_ITEM_rptr(X509_ALGOR), &param) == NULL ||
        !X509_ALGOR_set0(mgf, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, param)) {
        ASN1_STRING_free(param);
        X509_ALGOR_free(mgf);
        mgf = NULL;
    }
    X509_ALGOR_free(hash);
    return mgf;
}

/* RSASSA-PSS-params; SHA-1 and a 20-byte salt are the defaults, omitted. */
static ASN1_STRING *pss_params(const vp_sigctx *ctx)
{
    RSA_PSS_PARAMS *pss = RSA_PSS_PARAMS_new();
    int salt = pss_salt_bytes(ctx, EVP_MD_get_size(ctx->md));
    ASN1_STRING *der = NULL;

    if (pss == NULL || salt < 0)
        goto err;
    if (!EVP_MD_is_a(ctx->md, "SHA1") &&
        ((pss->hashAlgorithm = md_algor(ctx->md)) == NULL ||
         (pss->maskGenAlgorithm = mgf1_algor(ctx->md)) == NULL))
        goto err;
    if (salt != 20 && ((pss->saltLength = ASN1_INTEGER_new()) == NULL ||
                       !ASN1_INTEGER_set(pss->saltLength, salt)))
        goto err;
    der = ASN1_item_pack(pss, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL);
err:
    RSA_PSS_PARAMS_free(pss);
    return der;
}

/* The signature algorithm of ECDSA or RSA PKCS#1 v1.5 with md. */
static int sig_nid(const EVP_MD *md, vp_key_kind kind)
{
    const hash_map *h = hash_by_md(md);
    int nid = NID_undef;

    if (h != NULL)
        return kind == VP_KIND_RSA ? h->rsa_nid : h->ecdsa_nid;
    /* Local keys may sign with other digests: OpenSSL may know them. */
    OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(md),
                           kind == VP_KIND_RSA ? NID_rsaEncryption
                                               : NID_X9_62_id_ecPublicKey);
    return nid;
}

/* ECDSA-with-SHAxxx (parameters absent), shaxxxWithRSAEncryption (NULL). */
static X509_ALGOR *md_sig_algor(const vp_sigctx *ctx, int ptype)
{
    X509_ALGOR *alg;
    int nid = sig_nid(ctx->md, ctx->kind);

    if (nid == NID_undef)
        return NULL;
    alg = X509_ALGOR_new();
    if (alg != NULL && !X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL)) {
        X509_ALGOR_free(alg);
        alg = NULL;
    }
    return alg;
}

static X509_ALGOR *pss_algor(const vp_sigctx *ctx)
{
    ASN1_STRING *params = pss_params(ctx);
    X509_ALGOR *alg = params != NULL ? X509_ALGOR_new() : NULL;

    if (alg == NULL || !X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss),
                                        V_ASN1_SEQUENCE, params)) {
        X509_ALGOR_free(alg);
        ASN1_STRING_free(params);
        return NULL;
    }
    return alg;
}

/* The AlgorithmIdentifier of what is sent to Vault, DER-encoded. */
static int algorithm_id(const vp_sigctx *ctx, unsigned char **der)
{
    X509_ALGOR *alg;
    int len;

    if (ctx->md == NULL || ctx->key == NULL)
        return 0;
    if (ctx->kind == VP_KIND_EC)
        alg = md_sig_algor(ctx, V_ASN1_UNDEF);
    else if (ctx->pad_mode == RSA_PKCS1_PADDING)
        alg = md_sig_algor(ctx, V_ASN1_NULL);
    else if (ctx->pad_mode == RSA_PKCS1_PSS_PADDING)
        alg = pss_algor(ctx);
    else
        return 0;
    if (alg == NULL)
        return 0;
    len = i2d_X509_ALGOR(alg, der);
    X509_ALGOR_free(alg);
    return len > 0 ? len : 0;
}

static int get_algorithm_id(vp_sigctx *ctx, OSSL_PARAM *p)
{
    unsigned char *der = NULL;
    int len = algorithm_id(ctx, &der), ok;

    /* Without a digest there is nothing to name: leave it unanswered. */
    if (len == 0)
        return 1;
    ok = OSSL_PARAM_set_octet_string(p, der, (size_t)len);
    OPENSSL_free(der);
    return ok;
}

static int get_pad_and_salt(vp_sigctx *ctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;
    char buf[16];
    const char *text;

    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PAD_MODE);
    if (p != NULL) {
        text = pad_mode_name(ctx->pad_mode);
        if (p->data_type == OSSL_PARAM_UTF8_STRING
                ? !OSSL_PARAM_set_utf8_string(p, text)
                : !OSSL_PARAM_set_int(p, ctx->pad_mode))
            return 0;
    }
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_PSS_SALTLEN);
    if (p != NULL) {
        snprintf(buf, sizeof(buf), "%d", ctx->saltlen);
        text = ctx->saltlen == RSA_PSS_SALTLEN_DIGEST ? "digest"
               : ctx->saltlen == RSA_PSS_SALTLEN_MAX  ? "max"
               : ctx->saltlen == RSA_PSS_SALTLEN_AUTO ? "auto"
               : ctx->saltlen < 0                     ? "auto-digestmax"
                                                      : buf;
        if (p->data_type == OSSL_PARAM_UTF8_STRING
                ? !OSSL_PARAM_set_utf8_string(p, text)
                : !OSSL_PARAM_set_int(p, ctx->saltlen))
            return 0;
    }
    return 1;
}

static int get_digests(vp_sigctx *ctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;
    const EVP_MD *mgf1 = ctx->mgf1_md != NULL ? ctx->mgf1_md : ctx->md;

    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST);
    if (p != NULL && ctx->md != NULL &&
        !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(ctx->md)))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST_SIZE);
    if (p != NULL && ctx->md != NULL &&
        !OSSL_PARAM_set_size_t(p, (size_t)EVP_MD_get_size(ctx->md)))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_MGF1_DIGEST);
    if (p != NULL && ctx->kind == VP_KIND_RSA && mgf1 != NULL &&
        !OSSL_PARAM_set_utf8_string(p, EVP_MD_get0_name(mgf1)))
        return 0;
    return 1;
}

int vp_sig_get_ctx_params(vp_sigctx *ctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    if (params == NULL)
        return 1;
    p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
    if (p != NULL && !get_algorithm_id(ctx, p))
        return 0;
    if (!get_digests(ctx, params))
        return 0;
    return ctx->kind != VP_KIND_RSA || get_pad_and_salt(ctx, params);
}

static const OSSL_PARAM ecdsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_size_t(OSSL_SIGNATURE_PARAM_DIGEST_SIZE, NULL), OSSL_PARAM_END};

static const OSSL_PARAM rsa_gettable[] = {
    OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_size_t(OSSL_SIGNATURE_PARAM_DIGEST_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM ecdsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_END};

/* Strings, as the default provider declares them: "pkcs1", "digest"... */
static const OSSL_PARAM rsa_settable[] = {
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PROPERTIES, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_PROPERTIES, NULL, 0),
    OSSL_PARAM_END};

const OSSL_PARAM *vp_sig_gettable(vp_key_kind kind)
{
    return kind == VP_KIND_RSA ? rsa_gettable : ecdsa_gettable;
}

const OSSL_PARAM *vp_sig_settable(vp_key_kind kind)
{
    return kind == VP_KIND_RSA ? rsa_settable : ecdsa_settable;
}

/* The context's parameters, for an operation in the child context. */
static void local_params(vp_sigctx *ctx, OSSL_PARAM params[5])
{
    size_t n = 0;

    if (ctx->md != NULL)
        params[n++] = OSSL_PARAM_construct_utf8_string(
            OSSL_SIGNATURE_PARAM_DIGEST, (char *)EVP_MD_get0_name(ctx->md), 0);
    if (ctx->kind == VP_KIND_RSA) {
        params[n++] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE,
                                               &ctx->pad_mode);
        if (ctx->pad_mode == RSA_PKCS1_PSS_PADDING)
            params[n++] = OSSL_PARAM_construct_int(
                OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &ctx->saltlen);
        if (ctx->pad_mode == RSA_PKCS1_PSS_PADDING && ctx->mgf1_md != NULL)
            params[n++] = OSSL_PARAM_construct_utf8_string(
                OSSL_SIGNATURE_PARAM_MGF1_DIGEST,
                (char *)EVP_MD_get0_name(ctx->mgf1_md), 0);
    }
    params[n] = OSSL_PARAM_construct_end();
}

static EVP_PKEY_CTX *local_ctx(vp_sigctx *ctx, int operation)
{
    EVP_PKEY_CTX *pctx;
    OSSL_PARAM params[5];
    int ok;

    pctx =
        EVP_PKEY_CTX_new_from_pkey(ctx->provctx->libctx, ctx->key->pub, NULL);
    if (pctx == NULL)
        return NULL;
    local_params(ctx, params);
    ok = operation == EVP_PKEY_OP_SIGN ? EVP_PKEY_sign_init(pctx)
                                       : EVP_PKEY_verify_init(pctx);
    if (ok <= 0 || EVP_PKEY_CTX_set_params(pctx, params) <= 0) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

int vp_sig_local_verify(vp_sigctx *ctx, const unsigned char *sig, size_t siglen,
                        const unsigned char *tbs, size_t tbslen)
{
    EVP_PKEY_CTX *pctx = local_ctx(ctx, EVP_PKEY_OP_VERIFY);
    int ok =
        pctx != NULL && EVP_PKEY_verify(pctx, sig, siglen, tbs, tbslen) > 0;

    EVP_PKEY_CTX_free(pctx);
    return ok;
}

int vp_sig_local_sign(vp_sigctx *ctx, unsigned char *sig, size_t *siglen,
                      size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
    EVP_PKEY_CTX *pctx = local_ctx(ctx, EVP_PKEY_OP_SIGN);
    int ok;

    *siglen = sigsize;
    ok = pctx != NULL && EVP_PKEY_sign(pctx, sig, siglen, tbs, tbslen) > 0;
    EVP_PKEY_CTX_free(pctx);
    return ok;
}
