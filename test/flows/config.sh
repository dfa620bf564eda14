#!/usr/bin/env bash
# Flow: loading the provider touches no network, and a configuration that
# cannot work makes loading fail with a message naming the problem: no
# address, a token and an AppRole role ID both set, a role ID without a
# secret ID.
source "$(dirname "$0")/lib.sh"

vs_start
mount_transit
key_create k ecdsa-p256

step "loading the provider makes no request"
stats_reset
must ossl list -providers
awk '/^  [^ ]/ { cur = $1 } cur == "vault" && /status: active/ { ok = 1 }
     END { exit !ok }' "$T/out" ||
    fail "list -providers does not show vault active: $(cat "$T/out")"
stats_load
assert_eq "$(stats_connections)" 0 "connections made by loading the provider"
assert_eq "$(json_eval "d['total_requests']" <"$T/stats.json")" 0 \
    "requests made by loading the provider"

step "the configuration below works once it is complete"
must ossl pkey -in vault:k -pubout

step "no address"
prov_unset address
must_fail -i address ossl pkey -in vault:k -pubout
prov_set address "$VS_ADDR"

step "a token and an AppRole role ID"
prov_set approle_role_id "role-$(rand_hex 4)"
prov_set approle_secret_id "secret-$(rand_hex 8)"
must_fail -i role ossl pkey -in vault:k -pubout

step "a role ID without a secret ID"
prov_unset token
prov_unset approle_secret_id
must_fail -i secret ossl pkey -in vault:k -pubout

echo "config: OK"
