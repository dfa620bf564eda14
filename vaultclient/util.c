/*
 * Small helpers the rest of the library shares: a growing string with URL
 * escaping, secret-aware freeing, a monotonic clock and strict base64.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "internal.h"

static int sb_reserve(vc_strbuf *sb, size_t extra)
{
    size_t need, cap;
    char *p;

    if (sb->oom)
        return 0;
    if (extra > SIZE_MAX / 2 - sb->len)
        goto oom;
    need = sb->len + extra + 1;
    if (need <= sb->cap)
        return 1;
    cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(sb->data, cap);
    if (p == NULL)
        goto oom;
    sb->data = p;
    sb->cap = cap;
    return 1;

oom:
    sb->oom = 1;
    return 0;
}

void vc_sb_add(vc_strbuf *sb, const char *s, size_t n)
{
    if (!sb_reserve(sb, n))
        return;
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void vc_sb_adds(vc_strbuf *sb, const char *s)
{
    vc_sb_add(sb, s, strlen(s));
}

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

void vc_sb_add_escaped(vc_strbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    char enc[3] = {'%', 0, 0};
    const char *end = s + n;

    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;

        if (unreserved(c)) {
            vc_sb_add(sb, s, 1);
            continue;
        }
        enc[1] = hex[c >> 4];
        enc[2] = hex[c & 15];
        vc_sb_add(sb, enc, 3);
    }
}

char *vc_sb_take(vc_strbuf *sb)
{
    char *s;

    if (sb->oom) {
        vc_sb_free(sb);
        return NULL;
    }
    if (!sb_reserve(sb, 0))
        return NULL;
    s = sb->data;
    memset(sb, 0, sizeof(*sb));
    return s;
}

void vc_sb_free(vc_strbuf *sb)
{
    free(sb->data);
    memset(sb, 0, sizeof(*sb));
}

void vc_free_secret(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

long long vc_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long vc_now_ms(void)
{
    return vc_now_us() / 1000;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *vc_base64_encode(const unsigned char *in, size_t len)
{
    size_t i, o = 0;
    char *out;

    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    for (i = 0; i + 2 < len; i += 3) {
        uint32_t v =
            (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = b64_alphabet[(v >> 6) & 63];
        out[o++] = b64_alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)in[i] << 16;

        if (i + 1 < len)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = b64_alphabet[v >> 18];
        out[o++] = b64_alphabet[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *p;

    if (c == '\0')
        return -1;
    p = strchr(b64_alphabet, c);
    return p == NULL ? -1 : (int)(p - b64_alphabet);
}

/* Decodes one group of four; pad is how many '=' end it (last group only). */
static int b64_group(const char *in, int pad, unsigned char *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4 - pad; i++) {
        int d = b64_value(in[i]);

        if (d < 0)
            return 0;
        v |= (uint32_t)d << (18 - 6 * i);
    }
    /* Bits that padding drops must be zero, or the text is not canonical. */
    if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
        return 0;
    out[0] = v >> 16;
    out[1] = (v >> 8) & 0xff;
    out[2] = v & 0xff;
    return 1;
}

vc_status vc_base64_decode(const char *in, size_t len, unsigned char **out,
                           size_t *outlen)
{
    unsigned char *buf;
    size_t i, o = 0;
    int pad = 0;

    *out = NULL;
    *outlen = 0;
    if (len == 0 || len % 4 != 0)
        return VC_ERR_UNEXPECTED_RESPONSE;
    if (in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    buf = malloc(len / 4 * 3);
    if (buf == NULL)
        return VC_ERR_NO_MEMORY;
    for (i = 0; i < len; i += 4) {
        int last = i + 4 == len;

        if (!b64_group(in + i, last ? pad : 0, buf + o))
            goto err;
        o += 3;
    }
    *out = buf;
    *outlen = o - (size_t)pad;
    return VC_OK;

err:
    free(buf);
    return VC_ERR_UNEXPECTED_RESPONSE;
}
