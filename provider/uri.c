/*
 * Turns a "vault:" URI into the mount, key name and version it names, and
 * refuses every other form with a message that quotes the URI.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "uri.h"

#define VP_URI_FORMS "vault:NAME, vault:NAME?version=N or vault:MOUNT/NAME"
#define VP_KEY_NAME_RULE                                                       \
    "letters, digits, '_', '.' and '-', starting and ending with a letter, "   \
    "digit or '_'"

static int is_word(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_';
}

int vp_uri_key_name_ok(const char *name)
{
    size_t i, len = name == NULL ? 0 : strlen(name);

    if (len == 0 || !is_word(name[0]) || !is_word(name[len - 1]))
        return 0;
    for (i = 1; i + 1 < len; i++)
        if (!is_word(name[i]) && name[i] != '.' && name[i] != '-')
            return 0;
    return 1;
}

/* "." and ".." would let a URI walk out of the mount into other paths. */
static int mount_segment_ok(const char *seg, size_t len)
{
    size_t i;

    if (len == 0 || (len == 1 && seg[0] == '.') ||
        (len == 2 && seg[0] == '.' && seg[1] == '.'))
        return 0;
    for (i = 0; i < len; i++)
        if (!is_word(seg[i]) && seg[i] != '-' && seg[i] != '.' && seg[i] != '~')
            return 0;
    return 1;
}

int vp_uri_mount_ok(const char *mount)
{
    const char *seg = mount, *slash;
    size_t len;

    if (mount == NULL)
        return 0;
    for (;;) {
        slash = strchr(seg, '/');
        len = slash == NULL ? strlen(seg) : (size_t)(slash - seg);
        if (!mount_segment_ok(seg, len))
            return 0;
        if (slash == NULL)
            return 1;
        seg = slash + 1;
    }
}

/* Copies text for a message: other bytes than printable ASCII become '?'
 * (a URI may carry anything), and a long text is cut with "...". */
static void printable(char *dst, size_t size, const char *src)
{
    size_t i, n = 0;
    unsigned char c;

    for (i = 0; src[i] != '\0' && n + 4 < size; i++) {
        c = (unsigned char)src[i];
        dst[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (src[i] != '\0') {
        memcpy(dst + n, "...", 3);
        n += 3;
    }
    dst[n] = '\0';
}

static vc_status uri_error(vc_error *err, const char *uri, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static vc_status uri_error(vc_error *err, const char *uri, const char *fmt, ...)
{
    char shown[200], detail[300];
    va_list ap;

    printable(shown, sizeof(shown), uri);
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return vc_error_set(err, VC_ERR_CONFIG, 0, "URI \"%s\": %s", shown, detail);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Why an escape cannot stand, or NULL. An escaped '/' would make a name
 * that Transit cannot address, and a NUL would cut the name short. */
static const char *bad_escape(int hi, int lo)
{
    if (hi < 0 || lo < 0)
        return "a malformed percent-escape (use %XX with two hex digits)";
    if (hi * 16 + lo == 0)
        return "an escaped NUL (%00)";
    if (hi * 16 + lo == '/')
        return "an escaped '/' (%2F); separate mount segments with a plain '/'";
    return NULL;
}

static vc_status decode(const char *uri, const char *text, size_t len,
                        const char *what, char **out, vc_error *err)
{
    char *buf = OPENSSL_malloc(len + 1);
    const char *why;
    size_t i, n = 0;
    int hi, lo;

    if (buf == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "decoding a URI");
    for (i = 0; i < len; i++) {
        if (text[i] != '%') {
            buf[n++] = text[i];
            continue;
        }
        hi = i + 2 < len ? hex_value(text[i + 1]) : -1;
        lo = i + 2 < len ? hex_value(text[i + 2]) : -1;
        why = bad_escape(hi, lo);
        if (why != NULL) {
            OPENSSL_free(buf);
            return uri_error(err, uri, "%s holds %s", what, why);
        }
        buf[n++] = (char)(hi * 16 + lo);
        i += 2;
    }
    buf[n] = '\0';
    *out = buf;
    return VC_OK;
}

static vc_status append_mount_segment(const char *uri, char *mount,
                                      size_t *mlen, const char *seg,
                                      vc_error *err)
{
    char shown[64];
    size_t len = strlen(seg);

    if (!mount_segment_ok(seg, len)) {
        printable(shown, sizeof(shown), seg);
        return uri_error(err, uri,
                         "mount segment \"%s\" is not allowed (\".\" and "
                         "\"..\" are refused; letters, digits, '-', '.', "
                         "'_' and '~' only)",
                         shown);
    }
    if (*mlen > 0)
        mount[(*mlen)++] = '/';
    memcpy(mount + *mlen, seg, len + 1);
    *mlen += len;
    return VC_OK;
}

/* "a/b/k": the last segment is the key, the others make up the mount. */
static vc_status parse_path(const char *uri, const char *path, size_t len,
                            vp_uri *out, vc_error *err)
{
    const char *end = path + len, *seg = path, *slash;
    char *mount = OPENSSL_zalloc(len + 1), *dec = NULL;
    size_t mlen = 0;
    vc_status rc = VC_OK;

    if (mount == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "parsing a URI");
    for (; rc == VC_OK; seg = slash + 1) {
        slash = memchr(seg, '/', (size_t)(end - seg));
        if ((slash == NULL ? end : slash) == seg) {
            rc = uri_error(err, uri,
                           "empty path segment (a leading, trailing or "
                           "double '/'); use " VP_URI_FORMS);
            goto err;
        }
        rc = decode(uri, seg, (size_t)((slash == NULL ? end : slash) - seg),
                    slash == NULL ? "the key name" : "the mount", &dec, err);
        if (rc != VC_OK || slash == NULL)
            break;
        rc = append_mount_segment(uri, mount, &mlen, dec, err);
        OPENSSL_free(dec);
        dec = NULL;
    }
    if (rc != VC_OK)
        goto err;

    out->name = dec;
    if (mlen > 0) {
        out->mount = mount;
        mount = NULL;
    }
err:
    OPENSSL_free(mount);
    return rc;
}

static vc_status parse_version(const char *uri, const char *text, int *version,
                               vc_error *err)
{
    char shown[64];
    long long value = 0;
    size_t i;

    if (strcmp(text, "latest") == 0) {
        *version = 0;
        return VC_OK;
    }
    for (i = 0; text[i] >= '0' && text[i] <= '9' && value <= INT_MAX; i++)
        value = value * 10 + (text[i] - '0');
    printable(shown, sizeof(shown), text);
    if (i == 0 || text[i] != '\0' || value > INT_MAX)
        return uri_error(err, uri,
                         "version \"%s\" is not a positive whole number or "
                         "\"latest\"",
                         shown);
    if (value == 0)
        return uri_error(err, uri,
                         "version 0 does not exist (versions start at 1; "
                         "leave version out for the latest)");
    *version = (int)value;
    return VC_OK;
}

static vc_status parse_param(const char *uri, const char *param, size_t len,
                             int *seen, int *version, vc_error *err)
{
    const char *eq = memchr(param, '=', len);
    size_t nlen = eq == NULL ? len : (size_t)(eq - param);
    char *name = NULL, *value = NULL, shown[64];
    vc_status rc;

    if (len == 0)
        return uri_error(err, uri, "empty query parameter");
    rc = decode(uri, param, nlen, "a query parameter", &name, err);
    if (rc != VC_OK)
        goto err;

    printable(shown, sizeof(shown), name);
    if (strcmp(name, "version") != 0)
        rc = uri_error(err, uri,
                       "unknown query parameter \"%s\" (only version=N is "
                       "accepted)",
                       shown);
    else if (*seen)
        rc = uri_error(err, uri, "version is given more than once");
    else if (eq == NULL || nlen + 1 == len)
        rc = uri_error(err, uri, "version needs a value (version=N)");
    else
        rc = decode(uri, eq + 1, len - nlen - 1, "the version", &value, err);
    if (rc == VC_OK)
        rc = parse_version(uri, value, version, err);
    *seen = 1;

err:
    OPENSSL_free(name);
    OPENSSL_free(value);
    return rc;
}

static vc_status parse_query(const char *uri, const char *query, int *version,
                             vc_error *err)
{
    const char *amp;
    int seen = 0;
    vc_status rc;

    for (;;) {
        amp = strchr(query, '&');
        rc = parse_param(uri, query,
                         amp == NULL ? strlen(query) : (size_t)(amp - query),
                         &seen, version, err);
        if (rc != VC_OK || amp == NULL)
            return rc;
        query = amp + 1;
    }
}

/* The forms refused before looking at the path: other schemes, an
 * authority ("vault://host/k" reads as a host, which Vault has no use for)
 * and fragments. */
static vc_status check_form(const char *uri, vc_error *err)
{
    size_t slen = strlen(VP_URI_SCHEME);

    if (strncasecmp(uri, VP_URI_SCHEME, slen) != 0 || uri[slen] != ':')
        return uri_error(err, uri, "not a vault: URI; use " VP_URI_FORMS);
    if (strncmp(uri + slen + 1, "//", 2) == 0)
        return uri_error(err, uri,
                         "the vault://host/... form is not supported; the "
                         "address comes from the configuration; use "
                         "" VP_URI_FORMS);
    if (strchr(uri, '#') != NULL)
        return uri_error(err, uri, "fragments (#...) are not supported");
    return VC_OK;
}

static vc_status copy_default(char **slot, const char *value, vc_error *err)
{
    *slot = OPENSSL_strdup(value);
    if (*slot == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, "parsing a URI");
    return VC_OK;
}

static vc_status parse_key(const char *uri, const char *path, size_t len,
                           const char *default_key, vp_uri *out, vc_error *err)
{
    char shown[80];

    if (len > 0)
        return parse_path(uri, path, len, out, err);
    if (default_key == NULL || *default_key == '\0')
        return uri_error(err, uri,
                         "names no key and no key_name is configured; use "
                         "" VP_URI_FORMS " or set key_name");
    if (!vp_uri_key_name_ok(default_key)) {
        printable(shown, sizeof(shown), default_key);
        return uri_error(err, uri,
                         "the configured key_name \"%s\" is not a Transit "
                         "key name (" VP_KEY_NAME_RULE ")",
                         shown);
    }
    return copy_default(&out->name, default_key, err);
}

vc_status vp_uri_parse(const char *uri, const char *default_mount,
                       const char *default_key, vp_uri *out, vc_error *err)
{
    const char *path, *query;
    char shown[80];
    vc_status rc;

    memset(out, 0, sizeof(*out));
    if (uri == NULL)
        return vc_error_set(err, VC_ERR_CONFIG, 0, "no URI given");
    rc = check_form(uri, err);
    if (rc != VC_OK)
        return rc;

    path = uri + strlen(VP_URI_SCHEME) + 1;
    query = strchr(path, '?');
    rc = parse_key(uri, path,
                   query == NULL ? strlen(path) : (size_t)(query - path),
                   default_key, out, err);
    if (rc == VC_OK && !vp_uri_key_name_ok(out->name)) {
        printable(shown, sizeof(shown), out->name);
        rc = uri_error(
            err, uri, "\"%s\" is not a Transit key name (" VP_KEY_NAME_RULE ")",
            shown);
    }
    if (rc == VC_OK && out->mount == NULL)
        rc = copy_default(
            &out->mount, default_mount ? default_mount : VC_DEFAULT_MOUNT, err);
    if (rc == VC_OK && query != NULL)
        rc = parse_query(uri, query + 1, &out->version, err);

    if (rc != VC_OK)
        vp_uri_clear(out);
    return rc;
}

void vp_uri_clear(vp_uri *uri)
{
    if (uri == NULL)
        return;
    OPENSSL_free(uri->mount);
    OPENSSL_free(uri->name);
    memset(uri, 0, sizeof(*uri));
}
