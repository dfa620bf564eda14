/*
 * Unit tests for vault: URI parsing: each accepted form with the mount, key
 * and version it gives, and each refused form with the message it gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "uri.h"

#define CONFIG_PREFIX "vault transit: invalid configuration: "

typedef struct accepted_case {
    const char *uri;
    const char *default_key; /* configured key_name, or NULL */
    const char *mount;
    const char *name;
    int version;
} accepted_case;

static const accepted_case accepted[] = {
    {"vault:k", NULL, "transit", "k", 0},
    {"vault:signing-key", "other", "transit", "signing-key", 0},
    {"vault:a.b_c-d9", NULL, "transit", "a.b_c-d9", 0},
    {"vault:_", NULL, "transit", "_", 0},
    {"VAULT:k", NULL, "transit", "k", 0},
    {"Vault:k", NULL, "transit", "k", 0},
    {"vault:k?version=3", NULL, "transit", "k", 3},
    {"vault:k?version=1", NULL, "transit", "k", 1},
    {"vault:k?version=2147483647", NULL, "transit", "k", 2147483647},
    {"vault:k?version=latest", NULL, "transit", "k", 0},
    {"vault:other/k", NULL, "other", "k", 0},
    {"vault:team/a/transit/k?version=7", NULL, "team/a/transit", "k", 7},
    {"vault:.cfg/m~1/k", NULL, ".cfg/m~1", "k", 0},
    {"vault:my%2Dkey", NULL, "transit", "my-key", 0},
    {"vault:%6b%65%79", NULL, "transit", "key", 0},
    {"vault:%6B%65%79", NULL, "transit", "key", 0},
    {"vault:tr%61nsit2/k", NULL, "transit2", "k", 0},
    {"vault:k?version=%31%32", NULL, "transit", "k", 12},
    {"vault:k?%76ersion=4", NULL, "transit", "k", 4},
    {"vault:", "configured-key", "transit", "configured-key", 0},
    {"vault:?version=2", "configured-key", "transit", "configured-key", 2},
    {"vault:?version=latest", "configured-key", "transit", "configured-key", 0},
};

static void test_accepted(void **state)
{
    vp_uri uri;
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        const accepted_case *c = &accepted[i];

        memset(&err, 0, sizeof(err));
        print_message("accept %s\n", c->uri);
        assert_int_equal(
            vp_uri_parse(c->uri, "transit", c->default_key, &uri, &err), VC_OK);
        assert_string_equal(uri.mount, c->mount);
        assert_string_equal(uri.name, c->name);
        assert_int_equal(uri.version, c->version);
        vp_uri_clear(&uri);
        assert_null(uri.mount);
        assert_null(uri.name);
    }
}

/* The configured mount serves URIs without one; a URI's own mount wins. */
static void test_default_mount(void **state)
{
    vp_uri uri;
    vc_error err;

    assert_int_equal(vp_uri_parse("vault:k", "signing/eu", NULL, &uri, &err),
                     VC_OK);
    assert_string_equal(uri.mount, "signing/eu");
    vp_uri_clear(&uri);

    assert_int_equal(
        vp_uri_parse("vault:other/k", "signing/eu", NULL, &uri, &err), VC_OK);
    assert_string_equal(uri.mount, "other");
    vp_uri_clear(&uri);

    assert_int_equal(vp_uri_parse("vault:k", NULL, NULL, &uri, &err), VC_OK);
    assert_string_equal(uri.mount, VC_DEFAULT_MOUNT);
    vp_uri_clear(&uri);
}

typedef struct rejected_case {
    const char *uri;
    const char *default_key;
    const char *why; /* a part of the message */
} rejected_case;

static const rejected_case rejected[] = {
    {"file:/tmp/k.pem", NULL, "not a vault: URI"},
    {"vaultx:k", NULL, "not a vault: URI"},
    {"vault", NULL, "not a vault: URI"},
    {"k", NULL, "not a vault: URI"},
    {"vault://127.0.0.1:8200/transit/k", NULL,
     "the vault://host/... form is not supported"},
    {"vault://127.0.0.1:8200/transit/k", NULL,
     "use vault:NAME, vault:NAME?version=N or vault:MOUNT/NAME"},
    {"vault:///k", NULL, "form is not supported"},
    {"vault:a//b", NULL, "empty path segment"},
    {"vault:/k", NULL, "empty path segment"},
    {"vault:k/", NULL, "empty path segment"},
    {"vault:/", NULL, "empty path segment"},
    {"vault:a/b/", NULL, "empty path segment"},
    {"vault:k?foo=1", NULL, "unknown query parameter \"foo\""},
    {"vault:k?version=1&key_version=2", NULL,
     "unknown query parameter \"key_version\""},
    {"vault:k?Version=1", NULL, "unknown query parameter \"Version\""},
    {"vault:k?version=1&version=2", NULL, "version is given more than once"},
    {"vault:k?version=1&version=1", NULL, "version is given more than once"},
    {"vault:k?version=latest&version=2", NULL, "more than once"},
    {"vault:k?version=0", NULL, "version 0 does not exist"},
    {"vault:k?version=-1", NULL, "\"-1\" is not a positive whole number"},
    {"vault:k?version=+1", NULL, "is not a positive whole number"},
    {"vault:k?version=1.5", NULL, "is not a positive whole number"},
    {"vault:k?version=v2", NULL, "is not a positive whole number"},
    {"vault:k?version=LATEST", NULL, "is not a positive whole number"},
    {"vault:k?version=2147483648", NULL, "is not a positive whole number"},
    {"vault:k?version=99999999999999999999999", NULL,
     "is not a positive whole number"},
    {"vault:k?version=", NULL, "version needs a value"},
    {"vault:k?version", NULL, "version needs a value"},
    {"vault:k?", NULL, "empty query parameter"},
    {"vault:k?version=1&", NULL, "empty query parameter"},
    {"vault:k?&version=1", NULL, "empty query parameter"},
    {"vault:k#frag", NULL, "fragments (#...) are not supported"},
    {"vault:k?version=1#x", NULL, "fragments"},
    {"vault:-k", NULL, "\"-k\" is not a Transit key name"},
    {"vault:k-", NULL, "is not a Transit key name"},
    {"vault:.k", NULL, "is not a Transit key name"},
    {"vault:k.", NULL, "is not a Transit key name"},
    {"vault:ke$y", NULL, "is not a Transit key name"},
    {"vault:a%20b", NULL, "\"a b\" is not a Transit key name"},
    {"vault:k%C3%A9", NULL, "is not a Transit key name"},
    {"vault:m/k%2E", NULL, "\"k.\" is not a Transit key name"},
    {"vault:%", NULL, "the key name holds a malformed percent-escape"},
    {"vault:k%4", NULL, "malformed percent-escape"},
    {"vault:k%G1", NULL, "malformed percent-escape"},
    {"vault:k%%41", NULL, "malformed percent-escape"},
    {"vault:m%/k", NULL, "the mount holds a malformed"},
    {"vault:k?version=%3", NULL, "the version holds a malformed"},
    {"vault:k%00x", NULL, "the key name holds an escaped NUL (%00)"},
    {"vault:a%2Fb", NULL, "the key name holds an escaped '/' (%2F)"},
    {"vault:a%2fb", NULL, "the key name holds an escaped '/' (%2F)"},
    {"vault:m%2Fx/k", NULL, "the mount holds an escaped '/'"},
    {"vault:m%00/k", NULL, "the mount holds an escaped NUL"},
    {"vault:./k", NULL, "mount segment \".\" is not allowed"},
    {"vault:../k", NULL, "mount segment \"..\" is not allowed"},
    {"vault:a/../k", NULL, "mount segment \"..\" is not allowed"},
    {"vault:a/./k", NULL, "mount segment \".\" is not allowed"},
    {"vault:%2E%2E/k", NULL, "mount segment \"..\" is not allowed"},
    {"vault:m%20x/k", NULL, "mount segment \"m x\" is not allowed"},
    {"vault:m$/k", NULL, "mount segment \"m$\" is not allowed"},
    {"vault:", NULL, "names no key and no key_name is configured"},
    {"vault:", "", "no key_name is configured"},
    {"vault:?version=2", NULL, "no key_name is configured"},
    {"vault:", "bad key", "configured key_name \"bad key\" is not a Transit"},
};

static void test_rejected(void **state)
{
    char quoted[256];
    vp_uri uri;
    vc_error err;
    size_t i;

    for (i = 0; i < sizeof(rejected) / sizeof(rejected[0]); i++) {
        const rejected_case *c = &rejected[i];

        memset(&err, 0, sizeof(err));
        memset(&uri, 0x5a, sizeof(uri));
        print_message("reject %s\n", c->uri);
        assert_int_equal(
            vp_uri_parse(c->uri, "transit", c->default_key, &uri, &err),
            VC_ERR_CONFIG);
        assert_int_equal(err.status, VC_ERR_CONFIG);
        snprintf(quoted, sizeof(quoted), CONFIG_PREFIX "URI \"%s\": ", c->uri);
        assert_memory_equal(err.message, quoted, strlen(quoted));
        if (strstr(err.message, c->why) == NULL)
            fail_msg("\"%s\" not in \"%s\"", c->why, err.message);
        assert_null(uri.mount);
        assert_null(uri.name);
        assert_int_equal(uri.version, 0);
    }
}

static void test_null_uri(void **state)
{
    vp_uri uri;
    vc_error err;

    assert_int_equal(vp_uri_parse(NULL, "transit", "k", &uri, &err),
                     VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "no URI"));
    assert_null(uri.name);
}

/* A URI may carry any byte; the message shows control bytes as '?'. */
static void test_message_is_printable(void **state)
{
    vp_uri uri;
    vc_error err;

    assert_int_equal(
        vp_uri_parse("vault:a\nb\x7f", "transit", NULL, &uri, &err),
        VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "URI \"vault:a?b?\""));
    assert_null(strchr(err.message, '\n'));
}

static void test_long_uri_is_cut(void **state)
{
    char text[2048];
    vp_uri uri;
    vc_error err;

    memset(text, 'x', sizeof(text));
    memcpy(text, "vault:", 6);
    text[100] = '#';
    text[sizeof(text) - 1] = '\0';
    assert_int_equal(vp_uri_parse(text, "transit", NULL, &uri, &err),
                     VC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "...\": fragments"));
    assert_true(strlen(err.message) < sizeof(err.message));
}

/* A long key name is fine: nothing is held in a fixed buffer. */
static void test_long_name(void **state)
{
    static char text[8200];
    vp_uri uri;
    vc_error err;

    memset(text, 'k', sizeof(text) - 1);
    memcpy(text, "vault:", 6);
    text[sizeof(text) - 1] = '\0';
    assert_int_equal(vp_uri_parse(text, "transit", NULL, &uri, &err), VC_OK);
    assert_int_equal(strlen(uri.name), sizeof(text) - 1 - 6);
    vp_uri_clear(&uri);
}

static void test_key_name_rule(void **state)
{
    static const char *const good[] = {"k", "_", "K9", "a-b.c_d", "1", "a..b"};
    static const char *const bad[] = {"",   "-",   ".",   "a-", "-a", "a.",
                                      ".a", "a b", "a/b", "é",  "a+b"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(vp_uri_key_name_ok(good[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(vp_uri_key_name_ok(bad[i]));
    assert_false(vp_uri_key_name_ok(NULL));
}

static void test_mount_rule(void **state)
{
    static const char *const good[] = {"transit", "a/b/c", "m~1",
                                       ".x",      "a..",   "x-y_z.1"};
    static const char *const bad[] = {"",   "/",     "/a",   "a/",  "a//b", ".",
                                      "..", "a/./b", "a/..", "a b", "a?b"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(vp_uri_mount_ok(good[i]));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(vp_uri_mount_ok(bad[i]));
    assert_false(vp_uri_mount_ok(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_default_mount),
        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_null_uri),
        cmocka_unit_test(test_message_is_printable),
        cmocka_unit_test(test_long_uri_is_cut),
        cmocka_unit_test(test_long_name),
        cmocka_unit_test(test_key_name_rule),
        cmocka_unit_test(test_mount_rule),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
