#!/usr/bin/env bash
# Flow: one key opened once and 100 signatures cost exactly 100 Transit sign
# requests, at most one key read and one TCP connection (from the test
# server's counters); 4 threads x 25 signatures, at most 4 connections. Over
# plain HTTP and over TLS.
source "$(dirname "$0")/lib.sh"
: "${SIGN_LOOP:?path of the sign_loop program}"

# sign_costs KEY THREADS: runs 100 signatures, checks what they cost.
sign_costs() {
    local key=$1 threads=$2 signs reads conns
    step "vault:$key, 100 signatures on $threads thread(s) ($VS_ADDR)"
    stats_reset
    must app "$SIGN_LOOP" -t "$threads" "vault:$key" 100
    grep -q '^100 of 100 signatures verified' "$T/out" ||
        fail "sign_loop printed: $(cat "$T/out")"
    stats_load
    signs=$(stats_requests "transit/sign/$key")
    reads=$(stats_requests "transit/keys/$key")
    conns=$(stats_connections)
    echo "   sign requests: $signs, key reads: $reads, connections: $conns"
    assert_eq "$signs" 100 "sign requests for 100 signatures"
    assert_le "$reads" 1 "key reads for one key opened once"
    assert_le "$conns" "$threads" "TCP connections for $threads thread(s)"
}

for transport in plain tls; do
    vs_start "$transport"
    mount_transit
    key_create ec ecdsa-p256
    key_create rsa rsa-2048
    for key in ec rsa; do
        sign_costs "$key" 1
        sign_costs "$key" 4
    done
done

echo "efficiency: OK"
