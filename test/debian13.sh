#!/usr/bin/env bash
# Runs the test suite inside a Debian 13 "trixie" chroot, on OpenSSL 3.5. The
# minimal root is made once with debootstrap and kept for reuse; each run
# copies the source tree in and calls test/run-all.sh there.
#
# Environment:
#   VP_DEBIAN13_CACHE  where the root is kept
#                      (default /var/cache/vault-provider/debian13)
#   VP_DEBIAN_MIRROR   Debian archive to use (default: the host's apt source)
#   VP_SUMMARY_FILE    if set, receives "<openssl version>: passed" (or failed)
# Arguments are passed on to ctest inside the chroot.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
cache=${VP_DEBIAN13_CACHE:-/var/cache/vault-provider/debian13}
root=$cache/root
suite=trixie
# Bump the format number when the way the root is made changes.
stamp_text="vault-provider debian13 v1: debootstrap --variant=minbase $suite"
inner_src=/root/vault-provider

log() { echo "debian13: $*"; }
die() {
    echo "debian13: $*" >&2
    exit 1
}

# Mount points at or below $1, deepest first.
mounts_under() {
    awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' \
        /proc/self/mountinfo | sort -r
}

# Removes a directory only once nothing is mounted in it: a bind mount left
# behind would otherwise take the host's /dev or /proc down with it.
safe_rm() {
    local dir=$1 m
    [[ -e "$dir" ]] || return 0
    for m in $(mounts_under "$dir"); do
        umount "$m" 2>/dev/null || umount -l "$m" || true
    done
    if [[ -n "$(mounts_under "$dir")" ]]; then
        die "still mounted under $dir, not removing it: $(mounts_under "$dir")"
    fi
    rm -rf --one-file-system "$dir"
}

# The main Debian archive the host's apt uses: a deb822 stanza or a one-line
# entry whose suite is a bare release name (not -security, -updates, ...).
host_mirror() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        uri=$(awk '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && enabled != "no" &&
                    suites ~ /(^| )[a-z]+( |$)/ && uris != "" && !found) {
                    split(uris, u, " "); print u[1]; found = 1
                }
                types = uris = suites = enabled = ""
            }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:" { $1 = ""; types = $0 " " }
            tolower($1) == "uris:" { $1 = ""; sub(/^ +/, ""); uris = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 " " }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            END { flush() }' "$f")
        [[ "$uri" == http*://* ]] && {
            echo "$uri"
            return
        }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        uri=$(awk '$1 == "deb" {
                sub(/\[[^]]*\] */, "")
                if ($3 ~ /^[a-z]+$/) { print $2; exit }
            }' "$f")
        [[ "$uri" == http*://* ]] && {
            echo "$uri"
            return
        }
    done
}

root_is_valid() {
    [[ -f "$cache/stamp" && "$(cat "$cache/stamp")" == "$stamp_text" ]] &&
        [[ -x "$root/usr/bin/apt-get" && -f "$root/etc/debian_version" ]]
}

bootstrap_root() {
    local tmp=$cache/root.new
    log "debootstrap --variant=minbase $suite from $mirror"
    rm -f "$cache/stamp"
    safe_rm "$root"
    safe_rm "$tmp"
    if ! debootstrap --variant=minbase "$suite" "$tmp" "$mirror" \
        >"$cache/debootstrap.out" 2>&1; then
        tail -n 20 "$cache/debootstrap.out" >&2
        die "debootstrap failed (full log: $cache/debootstrap.out)"
    fi
    mv "$tmp" "$root"
    echo "$stamp_text" >"$cache/stamp"
}

bind_mount() {
    mkdir -p "$root$1"
    mount --bind "$1" "$root$1"
}

# Processes whose root directory is the chroot.
procs_in_root() {
    local p
    for p in /proc/[0-9]*; do
        if [[ "$(readlink "$p/root" 2>/dev/null)" == "$root" ]]; then
            echo "${p#/proc/}"
        fi
    done
}

# Ends what is running in the root (TERM, then KILL after 5 s) and unmounts
# everything below it, deepest first: what this run mounted, and what a run
# that was killed outright left behind. Only the lock holder calls it.
release_root() {
    local i pid left m
    left=$(procs_in_root)
    for pid in $left; do
        log "ending leftover process $pid in the chroot"
        kill "$pid" 2>/dev/null || true
    done
    for ((i = 0; i < 50 && ${#left} > 0; i++)); do
        sleep 0.1
        left=$(procs_in_root)
    done
    for pid in $left; do
        kill -9 "$pid" 2>/dev/null || true
    done
    for m in $(mounts_under "$root"); do
        umount "$m" 2>/dev/null || umount -l "$m" ||
            echo "debian13: could not unmount $m" >&2
    done
}

copy_source() {
    local dest=$root$inner_src
    safe_rm "$dest"
    mkdir -p "$dest"
    if command -v git >/dev/null 2>&1 &&
        git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # Tracked and new files as they are in the working tree; ignored
        # build directories stay out.
        (cd "$src" && git ls-files -z --cached --others --exclude-standard |
            tar --null --ignore-failed-read -T - -cf -) 2>/dev/null |
            tar -C "$dest" -xf -
    else
        tar -C "$src" --exclude=./.git --exclude=./build \
            --exclude='./build-*' -cf - . | tar -C "$dest" -xf -
    fi
}

# The lock's descriptor stays outside: only this script holds the lock.
in_root() {
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        CI="${CI:-}" VP_SKIP_DEBIAN13=1 "$@" 9>&-
}

[[ $(id -u) -eq 0 ]] || die "run as root: debootstrap, mount and chroot need it"
command -v debootstrap >/dev/null || die "debootstrap missing: test/deps.sh"
mirror=${VP_DEBIAN_MIRROR:-$(host_mirror)}
[[ -n "$mirror" ]] ||
    die "no Debian archive in the host's apt sources; set VP_DEBIAN_MIRROR"

mkdir -p "$cache"
exec 9>"$cache/lock"
flock -n 9 || {
    log "waiting for another run to release $cache"
    flock 9
}

start=$SECONDS
release_root
if root_is_valid; then
    log "reusing $root"
else
    bootstrap_root
fi

trap release_root EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
bind_mount /proc
bind_mount /sys
bind_mount /dev
bind_mount /dev/pts
if mountpoint -q /dev/shm; then
    bind_mount /dev/shm
fi

echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
rm -f "$root/etc/resolv.conf"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
copy_source
if ! in_root "$inner_src/test/deps.sh" >"$cache/deps.out" 2>&1; then
    tail -n 30 "$cache/deps.out" >&2
    die "installing packages in the root failed (log: $cache/deps.out)"
fi
tail -n 1 "$cache/deps.out"
in_root apt-get clean
log "root ready in $((SECONDS - start))s"

version=$(in_root openssl version)
log "$version"
result=passed
in_root /bin/bash -c 'cd "$0" && ./test/run-all.sh "$@"' \
    "$inner_src" "$@" || result=failed
log "$version: $result"
if [[ -n "${VP_SUMMARY_FILE:-}" ]]; then
    echo "$version: $result" >"$VP_SUMMARY_FILE"
fi
[[ $result == passed ]]
