/*
 * The Transit test server (test/vaultsim/vaultsim) as a child process of a
 * C test: start and stop it, talk HTTP to it, drive its /_sim/ interface.
 */
#ifndef VAULTSIM_PROC_H
#define VAULTSIM_PROC_H

#include <sys/types.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

/* How to start a server; the strings are copied. */
typedef struct vaultsim_opts {
    const char *root_token;
    /* The server writes its port here once it accepts; removed on stop. */
    const char *port_file;
    /* Both set: the server speaks https with this certificate and key. */
    const char *tls_cert;
    const char *tls_key;
    /* With tls_cert: clients must present a certificate from this CA. */
    const char *tls_client_ca;
    /* The certificate and key our own exchanges present (for a server
     * started with tls_client_ca). */
    const char *client_cert;
    const char *client_key;
    /*
     * Every exchange of ours goes over one kept connection, so after the
     * first they add nothing to the server's connection count. Otherwise
     * each exchange opens (and counts as) a connection of its own.
     */
    int keep_alive;
} vaultsim_opts;

/* One running server; zero it before vaultsim_start. */
typedef struct vaultsim {
    pid_t pid;
    char address[64]; /* http(s)://127.0.0.1:PORT */
    char port_file[256];
    char client_cert[256]; /* empty: none */
    char client_key[256];
    int keep_alive;
    CURL *curl;
} vaultsim;

/*
 * Runs $VAULTSIM (else $VP_SOURCE_DIR/test/vaultsim/vaultsim) on a free
 * loopback port; 1 once it accepts, 0 when it did not start.
 */
int vaultsim_start(vaultsim *s, const vaultsim_opts *o);
/* Stops the server (if any) and frees what vaultsim_start took. */
void vaultsim_stop(vaultsim *s);

/*
 * One HTTP exchange with the server at path ("/v1/..." or "/_sim/..."),
 * with X-Vault-Token unless token is NULL and a body unless body is NULL.
 * Returns the HTTP status (-1 when none came); *answer (malloc'd, may be
 * NULL) gets the body unless answer is NULL.
 */
long vaultsim_http(vaultsim *s, const char *method, const char *path,
                   const char *token, const char *body, char **answer);

/* Zeroes the counters; 1 on success. */
int vaultsim_reset(vaultsim *s);
/* Sets the fault mode of /v1/ (none, stall, garbage, sealed); 1 on success. */
int vaultsim_fault(vaultsim *s, const char *mode);
/* The counters (GET /_sim/stats), parsed; NULL on failure. */
cJSON *vaultsim_stats(vaultsim *s);
/* 1 and *n when stats[key] (section NULL) or stats[section][key] is a
 * number, else 0. */
int vaultsim_counter(const cJSON *stats, const char *section, const char *key,
                     long *n);

#endif
