/*
 * A private Transit test server (test/vaultsim/vaultsim) for the provider's
 * EVP tests: start, set up through Vault's HTTP API, count requests.
 */
#ifndef TEST_PROVIDER_SERVER_H
#define TEST_PROVIDER_SERVER_H

/* Starts the server (dir holds its port file) and mounts transit. */
int srv_start(const char *dir);
void srv_stop(void);
const char *srv_addr(void);
const char *srv_root_token(void);

/* A /v1/ call as the root token; 1 on a 2xx answer. */
int srv_api(const char *method, const char *path, const char *body);

int srv_create_key(const char *name, const char *type);
int srv_rotate_key(const char *name);
/* Vault's PEM public key of name at version (malloc'd), or NULL. */
char *srv_public_pem(const char *name, int version);
/* Writes an ACL policy and returns a new token holding only it. */
char *srv_create_token(const char *policy_name, const char *hcl);

int srv_reset(void);
int srv_fault(const char *mode);
/* Requests to /v1/<path> since the last reset (NULL: all), -1 on error. */
long srv_requests(const char *path);
/* TCP connections accepted since the last reset, this reading's included. */
long srv_connections(void);

#endif
