/*
 * The TLS groups of the curves our EC keymgmt serves. OpenSSL's TLS keeps a
 * group only if the "EC" keymgmt it fetches belongs to the provider that
 * announced the group: when this provider comes first, it must announce them.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/params.h>

#include "provider.h"

typedef struct tls_group {
    const char *name;     /* the name TLS configuration uses */
    const char *internal; /* OpenSSL's curve name */
    unsigned int id;      /* the IANA TLS group number */
    unsigned int secbits;
} tls_group;

/* TLS 1.0 and up, DTLS 1.0 and up; 0 means no upper limit. */
static const int min_tls = 0x0301, max_tls = 0;
static const int min_dtls = 0xFEFF, max_dtls = 0;
static const char ec_alg[] = "EC";

static const tls_group groups[] = {
    {"secp256r1", "prime256v1", 23, 128}, {"P-256", "prime256v1", 23, 128},
    {"secp384r1", "secp384r1", 24, 192},  {"P-384", "secp384r1", 24, 192},
    {"secp521r1", "secp521r1", 25, 256},  {"P-521", "secp521r1", 25, 256}};

static int announce(const tls_group *g, OSSL_CALLBACK *cb, void *arg)
{
    OSSL_PARAM params[10];
    unsigned int id = g->id, secbits = g->secbits;
    int mintls = min_tls, maxtls = max_tls;
    int mindtls = min_dtls, maxdtls = max_dtls;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_CAPABILITY_TLS_GROUP_NAME,
                                                 (char *)g->name, 0);
    params[1] = OSSL_PARAM_construct_utf8_string(
        OSSL_CAPABILITY_TLS_GROUP_NAME_INTERNAL, (char *)g->internal, 0);
    params[2] = OSSL_PARAM_construct_utf8_string(OSSL_CAPABILITY_TLS_GROUP_ALG,
                                                 (char *)ec_alg, 0);
    params[3] = OSSL_PARAM_construct_uint(OSSL_CAPABILITY_TLS_GROUP_ID, &id);
    params[4] = OSSL_PARAM_construct_uint(
        OSSL_CAPABILITY_TLS_GROUP_SECURITY_BITS, &secbits);
    params[5] =
        OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MIN_TLS, &mintls);
    params[6] =
        OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MAX_TLS, &maxtls);
    params[7] =
        OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MIN_DTLS, &mindtls);
    params[8] =
        OSSL_PARAM_construct_int(OSSL_CAPABILITY_TLS_GROUP_MAX_DTLS, &maxdtls);
    params[9] = OSSL_PARAM_construct_end();
    return cb(params, arg);
}

int vp_get_capabilities(void *provctx, const char *capability,
                        OSSL_CALLBACK *cb, void *arg)
{
    size_t i;

    if (strcmp(capability, "TLS-GROUP") != 0)
        return 1;
    for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (!announce(&groups[i], cb, arg))
            return 0;
    }
    return 1;
}
