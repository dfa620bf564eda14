#!/usr/bin/env bash
# Flow: `openssl pkey -in vault:KEY -pubout` prints the public key Vault's
# HTTP API gives, and the key's parameters (bits, curve) are those of the
# Transit key. RSA-3072 and RSA-4096, slow to make, are checked in sign.sh.
source "$(dirname "$0")/lib.sh"

declare -A TEXT=(
    [ecdsa-p256]='Public-Key: (256 bit)|NIST CURVE: P-256'
    [ecdsa-p384]='Public-Key: (384 bit)|NIST CURVE: P-384'
    [ecdsa-p521]='Public-Key: (521 bit)|NIST CURVE: P-521'
    [rsa-2048]='Public-Key: (2048 bit)|Exponent: 65537'
)
TYPES=(ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa-2048)

vs_start
mount_transit
for type in "${TYPES[@]}"; do
    key_create "k-$type" "$type"
done

for type in "${TYPES[@]}"; do
    step "pkey -pubout, $type"
    key_pub "k-$type" 1 "$T/want.pem"
    assert_pubout "vault:k-$type" "$T/want.pem"

    step "pkey -text_pub, $type"
    must ossl pkey -in "vault:k-$type" -noout -text_pub
    IFS='|' read -ra lines <<<"${TEXT[$type]}"
    for line in "${lines[@]}"; do
        grep -qF "$line" "$T/out" || {
            show "$T/out" >&2
            fail "pkey -text_pub of $type: expected a line '$line'"
        }
    done
done

step "pkey -pubout -outform DER"
key_pub k-ecdsa-p256 1 "$T/want.pem"
must ossl pkey -in vault:k-ecdsa-p256 -pubout -outform DER -out "$T/got.der"
pub_der "$T/want.pem" "$T/want.der"
cmp -s "$T/got.der" "$T/want.der" || fail "DER -pubout differs from Vault's"

step "pkey without -pubout: the private key is not exported"
must_fail "vault transit:" ossl pkey -in vault:k-ecdsa-p256 -out "$T/key.pem"
! grep -q 'PRIVATE KEY' "$T/key.pem" "$T/out" 2>/dev/null ||
    fail "pkey printed a private key"

echo "pubout: OK"
