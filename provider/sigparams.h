/*
 * The signature context and its parameters (digest, RSA padding, PSS salt
 * length, MGF1 digest): how they map onto a Transit sign request, the
 * AlgorithmIdentifier they imply, and local verification with them.
 */
#ifndef VP_SIGPARAMS_H
#define VP_SIGPARAMS_H

#include "provider.h"

typedef struct vp_sigctx {
    vp_provctx *provctx;
    vp_key_kind kind; /* VP_KIND_EC: ECDSA; VP_KIND_RSA: RSA */
    vp_key *key;
    int operation;     /* EVP_PKEY_OP_SIGN or EVP_PKEY_OP_VERIFY */
    EVP_MD *md;        /* NULL: the input is taken as it is */
    EVP_MD_CTX *mdctx; /* the running digest of EVP_DigestSign* */
    int md_locked;     /* 1 while mdctx runs: the digest may not change */
    int pad_mode;      /* RSA_PKCS1_PADDING or RSA_PKCS1_PSS_PADDING */
    int saltlen;       /* OpenSSL's RSA_PSS_SALTLEN_* or a length */
    EVP_MD *mgf1_md;   /* NULL: the signing digest */
} vp_sigctx;

/* Defaults for a freshly initialised operation. */
void vp_sig_reset_params(vp_sigctx *ctx, int operation);
/* Fetches the digest from the child library context. */
int vp_sig_set_digest(vp_sigctx *ctx, const char *mdname);

int vp_sig_set_ctx_params(vp_sigctx *ctx, const OSSL_PARAM params[]);
int vp_sig_get_ctx_params(vp_sigctx *ctx, OSSL_PARAM params[]);
const OSSL_PARAM *vp_sig_gettable(vp_key_kind kind);
const OSSL_PARAM *vp_sig_settable(vp_key_kind kind);

/*
 * Fills a Transit sign request for a digest of dgstlen bytes; salt is the
 * caller's buffer for the salt_length text. Raises an error and returns 0
 * when the parameters cannot be expressed to Vault.
 */
int vp_sig_request_params(vp_sigctx *ctx, size_t dgstlen, vc_sign_params *req,
                          char *salt, size_t saltsize);

/* Signs with a local key pair (not Vault-backed) in the child context. */
int vp_sig_local_sign(vp_sigctx *ctx, unsigned char *sig, size_t *siglen,
                      size_t sigsize, const unsigned char *tbs, size_t tbslen);

/* 1: the signature verifies over the digest (or raw input) tbs. */
int vp_sig_local_verify(vp_sigctx *ctx, const unsigned char *sig, size_t siglen,
                        const unsigned char *tbs, size_t tbslen);

#endif
