/*
 * Reading Vault's Transit answers: the key document (every version's public
 * key), "vault:vN:<base64>" signatures and the verify answer. Anything that
 * is not the expected JSON is an unexpected response, never a crash.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const key_type_names[] = {
    [VC_KEY_ECDSA_P256] = "ecdsa-p256", [VC_KEY_ECDSA_P384] = "ecdsa-p384",
    [VC_KEY_ECDSA_P521] = "ecdsa-p521", [VC_KEY_ED25519] = "ed25519",
    [VC_KEY_RSA_2048] = "rsa-2048",     [VC_KEY_RSA_3072] = "rsa-3072",
    [VC_KEY_RSA_4096] = "rsa-4096",
};

#define N_KEY_TYPES (sizeof(key_type_names) / sizeof(key_type_names[0]))

vc_key_type vc_key_type_from_name(const char *name)
{
    size_t i;

    for (i = 1; name != NULL && i < N_KEY_TYPES; i++) {
        if (strcmp(name, key_type_names[i]) == 0)
            return (vc_key_type)i;
    }
    return VC_KEY_UNKNOWN;
}

const char *vc_key_type_name(vc_key_type type)
{
    if (type <= VC_KEY_UNKNOWN || (size_t)type >= N_KEY_TYPES)
        return "unknown";
    return key_type_names[type];
}

/* A positive decimal integer that fits an int, with no sign or leading 0. */
static int parse_version(const char *s, size_t len, int *version)
{
    long v = 0;
    size_t i;

    if (len == 0 || len > 10 || s[0] == '0')
        return 0;
    for (i = 0; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (v > INT_MAX)
        return 0;
    *version = (int)v;
    return 1;
}

vc_status vc_transit_parse_signature(const char *text, int *version,
                                     unsigned char **raw, size_t *rawlen)
{
    const char *digits, *colon;

    *raw = NULL;
    *rawlen = 0;
    if (text == NULL || strncmp(text, "vault:v", 7) != 0)
        return VC_ERR_UNEXPECTED_RESPONSE;
    digits = text + 7;
    colon = strchr(digits, ':');
    if (colon == NULL ||
        !parse_version(digits, (size_t)(colon - digits), version))
        return VC_ERR_UNEXPECTED_RESPONSE;
    return vc_base64_decode(colon + 1, strlen(colon + 1), raw, rawlen);
}

static vc_status bad_answer(vc_error *err, const vc_op *op, const char *what)
{
    return vc_error_op(err, VC_ERR_UNEXPECTED_RESPONSE, op, op ? 200 : 0, what);
}

static void log_warnings(const cJSON *root, const vc_op *op)
{
    const cJSON *w,
        *warnings = cJSON_GetObjectItemCaseSensitive(root, "warnings");

    if (!cJSON_IsArray(warnings))
        return;
    cJSON_ArrayForEach(w, warnings)
    {
        if (cJSON_IsString(w))
            vc_log(VC_LOG_INFO, "%s mount=%s key=%s warning: %s",
                   op ? op->op : "response", op ? op->mount : "-",
                   op ? op->key : "-", w->valuestring);
    }
}

vc_status vc_parse_envelope(const char *body, size_t len, const vc_op *op,
                            cJSON **root, const cJSON **data, vc_error *err)
{
    *root = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        return bad_answer(err, op, "not a JSON object");
    }
    log_warnings(*root, op);
    if (data == NULL)
        return VC_OK;
    *data = cJSON_GetObjectItemCaseSensitive(*root, "data");
    if (cJSON_IsObject(*data))
        return VC_OK;
    cJSON_Delete(*root);
    *root = NULL;
    return bad_answer(err, op, "no \"data\" object");
}

/* An integral JSON number in int range; absent gives dflt (-1: required). */
static int get_int(const cJSON *obj, const char *name, int dflt, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    double d;

    if (v == NULL && dflt >= 0) {
        *out = dflt;
        return 1;
    }
    if (!cJSON_IsNumber(v))
        return 0;
    d = v->valuedouble;
    if (d < INT_MIN || d > INT_MAX || d != (double)(int)d)
        return 0;
    *out = (int)d;
    return 1;
}

/* A JSON boolean; absent gives 0. */
static int get_bool(const cJSON *obj, const char *name, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = cJSON_IsTrue(v);
    return v == NULL || cJSON_IsBool(v);
}

/* A string or null (giving NULL); absent also gives NULL. */
static int get_string(const cJSON *obj, const char *name, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsString(v))
        return 0;
    *out = strdup(v->valuestring);
    return *out != NULL;
}

void vc_transit_key_free(vc_transit_key *key)
{
    size_t i;

    if (key == NULL)
        return;
    for (i = 0; i < key->nversions; i++) {
        free(key->versions[i].public_key);
        free(key->versions[i].creation_time);
    }
    free(key->versions);
    free(key->name);
    free(key);
}

const vc_key_version *vc_transit_key_version(const vc_transit_key *key,
                                             int version)
{
    size_t i;

    if (key == NULL)
        return NULL;
    if (version == 0)
        version = key->latest_version;
    for (i = 0; i < key->nversions; i++) {
        if (key->versions[i].version == version)
            return &key->versions[i];
    }
    return NULL;
}

static int by_version(const void *a, const void *b)
{
    int va = ((const vc_key_version *)a)->version;
    int vb = ((const vc_key_version *)b)->version;

    return (va > vb) - (va < vb);
}

/*
 * One entry of data.keys. Signing keys map a version to an object with the
 * public key; other key types map it to a creation timestamp, kept with
 * no public key so the caller can tell the key apart and refuse it.
 */
static const char *parse_version_entry(const cJSON *entry, vc_key_type type,
                                       vc_key_version *kv)
{
    if (!parse_version(entry->string, strlen(entry->string), &kv->version))
        return "a key version is not a positive number";
    if (cJSON_IsNumber(entry) && type == VC_KEY_UNKNOWN)
        return NULL;
    if (!cJSON_IsObject(entry))
        return "a key version is not an object";
    if (!get_string(entry, "public_key", &kv->public_key) ||
        !get_string(entry, "creation_time", &kv->creation_time))
        return "a key version has a field of the wrong type";
    if (type != VC_KEY_UNKNOWN &&
        (kv->public_key == NULL || kv->public_key[0] == '\0'))
        return "a key version has no public key";
    return NULL;
}

static const char *parse_versions(const cJSON *keys, vc_transit_key *key)
{
    const cJSON *entry;
    const char *why;
    size_t i, n = (size_t)cJSON_GetArraySize(keys);

    if (!cJSON_IsObject(keys) || n == 0)
        return "no \"keys\" map of versions";
    key->versions = calloc(n, sizeof(*key->versions));
    if (key->versions == NULL)
        return "out of memory";
    cJSON_ArrayForEach(entry, keys)
    {
        why = parse_version_entry(entry, key->type,
                                  &key->versions[key->nversions++]);
        if (why != NULL)
            return why;
    }
    qsort(key->versions, n, sizeof(*key->versions), by_version);
    for (i = 1; i < n; i++) {
        if (key->versions[i].version == key->versions[i - 1].version)
            return "a key version appears twice";
    }
    return NULL;
}

static const char *parse_key_fields(const cJSON *data, vc_transit_key *key)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "type");

    if (!get_string(data, "name", &key->name) || key->name == NULL)
        return "no key name";
    if (!cJSON_IsString(type))
        return "no key type";
    key->type = vc_key_type_from_name(type->valuestring);
    if (!get_int(data, "latest_version", -1, &key->latest_version) ||
        key->latest_version < 1)
        return "no valid latest_version";
    if (!get_int(data, "min_available_version", 0,
                 &key->min_available_version) ||
        !get_int(data, "min_encryption_version", 0,
                 &key->min_encryption_version) ||
        !get_bool(data, "supports_signing", &key->supports_signing))
        return "a key field has the wrong type";
    return NULL;
}

vc_status vc_parse_key_doc(const char *body, size_t len, const vc_op *op,
                           vc_transit_key **out, vc_error *err)
{
    vc_transit_key *key = NULL;
    const cJSON *data;
    const char *why;
    cJSON *root;
    vc_status st;

    *out = NULL;
    st = vc_parse_envelope(body, len, op, &root, &data, err);
    if (st != VC_OK)
        return st;
    if ((key = calloc(1, sizeof(*key))) == NULL) {
        st = vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
        goto err;
    }
    why = parse_key_fields(data, key);
    if (why == NULL)
        why =
            parse_versions(cJSON_GetObjectItemCaseSensitive(data, "keys"), key);
    /* Vault never trims the latest version; a document that did is wrong. */
    if (why == NULL && key->type != VC_KEY_UNKNOWN &&
        vc_transit_key_version(key, 0) == NULL)
        why = "the latest version is not in the \"keys\" map";
    if (why != NULL) {
        st = bad_answer(err, op, why);
        goto err;
    }
    *out = key;
    key = NULL;

err:
    vc_transit_key_free(key);
    cJSON_Delete(root);
    return st;
}

vc_status vc_transit_parse_key(const char *body, size_t len,
                               vc_transit_key **out, vc_error *err)
{
    return vc_parse_key_doc(body, len, NULL, out, err);
}

vc_status vc_parse_sign_answer(const char *body, size_t len, const vc_op *op,
                               unsigned char **sig, size_t *siglen,
                               int *version, vc_error *err)
{
    const cJSON *data, *text;
    cJSON *root;
    int kv = 0;
    vc_status st;

    *sig = NULL;
    *siglen = 0;
    st = vc_parse_envelope(body, len, op, &root, &data, err);
    if (st != VC_OK)
        return st;
    text = cJSON_GetObjectItemCaseSensitive(data, "signature");
    if (!cJSON_IsString(text))
        st = bad_answer(err, op, "no signature");
    else if (vc_transit_parse_signature(text->valuestring, version, sig,
                                        siglen) != VC_OK)
        st = bad_answer(err, op, "signature is not vault:vN:<base64>");
    else if (!get_int(data, "key_version", *version, &kv) || kv != *version)
        st = bad_answer(err, op, "key_version disagrees with the signature");
    if (st != VC_OK) {
        free(*sig);
        *sig = NULL;
        *siglen = 0;
    }
    cJSON_Delete(root);
    return st;
}

vc_status vc_parse_verify_answer(const char *body, size_t len, const vc_op *op,
                                 int *valid, vc_error *err)
{
    const cJSON *data, *v;
    cJSON *root;
    vc_status st;

    st = vc_parse_envelope(body, len, op, &root, &data, err);
    if (st != VC_OK)
        return st;
    v = cJSON_GetObjectItemCaseSensitive(data, "valid");
    if (cJSON_IsBool(v))
        *valid = cJSON_IsTrue(v);
    else
        st = bad_answer(err, op, "no boolean \"valid\"");
    cJSON_Delete(root);
    return st;
}
