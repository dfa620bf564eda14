# shellcheck shell=bash
# Shared helpers for the CLI flow tests, sourced by every flow script: a
# private Transit test server, Vault API calls for setup, assertions, and
# `ossl`/`app`, which run openssl or a test program with the vault provider
# loaded the way $MODE says (see prov_prepare).
set -euo pipefail

: "${MODE:?MODE must be default-first, default-last or propquery}"
: "${VP_OPENSSL:?}" "${VP_PYTHON:?}" "${VP_MODULES_DIR:?}" "${VAULTSIM:?}"
case $MODE in
default-first | default-last | propquery) ;;
*)
    echo "FAIL: unknown MODE '$MODE'" >&2
    exit 2
    ;;
esac

# Inherited Vault settings would leak into the provider's configuration.
while read -r var; do
    case $var in
    VAULT_* | BAO_* | AUTHPLANE_* | OPENSSL_CONF | OPENSSL_MODULES) unset "$var" ;;
    esac
done < <(compgen -e)

T=$(mktemp -d "${TMPDIR:-/tmp}/vp-flow.XXXXXX")
# The provider falls back to ~/.vault-token: keep it away from a real one.
export HOME=$T/home
mkdir -p "$HOME"

VS_PIDS=()
CURL_TLS=()
SECRETS=() # every token handed out; none may ever appear in output
declare -A PROV=()

cleanup() {
    local pid
    for pid in "${VS_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$T"
}
trap cleanup EXIT

# Output and bookkeeping.

fail() {
    echo "FAIL [$MODE]: $*" >&2
    exit 1
}

step() {
    echo "-- $*"
}

# Shows a file in a failure message, indented, at most 40 lines.
show() {
    sed -n '1,40s/^/    | /p' "$1"
}

now_ms() {
    local t=${EPOCHREALTIME//[!0-9]/} # microseconds, whatever the locale
    echo $((10#$t / 1000))
}

rand_hex() {
    od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'
}

# Evaluates a Python expression over the JSON document on stdin (bound to d)
# and prints the result: strings as they are, anything else as JSON.
json_eval() {
    "$VP_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
v = eval(sys.argv[1])
print(v if isinstance(v, str) else json.dumps(v))' "$1"
}

# Builds a JSON object from KEY VALUE pairs; a value starting with "json:" is
# taken as raw JSON ("json:true", "json:[\"a\"]"), others as strings.
json_obj() {
    "$VP_PYTHON" -c '
import json, sys
a = sys.argv[1:]
o = {}
for k, v in zip(a[0::2], a[1::2]):
    o[k] = json.loads(v[5:]) if v.startswith("json:") else v
print(json.dumps(o))' "$@"
}

# The Transit test server.

# Makes a throwaway self-signed certificate for a TLS server on 127.0.0.1.
make_tls_cert() {
    OPENSSL_CONF=/dev/null "$VP_OPENSSL" req -x509 -newkey ec \
        -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$1/tls.key" \
        -out "$1/tls.crt" 2>"$1/tls.err" || {
        show "$1/tls.err"
        fail "could not make a TLS certificate"
    }
}

# cert_issue DIR NAME SUBJECT [-addext EXT]...: a P-256 key DIR/NAME.key and
# a certificate DIR/NAME.crt signed by DIR/ca.crt.
cert_issue() {
    local dir=$1 name=$2 subject=$3
    shift 3
    plain req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 1 -subj "$subject" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -addext basicConstraints=critical,CA:FALSE "$@" \
        -keyout "$dir/$name.key" -out "$dir/$name.crt" 2>"$dir/$name.err" || {
        show "$dir/$name.err" >&2
        fail "could not make the certificate $name"
    }
}

# make_mtls_certs DIR: a CA (ca.crt, also under its hash name in DIR/ca-dir
# for ca_path), the server's certificate for 127.0.0.1 (tls.crt, tls.key)
# and a client certificate (client.crt, client.key), both signed by the CA.
make_mtls_certs() {
    local dir=$1
    plain req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 1 -subj "/CN=vault-provider flow test CA" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>"$dir/ca.err" || {
        show "$dir/ca.err" >&2
        fail "could not make a CA certificate"
    }
    cert_issue "$dir" tls /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
        -addext extendedKeyUsage=serverAuth
    cert_issue "$dir" client "/CN=vault-provider flow test client" \
        -addext extendedKeyUsage=clientAuth
    mkdir "$dir/ca-dir"
    cp "$dir/ca.crt" "$dir/ca-dir/"
    plain rehash "$dir/ca-dir" 2>"$dir/rehash.err" || {
        show "$dir/rehash.err" >&2
        fail "openssl rehash $dir/ca-dir failed"
    }
    compgen -G "$dir/ca-dir/*.0" >/dev/null ||
        fail "openssl rehash made no hash link in $dir/ca-dir"
}

# vs_start [plain|tls|mtls]: starts a server on a free loopback port with a
# fresh root token and waits (at most 10 s) until it answers. Sets VS_ADDR,
# VS_PID, ROOT_TOKEN, and points the provider at it. tls: a self-signed
# certificate, VS_CA. mtls: also requires client certificates from its CA;
# sets VS_CA, VS_CA_DIR (hashed, for ca_path), VS_CLIENT_CERT and
# VS_CLIENT_KEY, but gives the provider only ca_cert.
vs_start() {
    local dir tls=${1-} deadline port args=()
    dir=$(mktemp -d "$T/vs.XXXXXX")
    ROOT_TOKEN="hvs.$(rand_hex 18)"
    SECRETS+=("$ROOT_TOKEN")
    VS_CA=
    CURL_TLS=()
    if [[ $tls == tls ]]; then
        make_tls_cert "$dir"
        VS_CA=$dir/tls.crt
    elif [[ $tls == mtls ]]; then
        make_mtls_certs "$dir"
        VS_CA=$dir/ca.crt
        # shellcheck disable=SC2034 # for the flow scripts (tls.sh)
        VS_CA_DIR=$dir/ca-dir
        VS_CLIENT_CERT=$dir/client.crt
        VS_CLIENT_KEY=$dir/client.key
        args=(--tls-client-ca "$VS_CA")
        CURL_TLS=(--cert "$VS_CLIENT_CERT" --key "$VS_CLIENT_KEY")
    fi
    if [[ -n $VS_CA ]]; then
        args+=(--tls-cert "$dir/tls.crt" --tls-key "$dir/tls.key")
        CURL_TLS+=(--cacert "$VS_CA")
    fi
    "$VAULTSIM" --listen 127.0.0.1:0 --root-token "$ROOT_TOKEN" \
        --port-file "$dir/port" "${args[@]}" >"$dir/log" 2>&1 &
    VS_PID=$!
    VS_PIDS+=("$VS_PID")
    VS_LOG=$dir/log

    deadline=$(($(now_ms) + 10000))
    until [[ -s $dir/port && $(<"$dir/port") =~ ^[0-9]+$ ]]; do
        if ! kill -0 "$VS_PID" 2>/dev/null; then
            show "$dir/log" >&2
            fail "vaultsim exited before writing its port file"
        fi
        (($(now_ms) < deadline)) ||
            fail "vaultsim wrote no port file within 10 s"
        sleep 0.02 # polling a file: there is nothing to wait on instead
    done
    port=$(<"$dir/port")
    if [[ -n $VS_CA ]]; then
        VS_ADDR=https://127.0.0.1:$port
    else
        VS_ADDR=http://127.0.0.1:$port
    fi
    if ! sim_get stats >/dev/null; then
        show "$VS_LOG" >&2
        fail "vaultsim at $VS_ADDR does not answer"
    fi

    PROV=([address]=$VS_ADDR [token]=$ROOT_TOKEN)
    [[ -z $VS_CA ]] || PROV[ca_cert]=$VS_CA
}

# Stops the last server started; its port then refuses connections.
vs_stop() {
    kill "$VS_PID"
    wait "$VS_PID" 2>/dev/null || true
}

# Test-control interface: sim_get stats; sim_post reset; sim_post fault JSON.
sim_get() {
    curl -sS --fail --max-time 10 "${CURL_TLS[@]}" "$VS_ADDR/_sim/$1"
}

sim_post() {
    curl -sS --fail --max-time 10 "${CURL_TLS[@]}" -X POST \
        -H 'Content-Type: application/json' --data "${2:-"{}"}" \
        "$VS_ADDR/_sim/$1" >/dev/null
}

stats_reset() {
    sim_post reset || fail "POST /_sim/reset failed"
}

# Reads the counters once into $T/stats.json for stats_requests and
# stats_connections. Every reading is a connection of its own, so take one
# reading per check.
stats_load() {
    sim_get stats >"$T/stats.json" || fail "GET /_sim/stats failed"
}

# stats_requests PATH: requests to /v1/PATH between reset and reading.
stats_requests() {
    json_eval "d['requests'].get('$1', 0)" <"$T/stats.json"
}

# The TCP connections accepted between reset and reading, less the one the
# reading itself came in on (the server counts every connection).
stats_connections() {
    json_eval "d['connections'] - 1" <"$T/stats.json"
}

fault() {
    sim_post fault "{\"mode\": \"$1\"}" || fail "setting fault $1 failed"
}

# vault_api METHOD PATH [JSON]: one Vault API call with the root token;
# prints the body, fails the test on an HTTP error.
vault_api() {
    local code args=(-sS --max-time 30 "${CURL_TLS[@]}" -X "$1"
        -o "$T/api.body" -w '%{http_code}' -H "X-Vault-Token: $ROOT_TOKEN")
    if [[ -n ${3-} ]]; then
        args+=(-H 'Content-Type: application/json' --data "$3")
    fi
    code=$(curl "${args[@]}" "$VS_ADDR/v1/$2") || fail "curl: $1 /v1/$2 failed"
    if ((code >= 400)); then
        show "$T/api.body" >&2
        fail "Vault API $1 /v1/$2 answered $code"
    fi
    cat "$T/api.body"
}

mount_transit() {
    vault_api POST "sys/mounts/${1:-transit}" '{"type":"transit"}' >/dev/null
}

# key_create NAME TYPE [MOUNT]
key_create() {
    vault_api POST "${3:-transit}/keys/$1" "{\"type\":\"$2\"}" >/dev/null
}

key_rotate() {
    vault_api POST "${2:-transit}/keys/$1/rotate" >/dev/null
}

# key_pub NAME VERSION FILE [MOUNT]: the PEM public key Vault's HTTP API
# gives for that version (read without the provider).
key_pub() {
    vault_api GET "${4:-transit}/keys/$1" |
        json_eval "d['data']['keys']['$2']['public_key']" >"$3"
    grep -q 'BEGIN PUBLIC KEY' "$3" ||
        fail "keys/$1 version $2 has no PEM public key: $(cat "$3")"
}

# policy_write NAME HCL
policy_write() {
    vault_api PUT "sys/policies/acl/$1" "$(json_obj policy "$2")" >/dev/null
}

# token_create POLICY...: prints a new token holding those policies.
token_create() {
    local policies token
    policies=$(printf '%s\n' "$@" | "$VP_PYTHON" -c \
        'import json,sys; print(json.dumps(sys.stdin.read().split()))')
    token=$(vault_api POST auth/token/create \
        "$(json_obj policies "json:$policies" no_default_policy json:true)" |
        json_eval "d['auth']['client_token']")
    [[ -n $token ]] || fail "auth/token/create returned no token"
    echo "$token"
}

# The provider's configuration and the commands that load it.
#
# PROV holds the provider's settings under their openssl.cnf names. MODE
# decides how they reach the provider:
#   default-first  openssl.cnf activates default, then vault; settings in the
#                  vault section
#   default-last   openssl.cnf activates vault, then default; settings in the
#                  environment
#   propquery      no activation in openssl.cnf; -provider vault -provider
#                  default -propquery ?provider=vault; settings in the
#                  environment

declare -A PROV_ENV_NAME=(
    [address]=VAULT_ADDR
    [token]=VAULT_TOKEN
    [ca_cert]=VAULT_CACERT
    [ca_path]=VAULT_CAPATH
    [client_cert]=VAULT_CLIENT_CERT
    [client_key]=VAULT_CLIENT_KEY
    [timeout]=VAULT_CLIENT_TIMEOUT
    [namespace]=VAULT_NAMESPACE
    [mount]=AUTHPLANE_VAULT_TRANSIT_MOUNT
    [key_name]=AUTHPLANE_VAULT_TRANSIT_KEY_NAME
    [approle_role_id]=AUTHPLANE_VAULT_APPROLE_ROLE_ID
    [approle_secret_id]=AUTHPLANE_VAULT_APPROLE_SECRET_ID
    [approle_mount]=AUTHPLANE_VAULT_APPROLE_MOUNT
    [debug]=VAULT_PROVIDER_DEBUG
)

prov_set() {
    PROV[$1]=$2
    if [[ $1 == token || $1 == approle_secret_id ]]; then
        SECRETS+=("$2")
    fi
}

prov_unset() {
    unset "PROV[$1]"
}

settings_in_cnf() {
    [[ $MODE == default-first ]]
}

write_cnf() {
    local key first=default second=vault
    [[ $MODE == default-last ]] && first=vault second=default
    {
        echo "openssl_conf = openssl_init"
        echo "[openssl_init]"
        echo "providers = provider_sect"
        echo "[provider_sect]"
        echo "$first = ${first}_sect"
        echo "$second = ${second}_sect"
        echo "[default_sect]"
        echo "activate = 1"
        echo "[vault_sect]"
        echo "module = $VP_MODULES_DIR/vault.so"
        echo "activate = 1"
        if settings_in_cnf; then
            for key in "${!PROV[@]}"; do
                echo "$key = ${PROV[$key]}"
            done
        fi
    } >"$T/openssl.cnf"
}

# Fills PROV_ENVS (VAR=value for env), PROV_CLI (openssl options) and
# PROV_APP (the test programs' equivalent options) for the current MODE.
prov_prepare() {
    local key
    PROV_ENVS=() PROV_CLI=() PROV_APP=()
    if [[ $MODE == propquery ]]; then
        PROV_ENVS+=("OPENSSL_CONF=/dev/null")
        PROV_CLI=(-provider-path "$VP_MODULES_DIR" -provider vault
            -provider default -propquery '?provider=vault')
        PROV_APP=(-P "$VP_MODULES_DIR" -p vault -p default
            -q '?provider=vault')
    else
        write_cnf
        PROV_ENVS+=("OPENSSL_CONF=$T/openssl.cnf")
    fi
    settings_in_cnf && return 0
    for key in "${!PROV[@]}"; do
        [[ -n ${PROV_ENV_NAME[$key]-} ]] ||
            fail "no environment variable for setting '$key'"
        PROV_ENVS+=("${PROV_ENV_NAME[$key]}=${PROV[$key]}")
    done
}

# Commands using the provider are killed after this many seconds, so that a
# hang fails the test with its command line (exit status 124).
HANG_LIMIT=60

# ossl SUBCOMMAND ARGS...: openssl with the vault provider.
ossl() {
    local sub=$1
    shift
    prov_prepare
    timeout "$HANG_LIMIT" env "${PROV_ENVS[@]}" \
        "$VP_OPENSSL" "$sub" "${PROV_CLI[@]}" "$@"
}

# app PROGRAM ARGS...: a test program (jwt-sign, sign_loop) with the vault
# provider, loaded through openssl.cnf or its -P/-p/-q options.
app() {
    local prog=$1
    shift
    prov_prepare
    timeout "$HANG_LIMIT" env "${PROV_ENVS[@]}" "$prog" "${PROV_APP[@]}" "$@"
}

# plain ARGS...: openssl with the default provider alone.
plain() {
    OPENSSL_CONF=/dev/null "$VP_OPENSSL" "$@"
}

# Running commands and checking what they did.

# run CMD...: runs CMD with stdout in $T/out and stderr in $T/err, sets RC,
# and fails the test if any token appears in either.
run() {
    LAST_CMD="$*"
    if "$@" >"$T/out" 2>"$T/err"; then
        RC=0
    else
        RC=$?
    fi
    local secret
    for secret in "${SECRETS[@]}"; do
        if grep -qF -- "$secret" "$T/out" "$T/err"; then
            fail "a token appeared in the output of: $LAST_CMD"
        fi
    done
}

# must CMD...: CMD must succeed.
must() {
    run "$@"
    if ((RC != 0)); then
        echo "stderr:" >&2
        show "$T/err" >&2
        fail "expected success, got exit $RC from: $LAST_CMD"
    fi
}

# must_fail [-i] TEXT CMD...: CMD must exit non-zero (not by HANG_LIMIT) with
# TEXT in its stderr; -i ignores case.
must_fail() {
    local text icase=()
    if [[ $1 == -i ]]; then
        icase=(-i)
        shift
    fi
    text=$1
    shift
    run "$@"
    if ((RC == 0)); then
        fail "expected failure with '$text', got exit 0 from: $LAST_CMD"
    fi
    if ((RC == 124)); then
        fail "killed after $HANG_LIMIT s: $LAST_CMD"
    fi
    if ! grep -qF "${icase[@]}" -- "$text" "$T/err"; then
        echo "stderr:" >&2
        show "$T/err" >&2
        fail "expected '$text' in stderr of: $LAST_CMD (exit $RC)"
    fi
}

# assert_detail PART...: the provider's error line names each PART.
assert_detail() {
    local line part
    line=$(grep -F 'vault transit:' "$T/err" | head -n 1)
    for part in "$@"; do
        [[ $line == *"$part"* ]] || {
            show "$T/err" >&2
            fail "the error line lacks '$part'"
        }
    done
}

assert_eq() {
    [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# assert_le VALUE MAX WHAT
assert_le() {
    (($1 <= $2)) || fail "$3: expected at most $2, got $1"
}

# Public keys and signatures.

# Normalises a PEM or DER public key to DER with the default provider.
pub_der() {
    plain pkey -pubin -in "$1" -outform DER -out "$2" 2>"$T/der.err" || {
        show "$T/der.err" >&2
        show "$1" >&2
        fail "not a public key: $1"
    }
}

# assert_same_pub GOT_PEM WANT_PEM WHAT
assert_same_pub() {
    pub_der "$1" "$T/got.der"
    pub_der "$2" "$T/want.der"
    if ! cmp -s "$T/got.der" "$T/want.der"; then
        echo "expected:" >&2
        show "$2" >&2
        echo "got:" >&2
        show "$1" >&2
        fail "$3: public keys differ"
    fi
}

# assert_pubout URI WANT_PEM: `openssl pkey -in URI -pubout` prints WANT_PEM.
assert_pubout() {
    must ossl pkey -in "$1" -pubout -out "$T/pubout.pem"
    assert_same_pub "$T/pubout.pem" "$2" "pkey -in $1 -pubout"
}

# verify_dgst PUB DIGEST SIG DATA [SIGOPT...]: DATA's signature SIG checks out
# under PUB with the default provider alone. Sets RC instead of failing.
verify_dgst() {
    local pub=$1 md=$2 sig=$3 data=$4
    shift 4
    run plain dgst "-$md" -verify "$pub" -signature "$sig" "$@" "$data"
    if ((RC == 0)) && ! grep -q 'Verified OK' "$T/out"; then
        RC=1
    fi
}

assert_verifies() {
    verify_dgst "$@"
    if ((RC != 0)); then
        show "$T/out" >&2
        show "$T/err" >&2
        fail "signature $3 does not verify with $1 ($2 ${*:5})"
    fi
}

assert_not_verifies() {
    verify_dgst "$@"
    ((RC != 0)) || fail "signature $3 verifies with $1, which it must not"
}
