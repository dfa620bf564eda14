"""Service tokens and the auth/token/ endpoints: create, lookup, renew and
revoke, with TTLs, periods, explicit max TTLs, use counts and the auth block
Vault returns. Token values are never logged."""

import secrets
import string
import threading
import time

from . import framework as fw
from .framework import Field, Route, Response
from .timefmt import rfc3339

SYSTEM_MAX_TTL = 32 * 24 * 3600
_ALPHABET = string.ascii_letters + string.digits


def random_id(length):
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


class TokenEntry:
    def __init__(self, token_id, policies, **opts):
        self.id = token_id
        self.accessor = random_id(24)
        self.policies = policies
        self.display_name = opts.get("display_name", "token")
        self.path = opts.get("path", "auth/token/create")
        self.meta = opts.get("meta") or None
        self.created = time.time()
        self.ttl = opts.get("ttl", 0)
        self.expire_at = self.created + self.ttl if self.ttl else None
        self.explicit_max_ttl = opts.get("explicit_max_ttl", 0)
        self.max_ttl = opts.get("max_ttl", 0)
        self.period = opts.get("period", 0)
        self.renewable = opts.get("renewable", False) and self.ttl > 0
        self.num_uses = opts.get("num_uses", 0)
        self.parent = opts.get("parent")
        self.last_renewal = None

    def ttl_left(self, now):
        if self.expire_at is None:
            return 0
        return max(0, int(round(self.expire_at - now)))

    def auth_block(self):
        """The "auth" object of a create, login or renew answer."""
        return {
            "client_token": self.id,
            "accessor": self.accessor,
            "policies": list(self.policies),
            "token_policies": list(self.policies),
            "metadata": self.meta,
            "lease_duration": self.ttl_left(time.time()),
            "renewable": self.renewable,
            "entity_id": "",
            "token_type": "service",
            "orphan": self.parent is None,
            "mfa_requirement": None,
            "num_uses": self.num_uses,
        }

    def lookup_data(self):
        now = time.time()
        data = {
            "accessor": self.accessor,
            "creation_time": int(self.created),
            "creation_ttl": self.ttl,
            "display_name": self.display_name,
            "entity_id": "",
            "expire_time": rfc3339(self.expire_at) if self.expire_at
            else None,
            "explicit_max_ttl": self.explicit_max_ttl,
            "id": self.id,
            "issue_time": rfc3339(self.created),
            "meta": self.meta,
            "num_uses": self.num_uses,
            "orphan": self.parent is None,
            "path": self.path,
            "policies": list(self.policies),
            "renewable": self.renewable,
            "ttl": self.ttl_left(now),
            "type": "service",
        }
        if self.period:
            data["period"] = self.period
        if self.last_renewal:
            data["last_renewal"] = rfc3339(self.last_renewal)
            data["last_renewal_time"] = int(self.last_renewal)
        return data


class TokenStore:
    def __init__(self, root_token):
        self.lock = threading.Lock()
        self.by_id = {}
        root = TokenEntry(root_token, ["root"], display_name="root",
                          path="auth/token/root")
        self.by_id[root_token] = root

    def authenticate(self, token_id):
        """The live entry for a request's token, counting one use."""
        with self.lock:
            entry = self._live(token_id)
            if entry is None:
                raise fw.invalid_token()
            if entry.num_uses > 0:
                entry.num_uses -= 1
                if entry.num_uses == 0:
                    # The last use is allowed; the token is gone after it.
                    self._revoke_locked(entry)
            return entry

    def lookup(self, token_id):
        with self.lock:
            return self._live(token_id)

    def _live(self, token_id):
        entry = self.by_id.get(token_id) if token_id else None
        if entry and entry.expire_at and entry.expire_at <= time.time():
            self._revoke_locked(entry)
            return None
        return entry

    def add(self, entry):
        with self.lock:
            if entry.id in self.by_id:
                raise fw.user_error(
                    "cannot create a token with a duplicate ID")
            self.by_id[entry.id] = entry

    def revoke(self, entry):
        with self.lock:
            self._revoke_locked(entry)

    def _revoke_locked(self, entry):
        # Revoking a token revokes its children, as in Vault.
        self.by_id.pop(entry.id, None)
        for child in [e for e in self.by_id.values()
                      if e.parent == entry.id]:
            self._revoke_locked(child)


def token_ttl(policies, ttl, period, explicit_max, max_ttl=0):
    """The TTL a new token gets; 0 means it never expires (root only)."""
    warnings = []
    if period:
        ttl = period
    elif ttl == 0 and policies != ["root"]:
        ttl = max_ttl or SYSTEM_MAX_TTL
    if explicit_max and (ttl == 0 or ttl > explicit_max):
        ttl = explicit_max
    limit = min(max_ttl or SYSTEM_MAX_TTL, SYSTEM_MAX_TTL)
    if not period and ttl > limit:
        warnings.append("TTL of %ds exceeded the effective max_ttl of %ds; "
                        "TTL value is capped accordingly" % (ttl, limit))
        ttl = limit
    return ttl, warnings


def renewal_limit(entry):
    """The latest expiry renewals may reach, from the creation time."""
    if entry.period:
        if entry.explicit_max_ttl:
            return entry.created + entry.explicit_max_ttl
        return float("inf")
    limits = [SYSTEM_MAX_TTL] + [t for t in (entry.explicit_max_ttl,
                                             entry.max_ttl) if t]
    return entry.created + min(limits)


def sanitize_policies(names):
    names = sorted({n.strip().lower() for n in names if n.strip()})
    return ["root"] if "root" in names else names


_CREATE_FIELDS = {
    "id": Field("str"), "role_name": Field("str"),
    "policies": Field("comma_slice"), "meta": Field("kv"),
    "no_parent": Field("bool"), "no_default_policy": Field("bool"),
    "renewable": Field("bool", default=True), "ttl": Field("duration"),
    "type": Field("str"), "explicit_max_ttl": Field("duration"),
    "display_name": Field("str"), "num_uses": Field("int"),
    "period": Field("duration"), "entity_alias": Field("str"),
    "lease": Field("str"),
}


class TokenBackend:
    """The routes under auth/token/."""

    def __init__(self, core):
        self.core = core
        self.store = core.tokens
        token_field = {"token": Field("str")}
        increment = {"token": Field("str"), "increment": Field("duration")}
        self.routes = [
            Route(r"create", {"update": self.create}, _CREATE_FIELDS),
            Route(r"create-orphan", {"update": self.create_orphan},
                  _CREATE_FIELDS),
            Route(r"lookup-self", {"read": self.lookup_self,
                                   "update": self.lookup_self}, token_field),
            Route(r"lookup", {"update": self.lookup}, token_field),
            Route(r"renew-self", {"update": self.renew_self}, increment),
            Route(r"renew", {"update": self.renew}, increment),
            Route(r"revoke-self", {"update": self.revoke_self}),
            Route(r"revoke", {"update": self.revoke}, token_field),
        ]

    def handle(self, req, rel_path):
        return fw.dispatch(self.routes, req, rel_path)

    def create(self, req, data):
        return self._create(req, data, orphan_endpoint=False)

    def create_orphan(self, req, data):
        return self._create(req, data, orphan_endpoint=True)

    def _create(self, req, data, orphan_endpoint):
        parent = req.entry
        privileged = "root" in parent.policies or "sudo" in (
            req.acl.capabilities(req.path))
        policies = self._child_policies(parent, data, privileged)
        orphan = orphan_endpoint or data.get("no_parent")
        if data.get("no_parent") and not orphan_endpoint and not privileged:
            raise fw.user_error(
                "root or sudo privileges required to create orphan token")
        if data.get("type") not in ("", "service", "default"):
            raise fw.user_error("vaultsim only issues service tokens")
        if data.get("num_uses") < 0:
            raise fw.user_error("number of uses cannot be negative")
        entry, warnings = self._new_entry(req, data, policies, parent,
                                          orphan, privileged)
        self.store.add(entry)
        return Response(auth=entry.auth_block(), warnings=warnings)

    def _child_policies(self, parent, data, privileged):
        requested = data.get("policies") or [
            p for p in parent.policies if p != "default"]
        if not privileged:
            wanted = set(sanitize_policies(requested)) - {"default"}
            if not wanted <= set(parent.policies):
                raise fw.user_error("child policies must be subset of parent")
        if not data.get("no_default_policy"):
            requested = list(requested) + ["default"]
        return sanitize_policies(requested)

    def _new_entry(self, req, data, policies, parent, orphan, privileged):
        token_id = data.get("id")
        if token_id and not privileged:
            raise fw.user_error("root or sudo privileges required to "
                                "specify token id")
        ttl, warnings = token_ttl(policies, data.get("ttl"),
                                   data.get("period"),
                                   data.get("explicit_max_ttl"))
        display = data.get("display_name")
        entry = TokenEntry(
            token_id or "hvs." + random_id(91), policies,
            display_name="token-" + display if display else "token",
            path=req.path, meta=data.get("meta"), ttl=ttl,
            explicit_max_ttl=data.get("explicit_max_ttl"),
            period=data.get("period"), renewable=data.get("renewable"),
            num_uses=data.get("num_uses"),
            parent=None if orphan else parent.id)
        return entry, warnings

    def lookup_self(self, req, data):
        return Response(data=req.entry.lookup_data())

    def lookup(self, req, data):
        entry = self.store.lookup(data.get("token"))
        if entry is None:
            raise fw.VaultError(403, ["bad token"], wrapped=True)
        return Response(data=entry.lookup_data())

    def renew_self(self, req, data):
        return self._renew(req.entry, data.get("increment"))

    def renew(self, req, data):
        entry = self.store.lookup(data.get("token"))
        if entry is None:
            raise fw.user_error("invalid token")
        return self._renew(entry, data.get("increment"))

    def _renew(self, entry, increment):
        if not entry.renewable:
            raise fw.user_error("lease is not renewable")
        now = time.time()
        ttl = entry.period or increment or entry.ttl
        limit = renewal_limit(entry)
        warnings = []
        if now + ttl > limit:
            warnings.append("TTL of %ds exceeded the effective max_ttl; "
                            "TTL value is capped accordingly" % ttl)
            ttl = max(0, int(limit - now))
        entry.expire_at = now + ttl
        entry.last_renewal = now
        return Response(auth=entry.auth_block(), warnings=warnings)

    def revoke_self(self, req, data):
        self.store.revoke(req.entry)
        return None

    def revoke(self, req, data):
        entry = self.store.lookup(data.get("token"))
        if entry is not None:
            self.store.revoke(entry)
        return None
