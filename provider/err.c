/*
 * The provider's one way to report failure: a reason code plus a one-line
 * detail, pushed onto the application's error queue through the core's
 * error callbacks, so `openssl` prints "vault transit: <reason>:<detail>".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "provider.h"

static OSSL_FUNC_core_new_error_fn *c_new_error;
static OSSL_FUNC_core_set_error_debug_fn *c_set_error_debug;
static OSSL_FUNC_core_vset_error_fn *c_vset_error;

/* The texts of vc_status_text(), prefixed; kept in step by test/provider. */
static const OSSL_ITEM reason_strings[] = {
    {VC_ERR_PERMISSION_DENIED, "vault transit: permission denied"},
    {VC_ERR_KEY_NOT_FOUND, "vault transit: key not found"},
    {VC_ERR_CONNECTION_REFUSED, "vault transit: connection refused"},
    {VC_ERR_TIMEOUT, "vault transit: timeout"},
    {VC_ERR_SEALED, "vault transit: Vault is sealed"},
    {VC_ERR_TLS_VERIFY, "vault transit: TLS verification failed"},
    {VC_ERR_UNEXPECTED_RESPONSE, "vault transit: unexpected response"},
    {VC_ERR_REJECTED, "vault transit: request rejected"},
    {VC_ERR_NETWORK, "vault transit: network error"},
    {VC_ERR_CONFIG, "vault transit: invalid configuration"},
    {VC_ERR_UNSUPPORTED, "vault transit: unsupported"},
    {VC_ERR_NO_MEMORY, "vault transit: out of memory"},
    {VP_R_NO_PRIVATE_KEY, "vault transit: no private key"},
    {VP_R_PRIVATE_KEY_STAYS_IN_VAULT,
     "vault transit: the private key stays in Vault"},
    {VP_R_BAD_PARAMETER, "vault transit: bad parameter"},
    {VP_R_NO_DEFAULT_PROVIDER, "vault transit: default provider not loaded"},
    {VP_R_INTERNAL_ERROR, "vault transit: internal error"},
    {0, NULL}};

void vp_err_init(const OSSL_DISPATCH *in)
{
    for (; in != NULL && in->function_id != 0; in++) {
        switch (in->function_id) {
        case OSSL_FUNC_CORE_NEW_ERROR:
            c_new_error = OSSL_FUNC_core_new_error(in);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            c_set_error_debug = OSSL_FUNC_core_set_error_debug(in);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            c_vset_error = OSSL_FUNC_core_vset_error(in);
            break;
        default:
            break;
        }
    }
}

const OSSL_ITEM *vp_err_reason_strings(void)
{
    return reason_strings;
}

static void raise_text(const OSSL_CORE_HANDLE *handle, int reason,
                       const char *file, int line, const char *func,
                       const char *fmt, ...)
{
    va_list ap;

    if (c_new_error == NULL || c_set_error_debug == NULL ||
        c_vset_error == NULL)
        return;
    c_new_error(handle);
    c_set_error_debug(handle, file, line, func);
    va_start(ap, fmt);
    c_vset_error(handle, (uint32_t)reason, fmt, ap);
    va_end(ap);
}

void vp_err_raise(const OSSL_CORE_HANDLE *handle, int reason, const char *file,
                  int line, const char *func, const char *fmt, ...)
{
    char detail[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    /* Debug level: tolerated failures are raised too, then cleared. */
    vc_log(VC_LOG_DEBUG, "error: %s", detail);
    raise_text(handle, reason, file, line, func, "%s", detail);
}

/*
 * vc_error messages start with "vault transit: <status text>: "; the
 * reason string already says that, so the detail is what follows.
 */
static const char *detail_of(const vc_error *err)
{
    const char *prefix = "vault transit: ";
    const char *text = vc_status_text(err->status);
    const char *p = err->message;
    size_t plen = strlen(prefix), tlen = text != NULL ? strlen(text) : 0;

    if (strncmp(p, prefix, plen) != 0 || tlen == 0 ||
        strncmp(p + plen, text, tlen) != 0)
        return p;
    p += plen + tlen;
    if (*p == ':')
        p++;
    while (*p == ' ')
        p++;
    return p;
}

void vp_err_raise_vc(const OSSL_CORE_HANDLE *handle, const vc_error *err,
                     const char *file, int line, const char *func)
{
    int reason = err->status;

    if (reason <= VC_OK || reason > VC_ERR_NO_MEMORY)
        reason = VP_R_INTERNAL_ERROR;
    raise_text(handle, reason, file, line, func, "%s", detail_of(err));
}
