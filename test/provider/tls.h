/*
 * One TLS handshake between two SSL objects joined by a memory BIO pair,
 * for the provider's tests: no sockets, no threads, no timing.
 */
#ifndef TEST_PROVIDER_TLS_H
#define TEST_PROVIDER_TLS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/*
 * The server holds key and its self-signed cert; the client trusts cert and
 * verifies it. Both sides use libctx and propq, so key exchange (over the
 * NIST curves) and signature checks go wherever the application's
 * providers send them.
 * version is TLS1_2_VERSION or TLS1_3_VERSION. 1 when the handshake
 * completed at that version with a verified certificate.
 */
int tls_handshake(OSSL_LIB_CTX *libctx, const char *propq, EVP_PKEY *key,
                  X509 *cert, int version);

#endif
