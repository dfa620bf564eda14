"""The simulated Vault core: authenticates the token (except for logins),
checks the ACL, routes the request to sys/, an auth method or a mounted
Transit engine, and turns the handler's result into a status and body as
Vault's HTTP layer does."""

import secrets
import threading
import traceback
import uuid

from . import framework as fw
from .acl import PolicyStore
from .system import SystemBackend
from .tokens import TokenBackend, TokenStore

# Mounts that exist in every Vault. sys/ is routed by the core itself;
# cubbyhole/ and identity/ are listed but have no backend here.
_BUILTIN_MOUNTS = {"sys/": "system", "cubbyhole/": "cubbyhole",
                   "identity/": "identity"}


class MountEntry:
    def __init__(self, path, mount_type, backend, description="",
                 config=None, options=None, local=False, seal_wrap=False,
                 accessor_prefix=""):
        self.path = path
        self.type = mount_type
        self.backend = backend
        self.description = description
        self.config = config or {}
        self.options = options
        self.local = local
        self.seal_wrap = seal_wrap
        self.accessor = "%s%s_%s" % (accessor_prefix, mount_type,
                                      secrets.token_hex(4))
        self.uuid = str(uuid.uuid4())

    def describe(self):
        return {
            "accessor": self.accessor,
            "config": {
                "default_lease_ttl": self.config.get("default_lease_ttl", 0),
                "force_no_cache": False,
                "max_lease_ttl": self.config.get("max_lease_ttl", 0),
            },
            "description": self.description,
            "external_entropy_access": False,
            "local": self.local,
            "options": self.options,
            "plugin_version": "",
            "running_plugin_version": "v1.19.0+builtin.vault",
            "running_sha256": "",
            "seal_wrap": self.seal_wrap,
            "type": self.type,
            "uuid": self.uuid,
        }


class MountTable:
    """Secrets engine mounts, or auth method mounts (paths after auth/)."""

    def __init__(self, builtins, accessor_prefix=""):
        self.lock = threading.Lock()
        self.prefix = accessor_prefix
        self.entries = {path: MountEntry(path, kind, backend,
                                         accessor_prefix=accessor_prefix)
                        for path, (kind, backend) in builtins.items()}

    def add(self, path, mount_type, backend, **opts):
        with self.lock:
            for existing in self.entries:
                if existing.startswith(path) or path.startswith(existing):
                    raise fw.user_error(
                        "path is already in use at %s" % existing)
            self.entries[path] = MountEntry(path, mount_type, backend,
                                            accessor_prefix=self.prefix,
                                            **opts)

    def remove(self, path):
        with self.lock:
            self.entries.pop(path, None)

    def get(self, path):
        with self.lock:
            return self.entries.get(path)

    def describe_all(self):
        with self.lock:
            return {p: e.describe() for p, e in self.entries.items()}

    def match(self, path):
        """The mount entry with the longest path that prefixes path."""
        with self.lock:
            best = None
            for mount_path, entry in self.entries.items():
                if path.startswith(mount_path) or path == mount_path[:-1]:
                    if best is None or len(mount_path) > len(best.path):
                        best = entry
            return best


class Core:
    def __init__(self, root_token):
        self.policies = PolicyStore()
        self.tokens = TokenStore(root_token)
        self.system = SystemBackend(self)
        self.mounts = MountTable({path: (kind, None) for path, kind
                                  in _BUILTIN_MOUNTS.items()})
        self.auth_mounts = MountTable(
            {"token/": ("token", TokenBackend(self))}, "auth_")

    def handle(self, req):
        """(status, body) for a request; body None means no body."""
        try:
            resp = self._handle(req)
        except fw.VaultError as err:
            return err.status, {"errors": err.errors()}
        except Exception as err:  # a simulator bug: answer as Vault would
            traceback.print_exc()
            return 500, {"errors": [fw.multierror([str(err)])]}
        return self._respond(req, resp)

    def _handle(self, req):
        login = self._login_route(req.path)
        if login is None:
            req.entry = self.tokens.authenticate(req.token)
            req.acl = self.policies.acl(req.entry.policies)
            if not req.acl.allows(req.path, req.op):
                raise fw.permission_denied()
        backend, rel_path, req.mount_type = login or self._route(req.path)
        return backend.handle(req, rel_path)

    def _login_route(self, path):
        """The route of an auth method's login path, which needs no token."""
        if not path.startswith("auth/"):
            return None
        try:
            backend, rel_path, kind = self._route(path)
        except fw.VaultError:
            return None
        check = getattr(backend, "unauthenticated", None)
        if check is None or not check(rel_path):
            return None
        return backend, rel_path, kind

    def _route(self, path):
        if path.startswith("sys/"):
            return self.system, path[len("sys/"):], "system"
        table, rel_path = self.mounts, path
        if path.startswith("auth/"):
            table, rel_path = self.auth_mounts, path[len("auth/"):]
        entry = table.match(rel_path)
        if entry is None:
            raise fw.VaultError(404, ['no handler for route "%s". route '
                                      'entry not found.' % path])
        if entry.backend is None:
            raise fw.unsupported_path()
        return entry.backend, rel_path[len(entry.path):], entry.type

    def _respond(self, req, resp):
        if resp is None:
            if req.op in ("read", "list"):
                return 404, {"errors": []}
            return 204, None
        if req.op == "list" and _empty_listing(resp):
            return 404, {"errors": []}
        return 200, envelope(resp, req.mount_type)


def _empty_listing(resp):
    # Vault answers an empty LIST with 404, as a GET of nothing.
    data = resp.data or {}
    if not data:
        return not resp.warnings
    keys = data.get("keys")
    if keys is None:
        return False
    return len(keys) == 0


def envelope(resp, mount_type):
    """The JSON object Vault wraps every successful answer in."""
    body = {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": _go_map_order(resp.data),
        "wrap_info": None,
        "warnings": resp.warnings or None,
        "auth": resp.auth,
        "mount_type": mount_type,
    }
    if resp.inject and resp.data:
        return dict(resp.data, **body)
    return body


def _go_map_order(value):
    """Keys sorted as Go's encoding/json writes a map; objects inside lists
    (batch results) are Go structs and keep their field order."""
    if not isinstance(value, dict):
        return value
    return {k: _go_map_order(v) for k, v in sorted(value.items())}
