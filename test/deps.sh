#!/usr/bin/env bash
# Installs the Debian packages that building and testing the provider need,
# on Debian 12 or 13. Does nothing, and needs no network, when all of them are
# already installed. debootstrap is left out when VP_SKIP_DEBIAN13=1.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libssl-dev libcurl4-openssl-dev libcjson-dev libyaml-dev libcmocka-dev
    clang-format openssl curl
    python3 python3-cryptography python3-hvac python3-jwt
)
# Only the host run needs debootstrap, to build the Debian 13 root.
if [[ "${VP_SKIP_DEBIAN13:-0}" != 1 ]]; then
    packages+=(debootstrap)
fi

missing=()
for pkg in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != ii* ]]; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages installed"
    exit 0
fi

echo "deps: missing ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "deps: not root and no sudo; as root, run:" >&2
    echo "  apt-get install ${missing[*]}" >&2
    exit 1
fi

"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
