/*
 * Parses "vault:" key URIs: vault:NAME, vault:NAME?version=N,
 * vault:MOUNT/NAME (the mount may hold slashes) and a bare "vault:" for the
 * configured key, with percent-decoding. Pure C, unit-tested directly.
 */
#ifndef VP_URI_H
#define VP_URI_H

#include "vaultclient.h"

#define VP_URI_SCHEME "vault"

typedef struct vp_uri {
    char *mount; /* never NULL after a successful parse */
    char *name;  /* never NULL after a successful parse */
    int version; /* 0 = latest at the time of loading */
} vp_uri;

/*
 * default_mount and default_key come from the configuration; a bare
 * "vault:" with no configured key is an error. Errors are VC_ERR_CONFIG
 * with a message quoting the URI.
 */
vc_status vp_uri_parse(const char *uri, const char *default_mount,
                       const char *default_key, vp_uri *out, vc_error *err);
void vp_uri_clear(vp_uri *uri);

/* 1 when name matches Transit's key names, \w([\w.-]*\w)?, else 0. */
int vp_uri_key_name_ok(const char *name);

/*
 * 1 when mount is one or more segments of letters, digits, '-', '.', '_'
 * and '~' joined by single '/', with no "." or ".." segment, else 0.
 */
int vp_uri_mount_ok(const char *mount);

#endif
