/*
 * Signs N messages with one key opened once through OSSL_STORE, each with a
 * size query first, and verifies every signature locally with the default
 * provider. The efficiency flow counts the Vault requests this costs.
 *
 * Usage: sign_loop [-P path] [-p provider]... [-q propquery] [-t threads]
 *                  [-d digest] URI N
 */
#include "testapp.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

struct job {
    EVP_PKEY *key;
    EVP_PKEY *pub;
    const char *digest;
    int thread;
    int count;
    int verified;
};

/* One signature through the key, checked with its public copy. */
static int sign_once(struct job *job, const unsigned char *msg, size_t len)
{
    EVP_MD_CTX *ctx = NULL;
    unsigned char *sig = NULL;
    size_t siglen;
    int ok = 0;

    if (!testapp_sign(job->key, job->digest, msg, len, &sig, &siglen))
        goto err;
    if ((ctx = EVP_MD_CTX_new()) == NULL)
        goto err;
    if (EVP_DigestVerifyInit_ex(ctx, NULL, job->digest, NULL,
                                "provider=default", job->pub, NULL) <= 0)
        goto err;
    ok = EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;
    if (!ok)
        fprintf(stderr, "thread %d: a signature does not verify\n",
                job->thread);

err:
    if (!ok)
        ERR_print_errors_fp(stderr);
    OPENSSL_free(sig);
    EVP_MD_CTX_free(ctx);
    return ok;
}

static void *run_job(void *arg)
{
    struct job *job = arg;
    char msg[64];
    int i, len;

    for (i = 0; i < job->count; i++) {
        len = snprintf(msg, sizeof(msg), "message %d of thread %d", i,
                       job->thread);
        if (!sign_once(job, (unsigned char *)msg, (size_t)len))
            break;
        job->verified++;
    }
    return NULL;
}

/* Splits n signatures over the threads and returns how many verified. */
static int run_threads(struct job *proto, int threads, int n)
{
    pthread_t *ids = calloc((size_t)threads, sizeof(*ids));
    struct job *jobs = calloc((size_t)threads, sizeof(*jobs));
    int i, started = 0, verified = 0;

    if (ids == NULL || jobs == NULL)
        goto done;
    for (i = 0; i < threads; i++) {
        jobs[i] = *proto;
        jobs[i].thread = i;
        jobs[i].count = n / threads + (i < n % threads);
        if (pthread_create(&ids[i], NULL, run_job, &jobs[i]) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++) {
        pthread_join(ids[i], NULL);
        verified += jobs[i].verified;
    }

done:
    free(ids);
    free(jobs);
    return verified;
}

static void usage(void)
{
    fprintf(stderr, "usage: sign_loop [-P path] [-p provider]... "
                    "[-q propquery] [-t threads] [-d digest] URI N\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct job proto = {.digest = "SHA256"};
    int opt, threads = 1, n, verified;

    while ((opt = getopt(argc, argv, TESTAPP_OPTIONS "t:d:")) != -1) {
        int handled = testapp_option(opt, optarg);

        if (handled < 0)
            return 1;
        if (handled)
            continue;
        if (opt == 't')
            threads = atoi(optarg);
        else if (opt == 'd')
            proto.digest = optarg;
        else
            usage();
    }
    if (argc - optind != 2 || threads < 1)
        usage();
    n = atoi(argv[optind + 1]);
    if (n < 1)
        usage();

    proto.key = testapp_load_key(argv[optind]);
    if (proto.key == NULL)
        return 1;
    proto.pub = testapp_public_copy(proto.key);
    if (proto.pub == NULL)
        return 1;

    verified = run_threads(&proto, threads, n);
    printf("%d of %d signatures verified (%d threads)\n", verified, n, threads);
    EVP_PKEY_free(proto.pub);
    EVP_PKEY_free(proto.key);
    return verified == n ? 0 : 1;
}
