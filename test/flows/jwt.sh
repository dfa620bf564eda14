#!/usr/bin/env bash
# Flow: examples/jwt-sign signs JWTs through OSSL_STORE and EVP_DigestSign
# with vault: keys over TLS; Debian's python3-jwt verifies them with the
# public keys read from Vault's HTTP API, and rejects tampered ones.
source "$(dirname "$0")/lib.sh"
: "${JWT_SIGN:?path of the jwt-sign example}"

vs_start tls
mount_transit
key_create es256 ecdsa-p256
key_create es384 ecdsa-p384
key_create es512 ecdsa-p521
key_create rsa rsa-2048
for key in es256 es384 es512 rsa; do
    key_pub "$key" 1 "$T/$key.pem"
done

# verify.py TOKEN_FILE PUB_PEM ALG KID CLAIMS: exits 0 if python3-jwt
# accepts the token and its header and claims are as expected (KID "-": no
# kid; CLAIMS "-": the default iat/exp claims), 3 if it rejects the token.
cat >"$T/verify.py" <<'PY'
import json, sys
import jwt

token = open(sys.argv[1]).read().strip()
key = open(sys.argv[2]).read()
alg, kid, want_claims = sys.argv[3:6]
try:
    claims = jwt.decode(token, key, algorithms=[alg])
except jwt.InvalidTokenError as e:
    print(f"rejected: {type(e).__name__}: {e}")
    sys.exit(3)
header = jwt.get_unverified_header(token)
want = {"alg": alg, "typ": "JWT"}
if kid != "-":
    want["kid"] = kid
if header != want:
    sys.exit(f"header {header}, expected {want}")
if want_claims != "-":
    if claims != json.loads(want_claims):
        sys.exit(f"claims {claims}, expected {want_claims}")
elif not (isinstance(claims.get("iat"), int) and claims.get("exp", 0) > claims["iat"]):
    sys.exit(f"default claims {claims} lack iat and a later exp")
PY

# tamper.py TOKEN_FILE sig|claims: prints the token with one bit of its
# signature flipped, or with other claims under the original signature.
cat >"$T/tamper.py" <<'PY'
import base64, json, sys

def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))

def b64e(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

header, claims, sig = open(sys.argv[1]).read().strip().split(".")
if sys.argv[2] == "sig":
    raw = bytearray(b64d(sig))
    raw[len(raw) // 2] ^= 1
    sig = b64e(bytes(raw))
else:
    c = json.loads(b64d(claims))
    c["sub"] = "mallory"
    claims = b64e(json.dumps(c).encode())
print(f"{header}.{claims}.{sig}")
PY

# assert_jwt TOKEN_FILE PUB ALG KID CLAIMS: python3-jwt accepts the token.
assert_jwt() {
    run "$VP_PYTHON" "$T/verify.py" "$@"
    if ((RC != 0)); then
        show "$T/out" >&2
        show "$T/err" >&2
        show "$1" >&2
        fail "python3-jwt: the $3 token does not verify with $2"
    fi
}

assert_jwt_rejected() {
    run "$VP_PYTHON" "$T/verify.py" "$@"
    if ((RC != 3)); then
        show "$T/out" >&2
        show "$T/err" >&2
        fail "python3-jwt: expected the $3 token $1 to be rejected (exit $RC)"
    fi
}

claims='{"iss": "vault-provider", "n": 42, "sub": "alice"}'
for spec in ES256:es256 ES384:es384 ES512:es512 RS256:rsa RS512:rsa \
    PS256:rsa; do
    alg=${spec%%:*} key=${spec#*:}
    step "$alg with vault:$key, with a kid and claims"
    must app "$JWT_SIGN" -k "kid-$key" "vault:$key" "$alg" "$claims"
    cp "$T/out" "$T/$alg.jwt"
    assert_jwt "$T/$alg.jwt" "$T/$key.pem" "$alg" "kid-$key" "$claims"
done

for spec in ES256:es256 RS256:rsa; do
    alg=${spec%%:*} key=${spec#*:}
    step "$alg with vault:$key, default claims, no kid"
    must app "$JWT_SIGN" "vault:$key" "$alg"
    cp "$T/out" "$T/default.jwt"
    assert_jwt "$T/default.jwt" "$T/$key.pem" "$alg" - -

    step "$alg: tampered tokens are rejected"
    for what in sig claims; do
        "$VP_PYTHON" "$T/tamper.py" "$T/$alg.jwt" "$what" >"$T/bad.jwt"
        assert_jwt_rejected "$T/bad.jwt" "$T/$key.pem" "$alg" "kid-$key" \
            "$claims"
    done
done

step "a token does not verify with another key"
assert_jwt_rejected "$T/ES256.jwt" "$T/es384.pem" ES256 kid-es256 "$claims"

step "an algorithm that does not fit the key is refused"
must_fail "needs another kind of key" app "$JWT_SIGN" vault:rsa ES256
must_fail "needs another kind of key" app "$JWT_SIGN" vault:es384 ES256
must_fail "needs another kind of key" app "$JWT_SIGN" vault:es256 RS256

echo "jwt: OK"
