"""The sys/ endpoints of the simulator: secrets engine mounts, ACL policies
(sys/policies/acl and the older sys/policy), and the unauthenticated
sys/health and sys/seal-status answers."""

import time

from . import framework as fw
from .acl import PolicyError
from .approle import AppRoleBackend
from .transit import TransitBackend
from .framework import Field, Response, Route
from .timefmt import rfc3339

VERSION = "1.19.0"
CLUSTER_NAME = "vaultsim"
CLUSTER_ID = "00000000-0000-4000-8000-000000000001"
_PROTECTED_MOUNTS = ("audit/", "auth/", "sys/", "cubbyhole/", "identity/")

_MOUNT_FIELDS = {
    "path": Field("str"), "type": Field("str"), "description": Field("str"),
    "config": Field("map"), "options": Field("map"), "local": Field("bool"),
    "seal_wrap": Field("bool"), "external_entropy_access": Field("bool"),
    "plugin_name": Field("str"), "plugin_version": Field("str"),
}


def _mount_path(raw):
    return raw.lstrip("/").rstrip("/") + "/"


class SystemBackend:
    def __init__(self, core):
        self.core = core
        name = {"name": Field("str"), "policy": Field("str")}
        legacy = dict(name, rules=Field("str"))
        self.routes = [
            Route(r"mounts/?", {"read": self.list_mounts}),
            Route(r"mounts/(?P<path>.+)", {
                "read": self.read_mount, "update": self.mount,
                "delete": self.unmount}, _MOUNT_FIELDS),
            Route(r"auth/?", {"read": self.list_auth}),
            Route(r"auth/(?P<path>.+)", {
                "read": self.read_auth, "update": self.enable_auth,
                "delete": self.disable_auth}, _MOUNT_FIELDS),
            Route(r"policies/acl/?", {"list": self.list_policies}),
            Route(r"policies/acl/(?P<name>.+)", {
                "read": self.read_policy, "update": self.write_policy,
                "delete": self.delete_policy}, name),
            Route(r"policy/?", {"read": self.legacy_list,
                                "list": self.legacy_list}),
            Route(r"policy/(?P<name>.+)", {
                "read": self.legacy_read, "update": self.write_policy,
                "delete": self.delete_policy}, legacy),
        ]

    def handle(self, req, rel_path):
        return fw.dispatch(self.routes, req, rel_path)

    def list_mounts(self, req, data):
        return Response(data=self.core.mounts.describe_all(), inject=True)

    def read_mount(self, req, data):
        return _describe(self.core.mounts, data,
                         "No secret engine mount at %s")

    def mount(self, req, data):
        path = _mount_path(data.get("path"))
        if path.startswith(_PROTECTED_MOUNTS):
            raise fw.user_error('cannot mount "%s"' % path)
        _enable(self.core.mounts, path, data, "transit",
                lambda: TransitBackend())
        return None

    def unmount(self, req, data):
        path = _mount_path(data.get("path"))
        if path.startswith(_PROTECTED_MOUNTS):
            raise fw.user_error('cannot unmount "%s"' % path)
        self.core.mounts.remove(path)
        return None

    def list_auth(self, req, data):
        return Response(data=self.core.auth_mounts.describe_all(),
                        inject=True)

    def read_auth(self, req, data):
        return _describe(self.core.auth_mounts, data,
                         "No auth engine at auth/%s")

    def enable_auth(self, req, data):
        path = _mount_path(data.get("path"))
        _enable(self.core.auth_mounts, path, data, "approle",
                lambda: AppRoleBackend(self.core, path))
        return None

    def disable_auth(self, req, data):
        path = _mount_path(data.get("path"))
        if path == "token/":
            raise fw.user_error("token credential backend cannot be "
                                "disabled")
        self.core.auth_mounts.remove(path)
        return None

    def list_policies(self, req, data):
        return Response(data={"keys": self._policy_names()})

    def _policy_names(self):
        return self.core.policies.names() + ["root"]

    def read_policy(self, req, data):
        name = data.get("name").lower()
        text = self.core.policies.get(name)
        if text is None:
            return None
        return Response(data={"name": name, "policy": text})

    def write_policy(self, req, data):
        name = data.get("name").lower()
        text = data.get("policy")
        if not text and "rules" in data.schema:
            text = data.get("rules")
        if name == "root":
            raise fw.user_error('cannot update "root" policy')
        if not text:
            raise fw.user_error("'policy' parameter not supplied or empty")
        try:
            self.core.policies.put(name, text)
        except PolicyError as err:
            raise fw.user_error("failed to parse policy: %s" % err)
        return None

    def delete_policy(self, req, data):
        name = data.get("name").lower()
        if name in ("root", "default"):
            raise fw.user_error('cannot delete "%s" policy' % name)
        self.core.policies.delete(name)
        return None

    def legacy_list(self, req, data):
        names = self._policy_names()
        return Response(data={"keys": names, "policies": names}, inject=True)

    def legacy_read(self, req, data):
        name = data.get("name").lower()
        text = self.core.policies.get(name)
        if text is None:
            return None
        return Response(data={"name": name, "rules": text}, inject=True)


def _describe(table, data, missing):
    path = _mount_path(data.get("path"))
    entry = table.get(path)
    if entry is None:
        raise fw.user_error(missing % path)
    return Response(data=entry.describe(), inject=True)


def _enable(table, path, data, supported_type, make_backend):
    """Mount the one type this table supports here at path."""
    mount_type = data.get("type")
    if not mount_type:
        raise fw.user_error("backend type must be specified as a string")
    if mount_type != supported_type:
        raise fw.user_error("plugin not found in the catalog: %s"
                            % mount_type)
    table.add(path, mount_type, make_backend(),
              description=data.get("description"),
              config=data.get("config"),
              options=data.get("options") or None,
              local=data.get("local"), seal_wrap=data.get("seal_wrap"))


def health(mode, query):
    """(status, body) of sys/health in a fault mode ("none" when healthy);
    the status codes can be chosen by query parameters, as in Vault."""
    sealed, standby = mode == "sealed", mode == "standby"
    body = {
        "initialized": True,
        "sealed": sealed,
        "standby": standby,
        "performance_standby": False,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": int(time.time()),
        "version": VERSION,
        "enterprise": False,
        "cluster_name": CLUSTER_NAME,
        "cluster_id": CLUSTER_ID,
        "echo_duration_ms": 0,
        "clock_skew_ms": 0,
    }
    if sealed:
        return _status_param(query, "sealedcode", 503), body
    if standby and query.get("standbyok", ["false"])[0] != "true":
        return _status_param(query, "standbycode", 429), body
    return _status_param(query, "activecode", 200), body


def _status_param(query, name, default):
    values = query.get(name)
    if values and values[0].isdigit():
        return int(values[0])
    return default


def seal_status(sealed):
    return 200, {
        "type": "shamir",
        "initialized": True,
        "sealed": sealed,
        "t": 1,
        "n": 1,
        "progress": 0,
        "nonce": "",
        "version": VERSION,
        "build_date": rfc3339(0),
        "migration": False,
        "cluster_name": CLUSTER_NAME,
        "cluster_id": CLUSTER_ID,
        "recovery_seal": False,
        "storage_type": "inmem",
    }
