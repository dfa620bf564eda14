#!/usr/bin/env bash
# Flow: each failure a user meets gives its message and a non-zero exit, in
# bounded time, and never shows the token: no sign permission, a missing key
# or mount, a bad token, answers that are garbage, a sealed Vault, a server
# that never answers, an untrusted certificate, a stopped server.
source "$(dirname "$0")/lib.sh"

vs_start
mount_transit
key_create k ecdsa-p256
key_pub k 1 "$T/pub.pem"
echo data >"$T/data"

step "a token that may read the key but not sign"
policy_write read-only 'path "transit/keys/k" { capabilities = ["read"] }'
token=$(token_create read-only)
prov_set token "$token"
assert_pubout vault:k "$T/pub.pem"
must_fail "vault transit: permission denied" \
    ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
assert_detail mount=transit key=k "address=$VS_ADDR" status=403
must_fail "vault transit: permission denied" ossl pkeyutl -sign \
    -inkey vault:k -in "$T/pub.pem" -rawin -digest sha256 -out "$T/sig"

step "a token that may not even read the key"
policy_write nothing 'path "transit/keys/other" { capabilities = ["read"] }'
token=$(token_create nothing)
prov_set token "$token"
must_fail "vault transit: permission denied" ossl pkey -in vault:k -pubout

step "a token Vault never issued"
prov_set token "hvs.$(rand_hex 18)"
must_fail "vault transit: permission denied" ossl pkey -in vault:k -pubout
prov_set token "$ROOT_TOKEN"

step "a missing key"
must_fail "vault transit: key not found" ossl pkey -in vault:nokey -pubout
assert_detail mount=transit key=nokey
must_fail "vault transit: key not found" \
    ossl dgst -sha256 -sign vault:nokey -out "$T/sig" "$T/data"

step "a missing mount"
must_fail "vault transit: key not found" ossl pkey -in vault:nomount/k -pubout
assert_detail mount=nomount key=k

step "answers that are not JSON"
fault garbage
must_fail "vault transit: unexpected response" ossl pkey -in vault:k -pubout
fault none

step "a sealed Vault"
fault sealed
must_fail "vault transit: Vault is sealed" ossl pkey -in vault:k -pubout
assert_detail status=503
fault none

step "a server that never answers, with timeout 2s"
prov_set timeout 2s
fault stall
start=$(now_ms)
must_fail "vault transit: timeout" ossl pkey -in vault:k -pubout
elapsed=$(($(now_ms) - start))
echo "   failed after $elapsed ms"
# A hang guard, not a performance figure: the bound is generous.
assert_le "$elapsed" 10000 "milliseconds until the command gave up"
fault none
prov_unset timeout

step "debug logging to stderr and to a file shows no token"
prov_set debug debug
must ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
must_fail "vault transit: key not found" ossl pkey -in vault:nokey -pubout
prov_set debug "debug:$T/debug.log"
must ossl dgst -sha256 -sign vault:k -out "$T/sig" "$T/data"
[[ -s $T/debug.log ]] || fail "debug:$T/debug.log: no log written"
for secret in "${SECRETS[@]}"; do
    ! grep -qF -- "$secret" "$T/debug.log" || fail "a token is in the debug log"
done
prov_unset debug

step "a server certificate the provider does not trust"
vs_start tls
prov_unset ca_cert
must_fail "vault transit: TLS verification failed" \
    ossl pkey -in vault:k -pubout
assert_detail "address=$VS_ADDR"

step "a stopped server"
vs_stop
must_fail "vault transit: connection refused" ossl pkey -in vault:k -pubout
assert_detail "address=$VS_ADDR"

echo "errors: OK"
