/*
 * Provider options and key loading shared by the flow and benchmark
 * programs; see testapp.h.
 */
#include "testapp.h"

#include <stdio.h>

#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/store.h>

const char *testapp_propq;

int testapp_option(int opt, const char *arg)
{
    switch (opt) {
    case 'P':
        if (!OSSL_PROVIDER_set_default_search_path(NULL, arg))
            goto err;
        return 1;
    case 'p':
        /* Deliberately kept loaded until exit. */
        if (OSSL_PROVIDER_load(NULL, arg) == NULL)
            goto err;
        return 1;
    case 'q':
        testapp_propq = arg;
        return 1;
    default:
        return 0;
    }

err:
    fprintf(stderr, "cannot use provider option -%c %s\n", opt, arg);
    ERR_print_errors_fp(stderr);
    return -1;
}

EVP_PKEY *testapp_load_key(const char *uri)
{
    OSSL_STORE_CTX *store;
    OSSL_STORE_INFO *info;
    EVP_PKEY *pkey = NULL;

    store = OSSL_STORE_open_ex(uri, NULL, testapp_propq, NULL, NULL, NULL, NULL,
                               NULL);
    if (store == NULL)
        goto err;
    if (!OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY))
        goto err;
    while (pkey == NULL && !OSSL_STORE_eof(store)) {
        info = OSSL_STORE_load(store);
        if (info == NULL) {
            if (OSSL_STORE_error(store))
                goto err;
            continue;
        }
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            pkey = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    if (pkey == NULL)
        fprintf(stderr, "%s: no private key found\n", uri);
    return pkey;

err:
    fprintf(stderr, "%s: cannot load the key\n", uri);
    ERR_print_errors_fp(stderr);
    OSSL_STORE_close(store);
    return NULL;
}

int testapp_sign(EVP_PKEY *pkey, const char *digest, const unsigned char *msg,
                 size_t len, unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = 0;

    *sig = NULL;
    if (ctx == NULL || EVP_DigestSignInit_ex(ctx, NULL, digest, NULL,
                                             testapp_propq, pkey, NULL) <= 0)
        goto done;
    if (EVP_DigestSign(ctx, NULL, siglen, msg, len) <= 0)
        goto done;
    if ((*sig = OPENSSL_malloc(*siglen)) == NULL)
        goto done;
    ok = EVP_DigestSign(ctx, *sig, siglen, msg, len) > 0;

done:
    if (!ok) {
        OPENSSL_free(*sig);
        *sig = NULL;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

EVP_PKEY *testapp_public_copy(EVP_PKEY *pkey)
{
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pub = NULL;

    if (!EVP_PKEY_todata(pkey, EVP_PKEY_PUBLIC_KEY, &params))
        goto err;
    ctx = EVP_PKEY_CTX_new_from_name(NULL, EVP_PKEY_get0_type_name(pkey),
                                     "provider=default");
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0)
        goto err;
    if (EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        goto err;
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pub;

err:
    fprintf(stderr, "cannot copy the public key to the default provider\n");
    ERR_print_errors_fp(stderr);
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return NULL;
}
