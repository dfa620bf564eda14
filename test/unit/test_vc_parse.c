/*
 * Unit tests of the Transit answer parsing in vaultclient: key documents
 * (EC, RSA, ed25519, trimmed versions, broken fields), sign and verify
 * answers, "vault:vN:" signatures and base64.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "internal.h"

static char *read_data(const char *name, size_t *len)
{
    const char *dir = getenv("VP_TEST_DATA");
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    assert_non_null(dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The public_key of a version, read independently with cJSON. */
static char *expected_public_key(const char *body, const char *version)
{
    cJSON *root = cJSON_Parse(body);
    cJSON *data = cJSON_GetObjectItem(root, "data");
    cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(data, "keys"), version);
    char *pk = strdup(cJSON_GetObjectItem(v, "public_key")->valuestring);

    cJSON_Delete(root);
    return pk;
}

static EVP_PKEY *load_pem(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    BIO_free(bio);
    assert_non_null(pkey);
    return pkey;
}

static vc_transit_key *parse_file(const char *name, char **body)
{
    vc_transit_key *key = NULL;
    vc_error err;
    size_t len;

    *body = read_data(name, &len);
    assert_int_equal(vc_transit_parse_key(*body, len, &key, &err), VC_OK);
    assert_non_null(key);
    return key;
}

static void test_key_ecdsa(void **state)
{
    char *body, *pk1, *pk2;
    vc_transit_key *key = parse_file("key_ecdsa_p256.json", &body);
    EVP_PKEY *pkey;

    assert_string_equal(key->name, "signer");
    assert_int_equal(key->type, VC_KEY_ECDSA_P256);
    assert_int_equal(key->latest_version, 2);
    assert_int_equal(key->min_available_version, 0);
    assert_int_equal(key->supports_signing, 1);
    assert_int_equal(key->nversions, 2);
    /* The document lists "2" before "1": the array is sorted. */
    assert_int_equal(key->versions[0].version, 1);
    assert_int_equal(key->versions[1].version, 2);
    pk1 = expected_public_key(body, "1");
    pk2 = expected_public_key(body, "2");
    assert_string_equal(key->versions[0].public_key, pk1);
    assert_string_equal(key->versions[1].public_key, pk2);
    assert_string_not_equal(pk1, pk2);
    assert_string_equal(key->versions[1].creation_time,
                        "2025-03-02T10:00:00.123456789Z");
    pkey = load_pem(key->versions[1].public_key);
    assert_true(EVP_PKEY_is_a(pkey, "EC"));
    assert_int_equal(EVP_PKEY_get_bits(pkey), 256);
    EVP_PKEY_free(pkey);
    assert_ptr_equal(vc_transit_key_version(key, 0), &key->versions[1]);
    assert_ptr_equal(vc_transit_key_version(key, 1), &key->versions[0]);
    assert_null(vc_transit_key_version(key, 3));
    free(pk1);
    free(pk2);
    free(body);
    vc_transit_key_free(key);
}

static void test_key_rsa(void **state)
{
    char *body;
    vc_transit_key *key = parse_file("key_rsa_2048.json", &body);
    EVP_PKEY *pkey;

    assert_int_equal(key->type, VC_KEY_RSA_2048);
    assert_string_equal(key->name, "rsa-signer");
    assert_int_equal(key->nversions, 1);
    pkey = load_pem(vc_transit_key_version(key, 0)->public_key);
    assert_true(EVP_PKEY_is_a(pkey, "RSA"));
    assert_int_equal(EVP_PKEY_get_bits(pkey), 2048);
    EVP_PKEY_free(pkey);
    free(body);
    vc_transit_key_free(key);
}

static void test_key_ed25519(void **state)
{
    char *body;
    vc_transit_key *key = parse_file("key_ed25519.json", &body);
    const vc_key_version *v = vc_transit_key_version(key, 1);
    unsigned char *raw;
    size_t rawlen;

    assert_int_equal(key->type, VC_KEY_ED25519);
    assert_non_null(v);
    /* Raw base64, not PEM, kept as text. */
    assert_null(strstr(v->public_key, "BEGIN"));
    assert_int_equal(strlen(v->public_key), 44);
    assert_int_equal(
        vc_base64_decode(v->public_key, strlen(v->public_key), &raw, &rawlen),
        VC_OK);
    assert_int_equal(rawlen, 32);
    free(raw);
    free(body);
    vc_transit_key_free(key);
}

static void test_key_trimmed(void **state)
{
    char *body;
    vc_transit_key *key = parse_file("key_ecdsa_p384_trimmed.json", &body);

    assert_int_equal(key->type, VC_KEY_ECDSA_P384);
    assert_int_equal(key->latest_version, 12);
    assert_int_equal(key->min_available_version, 3);
    assert_int_equal(key->nversions, 3);
    assert_int_equal(key->versions[0].version, 3);
    assert_int_equal(key->versions[1].version, 4);
    assert_int_equal(key->versions[2].version, 12);
    assert_null(vc_transit_key_version(key, 1));
    assert_null(vc_transit_key_version(key, 2));
    assert_null(vc_transit_key_version(key, 5));
    assert_int_equal(vc_transit_key_version(key, 0)->version, 12);
    free(body);
    vc_transit_key_free(key);
}

/* An encryption key parses (versions without public keys); the caller
 * refuses it by its type. */
static void test_key_not_signing(void **state)
{
    char *body;
    vc_transit_key *key = parse_file("key_aes256.json", &body);

    assert_int_equal(key->type, VC_KEY_UNKNOWN);
    assert_int_equal(key->supports_signing, 0);
    assert_int_equal(key->nversions, 1);
    assert_null(key->versions[0].public_key);
    free(body);
    vc_transit_key_free(key);
}

#define PK "\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----\\n\""

static const char *const bad_keys[] = {
    "",
    "not json",
    "[]",
    "{\"data\": null}",
    "{\"data\": \"x\"}",
    /* no keys map */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1}}",
    /* keys map empty */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {}}}",
    /* latest_version a string */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": \"1\", \"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* latest_version missing */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* latest_version fractional */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1.5, \"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* name missing */
    "{\"data\": {\"type\": \"ecdsa-p256\", \"latest_version\": 1, "
    "\"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* type a number */
    "{\"data\": {\"name\": \"k\", \"type\": 7, \"latest_version\": 1, "
    "\"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* public_key a number */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"1\": {\"public_key\": 5}}}}",
    /* public_key missing for a signing key */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"1\": {\"name\": \"P-256\"}}}}",
    /* version entry a string */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"1\": \"x\"}}}",
    /* version entry a number for a signing key */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"1\": 1700000000}}}",
    /* version names that are not positive numbers */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"0\": {\"public_key\": " PK "}}}}",
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"v1\": {\"public_key\": " PK "}}}}",
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"99999999999\": "
    "{\"public_key\": " PK "}}}}",
    /* the same version twice */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"keys\": {\"1\": {\"public_key\": " PK "}, "
    "\"1\": {\"public_key\": " PK "}}}}",
    /* latest version absent from the map */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 2, \"keys\": {\"1\": {\"public_key\": " PK "}}}}",
    /* supports_signing a string */
    "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p256\", "
    "\"latest_version\": 1, \"supports_signing\": \"yes\", "
    "\"keys\": {\"1\": {\"public_key\": " PK "}}}}",
};

static void test_key_bad_documents(void **state)
{
    size_t i;

    for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++) {
        vc_transit_key *key = (vc_transit_key *)1;
        vc_error err = {0};

        print_message("bad key document %zu\n", i);
        assert_int_equal(
            vc_transit_parse_key(bad_keys[i], strlen(bad_keys[i]), &key, &err),
            VC_ERR_UNEXPECTED_RESPONSE);
        assert_null(key);
        assert_int_equal(err.status, VC_ERR_UNEXPECTED_RESPONSE);
        assert_true(strncmp(err.message,
                            "vault transit: unexpected response: ", 36) == 0);
    }
}

/* The smallest document that works: optional fields may be absent,
 * unknown ones are ignored. */
static void test_key_minimal_and_unknown_fields(void **state)
{
    const char *body =
        "{\"data\": {\"name\": \"k\", \"type\": \"ecdsa-p521\", "
        "\"latest_version\": 1, \"future_field\": [1, 2], "
        "\"keys\": {\"1\": {\"public_key\": " PK ", \"extra\": {}}}}, "
        "\"warnings\": [\"something\"]}";
    vc_transit_key *key = NULL;

    assert_int_equal(vc_transit_parse_key(body, strlen(body), &key, NULL),
                     VC_OK);
    assert_int_equal(key->type, VC_KEY_ECDSA_P521);
    assert_int_equal(key->min_available_version, 0);
    assert_int_equal(key->supports_signing, 0);
    assert_null(key->versions[0].creation_time);
    vc_transit_key_free(key);
}

static void test_key_type_names(void **state)
{
    static const char *const names[] = {
        "ecdsa-p256", "ecdsa-p384", "ecdsa-p521", "ed25519",
        "rsa-2048",   "rsa-3072",   "rsa-4096"};
    size_t i;

    for (i = 0; i < 7; i++) {
        vc_key_type t = vc_key_type_from_name(names[i]);

        assert_int_not_equal(t, VC_KEY_UNKNOWN);
        assert_string_equal(vc_key_type_name(t), names[i]);
    }
    assert_int_equal(vc_key_type_from_name("aes256-gcm96"), VC_KEY_UNKNOWN);
    assert_int_equal(vc_key_type_from_name("ECDSA-P256"), VC_KEY_UNKNOWN);
    assert_int_equal(vc_key_type_from_name(NULL), VC_KEY_UNKNOWN);
    assert_string_equal(vc_key_type_name(VC_KEY_UNKNOWN), "unknown");
    assert_string_equal(vc_key_type_name((vc_key_type)99), "unknown");
}

static void test_signature_versions(void **state)
{
    unsigned char *raw;
    size_t rawlen;
    int version = 0;

    assert_int_equal(
        vc_transit_parse_signature("vault:v1:AQID", &version, &raw, &rawlen),
        VC_OK);
    assert_int_equal(version, 1);
    assert_int_equal(rawlen, 3);
    assert_memory_equal(raw, "\x01\x02\x03", 3);
    free(raw);

    assert_int_equal(
        vc_transit_parse_signature("vault:v12:/+8=", &version, &raw, &rawlen),
        VC_OK);
    assert_int_equal(version, 12);
    assert_int_equal(rawlen, 2);
    assert_memory_equal(raw, "\xff\xef", 2);
    free(raw);

    assert_int_equal(vc_transit_parse_signature(
                         "vault:v2147483647:AA==", &version, &raw, &rawlen),
                     VC_OK);
    assert_int_equal(version, 2147483647);
    assert_int_equal(rawlen, 1);
    free(raw);
}

static void test_signature_rejected(void **state)
{
    static const char *const bad[] = {
        "vault:v0:AQID",
        "vault:vX:AQID",
        "vault:v:AQID",
        "vault:v1",
        "vault:v1:",
        "vault:v01:AQID",
        "vault:v-1:AQID",
        "vault:v+1:AQID",
        "vault:v2147483648:AQID",
        "vault:AQID",
        "vault:v1:AQI",
        "vault:v1:AQI!",
        "vault:v1:AQ-_",
        "vault:v1:AQ==AQID",
        "vault:v1:AQ=D",
        "vault:v1:AQID\n",
        "vault:v1: AQID",
        "Vault:v1:AQID",
        "v1:AQID",
        "",
        "vault:v1:AR==",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        unsigned char *raw = (unsigned char *)1;
        size_t rawlen = 9;
        int version = 0;

        print_message("signature %s\n", bad[i]);
        assert_int_equal(
            vc_transit_parse_signature(bad[i], &version, &raw, &rawlen),
            VC_ERR_UNEXPECTED_RESPONSE);
        assert_null(raw);
        assert_int_equal(rawlen, 0);
    }
    assert_int_equal(vc_transit_parse_signature(
                         NULL, NULL, &(unsigned char *){NULL}, &(size_t){0}),
                     VC_ERR_UNEXPECTED_RESPONSE);
}

static void test_base64_round_trip(void **state)
{
    unsigned char in[256], *out;
    size_t n, outlen;
    char *text;

    for (n = 0; n < sizeof(in); n++)
        in[n] = (unsigned char)(n * 7 + 3);
    for (n = 1; n <= sizeof(in); n += 37) {
        text = vc_base64_encode(in, n);
        assert_non_null(text);
        assert_int_equal(strlen(text), (n + 2) / 3 * 4);
        assert_int_equal(vc_base64_decode(text, strlen(text), &out, &outlen),
                         VC_OK);
        assert_int_equal(outlen, n);
        assert_memory_equal(out, in, n);
        free(out);
        free(text);
    }
    text = vc_base64_encode((const unsigned char *)"hello", 5);
    assert_string_equal(text, "aGVsbG8=");
    free(text);
    text = vc_base64_encode((const unsigned char *)"", 0);
    assert_string_equal(text, "");
    free(text);
}

static void test_sign_answer(void **state)
{
    const char *ok = "{\"data\": {\"signature\": \"vault:v3:MEUCIQ==\", "
                     "\"key_version\": 3}, \"warnings\": null}\n";
    const char *no_kv = "{\"data\": {\"signature\": \"vault:v7:AQID\"}}";
    const char *mismatch =
        "{\"data\": {\"signature\": \"vault:v3:AQID\", \"key_version\": 4}}";
    const char *bad_sig = "{\"data\": {\"signature\": \"vault:v0:AQID\"}}";
    const char *no_sig = "{\"data\": {\"key_version\": 3}}";
    const char *num_sig = "{\"data\": {\"signature\": 3}}";
    vc_op op = {"sign", "transit", "k", "http://127.0.0.1:8200"};
    unsigned char *sig;
    size_t siglen;
    int version;
    vc_error err;

    assert_int_equal(vc_parse_sign_answer(ok, strlen(ok), &op, &sig, &siglen,
                                          &version, &err),
                     VC_OK);
    assert_int_equal(version, 3);
    assert_int_equal(siglen, 4);
    assert_memory_equal(sig, "\x30\x45\x02\x21", 4);
    free(sig);
    assert_int_equal(vc_parse_sign_answer(no_kv, strlen(no_kv), &op, &sig,
                                          &siglen, &version, &err),
                     VC_OK);
    assert_int_equal(version, 7);
    free(sig);

    assert_int_equal(vc_parse_sign_answer(mismatch, strlen(mismatch), &op, &sig,
                                          &siglen, &version, &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    assert_null(sig);
    assert_int_equal(vc_parse_sign_answer(bad_sig, strlen(bad_sig), &op, &sig,
                                          &siglen, &version, &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    assert_string_equal(err.message,
                        "vault transit: unexpected response: sign "
                        "mount=transit key=k address=http://127.0.0.1:8200 "
                        "status=200: signature is not vault:vN:<base64>");
    assert_int_equal(vc_parse_sign_answer(no_sig, strlen(no_sig), &op, &sig,
                                          &siglen, &version, &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    assert_int_equal(vc_parse_sign_answer(num_sig, strlen(num_sig), &op, &sig,
                                          &siglen, &version, &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    assert_int_equal(
        vc_parse_sign_answer("<html>", 6, &op, &sig, &siglen, &version, &err),
        VC_ERR_UNEXPECTED_RESPONSE);
    assert_string_equal(err.message,
                        "vault transit: unexpected response: sign "
                        "mount=transit key=k address=http://127.0.0.1:8200 "
                        "status=200: not a JSON object");
}

static void test_verify_answer(void **state)
{
    const char *yes = "{\"data\": {\"valid\": true}}";
    const char *no = "{\"data\": {\"valid\": false}}";
    const char *str = "{\"data\": {\"valid\": \"true\"}}";
    int valid = -1;

    assert_int_equal(
        vc_parse_verify_answer(yes, strlen(yes), NULL, &valid, NULL), VC_OK);
    assert_int_equal(valid, 1);
    assert_int_equal(vc_parse_verify_answer(no, strlen(no), NULL, &valid, NULL),
                     VC_OK);
    assert_int_equal(valid, 0);
    assert_int_equal(
        vc_parse_verify_answer(str, strlen(str), NULL, &valid, NULL),
        VC_ERR_UNEXPECTED_RESPONSE);
    assert_int_equal(vc_parse_verify_answer("{}", 2, NULL, &valid, NULL),
                     VC_ERR_UNEXPECTED_RESPONSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_ecdsa),
        cmocka_unit_test(test_key_rsa),
        cmocka_unit_test(test_key_ed25519),
        cmocka_unit_test(test_key_trimmed),
        cmocka_unit_test(test_key_not_signing),
        cmocka_unit_test(test_key_bad_documents),
        cmocka_unit_test(test_key_minimal_and_unknown_fields),
        cmocka_unit_test(test_key_type_names),
        cmocka_unit_test(test_signature_versions),
        cmocka_unit_test(test_signature_rejected),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_sign_answer),
        cmocka_unit_test(test_verify_answer),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
