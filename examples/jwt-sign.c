/*
 * jwt-sign: signs a JSON Web Token with a private key that OpenSSL loads from
 * a URI, such as a Vault Transit key through the vault provider. It uses only
 * OpenSSL's public STORE and EVP APIs; nothing in it knows where the key is.
 *
 * Usage: jwt-sign [-P path] [-p provider]... [-q propquery] [-k kid]
 *                 URI ALG [CLAIMS]
 *
 *   URI     the key, e.g. vault:my-key or vault:transit/my-key?version=2
 *   ALG     ES256, ES384, ES512 (P-256, P-384, P-521 keys),
 *           RS256, RS384, RS512, PS256, PS384, PS512 (RSA keys)
 *   CLAIMS  the claims, a JSON object used as given; by default
 *           {"sub":"jwt-sign","iat":NOW,"exp":NOW+300}
 *   -k kid  puts "kid" in the header
 *
 * The providers come from OpenSSL's configuration as for any application:
 * an openssl.cnf (the system's, or the one OPENSSL_CONF names) that activates
 * the default provider and the vault provider. Without such a file, -p loads
 * providers by name (-p vault -p default), -P says where they are and -q sets
 * a property query such as "?provider=vault": the same as the openssl
 * command's -provider, -provider-path and -propquery.
 *
 * Prints the compact token (header.claims.signature) on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>

/* A JOSE signature algorithm and what it means in OpenSSL's terms. */
struct jwt_alg {
    const char *name;     /* the header's "alg" */
    const char *key_type; /* "EC" or "RSA" */
    const char *digest;
    int ec_bits; /* ES*: the curve size the algorithm requires */
    int pss;     /* PS*: RSA-PSS with a salt as long as the digest */
};

static const struct jwt_alg jwt_algs[] = {
    {"ES256", "EC", "SHA256", 256, 0}, {"ES384", "EC", "SHA384", 384, 0},
    {"ES512", "EC", "SHA512", 521, 0}, {"RS256", "RSA", "SHA256", 0, 0},
    {"RS384", "RSA", "SHA384", 0, 0},  {"RS512", "RSA", "SHA512", 0, 0},
    {"PS256", "RSA", "SHA256", 0, 1},  {"PS384", "RSA", "SHA384", 0, 1},
    {"PS512", "RSA", "SHA512", 0, 1},
};

static const struct jwt_alg *find_alg(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(jwt_algs) / sizeof(jwt_algs[0]); i++)
        if (strcmp(jwt_algs[i].name, name) == 0)
            return &jwt_algs[i];
    return NULL;
}

/* Base64url without padding (RFC 7515, section 2); malloc'd. */
static char *base64url(const unsigned char *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    size_t i, n;

    if (out == NULL)
        return NULL;
    n = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

/* text as a JSON string, quotes included; malloc'd. */
static char *json_string(const char *text)
{
    char *out = malloc(6 * strlen(text) + 3), *p = out;

    if (out == NULL)
        return NULL;
    *p++ = '"';
    for (; *text != '\0'; text++) {
        unsigned char c = (unsigned char)*text;

        if (c == '"' || c == '\\')
            p += sprintf(p, "\\%c", c);
        else if (c < 0x20)
            p += sprintf(p, "\\u%04x", c);
        else
            *p++ = (char)c;
    }
    strcpy(p, "\"");
    return out;
}

static char *make_header(const struct jwt_alg *alg, const char *kid)
{
    char *quoted = NULL, *header;
    size_t size = 64;

    if (kid != NULL) {
        if ((quoted = json_string(kid)) == NULL)
            return NULL;
        size += strlen(quoted);
    }
    if ((header = malloc(size)) != NULL)
        snprintf(header, size, "{\"alg\":\"%s\",\"typ\":\"JWT\"%s%s}",
                 alg->name, quoted != NULL ? ",\"kid\":" : "",
                 quoted != NULL ? quoted : "");
    free(quoted);
    return header;
}

/* Claims for a quick test: a subject, issued now, valid five minutes. */
static char *default_claims(void)
{
    long long now = (long long)time(NULL);
    char *claims = malloc(96);

    if (claims != NULL)
        snprintf(claims, 96, "{\"sub\":\"jwt-sign\",\"iat\":%lld,\"exp\":%lld}",
                 now, now + 300);
    return claims;
}

/*
 * Opens the URI with OSSL_STORE and takes the first private key in it. For a
 * vault: URI the key stays in Vault; what comes back is a handle that the
 * vault provider signs with.
 */
static EVP_PKEY *load_key(const char *uri, const char *propq)
{
    OSSL_STORE_CTX *store;
    OSSL_STORE_INFO *info;
    EVP_PKEY *pkey = NULL;

    store = OSSL_STORE_open_ex(uri, NULL, propq, NULL, NULL, NULL, NULL, NULL);
    if (store == NULL)
        return NULL;
    OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY);
    while (pkey == NULL && !OSSL_STORE_eof(store)) {
        if ((info = OSSL_STORE_load(store)) == NULL) {
            if (OSSL_STORE_error(store))
                break;
            continue;
        }
        if (OSSL_STORE_INFO_get_type(info) == OSSL_STORE_INFO_PKEY)
            pkey = OSSL_STORE_INFO_get1_PKEY(info);
        OSSL_STORE_INFO_free(info);
    }
    OSSL_STORE_close(store);
    return pkey;
}

/* The key must be of the type, and for ES*, of the curve size, alg names. */
static int key_fits(EVP_PKEY *pkey, const struct jwt_alg *alg)
{
    if (!EVP_PKEY_is_a(pkey, alg->key_type))
        return 0;
    return alg->ec_bits == 0 || EVP_PKEY_get_bits(pkey) == alg->ec_bits;
}

/*
 * OpenSSL gives ECDSA signatures DER-encoded; JWS wants r and s as two
 * big-endian numbers of the curve's size, one after the other (RFC 7518,
 * section 3.4). Replaces *sig with that form.
 */
static int ecdsa_der_to_jws(unsigned char **sig, size_t *siglen, int bits)
{
    const unsigned char *p = *sig;
    ECDSA_SIG *ecdsa = d2i_ECDSA_SIG(NULL, &p, (long)*siglen);
    const BIGNUM *r, *s;
    int n = (bits + 7) / 8;
    unsigned char *raw = NULL;

    if (ecdsa == NULL || (raw = OPENSSL_malloc(2 * (size_t)n)) == NULL)
        goto err;
    ECDSA_SIG_get0(ecdsa, &r, &s);
    if (BN_bn2binpad(r, raw, n) != n || BN_bn2binpad(s, raw + n, n) != n)
        goto err;
    ECDSA_SIG_free(ecdsa);
    OPENSSL_free(*sig);
    *sig = raw;
    *siglen = 2 * (size_t)n;
    return 1;

err:
    ECDSA_SIG_free(ecdsa);
    OPENSSL_free(raw);
    return 0;
}

/* Signs input as alg says; *sig (OPENSSL_malloc'd) gets the JWS form. */
static int sign(EVP_PKEY *pkey, const struct jwt_alg *alg, const char *propq,
                const char *input, unsigned char **sig, size_t *siglen)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    *sig = NULL;
    if (ctx == NULL || EVP_DigestSignInit_ex(ctx, &pctx, alg->digest, NULL,
                                             propq, pkey, NULL) <= 0)
        goto done;
    if (alg->pss &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
        goto done;

    /* Ask for the size first, then sign: the usual two-call pattern. */
    if (EVP_DigestSign(ctx, NULL, siglen, (const unsigned char *)input,
                       strlen(input)) <= 0)
        goto done;
    if ((*sig = OPENSSL_malloc(*siglen)) == NULL)
        goto done;
    if (EVP_DigestSign(ctx, *sig, siglen, (const unsigned char *)input,
                       strlen(input)) <= 0)
        goto done;
    ok = alg->ec_bits == 0 || ecdsa_der_to_jws(sig, siglen, alg->ec_bits);

done:
    if (!ok) {
        OPENSSL_free(*sig);
        *sig = NULL;
    }
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* Returns a.b as a new string. */
static char *join(const char *a, const char *b)
{
    char *out = malloc(strlen(a) + strlen(b) + 2);

    if (out != NULL)
        sprintf(out, "%s.%s", a, b);
    return out;
}

/* The JWS signing input: base64url(header) "." base64url(claims). */
static char *signing_input(const struct jwt_alg *alg, const char *kid,
                           const char *claims_arg)
{
    char *header = make_header(alg, kid);
    char *claims = claims_arg != NULL ? strdup(claims_arg) : default_claims();
    char *h64 = NULL, *c64 = NULL, *input = NULL;

    if (header == NULL || claims == NULL)
        goto done;
    h64 = base64url((unsigned char *)header, strlen(header));
    c64 = base64url((unsigned char *)claims, strlen(claims));
    if (h64 != NULL && c64 != NULL)
        input = join(h64, c64);

done:
    free(header);
    free(claims);
    free(h64);
    free(c64);
    return input;
}

static void usage(void)
{
    fprintf(stderr, "usage: jwt-sign [-P path] [-p provider]... "
                    "[-q propquery] [-k kid] URI ALG [CLAIMS]\n"
                    "ALG: ES256 ES384 ES512 RS256 RS384 RS512 PS256 PS384 "
                    "PS512\n");
    exit(2);
}

/*
 * -P, -p and -q act at once, like the openssl command's -provider-path,
 * -provider and -propquery; -k gives the kid. Returns the index of the first
 * argument after the options, or -1 if a provider cannot be loaded.
 */
static int parse_options(int argc, char **argv, const char **propq,
                         const char **kid)
{
    int opt;

    while ((opt = getopt(argc, argv, "P:p:q:k:")) != -1) {
        switch (opt) {
        case 'P':
            if (!OSSL_PROVIDER_set_default_search_path(NULL, optarg))
                return -1;
            break;
        case 'p':
            /* Stays loaded for the life of the program. */
            if (OSSL_PROVIDER_load(NULL, optarg) == NULL)
                return -1;
            break;
        case 'q':
            *propq = optarg;
            break;
        case 'k':
            *kid = optarg;
            break;
        default:
            usage();
        }
    }
    return optind;
}

int main(int argc, char **argv)
{
    const char *kid = NULL, *propq = NULL, *uri;
    const struct jwt_alg *alg;
    char *input = NULL, *s64 = NULL;
    unsigned char *sig = NULL;
    size_t siglen;
    EVP_PKEY *pkey = NULL;
    int first, status = 1;

    if ((first = parse_options(argc, argv, &propq, &kid)) < 0)
        goto err;
    if (argc - first < 2 || argc - first > 3)
        usage();
    uri = argv[first];
    if ((alg = find_alg(argv[first + 1])) == NULL)
        usage();

    if ((pkey = load_key(uri, propq)) == NULL) {
        fprintf(stderr, "jwt-sign: no private key at %s\n", uri);
        goto err;
    }
    if (!key_fits(pkey, alg)) {
        fprintf(stderr, "jwt-sign: %s needs another kind of key than %s\n",
                alg->name, uri);
        goto err;
    }
    input = signing_input(alg, kid, argc - first == 3 ? argv[first + 2] : NULL);
    if (input == NULL)
        goto err;
    if (!sign(pkey, alg, propq, input, &sig, &siglen)) {
        fprintf(stderr, "jwt-sign: signing with %s failed\n", uri);
        goto err;
    }
    if ((s64 = base64url(sig, siglen)) == NULL)
        goto err;
    printf("%s.%s\n", input, s64);
    status = 0;

err:
    if (status != 0)
        ERR_print_errors_fp(stderr);
    free(input);
    free(s64);
    OPENSSL_free(sig);
    EVP_PKEY_free(pkey);
    return status;
}
