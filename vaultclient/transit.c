/*
 * The Transit calls: read a key, sign, verify, rotate and create. Each
 * builds its path and JSON body, sends one request through the pool and
 * reads the answer; each logs one line (never the body or the token).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Appends each non-empty segment of a slash-separated path, escaped and
 * joined by single slashes; returns how many, or -1 for a "." or "..".
 */
static int add_segments(vc_strbuf *sb, const char *path)
{
    const char *p = path, *end;
    int n = 0;

    for (; *p != '\0'; p = end + (*end == '/')) {
        size_t len;

        end = strchr(p, '/');
        if (end == NULL)
            end = p + strlen(p);
        len = (size_t)(end - p);
        if (len == 0)
            continue;
        /* curl would fold "." and ".." into a different path. */
        if (len <= 2 && strncmp(p, "..", len) == 0)
            return -1;
        if (n > 0)
            vc_sb_adds(sb, "/");
        vc_sb_add_escaped(sb, p, len);
        n++;
    }
    return n;
}

vc_status vc_transit_path(const char *mount, const char *action,
                          const char *name, const char *suffix, char **path,
                          vc_error *err)
{
    vc_strbuf sb = {0};

    *path = NULL;
    if (add_segments(&sb, mount) <= 0) {
        vc_sb_free(&sb);
        return vc_error_set(err, VC_ERR_CONFIG, 0, "mount %s is not valid",
                            mount);
    }
    vc_sb_adds(&sb, "/");
    vc_sb_adds(&sb, action);
    vc_sb_adds(&sb, "/");
    vc_sb_add_escaped(&sb, name, strlen(name));
    if (suffix != NULL) {
        vc_sb_adds(&sb, "/");
        vc_sb_adds(&sb, suffix);
    }
    if ((*path = vc_sb_take(&sb)) == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    return VC_OK;
}

/* Fills op from the client and arguments; checks the key name. */
static vc_status op_init(vc_op *op, vc_client *c, const char *what,
                         const char *mount, const char *name, vc_error *err)
{
    op->op = what;
    op->mount = mount != NULL && *mount != '\0' ? mount : c->mount;
    op->key = name != NULL && *name != '\0' ? name : c->cfg.key_name;
    op->address = c->cfg.address;
    if (op->key == NULL || op->key[0] == '\0' || strcmp(op->key, ".") == 0 ||
        strcmp(op->key, "..") == 0)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0, "no valid key name");
    return VC_OK;
}

/*
 * Signing, verifying, reading and creating (an existing key answers 200 and
 * a warning) come out the same when sent twice; rotating does not.
 */
static int repeatable(const vc_op *op)
{
    return strcmp(op->op, "rotate") != 0;
}

/* Sends method on {mount}/{action}/{name}[/suffix] with body. */
static vc_status call(vc_client *c, const vc_op *op, const char *method,
                      const char *action, const char *suffix, const char *body,
                      vc_response *resp, vc_error *err)
{
    vc_request req = {method, NULL, body, repeatable(op)};
    char *path = NULL;
    vc_error local;
    vc_status st;

    /* The failure is logged even when the caller does not want it. */
    if (err == NULL)
        err = &local;
    memset(resp, 0, sizeof(*resp));
    st = vc_transit_path(op->mount, action, op->key, suffix, &path, err);
    if (st != VC_OK)
        return st;
    req.path = path;
    st = vc_http_send(c, op, &req, resp, err);
    free(path);
    if (st != VC_OK)
        vc_log(VC_LOG_INFO, "%s", err->message);
    return st;
}

static void log_done(const vc_op *op, int version, const vc_response *resp)
{
    char v[32] = "";

    if (version > 0)
        snprintf(v, sizeof(v), " version=%d", version);
    vc_log(VC_LOG_INFO, "%s mount=%s key=%s%s status=%ld ms=%.1f", op->op,
           op->mount, op->key, v, resp->status, resp->ms);
}

vc_status vc_transit_read_key(vc_client *c, const char *mount, const char *name,
                              vc_transit_key **out, vc_error *err)
{
    vc_response resp;
    vc_op op;
    vc_status st;

    *out = NULL;
    st = op_init(&op, c, "read", mount, name, err);
    if (st == VC_OK)
        st = call(c, &op, "GET", "keys", NULL, NULL, &resp, err);
    if (st != VC_OK)
        return st;
    st = vc_parse_key_doc(resp.body, resp.len, &op, out, err);
    if (st == VC_OK)
        log_done(&op, (*out)->latest_version, &resp);
    vc_response_clear(&resp);
    return st;
}

/* The fields sign and verify share; NULL strings and zero flags left out. */
static int add_sign_params(cJSON *o, const vc_sign_params *p,
                           const unsigned char *input, size_t inlen)
{
    char *b64 = vc_base64_encode(input, inlen);
    int ok = b64 != NULL && cJSON_AddStringToObject(o, "input", b64) != NULL;

    free(b64);
    if (p->hash_algorithm != NULL)
        ok = ok && cJSON_AddStringToObject(o, "hash_algorithm",
                                           p->hash_algorithm) != NULL;
    if (p->prehashed)
        ok = ok && cJSON_AddTrueToObject(o, "prehashed") != NULL;
    if (p->signature_algorithm != NULL)
        ok = ok && cJSON_AddStringToObject(o, "signature_algorithm",
                                           p->signature_algorithm) != NULL;
    if (p->salt_length != NULL)
        ok = ok &&
             cJSON_AddStringToObject(o, "salt_length", p->salt_length) != NULL;
    ok =
        ok && cJSON_AddNumberToObject(o, "key_version", p->key_version) != NULL;
    /* DER for ECDSA, which is what OpenSSL hands back to its callers. */
    ok = ok &&
         cJSON_AddStringToObject(o, "marshaling_algorithm", "asn1") != NULL;
    return ok;
}

/* The JSON body of sign (signature NULL) or verify. */
static char *sign_body(const vc_sign_params *p, const unsigned char *input,
                       size_t inlen, const char *signature)
{
    static const vc_sign_params none = {0};
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;
    int ok;

    ok = o != NULL && add_sign_params(o, p ? p : &none, input, inlen);
    if (ok && signature != NULL)
        ok = cJSON_AddStringToObject(o, "signature", signature) != NULL;
    if (ok)
        body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return body;
}

static vc_status check_params(const vc_op *op, const vc_sign_params *p,
                              const unsigned char *input, vc_error *err)
{
    if (input == NULL)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0, "no input");
    if (p != NULL && p->key_version < 0)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0, "negative key version");
    return VC_OK;
}

vc_status vc_transit_sign(vc_client *c, const char *mount, const char *name,
                          const vc_sign_params *params,
                          const unsigned char *input, size_t inlen,
                          unsigned char **sig, size_t *siglen, int *version,
                          vc_error *err)
{
    vc_response resp = {0};
    char *body = NULL;
    vc_op op;
    vc_status st;

    *sig = NULL;
    *siglen = 0;
    st = op_init(&op, c, "sign", mount, name, err);
    if (st == VC_OK)
        st = check_params(&op, params, input, err);
    if (st == VC_OK && (body = sign_body(params, input, inlen, NULL)) == NULL)
        st = vc_error_op(err, VC_ERR_NO_MEMORY, &op, 0, NULL);
    if (st == VC_OK)
        st = call(c, &op, "POST", "sign", NULL, body, &resp, err);
    if (st == VC_OK)
        st = vc_parse_sign_answer(resp.body, resp.len, &op, sig, siglen,
                                  version, err);
    if (st == VC_OK)
        log_done(&op, *version, &resp);
    cJSON_free(body);
    vc_response_clear(&resp);
    return st;
}

/* "vault:vN:<base64>" for a raw signature. */
static char *signature_text(const unsigned char *sig, size_t siglen,
                            int version)
{
    char *b64 = vc_base64_encode(sig, siglen), prefix[32];
    vc_strbuf sb = {0};

    if (b64 == NULL)
        return NULL;
    snprintf(prefix, sizeof(prefix), "vault:v%d:", version);
    vc_sb_adds(&sb, prefix);
    vc_sb_adds(&sb, b64);
    free(b64);
    return vc_sb_take(&sb);
}

static vc_status verify_body(const vc_op *op, const vc_sign_params *params,
                             const unsigned char *input, size_t inlen,
                             const unsigned char *sig, size_t siglen,
                             int version, char **body, vc_error *err)
{
    char *text;

    if (version < 1 && params != NULL)
        version = params->key_version;
    if (version < 1)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0,
                           "verify needs the signature's key version");
    if (sig == NULL || siglen == 0)
        return vc_error_op(err, VC_ERR_CONFIG, op, 0, "no signature");
    if ((text = signature_text(sig, siglen, version)) == NULL)
        return vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
    *body = sign_body(params, input, inlen, text);
    free(text);
    return *body ? VC_OK : vc_error_op(err, VC_ERR_NO_MEMORY, op, 0, NULL);
}

vc_status vc_transit_verify(vc_client *c, const char *mount, const char *name,
                            const vc_sign_params *params,
                            const unsigned char *input, size_t inlen,
                            const unsigned char *sig, size_t siglen,
                            int version, int *valid, vc_error *err)
{
    vc_response resp = {0};
    char *body = NULL;
    vc_op op;
    vc_status st;

    *valid = 0;
    st = op_init(&op, c, "verify", mount, name, err);
    if (st == VC_OK)
        st = check_params(&op, params, input, err);
    if (st == VC_OK)
        st = verify_body(&op, params, input, inlen, sig, siglen, version, &body,
                         err);
    if (st == VC_OK)
        st = call(c, &op, "POST", "verify", NULL, body, &resp, err);
    if (st == VC_OK)
        st = vc_parse_verify_answer(resp.body, resp.len, &op, valid, err);
    if (st == VC_OK)
        log_done(&op, version, &resp);
    cJSON_free(body);
    vc_response_clear(&resp);
    return st;
}

/* Create and rotate answer 204 (older Vault) or 200 with the key. */
static vc_status key_change(vc_client *c, const vc_op *op, const char *suffix,
                            const char *body, vc_error *err)
{
    vc_response resp;
    cJSON *root = NULL;
    vc_status st;

    st = call(c, op, "POST", "keys", suffix, body, &resp, err);
    if (st != VC_OK)
        return st;
    if (resp.status != 204 && resp.len > 0)
        st = vc_parse_envelope(resp.body, resp.len, op, &root, NULL, err);
    if (st == VC_OK)
        log_done(op, 0, &resp);
    cJSON_Delete(root);
    vc_response_clear(&resp);
    return st;
}

vc_status vc_transit_rotate(vc_client *c, const char *mount, const char *name,
                            vc_error *err)
{
    vc_op op;
    vc_status st;

    st = op_init(&op, c, "rotate", mount, name, err);
    return st == VC_OK ? key_change(c, &op, "rotate", NULL, err) : st;
}

vc_status vc_transit_create(vc_client *c, const char *mount, const char *name,
                            const char *type, vc_error *err)
{
    cJSON *o = cJSON_CreateObject();
    char *body = NULL;
    vc_op op;
    vc_status st;

    st = op_init(&op, c, "create", mount, name, err);
    if (st == VC_OK && (type == NULL || *type == '\0'))
        st = vc_error_op(err, VC_ERR_CONFIG, &op, 0, "no key type");
    if (st == VC_OK &&
        (o == NULL || cJSON_AddStringToObject(o, "type", type) == NULL ||
         (body = cJSON_PrintUnformatted(o)) == NULL))
        st = vc_error_op(err, VC_ERR_NO_MEMORY, &op, 0, NULL);
    if (st == VC_OK)
        st = key_change(c, &op, NULL, body, err);
    cJSON_free(body);
    cJSON_Delete(o);
    return st;
}
