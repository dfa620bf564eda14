/*
 * An in-memory TLS handshake for the provider's tests: a server signing
 * with the key under test and a client verifying it, joined by a BIO pair.
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls.h"

static SSL_CTX *make_ctx(OSSL_LIB_CTX *libctx, const char *propq, int server,
                         int version)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(
        libctx, propq, server ? TLS_server_method() : TLS_client_method());

    /* NIST curves only: X25519 would keep key exchange away from the EC
     * keymgmt under test. */
    if (ctx != NULL && (!SSL_CTX_set_min_proto_version(ctx, version) ||
                        !SSL_CTX_set_max_proto_version(ctx, version) ||
                        !SSL_CTX_set1_groups_list(ctx, "P-256:P-384"))) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

/* One step of one end: 0 on failure, *done set once it has finished. */
static int advance(SSL *ssl, int *done)
{
    int rc;

    if (*done)
        return 1;
    rc = SSL_do_handshake(ssl);
    *done = rc == 1;
    return rc == 1 || SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ;
}

/* Drives both ends until both are done; a bounded number of rounds. */
static int run_handshake(SSL *server, SSL *client)
{
    int round, s_done = 0, c_done = 0;

    for (round = 0; round < 50 && !(s_done && c_done); round++) {
        if (!advance(client, &c_done) || !advance(server, &s_done))
            return 0;
    }
    return s_done && c_done;
}

static int connect_pair(SSL_CTX *sctx, SSL_CTX *cctx, int version)
{
    SSL *server = SSL_new(sctx), *client = SSL_new(cctx);
    BIO *sbio = NULL, *cbio = NULL;
    int ok = 0;

    if (server == NULL || client == NULL ||
        !BIO_new_bio_pair(&sbio, 0, &cbio, 0))
        goto err;
    SSL_set_bio(server, sbio, sbio);
    SSL_set_bio(client, cbio, cbio);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);
    ok = run_handshake(server, client) && SSL_version(client) == version &&
         SSL_get_verify_result(client) == X509_V_OK;
err:
    SSL_free(server);
    SSL_free(client);
    return ok;
}

int tls_handshake(OSSL_LIB_CTX *libctx, const char *propq, EVP_PKEY *key,
                  X509 *cert, int version)
{
    SSL_CTX *sctx = make_ctx(libctx, propq, 1, version);
    SSL_CTX *cctx = make_ctx(libctx, propq, 0, version);
    int ok = 0;

    if (sctx == NULL || cctx == NULL || !SSL_CTX_use_certificate(sctx, cert) ||
        !SSL_CTX_use_PrivateKey(sctx, key) ||
        !SSL_CTX_check_private_key(sctx) ||
        !X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), cert))
        goto err;
    SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
    ok = connect_pair(sctx, cctx, version);
err:
    if (!ok)
        ERR_print_errors_fp(stderr);
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    return ok;
}
