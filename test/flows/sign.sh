#!/usr/bin/env bash
# Flow: `openssl pkeyutl -sign` and `openssl dgst -sign` with vault: keys,
# each signature verified by the default provider alone with the public key
# from Vault's HTTP API. ECDSA on every curve, RSA in PKCS#1 v1.5 and PSS
# with each salt length setting; a zero PSS salt is refused. Also the
# -pubout check of RSA-3072 and RSA-4096 keys.
source "$(dirname "$0")/lib.sh"

vs_start
mount_transit
for type in ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa-2048 rsa-3072 rsa-4096; do
    key_create "k-$type" "$type"
done
head -c 3000 /dev/urandom >"$T/data"
{ cat "$T/data"; echo tampered; } >"$T/data.bad"
for md in sha256 sha384 sha512; do
    plain dgst "-$md" -binary -out "$T/data.$md" "$T/data"
done

# pkeyutl_verify PUB MD SIG PKEYOPT...: sets RC.
pkeyutl_verify() {
    local pub=$1 md=$2 sig=$3
    shift 3
    run plain pkeyutl -verify -pubin -inkey "$pub" -in "$T/data.$md" \
        -sigfile "$sig" -pkeyopt "digest:$md" "$@"
}

assert_pkeyutl_verifies() {
    pkeyutl_verify "$@"
    if ((RC != 0)); then
        show "$T/out" >&2
        show "$T/err" >&2
        fail "pkeyutl: $3 does not verify with $1 ($2 ${*:4})"
    fi
}

assert_pkeyutl_not_verifies() {
    pkeyutl_verify "$@"
    ((RC != 0)) || fail "pkeyutl: $3 verifies with $1 (${*:4}); it must not"
}

# pkeyutl_sign KEY MD OUT OPTION...: signs the MD digest of the data.
pkeyutl_sign() {
    local key=$1 md=$2 out=$3
    shift 3
    must ossl pkeyutl -sign -inkey "vault:$key" -in "$T/data.$md" \
        -pkeyopt "digest:$md" "$@" -out "$out"
}

# dgst_sign KEY MD OUT OPTION...: hashes and signs the data.
dgst_sign() {
    local key=$1 md=$2 out=$3
    shift 3
    must ossl dgst "-$md" -sign "vault:$key" "$@" -out "$out" "$T/data"
}

sign_ecdsa() {
    local key=$1 md
    key_pub "$key" 1 "$T/pub.pem"
    for md in sha256 sha384 sha512; do
        step "ECDSA $key, pkeyutl -sign, $md"
        pkeyutl_sign "$key" "$md" "$T/sig"
        assert_pkeyutl_verifies "$T/pub.pem" "$md" "$T/sig"

        step "ECDSA $key, dgst -sign, $md"
        dgst_sign "$key" "$md" "$T/sig"
        assert_verifies "$T/pub.pem" "$md" "$T/sig" "$T/data"
        # The same check must be able to fail.
        assert_not_verifies "$T/pub.pem" "$md" "$T/sig" "$T/data.bad"
    done

    step "ECDSA $key, pkeyutl -sign without a digest option"
    must ossl pkeyutl -sign -inkey "vault:$key" -in "$T/data.sha256" \
        -out "$T/sig"
    assert_pkeyutl_verifies "$T/pub.pem" sha256 "$T/sig"
}

# The salt length each -pkeyopt rsa_pss_saltlen setting must produce.
pss_salt_bytes() {
    local setting=$1 md=$2 bits=$3 hlen
    case $md in
    sha256) hlen=32 ;;
    sha384) hlen=48 ;;
    sha512) hlen=64 ;;
    esac
    case $setting in
    digest) echo "$hlen" ;;
    max | auto) echo $(((bits + 7) / 8 - hlen - 2)) ;;
    *) echo "$setting" ;;
    esac
}

sign_rsa_pkcs1() {
    local key=$1 md=$2
    step "RSA $key, PKCS#1 v1.5, pkeyutl -sign, $md"
    pkeyutl_sign "$key" "$md" "$T/sig" -pkeyopt rsa_padding_mode:pkcs1
    assert_pkeyutl_verifies "$T/pub.pem" "$md" "$T/sig" \
        -pkeyopt rsa_padding_mode:pkcs1
    assert_pkeyutl_not_verifies "$T/pub.pem" "$md" "$T/sig" \
        -pkeyopt rsa_padding_mode:pss

    step "RSA $key, PKCS#1 v1.5, dgst -sign, $md"
    dgst_sign "$key" "$md" "$T/sig"
    assert_verifies "$T/pub.pem" "$md" "$T/sig" "$T/data"
}

# sign_rsa_pss KEY MD BITS SALTLEN: the signature must carry exactly the
# salt length the setting means, so it is verified with that number.
sign_rsa_pss() {
    local key=$1 md=$2 bits=$3 salt=$4 want
    want=$(pss_salt_bytes "$salt" "$md" "$bits")
    step "RSA $key, PSS salt $salt ($want bytes), pkeyutl -sign, $md"
    pkeyutl_sign "$key" "$md" "$T/sig" -pkeyopt rsa_padding_mode:pss \
        -pkeyopt "rsa_pss_saltlen:$salt"
    assert_pkeyutl_verifies "$T/pub.pem" "$md" "$T/sig" \
        -pkeyopt rsa_padding_mode:pss -pkeyopt "rsa_pss_saltlen:$want"
    assert_pkeyutl_not_verifies "$T/pub.pem" "$md" "$T/sig" \
        -pkeyopt rsa_padding_mode:pkcs1

    step "RSA $key, PSS salt $salt, dgst -sign, $md"
    dgst_sign "$key" "$md" "$T/sig" -sigopt rsa_padding_mode:pss \
        -sigopt "rsa_pss_saltlen:$salt"
    assert_verifies "$T/pub.pem" "$md" "$T/sig" "$T/data" \
        -sigopt rsa_padding_mode:pss -sigopt "rsa_pss_saltlen:$want"
}

for type in ecdsa-p256 ecdsa-p384 ecdsa-p521; do
    sign_ecdsa "k-$type"
done

key_pub k-rsa-2048 1 "$T/pub.pem"
for md in sha256 sha384 sha512; do
    sign_rsa_pkcs1 k-rsa-2048 "$md"
done
for md in sha256 sha512; do
    for salt in digest max auto 32; do
        sign_rsa_pss k-rsa-2048 "$md" 2048 "$salt"
    done
done

# Made once per run: the server takes seconds to make an RSA-4096 key.
for bits in 3072 4096; do
    key_pub "k-rsa-$bits" 1 "$T/pub.pem"
    step "RSA k-rsa-$bits, pkey -pubout"
    assert_pubout "vault:k-rsa-$bits" "$T/pub.pem"
    sign_rsa_pkcs1 "k-rsa-$bits" sha256
    sign_rsa_pss "k-rsa-$bits" sha384 "$bits" digest
done

step "RSA PSS with a zero salt is refused before reaching Vault"
stats_reset
run ossl pkeyutl -sign -inkey vault:k-rsa-2048 -in "$T/data.sha256" \
    -pkeyopt digest:sha256 -pkeyopt rsa_padding_mode:pss \
    -pkeyopt rsa_pss_saltlen:0 -out "$T/sig0"
((RC != 0)) || fail "PSS salt length 0: expected a failure, got exit 0"
grep -qi 'salt' "$T/err" || {
    show "$T/err" >&2
    fail "PSS salt length 0: expected an error naming the salt length"
}
stats_load
assert_eq "$(stats_requests transit/sign/k-rsa-2048)" 0 \
    "sign requests for a refused zero salt"
must_fail salt ossl dgst -sha256 -sign vault:k-rsa-2048 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:0 -out "$T/sig0" \
    "$T/data"

echo "sign: OK"
