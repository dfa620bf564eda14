/*
 * What the flow and benchmark programs share: the openssl command's provider
 * options (-P path, -p name, -q propquery) and loading a key from a URI
 * through OSSL_STORE, as any application would.
 */
#ifndef TESTAPP_H
#define TESTAPP_H

#include <openssl/evp.h>

/* The getopt letters testapp_option() handles. */
#define TESTAPP_OPTIONS "P:p:q:"

/* The property query given with -q, or NULL. */
extern const char *testapp_propq;

/*
 * Handles one of TESTAPP_OPTIONS: -P sets the provider search path, -p loads
 * a provider (repeatable), -q sets the property query used for the store and
 * for signing. Returns 1 if handled, 0 if opt is not one of them, -1 on error.
 */
int testapp_option(int opt, const char *arg);

/* Loads the private key at uri, printing OpenSSL's errors on failure. */
EVP_PKEY *testapp_load_key(const char *uri);

/*
 * Signs msg with digest (NULL: the key's default) the way applications do:
 * EVP_DigestSignInit_ex with -q's property query, a size query, then the
 * signature. *sig is OPENSSL_malloc'd. Returns 1 on success; errors stay on
 * OpenSSL's error queue.
 */
int testapp_sign(EVP_PKEY *pkey, const char *digest, const unsigned char *msg,
                 size_t len, unsigned char **sig, size_t *siglen);

/*
 * A copy of pkey's public part held by the default provider, for verifying
 * locally without the provider that holds the private key.
 */
EVP_PKEY *testapp_public_copy(EVP_PKEY *pkey);

#endif
