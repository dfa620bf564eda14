#!/usr/bin/env bash
# Flow: certificates and requests signed with vault: keys, over TLS to the
# test server: `req -new -x509` self-signed certificates, CSRs, `x509 -req`
# with a vault: CA key, each verified by the default provider alone; what
# `storeutl` lists.
source "$(dirname "$0")/lib.sh"

vs_start tls
mount_transit

# check_cert CERT PUB SIGALG: CERT holds PUB, is signed with SIGALG and its
# self-signature verifies. Its text stays in $T/cert.txt.
check_cert() {
    must plain x509 -in "$1" -noout -pubkey
    cp "$T/out" "$T/cert-pub.pem"
    assert_same_pub "$T/cert-pub.pem" "$2" "public key of $1"
    must plain x509 -in "$1" -noout -text
    cp "$T/out" "$T/cert.txt"
    grep -q "Signature Algorithm: $3" "$T/cert.txt" || {
        show "$T/cert.txt" >&2
        fail "$1: expected signature algorithm $3"
    }
    must plain verify -CAfile "$1" "$1"
    grep -q ': OK$' "$T/out" || fail "verify of $1 printed: $(cat "$T/out")"
}

for spec in ecdsa-p256:ecdsa-with-SHA256 ecdsa-p384:ecdsa-with-SHA384 \
    ecdsa-p521:ecdsa-with-SHA512 rsa-2048:sha256WithRSAEncryption; do
    type=${spec%%:*} sigalg=${spec#*:} md=sha256
    case $type in
    ecdsa-p384) md=sha384 ;;
    ecdsa-p521) md=sha512 ;;
    esac
    key_create "k-$type" "$type"
    key_pub "k-$type" 1 "$T/$type.pem"

    step "req -new -x509, $type"
    # A CA certificate, for x509 -req below; OpenSSL 3.5 wants it explicit.
    must ossl req -new -x509 -key "vault:k-$type" "-$md" -days 1 \
        -subj "/CN=test $type" -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,digitalSignature \
        -out "$T/$type.crt"
    check_cert "$T/$type.crt" "$T/$type.pem" "$sigalg"

    step "req -new (CSR), $type"
    must ossl req -new -key "vault:k-$type" "-$md" -subj "/CN=csr $type" \
        -out "$T/$type.csr"
    must plain req -in "$T/$type.csr" -noout -verify
    must plain req -in "$T/$type.csr" -noout -pubkey
    cp "$T/out" "$T/csr-pub.pem"
    assert_same_pub "$T/csr-pub.pem" "$T/$type.pem" "public key of the CSR"
done

step "req -new -x509 with RSA-PSS"
must ossl req -new -x509 -key vault:k-rsa-2048 -sha256 -days 1 \
    -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest \
    -subj /CN=pss -out "$T/pss.crt"
check_cert "$T/pss.crt" "$T/rsa-2048.pem" rsassaPss
grep -q 'Salt Length: 0x20' "$T/cert.txt" || {
    show "$T/cert.txt" >&2
    fail "PSS certificate: expected salt length 0x20 in its parameters"
}

step "x509 -req with a vault: CA key"
must plain req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/leaf.key" -subj /CN=leaf -out "$T/leaf.csr"
for type in ecdsa-p256 rsa-2048; do
    must ossl x509 -req -in "$T/leaf.csr" -CA "$T/$type.crt" \
        -CAkey "vault:k-$type" -set_serial 7 -days 1 -sha256 \
        -out "$T/leaf.crt"
    must plain verify -CAfile "$T/$type.crt" "$T/leaf.crt"
    grep -q ': OK$' "$T/out" || fail "leaf signed by $type: $(cat "$T/out")"
done

step "x509 -req refuses a CA certificate of another key"
must_fail "do not match" ossl x509 -req -in "$T/leaf.csr" \
    -CA "$T/ecdsa-p384.crt" -CAkey vault:k-ecdsa-p256 -set_serial 8 \
    -days 1 -out "$T/bad.crt"

# storeutl lists the one private key of a vault: URI ("0: Pkey"). Without
# -noout it would print it as PEM, which cannot be done for a key that stays
# in Vault: openssl 3.0 prints no PEM and still exits 0.
for line in "-noout -keys" "-keys"; do
    step "storeutl $line"
    read -ra opts <<<"$line"
    must ossl storeutl "${opts[@]}" vault:k-ecdsa-p256
    cat "$T/out"
    grep -q '^0: Pkey' "$T/out" && grep -q 'Total found: 1' "$T/out" ||
        fail "storeutl: expected one private key, got: $(cat "$T/out")"
    ! grep -q 'PRIVATE KEY' "$T/out" || fail "storeutl printed a private key"
done

echo "x509: OK"
