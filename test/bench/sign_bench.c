/*
 * Signing benchmark: N signatures over T threads with one key opened once
 * through OSSL_STORE; prints signatures per second, latency (mean, p50, p99,
 * max) and the TCP connections the process holds at the end. Asserts nothing.
 *
 * Usage: sign_bench [-P path] [-p provider]... [-q propquery] [-n N]
 *                   [-t threads] [-d digest] URI
 */
#include "testapp.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

struct worker {
    EVP_PKEY *key;
    const char *digest;
    int first; /* index of this worker's first entry in latency_ms */
    int count;
    int failed;
};

static double *latency_ms;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int sign_once(EVP_PKEY *key, const char *digest, const char *msg)
{
    unsigned char *sig;
    size_t siglen;
    int ok = testapp_sign(key, digest, (const unsigned char *)msg, strlen(msg),
                          &sig, &siglen);

    OPENSSL_free(sig);
    return ok;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    char msg[64];
    double start;
    int i;

    for (i = 0; i < w->count; i++) {
        snprintf(msg, sizeof(msg), "benchmark message %d", w->first + i);
        start = now_ms();
        if (!sign_once(w->key, w->digest, msg)) {
            w->failed++;
            ERR_print_errors_fp(stderr);
        }
        latency_ms[w->first + i] = now_ms() - start;
    }
    return NULL;
}

/* TCP sockets this process holds open, from /proc (Linux). */
static int open_tcp_connections(void)
{
    char path[300], target[64], line[256];
    const char *tables[] = {"/proc/self/net/tcp", "/proc/self/net/tcp6"};
    unsigned long inode;
    struct dirent *de;
    FILE *f;
    DIR *dir;
    size_t t;
    int count = 0;

    if ((dir = opendir("/proc/self/fd")) == NULL)
        return -1;
    while ((de = readdir(dir)) != NULL) {
        snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
        ssize_t n = readlink(path, target, sizeof(target) - 1);

        if (n <= 0)
            continue;
        target[n] = '\0';
        if (sscanf(target, "socket:[%lu]", &inode) != 1)
            continue;
        for (t = 0; t < 2; t++) {
            char needle[32];

            if ((f = fopen(tables[t], "r")) == NULL)
                continue;
            snprintf(needle, sizeof(needle), " %lu ", inode);
            while (fgets(line, sizeof(line), f) != NULL)
                if (strstr(line, needle) != NULL)
                    count++;
            fclose(f);
        }
    }
    closedir(dir);
    return count;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void report(const char *uri, int n, int threads, int failed,
                   double seconds)
{
    double sum = 0;
    int i;

    qsort(latency_ms, (size_t)n, sizeof(double), compare_double);
    for (i = 0; i < n; i++)
        sum += latency_ms[i];
    printf("uri=%s threads=%d signatures=%d failed=%d seconds=%.3f\n", uri,
           threads, n, failed, seconds);
    printf("signatures/s=%.1f\n", n / seconds);
    printf("latency ms: mean=%.3f p50=%.3f p99=%.3f max=%.3f\n", sum / n,
           latency_ms[n / 2], latency_ms[(n * 99) / 100], latency_ms[n - 1]);
    printf("tcp connections open at the end=%d\n", open_tcp_connections());
}

static void usage(void)
{
    fprintf(stderr, "usage: sign_bench [-P path] [-p provider]... "
                    "[-q propquery] [-n N] [-t threads] [-d digest] URI\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt, n = 1000, threads = 1, i, failed = 0, handled;
    const char *digest = "SHA256";
    struct worker *workers;
    pthread_t *ids;
    EVP_PKEY *key;
    double start;

    while ((opt = getopt(argc, argv, TESTAPP_OPTIONS "n:t:d:")) != -1) {
        if ((handled = testapp_option(opt, optarg)) < 0)
            return 1;
        if (handled)
            continue;
        if (opt == 'n')
            n = atoi(optarg);
        else if (opt == 't')
            threads = atoi(optarg);
        else if (opt == 'd')
            digest = optarg;
        else
            usage();
    }
    if (argc - optind != 1 || n < 1 || threads < 1 || threads > n)
        usage();
    if ((key = testapp_load_key(argv[optind])) == NULL)
        return 1;

    latency_ms = calloc((size_t)n, sizeof(double));
    workers = calloc((size_t)threads, sizeof(*workers));
    ids = calloc((size_t)threads, sizeof(*ids));
    if (latency_ms == NULL || workers == NULL || ids == NULL)
        return 1;

    start = now_ms();
    for (i = 0; i < threads; i++) {
        workers[i].key = key;
        workers[i].digest = digest;
        workers[i].count = n / threads + (i < n % threads);
        workers[i].first =
            i == 0 ? 0 : workers[i - 1].first + workers[i - 1].count;
        if (pthread_create(&ids[i], NULL, run_worker, &workers[i]) != 0)
            return 1;
    }
    for (i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        failed += workers[i].failed;
    }
    report(argv[optind], n, threads, failed, (now_ms() - start) / 1e3);

    free(ids);
    free(workers);
    free(latency_ms);
    EVP_PKEY_free(key);
    return failed == 0 ? 0 : 1;
}
