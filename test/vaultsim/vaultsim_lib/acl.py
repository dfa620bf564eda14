"""ACL policies as Vault evaluates them: parsing the HCL or JSON text into
path rules, choosing the most specific rule for a request path (exact, then
'+' segment and '*' prefix globs by Vault's priority order), and the store
behind sys/policies/acl."""

import json
import threading

from . import hcl

CAPABILITIES = ("create", "read", "update", "patch", "delete", "list",
                "sudo", "deny", "subscribe", "recover")
# The old single-word "policy" attribute and the capabilities it means.
LEGACY_POLICY = {
    "deny": {"deny"},
    "read": {"read", "list"},
    "write": {"create", "read", "update", "patch", "delete", "list"},
    "sudo": {"create", "read", "update", "patch", "delete", "list", "sudo"},
}
PATH_KEYS = ("capabilities", "policy", "allowed_parameters",
             "denied_parameters", "required_parameters", "min_wrapping_ttl",
             "max_wrapping_ttl", "mfa_methods", "control_group",
             "subscribe_event_types")

DEFAULT_POLICY = """\
# Every token may look itself up, renew and revoke itself.
path "auth/token/lookup-self" {
    capabilities = ["read"]
}
path "auth/token/renew-self" {
    capabilities = ["update"]
}
path "auth/token/revoke-self" {
    capabilities = ["update"]
}
path "sys/capabilities-self" {
    capabilities = ["update"]
}
path "sys/leases/renew" {
    capabilities = ["update"]
}
path "sys/leases/lookup" {
    capabilities = ["update"]
}
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
path "sys/tools/hash" {
    capabilities = ["update"]
}
path "sys/tools/hash/*" {
    capabilities = ["update"]
}
"""


class PolicyError(ValueError):
    pass


def parse_policy(text):
    """Path pattern -> set of capabilities, from HCL or JSON policy text."""
    try:
        items = _parse_items(text)
    except hcl.HCLError as err:
        raise PolicyError(str(err))
    rules = {}
    for key, value in items:
        if key == "name":
            continue
        if key != "path" or not _is_object(value):
            raise PolicyError('invalid key "%s"' % key)
        for pattern, body in value:
            _merge(rules, pattern.lstrip("/"), _path_capabilities(
                pattern, body))
    return rules


def _parse_items(text):
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            return hcl.from_json(json.loads(stripped))
        except ValueError:
            pass
    return hcl.parse(text)


def _is_object(value):
    return isinstance(value, list) and all(
        isinstance(item, tuple) for item in value)


def _path_capabilities(pattern, body):
    if not _is_object(body):
        raise PolicyError('path "%s": expected a block' % pattern)
    caps = set()
    for key, value in body:
        if key not in PATH_KEYS:
            raise PolicyError('path "%s": invalid key "%s"' % (pattern, key))
        if key == "policy":
            if value not in LEGACY_POLICY:
                raise PolicyError('path "%s": invalid policy "%s"'
                                  % (pattern, value))
            caps |= LEGACY_POLICY[value]
        elif key == "capabilities":
            caps |= _capability_list(pattern, value)
    return {"deny"} if "deny" in caps else caps


def _capability_list(pattern, value):
    if not isinstance(value, list):
        raise PolicyError('path "%s": capabilities must be a list' % pattern)
    for cap in value:
        if cap not in CAPABILITIES:
            raise PolicyError('path "%s": invalid capability "%s"'
                              % (pattern, cap))
    return set(value)


def _merge(rules, pattern, caps):
    # The same path in several policies: union, but deny overrides all.
    merged = rules.get(pattern, set()) | caps
    rules[pattern] = {"deny"} if "deny" in merged else merged


class ACL:
    """The merged rules of a token's policies."""

    def __init__(self, rule_sets, root=False):
        self.root = root
        self.exact = {}
        self.globbed = {}
        for rules in rule_sets:
            for pattern, caps in rules.items():
                target = self.globbed if _is_glob(pattern) else self.exact
                _merge(target, pattern, caps)

    def capabilities(self, path, listing=False):
        if self.root:
            return set(CAPABILITIES) - {"deny"}
        if path in self.exact:
            return self.exact[path]
        if listing and path.endswith("/") and path[:-1] in self.exact:
            return self.exact[path[:-1]]
        best = None
        for pattern in self.globbed:
            if _glob_matches(pattern, path):
                if best is None or _priority(pattern) > _priority(best):
                    best = pattern
        return self.globbed[best] if best is not None else set()

    def allows(self, path, op):
        caps = self.capabilities(path, listing=(op == "list"))
        return op in caps and "deny" not in caps


def _is_glob(pattern):
    return pattern.endswith("*") or "+" in pattern.split("/")


def _glob_matches(pattern, path):
    prefix = pattern.endswith("*")
    body = pattern[:-1] if prefix else pattern
    if "+" not in body.split("/"):
        return path.startswith(body) if prefix else path == body
    want = body.split("/")
    have = path.split("/")
    if len(have) < len(want) or (not prefix and len(have) != len(want)):
        return False
    for i, part in enumerate(want):
        last = i == len(want) - 1
        if part == "+" or part == have[i]:
            continue
        if prefix and last and have[i].startswith(part):
            continue
        return False
    return True


def _priority(pattern):
    """Sort key, higher wins, in the order Vault's docs give: a later first
    wildcard, no trailing '*', fewer '+' segments, longer, then larger."""
    marks = [i for i, c in enumerate(pattern) if c in "+*"]
    first = marks[0] if marks else len(pattern)
    return (first, not pattern.endswith("*"),
            -pattern.split("/").count("+"), len(pattern), pattern)


class PolicyStore:
    """Named ACL policies; "root" is implicit and "default" always exists."""

    def __init__(self):
        self.lock = threading.Lock()
        self.policies = {}
        self.acl_cache = {}
        self.put("default", DEFAULT_POLICY)

    def put(self, name, text):
        rules = parse_policy(text)
        with self.lock:
            self.policies[name] = (text, rules)
            self.acl_cache.clear()

    def get(self, name):
        with self.lock:
            found = self.policies.get(name)
        return found[0] if found else None

    def delete(self, name):
        with self.lock:
            self.policies.pop(name, None)
            self.acl_cache.clear()

    def names(self):
        with self.lock:
            return sorted(self.policies)

    def acl(self, names):
        key = tuple(sorted(set(names)))
        with self.lock:
            cached = self.acl_cache.get(key)
            if cached is None:
                cached = ACL([self.policies[n][1] for n in key
                              if n in self.policies], root="root" in key)
                self.acl_cache[key] = cached
        return cached
