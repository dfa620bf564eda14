/*
 * Key management for EC and RSA keys: Vault-backed keys arrive from the
 * store by reference; other keys (imported, generated) are held locally in
 * the child library context. Nothing here touches the network.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "provider.h"

#define SELECT_PRIVATE OSSL_KEYMGMT_SELECT_PRIVATE_KEY
#define SELECT_PUBLIC  OSSL_KEYMGMT_SELECT_PUBLIC_KEY
#define SELECT_PARAMS  OSSL_KEYMGMT_SELECT_ALL_PARAMETERS

static void *ec_new(void *provctx)
{
    return vp_key_new(provctx, VP_KIND_EC);
}

static void *rsa_new(void *provctx)
{
    return vp_key_new(provctx, VP_KIND_RSA);
}

static void km_free(void *keydata)
{
    vp_key_free(keydata);
}

static void *load_kind(const void *ref, size_t ref_size, vp_key_kind kind)
{
    vp_key *key = vp_key_from_reference(ref, ref_size);

    if (key == NULL || key->kind != kind || !vp_key_up_ref(key))
        return NULL;
    return key;
}

static void *ec_load(const void *ref, size_t ref_size)
{
    return load_kind(ref, ref_size, VP_KIND_EC);
}

static void *rsa_load(const void *ref, size_t ref_size)
{
    return load_kind(ref, ref_size, VP_KIND_RSA);
}

static int km_has(const void *keydata, int selection)
{
    const vp_key *key = keydata;
    int ok = key != NULL;

    if (ok && (selection & SELECT_PRIVATE) != 0)
        ok = vp_key_can_sign(key);
    if (ok && (selection & SELECT_PUBLIC) != 0)
        ok = key->has_public;
    /* EC keys carry their group; RSA keys have no domain parameters. */
    if (ok && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) != 0 &&
        key->kind == VP_KIND_EC)
        ok = key->pub != NULL;
    return ok;
}

/*
 * The key material this provider holds is checked in the child context;
 * the private half of a Vault-backed key is Vault's to vouch for.
 */
static int km_validate(const void *keydata, int selection, int checktype)
{
    const vp_key *key = keydata;
    EVP_PKEY_CTX *pctx;
    int ok;

    if (!km_has(keydata, selection))
        return 0;
    if (!key->local_private)
        selection &= ~SELECT_PRIVATE;
    if (key->pub == NULL ||
        (selection & (SELECT_PRIVATE | SELECT_PUBLIC | SELECT_PARAMS)) == 0)
        return 1;
    pctx = EVP_PKEY_CTX_new_from_pkey(key->provctx->libctx, key->pub, NULL);
    if (pctx == NULL)
        return 0;
    if ((selection & SELECT_PRIVATE) != 0)
        ok = EVP_PKEY_check(pctx);
    else if ((selection & SELECT_PUBLIC) != 0)
        ok = checktype == OSSL_KEYMGMT_VALIDATE_QUICK_CHECK
                 ? EVP_PKEY_public_check_quick(pctx)
                 : EVP_PKEY_public_check(pctx);
    else
        ok = EVP_PKEY_param_check(pctx);
    EVP_PKEY_CTX_free(pctx);
    return ok > 0;
}

/* Answered from the public key alone: no request to Vault. */
static int km_get_params(void *keydata, OSSL_PARAM params[])
{
    vp_key *key = keydata;
    OSSL_PARAM *p;

    if (key->pub != NULL && !EVP_PKEY_get_params(key->pub, params))
        return 0;
    /* Sign through Vault with SHA-256 unless told otherwise. */
    p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST);
    if (p != NULL && !OSSL_PARAM_set_utf8_string(p, "SHA256"))
        return 0;
    return 1;
}

static const OSSL_PARAM ec_gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_X, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_EC_PUB_Y, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM rsa_gettable[] = {
    OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
    OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
    OSSL_PARAM_END};

static const OSSL_PARAM *ec_gettable_params(void *provctx)
{
    return ec_gettable;
}

static const OSSL_PARAM *rsa_gettable_params(void *provctx)
{
    return rsa_gettable;
}

/*
 * Settable on local keys only (TLS builds a peer's key from its encoded
 * point); the public key of a Vault-backed key is Vault's. The EVP_PKEY may
 * be shared with copies, so it is changed on a copy of its own.
 */
static int km_set_params(void *keydata, const OSSL_PARAM params[])
{
    vp_key *key = keydata;
    EVP_PKEY *pkey;

    if (params == NULL || params[0].key == NULL)
        return 1;
    if (key->has_private || key->pub == NULL)
        return 0;
    pkey = EVP_PKEY_dup(key->pub);
    if (pkey == NULL || !EVP_PKEY_set_params(pkey, (OSSL_PARAM *)params)) {
        EVP_PKEY_free(pkey);
        return 0;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pkey;
    if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY))
        key->has_public = 1;
    return 1;
}

/* The default provider's own table: static in it, valid while it is. */
static const OSSL_PARAM *backend_table(vp_provctx *provctx, vp_key_kind kind,
                                       int gen)
{
    const OSSL_PARAM *table = NULL;
    EVP_KEYMGMT *km;

    ERR_set_mark();
    km = EVP_KEYMGMT_fetch(provctx->libctx, vp_key_kind_name(kind), NULL);
    ERR_pop_to_mark();
    if (km != NULL)
        table = gen ? EVP_KEYMGMT_gen_settable_params(km)
                    : EVP_KEYMGMT_settable_params(km);
    EVP_KEYMGMT_free(km);
    return table;
}

static const OSSL_PARAM *ec_settable_params(void *provctx)
{
    return backend_table(provctx, VP_KIND_EC, 0);
}

static const OSSL_PARAM *rsa_settable_params(void *provctx)
{
    return backend_table(provctx, VP_KIND_RSA, 0);
}

/*
 * A Vault-backed key gives its public part only: OpenSSL asks for
 * everything when it moves a key to another provider, and a refusal is what
 * makes it keep the key here (and sign here) instead of signing elsewhere
 * with a public key. Local keys export whatever is asked.
 */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *cb,
                     void *cbarg)
{
    vp_key *key = keydata;

    if ((selection & SELECT_PRIVATE) != 0 && key->has_private) {
        VP_ERR(key->provctx, VP_R_PRIVATE_KEY_STAYS_IN_VAULT,
               "export mount=%s key=%s version=%d: only the public key can "
               "be exported",
               key->mount, key->name, key->version);
        return 0;
    }
    if (key->pub == NULL)
        return 0;
    if (!key->local_private)
        selection &= ~SELECT_PRIVATE;
    return EVP_PKEY_export(key->pub, selection, cb, cbarg);
}

/* A private component among the parameters. */
static int has_private_param(const vp_key *key, const OSSL_PARAM params[])
{
    if (key->kind == VP_KIND_EC)
        return OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY) !=
               NULL;
    return OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_RSA_D) != NULL;
}

static EVP_PKEY *key_from_params(vp_key *key, int what,
                                 const OSSL_PARAM params[])
{
    const char *kname = vp_key_kind_name(key->kind);
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pkey = NULL;

    pctx = EVP_PKEY_CTX_new_from_name(key->provctx->libctx, kname, NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
        EVP_PKEY_fromdata(pctx, &pkey, what, (OSSL_PARAM *)params) <= 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(pctx);
    return pkey;
}

/*
 * OpenSSL asks for "all" even when there is only a public key. Private
 * material makes a local key pair: this keymgmt may be the one OpenSSL
 * found first for keys that have nothing to do with Vault.
 */
static int km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
    vp_key *key = keydata;
    int priv, what;
    EVP_PKEY *pkey;

    if (key == NULL || key->has_private ||
        (selection & (SELECT_PUBLIC | SELECT_PARAMS)) == 0)
        return 0;
    priv = (selection & SELECT_PRIVATE) != 0 && has_private_param(key, params);
    what = priv                               ? EVP_PKEY_KEYPAIR
           : (selection & SELECT_PUBLIC) != 0 ? EVP_PKEY_PUBLIC_KEY
                                              : EVP_PKEY_KEY_PARAMETERS;
    pkey = key_from_params(key, what, params);
    if (pkey == NULL) {
        if (!vp_has_backend(key->provctx, vp_key_kind_name(key->kind)))
            VP_ERR(key->provctx, VP_R_NO_DEFAULT_PROVIDER,
                   "import %s key: " VP_NO_BACKEND_HINT,
                   vp_key_kind_name(key->kind));
        return 0;
    }
    EVP_PKEY_free(key->pub);
    key->pub = pkey;
    key->has_public = what != EVP_PKEY_KEY_PARAMETERS;
    key->local_private = priv;
    return 1;
}

static const OSSL_PARAM ec_types[] = {
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
    OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
    OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0), OSSL_PARAM_END};

static const OSSL_PARAM rsa_types[] = {
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
    OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0), OSSL_PARAM_END};

static const OSSL_PARAM *ec_io_types(int selection)
{
    return (selection & (SELECT_PUBLIC | SELECT_PARAMS)) != 0 ? ec_types : NULL;
}

static const OSSL_PARAM *rsa_io_types(int selection)
{
    return (selection & SELECT_PUBLIC) != 0 ? rsa_types : NULL;
}

/* Keys are the same when their public halves are. */
static int km_match(const void *keydata1, const void *keydata2, int selection)
{
    const vp_key *a = keydata1, *b = keydata2;

    if (a->pub == NULL || b->pub == NULL)
        return a->pub == b->pub;
    if ((selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0)
        return EVP_PKEY_eq(a->pub, b->pub) == 1;
    if ((selection & SELECT_PARAMS) != 0 && a->kind == VP_KIND_EC)
        return EVP_PKEY_parameters_eq(a->pub, b->pub) == 1;
    return 1;
}

static void *km_dup(const void *keydata, int selection)
{
    return vp_key_dup(keydata, (selection & SELECT_PRIVATE) != 0);
}

/* Key exchange is not ours: "ECDH" sends local keys to the default. */
static const char *ec_query_operation_name(int operation_id)
{
    switch (operation_id) {
    case OSSL_OP_SIGNATURE:
        return "ECDSA";
    case OSSL_OP_KEYEXCH:
        return "ECDH";
    default:
        return NULL;
    }
}

static const char *rsa_query_operation_name(int operation_id)
{
    return operation_id == OSSL_OP_SIGNATURE ? "RSA" : NULL;
}

/*
 * Generation makes local keys, in the child library context: OpenSSL asks
 * this keymgmt for ephemeral keys (TLS key exchange) when it comes first.
 * Keys in Vault are created through Vault, never here.
 */
typedef struct vp_genctx {
    vp_provctx *provctx;
    vp_key_kind kind;
    int selection;
    EVP_PKEY_CTX *pctx;
} vp_genctx;

static void gen_cleanup(void *vgen)
{
    vp_genctx *gen = vgen;

    if (gen == NULL)
        return;
    EVP_PKEY_CTX_free(gen->pctx);
    OPENSSL_free(gen);
}

static int gen_set_params(void *vgen, const OSSL_PARAM params[])
{
    vp_genctx *gen = vgen;

    if (params == NULL || params[0].key == NULL)
        return 1;
    return EVP_PKEY_CTX_set_params(gen->pctx, params) > 0;
}

/*
 * A template (the peer's key in TLS 1.2) gives the curve, as in the default
 * provider; RSA has nothing to take from one. Named curves only: the only
 * kind Transit and TLS use.
 */
static int gen_set_template(void *vgen, void *templ)
{
    vp_genctx *gen = vgen;
    vp_key *key = templ;
    char group[64];
    OSSL_PARAM params[2];

    if (key == NULL || key->kind != gen->kind)
        return 0;
    if (gen->kind == VP_KIND_RSA)
        return 1;
    if (key->pub == NULL ||
        !EVP_PKEY_get_utf8_string_param(key->pub, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), NULL))
        return 0;
    params[0] =
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
    params[1] = OSSL_PARAM_construct_end();
    return gen_set_params(gen, params);
}

static void *gen_init(vp_provctx *provctx, vp_key_kind kind, int selection,
                      const OSSL_PARAM params[])
{
    vp_genctx *gen = OPENSSL_zalloc(sizeof(*gen));
    const char *kname = vp_key_kind_name(kind);
    int keypair = (selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;

    if (gen == NULL)
        return NULL;
    gen->provctx = provctx;
    gen->kind = kind;
    gen->selection = selection;
    gen->pctx = EVP_PKEY_CTX_new_from_name(provctx->libctx, kname, NULL);
    if (gen->pctx == NULL ||
        (keypair ? EVP_PKEY_keygen_init(gen->pctx)
                 : EVP_PKEY_paramgen_init(gen->pctx)) <= 0 ||
        !gen_set_params(gen, params)) {
        if (!vp_has_backend(provctx, kname))
            VP_ERR(provctx, VP_R_NO_DEFAULT_PROVIDER,
                   "generate %s key: " VP_NO_BACKEND_HINT, kname);
        gen_cleanup(gen);
        return NULL;
    }
    return gen;
}

static void *ec_gen_init(void *provctx, int selection,
                         const OSSL_PARAM params[])
{
    return gen_init(provctx, VP_KIND_EC, selection, params);
}

static void *rsa_gen_init(void *provctx, int selection,
                          const OSSL_PARAM params[])
{
    return gen_init(provctx, VP_KIND_RSA, selection, params);
}

static const OSSL_PARAM *ec_gen_settable_params(void *vgen, void *provctx)
{
    return backend_table(provctx, VP_KIND_EC, 1);
}

static const OSSL_PARAM *rsa_gen_settable_params(void *vgen, void *provctx)
{
    return backend_table(provctx, VP_KIND_RSA, 1);
}

static void *km_gen(void *vgen, OSSL_CALLBACK *cb, void *cbarg)
{
    vp_genctx *gen = vgen;
    vp_key *key = vp_key_new(gen->provctx, gen->kind);

    if (key == NULL || EVP_PKEY_generate(gen->pctx, &key->pub) <= 0) {
        vp_key_free(key);
        return NULL;
    }
    key->has_public = (gen->selection & OSSL_KEYMGMT_SELECT_KEYPAIR) != 0;
    key->local_private = (gen->selection & SELECT_PRIVATE) != 0;
    return key;
}

/* The braces stay outside: clang-format 14 and 19 lay them out differently
 * inside a macro, and the format check runs with both. */
#define FN(id, fn) OSSL_FUNC_KEYMGMT_##id, (void (*)(void))(fn)

#define KEYMGMT_DISPATCH(kind)                                                 \
    static const OSSL_DISPATCH kind##_keymgmt_functions[] = {                  \
        {FN(NEW, kind##_new)},                                                 \
        {FN(FREE, km_free)},                                                   \
        {FN(LOAD, kind##_load)},                                               \
        {FN(HAS, km_has)},                                                     \
        {FN(VALIDATE, km_validate)},                                           \
        {FN(GET_PARAMS, km_get_params)},                                       \
        {FN(GETTABLE_PARAMS, kind##_gettable_params)},                         \
        {FN(SET_PARAMS, km_set_params)},                                       \
        {FN(SETTABLE_PARAMS, kind##_settable_params)},                         \
        {FN(EXPORT, km_export)},                                               \
        {FN(EXPORT_TYPES, kind##_io_types)},                                   \
        {FN(IMPORT, km_import)},                                               \
        {FN(IMPORT_TYPES, kind##_io_types)},                                   \
        {FN(MATCH, km_match)},                                                 \
        {FN(DUP, km_dup)},                                                     \
        {FN(QUERY_OPERATION_NAME, kind##_query_operation_name)},               \
        {FN(GEN_INIT, kind##_gen_init)},                                       \
        {FN(GEN_SET_PARAMS, gen_set_params)},                                  \
        {FN(GEN_SET_TEMPLATE, gen_set_template)},                              \
        {FN(GEN_SETTABLE_PARAMS, kind##_gen_settable_params)},                 \
        {FN(GEN, km_gen)},                                                     \
        {FN(GEN_CLEANUP, gen_cleanup)},                                        \
        {0, NULL}}

KEYMGMT_DISPATCH(ec);
KEYMGMT_DISPATCH(rsa);

/* Same names as the default provider's, so EVP_PKEY_is_a() holds. */
const OSSL_ALGORITHM vp_keymgmt_algs[] = {
    {"EC:id-ecPublicKey:1.2.840.10045.2.1", VP_PROPERTIES, ec_keymgmt_functions,
     "EC keys held in Vault Transit"},
    {"RSA:rsaEncryption:1.2.840.113549.1.1.1", VP_PROPERTIES,
     rsa_keymgmt_functions, "RSA keys held in Vault Transit"},
    {NULL, NULL, NULL, NULL}};
