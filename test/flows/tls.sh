#!/usr/bin/env bash
# Flow: a Vault listener that requires client certificates, trusted through
# a CA directory alone: with ca_path (no ca_cert), client_cert and
# client_key, signing works; without the client certificate, or with a
# directory that lacks Vault's CA, the command fails and says why.
source "$(dirname "$0")/lib.sh"

vs_start mtls
mount_transit
key_create k ecdsa-p256
key_pub k 1 "$T/pub.pem"
echo data >"$T/data"

prov_unset ca_cert
prov_set ca_path "$VS_CA_DIR"
prov_set client_cert "$VS_CLIENT_CERT"
prov_set client_key "$VS_CLIENT_KEY"

step "sign with ca_path and a client certificate"
stats_reset
must ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
assert_verifies "$T/pub.pem" sha256 "$T/sig" "$T/data"
stats_load
assert_eq "$(stats_requests transit/sign/k)" 1 "sign requests"

step "no client certificate: the listener refuses the handshake"
prov_unset client_cert
prov_unset client_key
stats_reset
must_fail "vault transit: TLS verification failed" \
    ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
assert_detail "address=$VS_ADDR" "set client_cert and client_key" \
    "certificate required"
echo "   $(grep -F -m 1 'vault transit:' "$T/err")"
stats_load
assert_eq "$(stats_requests transit/keys/k)" 0 "key reads that got through"
assert_eq "$(stats_requests transit/sign/k)" 0 "sign requests that got through"

step "a CA directory without Vault's CA"
mkdir "$T/other-ca-dir"
prov_set ca_path "$T/other-ca-dir"
prov_set client_cert "$VS_CLIENT_CERT"
prov_set client_key "$VS_CLIENT_KEY"
must_fail "vault transit: TLS verification failed" \
    ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
assert_detail "address=$VS_ADDR"

echo "tls: OK"
