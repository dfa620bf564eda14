/*
 * The client object: its copy of the settings, the parsed address, the
 * handle pool and token caches. Creating one touches no network and leaves
 * libcurl uninitialised until the first request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

typedef struct url_parts {
    char *scheme;
    char *host;
    char *port;
    char *query;
    char *fragment;
} url_parts;

static void url_parts_free(url_parts *p)
{
    curl_free(p->scheme);
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->query);
    curl_free(p->fragment);
}

/* What comes before an '@' may be a password: it stays out of messages. */
static vc_status address_error(vc_error *err, const char *address,
                               const char *why)
{
    const char *at = strrchr(address, '@');

    return vc_error_set(err, VC_ERR_CONFIG, 0, "address %s%s: %s",
                        at ? "...@" : "", at ? at + 1 : address, why);
}

static vc_status check_parts(CURLU *u, const char *address, url_parts *p,
                             int *https, vc_error *err)
{
    char *user = NULL;

    /* It would appear in every message and log line that names the
     * address; Vault authenticates with the token anyway. */
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
        curl_free(user);
        return address_error(err, address, "no user name or password allowed");
    }
    if (curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) !=
            CURLUE_OK)
        return address_error(err, address, "not a URL with a host");
    curl_url_get(u, CURLUPART_QUERY, &p->query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &p->fragment, 0);
    if (p->query != NULL || p->fragment != NULL)
        return address_error(err, address, "no query or fragment allowed");
    if (strcmp(p->scheme, "https") != 0 && strcmp(p->scheme, "http") != 0)
        return address_error(err, address, "only http and https are served");
    *https = strcmp(p->scheme, "https") == 0;
    return VC_OK;
}

/* "name:port:host:port": connections for the server name go to the host. */
static char *connect_to_entry(const char *name, const url_parts *p)
{
    vc_strbuf sb = {0};

    vc_sb_adds(&sb, name);
    vc_sb_adds(&sb, ":");
    vc_sb_adds(&sb, p->port);
    vc_sb_adds(&sb, ":");
    vc_sb_adds(&sb, p->host);
    vc_sb_adds(&sb, ":");
    vc_sb_adds(&sb, p->port);
    return vc_sb_take(&sb);
}

static vc_status server_name_apply(CURLU *u, const char *name,
                                   const url_parts *p, char **connect_to,
                                   vc_error *err)
{
    if (*name == '\0' || strpbrk(name, ":/[]@ \t\r\n") != NULL ||
        curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK)
        return vc_error_set(err, VC_ERR_CONFIG, 0,
                            "tls_server_name %s is not a host name", name);
    *connect_to = connect_to_entry(name, p);
    return *connect_to ? VC_OK : vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
}

vc_status vc_address_parse(const char *address, const char *server_name,
                           char **base_url, char **connect_to, int *https,
                           vc_error *err)
{
    CURLU *u = curl_url();
    url_parts p = {0};
    char *url = NULL;
    size_t n;
    vc_status st;

    *base_url = *connect_to = NULL;
    if (u == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    if (curl_url_set(u, CURLUPART_URL, address, 0) != CURLUE_OK) {
        st = address_error(err, address, "not a URL (https://host:port)");
        goto err;
    }
    st = check_parts(u, address, &p, https, err);
    if (st == VC_OK && server_name != NULL)
        st = server_name_apply(u, server_name, &p, connect_to, err);
    if (st == VC_OK && curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK)
        st = address_error(err, address, "not a URL (https://host:port)");
    if (st != VC_OK)
        goto err;
    /* Requests append "/v1/...": keep a path prefix, drop its last slash. */
    for (n = strlen(url); n > 0 && url[n - 1] == '/'; n--)
        ;
    if ((*base_url = strndup(url, n)) == NULL)
        st = vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);

err:
    if (st != VC_OK) {
        free(*connect_to);
        *connect_to = NULL;
    }
    curl_free(url);
    url_parts_free(&p);
    curl_url_cleanup(u);
    return st;
}

vc_status vc_address_check(const char *address, const char *server_name,
                           vc_error *err)
{
    char *base_url = NULL, *connect_to = NULL;
    int https;
    vc_status st = vc_address_parse(address, server_name, &base_url,
                                    &connect_to, &https, err);

    free(base_url);
    free(connect_to);
    return st;
}

/* secure_getenv, as for the other settings: a setuid program must not read
 * a token file its caller picked and send it to Vault. */
static vc_status home_token_path(vc_client *c)
{
    const char *home = secure_getenv("HOME");
    vc_strbuf sb = {0};

    if (home == NULL || *home == '\0')
        return VC_OK;
    vc_sb_adds(&sb, home);
    vc_sb_adds(&sb, "/.vault-token");
    c->home_token.path = vc_sb_take(&sb);
    return c->home_token.path ? VC_OK : VC_ERR_NO_MEMORY;
}

static vc_status client_setup(vc_client *c, vc_error *err)
{
    char *connect_to = NULL;
    vc_status st;

    if (c->cfg.address == NULL || c->cfg.address[0] == '\0')
        return vc_error_set(err, VC_ERR_CONFIG, 0, "no Vault address set");
    st = vc_address_parse(c->cfg.address, c->cfg.tls_server_name, &c->base_url,
                          &connect_to, &c->https, err);
    if (st != VC_OK)
        return st;
    if (connect_to != NULL) {
        c->connect_to = curl_slist_append(NULL, connect_to);
        free(connect_to);
        if (c->connect_to == NULL)
            return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    }
    if (c->cfg.timeout_ms <= 0)
        c->cfg.timeout_ms = VC_DEFAULT_TIMEOUT_MS;
    /* A day is already no timeout; more would overflow the deadline. */
    if (c->cfg.timeout_ms > VC_MAX_TIMEOUT_MS)
        c->cfg.timeout_ms = VC_MAX_TIMEOUT_MS;
    c->mount = c->cfg.mount && *c->cfg.mount ? c->cfg.mount : VC_DEFAULT_MOUNT;
    c->token_file.path = c->cfg.token_file;
    c->idle = calloc(VC_POOL_MAX, sizeof(*c->idle));
    if (c->idle == NULL || home_token_path(c) != VC_OK)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    return VC_OK;
}

vc_status vc_client_new(const vc_config *cfg, vc_client **out, vc_error *err)
{
    vc_client *c;
    vc_status st;

    *out = NULL;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
    }
    c->pid = getpid();
    atomic_init(&c->connections, 0);
    atomic_init(&c->warned_skip_verify, 0);
    if (vc_config_copy(&c->cfg, cfg) != VC_OK) {
        st = vc_error_set(err, VC_ERR_NO_MEMORY, 0, NULL);
        goto err;
    }
    st = client_setup(c, err);
    if (st != VC_OK)
        goto err;
    *out = c;
    return VC_OK;

err:
    vc_client_free(c);
    return st;
}

void vc_client_free(vc_client *c)
{
    if (c == NULL)
        return;
    if (c->idle != NULL)
        vc_http_pool_clear(c);
    free(c->idle);
    curl_slist_free_all(c->connect_to);
    free(c->base_url);
    vc_free_secret(c->token_file.token);
    vc_free_secret(c->home_token.token);
    free(c->home_token.path);
    vc_config_clear(&c->cfg);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void vc_client_set_tls_libctx(vc_client *c, OSSL_LIB_CTX *libctx)
{
    pthread_mutex_lock(&c->lock);
    c->tls_libctx = libctx;
    pthread_mutex_unlock(&c->lock);
}

long vc_client_connections_opened(const vc_client *c)
{
    return atomic_load(&((vc_client *)c)->connections);
}
