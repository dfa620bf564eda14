/*
 * The client's settings: defaults, deep copy, release with the secrets
 * cleansed, and the duration syntax of the timeout settings.
 */
#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void vc_config_init(vc_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->timeout_ms = VC_DEFAULT_TIMEOUT_MS;
    cfg->cache_ttl_ms = VC_DEFAULT_CACHE_TTL_MS;
}

/* The string fields, so that clear and copy cannot forget one. */
static const size_t string_fields[] = {
    offsetof(vc_config, address),
    offsetof(vc_config, token),
    offsetof(vc_config, token_file),
    offsetof(vc_config, mount),
    offsetof(vc_config, key_name),
    offsetof(vc_config, namespace_name),
    offsetof(vc_config, ca_cert),
    offsetof(vc_config, ca_path),
    offsetof(vc_config, client_cert),
    offsetof(vc_config, client_key),
    offsetof(vc_config, tls_server_name),
    offsetof(vc_config, approle_role_id),
    offsetof(vc_config, approle_secret_id),
    offsetof(vc_config, approle_mount),
    offsetof(vc_config, algorithm),
    offsetof(vc_config, config_file),
    offsetof(vc_config, debug),
};

#define NFIELDS (sizeof(string_fields) / sizeof(string_fields[0]))

static char **field(vc_config *cfg, size_t i)
{
    return (char **)((char *)cfg + string_fields[i]);
}

void vc_config_clear(vc_config *cfg)
{
    size_t i;

    if (cfg == NULL)
        return;
    /* Every string is cleansed: the token and the AppRole IDs among them,
     * and cleansing the rest costs nothing worth saving. */
    for (i = 0; i < NFIELDS; i++)
        vc_free_secret(*field(cfg, i));
    memset(cfg, 0, sizeof(*cfg));
}

vc_status vc_config_copy(vc_config *dst, const vc_config *src)
{
    size_t i;

    *dst = *src;
    for (i = 0; i < NFIELDS; i++)
        *field(dst, i) = NULL;
    for (i = 0; i < NFIELDS; i++) {
        const char *s = *field((vc_config *)src, i);

        if (s != NULL && (*field(dst, i) = strdup(s)) == NULL)
            goto err;
    }
    return VC_OK;

err:
    vc_config_clear(dst);
    return VC_ERR_NO_MEMORY;
}

/* Milliseconds per unit, longest suffix first so "ms" is not read as "m". */
static long unit_ms(const char **p)
{
    static const struct {
        const char *suffix;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    size_t i;

    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t n = strlen(units[i].suffix);

        if (strncmp(*p, units[i].suffix, n) == 0) {
            *p += n;
            return units[i].ms;
        }
    }
    return 0;
}

/* One "<digits>[.<digits>]<unit>" component; unit seconds when plain. */
static int duration_part(const char **p, int plain, long *ms)
{
    unsigned long long whole = 0, frac = 0, scale = 1;
    long unit;

    if (!isdigit((unsigned char)**p))
        return 0;
    for (; isdigit((unsigned char)**p); (*p)++) {
        if (whole > (unsigned long long)LONG_MAX / 10)
            return 0;
        whole = whole * 10 + (unsigned long long)(**p - '0');
    }
    if (**p == '.') {
        if (!isdigit((unsigned char)*++*p))
            return 0;
        for (; isdigit((unsigned char)**p); (*p)++) {
            if (scale < 1000000000ULL) {
                frac = frac * 10 + (unsigned long long)(**p - '0');
                scale *= 10;
            }
        }
    }
    unit = plain ? 1000 : unit_ms(p);
    if (unit == 0 || whole > (unsigned long long)LONG_MAX / unit)
        return 0;
    /* The fraction adds less than one unit, which can still pass LONG_MAX:
     * the sum is checked before it becomes a long. */
    whole = whole * unit + frac * unit / scale;
    if (whole > (unsigned long long)LONG_MAX)
        return 0;
    *ms = (long)whole;
    return 1;
}

vc_status vc_parse_duration(const char *text, long *ms)
{
    const char *p = text;
    long total = 0, part;

    if (text == NULL || *text == '\0')
        return VC_ERR_CONFIG;
    /* Plain seconds: digits (and a fraction) with no unit at all. */
    if (strspn(text, "0123456789.") == strlen(text)) {
        if (!duration_part(&p, 1, &total) || *p != '\0' || total <= 0)
            return VC_ERR_CONFIG;
        *ms = total;
        return VC_OK;
    }
    /* Otherwise Go's syntax with integer-friendly units: "1m30s", "500ms". */
    while (*p != '\0') {
        if (!duration_part(&p, 0, &part) || total > LONG_MAX - part)
            return VC_ERR_CONFIG;
        total += part;
    }
    if (total <= 0)
        return VC_ERR_CONFIG;
    *ms = total;
    return VC_OK;
}
