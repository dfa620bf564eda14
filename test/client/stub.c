/*
 * The scripted HTTP server of the client tests: one thread accepts, one
 * thread per connection serves keep-alive requests from the script.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stub.h"

typedef struct conn {
    stub *s;
    int fd;
} conn;

/* Reads one request; returns its length in *buf, 0 when the peer closed. */
static size_t read_request(int fd, char **buf)
{
    size_t len = 0, cap = 65536, need = 0;
    char *p = malloc(cap + 1);
    ssize_t r;

    while (p != NULL && (need == 0 || len < need)) {
        char *end, *cl;

        if (len == cap && (p = realloc(p, (cap *= 2) + 1)) == NULL)
            break;
        if ((r = read(fd, p + len, cap - len)) <= 0)
            break;
        len += (size_t)r;
        p[len] = '\0';
        if (need != 0 || (end = strstr(p, "\r\n\r\n")) == NULL)
            continue;
        need = (size_t)(end - p) + 4;
        cl = strcasestr(p, "\r\ncontent-length:");
        if (cl != NULL && cl < end)
            need += strtoul(cl + 17, NULL, 10);
    }
    if (p == NULL || need == 0 || len < need) {
        free(p);
        return 0;
    }
    *buf = p;
    return len;
}

static stub_reply take_reply(stub *s, char *request)
{
    stub_reply r;

    pthread_mutex_lock(&s->lock);
    s->requests++;
    free(s->last_request);
    s->last_request = request;
    r = s->replies[s->next];
    if (s->next < s->nreplies - 1)
        s->next++;
    pthread_mutex_unlock(&s->lock);
    return r;
}

static int send_reply(int fd, const stub_reply *r)
{
    size_t blen = r->body_len ? r->body_len : strlen(r->body ? r->body : "");
    size_t hlen, off = 0;
    char head[1024], *all;
    ssize_t w;

    hlen = (size_t)snprintf(head, sizeof(head),
                            "HTTP/1.1 %d Stub\r\nContent-Length: %zu\r\n"
                            "Content-Type: application/json\r\n%s\r\n",
                            r->status, blen, r->headers ? r->headers : "");
    /* One write: a split answer meets Nagle and delayed ACKs. */
    if ((all = malloc(hlen + blen)) == NULL)
        return -1;
    memcpy(all, head, hlen);
    if (blen > 0)
        memcpy(all + hlen, r->body, blen);
    for (; off < hlen + blen; off += (size_t)w) {
        if ((w = write(fd, all + off, hlen + blen - off)) <= 0)
            break;
    }
    free(all);
    return off == hlen + blen ? 0 : -1;
}

static void *serve(void *arg)
{
    conn *c = arg;
    char *req, drain[256];
    stub_reply r;

    while (read_request(c->fd, &req) > 0) {
        r = take_reply(c->s, req);
        if (r.status == 0) {
            /* Never answer: wait for the client to give up. */
            while (read(c->fd, drain, sizeof(drain)) > 0)
                ;
            break;
        }
        if (send_reply(c->fd, &r) != 0)
            break;
    }
    close(c->fd);
    free(c);
    return NULL;
}

static void *accept_loop(void *arg)
{
    stub *s = arg;
    pthread_t t;
    conn *c;
    int fd;

    while ((fd = accept(s->fd, NULL, NULL)) >= 0) {
        if ((c = malloc(sizeof(*c))) == NULL) {
            close(fd);
            continue;
        }
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->lock);
        s->connections++;
        pthread_mutex_unlock(&s->lock);
        if (pthread_create(&t, NULL, serve, c) != 0) {
            close(fd);
            free(c);
            continue;
        }
        pthread_detach(t);
    }
    return NULL;
}

int stub_start(stub *s)
{
    struct sockaddr_in sa = {0};
    socklen_t len = sizeof(sa);

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(s->fd, 64) != 0 ||
        getsockname(s->fd, (struct sockaddr *)&sa, &len) != 0)
        return -1;
    s->port = ntohs(sa.sin_port);
    return pthread_create(&s->thread, NULL, accept_loop, s) == 0 ? 0 : -1;
}

void stub_stop(stub *s)
{
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    free(s->last_request);
    s->last_request = NULL;
}

void stub_script(stub *s, const stub_reply *replies, int n)
{
    pthread_mutex_lock(&s->lock);
    memcpy(s->replies, replies, sizeof(*replies) * (size_t)n);
    s->nreplies = n;
    s->next = 0;
    s->requests = 0;
    s->connections = 0;
    free(s->last_request);
    s->last_request = NULL;
    pthread_mutex_unlock(&s->lock);
}

int stub_requests(stub *s)
{
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->requests;
    pthread_mutex_unlock(&s->lock);
    return n;
}

int stub_connections(stub *s)
{
    int n;

    pthread_mutex_lock(&s->lock);
    n = s->connections;
    pthread_mutex_unlock(&s->lock);
    return n;
}

char *stub_last_request(stub *s)
{
    char *copy;

    pthread_mutex_lock(&s->lock);
    copy = s->last_request ? strdup(s->last_request) : NULL;
    pthread_mutex_unlock(&s->lock);
    return copy;
}
