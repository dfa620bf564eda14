#!/usr/bin/env bash
# The README's demo: builds the provider into ./build (or $BUILD_DIR), then
# signs a JWT with an ES256 and an RS256 Transit key and a file with
# `openssl dgst`, and verifies all three locally without Vault.
#
# Without VAULT_ADDR it starts the bundled Transit test server on 127.0.0.1
# (a fresh root token, stopped at exit) and makes the keys there. With
# VAULT_ADDR (and VAULT_TOKEN or ~/.vault-token) it uses that Vault: the
# transit mount (AUTHPLANE_VAULT_TRANSIT_MOUNT, default "transit") and the
# keys demo-es256 and demo-rs256 are created only if missing. The token is
# never printed. Safe to run again.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
python=/usr/bin/python3 # Debian's, which has python3-jwt
mount=${AUTHPLANE_VAULT_TRANSIT_MOUNT:-transit}
work=$(mktemp -d "${TMPDIR:-/tmp}/vault-demo.XXXXXX")
sim_pid=

say() { echo "demo: $*"; }
die() {
    echo "demo: FAILED: $*" >&2
    exit 1
}

cleanup() {
    if [[ -n $sim_pid ]]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Runs a step quietly; on failure shows its output and stops.
quiet() {
    "$@" >"$work/step.log" 2>&1 || {
        tail -n 40 "$work/step.log" >&2
        die "$*"
    }
}

build_provider() {
    say "checking packages (test/deps.sh)"
    quiet env VP_SKIP_DEBIAN13=1 "$src/test/deps.sh"
    say "building into $build"
    quiet cmake -S "$src" -B "$build"
    quiet cmake --build "$build" -j "$(nproc)"
}

# vault METHOD PATH [JSON]: calls Vault's HTTP API; prints the HTTP status,
# the body goes to $work/body. The token travels in a header file, not argv.
vault() {
    local args=(-sS --max-time 30 -X "$1" -o "$work/body" -w '%{http_code}'
        -H "@$work/headers")
    [[ -z ${VAULT_CACERT-} ]] || args+=(--cacert "$VAULT_CACERT")
    [[ -z ${VAULT_CAPATH-} ]] || args+=(--capath "$VAULT_CAPATH")
    [[ ${VAULT_SKIP_VERIFY-} != @(1|true) ]] || args+=(--insecure)
    [[ -z ${3-} ]] || args+=(-H 'Content-Type: application/json' --data "$3")
    curl "${args[@]}" "$VAULT_ADDR/v1/$2"
}

write_headers() {
    (
        umask 077
        echo "X-Vault-Token: $1" >"$work/headers"
        [[ -z ${VAULT_NAMESPACE-} ]] ||
            echo "X-Vault-Namespace: $VAULT_NAMESPACE" >>"$work/headers"
    )
}

start_test_server() {
    local token i
    token=hvs.$(od -An -tx1 -N18 /dev/urandom | tr -d ' \n')
    say "no VAULT_ADDR: starting the bundled Transit test server on 127.0.0.1"
    "$src/test/vaultsim/vaultsim" --listen 127.0.0.1:0 --root-token "$token" \
        --port-file "$work/port" >"$work/vaultsim.log" 2>&1 &
    sim_pid=$!
    # Its port file appears once it accepts connections: poll for 10 s.
    for ((i = 0; i < 500; i++)); do
        [[ -s $work/port ]] && break
        kill -0 "$sim_pid" 2>/dev/null || die "the test server did not start"
        sleep 0.02
    done
    [[ -s $work/port ]] || die "the test server wrote no port in 10 s"
    VAULT_ADDR=http://127.0.0.1:$(<"$work/port")
    export VAULT_ADDR
    export VAULT_TOKEN=$token
    say "test server at $VAULT_ADDR"
}

# ensure_key NAME TYPE: uses the key if it exists, else creates it (and the
# mount, if that is missing too).
ensure_key() {
    local code
    code=$(vault GET "$mount/keys/$1")
    if [[ $code == 200 ]]; then
        say "using the existing key $mount/$1"
        return
    fi
    code=$(vault POST "$mount/keys/$1" "{\"type\":\"$2\"}")
    if [[ $code == 404 || $code == 400 ]] && ! mount_exists; then
        say "enabling a transit engine at $mount/"
        code=$(vault POST "sys/mounts/$mount" '{"type":"transit"}')
        [[ $code == 2* ]] || die "enabling transit at $mount: HTTP $code: $(<"$work/body")"
        code=$(vault POST "$mount/keys/$1" "{\"type\":\"$2\"}")
    fi
    [[ $code == 2* ]] || die "creating $mount/$1: HTTP $code: $(<"$work/body")"
    say "created the $2 key $mount/$1"
}

mount_exists() {
    [[ $(vault GET "sys/mounts/$mount") == 200 ]]
}

# Activates the default provider, then vault, through a private openssl.cnf;
# the provider reads VAULT_ADDR, VAULT_TOKEN etc. from the environment.
write_openssl_cnf() {
    cat >"$work/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
vault = vault_sect
[default_sect]
activate = 1
[vault_sect]
module = $build/modules/vault.so
activate = 1
EOF
    export OPENSSL_CONF=$work/openssl.cnf
}

# verify_jwt TOKEN PUB_PEM ALG: python3-jwt checks the token locally.
verify_jwt() {
    "$python" - "$@" <<'PY'
import sys
import jwt

token, pem, alg = sys.argv[1], open(sys.argv[2]).read(), sys.argv[3]
claims = jwt.decode(token, pem, algorithms=[alg])
print(f"demo: {alg} JWT verified by python3-jwt, claims {claims}")
PY
}

sign_jwt() {
    local key=$1 alg=$2 jwt
    say "signing an $alg JWT with vault:$key"
    quiet openssl pkey -in "vault:$key" -pubout -out "$work/$key.pub.pem"
    jwt=$("$build/examples/jwt-sign" -k "$key" "vault:$key" "$alg" \
        2>"$work/step.log") || {
        cat "$work/step.log" >&2
        die "jwt-sign vault:$key $alg"
    }
    say "  ${jwt:0:60}..."
    verify_jwt "$jwt" "$work/$key.pub.pem" "$alg" ||
        die "the $alg JWT does not verify"
}

sign_file() {
    say "signing a file with openssl dgst -sha256 -sign vault:demo-es256"
    echo "Signed by a key that never left Vault, $(date -u)" >"$work/file.txt"
    quiet openssl dgst -sha256 -sign vault:demo-es256 -out "$work/file.sig" \
        "$work/file.txt"
    # The check runs with the default provider alone: no Vault involved.
    OPENSSL_CONF=/dev/null openssl dgst -sha256 \
        -verify "$work/demo-es256.pub.pem" -signature "$work/file.sig" \
        "$work/file.txt" >"$work/step.log" 2>&1 ||
        die "the file signature does not verify: $(<"$work/step.log")"
    say "file signature: $(<"$work/step.log") (default provider alone)"
}

build_provider
if [[ -z ${VAULT_ADDR-} ]]; then
    start_test_server
else
    say "using the Vault at $VAULT_ADDR"
    if [[ -z ${VAULT_TOKEN-} && -r $HOME/.vault-token ]]; then
        VAULT_TOKEN=$(<"$HOME/.vault-token")
        export VAULT_TOKEN
    fi
    [[ -n ${VAULT_TOKEN-} ]] || die "set VAULT_TOKEN (or vault login)"
fi
write_headers "$VAULT_TOKEN"
ensure_key demo-es256 ecdsa-p256
ensure_key demo-rs256 rsa-2048
write_openssl_cnf

sign_jwt demo-es256 ES256
sign_jwt demo-rs256 RS256
sign_file
say OK
