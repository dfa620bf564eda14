#!/usr/bin/env bash
# Flow: after keys/NAME/rotate, vault:NAME signs with the newest version and
# vault:NAME?version=N keeps signing with version N; each signature verifies
# with its own version's public key and with no other, locally and in
# Vault's own view (transit/verify).
source "$(dirname "$0")/lib.sh"

vs_start
mount_transit
head -c 1000 /dev/urandom >"$T/data"
plain dgst -sha256 -binary -out "$T/data.sha256" "$T/data"

# vault_verifies KEY VERSION SIG: prints Vault's verdict (true/false) on SIG
# presented as a signature of that version.
vault_verifies() {
    local body rsa=()
    # openssl signs RSA with PKCS#1 v1.5 by default; Vault's default is PSS.
    [[ $1 != *rsa* ]] || rsa=(signature_algorithm pkcs1v15)
    body=$(json_obj input "$(base64 -w0 <"$T/data.sha256")" \
        prehashed json:true hash_algorithm sha2-256 "${rsa[@]}" \
        signature "vault:v$2:$(base64 -w0 <"$3")")
    vault_api POST "transit/verify/$1" "$body" | json_eval "d['data']['valid']"
}

check_version() {
    local key=$1 uri=$2 version=$3 other
    step "$uri signs with version $version"
    assert_pubout "$uri" "$T/$key.v$version.pem"
    must ossl dgst -sha256 -sign "$uri" -out "$T/sig" "$T/data"
    assert_verifies "$T/$key.v$version.pem" sha256 "$T/sig" "$T/data"
    assert_eq "$(vault_verifies "$key" "$version" "$T/sig")" true \
        "Vault's verdict on the $uri signature as version $version"
    for other in 1 2 3; do
        [[ $other != "$version" ]] || continue
        assert_not_verifies "$T/$key.v$other.pem" sha256 "$T/sig" "$T/data"
        assert_eq "$(vault_verifies "$key" "$other" "$T/sig")" false \
            "Vault's verdict on the $uri signature as version $other"
    done
}

for type in ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa-2048; do
    key=k-$type
    key_create "$key" "$type"
    must ossl dgst -sha256 -sign "vault:$key" -out "$T/sig" "$T/data"
    key_rotate "$key"
    key_rotate "$key"
    for v in 1 2 3; do
        key_pub "$key" "$v" "$T/$key.v$v.pem"
    done
    step "$type: the three versions differ"
    pub_der "$T/$key.v1.pem" "$T/v1.der"
    pub_der "$T/$key.v2.pem" "$T/v2.der"
    pub_der "$T/$key.v3.pem" "$T/v3.der"
    if cmp -s "$T/v1.der" "$T/v2.der" || cmp -s "$T/v2.der" "$T/v3.der"; then
        fail "$type: rotation did not make a new public key"
    fi
    step "$type: a signature made before the rotation stays version 1's"
    assert_verifies "$T/$key.v1.pem" sha256 "$T/sig" "$T/data"

    check_version "$key" "vault:$key" 3
    check_version "$key" "vault:$key?version=1" 1
    check_version "$key" "vault:$key?version=2" 2
done

step "a version that does not exist fails"
must_fail "vault transit:" ossl dgst -sha256 -sign 'vault:k-ecdsa-p256?version=9' \
    -out "$T/sig" "$T/data"

echo "rotation: OK"
