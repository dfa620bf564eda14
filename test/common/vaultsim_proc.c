/*
 * Runs the Transit test server as a child process for the C tests and
 * talks to it over libcurl: its /v1/ API with a token, its /_sim/ counters
 * and fault modes without one.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vaultsim_proc.h"

typedef struct buffer {
    char *data;
    size_t len;
} buffer;

static const char *vaultsim_program(void)
{
    static char path[1024];
    const char *env = getenv("VAULTSIM"), *src = getenv("VP_SOURCE_DIR");

    if (env != NULL && *env != '\0')
        return env;
    snprintf(path, sizeof(path), "%s/test/vaultsim/vaultsim", src ? src : ".");
    return path;
}

static int read_port(const char *file)
{
    FILE *f = fopen(file, "r");
    int port = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%d", &port) != 1)
        port = 0;
    fclose(f);
    return port;
}

/* In the child: becomes the server, or exits with 127. */
static void run_server(const char *program, const char *port_file,
                       const vaultsim_opts *o, pid_t parent)
{
    const char *argv[16] = {program,        "--listen",    "127.0.0.1:0",
                            "--root-token", o->root_token, "--port-file",
                            port_file};
    int n = 7;

    /* The server goes when the test does, however it ends: a cmocka group
     * whose setup failed runs no teardown. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent)
        _exit(127);
    if (o->tls_cert != NULL && o->tls_key != NULL) {
        argv[n++] = "--tls-cert";
        argv[n++] = o->tls_cert;
        argv[n++] = "--tls-key";
        argv[n++] = o->tls_key;
        if (o->tls_client_ca != NULL) {
            argv[n++] = "--tls-client-ca";
            argv[n++] = o->tls_client_ca;
        }
    }
    execv(program, (char *const *)argv);
    _exit(127);
}

/* Polls the port file, which the server writes once it accepts. */
static int wait_for_port(vaultsim *s, const char *program)
{
    struct timespec pause = {0, 20 * 1000 * 1000};
    int i, port = 0;

    /* Up to 30 s: Python may be slow to start on a loaded machine. */
    for (i = 0; i < 1500 && port == 0; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            fprintf(stderr, "%s exited before it listened\n", program);
            s->pid = 0;
            return 0;
        }
        port = read_port(s->port_file);
        if (port == 0)
            nanosleep(&pause, NULL);
    }
    return port;
}

/* Copies text (NULL: "") into buf; 0 when it does not fit. */
static int copy_text(char *buf, size_t size, const char *text)
{
    int n = snprintf(buf, size, "%s", text ? text : "");

    return n >= 0 && (size_t)n < size;
}

int vaultsim_start(vaultsim *s, const vaultsim_opts *o)
{
    const char *program = vaultsim_program();
    pid_t parent = getpid();
    int port;

    if (!copy_text(s->port_file, sizeof(s->port_file), o->port_file) ||
        !copy_text(s->client_cert, sizeof(s->client_cert), o->client_cert) ||
        !copy_text(s->client_key, sizeof(s->client_key), o->client_key))
        return 0;
    s->keep_alive = o->keep_alive;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* A file left from an earlier run would name a port nobody serves. */
    unlink(s->port_file);
    s->pid = fork();
    if (s->pid == 0)
        run_server(program, s->port_file, o, parent);
    if (s->pid < 0)
        s->pid = 0;
    port = s->pid > 0 ? wait_for_port(s, program) : 0;
    if (port == 0) {
        fprintf(stderr, "%s did not start\n", program);
        vaultsim_stop(s);
        return 0;
    }
    snprintf(s->address, sizeof(s->address), "%s://127.0.0.1:%d",
             o->tls_cert != NULL && o->tls_key != NULL ? "https" : "http",
             port);
    return 1;
}

void vaultsim_stop(vaultsim *s)
{
    curl_easy_cleanup(s->curl);
    s->curl = NULL;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
    if (s->port_file[0] != '\0')
        unlink(s->port_file);
}

static size_t collect(char *ptr, size_t size, size_t n, void *arg)
{
    buffer *b = arg;
    char *p = realloc(b->data, b->len + size * n + 1);

    if (p == NULL)
        return 0;
    memcpy(p + b->len, ptr, size * n);
    b->len += size * n;
    p[b->len] = '\0';
    b->data = p;
    return size * n;
}

/* One handle serves every exchange; a reset keeps its open connection. */
static CURL *exchange_handle(vaultsim *s)
{
    if (s->curl == NULL)
        s->curl = curl_easy_init();
    else
        curl_easy_reset(s->curl);
    return s->curl;
}

static void set_options(const vaultsim *s, CURL *h, const char *url,
                        const char *method, struct curl_slist *hdr, buffer *b)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, b);
    /* Closing after each exchange makes the next one count anew. */
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, s->keep_alive ? 0L : 1L);
    /* Our own loopback server with its throwaway certificate: never through
     * a proxy, and nothing to verify. */
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (s->client_cert[0] != '\0') {
        curl_easy_setopt(h, CURLOPT_SSLCERT, s->client_cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, s->client_key);
    }
}

long vaultsim_http(vaultsim *s, const char *method, const char *path,
                   const char *token, const char *body, char **answer)
{
    CURL *h = exchange_handle(s);
    struct curl_slist *hdr = NULL;
    buffer b = {NULL, 0};
    char url[512], auth[256];
    long code = -1;

    if (h != NULL) {
        snprintf(url, sizeof(url), "%s%s", s->address, path);
        if (token != NULL) {
            snprintf(auth, sizeof(auth), "X-Vault-Token: %s", token);
            hdr = curl_slist_append(hdr, auth);
        }
        hdr = curl_slist_append(hdr, "Content-Type: application/json");
        set_options(s, h, url, method, hdr, &b);
        if (body != NULL)
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_slist_free_all(hdr);
    }
    if (answer != NULL)
        *answer = b.data;
    else
        free(b.data);
    return code;
}

int vaultsim_reset(vaultsim *s)
{
    return vaultsim_http(s, "POST", "/_sim/reset", NULL, "{}", NULL) == 200;
}

int vaultsim_fault(vaultsim *s, const char *mode)
{
    char body[64];

    snprintf(body, sizeof(body), "{\"mode\":\"%s\"}", mode);
    return vaultsim_http(s, "POST", "/_sim/fault", NULL, body, NULL) == 200;
}

cJSON *vaultsim_stats(vaultsim *s)
{
    char *answer = NULL;
    cJSON *stats = NULL;

    if (vaultsim_http(s, "GET", "/_sim/stats", NULL, NULL, &answer) == 200 &&
        answer != NULL)
        stats = cJSON_Parse(answer);
    free(answer);
    return stats;
}

int vaultsim_counter(const cJSON *stats, const char *section, const char *key,
                     long *n)
{
    const cJSON *item = stats;

    if (section != NULL)
        item = cJSON_GetObjectItemCaseSensitive(item, section);
    item = cJSON_GetObjectItemCaseSensitive(item, key);
    if (!cJSON_IsNumber(item))
        return 0;
    *n = (long)item->valuedouble;
    return 1;
}
