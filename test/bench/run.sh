#!/usr/bin/env bash
# Runs sign_bench against a fresh Transit test server on loopback for a P-256
# and an RSA-2048 key, and adds the server's view (sign requests, TCP
# connections accepted). Prints figures only; asserts nothing about speed.
#
# Usage: test/bench/run.sh BUILD_DIR [SIGNATURES [THREADS]]
#   BENCH_TLS=1 serves over TLS; MODE picks how the provider is loaded
#   (default-first, default-last, propquery; see test/flows/lib.sh).
set -euo pipefail

build=$(cd "${1:?usage: run.sh BUILD_DIR [SIGNATURES [THREADS]]}" && pwd)
n=${2:-1000}
threads=${3:-4}
src=$(cd "$(dirname "$0")/../.." && pwd)

export MODE=${MODE:-default-first}
export VP_OPENSSL=${VP_OPENSSL:-$(command -v openssl)}
export VP_PYTHON=/usr/bin/python3
export VP_MODULES_DIR=$build/modules
export VAULTSIM=$src/test/vaultsim/vaultsim
bench=$build/test/bench/sign_bench
# shellcheck source=../flows/lib.sh
source "$src/test/flows/lib.sh"

[[ -x $bench ]] || fail "$bench is not built"
if [[ ${BENCH_TLS:-0} == 1 ]]; then
    vs_start tls
else
    vs_start
fi
mount_transit
key_create bench-p256 ecdsa-p256
key_create bench-rsa2048 rsa-2048

for key in bench-p256 bench-rsa2048; do
    stats_reset
    must app "$bench" -n "$n" -t "$threads" "vault:$key"
    cat "$T/out"
    stats_load
    echo "server: sign requests=$(stats_requests "transit/sign/$key")" \
        "key reads=$(stats_requests "transit/keys/$key")" \
        "connections accepted=$(stats_connections)"
    echo
done
