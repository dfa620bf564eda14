/*
 * vaultclient against the Transit test server: every key type signed and
 * verified locally, one connection for 100 signatures, rotation, missing
 * keys, denied and rotated tokens, faults (stall, garbage, sealed) and TLS
 * (CA file, CA directory, server name, skip-verify, client certificates,
 * the TLS library context).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "sim.h"
#include "vaultsim_proc.h"

#define ROOT_TOKEN "hvs.sim-root-token-for-client-tests"

/* mtls requires a client certificate signed by client_ca_file. */
static vaultsim plain, tls, mtls;
static char workdir[] = "/tmp/vc-sim-XXXXXX";
/* The servers' certificate, which is its own CA. */
static char cert_file[128], key_file[128];
static char client_ca_file[128], client_cert_file[128], client_key_file[128];
/* ca_dir holds cert_file under its hash name, other_ca_dir client_ca_file. */
static char ca_dir[128], other_ca_dir[128];

typedef enum sim_kind { SIM_PLAIN, SIM_TLS, SIM_MTLS } sim_kind;

/* The control calls share one kept connection: they add none to the
 * connection counts the tests check. */
static int sim_start(vaultsim *s, const char *name, sim_kind kind)
{
    char port_file[160];
    vaultsim_opts o = {.root_token = ROOT_TOKEN, .keep_alive = 1};

    snprintf(port_file, sizeof(port_file), "%s/%s.port", workdir, name);
    o.port_file = port_file;
    if (kind != SIM_PLAIN) {
        o.tls_cert = cert_file;
        o.tls_key = key_file;
    }
    if (kind == SIM_MTLS) {
        o.tls_client_ca = client_ca_file;
        o.client_cert = client_cert_file;
        o.client_key = client_key_file;
    }
    return vaultsim_start(s, &o) ? 0 : -1;
}

static void sim_fault(vaultsim *s, const char *mode)
{
    if (!vaultsim_fault(s, mode))
        fail_msg("fault %s at %s failed", mode, s->address);
}

static void sim_reset(vaultsim *s)
{
    if (!vaultsim_reset(s))
        fail_msg("reset at %s failed", s->address);
}

/* connections, and the request count of one path ("transit/sign/ec"). */
static void sim_stats(vaultsim *s, const char *path, int *connections,
                      int *requests)
{
    cJSON *stats = vaultsim_stats(s);
    long c = 0, r = 0;

    if (stats == NULL)
        fail_msg("stats at %s failed", s->address);
    assert_true(vaultsim_counter(stats, NULL, "connections", &c));
    *connections = (int)c;
    *requests = vaultsim_counter(stats, "requests", path, &r) ? (int)r : 0;
    cJSON_Delete(stats);
}

typedef struct client_opts {
    const char *token;
    const char *token_file;
    long timeout_ms;
    const char *ca_cert;
    const char *ca_path;
    const char *client_cert;
    const char *client_key;
    const char *server_name;
    int skip_verify;
} client_opts;

static char *dup_or_null(const char *text)
{
    return text != NULL ? strdup(text) : NULL;
}

static vc_client *sim_client(const vaultsim *s, const client_opts *o)
{
    static const client_opts defaults = {0};
    vc_config cfg;
    vc_client *c = NULL;
    vc_error err;

    if (o == NULL)
        o = &defaults;
    vc_config_init(&cfg);
    cfg.address = strdup(s->address);
    if (o->token_file == NULL)
        cfg.token = strdup(o->token ? o->token : ROOT_TOKEN);
    cfg.token_file = dup_or_null(o->token_file);
    if (o->timeout_ms > 0)
        cfg.timeout_ms = o->timeout_ms;
    cfg.ca_cert = dup_or_null(o->ca_cert);
    cfg.ca_path = dup_or_null(o->ca_path);
    cfg.client_cert = dup_or_null(o->client_cert);
    cfg.client_key = dup_or_null(o->client_key);
    cfg.tls_server_name = dup_or_null(o->server_name);
    cfg.skip_verify = o->skip_verify;
    if (vc_client_new(&cfg, &c, &err) != VC_OK)
        fail_msg("client: %s", err.message);
    vc_config_clear(&cfg);
    return c;
}

/* A /v1/ call for setup (mounts, policies, tokens); returns the answer. */
static cJSON *sim_api(vc_client *c, const char *method, const char *path,
                      const char *body)
{
    vc_op op = {"setup", "-", path, "-"};
    /* Setup calls (a token create among them) are not sent twice. */
    vc_request req = {method, path, body, 0};
    vc_response resp;
    vc_error err;
    cJSON *json;

    if (vc_http_send(c, &op, &req, &resp, &err) != VC_OK)
        fail_msg("%s %s: %s", method, path, err.message);
    json = resp.len ? cJSON_Parse(resp.body) : cJSON_CreateObject();
    vc_response_clear(&resp);
    assert_non_null(json);
    return json;
}

typedef struct cert_ext {
    int nid;
    const char *value;
} cert_ext;

/*
 * A certificate for cn and pkey, signed by issuer and issuer_key or, when
 * issuer is NULL, self-signed; exts ends with {NID_undef, NULL}.
 */
static X509 *make_cert(const char *cn, EVP_PKEY *pkey, X509 *issuer,
                       EVP_PKEY *issuer_key, const cert_ext *exts)
{
    static long serial = 1;
    X509 *x = X509_new();
    X509_NAME *name = X509_get_subject_name(x);
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok = pkey != NULL && x != NULL;

    ok = ok && X509_set_version(x, X509_VERSION_3);
    ok = ok && ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
    ok = ok && X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    ok = ok && X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                          (const unsigned char *)cn, -1, -1, 0);
    ok = ok &&
         X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    ok = ok && X509_set_pubkey(x, pkey);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    for (; ok && exts->value != NULL; exts++) {
        ext = X509V3_EXT_conf_nid(NULL, &ctx, exts->nid, exts->value);
        ok = ext != NULL && X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    ok = ok && X509_sign(x, issuer ? issuer_key : pkey, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* Writes x (unless NULL) and pkey (unless NULL) as PEM; 1 on success. */
static int write_pem(const char *path, X509 *x, EVP_PKEY *pkey)
{
    FILE *f = fopen(path, "w");
    int ok = f != NULL;

    if (ok && x != NULL)
        ok = PEM_write_X509(f, x);
    if (ok && pkey != NULL)
        ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    return ok;
}

/*
 * The servers' self-signed certificate for "vault.test" (not for
 * 127.0.0.1), which clients trust as their CA; a CA for client
 * certificates, and a client certificate it signed.
 */
static int make_certificates(void)
{
    static const cert_ext server_exts[] = {
        {NID_subject_alt_name, "DNS:vault.test"},
        {NID_basic_constraints, "CA:TRUE"},
        {NID_undef, NULL}};
    static const cert_ext ca_exts[] = {
        {NID_basic_constraints, "critical,CA:TRUE"}, {NID_undef, NULL}};
    static const cert_ext client_exts[] = {{NID_basic_constraints, "CA:FALSE"},
                                           {NID_ext_key_usage, "clientAuth"},
                                           {NID_undef, NULL}};
    EVP_PKEY *server_key = EVP_EC_gen("P-256"), *ca_key = EVP_EC_gen("P-256");
    EVP_PKEY *client_key = EVP_EC_gen("P-256");
    X509 *server, *ca, *client;
    int ok;

    server = make_cert("vault.test", server_key, NULL, NULL, server_exts);
    ca = make_cert("vaultclient test client CA", ca_key, NULL, NULL, ca_exts);
    client = make_cert("vaultclient test client", client_key, ca, ca_key,
                       client_exts);
    ok = server != NULL && ca != NULL && client != NULL;
    ok = ok && write_pem(cert_file, server, NULL) &&
         write_pem(key_file, NULL, server_key);
    ok = ok && write_pem(client_ca_file, ca, NULL);
    ok = ok && write_pem(client_cert_file, client, NULL) &&
         write_pem(client_key_file, NULL, client_key);
    X509_free(server);
    X509_free(ca);
    X509_free(client);
    EVP_PKEY_free(server_key);
    EVP_PKEY_free(ca_key);
    EVP_PKEY_free(client_key);
    return ok ? 0 : -1;
}

/*
 * A directory for ca_path holding the CA certificate in ca_file under the
 * name `openssl rehash` gives it (subject hash, ".0"), as a symbolic link.
 */
static int make_ca_dir(const char *dir, const char *ca_file)
{
    char link[256];
    X509 *x = NULL;
    FILE *f = fopen(ca_file, "r");
    int ok = f != NULL && (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL;

    if (f != NULL)
        fclose(f);
    ok = ok && mkdir(dir, 0700) == 0;
    ok = ok && snprintf(link, sizeof(link), "%s/%08lx.0", dir,
                        X509_subject_name_hash(x)) < (int)sizeof(link);
    ok = ok && symlink(ca_file, link) == 0;
    X509_free(x);
    return ok ? 0 : -1;
}

/* Mounts transit and creates the ECDSA key "ec"; returns the client. */
static vc_client *sim_transit_ec(vaultsim *s, const client_opts *o)
{
    vc_client *c = sim_client(s, o);

    cJSON_Delete(
        sim_api(c, "POST", "sys/mounts/transit", "{\"type\":\"transit\"}"));
    assert_int_equal(vc_transit_create(c, NULL, "ec", "ecdsa-p256", NULL),
                     VC_OK);
    return c;
}

static void workdir_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", workdir, name);
}

static int sim_up(void **state)
{
    client_opts with_cert = {.skip_verify = 1,
                             .client_cert = client_cert_file,
                             .client_key = client_key_file};
    vc_client *c;

    if (mkdtemp(workdir) == NULL)
        return -1;
    workdir_path(cert_file, sizeof(cert_file), "cert.pem");
    workdir_path(key_file, sizeof(key_file), "key.pem");
    workdir_path(client_ca_file, sizeof(client_ca_file), "client-ca.pem");
    workdir_path(client_cert_file, sizeof(client_cert_file), "client.pem");
    workdir_path(client_key_file, sizeof(client_key_file), "client.key");
    workdir_path(ca_dir, sizeof(ca_dir), "ca-dir");
    workdir_path(other_ca_dir, sizeof(other_ca_dir), "other-ca-dir");
    if (make_certificates() != 0 || make_ca_dir(ca_dir, cert_file) != 0 ||
        make_ca_dir(other_ca_dir, client_ca_file) != 0 ||
        sim_start(&plain, "plain", SIM_PLAIN) != 0 ||
        sim_start(&tls, "tls", SIM_TLS) != 0 ||
        sim_start(&mtls, "mtls", SIM_MTLS) != 0)
        return -1;
    c = sim_transit_ec(&plain, NULL);
    assert_int_equal(vc_transit_create(c, NULL, "rsa", "rsa-2048", NULL),
                     VC_OK);
    assert_int_equal(vc_transit_create(c, NULL, "ed", "ed25519", NULL), VC_OK);
    vc_client_free(c);
    vc_client_free(sim_transit_ec(&tls, &(client_opts){.skip_verify = 1}));
    vc_client_free(sim_transit_ec(&mtls, &with_cert));
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type,
                        struct FTW *ftw)
{
    return remove(path);
}

static int sim_down(void **state)
{
    vaultsim_stop(&plain);
    vaultsim_stop(&tls);
    vaultsim_stop(&mtls);
    /* Depth first, and symbolic links are removed, never followed. */
    nftw(workdir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

static EVP_PKEY *public_key(const vc_transit_key *key, int version)
{
    const vc_key_version *v = vc_transit_key_version(key, version);
    EVP_PKEY *pkey;
    BIO *bio;

    assert_non_null(v);
    if (key->type == VC_KEY_ED25519) {
        unsigned char *raw;
        size_t len;

        assert_int_equal(
            vc_base64_decode(v->public_key, strlen(v->public_key), &raw, &len),
            VC_OK);
        pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
        free(raw);
    } else {
        bio = BIO_new_mem_buf(v->public_key, -1);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
    }
    assert_non_null(pkey);
    return pkey;
}

/* Checks sig over digest (or over msg for ed25519) with OpenSSL. */
static int verify_locally(EVP_PKEY *pkey, const vc_sign_params *p,
                          const unsigned char *msg, size_t msglen,
                          const unsigned char *sig, size_t siglen)
{
    unsigned char digest[32];
    EVP_PKEY_CTX *ctx;
    EVP_MD_CTX *md;
    int ok;

    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        md = EVP_MD_CTX_new();
        ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1 &&
             EVP_DigestVerify(md, sig, siglen, msg, msglen) == 1;
        EVP_MD_CTX_free(md);
        return ok;
    }
    SHA256(msg, msglen, digest);
    ctx = EVP_PKEY_CTX_new(pkey, NULL);
    ok = EVP_PKEY_verify_init(ctx) == 1 &&
         EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1;
    if (ok && p->signature_algorithm != NULL &&
        strcmp(p->signature_algorithm, "pss") == 0)
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) == 1;
    else if (ok && EVP_PKEY_is_a(pkey, "RSA"))
        ok = EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1;
    ok = ok && EVP_PKEY_verify(ctx, sig, siglen, digest, sizeof(digest)) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* Signs msg with key name (hashing it first unless ed25519), checks the
 * signature locally against the version's public key and through Vault. */
static void sign_and_check(vc_client *c, const char *name,
                           const vc_sign_params *p, int expect_version)
{
    static const unsigned char msg[] = "message signed through Transit";
    unsigned char digest[32], *sig = NULL;
    const unsigned char *input = msg;
    size_t inlen = sizeof(msg) - 1, siglen = 0;
    vc_transit_key *key = NULL;
    int version = 0, valid = -1;
    EVP_PKEY *pkey;
    vc_error err;

    if (p->prehashed) {
        SHA256(msg, sizeof(msg) - 1, digest);
        input = digest;
        inlen = sizeof(digest);
    }
    if (vc_transit_sign(c, NULL, name, p, input, inlen, &sig, &siglen, &version,
                        &err) != VC_OK)
        fail_msg("sign %s: %s", name, err.message);
    assert_int_equal(version, expect_version);
    assert_int_equal(vc_transit_read_key(c, NULL, name, &key, &err), VC_OK);
    pkey = public_key(key, version);
    assert_true(verify_locally(pkey, p, msg, sizeof(msg) - 1, sig, siglen));
    assert_int_equal(vc_transit_verify(c, NULL, name, p, input, inlen, sig,
                                       siglen, version, &valid, &err),
                     VC_OK);
    assert_int_equal(valid, 1);
    sig[siglen / 2] ^= 0x01;
    assert_false(verify_locally(pkey, p, msg, sizeof(msg) - 1, sig, siglen));
    assert_int_equal(vc_transit_verify(c, NULL, name, p, input, inlen, sig,
                                       siglen, version, &valid, &err),
                     VC_OK);
    assert_int_equal(valid, 0);
    EVP_PKEY_free(pkey);
    vc_transit_key_free(key);
    free(sig);
}

static void test_sim_every_key_type(void **state)
{
    vc_sign_params ecdsa = {"sha2-256", 1, NULL, NULL, 0};
    vc_sign_params pkcs1 = {"sha2-256", 1, "pkcs1v15", NULL, 0};
    vc_sign_params pss = {"sha2-256", 1, "pss", "hash", 0};
    vc_sign_params ed = {NULL, 0, NULL, NULL, 0};
    vc_client *c = sim_client(&plain, NULL);
    vc_transit_key *key = NULL;

    sign_and_check(c, "rsa", &pkcs1, 1);
    sign_and_check(c, "rsa", &pss, 1);
    sign_and_check(c, "ed", &ed, 1);
    sign_and_check(c, "ec", &ecdsa, 1);
    assert_int_equal(vc_transit_read_key(c, NULL, "ed", &key, NULL), VC_OK);
    assert_int_equal(key->type, VC_KEY_ED25519);
    assert_int_equal(key->supports_signing, 1);
    vc_transit_key_free(key);
    vc_client_free(c);
}

static void test_sim_hundred_signatures_one_connection(void **state)
{
    static const unsigned char digest[32] = {9};
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = sim_client(&plain, NULL);
    int i, connections, signs, version;
    unsigned char *sig;
    size_t siglen;

    sim_reset(&plain);
    for (i = 0; i < 100; i++) {
        assert_int_equal(vc_transit_sign(c, NULL, "ec", &p, digest,
                                         sizeof(digest), &sig, &siglen,
                                         &version, NULL),
                         VC_OK);
        free(sig);
    }
    sim_stats(&plain, "transit/sign/ec", &connections, &signs);
    assert_int_equal(signs, 100);
    assert_int_equal(connections, 1);
    assert_int_equal(vc_client_connections_opened(c), 1);
    vc_client_free(c);
}

static void *sign_25(void *arg)
{
    static const unsigned char digest[32] = {7};
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    unsigned char *sig;
    size_t siglen;
    int i, version;
    intptr_t failures = 0;

    for (i = 0; i < 25; i++) {
        if (vc_transit_sign(arg, NULL, "ec", &p, digest, sizeof(digest), &sig,
                            &siglen, &version, NULL) != VC_OK)
            failures++;
        else
            free(sig);
    }
    return (void *)failures;
}

static void test_sim_threads(void **state)
{
    vc_client *c = sim_client(&plain, NULL);
    int i, connections, signs;
    pthread_t t[4];
    void *failures;

    sim_reset(&plain);
    for (i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, sign_25, c), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], &failures);
        assert_int_equal((intptr_t)failures, 0);
    }
    sim_stats(&plain, "transit/sign/ec", &connections, &signs);
    print_message("4 threads x 25 signatures: %d connections\n", connections);
    assert_int_equal(signs, 100);
    assert_in_range(connections, 1, 4);
    vc_client_free(c);
}

static void test_sim_rotation(void **state)
{
    vc_sign_params latest = {"sha2-256", 1, NULL, NULL, 0};
    vc_sign_params first = {"sha2-256", 1, NULL, NULL, 1};
    vc_client *c = sim_client(&plain, NULL);
    vc_transit_key *key = NULL;

    assert_int_equal(vc_transit_create(c, NULL, "rot", "ecdsa-p384", NULL),
                     VC_OK);
    assert_int_equal(vc_transit_rotate(c, NULL, "rot", NULL), VC_OK);
    assert_int_equal(vc_transit_rotate(c, NULL, "rot", NULL), VC_OK);
    assert_int_equal(vc_transit_read_key(c, NULL, "rot", &key, NULL), VC_OK);
    assert_int_equal(key->type, VC_KEY_ECDSA_P384);
    assert_int_equal(key->latest_version, 3);
    assert_int_equal(key->nversions, 3);
    assert_int_equal(key->versions[2].version, 3);
    assert_string_not_equal(key->versions[0].public_key,
                            key->versions[2].public_key);
    vc_transit_key_free(key);
    sign_and_check(c, "rot", &latest, 3);
    sign_and_check(c, "rot", &first, 1);
    vc_client_free(c);
}

static void test_sim_missing_key_and_mount(void **state)
{
    static const unsigned char digest[32] = {1};
    vc_sign_params p = {"sha2-256", 1, NULL, NULL, 0};
    vc_client *c = sim_client(&plain, NULL);
    vc_transit_key *key = NULL;
    unsigned char *sig;
    size_t siglen;
    int version;
    vc_error err;

    assert_int_equal(vc_transit_read_key(c, NULL, "nokey", &key, &err),
                     VC_ERR_KEY_NOT_FOUND);
    assert_int_equal(err.http_status, 404);
    assert_int_equal(vc_transit_sign(c, NULL, "nokey", &p, digest,
                                     sizeof(digest), &sig, &siglen, &version,
                                     &err),
                     VC_ERR_KEY_NOT_FOUND);
    assert_non_null(strstr(err.message, "vault transit: key not found: sign "
                                        "mount=transit key=nokey"));
    assert_int_equal(vc_transit_read_key(c, "nomount", "ec", &key, &err),
                     VC_ERR_KEY_NOT_FOUND);
    assert_int_equal(vc_transit_rotate(c, NULL, "nokey", &err),
                     VC_ERR_KEY_NOT_FOUND);
    vc_client_free(c);
}

static void write_file(const char *path, const char *text)
{
    char tmp[256];
    FILE *f;

    /* As Vault Agent does: a new file renamed over the old one. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_sim_denied_and_rotated_token(void **state)
{
    static const char policy[] =
        "{\"policy\":\"path \\\"transit/keys/ec\\\" { capabilities = "
        "[\\\"read\\\"] }\"}";
    char token_file[160];
    vc_client *root = sim_client(&plain, NULL), *c;
    vc_transit_key *key = NULL;
    const cJSON *tok;
    cJSON *answer;
    vc_error err;
    char *limited;

    cJSON_Delete(sim_api(root, "POST", "sys/policies/acl/read-ec", policy));
    answer = sim_api(root, "POST", "auth/token/create",
                     "{\"policies\":[\"read-ec\"]}");
    tok = cJSON_GetObjectItem(cJSON_GetObjectItem(answer, "auth"),
                              "client_token");
    assert_true(cJSON_IsString(tok));
    limited = strdup(tok->valuestring);
    cJSON_Delete(answer);

    snprintf(token_file, sizeof(token_file), "%s/agent-token", workdir);
    write_file(token_file, limited);
    c = sim_client(&plain, &(client_opts){.token_file = token_file});
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err), VC_OK);
    vc_transit_key_free(key);
    assert_int_equal(vc_transit_rotate(c, NULL, "ec", &err),
                     VC_ERR_PERMISSION_DENIED);
    assert_int_equal(err.http_status, 403);
    assert_non_null(strstr(err.message, "vault transit: permission denied: "
                                        "rotate mount=transit key=ec"));
    assert_null(strstr(err.message, limited));

    /* A revoked or unknown token. */
    write_file(token_file, "hvs.not-a-token\n");
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err),
                     VC_ERR_PERMISSION_DENIED);
    assert_null(strstr(err.message, "hvs.not-a-token"));

    /* Agent writes a fresh token: the same client picks it up. */
    write_file(token_file, ROOT_TOKEN "\n");
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err), VC_OK);
    vc_transit_key_free(key);
    vc_client_free(c);
    vc_client_free(root);
    free(limited);
    unlink(token_file);
}

static void test_sim_faults(void **state)
{
    vc_client *c = sim_client(&plain, &(client_opts){.timeout_ms = 1000});
    vc_transit_key *key = NULL;
    long long t0;
    vc_error err;

    sim_fault(&plain, "garbage");
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err),
                     VC_ERR_UNEXPECTED_RESPONSE);
    assert_non_null(strstr(err.message, "status=200"));
    sim_fault(&plain, "sealed");
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err),
                     VC_ERR_SEALED);
    assert_non_null(strstr(err.message, "status=503: Vault is sealed"));
    sim_fault(&plain, "stall");
    t0 = vc_now_ms();
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err),
                     VC_ERR_TIMEOUT);
    print_message("stalled server: timeout after %lld ms (timeout 1000 ms)\n",
                  vc_now_ms() - t0);
    sim_fault(&plain, "none");
    assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err), VC_OK);
    assert_null(strstr(err.message, ROOT_TOKEN));
    vc_transit_key_free(key);
    vc_client_free(c);
}

static vc_status tls_read(vaultsim *s, const client_opts *o,
                          OSSL_LIB_CTX *libctx, vc_error *err)
{
    vc_client *c = sim_client(s, o);
    vc_transit_key *key = NULL;
    vc_status st;

    vc_client_set_tls_libctx(c, libctx);
    st = vc_transit_read_key(c, NULL, "ec", &key, err);
    vc_transit_key_free(key);
    vc_client_free(c);
    return st;
}

static void test_sim_tls(void **state)
{
    client_opts trusted = {.ca_cert = cert_file, .server_name = "vault.test"};
    client_opts no_name = {.ca_cert = cert_file};
    client_opts no_ca = {.server_name = "vault.test"};
    client_opts skip = {.skip_verify = 1};
    vc_error err;

    ERR_clear_error();
    assert_int_equal(tls_read(&tls, &trusted, NULL, &err), VC_OK);
    /* The certificate names vault.test, not 127.0.0.1. */
    assert_int_equal(tls_read(&tls, &no_name, NULL, &err), VC_ERR_TLS_VERIFY);
    assert_non_null(strstr(err.message, "vault transit: TLS verification "
                                        "failed: read mount=transit key=ec"));
    assert_int_equal(tls_read(&tls, &no_ca, NULL, &err), VC_ERR_TLS_VERIFY);
    assert_int_equal(tls_read(&tls, &skip, NULL, &err), VC_OK);
    /* A failed handshake reports through vc_error alone: libcurl's OpenSSL
     * errors must not stay behind on the caller's error queue. */
    assert_int_equal(ERR_peek_error(), 0);
}

/* ca_path alone, without ca_cert: a directory holding the server's CA under
 * its hash name is enough, one holding only another CA is not. */
static void test_sim_tls_ca_path(void **state)
{
    client_opts hashed = {.ca_path = ca_dir, .server_name = "vault.test"};
    client_opts other = {.ca_path = other_ca_dir, .server_name = "vault.test"};
    vc_error err;

    ERR_clear_error();
    assert_int_equal(tls_read(&tls, &hashed, NULL, &err), VC_OK);
    assert_int_equal(tls_read(&tls, &other, NULL, &err), VC_ERR_TLS_VERIFY);
    assert_non_null(strstr(err.message, "vault transit: TLS verification "
                                        "failed: read mount=transit key=ec"));
    assert_int_equal(ERR_peek_error(), 0);
}

/*
 * A server that requires client certificates: a client presenting one its
 * CA signed gets through. One presenting none fails after the handshake
 * (TLS 1.3 tells the client with an alert, once it has sent its request),
 * and the message must say that a certificate was required.
 */
static void test_sim_tls_client_certificate(void **state)
{
    client_opts with_cert = {.ca_cert = cert_file,
                             .server_name = "vault.test",
                             .client_cert = client_cert_file,
                             .client_key = client_key_file};
    client_opts no_cert = {.ca_cert = cert_file, .server_name = "vault.test"};
    int connections, reads;
    vc_error err;

    ERR_clear_error();
    assert_int_equal(tls_read(&mtls, &with_cert, NULL, &err), VC_OK);
    sim_reset(&mtls);
    assert_int_equal(tls_read(&mtls, &no_cert, NULL, &err), VC_ERR_TLS_VERIFY);
    print_message("without a client certificate: %s\n", err.message);
    assert_non_null(strstr(err.message, "vault transit: TLS verification "
                                        "failed: read mount=transit key=ec"));
    assert_non_null(strstr(err.message, "set client_cert and client_key"));
    assert_non_null(strstr(err.message, "certificate required"));
    assert_int_equal(ERR_peek_error(), 0);
    sim_stats(&mtls, "transit/keys/ec", &connections, &reads);
    assert_int_equal(reads, 0);
    /* A refused certificate is refused again: one handshake, no retry.
     * The control requests share one kept-alive connection opened before
     * the reset, so they add none. */
    assert_int_equal(connections, 1);
}

/* One TLS connection serves every request of a client: the handshake is
 * not repeated per request. */
static void test_sim_tls_one_connection(void **state)
{
    client_opts trusted = {.ca_cert = cert_file, .server_name = "vault.test"};
    vc_client *c = sim_client(&tls, &trusted);
    vc_transit_key *key = NULL;
    int i, connections, reads;
    vc_error err;

    sim_reset(&tls);
    for (i = 0; i < 20; i++) {
        assert_int_equal(vc_transit_read_key(c, NULL, "ec", &key, &err), VC_OK);
        vc_transit_key_free(key);
    }
    sim_stats(&tls, "transit/keys/ec", &connections, &reads);
    assert_int_equal(reads, 20);
    assert_int_equal(connections, 1);
    assert_int_equal(vc_client_connections_opened(c), 1);
    vc_client_free(c);
}

/* TLS runs in the context given: with only the base provider there is no
 * cipher to run it with, with the default provider it works. */
static void test_sim_tls_libctx(void **state)
{
    client_opts trusted = {.ca_cert = cert_file, .server_name = "vault.test"};
    OSSL_LIB_CTX *bare = OSSL_LIB_CTX_new(), *full = OSSL_LIB_CTX_new();
    OSSL_PROVIDER *base = OSSL_PROVIDER_load(bare, "base");
    OSSL_PROVIDER *dflt = OSSL_PROVIDER_load(full, "default");
    OSSL_LIB_CTX *before = OSSL_LIB_CTX_get0_global_default();
    vc_error err;

    assert_non_null(base);
    assert_non_null(dflt);
    assert_int_not_equal(tls_read(&tls, &trusted, bare, &err), VC_OK);
    print_message("TLS in a context without algorithms: %s\n", err.message);
    assert_int_equal(tls_read(&tls, &trusted, full, &err), VC_OK);
    /* The thread's default is restored after each exchange. */
    assert_ptr_equal(OSSL_LIB_CTX_set0_default(NULL), before);
    OSSL_PROVIDER_unload(base);
    OSSL_PROVIDER_unload(dflt);
    OSSL_LIB_CTX_free(bare);
    OSSL_LIB_CTX_free(full);
}

int sim_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_every_key_type),
        cmocka_unit_test(test_sim_hundred_signatures_one_connection),
        cmocka_unit_test(test_sim_threads),
        cmocka_unit_test(test_sim_rotation),
        cmocka_unit_test(test_sim_missing_key_and_mount),
        cmocka_unit_test(test_sim_denied_and_rotated_token),
        cmocka_unit_test(test_sim_faults),
        cmocka_unit_test(test_sim_tls),
        cmocka_unit_test(test_sim_tls_ca_path),
        cmocka_unit_test(test_sim_tls_client_certificate),
        cmocka_unit_test(test_sim_tls_one_connection),
        cmocka_unit_test(test_sim_tls_libctx),
    };

    return cmocka_run_group_tests_name("vaultsim", tests, sim_up, sim_down);
}
