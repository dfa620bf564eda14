/*
 * The Transit test server for the provider's EVP tests, run through
 * test/common/vaultsim_proc.c: one root token, transit mounted, keys,
 * policies and tokens set up through Vault's HTTP API, request counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "server.h"
#include "vaultsim_proc.h"

static vaultsim server;
static char root_token[64];

int srv_api(const char *method, const char *path, const char *body)
{
    char full[256];
    long code;

    snprintf(full, sizeof(full), "/v1/%s", path);
    code = vaultsim_http(&server, method, full, root_token, body, NULL);
    if (code >= 200 && code < 300)
        return 1;
    fprintf(stderr, "setup: %s %s answered %ld\n", method, path, code);
    return 0;
}

int srv_start(const char *dir)
{
    char port_file[512];
    vaultsim_opts o = {.root_token = root_token, .port_file = port_file};

    snprintf(root_token, sizeof(root_token), "hvs.root%ld%d", (long)time(NULL),
             (int)getpid());
    snprintf(port_file, sizeof(port_file), "%s/port", dir);
    if (!vaultsim_start(&server, &o))
        return 0;
    return srv_api("POST", "sys/mounts/transit", "{\"type\":\"transit\"}");
}

void srv_stop(void)
{
    vaultsim_stop(&server);
}

const char *srv_addr(void)
{
    return server.address;
}

const char *srv_root_token(void)
{
    return root_token;
}

int srv_create_key(const char *name, const char *type)
{
    char path[128], body[64];

    snprintf(path, sizeof(path), "transit/keys/%s", name);
    snprintf(body, sizeof(body), "{\"type\":\"%s\"}", type);
    return srv_api("POST", path, body);
}

int srv_rotate_key(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "transit/keys/%s/rotate", name);
    return srv_api("POST", path, NULL);
}

char *srv_public_pem(const char *name, int version)
{
    char path[128], v[16], *answer = NULL, *pem = NULL;
    cJSON *doc, *item;

    snprintf(path, sizeof(path), "/v1/transit/keys/%s", name);
    snprintf(v, sizeof(v), "%d", version);
    if (vaultsim_http(&server, "GET", path, root_token, NULL, &answer) != 200)
        goto end;
    doc = cJSON_Parse(answer);
    item = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "data"), "keys");
    item = cJSON_GetObjectItem(cJSON_GetObjectItem(item, v), "public_key");
    if (cJSON_IsString(item))
        pem = strdup(item->valuestring);
    cJSON_Delete(doc);
end:
    free(answer);
    return pem;
}

char *srv_create_token(const char *policy_name, const char *hcl)
{
    char path[128], *body, *answer = NULL, *token = NULL;
    cJSON *doc = cJSON_CreateObject(), *item;

    cJSON_AddStringToObject(doc, "policy", hcl);
    body = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    snprintf(path, sizeof(path), "sys/policies/acl/%s", policy_name);
    if (!srv_api("PUT", path, body))
        goto end;
    free(body);
    body = malloc(strlen(policy_name) + 64);
    sprintf(body, "{\"policies\":[\"%s\"],\"no_default_policy\":true}",
            policy_name);
    if (vaultsim_http(&server, "POST", "/v1/auth/token/create", root_token,
                      body, &answer) != 200)
        goto end;
    doc = cJSON_Parse(answer);
    item =
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "auth"), "client_token");
    if (cJSON_IsString(item))
        token = strdup(item->valuestring);
    cJSON_Delete(doc);
end:
    free(body);
    free(answer);
    return token;
}

int srv_reset(void)
{
    return vaultsim_reset(&server);
}

int srv_fault(const char *mode)
{
    return vaultsim_fault(&server, mode);
}

/* A number from the server's counters: doc[key] or doc[section][key];
 * 0 when it has none, -1 when the counters could not be read. */
static long stat_number(const char *section, const char *key)
{
    cJSON *stats = vaultsim_stats(&server);
    long n = -1;

    if (stats != NULL && !vaultsim_counter(stats, section, key, &n))
        n = 0;
    cJSON_Delete(stats);
    return n;
}

/* Requests to /v1/<path> since the last reset; NULL path: all of them. */
long srv_requests(const char *path)
{
    return path != NULL ? stat_number("requests", path)
                        : stat_number(NULL, "total_requests");
}

long srv_connections(void)
{
    return stat_number(NULL, "connections");
}
