"""Contract tests of vaultsim's Vault API outside Transit signing: the
response envelope and error shapes, mounts, tokens, ACL policies and their
enforcement, driven through hvac as a real client would."""

import datetime
import re
import time
import unittest
import uuid

import hvac.exceptions as hx

from simharness import SimTestCase

ENVELOPE_FIELDS = ["request_id", "lease_id", "renewable", "lease_duration",
                   "data", "wrap_info", "warnings", "auth", "mount_type"]
DENIED = "1 error occurred:\n\t* permission denied\n\n"


def parse_rfc3339(text):
    trimmed = re.sub(r"(\.\d{6})\d*", r"\1", text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(trimmed)


class EnvelopeTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_secrets_engine(backend_type="transit",
                                           path="transit")

    def test_success_envelope_fields_and_headers(self):
        resp = self.sim.raw("POST", "transit/keys/env",
                            body={"type": "ecdsa-p256"})
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.headers["Content-Type"], "application/json")
        self.assertEqual(resp.headers["Cache-Control"], "no-store")
        self.assertTrue(resp.text.endswith("}\n"))
        body = resp.json()
        self.assertEqual(list(body), ENVELOPE_FIELDS)
        uuid.UUID(body["request_id"])
        self.assertEqual(body["lease_id"], "")
        self.assertIs(body["renewable"], False)
        self.assertEqual(body["lease_duration"], 0)
        self.assertIsNone(body["wrap_info"])
        self.assertIsNone(body["warnings"])
        self.assertIsNone(body["auth"])
        self.assertEqual(body["mount_type"], "transit")
        self.assertEqual(body["data"]["name"], "env")

    def test_nothing_to_return_is_204_without_body(self):
        resp = self.sim.raw("PUT", "sys/policies/acl/empty204",
                            body={"policy": 'path "x" { capabilities = '
                                            '["read"] }'})
        self.assertEqual(resp.status_code, 204)
        self.assertEqual(resp.content, b"")
        answer = self.root.sys.create_or_update_policy(
            name="empty204b", policy='path "y" { capabilities = ["read"] }')
        self.assertEqual(answer.status_code, 204)

    def test_put_and_post_are_synonyms(self):
        for method, name in (("PUT", "viaput"), ("POST", "viapost")):
            resp = self.sim.raw(method, "transit/keys/" + name,
                                body={"type": "ed25519"})
            self.assertEqual(resp.status_code, 200, resp.text)
        names = self.root.secrets.transit.list_keys()["data"]["keys"]
        self.assertIn("viaput", names)
        self.assertIn("viapost", names)

    def test_list_method_and_list_query_agree(self):
        self.root.secrets.transit.create_key(name="listed",
                                             key_type="ed25519")
        by_method = self.sim.raw("LIST", "transit/keys").json()
        by_query = self.sim.raw("GET", "transit/keys?list=true").json()
        self.assertEqual(by_method["data"], by_query["data"])
        self.assertIn("listed", by_method["data"]["keys"])

    def test_empty_list_and_missing_read_are_404_with_no_errors(self):
        self.root.sys.enable_secrets_engine(backend_type="transit",
                                            path="empty-transit")
        for method, path in (("LIST", "empty-transit/keys"),
                             ("GET", "empty-transit/keys/absent")):
            resp = self.sim.raw(method, path)
            self.assertEqual(resp.status_code, 404)
            self.assertEqual(resp.json(), {"errors": []})
        with self.assertRaises(hx.InvalidPath):
            self.root.secrets.transit.read_key(name="absent",
                                               mount_point="empty-transit")

    def test_unrouted_path_names_the_route(self):
        resp = self.sim.raw("GET", "nowhere/at/all")
        self.assertEqual(resp.status_code, 404)
        self.assertEqual(resp.json()["errors"], [
            'no handler for route "nowhere/at/all". route entry not found.'])

    def test_unknown_fields_are_ignored_with_a_warning(self):
        resp = self.sim.raw("POST", "transit/keys/warned",
                            body={"type": "ecdsa-p256", "zeta": 1,
                                  "alpha": "x"})
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.json()["warnings"], [
            "Endpoint ignored these unrecognized parameters: [alpha zeta]"])
        self.assertEqual(resp.json()["data"]["type"], "ecdsa-p256")

    def test_existing_key_answers_200_with_warning(self):
        self.root.secrets.transit.create_key(name="twice",
                                             key_type="ecdsa-p384")
        again = self.root.secrets.transit.create_key(name="twice",
                                                     key_type="ed25519")
        self.assertEqual(again["warnings"], ["key twice already existed"])
        self.assertEqual(again["data"]["type"], "ecdsa-p384")

    def test_weakly_typed_fields(self):
        self.root.secrets.transit.create_key(name="weak", key_type="rsa-2048")
        resp = self.sim.raw("POST", "transit/sign/weak", body={
            "input": "aGVsbG8=", "key_version": "1", "prehashed": "false",
            "salt_length": 32})
        self.assertEqual(resp.status_code, 200, resp.text)
        self.assertEqual(resp.json()["data"]["key_version"], 1)
        bad = self.sim.raw("POST", "transit/sign/weak", body={
            "input": "aGVsbG8=", "key_version": "one"})
        self.assertEqual(bad.status_code, 400)
        self.assertIn("Field validation failed", bad.json()["errors"][0])

    def test_error_shapes(self):
        self.root.secrets.transit.create_key(name="shapes",
                                             key_type="ecdsa-p256")
        plain = self.sim.raw("POST", "transit/keys/odd", body={"type": "foo"})
        self.assertEqual((plain.status_code, plain.json()),
                         (400, {"errors": ["unknown key type foo"]}))
        wrapped = self.sim.raw("POST", "transit/sign/shapes", body={
            "input": "aGVsbG8=", "key_version": 9})
        self.assertEqual(wrapped.status_code, 500)
        self.assertEqual(wrapped.json()["errors"], [
            "1 error occurred:\n\t* requested version for signing is higher "
            "than the latest key version\n\n"])

    def test_bad_json_body_is_400(self):
        with self.sim.session() as session:
            resp = session.post(self.sim.url + "/v1/transit/keys/badjson",
                                data=b"{not json",
                                headers={"X-Vault-Token":
                                         self.sim.root_token})
        self.assertEqual(resp.status_code, 400)
        self.assertIn("failed to parse JSON input", resp.json()["errors"][0])

    def test_health_needs_no_token(self):
        with self.sim.session() as session:
            resp = session.get(self.sim.url + "/v1/sys/health")
        self.assertEqual(resp.status_code, 200)
        health = resp.json()
        self.assertEqual((health["initialized"], health["sealed"],
                          health["standby"]), (True, False, False))
        self.assertFalse(self.root.sys.read_health_status(
            method="GET")["sealed"])


class MountTest(SimTestCase):
    def test_transit_is_not_mounted_at_start(self):
        self.assertVaultError(
            hx.InvalidPath,
            lambda: self.root.secrets.transit.read_key(name="k"),
            'no handler for route "transit/keys/k"')

    def test_mount_list_read_and_unmount(self):
        self.root.sys.enable_secrets_engine(backend_type="transit",
                                            path="team/a/transit")
        mounts = self.root.sys.list_mounted_secrets_engines()
        self.assertEqual(mounts["data"]["team/a/transit/"]["type"],
                         "transit")
        # Vault also copies sys/mounts data to the top level.
        self.assertEqual(mounts["team/a/transit/"]["type"], "transit")
        self.assertIn("sys/", mounts["data"])
        key = self.root.secrets.transit.create_key(
            name="nested", key_type="ed25519", mount_point="team/a/transit")
        self.assertEqual(key["mount_type"], "transit")
        self.root.sys.disable_secrets_engine(path="team/a/transit")
        mounts = self.root.sys.list_mounted_secrets_engines()["data"]
        self.assertNotIn("team/a/transit/", mounts)

    def test_mounting_twice_is_refused(self):
        self.root.sys.enable_secrets_engine(backend_type="transit",
                                            path="twice")
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.root.sys.enable_secrets_engine(
                backend_type="transit", path="twice"),
            "path is already in use at twice/")

    def test_unknown_engine_type_is_refused(self):
        resp = self.sim.raw("POST", "sys/mounts/kvthing",
                            body={"type": "nosuchengine"})
        self.assertEqual(resp.status_code, 400)


class TokenTest(SimTestCase):
    def create(self, **opts):
        return self.root.auth.token.create(**opts)["auth"]

    def test_create_returns_the_auth_block(self):
        answer = self.root.auth.token.create(policies=["signer"], ttl="1h")
        self.assertIsNone(answer["data"])
        self.assertEqual(answer["mount_type"], "token")
        auth = answer["auth"]
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertTrue(auth["accessor"])
        self.assertEqual(auth["policies"], ["default", "signer"])
        self.assertEqual(auth["token_policies"], ["default", "signer"])
        self.assertEqual(auth["lease_duration"], 3600)
        self.assertIs(auth["renewable"], True)
        self.assertEqual(auth["token_type"], "service")
        self.assertIs(auth["orphan"], False)

    def test_lookup_self(self):
        auth = self.create(policies=["signer"], ttl="30m")
        data = self.sim.client(auth["client_token"]).auth.token.lookup_self()[
            "data"]
        self.assertTrue(1790 <= data["ttl"] <= 1800, data["ttl"])
        expires = parse_rfc3339(data["expire_time"])
        left = expires - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(1700 < left.total_seconds() <= 1800)
        self.assertEqual(data["policies"], ["default", "signer"])
        self.assertEqual(data["type"], "service")
        self.assertIs(data["renewable"], True)

    def test_root_token_never_expires(self):
        data = self.root.auth.token.lookup_self()["data"]
        self.assertEqual((data["ttl"], data["expire_time"]), (0, None))
        self.assertEqual(data["policies"], ["root"])

    def test_ttl_forms(self):
        for ttl, seconds in (("90s", 90), ("30m", 1800), ("1h", 3600),
                             (120, 120), ("45", 45)):
            self.assertEqual(self.create(ttl=ttl)["lease_duration"], seconds)

    def test_period_and_explicit_max_ttl(self):
        self.assertEqual(self.create(period="2h")["lease_duration"], 7200)
        capped = self.create(ttl="1h", explicit_max_ttl="10m")
        self.assertEqual(capped["lease_duration"], 600)

    def test_no_default_policy(self):
        auth = self.create(policies=["signer"], no_default_policy=True)
        self.assertEqual(auth["policies"], ["signer"])
        errors = self.assertVaultError(
            hx.Forbidden,
            self.sim.client(auth["client_token"]).auth.token.lookup_self)
        self.assertEqual(errors, [DENIED])

    def test_renew_self(self):
        auth = self.create(ttl="1h")
        client = self.sim.client(auth["client_token"])
        renewed = client.auth.token.renew_self(increment="2h")
        self.assertEqual(renewed["auth"]["lease_duration"], 7200)
        self.assertEqual(renewed["auth"]["client_token"],
                         auth["client_token"])
        fixed = self.sim.client(self.create(ttl="1h", renewable=False)[
            "client_token"])
        self.assertVaultError(hx.InvalidRequest, fixed.auth.token.renew_self,
                              "lease is not renewable")

    def test_revoke_self_then_token_is_invalid(self):
        client = self.sim.client(self.create()["client_token"])
        client.auth.token.revoke_self()
        errors = self.assertVaultError(hx.Forbidden,
                                       client.auth.token.lookup_self,
                                       "permission denied", "invalid token")
        self.assertEqual(len(errors), 1)

    def test_bogus_missing_and_bearer_tokens(self):
        for token in ("hvs.bogus", ""):
            resp = self.sim.raw("GET", "auth/token/lookup-self",
                                token=token)
            self.assertEqual(resp.status_code, 403)
            self.assertIn("permission denied", resp.json()["errors"][0])
            self.assertIn("invalid token", resp.json()["errors"][0])
        bearer = self.sim.raw(
            "GET", "auth/token/lookup-self", token="",
            headers={"Authorization": "Bearer " + self.sim.root_token})
        self.assertEqual(bearer.status_code, 200)

    def test_expired_token_is_invalid(self):
        client = self.sim.client(self.create(ttl="1s")["client_token"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.auth.token.lookup_self()
            except hx.Forbidden as err:
                self.assertIn("invalid token", err.errors[0])
                return
            time.sleep(0.1)
        self.fail("a 1s token still worked after 10s")

    def test_use_limit(self):
        client = self.sim.client(self.create(num_uses=2)["client_token"])
        client.auth.token.lookup_self()
        self.assertEqual(client.auth.token.lookup_self()["data"]["num_uses"],
                         0)
        self.assertVaultError(hx.Forbidden, client.auth.token.lookup_self,
                              "invalid token")

    def test_child_policies_must_be_a_subset(self):
        self.root.sys.create_or_update_policy(
            name="creator",
            policy='path "auth/token/create" { capabilities = ["update"] }')
        parent = self.sim.client(self.create(policies=["creator"])[
            "client_token"])
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: parent.auth.token.create(policies=["other"]),
            "child policies must be subset of parent")
        child = parent.auth.token.create(policies=["creator"])["auth"]
        self.assertEqual(child["policies"], ["creator", "default"])


class AppRoleTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_auth_method(method_type="approle")
        cls.root.auth.approle.create_or_update_approle(
            role_name="signer", token_policies=["sign-only"], token_ttl="20m",
            token_max_ttl="1h", secret_id_num_uses=2)

    def credentials(self):
        approle = self.root.auth.approle
        role_id = approle.read_role_id(role_name="signer")["data"]["role_id"]
        secret = approle.generate_secret_id(role_name="signer")["data"]
        return role_id, secret["secret_id"]

    def test_login_needs_no_token_and_returns_the_auth_block(self):
        role_id, secret_id = self.credentials()
        resp = self.sim.raw("POST", "auth/approle/login", token="", body={
            "role_id": role_id, "secret_id": secret_id})
        self.assertEqual(resp.status_code, 200, resp.text)
        body = resp.json()
        self.assertEqual(body["mount_type"], "approle")
        auth = body["auth"]
        self.assertTrue(auth["client_token"].startswith("hvs."))
        self.assertEqual(auth["policies"], ["default", "sign-only"])
        self.assertEqual(auth["token_policies"], ["default", "sign-only"])
        self.assertEqual(auth["metadata"], {"role_name": "signer"})
        self.assertEqual(auth["lease_duration"], 1200)
        self.assertIs(auth["renewable"], True)
        self.assertEqual(auth["token_type"], "service")
        lookup = self.sim.client(auth["client_token"]).auth.token \
            .lookup_self()["data"]
        self.assertEqual(lookup["meta"], {"role_name": "signer"})

    def test_hvac_login_and_renewal_cap(self):
        role_id, secret_id = self.credentials()
        client = self.sim.client("unset")
        client.auth.approle.login(role_id=role_id, secret_id=secret_id)
        self.assertNotEqual(client.token, "unset")
        renewed = client.auth.token.renew_self(increment="3h")["auth"]
        self.assertTrue(3500 <= renewed["lease_duration"] <= 3600)

    def test_bad_credentials(self):
        role_id, secret_id = self.credentials()
        for body in ({"role_id": role_id, "secret_id": "wrong"},
                     {"role_id": "wrong", "secret_id": secret_id}):
            resp = self.sim.raw("POST", "auth/approle/login", token="",
                                body=body)
            self.assertEqual((resp.status_code, resp.json()), (400, {
                "errors": ["invalid role or secret ID"]}))

    def test_secret_id_use_limit(self):
        role_id, secret_id = self.credentials()
        body = {"role_id": role_id, "secret_id": secret_id}
        for status in (200, 200, 400):
            resp = self.sim.raw("POST", "auth/approle/login", token="",
                                body=body)
            self.assertEqual(resp.status_code, status)

    def test_auth_mount_listing(self):
        mounts = self.root.sys.list_auth_methods()["data"]
        self.assertEqual(mounts["approle/"]["type"], "approle")
        self.assertEqual(mounts["token/"]["type"], "token")


SIGN_ONLY = """
# The signing service may sign with one key, nothing more.
path "transit/sign/k" {
    capabilities = ["update"]  // not read
}
/* verification is done elsewhere */
"""


class PolicyTest(SimTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root.sys.enable_secrets_engine(backend_type="transit",
                                           path="transit")
        for name in ("k", "k1", "k2", "k3", "secret", "other"):
            cls.root.secrets.transit.create_key(name=name,
                                                key_type="ecdsa-p256")

    def token_for(self, *policies):
        auth = self.root.auth.token.create(policies=list(policies))["auth"]
        return self.sim.client(auth["client_token"])

    def put(self, name, text):
        self.root.sys.create_or_update_policy(name=name, policy=text)

    def readable(self, client, key):
        try:
            client.secrets.transit.read_key(name=key)
            return True
        except hx.Forbidden as err:
            self.assertEqual(err.errors, [DENIED])
            return False

    def test_policy_crud(self):
        self.put("crud", SIGN_ONLY)
        self.assertEqual(self.root.sys.read_policy(name="crud")["data"][
            "rules"], SIGN_ONLY)
        resp = self.sim.raw("GET", "sys/policies/acl/crud")
        self.assertEqual(resp.json()["data"],
                         {"name": "crud", "policy": SIGN_ONLY})
        names = self.sim.raw("LIST", "sys/policies/acl").json()["data"][
            "keys"]
        self.assertTrue({"crud", "default", "root"} <= set(names))
        self.assertIn("crud", self.root.sys.list_policies()["data"][
            "policies"])
        self.root.sys.delete_policy(name="crud")
        self.assertEqual(self.sim.raw("GET", "sys/policies/acl/crud")
                         .status_code, 404)

    def test_sign_only_token_cannot_read(self):
        self.put("sign-only", SIGN_ONLY)
        client = self.token_for("sign-only")
        signed = client.secrets.transit.sign_data(name="k",
                                                  hash_input="aGk=")
        self.assertTrue(signed["data"]["signature"].startswith("vault:v1:"))
        self.assertFalse(self.readable(client, "k"))
        self.assertVaultError(hx.Forbidden, lambda: client.secrets.transit
                              .sign_data(name="k1", hash_input="aGk="))
        # The hash in the URL is another path, which the ACL does not cover.
        resp = self.sim.raw("POST", "transit/sign/k/sha2-256",
                            token=client.token, body={"input": "aGk="})
        self.assertEqual((resp.status_code, resp.json()["errors"]),
                         (403, [DENIED]))
        self.assertEqual(self.sim.raw("POST", "transit/sign/k/sha2-256",
                                      body={"input": "aGk="}).status_code,
                         200)

    def test_json_policy(self):
        self.put("json-read", '{"path": {"transit/keys/k1": '
                              '{"capabilities": ["read"]}}}')
        client = self.token_for("json-read")
        self.assertTrue(self.readable(client, "k1"))
        self.assertFalse(self.readable(client, "k2"))

    def test_prefix_and_segment_globs(self):
        self.put("globs", """
            path "transit/keys/k*" { capabilities = ["read"] }
            path "transit/sign/+" { capabilities = ["update"] }
        """)
        client = self.token_for("globs")
        self.assertTrue(self.readable(client, "k2"))
        self.assertFalse(self.readable(client, "secret"))
        client.secrets.transit.sign_data(name="other", hash_input="aGk=")
        resp = self.sim.raw("POST", "transit/sign/other/sha2-256",
                            token=client.token, body={"input": "aGk="})
        self.assertEqual(resp.status_code, 403)

    def test_most_specific_rule_wins(self):
        self.put("specific", """
            path "transit/keys/*" { capabilities = ["deny"] }
            path "transit/keys/k1" { capabilities = ["read"] }
            path "transit/+/k3" { capabilities = ["read"] }
        """)
        client = self.token_for("specific")
        self.assertTrue(self.readable(client, "k1"))
        self.assertFalse(self.readable(client, "k2"))
        # A later first wildcard wins: keys/* beats +/k3.
        self.assertFalse(self.readable(client, "k3"))

    def test_deny_wins_on_the_same_path(self):
        self.put("allow-k2", 'path "transit/keys/k2" '
                             '{ capabilities = ["read"] }')
        self.put("deny-k2", 'path "transit/keys/k2" { policy = "deny" }')
        self.assertTrue(self.readable(self.token_for("allow-k2"), "k2"))
        self.assertFalse(self.readable(
            self.token_for("allow-k2", "deny-k2"), "k2"))

    def test_list_capability(self):
        self.put("lister", 'path "transit/keys" { capabilities = ["list"] }')
        keys = self.token_for("lister").secrets.transit.list_keys()
        self.assertIn("k", keys["data"]["keys"])
        with self.assertRaises(hx.Forbidden):
            self.token_for("default").secrets.transit.list_keys()

    def test_invalid_policy_is_refused(self):
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.put("bad", 'path "x" { capabilities = ["fly"] }'),
            "failed to parse policy")
        self.assertVaultError(
            hx.InvalidRequest,
            lambda: self.put("bad", 'path "x" { capabilities = ["read"]'),
            "failed to parse policy")

    def test_default_policy_allows_token_self_service(self):
        client = self.token_for("default")
        self.assertEqual(client.auth.token.lookup_self()["data"]["policies"],
                         ["default"])
        self.assertFalse(self.readable(client, "k"))


if __name__ == "__main__":
    unittest.main()
