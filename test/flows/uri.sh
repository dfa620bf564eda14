#!/usr/bin/env bash
# Flow: every vault: URI form names the key it should: a mount holding a
# slash, percent-encoding, ?version=N, a bare vault: with key_name (and
# mount) configured; malformed URIs fail with the provider's own message.
source "$(dirname "$0")/lib.sh"

vs_start
mount_transit
mount_transit secret/transit
key_create k ecdsa-p256
key_rotate k
# Same name in another mount, and of another type, so a wrong mount shows.
key_create k rsa-2048 secret/transit
key_create sign.key-1 ecdsa-p384 secret/transit
key_pub k 1 "$T/k-v1.pem"
key_pub k 2 "$T/k-v2.pem"
key_pub k 1 "$T/secret-k.pem" secret/transit
key_pub sign.key-1 1 "$T/secret-sign.pem" secret/transit
head -c 500 /dev/urandom >"$T/data"

# assert_uri URI WANT_PEM: the URI opens the key whose public key is WANT_PEM,
# and a signature made through it verifies with WANT_PEM.
assert_uri() {
    step "$1"
    assert_pubout "$1" "$2"
    must ossl dgst -sha256 -sign "$1" -out "$T/sig" "$T/data"
    assert_verifies "$2" sha256 "$T/sig" "$T/data"
}

assert_uri vault:k "$T/k-v2.pem"
assert_uri vault:transit/k "$T/k-v2.pem"
assert_uri vault:secret/transit/k "$T/secret-k.pem"
assert_uri vault:secret/transit/sign.key-1 "$T/secret-sign.pem"

# Percent-encoding: %2E is '.', %2D '-', %73 's', %61 'a', %6B 'k'.
assert_uri 'vault:secret/transit/sign%2Ekey%2D1' "$T/secret-sign.pem"
assert_uri 'vault:secret/tr%61nsit/%73ign.key-1' "$T/secret-sign.pem"
assert_uri 'vault:%6B' "$T/k-v2.pem"

assert_uri 'vault:k?version=1' "$T/k-v1.pem"
assert_uri 'vault:k?version=2' "$T/k-v2.pem"
assert_uri 'vault:transit/k?version=1' "$T/k-v1.pem"

step "bare vault: with key_name configured"
prov_set key_name k
assert_uri vault: "$T/k-v2.pem"
step "bare vault: with mount and key_name configured"
prov_set mount secret/transit
prov_set key_name sign.key-1
assert_uri vault: "$T/secret-sign.pem"
step "vault:NAME in the configured mount"
assert_uri vault:k "$T/secret-k.pem"
prov_unset mount
prov_unset key_name

# A malformed URI fails, and the provider says why, quoting the URI.
assert_bad_uri() {
    step "malformed: $1"
    must_fail "vault transit:" ossl pkey -in "$1" -pubout
    grep -F "vault transit:" "$T/err" | grep -qF -- "$1" || {
        show "$T/err" >&2
        fail "$1: the provider's error does not quote the URI"
    }
}

assert_bad_uri 'vault:k?version=abc'
assert_bad_uri 'vault:k?version='
assert_bad_uri 'vault:k?colour=red'
assert_bad_uri 'vault:k%zz'
assert_bad_uri 'vault:k%'
# An escaped '/' could mean a slash in the mount or in the key name; the
# provider refuses to guess.
assert_bad_uri 'vault:secret%2Ftransit/k'
step "bare vault: without key_name"
must_fail "vault transit:" ossl pkey -in vault: -pubout

echo "uri: OK"
