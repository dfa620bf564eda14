"""Request plumbing shared by the simulated backends: the errors that Vault
turns into HTTP answers, typed request fields, and path routing with Vault's
warnings about ignored or replaced parameters."""

import re

from . import fields

# Vault's generic name pattern: word characters, with '-' and '.' inside.
NAME = r"\w(?:[\w.-]*\w)?"


class VaultError(Exception):
    """An error answer: an HTTP status and the messages of the errors list.

    Vault reports internal errors through go-multierror, so those arrive
    wrapped as "1 error occurred:\\n\\t* MSG\\n\\n"; user errors are plain.
    """

    def __init__(self, status, messages=(), wrapped=False):
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = list(messages)
        self.wrapped = wrapped

    def errors(self):
        if self.wrapped and self.messages:
            return [multierror(self.messages)]
        return list(self.messages)


def multierror(messages):
    """The text go-multierror gives a list of errors."""
    if len(messages) == 1:
        head = "1 error occurred:"
    else:
        head = "%d errors occurred:" % len(messages)
    return "%s\n\t%s\n\n" % (head, "\n\t".join("* " + m for m in messages))


def user_error(message):
    return VaultError(400, [message])


def internal_error(message):
    return VaultError(500, [message], wrapped=True)


def permission_denied():
    return VaultError(403, ["permission denied"], wrapped=True)


def invalid_token():
    # Vault 1.17+ adds "invalid token" so clients can tell "log in again"
    # apart from a policy that denies the path.
    return VaultError(403, ["permission denied", "invalid token"],
                      wrapped=True)


def unsupported_path():
    return VaultError(404, ["unsupported path"], wrapped=True)


def unsupported_operation():
    return VaultError(405, ["unsupported operation"], wrapped=True)


class Request:
    """One /v1/ request as the core sees it.

    op is Vault's operation: read, list, update, delete or patch; path is
    the part after /v1/, with a trailing slash for list operations.
    """

    def __init__(self, op, path, data, token):
        self.op = op
        self.path = path
        self.data = data
        self.token = token
        self.entry = None
        self.acl = None
        self.mount_type = ""


class Response:
    """What a handler returns; None from a handler means "nothing" (204/404).

    inject copies data to the top level too, as Vault does for a few legacy
    sys/ endpoints (sys/mounts, sys/policy).
    """

    def __init__(self, data=None, auth=None, warnings=None, inject=False):
        self.data = data
        self.auth = auth
        self.warnings = list(warnings or [])
        self.inject = inject


class Field:
    def __init__(self, kind, default=None):
        self.kind = kind
        self.default = fields.DEFAULTS[kind] if default is None else default


class FieldData:
    """Request fields for one route: body values, overridden by values
    captured from the path, converted lazily with Vault's weak typing."""

    def __init__(self, schema, body, captures):
        self.schema = schema
        self.raw = dict(body)
        self.ignored = sorted(k for k in body if k not in schema)
        self.replaced = sorted(
            k for k in captures if body.get(k) is not None)
        self.raw.update(captures)

    def validate(self):
        for name in self.raw:
            if name in self.schema:
                self.get_ok(name)

    def get_ok(self, name):
        value = self.raw.get(name)
        if value is None:
            return None, False
        kind = self.schema[name].kind
        try:
            return fields.CONVERTERS[kind](value), True
        except fields.FieldError as err:
            raise user_error(
                'Field validation failed: error converting input %s for '
                'field "%s": %s' % (_go_value(value), name, err))

    def get(self, name):
        value, ok = self.get_ok(name)
        return value if ok else self.schema[name].default

    def present(self, name):
        return self.raw.get(name) is not None

    def warnings(self):
        found = []
        if self.ignored:
            found.append("Endpoint ignored these unrecognized parameters: "
                         "[%s]" % " ".join(self.ignored))
        if self.replaced:
            found.append(
                "Endpoint replaced the value of these parameters with the "
                "values captured from the endpoint's path: [%s]"
                % " ".join(self.replaced))
        return found


def _go_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Route:
    """A path pattern (relative to the mount), its fields, and a handler
    per operation. Handlers are called as handler(request, field_data)."""

    def __init__(self, pattern, handlers, schema=None):
        self.regex = re.compile(pattern, re.ASCII)
        self.handlers = handlers
        self.schema = schema or {}


def dispatch(routes, req, rel_path):
    """Run the handler of the route matching rel_path, like Vault's
    framework: unknown path 404, unknown operation 405, bad field 400."""
    for route in routes:
        match = route.regex.fullmatch(rel_path)
        if match:
            break
    else:
        raise unsupported_path()
    handler = route.handlers.get(req.op)
    if handler is None:
        raise unsupported_operation()
    captures = {k: v for k, v in match.groupdict().items() if v is not None}
    data = FieldData(route.schema, req.data, captures)
    data.validate()
    resp = handler(req, data)
    if resp is not None:
        resp.warnings.extend(data.warnings())
    return resp
