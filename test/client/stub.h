/*
 * A scripted HTTP/1.1 server on a loopback port, run in threads of the test
 * process: it answers each request with the next reply of its script and
 * records what it was sent, so tests can check headers, bodies, retries,
 * redirects and connection reuse.
 */
#ifndef STUB_H
#define STUB_H

#include <pthread.h>
#include <stddef.h>

#define STUB_MAX_REPLIES 8

typedef struct stub_reply {
    int status;          /* 0 = read the request, never answer */
    const char *headers; /* extra header lines, each ending in \r\n */
    const char *body;
    size_t body_len; /* 0 = strlen(body) */
} stub_reply;

typedef struct stub {
    int fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    stub_reply replies[STUB_MAX_REPLIES]; /* the last one repeats */
    int nreplies;
    int next;
    int requests;
    int connections;
    char *last_request; /* head and body of the latest request */
} stub;

/* Starts a server on 127.0.0.1 with a free port; 0 on success. */
int stub_start(stub *s);
void stub_stop(stub *s);
/* Replaces the script and zeroes the counters. */
void stub_script(stub *s, const stub_reply *replies, int n);
int stub_requests(stub *s);
int stub_connections(stub *s);
/* A copy of the latest request (caller frees), or NULL. */
char *stub_last_request(stub *s);

#endif
