#!/usr/bin/env bash
# The project's test command: installs what is missing, builds into ./build
# (or $BUILD_DIR), runs every CTest test, checks a real install, then runs
# the same suite in a Debian 13 chroot (OpenSSL 3.5) through test/debian13.sh.
#
# Arguments are passed on to ctest (e.g. -R flows). VP_SKIP_DEBIAN13=1 leaves
# the chroot run out; it exists so that the run inside the chroot does not
# start another one, and is not meant for anything else.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-$src/build}
summary=()
passed=0
failed=0
status=0

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
else
    as_root=(sudo)
fi

# Adds the counts of the last ctest summary line in file $1.
count_tests() {
    local line
    line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of' \
        "$1" | tail -n 1) || return 0
    local fail total
    fail=$(echo "$line" | awk '{ print $4 }')
    total=$(echo "$line" | awk '{ print $NF }')
    passed=$((passed + total - fail))
    failed=$((failed + fail))
}

# Installs into the real modules directory, checks that openssl finds the
# module there by name alone, then puts back whatever was there before.
install_check() {
    local modulesdir target backup="" out ok=1
    modulesdir=$(pkg-config --variable=modulesdir libcrypto)
    target=$modulesdir/vault.so
    out=$build/install-check.out
    if [[ -e "$target" ]]; then
        backup=$(mktemp)
        cp -p "$target" "$backup"
    fi

    "${as_root[@]}" cmake --install "$build" >"$out" 2>&1 || ok=0
    if ((ok)); then
        # Loading validates the configuration and touches no network.
        env -i PATH="$PATH" VAULT_ADDR=https://127.0.0.1:8200 \
            openssl list -providers -provider vault -provider default \
            >>"$out" 2>&1 || ok=0
        awk '/^  [^ ]/ { cur = $1 }
             cur == "vault" && /status: active/ { found = 1 }
             END { exit !found }' "$out" || ok=0
    fi
    cat "$out"

    if [[ -f "$build/install_manifest.txt" ]]; then
        xargs -d '\n' "${as_root[@]}" rm -f <"$build/install_manifest.txt"
    fi
    if [[ -n "$backup" ]]; then
        "${as_root[@]}" cp -p "$backup" "$target"
        rm -f "$backup"
    fi
    ((ok))
}

"$src/test/deps.sh"
host_openssl=$(openssl version)
echo "run-all: $host_openssl, build in $build"

if ! cmake -S "$src" -B "$build" ||
    ! cmake --build "$build" -j "$(nproc)"; then
    echo "run-all: build failed ($host_openssl)" >&2
    exit 1
fi

result=passed
ctest --test-dir "$build" --output-on-failure --no-tests=error \
    -j "${CTEST_PARALLEL_LEVEL:-2}" "$@" 2>&1 |
    tee "$build/ctest.out" || result=failed
count_tests "$build/ctest.out"
summary+=("$host_openssl: ctest $result")
[[ $result == passed ]] || status=1

if install_check; then
    summary+=("$host_openssl: install check passed")
else
    summary+=("$host_openssl: install check failed")
    status=1
fi

if [[ "${VP_SKIP_DEBIAN13:-0}" != 1 ]]; then
    result_file=$(mktemp)
    VP_SUMMARY_FILE=$result_file "$src/test/debian13.sh" "$@" 2>&1 |
        tee "$build/debian13.out" ||
        status=1
    count_tests "$build/debian13.out"
    if [[ -s "$result_file" ]]; then
        summary+=("Debian 13 chroot, $(cat "$result_file")")
    else
        summary+=("Debian 13 chroot: failed before its tests ran")
        status=1
    fi
    rm -f "$result_file"
fi

echo
echo "run-all: summary"
printf '  %s\n' "${summary[@]}"
echo "run-all: $passed passed, $failed failed"
exit $status
