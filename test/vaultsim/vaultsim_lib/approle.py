"""The AppRole auth method at one auth mount: roles with their token
settings, role IDs and secret IDs, and the unauthenticated login that
issues a service token, with Vault's field names and error texts."""

import secrets
import threading
import time
import uuid

from . import framework as fw
from .framework import NAME, Field, Response, Route
from .tokens import TokenEntry, random_id, token_ttl, sanitize_policies

_ROLE_FIELDS = {
    "role_name": Field("str"), "bind_secret_id": Field("bool", True),
    "secret_id_bound_cidrs": Field("comma_slice"),
    "secret_id_num_uses": Field("int"), "secret_id_ttl": Field("duration"),
    "local_secret_ids": Field("bool"), "role_id": Field("str"),
    "token_policies": Field("comma_slice"), "policies": Field("comma_slice"),
    "token_ttl": Field("duration"), "token_max_ttl": Field("duration"),
    "token_explicit_max_ttl": Field("duration"),
    "token_period": Field("duration"), "period": Field("duration"),
    "token_num_uses": Field("int"), "token_no_default_policy": Field("bool"),
    "token_type": Field("str"), "token_bound_cidrs": Field("comma_slice"),
}
# Role settings kept as given, with the name Vault reads them back under.
_ROLE_SETTINGS = ("bind_secret_id", "secret_id_num_uses", "secret_id_ttl",
                  "local_secret_ids", "secret_id_bound_cidrs",
                  "token_ttl", "token_max_ttl", "token_explicit_max_ttl",
                  "token_num_uses", "token_no_default_policy",
                  "token_bound_cidrs")
_SECRET_ID_FIELDS = {
    "role_name": Field("str"), "secret_id": Field("str"),
    "metadata": Field("str"), "cidr_list": Field("comma_slice"),
    "token_bound_cidrs": Field("comma_slice"), "ttl": Field("duration"),
    "num_uses": Field("int"),
}


class Role:
    def __init__(self, name):
        self.name = name
        self.role_id = str(uuid.uuid4())
        self.settings = {k: _ROLE_FIELDS[k].default for k in _ROLE_SETTINGS}
        self.policies = []
        self.period = 0
        self.secret_ids = {}

    def describe(self):
        data = dict(self.settings)
        data.update(token_policies=list(self.policies),
                    policies=list(self.policies), token_period=self.period,
                    period=self.period, token_type="default")
        return data


class SecretID:
    def __init__(self, value, ttl, num_uses):
        self.value = value
        self.accessor = str(uuid.uuid4())
        self.expire_at = time.time() + ttl if ttl else None
        self.num_uses = num_uses

    def expired(self):
        return self.expire_at is not None and self.expire_at <= time.time()


class AppRoleBackend:
    def __init__(self, core, mount_path):
        self.core = core
        self.mount_path = mount_path
        self.lock = threading.Lock()
        self.roles = {}
        role = r"role/(?P<role_name>%s)" % NAME
        self.routes = [
            Route(r"login", {"update": self.login}, {
                "role_id": Field("str"), "secret_id": Field("str")}),
            Route(r"role/?", {"list": self.list_roles}),
            Route(role, {"update": self.write_role, "read": self.read_role,
                         "delete": self.delete_role}, _ROLE_FIELDS),
            Route(role + "/role-id", {"read": self.read_role_id,
                                      "update": self.write_role_id}, {
                "role_name": Field("str"), "role_id": Field("str")}),
            Route(role + "/secret-id", {"update": self.new_secret_id},
                  _SECRET_ID_FIELDS),
            Route(role + "/custom-secret-id",
                  {"update": self.custom_secret_id}, _SECRET_ID_FIELDS),
        ]

    def unauthenticated(self, rel_path):
        return rel_path == "login"

    def handle(self, req, rel_path):
        return fw.dispatch(self.routes, req, rel_path)

    def _role(self, data):
        with self.lock:
            return self.roles.get(data.get("role_name").lower())

    def list_roles(self, req, data):
        with self.lock:
            return Response(data={"keys": sorted(self.roles)})

    def write_role(self, req, data):
        name = data.get("role_name").lower()
        with self.lock:
            role = self.roles.get(name) or Role(name)
            for key in _ROLE_SETTINGS:
                if data.present(key):
                    role.settings[key] = data.get(key)
            for key in ("token_policies", "policies"):
                if data.present(key):
                    role.policies = data.get(key)
            for key in ("token_period", "period"):
                if data.present(key):
                    role.period = data.get(key)
            if data.get("role_id"):
                role.role_id = data.get("role_id")
            self.roles[name] = role
        return None

    def read_role(self, req, data):
        role = self._role(data)
        return Response(data=role.describe()) if role else None

    def delete_role(self, req, data):
        with self.lock:
            self.roles.pop(data.get("role_name").lower(), None)
        return None

    def read_role_id(self, req, data):
        role = self._role(data)
        return Response(data={"role_id": role.role_id}) if role else None

    def write_role_id(self, req, data):
        role = self._role(data)
        if role is None:
            raise fw.user_error('role "%s" does not exist'
                                % data.get("role_name"))
        if not data.get("role_id"):
            raise fw.user_error("missing role_id")
        role.role_id = data.get("role_id")
        return None

    def new_secret_id(self, req, data):
        return self._add_secret_id(data, str(uuid.uuid4()))

    def custom_secret_id(self, req, data):
        if not data.get("secret_id"):
            raise fw.user_error("missing secret_id")
        return self._add_secret_id(data, data.get("secret_id"))

    def _add_secret_id(self, data, value):
        role = self._role(data)
        if role is None:
            raise fw.user_error('role "%s" does not exist'
                                % data.get("role_name"))
        ttl = data.get("ttl") or role.settings["secret_id_ttl"]
        uses = data.get("num_uses") or role.settings["secret_id_num_uses"]
        secret = SecretID(value, ttl, uses)
        with self.lock:
            role.secret_ids[value] = secret
        return Response(data={"secret_id": value,
                              "secret_id_accessor": secret.accessor,
                              "secret_id_ttl": ttl,
                              "secret_id_num_uses": uses})

    def login(self, req, data):
        role_id = data.get("role_id").strip()
        if not role_id:
            raise fw.user_error("missing role_id")
        with self.lock:
            role = next((r for r in self.roles.values()
                         if secrets.compare_digest(r.role_id, role_id)),
                        None)
            if role is None:
                raise fw.user_error("invalid role or secret ID")
            if role.settings["bind_secret_id"]:
                self._use_secret_id(role, data.get("secret_id").strip())
        entry, warnings = self._issue_token(role)
        self.core.tokens.add(entry)
        return Response(auth=entry.auth_block(), warnings=warnings)

    def _use_secret_id(self, role, value):
        if not value:
            raise fw.user_error("missing secret_id")
        secret = role.secret_ids.get(value)
        if secret is None or secret.expired():
            role.secret_ids.pop(value, None)
            raise fw.user_error("invalid role or secret ID")
        if secret.num_uses:
            secret.num_uses -= 1
            if secret.num_uses == 0:
                del role.secret_ids[value]

    def _issue_token(self, role):
        settings = role.settings
        policies = list(role.policies)
        if not settings["token_no_default_policy"]:
            policies.append("default")
        policies = sanitize_policies(policies)
        ttl, warnings = token_ttl(policies, settings["token_ttl"],
                                  role.period,
                                  settings["token_explicit_max_ttl"],
                                  settings["token_max_ttl"])
        entry = TokenEntry(
            "hvs." + random_id(91), policies, display_name="approle",
            path="auth/%slogin" % self.mount_path,
            meta={"role_name": role.name}, ttl=ttl,
            explicit_max_ttl=settings["token_explicit_max_ttl"],
            max_ttl=settings["token_max_ttl"], period=role.period,
            renewable=True, num_uses=settings["token_num_uses"])
        return entry, warnings
