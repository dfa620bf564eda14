#!/usr/bin/env bash
# Stages `cmake --install` under a temporary DESTDIR and checks that vault.so
# lands at DESTDIR/<modulesdir>/vault.so, exports only OSSL_provider_init and
# is loaded by openssl from there.
# Usage: check-install.sh CMAKE BINARY_DIR MODULESDIR NM OPENSSL
set -euo pipefail

cmake=$1 bindir=$2 modulesdir=$3 nm=$4 openssl=$5
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

out=$(DESTDIR=$stage "$cmake" --install "$bindir" 2>&1) || {
    echo "$out"
    echo "FAIL: cmake --install failed"
    exit 1
}

module=$stage$modulesdir/vault.so
if [[ ! -f "$module" ]]; then
    echo "FAIL: $modulesdir/vault.so not installed; staged files:"
    (cd "$stage" && find . -type f)
    exit 1
fi
echo "ok: installed at $modulesdir/vault.so"

exports=$("$nm" -D --defined-only "$module" | awk '$2 != "A" { print $3 }')
if [[ "$exports" != "OSSL_provider_init" ]]; then
    echo "FAIL: the module exports more or less than OSSL_provider_init:"
    echo "$exports"
    exit 1
fi
echo "ok: exports only OSSL_provider_init"

# Loading validates the configuration; it needs an address, no network.
out=$(env -i PATH="$PATH" VAULT_ADDR=https://127.0.0.1:8200 "$openssl" list \
    -providers -provider-path "$stage$modulesdir" -provider vault \
    -provider default 2>&1) || {
    echo "$out"
    echo "FAIL: openssl could not load the installed module"
    exit 1
}
if ! awk '/^  [^ ]/ { cur = $1 }
          cur == "vault" && /status: active/ { found = 1 }
          END { exit !found }' <<<"$out"; then
    echo "$out"
    echo "FAIL: vault is not listed as an active provider"
    exit 1
fi
echo "ok: the installed module loads"
