/*
 * Exercises the vault provider through OpenSSL's STORE, EVP and SSL APIs
 * alone, against a private Transit test server: key comparison both ways,
 * size queries, context duplication, parameters, AlgorithmIdentifiers, TLS,
 * threads, errors and request counts.
 * Usage: test_provider default-first|default-last|propquery
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "server.h"
#include "tls.h"
#include "vaultclient.h"

typedef struct test_key {
    const char *name;
    const char *type;
    const char *group; /* NULL for RSA */
    int bits;
    EVP_PKEY *pkey; /* loaded through vault: */
    EVP_PKEY *ref;  /* Vault's PEM, loaded by the default provider */
} test_key;

static test_key keys[] = {{"p256", "ecdsa-p256", "P-256", 256, NULL, NULL},
                          {"p384", "ecdsa-p384", "P-384", 384, NULL, NULL},
                          {"p521", "ecdsa-p521", "P-521", 521, NULL, NULL},
                          {"rsa2048", "rsa-2048", NULL, 2048, NULL, NULL}};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static OSSL_LIB_CTX *libctx; /* the application's: default and vault */
static const char *propq;    /* NULL or "?provider=vault" */
static const char *mode;
static int failures;
static const unsigned char msg[] = "a message signed in Vault Transit";
/* The type of the object load_key returned last, in this thread. */
static _Thread_local int last_info_type;

#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

static int check(int ok, const char *what, int line)
{
    if (!ok) {
        failures++;
        fprintf(stderr, "FAIL [%s] line %d: %s\n", mode, line, what);
        ERR_print_errors_fp(stderr);
    }
    return ok;
}

/* The error queue must be empty after every successful operation. */
#define CHECK_CLEAN() CHECK(ERR_peek_error() == 0)

static EVP_PKEY *load_key(const char *uri, int expect)
{
    OSSL_STORE_CTX *st;
    OSSL_STORE_INFO *info;
    EVP_PKEY *pkey = NULL;

    st = OSSL_STORE_open_ex(uri, libctx, propq, NULL, NULL, NULL, NULL, NULL);
    if (st == NULL)
        return NULL;
    if (expect != 0)
        OSSL_STORE_expect(st, expect);
    while (pkey == NULL && !OSSL_STORE_eof(st)) {
        info = OSSL_STORE_load(st);
        if (info == NULL)
            break;
        last_info_type = OSSL_STORE_INFO_get_type(info);
        if (last_info_type == OSSL_STORE_INFO_PKEY)
            pkey = OSSL_STORE_INFO_get1_PKEY(info);
        else if (last_info_type == OSSL_STORE_INFO_PUBKEY)
            pkey = OSSL_STORE_INFO_get1_PUBKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(st);
    return pkey;
}

static EVP_PKEY *default_key_from_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey;

    pkey = PEM_read_bio_PUBKEY_ex(bio, NULL, NULL, NULL, libctx,
                                  "provider=default");
    BIO_free(bio);
    return pkey;
}

static EVP_PKEY *vault_pem_key(const char *name, int version)
{
    char *pem = srv_public_pem(name, version);
    EVP_PKEY *pkey = pem != NULL ? default_key_from_pem(pem) : NULL;

    free(pem);
    return pkey;
}

static const char *provider_of(const EVP_PKEY *pkey)
{
    const OSSL_PROVIDER *prov = EVP_PKEY_get0_provider(pkey);

    return prov != NULL ? OSSL_PROVIDER_get0_name(prov) : "(none)";
}

static int verify_with(EVP_PKEY *ref, const char *md, const unsigned char *sig,
                       size_t siglen, const OSSL_PARAM *params)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    ok = EVP_DigestVerifyInit_ex(mctx, &pctx, md, libctx, "provider=default",
                                 ref, NULL) == 1 &&
         (params == NULL || EVP_PKEY_CTX_set_params(pctx, params) == 1) &&
         EVP_DigestVerify(mctx, sig, siglen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(mctx);
    return ok;
}

static int last_error_says(const char *text);

static char sign_path[64];

static long sign_requests(const test_key *k)
{
    snprintf(sign_path, sizeof(sign_path), "transit/sign/%s", k->name);
    return srv_requests(sign_path);
}

static void test_load(test_key *k)
{
    char uri[64];

    snprintf(uri, sizeof(uri), "vault:%s", k->name);
    k->pkey = load_key(uri, 0);
    k->ref = vault_pem_key(k->name, 1);
    if (!CHECK(k->pkey != NULL) || !CHECK(k->ref != NULL))
        return;
    CHECK(last_info_type == OSSL_STORE_INFO_PKEY);
    CHECK(strcmp(provider_of(k->pkey), "vault") == 0);
    CHECK(EVP_PKEY_is_a(k->pkey, k->group != NULL ? "EC" : "RSA"));
    CHECK(EVP_PKEY_eq(k->pkey, k->ref) == 1);
    CHECK(EVP_PKEY_eq(k->ref, k->pkey) == 1);
    CHECK_CLEAN();
}

static void check_ec_params(test_key *k)
{
    char group[32] = "", refgroup[32] = "";
    unsigned char *pub = NULL, *refpub = NULL;
    size_t publen, refpublen;

    CHECK(EVP_PKEY_get_group_name(k->pkey, group, sizeof(group), NULL));
    CHECK(EVP_PKEY_get_group_name(k->ref, refgroup, sizeof(refgroup), NULL));
    CHECK(group[0] != '\0' && strcmp(group, refgroup) == 0);
    CHECK(EC_curve_nist2nid(k->group) == OBJ_sn2nid(group));
    publen = EVP_PKEY_get1_encoded_public_key(k->pkey, &pub);
    refpublen = EVP_PKEY_get1_encoded_public_key(k->ref, &refpub);
    CHECK(publen > 0 && publen == refpublen &&
          memcmp(pub, refpub, publen) == 0);
    OPENSSL_free(pub);
    OPENSSL_free(refpub);
}

static void check_rsa_params(test_key *k)
{
    BIGNUM *n = NULL, *e = NULL, *rn = NULL, *re = NULL;

    CHECK(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_N, &n));
    CHECK(EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_RSA_E, &e));
    CHECK(EVP_PKEY_get_bn_param(k->ref, OSSL_PKEY_PARAM_RSA_N, &rn));
    CHECK(EVP_PKEY_get_bn_param(k->ref, OSSL_PKEY_PARAM_RSA_E, &re));
    CHECK(n != NULL && rn != NULL && BN_cmp(n, rn) == 0);
    CHECK(e != NULL && re != NULL && BN_cmp(e, re) == 0);
    BN_free(n);
    BN_free(e);
    BN_free(rn);
    BN_free(re);
}

/* With Vault sealed, every answer must still come from the loaded key. */
static void test_params_offline(test_key *k)
{
    char digest[32] = "";

    if (k->pkey == NULL)
        return;
    CHECK(srv_fault("sealed") && srv_reset());
    CHECK(EVP_PKEY_get_bits(k->pkey) == k->bits);
    CHECK(EVP_PKEY_get_security_bits(k->pkey) ==
          EVP_PKEY_get_security_bits(k->ref));
    CHECK(EVP_PKEY_get_size(k->pkey) == EVP_PKEY_get_size(k->ref));
    CHECK(EVP_PKEY_get_default_digest_name(k->pkey, digest, sizeof(digest)) >
          0);
    CHECK(strcmp(digest, "SHA256") == 0);
    if (k->group != NULL)
        check_ec_params(k);
    else
        check_rsa_params(k);
    CHECK(srv_requests(NULL) == 0);
    CHECK(srv_fault("none"));
    CHECK_CLEAN();
}

static EVP_MD_CTX *sign_ctx(test_key *k, const char *md,
                            const OSSL_PARAM *params)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;

    if (EVP_DigestSignInit_ex(mctx, &pctx, md, libctx, propq, k->pkey, NULL) !=
            1 ||
        (params != NULL && EVP_PKEY_CTX_set_params(pctx, params) != 1)) {
        EVP_MD_CTX_free(mctx);
        return NULL;
    }
    return mctx;
}

/*
 * One sign request per signature; the size query costs none. The default
 * provider verifies with vparams (NULL: params).
 */
static void sign_and_verify(test_key *k, const char *md,
                            const OSSL_PARAM *params, const OSSL_PARAM *vparams)
{
    EVP_MD_CTX *mctx = sign_ctx(k, md, params);
    unsigned char sig[1024];
    size_t siglen = 0;

    if (!CHECK(mctx != NULL))
        return;
    CHECK(srv_reset());
    CHECK(EVP_DigestSign(mctx, NULL, &siglen, msg, sizeof(msg)) == 1);
    CHECK(siglen == (size_t)EVP_PKEY_get_size(k->pkey));
    CHECK(sign_requests(k) == 0);
    CHECK(EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) == 1);
    CHECK(sign_requests(k) == 1);
    CHECK_CLEAN();
    CHECK(verify_with(k->ref, md != NULL ? md : "SHA256", sig, siglen,
                      vparams != NULL ? vparams : params));
    EVP_MD_CTX_free(mctx);
}

/* A PSS salt setting and the salt length Vault must then use (SHA-256). */
typedef struct salt_case {
    int setting;
    int bytes; /* -1: the maximum for the key */
} salt_case;

static const salt_case salt_cases[] = {
    {RSA_PSS_SALTLEN_MAX, -1},
    {RSA_PSS_SALTLEN_AUTO, -1},
    {RSA_PSS_SALTLEN_DIGEST, 32},
    {20, 20},
#ifdef RSA_PSS_SALTLEN_AUTO_DIGEST_MAX
    {RSA_PSS_SALTLEN_AUTO_DIGEST_MAX, 32},
#endif
};

static void test_sign(test_key *k)
{
    int pss = RSA_PKCS1_PSS_PADDING, salt, want;
    OSSL_PARAM params[3], vparams[3];
    size_t i;

    if (k->pkey == NULL)
        return;
    sign_and_verify(k, "SHA256", NULL, NULL);
    sign_and_verify(k, "SHA384", NULL, NULL);
    sign_and_verify(k, "SHA3-256", NULL, NULL);
    sign_and_verify(k, NULL, NULL, NULL); /* NULL digest means SHA-256 */
    if (k->group != NULL)
        return;
    params[0] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pss);
    params[1] =
        OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt);
    params[2] = OSSL_PARAM_construct_end();
    /* The verifier checks the exact salt length, not its own guess. */
    vparams[0] = params[0];
    vparams[1] =
        OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &want);
    vparams[2] = OSSL_PARAM_construct_end();
    for (i = 0; i < sizeof(salt_cases) / sizeof(salt_cases[0]); i++) {
        salt = salt_cases[i].setting;
        want = salt_cases[i].bytes;
        if (want < 0)
            want = EVP_PKEY_get_size(k->ref) - 32 - 2;
        sign_and_verify(k, "SHA256", params, vparams);
    }
}

/* EVP_PKEY_sign over a digest the caller computed. */
static void test_sign_digest(test_key *k)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(libctx, k->pkey, propq);
    EVP_PKEY_CTX *vctx =
        EVP_PKEY_CTX_new_from_pkey(libctx, k->ref, "provider=default");
    unsigned char dgst[32], sig[1024];
    size_t siglen = 0;

    CHECK(EVP_Q_digest(libctx, "SHA256", NULL, msg, sizeof(msg), dgst, NULL));
    CHECK(srv_reset());
    CHECK(EVP_PKEY_sign_init(pctx) == 1);
    CHECK(EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) == 1);
    CHECK(EVP_PKEY_sign(pctx, NULL, &siglen, dgst, sizeof(dgst)) == 1);
    CHECK(sign_requests(k) == 0);
    CHECK(EVP_PKEY_sign(pctx, sig, &siglen, dgst, sizeof(dgst)) == 1);
    CHECK(sign_requests(k) == 1);
    CHECK(EVP_PKEY_verify_init(vctx) == 1);
    CHECK(EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()) == 1);
    CHECK(EVP_PKEY_verify(vctx, sig, siglen, dgst, sizeof(dgst)) == 1);
    CHECK_CLEAN();
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_CTX_free(vctx);
}

/* A digest (NULL: none) and an RSA padding (0: the default) for pctx. */
static int set_md_pad(EVP_PKEY_CTX *pctx, const char *mdname, int pad)
{
    return (mdname == NULL || EVP_PKEY_CTX_set_signature_md(
                                  pctx, EVP_get_digestbyname(mdname)) == 1) &&
           (pad == 0 || EVP_PKEY_CTX_set_rsa_padding(pctx, pad) == 1);
}

/*
 * EVP_PKEY_sign on input OpenSSL itself would take: ECDSA over any length
 * with no digest set, raw PKCS#1 v1.5, PSS with no digest (SHA-1).
 */
static int pkey_sign_verify(test_key *k, const char *mdname, int pad,
                            size_t len)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(libctx, k->pkey, propq);
    EVP_PKEY_CTX *vctx =
        EVP_PKEY_CTX_new_from_pkey(libctx, k->ref, "provider=default");
    unsigned char in[128], sig[1024];
    size_t siglen = sizeof(sig);
    int ok;

    memset(in, 0x5a, sizeof(in));
    ok = pctx != NULL && vctx != NULL && len <= sizeof(in) &&
         EVP_PKEY_sign_init(pctx) == 1 && set_md_pad(pctx, mdname, pad) &&
         EVP_PKEY_verify_init(vctx) == 1 && set_md_pad(vctx, mdname, pad) &&
         EVP_PKEY_sign(pctx, sig, &siglen, in, len) == 1 &&
         EVP_PKEY_verify(vctx, sig, siglen, in, len) == 1;
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_CTX_free(vctx);
    return ok;
}

/* Each accepted input costs one request; each refused one costs none. */
static void test_sign_lengths(test_key *k)
{
    CHECK(srv_reset());
    if (k->group != NULL) {
        CHECK(pkey_sign_verify(k, NULL, 0, 20));
        CHECK(pkey_sign_verify(k, NULL, 0, 100));
        CHECK(!pkey_sign_verify(k, "SHA256", 0, 20));
    } else {
        CHECK(pkey_sign_verify(k, NULL, RSA_PKCS1_PADDING, 36));
        CHECK(pkey_sign_verify(k, NULL, RSA_PKCS1_PSS_PADDING, 20));
        CHECK(!pkey_sign_verify(k, NULL, RSA_PKCS1_PSS_PADDING, 32));
    }
    ERR_clear_error();
    CHECK(sign_requests(k) == 2);
}

/* A short buffer is refused before Vault is asked. */
static void test_short_buffer(test_key *k)
{
    EVP_MD_CTX *mctx = sign_ctx(k, "SHA256", NULL);
    unsigned char sig[1024];
    size_t siglen = (size_t)EVP_PKEY_get_size(k->pkey) - 1;

    CHECK(srv_reset());
    CHECK(mctx != NULL &&
          EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) != 1);
    CHECK(last_error_says("too small"));
    CHECK(sign_requests(k) == 0);
    EVP_MD_CTX_free(mctx);
}

/* A duplicated key signs with Vault, as the original does. */
static void test_key_dup(test_key *k)
{
    test_key copy = *k;

    copy.pkey = EVP_PKEY_dup(k->pkey);
    if (!CHECK(copy.pkey != NULL))
        return;
    CHECK(strcmp(provider_of(copy.pkey), "vault") == 0);
    sign_and_verify(&copy, "SHA256", NULL, NULL);
    EVP_PKEY_free(copy.pkey);
}

/* A context copied in the middle of a message signs independently. */
static void test_dup_midstream(test_key *k)
{
    EVP_MD_CTX *a = sign_ctx(k, "SHA256", NULL), *b = EVP_MD_CTX_new();
    unsigned char sa[1024], sb[1024];
    size_t la = sizeof(sa), lb = sizeof(sb), half = sizeof(msg) / 2;

    if (!CHECK(a != NULL))
        goto end;
    CHECK(EVP_DigestSignUpdate(a, msg, half) == 1);
    CHECK(EVP_MD_CTX_copy_ex(b, a) == 1);
    CHECK(EVP_DigestSignUpdate(a, msg + half, sizeof(msg) - half) == 1);
    CHECK(EVP_DigestSignUpdate(b, msg + half, sizeof(msg) - half) == 1);
    CHECK(srv_reset());
    CHECK(EVP_DigestSignFinal(a, NULL, &la) == 1);
    CHECK(EVP_DigestSignFinal(a, sa, &la) == 1);
    CHECK(EVP_DigestSignFinal(b, sb, &lb) == 1);
    CHECK(sign_requests(k) == 2);
    CHECK(verify_with(k->ref, "SHA256", sa, la, NULL));
    CHECK(verify_with(k->ref, "SHA256", sb, lb, NULL));
    CHECK_CLEAN();
end:
    EVP_MD_CTX_free(a);
    EVP_MD_CTX_free(b);
}

/* The last error is the provider's and its reason string contains text. */
static int last_error_says(const char *text)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = ERR_reason_error_string(e), *data = NULL;
    char all[1024];

    ERR_peek_last_error_data(&data, NULL);
    snprintf(all, sizeof(all), "%s:%s", reason ? reason : "", data ? data : "");
    ERR_clear_error();
    if (strstr(all, text) != NULL && strstr(all, srv_root_token()) == NULL)
        return 1;
    fprintf(stderr, "  error was \"%s\", wanted \"%s\"\n", all, text);
    return 0;
}

static void test_rsa_refusals(test_key *k)
{
    EVP_MD_CTX *mctx = sign_ctx(k, "SHA256", NULL);
    EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
    unsigned char sig[1024];
    size_t siglen = sizeof(sig);

    CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_NO_PADDING) <= 0);
    CHECK(last_error_says("vault transit: unsupported"));
    CHECK(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1);
    CHECK(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 0) <= 0);
    CHECK(last_error_says("zero-length PSS salt"));
    CHECK(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1);
    CHECK(srv_reset());
    CHECK(EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) != 1);
    CHECK(last_error_says("MGF1 digest"));
    CHECK(sign_requests(k) == 0);
    EVP_MD_CTX_free(mctx);
}

static void test_export(test_key *k)
{
    OSSL_PARAM *params = NULL;

    CHECK(EVP_PKEY_todata(k->pkey, EVP_PKEY_KEYPAIR, &params) != 1);
    CHECK(last_error_says("the private key stays in Vault"));
    OSSL_PARAM_free(params);
    params = NULL;
    CHECK(EVP_PKEY_todata(k->pkey, EVP_PKEY_PUBLIC_KEY, &params) == 1);
    CHECK(params != NULL);
    OSSL_PARAM_free(params);
    CHECK(i2d_PrivateKey(k->pkey, NULL) <= 0);
    ERR_clear_error();
    CHECK_CLEAN();
}

static X509 *make_cert(test_key *k, const char *md, const OSSL_PARAM *params)
{
    X509 *x = X509_new_ex(libctx, propq);
    X509_NAME *name = X509_NAME_new();
    EVP_MD_CTX *mctx = NULL;

    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)"vault test", -1, -1, 0);
    if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
        !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 3600) ||
        !X509_set_pubkey(x, k->pkey) ||
        (mctx = sign_ctx(k, md, params)) == NULL ||
        X509_sign_ctx(x, mctx) <= 0) {
        X509_free(x);
        x = NULL;
    }
    EVP_MD_CTX_free(mctx);
    X509_NAME_free(name);
    return x;
}

/* The AlgorithmIdentifier the signature context gives must verify. */
static void test_x509(test_key *k, const char *md, const OSSL_PARAM *params,
                      int sig_nid)
{
    X509 *x = make_cert(k, md, params);

    if (!CHECK(x != NULL))
        return;
    CHECK(X509_get_signature_nid(x) == sig_nid);
    CHECK(X509_verify(x, k->ref) == 1);
    CHECK(X509_check_private_key(x, k->pkey) == 1);
    CHECK_CLEAN();
    X509_free(x);
}

static void test_certificates(void)
{
    int pss = RSA_PKCS1_PSS_PADDING, salt = RSA_PSS_SALTLEN_DIGEST;
    OSSL_PARAM params[3];

    params[0] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pss);
    params[1] =
        OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt);
    params[2] = OSSL_PARAM_construct_end();
    test_x509(&keys[0], "SHA256", NULL, NID_ecdsa_with_SHA256);
    test_x509(&keys[1], "SHA384", NULL, NID_ecdsa_with_SHA384);
    test_x509(&keys[3], "SHA256", NULL, NID_sha256WithRSAEncryption);
    test_x509(&keys[3], "SHA384", params, NID_rsassaPss);
    salt = RSA_PSS_SALTLEN_MAX;
    test_x509(&keys[3], "SHA512", params, NID_rsassaPss);
    test_x509(&keys[3], "SHA3-256", params, NID_rsassaPss);
    test_x509(&keys[3], "SHA3-384", NULL, NID_RSA_SHA3_384);
}

/*
 * The AlgorithmIdentifier a signing context answers; 0 unless the context
 * belongs to provider prov.
 */
static size_t algorithm_id(EVP_PKEY *pkey, const char *pq, const char *prov,
                           const char *md, const OSSL_PARAM *params,
                           unsigned char *aid, size_t size)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM get[2];
    const OSSL_PROVIDER *owner;
    size_t len = 0;

    get[0] = OSSL_PARAM_construct_octet_string(
        OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, size);
    get[1] = OSSL_PARAM_construct_end();
    if (EVP_DigestSignInit_ex(mctx, &pctx, md, libctx, pq, pkey, NULL) == 1 &&
        (params == NULL || EVP_PKEY_CTX_set_params(pctx, params) == 1) &&
        EVP_PKEY_CTX_get_params(pctx, get) == 1 &&
        (owner = EVP_PKEY_CTX_get0_provider(pctx)) != NULL &&
        strcmp(OSSL_PROVIDER_get0_name(owner), prov) == 0)
        len = get[0].return_size;
    EVP_MD_CTX_free(mctx);
    return len;
}

/* Byte for byte what the default provider says for the same parameters. */
static void check_algorithm_id(test_key *k, EVP_PKEY *local, const char *md,
                               const OSSL_PARAM *params)
{
    unsigned char got[256], want[256];
    size_t glen =
        algorithm_id(k->pkey, propq, "vault", md, params, got, sizeof(got));
    size_t wlen = algorithm_id(local, "provider=default", "default", md, params,
                               want, sizeof(want));

    if (!CHECK(glen > 0 && glen == wlen && memcmp(got, want, glen) == 0))
        fprintf(stderr, "  %s %s: %zu bytes, want %zu\n", k->name, md, glen,
                wlen);
}

static void test_algorithm_ids(void)
{
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(libctx, "provider=default", "EC", "P-256");
    EVP_PKEY *rsa =
        EVP_PKEY_Q_keygen(libctx, "provider=default", "RSA", (size_t)2048);
    /* OpenSSL 3.0 has no RSA-PSS identifier with SHA-3 to compare with. */
    const char *mds[] = {"SHA1", "SHA256", "SHA384", "SHA512", "SHA3-256"};
    const size_t npss = 4;
    int pss = RSA_PKCS1_PSS_PADDING, salt = 0;
    OSSL_PARAM params[3];
    size_t i, j;

    if (!CHECK(ec != NULL && rsa != NULL))
        goto end;
    params[0] = OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PAD_MODE, &pss);
    params[1] =
        OSSL_PARAM_construct_int(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, &salt);
    params[2] = OSSL_PARAM_construct_end();
    for (i = 0; i < sizeof(mds) / sizeof(mds[0]); i++) {
        check_algorithm_id(&keys[0], ec, mds[i], NULL);
        check_algorithm_id(&keys[3], rsa, mds[i], NULL);
        for (j = 0; i < npss && j < sizeof(salt_cases) / sizeof(salt_cases[0]);
             j++) {
            salt = salt_cases[j].setting;
            check_algorithm_id(&keys[3], rsa, mds[i], params);
        }
    }
    CHECK_CLEAN();
end:
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

/*
 * A TLS server signing with a vault: key, against a client in the same
 * library context: one sign request per handshake, at each version.
 */
static void test_tls(test_key *k, const char *md)
{
    X509 *cert = make_cert(k, md, NULL);
    int versions[] = {TLS1_2_VERSION, TLS1_3_VERSION};
    size_t i;

    if (!CHECK(cert != NULL))
        return;
    for (i = 0; i < 2; i++) {
        CHECK(srv_reset());
        if (!CHECK(tls_handshake(libctx, propq, k->pkey, cert, versions[i])))
            fprintf(stderr, "  TLS 0x%x with %s\n", versions[i], k->name);
        CHECK(sign_requests(k) == 1);
        CHECK_CLEAN();
    }
    X509_free(cert);
}

static int sign_verifies(EVP_PKEY *pkey, EVP_PKEY *ref)
{
    test_key k = {"pin", NULL, "P-256", 256, pkey, ref};
    EVP_MD_CTX *mctx = sign_ctx(&k, "SHA256", NULL);
    unsigned char sig[256];
    size_t siglen = sizeof(sig);
    int ok = mctx != NULL &&
             EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
             verify_with(ref, "SHA256", sig, siglen, NULL);

    EVP_MD_CTX_free(mctx);
    return ok;
}

/* Metadata is cached; a key keeps the version it was loaded at. */
static void test_cache_and_pinning(void)
{
    EVP_PKEY *k1, *k1again, *k2, *v1, *v2;

    CHECK(srv_create_key("pin", "ecdsa-p256"));
    CHECK(srv_reset());
    k1 = load_key("vault:pin", 0);
    k1again = load_key("vault:pin", 0);
    CHECK(srv_requests("transit/keys/pin") == 1);
    CHECK(srv_rotate_key("pin"));
    k2 = load_key("vault:pin?version=2", 0);
    v1 = vault_pem_key("pin", 1);
    v2 = vault_pem_key("pin", 2);
    if (CHECK(k1 && k1again && k2 && v1 && v2)) {
        CHECK(sign_verifies(k1, v1));
        CHECK(!sign_verifies(k1, v2));
        ERR_clear_error();
        CHECK(sign_verifies(k2, v2));
        CHECK(EVP_PKEY_eq(k2, v2) == 1 && EVP_PKEY_eq(k1, v1) == 1);
    }
    CHECK_CLEAN();
    EVP_PKEY_free(k1);
    EVP_PKEY_free(k1again);
    EVP_PKEY_free(k2);
    EVP_PKEY_free(v1);
    EVP_PKEY_free(v2);
}

/* Expecting a public key gives one, usable to verify. */
static void test_public_expected(test_key *k)
{
    char uri[64];
    EVP_PKEY *pub;

    snprintf(uri, sizeof(uri), "vault:%s", k->name);
    pub = load_key(uri, OSSL_STORE_INFO_PUBKEY);
    if (!CHECK(pub != NULL))
        return;
    CHECK(last_info_type == OSSL_STORE_INFO_PUBKEY);
    CHECK(EVP_PKEY_eq(pub, k->ref) == 1);
    CHECK_CLEAN();
    EVP_PKEY_free(pub);
}

static int sign_locally(EVP_PKEY *key, EVP_PKEY *verifier)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    unsigned char sig[512];
    size_t siglen = sizeof(sig);
    int ok;

    ok = EVP_DigestSignInit_ex(mctx, NULL, "SHA256", libctx, propq, key,
                               NULL) == 1 &&
         EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
         verify_with(verifier, "SHA256", sig, siglen, NULL);
    EVP_MD_CTX_free(mctx);
    return ok;
}

static int derive(EVP_PKEY *key, EVP_PKEY *peer, unsigned char *secret,
                  size_t *len)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(libctx, key, propq);
    int ok = pctx != NULL && EVP_PKEY_derive_init(pctx) == 1 &&
             EVP_PKEY_derive_set_peer(pctx, peer) == 1 &&
             EVP_PKEY_derive(pctx, secret, len) == 1;

    EVP_PKEY_CTX_free(pctx);
    return ok;
}

/* An EC key pair built from its parameters (by name) signs. */
static int sign_with_imported(OSSL_PARAM *params, EVP_PKEY *verifier)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(libctx, "EC", propq);
    EVP_PKEY *pkey = NULL;
    int ok = pctx != NULL && EVP_PKEY_fromdata_init(pctx) == 1 &&
             EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1 &&
             EVP_PKEY_eq(pkey, verifier) == 1 && sign_locally(pkey, verifier);

    EVP_PKEY_free(pkey);
    EVP_PKEY_CTX_free(pctx);
    return ok;
}

/* 1 when EVP_PKEY_public_check (or with private, EVP_PKEY_check) passes. */
static int key_checks_out(EVP_PKEY *pkey, int with_private)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(libctx, pkey, propq);
    int ok = pctx != NULL && (with_private ? EVP_PKEY_check(pctx)
                                           : EVP_PKEY_public_check(pctx)) == 1;

    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return ok;
}

/* An RSA public key with an even modulus, built by name. */
static EVP_PKEY *bad_rsa_key(test_key *k)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(libctx, "RSA", propq);
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM params[3];
    unsigned char nbuf[512], ebuf[8];
    EVP_PKEY *pkey = NULL;
    int nlen, elen;

    if (EVP_PKEY_get_bn_param(k->ref, OSSL_PKEY_PARAM_RSA_N, &n) &&
        EVP_PKEY_get_bn_param(k->ref, OSSL_PKEY_PARAM_RSA_E, &e) &&
        BN_add_word(n, 1) &&
        (nlen = BN_bn2nativepad(n, nbuf, BN_num_bytes(n))) > 0 &&
        (elen = BN_bn2nativepad(e, ebuf, sizeof(ebuf))) > 0) {
        params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, nbuf, nlen);
        params[1] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_E, ebuf, elen);
        params[2] = OSSL_PARAM_construct_end();
        if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
            EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
            pkey = NULL;
    }
    BN_free(n);
    BN_free(e);
    EVP_PKEY_CTX_free(pctx);
    return pkey;
}

/* Key checks run for real, whichever keymgmt holds the key. */
static void test_validate(test_key *ec, test_key *rsa)
{
    EVP_PKEY *gen = EVP_PKEY_Q_keygen(libctx, propq, "EC", "P-256");
    EVP_PKEY *bad = bad_rsa_key(rsa);

    CHECK(key_checks_out(ec->pkey, 0) && key_checks_out(ec->pkey, 1));
    CHECK(key_checks_out(rsa->pkey, 0));
    CHECK(gen != NULL && key_checks_out(gen, 1));
    CHECK(bad != NULL && !key_checks_out(bad, 0));
    CHECK_CLEAN();
    EVP_PKEY_free(gen);
    EVP_PKEY_free(bad);
}

/*
 * Keys that have nothing to do with Vault keep working whichever provider
 * OpenSSL finds first: a file key, and keys generated by name (which go to
 * the vault keymgmt when it comes first), ECDH included.
 */
static void test_local_keys(void)
{
    EVP_PKEY *file =
        EVP_PKEY_Q_keygen(libctx, "provider=default", "EC", "P-256");
    EVP_PKEY *a = EVP_PKEY_Q_keygen(libctx, propq, "EC", "P-384");
    EVP_PKEY *b = EVP_PKEY_Q_keygen(libctx, propq, "EC", "P-384");
    EVP_PKEY *r = EVP_PKEY_Q_keygen(libctx, propq, "RSA", (size_t)2048);
    unsigned char s1[128], s2[128];
    size_t l1 = sizeof(s1), l2 = sizeof(s2);
    OSSL_PARAM *params = NULL;

    if (!CHECK(file != NULL && a != NULL && b != NULL && r != NULL))
        goto end;
    CHECK(sign_locally(file, file));
    CHECK(sign_locally(a, a));
    CHECK(sign_locally(r, r));
    CHECK(EVP_PKEY_todata(a, EVP_PKEY_KEYPAIR, &params) == 1);
    CHECK(sign_with_imported(params, a));
    CHECK(derive(a, b, s1, &l1) && derive(b, a, s2, &l2));
    CHECK(l1 == l2 && memcmp(s1, s2, l1) == 0);
    CHECK(EVP_PKEY_eq(file, keys[0].pkey) != 1);
    ERR_clear_error();
    CHECK(EVP_PKEY_eq(a, a) == 1);
    CHECK_CLEAN();
end:
    OSSL_PARAM_free(params);
    EVP_PKEY_free(file);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(r);
}

/* Reason strings are vc_status_text() with the "vault transit: " prefix. */
static void test_errors(void)
{
    unsigned long e;
    int lib, st;
    char want[128];
    const char *got;

    CHECK(load_key("vault:missing", 0) == NULL);
    e = ERR_peek_last_error();
    lib = ERR_GET_LIB(e);
    CHECK(last_error_says("vault transit: key not found"));
    for (st = VC_ERR_PERMISSION_DENIED; st <= VC_ERR_NO_MEMORY; st++) {
        snprintf(want, sizeof(want), "vault transit: %s",
                 vc_status_text((vc_status)st));
        got = ERR_reason_error_string(ERR_PACK(lib, 0, st));
        CHECK(got != NULL && strcmp(got, want) == 0);
    }
    CHECK(srv_create_key("ed", "ed25519") &&
          srv_create_key("aes", "aes256-gcm96"));
    CHECK(load_key("vault:ed", 0) == NULL);
    CHECK(last_error_says("ed25519 is not supported"));
    CHECK(load_key("vault:aes", 0) == NULL);
    CHECK(last_error_says("cannot sign"));
    CHECK(load_key("vault:p256?version=9", 0) == NULL);
    CHECK(last_error_says("no such version"));
}

/* The providers loaded into one library context, released together. */
typedef struct loaded {
    OSSL_LIB_CTX *libctx;
    OSSL_PROVIDER *vault;
    OSSL_PROVIDER *deflt;
} loaded;

static int load_providers(loaded *l)
{
    const char *dir = getenv("VP_MODULES_DIR");
    int vault_first = strcmp(mode, "default-last") == 0;

    l->libctx = OSSL_LIB_CTX_new();
    if (l->libctx == NULL || dir == NULL ||
        !OSSL_PROVIDER_set_default_search_path(l->libctx, dir))
        return 0;
    if (vault_first)
        l->vault = OSSL_PROVIDER_load(l->libctx, "vault");
    l->deflt = OSSL_PROVIDER_load(l->libctx, "default");
    if (!vault_first)
        l->vault = OSSL_PROVIDER_load(l->libctx, "vault");
    return l->vault != NULL && l->deflt != NULL;
}

static void unload_providers(loaded *l)
{
    OSSL_PROVIDER_unload(l->vault);
    OSSL_PROVIDER_unload(l->deflt);
    OSSL_LIB_CTX_free(l->libctx);
}

/* A token that may read keys but not sign: the message says so. */
static void test_permission_denied(test_key *k)
{
    OSSL_LIB_CTX *saved = libctx;
    char *token = srv_create_token(
        "readonly", "path \"transit/keys/*\" { capabilities = [\"read\"] }");
    EVP_MD_CTX *mctx = NULL;
    unsigned char sig[256];
    size_t siglen = sizeof(sig);
    test_key limited = *k;
    loaded other = {NULL, NULL, NULL};

    if (!CHECK(token != NULL))
        return;
    setenv("VAULT_TOKEN", token, 1);
    CHECK(load_providers(&other));
    libctx = other.libctx;
    limited.pkey = load_key("vault:p256", 0);
    if (CHECK(limited.pkey != NULL) &&
        CHECK((mctx = sign_ctx(&limited, "SHA256", NULL)) != NULL)) {
        CHECK(EVP_DigestSign(mctx, sig, &siglen, msg, sizeof(msg)) != 1);
        CHECK(last_error_says("vault transit: permission denied"));
    }
    EVP_MD_CTX_free(mctx);
    EVP_PKEY_free(limited.pkey);
    unload_providers(&other);
    libctx = saved;
    setenv("VAULT_TOKEN", srv_root_token(), 1);
    free(token);
}

/*
 * A forked child (a prefork server's worker) signs on a connection of its
 * own; the parent's connection survives it and serves the parent again.
 */
static void test_fork(test_key *k)
{
    int status = -1;
    pid_t pid;

    CHECK(sign_verifies(k->pkey, k->ref)); /* the parent's connection */
    CHECK(srv_reset());
    pid = fork();
    if (pid == 0)
        _exit(sign_verifies(k->pkey, k->ref) ? 0 : 1);
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(sign_verifies(k->pkey, k->ref));
    CHECK_CLEAN();
    /* The child's connection and this reading's; the parent's is reused. */
    CHECK(srv_connections() == 2);
    CHECK(sign_requests(k) == 2);
}

#define NTHREADS 8

typedef struct sign_job {
    pthread_t thread;
    test_key *k;
    int ok;
} sign_job;

/* Opens the key and signs once: all threads race for the first use. */
static void *sign_job_run(void *arg)
{
    sign_job *job = arg;
    char uri[64];
    test_key k = *job->k;

    snprintf(uri, sizeof(uri), "vault:%s", k.name);
    k.pkey = load_key(uri, 0);
    job->ok = k.pkey != NULL && sign_verifies(k.pkey, k.ref);
    EVP_PKEY_free(k.pkey);
    ERR_clear_error();
    return NULL;
}

/*
 * A freshly loaded provider makes no request until it is used; then many
 * threads create its client, cache and TLS context at once.
 */
static void test_concurrent_first_use(test_key *k)
{
    OSSL_LIB_CTX *saved = libctx;
    loaded fresh = {NULL, NULL, NULL};
    sign_job jobs[NTHREADS];
    int i, started = 0, ok = 0;

    CHECK(srv_reset());
    if (!CHECK(load_providers(&fresh)))
        goto end;
    CHECK(srv_requests(NULL) == 0);
    libctx = fresh.libctx;
    for (i = 0; i < NTHREADS; i++) {
        jobs[i].k = k;
        jobs[i].ok = 0;
        if (pthread_create(&jobs[i].thread, NULL, sign_job_run, &jobs[i]))
            break;
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(jobs[i].thread, NULL);
        ok += jobs[i].ok;
    }
    CHECK(started == NTHREADS && ok == NTHREADS);
    CHECK(sign_requests(k) == NTHREADS);
end:
    unload_providers(&fresh);
    libctx = saved;
}

static void clean_environment(const char *home)
{
    extern char **environ;
    char **e, name[256];
    size_t n;

    for (e = environ; *e != NULL;) {
        n = strcspn(*e, "=");
        /* Inherited settings would leak in; the debug switch may stay. */
        if (n < sizeof(name) && strncmp(*e, "VAULT_PROVIDER_DEBUG=", 21) &&
            (strncmp(*e, "VAULT_", 6) == 0 || strncmp(*e, "BAO_", 4) == 0 ||
             strncmp(*e, "AUTHPLANE_", 10) == 0)) {
            memcpy(name, *e, n);
            name[n] = '\0';
            unsetenv(name);
            continue;
        }
        e++;
    }
    setenv("HOME", home, 1);
    setenv("OPENSSL_CONF", "/dev/null", 1);
}

static void run_tests(void)
{
    size_t i;

    for (i = 0; i < NKEYS; i++) {
        CHECK(srv_create_key(keys[i].name, keys[i].type));
        test_load(&keys[i]);
        if (keys[i].pkey == NULL)
            continue;
        test_params_offline(&keys[i]);
        test_sign(&keys[i]);
        test_sign_digest(&keys[i]);
        test_sign_lengths(&keys[i]);
        test_short_buffer(&keys[i]);
        test_key_dup(&keys[i]);
        test_dup_midstream(&keys[i]);
        test_export(&keys[i]);
        test_public_expected(&keys[i]);
    }
    if (keys[3].pkey != NULL)
        test_rsa_refusals(&keys[3]);
    if (keys[0].pkey != NULL && keys[1].pkey != NULL && keys[3].pkey != NULL) {
        test_certificates();
        test_algorithm_ids();
        test_tls(&keys[0], "SHA256");
        test_tls(&keys[3], "SHA256");
        test_validate(&keys[0], &keys[3]);
        test_fork(&keys[0]);
        test_concurrent_first_use(&keys[0]);
    }
    test_cache_and_pinning();
    test_local_keys();
    test_errors();
    test_permission_denied(&keys[0]);
}

int main(int argc, char **argv)
{
    char dir[] = "/tmp/vp-provider-test.XXXXXX";
    loaded app = {NULL, NULL, NULL};
    size_t i;

    mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "default-first") != 0 &&
        strcmp(mode, "default-last") != 0 && strcmp(mode, "propquery") != 0) {
        fprintf(stderr, "usage: %s default-first|default-last|propquery\n",
                argv[0]);
        return 2;
    }
    propq = strcmp(mode, "propquery") == 0 ? "?provider=vault" : NULL;
    if (mkdtemp(dir) == NULL)
        return 1;
    clean_environment(dir);
    if (!srv_start(dir)) {
        srv_stop();
        return 1;
    }
    setenv("VAULT_ADDR", srv_addr(), 1);
    setenv("VAULT_TOKEN", srv_root_token(), 1);
    if (CHECK(load_providers(&app))) {
        libctx = app.libctx;
        run_tests();
    }
    for (i = 0; i < NKEYS; i++) {
        EVP_PKEY_free(keys[i].pkey);
        EVP_PKEY_free(keys[i].ref);
    }
    unload_providers(&app);
    srv_stop();
    rmdir(dir);
    printf("%s: %d failure(s)\n", mode, failures);
    return failures == 0 ? 0 : 1;
}
